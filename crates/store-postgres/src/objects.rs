//! Object versions: adding a batch in one transaction with array (UNNEST) statements,
//! keyset-paged queries, deletion, and restoring copied versions with their original
//! `date_added`. Keeps the `is_first` / `is_last` flags of each object's versions exact,
//! so that TAXII's `match[version]=first|last` are partial-index look-ups, not scans.
//!
//! Every transaction that adds or deletes versions first locks the one row of
//! `date_clock` (`SELECT … FOR UPDATE`): writers of every process are serialised there,
//! so `date_added` values are handed out in commit order and a reader paging by
//! `(date_added, seq)` never misses a row that commits behind its cursor.

use std::collections::HashMap;

use comity_store::packing::{Dictionaries, Packer, StoredBody};
use comity_store::{
    AddOutcome, CollectionRef, Cursor, IndexedValue, NewObject, ObjectFilter, Page, PageRequest,
    StoreResult, StoredObject,
};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};

use crate::admin::collection_key;
use crate::error::db;
use crate::packed;

/// Locks the store clock until the transaction ends; returns the first `date_added` this
/// transaction may hand out (after the last one committed, and not before the database's
/// own clock).
pub async fn lock_clock(c: &mut PgConnection) -> StoreResult<i64> {
    sqlx::query_scalar(
        "SELECT greatest(last_date_added + 1,
                         (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
         FROM date_clock WHERE id = 1 FOR UPDATE",
    )
    .fetch_one(c)
    .await
    .map_err(db)
}

async fn advance_clock(c: &mut PgConnection, last: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE date_clock SET last_date_added = greatest(last_date_added, $1) WHERE id = 1",
    )
    .bind(last)
    .execute(c)
    .await
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

/// Oldest and newest version keys of one object.
#[derive(Clone)]
struct Span {
    min: String,
    max: String,
}

/// The stored version span of each of `ids`, and the stored JSON of each `(id, key)`.
async fn stored_versions(
    c: &mut PgConnection,
    dicts: &Dictionaries,
    ckey: i64,
    objects: &[NewObject],
) -> StoreResult<(HashMap<String, Span>, HashMap<(String, String), String>)> {
    let ids: Vec<&str> = objects.iter().map(|o| o.id.as_str()).collect();
    let keys: Vec<&str> = objects.iter().map(|o| o.version_key.as_str()).collect();
    let spans = sqlx::query(
        "SELECT id, min(version_key), max(version_key) FROM objects
         WHERE ckey = $1 AND id = ANY($2) GROUP BY id",
    )
    .bind(ckey)
    .bind(&ids)
    .fetch_all(&mut *c)
    .await
    .map_err(db)?
    .into_iter()
    .map(|r| {
        Ok((
            r.try_get(0).map_err(db)?,
            Span {
                min: r.try_get(1).map_err(db)?,
                max: r.try_get(2).map_err(db)?,
            },
        ))
    })
    .collect::<StoreResult<HashMap<String, Span>>>()?;
    let mut existing = HashMap::new();
    if !spans.is_empty() {
        let rows = sqlx::query(&format!(
            "SELECT o.id, o.version_key, {}
             FROM objects o JOIN UNNEST($2::text[], $3::text[]) AS n(id, version_key)
               ON o.id = n.id AND o.version_key = n.version_key
             WHERE o.ckey = $1",
            packed::columns("o.")
        ))
        .bind(ckey)
        .bind(&ids)
        .bind(&keys)
        .fetch_all(&mut *c)
        .await
        .map_err(db)?
        .iter()
        .map(|r| {
            let key: (String, String) = (r.try_get(0)?, r.try_get(1)?);
            Ok(((key, String::new()), packed::body(r, 2)?))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(db)?;
        for (key, json) in packed::fill(&mut *c, dicts, rows, |(_, json)| json).await? {
            existing.insert(key, json);
        }
    }
    Ok((spans, existing))
}

/// New rows for one collection, as parallel columns for one `UNNEST` insert.
#[derive(Default)]
struct Columns<'a> {
    id: Vec<&'a str>,
    object_type: Vec<&'a str>,
    version: Vec<&'a str>,
    version_key: Vec<&'a str>,
    spec_version: Vec<&'a str>,
    date_added: Vec<i64>,
    is_first: Vec<bool>,
    is_last: Vec<bool>,
    json: Vec<&'a str>,
    packed: Vec<Option<Vec<u8>>>,
    dictionary: Vec<Option<i64>>,
    values: Vec<&'a [IndexedValue]>,
}

impl<'a> Columns<'a> {
    fn push(
        &mut self,
        packer: &mut Packer<'_>,
        o: &'a NewObject,
        date_added: i64,
    ) -> StoreResult<()> {
        let (json, frame, dictionary) = packed::values(packer.pack(&o.json)?);
        self.id.push(&o.id);
        self.object_type.push(&o.object_type);
        self.version.push(&o.version);
        self.version_key.push(&o.version_key);
        self.spec_version.push(&o.spec_version);
        self.date_added.push(date_added);
        self.json.push(json);
        self.packed.push(frame);
        self.dictionary.push(dictionary);
        self.values.push(&o.values);
        Ok(())
    }

    /// Inserts the rows and their postings; `on conflict` skips versions stored already
    /// (used by restores), and their postings with them.
    async fn insert(&self, c: &mut PgConnection, ckey: i64, skip_stored: bool) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO objects (ckey, id, type, version, version_key, spec_version,
                                  date_added, is_first, is_last, json, packed, dictionary)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[],
                                      $6::text[], $7::bigint[], $8::bool[], $9::bool[],
                                      $10::text[], $11::bytea[], $12::bigint[]){}
             RETURNING seq, id, version_key",
            if skip_stored {
                " ON CONFLICT (ckey, id, version_key) DO NOTHING"
            } else {
                ""
            }
        );
        let inserted = sqlx::query(&sql)
            .bind(ckey)
            .bind(&self.id)
            .bind(&self.object_type)
            .bind(&self.version)
            .bind(&self.version_key)
            .bind(&self.spec_version)
            .bind(&self.date_added)
            .bind(&self.is_first)
            .bind(&self.is_last)
            .bind(&self.json)
            .bind(&self.packed)
            .bind(&self.dictionary)
            .fetch_all(&mut *c)
            .await
            .map_err(db)?;
        let position: HashMap<(&str, &str), usize> = (0..self.id.len())
            .map(|i| ((self.id[i], self.version_key[i]), i))
            .collect();
        let mut postings = Vec::new();
        for r in &inserted {
            let (seq, id, key): (i64, String, String) = (
                r.try_get(0).map_err(db)?,
                r.try_get(1).map_err(db)?,
                r.try_get(2).map_err(db)?,
            );
            if let Some(&i) = position.get(&(id.as_str(), key.as_str())) {
                postings.push((seq, self.values[i]));
            }
        }
        crate::values::insert(c, &postings).await
    }
}

/// Clears `flag` (`is_first` or `is_last`) on the stored versions of `ids`.
async fn clear_flag(c: &mut PgConnection, ckey: i64, flag: &str, ids: &[&str]) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "UPDATE objects SET {flag} = false WHERE ckey = $1 AND id = ANY($2) AND {flag}"
    ))
    .bind(ckey)
    .bind(ids)
    .execute(c)
    .await
    .map_err(db)?;
    Ok(())
}

/// Stores the versions in one transaction; `date_added` continues strictly after the last
/// value any process committed.
pub async fn add(
    pool: &PgPool,
    dicts: &Dictionaries,
    col: &CollectionRef,
    objects: &[NewObject],
) -> StoreResult<Vec<AddOutcome>> {
    let mut tx = pool.begin().await.map_err(db)?;
    let outcomes = add_in(&mut tx, dicts, col, objects).await?;
    tx.commit().await.map_err(db)?;
    Ok(outcomes)
}

/// The work of [`add`] inside a transaction the caller commits; holds the store clock
/// until then.
pub async fn add_in(
    tx: &mut PgConnection,
    dicts: &Dictionaries,
    col: &CollectionRef,
    objects: &[NewObject],
) -> StoreResult<Vec<AddOutcome>> {
    let ckey = collection_key(&mut *tx, col).await?;
    let mut next = lock_clock(&mut *tx).await?;
    let (stored, mut known) = stored_versions(&mut *tx, dicts, ckey, objects).await?;
    let mut spans = stored.clone();
    let mut outcomes = Vec::with_capacity(objects.len());
    let mut added = Vec::new();
    for o in objects {
        let key = (o.id.clone(), o.version_key.clone());
        if let Some(json) = known.get(&key) {
            outcomes.push(if same_json(json, &o.json) {
                AddOutcome::AlreadyStored
            } else {
                AddOutcome::ConflictingVersion
            });
            continue;
        }
        known.insert(key, o.json.clone());
        spans
            .entry(o.id.clone())
            .and_modify(|s| {
                if o.version_key < s.min {
                    s.min.clone_from(&o.version_key);
                }
                if o.version_key > s.max {
                    s.max.clone_from(&o.version_key);
                }
            })
            .or_insert_with(|| Span {
                min: o.version_key.clone(),
                max: o.version_key.clone(),
            });
        added.push((o, next));
        outcomes.push(AddOutcome::Added { date_added: next });
        next += 1;
    }
    if !added.is_empty() {
        let mut new_first = Vec::new();
        let mut new_last = Vec::new();
        for (id, old) in &stored {
            let now = &spans[id];
            if now.min != old.min {
                new_first.push(id.as_str());
            }
            if now.max != old.max {
                new_last.push(id.as_str());
            }
        }
        clear_flag(&mut *tx, ckey, "is_first", &new_first).await?;
        clear_flag(&mut *tx, ckey, "is_last", &new_last).await?;
        let dictionary = packed::current(&mut *tx, dicts).await?;
        let mut packer = Packer::new(dictionary.as_deref())?;
        let mut rows = Columns::default();
        for (o, date_added) in &added {
            let span = &spans[&o.id];
            rows.push(&mut packer, o, *date_added)?;
            rows.is_first.push(o.version_key == span.min);
            rows.is_last.push(o.version_key == span.max);
        }
        rows.insert(&mut *tx, ckey, false).await?;
        advance_clock(&mut *tx, next - 1).await?;
    }
    Ok(outcomes)
}

/// Re-derives the first/last flags of every version of `ids`.
async fn rederive_flags(c: &mut PgConnection, ckey: i64, ids: &[&str]) -> StoreResult<()> {
    sqlx::query(
        "UPDATE objects o SET is_first = (o.version_key = s.lo), is_last = (o.version_key = s.hi)
         FROM (SELECT id, min(version_key) AS lo, max(version_key) AS hi FROM objects
               WHERE ckey = $1 AND id = ANY($2) GROUP BY id) s
         WHERE o.ckey = $1 AND o.id = s.id
           AND (o.is_first IS DISTINCT FROM (o.version_key = s.lo)
                OR o.is_last IS DISTINCT FROM (o.version_key = s.hi))",
    )
    .bind(ckey)
    .bind(ids)
    .execute(c)
    .await
    .map_err(db)?;
    Ok(())
}

/// Appends `AND column = ANY($n)` for a non-empty list.
fn push_any(qb: &mut QueryBuilder<'_, Postgres>, column: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    qb.push(format_args!(" AND {column} = ANY("))
        .push_bind(values.to_vec())
        .push(")");
}

/// The conditions (after `ckey = …`) shared by queries and deletions.
fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, filter: &ObjectFilter) {
    push_any(qb, "id", &filter.ids);
    push_any(qb, "type", &filter.types);
    push_any(qb, "spec_version", &filter.spec_versions);
    let v = &filter.versions;
    if !v.all {
        let mut alternatives = 0;
        qb.push(" AND (");
        let mut or = |qb: &mut QueryBuilder<'_, Postgres>| {
            if alternatives > 0 {
                qb.push(" OR ");
            }
            alternatives += 1;
        };
        if v.first {
            or(qb);
            qb.push("is_first");
        }
        if v.last {
            or(qb);
            qb.push("is_last");
        }
        if !v.at.is_empty() {
            or(qb);
            qb.push("version_key = ANY(")
                .push_bind(v.at.clone())
                .push(")");
        }
        if alternatives == 0 {
            qb.push("false");
        }
        qb.push(")");
    }
    if let Some(after) = filter.added_after {
        qb.push(" AND date_added > ").push_bind(after);
    }
}

/// One keyset page, in `date_added` order.
pub async fn query(
    pool: &PgPool,
    dicts: &Dictionaries,
    col: &CollectionRef,
    filter: &ObjectFilter,
    page: &PageRequest,
) -> StoreResult<Page<StoredObject>> {
    let mut qb = QueryBuilder::new(format!(
        "SELECT id, version, spec_version, date_added, {} FROM objects
         WHERE ckey = (SELECT ckey FROM collections WHERE api_root = ",
        packed::columns("")
    ));
    qb.push_bind(&col.api_root)
        .push(" AND id = ")
        .push_bind(&col.id)
        .push(")");
    push_filter(&mut qb, filter);
    if let Some(after) = page.after {
        qb.push(" AND (date_added, seq) > (")
            .push_bind(after.date_added)
            .push(", ")
            .push_bind(after.row)
            .push(")");
    }
    qb.push(" ORDER BY date_added, seq LIMIT ")
        .push_bind(page.limit as i64 + 1);
    let rows = qb.build().fetch_all(pool).await.map_err(db)?;
    if rows.is_empty() {
        // Tell an empty answer from a missing collection.
        let mut conn = pool.acquire().await.map_err(db)?;
        collection_key(&mut conn, col).await?;
    }
    let decoded = rows
        .iter()
        .map(|r| {
            let date_added: i64 = r.try_get(3)?;
            let body = packed::body(r, 4)?;
            let cursor = Cursor {
                date_added,
                row: body.row,
            };
            let object = StoredObject {
                id: r.try_get(0)?,
                version: r.try_get(1)?,
                spec_version: r.try_get(2)?,
                date_added,
                row: cursor.row,
                json: String::new(),
            };
            Ok(((cursor, object), body))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(db)?;
    let decoded = packed::fill(pool, dicts, decoded, |(_, o)| &mut o.json).await?;
    Ok(Page::from_overfetch(decoded, page.limit))
}

/// Deletes matching versions of one object and re-derives the first/last flags of the rest.
pub async fn delete(
    pool: &PgPool,
    col: &CollectionRef,
    id: &str,
    filter: &ObjectFilter,
) -> StoreResult<u64> {
    let mut tx = pool.begin().await.map_err(db)?;
    let ckey = collection_key(&mut tx, col).await?;
    lock_clock(&mut tx).await?;
    let mut qb = QueryBuilder::new("DELETE FROM objects WHERE ckey = ");
    qb.push_bind(ckey).push(" AND id = ").push_bind(id);
    push_filter(&mut qb, filter);
    let deleted = qb
        .build()
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
    if deleted > 0 {
        rederive_flags(&mut tx, ckey, &[id]).await?;
    }
    tx.commit().await.map_err(db)?;
    Ok(deleted)
}

/// The JSON text of every stored marking-definition version, in any collection.
pub async fn marking_definitions(pool: &PgPool, dicts: &Dictionaries) -> StoreResult<Vec<String>> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM objects WHERE type = 'marking-definition' ORDER BY seq",
        packed::columns("")
    ))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(|r| Ok((String::new(), packed::body(r, 0)?)))
    .collect::<Result<Vec<(String, StoredBody)>, sqlx::Error>>()
    .map_err(db)?;
    packed::fill(pool, dicts, rows, |json| json).await
}

/// Number of stored versions in a collection.
pub async fn count(pool: &PgPool, col: &CollectionRef) -> StoreResult<u64> {
    let mut conn = pool.acquire().await.map_err(db)?;
    let ckey = collection_key(&mut conn, col).await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM objects WHERE ckey = $1")
        .bind(ckey)
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    Ok(n as u64)
}

/// Where a copy into this collection stopped: the source position of the last batch.
pub async fn copy_position(pool: &PgPool, col: &CollectionRef) -> StoreResult<Option<Cursor>> {
    let row = sqlx::query(
        "SELECT after_date, after_row FROM copy_progress WHERE api_root = $1 AND collection_id = $2",
    )
    .bind(&col.api_root)
    .bind(&col.id)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.map(|r| {
        Ok(Cursor {
            date_added: r.try_get(0).map_err(db)?,
            row: r.try_get(1).map_err(db)?,
        })
    })
    .transpose()
}

/// Stores copied versions with their original `date_added` (skipping any stored already),
/// re-derives their objects' flags and records the source position, in one transaction.
pub async fn restore(
    pool: &PgPool,
    dicts: &Dictionaries,
    col: &CollectionRef,
    versions: &[(NewObject, i64)],
    reached: Cursor,
) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    let ckey = collection_key(&mut tx, col).await?;
    lock_clock(&mut tx).await?;
    if !versions.is_empty() {
        let dictionary = packed::current(&mut tx, dicts).await?;
        let mut packer = Packer::new(dictionary.as_deref())?;
        let mut rows = Columns::default();
        for (o, date_added) in versions {
            rows.push(&mut packer, o, *date_added)?;
            rows.is_first.push(false);
            rows.is_last.push(false);
        }
        rows.insert(&mut tx, ckey, true).await?;
        let mut ids = rows.id.clone();
        ids.sort_unstable();
        ids.dedup();
        rederive_flags(&mut tx, ckey, &ids).await?;
        let newest = rows.date_added.iter().copied().max().unwrap_or(0);
        advance_clock(&mut tx, newest).await?;
    }
    sqlx::query(
        "INSERT INTO copy_progress (api_root, collection_id, after_date, after_row)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (api_root, collection_id)
         DO UPDATE SET after_date = excluded.after_date, after_row = excluded.after_row",
    )
    .bind(&col.api_root)
    .bind(&col.id)
    .bind(reached.date_added)
    .bind(reached.row)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)
}
