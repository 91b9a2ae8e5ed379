//! Cooperation requests: a header per request and its signed events, in order. An event
//! is appended in one `IMMEDIATE` transaction with its header, its log entry and the
//! envelope that tells the other party; the store checks only the order (event `n` after
//! event `n - 1`, once) and never interprets a request's kind, state or document.

use comity_store::federation_storage::{count_from_sql, limit_to_sql, seq_to_sql};
use comity_store::{
    AttachmentTransfer, RequestAppend, RequestEvent, RequestFilter, RequestRecord, StoreError,
    StoreResult, REQUEST_SCOPE,
};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use crate::{conflict_or_db, db, federation, in_transaction, log};

/// The columns [`record_row`] reads, in the order [`upsert_header`] writes them.
const REQUEST_COLUMNS: &str = "id, kind, requester, requested, state, emergency, created_at, \
                               updated_at, due_at, events, document";

/// The columns [`event_row`] reads.
const EVENT_COLUMNS: &str = "request, n, actor, act, at, sha256, json";

fn record_row(r: &Row<'_>) -> StoreResult<RequestRecord> {
    Ok(RequestRecord {
        id: r.get(0).map_err(db)?,
        kind: r.get(1).map_err(db)?,
        requester: r.get(2).map_err(db)?,
        requested: r.get(3).map_err(db)?,
        state: r.get(4).map_err(db)?,
        emergency: r.get(5).map_err(db)?,
        created_at: r.get(6).map_err(db)?,
        updated_at: r.get(7).map_err(db)?,
        due_at: r.get(8).map_err(db)?,
        events: count_from_sql(r.get(9).map_err(db)?)?,
        document: r.get(10).map_err(db)?,
    })
}

fn event_row(r: &Row<'_>) -> StoreResult<RequestEvent> {
    Ok(RequestEvent {
        request: r.get(0).map_err(db)?,
        n: count_from_sql(r.get(1).map_err(db)?)?,
        actor: r.get(2).map_err(db)?,
        act: r.get(3).map_err(db)?,
        at: r.get(4).map_err(db)?,
        sha256: r.get(5).map_err(db)?,
        json: r.get(6).map_err(db)?,
    })
}

/// Inserts `h`, or replaces the stored header of its id when `replace_if` (a condition on
/// the stored row) holds; the number of rows written.
fn upsert_header(c: &Connection, h: &RequestRecord, replace_if: &str) -> StoreResult<usize> {
    c.prepare_cached(&format!(
        "INSERT INTO requests ({REQUEST_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO UPDATE SET
             kind = excluded.kind, requester = excluded.requester,
             requested = excluded.requested, state = excluded.state,
             emergency = excluded.emergency, created_at = excluded.created_at,
             updated_at = excluded.updated_at, due_at = excluded.due_at,
             events = excluded.events, document = excluded.document
         WHERE {replace_if}"
    ))
    .map_err(db)?
    .execute(params![
        h.id,
        h.kind,
        h.requester,
        h.requested,
        h.state,
        h.emergency,
        h.created_at,
        h.updated_at,
        h.due_at,
        seq_to_sql(h.events)?,
        h.document
    ])
    .map_err(db)
}

/// Saves a draft: inserts it, or replaces a stored draft with no events; `Conflict`
/// otherwise, changing nothing. One statement, so it is atomic on its own.
pub fn save_draft(c: &Connection, h: &RequestRecord) -> StoreResult<()> {
    if h.events != 0 {
        return Err(StoreError::Backend(format!(
            "a draft of request {:?} with {} events",
            h.id, h.events
        )));
    }
    let written = upsert_header(c, h, "requests.state = 'draft' AND requests.events = 0")?;
    if written == 0 {
        return Err(StoreError::Conflict(format!(
            "request {:?} past its draft",
            h.id
        )));
    }
    Ok(())
}

/// The stored number of events of request `id`, if it has a header.
fn stored_events(c: &Connection, id: &str) -> StoreResult<Option<i64>> {
    c.prepare_cached("SELECT events FROM requests WHERE id = ?1")
        .map_err(db)?
        .query_row(params![id], |r| r.get(0))
        .optional()
        .map_err(db)
}

/// Appends one event with its header, log entry and envelope in one `IMMEDIATE`
/// transaction; `false`, changing nothing, when the same event is stored already.
pub fn append(c: &mut Connection, a: &RequestAppend) -> StoreResult<bool> {
    let (h, e) = (&a.header, &a.event);
    if h.id != e.request || h.events != e.n || e.n == 0 {
        return Err(StoreError::Backend(format!(
            "event {} of request {:?} comes with the header of request {:?} at {} events",
            e.n, e.request, h.id, h.events
        )));
    }
    let n = seq_to_sql(e.n)?;
    let transfers = a.new_transfers()?;
    in_transaction(c, |tx| {
        let stored: Option<String> = tx
            .prepare_cached("SELECT sha256 FROM request_events WHERE request = ?1 AND n = ?2")
            .map_err(db)?
            .query_row(params![e.request, n], |r| r.get(0))
            .optional()
            .map_err(db)?;
        match (stored, &a.replaces) {
            (Some(sha256), _) if sha256 == e.sha256 => return Ok(false),
            (Some(sha256), Some(replaced)) if sha256 == *replaced => {
                tx.prepare_cached("DELETE FROM request_events WHERE request = ?1 AND n >= ?2")
                    .map_err(db)?
                    .execute(params![e.request, n])
                    .map_err(db)?;
                tx.prepare_cached("UPDATE requests SET events = ?2 WHERE id = ?1")
                    .map_err(db)?
                    .execute(params![e.request, n - 1])
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
        let before = stored_events(tx, &e.request)?.unwrap_or(0);
        if before != n - 1 {
            return Err(StoreError::Conflict(format!(
                "event {} of request {:?}, which holds {before} events",
                e.n, e.request
            )));
        }
        upsert_header(tx, h, "true")?;
        tx.prepare_cached(&format!(
            "INSERT INTO request_events ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        ))
        .map_err(db)?
        .execute(params![
            e.request, n, e.actor, e.act, e.at, e.sha256, e.json
        ])
        .map_err(|err| {
            conflict_or_db(err, || format!("event {} of request {:?}", e.n, e.request))
        })?;
        log::append_openable_in(tx, REQUEST_SCOPE, std::slice::from_ref(&a.log_entry))?;
        if let Some((peer, item)) = &a.send {
            federation::push_in(tx, peer, std::slice::from_ref(item))?;
        }
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO request_transfers (request, sha256, member) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
            )
            .map_err(db)?;
        for t in &transfers {
            insert
                .execute(params![t.request, t.sha256, t.member])
                .map_err(db)?;
        }
        Ok(true)
    })
}

/// The pending attachment transfers, of request `request` only when given.
pub fn transfers(c: &Connection, request: Option<&str>) -> StoreResult<Vec<AttachmentTransfer>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT request, sha256, member FROM request_transfers \
             WHERE ?1 IS NULL OR request = ?1 ORDER BY request, sha256, member",
        )
        .map_err(db)?;
    let mut rows = stmt.query(params![request]).map_err(db)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(db)? {
        out.push(AttachmentTransfer {
            request: r.get(0).map_err(db)?,
            sha256: r.get(1).map_err(db)?,
            member: r.get(2).map_err(db)?,
        });
    }
    Ok(out)
}

/// Ends pending transfer `t`, if it is pending.
pub fn end_transfer(c: &Connection, t: &AttachmentTransfer) -> StoreResult<()> {
    c.prepare_cached(
        "DELETE FROM request_transfers WHERE request = ?1 AND sha256 = ?2 AND member = ?3",
    )
    .map_err(db)?
    .execute(params![t.request, t.sha256, t.member])
    .map_err(db)?;
    Ok(())
}

/// The header of request `id`.
pub fn request(c: &Connection, id: &str) -> StoreResult<Option<RequestRecord>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ?1"
        ))
        .map_err(db)?;
    let mut rows = stmt.query(params![id]).map_err(db)?;
    match rows.next().map_err(db)? {
        Some(row) => Ok(Some(record_row(row)?)),
        None => Ok(None),
    }
}

/// The events of request `id`, in order.
pub fn events(c: &Connection, id: &str) -> StoreResult<Vec<RequestEvent>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM request_events WHERE request = ?1 ORDER BY n"
        ))
        .map_err(db)?;
    let mut rows = stmt.query(params![id]).map_err(db)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        out.push(event_row(row)?);
    }
    Ok(out)
}

/// The headers `f` selects, most recently updated first, ties by id descending.
pub fn list(c: &Connection, f: &RequestFilter) -> StoreResult<Vec<RequestRecord>> {
    let mut clauses: Vec<&str> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(partner) = &f.partner {
        clauses.push("(requester = ? OR requested = ?)");
        values.push(Value::Text(partner.clone()));
        values.push(Value::Text(partner.clone()));
    }
    if let Some(kind) = &f.kind {
        clauses.push("kind = ?");
        values.push(Value::Text(kind.clone()));
    }
    if let Some(state) = &f.state {
        clauses.push("state = ?");
        values.push(Value::Text(state.clone()));
    }
    if let Some(due_before) = f.due_before {
        clauses.push("due_at IS NOT NULL AND due_at < ?");
        values.push(Value::Integer(due_before));
    }
    if let Some((updated_at, id)) = &f.before {
        clauses.push("(updated_at, id) < (?, ?)");
        values.push(Value::Integer(*updated_at));
        values.push(Value::Text(id.clone()));
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    values.push(Value::Integer(limit_to_sql(f.limit)));
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {REQUEST_COLUMNS} FROM requests {filter}
             ORDER BY updated_at DESC, id DESC LIMIT ?"
        ))
        .map_err(db)?;
    let mut rows = stmt.query(params_from_iter(values)).map_err(db)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        out.push(record_row(row)?);
    }
    Ok(out)
}
