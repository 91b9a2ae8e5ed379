//! The policy engine against an oracle: the full cross product of TLP level (as TLP 2.0 and
//! TLP 1.0 ids) × channel × requester (local roles; peers inside, outside and at the edges of
//! agreements; a suspended member) × origin (our own, the partner's, a third party's) ×
//! handling codes × purpose × RED recipients × granular markings, with the expected outcome
//! computed from tables written from the rules, not from the engine. Then property tests.

use std::collections::BTreeSet;

use comity_stix::tlp::{self as ids, Tlp};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

use super::*;

const US: &str = "identity--us";
const PARTNER: &str = "identity--partner";
const OTHER: &str = "identity--other";
const THIRD: &str = "identity--third";
const OUTSIDER: &str = "identity--outsider";
const LAPSED: &str = "identity--lapsed";
const NARROW: &str = "identity--narrow";
const MALWARE_ONLY: &str = "identity--malware-only";
const ON_HOLD: &str = "identity--on-hold";
const STATEMENT: &str = "marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f";
/// Content properties of the test indicator.
const CONTENT: [&str; 4] = ["name", "description", "pattern", "pattern_type"];

fn id(s: &str) -> MemberId {
    MemberId(s.to_owned())
}

/// Our policy, holding the statement marking definition `STATEMENT` (a copyright notice).
fn policy() -> Policy {
    let statement = serde_json::json!({
        "type": "marking-definition", "spec_version": "2.1", "id": STATEMENT,
        "created": "2017-01-20T00:00:00.000Z", "definition_type": "statement",
        "definition": {"statement": "Copyright 2026, Example Corp"}
    });
    Policy {
        markings: std::sync::Arc::new(MarkingDefinitions::from_json([statement
            .to_string()
            .as_str()])),
        ..Policy::new(id(US))
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

fn agreement(
    name: &str,
    with: &str,
    types: &[&str],
    max_tlp: Tlp,
    handling: &[HandlingCode],
    purposes: &[Purpose],
) -> Agreement {
    Agreement {
        id: name.to_owned(),
        parties: [id(US), id(with)].into(),
        scope: Scope {
            object_types: types.iter().map(|t| t.to_string()).collect(),
            max_tlp,
            handling: handling.iter().copied().collect(),
            purposes: purposes.iter().copied().collect(),
        },
        valid_from: now() - Duration::days(30),
        valid_until: Some(now() + Duration::days(30)),
        status: AgreementStatus::Active,
    }
}

fn full(name: &str, with: &str) -> Agreement {
    agreement(
        name,
        with,
        &["indicator"],
        Tlp::Red,
        &HandlingCode::ALL,
        &Purpose::ALL,
    )
}

fn peer(member: &str, status: MemberStatus, agreements: Vec<Agreement>) -> Requester {
    Requester::Peer(Peer {
        member: id(member),
        status,
        agreements,
    })
}

// ---------------------------------------------------------------- the oracle's world

/// The requesters of the matrix, each with how the oracle sees its agreement.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Local(Role),
    /// PARTNER: active, a full agreement (indicators, up to RED, every code and purpose).
    Partner,
    /// OTHER: active, its own full agreement with us; not the originator of anything.
    Other,
    /// OUTSIDER: active, no agreement at all.
    Outsider,
    /// LAPSED: a full agreement that expired yesterday.
    Lapsed,
    /// ON_HOLD: a full agreement whose status is suspended.
    OnHold,
    /// NARROW: up to GREEN, intelligence only, no handling codes admitted.
    Narrow,
    /// MALWARE_ONLY: a full agreement for malware only (the objects are indicators).
    MalwareOnly,
    /// PARTNER again, with its full agreement, but the member is suspended.
    SuspendedPartner,
}

const WHO: [Who; 12] = [
    Who::Local(Role::Viewer),
    Who::Local(Role::Analyst),
    Who::Local(Role::Liaison),
    Who::Local(Role::Admin),
    Who::Partner,
    Who::Other,
    Who::Outsider,
    Who::Lapsed,
    Who::OnHold,
    Who::Narrow,
    Who::MalwareOnly,
    Who::SuspendedPartner,
];

fn requester(who: Who) -> Requester {
    use MemberStatus::{Active, Suspended};
    match who {
        Who::Local(role) => Requester::Local { role },
        Who::Partner => peer(PARTNER, Active, vec![full("agr-partner", PARTNER)]),
        Who::Other => peer(OTHER, Active, vec![full("agr-other", OTHER)]),
        Who::Outsider => peer(OUTSIDER, Active, vec![]),
        Who::Lapsed => {
            let mut a = full("agr-lapsed", LAPSED);
            a.valid_until = Some(now() - Duration::days(1));
            peer(LAPSED, Active, vec![a])
        }
        Who::OnHold => {
            let mut a = full("agr-on-hold", ON_HOLD);
            a.status = AgreementStatus::Suspended;
            peer(ON_HOLD, Active, vec![a])
        }
        Who::Narrow => peer(
            NARROW,
            Active,
            vec![agreement(
                "agr-narrow",
                NARROW,
                &["indicator"],
                Tlp::Green,
                &[],
                &[Purpose::Intelligence],
            )],
        ),
        Who::MalwareOnly => {
            let mut a = full("agr-malware", MALWARE_ONLY);
            a.scope.object_types = ["malware".to_owned()].into();
            peer(MALWARE_ONLY, Active, vec![a])
        }
        Who::SuspendedPartner => peer(PARTNER, Suspended, vec![full("agr-partner", PARTNER)]),
    }
}

fn member_of(who: Who) -> &'static str {
    match who {
        Who::Local(_) => US,
        Who::Partner | Who::SuspendedPartner => PARTNER,
        Who::Other => OTHER,
        Who::Outsider => OUTSIDER,
        Who::Lapsed => LAPSED,
        Who::OnHold => ON_HOLD,
        Who::Narrow => NARROW,
        Who::MalwareOnly => MALWARE_ONLY,
    }
}

const ORIGINS: [&str; 3] = [US, PARTNER, THIRD];

/// How the object's TLP is written: `None` is unmarked.
const MARKINGS: [(Option<&str>, Tlp); 10] = [
    (None, Tlp::Amber),
    (Some(ids::TLP2_CLEAR), Tlp::Clear),
    (Some(ids::TLP1_WHITE), Tlp::Clear),
    (Some(ids::TLP2_GREEN), Tlp::Green),
    (Some(ids::TLP1_GREEN), Tlp::Green),
    (Some(ids::TLP2_AMBER), Tlp::Amber),
    (Some(ids::TLP1_AMBER), Tlp::Amber),
    (Some(ids::TLP2_AMBER_STRICT), Tlp::AmberStrict),
    (Some(ids::TLP2_RED), Tlp::Red),
    (Some(ids::TLP1_RED), Tlp::Red),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Granular {
    None,
    /// TLP:RED on `description`.
    RedDescription,
    /// TLP:RED on every content property.
    RedEverything,
}

const GRANULAR: [Granular; 3] = [
    Granular::None,
    Granular::RedDescription,
    Granular::RedEverything,
];

struct Case {
    who: Who,
    origin: &'static str,
    level: Tlp,
    channel: Channel,
    codes: BTreeSet<HandlingCode>,
    purpose: Purpose,
    named: bool,
    granular: Granular,
}

// ---------------------------------------------------------------- the oracle's rules

/// Which channels each kind of requester may use at all.
fn audience_allows(who: Who, channel: Channel) -> bool {
    let local = matches!(who, Who::Local(_));
    match channel {
        Channel::Ui | Channel::Export => local,
        Channel::FederationSend => !local,
        Channel::TaxiiRead | Channel::OnwardShare => true,
    }
}

/// Role table for local users.
fn role_allows(role: Role, channel: Channel) -> bool {
    const TABLE: [(Role, &[Channel]); 4] = [
        (Role::Viewer, &[Channel::Ui, Channel::TaxiiRead]),
        (
            Role::Analyst,
            &[Channel::Ui, Channel::TaxiiRead, Channel::Export],
        ),
        (
            Role::Liaison,
            &[
                Channel::Ui,
                Channel::TaxiiRead,
                Channel::Export,
                Channel::OnwardShare,
            ],
        ),
        (
            Role::Admin,
            &[
                Channel::Ui,
                Channel::TaxiiRead,
                Channel::Export,
                Channel::OnwardShare,
            ],
        ),
    ];
    TABLE
        .iter()
        .any(|(r, channels)| *r == role && channels.contains(&channel))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Relation {
    /// The requester is the originator's side.
    Originator,
    /// We originated it; a peer receives it.
    OursToPeer,
    /// Another member originated it; a local user of ours receives it.
    TheirsToUs,
    /// Another member originated it; a peer would get it from us.
    Relayed,
}

/// The highest TLP level (and whether RED needs the receiver named) per relation × channel.
fn ceiling(relation: Relation, channel: Channel) -> (Tlp, bool) {
    use Relation::*;
    match (relation, channel) {
        (Relayed, _) => (Tlp::Green, false),
        (_, Channel::OnwardShare) => (Tlp::Amber, false),
        (Originator, _) => (Tlp::Red, false),
        (TheirsToUs, Channel::Export) => (Tlp::AmberStrict, false),
        (TheirsToUs, _) | (OursToPeer, _) => (Tlp::Red, true),
    }
}

/// Whether the requester's agreements cover the object (peers only).
fn agreement_covers(case: &Case, level: Tlp) -> bool {
    match case.who {
        Who::Partner | Who::Other => true,
        Who::Narrow => {
            level <= Tlp::Green && case.codes.is_empty() && case.purpose == Purpose::Intelligence
        }
        _ => false,
    }
}

fn oracle_allows(case: &Case, level: Tlp) -> bool {
    if !audience_allows(case.who, case.channel) || case.who == Who::SuspendedPartner {
        return false;
    }
    if let Who::Local(role) = case.who {
        if !role_allows(role, case.channel) {
            return false;
        }
    }
    let local = matches!(case.who, Who::Local(_));
    let relation = if member_of(case.who) == case.origin {
        Relation::Originator
    } else if case.origin == US {
        Relation::OursToPeer
    } else if local {
        Relation::TheirsToUs
    } else {
        Relation::Relayed
    };
    let (max, red_needs_name) = ceiling(relation, case.channel);
    if level > max || (level == Tlp::Red && red_needs_name && !case.named) {
        return false;
    }
    if relation == Relation::Originator {
        return true;
    }
    let onward = case.channel == Channel::OnwardShare || relation == Relation::Relayed;
    let handling_ok = case.codes.iter().all(|code| match code {
        HandlingCode::H0 => case.purpose != Purpose::Intelligence,
        HandlingCode::H1 => case.purpose != Purpose::JudicialAssistance,
        HandlingCode::H2 | HandlingCode::H3 => !onward,
    });
    // README sharing rule 1: CLEAR too reaches a peer only under an agreement in force.
    handling_ok && (local || agreement_covers(case, level))
}

/// `None` for deny, else the selectors to redact.
fn oracle(case: &Case) -> Option<Vec<String>> {
    if !oracle_allows(case, case.level) {
        return None;
    }
    if case.granular == Granular::None || oracle_allows(case, Tlp::Red) {
        return Some(vec![]);
    }
    match case.granular {
        Granular::RedDescription => Some(vec!["description".to_owned()]),
        _ => None,
    }
}

// ---------------------------------------------------------------- the matrix

fn object(case: &Case, marking: Option<&str>) -> MarkedObject {
    let all_members = [
        US,
        PARTNER,
        OTHER,
        OUTSIDER,
        LAPSED,
        ON_HOLD,
        NARROW,
        MALWARE_ONLY,
    ];
    let granular_markings = match case.granular {
        Granular::None => vec![],
        Granular::RedDescription => vec![GranularMarking {
            selectors: vec!["description".into()],
            marking_ref: ids::TLP2_RED.into(),
        }],
        Granular::RedEverything => vec![GranularMarking {
            selectors: CONTENT.iter().map(|s| s.to_string()).collect(),
            marking_ref: ids::TLP2_RED.into(),
        }],
    };
    let mut properties: Vec<String> = ["type", "spec_version", "id", "created", "modified"]
        .into_iter()
        .chain(CONTENT)
        .map(str::to_owned)
        .collect();
    properties.push("object_marking_refs".into());
    MarkedObject {
        object_type: "indicator".into(),
        originator: id(case.origin),
        object_marking_refs: marking
            .into_iter()
            .map(str::to_owned)
            .chain([STATEMENT.to_owned()])
            .collect(),
        granular_markings,
        handling: Handling {
            codes: case.codes.clone(),
            restrictions: case
                .codes
                .contains(&HandlingCode::H3)
                .then(|| "not before the joint operation".to_owned()),
        },
        red_recipients: if case.named {
            all_members.iter().map(|m| id(m)).collect()
        } else {
            vec![id(THIRD)]
        },
        properties,
    }
}

/// No code, each code alone, two pairs and all four.
fn code_sets() -> Vec<BTreeSet<HandlingCode>> {
    [
        0b0000u8, 0b0001, 0b0010, 0b0100, 0b1000, 0b0011, 0b1100, 0b1111,
    ]
    .into_iter()
    .map(|bits| {
        HandlingCode::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, c)| c)
            .collect()
    })
    .collect()
}

#[test]
fn every_level_channel_requester_origin_code_purpose_and_granular_marking_matches_the_oracle() {
    let policy = policy();
    let (mut cases, mut allowed, mut redacted) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    for who in WHO {
        let req = requester(who);
        for origin in ORIGINS {
            for (marking, level) in MARKINGS {
                for channel in Channel::ALL {
                    for codes in code_sets() {
                        for purpose in Purpose::ALL {
                            for named in [true, false] {
                                for granular in GRANULAR {
                                    let case = Case {
                                        who,
                                        origin,
                                        level,
                                        channel,
                                        codes: codes.clone(),
                                        purpose,
                                        named,
                                        granular,
                                    };
                                    let obj = object(&case, marking);
                                    let got = policy.decide(&Access {
                                        object: &obj,
                                        requester: &req,
                                        channel,
                                        purpose,
                                        at: now(),
                                    });
                                    let got = match got {
                                        Decision::Allow { redact } => Some(redact),
                                        Decision::Deny { .. } => None,
                                    };
                                    let want = oracle(&case);
                                    cases += 1;
                                    allowed += usize::from(want.is_some());
                                    redacted +=
                                        usize::from(want.as_ref().is_some_and(|r| !r.is_empty()));
                                    if got != want && failures.len() < 20 {
                                        failures.push(format!(
                                            "{who:?} origin={origin} {marking:?} {channel:?} {codes:?} {purpose:?} named={named} {granular:?}: want {want:?}, got {got:?}"
                                        ));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(cases, 12 * 3 * 10 * 5 * 8 * 3 * 2 * 3);
    // The matrix exercises both outcomes and redaction, not only denials.
    assert!(allowed > cases / 20, "{allowed} of {cases} allowed");
    assert!(redacted > 0);
}

// ---------------------------------------------------------------- reasons

fn decide(obj: &MarkedObject, req: &Requester, channel: Channel, purpose: Purpose) -> Decision {
    policy().decide(&Access {
        object: obj,
        requester: req,
        channel,
        purpose,
        at: now(),
    })
}

fn reason(d: Decision) -> String {
    match d {
        Decision::Deny { reason } => reason.to_string(),
        Decision::Allow { redact } => panic!("allowed, redacting {redact:?}"),
    }
}

fn indicator(origin: &str, marking: &str) -> MarkedObject {
    let case = Case {
        who: Who::Partner,
        origin: "",
        level: Tlp::Clear,
        channel: Channel::Ui,
        codes: BTreeSet::new(),
        purpose: Purpose::Intelligence,
        named: false,
        granular: Granular::None,
    };
    let mut obj = object(&case, Some(marking));
    obj.originator = id(origin);
    obj
}

#[test]
fn a_denial_names_the_agreement_and_why_it_does_not_cover() {
    let obj = indicator(US, ids::TLP2_AMBER);
    let got = reason(decide(
        &obj,
        &requester(Who::Lapsed),
        Channel::FederationSend,
        Purpose::Intelligence,
    ));
    assert!(got.starts_with("no agreement covers TLP:AMBER indicator for intelligence to identity--lapsed: agreement agr-lapsed expired at "), "{got}");
    assert!(got.ends_with("[agreement]"), "{got}");
    let got = reason(decide(
        &obj,
        &requester(Who::Narrow),
        Channel::TaxiiRead,
        Purpose::Intelligence,
    ));
    assert!(
        got.contains("agreement agr-narrow covers at most TLP:GREEN, the object is TLP:AMBER"),
        "{got}"
    );
}

#[test]
fn a_denial_names_the_marking_and_the_handling_code() {
    let red = indicator(PARTNER, ids::TLP1_RED);
    assert_eq!(
        reason(decide(&red, &requester(Who::Local(Role::Admin)), Channel::OnwardShare, Purpose::Intelligence)),
        "TLP:RED is never shared onward: AMBER+STRICT stays in the recipient organisation, RED with its named recipients [tlp]"
    );
    let mut h3 = indicator(PARTNER, ids::TLP2_GREEN);
    h3.handling.codes.insert(HandlingCode::H3);
    h3.handling.restrictions = Some("not before the joint operation".into());
    assert_eq!(
        reason(decide(&h3, &requester(Who::Other), Channel::FederationSend, Purpose::Intelligence)),
        "handling code H3 of identity--partner (other restrictions stated in text): the restrictions ('not before the joint operation') need a person to apply them before passing it on [handling]"
    );
    assert_eq!(
        reason(decide(
            &h3,
            &requester(Who::SuspendedPartner),
            Channel::TaxiiRead,
            Purpose::Intelligence
        )),
        "member identity--partner is suspended [suspended-member]"
    );
}

#[test]
fn granular_markings_that_withhold_all_content_deny_with_the_marking_named() {
    let mut obj = indicator(US, ids::TLP2_GREEN);
    obj.granular_markings.push(GranularMarking {
        selectors: CONTENT.iter().map(|s| s.to_string()).collect(),
        marking_ref: ids::TLP2_AMBER_STRICT.into(),
    });
    let got = reason(decide(
        &obj,
        &requester(Who::Narrow),
        Channel::TaxiiRead,
        Purpose::Intelligence,
    ));
    assert!(got.starts_with("granular markings withhold every content property: no agreement covers TLP:AMBER+STRICT"), "{got}");
    obj.granular_markings[0].selectors = vec!["id".into()];
    let got = reason(decide(
        &obj,
        &requester(Who::Narrow),
        Channel::TaxiiRead,
        Purpose::Intelligence,
    ));
    assert!(
        got.starts_with("granular markings withhold its 'id' property"),
        "{got}"
    );
}

/// The granular-markings example of the STIX 2.1 specification: an indicator without
/// object-level markings, TLP 1.0 RED on `description`, AMBER on `indicator_types.[1]`, GREEN
/// on `indicator_types.[0]`, `name` and `pattern`.
fn specification_indicator(originator: &str) -> MarkedObject {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/stix-examples/using-granular-markings.json"
    );
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let indicator = &bundle["objects"][1];
    MarkedObject::from_stix(indicator, id(originator)).unwrap()
}

#[test]
fn the_specification_granular_example_is_redacted_per_requester() {
    let open = Policy {
        unmarked: Tlp::Clear,
        ..policy()
    };
    let ours = specification_indicator(US);
    let ask = |policy: &Policy, obj: &MarkedObject, who: Who| {
        policy.decide(&Access {
            object: obj,
            requester: &requester(who),
            channel: Channel::TaxiiRead,
            purpose: Purpose::Intelligence,
            at: now(),
        })
    };
    let redact = |paths: &[&str]| Decision::Allow {
        redact: paths.iter().map(|p| p.to_string()).collect(),
    };
    assert_eq!(ask(&open, &ours, Who::Partner), redact(&["description"]));
    assert_eq!(
        ask(&open, &ours, Who::Narrow),
        redact(&["description", "indicator_types.[1]"])
    );
    let outsider = ask(&open, &ours, Who::Outsider);
    assert!(
        matches!(&outsider, Decision::Deny { reason } if reason.rule == Rule::Agreement),
        "README sharing rule 1: a member without an agreement gets nothing, CLEAR included: {outsider:?}"
    );
    // With unmarked objects taken as AMBER, the partner's copy is visible to our viewers
    // without the RED description (we are not named), and not relayed to another member.
    let theirs = specification_indicator(PARTNER);
    let default = policy();
    assert_eq!(
        ask(&default, &theirs, Who::Local(Role::Viewer)),
        redact(&["description"])
    );
    assert!(!ask(&default, &theirs, Who::Other).is_allow());
}

// ---------------------------------------------------------------- properties

const MEMBERS: [&str; 4] = [US, PARTNER, OTHER, THIRD];
const REFS: [&str; 10] = [
    ids::TLP2_CLEAR,
    ids::TLP2_GREEN,
    ids::TLP2_AMBER,
    ids::TLP2_AMBER_STRICT,
    ids::TLP2_RED,
    ids::TLP1_WHITE,
    ids::TLP1_GREEN,
    ids::TLP1_AMBER,
    ids::TLP1_RED,
    STATEMENT,
];
const SELECTORS: [&str; 6] = [
    "name",
    "description",
    "pattern",
    "pattern_type",
    "id",
    "external_references.[0].url",
];

fn member() -> impl Strategy<Value = MemberId> {
    proptest::sample::select(&MEMBERS[..]).prop_map(id)
}

fn marking_ref() -> impl Strategy<Value = String> {
    proptest::sample::select(&REFS[..]).prop_map(str::to_owned)
}

fn granular_marking() -> impl Strategy<Value = GranularMarking> {
    (
        proptest::sample::subsequence(&SELECTORS[..], 1..3),
        marking_ref(),
    )
        .prop_map(|(s, r)| GranularMarking {
            selectors: s.into_iter().map(str::to_owned).collect(),
            marking_ref: r,
        })
}

fn handling_code() -> impl Strategy<Value = HandlingCode> {
    proptest::sample::select(&HandlingCode::ALL[..])
}

fn tlp() -> impl Strategy<Value = Tlp> {
    proptest::sample::select(&Tlp::ALL[..])
}

fn purpose() -> impl Strategy<Value = Purpose> {
    proptest::sample::select(&Purpose::ALL[..])
}

fn channel() -> impl Strategy<Value = Channel> {
    proptest::sample::select(&Channel::ALL[..])
}

fn marked_object() -> impl Strategy<Value = MarkedObject> {
    (
        proptest::sample::select(&["indicator", "malware"][..]),
        member(),
        proptest::collection::vec(marking_ref(), 0..3),
        proptest::collection::vec(granular_marking(), 0..3),
        proptest::collection::btree_set(handling_code(), 0..3),
        proptest::collection::vec(member(), 0..3),
    )
        .prop_map(|(t, originator, refs, granular, codes, red)| MarkedObject {
            object_type: t.to_owned(),
            originator,
            object_marking_refs: refs,
            granular_markings: granular,
            handling: Handling {
                codes,
                restrictions: None,
            },
            red_recipients: red,
            properties: [
                "type",
                "id",
                "created",
                "modified",
                "spec_version",
                "name",
                "description",
                "pattern",
                "pattern_type",
                "external_references",
            ]
            .map(str::to_owned)
            .to_vec(),
        })
}

fn arbitrary_agreement() -> impl Strategy<Value = Agreement> {
    (
        proptest::collection::btree_set(member(), 1..4),
        proptest::collection::btree_set(
            proptest::sample::select(&["indicator", "malware"][..]).prop_map(str::to_owned),
            0..3,
        ),
        tlp(),
        proptest::collection::btree_set(handling_code(), 0..5),
        proptest::collection::btree_set(purpose(), 0..4),
        -3i64..3,
        proptest::option::of(-3i64..3),
        proptest::sample::select(
            &[
                AgreementStatus::Proposed,
                AgreementStatus::Active,
                AgreementStatus::Suspended,
                AgreementStatus::Terminated,
            ][..],
        ),
    )
        .prop_map(
            |(parties, object_types, max_tlp, handling, purposes, from, until, status)| Agreement {
                id: "agr".into(),
                parties,
                scope: Scope {
                    object_types,
                    max_tlp,
                    handling,
                    purposes,
                },
                valid_from: now() + Duration::days(from),
                valid_until: until.map(|d| now() + Duration::days(d)),
                status,
            },
        )
}

fn peer_with(status: MemberStatus) -> impl Strategy<Value = Peer> {
    (
        member(),
        proptest::collection::vec(arbitrary_agreement(), 0..3),
    )
        .prop_map(move |(member, agreements)| Peer {
            member,
            status,
            agreements,
        })
}

fn arbitrary_requester() -> impl Strategy<Value = Requester> {
    prop_oneof![
        proptest::sample::select(&Role::ALL[..]).prop_map(|role| Requester::Local { role }),
        proptest::sample::select(&[MemberStatus::Active, MemberStatus::Suspended][..])
            .prop_flat_map(peer_with)
            .prop_map(Requester::Peer),
    ]
}

/// One more marking of any kind: an object-level marking, a granular marking or a code.
#[derive(Debug, Clone)]
enum Addition {
    ObjectLevel(String),
    Granular(GranularMarking),
    Code(HandlingCode),
}

fn addition() -> impl Strategy<Value = Addition> {
    prop_oneof![
        marking_ref().prop_map(Addition::ObjectLevel),
        granular_marking().prop_map(Addition::Granular),
        handling_code().prop_map(Addition::Code),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Adding a marking never turns a Deny into an Allow and never un-redacts a property.
    /// The one exception by design: the first TLP marking of an unmarked object may be less
    /// restrictive than the level assumed for unmarked objects, so that case is checked with
    /// unmarked objects assumed CLEAR.
    #[test]
    fn adding_a_marking_never_turns_a_deny_into_an_allow(
        obj in marked_object(),
        extra in addition(),
        req in arbitrary_requester(),
        channel in channel(),
        purpose in purpose(),
    ) {
        let mut policy = policy();
        if obj.tlp(&policy.markings).is_none() {
            policy.unmarked = Tlp::Clear;
        }
        let mut more = obj.clone();
        match extra {
            Addition::ObjectLevel(r) => more.object_marking_refs.push(r),
            Addition::Granular(g) => more.granular_markings.push(g),
            Addition::Code(c) => { more.handling.codes.insert(c); }
        }
        let ask = |o| policy.decide(&Access { object: o, requester: &req, channel, purpose, at: now() });
        match (ask(&obj), ask(&more)) {
            (Decision::Deny { .. }, after) => prop_assert!(!after.is_allow(), "{after:?}"),
            (Decision::Allow { redact: before }, Decision::Allow { redact: after }) => {
                prop_assert!(before.iter().all(|p| after.contains(p)), "{before:?} then {after:?}");
            }
            (Decision::Allow { .. }, Decision::Deny { .. }) => {}
        }
    }

    /// RED never leaves through onward sharing, whoever asks and whatever else is marked.
    #[test]
    fn red_never_leaves_via_onward_share(
        mut obj in marked_object(),
        red in proptest::sample::select(&[ids::TLP2_RED, ids::TLP1_RED][..]),
        req in arbitrary_requester(),
        purpose in purpose(),
    ) {
        obj.object_marking_refs.push(red.to_owned());
        let d = decide(&obj, &req, Channel::OnwardShare, purpose);
        prop_assert!(!d.is_allow(), "{d:?}");
    }

    /// A suspended member gets nothing, through any channel, whatever its agreements.
    #[test]
    fn a_suspended_member_is_always_denied(
        obj in marked_object(),
        peer in peer_with(MemberStatus::Suspended),
        channel in channel(),
        purpose in purpose(),
    ) {
        let d = decide(&obj, &Requester::Peer(peer), channel, purpose);
        prop_assert!(!d.is_allow(), "{d:?}");
    }

    /// Without an agreement in force that names both parties, a peer gets only its own
    /// objects (README sharing rule 1: CLEAR included).
    #[test]
    fn without_an_agreement_in_force_a_peer_gets_only_its_own(
        obj in marked_object(),
        mut peer in peer_with(MemberStatus::Active),
        channel in channel(),
        purpose in purpose(),
    ) {
        let at = now();
        peer.agreements.retain(|a| {
            a.status != AgreementStatus::Active
                || a.valid_from > at
                || a.valid_until.is_some_and(|u| u <= at)
                || !a.parties.contains(&id(US))
                || !a.parties.contains(&peer.member)
        });
        let level = obj.tlp(&policy().markings).unwrap_or(Tlp::Amber);
        let d = decide(&obj, &Requester::Peer(peer.clone()), channel, purpose);
        if d.is_allow() {
            prop_assert!(
                obj.originator == peer.member,
                "README sharing rule 1: {level} allowed without an agreement: {d:?}"
            );
        }
    }

    /// An allowed object's redactions come only from its granular markings' selectors.
    #[test]
    fn redactions_come_only_from_granular_selectors(
        obj in marked_object(),
        req in arbitrary_requester(),
        channel in channel(),
        purpose in purpose(),
    ) {
        if let Decision::Allow { redact } = decide(&obj, &req, channel, purpose) {
            for path in redact {
                prop_assert!(obj.granular_markings.iter().any(|g| g.selectors.contains(&path)));
            }
        }
    }
}

/// A marking reference written otherwise: its UUID's hex digits in random case (the same
/// marking), or something this node cannot resolve (whitespace around it, an unknown id,
/// another type's id, a malformed UUID).
#[derive(Debug, Clone)]
enum Spelling {
    Case(u64),
    Unresolvable(Unresolvable),
}

#[derive(Debug, Clone)]
enum Unresolvable {
    Padded(&'static str, bool),
    Unknown(u128),
    OtherType,
    Truncated,
}

impl Spelling {
    fn apply(&self, marking_ref: &str) -> String {
        match self {
            Spelling::Case(mask) => marking_ref
                .char_indices()
                .map(|(i, c)| {
                    let uuid_part = i >= "marking-definition--".len();
                    if uuid_part && mask >> (i % 64) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect(),
            Spelling::Unresolvable(Unresolvable::Padded(ws, before)) if *before => {
                format!("{ws}{marking_ref}")
            }
            Spelling::Unresolvable(Unresolvable::Padded(ws, _)) => format!("{marking_ref}{ws}"),
            Spelling::Unresolvable(Unresolvable::Unknown(bits)) => format!(
                "marking-definition--{}",
                uuid::Builder::from_random_bytes(bits.to_le_bytes()).into_uuid()
            ),
            Spelling::Unresolvable(Unresolvable::OtherType) => {
                marking_ref.replacen("marking-definition", "identity", 1)
            }
            Spelling::Unresolvable(Unresolvable::Truncated) => {
                marking_ref[..marking_ref.len() - 1].to_owned()
            }
        }
    }
}

fn spelling() -> impl Strategy<Value = Spelling> {
    prop_oneof![
        any::<u64>().prop_map(Spelling::Case),
        (
            proptest::sample::select(&[" ", "\t", "\n", "\u{a0}", "\u{200b}"][..]),
            any::<bool>()
        )
            .prop_map(|(ws, before)| Spelling::Unresolvable(Unresolvable::Padded(ws, before))),
        any::<u128>().prop_map(|b| Spelling::Unresolvable(Unresolvable::Unknown(b))),
        Just(Spelling::Unresolvable(Unresolvable::OtherType)),
        Just(Spelling::Unresolvable(Unresolvable::Truncated)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Writing one marking reference of an object otherwise never widens who may read it: in
    /// another case it is the same marking (the same decision); unresolvable, it decides
    /// exactly as TLP:RED in its place would, and never less restrictively than before.
    #[test]
    fn case_whitespace_and_unknown_markings_never_widen_who_may_read(
        obj in marked_object(),
        which in any::<proptest::sample::Index>(),
        written in spelling(),
        req in arbitrary_requester(),
        channel in channel(),
        purpose in purpose(),
    ) {
        let slots = obj.object_marking_refs.len() + obj.granular_markings.len();
        prop_assume!(slots > 0);
        let slot = which.index(slots);
        let with = |text: &str| {
            let mut o = obj.clone();
            match o.object_marking_refs.get_mut(slot) {
                Some(r) => *r = text.to_owned(),
                None => {
                    o.granular_markings[slot - obj.object_marking_refs.len()].marking_ref =
                        text.to_owned()
                }
            }
            o
        };
        let original = obj
            .object_marking_refs
            .iter()
            .chain(obj.granular_markings.iter().map(|g| &g.marking_ref))
            .nth(slot)
            .unwrap()
            .clone();
        let policy = policy();
        let ask = |o: &MarkedObject| {
            policy.decide(&Access { object: o, requester: &req, channel, purpose, at: now() })
        };
        let before = ask(&obj);
        let after = ask(&with(&written.apply(&original)));
        match &written {
            Spelling::Case(_) => prop_assert_eq!(&after, &before),
            Spelling::Unresolvable(_) => {
                prop_assert_eq!(&after, &ask(&with(ids::TLP2_RED)));
                match (&before, &after) {
                    (Decision::Deny { .. }, after) => prop_assert!(!after.is_allow(), "{after:?}"),
                    (Decision::Allow { redact: b }, Decision::Allow { redact: a }) => {
                        prop_assert!(b.iter().all(|p| a.contains(p)), "{b:?} then {a:?}");
                    }
                    (Decision::Allow { .. }, Decision::Deny { .. }) => {}
                }
            }
        }
    }
}
