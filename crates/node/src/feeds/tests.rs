//! Feeds over a real SQLite store, reading from a scripted source behind the [`Fetch`]
//! trait (real HTTP is the Python test's): adding refuses every bad subscription, lists
//! are idempotent and revoke what disappears, TAXII pulls page and resume after a failure.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use comity_store::{ApiRoot, CollectionRef, ObjectFilter, PageRequest, VersionFilter};
use comity_store_sqlite::SqliteStore;
use serde_json::{json, Value};

use super::*;
use crate::federation::test_nodes::signer;

const ROOT: &str = "default";
const AMBER: &str = comity_stix::tlp::TLP2_AMBER;

struct Fixture {
    node: Node,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let node = Node::new(Arc::new(store), signer(1)).unwrap();
    node.store()
        .create_api_root(ApiRoot {
            name: ROOT.into(),
            title: "default".into(),
            description: None,
            max_content_length: 10_000_000,
        })
        .await
        .unwrap();
    for (id, view) in [
        ("intel", None),
        ("view", Some(r#"{"source":"intel"}"#.to_owned())),
    ] {
        node.store()
            .create_collection(Collection {
                id: id.into(),
                api_root: ROOT.into(),
                title: id.into(),
                description: None,
                view,
                origin: None,
            })
            .await
            .unwrap();
    }
    Fixture { node, _dir: dir }
}

fn new_feed(name: &str, kind: FeedKind, url: &str) -> NewFeed {
    NewFeed {
        name: name.into(),
        kind,
        url: url.into(),
        api_root: ROOT.into(),
        collection: "intel".into(),
        interval_secs: 3600,
        markings: vec!["amber".into()],
        valid_days: None,
        confidence: None,
        column: None,
        page_size: None,
        credential: None,
        allow_http: false,
    }
}

/// A source that answers from a script: a list's text, or a TAXII collection of indicators
/// paged as a TAXII 2.1 server pages them (or, asked with a `Range`, as a TAXII 2.0 server
/// does), or failures while `failing` is set.
#[derive(Default)]
struct Source {
    list: Mutex<String>,
    /// The collection: (date_added, object).
    objects: Mutex<Vec<(String, Value)>>,
    /// Answers the next requests with these statuses first.
    failures: Mutex<VecDeque<u16>>,
    /// Every URL asked, with the credential sent.
    asked: Mutex<Vec<(String, Option<Credential>)>>,
    /// Every `Range` asked.
    ranges: Mutex<Vec<String>>,
    /// The largest page it serves, whatever the limit asked.
    page: usize,
    /// TAXII 2.0: reads only the spec text's `items A-B`, refusing `items=A-B` with 400.
    spaced_only: bool,
}

#[async_trait]
impl Fetch for Source {
    async fn get(&self, request: FetchRequest<'_>) -> Result<Fetched, String> {
        self.asked
            .lock()
            .unwrap()
            .push((request.url.to_owned(), request.credential.cloned()));
        if let Some(status) = self.failures.lock().unwrap().pop_front() {
            return Ok(Fetched {
                status,
                body: b"temporarily unavailable".to_vec(),
                ..Fetched::default()
            });
        }
        let url = url::Url::parse(request.url).unwrap();
        if !url.path().ends_with("/objects/") {
            return Ok(Fetched {
                status: 200,
                body: self.list.lock().unwrap().clone().into_bytes(),
                ..Fetched::default()
            });
        }
        let query: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        let after = query.get("added_after").cloned().unwrap_or_default();
        if let Some(range) = request.range {
            assert_eq!(
                request.accept,
                "application/vnd.oasis.stix+json; version=2.0"
            );
            self.ranges.lock().unwrap().push(range.to_owned());
            if self.spaced_only && range.starts_with("items=") {
                return Ok(Fetched {
                    status: 400,
                    body: br#"{"title": "Bad Range header supplied"}"#.to_vec(),
                    ..Fetched::default()
                });
            }
            return Ok(self.range_of(&after, range));
        }
        let skip: usize = query.get("next").map_or(0, |n| n.parse().unwrap());
        let limit: usize = query["limit"].parse::<usize>().unwrap().min(self.page);
        let objects = self.objects.lock().unwrap();
        let matching: Vec<&(String, Value)> =
            objects.iter().filter(|(added, _)| *added > after).collect();
        let page: Vec<&(String, Value)> = matching.iter().skip(skip).take(limit).copied().collect();
        let more = skip + page.len() < matching.len();
        let mut headers = Vec::new();
        if let Some((last, _)) = page.last() {
            headers.push(("x-taxii-date-added-last".into(), last.clone()));
        }
        let mut envelope = json!({
            "more": more,
            "objects": page.iter().map(|(_, o)| o.clone()).collect::<Vec<_>>(),
        });
        if more {
            envelope["next"] = json!((skip + page.len()).to_string());
        }
        Ok(Fetched {
            status: 200,
            headers,
            body: envelope.to_string().into_bytes(),
        })
    }
}

impl Source {
    /// The answer of a TAXII 2.0 server to a request for `range` (`items=A-B`) of what was
    /// added after `after`: a STIX 2.0 bundle, 206 with Content-Range, or 416.
    fn range_of(&self, after: &str, range: &str) -> Fetched {
        let (first, last) = range
            .strip_prefix("items=")
            .or_else(|| range.strip_prefix("items "))
            .and_then(|r| r.split_once('-'))
            .map(|(a, b)| (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()))
            .unwrap();
        let objects = self.objects.lock().unwrap();
        let matching: Vec<&(String, Value)> = objects
            .iter()
            .filter(|(added, _)| added.as_str() > after)
            .collect();
        let total = matching.len();
        if first >= total && total > 0 {
            return Fetched {
                status: 416,
                headers: vec![("content-range".into(), format!("items */{total}"))],
                ..Fetched::default()
            };
        }
        let end = last.min(first + self.page - 1).min(total.saturating_sub(1));
        let page: Vec<&(String, Value)> = matching.get(first..=end).unwrap_or_default().to_vec();
        let mut headers = vec![(
            "content-range".to_owned(),
            format!("items {first}-{end}/{total}"),
        )];
        if let Some((added, _)) = page.last() {
            headers.push(("x-taxii-date-added-last".into(), added.clone()));
        }
        let bundle = json!({"type": "bundle", "spec_version": "2.0",
            "id": "bundle--00000000-0000-4000-8000-000000000000",
            "objects": page.iter().map(|(_, o)| o.clone()).collect::<Vec<_>>()});
        Fetched {
            status: 206,
            headers,
            body: bundle.to_string().into_bytes(),
        }
    }

    /// Adds STIX 2.0 indicators `from..to`, all added at `added` (as one POST adds them);
    /// every tenth carries the TLP 1.0 RED marking.
    fn publish20(&self, range: std::ops::Range<u32>, added: &str) {
        let mut objects = self.objects.lock().unwrap();
        for n in range {
            let mut o = json!({
                "type": "indicator",
                "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
                "created": "2017-01-01T00:00:00.000Z", "modified": "2017-01-01T00:00:00.000Z",
                "labels": ["malicious-activity"],
                "pattern": format!("[ipv4-addr:value = '10.1.{}.{}']", n / 256, n % 256),
                "valid_from": "2017-01-01T00:00:00Z",
            });
            if n % 10 == 0 {
                o["object_marking_refs"] = json!([comity_stix::tlp::TLP1_RED]);
            }
            objects.push((added.to_owned(), o));
        }
    }

    fn taxii(page: usize) -> Source {
        Source {
            page,
            ..Source::default()
        }
    }

    /// Adds indicators `from..to` to the collection; every tenth carries RED.
    fn publish(&self, range: std::ops::Range<u32>) {
        let mut objects = self.objects.lock().unwrap();
        for n in range {
            let mut o = json!({
                "type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                "pattern": format!("[ipv4-addr:value = '10.0.{}.{}']", n / 256, n % 256),
                "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
            });
            if n % 10 == 0 {
                o["object_marking_refs"] = json!([comity_stix::tlp::TLP2_RED]);
            }
            objects.push((format!("2026-02-01T00:00:00.{n:06}Z"), o));
        }
    }
}

async fn stored(node: &Node, all_versions: bool) -> Vec<Value> {
    let filter = ObjectFilter {
        versions: if all_versions {
            VersionFilter::all()
        } else {
            VersionFilter::last()
        },
        ..ObjectFilter::default()
    };
    let collection = CollectionRef {
        api_root: ROOT.into(),
        id: "intel".into(),
    };
    let page = node
        .store()
        .objects(
            &collection,
            &filter,
            &PageRequest {
                limit: 100_000,
                after: None,
            },
        )
        .await
        .unwrap();
    page.items
        .iter()
        .map(|o| serde_json::from_str(&o.json).unwrap())
        .collect()
}

fn quiet(_: &RunReport) {}

#[tokio::test]
async fn bad_subscriptions_are_refused_precisely_and_store_nothing() {
    let f = fixture().await;
    let ok = || new_feed("ok", FeedKind::List, "https://feeds.example/list.txt");
    let cases: Vec<(NewFeed, &str)> = vec![
        (
            NewFeed {
                name: "".into(),
                ..ok()
            },
            "name:",
        ),
        (
            NewFeed {
                name: "../etc".into(),
                ..ok()
            },
            "name:",
        ),
        (
            NewFeed {
                url: "not a url".into(),
                ..ok()
            },
            "url:",
        ),
        (
            NewFeed {
                url: "http://feeds.example/x".into(),
                ..ok()
            },
            "plain http off loopback",
        ),
        (
            NewFeed {
                url: "ftp://feeds.example/x".into(),
                ..ok()
            },
            "scheme",
        ),
        (
            NewFeed {
                collection: "nope".into(),
                ..ok()
            },
            "no collection \"nope\"",
        ),
        (
            NewFeed {
                api_root: "nope".into(),
                ..ok()
            },
            "collection:",
        ),
        (
            NewFeed {
                collection: "view".into(),
                ..ok()
            },
            "plain collections",
        ),
        (
            NewFeed {
                interval_secs: 59,
                ..ok()
            },
            "interval:",
        ),
        (
            NewFeed {
                interval_secs: 31 * 86_400,
                ..ok()
            },
            "interval:",
        ),
        (
            NewFeed {
                markings: vec!["purple".into()],
                ..ok()
            },
            "markings:",
        ),
        (
            NewFeed {
                markings: vec!["red".into(), "green".into()],
                ..ok()
            },
            "one TLP",
        ),
        (
            NewFeed {
                confidence: Some(101),
                ..ok()
            },
            "confidence:",
        ),
        (
            NewFeed {
                valid_days: Some(0),
                ..ok()
            },
            "valid_days:",
        ),
        (
            NewFeed {
                column: Some(0),
                ..ok()
            },
            "column:",
        ),
        (
            NewFeed {
                url: "http://feeds.example/x".into(),
                allow_http: true,
                credential: Some(Credential::Bearer { token: "t".into() }),
                ..ok()
            },
            "credential:",
        ),
        (
            new_feed("t", FeedKind::Taxii, "https://taxii.example/api/"),
            "collections",
        ),
        (
            NewFeed {
                confidence: Some(50),
                ..new_feed(
                    "t",
                    FeedKind::Taxii,
                    "https://taxii.example/api/collections/c/",
                )
            },
            "list feeds only",
        ),
        (
            NewFeed {
                column: Some(2),
                ..new_feed(
                    "t20",
                    FeedKind::Taxii20,
                    "https://taxii.example/api1/collections/c/",
                )
            },
            "list feeds only",
        ),
        (
            new_feed("t20", FeedKind::Taxii20, "https://taxii.example/api1/"),
            "collections",
        ),
    ];
    for (feed, expected) in cases {
        let name = feed.name.clone();
        match add(&f.node, feed).await {
            Err(FeedError::Invalid(why)) => assert!(why.contains(expected), "{name}: {why}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!("taxii20".parse::<FeedKind>().unwrap(), FeedKind::Taxii20);
    assert!(matches!(
        "rss".parse::<FeedKind>(),
        Err(FeedError::Invalid(why)) if why.contains("unknown feed kind \"rss\"")
    ));
    assert!(list(&f.node).await.unwrap().is_empty());
    // The good one is taken once; its markings are resolved to the TLP 2.0 id.
    let view = add(&f.node, ok()).await.unwrap();
    assert_eq!(view.markings, [AMBER]);
    assert!(matches!(
        add(&f.node, ok()).await,
        Err(FeedError::Exists(_))
    ));
    assert!(matches!(
        remove(&f.node, "nope").await,
        Err(FeedError::NotFound(_))
    ));
    remove(&f.node, "ok").await.unwrap();
    assert!(list(&f.node).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_list_is_idempotent_and_revokes_what_disappears() {
    let f = fixture().await;
    let source = Source::default();
    *source.list.lock().unwrap() =
        "# blocklist\n203.0.113.9\nevil.example\n<script>alert(1)</script>\n".into();
    let feed = NewFeed {
        valid_days: Some(30),
        confidence: Some(80),
        ..new_feed("block", FeedKind::List, "https://feeds.example/block.txt")
    };
    add(&f.node, feed).await.unwrap();
    let first = run(&f.node, &source, "block", &quiet).await.unwrap();
    assert_eq!((first.stored, first.skipped, first.revoked), (2, 1, 0));
    let objects = stored(&f.node, true).await;
    assert_eq!(objects.len(), 2);
    for o in &objects {
        assert_eq!(o["object_marking_refs"], json!([AMBER]));
        assert_eq!(o["confidence"], 80);
        assert!(o.get("valid_until").is_some());
    }
    // The same list again: nothing new.
    let again = run(&f.node, &source, "block", &quiet).await.unwrap();
    assert!(again.unchanged);
    assert_eq!(again.stored, 0);
    // Reordered, commented, duplicated: same values, nothing new either.
    *source.list.lock().unwrap() = "evil.example\n# x\n203.0.113.9\nEVIL.example.\n".into();
    let reordered = run(&f.node, &source, "block", &quiet).await.unwrap();
    assert_eq!((reordered.stored, reordered.revoked), (0, 0));
    // One value gone, one new: one indicator, one revocation.
    *source.list.lock().unwrap() = "evil.example\nhttps://bad.example/x'y\n".into();
    let changed = run(&f.node, &source, "block", &quiet).await.unwrap();
    assert_eq!((changed.stored, changed.revoked), (2, 1));
    let latest = stored(&f.node, false).await;
    assert_eq!(latest.len(), 3);
    let first_life = list::Life {
        created: 0,
        renewed: false,
    };
    let ip_id = list::indicator_id("block", &list::classify("203.0.113.9").unwrap(), first_life);
    let revoked = latest.iter().find(|o| o["id"] == ip_id.as_str()).unwrap();
    assert_eq!(revoked["revoked"], true);
    let original = objects.iter().find(|o| o["id"] == ip_id.as_str()).unwrap();
    assert_eq!(revoked["created"], original["created"]);
    assert_ne!(revoked["modified"], original["modified"]);
    assert_eq!(stored(&f.node, true).await.len(), 4);
    let view = &list(&f.node).await.unwrap()[0];
    assert_eq!((view.runs, view.objects, view.failures), (4, 4, 0));
    // The revoked value comes back: a new indicator, the revoked one stays revoked; gone
    // again, the new one is revoked in turn.
    *source.list.lock().unwrap() = "evil.example\n203.0.113.9\n".into();
    let back = run(&f.node, &source, "block", &quiet).await.unwrap();
    assert_eq!(
        (back.stored, back.revoked),
        (2, 1),
        "new ip indicator, url revoked"
    );
    let latest = stored(&f.node, false).await;
    let ips: Vec<&Value> = latest
        .iter()
        .filter(|o| o["pattern"] == "[ipv4-addr:value = '203.0.113.9']")
        .collect();
    assert_eq!(ips.len(), 2);
    assert_eq!(ips.iter().filter(|o| o["revoked"] == true).count(), 1);
    *source.list.lock().unwrap() = "evil.example\n".into();
    let gone_again = run(&f.node, &source, "block", &quiet).await.unwrap();
    assert_eq!((gone_again.stored, gone_again.revoked), (1, 1));
    let latest = stored(&f.node, false).await;
    assert!(latest
        .iter()
        .filter(|o| o["pattern"] == "[ipv4-addr:value = '203.0.113.9']")
        .all(|o| o["revoked"] == true));
}

#[tokio::test]
async fn a_taxii_pull_pages_marks_the_unmarked_and_then_reads_only_what_is_new() {
    let f = fixture().await;
    let source = Source::taxii(1000);
    source.publish(0..2500);
    let mut feed = new_feed(
        "peer",
        FeedKind::Taxii,
        "https://taxii.example/api/collections/c1/",
    );
    feed.credential = Some(Credential::Bearer {
        token: "secret-token".into(),
    });
    add(&f.node, feed).await.unwrap();
    let seen = Mutex::new(Vec::new());
    let progress = |r: &RunReport| seen.lock().unwrap().push(r.stored);
    let first = run(&f.node, &source, "peer", &progress).await.unwrap();
    assert_eq!((first.stored, first.pages), (2500, 3));
    assert_eq!(*seen.lock().unwrap(), [1000, 2000, 2500]);
    let objects = stored(&f.node, true).await;
    assert_eq!(objects.len(), 2500);
    let red = objects
        .iter()
        .filter(|o| o["object_marking_refs"] == json!([comity_stix::tlp::TLP2_RED]))
        .count();
    assert_eq!(red, 250, "marked objects keep their markings");
    let amber = objects
        .iter()
        .filter(|o| o["object_marking_refs"] == json!([AMBER]))
        .count();
    assert_eq!(amber, 2250);
    // Every request carried the credential, which no listing shows.
    assert!(source.asked.lock().unwrap().iter().all(|(_, c)| c
        == &Some(Credential::Bearer {
            token: "secret-token".into()
        })));
    let listed = serde_json::to_string(&list(&f.node).await.unwrap()).unwrap();
    assert!(!listed.contains("secret-token"));
    assert!(listed.contains("\"authenticated\":true"));
    // Only what is new comes next time, asked for after the last date seen.
    source.publish(2500..2510);
    source.asked.lock().unwrap().clear();
    let second = run(&f.node, &source, "peer", &quiet).await.unwrap();
    assert_eq!((second.stored, second.already, second.pages), (10, 0, 1));
    let asked = source.asked.lock().unwrap()[0].0.clone();
    assert!(
        asked.contains("added_after=2026-02-01T00%3A00%3A00.002499Z"),
        "{asked}"
    );
    assert_eq!(stored(&f.node, true).await.len(), 2510);
}

#[tokio::test]
async fn a_failed_pull_keeps_its_cursor_backs_off_and_resumes_where_it_stopped() {
    let f = fixture().await;
    let source = Source::taxii(100);
    source.publish(0..300);
    add(
        &f.node,
        new_feed(
            "peer",
            FeedKind::Taxii,
            "https://taxii.example/api/collections/c1/",
        ),
    )
    .await
    .unwrap();
    // The first page is served, the second fails.
    let failing = FailAfter {
        inner: &source,
        served: Mutex::new(0),
        after: 1,
    };
    let before = now_us();
    let err = run(&f.node, &failing, "peer", &quiet).await.unwrap_err();
    assert!(err.to_string().contains("answered 503"), "{err}");
    let view = &list(&f.node).await.unwrap()[0];
    assert_eq!(view.failures, 1);
    assert_eq!(view.objects, 100, "the first page stays stored and counted");
    assert_eq!(view.cursor.as_deref(), Some("2026-02-01T00:00:00.000099Z"));
    assert!(view.last_error.as_deref().unwrap().contains("503"));
    let next = comity_stix::clock::parse_us(&view.next_run).unwrap();
    assert!(next >= before + 30_000_000 && next <= now_us() + 30_000_000);
    // A second failure doubles the wait.
    source.failures.lock().unwrap().push_back(500);
    run(&f.node, &source, "peer", &quiet).await.unwrap_err();
    assert_eq!(list(&f.node).await.unwrap()[0].failures, 2);
    // The source is back: the run resumes after the first page.
    source.asked.lock().unwrap().clear();
    let resumed = run(&f.node, &source, "peer", &quiet).await.unwrap();
    assert_eq!((resumed.stored, resumed.already), (200, 0));
    let view = &list(&f.node).await.unwrap()[0];
    assert_eq!((view.failures, view.failed_runs, view.runs), (0, 2, 3));
    assert_eq!(view.last_error, None);
    assert_eq!(stored(&f.node, true).await.len(), 300);
}

/// Serves `after` pages from `inner`, then answers 503.
struct FailAfter<'a> {
    inner: &'a Source,
    served: Mutex<usize>,
    after: usize,
}

#[async_trait]
impl Fetch for FailAfter<'_> {
    async fn get(&self, request: FetchRequest<'_>) -> Result<Fetched, String> {
        let served = {
            let mut served = self.served.lock().unwrap();
            *served += 1;
            *served
        };
        if served > self.after {
            return Ok(Fetched {
                status: 503,
                ..Fetched::default()
            });
        }
        self.inner.get(request).await
    }
}

#[tokio::test]
async fn malformed_pages_and_unreachable_sources_fail_without_storing() {
    let f = fixture().await;
    add(
        &f.node,
        new_feed(
            "peer",
            FeedKind::Taxii,
            "https://taxii.example/api/collections/c1/",
        ),
    )
    .await
    .unwrap();
    struct Broken(&'static [u8]);
    #[async_trait]
    impl Fetch for Broken {
        async fn get(&self, _: FetchRequest<'_>) -> Result<Fetched, String> {
            match self.0 {
                b"" => Err("connection refused".into()),
                body => Ok(Fetched {
                    status: 200,
                    body: body.to_vec(),
                    ..Fetched::default()
                }),
            }
        }
    }
    for (body, expected) in [
        (&b""[..], "connection refused"),
        (b"{\"objects\": 5}", "no TAXII envelope"),
        (b"<html>", "no TAXII envelope"),
    ] {
        let err = run(&f.node, &Broken(body), "peer", &quiet)
            .await
            .unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
    }
    // Invalid objects in a good envelope are refused one by one; the rest is stored.
    let page = br#"{"objects":[{"type":"indicator","id":"indicator--x"},
        {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001",
         "created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
         "pattern":"[domain-name:value = 'x.example']","pattern_type":"stix",
         "valid_from":"2026-01-01T00:00:00Z"}]}"#;
    let report = run(&f.node, &Broken(page), "peer", &quiet).await.unwrap();
    assert_eq!((report.stored, report.refused), (1, 1));
    let view = &list(&f.node).await.unwrap()[0];
    assert_eq!((view.failures, view.failed_runs, view.objects), (0, 3, 1));
    assert!(matches!(
        run(&f.node, &Broken(page), "nope", &quiet).await,
        Err(FeedError::NotFound(_))
    ));
}

#[test]
fn retries_double_from_thirty_seconds_up_to_the_caps() {
    assert_eq!(retry_after(1, 3600), 30);
    assert_eq!(retry_after(2, 3600), 60);
    assert_eq!(retry_after(3, 3600), 120);
    assert_eq!(retry_after(8, 3600), 3600, "never beyond the interval");
    assert_eq!(retry_after(40, 86_400), MAX_RETRY_SECS);
    assert_eq!(retry_after(u64::MAX, 86_400), MAX_RETRY_SECS);
}

fn taxii20_feed(page_size: usize) -> NewFeed {
    NewFeed {
        page_size: Some(page_size),
        ..new_feed(
            "peer20",
            FeedKind::Taxii20,
            "https://taxii20.example/api1/collections/c1/",
        )
    }
}

#[tokio::test]
async fn a_taxii20_pull_pages_by_range_converts_marks_and_then_reads_only_what_is_new() {
    let f = fixture().await;
    let source = Source::taxii(1000);
    source.publish20(0..1500, "2026-03-01T00:00:00.000001Z");
    source.publish20(1500..2500, "2026-03-01T00:00:00.000002Z");
    add(&f.node, taxii20_feed(1000)).await.unwrap();
    let first = run(&f.node, &source, "peer20", &quiet).await.unwrap();
    assert_eq!((first.stored, first.skipped, first.pages), (2500, 0, 3));
    assert_eq!(
        *source.ranges.lock().unwrap(),
        ["items=0-999", "items=1000-1999", "items=2000-2999"]
    );
    let objects = stored(&f.node, true).await;
    assert_eq!(objects.len(), 2500);
    for o in &objects {
        assert_eq!(o["spec_version"], "2.1");
        assert_eq!(o["pattern_type"], "stix");
        assert_eq!(o["indicator_types"], json!(["malicious-activity"]));
        assert_eq!(o["labels"], json!(["malicious-activity"]));
    }
    let red = objects
        .iter()
        .filter(|o| o["object_marking_refs"] == json!([comity_stix::tlp::TLP1_RED]))
        .count();
    assert_eq!(red, 250, "TLP 1.0 markings are kept");
    let amber = objects
        .iter()
        .filter(|o| o["object_marking_refs"] == json!([AMBER]))
        .count();
    assert_eq!(amber, 2250, "the unmarked get the feed's marking");
    let view = &list(&f.node).await.unwrap()[0];
    assert_eq!(view.kind, "taxii20");
    assert_eq!(view.cursor.as_deref(), Some("2026-03-01T00:00:00.000002Z"));
    // Only what is new comes next time, asked for after the last date seen.
    source.publish20(2500..2510, "2026-03-02T00:00:00.000000Z");
    source.asked.lock().unwrap().clear();
    source.ranges.lock().unwrap().clear();
    let second = run(&f.node, &source, "peer20", &quiet).await.unwrap();
    assert_eq!((second.stored, second.already, second.pages), (10, 0, 1));
    let asked = source.asked.lock().unwrap()[0].0.clone();
    assert!(
        asked.ends_with("/objects/?added_after=2026-03-01T00%3A00%3A00.000002Z"),
        "{asked}"
    );
    assert_eq!(*source.ranges.lock().unwrap(), ["items=0-999"]);
    // Nothing new: one empty range, nothing stored, the cursor kept.
    let third = run(&f.node, &source, "peer20", &quiet).await.unwrap();
    assert_eq!((third.stored, third.pages), (0, 1));
    let view = &list(&f.node).await.unwrap()[0];
    assert_eq!(view.cursor.as_deref(), Some("2026-03-02T00:00:00.000000Z"));
    assert_eq!(view.objects, 2510);
}

#[tokio::test]
async fn a_taxii20_pull_resumes_at_the_range_it_did_not_finish_when_objects_share_a_date() {
    let f = fixture().await;
    let source = Source::taxii(100);
    // One POST of 300 objects: one date added for all of them.
    source.publish20(0..300, "2026-03-01T00:00:00.000000Z");
    add(&f.node, taxii20_feed(100)).await.unwrap();
    let failing = FailAfter {
        inner: &source,
        served: Mutex::new(0),
        after: 1,
    };
    let err = run(&f.node, &failing, "peer20", &quiet).await.unwrap_err();
    assert!(err.to_string().contains("answered 503"), "{err}");
    let view = &list(&f.node).await.unwrap()[0];
    assert_eq!(
        view.cursor.as_deref(),
        Some("@100"),
        "items read, not the date"
    );
    assert_eq!(view.objects, 100);
    source.asked.lock().unwrap().clear();
    source.ranges.lock().unwrap().clear();
    let resumed = run(&f.node, &source, "peer20", &quiet).await.unwrap();
    assert_eq!((resumed.stored, resumed.already), (200, 0));
    assert_eq!(
        *source.ranges.lock().unwrap(),
        ["items=100-199", "items=200-299"]
    );
    assert!(!source.asked.lock().unwrap()[0].0.contains("added_after"));
    assert_eq!(stored(&f.node, true).await.len(), 300);
    let view = &list(&f.node).await.unwrap()[0];
    assert_eq!(view.cursor.as_deref(), Some("2026-03-01T00:00:00.000000Z"));
    assert_eq!((view.failures, view.objects), (0, 300));
}

/// Answers every request with the same answer.
struct Scripted(Fetched);

#[async_trait]
impl Fetch for Scripted {
    async fn get(&self, _: FetchRequest<'_>) -> Result<Fetched, String> {
        Ok(self.0.clone())
    }
}

fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Scripted {
    Scripted(Fetched {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.as_bytes().to_vec(),
    })
}

fn indicator20(n: u32) -> Value {
    json!({"type": "indicator", "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
        "created": "2017-01-01T00:00:00.000Z", "modified": "2017-01-01T00:00:00.000Z",
        "labels": ["malicious-activity"], "pattern": "[ipv4-addr:value = '10.9.9.9']",
        "valid_from": "2017-01-01T00:00:00Z"})
}

fn bundle20(objects: &[Value]) -> String {
    json!({"type": "bundle", "spec_version": "2.0",
        "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objects})
    .to_string()
}

#[tokio::test]
async fn bad_taxii20_pages_fail_whole_and_store_nothing() {
    let f = fixture().await;
    add(&f.node, taxii20_feed(2)).await.unwrap();
    let two = bundle20(&[indicator20(1), indicator20(2)]);
    let three = bundle20(&[indicator20(1), indicator20(2), indicator20(3)]);
    let date = ("x-taxii-date-added-last", "2026-03-01T00:00:00Z");
    let cases = [
        (
            answer(
                206,
                &[("content-range", "items 0-1/2")],
                r#"{"more":false,"objects":[]}"#,
            ),
            "answered no STIX 2.0 bundle",
        ),
        (
            answer(
                206,
                &[],
                r#"{"type":"bundle","objects":5,"spec_version":"2.0"}"#,
            ),
            "answered no STIX 2.0 bundle: invalid type: integer `5`",
        ),
        (
            answer(206, &[], r#"{"type":"bundle","objects":[]}"#),
            "(type \"bundle\", spec_version None)",
        ),
        (
            answer(206, &[], r#"{"type":"identity","spec_version":"2.0"}"#),
            "(type \"identity\"",
        ),
        (
            answer(206, &[], "<html>\u{1b}[31m"),
            "answered no STIX 2.0 bundle",
        ),
        (
            answer(200, &[], &three),
            "answered 3 objects for a range of 2: more than asked for",
        ),
        (
            answer(206, &[("content-range", "items 0-2/3")], &three),
            "answered 3 objects for a range of 2",
        ),
        (
            answer(206, &[("content-range", "items 5-6/10")], &two),
            "answered items 5-6 with 2 objects to a request from item 0",
        ),
        (
            answer(206, &[("content-range", "items 0-4/10")], &two),
            "answered items 0-4 with 2 objects",
        ),
        (
            answer(206, &[("content-range", "bytes 0-1/2")], &two),
            "answered Content-Range \"bytes 0-1/2\"",
        ),
        (answer(206, &[], &two), "answered 206 without Content-Range"),
        (
            answer(
                206,
                &[
                    ("content-range", "items 0-1/2"),
                    ("x-taxii-date-added-last", "<script>\u{7}"),
                ],
                &two,
            ),
            "X-TAXII-Date-Added-Last \"<script>\" is not a timestamp",
        ),
        (answer(204, &[date], ""), "answered 204, not 200 or 206"),
        (answer(500, &[], "down"), "answered 500: down"),
    ];
    for (i, (fetch, expected)) in cases.into_iter().enumerate() {
        let err = run(&f.node, &fetch, "peer20", &quiet).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains(expected), "case {i}: {text}");
        assert!(!text.chars().any(char::is_control), "case {i}: {text:?}");
    }
    assert!(stored(&f.node, true).await.is_empty(), "nothing stored");
    let view = &list(&f.node).await.unwrap()[0];
    assert_eq!((view.cursor.as_deref(), view.objects), (None, 0));
    // A collection that shrank below what was read is not silently read as empty.
    let shrunk = answer(416, &[("content-range", "items */1")], "");
    f.node
        .store()
        .save_feed_state(
            "peer20",
            &FeedState {
                cursor: Some("@5".into()),
                ..FeedState::default()
            },
        )
        .await
        .unwrap();
    let err = run(&f.node, &shrunk, "peer20", &quiet).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("holds 1 items after the cursor, fewer than the 5 read"),
        "{err}"
    );
    let past_end = answer(416, &[("content-range", "items */5")], "");
    let report = run(&f.node, &past_end, "peer20", &quiet).await.unwrap();
    assert_eq!((report.stored, report.pages), (0, 1));
}

#[tokio::test]
async fn unconvertible_taxii20_objects_are_skipped_with_their_reasons_the_rest_stored() {
    let f = fixture().await;
    add(&f.node, taxii20_feed(10)).await.unwrap();
    let mut v21 = indicator20(3);
    v21["spec_version"] = json!("2.1");
    let mut no_valid_from = indicator20(4);
    no_valid_from.as_object_mut().unwrap().remove("valid_from");
    let mut hostile = indicator20(5);
    hostile["id"] = json!("indicator--\u{1b}[2J<script>");
    let mut bad_pattern = indicator20(6);
    bad_pattern["pattern"] = json!("[ipv4-addr:value = ");
    let mut named = indicator20(7);
    named["name"] = json!("<img src=x onerror=alert(1)>\u{202e}");
    let page = bundle20(&[
        indicator20(1),
        json!("a string"),
        json!({"type": "grouping", "id": "grouping--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3"}),
        v21,
        no_valid_from,
        hostile,
        bad_pattern,
        named,
    ]);
    let fetch = answer(
        206,
        &[
            ("content-range", "items 0-7/8"),
            ("x-taxii-date-added-last", "2026-03-01T00:00:00.5Z"),
        ],
        &page,
    );
    let report = run(&f.node, &fetch, "peer20", &quiet).await.unwrap();
    assert_eq!(
        (report.stored, report.skipped, report.refused),
        (2, 5, 1),
        "{:?}",
        report.reasons
    );
    let reasons = report.reasons.join("\n");
    for expected in [
        "skipped: not a JSON object",
        "skipped: grouping--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3: \"grouping\" is not a STIX 2.0 object type",
        "skipped: indicator--00000000-0000-4000-8000-000000000003: carries spec_version \"2.1\"",
        "skipped: indicator--00000000-0000-4000-8000-000000000004: not valid STIX 2.1 once converted",
        "skipped: indicator--[2J<script>: not valid STIX 2.1 once converted",
        "indicator--00000000-0000-4000-8000-000000000006: refused: ",
    ] {
        assert!(reasons.contains(expected), "{expected}\n{reasons}");
    }
    assert!(!report
        .reasons
        .iter()
        .any(|r| r.chars().any(char::is_control)));
    let objects = stored(&f.node, true).await;
    let named = objects
        .iter()
        .find(|o| o["id"] == "indicator--00000000-0000-4000-8000-000000000007")
        .unwrap();
    assert_eq!(named["name"], "<img src=x onerror=alert(1)>\u{202e}");
    let view = &list(&f.node).await.unwrap()[0];
    assert_eq!(view.cursor.as_deref(), Some("2026-03-01T00:00:00.5Z"));
}

#[tokio::test]
async fn a_taxii20_server_that_reads_only_the_spec_texts_range_form_is_asked_so() {
    let f = fixture().await;
    let source = Source {
        spaced_only: true,
        ..Source::taxii(100)
    };
    source.publish20(0..150, "2026-03-01T00:00:00.000000Z");
    add(&f.node, taxii20_feed(100)).await.unwrap();
    let report = run(&f.node, &source, "peer20", &quiet).await.unwrap();
    assert_eq!(
        (report.stored, report.pages),
        (150, 2),
        "the refused form is no page"
    );
    assert_eq!(
        *source.ranges.lock().unwrap(),
        ["items=0-99", "items 0-99", "items 100-199"]
    );
    // A 400 to the spec text's form too is the run's failure.
    let refusing = answer(400, &[], "bad range");
    let err = run(&f.node, &refusing, "peer20", &quiet).await.unwrap_err();
    assert!(err.to_string().contains("answered 400: bad range"), "{err}");
}
