//! The value index as the store keeps it: one posting per observable value of each stored
//! object version, written in the same transaction as the version and removed with it.
//! The store never extracts or normalises values (the node does, before the write) and
//! never decides who may see a posting: it answers look-ups with the versions they point
//! at, and the node releases them. It grows with the number of values, never their pairs.

use crate::{CollectionRef, StoredObject};

/// An address block as two inclusive ends, each 16 bytes big-endian (an IPv4 address in
/// the low 4 bytes), so that blocks order and compare as bytes in every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NetRange {
    /// The first address of the block.
    pub lo: [u8; 16],
    /// The last address of the block.
    pub hi: [u8; 16],
}

impl NetRange {
    /// Whether the block is a single address.
    pub fn is_address(&self) -> bool {
        self.lo == self.hi
    }
}

/// One normalised observable value of an object version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexedValue {
    /// What the value is (`ipv4-addr`, `domain-name`, `hash:SHA-256`, …), as the node names it.
    pub kind: String,
    /// The value in its normal form.
    pub value: String,
    /// For addresses and blocks, the block they cover (containment look-ups use it).
    pub net: Option<NetRange>,
}

/// What a look-up asks: the postings of one value, and for an address or block, those of
/// every address or block of the same kind that contains it or lies within it.
pub type ValueLookup = IndexedValue;

/// One posting with the stored version it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// The value's kind.
    pub kind: String,
    /// The value as indexed.
    pub value: String,
    /// The collection holding the version.
    pub collection: CollectionRef,
    /// Whether the version is the object's newest in that collection.
    pub is_last: bool,
    /// The version.
    pub object: StoredObject,
}
