//! The tlog-witness `add-checkpoint` decision (c2sp.org/tlog-witness): every
//! status code, replays, forks, and the atomic state hand-off.

use std::collections::HashMap;

use comity_tlog::checkpoint::Checkpoint;
use comity_tlog::note::{KeyKind, Signer};
use comity_tlog::proof::consistency_proof;
use comity_tlog::tree::{stored_hashes_for_append, tree_hash};
use comity_tlog::witness::{
    AddCheckpoint, TreeHead, Witness, WitnessError, WitnessState, WitnessedCheckpoint,
};
use comity_tlog::Hash;
use ed25519_dalek::SigningKey;

const ORIGIN: &str = "comity.example/log-a";

#[derive(Default)]
struct MemoryState {
    map: HashMap<String, WitnessedCheckpoint>,
    /// When set, the next compare-and-swap loses a race to this checkpoint.
    racer: Option<WitnessedCheckpoint>,
}

impl WitnessState for MemoryState {
    fn latest(&self, origin: &str) -> Result<Option<WitnessedCheckpoint>, WitnessError> {
        Ok(self.map.get(origin).cloned())
    }
    fn compare_and_swap(
        &mut self,
        origin: &str,
        expected: Option<TreeHead>,
        new: WitnessedCheckpoint,
    ) -> Result<bool, WitnessError> {
        if let Some(r) = self.racer.take() {
            self.map.insert(origin.to_owned(), r);
        }
        if self.map.get(origin).map(|w| w.head) != expected {
            return Ok(false);
        }
        self.map.insert(origin.to_owned(), new);
        Ok(true)
    }
}

struct Log {
    signer: Signer,
    stored: Vec<Hash>,
    size: u64,
}

impl Log {
    fn new(seed: u8) -> Log {
        Log {
            signer: Signer::new(
                ORIGIN,
                KeyKind::Ed25519,
                SigningKey::from_bytes(&[seed; 32]),
            )
            .unwrap(),
            stored: Vec::new(),
            size: 0,
        }
    }
    fn append(&mut self, entries: &[&str]) {
        for e in entries {
            let new = stored_hashes_for_append(self.size, Hash::leaf(e.as_bytes()), &self.stored)
                .unwrap();
            self.stored.extend(new);
            self.size += 1;
        }
    }
    fn checkpoint(&self) -> String {
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size: self.size,
            root: tree_hash(self.size, &self.stored).unwrap(),
            extensions: vec![],
        };
        cp.sign(&self.signer).unwrap().to_string()
    }
    fn request(&self, old: u64) -> Vec<u8> {
        AddCheckpoint {
            old_size: old,
            proof: consistency_proof(old, self.size, &self.stored).unwrap(),
            checkpoint: self.checkpoint(),
        }
        .to_body()
        .into_bytes()
    }
}

fn witness(log: &Log) -> (Witness, Signer) {
    let key = Signer::new(
        "witness.example/w1",
        KeyKind::CosignatureV1,
        SigningKey::from_bytes(&[9; 32]),
    )
    .unwrap();
    let mut w = Witness::new(vec![key.clone()]).unwrap();
    w.trust_log(ORIGIN, vec![log.signer.verifier()]).unwrap();
    (w, key)
}

#[test]
fn first_checkpoint_then_consistent_growth_is_cosigned() {
    let mut log = Log::new(1);
    log.append(&["a", "b", "c"]);
    let (w, key) = witness(&log);
    let mut state = MemoryState::default();
    let lines = w
        .add_checkpoint(&log.request(0), &mut state, 1_800_000_000)
        .unwrap();
    // The response merges into the checkpoint and verifies as a cosignature.
    let merged = format!("{}{}", log.checkpoint(), lines);
    let opened = Checkpoint::open(
        merged.as_bytes(),
        ORIGIN,
        &[log.signer.verifier(), key.verifier()],
    )
    .unwrap();
    assert_eq!(opened.note.verified[1].timestamp, Some(1_800_000_000));
    assert_eq!(state.map[ORIGIN].head.size, 3);
    // The stored note carries log signature and cosignature, for monitors.
    Checkpoint::open(
        state.map[ORIGIN].note.as_bytes(),
        ORIGIN,
        &[key.verifier(), log.signer.verifier()],
    )
    .unwrap();

    log.append(&["d", "e"]);
    w.add_checkpoint(&log.request(3), &mut state, 1_800_000_001)
        .unwrap();
    assert_eq!(state.map[ORIGIN].head.size, 5);
}

#[test]
fn replayed_request_gets_409_with_the_known_size_and_changes_nothing() {
    let mut log = Log::new(1);
    log.append(&["a", "b"]);
    let (w, _) = witness(&log);
    let mut state = MemoryState::default();
    let req = log.request(0);
    w.add_checkpoint(&req, &mut state, 1).unwrap();
    let before = state.map[ORIGIN].clone();
    let err = w.add_checkpoint(&req, &mut state, 2).unwrap_err();
    assert_eq!(err.status(), 409);
    assert_eq!(err.response_body(), "2\n");
    assert_eq!(state.map[ORIGIN], before);
    // Re-submitting the very checkpoint last cosigned is cosigned again.
    w.add_checkpoint(&log.request(2), &mut state, 3).unwrap();
    assert_eq!(state.map[ORIGIN].head, before.head);
}

#[test]
fn bad_proof_is_422_and_leaves_state_alone() {
    let mut log = Log::new(1);
    log.append(&["a", "b", "c"]);
    let (w, _) = witness(&log);
    let mut state = MemoryState::default();
    w.add_checkpoint(&log.request(0), &mut state, 1).unwrap();
    log.append(&["d", "e", "f"]);
    let mut req = AddCheckpoint::parse(&log.request(3)).unwrap();
    req.proof[1].0[0] ^= 0x80;
    let err = w
        .add_checkpoint(req.to_body().as_bytes(), &mut state, 2)
        .unwrap_err();
    assert_eq!(err.status(), 422, "{err}");
    req.proof.pop();
    assert_eq!(
        w.add_checkpoint(req.to_body().as_bytes(), &mut state, 2)
            .unwrap_err()
            .status(),
        422
    );
    assert_eq!(state.map[ORIGIN].head.size, 3);
    // From zero the proof must be empty.
    let mut fresh = MemoryState::default();
    let mut req = AddCheckpoint::parse(&log.request(0)).unwrap();
    req.proof.push(Hash::leaf(b"x"));
    assert_eq!(
        w.add_checkpoint(req.to_body().as_bytes(), &mut fresh, 2)
            .unwrap_err()
            .status(),
        422
    );
}

#[test]
fn a_fork_signed_by_the_same_key_is_refused_with_the_evidence() {
    let mut honest = Log::new(1);
    honest.append(&["a", "b"]);
    let mut forked = Log::new(1);
    forked.append(&["a", "B"]);
    let (w, _) = witness(&honest);
    let mut state = MemoryState::default();
    w.add_checkpoint(&honest.request(0), &mut state, 1).unwrap();
    let err = w
        .add_checkpoint(&forked.request(2), &mut state, 2)
        .unwrap_err();
    assert_eq!(err.status(), 422);
    let WitnessError::Inconsistent {
        latest: Some(evidence),
        ..
    } = err
    else {
        panic!("want evidence, got {err:?}");
    };
    assert!(evidence.note.starts_with(&honest.checkpoint()[..40]));
    // A larger forked tree cannot prove consistency either.
    forked.append(&["c"]);
    assert_eq!(
        w.add_checkpoint(&forked.request(2), &mut state, 2)
            .unwrap_err()
            .status(),
        422
    );
}

#[test]
fn signatures_origins_and_syntax_map_to_403_404_400() {
    let mut log = Log::new(1);
    log.append(&["a"]);
    let (w, _) = witness(&log);
    let mut state = MemoryState::default();
    // Signed by an unknown key under the log's name.
    let mut stranger = Log::new(2);
    stranger.append(&["a"]);
    assert_eq!(
        w.add_checkpoint(&stranger.request(0), &mut state, 1)
            .unwrap_err()
            .status(),
        403
    );
    // A corrupted signature from the trusted key.
    let mut req = AddCheckpoint::parse(&log.request(0)).unwrap();
    let sig_at = req.checkpoint.rfind(' ').unwrap() + 5;
    let mut bytes = req.checkpoint.into_bytes();
    bytes[sig_at] = if bytes[sig_at] == b'A' { b'B' } else { b'A' };
    req.checkpoint = String::from_utf8(bytes).unwrap();
    assert_eq!(
        w.add_checkpoint(req.to_body().as_bytes(), &mut state, 1)
            .unwrap_err()
            .status(),
        403
    );
    // Unknown origin.
    let other = Checkpoint {
        origin: "elsewhere.example/log".into(),
        size: 0,
        root: Hash::empty_root(),
        extensions: vec![],
    };
    let s = Signer::new(
        "elsewhere.example/log",
        KeyKind::Ed25519,
        SigningKey::from_bytes(&[3; 32]),
    )
    .unwrap();
    let body = format!("old 0\n\n{}", other.sign(&s).unwrap());
    assert_eq!(
        w.add_checkpoint(body.as_bytes(), &mut state, 1)
            .unwrap_err()
            .status(),
        404
    );
    // Old size above the checkpoint size: sizes going backwards.
    let body = format!("old 5\n\n{}", log.checkpoint());
    assert!(matches!(
        w.add_checkpoint(body.as_bytes(), &mut state, 1),
        Err(WitnessError::SizeGoesBackwards { old: 5, size: 1 })
    ));
    // Malformed bodies.
    let cp = log.checkpoint();
    let many = format!(
        "old 1\n{}\n{cp}",
        format!("{}\n", Hash::empty_root()).repeat(64)
    );
    for body in [
        String::new(),
        format!("old 01\n\n{cp}"),
        format!("old -1\n\n{cp}"),
        format!("new 0\n\n{cp}"),
        format!("old 0\n{cp}"),
        format!("old 0\nnot-a-hash\n\n{cp}"),
        "old 0\n\ngarbage\n".to_owned(),
        many,
    ] {
        assert_eq!(
            w.add_checkpoint(body.as_bytes(), &mut state, 1)
                .unwrap_err()
                .status(),
            400,
            "{body:?}"
        );
    }
    assert!(state.map.is_empty());
}

#[test]
fn empty_checkpoint_must_have_the_empty_root() {
    let log = Log::new(1);
    let (w, _) = witness(&log);
    let mut state = MemoryState::default();
    w.add_checkpoint(&log.request(0), &mut state, 1).unwrap();
    let bad = Checkpoint {
        origin: ORIGIN.into(),
        size: 0,
        root: Hash::leaf(b""),
        extensions: vec![],
    };
    let body = format!("old 0\n\n{}", bad.sign(&log.signer).unwrap());
    assert_eq!(
        w.add_checkpoint(body.as_bytes(), &mut state, 1)
            .unwrap_err()
            .status(),
        422
    );
}

#[test]
fn losing_the_compare_and_swap_race_is_409_not_a_rollback() {
    let mut log = Log::new(1);
    log.append(&["a", "b"]);
    let (w, _) = witness(&log);
    let mut state = MemoryState::default();
    let racer = WitnessedCheckpoint {
        head: TreeHead {
            size: 7,
            root: Hash::leaf(b"r"),
        },
        note: String::new(),
    };
    state.racer = Some(racer.clone());
    let err = w
        .add_checkpoint(&log.request(0), &mut state, 1)
        .unwrap_err();
    assert_eq!(err.response_body(), "7\n");
    assert_eq!(state.map[ORIGIN], racer);
}

#[test]
fn spec_example_request_body_parses() {
    // The example request of c2sp.org/tlog-witness, add-checkpoint.
    let body = "old 20852014\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\njrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
    let req = AddCheckpoint::parse(body.as_bytes()).unwrap();
    assert_eq!(req.old_size, 20852014);
    assert_eq!(req.proof.len(), 4);
    assert!(req
        .checkpoint
        .starts_with("example.com/behind-the-sofa\n20852163\n"));
    assert_eq!(req.to_body(), body);
}
