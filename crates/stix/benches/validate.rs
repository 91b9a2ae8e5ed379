//! Validation speed: a typical indicator (target: at most 5 µs on one core), an ATT&CK
//! technique, an SCO with a deterministic id, and the whole ICS ATT&CK bundle per object.

mod common;

use std::hint::black_box;

use comity_stix::validate;
use criterion::{criterion_main, Criterion, Throughput};
use serde_json::{json, Value};

fn indicator() -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
        "created": "2016-04-06T20:03:48.000Z",
        "modified": "2016-04-06T20:03:48.000Z",
        "indicator_types": ["malicious-activity"],
        "name": "Poison Ivy Malware",
        "description": "This file is part of Poison Ivy",
        "pattern": "[ file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877' ]",
        "pattern_type": "stix",
        "valid_from": "2016-01-01T00:00:00Z",
        "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],
        "kill_chain_phases": [{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"}],
        "external_references": [{"source_name": "capec", "external_id": "CAPEC-163"}]
    })
}

fn bench(c: &mut Criterion) {
    let indicator = indicator();
    assert!(validate(&indicator).is_valid());
    c.bench_function("validate/indicator", |b| {
        b.iter(|| validate(black_box(&indicator)))
    });

    let objects = common::ics_objects();
    let technique = objects
        .iter()
        .find(|o| o["type"] == "attack-pattern")
        .cloned()
        .expect("a technique");
    c.bench_function("validate/attack-pattern (ICS ATT&CK)", |b| {
        b.iter(|| validate(black_box(&technique)))
    });

    let file = json!({
        "type": "file", "spec_version": "2.1", "id": "file--6b4c3b9c-3a9a-5e1e-9a4b-6b2b0b3b7d1e",
        "name": "foo.exe", "hashes": {"SHA-256": "4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877"}
    });
    c.bench_function("validate/file SCO with deterministic id check", |b| {
        b.iter(|| validate(black_box(&file)))
    });

    let mut group = c.benchmark_group("validate/ics-attack-18.1 bundle");
    group.throughput(Throughput::Elements(objects.len() as u64));
    group.bench_function("all objects", |b| {
        b.iter(|| {
            objects
                .iter()
                .filter(|o| validate(black_box(o)).is_valid())
                .count()
        })
    });
    group.finish();
}

/// Nanoseconds this thread has spent on a CPU (Linux schedstat), immune to waiting for a
/// core on a shared machine, unlike criterion's wall-clock figures.
fn on_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Prints the on-CPU cost per validated object for `objects`, repeated `rounds` times.
fn on_cpu_per_object(label: &str, objects: &[Value], rounds: usize) {
    let (Some(start), wall) = (on_cpu_ns(), std::time::Instant::now()) else {
        return;
    };
    let mut valid = 0;
    for _ in 0..rounds {
        valid += objects
            .iter()
            .filter(|o| validate(black_box(o)).is_valid())
            .count();
    }
    let n = (objects.len() * rounds) as f64;
    let cpu_us = on_cpu_ns().map_or(f64::NAN, |end| (end - start) as f64 / n / 1e3);
    let wall_us = wall.elapsed().as_secs_f64() * 1e6 / n;
    // The OASIS stix2-validator 3.3 (Python), SHOULD checks disabled, takes about 17 ms per
    // ATT&CK object on this machine (measured by tests/python/test_stix_validator_oracle.py's runs).
    println!(
        "{label}: {cpu_us:.2} µs/object on CPU, {wall_us:.2} µs wall ({valid} valid); \
         ~{:.0}x faster than stix2-validator's ~17 ms",
        17_000.0 / cpu_us
    );
}

/// Runs the validation benchmarks with criterion's command-line configuration, then prints
/// on-CPU figures.
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    on_cpu_per_object("on-CPU indicator", &[indicator()], 200_000);
    on_cpu_per_object("on-CPU ics-attack-18.1 objects", &common::ics_objects(), 20);
}

criterion_main!(benches);
