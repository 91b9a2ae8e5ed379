//! Sightings back to originators, over real SQLite stores: A shares an indicator with B, B
//! sights it, A receives the sighting; C, not the originator, gets nothing; what the
//! originator refuses; the rule on the sender's side.

use std::collections::BTreeSet;

use comity_store::prelude::*;
use comity_store::{ApiRoot, Collection, InboxOutcome, ObjectFilter, OutboxKind, PageRequest};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::*;
use crate::federation::agreement as agreements;
use crate::federation::envelope::{Envelope, EnvelopeError, Kind, Receipt, Signed};
use crate::federation::inbox::{Answer, Inbox, API_ROOT};
use crate::federation::seal::testing::{plaintext, sealed};
use crate::federation::test_nodes::{self, countersign, draft, pin, Node};
use crate::federation::{plan, pull};
use crate::log::NodeLog;

const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
const INDICATOR: &str = "indicator--6b1f0a6e-4c1a-4f39-9a43-7e6c1b2b9a01";

/// What these tests do with a node, beyond [`Node`]'s own.
impl Node {
    async fn federation(&self) -> crate::registry::Federation {
        self.registry().federation().await.unwrap()
    }

    /// Stores `objects` in the plain collection and queues them as a TAXII POST does.
    async fn post(&self, objects: &[Value]) -> usize {
        let examined: Vec<_> = objects
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let raw = RawValue::from_string(o.to_string()).unwrap();
                intake::examine(i, &raw).unwrap()
            })
            .collect();
        let texts: Vec<String> = examined.iter().map(|e| e.object.json.clone()).collect();
        let entries = self.log.object_entries(&examined).unwrap();
        let plain = Collection {
            id: "plain".into(),
            api_root: API_ROOT.into(),
            title: "plain".into(),
            description: None,
            view: None,
            origin: None,
        };
        NodeLog::add_objects(
            &self.store,
            &plain.key(),
            examined.into_iter().map(|e| e.object).collect(),
            entries,
        )
        .await
        .unwrap();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        plan::enqueue(
            &self.store,
            &self.federation().await,
            self.log.node_key(),
            &texts,
        )
        .await
        .unwrap()
        .objects
    }

    /// The objects of one collection, newest versions.
    async fn objects_in(&self, collection: &str) -> Vec<Value> {
        let Some(c) = self.store.collection(API_ROOT, collection).await.unwrap() else {
            return Vec::new();
        };
        let filter = ObjectFilter {
            versions: comity_store::VersionFilter::last(),
            ..ObjectFilter::default()
        };
        self.store
            .objects(
                &c.key(),
                &filter,
                &PageRequest {
                    limit: 100,
                    after: None,
                },
            )
            .await
            .unwrap()
            .items
            .iter()
            .map(|o| serde_json::from_str(&o.json).unwrap())
            .collect()
    }

    async fn receive(&self, signed: &Signed) -> Answer {
        Inbox::new(&self.store, &self.log)
            .receive(&signed.envelope.from, signed.to_json().as_bytes())
            .await
            .unwrap()
    }
}

/// A node with an API root and the plain collection "plain".
async fn node(seed: u8) -> Node {
    let node = test_nodes::node(seed).await;
    node.store
        .create_api_root(ApiRoot {
            name: API_ROOT.into(),
            title: "default".into(),
            description: None,
            max_content_length: 10_000_000,
        })
        .await
        .unwrap();
    node.store
        .create_collection(Collection {
            id: "plain".into(),
            api_root: API_ROOT.into(),
            title: "plain".into(),
            description: None,
            view: None,
            origin: None,
        })
        .await
        .unwrap();
    node
}

/// An agreement between `a` and `b` covering `types` up to AMBER for intelligence, in force
/// on both nodes (its envelopes are taken out of the outboxes).
async fn agree(a: &Node, b: &Node, types: &[&str]) {
    let doc = agreements::propose(
        &a.registry(),
        draft("CTI", &[&b.id], types, "amber"),
        a.log.node_key(),
        false,
    )
    .await
    .unwrap()
    .document;
    countersign(a, b, &doc, false).await;
}

/// Delivers every envelope `from` queued for `to` that `to` has not recorded yet; returns
/// the answers.
async fn deliver(from: &Node, to: &Node) -> Vec<Answer> {
    let after = to.store.inbox_last_seq(&from.id).await.unwrap();
    let mut answers = Vec::new();
    for entry in from.store.outbox_after(&to.id, after, 100).await.unwrap() {
        let federation = from.federation().await;
        let signed = pull::outbox_envelope(
            &entry,
            &from.id,
            from.log.node_key(),
            &federation,
            &mut Default::default(),
        )
        .unwrap();
        answers.push(to.receive(&signed).await);
    }
    answers
}

fn indicator(marking: &str) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1", "id": INDICATOR,
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00.000Z", "object_marking_refs": [marking]
    })
}

fn sighting(id: &str, of: &str, marking: &str, extra: Value) -> Value {
    let mut s = json!({
        "type": "sighting", "spec_version": "2.1", "id": id,
        "created": "2026-02-01T00:00:00.000Z", "modified": "2026-02-01T00:00:00.000Z",
        "sighting_of_ref": of, "count": 3, "last_seen": "2026-02-01T00:00:00.000Z",
        "object_marking_refs": [marking]
    });
    for (k, v) in extra.as_object().unwrap() {
        s[k] = v.clone();
    }
    s
}

const S1: &str = "sighting--0b7c1f34-2e57-4d55-8f6a-111111111111";

fn receipt(answer: &Answer) -> (bool, Receipt) {
    let (delivered, signed) = match answer {
        Answer::Delivered(s) => (true, s),
        Answer::Refused(s) => (false, s),
        other => panic!("not a receipt: {other:?}"),
    };
    (
        delivered,
        serde_json::from_str(signed.envelope.body.get()).unwrap(),
    )
}

/// How many `sighting` envelopes `from` queued for `to`.
async fn sightings_queued(from: &Node, to: &Node) -> usize {
    from.store
        .outbox_after(&to.id, 0, 100)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == OutboxKind::Sighting)
        .count()
}

/// A (the originator), B (sights A's indicator), C (agrees with B on indicators only).
async fn setup() -> [Node; 3] {
    let nodes = [node(1).await, node(2).await, node(3).await];
    for x in &nodes {
        for y in &nodes {
            if x.id != y.id {
                pin(x, y).await;
            }
        }
    }
    let [a, b, c] = &nodes;
    agree(a, b, &["indicator"]).await;
    agree(b, c, &["indicator"]).await;
    assert_eq!(a.post(&[indicator(AMBER)]).await, 1);
    let answers = deliver(a, b).await;
    assert!(matches!(answers.as_slice(), [Answer::Delivered(_)]));
    assert_eq!(
        b.objects_in(&uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, a.id.as_bytes()).to_string())
            .await
            .len(),
        1
    );
    nodes
}

#[tokio::test]
async fn a_sighting_goes_back_to_the_originator_and_nowhere_else() {
    let [a, b, c] = setup().await;
    let s = sighting(
        S1,
        INDICATOR,
        AMBER,
        json!({
            "where_sighted_refs": [b.id, "identity--0b7c1f34-2e57-4d55-8f6a-222222222222"],
            "observed_data_refs": ["observed-data--0b7c1f34-2e57-4d55-8f6a-333333333333"]
        }),
    );
    assert_eq!(b.post(&[s]).await, 1, "one sighting queued, for A");
    assert!(b.store.outbox_after(&c.id, 0, 10).await.unwrap().is_empty());
    let queued = b.store.outbox_after(&a.id, 0, 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].kind, OutboxKind::Sighting);
    let body: Value =
        serde_json::from_str(&plaintext(&queued[0], &b.id, b.log.node_key())).unwrap();
    let sent = &body["sighting"];
    assert_eq!(sent["where_sighted_refs"], json!([b.id]));
    assert!(sent.get("observed_data_refs").is_none());
    assert_eq!(sent["created_by_ref"], json!(b.id));

    let answers = deliver(&b, &a).await;
    let (delivered, r) = receipt(&answers[0]);
    assert!(delivered, "{r:?}");
    assert_eq!(r.accepted, 1);
    let stored = a.objects_in(&collection_id(&b.id)).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], json!(S1));
    let c = a
        .store
        .collection(API_ROOT, &collection_id(&b.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.title, "Sightings from node 2");
    assert_eq!(c.origin.as_deref(), Some(b.id.as_str()));
    let seen = received(
        &a.store,
        &sighting_collections(&a.store).await.unwrap(),
        Some(INDICATOR),
        None,
        |_, _| true,
    )
    .await
    .unwrap();
    assert_eq!(
        seen,
        vec![Seen {
            target: INDICATOR.into(),
            member: b.id.clone(),
            sightings: 1,
            count: 3,
            last_seen: Some("2026-02-01T00:00:00.000Z".into()),
            windows: Vec::new(),
        }]
    );
    let all = sighting_collections(&a.store).await.unwrap();
    assert_eq!(all.len(), 1);
    let other = Some("indicator--0b7c1f34-2e57-4d55-8f6a-444444444444");
    assert!(received(&a.store, &all, other, None, |_, _| true)
        .await
        .unwrap()
        .is_empty());
    assert!(received(&a.store, &all, None, None, |_, _| false)
        .await
        .unwrap()
        .is_empty());

    // a replay gets the same receipt
    let entry = &b.store.outbox_after(&a.id, 0, 10).await.unwrap()[0];
    let federation = b.federation().await;
    let again = pull::outbox_envelope(
        entry,
        &b.id,
        b.log.node_key(),
        &federation,
        &mut Default::default(),
    )
    .unwrap();
    let first = match &answers[0] {
        Answer::Delivered(s) => s.to_json(),
        _ => unreachable!(),
    };
    match a.receive(&again).await {
        Answer::Delivered(s) => assert_eq!(s.to_json(), first),
        other => panic!("{other:?}"),
    }
    assert_eq!(a.objects_in(&collection_id(&b.id)).await.len(), 1);
}

#[tokio::test]
async fn the_sender_keeps_what_the_rule_does_not_let_go() {
    let [a, b, c] = setup().await;
    // TLP:RED without A among its recipients: the policy keeps it
    let red = sighting(S1, INDICATOR, RED, json!({}));
    assert_eq!(b.post(&[red]).await, 0);
    // a sighting of B's own indicator goes nowhere
    let own = json!({
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--0b7c1f34-2e57-4d55-8f6a-555555555555",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.8']", "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00.000Z", "object_marking_refs": [AMBER]
    });
    b.post(&[own]).await;
    let of_own = sighting(
        "sighting--0b7c1f34-2e57-4d55-8f6a-666666666666",
        "indicator--0b7c1f34-2e57-4d55-8f6a-555555555555",
        AMBER,
        json!({}),
    );
    assert_eq!(b.post(&[of_own]).await, 0);
    assert_eq!(sightings_queued(&b, &a).await, 0);
    // C holds A's indicator too (posted there under A's name) but has no agreement with A:
    // nothing leaves C for A
    let mut by_a = indicator(AMBER);
    by_a["created_by_ref"] = json!(a.id);
    c.post(&[by_a]).await;
    let s = sighting(
        "sighting--0b7c1f34-2e57-4d55-8f6a-777777777777",
        INDICATOR,
        AMBER,
        json!({}),
    );
    assert_eq!(c.post(&[s]).await, 0);
    assert_eq!(sightings_queued(&c, &a).await, 0);
}

#[test]
fn the_rule_needs_an_agreement_in_force_not_one_listing_sightings() {
    let now = OffsetDateTime::now_utc();
    let giver = MemberId("identity--0b7c1f34-2e57-4d55-8f6a-000000000001".into());
    let to = MemberId("identity--0b7c1f34-2e57-4d55-8f6a-000000000002".into());
    let agreement = |status| Agreement {
        id: "agreement--x".into(),
        parties: [giver.clone(), to.clone()].into(),
        scope: crate::policy::Scope {
            object_types: ["indicator".to_owned()].into(),
            max_tlp: comity_stix::tlp::Tlp::Amber,
            handling: BTreeSet::new(),
            purposes: [Purpose::Intelligence].into(),
        },
        valid_from: now - time::Duration::days(1),
        valid_until: None,
        status,
    };
    let peer = |agreements, status| Peer {
        member: to.clone(),
        status,
        agreements,
    };
    let amber = sighting(S1, INDICATOR, AMBER, json!({})).to_string();
    let clear = sighting(
        S1,
        INDICATOR,
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        json!({}),
    )
    .to_string();
    let active = peer(
        vec![agreement(AgreementStatus::Active)],
        MemberStatus::Active,
    );
    assert!(release(&giver, &active, giver.clone(), &amber, now).is_ok());
    // no agreement: not even TLP:CLEAR leaves
    let none = peer(Vec::new(), MemberStatus::Active);
    assert!(release(&giver, &none, giver.clone(), &clear, now).is_err());
    let proposed = peer(
        vec![agreement(AgreementStatus::Proposed)],
        MemberStatus::Active,
    );
    assert!(release(&giver, &proposed, giver.clone(), &clear, now).is_err());
    let suspended = peer(
        vec![agreement(AgreementStatus::Active)],
        MemberStatus::Suspended,
    );
    assert!(release(&giver, &suspended, giver.clone(), &amber, now).is_err());
    // the markings are the policy's: RED without the receiver named stays
    let red = sighting(S1, INDICATOR, RED, json!({})).to_string();
    let why = release(&giver, &active, giver.clone(), &red, now).unwrap_err();
    assert!(why.contains("RED"), "{why}");
    // a third member's AMBER sighting is not passed on
    let third = MemberId("identity--0b7c1f34-2e57-4d55-8f6a-000000000003".into());
    assert!(release(&giver, &active, third, &amber, now).is_err());
}

#[test]
fn outgoing_strips_local_references() {
    let local = "identity--0b7c1f34-2e57-4d55-8f6a-000000000001";
    let s = sighting(
        S1,
        INDICATOR,
        AMBER,
        json!({
            "where_sighted_refs": ["identity--0b7c1f34-2e57-4d55-8f6a-000000000009"],
            "observed_data_refs": ["observed-data--0b7c1f34-2e57-4d55-8f6a-333333333333"],
            "created_by_ref": "identity--0b7c1f34-2e57-4d55-8f6a-000000000008"
        }),
    );
    let out: Value = serde_json::from_str(&outgoing(&s.to_string(), local).unwrap()).unwrap();
    assert!(out.get("where_sighted_refs").is_none());
    assert!(out.get("observed_data_refs").is_none());
    assert_eq!(
        out["created_by_ref"],
        json!("identity--0b7c1f34-2e57-4d55-8f6a-000000000008"),
        "an explicit creator is kept"
    );
    assert_eq!(out["count"], json!(3));
}

/// How many entries of `kind` the log of `n` holds.
async fn logged(n: &Node, kind: &str) -> usize {
    let tlog = n.store.transparency_log();
    let size = tlog.log_size().await.unwrap();
    tlog.log_entries(0, size)
        .await
        .unwrap()
        .iter()
        .filter(|e| comity_tlog::entry::Entry::decode(e).unwrap().kind() == kind)
        .count()
}

/// Sends `body` from `from` to `to` as the next `sighting` envelope.
async fn send(from: &Node, to: &Node, body: String) -> Answer {
    let seq = to.store.inbox_last_seq(&from.id).await.unwrap() + 1;
    let env = Envelope::new(
        &from.id,
        &to.id,
        Kind::Sighting,
        seq,
        RawValue::from_string(body).unwrap(),
    );
    let env = sealed(env, to.log.node_key());
    to.receive(&env.sign(from.log.node_key())).await
}

async fn refused_and_recorded(to: &Node, from: &Node, answer: Answer, says: &str) {
    let (delivered, r) = receipt(&answer);
    assert!(!delivered, "expected a refusal saying {says:?}, got {r:?}");
    let why = r.reason.clone().unwrap_or_default();
    assert!(why.contains(says), "{why:?} lacks {says:?}");
    let Answer::Refused(signed) = &answer else {
        unreachable!()
    };
    signed.verify(&to.log.node_key().public_key()).unwrap();
    let record = to
        .store
        .inbox_record(&from.id, &r.envelope)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(record.outcome, InboxOutcome::Refused);
    assert!(to.objects_in(&collection_id(&from.id)).await.is_empty());
}

#[tokio::test]
async fn the_originator_refuses_what_it_should_not_take() {
    let [a, b, c] = setup().await;
    let body = |s: Value| super::body(Some(&s.to_string()));
    // of an object A did not originate
    let other = "indicator--0b7c1f34-2e57-4d55-8f6a-888888888888";
    let answer = send(&b, &a, body(sighting(S1, other, AMBER, json!({})))).await;
    refused_and_recorded(&a, &b, answer, "not an object this node originated").await;
    // not a sighting at all
    let answer = send(&b, &a, body(indicator(AMBER))).await;
    refused_and_recorded(&a, &b, answer, "carries a STIX sighting").await;
    // invalid STIX: no sighting_of_ref
    let mut broken = sighting(S1, INDICATOR, AMBER, json!({}));
    broken.as_object_mut().unwrap().remove("sighting_of_ref");
    let answer = send(&b, &a, body(broken)).await;
    refused_and_recorded(&a, &b, answer, "not valid STIX").await;
    // not the body of a sighting envelope
    let answer = send(&b, &a, "{\"objects\":[]}".into()).await;
    refused_and_recorded(&a, &b, answer, "the body is not").await;
    // RED without A named
    let answer = send(&b, &a, body(sighting(S1, INDICATOR, RED, json!({})))).await;
    refused_and_recorded(&a, &b, answer, "policy does not let").await;
    // from C, with which A has no agreement
    let answer = send(&c, &a, body(sighting(S1, INDICATOR, AMBER, json!({})))).await;
    refused_and_recorded(&a, &c, answer, "no agreement is in force").await;
    // from a suspended B
    a.registry()
        .set_member_status(&b.id, MemberStatus::Suspended)
        .await
        .unwrap();
    let answer = send(&b, &a, body(sighting(S1, INDICATOR, AMBER, json!({})))).await;
    refused_and_recorded(&a, &b, answer, "suspended").await;
    // every refusal is in the log
    let refusals = logged(&a, comity_tlog::entry::ENVELOPE_REFUSED).await;
    assert!(refusals >= 7, "{refusals}");
    // a withheld sighting is recorded and stores nothing
    a.registry()
        .set_member_status(&b.id, MemberStatus::Active)
        .await
        .unwrap();
    let (delivered, r) = receipt(&send(&b, &a, super::body(None)).await);
    assert!(delivered);
    assert_eq!(r.accepted, 0);
    assert!(a.objects_in(&collection_id(&b.id)).await.is_empty());
}

#[tokio::test]
async fn a_forged_sighting_is_rejected_unsigned_and_unrecorded() {
    let [a, b, _c] = setup().await;
    let s = super::body(Some(&sighting(S1, INDICATOR, AMBER, json!({})).to_string()));
    let env = Envelope::new(
        &b.id,
        &a.id,
        Kind::Sighting,
        1,
        RawValue::from_string(s).unwrap(),
    );
    // signed by A's key, not B's
    let forged = env.sign(a.log.node_key());
    let id = forged.envelope.id.clone();
    match a.receive(&forged).await {
        Answer::Rejected(EnvelopeError::BadSignature { from, .. }) => assert_eq!(from, b.id),
        other => panic!("a forged envelope must get no signed answer: {other:?}"),
    }
    assert!(a.store.inbox_record(&b.id, &id).await.unwrap().is_none());
    assert!(a.objects_in(&collection_id(&b.id)).await.is_empty());
}

#[tokio::test]
async fn what_leaves_is_decided_again_at_delivery() {
    let [a, b, _c] = setup().await;
    assert_eq!(
        b.post(&[sighting(S1, INDICATOR, AMBER, json!({}))]).await,
        1
    );
    let entry = b
        .store
        .outbox_after(&a.id, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.kind == OutboxKind::Sighting)
        .unwrap();
    // nothing changed: the body as queued
    let now = b.federation().await;
    let queued = plaintext(&entry, &b.id, b.log.node_key());
    assert_eq!(
        still_allowed(&now, &a.id, entry.created_at, &queued).unwrap(),
        queued
    );
    // the agreement suspended on B since: withheld, and the originator stores nothing
    let agreement = now.peers[&MemberId(a.id.clone())].agreements[0].id.clone();
    agreements::set_status(&b.registry(), &agreement, AgreementStatus::Suspended, false)
        .await
        .unwrap();
    let later = b.federation().await;
    let withheld = still_allowed(&later, &a.id, entry.created_at, &queued).unwrap();
    assert_eq!(withheld, body(None));
    let mut entry = entry;
    entry.body = withheld;
    let federation = b.federation().await;
    let signed = pull::outbox_envelope(
        &entry,
        &b.id,
        b.log.node_key(),
        &federation,
        &mut Default::default(),
    )
    .unwrap();
    let (delivered, r) = receipt(&a.receive(&signed).await);
    assert!(delivered && r.accepted == 0, "{r:?}");
    assert!(a.objects_in(&collection_id(&b.id)).await.is_empty());
}

#[tokio::test]
async fn a_sighting_of_a_relayed_object_goes_to_its_creator() {
    let [a, b, c] = setup().await;
    // C's GREEN indicator, which A holds under C's name and passes on to B
    let relayed = "indicator--0b7c1f34-2e57-4d55-8f6a-999999999999";
    let green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
    let mut of_c = indicator(green);
    of_c["id"] = json!(relayed);
    c.post(std::slice::from_ref(&of_c)).await;
    of_c["created_by_ref"] = json!(c.id);
    assert_eq!(
        a.post(&[of_c]).await,
        1,
        "A passes C's GREEN indicator to B"
    );
    assert!(matches!(
        deliver(&a, &b).await.as_slice(),
        [Answer::Delivered(_)]
    ));
    // B sights it: the sighting goes to C, its creator, not to A, which relayed it
    let s = sighting(S1, relayed, AMBER, json!({}));
    assert_eq!(b.post(&[s]).await, 1);
    assert_eq!(sightings_queued(&b, &a).await, 0);
    assert_eq!(sightings_queued(&b, &c).await, 1);
    let answers = deliver(&b, &c).await;
    let (delivered, r) = receipt(answers.last().unwrap());
    assert!(delivered && r.accepted == 1, "{r:?}");
    assert_eq!(c.objects_in(&collection_id(&b.id)).await.len(), 1);
    // A, asked by hand, refuses it: A did not create C's indicator
    let body = super::body(Some(&sighting(S1, relayed, AMBER, json!({})).to_string()));
    let answer = send(&b, &a, body).await;
    refused_and_recorded(&a, &b, answer, "not an object this node originated").await;
}

#[tokio::test]
async fn many_sightings_in_one_request_are_looked_up_together() {
    let [a, b, _c] = setup().await;
    // Seen on a Sunday, the Monday after and a day of the next month.
    let seen_at = [
        "2026-02-01T23:59:59Z",
        "2026-02-02T00:00:00Z",
        "2026-03-04T12:00:00Z",
    ];
    let mut batch: Vec<Value> = (0..3)
        .map(|i| {
            let id = format!("sighting--0b7c1f34-2e57-4d55-8f6a-00000000010{i}");
            let at = json!({"first_seen": "2026-01-01T00:00:00Z", "last_seen": seen_at[i]});
            sighting(&id, INDICATOR, AMBER, at)
        })
        .collect();
    batch.push(sighting(
        "sighting--0b7c1f34-2e57-4d55-8f6a-000000000199",
        "indicator--0b7c1f34-2e57-4d55-8f6a-000000000198",
        AMBER,
        json!({}),
    ));
    assert_eq!(b.post(&batch).await, 3);
    assert_eq!(sightings_queued(&b, &a).await, 3);
    deliver(&b, &a).await;
    let collections = sighting_collections(&a.store).await.unwrap();
    let seen = received(&a.store, &collections, None, None, |_, _| true)
        .await
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].sightings, seen[0].count), (3, 9));
    assert!(seen[0].windows.is_empty(), "no window asked, none counted");
    for (window, expected) in [
        (
            Window::Day,
            vec![("2026-02-01", 1), ("2026-02-02", 1), ("2026-03-04", 1)],
        ),
        (
            Window::Week,
            vec![("2026-01-26", 1), ("2026-02-02", 1), ("2026-03-02", 1)],
        ),
        (Window::Month, vec![("2026-02-01", 2), ("2026-03-01", 1)]),
    ] {
        let seen = received(&a.store, &collections, None, Some(window), |_, _| true)
            .await
            .unwrap();
        let got: Vec<(&str, u64)> = seen[0]
            .windows
            .iter()
            .map(|w| (w.start.as_str(), w.sightings))
            .collect();
        assert_eq!(got, expected, "{window:?}");
        let counted: u64 = seen[0].windows.iter().map(|w| w.count).sum();
        assert_eq!(
            counted, seen[0].count,
            "every sighting in exactly one window"
        );
    }
    assert_eq!(
        "fortnight".parse::<Window>().unwrap_err(),
        "\"fortnight\" is not a window: day, week or month"
    );
}
