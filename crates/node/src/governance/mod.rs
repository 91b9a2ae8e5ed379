//! Governance: common matters decided by one member, one vote. At its heart is a pure,
//! deterministic core: given a proposal (which carries the
//! rules in force when it was tabled), the member set at tabling and the signed ballots
//! received, every node computes the same outcome, and two nodes compare outcomes by one
//! hash. The core has no store, no clock, no network: callers give the time and the facts.
//!
//! What exists:
//! - [`rules`]: the rules (voting delay and period, execution window, quorum, majority and
//!   sponsors per kind, abstentions), exact fractions, validation, their JSON form;
//! - [`proposal`]: the kinds of proposal with what each would do, and tabling (sponsors,
//!   proposer and subject checked against the member set and the rules in force);
//! - [`electorate`]: the member set at tabling, with pinned keys and standings;
//! - [`ballot`]: signed ballots (Ed25519 over RFC 8785 canonical JSON, like request events);
//! - [`cancel`]: a proposer's signed cancellation of its proposal while pending;
//! - [`tally`]: the outcome, with every ballot counted or refused with its reason, and its
//!   digest;
//! - [`state`]: where a proposal stands (OpenZeppelin Governor's states) at a given time.
//!
//! Around it, with the store, the log and the federation:
//! - [`tabled`]: the signed proposal with the member set it was tabled against, as it
//!   travels and is kept;
//! - [`service`]: the workflows (propose, vote, take in from peers, count at the deadline
//!   and execute), stored through `GovernanceStore` with their log entries and envelopes;
//!   `effect` says what a succeeded proposal changes.
//!
//! - [`audit`]: what a node hands a member auditing a proposal (its signed proposal,
//!   ballots and outcome, signed), and the audit of a peer's against this node's.
//!
//! - [`genesis`]: the founding document (founders, rules, first norms) signed by every
//!   founder, and its adoption on every node.
//!
//! - [`history`]: the decided history a node hands a member, in signed pages, and
//!   [`catch_up`]: a node that joins later verifying each item against the state it derives
//!   itself and applying it.
//!
//! Not built yet: sponsors' own signatures;
//! reports under a norm; consultations. [`simulation`] (a test, ignored by default) votes
//! one proposal across 193 nodes in one process.

pub mod audit;
pub mod ballot;
pub mod cancel;
pub mod catch_up;
mod effect;
pub mod electorate;
pub mod genesis;
pub mod history;
pub mod proposal;
pub mod rules;
pub mod service;
pub mod state;
pub mod tabled;
pub mod tally;

#[cfg(test)]
mod audit_tests;
#[cfg(test)]
mod catch_up_tests;
#[cfg(test)]
mod key_revocation_tests;
#[cfg(test)]
mod service_tests;
#[cfg(test)]
mod simulation;
#[cfg(test)]
pub(crate) mod tests;

pub use audit::{Audit, Dossier, SignedDossier};
pub use ballot::{Ballot, BallotError, Choice, SignedBallot};
pub use cancel::{Cancellation, SignedCancellation};
pub use electorate::{Elector, Electorate, ElectorateError};
pub use proposal::{Action, Motion, Proposal, ProposalKind, TablingError, Texts};
pub use rules::{KindRules, Ratio, RatioError, Rules, RulesError};
pub use service::{GovernanceError, NewProposal, NormView, ProposalView};
pub use state::{state_at, CancelError, Lifecycle, ProposalState};
pub use tabled::{SignedProposal, Tabled, TabledError};
pub use tally::{admit, count, tally, Admitted, Counted, Decision, Outcome, Refusal, Refused};

/// Microseconds since the epoch, written as RFC 3339 (UTC, six fraction digits) in JSON.
mod timestamp {
    use comity_stix::clock::{format_us, parse_us};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(us: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_us(*us))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let text = String::deserialize(d)?;
        parse_us(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("{text:?} is not an RFC 3339 timestamp"))
        })
    }
}
