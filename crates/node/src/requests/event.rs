//! One event of a request's history as it is signed, sent, stored and shown. An event names
//! its request, its place `n` in the history (from 1), the SHA-256 `prev` of the event
//! before it (as stored, byte for byte), the act, the member that made it and the officer
//! who did, its signed time `at`, the state it leads to and the act's details; the first
//! event (`submit`) carries the request's document. The member's node signs it with its
//! key: Ed25519 over the RFC 8785 canonical JSON of every member but `signature`. The hash
//! chain makes the history tamper-evident and ordered: both parties hold the same events,
//! and an event that does not follow the last one is refused.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::identity::signed::{self, ReadError};
use crate::identity::{KeyError, NodeKey, PublicKey};

use super::kinds::RefusalReason;
use super::machine::{Act, State};

/// The event format this build writes and reads.
pub const VERSION: u64 = 1;
/// The largest event accepted, in bytes of JSON (the document included).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;
/// The longest free text of an event's details, in characters.
pub const MAX_TEXT: usize = 20_000;
/// The most attachments one event lists.
pub const MAX_ATTACHMENTS: usize = 200;

/// An event before signing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Format version.
    pub v: u64,
    /// The request's id.
    pub request: String,
    /// Its place in the history, from 1.
    pub n: u64,
    /// Hex SHA-256 of event `n - 1` as stored (absent for the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    /// What it does.
    pub act: Act,
    /// The member that made it.
    pub by: String,
    /// The officer (user name on the member's node) who made it; the member's node for
    /// what it does by itself (delivery).
    pub officer: String,
    /// When (RFC 3339, UTC, microseconds): the signed time deadlines count from.
    pub at: String,
    /// The state it leads to.
    pub state: State,
    /// What goes with the act.
    #[serde(default, skip_serializing_if = "Details::is_empty")]
    pub details: Details,
    /// The request's document: on the first event only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
}

/// What goes with an act. Which fields an act needs is checked by the workflow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Details {
    /// Free text: the reason of a postponement, the information asked for or supplied, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why a request was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RefusalReason>,
    /// The conditions of an acceptance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<String>,
    /// Preservation: until when the data are preserved (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Acknowledge: when the answer is due (RFC 3339), set by the requested node from its
    /// response times and signed with the acknowledgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// Preservation: the request that follows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Evidence delivered or documents supplied, by hash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Submit: the STIX objects the document's `related_objects` names, as the policy
    /// engine released them to the requested member (set by the node, never given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<Value>,
}

impl Details {
    /// Whether nothing goes with the act.
    pub fn is_empty(&self) -> bool {
        *self == Details::default()
    }
}

/// A file named by its hash: the chain of custody is the signed event that lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// Its file name.
    pub name: String,
    /// Hex SHA-256 of its bytes.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A signed event with the exact text it travels and is stored as.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedEvent {
    /// The event.
    pub event: Event,
    /// Base64 Ed25519 signature of the event by its member's node.
    pub signature: String,
    /// The JSON text.
    pub json: String,
    /// Hex SHA-256 of `json`.
    pub sha256: String,
}

/// Why an event could not be read or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not JSON, not an event, or too large.
    #[error("not a request event: {0}")]
    Malformed(String),
    /// A format this build does not read.
    #[error("request event format version {0} is not supported (this node reads version 1)")]
    Version(u64),
    /// The signature does not verify with the member's key.
    #[error("the event's signature does not verify: {0}")]
    Signature(#[from] KeyError),
}

impl Event {
    /// Signs the event with `key`.
    pub fn sign(self, key: &NodeKey) -> SignedEvent {
        let (json, signature) = signed::sign(&self, key);
        SignedEvent {
            event: self,
            signature,
            sha256: sha256_hex(json.as_bytes()),
            json,
        }
    }
}

impl SignedEvent {
    /// Reads a signed event from its JSON text (the signature is checked by [`Self::verify`]).
    pub fn parse(json: &str) -> Result<SignedEvent, EventError> {
        let (event, signature) = signed::read(json, MAX_EVENT_BYTES, VERSION, "request event")
            .map_err(|e| match e {
                ReadError::Malformed(why) => EventError::Malformed(why),
                ReadError::Version(v) => EventError::Version(v),
            })?;
        Ok(SignedEvent {
            event,
            signature,
            sha256: sha256_hex(json.as_bytes()),
            json: json.to_owned(),
        })
    }

    /// Checks the signature with the key of the member that made it.
    pub fn verify(&self, key: &PublicKey) -> Result<(), EventError> {
        Ok(signed::verify(&self.event, &self.signature, key)?)
    }
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> NodeKey {
        NodeKey::from_log_signer(&crate::federation::test_nodes::signer(seed)).unwrap()
    }

    fn event() -> Event {
        Event {
            v: VERSION,
            request: "request--1".into(),
            n: 2,
            prev: Some("ab".repeat(32)),
            act: Act::Refuse,
            by: "identity--b".into(),
            officer: "نور".into(),
            at: "2026-12-06T10:00:00.000000Z".into(),
            state: State::Refused,
            details: Details {
                reason: Some(RefusalReason::DualCriminality),
                note: Some("不构成犯罪".into()),
                ..Details::default()
            },
            document: None,
        }
    }

    #[test]
    fn a_signed_event_reads_back_and_verifies() {
        let k = key(7);
        let signed = event().sign(&k);
        let back = SignedEvent::parse(&signed.json).unwrap();
        assert_eq!(back, signed);
        back.verify(&k.public_key()).unwrap();
        assert_eq!(back.sha256, sha256_hex(signed.json.as_bytes()));
    }

    #[test]
    fn a_forged_or_altered_event_does_not_verify() {
        let signed = event().sign(&key(7));
        let other = SignedEvent::parse(&signed.json).unwrap();
        assert!(other.verify(&key(8).public_key()).is_err());
        let altered = signed.json.replace("dual_criminality", "immunity");
        let altered = SignedEvent::parse(&altered).unwrap();
        assert!(matches!(
            altered.verify(&key(7).public_key()),
            Err(EventError::Signature(_))
        ));
    }

    #[test]
    fn malformed_events_are_refused_with_the_reason() {
        let signed = event().sign(&key(7));
        let mut v: Value = serde_json::from_str(&signed.json).unwrap();
        v["extra"] = Value::Bool(true);
        let e = SignedEvent::parse(&v.to_string()).unwrap_err();
        assert!(e.to_string().contains("unknown field `extra`"), "{e}");
        v.as_object_mut().unwrap().remove("extra");
        v["v"] = 2.into();
        assert_eq!(
            SignedEvent::parse(&v.to_string()),
            Err(EventError::Version(2))
        );
        v["v"] = 1.into();
        v["act"] = "obliterate".into();
        assert!(SignedEvent::parse(&v.to_string()).is_err());
        v.as_object_mut().unwrap().remove("signature");
        assert_eq!(
            SignedEvent::parse(&v.to_string()),
            Err(EventError::Malformed("no signature".into()))
        );
        assert!(SignedEvent::parse("[]").is_err());
        let huge = format!("{{\"note\":\"{}\"}}", "x".repeat(MAX_EVENT_BYTES));
        assert!(SignedEvent::parse(&huge)
            .unwrap_err()
            .to_string()
            .contains("more than"));
    }
}
