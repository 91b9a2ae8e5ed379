//! Nodes for the workflow tests that cross nodes (requests, governance): a real SQLite
//! store in a temporary directory, a [`Node`] with a key made from a seed and its own member
//! record, and envelopes handed from one node's outbox to another's real inbox.

use std::sync::Arc;

use comity_store::OutboxEntry;
use comity_store_sqlite::SqliteStore;
use serde_json::Value;

use crate::federation::inbox::{Answer, Inbox};
use crate::federation::pull::outbox_envelope;
use crate::federation::test_nodes::signer;
use crate::node::Node;
use crate::registry::{MemberRole, NewMember};
use crate::requests::attachments;

/// One node under test, with its member id.
pub(crate) struct Peer {
    /// The node.
    pub node: Node,
    /// Its member id.
    pub id: String,
    /// Its data directory.
    pub dir: tempfile::TempDir,
}

/// A node with its own member record (a police unit), keeping attachments.
pub(crate) async fn peer(seed: u8) -> Peer {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let node = Node::new(Arc::new(store), signer(seed)).unwrap();
    node.set_attachments(attachments::Attachments::new(
        dir.path().join("attachments"),
    ));
    let record = NewMember {
        name: format!("authority {seed}"),
        country: "ZZ".into(),
        roles: [MemberRole::Police].into(),
        public_key: node.log().node_key().public_key().to_string(),
        encryption_key: None,
        endpoint: None,
        contact: None,
        identity_id: None,
    }
    .into_record(true)
    .unwrap();
    let id = node.registry().add_member(record).await.unwrap().id.0;
    Peer { node, id, dir }
}

/// `p`'s own member record as a peer pins it.
pub(crate) async fn as_pinned(p: &Peer) -> crate::registry::MemberRecord {
    let mut record = p
        .node
        .directory()
        .local_member()
        .await
        .unwrap()
        .unwrap()
        .record;
    record.local = false;
    record
}

/// Nodes that pin each other.
pub(crate) async fn peers<const N: usize>() -> [Peer; N] {
    let mut out = Vec::new();
    for seed in 1..=N {
        out.push(peer(seed as u8).await);
    }
    for a in &out {
        for b in &out {
            if a.id != b.id {
                a.node
                    .registry()
                    .add_member(as_pinned(b).await)
                    .await
                    .unwrap();
            }
        }
    }
    out.try_into().ok().unwrap()
}

/// The envelopes `from` has not yet delivered to `to`.
pub(crate) async fn due(from: &Peer, to: &Peer) -> Vec<OutboxEntry> {
    from.node
        .store()
        .outbox_due(&to.id, i64::MAX, 100)
        .await
        .unwrap()
}

/// Hands `entry` to `to`'s inbox as `from`'s sender would, and marks it delivered.
pub(crate) async fn hand(from: &Peer, to: &Peer, entry: &OutboxEntry) -> Answer {
    let federation = from.node.directory().federation().await.unwrap();
    let key = from.node.log().node_key();
    let signed =
        outbox_envelope(entry, &from.id, key, &federation, &mut Default::default()).unwrap();
    let answer = receive(to, &from.id, signed.to_json().as_bytes()).await;
    let receipt = match &answer {
        Answer::Delivered(r) | Answer::Refused(r) => r.to_json(),
        other => panic!("unexpected answer {other:?}"),
    };
    from.node
        .store()
        .outbox_delivered(&to.id, entry.seq, 1, &receipt)
        .await
        .unwrap();
    answer
}

/// `to`'s inbox answer to `bytes` from `sender`.
pub(crate) async fn receive(to: &Peer, sender: &str, bytes: &[u8]) -> Answer {
    Inbox::new(to.node.store(), to.node.log())
        .with_notices(to.node.notices())
        .with_attachments(to.node.attachments())
        .receive(sender, bytes)
        .await
        .unwrap()
}

/// The reason of a refusal.
pub(crate) fn reason_of(answer: &Answer) -> String {
    match answer {
        Answer::Refused(r) => {
            let body: Value = serde_json::from_str(r.envelope.body.get()).unwrap();
            body["reason"].as_str().unwrap().to_owned()
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}
