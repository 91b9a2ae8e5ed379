//! Key rotation and revocation: the statements by which a node replaces its identity key
//! (and the encryption key derived from it), and revokes a former key from a time on.
//!
//! - A **rotation** names the member, the old key, the new key, the new encryption key and
//!   when; it is signed by the old key *and* the new one, so a peer that pins the old key
//!   learns the new one from nobody but the key's holder, and the holder of the new key
//!   proves it has it.
//! - A **revocation** names a former key of the member and the time from which what it
//!   signed is refused (the time a compromise began); it is signed by the member's key
//!   current when it is stated.
//! - A **replacement** is no member's statement but a governance decision's, which every
//!   node writes into the history when it executes the proposal ([`replace`]): every key
//!   of the member used from a time on is revoked from then (a thief's that rotated first
//!   included), and a key the member supplied out of band is pinned. It carries no
//!   signature and is never taken from a peer: the proposal, its ballots and their count
//!   vouch for it.
//!
//! A member's history is the list of statements its peers took, in order; each must
//! continue the state the ones before it left ([`next`]). A former key keeps verifying what
//! it signed before it was rotated out, unless it was revoked ([`KeyHistory`]). Statements
//! travel as they are, outside envelopes: they authenticate themselves.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{NodeKey, PublicKey};
use comity_stix::clock::{format_us, parse_us};

/// How far in the future a statement's time may be, against the reader's clock
/// (microseconds): the same five minutes as signed requests.
pub const MAX_AHEAD_US: i64 = 300 * 1_000_000;

/// What a member states about its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum KeyStatement {
    /// `old_key` gives way to `new_key`, and the member's encryption key becomes
    /// `encryption_key`, at `at`.
    KeyRotation {
        /// The member (its STIX identity id).
        member: String,
        /// The key rotated out, `ed25519:<base64>`.
        old_key: String,
        /// The key rotated in.
        new_key: String,
        /// The encryption key that goes with the new key, `x25519:<base64>`.
        encryption_key: String,
        /// When (RFC 3339).
        at: String,
    },
    /// `key`, a former key of `member`, signs nothing valid from `revoked_from` on.
    KeyRevocation {
        /// The member.
        member: String,
        /// The revoked former key.
        key: String,
        /// From when what it signed is refused (RFC 3339).
        revoked_from: String,
        /// When this was stated (RFC 3339).
        at: String,
    },
    /// A governance decision, proposal `proposal`, revoked every key of `member` used from
    /// `revoked_from` on (`old_key`, pinned when it was executed, and every former key
    /// rotated out after that time) and pinned `new_key` with `encryption_key`, at `at`
    /// (the proposal's deadline).
    KeyReplacement {
        /// The member.
        member: String,
        /// The proposal that decided it.
        proposal: String,
        /// The key this node pinned for the member when it executed the decision.
        old_key: String,
        /// The key pinned from then on.
        new_key: String,
        /// The encryption key that goes with it.
        encryption_key: String,
        /// From when what the member's keys of that time signed is refused (RFC 3339).
        revoked_from: String,
        /// When it was decided (RFC 3339): the proposal's deadline.
        at: String,
    },
}

impl KeyStatement {
    /// The member it is about.
    pub fn member(&self) -> &str {
        match self {
            KeyStatement::KeyRotation { member, .. }
            | KeyStatement::KeyRevocation { member, .. }
            | KeyStatement::KeyReplacement { member, .. } => member,
        }
    }

    /// When it was stated (RFC 3339).
    pub fn at(&self) -> &str {
        match self {
            KeyStatement::KeyRotation { at, .. }
            | KeyStatement::KeyRevocation { at, .. }
            | KeyStatement::KeyReplacement { at, .. } => at,
        }
    }

    fn document(&self) -> Value {
        serde_json::to_value(self).expect("a key statement is JSON")
    }
}

/// A statement with its signatures: a rotation's by the old key then the new one; a
/// revocation's by the member's key current when it was stated; none for a replacement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedKeyStatement {
    /// What is stated.
    pub statement: KeyStatement,
    /// Ed25519 signatures over the statement's canonical JSON, base64.
    pub signatures: Vec<String>,
}

impl SignedKeyStatement {
    /// `member`'s rotation from `old` to `new` at `at` (microseconds), signed by both.
    pub fn rotation(
        member: &str,
        old: &NodeKey,
        new: &NodeKey,
        encryption_key: String,
        at: i64,
    ) -> SignedKeyStatement {
        let statement = KeyStatement::KeyRotation {
            member: member.to_owned(),
            old_key: old.public_key().to_string(),
            new_key: new.public_key().to_string(),
            encryption_key,
            at: format_us(at),
        };
        let document = statement.document();
        SignedKeyStatement {
            signatures: vec![old.sign(&document), new.sign(&document)],
            statement,
        }
    }

    /// `member`'s revocation of its former `key` from `revoked_from`, stated at `at` and
    /// signed by its current key `current`.
    pub fn revocation(
        member: &str,
        key: &str,
        revoked_from: i64,
        current: &NodeKey,
        at: i64,
    ) -> SignedKeyStatement {
        let statement = KeyStatement::KeyRevocation {
            member: member.to_owned(),
            key: key.to_owned(),
            revoked_from: format_us(revoked_from),
            at: format_us(at),
        };
        SignedKeyStatement {
            signatures: vec![current.sign(&statement.document())],
            statement,
        }
    }

    /// Whether this states what `other` states: the same statement, or a replacement by
    /// the same decision (whose `old_key` is what each node pinned when it executed it).
    pub fn same_as(&self, other: &SignedKeyStatement) -> bool {
        match (&self.statement, &other.statement) {
            (
                KeyStatement::KeyReplacement {
                    member, proposal, ..
                },
                KeyStatement::KeyReplacement {
                    member: m,
                    proposal: p,
                    ..
                },
            ) => member == m && proposal == p,
            _ => self == other,
        }
    }
}

/// What a governance decision to revoke a member's keys says
/// ([`KeyStatement::KeyReplacement`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The proposal that decided it.
    pub proposal: String,
    /// The key to pin, `ed25519:<base64>`.
    pub new_key: String,
    /// The encryption key that goes with it, `x25519:<base64>`.
    pub encryption_key: String,
    /// From when the member's keys are revoked (microseconds).
    pub revoked_from: i64,
}

/// What a statement changes once taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The member's key is now `key`, its encryption key `encryption_key`.
    Rotate {
        /// The new identity key.
        key: String,
        /// The new encryption key.
        encryption_key: String,
    },
    /// A former key is revoked; the current key is unchanged.
    Revoke,
}

/// Why a statement does not continue a member's history. The texts name the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StatementError(pub String);

fn refuse<T>(why: impl Into<String>) -> Result<T, StatementError> {
    Err(StatementError(why.into()))
}

fn time(field: &str, text: &str) -> Result<i64, StatementError> {
    parse_us(text)
        .ok_or_else(|| StatementError(format!("{field} {text:?} is not an RFC 3339 time")))
}

fn key(text: &str) -> Result<PublicKey, StatementError> {
    text.parse()
        .map_err(|e| StatementError(format!("key {text:?}: {e}")))
}

fn verify(
    key_text: &str,
    whose: &str,
    document: &Value,
    signature: &str,
) -> Result<(), StatementError> {
    key(key_text)?.verify(document, signature).map_err(|e| {
        StatementError(format!(
            "the signature of the {whose} key does not verify: {e}"
        ))
    })
}

/// Checks that `s` continues the history `history` of member `member`, whose key is now
/// `current`, read at `now` (microseconds): what taking it changes, or why it is refused.
pub fn next(
    member: &str,
    current: &str,
    history: &[SignedKeyStatement],
    s: &SignedKeyStatement,
    now: i64,
) -> Result<Step, StatementError> {
    if s.statement.member() != member {
        return refuse(format!(
            "the statement is about member {}, not {member}",
            s.statement.member().escape_debug()
        ));
    }
    if let KeyStatement::KeyReplacement { proposal, .. } = &s.statement {
        return not_from_peers(proposal);
    }
    let at = time("the statement's time", s.statement.at())?;
    if at > now + MAX_AHEAD_US {
        return refuse(format!(
            "the statement is dated {}, in the future of this node's clock",
            s.statement.at()
        ));
    }
    let past = KeyHistory(history);
    // The latest, not the last: a replacement is dated at its proposal's deadline, which
    // may come before a statement taken while the proposal was being counted.
    if let Some(last) = history
        .iter()
        .max_by_key(|h| parse_us(h.statement.at()).unwrap_or(i64::MIN))
    {
        let last_at = parse_us(last.statement.at()).unwrap_or(i64::MIN);
        if at <= last_at {
            return refuse(format!(
                "the statement is dated {}, not after the member's last key statement ({}): an \
                 older or replayed statement is not taken",
                s.statement.at(),
                last.statement.at()
            ));
        }
    }
    let document = s.statement.document();
    match &s.statement {
        KeyStatement::KeyRotation {
            old_key,
            new_key,
            encryption_key,
            ..
        } => {
            if old_key != current {
                return refuse(format!(
                    "the rotation is from the key {old_key}, but the member's key is {current}: \
                     only the current key is rotated out"
                ));
            }
            if new_key == current || past.former(new_key).is_some() {
                return refuse(format!(
                    "the key {new_key} was the member's key before: a key is used once"
                ));
            }
            encryption(encryption_key)?;
            let [by_old, by_new] = s.signatures.as_slice() else {
                return refuse(
                    "a rotation carries two signatures: the old key's, then the new key's",
                );
            };
            verify(old_key, "old", &document, by_old)?;
            verify(new_key, "new", &document, by_new)?;
            Ok(Step::Rotate {
                key: new_key.clone(),
                encryption_key: encryption_key.clone(),
            })
        }
        KeyStatement::KeyRevocation {
            key: revoked,
            revoked_from,
            ..
        } => {
            let from = time("revoked_from", revoked_from)?;
            if from > at {
                return refuse(format!(
                    "the key is revoked from {revoked_from}, after the revocation was stated ({}): \
                     a revocation takes effect from a time that has passed",
                    s.statement.at()
                ));
            }
            match past.former(revoked) {
                None if revoked == current => {
                    return refuse("the current key cannot be revoked: rotate it out first")
                }
                None => return refuse(format!("{revoked} is not a former key of the member")),
                Some(former) if former.revoked_from.is_some() => {
                    return refuse(format!("{revoked} is revoked already"))
                }
                Some(_) => {}
            }
            let [signature] = s.signatures.as_slice() else {
                return refuse("a revocation carries one signature: the member's current key's");
            };
            verify(current, "member's current", &document, signature)?;
            Ok(Step::Revoke)
        }
        KeyStatement::KeyReplacement { proposal, .. } => not_from_peers(proposal),
    }
}

fn not_from_peers<T>(proposal: &str) -> Result<T, StatementError> {
    refuse(format!(
        "a key replacement is written by each node that executes its proposal, never taken \
         from a peer: proposal {} was not executed here",
        proposal.escape_debug()
    ))
}

fn encryption(text: &str) -> Result<(), StatementError> {
    text.parse::<crate::federation::seal::EncryptionKey>()
        .map(drop)
        .map_err(|e| StatementError(format!("encryption key {text:?}: {e}")))
}

/// The replacement `decision` makes of member `member`'s keys, whose key is now `current`
/// after the history `history`, at `at` (the proposal's deadline): refused when a key is
/// malformed or the new key was the member's before (a key is used once).
pub fn replace(
    member: &str,
    current: &str,
    history: &[SignedKeyStatement],
    decision: &Decision,
    at: i64,
) -> Result<SignedKeyStatement, StatementError> {
    let new_key = decision.new_key.as_str();
    key(new_key)?;
    encryption(&decision.encryption_key)?;
    if new_key == current || KeyHistory(history).former(new_key).is_some() {
        return refuse(format!(
            "the key {new_key} was the member's key before: a revoked key is never pinned again"
        ));
    }
    Ok(SignedKeyStatement {
        statement: KeyStatement::KeyReplacement {
            member: member.to_owned(),
            proposal: decision.proposal.clone(),
            old_key: current.to_owned(),
            new_key: new_key.to_owned(),
            encryption_key: decision.encryption_key.clone(),
            revoked_from: format_us(decision.revoked_from),
            at: format_us(at),
        },
        signatures: Vec::new(),
    })
}

/// A former key's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Former {
    /// When it was rotated out (microseconds).
    pub until: i64,
    /// From when what it signed is refused, if it was revoked.
    pub revoked_from: Option<i64>,
}

/// A member's taken key statements, read.
#[derive(Debug, Clone, Copy)]
pub struct KeyHistory<'a>(pub &'a [SignedKeyStatement]);

impl KeyHistory<'_> {
    /// `key`'s standing when it is a former key of the member. A replacement revokes, from
    /// its time, the key it replaced and every key rotated out after that time; a key
    /// revoked twice is revoked from the earlier time.
    pub fn former(&self, key: &str) -> Option<Former> {
        let mut found: Option<Former> = None;
        let revoke = |f: &mut Former, from: &str| {
            let from = parse_us(from).unwrap_or(i64::MIN);
            f.revoked_from = Some(f.revoked_from.map_or(from, |r| r.min(from)));
        };
        for s in self.0 {
            match &s.statement {
                KeyStatement::KeyReplacement {
                    old_key,
                    revoked_from,
                    at,
                    ..
                } if old_key == key => {
                    let mut f = Former {
                        until: parse_us(at).unwrap_or(i64::MIN),
                        revoked_from: None,
                    };
                    revoke(&mut f, revoked_from);
                    found = Some(f);
                }
                KeyStatement::KeyReplacement { revoked_from, .. } => {
                    if let Some(f) = found
                        .as_mut()
                        .filter(|f| f.until > parse_us(revoked_from).unwrap_or(i64::MIN))
                    {
                        revoke(f, revoked_from);
                    }
                }
                KeyStatement::KeyRotation { old_key, at, .. } if old_key == key => {
                    found = Some(Former {
                        until: parse_us(at).unwrap_or(i64::MIN),
                        revoked_from: None,
                    });
                }
                KeyStatement::KeyRevocation {
                    key: revoked,
                    revoked_from,
                    ..
                } if revoked == key => {
                    if let Some(f) = found.as_mut() {
                        revoke(f, revoked_from);
                    }
                }
                _ => {}
            }
        }
        found
    }

    /// Whether a signature by `key`, a former key of the member, on a document kept from
    /// before the rotation (an agreement) still counts: yes unless the key was revoked.
    pub fn former_signature_counts(&self, key: &str) -> bool {
        self.former(key).is_some_and(|f| f.revoked_from.is_none())
    }
}

#[cfg(test)]
mod tests;
