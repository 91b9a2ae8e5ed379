//! The embedded SQLite backend of the Comity store.
//!
//! It owns one database file in the node's data directory, in WAL mode with full
//! synchronisation, so that a transaction that returned is on disk and readers never wait
//! for writers. One writer connection on a thread of its own serialises writes (SQLite
//! allows one writer anyway) and commits concurrent ones together ([`writer`]); a small
//! pool of reader connections serves queries on tokio's blocking pool, never on the async
//! executor. Other processes (for example
//! `comity import` while `comity serve` runs) may write to the same file: every write
//! transaction starts `IMMEDIATE` and derives `date_added` (and each peer's outbox seqs)
//! inside it.

mod admin;
pub mod backup;
mod federation;
mod feeds;
mod governance;
mod identity;
mod log;
mod migrate;
mod objects;
mod packed;
mod requests;
mod values;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use comity_store::packing::Dictionaries;
use comity_store::prelude::*;
use comity_store::{
    Access, AddOutcome, ApiRoot, ApiToken, AttachmentTransfer, BallotRecord, CancellationRecord,
    CollectedCosignature, Collection, CollectionRef, Decided, Effect, Feed, FeedRecord, FeedState,
    FeedValue, GovernanceAct, InboxRecord, IndexedValue, KeptOpening, NewObject, NormVersion,
    ObjectFilter, OpenableEntry, OutboxEntry, OutboxItem, OutboxStats, OutcomeRecord, Page,
    PageRequest, Posting, ProposalRecord, RegistryEntry, RegistryKind, RequestAppend, RequestEvent,
    RequestFilter, RequestRecord, Role, RulesVersion, ScopedOpening, Status, StoreError,
    StoreResult, StoredCheckpoint, StoredObject, TrustedLog, User, ValueLookup, WitnessAlert,
};
use comity_tlog::witness::{TreeHead, WitnessedCheckpoint};
use comity_tlog::Hash;
use rusqlite::{Connection, TransactionBehavior};

/// Name of the database file inside a data directory.
pub const DATABASE_FILE: &str = "comity.sqlite3";

/// Page cache of the writer: keeps the id index of a few million objects in memory.
const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// Page cache of each reader; with [`MAX_READERS`] it bounds the memory of reads.
const READER_CACHE_KIB: i64 = 16 * 1024;

/// How many reads run at once; each holds one connection with its page cache, so this
/// bounds the memory of reads however many clients are connected.
const MAX_READERS: usize = 8;

/// How often the background checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// A [`Store`] on one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: writer::Writer,
    readers: Mutex<Vec<Connection>>,
    /// Answers [`IdentityStore::meta_version`] in place, without a hand-off to a blocking thread:
    /// one row by primary key costs microseconds, far less than the hand-off.
    probe: Mutex<Connection>,
    reader_slots: tokio::sync::Semaphore,
    stop_checkpointer: Arc<AtomicBool>,
    /// The compression dictionaries read so far, shared by the writer and the readers.
    dictionaries: Arc<Dictionaries>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop_checkpointer.store(true, Ordering::Relaxed);
    }
}

/// Checkpoints the WAL from a thread of its own, so that writers never pay for it.
fn spawn_checkpointer(path: PathBuf, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let Ok(conn) = connect(&path, READER_CACHE_KIB) else {
                return;
            };
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(CHECKPOINT_EVERY);
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        })
        .ok();
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir`, bringing its schema up to date.
    pub fn open(data_dir: &Path) -> StoreResult<Self> {
        let path = data_dir.join(DATABASE_FILE);
        let writer = connect(&path, WRITER_CACHE_KIB)?;
        migrate::up(&writer)?;
        writer
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(db)?;
        let probe = connect(&path, 64)?;
        let stop_checkpointer = Arc::new(AtomicBool::new(false));
        spawn_checkpointer(path.clone(), stop_checkpointer.clone());
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer: writer::Writer::start(writer)?,
                readers: Mutex::new(Vec::new()),
                probe: Mutex::new(probe),
                reader_slots: tokio::sync::Semaphore::new(MAX_READERS),
                stop_checkpointer,
                dictionaries: Arc::default(),
            }),
        })
    }

    /// The schema version this build writes.
    pub fn schema_version() -> i64 {
        migrate::LATEST
    }

    /// The dictionary cache, for a closure handed to [`Self::read`] or [`Self::write`].
    fn dicts(&self) -> Arc<Dictionaries> {
        self.inner.dictionaries.clone()
    }

    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        self.inner.writer.write(f).await
    }

    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let _slot = self
            .inner
            .reader_slots
            .acquire()
            .await
            .map_err(|_| StoreError::Backend("the store is closing".into()))?;
        let inner = self.inner.clone();
        blocking(move || {
            let idle = inner
                .readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop();
            let conn = match idle {
                Some(conn) => conn,
                None => connect(&inner.path, READER_CACHE_KIB)?,
            };
            let result = f(&conn);
            let mut readers = inner.readers.lock().unwrap_or_else(|e| e.into_inner());
            if readers.len() < MAX_READERS {
                readers.push(conn);
            }
            result
        })
        .await
    }
}

async fn blocking<T, F>(f: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> StoreResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Backend(format!("storage task failed: {e}")))?
}

fn connect(path: &Path, cache_kib: i64) -> StoreResult<Connection> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(db)?;
    // Takes effect only when the database is created; larger pages mean shallower trees.
    conn.pragma_update(None, "page_size", 8192).map_err(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
    // Negative values are KiB.
    conn.pragma_update(None, "cache_size", -cache_kib)
        .map_err(db)?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(db)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Maps a SQLite error to a store error.
pub(crate) fn db(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::DatabaseBusy
                || f.code == rusqlite::ErrorCode::DatabaseLocked =>
        {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

/// Maps an insert's error: a unique-key violation means `what` exists already.
pub(crate) fn conflict_or_db(e: rusqlite::Error, what: impl FnOnce() -> String) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(what())
    } else {
        db(e)
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

#[async_trait]
impl ObjectStore for SqliteStore {
    async fn create_api_root(&self, root: ApiRoot) -> StoreResult<()> {
        self.write(move |c| admin::create_api_root(c, &root)).await
    }
    async fn api_roots(&self) -> StoreResult<Vec<ApiRoot>> {
        self.read(|c| admin::api_roots(c, None)).await
    }
    async fn api_root(&self, name: &str) -> StoreResult<Option<ApiRoot>> {
        let name = name.to_owned();
        self.read(move |c| Ok(admin::api_roots(c, Some(&name))?.pop()))
            .await
    }
    async fn create_collection(&self, collection: Collection) -> StoreResult<()> {
        self.write(move |c| admin::create_collection(c, &collection))
            .await
    }
    async fn collections(&self, api_root: &str) -> StoreResult<Vec<Collection>> {
        let api_root = api_root.to_owned();
        self.read(move |c| admin::collections(c, &api_root, None))
            .await
    }
    async fn collection(&self, api_root: &str, id: &str) -> StoreResult<Option<Collection>> {
        let (api_root, id) = (api_root.to_owned(), id.to_owned());
        self.read(move |c| Ok(admin::collections(c, &api_root, Some(&id))?.pop()))
            .await
    }
    async fn collection_federated(&self, collection: &CollectionRef) -> StoreResult<bool> {
        let collection = collection.clone();
        self.read(move |c| admin::collection_federated(c, &collection))
            .await
    }
    async fn set_collection_federated(
        &self,
        collection: &CollectionRef,
        on: bool,
    ) -> StoreResult<()> {
        let collection = collection.clone();
        self.write(move |c| admin::set_collection_federated(c, &collection, on))
            .await
    }
    async fn add_objects(
        &self,
        collection: &CollectionRef,
        objects: Vec<NewObject>,
    ) -> StoreResult<Vec<AddOutcome>> {
        let (collection, dicts) = (collection.clone(), self.dicts());
        self.write(move |c| objects::add(c, &dicts, &collection, &objects))
            .await
    }
    async fn objects(
        &self,
        collection: &CollectionRef,
        filter: &ObjectFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<StoredObject>> {
        let (collection, filter, page) = (collection.clone(), filter.clone(), *page);
        let dicts = self.dicts();
        self.read(move |c| objects::query(c, &dicts, &collection, &filter, &page))
            .await
    }
    async fn delete_object(
        &self,
        collection: &CollectionRef,
        id: &str,
        filter: &ObjectFilter,
    ) -> StoreResult<u64> {
        let (collection, id, filter) = (collection.clone(), id.to_owned(), filter.clone());
        self.write(move |c| objects::delete(c, &collection, &id, &filter))
            .await
    }
    async fn marking_definitions(&self) -> StoreResult<Vec<String>> {
        let dicts = self.dicts();
        self.read(move |c| objects::marking_definitions(c, &dicts))
            .await
    }
    async fn count_objects(&self, collection: &CollectionRef) -> StoreResult<u64> {
        let collection = collection.clone();
        self.read(move |c| objects::count(c, &collection)).await
    }
    async fn put_status(&self, status: &Status) -> StoreResult<()> {
        let status = status.clone();
        self.write(move |c| admin::put_status(c, &status)).await
    }
    async fn status(&self, api_root: &str, id: &str) -> StoreResult<Option<Status>> {
        let (api_root, id) = (api_root.to_owned(), id.to_owned());
        self.read(move |c| admin::status(c, &api_root, &id)).await
    }
}

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn create_user(&self, user: User) -> StoreResult<()> {
        self.write(move |c| admin::create_user(c, &user)).await
    }
    async fn user(&self, name: &str) -> StoreResult<Option<User>> {
        let name = name.to_owned();
        self.read(move |c| Ok(admin::users(c, Some(&name))?.pop()))
            .await
    }
    async fn users(&self) -> StoreResult<Vec<User>> {
        self.read(|c| admin::users(c, None)).await
    }
    async fn set_password_hash(&self, name: &str, password_hash: &str) -> StoreResult<()> {
        let (name, hash) = (name.to_owned(), password_hash.to_owned());
        self.write(move |c| admin::set_password_hash(c, &name, &hash))
            .await
    }
    async fn set_role(&self, name: &str, role: Role) -> StoreResult<()> {
        let name = name.to_owned();
        self.write(move |c| admin::set_role(c, &name, role)).await
    }
    async fn grant(
        &self,
        collection: &CollectionRef,
        user: &str,
        access: Access,
    ) -> StoreResult<()> {
        let (collection, user) = (collection.clone(), user.to_owned());
        self.write(move |c| admin::grant(c, &collection, &user, access))
            .await
    }
    async fn access(&self, collection: &CollectionRef, user: &str) -> StoreResult<Access> {
        let (collection, user) = (collection.clone(), user.to_owned());
        self.read(move |c| admin::access(c, &collection, &user))
            .await
    }
    async fn create_token(&self, token: &ApiToken) -> StoreResult<()> {
        let token = token.clone();
        self.write(move |c| identity::create_token(c, &token)).await
    }
    async fn token(&self, id: &str) -> StoreResult<Option<ApiToken>> {
        let id = id.to_owned();
        self.read(move |c| identity::token(c, &id)).await
    }
    async fn tokens(&self) -> StoreResult<Vec<ApiToken>> {
        self.read(identity::tokens).await
    }
    async fn revoke_token(&self, id: &str, at: i64) -> StoreResult<bool> {
        let id = id.to_owned();
        self.write(move |c| identity::revoke_token(c, &id, at))
            .await
    }
    async fn node_secret(&self, name: &str, init: [u8; 32]) -> StoreResult<[u8; 32]> {
        let name = name.to_owned();
        self.write(move |c| admin::node_secret(c, &name, init))
            .await
    }
    async fn meta_version(&self) -> StoreResult<i64> {
        let probe = self.inner.probe.lock().unwrap_or_else(|e| e.into_inner());
        probe
            .prepare_cached("SELECT version FROM meta_version")
            .and_then(|mut q| q.query_row([], |r| r.get(0)))
            .map_err(db)
    }
    async fn first_use(&self, id: &str, expires_at: i64, now: i64) -> StoreResult<bool> {
        let id = id.to_owned();
        self.write(move |c| admin::first_use(c, &id, expires_at, now))
            .await
    }
}

#[async_trait]
impl RegistryStore for SqliteStore {
    async fn add_registry_entry(&self, entry: &RegistryEntry) -> StoreResult<()> {
        let entry = entry.clone();
        self.write(move |c| identity::add_registry_entry(c, &entry))
            .await
    }
    async fn update_registry_entry(&self, entry: &RegistryEntry) -> StoreResult<()> {
        let entry = entry.clone();
        self.write(move |c| identity::update_registry_entry(c, &entry))
            .await
    }
    async fn replace_registry_entry(
        &self,
        entry: &RegistryEntry,
        expected: &RegistryEntry,
    ) -> StoreResult<bool> {
        let (entry, expected) = (entry.clone(), expected.clone());
        self.write(move |c| identity::replace_registry_entry(c, &entry, &expected))
            .await
    }
    async fn registry_entry(
        &self,
        kind: RegistryKind,
        id: &str,
    ) -> StoreResult<Option<RegistryEntry>> {
        let id = id.to_owned();
        self.read(move |c| identity::registry_entry(c, kind, &id))
            .await
    }
    async fn registry(&self, kind: RegistryKind) -> StoreResult<Vec<RegistryEntry>> {
        self.read(move |c| identity::registry(c, kind)).await
    }
    async fn remove_member(&self, id: &str) -> StoreResult<u64> {
        let id = id.to_owned();
        self.write(move |c| federation::remove_member(c, &id)).await
    }
}

#[async_trait]
impl FederationStore for SqliteStore {
    async fn outbox_push(&self, peer: &str, items: Vec<OutboxItem>) -> StoreResult<Vec<u64>> {
        let peer = peer.to_owned();
        self.write(move |c| federation::push(c, &peer, &items))
            .await
    }
    async fn outbox_due(
        &self,
        peer: &str,
        now: i64,
        limit: usize,
    ) -> StoreResult<Vec<OutboxEntry>> {
        let peer = peer.to_owned();
        self.read(move |c| federation::due(c, &peer, now, limit))
            .await
    }
    async fn outbox_after(
        &self,
        peer: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreResult<Vec<OutboxEntry>> {
        let peer = peer.to_owned();
        self.read(move |c| federation::after(c, &peer, after_seq, limit))
            .await
    }
    async fn outbox_delivered(
        &self,
        peer: &str,
        seq: u64,
        at: i64,
        receipt: &str,
    ) -> StoreResult<bool> {
        let (peer, receipt) = (peer.to_owned(), receipt.to_owned());
        self.write(move |c| federation::delivered(c, &peer, seq, at, &receipt))
            .await
    }
    async fn outbox_failed(
        &self,
        peer: &str,
        seq: u64,
        error: &str,
        next_attempt_at: i64,
    ) -> StoreResult<()> {
        let (peer, error) = (peer.to_owned(), error.to_owned());
        self.write(move |c| federation::failed(c, &peer, seq, &error, next_attempt_at))
            .await
    }
    async fn outbox_peers(&self) -> StoreResult<Vec<String>> {
        self.read(federation::peers).await
    }
    async fn outbox_stats(&self) -> StoreResult<Vec<OutboxStats>> {
        self.read(federation::stats).await
    }
    async fn inbox_record(&self, sender: &str, id: &str) -> StoreResult<Option<InboxRecord>> {
        let (sender, id) = (sender.to_owned(), id.to_owned());
        self.read(move |c| federation::record(c, &sender, &id))
            .await
    }
    async fn inbox_last_seq(&self, sender: &str) -> StoreResult<u64> {
        let sender = sender.to_owned();
        self.read(move |c| federation::last_seq(c, &sender)).await
    }
    async fn inbox_senders(&self) -> StoreResult<Vec<String>> {
        self.read(federation::senders).await
    }
    async fn inbox_after(
        &self,
        sender: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreResult<Vec<InboxRecord>> {
        let sender = sender.to_owned();
        self.read(move |c| federation::records_after(c, &sender, after_seq, limit))
            .await
    }
    async fn inbox_put(&self, record: &InboxRecord) -> StoreResult<bool> {
        let record = record.clone();
        self.write(move |c| federation::put(c, &record)).await
    }
    async fn inbox_apply(
        &self,
        record: &InboxRecord,
        collection: &CollectionRef,
        objects: Vec<NewObject>,
        log_entries: Vec<OpenableEntry>,
    ) -> StoreResult<Option<Vec<AddOutcome>>> {
        let (record, collection) = (record.clone(), collection.clone());
        let dicts = self.dicts();
        self.write(move |c| {
            federation::apply(c, &dicts, &record, &collection, &objects, log_entries)
        })
        .await
    }
}

#[async_trait]
impl RequestStore for SqliteStore {
    async fn save_request_draft(&self, header: &RequestRecord) -> StoreResult<()> {
        let header = header.clone();
        self.write(move |c| requests::save_draft(c, &header)).await
    }
    async fn append_request_event(&self, append: &RequestAppend) -> StoreResult<bool> {
        let append = append.clone();
        self.write(move |c| requests::append(c, &append)).await
    }
    async fn request(&self, id: &str) -> StoreResult<Option<RequestRecord>> {
        let id = id.to_owned();
        self.read(move |c| requests::request(c, &id)).await
    }
    async fn request_events(&self, id: &str) -> StoreResult<Vec<RequestEvent>> {
        let id = id.to_owned();
        self.read(move |c| requests::events(c, &id)).await
    }
    async fn requests(&self, filter: &RequestFilter) -> StoreResult<Vec<RequestRecord>> {
        let filter = filter.clone();
        self.read(move |c| requests::list(c, &filter)).await
    }
    async fn attachment_transfers(
        &self,
        request: Option<&str>,
    ) -> StoreResult<Vec<AttachmentTransfer>> {
        let request = request.map(str::to_owned);
        self.read(move |c| requests::transfers(c, request.as_deref()))
            .await
    }
    async fn end_attachment_transfer(&self, transfer: &AttachmentTransfer) -> StoreResult<()> {
        let transfer = transfer.clone();
        self.write(move |c| requests::end_transfer(c, &transfer))
            .await
    }
}

#[async_trait]
impl ValueIndexStore for SqliteStore {
    async fn postings(&self, lookup: &ValueLookup) -> StoreResult<Vec<Posting>> {
        let (lookup, dicts) = (lookup.clone(), self.dicts());
        self.read(move |c| values::lookup(c, &dicts, &lookup)).await
    }
    async fn postings_of_values(&self, kind: &str, values: &[String]) -> StoreResult<Vec<Posting>> {
        let (kind, values, dicts) = (kind.to_owned(), values.to_vec(), self.dicts());
        self.read(move |c| values::of_values(c, &dicts, &kind, &values))
            .await
    }
    async fn object_postings(
        &self,
        collection: &CollectionRef,
        id: &str,
    ) -> StoreResult<Vec<Posting>> {
        let (collection, id, dicts) = (collection.clone(), id.to_owned(), self.dicts());
        self.read(move |c| values::of_object(c, &dicts, &collection, &id))
            .await
    }
    async fn versions_after(&self, after: i64, limit: usize) -> StoreResult<Vec<StoredObject>> {
        let dicts = self.dicts();
        self.read(move |c| values::versions_after(c, &dicts, after, limit))
            .await
    }
    async fn reindex_versions(&self, versions: Vec<(i64, Vec<IndexedValue>)>) -> StoreResult<()> {
        self.write(move |c| in_transaction(c, |tx| values::reindex(tx, &versions)))
            .await
    }
    async fn posting_count(&self) -> StoreResult<u64> {
        self.read(values::count).await
    }
}

#[async_trait]
impl FeedStore for SqliteStore {
    async fn add_feed(&self, record: &FeedRecord, state: &FeedState) -> StoreResult<()> {
        let (record, state) = (record.clone(), state.clone());
        self.write(move |c| feeds::add(c, &record, &state)).await
    }
    async fn feed(&self, name: &str) -> StoreResult<Option<Feed>> {
        let name = name.to_owned();
        self.read(move |c| feeds::feed(c, &name)).await
    }
    async fn feeds(&self) -> StoreResult<Vec<Feed>> {
        self.read(feeds::list).await
    }
    async fn remove_feed(&self, name: &str) -> StoreResult<()> {
        let name = name.to_owned();
        self.write(move |c| feeds::remove(c, &name)).await
    }
    async fn save_feed_state(&self, name: &str, state: &FeedState) -> StoreResult<()> {
        let (name, state) = (name.to_owned(), state.clone());
        self.write(move |c| feeds::save_state(c, &name, &state))
            .await
    }
    async fn feed_values(&self, name: &str) -> StoreResult<Vec<FeedValue>> {
        let name = name.to_owned();
        self.read(move |c| feeds::values(c, &name)).await
    }
    async fn replace_feed_values(
        &self,
        name: &str,
        values: &[FeedValue],
        state: &FeedState,
    ) -> StoreResult<()> {
        let (name, values, state) = (name.to_owned(), values.to_vec(), state.clone());
        self.write(move |c| feeds::replace_values(c, &name, &values, &state))
            .await
    }
}

#[async_trait]
impl GovernanceStore for SqliteStore {
    async fn table_proposal(
        &self,
        proposal: &ProposalRecord,
        act: &GovernanceAct,
    ) -> StoreResult<bool> {
        let (proposal, act) = (proposal.clone(), act.clone());
        self.write(move |c| governance::table(c, &proposal, &act))
            .await
    }
    async fn add_ballot(&self, ballot: &BallotRecord, act: &GovernanceAct) -> StoreResult<bool> {
        let (ballot, act) = (ballot.clone(), act.clone());
        self.write(move |c| governance::add_ballot(c, &ballot, &act))
            .await
    }
    async fn cancel_proposal(
        &self,
        cancellation: &CancellationRecord,
        act: &GovernanceAct,
    ) -> StoreResult<bool> {
        let (cancellation, act) = (cancellation.clone(), act.clone());
        self.write(move |c| governance::cancel(c, &cancellation, &act))
            .await
    }
    async fn record_outcome(
        &self,
        outcome: &OutcomeRecord,
        effect: Option<&Effect>,
        act: &GovernanceAct,
    ) -> StoreResult<bool> {
        let (outcome, effect, act) = (outcome.clone(), effect.cloned(), act.clone());
        self.write(move |c| governance::record_outcome(c, &outcome, effect.as_ref(), &act))
            .await
    }
    async fn record_decided(
        &self,
        decided: &Decided,
        effect: Option<&Effect>,
        act: &GovernanceAct,
    ) -> StoreResult<bool> {
        let (decided, effect, act) = (decided.clone(), effect.cloned(), act.clone());
        self.write(move |c| governance::record_decided(c, &decided, effect.as_ref(), &act))
            .await
    }
    async fn found(&self, founding: &[Effect], act: &GovernanceAct) -> StoreResult<()> {
        let (founding, act) = (founding.to_vec(), act.clone());
        self.write(move |c| governance::found(c, &founding, &act))
            .await
    }
    async fn proposal(&self, id: &str) -> StoreResult<Option<ProposalRecord>> {
        let id = id.to_owned();
        self.read(move |c| governance::proposal(c, &id)).await
    }
    async fn proposals(&self, limit: usize) -> StoreResult<Vec<ProposalRecord>> {
        self.read(move |c| governance::proposals(c, limit)).await
    }
    async fn proposals_due(&self, at: i64) -> StoreResult<Vec<ProposalRecord>> {
        self.read(move |c| governance::proposals_due(c, at)).await
    }
    async fn decided(
        &self,
        after: Option<(i64, &str)>,
        limit: usize,
    ) -> StoreResult<Vec<ProposalRecord>> {
        let after = after.map(|(deadline, id)| (deadline, id.to_owned()));
        self.read(move |c| governance::decided(c, after, limit))
            .await
    }
    async fn ballots(&self, id: &str) -> StoreResult<Vec<BallotRecord>> {
        let id = id.to_owned();
        self.read(move |c| governance::ballots(c, &id)).await
    }
    async fn outcome(&self, id: &str) -> StoreResult<Option<OutcomeRecord>> {
        let id = id.to_owned();
        self.read(move |c| governance::outcome(c, &id)).await
    }
    async fn cancellation(&self, id: &str) -> StoreResult<Option<CancellationRecord>> {
        let id = id.to_owned();
        self.read(move |c| governance::cancellation(c, &id)).await
    }
    async fn rules_in_force(&self) -> StoreResult<Option<RulesVersion>> {
        self.read(governance::rules_in_force).await
    }
    async fn rules_versions(&self) -> StoreResult<Vec<RulesVersion>> {
        self.read(governance::rules_versions).await
    }
    async fn norms(&self) -> StoreResult<Vec<NormVersion>> {
        self.read(governance::norms).await
    }
}

impl Store for SqliteStore {
    fn transparency_log(&self) -> &dyn TransparencyLog {
        self
    }
}

/// Runs `f` in one `IMMEDIATE` transaction and commits it.
fn in_transaction<T>(
    c: &mut Connection,
    f: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    if !c.is_autocommit() {
        // Inside the writer's group transaction: a savepoint makes this all or nothing.
        let sp = c.savepoint().map_err(db)?;
        let out = f(&sp)?;
        sp.commit().map_err(db)?;
        return Ok(out);
    }
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    let out = f(&tx)?;
    tx.commit().map_err(db)?;
    Ok(out)
}

#[async_trait]
impl TransparencyLog for SqliteStore {
    async fn add_objects_logged(
        &self,
        collection: &CollectionRef,
        objects: Vec<NewObject>,
        entries: Vec<OpenableEntry>,
    ) -> StoreResult<Vec<AddOutcome>> {
        let (collection, dicts) = (collection.clone(), self.dicts());
        self.write(move |c| {
            in_transaction(c, |tx| {
                log::add_objects_in(tx, &dicts, &collection, &objects, entries)
            })
        })
        .await
    }
    async fn append_entries(&self, entries: Vec<Vec<u8>>) -> StoreResult<u64> {
        self.write(move |c| in_transaction(c, |tx| log::append_in(tx, &entries)))
            .await
    }
    async fn append_openable(&self, entries: Vec<OpenableEntry>) -> StoreResult<u64> {
        self.write(move |c| in_transaction(c, |tx| log::append_openable_in(tx, "", &entries)))
            .await
    }
    async fn openings(&self, scope: &str, subject: &str) -> StoreResult<Vec<KeptOpening>> {
        let (scope, subject) = (scope.to_owned(), subject.to_owned());
        self.read(move |c| log::openings(c, &scope, &subject)).await
    }
    async fn openings_between(&self, start: u64, end: u64) -> StoreResult<Vec<ScopedOpening>> {
        self.read(move |c| log::openings_between(c, start, end))
            .await
    }
    async fn keep_openings(&self, openings: Vec<ScopedOpening>) -> StoreResult<()> {
        self.write(move |c| in_transaction(c, |tx| log::keep_openings_in(tx, &openings)))
            .await
    }
    async fn log_size(&self) -> StoreResult<u64> {
        self.read(log::size).await
    }
    async fn log_entries(&self, start: u64, end: u64) -> StoreResult<Vec<Vec<u8>>> {
        self.read(move |c| {
            let tx = c.unchecked_transaction().map_err(db)?;
            log::entries(&tx, start, end)
        })
        .await
    }
    async fn log_hashes(&self, indexes: Vec<u64>) -> StoreResult<Vec<Hash>> {
        self.read(move |c| log::hashes(c, &indexes)).await
    }
    async fn put_checkpoint(&self, checkpoint: StoredCheckpoint) -> StoreResult<()> {
        self.write(move |c| log::put_checkpoint(c, &checkpoint))
            .await
    }
    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>> {
        self.read(log::latest_checkpoint).await
    }
    async fn witnessed(&self, origin: &str) -> StoreResult<Option<WitnessedCheckpoint>> {
        let origin = origin.to_owned();
        self.read(move |c| log::witnessed(c, &origin)).await
    }
    async fn witness_swap(
        &self,
        origin: &str,
        expected: Option<TreeHead>,
        new: WitnessedCheckpoint,
    ) -> StoreResult<bool> {
        let origin = origin.to_owned();
        self.write(move |c| log::witness_swap(c, &origin, expected, &new))
            .await
    }
    async fn trust_log(&self, log: TrustedLog) -> StoreResult<()> {
        self.write(move |c| log::trust(c, &log)).await
    }
    async fn trusted_logs(&self) -> StoreResult<Vec<TrustedLog>> {
        self.read(log::trusted).await
    }
    async fn put_cosignature(&self, cosignature: CollectedCosignature) -> StoreResult<()> {
        self.write(move |c| log::put_cosignature(c, &cosignature))
            .await
    }
    async fn cosignatures(&self, size: Option<u64>) -> StoreResult<Vec<CollectedCosignature>> {
        self.read(move |c| log::cosignatures(c, size)).await
    }
    async fn latest_cosignature(&self, witness: &str) -> StoreResult<Option<CollectedCosignature>> {
        let witness = witness.to_owned();
        self.read(move |c| log::latest_cosignature(c, &witness))
            .await
    }
    async fn put_witness_alert(&self, alert: WitnessAlert) -> StoreResult<Option<u64>> {
        self.write(move |c| log::put_witness_alert(c, &alert)).await
    }
    async fn witness_alerts(&self) -> StoreResult<Vec<WitnessAlert>> {
        self.read(log::witness_alerts).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store conformance suite, one test per check, each on a database of its own.
    mod conformance {
        use super::*;

        comity_store::conformance_tests!(|| async {
            let dir = tempfile::tempdir().unwrap();
            (SqliteStore::open(dir.path()).unwrap(), dir)
        });
    }

    /// Two stores on one file are two processes as far as the seqs can tell: each has a
    /// writer of its own, and only SQLite's write lock orders them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_processes_pushing_to_one_peer_share_one_gapless_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let a = SqliteStore::open(dir.path()).unwrap();
        let b = SqliteStore::open(dir.path()).unwrap();
        comity_store::conformance::outbox_pushes_race_without_gaps(&a, &b).await;
    }

    /// Two processes appending different events at the same place of one request at once:
    /// SQLite's write lock orders them, and the later one finds the place taken.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_processes_appending_one_request_place_at_once_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let a = SqliteStore::open(dir.path()).unwrap();
        let b = SqliteStore::open(dir.path()).unwrap();
        comity_store::conformance::request_appends_race_one_winner(&a, &b).await;
    }

    /// Text that no enum of the store names, written behind the store's back, is read as a
    /// corrupt row: the read fails, nothing is guessed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unknown_stored_texts_fail_closed() {
        use comity_store::{OutboxKind, RegistryStatus, WitnessAlertKind};
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let member = RegistryEntry {
            kind: RegistryKind::Member,
            id: "identity--m".into(),
            status: RegistryStatus::Active,
            document: "{}".into(),
            updated_at: 1,
        };
        store.add_registry_entry(&member).await.unwrap();
        let item = OutboxItem {
            id: "e1".into(),
            kind: OutboxKind::Sighting,
            created_at: 1,
            body: "{}".into(),
        };
        store.outbox_push("identity--m", vec![item]).await.unwrap();
        let alert = WitnessAlert {
            id: 0,
            at: 1,
            peer: "identity--m".into(),
            kind: WitnessAlertKind::PeerAhead,
            detail: "d".into(),
            ours: String::new(),
            theirs: String::new(),
            proof: String::new(),
            digest: "x".into(),
        };
        store.put_witness_alert(alert).await.unwrap();
        let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.execute_batch(
            "UPDATE registry SET status = 'Active';
             UPDATE outbox SET kind = 'sightings';
             UPDATE witness_alerts SET kind = 'bad-proof';",
        )
        .unwrap();
        let corrupt = |r: StoreResult<_>| matches!(r, Err(StoreError::Backend(_)));
        assert!(corrupt(
            store.registry(RegistryKind::Member).await.map(|_| ())
        ));
        assert!(corrupt(
            store.outbox_after("identity--m", 0, 10).await.map(|_| ())
        ));
        assert!(corrupt(store.witness_alerts().await.map(|_| ())));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reopening_keeps_data_and_refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        comity_store::conformance::seed_small(&store).await;
        drop(store);
        let again = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(again.api_roots().await.unwrap().len(), 1);
        drop(again);
        let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.pragma_update(None, "user_version", migrate::LATEST + 1)
            .unwrap();
        drop(conn);
        match SqliteStore::open(dir.path()) {
            Err(StoreError::SchemaTooNew { found, supported }) => {
                assert_eq!((found, supported), (migrate::LATEST + 1, migrate::LATEST));
            }
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("a newer schema must be refused"),
        }
    }
}
