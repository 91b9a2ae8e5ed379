//! The log entry: what a Comity node commits to its log for each act. This
//! module owns the entry encoding and its version; it must never carry
//! confidential content, only kinds, times, identifiers and hashes.
//!
//! # Encoding, version 1
//!
//! An entry is one JSON object in RFC 8785 canonical form (keys sorted, no
//! whitespace, strings escaped minimally) with exactly these members:
//!
//! | key | type | meaning |
//! | --- | --- | --- |
//! | `actor` | string | who performed or originated the act: a member identity id or a local user id |
//! | `kind` | string | what happened, dotted lowercase, e.g. `object.accepted` (open set) |
//! | `sha256` | string | lowercase hex SHA-256 of the canonical JSON of the thing acted on |
//! | `subject` | string | what was acted on, e.g. `indicator--…@2026-01-01T00:00:00.000Z` (id and version) |
//! | `time` | integer | when, in microseconds since the Unix epoch (UTC) |
//! | `v` | integer | the encoding version, `1` |
//!
//! Example: `{"actor":"identity--5e1…","kind":"object.accepted","sha256":"9f86…","subject":"indicator--8e2…@2026-11-27T00:00:00.000Z","time":1795737600000000,"v":1}`
//!
//! The leaf hash in the tree is RFC 9162's SHA-256(0x00 ‖ these bytes).
//! Strings are 1..=512 bytes of UTF-8 without control characters; `kind` is
//! at most 64 bytes of `[a-z0-9_-]` segments joined by dots, at least two
//! segments. Decoding refuses anything that does not re-encode to the same
//! bytes, so every entry has exactly one encoding.

use serde::{Deserialize, Serialize};

/// The encoding version this crate writes and reads.
pub const VERSION: u64 = 1;

/// Kind of the entry committing to a STIX object the node accepted.
pub const OBJECT_ACCEPTED: &str = "object.accepted";
/// Kind of the entry committing to a change of a local user.
pub const USER_CHANGED: &str = "user.changed";
/// Kind of the entry committing to a change of a TAXII collection.
pub const COLLECTION_CHANGED: &str = "collection.changed";
/// Kind of the entry committing to a change of the node configuration.
pub const CONFIG_CHANGED: &str = "config.changed";
/// Kind of the entry committing to a change of a federation member's record or standing.
pub const MEMBER_CHANGED: &str = "member.changed";
/// Kind of the entry committing to a change of a sharing agreement or its signatures.
pub const AGREEMENT_CHANGED: &str = "agreement.changed";
/// Kind of the entry committing to an envelope this node refused (its signed receipt).
pub const ENVELOPE_REFUSED: &str = "envelope.refused";
/// Kind of the entry committing to a change of an API token (created, revoked).
pub const TOKEN_CHANGED: &str = "token.changed";
/// Witnessing met an inconsistency (a fork, a rollback, a refused checkpoint); the entry
/// commits to the evidence kept in the store.
pub const WITNESS_ALERT: &str = "witness.alert";

const MAX_FIELD: usize = 512;
const MAX_KIND: usize = 64;

/// Errors of entry encoding and decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// The bytes are not a JSON entry object with exactly the v1 members.
    #[error("malformed log entry: {0}")]
    Malformed(String),
    /// A version this crate does not read.
    #[error("unsupported log entry version {0}")]
    UnsupportedVersion(u64),
    /// Valid JSON but not in canonical form.
    #[error("log entry is not in canonical form")]
    NotCanonical,
    /// A field breaks its rule.
    #[error("invalid log entry field {field}: {reason}")]
    InvalidField {
        /// The member name.
        field: &'static str,
        /// The rule broken.
        reason: &'static str,
    },
}

/// One act, as committed to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// What happened, e.g. [`OBJECT_ACCEPTED`]; later features add kinds.
    pub kind: String,
    /// When, in microseconds since the Unix epoch.
    pub time: i64,
    /// Who performed or originated the act.
    pub actor: String,
    /// What was acted on (identifier and version).
    pub subject: String,
    /// SHA-256 of the canonical JSON of what was acted on.
    pub sha256: [u8; 32],
}

/// The wire form; field order is the RFC 8785 key order.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    actor: String,
    kind: String,
    sha256: String,
    subject: String,
    time: i64,
    v: u64,
}

fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), EntryError> {
    let bad = |reason| EntryError::InvalidField { field, reason };
    if value.is_empty() || value.len() > max {
        return Err(bad("length out of range"));
    }
    if value.chars().any(char::is_control) {
        return Err(bad("control character"));
    }
    Ok(())
}

fn check_kind(kind: &str) -> Result<(), EntryError> {
    check_text("kind", kind, MAX_KIND)?;
    let segments: Vec<&str> = kind.split('.').collect();
    let ok = segments.len() >= 2
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(EntryError::InvalidField {
            field: "kind",
            reason: "want dotted lowercase segments such as object.accepted",
        })
    }
}

impl LogEntry {
    /// Checks every field rule.
    pub fn validate(&self) -> Result<(), EntryError> {
        check_kind(&self.kind)?;
        check_text("actor", &self.actor, MAX_FIELD)?;
        check_text("subject", &self.subject, MAX_FIELD)?;
        if self.time < 0 {
            return Err(EntryError::InvalidField {
                field: "time",
                reason: "must not be before the epoch",
            });
        }
        Ok(())
    }

    /// The canonical bytes committed to the log.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        self.validate()?;
        let wire = Wire {
            actor: self.actor.clone(),
            kind: self.kind.clone(),
            sha256: hex::encode(self.sha256),
            subject: self.subject.clone(),
            time: self.time,
            v: VERSION,
        };
        serde_json::to_vec(&wire).map_err(|e| EntryError::Malformed(e.to_string()))
    }

    /// Decodes canonical entry bytes.
    pub fn decode(bytes: &[u8]) -> Result<LogEntry, EntryError> {
        let version: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| EntryError::Malformed(e.to_string()))?;
        match version.get("v").and_then(serde_json::Value::as_u64) {
            Some(VERSION) => {}
            Some(other) => return Err(EntryError::UnsupportedVersion(other)),
            None => return Err(EntryError::Malformed("missing integer member v".into())),
        }
        let wire: Wire =
            serde_json::from_value(version).map_err(|e| EntryError::Malformed(e.to_string()))?;
        let sha256 = parse_hex32(&wire.sha256).ok_or(EntryError::InvalidField {
            field: "sha256",
            reason: "want 64 lowercase hex digits",
        })?;
        let entry = LogEntry {
            kind: wire.kind,
            time: wire.time,
            actor: wire.actor,
            subject: wire.subject,
            sha256,
        };
        if entry.encode()? != bytes {
            return Err(EntryError::NotCanonical);
        }
        Ok(entry)
    }
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LogEntry {
        LogEntry {
            kind: OBJECT_ACCEPTED.into(),
            time: 1_795_737_600_000_000,
            actor: "identity--5e1c0c4e-3f3a-4b0e-9d6e-0b0a3d7c1a11".into(),
            subject: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f@2026-11-27T00:00:00.000Z"
                .into(),
            sha256: [0xab; 32],
        }
    }

    #[test]
    fn encoding_is_canonical_json_with_sorted_keys() {
        let bytes = sample().encode().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            format!(
                "{{\"actor\":\"identity--5e1c0c4e-3f3a-4b0e-9d6e-0b0a3d7c1a11\",\"kind\":\"object.accepted\",\"sha256\":\"{}\",\"subject\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f@2026-11-27T00:00:00.000Z\",\"time\":1795737600000000,\"v\":1}}",
                "ab".repeat(32)
            )
        );
        assert_eq!(LogEntry::decode(&bytes).unwrap(), sample());
    }

    #[test]
    fn non_canonical_unknown_or_future_entries_are_refused() {
        let text = String::from_utf8(sample().encode().unwrap()).unwrap();
        let spaced = text.replace(",\"kind\"", ", \"kind\"");
        assert_eq!(
            LogEntry::decode(spaced.as_bytes()),
            Err(EntryError::NotCanonical)
        );
        let v2 = text.replace("\"v\":1", "\"v\":2");
        assert_eq!(
            LogEntry::decode(v2.as_bytes()),
            Err(EntryError::UnsupportedVersion(2))
        );
        let extra = text.replace("\"v\":1", "\"v\":1,\"z\":0");
        assert!(matches!(
            LogEntry::decode(extra.as_bytes()),
            Err(EntryError::Malformed(_))
        ));
        let upper = text.replace(&"ab".repeat(32), &"AB".repeat(32));
        assert!(matches!(
            LogEntry::decode(upper.as_bytes()),
            Err(EntryError::InvalidField {
                field: "sha256",
                ..
            })
        ));
        assert!(LogEntry::decode(b"[1]").is_err());
    }

    #[test]
    fn kinds_are_open_but_shaped() {
        for good in [
            "vote.cast",
            "cooperation-request.transition",
            "agreement.v2.signed",
        ] {
            LogEntry {
                kind: good.into(),
                ..sample()
            }
            .encode()
            .unwrap();
        }
        for bad in [
            "object",
            "Object.Accepted",
            "object..accepted",
            ".x",
            "a.b c",
            "",
        ] {
            assert!(
                LogEntry {
                    kind: bad.into(),
                    ..sample()
                }
                .encode()
                .is_err(),
                "{bad}"
            );
        }
        assert!(LogEntry {
            actor: "a\nb".into(),
            ..sample()
        }
        .encode()
        .is_err());
        assert!(LogEntry {
            time: -1,
            ..sample()
        }
        .encode()
        .is_err());
    }
}
