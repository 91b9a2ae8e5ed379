//! A node with a federation around it, for the identity and policy tests: a real SQLite
//! store, a real server on a loopback port, this node's member record, three peer members
//! (A, B, C), an agreement with A, policy views for A and B, users of every role and tokens
//! of every kind.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::Arc;

use comity_node::admin::hash_password;
use comity_node::federation::agreement as agreements;
use comity_node::identity::NodeKey;
use comity_node::log::NodeLog;
use comity_node::registry::{
    AgreementDocument, AgreementDraft, MemberRole, NewMember, PartySignature, Registry,
    ScopeDocument,
};
use comity_node::release::ViewSpec;
use comity_node::tokens;
use comity_node::Node;
use comity_server::AppState;
use comity_stix::clock::now_us;
use comity_store::{Access, ApiRoot, Collection, Role, Store, User};
use comity_store_sqlite::SqliteStore;
use comity_tlog::note::{KeyKind, Signer};

/// The collection that holds the node's objects.
pub const SRC: &str = "5c2f0f39-6a4c-4a57-9b7e-2b9e3f3a0d11";
/// A collection nobody but admin is granted.
pub const OTHER: &str = "7d0f3c11-2c1e-4f3a-8d0c-1a2b3c4d5e6f";
/// The view of SRC for member A.
pub const VIEW_A: &str = "0a5f3c11-2c1e-4f3a-8d0c-1a2b3c4d5e6f";
/// The view of SRC for member B.
pub const VIEW_B: &str = "0b5f3c11-2c1e-4f3a-8d0c-1a2b3c4d5e6f";
/// Every user's password.
pub const PASSWORD: &str = "a long test passphrase";
/// Member ids of the peers.
pub const A: &str = "identity--aaaaaaaa-0000-4000-8000-000000000001";
pub const B: &str = "identity--bbbbbbbb-0000-4000-8000-000000000002";
pub const C: &str = "identity--cccccccc-0000-4000-8000-000000000003";

/// The node under test and what the tests need to call it.
pub struct World {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub log: NodeLog,
    /// This node's member id.
    pub local: String,
    /// The agreement between this node and A.
    pub agreement_a: String,
    /// Tokens: an analyst's, an expired one, a revoked one, and A's and B's member tokens.
    pub analyst_token: String,
    pub expired_token: String,
    pub revoked_token: String,
    pub token_a: String,
    pub token_b: String,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// A user `admin` with [`PASSWORD`], in `store`.
pub async fn add_admin(store: &dyn Store) {
    store
        .create_user(User {
            name: "admin".into(),
            role: Role::Admin,
            password_hash: hash_password(PASSWORD).unwrap(),
        })
        .await
        .unwrap();
}

/// Registers the node whose log is `log` as the local member of `store`, a CERT reachable
/// at `addr`; returns its member id.
pub async fn register_local(
    store: &dyn Store,
    log: &NodeLog,
    name: &str,
    addr: std::net::SocketAddr,
) -> String {
    let record = NewMember {
        name: name.into(),
        country: "ZZ".into(),
        roles: [MemberRole::Cert].into(),
        public_key: log.node_key().public_key().to_string(),
        endpoint: Some(format!("http://{addr}")),
        contact: None,
        identity_id: None,
    }
    .into_record(true)
    .unwrap();
    Registry::new(store, log)
        .add_member(record)
        .await
        .unwrap()
        .id
        .0
}

/// The log signer (and so the node key) made from `seed`.
pub fn signer(name: &str, seed: u8) -> Signer {
    Signer::new(
        name,
        KeyKind::Ed25519,
        ed25519_dalek::SigningKey::from_bytes(&[seed; 32]),
    )
    .unwrap()
}

fn member(name: &str, id: Option<&str>, seed: u8, roles: &[MemberRole]) -> NewMember {
    NewMember {
        name: name.into(),
        country: "ZZ".into(),
        roles: roles.iter().copied().collect(),
        public_key: NodeKey::from_log_signer(&signer("peer", seed))
            .unwrap()
            .public_key()
            .to_string(),
        endpoint: None,
        contact: None,
        identity_id: id.map(str::to_owned),
    }
}

/// `doc` with the signature of `member`, whose node key is made from `seed`.
pub fn countersign(doc: &AgreementDocument, member: &str, seed: u8) -> AgreementDocument {
    let key = NodeKey::from_log_signer(&signer("peer", seed)).unwrap();
    let mut doc = doc.clone();
    doc.signatures.push(PartySignature {
        member: member.to_owned(),
        public_key: key.public_key().to_string(),
        signature: key.sign(&doc.signed_body()),
    });
    doc
}

fn set<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

async fn user(store: &dyn Store, name: &str, role: Role) {
    store
        .create_user(User {
            name: name.into(),
            role,
            password_hash: hash_password(PASSWORD).unwrap(),
        })
        .await
        .unwrap();
}

fn collection(id: &str, view: Option<ViewSpec>) -> Collection {
    Collection {
        id: id.into(),
        api_root: "default".into(),
        title: id.into(),
        description: None,
        view: view.map(|v| serde_json::to_string(&v).unwrap()),
        origin: None,
    }
}

/// Starts the node.
pub async fn start() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    store
        .create_api_root(ApiRoot {
            name: "default".into(),
            title: "t".into(),
            description: None,
            max_content_length: 1_000_000,
        })
        .await
        .unwrap();
    let view = |member: &str| ViewSpec {
        source: SRC.into(),
        member: member.into(),
        agreement: None,
        purpose: None,
    };
    for c in [
        collection(SRC, None),
        collection(OTHER, None),
        collection(VIEW_A, Some(view(A))),
        collection(VIEW_B, Some(view(B))),
    ] {
        store.create_collection(c).await.unwrap();
    }
    for (name, role) in [
        ("admin", Role::Admin),
        ("analyst", Role::Analyst),
        ("liaison", Role::Liaison),
        ("viewer", Role::Viewer),
    ] {
        user(store.as_ref(), name, role).await;
    }
    let rw = Access {
        read: true,
        write: true,
    };
    let ro = Access {
        read: true,
        write: false,
    };
    let key = collection(SRC, None).key();
    store.grant(&key, "analyst", rw).await.unwrap();
    store.grant(&key, "liaison", ro).await.unwrap();
    store.grant(&key, "viewer", ro).await.unwrap();
    for v in [VIEW_A, VIEW_B] {
        store
            .grant(&collection(v, None).key(), "liaison", ro)
            .await
            .unwrap();
    }

    let log = NodeLog::new(signer("comity/test", 1)).unwrap();
    let registry = Registry::new(store.as_ref(), &log);
    let mut me = member("This node", None, 1, &[MemberRole::Cert]);
    me.public_key = log.node_key().public_key().to_string();
    let local = registry
        .add_member(me.into_record(true).unwrap())
        .await
        .unwrap()
        .id
        .0;
    for (name, id, seed) in [("A", A, 2), ("B", B, 3), ("C", C, 4)] {
        let record = member(name, Some(id), seed, &[MemberRole::Police])
            .into_record(false)
            .unwrap();
        registry.add_member(record).await.unwrap();
    }
    let proposal = agreements::propose(
        &registry,
        AgreementDraft {
            title: "with A".into(),
            partners: set([A]),
            scope: ScopeDocument {
                object_types: set(["indicator", "report"]),
                max_tlp: "amber".into(),
                handling: set(["H0", "H1"]),
                purposes: set(["intelligence"]),
            },
            valid_from: None,
            valid_until: None,
        },
        log.node_key(),
        false,
    )
    .await
    .unwrap()
    .document;
    // A signs too (its node would, on receiving the proposal): the agreement is in force.
    let signed_by_a = countersign(&proposal, A, 2);
    let agreement_a = registry
        .merge_agreement(signed_by_a, Some(A))
        .await
        .unwrap()
        .agreement
        .document
        .id;

    let node = Node::with_log(store.clone(), log.clone());
    let issue = |user: &'static str, member: Option<&str>, expires: i64| {
        let (node, member) = (node.clone(), member.map(str::to_owned));
        async move {
            tokens::issue(&node, user, "test", member, Some(expires))
                .await
                .unwrap()
        }
    };
    let later = now_us() + 3_600_000_000;
    let analyst_token = issue("analyst", None, later).await.secret;
    let expired_token = issue("analyst", None, now_us() - 1).await.secret;
    let revoked = issue("analyst", None, later).await;
    tokens::revoke(&node, &revoked.token.id).await.unwrap();
    let token_a = issue("admin", Some(A), later).await.secret;
    let token_b = issue("admin", Some(B), later).await.secret;

    let state = AppState::new(node, "test".into(), None).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(comity_server::serve(listener, state, async {
        let _ = rx.await;
    }));
    World {
        base,
        store,
        log,
        local,
        agreement_a,
        analyst_token,
        expired_token,
        revoked_token: revoked.secret,
        token_a,
        token_b,
        _dir: dir,
        _shutdown: tx,
    }
}
