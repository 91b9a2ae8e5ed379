//! Nodes for the federation tests: a real SQLite store in a temporary directory, a log
//! whose key is made from a seed, and the node's own member record.

use std::collections::BTreeSet;

use comity_store_sqlite::SqliteStore;
use comity_tlog::note::{KeyKind, Signer};

use crate::federation::agreement as agreements;
use crate::log::NodeLog;
use crate::registry::{
    AgreementDocument, AgreementDraft, Directory, MemberRole, NewMember, Registry, RegistryState,
    ScopeDocument,
};

/// One node under test.
pub(crate) struct Node {
    pub store: SqliteStore,
    pub log: NodeLog,
    /// Its registry state, as a [`crate::Node`] owns one.
    pub state: RegistryState,
    /// Its member id.
    pub id: String,
    /// Its data directory, which another store may open as a second process would.
    pub dir: tempfile::TempDir,
}

impl Node {
    /// The node's registry, committing to its log.
    pub fn registry(&self) -> Registry<'_> {
        Registry::with_state(&self.store, &self.log, &self.state)
    }
}

/// The log signer (and so the node key) made from `seed`.
pub(crate) fn signer(seed: u8) -> Signer {
    Signer::new(
        &format!("comity/n{seed}"),
        KeyKind::Ed25519,
        ed25519_dalek::SigningKey::from_bytes(&[seed; 32]),
    )
    .unwrap()
}

/// A fresh node, a CERT with no endpoint, registered as its own local member.
pub(crate) async fn node(seed: u8) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let log = NodeLog::new(signer(seed)).unwrap();
    let record = NewMember {
        name: format!("node {seed}"),
        country: "ZZ".into(),
        roles: [MemberRole::Cert].into(),
        public_key: log.node_key().public_key().to_string(),
        encryption_key: None,
        endpoint: None,
        contact: None,
        identity_id: None,
    }
    .into_record(true)
    .unwrap();
    let id = Registry::new(&store, &log)
        .add_member(record)
        .await
        .unwrap()
        .id
        .0;
    Node {
        store,
        log,
        state: RegistryState::default(),
        id,
        dir,
    }
}

/// `on` pins `peer`.
pub(crate) async fn pin(on: &Node, peer: &Node) {
    pin_at(on, peer, None).await;
}

/// `on` pins `peer`, reachable at a made-up HTTPS endpoint (for a transport under test).
pub(crate) async fn pin_reachable(on: &Node, peer: &Node) {
    pin_at(on, peer, Some("https://peer.example")).await;
}

async fn pin_at(on: &Node, peer: &Node, endpoint: Option<&str>) {
    let mut record = Directory::new(&peer.store)
        .local_member()
        .await
        .unwrap()
        .unwrap()
        .record;
    record.local = false;
    if let Some(endpoint) = endpoint {
        record.endpoint = Some(endpoint.to_owned());
    }
    on.registry().add_member(record).await.unwrap();
}

/// A set of strings.
pub(crate) fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// An agreement with `partners` on `types` up to `max_tlp`, for intelligence, open-ended.
pub(crate) fn draft(
    title: &str,
    partners: &[&str],
    types: &[&str],
    max_tlp: &str,
) -> AgreementDraft {
    AgreementDraft {
        title: title.into(),
        partners: set(partners),
        scope: ScopeDocument {
            object_types: set(types),
            max_tlp: max_tlp.into(),
            handling: BTreeSet::new(),
            purposes: set(&["intelligence"]),
        },
        valid_from: None,
        valid_until: None,
    }
}

/// `party` takes in `proposer`'s `doc`, signs it (queuing its signature for the others
/// when `send`), and `proposer` takes in the signed copy: in force on both.
pub(crate) async fn countersign(
    proposer: &Node,
    party: &Node,
    doc: &AgreementDocument,
    send: bool,
) {
    party
        .registry()
        .merge_agreement(doc.clone(), Some(&proposer.id))
        .await
        .unwrap();
    let signed = agreements::sign(&party.registry(), &doc.id, party.log.node_key(), send)
        .await
        .unwrap();
    proposer
        .registry()
        .merge_agreement(signed.document, Some(&party.id))
        .await
        .unwrap();
}
