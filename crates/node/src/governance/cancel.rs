//! A proposal's cancellation by its proposer while it is pending, as it is signed, sent and
//! kept: the proposal's id, the member canceling it and the signed time, signed by that
//! member's node as ballots are. Whether it may be done is
//! [`super::Proposal::check_cancel`]; the exact text received is what is hashed and kept.

use comity_stix::clock::{format_us, parse_us};
use serde::{Deserialize, Serialize};

use crate::identity::signed::{self, ReadError};
use crate::identity::{KeyError, NodeKey, PublicKey};
use crate::requests::event::sha256_hex;

/// The cancellation format this build writes and reads.
pub const VERSION: u64 = 1;
/// The largest cancellation accepted, in bytes of JSON.
pub const MAX_CANCELLATION_BYTES: usize = 4096;

/// A cancellation before signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cancellation {
    /// Format version.
    pub v: u64,
    /// The proposal's id.
    pub proposal: String,
    /// The member canceling it.
    pub member: String,
    /// When it was canceled (RFC 3339, UTC, microseconds).
    pub at: String,
}

/// A signed cancellation with the exact text it travels and is kept as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCancellation {
    /// The cancellation.
    pub cancellation: Cancellation,
    /// Its time, microseconds since the epoch.
    pub at_us: i64,
    /// Base64 Ed25519 signature by the member's node.
    pub signature: String,
    /// The JSON text.
    pub json: String,
    /// Hex SHA-256 of `json`.
    pub sha256: String,
}

impl Cancellation {
    /// The cancellation of `proposal` by `member` at `at` (microseconds since the epoch),
    /// signed with `key`, the member's node key.
    pub fn sign(proposal: &str, member: &str, at: i64, key: &NodeKey) -> SignedCancellation {
        let cancellation = Cancellation {
            v: VERSION,
            proposal: proposal.to_owned(),
            member: member.to_owned(),
            at: format_us(at),
        };
        let (json, signature) = signed::sign(&cancellation, key);
        SignedCancellation {
            cancellation,
            at_us: at,
            signature,
            sha256: sha256_hex(json.as_bytes()),
            json,
        }
    }
}

impl SignedCancellation {
    /// Reads a signed cancellation from its JSON text (the signature is checked by
    /// [`Self::verify`]); the error says what is wrong.
    pub fn parse(json: &str) -> Result<SignedCancellation, String> {
        let (cancellation, signature): (Cancellation, String) =
            signed::read(json, MAX_CANCELLATION_BYTES, VERSION, "cancellation").map_err(
                |e| match e {
                    ReadError::Malformed(why) => format!("not a cancellation: {why}"),
                    ReadError::Version(v) => format!(
                "cancellation format version {v} is not supported (this node reads version 1)"
            ),
                },
            )?;
        let at_us = parse_us(&cancellation.at).ok_or_else(|| {
            format!(
                "the cancellation's time {:?} is not an RFC 3339 timestamp",
                cancellation.at
            )
        })?;
        Ok(SignedCancellation {
            cancellation,
            at_us,
            signature,
            sha256: sha256_hex(json.as_bytes()),
            json: json.to_owned(),
        })
    }

    /// Checks the signature with the pinned key of the member that signed it.
    pub fn verify(&self, key: &PublicKey) -> Result<(), KeyError> {
        signed::verify(&self.cancellation, &self.signature, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::tests::key;

    const PROPOSAL: &str = "proposal--3f0c5e0a-0000-4000-8000-000000000001";

    #[test]
    fn a_signed_cancellation_reads_back_and_verifies_only_with_its_key() {
        let signed = Cancellation::sign(PROPOSAL, "identity--a", 1_796_000_000_000_000, &key(7));
        let back = SignedCancellation::parse(&signed.json).unwrap();
        assert_eq!(back, signed);
        back.verify(&key(7).public_key()).unwrap();
        assert!(back.verify(&key(8).public_key()).is_err());
        let altered =
            SignedCancellation::parse(&signed.json.replace("identity--a", "identity--b")).unwrap();
        assert!(altered.verify(&key(7).public_key()).is_err());
    }

    #[test]
    fn malformed_cancellations_are_refused_with_the_reason() {
        let signed = Cancellation::sign(PROPOSAL, "identity--a", 1_796_000_000_000_000, &key(7));
        let mut v: serde_json::Value = serde_json::from_str(&signed.json).unwrap();
        v["reason"] = "none".into();
        let e = SignedCancellation::parse(&v.to_string()).unwrap_err();
        assert!(e.contains("unknown field `reason`"), "{e}");
        v.as_object_mut().unwrap().remove("reason");
        v["at"] = "soon".into();
        let e = SignedCancellation::parse(&v.to_string()).unwrap_err();
        assert_eq!(
            e,
            "the cancellation's time \"soon\" is not an RFC 3339 timestamp"
        );
        v["v"] = 3.into();
        let e = SignedCancellation::parse(&v.to_string()).unwrap_err();
        assert!(e.contains("version 3 is not supported"), "{e}");
        assert!(SignedCancellation::parse("[1]").is_err());
        let huge = format!("{{\"member\":\"{}\"}}", "x".repeat(MAX_CANCELLATION_BYTES));
        assert!(SignedCancellation::parse(&huge)
            .unwrap_err()
            .contains("more than"));
    }
}
