//! Cooperation requests between members: police assistance, expedited preservation and
//! disclosure, production and mutual legal assistance. Written once here; the node API,
//! the CLI and the federation inbox call these entry points.
//!
//! A request is a document (its fields, checked against the instruments by
//! [`kinds::missing`]) and a history of signed events ([`event`]), the same on both nodes.
//! Every act of either party is one event: checked by the state machine ([`machine`]),
//! signed by the acting member's node, appended to the local history with its log entry and
//! the envelope for the other party in one transaction, then taken in by the other node the
//! same way, through the federation inbox. The requested node records the delivery itself
//! (its signed `deliver` event), and the first time one of its liaison officers opens the
//! request it records the retrieval: both go back to the requester as receipts.
//!
//! Deadlines count from the signed time of the requested side's acknowledgement, never from
//! arrival: its node sets the due time from its response times ([`ResponseTimes`]) and signs
//! it with the acknowledgement, so both members hold the same one; *overdue* is computed on
//! reading.
//!
//! When both parties act at the same moment, both events claim the same place in the
//! history. The requested side's stands on both nodes: its node refuses the requester's,
//! and the requester's node takes the requested side's in place of its own, then makes its
//! own act again after it if that is still allowed (signed anew).
//!
//! Notices for the 24/7 channel ([`notify`]) say what the other party did and which answers
//! are due soon or overdue, never what a request says.
//!
//! Attachments ([`attachments`]): their bytes are uploaded to this node first (kept
//! content-addressed and encrypted at rest); an act lists them by name, SHA-256 and size in
//! its signed details, and is refused when this node does not hold the bytes; once made,
//! the bytes go to the other party through the federation outbox in `attachment`
//! envelopes of at most [`attachments::SEGMENT`] bytes each, after the event that lists
//! them. The event's transaction also records each attachment as a pending transfer, ended
//! once its chunks are queued; the sender queues again at start whatever a crash left
//! pending ([`resume_transfers`]). The other node takes a chunk only from the other party
//! of the request, only for an attachment that party listed in a signed event, in order,
//! and seals the bytes only when their SHA-256 is the one listed.

pub mod attachments;
pub mod court_file;
pub mod court_pdf;
pub mod event;
pub mod kinds;
pub mod machine;
pub mod notify;
pub mod related;
pub mod statistics;

use comity_stix::clock::{format_us, now_us, parse_us};
use comity_store::{
    OutboxKind, RequestAppend, RequestEvent, RequestFilter, RequestRecord, Store, StoreError,
};
use comity_tlog::entry::{LogEntry, REQUEST_EVENT};
use serde::Serialize;
use serde_json::Value;

use crate::federation::envelope::MAX_SKEW;
use crate::federation::seal::Sealer;
use crate::identity::PublicKey;
use crate::log::{LogError, NodeLog};
use crate::node::Node;
use crate::registry::{Directory, RegistryError};

pub use event::{Attachment, Details, Event, EventError, SignedEvent};
pub use kinds::{Field, RefusalReason, RequestKind, ResponseTimes};
pub use machine::{Act, MachineError, Side, State};

/// Most acts retried when another act on the same request got there first.
const RETRIES: usize = 3;
/// The largest request document, in bytes of JSON.
pub const MAX_DOCUMENT_BYTES: usize = 128 * 1024;
/// Members of a document the node writes itself.
const NODE_FIELDS: [&str; 4] = ["kind", "from", "to", "emergency"];

/// Why a request act failed.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The input is not acceptable; the text says why.
    #[error("{0}")]
    Invalid(String),
    /// Required fields are missing, each named with the article that requires it.
    #[error("the request lacks required fields: {}", field_list(.0))]
    Missing(Vec<Field>),
    /// The state machine does not allow the act.
    #[error(transparent)]
    Machine(#[from] MachineError),
    /// No such request on this node.
    #[error("request {0} not found")]
    NotFound(String),
    /// Other acts kept getting there first.
    #[error("request {0} changed while this act was made; read it again and retry")]
    Busy(String),
    /// An event that cannot be read or whose signature fails.
    #[error(transparent)]
    Event(#[from] EventError),
    /// This node has no member record.
    #[error("this node has no member record; run `comity init`")]
    NoIdentity,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The court file could not be printed.
    #[error(transparent)]
    Pdf(#[from] court_pdf::PdfError),
    /// The registry could not be read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// An attachment's bytes could not be stored or read.
    #[error(transparent)]
    Attachment(#[from] attachments::AttachmentError),
}

fn field_list(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| format!("{} ({})", f.path, f.source))
        .collect::<Vec<_>>()
        .join("; ")
}

fn invalid(why: impl Into<String>) -> RequestError {
    RequestError::Invalid(why.into())
}

/// A new request, before it is saved as a draft.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// Its kind.
    pub kind: RequestKind,
    /// The requested member's id.
    pub to: String,
    /// Whether it is an emergency (an imminent risk to life or safety, justified in the
    /// document's `emergency_justification`).
    pub emergency: bool,
    /// Its fields (a JSON object; `kind`, `from`, `to` and `emergency` are the node's).
    pub document: Value,
}

/// A request as this node shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: RequestKind,
    /// The requesting member.
    pub requester: String,
    /// The requested member.
    pub requested: String,
    /// This node's side.
    pub side: Side,
    /// Where it stands.
    pub state: State,
    /// Whether it is an emergency.
    pub emergency: bool,
    /// When it was made.
    pub created: String,
    /// When its last event happened.
    pub updated: String,
    /// When the requested side's answer is due, if a clock runs.
    pub due: Option<String>,
    /// Whether that time has passed.
    pub overdue: bool,
    /// The acts this node's side may make now.
    pub allowed: Vec<Act>,
    /// Its fields.
    pub document: Value,
    /// Its signed history (empty in a list).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
}

/// One event of a history, as shown.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// The event.
    #[serde(flatten)]
    pub event: Event,
    /// Its signature.
    pub signature: String,
    /// Hex SHA-256 of its stored text.
    pub sha256: String,
}

/// Which requests to list.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// With this member on the other side.
    pub partner: Option<String>,
    /// Of this kind.
    pub kind: Option<RequestKind>,
    /// In this state.
    pub state: Option<State>,
    /// Only the overdue ones.
    pub overdue: bool,
    /// At most this many (at most [`MAX_LIST`]).
    pub limit: usize,
}

/// The most requests one list returns.
pub const MAX_LIST: usize = 1000;

/// Saves a new request as a draft, made by `officer`: nothing leaves the node until it is
/// submitted.
pub async fn draft(node: &Node, officer: &str, new: NewRequest) -> Result<Request, RequestError> {
    let local = local_member(node.directory()).await?;
    if new.to == local {
        return Err(invalid(
            "a request goes to another member, not to this node",
        ));
    }
    match node.directory().member(&new.to).await? {
        None => {
            return Err(invalid(format!(
                "{} is not a registered member",
                new.to.escape_debug()
            )))
        }
        Some(m) if m.status != crate::policy::MemberStatus::Active => {
            return Err(invalid(format!("member {} is suspended", new.to)))
        }
        Some(_) => {}
    }
    let document = with_node_fields(new.document, new.kind, &local, &new.to, new.emergency)?;
    related::named(&document)?;
    let now = now_us();
    let header = RequestRecord {
        id: format!("request--{}", uuid::Uuid::new_v4()),
        kind: new.kind.as_str().to_owned(),
        requester: local.clone(),
        requested: new.to,
        state: State::Draft.as_str().to_owned(),
        emergency: new.emergency,
        created_at: now,
        updated_at: now,
        due_at: None,
        events: 0,
        document: document.to_string(),
    };
    node.store().save_request_draft(&header).await?;
    tracing::info!(request = %header.id, officer = %officer.escape_debug(), kind = %new.kind, "request drafted");
    view(&header, &[], &local)
}

/// `document` with the members the node writes itself; refused when it is not a JSON
/// object, too large, or says otherwise about them.
fn with_node_fields(
    document: Value,
    kind: RequestKind,
    from: &str,
    to: &str,
    emergency: bool,
) -> Result<Value, RequestError> {
    let Value::Object(mut fields) = document else {
        return Err(invalid("a request document is a JSON object"));
    };
    let ours = [
        Value::from(kind.as_str()),
        Value::from(from),
        Value::from(to),
        Value::from(emergency),
    ];
    for (name, value) in NODE_FIELDS.iter().zip(ours) {
        if let Some(given) = fields.get(*name) {
            if *given != value {
                return Err(invalid(format!(
                    "the document's {name} is {given}, but the request's is {value}"
                )));
            }
        }
        fields.insert((*name).to_owned(), value);
    }
    let document = Value::Object(fields);
    let size = document.to_string().len();
    if size > MAX_DOCUMENT_BYTES {
        return Err(invalid(format!(
            "the document is {size} bytes; a request document may have {MAX_DOCUMENT_BYTES}"
        )));
    }
    Ok(document)
}

/// Makes act `act` on request `id`, by `officer` of this node, with `details`: checked by
/// the state machine and the act's rules, signed, appended with its log entry, and queued
/// for the other party.
pub async fn act(
    node: &Node,
    officer: &str,
    id: &str,
    act: Act,
    mut details: Details,
) -> Result<Request, RequestError> {
    if act == Act::Deliver {
        return Err(invalid(
            "deliver is recorded by the requested node when the request arrives",
        ));
    }
    if details.due.is_some() {
        return Err(invalid(
            "the due time is set by the node from its response times, not given",
        ));
    }
    let local = local_member(node.directory()).await?;
    check_held(node, &details.attachments)?;
    if !details.objects.is_empty() {
        return Err(invalid(format!(
            "related objects are released by the node from the document's {}, not given",
            related::FIELD
        )));
    }
    if act == Act::Submit {
        details.objects = released_objects(node, id, &local).await?;
    }
    let times = node.response_times();
    make(
        node.store(),
        node.log(),
        node.attachments(),
        &local,
        officer,
        id,
        act,
        details,
        &times,
    )
    .await?;
    let request = show_as(node.store(), id, &local).await?;
    node.outbox_ready();
    Ok(request)
}

/// What the requested member may have of the objects draft `id` names (see [`related`]);
/// nothing when `local` is not its requester (the state machine then refuses the act).
async fn released_objects(node: &Node, id: &str, local: &str) -> Result<Vec<Value>, RequestError> {
    let (header, _) = read(node.store(), id).await?;
    if header.requester != local {
        return Ok(Vec::new());
    }
    let document: Value = serde_json::from_str(&header.document)
        .map_err(|e| StoreError::Backend(format!("stored request unreadable: {e}")))?;
    let kind: RequestKind = header.kind.parse().map_err(StoreError::Backend)?;
    related::release(node, kind, &header.requested, &related::named(&document)?).await
}

/// Refuses attachments whose bytes this node does not hold whole, or holds with another
/// size.
fn check_held(node: &Node, listed: &[Attachment]) -> Result<(), RequestError> {
    if listed.is_empty() {
        return Ok(());
    }
    let Some(store) = node.attachments() else {
        return Err(invalid(
            "this node keeps no attachment bytes, so an act cannot list attachments",
        ));
    };
    for a in listed {
        if !attachments::is_sha256(&a.sha256) {
            // check_details says why.
            continue;
        }
        match store.sealed_size(&a.sha256)? {
            Some(size) if size == a.size => {}
            Some(size) => {
                return Err(invalid(format!(
                    "attachment {:?} ({}): this node holds {size} bytes with that SHA-256, not {}",
                    a.name, a.sha256, a.size
                )))
            }
            None => {
                return Err(invalid(format!(
                    "attachment {:?} ({}): this node does not hold its bytes; upload them first",
                    a.name, a.sha256
                )))
            }
        }
    }
    Ok(())
}

/// Queues the bytes of every attachment transfer still pending (of request `request`
/// only, when given) for its member, in chunks of at most [`attachments::SEGMENT`] bytes,
/// and ends each transfer once its chunks are in the outbox. The transfers were written
/// with the events that list the attachments, in their transactions, so bytes whose
/// queueing a crash cut short are queued again (the other node takes a repeated chunk as
/// a no-op). Returns how many transfers it queued; none when this node keeps no
/// attachments (`kept`), and those pending wait.
async fn queue_transfers(
    outbox: &dyn Store,
    log: &NodeLog,
    kept: Option<&attachments::Attachments>,
    request: Option<&str>,
) -> Result<usize, RequestError> {
    use base64::Engine as _;
    let pending = outbox.attachment_transfers(request).await?;
    let Some(store) = kept.filter(|_| !pending.is_empty()) else {
        if !pending.is_empty() {
            tracing::warn!(
                pending = pending.len(),
                "attachment transfers wait: this node keeps no attachment bytes"
            );
        }
        return Ok(0);
    };
    let sealer = Sealer::load(outbox, log.node_key()).await?;
    for t in &pending {
        let (id, to) = (t.request.as_str(), t.member.as_str());
        let mut reader = store.open(outbox, &t.sha256).await?;
        let size = reader.size();
        let mut first = true;
        loop {
            // Sixteen chunks at a time, read and checked off the async workers.
            let (back, mut pieces) = tokio::task::spawn_blocking(move || {
                let mut pieces = Vec::new();
                while pieces.len() < 16 {
                    let offset = reader.offset();
                    match reader.next_segment()? {
                        Some(piece) => pieces.push((offset, piece)),
                        None => break,
                    }
                }
                Ok::<_, attachments::AttachmentError>((reader, pieces))
            })
            .await
            .map_err(|e| StoreError::Backend(format!("reading an attachment: {e}")))??;
            reader = back;
            // An empty attachment travels as one empty chunk.
            if first && pieces.is_empty() {
                pieces.push((0, Vec::new()));
            }
            first = false;
            if pieces.is_empty() {
                break;
            }
            let items = pieces
                .into_iter()
                .map(|(offset, piece)| {
                    let body = serde_json::json!({
                        "request": id,
                        "sha256": t.sha256,
                        "offset": offset,
                        "size": size,
                        "data": base64::engine::general_purpose::STANDARD.encode(&piece),
                    });
                    sealer.item(to, OutboxKind::Attachment, body.to_string())
                })
                .collect();
            outbox.outbox_push(to, items).await?;
        }
        outbox.end_attachment_transfer(t).await?;
        tracing::info!(request = %id, sha256 = %t.sha256, size, to = %to, "attachment queued");
    }
    Ok(pending.len())
}

/// Queues the bytes of the attachment transfers a crash left pending (see
/// [`queue_transfers`]); the federation sender calls it when it starts.
pub async fn resume_transfers(node: &Node) -> Result<usize, RequestError> {
    let queued = queue_transfers(node.store(), node.log(), node.attachments(), None).await?;
    if queued > 0 {
        tracing::warn!(queued, "attachment transfers cut short were queued again");
        node.outbox_ready();
    }
    Ok(queued)
}

/// Appends `data` at `offset` to attachment `sha256` of `size` bytes for request `id`, as
/// an officer of this node uploads it (before an act lists it).
pub async fn upload(
    node: &Node,
    id: &str,
    sha256: &str,
    size: u64,
    offset: u64,
    data: &[u8],
) -> Result<attachments::Progress, RequestError> {
    let local = local_member(node.directory()).await?;
    show_as(node.store(), id, &local).await?;
    let store = node
        .attachments()
        .ok_or_else(|| invalid("this node keeps no attachment bytes"))?;
    Ok(store
        .append(node.store(), sha256, size, offset, data)
        .await?)
}

/// Stores `data` whole as an attachment of request `id` (going on where an earlier
/// attempt stopped) and returns how an act lists it, named `name`.
pub async fn attach(
    node: &Node,
    id: &str,
    name: &str,
    data: &[u8],
) -> Result<Attachment, RequestError> {
    let local = local_member(node.directory()).await?;
    show_as(node.store(), id, &local).await?;
    let store = node
        .attachments()
        .ok_or_else(|| invalid("this node keeps no attachment bytes"))?;
    let sha256 = store.put(node.store(), data).await?;
    Ok(Attachment {
        name: name.to_owned(),
        sha256,
        size: data.len() as u64,
    })
}

/// A reader of attachment `sha256` of request `id`, listed in a signed event of that
/// request and held whole by this node, checked before and while it is read.
pub async fn attachment(
    node: &Node,
    id: &str,
    sha256: &str,
) -> Result<(Attachment, attachments::Reader), RequestError> {
    let local = local_member(node.directory()).await?;
    let request = show_as(node.store(), id, &local).await?;
    let listed = request
        .history
        .iter()
        .flat_map(|h| h.event.details.attachments.iter())
        .find(|a| a.sha256 == sha256)
        .cloned()
        .ok_or_else(|| {
            RequestError::NotFound(format!("attachment {} of {id}", sha256.escape_debug()))
        })?;
    let store = node
        .attachments()
        .ok_or_else(|| invalid("this node keeps no attachment bytes"))?;
    let reader = store
        .open(node.store(), sha256)
        .await
        .map_err(|e| match e {
            attachments::AttachmentError::Absent(_) => RequestError::NotFound(format!(
                "the bytes of attachment {sha256} of {id} (not yet received)"
            )),
            e => e.into(),
        })?;
    Ok((listed, reader))
}

/// Takes in a chunk of an attachment that member `from` sent this node, `local`: only from
/// the other party of the request, only for an attachment that party listed in a signed
/// event of it, in order. Returns whether it was new (a repeated chunk changes nothing).
pub(crate) async fn take_in_chunk(
    store: &dyn Store,
    kept: Option<&attachments::Attachments>,
    local: &str,
    from: &str,
    chunk: &Chunk,
) -> Result<bool, RequestError> {
    let (header, events) = read(store, &chunk.request).await?;
    let other = match side_of(&header, local) {
        Some(Side::Requester) => &header.requested,
        Some(Side::Requested) => &header.requester,
        None => return Err(RequestError::NotFound(chunk.request.clone())),
    };
    if other != from {
        return Err(invalid(format!(
            "{} is not the other party of {}",
            from.escape_debug(),
            chunk.request
        )));
    }
    let mut listed = None;
    for e in events.iter().filter(|e| e.actor == from) {
        let signed = SignedEvent::parse(&e.json)?;
        if let Some(a) = signed
            .event
            .details
            .attachments
            .iter()
            .find(|a| a.sha256 == chunk.sha256)
        {
            listed = Some(a.clone());
        }
    }
    let listed = listed.ok_or_else(|| {
        invalid(format!(
            "attachment {} is not listed in any signed event of {} by {from}",
            chunk.sha256.escape_debug(),
            chunk.request
        ))
    })?;
    if listed.size != chunk.size {
        return Err(invalid(format!(
            "attachment {} is listed with {} bytes, not {}",
            chunk.sha256, listed.size, chunk.size
        )));
    }
    let kept = kept.ok_or_else(|| invalid("this node keeps no attachment bytes"))?;
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD
        .decode(&chunk.data)
        .map_err(|e| invalid(format!("the chunk's data is not base64: {e}")))?;
    if data.len() > attachments::SEGMENT {
        return Err(invalid(format!(
            "a chunk carries at most {} bytes, not {}",
            attachments::SEGMENT,
            data.len()
        )));
    }
    match kept
        .append(store, &chunk.sha256, chunk.size, chunk.offset, &data)
        .await
    {
        Ok(p) => {
            if p.complete {
                tracing::info!(request = %chunk.request, sha256 = %chunk.sha256, "attachment received whole");
            }
            Ok(true)
        }
        // Had already.
        Err(attachments::AttachmentError::Offset { held, offset, .. }) if offset < held => {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// One chunk of an attachment, as an `attachment` envelope carries it.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chunk {
    /// The request it belongs to.
    pub request: String,
    /// The attachment's SHA-256.
    pub sha256: String,
    /// Where the chunk starts.
    pub offset: u64,
    /// The attachment's size.
    pub size: u64,
    /// The chunk's bytes, base64.
    pub data: String,
}

/// Makes `act` on request `id` as member `local`: the core of [`act`], retried when another
/// act got there first. An acknowledgement gets its due time from `times`.
#[allow(clippy::too_many_arguments)]
async fn make(
    store: &dyn Store,
    log: &NodeLog,
    kept: Option<&attachments::Attachments>,
    local: &str,
    officer: &str,
    id: &str,
    act: Act,
    mut details: Details,
    times: &ResponseTimes,
) -> Result<(), RequestError> {
    let sealer = Sealer::load(store, log.node_key()).await?;
    for _ in 0..RETRIES {
        let (header, events) = read(store, id).await?;
        let side = side_of(&header, local).ok_or_else(|| RequestError::NotFound(id.to_owned()))?;
        let history = History::of(&header, &events)?;
        let at = now_us().max(history.last_at);
        let state = machine::next(history.kind, history.state, act, side, history.retrieved)?;
        if act == Act::Acknowledge {
            let seconds = times.seconds(history.kind, header.emergency);
            details.due = Some(format_us(at + seconds * 1_000_000));
        }
        check_details(act, &details, &history, at)?;
        let document = if act == Act::Submit {
            let doc: Value = serde_json::from_str(&header.document)
                .map_err(|e| StoreError::Backend(format!("stored request unreadable: {e}")))?;
            check_document(history.kind, &doc)?;
            related::check_carried(&doc, &details.objects)?;
            Some(doc)
        } else {
            None
        };
        let signed = Event {
            v: event::VERSION,
            request: id.to_owned(),
            n: header.events + 1,
            prev: events.last().map(|e| e.sha256.clone()),
            act,
            by: local.to_owned(),
            officer: officer.to_owned(),
            at: format_us(at),
            state,
            details: details.clone(),
            document,
        }
        .sign(log.node_key());
        if signed.json.len() > event::MAX_EVENT_BYTES {
            return Err(invalid(format!(
                "the {act} event comes to {} bytes with its document and related objects; an event may have {}",
                signed.json.len(),
                event::MAX_EVENT_BYTES
            )));
        }
        let other = match side {
            Side::Requester => &header.requested,
            Side::Requested => &header.requester,
        };
        let to = Some((other.as_str(), &sealer));
        match append(store, &header, &events, &signed, at, to, None).await {
            Ok(_) => {
                tracing::info!(request = %id, act = %act, state = %state, "request event made");
                if !details.attachments.is_empty() {
                    queue_transfers(store, log, kept, Some(id)).await?;
                }
                return Ok(());
            }
            Err(RequestError::Store(StoreError::Conflict(_))) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(RequestError::Busy(id.to_owned()))
}

/// Request `id` with its history, as `officer` of this node opens it. The first time an
/// officer of the requested side opens a delivered request, the node records the signed
/// retrieval receipt and sends it to the requester.
pub async fn open(node: &Node, officer: &str, id: &str) -> Result<Request, RequestError> {
    let local = local_member(node.directory()).await?;
    let request = show_as(node.store(), id, &local).await?;
    if request.allowed.contains(&Act::Retrieve) {
        match act(node, officer, id, Act::Retrieve, Details::default()).await {
            Ok(r) => return Ok(r),
            // Another officer opened it at the same moment.
            Err(RequestError::Machine(MachineError::RetrievedAlready)) => {}
            Err(e) => return Err(e),
        }
    }
    show_as(node.store(), id, &local).await
}

/// The requests `query` selects, most recently updated first, without their histories.
pub async fn list(node: &Node, query: &Query) -> Result<Vec<Request>, RequestError> {
    let local = local_member(node.directory()).await?;
    let filter = RequestFilter {
        partner: query.partner.clone(),
        kind: query.kind.map(|k| k.as_str().to_owned()),
        state: query.state.map(|s| s.as_str().to_owned()),
        due_before: query.overdue.then(now_us),
        before: None,
        limit: query.limit.clamp(1, MAX_LIST),
    };
    node.store()
        .requests(&filter)
        .await?
        .iter()
        .map(|h| view(h, &[], &local))
        .collect()
}

/// Response times per partner, kind and side, from the signed histories this node holds
/// ([`statistics::response_times`]).
pub async fn statistics(node: &Node) -> Result<Vec<statistics::ResponseStats>, RequestError> {
    let local = local_member(node.directory()).await?;
    statistics::response_times(node.store(), &local).await
}

/// Takes in an event that member `from` (whose pinned key is `key`) sent this node, `local`,
/// as its JSON text: checked as the acting node checked it, plus the signature, the chain
/// and the time. Returns whether it was new (a replay changes nothing). Once a submitted
/// request is in, this node records its delivery and sends that back. `kept` holds this
/// node's attachment bytes, which an act of its own made again after this event lists.
pub(crate) async fn take_in(
    store: &dyn Store,
    log: &NodeLog,
    kept: Option<&attachments::Attachments>,
    local: &str,
    from: &str,
    key: &PublicKey,
    json: &str,
) -> Result<bool, RequestError> {
    let signed = SignedEvent::parse(json)?;
    let ev = &signed.event;
    if ev.by != from {
        return Err(invalid(format!(
            "the event was made by {}, but {from} sent it",
            ev.by.escape_debug()
        )));
    }
    signed.verify(key)?;
    if !is_request_id(&ev.request) {
        return Err(invalid(format!(
            "{} is not a request id (request--<UUID>)",
            ev.request.escape_debug()
        )));
    }
    let stored = store.request(&ev.request).await?;
    let (header, events) = match stored {
        None if ev.n == 1 => (first_header(&signed, local)?, Vec::new()),
        None => {
            return Err(invalid(format!(
                "request {} is not known here; its history starts with event 1",
                ev.request
            )))
        }
        Some(h) => {
            let events = store.request_events(&h.id).await?;
            (h, events)
        }
    };
    if header.requester != from && header.requested != from || from == local {
        return Err(invalid(format!(
            "{from} is not the other party of request {}",
            header.id
        )));
    }
    let mut replaces = None;
    let mut superseded = Vec::new();
    let mut events = events;
    if ev.n <= header.events {
        let held = events.iter().find(|e| e.n == ev.n);
        if held.is_some_and(|e| e.sha256 == signed.sha256) {
            deliver_if_due(store, log, local, &header).await?;
            return Ok(false);
        }
        // Both parties acted at the same moment: the requested side's act stands, on both
        // nodes. The requester's node gives up its own act (and anything it made after it).
        let ours = held.is_some_and(|e| e.actor == local);
        if !(ours && header.requester == local && from == header.requested) {
            return Err(invalid(format!(
                "event {} of request {} differs from the one held here (sha256 {}), which stands",
                ev.n,
                header.id,
                held.map_or("none", |e| e.sha256.as_str())
            )));
        }
        replaces = held.map(|e| e.sha256.clone());
        let keep = usize::try_from(ev.n - 1).unwrap_or(usize::MAX);
        superseded = events.split_off(keep.min(events.len()));
    } else if ev.n != header.events + 1 {
        return Err(invalid(format!(
            "event {} of request {} is out of order: the next is {}",
            ev.n,
            header.id,
            header.events + 1
        )));
    }
    let history = History::of(&header, &events)?;
    if ev.prev.as_deref() != events.last().map(|e| e.sha256.as_str()) {
        return Err(invalid(format!(
            "event {} of request {} does not follow the event held before it",
            ev.n, header.id
        )));
    }
    let at = parse_us(&ev.at)
        .ok_or_else(|| invalid(format!("the event's time {:?} is not RFC 3339", ev.at)))?;
    if at > now_us() + MAX_SKEW.whole_microseconds() as i64 {
        return Err(invalid(format!(
            "the event's time {} is in the future",
            ev.at
        )));
    }
    if at < history.last_at {
        return Err(invalid(format!(
            "the event's time {} is before the event it follows",
            ev.at
        )));
    }
    let side = if from == header.requester {
        Side::Requester
    } else {
        Side::Requested
    };
    let state = machine::next(history.kind, history.state, ev.act, side, history.retrieved)?;
    if state != ev.state {
        return Err(invalid(format!(
            "{} leads to {state}, but the event says {}",
            ev.act, ev.state
        )));
    }
    check_details(ev.act, &ev.details, &history, at)?;
    if (ev.n == 1) != ev.document.is_some() {
        return Err(invalid("only the first event carries the document"));
    }
    if let Some(doc) = &ev.document {
        related::check_carried(doc, &ev.details.objects)?;
    }
    let fresh = append(store, &header, &events, &signed, at, None, replaces).await?;
    remake(store, log, kept, local, &header.id, &superseded).await?;
    tracing::info!(request = %header.id, from = %from, act = %ev.act, "request event received");
    if ev.act == Act::Submit {
        let header = store
            .request(&header.id)
            .await?
            .ok_or_else(|| RequestError::NotFound(header.id.clone()))?;
        deliver_if_due(store, log, local, &header).await?;
    }
    Ok(fresh)
}

/// Makes again, after the other party's act that superseded them, the acts of this node in
/// `superseded`, each as far as it is still allowed (it is signed anew, with a new time);
/// one that is not is given up, and the log of the node says so. The bytes of the
/// attachments an act made again lists are queued again after it (the other party refused
/// those that followed the superseded act), when this node keeps attachments (`kept`).
async fn remake(
    store: &dyn Store,
    log: &NodeLog,
    kept: Option<&attachments::Attachments>,
    local: &str,
    id: &str,
    superseded: &[RequestEvent],
) -> Result<(), RequestError> {
    for held in superseded.iter().filter(|e| e.actor == local) {
        let ev = SignedEvent::parse(&held.json)?.event;
        // Only the requester's acts are made again, never an acknowledgement: the default
        // response times are never used here.
        let times = ResponseTimes::default();
        match make(
            store,
            log,
            kept,
            local,
            &ev.officer,
            id,
            ev.act,
            ev.details,
            &times,
        )
        .await
        {
            Ok(()) => {
                tracing::warn!(request = %id, act = %ev.act, "an act made as the other party acted was made again after its act");
            }
            Err(RequestError::Machine(_) | RequestError::Invalid(_)) => {
                tracing::warn!(request = %id, act = %ev.act, "an act made as the other party acted is no longer allowed after its act: given up")
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Records this node's delivery of a request it received, if not done yet.
async fn deliver_if_due(
    store: &dyn Store,
    log: &NodeLog,
    local: &str,
    header: &RequestRecord,
) -> Result<(), RequestError> {
    if header.requested != local || header.state != State::Submitted.as_str() {
        return Ok(());
    }
    let events = store.request_events(&header.id).await?;
    let history = History::of(header, &events)?;
    let at = now_us().max(history.last_at);
    let signed = Event {
        v: event::VERSION,
        request: header.id.clone(),
        n: header.events + 1,
        prev: events.last().map(|e| e.sha256.clone()),
        act: Act::Deliver,
        by: local.to_owned(),
        officer: "node".to_owned(),
        at: format_us(at),
        state: State::Delivered,
        details: Details::default(),
        document: None,
    }
    .sign(log.node_key());
    let sealer = Sealer::load(store, log.node_key()).await?;
    match append(
        store,
        header,
        &events,
        &signed,
        at,
        Some((&header.requester, &sealer)),
        None,
    )
    .await
    {
        // Recorded meanwhile by a concurrent replay.
        Err(RequestError::Store(StoreError::Conflict(_))) => Ok(()),
        other => other.map(|_| ()),
    }
}

/// The header of a request this node learns of from its first event.
fn first_header(signed: &SignedEvent, local: &str) -> Result<RequestRecord, RequestError> {
    let ev = &signed.event;
    if ev.act != Act::Submit {
        return Err(invalid("a request's first event is its submission"));
    }
    let doc = ev
        .document
        .as_ref()
        .ok_or_else(|| invalid("the submission carries no document"))?;
    let text = |name: &str| doc.get(name).and_then(Value::as_str).unwrap_or_default();
    if text("from") != ev.by || text("to") != local {
        return Err(invalid(format!(
            "the document is from {} to {}, not from the sender to this node",
            text("from").escape_debug(),
            text("to").escape_debug()
        )));
    }
    let kind: RequestKind = text("kind").parse().map_err(invalid)?;
    let emergency = doc
        .get("emergency")
        .and_then(Value::as_bool)
        .ok_or_else(|| invalid("the document's emergency is true or false"))?;
    check_document(kind, doc)?;
    let at = parse_us(&ev.at)
        .ok_or_else(|| invalid(format!("the event's time {:?} is not RFC 3339", ev.at)))?;
    Ok(RequestRecord {
        id: ev.request.clone(),
        kind: kind.as_str().to_owned(),
        requester: ev.by.clone(),
        requested: local.to_owned(),
        state: State::Draft.as_str().to_owned(),
        emergency,
        created_at: at,
        updated_at: at,
        due_at: None,
        events: 0,
        document: doc.to_string(),
    })
}

/// Refuses a document that lacks a required field or is too large.
fn check_document(kind: RequestKind, doc: &Value) -> Result<(), RequestError> {
    let mut gaps = kinds::missing(kind, doc);
    if doc.get("emergency") == Some(&Value::Bool(true))
        && doc
            .get("emergency_justification")
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
    {
        gaps.push(Field {
            path: "emergency_justification",
            source: "Regulation (EU) 2023/1543 art. 3(18) (an imminent threat to life, physical integrity or safety)",
        });
    }
    if !gaps.is_empty() {
        return Err(RequestError::Missing(gaps));
    }
    let size = doc.to_string().len();
    if size > MAX_DOCUMENT_BYTES {
        return Err(invalid(format!(
            "the document is {size} bytes; a request document may have {MAX_DOCUMENT_BYTES}"
        )));
    }
    Ok(())
}

/// What the rules of an act need to know of a request's history.
struct History {
    kind: RequestKind,
    state: State,
    retrieved: bool,
    /// Preservation: until when the data are preserved.
    until: Option<i64>,
    /// The signed time of the last event.
    last_at: i64,
}

impl History {
    /// What `events` (a request's history, or the start of it) say of `header`'s request.
    fn of(header: &RequestRecord, events: &[RequestEvent]) -> Result<History, RequestError> {
        let corrupt =
            |what: String| StoreError::Backend(format!("stored request {}: {what}", header.id));
        let kind: RequestKind = header.kind.parse().map_err(corrupt)?;
        let mut state = State::Draft;
        let mut until = None;
        for e in events {
            let signed = SignedEvent::parse(&e.json).map_err(|e| corrupt(e.to_string()))?;
            state = signed.event.state;
            if matches!(signed.event.act, Act::Preserve | Act::Extend) {
                until = signed.event.details.until.as_deref().and_then(parse_us);
            }
        }
        if events.is_empty() && header.state != State::Draft.as_str() {
            state = header.state.parse().map_err(corrupt)?;
        }
        Ok(History {
            kind,
            state,
            retrieved: events.iter().any(|e| e.act == Act::Retrieve.as_str()),
            until,
            last_at: events.last().map_or(header.created_at, |e| e.at),
        })
    }
}

/// Refuses details an act does not take, or lacks.
fn check_details(act: Act, d: &Details, history: &History, at: i64) -> Result<(), RequestError> {
    let texts = [("note", &d.note), ("conditions", &d.conditions)];
    for (name, text) in texts {
        if let Some(t) = text {
            if t.chars().count() > event::MAX_TEXT {
                return Err(invalid(format!(
                    "the {name} has more than {} characters",
                    event::MAX_TEXT
                )));
            }
        }
    }
    if d.attachments.len() > event::MAX_ATTACHMENTS {
        return Err(invalid(format!(
            "an event lists at most {} attachments",
            event::MAX_ATTACHMENTS
        )));
    }
    for a in &d.attachments {
        let hex_ok = a.sha256.len() == 64
            && a.sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !hex_ok {
            return Err(invalid(format!(
                "attachment {:?}: sha256 is 64 lowercase hex digits",
                a.name
            )));
        }
        if a.name.trim().is_empty()
            || a.name.len() > 255
            || a.name
                .chars()
                .any(|c| c.is_control() || c == '/' || c == '\\')
        {
            return Err(invalid(format!(
                "attachment name {:?}: 1 to 255 bytes, no slashes or control characters",
                a.name
            )));
        }
    }
    let blank = |t: &Option<String>| t.as_deref().is_none_or(|t| t.trim().is_empty());
    let only = |present: bool, field: &str, acts: &str| {
        if present {
            Err(invalid(format!(
                "{field} goes with {acts} only, not with {act}"
            )))
        } else {
            Ok(())
        }
    };
    only(
        d.reason.is_some() && act != Act::Refuse,
        "a reason",
        "refuse",
    )?;
    only(
        d.conditions.is_some() && act != Act::AcceptWithConditions,
        "conditions",
        "accept_with_conditions",
    )?;
    only(
        d.until.is_some() && !matches!(act, Act::Preserve | Act::Extend),
        "until",
        "preserve and extend",
    )?;
    only(d.link.is_some() && act != Act::Link, "a link", "link")?;
    only(
        !d.objects.is_empty() && act != Act::Submit,
        "a list of related objects",
        "submit",
    )?;
    only(
        d.due.is_some() && act != Act::Acknowledge,
        "a due time",
        "acknowledge",
    )?;
    match act {
        Act::Refuse => match d.reason {
            None => {
                return Err(invalid(format!(
                    "refuse needs a reason: one of {}",
                    RefusalReason::ALL.join(", ")
                )))
            }
            Some(RefusalReason::Other) if blank(&d.note) => {
                return Err(invalid(
                    "a refusal for another reason explains it in the note",
                ))
            }
            Some(_) => {}
        },
        Act::Acknowledge => {
            let due = d
                .due
                .as_deref()
                .and_then(parse_us)
                .ok_or_else(|| invalid("an acknowledgement carries its due time (RFC 3339)"))?;
            let longest = at + ResponseTimes::MAX_SECONDS * 1_000_000;
            if due <= at || due > longest {
                return Err(invalid(format!(
                    "an acknowledgement's due time comes after it and within 366 days, not at {}",
                    format_us(due)
                )));
            }
        }
        Act::AcceptWithConditions if blank(&d.conditions) => {
            return Err(invalid("accept_with_conditions needs the conditions"))
        }
        Act::Postpone | Act::RequestInfo if blank(&d.note) => {
            return Err(invalid(format!("{act} needs a note saying why or what")))
        }
        Act::SupplyInfo if blank(&d.note) && d.attachments.is_empty() => {
            return Err(invalid("supply_info needs a note or attachments"))
        }
        Act::Preserve | Act::Extend => {
            let until = d
                .until
                .as_deref()
                .and_then(parse_us)
                .ok_or_else(|| invalid(format!("{act} needs until: an RFC 3339 time")))?;
            let floor = match act {
                Act::Preserve => at + kinds::MIN_PRESERVATION_DAYS * 86_400_000_000,
                _ => history.until.unwrap_or(at) + 1,
            };
            if until < floor {
                return Err(invalid(match act {
                    Act::Preserve => format!(
                        "data are preserved for at least {} days (Budapest Convention art. 29(7)): until {} at the earliest",
                        kinds::MIN_PRESERVATION_DAYS,
                        format_us(floor)
                    ),
                    _ => format!(
                        "an extension ends after the current period, which ends {}",
                        format_us(floor - 1)
                    ),
                }));
            }
        }
        Act::Link => match d.link.as_deref() {
            Some(l) if is_request_id(l) => {}
            _ => {
                return Err(invalid(
                    "link needs the id of the request that follows (request--<UUID>)",
                ))
            }
        },
        Act::Lapse if history.until.is_some_and(|u| at < u) => {
            return Err(invalid(format!(
                "the preservation period runs until {}; it lapses only then",
                format_us(history.until.unwrap_or_default())
            )));
        }
        _ => {}
    }
    Ok(())
}

/// Appends `signed` (at signed time `at`) to request `header`, whose history before it is
/// `before`, with its log entry and, when `to` is set, the envelope for that member (sealed
/// by its sealer);
/// `replaces` names the event it supersedes. Returns whether it was new.
async fn append(
    store: &dyn Store,
    header: &RequestRecord,
    before: &[RequestEvent],
    signed: &SignedEvent,
    at: i64,
    to: Option<(&str, &Sealer)>,
    replaces: Option<String>,
) -> Result<bool, RequestError> {
    let ev = &signed.event;
    let mut next = header.clone();
    next.state = ev.state.as_str().to_owned();
    next.updated_at = at;
    next.events = ev.n;
    // The answer is due when the signed acknowledgement says, while one is awaited.
    let due = if ev.act == Act::Acknowledge {
        ev.details.due.clone()
    } else {
        match before
            .iter()
            .rev()
            .find(|e| e.act == Act::Acknowledge.as_str())
        {
            Some(e) => SignedEvent::parse(&e.json)?.event.details.due,
            None => None,
        }
    };
    next.due_at = due
        .as_deref()
        .and_then(parse_us)
        .filter(|_| machine::AWAITING_ANSWER.contains(&ev.state));
    let log_entry = crate::log::seal(LogEntry {
        kind: REQUEST_EVENT.to_owned(),
        time: now_us(),
        actor: ev.by.clone(),
        subject: format!("{}#{}", ev.request, ev.n),
        sha256: hex::decode(&signed.sha256)
            .ok()
            .and_then(|b| b.try_into().ok())
            .expect("a SHA-256 in hex"),
    })?;
    // The bytes of the attachments it lists follow an event this node sends.
    let mut transfers: Vec<String> = match to {
        Some(_) => ev
            .details
            .attachments
            .iter()
            .map(|a| a.sha256.clone())
            .collect(),
        None => Vec::new(),
    };
    transfers.sort();
    transfers.dedup();
    let send = to.map(|(member, sealer)| {
        (
            member.to_owned(),
            sealer.item(
                member,
                OutboxKind::Request,
                format!("{{\"event\":{}}}", signed.json),
            ),
        )
    });
    let append = RequestAppend {
        header: next,
        event: RequestEvent {
            request: ev.request.clone(),
            n: ev.n,
            actor: ev.by.clone(),
            act: ev.act.as_str().to_owned(),
            at,
            sha256: signed.sha256.clone(),
            json: signed.json.clone(),
        },
        log_entry,
        send,
        replaces,
        transfers,
    };
    Ok(store.append_request_event(&append).await?)
}

async fn read(
    store: &dyn Store,
    id: &str,
) -> Result<(RequestRecord, Vec<RequestEvent>), RequestError> {
    if !is_request_id(id) {
        return Err(invalid("a request id is request--<UUID>"));
    }
    let header = store
        .request(id)
        .await?
        .ok_or_else(|| RequestError::NotFound(id.to_owned()))?;
    let events = store.request_events(id).await?;
    Ok((header, events))
}

async fn show_as(store: &dyn Store, id: &str, local: &str) -> Result<Request, RequestError> {
    let (header, events) = read(store, id).await?;
    view(&header, &events, local)
}

fn side_of(header: &RequestRecord, local: &str) -> Option<Side> {
    if header.requester == local {
        Some(Side::Requester)
    } else if header.requested == local {
        Some(Side::Requested)
    } else {
        None
    }
}

fn view(
    header: &RequestRecord,
    events: &[RequestEvent],
    local: &str,
) -> Result<Request, RequestError> {
    let corrupt =
        |what: String| StoreError::Backend(format!("stored request {}: {what}", header.id));
    let side = side_of(header, local).ok_or_else(|| RequestError::NotFound(header.id.clone()))?;
    let history = History::of(header, events)?;
    // A list reads no histories (only a draft has none): it offers no retrieval.
    let retrieved = history.retrieved || events.is_empty() && history.state != State::Draft;
    let entries = events
        .iter()
        .map(|e| {
            let s = SignedEvent::parse(&e.json).map_err(|x| corrupt(x.to_string()))?;
            Ok(HistoryEntry {
                event: s.event,
                signature: s.signature,
                sha256: s.sha256,
            })
        })
        .collect::<Result<Vec<_>, RequestError>>()?;
    Ok(Request {
        id: header.id.clone(),
        kind: history.kind,
        requester: header.requester.clone(),
        requested: header.requested.clone(),
        side,
        state: history.state,
        emergency: header.emergency,
        created: format_us(header.created_at),
        updated: format_us(header.updated_at),
        due: header.due_at.map(format_us),
        overdue: header.due_at.is_some_and(|d| d < now_us()),
        allowed: machine::allowed(history.kind, history.state, side, retrieved),
        document: serde_json::from_str(&header.document).map_err(|e| corrupt(e.to_string()))?,
        history: entries,
    })
}

async fn local_member(directory: Directory<'_>) -> Result<String, RequestError> {
    Ok(directory
        .local_member()
        .await?
        .ok_or(RequestError::NoIdentity)?
        .id
        .0)
}

/// Whether `s` is a request id: `request--` and a UUID.
pub fn is_request_id(s: &str) -> bool {
    s.strip_prefix("request--")
        .is_some_and(|u| u.len() == 36 && uuid::Uuid::try_parse(u).is_ok())
}

#[cfg(test)]
mod tests;
