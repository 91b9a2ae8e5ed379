//! The property of the sharing policy at the TAXII exit: whatever objects are stored (any
//! originator, TLP 1.0 or 2.0 level, handling codes, RED recipients, granular markings) and
//! whatever sequence of reads and registry changes follows, every object a call returns is
//! one the engine allows for that caller at that moment, redacted exactly as it says, and a
//! full listing returns every allowed object. The engine is asked independently here, from
//! the object as posted (a JSON tree, not the server's text reader).

mod common;

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use comity_node::policy::{
    redact, Access, Channel, Decision, MarkedObject, MemberId, Policy, Purpose, Requester,
};
use comity_node::registry::Directory;
use common::{World, A, B, C, PASSWORD, SRC, VIEW_A, VIEW_B};
use proptest::prelude::*;
use serde_json::{json, Value};

const TLP2: [&str; 5] = [
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
];
/// TLP 1.0 WHITE, GREEN, AMBER, RED.
const TLP1: [&str; 4] = [
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
];
const CODES: [&str; 4] = ["H0", "H1", "H2", "H3"];

#[derive(Debug, Clone)]
struct ObjectSpec {
    by: usize,
    marking: Option<&'static str>,
    codes: Vec<usize>,
    red_to: Vec<usize>,
    granular: Option<&'static str>,
    malware: bool,
}

#[derive(Debug, Clone, Copy)]
enum Reader {
    User(&'static str),
    MemberA,
    MemberB,
}

#[derive(Debug, Clone)]
enum Call {
    List {
        reader: Reader,
        collection: &'static str,
        limit: usize,
    },
    One {
        reader: Reader,
        collection: &'static str,
        pick: usize,
    },
    Manifest {
        reader: Reader,
        collection: &'static str,
    },
    Member {
        which: usize,
        suspend: bool,
    },
    Agreement {
        suspend: bool,
    },
}

fn members(i: usize) -> Option<&'static str> {
    [None, Some(A), Some(B), Some(C)][i]
}

fn marking() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        Just(None),
        proptest::sample::select(TLP2.to_vec()).prop_map(Some),
        proptest::sample::select(TLP1.to_vec()).prop_map(Some),
    ]
}

fn object_spec() -> impl Strategy<Value = ObjectSpec> {
    (
        0..4usize,
        marking(),
        proptest::sample::subsequence(vec![0, 1, 2, 3], 0..=2),
        proptest::sample::subsequence(vec![0, 1, 2, 3], 0..=2),
        marking(),
        any::<bool>(),
    )
        .prop_map(
            |(by, marking, codes, red_to, granular, malware)| ObjectSpec {
                by,
                marking,
                codes,
                red_to,
                granular,
                malware,
            },
        )
}

fn reading() -> impl Strategy<Value = (Reader, &'static str)> {
    proptest::sample::select(vec![
        (Reader::User("admin"), SRC),
        (Reader::User("admin"), VIEW_A),
        (Reader::User("admin"), VIEW_B),
        (Reader::User("analyst"), SRC),
        (Reader::User("viewer"), SRC),
        (Reader::User("liaison"), VIEW_A),
        (Reader::MemberA, VIEW_A),
        (Reader::MemberB, VIEW_B),
    ])
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        3 => (reading(), 1..7usize).prop_map(|((reader, collection), limit)| Call::List { reader, collection, limit }),
        2 => (reading(), any::<usize>()).prop_map(|((reader, collection), pick)| Call::One { reader, collection, pick }),
        1 => reading().prop_map(|(reader, collection)| Call::Manifest { reader, collection }),
        1 => (1..4usize, any::<bool>()).prop_map(|(which, suspend)| Call::Member { which, suspend }),
        1 => any::<bool>().prop_map(|suspend| Call::Agreement { suspend }),
    ]
}

fn object(spec: &ObjectSpec, n: u64, local: &str) -> Value {
    let id = format!(
        "{}--{}",
        if spec.malware { "malware" } else { "indicator" },
        uuid::Uuid::new_v4()
    );
    let mut o = json!({
        "type": if spec.malware { "malware" } else { "indicator" },
        "spec_version": "2.1",
        "id": id,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": format!("object {n}"),
        "description": format!("details of object {n}"),
    });
    if spec.malware {
        o["is_family"] = json!(false);
    } else {
        o["pattern"] = json!(format!("[ipv4-addr:value = '198.51.100.{}']", n % 250));
        o["pattern_type"] = json!("stix");
        o["valid_from"] = json!("2026-01-01T00:00:00Z");
    }
    match members(spec.by) {
        Some(m) => o["created_by_ref"] = json!(m),
        None if n.is_multiple_of(2) => o["created_by_ref"] = json!(local),
        None => {}
    }
    if let Some(m) = spec.marking {
        o["object_marking_refs"] = json!([m]);
    }
    if !spec.codes.is_empty() {
        let codes: Vec<&str> = spec.codes.iter().map(|c| CODES[*c]).collect();
        o["x_comity_handling"] = json!({"codes": codes, "restrictions": "ask first"});
    }
    if !spec.red_to.is_empty() {
        let to: Vec<&str> = spec
            .red_to
            .iter()
            .map(|i| members(*i).unwrap_or(local))
            .collect();
        o["x_comity_red_recipients"] = json!(to);
    }
    if let Some(g) = spec.granular {
        o["granular_markings"] = json!([{"selectors": ["description"], "marking_ref": g}]);
    }
    o
}

struct Harness {
    rt: tokio::runtime::Runtime,
    world: World,
    /// Every object posted so far, by id.
    posted: Mutex<BTreeMap<String, Value>>,
    counter: Mutex<u64>,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let world = rt.block_on(common::start());
        Harness {
            rt,
            world,
            posted: Mutex::default(),
            counter: Mutex::default(),
        }
    })
}

fn auth(req: reqwest::RequestBuilder, w: &World, reader: Reader) -> reqwest::RequestBuilder {
    let req = req.header("Accept", "application/taxii+json;version=2.1");
    match reader {
        Reader::User(name) => req.basic_auth(name, Some(PASSWORD)),
        Reader::MemberA => req.bearer_auth(&w.token_a),
        Reader::MemberB => req.bearer_auth(&w.token_b),
    }
}

/// What the engine says for `object` read by `reader` through `collection` now.
async fn expected(w: &World, reader: Reader, collection: &str, object: &Value) -> Decision {
    let federation = Directory::new(w.store.as_ref()).federation().await.unwrap();
    let local = MemberId(w.local.clone());
    let by = object["created_by_ref"].as_str();
    let originator = federation.originator(by, &local);
    let marked = MarkedObject::from_stix(object, originator).unwrap();
    let requester = match (reader, collection) {
        (Reader::User(name), SRC) => {
            let role = w.store.user(name).await.unwrap().unwrap().role;
            Requester::Local { role }
        }
        (_, view) => {
            let member = if view == VIEW_A { A } else { B };
            Requester::Peer(federation.peers[member].clone())
        }
    };
    Policy::new(local).decide(&Access {
        object: &marked,
        requester: &requester,
        channel: Channel::TaxiiRead,
        purpose: Purpose::Intelligence,
        at: time::OffsetDateTime::now_utc(),
    })
}

/// Checks one returned object against the engine; returns its id.
async fn check_released(w: &World, reader: Reader, collection: &str, got: &Value) -> String {
    let id = got["id"].as_str().unwrap().to_owned();
    let original = harness().posted.lock().unwrap()[&id].clone();
    match expected(w, reader, collection, &original).await {
        Decision::Allow { redact: paths } => {
            let mut want = original;
            redact(&mut want, &paths);
            assert_eq!(
                got, &want,
                "{reader:?} in {collection} got {id} redacted wrongly"
            );
        }
        Decision::Deny { reason } => {
            panic!("{reader:?} in {collection} got {id}, which the engine denies: {reason}")
        }
    }
    id
}

async fn list_all(
    w: &World,
    reader: Reader,
    collection: &str,
    limit: usize,
    manifest: bool,
) -> Vec<Value> {
    let client = reqwest::Client::new();
    let what = if manifest { "manifest" } else { "objects" };
    let mut next: Option<String> = None;
    let mut out = Vec::new();
    loop {
        let mut url = format!(
            "{}/taxii2/default/collections/{collection}/{what}/?limit={limit}",
            w.base
        );
        if let Some(n) = &next {
            url.push_str(&format!("&next={n}"));
        }
        let r = auth(client.get(url), w, reader).send().await.unwrap();
        assert_eq!(r.status(), 200, "{reader:?} {collection}");
        let page: Value = r.json().await.unwrap();
        out.extend(page["objects"].as_array().cloned().unwrap_or_default());
        match page["next"].as_str() {
            Some(n) if page["more"] == json!(true) => next = Some(n.to_owned()),
            _ => return out,
        }
    }
}

async fn run(objects: Vec<ObjectSpec>, calls: Vec<Call>) {
    let h = harness();
    let w = &h.world;
    let client = reqwest::Client::new();
    let mut batch = Vec::new();
    for spec in &objects {
        let n = {
            let mut c = h.counter.lock().unwrap();
            *c += 1;
            *c
        };
        batch.push(object(spec, n, &w.local));
    }
    let r = client
        .post(format!(
            "{}/taxii2/default/collections/{SRC}/objects/",
            w.base
        ))
        .basic_auth("admin", Some(PASSWORD))
        .header("Content-Type", "application/taxii+json;version=2.1")
        .header("Accept", "application/taxii+json;version=2.1")
        .body(json!({ "objects": batch }).to_string())
        .send()
        .await
        .unwrap();
    let status: Value = r.json().await.unwrap();
    assert_eq!(status["success_count"], json!(batch.len()), "{status}");
    {
        let mut posted = h.posted.lock().unwrap();
        for o in batch {
            posted.insert(o["id"].as_str().unwrap().to_owned(), o);
        }
    }
    let admin = |path: String| {
        client
            .post(format!("{}{path}", w.base))
            .basic_auth("admin", Some(PASSWORD))
            .send()
    };
    for call in calls {
        match call {
            Call::List {
                reader,
                collection,
                limit,
            } => {
                let got = list_all(w, reader, collection, limit, false).await;
                let mut ids = Vec::new();
                for o in &got {
                    ids.push(check_released(w, reader, collection, o).await);
                }
                let mut allowed = Vec::new();
                let posted = h.posted.lock().unwrap().clone();
                for (id, o) in &posted {
                    if expected(w, reader, collection, o).await.is_allow() {
                        allowed.push(id.clone());
                    }
                }
                ids.sort();
                assert_eq!(
                    ids, allowed,
                    "{reader:?} in {collection}: the listing is not the allowed set"
                );
            }
            Call::One {
                reader,
                collection,
                pick,
            } => {
                let ids: Vec<String> = h.posted.lock().unwrap().keys().cloned().collect();
                let id = &ids[pick % ids.len()];
                let url = format!(
                    "{}/taxii2/default/collections/{collection}/objects/{id}/",
                    w.base
                );
                let r = auth(client.get(url), w, reader).send().await.unwrap();
                let original = h.posted.lock().unwrap()[id].clone();
                let allowed = expected(w, reader, collection, &original).await.is_allow();
                if allowed {
                    assert_eq!(r.status(), 200, "{reader:?} {collection} {id}");
                    let page: Value = r.json().await.unwrap();
                    check_released(w, reader, collection, &page["objects"][0]).await;
                } else {
                    assert_eq!(
                        r.status(),
                        404,
                        "{reader:?} {collection} {id} must look absent"
                    );
                }
            }
            Call::Manifest { reader, collection } => {
                for entry in list_all(w, reader, collection, 5, true).await {
                    let id = entry["id"].as_str().unwrap();
                    let original = h.posted.lock().unwrap()[id].clone();
                    assert!(
                        expected(w, reader, collection, &original).await.is_allow(),
                        "{reader:?} sees {id} in the manifest of {collection}"
                    );
                }
            }
            Call::Member { which, suspend } => {
                let m = members(which).unwrap();
                let action = if suspend { "suspend" } else { "reinstate" };
                let r = admin(format!("/api/v1/members/{m}/{action}"))
                    .await
                    .unwrap();
                assert!(r.status() == 200 || r.status() == 400, "{}", r.status());
            }
            Call::Agreement { suspend } => {
                let action = if suspend { "suspend" } else { "reinstate" };
                let r = admin(format!("/api/v1/agreements/{}/{action}", w.agreement_a))
                    .await
                    .unwrap();
                assert!(r.status() == 200 || r.status() == 400, "{}", r.status());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_call_returns_an_object_the_engine_denies(
        objects in proptest::collection::vec(object_spec(), 1..10),
        calls in proptest::collection::vec(call(), 1..8),
    ) {
        harness().rt.block_on(run(objects, calls));
    }
}
