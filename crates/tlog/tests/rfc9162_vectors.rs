//! Published RFC 6962 / RFC 9162 Merkle tree vectors, checked against our
//! hashing, tree heads and proofs.
//!
//! Source of every vector here: the eight-leaf reference tree of the
//! Certificate Transparency implementations, as published in
//! github.com/transparency-dev/merkle: `testonly/constants.go` (leaf inputs,
//! root hashes for every size 0..=8) and `testdata/inclusion/*/happy-path.json`,
//! `testdata/consistency/*/happy-path.json` (proofs).

use comity_tlog::proof::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion,
};
use comity_tlog::tree::{stored_hashes_for_append, tree_hash};
use comity_tlog::Hash;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn b64(s: &str) -> Hash {
    Hash::from_base64(s).unwrap()
}

/// transparency-dev/merkle testonly/constants.go LeafInputs().
const LEAF_INPUTS: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// transparency-dev/merkle testonly/constants.go RootHashes(), by tree size.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// transparency-dev/merkle testonly/constants.go NodeHashes()[0]: leaf hashes.
const LEAF_HASHES: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
];

fn stored_tree() -> Vec<Hash> {
    let mut stored = Vec::new();
    for (i, input) in LEAF_INPUTS.iter().enumerate() {
        let new = stored_hashes_for_append(i as u64, Hash::leaf(&unhex(input)), &stored).unwrap();
        stored.extend(new);
    }
    stored
}

#[test]
fn leaf_hashes_match_reference_tree() {
    for (input, want) in LEAF_INPUTS.iter().zip(LEAF_HASHES) {
        assert_eq!(Hash::leaf(&unhex(input)).to_hex(), want);
    }
}

#[test]
fn tree_heads_match_reference_tree_for_every_size() {
    let stored = stored_tree();
    for (size, want) in ROOTS.iter().enumerate() {
        assert_eq!(
            tree_hash(size as u64, &stored).unwrap().to_hex(),
            *want,
            "size {size}"
        );
    }
}

/// testdata/inclusion/{0..4}/happy-path.json: (index, size, leaf hash, proof, root).
const INCLUSION: [(u64, u64, &str, &[&str], &str); 5] = [
    (
        0,
        1,
        "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        &[],
        "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
    ),
    (
        0,
        8,
        "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        &[
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
        ],
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
    ),
    (
        5,
        8,
        "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=",
        &[
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
            "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
        ],
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
    ),
    (
        2,
        3,
        "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=",
        &["+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="],
        "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=",
    ),
    (
        1,
        5,
        "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
        &[
            "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
        ],
        "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
    ),
];

#[test]
fn inclusion_proofs_match_published_vectors() {
    let stored = stored_tree();
    for (index, size, leaf, proof, root) in INCLUSION {
        let want: Vec<Hash> = proof.iter().map(|s| b64(s)).collect();
        assert_eq!(
            inclusion_proof(index, size, &stored).unwrap(),
            want,
            "{index}@{size}"
        );
        verify_inclusion(&want, index, size, &b64(leaf), &b64(root)).unwrap();
        // A flipped bit anywhere must fail.
        for i in 0..want.len() {
            let mut bad = want.clone();
            bad[i].0[7] ^= 0x10;
            assert!(verify_inclusion(&bad, index, size, &b64(leaf), &b64(root)).is_err());
        }
    }
}

/// testdata/consistency/{0..4}/happy-path.json: (old, new, old root, new root, proof).
const CONSISTENCY: [(u64, u64, &str, &str, &[&str]); 5] = [
    (
        1,
        1,
        "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        &[],
    ),
    (
        1,
        8,
        "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        &[
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
        ],
    ),
    (
        6,
        8,
        "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=",
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        &[
            "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
            "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
        ],
    ),
    (
        2,
        5,
        "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=",
        "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
        &[
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
        ],
    ),
    (
        6,
        7,
        "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=",
        "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=",
        &[
            "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
            "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
        ],
    ),
];

#[test]
fn consistency_proofs_match_published_vectors() {
    let stored = stored_tree();
    for (old, new, old_root, new_root, proof) in CONSISTENCY {
        let want: Vec<Hash> = proof.iter().map(|s| b64(s)).collect();
        assert_eq!(
            consistency_proof(old, new, &stored).unwrap(),
            want,
            "{old}->{new}"
        );
        verify_consistency(&want, old, new, &b64(old_root), &b64(new_root)).unwrap();
        for i in 0..want.len() {
            let mut bad = want.clone();
            bad[i].0[31] ^= 1;
            assert!(verify_consistency(&bad, old, new, &b64(old_root), &b64(new_root)).is_err());
        }
        // Swapped roots must fail (transparency-dev "swapped-roots" case).
        if old != new {
            assert!(verify_consistency(&want, old, new, &b64(new_root), &b64(old_root)).is_err());
        }
    }
}
