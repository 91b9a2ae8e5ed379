//! Proof and append throughput of the pure tree code, at 10,000,000 entries,
//! with an in-memory `HashReader` (a `Vec` of stored hashes). Targets from
//! issue 4: inclusion-proof generation ≥ 100,000/s, verification ≥ 200,000/s.
//! Figures and commands are recorded in `bench/RESULTS-tlog.md`.
//!
//! The clock is the benchmark thread's CPU time (`/proc/thread-self/schedstat`)
//! because the build machine is shared; `TLOG_BENCH_CLOCK=wall` switches to
//! criterion's wall clock.

use std::hint::black_box;
use std::time::{Duration, Instant};

use comity_tlog::checkpoint::Checkpoint;
use comity_tlog::entry::{LogEntry, OBJECT_ACCEPTED};
use comity_tlog::note::{KeyKind, Signer};
use comity_tlog::proof::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion, InclusionVerifier,
    Prover,
};
use comity_tlog::tree::{stored_hashes_for_append, tree_hash};
use comity_tlog::Hash;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_main, Criterion, Throughput};
use ed25519_dalek::SigningKey;

/// Tree size for the proof benchmarks; `TLOG_BENCH_SIZE` overrides it.
fn tree_size() -> u64 {
    std::env::var("TLOG_BENCH_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000)
}

/// A typical entry: an `object.accepted` commitment (version 2, about 120 bytes).
fn entry(i: u64) -> Vec<u8> {
    LogEntry {
        kind: OBJECT_ACCEPTED.into(),
        time: 1_795_737_600_000_000 + i as i64,
        actor: "identity--5e1c0c4e-3f3a-4b0e-9d6e-0b0a3d7c1a11".into(),
        subject: format!("indicator--00000000-0000-4000-8000-{i:012}@2026-11-27T00:00:00.000Z"),
        sha256: [7; 32],
    }
    .seal(Hash::leaf(&i.to_le_bytes()).0)
    .expect("valid entry")
    .0
}

/// Deterministic pseudo-random indexes below `n` (xorshift).
fn indexes(n: u64, count: usize) -> Vec<u64> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        })
        .collect()
}

fn build(n: u64) -> Vec<Hash> {
    let started = Instant::now();
    let mut stored = Vec::with_capacity(2 * n as usize);
    for i in 0..n {
        // Leaf hashes of distinct short inputs: the tree shape, not the
        // entry size, is what proofs depend on.
        let leaf = Hash::leaf(&i.to_be_bytes());
        let new = stored_hashes_for_append(i, leaf, &stored).expect("append");
        stored.extend(new);
    }
    eprintln!(
        "built a tree of {n} entries ({} stored hashes) in {:.1?}",
        stored.len(),
        started.elapsed()
    );
    stored
}

fn proofs<M: Measurement>(c: &mut Criterion<M>) {
    let n = tree_size();
    let stored = build(n);
    let root = tree_hash(n, &stored).expect("root");
    let picks = indexes(n, 1 << 16);

    let mut g = c.benchmark_group(format!("tree_{n}"));
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(8));

    let mut k = 0;
    g.bench_function("inclusion_proof_generate", |b| {
        b.iter(|| {
            k = (k + 1) % picks.len();
            black_box(inclusion_proof(picks[k], n, &stored).expect("proof"))
        })
    });

    let prover = Prover::new(n, &stored).expect("prover");
    let mut k = 0;
    g.bench_function("inclusion_proof_generate_prover", |b| {
        b.iter(|| {
            k = (k + 1) % picks.len();
            black_box(prover.inclusion_proof(picks[k]).expect("proof"))
        })
    });

    let leaves: Vec<Hash> = picks
        .iter()
        .map(|&i| Hash::leaf(&i.to_be_bytes()))
        .collect();
    let made: Vec<Vec<Hash>> = picks
        .iter()
        .map(|&i| inclusion_proof(i, n, &stored).expect("proof"))
        .collect();
    let mut k = 0;
    g.bench_function("inclusion_proof_verify", |b| {
        b.iter(|| {
            k = (k + 1) % picks.len();
            verify_inclusion(&made[k], picks[k], n, &leaves[k], &root).expect("verifies")
        })
    });

    let mut k = 0;
    let mut cached = InclusionVerifier::new(n, root).expect("verifier");
    g.bench_function("inclusion_proof_verify_cached", |b| {
        b.iter(|| {
            k = (k + 1) % picks.len();
            cached
                .verify(&made[k], picks[k], &leaves[k])
                .expect("verifies")
        })
    });

    let olds: Vec<u64> = picks.iter().map(|&i| i.max(1)).collect();
    let mut k = 0;
    g.bench_function("consistency_proof_generate", |b| {
        b.iter(|| {
            k = (k + 1) % olds.len();
            black_box(consistency_proof(olds[k], n, &stored).expect("proof"))
        })
    });

    let old = olds[0];
    let old_root = tree_hash(old, &stored).expect("old root");
    let cproof = consistency_proof(old, n, &stored).expect("proof");
    g.bench_function("consistency_proof_verify", |b| {
        b.iter(|| verify_consistency(&cproof, old, n, &old_root, &root).expect("verifies"))
    });
    g.finish();
}

fn appends<M: Measurement>(c: &mut Criterion<M>) {
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    let entries: Vec<Vec<u8>> = (0..4096).map(entry).collect();
    // Leaf hash of a ~250-byte entry plus the stored hashes it completes,
    // appended to an in-memory store: the pure cost of one durable append.
    // The store restarts (without freeing) every 2^22 entries.
    let mut stored: Vec<Hash> = Vec::with_capacity(1 << 24);
    let mut next = 0u64;
    g.bench_function("leaf_hash_and_stored_hashes", |b| {
        b.iter(|| {
            if next == 1 << 22 {
                stored.clear();
                next = 0;
            }
            let leaf = Hash::leaf(&entries[(next % 4096) as usize]);
            let new = stored_hashes_for_append(next, leaf, &stored).expect("append");
            stored.extend(new);
            next += 1;
        })
    });
    g.finish();
}

/// One RFC 9162 interior-node hash (two SHA-256 blocks): the unit every
/// proof verification costs about log2(n) of.
fn node_hash<M: Measurement>(c: &mut Criterion<M>) {
    let mut g = c.benchmark_group("hash");
    g.throughput(Throughput::Elements(1));
    let right = Hash::leaf(b"right");
    let mut h = Hash::leaf(b"left");
    g.bench_function("node", |b| {
        b.iter(|| {
            h = Hash::node(&h, &right);
            h
        })
    });
    // The named peer: the same hash with the pure-Rust `sha2` crate.
    use sha2::{Digest, Sha256};
    let mut p = [0u8; 32];
    g.bench_function("node_sha2_peer", |b| {
        b.iter(|| {
            let mut buf = [0u8; 65];
            buf[0] = 1;
            buf[1..33].copy_from_slice(&p);
            buf[33..].copy_from_slice(&right.0);
            p = Sha256::digest(buf).into();
            p
        })
    });
    g.finish();
}

fn checkpoints<M: Measurement>(c: &mut Criterion<M>) {
    let log = Signer::new(
        "comity.example/bench",
        KeyKind::Ed25519,
        SigningKey::from_bytes(&[1; 32]),
    )
    .expect("key");
    let cp = Checkpoint {
        origin: "comity.example/bench".into(),
        size: 10_000_000,
        root: Hash::leaf(b"root"),
        extensions: vec![],
    };
    let msg = cp.sign(&log).expect("sign").to_string();
    let verifiers = [log.verifier()];
    let mut g = c.benchmark_group("checkpoint");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign", |b| {
        b.iter(|| black_box(cp.sign(&log).expect("sign")))
    });
    g.bench_function("open_and_verify", |b| {
        b.iter(|| {
            Checkpoint::open(msg.as_bytes(), "comity.example/bench", &verifiers).expect("opens")
        })
    });
    g.finish();
}

/// Thread CPU time in nanoseconds, from `/proc/thread-self/schedstat`.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("/proc/thread-self/schedstat is readable")
}

/// Criterion measurement: CPU time of the benchmark thread.
struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, started: u64) -> u64 {
        thread_cpu_ns() - started
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuNanos
    }
}

/// Formats CPU nanoseconds as times and element rates.
struct CpuNanos;

impl ValueFormatter for CpuNanos {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = match typical {
            t if t < 1e3 => (1.0, "ns (cpu)"),
            t if t < 1e6 => (1e3, "µs (cpu)"),
            _ => (1e6, "ms (cpu)"),
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }
    fn scale_throughputs(
        &self,
        typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let per = match throughput {
            Throughput::Elements(n)
            | Throughput::Bytes(n)
            | Throughput::BytesDecimal(n)
            | Throughput::Bits(n) => *n as f64,
        };
        let rate = |ns: f64| per * 1e9 / ns;
        let (div, unit) = match rate(typical) {
            r if r < 1e3 => (1.0, "elem/s (cpu)"),
            r if r < 1e6 => (1e3, "Kelem/s (cpu)"),
            _ => (1e6, "Melem/s (cpu)"),
        };
        values.iter_mut().for_each(|v| *v = rate(*v) / div);
        unit
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn run<M: Measurement>(mut c: Criterion<M>) {
    node_hash(&mut c);
    appends(&mut c);
    checkpoints(&mut c);
    proofs(&mut c);
}

/// Runs the benchmarks with criterion's command-line configuration.
fn benches() {
    let base = Criterion::default().sample_size(20);
    if std::env::var("TLOG_BENCH_CLOCK").as_deref() == Ok("wall") {
        run(base.with_measurement(WallTime).configure_from_args());
    } else {
        run(base.with_measurement(ThreadCpuTime).configure_from_args());
    }
}

criterion_main!(benches);
