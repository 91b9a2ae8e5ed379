//! Durable, batched appends to the transparency log on SQLite, in entries per second.
//!
//! `cargo bench -p comity-store-sqlite --bench log_append` appends 200,000 entries in
//! batches of 1,000 (each batch one committed, fsynced transaction with its stored hashes)
//! and prints wall-clock and process-CPU rates; the machine may be shared, so both are given.

use std::time::Instant;

use comity_store::Store;
use comity_store_sqlite::SqliteStore;

const TOTAL: u64 = 200_000;
const BATCH: u64 = 1_000;

/// CPU seconds used by this process so far (user + system, from /proc).
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(dir.path()).expect("a fresh store");
    let log = store.transparency_log();
    let entry = |i: u64| format!(r#"{{"kind":"bench.append","n":{i},"v":1}}"#).into_bytes();
    let cpu_before = process_cpu_seconds();
    let started = Instant::now();
    for batch in 0..TOTAL / BATCH {
        let entries = (0..BATCH).map(|j| entry(batch * BATCH + j)).collect();
        log.append_entries(entries).await.expect("append");
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds() - cpu_before;
    assert_eq!(log.log_size().await.expect("size"), TOTAL);
    println!(
        "log_append: {TOTAL} entries in batches of {BATCH}: {:.0} entries/s wall ({wall:.2} s), {:.0} entries/s per CPU second ({cpu:.2} s CPU)",
        TOTAL as f64 / wall,
        TOTAL as f64 / cpu.max(1e-9),
    );
}
