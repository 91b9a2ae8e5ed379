//! Test fixture for the independent Python verifier
//! (`tests/python/test_tlog_independent.py`): builds a small log of
//! [`LogEntry`] records with fixed test keys and prints, as JSON, the signed
//! and cosigned checkpoint, the verifier keys, the entries (version 2) and
//! their openings, inclusion proofs
//! for every entry, a consistency proof and one `tlog-proof@v1` text.
//! The keys are derived from constant seeds: never use them for anything real.

use comity_tlog::checkpoint::Checkpoint;
use comity_tlog::entry::{LogEntry, OBJECT_ACCEPTED};
use comity_tlog::note::{KeyKind, Signer};
use comity_tlog::offline::TlogProof;
use comity_tlog::proof::{consistency_proof, inclusion_proof};
use comity_tlog::tree::{stored_hashes_for_append, tree_hash};
use comity_tlog::Hash;
use ed25519_dalek::SigningKey;
use serde_json::json;

const ORIGIN: &str = "comity.example/fixture-log";
const SIZE: u64 = 37;
const OLD_SIZE: u64 = 13;

fn main() {
    let log = Signer::new(
        ORIGIN,
        KeyKind::Ed25519,
        SigningKey::from_bytes(&[0x11; 32]),
    )
    .expect("log key");
    let witness = Signer::new(
        "witness.example/fixture",
        KeyKind::CosignatureV1,
        SigningKey::from_bytes(&[0x22; 32]),
    )
    .expect("witness key");

    let mut stored: Vec<Hash> = Vec::new();
    let mut entries = Vec::new();
    let mut openings = Vec::new();
    for i in 0..SIZE {
        let entry = LogEntry {
            kind: OBJECT_ACCEPTED.into(),
            time: 1_795_737_600_000_000 + i as i64,
            actor: "identity--5e1c0c4e-3f3a-4b0e-9d6e-0b0a3d7c1a11".into(),
            subject: format!("indicator--00000000-0000-4000-8000-{i:012}@2026-11-27T00:00:00.000Z"),
            sha256: Hash::leaf(&i.to_be_bytes()).0,
        }
        .seal(Hash::leaf(&i.to_le_bytes()).0)
        .expect("valid entry");
        let (entry, opening) = (entry.0, entry.1.encode().expect("valid opening"));
        let new = stored_hashes_for_append(i, Hash::leaf(&entry), &stored).expect("append");
        stored.extend(new);
        entries.push(String::from_utf8(entry).expect("entries are JSON text"));
        openings.push(String::from_utf8(opening).expect("openings are JSON text"));
    }

    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: SIZE,
        root: tree_hash(SIZE, &stored).expect("root"),
        extensions: vec![],
    };
    let mut note = checkpoint.sign(&log).expect("sign");
    note.signatures
        .push(witness.cosign(&note.text, 1_795_737_700).expect("cosign"));
    let signed = note.to_string();

    let proofs: Vec<_> = (0..SIZE)
        .map(|i| {
            let p = inclusion_proof(i, SIZE, &stored).expect("proof");
            json!({"index": i, "hashes": p.iter().map(Hash::to_base64).collect::<Vec<_>>()})
        })
        .collect();
    let consistency = consistency_proof(OLD_SIZE, SIZE, &stored).expect("consistency");
    let offline = TlogProof {
        extra: None,
        index: 29,
        inclusion: inclusion_proof(29, SIZE, &stored).expect("proof"),
        checkpoint: signed.clone(),
    };

    let fixture = json!({
        "origin": ORIGIN,
        "log_vkey": log.verifier().to_string(),
        "witness_vkey": witness.verifier().to_string(),
        "checkpoint": signed,
        "entries": entries,
        "openings": openings,
        "inclusion": proofs,
        "consistency": {
            "old_size": OLD_SIZE,
            "old_root": tree_hash(OLD_SIZE, &stored).expect("old root").to_base64(),
            "hashes": consistency.iter().map(Hash::to_base64).collect::<Vec<_>>(),
        },
        "tlog_proof": offline.to_string(),
    });
    println!("{}", serde_json::to_string_pretty(&fixture).expect("JSON"));
}
