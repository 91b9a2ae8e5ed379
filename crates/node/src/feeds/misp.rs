//! MISP feeds: a directory served over HTTP with `manifest.json` (each event's uuid with
//! its `timestamp`) and one `{uuid}.json` per event. A run reads the manifest and fetches
//! only the events whose timestamp changed since they were last read (the feed's values
//! remember each event's timestamp), converts each with [`crate::misp`] and stores it
//! through the node's intake, with the admin's marking on what carries none. An event that
//! cannot be converted is refused (logged, counted) and read again next run. Events gone
//! from the manifest are left as they are.

use std::collections::BTreeMap;

use comity_store::FeedValue;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{taxii, FeedError, Run};

/// Reads the feed's manifest and the events that changed.
pub(super) async fn pull(run: &mut Run<'_>) -> Result<(), FeedError> {
    let base = format!("{}/", run.record.url.trim_end_matches('/'));
    let manifest_url = format!("{base}manifest.json");
    let fetched = run.get(&manifest_url, "application/json", None).await?;
    let body = fetched.success(&manifest_url).map_err(|e| run.failed(e))?;
    let manifest: BTreeMap<String, Value> = serde_json::from_slice(&body)
        .map_err(|e| run.failed(format!("{manifest_url} is no MISP feed manifest: {e}")))?;
    let name = run.record.name.clone();
    let seen: BTreeMap<String, String> = run
        .node
        .store()
        .feed_values(&name)
        .await?
        .into_iter()
        .map(|v| (v.value, v.created))
        .collect();
    let mut kept = Vec::with_capacity(manifest.len());
    for (uuid, meta) in &manifest {
        // The uuid becomes part of a URL: only a real UUID is fetched.
        let Ok(parsed) = uuid::Uuid::parse_str(uuid) else {
            run.report.skipped += 1;
            tracing::warn!(feed = %name, entry = %uuid, "MISP manifest entry is no UUID");
            continue;
        };
        let stamp = match meta.get("timestamp") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        if !stamp.is_empty() && seen.get(uuid) == Some(&stamp) {
            kept.push(FeedValue {
                value: uuid.clone(),
                created: stamp,
            });
            continue;
        }
        let event_url = format!("{base}{}.json", parsed.hyphenated());
        let fetched = run.get(&event_url, "application/json", None).await?;
        let body = fetched.success(&event_url).map_err(|e| run.failed(e))?;
        let converted = match crate::misp::convert(&String::from_utf8_lossy(&body)) {
            Ok(c) => c,
            Err(e) => {
                run.report.refused += 1;
                tracing::warn!(feed = %name, event = %uuid, error = %e, "MISP event refused");
                continue;
            }
        };
        let raws: Vec<Box<RawValue>> = converted
            .objects
            .iter()
            .map(|o| RawValue::from_string(o.to_string()).expect("JSON text"))
            .map(|raw| taxii::mark(raw, &run.settings.markings))
            .collect();
        run.store(&raws).await?;
        kept.push(FeedValue {
            value: uuid.clone(),
            created: stamp,
        });
    }
    run.state.cursor = kept.iter().map(|v| v.created.clone()).max();
    run.save_values(&kept).await
}
