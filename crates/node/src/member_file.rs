//! The member record file: what a node hands its peers so that they pin it exactly (identity
//! id, public key, endpoint, roles, country) instead of copying fields by hand.
//! `comity member show-local --out FILE` writes it, signed with the node's key; `comity
//! member add --from FILE` pins it once the signature verifies with the key the file
//! carries.
//!
//! The signature proves that the file was made by whoever holds that key and has not been
//! changed since; that the key is the peer's own is for people to confirm out of band
//! (both commands print it).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::identity::{KeyError, NodeKey, PublicKey};
use crate::registry::{MemberRecord, RegistryError};

/// The format name a member record file carries.
pub const FORMAT: &str = "comity-member-record/v1";

/// A node's member record, signed by its node key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// The record, as peers pin it (`local` is false).
    pub record: MemberRecord,
    /// Ed25519 by the record's key over the canonical JSON of `{format, record}`.
    pub signature: String,
}

/// Why a member record file was refused.
#[derive(Debug, thiserror::Error)]
pub enum MemberFileError {
    /// The text is not a member record file.
    #[error("not a member record file ({FORMAT}): {0}")]
    Unreadable(String),
    /// Another format, or a later version of this one.
    #[error("the file's format is {0:?}, not {FORMAT:?}")]
    Format(String),
    /// The record claims to be the reader's own.
    #[error("the record says \"local\": true; a member record file never does")]
    Local,
    /// The record breaks a rule of member records.
    #[error("the record in the file is refused: {0}")]
    Record(#[source] RegistryError),
    /// The signature does not verify with the key the record carries.
    #[error(
        "the file's signature does not verify with the key it carries ({key}): it was changed \
         after it was signed, or not signed by that key ({source})"
    )]
    Signature {
        /// The key the record carries.
        key: String,
        /// What the check found.
        source: KeyError,
    },
    /// The node's key is not the one its own record names.
    #[error("this node's key {key} is not the key {named} its member record names")]
    NotOurKey {
        /// This node's key.
        key: String,
        /// The record's.
        named: String,
    },
}

fn signed_body(record: &MemberRecord) -> Value {
    json!({"format": FORMAT, "record": record})
}

impl MemberFile {
    /// This node's record `record`, signed with its key `key`.
    pub fn sign(record: &MemberRecord, key: &NodeKey) -> Result<MemberFile, MemberFileError> {
        // Key history travels in statements of its own, which authenticate themselves.
        let record = MemberRecord {
            local: false,
            allow_plain_http: false,
            key_history: Vec::new(),
            ..record.clone()
        };
        let ours = key.public_key().to_string();
        if record.public_key != ours {
            return Err(MemberFileError::NotOurKey {
                key: ours,
                named: record.public_key,
            });
        }
        let signature = key.sign(&signed_body(&record));
        Ok(MemberFile {
            format: FORMAT.to_owned(),
            record,
            signature,
        })
    }

    /// Reads a member record file and returns its record once the file's format, the
    /// record's facts and the signature all check.
    pub fn read(text: &str) -> Result<MemberRecord, MemberFileError> {
        let file: MemberFile =
            serde_json::from_str(text).map_err(|e| MemberFileError::Unreadable(e.to_string()))?;
        if file.format != FORMAT {
            return Err(MemberFileError::Format(file.format));
        }
        if file.record.local {
            return Err(MemberFileError::Local);
        }
        file.record.check().map_err(MemberFileError::Record)?;
        let key: PublicKey = file.record.public_key.parse().map_err(|e: KeyError| {
            MemberFileError::Record(RegistryError::Invalid(e.to_string()))
        })?;
        key.verify(&signed_body(&file.record), &file.signature)
            .map_err(|source| MemberFileError::Signature {
                key: file.record.public_key.clone(),
                source,
            })?;
        // Plain HTTP is this node's admin's decision, never the file's; key history is
        // taken from key statements only.
        Ok(MemberRecord {
            allow_plain_http: false,
            key_history: Vec::new(),
            ..file.record
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{MemberRole, NewMember};

    fn key(seed: u8) -> NodeKey {
        NodeKey::from_log_signer(&crate::federation::test_nodes::signer(seed)).unwrap()
    }

    fn record(key: &NodeKey) -> MemberRecord {
        NewMember {
            name: "CERT-XX".into(),
            country: "XX".into(),
            roles: [MemberRole::Cert].into(),
            public_key: key.public_key().to_string(),
            encryption_key: None,
            endpoint: Some("https://cti.cert.example".into()),
            contact: Some("24/7 desk".into()),
            identity_id: None,
        }
        .into_record(true)
        .unwrap()
    }

    #[test]
    fn a_signed_file_reads_back_as_the_record_exactly() {
        let k = key(1);
        let mine = record(&k);
        let text = serde_json::to_string_pretty(&MemberFile::sign(&mine, &k).unwrap()).unwrap();
        let pinned = MemberFile::read(&text).unwrap();
        assert_eq!(
            pinned,
            MemberRecord {
                local: false,
                ..mine
            }
        );
    }

    #[test]
    fn a_changed_forged_or_malformed_file_is_refused_saying_why() {
        let k = key(1);
        let file = MemberFile::sign(&record(&k), &k).unwrap();
        let as_text = |f: &MemberFile| serde_json::to_string(f).unwrap();
        let refused = |text: &str| MemberFile::read(text).unwrap_err().to_string();

        let mut moved = file.clone();
        moved.record.endpoint = Some("https://attacker.example".into());
        assert!(refused(&as_text(&moved)).contains("signature does not verify"));

        // The encryption key is signed with the rest: another one (an eavesdropper's) is
        // refused, and one that is no X25519 key is refused as such.
        let eavesdropper = crate::federation::seal::OpeningKey::of(&key(9));
        let mut rekeyed = file.clone();
        rekeyed.record.encryption_key = Some(eavesdropper.public_key().to_string());
        assert!(refused(&as_text(&rekeyed)).contains("signature does not verify"));
        let mut garbled = file.clone();
        garbled.record.encryption_key = Some("x25519:AAAA".into());
        assert!(refused(&as_text(&garbled)).contains("an encryption key is written x25519:"));

        let mut renamed = file.clone();
        renamed.record.identity["id"] = json!(format!("identity--{}", uuid::Uuid::new_v4()));
        assert!(refused(&as_text(&renamed)).contains("signature does not verify"));

        // Someone else's key, with the record re-signed by another key.
        let other = key(2);
        let mut forged = file.clone();
        forged.signature = other.sign(&signed_body(&forged.record));
        assert!(refused(&as_text(&forged)).contains("signature does not verify"));

        let mut local = file.clone();
        local.record.local = true;
        assert!(refused(&as_text(&local)).contains("never does"));

        let mut later = file.clone();
        later.format = "comity-member-record/v2".into();
        assert!(refused(&as_text(&later)).contains("v2"));

        let mut country = file.clone();
        country.record.country = "fr".into();
        assert!(refused(&as_text(&country)).contains("ISO 3166-1"));

        let mut extra: Value = serde_json::to_value(&file).unwrap();
        extra["note"] = json!("trust me");
        assert!(refused(&extra.to_string()).contains("unknown field `note`"));
        assert!(refused("{\"member\": 1}").starts_with("not a member record file"));
    }

    #[test]
    fn a_node_signs_only_its_own_record() {
        let e = MemberFile::sign(&record(&key(1)), &key(2)).unwrap_err();
        assert!(matches!(e, MemberFileError::NotOurKey { .. }), "{e}");
    }
}
