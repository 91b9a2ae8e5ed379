//! Policy view definitions over real HTTP: a view is read from the definition parsed when
//! the collection was cached, and a stored definition that does not parse fails closed on
//! every request (500, nothing served), the first and the cached ones alike.

mod common;

use comity_store::Collection;
use common::{World, PASSWORD, VIEW_A};
use reqwest::StatusCode;

/// A view collection whose stored definition is not a view.
const BROKEN: &str = "0c5f3c11-2c1e-4f3a-8d0c-1a2b3c4d5e6f";

async fn get(w: &World, path: &str, member_token: Option<&str>) -> StatusCode {
    let request = reqwest::Client::new()
        .get(format!("{}/taxii2/default/collections/{path}", w.base))
        .header("Accept", "application/taxii+json;version=2.1");
    let request = match member_token {
        Some(token) => request.bearer_auth(token),
        None => request.basic_auth("admin", Some(PASSWORD)),
    };
    request.send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_view_fails_closed_on_every_request() {
    let w = common::start().await;
    w.store
        .create_collection(Collection {
            id: BROKEN.into(),
            api_root: "default".into(),
            title: "broken".into(),
            description: None,
            view: Some(r#"{"source": 7}"#.into()),
            origin: None,
        })
        .await
        .unwrap();
    for _ in 0..2 {
        for path in [format!("{BROKEN}/"), format!("{BROKEN}/objects/")] {
            assert_eq!(
                get(&w, &path, None).await,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{path}"
            );
            assert_eq!(
                get(&w, &path, Some(&w.token_a)).await,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{path}"
            );
        }
    }
    // A readable view is served from its cached definition, again and again.
    for _ in 0..2 {
        let path = format!("{VIEW_A}/objects/");
        assert_eq!(get(&w, &path, Some(&w.token_a)).await, StatusCode::OK);
        assert_eq!(
            get(&w, &path, Some(&w.token_b)).await,
            StatusCode::NOT_FOUND
        );
    }
}
