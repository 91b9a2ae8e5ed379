//! The rules of tabling and counting, each pinned down with the exact reason a node gives.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;
use crate::identity::NodeKey;
use crate::policy::MemberStatus;

/// Tabled at 2026-12-01T00:00:00Z.
const TABLED: i64 = 1_796_083_200_000_000;
const HOUR: i64 = 3_600_000_000;
const ID: &str = "proposal--0c6a4f7e-2b1d-4c3e-9f00-000000000001";

/// The node key of test member `seed`.
pub(crate) fn key(seed: u8) -> NodeKey {
    NodeKey::from_log_signer(&crate::federation::test_nodes::signer(seed)).unwrap()
}

/// The id of test member `seed`.
fn member(seed: u8) -> String {
    format!("identity--00000000-0000-4000-8000-{seed:012}")
}

/// Members 1..=`active` active, then `suspended` more suspended.
fn electorate(active: u8, suspended: u8) -> Electorate {
    Electorate::new((1..=active + suspended).map(|s| {
        let status = if s <= active {
            MemberStatus::Active
        } else {
            MemberStatus::Suspended
        };
        (member(s), key(s).public_key(), status)
    }))
    .unwrap()
}

/// An hour's delay, a day of voting, a day to execute; the other rules the defaults.
fn rules() -> Rules {
    Rules {
        voting_delay_seconds: 3600,
        voting_period_seconds: 24 * 3600,
        execution_window_seconds: 24 * 3600,
        ..Rules::default()
    }
}

fn statement() -> Action {
    Action::JointStatement {
        texts: [(
            "en".to_owned(),
            "We condemn attacks on hospitals.".to_owned(),
        )]
        .into(),
    }
}

fn table(action: Action, sponsors: &[u8], rules: &Rules, electorate: &Electorate) -> Proposal {
    Motion {
        id: ID.into(),
        action,
        proposer: member(1),
        sponsors: sponsors.iter().map(|s| member(*s)).collect(),
    }
    .table(TABLED, rules, electorate)
    .unwrap()
}

/// A joint statement tabled by member 1 among `active` members.
fn proposal(active: u8) -> (Proposal, Electorate) {
    let electorate = electorate(active, 0);
    (table(statement(), &[], &rules(), &electorate), electorate)
}

/// Member `seed`'s ballot, signed with its own key, two hours after tabling.
fn vote(seed: u8, choice: Choice, sequence: u64) -> String {
    vote_at(seed, choice, sequence, TABLED + 2 * HOUR)
}

fn vote_at(seed: u8, choice: Choice, sequence: u64, at: i64) -> String {
    Ballot::new(ID, choice, &member(seed), sequence, at)
        .sign(&key(seed))
        .unwrap()
        .json
}

fn sha(text: &str) -> String {
    crate::requests::event::sha256_hex(text.as_bytes())
}

/// The single refusal of `outcome`, as (member seed's id, reason).
fn only_refusal(outcome: &Outcome) -> (Option<String>, Refusal) {
    assert_eq!(outcome.refused.len(), 1, "{:#?}", outcome.refused);
    let r = &outcome.refused[0];
    (r.member.clone(), r.reason.clone())
}

#[test]
fn a_ballot_signed_by_another_key_does_not_count() {
    let (p, e) = proposal(3);
    let forged = Ballot::new(ID, Choice::Yes, &member(2), 1, TABLED + 2 * HOUR)
        .sign(&key(3))
        .unwrap()
        .json;
    let outcome = tally(&p, &e, std::slice::from_ref(&forged));
    assert_eq!(outcome.turnout, 0);
    assert_eq!(
        only_refusal(&outcome),
        (Some(member(2)), Refusal::BadSignature)
    );
    assert_eq!(outcome.refused[0].sha256, sha(&forged));
    assert_eq!(
        Refusal::BadSignature.to_string(),
        "the signature does not verify with the member's pinned key"
    );
}

#[test]
fn a_replayed_ballot_counts_once() {
    let (p, e) = proposal(3);
    let ballot = vote(2, Choice::Yes, 1);
    let outcome = tally(&p, &e, &[ballot.clone(), ballot.clone()]);
    assert_eq!((outcome.yes, outcome.turnout), (1, 1));
    assert_eq!(
        only_refusal(&outcome),
        (Some(member(2)), Refusal::Replayed { of: sha(&ballot) })
    );
}

#[test]
fn the_same_ballot_in_another_text_is_a_replay_not_an_equivocation() {
    let (p, e) = proposal(3);
    let ballot = vote(2, Choice::No, 1);
    let value: serde_json::Value = serde_json::from_str(&ballot).unwrap();
    let pretty = serde_json::to_string_pretty(&value).unwrap();
    let outcome = tally(&p, &e, &[pretty.clone(), ballot.clone()]);
    assert_eq!((outcome.no, outcome.turnout), (1, 1));
    let (kept, other) = if sha(&ballot) < sha(&pretty) {
        (sha(&ballot), sha(&pretty))
    } else {
        (sha(&pretty), sha(&ballot))
    };
    assert_eq!(outcome.counted[0].sha256, kept);
    assert_eq!(outcome.refused[0].sha256, other);
    assert_eq!(outcome.refused[0].reason, Refusal::Replayed { of: kept });
}

#[test]
fn a_member_may_change_its_vote_and_the_last_sequence_counts() {
    let (p, e) = proposal(3);
    let first = vote(2, Choice::Yes, 1);
    let second = vote_at(2, Choice::No, 2, TABLED + 3 * HOUR);
    let third = vote_at(2, Choice::Abstain, 7, TABLED + 4 * HOUR);
    let outcome = tally(&p, &e, &[third.clone(), first.clone(), second.clone()]);
    assert_eq!((outcome.yes, outcome.no, outcome.abstain), (0, 0, 1));
    assert_eq!(
        outcome.counted,
        [Counted {
            member: member(2),
            choice: Choice::Abstain,
            sequence: 7,
            sha256: sha(&third),
        }]
    );
    let superseded: BTreeSet<_> = outcome
        .refused
        .iter()
        .map(|r| (r.sha256.clone(), r.reason.clone()))
        .collect();
    let reason = Refusal::Superseded { by_sequence: 7 };
    assert_eq!(
        superseded,
        [(sha(&first), reason.clone()), (sha(&second), reason)].into()
    );
}

#[test]
fn two_different_ballots_with_one_sequence_are_an_equivocation_and_neither_counts() {
    let (p, e) = proposal(3);
    let yes = vote(2, Choice::Yes, 4);
    let no = vote(2, Choice::No, 4);
    let earlier = vote(2, Choice::Yes, 3);
    let outcome = tally(&p, &e, &[yes.clone(), no.clone(), earlier.clone()]);
    assert_eq!(outcome.turnout, 0);
    let reasons: BTreeSet<_> = outcome
        .refused
        .iter()
        .map(|r| (r.sha256.clone(), r.reason.clone()))
        .collect();
    let expected: BTreeSet<_> = [
        (
            sha(&yes),
            Refusal::Equivocation {
                sequence: 4,
                with: vec![sha(&no)],
            },
        ),
        (
            sha(&no),
            Refusal::Equivocation {
                sequence: 4,
                with: vec![sha(&yes)],
            },
        ),
        (sha(&earlier), Refusal::Superseded { by_sequence: 4 }),
    ]
    .into();
    assert_eq!(reasons, expected);
    // A later ballot with a higher sequence counts again.
    let later = vote(2, Choice::No, 5);
    let outcome = tally(&p, &e, &[yes, no, later]);
    assert_eq!((outcome.no, outcome.turnout), (1, 1));
    assert_eq!(outcome.refused.len(), 2);
}

#[test]
fn a_ballot_at_or_after_the_deadline_or_before_voting_opens_does_not_count() {
    let (p, e) = proposal(3);
    let deadline = TABLED + HOUR + 24 * HOUR;
    assert_eq!(p.deadline(), deadline);
    let in_time = vote_at(2, Choice::Yes, 1, deadline - 1);
    let late = vote_at(3, Choice::Yes, 1, deadline);
    let outcome = tally(&p, &e, &[in_time, late]);
    assert_eq!(outcome.yes, 1);
    let (who, reason) = only_refusal(&outcome);
    assert_eq!(who, Some(member(3)));
    assert_eq!(
        reason.to_string(),
        "cast at 2026-12-02T01:00:00.000000Z, at or after the deadline 2026-12-02T01:00:00.000000Z"
    );
    // A change of mind after the deadline changes nothing.
    let changed = vote_at(2, Choice::No, 2, deadline);
    let outcome = tally(&p, &e, &[vote_at(2, Choice::Yes, 1, deadline - 1), changed]);
    assert_eq!((outcome.yes, outcome.no), (1, 0));
    let early = vote_at(3, Choice::Yes, 1, TABLED + HOUR - 1);
    let (_, reason) = only_refusal(&tally(&p, &e, &[early]));
    assert_eq!(
        reason.to_string(),
        "cast at 2026-12-01T00:59:59.999999Z, before voting opened at 2026-12-01T01:00:00.000000Z"
    );
}

#[test]
fn ballots_from_unknown_or_suspended_members_do_not_count() {
    let e = electorate(3, 1);
    let p = table(statement(), &[], &rules(), &e);
    let suspended = vote(4, Choice::Yes, 1);
    let stranger = vote(9, Choice::Yes, 1);
    let outcome = tally(&p, &e, &[suspended, stranger]);
    assert_eq!(outcome.turnout, 0);
    assert_eq!(outcome.active_members, 3);
    let reasons: BTreeSet<_> = outcome
        .refused
        .iter()
        .map(|r| (r.member.clone().unwrap(), r.reason.to_string()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                member(4),
                "the voter was suspended when the proposal was tabled".to_owned()
            ),
            (
                member(9),
                "the voter was not a member when the proposal was tabled".to_owned()
            ),
        ]
        .into()
    );
}

#[test]
fn malformed_ballots_and_ballots_on_another_proposal_are_refused() {
    let (p, e) = proposal(3);
    let other = Ballot::new(
        "proposal--0c6a4f7e-2b1d-4c3e-9f00-000000000002",
        Choice::Yes,
        &member(2),
        1,
        TABLED + 2 * HOUR,
    )
    .sign(&key(2))
    .unwrap()
    .json;
    let outcome = tally(&p, &e, &[other, "not json".to_owned()]);
    let reasons: Vec<String> = outcome
        .refused
        .iter()
        .map(|r| r.reason.to_string())
        .collect();
    assert_eq!(reasons.len(), 2);
    assert!(reasons.contains(
        &"the ballot is on another proposal, proposal--0c6a4f7e-2b1d-4c3e-9f00-000000000002"
            .to_owned()
    ));
    assert!(
        reasons.iter().any(|r| r.starts_with("not a ballot: ")),
        "{reasons:?}"
    );
}

#[test]
fn an_admission_needs_two_sponsors_besides_its_proposer() {
    let e = electorate(5, 1);
    let admit = Action::AdmitMember {
        member: member(40),
        public_key: key(40).public_key(),
        country: "SN".into(),
    };
    let motion = |sponsors: &[u8]| Motion {
        id: ID.into(),
        action: admit.clone(),
        proposer: member(1),
        sponsors: sponsors.iter().map(|s| member(*s)).collect(),
    };
    let err = motion(&[2]).table(TABLED, &rules(), &e).unwrap_err();
    assert_eq!(
        err,
        TablingError::Sponsors {
            kind: ProposalKind::AdmitMember,
            needed: 2,
            given: 1
        }
    );
    assert_eq!(
        err.to_string(),
        "admit_member proposals need 2 sponsors besides the proposer; this one has 1"
    );
    assert_eq!(
        motion(&[1, 2]).table(TABLED, &rules(), &e),
        Err(TablingError::SelfSponsored)
    );
    assert_eq!(
        motion(&[2, 6]).table(TABLED, &rules(), &e),
        Err(TablingError::Sponsor(member(6)))
    );
    let tabled = motion(&[2, 3]).table(TABLED, &rules(), &e).unwrap();
    assert_eq!(tabled.rules, rules());
    let back: Proposal = serde_json::from_value(serde_json::to_value(&tabled).unwrap()).unwrap();
    assert_eq!(back, tabled);
}

#[test]
fn tabling_checks_the_member_acted_on_and_the_proposer() {
    let e = electorate(3, 1);
    let motion = |action, proposer| Motion {
        id: ID.into(),
        action,
        proposer: member(proposer),
        sponsors: BTreeSet::new(),
    };
    let suspend = |m| Action::SuspendMember { member: member(m) };
    assert_eq!(
        motion(suspend(4), 1)
            .table(TABLED, &rules(), &e)
            .unwrap_err()
            .to_string(),
        format!(
            "suspend_member: member {} is not an active member",
            member(4)
        )
    );
    assert!(motion(Action::ReinstateMember { member: member(4) }, 1)
        .table(TABLED, &rules(), &e)
        .is_ok());
    assert_eq!(
        motion(suspend(2), 4).table(TABLED, &rules(), &e),
        Err(TablingError::Proposer(member(4)))
    );
    let mut bad_rules = rules();
    bad_rules.quorum = Ratio::new(0, 1).unwrap();
    assert_eq!(
        motion(Action::ChangeRules { rules: bad_rules }, 1)
            .table(TABLED, &rules(), &e)
            .unwrap_err()
            .to_string(),
        "the proposed rules are not valid: the quorum must be more than 0 and at most 1, not 0/1"
    );
    let mut bad_id = motion(suspend(2), 1);
    bad_id.id = "proposal--7".into();
    assert_eq!(
        bad_id.table(TABLED, &rules(), &e),
        Err(TablingError::Id("proposal--7".into()))
    );
}

#[test]
fn hostile_norm_ids_language_tags_and_texts_are_refused_at_tabling() {
    let e = electorate(3, 0);
    let adopt = |norm: &str, language: &str, text: &str| {
        Motion {
            id: ID.into(),
            action: Action::AdoptNorm {
                norm: norm.into(),
                texts: [(language.to_owned(), text.to_owned())].into(),
            },
            proposer: member(1),
            sponsors: BTreeSet::new(),
        }
        .table(TABLED, &rules(), &e)
    };
    // A norm id's fault is the norm's, a text's or its language tag's the texts'.
    let refused = |norm: &str, language: &str, text: &str| match adopt(norm, language, text) {
        Err(TablingError::Norm(why)) if norm != "n" => why,
        Err(TablingError::Texts(why)) if norm == "n" => why,
        other => panic!("{norm:?} {language:?} {text:?}: {other:?}"),
    };
    assert!(adopt("gge-2015.13_a", "zh-Hant", "第一行\n\t第二行 — « ok »").is_ok());
    assert!(refused("gge 13", "en", "x").starts_with("a norm id is 1 to 64 ASCII"));
    assert!(refused("gge\n13", "en", "x").contains(r#""gge\n13""#));
    assert!(refused(&"n".repeat(65), "en", "x").contains("1 to 64"));
    assert!(refused("", "en", "x").contains("a norm id"));
    assert!(refused("n", "e n", "x").starts_with("a language tag is 1 to 35"));
    assert_eq!(
        refused("n", "en", "pay \u{202E}txt.exe"),
        "the en text holds the control or direction character U+202E"
    );
    assert!(refused("n", "en", "a\u{0}b").contains("U+0000"));
    assert!(refused("n", "en", "line\rforged").contains("U+000D"));
    assert!(refused("n", "en", "  ").contains("the en text cannot be empty"));
}

#[test]
fn quorum_exactly_met_succeeds_and_one_short_is_defeated() {
    // Ten members, a quorum of half: five ballots meet it, four do not.
    let (p, e) = proposal(10);
    let ballots: Vec<String> = (1..=5).map(|s| vote(s, Choice::Yes, 1)).collect();
    let met = tally(&p, &e, &ballots);
    assert_eq!((met.toward_quorum, met.quorum_needed), (5, 5));
    assert!(met.quorum_met);
    assert_eq!(met.decision, Decision::Succeeded);
    let short = tally(&p, &e, &ballots[..4]);
    assert!(!short.quorum_met);
    assert!(short.majority_met);
    assert_eq!(short.decision, Decision::Defeated);
}

#[test]
fn two_thirds_exactly_met_succeeds_and_one_short_is_defeated() {
    // Expulsion needs two thirds of the yes and no ballots: 6 of 9 is exactly two thirds.
    let e = electorate(10, 0);
    let p = table(
        Action::ExpelMember { member: member(10) },
        &[],
        &rules(),
        &e,
    );
    let mut ballots: Vec<String> = (1..=6).map(|s| vote(s, Choice::Yes, 1)).collect();
    ballots.extend((7..=9).map(|s| vote(s, Choice::No, 1)));
    let met = tally(&p, &e, &ballots);
    assert_eq!((met.yes, met.no, met.majority), (6, 3, Ratio::TWO_THIRDS));
    assert_eq!(met.decision, Decision::Succeeded);
    // One yes short: 5 of 9.
    ballots[0] = vote(1, Choice::No, 2);
    let short = tally(&p, &e, &ballots);
    assert_eq!((short.yes, short.no), (5, 4));
    assert!(short.quorum_met);
    assert!(!short.majority_met);
    assert_eq!(short.decision, Decision::Defeated);
}

#[test]
fn a_tie_is_not_a_simple_majority() {
    let (p, e) = proposal(4);
    let ballots = [
        vote(1, Choice::Yes, 1),
        vote(2, Choice::Yes, 1),
        vote(3, Choice::No, 1),
        vote(4, Choice::No, 1),
    ];
    let tie = tally(&p, &e, &ballots);
    assert!(tie.quorum_met);
    assert!(!tie.majority_met);
    assert_eq!(tie.decision, Decision::Defeated);
}

#[test]
fn abstentions_count_toward_quorum_but_never_toward_the_majority() {
    // Ten members: one yes and four abstentions meet the quorum of five; the majority is
    // one yes to no no.
    let (p, e) = proposal(10);
    let mut ballots = vec![vote(1, Choice::Yes, 1)];
    ballots.extend((2..=5).map(|s| vote(s, Choice::Abstain, 1)));
    let outcome = tally(&p, &e, &ballots);
    assert_eq!(
        (outcome.yes, outcome.abstain, outcome.toward_quorum),
        (1, 4, 5)
    );
    assert_eq!(outcome.decision, Decision::Succeeded);
    // One yes, one no, many abstentions: no majority.
    ballots.push(vote(6, Choice::No, 1));
    assert_eq!(tally(&p, &e, &ballots).decision, Decision::Defeated);
    // When the rules say abstentions do not count toward quorum, five ballots fall short.
    let mut strict = rules();
    strict.abstentions_count_toward_quorum = false;
    let p = table(statement(), &[], &strict, &e);
    let outcome = tally(&p, &e, &ballots[..5]);
    assert_eq!((outcome.toward_quorum, outcome.quorum_met), (1, false));
    assert_eq!(outcome.decision, Decision::Defeated);
}

#[test]
fn a_rule_change_is_decided_by_the_rules_in_force_when_it_was_tabled() {
    // The change would lower every majority to one half; it is decided by two thirds.
    let e = electorate(9, 0);
    let mut lenient = rules();
    for kind_rules in lenient.kinds.values_mut() {
        kind_rules.majority = Ratio::HALF;
    }
    let p = table(
        Action::ChangeRules {
            rules: lenient.clone(),
        },
        &[],
        &rules(),
        &e,
    );
    assert_eq!(p.rules, rules());
    let mut ballots: Vec<String> = (1..=5).map(|s| vote(s, Choice::Yes, 1)).collect();
    ballots.extend((6..=9).map(|s| vote(s, Choice::No, 1)));
    let outcome = tally(&p, &e, &ballots);
    assert_eq!(outcome.rules, rules().digest());
    assert_eq!(outcome.majority, Ratio::TWO_THIRDS);
    assert_eq!(outcome.decision, Decision::Defeated);
    // The same ballots under the proposed rules would have carried it.
    let under_new = Proposal {
        rules: lenient,
        ..p
    };
    assert_eq!(
        tally(&under_new, &e, &ballots).decision,
        Decision::Succeeded
    );
}

#[test]
fn the_outcome_digest_covers_the_whole_outcome() {
    let (p, e) = proposal(3);
    let one = tally(&p, &e, &[vote(1, Choice::Yes, 1)]);
    assert!(one.digest_holds());
    assert_eq!(one.digest.len(), 64);
    let two = tally(&p, &e, &[vote(1, Choice::No, 1)]);
    assert_ne!(one.digest, two.digest);
    let mut tampered = one.clone();
    tampered.yes = 2;
    assert!(!tampered.digest_holds());
    // As another node reads it.
    let heap = tally(&p, &e, &[vote(1, Choice::Yes, 1), vote(9, Choice::No, 1)]);
    let back: Outcome = serde_json::from_str(&serde_json::to_string(&heap).unwrap()).unwrap();
    assert_eq!(back, heap);
    assert!(back.digest_holds());
}

#[test]
fn a_proposal_moves_through_governor_states() {
    let (p, e) = proposal(3);
    let passed = tally(&p, &e, &[vote(1, Choice::Yes, 1), vote(2, Choice::Yes, 1)]);
    let failed = tally(&p, &e, &[vote(1, Choice::No, 1), vote(2, Choice::No, 1)]);
    let none = Lifecycle::default();
    let deadline = p.deadline();
    let at = |t, o, l| state_at(&p, t, o, l);
    assert_eq!(at(TABLED, &passed, &none), ProposalState::Pending);
    assert_eq!(at(TABLED + HOUR, &passed, &none), ProposalState::Active);
    assert_eq!(at(deadline - 1, &failed, &none), ProposalState::Active);
    assert_eq!(at(deadline, &failed, &none), ProposalState::Defeated);
    assert_eq!(at(deadline, &passed, &none), ProposalState::Succeeded);
    let executed = Lifecycle {
        executed_at: Some(deadline + 5),
        ..none
    };
    assert_eq!(
        at(deadline + 4, &passed, &executed),
        ProposalState::Succeeded
    );
    assert_eq!(
        at(deadline + 5, &passed, &executed),
        ProposalState::Executed
    );
    assert_eq!(
        at(deadline + 5, &failed, &executed),
        ProposalState::Defeated
    );
    assert_eq!(
        at(p.execution_ends(), &passed, &none),
        ProposalState::Expired
    );
    let canceled = Lifecycle {
        canceled_at: Some(TABLED + 10),
        ..none
    };
    assert_eq!(at(TABLED + 10, &passed, &canceled), ProposalState::Canceled);
    assert_eq!(at(deadline, &passed, &canceled), ProposalState::Canceled);
    // A cancellation once voting opened is ignored.
    let too_late = Lifecycle {
        canceled_at: Some(TABLED + HOUR),
        ..none
    };
    assert_eq!(at(deadline, &passed, &too_late), ProposalState::Succeeded);
}

#[test]
fn only_the_proposer_cancels_and_only_while_pending() {
    let (p, _) = proposal(3);
    assert_eq!(p.check_cancel(&member(1), TABLED + HOUR - 1), Ok(()));
    assert_eq!(
        p.check_cancel(&member(2), TABLED).unwrap_err().to_string(),
        format!("only the proposer, {}, may cancel proposal {ID}", member(1))
    );
    assert_eq!(
        p.check_cancel(&member(1), TABLED + HOUR),
        Err(CancelError::VotingOpened(ID.into()))
    );
}

/// A mixed heap of ballots: changes of mind, an equivocation, a replay, a forgery, a
/// late and an early ballot, a stranger's and a suspended member's.
fn heap() -> (Proposal, Electorate, Vec<String>) {
    let e = electorate(8, 1);
    let p = table(statement(), &[], &rules(), &e);
    let mut ballots = vec![
        vote(1, Choice::Yes, 1),
        vote(1, Choice::No, 2),
        vote(2, Choice::Yes, 1),
        vote(2, Choice::Yes, 1),
        vote(3, Choice::Yes, 3),
        vote(3, Choice::No, 3),
        vote(4, Choice::Abstain, 1),
        vote_at(5, Choice::Yes, 1, p.deadline()),
        vote_at(6, Choice::Yes, 1, TABLED),
        vote(9, Choice::Yes, 1),
        vote(20, Choice::Yes, 1),
        "{}".to_owned(),
    ];
    ballots.push(
        Ballot::new(ID, Choice::No, &member(7), 1, TABLED + 2 * HOUR)
            .sign(&key(8))
            .unwrap()
            .json,
    );
    ballots.push(vote(8, Choice::Yes, 1));
    (p, e, ballots)
}

#[test]
fn a_mixed_heap_is_counted_as_expected() {
    let (p, e, ballots) = heap();
    let outcome = tally(&p, &e, &ballots);
    assert_eq!((outcome.yes, outcome.no, outcome.abstain), (2, 1, 1));
    let counted: Vec<_> = outcome.counted.iter().map(|c| c.member.clone()).collect();
    assert_eq!(counted, [member(1), member(2), member(4), member(8)]);
    assert_eq!(outcome.refused.len(), 10);
}

/// Each ballot checked once as it arrives, the outcome counted at the deadline from those
/// verdicts: the same outcome as an audit's tally of the texts.
#[test]
fn counting_ballots_admitted_on_arrival_gives_the_tally_of_their_texts() {
    let (p, e, ballots) = heap();
    let (mut admitted, mut refused) = (Vec::new(), Vec::new());
    for text in &ballots {
        match admit(&p, &e, text) {
            Ok(a) => admitted.push(a),
            Err(r) => refused.push(r),
        }
    }
    // Members 1 (twice), 2 (the same text twice), 3 (twice), 4 and 8; the rest refused.
    assert_eq!(admitted.len(), 8);
    assert!(admitted.iter().all(|a| a.ballot().proposal == ID));
    assert_eq!(admitted[0].sha256(), sha(&ballots[0]));
    let outcome = count(&p, &e, admitted, refused);
    assert_eq!(outcome, tally(&p, &e, &ballots));
    assert!(outcome.digest_holds());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_outcome_does_not_depend_on_the_order_ballots_came_in(
        order in Just((0..14).collect::<Vec<usize>>()).prop_shuffle()
    ) {
        let (p, e, ballots) = heap();
        let expected = tally(&p, &e, &ballots);
        let shuffled: Vec<&String> = order.iter().map(|i| &ballots[*i]).collect();
        let outcome = tally(&p, &e, &shuffled);
        prop_assert_eq!(&outcome, &expected);
        prop_assert_eq!(outcome.digest, expected.digest);
    }
}
