//! Benchmarks of the compiled engine: compiling 100,000 indicators, matching an
//! equality-heavy and a mixed stream of SCO observations against them, the throughput
//! curve from 1,000 to 1,000,000 indicators, and the memory one indicator takes.
//!
//! The indicator mix is about 80% equality (IPv4, domain, URL, file hashes), 10% CIDR
//! (ISSUBSET) and 10% LIKE / MATCHES / compound comparisons.

use std::hint::black_box;
use std::time::Instant;

use comity_pattern::{Engine, IndicatorMeta, Observation, StixVersion, Timestamp};
use criterion::{criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};

/// A 64-bit mix (splitmix64), for reproducible pseudo-random values.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn ip(i: u64) -> String {
    let h = mix(i);
    format!("10.{}.{}.{}", h >> 16 & 255, h >> 8 & 255, h & 255)
}

fn sha256(i: u64) -> String {
    (0..4).map(|k| format!("{:016x}", mix(i * 4 + k))).collect()
}

/// The pattern of indicator `i` in the mixed set.
fn pattern(i: u64) -> String {
    match i % 10 {
        0..=7 => match (i / 10) % 4 {
            0 => format!("[ipv4-addr:value = '{}']", ip(i)),
            1 => format!("[domain-name:value = 'd{i}.example']"),
            2 => format!("[url:value = 'http://u{i}.example/x']"),
            _ => format!("[file:hashes.'SHA-256' = '{}']", sha256(i)),
        },
        8 => format!(
            "[ipv4-addr:value ISSUBSET '172.{}.{}.0/24']",
            i % 200,
            (i / 200) % 250
        ),
        _ => match (i / 10) % 3 {
            0 => format!("[domain-name:value LIKE '%.bad{i}.example']"),
            1 => format!("[url:value MATCHES '^https?://m{i}\\\\.example/']"),
            _ => format!("[file:name = 'x{i}.exe' AND file:size > 100]"),
        },
    }
}

fn engine(n: u64) -> Engine {
    let mut e = Engine::new();
    for i in 0..n {
        let meta = IndicatorMeta {
            id: format!("indicator--{i:08}"),
            valid_from: None,
            valid_until: None,
            revoked: false,
        };
        e.add(meta, &pattern(i), StixVersion::V21).unwrap();
    }
    e.prepare();
    e
}

/// SCOs whose values hit an indicator one time in ten (for a set of `n` indicators).
fn stream(len: u64, n: u64, mixed: bool) -> Vec<Value> {
    (0..len)
        .map(|k| {
            let h = mix(k ^ 0xabcdef);
            let i = if h.is_multiple_of(10) { (h >> 8) % n } else { n + (h >> 8) % 1_000_000_000 };
            let kind = if mixed { (h >> 40) % 4 } else { [0, 3][((h >> 40) % 2) as usize] };
            match kind {
                0 => json!({"type": "ipv4-addr", "value": ip(i)}),
                1 => json!({"type": "domain-name", "value": format!("d{i}.example")}),
                2 => json!({"type": "url", "value": format!("http://u{i}.example/x")}),
                _ => json!({"type": "file", "hashes": {"SHA-256": sha256(i)}, "name": format!("f{i}")}),
            }
        })
        .collect()
}

fn run_stream(e: &mut Engine, scos: &[Value], at: Timestamp) -> usize {
    let mut hits = 0;
    for sco in scos {
        let o = Observation::new(None, at, at, 1, vec![("0", sco)]);
        hits += e.matches(&o).len();
    }
    hits
}

/// CPU time this thread has run, from the scheduler (the machine may be shared, so wall
/// time overstates the cost; both are reported).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Runs `f`, printing its wall and CPU time and, given a count, rates per second.
fn timed<T>(what: &str, count: u64, f: impl FnOnce() -> T) -> T {
    let (wall, cpu) = (Instant::now(), cpu_ns());
    let out = f();
    let (wall, cpu) = (wall.elapsed().as_secs_f64(), (cpu_ns() - cpu) as f64 / 1e9);
    eprintln!(
        "REPORT {what}: wall {:.3} s ({:.0}/s), cpu {:.3} s ({:.0}/s)",
        wall,
        count as f64 / wall,
        cpu,
        count as f64 / cpu
    );
    out
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Prints the figures the benchmark targets name, measured once with CPU time as well
/// as wall time: compile time, memory per equality indicator, stream rates, the curve.
fn report(c: &mut Criterion) {
    let at = Timestamp::parse("2024-06-01T00:00:00Z").unwrap();
    let before = rss_bytes();
    let mut e = timed("compile 100000 equality indicators", 100_000, || {
        let mut e = Engine::new();
        for i in 0..100_000u64 {
            let meta = IndicatorMeta {
                id: format!("indicator--{i:08}"),
                valid_from: None,
                valid_until: None,
                revoked: false,
            };
            let p = if i % 2 == 0 {
                format!("[ipv4-addr:value = '{}']", ip(i))
            } else {
                format!("[file:hashes.'SHA-256' = '{}']", sha256(i))
            };
            e.add(meta, &p, StixVersion::V21).unwrap();
        }
        e
    });
    eprintln!(
        "REPORT memory per equality indicator: index {} bytes; resident total (index, compiled pattern, metadata) {} bytes",
        e.index_memory() / 100_000,
        rss_bytes().saturating_sub(before) / 100_000
    );
    let scos = stream(200_000, 100_000, false);
    timed(
        "equality-only index, equality-heavy stream",
        200_000,
        || run_stream(&mut e, &scos, at),
    );
    drop(e);
    let mut e = timed("compile 100000 mixed indicators", 100_000, || {
        engine(100_000)
    });
    for (name, mixed) in [("equality-heavy", false), ("mixed", true)] {
        let scos = stream(200_000, 100_000, mixed);
        let hits = timed(
            &format!("100000 mixed indicators, {name} stream"),
            200_000,
            || run_stream(&mut e, &scos, at),
        );
        eprintln!("REPORT   ({hits} hits)");
    }
    drop(e);
    for n in [1_000u64, 10_000, 100_000, 1_000_000] {
        let mut e = engine(n);
        let scos = stream(200_000, n, false);
        timed(
            &format!("curve: {n} mixed indicators, equality-heavy stream"),
            200_000,
            || run_stream(&mut e, &scos, at),
        );
    }
    let _ = c;
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("100k_mixed_indicators", |b| {
        b.iter(|| black_box(engine(100_000)))
    });
    g.finish();
}

fn streams(c: &mut Criterion) {
    let at = Timestamp::parse("2024-06-01T00:00:00Z").unwrap();
    let n = 100_000;
    let mut e = engine(n);
    let mut g = c.benchmark_group("stream_100k_indicators");
    for (name, mixed) in [("equality_heavy", false), ("mixed", true)] {
        let scos = stream(20_000, n, mixed);
        eprintln!(
            "REPORT {name}: {} hits per {} observations",
            run_stream(&mut e, &scos, at),
            scos.len()
        );
        g.throughput(Throughput::Elements(scos.len() as u64));
        g.bench_function(name, |b| b.iter(|| run_stream(&mut e, &scos, at)));
    }
    g.finish();
}

fn curve(c: &mut Criterion) {
    let at = Timestamp::parse("2024-06-01T00:00:00Z").unwrap();
    let mut g = c.benchmark_group("curve_equality_heavy");
    g.sample_size(10);
    for n in [1_000u64, 10_000, 100_000, 1_000_000] {
        let mut e = engine(n);
        let scos = stream(20_000, n, false);
        g.throughput(Throughput::Elements(scos.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &scos, |b, scos| {
            b.iter(|| run_stream(&mut e, scos, at))
        });
    }
    g.finish();
}

mod group {
    //! The criterion group (its generated function carries no documentation).
    #![allow(missing_docs)]
    use super::{compile, curve, report, streams};
    criterion::criterion_group!(benches, report, compile, streams, curve);
}

criterion_main!(group::benches);
