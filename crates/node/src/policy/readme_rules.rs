//! The README's sharing rules, one test per rule, each on the rule's own example: the
//! object is written as STIX JSON (as a user posts it), the peer has the agreement the
//! example names, and every assertion cites the rule's number in the README's table.

use comity_stix::tlp as ids;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use super::*;

const A: &str = "identity--aaaaaaaa-0000-4000-8000-000000000000";
const B: &str = "identity--bbbbbbbb-0000-4000-8000-000000000000";
const C: &str = "identity--cccccccc-0000-4000-8000-000000000000";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

/// An agreement between A and `with`, active for a month either side of [`now`].
fn agreement(with: &str, types: &[&str], max_tlp: Tlp, codes: &[HandlingCode]) -> Agreement {
    Agreement {
        id: format!("agreement-with-{with}"),
        parties: [MemberId(A.into()), MemberId(with.into())].into(),
        scope: Scope {
            object_types: types.iter().map(|t| t.to_string()).collect(),
            max_tlp,
            handling: codes.iter().copied().collect(),
            purposes: [Purpose::Intelligence].into(),
        },
        valid_from: now() - Duration::days(30),
        valid_until: Some(now() + Duration::days(30)),
        status: AgreementStatus::Active,
    }
}

fn peer(member: &str, agreements: Vec<Agreement>) -> Requester {
    Requester::Peer(Peer {
        member: MemberId(member.into()),
        status: MemberStatus::Active,
        agreements,
    })
}

/// A STIX object of `kind` marked with `marking` (none when `None`), plus `extra`.
fn object(kind: &str, marking: Option<&str>, extra: Value) -> Value {
    let mut o = json!({
        "type": kind, "spec_version": "2.1", "id": format!("{kind}--6b3e3a1c-4b3d-4f5e-9a37-1f2b3c4d5e6f"),
        "created": "2026-11-27T08:00:00.000Z", "modified": "2026-11-27T08:00:00.000Z",
        "name": "C2 server", "description": "seen in the phishing campaign",
    });
    if let Some(m) = marking {
        o["object_marking_refs"] = json!([m]);
    }
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o
}

/// A's node deciding whether `object` (originated by `originator`) goes to `to` through the
/// federation channel for intelligence.
fn send(object: &Value, originator: &str, to: &Requester, purpose: Purpose) -> Decision {
    let marked = MarkedObject::from_stix(object, MemberId(originator.into())).unwrap();
    Policy::new(MemberId(A.into())).decide(&Access {
        object: &marked,
        requester: to,
        channel: Channel::FederationSend,
        purpose,
        at: now(),
    })
}

/// The rule that denied, or a panic naming the README rule that should have.
fn denied_by(d: Decision, rule: &str) -> Rule {
    match d {
        Decision::Deny { reason } => reason.rule,
        Decision::Allow { redact } => panic!("{rule}: allowed (redacting {redact:?})"),
    }
}

#[test]
fn rule_1_nothing_reaches_a_peer_without_an_agreement_in_force_clear_included() {
    let clear = object("indicator", Some(ids::TLP2_CLEAR), json!({}));
    let rule = "README sharing rule 1 (CLEAR, no agreement in force)";
    assert_eq!(
        denied_by(
            send(&clear, A, &peer(B, vec![]), Purpose::Intelligence),
            rule
        ),
        Rule::Agreement,
        "{rule}"
    );
    let mut proposed = agreement(B, &["indicator"], Tlp::Red, &[]);
    proposed.status = AgreementStatus::Proposed;
    let got = send(&clear, A, &peer(B, vec![proposed]), Purpose::Intelligence);
    assert_eq!(denied_by(got, rule), Rule::Agreement, "{rule}: proposed");
    let in_force = peer(B, vec![agreement(B, &["indicator"], Tlp::Clear, &[])]);
    assert!(
        send(&clear, A, &in_force, Purpose::Intelligence).is_allow(),
        "{rule}: once in force it travels"
    );
}

#[test]
fn rule_2_clear_lifts_the_tlp_limit_not_the_agreements_types() {
    let rule = "README sharing rule 2 (CLEAR malware, agreement for indicators)";
    let malware = object(
        "malware",
        Some(ids::TLP2_CLEAR),
        json!({"is_family": false}),
    );
    let b = peer(B, vec![agreement(B, &["indicator"], Tlp::Red, &[])]);
    match send(&malware, A, &b, Purpose::Intelligence) {
        Decision::Deny { reason } => {
            assert_eq!(reason.rule, Rule::Agreement, "{rule}");
            assert!(
                reason
                    .reason
                    .contains("does not cover objects of type malware"),
                "{rule}: {reason}"
            );
        }
        other => panic!("{rule}: {other:?}"),
    }
}

#[test]
fn rule_3_the_level_must_be_within_the_agreements_maximum_tlp_1_0_counted_as_2_0() {
    let rule = "README sharing rule 3 (maximum TLP)";
    let b = peer(B, vec![agreement(B, &["indicator"], Tlp::Green, &[])]);
    for (marking, allowed) in [
        (Some(ids::TLP2_GREEN), true),
        (Some(ids::TLP1_GREEN), true),
        (Some(ids::TLP1_WHITE), true),
        (Some(ids::TLP2_AMBER), false),
        (Some(ids::TLP1_AMBER), false),
        // unmarked counts as AMBER
        (None, false),
    ] {
        let o = object("indicator", marking, json!({}));
        let got = send(&o, A, &b, Purpose::Intelligence);
        assert_eq!(got.is_allow(), allowed, "{rule}: {marking:?}: {got:?}");
        if !allowed {
            assert_eq!(denied_by(got, rule), Rule::Agreement, "{rule}: {marking:?}");
        }
    }
}

#[test]
fn rule_4_amber_strict_needs_an_agreement_up_to_amber_strict_and_never_goes_onward() {
    let rule = "README sharing rule 4 (AMBER+STRICT)";
    let strict = object("indicator", Some(ids::TLP2_AMBER_STRICT), json!({}));
    let amber = peer(B, vec![agreement(B, &["indicator"], Tlp::Amber, &[])]);
    let got = send(&strict, A, &amber, Purpose::Intelligence);
    assert_eq!(denied_by(got, rule), Rule::Agreement, "{rule}: max amber");
    let up_to_strict = peer(B, vec![agreement(B, &["indicator"], Tlp::AmberStrict, &[])]);
    assert!(
        send(&strict, A, &up_to_strict, Purpose::Intelligence).is_allow(),
        "{rule}: max amber+strict"
    );
    let marked = MarkedObject::from_stix(&strict, MemberId(A.into())).unwrap();
    let onward = Policy::new(MemberId(A.into())).decide(&Access {
        object: &marked,
        requester: &up_to_strict,
        channel: Channel::OnwardShare,
        purpose: Purpose::Intelligence,
        at: now(),
    });
    assert_eq!(denied_by(onward, rule), Rule::Tlp, "{rule}: onward");
}

#[test]
fn rule_5_red_goes_only_to_the_named_recipients() {
    let rule = "README sharing rule 5 (RED recipients)";
    let red = object(
        "indicator",
        Some(ids::TLP2_RED),
        json!({"x_comity_red_recipients": [B]}),
    );
    let b = peer(B, vec![agreement(B, &["indicator"], Tlp::Red, &[])]);
    let c = peer(C, vec![agreement(C, &["indicator"], Tlp::Red, &[])]);
    assert!(
        send(&red, A, &b, Purpose::Intelligence).is_allow(),
        "{rule}: B is named"
    );
    let got = send(&red, A, &c, Purpose::Intelligence);
    assert_eq!(
        denied_by(got, rule),
        Rule::RedRecipients,
        "{rule}: C is not"
    );
}

#[test]
fn rule_6_another_members_amber_is_not_relayed_and_its_own_objects_are_its_own() {
    let rule = "README sharing rule 6 (relaying)";
    let c = peer(C, vec![agreement(C, &["indicator"], Tlp::Red, &[])]);
    let amber = object("indicator", Some(ids::TLP2_AMBER), json!({}));
    let got = send(&amber, B, &c, Purpose::Intelligence);
    assert_eq!(denied_by(got, rule), Rule::Tlp, "{rule}: B's AMBER to C");
    let green = object("indicator", Some(ids::TLP2_GREEN), json!({}));
    assert!(
        send(&green, B, &c, Purpose::Intelligence).is_allow(),
        "{rule}: B's GREEN to C"
    );
}

#[test]
fn rule_7_every_handling_code_must_be_admitted_and_h2_h3_are_not_passed_on() {
    let rule = "README sharing rule 7 (handling codes)";
    let h2 = object(
        "indicator",
        Some(ids::TLP2_GREEN),
        json!({"x_comity_handling": {"codes": ["H2"]}}),
    );
    let without = peer(B, vec![agreement(B, &["indicator"], Tlp::Amber, &[])]);
    let got = send(&h2, A, &without, Purpose::Intelligence);
    assert_eq!(
        denied_by(got, rule),
        Rule::Agreement,
        "{rule}: not admitted"
    );
    let with = peer(
        B,
        vec![agreement(
            B,
            &["indicator"],
            Tlp::Amber,
            &[HandlingCode::H2],
        )],
    );
    assert!(
        send(&h2, A, &with, Purpose::Intelligence).is_allow(),
        "{rule}: admitted"
    );
    let c = peer(
        C,
        vec![agreement(
            C,
            &["indicator"],
            Tlp::Amber,
            &[HandlingCode::H2],
        )],
    );
    let got = send(&h2, B, &c, Purpose::Intelligence);
    assert_eq!(denied_by(got, rule), Rule::Handling, "{rule}: B's H2 to C");
}

#[test]
fn rule_8_the_purpose_must_be_one_the_agreement_allows_and_the_codes_accept() {
    let rule = "README sharing rule 8 (purposes)";
    let h0 = object(
        "indicator",
        Some(ids::TLP2_GREEN),
        json!({"x_comity_handling": {"codes": ["H0"]}}),
    );
    let b = peer(
        B,
        vec![agreement(
            B,
            &["indicator"],
            Tlp::Amber,
            &[HandlingCode::H0],
        )],
    );
    let got = send(&h0, A, &b, Purpose::Intelligence);
    assert_eq!(
        denied_by(got, rule),
        Rule::Handling,
        "{rule}: H0 for intelligence"
    );
    let got = send(&h0, A, &b, Purpose::PoliceCooperation);
    assert_eq!(
        denied_by(got, rule),
        Rule::Agreement,
        "{rule}: police cooperation is not among the agreement's purposes"
    );
}

#[test]
fn rule_9_granular_markings_remove_what_the_reader_may_not_see() {
    let rule = "README sharing rule 9 (granular markings)";
    let b = peer(B, vec![agreement(B, &["indicator"], Tlp::Green, &[])]);
    let marked = |selectors: Value| {
        object(
            "indicator",
            Some(ids::TLP2_GREEN),
            json!({"granular_markings": [{"selectors": selectors, "marking_ref": ids::TLP2_RED}]}),
        )
    };
    assert_eq!(
        send(
            &marked(json!(["description"])),
            A,
            &b,
            Purpose::Intelligence
        ),
        Decision::Allow {
            redact: vec!["description".into()]
        },
        "{rule}: RED description removed"
    );
    let got = send(
        &marked(json!(["name", "description"])),
        A,
        &b,
        Purpose::Intelligence,
    );
    assert_eq!(denied_by(got, rule), Rule::Granular, "{rule}: all content");
    let got = send(&marked(json!(["id"])), A, &b, Purpose::Intelligence);
    assert_eq!(denied_by(got, rule), Rule::Granular, "{rule}: its id");
}

#[test]
fn rule_10_a_suspended_member_or_agreement_gets_nothing() {
    let rule = "README sharing rule 10 (suspension)";
    let clear = object("indicator", Some(ids::TLP2_CLEAR), json!({}));
    let Requester::Peer(mut b) = peer(B, vec![agreement(B, &["indicator"], Tlp::Red, &[])]) else {
        unreachable!()
    };
    b.status = MemberStatus::Suspended;
    let got = send(
        &clear,
        A,
        &Requester::Peer(b.clone()),
        Purpose::Intelligence,
    );
    assert_eq!(
        denied_by(got, rule),
        Rule::SuspendedMember,
        "{rule}: member"
    );
    b.status = MemberStatus::Active;
    b.agreements[0].status = AgreementStatus::Suspended;
    let got = send(&clear, A, &Requester::Peer(b), Purpose::Intelligence);
    assert_eq!(denied_by(got, rule), Rule::Agreement, "{rule}: agreement");
}
