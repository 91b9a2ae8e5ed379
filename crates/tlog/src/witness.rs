//! The C2SP `tlog-witness` protocol, pure part: the `add-checkpoint` request
//! body, and the decision a witness makes on it (cosign, or refuse with the
//! spec's status code). This module owns the order of the checks and the
//! state transition; it never does HTTP and never persists anything itself:
//! the caller supplies a [`WitnessState`] whose compare-and-swap is atomic.
//!
//! Status codes: 400 malformed (or old size above the checkpoint size, i.e.
//! sizes going backwards), 403 no valid signature from a trusted log key,
//! 404 unknown origin, 409 old size is not the size last cosigned (the body
//! is that size), 422 the proof or roots are inconsistent. A replayed request
//! gets 409 with the current size, unless it re-submits the very checkpoint
//! last cosigned (old size = size, same root), which is cosigned again without
//! changing the state.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt::Write as _;

use crate::checkpoint::{parse_decimal, Checkpoint};
use crate::hash::Hash;
use crate::note::{KeyKind, Note, NoteError, NoteSignature, Signer, Verifier, MAX_NOTE_SIZE};
use crate::proof::verify_consistency;
use crate::tree::TreeError;

/// Most consistency proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;

/// The `Content-Type` of a 409 response body.
pub const CONFLICT_CONTENT_TYPE: &str = "text/x.tlog.size";

/// Why a witness refused a request; [`WitnessError::status`] gives the HTTP code.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The request body breaks the add-checkpoint syntax (400).
    #[error("malformed add-checkpoint request: {0}")]
    Malformed(&'static str),
    /// The checkpoint note or text is malformed (400).
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(#[source] NoteError),
    /// The old size is larger than the checkpoint size (400).
    #[error("old size {old} is larger than the checkpoint size {size}")]
    SizeGoesBackwards {
        /// The old size in the request.
        old: u64,
        /// The checkpoint size.
        size: u64,
    },
    /// The witness does not know the checkpoint's origin (404).
    #[error("unknown log origin {0:?}")]
    UnknownOrigin(String),
    /// No valid signature from a trusted key of the log, or a bad one (403).
    #[error("checkpoint signature refused: {0}")]
    Forbidden(#[source] NoteError),
    /// The old size is not the size the witness last cosigned (409).
    #[error("old size {old} does not match the latest cosigned size {known_size}")]
    Conflict {
        /// The old size in the request.
        old: u64,
        /// The size the witness last cosigned (0 if none).
        known_size: u64,
    },
    /// The checkpoint is not consistent with the one last cosigned (422).
    #[error("checkpoint is inconsistent with the latest cosigned one: {reason}")]
    Inconsistent {
        /// What failed.
        #[source]
        reason: TreeError,
        /// The latest cosigned checkpoint, as evidence when it is a fork.
        latest: Option<Box<WitnessedCheckpoint>>,
    },
    /// The witness state could not be read or written (500).
    #[error("witness state failed")]
    State(#[source] Box<dyn StdError + Send + Sync>),
    /// The witness could not produce its cosignature, e.g. a bad clock (500).
    #[error("cosigning failed: {0}")]
    Cosign(#[source] NoteError),
}

impl WitnessError {
    /// The HTTP status code tlog-witness prescribes for this refusal.
    pub fn status(&self) -> u16 {
        match self {
            WitnessError::Malformed(_)
            | WitnessError::MalformedCheckpoint(_)
            | WitnessError::SizeGoesBackwards { .. } => 400,
            WitnessError::Forbidden(_) => 403,
            WitnessError::UnknownOrigin(_) => 404,
            WitnessError::Conflict { .. } => 409,
            WitnessError::Inconsistent { .. } => 422,
            WitnessError::State(_) | WitnessError::Cosign(_) => 500,
        }
    }

    /// The response body: for 409 the known size and a newline (content type
    /// [`CONFLICT_CONTENT_TYPE`]), otherwise the error text and a newline.
    pub fn response_body(&self) -> String {
        match self {
            WitnessError::Conflict { known_size, .. } => format!("{known_size}\n"),
            other => format!("{other}\n"),
        }
    }

    /// Wraps a failure of a [`WitnessState`] implementation.
    pub fn state(err: impl StdError + Send + Sync + 'static) -> WitnessError {
        WitnessError::State(Box::new(err))
    }
}

/// A parsed `add-checkpoint` request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the client believes the witness has.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

impl AddCheckpoint {
    /// Parses a request body: `old N`, proof lines, an empty line, the
    /// signed checkpoint.
    pub fn parse(body: &[u8]) -> Result<AddCheckpoint, WitnessError> {
        let bad = WitnessError::Malformed;
        if body.len() > MAX_NOTE_SIZE + (MAX_PROOF_LINES + 1) * 64 {
            return Err(bad("request body too large"));
        }
        let body = std::str::from_utf8(body).map_err(|_| bad("body is not UTF-8"))?;
        let (first, mut rest) = body.split_once('\n').ok_or(bad("missing old size line"))?;
        let old_size = first
            .strip_prefix("old ")
            .and_then(parse_decimal)
            .ok_or(bad("first line must be `old` and a decimal size"))?;
        let mut proof = Vec::new();
        loop {
            let (line, tail) = rest
                .split_once('\n')
                .ok_or(bad("missing empty line before the checkpoint"))?;
            rest = tail;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad("more than 63 consistency proof lines"));
            }
            proof
                .push(Hash::from_base64(line).map_err(|_| bad("proof line is not a base64 hash"))?);
        }
        Ok(AddCheckpoint {
            old_size,
            proof,
            checkpoint: rest.to_owned(),
        })
    }

    /// The request body, for a log submitting to a witness.
    pub fn to_body(&self) -> String {
        let mut out = format!("old {}\n", self.old_size);
        for h in &self.proof {
            let _ = writeln!(out, "{h}");
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }
}

/// A tree size and root hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHead {
    /// The tree size.
    pub size: u64,
    /// The root hash.
    pub root: Hash,
}

/// What a witness keeps per origin: the latest checkpoint it cosigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessedCheckpoint {
    /// Its size and root.
    pub head: TreeHead,
    /// The checkpoint note with the log signatures the witness verified and
    /// the witness's own cosignatures, as served to monitors.
    pub note: String,
}

/// The witness's persisted state: the latest cosigned checkpoint per origin.
///
/// Implementations must make [`WitnessState::compare_and_swap`] atomic (e.g.
/// one SQL `UPDATE … WHERE size = ? AND root = ?`, or an insert that fails on
/// an existing row when `expected` is `None`), so two concurrent requests
/// cannot roll the state back.
pub trait WitnessState {
    /// The latest cosigned checkpoint for `origin`, if any.
    fn latest(&self, origin: &str) -> Result<Option<WitnessedCheckpoint>, WitnessError>;

    /// Replaces the latest checkpoint of `origin` by `new` if the current one
    /// still has head `expected` (`None`: there is none yet). Returns `false`,
    /// changing nothing, when another request got there first.
    fn compare_and_swap(
        &mut self,
        origin: &str,
        expected: Option<TreeHead>,
        new: WitnessedCheckpoint,
    ) -> Result<bool, WitnessError>;
}

/// A witness: its cosigning keys and the logs (origin → keys) it trusts.
#[derive(Debug, Clone)]
pub struct Witness {
    signers: Vec<Signer>,
    logs: HashMap<String, Vec<Verifier>>,
}

impl Witness {
    /// A witness cosigning with `signers`, all cosignature (type 0x04) keys.
    pub fn new(signers: Vec<Signer>) -> Result<Witness, NoteError> {
        if let Some(s) = signers.iter().find(|s| s.kind() != KeyKind::CosignatureV1) {
            return Err(s.wrong_kind());
        }
        Ok(Witness {
            signers,
            logs: HashMap::new(),
        })
    }

    /// Trusts the log `origin` with its Ed25519 note keys.
    pub fn trust_log(&mut self, origin: &str, keys: Vec<Verifier>) -> Result<(), NoteError> {
        if let Some(k) = keys.iter().find(|k| k.kind() != KeyKind::Ed25519) {
            return Err(NoteError::WrongKeyKind {
                name: k.name().to_owned(),
                kind: k.kind(),
            });
        }
        self.logs.insert(origin.to_owned(), keys);
        Ok(())
    }

    /// Handles an `add-checkpoint` body at time `now` (POSIX seconds, not 0):
    /// returns the cosignature lines to send with 200, after `state` recorded
    /// the new checkpoint.
    pub fn add_checkpoint(
        &self,
        body: &[u8],
        state: &mut impl WitnessState,
        now: u64,
    ) -> Result<String, WitnessError> {
        let req = AddCheckpoint::parse(body)?;
        let parsed =
            Note::parse(req.checkpoint.as_bytes()).map_err(WitnessError::MalformedCheckpoint)?;
        let checkpoint =
            Checkpoint::parse(&parsed.text).map_err(WitnessError::MalformedCheckpoint)?;
        let keys = self
            .logs
            .get(&checkpoint.origin)
            .ok_or_else(|| WitnessError::UnknownOrigin(checkpoint.origin.clone()))?;
        let opened =
            Note::open(req.checkpoint.as_bytes(), keys).map_err(WitnessError::Forbidden)?;
        let head = TreeHead {
            size: checkpoint.size,
            root: checkpoint.root,
        };
        if req.old_size > head.size {
            return Err(WitnessError::SizeGoesBackwards {
                old: req.old_size,
                size: head.size,
            });
        }
        let latest = state.latest(&checkpoint.origin)?;
        let known = latest.as_ref().map(|w| w.head);
        let known_size = known.map_or(0, |k| k.size);
        if req.old_size != known_size {
            return Err(WitnessError::Conflict {
                old: req.old_size,
                known_size,
            });
        }
        let old_root = known.map_or_else(Hash::empty_root, |k| k.root);
        let inconsistent = |reason| WitnessError::Inconsistent {
            reason,
            latest: latest.clone().map(Box::new),
        };
        if head.size == 0 && head.root != Hash::empty_root() {
            return Err(inconsistent(TreeError::BadEmptyRoot));
        }
        verify_consistency(&req.proof, req.old_size, head.size, &old_root, &head.root)
            .map_err(inconsistent)?;

        if now == 0 {
            // tlog-witness: the cosignature timestamp MUST NOT be zero.
            return Err(WitnessError::Cosign(NoteError::BadTimestamp(now)));
        }
        let cosignatures: Vec<NoteSignature> = self
            .signers
            .iter()
            .map(|s| s.cosign(&opened.text, now))
            .collect::<Result<_, _>>()
            .map_err(WitnessError::Cosign)?;
        let mut kept = Note {
            text: opened.text,
            signatures: opened.verified.into_iter().map(|v| v.signature).collect(),
        };
        kept.signatures.extend(cosignatures.iter().cloned());
        let new = WitnessedCheckpoint {
            head,
            note: kept.to_string(),
        };
        if !state.compare_and_swap(&checkpoint.origin, known, new)? {
            let now_known = state.latest(&checkpoint.origin)?.map_or(0, |w| w.head.size);
            return Err(WitnessError::Conflict {
                old: req.old_size,
                known_size: now_known,
            });
        }
        Ok(cosignatures.iter().map(NoteSignature::to_line).collect())
    }
}
