//! Paging through a policy view over real HTTP: `more` and `next` come only from what the
//! caller may read, and `next` tokens reveal nothing of the objects behind them.

mod common;

use base64::Engine;
use comity_store::{Collection, ObjectFilter, PageRequest};
use common::{World, PASSWORD, SRC, VIEW_A};
use reqwest::StatusCode;
use serde_json::Value;

const CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
/// A RED indicator with two versions: member A may read neither.
const HIDDEN: &str = "indicator--0000aaaa-17d4-4cbf-938f-98ee46b3cd3f";
/// An id stored nowhere.
const ABSENT: &str = "indicator--0000bbbb-17d4-4cbf-938f-98ee46b3cd3f";

fn indicator(id: &str, modified: &str, marking: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2026-01-01T00:00:00.000Z","modified":"{modified}","pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["{marking}"]}}"#
    )
}

/// Posts objects one request each (so each gets its own `date_added`), as admin.
async fn post(w: &World, objects: &[String]) {
    for o in objects {
        let r = reqwest::Client::new()
            .post(format!(
                "{}/taxii2/default/collections/{SRC}/objects/",
                w.base
            ))
            .basic_auth("admin", Some(PASSWORD))
            .header("Content-Type", "application/taxii+json;version=2.1")
            .body(format!(r#"{{"objects":[{o}]}}"#))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let status: Value = r.json().await.unwrap();
        assert_eq!(status["success_count"], 1, "{status}");
    }
}

/// GET in A's view with A's member token: status and body.
async fn get_a(w: &World, path: &str, query: &[(&str, &str)]) -> (StatusCode, String) {
    let r = reqwest::Client::new()
        .get(format!(
            "{}/taxii2/default/collections/{VIEW_A}/{path}",
            w.base
        ))
        .query(query)
        .bearer_auth(&w.token_a)
        .header("Accept", "application/taxii+json;version=2.1")
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

fn visible(n: usize) -> String {
    format!("indicator--{n:08x}-17d4-4cbf-938f-98ee46b3cd3f")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_object_with_two_versions_answers_exactly_as_an_absent_id() {
    let w = common::start().await;
    post(
        &w,
        &[
            indicator(HIDDEN, "2026-01-01T00:00:00.000Z", RED),
            indicator(HIDDEN, "2026-02-01T00:00:00.000Z", RED),
            indicator(&visible(1), "2026-01-01T00:00:00.000Z", CLEAR),
        ],
    )
    .await;
    let all = [("match[version]", "all"), ("limit", "1")];
    let asks: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "objects/".into(),
            vec![("match[id]", HIDDEN), all[0], all[1]],
        ),
        (
            "manifest/".into(),
            vec![("match[id]", HIDDEN), all[0], all[1]],
        ),
        (format!("objects/{HIDDEN}/"), all.to_vec()),
        (format!("objects/{HIDDEN}/versions/"), vec![all[1]]),
    ];
    for (path, query) in asks {
        let (code, body) = get_a(&w, &path, &query).await;
        let absent_path = path.replace(HIDDEN, ABSENT);
        let absent_query: Vec<(&str, &str)> = query
            .iter()
            .map(|&(k, v)| (k, if v == HIDDEN { ABSENT } else { v }))
            .collect();
        let (absent_code, absent_body) = get_a(&w, &absent_path, &absent_query).await;
        assert_eq!(
            (code, body.replace(HIDDEN, ABSENT)),
            (absent_code, absent_body),
            "{path} {query:?}"
        );
        assert!(!body.contains("\"more\":true"), "{path}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_count_only_what_the_member_may_read() {
    let w = common::start().await;
    // Visible objects 1..=3 with runs of hidden ones before, between and after them.
    let mut objects = Vec::new();
    let mut hidden = 0;
    let mut hide = |objects: &mut Vec<String>, n: usize| {
        for _ in 0..n {
            hidden += 1;
            let id = format!("indicator--{hidden:08x}-0000-4cbf-938f-98ee46b3cd3f");
            objects.push(indicator(&id, "2026-01-01T00:00:00.000Z", RED));
        }
    };
    hide(&mut objects, 2);
    for n in 1..=3 {
        objects.push(indicator(&visible(n), "2026-01-01T00:00:00.000Z", CLEAR));
        hide(&mut objects, 3);
    }
    post(&w, &objects).await;
    for limit in [1usize, 2, 3] {
        let mut seen = Vec::new();
        let mut next: Option<String> = None;
        let mut pages = 0;
        loop {
            let limit_text = limit.to_string();
            let mut query = vec![("limit", limit_text.as_str())];
            if let Some(t) = &next {
                query.push(("next", t));
            }
            let (code, body) = get_a(&w, "objects/", &query).await;
            assert_eq!(code, StatusCode::OK, "{body}");
            let page: Value = serde_json::from_str(&body).unwrap();
            pages += 1;
            let ids: Vec<String> = page["objects"]
                .as_array()
                .map(|a| a.iter().map(|o| o["id"].as_str().unwrap().into()).collect())
                .unwrap_or_default();
            let more = page["more"].as_bool().unwrap();
            assert_eq!(
                ids.len(),
                if more { limit } else { 3 - seen.len() },
                "limit {limit}, page {pages}: {body}"
            );
            assert_eq!(more, page.get("next").is_some(), "{body}");
            seen.extend(ids);
            match page["next"].as_str() {
                Some(t) => next = Some(t.into()),
                None => break,
            }
        }
        assert_eq!(seen, (1..=3).map(visible).collect::<Vec<_>>());
        assert_eq!(pages, 3usize.div_ceil(limit), "limit {limit}");
    }
    // An empty view answers one empty page without `more`, however much it hides.
    let (code, body) = get_a(
        &w,
        "objects/",
        &[
            ("limit", "1"),
            (
                "match[id]",
                &format!("indicator--{:08x}-0000-4cbf-938f-98ee46b3cd3f", 1),
            ),
        ],
    )
    .await;
    assert_eq!((code, body.as_str()), (StatusCode::OK, r#"{"more":false}"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_tokens_reveal_no_time_and_no_row() {
    let w = common::start().await;
    post(
        &w,
        &[
            indicator(&visible(1), "2026-01-01T00:00:00.000Z", CLEAR),
            indicator(HIDDEN, "2026-01-01T00:00:00.000Z", RED),
            indicator(&visible(2), "2026-01-01T00:00:00.000Z", CLEAR),
        ],
    )
    .await;
    let source = Collection {
        id: SRC.into(),
        api_root: "default".into(),
        title: String::new(),
        description: None,
        view: None,
        origin: None,
    }
    .key();
    let stored = w
        .store
        .objects(
            &source,
            &ObjectFilter::default(),
            &PageRequest {
                limit: 10,
                after: None,
            },
        )
        .await
        .unwrap()
        .items;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let (code, body) = get_a(&w, "objects/", &[("limit", "1")]).await;
        assert_eq!(code, StatusCode::OK);
        let page: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(page["more"], true, "{body}");
        tokens.push(page["next"].as_str().unwrap().to_owned());
    }
    assert_ne!(tokens[0], tokens[1], "each token is sealed afresh");
    for token in &tokens {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .unwrap();
        for o in &stored {
            for plain in [o.date_added.to_be_bytes(), o.row.to_be_bytes()] {
                // The low half of each value, where it differs from one object to the next.
                assert!(!raw.windows(4).any(|x| x == &plain[4..]), "{token}");
            }
        }
        let (code, body) = get_a(&w, "objects/", &[("limit", "1"), ("next", token)]).await;
        assert_eq!(code, StatusCode::OK);
        let page: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(page["objects"][0]["id"], visible(2).as_str(), "{body}");
        assert_eq!(page["more"], false, "{body}");
    }
}
