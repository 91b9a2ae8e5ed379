//! Object JSON as SQLite keeps it (see [`comity_store::packing`]): the `json`, `packed` and
//! `dictionary` columns of `objects`, and the `dictionaries` table. The write path trains a
//! dictionary when one is due, inside its `IMMEDIATE` transaction, so that processes
//! writing to the same file never train twice for the same growth step.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use comity_store::packing::{self, Dictionaries, Dictionary, Packed, StoredBody};
use comity_store::{StoreError, StoreResult};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::db;

/// The columns [`body`] reads, in order, to put at the end of a `SELECT` on `objects`
/// (aliased `o` when `prefix` is `"o."`).
pub fn columns(prefix: &str) -> String {
    format!("{prefix}seq, {prefix}json, {prefix}packed, {prefix}dictionary")
}

/// The body columns of a row, starting at column `first` (as [`columns`] lists them).
pub fn body(row: &Row<'_>, first: usize) -> rusqlite::Result<StoredBody> {
    Ok(StoredBody {
        row: row.get(first)?,
        text: row.get(first + 1)?,
        frame: row.get(first + 2)?,
        dictionary: row.get(first + 3)?,
    })
}

/// The bytes of dictionary `id`.
fn load(c: &Connection, id: i64) -> StoreResult<Vec<u8>> {
    c.prepare_cached("SELECT bytes FROM dictionaries WHERE id = ?1")
        .map_err(db)?
        .query_row(params![id], |r| r.get(0))
        .optional()
        .map_err(db)?
        .ok_or_else(|| StoreError::Backend(format!("stored dictionary {id} is missing")))
}

/// The JSON text of a row's body.
pub fn json(c: &Connection, dicts: &Dictionaries, body: StoredBody) -> StoreResult<String> {
    dicts.read_body(body, |id| load(c, id))
}

/// Puts the JSON text of each row in place: `text` picks the field it belongs in.
pub fn fill<T>(
    c: &Connection,
    dicts: &Dictionaries,
    rows: Vec<(T, StoredBody)>,
    text: impl Fn(&mut T) -> &mut String,
) -> StoreResult<Vec<T>> {
    rows.into_iter()
        .map(|(mut item, body)| {
            *text(&mut item) = json(c, dicts, body)?;
            Ok(item)
        })
        .collect()
}

/// The dictionary new rows are written with: the newest stored, after training a new one
/// when [`packing::training_due`] says so.
pub fn current(tx: &Connection, dicts: &Dictionaries) -> StoreResult<Option<Arc<Dictionary>>> {
    let newest: Option<(i64, i64)> = tx
        .prepare_cached("SELECT id, trained_at FROM dictionaries ORDER BY id DESC LIMIT 1")
        .map_err(db)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db)?;
    let rows: i64 = tx
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM objects")
        .map_err(db)?
        .query_row([], |r| r.get(0))
        .map_err(db)?;
    let id = if packing::training_due(rows, newest.map(|(_, at)| at)) {
        Some(train(tx, dicts, rows)?)
    } else {
        newest.map(|(id, _)| id)
    };
    id.map(|id| dicts.get(id, |id| load(tx, id))).transpose()
}

/// Trains a dictionary on the newest versions and stores it (empty when nothing could be
/// learnt); returns its id.
fn train(tx: &Connection, dicts: &Dictionaries, rows: i64) -> StoreResult<i64> {
    let bodies: Vec<StoredBody> = tx
        .prepare_cached(&format!(
            "SELECT {} FROM objects ORDER BY seq DESC LIMIT ?1",
            columns("")
        ))
        .map_err(db)?
        .query_map(params![packing::TRAINING_SAMPLES as i64], |r| body(r, 0))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let samples = bodies
        .into_iter()
        .map(|b| json(tx, dicts, b))
        .collect::<StoreResult<Vec<String>>>()?;
    let bytes = packing::train(&samples).unwrap_or_default();
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    tx.prepare_cached("INSERT INTO dictionaries (created, trained_at, bytes) VALUES (?1, ?2, ?3)")
        .map_err(db)?
        .execute(params![created, rows, bytes])
        .map_err(db)?;
    Ok(tx.last_insert_rowid())
}

/// The `json`, `packed` and `dictionary` values a row stores for `packed`.
pub fn values(packed: Packed<'_>) -> [Value; 3] {
    match packed {
        Packed::Text(text) => [Value::Text(text.to_owned()), Value::Null, Value::Null],
        Packed::Zstd { dictionary, frame } => [
            Value::Text(String::new()),
            Value::Blob(frame),
            dictionary.map_or(Value::Null, Value::Integer),
        ],
    }
}

#[cfg(test)]
mod tests;
