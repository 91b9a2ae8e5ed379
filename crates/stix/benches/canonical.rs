//! RFC 8785 canonical JSON of the ICS ATT&CK bundle's objects (hashed for every object a
//! node stores), beside the `serde_json_canonicalizer` crate in the same run.

mod common;

use std::hint::black_box;

use comity_stix::canonical_json;
use criterion::{criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let objects = common::ics_objects();
    for o in &objects {
        assert_eq!(
            canonical_json(o),
            serde_json_canonicalizer::to_string(o).unwrap()
        );
    }
    let mut group = c.benchmark_group("canonical/ics-attack-18.1 objects");
    group.throughput(Throughput::Elements(objects.len() as u64));
    group.bench_function("comity", |b| {
        b.iter(|| {
            objects
                .iter()
                .map(|o| canonical_json(black_box(o)).len())
                .sum::<usize>()
        })
    });
    group.bench_function("serde_json_canonicalizer", |b| {
        b.iter(|| {
            objects
                .iter()
                .map(|o| {
                    serde_json_canonicalizer::to_string(black_box(o))
                        .unwrap()
                        .len()
                })
                .sum::<usize>()
        })
    });
    group.finish();
}

/// Runs the benchmark with criterion's command-line configuration.
fn benches() {
    bench(&mut Criterion::default().configure_from_args());
}

criterion_main!(benches);
