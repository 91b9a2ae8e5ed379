//! Test nodes for the server's integration tests: [`TestNode`] builds a node on a real
//! SQLite store with the API root, collections, users, grants, log and member record a test
//! asks for, and serves it on a loopback port. [`start`] builds, on top of it, a node with
//! a federation around it, for the identity and policy tests: this node's member record,
//! three peer members (A, B, C), an agreement with A, policy views for A and B, users of
//! every role and tokens of every kind.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use comity_node::admin::hash_password;
use comity_node::federation::agreement as agreements;
use comity_node::federation::seal::OpeningKey;
use comity_node::identity::NodeKey;
use comity_node::log::NodeLog;
use comity_node::registry::{
    AgreementDocument, AgreementDraft, MemberRole, NewMember, PartySignature, Registry,
    ScopeDocument,
};
use comity_node::release::ViewSpec;
use comity_node::tokens;
use comity_server::AppState;
use comity_stix::clock::now_us;
use comity_store::{Access, ApiRoot, Collection, CollectionRef, Role, Store, TrustedLog, User};
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
    _node: Node,
}

/// How a test node is made: see [`TestNode::new`] and the `with_…` methods, then
/// [`TestNode::build`] (a node not yet serving) or [`TestNode::start`] (serving).
pub struct TestNode {
    api_root: Option<u64>,
    collections: Vec<Collection>,
    federated: Vec<String>,
    users: Vec<(String, Role)>,
    grants: Vec<(String, String, Access)>,
    trusted: Vec<TrustedLog>,
    signer: Option<Signer>,
    local_member: Option<String>,
    witness_every: Option<Duration>,
    title: String,
}

/// A test node: its store, its log key and where it serves (or will).
pub struct Node {
    /// `http://` and [`Node::addr`].
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub store: Arc<dyn Store>,
    /// The node's log (signed by [`TestNode::with_log`]'s signer, or a fixed test key).
    pub log: NodeLog,
    /// The signer of the log.
    pub signer: Signer,
    /// This node's member id, if [`TestNode::registered_as`] was asked (else empty).
    pub id: String,
    witness_every: Option<Duration>,
    title: String,
    /// The port reserved for the server until it is started.
    listener: Mutex<Option<std::net::TcpListener>>,
    server: Option<Server>,
    _dir: tempfile::TempDir,
}

/// A running server; it stops when this is dropped.
pub struct Server {
    pub state: AppState,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl TestNode {
    /// A node with an empty store: no API root, no users, no log in the server.
    pub fn new() -> Self {
        TestNode {
            api_root: None,
            collections: Vec::new(),
            federated: Vec::new(),
            users: Vec::new(),
            grants: Vec::new(),
            trusted: Vec::new(),
            signer: None,
            local_member: None,
            witness_every: None,
            title: "test".into(),
        }
    }

    /// The server's title (`test` unless asked).
    pub fn titled(mut self, title: &str) -> Self {
        self.title = title.into();
        self
    }

    /// The API root `default`, titled `t`, taking requests of up to `max_content_length`.
    pub fn with_api_root(mut self, max_content_length: u64) -> Self {
        self.api_root = Some(max_content_length);
        self
    }

    /// A collection of `default`.
    pub fn with_collection(mut self, id: &str, title: &str) -> Self {
        self.collections.push(Collection {
            title: title.into(),
            ..collection(id, None)
        });
        self
    }

    /// A policy view of `default`, titled by its id.
    pub fn with_view(mut self, id: &str, view: ViewSpec) -> Self {
        self.collections.push(collection(id, Some(view)));
        self
    }

    /// The collection `id` of `default` is shared with the federation.
    pub fn federated(mut self, id: &str) -> Self {
        self.federated.push(id.into());
        self
    }

    /// A user with [`PASSWORD`].
    pub fn with_user(mut self, name: &str, role: Role) -> Self {
        self.users.push((name.into(), role));
        self
    }

    /// `user` may do `access` on the collection `id` of `default`.
    pub fn with_grant(mut self, id: &str, user: &str, access: Access) -> Self {
        self.grants.push((id.into(), user.into(), access));
        self
    }

    /// The node trusts the log `origin`, whose key is `signer`'s.
    pub fn trusting(mut self, origin: &str, signer: &Signer) -> Self {
        self.trusted.push(TrustedLog {
            origin: origin.into(),
            verifier_key: signer.verifier().to_string(),
        });
        self
    }

    /// The node's log signs with `signer`.
    pub fn with_log(mut self, signer: Signer) -> Self {
        self.signer = Some(signer);
        self
    }

    /// The node registers itself as the local member `name`, a CERT reachable at its
    /// address (see [`register_local`]).
    pub fn registered_as(mut self, name: &str) -> Self {
        self.local_member = Some(name.into());
        self
    }

    /// The server's background witnessing round runs this often.
    pub fn with_witness_every(mut self, every: Duration) -> Self {
        self.witness_every = Some(every);
        self
    }

    /// Makes the node, in this order: API root, collections, federated collections, users,
    /// grants, trusted logs, then its member record; reserves its port, serving nothing.
    pub async fn build(self) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
        if let Some(max_content_length) = self.api_root {
            store
                .create_api_root(ApiRoot {
                    name: "default".into(),
                    title: "t".into(),
                    description: None,
                    max_content_length,
                })
                .await
                .unwrap();
        }
        for c in self.collections {
            store.create_collection(c).await.unwrap();
        }
        for id in &self.federated {
            let key = CollectionRef {
                api_root: "default".into(),
                id: id.clone(),
            };
            store.set_collection_federated(&key, true).await.unwrap();
        }
        for (name, role) in &self.users {
            user(store.as_ref(), name, *role).await;
        }
        for (id, name, access) in &self.grants {
            let key = collection(id, None).key();
            store.grant(&key, name, *access).await.unwrap();
        }
        for trusted in self.trusted {
            store.transparency_log().trust_log(trusted).await.unwrap();
        }
        let signer = self.signer.unwrap_or_else(|| signer("comity/test", 1));
        let log = NodeLog::new(signer.clone()).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let id = match &self.local_member {
            Some(name) => register_local(store.as_ref(), &log, name, addr).await,
            None => String::new(),
        };
        Node {
            base: format!("http://{addr}"),
            addr,
            store,
            log,
            signer,
            id,
            witness_every: self.witness_every,
            title: self.title,
            listener: Mutex::new(Some(listener)),
            server: None,
            _dir: dir,
        }
    }

    /// Builds the node and serves it until it is dropped.
    pub async fn start(self) -> Node {
        let mut node = self.build().await;
        node.start().await;
        node
    }
}

impl Node {
    /// Serves the node until it is dropped.
    pub async fn start(&mut self) {
        self.server = Some(self.serve().await);
    }

    /// Serves the node on its address until the answer is dropped.
    pub async fn serve(&self) -> Server {
        let node = comity_node::Node::with_log(self.store.clone(), self.log.clone());
        node.set_attachments(comity_node::requests::attachments::Attachments::new(
            self._dir.path().join("attachments"),
        ));
        let mut state = AppState::new(node, self.title.clone(), None).await.unwrap();
        if let Some(every) = self.witness_every {
            state = state.with_witness_every(every);
        }
        let reserved = self.listener.lock().unwrap().take();
        let listener = match reserved {
            Some(l) => {
                l.set_nonblocking(true).unwrap();
                tokio::net::TcpListener::from_std(l).unwrap()
            }
            None => tokio::net::TcpListener::bind(self.addr).await.unwrap(),
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(comity_server::serve(listener, state.clone(), async {
            let _ = rx.await;
        }));
        Server {
            state,
            _shutdown: tx,
        }
    }

    /// The state of the server [`TestNode::start`] started.
    pub fn state(&self) -> &AppState {
        &self.server.as_ref().expect("the node serves").state
    }
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
        encryption_key: None,
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
    let key = NodeKey::from_log_signer(&signer("peer", seed)).unwrap();
    NewMember {
        name: name.into(),
        country: "ZZ".into(),
        roles: roles.iter().copied().collect(),
        public_key: key.public_key().to_string(),
        encryption_key: Some(OpeningKey::of(&key).public_key().to_string()),
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
    let view = |member: &str| ViewSpec {
        source: SRC.into(),
        member: member.into(),
        agreement: None,
        purpose: None,
    };
    let rw = Access {
        read: true,
        write: true,
    };
    let ro = Access {
        read: true,
        write: false,
    };
    let mut node = TestNode::new()
        .with_api_root(1_000_000)
        .with_collection(SRC, SRC)
        .with_collection(OTHER, OTHER)
        .with_view(VIEW_A, view(A))
        .with_view(VIEW_B, view(B))
        .with_user("admin", Role::Admin)
        .with_user("analyst", Role::Analyst)
        .with_user("liaison", Role::Liaison)
        .with_user("viewer", Role::Viewer)
        .with_grant(SRC, "analyst", rw)
        .with_grant(SRC, "liaison", ro)
        .with_grant(SRC, "viewer", ro)
        .with_grant(VIEW_A, "liaison", ro)
        .with_grant(VIEW_B, "liaison", ro)
        .with_log(signer("comity/test", 1))
        .build()
        .await;
    let store = node.store.clone();

    let log = node.log.clone();
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

    let writer = comity_node::Node::with_log(store.clone(), log.clone());
    let issue = |user: &'static str, member: Option<&str>, expires: i64| {
        let (node, member) = (writer.clone(), member.map(str::to_owned));
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
    tokens::revoke(&writer, &revoked.token.id).await.unwrap();
    let token_a = issue("admin", Some(A), later).await.secret;
    let token_b = issue("admin", Some(B), later).await.secret;

    node.start().await;
    World {
        base: node.base.clone(),
        store,
        log,
        local,
        agreement_a,
        analyst_token,
        expired_token,
        revoked_token: revoked.secret,
        token_a,
        token_b,
        _node: node,
    }
}
