//! The federation's storage: a durable outbox per peer, with seqs handed out by a counter
//! row bumped inside the pushing transaction, and the journal of envelopes received,
//! which records an envelope and stores its objects in one transaction. The store keeps
//! envelopes and receipts as the node hands them and never interprets them.

use comity_store::federation_storage::{
    attempts_from_sql, count_from_sql, limit_to_sql, pushed_seqs, seq_from_sql, seq_to_sql,
};
use comity_store::{
    AddOutcome, CollectionRef, InboxRecord, NewObject, OutboxEntry, OutboxItem, OutboxStats,
    StoreError, StoreResult,
};
use rusqlite::{params, Connection, OptionalExtension, Params, Row, Statement};

use crate::{conflict_or_db, db, in_transaction, log, objects};

/// The columns [`entry_row`] reads.
const OUTBOX_COLUMNS: &str = "peer, seq, id, kind, created_at, body, delivered_at, receipt, \
                              attempts, next_attempt_at, last_error";

fn entry_row(r: &Row<'_>) -> StoreResult<OutboxEntry> {
    Ok(OutboxEntry {
        peer: r.get(0).map_err(db)?,
        seq: seq_from_sql(r.get(1).map_err(db)?)?,
        id: r.get(2).map_err(db)?,
        kind: r.get::<_, String>(3).map_err(db)?.parse()?,
        created_at: r.get(4).map_err(db)?,
        body: r.get(5).map_err(db)?,
        delivered_at: r.get(6).map_err(db)?,
        receipt: r.get(7).map_err(db)?,
        attempts: attempts_from_sql(r.get(8).map_err(db)?)?,
        next_attempt_at: r.get(9).map_err(db)?,
        last_error: r.get(10).map_err(db)?,
    })
}

/// Every row of a query, each read by `read`.
fn all_rows<T>(
    stmt: &mut Statement<'_>,
    params: impl Params,
    read: impl Fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut rows = stmt.query(params).map_err(db)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        out.push(read(row)?);
    }
    Ok(out)
}

/// Appends `items` to `peer`'s outbox in one `IMMEDIATE` transaction; `Conflict`,
/// appending nothing, when an id is taken.
pub fn push(c: &mut Connection, peer: &str, items: &[OutboxItem]) -> StoreResult<Vec<u64>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    in_transaction(c, |tx| push_in(tx, peer, items))
}

/// Appends `items` to `peer`'s outbox inside the caller's transaction; `Conflict` when an
/// id is taken, and the caller's transaction then commits nothing.
pub fn push_in(tx: &Connection, peer: &str, items: &[OutboxItem]) -> StoreResult<Vec<u64>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let n = i64::try_from(items.len())
        .map_err(|_| StoreError::Backend("too many outbox items".into()))?;
    let last: i64 = tx
        .prepare_cached(
            "INSERT INTO outbox_counters (peer, last_seq) VALUES (?1, ?2)
             ON CONFLICT (peer) DO UPDATE SET last_seq = last_seq + excluded.last_seq
             RETURNING last_seq",
        )
        .map_err(db)?
        .query_row(params![peer, n], |r| r.get(0))
        .map_err(db)?;
    let seqs = pushed_seqs(last, items.len())?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO outbox (peer, seq, id, kind, created_at, body, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5)",
        )
        .map_err(db)?;
    for (item, &seq) in items.iter().zip(&seqs) {
        insert
            .execute(params![
                peer,
                seq_to_sql(seq)?,
                item.id,
                item.kind.as_str(),
                item.created_at,
                item.body
            ])
            .map_err(|e| {
                conflict_or_db(e, || format!("outbox entry {:?} for {peer:?}", item.id))
            })?;
    }
    Ok(seqs)
}

/// The undelivered entries of `peer` from the lowest one, if that one is due.
pub fn due(c: &Connection, peer: &str, now: i64, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox
             WHERE peer = ?1 AND delivered_at IS NULL
               AND (SELECT next_attempt_at FROM outbox
                    WHERE peer = ?1 AND delivered_at IS NULL ORDER BY seq LIMIT 1) <= ?2
             ORDER BY seq LIMIT ?3"
        ))
        .map_err(db)?;
    all_rows(
        &mut stmt,
        params![peer, now, limit_to_sql(limit)],
        entry_row,
    )
}

/// Every entry of `peer` after `after_seq`, in seq order.
pub fn after(
    c: &Connection,
    peer: &str,
    after_seq: u64,
    limit: usize,
) -> StoreResult<Vec<OutboxEntry>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE peer = ?1 AND seq > ?2
             ORDER BY seq LIMIT ?3"
        ))
        .map_err(db)?;
    let after_seq = seq_to_sql(after_seq).unwrap_or(i64::MAX);
    all_rows(
        &mut stmt,
        params![peer, after_seq, limit_to_sql(limit)],
        entry_row,
    )
}

/// Whether the entry exists, read inside the caller's transaction.
fn entry_exists(c: &Connection, peer: &str, seq: i64) -> StoreResult<bool> {
    Ok(
        c.prepare_cached("SELECT 1 FROM outbox WHERE peer = ?1 AND seq = ?2")
            .map_err(db)?
            .query_row(params![peer, seq], |_| Ok(()))
            .optional()
            .map_err(db)?
            .is_some(),
    )
}

fn no_entry(peer: &str, seq: u64) -> StoreError {
    StoreError::NotFound(format!("outbox entry {seq} for {peer:?}"))
}

/// Marks an entry delivered unless it is already (then `false`); `NotFound` when absent.
pub fn delivered(
    c: &mut Connection,
    peer: &str,
    seq: u64,
    at: i64,
    receipt: &str,
) -> StoreResult<bool> {
    let Ok(n) = seq_to_sql(seq) else {
        return Err(no_entry(peer, seq));
    };
    in_transaction(c, |tx| {
        let changed = tx
            .prepare_cached(
                "UPDATE outbox SET delivered_at = ?3, receipt = ?4
                 WHERE peer = ?1 AND seq = ?2 AND delivered_at IS NULL",
            )
            .map_err(db)?
            .execute(params![peer, n, at, receipt])
            .map_err(db)?;
        if changed == 1 {
            Ok(true)
        } else if entry_exists(tx, peer, n)? {
            Ok(false)
        } else {
            Err(no_entry(peer, seq))
        }
    })
}

/// Records a failed attempt; `NotFound` when the entry is absent.
pub fn failed(
    c: &Connection,
    peer: &str,
    seq: u64,
    error: &str,
    next_attempt_at: i64,
) -> StoreResult<()> {
    let Ok(n) = seq_to_sql(seq) else {
        return Err(no_entry(peer, seq));
    };
    let changed = c
        .prepare_cached(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?3, next_attempt_at = ?4
             WHERE peer = ?1 AND seq = ?2",
        )
        .map_err(db)?
        .execute(params![peer, n, error, next_attempt_at])
        .map_err(db)?;
    if changed == 0 {
        return Err(no_entry(peer, seq));
    }
    Ok(())
}

/// The peers with undelivered entries, by peer.
pub fn peers(c: &Connection) -> StoreResult<Vec<String>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT peer FROM outbox_counters p
             WHERE EXISTS (SELECT 1 FROM outbox WHERE peer = p.peer AND delivered_at IS NULL)
             ORDER BY peer",
        )
        .map_err(db)?;
    all_rows(&mut stmt, [], |r| r.get(0).map_err(db))
}

/// The figures of every peer with an entry, by peer; index look-ups per peer, no scan of
/// delivered entries.
pub fn stats(c: &Connection) -> StoreResult<Vec<OutboxStats>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT p.peer,
                    (SELECT count(*) FROM outbox
                     WHERE peer = p.peer AND delivered_at IS NULL),
                    (SELECT min(created_at) FROM outbox
                     WHERE peer = p.peer AND delivered_at IS NULL),
                    (SELECT max(seq) FROM outbox WHERE peer = p.peer),
                    coalesce((SELECT seq FROM outbox
                              WHERE peer = p.peer AND delivered_at IS NOT NULL
                              ORDER BY seq DESC LIMIT 1), 0)
             FROM outbox_counters p
             WHERE EXISTS (SELECT 1 FROM outbox WHERE peer = p.peer)
             ORDER BY p.peer",
        )
        .map_err(db)?;
    all_rows(&mut stmt, [], |r| {
        Ok(OutboxStats {
            peer: r.get(0).map_err(db)?,
            pending: count_from_sql(r.get(1).map_err(db)?)?,
            oldest_pending_at: r.get(2).map_err(db)?,
            last_seq: seq_from_sql(r.get(3).map_err(db)?)?,
            delivered_seq: seq_from_sql(r.get(4).map_err(db)?)?,
        })
    })
}

/// The columns [`record_row`] reads.
const INBOX_COLUMNS: &str = "sender, id, seq, kind, received_at, outcome, reason, receipt";

fn record_row(r: &Row<'_>) -> StoreResult<InboxRecord> {
    Ok(InboxRecord {
        sender: r.get(0).map_err(db)?,
        id: r.get(1).map_err(db)?,
        seq: seq_from_sql(r.get(2).map_err(db)?)?,
        kind: r.get(3).map_err(db)?,
        received_at: r.get(4).map_err(db)?,
        outcome: r.get::<_, String>(5).map_err(db)?.parse()?,
        reason: r.get(6).map_err(db)?,
        receipt: r.get(7).map_err(db)?,
    })
}

/// The record of envelope `id` from `sender`.
pub fn record(c: &Connection, sender: &str, id: &str) -> StoreResult<Option<InboxRecord>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {INBOX_COLUMNS} FROM inbox WHERE sender = ?1 AND id = ?2"
        ))
        .map_err(db)?;
    Ok(all_rows(&mut stmt, params![sender, id], record_row)?.pop())
}

/// The highest seq delivered from `sender`, 0 if none.
pub fn last_seq(c: &Connection, sender: &str) -> StoreResult<u64> {
    let n: i64 = c
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM inbox WHERE sender = ?1")
        .map_err(db)?
        .query_row(params![sender], |r| r.get(0))
        .map_err(db)?;
    seq_from_sql(n)
}

/// Every sender with a record, by sender.
pub fn senders(c: &Connection) -> StoreResult<Vec<String>> {
    let mut stmt = c
        .prepare_cached("SELECT DISTINCT sender FROM inbox ORDER BY sender")
        .map_err(db)?;
    all_rows(&mut stmt, params![], |r| r.get(0).map_err(db))
}

/// The records of `sender` above `after_seq`, in seq order, at most `limit`.
pub fn records_after(
    c: &Connection,
    sender: &str,
    after_seq: u64,
    limit: usize,
) -> StoreResult<Vec<InboxRecord>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {INBOX_COLUMNS} FROM inbox WHERE sender = ?1 AND seq > ?2
             ORDER BY seq LIMIT ?3"
        ))
        .map_err(db)?;
    all_rows(
        &mut stmt,
        params![
            sender,
            seq_to_sql(after_seq).unwrap_or(i64::MAX),
            limit_to_sql(limit)
        ],
        record_row,
    )
}

/// Inserts a record unless its sender and id are recorded (then `false`). Only that
/// conflict is ignored: a record breaking another rule is an error.
pub fn put(c: &Connection, r: &InboxRecord) -> StoreResult<bool> {
    let changed = c
        .prepare_cached(&format!(
            "INSERT INTO inbox ({INBOX_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (sender, id) DO NOTHING"
        ))
        .map_err(db)?
        .execute(params![
            r.sender,
            r.id,
            seq_to_sql(r.seq)?,
            r.kind,
            r.received_at,
            r.outcome.as_str(),
            r.reason,
            r.receipt
        ])
        .map_err(|e| {
            conflict_or_db(e, || {
                format!(
                    "an inbox record of {:?} with sequence number {}",
                    r.sender, r.seq
                )
            })
        })?;
    Ok(changed == 1)
}

/// Records an envelope and stores its objects in one `IMMEDIATE` transaction; `None`,
/// changing nothing, when the envelope is recorded already.
pub fn apply(
    c: &mut Connection,
    dicts: &comity_store::packing::Dictionaries,
    record: &InboxRecord,
    col: &CollectionRef,
    objects: &[NewObject],
    log_entries: Vec<comity_store::OpenableEntry>,
) -> StoreResult<Option<Vec<AddOutcome>>> {
    in_transaction(c, |tx| {
        if !put(tx, record)? {
            return Ok(None);
        }
        let outcomes = if log_entries.is_empty() {
            objects::add_in(tx, dicts, col, objects)?
        } else {
            log::add_objects_in(tx, dicts, col, objects, log_entries)?
        };
        Ok(Some(outcomes))
    })
}

/// Removes a member's registry entry and its waiting envelopes; the peer's counter goes
/// back to its last delivered seq (the caller's savepoint makes it one transaction).
pub fn remove_member(c: &Connection, id: &str) -> StoreResult<u64> {
    let removed = c
        .prepare_cached("DELETE FROM registry WHERE kind = 'member' AND id = ?1")
        .map_err(db)?
        .execute(params![id])
        .map_err(db)?;
    if removed == 0 {
        return Err(StoreError::NotFound(format!("member {id:?}")));
    }
    let dropped = c
        .prepare_cached("DELETE FROM outbox WHERE peer = ?1 AND delivered_at IS NULL")
        .map_err(db)?
        .execute(params![id])
        .map_err(db)?;
    c.prepare_cached(
        "UPDATE outbox_counters
         SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM outbox WHERE peer = ?1)
         WHERE peer = ?1",
    )
    .map_err(db)?
    .execute(params![id])
    .map_err(db)?;
    Ok(dropped as u64)
}
