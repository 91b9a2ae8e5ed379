//! The PostgreSQL backend of the Comity store, for nodes that outgrow one file: a managed
//! or highly available cluster, with several `comity serve` processes in front of one
//! database.
//!
//! It owns the schema in one database (its own migrations, tracked in `comity_schema`),
//! a connection pool, and the one mapping from database errors to [`StoreError`]: an
//! unreachable or refusing database is [`StoreError::Unavailable`], never a panic. Every
//! process sharing the database behaves as one node: `date_added` comes from a counter
//! row locked inside each write transaction, so it is strictly increasing across
//! processes and keyset pagination on `(date_added, seq)` never skips a row; each peer's
//! outbox seqs come from a counter row locked the same way; pagination secrets live in
//! the database. It never logs or returns a password: URLs in messages go through
//! [`redact_url`].

mod admin;
mod error;
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

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use comity_store::packing::Dictionaries;
use comity_store::prelude::*;
use comity_store::{
    Access, AddOutcome, ApiRoot, ApiToken, AttachmentTransfer, BallotRecord, CancellationRecord,
    CollectedCosignature, Collection, CollectionRef, Cursor, Decided, Effect, Feed, FeedRecord,
    FeedState, FeedValue, GovernanceAct, GovernanceRecords, InboxRecord, IndexedValue, KeptOpening,
    NewObject, NormVersion, ObjectFilter, OpenableEntry, OutboxEntry, OutboxItem, OutboxStats,
    OutcomeRecord, Page, PageRequest, Posting, ProposalRecord, RegistryEntry, RegistryKind,
    RequestAppend, RequestEvent, RequestFilter, RequestRecord, Role, RulesVersion, ScopedOpening,
    Status, StoreError, StoreResult, StoredCheckpoint, StoredObject, TrustedLog, User, ValueLookup,
    WitnessAlert,
};
use comity_tlog::witness::{TreeHead, WitnessedCheckpoint};
use comity_tlog::Hash;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

pub use error::redact_url;

/// Connections each process keeps at most.
const MAX_CONNECTIONS: u32 = 16;

/// How long a request waits for a connection before the store reports itself unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`Store`] on one PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The compression dictionaries read so far.
    dictionaries: Arc<Dictionaries>,
}

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl PgStore {
    /// Connects to the database at `url` without touching its schema. The error names the
    /// URL with its password redacted.
    pub async fn connect_only(url: &str) -> StoreResult<Self> {
        let shown = redact_url(url);
        let options: PgConnectOptions = url.parse().map_err(|_| {
            StoreError::Unavailable(format!("{shown} is not a valid PostgreSQL URL"))
        })?;
        let unreachable = |e: sqlx::Error| match error::db(e) {
            StoreError::Unavailable(why) | StoreError::Backend(why) => {
                StoreError::Unavailable(format!("cannot connect to {shown}: {why}"))
            }
            other => other,
        };
        // One direct connection first: it reports the real cause (refused, no such host,
        // login refused) where a pool would only report a timeout.
        options
            .connect()
            .await
            .map_err(unreachable)?
            .close()
            .await
            .ok();
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(unreachable)?;
        Ok(PgStore {
            pool,
            dictionaries: Arc::default(),
        })
    }

    /// Connects to the database at `url` and brings its schema up to date; refuses a
    /// schema newer than this build ([`StoreError::SchemaTooNew`]).
    pub async fn open(url: &str) -> StoreResult<Self> {
        let store = Self::connect_only(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Brings the schema up to date; idempotent. Returns the versions before and after.
    pub async fn migrate(&self) -> StoreResult<(i64, i64)> {
        migrate::up(&self.pool).await
    }

    /// The schema version of the database (0 when it holds no Comity schema yet).
    pub async fn schema_in_database(&self) -> StoreResult<i64> {
        migrate::current(&self.pool).await
    }

    /// The schema version this build writes.
    pub fn schema_version() -> i64 {
        migrate::LATEST
    }

    /// Where an earlier `comity copy` into this collection stopped, as a position in the
    /// source (none when no copy has started).
    pub async fn copy_position(&self, collection: &CollectionRef) -> StoreResult<Option<Cursor>> {
        objects::copy_position(&self.pool, collection).await
    }

    /// Stores versions copied from another store with their original `date_added`
    /// (versions stored already are skipped), and records `reached`, the source position
    /// after them, in the same transaction, so an interrupted copy resumes there.
    pub async fn restore_versions(
        &self,
        collection: &CollectionRef,
        versions: &[(NewObject, i64)],
        reached: Cursor,
    ) -> StoreResult<()> {
        objects::restore(
            &self.pool,
            &self.dictionaries,
            collection,
            versions,
            reached,
        )
        .await
    }

    /// Stores outbox entries of `peer` copied from another store, as they are, and keeps
    /// the peer's sequence counter at or above `last_seq` (see [`federation::restore`]).
    pub async fn restore_outbox(
        &self,
        peer: &str,
        last_seq: u64,
        entries: &[OutboxEntry],
    ) -> StoreResult<()> {
        federation::restore(&self.pool, peer, last_seq, entries).await
    }

    /// Stores a cooperation request copied from another store, header and events as they
    /// are; one stored already is left alone.
    pub async fn restore_request(
        &self,
        header: &RequestRecord,
        events: &[RequestEvent],
    ) -> StoreResult<()> {
        requests::restore(&self.pool, header, events).await
    }

    /// Stores governance records copied from another store as they are; those stored
    /// already are left alone.
    pub async fn restore_governance(&self, records: &GovernanceRecords) -> StoreResult<()> {
        governance::restore(&self.pool, records).await
    }

    /// Closes every connection of this process.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl ObjectStore for PgStore {
    async fn create_api_root(&self, root: ApiRoot) -> StoreResult<()> {
        admin::create_api_root(&self.pool, &root).await
    }
    async fn api_roots(&self) -> StoreResult<Vec<ApiRoot>> {
        admin::api_roots(&self.pool, None).await
    }
    async fn api_root(&self, name: &str) -> StoreResult<Option<ApiRoot>> {
        Ok(admin::api_roots(&self.pool, Some(name)).await?.pop())
    }
    async fn create_collection(&self, collection: Collection) -> StoreResult<()> {
        admin::create_collection(&self.pool, &collection).await
    }
    async fn collections(&self, api_root: &str) -> StoreResult<Vec<Collection>> {
        admin::collections(&self.pool, api_root, None).await
    }
    async fn collection(&self, api_root: &str, id: &str) -> StoreResult<Option<Collection>> {
        Ok(admin::collections(&self.pool, api_root, Some(id))
            .await?
            .pop())
    }
    async fn collection_federated(&self, collection: &CollectionRef) -> StoreResult<bool> {
        admin::collection_federated(&self.pool, collection).await
    }
    async fn set_collection_federated(
        &self,
        collection: &CollectionRef,
        on: bool,
    ) -> StoreResult<()> {
        admin::set_collection_federated(&self.pool, collection, on).await
    }
    async fn add_objects(
        &self,
        collection: &CollectionRef,
        objects: Vec<NewObject>,
    ) -> StoreResult<Vec<AddOutcome>> {
        objects::add(&self.pool, &self.dictionaries, collection, &objects).await
    }
    async fn objects(
        &self,
        collection: &CollectionRef,
        filter: &ObjectFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<StoredObject>> {
        objects::query(&self.pool, &self.dictionaries, collection, filter, page).await
    }
    async fn delete_object(
        &self,
        collection: &CollectionRef,
        id: &str,
        filter: &ObjectFilter,
    ) -> StoreResult<u64> {
        objects::delete(&self.pool, collection, id, filter).await
    }
    async fn marking_definitions(&self) -> StoreResult<Vec<String>> {
        objects::marking_definitions(&self.pool, &self.dictionaries).await
    }
    async fn count_objects(&self, collection: &CollectionRef) -> StoreResult<u64> {
        objects::count(&self.pool, collection).await
    }
    async fn put_status(&self, status: &Status) -> StoreResult<()> {
        admin::put_status(&self.pool, status).await
    }
    async fn status(&self, api_root: &str, id: &str) -> StoreResult<Option<Status>> {
        admin::status(&self.pool, api_root, id).await
    }
}

#[async_trait]
impl IdentityStore for PgStore {
    async fn create_user(&self, user: User) -> StoreResult<()> {
        admin::create_user(&self.pool, &user).await
    }
    async fn user(&self, name: &str) -> StoreResult<Option<User>> {
        Ok(admin::users(&self.pool, Some(name)).await?.pop())
    }
    async fn users(&self) -> StoreResult<Vec<User>> {
        admin::users(&self.pool, None).await
    }
    async fn set_password_hash(&self, name: &str, password_hash: &str) -> StoreResult<()> {
        admin::set_password_hash(&self.pool, name, password_hash).await
    }
    async fn set_role(&self, name: &str, role: Role) -> StoreResult<()> {
        admin::set_role(&self.pool, name, role).await
    }
    async fn grant(
        &self,
        collection: &CollectionRef,
        user: &str,
        access: Access,
    ) -> StoreResult<()> {
        admin::grant(&self.pool, collection, user, access).await
    }
    async fn access(&self, collection: &CollectionRef, user: &str) -> StoreResult<Access> {
        admin::access(&self.pool, collection, user).await
    }
    async fn create_token(&self, token: &ApiToken) -> StoreResult<()> {
        identity::create_token(&self.pool, token).await
    }
    async fn token(&self, id: &str) -> StoreResult<Option<ApiToken>> {
        identity::token(&self.pool, id).await
    }
    async fn tokens(&self) -> StoreResult<Vec<ApiToken>> {
        identity::tokens(&self.pool).await
    }
    async fn revoke_token(&self, id: &str, at: i64) -> StoreResult<bool> {
        identity::revoke_token(&self.pool, id, at).await
    }
    async fn node_secret(&self, name: &str, init: [u8; 32]) -> StoreResult<[u8; 32]> {
        admin::node_secret(&self.pool, name, init).await
    }
    async fn meta_version(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT version FROM meta_version")
            .fetch_one(&self.pool)
            .await
            .map_err(error::db)
    }
    async fn first_use(&self, id: &str, expires_at: i64, now: i64) -> StoreResult<bool> {
        admin::first_use(&self.pool, id, expires_at, now).await
    }
}

#[async_trait]
impl RegistryStore for PgStore {
    async fn add_registry_entry(&self, entry: &RegistryEntry) -> StoreResult<()> {
        identity::add_registry_entry(&self.pool, entry).await
    }
    async fn update_registry_entry(&self, entry: &RegistryEntry) -> StoreResult<()> {
        identity::update_registry_entry(&self.pool, entry).await
    }
    async fn replace_registry_entry(
        &self,
        entry: &RegistryEntry,
        expected: &RegistryEntry,
    ) -> StoreResult<bool> {
        identity::replace_registry_entry(&self.pool, entry, expected).await
    }
    async fn registry_entry(
        &self,
        kind: RegistryKind,
        id: &str,
    ) -> StoreResult<Option<RegistryEntry>> {
        identity::registry_entry(&self.pool, kind, id).await
    }
    async fn registry(&self, kind: RegistryKind) -> StoreResult<Vec<RegistryEntry>> {
        identity::registry(&self.pool, kind).await
    }
    async fn remove_member(&self, id: &str) -> StoreResult<u64> {
        federation::remove_member(&self.pool, id).await
    }
}

#[async_trait]
impl FederationStore for PgStore {
    async fn outbox_push(&self, peer: &str, items: Vec<OutboxItem>) -> StoreResult<Vec<u64>> {
        federation::push(&self.pool, peer, &items).await
    }
    async fn outbox_due(
        &self,
        peer: &str,
        now: i64,
        limit: usize,
    ) -> StoreResult<Vec<OutboxEntry>> {
        federation::due(&self.pool, peer, now, limit).await
    }
    async fn outbox_after(
        &self,
        peer: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreResult<Vec<OutboxEntry>> {
        federation::after(&self.pool, peer, after_seq, limit).await
    }
    async fn outbox_delivered(
        &self,
        peer: &str,
        seq: u64,
        at: i64,
        receipt: &str,
    ) -> StoreResult<bool> {
        federation::delivered(&self.pool, peer, seq, at, receipt).await
    }
    async fn outbox_failed(
        &self,
        peer: &str,
        seq: u64,
        error: &str,
        next_attempt_at: i64,
    ) -> StoreResult<()> {
        federation::failed(&self.pool, peer, seq, error, next_attempt_at).await
    }
    async fn outbox_peers(&self) -> StoreResult<Vec<String>> {
        federation::peers(&self.pool).await
    }
    async fn outbox_stats(&self) -> StoreResult<Vec<OutboxStats>> {
        federation::stats(&self.pool).await
    }
    async fn inbox_record(&self, sender: &str, id: &str) -> StoreResult<Option<InboxRecord>> {
        federation::record(&self.pool, sender, id).await
    }
    async fn inbox_last_seq(&self, sender: &str) -> StoreResult<u64> {
        federation::last_seq(&self.pool, sender).await
    }
    async fn inbox_senders(&self) -> StoreResult<Vec<String>> {
        federation::senders(&self.pool).await
    }
    async fn inbox_after(
        &self,
        sender: &str,
        after_seq: u64,
        limit: usize,
    ) -> StoreResult<Vec<InboxRecord>> {
        federation::records_after(&self.pool, sender, after_seq, limit).await
    }
    async fn inbox_put(&self, record: &InboxRecord) -> StoreResult<bool> {
        federation::put(&self.pool, record).await
    }
    async fn inbox_apply(
        &self,
        record: &InboxRecord,
        collection: &CollectionRef,
        objects: Vec<NewObject>,
        log_entries: Vec<OpenableEntry>,
    ) -> StoreResult<Option<Vec<AddOutcome>>> {
        federation::apply(
            &self.pool,
            &self.dictionaries,
            record,
            collection,
            &objects,
            log_entries,
        )
        .await
    }
}

#[async_trait]
impl RequestStore for PgStore {
    async fn save_request_draft(&self, header: &RequestRecord) -> StoreResult<()> {
        requests::save_draft(&self.pool, header).await
    }
    async fn append_request_event(&self, append: &RequestAppend) -> StoreResult<bool> {
        requests::append(&self.pool, append).await
    }
    async fn request(&self, id: &str) -> StoreResult<Option<RequestRecord>> {
        requests::request(&self.pool, id).await
    }
    async fn request_events(&self, id: &str) -> StoreResult<Vec<RequestEvent>> {
        requests::events(&self.pool, id).await
    }
    async fn requests(&self, filter: &RequestFilter) -> StoreResult<Vec<RequestRecord>> {
        requests::list(&self.pool, filter).await
    }
    async fn attachment_transfers(
        &self,
        request: Option<&str>,
    ) -> StoreResult<Vec<AttachmentTransfer>> {
        requests::transfers(&self.pool, request).await
    }
    async fn end_attachment_transfer(&self, transfer: &AttachmentTransfer) -> StoreResult<()> {
        requests::end_transfer(&self.pool, transfer).await
    }
}

#[async_trait]
impl ValueIndexStore for PgStore {
    async fn postings(&self, lookup: &ValueLookup) -> StoreResult<Vec<Posting>> {
        values::lookup(&self.pool, &self.dictionaries, lookup).await
    }
    async fn postings_of_values(&self, kind: &str, values: &[String]) -> StoreResult<Vec<Posting>> {
        values::of_values(&self.pool, &self.dictionaries, kind, values).await
    }
    async fn object_postings(
        &self,
        collection: &CollectionRef,
        id: &str,
    ) -> StoreResult<Vec<Posting>> {
        values::of_object(&self.pool, &self.dictionaries, collection, id).await
    }
    async fn versions_after(&self, after: i64, limit: usize) -> StoreResult<Vec<StoredObject>> {
        values::versions_after(&self.pool, &self.dictionaries, after, limit).await
    }
    async fn reindex_versions(&self, versions: Vec<(i64, Vec<IndexedValue>)>) -> StoreResult<()> {
        values::reindex(&self.pool, &versions).await
    }
    async fn posting_count(&self) -> StoreResult<u64> {
        values::count(&self.pool).await
    }
}

#[async_trait]
impl FeedStore for PgStore {
    async fn add_feed(&self, record: &FeedRecord, state: &FeedState) -> StoreResult<()> {
        feeds::add(&self.pool, record, state).await
    }
    async fn feed(&self, name: &str) -> StoreResult<Option<Feed>> {
        feeds::feed(&self.pool, name).await
    }
    async fn feeds(&self) -> StoreResult<Vec<Feed>> {
        feeds::list(&self.pool).await
    }
    async fn remove_feed(&self, name: &str) -> StoreResult<()> {
        feeds::remove(&self.pool, name).await
    }
    async fn save_feed_state(&self, name: &str, state: &FeedState) -> StoreResult<()> {
        let mut c = self.pool.acquire().await.map_err(crate::error::db)?;
        feeds::save_state(&mut c, name, state).await
    }
    async fn feed_values(&self, name: &str) -> StoreResult<Vec<FeedValue>> {
        feeds::values(&self.pool, name).await
    }
    async fn replace_feed_values(
        &self,
        name: &str,
        values: &[FeedValue],
        state: &FeedState,
    ) -> StoreResult<()> {
        feeds::replace_values(&self.pool, name, values, state).await
    }
}

#[async_trait]
impl GovernanceStore for PgStore {
    async fn table_proposal(
        &self,
        proposal: &ProposalRecord,
        act: &GovernanceAct,
    ) -> StoreResult<bool> {
        governance::table(&self.pool, proposal, act).await
    }
    async fn add_ballot(&self, ballot: &BallotRecord, act: &GovernanceAct) -> StoreResult<bool> {
        governance::add_ballot(&self.pool, ballot, act).await
    }
    async fn cancel_proposal(
        &self,
        cancellation: &CancellationRecord,
        act: &GovernanceAct,
    ) -> StoreResult<bool> {
        governance::cancel(&self.pool, cancellation, act).await
    }
    async fn record_outcome(
        &self,
        outcome: &OutcomeRecord,
        effect: Option<&Effect>,
        act: &GovernanceAct,
    ) -> StoreResult<bool> {
        governance::record_outcome(&self.pool, outcome, effect, act).await
    }
    async fn record_decided(
        &self,
        decided: &Decided,
        effect: Option<&Effect>,
        act: &GovernanceAct,
    ) -> StoreResult<bool> {
        governance::record_decided(&self.pool, decided, effect, act).await
    }
    async fn found(&self, founding: &[Effect], act: &GovernanceAct) -> StoreResult<()> {
        governance::found(&self.pool, founding, act).await
    }
    async fn proposal(&self, id: &str) -> StoreResult<Option<ProposalRecord>> {
        governance::proposal(&self.pool, id).await
    }
    async fn proposals(&self, limit: usize) -> StoreResult<Vec<ProposalRecord>> {
        governance::proposals(&self.pool, limit).await
    }
    async fn proposals_due(&self, at: i64) -> StoreResult<Vec<ProposalRecord>> {
        governance::proposals_due(&self.pool, at).await
    }
    async fn decided(
        &self,
        after: Option<(i64, &str)>,
        limit: usize,
    ) -> StoreResult<Vec<ProposalRecord>> {
        governance::decided(&self.pool, after, limit).await
    }
    async fn ballots(&self, id: &str) -> StoreResult<Vec<BallotRecord>> {
        governance::ballots(&self.pool, id).await
    }
    async fn outcome(&self, id: &str) -> StoreResult<Option<OutcomeRecord>> {
        governance::outcome(&self.pool, id).await
    }
    async fn cancellation(&self, id: &str) -> StoreResult<Option<CancellationRecord>> {
        governance::cancellation(&self.pool, id).await
    }
    async fn rules_in_force(&self) -> StoreResult<Option<RulesVersion>> {
        governance::rules_in_force(&self.pool).await
    }
    async fn rules_versions(&self) -> StoreResult<Vec<RulesVersion>> {
        governance::rules_versions(&self.pool).await
    }
    async fn norms(&self) -> StoreResult<Vec<NormVersion>> {
        governance::norms(&self.pool).await
    }
}

impl Store for PgStore {
    fn transparency_log(&self) -> &dyn TransparencyLog {
        self
    }
}

#[async_trait]
impl TransparencyLog for PgStore {
    async fn add_objects_logged(
        &self,
        collection: &CollectionRef,
        objects: Vec<NewObject>,
        entries: Vec<OpenableEntry>,
    ) -> StoreResult<Vec<AddOutcome>> {
        let mut tx = self.pool.begin().await.map_err(error::db)?;
        let outcomes =
            log::add_objects_in(&mut tx, &self.dictionaries, collection, &objects, entries).await?;
        tx.commit().await.map_err(error::db)?;
        Ok(outcomes)
    }
    async fn append_entries(&self, entries: Vec<Vec<u8>>) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(error::db)?;
        objects::lock_clock(&mut tx).await?;
        let first = log::append_in(&mut tx, &entries).await?;
        tx.commit().await.map_err(error::db)?;
        Ok(first)
    }
    async fn append_openable(&self, entries: Vec<OpenableEntry>) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(error::db)?;
        objects::lock_clock(&mut tx).await?;
        let first = log::append_openable_in(&mut tx, "", &entries).await?;
        tx.commit().await.map_err(error::db)?;
        Ok(first)
    }
    async fn openings(&self, scope: &str, subject: &str) -> StoreResult<Vec<KeptOpening>> {
        log::openings(&self.pool, scope, subject).await
    }
    async fn openings_between(&self, start: u64, end: u64) -> StoreResult<Vec<ScopedOpening>> {
        log::openings_between(&self.pool, start, end).await
    }
    async fn keep_openings(&self, openings: Vec<ScopedOpening>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(error::db)?;
        log::keep_openings_in(&mut tx, &openings).await?;
        tx.commit().await.map_err(error::db)?;
        Ok(())
    }
    async fn log_size(&self) -> StoreResult<u64> {
        let mut c = self.pool.acquire().await.map_err(error::db)?;
        log::size(&mut c).await
    }
    async fn log_entries(&self, start: u64, end: u64) -> StoreResult<Vec<Vec<u8>>> {
        log::entries(&self.pool, start, end).await
    }
    async fn log_hashes(&self, indexes: Vec<u64>) -> StoreResult<Vec<Hash>> {
        log::hashes(&self.pool, &indexes).await
    }
    async fn put_checkpoint(&self, checkpoint: StoredCheckpoint) -> StoreResult<()> {
        log::put_checkpoint(&self.pool, &checkpoint).await
    }
    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>> {
        log::latest_checkpoint(&self.pool).await
    }
    async fn witnessed(&self, origin: &str) -> StoreResult<Option<WitnessedCheckpoint>> {
        log::witnessed(&self.pool, origin).await
    }
    async fn witness_swap(
        &self,
        origin: &str,
        expected: Option<TreeHead>,
        new: WitnessedCheckpoint,
    ) -> StoreResult<bool> {
        log::witness_swap(&self.pool, origin, expected, &new).await
    }
    async fn trust_log(&self, log: TrustedLog) -> StoreResult<()> {
        log::trust(&self.pool, &log).await
    }
    async fn trusted_logs(&self) -> StoreResult<Vec<TrustedLog>> {
        log::trusted(&self.pool).await
    }
    async fn put_cosignature(&self, cosignature: CollectedCosignature) -> StoreResult<()> {
        log::put_cosignature(&self.pool, &cosignature).await
    }
    async fn cosignatures(&self, size: Option<u64>) -> StoreResult<Vec<CollectedCosignature>> {
        log::cosignatures(&self.pool, size).await
    }
    async fn latest_cosignature(&self, witness: &str) -> StoreResult<Option<CollectedCosignature>> {
        log::latest_cosignature(&self.pool, witness).await
    }
    async fn put_witness_alert(&self, alert: WitnessAlert) -> StoreResult<Option<u64>> {
        log::put_witness_alert(&self.pool, &alert).await
    }
    async fn witness_alerts(&self) -> StoreResult<Vec<WitnessAlert>> {
        log::witness_alerts(&self.pool).await
    }
}
