//! The node API's OpenAPI document over real HTTP: served without credentials as JSON,
//! describing exactly the routes the router serves under `/api/v1/` (the table
//! `comity_server::api_routes` the router is built from), and every route it describes
//! answers as routed (neither the router's 404 for an unknown path nor 405).

mod common;

use std::collections::BTreeSet;

use common::TestNode;
use reqwest::{Method, StatusCode};
use serde_json::Value;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The (method, path) pairs a document describes.
fn described(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("a path item is an object");
            item.keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `path` with every `{name}` template filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "x" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether every `$ref` in `v` names something in `doc`.
fn check_refs(doc: &Value, v: &Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                let pointer = r.strip_prefix('#').expect("local references only");
                assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
            }
            map.values().for_each(|v| check_refs(doc, v));
        }
        Value::Array(items) => items.iter().for_each(|v| check_refs(doc, v)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_describes_exactly_the_routes_served() {
    let node = TestNode::new().start().await;
    let http = reqwest::Client::new();

    // Served without credentials, as JSON, and as embedded.
    let r = http
        .get(format!("{}/api/v1/openapi.json", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    let text = r.text().await.unwrap();
    assert_eq!(text, comity_server::openapi::DOCUMENT);
    let doc: Value = serde_json::from_str(&text).expect("the document is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    check_refs(&doc, &doc);

    // The same routes as the router's table, method for method.
    let served: BTreeSet<(String, String)> = comity_server::api_routes()
        .into_iter()
        .map(|(m, p)| (m.as_str().to_owned(), p.to_owned()))
        .collect();
    let documented = described(&doc);
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served, not documented: {undocumented:?}"
    );
    assert!(unserved.is_empty(), "documented, not served: {unserved:?}");

    // What the router answers for a path it does not know and for a method a path lacks,
    // so that the probe below tells them apart from a handler's answer.
    let unknown = http
        .get(format!("{}/api/v1/no-such-route", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.headers().get("content-type").is_none());
    let wrong = http
        .delete(format!("{}/api/v1/members", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::METHOD_NOT_ALLOWED);

    // Every documented operation reaches its handler: asked without credentials, each
    // answers 401 in the TAXII error shape (the document itself, 200), and each says so.
    for (method, path) in &documented {
        let op = &doc["paths"][path][method.to_lowercase()];
        let open = op["security"] == serde_json::json!([]);
        let r = http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{}", node.base, concrete(path)),
            )
            .send()
            .await
            .unwrap();
        let expected = if open {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(r.status(), expected, "{method} {path}");
        if !open {
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path}: no 401"
            );
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["http_status"], "401", "{method} {path}");
        }
        // Every operation that reads a body documents how a body is refused.
        if op["requestBody"].is_object() {
            for status in ["400", "413", "415"] {
                assert!(
                    op["responses"][status].is_object(),
                    "{method} {path}: no {status}"
                );
            }
        }
    }
}
