//! Governance between three and four nodes over real SQLite stores, carried through the
//! real inbox: a vote from tabling to execution, and every ballot that must be refused with
//! its reason and without changing what counts.

use comity_stix::clock::now_us;
use serde_json::json;

use super::service::{self, count_due, NewProposal, COUNT_AFTER_US};
use super::*;
use crate::federation::envelope::{Envelope, Kind};
use crate::federation::inbox::Answer;
use crate::test_peers::{due, hand, peer, peers, reason_of, receive, Peer};

pub(super) const SECOND: i64 = 1_000_000;

/// A second before voting, a minute of voting, an hour to execute.
pub(super) fn rules() -> Rules {
    Rules {
        voting_delay_seconds: 1,
        voting_period_seconds: 60,
        execution_window_seconds: 3600,
        ..Rules::default()
    }
}

/// Ten seconds ago: voting is open, the deadline is 51 s ahead.
pub(super) fn tabled_at() -> i64 {
    now_us() - 10 * SECOND
}

/// When every node counts a proposal tabled at `at`.
pub(super) fn count_time(at: i64) -> i64 {
    at + 61 * SECOND + COUNT_AFTER_US
}

pub(super) async fn with_rules(peers: &[&Peer]) {
    for p in peers {
        service::set_initial_rules(&p.node, &rules(), tabled_at() - SECOND)
            .await
            .unwrap();
    }
}

pub(super) fn adopt(norm: &str) -> NewProposal {
    NewProposal {
        action: Action::AdoptNorm {
            norm: norm.into(),
            texts: [
                (
                    "en".into(),
                    "States should not harm critical infrastructure.".into(),
                ),
                (
                    "fr".into(),
                    "Les États ne devraient pas nuire aux infrastructures critiques.".into(),
                ),
            ]
            .into(),
        },
        sponsors: Default::default(),
    }
}

/// Hands everything `from` queued for `to`, each delivered.
pub(super) async fn deliver(from: &Peer, to: &Peer) {
    for entry in due(from, to).await {
        let answer = hand(from, to, &entry).await;
        assert!(matches!(answer, Answer::Delivered(_)), "{answer:?}");
    }
}

/// `a`'s proposal `id` (tabled at `at`) reaches `b` and `c`; `a` and `b` vote yes and their
/// ballots reach the others.
pub(super) async fn a_and_b_vote_yes(a: &Peer, b: &Peer, c: &Peer, id: &str, at: i64) {
    deliver(a, b).await;
    deliver(a, c).await;
    for p in [a, b] {
        service::vote(&p.node, id, Choice::Yes, at + 2 * SECOND)
            .await
            .unwrap();
    }
    for (from, to) in [(a, b), (b, a), (a, c), (b, c)] {
        deliver(from, to).await;
    }
}

/// `p`'s ballot texts on `id`.
pub(super) async fn ballots(p: &Peer, id: &str) -> Vec<String> {
    let held = p.node.store().ballots(id).await.unwrap();
    held.into_iter().map(|b| b.json).collect()
}

/// Member `by`'s ballot on `id` signed with `key` at `at`.
pub(super) fn ballot(
    id: &str,
    by: &Peer,
    key: &crate::identity::NodeKey,
    choice: Choice,
    seq: u64,
    at: i64,
) -> String {
    Ballot::new(id, choice, &by.id, seq, at)
        .sign(key)
        .unwrap()
        .json
}

/// Sends `body` from `from` to `to` as the next envelope of `from`'s sequence.
pub(super) async fn send(from: &Peer, to: &Peer, body: String) -> Answer {
    let seq = to.node.store().inbox_last_seq(&from.id).await.unwrap() + 1;
    let raw = serde_json::value::RawValue::from_string(body).unwrap();
    let env = Envelope::new(&from.id, &to.id, Kind::Governance, seq, raw);
    let env = crate::federation::seal::testing::sealed(env, to.node.log().node_key())
        .sign(from.node.log().node_key());
    receive(to, &from.id, env.to_json().as_bytes()).await
}

#[tokio::test]
async fn a_norm_is_adopted_by_vote_and_every_node_derives_the_same_outcome() {
    let [a, b, c] = peers::<3>().await;
    with_rules(&[&a, &b, &c]).await;
    let at = tabled_at();
    let tabled = service::propose(&a.node, adopt("gge-13a"), at)
        .await
        .unwrap();
    assert_eq!(tabled.state, ProposalState::Pending);
    let id = tabled.proposal.id.clone();
    // The proposal reaches c only with b's ballot: its proposer's signature vouches for it.
    deliver(&a, &b).await;
    let voting = at + 2 * SECOND;
    service::vote(&b.node, &id, Choice::Yes, voting)
        .await
        .unwrap();
    deliver(&b, &c).await;
    deliver(&a, &c).await;
    service::vote(&c.node, &id, Choice::No, voting)
        .await
        .unwrap();
    service::vote(&a.node, &id, Choice::Yes, voting + 1)
        .await
        .unwrap();
    // c changes its mind: its later ballot counts.
    service::vote(&c.node, &id, Choice::Yes, voting + 2)
        .await
        .unwrap();
    // Ballots arrive in different orders on each node.
    deliver(&c, &a).await;
    deliver(&b, &a).await;
    deliver(&a, &b).await;
    deliver(&c, &b).await;
    deliver(&a, &c).await;
    // A list says where each proposal stands; the tallied list adds the outcome so far,
    // the same one the proposal shows on its own.
    let before = voting + 3;
    let listed = service::list(a.node.store(), before, 10).await.unwrap();
    assert!(listed[0].outcome.is_none());
    let tallied = service::list_with_outcomes(a.node.store(), before, 10)
        .await
        .unwrap();
    let so_far = service::show(a.node.store(), &id, before).await.unwrap();
    assert_eq!(tallied.len(), 1);
    assert!(!tallied[0].counted);
    assert_eq!(tallied[0].outcome, so_far.outcome);
    assert_eq!(tallied[0].outcome.as_ref().unwrap().yes, 3);
    // Open for a vote before the deadline, pending before voting opens, closed after.
    let open = |at| service::open_for_vote(a.node.store(), at);
    assert_eq!(open(before).await.unwrap()[0].proposal.id, id);
    assert!(open(at).await.unwrap().is_empty(), "open while pending");
    assert!(
        open(at + 61 * SECOND).await.unwrap().is_empty(),
        "open after the deadline"
    );
    for p in [&a, &b, &c] {
        assert_eq!(ballots(p, &id).await.len(), 4);
        let store = p.node.store();
        assert_eq!(
            count_due(store, count_time(at) - 1).await.unwrap(),
            0,
            "not yet"
        );
        assert_eq!(count_due(store, count_time(at)).await.unwrap(), 1);
        assert_eq!(
            count_due(store, count_time(at)).await.unwrap(),
            0,
            "counted once"
        );
    }
    let mut shown = Vec::new();
    for p in [&a, &b, &c] {
        shown.push(
            service::show(p.node.store(), &id, count_time(at))
                .await
                .unwrap(),
        );
    }
    let outcome = shown[0].outcome.clone().unwrap();
    assert_eq!((outcome.yes, outcome.no, outcome.turnout), (3, 0, 3));
    assert_eq!(outcome.refused.len(), 1, "c's first ballot is superseded");
    for view in &shown {
        assert_eq!(view.state, ProposalState::Executed);
        assert_eq!(view.outcome.as_ref().unwrap().digest, outcome.digest);
    }
    let norms = service::norms(a.node.store()).await.unwrap();
    assert_eq!(norms.len(), 1);
    assert_eq!(
        norms[0].texts["fr"],
        json!("Les États ne devraient pas nuire aux infrastructures critiques.")
    );
    for p in [&b, &c] {
        assert_eq!(service::norms(p.node.store()).await.unwrap(), norms);
    }
    // After the count, a ballot comes too late, and changes nothing.
    let late = ballot(&id, &b, b.node.log().node_key(), Choice::No, 9, voting + 3);
    let proposal = a.node.store().proposal(&id).await.unwrap().unwrap().json;
    let answer = send(
        &b,
        &a,
        format!(r#"{{"proposal":{proposal},"ballot":{late}}}"#),
    )
    .await;
    assert!(reason_of(&answer).contains("counted already"), "{answer:?}");
}

#[tokio::test]
async fn forged_replayed_double_late_unknown_and_suspended_ballots_are_refused_with_their_reason() {
    let [a, b, c, s] = peers::<4>().await;
    for p in [&a, &b, &c] {
        p.node
            .registry()
            .set_member_status(&s.id, crate::policy::MemberStatus::Suspended)
            .await
            .unwrap();
    }
    with_rules(&[&a, &b, &c, &s]).await;
    let at = tabled_at();
    let id = service::propose(&a.node, adopt("gge-13b"), at)
        .await
        .unwrap()
        .proposal
        .id;
    deliver(&a, &b).await;
    let proposal = a.node.store().proposal(&id).await.unwrap().unwrap().json;
    let body = |ballot: &str| format!(r#"{{"proposal":{proposal},"ballot":{ballot}}}"#);
    let voting = at + 2 * SECOND;
    let key = c.node.log().node_key();
    let good = ballot(&id, &c, key, Choice::Yes, 1, voting);
    assert!(matches!(
        send(&c, &b, body(&good)).await,
        Answer::Delivered(_)
    ));
    let held = ballots(&b, &id).await;
    assert_eq!(held, vec![good.clone()]);
    let deadline = at + 61 * SECOND;
    let forger = peer(9).await;
    let cases = [
        (
            ballot(&id, &c, forger.node.log().node_key(), Choice::No, 2, voting),
            "the signature does not verify with the member's pinned key",
        ),
        (good.clone(), "the same ballot as"),
        (
            ballot(&id, &c, key, Choice::No, 3, deadline),
            "at or after the deadline",
        ),
        (
            ballot(&id, &c, key, Choice::No, 3, at),
            "before voting opened",
        ),
        (
            ballot(
                "proposal--00000000-0000-4000-8000-000000000009",
                &c,
                key,
                Choice::No,
                3,
                voting,
            ),
            "on another proposal",
        ),
        (
            ballot(&id, &a, key, Choice::No, 3, voting),
            "the signature does not verify",
        ),
        ("{\"v\":1}".to_owned(), "not a ballot"),
    ];
    for (text, reason) in cases {
        let answer = send(&c, &b, body(&text)).await;
        assert!(reason_of(&answer).contains(reason), "{reason}: {answer:?}");
        assert_eq!(ballots(&b, &id).await, held, "{reason}: nothing stored");
    }
    // A ballot of one member carried by another.
    let of_c = ballot(&id, &c, key, Choice::Abstain, 4, voting);
    let answer = send(&a, &b, body(&of_c)).await;
    assert!(
        reason_of(&answer).contains(&format!("cast by {}, but {} sent it", c.id, a.id)),
        "{answer:?}"
    );
    assert_eq!(ballots(&b, &id).await, held);

    // A suspended member's node is refused at the door; a member unknown at tabling is
    // refused by the count's rules.
    let answer = send(
        &s,
        &b,
        body(&ballot(
            &id,
            &s,
            s.node.log().node_key(),
            Choice::No,
            1,
            voting,
        )),
    )
    .await;
    assert!(reason_of(&answer).contains("is suspended"), "{answer:?}");
    let late_comer = peer(5).await;
    b.node
        .registry()
        .add_member(crate::test_peers::as_pinned(&late_comer).await)
        .await
        .unwrap();
    let unknown = ballot(
        &id,
        &late_comer,
        late_comer.node.log().node_key(),
        Choice::No,
        1,
        voting,
    );
    let answer = send(&late_comer, &b, body(&unknown)).await;
    assert!(
        reason_of(&answer).contains("was not a member when the proposal was tabled"),
        "{answer:?}"
    );
    assert_eq!(ballots(&b, &id).await, held);

    // A double vote is refused, kept as evidence, and the count refuses both ballots.
    let double = ballot(&id, &c, key, Choice::No, 1, voting + 1);
    let answer = send(&c, &b, body(&double)).await;
    assert!(reason_of(&answer).contains("equivocation"), "{answer:?}");
    assert_eq!(ballots(&b, &id).await, vec![good, double]);
    let outcome = service::show(b.node.store(), &id, now_us())
        .await
        .unwrap()
        .outcome
        .unwrap();
    assert_eq!(outcome.turnout, 0);
    assert_eq!(outcome.refused.len(), 2);
    assert!(outcome
        .refused
        .iter()
        .all(|r| matches!(r.reason, Refusal::Equivocation { .. })));
}

#[tokio::test]
async fn a_proposal_is_refused_without_its_sponsors_or_against_another_member_set() {
    let [a, b, c] = peers::<3>().await;
    with_rules(&[&a, &b, &c]).await;
    let admit = |sponsors: &[&Peer]| NewProposal {
        action: Action::AdmitMember {
            member: "identity--00000000-0000-4000-8000-0000000000d4".into(),
            public_key: crate::governance::tests::key(44).public_key(),
            country: "FR".into(),
        },
        sponsors: sponsors.iter().map(|p| p.id.clone()).collect(),
    };
    let e = service::propose(&a.node, admit(&[&b]), tabled_at())
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains(
            "admit_member proposals need 2 sponsors besides the proposer; this one has 1"
        ),
        "{e}"
    );
    assert!(a.node.store().proposals(10).await.unwrap().is_empty());
    assert!(due(&a, &b).await.is_empty());

    // A proposal tabled against another member set is refused: a pins a member b does not.
    let d = peer(4).await;
    let mut record = d
        .node
        .directory()
        .local_member()
        .await
        .unwrap()
        .unwrap()
        .record;
    record.local = false;
    a.node.registry().add_member(record).await.unwrap();
    service::propose(&a.node, admit(&[&b, &c]), tabled_at())
        .await
        .unwrap();
    let entry = due(&a, &b).await.remove(0);
    let answer = hand(&a, &b, &entry).await;
    assert!(
        reason_of(&answer).contains("other than this node's"),
        "{answer:?}"
    );
    assert!(b.node.store().proposals(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_succeeded_admission_and_suspension_change_the_member_set_on_every_node() {
    let [a, b, c] = peers::<3>().await;
    with_rules(&[&a, &b, &c]).await;
    let at = tabled_at();
    let id = service::propose(
        &a.node,
        NewProposal {
            action: Action::SuspendMember {
                member: c.id.clone(),
            },
            sponsors: Default::default(),
        },
        at,
    )
    .await
    .unwrap()
    .proposal
    .id;
    a_and_b_vote_yes(&a, &b, &c, &id, at).await;
    for p in [&a, &b, &c] {
        count_due(p.node.store(), count_time(at)).await.unwrap();
        let member = p.node.directory().member(&c.id).await.unwrap().unwrap();
        assert_eq!(member.status, crate::policy::MemberStatus::Suspended);
    }
}

#[tokio::test]
async fn a_forged_or_relayed_proposal_is_refused_and_nothing_is_tabled() {
    let [a, b, c] = peers::<3>().await;
    with_rules(&[&a, &b, &c]).await;
    let id = service::propose(&a.node, adopt("gge-13c"), tabled_at())
        .await
        .unwrap()
        .proposal
        .id;
    let held = a.node.store().proposal(&id).await.unwrap().unwrap().json;
    // Sent alone by a member that did not table it.
    let answer = send(&c, &b, format!(r#"{{"proposal":{held}}}"#)).await;
    assert!(
        reason_of(&answer).contains(&format!("was tabled by {}, but {} sent it", a.id, c.id)),
        "{answer:?}"
    );
    // Signed by another key than the proposer's pinned one.
    let signed = SignedProposal::parse(&held).unwrap();
    let forged = signed.tabled.clone().sign(c.node.log().node_key()).json;
    let answer = send(&a, &b, format!(r#"{{"proposal":{forged}}}"#)).await;
    assert!(
        reason_of(&answer).contains("does not verify with the pinned key"),
        "{answer:?}"
    );
    // Altered after signing, or not a proposal at all.
    let altered = held.replace("gge-13c", "gge-13z");
    let answer = send(&a, &b, format!(r#"{{"proposal":{altered}}}"#)).await;
    assert!(reason_of(&answer).contains("does not verify"), "{answer:?}");
    let answer = send(&a, &b, r#"{"proposal":{"v":1,"signature":"x"}}"#.to_owned()).await;
    assert!(
        reason_of(&answer).contains("not a signed proposal"),
        "{answer:?}"
    );
    let answer = send(&a, &b, r#"{"ballot":{}}"#.to_owned()).await;
    assert!(reason_of(&answer).contains("the body is not"), "{answer:?}");
    assert!(b.node.store().proposals(10).await.unwrap().is_empty());
    // The genuine one is taken in.
    let answer = send(&a, &b, format!(r#"{{"proposal":{held}}}"#)).await;
    assert!(matches!(answer, Answer::Delivered(_)), "{answer:?}");
    assert_eq!(b.node.store().proposals(10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn new_rules_and_norms_take_effect_once_and_a_stale_effect_is_not_executed() {
    let [a, b] = peers::<2>().await;
    with_rules(&[&a, &b]).await;
    let at = tabled_at();
    let stricter = Rules {
        quorum: Ratio::new(1, 1).unwrap(),
        ..rules()
    };
    let mut ids = Vec::new();
    for new in [
        NewProposal {
            action: Action::ChangeRules {
                rules: stricter.clone(),
            },
            sponsors: Default::default(),
        },
        adopt("gge-13d"),
        adopt("gge-13d"),
    ] {
        ids.push(
            service::propose(&a.node, new, at)
                .await
                .unwrap()
                .proposal
                .id,
        );
    }
    deliver(&a, &b).await;
    for id in &ids {
        for p in [&a, &b] {
            service::vote(&p.node, id, Choice::Yes, at + 2 * SECOND)
                .await
                .unwrap();
        }
    }
    deliver(&a, &b).await;
    deliver(&b, &a).await;
    for p in [&a, &b] {
        let store = p.node.store();
        assert_eq!(count_due(store, count_time(at)).await.unwrap(), 3);
        assert_eq!(service::rules_in_force(store).await.unwrap(), stricter);
        let norms = service::norms(store).await.unwrap();
        assert_eq!(norms.len(), 1, "adopted once");
        let states: Vec<ProposalState> = {
            let mut out = Vec::new();
            for id in &ids {
                out.push(
                    service::show(store, id, count_time(at))
                        .await
                        .unwrap()
                        .state,
                );
            }
            out
        };
        let executed = states
            .iter()
            .filter(|s| **s == ProposalState::Executed)
            .count();
        assert_eq!(executed, 2, "{states:?}");
        assert!(states.contains(&ProposalState::Succeeded), "{states:?}");
    }
    // A proposal tabled now is decided by the new rules, which it carries.
    let next = service::propose(&a.node, adopt("gge-13e"), now_us())
        .await
        .unwrap();
    assert_eq!(next.proposal.rules, stricter);
}
