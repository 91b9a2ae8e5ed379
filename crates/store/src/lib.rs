//! The storage boundary of a Comity node.
//!
//! This crate owns the [`Store`] trait, spoken in domain terms and split by role:
//! [`ObjectStore`] (API roots, collections and policy views, object versions, statuses),
//! [`IdentityStore`] (users, grants, API tokens, node secrets, one-time ids),
//! [`RegistryStore`] (the registry of members and agreements) and [`FederationStore`]
//! (the federation's outbox per peer and inbox journal), [`RequestStore`] (cooperation
//! requests and their signed histories), [`ValueIndexStore`] (the postings of observable
//! values, for correlation), [`FeedStore`] (feed subscriptions and where their runs left
//! off) and [`GovernanceStore`] (proposals, ballots, outcomes, the rules and the norms
//! registry); and the types that cross it. It
//! never touches a database itself: backends (`comity-store-sqlite`,
//! `comity-store-postgres`) implement every role, and every backend must pass the shared
//! [`conformance`] suite. The transparency log has a trait of its own, [`TransparencyLog`],
//! reached through [`Store::transparency_log`]. Code that holds a concrete backend brings
//! the traits into scope with `use comity_store::prelude::*;`.

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod federation_storage;
mod feeds;
mod governance;
pub mod packing;
mod requests;
#[macro_use]
mod types;
mod tlog;
mod values;

pub use feeds::{Feed, FeedRecord, FeedState, FeedValue};
pub use governance::{
    BallotRecord, CancellationRecord, Decided, Effect, GovernanceAct, GovernanceRecords,
    NormVersion, OutcomeRecord, ProposalRecord, RulesVersion, GOVERNANCE_SCOPE,
};
pub use requests::{
    AttachmentTransfer, RequestAppend, RequestEvent, RequestFilter, RequestRecord, REQUEST_SCOPE,
};
pub use tlog::{
    log_storage, scope_of, CollectedCosignature, KeptOpening, OpenableEntry, ScopedOpening,
    StoredCheckpoint, TransparencyLog, TrustedLog, WitnessAlert, WitnessAlertKind,
};
pub use types::*;
pub use values::{IndexedValue, NetRange, Posting, ValueLookup};

use async_trait::async_trait;

/// Errors a backend reports; callers map them once (for example to HTTP statuses).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The thing to create exists already.
    #[error("{0} already exists")]
    Conflict(String),
    /// The database cannot be reached or refused the operation.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The stored schema is newer than this build understands.
    #[error("the database schema is version {found}, newer than this build's {supported}; upgrade comity")]
    SchemaTooNew {
        /// Version found in the database.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// Any other backend failure.
    #[error("storage error: {0}")]
    Backend(String),
}

/// Result alias for store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// The store's traits, for code that calls store methods on a concrete backend
/// (`SqliteStore`, `PgStore`): a method of a role trait is only found on such a value when
/// its trait is in scope (`use comity_store::prelude::*;`). A `&dyn Store` finds them
/// without.
pub mod prelude {
    pub use crate::{
        FederationStore, FeedStore, GovernanceStore, IdentityStore, ObjectStore, RegistryStore,
        RequestStore, Store, TransparencyLog, ValueIndexStore,
    };
}

/// The storage of one node: every role a backend plays, and its transparency log. Code
/// that is handed a store takes `&dyn Store`; every method of the role traits is durable
/// when it returns `Ok`.
pub trait Store:
    ObjectStore
    + IdentityStore
    + RegistryStore
    + FederationStore
    + RequestStore
    + ValueIndexStore
    + FeedStore
    + GovernanceStore
    + Send
    + Sync
    + 'static
{
    /// The node's transparency log, which every backend stores.
    fn transparency_log(&self) -> &dyn TransparencyLog;
}

/// API roots, collections, object versions, status resources and the marking definitions
/// among the objects. Every method is durable when it returns `Ok`.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Creates an API root.
    async fn create_api_root(&self, root: ApiRoot) -> StoreResult<()>;
    /// Lists API roots, by name.
    async fn api_roots(&self) -> StoreResult<Vec<ApiRoot>>;
    /// One API root by name.
    async fn api_root(&self, name: &str) -> StoreResult<Option<ApiRoot>>;

    /// Creates a collection in an existing API root, with its [`Collection::view`] when it
    /// is a policy view and its [`Collection::origin`] when it receives a member's objects.
    async fn create_collection(&self, collection: Collection) -> StoreResult<()>;
    /// Lists the collections of an API root, in creation order.
    async fn collections(&self, api_root: &str) -> StoreResult<Vec<Collection>>;
    /// One collection of an API root.
    async fn collection(&self, api_root: &str, id: &str) -> StoreResult<Option<Collection>>;
    /// Whether the objects stored in a collection are shared with peers: an admin's choice,
    /// off for a new collection; `NotFound` when there is no such collection.
    async fn collection_federated(&self, collection: &CollectionRef) -> StoreResult<bool>;
    /// Turns sharing of a plain collection's objects with peers on or off; `NotFound` when
    /// there is no such collection, `Conflict` for a policy view or a member's collection.
    async fn set_collection_federated(
        &self,
        collection: &CollectionRef,
        on: bool,
    ) -> StoreResult<()>;

    /// Adds object versions to a collection in one durable transaction. Returns one outcome
    /// per input, in order. Versions already stored with equal content are reported as
    /// [`AddOutcome::AlreadyStored`]; `date_added` is strictly increasing across the store.
    async fn add_objects(
        &self,
        collection: &CollectionRef,
        objects: Vec<NewObject>,
    ) -> StoreResult<Vec<AddOutcome>>;
    /// One page of object versions matching a filter, ordered by `date_added`.
    async fn objects(
        &self,
        collection: &CollectionRef,
        filter: &ObjectFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<StoredObject>>;
    /// Deletes the versions of one object that match the version filter; returns how many.
    async fn delete_object(
        &self,
        collection: &CollectionRef,
        id: &str,
        filter: &ObjectFilter,
    ) -> StoreResult<u64>;
    /// The JSON text of every stored version of every `marking-definition`, in any
    /// collection, in the order they were added: what marking references resolve against.
    async fn marking_definitions(&self) -> StoreResult<Vec<String>>;
    /// Number of object versions in a collection.
    async fn count_objects(&self, collection: &CollectionRef) -> StoreResult<u64>;

    /// Stores (or replaces) a status resource.
    async fn put_status(&self, status: &Status) -> StoreResult<()>;
    /// One status resource of an API root.
    async fn status(&self, api_root: &str, id: &str) -> StoreResult<Option<Status>>;
}

/// Users and their roles and grants, API tokens, node-wide secrets, one-time ids and the
/// version of everything cached per request. Every method is durable when it returns `Ok`.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Creates a local user.
    async fn create_user(&self, user: User) -> StoreResult<()>;
    /// One user by name.
    async fn user(&self, name: &str) -> StoreResult<Option<User>>;
    /// All users, by name.
    async fn users(&self) -> StoreResult<Vec<User>>;
    /// Replaces a user's password hash.
    async fn set_password_hash(&self, name: &str, password_hash: &str) -> StoreResult<()>;
    /// Changes a user's role; [`StoreError::NotFound`] for an unknown user.
    async fn set_role(&self, name: &str, role: Role) -> StoreResult<()>;
    /// Sets a user's permissions on a collection.
    async fn grant(
        &self,
        collection: &CollectionRef,
        user: &str,
        access: Access,
    ) -> StoreResult<()>;
    /// A user's permissions on a collection (none when never granted).
    async fn access(&self, collection: &CollectionRef, user: &str) -> StoreResult<Access>;

    /// Stores a new API token; [`StoreError::Conflict`] when its id exists.
    async fn create_token(&self, token: &ApiToken) -> StoreResult<()>;
    /// One API token by id (revoked and expired ones included).
    async fn token(&self, id: &str) -> StoreResult<Option<ApiToken>>;
    /// Every API token, ordered by `created_at`, then id.
    async fn tokens(&self) -> StoreResult<Vec<ApiToken>>;
    /// Revokes a token at time `at` (microseconds). Returns `false`, changing nothing, when
    /// it was revoked already (the first time is kept); [`StoreError::NotFound`] for an
    /// unknown id.
    async fn revoke_token(&self, id: &str, at: i64) -> StoreResult<bool>;

    /// A node-wide secret (for example the key that signs pagination tokens), created on
    /// first use with `init` and identical for every process sharing the database.
    async fn node_secret(&self, name: &str, init: [u8; 32]) -> StoreResult<[u8; 32]>;

    /// A number that changes with every change to API roots, collections, users, grants,
    /// tokens, the registry or the stored marking definitions, whichever process makes it,
    /// and with nothing else (adding other objects leaves it alone). A cache of those is current while it is unchanged. Meant
    /// to be read on every request: backends answer it as cheaply as they can.
    async fn meta_version(&self) -> StoreResult<i64>;

    /// Records the first use of a one-time id (a signed request's), remembered until
    /// `expires_at` (microseconds; ids expired by `now` are forgotten). `Ok(false)` when it
    /// was used before: the request is a replay, whichever process answered it first.
    async fn first_use(&self, id: &str, expires_at: i64, now: i64) -> StoreResult<bool>;
}

/// The node's registry: member records and agreements, kept as documents with a status.
/// Every method is durable when it returns `Ok`.
#[async_trait]
pub trait RegistryStore: Send + Sync {
    /// Adds a registry document; [`StoreError::Conflict`] when one of the same kind and id
    /// exists (the same id under the other kind is another document).
    async fn add_registry_entry(&self, entry: &RegistryEntry) -> StoreResult<()>;
    /// Replaces the status, document and `updated_at` of the entry of this kind and id;
    /// [`StoreError::NotFound`] when there is none.
    async fn update_registry_entry(&self, entry: &RegistryEntry) -> StoreResult<()>;
    /// Replaces the status, document and `updated_at` of the entry of this kind and id only
    /// while its stored status and document are still those of `expected` (a compare and
    /// swap, atomic across processes sharing the store). Returns `false`, changing nothing,
    /// when they are not (or there is no such entry).
    async fn replace_registry_entry(
        &self,
        entry: &RegistryEntry,
        expected: &RegistryEntry,
    ) -> StoreResult<bool>;
    /// One registry document by kind and id.
    async fn registry_entry(
        &self,
        kind: RegistryKind,
        id: &str,
    ) -> StoreResult<Option<RegistryEntry>>;
    /// Every registry document of one kind, ordered by id (byte-wise).
    async fn registry(&self, kind: RegistryKind) -> StoreResult<Vec<RegistryEntry>>;
    /// Removes member `id`'s registry entry and the envelopes still waiting in its outbox,
    /// in one transaction; delivered envelopes stay, and the next envelope pushed for that
    /// id follows the last delivered one (so a member registered again under the same id
    /// sees no gap). Returns how many waiting envelopes were dropped;
    /// [`StoreError::NotFound`], changing nothing, when no member has that id.
    async fn remove_member(&self, id: &str) -> StoreResult<u64>;
}

/// The federation's outbox per peer and inbox journal per sender. Every method is durable
/// when it returns `Ok`.
#[async_trait]
pub trait FederationStore: Send + Sync {
    /// Appends envelopes to `peer`'s outbox in one transaction, with seqs continuing after
    /// the last one ever given to that peer (1, 2, … for the first); returns the seqs, in
    /// input order. Concurrent pushes, from any process, never share or skip a seq. A new
    /// entry is due from its `created_at`. [`StoreError::Conflict`], appending nothing,
    /// when an id is already in that peer's outbox (or twice in `items`).
    async fn outbox_push(&self, peer: &str, items: Vec<OutboxItem>) -> StoreResult<Vec<u64>>;
    /// The undelivered entries of `peer`, in seq order from the lowest undelivered one, at
    /// most `limit`, provided that lowest one is due (`next_attempt_at <= now`); empty
    /// otherwise, so that nothing overtakes an entry waiting for its retry.
    async fn outbox_due(&self, peer: &str, now: i64, limit: usize)
        -> StoreResult<Vec<OutboxEntry>>;
    /// Every entry of `peer` (delivered or not) with a seq above `after_seq`, in seq order,
    /// at most `limit` (what a peer catching up pulls).
    async fn outbox_after(
        &self,
        peer: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreResult<Vec<OutboxEntry>>;
    /// Marks an entry delivered at `at` with the peer's `receipt`. Returns `false`,
    /// changing nothing, when it was delivered already (the first receipt is kept);
    /// [`StoreError::NotFound`] when there is no such entry.
    async fn outbox_delivered(
        &self,
        peer: &str,
        seq: u64,
        at: i64,
        receipt: &str,
    ) -> StoreResult<bool>;
    /// Records a failed attempt: one more attempt, its `error`, and the time of the next;
    /// [`StoreError::NotFound`] when there is no such entry.
    async fn outbox_failed(
        &self,
        peer: &str,
        seq: u64,
        error: &str,
        next_attempt_at: i64,
    ) -> StoreResult<()>;
    /// The peers with undelivered entries, by peer (byte-wise).
    async fn outbox_peers(&self) -> StoreResult<Vec<String>>;
    /// The figures of every peer that has any outbox entry, by peer (byte-wise).
    async fn outbox_stats(&self) -> StoreResult<Vec<OutboxStats>>;

    /// The journal's record of envelope `id` from `sender`.
    async fn inbox_record(&self, sender: &str, id: &str) -> StoreResult<Option<InboxRecord>>;
    /// The highest seq recorded from `sender`, delivered or refused (both are final), 0 if
    /// none.
    async fn inbox_last_seq(&self, sender: &str) -> StoreResult<u64>;
    /// Every sender with a record in the journal, by sender (byte-wise).
    async fn inbox_senders(&self) -> StoreResult<Vec<String>>;
    /// The records of `sender` with a seq above `after_seq`, in seq order, at most `limit`
    /// (what `comity copy` reads to carry the journal).
    async fn inbox_after(
        &self,
        sender: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreResult<Vec<InboxRecord>>;
    /// Records an envelope. Returns `false`, changing nothing, when one with the same
    /// sender and id is recorded already (the first record is kept). Another envelope of
    /// the sender with the same sequence number is a [`StoreError::Conflict`]: one number,
    /// one envelope.
    async fn inbox_put(&self, record: &InboxRecord) -> StoreResult<bool>;
    /// Records an envelope and adds its objects to `collection` in one transaction. When
    /// the sender and id are recorded already, changes nothing and returns `None`.
    /// Otherwise adds the objects exactly as [`ObjectStore::add_objects`] does when `log_entries`
    /// is empty, or as [`TransparencyLog::add_objects_logged`] does (appending the entries
    /// of the objects added, in the same transaction) when it is not, and returns the
    /// outcomes. On an error nothing is stored, the record included; a sequence number
    /// already recorded for the sender is a [`StoreError::Conflict`].
    async fn inbox_apply(
        &self,
        record: &InboxRecord,
        collection: &CollectionRef,
        objects: Vec<NewObject>,
        log_entries: Vec<OpenableEntry>,
    ) -> StoreResult<Option<Vec<AddOutcome>>>;
}

/// Cooperation requests: headers and signed histories. Every method is durable when it
/// returns `Ok`.
#[async_trait]
pub trait RequestStore: Send + Sync {
    /// Saves a draft: inserts the header, or replaces a stored one that is still a draft
    /// with no events. A request with events is a [`StoreError::Conflict`], changing
    /// nothing.
    async fn save_request_draft(&self, header: &RequestRecord) -> StoreResult<()>;
    /// Appends one event in one transaction with its header, log entry and envelope.
    /// Returns `false`, changing nothing, when the same event (same request, `n` and
    /// SHA-256) is stored already. Another event at that place, or an `n` that is not the
    /// stored header's `events + 1` (1 when there is no header), is a
    /// [`StoreError::Conflict`], changing nothing. With `replaces`, the event held at that
    /// place must have that SHA-256 (else Conflict): it and every later event are removed
    /// first, in the same transaction.
    async fn append_request_event(&self, append: &RequestAppend) -> StoreResult<bool>;
    /// The header of request `id`.
    async fn request(&self, id: &str) -> StoreResult<Option<RequestRecord>>;
    /// The events of request `id`, in order.
    async fn request_events(&self, id: &str) -> StoreResult<Vec<RequestEvent>>;
    /// The headers `filter` selects, most recently updated first (ties by id, descending).
    async fn requests(&self, filter: &RequestFilter) -> StoreResult<Vec<RequestRecord>>;
    /// The attachment transfers still pending ([`RequestAppend::transfers`]), of request
    /// `request` only when given, ordered by request, SHA-256 and member.
    async fn attachment_transfers(
        &self,
        request: Option<&str>,
    ) -> StoreResult<Vec<AttachmentTransfer>>;
    /// Ends a pending transfer once its chunks are queued; ending one that is not pending
    /// changes nothing.
    async fn end_attachment_transfer(&self, transfer: &AttachmentTransfer) -> StoreResult<()>;
}

/// The value index: postings of observable values, written with the object versions that
/// hold them ([`NewObject::values`]) and removed with them. Every method is durable when
/// it returns `Ok`.
#[async_trait]
pub trait ValueIndexStore: Send + Sync {
    /// Every posting of `lookup`'s kind whose value equals it, and when it has a block,
    /// every posting of that kind whose block contains it or lies within it; each once,
    /// with the version it points at, in no set order. No cut-off: all of them.
    async fn postings(&self, lookup: &ValueLookup) -> StoreResult<Vec<Posting>>;
    /// Every posting of `kind` whose value is one of `values` (exact match, no blocks),
    /// each once, with the version it points at, in no set order.
    async fn postings_of_values(&self, kind: &str, values: &[String]) -> StoreResult<Vec<Posting>>;
    /// Every posting of every stored version of object `id` in `collection` (none when
    /// there is no such collection or object).
    async fn object_postings(
        &self,
        collection: &CollectionRef,
        id: &str,
    ) -> StoreResult<Vec<Posting>>;
    /// Up to `limit` stored versions (any collection) with a row above `after`, in row
    /// order: what a re-index walks.
    async fn versions_after(&self, after: i64, limit: usize) -> StoreResult<Vec<StoredObject>>;
    /// Replaces the postings of each stored version (by row) with the values given, in
    /// one transaction; rows no longer stored are skipped.
    async fn reindex_versions(&self, versions: Vec<(i64, Vec<IndexedValue>)>) -> StoreResult<()>;
    /// How many postings the index holds.
    async fn posting_count(&self) -> StoreResult<u64>;
}

/// Feed subscriptions, where their runs left off and the values list feeds last saw.
/// Every method is durable when it returns `Ok`.
#[async_trait]
pub trait FeedStore: Send + Sync {
    /// Adds a subscription with its initial state; [`StoreError::Conflict`] when one of
    /// that name exists.
    async fn add_feed(&self, record: &FeedRecord, state: &FeedState) -> StoreResult<()>;
    /// One subscription by name, with its state.
    async fn feed(&self, name: &str) -> StoreResult<Option<Feed>>;
    /// Every subscription, by name (byte-wise).
    async fn feeds(&self) -> StoreResult<Vec<Feed>>;
    /// Removes a subscription with its state and values; [`StoreError::NotFound`] when
    /// there is none (the objects it stored stay).
    async fn remove_feed(&self, name: &str) -> StoreResult<()>;
    /// Replaces a feed's state; [`StoreError::NotFound`] when there is no such feed.
    async fn save_feed_state(&self, name: &str, state: &FeedState) -> StoreResult<()>;
    /// The values a list feed's last run saw, by value (byte-wise).
    async fn feed_values(&self, name: &str) -> StoreResult<Vec<FeedValue>>;
    /// Replaces a list feed's values and its state in one transaction;
    /// [`StoreError::NotFound`], changing nothing, when there is no such feed.
    async fn replace_feed_values(
        &self,
        name: &str,
        values: &[FeedValue],
        state: &FeedState,
    ) -> StoreResult<()>;
}

/// Governance: proposals, ballots, outcomes, the rules and the norms registry. Each act is
/// written in one transaction with its log entries and envelopes. Every method is durable
/// when it returns `Ok`.
#[async_trait]
pub trait GovernanceStore: Send + Sync {
    /// Stores a tabled proposal. Returns `false`, changing nothing, when the same proposal
    /// (same id and SHA-256) is stored already; another proposal with that id is a
    /// [`StoreError::Conflict`], changing nothing.
    async fn table_proposal(
        &self,
        proposal: &ProposalRecord,
        act: &GovernanceAct,
    ) -> StoreResult<bool>;
    /// Stores a ballot received on a stored proposal. Returns `false`, changing nothing,
    /// when the same text is stored already for that proposal; [`StoreError::NotFound`]
    /// when the proposal is not stored; a [`StoreError::Conflict`] once its outcome or its
    /// cancellation is.
    async fn add_ballot(&self, ballot: &BallotRecord, act: &GovernanceAct) -> StoreResult<bool>;
    /// Stores the cancellation of a stored proposal. Returns `false`, changing nothing,
    /// when the same cancellation (same SHA-256) is stored already; [`StoreError::NotFound`]
    /// when the proposal is not stored; a [`StoreError::Conflict`], changing nothing, once
    /// it has an outcome or another cancellation.
    async fn cancel_proposal(
        &self,
        cancellation: &CancellationRecord,
        act: &GovernanceAct,
    ) -> StoreResult<bool>;
    /// Stores the outcome of a stored proposal and applies `effect` in the same
    /// transaction. Returns `false`, changing nothing, when an outcome is stored already
    /// for that proposal; when the effect cannot apply (see [`Effect`]), nothing is stored.
    async fn record_outcome(
        &self,
        outcome: &OutcomeRecord,
        effect: Option<&Effect>,
        act: &GovernanceAct,
    ) -> StoreResult<bool>;
    /// Stores a proposal decided on other nodes (`decided`: the proposal, unless the same
    /// one is stored; the ballots not stored yet; its outcome) and applies `effect`, with
    /// `act`, all or nothing, as [`Self::table_proposal`], [`Self::add_ballot`] and
    /// [`Self::record_outcome`] would one after the other. Returns `false`, changing
    /// nothing, when the proposal has an outcome already; a [`StoreError::Conflict`],
    /// changing nothing, when another proposal with its id is stored, it is canceled, or
    /// the effect cannot apply.
    async fn record_decided(
        &self,
        decided: &Decided,
        effect: Option<&Effect>,
        act: &GovernanceAct,
    ) -> StoreResult<bool>;
    /// Applies what a node starts its governance with, all or nothing with `act`: the
    /// rules, version 1, first ([`Effect::Rules`]), then the first norms and the founding
    /// members (a genesis document), each as [`Self::record_outcome`] applies an effect. A
    /// [`StoreError::Conflict`] once the node has rules or a proposal, when `founding`
    /// does not start with the rules, or when an effect cannot apply.
    async fn found(&self, founding: &[Effect], act: &GovernanceAct) -> StoreResult<()>;
    /// Proposal `id`.
    async fn proposal(&self, id: &str) -> StoreResult<Option<ProposalRecord>>;
    /// The proposals, most recently tabled first (ties by id, descending), at most `limit`.
    async fn proposals(&self, limit: usize) -> StoreResult<Vec<ProposalRecord>>;
    /// The proposals whose deadline is at or before `at` and that have no outcome yet and
    /// were not canceled, by deadline then id.
    async fn proposals_due(&self, at: i64) -> StoreResult<Vec<ProposalRecord>>;
    /// The proposals with an outcome, by deadline then id, after the one whose deadline
    /// and id are `after` (from the first when `None`), at most `limit`.
    async fn decided(
        &self,
        after: Option<(i64, &str)>,
        limit: usize,
    ) -> StoreResult<Vec<ProposalRecord>>;
    /// The ballots received on proposal `id`, in the order received.
    async fn ballots(&self, id: &str) -> StoreResult<Vec<BallotRecord>>;
    /// The outcome of proposal `id`.
    async fn outcome(&self, id: &str) -> StoreResult<Option<OutcomeRecord>>;
    /// The cancellation of proposal `id`.
    async fn cancellation(&self, id: &str) -> StoreResult<Option<CancellationRecord>>;
    /// The rules in force: their latest version, if any.
    async fn rules_in_force(&self) -> StoreResult<Option<RulesVersion>>;
    /// Every version of the rules, oldest first.
    async fn rules_versions(&self) -> StoreResult<Vec<RulesVersion>>;
    /// Every version of every norm, by norm (byte-wise) then version.
    async fn norms(&self) -> StoreResult<Vec<NormVersion>>;
}
