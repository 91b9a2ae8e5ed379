//! Property tests: for any sizes m ≤ n consistency proofs verify, inclusion
//! proofs verify for every index, and any single-bit change to a proof, an
//! entry, a checkpoint or an offline proof makes verification fail.

use std::sync::OnceLock;

use comity_tlog::checkpoint::Checkpoint;
use comity_tlog::note::{KeyKind, Signer};
use comity_tlog::offline::{TlogProof, TrustPolicy};
use comity_tlog::proof::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion,
};
use comity_tlog::tree::{root_from_leaves, stored_hashes_for_append, tree_hash};
use comity_tlog::Hash;
use ed25519_dalek::SigningKey;
use proptest::prelude::*;

const N: u64 = 600;

fn entry(i: u64) -> Vec<u8> {
    format!("{{\"entry\":{i}}}").into_bytes()
}

/// Stored hashes and leaf hashes of a tree of N entries, built once.
fn tree() -> &'static (Vec<Hash>, Vec<Hash>) {
    static TREE: OnceLock<(Vec<Hash>, Vec<Hash>)> = OnceLock::new();
    TREE.get_or_init(|| {
        let mut stored = Vec::new();
        let mut leaves = Vec::new();
        for i in 0..N {
            let leaf = Hash::leaf(&entry(i));
            leaves.push(leaf);
            stored.extend(stored_hashes_for_append(i, leaf, &stored).unwrap());
        }
        (stored, leaves)
    })
}

fn flip(bytes: &mut [u8], bit: usize) {
    let bit = bit % (bytes.len() * 8);
    bytes[bit / 8] ^= 1 << (bit % 8);
}

fn log_key() -> Signer {
    Signer::new(
        "comity.example/log-a",
        KeyKind::Ed25519,
        SigningKey::from_bytes(&[5; 32]),
    )
    .unwrap()
}

fn witness_key() -> Signer {
    Signer::new(
        "witness.example/w1",
        KeyKind::CosignatureV1,
        SigningKey::from_bytes(&[6; 32]),
    )
    .unwrap()
}

fn signed_checkpoint(size: u64) -> String {
    let (stored, _) = tree();
    let cp = Checkpoint {
        origin: "comity.example/log-a".into(),
        size,
        root: tree_hash(size, stored).unwrap(),
        extensions: vec![],
    };
    let mut note = cp.sign(&log_key()).unwrap();
    note.signatures
        .push(witness_key().cosign(&note.text, 1_800_000_000).unwrap());
    note.to_string()
}

proptest! {
    #[test]
    fn stored_tree_head_equals_the_rfc_definition(n in 0..=N) {
        let (stored, leaves) = tree();
        prop_assert_eq!(tree_hash(n, stored).unwrap(), root_from_leaves(&leaves[..n as usize]));
    }

    #[test]
    fn consistency_proofs_verify_for_any_m_le_n(n in 0..=N, m_frac in 0.0..=1.0f64) {
        let (stored, _) = tree();
        let m = ((n as f64) * m_frac) as u64;
        let proof = consistency_proof(m, n, stored).unwrap();
        let (old, new) = (tree_hash(m, stored).unwrap(), tree_hash(n, stored).unwrap());
        prop_assert!(verify_consistency(&proof, m, n, &old, &new).is_ok());
    }

    #[test]
    fn inclusion_proofs_verify_for_every_index(n in 1..=N, i_frac in 0.0..1.0f64) {
        let (stored, leaves) = tree();
        let i = ((n as f64) * i_frac) as u64;
        let proof = inclusion_proof(i, n, stored).unwrap();
        let root = tree_hash(n, stored).unwrap();
        prop_assert!(verify_inclusion(&proof, i, n, &leaves[i as usize], &root).is_ok());
    }

    #[test]
    fn any_bit_flip_in_an_inclusion_proof_entry_or_root_fails(
        n in 2..=N, i_frac in 0.0..1.0f64, target in 0..3u8, bit in any::<usize>()
    ) {
        let (stored, _) = tree();
        let i = ((n as f64) * i_frac) as u64;
        let mut proof = inclusion_proof(i, n, stored).unwrap();
        let mut root = tree_hash(n, stored).unwrap();
        let mut data = entry(i);
        match target {
            0 => {
                let mut bytes: Vec<u8> = proof.iter().flat_map(|h| h.0).collect();
                flip(&mut bytes, bit);
                proof = bytes.chunks(32).map(|c| Hash(c.try_into().unwrap())).collect();
            }
            1 => flip(&mut data, bit),
            _ => flip(&mut root.0, bit),
        }
        prop_assert!(verify_inclusion(&proof, i, n, &Hash::leaf(&data), &root).is_err());
    }

    #[test]
    fn any_bit_flip_in_a_consistency_proof_or_root_fails(
        n in 2..=N, m_frac in 0.0..1.0f64, target in 0..3u8, bit in any::<usize>()
    ) {
        let (stored, _) = tree();
        let m = (((n as f64) * m_frac) as u64).max(1);
        prop_assume!(m < n);
        let mut proof = consistency_proof(m, n, stored).unwrap();
        let mut old = tree_hash(m, stored).unwrap();
        let mut new = tree_hash(n, stored).unwrap();
        match target {
            0 => {
                let mut bytes: Vec<u8> = proof.iter().flat_map(|h| h.0).collect();
                flip(&mut bytes, bit);
                proof = bytes.chunks(32).map(|c| Hash(c.try_into().unwrap())).collect();
            }
            1 => flip(&mut old.0, bit),
            _ => flip(&mut new.0, bit),
        }
        prop_assert!(verify_consistency(&proof, m, n, &old, &new).is_err());
    }

    // The tree size itself is bound by the signed checkpoint, not by the
    // proof: RFC 9162 proofs for sizes 9 and 10 can share a shape.
    #[test]
    fn proofs_for_other_indexes_fail(n in 2..=N, i_frac in 0.0..1.0f64, shift in 1..N) {
        let (stored, leaves) = tree();
        let i = ((n as f64) * i_frac) as u64;
        let proof = inclusion_proof(i, n, stored).unwrap();
        let root = tree_hash(n, stored).unwrap();
        let other = (i + shift) % n;
        prop_assume!(other != i);
        prop_assert!(verify_inclusion(&proof, other, n, &leaves[i as usize], &root).is_err());
    }
}

proptest! {
    // Ed25519 in debug builds is slow; fewer cases for the signed objects.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_bit_flip_in_a_signed_checkpoint_fails(size in 0..=N, bit in any::<usize>()) {
        let mut msg = signed_checkpoint(size).into_bytes();
        let verifiers = [log_key().verifier(), witness_key().verifier()];
        prop_assert!(Checkpoint::open(&msg, "comity.example/log-a", &verifiers).is_ok());
        flip(&mut msg, bit);
        let opened = Checkpoint::open(&msg, "comity.example/log-a", &verifiers);
        // A flip inside the witness line may only turn it into an unknown
        // signature; then the cosignature must no longer count.
        if let Ok(o) = opened {
            prop_assert!(o.note.verified.iter().all(|v| v.kind == KeyKind::Ed25519));
        }
    }

    #[test]
    fn any_bit_flip_in_an_offline_proof_fails(n in 1..=N, i_frac in 0.0..1.0f64, bit in any::<usize>()) {
        let (stored, leaves) = tree();
        let i = ((n as f64) * i_frac) as u64;
        let proof = TlogProof {
            extra: None,
            index: i,
            inclusion: inclusion_proof(i, n, stored).unwrap(),
            checkpoint: signed_checkpoint(n),
        };
        let policy = TrustPolicy {
            origin: "comity.example/log-a".into(),
            log_keys: vec![log_key().verifier()],
            witnesses: vec![witness_key().verifier()],
            min_cosignatures: 1,
        };
        let mut text = proof.to_string().into_bytes();
        prop_assert!(TlogProof::parse(&text).unwrap().verify(&leaves[i as usize], &policy).is_ok());
        flip(&mut text, bit);
        let verdict = TlogProof::parse(&text).and_then(|p| p.verify(&leaves[i as usize], &policy));
        prop_assert!(verdict.is_err());
    }
}

proptest! {
    /// Arbitrary input to every parser yields a value or an error, never a panic.
    #[test]
    fn parsers_never_panic_on_arbitrary_input(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = comity_tlog::note::Note::parse(&bytes);
        let _ = comity_tlog::note::Note::open(&bytes, &[log_key().verifier()]);
        let _ = comity_tlog::note::Verifier::parse(&text);
        let _ = comity_tlog::note::Signer::parse(&text);
        let _ = Checkpoint::parse(&text);
        let _ = comity_tlog::witness::AddCheckpoint::parse(&bytes);
        let _ = TlogProof::parse(&bytes);
        let _ = comity_tlog::tiles::Tile::parse_path(&text);
        let _ = comity_tlog::tiles::decode_bundle(&bytes, 3);
        let _ = comity_tlog::entry::Entry::decode(&bytes);
        let _ = comity_tlog::entry::Opening::decode(&bytes);
    }

    /// Structured near-misses: valid prefixes with arbitrary tails.
    #[test]
    fn parsers_never_panic_on_near_valid_input(tail in "[ -~\n\u{2014}]{0,200}") {
        let _ = comity_tlog::note::Note::parse(format!("origin\n5\n\n\u{2014} {tail}").as_bytes());
        let _ = Checkpoint::parse(&format!("origin\n{tail}"));
        let _ = comity_tlog::witness::AddCheckpoint::parse(format!("old 3\n{tail}").as_bytes());
        let _ = TlogProof::parse(format!("c2sp.org/tlog-proof@v1\nindex 1\n{tail}").as_bytes());
        let _ = comity_tlog::tiles::Tile::parse_path(&format!("tile/0/{tail}"));
    }
}
