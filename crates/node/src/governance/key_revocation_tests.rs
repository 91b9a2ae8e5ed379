//! Revoking a member's keys by a governance decision, between four nodes over real SQLite
//! stores and the real inbox: a thief of member D's key rotated first, so its peers pin the
//! thief's key; the others vote D's keys revoked and the key D supplied out of band pinned.

use comity_stix::clock::format_us;
use serde_json::json;

use super::service::{self, count_due, NewProposal};
use super::service_tests::{a_and_b_vote_yes, count_time, deliver, tabled_at, with_rules, SECOND};
use super::*;
use crate::federation::envelope::{Envelope, Kind};
use crate::federation::inbox::Answer;
use crate::federation::seal::OpeningKey;
use crate::federation::test_nodes::signer;
use crate::identity::rotation::{KeyHistory, KeyStatement, SignedKeyStatement};
use crate::identity::NodeKey;
use crate::test_peers::{peers, receive, Peer};

fn key(seed: u8) -> NodeKey {
    NodeKey::from_log_signer(&signer(seed)).unwrap()
}

fn public(seed: u8) -> String {
    key(seed).public_key().to_string()
}

fn encryption(seed: u8) -> String {
    OpeningKey::of(&key(seed)).public_key().to_string()
}

/// The proposal to revoke `member`'s keys from `from` and pin the key of `seed`.
fn revoke(member: &str, from: i64, seed: u8) -> NewProposal {
    serde_json::from_value(json!({"action": {
        "kind": "revoke_member_key",
        "member": member,
        "revoked_from": format_us(from),
        "new_key": public(seed),
        "encryption_key": encryption(seed),
    }}))
    .unwrap()
}

/// `member`'s rotation from the key of `old` to that of `new` at `at`.
fn rotation(member: &str, old: u8, new: u8, at: i64) -> SignedKeyStatement {
    SignedKeyStatement::rotation(member, &key(old), &key(new), encryption(new), at)
}

async fn pinned(on: &Peer, of: &str) -> crate::registry::MemberRecord {
    on.node
        .directory()
        .member(of)
        .await
        .unwrap()
        .unwrap()
        .record
}

/// A governance envelope from `from`'s member signed with `key`, handed to `to`.
async fn envelope_signed_by(from: &Peer, to: &Peer, key: &NodeKey) -> Answer {
    let seq = to.node.store().inbox_last_seq(&from.id).await.unwrap() + 1;
    let raw = serde_json::value::RawValue::from_string("{}".into()).unwrap();
    let env = Envelope::new(&from.id, &to.id, Kind::Governance, seq, raw);
    let env = crate::federation::seal::testing::sealed(env, to.node.log().node_key()).sign(key);
    receive(to, &from.id, env.to_json().as_bytes()).await
}

#[tokio::test]
async fn a_thiefs_rotation_is_undone_by_a_vote_and_every_node_pins_the_members_new_key() {
    let [a, b, c, d] = peers::<4>().await;
    with_rules(&[&a, &b, &c, &d]).await;
    let at = tabled_at();
    // The thief of D's key (seed 4) rotates it to its own (40) before D notices.
    let stolen_at = at - 5 * SECOND;
    let theft = rotation(&d.id, 4, 40, stolen_at);
    for p in [&a, &b, &c] {
        p.node
            .registry()
            .take_key_statements(&d.id, std::slice::from_ref(&theft))
            .await
            .unwrap();
    }
    // D supplied its new key (41) out of band; A tables the revocation from before the theft.
    let compromised = stolen_at - SECOND;
    let id = service::propose(&a.node, revoke(&d.id, compromised, 41), at)
        .await
        .unwrap()
        .proposal
        .id;
    a_and_b_vote_yes(&a, &b, &c, &id, at).await;
    for p in [&a, &b, &c] {
        count_due(p.node.store(), count_time(at)).await.unwrap();
        let shown = service::show(p.node.store(), &id, count_time(at))
            .await
            .unwrap();
        assert_eq!(
            shown.state,
            ProposalState::Executed,
            "{:?}",
            shown.not_executed
        );
        let record = pinned(p, &d.id).await;
        assert_eq!(record.public_key, public(41));
        assert_eq!(record.encryption_key, Some(encryption(41)));
        // The history records the decision after the theft; the thief's key and the stolen
        // one are revoked from the time the compromise began.
        assert_eq!(record.key_history.len(), 2);
        assert!(matches!(
            &record.key_history[1].statement,
            KeyStatement::KeyReplacement { proposal, old_key, .. }
                if *proposal == id && *old_key == public(40)
        ));
        let history = KeyHistory(&record.key_history);
        for revoked in [4, 40] {
            let former = history.former(&public(revoked)).unwrap();
            assert_eq!(former.revoked_from, Some(compromised), "key {revoked}");
            assert!(!history.former_signature_counts(&public(revoked)));
        }
    }

    // The thief's next rotation and its envelopes are refused.
    let again = rotation(&d.id, 40, 42, count_time(at));
    let e = b
        .node
        .registry()
        .take_key_statements(&d.id, &[again])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("only the current key"), "{e}");
    let thief_revokes =
        SignedKeyStatement::revocation(&d.id, &public(41), compromised, &key(40), count_time(at));
    assert!(b
        .node
        .registry()
        .take_key_statements(&d.id, &[thief_revokes])
        .await
        .is_err());
    let answer = envelope_signed_by(&d, &b, &key(40)).await;
    assert!(matches!(answer, Answer::Rejected(_)), "{answer:?}");
    assert_eq!(pinned(&b, &d.id).await.public_key, public(41));

    // D's node, which never took the theft, announces its own copy of the decision (naming
    // the key it pinned then) with its next rotation: the copy is skipped, the rotation
    // taken.
    let mut own_copy = pinned(&b, &d.id).await.key_history[1].clone();
    if let KeyStatement::KeyReplacement { old_key, .. } = &mut own_copy.statement {
        *old_key = public(4);
    }
    let next = rotation(&d.id, 41, 43, count_time(at) + SECOND);
    let taken = b
        .node
        .registry()
        .take_key_statements(&d.id, &[own_copy, next])
        .await
        .unwrap();
    assert_eq!(taken, 1);
    assert_eq!(pinned(&b, &d.id).await.public_key, public(43));
}

#[tokio::test]
async fn a_replacement_is_never_taken_from_a_peer() {
    let [a, d] = peers::<2>().await;
    let forged = SignedKeyStatement {
        statement: KeyStatement::KeyReplacement {
            member: d.id.clone(),
            proposal: "proposal--00000000-0000-4000-8000-000000000000".into(),
            old_key: public(2),
            new_key: public(9),
            encryption_key: encryption(9),
            revoked_from: format_us(tabled_at()),
            at: format_us(tabled_at()),
        },
        signatures: Vec::new(),
    };
    let e = a
        .node
        .registry()
        .take_key_statements(&d.id, &[forged])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("never taken from a peer"), "{e}");
    assert_eq!(pinned(&a, &d.id).await.public_key, public(2));
}

#[tokio::test]
async fn malformed_key_revocations_are_refused_with_the_fault_and_nothing_is_tabled() {
    let [a, b, d] = peers::<3>().await;
    with_rules(&[&a, &b, &d]).await;
    let at = tabled_at();
    // D rotated once, from key 3 to key 33, which A took.
    a.node
        .registry()
        .take_key_statements(&d.id, &[rotation(&d.id, 3, 33, at - 60 * SECOND)])
        .await
        .unwrap();
    let refused = |new: NewProposal| {
        let node = &a.node;
        async move {
            service::propose(node, new, at)
                .await
                .unwrap_err()
                .to_string()
        }
    };
    let unknown = "identity--00000000-0000-4000-8000-000000000000";
    let e = refused(revoke(unknown, at, 41)).await;
    assert_eq!(
        e,
        format!("revoke_member_key: member {unknown} is not a member")
    );
    let e = refused(revoke(&d.id, at, 2)).await;
    assert!(
        e.contains(&format!("is pinned already for member {}", b.id)),
        "{e}"
    );
    let e = refused(revoke(&d.id, at, 33)).await;
    assert!(e.contains("is the one pinned for"), "{e}");
    let e = refused(revoke(&d.id, at, 3)).await;
    assert!(e.contains("was the member's key before"), "{e}");
    let e = refused(revoke(&d.id, at + 301 * SECOND, 41)).await;
    assert!(e.contains("in the future of the tabling time"), "{e}");
    assert!(a.node.store().proposals(10).await.unwrap().is_empty());
    // Keys that are not keys are refused where the proposal is read (API, form, CLI).
    for (field, text) in [
        ("new_key", "ed25519:AAAA"),
        ("new_key", "x25519:not-base64!"),
        ("encryption_key", "ed25519:AAAA"),
        ("encryption_key", ""),
        ("revoked_from", "yesterday"),
    ] {
        let mut action = serde_json::to_value(revoke(&d.id, at, 41).action).unwrap();
        action[field] = json!(text);
        let read = serde_json::from_value::<NewProposal>(json!({ "action": action }));
        assert!(read.is_err(), "{field} = {text:?}");
    }
    assert_eq!(pinned(&a, &d.id).await.public_key, public(33));
}

#[tokio::test]
async fn the_member_concerned_cannot_carry_its_own_revocation_alone() {
    let [a, b, c, d] = peers::<4>().await;
    with_rules(&[&a, &b, &c, &d]).await;
    let at = tabled_at();
    // D tables the revocation of its own keys and votes for it; B abstains (quorum met).
    let id = service::propose(&d.node, revoke(&d.id, at - SECOND, 41), at)
        .await
        .unwrap()
        .proposal
        .id;
    deliver(&d, &b).await;
    service::vote(&d.node, &id, Choice::Yes, at + 2 * SECOND)
        .await
        .unwrap();
    service::vote(&b.node, &id, Choice::Abstain, at + 2 * SECOND)
        .await
        .unwrap();
    deliver(&d, &b).await;
    deliver(&b, &d).await;
    for p in [&b, &d] {
        count_due(p.node.store(), count_time(at)).await.unwrap();
        let shown = service::show(p.node.store(), &id, count_time(at))
            .await
            .unwrap();
        assert_eq!(shown.state, ProposalState::Succeeded);
        assert!(shown.not_executed.is_some());
        assert_eq!(pinned(p, &d.id).await.public_key, public(4));
    }
}
