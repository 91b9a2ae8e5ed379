//! What sealed envelopes cost replication: an envelope of 1,000 GREEN indicators queued for
//! a peer (sealed twice: to the peer, and the outbox's own copy), leaving after the policy
//! was checked again (the own copy opened, sealed to the peer anew), and opened by the peer
//! on arrival. Wall clock; criterion reports it per indicator (`elements`).

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use comity_node::federation::envelope::{Envelope, Kind};
use comity_node::federation::seal::{leaving_body, open_received, OpeningKey, Sealer};
use comity_node::identity::NodeKey;
use comity_node::policy::{MarkingDefinitions, MemberId};
use comity_node::registry::Federation;
use comity_store::{OutboxEntry, OutboxKind};
use comity_tlog::note::{KeyKind, Signer};
use criterion::{criterion_main, Criterion, Throughput};
use serde_json::value::RawValue;

const A: &str = "identity--5e1c0c4e-3f3a-4b0e-9d6e-0b0a3d7c1a11";
const B: &str = "identity--aaaaaaaa-0000-4000-8000-000000000001";
const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const OBJECTS: usize = 1_000;

fn key(seed: u8) -> NodeKey {
    let signing = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    NodeKey::from_log_signer(&Signer::new("comity/bench", KeyKind::Ed25519, signing).unwrap())
        .unwrap()
}

/// A `stix-objects` body of [`OBJECTS`] indicators of about 400 bytes each.
fn body() -> String {
    let objects: Vec<String> = (0..OBJECTS)
        .map(|i| {
            format!(
                r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{i:08x}-0000-4000-8000-000000000000","created":"2026-12-01T00:00:00.000Z","modified":"2026-12-01T00:00:00.000Z","name":"C2 server {i}","pattern":"[ipv4-addr:value = '198.51.{}.{}']","pattern_type":"stix","valid_from":"2026-12-01T00:00:00Z","created_by_ref":"{A}","object_marking_refs":["{GREEN}"]}}"#,
                i / 256 % 256,
                i % 256
            )
        })
        .collect();
    format!(r#"{{"objects":[{}]}}"#, objects.join(","))
}

fn seal(c: &mut Criterion) {
    let (a, b) = (key(1), key(2));
    let federation = Federation {
        local: Some(MemberId(A.into())),
        local_roles: Default::default(),
        peers: HashMap::new(),
        changed_at: 0,
        markings: Arc::new(MarkingDefinitions::from_json(std::iter::empty())),
        encryption_keys: Arc::new(HashMap::from([(
            B.to_owned(),
            OpeningKey::of(&b).public_key().clone(),
        )])),
    };
    let sealer = Sealer::new(A, &a, &federation);
    let plaintext = body();
    let item = sealer.item(B, OutboxKind::StixObjects, plaintext.clone());
    let entry = OutboxEntry {
        peer: B.into(),
        seq: 1,
        id: item.id.clone(),
        kind: OutboxKind::StixObjects,
        created_at: item.created_at,
        body: item.body.clone(),
        delivered_at: None,
        receipt: None,
        attempts: 0,
        next_attempt_at: 0,
        last_error: None,
    };
    let leave =
        |fresh| leaving_body(&federation, &a, A, &entry, Kind::StixObjects, fresh, Ok).unwrap();
    let mut envelope = Envelope::new(
        A,
        B,
        Kind::StixObjects,
        1,
        RawValue::from_string(leave(true)).unwrap(),
    );
    envelope.id = item.id.clone();
    let opening = OpeningKey::of(&b);
    assert_eq!(open_received(&envelope, &opening).unwrap().get(), plaintext);

    let mut g = c.benchmark_group("seal");
    g.throughput(Throughput::Elements(OBJECTS as u64));
    g.bench_function("queue: sealed to the peer and for the outbox", |bench| {
        bench.iter(|| black_box(sealer.item(B, OutboxKind::StixObjects, plaintext.clone())))
    });
    g.bench_function(
        "leave: own copy opened, policy rechecked, sealed again",
        |bench| bench.iter(|| black_box(leave(false))),
    );
    g.bench_function("arrive: opened by the peer", |bench| {
        bench.iter(|| black_box(open_received(&envelope, &opening).unwrap()))
    });
    g.bench_function("baseline: the plaintext copied", |bench| {
        bench.iter(|| black_box(plaintext.clone()))
    });
    g.finish();
}

fn benches() {
    let mut c = Criterion::default().configure_from_args();
    seal(&mut c);
}

criterion_main!(benches);
