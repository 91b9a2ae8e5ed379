//! Members' changed records between three nodes over real SQLite stores and the real inbox:
//! a changed own record reaches every peer, which pins it; an upgraded node's encryption
//! key reaches its peers by itself; a replayed envelope changes nothing; an older, doctored
//! or relayed record is refused with its reason and the pinned record stays.

use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::federation::envelope::{Envelope, Kind};
use crate::federation::inbox::Answer;
use crate::federation::pull::outbox_envelope;
use crate::member_file::MemberFile;
use crate::registry::{member_entry, MemberRecord};
use crate::test_peers::{as_pinned, due, hand, peers, reason_of, receive, Peer};

async fn own(p: &Peer) -> MemberRecord {
    p.node
        .directory()
        .local_member()
        .await
        .unwrap()
        .unwrap()
        .record
}

async fn pinned(on: &Peer, of: &Peer) -> MemberRecord {
    on.node
        .directory()
        .member(&of.id)
        .await
        .unwrap()
        .unwrap()
        .record
}

/// `p`'s member record file, as JSON.
async fn file_of(p: &Peer) -> Value {
    serde_json::to_value(MemberFile::sign(&own(p).await, p.node.log().node_key()).unwrap()).unwrap()
}

/// `to`'s answer to a `member` envelope from `from` carrying `body`, next in `from`'s
/// sequence for `to`.
async fn send(from: &Peer, to: &Peer, body: Value) -> Answer {
    let seq = to.node.store().inbox_last_seq(&from.id).await.unwrap() + 1;
    let raw = RawValue::from_string(body.to_string()).unwrap();
    let env =
        Envelope::new(&from.id, &to.id, Kind::Member, seq, raw).sign(from.node.log().node_key());
    receive(to, &from.id, env.to_json().as_bytes()).await
}

/// Hands everything `from` has due for `to`; every envelope must be delivered.
async fn deliver(from: &Peer, to: &Peer) {
    let entries = due(from, to).await;
    assert_eq!(entries.len(), 1, "one member envelope");
    for entry in entries {
        let answer = hand(from, to, &entry).await;
        assert!(matches!(answer, Answer::Delivered(_)), "{answer:?}");
    }
}

#[tokio::test]
async fn a_changed_own_record_reaches_every_peer_and_a_replay_changes_nothing() {
    let [a, b, c] = peers::<3>().await;
    let mut mine = own(&b).await;
    mine.endpoint = Some("https://cti.b.example".into());
    mine.identity["contact_information"] = json!("24/7 desk");
    b.node.registry().update_local(mine).await.unwrap();
    deliver(&b, &c).await;
    assert_eq!(pinned(&c, &b).await, as_pinned(&b).await);

    // To a, the same envelope twice: the second gets the first answer and changes nothing.
    let [entry] = <[_; 1]>::try_from(due(&b, &a).await).unwrap();
    let federation = b.node.directory().federation().await.unwrap();
    let key = b.node.log().node_key();
    let signed = outbox_envelope(&entry, &b.id, key, &federation, &mut Default::default()).unwrap();
    let first = receive(&a, &b.id, signed.to_json().as_bytes()).await;
    assert!(matches!(first, Answer::Delivered(_)), "{first:?}");
    let taken = a.node.directory().member(&b.id).await.unwrap().unwrap();
    assert_eq!(taken.record, as_pinned(&b).await);
    let log_size = a.node.store().transparency_log().log_size().await.unwrap();
    let again = receive(&a, &b.id, signed.to_json().as_bytes()).await;
    match (&first, &again) {
        (Answer::Delivered(x), Answer::Delivered(y)) => assert_eq!(x.to_json(), y.to_json()),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        a.node.directory().member(&b.id).await.unwrap().unwrap(),
        taken
    );
    assert_eq!(
        a.node.store().transparency_log().log_size().await.unwrap(),
        log_size
    );
}

#[tokio::test]
async fn an_upgraded_node_s_encryption_key_reaches_its_peers_by_itself() {
    let [a, b] = peers::<2>().await;
    // b's record as a build made before sealing wrote it, pinned so by a.
    for (on, mut m) in [
        (
            &b,
            b.node.directory().local_member().await.unwrap().unwrap(),
        ),
        (&a, a.node.directory().member(&b.id).await.unwrap().unwrap()),
    ] {
        m.record.encryption_key = None;
        on.node
            .store()
            .update_registry_entry(&member_entry(&m))
            .await
            .unwrap();
    }
    assert!(b.node.registry().publish_encryption_key().await.unwrap());
    deliver(&b, &a).await;
    let key = pinned(&a, &b).await.encryption_key;
    assert!(key.is_some());
    assert_eq!(key, own(&b).await.encryption_key);
}

#[tokio::test]
async fn an_older_doctored_relayed_or_malformed_record_is_refused_and_the_pinned_one_stays() {
    let [a, b, c] = peers::<3>().await;
    let older = file_of(&b).await;
    b.node.registry().update_local(own(&b).await).await.unwrap();
    deliver(&b, &a).await;
    let kept = pinned(&a, &b).await;
    let newer = file_of(&b).await;

    let mut doctored = newer.clone();
    doctored["record"]["endpoint"] = json!("https://attacker.example");
    let cases = [
        (
            &b,
            json!({ "file": older }),
            "an older or replayed record is not taken",
        ),
        (&b, json!({ "file": doctored }), "signature does not verify"),
        (
            &c,
            json!({ "file": newer }),
            "a node sends its own record only",
        ),
        (&b, json!({ "record": newer }), "the body is not {\"file\""),
    ];
    for (from, body, says) in cases {
        let answer = send(from, &a, body).await;
        let why = reason_of(&answer);
        assert!(why.contains(says), "{why:?} lacks {says:?}");
    }
    assert_eq!(pinned(&a, &b).await, kept);
}
