//! A federation the size of the United Nations, in one process: 193 nodes, each with its
//! own SQLite store and key, pinning every other; one proposal tabled by one of them,
//! carried to all, voted by all, every ballot carried to every node through the real
//! inbox (sealed, signed, verified), then counted by each at the deadline. It checks that
//! every node derives the same outcome and prints how long each phase took. The nodes work
//! one after the other on this machine's cores, so a node's share (the total divided by
//! 193) is what each would spend on its own hardware. Ignored by default (minutes of
//! work): `cargo test --release -p comity-node --lib governance::simulation -- --ignored
//! --nocapture` runs it, as the README's performance section says.

use std::time::Instant;

use super::service::{self, count_due, COUNT_AFTER_US};
use super::service_tests::{adopt, deliver, rules, tabled_at, SECOND};
use super::*;
use crate::test_peers::{peers, Peer};

/// The members of the United Nations.
const MEMBERS: usize = 193;

#[tokio::test]
#[ignore = "a benchmark: 193 nodes, minutes of work (see the module's documentation)"]
async fn one_proposal_voted_by_193_members_gives_every_node_the_same_outcome() {
    let started = Instant::now();
    let nodes: [Peer; MEMBERS] = peers::<MEMBERS>().await;
    // An hour of voting: carrying 37,056 envelopes in one process takes minutes, and
    // every inbox counts on the real clock.
    let rules = Rules {
        voting_period_seconds: 3600,
        ..rules()
    };
    for p in &nodes {
        service::set_initial_rules(&p.node, &rules, tabled_at() - SECOND)
            .await
            .unwrap();
    }
    eprintln!(
        "{MEMBERS} nodes pinning each other: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let at = tabled_at();
    let count_time =
        at + (rules.voting_delay_seconds + rules.voting_period_seconds) * SECOND + COUNT_AFTER_US;
    let proposer = &nodes[0];
    let id = service::propose(&proposer.node, adopt("gge-13c"), at)
        .await
        .unwrap()
        .proposal
        .id;
    let spread = Instant::now();
    for p in &nodes[1..] {
        deliver(proposer, p).await;
    }
    eprintln!(
        "the proposal carried to {} nodes: {:.2} s",
        MEMBERS - 1,
        spread.elapsed().as_secs_f64()
    );

    let voting = at + 2 * SECOND;
    let voted = Instant::now();
    for (i, p) in nodes.iter().enumerate() {
        let choice = if i % 4 == 3 { Choice::No } else { Choice::Yes };
        service::vote(&p.node, &id, choice, voting).await.unwrap();
    }
    let signing = voted.elapsed().as_secs_f64();
    // Every node hands its ballot to every other; each receiver takes them in turn.
    let carried = Instant::now();
    for to in &nodes {
        for from in &nodes {
            if from.id != to.id {
                deliver(from, to).await;
            }
        }
    }
    let carrying = carried.elapsed().as_secs_f64();
    let envelopes = MEMBERS * (MEMBERS - 1);
    eprintln!(
        "{MEMBERS} ballots cast and signed: {signing:.2} s; carried to every node ({envelopes} envelopes): {carrying:.1} s in all, {:.0} envelopes/s, {:.2} s a node",
        envelopes as f64 / carrying,
        carrying / MEMBERS as f64
    );

    // At the deadline each node counts on its own; the slowest one bounds the federation.
    let deadline = Instant::now();
    let mut slowest = 0.0_f64;
    for p in &nodes {
        let one = Instant::now();
        assert_eq!(count_due(p.node.store(), count_time).await.unwrap(), 1);
        slowest = slowest.max(one.elapsed().as_secs_f64());
    }
    eprintln!(
        "every node counted at the deadline: {:.2} s in all, one node at most {:.1} ms",
        deadline.elapsed().as_secs_f64(),
        slowest * 1000.0
    );

    let mut digests = std::collections::BTreeSet::new();
    for p in &nodes {
        let view = service::show(p.node.store(), &id, count_time)
            .await
            .unwrap();
        assert_eq!(view.state, ProposalState::Executed);
        let outcome = view.outcome.unwrap();
        assert_eq!(
            (outcome.yes, outcome.no, outcome.turnout),
            (145, 48, MEMBERS as u32)
        );
        digests.insert(outcome.digest);
    }
    assert_eq!(digests.len(), 1, "one outcome everywhere");
    eprintln!(
        "every node holds the same outcome (digest {}); whole run {:.1} s",
        digests.first().unwrap(),
        started.elapsed().as_secs_f64()
    );
}
