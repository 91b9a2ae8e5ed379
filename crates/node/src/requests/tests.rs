//! Requests between two and three nodes over real SQLite stores, delivered through the real
//! inbox: whole lives, and everything that must be refused without changing anything.

use serde_json::{json, Value};

use super::*;
use crate::federation::envelope::{Envelope, Kind};
use crate::federation::inbox::{Answer, Inbox};
use crate::federation::pull::outbox_envelope;
use crate::federation::seal::testing::{plaintext, resealed, sealed};
use crate::test_peers::{due, hand, peers, reason_of, receive, Peer};
use comity_store::OutboxEntry;

/// Delivers everything due between `a` and `b` both ways until nothing is left; every
/// envelope must be delivered.
async fn settle(a: &Peer, b: &Peer) {
    loop {
        let mut moved = false;
        for (from, to) in [(a, b), (b, a)] {
            for entry in due(from, to).await {
                let answer = hand(from, to, &entry).await;
                assert!(matches!(answer, Answer::Delivered(_)), "{answer:?}");
                moved = true;
            }
        }
        if !moved {
            return;
        }
    }
}

fn document(kind: RequestKind) -> Value {
    let mut doc = json!({
        "authority": {
            "name": "Brigade de lutte contre la cybercriminalité",
            "contact": "+33 1 00 00 00 00",
            "time_zone": "Europe/Paris",
            "office_hours": "24/7",
        },
        "legal_basis": {"instrument": "Budapest Convention", "article": "31"},
        "summary": "Rançongiciel contre des hôpitaux; 勒索软件; برامج الفدية",
        "offence": "Art. 323-1 code pénal",
        "case_numbers": {"police": "2026/4711"},
    });
    doc["details"] = match kind {
        RequestKind::Assistance => {
            json!({"incident": "C2 at 203.0.113.7", "help_sought": "takedown"})
        }
        RequestKind::Preservation => json!({
            "data": "subscriber and connection logs", "relation_to_offence": "C2 server",
            "custodian": "ACME hosting", "necessity": "logs rotate in 7 days", "mla_to_follow": true,
        }),
        RequestKind::Disclosure => {
            json!({"preservation": "request--x", "communication": "C2 session"})
        }
        RequestKind::Production => json!({
            "categories": ["subscriber", "traffic"],
            "time_range": {"from": "2026-11-01T00:00:00Z", "to": "2026-11-30T00:00:00Z", "time_zone": "UTC"},
            "addressee": "ACME hosting",
        }),
        RequestKind::Mla => json!({
            "purpose": "prosecution", "assistance_sought": "server images", "laws": "art. 323-1",
            "proceedings": "investigation 2026/4711",
        }),
    };
    doc
}

async fn new_request(a: &Peer, b: &Peer, kind: RequestKind, emergency: bool) -> String {
    let mut doc = document(kind);
    if emergency {
        doc["emergency_justification"] = json!("a hospital's life-support systems are encrypted");
    }
    let new = NewRequest {
        kind,
        to: b.id.clone(),
        emergency,
        document: doc,
    };
    let r = draft(&a.node, "alice", new).await.unwrap();
    assert_eq!(r.state, State::Draft);
    r.id
}

async fn on(p: &Peer, officer: &str, id: &str, a: Act, details: Details) -> Request {
    act(&p.node, officer, id, a, details)
        .await
        .unwrap_or_else(|e| panic!("{a}: {e}"))
}

fn note(text: &str) -> Details {
    Details {
        note: Some(text.into()),
        ..Details::default()
    }
}

async fn history(p: &Peer, id: &str) -> Vec<String> {
    p.node
        .store()
        .request_events(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.sha256)
        .collect()
}

async fn log_size(p: &Peer) -> u64 {
    p.node.store().transparency_log().log_size().await.unwrap()
}

/// Both nodes hold the same signed history and state.
async fn same_on_both(a: &Peer, b: &Peer, id: &str) -> State {
    let (ha, hb) = (history(a, id).await, history(b, id).await);
    assert_eq!(ha, hb, "the histories differ");
    let sa = a.node.store().request(id).await.unwrap().unwrap();
    let sb = b.node.store().request(id).await.unwrap().unwrap();
    assert_eq!(
        (sa.state.as_str(), sa.due_at),
        (sb.state.as_str(), sb.due_at)
    );
    sa.state.parse().unwrap()
}

#[tokio::test]
async fn a_mutual_legal_assistance_request_lives_its_whole_life_on_both_nodes() {
    let [a, b] = peers::<2>().await;
    let id = new_request(&a, &b, RequestKind::Mla, false).await;
    let (log_a, log_b) = (log_size(&a).await, log_size(&b).await);
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    settle(&a, &b).await;
    // B took it in and recorded its delivery, which went back to A.
    assert_eq!(same_on_both(&a, &b, &id).await, State::Delivered);
    // The first opening by an officer of B is a signed retrieval receipt, once.
    let opened = open(&b.node, "bashir", &id).await.unwrap();
    assert_eq!(opened.history.last().unwrap().event.act, Act::Retrieve);
    assert_eq!(opened.history.last().unwrap().event.officer, "bashir");
    let again = open(&b.node, "chen", &id).await.unwrap();
    assert_eq!(again.history.len(), opened.history.len());
    // A's own officers opening it record nothing.
    settle(&a, &b).await;
    let seen_by_a = open(&a.node, "alice", &id).await.unwrap();
    assert_eq!(seen_by_a.history.len(), 3);
    on(&b, "bashir", &id, Act::Acknowledge, Details::default()).await;
    on(&b, "bashir", &id, Act::Review, Details::default()).await;
    on(
        &b,
        "bashir",
        &id,
        Act::RequestInfo,
        note("Which servers exactly?"),
    )
    .await;
    settle(&a, &b).await;
    on(
        &a,
        "alice",
        &id,
        Act::SupplyInfo,
        note("203.0.113.7 and 203.0.113.8"),
    )
    .await;
    settle(&a, &b).await;
    let conditions = Details {
        conditions: Some("used only in proceedings 2026/4711".into()),
        ..Details::default()
    };
    on(&b, "bashir", &id, Act::AcceptWithConditions, conditions).await;
    settle(&a, &b).await;
    on(&a, "alice", &id, Act::AcceptConditions, Details::default()).await;
    settle(&a, &b).await;
    on(&b, "bashir", &id, Act::Execute, Details::default()).await;
    let image = attach(&b.node, &id, "image-1.e01", b"an image of the disk")
        .await
        .unwrap();
    let evidence = Details {
        attachments: vec![image],
        ..Details::default()
    };
    on(&b, "bashir", &id, Act::ExecutePartially, evidence.clone()).await;
    on(&b, "bashir", &id, Act::Complete, evidence).await;
    settle(&a, &b).await;
    let closed = on(&a, "alice", &id, Act::Close, Details::default()).await;
    settle(&a, &b).await;
    assert_eq!(same_on_both(&a, &b, &id).await, State::Closed);
    assert!(closed.allowed.is_empty());
    // 13 events, each one entry in both logs.
    let events = history(&a, &id).await.len() as u64;
    assert_eq!(events, 13);
    assert_eq!(log_size(&a).await - log_a, events);
    assert_eq!(log_size(&b).await - log_b, events);
    // The chain links every event to the one before it.
    let shown = open(&b.node, "bashir", &id).await.unwrap();
    for pair in shown.history.windows(2) {
        assert_eq!(pair[1].event.prev.as_deref(), Some(pair[0].sha256.as_str()));
    }
}

#[tokio::test]
async fn a_preservation_is_preserved_for_sixty_days_at_least_extended_and_linked() {
    let [a, b] = peers::<2>().await;
    let id = new_request(&a, &b, RequestKind::Preservation, false).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    settle(&a, &b).await;
    for step in [Act::Acknowledge, Act::Review, Act::Accept] {
        on(&b, "bashir", &id, step, Details::default()).await;
    }
    let until = |days: i64| Details {
        until: Some(format_us(now_us() + days * 86_400_000_000)),
        ..Details::default()
    };
    let short = act(&b.node, "bashir", &id, Act::Preserve, until(30)).await;
    match short {
        Err(RequestError::Invalid(why)) => assert!(why.contains("at least 60 days"), "{why}"),
        other => panic!("{other:?}"),
    }
    on(&b, "bashir", &id, Act::Preserve, until(61)).await;
    let earlier = act(&b.node, "bashir", &id, Act::Extend, until(50)).await;
    assert!(
        matches!(earlier, Err(RequestError::Invalid(_))),
        "{earlier:?}"
    );
    on(&b, "bashir", &id, Act::Extend, until(91)).await;
    settle(&a, &b).await;
    // It has not lapsed: the period runs.
    let lapse = act(&a.node, "alice", &id, Act::Lapse, Details::default()).await;
    assert!(matches!(lapse, Err(RequestError::Invalid(_))), "{lapse:?}");
    settle(&a, &b).await;
    let follow_up = new_request(&a, &b, RequestKind::Production, false).await;
    let link = Details {
        link: Some(follow_up.clone()),
        ..Details::default()
    };
    on(&a, "alice", &id, Act::Link, link).await;
    settle(&a, &b).await;
    assert_eq!(same_on_both(&a, &b, &id).await, State::Linked);
}

#[tokio::test]
async fn an_emergency_production_is_due_in_eight_hours_from_the_signed_acknowledgement() {
    let [a, b] = peers::<2>().await;
    let id = new_request(&a, &b, RequestKind::Production, true).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    settle(&a, &b).await;
    let acked = on(&b, "bashir", &id, Act::Acknowledge, Details::default()).await;
    settle(&a, &b).await;
    let at = parse_us(&acked.history.last().unwrap().event.at).unwrap();
    let due = a.node.store().request(&id).await.unwrap().unwrap().due_at;
    assert_eq!(due, Some(at + 8 * 3_600_000_000));
    same_on_both(&a, &b, &id).await;
    // Answered within hours: executed clears the clock.
    for step in [Act::Review, Act::Accept, Act::Execute, Act::Complete] {
        on(&b, "bashir", &id, step, Details::default()).await;
    }
    settle(&a, &b).await;
    assert_eq!(same_on_both(&a, &b, &id).await, State::Executed);
    assert_eq!(
        a.node.store().request(&id).await.unwrap().unwrap().due_at,
        None
    );
}

#[tokio::test]
async fn refusals_carry_a_reason_from_the_dictionary() {
    let [a, b] = peers::<2>().await;
    let id = new_request(&a, &b, RequestKind::Disclosure, false).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    settle(&a, &b).await;
    on(&b, "bashir", &id, Act::Acknowledge, Details::default()).await;
    let bare = act(&b.node, "bashir", &id, Act::Refuse, Details::default()).await;
    match bare {
        Err(RequestError::Invalid(why)) => assert!(why.contains("dual_criminality"), "{why}"),
        other => panic!("{other:?}"),
    }
    let other = Details {
        reason: Some(RefusalReason::Other),
        ..Details::default()
    };
    assert!(act(&b.node, "bashir", &id, Act::Refuse, other)
        .await
        .is_err());
    let reason = Details {
        reason: Some(RefusalReason::NeBisInIdem),
        ..Details::default()
    };
    // A reason goes with a refusal only.
    assert!(act(&b.node, "bashir", &id, Act::Review, reason.clone())
        .await
        .is_err());
    on(&b, "bashir", &id, Act::Refuse, reason).await;
    settle(&a, &b).await;
    assert_eq!(same_on_both(&a, &b, &id).await, State::Refused);
    let shown = open(&a.node, "alice", &id).await.unwrap();
    assert_eq!(
        shown.history.last().unwrap().event.details.reason,
        Some(RefusalReason::NeBisInIdem)
    );
}

#[tokio::test]
async fn missing_fields_are_refused_with_their_articles_and_nothing_leaves() {
    let [a, b] = peers::<2>().await;
    let mut doc = document(RequestKind::Preservation);
    doc["details"].as_object_mut().unwrap().remove("custodian");
    doc["authority"]
        .as_object_mut()
        .unwrap()
        .remove("time_zone");
    let new = NewRequest {
        kind: RequestKind::Preservation,
        to: b.id.clone(),
        emergency: true,
        document: doc,
    };
    let id = draft(&a.node, "alice", new).await.unwrap().id;
    let size = log_size(&a).await;
    match act(&a.node, "alice", &id, Act::Submit, Details::default()).await {
        Err(e @ RequestError::Missing(_)) => assert_eq!(
            e.to_string(),
            "the request lacks required fields: \
             authority.time_zone (Budapest Convention art. 31, request template T-CY(2018)10); \
             details.custodian (Budapest Convention art. 29(2)(d)); \
             emergency_justification (Regulation (EU) 2023/1543 art. 3(18) (an imminent threat to life, physical integrity or safety))"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        a.node.store().request(&id).await.unwrap().unwrap().state,
        "draft"
    );
    assert!(due(&a, &b).await.is_empty());
    assert_eq!(log_size(&a).await, size);
}

#[tokio::test]
async fn drafts_go_to_registered_members_only_and_keep_the_nodes_fields() {
    let [a, b] = peers::<2>().await;
    let new = |to: &str, document: Value| NewRequest {
        kind: RequestKind::Assistance,
        to: to.into(),
        emergency: false,
        document,
    };
    let doc = document(RequestKind::Assistance);
    for (to, doc, says) in [
        (
            "identity--00000000-0000-4000-8000-000000000000",
            doc.clone(),
            "not a registered member",
        ),
        (a.id.as_str(), doc.clone(), "another member"),
        (b.id.as_str(), json!([1, 2]), "JSON object"),
        (b.id.as_str(), json!({"kind": "mla"}), "the document's kind"),
        (
            b.id.as_str(),
            json!({"x": "y".repeat(MAX_DOCUMENT_BYTES)}),
            "bytes",
        ),
    ] {
        match draft(&a.node, "alice", new(to, doc)).await {
            Err(RequestError::Invalid(why)) => assert!(why.contains(says), "{why} lacks {says}"),
            other => panic!("{other:?}"),
        }
    }
    let r = draft(&a.node, "alice", new(&b.id, doc)).await.unwrap();
    assert_eq!(r.document["from"], a.id);
    assert_eq!(r.document["to"], b.id);
    assert_eq!(r.allowed, vec![Act::Submit]);
}

#[tokio::test]
async fn acts_of_the_other_side_or_out_of_turn_are_refused_and_change_nothing() {
    let [a, b] = peers::<2>().await;
    let id = new_request(&a, &b, RequestKind::Assistance, false).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    settle(&a, &b).await;
    let before = history(&a, &id).await;
    let size = log_size(&a).await;
    let wrong = act(&a.node, "alice", &id, Act::Acknowledge, Details::default()).await;
    assert!(
        matches!(
            wrong,
            Err(RequestError::Machine(MachineError::WrongSide { .. }))
        ),
        "{wrong:?}"
    );
    let early = act(&b.node, "bashir", &id, Act::Accept, Details::default()).await;
    assert!(matches!(
        early,
        Err(RequestError::Machine(MachineError::NotAllowed { .. }))
    ));
    let deliver = act(&b.node, "bashir", &id, Act::Deliver, Details::default()).await;
    assert!(matches!(deliver, Err(RequestError::Invalid(_))));
    let unknown = "request--00000000-0000-4000-8000-000000000000";
    let unknown = act(&a.node, "alice", unknown, Act::Close, Details::default()).await;
    assert!(matches!(unknown, Err(RequestError::NotFound(_))));
    let hostile = format!("request--{}<script>", "x".repeat(10_000));
    match open(&a.node, "alice", &hostile).await {
        Err(e @ RequestError::Invalid(_)) => {
            assert_eq!(e.to_string(), "a request id is request--<UUID>")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(history(&a, &id).await, before);
    assert_eq!(log_size(&a).await, size);
    assert!(due(&a, &b).await.is_empty());
}

#[tokio::test]
async fn a_tampered_event_is_refused_and_nothing_is_taken_in() {
    let [a, b] = peers::<2>().await;
    let id = new_request(&a, &b, RequestKind::Assistance, false).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    let entry = due(&a, &b).await.remove(0);
    let changed = plain(&a, &entry).replace("takedown", "arrest warrant");
    let key = a.node.log().node_key();
    let entry = resealed(entry, &a.id, key, b.node.log().node_key(), &changed);
    let answer = hand(&a, &b, &entry).await;
    assert!(
        reason_of(&answer).contains("signature does not verify"),
        "{answer:?}"
    );
    assert!(b.node.store().request(&id).await.unwrap().is_none());
    assert!(due(&b, &a).await.is_empty());
}

#[tokio::test]
async fn an_event_signed_by_another_key_or_claiming_another_maker_is_refused() {
    let [a, b, c] = peers::<3>().await;
    let id = new_request(&a, &b, RequestKind::Assistance, false).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    let entry = due(&a, &b).await.remove(0);
    let json = serde_json::from_str::<Value>(&plain(&a, &entry)).unwrap()["event"].to_string();
    let event = SignedEvent::parse(&json).unwrap().event;
    // C signs A's event with its own key and sends it as its own envelope.
    let forged = event.clone().sign(c.node.log().node_key());
    let body = format!("{{\"event\":{}}}", forged.json);
    let env = sealed_to(
        Envelope::new(&c.id, &b.id, Kind::Request, 1, raw(&body)),
        &b,
    )
    .sign(c.node.log().node_key());
    let answer = receive(&b, &c.id, env.to_json().as_bytes()).await;
    assert!(reason_of(&answer).contains("was made by"), "{answer:?}");
    // A's envelope carrying an event that A's key did not sign.
    let env = sealed_to(
        Envelope::new(&a.id, &b.id, Kind::Request, 1, raw(&body)),
        &b,
    )
    .sign(a.node.log().node_key());
    let answer = receive(&b, &a.id, env.to_json().as_bytes()).await;
    assert!(
        reason_of(&answer).contains("signature does not verify"),
        "{answer:?}"
    );
    assert!(b.node.store().request(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_submission_carrying_objects_its_document_does_not_name_is_refused() {
    let [a, b] = peers::<2>().await;
    let id = new_request(&a, &b, RequestKind::Assistance, false).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    let entry = due(&a, &b).await.remove(0);
    let json = serde_json::from_str::<Value>(&plain(&a, &entry)).unwrap()["event"].to_string();
    let event = SignedEvent::parse(&json).unwrap().event;
    let named = "indicator--6f5a6d0e-7b2c-4c1e-9f3a-2d4b5c6d7e8f";
    let smuggled =
        json!({"type": "indicator", "id": "indicator--0b9c8d7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e"});
    let cases = [
        // objects the document does not name at all
        (
            None,
            vec![smuggled.clone()],
            "carries 1 related objects, but its document names 0",
        ),
        // another object than the one named
        (
            Some(json!([named])),
            vec![smuggled.clone()],
            &*format!("where its document names {named}"),
        ),
        // the named object left out
        (
            Some(json!([named])),
            vec![],
            "carries 0 related objects, but its document names 1",
        ),
        // a malformed list
        (
            Some(json!("indicator--x")),
            vec![],
            "related_objects is a list of STIX ids",
        ),
    ];
    for (seq, (listed, objects, why)) in (entry.seq..).zip(cases) {
        let mut forged = event.clone();
        if let Some(listed) = listed {
            forged.document.as_mut().unwrap()[related::FIELD] = listed;
        }
        forged.details.objects = objects;
        // A's own key signs it: only the content is wrong.
        let signed = forged.sign(a.node.log().node_key());
        let body = format!("{{\"event\":{}}}", signed.json);
        let env = sealed_to(
            Envelope::new(&a.id, &b.id, Kind::Request, seq, raw(&body)),
            &b,
        )
        .sign(a.node.log().node_key());
        let answer = receive(&b, &a.id, env.to_json().as_bytes()).await;
        assert!(reason_of(&answer).contains(why), "{why}: {answer:?}");
        assert!(b.node.store().request(&id).await.unwrap().is_none());
    }
    assert!(due(&b, &a).await.is_empty());
}

#[tokio::test]
async fn only_a_submission_carries_related_objects_and_never_ones_an_officer_gives() {
    let [a, b] = peers::<2>().await;
    let id = new_request(&a, &b, RequestKind::Assistance, false).await;
    let given = Details {
        objects: vec![
            json!({"type": "indicator", "id": "indicator--0b9c8d7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e"}),
        ],
        ..Details::default()
    };
    match act(&a.node, "alice", &id, Act::Submit, given.clone()).await {
        Err(RequestError::Invalid(why)) => assert!(why.contains("released by the node"), "{why}"),
        other => panic!("{other:?}"),
    }
    let history = History {
        kind: RequestKind::Assistance,
        state: State::UnderReview,
        retrieved: true,
        until: None,
        last_at: 0,
    };
    match check_details(Act::SupplyInfo, &given, &history, 1) {
        Err(RequestError::Invalid(why)) => assert!(
            why.contains("a list of related objects goes with submit only"),
            "{why}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        a.node.store().request(&id).await.unwrap().unwrap().state,
        "draft"
    );
}

fn raw(body: &str) -> Box<serde_json::value::RawValue> {
    serde_json::value::RawValue::from_string(body.to_owned()).unwrap()
}

/// The plaintext of an entry in `from`'s outbox.
fn plain(from: &Peer, entry: &OutboxEntry) -> String {
    plaintext(entry, &from.id, from.node.log().node_key())
}

/// `env` with its body sealed to `to`.
fn sealed_to(env: Envelope, to: &Peer) -> Envelope {
    sealed(env, to.node.log().node_key())
}

#[tokio::test]
async fn a_replayed_event_changes_nothing_and_an_out_of_order_one_is_refused() {
    let [a, b] = peers::<2>().await;
    let id = new_request(&a, &b, RequestKind::Assistance, false).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    let first = due(&a, &b).await.remove(0);
    settle(&a, &b).await;
    on(&b, "bashir", &id, Act::Acknowledge, Details::default()).await;
    on(&b, "bashir", &id, Act::Review, Details::default()).await;
    let mut queued = due(&b, &a).await;
    assert_eq!(queued.len(), 2);
    // The same event again, in a new envelope: delivered, nothing new.
    let before = (history(&b, &id).await, log_size(&b).await);
    let replay = Envelope::new(&a.id, &b.id, Kind::Request, 2, raw(&plain(&a, &first)));
    let replay = sealed_to(replay, &b).sign(a.node.log().node_key());
    let answer = receive(&b, &a.id, replay.to_json().as_bytes()).await;
    match &answer {
        Answer::Delivered(r) => {
            let body: Value = serde_json::from_str(r.envelope.body.get()).unwrap();
            assert_eq!(body["accepted"], 0, "{body}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(history(&b, &id).await, before.0);
    // Only the receipt of the envelope itself is new on B (no request entry).
    // Review before acknowledge: out of order, refused; A holds neither.
    let review = queued.remove(1);
    let env = Envelope::new(
        &b.id,
        &a.id,
        Kind::Request,
        review.seq - 1,
        raw(&plain(&b, &review)),
    );
    let env = sealed_to(env, &a).sign(b.node.log().node_key());
    let held = history(&a, &id).await;
    let answer = receive(&a, &b.id, env.to_json().as_bytes()).await;
    assert!(reason_of(&answer).contains("out of order"), "{answer:?}");
    assert_eq!(history(&a, &id).await, held);
}

#[tokio::test]
async fn a_request_is_refused_by_a_node_it_is_not_addressed_to() {
    let [a, b, c] = peers::<3>().await;
    let id = new_request(&a, &b, RequestKind::Assistance, false).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    let entry = due(&a, &b).await.remove(0);
    let env = Envelope::new(&a.id, &c.id, Kind::Request, 1, raw(&plain(&a, &entry)));
    let env = sealed_to(env, &c).sign(a.node.log().node_key());
    let answer = receive(&c, &a.id, env.to_json().as_bytes()).await;
    assert!(
        reason_of(&answer).contains("not from the sender to this node"),
        "{answer:?}"
    );
    assert!(c.node.store().request(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_withdrawal_ends_the_request_on_both_sides_and_lists_filter() {
    let [a, b, c] = peers::<3>().await;
    let id = new_request(&a, &b, RequestKind::Assistance, false).await;
    let other = new_request(&a, &c, RequestKind::Mla, false).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    settle(&a, &b).await;
    on(&a, "alice", &id, Act::Withdraw, note("resolved locally")).await;
    settle(&a, &b).await;
    assert_eq!(same_on_both(&a, &b, &id).await, State::Withdrawn);
    let all = list(
        &a.node,
        &Query {
            limit: 10,
            ..Query::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [id.as_str(), other.as_str()]
    );
    let with_c = Query {
        partner: Some(c.id.clone()),
        limit: 10,
        ..Query::default()
    };
    let listed = list(&a.node, &with_c).await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [other.as_str()]
    );
    let withdrawn = Query {
        state: Some(State::Withdrawn),
        kind: Some(RequestKind::Assistance),
        limit: 10,
        ..Query::default()
    };
    assert_eq!(list(&b.node, &withdrawn).await.unwrap().len(), 1);
    let overdue = Query {
        overdue: true,
        limit: 10,
        ..Query::default()
    };
    assert!(list(&a.node, &overdue).await.unwrap().is_empty());
}

#[tokio::test]
async fn acts_made_at_the_same_moment_are_ordered_the_same_on_both_nodes() {
    let [a, b] = peers::<2>().await;
    let id = new_request(&a, &b, RequestKind::Assistance, false).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    // B takes the submission in and records its delivery; before that reaches A, A withdraws.
    for entry in due(&a, &b).await {
        hand(&a, &b, &entry).await;
    }
    on(&a, "alice", &id, Act::Withdraw, note("changed our mind")).await;
    // A's withdrawal reaches B, which holds its own event 2 (the delivery): refused.
    let withdrawal = due(&a, &b).await.remove(0);
    let answer = hand(&a, &b, &withdrawal).await;
    assert!(reason_of(&answer).contains("which stands"), "{answer:?}");
    // B's delivery reaches A, which takes it in place of its withdrawal and makes that again
    // after it: both end withdrawn, with the delivery before the withdrawal.
    let size = log_size(&a).await;
    for entry in due(&b, &a).await {
        let answer = hand(&b, &a, &entry).await;
        assert!(matches!(answer, Answer::Delivered(_)), "{answer:?}");
    }
    assert_eq!(
        log_size(&a).await,
        size + 2,
        "the delivery and the withdrawal made again"
    );
    settle(&a, &b).await;
    assert_eq!(same_on_both(&a, &b, &id).await, State::Withdrawn);
    let shown = open(&a.node, "alice", &id).await.unwrap();
    let acts: Vec<Act> = shown.history.iter().map(|h| h.event.act).collect();
    assert_eq!(acts, [Act::Submit, Act::Deliver, Act::Withdraw]);
    assert_eq!(shown.history[2].event.officer, "alice");
    assert_eq!(
        shown.history[2].event.details.note.as_deref(),
        Some("changed our mind")
    );
}

#[tokio::test]
async fn an_act_made_again_sends_its_attachments_again() {
    let [a, b] = peers::<2>().await;
    let id = new_request(&a, &b, RequestKind::Assistance, false).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    for entry in due(&a, &b).await {
        hand(&a, &b, &entry).await;
    }
    // A withdraws with a statement attached while B's delivery is on its way.
    let data = bytes(attachments::SEGMENT + 10, 3);
    let listed = attach(&a.node, &id, "statement.pdf", &data).await.unwrap();
    let mut withdrawal = with(vec![listed.clone()]);
    withdrawal.note = Some("solved".into());
    on(&a, "alice", &id, Act::Withdraw, withdrawal).await;
    // B refuses the withdrawal (its delivery stands) and so the chunks that follow it.
    let queued = due(&a, &b).await;
    assert_eq!(queued.len(), 3, "the act and two chunks");
    for entry in &queued {
        assert!(matches!(hand(&a, &b, entry).await, Answer::Refused(_)));
    }
    assert!(read_back(&b, &id, &listed.sha256).await.is_err());
    // B's delivery reaches A, which makes its withdrawal again after it, with the bytes.
    settle(&a, &b).await;
    assert_eq!(same_on_both(&a, &b, &id).await, State::Withdrawn);
    assert_eq!(read_back(&b, &id, &listed.sha256).await.unwrap(), data);
}

#[tokio::test]
async fn the_deadline_follows_the_acknowledgement_through_the_history() {
    let [a, b] = peers::<2>().await;
    let id = new_request(&a, &b, RequestKind::Mla, false).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    settle(&a, &b).await;
    let acked = on(&b, "bashir", &id, Act::Acknowledge, Details::default()).await;
    let at = parse_us(&acked.history.last().unwrap().event.at).unwrap();
    let due_at = Some(at + 90 * 86_400_000_000);
    for step in [Act::Review, Act::RequestInfo] {
        let d = if step == Act::RequestInfo {
            note("more")
        } else {
            Details::default()
        };
        on(&b, "bashir", &id, step, d).await;
        assert_eq!(
            b.node.store().request(&id).await.unwrap().unwrap().due_at,
            due_at
        );
    }
    settle(&a, &b).await;
    on(&a, "alice", &id, Act::SupplyInfo, note("here")).await;
    assert_eq!(
        a.node.store().request(&id).await.unwrap().unwrap().due_at,
        due_at
    );
    on(&a, "alice", &id, Act::Withdraw, Details::default()).await;
    assert_eq!(
        a.node.store().request(&id).await.unwrap().unwrap().due_at,
        None
    );
}

#[tokio::test]
async fn the_requested_node_sets_the_deadline_from_its_own_response_times_and_signs_it() {
    let [a, b] = peers::<2>().await;
    let mut times = ResponseTimes::default();
    times.set(RequestKind::Production, true, 2 * 3600).unwrap();
    assert!(times.set(RequestKind::Mla, false, 10).is_err());
    assert!(times.set(RequestKind::Mla, false, 400 * 86_400).is_err());
    b.node.set_response_times(times);
    let id = new_request(&a, &b, RequestKind::Production, true).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    settle(&a, &b).await;
    // An officer does not set the deadline.
    let given = Details {
        due: Some(format_us(now_us() + 86_400_000_000)),
        ..Details::default()
    };
    let r = act(&b.node, "bashir", &id, Act::Acknowledge, given).await;
    assert!(matches!(r, Err(RequestError::Invalid(_))), "{r:?}");
    let acked = on(&b, "bashir", &id, Act::Acknowledge, Details::default()).await;
    let event = &acked.history.last().unwrap().event;
    let at = parse_us(&event.at).unwrap();
    assert_eq!(
        event.details.due.as_deref(),
        Some(format_us(at + 2 * 3_600_000_000).as_str())
    );
    settle(&a, &b).await;
    // A, whose own settings differ, holds B's signed deadline.
    let due = a.node.store().request(&id).await.unwrap().unwrap().due_at;
    assert_eq!(due, Some(at + 2 * 3_600_000_000));
    same_on_both(&a, &b, &id).await;
}

#[tokio::test]
async fn an_acknowledgement_without_a_due_time_is_refused_by_the_requester() {
    let [a, b] = peers::<2>().await;
    let id = new_request(&a, &b, RequestKind::Assistance, false).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    settle(&a, &b).await;
    on(&b, "bashir", &id, Act::Acknowledge, Details::default()).await;
    // B's acknowledgement, re-signed by B without its due time.
    let entry = due(&b, &a).await.remove(0);
    let json = serde_json::from_str::<Value>(&plain(&b, &entry)).unwrap()["event"].to_string();
    let mut event = SignedEvent::parse(&json).unwrap().event;
    event.details.due = None;
    let stripped = event.sign(b.node.log().node_key());
    let body = format!("{{\"event\":{}}}", stripped.json);
    let env = Envelope::new(&b.id, &a.id, Kind::Request, entry.seq, raw(&body));
    let env = sealed_to(env, &a).sign(b.node.log().node_key());
    let held = history(&a, &id).await;
    let answer = receive(&a, &b.id, env.to_json().as_bytes()).await;
    assert!(
        reason_of(&answer).contains("carries its due time"),
        "{answer:?}"
    );
    assert_eq!(history(&a, &id).await, held);
}

/// The notices published so far on a subscription.
fn drain(rx: &mut tokio::sync::broadcast::Receiver<notify::Notice>) -> Vec<notify::Notice> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

#[tokio::test]
async fn notices_say_what_the_other_party_did_and_never_what_the_request_says() {
    use notify::What;
    let [a, b] = peers::<2>().await;
    let (mut at_a, mut at_b) = (a.node.notices().subscribe(), b.node.notices().subscribe());
    let id = new_request(&a, &b, RequestKind::Assistance, true).await;
    on(&a, "alice", &id, Act::Submit, Details::default()).await;
    settle(&a, &b).await;
    let received = drain(&mut at_b);
    assert_eq!(received.len(), 1, "{received:?}");
    let n = &received[0];
    assert_eq!(
        (
            n.request.as_str(),
            n.what,
            n.act,
            n.emergency,
            n.partner.as_str()
        ),
        (
            id.as_str(),
            What::Received,
            Some(Act::Submit),
            true,
            a.id.as_str()
        )
    );
    assert_eq!(
        (n.kind, n.side, n.state),
        (RequestKind::Assistance, Side::Requested, State::Delivered)
    );
    assert!(n
        .subject()
        .starts_with("[Comity] EMERGENCY assistance request received from"));
    assert!(n.text().contains(&format!("comity request show {id}")));
    // A hears of B's delivery receipt; neither hears of its own acts.
    let at_requester = drain(&mut at_a);
    assert_eq!(
        at_requester
            .iter()
            .map(|n| (n.what, n.act))
            .collect::<Vec<_>>(),
        [(What::Event, Some(Act::Deliver))]
    );
    on(&b, "bashir", &id, Act::Acknowledge, Details::default()).await;
    settle(&a, &b).await;
    assert!(drain(&mut at_b).is_empty());
    let acknowledged = drain(&mut at_a);
    assert_eq!(acknowledged.len(), 1);
    assert_eq!(
        (acknowledged[0].act, acknowledged[0].state),
        (Some(Act::Acknowledge), State::Acknowledged)
    );
    assert!(acknowledged[0].due.is_some());
    // The answer is due within a day: a reminder on both sides, not overdue yet.
    let day = std::time::Duration::from_secs(86_400);
    let soon = notify::due_notices(b.node.store(), &b.id, day)
        .await
        .unwrap();
    assert_eq!(
        soon.iter()
            .map(|n| (n.request.as_str(), n.what))
            .collect::<Vec<_>>(),
        [(id.as_str(), What::Reminder)]
    );
    assert_eq!(
        notify::due_notices(a.node.store(), &a.id, day)
            .await
            .unwrap()
            .len(),
        1
    );
    let now = notify::due_notices(b.node.store(), &b.id, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert!(now.is_empty());
    // Nothing of the document, in any form a notice takes.
    let doc = a.node.store().request(&id).await.unwrap().unwrap().document;
    for secret in [
        "Rançongiciel",
        "life-support",
        "203.0.113.7",
        "Brigade",
        "2026/4711",
    ] {
        assert!(doc.contains(secret), "{secret} is not in the document");
        for n in received
            .iter()
            .chain(&at_requester)
            .chain(&acknowledged)
            .chain(&soon)
        {
            for form in [n.subject(), n.text(), n.json()] {
                assert!(!form.contains(secret), "{secret} leaked into {form}");
            }
        }
    }
}

#[tokio::test]
async fn response_times_are_counted_per_partner_kind_and_side_from_signed_times() {
    let [a, b, c] = peers::<3>().await;
    let answered = new_request(&a, &b, RequestKind::Mla, false).await;
    let refused = new_request(&a, &b, RequestKind::Mla, false).await;
    let theirs = new_request(&c, &a, RequestKind::Assistance, false).await;
    for (from, to, id) in [(&a, &b, &answered), (&a, &b, &refused), (&c, &a, &theirs)] {
        on(from, "o", id, Act::Submit, Details::default()).await;
        settle(from, to).await;
        on(to, "o", id, Act::Acknowledge, Details::default()).await;
    }
    for step in [Act::Review, Act::Accept, Act::Execute, Act::Complete] {
        on(&b, "o", &answered, step, Details::default()).await;
    }
    on(&b, "o", &refused, Act::Review, Details::default()).await;
    let no = Details {
        reason: Some(RefusalReason::Immunity),
        ..Details::default()
    };
    on(&b, "o", &refused, Act::Refuse, no).await;
    settle(&a, &b).await;
    settle(&a, &c).await;
    let stats = statistics(&a.node).await.unwrap();
    let by_b = stats.iter().find(|s| s.partner == b.id).unwrap();
    assert_eq!((by_b.kind, by_b.side), (RequestKind::Mla, Side::Requester));
    assert_eq!(
        (by_b.requests, by_b.open, by_b.overdue, by_b.refused),
        (2, 0, 0, 1)
    );
    assert!(by_b.to_acknowledge.is_some() && by_b.to_decide.is_some() && by_b.to_execute.is_some());
    let for_c = stats.iter().find(|s| s.partner == c.id).unwrap();
    assert_eq!(
        (for_c.kind, for_c.side),
        (RequestKind::Assistance, Side::Requested)
    );
    assert_eq!((for_c.requests, for_c.open, for_c.to_decide), (1, 1, None));
    assert_eq!(stats.len(), 2);
    // B computes the same figures for the requests between them, from the same signed times.
    let at_b = statistics(&b.node).await.unwrap();
    let of_a = at_b.iter().find(|s| s.partner == a.id).unwrap();
    assert_eq!(
        (
            of_a.to_acknowledge,
            of_a.to_decide,
            of_a.to_execute,
            of_a.refused
        ),
        (
            by_b.to_acknowledge,
            by_b.to_decide,
            by_b.to_execute,
            by_b.refused
        )
    );
}

/// `n` bytes that differ from place to place.
fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 12) as u8)
        .collect()
}

/// A request from `a` to `b`, submitted, delivered, acknowledged, under review with
/// information requested: the requester may now supply information with attachments.
async fn awaiting_information(a: &Peer, b: &Peer) -> String {
    let id = new_request(a, b, RequestKind::Mla, false).await;
    on(a, "alice", &id, Act::Submit, Details::default()).await;
    settle(a, b).await;
    open(&b.node, "bashir", &id).await.unwrap();
    on(b, "bashir", &id, Act::Acknowledge, Details::default()).await;
    on(b, "bashir", &id, Act::Review, Details::default()).await;
    on(b, "bashir", &id, Act::RequestInfo, note("The logs, please")).await;
    settle(a, b).await;
    id
}

fn with(attachments: Vec<Attachment>) -> Details {
    Details {
        attachments,
        ..Details::default()
    }
}

async fn read_back(p: &Peer, id: &str, sha256: &str) -> Result<Vec<u8>, RequestError> {
    let (_, reader) = attachment(&p.node, id, sha256).await?;
    Ok(reader.read_all()?)
}

#[tokio::test]
async fn attachments_travel_in_chunks_and_are_verified_and_readable_on_the_other_node() {
    let [a, b] = peers::<2>().await;
    let id = awaiting_information(&a, &b).await;
    // Two and a half segments, so three chunks.
    let data = bytes(2 * attachments::SEGMENT + attachments::SEGMENT / 2, 7);
    let listed = attach(&a.node, &id, "logs.tar", &data).await.unwrap();
    assert_eq!(listed.size, data.len() as u64);
    let small = attach(&a.node, &id, "note.txt", b"two servers")
        .await
        .unwrap();
    // Kept encrypted: the plaintext appears nowhere in the file.
    let kept = a.node.attachments().unwrap();
    let file = std::fs::read(
        a.dir
            .path()
            .join("attachments")
            .join(&small.sha256[..2])
            .join(&small.sha256),
    )
    .unwrap();
    assert!(!file.windows(11).any(|w| w == b"two servers"));
    assert_eq!(
        kept.sealed_size(&listed.sha256).unwrap(),
        Some(data.len() as u64)
    );
    on(
        &a,
        "alice",
        &id,
        Act::SupplyInfo,
        with(vec![listed.clone(), small.clone()]),
    )
    .await;
    // The event, then three chunks of the first attachment and one of the second.
    let queued = due(&a, &b).await;
    let kinds: Vec<_> = queued.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "request",
            "attachment",
            "attachment",
            "attachment",
            "attachment"
        ]
    );
    // Both transfers are queued, so none is left pending.
    let pending = a.node.store().attachment_transfers(Some(&id)).await;
    assert_eq!(pending.unwrap(), []);
    // B cannot serve the bytes before they arrive.
    for entry in &queued[..2] {
        assert!(matches!(hand(&a, &b, entry).await, Answer::Delivered(_)));
    }
    let early = read_back(&b, &id, &listed.sha256).await.unwrap_err();
    assert!(matches!(early, RequestError::NotFound(_)), "{early}");
    settle(&a, &b).await;
    assert_eq!(read_back(&b, &id, &listed.sha256).await.unwrap(), data);
    assert_eq!(
        read_back(&b, &id, &small.sha256).await.unwrap(),
        b"two servers"
    );
    // A chunk delivered again changes nothing.
    let body: Value = serde_json::from_str(&plain(&a, &queued[1])).unwrap();
    let answer = send_chunk(&a, &b, body).await;
    assert!(matches!(answer, Answer::Delivered(_)), "{answer:?}");
    assert_eq!(read_back(&b, &id, &listed.sha256).await.unwrap(), data);
    // Both hold the same history, which lists the hashes.
    same_on_both(&a, &b, &id).await;
}

#[tokio::test]
async fn an_act_listing_bytes_this_node_does_not_hold_is_refused_and_nothing_changes() {
    let [a, b] = peers::<2>().await;
    let id = awaiting_information(&a, &b).await;
    let before = history(&a, &id).await;
    let absent = Attachment {
        name: "image.e01".into(),
        sha256: "ab".repeat(32),
        size: 12,
    };
    let err = act(&a.node, "alice", &id, Act::SupplyInfo, with(vec![absent]))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("this node does not hold its bytes; upload them first"),
        "{err}"
    );
    // Held, but listed with another size.
    let mut held = attach(&a.node, &id, "note.txt", b"twelve bytes")
        .await
        .unwrap();
    held.size = 13;
    let err = act(&a.node, "alice", &id, Act::SupplyInfo, with(vec![held]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("holds 12 bytes"), "{err}");
    assert_eq!(history(&a, &id).await, before);
    assert!(due(&a, &b).await.is_empty());
}

/// `a` sends `b` an `attachment` envelope with `body`, in sequence.
async fn send_chunk(a: &Peer, b: &Peer, body: Value) -> Answer {
    let seq = b.node.store().inbox_last_seq(&a.id).await.unwrap() + 1;
    let env = Envelope::new(&a.id, &b.id, Kind::Attachment, seq, raw(&body.to_string()));
    let env = sealed_to(env, b).sign(a.node.log().node_key());
    receive(b, &a.id, env.to_json().as_bytes()).await
}

fn chunk(id: &str, a: &Attachment, offset: u64, data: &[u8]) -> Value {
    use base64::Engine as _;
    json!({
        "request": id,
        "sha256": a.sha256,
        "offset": offset,
        "size": a.size,
        "data": base64::engine::general_purpose::STANDARD.encode(data),
    })
}

#[tokio::test]
async fn chunks_with_wrong_bytes_unlisted_hashes_gaps_or_from_a_third_node_are_refused() {
    let [a, b, c] = peers::<3>().await;
    let id = awaiting_information(&a, &b).await;
    let data = bytes(3000, 1);
    let listed = attach(&a.node, &id, "logs.tar", &data).await.unwrap();
    on(
        &a,
        "alice",
        &id,
        Act::SupplyInfo,
        with(vec![listed.clone()]),
    )
    .await;
    // Deliver the event only; the chunks are forged below.
    let queued = due(&a, &b).await;
    assert!(matches!(
        hand(&a, &b, &queued[0]).await,
        Answer::Delivered(_)
    ));
    for entry in &queued[1..] {
        a.node
            .store()
            .outbox_delivered(&b.id, entry.seq, 1, "{}")
            .await
            .unwrap();
    }
    // A hash no event lists.
    let other = Attachment {
        sha256: "cd".repeat(32),
        ..listed.clone()
    };
    let why = reason_of(&send_chunk(&a, &b, chunk(&id, &other, 0, &data[..100])).await);
    assert!(why.contains("is not listed in any signed event"), "{why}");
    // Another size than the one listed.
    let mut resized = chunk(&id, &listed, 0, &data[..100]);
    resized["size"] = json!(4000);
    let why = reason_of(&send_chunk(&a, &b, resized).await);
    assert!(why.contains("is listed with 3000 bytes, not 4000"), "{why}");
    // From a node that is not a party.
    let why = reason_of(&send_chunk(&c, &b, chunk(&id, &listed, 0, &data[..100])).await);
    assert!(
        why.contains("not found") || why.contains("not the other party"),
        "{why}"
    );
    // A gap: the first chunk has not come.
    let why = reason_of(&send_chunk(&a, &b, chunk(&id, &listed, 1000, &data[1000..2000])).await);
    assert!(why.contains("holds 0 bytes"), "{why}");
    // Wrong bytes in the middle: the whole does not hash to the listed SHA-256.
    let mut forged = data.clone();
    forged[1500] ^= 1;
    let first = send_chunk(&a, &b, chunk(&id, &listed, 0, &forged[..2000])).await;
    assert!(matches!(first, Answer::Delivered(_)), "{first:?}");
    let why = reason_of(&send_chunk(&a, &b, chunk(&id, &listed, 2000, &forged[2000..])).await);
    assert!(why.contains("nothing was kept"), "{why}");
    let kept = b.node.attachments().unwrap();
    assert_eq!(kept.progress(&listed.sha256).unwrap(), None);
    let err = read_back(&b, &id, &listed.sha256).await.unwrap_err();
    assert!(matches!(err, RequestError::NotFound(_)), "{err}");
    // Past the end.
    let why = reason_of(&send_chunk(&a, &b, chunk(&id, &listed, 0, &bytes(3001, 1))).await);
    assert!(why.contains("runs past"), "{why}");
    // The true bytes are then taken.
    for (from, to) in [(0, 2000), (2000, 3000)] {
        let ok = send_chunk(&a, &b, chunk(&id, &listed, from as u64, &data[from..to])).await;
        assert!(matches!(ok, Answer::Delivered(_)), "{ok:?}");
    }
    assert_eq!(read_back(&b, &id, &listed.sha256).await.unwrap(), data);
}

#[tokio::test]
async fn a_tampered_or_swapped_file_at_rest_is_an_integrity_error_never_served() {
    let [a, b] = peers::<2>().await;
    let id = awaiting_information(&a, &b).await;
    let one = attach(&a.node, &id, "one", &bytes(5000, 1)).await.unwrap();
    let two = attach(&a.node, &id, "two", &bytes(5000, 2)).await.unwrap();
    on(
        &a,
        "alice",
        &id,
        Act::SupplyInfo,
        with(vec![one.clone(), two.clone()]),
    )
    .await;
    let root = a.dir.path().join("attachments");
    let path = |s: &str| root.join(&s[..2]).join(s);
    // A flipped bit.
    let good = std::fs::read(path(&one.sha256)).unwrap();
    let mut bad = good.clone();
    let last = bad.len() - 20;
    bad[last] ^= 0x40;
    std::fs::write(path(&one.sha256), &bad).unwrap();
    let err = read_back(&a, &id, &one.sha256).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("fails its integrity check at rest"),
        "{err}"
    );
    // Another attachment's file in its place.
    std::fs::copy(path(&two.sha256), path(&one.sha256)).unwrap();
    let err = read_back(&a, &id, &one.sha256).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("fails its integrity check at rest"),
        "{err}"
    );
    // Cut short.
    std::fs::write(path(&one.sha256), &good[..good.len() - 100]).unwrap();
    let err = read_back(&a, &id, &one.sha256).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("fails its integrity check at rest"),
        "{err}"
    );
    std::fs::write(path(&one.sha256), &good).unwrap();
    assert_eq!(
        read_back(&a, &id, &one.sha256).await.unwrap(),
        bytes(5000, 1)
    );
}

#[tokio::test]
async fn an_interrupted_upload_resumes_where_the_bytes_held_end() {
    let [a, b] = peers::<2>().await;
    let id = awaiting_information(&a, &b).await;
    let data = bytes(10_000, 3);
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data));
    let size = data.len() as u64;
    let p = upload(&a.node, &id, &sha256, size, 0, &data[..4000])
        .await
        .unwrap();
    assert_eq!((p.held, p.complete), (4000, false));
    // A torn write after the last whole chunk is cut off.
    let partial = a.dir.path().join("attachments/partial").join(&sha256);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&partial)
        .unwrap();
    std::io::Write::write_all(&mut f, &[0, 0, 1, 0, 9, 9]).unwrap();
    drop(f);
    // Resuming from another offset is refused with the bytes held.
    let err = upload(&a.node, &id, &sha256, size, 6000, &data[6000..])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RequestError::Attachment(attachments::AttachmentError::Offset { held: 4000, .. })
        ),
        "{err}"
    );
    let p = upload(&a.node, &id, &sha256, size, 4000, &data[4000..])
        .await
        .unwrap();
    assert_eq!((p.held, p.complete), (size, true));
    // A spoiled partial file is dropped, and the upload starts afresh.
    let other = bytes(5000, 9);
    let sha_other = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&other));
    upload(&a.node, &id, &sha_other, 5000, 0, &other[..1000])
        .await
        .unwrap();
    let spoiled = a.dir.path().join("attachments/partial").join(&sha_other);
    let mut text = std::fs::read(&spoiled).unwrap();
    text[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
    std::fs::write(&spoiled, text).unwrap();
    let err = upload(&a.node, &id, &sha_other, 5000, 1000, &other[1000..])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("integrity check"), "{err}");
    let p = upload(&a.node, &id, &sha_other, 5000, 0, &other)
        .await
        .unwrap();
    assert!(p.complete);
    // A size above the limit, or a request that does not exist, is refused.
    let err = upload(&a.node, &id, &sha256, 3 << 30, 0, b"")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most"), "{err}");
    let unknown = format!("request--{}", uuid::Uuid::new_v4());
    let err = upload(&a.node, &unknown, &sha256, size, 0, b"")
        .await
        .unwrap_err();
    assert!(matches!(err, RequestError::NotFound(_)), "{err}");
}

#[tokio::test]
async fn bytes_a_crash_left_unqueued_are_queued_when_the_sender_starts() {
    let [a, b] = peers::<2>().await;
    let id = awaiting_information(&a, &b).await;
    let data = bytes(attachments::SEGMENT + 5, 9);
    let listed = attach(&a.node, &id, "disk.img", &data).await.unwrap();
    // The act is made and the process stops before any chunk is queued: the store holds
    // the event, its envelope and the pending transfer, written together.
    make(
        a.node.store(),
        a.node.log(),
        None,
        &a.id,
        "alice",
        &id,
        Act::SupplyInfo,
        with(vec![listed.clone(), listed.clone()]),
        &ResponseTimes::default(),
    )
    .await
    .unwrap();
    let kinds = |queued: Vec<OutboxEntry>| -> Vec<String> {
        queued
            .into_iter()
            .map(|e| e.kind.as_str().to_owned())
            .collect()
    };
    assert_eq!(kinds(due(&a, &b).await), ["request"]);
    let pending = a.node.store().attachment_transfers(None).await.unwrap();
    assert_eq!(pending.len(), 1, "one transfer per attachment: {pending:?}");
    assert_eq!(
        (pending[0].sha256.as_str(), pending[0].member.as_str()),
        (listed.sha256.as_str(), b.id.as_str())
    );
    // Started again, the sender queues the chunks after the event, once.
    assert_eq!(resume_transfers(&a.node).await.unwrap(), 1);
    assert_eq!(
        kinds(due(&a, &b).await),
        ["request", "attachment", "attachment"]
    );
    assert_eq!(a.node.store().attachment_transfers(None).await.unwrap(), []);
    assert_eq!(resume_transfers(&a.node).await.unwrap(), 0);
    assert_eq!(due(&a, &b).await.len(), 3);
    settle(&a, &b).await;
    assert_eq!(read_back(&b, &id, &listed.sha256).await.unwrap(), data);
    same_on_both(&a, &b, &id).await;
}

#[tokio::test]
async fn an_empty_attachment_travels_too() {
    let [a, b] = peers::<2>().await;
    let id = awaiting_information(&a, &b).await;
    let empty = attach(&a.node, &id, "empty.txt", b"").await.unwrap();
    assert_eq!(empty.size, 0);
    on(&a, "alice", &id, Act::SupplyInfo, with(vec![empty.clone()])).await;
    settle(&a, &b).await;
    assert_eq!(read_back(&b, &id, &empty.sha256).await.unwrap(), b"");
}

#[tokio::test]
async fn attachment_chunks_count_against_the_senders_hourly_bytes() {
    use crate::federation::quota::{QuotaLimits, Quotas};
    let [a, b] = peers::<2>().await;
    let id = awaiting_information(&a, &b).await;
    let data = bytes(3000, 4);
    let listed = attach(&a.node, &id, "logs.tar", &data).await.unwrap();
    on(
        &a,
        "alice",
        &id,
        Act::SupplyInfo,
        with(vec![listed.clone()]),
    )
    .await;
    let queued = due(&a, &b).await;
    assert!(matches!(
        hand(&a, &b, &queued[0]).await,
        Answer::Delivered(_)
    ));
    let quotas = Quotas::new(QuotaLimits {
        objects_per_hour: 1000,
        bytes_per_hour: 1000,
    });
    let federation = a.node.directory().federation().await.unwrap();
    let key = a.node.log().node_key();
    let env =
        outbox_envelope(&queued[1], &a.id, key, &federation, &mut Default::default()).unwrap();
    let answer = Inbox::new(b.node.store(), b.node.log())
        .with_quotas(&quotas)
        .with_attachments(b.node.attachments())
        .receive(&a.id, env.to_json().as_bytes())
        .await
        .unwrap();
    assert!(matches!(answer, Answer::OverQuota { .. }), "{answer:?}");
    assert_eq!(
        b.node
            .attachments()
            .unwrap()
            .progress(&listed.sha256)
            .unwrap(),
        None
    );
}
