//! Counting: the outcome of a proposal is a pure function of the proposal (which carries
//! the rules in force when it was tabled), the member set at tabling and the signed
//! ballots received, whatever order they came in. Every node computes it; no one enters
//! it; two nodes compare outcomes by their digests.
//!
//! A ballot counts when it is for this proposal, from a member active at tabling, verified
//! with that member's pinned key, cast after voting opened and before the deadline, and
//! the member's latest: of a member's ballots the highest sequence counts, the others are
//! superseded. Two different ballots of one member with the same sequence are an
//! equivocation: both are refused and kept as evidence, and when that sequence is the
//! member's highest, nothing of that member counts. The same ballot received again is a
//! replay and counts once. Every ballot that does not count is listed with its reason.
//!
//! Times are the ballots' signed times: whether a ballot arrived in time, and whether its
//! signed time is believable, is for the node that takes it in to judge.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use comity_stix::clock::format_us;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ballot::{Ballot, Choice, SignedBallot};
use super::electorate::Electorate;
use super::proposal::{Proposal, ProposalKind};
use super::rules::Ratio;
use crate::requests::event::sha256_hex;

/// What a proposal's ballots decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Quorum and majority met.
    Succeeded,
    /// Quorum or majority not met.
    Defeated,
}

/// A ballot that counts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Counted {
    /// The member.
    pub member: String,
    /// Its choice.
    pub choice: Choice,
    /// The ballot's sequence.
    pub sequence: u64,
    /// Hex SHA-256 of the ballot's text.
    pub sha256: String,
}

/// A ballot that does not count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Refused {
    /// Hex SHA-256 of the ballot's text.
    pub sha256: String,
    /// The member it names, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// Why it does not count.
    pub reason: Refusal,
}

/// Why a ballot does not count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// It cannot be read as a ballot.
    Malformed {
        /// Why.
        error: String,
    },
    /// It is a ballot on another proposal.
    OtherProposal {
        /// The proposal it names.
        proposal: String,
    },
    /// Its member was not a member when the proposal was tabled.
    UnknownMember,
    /// Its member was suspended when the proposal was tabled.
    Suspended,
    /// Its signature does not verify with the member's pinned key.
    BadSignature,
    /// Cast before voting opened.
    Early {
        /// Its signed time.
        at: String,
        /// When voting opened.
        opens: String,
    },
    /// Cast at or after the deadline.
    Late {
        /// Its signed time.
        at: String,
        /// The deadline.
        deadline: String,
    },
    /// The same ballot was received before: it counts once.
    Replayed {
        /// The SHA-256 of the copy kept.
        of: String,
    },
    /// The member cast a ballot with a higher sequence.
    Superseded {
        /// The member's highest sequence.
        by_sequence: u64,
    },
    /// The member signed different ballots with the same sequence.
    Equivocation {
        /// The sequence.
        sequence: u64,
        /// The SHA-256 of the other ballots with that sequence.
        with: Vec<String>,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Malformed { error } => write!(f, "{error}"),
            Refusal::OtherProposal { proposal } => {
                write!(f, "the ballot is on another proposal, {proposal}")
            }
            Refusal::UnknownMember => {
                f.write_str("the voter was not a member when the proposal was tabled")
            }
            Refusal::Suspended => {
                f.write_str("the voter was suspended when the proposal was tabled")
            }
            Refusal::BadSignature => {
                f.write_str("the signature does not verify with the member's pinned key")
            }
            Refusal::Early { at, opens } => {
                write!(f, "cast at {at}, before voting opened at {opens}")
            }
            Refusal::Late { at, deadline } => {
                write!(f, "cast at {at}, at or after the deadline {deadline}")
            }
            Refusal::Replayed { of } => write!(f, "the same ballot as {of}, counted once"),
            Refusal::Superseded { by_sequence } => {
                write!(
                    f,
                    "superseded by the member's ballot with sequence {by_sequence}"
                )
            }
            Refusal::Equivocation { sequence, with } => write!(
                f,
                "equivocation: the member signed different ballots with sequence {sequence} ({})",
                with.join(", ")
            ),
        }
    }
}

/// The outcome of a proposal's ballots. Before the deadline it is provisional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The proposal's id.
    pub proposal: String,
    /// Its kind.
    pub kind: ProposalKind,
    /// Hex SHA-256 of the rules it was decided by (those in force when it was tabled).
    pub rules: String,
    /// Hex SHA-256 of the member set it was decided against ([`Electorate::digest`]).
    pub electorate: String,
    /// How many members were active when it was tabled: the quorum's base.
    pub active_members: u32,
    /// Yes ballots counted.
    pub yes: u32,
    /// No ballots counted.
    pub no: u32,
    /// Abstentions counted.
    pub abstain: u32,
    /// Ballots counted.
    pub turnout: u32,
    /// Ballots counting toward quorum.
    pub toward_quorum: u32,
    /// How many that must be.
    pub quorum_needed: u32,
    /// Whether quorum was met.
    pub quorum_met: bool,
    /// The majority the kind needs.
    pub majority: Ratio,
    /// Whether it was met.
    pub majority_met: bool,
    /// What was decided.
    pub decision: Decision,
    /// The ballots counted, by member.
    pub counted: Vec<Counted>,
    /// The ballots refused, by hash, each with its reason.
    pub refused: Vec<Refused>,
    /// Hex SHA-256 of the canonical JSON of every other member of the outcome.
    pub digest: String,
}

/// A ballot checked once, when it arrived ([`admit`]): readable, on this proposal, from a
/// member active when it was tabled, verified with that member's pinned key, cast while
/// voting was open. Only [`admit`] makes one, so [`count`] never needs to verify again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    ballot: Ballot,
    sha256: String,
}

impl Admitted {
    /// The ballot.
    pub fn ballot(&self) -> &Ballot {
        &self.ballot
    }

    /// Hex SHA-256 of its text.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// Checks one signed ballot text on `proposal` against `electorate` (the member set when it
/// was tabled), as its node does once when the ballot arrives: the ballot, or why it does
/// not count.
pub fn admit(
    proposal: &Proposal,
    electorate: &Electorate,
    text: &str,
) -> Result<Admitted, Refused> {
    let sha256 = sha256_hex(text.as_bytes());
    match check(proposal, electorate, text) {
        Ok(signed) => Ok(Admitted {
            ballot: signed.ballot,
            sha256,
        }),
        Err((member, reason)) => Err(Refused {
            sha256,
            member,
            reason,
        }),
    }
}

/// Counts `ballots` (signed ballot texts) on `proposal` against `electorate`, the member
/// set when it was tabled, by the rules it carries: [`admit`] for each distinct text, then
/// [`count`]. This is what an audit runs on the texts a peer hands over.
pub fn tally<S: AsRef<str>>(
    proposal: &Proposal,
    electorate: &Electorate,
    ballots: &[S],
) -> Outcome {
    let mut refused = Vec::new();
    let mut admitted = Vec::new();
    // Identical texts are checked once; every copy counts as the one text.
    let mut texts: BTreeMap<String, &str> = BTreeMap::new();
    for text in ballots {
        let text = text.as_ref();
        texts.entry(sha256_hex(text.as_bytes())).or_insert(text);
    }
    let mut verdicts: BTreeMap<&str, Result<Admitted, Refused>> = BTreeMap::new();
    for (sha256, text) in &texts {
        verdicts.insert(sha256, admit(proposal, electorate, text));
    }
    for text in ballots {
        match &verdicts[sha256_hex(text.as_ref().as_bytes()).as_str()] {
            Ok(a) => admitted.push(a.clone()),
            Err(r) => refused.push(r.clone()),
        }
    }
    count(proposal, electorate, admitted, refused)
}

/// The outcome of the ballots admitted on arrival (`admitted`, each checked once by
/// [`admit`]) and of those refused then (`refused`): the same as [`tally`] of their texts.
/// A text received twice is a replay and counts once.
pub fn count(
    proposal: &Proposal,
    electorate: &Electorate,
    admitted: Vec<Admitted>,
    refused: Vec<Refused>,
) -> Outcome {
    let mut out = Vec::new();
    // A refusal received again is the same refusal plus a replay.
    let mut seen_refused: BTreeSet<String> = BTreeSet::new();
    for r in refused {
        if !seen_refused.insert(r.sha256.clone()) {
            out.push(Refused {
                reason: Refusal::Replayed {
                    of: r.sha256.clone(),
                },
                ..r
            });
        } else {
            out.push(r);
        }
    }
    let mut refused = out;
    // Member → sequence → ballot → the hashes of its texts.
    let mut valid: BTreeMap<String, BTreeMap<u64, BTreeMap<Ballot, BTreeSet<String>>>> =
        BTreeMap::new();
    for a in admitted {
        let fresh = valid
            .entry(a.ballot.member.clone())
            .or_default()
            .entry(a.ballot.sequence)
            .or_default()
            .entry(a.ballot.clone())
            .or_default()
            .insert(a.sha256.clone());
        if !fresh {
            refused.push(Refused {
                member: Some(a.ballot.member.clone()),
                reason: Refusal::Replayed {
                    of: a.sha256.clone(),
                },
                sha256: a.sha256,
            });
        }
    }
    let mut counted = Vec::new();
    for (member, sequences) in valid {
        let highest = *sequences
            .keys()
            .next_back()
            .expect("a member here has ballots");
        for (sequence, versions) in sequences {
            // Of texts of the same ballot, the first hash is kept, the others are replays.
            let kept: Vec<(Ballot, String)> = versions
                .into_iter()
                .map(|(ballot, hashes)| {
                    let mut hashes = hashes.into_iter();
                    let first = hashes.next().expect("a ballot here has a text");
                    for other in hashes {
                        refused.push(Refused {
                            sha256: other,
                            member: Some(member.clone()),
                            reason: Refusal::Replayed { of: first.clone() },
                        });
                    }
                    (ballot, first)
                })
                .collect();
            let refuse = |sha256: &String, reason| Refused {
                sha256: sha256.clone(),
                member: Some(member.clone()),
                reason,
            };
            match kept.as_slice() {
                [(ballot, sha256)] if sequence == highest => counted.push(Counted {
                    member: member.clone(),
                    choice: ballot.choice,
                    sequence,
                    sha256: sha256.clone(),
                }),
                [(_, sha256)] => refused.push(refuse(
                    sha256,
                    Refusal::Superseded {
                        by_sequence: highest,
                    },
                )),
                several => {
                    for (_, sha256) in several {
                        let with = several
                            .iter()
                            .map(|(_, s)| s.clone())
                            .filter(|s| s != sha256)
                            .collect();
                        refused.push(refuse(sha256, Refusal::Equivocation { sequence, with }));
                    }
                }
            }
        }
    }
    refused.sort();
    decide(proposal, electorate, counted, refused)
}

/// Checks one ballot text on its own: the ballot, or who it names and why it is refused.
fn check(
    proposal: &Proposal,
    electorate: &Electorate,
    text: &str,
) -> Result<SignedBallot, (Option<String>, Refusal)> {
    let signed = SignedBallot::parse(text).map_err(|e| {
        (
            None,
            Refusal::Malformed {
                error: e.to_string(),
            },
        )
    })?;
    let ballot = &signed.ballot;
    let refuse = |reason| Err((Some(ballot.member.clone()), reason));
    if ballot.proposal != proposal.id {
        return refuse(Refusal::OtherProposal {
            proposal: ballot.proposal.clone(),
        });
    }
    let Some(elector) = electorate.get(&ballot.member) else {
        return refuse(Refusal::UnknownMember);
    };
    if !electorate.is_active(&ballot.member) {
        return refuse(Refusal::Suspended);
    }
    if signed.verify(&elector.key).is_err() {
        return refuse(Refusal::BadSignature);
    }
    if signed.at_us < proposal.voting_starts() {
        return refuse(Refusal::Early {
            at: format_us(signed.at_us),
            opens: format_us(proposal.voting_starts()),
        });
    }
    if signed.at_us >= proposal.deadline() {
        return refuse(Refusal::Late {
            at: format_us(signed.at_us),
            deadline: format_us(proposal.deadline()),
        });
    }
    Ok(signed)
}

/// The outcome of the ballots counted.
fn decide(
    proposal: &Proposal,
    electorate: &Electorate,
    counted: Vec<Counted>,
    refused: Vec<Refused>,
) -> Outcome {
    let rules = &proposal.rules;
    let count = |choice| {
        let n = counted.iter().filter(|c| c.choice == choice).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    let (yes, no, abstain) = (
        count(Choice::Yes),
        count(Choice::No),
        count(Choice::Abstain),
    );
    let toward_quorum = yes
        + no
        + if rules.abstentions_count_toward_quorum {
            abstain
        } else {
            0
        };
    let active_members = electorate.active();
    let quorum_met = rules.quorum.reached(toward_quorum, active_members);
    let majority = rules.for_kind(proposal.kind()).majority;
    let majority_met = yes > no && majority.reached(yes, yes + no);
    let mut outcome = Outcome {
        proposal: proposal.id.clone(),
        kind: proposal.kind(),
        rules: rules.digest(),
        electorate: electorate.digest(),
        active_members,
        yes,
        no,
        abstain,
        turnout: yes + no + abstain,
        toward_quorum,
        quorum_needed: rules.quorum.needed(active_members),
        quorum_met,
        majority,
        majority_met,
        decision: if quorum_met && majority_met {
            Decision::Succeeded
        } else {
            Decision::Defeated
        },
        counted,
        refused,
        digest: String::new(),
    };
    outcome.digest = outcome.compute_digest();
    outcome
}

impl Outcome {
    /// Hex SHA-256 of the canonical JSON of the outcome without its digest.
    fn compute_digest(&self) -> String {
        let Value::Object(mut members) = serde_json::to_value(self).expect("an outcome is JSON")
        else {
            unreachable!("an outcome serialises as an object")
        };
        members.remove("digest");
        hex::encode(Sha256::digest(
            comity_stix::canonical_json(&Value::Object(members)).as_bytes(),
        ))
    }

    /// Whether the digest is that of the rest of the outcome.
    pub fn digest_holds(&self) -> bool {
        self.digest == self.compute_digest()
    }
}
