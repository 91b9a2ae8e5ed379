//! The PostgreSQL store against a real server at 127.0.0.1:5432 (trust auth, user
//! `postgres`). Each test creates a database of its own and drops it afterwards, so runs
//! never interfere.

use std::collections::HashSet;
use std::sync::Arc;

use comity_store::prelude::*;
use comity_store::{
    AddOutcome, CollectionRef, Cursor, NewObject, ObjectFilter, PageRequest, Store, StoreError,
    VersionFilter,
};
use comity_store_postgres::PgStore;
use sqlx::{Connection, Executor, PgConnection};

const SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// A database that exists for one test; dropped (with its connections) when this goes.
struct TestDb {
    name: String,
}

impl TestDb {
    async fn new() -> Self {
        let name = format!("comity_test_{}", uuid::Uuid::new_v4().simple());
        admin_exec(&format!("CREATE DATABASE {name}")).await;
        TestDb { name }
    }
    fn url(&self) -> String {
        format!("{SERVER}/{}", self.name)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Runs on a thread of its own: the test's runtime may be gone or panicking.
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(admin_exec(&sql));
        })
        .join()
        .ok();
    }
}

async fn admin_exec(sql: &str) {
    let mut c = PgConnection::connect(&format!("{SERVER}/postgres"))
        .await
        .expect("PostgreSQL must run at 127.0.0.1:5432 with trust auth for user postgres");
    c.execute(sql).await.unwrap();
    c.close().await.ok();
}

fn indicator(n: u32, modified: &str) -> NewObject {
    let id = format!("indicator--00000000-0000-4000-8000-{n:012}");
    NewObject {
        json: format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2020-01-01T00:00:00.000Z","modified":"{modified}","pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}}"#
        ),
        id,
        object_type: "indicator".into(),
        version: modified.into(),
        version_key: modified.replace(".000Z", ".000000000Z"),
        spec_version: "2.1".into(),
        values: Vec::new(),
    }
}

fn conformance_collection() -> CollectionRef {
    CollectionRef {
        api_root: "conformance".into(),
        id: "2f6a4f1e-6b8b-4c67-9b1a-3f1d4d9a0c01".into(),
    }
}

fn all_versions() -> ObjectFilter {
    ObjectFilter {
        versions: VersionFilter::all(),
        ..ObjectFilter::default()
    }
}

/// The store conformance suite, one test per check, each on a database of its own.
mod conformance {
    use super::*;

    comity_store::conformance_tests!(|| async {
        let db = TestDb::new().await;
        (PgStore::open(&db.url()).await.unwrap(), db)
    });
}

/// Two processes (two pools on one database) appending different events at the same
/// place of one request at once: one wins, the other is a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_appending_one_request_place_at_once_one_wins() {
    let db = TestDb::new().await;
    let a = PgStore::open(&db.url()).await.unwrap();
    let b = PgStore::open(&db.url()).await.unwrap();
    comity_store::conformance::request_appends_race_one_winner(&a, &b).await;
    a.close().await;
    b.close().await;
}

/// The same race from two tokio tasks of their own, started together behind a barrier,
/// each on its own handle: exactly one append of each place wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_appends_from_two_tasks_race_to_one_winner() {
    let db = TestDb::new().await;
    let a = Arc::new(PgStore::open(&db.url()).await.unwrap());
    let b = Arc::new(PgStore::open(&db.url()).await.unwrap());
    let id = "request--00000000-0000-4000-8000-000000000099";
    for n in 1..=8 {
        let log_before = a.transparency_log().log_size().await.unwrap();
        let outbox_before = a
            .outbox_after("identity--22222222-0000-4000-8000-000000000002", 0, 10_000)
            .await
            .unwrap()
            .len();
        let (x, y) = comity_store::conformance::racing_request_appends(id, n);
        let start = Arc::new(tokio::sync::Barrier::new(2));
        let task = |store: Arc<PgStore>, append: comity_store::RequestAppend| {
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                store.append_request_event(&append).await
            })
        };
        let (tx, ty) = (task(a.clone(), x), task(b.clone(), y));
        let outcomes = [tx.await.unwrap(), ty.await.unwrap()];
        comity_store::conformance::check_request_race(
            a.as_ref(),
            id,
            n,
            outcomes,
            log_before,
            outbox_before,
        )
        .await;
    }
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_is_idempotent_and_a_newer_schema_is_refused() {
    let db = TestDb::new().await;
    let store = PgStore::open(&db.url()).await.unwrap();
    let latest = PgStore::schema_version();
    assert_eq!(store.migrate().await.unwrap(), (latest, latest));
    comity_store::conformance::seed_small(&store).await;
    store.close().await;
    let again = PgStore::open(&db.url()).await.unwrap();
    assert_eq!(again.api_roots().await.unwrap().len(), 1);
    let mut c = PgConnection::connect(&db.url()).await.unwrap();
    c.execute(
        format!(
            "INSERT INTO comity_schema (version) VALUES ({})",
            latest + 1
        )
        .as_str(),
    )
    .await
    .unwrap();
    c.close().await.unwrap();
    again.close().await;
    match PgStore::open(&db.url()).await {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (latest + 1, latest));
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a newer schema must be refused"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_2_database_migrates_to_the_latest_and_keeps_its_collections() {
    assert_eq!(PgStore::schema_version(), 18);
    let db = TestDb::new().await;
    // What a build that knew two migrations left behind.
    let mut c = PgConnection::connect(&db.url()).await.unwrap();
    c.execute(
        "CREATE TABLE comity_schema (
             version    BIGINT PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await
    .unwrap();
    for sql in [
        include_str!("../migrations/0001_initial.sql"),
        include_str!("../migrations/0002_transparency_log.sql"),
    ] {
        c.execute(sql).await.unwrap();
    }
    c.execute(
        "INSERT INTO comity_schema (version) VALUES (1), (2);
         INSERT INTO api_roots VALUES ('conformance', 'Old', NULL, 1000);
         INSERT INTO collections (api_root, id, title, description)
         VALUES ('conformance', '2f6a4f1e-6b8b-4c67-9b1a-3f1d4d9a0c01', 'old', 'kept');",
    )
    .await
    .unwrap();
    c.close().await.unwrap();
    let store = PgStore::connect_only(&db.url()).await.unwrap();
    assert_eq!(store.schema_in_database().await.unwrap(), 2);
    assert_eq!(
        store.migrate().await.unwrap(),
        (2, PgStore::schema_version())
    );
    assert_eq!(
        store.schema_in_database().await.unwrap(),
        PgStore::schema_version()
    );
    let col = conformance_collection();
    let old = store
        .collection(&col.api_root, &col.id)
        .await
        .unwrap()
        .unwrap();
    // A plain collection was shared before collections had a federation setting: it stays
    // federated after the upgrade.
    assert!(store.collection_federated(&old.key()).await.unwrap());
    assert_eq!(
        (
            old.title.as_str(),
            old.description.as_deref(),
            old.view,
            old.origin
        ),
        ("old", Some("kept"), None, None)
    );
    assert!(store.tokens().await.unwrap().is_empty());
    assert!(store
        .registry(comity_store::RegistryKind::Member)
        .await
        .unwrap()
        .is_empty());
    assert!(store.outbox_stats().await.unwrap().is_empty());
    assert_eq!(store.inbox_last_seq("identity--x").await.unwrap(), 0);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_3_database_migrates_to_the_latest_and_keeps_its_views() {
    let db = TestDb::new().await;
    let mut c = PgConnection::connect(&db.url()).await.unwrap();
    c.execute(
        "CREATE TABLE comity_schema (
             version    BIGINT PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await
    .unwrap();
    for sql in [
        include_str!("../migrations/0001_initial.sql"),
        include_str!("../migrations/0002_transparency_log.sql"),
        include_str!("../migrations/0003_identity.sql"),
    ] {
        c.execute(sql).await.unwrap();
    }
    c.execute(
        r#"INSERT INTO comity_schema (version) VALUES (1), (2), (3);
           INSERT INTO api_roots VALUES ('conformance', 'Old', NULL, 1000);
           INSERT INTO collections (api_root, id, title, description, view)
           VALUES ('conformance', '2f6a4f1e-6b8b-4c67-9b1a-3f1d4d9a0c01', 'a view', NULL,
                   '{"source":"c1"}');"#,
    )
    .await
    .unwrap();
    c.close().await.unwrap();
    let store = PgStore::connect_only(&db.url()).await.unwrap();
    assert_eq!(
        store.migrate().await.unwrap(),
        (3, PgStore::schema_version())
    );
    let col = conformance_collection();
    let view = store
        .collection(&col.api_root, &col.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!store.collection_federated(&view.key()).await.unwrap());
    assert_eq!(
        (view.view.as_deref(), view.origin),
        (Some(r#"{"source":"c1"}"#), None)
    );
    assert!(store.outbox_peers().await.unwrap().is_empty());
    store.close().await;
}

/// Two pools are two processes: their pushes to one peer share one sequence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_pushing_to_one_peer_share_one_gapless_sequence() {
    let db = TestDb::new().await;
    let a = PgStore::open(&db.url()).await.unwrap();
    let b = PgStore::open(&db.url()).await.unwrap();
    comity_store::conformance::outbox_pushes_race_without_gaps(&a, &b).await;
    a.close().await;
    b.close().await;
}

/// Two pools are two processes as far as PostgreSQL can tell.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_writing_at_once_keep_one_date_order_and_paging_misses_nothing() {
    let db = TestDb::new().await;
    let a: Arc<dyn Store> = Arc::new(PgStore::open(&db.url()).await.unwrap());
    let b: Arc<dyn Store> = Arc::new(PgStore::open(&db.url()).await.unwrap());
    comity_store::conformance::seed_small(a.as_ref()).await;
    let col = conformance_collection();
    const BATCHES: u32 = 30;
    const PER_BATCH: u32 = 40;
    let mut writers = Vec::new();
    for (w, store) in [a.clone(), b.clone()].into_iter().enumerate() {
        let col = col.clone();
        writers.push(tokio::spawn(async move {
            let mut dates = Vec::new();
            for batch in 0..BATCHES {
                let base = (w as u32 * BATCHES + batch) * PER_BATCH;
                let objects = (base..base + PER_BATCH)
                    .map(|n| indicator(n, "2020-01-01T00:00:00.000Z"))
                    .collect();
                for o in store.add_objects(&col, objects).await.unwrap() {
                    match o {
                        AddOutcome::Added { date_added } => dates.push(date_added),
                        other => panic!("expected Added, got {other:?}"),
                    }
                }
            }
            dates
        }));
    }
    // A reader pages while both write, alternating between the two processes.
    let mut seen = HashSet::new();
    let mut after: Option<Cursor> = None;
    let mut last_date = i64::MIN;
    let mut turn = 0usize;
    let total = (2 * BATCHES * PER_BATCH) as usize;
    let mut writers_done = false;
    loop {
        let store = if turn.is_multiple_of(2) { &a } else { &b };
        turn += 1;
        let page = store
            .objects(&col, &all_versions(), &PageRequest { limit: 25, after })
            .await
            .unwrap();
        for o in &page.items {
            assert!(o.date_added > last_date, "date_added must increase");
            last_date = o.date_added;
            assert!(seen.insert(o.id.clone()), "repeated {}", o.id);
        }
        if let Some(cursor) = page.next {
            after = Some(cursor);
            continue;
        }
        if writers_done {
            break;
        }
        writers_done = writers.iter().all(|w| w.is_finished());
        // The end for now: continue after the last row seen (dates are unique store-wide);
        // rows committed later carry later dates.
        if !seen.is_empty() {
            after = Some(Cursor {
                date_added: last_date,
                row: i64::MAX,
            });
        }
        tokio::task::yield_now().await;
    }
    let mut dates = Vec::new();
    for w in writers {
        dates.extend(w.await.unwrap());
    }
    let unique: HashSet<i64> = dates.iter().copied().collect();
    assert_eq!(
        unique.len(),
        total,
        "every date_added is distinct across processes"
    );
    assert_eq!(seen.len(), total, "the pager saw every object exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_host_or_refused_login_is_unavailable_and_never_echoes_the_password() {
    for url in [
        "postgres://comity:hunter2-secret@127.0.0.1:1/comity",
        "postgres://no_such_role_here:hunter2-secret@127.0.0.1:5432/postgres",
        "postgres://postgres@127.0.0.1:5432/no_such_database?password=hunter2-secret",
        "postgres://comity:hunter2-secret@[bad/x",
    ] {
        match PgStore::open(url).await {
            Err(e @ StoreError::Unavailable(_)) => {
                let text = e.to_string();
                assert!(!text.contains("hunter2"), "password echoed: {text}");
                assert!(
                    text.contains("127.0.0.1") || text.contains("not a valid"),
                    "{text}"
                );
            }
            Err(other) => panic!("expected Unavailable for {url}, got {other}"),
            Ok(_) => panic!("{url} must not open"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_goes_away_is_unavailable_and_recovers_when_back() {
    let db = TestDb::new().await;
    let store = PgStore::open(&db.url()).await.unwrap();
    comity_store::conformance::seed_small(&store).await;
    let col = conformance_collection();
    let lock_out = |allow: bool| {
        format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS {allow};
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = '{name}' AND pid <> pg_backend_pid();",
            name = db.name
        )
    };
    admin_exec(&lock_out(false)).await;
    match store.count_objects(&col).await {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
    admin_exec(&lock_out(true)).await;
    assert_eq!(store.count_objects(&col).await.unwrap(), 0);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restored_versions_keep_their_dates_flags_and_resume_position() {
    let db = TestDb::new().await;
    let store = PgStore::open(&db.url()).await.unwrap();
    comity_store::conformance::seed_small(&store).await;
    let col = conformance_collection();
    assert_eq!(store.copy_position(&col).await.unwrap(), None);
    let first = vec![
        (indicator(1, "2021-01-01T00:00:00.000Z"), 10),
        (indicator(1, "2020-01-01T00:00:00.000Z"), 11),
    ];
    let reached = Cursor {
        date_added: 11,
        row: 2,
    };
    store.restore_versions(&col, &first, reached).await.unwrap();
    // Repeating a batch after an interruption stores nothing twice.
    store.restore_versions(&col, &first, reached).await.unwrap();
    assert_eq!(store.copy_position(&col).await.unwrap(), Some(reached));
    let page = store
        .objects(
            &col,
            &all_versions(),
            &PageRequest {
                limit: 10,
                after: None,
            },
        )
        .await
        .unwrap();
    let dates: Vec<i64> = page.items.iter().map(|o| o.date_added).collect();
    assert_eq!(dates, vec![10, 11]);
    let last = store
        .objects(
            &col,
            &ObjectFilter {
                versions: VersionFilter::last(),
                ..ObjectFilter::default()
            },
            &PageRequest {
                limit: 10,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(last.items.len(), 1);
    assert_eq!(last.items[0].version, "2021-01-01T00:00:00.000Z");
    // New additions continue after the restored dates.
    let out = store
        .add_objects(&col, vec![indicator(2, "2020-01-01T00:00:00.000Z")])
        .await
        .unwrap();
    assert!(matches!(out[0], AddOutcome::Added { date_added } if date_added > 11));
    store.close().await;
}

/// Restored versions post their values with them; versions restored again post nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restored_versions_post_their_values_once() {
    let db = TestDb::new().await;
    let store = PgStore::open(&db.url()).await.unwrap();
    comity_store::conformance::seed_small(&store).await;
    let col = conformance_collection();
    let value = comity_store::IndexedValue {
        kind: "ipv4-addr".into(),
        value: "10.0.0.1".into(),
        net: None,
    };
    let with_value = |modified: &str| {
        let mut o = indicator(1, modified);
        o.values = vec![value.clone()];
        o
    };
    let versions = vec![
        (with_value("2021-01-01T00:00:00.000Z"), 10),
        (with_value("2020-01-01T00:00:00.000Z"), 11),
    ];
    let reached = Cursor {
        date_added: 11,
        row: 2,
    };
    store
        .restore_versions(&col, &versions, reached)
        .await
        .unwrap();
    assert_eq!(store.posting_count().await.unwrap(), 2);
    store
        .restore_versions(&col, &versions, reached)
        .await
        .unwrap();
    assert_eq!(store.posting_count().await.unwrap(), 2);
    let found = store.postings(&value).await.unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found.iter().filter(|p| p.is_last).count(), 1);
}

/// Indicator `n` of a run that differ the way real ones do.
fn varied(n: u32) -> NewObject {
    let mut o = indicator(n, "2020-01-01T00:00:00.000Z");
    o.json = o.json.replace(
        "10.0.0.1",
        &format!(
            "{}.{}.{}.{} n° {n} ☃",
            n % 223,
            n % 251,
            (n / 3) % 253,
            n % 7
        ),
    );
    o
}

async fn read_one(store: &PgStore, n: u32) -> comity_store::StoreResult<String> {
    let filter = ObjectFilter {
        ids: vec![varied(n).id],
        ..all_versions()
    };
    let page = PageRequest {
        limit: 10,
        after: None,
    };
    let mut items = store
        .objects(&conformance_collection(), &filter, &page)
        .await?
        .items;
    assert_eq!(items.len(), 1);
    Ok(items.remove(0).json)
}

/// Dictionaries are trained as the store grows (at 1,000 rows, then tenfold); rows of every
/// dictionary, and rows of plain zstd written before the first, read back byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_every_dictionary_read_back_after_newer_ones() {
    let db = TestDb::new().await;
    let store = PgStore::open(&db.url()).await.unwrap();
    comity_store::conformance::seed_small(&store).await;
    let total = 12_400u32;
    for start in (0..total).step_by(400) {
        let batch = (start..start + 400).map(varied).collect();
        store
            .add_objects(&conformance_collection(), batch)
            .await
            .unwrap();
    }
    let mut c = PgConnection::connect(&db.url()).await.unwrap();
    let trained: Vec<(i64, i64, i32)> =
        sqlx::query_as("SELECT id, trained_at, length(bytes) FROM dictionaries ORDER BY id")
            .fetch_all(&mut c)
            .await
            .unwrap();
    assert_eq!(trained.len(), 2, "{trained:?}");
    assert_eq!((trained[0].1, trained[1].1), (1_200, 12_000));
    assert!(trained.iter().all(|t| t.2 > 1_000), "{trained:?}");
    let by_dictionary: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT count(*), dictionary FROM objects WHERE packed IS NOT NULL
         GROUP BY dictionary ORDER BY dictionary NULLS FIRST",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert_eq!(
        by_dictionary,
        vec![(1_200, None), (10_800, Some(1)), (400, Some(2))]
    );
    let (text, packed): (i64, i64) = sqlx::query_as(
        "SELECT sum(length(json))::bigint, sum(length(packed))::bigint FROM objects",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(text, 0);
    let plain: usize = (0..total).map(|n| varied(n).json.len()).sum();
    assert!(packed as usize * 3 < plain, "{packed} of {plain}");
    store.close().await;
    let store = PgStore::open(&db.url()).await.unwrap();
    for n in [0, 1_199, 1_200, 5_000, 11_999, 12_000, total - 1] {
        assert_eq!(read_one(&store, n).await.unwrap(), varied(n).json, "{n}");
    }
    store.close().await;
}

/// A damaged frame fails its read with the row's number; a row as schema 14 wrote it (text,
/// no frame) reads as it is beside packed ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_rows_are_refused_and_text_rows_read_as_they_are() {
    let db = TestDb::new().await;
    let store = PgStore::open(&db.url()).await.unwrap();
    comity_store::conformance::seed_small(&store).await;
    let batch = (0..1_500).map(varied).collect();
    store
        .add_objects(&conformance_collection(), batch)
        .await
        .unwrap();
    let mut c = PgConnection::connect(&db.url()).await.unwrap();
    let (seq, mut frame): (i64, Vec<u8>) =
        sqlx::query_as("SELECT seq, packed FROM objects WHERE id = $1")
            .bind(varied(7).id)
            .fetch_one(&mut c)
            .await
            .unwrap();
    let mid = frame.len() / 2;
    frame[mid] ^= 0xff;
    sqlx::query("UPDATE objects SET packed = $1 WHERE seq = $2")
        .bind(&frame)
        .bind(seq)
        .execute(&mut c)
        .await
        .unwrap();
    let e = read_one(&store, 7).await.unwrap_err().to_string();
    assert!(e.contains(&format!("stored object row {seq}:")), "{e}");
    assert_eq!(read_one(&store, 8).await.unwrap(), varied(8).json);
    sqlx::query("UPDATE objects SET json = $1, packed = NULL, dictionary = NULL WHERE id = $2")
        .bind(varied(9).json)
        .bind(varied(9).id)
        .execute(&mut c)
        .await
        .unwrap();
    assert_eq!(read_one(&store, 9).await.unwrap(), varied(9).json);
    store.close().await;
}
