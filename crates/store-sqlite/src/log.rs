//! The transparency log in SQLite: entries and stored hashes appended inside the caller's
//! write transaction (so objects and their commitments commit together), point reads of
//! stored hashes, checkpoints, and the witness state. The tree arithmetic is
//! `comity-tlog`'s; this module never computes a hash of its own design.

use std::collections::HashMap;
use std::fmt::Write as _;

use comity_store::log_storage::{to_hash, to_i64, tree};
use comity_store::{
    scope_of, AddOutcome, CollectedCosignature, CollectionRef, KeptOpening, NewObject,
    OpenableEntry, ScopedOpening, StoreError, StoreResult, StoredCheckpoint, TrustedLog,
    WitnessAlert,
};
use comity_tlog::tree::{stored_hash_count, stored_hashes_for_append, HashReader, TreeError};
use comity_tlog::witness::{TreeHead, WitnessedCheckpoint};
use comity_tlog::Hash;
use rusqlite::{params, Connection, OptionalExtension};

use crate::{db, objects};

/// The number of entries, read inside the current transaction.
pub fn size(c: &Connection) -> StoreResult<u64> {
    let n: i64 = c
        .prepare_cached("SELECT COALESCE(MAX(idx) + 1, 0) FROM tlog_entries")
        .map_err(db)?
        .query_row([], |r| r.get(0))
        .map_err(db)?;
    Ok(n as u64)
}

/// Stored hashes seen through a transaction plus the ones this append computed so far.
struct PendingHashes<'a> {
    conn: &'a Connection,
    base: u64,
    pending: &'a [Hash],
}

impl HashReader for PendingHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT hash FROM tlog_hashes WHERE idx = ?1")
            .map_err(TreeError::storage)?;
        indexes
            .iter()
            .map(|&i| {
                if i >= self.base {
                    return usize::try_from(i - self.base)
                        .ok()
                        .and_then(|k| self.pending.get(k).copied())
                        .ok_or(TreeError::MissingHash { index: i });
                }
                let bytes: Option<Vec<u8>> = stmt
                    .query_row(params![i as i64], |r| r.get(0))
                    .optional()
                    .map_err(TreeError::storage)?;
                bytes
                    .and_then(|b| b.try_into().ok().map(Hash))
                    .ok_or(TreeError::MissingHash { index: i })
            })
            .collect()
    }
}

/// Appends entries and their stored hashes inside the caller's transaction; returns the
/// index of the first.
pub fn append_in(c: &Connection, entries: &[Vec<u8>]) -> StoreResult<u64> {
    let first = size(c)?;
    if entries.is_empty() {
        return Ok(first);
    }
    let base = stored_hash_count(first).map_err(tree)?;
    let mut pending: Vec<Hash> = Vec::with_capacity(entries.len() * 2);
    for (k, entry) in entries.iter().enumerate() {
        let reader = PendingHashes {
            conn: c,
            base,
            pending: &pending,
        };
        let new =
            stored_hashes_for_append(first + k as u64, Hash::leaf(entry), &reader).map_err(tree)?;
        pending.extend(new);
    }
    let mut insert_entry = c
        .prepare_cached("INSERT INTO tlog_entries (idx, entry) VALUES (?1, ?2)")
        .map_err(db)?;
    for (k, entry) in entries.iter().enumerate() {
        insert_entry
            .execute(params![to_i64(first + k as u64)?, entry])
            .map_err(db)?;
    }
    let mut insert_hash = c
        .prepare_cached("INSERT INTO tlog_hashes (idx, hash) VALUES (?1, ?2)")
        .map_err(db)?;
    for (k, h) in pending.iter().enumerate() {
        insert_hash
            .execute(params![to_i64(base + k as u64)?, h.0.as_slice()])
            .map_err(db)?;
    }
    Ok(first)
}

/// Appends openable entries as [`append_in`] does and keeps their openings under `scope`,
/// inside the caller's transaction; returns the index of the first.
pub fn append_openable_in(
    c: &Connection,
    scope: &str,
    entries: &[OpenableEntry],
) -> StoreResult<u64> {
    let bytes: Vec<Vec<u8>> = entries.iter().map(|e| e.entry.clone()).collect();
    let first = append_in(c, &bytes)?;
    let mut insert = c
        .prepare_cached(
            "INSERT INTO tlog_openings (idx, scope, subject, opening) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(db)?;
    for (k, e) in entries.iter().enumerate() {
        insert
            .execute(params![
                to_i64(first + k as u64)?,
                scope,
                e.subject,
                e.opening
            ])
            .map_err(db)?;
    }
    Ok(first)
}

/// Adds objects as [`objects::add_in`] does and appends `entries[i]` for every object
/// added, in input order, keeping its opening in the collection's scope, inside the
/// caller's transaction: an object is stored if and only if its entry is appended.
/// `entries` has one item per object.
pub fn add_objects_in(
    tx: &Connection,
    dicts: &comity_store::packing::Dictionaries,
    col: &CollectionRef,
    objects: &[NewObject],
    entries: Vec<OpenableEntry>,
) -> StoreResult<Vec<AddOutcome>> {
    if entries.len() != objects.len() {
        return Err(StoreError::Backend(format!(
            "{} log entries for {} objects",
            entries.len(),
            objects.len()
        )));
    }
    let outcomes = objects::add_in(tx, dicts, col, objects)?;
    let added: Vec<OpenableEntry> = entries
        .into_iter()
        .zip(&outcomes)
        .filter(|(_, o)| matches!(o, AddOutcome::Added { .. }))
        .map(|(e, _)| e)
        .collect();
    append_openable_in(tx, &scope_of(Some(col)), &added)?;
    Ok(outcomes)
}

/// The openings kept for `subject` under `scope`, with their entries, in log order.
pub fn openings(c: &Connection, scope: &str, subject: &str) -> StoreResult<Vec<KeptOpening>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT o.idx, e.entry, o.opening FROM tlog_openings o \
             JOIN tlog_entries e ON e.idx = o.idx \
             WHERE o.scope = ?1 AND o.subject = ?2 ORDER BY o.idx",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map(params![scope, subject], |r| {
            Ok(KeptOpening {
                index: r.get::<_, i64>(0)? as u64,
                entry: r.get(1)?,
                opening: r.get(2)?,
            })
        })
        .map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

/// The openings of entries `start..end`, in log order.
pub fn openings_between(c: &Connection, start: u64, end: u64) -> StoreResult<Vec<ScopedOpening>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT idx, scope, subject, opening FROM tlog_openings \
             WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map(params![to_i64(start)?, to_i64(end)?], |r| {
            Ok(ScopedOpening {
                index: r.get::<_, i64>(0)? as u64,
                scope: r.get(1)?,
                subject: r.get(2)?,
                opening: r.get(3)?,
            })
        })
        .map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

/// Keeps openings of entries already appended, inside the caller's transaction; an entry
/// that has one keeps it.
pub fn keep_openings_in(c: &Connection, openings: &[ScopedOpening]) -> StoreResult<()> {
    let mut insert = c
        .prepare_cached(
            "INSERT INTO tlog_openings (idx, scope, subject, opening) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (idx) DO NOTHING",
        )
        .map_err(db)?;
    for o in openings {
        insert
            .execute(params![to_i64(o.index)?, o.scope, o.subject, o.opening])
            .map_err(db)?;
    }
    Ok(())
}

/// Entries `start..end`.
pub fn entries(c: &Connection, start: u64, end: u64) -> StoreResult<Vec<Vec<u8>>> {
    let size = size(c)?;
    if start > end || end > size {
        return Err(StoreError::NotFound(format!(
            "log entries {start}..{end} (the log has {size})"
        )));
    }
    let mut stmt = c
        .prepare_cached("SELECT entry FROM tlog_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx")
        .map_err(db)?;
    let rows = stmt
        .query_map(params![to_i64(start)?, to_i64(end)?], |r| r.get(0))
        .map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

/// Stored hashes at `indexes`, in the order asked, with one query.
pub fn hashes(c: &Connection, indexes: &[u64]) -> StoreResult<Vec<Hash>> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = String::from("SELECT idx, hash FROM tlog_hashes WHERE idx IN (");
    for (k, &i) in indexes.iter().enumerate() {
        if k > 0 {
            sql.push(',');
        }
        let _ = write!(sql, "{}", to_i64(i)?);
    }
    sql.push(')');
    let mut stmt = c.prepare(&sql).map_err(db)?;
    let found: HashMap<u64, Vec<u8>> = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    indexes
        .iter()
        .map(|i| match found.get(i) {
            Some(b) => to_hash(b.clone()),
            None => Err(StoreError::NotFound(format!("stored log hash {i}"))),
        })
        .collect()
}

/// Keeps a signed checkpoint; the first one stored for a size stays.
pub fn put_checkpoint(c: &Connection, cp: &StoredCheckpoint) -> StoreResult<()> {
    c.execute(
        "INSERT OR IGNORE INTO tlog_checkpoints (size, note) VALUES (?1, ?2)",
        params![to_i64(cp.size)?, cp.note],
    )
    .map_err(db)?;
    Ok(())
}

/// The checkpoint of the largest size.
pub fn latest_checkpoint(c: &Connection) -> StoreResult<Option<StoredCheckpoint>> {
    c.query_row(
        "SELECT size, note FROM tlog_checkpoints ORDER BY size DESC LIMIT 1",
        [],
        |r| {
            Ok(StoredCheckpoint {
                size: r.get::<_, i64>(0)? as u64,
                note: r.get(1)?,
            })
        },
    )
    .optional()
    .map_err(db)
}

/// The witnessed checkpoint of a peer log.
pub fn witnessed(c: &Connection, origin: &str) -> StoreResult<Option<WitnessedCheckpoint>> {
    let row: Option<(i64, Vec<u8>, String)> = c
        .query_row(
            "SELECT size, root, note FROM tlog_witnessed WHERE origin = ?1",
            params![origin],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(db)?;
    row.map(|(size, root, note)| {
        Ok(WitnessedCheckpoint {
            head: TreeHead {
                size: size as u64,
                root: to_hash(root)?,
            },
            note,
        })
    })
    .transpose()
}

/// The atomic compare-and-swap of the witness state: one conditional statement.
pub fn witness_swap(
    c: &Connection,
    origin: &str,
    expected: Option<TreeHead>,
    new: &WitnessedCheckpoint,
) -> StoreResult<bool> {
    let (size, root) = (to_i64(new.head.size)?, new.head.root.0.as_slice());
    let changed = match expected {
        None => c
            .execute(
                "INSERT OR IGNORE INTO tlog_witnessed (origin, size, root, note)
                 VALUES (?1, ?2, ?3, ?4)",
                params![origin, size, root, new.note],
            )
            .map_err(db)?,
        Some(old) => c
            .execute(
                "UPDATE tlog_witnessed SET size = ?2, root = ?3, note = ?4
                 WHERE origin = ?1 AND size = ?5 AND root = ?6",
                params![
                    origin,
                    size,
                    root,
                    new.note,
                    to_i64(old.size)?,
                    old.root.0.as_slice()
                ],
            )
            .map_err(db)?,
    };
    Ok(changed == 1)
}

/// Adds or replaces a trusted peer log.
pub fn trust(c: &Connection, log: &TrustedLog) -> StoreResult<()> {
    c.execute(
        "INSERT OR REPLACE INTO tlog_trusted (origin, verifier_key) VALUES (?1, ?2)",
        params![log.origin, log.verifier_key],
    )
    .map_err(db)?;
    Ok(())
}

/// Every trusted peer log, by origin.
pub fn trusted(c: &Connection) -> StoreResult<Vec<TrustedLog>> {
    let mut stmt = c
        .prepare("SELECT origin, verifier_key FROM tlog_trusted ORDER BY origin")
        .map_err(db)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(TrustedLog {
                origin: r.get(0)?,
                verifier_key: r.get(1)?,
            })
        })
        .map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

fn cosignature_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CollectedCosignature> {
    Ok(CollectedCosignature {
        witness: r.get(0)?,
        size: r.get::<_, i64>(1)? as u64,
        checkpoint: r.get(2)?,
        line: r.get(3)?,
        received_at: r.get(4)?,
    })
}

/// Keeps (or replaces) a peer's cosignature of one size.
pub fn put_cosignature(c: &Connection, cs: &CollectedCosignature) -> StoreResult<()> {
    c.execute(
        "INSERT OR REPLACE INTO tlog_cosignatures (witness, size, checkpoint, line, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            cs.witness,
            to_i64(cs.size)?,
            cs.checkpoint,
            cs.line,
            cs.received_at
        ],
    )
    .map_err(db)?;
    Ok(())
}

/// The cosignatures of one size, or of the largest size that has any.
pub fn cosignatures(c: &Connection, size: Option<u64>) -> StoreResult<Vec<CollectedCosignature>> {
    let size = match size {
        Some(s) => to_i64(s)?,
        None => match c
            .query_row("SELECT MAX(size) FROM tlog_cosignatures", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map_err(db)?
        {
            Some(s) => s,
            None => return Ok(Vec::new()),
        },
    };
    let mut stmt = c
        .prepare(
            "SELECT witness, size, checkpoint, line, received_at FROM tlog_cosignatures
             WHERE size = ?1 ORDER BY witness",
        )
        .map_err(db)?;
    let rows = stmt.query_map(params![size], cosignature_row).map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

/// The cosignature of the largest size from one witness.
pub fn latest_cosignature(
    c: &Connection,
    witness: &str,
) -> StoreResult<Option<CollectedCosignature>> {
    c.query_row(
        "SELECT witness, size, checkpoint, line, received_at FROM tlog_cosignatures
         WHERE witness = ?1 ORDER BY size DESC LIMIT 1",
        params![witness],
        cosignature_row,
    )
    .optional()
    .map_err(db)
}

/// Keeps an alert unless one with the same digest is kept; returns its id when new.
pub fn put_witness_alert(c: &Connection, a: &WitnessAlert) -> StoreResult<Option<u64>> {
    let changed = c
        .execute(
            "INSERT OR IGNORE INTO witness_alerts
             (at, peer, kind, detail, ours, theirs, proof, digest)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                a.at,
                a.peer,
                a.kind.as_str(),
                a.detail,
                a.ours,
                a.theirs,
                a.proof,
                a.digest
            ],
        )
        .map_err(db)?;
    Ok((changed == 1).then(|| c.last_insert_rowid() as u64))
}

/// Every alert, oldest first.
pub fn witness_alerts(c: &Connection) -> StoreResult<Vec<WitnessAlert>> {
    let mut stmt = c
        .prepare(
            "SELECT id, at, peer, kind, detail, ours, theirs, proof, digest FROM witness_alerts
             ORDER BY id",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, String>(3)?,
                [r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?],
            ))
        })
        .map_err(db)?;
    let mut alerts = Vec::new();
    for row in rows {
        let (id, at, peer, kind, [detail, ours, theirs, proof, digest]) = row.map_err(db)?;
        alerts.push(WitnessAlert {
            id: id as u64,
            at,
            peer,
            kind: kind.parse()?,
            detail,
            ours,
            theirs,
            proof,
            digest,
        });
    }
    Ok(alerts)
}
