//! The transparency log in PostgreSQL: entries and stored hashes appended inside the
//! caller's transaction, which holds the store clock row (so objects and their
//! commitments commit together and one process at a time derives the next index), point
//! reads of stored hashes, checkpoints, and the witness state. The tree arithmetic is
//! `comity-tlog`'s; this module never computes a hash of its own design.

use std::cell::RefCell;
use std::collections::HashMap;

use comity_store::log_storage::{to_hash, to_i64, tree};
use comity_store::{
    scope_of, AddOutcome, CollectedCosignature, CollectionRef, KeptOpening, NewObject,
    OpenableEntry, ScopedOpening, StoreError, StoreResult, StoredCheckpoint, TrustedLog,
    WitnessAlert,
};
use comity_tlog::tree::{stored_hash_count, stored_hashes_for_append, HashReader, TreeError};
use comity_tlog::witness::{TreeHead, WitnessedCheckpoint};
use comity_tlog::Hash;
use sqlx::{PgConnection, PgPool, Row};

use crate::error::db;
use crate::objects;

/// The number of entries, read inside the current transaction.
pub async fn size(c: &mut PgConnection) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM tlog_entries")
        .fetch_one(c)
        .await
        .map_err(db)?;
    Ok(n as u64)
}

/// Stored hashes fetched so far plus the ones this append computed; records the indexes
/// it lacks, so the caller can fetch them (the tree code reads synchronously).
struct KnownHashes<'a> {
    fetched: &'a HashMap<u64, Hash>,
    base: u64,
    pending: &'a [Hash],
    lacking: RefCell<Vec<u64>>,
}

impl HashReader for KnownHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
        let mut found = Vec::with_capacity(indexes.len());
        for &i in indexes {
            let hash = if i >= self.base {
                usize::try_from(i - self.base)
                    .ok()
                    .and_then(|k| self.pending.get(k).copied())
            } else {
                self.fetched.get(&i).copied()
            };
            match hash {
                Some(h) => found.push(h),
                None if i < self.base => self.lacking.borrow_mut().push(i),
                None => return Err(TreeError::MissingHash { index: i }),
            }
        }
        match self.lacking.borrow().first() {
            Some(&index) => Err(TreeError::MissingHash { index }),
            None => Ok(found),
        }
    }
}

/// Appends entries and their stored hashes inside the caller's transaction (which must
/// hold the store clock); returns the index of the first.
pub async fn append_in(c: &mut PgConnection, entries: &[Vec<u8>]) -> StoreResult<u64> {
    let first = size(&mut *c).await?;
    if entries.is_empty() {
        return Ok(first);
    }
    let base = stored_hash_count(first).map_err(tree)?;
    let mut fetched = HashMap::new();
    let pending = loop {
        let mut pending: Vec<Hash> = Vec::with_capacity(entries.len() * 2);
        let mut lacking = Vec::new();
        for (k, entry) in entries.iter().enumerate() {
            let reader = KnownHashes {
                fetched: &fetched,
                base,
                pending: &pending,
                lacking: RefCell::new(Vec::new()),
            };
            match stored_hashes_for_append(first + k as u64, Hash::leaf(entry), &reader) {
                Ok(new) => pending.extend(new),
                Err(e) => {
                    lacking = reader.lacking.into_inner();
                    if lacking.is_empty() {
                        return Err(tree(e));
                    }
                    break;
                }
            }
        }
        if lacking.is_empty() {
            break pending;
        }
        let wanted: Vec<i64> = lacking
            .iter()
            .map(|&i| to_i64(i))
            .collect::<StoreResult<_>>()?;
        let rows = sqlx::query("SELECT idx, hash FROM tlog_hashes WHERE idx = ANY($1)")
            .bind(&wanted)
            .fetch_all(&mut *c)
            .await
            .map_err(db)?;
        if rows.len() < lacking.len() {
            return Err(tree(TreeError::MissingHash { index: lacking[0] }));
        }
        for r in rows {
            let idx: i64 = r.try_get(0).map_err(db)?;
            fetched.insert(idx as u64, to_hash(r.try_get(1).map_err(db)?)?);
        }
    };
    let entry_idx: Vec<i64> = (0..entries.len() as u64)
        .map(|k| to_i64(first + k))
        .collect::<StoreResult<_>>()?;
    sqlx::query(
        "INSERT INTO tlog_entries (idx, entry) SELECT * FROM UNNEST($1::bigint[], $2::bytea[])",
    )
    .bind(&entry_idx)
    .bind(entries)
    .execute(&mut *c)
    .await
    .map_err(db)?;
    let hash_idx: Vec<i64> = (0..pending.len() as u64)
        .map(|k| to_i64(base + k))
        .collect::<StoreResult<_>>()?;
    let hash_bytes: Vec<&[u8]> = pending.iter().map(|h| h.0.as_slice()).collect();
    sqlx::query(
        "INSERT INTO tlog_hashes (idx, hash) SELECT * FROM UNNEST($1::bigint[], $2::bytea[])",
    )
    .bind(&hash_idx)
    .bind(&hash_bytes)
    .execute(&mut *c)
    .await
    .map_err(db)?;
    Ok(first)
}

/// Appends openable entries as [`append_in`] does (the caller holds the store clock) and
/// keeps their openings under `scope`, inside the caller's transaction; returns the index
/// of the first.
pub async fn append_openable_in(
    c: &mut PgConnection,
    scope: &str,
    entries: &[OpenableEntry],
) -> StoreResult<u64> {
    let bytes: Vec<Vec<u8>> = entries.iter().map(|e| e.entry.clone()).collect();
    let first = append_in(&mut *c, &bytes).await?;
    let openings: Vec<ScopedOpening> = entries
        .iter()
        .enumerate()
        .map(|(k, e)| ScopedOpening {
            index: first + k as u64,
            scope: scope.to_owned(),
            subject: e.subject.clone(),
            opening: e.opening.clone(),
        })
        .collect();
    keep_openings_in(c, &openings).await?;
    Ok(first)
}

/// Keeps openings of entries already appended, inside the caller's transaction; an entry
/// that has one keeps it.
pub async fn keep_openings_in(c: &mut PgConnection, openings: &[ScopedOpening]) -> StoreResult<()> {
    if openings.is_empty() {
        return Ok(());
    }
    let idx: Vec<i64> = openings
        .iter()
        .map(|o| to_i64(o.index))
        .collect::<StoreResult<_>>()?;
    let scopes: Vec<&str> = openings.iter().map(|o| o.scope.as_str()).collect();
    let subjects: Vec<&str> = openings.iter().map(|o| o.subject.as_str()).collect();
    let bytes: Vec<&[u8]> = openings.iter().map(|o| o.opening.as_slice()).collect();
    sqlx::query(
        "INSERT INTO tlog_openings (idx, scope, subject, opening) \
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bytea[]) \
         ON CONFLICT (idx) DO NOTHING",
    )
    .bind(&idx)
    .bind(&scopes)
    .bind(&subjects)
    .bind(&bytes)
    .execute(&mut *c)
    .await
    .map_err(db)?;
    Ok(())
}

/// Adds objects as [`objects::add_in`] does (which takes the store clock) and appends
/// `entries[i]` for every object added, in input order, keeping its opening in the
/// collection's scope, inside the caller's transaction: an object is stored if and only
/// if its entry is appended. `entries` has one item per object.
pub async fn add_objects_in(
    tx: &mut PgConnection,
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
    let outcomes = objects::add_in(&mut *tx, dicts, col, objects).await?;
    let added: Vec<OpenableEntry> = entries
        .into_iter()
        .zip(&outcomes)
        .filter(|(_, o)| matches!(o, AddOutcome::Added { .. }))
        .map(|(e, _)| e)
        .collect();
    append_openable_in(tx, &scope_of(Some(col)), &added).await?;
    Ok(outcomes)
}

/// The openings kept for `subject` under `scope`, with their entries, in log order.
pub async fn openings(pool: &PgPool, scope: &str, subject: &str) -> StoreResult<Vec<KeptOpening>> {
    let rows = sqlx::query(
        "SELECT o.idx, e.entry, o.opening FROM tlog_openings o \
         JOIN tlog_entries e ON e.idx = o.idx \
         WHERE o.scope = $1 AND o.subject = $2 ORDER BY o.idx",
    )
    .bind(scope)
    .bind(subject)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(KeptOpening {
                index: r.try_get::<i64, _>(0).map_err(db)? as u64,
                entry: r.try_get(1).map_err(db)?,
                opening: r.try_get(2).map_err(db)?,
            })
        })
        .collect()
}

/// The openings of entries `start..end`, in log order.
pub async fn openings_between(
    pool: &PgPool,
    start: u64,
    end: u64,
) -> StoreResult<Vec<ScopedOpening>> {
    let rows = sqlx::query(
        "SELECT idx, scope, subject, opening FROM tlog_openings \
         WHERE idx >= $1 AND idx < $2 ORDER BY idx",
    )
    .bind(to_i64(start)?)
    .bind(to_i64(end)?)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(ScopedOpening {
                index: r.try_get::<i64, _>(0).map_err(db)? as u64,
                scope: r.try_get(1).map_err(db)?,
                subject: r.try_get(2).map_err(db)?,
                opening: r.try_get(3).map_err(db)?,
            })
        })
        .collect()
}

/// Entries `start..end`.
pub async fn entries(pool: &PgPool, start: u64, end: u64) -> StoreResult<Vec<Vec<u8>>> {
    let mut c = pool.acquire().await.map_err(db)?;
    let size = size(&mut c).await?;
    if start > end || end > size {
        return Err(StoreError::NotFound(format!(
            "log entries {start}..{end} (the log has {size})"
        )));
    }
    sqlx::query_scalar("SELECT entry FROM tlog_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx")
        .bind(to_i64(start)?)
        .bind(to_i64(end)?)
        .fetch_all(&mut *c)
        .await
        .map_err(db)
}

/// Stored hashes at `indexes`, in the order asked, with one query.
pub async fn hashes(pool: &PgPool, indexes: &[u64]) -> StoreResult<Vec<Hash>> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<i64> = indexes
        .iter()
        .map(|&i| to_i64(i))
        .collect::<StoreResult<_>>()?;
    let rows = sqlx::query("SELECT idx, hash FROM tlog_hashes WHERE idx = ANY($1)")
        .bind(&wanted)
        .fetch_all(pool)
        .await
        .map_err(db)?;
    let mut found = HashMap::new();
    for r in rows {
        let idx: i64 = r.try_get(0).map_err(db)?;
        found.insert(idx as u64, r.try_get::<Vec<u8>, _>(1).map_err(db)?);
    }
    indexes
        .iter()
        .map(|i| match found.get(i) {
            Some(b) => to_hash(b.clone()),
            None => Err(StoreError::NotFound(format!("stored log hash {i}"))),
        })
        .collect()
}

/// Keeps a signed checkpoint; the first one stored for a size stays.
pub async fn put_checkpoint(pool: &PgPool, cp: &StoredCheckpoint) -> StoreResult<()> {
    sqlx::query("INSERT INTO tlog_checkpoints (size, note) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(to_i64(cp.size)?)
        .bind(&cp.note)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}

/// The checkpoint of the largest size.
pub async fn latest_checkpoint(pool: &PgPool) -> StoreResult<Option<StoredCheckpoint>> {
    let row = sqlx::query("SELECT size, note FROM tlog_checkpoints ORDER BY size DESC LIMIT 1")
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    row.map(|r| {
        Ok(StoredCheckpoint {
            size: r.try_get::<i64, _>(0).map_err(db)? as u64,
            note: r.try_get(1).map_err(db)?,
        })
    })
    .transpose()
}

/// The witnessed checkpoint of a peer log.
pub async fn witnessed(pool: &PgPool, origin: &str) -> StoreResult<Option<WitnessedCheckpoint>> {
    let row = sqlx::query("SELECT size, root, note FROM tlog_witnessed WHERE origin = $1")
        .bind(origin)
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    row.map(|r| {
        Ok(WitnessedCheckpoint {
            head: TreeHead {
                size: r.try_get::<i64, _>(0).map_err(db)? as u64,
                root: to_hash(r.try_get(1).map_err(db)?)?,
            },
            note: r.try_get(2).map_err(db)?,
        })
    })
    .transpose()
}

/// The atomic compare-and-swap of the witness state: one conditional statement.
pub async fn witness_swap(
    pool: &PgPool,
    origin: &str,
    expected: Option<TreeHead>,
    new: &WitnessedCheckpoint,
) -> StoreResult<bool> {
    let (size, root) = (to_i64(new.head.size)?, new.head.root.0.as_slice());
    let changed = match expected {
        None => {
            sqlx::query(
                "INSERT INTO tlog_witnessed (origin, size, root, note) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            )
            .bind(origin)
            .bind(size)
            .bind(root)
            .bind(&new.note)
            .execute(pool)
            .await
        }
        Some(old) => {
            sqlx::query(
                "UPDATE tlog_witnessed SET size = $2, root = $3, note = $4
             WHERE origin = $1 AND size = $5 AND root = $6",
            )
            .bind(origin)
            .bind(size)
            .bind(root)
            .bind(&new.note)
            .bind(to_i64(old.size)?)
            .bind(old.root.0.as_slice())
            .execute(pool)
            .await
        }
    }
    .map_err(db)?
    .rows_affected();
    Ok(changed == 1)
}

/// Adds or replaces a trusted peer log.
pub async fn trust(pool: &PgPool, log: &TrustedLog) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO tlog_trusted (origin, verifier_key) VALUES ($1, $2)
         ON CONFLICT (origin) DO UPDATE SET verifier_key = excluded.verifier_key",
    )
    .bind(&log.origin)
    .bind(&log.verifier_key)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(())
}

/// Every trusted peer log, by origin.
pub async fn trusted(pool: &PgPool) -> StoreResult<Vec<TrustedLog>> {
    let rows = sqlx::query("SELECT origin, verifier_key FROM tlog_trusted ORDER BY origin")
        .fetch_all(pool)
        .await
        .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(TrustedLog {
                origin: r.try_get(0).map_err(db)?,
                verifier_key: r.try_get(1).map_err(db)?,
            })
        })
        .collect()
}

fn cosignature_row(r: &sqlx::postgres::PgRow) -> StoreResult<CollectedCosignature> {
    Ok(CollectedCosignature {
        witness: r.try_get(0).map_err(db)?,
        size: r.try_get::<i64, _>(1).map_err(db)? as u64,
        checkpoint: r.try_get(2).map_err(db)?,
        line: r.try_get(3).map_err(db)?,
        received_at: r.try_get(4).map_err(db)?,
    })
}

/// Keeps (or replaces) a peer's cosignature of one size.
pub async fn put_cosignature(pool: &PgPool, cs: &CollectedCosignature) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO tlog_cosignatures (witness, size, checkpoint, line, received_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (witness, size) DO UPDATE SET checkpoint = excluded.checkpoint,
             line = excluded.line, received_at = excluded.received_at",
    )
    .bind(&cs.witness)
    .bind(to_i64(cs.size)?)
    .bind(&cs.checkpoint)
    .bind(&cs.line)
    .bind(cs.received_at)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(())
}

/// The cosignatures of one size, or of the largest size that has any.
pub async fn cosignatures(
    pool: &PgPool,
    size: Option<u64>,
) -> StoreResult<Vec<CollectedCosignature>> {
    let size = match size {
        Some(s) => to_i64(s)?,
        None => {
            let max: Option<i64> = sqlx::query_scalar("SELECT MAX(size) FROM tlog_cosignatures")
                .fetch_one(pool)
                .await
                .map_err(db)?;
            match max {
                Some(s) => s,
                None => return Ok(Vec::new()),
            }
        }
    };
    let rows = sqlx::query(
        "SELECT witness, size, checkpoint, line, received_at FROM tlog_cosignatures
         WHERE size = $1 ORDER BY witness",
    )
    .bind(size)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter().map(cosignature_row).collect()
}

/// The cosignature of the largest size from one witness.
pub async fn latest_cosignature(
    pool: &PgPool,
    witness: &str,
) -> StoreResult<Option<CollectedCosignature>> {
    let row = sqlx::query(
        "SELECT witness, size, checkpoint, line, received_at FROM tlog_cosignatures
         WHERE witness = $1 ORDER BY size DESC LIMIT 1",
    )
    .bind(witness)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(cosignature_row).transpose()
}

/// Keeps an alert unless one with the same digest is kept; returns its id when new.
pub async fn put_witness_alert(pool: &PgPool, a: &WitnessAlert) -> StoreResult<Option<u64>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO witness_alerts (at, peer, kind, detail, ours, theirs, proof, digest)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (digest) DO NOTHING RETURNING id",
    )
    .bind(a.at)
    .bind(&a.peer)
    .bind(a.kind.as_str())
    .bind(&a.detail)
    .bind(&a.ours)
    .bind(&a.theirs)
    .bind(&a.proof)
    .bind(&a.digest)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    Ok(id.map(|i| i as u64))
}

/// Every alert, oldest first.
pub async fn witness_alerts(pool: &PgPool) -> StoreResult<Vec<WitnessAlert>> {
    let rows = sqlx::query(
        "SELECT id, at, peer, kind, detail, ours, theirs, proof, digest FROM witness_alerts
         ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(WitnessAlert {
                id: r.try_get::<i64, _>(0).map_err(db)? as u64,
                at: r.try_get(1).map_err(db)?,
                peer: r.try_get(2).map_err(db)?,
                kind: r.try_get::<String, _>(3).map_err(db)?.parse()?,
                detail: r.try_get(4).map_err(db)?,
                ours: r.try_get(5).map_err(db)?,
                theirs: r.try_get(6).map_err(db)?,
                proof: r.try_get(7).map_err(db)?,
                digest: r.try_get(8).map_err(db)?,
            })
        })
        .collect()
}
