//! The state machine of a cooperation request, the same on both nodes: which party may do
//! which act from which state, and where it leads. Pure: no store, no clock.
//!
//! ```text
//! draft → submitted → delivered → acknowledged (the deadline clock starts) → under_review
//! under_review ⇄ info_requested
//! under_review → accepted | accepted_with_conditions (the requester accepts them → accepted)
//!              | postponed (→ under_review when resumed) | refused (with a reason code)
//! accepted → in_execution → partially_executed* → executed → closed
//! preservation: accepted → preserved(until) → extended* → linked | lapsed | released
//! withdrawn: by the requester, from any state before executed
//! ```
//!
//! *Overdue* is not a state: it is a flag computed from the deadline.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::kinds::RequestKind;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Written, not sent.
    Draft,
    /// Signed and sent by the requester.
    Submitted,
    /// Taken in by the requested node.
    Delivered,
    /// The requested side has acknowledged it; the deadline runs from here.
    Acknowledged,
    /// The requested side is examining it.
    UnderReview,
    /// The requested side asked for more information.
    InfoRequested,
    /// Accepted.
    Accepted,
    /// Accepted on conditions the requester has yet to accept.
    AcceptedWithConditions,
    /// Postponed by the requested side.
    Postponed,
    /// Refused, with a reason code.
    Refused,
    /// Being executed.
    InExecution,
    /// Partly executed; more is to come.
    PartiallyExecuted,
    /// Executed.
    Executed,
    /// Closed: nothing more happens.
    Closed,
    /// Preservation: the data are preserved until a date.
    Preserved,
    /// Preservation: the period was extended.
    Extended,
    /// Preservation: linked to the production or MLA request that follows it.
    Linked,
    /// Preservation: the period ended with no follow-up.
    Lapsed,
    /// Preservation: the data were released early.
    Released,
    /// Withdrawn by the requester.
    Withdrawn,
}

/// What a party does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    /// The requester signs and sends the request.
    Submit,
    /// The requested node took it in (made by that node, not by a person).
    Deliver,
    /// A liaison officer on the requested side opened it for the first time (a receipt; the
    /// state does not change).
    Retrieve,
    /// The requested side acknowledges it.
    Acknowledge,
    /// The requested side starts examining it.
    Review,
    /// The requested side asks for more information.
    RequestInfo,
    /// The requester supplies it.
    SupplyInfo,
    /// The requested side accepts.
    Accept,
    /// The requested side accepts on conditions.
    AcceptWithConditions,
    /// The requester accepts the conditions.
    AcceptConditions,
    /// The requested side postpones.
    Postpone,
    /// The requested side takes a postponed request up again.
    Resume,
    /// The requested side refuses, with a reason code.
    Refuse,
    /// The requested side starts executing.
    Execute,
    /// The requested side delivers part of the result.
    ExecutePartially,
    /// The requested side delivers the rest.
    Complete,
    /// Either side closes a request that has ended.
    Close,
    /// Preservation: the requested side has preserved the data until a date.
    Preserve,
    /// Preservation: the requested side extends the period.
    Extend,
    /// Preservation: the requester links the production or MLA request that follows.
    Link,
    /// Preservation: either side records that the period ended.
    Lapse,
    /// Preservation: either side releases the data.
    Release,
    /// The requester withdraws the request.
    Withdraw,
}

/// The party making an act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The member that asked.
    Requester,
    /// The member asked.
    Requested,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Requester => "requester",
            Side::Requested => "requested side",
        })
    }
}

/// Which side may make an act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Requester,
    Requested,
    Either,
}

/// Which kinds an act applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kinds {
    All,
    Preservation,
    NotPreservation,
}

use State::*;

/// The states from which a requester may still withdraw (everything before executed that
/// has not ended).
const WITHDRAWABLE: &[State] = &[
    Submitted,
    Delivered,
    Acknowledged,
    UnderReview,
    InfoRequested,
    Accepted,
    AcceptedWithConditions,
    Postponed,
    InExecution,
    PartiallyExecuted,
    Preserved,
    Extended,
];

/// One rule: `act` by `who`, for `kinds`, from any of `from`, leads to `to` (`None`: the
/// state stays).
struct Rule {
    act: Act,
    who: Who,
    kinds: Kinds,
    from: &'static [State],
    to: Option<State>,
}

const RULES: &[Rule] = &[
    rule(
        Act::Submit,
        Who::Requester,
        Kinds::All,
        &[Draft],
        Some(Submitted),
    ),
    rule(
        Act::Deliver,
        Who::Requested,
        Kinds::All,
        &[Submitted],
        Some(Delivered),
    ),
    rule(
        Act::Acknowledge,
        Who::Requested,
        Kinds::All,
        &[Delivered],
        Some(Acknowledged),
    ),
    rule(
        Act::Review,
        Who::Requested,
        Kinds::All,
        &[Acknowledged],
        Some(UnderReview),
    ),
    rule(
        Act::RequestInfo,
        Who::Requested,
        Kinds::All,
        &[UnderReview],
        Some(InfoRequested),
    ),
    rule(
        Act::SupplyInfo,
        Who::Requester,
        Kinds::All,
        &[InfoRequested],
        Some(UnderReview),
    ),
    rule(
        Act::Accept,
        Who::Requested,
        Kinds::All,
        &[UnderReview],
        Some(Accepted),
    ),
    rule(
        Act::AcceptWithConditions,
        Who::Requested,
        Kinds::All,
        &[UnderReview],
        Some(AcceptedWithConditions),
    ),
    rule(
        Act::AcceptConditions,
        Who::Requester,
        Kinds::All,
        &[AcceptedWithConditions],
        Some(Accepted),
    ),
    rule(
        Act::Postpone,
        Who::Requested,
        Kinds::All,
        &[UnderReview, Accepted],
        Some(Postponed),
    ),
    rule(
        Act::Resume,
        Who::Requested,
        Kinds::All,
        &[Postponed],
        Some(UnderReview),
    ),
    rule(
        Act::Refuse,
        Who::Requested,
        Kinds::All,
        &[Acknowledged, UnderReview, InfoRequested, Postponed],
        Some(Refused),
    ),
    rule(
        Act::Execute,
        Who::Requested,
        Kinds::NotPreservation,
        &[Accepted],
        Some(InExecution),
    ),
    rule(
        Act::ExecutePartially,
        Who::Requested,
        Kinds::NotPreservation,
        &[InExecution, PartiallyExecuted],
        Some(PartiallyExecuted),
    ),
    rule(
        Act::Complete,
        Who::Requested,
        Kinds::NotPreservation,
        &[InExecution, PartiallyExecuted],
        Some(Executed),
    ),
    rule(
        Act::Close,
        Who::Either,
        Kinds::All,
        &[Executed, Refused, Linked, Lapsed, Released, Withdrawn],
        Some(Closed),
    ),
    rule(
        Act::Preserve,
        Who::Requested,
        Kinds::Preservation,
        &[Accepted],
        Some(Preserved),
    ),
    rule(
        Act::Extend,
        Who::Requested,
        Kinds::Preservation,
        &[Preserved, Extended],
        Some(Extended),
    ),
    rule(
        Act::Link,
        Who::Requester,
        Kinds::Preservation,
        &[Preserved, Extended],
        Some(Linked),
    ),
    rule(
        Act::Lapse,
        Who::Either,
        Kinds::Preservation,
        &[Preserved, Extended],
        Some(Lapsed),
    ),
    rule(
        Act::Release,
        Who::Either,
        Kinds::Preservation,
        &[Preserved, Extended],
        Some(Released),
    ),
    rule(
        Act::Withdraw,
        Who::Requester,
        Kinds::All,
        WITHDRAWABLE,
        Some(Withdrawn),
    ),
];

const fn rule(act: Act, who: Who, kinds: Kinds, from: &'static [State], to: Option<State>) -> Rule {
    Rule {
        act,
        who,
        kinds,
        from,
        to,
    }
}

/// The states in which the requested side has yet to give its answer: the deadline counts.
pub const AWAITING_ANSWER: &[State] = &[
    Acknowledged,
    UnderReview,
    InfoRequested,
    Accepted,
    AcceptedWithConditions,
    Postponed,
    InExecution,
    PartiallyExecuted,
];

/// Why an act was refused by the machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MachineError {
    /// The act does not apply in this state (or to this kind).
    #[error(
        "{act} is not allowed on this {kind} request while it is {state}; allowed now: {allowed}"
    )]
    NotAllowed {
        /// The act.
        act: Act,
        /// The request's kind.
        kind: RequestKind,
        /// Its state.
        state: State,
        /// What the same party may do instead, comma-separated (or "nothing").
        allowed: String,
    },
    /// The act belongs to the other party.
    #[error("{act} is made by the {owner}, not by the {side}")]
    WrongSide {
        /// The act.
        act: Act,
        /// Who tried.
        side: Side,
        /// Whose act it is.
        owner: Side,
    },
    /// A retrieval receipt exists already.
    #[error("the request was retrieved already")]
    RetrievedAlready,
}

/// Where `act` by `side` leads a `kind` request that is `state` (`retrieved`: whether a
/// retrieval receipt is in its history already).
pub fn next(
    kind: RequestKind,
    state: State,
    act: Act,
    side: Side,
    retrieved: bool,
) -> Result<State, MachineError> {
    if act == Act::Retrieve {
        if side != Side::Requested {
            return Err(MachineError::WrongSide {
                act,
                side,
                owner: Side::Requested,
            });
        }
        if retrieved {
            return Err(MachineError::RetrievedAlready);
        }
        if matches!(state, Draft | Submitted) {
            return Err(not_allowed(kind, state, act, side, retrieved));
        }
        return Ok(state);
    }
    let Some(rule) = RULES
        .iter()
        .find(|r| r.act == act && applies(r.kinds, kind) && r.from.contains(&state))
    else {
        return Err(not_allowed(kind, state, act, side, retrieved));
    };
    let owner = match rule.who {
        Who::Either => None,
        Who::Requester => (side != Side::Requester).then_some(Side::Requester),
        Who::Requested => (side != Side::Requested).then_some(Side::Requested),
    };
    if let Some(owner) = owner {
        return Err(MachineError::WrongSide { act, side, owner });
    }
    Ok(rule.to.unwrap_or(state))
}

/// Every act `side` may make on a `kind` request that is `state`.
pub fn allowed(kind: RequestKind, state: State, side: Side, retrieved: bool) -> Vec<Act> {
    let mut acts: Vec<Act> = RULES
        .iter()
        .filter(|r| {
            applies(r.kinds, kind)
                && r.from.contains(&state)
                && match r.who {
                    Who::Either => true,
                    Who::Requester => side == Side::Requester,
                    Who::Requested => side == Side::Requested,
                }
        })
        .map(|r| r.act)
        .collect();
    // Deliver is the requested node's own act on intake, never a person's.
    acts.retain(|a| *a != Act::Deliver);
    if side == Side::Requested && !retrieved && !matches!(state, Draft | Submitted) {
        acts.push(Act::Retrieve);
    }
    acts
}

fn not_allowed(
    kind: RequestKind,
    state: State,
    act: Act,
    side: Side,
    retrieved: bool,
) -> MachineError {
    let acts = allowed(kind, state, side, retrieved);
    let allowed = if acts.is_empty() {
        "nothing".to_owned()
    } else {
        acts.iter().map(Act::as_str).collect::<Vec<_>>().join(", ")
    };
    MachineError::NotAllowed {
        act,
        kind,
        state,
        allowed,
    }
}

fn applies(kinds: Kinds, kind: RequestKind) -> bool {
    match kinds {
        Kinds::All => true,
        Kinds::Preservation => kind == RequestKind::Preservation,
        Kinds::NotPreservation => kind != RequestKind::Preservation,
    }
}

/// Writes and reads the snake_case names the JSON uses.
macro_rules! names {
    ($ty:ident $what:literal { $($variant:ident => $text:literal,)+ }) => {
        impl $ty {
            /// Every value.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name as written in JSON and on the command line.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    $($ty::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    other => Err(format!(
                        concat!("unknown ", $what, " {:?}: expected one of {}"),
                        other,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

names!(State "state" {
    Draft => "draft",
    Submitted => "submitted",
    Delivered => "delivered",
    Acknowledged => "acknowledged",
    UnderReview => "under_review",
    InfoRequested => "info_requested",
    Accepted => "accepted",
    AcceptedWithConditions => "accepted_with_conditions",
    Postponed => "postponed",
    Refused => "refused",
    InExecution => "in_execution",
    PartiallyExecuted => "partially_executed",
    Executed => "executed",
    Closed => "closed",
    Preserved => "preserved",
    Extended => "extended",
    Linked => "linked",
    Lapsed => "lapsed",
    Released => "released",
    Withdrawn => "withdrawn",
});

names!(Act "act" {
    Submit => "submit",
    Deliver => "deliver",
    Retrieve => "retrieve",
    Acknowledge => "acknowledge",
    Review => "review",
    RequestInfo => "request_info",
    SupplyInfo => "supply_info",
    Accept => "accept",
    AcceptWithConditions => "accept_with_conditions",
    AcceptConditions => "accept_conditions",
    Postpone => "postpone",
    Resume => "resume",
    Refuse => "refuse",
    Execute => "execute",
    ExecutePartially => "execute_partially",
    Complete => "complete",
    Close => "close",
    Preserve => "preserve",
    Extend => "extend",
    Link => "link",
    Lapse => "lapse",
    Release => "release",
    Withdraw => "withdraw",
});

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [RequestKind; 5] = [
        RequestKind::Assistance,
        RequestKind::Preservation,
        RequestKind::Disclosure,
        RequestKind::Production,
        RequestKind::Mla,
    ];

    fn walk(kind: RequestKind, steps: &[(Act, Side)]) -> State {
        let mut state = Draft;
        for (act, side) in steps {
            state = next(kind, state, *act, *side, false)
                .unwrap_or_else(|e| panic!("{act} by {side:?} from {state}: {e}"));
        }
        state
    }

    #[test]
    fn a_request_goes_from_draft_to_closed() {
        use Side::*;
        let state = walk(
            RequestKind::Mla,
            &[
                (Act::Submit, Requester),
                (Act::Deliver, Requested),
                (Act::Acknowledge, Requested),
                (Act::Review, Requested),
                (Act::RequestInfo, Requested),
                (Act::SupplyInfo, Requester),
                (Act::AcceptWithConditions, Requested),
                (Act::AcceptConditions, Requester),
                (Act::Execute, Requested),
                (Act::ExecutePartially, Requested),
                (Act::ExecutePartially, Requested),
                (Act::Complete, Requested),
                (Act::Close, Requester),
            ],
        );
        assert_eq!(state, Closed);
    }

    #[test]
    fn a_preservation_is_preserved_extended_and_linked() {
        use Side::*;
        let start = [
            (Act::Submit, Requester),
            (Act::Deliver, Requested),
            (Act::Acknowledge, Requested),
            (Act::Review, Requested),
            (Act::Accept, Requested),
            (Act::Preserve, Requested),
            (Act::Extend, Requested),
            (Act::Extend, Requested),
        ];
        let kind = RequestKind::Preservation;
        assert_eq!(walk(kind, &start), Extended);
        for (end, side, to) in [
            (Act::Link, Requester, Linked),
            (Act::Lapse, Requested, Lapsed),
            (Act::Release, Requester, Released),
        ] {
            assert_eq!(next(kind, Extended, end, side, false), Ok(to));
        }
        // A preservation is preserved, not executed; other kinds are executed.
        assert!(next(kind, Accepted, Act::Execute, Requested, false).is_err());
        assert!(next(RequestKind::Mla, Accepted, Act::Preserve, Requested, false).is_err());
    }

    #[test]
    fn an_illegal_act_is_refused_with_what_is_allowed() {
        let err = next(
            RequestKind::Mla,
            Delivered,
            Act::Accept,
            Side::Requested,
            false,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "accept is not allowed on this mla request while it is delivered; allowed now: acknowledge, retrieve"
        );
        let err = next(
            RequestKind::Mla,
            Closed,
            Act::Withdraw,
            Side::Requester,
            false,
        )
        .unwrap_err();
        assert!(err.to_string().ends_with("allowed now: nothing"), "{err}");
    }

    #[test]
    fn each_act_belongs_to_its_side() {
        let err = next(
            RequestKind::Mla,
            UnderReview,
            Act::Accept,
            Side::Requester,
            false,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "accept is made by the requested side, not by the requester"
        );
        let err = next(
            RequestKind::Mla,
            UnderReview,
            Act::Withdraw,
            Side::Requested,
            false,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "withdraw is made by the requester, not by the requested side"
        );
        assert!(next(
            RequestKind::Mla,
            Delivered,
            Act::Retrieve,
            Side::Requester,
            false
        )
        .is_err());
    }

    #[test]
    fn retrieval_is_a_receipt_given_once() {
        let kind = RequestKind::Assistance;
        assert_eq!(
            next(kind, Delivered, Act::Retrieve, Side::Requested, false),
            Ok(Delivered)
        );
        assert_eq!(
            next(kind, Delivered, Act::Retrieve, Side::Requested, true),
            Err(MachineError::RetrievedAlready)
        );
        assert!(next(kind, Submitted, Act::Retrieve, Side::Requested, false).is_err());
    }

    #[test]
    fn withdrawal_is_possible_only_before_execution_ends() {
        for kind in KINDS {
            for state in State::ALL {
                let ok = next(kind, *state, Act::Withdraw, Side::Requester, false).is_ok();
                assert_eq!(ok, WITHDRAWABLE.contains(state), "{kind} {state}");
            }
        }
    }

    /// Every act the machine lists as allowed is accepted, and every other act is refused:
    /// the list in an error never lies.
    #[test]
    fn allowed_acts_are_exactly_the_accepted_ones() {
        for kind in KINDS {
            for state in State::ALL {
                for side in [Side::Requester, Side::Requested] {
                    for retrieved in [false, true] {
                        let listed = allowed(kind, *state, side, retrieved);
                        for act in Act::ALL {
                            let ok = next(kind, *state, *act, side, retrieved).is_ok();
                            let expected = listed.contains(act) || *act == Act::Deliver && ok;
                            assert_eq!(ok, expected, "{kind} {state} {act} {side:?} {retrieved}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for s in State::ALL {
            assert_eq!(s.as_str().parse::<State>(), Ok(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for a in Act::ALL {
            assert_eq!(a.as_str().parse::<Act>(), Ok(*a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        assert!("ACCEPT".parse::<Act>().is_err());
        assert!("".parse::<State>().is_err());
    }
}
