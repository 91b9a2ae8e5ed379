//! Offline-verifiable proofs in the C2SP `tlog-proof@v1` text format: an entry
//! index, its inclusion proof and the (co)signed checkpoint, bundled so that
//! anyone holding the log and witness keys can check inclusion without asking
//! the log. This module owns the format and the verification policy; it never
//! computes leaf hashes of application data (the caller passes the leaf hash).

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::checkpoint::{parse_decimal, Checkpoint};
use crate::hash::Hash;
use crate::note::{KeyKind, NoteError, Verifier};
use crate::proof::verify_inclusion;
use crate::tree::TreeError;

/// The first line of every proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Most inclusion proof lines accepted (a tree of 2^64 leaves needs 64).
pub const MAX_PROOF_LINES: usize = 64;

/// Errors of offline proofs.
#[derive(Debug, thiserror::Error)]
pub enum OfflineProofError {
    /// The text breaks the tlog-proof syntax.
    #[error("malformed tlog-proof: {0}")]
    Malformed(&'static str),
    /// The checkpoint did not open under the trust policy.
    #[error("checkpoint refused: {0}")]
    Checkpoint(#[from] NoteError),
    /// The inclusion proof does not bind the entry to the checkpoint.
    #[error("inclusion proof refused: {0}")]
    Inclusion(#[from] TreeError),
    /// Fewer valid cosignatures from trusted witnesses than the policy needs.
    #[error("{got} valid witness cosignatures; the policy needs {want}")]
    TooFewCosignatures {
        /// Distinct trusted witnesses whose cosignature verified.
        got: usize,
        /// The policy's quorum.
        want: usize,
    },
}

/// Whom a verifier trusts: the log's origin and keys, witnesses and a quorum.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    /// The expected checkpoint origin.
    pub origin: String,
    /// The log's Ed25519 note keys.
    pub log_keys: Vec<Verifier>,
    /// The witnesses' cosignature keys.
    pub witnesses: Vec<Verifier>,
    /// How many distinct witnesses must have cosigned.
    pub min_cosignatures: usize,
}

/// A parsed `c2sp.org/tlog-proof@v1` proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Unauthenticated application data, if any.
    pub extra: Option<Vec<u8>>,
    /// The zero-based entry index.
    pub index: u64,
    /// The inclusion proof, leaf sibling first.
    pub inclusion: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

impl TlogProof {
    /// Parses the text form.
    pub fn parse(text: &[u8]) -> Result<TlogProof, OfflineProofError> {
        let bad = OfflineProofError::Malformed;
        let text = std::str::from_utf8(text).map_err(|_| bad("not UTF-8"))?;
        let mut rest = text
            .strip_prefix(HEADER)
            .and_then(|r| r.strip_prefix('\n'))
            .ok_or(bad("first line must be c2sp.org/tlog-proof@v1"))?;
        let mut next_line = || -> Result<&str, OfflineProofError> {
            let (line, tail) = rest
                .split_once('\n')
                .ok_or(bad("unexpected end of proof"))?;
            rest = tail;
            Ok(line)
        };
        let mut line = next_line()?;
        let extra = match line.strip_prefix("extra ") {
            Some(b64) => {
                let data = BASE64
                    .decode(b64)
                    .map_err(|_| bad("extra is not standard base64"))?;
                line = next_line()?;
                Some(data)
            }
            None => None,
        };
        let index = line
            .strip_prefix("index ")
            .and_then(parse_decimal)
            .ok_or(bad("want `index` and a decimal without leading zeroes"))?;
        let mut inclusion = Vec::new();
        loop {
            let line = next_line()?;
            if line.is_empty() {
                break;
            }
            if inclusion.len() == MAX_PROOF_LINES {
                return Err(bad("too many inclusion proof lines"));
            }
            inclusion
                .push(Hash::from_base64(line).map_err(|_| bad("proof line is not a base64 hash"))?);
        }
        Ok(TlogProof {
            extra,
            index,
            inclusion,
            checkpoint: rest.to_owned(),
        })
    }

    /// Verifies that the entry with leaf hash `leaf` is at [`TlogProof::index`]
    /// in a checkpoint signed by the log and cosigned by enough witnesses, per
    /// the verification steps of the spec. Returns the checkpoint.
    pub fn verify(
        &self,
        leaf: &Hash,
        policy: &TrustPolicy,
    ) -> Result<Checkpoint, OfflineProofError> {
        let keys: Vec<Verifier> = policy
            .log_keys
            .iter()
            .filter(|k| k.kind() == KeyKind::Ed25519)
            .chain(
                policy
                    .witnesses
                    .iter()
                    .filter(|k| k.kind() == KeyKind::CosignatureV1),
            )
            .cloned()
            .collect();
        let signed = Checkpoint::open(self.checkpoint.as_bytes(), &policy.origin, &keys)?;
        let mut cosigners: Vec<(&str, u32)> = signed
            .note
            .verified
            .iter()
            .filter(|v| v.kind == KeyKind::CosignatureV1)
            .map(|v| (v.signature.name.as_str(), v.signature.key_id))
            .collect();
        cosigners.sort_unstable();
        cosigners.dedup();
        if cosigners.len() < policy.min_cosignatures {
            return Err(OfflineProofError::TooFewCosignatures {
                got: cosigners.len(),
                want: policy.min_cosignatures,
            });
        }
        let cp = signed.checkpoint;
        verify_inclusion(&self.inclusion, self.index, cp.size, leaf, &cp.root)?;
        Ok(cp)
    }
}

/// The text form; store it with the extension `.tlog-proof`.
impl fmt::Display for TlogProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{HEADER}")?;
        if let Some(extra) = &self.extra {
            writeln!(f, "extra {}", BASE64.encode(extra))?;
        }
        writeln!(f, "index {}", self.index)?;
        for h in &self.inclusion {
            writeln!(f, "{h}")?;
        }
        writeln!(f)?;
        f.write_str(&self.checkpoint)
    }
}
