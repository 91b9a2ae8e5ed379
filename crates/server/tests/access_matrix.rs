//! Every TAXII route × every kind of caller, over real HTTP against a real server on a
//! real SQLite store: the expected status of each pair, denials included.

mod common;

use comity_store::{Access, Role};
use common::{Node, TestNode, PASSWORD};
use reqwest::{Method, StatusCode};

const COL: &str = "5c2f0f39-6a4c-4a57-9b7e-2b9e3f3a0d11";
const OTHER: &str = "7d0f3c11-2c1e-4f3a-8d0c-1a2b3c4d5e6f";
const IND: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";

async fn start() -> Node {
    let rw = Access {
        read: true,
        write: true,
    };
    let ro = Access {
        read: true,
        write: false,
    };
    TestNode::new()
        .with_api_root(100_000)
        .with_collection(COL, COL)
        .with_collection(OTHER, OTHER)
        .with_user("admin", Role::Admin)
        .with_user("writer", Role::Analyst)
        .with_user("reader", Role::Analyst)
        .with_user("viewer", Role::Viewer)
        .with_user("stranger", Role::Analyst)
        .with_user("victim", Role::Admin)
        .with_grant(COL, "writer", rw)
        .with_grant(COL, "reader", ro)
        // A viewer granted write still may not write: the role caps the grant.
        .with_grant(COL, "viewer", rw)
        .with_grant(OTHER, "stranger", rw)
        .start()
        .await
}

fn envelope() -> String {
    format!(
        r#"{{"objects":[{{"type":"indicator","spec_version":"2.1","id":"{IND}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}}]}}"#
    )
}

#[derive(Clone, Copy, Debug)]
enum Who {
    Nobody,
    WrongPassword,
    Named(&'static str),
}

async fn call(node: &Node, who: Who, method: Method, path: &str) -> StatusCode {
    let client = reqwest::Client::new();
    let mut req = client
        .request(method.clone(), format!("{}{path}", node.base))
        .header("Accept", "application/taxii+json;version=2.1");
    match who {
        Who::Nobody => {}
        Who::WrongPassword => req = req.basic_auth("victim", Some("not the password")),
        Who::Named(name) => req = req.basic_auth(name, Some(PASSWORD)),
    }
    if method == Method::POST {
        req = req
            .header("Content-Type", "application/taxii+json;version=2.1")
            .body(envelope());
    }
    req.send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_for_every_caller() {
    let node = start().await;
    // Seed one object so that object routes have something to find.
    assert_eq!(
        call(
            &node,
            Who::Named("admin"),
            Method::POST,
            &format!("/taxii2/default/collections/{COL}/objects/")
        )
        .await,
        StatusCode::ACCEPTED
    );
    let objects = format!("/taxii2/default/collections/{COL}/objects/");
    let object = format!("{objects}{IND}/");
    let routes: Vec<(Method, String)> = vec![
        (Method::GET, "/taxii2/".into()),
        (Method::GET, "/taxii2/default/".into()),
        (Method::GET, "/taxii2/default/collections/".into()),
        (Method::GET, format!("/taxii2/default/collections/{COL}/")),
        (Method::GET, objects.clone()),
        (
            Method::GET,
            format!("/taxii2/default/collections/{COL}/manifest/"),
        ),
        (Method::GET, object.clone()),
        (Method::GET, format!("{object}versions/")),
        (Method::POST, objects.clone()),
    ];
    use StatusCode as S;
    let ok = S::OK;
    // Five wrong passwords for one name, then that name is throttled (429).
    let (no, slow) = (S::UNAUTHORIZED, S::TOO_MANY_REQUESTS);
    let throttled = [no, no, no, no, no, slow, slow, slow, slow];
    // Expected status per caller, in the order of `routes`.
    let table: Vec<(Who, [StatusCode; 9])> = vec![
        (Who::Nobody, [S::UNAUTHORIZED; 9]),
        (Who::WrongPassword, throttled),
        (
            Who::Named("admin"),
            [ok, ok, ok, ok, ok, ok, ok, ok, S::ACCEPTED],
        ),
        (
            Who::Named("writer"),
            [ok, ok, ok, ok, ok, ok, ok, ok, S::ACCEPTED],
        ),
        (
            Who::Named("reader"),
            [ok, ok, ok, ok, ok, ok, ok, ok, S::FORBIDDEN],
        ),
        (
            Who::Named("viewer"),
            [ok, ok, ok, ok, ok, ok, ok, ok, S::FORBIDDEN],
        ),
        (
            Who::Named("stranger"),
            [
                ok,
                ok,
                ok,
                S::NOT_FOUND,
                S::NOT_FOUND,
                S::NOT_FOUND,
                S::NOT_FOUND,
                S::NOT_FOUND,
                S::NOT_FOUND,
            ],
        ),
        (Who::Named("ghost"), throttled),
    ];
    for (who, expected) in &table {
        for ((method, path), want) in routes.iter().zip(expected) {
            let got = call(&node, *who, method.clone(), path).await;
            assert_eq!(got, *want, "{who:?} {method} {path}");
        }
    }
    // Deletion last: reader, viewer and stranger are refused, writer succeeds.
    for (who, want) in [
        (Who::Named("reader"), S::FORBIDDEN),
        (Who::Named("viewer"), S::FORBIDDEN),
        (Who::Named("stranger"), S::NOT_FOUND),
        (Who::Nobody, S::UNAUTHORIZED),
        (Who::Named("writer"), ok),
        (Who::Named("writer"), S::NOT_FOUND),
    ] {
        assert_eq!(
            call(&node, who, Method::DELETE, &object).await,
            want,
            "{who:?} DELETE"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_passwords_throttle_only_that_user() {
    let node = start().await;
    for _ in 0..5 {
        assert_eq!(
            call(&node, Who::WrongPassword, Method::GET, "/taxii2/").await,
            StatusCode::UNAUTHORIZED
        );
    }
    // The right password is refused too while the name is throttled.
    assert_eq!(
        call(&node, Who::Named("victim"), Method::GET, "/taxii2/").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        call(&node, Who::Named("reader"), Method::GET, "/taxii2/").await,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negotiation_and_body_limits() {
    let node = start().await;
    let client = reqwest::Client::new();
    let url = format!("{}/taxii2/default/collections/{COL}/objects/", node.base);
    let r = client
        .get(&url)
        .basic_auth("admin", Some(PASSWORD))
        .header("Accept", "application/taxii+json;version=2.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
    let r = client
        .post(&url)
        .basic_auth("admin", Some(PASSWORD))
        .header("Content-Type", "application/json")
        .body(envelope())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A body over the limit is refused from its Content-Length, before it is read: send
    // the head alone, so that no unread body can reset the connection under the answer.
    let (status, body) = raw_post_head(&node.base, COL, 120_001).await;
    assert_eq!(status, 413, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["http_status"], "413");
    assert!(body["description"].as_str().unwrap().contains("100000"));
    // Nesting far deeper than any parser allows, within the size limit.
    let deep = "[".repeat(99_000);
    let r = client
        .post(&url)
        .basic_auth("admin", Some(PASSWORD))
        .header("Content-Type", "application/taxii+json;version=2.1")
        .body(format!(r#"{{"objects":{deep}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A server may close a connection whose body it refused unread: use a fresh one.
    let r = reqwest::Client::new()
        .get(format!("{url}?next=forged"))
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// POSTs only the head of a request announcing `length` body bytes; returns the status
/// and body of the answer.
async fn raw_post_head(base: &str, collection: &str, length: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let auth = base64_basic("admin", PASSWORD);
    let head = format!(
        "POST /taxii2/default/collections/{collection}/objects/ HTTP/1.1\r\nHost: {host}\r\n\
         Authorization: Basic {auth}\r\nContent-Type: application/taxii+json;version=2.1\r\n\
         Accept: application/taxii+json;version=2.1\r\nContent-Length: {length}\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("the server answers without waiting for the body")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer[9..12].parse().unwrap();
    let body = answer
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_owned());
    (status, body)
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// GET of a path as `name`, with the status code and the body.
async fn get_as(node: &Node, name: &str, path: &str) -> (StatusCode, String) {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", node.base))
        .header("Accept", "application/taxii+json;version=2.1")
        .basic_auth(name, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_is_read_only_by_its_poster_and_admins() {
    let node = start().await;
    let r = reqwest::Client::new()
        .post(format!(
            "{}/taxii2/default/collections/{COL}/objects/",
            node.base
        ))
        .header("Accept", "application/taxii+json;version=2.1")
        .header("Content-Type", "application/taxii+json;version=2.1")
        .basic_auth("writer", Some(PASSWORD))
        .body(envelope())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let posted: serde_json::Value = r.json().await.unwrap();
    let id = posted["id"].as_str().unwrap();
    let path = format!("/taxii2/default/status/{id}/");
    for reader in ["writer", "admin"] {
        let (code, body) = get_as(&node, reader, &path).await;
        assert_eq!(code, StatusCode::OK, "{reader}: {body}");
        assert!(body.contains(IND), "{reader} sees the object ids: {body}");
    }
    // Anyone else, whatever its grants, gets exactly the answer for a status that does
    // not exist, and learns no object id.
    let absent = "/taxii2/default/status/1b9a5b3c-0000-4000-8000-000000000001/";
    for other in ["reader", "viewer", "stranger"] {
        let (code, body) = get_as(&node, other, &path).await;
        let (absent_code, absent_body) = get_as(&node, other, absent).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{other}: {body}");
        assert_eq!(absent_code, StatusCode::NOT_FOUND);
        assert!(!body.contains(IND), "{other}: {body}");
        assert_eq!(
            body.replace(id, "ID"),
            absent_body.replace("1b9a5b3c-0000-4000-8000-000000000001", "ID"),
            "{other}: a hidden status reads as an absent one"
        );
    }
}

/// A client whose connections come from `source` (any 127.0.0.0/8 address).
fn client_from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn discovery(node: &Node, client: &reqwest::Client, name: &str, password: &str) -> u16 {
    client
        .get(format!("{}/taxii2/", node.base))
        .header("Accept", "application/taxii+json;version=2.1")
        .basic_auth(name, Some(password))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guesser_locks_out_only_itself() {
    let node = start().await;
    let (user, attacker, bystander) = (
        client_from("127.0.0.1"),
        client_from("127.0.0.2"),
        client_from("127.0.0.3"),
    );
    // admin is signed in before the attack.
    assert_eq!(discovery(&node, &user, "admin", PASSWORD).await, 200);
    // Five wrong passwords for admin and for victim, with no valid credential.
    for name in ["admin", "victim"] {
        for i in 0..5 {
            assert_eq!(
                discovery(&node, &attacker, name, &format!("guess {i}")).await,
                401
            );
        }
        assert_eq!(discovery(&node, &attacker, name, "guess 6").await, 429);
    }
    // The client that failed is throttled for those names, even with the right password.
    assert_eq!(discovery(&node, &attacker, "victim", PASSWORD).await, 429);
    // An authenticated client is not locked out, from its own address...
    assert_eq!(discovery(&node, &user, "admin", PASSWORD).await, 200);
    // ...and a client that has not failed signs in with the right password, first time.
    assert_eq!(discovery(&node, &bystander, "victim", PASSWORD).await, 200);
    assert_eq!(discovery(&node, &user, "reader", PASSWORD).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_names_from_one_address_are_throttled_by_address() {
    let node = start().await;
    let (attacker, bystander) = (client_from("127.0.0.2"), client_from("127.0.0.3"));
    let mut codes = Vec::new();
    for i in 0..30 {
        codes.push(discovery(&node, &attacker, &format!("fresh{i}"), "guess").await);
    }
    assert_eq!(codes[..20], [401; 20], "{codes:?}");
    assert_eq!(codes[20..], [429; 10], "{codes:?}");
    // A real user the attacker never named, from the attacker's address: also throttled
    // (that address has failed); from another address: served.
    assert_eq!(discovery(&node, &attacker, "reader", PASSWORD).await, 429);
    assert_eq!(discovery(&node, &bystander, "reader", PASSWORD).await, 200);
}
