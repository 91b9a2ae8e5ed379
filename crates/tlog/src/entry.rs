//! The log entry: what a Comity node commits to its log for each act. This
//! module owns the entry encodings and their versions; an entry must never carry
//! confidential content, and since version 2 it names nothing at all in the
//! clear but its kind and time.
//!
//! # Encoding, version 2 (written now)
//!
//! An entry is one JSON object in RFC 8785 canonical form (keys sorted, no
//! whitespace) with exactly these members:
//!
//! | key | type | meaning |
//! | --- | --- | --- |
//! | `commitment` | string | lowercase hex SHA-256 of `comity/log-opening/v2\n` followed by the opening's bytes |
//! | `kind` | string | what happened, dotted lowercase, e.g. `object.accepted` (open set) |
//! | `time` | integer | when, in microseconds since the Unix epoch (UTC) |
//! | `v` | integer | `2` |
//!
//! The **opening** ([`Opening`]) is one canonical JSON object with exactly the
//! members `actor`, `salt` (64 lowercase hex digits: 32 random bytes drawn for
//! this entry alone), `sha256` and `subject`, which mean what they mean in
//! version 1. The node keeps it beside the entry and gives it only with the
//! subject itself, to a caller who may read that subject: the salt makes the
//! commitment (and so the leaf hash) useless to anyone guessing the subject,
//! even when the subject's id is derived from its value (STIX SCOs, UUIDv5).
//! [`Opening::open`] checks an opening against an entry.
//!
//! Example: `{"commitment":"5c0e…","kind":"object.accepted","time":1795737600000000,"v":2}`
//! opened by `{"actor":"identity--5e1…","salt":"9a7b…","sha256":"9f86…","subject":"indicator--8e2…@2026-11-27T00:00:00.000Z"}`.
//!
//! # Encoding, version 1 (read and verified, no longer written)
//!
//! One canonical JSON object with exactly these members, all in the clear:
//!
//! | key | type | meaning |
//! | --- | --- | --- |
//! | `actor` | string | who performed or originated the act: a member identity id or a local user id |
//! | `kind` | string | what happened |
//! | `sha256` | string | lowercase hex SHA-256 of the canonical JSON of the thing acted on |
//! | `subject` | string | what was acted on, e.g. `indicator--…@2026-01-01T00:00:00.000Z` (id and version) |
//! | `time` | integer | when, in microseconds since the Unix epoch (UTC) |
//! | `v` | integer | `1` |
//!
//! Example: `{"actor":"identity--5e1…","kind":"object.accepted","sha256":"9f86…","subject":"indicator--8e2…@2026-11-27T00:00:00.000Z","time":1795737600000000,"v":1}`
//!
//! # Both versions
//!
//! The leaf hash in the tree is RFC 9162's SHA-256(0x00 ‖ the entry's bytes).
//! Strings are 1..=512 bytes of UTF-8 without control characters; `kind` is
//! at most 64 bytes of `[a-z0-9_-]` segments joined by dots, at least two
//! segments. Decoding refuses anything that does not re-encode to the same
//! bytes, so every entry and opening has exactly one encoding.

use ring::digest::{digest, SHA256};
use serde::{Deserialize, Serialize};

/// The encoding version this crate writes ([`SealedEntry`]).
pub const VERSION: u64 = 2;
/// The first encoding version ([`LogEntry`] in the clear), still read and verified.
pub const VERSION_1: u64 = 1;

/// What precedes an opening's bytes under the SHA-256 of a version 2 commitment.
pub const OPENING_DOMAIN: &[u8] = b"comity/log-opening/v2\n";

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
/// Kind of the entry committing to an event of a cooperation request (submitted,
/// answered, executed, …), made by this node or received from the other party.
pub const REQUEST_EVENT: &str = "request.event";
/// Kind of the entry committing to a governance act: a proposal tabled, a ballot taken in,
/// an outcome counted, its effect applied, the first rules set.
pub const GOVERNANCE_ACT: &str = "governance.act";
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
    /// The bytes are not a JSON entry object with exactly the members of its version.
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
    /// An opening whose commitment is not the entry's.
    #[error("the opening does not open this entry: its commitment differs")]
    NotOpened,
    /// A version 2 entry asked to reveal its act without an opening.
    #[error("a version 2 entry reveals its actor, subject and hash only with its opening")]
    OpeningMissing,
}

/// One act in the clear: what a version 1 entry holds, and what a version 2 entry's
/// opening reveals together with the entry's kind and time.
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

/// A version 2 entry: the act's kind and time, and a salted commitment to the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedEntry {
    /// What happened.
    pub kind: String,
    /// When, in microseconds since the Unix epoch.
    pub time: i64,
    /// SHA-256 of [`OPENING_DOMAIN`] and the opening's bytes.
    pub commitment: [u8; 32],
}

/// What opens a version 2 entry: the act's actor, subject and hash, and the entry's salt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// Who performed or originated the act.
    pub actor: String,
    /// What was acted on (identifier and version).
    pub subject: String,
    /// SHA-256 of the canonical JSON of what was acted on.
    pub sha256: [u8; 32],
    /// 32 random bytes drawn for this entry alone.
    pub salt: [u8; 32],
}

/// An entry of either version, as decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Version 1: the act in the clear.
    V1(LogEntry),
    /// Version 2: kind, time and a commitment.
    V2(SealedEntry),
}

/// The version 1 wire form; field order is the RFC 8785 key order.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireV1 {
    actor: String,
    kind: String,
    sha256: String,
    subject: String,
    time: i64,
    v: u64,
}

/// The version 2 wire form.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireV2 {
    commitment: String,
    kind: String,
    time: i64,
    v: u64,
}

/// The opening's wire form.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireOpening {
    actor: String,
    salt: String,
    sha256: String,
    subject: String,
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

fn check_time(time: i64) -> Result<(), EntryError> {
    if time < 0 {
        return Err(EntryError::InvalidField {
            field: "time",
            reason: "must not be before the epoch",
        });
    }
    Ok(())
}

fn to_json(value: &impl Serialize) -> Result<Vec<u8>, EntryError> {
    serde_json::to_vec(value).map_err(|e| EntryError::Malformed(e.to_string()))
}

fn hex32(field: &'static str, s: &str) -> Result<[u8; 32], EntryError> {
    parse_hex32(s).ok_or(EntryError::InvalidField {
        field,
        reason: "want 64 lowercase hex digits",
    })
}

/// Decodes `bytes` as `T`, then requires that `encode` gives the same bytes back.
fn decode_canonical<W: serde::de::DeserializeOwned, T>(
    value: serde_json::Value,
    bytes: &[u8],
    from_wire: impl FnOnce(W) -> Result<T, EntryError>,
    encode: impl FnOnce(&T) -> Result<Vec<u8>, EntryError>,
) -> Result<T, EntryError> {
    let wire: W =
        serde_json::from_value(value).map_err(|e| EntryError::Malformed(e.to_string()))?;
    let decoded = from_wire(wire)?;
    if encode(&decoded)? != bytes {
        return Err(EntryError::NotCanonical);
    }
    Ok(decoded)
}

fn json_object(bytes: &[u8]) -> Result<serde_json::Value, EntryError> {
    serde_json::from_slice(bytes).map_err(|e| EntryError::Malformed(e.to_string()))
}

impl LogEntry {
    /// Checks every field rule.
    pub fn validate(&self) -> Result<(), EntryError> {
        check_kind(&self.kind)?;
        check_text("actor", &self.actor, MAX_FIELD)?;
        check_text("subject", &self.subject, MAX_FIELD)?;
        check_time(self.time)
    }

    /// Seals the act as a version 2 entry with `salt` (32 fresh random bytes: never reuse
    /// one); returns the entry's bytes and its opening.
    pub fn seal(&self, salt: [u8; 32]) -> Result<(Vec<u8>, Opening), EntryError> {
        self.validate()?;
        let opening = Opening {
            actor: self.actor.clone(),
            subject: self.subject.clone(),
            sha256: self.sha256,
            salt,
        };
        let entry = SealedEntry {
            kind: self.kind.clone(),
            time: self.time,
            commitment: opening.commitment()?,
        };
        Ok((entry.encode()?, opening))
    }

    /// The version 1 bytes: what nodes wrote before version 2, kept to read and verify
    /// old entries.
    pub fn encode_v1(&self) -> Result<Vec<u8>, EntryError> {
        self.validate()?;
        to_json(&WireV1 {
            actor: self.actor.clone(),
            kind: self.kind.clone(),
            sha256: hex::encode(self.sha256),
            subject: self.subject.clone(),
            time: self.time,
            v: VERSION_1,
        })
    }
}

impl SealedEntry {
    /// The canonical version 2 bytes.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        check_kind(&self.kind)?;
        check_time(self.time)?;
        to_json(&WireV2 {
            commitment: hex::encode(self.commitment),
            kind: self.kind.clone(),
            time: self.time,
            v: VERSION,
        })
    }
}

impl Opening {
    /// The canonical bytes of the opening.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        check_text("actor", &self.actor, MAX_FIELD)?;
        check_text("subject", &self.subject, MAX_FIELD)?;
        to_json(&WireOpening {
            actor: self.actor.clone(),
            salt: hex::encode(self.salt),
            sha256: hex::encode(self.sha256),
            subject: self.subject.clone(),
        })
    }

    /// Decodes canonical opening bytes.
    pub fn decode(bytes: &[u8]) -> Result<Opening, EntryError> {
        decode_canonical(
            json_object(bytes)?,
            bytes,
            |w: WireOpening| {
                Ok(Opening {
                    actor: w.actor,
                    subject: w.subject,
                    sha256: hex32("sha256", &w.sha256)?,
                    salt: hex32("salt", &w.salt)?,
                })
            },
            Opening::encode,
        )
    }

    /// The commitment a version 2 entry carries for this opening.
    pub fn commitment(&self) -> Result<[u8; 32], EntryError> {
        let mut input = OPENING_DOMAIN.to_vec();
        input.extend(self.encode()?);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, &input).as_ref());
        Ok(out)
    }

    /// The act in the clear when this opening's commitment is `entry`'s, else
    /// [`EntryError::NotOpened`].
    pub fn open(&self, entry: &SealedEntry) -> Result<LogEntry, EntryError> {
        if self.commitment()? != entry.commitment {
            return Err(EntryError::NotOpened);
        }
        Ok(LogEntry {
            kind: entry.kind.clone(),
            time: entry.time,
            actor: self.actor.clone(),
            subject: self.subject.clone(),
            sha256: self.sha256,
        })
    }
}

impl Entry {
    /// Decodes canonical entry bytes of either version.
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        let value = json_object(bytes)?;
        match value.get("v").and_then(serde_json::Value::as_u64) {
            Some(VERSION_1) => decode_canonical(
                value,
                bytes,
                |w: WireV1| {
                    Ok(LogEntry {
                        kind: w.kind,
                        time: w.time,
                        actor: w.actor,
                        subject: w.subject,
                        sha256: hex32("sha256", &w.sha256)?,
                    })
                },
                LogEntry::encode_v1,
            )
            .map(Entry::V1),
            Some(VERSION) => decode_canonical(
                value,
                bytes,
                |w: WireV2| {
                    Ok(SealedEntry {
                        kind: w.kind,
                        time: w.time,
                        commitment: hex32("commitment", &w.commitment)?,
                    })
                },
                SealedEntry::encode,
            )
            .map(Entry::V2),
            Some(other) => Err(EntryError::UnsupportedVersion(other)),
            None => Err(EntryError::Malformed("missing integer member v".into())),
        }
    }

    /// What happened, in either version.
    pub fn kind(&self) -> &str {
        match self {
            Entry::V1(e) => &e.kind,
            Entry::V2(e) => &e.kind,
        }
    }

    /// The act in the clear: a version 1 entry as it is, a version 2 entry with its
    /// opening (required, and checked against the commitment).
    pub fn reveal(&self, opening: Option<&Opening>) -> Result<LogEntry, EntryError> {
        match (self, opening) {
            (Entry::V1(e), _) => Ok(e.clone()),
            (Entry::V2(e), Some(o)) => o.open(e),
            (Entry::V2(_), None) => Err(EntryError::OpeningMissing),
        }
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
    fn version_1_is_canonical_json_with_sorted_keys_and_still_decodes() {
        let bytes = sample().encode_v1().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            format!(
                "{{\"actor\":\"identity--5e1c0c4e-3f3a-4b0e-9d6e-0b0a3d7c1a11\",\"kind\":\"object.accepted\",\"sha256\":\"{}\",\"subject\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f@2026-11-27T00:00:00.000Z\",\"time\":1795737600000000,\"v\":1}}",
                "ab".repeat(32)
            )
        );
        let decoded = Entry::decode(&bytes).unwrap();
        assert_eq!(decoded, Entry::V1(sample()));
        assert_eq!(decoded.reveal(None).unwrap(), sample());
    }

    #[test]
    fn version_2_names_only_kind_and_time_and_its_opening_reveals_the_act() {
        let (bytes, opening) = sample().seal([0x5a; 32]).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let commitment = opening.commitment().unwrap();
        assert_eq!(
            text,
            format!(
                "{{\"commitment\":\"{}\",\"kind\":\"object.accepted\",\"time\":1795737600000000,\"v\":2}}",
                hex::encode(commitment)
            )
        );
        for secret in [
            "identity--",
            "indicator--",
            &"ab".repeat(32),
            &"5a".repeat(32),
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let opening_bytes = opening.encode().unwrap();
        let mut input = OPENING_DOMAIN.to_vec();
        input.extend(&opening_bytes);
        assert_eq!(commitment.as_slice(), digest(&SHA256, &input).as_ref());
        assert_eq!(Opening::decode(&opening_bytes).unwrap(), opening);
        let entry = Entry::decode(&bytes).unwrap();
        assert_eq!(entry.kind(), OBJECT_ACCEPTED);
        assert_eq!(entry.reveal(Some(&opening)).unwrap(), sample());
        assert_eq!(entry.reveal(None), Err(EntryError::OpeningMissing));
    }

    #[test]
    fn an_opening_with_any_field_changed_does_not_open() {
        let (bytes, opening) = sample().seal([1; 32]).unwrap();
        let entry = Entry::decode(&bytes).unwrap();
        let changed = [
            Opening {
                salt: [2; 32],
                ..opening.clone()
            },
            Opening {
                actor: "identity--other".into(),
                ..opening.clone()
            },
            Opening {
                subject: "indicator--other".into(),
                ..opening.clone()
            },
            Opening {
                sha256: [0xac; 32],
                ..opening.clone()
            },
        ];
        for other in changed {
            assert_eq!(entry.reveal(Some(&other)), Err(EntryError::NotOpened));
        }
        // Two seals of one act with two salts share nothing.
        let (again, _) = sample().seal([2; 32]).unwrap();
        assert_ne!(again, bytes);
    }

    #[test]
    fn non_canonical_unknown_or_future_entries_and_openings_are_refused() {
        let text = String::from_utf8(sample().encode_v1().unwrap()).unwrap();
        let spaced = text.replace(",\"kind\"", ", \"kind\"");
        assert_eq!(
            Entry::decode(spaced.as_bytes()),
            Err(EntryError::NotCanonical)
        );
        let v3 = text.replace("\"v\":1", "\"v\":3");
        assert_eq!(
            Entry::decode(v3.as_bytes()),
            Err(EntryError::UnsupportedVersion(3))
        );
        // A version 1 body labelled 2 has the wrong members.
        let v2 = text.replace("\"v\":1", "\"v\":2");
        assert!(matches!(
            Entry::decode(v2.as_bytes()),
            Err(EntryError::Malformed(_))
        ));
        let extra = text.replace("\"v\":1", "\"v\":1,\"z\":0");
        assert!(matches!(
            Entry::decode(extra.as_bytes()),
            Err(EntryError::Malformed(_))
        ));
        let upper = text.replace(&"ab".repeat(32), &"AB".repeat(32));
        assert!(matches!(
            Entry::decode(upper.as_bytes()),
            Err(EntryError::InvalidField {
                field: "sha256",
                ..
            })
        ));
        assert!(Entry::decode(b"[1]").is_err());

        let (sealed, opening) = sample().seal([3; 32]).unwrap();
        let sealed = String::from_utf8(sealed).unwrap();
        let short = sealed.replace("\"kind\"", "\"kind\" ");
        assert_eq!(
            Entry::decode(short.as_bytes()),
            Err(EntryError::NotCanonical)
        );
        let commitment = hex::encode(opening.commitment().unwrap());
        let upper = sealed.replace(&commitment, &commitment.to_uppercase());
        assert!(matches!(
            Entry::decode(upper.as_bytes()),
            Err(EntryError::InvalidField {
                field: "commitment",
                ..
            })
        ));
        let with_subject = sealed.replace("\"v\":2", "\"subject\":\"x\",\"v\":2");
        assert!(matches!(
            Entry::decode(with_subject.as_bytes()),
            Err(EntryError::Malformed(_))
        ));
        let opened = String::from_utf8(opening.encode().unwrap()).unwrap();
        let bad_salt = opened.replace(&"03".repeat(32), &"03".repeat(31));
        assert!(matches!(
            Opening::decode(bad_salt.as_bytes()),
            Err(EntryError::InvalidField { field: "salt", .. })
        ));
        let spaced = opened.replace(",\"salt\"", ", \"salt\"");
        assert_eq!(
            Opening::decode(spaced.as_bytes()),
            Err(EntryError::NotCanonical)
        );
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
            .seal([0; 32])
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
            let entry = LogEntry {
                kind: bad.into(),
                ..sample()
            };
            assert!(entry.seal([0; 32]).is_err(), "{bad}");
            assert!(entry.encode_v1().is_err(), "{bad}");
        }
        assert!(LogEntry {
            actor: "a\nb".into(),
            ..sample()
        }
        .seal([0; 32])
        .is_err());
        assert!(LogEntry {
            time: -1,
            ..sample()
        }
        .seal([0; 32])
        .is_err());
    }
}
