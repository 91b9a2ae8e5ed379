//! C2SP `tlog-checkpoint`: the note text naming a log's origin, tree size and
//! root hash, with optional extension lines; signing it and opening a signed
//! one. This module owns the checkpoint text format only; it never checks
//! consistency between checkpoints (see [`crate::proof`], [`crate::witness`]).

use std::fmt;

use crate::hash::Hash;
use crate::note::{KeyKind, Note, NoteError, Signer, VerifiedNote, Verifier};

/// A log's tree head as a checkpoint: origin, size, root hash, extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `comity.example/node-a`.
    pub origin: String,
    /// The number of entries in the tree.
    pub size: u64,
    /// The RFC 9162 root hash of the tree.
    pub root: Hash,
    /// Optional opaque extension lines (not recommended by the spec).
    pub extensions: Vec<String>,
}

/// Parses a decimal with no leading zeroes (except `0` itself).
pub(crate) fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return None;
    }
    text.parse().ok()
}

impl Checkpoint {
    /// Parses a checkpoint note text (ending in a newline, no signatures).
    pub fn parse(text: &str) -> Result<Checkpoint, NoteError> {
        let bad = NoteError::MalformedCheckpoint;
        let body = text
            .strip_suffix('\n')
            .ok_or(bad("text must end in a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or(bad("empty origin line"))?;
        let size = lines
            .next()
            .and_then(parse_decimal)
            .ok_or(bad("size line must be a decimal with no leading zeroes"))?;
        let root = lines
            .next()
            .and_then(|l| Hash::from_base64(l).ok())
            .ok_or(bad("root line must be the base64 of a 32-byte hash"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("extension lines must be non-empty"));
        }
        if text.chars().any(|c| c < ' ' && c != '\n') {
            return Err(bad("control character in checkpoint"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Signs the checkpoint with the log's Ed25519 note key.
    pub fn sign(&self, signer: &Signer) -> Result<Note, NoteError> {
        Note::sign(&self.to_string(), &[signer])
    }

    /// Parses and verifies a signed checkpoint for `origin`. At least one
    /// Ed25519 note signature from `verifiers` (the log's keys) must verify;
    /// cosignatures from `verifiers` are verified too and reported.
    pub fn open(
        msg: &[u8],
        origin: &str,
        verifiers: &[Verifier],
    ) -> Result<SignedCheckpoint, NoteError> {
        let note = Note::open(msg, verifiers)?;
        let checkpoint = Checkpoint::parse(&note.text)?;
        if checkpoint.origin != origin {
            return Err(NoteError::WrongOrigin {
                got: checkpoint.origin,
                want: origin.to_owned(),
            });
        }
        if !note.verified.iter().any(|v| v.kind == KeyKind::Ed25519) {
            return Err(NoteError::NoLogSignature);
        }
        Ok(SignedCheckpoint { checkpoint, note })
    }
}

/// The checkpoint note text, ending in a newline.
impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}\n{}\n", self.origin, self.size, self.root)?;
        for e in &self.extensions {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A checkpoint whose log signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The parsed checkpoint.
    pub checkpoint: Checkpoint,
    /// The verified note it came in.
    pub note: VerifiedNote,
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of c2sp.org/tlog-checkpoint.
    const SPEC_EXAMPLE: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn spec_example_parses_and_round_trips() {
        let c = Checkpoint::parse(SPEC_EXAMPLE).unwrap();
        assert_eq!(c.origin, "example.com/behind-the-sofa");
        assert_eq!(c.size, 20852163);
        assert!(c.extensions.is_empty());
        assert_eq!(c.to_string(), SPEC_EXAMPLE);
    }

    #[test]
    fn malformed_checkpoints_are_refused_precisely() {
        let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
        for bad in [
            String::new(),
            "origin\n".to_owned(),
            format!("\n5\n{root}\n"),
            format!("o\n05\n{root}\n"),
            format!("o\n-5\n{root}\n"),
            format!("o\n+5\n{root}\n"),
            format!("o\n0x5\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            "o\n5\nAAAA\n".to_owned(),
            format!("o\n5\n{root}"),
            format!("o\n5\n{root}\n\n"),
            format!("o\n5\n{root}\next\n\n"),
        ] {
            assert!(
                matches!(
                    Checkpoint::parse(&bad),
                    Err(NoteError::MalformedCheckpoint(_))
                ),
                "{bad:?}"
            );
        }
        let max = Checkpoint::parse(&format!("o\n18446744073709551615\n{root}\next 1\n")).unwrap();
        assert_eq!(max.size, u64::MAX);
        assert_eq!(max.extensions, vec!["ext 1".to_owned()]);
    }
}
