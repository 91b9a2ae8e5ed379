//! C2SP `tlog-cosignature` v1 with Ed25519 (signature type 0x04): the signed
//! message, making a timestamped cosignature and checking one. This module
//! owns only the cosignature bytes; key ids and note syntax are in
//! [`crate::note`], and it never decides whether a checkpoint deserves a
//! cosignature (that is [`crate::witness`]).

use ed25519_dalek::{Signature, Signer as _, VerifyingKey};

use crate::checkpoint::Checkpoint;
use crate::note::{KeyKind, NoteError, NoteSignature, Signer};

/// The largest timestamp a cosignature may carry, 2^63 - 1.
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// The message an Ed25519 v1 cosignature signs: `cosignature/v1`, the
/// timestamp line, then the whole checkpoint note text.
pub fn cosigned_message(checkpoint_text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}")
}

impl Signer {
    /// Cosigns a checkpoint note text at `timestamp` (POSIX seconds) with a
    /// cosignature key (type 0x04). The signature is the 8-byte big-endian
    /// timestamp followed by the Ed25519 signature.
    pub fn cosign(
        &self,
        checkpoint_text: &str,
        timestamp: u64,
    ) -> Result<NoteSignature, NoteError> {
        if self.kind() != KeyKind::CosignatureV1 {
            return Err(self.wrong_kind());
        }
        if timestamp > MAX_TIMESTAMP {
            return Err(NoteError::BadTimestamp(timestamp));
        }
        Checkpoint::parse(checkpoint_text)?;
        let sig = self
            .signing_key()
            .sign(cosigned_message(checkpoint_text, timestamp).as_bytes());
        let mut signature = timestamp.to_be_bytes().to_vec();
        signature.extend_from_slice(&sig.to_bytes());
        Ok(NoteSignature {
            name: self.name().to_owned(),
            key_id: self.id(),
            signature,
        })
    }
}

/// Checks a cosignature (timestamp ‖ Ed25519 signature) over a checkpoint
/// text; returns the timestamp.
pub(crate) fn verify(key: &VerifyingKey, text: &str, signature: &[u8]) -> Result<u64, ()> {
    let (ts, sig) = signature.split_at_checked(8).ok_or(())?;
    let timestamp = u64::from_be_bytes(ts.try_into().map_err(|_| ())?);
    if timestamp > MAX_TIMESTAMP {
        return Err(());
    }
    let sig = Signature::from_slice(sig).map_err(|_| ())?;
    key.verify_strict(cosigned_message(text, timestamp).as_bytes(), &sig)
        .map_err(|_| ())?;
    Ok(timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_matches_the_spec_example() {
        // c2sp.org/tlog-cosignature, "Ed25519 signed message".
        let text =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        assert_eq!(
            cosigned_message(text, 1679315147),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn spec_example_cosignature_line_carries_its_timestamp() {
        // The witness line of c2sp.org/tlog-cosignature's example: key id,
        // then the 8-byte timestamp 1679315147 of the example message.
        let line = "\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
        let sig = NoteSignature::parse_line(line, 1).unwrap();
        assert_eq!(sig.signature.len(), 72);
        assert_eq!(
            u64::from_be_bytes(sig.signature[..8].try_into().unwrap()),
            1679315147
        );
    }
}
