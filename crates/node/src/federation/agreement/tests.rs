//! The rules of agreements across nodes, over real SQLite stores: propose, receive, sign,
//! merge, and what is refused.

use comity_store::prelude::*;
use comity_store::{OutboxKind, RegistryKind, RegistryStatus};
use comity_store_sqlite::SqliteStore;

use crate::federation::agreement as agreements;
use crate::federation::test_nodes::{countersign, draft, node, pin, set, signer, Node};
use crate::identity::NodeKey;
use crate::policy::AgreementStatus;
use crate::registry::{AgreementDocument, Directory, PartySignature, Registry, RegistryError};

/// Three nodes, each pinning the others.
async fn three() -> [Node; 3] {
    let nodes = [node(1).await, node(2).await, node(3).await];
    for a in &nodes {
        for b in &nodes {
            if a.id != b.id {
                pin(a, b).await;
            }
        }
    }
    nodes
}

async fn propose(by: &Node, with: &[&Node]) -> AgreementDocument {
    agreements::propose(
        &by.registry(),
        draft(
            "CTI",
            &with.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
            &["indicator"],
            "amber",
        ),
        by.log.node_key(),
        true,
    )
    .await
    .unwrap()
    .document
}

async fn held(n: &Node, id: &str) -> crate::registry::SignedAgreement {
    n.registry().agreement(id).await.unwrap().unwrap()
}

fn refused(r: Result<crate::registry::Merged, RegistryError>, says: &str) {
    match r {
        Err(RegistryError::Invalid(why)) => assert!(why.contains(says), "{why:?} lacks {says:?}"),
        other => panic!("expected a refusal saying {says:?}, got {other:?}"),
    }
}

/// The agreements the policy engine sees between `n` and `peer`.
async fn in_force(n: &Node, peer: &Node) -> usize {
    let federation = n.registry().federation().await.unwrap();
    federation.peers[&crate::policy::MemberId(peer.id.clone())]
        .agreements
        .iter()
        .filter(|a| a.status == AgreementStatus::Active)
        .count()
}

#[tokio::test]
async fn an_agreement_is_in_force_where_every_party_has_signed() {
    let [a, b, c] = three().await;
    let doc = propose(&a, &[&b, &c]).await;
    assert_eq!(
        held(&a, &doc.id).await.terms.status,
        AgreementStatus::Proposed
    );
    assert_eq!(doc.missing(), {
        let mut m = vec![b.id.clone(), c.id.clone()];
        m.sort();
        m
    });
    // the proposal is queued for B and C, one envelope each
    for peer in [&b, &c] {
        let queued = a.store.outbox_after(&peer.id, 0, 10).await.unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].kind, OutboxKind::Agreement);
        assert!(queued[0].body.contains(&doc.id));
    }
    assert_eq!(in_force(&a, &b).await, 0);

    // B receives it: stored as proposed, not signed for B
    let m = b
        .registry()
        .merge_agreement(doc.clone(), Some(&a.id))
        .await
        .unwrap();
    assert_eq!(m.added, vec![a.id.clone()]);
    assert_eq!(m.agreement.terms.status, AgreementStatus::Proposed);
    assert!(!m.agreement.document.signed_by(&b.id));
    // the same copy again changes nothing
    let again = b
        .registry()
        .merge_agreement(doc.clone(), Some(&a.id))
        .await
        .unwrap();
    assert!(again.added.is_empty());

    // B signs: queued for A and C; still proposed (C is missing)
    let signed_b = agreements::sign(&b.registry(), &doc.id, b.log.node_key(), true)
        .await
        .unwrap();
    assert_eq!(signed_b.terms.status, AgreementStatus::Proposed);
    assert_eq!(signed_b.document.missing(), vec![c.id.clone()]);
    assert_eq!(b.store.outbox_after(&a.id, 0, 10).await.unwrap().len(), 1);
    assert_eq!(b.store.outbox_after(&c.id, 0, 10).await.unwrap().len(), 1);
    assert_eq!(
        agreements::sign(&b.registry(), &doc.id, b.log.node_key(), true)
            .await
            .err()
            .map(|e| e.to_string()),
        Some(format!("this node has signed agreement {} already", doc.id))
    );
    // reinstating (or suspending) a proposed agreement is refused; it awaits C
    let e = agreements::set_status(&b.registry(), &doc.id, AgreementStatus::Active, true)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("awaits the signatures of"), "{e}");

    // C takes in B's copy before A's: the proposer's signature comes with it
    c.registry()
        .merge_agreement(signed_b.document.clone(), Some(&b.id))
        .await
        .unwrap();
    let signed_c = agreements::sign(&c.registry(), &doc.id, c.log.node_key(), true)
        .await
        .unwrap();
    assert_eq!(
        signed_c.terms.status,
        AgreementStatus::Active,
        "C holds all three"
    );
    assert_eq!(in_force(&c, &a).await, 1);

    // A gets B's signature, then C's: in force once both are there
    let m = a
        .registry()
        .merge_agreement(signed_b.document.clone(), Some(&b.id))
        .await
        .unwrap();
    assert_eq!(
        (m.added, m.agreement.terms.status),
        (vec![b.id.clone()], AgreementStatus::Proposed)
    );
    let m = a
        .registry()
        .merge_agreement(signed_c.document.clone(), Some(&c.id))
        .await
        .unwrap();
    assert_eq!(
        (m.added, m.agreement.terms.status),
        (vec![c.id.clone()], AgreementStatus::Active)
    );
    assert_eq!(in_force(&a, &b).await, 1);
    assert_eq!(in_force(&a, &c).await, 1);
    // an older copy (the first proposal) takes nothing away
    let m = a
        .registry()
        .merge_agreement(doc.clone(), Some(&a.id))
        .await
        .unwrap();
    assert!(m.added.is_empty());
    assert!(held(&a, &doc.id).await.document.is_complete());

    // B gets C's: all three hold all signatures
    b.registry()
        .merge_agreement(signed_c.document.clone(), Some(&c.id))
        .await
        .unwrap();
    for n in [&a, &b, &c] {
        let h = held(n, &doc.id).await;
        assert_eq!(h.terms.status, AgreementStatus::Active);
        assert!(h.document.same_terms(&doc));
        assert_eq!(h.document.missing(), Vec::<String>::new());
    }
}

#[tokio::test]
async fn bad_copies_are_refused_and_change_nothing() {
    let [a, b, c] = three().await;
    let doc = propose(&a, &[&b]).await;
    b.registry()
        .merge_agreement(doc.clone(), Some(&a.id))
        .await
        .unwrap();
    let before = b
        .store
        .registry_entry(RegistryKind::Agreement, &doc.id)
        .await
        .unwrap();

    // a forged signature of a party (made with another key, claiming B's pinned key)
    let mut forged = doc.clone();
    let b_key = Directory::new(&a.store)
        .member(&b.id)
        .await
        .unwrap()
        .unwrap()
        .record
        .public_key;
    let forger = NodeKey::from_log_signer(&signer(99)).unwrap();
    forged.signatures.push(PartySignature {
        member: b.id.clone(),
        public_key: b_key.clone(),
        signature: forger.sign(&doc.signed_body()),
    });
    refused(
        a.registry()
            .merge_agreement(forged.clone(), Some(&b.id))
            .await,
        &format!(
            "the signature of {} on agreement {} does not verify with its pinned key",
            b.id, doc.id
        ),
    );
    // ... or with the forger's own key
    forged.signatures.last_mut().unwrap().public_key = forger.public_key().to_string();
    refused(
        a.registry().merge_agreement(forged, Some(&b.id)).await,
        "is made with a key that is not its pinned key",
    );

    // a signature by a member who is not a party
    let mut stranger = doc.clone();
    stranger.signatures.push(PartySignature {
        member: c.id.clone(),
        public_key: c.log.node_key().public_key().to_string(),
        signature: c.log.node_key().sign(&doc.signed_body()),
    });
    refused(
        b.registry().merge_agreement(stranger, Some(&a.id)).await,
        &format!(
            "carries a signature by {}, who is not one of its parties",
            c.id
        ),
    );

    // changed terms under the same id, rightly signed by the proposer
    let mut changed = doc.clone();
    changed.scope.max_tlp = "red".into();
    changed.signatures = vec![PartySignature {
        member: a.id.clone(),
        public_key: a.log.node_key().public_key().to_string(),
        signature: a.log.node_key().sign(&changed.signed_body()),
    }];
    refused(
        b.registry().merge_agreement(changed, Some(&a.id)).await,
        &format!("this node holds agreement {} with other terms", doc.id),
    );

    // a sender who is not a party
    refused(
        b.registry().merge_agreement(doc.clone(), Some(&c.id)).await,
        &format!("the sender {} is not a party to agreement {}", c.id, doc.id),
    );
    // an agreement this node is not party to
    refused(
        c.registry().merge_agreement(doc.clone(), Some(&a.id)).await,
        &format!("this node is not a party to agreement {}", doc.id),
    );
    // without the proposer's signature
    let mut unsigned = doc.clone();
    unsigned.signatures.clear();
    let fresh = node(7).await;
    pin(&fresh, &a).await;
    pin(&fresh, &b).await;
    let mut other = unsigned.clone();
    other.parties = set(&[&a.id, &fresh.id]);
    refused(
        fresh.registry().merge_agreement(other, Some(&a.id)).await,
        &format!("does not carry the signature of its proposer {}", a.id),
    );
    // bad terms
    let mut bad = doc.clone();
    bad.id = "agreement--nope".into();
    refused(
        b.registry().merge_agreement(bad, Some(&a.id)).await,
        "is not an agreement id",
    );
    let mut huge = doc.clone();
    huge.signatures[0].member = "x".repeat(100_000);
    match b.registry().merge_agreement(huge, Some(&a.id)).await {
        Err(RegistryError::Invalid(why)) => {
            assert!(why.contains("at most 128 characters"), "{why}");
            assert!(
                why.len() < 200,
                "a refusal does not quote what it refuses at length"
            );
        }
        other => panic!("{other:?}"),
    }
    let mut unparsable = doc.clone();
    unparsable.scope.max_tlp = "purple".into();
    refused(
        b.registry().merge_agreement(unparsable, Some(&a.id)).await,
        "max TLP \"purple\" is not",
    );

    let after = b
        .store
        .registry_entry(RegistryKind::Agreement, &doc.id)
        .await
        .unwrap();
    assert_eq!(
        before.map(|e| e.document),
        after.map(|e| e.document),
        "nothing changed"
    );
}

#[tokio::test]
async fn a_stored_agreement_marked_active_without_every_signature_covers_nothing() {
    let [a, b, _c] = three().await;
    let doc = propose(&a, &[&b]).await;
    let mut entry = a
        .store
        .registry_entry(RegistryKind::Agreement, &doc.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.status, RegistryStatus::Proposed);
    entry.status = RegistryStatus::Active;
    a.store.update_registry_entry(&entry).await.unwrap();
    let e = a.registry().agreement(&doc.id).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("marked active but lacks the signatures of"),
        "{e}"
    );
    assert_eq!(in_force(&a, &b).await, 0);
}

#[tokio::test]
async fn without_sending_nothing_is_queued_and_a_copy_can_be_imported() {
    let [a, b, _c] = three().await;
    let doc = agreements::propose(
        &a.registry(),
        draft("air gap", &[&b.id], &["indicator"], "green"),
        a.log.node_key(),
        false,
    )
    .await
    .unwrap()
    .document;
    assert!(a.store.outbox_after(&b.id, 0, 10).await.unwrap().is_empty());
    b.registry()
        .merge_agreement(doc.clone(), None)
        .await
        .unwrap();
    let signed = agreements::sign(&b.registry(), &doc.id, b.log.node_key(), false)
        .await
        .unwrap();
    assert!(b.store.outbox_after(&a.id, 0, 10).await.unwrap().is_empty());
    assert_eq!(signed.terms.status, AgreementStatus::Active);
    let m = a
        .registry()
        .merge_agreement(signed.document, None)
        .await
        .unwrap();
    assert_eq!(m.agreement.terms.status, AgreementStatus::Active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_arriving_at_once_are_all_kept() {
    let [a, b, c] = three().await;
    let doc = propose(&a, &[&b, &c]).await;
    for n in [&b, &c] {
        n.registry()
            .merge_agreement(doc.clone(), Some(&a.id))
            .await
            .unwrap();
    }
    let from_b = agreements::sign(&b.registry(), &doc.id, b.log.node_key(), false)
        .await
        .unwrap()
        .document;
    let from_c = agreements::sign(&c.registry(), &doc.id, c.log.node_key(), false)
        .await
        .unwrap()
        .document;
    // two handles on A's database; in one process changes wait for each other, and the
    // store's compare and swap (in the conformance suite) covers two processes
    let other = SqliteStore::open(a.dir.path()).unwrap();
    let (at_a, at_a_too) = (a.registry(), Registry::with_state(&other, &a.log, &a.state));
    let (rb, rc) = tokio::join!(
        at_a.merge_agreement(from_b, Some(&b.id)),
        at_a_too.merge_agreement(from_c, Some(&c.id)),
    );
    rb.unwrap();
    rc.unwrap();
    let h = held(&a, &doc.id).await;
    assert_eq!(h.document.missing(), Vec::<String>::new());
    assert_eq!(h.terms.status, AgreementStatus::Active);
}

#[tokio::test]
async fn a_partys_withdrawal_travels_and_ends_the_agreement_for_all() {
    let [a, b, c] = three().await;
    let doc = propose(&a, &[&b]).await;
    countersign(&a, &b, &doc, true).await;
    assert_eq!(in_force(&a, &b).await, 1);
    let queued_before = a.store.outbox_after(&b.id, 0, 10).await.unwrap().len();

    // Suspension is A's own business: nothing is queued.
    agreements::set_status(&a.registry(), &doc.id, AgreementStatus::Suspended, true)
        .await
        .unwrap();
    assert_eq!(
        a.store.outbox_after(&b.id, 0, 10).await.unwrap().len(),
        queued_before
    );
    // Termination is A's withdrawal: queued for B.
    agreements::set_status(&a.registry(), &doc.id, AgreementStatus::Terminated, true)
        .await
        .unwrap();
    let queued = a.store.outbox_after(&b.id, 0, 10).await.unwrap();
    assert_eq!(queued.len(), queued_before + 1);
    let last = queued.last().unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&last.body).unwrap(),
        serde_json::json!({ "terminated": doc.id })
    );

    // On B: a non-party's word changes nothing; A's ends it, once.
    let e = b.registry().withdrawn(&doc.id, &c.id).await.unwrap_err();
    assert!(e.to_string().contains("is not a party"), "{e}");
    assert_eq!(in_force(&b, &a).await, 1);
    assert!(b.registry().withdrawn(&doc.id, &a.id).await.unwrap());
    assert_eq!(
        held(&b, &doc.id).await.terms.status,
        AgreementStatus::Terminated
    );
    assert_eq!(in_force(&b, &a).await, 0);
    assert!(!b.registry().withdrawn(&doc.id, &a.id).await.unwrap());
    let e = b
        .registry()
        .withdrawn("agreement--00000000-0000-4000-8000-000000000000", &a.id)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("holds no agreement"), "{e}");
}

#[tokio::test]
async fn the_registry_returns_the_change_and_queues_nothing_itself() {
    let [a, b, _c] = three().await;
    let change = a
        .registry()
        .create_agreement(
            draft("CTI", &[&b.id], &["indicator"], "green"),
            a.log.node_key(),
        )
        .await
        .unwrap();
    let crate::registry::AgreementChange::Signed { agreement, by } = &change else {
        panic!("a proposal is signed by this node: {change:?}");
    };
    assert_eq!(by, &a.id);
    assert!(agreement.document.signed_by(&a.id));
    assert!(a.store.outbox_after(&b.id, 0, 10).await.unwrap().is_empty());
    // The federation queues it: one envelope for B with the document.
    super::queue_change(&a.store, &change).await.unwrap();
    let queued = a.store.outbox_after(&b.id, 0, 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].body, super::body(&agreement.document));

    countersign(&a, &b, &agreement.document, false).await;
    let suspended = a
        .registry()
        .set_agreement_status(&agreement.document.id, AgreementStatus::Suspended)
        .await
        .unwrap();
    assert!(matches!(
        suspended,
        crate::registry::AgreementChange::Local(_)
    ));
    super::queue_change(&a.store, &suspended).await.unwrap();
    assert_eq!(a.store.outbox_after(&b.id, 0, 10).await.unwrap().len(), 1);
    let terminated = a
        .registry()
        .set_agreement_status(&agreement.document.id, AgreementStatus::Terminated)
        .await
        .unwrap();
    assert!(matches!(
        &terminated,
        crate::registry::AgreementChange::Withdrawn { by, .. } if by == &a.id
    ));
    assert_eq!(
        terminated.agreement().terms.status,
        AgreementStatus::Terminated
    );
}
