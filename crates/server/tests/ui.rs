//! The web UI over real HTTP against a real server on a real SQLite store: sign-in and
//! sessions, CSRF, security headers, and who sees what (denials included).

mod common;

use comity_node::governance::genesis::{self, FoundingNorm};
use comity_node::governance::{service, Action, ProposalKind, Rules};
use comity_node::identity::NodeKey;
use comity_node::member_file::MemberFile;
use comity_node::policy::MemberStatus;
use comity_node::registry::{MemberRole, NewMember};
use comity_stix::clock::now_us;
use comity_store::{Access, Role};
use common::{Node, TestNode, PASSWORD};
use reqwest::{redirect, Client, StatusCode};

const COL: &str = "5c2f0f39-6a4c-4a57-9b7e-2b9e3f3a0d11";
const OTHER: &str = "7d0f3c11-2c1e-4f3a-8d0c-1a2b3c4d5e6f";
const IND: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
const SECRET: &str = "indicator--1111aaaa-17d4-4cbf-938f-98ee46b3cd3f";
const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";

async fn start() -> Node {
    let ro = Access {
        read: true,
        write: false,
    };
    let node = TestNode::new()
        .with_api_root(100_000)
        .with_collection(COL, "Shared")
        .with_collection(OTHER, "Withheld")
        .with_user("admin", Role::Admin)
        .with_user("reader", Role::Analyst)
        .with_user("viewer", Role::Viewer)
        .with_user("liaison", Role::Liaison)
        .with_grant(COL, "reader", ro)
        .with_grant(COL, "viewer", ro)
        .registered_as("ui-test")
        .start()
        .await;
    for (collection, id, name) in [
        (COL, IND, "shared indicator"),
        (OTHER, SECRET, "secret <b>name</b>"),
    ] {
        let body = format!(
            r#"{{"objects":[{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"{name}","pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["{AMBER}"],"x_comity_handling":{{"codes":["H2"]}}}}]}}"#
        );
        let r = reqwest::Client::new()
            .post(format!(
                "{}/taxii2/default/collections/{collection}/objects/",
                node.base
            ))
            .basic_auth("admin", Some(PASSWORD))
            .header("Content-Type", "application/taxii+json;version=2.1")
            .header("Accept", "application/taxii+json;version=2.1")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    node
}

fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of cookie `name` a response sets.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")).map(str::to_owned))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// The value of the hidden input `name` in a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page.find(&marker).expect(name) + marker.len();
    page[at..].split('"').next().unwrap().to_owned()
}

/// Signs `user` in with `password`, sending `planted` as a session cookie beforehand;
/// the response of the sign-in POST.
async fn sign_in_with(node: &Node, user: &str, password: &str, planted: &str) -> reqwest::Response {
    let c = client();
    let page = c.get(format!("{}/signin", node.base)).send().await.unwrap();
    let cookie = set_cookie(&page, "comity_signin").unwrap();
    let token = hidden(&page.text().await.unwrap(), "token");
    c.post(format!("{}/signin", node.base))
        .header(
            "Cookie",
            format!("comity_signin={cookie}; comity_session={planted}"),
        )
        .form(&[("name", user), ("password", password), ("token", &token)])
        .send()
        .await
        .unwrap()
}

/// A signed-in session of `user`: its cookie header.
async fn session(node: &Node, user: &str) -> String {
    let r = sign_in_with(node, user, PASSWORD, "").await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{user} could not sign in"
    );
    format!(
        "comity_session={}",
        set_cookie(&r, "comity_session").unwrap()
    )
}

async fn get(node: &Node, cookie: &str, path: &str) -> (StatusCode, String) {
    let r = client()
        .get(format!("{}{path}", node.base))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn post(node: &Node, cookie: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(format!("{}{path}", node.base))
        .header("Cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

const PAGES: &[&str] = &[
    "/dashboard",
    "/intel",
    "/requests",
    "/requests/new",
    "/sessions",
    "/governance",
    "/governance/norms",
    "/governance/proposals/x",
    "/governance/propose",
    "/members",
    "/tokens",
    "/admin",
];

#[tokio::test]
async fn without_a_session_every_page_sends_to_sign_in_with_safe_headers() {
    let node = start().await;
    let object = format!("/intel/default/{COL}/{IND}");
    for path in PAGES.iter().copied().chain([object.as_str(), "/"]) {
        for cookie in ["", "comity_session=forged", "comity_session="] {
            let r = client()
                .get(format!("{}{path}", node.base))
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path} {cookie}");
            let to = r.headers()["location"].to_str().unwrap();
            assert!(to == "/signin" || path == "/", "{path} went to {to}");
        }
    }
    // Paths the UI does not serve are not its business: no redirect, no session check.
    for path in ["/no-such-page", "/api/v1/no-such-route", "/dashboard/extra"] {
        let r = client()
            .get(format!("{}{path}", node.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let r = client()
        .get(format!("{}/signin", node.base))
        .send()
        .await
        .unwrap();
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"));
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    let cookie = h["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP cannot carry Secure cookies"
    );
}

#[tokio::test]
async fn sign_in_checks_its_token_and_password_and_never_keeps_a_planted_session() {
    let node = start().await;
    // Without the sign-in page's cookie, or with another token: refused before any
    // password is checked.
    let c = client();
    for (cookie, token) in [
        ("", "x"),
        ("comity_signin=abc", "abd"),
        ("comity_signin=", ""),
    ] {
        let r = c
            .post(format!("{}/signin", node.base))
            .header("Cookie", cookie)
            .form(&[("name", "admin"), ("password", PASSWORD), ("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{cookie} {token}");
        assert!(set_cookie(&r, "comity_session").is_none());
    }
    let r = sign_in_with(&node, "admin", "wrong", "").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&r, "comity_session").is_none());
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Wrong user name or password."));
    let r = sign_in_with(&node, "nobody", PASSWORD, "").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A hostile name is shown escaped, never as markup.
    let r = sign_in_with(&node, "<script>alert(1)</script>", PASSWORD, "").await;
    assert!(!r.text().await.unwrap().contains("<script>"));

    let planted = "a".repeat(64);
    let r = sign_in_with(&node, "admin", PASSWORD, &planted).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = set_cookie(&r, "comity_session").unwrap();
    assert_ne!(id, planted);
    assert_eq!(id.len(), 64);
    let (status, _) = get(&node, &format!("comity_session={planted}"), "/dashboard").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the planted id became a session"
    );
    let (status, page) = get(&node, &format!("comity_session={id}"), "/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Dashboard"));
}

#[tokio::test]
async fn every_post_needs_the_session_token() {
    let node = start().await;
    let cookie = session(&node, "admin").await;
    let (_, page) = get(&node, &cookie, "/dashboard").await;
    let csrf = hidden(&page, "csrf");
    let other = session(&node, "liaison").await;
    let (_, other_page) = get(&node, &other, "/dashboard").await;
    let other_csrf = hidden(&other_page, "csrf");
    for path in [
        "/preferences",
        "/signout",
        "/requests/new",
        "/sessions/x/revoke",
        "/governance/proposals/x/vote",
        "/governance/proposals/x/cancel",
        "/governance/propose",
        "/tokens",
        "/tokens/x/revoke",
        "/admin/users",
        "/admin/role",
        "/admin/sessions/x/revoke",
    ] {
        for token in [None, Some(""), Some("0000"), Some(other_csrf.as_str())] {
            let mut form = vec![("lang", "fr"), ("tz", "UTC"), ("back", "/intel")];
            if let Some(t) = token {
                form.push(("csrf", t));
            }
            let r = post(&node, &cookie, path, &form).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} with {token:?}");
            assert!(r
                .text()
                .await
                .unwrap()
                .contains("did not come from this site"));
        }
    }
    // Nothing happened: the session is still there, in English.
    let (status, page) = get(&node, &cookie, "/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("lang=\"en\""));
    // An oversized form is refused as such.
    let big = "x".repeat(70_000);
    let r = post(
        &node,
        &cookie,
        "/preferences",
        &[("csrf", &csrf), ("pad", &big)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // With the right token the form works.
    let r = post(
        &node,
        &cookie,
        "/preferences",
        &[
            ("csrf", &csrf),
            ("lang", "ar"),
            ("tz", "Asia/Riyadh"),
            ("back", "/intel"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/intel");
    let (_, page) = get(&node, &cookie, "/dashboard").await;
    assert!(page.contains("lang=\"ar\" dir=\"rtl\""));
}

#[tokio::test]
async fn preferences_refuse_unknown_values_and_foreign_redirects() {
    let node = start().await;
    let cookie = session(&node, "reader").await;
    let (_, page) = get(&node, &cookie, "/dashboard").await;
    let csrf = hidden(&page, "csrf");
    for (lang, tz, status) in [
        ("de", "UTC", StatusCode::BAD_REQUEST),
        ("ar", "Mars/Olympus", StatusCode::BAD_REQUEST),
        ("ar", "../../etc/passwd", StatusCode::BAD_REQUEST),
        ("<b>", "UTC", StatusCode::BAD_REQUEST),
    ] {
        let form = [
            ("csrf", csrf.as_str()),
            ("lang", lang),
            ("tz", tz),
            ("back", "/"),
        ];
        let r = post(&node, &cookie, "/preferences", &form).await;
        assert_eq!(r.status(), status, "{lang} {tz}");
    }
    let (_, page) = get(&node, &cookie, "/dashboard").await;
    assert!(page.contains("lang=\"en\""), "a refused choice was kept");
    for back in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "intel",
    ] {
        let form = [
            ("csrf", csrf.as_str()),
            ("lang", "fr"),
            ("tz", "UTC"),
            ("back", back),
        ];
        let r = post(&node, &cookie, "/preferences", &form).await;
        assert_eq!(r.headers()["location"], "/dashboard", "{back}");
    }
}

#[tokio::test]
async fn pages_follow_the_api_rules_for_each_role() {
    let node = start().await;
    let object = format!("/intel/default/{COL}/{IND}");
    let withheld = format!("/intel/default/{OTHER}/{SECRET}");
    let withheld_list = format!("/intel/default/{OTHER}/");
    // (user, path, status)
    let matrix: &[(&str, &str, StatusCode)] = &[
        ("admin", "/requests", StatusCode::OK),
        ("liaison", "/requests", StatusCode::OK),
        ("reader", "/requests", StatusCode::FORBIDDEN),
        ("viewer", "/requests", StatusCode::FORBIDDEN),
        ("reader", "/requests/new", StatusCode::FORBIDDEN),
        ("liaison", "/requests/new", StatusCode::OK),
        ("reader", &object, StatusCode::OK),
        ("viewer", &object, StatusCode::OK),
        ("admin", &object, StatusCode::OK),
        ("liaison", &object, StatusCode::NOT_FOUND),
        ("reader", &withheld, StatusCode::NOT_FOUND),
        ("reader", &withheld_list, StatusCode::NOT_FOUND),
        ("viewer", &withheld_list, StatusCode::NOT_FOUND),
        ("admin", &withheld, StatusCode::OK),
    ];
    for (user, path, expected) in matrix {
        let cookie = session(&node, user).await;
        let (status, _) = get(&node, &cookie, path).await;
        assert_eq!(status, *expected, "{user} {path}");
    }
    // The reader's pages name neither the withheld collection nor its object.
    let reader = session(&node, "reader").await;
    for path in ["/dashboard", "/intel", &format!("/intel/default/{COL}/")] {
        let (_, page) = get(&node, &reader, path).await;
        assert!(
            !page.contains(OTHER) && !page.contains(SECRET),
            "{path} leaks"
        );
        assert!(
            !page.contains("Withheld") && !page.contains("secret"),
            "{path} leaks"
        );
    }
    let (_, not_found) = get(&node, &reader, &withheld).await;
    let (_, unknown) = get(
        &node,
        &reader,
        "/intel/default/00000000-0000-4000-8000-000000000000/indicator--00000000-0000-4000-8000-000000000000",
    )
    .await;
    let strip = |s: &str| {
        s.replace(OTHER, "X")
            .replace("00000000-0000-4000-8000-000000000000", "X")
    };
    assert_eq!(
        strip(&not_found),
        strip(&unknown),
        "a withheld collection reads unlike a missing one"
    );
    // The reader sees the shared object with its markings.
    let (_, page) = get(&node, &reader, &object).await;
    assert!(page.contains("class=\"badge tlp-amber\">TLP:AMBER<"));
    assert!(page.contains(">H2<"));
    assert!(page.contains("shared indicator"));
    // The admin sees the other one, its name escaped.
    let admin = session(&node, "admin").await;
    let (_, page) = get(&node, &admin, &withheld).await;
    assert!(
        page.contains("secret &#60;b&#62;name&#60;/b&#62;") || page.contains("secret &lt;b&gt;")
    );
    assert!(!page.contains("<b>name</b>"));
}

#[tokio::test]
async fn a_filter_of_the_wrong_shape_is_refused_and_paging_continues() {
    let node = start().await;
    let reader = session(&node, "reader").await;
    let base = format!("/intel/default/{COL}/");
    let (status, page) = get(&node, &reader, &format!("{base}?type=indicator")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(IND));
    let (status, page) = get(&node, &reader, &format!("{base}?type=malware")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(IND));
    let (status, _) = get(&node, &reader, &format!("{base}?next=forged")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(&node, &reader, &format!("{base}not-a-stix-id")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn sessions_are_listed_revoked_and_ended_by_their_user_only() {
    let node = start().await;
    let first = session(&node, "reader").await;
    let second = session(&node, "reader").await;
    let other = session(&node, "admin").await;
    let (_, page) = get(&node, &first, "/sessions").await;
    assert!(
        page.contains("You have 2 open sessions")
            || page.contains("You have \u{2068}2\u{2069} open sessions")
    );
    let csrf = hidden(&page, "csrf");
    let (_, admin_page) = get(&node, &other, "/sessions").await;
    let admin_handle = admin_page
        .split("/sessions/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let r = post(
        &node,
        &first,
        &format!("/sessions/{admin_handle}/revoke"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "a user revoked another's session"
    );
    assert_eq!(get(&node, &other, "/dashboard").await.0, StatusCode::OK);
    // Revoke the second session from the first: the one the page does not mark as this.
    let others: Vec<String> = page
        .split("<tr>")
        .filter(|row| row.contains("/revoke") && !row.contains("(this one)"))
        .map(|row| {
            row.split("/sessions/")
                .nth(1)
                .unwrap()
                .split('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(others.len(), 1, "{page}");
    let r = post(
        &node,
        &first,
        &format!("/sessions/{}/revoke", others[0]),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        get(&node, &second, "/dashboard").await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(get(&node, &first, "/dashboard").await.0, StatusCode::OK);
    // Signing out ends the session on the server, not only in the browser.
    let (status, _) = get(&node, &other, "/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = get(&node, &other, "/dashboard").await;
    let r = post(
        &node,
        &other,
        "/signout",
        &[("csrf", &hidden(&page, "csrf"))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        get(&node, &other, "/dashboard").await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn request_pages_and_acts_refuse_what_the_api_refuses() {
    let node = start().await;
    let missing = "request--00000000-0000-4000-8000-000000000000";
    for (user, expected) in [
        ("liaison", StatusCode::NOT_FOUND),
        ("admin", StatusCode::NOT_FOUND),
        ("reader", StatusCode::FORBIDDEN),
        ("viewer", StatusCode::FORBIDDEN),
    ] {
        let cookie = session(&node, user).await;
        let (_, page) = get(&node, &cookie, "/dashboard").await;
        let csrf = hidden(&page, "csrf");
        assert_eq!(
            get(&node, &cookie, &format!("/requests/{missing}")).await.0,
            expected,
            "{user}"
        );
        let r = post(
            &node,
            &cookie,
            &format!("/requests/{missing}/submit"),
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status(), expected, "{user} submit");
        let r = post(
            &node,
            &cookie,
            "/requests/new",
            &[
                ("csrf", &csrf),
                ("kind", "preservation"),
                ("to", "identity--x"),
            ],
        )
        .await;
        let draft = if expected == StatusCode::FORBIDDEN {
            expected
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(r.status(), draft, "{user} draft");
    }
    let cookie = session(&node, "liaison").await;
    let (_, page) = get(&node, &cookie, "/dashboard").await;
    let csrf = hidden(&page, "csrf");
    // An act the workflow does not know, a refusal reason outside the dictionary, a kind
    // that does not exist: refused, with the viewer's language kept.
    let r = post(
        &node,
        &cookie,
        &format!("/requests/{missing}/dance"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = post(
        &node,
        &cookie,
        &format!("/requests/{missing}/refuse"),
        &[("csrf", &csrf), ("reason", "whim")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = post(
        &node,
        &cookie,
        "/requests/new",
        &[("csrf", &csrf), ("kind", "bribery"), ("to", "x")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        get(&node, &cookie, "/requests/new?kind=bribery").await.0,
        StatusCode::BAD_REQUEST
    );
    for kind in [
        "assistance",
        "preservation",
        "disclosure",
        "production",
        "mla",
    ] {
        let (status, page) = get(&node, &cookie, &format!("/requests/new?kind={kind}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("Budapest Convention")
                || page.contains("2023/1543")
                || page.contains("UN Model Treaty")
        );
    }
    let (_, page) = get(&node, &cookie, "/requests/new?kind=preservation").await;
    assert!(
        page.contains("Budapest Convention art. 29(2)(f)"),
        "the article of each field is shown"
    );
}

/// The node's member tables a norm through the API, under rules that open voting
/// `delay` seconds later; the proposal's id.
async fn tabled(node: &Node, delay: i64) -> String {
    let rules = Rules {
        voting_delay_seconds: delay,
        voting_period_seconds: 600,
        execution_window_seconds: 600,
        ..Rules::default()
    };
    service::set_initial_rules(&node.state().node, &rules, now_us() - 1_000_000)
        .await
        .unwrap();
    let action = r#"{"action": {"kind": "adopt_norm", "norm": "gge-13f",
        "texts": {"en": "Do not harm critical infrastructure.",
                  "ar": "لا تلحق الضرر بالبنية التحتية الحيوية."}}}"#;
    let r = client()
        .post(format!("{}/api/v1/governance/proposals", node.base))
        .basic_auth("admin", Some(PASSWORD))
        .header("Content-Type", "application/json")
        .body(action)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    made["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn norms_adopted_by_the_genesis_say_so_and_link_to_no_proposal() {
    let node = start().await;
    let n = &node.state().node;
    let norms = vec![FoundingNorm {
        norm: "gge-2015-13a".into(),
        texts: [("en".into(), "Cooperate for stability.".into())].into(),
    }];
    let signed = genesis::draft(
        n,
        "Test federation",
        &Default::default(),
        Rules::default(),
        norms,
        now_us(),
    )
    .await
    .unwrap();
    genesis::adopt(n, &signed, now_us()).await.unwrap();
    let cookie = session(&node, "reader").await;
    let (status, page) = get(&node, &cookie, "/governance/norms").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Adopted at the founding, by the genesis document"),
        "{page}"
    );
    assert!(page.contains(&signed.genesis.id) && page.contains("Cooperate for stability."));
    assert!(!page.contains("/governance/proposals/genesis--"), "{page}");
}

/// The ballots that count on proposal `id`, as the node's workflow says.
async fn counted(node: &Node, id: &str) -> Vec<(String, String)> {
    let view = service::show(node.store.as_ref(), id, now_us())
        .await
        .unwrap();
    view.outcome
        .unwrap()
        .counted
        .into_iter()
        .map(|c| (c.member, c.choice.to_string()))
        .collect()
}

#[tokio::test]
async fn governance_pages_follow_the_api_rules_and_only_admins_vote() {
    let node = start().await;
    let id = tabled(&node, 0).await;
    let proposal = format!("/governance/proposals/{id}");
    let vote = format!("{proposal}/vote");
    let form = format!("action=\"{vote}\"");
    for user in ["admin", "reader", "liaison", "viewer"] {
        let cookie = session(&node, user).await;
        let reads = user != "viewer";
        for path in ["/governance", "/governance/norms", proposal.as_str()] {
            let (status, page) = get(&node, &cookie, path).await;
            let expected = if reads {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status, expected, "{user} {path}");
            assert!(!page.contains(&id) || reads, "{user} sees {id} on {path}");
        }
        let (_, dashboard) = get(&node, &cookie, "/dashboard").await;
        assert_eq!(
            dashboard.contains("href=\"/governance\""),
            reads,
            "{user}'s menu"
        );
        assert_eq!(
            dashboard.contains(&format!("href=\"{proposal}\"")),
            reads,
            "{user}'s dashboard"
        );
        assert_eq!(
            dashboard.contains("One proposal is open for a vote."),
            reads
        );
        let (status, members) = get(&node, &cookie, "/members").await;
        assert_eq!(status, StatusCode::OK, "{user} /members");
        assert!(members.contains("ui-test") && members.contains(&node.id));
        // Only an admin is offered the vote; anyone else who forges it is refused.
        let (_, page) = get(&node, &cookie, &proposal).await;
        assert_eq!(page.contains(&form), user == "admin", "{user}'s vote form");
        if user != "admin" {
            let csrf = hidden(&dashboard, "csrf");
            let r = post(&node, &cookie, &vote, &[("csrf", &csrf), ("choice", "yes")]).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{user} voted");
        }
    }
    assert!(
        counted(&node, &id).await.is_empty(),
        "a refused vote counted"
    );

    let admin = session(&node, "admin").await;
    let (status, page) = get(&node, &admin, "/governance/proposals/proposal--none").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Not found."));
    let (_, page) = get(&node, &admin, &proposal).await;
    assert!(page.contains("Adoption of a norm") && page.contains("Voting open"));
    assert!(page.contains("Do not harm critical infrastructure."));
    assert!(page.contains("lang=\"ar\" dir=\"auto\""));
    assert!(page.contains("No ballot counts yet."));
    let csrf = hidden(&page, "csrf");
    // A choice the workflow does not know, or none, is refused and casts nothing.
    for choice in [Some("maybe"), Some(""), None] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(choice.map(|c| ("choice", c)));
        let r = post(&node, &admin, &vote, &f).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{choice:?}");
    }
    let r = post(
        &node,
        &admin,
        "/governance/proposals/proposal--none/vote",
        &[("csrf", &csrf), ("choice", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Voting is open: not even its proposer may cancel it now.
    let r = post(
        &node,
        &admin,
        &format!("{proposal}/cancel"),
        &[("csrf", &csrf)],
    )
    .await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let (_, page) = get(&node, &admin, &proposal).await;
    assert!(page.contains("Voting open") && !page.contains("/cancel\""));
    assert!(counted(&node, &id).await.is_empty());

    // The admin's ballot is signed, counted and shown.
    let r = post(&node, &admin, &vote, &[("csrf", &csrf), ("choice", "yes")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], proposal.as_str());
    assert_eq!(counted(&node, &id).await, [(node.id.clone(), "yes".into())]);
    let (_, page) = get(&node, &admin, &proposal).await;
    assert!(
        page.contains("One ballot counts."),
        "the ballot is not shown"
    );
    assert!(page.contains("class=\"badge choice-yes\">Yes<"));
    assert!(page.contains("ui-test <span class=\"badge lang\">this node</span>"));
    assert!(
        page.contains("value=\"yes\" required checked"),
        "the form forgets our ballot"
    );
    assert!(page.contains("Passing so far"));
    let (_, list) = get(&node, &admin, "/governance").await;
    assert!(
        list.contains("Yes 1 · No 0 · Abstain 0"),
        "the list's tally"
    );
    // A later ballot replaces it.
    post(&node, &admin, &vote, &[("csrf", &csrf), ("choice", "no")]).await;
    assert_eq!(counted(&node, &id).await, [(node.id.clone(), "no".into())]);
    let (_, page) = get(&node, &admin, &proposal).await;
    assert!(page.contains("value=\"no\" checked") && !page.contains("required checked"));

    // The rules in force, in the viewer's words.
    let (_, norms) = get(&node, &admin, "/governance/norms").await;
    let norms = norms.replace(['\u{2068}', '\u{2069}'], "");
    assert!(norms.contains("No norm has been adopted."));
    assert!(norms.contains("10 minutes") && norms.contains("0 seconds"));
}

#[tokio::test]
async fn a_pending_proposal_shows_no_tally_and_takes_no_vote() {
    let node = start().await;
    let id = tabled(&node, 86_400).await;
    let proposal = format!("/governance/proposals/{id}");
    let admin = session(&node, "admin").await;
    let (_, list) = get(&node, &admin, "/governance").await;
    assert!(list.contains("badge state-pending\">Pending<"));
    assert!(
        !list.contains("class=\"tally\""),
        "a pending proposal has a tally"
    );
    let (_, dashboard) = get(&node, &admin, "/dashboard").await;
    assert!(dashboard.contains("No proposal is open for a vote."));
    let (_, page) = get(&node, &admin, &proposal).await;
    assert!(
        !page.contains("/vote\""),
        "a pending proposal offers the vote"
    );
    // A vote forged before voting opens is refused by the workflow, and nothing counts.
    let csrf = hidden(&page, "csrf");
    let r = post(
        &node,
        &admin,
        &format!("{proposal}/vote"),
        &[("csrf", &csrf), ("choice", "yes")],
    )
    .await;
    assert!(r.status().is_client_error(), "{}", r.status());
    assert!(r.text().await.unwrap().contains("before voting opened"));
    assert!(counted(&node, &id).await.is_empty());
    // Its proposer's admin may cancel it while it is pending; nobody else is offered that,
    // and a forged cancellation is refused.
    let cancel = format!("{proposal}/cancel");
    let form = format!("action=\"{cancel}\"");
    assert!(page.contains(&form), "the admin's cancel form");
    for user in ["reader", "liaison"] {
        let cookie = session(&node, user).await;
        let (_, page) = get(&node, &cookie, &proposal).await;
        assert!(!page.contains(&form), "{user}'s cancel form");
        let csrf = hidden(&page, "csrf");
        let r = post(&node, &cookie, &cancel, &[("csrf", &csrf)]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{user} canceled");
    }
    let (_, page) = get(&node, &admin, &proposal).await;
    assert!(page.contains("badge state-pending\">Pending<"));
    let r = post(&node, &admin, &cancel, &[("csrf", &csrf)]).await;
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    let (_, page) = get(&node, &admin, &proposal).await;
    assert!(
        page.contains("badge state-canceled\">Canceled<"),
        "canceled"
    );
    assert!(
        !page.contains(&form),
        "a canceled proposal offers the cancel"
    );
    let r = post(&node, &admin, &cancel, &[("csrf", &csrf)]).await;
    assert!(
        r.status().is_client_error(),
        "canceled twice: {}",
        r.status()
    );
    // A change of the rules shows the rules it would put in force.
    let rules = Rules {
        voting_delay_seconds: 3600,
        voting_period_seconds: 2 * 86_400,
        ..Rules::default()
    };
    let body = serde_json::json!({"action": {"kind": "change_rules", "rules": rules}});
    let r = client()
        .post(format!("{}/api/v1/governance/proposals", node.base))
        .basic_auth("admin", Some(PASSWORD))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let path = format!("/governance/proposals/{}", made["id"].as_str().unwrap());
    let (_, page) = get(&node, &admin, &path).await;
    let page = page.replace(['\u{2068}', '\u{2069}'], "");
    assert!(
        page.contains("Change of the rules") && page.contains("Puts the rules below in force.")
    );
    assert!(page.contains("<dd>1 hour</dd>") && page.contains("<dd>2 days</dd>"));
    assert!(page.contains("What each kind of proposal needs"));
}

/// Fields of the proposal form, as posted.
type Fields<'a> = Vec<(&'a str, &'a str)>;

/// A kind, its fields and the action they make.
type Tabled<'a> = (&'a str, Fields<'a>, Action);

/// A kind, its fields, the status of the refusal, what the form says, the field it marks
/// and the node's words.
type Refused<'a> = (
    &'a str,
    Fields<'a>,
    StatusCode,
    &'a str,
    &'a str,
    Option<&'a str>,
);

/// The proposals the node holds: (id, kind), newest first.
async fn stored(node: &Node) -> Vec<(String, ProposalKind)> {
    service::list(node.store.as_ref(), now_us(), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.proposal.id.clone(), p.proposal.kind()))
        .collect()
}

/// A peer's facts: its name, its country and the key its node makes from `seed`.
fn peer(name: &str, seed: u8) -> NewMember {
    let key = NodeKey::from_log_signer(&common::signer("peer", seed)).unwrap();
    NewMember {
        name: name.into(),
        country: "QQ".into(),
        roles: [MemberRole::Cert].into(),
        public_key: key.public_key().to_string(),
        encryption_key: None,
        endpoint: None,
        contact: None,
        identity_id: None,
    }
}

/// Registers peer `name` (key from `seed`) with `status`; its member id.
async fn add_peer(node: &Node, name: &str, seed: u8, status: MemberStatus) -> String {
    let registry = node.state().node.registry();
    let member = registry
        .add_member(peer(name, seed).into_record(false).unwrap())
        .await
        .unwrap();
    if status != MemberStatus::Active {
        registry
            .set_member_status(&member.id.0, status)
            .await
            .unwrap();
    }
    member.id.0
}

/// The member record file of a candidate whose node key comes from `seed`, as its node
/// writes it: (its text, its member id, its key).
fn record_file(name: &str, seed: u8) -> (String, String, String) {
    let key = NodeKey::from_log_signer(&common::signer("peer", seed)).unwrap();
    let record = peer(name, seed).into_record(true).unwrap();
    let file = MemberFile::sign(&record, &key).unwrap();
    (
        serde_json::to_string_pretty(&file).unwrap(),
        record.id().unwrap().to_owned(),
        key.public_key().to_string(),
    )
}

/// Posts the proposal form `fields` (kind and CSRF token added) as the session `cookie`.
async fn table(
    node: &Node,
    cookie: &str,
    csrf: &str,
    kind: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("csrf", csrf), ("kind", kind)];
    form.extend_from_slice(fields);
    post(node, cookie, "/governance/propose", &form).await
}

/// A page with Fluent's isolation marks taken out.
fn plain(page: &str) -> String {
    page.replace(['\u{2068}', '\u{2069}'], "")
}

#[tokio::test]
async fn an_admin_tables_every_kind_from_the_form_through_the_workflow() {
    let node = start().await;
    let aa = add_peer(&node, "CERT-AA", 11, MemberStatus::Active).await;
    let bb = add_peer(&node, "CERT-BB", 12, MemberStatus::Active).await;
    let dd = add_peer(&node, "CERT-DD", 14, MemberStatus::Suspended).await;
    let admin = session(&node, "admin").await;
    let (_, list) = get(&node, &admin, "/governance").await;
    assert!(
        list.contains("href=\"/governance/propose\">Table a proposal<"),
        "the admin is offered the form"
    );
    let (status, page) = get(&node, &admin, "/governance/propose").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = hidden(&page, "csrf");
    assert!(
        page.contains("value=\"adopt_norm\" selected"),
        "the first kind"
    );
    let first = page.find("id=\"text-").unwrap();
    assert!(
        page[first..].starts_with("id=\"text-en\""),
        "the viewer's language first"
    );
    for kind in ProposalKind::ALL {
        assert!(
            page.contains(&format!("<option value=\"{kind}\"")),
            "{kind}"
        );
    }
    // Each kind's form asks for its own fields and offers the members it may concern.
    let form_of = |kind: &'static str| {
        let node = &node;
        let admin = admin.clone();
        async move {
            let (status, page) =
                get(node, &admin, &format!("/governance/propose?kind={kind}")).await;
            assert_eq!(status, StatusCode::OK, "{kind}");
            page
        }
    };
    let suspend = form_of("suspend_member").await;
    assert!(suspend.contains(&format!("value=\"{aa}\"")) && !suspend.contains(&dd));
    assert!(!suspend.contains(&format!("<option value=\"{}\"", node.id)));
    let reinstate = form_of("reinstate_member").await;
    assert!(reinstate.contains(&format!("<option value=\"{dd}\"")));
    assert!(!reinstate.contains(&format!("<option value=\"{aa}\"")));
    let admit = form_of("admit_member").await;
    assert!(admit.contains("name=\"record\"") && !admit.contains("name=\"norm\""));
    assert!(
        plain(&admit).contains("needs 2 sponsors besides our member"),
        "the sponsors the rules ask for"
    );
    assert!(
        !admit.contains("Fewer members can sponsor it"),
        "two active peers make two sponsors"
    );
    assert!(
        admit.contains(&format!("name=\"sponsor\" value=\"{aa}\""))
            && !admit.contains(&format!("name=\"sponsor\" value=\"{dd}\"")),
        "only active members sponsor"
    );
    let rules_form = form_of("change_rules").await;
    assert!(
        rules_form.contains("&quot;voting_delay_seconds&quot;: 604800")
            || rules_form.contains("&#34;voting_delay_seconds&#34;: 604800"),
        "the rules in force to start from"
    );
    let repeal = form_of("repeal_norm").await;
    assert!(repeal.contains("name=\"norm\"") && !repeal.contains("name=\"text-en\""));
    let keys = form_of("revoke_member_key").await;
    assert!(
        keys.contains("name=\"new_key\"")
            && keys.contains("name=\"encryption_key\"")
            && keys.contains("name=\"revoked_from\"")
            && keys.contains(&format!("<option value=\"{aa}\""))
    );
    let (status, _) = get(&node, &admin, "/governance/propose?kind=coup").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (record, candidate, candidate_key) = record_file("CERT-NEW", 20);
    let rules = Rules {
        voting_period_seconds: 3 * 86_400,
        ..Rules::default()
    };
    let rules_json = serde_json::to_string(&rules).unwrap();
    let mut cases: Vec<Tabled> = vec![
        (
            "adopt_norm",
            vec![
                ("norm", "gge-13f"),
                ("text-en", "Do not harm critical infrastructure."),
                ("text-ar", "لا تلحق الضرر بالبنية التحتية الحيوية."),
                ("text-fr", "   "),
            ],
            Action::AdoptNorm {
                norm: "gge-13f".into(),
                texts: [
                    ("en".into(), "Do not harm critical infrastructure.".into()),
                    ("ar".into(), "لا تلحق الضرر بالبنية التحتية الحيوية.".into()),
                ]
                .into(),
            },
        ),
        (
            "amend_norm",
            vec![("norm", " gge-13f "), ("text-zh", "不得损害关键基础设施。")],
            Action::AmendNorm {
                norm: "gge-13f".into(),
                texts: [("zh".into(), "不得损害关键基础设施。".into())].into(),
            },
        ),
        (
            "repeal_norm",
            vec![("norm", "gge-13f"), ("text-en", "ignored for a repeal")],
            Action::RepealNorm {
                norm: "gge-13f".into(),
            },
        ),
        (
            "joint_statement",
            vec![("text-ru", "Совместное заявление.")],
            Action::JointStatement {
                texts: [("ru".into(), "Совместное заявление.".into())].into(),
            },
        ),
        (
            "suspend_member",
            vec![("member", aa.as_str())],
            Action::SuspendMember { member: aa.clone() },
        ),
        (
            "reinstate_member",
            vec![("member", dd.as_str())],
            Action::ReinstateMember { member: dd.clone() },
        ),
        (
            "expel_member",
            vec![("member", bb.as_str())],
            Action::ExpelMember { member: bb.clone() },
        ),
        (
            "change_rules",
            vec![("rules", rules_json.as_str())],
            Action::ChangeRules {
                rules: rules.clone(),
            },
        ),
        (
            "admit_member",
            vec![
                ("record", record.as_str()),
                ("sponsor", aa.as_str()),
                ("sponsor", bb.as_str()),
            ],
            Action::AdmitMember {
                member: candidate.clone(),
                public_key: candidate_key.parse().unwrap(),
                country: "QQ".into(),
            },
        ),
    ];
    let new_key = NodeKey::from_log_signer(&common::signer("peer", 30)).unwrap();
    let (new_public, new_encryption) = (
        new_key.public_key().to_string(),
        comity_node::federation::seal::OpeningKey::of(&new_key)
            .public_key()
            .to_string(),
    );
    let compromised = "2026-01-02T03:04:05Z";
    // First: the admission tabled last is the newest, whose sponsors are read below.
    cases.insert(
        0,
        (
            "revoke_member_key",
            vec![
                ("member", aa.as_str()),
                ("revoked_from", compromised),
                ("new_key", new_public.as_str()),
                ("encryption_key", new_encryption.as_str()),
            ],
            Action::RevokeMemberKey {
                member: aa.clone(),
                revoked_from: comity_stix::clock::parse_us(compromised).unwrap(),
                new_key: new_public.parse().unwrap(),
                encryption_key: new_encryption.parse().unwrap(),
            },
        ),
    );
    for (kind, fields, expected) in cases {
        let before = stored(&node).await.len();
        let r = table(&node, &admin, &csrf, kind, &fields).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{kind}");
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        let id = to.strip_prefix("/governance/proposals/").unwrap();
        let all = stored(&node).await;
        assert_eq!(all.len(), before + 1, "{kind}");
        assert_eq!(all[0].0, id, "{kind}");
        let view = service::show(node.store.as_ref(), id, now_us())
            .await
            .unwrap();
        assert_eq!(view.proposal.kind().as_str(), kind);
        assert_eq!(view.proposal.action, expected, "{kind}");
        assert_eq!(view.proposal.proposer, node.id);
        let (status, page) = get(&node, &admin, &to).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("badge state-pending\">Pending<"), "{kind}");
        assert!(page.contains(&format!("action=\"{to}/cancel\"")), "{kind}");
    }
    let admitted = service::show(node.store.as_ref(), &stored(&node).await[0].0, now_us())
        .await
        .unwrap();
    assert_eq!(
        admitted.proposal.sponsors,
        [aa.clone(), bb.clone()].into(),
        "the sponsors ticked"
    );
    let (_, list) = get(&node, &admin, "/governance").await;
    assert!(list.contains("Admission of a member") && list.contains("Change of the rules"));
}

#[tokio::test]
async fn who_may_not_table_is_refused_and_nothing_is_stored() {
    let node = start().await;
    let norm = [("norm", "gge-13f"), ("text-en", "Do no harm.")];
    for user in ["reader", "liaison", "viewer"] {
        let cookie = session(&node, user).await;
        let (status, page) = get(&node, &cookie, "/governance/propose").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
        assert!(!page.contains("name=\"norm\""), "{user} sees the form");
        let (_, dashboard) = get(&node, &cookie, "/dashboard").await;
        let csrf = hidden(&dashboard, "csrf");
        let r = table(&node, &cookie, &csrf, "adopt_norm", &norm).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{user} tabled");
        if user != "viewer" {
            let (status, list) = get(&node, &cookie, "/governance").await;
            assert_eq!(status, StatusCode::OK);
            assert!(
                !list.contains("/governance/propose"),
                "{user} is offered the form"
            );
        }
    }
    // The admin's own session without its token, or with another's, tables nothing.
    let admin = session(&node, "admin").await;
    let other = session(&node, "liaison").await;
    let (_, other_page) = get(&node, &other, "/dashboard").await;
    let other_csrf = hidden(&other_page, "csrf");
    for token in [None, Some(""), Some(other_csrf.as_str())] {
        let mut form = vec![("kind", "adopt_norm")];
        form.extend_from_slice(&norm);
        form.extend(token.map(|t| ("csrf", t)));
        let r = post(&node, &admin, "/governance/propose", &form).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{token:?}");
    }
    assert!(stored(&node).await.is_empty(), "a refused form was tabled");
    // With its token it works.
    let (_, page) = get(&node, &admin, "/governance/propose").await;
    let csrf = hidden(&page, "csrf");
    let r = table(&node, &admin, &csrf, "adopt_norm", &norm).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&node).await.len(), 1);
}

#[tokio::test]
async fn a_malformed_proposal_is_refused_on_the_form_with_what_was_entered() {
    let node = start().await;
    let aa = add_peer(&node, "CERT-AA", 11, MemberStatus::Active).await;
    let admin = session(&node, "admin").await;
    let (_, page) = get(&node, &admin, "/governance/propose").await;
    let csrf = hidden(&page, "csrf");
    let (record, _, _) = record_file("CERT-NEW", 20);
    let tampered = record.replace("CERT-NEW", "CERT-EVIL");
    let long = "x".repeat(6_001);
    let hostile = "Do no harm.\u{202E}";
    let keys_of = |key: &NodeKey| {
        (
            key.public_key().to_string(),
            comity_node::federation::seal::OpeningKey::of(key)
                .public_key()
                .to_string(),
        )
    };
    let (own_key, own_encryption) = keys_of(node.log.node_key());
    let (fresh_key, fresh_encryption) =
        keys_of(&NodeKey::from_log_signer(&common::signer("peer", 31)).unwrap());
    let cases: Vec<Refused> = vec![
        (
            "adopt_norm",
            vec![("norm", "  "), ("text-en", "Kept <b>as typed</b>")],
            StatusCode::BAD_REQUEST,
            "Give the norm&#39;s identifier.",
            "id=\"norm\"",
            None,
        ),
        (
            "joint_statement",
            vec![("text-en", " "), ("text-zh", "")],
            StatusCode::BAD_REQUEST,
            "Write the text in at least one language.",
            "id=\"text-en\"",
            None,
        ),
        (
            "adopt_norm",
            vec![("norm", "gge-13f"), ("text-fr", &long)],
            StatusCode::BAD_REQUEST,
            "A text may hold at most 6000 characters.",
            "id=\"text-fr\"",
            None,
        ),
        (
            "suspend_member",
            vec![("member", "identity--00000000-0000-4000-8000-000000000000")],
            StatusCode::BAD_REQUEST,
            "This member is not in the member directory.",
            "id=\"member\"",
            None,
        ),
        (
            "expel_member",
            vec![],
            StatusCode::BAD_REQUEST,
            "Choose the member the proposal concerns.",
            "id=\"member\"",
            None,
        ),
        (
            "admit_member",
            vec![("record", "garbage, not a file")],
            StatusCode::BAD_REQUEST,
            "The member record file is refused.",
            "id=\"record\"",
            Some("not a member record file"),
        ),
        (
            "admit_member",
            vec![("record", &tampered)],
            StatusCode::BAD_REQUEST,
            "The member record file is refused.",
            "id=\"record\"",
            Some("does not verify with the key it carries"),
        ),
        (
            "admit_member",
            vec![("record", &record), ("sponsor", &aa)],
            StatusCode::UNPROCESSABLE_ENTITY,
            "The node refused to table this proposal.",
            "class=\"sponsors",
            Some("admit_member proposals need 2 sponsors besides the proposer; this one has 1"),
        ),
        (
            "joint_statement",
            vec![("text-en", "x"), ("sponsor", "identity--nobody")],
            StatusCode::BAD_REQUEST,
            "A sponsor is not in the member directory.",
            "class=\"sponsors",
            None,
        ),
        (
            "change_rules",
            vec![("rules", "{\"voting_delay_seconds\": \"soon\"}")],
            StatusCode::BAD_REQUEST,
            "These rules cannot be read.",
            "id=\"rules\"",
            Some("invalid type"),
        ),
        (
            "adopt_norm",
            vec![("norm", "gge 13/f"), ("text-en", "x")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "The node refused to table this proposal.",
            "id=\"norm\"",
            Some("a norm id is 1 to 64 ASCII letters"),
        ),
        (
            "joint_statement",
            vec![("text-en", hostile)],
            StatusCode::UNPROCESSABLE_ENTITY,
            "The node refused to table this proposal.",
            "class=\"texts",
            Some("U+202E"),
        ),
        (
            "revoke_member_key",
            vec![("member", &aa), ("revoked_from", "yesterday")],
            StatusCode::BAD_REQUEST,
            "Give the time as RFC 3339",
            "id=\"revoked_from\"",
            None,
        ),
        (
            "revoke_member_key",
            vec![
                ("member", &aa),
                ("revoked_from", "2026-01-02T03:04:05Z"),
                ("new_key", "ed25519:AAAA"),
                ("encryption_key", "x25519:AAAA"),
            ],
            StatusCode::BAD_REQUEST,
            "A key is refused.",
            "id=\"new_key\"",
            Some("ed25519"),
        ),
        (
            "revoke_member_key",
            vec![
                ("member", &aa),
                ("revoked_from", "2026-01-02T03:04:05Z"),
                ("new_key", &own_key),
                ("encryption_key", &own_encryption),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "The node refused to table this proposal.",
            "id=\"new_key\"",
            Some("is pinned already for member"),
        ),
        (
            "revoke_member_key",
            vec![
                ("member", &aa),
                ("revoked_from", "2999-01-01T00:00:00Z"),
                ("new_key", &fresh_key),
                ("encryption_key", &fresh_encryption),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "The node refused to table this proposal.",
            "id=\"revoked_from\"",
            Some("in the future of the tabling time"),
        ),
    ];
    for (kind, fields, status, says, marked, detail) in cases {
        let r = table(&node, &admin, &csrf, kind, &fields).await;
        assert_eq!(r.status(), status, "{kind} {says}");
        let page = plain(&r.text().await.unwrap());
        assert!(page.contains(says), "{kind}: {says} not in the form");
        assert!(page.contains("role=\"alert\""), "{kind}");
        assert!(
            page.contains("action=\"/governance/propose\"")
                && page.contains(&format!("name=\"kind\" value=\"{kind}\"")),
            "{kind}: the form is shown again"
        );
        // The field at fault is marked and points at the refusal; no other is.
        let at = page
            .find(marked)
            .unwrap_or_else(|| panic!("{kind}: {marked}"));
        let tag = &page[at..at + page[at..].find('>').unwrap()];
        assert!(
            tag.contains("aria-invalid=\"true\"") || tag.contains(" invalid\""),
            "{kind}: {tag}"
        );
        assert!(tag.contains("problem\""), "{kind}: {tag}");
        assert_eq!(
            page.matches("problem\"").count(),
            3,
            "{kind}: the refusal's class and id, and one field"
        );
        if let Some(d) = detail {
            assert!(page.contains(d), "{kind}: the node's words {d:?}");
        }
        // What was entered is kept, escaped; a sponsor stays ticked.
        for (name, value) in &fields {
            let kept = match *name {
                "member" => continue,
                "sponsor" if value.contains("nobody") => continue,
                "sponsor" => format!("value=\"{value}\" checked"),
                _ => value
                    .replace('&', "&#38;")
                    .replace('<', "&#60;")
                    .replace('>', "&#62;")
                    .replace('"', "&#34;")
                    .replace('\'', "&#39;"),
            };
            assert!(page.contains(&kept), "{kind}: {name} not kept");
        }
    }
    assert!(stored(&node).await.is_empty(), "a refused form was tabled");
    // One active peer cannot make the two sponsors an admission needs: the form says so.
    let (_, admit) = get(&node, &admin, "/governance/propose?kind=admit_member").await;
    assert!(admit.contains("Fewer members can sponsor it than the rules in force ask for"));
    let (_, statement) = get(&node, &admin, "/governance/propose?kind=joint_statement").await;
    assert!(!statement.contains("Fewer members can sponsor it"));
    // A form larger than any proposal's is refused whole.
    let huge = "x".repeat(500 * 1024);
    let r = table(
        &node,
        &admin,
        &csrf,
        "joint_statement",
        &[("text-en", &huge)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(stored(&node).await.is_empty());
    // The longest text the form takes, in Chinese in all six languages, is tabled.
    let full = "规".repeat(6_000);
    let fields: Vec<(String, String)> = ["ar", "zh", "en", "fr", "ru", "es"]
        .iter()
        .map(|l| (format!("text-{l}"), full.clone()))
        .collect();
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = table(&node, &admin, &csrf, "joint_statement", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&node).await.len(), 1);
}

#[tokio::test]
async fn the_form_speaks_the_viewers_language_right_to_left_in_arabic() {
    let node = start().await;
    let admin = session(&node, "admin").await;
    let (_, page) = get(&node, &admin, "/dashboard").await;
    let csrf = hidden(&page, "csrf");
    let r = post(
        &node,
        &admin,
        "/preferences",
        &[
            ("csrf", &csrf),
            ("lang", "ar"),
            ("tz", "UTC"),
            ("back", "/governance"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, list) = get(&node, &admin, "/governance").await;
    assert!(list.contains(">تقديم مقترح<"), "the link in Arabic");
    let (_, page) = get(&node, &admin, "/governance/propose").await;
    assert!(page.contains("lang=\"ar\" dir=\"rtl\""));
    assert!(page.contains("<h1>تقديم مقترح</h1>"));
    // The text in the viewer's language comes first, and each text keeps its own.
    let first = page.find("id=\"text-").unwrap();
    assert!(page[first..].starts_with("id=\"text-ar\""));
    assert!(page.contains("lang=\"zh\" dir=\"auto\""));
    let r = table(
        &node,
        &admin,
        &csrf,
        "adopt_norm",
        &[("norm", ""), ("text-ar", "نص")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("أدخل معرّف المعيار."));
}

/// Whether the form control `id` of `page` is marked as the one at fault.
fn marked(page: &str, id: &str) -> bool {
    let at = page
        .find(&format!(" id=\"{id}\""))
        .unwrap_or_else(|| panic!("no control {id}"));
    let tag_end = page[at..].find('>').unwrap() + at;
    page[at..tag_end].contains("aria-invalid=\"true\"")
}

/// How many controls of `page` are marked as at fault.
fn marks(page: &str) -> usize {
    page.matches("aria-invalid=\"true\"").count()
}

/// The rows of the table of `page` that mention `needle`.
fn rows_with<'p>(page: &'p str, needle: &str) -> Vec<&'p str> {
    page.split("<tr>").filter(|r| r.contains(needle)).collect()
}

/// The path segment after `prefix` in `text`.
fn segment_after(text: &str, prefix: &str) -> String {
    text.split(prefix)
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned()
}

/// What a TAXII read with `token` answers.
async fn taxii_with(node: &Node, token: &str) -> StatusCode {
    client()
        .get(format!("{}/taxii2/default/collections/", node.base))
        .bearer_auth(token)
        .header("Accept", "application/taxii+json;version=2.1")
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn token_and_admin_pages_follow_the_role_matrix() {
    let node = start().await;
    // (user, /tokens, /admin); "" is signed out.
    let matrix: &[(&str, StatusCode, StatusCode)] = &[
        ("viewer", StatusCode::OK, StatusCode::FORBIDDEN),
        ("reader", StatusCode::OK, StatusCode::FORBIDDEN),
        ("liaison", StatusCode::OK, StatusCode::FORBIDDEN),
        ("admin", StatusCode::OK, StatusCode::OK),
        ("", StatusCode::SEE_OTHER, StatusCode::SEE_OTHER),
    ];
    for (user, tokens, admin) in matrix {
        let cookie = if user.is_empty() {
            String::new()
        } else {
            session(&node, user).await
        };
        let (status, page) = get(&node, &cookie, "/tokens").await;
        assert_eq!(status, *tokens, "{user} /tokens");
        let (status, _) = get(&node, &cookie, "/admin").await;
        assert_eq!(status, *admin, "{user} /admin");
        if user.is_empty() {
            continue;
        }
        // The menu offers what the user may open, and nothing else.
        assert!(page.contains("href=\"/tokens\""), "{user}");
        assert_eq!(
            page.contains("href=\"/admin\""),
            *admin == StatusCode::OK,
            "{user}"
        );
        // The member field is offered to admins only (the API's rule).
        assert_eq!(
            page.contains("id=\"member\""),
            *admin == StatusCode::OK,
            "{user}"
        );
        if *admin == StatusCode::FORBIDDEN {
            let csrf = hidden(&page, "csrf");
            for (path, form) in [
                (
                    "/admin/users",
                    vec![("name", "intruder"), ("role", "admin")],
                ),
                ("/admin/role", vec![("name", *user), ("role", "admin")]),
                ("/admin/sessions/0000000000000000/revoke", vec![]),
            ] {
                let mut form = form.clone();
                form.push(("csrf", &csrf));
                let r = post(&node, &cookie, path, &form).await;
                assert_eq!(r.status(), StatusCode::FORBIDDEN, "{user} {path}");
            }
        }
    }
    // Nothing a refused user asked for happened.
    assert!(node.store.user("intruder").await.unwrap().is_none());
    for user in ["viewer", "reader", "liaison"] {
        let role = node.store.user(user).await.unwrap().unwrap().role;
        assert_ne!(role, Role::Admin, "{user} made itself admin");
    }
    // Signed out, the new forms send to sign in and do nothing.
    for path in ["/tokens", "/tokens/x/revoke", "/admin/users", "/admin/role"] {
        let r = post(&node, "", path, &[("label", "x"), ("name", "x")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()["location"], "/signin");
    }
    assert!(node.store.tokens().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_token_made_on_the_page_works_until_revoked_there_and_is_shown_once() {
    let node = start().await;
    let reader = session(&node, "reader").await;
    let (_, page) = get(&node, &reader, "/tokens").await;
    assert!(page.contains("No token."), "{page}");
    let csrf = hidden(&page, "csrf");
    // Without the form's token nothing is issued.
    let r = post(
        &node,
        &reader,
        "/tokens",
        &[("label", "sensor"), ("days", "30")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(node.store.tokens().await.unwrap().is_empty());
    let r = post(
        &node,
        &reader,
        "/tokens",
        &[
            ("csrf", &csrf),
            ("label", "sensor <b>1</b>"),
            ("days", "30"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let answer = r.text().await.unwrap();
    let secret = answer
        .split("<code>")
        .find_map(|c| c.strip_prefix("comity_"))
        .map(|rest| format!("comity_{}", rest.split('<').next().unwrap()))
        .expect("the secret is on the answer");
    assert_eq!(secret.len(), "comity_".len() + 24 + 1 + 43, "{secret}");
    assert!(answer.contains("shown this once and never again"));
    assert!(
        answer.contains("sensor &#60;b&#62;1&#60;/b&#62;") || answer.contains("sensor &lt;b&gt;")
    );
    let stored = node.store.tokens().await.unwrap();
    assert_eq!(stored.len(), 1);
    let token = &stored[0];
    assert_eq!(
        (
            token.user.as_str(),
            token.label.as_str(),
            token.member.as_deref()
        ),
        ("reader", "sensor <b>1</b>", None)
    );
    let days = (token.expires_at.unwrap() - token.created_at + 43_200_000_000) / 86_400_000_000;
    assert_eq!(days, 30);
    // The token works against the TAXII API, as the reader.
    assert_eq!(taxii_with(&node, &secret).await, StatusCode::OK);
    // The secret is never shown again: not on the list, nor to the admin, nor by the API.
    let (_, list) = get(&node, &reader, "/tokens").await;
    let secret_part = secret.rsplit('.').next().unwrap();
    assert!(list.contains(&token.id) && !list.contains(secret_part));
    assert_eq!(rows_with(&list, &token.id).len(), 1);
    let admin = session(&node, "admin").await;
    let (_, admin_list) = get(&node, &admin, "/tokens").await;
    assert!(admin_list.contains(&token.id) && !admin_list.contains(secret_part));
    for (_, page) in [
        get(&node, &admin, "/admin").await,
        get(&node, &reader, "/dashboard").await,
    ] {
        assert!(!page.contains(secret_part));
    }
    let api = client()
        .get(format!("{}/api/v1/tokens", node.base))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(api.contains(&token.id) && !api.contains(secret_part));
    // Revoked from the page, it stops working at once.
    let r = post(
        &node,
        &reader,
        &format!("/tokens/{}/revoke", token.id),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/tokens");
    assert_eq!(taxii_with(&node, &secret).await, StatusCode::UNAUTHORIZED);
    let (_, list) = get(&node, &reader, "/tokens").await;
    let row = rows_with(&list, &token.id)[0];
    assert!(
        row.contains("Revoked") && !row.contains("/revoke\""),
        "{row}"
    );
}

#[tokio::test]
async fn token_forms_of_the_wrong_shape_are_refused_with_the_field_marked() {
    let node = start().await;
    let reader = session(&node, "reader").await;
    let (_, page) = get(&node, &reader, "/tokens").await;
    let csrf = hidden(&page, "csrf");
    let long = "x".repeat(129);
    // (label, days, member, field at fault, status)
    let cases: &[(&str, &str, &str, &str, StatusCode)] = &[
        ("", "30", "", "label", StatusCode::BAD_REQUEST),
        ("   ", "30", "", "label", StatusCode::BAD_REQUEST),
        (&long, "30", "", "label", StatusCode::BAD_REQUEST),
        ("bell\u{7}", "30", "", "label", StatusCode::BAD_REQUEST),
        ("ab\u{202E}cd", "30", "", "label", StatusCode::BAD_REQUEST),
        ("ok", "0", "", "days", StatusCode::BAD_REQUEST),
        ("ok", "367", "", "days", StatusCode::BAD_REQUEST),
        ("ok", "-1", "", "days", StatusCode::BAD_REQUEST),
        ("ok", "ten", "", "days", StatusCode::BAD_REQUEST),
        ("ok", "", "", "days", StatusCode::BAD_REQUEST),
        ("ok", "99999999999", "", "days", StatusCode::BAD_REQUEST),
        // A member's token is for admins only, whatever the form offers.
        ("ok", "30", "identity--x", "member", StatusCode::FORBIDDEN),
    ];
    for (label, days, member, field, status) in cases {
        let r = post(
            &node,
            &reader,
            "/tokens",
            &[
                ("csrf", &csrf),
                ("label", label),
                ("days", days),
                ("member", member),
            ],
        )
        .await;
        assert_eq!(r.status(), *status, "{label:?} {days:?} {member:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"problem\""), "{label:?} {days:?}");
        if *field != "member" {
            assert!(
                marked(&page, field),
                "{field} not marked for {label:?} {days:?}"
            );
            assert_eq!(marks(&page), 1);
        }
        assert!(!page.contains("comity_"), "a refused form showed a token");
    }
    // An admin may issue a member's token, but only to a registered peer.
    let admin = session(&node, "admin").await;
    let (_, page) = get(&node, &admin, "/tokens").await;
    let admin_csrf = hidden(&page, "csrf");
    let r = post(
        &node,
        &admin,
        "/tokens",
        &[
            ("csrf", &admin_csrf),
            ("label", "peer"),
            ("days", "30"),
            ("member", "identity--00000000-0000-4000-8000-000000000000"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(marked(&page, "member") && page.contains("not a registered peer member"));
    assert!(
        node.store.tokens().await.unwrap().is_empty(),
        "a refused token was stored"
    );
    let peer = add_peer(&node, "Peer CERT", 7, MemberStatus::Active).await;
    let r = post(
        &node,
        &admin,
        "/tokens",
        &[
            ("csrf", &admin_csrf),
            ("label", "peer"),
            ("days", "366"),
            ("member", &peer),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let stored = node.store.tokens().await.unwrap();
    assert_eq!(stored[0].member.as_deref(), Some(peer.as_str()));
    let (_, list) = get(&node, &admin, "/tokens").await;
    assert!(rows_with(&list, &stored[0].id)[0].contains("Peer CERT"));
    // The reader sees neither the member's token nor may revoke it: "not found", as the API.
    let (_, list) = get(&node, &reader, "/tokens").await;
    assert!(!list.contains(&stored[0].id));
    for id in [stored[0].id.as_str(), "000000000000000000000000", "%3Cb%3E"] {
        let r = post(
            &node,
            &reader,
            &format!("/tokens/{id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{id}");
        let page = r.text().await.unwrap();
        assert!(page.contains("This token cannot be revoked."));
        assert!(!page.contains("<b>"));
    }
    assert!(node
        .store
        .token(&stored[0].id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());
    // The reader's own token the admin may revoke (the API's rule).
    let r = post(
        &node,
        &reader,
        "/tokens",
        &[("csrf", &csrf), ("label", "mine"), ("days", "1")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let mine = node
        .store
        .tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.user == "reader")
        .unwrap();
    let r = post(
        &node,
        &admin,
        &format!("/tokens/{}/revoke", mine.id),
        &[("csrf", &admin_csrf)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(node
        .store
        .token(&mine.id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
}

#[tokio::test]
async fn an_admin_adds_users_and_changes_roles_through_the_workflow() {
    let node = start().await;
    let admin = session(&node, "admin").await;
    let (status, page) = get(&node, &admin, "/admin").await;
    assert_eq!(status, StatusCode::OK);
    for user in ["admin", "reader", "viewer", "liaison"] {
        assert!(page.contains(&format!("<bdi>{user}</bdi>")), "{user}");
    }
    let csrf = hidden(&page, "csrf");
    let log = node.store.transparency_log().log_size().await.unwrap();
    // Without the form's token, nothing.
    let r = post(
        &node,
        &admin,
        "/admin/users",
        &[("name", "nadia"), ("role", "analyst")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A generated password, shown once.
    let r = post(
        &node,
        &admin,
        "/admin/users",
        &[
            ("csrf", &csrf),
            ("name", "nadia"),
            ("role", "liaison"),
            ("password", ""),
            ("password_again", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let answer = r.text().await.unwrap();
    let password = answer
        .split("<pre class=\"secret\"><code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(password.len(), 24);
    assert!(answer.contains("shown this once"));
    let nadia = node.store.user("nadia").await.unwrap().unwrap();
    assert_eq!(nadia.role, Role::Liaison);
    assert_eq!(
        sign_in_with(&node, "nadia", &password, "").await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, page) = get(&node, &admin, "/admin").await;
    assert!(!page.contains(&password), "the password was shown again");
    // A typed password, not shown back.
    let typed = "a typed passphrase";
    let r = post(
        &node,
        &admin,
        "/admin/users",
        &[
            ("csrf", &csrf),
            ("name", "omar"),
            ("role", "viewer"),
            ("password", typed),
            ("password_again", typed),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(!r.text().await.unwrap().contains(typed));
    assert_eq!(
        sign_in_with(&node, "omar", typed, "").await.status(),
        StatusCode::SEE_OTHER
    );
    // Both acts are in the log, as the CLI's are.
    let after = node.store.transparency_log().log_size().await.unwrap();
    assert_eq!(after, log + 2);
    // Refused: the field at fault marked, what was entered kept (never a password), nothing stored.
    let long = "n".repeat(65);
    let cases: &[(&str, &str, &str, &str, &str, StatusCode)] = &[
        ("", "analyst", "", "", "name", StatusCode::BAD_REQUEST),
        ("   ", "analyst", "", "", "name", StatusCode::BAD_REQUEST),
        (&long, "analyst", "", "", "name", StatusCode::BAD_REQUEST),
        ("eve:x", "analyst", "", "", "name", StatusCode::BAD_REQUEST),
        (
            "eve\u{1b}[31m",
            "analyst",
            "",
            "",
            "name",
            StatusCode::BAD_REQUEST,
        ),
        (
            "eve\u{202E}",
            "analyst",
            "",
            "",
            "name",
            StatusCode::BAD_REQUEST,
        ),
        ("reader", "analyst", "", "", "name", StatusCode::CONFLICT),
        ("eve", "root", "", "", "role", StatusCode::BAD_REQUEST),
        ("eve", "", "", "", "role", StatusCode::BAD_REQUEST),
        (
            "eve",
            "analyst",
            "short",
            "short",
            "password",
            StatusCode::BAD_REQUEST,
        ),
        (
            "eve",
            "analyst",
            "a long enough one",
            "a long enough two",
            "password_again",
            StatusCode::BAD_REQUEST,
        ),
        (
            "eve",
            "analyst",
            "a long enough one",
            "",
            "password_again",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (name, role, password, again, field, status) in cases {
        let r = post(
            &node,
            &admin,
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("name", name),
                ("role", role),
                ("password", password),
                ("password_again", again),
            ],
        )
        .await;
        assert_eq!(r.status(), *status, "{name:?} {role:?} {password:?}");
        let page = r.text().await.unwrap();
        assert!(
            marked(&page, field),
            "{field} unmarked for {name:?} {role:?}"
        );
        assert_eq!(marks(&page), 1, "{name:?}");
        if !password.is_empty() {
            assert!(!page.contains(password), "a password was shown back");
        }
        if *field != "name" {
            assert!(page.contains("value=\"eve\""), "the name was not kept");
        }
    }
    assert_eq!(node.store.users().await.unwrap().len(), 6);
    assert!(node.store.user("eve").await.unwrap().is_none());
    assert_eq!(
        node.store.transparency_log().log_size().await.unwrap(),
        after,
        "a refused act was logged"
    );
    // Changing a role: the workflow's, logged; unknown roles and users refused.
    let r = post(
        &node,
        &admin,
        "/admin/role",
        &[("csrf", &csrf), ("name", "reader"), ("role", "viewer")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin");
    assert_eq!(
        node.store.user("reader").await.unwrap().unwrap().role,
        Role::Viewer
    );
    assert_eq!(
        node.store.transparency_log().log_size().await.unwrap(),
        after + 1
    );
    let r = post(
        &node,
        &admin,
        "/admin/role",
        &[("csrf", &csrf), ("name", "reader"), ("role", "superuser")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    let row = rows_with(&page, "<bdi>reader</bdi>")[0];
    assert!(row.contains("aria-invalid=\"true\""), "{row}");
    assert_eq!(marks(&page), 1);
    let r = post(
        &node,
        &admin,
        "/admin/role",
        &[("csrf", &csrf), ("name", "nobody"), ("role", "admin")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("There is no such user."));
    assert!(node.store.user("nobody").await.unwrap().is_none());
    assert_eq!(
        node.store.user("reader").await.unwrap().unwrap().role,
        Role::Viewer
    );
    // The demoted user's next page follows its new role.
    let nadia_session = session_with(&node, "nadia", &password).await;
    assert_eq!(
        get(&node, &nadia_session, "/requests").await.0,
        StatusCode::OK
    );
    post(
        &node,
        &admin,
        "/admin/role",
        &[("csrf", &csrf), ("name", "nadia"), ("role", "analyst")],
    )
    .await;
    assert_eq!(
        get(&node, &nadia_session, "/requests").await.0,
        StatusCode::FORBIDDEN
    );
}

/// A signed-in session of `user` with `password`: its cookie header.
async fn session_with(node: &Node, user: &str, password: &str) -> String {
    let r = sign_in_with(node, user, password, "").await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{user} could not sign in"
    );
    format!(
        "comity_session={}",
        set_cookie(&r, "comity_session").unwrap()
    )
}

#[tokio::test]
async fn an_admin_ends_any_session_and_ending_its_own_signs_it_out() {
    let node = start().await;
    let reader = session(&node, "reader").await;
    let liaison = session(&node, "liaison").await;
    let admin = session(&node, "admin").await;
    let (_, page) = get(&node, &admin, "/admin").await;
    let csrf = hidden(&page, "csrf");
    let handle_of = |page: &str, user: &str| {
        let row = rows_with(page, &format!("<bdi>{user}</bdi>"))
            .into_iter()
            .find(|r| r.contains("/admin/sessions/"))
            .unwrap_or_else(|| panic!("no session of {user}"));
        segment_after(row, "/admin/sessions/")
    };
    let reader_handle = handle_of(&page, "reader");
    // A user may not end another's session from the admin route, nor from its own page.
    let (_, reader_page) = get(&node, &liaison, "/dashboard").await;
    let r = post(
        &node,
        &liaison,
        &format!("/admin/sessions/{reader_handle}/revoke"),
        &[("csrf", &hidden(&reader_page, "csrf"))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(get(&node, &reader, "/dashboard").await.0, StatusCode::OK);
    // The admin ends the reader's session: its next request is sent to sign in.
    let r = post(
        &node,
        &admin,
        &format!("/admin/sessions/{reader_handle}/revoke"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin");
    let r = client()
        .get(format!("{}/dashboard", node.base))
        .header("Cookie", &reader)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/signin");
    assert_eq!(get(&node, &liaison, "/dashboard").await.0, StatusCode::OK);
    // An ended or unknown session: refused, shown on the page.
    for handle in [reader_handle.as_str(), "0000000000000000", "%3Cscript%3E"] {
        let r = post(
            &node,
            &admin,
            &format!("/admin/sessions/{handle}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{handle}");
        let page = r.text().await.unwrap();
        assert!(page.contains("This session has ended already."));
        assert!(!page.contains("<script>"));
    }
    // Its own session: signed out at once.
    let (_, page) = get(&node, &admin, "/admin").await;
    let own = rows_with(&page, "(this one)")
        .into_iter()
        .find(|r| r.contains("/admin/sessions/"))
        .map(|r| segment_after(r, "/admin/sessions/"))
        .unwrap();
    let r = post(
        &node,
        &admin,
        &format!("/admin/sessions/{own}/revoke"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/signin");
    assert_eq!(set_cookie(&r, "comity_session").as_deref(), Some(""));
    assert_eq!(get(&node, &admin, "/admin").await.0, StatusCode::SEE_OTHER);
}
