//! What the sharing policy costs at an exit: [`Release::object`] on typical stored
//! indicators, as a TAXII page of a local user's own objects and as a policy view of a
//! peer under an agreement (TLP:GREEN, a handling code, a granular marking on half of
//! them, so that some are redacted). Wall clock, objects per second.

use std::collections::BTreeSet;
use std::hint::black_box;

use comity_node::policy::{
    Agreement, AgreementStatus, Channel, HandlingCode, MemberId, MemberStatus, Peer, Purpose, Role,
    Scope, Tlp,
};
use comity_node::registry::Federation;
use comity_node::release::Release;
use criterion::{criterion_main, Criterion, Throughput};
use time::OffsetDateTime;

const LOCAL: &str = "identity--5e1c0c4e-3f3a-4b0e-9d6e-0b0a3d7c1a11";
const PEER: &str = "identity--aaaaaaaa-0000-4000-8000-000000000001";
const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";

fn indicator(i: usize, marked: bool) -> String {
    let markings = if marked {
        let granular = if i.is_multiple_of(2) {
            format!(
                r#","granular_markings":[{{"selectors":["description"],"marking_ref":"{AMBER}"}}]"#
            )
        } else {
            String::new()
        };
        format!(
            r#","object_marking_refs":["{GREEN}"],"x_comity_handling":{{"codes":["H1"]}}{granular}"#
        )
    } else {
        String::new()
    };
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{i:012}","created":"2026-11-27T08:00:00.000Z","modified":"2026-11-27T08:00:00.000Z","created_by_ref":"{LOCAL}","name":"C2 server {i}","description":"Command and control server seen in campaign {i}, reported by partners.","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '203.0.{}.{}']","pattern_type":"stix","valid_from":"2026-11-27T08:00:00Z","labels":["c2","campaign"]{markings}}}"#,
        (i >> 8) & 255,
        i & 255
    )
}

fn federation() -> Federation {
    let agreement = Agreement {
        id: "agreement--1".into(),
        parties: [MemberId(LOCAL.into()), MemberId(PEER.into())].into(),
        scope: Scope {
            object_types: BTreeSet::from(["indicator".to_owned()]),
            max_tlp: Tlp::Green,
            handling: BTreeSet::from([HandlingCode::H1]),
            purposes: BTreeSet::from([Purpose::Intelligence]),
        },
        valid_from: OffsetDateTime::UNIX_EPOCH,
        valid_until: None,
        status: AgreementStatus::Active,
    };
    let peer = Peer {
        member: MemberId(PEER.into()),
        status: MemberStatus::Active,
        agreements: vec![agreement],
    };
    Federation {
        local: Some(MemberId(LOCAL.into())),
        local_roles: BTreeSet::new(),
        changed_at: 0,
        peers: [(MemberId(PEER.into()), peer)].into(),
        markings: Default::default(),
        encryption_keys: Default::default(),
    }
}

fn bench(c: &mut Criterion) {
    const N: usize = 1_000;
    let plain: Vec<String> = (0..N).map(|i| indicator(i, false)).collect();
    let marked: Vec<String> = (0..N).map(|i| indicator(i, true)).collect();
    let mut group = c.benchmark_group("release");
    group.throughput(Throughput::Elements(N as u64));
    let local = Release::for_user(
        federation(),
        Role::Analyst,
        Channel::TaxiiRead,
        Purpose::Intelligence,
    );
    group.bench_function("own objects to a local user", |b| {
        b.iter(|| {
            for o in &plain {
                black_box(local.object(o));
            }
        })
    });
    let peer = Release::for_member(
        federation(),
        PEER,
        None,
        Channel::TaxiiRead,
        Purpose::Intelligence,
    );
    group.bench_function("marked objects to a peer (half redacted)", |b| {
        b.iter(|| {
            for o in &marked {
                black_box(peer.object(o));
            }
        })
    });
    group.finish();
}

mod group {
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(group::benches);
