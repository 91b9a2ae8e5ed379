//! What the transparency log tells each caller, over real HTTP against a real server on a
//! real SQLite store: entry bundles are for admins only (a member token, a viewer without
//! grants and a granted analyst are refused; hash tiles and checkpoints stay readable);
//! a RED IPv4 SCO is recovered by brute force over a /16 from a version 1 entry but not
//! from a version 2 entry; and an object's entries, openings and proofs go to those who
//! may read the object, and verify, while everyone else gets the 404 of an absent object;
//! a version deleted and added again with other content is proven by its own entry only.

mod common;

use comity_stix::tlp::{TLP2_GREEN, TLP2_RED};
use comity_store::{Role, User};
use comity_tlog::checkpoint::Checkpoint;
use comity_tlog::entry::{Entry, LogEntry, Opening, OBJECT_ACCEPTED, OPENING_DOMAIN};
use comity_tlog::offline::{TlogProof, TrustPolicy};
use comity_tlog::Hash;
use common::{start, World, PASSWORD, SRC, VIEW_A};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// How a test caller authenticates.
enum Who<'a> {
    User(&'a str),
    Token(&'a str),
}

async fn get(world: &World, who: &Who<'_>, path: &str) -> reqwest::Response {
    let req = reqwest::Client::new().get(format!("{}{path}", world.base));
    let req = match who {
        Who::User(name) => req.basic_auth(name, Some(PASSWORD)),
        Who::Token(secret) => req.bearer_auth(secret),
    };
    req.send().await.unwrap()
}

async fn post(world: &World, objects: &[Value]) {
    let r = reqwest::Client::new()
        .post(format!(
            "{}/taxii2/default/collections/{SRC}/objects/",
            world.base
        ))
        .basic_auth("admin", Some(PASSWORD))
        .header("Accept", "application/taxii+json;version=2.1")
        .header("Content-Type", "application/taxii+json;version=2.1")
        .body(json!({ "objects": objects }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let status: Value = r.json().await.unwrap();
    assert_eq!(status["success_count"], json!(objects.len()), "{status}");
}

/// A viewer that holds no grant at all.
async fn add_viewer_without_grants(world: &World) {
    world
        .store
        .create_user(User {
            name: "nobody".into(),
            role: Role::Viewer,
            password_hash: comity_node::admin::hash_password(PASSWORD).unwrap(),
        })
        .await
        .unwrap();
}

fn ipv4(value: &str, marking: &str) -> Value {
    let mut sco = json!({"type": "ipv4-addr", "spec_version": "2.1", "value": value});
    sco["id"] = json!(comity_stix::deterministic_sco_id(&sco).unwrap());
    sco["object_marking_refs"] = json!([marking]);
    sco
}

fn indicator(n: u32, marking: &str) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '203.0.113.7']", "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z", "object_marking_refs": [marking]
    })
}

fn sha256_of(object: &Value) -> [u8; 32] {
    Sha256::digest(comity_stix::canonical_json(object)).into()
}

/// The log's size in the latest checkpoint.
async fn size(world: &World) -> u64 {
    let note = get(world, &Who::User("admin"), "/log/checkpoint")
        .await
        .text()
        .await
        .unwrap();
    Checkpoint::open(note.as_bytes(), "comity/test", &[world.log.verifier()])
        .unwrap()
        .checkpoint
        .size
}

/// Every entry, through the entry bundle an admin may read.
async fn entries(world: &World, size: u64) -> Vec<Vec<u8>> {
    assert!(size < 256, "one partial bundle");
    let bundle = get(
        world,
        &Who::User("admin"),
        &format!("/log/tile/entries/000.p/{size}"),
    )
    .await;
    assert_eq!(bundle.status(), StatusCode::OK);
    comity_tlog::tiles::decode_bundle(&bundle.bytes().await.unwrap(), size as u16).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_bundles_are_for_admins_while_hash_tiles_and_checkpoints_stay_readable() {
    let world = start().await;
    add_viewer_without_grants(&world).await;
    post(
        &world,
        &[indicator(1, TLP2_RED), ipv4("198.18.1.1", TLP2_RED)],
    )
    .await;
    let n = size(&world).await;
    let bundle = format!("/log/tile/entries/000.p/{n}");
    let tile = format!("/log/tile/0/000.p/{n}");
    for who in [
        Who::Token(&world.token_a),
        Who::User("nobody"),
        Who::User("viewer"),
        Who::User("analyst"),
    ] {
        let r = get(&world, &who, &bundle).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let body = r.text().await.unwrap();
        assert!(body.contains("for admins only"), "{body}");
        assert!(
            !body.contains("object.accepted") && !body.contains("--"),
            "{body}"
        );
        // A full bundle, a later one and a malformed path are refused alike: the refusal
        // does not depend on what the log holds.
        for other in [
            "/log/tile/entries/000",
            "/log/tile/entries/007",
            "/log/tile/entries/x",
        ] {
            let status = get(&world, &who, other).await.status();
            assert!(
                [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&status),
                "{other}: {status}"
            );
        }
        assert_eq!(get(&world, &who, &tile).await.status(), StatusCode::OK);
        assert_eq!(
            get(&world, &who, "/log/checkpoint").await.status(),
            StatusCode::OK
        );
    }
    // The hash tile a member reads is the leaves of the entries an admin reads.
    let leaves = get(&world, &Who::Token(&world.token_a), &tile)
        .await
        .bytes()
        .await
        .unwrap();
    let want: Vec<u8> = entries(&world, n)
        .await
        .iter()
        .flat_map(|e| Hash::leaf(e).0)
        .collect();
    assert_eq!(leaves.to_vec(), want);
}

/// The attack of the finding: every address of `198.18.0.0/16` as an `ipv4-addr` SCO, its
/// UUIDv5 id and content hash, matched against what the entries show. Returns the address
/// recovered, if any.
fn brute_force(entries: &[Vec<u8>], origin: &str) -> Option<String> {
    let decoded: Vec<Entry> = entries.iter().map(|e| Entry::decode(e).unwrap()).collect();
    for c in 0..=255u8 {
        for d in 0..=255u8 {
            let value = format!("198.18.{c}.{d}");
            let mut sco = json!({"type": "ipv4-addr", "spec_version": "2.1", "value": value});
            let id = comity_stix::deterministic_sco_id(&sco).unwrap();
            sco["id"] = json!(id);
            sco["object_marking_refs"] = json!([TLP2_RED]);
            for entry in &decoded {
                let hit = match entry {
                    Entry::V1(e) => e.subject == id,
                    // The best a guesser can do without the salt: every field known, the
                    // salt guessed.
                    Entry::V2(e) => {
                        let guess = Opening {
                            actor: origin.into(),
                            subject: id.clone(),
                            sha256: sha256_of(&sco),
                            salt: [0; 32],
                        };
                        guess.commitment().unwrap() == e.commitment
                    }
                };
                if hit {
                    return Some(value);
                }
            }
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_red_ipv4_is_recovered_from_a_version_1_entry_but_not_from_a_version_2_entry() {
    let world = start().await;
    let origin = world.log.origin().to_owned();
    // Version 1: the entry a node wrote before this change, for a RED SCO it holds.
    let old = ipv4("198.18.7.9", TLP2_RED);
    let v1 = LogEntry {
        kind: OBJECT_ACCEPTED.into(),
        time: comity_stix::clock::now_us(),
        actor: origin.clone(),
        subject: old["id"].as_str().unwrap().into(),
        sha256: sha256_of(&old),
    }
    .encode_v1()
    .unwrap();
    let first = world.store.transparency_log().log_size().await.unwrap();
    world
        .store
        .transparency_log()
        .append_entries(vec![v1])
        .await
        .unwrap();
    let old_entries = entries(&world, size(&world).await).await;
    assert_eq!(
        brute_force(&old_entries[first as usize..], &origin).as_deref(),
        Some("198.18.7.9")
    );

    // Version 2: what the node writes now for a RED SCO posted over TAXII.
    let secret = ipv4("198.18.201.33", TLP2_RED);
    post(&world, std::slice::from_ref(&secret)).await;
    let all = entries(&world, size(&world).await).await;
    let new = &all[old_entries.len()..];
    assert_eq!(new.len(), 1);
    assert_eq!(brute_force(new, &origin), None);
    let text = String::from_utf8(new[0].clone()).unwrap();
    assert!(
        matches!(Entry::decode(&new[0]).unwrap(), Entry::V2(_)),
        "{text}"
    );
    for leak in [secret["id"].as_str().unwrap(), &origin, "198.18.", "ipv4"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }

    // Its proof goes to an admin, and opens to the object; not to member A, whose view
    // the RED object never leaves, nor to a viewer without grants.
    add_viewer_without_grants(&world).await;
    let id = secret["id"].as_str().unwrap();
    let proofs = object_proofs(&world, &Who::User("admin"), SRC, id).await;
    assert_eq!(proofs.len(), 1);
    let act = verify(&world, &proofs[0], &secret);
    assert_eq!(
        (act.actor.as_str(), act.subject.as_str()),
        (origin.as_str(), id)
    );
    refused_like_absent(&world, &Who::Token(&world.token_a), VIEW_A, id).await;
    refused_like_absent(&world, &Who::User("nobody"), SRC, id).await;
}

async fn object_proofs(world: &World, who: &Who<'_>, collection: &str, id: &str) -> Vec<Value> {
    let r = get(
        world,
        who,
        &format!("/log/objects/default/{collection}/{id}/"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{collection} {id}");
    let body: Value = r.json().await.unwrap();
    body["commitments"].as_array().unwrap().clone()
}

/// A 404 whose body is the one an absent object of the same shape gets.
async fn refused_like_absent(world: &World, who: &Who<'_>, collection: &str, id: &str) {
    let absent = "indicator--ffffffff-0000-4000-8000-000000000000";
    let path = |id: &str| format!("/log/objects/default/{collection}/{id}/");
    let hidden = get(world, who, &path(id)).await;
    let missing = get(world, who, &path(absent)).await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND, "{collection} {id}");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        hidden.text().await.unwrap().replace(id, "ID"),
        missing.text().await.unwrap().replace(absent, "ID")
    );
}

/// Checks one commitment as a reader would offline: the proof puts the entry in the log
/// signed by the node's key, and the opening opens the entry to exactly `object`.
fn verify(world: &World, c: &Value, object: &Value) -> LogEntry {
    let policy = TrustPolicy {
        origin: world.log.origin().into(),
        log_keys: vec![world.log.verifier()],
        witnesses: vec![],
        min_cosignatures: 0,
    };
    let entry = c["entry"].as_str().unwrap().as_bytes();
    let proof = TlogProof::parse(c["proof"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(json!(proof.index), c["index"]);
    proof.verify(&Hash::leaf(entry), &policy).unwrap();
    let opening = Opening::decode(c["opening"].as_str().unwrap().as_bytes()).unwrap();
    let mut input = OPENING_DOMAIN.to_vec();
    input.extend(c["opening"].as_str().unwrap().as_bytes());
    let act = Entry::decode(entry)
        .unwrap()
        .reveal(Some(&opening))
        .unwrap();
    assert_eq!(act.kind, OBJECT_ACCEPTED);
    let version = comity_stix::version_key(object);
    let subject = match version {
        Some(v) => format!("{}@{v}", object["id"].as_str().unwrap()),
        None => object["id"].as_str().unwrap().into(),
    };
    assert_eq!(act.subject, subject);
    assert_eq!(act.sha256, sha256_of(object));
    assert_eq!(
        hex::encode(Sha256::digest(&input)),
        serde_json::from_slice::<Value>(entry).unwrap()["commitment"]
    );
    act
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_verify_inclusion_of_what_they_may_read_and_no_one_else_learns_of_it() {
    let world = start().await;
    add_viewer_without_grants(&world).await;
    let green = indicator(1, TLP2_GREEN);
    let red = indicator(2, TLP2_RED);
    post(&world, &[green.clone(), red.clone()]).await;
    let green_id = green["id"].as_str().unwrap();
    let red_id = red["id"].as_str().unwrap();

    // An admin and a granted analyst verify both; member A verifies the GREEN one through
    // its view, whose policy releases it.
    for who in [Who::User("admin"), Who::User("analyst")] {
        for object in [&green, &red] {
            let proofs = object_proofs(&world, &who, SRC, object["id"].as_str().unwrap()).await;
            assert_eq!(proofs.len(), 1);
            verify(&world, &proofs[0], object);
        }
    }
    let through_view = object_proofs(&world, &Who::Token(&world.token_a), VIEW_A, green_id).await;
    verify(&world, &through_view[0], &green);

    // A tampered opening does not open the entry.
    let c = &through_view[0];
    let mut opening = Opening::decode(c["opening"].as_str().unwrap().as_bytes()).unwrap();
    opening.salt[0] ^= 1;
    let entry = Entry::decode(c["entry"].as_str().unwrap().as_bytes()).unwrap();
    assert!(entry.reveal(Some(&opening)).is_err());

    // Everyone else: the 404 of an absent object.
    refused_like_absent(&world, &Who::Token(&world.token_a), VIEW_A, red_id).await;
    refused_like_absent(&world, &Who::Token(&world.token_a), SRC, green_id).await;
    refused_like_absent(&world, &Who::User("nobody"), SRC, green_id).await;
    let member_b_view = common::VIEW_B;
    refused_like_absent(&world, &Who::Token(&world.token_a), member_b_view, green_id).await;
    assert_eq!(
        get(
            &world,
            &Who::Token(&world.token_a),
            "/log/objects/default/x/y/"
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_deleted_and_added_again_is_proven_by_its_own_entry_only() {
    let world = start().await;
    let first = indicator(3, TLP2_GREEN);
    post(&world, std::slice::from_ref(&first)).await;
    let id = first["id"].as_str().unwrap();
    let r = reqwest::Client::new()
        .delete(format!(
            "{}/taxii2/default/collections/{SRC}/objects/{id}/",
            world.base
        ))
        .basic_auth("admin", Some(PASSWORD))
        .header("Accept", "application/taxii+json;version=2.1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut again = first.clone();
    again["pattern"] = json!("[ipv4-addr:value = '192.0.2.99']");
    post(&world, std::slice::from_ref(&again)).await;
    let proofs = object_proofs(&world, &Who::User("admin"), SRC, id).await;
    assert_eq!(proofs.len(), 1, "{proofs:?}");
    verify(&world, &proofs[0], &again);
}
