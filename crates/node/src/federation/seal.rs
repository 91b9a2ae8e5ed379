//! Sealed envelope bodies: what an envelope of a [sealed kind](is_sealed) carries
//! (intelligence, sightings, cooperation request events, attachments, governance acts) is
//! encrypted to the receiving node with HPKE (RFC 9180, base mode):
//! DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305.
//!
//! - Each node's X25519 key pair is derived from its identity key with the RFC 9180
//!   `DeriveKeyPair` of the suite (input: a fixed label and the Ed25519 seed), so it lives
//!   in `node.key` with the identity, is backed up and restored with it, and a node made
//!   before sealing existed has one as soon as it starts. Its public half is published in
//!   the node's signed member record as `encryption_key` (`x25519:<base64>`).
//! - The HPKE `info` binds a sealed body to its envelope: the sender, the receiver, the
//!   kind and the envelope id (unique, the receiver's key of deduplication; the sequence
//!   number is given by the store when the sealed entry is appended, so it cannot be bound
//!   before), so a sealed body moved into another envelope does not open.
//! - A body is sealed when its envelope is queued: the outbox holds
//!   `{"keep": SEALED, "sealed": SEALED}`, `keep` sealed to the sending node itself (so the
//!   policy can be applied again as it leaves, and what waits for a peer whose key is not
//!   known yet is kept), `sealed` to the receiver (absent while its key is unknown).
//! - On the wire the body is `{"sealed": {"enc": B64, "ct": B64}}`; the envelope's signature
//!   covers those bytes (signing comes after sealing), the receiver checks the signature,
//!   then opens. Everything else in the envelope (version, id, sender, receiver, kind,
//!   time, sequence number, signature) is visible metadata.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use comity_stix::clock::now_us;
use comity_store::{OutboxEntry, OutboxItem, OutboxKind, Store};
use hpke::{Deserializable as _, Kem as _, OpModeR, OpModeS, Serializable as _};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::envelope::{Envelope, Kind};
use crate::identity::NodeKey;
use crate::registry::{Directory, Federation, Member, RegistryError};

type SuiteKem = hpke::kem::X25519HkdfSha256;
type SuiteKdf = hpke::kdf::HkdfSha256;
type SuiteAead = hpke::aead::ChaCha20Poly1305;

/// The prefix of an encryption key's text form.
const KEY_PREFIX: &str = "x25519:";
/// What the X25519 key pair is derived from, before the identity seed.
const DERIVATION_LABEL: &[u8] = b"comity envelope sealing key v1";
/// The start of every HPKE `info`: the sealed-body format.
const INFO_LABEL: &str = "comity-sealed-body/v1";

/// Whether envelopes of `kind` travel sealed: everything that carries intelligence,
/// requests, ballots or attachments. Checkpoints, cosignatures, receipts, pulls and
/// agreements are not secret between members and travel as they are.
pub fn is_sealed(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::StixObjects | Kind::Sighting | Kind::Request | Kind::Attachment | Kind::Governance
    )
}

/// A node's public encryption key, written `x25519:<base64 of 32 bytes>`.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptionKey(<SuiteKem as hpke::Kem>::PublicKey);

impl fmt::Display for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{KEY_PREFIX}{}", BASE64.encode(self.0.to_bytes()))
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptionKey({self})")
    }
}

/// Why an encryption key's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an encryption key is written x25519:<base64 of 32 bytes>")]
pub struct MalformedKey;

impl FromStr for EncryptionKey {
    type Err = MalformedKey;
    fn from_str(s: &str) -> Result<EncryptionKey, MalformedKey> {
        let raw = s
            .strip_prefix(KEY_PREFIX)
            .and_then(|b| BASE64.decode(b).ok())
            .filter(|b| b.len() == 32)
            .ok_or(MalformedKey)?;
        <SuiteKem as hpke::Kem>::PublicKey::from_bytes(&raw)
            .map(EncryptionKey)
            .map_err(|_| MalformedKey)
    }
}

/// A node's secret encryption key (derived from its identity key), which opens what is
/// sealed to it.
pub struct OpeningKey {
    secret: <SuiteKem as hpke::Kem>::PrivateKey,
    public: EncryptionKey,
}

impl fmt::Debug for OpeningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpeningKey({})", self.public)
    }
}

impl OpeningKey {
    /// The encryption key pair of the node whose identity key is `key`.
    pub fn of(key: &NodeKey) -> OpeningKey {
        let mut ikm = DERIVATION_LABEL.to_vec();
        ikm.extend_from_slice(&key.seed());
        let (secret, public) = SuiteKem::derive_keypair(&ikm);
        OpeningKey {
            secret,
            public: EncryptionKey(public),
        }
    }

    /// Its public half, as the member record publishes it.
    pub fn public_key(&self) -> &EncryptionKey {
        &self.public
    }
}

/// Why a body could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The receiver's pinned record publishes no encryption key: nothing sealed leaves for
    /// it, and nothing leaves unsealed.
    #[error(
        "member {0} has no encryption key in its pinned record: sealed envelopes wait until \
         its record with an encryption key is pinned (`comity member update --from FILE`, \
         FILE written by its node); nothing is sent unsealed"
    )]
    NoRecipientKey(String),
    /// HPKE failed to seal.
    #[error("sealing failed: {0}")]
    Seal(String),
    /// An envelope of a sealed kind whose body is not `{"sealed": {"enc", "ct"}}`.
    #[error("the body of a {kind} envelope must be sealed to this node, {{\"sealed\": {{\"enc\": ..., \"ct\": ...}}}}: {why}")]
    NotSealed {
        /// The envelope's kind.
        kind: &'static str,
        /// What is wrong with the body.
        why: String,
    },
    /// The sealed body does not open.
    #[error(
        "the sealed body does not open with this node's key for this envelope: it was sealed \
         to another key or for another envelope, or changed on the way"
    )]
    DoesNotOpen,
    /// What opened is not a JSON body.
    #[error("the opened body is not JSON: {0}")]
    NotJson(String),
}

/// One HPKE ciphertext: the encapsulated key and the sealed bytes, each in base64, written
/// with its members in sorted order (`ct`, `enc`), so that a body re-serialised by a JSON
/// library that sorts keys keeps its bytes, and its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    /// The ciphertext with its 16-byte tag.
    pub ct: String,
    /// The encapsulated key (32 bytes).
    pub enc: String,
}

/// What a sealed body is bound to.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// The sender's member id.
    pub from: &'a str,
    /// The receiver's member id.
    pub to: &'a str,
    /// The envelope's kind.
    pub kind: Kind,
    /// The envelope's id.
    pub id: &'a str,
}

/// Who a sealed copy is for: the receiver, or the sending node itself (the outbox's copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Receiver,
    Sender,
}

impl Binding<'_> {
    /// The HPKE `info` for the copy read by `reader`: the format label, the reader, and the
    /// canonical JSON of the binding.
    fn info(&self, reader: Reader) -> Vec<u8> {
        let who = match reader {
            Reader::Receiver => "receiver",
            Reader::Sender => "sender-outbox",
        };
        let context = serde_json::json!({
            "from": self.from, "to": self.to, "kind": self.kind, "id": self.id,
        });
        format!(
            "{INFO_LABEL} {who} {}",
            comity_stix::canonical_json(&context)
        )
        .into_bytes()
    }
}

/// Seals `plaintext` to `key` for `binding`, read by `reader`.
fn seal(
    key: &EncryptionKey,
    binding: &Binding<'_>,
    reader: Reader,
    plaintext: &[u8],
) -> Result<Sealed, SealError> {
    let (enc, ct) = hpke::single_shot_seal::<SuiteAead, SuiteKdf, SuiteKem, _>(
        &OpModeS::Base,
        &key.0,
        &binding.info(reader),
        plaintext,
        b"",
        &mut rand::rngs::OsRng,
    )
    .map_err(|e| SealError::Seal(e.to_string()))?;
    Ok(Sealed {
        enc: BASE64.encode(enc.to_bytes()),
        ct: BASE64.encode(ct),
    })
}

/// Opens what was sealed to `key` for `binding`, read by `reader`.
fn open(
    key: &OpeningKey,
    binding: &Binding<'_>,
    reader: Reader,
    sealed: &Sealed,
) -> Result<Vec<u8>, SealError> {
    let enc = BASE64
        .decode(&sealed.enc)
        .ok()
        .and_then(|b| <SuiteKem as hpke::Kem>::EncappedKey::from_bytes(&b).ok())
        .ok_or(SealError::DoesNotOpen)?;
    let ct = BASE64
        .decode(&sealed.ct)
        .map_err(|_| SealError::DoesNotOpen)?;
    hpke::single_shot_open::<SuiteAead, SuiteKdf, SuiteKem>(
        &OpModeR::Base,
        &key.secret,
        &enc,
        &binding.info(reader),
        &ct,
        b"",
    )
    .map_err(|_| SealError::DoesNotOpen)
}

/// A body as it travels: `{"sealed": {...}}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireBody {
    sealed: Sealed,
}

/// A body as it waits in the outbox.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredBody {
    keep: Sealed,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<Sealed>,
}

/// Seals outbox entries as they are queued by one node: to the node itself (`keep`) and,
/// when its key is known, to the receiver (see the module documentation).
#[derive(Debug, Clone)]
pub struct Sealer {
    local: String,
    own: EncryptionKey,
    peers: Arc<HashMap<String, EncryptionKey>>,
}

impl Sealer {
    /// The sealer of node `local` (identity key `key`), with the members' keys as
    /// `federation` holds them.
    pub fn new(local: &str, key: &NodeKey, federation: &Federation) -> Sealer {
        Sealer {
            local: local.to_owned(),
            own: OpeningKey::of(key).public,
            peers: federation.encryption_keys.clone(),
        }
    }

    /// The sealer of the node of `store` (identity key `key`), with the keys its member
    /// records publish now.
    pub async fn load(store: &dyn Store, key: &NodeKey) -> Result<Sealer, RegistryError> {
        let members = Directory::new(store).members().await?;
        let local = members
            .iter()
            .find(|m| m.record.local)
            .map(|m| m.id.0.clone())
            .ok_or_else(|| RegistryError::Invalid("this node has no member record".into()))?;
        Ok(Sealer {
            local,
            own: OpeningKey::of(key).public,
            peers: Arc::new(keys_of(&members)),
        })
    }

    /// An outbox entry for `peer` of kind `kind` carrying `plaintext`, queued now: sealed
    /// when the kind is sealed, as it is otherwise.
    pub fn item(&self, peer: &str, kind: OutboxKind, plaintext: String) -> OutboxItem {
        let id = uuid::Uuid::new_v4().to_string();
        let body = match Kind::parse(kind.as_str()).filter(|k| is_sealed(*k)) {
            None => plaintext,
            Some(sealed_kind) => {
                let binding = Binding {
                    from: &self.local,
                    to: peer,
                    kind: sealed_kind,
                    id: &id,
                };
                // The node's own key is derived, never a small-order point: sealing to it
                // cannot fail.
                let keep = seal(&self.own, &binding, Reader::Sender, plaintext.as_bytes())
                    .expect("sealing to this node's own derived key");
                // A peer key that cannot be sealed to is treated as no key: the entry waits
                // with its own copy, and leaving says why.
                let sealed = self.peers.get(peer).and_then(|theirs| {
                    seal(theirs, &binding, Reader::Receiver, plaintext.as_bytes()).ok()
                });
                serde_json::to_string(&StoredBody { keep, sealed })
                    .expect("a stored body serialises")
            }
        };
        OutboxItem {
            id,
            kind,
            created_at: now_us(),
            body,
        }
    }
}

/// The body `entry` (queued by `local`, whose identity key is `key`) leaves with now:
/// the copy sealed to its receiver as queued when `recheck` leaves the plaintext as it
/// is not asked (`fresh`); otherwise the outbox's own copy is opened, passed through
/// `recheck` (the policy as it stands now) and sealed to the receiver again. An entry
/// queued before sealing existed (a plaintext body) is sealed as it leaves. Nothing of a
/// sealed kind ever leaves unsealed.
pub fn leaving_body(
    federation: &Federation,
    key: &NodeKey,
    local: &str,
    entry: &OutboxEntry,
    kind: Kind,
    fresh: bool,
    recheck: impl FnOnce(String) -> Result<String, super::QueuedError>,
) -> Result<String, super::QueuedError> {
    if !is_sealed(kind) {
        return Ok(entry.body.clone());
    }
    let binding = Binding {
        from: local,
        to: &entry.peer,
        kind,
        id: &entry.id,
    };
    let plaintext = match serde_json::from_str::<StoredBody>(&entry.body) {
        Ok(StoredBody {
            sealed: Some(sealed),
            ..
        }) if fresh => return Ok(wire(sealed)),
        Ok(StoredBody { keep, .. }) => {
            let opened = open(&OpeningKey::of(key), &binding, Reader::Sender, &keep)?;
            String::from_utf8(opened).map_err(|e| SealError::NotJson(e.to_string()))?
        }
        // Queued by a build that did not seal yet.
        Err(_) => entry.body.clone(),
    };
    let plaintext = recheck(plaintext)?;
    let theirs = federation
        .encryption_keys
        .get(&entry.peer)
        .ok_or_else(|| SealError::NoRecipientKey(entry.peer.clone()))?;
    Ok(wire(seal(
        theirs,
        &binding,
        Reader::Receiver,
        plaintext.as_bytes(),
    )?))
}

fn wire(sealed: Sealed) -> String {
    serde_json::to_string(&WireBody { sealed }).unwrap_or_default()
}

/// The received envelope `env` (signature checked) with its body opened by `key`, when
/// its kind is sealed; refused when such a body is not sealed, or does not open for this
/// envelope with this key.
pub fn open_received(env: &Envelope, key: &OpeningKey) -> Result<Box<RawValue>, SealError> {
    let wire: WireBody =
        serde_json::from_str(env.body.get()).map_err(|e| SealError::NotSealed {
            kind: env.kind.as_str(),
            why: e.to_string(),
        })?;
    let binding = Binding {
        from: &env.from,
        to: &env.to,
        kind: env.kind,
        id: &env.id,
    };
    let opened = open(key, &binding, Reader::Receiver, &wire.sealed)?;
    let text = String::from_utf8(opened).map_err(|e| SealError::NotJson(e.to_string()))?;
    RawValue::from_string(text).map_err(|e| SealError::NotJson(e.to_string()))
}

/// The encryption keys `members` publish, by member id; a key that does not parse is left
/// out (records are checked when pinned, so that is a damaged store).
pub fn keys_of(members: &[Member]) -> HashMap<String, EncryptionKey> {
    members
        .iter()
        .filter_map(|m| {
            let key = m.record.encryption_key.as_deref()?.parse().ok()?;
            Some((m.id.0.clone(), key))
        })
        .collect()
}

#[cfg(test)]
mod tests;

/// Helpers for tests that forge envelopes or read outboxes.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// `env` with its body (plaintext) sealed to the node whose identity key is `receiver`,
    /// as a sender seals it.
    pub(crate) fn sealed(mut env: Envelope, receiver: &NodeKey) -> Envelope {
        let binding = Binding {
            from: &env.from,
            to: &env.to,
            kind: env.kind,
            id: &env.id,
        };
        let sealed = seal(
            OpeningKey::of(receiver).public_key(),
            &binding,
            Reader::Receiver,
            env.body.get().as_bytes(),
        )
        .unwrap();
        env.body = RawValue::from_string(wire(sealed)).unwrap();
        env
    }

    /// The plaintext of an outbox entry queued by `local` (identity key `key`).
    pub(crate) fn plaintext(entry: &OutboxEntry, local: &str, key: &NodeKey) -> String {
        let kind = Kind::parse(entry.kind.as_str()).unwrap();
        let stored: StoredBody = serde_json::from_str(&entry.body).unwrap();
        let binding = Binding {
            from: local,
            to: &entry.peer,
            kind,
            id: &entry.id,
        };
        String::from_utf8(
            open(&OpeningKey::of(key), &binding, Reader::Sender, &stored.keep).unwrap(),
        )
        .unwrap()
    }

    /// `entry` (queued by `local`, identity key `key`) with its body replaced by
    /// `plaintext` sealed again as queuing seals it (to the sender and to `receiver`).
    pub(crate) fn resealed(
        mut entry: OutboxEntry,
        local: &str,
        key: &NodeKey,
        receiver: &NodeKey,
        plaintext: &str,
    ) -> OutboxEntry {
        let kind = Kind::parse(entry.kind.as_str()).unwrap();
        let binding = Binding {
            from: local,
            to: &entry.peer,
            kind,
            id: &entry.id,
        };
        let body = StoredBody {
            keep: seal(
                OpeningKey::of(key).public_key(),
                &binding,
                Reader::Sender,
                plaintext.as_bytes(),
            )
            .unwrap(),
            sealed: Some(
                seal(
                    OpeningKey::of(receiver).public_key(),
                    &binding,
                    Reader::Receiver,
                    plaintext.as_bytes(),
                )
                .unwrap(),
            ),
        };
        entry.body = serde_json::to_string(&body).unwrap();
        entry
    }
}
