//! Envelopes: everything that crosses a border. An envelope names its sender and receiver
//! (member ids), its kind, when it was made, its place in the sender's sequence for that
//! receiver, and a JSON body; the sender signs it with its node key: Ed25519 over the RFC
//! 8785 canonical JSON of the envelope's members other than `body` and `signature`, plus
//! `body_sha256`, the hex SHA-256 of the body's bytes exactly as they travel. The body is
//! hashed, not canonicalised, so a thousand-object envelope costs one pass to sign or check;
//! it travels verbatim, so its bytes are the same at both ends. This module builds, signs,
//! parses and checks envelopes; it never stores or sends them.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use time::OffsetDateTime;

use crate::identity::{KeyError, NodeKey, PublicKey};

/// The envelope format this build writes and reads.
pub const VERSION: u64 = 1;
/// How far in the future an envelope's `created` may be (clock skew).
pub const MAX_SKEW: time::Duration = time::Duration::minutes(5);
/// How old an envelope may be and still be applied.
pub const MAX_AGE: time::Duration = time::Duration::days(90);

/// What an envelope carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Shared STIX objects with their markings: `{"objects": [...]}`.
    StixObjects,
    /// A sighting sent back to an indicator's originator.
    Sighting,
    /// An agreement proposal, or a party's signature of one.
    Agreement,
    /// A signed event of a cooperation request: `{"event": EVENT}`.
    Request,
    /// A chunk of an attachment listed in a signed event of a cooperation request:
    /// `{"request", "sha256", "offset", "size", "data"}` (base64).
    Attachment,
    /// A governance act: a signed proposal, `{"proposal": PROPOSAL}`, or a signed ballot
    /// or cancellation with the proposal it is on, `{"proposal": PROPOSAL, "ballot":
    /// BALLOT}` or `{"proposal": PROPOSAL, "cancellation": CANCELLATION}`.
    Governance,
    /// The sender's own member record, changed: `{"file": FILE}`, its member record file
    /// (see [`super::member`]).
    Member,
    /// A signed checkpoint of the sender's log.
    Checkpoint,
    /// A cosignature of the receiver's checkpoint.
    Cosignature,
    /// The receiver's answer: delivered, or refused with a reason.
    Receipt,
    /// A request for what the sender missed: `{"after": SEQ}`.
    Pull,
}

impl Kind {
    /// The kind as written, e.g. `stix-objects`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::StixObjects => "stix-objects",
            Kind::Sighting => "sighting",
            Kind::Agreement => "agreement",
            Kind::Request => "request",
            Kind::Attachment => "attachment",
            Kind::Governance => "governance",
            Kind::Member => "member",
            Kind::Checkpoint => "checkpoint",
            Kind::Cosignature => "cosignature",
            Kind::Receipt => "receipt",
            Kind::Pull => "pull",
        }
    }

    /// The kind written as `s`.
    pub fn parse(s: &str) -> Option<Kind> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }
}

/// An envelope before signing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Format version.
    pub v: u64,
    /// Unique id (a UUID), the key of deduplication.
    pub id: String,
    /// The sender's member id.
    pub from: String,
    /// The receiver's member id.
    pub to: String,
    /// What it carries.
    pub kind: Kind,
    /// When it was made (RFC 3339).
    pub created: String,
    /// Its place in the sender's sequence for this receiver (from 1; 0 for receipts and
    /// pulls, which are not sequenced).
    pub seq: u64,
    /// What it carries, as the sender wrote it.
    pub body: Box<RawValue>,
}

/// A signed envelope as it travels: the envelope's members plus `signature`.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The envelope.
    pub envelope: Envelope,
    /// Base64 Ed25519 signature over the canonical JSON of `envelope`.
    pub signature: String,
}

/// Why an envelope was refused. Every variant reads as the reason a receipt gives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Not JSON, or not an envelope.
    #[error("not an envelope: {0}")]
    Malformed(String),
    /// A format version this node does not read.
    #[error("envelope format version {0} is not supported (this node reads version 1)")]
    Version(u64),
    /// Addressed to someone else.
    #[error("the envelope is addressed to {0}, not to this node")]
    NotForUs(String),
    /// The envelope names another sender than the member that signed the request.
    #[error("the envelope is from {from}, but the request was signed by {sender}")]
    NotFromSender {
        /// The envelope's `from`.
        from: String,
        /// The member that signed the request.
        sender: String,
    },
    /// The sender is not a registered member.
    #[error("the sender {0} is not a registered member")]
    UnknownSender(String),
    /// The sender is suspended.
    #[error("the sender {0} is suspended")]
    SuspendedSender(String),
    /// The signature does not verify with the sender's pinned key.
    #[error("the signature does not verify with the pinned key of {from}: {why}")]
    BadSignature {
        /// The claimed sender.
        from: String,
        /// Why.
        why: String,
    },
    /// The sealed body does not open with this node's key: the sender sealed it to another
    /// key (one this node rotated out, before the sender took its key statements) or for
    /// another envelope. Not recorded, so that the sender seals it again and retries.
    #[error(
        "the sealed body does not open with this node's key for this envelope: it was sealed \
         to another key (this node's key may have been rotated: its key statements name the \
         new one) or for another envelope; nothing was recorded, seal it again to the \
         encryption key this node publishes and send it again"
    )]
    SealedToAnotherKey,
    /// `created` is not a timestamp, too far in the future, or too old.
    #[error("the envelope's time {created:?} {why}")]
    Time {
        /// The `created` given.
        created: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// The time as envelopes write it.
pub fn timestamp(t: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

impl Envelope {
    /// A new envelope from `from` to `to`, made now.
    pub fn new(from: &str, to: &str, kind: Kind, seq: u64, body: Box<RawValue>) -> Envelope {
        Envelope {
            v: VERSION,
            id: uuid::Uuid::new_v4().to_string(),
            from: from.to_owned(),
            to: to.to_owned(),
            kind,
            created: timestamp(OffsetDateTime::now_utc()),
            seq,
            body,
        }
    }

    /// Signs it with the sender's node key.
    pub fn sign(self, key: &NodeKey) -> Signed {
        let signature = key.sign(&self.signed_value());
        Signed {
            envelope: self,
            signature,
        }
    }

    /// What the signature covers: the members other than the body, and the body's digest.
    fn signed_value(&self) -> Value {
        use sha2::{Digest, Sha256};
        let digest = hex::encode(Sha256::digest(self.body.get().as_bytes()));
        serde_json::json!({
            "v": self.v,
            "id": self.id,
            "from": self.from,
            "to": self.to,
            "kind": self.kind,
            "created": self.created,
            "seq": self.seq,
            "body_sha256": digest,
        })
    }
}

impl Signed {
    /// Parses a signed envelope from JSON text.
    pub fn parse(text: &[u8]) -> Result<Signed, EnvelopeError> {
        #[derive(Deserialize)]
        struct Version {
            v: Option<u64>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            v: u64,
            id: String,
            from: String,
            to: String,
            kind: Kind,
            created: String,
            seq: u64,
            body: Box<RawValue>,
            signature: String,
        }
        let malformed = |e: serde_json::Error| EnvelopeError::Malformed(e.to_string());
        let version: Version = serde_json::from_slice(text).map_err(malformed)?;
        if let Some(v) = version.v.filter(|v| *v != VERSION) {
            return Err(EnvelopeError::Version(v));
        }
        let w: Wire = serde_json::from_slice(text).map_err(malformed)?;
        if uuid::Uuid::try_parse(&w.id).is_err() {
            return Err(EnvelopeError::Malformed(format!(
                "the id {:?} is not a UUID",
                w.id.chars().take(64).collect::<String>()
            )));
        }
        Ok(Signed {
            envelope: Envelope {
                v: w.v,
                id: w.id,
                from: w.from,
                to: w.to,
                kind: w.kind,
                created: w.created,
                seq: w.seq,
                body: w.body,
            },
            signature: w.signature,
        })
    }

    /// Checks the signature with the sender's pinned key.
    pub fn verify(&self, key: &PublicKey) -> Result<(), EnvelopeError> {
        key.verify(&self.envelope.signed_value(), &self.signature)
            .map_err(|e: KeyError| EnvelopeError::BadSignature {
                from: self.envelope.from.clone(),
                why: e.to_string(),
            })
    }

    /// Checks `created` against `now`: not after now + [`MAX_SKEW`], not before now -
    /// [`MAX_AGE`].
    pub fn check_time(&self, now: OffsetDateTime) -> Result<(), EnvelopeError> {
        let created = &self.envelope.created;
        let at = OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
            .map_err(|_| EnvelopeError::Time {
                created: created.clone(),
                why: "is not an RFC 3339 timestamp",
            })?;
        if at > now + MAX_SKEW {
            return Err(EnvelopeError::Time {
                created: created.clone(),
                why: "is in the future (more than 5 minutes ahead of this node's clock)",
            });
        }
        if at < now - MAX_AGE {
            return Err(EnvelopeError::Time {
                created: created.clone(),
                why: "is more than 90 days old",
            });
        }
        Ok(())
    }

    /// The JSON text that travels; the body is written verbatim.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(flatten)]
            envelope: &'a Envelope,
            signature: &'a str,
        }
        serde_json::to_string(&Wire {
            envelope: &self.envelope,
            signature: &self.signature,
        })
        .unwrap_or_default()
    }
}

/// The body of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The envelope answered.
    pub envelope: String,
    /// Its sequence number.
    pub seq: u64,
    /// `delivered` or `refused`.
    pub outcome: String,
    /// Why it was refused, or which objects in it were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Objects stored from it.
    #[serde(default)]
    pub accepted: u64,
    /// Objects refused from it, with the reason for each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<RefusedObject>,
}

/// One object of an envelope that the receiver did not store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusedObject {
    /// Its id, when it has one.
    pub id: Option<String>,
    /// Why.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use comity_tlog::note::{KeyKind, Signer};
    use serde_json::json;

    fn raw(v: Value) -> Box<RawValue> {
        RawValue::from_string(v.to_string()).unwrap()
    }

    fn key(seed: u8) -> NodeKey {
        let signer = Signer::new(
            "comity/t",
            KeyKind::Ed25519,
            ed25519_dalek::SigningKey::from_bytes(&[seed; 32]),
        )
        .unwrap();
        NodeKey::from_log_signer(&signer).unwrap()
    }

    #[test]
    fn a_signed_envelope_round_trips_and_verifies() {
        let k = key(1);
        let e = Envelope::new(
            "identity--a",
            "identity--b",
            Kind::StixObjects,
            7,
            raw(json!({"objects": []})),
        );
        let signed = e.sign(&k);
        let back = Signed::parse(signed.to_json().as_bytes()).unwrap();
        assert_eq!(back.to_json(), signed.to_json());
        assert_eq!(back.verify(&k.public_key()), Ok(()));
        assert_eq!(back.check_time(OffsetDateTime::now_utc()), Ok(()));
    }

    #[test]
    fn tampering_forgery_versions_and_times_are_refused() {
        let k = key(1);
        let signed = Envelope::new(
            "identity--a",
            "identity--b",
            Kind::StixObjects,
            1,
            raw(json!({"objects": [1]})),
        )
        .sign(&k);
        let mut tampered = signed.clone();
        tampered.envelope.seq = 2;
        assert!(matches!(
            tampered.verify(&k.public_key()),
            Err(EnvelopeError::BadSignature { .. })
        ));
        assert!(matches!(
            signed.verify(&key(2).public_key()),
            Err(EnvelopeError::BadSignature { .. })
        ));
        let body_changed = signed
            .to_json()
            .replace(r#"{"objects":[1]}"#, r#"{"objects":[2]}"#);
        assert_ne!(body_changed, signed.to_json());
        let changed = Signed::parse(body_changed.as_bytes()).unwrap();
        assert!(matches!(
            changed.verify(&k.public_key()),
            Err(EnvelopeError::BadSignature { .. })
        ));
        let mut v2: Value = serde_json::from_str(&signed.to_json()).unwrap();
        v2["v"] = json!(2);
        assert!(matches!(
            Signed::parse(v2.to_string().as_bytes()),
            Err(EnvelopeError::Version(2))
        ));
        for bad in [&b"not json"[..], b"{}", b"[]", br#"{"v":1}"#] {
            assert!(matches!(
                Signed::parse(bad),
                Err(EnvelopeError::Malformed(_))
            ));
        }
        let mut extra: Value = serde_json::from_str(&signed.to_json()).unwrap();
        extra["extra"] = json!(1);
        assert!(matches!(
            Signed::parse(extra.to_string().as_bytes()),
            Err(EnvelopeError::Malformed(_))
        ));
        for id in ["", "x", "'; DROP TABLE inbox; --", "\u{0}"] {
            let mut odd: Value = serde_json::from_str(&signed.to_json()).unwrap();
            odd["id"] = json!(id);
            assert!(
                matches!(
                    Signed::parse(odd.to_string().as_bytes()),
                    Err(EnvelopeError::Malformed(m)) if m.contains("is not a UUID")
                ),
                "{id:?}"
            );
        }
        let now = OffsetDateTime::now_utc();
        assert!(signed.check_time(now + time::Duration::days(91)).is_err());
        assert!(signed.check_time(now - time::Duration::minutes(6)).is_err());
        assert!(signed.check_time(now - time::Duration::minutes(4)).is_ok());
    }
}
