//! Detections out: the indicators a reader may see, as sensors consume them — Suricata
//! and Snort 3 rules, a Zeek Intel file, plain lists, YARA rules, Sigma rules. Every indicator passes the policy engine first
//! (the reader's release, through the export channel), so nothing reaches a sensor that
//! its reader could not read; revoked and expired indicators are left out, so the next
//! export drops them. [`extract`] says which patterns a sensor can look for, [`render`],
//! [`yara`] and [`sigma`] write each format.

pub mod extract;
pub mod render;
pub mod sigma;
pub mod yara;

use std::collections::HashSet;

use comity_stix::tlp::tlp_of_marking_ref;
use comity_store::{CollectionRef, ObjectFilter, PageRequest, Store, StoreError, VersionFilter};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::release::{Release, Released};
pub use extract::ValueKind;
pub use render::Format;

/// One value to look for, with the indicator it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// The indicator's id.
    pub indicator: String,
    /// The indicator's name (empty when it has none).
    pub name: String,
    /// Its TLP level as released (`TLP:GREEN`), or `unmarked`.
    pub tlp: String,
    /// The indicator's `created` timestamp, as written.
    pub created: String,
    /// The indicator's `modified` timestamp, as written.
    pub modified: String,
    /// The kind of value.
    pub kind: ValueKind,
    /// The value, normalised.
    pub value: String,
}

impl Detection {
    /// The TLP level as a metadata value (`green`, `amber_strict`, `unmarked`).
    fn tlp_key(&self) -> String {
        self.tlp
            .trim_start_matches("TLP:")
            .to_ascii_lowercase()
            .replace('+', "_")
    }
}

/// What an export produced.
#[derive(Debug, Clone, Default)]
pub struct Exported {
    /// The text, in the format asked for.
    pub text: String,
    /// Indicators read (released to the reader, unexpired, unrevoked).
    pub indicators: u64,
    /// Values written.
    pub values: u64,
    /// Indicators the policy kept from the reader.
    pub withheld: u64,
    /// Indicators whose pattern no sensor can look for as it is, or that have expired.
    pub skipped: u64,
    /// The first few skipped indicators, each with why.
    pub skipped_examples: Vec<(String, String)>,
}

/// How many skipped indicators an export names.
const EXAMPLES: usize = 10;
/// Indicators read per page.
const PAGE: usize = 2000;

/// Exports, in `format`, the newest version of every indicator in `sources` (each
/// collection with the reader's release there) that the release lets the reader have and
/// that is valid at `at`; only values of `kinds` when it is not empty. Lists hold each
/// value once.
pub async fn export(
    store: &dyn Store,
    sources: &[(CollectionRef, Release)],
    format: Format,
    kinds: &[ValueKind],
    at: OffsetDateTime,
) -> Result<Exported, StoreError> {
    let filter = ObjectFilter {
        types: vec!["indicator".into()],
        versions: VersionFilter::last(),
        ..ObjectFilter::default()
    };
    let mut out = Exported::default();
    let mut rules = render::Rules::new(match format {
        Format::Snort => render::Dialect::Snort,
        _ => render::Dialect::Suricata,
    });
    let mut yara = yara::Yara::new();
    let mut sigma = sigma::Sigma::new();
    let mut listed = HashSet::new();
    match format {
        Format::ZeekIntel => out.text.push_str(render::ZEEK_HEADER),
        Format::Yara => out.text.push_str(yara::HEADER),
        _ => {}
    }
    for (collection, release) in sources {
        let mut after = None;
        loop {
            let page = store
                .objects(collection, &filter, &PageRequest { limit: PAGE, after })
                .await?;
            for stored in &page.items {
                let json = match release.object(&stored.json) {
                    Released::Allowed(json) => json,
                    Released::Denied(_) => {
                        out.withheld += 1;
                        continue;
                    }
                };
                let detections = match serde_json::from_str::<Value>(&json)
                    .map_err(|e| e.to_string())
                    .and_then(|o| detections(&o, at))
                {
                    Ok(d) => d,
                    Err(why) => {
                        out.skipped += 1;
                        if out.skipped_examples.len() < EXAMPLES {
                            out.skipped_examples.push((stored.id.clone(), why));
                        }
                        continue;
                    }
                };
                out.indicators += 1;
                for d in detections {
                    if !kinds.is_empty() && !kinds.contains(&d.kind) {
                        continue;
                    }
                    match format {
                        Format::Suricata | Format::Snort => {
                            if !rules.rules(&d, &mut out.text) {
                                continue;
                            }
                        }
                        Format::ZeekIntel => render::zeek(&d, &mut out.text),
                        Format::Yara => {
                            if !yara.rule(&d, &mut out.text) {
                                continue;
                            }
                        }
                        Format::Sigma => sigma.push(d, &mut out.text),
                        Format::List => {
                            if !listed.insert((d.kind, d.value.clone())) {
                                continue;
                            }
                            out.text.push_str(&d.value);
                            out.text.push('\n');
                        }
                    }
                    out.values += 1;
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    match format {
        Format::Suricata | Format::Snort => rules.finish(&mut out.text),
        Format::Sigma => sigma.finish(&mut out.text),
        _ => {}
    }
    Ok(out)
}

/// The detections of one released indicator valid at `at`, or why it has none.
fn detections(indicator: &Value, at: OffsetDateTime) -> Result<Vec<Detection>, String> {
    if let Some(until) = indicator.get("valid_until") {
        let until = until
            .as_str()
            .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
            .ok_or("its valid_until cannot be read")?;
        if until <= at {
            return Err("expired".into());
        }
    }
    let values = extract::values(indicator)?;
    let text = |name: &str| {
        indicator
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let tlp = indicator
        .get("object_marking_refs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().and_then(tlp_of_marking_ref))
        .max()
        .map_or_else(|| "unmarked".to_owned(), |t| t.to_string());
    let (indicator_id, name) = (text("id"), text("name"));
    let (created, modified) = (text("created"), text("modified"));
    Ok(values
        .into_iter()
        .map(|v| Detection {
            indicator: indicator_id.clone(),
            name: name.clone(),
            tlp: tlp.clone(),
            created: created.clone(),
            modified: modified.clone(),
            kind: v.kind,
            value: v.value,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";

    fn indicator(extra: Value) -> Value {
        let mut o = json!({
            "type": "indicator", "id": "indicator--6f5a6d0e-7b2c-4c1e-9f3a-2d4b5c6d7e8f",
            "name": "C2", "pattern_type": "stix",
            "pattern": "[ipv4-addr:value = '203.0.113.7']",
            "object_marking_refs": [GREEN],
        });
        o.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        o
    }

    #[test]
    fn an_expired_or_unreadably_dated_indicator_gives_nothing() {
        let now = OffsetDateTime::parse("2026-12-07T00:00:00Z", &Rfc3339).unwrap();
        let d = detections(
            &indicator(json!({"valid_until": "2027-01-01T00:00:00Z"})),
            now,
        )
        .unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].tlp.as_str(), d[0].tlp_key()),
            ("TLP:GREEN", "green".into())
        );
        assert_eq!(
            detections(
                &indicator(json!({"valid_until": "2026-12-06T23:59:59Z"})),
                now
            ),
            Err("expired".into())
        );
        assert!(detections(&indicator(json!({"valid_until": "soon"})), now)
            .unwrap_err()
            .contains("cannot be read"));
        let unmarked = detections(&indicator(json!({"object_marking_refs": []})), now).unwrap();
        assert_eq!(unmarked[0].tlp_key(), "unmarked");
    }
}
