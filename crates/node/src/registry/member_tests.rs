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
        encryption_key: None,
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

#[test]
fn plain_http_is_refused_off_loopback_unless_allowed() {
    use crate::registry::{check_plain_http, plain_http_off_loopback};
    for url in [
        "http://127.0.0.1:8425",
        "http://127.9.9.9/",
        "http://[::1]:8425/x",
        "http://localhost:8425",
        "http://LOCALHOST",
        "https://cti.example.org",
        "https://203.0.113.7:8443",
    ] {
        assert!(!plain_http_off_loopback(url), "{url}");
        check_plain_http(url, false).unwrap();
    }
    for url in [
        "http://cti.example.org",
        "http://203.0.113.7:8425",
        "http://[2001:db8::1]:8425",
        "http://localhost.example.org",
        "http://127.0.0.1.example.org/",
        "http://user@cti.example.org",
        "http://",
    ] {
        assert!(plain_http_off_loopback(url), "{url}");
        let e = check_plain_http(url, false).unwrap_err().to_string();
        assert!(e.contains("--allow-plain-http"), "{e}");
        check_plain_http(url, true).unwrap();
    }
}

#[tokio::test]
async fn a_peer_at_a_plain_http_endpoint_is_registered_only_when_allowed_and_never_by_its_file() {
    let (a, b) = (node(1).await, node(2).await);
    let mut peer = record_of(&b).await;
    peer.local = false;
    peer.endpoint = Some("http://cti.example.org:8425".into());
    refused(
        a.registry().add_member(peer.clone()).await,
        "--allow-plain-http",
    );

    // A file that claims the allowance does not carry it: the admin decides.
    let file = serde_json::to_value(MemberFile::sign(&peer, b.log.node_key()).unwrap()).unwrap();
    let mut claimed = file.clone();
    claimed["record"]["allow_plain_http"] = true.into();
    let read = MemberFile::read(&claimed.to_string());
    if let Ok(record) = read {
        assert!(!record.allow_plain_http);
    }
    let pinned = MemberFile::read(&file.to_string()).unwrap();
    assert!(!pinned.allow_plain_http);
    refused(
        a.registry().add_member(pinned.clone()).await,
        "plain http://",
    );

    let allowed = MemberRecord {
        allow_plain_http: true,
        ..pinned
    };
    let m = a.registry().add_member(allowed).await.unwrap();
    assert!(m.record.allow_plain_http);
    assert_eq!(
        m.record.delivery_endpoint().as_deref(),
        Some("http://cti.example.org:8425")
    );
    let not_allowed = MemberRecord {
        allow_plain_http: false,
        ..m.record
    };
    assert_eq!(not_allowed.delivery_endpoint(), None);
}

/// `n`'s own record, as signed into its member record file and read back by a peer.
async fn file_of(n: &Node) -> MemberRecord {
    let file = MemberFile::sign(&record_of(n).await, n.log.node_key()).unwrap();
    MemberFile::read(&serde_json::to_string(&file).unwrap()).unwrap()
}

/// `n`'s own record as an earlier build made it: without an encryption key.
async fn as_an_earlier_build(n: &Node) {
    let mut me = n.registry().local_member().await.unwrap().unwrap();
    me.record.encryption_key = None;
    n.store
        .update_registry_entry(&crate::registry::member_entry(&me))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_peer_s_newer_record_signed_by_its_key_replaces_the_pinned_one_and_its_key_seals() {
    let (a, b) = (node(1).await, node(2).await);
    as_an_earlier_build(&b).await;
    let old = file_of(&b).await;
    a.registry().add_member(old.clone()).await.unwrap();
    a.registry()
        .set_member_status(&b.id, MemberStatus::Suspended)
        .await
        .unwrap();
    assert!(!a
        .registry()
        .federation()
        .await
        .unwrap()
        .encryption_keys
        .contains_key(&b.id));

    // Upgraded, b publishes its encryption key (as `comity serve` does as it starts).
    assert!(b.registry().publish_encryption_key().await.unwrap());
    let new = file_of(&b).await;
    assert_eq!(new.identity["created"], old.identity["created"]);
    assert_ne!(new.identity["modified"], old.identity["modified"]);
    let log_before = a.store.transparency_log().log_size().await.unwrap();
    let updated = a.registry().update_member(new.clone()).await.unwrap();
    assert_eq!(updated.record, new);
    assert_eq!(
        updated.status,
        MemberStatus::Suspended,
        "its standing is kept"
    );
    assert_eq!(
        a.registry().member(&b.id).await.unwrap().unwrap().record,
        new
    );
    assert_eq!(
        a.store.transparency_log().log_size().await.unwrap(),
        log_before + 1,
        "the update is committed to the log"
    );
    let federation = a.registry().federation().await.unwrap();
    assert_eq!(
        federation
            .encryption_keys
            .get(&b.id)
            .map(ToString::to_string),
        new.encryption_key,
        "what a sends b is sealed to the key b published"
    );

    // Replayed, or an older record again: refused, the newer one stays pinned.
    refused(a.registry().update_member(new.clone()).await, "not after");
    refused(a.registry().update_member(old).await, "not after");
    assert_eq!(
        a.registry().member(&b.id).await.unwrap().unwrap().record,
        new
    );
    assert_eq!(
        a.store.transparency_log().log_size().await.unwrap(),
        log_before + 1
    );

    // Updates in a row follow each other, however fast.
    let (first, second) = (
        b.registry()
            .update_local(record_of(&b).await)
            .await
            .unwrap(),
        b.registry()
            .update_local(record_of(&b).await)
            .await
            .unwrap(),
    );
    assert_ne!(
        first.record.identity["modified"],
        second.record.identity["modified"]
    );
    a.registry().update_member(file_of(&b).await).await.unwrap();
}

#[tokio::test]
async fn a_record_under_another_key_or_for_no_peer_is_refused_and_the_pinned_one_kept() {
    let (a, b, stranger) = (node(1).await, node(2).await, node(3).await);
    pin(&a, &b).await;
    let pinned = a.registry().member(&b.id).await.unwrap().unwrap();
    b.registry()
        .update_local(record_of(&b).await)
        .await
        .unwrap();

    // b's id and a newer record, signed by a stranger with its own key.
    let mut forged = record_of(&b).await;
    forged.public_key = stranger.log.node_key().public_key().to_string();
    let forged = MemberFile::sign(&forged, stranger.log.node_key()).unwrap();
    let forged = MemberFile::read(&serde_json::to_string(&forged).unwrap()).unwrap();
    refused(
        a.registry().update_member(forged).await,
        &format!(
            "member {} is pinned with the key {}",
            b.id, pinned.record.public_key
        ),
    );

    // A member not pinned here, and this node's own record.
    refused(
        a.registry().update_member(file_of(&stranger).await).await,
        &format!("no member {} is registered", stranger.id),
    );
    refused(
        a.registry().update_member(file_of(&a).await).await,
        "this node's own record",
    );
    refused(
        b.registry().update_member(record_of(&b).await).await,
        "this node's own record",
    );
    assert_eq!(a.registry().member(&b.id).await.unwrap().unwrap(), pinned);
}

#[tokio::test]
async fn an_updated_plain_http_endpoint_needs_the_admin_s_leave_which_a_same_endpoint_keeps() {
    let (a, b) = (node(1).await, node(2).await);
    let plain = "http://cti.example.org:8425";
    let mut mine = record_of(&b).await;
    mine.endpoint = Some(plain.into());
    b.registry().update_local(mine).await.unwrap();
    a.registry()
        .add_member(MemberRecord {
            allow_plain_http: true,
            ..file_of(&b).await
        })
        .await
        .unwrap();

    // The same endpoint, a new contact: the leave stays.
    let mut mine = record_of(&b).await;
    mine.identity["contact_information"] = "24/7 desk".into();
    b.registry().update_local(mine).await.unwrap();
    let m = a.registry().update_member(file_of(&b).await).await.unwrap();
    assert!(m.record.allow_plain_http);
    assert_eq!(m.record.identity["contact_information"], "24/7 desk");

    // Another plain endpoint: refused without a new leave, taken with it.
    let mut mine = record_of(&b).await;
    mine.endpoint = Some("http://elsewhere.example.org".into());
    b.registry().update_local(mine).await.unwrap();
    let moved = file_of(&b).await;
    refused(
        a.registry().update_member(moved.clone()).await,
        "--allow-plain-http",
    );
    assert_eq!(
        a.registry().member(&b.id).await.unwrap().unwrap().record,
        m.record
    );
    let m = a
        .registry()
        .update_member(MemberRecord {
            allow_plain_http: true,
            ..moved
        })
        .await
        .unwrap();
    assert_eq!(
        m.record.delivery_endpoint().as_deref(),
        Some("http://elsewhere.example.org")
    );
}
