//! The federation's storage: a durable outbox per peer, with seqs handed out by a counter
//! row that the pushing transaction upserts (and so locks until it commits), and the
//! journal of envelopes received, which records an envelope and stores its objects in one
//! transaction. The store keeps envelopes and receipts as the node hands them and never
//! interprets them.

use comity_store::federation_storage::{
    attempts_from_sql, count_from_sql, limit_to_sql, pushed_seqs, seq_from_sql, seq_to_sql,
};
use comity_store::{
    AddOutcome, CollectionRef, InboxRecord, NewObject, OutboxEntry, OutboxItem, OutboxStats,
    StoreError, StoreResult,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use crate::error::{conflict_or_db, db};
use crate::{log, objects};

/// The columns [`entry_row`] reads.
const OUTBOX_COLUMNS: &str = "peer, seq, id, kind, created_at, body, delivered_at, receipt, \
                              attempts, next_attempt_at, last_error";

fn entry_row(r: &PgRow) -> StoreResult<OutboxEntry> {
    Ok(OutboxEntry {
        peer: r.try_get(0).map_err(db)?,
        seq: seq_from_sql(r.try_get(1).map_err(db)?)?,
        id: r.try_get(2).map_err(db)?,
        kind: r.try_get::<String, _>(3).map_err(db)?.parse()?,
        created_at: r.try_get(4).map_err(db)?,
        body: r.try_get(5).map_err(db)?,
        delivered_at: r.try_get(6).map_err(db)?,
        receipt: r.try_get(7).map_err(db)?,
        attempts: attempts_from_sql(r.try_get(8).map_err(db)?)?,
        next_attempt_at: r.try_get(9).map_err(db)?,
        last_error: r.try_get(10).map_err(db)?,
    })
}

/// Appends `items` to `peer`'s outbox in one transaction; `Conflict`, appending nothing,
/// when an id is taken.
pub async fn push(pool: &PgPool, peer: &str, items: &[OutboxItem]) -> StoreResult<Vec<u64>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = pool.begin().await.map_err(db)?;
    let seqs = push_in(&mut tx, peer, items).await?;
    tx.commit().await.map_err(db)?;
    Ok(seqs)
}

/// Appends `items` to `peer`'s outbox inside the caller's transaction, whose upsert of the
/// peer's counter row locks it until the transaction ends; `Conflict` when an id is taken,
/// and the caller's transaction then commits nothing.
pub async fn push_in(
    tx: &mut PgConnection,
    peer: &str,
    items: &[OutboxItem],
) -> StoreResult<Vec<u64>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let n = i64::try_from(items.len())
        .map_err(|_| StoreError::Backend("too many outbox items".into()))?;
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO outbox_counters (peer, last_seq) VALUES ($1, $2)
         ON CONFLICT (peer) DO UPDATE SET last_seq = outbox_counters.last_seq + excluded.last_seq
         RETURNING last_seq",
    )
    .bind(peer)
    .bind(n)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    let seqs = pushed_seqs(last, items.len())?;
    let seq_column: Vec<i64> = seqs
        .iter()
        .map(|&s| seq_to_sql(s))
        .collect::<StoreResult<_>>()?;
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let kinds: Vec<&str> = items.iter().map(|i| i.kind.as_str()).collect();
    let created: Vec<i64> = items.iter().map(|i| i.created_at).collect();
    let bodies: Vec<&str> = items.iter().map(|i| i.body.as_str()).collect();
    sqlx::query(
        "INSERT INTO outbox (peer, seq, id, kind, created_at, body, next_attempt_at)
         SELECT $1, s, i, k, c, b, c
         FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[])
              AS n(s, i, k, c, b)",
    )
    .bind(peer)
    .bind(&seq_column)
    .bind(&ids)
    .bind(&kinds)
    .bind(&created)
    .bind(&bodies)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        conflict_or_db(e, || {
            format!("an outbox entry for {peer:?} with one of the ids {ids:?}")
        })
    })?;
    Ok(seqs)
}

/// The undelivered entries of `peer` from the lowest one, if that one is due.
pub async fn due(
    pool: &PgPool,
    peer: &str,
    now: i64,
    limit: usize,
) -> StoreResult<Vec<OutboxEntry>> {
    sqlx::query(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox
         WHERE peer = $1 AND delivered_at IS NULL
           AND (SELECT next_attempt_at FROM outbox
                WHERE peer = $1 AND delivered_at IS NULL ORDER BY seq LIMIT 1) <= $2
         ORDER BY seq LIMIT $3"
    ))
    .bind(peer)
    .bind(now)
    .bind(limit_to_sql(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(entry_row)
    .collect()
}

/// Every entry of `peer` after `after_seq`, in seq order.
pub async fn after(
    pool: &PgPool,
    peer: &str,
    after_seq: u64,
    limit: usize,
) -> StoreResult<Vec<OutboxEntry>> {
    sqlx::query(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE peer = $1 AND seq > $2
         ORDER BY seq LIMIT $3"
    ))
    .bind(peer)
    .bind(seq_to_sql(after_seq).unwrap_or(i64::MAX))
    .bind(limit_to_sql(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(entry_row)
    .collect()
}

fn no_entry(peer: &str, seq: u64) -> StoreError {
    StoreError::NotFound(format!("outbox entry {seq} for {peer:?}"))
}

/// Marks an entry delivered unless it is already (then `false`); `NotFound` when absent.
/// One statement, so concurrent receipts keep the first.
pub async fn delivered(
    pool: &PgPool,
    peer: &str,
    seq: u64,
    at: i64,
    receipt: &str,
) -> StoreResult<bool> {
    let Ok(n) = seq_to_sql(seq) else {
        return Err(no_entry(peer, seq));
    };
    let (marked, exists): (bool, bool) = sqlx::query_as(
        "WITH marked AS (
             UPDATE outbox SET delivered_at = $3, receipt = $4
             WHERE peer = $1 AND seq = $2 AND delivered_at IS NULL RETURNING 1
         )
         SELECT EXISTS (SELECT 1 FROM marked),
                EXISTS (SELECT 1 FROM outbox WHERE peer = $1 AND seq = $2)",
    )
    .bind(peer)
    .bind(n)
    .bind(at)
    .bind(receipt)
    .fetch_one(pool)
    .await
    .map_err(db)?;
    if exists {
        Ok(marked)
    } else {
        Err(no_entry(peer, seq))
    }
}

/// Records a failed attempt; `NotFound` when the entry is absent.
pub async fn failed(
    pool: &PgPool,
    peer: &str,
    seq: u64,
    error: &str,
    next_attempt_at: i64,
) -> StoreResult<()> {
    let Ok(n) = seq_to_sql(seq) else {
        return Err(no_entry(peer, seq));
    };
    let changed = sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $3, next_attempt_at = $4
         WHERE peer = $1 AND seq = $2",
    )
    .bind(peer)
    .bind(n)
    .bind(error)
    .bind(next_attempt_at)
    .execute(pool)
    .await
    .map_err(db)?
    .rows_affected();
    if changed == 0 {
        return Err(no_entry(peer, seq));
    }
    Ok(())
}

/// The peers with undelivered entries, by peer (byte-wise: the column collates as "C").
pub async fn peers(pool: &PgPool) -> StoreResult<Vec<String>> {
    sqlx::query_scalar(
        "SELECT peer FROM outbox_counters p
         WHERE EXISTS (SELECT 1 FROM outbox WHERE peer = p.peer AND delivered_at IS NULL)
         ORDER BY peer",
    )
    .fetch_all(pool)
    .await
    .map_err(db)
}

/// Stores outbox entries copied from another store as they are (seq, delivery, receipt,
/// attempts), skipping those stored already, and raises the peer's counter to at least
/// `last_seq`, in one transaction: the next envelope pushed for the peer follows the
/// source's last one, so the peer sees no gap and no reused number.
pub async fn restore(
    pool: &PgPool,
    peer: &str,
    last_seq: u64,
    entries: &[OutboxEntry],
) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query(
        "INSERT INTO outbox_counters (peer, last_seq) VALUES ($1, $2)
         ON CONFLICT (peer) DO UPDATE
         SET last_seq = GREATEST(outbox_counters.last_seq, excluded.last_seq)",
    )
    .bind(peer)
    .bind(seq_to_sql(last_seq)?)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    for e in entries {
        sqlx::query(&format!(
            "INSERT INTO outbox ({OUTBOX_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (peer, seq) DO NOTHING"
        ))
        .bind(peer)
        .bind(seq_to_sql(e.seq)?)
        .bind(&e.id)
        .bind(e.kind.as_str())
        .bind(e.created_at)
        .bind(&e.body)
        .bind(e.delivered_at)
        .bind(&e.receipt)
        .bind(i64::from(e.attempts))
        .bind(e.next_attempt_at)
        .bind(&e.last_error)
        .execute(&mut *tx)
        .await
        .map_err(|err| conflict_or_db(err, || format!("outbox entry {:?} of {peer:?}", e.id)))?;
    }
    tx.commit().await.map_err(db)
}

/// The figures of every peer with an entry, by peer; index look-ups per peer, no scan of
/// delivered entries.
pub async fn stats(pool: &PgPool) -> StoreResult<Vec<OutboxStats>> {
    sqlx::query(
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
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(|r| {
        Ok(OutboxStats {
            peer: r.try_get(0).map_err(db)?,
            pending: count_from_sql(r.try_get(1).map_err(db)?)?,
            oldest_pending_at: r.try_get(2).map_err(db)?,
            last_seq: seq_from_sql(r.try_get(3).map_err(db)?)?,
            delivered_seq: seq_from_sql(r.try_get(4).map_err(db)?)?,
        })
    })
    .collect()
}

/// The columns [`record_row`] reads.
const INBOX_COLUMNS: &str = "sender, id, seq, kind, received_at, outcome, reason, receipt";

fn record_row(r: &PgRow) -> StoreResult<InboxRecord> {
    Ok(InboxRecord {
        sender: r.try_get(0).map_err(db)?,
        id: r.try_get(1).map_err(db)?,
        seq: seq_from_sql(r.try_get(2).map_err(db)?)?,
        kind: r.try_get(3).map_err(db)?,
        received_at: r.try_get(4).map_err(db)?,
        outcome: r.try_get::<String, _>(5).map_err(db)?.parse()?,
        reason: r.try_get(6).map_err(db)?,
        receipt: r.try_get(7).map_err(db)?,
    })
}

/// The record of envelope `id` from `sender`.
pub async fn record(pool: &PgPool, sender: &str, id: &str) -> StoreResult<Option<InboxRecord>> {
    sqlx::query(&format!(
        "SELECT {INBOX_COLUMNS} FROM inbox WHERE sender = $1 AND id = $2"
    ))
    .bind(sender)
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db)?
    .as_ref()
    .map(record_row)
    .transpose()
}

/// The highest seq delivered from `sender`, 0 if none.
pub async fn last_seq(pool: &PgPool, sender: &str) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM inbox WHERE sender = $1")
        .bind(sender)
        .fetch_one(pool)
        .await
        .map_err(db)?;
    seq_from_sql(n)
}

/// Every sender with a record, by sender.
pub async fn senders(pool: &PgPool) -> StoreResult<Vec<String>> {
    sqlx::query_scalar("SELECT DISTINCT sender FROM inbox ORDER BY sender")
        .fetch_all(pool)
        .await
        .map_err(db)
}

/// The records of `sender` above `after_seq`, in seq order, at most `limit`.
pub async fn records_after(
    pool: &PgPool,
    sender: &str,
    after_seq: u64,
    limit: usize,
) -> StoreResult<Vec<InboxRecord>> {
    sqlx::query(&format!(
        "SELECT {INBOX_COLUMNS} FROM inbox WHERE sender = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    ))
    .bind(sender)
    .bind(seq_to_sql(after_seq).unwrap_or(i64::MAX))
    .bind(limit_to_sql(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(record_row)
    .collect()
}

/// Inserts a record unless its sender and id are recorded (then `false`). Only that
/// conflict is ignored: another record of the sender with the same sequence number is a
/// `Conflict`, and a record breaking another rule is an error.
async fn put_in(c: &mut PgConnection, r: &InboxRecord) -> StoreResult<bool> {
    let inserted = sqlx::query(&format!(
        "INSERT INTO inbox ({INBOX_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (sender, id) DO NOTHING"
    ))
    .bind(&r.sender)
    .bind(&r.id)
    .bind(seq_to_sql(r.seq)?)
    .bind(&r.kind)
    .bind(r.received_at)
    .bind(r.outcome.as_str())
    .bind(&r.reason)
    .bind(&r.receipt)
    .execute(c)
    .await
    .map_err(|e| {
        conflict_or_db(e, || {
            format!(
                "an inbox record of {:?} with sequence number {}",
                r.sender, r.seq
            )
        })
    })?
    .rows_affected();
    Ok(inserted == 1)
}

/// Records an envelope unless its sender and id are recorded (then `false`).
pub async fn put(pool: &PgPool, r: &InboxRecord) -> StoreResult<bool> {
    let mut c = pool.acquire().await.map_err(db)?;
    put_in(&mut c, r).await
}

/// Records an envelope and stores its objects in one transaction; `None`, changing
/// nothing, when the envelope is recorded already. The record is inserted first: a
/// concurrent apply of the same envelope waits on it and then finds it recorded.
pub async fn apply(
    pool: &PgPool,
    dicts: &comity_store::packing::Dictionaries,
    record: &InboxRecord,
    col: &CollectionRef,
    objects: &[NewObject],
    log_entries: Vec<comity_store::OpenableEntry>,
) -> StoreResult<Option<Vec<AddOutcome>>> {
    let mut tx = pool.begin().await.map_err(db)?;
    if !put_in(&mut tx, record).await? {
        return Ok(None);
    }
    let outcomes = if log_entries.is_empty() {
        objects::add_in(&mut tx, dicts, col, objects).await?
    } else {
        log::add_objects_in(&mut tx, dicts, col, objects, log_entries).await?
    };
    tx.commit().await.map_err(db)?;
    Ok(Some(outcomes))
}

/// Removes a member's registry entry and its waiting envelopes, in one transaction; the
/// peer's counter goes back to its last delivered seq.
pub async fn remove_member(pool: &PgPool, id: &str) -> StoreResult<u64> {
    let mut tx = pool.begin().await.map_err(db)?;
    let removed = sqlx::query("DELETE FROM registry WHERE kind = 'member' AND id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
    if removed == 0 {
        return Err(StoreError::NotFound(format!("member {id:?}")));
    }
    let dropped = sqlx::query("DELETE FROM outbox WHERE peer = $1 AND delivered_at IS NULL")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
    sqlx::query(
        "UPDATE outbox_counters
         SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM outbox WHERE peer = $1)
         WHERE peer = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(dropped)
}
