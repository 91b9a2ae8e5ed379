//! TAXII 2.0 feeds: a collection of another TAXII 2.0 server. Its objects endpoint answers
//! a STIX 2.0 bundle (`application/vnd.oasis.stix+json; version=2.0`), paged by HTTP ranges
//! of items (`Range: items=0-999`, answered `206` with `Content-Range: items 0-999/5000`)
//! rather than TAXII 2.1's `more` and `next`. A run reads what was added after its cursor
//! (`added_after`), range after range, converts each object to STIX 2.1
//! ([`super::stix20`]; what cannot be converted is skipped, with its reason in the run's
//! report) and stores the page as a TAXII 2.1 feed does.
//!
//! The cursor is saved after each page: the date it read after and the items read since
//! (`2026-01-01T00:00:00.000Z @2000`), so a run cut short resumes at the range it did not
//! finish, even when many objects share one date added; a finished run leaves the last
//! `X-TAXII-Date-Added-Last` it saw. A page is checked whole before anything of it is
//! stored: a body that is no STIX 2.0 bundle, a `Content-Range` that is not the range asked
//! for or does not count the objects sent, more objects than asked for (a server that
//! ignores `Range` on a large collection) or a date that is no timestamp fail the run.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::source::{excerpt, Fetched};
use super::{stix20, taxii, FeedError, Run};

/// The STIX 2.0 media type the objects endpoint answers in.
const STIX20_ACCEPT: &str = "application/vnd.oasis.stix+json; version=2.0";

/// Where a run starts: item `start` of what was added after `since`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Cursor {
    since: Option<String>,
    start: u64,
}

impl Cursor {
    /// The cursor a feed saved (`DATE`, `DATE @N` or `@N`); none is the collection's start.
    fn parse(text: Option<&str>) -> Result<Cursor, String> {
        let Some(text) = text else {
            return Ok(Cursor::default());
        };
        let unreadable = || format!("stored cursor {text:?} unreadable");
        let (since, start) = match text.split_once('@') {
            Some((since, start)) => (since.trim_end(), start.parse().map_err(|_| unreadable())?),
            None => (text, 0),
        };
        let since = match since {
            "" => None,
            date => Some(timestamp(date).map_err(|_| unreadable())?),
        };
        Ok(Cursor { since, start })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.since, self.start) {
            (Some(since), 0) => f.write_str(since),
            (Some(since), start) => write!(f, "{since} @{start}"),
            (None, start) => write!(f, "@{start}"),
        }
    }
}

/// A date a source gave, if it is an RFC 3339 timestamp.
fn timestamp(text: &str) -> Result<String, String> {
    match text.len() <= 40 && comity_stix::clock::parse_us(text).is_some() {
        true => Ok(text.to_owned()),
        false => Err(format!("{:?} is not a timestamp", excerpt(text, 60))),
    }
}

/// A STIX 2.0 bundle, its objects unparsed.
#[derive(Deserialize)]
struct Bundle {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    spec_version: Option<String>,
    #[serde(default)]
    objects: Vec<Box<RawValue>>,
}

/// What one answer holds, checked whole.
#[derive(Debug)]
enum Answer {
    /// Objects, the date added of the last one, the items read through this page, and
    /// whether more ranges follow.
    Page {
        objects: Vec<Box<RawValue>>,
        last: Option<String>,
        read: u64,
        more: bool,
    },
    /// Nothing from the range's start on.
    End,
}

/// `items FIRST-LAST/TOTAL` (TOTAL may be `*`) as numbers.
fn content_range(text: &str) -> Option<(u64, u64, Option<u64>)> {
    let (range, total) = text.strip_prefix("items ")?.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let number = |s: &str| match s.bytes().all(|b| b.is_ascii_digit()) {
        true => s.parse::<u64>().ok(),
        false => None,
    };
    let total = match total {
        "*" => None,
        n => Some(number(n)?),
    };
    let (first, last) = (number(first)?, number(last)?);
    (first <= last).then_some((first, last, total))
}

/// Checks the answer to a request for `size` items from item `start` of `url`.
fn answer(fetched: Fetched, url: &str, start: u64, size: u64) -> Result<Answer, String> {
    let status = fetched.status;
    let range = fetched.header("content-range").map(str::to_owned);
    let last = fetched.header("x-taxii-date-added-last").map(str::to_owned);
    if status == 416 {
        // Nothing from `start` on, unless the source now holds fewer items than were read.
        let total = range
            .as_deref()
            .and_then(|r| r.strip_prefix("items */"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(total) = total.filter(|total| *total < start) {
            return Err(format!(
                "{url} holds {total} items after the cursor, fewer than the {start} read: \
                 its collection was replaced; remove the feed and add it again"
            ));
        }
        return Ok(Answer::End);
    }
    let body = fetched.success(url)?;
    if !matches!(status, 200 | 206) {
        return Err(format!("{url} answered {status}, not 200 or 206"));
    }
    let bundle: Bundle = serde_json::from_slice(&body).map_err(|e| {
        format!(
            "{url} answered no STIX 2.0 bundle: {}",
            excerpt(&e.to_string(), 200)
        )
    })?;
    if bundle.kind != "bundle" || bundle.spec_version.as_deref() != Some("2.0") {
        return Err(format!(
            "{url} answered no STIX 2.0 bundle (type {:?}, spec_version {:?})",
            excerpt(&bundle.kind, 40),
            bundle.spec_version.as_deref().map(|v| excerpt(v, 40))
        ));
    }
    let count = bundle.objects.len() as u64;
    if count > size {
        return Err(format!(
            "{url} answered {count} objects for a range of {size}: more than asked for \
             (the server ignores Range); nothing of the page is stored"
        ));
    }
    let last = last
        .map(|l| timestamp(&l))
        .transpose()
        .map_err(|e| format!("{url}: X-TAXII-Date-Added-Last {e}"))?;
    match status {
        206 if count == 0 => Ok(Answer::End),
        206 => {
            let range = range.ok_or_else(|| format!("{url} answered 206 without Content-Range"))?;
            let (first, end, total) = content_range(&range).ok_or_else(|| {
                format!(
                    "{url} answered Content-Range {:?}, not items FIRST-LAST/TOTAL",
                    excerpt(&range, 60)
                )
            })?;
            if first != start || end - first + 1 != count {
                return Err(format!(
                    "{url} answered items {first}-{end} with {count} objects to a request \
                     from item {start}; nothing of the page is stored"
                ));
            }
            Ok(Answer::Page {
                objects: bundle.objects,
                last,
                read: end + 1,
                more: total.is_none_or(|total| end + 1 < total),
            })
        }
        // 200: the whole result in one answer (a server may answer so when it fits).
        _ => Ok(Answer::Page {
            objects: bundle.objects,
            last,
            read: count,
            more: false,
        }),
    }
}

/// `Range` asking for `size` items from `start`: as RFC 7233 writes it (`items=0-999`), or
/// as the TAXII 2.0 text prints it (`items 0-999`), which some servers expect.
fn range(start: u64, size: u64, spaced: bool) -> String {
    let end = start + size - 1;
    match spaced {
        false => format!("items={start}-{end}"),
        true => format!("items {start}-{end}"),
    }
}

/// Reads the feed's collection from its cursor on.
pub(super) async fn pull(run: &mut Run<'_>) -> Result<(), FeedError> {
    let Cursor { since, mut start } =
        Cursor::parse(run.state.cursor.as_deref()).map_err(|e| run.failed(e))?;
    let base = format!("{}/objects/", run.record.url.trim_end_matches('/'));
    let mut url = url::Url::parse(&base).map_err(|e| run.failed(e.to_string()))?;
    if let Some(since) = &since {
        url.query_pairs_mut().append_pair("added_after", since);
    }
    let size = run.settings.page_size.unwrap_or(taxii::PAGE) as u64;
    let (mut newest, mut spaced, mut first) = (None, false, true);
    loop {
        let asked = range(start, size, spaced);
        let fetched = run.get(url.as_str(), STIX20_ACCEPT, Some(&asked)).await?;
        if fetched.status == 400 && first && !spaced {
            // The server may read only the spec text's form of the range: ask once so (the
            // refused answer is no page).
            spaced = true;
            run.report.pages -= 1;
            continue;
        }
        first = false;
        let (objects, last, read, more) =
            match answer(fetched, url.as_str(), start, size).map_err(|e| run.failed(e))? {
                Answer::End => break,
                Answer::Page {
                    objects,
                    last,
                    read,
                    more,
                } => (objects, last, read, more),
            };
        let mut converted = Vec::with_capacity(objects.len());
        for raw in &objects {
            match stix20::to_stix21(raw) {
                Ok(mut object) => {
                    taxii::mark_object(&mut object, &run.settings.markings);
                    let text = Value::Object(object).to_string();
                    converted.push(RawValue::from_string(text).expect("JSON text"));
                }
                Err(reason) => {
                    run.report.skipped += 1;
                    run.note(&format!("skipped: {reason}"));
                    tracing::warn!(feed = %run.record.name, reason = %excerpt(&reason, 300),
                        "STIX 2.0 object not converted");
                }
            }
        }
        run.store(&converted).await?;
        start = read;
        newest = last.or(newest);
        run.state.cursor = Some(
            Cursor {
                since: since.clone(),
                start,
            }
            .to_string(),
        );
        run.checkpoint().await?;
        if !more {
            break;
        }
    }
    // Everything added after `since` is read: the next run asks for what comes after the
    // newest date seen (or, if the source gives none, goes on counting items).
    if let Some(newest) = newest {
        run.state.cursor = Some(newest);
        run.checkpoint().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_what_they_did_not_write() {
        let cases = [
            (Cursor::default(), "@0"),
            (
                Cursor {
                    since: Some("2026-01-01T00:00:00.000Z".into()),
                    start: 0,
                },
                "2026-01-01T00:00:00.000Z",
            ),
            (
                Cursor {
                    since: Some("2026-01-01T00:00:00.123456Z".into()),
                    start: 2000,
                },
                "2026-01-01T00:00:00.123456Z @2000",
            ),
            (
                Cursor {
                    since: None,
                    start: 7,
                },
                "@7",
            ),
        ];
        for (cursor, text) in cases {
            assert_eq!(cursor.to_string(), text);
            assert_eq!(Cursor::parse(Some(text)).unwrap(), cursor, "{text}");
        }
        assert_eq!(Cursor::parse(None).unwrap(), Cursor::default());
        for bad in ["yesterday", "@x", "2026-01-01T00:00:00Z @-1", "@", "x @3"] {
            assert!(Cursor::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn content_ranges_are_read_strictly() {
        assert_eq!(
            content_range("items 0-999/5000"),
            Some((0, 999, Some(5000)))
        );
        assert_eq!(content_range("items 10-49/*"), Some((10, 49, None)));
        for bad in [
            "items */500",
            "bytes 0-9/10",
            "items 0-9",
            "items 9-0/10",
            "items +1-9/10",
            "items 0-9/10 ",
            "items 0--9/10",
            "items 0-99999999999999999999/1",
        ] {
            assert_eq!(content_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn ranges_are_written_both_ways() {
        assert_eq!(range(0, 1000, false), "items=0-999");
        assert_eq!(range(2000, 50, true), "items 2000-2049");
    }
}
