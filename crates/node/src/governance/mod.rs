//! Governance: common matters decided by one member, one vote. This module is the pure,
//! deterministic core every later piece stands on: given a proposal (which carries the
//! rules in force when it was tabled), the member set at tabling and the signed ballots
//! received, every node computes the same outcome, and two nodes compare outcomes by one
//! hash. No store, no clock, no network: callers give the time and the facts.
//!
//! What exists:
//! - [`rules`]: the rules (voting delay and period, execution window, quorum, majority and
//!   sponsors per kind, abstentions), exact fractions, validation, their JSON form;
//! - [`proposal`]: the kinds of proposal with what each would do, and tabling (sponsors,
//!   proposer and subject checked against the member set and the rules in force);
//! - [`electorate`]: the member set at tabling, with pinned keys and standings;
//! - [`ballot`]: signed ballots (Ed25519 over RFC 8785 canonical JSON, like request events);
//! - [`tally`]: the outcome, with every ballot counted or refused with its reason, and its
//!   digest;
//! - [`state`]: where a proposal stands (OpenZeppelin Governor's states) at a given time.
//!
//! Not built yet: storage of proposals, ballots and outcomes and their log entries; the
//! federation envelopes that carry them; executing a succeeded proposal's effect (the
//! member set, the norms registry, the rules); the API and the CLI (`comity governance …`);
//! the genesis document and its signing ceremony; the norms registry and reports under a
//! norm; consultations; `comity governance audit`.

pub mod ballot;
mod effect;
pub mod electorate;
pub mod proposal;
pub mod rules;
pub mod service;
pub mod state;
pub mod tabled;
pub mod tally;

#[cfg(test)]
mod service_tests;
#[cfg(test)]
pub(crate) mod tests;

pub use ballot::{Ballot, BallotError, Choice, SignedBallot};
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
