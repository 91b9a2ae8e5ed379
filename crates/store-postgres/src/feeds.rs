//! Feed subscriptions: one row per feed (its record and state) and the values a list feed's
//! last run saw. The store never interprets a feed's kind, settings or cursor.

use comity_store::federation_storage::{count_from_sql, seq_to_sql};
use comity_store::{Feed, FeedRecord, FeedState, FeedValue, StoreError, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use crate::error::{conflict_or_db, db};

/// The columns [`feed_row`] reads.
const FEED_COLUMNS: &str = "name, kind, url, api_root, collection, interval_secs, settings, \
                            secret, created_at, cursor, last_run, last_error, failures, \
                            next_run, runs, failed_runs, objects";

fn feed_row(r: &PgRow) -> StoreResult<Feed> {
    Ok(Feed {
        record: FeedRecord {
            name: r.try_get(0).map_err(db)?,
            kind: r.try_get(1).map_err(db)?,
            url: r.try_get(2).map_err(db)?,
            api_root: r.try_get(3).map_err(db)?,
            collection: r.try_get(4).map_err(db)?,
            interval_secs: count_from_sql(r.try_get(5).map_err(db)?)?,
            settings: r.try_get(6).map_err(db)?,
            secret: r.try_get(7).map_err(db)?,
            created_at: r.try_get(8).map_err(db)?,
        },
        state: FeedState {
            cursor: r.try_get(9).map_err(db)?,
            last_run: r.try_get(10).map_err(db)?,
            last_error: r.try_get(11).map_err(db)?,
            failures: count_from_sql(r.try_get(12).map_err(db)?)?,
            next_run: r.try_get(13).map_err(db)?,
            runs: count_from_sql(r.try_get(14).map_err(db)?)?,
            failed_runs: count_from_sql(r.try_get(15).map_err(db)?)?,
            objects: count_from_sql(r.try_get(16).map_err(db)?)?,
        },
    })
}

fn not_found(name: &str) -> StoreError {
    StoreError::NotFound(format!("feed {name:?}"))
}

/// Adds a feed; `Conflict` when one of that name exists.
pub async fn add(pool: &PgPool, f: &FeedRecord, s: &FeedState) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO feeds ({FEED_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    ))
    .bind(&f.name)
    .bind(&f.kind)
    .bind(&f.url)
    .bind(&f.api_root)
    .bind(&f.collection)
    .bind(seq_to_sql(f.interval_secs)?)
    .bind(&f.settings)
    .bind(&f.secret)
    .bind(f.created_at)
    .bind(&s.cursor)
    .bind(s.last_run)
    .bind(&s.last_error)
    .bind(seq_to_sql(s.failures)?)
    .bind(s.next_run)
    .bind(seq_to_sql(s.runs)?)
    .bind(seq_to_sql(s.failed_runs)?)
    .bind(seq_to_sql(s.objects)?)
    .execute(pool)
    .await
    .map_err(|e| conflict_or_db(e, || format!("feed {:?}", f.name)))?;
    Ok(())
}

/// One feed by name.
pub async fn feed(pool: &PgPool, name: &str) -> StoreResult<Option<Feed>> {
    sqlx::query(&format!("SELECT {FEED_COLUMNS} FROM feeds WHERE name = $1"))
        .bind(name)
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(feed_row)
        .transpose()
}

/// Every feed, by name.
pub async fn list(pool: &PgPool) -> StoreResult<Vec<Feed>> {
    sqlx::query(&format!("SELECT {FEED_COLUMNS} FROM feeds ORDER BY name"))
        .fetch_all(pool)
        .await
        .map_err(db)?
        .iter()
        .map(feed_row)
        .collect()
}

/// Removes a feed and its values in one transaction; `NotFound` when there is none.
pub async fn remove(pool: &PgPool, name: &str) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query("DELETE FROM feed_values WHERE feed = $1")
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let removed = sqlx::query("DELETE FROM feeds WHERE name = $1")
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
    if removed == 0 {
        return Err(not_found(name));
    }
    tx.commit().await.map_err(db)
}

/// Replaces a feed's state; `NotFound` when there is no such feed.
pub async fn save_state(c: &mut PgConnection, name: &str, s: &FeedState) -> StoreResult<()> {
    let written = sqlx::query(
        "UPDATE feeds SET cursor = $2, last_run = $3, last_error = $4, failures = $5,
             next_run = $6, runs = $7, failed_runs = $8, objects = $9
         WHERE name = $1",
    )
    .bind(name)
    .bind(&s.cursor)
    .bind(s.last_run)
    .bind(&s.last_error)
    .bind(seq_to_sql(s.failures)?)
    .bind(s.next_run)
    .bind(seq_to_sql(s.runs)?)
    .bind(seq_to_sql(s.failed_runs)?)
    .bind(seq_to_sql(s.objects)?)
    .execute(c)
    .await
    .map_err(db)?
    .rows_affected();
    match written {
        0 => Err(not_found(name)),
        _ => Ok(()),
    }
}

/// The values of a list feed, by value.
pub async fn values(pool: &PgPool, name: &str) -> StoreResult<Vec<FeedValue>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT value, created FROM feed_values WHERE feed = $1 ORDER BY value")
            .bind(name)
            .fetch_all(pool)
            .await
            .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(value, created)| FeedValue { value, created })
        .collect())
}

/// Replaces a list feed's values and state in one transaction.
pub async fn replace_values(
    pool: &PgPool,
    name: &str,
    values: &[FeedValue],
    s: &FeedState,
) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    save_state(&mut tx, name, s).await?;
    sqlx::query("DELETE FROM feed_values WHERE feed = $1")
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let (vs, cs): (Vec<&str>, Vec<&str>) = values
        .iter()
        .map(|v| (v.value.as_str(), v.created.as_str()))
        .unzip();
    sqlx::query(
        "INSERT INTO feed_values (feed, value, created)
         SELECT $1, v, c FROM unnest($2::text[], $3::text[]) AS t(v, c)",
    )
    .bind(name)
    .bind(&vs)
    .bind(&cs)
    .execute(&mut *tx)
    .await
    .map_err(|e| conflict_or_db(e, || format!("a value of feed {name:?} twice")))?;
    tx.commit().await.map_err(db)
}
