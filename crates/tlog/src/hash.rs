//! RFC 9162 hashing: the [`Hash`](struct@Hash) type, leaf and interior-node hashes, and the
//! empty-tree root. This module owns the hash domain separation (0x00 for
//! leaves, 0x01 for nodes) and nothing else; it never reads storage.
//!
//! SHA-256 comes from `ring`, whose assembly is about twice as fast as the
//! pure-Rust `sha2` on CPUs without SHA extensions; proof verification is
//! nothing but node hashes (see `bench/RESULTS-tlog.md`).

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ring::digest::{digest, Context, Digest, SHA256};

/// Size in bytes of a SHA-256 hash.
pub const HASH_SIZE: usize = 32;

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Hash(pub [u8; HASH_SIZE]);

/// The base64 text of a hash could not be decoded into exactly 32 bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed hash {0:?}: want standard base64 of 32 bytes")]
pub struct MalformedHash(pub String);

impl Hash {
    /// The root of the empty tree: SHA-256 of the empty string (RFC 9162, 2.1.1).
    pub fn empty_root() -> Hash {
        Hash::from_digest(digest(&SHA256, b""))
    }

    /// The leaf hash of an entry: SHA-256(0x00 ‖ entry).
    pub fn leaf(entry: &[u8]) -> Hash {
        let mut h = Context::new(&SHA256);
        h.update(&[0x00]);
        h.update(entry);
        Hash::from_digest(h.finish())
    }

    /// Copies a SHA-256 digest into a hash.
    pub(crate) fn from_digest(d: Digest) -> Hash {
        let mut out = [0u8; HASH_SIZE];
        out.copy_from_slice(d.as_ref());
        Hash(out)
    }

    /// The hash of an interior node: SHA-256(0x01 ‖ left ‖ right).
    pub fn node(left: &Hash, right: &Hash) -> Hash {
        let mut buf = [0u8; 1 + 2 * HASH_SIZE];
        buf[0] = 0x01;
        buf[1..1 + HASH_SIZE].copy_from_slice(&left.0);
        buf[1 + HASH_SIZE..].copy_from_slice(&right.0);
        Hash::from_digest(digest(&SHA256, &buf))
    }

    /// Parses the standard base64 form used in checkpoints and proofs.
    pub fn from_base64(text: &str) -> Result<Hash, MalformedHash> {
        // A 32-byte value is always 44 characters with one '=' of padding.
        if text.len() != 44 {
            return Err(MalformedHash(text.to_owned()));
        }
        let mut out = [0u8; HASH_SIZE];
        match BASE64.decode_slice(text, &mut out) {
            Ok(HASH_SIZE) => Ok(Hash(out)),
            _ => Err(MalformedHash(text.to_owned())),
        }
    }

    /// The standard base64 form of the hash.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// The lowercase hex form of the hash.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_base64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        // RFC 9162, 2.1.1: MTH({}) = SHA-256(); value from the
        // transparency-dev/merkle testonly/constants.go EmptyRootHash.
        assert_eq!(
            Hash::empty_root().to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn leaf_of_empty_entry_matches_published_vector() {
        // transparency-dev/merkle testonly/constants.go NodeHashes()[0][0],
        // the leaf hash of the empty input.
        assert_eq!(
            Hash::leaf(b"").to_hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn base64_round_trip_and_rejects_wrong_lengths() {
        let h = Hash::leaf(b"x");
        assert_eq!(Hash::from_base64(&h.to_base64()), Ok(h));
        assert!(Hash::from_base64("AAAA").is_err());
        assert!(Hash::from_base64(&"A".repeat(44)).is_err());
        assert!(Hash::from_base64(&format!("{}==", &h.to_base64()[..42])).is_err());
    }
}
