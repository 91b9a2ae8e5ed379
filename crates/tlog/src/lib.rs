//! Comity's transparency log, the pure part: RFC 9162 Merkle trees and proofs,
//! C2SP signed notes, checkpoints, cosignatures, the witness protocol, offline
//! proofs, tiles and the log entry encoding. No I/O, no async, no database:
//! storage plugs in through [`tree::HashReader`] and [`witness::WitnessState`].
//!
//! A tour:
//! - [`hash`]: leaf and node hashing (RFC 9162, 2.1).
//! - [`tree`]: the stored-hash layout, appends ([`tree::stored_hashes_for_append`])
//!   and tree heads ([`tree::tree_hash`]).
//! - [`proof`]: inclusion and consistency proofs, generated and verified, and
//!   [`proof::InclusionVerifier`] for checking many proofs of one checkpoint.
//! - [`note`]: C2SP signed notes, signer and verifier keys (Go `sumdb/note` formats).
//! - [`checkpoint`]: C2SP tlog-checkpoint, the signed tree head.
//! - [`cosignature`]: C2SP tlog-cosignature v1 (Ed25519, type 0x04).
//! - [`witness`]: C2SP tlog-witness `add-checkpoint`, request and decision.
//! - [`offline`]: C2SP tlog-proof@v1, offline-verifiable inclusion proofs.
//! - [`tiles`]: C2SP tlog-tiles paths, tile bytes and entry bundles, and
//!   [`tiles::TileHashReader`] to compute proofs from fetched tiles.
//! - [`entry`]: the versioned encoding of what a node logs ([`entry::LogEntry`]).
//!
//! # What storage must do
//!
//! Keep one sequence of hashes, addressed by a `u64` index. To append entry
//! `n` (zero-based, the current tree size), call
//! [`tree::stored_hashes_for_append`]`(n, Hash::leaf(&entry_bytes), &reader)`
//! and persist the returned hashes at indexes `stored_hash_index(0, n)`,
//! `+1`, … in the same transaction as the entry; a batch appends its entries
//! in order. Implement [`tree::HashReader`] as "read these indexes" (one query
//! per call). Every proof, tree head and tile then costs O(log n) point reads.
//! Sign a checkpoint only for a size whose hashes are durable.
//!
//! A witness keeps, per log origin, the last checkpoint it cosigned, behind
//! [`witness::WitnessState`] with an atomic compare-and-swap.
//!
//! # Example
//!
//! ```
//! use comity_tlog::{Hash, checkpoint::Checkpoint, note::{KeyKind, Signer}};
//! use comity_tlog::proof::{inclusion_proof, verify_inclusion};
//! use comity_tlog::tree::{stored_hashes_for_append, tree_hash};
//!
//! let mut stored: Vec<Hash> = Vec::new(); // a database in real life
//! for (n, entry) in [b"first", b"other"].iter().enumerate() {
//!     let new = stored_hashes_for_append(n as u64, Hash::leaf(*entry), &stored).unwrap();
//!     stored.extend(new);
//! }
//! let key = Signer::new("comity.example/log", KeyKind::Ed25519,
//!     ed25519_dalek::SigningKey::from_bytes(&[7; 32])).unwrap();
//! let checkpoint = Checkpoint {
//!     origin: "comity.example/log".into(),
//!     size: 2,
//!     root: tree_hash(2, &stored).unwrap(),
//!     extensions: vec![],
//! };
//! let signed = checkpoint.sign(&key).unwrap().to_string();
//!
//! // A verifier holding only the verifier key string:
//! let vkey = comity_tlog::note::Verifier::parse(&key.verifier().to_string()).unwrap();
//! let opened = Checkpoint::open(signed.as_bytes(), "comity.example/log", &[vkey]).unwrap();
//! let proof = inclusion_proof(1, 2, &stored).unwrap();
//! verify_inclusion(&proof, 1, 2, &Hash::leaf(b"other"), &opened.checkpoint.root).unwrap();
//! ```
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
