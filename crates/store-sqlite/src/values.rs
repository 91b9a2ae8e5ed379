//! The value index: postings written with each object version (inside its transaction),
//! removed with it (`ON DELETE CASCADE`), looked up by value and by block.

use comity_store::packing::{Dictionaries, StoredBody};
use comity_store::{
    CollectionRef, IndexedValue, NetRange, Posting, StoreResult, StoredObject, ValueLookup,
};
use rusqlite::{params, Connection, Row};

use crate::db;
use crate::packed;

/// Writes the postings of the version stored at `seq`.
pub fn insert(tx: &Connection, seq: i64, values: &[IndexedValue]) -> StoreResult<()> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO value_postings (object_seq, kind, value, net_lo, net_hi)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(db)?;
    for v in values {
        stmt.execute(params![
            seq,
            v.kind,
            v.value,
            v.net.map(|n| n.lo),
            v.net.map(|n| n.hi)
        ])
        .map_err(db)?;
    }
    Ok(())
}

/// The columns [`posting`] reads.
const POSTING_COLUMNS: &str = "
    SELECT p.kind, p.value, c.api_root, c.id, o.is_last,
           o.id, o.version, o.spec_version, o.date_added, o.seq, o.json, o.packed, o.dictionary";

fn posting(r: &Row<'_>) -> rusqlite::Result<(Posting, StoredBody)> {
    let posting = Posting {
        kind: r.get(0)?,
        value: r.get(1)?,
        collection: CollectionRef {
            api_root: r.get(2)?,
            id: r.get(3)?,
        },
        is_last: r.get(4)?,
        object: StoredObject {
            id: r.get(5)?,
            version: r.get(6)?,
            spec_version: r.get(7)?,
            date_added: r.get(8)?,
            row: r.get(9)?,
            json: String::new(),
        },
    };
    Ok((posting, packed::body(r, 9)?))
}

/// Postings with the JSON text of their versions in place.
fn fill(
    c: &Connection,
    dicts: &Dictionaries,
    rows: Vec<(Posting, StoredBody)>,
) -> StoreResult<Vec<Posting>> {
    packed::fill(c, dicts, rows, |p| &mut p.object.json)
}

/// Every posting of the value, and of the blocks that contain it or lie within it.
pub fn lookup(c: &Connection, dicts: &Dictionaries, q: &ValueLookup) -> StoreResult<Vec<Posting>> {
    let sql = format!(
        "WITH hits(pid) AS (
             SELECT rowid FROM value_postings WHERE kind = ?1 AND value = ?2
             UNION
             SELECT rowid FROM value_postings INDEXED BY value_postings_blocks
             WHERE kind = ?1 AND net_lo <> net_hi AND net_lo <= ?3 AND net_hi >= ?4
             UNION
             SELECT rowid FROM value_postings INDEXED BY value_postings_by_net
             WHERE kind = ?1 AND net_lo IS NOT NULL AND net_lo >= ?3 AND net_lo <= ?4)
         {POSTING_COLUMNS}
         FROM hits
         JOIN value_postings p ON p.rowid = hits.pid
         JOIN objects o ON o.seq = p.object_seq
         JOIN collections c ON c.ckey = o.ckey"
    );
    let (lo, hi) = ends(q.net);
    let rows = c
        .prepare_cached(&sql)
        .map_err(db)?
        .query_map(params![q.kind, q.value, lo, hi], posting)
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    fill(c, dicts, rows)
}

/// Every posting of `kind` whose value is one of `values`, in chunks of bound parameters.
pub fn of_values(
    c: &Connection,
    dicts: &Dictionaries,
    kind: &str,
    values: &[String],
) -> StoreResult<Vec<Posting>> {
    let mut out = Vec::new();
    for chunk in values.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let sql = format!(
            "{POSTING_COLUMNS}
             FROM value_postings p INDEXED BY value_postings_by_value
             JOIN objects o ON o.seq = p.object_seq
             JOIN collections c ON c.ckey = o.ckey
             WHERE p.kind = ? AND p.value IN ({marks})"
        );
        let args = std::iter::once(kind).chain(chunk.iter().map(String::as_str));
        let mut stmt = c.prepare_cached(&sql).map_err(db)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), posting)
            .map_err(db)?;
        for row in rows {
            out.push(row.map_err(db)?);
        }
    }
    fill(c, dicts, out)
}

fn ends(net: Option<NetRange>) -> (Option<[u8; 16]>, Option<[u8; 16]>) {
    (net.map(|n| n.lo), net.map(|n| n.hi))
}

/// Every posting of every stored version of object `id` in `col`.
pub fn of_object(
    c: &Connection,
    dicts: &Dictionaries,
    col: &CollectionRef,
    id: &str,
) -> StoreResult<Vec<Posting>> {
    let rows = c
        .prepare_cached(&format!(
            "{POSTING_COLUMNS}
         FROM collections c
         JOIN objects o INDEXED BY objects_by_id ON o.ckey = c.ckey AND o.id = ?3
         JOIN value_postings p ON p.object_seq = o.seq
         WHERE c.api_root = ?1 AND c.id = ?2"
        ))
        .map_err(db)?
        .query_map(params![col.api_root, col.id, id], posting)
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    fill(c, dicts, rows)
}

/// Up to `limit` stored versions after row `after`, in row order.
pub fn versions_after(
    c: &Connection,
    dicts: &Dictionaries,
    after: i64,
    limit: usize,
) -> StoreResult<Vec<StoredObject>> {
    let rows = c
        .prepare_cached(&format!(
            "SELECT id, version, spec_version, date_added, {} FROM objects
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            packed::columns("")
        ))
        .map_err(db)?
        .query_map(params![after, limit as i64], |r| {
            let body = packed::body(r, 4)?;
            let object = StoredObject {
                id: r.get(0)?,
                version: r.get(1)?,
                spec_version: r.get(2)?,
                date_added: r.get(3)?,
                row: body.row,
                json: String::new(),
            };
            Ok((object, body))
        })
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    packed::fill(c, dicts, rows, |o| &mut o.json)
}

/// Replaces the postings of each version still stored.
pub fn reindex(tx: &Connection, versions: &[(i64, Vec<IndexedValue>)]) -> StoreResult<()> {
    let mut clear = tx
        .prepare_cached("DELETE FROM value_postings WHERE object_seq = ?1")
        .map_err(db)?;
    let mut stored = tx
        .prepare_cached("SELECT 1 FROM objects WHERE seq = ?1")
        .map_err(db)?;
    for (seq, values) in versions {
        clear.execute(params![seq]).map_err(db)?;
        if stored.exists(params![seq]).map_err(db)? {
            insert(tx, *seq, values)?;
        }
    }
    Ok(())
}

/// Number of postings.
pub fn count(c: &Connection) -> StoreResult<u64> {
    c.query_row("SELECT count(*) FROM value_postings", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n as u64)
    .map_err(db)
}
