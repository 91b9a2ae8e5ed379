//! Dictionaries as SQLite keeps them: trained as the store grows, rows of every
//! dictionary readable, damaged rows refused by row, rows of older schemas read as they are.

use comity_store::prelude::*;
use comity_store::{
    CollectionRef, NewObject, ObjectFilter, PageRequest, StoreResult, VersionFilter,
};
use rusqlite::Connection;

use crate::{SqliteStore, DATABASE_FILE};

fn collection() -> CollectionRef {
    CollectionRef {
        api_root: "conformance".into(),
        id: "2f6a4f1e-6b8b-4c67-9b1a-3f1d4d9a0c01".into(),
    }
}

fn object(n: u32) -> NewObject {
    let id = format!("indicator--00000000-0000-4000-8000-{n:012}");
    NewObject {
        json: format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"n° {n} — ☃","pattern":"[ipv4-addr:value = '{}.{}.{}.{}']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}}"#,
            n % 223,
            n % 251,
            (n / 3) % 253,
            n % 7
        ),
        id,
        object_type: "indicator".into(),
        version: "2020-01-01T00:00:00.000Z".into(),
        version_key: "2020-01-01T00:00:00.000000000Z".into(),
        spec_version: "2.1".into(),
        values: Vec::new(),
    }
}

async fn read(store: &SqliteStore, n: u32) -> StoreResult<String> {
    let filter = ObjectFilter {
        ids: vec![object(n).id],
        versions: VersionFilter::all(),
        ..ObjectFilter::default()
    };
    let page = PageRequest {
        limit: 10,
        after: None,
    };
    let mut items = store.objects(&collection(), &filter, &page).await?.items;
    assert_eq!(items.len(), 1);
    Ok(items.remove(0).json)
}

fn raw(dir: &tempfile::TempDir) -> Connection {
    Connection::open(dir.path().join(DATABASE_FILE)).unwrap()
}

/// (row count, dictionary) of the packed rows, by dictionary.
fn rows_by_dictionary(c: &Connection) -> Vec<(i64, Option<i64>)> {
    c.prepare(
        "SELECT count(*), dictionary FROM objects WHERE packed IS NOT NULL
         GROUP BY dictionary ORDER BY dictionary",
    )
    .unwrap()
    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_every_dictionary_read_back_after_newer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    comity_store::conformance::seed_small(&store).await;
    let total = 12_400u32;
    for start in (0..total).step_by(400) {
        let batch = (start..start + 400).map(object).collect();
        store.add_objects(&collection(), batch).await.unwrap();
    }
    let c = raw(&dir);
    let trained: Vec<(i64, i64, usize)> = c
        .prepare("SELECT id, trained_at, length(bytes) FROM dictionaries ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // Trained in the first batch past 1,000 rows, and again once the store had grown
    // tenfold since.
    assert_eq!(trained.len(), 2, "{trained:?}");
    assert_eq!((trained[0].1, trained[1].1), (1_200, 12_000));
    assert!(trained.iter().all(|t| t.2 > 1_000), "{trained:?}");
    assert_eq!(
        rows_by_dictionary(&c),
        vec![(1_200, None), (10_800, Some(1)), (400, Some(2))]
    );
    // Packed rows keep no text; each is much smaller than its JSON.
    let (text, packed, json): (i64, i64, i64) = c
        .query_row(
            "SELECT sum(length(json)), sum(length(packed)), 0 FROM objects",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((text, json), (0, 0));
    let plain: usize = (0..total).map(|n| object(n).json.len()).sum();
    assert!(packed as usize * 3 < plain, "{packed} of {plain}");
    drop(store);
    // A store opened afresh reads every generation.
    let store = SqliteStore::open(dir.path()).unwrap();
    for n in [0, 1_199, 1_200, 5_000, 11_999, 12_000, total - 1] {
        assert_eq!(read(&store, n).await.unwrap(), object(n).json, "{n}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_packed_row_is_refused_with_its_row_and_the_rest_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    comity_store::conformance::seed_small(&store).await;
    let batch = (0..1_500).map(object).collect();
    store.add_objects(&collection(), batch).await.unwrap();
    let c = raw(&dir);
    let seq: i64 = c
        .query_row(
            "SELECT seq FROM objects WHERE id = ?1",
            [object(7).id],
            |r| r.get(0),
        )
        .unwrap();
    let mut frame: Vec<u8> = c
        .query_row("SELECT packed FROM objects WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .unwrap();
    let mid = frame.len() / 2;
    frame[mid] ^= 0xff;
    c.execute(
        "UPDATE objects SET packed = ?1 WHERE seq = ?2",
        rusqlite::params![frame, seq],
    )
    .unwrap();
    let e = read(&store, 7).await.unwrap_err().to_string();
    assert!(e.contains(&format!("stored object row {seq}:")), "{e}");
    assert_eq!(read(&store, 8).await.unwrap(), object(8).json);
    // A row that names a dictionary the store does not have.
    c.execute(
        "UPDATE objects SET dictionary = 99 WHERE id = ?1",
        [object(9).id],
    )
    .unwrap_err();
    c.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    c.execute(
        "UPDATE objects SET dictionary = 99 WHERE id = ?1",
        [object(9).id],
    )
    .unwrap();
    let e = read(&store, 9).await.unwrap_err().to_string();
    assert!(e.contains("stored dictionary 99 is missing"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_rows_of_schema_14_read_as_they_are_next_to_packed_ones() {
    let dir = tempfile::tempdir().unwrap();
    {
        let c = raw(&dir);
        for (i, sql) in crate::migrate::MIGRATIONS[..14].iter().enumerate() {
            c.execute_batch(&format!("{sql}; PRAGMA user_version = {};", i + 1))
                .unwrap();
        }
        c.execute_batch(
            "INSERT INTO api_roots VALUES ('conformance', 'C', NULL, 1000);
             INSERT INTO collections (api_root, id, title)
             VALUES ('conformance', '2f6a4f1e-6b8b-4c67-9b1a-3f1d4d9a0c01', 't');",
        )
        .unwrap();
        let o = object(1);
        c.execute(
            "INSERT INTO objects (ckey, id, type, version, version_key, spec_version,
                                  date_added, is_first, is_last, json)
             VALUES (1, ?1, 'indicator', ?2, ?3, '2.1', 1, 1, 1, ?4)",
            [&o.id, &o.version, &o.version_key, &o.json],
        )
        .unwrap();
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(read(&store, 1).await.unwrap(), object(1).json);
    let batch = (2..1_100).map(object).collect();
    store.add_objects(&collection(), batch).await.unwrap();
    let c = raw(&dir);
    let text_rows: i64 = c
        .query_row(
            "SELECT count(*) FROM objects WHERE packed IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(text_rows, 1, "the old row is left as it was");
    for n in [1, 2, 1_099] {
        assert_eq!(read(&store, n).await.unwrap(), object(n).json);
    }
}
