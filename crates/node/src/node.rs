//! The node context every workflow runs in: the store, the identity key and the
//! transparency log, none optional. A workflow that writes takes a [`Node`], so every act
//! `ARCHITECTURE.md` says is logged is logged: there is no way to reach a writer without
//! the log. What a request handler reads to authorise and answer comes from
//! [`Node::view`], which writes nothing.

use std::sync::{Arc, RwLock};

use comity_store::Store;
use comity_tlog::note::{NoteError, Signer};
use tokio::sync::Notify;

use crate::correlation::warnings::WarningLists;
use crate::federation::inbox::Inbox;
use crate::log::NodeLog;
use crate::registry::{Directory, Registry, RegistryState};
use crate::requests::attachments::Attachments;
use crate::requests::notify::Notices;
use crate::requests::ResponseTimes;
use crate::view::NodeView;

/// One node: cheap to clone (every clone is the same node).
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    log: NodeLog,
    view: NodeView,
    /// What the registry keeps between acts (its lock, the verified agreement texts): this
    /// node's own, never shared with another node in the same process.
    registry: Arc<RegistryState>,
    outbox: Notify,
    /// How long this node gives itself to answer cooperation requests.
    response_times: RwLock<ResponseTimes>,
    notices: Notices,
    /// Where the bytes of request attachments are kept, once set.
    attachments: std::sync::OnceLock<Attachments>,
    /// The warning lists correlation applies: the defaults unless set.
    warning_lists: std::sync::OnceLock<WarningLists>,
    /// The feeds this process is running now.
    feeds_running: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl Node {
    /// The node over `store`, signing with `key` (the key `comity init` made).
    pub fn new(store: Arc<dyn Store>, key: Signer) -> Result<Node, NoteError> {
        Ok(Node::with_log(store, NodeLog::new(key)?))
    }

    /// The node over `store` with its log.
    pub fn with_log(store: Arc<dyn Store>, log: NodeLog) -> Node {
        let registry = Arc::new(RegistryState::default());
        Node {
            inner: Arc::new(Inner {
                view: NodeView::with_registry_state(store.clone(), registry.clone()),
                registry,
                store,
                log,
                outbox: Notify::new(),
                response_times: RwLock::default(),
                notices: Notices::new(),
                attachments: std::sync::OnceLock::new(),
                warning_lists: std::sync::OnceLock::new(),
                feeds_running: Default::default(),
            }),
        }
    }

    /// The store, for reads; writes go through the node's workflows.
    pub fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// A handle on the store, for tasks that outlive a borrow.
    pub fn store_arc(&self) -> Arc<dyn Store> {
        self.inner.store.clone()
    }

    /// The node's transparency log (and identity key).
    pub fn log(&self) -> &NodeLog {
        &self.inner.log
    }

    /// What requests read before their data (users, grants, collections, the federation),
    /// cached while nothing changes.
    pub fn view(&self) -> &NodeView {
        &self.inner.view
    }

    /// Members and agreements: every change committed to the log.
    pub fn registry(&self) -> Registry<'_> {
        Registry::with_state(self.store(), self.log(), &self.inner.registry)
    }

    /// Members and agreements, read (agreement signatures verified once on this node).
    pub fn directory(&self) -> Directory<'_> {
        Directory::with_state(self.store(), &self.inner.registry)
    }

    /// The registry's state on this node, for what reads or writes the registry with the
    /// store and the log rather than the node (the federation inbox).
    pub fn registry_state(&self) -> &RegistryState {
        &self.inner.registry
    }

    /// How long this node gives itself to answer cooperation requests.
    pub fn response_times(&self) -> ResponseTimes {
        self.inner
            .response_times
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sets how long this node gives itself to answer cooperation requests (from its
    /// settings).
    pub fn set_response_times(&self, times: ResponseTimes) {
        *self
            .inner
            .response_times
            .write()
            .unwrap_or_else(|e| e.into_inner()) = times;
    }

    /// The federation inbox of this node: with its registry state, notices of requests and
    /// attachments, waking its sender after an envelope is taken in.
    pub fn inbox(&self) -> Inbox<'_> {
        Inbox::new(self.store(), self.log())
            .with_registry_state(self.registry_state())
            .with_notices(self.notices())
            .with_attachments(self.attachments())
            .with_wake(&self.inner.outbox)
    }

    /// Wakes the federation sender: something was queued for a peer.
    pub fn outbox_ready(&self) {
        self.inner.outbox.notify_one();
    }

    /// The node's notices of requests (for the 24/7 channel): what the other party did,
    /// published by the federation inbox.
    pub fn notices(&self) -> &Notices {
        &self.inner.notices
    }

    /// Keeps the bytes of request attachments in `attachments` (set once, when the node is
    /// opened; later calls change nothing).
    pub fn set_attachments(&self, attachments: Attachments) {
        let _ = self.inner.attachments.set(attachments);
    }

    /// Where the bytes of request attachments are kept, if this node keeps them.
    pub fn attachments(&self) -> Option<&Attachments> {
        self.inner.attachments.get()
    }

    /// Applies `lists` to correlation answers (set once, when the node is opened; later
    /// calls change nothing).
    pub fn set_warning_lists(&self, lists: WarningLists) {
        let _ = self.inner.warning_lists.set(lists);
    }

    /// The warning lists correlation applies: those set, else the default set.
    pub fn warning_lists(&self) -> &WarningLists {
        self.inner.warning_lists.get_or_init(WarningLists::defaults)
    }

    /// The names of the feeds this process is running now.
    pub(crate) fn feeds_running(&self) -> &std::sync::Mutex<std::collections::BTreeSet<String>> {
        &self.inner.feeds_running
    }

    /// Completes when something was queued for a peer since the last wake-up.
    pub async fn outbox_queued(&self) {
        self.inner.outbox.notified().await
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("origin", &self.inner.log.origin())
            .finish_non_exhaustive()
    }
}
