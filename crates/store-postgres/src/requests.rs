//! Cooperation requests: a header per request and its signed events, in order. An event
//! is appended in one transaction with its header, its log entry and the envelope that
//! tells the other party; the transaction takes the store clock first (as every log
//! append does), so appends are serialised across processes and the order checks read
//! what the previous append committed. The store checks only the order (event `n` after
//! event `n - 1`, once) and never interprets a request's kind, state or document.

use comity_store::federation_storage::{count_from_sql, limit_to_sql, seq_to_sql};
use comity_store::{
    AttachmentTransfer, RequestAppend, RequestEvent, RequestFilter, RequestRecord, StoreError,
    StoreResult, REQUEST_SCOPE,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};

use crate::error::{conflict_or_db, db};
use crate::{federation, log, objects};

/// The columns [`record_row`] reads, in the order [`upsert_header`] writes them.
const REQUEST_COLUMNS: &str = "id, kind, requester, requested, state, emergency, created_at, \
                               updated_at, due_at, events, document";

/// The columns [`event_row`] reads.
const EVENT_COLUMNS: &str = "request, n, actor, act, at, sha256, json";

fn record_row(r: &PgRow) -> StoreResult<RequestRecord> {
    Ok(RequestRecord {
        id: r.try_get(0).map_err(db)?,
        kind: r.try_get(1).map_err(db)?,
        requester: r.try_get(2).map_err(db)?,
        requested: r.try_get(3).map_err(db)?,
        state: r.try_get(4).map_err(db)?,
        emergency: r.try_get(5).map_err(db)?,
        created_at: r.try_get(6).map_err(db)?,
        updated_at: r.try_get(7).map_err(db)?,
        due_at: r.try_get(8).map_err(db)?,
        events: count_from_sql(r.try_get(9).map_err(db)?)?,
        document: r.try_get(10).map_err(db)?,
    })
}

fn event_row(r: &PgRow) -> StoreResult<RequestEvent> {
    Ok(RequestEvent {
        request: r.try_get(0).map_err(db)?,
        n: count_from_sql(r.try_get(1).map_err(db)?)?,
        actor: r.try_get(2).map_err(db)?,
        act: r.try_get(3).map_err(db)?,
        at: r.try_get(4).map_err(db)?,
        sha256: r.try_get(5).map_err(db)?,
        json: r.try_get(6).map_err(db)?,
    })
}

/// Inserts `h`, or replaces the stored header of its id when `replace_if` (a condition on
/// the stored row) holds; the number of rows written.
async fn upsert_header(
    c: &mut PgConnection,
    h: &RequestRecord,
    replace_if: &str,
) -> StoreResult<u64> {
    Ok(sqlx::query(&format!(
        "INSERT INTO requests ({REQUEST_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET
             kind = excluded.kind, requester = excluded.requester,
             requested = excluded.requested, state = excluded.state,
             emergency = excluded.emergency, created_at = excluded.created_at,
             updated_at = excluded.updated_at, due_at = excluded.due_at,
             events = excluded.events, document = excluded.document
         WHERE {replace_if}"
    ))
    .bind(&h.id)
    .bind(&h.kind)
    .bind(&h.requester)
    .bind(&h.requested)
    .bind(&h.state)
    .bind(h.emergency)
    .bind(h.created_at)
    .bind(h.updated_at)
    .bind(h.due_at)
    .bind(seq_to_sql(h.events)?)
    .bind(&h.document)
    .execute(c)
    .await
    .map_err(db)?
    .rows_affected())
}

/// Stores a request copied from another store, its header and every event as they are,
/// in one transaction; a request stored already is left as it is (a resumed copy). Its
/// log entries travel with the log, and its envelopes with the outbox.
pub async fn restore(
    pool: &PgPool,
    header: &RequestRecord,
    events: &[RequestEvent],
) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    if upsert_header(&mut tx, header, "false").await? == 0 {
        return Ok(());
    }
    for e in events {
        sqlx::query(&format!(
            "INSERT INTO request_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&e.request)
        .bind(seq_to_sql(e.n)?)
        .bind(&e.actor)
        .bind(&e.act)
        .bind(e.at)
        .bind(&e.sha256)
        .bind(&e.json)
        .execute(&mut *tx)
        .await
        .map_err(|err| {
            conflict_or_db(err, || format!("event {} of request {:?}", e.n, e.request))
        })?;
    }
    tx.commit().await.map_err(db)
}

/// Saves a draft: inserts it, or replaces a stored draft with no events; `Conflict`
/// otherwise, changing nothing. One statement, so it is atomic on its own.
pub async fn save_draft(pool: &PgPool, h: &RequestRecord) -> StoreResult<()> {
    if h.events != 0 {
        return Err(StoreError::Backend(format!(
            "a draft of request {:?} with {} events",
            h.id, h.events
        )));
    }
    let mut c = pool.acquire().await.map_err(db)?;
    let written = upsert_header(
        &mut c,
        h,
        "requests.state = 'draft' AND requests.events = 0",
    )
    .await?;
    if written == 0 {
        return Err(StoreError::Conflict(format!(
            "request {:?} past its draft",
            h.id
        )));
    }
    Ok(())
}

/// Appends one event with its header, log entry and envelope in one transaction; `false`,
/// changing nothing, when the same event is stored already.
pub async fn append(pool: &PgPool, a: &RequestAppend) -> StoreResult<bool> {
    let (h, e) = (&a.header, &a.event);
    if h.id != e.request || h.events != e.n || e.n == 0 {
        return Err(StoreError::Backend(format!(
            "event {} of request {:?} comes with the header of request {:?} at {} events",
            e.n, e.request, h.id, h.events
        )));
    }
    let n = seq_to_sql(e.n)?;
    let transfers = a.new_transfers()?;
    let mut tx = pool.begin().await.map_err(db)?;
    // The clock first: a concurrent append waits here, then reads what this one committed.
    objects::lock_clock(&mut tx).await?;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT sha256 FROM request_events WHERE request = $1 AND n = $2")
            .bind(&e.request)
            .bind(n)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
    match (stored, &a.replaces) {
        (Some(sha256), _) if sha256 == e.sha256 => return Ok(false),
        (Some(sha256), Some(replaced)) if sha256 == *replaced => {
            sqlx::query("DELETE FROM request_events WHERE request = $1 AND n >= $2")
                .bind(&e.request)
                .bind(n)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            sqlx::query("UPDATE requests SET events = $2 WHERE id = $1")
                .bind(&e.request)
                .bind(n - 1)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        (Some(_), _) => {
            return Err(StoreError::Conflict(format!(
                "another event {} of request {:?}",
                e.n, e.request
            )))
        }
        (None, _) => {}
    }
    let before: Option<i64> = sqlx::query_scalar("SELECT events FROM requests WHERE id = $1")
        .bind(&e.request)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    let before = before.unwrap_or(0);
    if before != n - 1 {
        return Err(StoreError::Conflict(format!(
            "event {} of request {:?}, which holds {before} events",
            e.n, e.request
        )));
    }
    upsert_header(&mut tx, h, "true").await?;
    sqlx::query(&format!(
        "INSERT INTO request_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(&e.request)
    .bind(n)
    .bind(&e.actor)
    .bind(&e.act)
    .bind(e.at)
    .bind(&e.sha256)
    .bind(&e.json)
    .execute(&mut *tx)
    .await
    .map_err(|err| conflict_or_db(err, || format!("event {} of request {:?}", e.n, e.request)))?;
    log::append_openable_in(&mut tx, REQUEST_SCOPE, std::slice::from_ref(&a.log_entry)).await?;
    if let Some((peer, item)) = &a.send {
        federation::push_in(&mut tx, peer, std::slice::from_ref(item)).await?;
    }
    for t in &transfers {
        sqlx::query(
            "INSERT INTO request_transfers (request, sha256, member) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&t.request)
        .bind(&t.sha256)
        .bind(&t.member)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(true)
}

/// The pending attachment transfers, of request `request` only when given.
pub async fn transfers(
    pool: &PgPool,
    request: Option<&str>,
) -> StoreResult<Vec<AttachmentTransfer>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT request, sha256, member FROM request_transfers \
         WHERE $1::TEXT IS NULL OR request = $1 ORDER BY request, sha256, member",
    )
    .bind(request)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(request, sha256, member)| AttachmentTransfer {
            request,
            sha256,
            member,
        })
        .collect())
}

/// Ends pending transfer `t`, if it is pending.
pub async fn end_transfer(pool: &PgPool, t: &AttachmentTransfer) -> StoreResult<()> {
    sqlx::query("DELETE FROM request_transfers WHERE request = $1 AND sha256 = $2 AND member = $3")
        .bind(&t.request)
        .bind(&t.sha256)
        .bind(&t.member)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}

/// The header of request `id`.
pub async fn request(pool: &PgPool, id: &str) -> StoreResult<Option<RequestRecord>> {
    sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db)?
    .as_ref()
    .map(record_row)
    .transpose()
}

/// The events of request `id`, in order.
pub async fn events(pool: &PgPool, id: &str) -> StoreResult<Vec<RequestEvent>> {
    sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM request_events WHERE request = $1 ORDER BY n"
    ))
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(event_row)
    .collect()
}

/// The headers `f` selects, most recently updated first, ties by id descending.
pub async fn list(pool: &PgPool, f: &RequestFilter) -> StoreResult<Vec<RequestRecord>> {
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE TRUE"));
    if let Some(partner) = &f.partner {
        q.push(" AND (requester = ")
            .push_bind(partner.clone())
            .push(" OR requested = ")
            .push_bind(partner.clone())
            .push(")");
    }
    if let Some(kind) = &f.kind {
        q.push(" AND kind = ").push_bind(kind.clone());
    }
    if let Some(state) = &f.state {
        q.push(" AND state = ").push_bind(state.clone());
    }
    if let Some(due_before) = f.due_before {
        q.push(" AND due_at IS NOT NULL AND due_at < ")
            .push_bind(due_before);
    }
    if let Some((updated_at, id)) = &f.before {
        q.push(" AND (updated_at, id) < (")
            .push_bind(*updated_at)
            .push(", ")
            .push_bind(id.clone())
            .push(")");
    }
    q.push(" ORDER BY updated_at DESC, id DESC LIMIT ")
        .push_bind(limit_to_sql(f.limit));
    q.build()
        .fetch_all(pool)
        .await
        .map_err(db)?
        .iter()
        .map(record_row)
        .collect()
}
