//! Auditing a proposal's count across nodes. The outcome is a pure function of the
//! proposal, the rules it carries and the signed ballots received by the deadline, so a
//! member can ask any peer for what it holds, its [`Dossier`]: the signed proposal, every
//! ballot text it received (as received), its cancellation if any and the outcome it
//! counted, the whole signed by the peer's node so that what it claimed is evidence.
//! [`audit`] recomputes the outcome from the peer's ballots by the same [`tally`] every
//! node counts with, and compares it with what the peer claims and with what this node
//! holds: a ballot whose signature does not verify with its member's pinned key is a
//! forgery, listed and not counted; an outcome that is not what the ballots give is caught.

use comity_stix::clock::format_us;
use comity_store::Store;
use serde::{Deserialize, Serialize};

use super::ballot::{Choice, SignedBallot};
use super::service::{corrupt, local_member, stored, GovernanceError};
use super::tabled::SignedProposal;
use super::tally::{tally, Decision, Outcome, Refusal, Refused};
use crate::identity::signed::{self, ReadError};
use crate::identity::{NodeKey, PublicKey};
use crate::registry::Directory;

/// The dossier format this build writes and reads.
pub const VERSION: u64 = 1;
/// The largest dossier read, in bytes of JSON: a proposal and a few ballots per member of
/// a federation the size of the United Nations fit many times over.
pub const MAX_DOSSIER_BYTES: usize = 16 * 1024 * 1024;

/// What a node holds of a proposal, as it hands it to a member that audits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dossier {
    /// Format version.
    pub v: u64,
    /// The member whose node hands it over.
    pub member: String,
    /// The signed proposal, as stored.
    pub proposal: String,
    /// Every ballot text received on it, in the order received.
    pub ballots: Vec<String>,
    /// Its signed cancellation, when its proposer canceled it.
    pub cancellation: Option<String>,
    /// The outcome counted there at the deadline; `None` before.
    pub outcome: Option<Outcome>,
    /// When it was handed over (RFC 3339).
    pub at: String,
}

/// A dossier signed by the node that hands it over, with its JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDossier {
    /// The dossier.
    pub dossier: Dossier,
    /// Base64 Ed25519 signature by the node's key.
    pub signature: String,
    /// The JSON text.
    pub json: String,
}

impl SignedDossier {
    /// Reads a signed dossier from its JSON text (the signature is not checked).
    pub fn parse(json: &str) -> Result<SignedDossier, String> {
        let (dossier, signature): (Dossier, String) =
            signed::read(json, MAX_DOSSIER_BYTES, VERSION, "dossier").map_err(|e| match e {
                ReadError::Malformed(why) => format!("not a dossier: {why}"),
                ReadError::Version(v) => {
                    format!("dossier format version {v} is not supported (this node reads 1)")
                }
            })?;
        Ok(SignedDossier {
            dossier,
            signature,
            json: json.to_owned(),
        })
    }
}

/// This node's dossier of proposal `id` at `now`, signed with `key`.
pub async fn dossier(
    store: &dyn Store,
    key: &NodeKey,
    id: &str,
    now: i64,
) -> Result<SignedDossier, GovernanceError> {
    let proposal = stored(store, id).await?;
    let outcome = match store.outcome(id).await? {
        Some(o) => Some(serde_json::from_str(&o.json).map_err(|e| corrupt("outcome", e))?),
        None => None,
    };
    let dossier = Dossier {
        v: VERSION,
        member: local_member(store).await?,
        proposal: proposal.json,
        ballots: store
            .ballots(id)
            .await?
            .into_iter()
            .map(|b| b.json)
            .collect(),
        cancellation: store.cancellation(id).await?.map(|c| c.json),
        outcome,
        at: format_us(now),
    };
    let (json, signature) = signed::sign(&dossier, key);
    Ok(SignedDossier {
        dossier,
        signature,
        json,
    })
}

/// An outcome in short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// What was decided.
    pub decision: Decision,
    /// Yes ballots counted.
    pub yes: u32,
    /// No ballots counted.
    pub no: u32,
    /// Abstentions counted.
    pub abstain: u32,
    /// The outcome's digest.
    pub digest: String,
}

impl From<&Outcome> for Summary {
    fn from(o: &Outcome) -> Summary {
        Summary {
            decision: o.decision,
            yes: o.yes,
            no: o.no,
            abstain: o.abstain,
            digest: o.digest.clone(),
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let decision = match self.decision {
            Decision::Succeeded => "succeeded",
            Decision::Defeated => "defeated",
        };
        write!(
            f,
            "{decision} (yes {}, no {}, abstain {}; digest {})",
            self.yes, self.no, self.abstain, self.digest
        )
    }
}

/// What one node holds of the proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    /// Hex SHA-256 of its text of the signed proposal.
    pub proposal_sha256: String,
    /// Whether its proposer canceled it there.
    pub canceled: bool,
    /// How many ballot texts it holds.
    pub ballots: usize,
    /// The outcome recomputed here from those ballots.
    pub derived: Summary,
    /// The outcome it counted and keeps, once counted.
    pub claimed: Option<Summary>,
}

/// A ballot one node holds and the other does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Held {
    /// Hex SHA-256 of its text.
    pub sha256: String,
    /// The member it names, when it can be read.
    pub member: Option<String>,
    /// Its choice, when it can be read.
    pub choice: Option<Choice>,
    /// Its sequence, when it can be read.
    pub sequence: Option<u64>,
}

impl Held {
    fn of(text: &str) -> Held {
        let read = SignedBallot::parse(text).ok();
        Held {
            sha256: crate::requests::event::sha256_hex(text.as_bytes()),
            member: read.as_ref().map(|b| b.ballot.member.clone()),
            choice: read.as_ref().map(|b| b.ballot.choice),
            sequence: read.map(|b| b.ballot.sequence),
        }
    }
}

/// The audit of one proposal at one peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// The proposal.
    pub proposal: String,
    /// The peer audited.
    pub peer: String,
    /// Whether the peer agrees: no finding.
    pub agree: bool,
    /// What this node holds.
    pub here: Side,
    /// What the peer handed over.
    pub there: Side,
    /// Ballots the peer holds and this node does not.
    pub only_there: Vec<Held>,
    /// Ballots this node holds and the peer does not.
    pub only_here: Vec<Held>,
    /// Ballots the peer handed over that are forged: unreadable, or not signed by the
    /// pinned key of the member they name. None counts.
    pub forged: Vec<Refused>,
    /// What disagrees, in words; empty when the peer agrees.
    pub findings: Vec<String>,
}

/// Audits proposal `id` against `answer`, the signed dossier member `peer` handed over:
/// refused when it is not a dossier of `id` signed by `peer`'s pinned key; otherwise the
/// findings, if any.
pub async fn audit(
    store: &dyn Store,
    peer: &str,
    id: &str,
    answer: &str,
) -> Result<Audit, GovernanceError> {
    let invalid = |why: String| GovernanceError::Invalid(why);
    let signed = SignedDossier::parse(answer)
        .map_err(|e| invalid(format!("the answer of {peer} is {e}")))?;
    let there = &signed.dossier;
    if there.member != peer {
        return Err(invalid(format!(
            "the dossier is from {}, not from {peer}",
            there.member.escape_debug()
        )));
    }
    let member = Directory::new(store)
        .member(peer)
        .await?
        .ok_or_else(|| invalid(format!("{peer} is not a member known here")))?;
    let key: PublicKey = member
        .record
        .public_key
        .parse()
        .map_err(|e| corrupt(&format!("key of member {peer}"), e))?;
    signed::verify(there, &signed.signature, &key).map_err(|e| {
        invalid(format!(
            "the dossier does not verify with the pinned key of {peer}: {e}"
        ))
    })?;
    let ours = stored(store, id).await?;
    let mut findings = Vec::new();
    let their_proposal = crate::requests::event::sha256_hex(there.proposal.as_bytes());
    if their_proposal != ours.sha256 {
        let theirs = SignedProposal::parse(&there.proposal);
        let named = theirs.as_ref().map(|p| p.tabled.proposal.id.as_str());
        if named != Ok(id) {
            return Err(invalid(format!(
                "{peer} handed over another proposal than {id}"
            )));
        }
        let verified = theirs.as_ref().is_ok_and(|p| {
            ours.tabled
                .electorate()
                .ok()
                .and_then(|e| e.get(&ours.tabled.proposal.proposer).map(|e| e.key))
                .is_some_and(|k| p.verify(&k).is_ok())
        });
        findings.push(format!(
            "{peer} holds another text of the proposal (sha256 {their_proposal}; this node's is {}){}",
            ours.sha256,
            if verified {
                ""
            } else {
                ": it does not verify with the proposer's pinned key, a forgery"
            }
        ));
    }
    let proposal = &ours.tabled.proposal;
    let electorate = ours.tabled.electorate()?;
    let our_ballots: Vec<String> = store
        .ballots(id)
        .await?
        .into_iter()
        .map(|b| b.json)
        .collect();
    let here_derived = tally(proposal, &electorate, &our_ballots);
    let there_derived = tally(proposal, &electorate, &there.ballots);
    let here_claimed = match store.outcome(id).await? {
        Some(o) => {
            Some(serde_json::from_str::<Outcome>(&o.json).map_err(|e| corrupt("outcome", e))?)
        }
        None => None,
    };
    let here_canceled = store.cancellation(id).await?.is_some();

    let forged: Vec<Refused> = there_derived
        .refused
        .iter()
        .filter(|r| matches!(r.reason, Refusal::BadSignature | Refusal::Malformed { .. }))
        .cloned()
        .collect();
    for r in &forged {
        findings.push(match &r.member {
            Some(m) => format!(
                "ballot {} handed over as {m}'s does not verify with {m}'s pinned key: a forgery, not counted",
                r.sha256
            ),
            None => format!(
                "ballot {} handed over is not a ballot ({}): not counted",
                r.sha256, r.reason
            ),
        });
    }
    if let Some(claimed) = &there.outcome {
        if *claimed != there_derived {
            findings.push(format!(
                "{peer} claims the outcome {}{}, but its own ballots give {}",
                Summary::from(claimed),
                if claimed.digest_holds() {
                    ""
                } else {
                    " (which does not hash to its digest)"
                },
                Summary::from(&there_derived)
            ));
        }
    }
    if let Some(claimed) = &here_claimed {
        if *claimed != here_derived {
            findings.push(format!(
                "this node keeps the outcome {}, but its own ballots give {}",
                Summary::from(claimed),
                Summary::from(&here_derived)
            ));
        }
    }
    if there_derived.digest != here_derived.digest {
        findings.push(format!(
            "the ballots {peer} holds give {}, those this node holds give {}",
            Summary::from(&there_derived),
            Summary::from(&here_derived)
        ));
    }
    if there.cancellation.is_some() != here_canceled {
        findings.push(format!(
            "the proposal is {} at {peer} and {} here",
            if there.cancellation.is_some() {
                "canceled"
            } else {
                "not canceled"
            },
            if here_canceled {
                "canceled"
            } else {
                "not canceled"
            },
        ));
    }
    let only = |a: &[String], b: &[String]| -> Vec<Held> {
        a.iter()
            .filter(|t| !b.contains(t))
            .map(|t| Held::of(t))
            .collect()
    };
    Ok(Audit {
        proposal: id.to_owned(),
        peer: peer.to_owned(),
        agree: findings.is_empty(),
        only_there: only(&there.ballots, &our_ballots),
        only_here: only(&our_ballots, &there.ballots),
        here: Side {
            proposal_sha256: ours.sha256.clone(),
            canceled: here_canceled,
            ballots: our_ballots.len(),
            derived: Summary::from(&here_derived),
            claimed: here_claimed.as_ref().map(Summary::from),
        },
        there: Side {
            proposal_sha256: their_proposal,
            canceled: there.cancellation.is_some(),
            ballots: there.ballots.len(),
            derived: Summary::from(&there_derived),
            claimed: there.outcome.as_ref().map(Summary::from),
        },
        forged,
        findings,
    })
}
