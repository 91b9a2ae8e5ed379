//! Comity's transparency log, the pure part: RFC 9162 Merkle trees and proofs,
//! C2SP signed notes, checkpoints, cosignatures, the witness protocol, offline
//! proofs, tiles and the log entry encoding. No I/O, no async, no database:
//! storage plugs in through [`tree::HashReader`] and [`witness::WitnessState`].
//!
//! A tour:
//! - [`hash`]: leaf and node hashing (RFC 9162, 2.1).
//! - [`tree`]: the stored-hash layout, appends ([`tree::stored_hashes_for_append`])
//!   and tree heads ([`tree::tree_hash`]).
//! - [`proof`]: inclusion and consistency proofs, generated and verified.
//! - [`note`]: C2SP signed notes, signer and verifier keys (Go `sumdb/note` formats).
//! - [`checkpoint`]: C2SP tlog-checkpoint, the signed tree head.
//! - [`cosignature`]: C2SP tlog-cosignature v1 (Ed25519, type 0x04).
//! - [`witness`]: C2SP tlog-witness `add-checkpoint`, request and decision.
//! - [`offline`]: C2SP tlog-proof@v1, offline-verifiable inclusion proofs.
//! - [`tiles`]: C2SP tlog-tiles paths, tile bytes and entry bundles.
//! - [`entry`]: the versioned encoding of what a node logs ([`entry::LogEntry`]).
#![forbid(unsafe_code)]

pub mod checkpoint;
pub mod cosignature;
pub mod entry;
pub mod hash;
pub mod note;
pub mod offline;
pub mod proof;
pub mod tiles;
pub mod tree;
pub mod witness;

pub use hash::Hash;
