//! Object versions: adding in one transaction, keyset-paged queries, deletion. Keeps the
//! `is_first` / `is_last` flags of each object's versions exact, so that TAXII's
//! `match[version]=first|last` are index look-ups, not scans.

use std::time::{SystemTime, UNIX_EPOCH};

use comity_store::packing::{Dictionaries, Packer};
use comity_store::{
    AddOutcome, CollectionRef, Cursor, NewObject, ObjectFilter, Page, PageRequest, StoreError,
    StoreResult, StoredObject,
};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use crate::admin::collection_key;
use crate::db;
use crate::packed;

const LAST_DATE_ADDED: &str = "last_date_added";
const MARKING_DEFINITION: &str = "marking-definition";

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Stores the versions in one `IMMEDIATE` transaction; `date_added` continues strictly
/// after the last value any process committed.
pub fn add(
    c: &mut Connection,
    dicts: &Dictionaries,
    col: &CollectionRef,
    objects: &[NewObject],
) -> StoreResult<Vec<AddOutcome>> {
    crate::in_transaction(c, |tx| add_in(tx, dicts, col, objects))
}

/// The work of [`add`] inside a transaction the caller commits.
pub fn add_in(
    tx: &Connection,
    dicts: &Dictionaries,
    col: &CollectionRef,
    objects: &[NewObject],
) -> StoreResult<Vec<AddOutcome>> {
    let ckey = collection_key(tx, col)?;
    let last: Option<i64> = tx
        .prepare_cached("SELECT value FROM meta WHERE name = ?1")
        .map_err(db)?
        .query_row(params![LAST_DATE_ADDED], |r| r.get(0))
        .optional()
        .map_err(db)?;
    let mut next = now_us().max(last.unwrap_or(0) + 1);
    let dictionary = packed::current(tx, dicts)?;
    let mut packer = Packer::new(dictionary.as_deref())?;
    let mut outcomes = Vec::with_capacity(objects.len());
    let mut definitions_added = false;
    {
        let mut versions = tx
            .prepare_cached(&format!(
                "SELECT version_key, {} FROM objects WHERE ckey = ?1 AND id = ?2",
                packed::columns("")
            ))
            .map_err(db)?;
        let mut clear_first = tx
            .prepare_cached(
                "UPDATE objects SET is_first = 0 WHERE ckey = ?1 AND id = ?2 AND is_first = 1",
            )
            .map_err(db)?;
        let mut clear_last = tx
            .prepare_cached(
                "UPDATE objects SET is_last = 0 WHERE ckey = ?1 AND id = ?2 AND is_last = 1",
            )
            .map_err(db)?;
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO objects (ckey, id, type, version, version_key, spec_version,
                                      date_added, is_first, is_last, json, packed, dictionary)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .map_err(db)?;
        for obj in objects {
            let existing: Vec<(String, comity_store::packing::StoredBody)> = versions
                .query_map(params![ckey, obj.id], |r| {
                    Ok((r.get(0)?, packed::body(r, 1)?))
                })
                .map_err(db)?
                .collect::<Result<_, _>>()
                .map_err(db)?;
            if let Some((_, body)) = existing.iter().find(|(k, _)| *k == obj.version_key) {
                let json = packed::json(tx, dicts, body.clone())?;
                outcomes.push(if same_json(&json, &obj.json) {
                    AddOutcome::AlreadyStored
                } else {
                    AddOutcome::ConflictingVersion
                });
                continue;
            }
            let is_first = existing.iter().all(|(k, _)| obj.version_key < *k);
            let is_last = existing.iter().all(|(k, _)| obj.version_key > *k);
            if is_first && !existing.is_empty() {
                clear_first.execute(params![ckey, obj.id]).map_err(db)?;
            }
            if is_last && !existing.is_empty() {
                clear_last.execute(params![ckey, obj.id]).map_err(db)?;
            }
            let [json, frame, dictionary] = packed::values(packer.pack(&obj.json)?);
            insert
                .execute(params![
                    ckey,
                    obj.id,
                    obj.object_type,
                    obj.version,
                    obj.version_key,
                    obj.spec_version,
                    next,
                    is_first,
                    is_last,
                    json,
                    frame,
                    dictionary
                ])
                .map_err(db)?;
            crate::values::insert(tx, tx.last_insert_rowid(), &obj.values)?;
            outcomes.push(AddOutcome::Added { date_added: next });
            next += 1;
            definitions_added |= obj.object_type == MARKING_DEFINITION;
        }
    }
    if definitions_added {
        bump_meta_version(tx)?;
    }
    tx.prepare_cached("INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)")
        .map_err(db)?
        .execute(params![LAST_DATE_ADDED, next - 1])
        .map_err(db)?;
    Ok(outcomes)
}

/// Tells the servers' caches that the marking definitions changed (the counter that
/// migration 0005's triggers move for the other cached tables).
fn bump_meta_version(tx: &Connection) -> StoreResult<()> {
    tx.prepare_cached("UPDATE meta_version SET version = version + 1")
        .map_err(db)?
        .execute([])
        .map_err(db)?;
    Ok(())
}

/// Equal content, whatever the whitespace or key order.
fn same_json(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// Appends `column IN (?, ?, …)` for a non-empty list.
fn push_in(sql: &mut String, args: &mut Vec<Value>, column: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    sql.push_str(" AND ");
    sql.push_str(column);
    sql.push_str(" IN (");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            sql.push(',');
        }
        sql.push('?');
        args.push(Value::Text(v.clone()));
    }
    sql.push(')');
}

/// The `WHERE` clause (after `ckey = ?`) shared by queries and deletions.
fn filter_clause(filter: &ObjectFilter, sql: &mut String, args: &mut Vec<Value>) {
    push_in(sql, args, "id", &filter.ids);
    push_in(sql, args, "type", &filter.types);
    push_in(sql, args, "spec_version", &filter.spec_versions);
    let v = &filter.versions;
    if !v.all {
        let mut alternatives = Vec::new();
        if v.first {
            alternatives.push("is_first = 1".to_owned());
        }
        if v.last {
            alternatives.push("is_last = 1".to_owned());
        }
        if !v.at.is_empty() {
            let marks = vec!["?"; v.at.len()].join(",");
            alternatives.push(format!("version_key IN ({marks})"));
            args.extend(v.at.iter().map(|k| Value::Text(k.clone())));
        }
        if alternatives.is_empty() {
            alternatives.push("0".to_owned());
        }
        sql.push_str(" AND (");
        sql.push_str(&alternatives.join(" OR "));
        sql.push(')');
    }
    if let Some(after) = filter.added_after {
        sql.push_str(" AND date_added > ?");
        args.push(Value::Integer(after));
    }
}

/// One keyset page, in `date_added` order.
pub fn query(
    c: &Connection,
    dicts: &Dictionaries,
    col: &CollectionRef,
    filter: &ObjectFilter,
    page: &PageRequest,
) -> StoreResult<Page<StoredObject>> {
    let ckey = collection_key(c, col)?;
    let mut sql = format!(
        "SELECT id, version, spec_version, date_added, {} FROM objects",
        packed::columns("")
    );
    if !filter.ids.is_empty() {
        sql.push_str(" INDEXED BY objects_by_id");
    }
    sql.push_str(" WHERE ckey = ?");
    let mut args = vec![Value::Integer(ckey)];
    filter_clause(filter, &mut sql, &mut args);
    if let Some(after) = page.after {
        sql.push_str(" AND (date_added, seq) > (?, ?)");
        args.push(Value::Integer(after.date_added));
        args.push(Value::Integer(after.row));
    }
    sql.push_str(" ORDER BY date_added, seq LIMIT ?");
    args.push(Value::Integer(page.limit as i64 + 1));
    let mut stmt = c.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(params_from_iter(args), |row| {
            let date_added: i64 = row.get(3)?;
            let body = packed::body(row, 4)?;
            let cursor = Cursor {
                date_added,
                row: body.row,
            };
            let object = StoredObject {
                id: row.get(0)?,
                version: row.get(1)?,
                spec_version: row.get(2)?,
                date_added,
                row: cursor.row,
                json: String::new(),
            };
            Ok(((cursor, object), body))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    let rows = packed::fill(c, dicts, rows, |(_, o)| &mut o.json)?;
    Ok(Page::from_overfetch(rows, page.limit))
}

/// Deletes matching versions of one object and re-derives the first/last flags of the rest.
pub fn delete(
    c: &mut Connection,
    col: &CollectionRef,
    id: &str,
    filter: &ObjectFilter,
) -> StoreResult<u64> {
    crate::in_transaction(c, |tx| {
        let ckey = collection_key(tx, col)?;
        let mut sql = String::from("DELETE FROM objects WHERE ckey = ? AND id = ?");
        let mut args = vec![Value::Integer(ckey), Value::Text(id.to_owned())];
        filter_clause(filter, &mut sql, &mut args);
        let definition: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM objects WHERE ckey = ?1 AND id = ?2 AND type = ?3)",
            )
            .map_err(db)?
            .query_row(params![ckey, id, MARKING_DEFINITION], |r| r.get(0))
            .map_err(db)?;
        let deleted = tx.execute(&sql, params_from_iter(args)).map_err(db)? as u64;
        if deleted > 0 && definition {
            bump_meta_version(tx)?;
        }
        if deleted > 0 {
            tx.execute(
            "UPDATE objects SET
                is_first = (version_key = (SELECT min(version_key) FROM objects WHERE ckey = ?1 AND id = ?2)),
                is_last  = (version_key = (SELECT max(version_key) FROM objects WHERE ckey = ?1 AND id = ?2))
             WHERE ckey = ?1 AND id = ?2",
            params![ckey, id],
        )
        .map_err(db)?;
        }
        Ok(deleted)
    })
}

/// The JSON text of every stored marking-definition version, in any collection.
pub fn marking_definitions(c: &Connection, dicts: &Dictionaries) -> StoreResult<Vec<String>> {
    let rows = c
        .prepare_cached(&format!(
            "SELECT {} FROM objects INDEXED BY objects_marking_definitions
             WHERE type = 'marking-definition' ORDER BY seq",
            packed::columns("")
        ))
        .map_err(db)?
        .query_map([], |r| Ok((String::new(), packed::body(r, 0)?)))
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    packed::fill(c, dicts, rows, |json| json)
}

/// Number of stored versions in a collection.
pub fn count(c: &Connection, col: &CollectionRef) -> StoreResult<u64> {
    let ckey = collection_key(c, col)?;
    c.prepare_cached("SELECT count(*) FROM objects WHERE ckey = ?1")
        .map_err(db)?
        .query_row(params![ckey], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound("collection".into()),
            other => db(other),
        })
}
