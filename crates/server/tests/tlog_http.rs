//! The transparency log over real HTTP on a real SQLite store: posted objects are committed,
//! the checkpoint and tiles verify with comity-tlog, and the witness endpoint cosigns a
//! trusted peer, refuses its fork (422), replays of older sizes (409), unknown logs (404)
//! and malformed bodies (400), changing nothing when it refuses.

mod common;

use comity_store::{Access, Role};
use comity_tlog::checkpoint::Checkpoint;
use comity_tlog::note::{Signer, Verifier};
use comity_tlog::proof::consistency_proof;
use comity_tlog::tiles::Tile;
use comity_tlog::tree::stored_hashes_for_append;
use comity_tlog::witness::AddCheckpoint;
use comity_tlog::Hash;
use common::{signer, Node, TestNode, PASSWORD};
use reqwest::StatusCode;

const COL: &str = "5c2f0f39-6a4c-4a57-9b7e-2b9e3f3a0d11";
const PEER: &str = "peer.example/log";

async fn start() -> Node {
    let all = Access {
        read: true,
        write: true,
    };
    TestNode::new()
        .with_api_root(1_000_000)
        .with_collection(COL, "c")
        .with_user("admin", Role::Admin)
        .with_grant(COL, "admin", all)
        .trusting(PEER, &signer(PEER, 9))
        .with_log(signer("comity/test", 1))
        .start()
        .await
}

fn indicator(n: u32) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}}"#
    )
}

async fn get(node: &Node, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{path}", node.base))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap()
}

async fn witness(node: &Node, body: String) -> (StatusCode, String) {
    let r = reqwest::Client::new()
        .post(format!("{}/log/add-checkpoint", node.base))
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posted_objects_are_committed_and_served_as_checkpoint_and_tiles() {
    let node = start().await;
    let objects: Vec<String> = (0..300).map(indicator).collect();
    let r = reqwest::Client::new()
        .post(format!(
            "{}/taxii2/default/collections/{COL}/objects/",
            node.base
        ))
        .basic_auth("admin", Some(PASSWORD))
        .header("Accept", "application/taxii+json;version=2.1")
        .header("Content-Type", "application/taxii+json;version=2.1")
        .body(format!(r#"{{"objects":[{}]}}"#, objects.join(",")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);

    let unauthenticated = reqwest::get(format!("{}/log/checkpoint", node.base))
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    let note = get(&node, "/log/checkpoint").await.text().await.unwrap();
    let signed = Checkpoint::open(note.as_bytes(), "comity/test", &[node.log.verifier()]).unwrap();
    assert_eq!(signed.checkpoint.size, 300);

    // Level-0 tiles are the leaf hashes of the entry bundles' entries.
    let full = get(&node, "/log/tile/0/000").await.bytes().await.unwrap();
    let bundle = get(&node, "/log/tile/entries/000")
        .await
        .bytes()
        .await
        .unwrap();
    let entries = comity_tlog::tiles::decode_bundle(&bundle, 256).unwrap();
    let leaves: Vec<u8> = entries.iter().flat_map(|e| Hash::leaf(e).0).collect();
    assert_eq!(full.to_vec(), leaves);
    let partial = get(&node, "/log/tile/0/001.p/44").await;
    assert_eq!(partial.status(), StatusCode::OK);
    assert_eq!(partial.bytes().await.unwrap().len(), 44 * 32);
    let level1 = get(&node, "/log/tile/1/000.p/1").await;
    assert_eq!(level1.status(), StatusCode::OK);
    let hashes = Tile::parse_path("tile/1/000.p/1")
        .unwrap()
        .parse_hashes(&level1.bytes().await.unwrap())
        .unwrap();
    let mut stored = Vec::new();
    for (n, e) in comity_tlog::tiles::decode_bundle(&bundle, 256)
        .unwrap()
        .iter()
        .enumerate()
    {
        stored.extend(stored_hashes_for_append(n as u64, Hash::leaf(e), &stored).unwrap());
    }
    assert_eq!(
        hashes[0],
        comity_tlog::tree::tree_hash(256, &stored).unwrap()
    );
    for missing in [
        "/log/tile/0/002",
        "/log/tile/0/001.p/45",
        "/log/tile/entries/x",
        "/log/tile/9/000",
    ] {
        assert_eq!(
            get(&node, missing).await.status(),
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
    // Entries are sealed (version 2): kind and time in the clear, the rest committed.
    let entry: serde_json::Value = serde_json::from_slice(&entries[0]).unwrap();
    let members: Vec<&String> = entry.as_object().unwrap().keys().collect();
    assert_eq!(members, ["commitment", "kind", "time", "v"]);
    assert_eq!(entry["kind"], "object.accepted");
    assert_eq!(entry["v"], 2);
}

/// A peer log in memory: its entries' stored hashes and signed checkpoints.
struct PeerLog {
    signer: Signer,
    stored: Vec<Hash>,
    size: u64,
}

impl PeerLog {
    fn new(entries: &[&[u8]]) -> PeerLog {
        let mut log = PeerLog {
            signer: signer(PEER, 9),
            stored: Vec::new(),
            size: 0,
        };
        for e in entries {
            log.append(e);
        }
        log
    }
    fn append(&mut self, entry: &[u8]) {
        let new = stored_hashes_for_append(self.size, Hash::leaf(entry), &self.stored).unwrap();
        self.stored.extend(new);
        self.size += 1;
    }
    fn checkpoint(&self) -> String {
        Checkpoint {
            origin: PEER.into(),
            size: self.size,
            root: comity_tlog::tree::tree_hash(self.size, &self.stored).unwrap(),
            extensions: vec![],
        }
        .sign(&self.signer)
        .unwrap()
        .to_string()
    }
    fn request(&self, old: u64) -> String {
        AddCheckpoint {
            old_size: old,
            proof: consistency_proof(old, self.size, &self.stored).unwrap(),
            checkpoint: self.checkpoint(),
        }
        .to_body()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_witness_cosigns_a_trusted_peer_and_refuses_forks_replays_and_strangers() {
    let node = start().await;
    let mut honest = PeerLog::new(&[b"a", b"b", b"c"]);
    let (status, lines) = witness(&node, honest.request(0)).await;
    assert_eq!(status, StatusCode::OK, "{lines}");
    let cosigner = Verifier::parse(&node.log.cosigner_verifier().to_string()).unwrap();
    let cosigned = format!("{}{lines}", honest.checkpoint());
    let opened = comity_tlog::note::Note::open(cosigned.as_bytes(), &[cosigner]).unwrap();
    assert_eq!(opened.verified.len(), 1);

    honest.append(b"d");
    assert_eq!(witness(&node, honest.request(3)).await.0, StatusCode::OK);

    // A fork: the same key signs a different log of a larger size.
    let fork = PeerLog::new(&[b"a", b"b", b"X", b"d", b"e"]);
    let (status, body) = witness(&node, fork.request(4)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // A replay of an older size: 409 with the size known.
    let (status, body) = witness(&node, PeerLog::new(&[b"a", b"b", b"c"]).request(0)).await;
    assert_eq!((status, body.as_str()), (StatusCode::CONFLICT, "4\n"));
    // Unknown logs, bad signatures and malformed bodies.
    let stranger = {
        let mut s = PeerLog::new(&[b"a"]);
        s.signer = signer("stranger.example/log", 3);
        s
    };
    let body = stranger.request(0).replace(PEER, "stranger.example/log");
    assert_eq!(witness(&node, body).await.0, StatusCode::NOT_FOUND);
    let mut forged = PeerLog::new(&[b"a", b"b", b"c", b"d", b"e"]);
    forged.signer = signer(PEER, 4);
    assert_eq!(
        witness(&node, forged.request(4)).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        witness(&node, "old x\n\n".into()).await.0,
        StatusCode::BAD_REQUEST
    );
    // Nothing changed: the honest log still continues from size 4.
    let witnessed = node
        .store
        .transparency_log()
        .witnessed(PEER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(witnessed.head.size, 4);
    honest.append(b"e");
    assert_eq!(witness(&node, honest.request(4)).await.0, StatusCode::OK);
}
