//! Object JSON as PostgreSQL keeps it (see [`comity_store::packing`]): the `json`, `packed`
//! and `dictionary` columns of `objects`, and the `dictionaries` table. The write path
//! trains a dictionary when one is due while it holds the store clock, so that processes
//! writing to the same database never train twice for the same growth step.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use comity_store::packing::{self, Dictionaries, Dictionary, Packed, StoredBody};
use comity_store::{StoreError, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{Executor, PgConnection, Postgres, Row};

use crate::error::db;

/// The columns [`body`] reads, in order, to put at the end of a `SELECT` on `objects`
/// (aliased `o` when `prefix` is `"o."`).
pub fn columns(prefix: &str) -> String {
    format!("{prefix}seq, {prefix}json, {prefix}packed, {prefix}dictionary")
}

/// The body columns of a row, starting at column `first` (as [`columns`] lists them).
pub fn body(row: &PgRow, first: usize) -> Result<StoredBody, sqlx::Error> {
    Ok(StoredBody {
        row: row.try_get(first)?,
        text: row.try_get(first + 1)?,
        frame: row.try_get(first + 2)?,
        dictionary: row.try_get(first + 3)?,
    })
}

/// Loads the dictionaries that `bodies` need and the cache lacks.
async fn load<'e>(
    ex: impl Executor<'e, Database = Postgres>,
    dicts: &Dictionaries,
    bodies: impl IntoIterator<Item = &StoredBody>,
) -> StoreResult<()> {
    let missing = dicts.missing(bodies);
    if missing.is_empty() {
        return Ok(());
    }
    let rows = sqlx::query("SELECT id, bytes FROM dictionaries WHERE id = ANY($1)")
        .bind(&missing)
        .fetch_all(ex)
        .await
        .map_err(db)?;
    for r in rows {
        let (id, bytes): (i64, Vec<u8>) = (r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?);
        dicts.get(id, |_| Ok(bytes))?;
    }
    Ok(())
}

/// Puts the JSON text of each row in place: `text` picks the field it belongs in.
pub async fn fill<'e, T>(
    ex: impl Executor<'e, Database = Postgres>,
    dicts: &Dictionaries,
    rows: Vec<(T, StoredBody)>,
    text: impl Fn(&mut T) -> &mut String,
) -> StoreResult<Vec<T>> {
    load(ex, dicts, rows.iter().map(|(_, b)| b)).await?;
    rows.into_iter()
        .map(|(mut item, body)| {
            *text(&mut item) = dicts.read_body(body, |id| {
                Err(StoreError::Backend(format!(
                    "stored dictionary {id} is missing"
                )))
            })?;
            Ok(item)
        })
        .collect()
}

/// The dictionary new rows are written with: the newest stored, after training a new one
/// when [`packing::training_due`] says so. The caller holds the store clock.
pub async fn current(
    tx: &mut PgConnection,
    dicts: &Dictionaries,
) -> StoreResult<Option<Arc<Dictionary>>> {
    let newest = sqlx::query("SELECT id, trained_at FROM dictionaries ORDER BY id DESC LIMIT 1")
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        .map(|r| Ok::<_, sqlx::Error>((r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?)))
        .transpose()
        .map_err(db)?;
    let rows: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM objects")
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
    let id = if packing::training_due(rows, newest.map(|(_, at)| at)) {
        Some(train(tx, dicts, rows).await?)
    } else {
        newest.map(|(id, _)| id)
    };
    let Some(id) = id else { return Ok(None) };
    if !dicts.knows(id) {
        let bytes: Vec<u8> = sqlx::query_scalar("SELECT bytes FROM dictionaries WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        dicts.get(id, |_| Ok(bytes))?;
    }
    dicts
        .get(id, |id| {
            Err(StoreError::Backend(format!(
                "stored dictionary {id} is missing"
            )))
        })
        .map(Some)
}

/// Trains a dictionary on the newest versions and stores it (empty when nothing could be
/// learnt); returns its id.
async fn train(tx: &mut PgConnection, dicts: &Dictionaries, rows: i64) -> StoreResult<i64> {
    let bodies = sqlx::query(&format!(
        "SELECT {} FROM objects ORDER BY seq DESC LIMIT $1",
        columns("")
    ))
    .bind(packing::TRAINING_SAMPLES as i64)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?
    .iter()
    .map(|r| Ok((String::new(), body(r, 0)?)))
    .collect::<Result<Vec<_>, sqlx::Error>>()
    .map_err(db)?;
    let samples = fill(&mut *tx, dicts, bodies, |s| s).await?;
    let bytes = packing::train(&samples).unwrap_or_default();
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    sqlx::query_scalar(
        "INSERT INTO dictionaries (created, trained_at, bytes) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(created)
    .bind(rows)
    .bind(bytes)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)
}

/// The `json`, `packed` and `dictionary` values a row stores for `packed`.
pub fn values(packed: Packed<'_>) -> (&str, Option<Vec<u8>>, Option<i64>) {
    match packed {
        Packed::Text(text) => (text, None, None),
        Packed::Zstd { dictionary, frame } => ("", Some(frame), dictionary),
    }
}
