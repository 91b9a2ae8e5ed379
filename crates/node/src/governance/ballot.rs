//! A member's ballot on a proposal as it is signed, sent and kept: the proposal's id, the
//! choice, the member, a sequence number and the signed time. The member's node signs it
//! as it signs request events: Ed25519 over the RFC 8785 canonical JSON of every member
//! but `signature`. A member may vote again until the deadline with a higher sequence; the
//! exact text received is what is hashed and kept. Whether a ballot counts is decided by
//! [`super::tally`], never here.

use std::fmt;

use comity_stix::clock::{format_us, parse_us};
use serde::{Deserialize, Serialize};

use crate::identity::signed::{self, ReadError};
use crate::identity::{KeyError, NodeKey, PublicKey};
use crate::requests::event::sha256_hex;

/// The ballot format this build writes and reads.
pub const VERSION: u64 = 1;
/// The largest ballot accepted, in bytes of JSON.
pub const MAX_BALLOT_BYTES: usize = 4096;

/// How a member votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    /// For.
    Yes,
    /// Against.
    No,
    /// Neither: counts toward quorum when the rules say so, never toward the majority.
    Abstain,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Choice::Yes => "yes",
            Choice::No => "no",
            Choice::Abstain => "abstain",
        })
    }
}

impl std::str::FromStr for Choice {
    type Err = String;
    fn from_str(s: &str) -> Result<Choice, String> {
        [Choice::Yes, Choice::No, Choice::Abstain]
            .into_iter()
            .find(|c| c.to_string() == s)
            .ok_or_else(|| format!("unknown choice {s:?}: expected yes, no or abstain"))
    }
}

/// A ballot before signing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ballot {
    /// Format version.
    pub v: u64,
    /// The proposal's id.
    pub proposal: String,
    /// The choice.
    pub choice: Choice,
    /// The member voting.
    pub member: String,
    /// Its place among this member's ballots on this proposal: the highest counts.
    pub sequence: u64,
    /// When it was cast (RFC 3339, UTC, microseconds).
    pub at: String,
}

impl Ballot {
    /// A ballot of `member` on `proposal`, cast at `at` (microseconds since the epoch).
    pub fn new(proposal: &str, choice: Choice, member: &str, sequence: u64, at: i64) -> Ballot {
        Ballot {
            v: VERSION,
            proposal: proposal.to_owned(),
            choice,
            member: member.to_owned(),
            sequence,
            at: format_us(at),
        }
    }

    /// Signs the ballot with `key`, the member's node key.
    pub fn sign(self, key: &NodeKey) -> Result<SignedBallot, BallotError> {
        let at_us = parse_us(&self.at).ok_or_else(|| BallotError::Time(self.at.clone()))?;
        let (json, signature) = signed::sign(&self, key);
        Ok(SignedBallot {
            ballot: self,
            at_us,
            signature,
            sha256: sha256_hex(json.as_bytes()),
            json,
        })
    }
}

/// A signed ballot with the exact text it travels and is kept as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBallot {
    /// The ballot.
    pub ballot: Ballot,
    /// Its time, microseconds since the epoch.
    pub at_us: i64,
    /// Base64 Ed25519 signature of the ballot by its member's node.
    pub signature: String,
    /// The JSON text.
    pub json: String,
    /// Hex SHA-256 of `json`.
    pub sha256: String,
}

/// Why a ballot could not be read or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BallotError {
    /// Not JSON, not a ballot, or too large.
    #[error("not a ballot: {0}")]
    Malformed(String),
    /// A format this build does not read.
    #[error("ballot format version {0} is not supported (this node reads version 1)")]
    Version(u64),
    /// The time is not RFC 3339.
    #[error("the ballot's time {0:?} is not an RFC 3339 timestamp")]
    Time(String),
    /// The signature does not verify with the member's key.
    #[error("the ballot's signature does not verify: {0}")]
    Signature(#[from] KeyError),
}

impl SignedBallot {
    /// Reads a signed ballot from its JSON text (the signature is checked by
    /// [`Self::verify`]).
    pub fn parse(json: &str) -> Result<SignedBallot, BallotError> {
        let (ballot, signature): (Ballot, String) =
            signed::read(json, MAX_BALLOT_BYTES, VERSION, "ballot").map_err(|e| match e {
                ReadError::Malformed(why) => BallotError::Malformed(why),
                ReadError::Version(v) => BallotError::Version(v),
            })?;
        let at_us = parse_us(&ballot.at).ok_or_else(|| BallotError::Time(ballot.at.clone()))?;
        Ok(SignedBallot {
            ballot,
            at_us,
            signature,
            sha256: sha256_hex(json.as_bytes()),
            json: json.to_owned(),
        })
    }

    /// Checks the signature with the pinned key of the member that cast it.
    pub fn verify(&self, key: &PublicKey) -> Result<(), BallotError> {
        Ok(signed::verify(&self.ballot, &self.signature, key)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::tests::key;

    fn ballot() -> Ballot {
        Ballot::new(
            "proposal--3f0c5e0a-0000-4000-8000-000000000001",
            Choice::Abstain,
            "identity--b",
            2,
            1_796_000_000_000_000,
        )
    }

    #[test]
    fn a_signed_ballot_reads_back_and_verifies() {
        let k = key(7);
        let signed = ballot().sign(&k).unwrap();
        let back = SignedBallot::parse(&signed.json).unwrap();
        assert_eq!(back, signed);
        back.verify(&k.public_key()).unwrap();
        assert_eq!(back.sha256, sha256_hex(signed.json.as_bytes()));
        assert_eq!(back.at_us, 1_796_000_000_000_000);
    }

    #[test]
    fn a_forged_or_altered_ballot_does_not_verify() {
        let signed = ballot().sign(&key(7)).unwrap();
        assert!(matches!(
            signed.verify(&key(8).public_key()),
            Err(BallotError::Signature(KeyError::BadSignature(_)))
        ));
        let altered = SignedBallot::parse(&signed.json.replace("abstain", "yes")).unwrap();
        assert!(altered.verify(&key(7).public_key()).is_err());
    }

    #[test]
    fn malformed_ballots_are_refused_with_the_reason() {
        let signed = ballot().sign(&key(7)).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&signed.json).unwrap();
        v["weight"] = 2.into();
        let e = SignedBallot::parse(&v.to_string()).unwrap_err();
        assert!(e.to_string().contains("unknown field `weight`"), "{e}");
        v.as_object_mut().unwrap().remove("weight");
        v["v"] = 2.into();
        assert_eq!(
            SignedBallot::parse(&v.to_string()),
            Err(BallotError::Version(2))
        );
        v["v"] = 1.into();
        v["at"] = "yesterday".into();
        assert_eq!(
            SignedBallot::parse(&v.to_string()),
            Err(BallotError::Time("yesterday".into()))
        );
        v["choice"] = "maybe".into();
        assert!(SignedBallot::parse(&v.to_string()).is_err());
        v.as_object_mut().unwrap().remove("signature");
        assert_eq!(
            SignedBallot::parse(&v.to_string()),
            Err(BallotError::Malformed("no signature".into()))
        );
        let huge = format!("{{\"member\":\"{}\"}}", "x".repeat(MAX_BALLOT_BYTES));
        assert!(SignedBallot::parse(&huge)
            .unwrap_err()
            .to_string()
            .contains("more than"));
    }
}
