//! Witnessing over envelopes between two real nodes over HTTP: A submits its checkpoints to
//! B, B cosigns them with its witness, A verifies and keeps B's cosignature and serves its
//! checkpoint with it. Forks, rollbacks and bad proofs presented to B raise alerts kept
//! with their evidence and change no witness state; refusals and inconsistent answers met
//! by A raise alerts there. Bad input (forged signatures, unknown senders, garbage proofs,
//! oversized notes) is refused precisely, changing nothing.

mod common;

use std::time::Duration;

use comity_node::federation::envelope::{Envelope, Kind, Signed};
use comity_node::federation::inbox::{Answer, Inbox};
use comity_node::federation::witnessing::{
    self, CheckpointBody, CosignatureBody, Outcome, Prepared, FORK, INCONSISTENT, PEER_AHEAD,
    REFUSED, ROLLBACK,
};
use comity_node::federation::DeliveryError;
use comity_node::log::NodeLog;
use comity_node::registry::{Directory, Registry};
use comity_tlog::checkpoint::Checkpoint;
use comity_tlog::note::{KeyKind, Note, Signer};
use comity_tlog::witness::AddCheckpoint;
use comity_tlog::Hash;
use common::{Node, TestNode};
use serde_json::value::RawValue;

async fn node(seed: u8, name: &str) -> Node {
    // The background round stays out of the way: the tests run rounds themselves.
    TestNode::new()
        .with_user("admin", comity_store::Role::Admin)
        .with_log(common::signer(&format!("comity/{name}"), seed))
        .registered_as(name)
        .with_witness_every(Duration::from_secs(3600))
        .titled("t")
        .start()
        .await
}

/// `on` pins `peer` (its id, key and endpoint).
async fn pin(on: &Node, peer: &Node) {
    let mut record = Directory::new(peer.store.as_ref())
        .local_member()
        .await
        .unwrap()
        .unwrap()
        .record;
    record.local = false;
    Registry::new(on.store.as_ref(), &on.log)
        .add_member(record)
        .await
        .unwrap();
}

async fn grow(n: &Node, entries: usize) {
    let batch = (0..entries)
        .map(|i| format!("{{\"grown\":{i},\"at\":{}}}", comity_stix::clock::now_us()).into_bytes())
        .collect();
    n.store
        .transparency_log()
        .append_entries(batch)
        .await
        .unwrap();
}

async fn round(n: &Node) -> Vec<(String, Result<Outcome, DeliveryError>)> {
    comity_server::witnessing::round(n.state(), &reqwest::Client::new()).await
}

/// A checkpoint envelope from `from` to `to` carrying `text`, signed with `key`.
fn checkpoint_envelope(from: &Node, to: &Node, text: &str, key: &NodeLog) -> Signed {
    let body = serde_json::value::to_raw_value(&CheckpointBody {
        add_checkpoint: text.to_owned(),
    })
    .unwrap();
    Envelope::new(&from.id, &to.id, Kind::Checkpoint, 0, body).sign(key.node_key())
}

/// Why `to` rejected `env` without signing anything (panics on any other answer).
async fn rejected(to: &Node, env: &Signed) -> String {
    match Inbox::new(to.store.as_ref(), &to.log)
        .receive(&env.envelope.from, env.to_json().as_bytes())
        .await
        .unwrap()
    {
        Answer::Rejected(why) => why.to_string(),
        other => panic!("expected an unsigned rejection, got {other:?}"),
    }
}

/// A signed checkpoint of `origin` at `size` with `root`, signed by `signer`.
fn forged_note(signer: &Signer, origin: &str, size: u64, root: Hash) -> String {
    Checkpoint {
        origin: origin.into(),
        size,
        root,
        extensions: vec![],
    }
    .sign(signer)
    .unwrap()
    .to_string()
}

async fn deliver(to: &Node, env: &Signed) -> (u16, Signed, Option<&'static str>) {
    match Inbox::new(to.store.as_ref(), &to.log)
        .receive(&env.envelope.from, env.to_json().as_bytes())
        .await
        .unwrap()
    {
        Answer::Witness(w) => (w.status, w.answer, w.alert),
        Answer::Refused(r) => (422, r, None),
        other => panic!("unexpected answer {other:?}"),
    }
}

fn body_of(answer: &Signed) -> CosignatureBody {
    assert_eq!(
        answer.envelope.kind,
        Kind::Cosignature,
        "{}",
        answer.to_json()
    );
    serde_json::from_str(answer.envelope.body.get()).unwrap()
}

async fn witnessed_size(b: &Node, a: &Node) -> Option<u64> {
    b.store
        .transparency_log()
        .witnessed(a.log.origin())
        .await
        .unwrap()
        .map(|w| w.head.size)
}

async fn alerts(n: &Node) -> Vec<comity_store::WitnessAlert> {
    n.store.transparency_log().witness_alerts().await.unwrap()
}

async fn pair() -> (Node, Node) {
    let a = node(1, "a").await;
    let b = node(2, "b").await;
    pin(&a, &b).await;
    pin(&b, &a).await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_cosign_each_others_checkpoints_and_serve_them() {
    let (a, b) = pair().await;
    grow(&a, 5).await;
    let out = round(&a).await;
    assert_eq!(out.len(), 1, "{out:?}");
    let size = a.log.checkpoint(a.store.as_ref()).await.unwrap().size;
    assert_eq!(out[0].0, b.id);
    assert!(
        matches!(&out[0].1, Ok(o) if *o == Outcome::Cosigned { size }),
        "{out:?}"
    );
    assert_eq!(witnessed_size(&b, &a).await, Some(size));
    // Nothing new: nothing sent.
    assert!(round(&a).await.is_empty());
    // B's log grows too, and A cosigns it.
    grow(&b, 3).await;
    let out = round(&b).await;
    assert!(matches!(out[0].1, Ok(Outcome::Cosigned { .. })), "{out:?}");
    // A grows: the next submission carries a consistency proof from the size B cosigned.
    grow(&a, 40).await;
    let out = round(&a).await;
    let bigger = a.log.checkpoint(a.store.as_ref()).await.unwrap().size;
    assert!(
        matches!(&out[0].1, Ok(o) if *o == Outcome::Cosigned { size: bigger }),
        "{out:?}"
    );
    assert_eq!(witnessed_size(&b, &a).await, Some(bigger));
    // A serves its checkpoint with B's cosignature, verifiable with B's pinned key.
    let client = reqwest::Client::new();
    for path in ["/log/checkpoint", "/log/checkpoint/cosigned"] {
        let r = client
            .get(format!("http://{}{path}", a.addr))
            .basic_auth("admin", Some(common::PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let text = r.text().await.unwrap();
        let opened = Checkpoint::open(
            text.as_bytes(),
            a.log.origin(),
            &[a.log.verifier(), b.log.cosigner_verifier()],
        )
        .unwrap();
        assert_eq!(opened.checkpoint.size, bigger, "{path}");
        let kinds: Vec<KeyKind> = opened.note.verified.iter().map(|v| v.kind).collect();
        assert_eq!(
            kinds,
            vec![KeyKind::Ed25519, KeyKind::CosignatureV1],
            "{path}"
        );
    }
    // B's member key was bound to A's log origin on first sight.
    let trusted = b.store.transparency_log().trusted_logs().await.unwrap();
    assert_eq!(trusted.len(), 1);
    assert_eq!(trusted[0].origin, a.log.origin());
    assert!(alerts(&a).await.is_empty() && alerts(&b).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forks_rollbacks_and_bad_proofs_raise_alerts_with_evidence_and_change_nothing() {
    let (a, b) = pair().await;
    grow(&a, 10).await;
    assert!(matches!(round(&a).await[0].1, Ok(Outcome::Cosigned { .. })));
    let cosigned = b
        .store
        .transparency_log()
        .witnessed(a.log.origin())
        .await
        .unwrap()
        .unwrap();
    let size = cosigned.head.size;

    // The same size with another root, signed with A's real key: a fork.
    let other = forged_note(&a.signer, a.log.origin(), size, Hash::leaf(b"other"));
    let text = AddCheckpoint {
        old_size: size,
        proof: vec![],
        checkpoint: other.clone(),
    }
    .to_body();
    let env = checkpoint_envelope(&a, &b, &text, &a.log);
    let (status, answer, alert) = deliver(&b, &env).await;
    assert_eq!((status, alert), (422, Some(FORK)));
    let body = body_of(&answer);
    assert_eq!(body.outcome, "refused");
    assert_eq!(body.evidence.as_deref(), Some(cosigned.note.as_str()));
    answer.verify(&b.log.node_key().public_key()).unwrap();
    let kept = alerts(&b).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].kind.as_str(), kept[0].peer.as_str()),
        (FORK, a.id.as_str())
    );
    assert_eq!(kept[0].ours, cosigned.note);
    assert_eq!(kept[0].theirs, other);
    // The same evidence again is kept once.
    let again = checkpoint_envelope(&a, &b, &text, &a.log);
    let (status, _, alert) = deliver(&b, &again).await;
    assert_eq!((status, alert), (422, None));
    assert_eq!(alerts(&b).await.len(), 1);

    // A smaller checkpoint than the one cosigned: a rollback.
    let smaller = forged_note(&a.signer, a.log.origin(), size - 3, Hash::leaf(b"old"));
    let text = AddCheckpoint {
        old_size: size - 3,
        proof: vec![],
        checkpoint: smaller,
    }
    .to_body();
    let (status, answer, alert) = deliver(&b, &checkpoint_envelope(&a, &b, &text, &a.log)).await;
    assert_eq!((status, alert), (409, Some(ROLLBACK)));
    assert_eq!(body_of(&answer).known_size, Some(size));

    // A larger checkpoint whose proof does not verify.
    let larger = forged_note(&a.signer, a.log.origin(), size + 4, Hash::leaf(b"new"));
    let proof_len = comity_tlog::proof::consistency_proof_len(size, size + 4).unwrap();
    let text = AddCheckpoint {
        old_size: size,
        proof: vec![Hash::leaf(b"junk"); proof_len],
        checkpoint: larger,
    }
    .to_body();
    let (status, _, alert) = deliver(&b, &checkpoint_envelope(&a, &b, &text, &a.log)).await;
    assert_eq!((status, alert), (422, Some(INCONSISTENT)));

    let kinds: Vec<&str> = alerts(&b).await.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds, vec![FORK, ROLLBACK, INCONSISTENT]);
    // Every alert is committed to B's log.
    let bsize = b.store.transparency_log().log_size().await.unwrap();
    let entries = b
        .store
        .transparency_log()
        .log_entries(0, bsize)
        .await
        .unwrap();
    let logged = entries
        .iter()
        .filter(|e| String::from_utf8_lossy(e).contains("\"kind\":\"witness.alert\""))
        .count();
    assert_eq!(logged, 3);
    // Nothing changed B's witness state: A's real next checkpoint is cosigned.
    assert_eq!(witnessed_size(&b, &a).await, Some(size));
    grow(&a, 2).await;
    assert!(matches!(round(&a).await[0].1, Ok(Outcome::Cosigned { .. })));
    assert_eq!(witnessed_size(&b, &a).await, Some(size + 2));
    // Admins read the alerts with their evidence over the node API.
    let r = reqwest::Client::new()
        .get(format!("http://{}/api/v1/witness/alerts", b.addr))
        .basic_auth("admin", Some(common::PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let listed: serde_json::Value = r.json().await.unwrap();
    let listed = listed["alerts"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0]["kind"], FORK);
    assert_eq!(listed[0]["theirs"], other.as_str());
    assert_eq!(listed[0]["ours"], cosigned.note.as_str());
    let anonymous = reqwest::Client::new()
        .get(format!("http://{}/api/v1/witness/alerts", b.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_precisely_and_changes_nothing() {
    let (a, b) = pair().await;
    grow(&a, 6).await;
    assert!(matches!(round(&a).await[0].1, Ok(Outcome::Cosigned { .. })));
    let size = witnessed_size(&b, &a).await.unwrap();
    grow(&a, 2).await;
    let latest = a.log.checkpoint(a.store.as_ref()).await.unwrap();
    let good = match witnessing::prepare(a.store.as_ref(), &a.log, &a.id, &b.id, None, 0)
        .await
        .unwrap()
    {
        Prepared::Send(sub) => *sub,
        other => panic!("{other:?}"),
    };
    let good_text: CheckpointBody =
        serde_json::from_str(good.envelope.envelope.body.get()).unwrap();
    let good_text = good_text.add_checkpoint;
    let stranger_log = NodeLog::new(
        Signer::new(
            "comity/stranger",
            KeyKind::Ed25519,
            ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
        )
        .unwrap(),
    )
    .unwrap();

    let refused = |got: (u16, Signed, Option<&'static str>), status: u16, want: &str| {
        let (got_status, answer, alert) = got;
        assert_eq!((got_status, alert), (status, None));
        let body = body_of(&answer);
        assert_eq!((body.outcome.as_str(), body.status), ("refused", status));
        let reason = body.reason.unwrap_or_default();
        assert!(reason.contains(want), "{reason:?} lacks {want:?}");
    };

    // Signed by another key than A's pinned one: rejected, nothing signed.
    let forged = checkpoint_envelope(&a, &b, &good_text, &stranger_log);
    assert!(rejected(&b, &forged)
        .await
        .contains("does not verify with the pinned key"));

    // From a member B does not know.
    let mut unknown = Envelope::new(
        "identity--00000000-0000-4000-8000-000000000099",
        &b.id,
        Kind::Checkpoint,
        0,
        RawValue::from_string(
            serde_json::to_string(&CheckpointBody {
                add_checkpoint: good_text.clone(),
            })
            .unwrap(),
        )
        .unwrap(),
    );
    unknown.id = uuid::Uuid::new_v4().to_string();
    assert!(rejected(&b, &unknown.sign(stranger_log.node_key()))
        .await
        .contains("is not a registered member"));

    // A garbage proof line.
    let garbage = good_text.replacen('\n', "\nnot*base64!\n", 1);
    refused(
        deliver(&b, &checkpoint_envelope(&a, &b, &garbage, &a.log)).await,
        400,
        "proof line is not a base64 hash",
    );

    // An oversized note.
    let big = format!(
        "old {size}\n\n{}\n{}\n{}\n{}\n\n— x AAAA\n",
        a.log.origin(),
        size + 2,
        Hash::leaf(b"x"),
        "e".repeat((1 << 20) + 8192)
    );
    refused(
        deliver(&b, &checkpoint_envelope(&a, &b, &big, &a.log)).await,
        400,
        "too large",
    );

    // A checkpoint note signed by another key under A's origin.
    let impostor = Signer::new(
        a.log.origin(),
        KeyKind::Ed25519,
        ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
    )
    .unwrap();
    let note = forged_note(&impostor, a.log.origin(), latest.size, Hash::leaf(b"x"));
    let text = AddCheckpoint {
        old_size: size,
        proof: good
            .proof
            .lines()
            .map(|l| Hash::from_base64(l).unwrap())
            .collect(),
        checkpoint: note,
    }
    .to_body();
    refused(
        deliver(&b, &checkpoint_envelope(&a, &b, &text, &a.log)).await,
        403,
        "not signed by the pinned key",
    );

    // Not a checkpoint body; sequenced; stale.
    let mut odd = checkpoint_envelope(&a, &b, &good_text, &a.log).envelope;
    odd.body = RawValue::from_string("{\"objects\":[]}".into()).unwrap();
    refused(
        deliver(&b, &odd.sign(a.log.node_key())).await,
        400,
        "the body is not",
    );
    let mut sequenced = checkpoint_envelope(&a, &b, &good_text, &a.log).envelope;
    sequenced.seq = 1;
    refused(
        deliver(&b, &sequenced.sign(a.log.node_key())).await,
        400,
        "not sequenced",
    );
    let mut stale = checkpoint_envelope(&a, &b, &good_text, &a.log).envelope;
    stale.created = comity_node::federation::envelope::timestamp(
        time::OffsetDateTime::now_utc() - time::Duration::minutes(6),
    );
    refused(
        deliver(&b, &stale.sign(a.log.node_key())).await,
        400,
        "must be fresh",
    );

    // None of it changed anything; the good one is still cosigned.
    assert!(alerts(&b).await.is_empty());
    assert_eq!(witnessed_size(&b, &a).await, Some(size));
    let (status, answer, alert) = deliver(&b, &good.envelope).await;
    assert_eq!((status, alert), (200, None));
    let outcome = witnessing::answered(
        a.store.as_ref(),
        &a.log,
        &a.id,
        &b.log.node_key().public_key(),
        &good,
        status,
        answer.to_json().as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(outcome, Outcome::Cosigned { size: latest.size });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_checks_answers_and_raises_alerts_on_inconsistencies() {
    let (a, b) = pair().await;
    grow(&a, 4).await;
    let sub = match witnessing::prepare(a.store.as_ref(), &a.log, &a.id, &b.id, None, 0)
        .await
        .unwrap()
    {
        Prepared::Send(sub) => *sub,
        other => panic!("{other:?}"),
    };
    let bkey = b.log.node_key().public_key();
    let answer = |body: CosignatureBody, signer: &NodeLog| {
        let raw = serde_json::value::to_raw_value(&body).unwrap();
        Envelope::new(&b.id, &a.id, Kind::Cosignature, 0, raw)
            .sign(signer.node_key())
            .to_json()
    };
    let refusal = |status: u16, known_size: Option<u64>| CosignatureBody {
        envelope: sub.envelope.envelope.id.clone(),
        outcome: "refused".into(),
        status,
        cosignature: None,
        known_size,
        reason: Some("because".into()),
        evidence: Some("a checkpoint B cosigned\n".into()),
    };
    let check = |status: u16, text: String| {
        let (store, log, id, key, sub) = (
            a.store.clone(),
            a.log.clone(),
            a.id.clone(),
            bkey,
            sub.clone(),
        );
        async move {
            witnessing::answered(
                store.as_ref(),
                &log,
                &id,
                &key,
                &sub,
                status,
                text.as_bytes(),
            )
            .await
        }
    };
    // A cosignature that does not verify with B's key: nothing is kept.
    let text = Note::parse(sub.checkpoint.note.as_bytes()).unwrap().text;
    let wrong = Signer::new(
        b.log.origin(),
        KeyKind::CosignatureV1,
        ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
    )
    .unwrap()
    .cosign(&text, 1_800_000_000)
    .unwrap()
    .to_line();
    let bad = CosignatureBody {
        envelope: sub.envelope.envelope.id.clone(),
        outcome: "cosigned".into(),
        status: 200,
        cosignature: Some(wrong),
        known_size: None,
        reason: None,
        evidence: None,
    };
    assert!(matches!(
        check(200, answer(bad.clone(), &b.log)).await,
        Err(DeliveryError::Cosignature(_))
    ));
    // An answer signed by someone else than B.
    let stranger = NodeLog::new(
        Signer::new(
            "comity/s",
            KeyKind::Ed25519,
            ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(matches!(
        check(409, answer(refusal(409, Some(1)), &stranger)).await,
        Err(DeliveryError::Unverified { .. })
    ));
    // An answer about another envelope.
    let mut elsewhere = refusal(409, Some(1));
    elsewhere.envelope = "another".into();
    assert!(matches!(
        check(409, answer(elsewhere, &b.log)).await,
        Err(DeliveryError::OtherCheckpoint)
    ));
    assert!(a
        .store
        .transparency_log()
        .latest_cosignature(&b.id)
        .await
        .unwrap()
        .is_none());
    assert!(alerts(&a).await.is_empty());

    // 409 with a size A has: retry from it. 409 with a size A has not: A was rolled back.
    assert_eq!(
        check(409, answer(refusal(409, Some(2)), &b.log))
            .await
            .unwrap(),
        Outcome::Retry { known_size: 2 }
    );
    assert_eq!(
        check(
            409,
            answer(refusal(409, Some(sub.checkpoint.size + 10)), &b.log)
        )
        .await
        .unwrap(),
        Outcome::Alert {
            kind: PEER_AHEAD,
            new: true
        }
    );
    // The same word of the peer again: kept once.
    assert_eq!(
        check(
            409,
            answer(refusal(409, Some(sub.checkpoint.size + 10)), &b.log)
        )
        .await
        .unwrap(),
        Outcome::Alert {
            kind: PEER_AHEAD,
            new: false
        }
    );
    // 422: B found A's checkpoint inconsistent.
    assert_eq!(
        check(422, answer(refusal(422, None), &b.log))
            .await
            .unwrap(),
        Outcome::Alert {
            kind: REFUSED,
            new: true
        }
    );
    // Other refusals are not inconsistencies.
    assert_eq!(
        check(403, answer(refusal(403, None), &b.log))
            .await
            .unwrap(),
        Outcome::Refused {
            status: 403,
            reason: "because".into()
        }
    );
    let kept = alerts(&a).await;
    let kinds: Vec<&str> = kept.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds, vec![PEER_AHEAD, REFUSED]);
    assert_eq!(kept[1].ours, sub.checkpoint.note);
    assert_eq!(kept[1].theirs, "a checkpoint B cosigned\n");
    assert_eq!(kept[1].proof, sub.proof);
}
