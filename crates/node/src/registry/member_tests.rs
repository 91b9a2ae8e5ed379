//! Registering peers without traps, over real SQLite stores: one key is one member, a
//! member registered by mistake can be removed with what waits in its outbox, and a member
//! record file pins a peer exactly.

use comity_store::prelude::*;

use crate::federation::agreement as agreements;
use crate::federation::test_nodes::{countersign, draft, node, pin, Node};
use crate::member_file::MemberFile;
use crate::policy::{AgreementStatus, MemberStatus};
use crate::registry::{MemberRecord, NewMember, RegistryError};

fn refused<T: std::fmt::Debug>(r: Result<T, RegistryError>, says: &str) {
    match r {
        Err(RegistryError::Invalid(why)) => assert!(why.contains(says), "{why:?} lacks {says:?}"),
        other => panic!("expected a refusal saying {says:?}, got {other:?}"),
    }
}

async fn record_of(n: &Node) -> MemberRecord {
    n.registry().local_member().await.unwrap().unwrap().record
}

/// `peer` as an admin registers it by hand from its name, country, role and key, without
/// its identity id: a new id is made for it, which is not the peer's.
async fn pin_by_hand_without_id(on: &Node, peer: &Node) -> String {
    let r = record_of(peer).await;
    let record = NewMember {
        name: "CERT-XX".into(),
        country: r.country,
        roles: r.roles,
        public_key: r.public_key,
        endpoint: r.endpoint,
        contact: None,
        identity_id: None,
    }
    .into_record(false)
    .unwrap();
    on.registry().add_member(record).await.unwrap().id.0
}

#[tokio::test]
async fn a_key_pinned_under_a_wrong_id_is_refused_again_until_that_member_is_removed() {
    let (a, b) = (node(1).await, node(2).await);
    let wrong = pin_by_hand_without_id(&a, &b).await;
    assert_ne!(wrong, b.id);
    // An agreement proposed to the wrong id queues an envelope that can never be delivered.
    let doc = agreements::propose(
        &a.registry(),
        draft("CTI", &[&wrong], &["indicator"], "green"),
        a.log.node_key(),
        true,
    )
    .await
    .unwrap()
    .document;
    assert_eq!(a.store.outbox_after(&wrong, 0, 10).await.unwrap().len(), 1);

    // The right id with the same key: one key is one member.
    let mut right = record_of(&b).await;
    right.local = false;
    refused(
        a.registry().add_member(right.clone()).await,
        &format!("is pinned already for member {wrong} (CERT-XX)"),
    );
    // Not while a proposal names it; the proposal is ended first.
    refused(
        a.registry().remove_member(&wrong).await,
        &format!(
            "agreement {} (CTI) names {wrong} as a party and is proposed",
            doc.id
        ),
    );
    agreements::set_status(&a.registry(), &doc.id, AgreementStatus::Terminated, true)
        .await
        .unwrap();
    let log_before = a.store.transparency_log().log_size().await.unwrap();
    let (removed, dropped) = a.registry().remove_member(&wrong).await.unwrap();
    assert_eq!(
        (removed.id.0.as_str(), dropped),
        (wrong.as_str(), 2),
        "proposal and termination"
    );
    assert!(a
        .store
        .outbox_after(&wrong, 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(a.registry().member(&wrong).await.unwrap().is_none());
    assert_eq!(
        a.store.transparency_log().log_size().await.unwrap(),
        log_before + 1,
        "the removal is committed to the log"
    );
    refused(a.registry().remove_member(&wrong).await, "no member");

    // Now the peer is pinned as it is.
    let pinned = a.registry().add_member(right.clone()).await.unwrap();
    assert_eq!((pinned.id.0, pinned.record), (b.id.clone(), right));
}

#[tokio::test]
async fn this_node_and_a_member_whose_signature_is_held_are_not_removed() {
    let (a, b) = (node(1).await, node(2).await);
    pin(&a, &b).await;
    pin(&b, &a).await;
    refused(
        a.registry().remove_member(&a.id).await,
        "its own member record",
    );
    // this node's own key is not a peer's either
    let mut mine = record_of(&a).await;
    mine.local = false;
    mine.identity["id"] = serde_json::json!(format!("identity--{}", uuid::Uuid::new_v4()));
    refused(
        a.registry().add_member(mine).await,
        "is this node's own key",
    );
    let doc = agreements::propose(
        &a.registry(),
        draft("CTI", &[&b.id], &["indicator"], "green"),
        a.log.node_key(),
        true,
    )
    .await
    .unwrap()
    .document;
    countersign(&a, &b, &doc, false).await;
    agreements::set_status(&a.registry(), &doc.id, AgreementStatus::Terminated, false)
        .await
        .unwrap();
    refused(
        a.registry().remove_member(&b.id).await,
        &format!("agreement {} (CTI) holds the signature of {}", doc.id, b.id),
    );
    let held = a.registry().member(&b.id).await.unwrap().unwrap();
    assert_eq!(held.status, MemberStatus::Active, "nothing changed");
}

#[tokio::test]
async fn a_member_record_file_pins_the_peer_exactly() {
    let (a, b) = (node(1).await, node(2).await);
    let file = MemberFile::sign(&record_of(&b).await, b.log.node_key()).unwrap();
    let text = serde_json::to_string_pretty(&file).unwrap();
    let record = MemberFile::read(&text).unwrap();
    let pinned = a.registry().add_member(record).await.unwrap();
    let mut want = record_of(&b).await;
    want.local = false;
    assert_eq!((pinned.id.0, pinned.record), (b.id.clone(), want));
    // The same file again is the same member, refused as registered already.
    refused(
        a.registry()
            .add_member(MemberFile::read(&text).unwrap())
            .await,
        "is registered already",
    );
}
