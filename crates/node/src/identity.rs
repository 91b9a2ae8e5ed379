//! The node's identity key outside the log: it signs documents (agreements now, envelopes
//! with federation) as Ed25519 over their RFC 8785 canonical JSON, and its public half is
//! what a member record carries and peers pin, written `ed25519:<base64 of 32 bytes>`.
//!
//! The key is the one `comity init` made for the log (a note signer); this module only
//! derives the raw Ed25519 key from it, so a node has exactly one identity.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use comity_tlog::note::{NoteError, Signer};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde_json::Value;

pub mod rotation;
pub mod signed;

/// The prefix of a public key's text form.
const PREFIX: &str = "ed25519:";

/// The 32-byte Ed25519 seed inside a note signer's secret text
/// (`PRIVATE+KEY+<name>+<hex id>+<base64 of type byte and seed>`).
pub(crate) fn seed_of(signer: &Signer) -> Result<[u8; 32], NoteError> {
    let secret = signer.to_secret_string();
    // Names hold no '+'; base64 may.
    let material = secret.splitn(5, '+').nth(4).unwrap_or_default();
    let raw = BASE64
        .decode(material)
        .map_err(|_| NoteError::MalformedKey("key material is not base64"))?;
    raw.get(1..33)
        .and_then(|s| s.try_into().ok())
        .ok_or(NoteError::MalformedKey("Ed25519 seed must be 32 bytes"))
}

/// The node's signing key.
#[derive(Clone)]
pub struct NodeKey {
    key: SigningKey,
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeKey({})", self.public_key())
    }
}

impl NodeKey {
    /// The identity key behind the node's log signer.
    pub fn from_log_signer(signer: &Signer) -> Result<NodeKey, NoteError> {
        Ok(NodeKey {
            key: SigningKey::from_bytes(&seed_of(signer)?),
        })
    }

    /// Its public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.key.verifying_key())
    }

    /// A base64 Ed25519 signature over the canonical JSON of `document`.
    pub fn sign(&self, document: &Value) -> String {
        let bytes = comity_stix::canonical_json(document);
        BASE64.encode(self.key.sign(bytes.as_bytes()).to_bytes())
    }

    /// The 32-byte Ed25519 seed, from which the node's encryption key is derived (see
    /// [`crate::federation::seal::OpeningKey::of`]).
    pub(crate) fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// A raw Ed25519 signature over `message` (for HTTP message signatures).
    pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

/// A member's pinned public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

/// Why a key or a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key text is not `ed25519:` and 32 bytes of base64.
    #[error("a public key is written ed25519:<base64 of 32 bytes>")]
    MalformedKey,
    /// The signature text is not 64 bytes of base64.
    #[error("a signature is 64 bytes of base64")]
    MalformedSignature,
    /// The signature does not match the document and key.
    #[error("the signature does not match the document and the key {0}")]
    BadSignature(String),
}

impl PublicKey {
    /// This key as a C2SP note verifier named `name` (a log origin), of `kind`: a log's
    /// checkpoint key (Ed25519) or its cosignature key (cosignature/v1).
    pub fn note_verifier(
        &self,
        name: &str,
        kind: comity_tlog::note::KeyKind,
    ) -> Result<comity_tlog::note::Verifier, NoteError> {
        comity_tlog::note::Verifier::new(name, kind, self.0)
    }

    /// The key a note verifier holds (whatever its name and kind).
    pub fn from_verifier(verifier: &comity_tlog::note::Verifier) -> PublicKey {
        PublicKey(*verifier.public_key())
    }

    /// Whether a note verifier holds this key (whatever its name and kind).
    pub fn is_key_of(&self, verifier: &comity_tlog::note::Verifier) -> bool {
        verifier.public_key() == &self.0
    }

    /// Checks a signature from [`NodeKey::sign`] over `document`.
    pub fn verify(&self, document: &Value, signature: &str) -> Result<(), KeyError> {
        let raw: [u8; 64] = BASE64
            .decode(signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(KeyError::MalformedSignature)?;
        let bytes = comity_stix::canonical_json(document);
        self.0
            .verify(bytes.as_bytes(), &Signature::from_bytes(&raw))
            .map_err(|_| KeyError::BadSignature(self.to_string()))
    }
}

impl PublicKey {
    /// Checks a raw Ed25519 signature from [`NodeKey::sign_bytes`] over `message`.
    pub fn verify_bytes(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), KeyError> {
        self.0
            .verify(message, &Signature::from_bytes(signature))
            .map_err(|_| KeyError::BadSignature(self.to_string()))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", BASE64.encode(self.0.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<PublicKey, KeyError> {
        let raw: [u8; 32] = s
            .strip_prefix(PREFIX)
            .and_then(|b| BASE64.decode(b).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or(KeyError::MalformedKey)?;
        VerifyingKey::from_bytes(&raw)
            .map(PublicKey)
            .map_err(|_| KeyError::MalformedKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use comity_tlog::note::KeyKind;
    use serde_json::json;

    fn key(seed: u8) -> NodeKey {
        let signer = Signer::new(
            "comity/test",
            KeyKind::Ed25519,
            SigningKey::from_bytes(&[seed; 32]),
        )
        .unwrap();
        NodeKey::from_log_signer(&signer).unwrap()
    }

    #[test]
    fn the_identity_key_is_the_log_key() {
        assert_eq!(
            key(7).public_key().0,
            SigningKey::from_bytes(&[7; 32]).verifying_key()
        );
    }

    #[test]
    fn signatures_verify_whatever_the_key_order_and_fail_when_tampered() {
        let k = key(1);
        let doc = json!({"b": 1, "a": ["x", "é"]});
        let sig = k.sign(&doc);
        let pk: PublicKey = k.public_key().to_string().parse().unwrap();
        assert_eq!(pk.verify(&json!({"a": ["x", "é"], "b": 1}), &sig), Ok(()));
        assert!(matches!(
            pk.verify(&json!({"a": ["x", "é"], "b": 2}), &sig),
            Err(KeyError::BadSignature(_))
        ));
        assert!(matches!(
            key(2).public_key().verify(&doc, &sig),
            Err(KeyError::BadSignature(_))
        ));
        assert_eq!(
            pk.verify(&doc, "not base64!"),
            Err(KeyError::MalformedSignature)
        );
        assert_eq!(pk.verify(&doc, "AAAA"), Err(KeyError::MalformedSignature));
    }

    #[test]
    fn malformed_public_keys_are_refused() {
        for bad in ["", "ed25519:", "ed25519:AAAA", "rsa:AAAA", "ed25519:!!!"] {
            assert_eq!(
                bad.parse::<PublicKey>(),
                Err(KeyError::MalformedKey),
                "{bad}"
            );
        }
    }
}
