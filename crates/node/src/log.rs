//! The node's transparency log, domain side: which acts become entries and what an entry
//! commits to, signing checkpoints over durable entries, proofs and tiles read through the
//! store, and the witness that cosigns peer logs. Every entry it writes is sealed (entry
//! encoding version 2): only its kind and time are in the clear, and the opening of its
//! salted commitment is kept in the store and given out only with the subject, by
//! [`NodeLog::object_proofs`]. It never does HTTP or file I/O.
//!
//! Later features append their own kinds through [`NodeLog::record`] with an [`Act`].

use std::cell::RefCell;
use std::collections::HashMap;

use comity_store::{
    AddOutcome, CollectionRef, NewObject, OpenableEntry, Store, StoreError, StoredCheckpoint,
    StoredObject, TransparencyLog,
};
use comity_tlog::checkpoint::Checkpoint;
use comity_tlog::entry::{Entry, EntryError, LogEntry, Opening, OBJECT_ACCEPTED};
use comity_tlog::note::{KeyKind, Note, NoteError, Signer, Verifier};
use comity_tlog::offline::TlogProof;
use comity_tlog::tiles::{encode_bundle, Tile, TileError, TileKind, TILE_WIDTH};
use comity_tlog::tree::{tree_hash, HashReader, TreeError};
use comity_tlog::witness::{
    AddCheckpoint, TreeHead, Witness, WitnessError, WitnessState, WitnessedCheckpoint,
};
use comity_tlog::Hash;

use crate::identity::NodeKey;
use crate::intake::Examined;
use comity_stix::clock::now_us;
use sha2::{Digest, Sha256};

/// Errors of the node's log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The store failed or has no transparency log.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A tree computation failed (a missing hash, an index out of range).
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// A tile request that the log cannot serve.
    #[error(transparent)]
    Tile(#[from] TileError),
    /// An entry broke the encoding rules.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// Signing or key handling failed.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// A kept opening does not open its entry for the object it was kept for.
    #[error("the log entry {index} kept for {subject} does not commit to it: {reason}")]
    Opening {
        /// The entry's index.
        index: u64,
        /// The subject it was kept for.
        subject: String,
        /// Why.
        reason: String,
    },
    /// An object's JSON could not be read to hash it.
    #[error("cannot commit to object {id}: {reason}")]
    Object {
        /// The object id.
        id: String,
        /// Why.
        reason: String,
    },
}

/// One act to commit: what happened, who did it, to what, and the hash of that thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Act {
    /// The entry kind, e.g. `comity_tlog::entry::USER_CHANGED`.
    pub kind: String,
    /// Who performed or originated it.
    pub actor: String,
    /// What it acted on.
    pub subject: String,
    /// The canonical JSON of what it acted on (hashed, never logged).
    pub canonical: Vec<u8>,
}

/// This node's log: its signing key (whose name is the log's origin) and the same key as a
/// witness cosigner.
#[derive(Debug, Clone)]
pub struct NodeLog {
    signer: Signer,
    cosigner: Signer,
    key: NodeKey,
}

impl NodeLog {
    /// The log of the node whose Ed25519 note key is `signer`.
    pub fn new(signer: Signer) -> Result<NodeLog, NoteError> {
        if signer.kind() != KeyKind::Ed25519 {
            return Err(NoteError::WrongKeyKind {
                name: signer.name().to_owned(),
                kind: signer.kind(),
            });
        }
        let cosigner = cosigner_of(&signer)?;
        let key = NodeKey::from_log_signer(&signer)?;
        Ok(NodeLog {
            signer,
            cosigner,
            key,
        })
    }

    /// The log's origin (the checkpoint's first line).
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The verifier key of the log's checkpoints.
    pub fn verifier(&self) -> Verifier {
        self.signer.verifier()
    }

    /// The node's identity key, for signing documents outside the log.
    pub fn node_key(&self) -> &NodeKey {
        &self.key
    }

    /// The verifier key of this node's witness cosignatures.
    pub fn cosigner_verifier(&self) -> Verifier {
        self.cosigner.verifier()
    }

    /// The entry committing to an accepted object, sealed with a fresh random salt: its id
    /// and version, its originator (`created_by_ref`, else this node) and the SHA-256 of
    /// its RFC 8785 canonical JSON, of which the entry shows only a salted commitment.
    pub fn object_entry(&self, examined: &Examined, time: i64) -> Result<OpenableEntry, LogError> {
        let object = &examined.object;
        seal(LogEntry {
            kind: OBJECT_ACCEPTED.into(),
            time,
            actor: examined
                .originator
                .clone()
                .unwrap_or_else(|| self.origin().to_owned()),
            subject: subject_of(&object.id, &object.version),
            sha256: examined.content_sha256,
        })
    }

    /// The entries of [`NodeLog::object_entry`] for a batch; CPU work, call it off the
    /// async executor.
    pub fn object_entries(&self, objects: &[Examined]) -> Result<Vec<OpenableEntry>, LogError> {
        let time = now_us();
        objects.iter().map(|o| self.object_entry(o, time)).collect()
    }

    /// Stores objects with their commitments (from [`NodeLog::object_entries`]) in one
    /// transaction.
    pub async fn add_objects(
        store: &dyn Store,
        collection: &CollectionRef,
        objects: Vec<NewObject>,
        entries: Vec<OpenableEntry>,
    ) -> Result<Vec<AddOutcome>, StoreError> {
        store
            .transparency_log()
            .add_objects_logged(collection, objects, entries)
            .await
    }

    /// The log entries committing to `object` (a version stored in `collection`), each
    /// with its opening and a proof against the latest checkpoint. Only for a caller who
    /// may read the object as it is stored: the opening reveals its originator and hash.
    /// An entry whose opening commits to another content is left out; one whose opening
    /// does not open it is an error.
    pub async fn object_proofs(
        &self,
        store: &dyn Store,
        collection: &CollectionRef,
        object: &StoredObject,
    ) -> Result<Vec<EntryProof>, LogError> {
        let value: serde_json::Value =
            serde_json::from_str(&object.json).map_err(|e| LogError::Object {
                id: object.id.clone(),
                reason: e.to_string(),
            })?;
        let sha256: [u8; 32] = Sha256::digest(comity_stix::canonical_json(&value)).into();
        let scope = comity_store::scope_of(Some(collection));
        self.proofs(
            store,
            &scope,
            &subject_of(&object.id, &object.version),
            &sha256,
        )
        .await
    }

    /// The log entries kept in `scope` that commit to `subject` with content hash
    /// `sha256`, each with its opening and a proof against the latest checkpoint. An entry
    /// that commits to another content (an earlier content of the same subject) is left
    /// out; one whose opening does not open it is an error.
    pub async fn proofs(
        &self,
        store: &dyn Store,
        scope: &str,
        subject: &str,
        sha256: &[u8; 32],
    ) -> Result<Vec<EntryProof>, LogError> {
        let kept = store.transparency_log().openings(scope, subject).await?;
        let mut out = Vec::with_capacity(kept.len());
        for k in kept {
            let bad = |reason: String| LogError::Opening {
                index: k.index,
                subject: subject.to_owned(),
                reason,
            };
            let opening = Opening::decode(&k.opening).map_err(|e| bad(e.to_string()))?;
            let act = Entry::decode(&k.entry)
                .and_then(|e| e.reveal(Some(&opening)))
                .map_err(|e| bad(e.to_string()))?;
            if act.subject != subject || &act.sha256 != sha256 {
                continue;
            }
            out.push(EntryProof {
                proof: self.prove(store, k.index).await?,
                index: k.index,
                entry: k.entry,
                opening: k.opening,
            });
        }
        Ok(out)
    }

    /// Appends one act; returns its index. The act's time is now.
    pub async fn record(&self, store: &dyn Store, act: Act) -> Result<u64, LogError> {
        let entry = seal(LogEntry {
            kind: act.kind,
            time: now_us(),
            actor: act.actor,
            subject: act.subject,
            sha256: Sha256::digest(&act.canonical).into(),
        })?;
        Ok(store
            .transparency_log()
            .append_openable(vec![entry])
            .await?)
    }

    /// The latest signed checkpoint, signing and storing a new one first when the log has
    /// grown. Only durable entries are covered: the size and hashes are read from the store.
    pub async fn checkpoint(&self, store: &dyn Store) -> Result<StoredCheckpoint, LogError> {
        let log = store.transparency_log();
        let size = log.log_size().await?;
        let latest = log.latest_checkpoint().await?;
        if let Some(cp) = latest.filter(|cp| cp.size >= size) {
            return Ok(cp);
        }
        let root = with_hashes(log, |r| tree_hash(size, r)).await?;
        let note = Checkpoint {
            origin: self.origin().to_owned(),
            size,
            root,
            extensions: vec![],
        }
        .sign(&self.signer)?;
        log.put_checkpoint(StoredCheckpoint {
            size,
            note: note.to_string(),
        })
        .await?;
        Ok(log
            .latest_checkpoint()
            .await?
            .ok_or_else(|| StoreError::Backend("a stored checkpoint is missing".into()))?)
    }

    /// A `c2sp.org/tlog-proof@v1` proof of entry `index` against the latest checkpoint.
    pub async fn prove(&self, store: &dyn Store, index: u64) -> Result<TlogProof, LogError> {
        let cp = self.checkpoint(store).await?;
        let log = store.transparency_log();
        let inclusion = with_hashes(log, |r| {
            comity_tlog::proof::inclusion_proof(index, cp.size, r)
        })
        .await?;
        Ok(TlogProof {
            extra: None,
            index,
            inclusion,
            checkpoint: cp.note,
        })
    }

    /// Handles a tlog-witness `add-checkpoint` body from a peer at time `now` (POSIX
    /// seconds): verifies it against the trusted logs and the witnessed state, and returns
    /// the cosignature lines once the new state is stored.
    pub async fn add_checkpoint(
        &self,
        store: &dyn Store,
        body: &[u8],
        now: u64,
    ) -> Result<String, WitnessError> {
        let log = store.transparency_log();
        let req = AddCheckpoint::parse(body)?;
        let note =
            Note::parse(req.checkpoint.as_bytes()).map_err(WitnessError::MalformedCheckpoint)?;
        let origin = Checkpoint::parse(&note.text)
            .map_err(WitnessError::MalformedCheckpoint)?
            .origin;
        let mut keys = Vec::new();
        for trusted in log.trusted_logs().await.map_err(WitnessError::state)? {
            if trusted.origin == origin {
                keys.push(Verifier::parse(&trusted.verifier_key).map_err(WitnessError::Forbidden)?);
            }
        }
        self.witness(store, body, now, &origin, keys).await
    }

    /// Runs the witness on an `add-checkpoint` body for the log `origin`, whose checkpoint
    /// keys are `keys` (none: the origin is unknown), and stores the new state with one
    /// compare-and-swap; returns the cosignature lines.
    pub async fn witness(
        &self,
        store: &dyn Store,
        body: &[u8],
        now: u64,
        origin: &str,
        keys: Vec<Verifier>,
    ) -> Result<String, WitnessError> {
        let log = store.transparency_log();
        let req = AddCheckpoint::parse(body)?;
        let mut witness =
            Witness::new(vec![self.cosigner.clone()]).map_err(WitnessError::Cosign)?;
        if !keys.is_empty() {
            witness
                .trust_log(origin, keys)
                .map_err(WitnessError::Forbidden)?;
        }
        let mut state = Snapshot {
            latest: log.witnessed(origin).await.map_err(WitnessError::state)?,
            swap: None,
        };
        let lines = witness.add_checkpoint(body, &mut state, now)?;
        let (expected, new) = state.swap.ok_or_else(|| {
            WitnessError::state(StoreError::Backend(
                "the witness cosigned without a new state to store".into(),
            ))
        })?;
        if !log
            .witness_swap(origin, expected, new)
            .await
            .map_err(WitnessError::state)?
        {
            let known_size = log
                .witnessed(origin)
                .await
                .map_err(WitnessError::state)?
                .map_or(0, |w| w.head.size);
            return Err(WitnessError::Conflict {
                old: req.old_size,
                known_size,
            });
        }
        Ok(lines)
    }
}

/// A log entry committing to an object version or a request event, with what opens it
/// and its inclusion proof, as given to its readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryProof {
    /// The entry's index.
    pub index: u64,
    /// The entry's bytes (version 2).
    pub entry: Vec<u8>,
    /// The opening's bytes.
    pub opening: Vec<u8>,
    /// The entry's inclusion in the latest checkpoint.
    pub proof: TlogProof,
}

/// How an entry names an object version: `id@version`, or the id of an unversioned object.
fn subject_of(id: &str, version: &str) -> String {
    if version.is_empty() {
        id.to_owned()
    } else {
        format!("{id}@{version}")
    }
}

/// Seals an act as a version 2 entry with 32 bytes from a cryptographically secure
/// generator (the thread's, seeded by the operating system), drawn for this entry alone;
/// the store keeps the opening under the act's subject.
pub fn seal(act: LogEntry) -> Result<OpenableEntry, LogError> {
    let salt: [u8; 32] = rand::Rng::gen(&mut rand::thread_rng());
    let (entry, opening) = act.seal(salt)?;
    Ok(OpenableEntry {
        entry,
        subject: act.subject,
        opening: opening.encode()?,
    })
}

/// The cosignature key made from the log's Ed25519 key: same secret, type 0x04.
fn cosigner_of(signer: &Signer) -> Result<Signer, NoteError> {
    Signer::new(
        signer.name(),
        KeyKind::CosignatureV1,
        ed25519_dalek::SigningKey::from_bytes(&crate::identity::seed_of(signer)?),
    )
}

/// The witness state of one request: the state read before, and the swap the witness
/// decided on, which the caller then applies atomically in the store.
struct Snapshot {
    latest: Option<WitnessedCheckpoint>,
    swap: Option<(Option<TreeHead>, WitnessedCheckpoint)>,
}

impl WitnessState for Snapshot {
    fn latest(&self, _origin: &str) -> Result<Option<WitnessedCheckpoint>, WitnessError> {
        Ok(self.latest.clone())
    }
    fn compare_and_swap(
        &mut self,
        _origin: &str,
        expected: Option<TreeHead>,
        new: WitnessedCheckpoint,
    ) -> Result<bool, WitnessError> {
        self.swap = Some((expected, new));
        Ok(true)
    }
}

/// Records which stored hashes a computation reads, answering zeroes.
#[derive(Default)]
struct Recorder(RefCell<Vec<u64>>);

impl HashReader for Recorder {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
        self.0.borrow_mut().extend_from_slice(indexes);
        Ok(vec![Hash([0; 32]); indexes.len()])
    }
}

/// Hashes fetched from the store, by stored-hash index.
struct Fetched(HashMap<u64, Hash>);

impl HashReader for Fetched {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
        indexes
            .iter()
            .map(|i| {
                self.0
                    .get(i)
                    .copied()
                    .ok_or(TreeError::MissingHash { index: *i })
            })
            .collect()
    }
}

/// Runs a tree computation over the store's hashes. Which hashes a computation reads
/// depends only on sizes and indexes, never on hash values, so a first run records them,
/// one store query fetches them, and a second run computes the result.
pub async fn with_hashes<T, E>(
    log: &dyn TransparencyLog,
    compute: impl Fn(&dyn HashReader) -> Result<T, E>,
) -> Result<T, LogError>
where
    LogError: From<E>,
{
    let recorder = Recorder::default();
    compute(&recorder)?;
    let mut indexes = recorder.0.into_inner();
    indexes.sort_unstable();
    indexes.dedup();
    let hashes = log.log_hashes(indexes.clone()).await?;
    let known = Fetched(indexes.into_iter().zip(hashes).collect());
    Ok(compute(&known)?)
}

/// The bytes of a tlog-tiles hash tile or entry bundle of the tree of `size` leaves.
pub async fn tile_bytes(
    log: &dyn TransparencyLog,
    tile: Tile,
    size: u64,
) -> Result<Vec<u8>, LogError> {
    if !tile.exists_in(size) {
        return Err(TileError::NotInTree {
            tile: tile.path(),
            size,
        }
        .into());
    }
    match tile.kind {
        TileKind::Hashes(_) => with_hashes(log, |r| tile.read(size, r)).await,
        TileKind::Entries => {
            let start = tile.index * TILE_WIDTH;
            let entries = log
                .log_entries(start, start + u64::from(tile.width))
                .await?;
            Ok(encode_bundle(&entries)?)
        }
    }
}
