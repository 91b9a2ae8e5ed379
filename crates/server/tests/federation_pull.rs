//! Catch-up between two real nodes over HTTP: A queues objects for B while B is down; B
//! pulls them with a signed request and applies them; when B comes back, A's pushes get the
//! same receipts and A's outbox drains, with every object stored once at B. Forged, stale
//! and mismatched pull requests are refused.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use comity_node::federation::agreement as agreements;
use comity_node::federation::inbox::{Answer, Inbox};
use comity_node::federation::pull;
use comity_node::policy::AgreementStatus;
use comity_node::registry::{AgreementDraft, Directory, Registry, ScopeDocument};
use common::{Node, Server, TestNode};
use serde_json::{json, Value};

const COL: &str = "5c2f0f39-6a4c-4a57-9b7e-2b9e3f3a0d11";

/// A node not yet serving, its port reserved for the server started by [`serve`].
async fn node(seed: u8, name: &str) -> Node {
    TestNode::new()
        .with_api_root(1_000_000)
        .with_collection(COL, "default")
        // Sharing a collection is an admin's choice: these nodes share theirs.
        .federated(COL)
        .with_user("admin", comity_store::Role::Admin)
        .with_log(common::signer(&format!("comity/{name}"), seed))
        .registered_as(name)
        .titled("t")
        .build()
        .await
}

/// `a` pins `b`.
async fn pin(a: &Node, b: &Node) {
    let registry = Registry::new(a.store.as_ref(), &a.log);
    let mine = Directory::new(b.store.as_ref())
        .local_member()
        .await
        .unwrap()
        .unwrap();
    let mut record = mine.record.clone();
    record.local = false;
    registry.add_member(record).await.unwrap();
}

/// `a` proposes an agreement with `b` for indicators up to AMBER, `b` signs it, and both
/// hold both signatures (handed over out of band, so that the outboxes hold only objects).
async fn agree(a: &Node, b: &Node) {
    let registry = Registry::new(a.store.as_ref(), &a.log);
    let set = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<BTreeSet<_>>();
    let proposal = agreements::propose(
        &registry,
        AgreementDraft {
            title: "a and b".into(),
            partners: set(&[&b.id]),
            scope: ScopeDocument {
                object_types: set(&["indicator"]),
                max_tlp: "amber".into(),
                handling: BTreeSet::new(),
                purposes: set(&["intelligence"]),
            },
            valid_from: None,
            valid_until: None,
        },
        a.log.node_key(),
        false,
    )
    .await
    .unwrap()
    .document;
    let at_b = Registry::new(b.store.as_ref(), &b.log);
    at_b.merge_agreement(proposal.clone(), None).await.unwrap();
    let signed = agreements::sign(&at_b, &proposal.id, b.log.node_key(), false)
        .await
        .unwrap();
    assert_eq!(signed.terms.status, AgreementStatus::Active);
    let merged = registry
        .merge_agreement(signed.document, None)
        .await
        .unwrap();
    assert_eq!(merged.agreement.terms.status, AgreementStatus::Active);
}

async fn serve(n: &Node) -> Server {
    n.serve().await
}

fn indicator(i: usize) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--00000000-0000-4000-8000-{i:012}"),
        "created": "2026-11-27T08:00:00.000Z", "modified": "2026-11-27T08:00:00.000Z",
        "pattern": format!("[ipv4-addr:value = '198.51.100.{i}']"),
        "pattern_type": "stix", "valid_from": "2026-11-27T08:00:00Z",
        "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
    })
}

async fn received(b: &Node, from: &Node) -> u64 {
    let collections = b.store.collections("default").await.unwrap();
    match collections
        .iter()
        .find(|c| c.origin.as_deref() == Some(from.id.as_str()))
    {
        Some(c) => b.store.count_objects(&c.key()).await.unwrap(),
        None => 0,
    }
}

fn pull_get(a: &Node, after: u64, header: Option<String>) -> reqwest::RequestBuilder {
    let req = reqwest::Client::new().get(format!(
        "http://{}/federation/v1/outbox?after={after}",
        a.addr
    ));
    match header {
        Some(h) => req.header("Authorization", h),
        None => req,
    }
}

fn header_of(signed: &comity_node::federation::envelope::Signed) -> String {
    use base64::Engine as _;
    format!(
        "Comity-Envelope {}",
        base64::engine::general_purpose::STANDARD.encode(signed.to_json())
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_was_down_pulls_what_it_missed_and_pushes_then_dedup() {
    let a = node(1, "a").await;
    let b = node(2, "b").await;
    pin(&a, &b).await;
    pin(&b, &a).await;
    agree(&a, &b).await;
    let _a_running = serve(&a).await;
    // B is down: A stores objects, which it cannot push.
    let objects: Vec<Value> = (0..25).map(indicator).collect();
    let r = reqwest::Client::new()
        .post(format!(
            "http://{}/taxii2/default/collections/{COL}/objects/",
            a.addr
        ))
        .basic_auth("admin", Some(common::PASSWORD))
        .header("Content-Type", "application/taxii+json;version=2.1")
        .body(json!({ "objects": objects }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let stats = a.store.outbox_stats().await.unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!(
        (stats[0].peer.as_str(), stats[0].pending),
        (b.id.as_str(), 1)
    );

    // Refused pulls: none, forged (C's key claiming to be B), query mismatch, not a pull.
    let r = pull_get(&a, 0, None).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let c = node(3, "c").await;
    let mut forged = pull::request(&b.id, &a.id, 0, c.log.node_key());
    let r = pull_get(&a, 0, Some(header_of(&forged)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("signature"));
    forged = pull::request(&b.id, &a.id, 5, b.log.node_key());
    let r = pull_get(&a, 0, Some(header_of(&forged)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = pull_get(&a, 0, Some("Comity-Envelope !!!".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // B pulls with its own key and applies what it gets, in order.
    let request = pull::request(&b.id, &a.id, 0, b.log.node_key());
    let r = pull_get(&a, 0, Some(header_of(&request)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["more"], json!(false));
    // The same signed request again, while it is fresh: refused.
    let r = pull_get(&a, 0, Some(header_of(&request)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("answered already"));
    let envelopes = answer["envelopes"].as_array().unwrap();
    assert_eq!(envelopes.len(), 1);
    let inbox = Inbox::new(b.store.as_ref(), &b.log);
    match inbox
        .receive(&a.id, envelopes[0].to_string().as_bytes())
        .await
        .unwrap()
    {
        Answer::Delivered(_) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(received(&b, &a).await, 25);

    // B comes up; A's push of the same envelope gets the recorded receipt and drains.
    let _b_running = serve(&b).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let pending: u64 = a
            .store
            .outbox_stats()
            .await
            .unwrap()
            .iter()
            .map(|s| s.pending)
            .sum();
        if pending == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "A's outbox never drained"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(received(&b, &a).await, 25, "each object is stored once");
    let entry = &a.store.outbox_after(&b.id, 0, 10).await.unwrap()[0];
    let receipt: Value = serde_json::from_str(entry.receipt.as_deref().unwrap()).unwrap();
    assert_eq!(receipt["from"], json!(b.id));
    assert_eq!(receipt["body"]["accepted"], json!(25));
}
