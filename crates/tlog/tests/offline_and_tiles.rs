//! Offline proofs (c2sp.org/tlog-proof@v1) and tiles (c2sp.org/tlog-tiles):
//! the spec examples, round trips, policies, and truncated or malformed input.

use comity_tlog::checkpoint::Checkpoint;
use comity_tlog::note::{KeyKind, Signer};
use comity_tlog::offline::{OfflineProofError, TlogProof, TrustPolicy};
use comity_tlog::proof::{consistency_proof, inclusion_proof, verify_inclusion};
use comity_tlog::tiles::{
    decode_bundle, encode_bundle, Tile, TileError, TileHashReader, TileKind, TileSource,
};
use comity_tlog::tree::{root_from_leaves, stored_hashes_for_append, tree_hash, TreeError};
use comity_tlog::Hash;
use ed25519_dalek::SigningKey;

const ORIGIN: &str = "comity.example/log-a";

fn build(n: u64) -> (Vec<Hash>, Vec<Hash>) {
    let mut stored = Vec::new();
    let mut leaves = Vec::new();
    for i in 0..n {
        let leaf = Hash::leaf(format!("entry {i}").as_bytes());
        leaves.push(leaf);
        stored.extend(stored_hashes_for_append(i, leaf, &stored).unwrap());
    }
    (stored, leaves)
}

fn signer(name: &str, kind: KeyKind, seed: u8) -> Signer {
    Signer::new(name, kind, SigningKey::from_bytes(&[seed; 32])).unwrap()
}

struct Fixture {
    proof: TlogProof,
    leaf: Hash,
    policy: TrustPolicy,
}

fn fixture() -> Fixture {
    let (stored, leaves) = build(21);
    let log = signer(ORIGIN, KeyKind::Ed25519, 1);
    let w1 = signer("witness.example/w1", KeyKind::CosignatureV1, 2);
    let w2 = signer("witness.example/w2", KeyKind::CosignatureV1, 3);
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: 21,
        root: tree_hash(21, &stored).unwrap(),
        extensions: vec![],
    };
    let mut note = cp.sign(&log).unwrap();
    for w in [&w1, &w2] {
        let sig = w.cosign(&note.text, 1_800_000_000).unwrap();
        note.signatures.push(sig);
    }
    Fixture {
        proof: TlogProof {
            extra: Some(b"object.accepted".to_vec()),
            index: 13,
            inclusion: inclusion_proof(13, 21, &stored).unwrap(),
            checkpoint: note.to_string(),
        },
        leaf: leaves[13],
        policy: TrustPolicy {
            origin: ORIGIN.into(),
            log_keys: vec![log.verifier()],
            witnesses: vec![w1.verifier(), w2.verifier()],
            min_cosignatures: 2,
        },
    }
}

#[test]
fn a_proof_round_trips_through_text_and_verifies_under_policy() {
    let f = fixture();
    let text = f.proof.to_string();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra b2JqZWN0LmFjY2VwdGVk\nindex 13\n"));
    let parsed = TlogProof::parse(text.as_bytes()).unwrap();
    assert_eq!(parsed, f.proof);
    assert_eq!(parsed.verify(&f.leaf, &f.policy).unwrap().size, 21);
}

#[test]
fn proofs_fail_on_quorum_leaf_index_or_origin() {
    let f = fixture();
    let mut strict = f.policy.clone();
    strict.min_cosignatures = 3;
    assert!(matches!(
        f.proof.verify(&f.leaf, &strict),
        Err(OfflineProofError::TooFewCosignatures { got: 2, want: 3 })
    ));
    assert!(matches!(
        f.proof.verify(&Hash::leaf(b"other"), &f.policy),
        Err(OfflineProofError::Inclusion(TreeError::RootMismatch { .. }))
    ));
    let mut moved = f.proof.clone();
    moved.index = 12;
    assert!(moved.verify(&f.leaf, &f.policy).is_err());
    moved.index = 21;
    assert!(matches!(
        moved.verify(&f.leaf, &f.policy),
        Err(OfflineProofError::Inclusion(
            TreeError::IndexOutOfRange { .. }
        ))
    ));
    let mut short = f.proof.clone();
    short.inclusion.pop();
    assert!(matches!(
        short.verify(&f.leaf, &f.policy),
        Err(OfflineProofError::Inclusion(
            TreeError::WrongProofLength { .. }
        ))
    ));
    let mut elsewhere = f.policy.clone();
    elsewhere.origin = "comity.example/log-b".into();
    assert!(matches!(
        f.proof.verify(&f.leaf, &elsewhere),
        Err(OfflineProofError::Checkpoint(_))
    ));
    // Witness keys alone do not stand in for the log's key.
    let mut no_log = f.policy.clone();
    no_log.log_keys.clear();
    no_log.min_cosignatures = 0;
    assert!(matches!(
        f.proof.verify(&f.leaf, &no_log),
        Err(OfflineProofError::Checkpoint(_))
    ));
}

#[test]
fn spec_example_proof_parses() {
    // The example of c2sp.org/tlog-proof (its signatures are elided there, so
    // only the proof part is checked).
    let text = "c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\nindex 73894\ngSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\nB95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\nEKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\nRoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\nAHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n\nexample.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n\u{2014} example.com/fancylog hI2DJw[...]1roloI=\n";
    let p = TlogProof::parse(text.as_bytes()).unwrap();
    assert_eq!(p.index, 73894);
    assert_eq!(p.inclusion.len(), 5);
    assert!(p
        .extra
        .unwrap()
        .starts_with(b"age-v1.2.1-darwin-arm64.tar.gz"));
    assert!(p.checkpoint.starts_with("example.com/fancylog\n109482\n"));
}

#[test]
fn malformed_proofs_are_refused() {
    let good = fixture().proof.to_string();
    for bad in [
        good.replace("tlog-proof@v1", "tlog-proof@v2"),
        good.replace("index 13", "index 013"),
        good.replace("index 13", "index -1"),
        good.replace("index 13\n", "").to_string(),
        good.replace("extra b2JqZWN0LmFjY2VwdGVk", "extra !!"),
        good.replace("\n\ncomity", "\ncomity"),
        format!("{}\n", good.split("\n\n").next().unwrap()),
        "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n".to_owned(),
    ] {
        assert!(
            matches!(
                TlogProof::parse(bad.as_bytes()),
                Err(OfflineProofError::Malformed(_))
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn tile_paths_follow_the_spec() {
    // c2sp.org/tlog-tiles: "index 1234067 will be encoded as x001/x234/067".
    let t = Tile {
        kind: TileKind::Hashes(0),
        index: 1234067,
        width: 256,
    };
    assert_eq!(t.path(), "tile/0/x001/x234/067");
    let p = Tile {
        kind: TileKind::Hashes(0),
        index: 1234,
        width: 5,
    };
    assert_eq!(p.path(), "tile/0/x001/234.p/5");
    let e = Tile {
        kind: TileKind::Entries,
        index: 5,
        width: 256,
    };
    assert_eq!(e.path(), "tile/entries/005");
    for tile in [
        t,
        p,
        e,
        Tile {
            kind: TileKind::Hashes(3),
            index: 0,
            width: 1,
        },
    ] {
        assert_eq!(Tile::parse_path(&tile.path()).unwrap(), tile);
    }
    for bad in [
        "tile/0/1234067",
        "tile/0/x001/234/067",
        "tile/0/001/x234",
        "tile/0/x000/005",
        "tile/64/000",
        "tile/01/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/05",
        "tile/0/",
        "tiles/0/000",
        "tile/data/000",
        "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
    ] {
        assert!(
            matches!(Tile::parse_path(bad), Err(TileError::MalformedPath { .. })),
            "{bad}"
        );
    }
}

#[test]
fn tree_of_70000_has_the_tiles_the_spec_lists() {
    // c2sp.org/tlog-tiles: "a tree of size 70,000 will be represented by 273
    // full level 0 tiles, one partial level 0 tile of width 112, one full
    // level 1 tile, one partial level 1 tile of width 17, and one partial
    // level 2 tile of width 1", and "a tree of size 256 will be represented by
    // a full level 0 tile and a partial level 1 tile of width 1".
    let tiles: Vec<Tile> = Tile::all_for_size(70_000).collect();
    let at = |l| tiles.iter().filter(move |t| t.kind == TileKind::Hashes(l));
    assert_eq!(at(0).filter(|t| t.width == 256).count(), 273);
    assert_eq!(
        at(0)
            .filter(|t| t.width < 256)
            .map(|t| t.width)
            .collect::<Vec<_>>(),
        [112]
    );
    assert_eq!(at(1).map(|t| t.width).collect::<Vec<_>>(), [256, 17]);
    assert_eq!(at(2).map(|t| t.width).collect::<Vec<_>>(), [1]);
    assert_eq!(tiles.len(), 273 + 1 + 2 + 1);
    let small: Vec<String> = Tile::all_for_size(256).map(|t| t.path()).collect();
    assert_eq!(small, ["tile/0/000", "tile/1/000.p/1"]);
    assert!(tiles.iter().all(|t| t.exists_in(70_000)));
    assert!(!Tile {
        kind: TileKind::Hashes(0),
        index: 273,
        width: 113
    }
    .exists_in(70_000));
    assert!(!Tile {
        kind: TileKind::Hashes(2),
        index: 0,
        width: 2
    }
    .exists_in(70_000));
    assert!(!Tile {
        kind: TileKind::Hashes(9),
        index: 0,
        width: 1
    }
    .exists_in(u64::MAX));
}

#[test]
fn tiles_read_from_stored_hashes_hold_the_subtree_roots() {
    let (stored, leaves) = build(773);
    let level0 = Tile {
        kind: TileKind::Hashes(0),
        index: 3,
        width: 5,
    };
    let hashes = level0
        .parse_hashes(&level0.read(773, &stored).unwrap())
        .unwrap();
    assert_eq!(hashes, &leaves[768..773]);
    let level1 = Tile {
        kind: TileKind::Hashes(1),
        index: 0,
        width: 3,
    };
    let hashes = level1
        .parse_hashes(&level1.read(773, &stored).unwrap())
        .unwrap();
    for (i, h) in hashes.iter().enumerate() {
        assert_eq!(*h, root_from_leaves(&leaves[256 * i..256 * (i + 1)]));
    }
    assert!(matches!(
        Tile {
            kind: TileKind::Hashes(1),
            index: 0,
            width: 4
        }
        .read(773, &stored),
        Err(TileError::NotInTree { .. })
    ));
    // Truncated and overlong tiles.
    let data = level1.read(773, &stored).unwrap();
    assert!(matches!(
        level1.parse_hashes(&data[..95]),
        Err(TileError::WrongLength {
            got: 95,
            want: 96,
            ..
        })
    ));
    assert!(matches!(
        level1.parse_hashes(&[data.clone(), vec![0]].concat()),
        Err(TileError::WrongLength { .. })
    ));
    assert_eq!(
        Tile::bundle_for_entry(770, 773).unwrap().path(),
        "tile/entries/003.p/5"
    );
    assert_eq!(
        Tile::bundle_for_entry(10, 773).unwrap().path(),
        "tile/entries/000"
    );
    assert!(Tile::bundle_for_entry(773, 773).is_none());
}

#[test]
fn entry_bundles_round_trip_and_refuse_truncation() {
    let entries = [b"".to_vec(), b"first".to_vec(), vec![7u8; 300]];
    let data = encode_bundle(&entries).unwrap();
    assert_eq!(&data[..4], &[0, 0, 0, 5]);
    assert_eq!(decode_bundle(&data, 3).unwrap(), entries);
    for cut in [1, 2, 8, data.len() - 1] {
        assert!(
            matches!(
                decode_bundle(&data[..cut], 3),
                Err(TileError::TruncatedBundle { .. })
            ),
            "{cut}"
        );
    }
    assert!(matches!(
        decode_bundle(&data, 2),
        Err(TileError::WrongLength { .. })
    ));
    assert!(matches!(
        encode_bundle(&[vec![0u8; 65536]]),
        Err(TileError::EntryTooLong(65536))
    ));
}

/// Serves tiles computed from stored hashes, as a log's HTTP layer would,
/// optionally flipping one bit of every tile it serves.
struct Served<'a> {
    stored: &'a [Hash],
    size: u64,
    corrupt: bool,
}

impl TileSource for Served<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TreeError> {
        tiles
            .iter()
            .map(|t| {
                let mut data = t.read(self.size, self.stored).map_err(TreeError::storage)?;
                if self.corrupt {
                    data[0] ^= 1;
                }
                Ok(data)
            })
            .collect()
    }
}

#[test]
fn proofs_computed_from_tiles_equal_proofs_from_storage() {
    let (stored, leaves) = build(70_000);
    for size in [1u64, 255, 256, 257, 65_536, 70_000] {
        let tiles = TileHashReader::new(
            size,
            Served {
                stored: &stored,
                size,
                corrupt: false,
            },
        )
        .unwrap();
        let root = tree_hash(size, &stored).unwrap();
        assert_eq!(tree_hash(size, &tiles).unwrap(), root, "size {size}");
        for index in [0, size / 3, size - 1] {
            let p = inclusion_proof(index, size, &tiles).unwrap();
            assert_eq!(p, inclusion_proof(index, size, &stored).unwrap());
            verify_inclusion(&p, index, size, &leaves[index as usize], &root).unwrap();
            assert_eq!(
                consistency_proof(index + 1, size, &tiles).unwrap(),
                consistency_proof(index + 1, size, &stored).unwrap()
            );
        }
    }
}

#[test]
fn corrupt_or_missing_tiles_cannot_pass_verification() {
    let (stored, leaves) = build(1000);
    let root = tree_hash(1000, &stored).unwrap();
    let bad = TileHashReader::new(
        1000,
        Served {
            stored: &stored,
            size: 1000,
            corrupt: true,
        },
    )
    .unwrap();
    let p = inclusion_proof(500, 1000, &bad).unwrap();
    assert!(verify_inclusion(&p, 500, 1000, &leaves[500], &root).is_err());
    assert_ne!(tree_hash(1000, &bad).unwrap(), root);
    // Hashes beyond the tree are refused, not invented.
    let tiles = TileHashReader::new(
        1000,
        Served {
            stored: &stored,
            size: 1000,
            corrupt: false,
        },
    )
    .unwrap();
    assert!(matches!(
        tree_hash(1001, &tiles),
        Err(TreeError::MissingHash { .. })
    ));
    assert!(TileHashReader::new(
        u64::MAX,
        Served {
            stored: &stored,
            size: 1,
            corrupt: false
        }
    )
    .is_err());
}
