//! RFC 9162 inclusion and consistency proofs: generation over a
//! [`HashReader`] (O(log n) stored hashes, read in one call) and verification.
//! This module owns the proof shapes (which subtree hashes a proof carries, in
//! which order); it holds no keys and parses no text.

use std::collections::HashMap;

use crate::hash::Hash;
use crate::tree::{check_size, largest_power_of_two_below, HashReader, Plan, TreeError};

/// Calls `visit(lo, hi)` for each subtree of the inclusion proof of leaf
/// `index` in a tree of `size` leaves (RFC 9162 PATH), from the root down.
fn inclusion_ranges(index: u64, size: u64, mut visit: impl FnMut(u64, u64)) {
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let mid = lo + largest_power_of_two_below(hi - lo);
        if index < mid {
            visit(mid, hi);
            hi = mid;
        } else {
            visit(lo, mid);
            lo = mid;
        }
    }
}

/// Calls `visit(lo, hi)` for each subtree of the consistency proof from `old`
/// to `new` leaves (RFC 9162 SUBPROOF), from the root down; 0 < old < new.
fn consistency_ranges(old: u64, new: u64, mut visit: impl FnMut(u64, u64)) {
    let (mut lo, mut hi) = (0, new);
    let mut whole_old_tree = true;
    while old != hi {
        let mid = lo + largest_power_of_two_below(hi - lo);
        if old <= mid {
            visit(mid, hi);
            hi = mid;
        } else {
            visit(lo, mid);
            lo = mid;
            whole_old_tree = false;
        }
    }
    if !whole_old_tree {
        visit(lo, hi);
    }
}

fn check_index(index: u64, size: u64) -> Result<(), TreeError> {
    check_size(size)?;
    if index >= size {
        return Err(TreeError::IndexOutOfRange { index, size });
    }
    Ok(())
}

fn check_sizes(old: u64, new: u64) -> Result<(), TreeError> {
    check_size(new)?;
    if old > new {
        return Err(TreeError::SizesGoBackwards { old, new });
    }
    Ok(())
}

/// Right-edge subtree hashes already computed for one tree size.
type Edge = [((u64, u64), Hash)];

/// A plan reading the ranges (given root first) leaf side first, using the
/// known edge hashes where they apply.
fn plan_for(ranges: &[(u64, u64)], edge: &Edge) -> Plan {
    let mut plan = Plan::default();
    for &(lo, hi) in ranges.iter().rev() {
        match edge.iter().find(|(r, _)| *r == (lo, hi)) {
            Some((_, h)) => plan.push_known(*h),
            None => plan.push_range(lo, hi),
        }
    }
    plan
}

fn inclusion_with(
    index: u64,
    size: u64,
    reader: &(impl HashReader + ?Sized),
    edge: &Edge,
) -> Result<Vec<Hash>, TreeError> {
    check_index(index, size)?;
    let mut ranges = Vec::with_capacity(64);
    inclusion_ranges(index, size, |lo, hi| ranges.push((lo, hi)));
    plan_for(&ranges, edge).execute(reader)
}

fn consistency_with(
    old: u64,
    new: u64,
    reader: &(impl HashReader + ?Sized),
    edge: &Edge,
) -> Result<Vec<Hash>, TreeError> {
    check_sizes(old, new)?;
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    let mut ranges = Vec::with_capacity(64);
    consistency_ranges(old, new, |lo, hi| ranges.push((lo, hi)));
    plan_for(&ranges, edge).execute(reader)
}

/// Generates the leaf-to-root inclusion proof of leaf `index` in the tree of
/// `size` leaves.
pub fn inclusion_proof(
    index: u64,
    size: u64,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, TreeError> {
    inclusion_with(index, size, reader, &[])
}

/// Generates the consistency proof from the tree of `old` leaves to the tree
/// of `new` leaves. It is empty when `old` is 0 or equals `new`.
pub fn consistency_proof(
    old: u64,
    new: u64,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, TreeError> {
    consistency_with(old, new, reader, &[])
}

/// Generates many proofs against one tree size. The hashes of the tree's
/// incomplete right edge (subtrees that are not a stored complete subtree)
/// are computed once, in [`Prover::new`], instead of in every proof; the
/// proofs are identical to [`inclusion_proof`] and [`consistency_proof`].
#[derive(Debug, Clone)]
pub struct Prover<R> {
    size: u64,
    reader: R,
    edge: Vec<((u64, u64), Hash)>,
}

impl<R: HashReader> Prover<R> {
    /// A prover for the tree of `size` leaves stored behind `reader`.
    pub fn new(size: u64, reader: R) -> Result<Prover<R>, TreeError> {
        check_size(size)?;
        let mut ranges = Vec::new();
        let mut lo = 0;
        while size - lo > 1 {
            let mid = lo + largest_power_of_two_below(size - lo);
            if !(size - mid).is_power_of_two() {
                ranges.push((mid, size));
            }
            lo = mid;
        }
        let mut plan = Plan::default();
        for &(lo, hi) in &ranges {
            plan.push_range(lo, hi);
        }
        let hashes = plan.execute(&reader)?;
        Ok(Prover {
            size,
            edge: ranges.into_iter().zip(hashes).collect(),
            reader,
        })
    }

    /// The tree size the proofs are for.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The inclusion proof of leaf `index`, as [`inclusion_proof`].
    pub fn inclusion_proof(&self, index: u64) -> Result<Vec<Hash>, TreeError> {
        inclusion_with(index, self.size, &self.reader, &self.edge)
    }

    /// The consistency proof from `old` leaves, as [`consistency_proof`].
    pub fn consistency_proof(&self, old: u64) -> Result<Vec<Hash>, TreeError> {
        consistency_with(old, self.size, &self.reader, &self.edge)
    }
}

/// The number of hashes in the inclusion proof of `index` in a tree of `size`.
pub fn inclusion_proof_len(index: u64, size: u64) -> Result<usize, TreeError> {
    check_index(index, size)?;
    let mut len = 0;
    inclusion_ranges(index, size, |_, _| len += 1);
    Ok(len)
}

/// The number of hashes in the consistency proof from `old` to `new` leaves.
pub fn consistency_proof_len(old: u64, new: u64) -> Result<usize, TreeError> {
    check_sizes(old, new)?;
    if old == 0 || old == new {
        return Ok(0);
    }
    let mut len = 0;
    consistency_ranges(old, new, |_, _| len += 1);
    Ok(len)
}

fn check_len(proof: &[Hash], want: usize) -> Result<(), TreeError> {
    if proof.len() != want {
        return Err(TreeError::WrongProofLength {
            got: proof.len(),
            want,
        });
    }
    Ok(())
}

/// Verifies that `leaf` is the leaf hash at `index` in the tree of `size`
/// leaves with root `root` (RFC 9162, 2.1.3.2).
pub fn verify_inclusion(
    proof: &[Hash],
    index: u64,
    size: u64,
    leaf: &Hash,
    root: &Hash,
) -> Result<(), TreeError> {
    check_len(proof, inclusion_proof_len(index, size)?)?;
    if root_from_inclusion(proof, index, size, leaf) == *root {
        Ok(())
    } else {
        Err(TreeError::RootMismatch { size })
    }
}

/// Recomputes the root from an inclusion proof whose length is already checked.
fn root_from_inclusion(proof: &[Hash], index: u64, size: u64, leaf: &Hash) -> Hash {
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if f & 1 == 1 || f == s {
            r = Hash::node(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = Hash::node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    r
}

/// Verifies many inclusion proofs against one tree head, remembering the
/// interior nodes that earlier proofs authenticated, for auditors and
/// monitors that check many entries of one checkpoint.
///
/// A node is remembered, with the proof hashes above it, only after a proof
/// through it recomputed the root, so it is as trustworthy as the root. A
/// later proof is hashed up to the first remembered node; the hash there must
/// match and the rest of the proof must equal the remembered hashes, so any
/// change to a proof fails exactly as in [`verify_inclusion`]. Only nodes
/// spanning at least `min_span` leaves are remembered, at most `capacity`.
#[derive(Debug, Clone)]
pub struct InclusionVerifier {
    size: u64,
    min_span: u64,
    capacity: usize,
    known: HashMap<(u64, u64), KnownNode>,
}

/// An authenticated node: its hash and the proof hashes above it.
#[derive(Debug, Clone)]
struct KnownNode {
    hash: Hash,
    above: Box<[Hash]>,
}

impl InclusionVerifier {
    /// A verifier for the tree of `size` leaves with root `root`, remembering
    /// nodes of at least 256 leaves (one tile), up to a million of them.
    pub fn new(size: u64, root: Hash) -> Result<InclusionVerifier, TreeError> {
        InclusionVerifier::with_cache(size, root, 256, 1 << 20)
    }

    /// Like [`InclusionVerifier::new`] with an explicit cache shape.
    pub fn with_cache(
        size: u64,
        root: Hash,
        min_span: u64,
        capacity: usize,
    ) -> Result<InclusionVerifier, TreeError> {
        check_size(size)?;
        let mut known = HashMap::new();
        known.insert(
            (0, size),
            KnownNode {
                hash: root,
                above: Box::default(),
            },
        );
        Ok(InclusionVerifier {
            size,
            min_span: min_span.max(2),
            capacity: capacity.max(1),
            known,
        })
    }

    /// Verifies that `leaf` is the leaf hash at `index`, as [`verify_inclusion`].
    pub fn verify(&mut self, proof: &[Hash], index: u64, leaf: &Hash) -> Result<(), TreeError> {
        let size = self.size;
        check_len(proof, inclusion_proof_len(index, size)?)?;
        let mismatch = Err(TreeError::RootMismatch { size });
        if proof.is_empty() {
            // A one-leaf tree: the leaf is the root.
            return match self.known.get(&(0, size)) {
                Some(root) if root.hash == *leaf => Ok(()),
                _ => mismatch,
            };
        }
        let mut siblings = [(0u64, 0u64); 64];
        let mut depth = 0;
        inclusion_ranges(index, size, |lo, hi| {
            siblings[depth] = (lo, hi);
            depth += 1;
        });
        let mut path: Vec<((u64, u64), Hash, usize)> = Vec::new();
        let (mut cur, mut h) = ((index, index + 1), *leaf);
        for (k, (&sib, p)) in siblings[..depth].iter().rev().zip(proof).enumerate() {
            h = if sib.1 == cur.0 {
                Hash::node(p, &h)
            } else {
                Hash::node(&h, p)
            };
            cur = (cur.0.min(sib.0), cur.1.max(sib.1));
            if cur.1 - cur.0 < self.min_span && cur != (0, size) {
                continue;
            }
            let rest = &proof[k + 1..];
            if let Some(known) = self.known.get(&cur) {
                if known.hash != h || *known.above != *rest {
                    return mismatch;
                }
                for (range, hash, from) in path {
                    if self.known.len() >= self.capacity {
                        break;
                    }
                    let above = proof[from..].into();
                    self.known.insert(range, KnownNode { hash, above });
                }
                return Ok(());
            }
            path.push((cur, h, k + 1));
        }
        // The root range is always known, so the loop has returned.
        mismatch
    }
}

/// Verifies that the tree of `old` leaves with root `old_root` is a prefix of
/// the tree of `new` leaves with root `new_root` (RFC 9162, 2.1.4.2).
///
/// From the empty tree the proof must be empty (and `old_root` the empty root);
/// between equal sizes it must be empty and the roots equal.
pub fn verify_consistency(
    proof: &[Hash],
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), TreeError> {
    check_len(proof, consistency_proof_len(old, new)?)?;
    if old == 0 {
        return if *old_root == Hash::empty_root() {
            Ok(())
        } else {
            Err(TreeError::BadEmptyRoot)
        };
    }
    if old == new {
        return if old_root == new_root {
            Ok(())
        } else {
            Err(TreeError::RootMismatch { size: new })
        };
    }
    let (mut f, mut s) = (old - 1, new - 1);
    // When the old tree is a complete subtree, the proof omits its root.
    let (first, rest) = if old.is_power_of_two() {
        (old_root, proof)
    } else {
        (&proof[0], &proof[1..])
    };
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            // Unreachable after the length check; kept as a guard.
            return Err(TreeError::RootMismatch { size: new });
        }
        if f & 1 == 1 || f == s {
            fr = Hash::node(c, &fr);
            sr = Hash::node(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = Hash::node(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if fr != *old_root {
        return Err(TreeError::RootMismatch { size: old });
    }
    if sr != *new_root {
        return Err(TreeError::RootMismatch { size: new });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{root_from_leaves, stored_hashes_for_append, tree_hash};

    fn build(n: u64) -> (Vec<Hash>, Vec<Hash>) {
        let mut stored = Vec::new();
        let mut leaves = Vec::new();
        for i in 0..n {
            let leaf = Hash::leaf(&i.to_be_bytes());
            leaves.push(leaf);
            let new = stored_hashes_for_append(i, leaf, &stored).unwrap();
            stored.extend(new);
        }
        (stored, leaves)
    }

    #[test]
    fn all_inclusion_and_consistency_proofs_of_small_trees_verify() {
        let (stored, leaves) = build(40);
        for size in 1..=40u64 {
            let root = root_from_leaves(&leaves[..size as usize]);
            for index in 0..size {
                let p = inclusion_proof(index, size, &stored).unwrap();
                verify_inclusion(&p, index, size, &leaves[index as usize], &root).unwrap();
            }
            for old in 0..=size {
                let old_root = tree_hash(old, &stored).unwrap();
                let p = consistency_proof(old, size, &stored).unwrap();
                verify_consistency(&p, old, size, &old_root, &root).unwrap();
            }
        }
    }

    #[test]
    fn prover_gives_the_same_proofs_as_the_free_functions() {
        let (stored, _) = build(300);
        for size in [1u64, 2, 3, 7, 8, 100, 255, 300] {
            let prover = Prover::new(size, &stored).unwrap();
            for i in 0..size {
                assert_eq!(
                    prover.inclusion_proof(i).unwrap(),
                    inclusion_proof(i, size, &stored).unwrap()
                );
                assert_eq!(
                    prover.consistency_proof(i).unwrap(),
                    consistency_proof(i, size, &stored).unwrap()
                );
            }
            assert!(prover.inclusion_proof(size).is_err());
            assert!(prover.consistency_proof(size + 1).is_err());
        }
    }

    #[test]
    fn cached_verifier_accepts_what_plain_verification_accepts_and_nothing_else() {
        let (stored, leaves) = build(300);
        let root = tree_hash(300, &stored).unwrap();
        let mut v = InclusionVerifier::with_cache(300, root, 2, 10_000).unwrap();
        for round in 0..2 {
            for index in 0..300u64 {
                let p = inclusion_proof(index, 300, &stored).unwrap();
                v.verify(&p, index, &leaves[index as usize]).unwrap();
                for k in 0..p.len() {
                    let mut bad = p.clone();
                    bad[k].0[round] ^= 4;
                    assert!(v.verify(&bad, index, &leaves[index as usize]).is_err());
                }
                assert!(v.verify(&p, index, &Hash::leaf(b"other")).is_err());
            }
        }
        let mut one = InclusionVerifier::new(1, leaves[0]).unwrap();
        one.verify(&[], 0, &leaves[0]).unwrap();
        assert!(one.verify(&[], 0, &leaves[1]).is_err());
        let mut wrong_root = InclusionVerifier::new(300, Hash::leaf(b"x")).unwrap();
        let p = inclusion_proof(5, 300, &stored).unwrap();
        assert!(wrong_root.verify(&p, 5, &leaves[5]).is_err());
    }

    #[test]
    fn wrong_length_and_out_of_range_are_precise_errors() {
        let (stored, leaves) = build(8);
        let root = tree_hash(8, &stored).unwrap();
        let mut p = inclusion_proof(3, 8, &stored).unwrap();
        p.push(p[0]);
        assert!(matches!(
            verify_inclusion(&p, 3, 8, &leaves[3], &root),
            Err(TreeError::WrongProofLength { got: 4, want: 3 })
        ));
        assert!(matches!(
            verify_inclusion(&[], 8, 8, &leaves[3], &root),
            Err(TreeError::IndexOutOfRange { index: 8, size: 8 })
        ));
        assert!(matches!(
            consistency_proof(9, 8, &stored),
            Err(TreeError::SizesGoBackwards { old: 9, new: 8 })
        ));
        assert!(matches!(
            verify_consistency(&[], 5, u64::MAX, &root, &root),
            Err(TreeError::SizeTooLarge { .. })
        ));
    }
}
