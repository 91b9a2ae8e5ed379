//! What a court file's PDF says, as a sequence of blocks (titles, headings, paragraphs and
//! labelled rows), before it is set in pages.

use serde_json::Value;

use super::super::court_file::CourtFile;
use super::super::event::{sha256_hex, SignedEvent};
use super::super::kinds::{self, RequestKind};
use super::{PdfError, EMBEDDED_NAME};

/// A piece of the printed file.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Block {
    /// The document's title.
    Title(String),
    /// A section's heading.
    Heading(String),
    /// A sub-section's heading.
    Subheading(String),
    /// Running text.
    Paragraph(String),
    /// A label and its value; `mono` for hashes, keys and proofs.
    Row {
        /// What the value is.
        label: String,
        /// The value.
        value: String,
        /// Whether the value is set in the monospace font.
        mono: bool,
    },
}

impl Block {
    /// All the text of the block.
    pub(super) fn text(&self) -> String {
        match self {
            Block::Title(t) | Block::Heading(t) | Block::Subheading(t) | Block::Paragraph(t) => {
                t.clone()
            }
            Block::Row { label, value, .. } => format!("{label}\n{value}"),
        }
    }
}

fn row(label: impl Into<String>, value: impl Into<String>) -> Block {
    Block::Row {
        label: label.into(),
        value: value.into(),
        mono: false,
    }
}

fn mono(label: impl Into<String>, value: impl Into<String>) -> Block {
    Block::Row {
        label: label.into(),
        value: value.into(),
        mono: true,
    }
}

/// The two parties' time zones, as the request's document names them: the requesting
/// authority's (`authority.time_zone`) and, when the document gives it, the requested
/// authority's (`requested_authority.time_zone`).
struct Zones {
    requesting: Option<String>,
    requested: Option<String>,
}

impl Zones {
    fn of(document: &Value) -> Zones {
        let zone = |p: &str| {
            document
                .pointer(p)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Zones {
            requesting: zone("/authority/time_zone"),
            requested: zone("/requested_authority/time_zone"),
        }
    }

    /// `at` (RFC 3339) in UTC and in each party's time zone that is known.
    fn when(&self, at: &str) -> String {
        let Ok(t) = at.parse::<jiff::Timestamp>() else {
            return at.to_owned();
        };
        let mut out = t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string();
        for (zone, party) in [
            (&self.requesting, "requesting authority"),
            (&self.requested, "requested authority"),
        ] {
            let Some(zone) = zone else { continue };
            match t.in_tz(zone) {
                Ok(z) => out.push_str(&format!(
                    "\n{} ({zone}, {party})",
                    z.strftime("%Y-%m-%d %H:%M:%S %Z, UTC%:z")
                )),
                Err(_) => out.push_str(&format!("\n(the {party}'s time zone {zone:?} is unknown)")),
            }
        }
        if self.requested.is_none() {
            out.push_str("\n(the requested authority's time zone is not given)");
        }
        out
    }
}

/// The id of the request `file` is about.
pub(super) fn request_id(file: &CourtFile) -> &str {
    file.request
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("?")
}

/// The blocks of `file`'s PDF; `json` is the file's JSON text.
pub(super) fn blocks(file: &CourtFile, json: &[u8]) -> Result<Vec<Block>, PdfError> {
    let request = &file.request;
    let id = request_id(file);
    let kind: Option<RequestKind> = request
        .get("kind")
        .and_then(Value::as_str)
        .and_then(|k| k.parse().ok());
    let document = request.get("document").cloned().unwrap_or(Value::Null);
    let zones = Zones::of(&document);
    let events = file
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            SignedEvent::parse(&e.event).map_err(|e| PdfError::Event {
                n: i + 1,
                reason: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut out = vec![
        Block::Title("Court file of a cooperation request".into()),
        Block::Paragraph(id.to_owned()),
        Block::Paragraph(format!(
            "Printed from the court file made by the node of member {made_by}. That file, in \
             its machine-verifiable JSON form, is embedded in this PDF as {EMBEDDED_NAME}; its \
             SHA-256 is printed below and in every page's footer. `comity request verify \
             {EMBEDDED_NAME} --key KEYFILE` checks offline, with the log key of that node, \
             every signature and that the node's transparency log committed to every event.",
            made_by = file.made_by
        )),
        Block::Heading("The file".into()),
        row("Format", file.format.clone()),
        row("Made by", file.made_by.clone()),
        row("Log", file.log_origin.clone()),
        mono("SHA-256 of the JSON court file", sha256_hex(json)),
    ];
    for (member, key) in &file.members {
        out.push(mono(format!("Public key of {member}"), key.clone()));
    }

    out.push(Block::Heading("The request".into()));
    out.extend(request_rows(request, kind, &zones));

    out.push(Block::Heading("Fields of the request".into()));
    let mut fields = Vec::new();
    flatten(&document, "", &mut fields);
    for (path, value) in fields {
        out.push(row(field_label(&path, kind), value));
    }

    out.push(Block::Heading("History".into()));
    out.push(Block::Paragraph(
        "Each event as both members signed it; the signed time is the one deadlines count \
         from."
            .into(),
    ));
    if events.is_empty() {
        out.push(Block::Paragraph(
            "No event has been signed yet: a draft is signed and sent when it is submitted.".into(),
        ));
    }
    for signed in &events {
        out.extend(event_blocks(signed, file, &zones));
    }

    out.push(Block::Heading("Attachments".into()));
    let attachments: Vec<Block> = events
        .iter()
        .flat_map(|s| {
            s.event.details.attachments.iter().map(|a| {
                mono(
                    a.name.clone(),
                    format!(
                        "SHA-256 {}\n{} bytes, listed in event {}",
                        a.sha256, a.size, s.event.n
                    ),
                )
            })
        })
        .collect();
    if attachments.is_empty() {
        out.push(Block::Paragraph("No event lists an attachment.".into()));
    }
    out.extend(attachments);

    out.push(Block::Heading("Log inclusion proofs".into()));
    out.push(Block::Paragraph(format!(
        "For each event, the entries of the log {} that commit to it: the entry (its leaf), \
         what opens it, and a c2sp.org/tlog-proof@v1 proof of its inclusion (the entry's \
         index, the hashes of the path to the root, and the checkpoint signed by the log).",
        file.log_origin
    )));
    for (signed, filed) in events.iter().zip(&file.events) {
        if filed.commitments.is_empty() {
            out.push(Block::Subheading(format!("Event {}", signed.event.n)));
            out.push(Block::Paragraph("No log entry in the file.".into()));
        }
        for c in &filed.commitments {
            out.push(Block::Subheading(format!(
                "Event {}: log entry {}",
                signed.event.n, c.index
            )));
            out.push(row("Entry index", c.index.to_string()));
            out.push(mono("Entry", c.entry.trim_end()));
            out.push(mono("Opening", c.opening.trim_end()));
            out.push(mono("Inclusion proof", c.proof.trim_end()));
        }
    }
    Ok(out)
}

/// The rows of the request's own members (all but its document).
fn request_rows(request: &Value, kind: Option<RequestKind>, zones: &Zones) -> Vec<Block> {
    let Some(members) = request.as_object() else {
        return vec![row("Request", request.to_string())];
    };
    // The request's own members first, in a reading order; any other after them.
    const ORDER: [&str; 11] = [
        "id",
        "kind",
        "state",
        "requester",
        "requested",
        "side",
        "emergency",
        "created",
        "updated",
        "due",
        "overdue",
    ];
    let mut keys: Vec<&String> = members.keys().collect();
    keys.sort_by_key(|k| ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()));
    let mut out = Vec::new();
    for key in keys {
        let value = &members[key];
        let text = scalar(value);
        let block = match key.as_str() {
            "document" | "allowed" | "history" => continue,
            "id" => row("Request id", text),
            "kind" => row(
                "Kind",
                kind.map_or(text.clone(), |k| format!("{k}: {}", kind_title(k))),
            ),
            "requester" => row("Requesting member", text),
            "requested" => row("Requested member", text),
            "side" => row("Side of the node that made the file", text),
            "state" => row("State", text),
            "emergency" => row("Emergency", yes_no(value)),
            "overdue" => row("Overdue", yes_no(value)),
            "created" => row("Created", zones.when(&text)),
            "updated" => row("Last event", zones.when(&text)),
            "due" if value.is_null() => row("Answer due", "no deadline runs"),
            "due" => row("Answer due", zones.when(&text)),
            other => row(humanize(other), text),
        };
        out.push(block);
    }
    out
}

/// What a kind of request is, and the article it comes from.
fn kind_title(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Assistance => {
            "police or CERT assistance on the 24/7 network (Budapest Convention art. 35)"
        }
        RequestKind::Preservation => {
            "expedited preservation of stored data (Budapest Convention art. 29)"
        }
        RequestKind::Disclosure => {
            "expedited disclosure of preserved traffic data (Budapest Convention art. 30)"
        }
        RequestKind::Production => "production of data (Regulation (EU) 2023/1543 art. 10)",
        RequestKind::Mla => "mutual legal assistance (UN Model Treaty on Mutual Assistance art. 5)",
    }
}

/// The blocks of one event.
fn event_blocks(signed: &SignedEvent, file: &CourtFile, zones: &Zones) -> Vec<Block> {
    let ev = &signed.event;
    let d = &ev.details;
    let mut out = vec![
        Block::Subheading(format!("Event {}: {} → {}", ev.n, ev.act, ev.state)),
        row("Number", ev.n.to_string()),
        row("Act", ev.act.as_str()),
        row("State reached", ev.state.as_str()),
        row("Member", ev.by.clone()),
        row("Officer", ev.officer.clone()),
        row("Signed time", zones.when(&ev.at)),
    ];
    if let Some(note) = &d.note {
        out.push(row("Note", note.clone()));
    }
    if let Some(reason) = d.reason {
        out.push(row(
            "Reason of refusal",
            scalar(&serde_json::to_value(reason).unwrap_or(Value::Null)),
        ));
    }
    if let Some(conditions) = &d.conditions {
        out.push(row("Conditions", conditions.clone()));
    }
    if let Some(until) = &d.until {
        out.push(row("Preserved until", zones.when(until)));
    }
    if let Some(due) = &d.due {
        out.push(row("Answer due", zones.when(due)));
    }
    if let Some(link) = &d.link {
        out.push(row("Followed by request", link.clone()));
    }
    for object in &d.objects {
        let text = |name: &str| object.get(name).and_then(Value::as_str).unwrap_or_default();
        let named = match text("name") {
            "" => text("id").to_owned(),
            name => format!("{} ({name})", text("id")),
        };
        out.push(row("Related object released", named));
    }
    if !d.attachments.is_empty() {
        out.push(row(
            "Attachments",
            format!("{} (see Attachments)", d.attachments.len()),
        ));
    }
    if ev.document.is_some() {
        out.push(row(
            "Document",
            "the request's fields, as printed under Fields of the request",
        ));
    }
    out.push(mono("SHA-256 of the signed text", signed.sha256.clone()));
    out.push(mono(
        "SHA-256 of the event before",
        ev.prev
            .clone()
            .unwrap_or_else(|| "none: the first event".into()),
    ));
    out.push(mono(
        "Signer's key",
        file.members
            .get(&ev.by)
            .cloned()
            .unwrap_or_else(|| "not in the file".into()),
    ));
    out.push(mono("Signature (Ed25519)", signed.signature.clone()));
    out
}

/// The label of the document field at `path`, with the article that requires it, if one
/// does.
fn field_label(path: &str, kind: Option<RequestKind>) -> String {
    let label = path
        .split('.')
        .map(humanize)
        .collect::<Vec<_>>()
        .join(" › ");
    let required = kinds::COMMON
        .iter()
        .chain(kind.map_or(&[][..], kinds::required))
        .find(|f| f.path == path);
    match required {
        Some(f) => format!("{label}\n({})", f.source),
        None => label,
    }
}

/// The leaves of `value`, each with its dotted path (list items numbered from 1; lists
/// of scalars joined).
fn flatten(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    let child = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(members) => {
            for (key, v) in members {
                flatten(v, &child(key), out);
            }
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            out.push((
                path.to_owned(),
                items.iter().map(scalar).collect::<Vec<_>>().join(", "),
            ));
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(v, &child(&(i + 1).to_string()), out);
            }
        }
        other => out.push((path.to_owned(), scalar(other))),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => yes_no(&Value::Bool(*b)),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

fn yes_no(value: &Value) -> String {
    match value {
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        other => other.to_string(),
    }
}

/// `time_zone` as "Time zone".
fn humanize(key: &str) -> String {
    let spaced = key.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// The footer of page `page` of `pages`.
pub(super) fn footer(file: &CourtFile, json: &[u8], page: usize, pages: usize) -> [String; 2] {
    let id = file
        .request
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("?");
    [
        format!(
            "Court file of {id} · made by {} · page {page} of {pages}",
            file.made_by
        ),
        format!("{EMBEDDED_NAME} SHA-256 {}", sha256_hex(json)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_flattened_with_labels_and_their_articles() {
        let doc = json!({
            "authority": {"name": "الهيئة", "time_zone": "Asia/Riyadh"},
            "details": {"categories": ["subscriber", "traffic"], "persons": [{"name": "X"}]},
            "mla_to_follow": true,
        });
        let mut fields = Vec::new();
        flatten(&doc, "", &mut fields);
        assert_eq!(
            fields,
            vec![
                ("authority.name".into(), "الهيئة".into()),
                ("authority.time_zone".into(), "Asia/Riyadh".into()),
                ("details.categories".into(), "subscriber, traffic".into()),
                ("details.persons.1.name".into(), "X".into()),
                ("mla_to_follow".into(), "yes".into()),
            ]
        );
        assert_eq!(
            field_label("authority.time_zone", Some(RequestKind::Mla)),
            "Authority › Time zone\n(Budapest Convention art. 31, request template T-CY(2018)10)"
        );
        assert_eq!(
            field_label("details.categories", Some(RequestKind::Production)),
            "Details › Categories\n(Regulation (EU) 2023/1543 art. 3(9)-(12))"
        );
        assert_eq!(
            field_label("details.categories", Some(RequestKind::Mla)),
            "Details › Categories"
        );
    }

    #[test]
    fn times_are_shown_in_utc_and_both_parties_zones() {
        let zones = Zones::of(&json!({
            "authority": {"time_zone": "Europe/Paris"},
            "requested_authority": {"time_zone": "Asia/Shanghai"},
        }));
        assert_eq!(
            zones.when("2026-12-06T10:00:00.000000Z"),
            "2026-12-06 10:00:00 UTC\n\
             2026-12-06 11:00:00 CET, UTC+01:00 (Europe/Paris, requesting authority)\n\
             2026-12-06 18:00:00 CST, UTC+08:00 (Asia/Shanghai, requested authority)"
        );
        let one = Zones::of(&json!({"authority": {"time_zone": "Mars/Olympus"}}));
        assert_eq!(
            one.when("2026-12-06T10:00:00Z"),
            "2026-12-06 10:00:00 UTC\n\
             (the requesting authority's time zone \"Mars/Olympus\" is unknown)\n\
             (the requested authority's time zone is not given)"
        );
        assert_eq!(one.when("not a time"), "not a time");
    }
}
