//! A proposal as it travels and is kept: the proposal (which carries the rules in force
//! when it was tabled) and the member set it was tabled against, signed by its proposer's
//! node like ballots and request events. Every node that takes it in checks the signature
//! with the proposer's pinned key and that its own member set and rules are those the
//! proposal names, so that every node decides it against the same facts.

use serde::{Deserialize, Serialize};

use super::electorate::{Electorate, ElectorateError};
use super::proposal::Proposal;
use crate::identity::signed::{self, ReadError};
use crate::identity::{NodeKey, PublicKey};
use crate::policy::MemberStatus;
use crate::requests::event::sha256_hex;

/// The format this build writes and reads.
pub const VERSION: u64 = 1;
/// The largest signed proposal accepted, in bytes of JSON (texts in several languages and a
/// member set of a few hundred members fit).
pub const MAX_PROPOSAL_BYTES: usize = 256 * 1024;

/// One member of the set a proposal was tabled against, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectorEntry {
    /// Its member id.
    pub member: String,
    /// Its pinned node key, `ed25519:…`.
    pub key: String,
    /// Its standing: `active` or `suspended`.
    pub status: String,
}

/// A proposal with its member set, before signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tabled {
    /// Format version.
    pub v: u64,
    /// The proposal.
    pub proposal: Proposal,
    /// The member set it was tabled against, by member id.
    pub electorate: Vec<ElectorEntry>,
}

/// A signed proposal with the exact text it travels and is kept as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedProposal {
    /// The proposal and its member set.
    pub tabled: Tabled,
    /// Base64 Ed25519 signature by the proposer's node.
    pub signature: String,
    /// The JSON text.
    pub json: String,
    /// Hex SHA-256 of `json`.
    pub sha256: String,
}

/// Why a signed proposal could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TabledError {
    /// Not JSON, not a proposal, or too large.
    #[error("not a signed proposal: {0}")]
    Malformed(String),
    /// A format this build does not read.
    #[error("proposal format version {0} is not supported (this node reads version 1)")]
    Version(u64),
    /// The member set cannot be read.
    #[error("the proposal's member set is not valid: {0}")]
    Electorate(String),
}

impl Tabled {
    /// `proposal` with `electorate`, the member set it was tabled against.
    pub fn new(proposal: Proposal, electorate: &Electorate) -> Tabled {
        Tabled {
            v: VERSION,
            proposal,
            electorate: electorate
                .members()
                .map(|(member, e)| ElectorEntry {
                    member: member.clone(),
                    key: e.key.to_string(),
                    status: e.status.as_str().to_owned(),
                })
                .collect(),
        }
    }

    /// Signs it with `key`, the proposer's node key.
    pub fn sign(self, key: &NodeKey) -> SignedProposal {
        let (json, signature) = signed::sign(&self, key);
        SignedProposal {
            tabled: self,
            signature,
            sha256: sha256_hex(json.as_bytes()),
            json,
        }
    }

    /// The member set it carries.
    pub fn electorate(&self) -> Result<Electorate, TabledError> {
        let bad = |why: String| TabledError::Electorate(why);
        let members = self
            .electorate
            .iter()
            .map(|e| {
                let key: PublicKey = e
                    .key
                    .parse()
                    .map_err(|_| bad(format!("the key of {} is not a key", e.member)))?;
                let status = MemberStatus::parse(&e.status)
                    .ok_or_else(|| bad(format!("unknown standing {:?}", e.status)))?;
                Ok((e.member.clone(), key, status))
            })
            .collect::<Result<Vec<_>, TabledError>>()?;
        Electorate::new(members).map_err(|e: ElectorateError| bad(e.to_string()))
    }
}

impl SignedProposal {
    /// Reads a signed proposal from its JSON text (the signature is checked by
    /// [`Self::verify`]).
    pub fn parse(json: &str) -> Result<SignedProposal, TabledError> {
        let (tabled, signature): (Tabled, String) =
            signed::read(json, MAX_PROPOSAL_BYTES, VERSION, "proposal").map_err(|e| match e {
                ReadError::Malformed(why) => TabledError::Malformed(why),
                ReadError::Version(v) => TabledError::Version(v),
            })?;
        Ok(SignedProposal {
            tabled,
            signature,
            sha256: sha256_hex(json.as_bytes()),
            json: json.to_owned(),
        })
    }

    /// Checks the signature with the proposer's pinned key.
    pub fn verify(&self, key: &PublicKey) -> Result<(), crate::identity::KeyError> {
        signed::verify(&self.tabled, &self.signature, key)
    }
}
