//! Feed subscriptions: one row per feed (its record and state) and the values a list feed's
//! last run saw. The store never interprets a feed's kind, settings or cursor.

use comity_store::federation_storage::{count_from_sql, seq_to_sql};
use comity_store::{Feed, FeedRecord, FeedState, FeedValue, StoreError, StoreResult};
use rusqlite::{params, Connection, Row};

use crate::{conflict_or_db, db, in_transaction};

/// The columns [`feed_row`] reads.
const FEED_COLUMNS: &str = "name, kind, url, api_root, collection, interval_secs, settings, \
                            secret, created_at, cursor, last_run, last_error, failures, \
                            next_run, runs, failed_runs, objects";

fn feed_row(r: &Row<'_>) -> StoreResult<Feed> {
    Ok(Feed {
        record: FeedRecord {
            name: r.get(0).map_err(db)?,
            kind: r.get(1).map_err(db)?,
            url: r.get(2).map_err(db)?,
            api_root: r.get(3).map_err(db)?,
            collection: r.get(4).map_err(db)?,
            interval_secs: count_from_sql(r.get(5).map_err(db)?)?,
            settings: r.get(6).map_err(db)?,
            secret: r.get(7).map_err(db)?,
            created_at: r.get(8).map_err(db)?,
        },
        state: FeedState {
            cursor: r.get(9).map_err(db)?,
            last_run: r.get(10).map_err(db)?,
            last_error: r.get(11).map_err(db)?,
            failures: count_from_sql(r.get(12).map_err(db)?)?,
            next_run: r.get(13).map_err(db)?,
            runs: count_from_sql(r.get(14).map_err(db)?)?,
            failed_runs: count_from_sql(r.get(15).map_err(db)?)?,
            objects: count_from_sql(r.get(16).map_err(db)?)?,
        },
    })
}

/// Adds a feed; `Conflict` when one of that name exists.
pub fn add(c: &Connection, f: &FeedRecord, s: &FeedState) -> StoreResult<()> {
    c.prepare_cached(&format!(
        "INSERT INTO feeds ({FEED_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
    ))
    .map_err(db)?
    .execute(params![
        f.name,
        f.kind,
        f.url,
        f.api_root,
        f.collection,
        seq_to_sql(f.interval_secs)?,
        f.settings,
        f.secret,
        f.created_at,
        s.cursor,
        s.last_run,
        s.last_error,
        seq_to_sql(s.failures)?,
        s.next_run,
        seq_to_sql(s.runs)?,
        seq_to_sql(s.failed_runs)?,
        seq_to_sql(s.objects)?,
    ])
    .map_err(|e| conflict_or_db(e, || format!("feed {:?}", f.name)))?;
    Ok(())
}

/// One feed by name.
pub fn feed(c: &Connection, name: &str) -> StoreResult<Option<Feed>> {
    let mut stmt = c
        .prepare_cached(&format!("SELECT {FEED_COLUMNS} FROM feeds WHERE name = ?1"))
        .map_err(db)?;
    let mut rows = stmt.query(params![name]).map_err(db)?;
    match rows.next().map_err(db)? {
        Some(r) => Ok(Some(feed_row(r)?)),
        None => Ok(None),
    }
}

/// Every feed, by name.
pub fn list(c: &Connection) -> StoreResult<Vec<Feed>> {
    let mut stmt = c
        .prepare_cached(&format!("SELECT {FEED_COLUMNS} FROM feeds ORDER BY name"))
        .map_err(db)?;
    let mut rows = stmt.query([]).map_err(db)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(db)? {
        out.push(feed_row(r)?);
    }
    Ok(out)
}

fn not_found(name: &str) -> StoreError {
    StoreError::NotFound(format!("feed {name:?}"))
}

/// Removes a feed and its values in one transaction; `NotFound` when there is none.
pub fn remove(c: &mut Connection, name: &str) -> StoreResult<()> {
    in_transaction(c, |tx| {
        tx.execute("DELETE FROM feed_values WHERE feed = ?1", params![name])
            .map_err(db)?;
        match tx
            .execute("DELETE FROM feeds WHERE name = ?1", params![name])
            .map_err(db)?
        {
            0 => Err(not_found(name)),
            _ => Ok(()),
        }
    })
}

/// Replaces a feed's state; `NotFound` when there is no such feed.
pub fn save_state(c: &Connection, name: &str, s: &FeedState) -> StoreResult<()> {
    let written = c
        .prepare_cached(
            "UPDATE feeds SET cursor = ?2, last_run = ?3, last_error = ?4, failures = ?5,
                 next_run = ?6, runs = ?7, failed_runs = ?8, objects = ?9
             WHERE name = ?1",
        )
        .map_err(db)?
        .execute(params![
            name,
            s.cursor,
            s.last_run,
            s.last_error,
            seq_to_sql(s.failures)?,
            s.next_run,
            seq_to_sql(s.runs)?,
            seq_to_sql(s.failed_runs)?,
            seq_to_sql(s.objects)?,
        ])
        .map_err(db)?;
    match written {
        0 => Err(not_found(name)),
        _ => Ok(()),
    }
}

/// The values of a list feed, by value.
pub fn values(c: &Connection, name: &str) -> StoreResult<Vec<FeedValue>> {
    let mut stmt = c
        .prepare_cached("SELECT value, created FROM feed_values WHERE feed = ?1 ORDER BY value")
        .map_err(db)?;
    let rows = stmt
        .query_map(params![name], |r| {
            Ok(FeedValue {
                value: r.get(0)?,
                created: r.get(1)?,
            })
        })
        .map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

/// Replaces a list feed's values and state in one transaction.
pub fn replace_values(
    c: &mut Connection,
    name: &str,
    values: &[FeedValue],
    s: &FeedState,
) -> StoreResult<()> {
    in_transaction(c, |tx| {
        save_state(tx, name, s)?;
        tx.execute("DELETE FROM feed_values WHERE feed = ?1", params![name])
            .map_err(db)?;
        let mut insert = tx
            .prepare_cached("INSERT INTO feed_values (feed, value, created) VALUES (?1, ?2, ?3)")
            .map_err(db)?;
        for v in values {
            insert
                .execute(params![name, v.value, v.created])
                .map_err(|e| conflict_or_db(e, || format!("value {:?} twice", v.value)))?;
        }
        Ok(())
    })
}
