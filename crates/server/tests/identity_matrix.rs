//! Every route × every kind of caller, tokens and peer members included: the expected
//! status of each pair, denials first among them, over real HTTP on a real store.

mod common;

use common::{World, A, OTHER, PASSWORD, SRC, VIEW_A, VIEW_B};
use reqwest::{Method, StatusCode};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Nobody,
    User(&'static str),
    AnalystToken,
    ExpiredToken,
    RevokedToken,
    ForgedToken,
    MemberA,
    MemberB,
}

const CALLERS: [Who; 11] = [
    Who::Nobody,
    Who::User("admin"),
    Who::User("analyst"),
    Who::User("liaison"),
    Who::User("viewer"),
    Who::AnalystToken,
    Who::ExpiredToken,
    Who::RevokedToken,
    Who::ForgedToken,
    Who::MemberA,
    Who::MemberB,
];

fn forged() -> String {
    use rand::Rng as _;
    let mut rng = rand::thread_rng();
    let id: String = (0..24)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap())
        .collect();
    format!("comity_{id}.{}", "A".repeat(43))
}

async fn call(w: &World, who: Who, method: &Method, path: &str, body: Option<&str>) -> StatusCode {
    let mut req = reqwest::Client::new()
        .request(method.clone(), format!("{}{path}", w.base))
        .header("Accept", "application/taxii+json;version=2.1");
    let bearer = |t: &str| format!("Bearer {t}");
    req = match who {
        Who::Nobody => req,
        Who::User(name) => req.basic_auth(name, Some(PASSWORD)),
        Who::AnalystToken => req.header("Authorization", bearer(&w.analyst_token)),
        Who::ExpiredToken => req.header("Authorization", bearer(&w.expired_token)),
        Who::RevokedToken => req.header("Authorization", bearer(&w.revoked_token)),
        Who::ForgedToken => req.header("Authorization", bearer(&forged())),
        Who::MemberA => req.header("Authorization", bearer(&w.token_a)),
        Who::MemberB => req.header("Authorization", bearer(&w.token_b)),
    };
    if let Some(body) = body {
        let media = if path.starts_with("/taxii2/") {
            "application/taxii+json;version=2.1"
        } else {
            "application/json"
        };
        req = req.header("Content-Type", media).body(body.to_owned());
    }
    req.send().await.unwrap().status()
}

const ENVELOPE: &str = r#"{"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}]}"#;
/// Passes authorisation and fails validation, so that admin's answer (400) shows the route
/// was reached without changing anything.
const BAD_MEMBER: &str =
    r#"{"name":"X","country":"France","roles":["cert"],"public_key":"ed25519:AAAA"}"#;
/// Passes authorisation and is no member record file: admin's 400.
const BAD_RECORD: &str = r#"{"file":{}}"#;
const BAD_AGREEMENT: &str = r#"{"title":"X","partners":[],"scope":{"object_types":["indicator"],"max_tlp":"green","handling":[],"purposes":["intelligence"]}}"#;
const TOKEN: &str = r#"{"label":"matrix"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_for_every_caller_with_tokens_and_members() {
    let w = common::start().await;
    let t = |s: &str| format!("/taxii2/default/collections/{s}/objects/");
    let unknown = "identity--00000000-0000-4000-8000-00000000ffff";
    let routes: Vec<(Method, String, Option<&str>)> = vec![
        (Method::GET, "/taxii2/".into(), None),
        (Method::GET, "/taxii2/default/collections/".into(), None),
        (Method::GET, t(SRC), None),
        (Method::POST, t(SRC), Some(ENVELOPE)),
        (Method::GET, t(OTHER), None),
        (Method::GET, t(VIEW_A), None),
        (Method::POST, t(VIEW_A), Some(ENVELOPE)),
        (Method::GET, t(VIEW_B), None),
        (Method::GET, "/api/v1/tokens".into(), None),
        (Method::POST, "/api/v1/tokens".into(), Some(TOKEN)),
        (Method::GET, "/api/v1/members".into(), None),
        (Method::POST, "/api/v1/members".into(), Some(BAD_MEMBER)),
        (
            Method::POST,
            format!("/api/v1/members/{unknown}/suspend"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/members/{unknown}/record"),
            Some(BAD_RECORD),
        ),
        (Method::GET, "/api/v1/agreements".into(), None),
        (
            Method::POST,
            "/api/v1/agreements".into(),
            Some(BAD_AGREEMENT),
        ),
        // Signed by this node already: admin's 400 shows the route was reached.
        (
            Method::POST,
            format!("/api/v1/agreements/{}/sign", w.agreement_a),
            None,
        ),
        (Method::GET, "/metrics".into(), None),
    ];
    use StatusCode as S;
    let (ok, acc, bad, no, fb, nf) = (
        S::OK,
        S::ACCEPTED,
        S::BAD_REQUEST,
        S::UNAUTHORIZED,
        S::FORBIDDEN,
        S::NOT_FOUND,
    );
    let cr = S::CREATED;
    // Columns in the order of `routes`.
    let admin = [
        ok, ok, ok, acc, ok, ok, fb, ok, ok, cr, ok, bad, bad, bad, ok, bad, bad, ok,
    ];
    let analyst = [
        ok, ok, ok, acc, nf, nf, nf, nf, ok, cr, ok, fb, fb, fb, ok, fb, fb, fb,
    ];
    let liaison = [
        ok, ok, ok, fb, nf, ok, fb, ok, ok, cr, ok, fb, fb, fb, ok, fb, fb, fb,
    ];
    let viewer = [
        ok, ok, ok, fb, nf, nf, nf, nf, ok, cr, ok, fb, fb, fb, ok, fb, fb, fb,
    ];
    let member_a = [
        ok, ok, nf, nf, nf, ok, fb, nf, fb, fb, fb, fb, fb, fb, fb, fb, fb, fb,
    ];
    let member_b = [
        ok, ok, nf, nf, nf, nf, nf, ok, fb, fb, fb, fb, fb, fb, fb, fb, fb, fb,
    ];
    let expected = |who: Who| -> [StatusCode; 18] {
        match who {
            Who::Nobody | Who::ExpiredToken | Who::RevokedToken | Who::ForgedToken => [no; 18],
            Who::User("admin") => admin,
            Who::User("analyst") | Who::AnalystToken => analyst,
            Who::User("liaison") => liaison,
            Who::User(_) => viewer,
            Who::MemberA => member_a,
            Who::MemberB => member_b,
        }
    };
    for who in CALLERS {
        let want = expected(who);
        for ((method, path, body), want) in routes.iter().zip(want) {
            let got = call(&w, who, method, path, *body).await;
            assert_eq!(got, want, "{who:?} {method} {path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_failures_say_why_without_echoing_the_secret() {
    let w = common::start().await;
    let client = reqwest::Client::new();
    let get = |token: String| {
        client
            .get(format!("{}/taxii2/", w.base))
            .header("Authorization", format!("Bearer {token}"))
            .send()
    };
    let forged = forged();
    for (token, says) in [
        (w.expired_token.clone(), "expired"),
        (w.revoked_token.clone(), "revoked"),
        (forged.clone(), "not valid"),
        ("comity_short.secret".to_owned(), "not a Comity API token"),
    ] {
        let r = get(token.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{says}");
        let body = r.text().await.unwrap();
        assert!(body.contains(says), "{body}");
        let secret = token.rsplit('.').next().unwrap();
        assert!(!body.contains(secret), "the body echoes the secret: {body}");
    }
    // Guessing secrets for one token id is throttled; the real token is unaffected
    // by guesses against another id.
    let (id, _) = comity_node::tokens::parse(&forged).unwrap();
    // The forged call above was the first of five guesses.
    for _ in 0..4 {
        let again = format!("comity_{id}.{}", "B".repeat(43));
        assert_eq!(get(again).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let r = get(format!("comity_{id}.{}", "C".repeat(43)))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        get(w.analyst_token.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    // A token of a user is refused once revoked through the API by its owner.
    let created: serde_json::Value = client
        .post(format!("{}/api/v1/tokens", w.base))
        .basic_auth("viewer", Some(PASSWORD))
        .header("Content-Type", "application/json")
        .body(r#"{"label":"mine","expires_in_days":1}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(get(token.clone()).await.unwrap().status(), StatusCode::OK);
    // Another non-admin cannot see or revoke it.
    let id = created["id"].as_str().unwrap();
    let r = client
        .delete(format!("{}/api/v1/tokens/{id}", w.base))
        .basic_auth("analyst", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(get(token.clone()).await.unwrap().status(), StatusCode::OK);
    let r = client
        .delete(format!("{}/api/v1/tokens/{id}", w.base))
        .basic_auth("viewer", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(get(token).await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

/// Posts one marked indicator to the source collection as admin.
async fn post_indicator(w: &World, id: &str, marking: &str) {
    let body = format!(
        r#"{{"objects":[{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["{marking}"]}}]}}"#
    );
    let r = reqwest::Client::new()
        .post(format!(
            "{}/taxii2/default/collections/{SRC}/objects/",
            w.base
        ))
        .basic_auth("admin", Some(PASSWORD))
        .header("Content-Type", "application/taxii+json;version=2.1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

/// How many objects member A reads in its view, with its token.
async fn view_a_count(w: &World) -> usize {
    let v: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/taxii2/default/collections/{VIEW_A}/objects/",
            w.base
        ))
        .bearer_auth(&w.token_a)
        .header("Accept", "application/taxii+json;version=2.1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["objects"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_member_reads_nothing_and_denials_are_counted() {
    let w = common::start().await;
    let client = reqwest::Client::new();
    post_indicator(
        &w,
        "indicator--11111111-17d4-4cbf-938f-98ee46b3cd3f",
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    )
    .await;
    assert_eq!(view_a_count(&w).await, 1);
    let admin_post = |path: String| {
        client
            .post(format!("{}{path}", w.base))
            .basic_auth("admin", Some(PASSWORD))
            .send()
    };
    let r = admin_post(format!("/api/v1/members/{A}/suspend"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(view_a_count(&w).await, 0);
    let metrics = client
        .get(format!("{}/metrics", w.base))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"comity_policy_denied_objects_total{channel="TAXII read",rule="suspended-member"} 1"#
        ),
        "{metrics}"
    );
    let r = admin_post(format!("/api/v1/members/{A}/suspend"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "suspending twice");
    let r = admin_post(format!("/api/v1/members/{A}/reinstate"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(view_a_count(&w).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_agreement_covers_nothing() {
    use comity_store::RegistryKind;
    let w = common::start().await;
    let client = reqwest::Client::new();
    post_indicator(
        &w,
        "indicator--22222222-17d4-4cbf-938f-98ee46b3cd3f",
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    )
    .await;
    assert_eq!(
        view_a_count(&w).await,
        1,
        "GREEN flows under the signed agreement"
    );
    // Someone with database access widens the agreement's scope without re-signing it.
    let mut entry = w
        .store
        .registry_entry(RegistryKind::Agreement, &w.agreement_a)
        .await
        .unwrap()
        .unwrap();
    assert!(entry.document.contains(r#""max_tlp":"amber""#));
    entry.document = entry
        .document
        .replace(r#""max_tlp":"amber""#, r#""max_tlp":"red""#);
    w.store.update_registry_entry(&entry).await.unwrap();
    assert_eq!(
        view_a_count(&w).await,
        0,
        "a tampered agreement covers nothing"
    );
    let r = client
        .get(format!("{}/api/v1/agreements", w.base))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: serde_json::Value = r.json().await.unwrap();
    let says = body["description"].as_str().unwrap();
    assert!(
        says.contains(&w.agreement_a) && says.contains("signature"),
        "{says}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversal_in_ids_and_oversized_headers_are_refused() {
    let w = common::start().await;
    let client = reqwest::Client::new();
    for (method, path, want) in [
        (
            Method::GET,
            format!("/taxii2/default/collections/{SRC}/objects/..%2F..%2Fetc%2Fpasswd/"),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/taxii2/default/collections/..%2F..%2Fetc/objects/".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/api/v1/members/..%2F..%2Fetc%2Fpasswd/suspend".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::DELETE,
            "/api/v1/tokens/..%2F..%2Fetc%2Fpasswd".to_owned(),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let r = client
            .request(method.clone(), format!("{}{path}", w.base))
            .basic_auth("admin", Some(PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), want, "{method} {path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["http_status"], want.as_str(), "{method} {path}");
    }
    // A megabyte of headers is refused before any handler runs; the server keeps serving.
    let r = client
        .get(format!("{}/taxii2/", w.base))
        .basic_auth("admin", Some(PASSWORD))
        .header("X-Padding", "a".repeat(1 << 20))
        .send()
        .await;
    match r {
        Ok(r) => assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
        Err(e) => assert!(e.is_request() || e.is_connect() || e.is_body(), "{e}"),
    }
    let r = client
        .get(format!("{}/taxii2/", w.base))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_a_token_id_from_elsewhere_does_not_lock_the_token() {
    let w = common::start().await;
    let get = |client: reqwest::Client, token: String| {
        let url = format!("{}/taxii2/", w.base);
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .header("Accept", "application/taxii+json;version=2.1")
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let from = |ip: &str| {
        reqwest::Client::builder()
            .local_address(ip.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap()
    };
    let (id, _) = w.analyst_token.rsplit_once('.').unwrap();
    for i in 0..5 {
        let guess = format!("{id}.{}", format!("{i}").repeat(43));
        assert_eq!(
            get(from("127.0.0.2"), guess).await,
            StatusCode::UNAUTHORIZED
        );
    }
    let guess = format!("{id}.{}", "x".repeat(43));
    assert_eq!(
        get(from("127.0.0.2"), guess).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The real token, from a client that has not failed, is served.
    assert_eq!(
        get(from("127.0.0.1"), w.analyst_token.clone()).await,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_updates_a_peer_s_record_from_the_file_its_key_signed() {
    use comity_node::identity::NodeKey;
    use comity_node::member_file::MemberFile;
    use comity_node::registry::Directory;
    use serde_json::{json, Value};

    let w = common::start().await;
    let client = reqwest::Client::new();
    let post = |member: &str, body: Value| {
        client
            .post(format!("{}/api/v1/members/{member}/record", w.base))
            .basic_auth("admin", Some(PASSWORD))
            .json(&body)
            .send()
    };
    let pinned = || async {
        Directory::new(w.store.as_ref())
            .member(A)
            .await
            .unwrap()
            .unwrap()
    };
    let before = pinned().await;
    // A's node (its key made from seed 2) gives a new contact in a newer record.
    let key_a = NodeKey::from_log_signer(&common::signer("peer", 2)).unwrap();
    let mut record = before.record.clone();
    record.identity["modified"] = json!("2999-01-01T00:00:00.000Z");
    record.identity["contact_information"] = json!("24/7 desk");
    let file = serde_json::to_value(MemberFile::sign(&record, &key_a).unwrap()).unwrap();

    let r = post(A, json!({"file": file})).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["identity"]["contact_information"], "24/7 desk");
    assert_eq!(pinned().await.record, record);

    let refused = |r: reqwest::Response| async move {
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        r.json::<Value>().await.unwrap()["description"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The same file again; the file under another member's id; a changed file.
    let again = refused(post(A, json!({"file": file})).await.unwrap()).await;
    assert!(
        again.contains("an older or replayed record is not taken"),
        "{again}"
    );
    let elsewhere = refused(post(common::B, json!({"file": file})).await.unwrap()).await;
    assert!(
        elsewhere.contains(&format!(
            "holds the record of member {A}, not of {}",
            common::B
        )),
        "{elsewhere}"
    );
    let mut changed = file.clone();
    changed["record"]["endpoint"] = json!("https://attacker.example");
    changed["record"]["identity"]["modified"] = json!("2999-01-02T00:00:00.000Z");
    let changed = refused(post(A, json!({"file": changed})).await.unwrap()).await;
    assert!(changed.contains("signature does not verify"), "{changed}");
    assert_eq!(pinned().await.record, record, "the pinned record stays");
}
