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
#![forbid(unsafe_code)]

pub mod hash;
pub mod proof;
pub mod tree;

pub use hash::Hash;
