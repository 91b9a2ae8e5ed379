//! C2SP `signed-note` (and Go's `golang.org/x/mod/sumdb/note`): signer and
//! verifier keys, their text encodings, key ids, and parsing, signing and
//! opening of signed notes. This module owns the note syntax and the Ed25519
//! note signature (type 0x01); the cosignature (type 0x04) message lives in
//! [`crate::cosignature`]. It never decides which keys to trust: callers pass
//! the verifiers they trust.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

/// Most signatures a note may carry; the spec asks verifiers to accept at
/// least 16. More is [`NoteError::TooManySignatures`].
pub const MAX_SIGNATURES: usize = 100;

/// Largest note accepted, in bytes. Larger is [`NoteError::TooLarge`].
pub const MAX_NOTE_SIZE: usize = 1 << 20;

/// The separator at the start of a signature line: em dash, space.
const SIG_PREFIX: &str = "\u{2014} ";

/// Errors of notes, keys, checkpoints and cosignatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note exceeds [`MAX_NOTE_SIZE`].
    #[error("note is {0} bytes; the limit is {MAX_NOTE_SIZE}")]
    TooLarge(usize),
    /// The note breaks the signed-note syntax.
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    /// A signature line breaks the syntax.
    #[error("malformed signature line {line}: {reason}")]
    MalformedSignature {
        /// One-based signature line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("note has {0} signatures; the limit is {MAX_SIGNATURES}")]
    TooManySignatures(usize),
    /// A key name that is empty or holds a space or a plus sign.
    #[error("invalid key name {0:?}: must be non-empty without spaces or '+'")]
    BadKeyName(String),
    /// A verifier or signer key string that cannot be decoded.
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    /// A key string whose id does not match its name and key material.
    #[error("key id {got:08x} does not match the key (want {want:08x})")]
    KeyIdMismatch {
        /// Id written in the key string.
        got: u32,
        /// Id computed from name, type and key.
        want: u32,
    },
    /// A key of a signature type this crate does not handle.
    #[error("unsupported signature type 0x{0:02x}")]
    UnsupportedKeyType(u8),
    /// A signer asked to sign in a way its key type does not allow.
    #[error("key {name} is a {kind} key and cannot make this signature")]
    WrongKeyKind {
        /// Key name.
        name: String,
        /// Its kind.
        kind: KeyKind,
    },
    /// Two trusted verifiers share both name and key id.
    #[error("ambiguous key {name}+{id:08x}: several trusted verifiers match")]
    AmbiguousKey {
        /// Key name.
        name: String,
        /// Key id.
        id: u32,
    },
    /// A signature from a trusted key does not verify.
    #[error("invalid signature for key {name}+{id:08x}")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key id.
        id: u32,
    },
    /// No signature from any trusted key.
    #[error("note has no signature from a trusted key (signed by: {signers})")]
    NoTrustedSignature {
        /// The signers seen, as `name+id`, comma separated.
        signers: String,
    },
    /// A checkpoint whose only verified signatures are cosignatures: nothing
    /// shows the log itself signed it.
    #[error("checkpoint has no valid signature from the log's own key")]
    NoLogSignature,
    /// The note text is not a valid checkpoint.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// A checkpoint whose origin is not the one expected.
    #[error("checkpoint origin {got:?} is not the expected {want:?}")]
    WrongOrigin {
        /// Origin in the checkpoint.
        got: String,
        /// Origin expected.
        want: String,
    },
    /// A cosignature timestamp above 2^63 - 1.
    #[error("cosignature timestamp {0} exceeds 2^63 - 1")]
    BadTimestamp(u64),
}

/// The signature types this crate signs and verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// Type 0x01: an Ed25519 signature over the note text (signed-note).
    Ed25519,
    /// Type 0x04: a timestamped Ed25519 checkpoint cosignature (tlog-cosignature v1).
    CosignatureV1,
}

impl KeyKind {
    /// The signature type byte of the kind.
    pub fn type_byte(self) -> u8 {
        match self {
            KeyKind::Ed25519 => 0x01,
            KeyKind::CosignatureV1 => 0x04,
        }
    }

    fn from_type_byte(b: u8) -> Result<KeyKind, NoteError> {
        match b {
            0x01 => Ok(KeyKind::Ed25519),
            0x04 => Ok(KeyKind::CosignatureV1),
            other => Err(NoteError::UnsupportedKeyType(other)),
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyKind::Ed25519 => "Ed25519 note",
            KeyKind::CosignatureV1 => "cosignature/v1",
        })
    }
}

/// The key id: the first four bytes, big-endian, of
/// SHA-256(name ‖ 0x0A ‖ type ‖ public key).
pub fn key_id(name: &str, kind: KeyKind, public_key: &[u8; 32]) -> u32 {
    let mut h = ring::digest::Context::new(&ring::digest::SHA256);
    h.update(name.as_bytes());
    h.update(&[b'\n', kind.type_byte()]);
    h.update(public_key);
    let d = h.finish();
    let d = d.as_ref();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(NoteError::BadKeyName(name.to_owned()));
    }
    Ok(())
}

/// Splits `name+hexid+base64` and checks name and id syntax.
fn split_key(text: &str) -> Result<(&str, u32, Vec<u8>), NoteError> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::MalformedKey("want name+hexid+base64"));
    };
    check_key_name(name)?;
    if id.len() != 8
        || !id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(NoteError::MalformedKey(
            "key id must be 8 lowercase hex digits",
        ));
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| NoteError::MalformedKey("bad key id"))?;
    let key = BASE64
        .decode(key)
        .map_err(|_| NoteError::MalformedKey("key material is not standard base64"))?;
    Ok((name, id, key))
}

/// A public key trusted to verify note signatures, with its name and id.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    id: u32,
    kind: KeyKind,
    key: VerifyingKey,
}

impl Verifier {
    /// A verifier for `key` under `name`; the id is computed.
    pub fn new(name: &str, kind: KeyKind, key: VerifyingKey) -> Result<Verifier, NoteError> {
        check_key_name(name)?;
        Ok(Verifier {
            id: key_id(name, kind, key.as_bytes()),
            name: name.to_owned(),
            kind,
            key,
        })
    }

    /// Parses a verifier key string `name+hexid+base64(type ‖ public key)`.
    pub fn parse(vkey: &str) -> Result<Verifier, NoteError> {
        let (name, id, material) = split_key(vkey)?;
        let (&type_byte, public) = material
            .split_first()
            .ok_or(NoteError::MalformedKey("empty key material"))?;
        let kind = KeyKind::from_type_byte(type_byte)?;
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| NoteError::MalformedKey("Ed25519 public key must be 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| NoteError::MalformedKey("not an Ed25519 public key"))?;
        let verifier = Verifier::new(name, kind, key)?;
        if verifier.id != id {
            return Err(NoteError::KeyIdMismatch {
                got: id,
                want: verifier.id,
            });
        }
        Ok(verifier)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The signature type.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Checks `signature` (the bytes after the key id) over `text`. Returns
    /// the cosignature timestamp for cosignature keys, `None` for note keys.
    fn verify(&self, text: &str, signature: &[u8]) -> Result<Option<u64>, ()> {
        match self.kind {
            KeyKind::Ed25519 => {
                let sig = Signature::from_slice(signature).map_err(|_| ())?;
                self.key
                    .verify_strict(text.as_bytes(), &sig)
                    .map_err(|_| ())?;
                Ok(None)
            }
            KeyKind::CosignatureV1 => {
                crate::cosignature::verify(&self.key, text, signature).map(Some)
            }
        }
    }
}

/// The verifier key string `name+hexid+base64(type ‖ public key)`.
impl fmt::Display for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut material = vec![self.kind.type_byte()];
        material.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.id,
            BASE64.encode(material)
        )
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Verifier({self})")
    }
}

/// A private key that signs notes (or cosigns checkpoints), with its name and id.
#[derive(Clone)]
pub struct Signer {
    name: String,
    id: u32,
    kind: KeyKind,
    key: SigningKey,
}

impl Signer {
    /// A signer for `key` under `name`. For a fresh key, pass
    /// `SigningKey::from_bytes(&seed)` with 32 bytes from a CSPRNG.
    pub fn new(name: &str, kind: KeyKind, key: SigningKey) -> Result<Signer, NoteError> {
        check_key_name(name)?;
        Ok(Signer {
            id: key_id(name, kind, key.verifying_key().as_bytes()),
            name: name.to_owned(),
            kind,
            key,
        })
    }

    /// Parses a signer key string `PRIVATE+KEY+name+hexid+base64(type ‖ seed)`,
    /// the format of Go's `sumdb/note`.
    pub fn parse(skey: &str) -> Result<Signer, NoteError> {
        let rest = skey
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::MalformedKey(
                "signer key must start with PRIVATE+KEY+",
            ))?;
        let (name, id, material) = split_key(rest)?;
        let (&type_byte, seed) = material
            .split_first()
            .ok_or(NoteError::MalformedKey("empty key material"))?;
        let kind = KeyKind::from_type_byte(type_byte)?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| NoteError::MalformedKey("Ed25519 seed must be 32 bytes"))?;
        let signer = Signer::new(name, kind, SigningKey::from_bytes(&seed))?;
        if signer.id != id {
            return Err(NoteError::KeyIdMismatch {
                got: id,
                want: signer.id,
            });
        }
        Ok(signer)
    }

    /// The signer key string. It holds the private key: store it as a secret.
    pub fn to_secret_string(&self) -> String {
        let mut material = vec![self.kind.type_byte()];
        material.extend_from_slice(&self.key.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            BASE64.encode(material)
        )
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            id: self.id,
            kind: self.kind,
            key: self.key.verifying_key(),
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The signature type.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    pub(crate) fn wrong_kind(&self) -> NoteError {
        NoteError::WrongKeyKind {
            name: self.name.clone(),
            kind: self.kind,
        }
    }

    /// Signs a note text with an Ed25519 note key (type 0x01).
    pub fn sign(&self, text: &str) -> Result<NoteSignature, NoteError> {
        if self.kind != KeyKind::Ed25519 {
            return Err(self.wrong_kind());
        }
        check_text(text)?;
        use ed25519_dalek::Signer as _;
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.id,
            signature: self.key.sign(text.as_bytes()).to_bytes().to_vec(),
        })
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({})", self.verifier())
    }
}

/// One signature line of a note: key name, key id and signature bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key id (the first four bytes of the encoded signature).
    pub key_id: u32,
    /// The signature proper, after the key id.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, `— name base64(id ‖ signature)` and a newline.
    pub fn to_line(&self) -> String {
        let mut raw = self.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, BASE64.encode(raw))
    }

    /// Parses one signature line without its newline; `line` numbers errors.
    pub fn parse_line(text: &str, line: usize) -> Result<NoteSignature, NoteError> {
        let bad = |reason| NoteError::MalformedSignature { line, reason };
        let rest = text
            .strip_prefix(SIG_PREFIX)
            .ok_or(bad("must start with an em dash and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(bad("want name, space, base64"))?;
        check_key_name(name).map_err(|_| bad("invalid key name"))?;
        let raw = BASE64
            .decode(b64)
            .map_err(|_| bad("signature is not standard base64"))?;
        if raw.len() < 5 {
            return Err(bad("signature shorter than a key id and one byte"));
        }
        Ok(NoteSignature {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
            signature: raw[4..].to_vec(),
        })
    }
}

/// Checks a note text: non-empty, newline-terminated, no control characters
/// but newlines, and no empty last line.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::Malformed(
            "text must be non-empty and end in a newline",
        ));
    }
    if text.starts_with('\n') || text.ends_with("\n\n") {
        return Err(NoteError::Malformed(
            "text must not start or end with an empty line",
        ));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed("control character in text"));
    }
    Ok(())
}

/// A parsed, not yet verified, signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The text, ending in a newline, without the blank separator line.
    pub text: String,
    /// The signatures, in order.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses the syntax of a signed note; verifies nothing.
    pub fn parse(msg: &[u8]) -> Result<Note, NoteError> {
        if msg.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge(msg.len()));
        }
        let msg = std::str::from_utf8(msg).map_err(|_| NoteError::Malformed("not UTF-8"))?;
        if msg.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::Malformed("control character in note"));
        }
        if !msg.ends_with('\n') {
            return Err(NoteError::Malformed("note must end in a newline"));
        }
        let split = msg
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let (text, sigs) = (&msg[..=split], &msg[split + 2..]);
        check_text(text)?;
        let lines: Vec<&str> = sigs.split_terminator('\n').collect();
        if lines.is_empty() {
            return Err(NoteError::Malformed("note has no signatures"));
        }
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures(lines.len()));
        }
        let signatures = lines
            .iter()
            .enumerate()
            .map(|(i, l)| NoteSignature::parse_line(l, i + 1))
            .collect::<Result<_, _>>()?;
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Signs `text` with every signer, giving a note ready to serialize.
    pub fn sign(text: &str, signers: &[&Signer]) -> Result<Note, NoteError> {
        check_text(text)?;
        let signatures = signers
            .iter()
            .map(|s| s.sign(text))
            .collect::<Result<_, _>>()?;
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Parses and verifies a note against the trusted `verifiers`.
    ///
    /// Signatures from unknown keys are kept as unverified; a signature from a
    /// trusted key that fails rejects the note; at least one trusted signature
    /// must verify. Identical repeated signature lines count once.
    pub fn open(msg: &[u8], verifiers: &[Verifier]) -> Result<VerifiedNote, NoteError> {
        let note = Note::parse(msg)?;
        let mut verified: Vec<VerifiedSignature> = Vec::new();
        let mut unverified: Vec<NoteSignature> = Vec::new();
        for sig in note.signatures {
            if verified.iter().any(|v| v.signature == sig) || unverified.contains(&sig) {
                continue;
            }
            let mut matching = verifiers
                .iter()
                .filter(|v| v.name == sig.name && v.id == sig.key_id);
            let Some(verifier) = matching.next() else {
                unverified.push(sig);
                continue;
            };
            if matching.any(|other| other != verifier) {
                return Err(NoteError::AmbiguousKey {
                    name: sig.name,
                    id: sig.key_id,
                });
            }
            match verifier.verify(&note.text, &sig.signature) {
                Ok(timestamp) => verified.push(VerifiedSignature {
                    kind: verifier.kind,
                    timestamp,
                    signature: sig,
                }),
                Err(()) => {
                    return Err(NoteError::InvalidSignature {
                        name: sig.name,
                        id: sig.key_id,
                    })
                }
            }
        }
        if verified.is_empty() {
            let signers: Vec<String> = unverified
                .iter()
                .map(|s| format!("{}+{:08x}", s.name, s.key_id))
                .collect();
            return Err(NoteError::NoTrustedSignature {
                signers: signers.join(", "),
            });
        }
        Ok(VerifiedNote {
            text: note.text,
            verified,
            unverified,
        })
    }
}

/// The serialized note: text, blank line, signature lines.
impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for s in &self.signatures {
            f.write_str(&s.to_line())?;
        }
        Ok(())
    }
}

/// A signature that verified against a trusted key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// The signature line.
    pub signature: NoteSignature,
    /// The kind of the key that verified it.
    pub kind: KeyKind,
    /// The cosignature timestamp, for cosignatures.
    pub timestamp: Option<u64>,
}

/// A note whose trusted signatures all verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The note text.
    pub text: String,
    /// The signatures from trusted keys, all valid.
    pub verified: Vec<VerifiedSignature>,
    /// The signatures from unknown keys, unchecked.
    pub unverified: Vec<NoteSignature>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_with_plus_or_space_are_refused() {
        for bad in ["", "a+b", "a b", "a\u{00a0}b"] {
            assert!(
                matches!(check_key_name(bad), Err(NoteError::BadKeyName(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn notes_without_signatures_or_trailing_newline_are_malformed() {
        assert!(Note::parse(b"hello\n").is_err());
        assert!(Note::parse(b"hello\n\n").is_err());
        assert!(Note::parse(b"hello\n\n\xe2\x80\x94 a AAAAAAA=").is_err());
        assert!(matches!(
            Note::parse(&vec![b'a'; MAX_NOTE_SIZE + 1]),
            Err(NoteError::TooLarge(_))
        ));
    }
}
