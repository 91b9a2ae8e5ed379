//! TAXII feeds: a collection of another TAXII 2.1 server, read page by page from where the
//! last run left off (`added_after` the last `X-TAXII-Date-Added-Last` seen, then `next`
//! while the server says `more`). The cursor is saved after each page, so a run cut short
//! resumes at the page it did not finish. The admin's markings go on objects that carry
//! none; everything else is stored as received.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{FeedError, Run};

/// Objects asked for per page unless the feed says otherwise.
pub const PAGE: usize = 1000;

/// The TAXII 2.1 media type.
const TAXII_ACCEPT: &str = "application/taxii+json;version=2.1";

/// One page of a TAXII envelope.
#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    objects: Vec<Box<RawValue>>,
}

/// Reads the feed's collection from its cursor on.
pub(super) async fn pull(run: &mut Run<'_>) -> Result<(), FeedError> {
    let base = format!("{}/objects/", run.record.url.trim_end_matches('/'));
    let mut since = run.state.cursor.clone();
    let mut next: Option<String> = None;
    let page_size = run.settings.page_size.unwrap_or(PAGE).to_string();
    loop {
        let mut url = url::Url::parse(&base).map_err(|e| run.failed(e.to_string()))?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("limit", &page_size);
            if let Some(since) = &since {
                query.append_pair("added_after", since);
            }
            if let Some(next) = &next {
                query.append_pair("next", next);
            }
        }
        let fetched = run.get(url.as_str(), TAXII_ACCEPT, None).await?;
        let last = fetched.header("x-taxii-date-added-last").map(str::to_owned);
        let body = fetched.success(url.as_str()).map_err(|e| run.failed(e))?;
        let page: Page = serde_json::from_slice(&body)
            .map_err(|e| run.failed(format!("{url} answered no TAXII envelope: {e}")))?;
        let marked = page
            .objects
            .into_iter()
            .map(|raw| mark(raw, &run.settings.markings))
            .collect::<Vec<_>>();
        run.store(&marked).await?;
        let progressed = last.is_some() && last != run.state.cursor;
        if let Some(last) = last {
            run.state.cursor = Some(last);
        }
        run.checkpoint().await?;
        match (page.more, page.next) {
            (true, Some(token)) => next = Some(token),
            // More, but no token: continue after what was read, if anything was.
            (true, None) if progressed => {
                since = run.state.cursor.clone();
                next = None;
            }
            _ => return Ok(()),
        }
    }
}

/// `raw` with `markings` as its `object_marking_refs` when it carries none (and is no
/// marking definition); otherwise `raw` as received.
pub(super) fn mark(raw: Box<RawValue>, markings: &[String]) -> Box<RawValue> {
    if markings.is_empty() {
        return raw;
    }
    let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(raw.get()) else {
        return raw;
    };
    if !mark_object(&mut object, markings) {
        return raw;
    }
    RawValue::from_string(Value::Object(object).to_string()).unwrap_or(raw)
}

/// Gives `object` `markings` as its `object_marking_refs` when it carries none (and is no
/// marking definition); whether it did.
pub(super) fn mark_object(object: &mut Map<String, Value>, markings: &[String]) -> bool {
    let is_marking = object.get("type").and_then(Value::as_str) == Some("marking-definition");
    if markings.is_empty() || is_marking || object.contains_key("object_marking_refs") {
        return false;
    }
    object.insert("object_marking_refs".into(), markings.into());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn only_unmarked_objects_get_the_feeds_markings() {
        let amber = vec![comity_stix::tlp::TLP2_AMBER.to_owned()];
        let unmarked = r#"{"type":"indicator","id":"indicator--1"}"#;
        let marked = mark(raw(unmarked), &amber);
        let v: Value = serde_json::from_str(marked.get()).unwrap();
        assert_eq!(v["object_marking_refs"][0], comity_stix::tlp::TLP2_AMBER);
        let red = format!(
            r#"{{"type":"indicator","object_marking_refs":["{}"]}}"#,
            comity_stix::tlp::TLP2_RED
        );
        assert_eq!(mark(raw(&red), &amber).get(), red, "kept byte for byte");
        let definition = r#"{"type":"marking-definition","id":"marking-definition--x"}"#;
        assert_eq!(mark(raw(definition), &amber).get(), definition);
        assert_eq!(mark(raw("[1,2]"), &amber).get(), "[1,2]");
        assert_eq!(mark(raw(unmarked), &[]).get(), unmarked);
    }
}
