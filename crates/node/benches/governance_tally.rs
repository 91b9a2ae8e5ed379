//! What deciding a proposal costs: a federation the size of the United Nations, 193 members
//! each with its own key, one proposal, 193 signed ballots, and the time
//! [`governance::tally`] takes to derive the outcome from their texts (reading, verifying
//! every signature against the member's pinned key, counting, the digest). The issue's
//! target is under 5 ms. Beside it, the floor: 193 bare Ed25519 verifications of the same
//! canonical texts, so the ratio shows what the rest costs. And what a node does in
//! practice: each ballot admitted (read, checked, verified) once as it arrives, and the
//! outcome counted at the deadline from those verdicts ([`governance::count`]).

use std::hint::black_box;

use comity_node::governance::{self, Action, Ballot, Choice, Electorate, Motion, Rules};
use comity_node::identity::NodeKey;
use comity_node::policy::MemberStatus;
use comity_tlog::note::{KeyKind, Signer};
use criterion::{criterion_main, Criterion};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _};

const MEMBERS: u8 = 193;
/// Tabled at 2026-12-01T00:00:00Z.
const TABLED: i64 = 1_796_083_200_000_000;

fn key(seed: u8) -> NodeKey {
    let signer = Signer::new(
        &format!("comity/m{seed}"),
        KeyKind::Ed25519,
        SigningKey::from_bytes(&[seed; 32]),
    )
    .unwrap();
    NodeKey::from_log_signer(&signer).unwrap()
}

fn member(seed: u8) -> String {
    format!("identity--00000000-0000-4000-8000-{seed:012}")
}

fn bench(c: &mut Criterion) {
    let seeds = 1..=MEMBERS;
    let keys: Vec<NodeKey> = seeds.clone().map(key).collect();
    let electorate = Electorate::new(
        seeds
            .clone()
            .zip(&keys)
            .map(|(s, k)| (member(s), k.public_key(), MemberStatus::Active)),
    )
    .unwrap();
    let proposal = Motion {
        id: "proposal--0c6a4f7e-2b1d-4c3e-9f00-000000000001".into(),
        action: Action::JointStatement {
            texts: [("en".to_owned(), "On attacks against hospitals.".to_owned())].into(),
        },
        proposer: member(1),
        sponsors: Default::default(),
    }
    .table(TABLED, &Rules::default(), &electorate)
    .unwrap();
    let at = proposal.voting_starts() + 3_600_000_000;
    let choices = [Choice::Yes, Choice::Yes, Choice::No, Choice::Abstain];
    let ballots: Vec<String> = seeds
        .clone()
        .zip(&keys)
        .map(|(s, k)| {
            Ballot::new(&proposal.id, choices[usize::from(s) % 4], &member(s), 1, at)
                .sign(k)
                .unwrap()
                .json
        })
        .collect();
    let outcome = governance::tally(&proposal, &electorate, &ballots);
    assert_eq!(outcome.turnout, u32::from(MEMBERS));

    // The floor: the same canonical texts, verified with bare Ed25519.
    let raw: Vec<(SigningKey, Vec<u8>)> = seeds
        .map(|s| SigningKey::from_bytes(&[s; 32]))
        .zip(&ballots)
        .map(|(k, text)| (k, text.as_bytes().to_vec()))
        .collect();
    let signed: Vec<_> = raw
        .iter()
        .map(|(k, m)| (k.verifying_key(), m.clone(), k.sign(m)))
        .collect();

    let mut group = c.benchmark_group("governance tally, 193 members");
    group.bench_function("outcome of 193 signed ballots", |b| {
        b.iter(|| {
            black_box(governance::tally(
                &proposal,
                &electorate,
                black_box(&ballots),
            ))
        })
    });
    // A node checks each ballot once, as it arrives, and counts the verdicts at the deadline.
    let admitted: Vec<governance::Admitted> = ballots
        .iter()
        .map(|t| governance::admit(&proposal, &electorate, t).unwrap())
        .collect();
    assert_eq!(
        governance::count(&proposal, &electorate, admitted.clone(), Vec::new()),
        outcome
    );
    group.bench_function(
        "outcome at the deadline of 193 ballots admitted on arrival",
        |b| {
            b.iter(|| {
                black_box(governance::count(
                    &proposal,
                    &electorate,
                    black_box(admitted.clone()),
                    Vec::new(),
                ))
            })
        },
    );
    group.bench_function("admitting one ballot on arrival", |b| {
        b.iter(|| {
            black_box(governance::admit(
                &proposal,
                &electorate,
                black_box(&ballots[96]),
            ))
        })
    });
    group.bench_function("floor: 193 bare Ed25519 verifications", |b| {
        b.iter(|| {
            for (k, m, s) in &signed {
                let s: &Signature = s;
                black_box(k.verify(m, s)).unwrap();
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
