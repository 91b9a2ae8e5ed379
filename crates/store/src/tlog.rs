//! The storage of the node's transparency log, in domain terms: entries and the stored
//! hashes of their Merkle tree, signed checkpoints, the witness state per peer log, the
//! peer logs an administrator trusts, the cosignatures peers gave this node's checkpoints,
//! and the alerts (with their evidence) raised when witnessing met an inconsistency. This module owns the contract only; the tree
//! arithmetic lives in `comity-tlog`, and backends implement [`TransparencyLog`].
//!
//! # What a backend must guarantee
//!
//! - Appends are durable when they return, and are serialised across processes: the next
//!   index is derived inside the write transaction, never cached.
//! - For each entry `n` the backend persists the entry bytes at index `n` and the hashes
//!   `comity_tlog::tree::stored_hashes_for_append(n, Hash::leaf(entry), …)` at
//!   `stored_hash_index(0, n)`, `+1`, … in the same transaction, so that any proof costs
//!   O(log n) point reads of [`TransparencyLog::log_hashes`].
//! - [`TransparencyLog::add_objects_logged`] stores objects and their commitments in one
//!   transaction: an object is stored if and only if its entry is appended.
//! - [`TransparencyLog::witness_swap`] is an atomic compare-and-swap.
//! - The opening of an [`OpenableEntry`] is kept in the same transaction as its entry,
//!   under the entry's index, its scope (the collection of an object, or none for the
//!   node's own acts) and its subject, and is read back only by [`TransparencyLog::openings`].

use async_trait::async_trait;
use comity_tlog::witness::{TreeHead, WitnessedCheckpoint};
use comity_tlog::Hash;

use serde::Serialize;

use crate::{AddOutcome, CollectionRef, NewObject, StoreError, StoreResult};

/// A signed checkpoint of this node's log, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The tree size it commits to.
    pub size: u64,
    /// The signed note (C2SP tlog-checkpoint text and signature lines).
    pub note: String,
}

/// A log entry (encoding version 2) with the opening of its commitment, which the store
/// keeps beside it and which the node gives only to those who may read the subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenableEntry {
    /// The entry's bytes, as appended.
    pub entry: Vec<u8>,
    /// What the entry commits to, as looked up: an object's `id@version`, an act's subject.
    pub subject: String,
    /// The opening's bytes (`comity_tlog::entry::Opening`).
    pub opening: Vec<u8>,
}

/// An opening kept for one entry, with the entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptOpening {
    /// The entry's index in the log.
    pub index: u64,
    /// The entry's bytes.
    pub entry: Vec<u8>,
    /// The opening's bytes.
    pub opening: Vec<u8>,
}

/// An opening with the scope and subject it is kept under, as a copy carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedOpening {
    /// The entry's index in the log.
    pub index: u64,
    /// `api_root/collection id` of an object's collection; empty for the node's own acts.
    pub scope: String,
    /// What the entry commits to.
    pub subject: String,
    /// The opening's bytes.
    pub opening: Vec<u8>,
}

/// The scope openings of objects in `collection` are kept under.
pub fn scope_of(collection: Option<&CollectionRef>) -> String {
    collection.map_or_else(String::new, |c| format!("{}/{}", c.api_root, c.id))
}

/// A peer log this node trusts as a witness and auditor: its origin and verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedLog {
    /// The log's origin line, e.g. `comity/3f9a1c`.
    pub origin: String,
    /// Its C2SP / `sumdb/note` verifier key string.
    pub verifier_key: String,
}

/// A peer's cosignature of one of this node's checkpoints, verified with the peer's pinned
/// key before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectedCosignature {
    /// The cosigning peer (its member id).
    pub witness: String,
    /// The size of the checkpoint cosigned.
    pub size: u64,
    /// The signed checkpoint note that was cosigned, as this node sent it.
    pub checkpoint: String,
    /// The cosignature line(s) (C2SP tlog-cosignature, each ending in a newline).
    pub line: String,
    /// When it was received (µs since the epoch).
    pub received_at: i64,
}

stored_text! {
    /// What kind of inconsistency a witnessing alert reports.
    pub enum WitnessAlertKind("witness alert kind") {
        /// A member presented a checkpoint smaller than one this node cosigned.
        Rollback => "rollback",
        /// A member presented a checkpoint of a size this node cosigned, with another root.
        Fork => "fork",
        /// A member's consistency proof does not verify against what this node cosigned.
        Inconsistent => "inconsistent",
        /// A peer refused this node's checkpoint as inconsistent with what it cosigned.
        Refused => "refused",
        /// A peer says it cosigned a larger tree of this node's log than the log has.
        PeerAhead => "peer-ahead",
    }
}

/// An inconsistency met while witnessing, kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessAlert {
    /// Its number, given by the store (0 before it is stored).
    pub id: u64,
    /// When it was raised (µs since the epoch).
    pub at: i64,
    /// The member whose log or answer is in question.
    pub peer: String,
    /// What was found.
    pub kind: WitnessAlertKind,
    /// A sentence for people.
    pub detail: String,
    /// The checkpoint held before (cosigned or sent), a signed note; empty when none.
    pub ours: String,
    /// The checkpoint or answer that contradicts it, as received; empty when none.
    pub theirs: String,
    /// The consistency proof involved (base64 hashes, one a line); empty when none.
    pub proof: String,
    /// Hex SHA-256 of the evidence: the same evidence is kept once.
    pub digest: String,
}

/// The node's append-only Merkle log and its witness state. Every method is durable when
/// it returns `Ok`.
#[async_trait]
pub trait TransparencyLog: Send + Sync {
    /// Adds object versions exactly as [`crate::ObjectStore::add_objects`] does and, in the same
    /// transaction, appends `entries[i]` for every object whose outcome is
    /// [`AddOutcome::Added`], in input order, keeping its opening in the scope of
    /// `collection`. `entries` has one item per object.
    async fn add_objects_logged(
        &self,
        collection: &CollectionRef,
        objects: Vec<NewObject>,
        entries: Vec<OpenableEntry>,
    ) -> StoreResult<Vec<AddOutcome>>;

    /// Appends entries in order, with their stored hashes, in one transaction; returns the
    /// index of the first. For entries whose openings are kept elsewhere or that have none
    /// (version 1 entries, a copied log).
    async fn append_entries(&self, entries: Vec<Vec<u8>>) -> StoreResult<u64>;

    /// Appends entries as [`TransparencyLog::append_entries`] does and keeps their
    /// openings in the node's own scope (no collection), in the same transaction.
    async fn append_openable(&self, entries: Vec<OpenableEntry>) -> StoreResult<u64>;

    /// The openings kept for `subject` in `scope` ([`scope_of`] a collection, or of `None`
    /// for the node's own acts; [`crate::REQUEST_SCOPE`] for request events), in log order.
    async fn openings(&self, scope: &str, subject: &str) -> StoreResult<Vec<KeptOpening>>;

    /// Openings `start..end` by entry index, with their scope and subject, in log order
    /// (entries without one are absent): what a copy of the log carries over.
    async fn openings_between(&self, start: u64, end: u64) -> StoreResult<Vec<ScopedOpening>>;

    /// Keeps openings of entries already appended (a copied log), in one transaction; an
    /// entry that has an opening keeps it, so a copy can run again.
    async fn keep_openings(&self, openings: Vec<ScopedOpening>) -> StoreResult<()>;

    /// The number of durable entries: the size of the tree.
    async fn log_size(&self) -> StoreResult<u64>;

    /// Entries `start..end`, in order; [`crate::StoreError::NotFound`] when `end` is past
    /// the log's size.
    async fn log_entries(&self, start: u64, end: u64) -> StoreResult<Vec<Vec<u8>>>;

    /// The stored hashes at these indexes (`comity_tlog::tree::stored_hash_index`), in the
    /// order asked, with one query; [`crate::StoreError::NotFound`] for an index not stored.
    async fn log_hashes(&self, indexes: Vec<u64>) -> StoreResult<Vec<Hash>>;

    /// Keeps a signed checkpoint of this log (one per size; storing a size again keeps
    /// the first).
    async fn put_checkpoint(&self, checkpoint: StoredCheckpoint) -> StoreResult<()>;

    /// The signed checkpoint of the largest size stored.
    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>>;

    /// The latest checkpoint this node cosigned for a peer log `origin`.
    async fn witnessed(&self, origin: &str) -> StoreResult<Option<WitnessedCheckpoint>>;

    /// Replaces the witnessed checkpoint of `origin` by `new` if the current one still has
    /// head `expected` (`None`: there is none yet), atomically; `false` changes nothing.
    async fn witness_swap(
        &self,
        origin: &str,
        expected: Option<TreeHead>,
        new: WitnessedCheckpoint,
    ) -> StoreResult<bool>;

    /// Trusts a peer log (adds or replaces its key).
    async fn trust_log(&self, log: TrustedLog) -> StoreResult<()>;

    /// Every trusted peer log, by origin.
    async fn trusted_logs(&self) -> StoreResult<Vec<TrustedLog>>;

    /// Keeps a peer's cosignature of one of this node's checkpoints (one per peer and
    /// size; storing it again replaces it).
    async fn put_cosignature(&self, cosignature: CollectedCosignature) -> StoreResult<()>;

    /// The cosignatures of the checkpoint of `size` (`None`: of the largest size that has
    /// any), by witness.
    async fn cosignatures(&self, size: Option<u64>) -> StoreResult<Vec<CollectedCosignature>>;

    /// The cosignature of the largest size collected from `witness`.
    async fn latest_cosignature(&self, witness: &str) -> StoreResult<Option<CollectedCosignature>>;

    /// Keeps an alert with its evidence; returns its id, or `None` when an alert with the
    /// same digest is kept already (nothing changes).
    async fn put_witness_alert(&self, alert: WitnessAlert) -> StoreResult<Option<u64>>;

    /// Every alert kept, oldest first.
    async fn witness_alerts(&self) -> StoreResult<Vec<WitnessAlert>>;
}

/// Conversions every backend needs when it stores the log in SQL.
pub mod log_storage {
    use comity_tlog::tree::TreeError;
    use comity_tlog::Hash;

    use crate::{StoreError, StoreResult};

    /// A Merkle-tree error met while appending or proving, as a store error.
    pub fn tree(e: TreeError) -> StoreError {
        StoreError::Backend(format!("transparency log: {e}"))
    }

    /// A log index or size as a SQL integer.
    pub fn to_i64(n: u64) -> StoreResult<i64> {
        i64::try_from(n).map_err(|_| StoreError::Backend(format!("log index {n} out of range")))
    }

    /// A stored hash read back from a SQL blob.
    pub fn to_hash(bytes: Vec<u8>) -> StoreResult<Hash> {
        bytes
            .try_into()
            .map(Hash)
            .map_err(|_| StoreError::Backend("a stored log hash is not 32 bytes".into()))
    }
}
