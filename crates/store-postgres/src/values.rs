//! The value index: postings written with each object version (inside its transaction),
//! removed with it (`ON DELETE CASCADE`), looked up by value and by block.

use std::collections::HashSet;

use comity_store::packing::{Dictionaries, StoredBody};
use comity_store::{CollectionRef, IndexedValue, Posting, StoreResult, StoredObject, ValueLookup};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use crate::error::db;
use crate::packed;

/// Writes the postings of the versions stored at the given rows, in one statement.
pub async fn insert(c: &mut PgConnection, versions: &[(i64, &[IndexedValue])]) -> StoreResult<()> {
    let (mut seq, mut kind, mut value, mut lo, mut hi) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (row, values) in versions {
        for v in *values {
            seq.push(*row);
            kind.push(v.kind.as_str());
            value.push(v.value.as_str());
            lo.push(v.net.map(|n| n.lo.to_vec()));
            hi.push(v.net.map(|n| n.hi.to_vec()));
        }
    }
    if seq.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO value_postings (object_seq, kind, value, net_lo, net_hi)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bytea[], $5::bytea[])",
    )
    .bind(&seq)
    .bind(&kind)
    .bind(&value)
    .bind(&lo)
    .bind(&hi)
    .execute(c)
    .await
    .map_err(db)?;
    Ok(())
}

/// The columns [`posting`] reads.
const POSTING_COLUMNS: &str = "
    SELECT p.kind, p.value, c.api_root, c.id, o.is_last,
           o.id, o.version, o.spec_version, o.date_added, o.seq, o.json, o.packed, o.dictionary";

fn posting(r: &PgRow) -> Result<(Posting, StoredBody), sqlx::Error> {
    let posting = Posting {
        kind: r.try_get(0)?,
        value: r.try_get(1)?,
        collection: CollectionRef {
            api_root: r.try_get(2)?,
            id: r.try_get(3)?,
        },
        is_last: r.try_get(4)?,
        object: StoredObject {
            id: r.try_get(5)?,
            version: r.try_get(6)?,
            spec_version: r.try_get(7)?,
            date_added: r.try_get(8)?,
            row: r.try_get(9)?,
            json: String::new(),
        },
    };
    Ok((posting, packed::body(r, 9)?))
}

/// Postings with the JSON text of their versions in place.
async fn postings(
    pool: &PgPool,
    dicts: &Dictionaries,
    rows: Vec<PgRow>,
) -> StoreResult<Vec<Posting>> {
    let rows = rows
        .iter()
        .map(posting)
        .collect::<Result<_, _>>()
        .map_err(db)?;
    packed::fill(pool, dicts, rows, |p| &mut p.object.json).await
}

/// Every posting of the value, and of the blocks that contain it or lie within it.
pub async fn lookup(
    pool: &PgPool,
    dicts: &Dictionaries,
    q: &ValueLookup,
) -> StoreResult<Vec<Posting>> {
    let sql = format!(
        "WITH hits(pid) AS (
             SELECT id FROM value_postings WHERE kind = $1 AND value = $2
             UNION
             SELECT id FROM value_postings
             WHERE kind = $1 AND net_lo <> net_hi AND net_lo <= $3 AND net_hi >= $4
             UNION
             SELECT id FROM value_postings
             WHERE kind = $1 AND net_lo IS NOT NULL AND net_lo >= $3 AND net_lo <= $4)
         {POSTING_COLUMNS}
         FROM hits
         JOIN value_postings p ON p.id = hits.pid
         JOIN objects o ON o.seq = p.object_seq
         JOIN collections c ON c.ckey = o.ckey"
    );
    let rows = sqlx::query(&sql)
        .bind(&q.kind)
        .bind(&q.value)
        .bind(q.net.map(|n| n.lo.to_vec()))
        .bind(q.net.map(|n| n.hi.to_vec()))
        .fetch_all(pool)
        .await
        .map_err(db)?;
    postings(pool, dicts, rows).await
}

/// Every posting of `kind` whose value is one of `values`.
pub async fn of_values(
    pool: &PgPool,
    dicts: &Dictionaries,
    kind: &str,
    values: &[String],
) -> StoreResult<Vec<Posting>> {
    let rows = sqlx::query(&format!(
        "{POSTING_COLUMNS}
         FROM value_postings p
         JOIN objects o ON o.seq = p.object_seq
         JOIN collections c ON c.ckey = o.ckey
         WHERE p.kind = $1 AND p.value = ANY($2)"
    ))
    .bind(kind)
    .bind(values)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    postings(pool, dicts, rows).await
}

/// Every posting of every stored version of object `id` in `col`.
pub async fn of_object(
    pool: &PgPool,
    dicts: &Dictionaries,
    col: &CollectionRef,
    id: &str,
) -> StoreResult<Vec<Posting>> {
    let rows = sqlx::query(&format!(
        "{POSTING_COLUMNS}
         FROM collections c
         JOIN objects o ON o.ckey = c.ckey AND o.id = $3
         JOIN value_postings p ON p.object_seq = o.seq
         WHERE c.api_root = $1 AND c.id = $2"
    ))
    .bind(&col.api_root)
    .bind(&col.id)
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    postings(pool, dicts, rows).await
}

/// Up to `limit` stored versions after row `after`, in row order.
pub async fn versions_after(
    pool: &PgPool,
    dicts: &Dictionaries,
    after: i64,
    limit: usize,
) -> StoreResult<Vec<StoredObject>> {
    let rows = sqlx::query(&format!(
        "SELECT id, version, spec_version, date_added, {} FROM objects
         WHERE seq > $1 ORDER BY seq LIMIT $2",
        packed::columns("")
    ))
    .bind(after)
    .bind(limit as i64)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let rows = rows
        .iter()
        .map(|r| {
            let body = packed::body(r, 4)?;
            let object = StoredObject {
                id: r.try_get(0)?,
                version: r.try_get(1)?,
                spec_version: r.try_get(2)?,
                date_added: r.try_get(3)?,
                row: body.row,
                json: String::new(),
            };
            Ok((object, body))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db)?;
    packed::fill(pool, dicts, rows, |o| &mut o.json).await
}

/// Replaces the postings of each version still stored, in one transaction.
pub async fn reindex(pool: &PgPool, versions: &[(i64, Vec<IndexedValue>)]) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    let rows: Vec<i64> = versions.iter().map(|(row, _)| *row).collect();
    sqlx::query("DELETE FROM value_postings WHERE object_seq = ANY($1)")
        .bind(&rows)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let stored: HashSet<i64> = sqlx::query_scalar("SELECT seq FROM objects WHERE seq = ANY($1)")
        .bind(&rows)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
        .into_iter()
        .collect();
    let kept: Vec<(i64, &[IndexedValue])> = versions
        .iter()
        .filter(|(row, _)| stored.contains(row))
        .map(|(row, values)| (*row, values.as_slice()))
        .collect();
    insert(&mut tx, &kept).await?;
    tx.commit().await.map_err(db)
}

/// Number of postings.
pub async fn count(pool: &PgPool) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM value_postings")
        .fetch_one(pool)
        .await
        .map_err(db)?;
    Ok(n as u64)
}
