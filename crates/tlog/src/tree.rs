//! The stored-hash layout of a Merkle tree and the [`HashReader`] abstraction
//! over it: where each complete subtree hash lives, which new hashes an append
//! must persist, and the tree head of any size. This module never stores
//! anything itself; a database (or a `Vec`) behind [`HashReader`] does.
//!
//! # Layout
//!
//! Every complete subtree hash is stored exactly once, in the order it becomes
//! known, as in Go's `golang.org/x/mod/sumdb/tlog` (and Crosby and Wallach,
//! "Efficient Data Structures for Tamper-Evident Logging", 3.3): appending
//! record `n` stores its leaf hash followed by the hashes of the subtrees it
//! completes. The hash of the subtree at `level` covering leaves
//! `[n·2^level, (n+1)·2^level)` lives at [`stored_hash_index`]`(level, n)`.
//! A database can therefore store hashes in one table keyed by that index and
//! answer every proof with O(log n) point reads.

use std::error::Error as StdError;

use crate::hash::Hash;

/// The largest tree size this crate handles: 2^62 leaves. Every stored-hash
/// index of such a tree fits in a `u64`. Larger sizes are refused with
/// [`TreeError::SizeTooLarge`].
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// Errors of tree and proof computations.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// A tree size beyond [`MAX_TREE_SIZE`].
    #[error("tree size {size} exceeds the supported maximum of {MAX_TREE_SIZE}")]
    SizeTooLarge {
        /// The size that was asked for.
        size: u64,
    },
    /// A leaf index that is not inside the tree.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The index that was asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof was asked between sizes that go backwards.
    #[error("old tree size {old} is larger than new tree size {new}")]
    SizesGoBackwards {
        /// The older (claimed smaller) size.
        old: u64,
        /// The newer size.
        new: u64,
    },
    /// A proof with more or fewer hashes than the sizes require.
    #[error("proof has {got} hashes; sizes require exactly {want}")]
    WrongProofLength {
        /// Number of hashes in the proof.
        got: usize,
        /// Number of hashes the sizes require.
        want: usize,
    },
    /// The proof does not recompute the expected root.
    #[error("proof does not recompute the root hash of the tree of size {size}")]
    RootMismatch {
        /// The size of the tree whose root did not match.
        size: u64,
    },
    /// An empty tree must have the SHA-256 of the empty string as root.
    #[error("the root of the empty tree must be SHA-256 of the empty string")]
    BadEmptyRoot,
    /// The reader returned a different number of hashes than asked for.
    #[error("hash reader returned {got} hashes for {want} indexes")]
    ShortRead {
        /// Hashes returned.
        got: usize,
        /// Indexes asked for.
        want: usize,
    },
    /// A stored hash index the reader does not hold.
    #[error("stored hash {index} is not available")]
    MissingHash {
        /// The stored-hash index.
        index: u64,
    },
    /// The storage behind a [`HashReader`] failed.
    #[error("reading stored hashes failed")]
    Storage(#[source] Box<dyn StdError + Send + Sync>),
}

impl TreeError {
    /// Wraps a storage failure, for [`HashReader`] implementations.
    pub fn storage(err: impl StdError + Send + Sync + 'static) -> TreeError {
        TreeError::Storage(Box::new(err))
    }
}

/// Read access to stored hashes, by [`stored_hash_index`].
///
/// Implementations must return exactly one hash per index, in the order
/// asked (indexes come in no particular order and may repeat). Callers in
/// this crate ask for all the hashes one operation needs in a single call, so
/// a database implementation can answer with one query (`WHERE idx IN (…)`)
/// and reorder.
pub trait HashReader {
    /// Returns the stored hashes at `indexes`, in the same order.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError>;
}

/// An in-memory store: the hash at position `i` is stored hash `i`.
impl HashReader for [Hash] {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.get(i))
                    .copied()
                    .ok_or(TreeError::MissingHash { index: i })
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
        self.as_slice().read_hashes(indexes)
    }
}

impl<R: HashReader + ?Sized> HashReader for &R {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TreeError> {
        (**self).read_hashes(indexes)
    }
}

/// The position of the hash of the subtree at `level` (0 = leaves) whose
/// leaves are `[n·2^level, (n+1)·2^level)` in the stored-hash sequence.
///
/// The caller keeps `(n + 1)·2^level ≤ MAX_TREE_SIZE`; every function of this
/// crate that takes a tree size checks that bound first.
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    // The subtree is stored right after its last leaf and the subtrees that
    // leaf completes below `level`. Before leaf m come 2m - popcount(m)
    // hashes: m leaves plus m/2 + m/4 + ... completed subtrees.
    let last_leaf = ((n + 1) << level) - 1;
    2 * last_leaf - u64::from(last_leaf.count_ones()) + u64::from(level)
}

/// The inverse of [`stored_hash_index`]: the `(level, n)` of the subtree whose
/// hash is stored at `index`, or `None` past the trees this crate handles.
pub fn split_stored_hash_index(index: u64) -> Option<(u8, u64)> {
    if index >= 2 * MAX_TREE_SIZE {
        return None;
    }
    // The last leaf m stored at or before `index`: 2m - popcount(m) <= index,
    // so m lies in [index/2, index/2 + 32].
    let mut m = index / 2;
    while stored_hash_index(0, m + 1) <= index {
        m += 1;
    }
    let level = (index - stored_hash_index(0, m)) as u8;
    Some((level, m >> level))
}

/// The number of stored hashes of a tree with `size` leaves.
pub fn stored_hash_count(size: u64) -> Result<u64, TreeError> {
    check_size(size)?;
    if size == 0 {
        return Ok(0);
    }
    let last = size - 1;
    Ok(stored_hash_index(0, last) + 1 + u64::from(last.trailing_ones()))
}

/// The hashes to persist when appending record `n` (zero-based) whose leaf hash
/// is `leaf`: the leaf hash, then the hash of every subtree the leaf completes,
/// lowest first. They go at consecutive positions starting at
/// `stored_hash_index(0, n)`, which equals `stored_hash_count(n)`.
///
/// Reads at most log2(n) earlier hashes (the left siblings), in one call.
pub fn stored_hashes_for_append(
    n: u64,
    leaf: Hash,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, TreeError> {
    check_size(n.saturating_add(1))?;
    let completed = n.trailing_ones() as u8;
    // Left siblings at levels completed-1 .. 0, which is increasing index order.
    let indexes: Vec<u64> = (0..completed)
        .rev()
        .map(|level| stored_hash_index(level, (n >> level) - 1))
        .collect();
    let siblings = read_exact(reader, &indexes)?;
    let mut out = Vec::with_capacity(1 + siblings.len());
    let mut h = leaf;
    out.push(h);
    for sibling in siblings.iter().rev() {
        h = Hash::node(sibling, &h);
        out.push(h);
    }
    Ok(out)
}

/// The root hash of the tree with the first `size` leaves (RFC 9162 MTH).
pub fn tree_hash(size: u64, reader: &(impl HashReader + ?Sized)) -> Result<Hash, TreeError> {
    check_size(size)?;
    if size == 0 {
        return Ok(Hash::empty_root());
    }
    let mut plan = Plan::default();
    plan.push_range(0, size);
    Ok(plan.execute(reader)?[0])
}

/// The root of a tree given all its leaf hashes, computed directly from the
/// RFC 9162 definition; for small trees (tiles, tests) held in memory.
pub fn root_from_leaves(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash::empty_root(),
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n as u64) as usize;
            Hash::node(
                &root_from_leaves(&leaves[..k]),
                &root_from_leaves(&leaves[k..]),
            )
        }
    }
}

/// Refuses sizes beyond [`MAX_TREE_SIZE`].
pub(crate) fn check_size(size: u64) -> Result<(), TreeError> {
    if size > MAX_TREE_SIZE {
        Err(TreeError::SizeTooLarge { size })
    } else {
        Ok(())
    }
}

/// The largest power of two strictly below `n` (n ≥ 2), as RFC 9162 splits trees.
pub(crate) fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

fn read_exact(
    reader: &(impl HashReader + ?Sized),
    indexes: &[u64],
) -> Result<Vec<Hash>, TreeError> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(TreeError::ShortRead {
            got: hashes.len(),
            want: indexes.len(),
        });
    }
    Ok(hashes)
}

/// A batch of subtree-range hashes to compute with one read: each range
/// `[lo, hi)` (with `lo` aligned as RFC 9162 splits guarantee) is the fold of
/// the complete subtrees of its binary decomposition.
#[derive(Default)]
pub(crate) struct Plan {
    indexes: Vec<u64>,
    /// Number of stored hashes folded into each requested range hash; 0 for
    /// a range whose hash is already known (taken from `known` in order).
    counts: Vec<u8>,
    known: Vec<Hash>,
}

impl Plan {
    /// Adds the range `[lo, hi)`, `lo < hi`, to compute.
    pub(crate) fn push_range(&mut self, mut lo: u64, hi: u64) {
        let mut count = 0u8;
        while lo < hi {
            let span = hi - lo;
            let level = (63 - span.leading_zeros()).min(lo.trailing_zeros()) as u8;
            self.indexes.push(stored_hash_index(level, lo >> level));
            lo += 1 << level;
            count += 1;
        }
        self.counts.push(count);
    }

    /// Adds a range whose hash the caller already has.
    pub(crate) fn push_known(&mut self, hash: Hash) {
        self.counts.push(0);
        self.known.push(hash);
    }

    /// Reads every needed hash in one call and folds each range.
    pub(crate) fn execute(
        self,
        reader: &(impl HashReader + ?Sized),
    ) -> Result<Vec<Hash>, TreeError> {
        let stored = read_exact(reader, &self.indexes)?;
        let mut out = Vec::with_capacity(self.counts.len());
        let mut at = 0;
        let mut known = self.known.into_iter();
        for count in self.counts {
            if count == 0 {
                out.push(known.next().expect("one known hash per zero count"));
                continue;
            }
            let parts = &stored[at..at + usize::from(count)];
            at += usize::from(count);
            let (last, rest) = parts.split_last().expect("ranges are non-empty");
            out.push(
                rest.iter()
                    .rev()
                    .fold(*last, |acc, left| Hash::node(left, &acc)),
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(n: u64) -> (Vec<Hash>, Vec<Hash>) {
        let mut stored = Vec::new();
        let mut leaves = Vec::new();
        for i in 0..n {
            let leaf = Hash::leaf(format!("leaf {i}").as_bytes());
            leaves.push(leaf);
            assert_eq!(stored.len() as u64, stored_hash_index(0, i));
            let new = stored_hashes_for_append(i, leaf, &stored).unwrap();
            stored.extend(new);
            assert_eq!(stored.len() as u64, stored_hash_count(i + 1).unwrap());
        }
        (stored, leaves)
    }

    #[test]
    fn layout_matches_go_sumdb_tlog_positions() {
        // golang.org/x/mod/sumdb/tlog: level L's n-th hash is written right
        // after level L+1's... concretely the first stored hashes are
        // leaf0, leaf1, (1,0), leaf2, leaf3, (1,1), (2,0), leaf4.
        assert_eq!(stored_hash_index(0, 0), 0);
        assert_eq!(stored_hash_index(0, 1), 1);
        assert_eq!(stored_hash_index(1, 0), 2);
        assert_eq!(stored_hash_index(0, 2), 3);
        assert_eq!(stored_hash_index(0, 3), 4);
        assert_eq!(stored_hash_index(1, 1), 5);
        assert_eq!(stored_hash_index(2, 0), 6);
        assert_eq!(stored_hash_index(0, 4), 7);
    }

    #[test]
    fn split_inverts_stored_hash_index() {
        for level in 0..12u8 {
            for n in 0..300u64 {
                assert_eq!(
                    split_stored_hash_index(stored_hash_index(level, n)),
                    Some((level, n))
                );
            }
        }
        let far = stored_hash_index(5, 123_456_789_012);
        assert_eq!(split_stored_hash_index(far), Some((5, 123_456_789_012)));
        assert_eq!(split_stored_hash_index(u64::MAX), None);
    }

    #[test]
    fn stored_tree_hash_equals_direct_root_for_every_size() {
        let (stored, leaves) = build(100);
        for size in 0..=100usize {
            assert_eq!(
                tree_hash(size as u64, &stored).unwrap(),
                root_from_leaves(&leaves[..size]),
                "size {size}"
            );
        }
    }

    #[test]
    fn every_stored_hash_is_the_subtree_it_names() {
        let (stored, leaves) = build(64);
        for level in 0..=6u8 {
            for n in 0..(64u64 >> level) {
                let lo = (n << level) as usize;
                let hi = ((n + 1) << level) as usize;
                assert_eq!(
                    stored[stored_hash_index(level, n) as usize],
                    root_from_leaves(&leaves[lo..hi])
                );
            }
        }
    }

    #[test]
    fn enormous_sizes_are_refused_not_overflowed() {
        let stored: Vec<Hash> = Vec::new();
        assert!(matches!(
            tree_hash(u64::MAX, &stored),
            Err(TreeError::SizeTooLarge { .. })
        ));
        assert!(matches!(
            stored_hash_count(MAX_TREE_SIZE + 1),
            Err(TreeError::SizeTooLarge { .. })
        ));
        assert!(stored_hash_count(MAX_TREE_SIZE).is_ok());
        assert!(matches!(
            stored_hashes_for_append(u64::MAX, Hash::leaf(b""), &stored),
            Err(TreeError::SizeTooLarge { .. })
        ));
    }

    #[test]
    fn missing_stored_hashes_are_reported() {
        let (stored, _) = build(8);
        assert!(matches!(
            tree_hash(9, &stored),
            Err(TreeError::MissingHash { .. })
        ));
    }
}
