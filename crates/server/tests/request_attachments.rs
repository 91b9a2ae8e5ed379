//! Attachments of cooperation requests over real HTTP: an upload interrupted and resumed,
//! sealed only when its SHA-256 matches, limits (413), roles (403), unknown requests (404),
//! and the download of a listed attachment, checked at rest.

mod common;

use comity_node::log::NodeLog;
use comity_node::registry::{MemberRole, NewMember, Registry};
use comity_store::Role;
use common::{signer, TestNode, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Digest;

/// Registers a second member, `b`, on `node`'s store; returns its id.
async fn other_member(node: &common::Node) -> String {
    let b = NodeLog::new(signer("comity/b", 2)).unwrap();
    let record = NewMember {
        name: "authority b".into(),
        country: "ZZ".into(),
        roles: [MemberRole::Police].into(),
        public_key: b.node_key().public_key().to_string(),
        encryption_key: None,
        endpoint: Some("http://127.0.0.1:9".into()),
        contact: None,
        identity_id: None,
    }
    .into_record(false)
    .unwrap();
    Registry::new(node.store.as_ref(), &node.log)
        .add_member(record)
        .await
        .unwrap()
        .id
        .0
}

fn document() -> Value {
    json!({
        "authority": {"name": "CERT A", "contact": "+1 555 0100", "time_zone": "UTC", "office_hours": "24/7"},
        "legal_basis": {"instrument": "Budapest Convention", "article": "35"},
        "summary": "Ransomware against hospitals",
        "offence": "art. 5",
        "case_numbers": {"police": "2026/1"},
        "details": {"incident": "C2 at 203.0.113.7", "help_sought": "takedown"},
    })
}

struct World {
    node: common::Node,
    http: reqwest::Client,
    id: String,
}

impl World {
    fn url(&self, rest: &str) -> String {
        format!("{}/api/v1/requests/{}{rest}", self.node.base, self.id)
    }

    async fn put(
        &self,
        user: &str,
        sha: &str,
        size: u64,
        offset: u64,
        body: Vec<u8>,
    ) -> reqwest::Response {
        self.http
            .put(self.url(&format!("/attachments/{sha}?size={size}&offset={offset}")))
            .basic_auth(user, Some(PASSWORD))
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, user: &str, sha: &str) -> reqwest::Response {
        self.http
            .get(self.url(&format!("/attachments/{sha}")))
            .basic_auth(user, Some(PASSWORD))
            .send()
            .await
            .unwrap()
    }
}

async fn world() -> World {
    let node = TestNode::new()
        .registered_as("cert a")
        .with_user("liaison", Role::Liaison)
        .with_user("analyst", Role::Analyst)
        .start()
        .await;
    let to = other_member(&node).await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/v1/requests", node.base))
        .basic_auth("liaison", Some(PASSWORD))
        .json(&json!({"kind": "assistance", "to": to, "document": document()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    World { node, http, id }
}

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_upload_resumes_and_the_listed_attachment_downloads_checked() {
    let w = world().await;
    let data = bytes(3 * 1024 * 1024 + 17);
    let sha = hex::encode(sha2::Sha256::digest(&data));
    let size = data.len() as u64;
    // The first chunk goes in; the client loses the answer and sends it again.
    let r = w
        .put("liaison", &sha, size, 0, data[..1 << 20].to_vec())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        (p["held"].as_u64(), p["complete"].as_bool()),
        (Some(1 << 20), Some(false))
    );
    let r = w
        .put("liaison", &sha, size, 0, data[..1 << 20].to_vec())
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let held = r.json::<Value>().await.unwrap()["held"].as_u64().unwrap();
    assert_eq!(held, 1 << 20);
    // It resumes from the bytes held.
    let r = w
        .put("liaison", &sha, size, held, data[held as usize..].to_vec())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        (p["held"].as_u64(), p["complete"].as_bool()),
        (Some(size), Some(true))
    );
    // Not listed in any event yet: not served.
    assert_eq!(w.get("liaison", &sha).await.status(), StatusCode::NOT_FOUND);
    // Listed in the submission, it is.
    let details = json!({"attachments": [{"name": "capture.pcap", "sha256": sha, "size": size}]});
    let r = w
        .http
        .post(w.url("/submit"))
        .basic_auth("liaison", Some(PASSWORD))
        .json(&details)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = w.get("liaison", &sha).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-length"], size.to_string().as_str());
    assert_eq!(r.headers()["comity-attachment-sha256"], sha.as_str());
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("capture.pcap"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), data.as_slice());
    // Queued for the other party: the event and four chunks.
    let due = w
        .node
        .store
        .outbox_due(
            &w.node.store.outbox_peers().await.unwrap()[0],
            i64::MAX,
            100,
        )
        .await
        .unwrap();
    let kinds: Vec<_> = due.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "request",
            "attachment",
            "attachment",
            "attachment",
            "attachment"
        ]
    );
    // An analyst may not read it.
    assert_eq!(w.get("analyst", &sha).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_hashes_limits_roles_and_unknown_requests_are_refused() {
    let w = world().await;
    let data = bytes(5000);
    let sha = hex::encode(sha2::Sha256::digest(&data));
    // Bytes that do not hash to the SHA-256 in the path: 422, nothing kept.
    let wrong = "ab".repeat(32);
    let r = w.put("liaison", &wrong, 5000, 0, data.clone()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("nothing was kept"));
    let r = w
        .put("liaison", &wrong, 5000, 100, data[100..].to_vec())
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "nothing held: starts at 0"
    );
    // Too large an attachment, or too large a chunk: 413.
    let r = w.put("liaison", &sha, 3 << 30, 0, Vec::new()).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = w
        .put("liaison", &sha, 9 << 20, 0, vec![0; (8 << 20) + 1])
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A chunk past the end, a malformed hash, a missing size: 400.
    let r = w.put("liaison", &sha, 10, 0, data.clone()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = w.put("liaison", "ABC", 5000, 0, data.clone()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = w
        .http
        .put(w.url(&format!("/attachments/{sha}")))
        .basic_auth("liaison", Some(PASSWORD))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Another media type: 415.
    let r = w
        .http
        .put(w.url(&format!("/attachments/{sha}?size=5000")))
        .basic_auth("liaison", Some(PASSWORD))
        .header("content-type", "application/json")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Not a liaison officer: 403; no credentials: 401.
    assert_eq!(
        w.put("analyst", &sha, 5000, 0, data.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    let r = w
        .http
        .put(w.url(&format!("/attachments/{sha}?size=5000")))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // An unknown request: 404, for upload and download.
    let unknown = World {
        id: format!("request--{}", uuid::Uuid::new_v4()),
        node: w.node,
        http: w.http,
    };
    assert_eq!(
        unknown
            .put("liaison", &sha, 5000, 0, data.clone())
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        unknown.get("liaison", &sha).await.status(),
        StatusCode::NOT_FOUND
    );
    // A malformed request id: 400.
    let r = unknown
        .http
        .put(format!(
            "{}/api/v1/requests/x/attachments/{sha}?size=5000",
            unknown.node.base
        ))
        .basic_auth("liaison", Some(PASSWORD))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "a malformed request id"
    );
}
