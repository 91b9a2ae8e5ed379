use comity_store::prelude::*;
use comity_store::OutboxKind;

use crate::federation::agreement as agreements;
use crate::federation::test_nodes::{self, countersign, draft, pin_reachable, signer, Node};
use crate::identity::rotation::{KeyStatement, SignedKeyStatement};
use crate::identity::NodeKey;
use crate::log::NodeLog;
use crate::registry::{Directory, Registry};
use comity_stix::clock::now_us;

fn key(seed: u8) -> NodeKey {
    NodeKey::from_log_signer(&signer(seed)).unwrap()
}

/// Nodes 1 and 2 pinning each other under an agreement both signed.
async fn partners() -> (Node, Node) {
    let (a, b) = (test_nodes::node(1).await, test_nodes::node(2).await);
    pin_reachable(&a, &b).await;
    pin_reachable(&b, &a).await;
    let signed = agreements::propose(
        &a.registry(),
        draft("CTI", &[&b.id], &["indicator"], "amber"),
        a.log.node_key(),
        false,
    )
    .await
    .unwrap();
    countersign(&a, &b, &signed.document, false).await;
    (a, b)
}

async fn agreements_with(on: &Node, peer: &str) -> usize {
    let federation = Directory::with_state(&on.store, &on.state)
        .federation()
        .await
        .unwrap();
    federation.peers[&crate::policy::MemberId(peer.to_owned())]
        .agreements
        .len()
}

async fn pinned_key(on: &Node, of: &str) -> String {
    on.registry()
        .member(of)
        .await
        .unwrap()
        .unwrap()
        .record
        .public_key
}

async fn log_size(n: &Node) -> u64 {
    n.store.transparency_log().log_size().await.unwrap()
}

#[tokio::test]
async fn a_peer_takes_a_rotation_once_and_what_the_old_key_signed_before_still_holds() {
    let (a, b) = partners().await;
    let at = now_us();
    let (member, statement) = a.registry().rotate_local_key(&key(11), at).await.unwrap();
    assert_eq!(member.record.public_key, key(11).public_key().to_string());
    assert_eq!(member.record.key_history, vec![statement.clone()]);
    // The new record is queued for the peer, as any change of the own record is.
    let queued = a.store.outbox_after(&b.id, 0, 10).await.unwrap();
    assert!(
        queued.iter().any(|e| e.kind == OutboxKind::Member),
        "{queued:?}"
    );
    // The node's own agreement, signed with the key it rotated out, still holds.
    assert_eq!(agreements_with(&a, &b.id).await, 1);

    let before = log_size(&b).await;
    assert_eq!(
        b.registry()
            .take_key_statements(&a.id, std::slice::from_ref(&statement))
            .await
            .unwrap(),
        1
    );
    let pinned = b.registry().member(&a.id).await.unwrap().unwrap().record;
    assert_eq!(pinned.public_key, key(11).public_key().to_string());
    assert_eq!(
        pinned.encryption_key,
        Some(
            crate::federation::seal::OpeningKey::of(&key(11))
                .public_key()
                .to_string()
        )
    );
    assert_eq!(
        log_size(&b).await,
        before + 1,
        "the change is logged on the peer"
    );
    // Taken again (an announcement after a restart): nothing changes.
    assert_eq!(
        b.registry()
            .take_key_statements(&a.id, &[statement])
            .await
            .unwrap(),
        0
    );
    assert_eq!(log_size(&b).await, before + 1);
    assert_eq!(agreements_with(&b, &a.id).await, 1);
}

#[tokio::test]
async fn a_revoked_former_key_no_longer_holds_up_what_it_signed() {
    let (a, b) = partners().await;
    let at = now_us();
    a.registry().rotate_local_key(&key(11), at).await.unwrap();
    // The node as it runs after the restart, with the new key.
    let rotated = NodeLog::new(signer(11)).unwrap();
    let registry = Registry::new(&a.store, &rotated);
    let old = key(1).public_key().to_string();
    // The registry of the node still running with the old key refuses to state anything.
    let e = a
        .registry()
        .revoke_local_key(&old, at, at + 1)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("runs with"), "{e}");
    let (member, revocation) = registry
        .revoke_local_key(&old, at - 1, at + 1)
        .await
        .unwrap();
    assert_eq!(member.record.key_history.len(), 2);
    assert!(matches!(
        revocation.statement,
        KeyStatement::KeyRevocation { .. }
    ));
    assert_eq!(
        b.registry()
            .take_key_statements(&a.id, &member.record.key_history)
            .await
            .unwrap(),
        2
    );
    // The agreement carries A's signature by the revoked key: it covers nothing any more
    // on either side, until the parties sign a new one.
    assert_eq!(agreements_with(&b, &a.id).await, 0);
    assert_eq!(agreements_with(&a, &b.id).await, 0);
}

#[tokio::test]
async fn an_agreement_with_a_revoked_signature_is_listed_covers_nothing_and_can_be_terminated() {
    let (a, b) = partners().await;
    let at = now_us();
    let (member, _) = a.registry().rotate_local_key(&key(11), at).await.unwrap();
    let rotated = NodeLog::new(signer(11)).unwrap();
    let a_now = Registry::new(&a.store, &rotated);
    let (member_after, _) = a_now
        .revoke_local_key(&key(1).public_key().to_string(), at - 1, at + 1)
        .await
        .unwrap();
    assert_eq!(member.id, member_after.id);
    b.registry()
        .take_key_statements(&a.id, &member_after.record.key_history)
        .await
        .unwrap();
    for (on, registry) in [(&b, b.registry()), (&a, Registry::new(&a.store, &rotated))] {
        // Listed, whole, with the signer named and its state said.
        let listed = registry.agreements().await.unwrap();
        assert_eq!(listed.len(), 1);
        let held = &listed[0];
        assert_eq!(held.revoked, [a.id.clone()].into());
        assert_eq!(held.state(), "signature revoked");
        assert_eq!(held.terms.status, crate::policy::AgreementStatus::Active);
        // Nothing is shared under it.
        assert_eq!(
            agreements_with(on, if on.id == a.id { &b.id } else { &a.id }).await,
            0
        );
        // It can neither be suspended nor reinstated: only terminated.
        let e = registry
            .set_agreement_status(&held.document.id, crate::policy::AgreementStatus::Suspended)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("can only be terminated"), "{e}");
    }
    // B withdraws, signed with its current key; A hears of it.
    let id = b.registry().agreements().await.unwrap()[0]
        .document
        .id
        .clone();
    let before = log_size(&b).await;
    let ended = agreements::set_status(
        &b.registry(),
        &id,
        crate::policy::AgreementStatus::Terminated,
        true,
    )
    .await
    .unwrap();
    assert_eq!(ended.state(), "terminated");
    assert_eq!(log_size(&b).await, before + 1);
    let queued = b.store.outbox_after(&a.id, 0, 100).await.unwrap();
    assert!(
        queued.iter().any(|e| e.kind == OutboxKind::Agreement),
        "{queued:?}"
    );
    assert!(a_now.withdrawn(&id, &b.id).await.unwrap());
    let on_a = a_now.agreement(&id).await.unwrap().unwrap();
    assert_eq!(
        on_a.terms.status,
        crate::policy::AgreementStatus::Terminated
    );
    assert_eq!(agreements_with(&a, &b.id).await, 0);
    // A copy carrying the revoked signature is refused when it comes in again.
    let e = b
        .registry()
        .merge_agreement(on_a.document.clone(), Some(&a.id))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("revoked since"), "{e}");
}

#[tokio::test]
async fn forged_or_broken_statements_change_nothing() {
    let (a, b) = partners().await;
    let c = test_nodes::node(3).await;
    pin_reachable(&b, &c).await;
    let at = now_us();
    let before = log_size(&b).await;
    let enc = |seed| {
        crate::federation::seal::OpeningKey::of(&key(seed))
            .public_key()
            .to_string()
    };
    // A stranger's key announces a key for A.
    let forged = SignedKeyStatement::rotation(&a.id, &key(9), &key(12), enc(12), at);
    let e = b
        .registry()
        .take_key_statements(&a.id, std::slice::from_ref(&forged))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("only the current key"), "{e}");
    // A good first statement and a forged second one: neither is taken.
    let good = SignedKeyStatement::rotation(&a.id, &key(1), &key(11), enc(11), at);
    let mut second = SignedKeyStatement::rotation(&a.id, &key(11), &key(12), enc(12), at + 1);
    second.signatures = vec![key(9).sign(&serde_json::json!({})); 2];
    assert!(b
        .registry()
        .take_key_statements(&a.id, &[good.clone(), second])
        .await
        .is_err());
    // A's statement sent as if about C, and a rotation of A to the key pinned for C.
    assert!(b
        .registry()
        .take_key_statements(&c.id, &[good])
        .await
        .is_err());
    let to_c = SignedKeyStatement::rotation(&a.id, &key(1), &key(3), enc(3), at);
    let e = b
        .registry()
        .take_key_statements(&a.id, &[to_c])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("pinned already for member"), "{e}");
    // About this node itself, or a member it does not know.
    let own = SignedKeyStatement::rotation(&b.id, &key(2), &key(12), enc(12), at);
    assert!(b
        .registry()
        .take_key_statements(&b.id, &[own])
        .await
        .is_err());
    assert!(b
        .registry()
        .take_key_statements("identity--00000000-0000-4000-8000-000000000000", &[forged])
        .await
        .is_err());
    assert_eq!(pinned_key(&b, &a.id).await, key(1).public_key().to_string());
    assert_eq!(log_size(&b).await, before, "nothing was logged");
    assert_eq!(agreements_with(&b, &a.id).await, 1);
}
