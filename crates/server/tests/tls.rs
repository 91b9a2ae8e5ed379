//! TLS on a real server, with a private CA and certificates made by the test (rcgen): a
//! client trusting the CA gets TAXII discovery over HTTPS with HTTP/1.1 and HTTP/2; one
//! not trusting it fails; the federation client refuses an expired and a wrong-name
//! certificate; plain HTTP to the TLS port gets no HTTP answer; a reload swaps the
//! certificate for new connections; a key that is not the certificate's is refused. With
//! mutual TLS the federation routes need a client certificate of the client CAs while TAXII
//! serves clients without one, and a client certificate of another CA, or an expired one,
//! fails the handshake; the federation client presents a reloaded client certificate.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use comity_server::tls::{self, CertStore};
use comity_server::AppState;
use comity_store::Role;
use common::{TestNode, PASSWORD};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
};
use rustls::pki_types::CertificateDer;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A private CA.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Ca { issuer }
    }

    fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// A node certificate for `names`, valid until `not_after`; (cert PEM, key PEM).
    fn node(&self, names: &[&str], not_after: OffsetDateTime) -> (String, String) {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.not_before = OffsetDateTime::now_utc() - time::Duration::days(30);
        params.not_after = not_after;
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn valid(&self, names: &[&str]) -> (String, String) {
        self.node(names, OffsetDateTime::now_utc() + time::Duration::days(30))
    }
}

fn write_pair(dir: &Path, (cert, key): &(String, String)) -> (PathBuf, PathBuf) {
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, cert).unwrap();
    std::fs::write(&k, key).unwrap();
    (c, k)
}

/// A node serving TLS with `certs` on 127.0.0.1; its port.
struct Tls {
    port: u16,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _node: common::Node,
}

async fn serve(certs: &Arc<CertStore>) -> Tls {
    serve_config(certs.server_config(), false).await
}

/// A node serving TLS with `config`, requiring client certificates on the federation routes
/// when `mtls`.
async fn serve_config(config: Arc<rustls::ServerConfig>, mtls: bool) -> Tls {
    let node = TestNode::new()
        .with_api_root(1_000_000)
        .with_user("admin", Role::Admin)
        .build()
        .await;
    let inner = comity_node::Node::with_log(node.store.clone(), node.log.clone());
    let state = AppState::new(inner, "tls test".into(), None)
        .await
        .unwrap()
        .requiring_client_cert_for_federation(mtls);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let limits = comity_server::connections::ConnectionLimits {
        header_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    tokio::spawn(comity_server::serve_with_tls(
        listener,
        state,
        limits,
        Some(config),
        async {
            let _ = rx.await;
        },
    ));
    Tls {
        port,
        _shutdown: tx,
        _node: node,
    }
}

fn client(roots: &[CertificateDer<'static>]) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false);
    for root in roots {
        builder = builder.add_root_certificate(reqwest::Certificate::from_der(root).unwrap());
    }
    builder
}

async fn discovery(client: &reqwest::Client, port: u16) -> reqwest::Result<reqwest::Response> {
    client
        .get(format!("https://localhost:{port}/taxii2/"))
        .header("Accept", "application/taxii+json;version=2.1")
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
}

#[tokio::test]
async fn discovery_over_https_with_http1_and_http2_for_a_client_trusting_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Test federation CA");
    let (cert, key) = write_pair(dir.path(), &ca.valid(&["localhost"]));
    let certs = CertStore::load(&cert, &key).unwrap();
    let node = serve(&certs).await;

    let h1 = client(&[ca.der()]).http1_only().build().unwrap();
    let r = discovery(&h1, node.port).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.version(), reqwest::Version::HTTP_11);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["title"], "tls test");

    let h2 = client(&[ca.der()]).build().unwrap();
    let r = discovery(&h2, node.port).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.version(), reqwest::Version::HTTP_2, "ALPN offers h2");

    let stranger = client(&[Ca::new("Another CA").der()]).build().unwrap();
    let e = discovery(&stranger, node.port).await.unwrap_err();
    assert!(e.is_connect(), "{e:?}");
}

#[tokio::test]
async fn the_federation_client_refuses_expired_and_wrong_name_certificates() {
    let ca = Ca::new("Test federation CA");
    let fed = tls::client(&[ca.der()], None, Duration::from_secs(10)).unwrap();
    let get = |port: u16| {
        let fed = fed.clone();
        async move {
            fed.get(format!("https://localhost:{port}/healthz"))
                .send()
                .await
        }
    };

    let good = tempfile::tempdir().unwrap();
    let (c, k) = write_pair(good.path(), &ca.valid(&["localhost"]));
    let node = serve(&CertStore::load(&c, &k).unwrap()).await;
    let r = get(node.port).await.unwrap();
    assert_eq!(r.text().await.unwrap(), "ok\n");

    let expired = tempfile::tempdir().unwrap();
    let pair = ca.node(
        &["localhost"],
        OffsetDateTime::now_utc() - time::Duration::days(1),
    );
    let (c, k) = write_pair(expired.path(), &pair);
    let node = serve(&CertStore::load(&c, &k).unwrap()).await;
    let e = get(node.port).await.unwrap_err();
    assert!(format!("{e:?}").contains("Expired"), "{e:?}");

    let wrong = tempfile::tempdir().unwrap();
    let (c, k) = write_pair(wrong.path(), &ca.valid(&["peer.example.org"]));
    let node = serve(&CertStore::load(&c, &k).unwrap()).await;
    let e = get(node.port).await.unwrap_err();
    assert!(format!("{e:?}").contains("NotValidForName"), "{e:?}");
}

#[tokio::test]
async fn plain_http_to_the_tls_port_gets_no_http_answer() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Test federation CA");
    let (cert, key) = write_pair(dir.path(), &ca.valid(&["localhost"]));
    let node = serve(&CertStore::load(&cert, &key).unwrap()).await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", node.port))
        .await
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection is closed, not held");
    assert!(
        !String::from_utf8_lossy(&answer).contains("HTTP/1.1"),
        "{answer:?}"
    );

    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/healthz", node.port))
        .send()
        .await;
    assert!(plain.is_err(), "{plain:?}");
}

#[tokio::test]
async fn a_stalled_handshake_is_closed_after_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Test federation CA");
    let (cert, key) = write_pair(dir.path(), &ca.valid(&["localhost"]));
    let node = serve(&CertStore::load(&cert, &key).unwrap()).await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", node.port))
        .await
        .unwrap();
    // The first bytes of a TLS record header, and then nothing.
    stream.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(6), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "closed after the 2 s header timeout");
}

#[tokio::test]
async fn a_reload_swaps_the_certificate_for_new_connections() {
    let dir = tempfile::tempdir().unwrap();
    let old_ca = Ca::new("Old CA");
    let new_ca = Ca::new("New CA");
    let (cert, key) = write_pair(dir.path(), &old_ca.valid(&["localhost"]));
    let certs = CertStore::load(&cert, &key).unwrap();
    let node = serve(&certs).await;
    let trusts_old = client(&[old_ca.der()]).build().unwrap();
    let trusts_new = client(&[new_ca.der()]).build().unwrap();
    assert_eq!(
        discovery(&trusts_old, node.port).await.unwrap().status(),
        200
    );
    assert!(discovery(&trusts_new, node.port).await.is_err());

    // A key that is not the certificate's: refused, and the old pair stays in force.
    let (new_cert, _) = new_ca.valid(&["localhost"]);
    std::fs::write(&cert, &new_cert).unwrap();
    let e = certs.reload().unwrap_err();
    assert!(e.to_string().contains("does not go with"), "{e}");
    assert!(CertStore::load(&cert, &key).is_err());
    assert_eq!(
        discovery(&trusts_old, node.port).await.unwrap().status(),
        200
    );

    write_pair(dir.path(), &new_ca.valid(&["localhost"]));
    certs.reload().unwrap();
    assert_eq!(
        discovery(&trusts_new, node.port).await.unwrap().status(),
        200
    );
    // The old client's pooled connection goes on with the old certificate.
    assert_eq!(
        discovery(&trusts_old, node.port).await.unwrap().status(),
        200
    );
    let fresh_old = client(&[old_ca.der()]).build().unwrap();
    assert!(discovery(&fresh_old, node.port).await.is_err());
}

#[test]
fn files_that_are_not_a_certificate_or_a_key_are_refused_with_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not pem").unwrap();
    let e = CertStore::load(&junk, &junk).unwrap_err().to_string();
    assert!(e.contains("junk.pem"), "{e}");
    let e = CertStore::load(&dir.path().join("missing.pem"), &junk)
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.pem"), "{e}");
}

#[tokio::test]
async fn a_changed_file_is_reloaded_once_and_a_bad_change_leaves_the_old_pair() {
    let dir = tempfile::tempdir().unwrap();
    let (old_ca, new_ca) = (Ca::new("Old CA"), Ca::new("New CA"));
    let (cert, key) = write_pair(dir.path(), &old_ca.valid(&["localhost"]));
    let certs = CertStore::load(&cert, &key).unwrap();
    let node = serve(&certs).await;
    assert!(!certs.reload_if_changed().unwrap(), "nothing changed");

    // Half a renewal (the certificate without its key): refused once, not retried.
    std::fs::write(&cert, new_ca.valid(&["localhost"]).0).unwrap();
    assert!(certs.reload_if_changed().is_err());
    assert!(!certs.reload_if_changed().unwrap());
    let trusts_old = client(&[old_ca.der()]).build().unwrap();
    assert_eq!(
        discovery(&trusts_old, node.port).await.unwrap().status(),
        200
    );

    write_pair(dir.path(), &new_ca.valid(&["localhost", "127.0.0.1"]));
    assert!(certs.reload_if_changed().unwrap());
    assert!(!certs.reload_if_changed().unwrap());
    let trusts_new = client(&[new_ca.der()]).build().unwrap();
    assert_eq!(
        discovery(&trusts_new, node.port).await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn the_web_ui_marks_its_cookies_secure_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Test federation CA");
    let (cert, key) = write_pair(dir.path(), &ca.valid(&["localhost"]));
    let node = serve(&CertStore::load(&cert, &key).unwrap()).await;
    let c = client(&[ca.der()]).build().unwrap();
    let r = c
        .get(format!("https://localhost:{}/signin?lang=fr", node.port))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookies: Vec<&str> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for cookie in cookies {
        assert!(
            cookie.contains("; Secure") && cookie.contains("HttpOnly"),
            "{cookie}"
        );
    }
}

/// POST an empty body to the federation inbox; the answer's status and text.
async fn post_inbox(client: &reqwest::Client, port: u16) -> reqwest::Result<(u16, String)> {
    let r = client
        .post(format!("https://localhost:{port}/federation/v1/inbox"))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await?;
    Ok((r.status().as_u16(), r.text().await?))
}

#[tokio::test]
async fn with_mutual_tls_the_federation_routes_need_a_client_certificate_of_the_client_cas() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, client_ca, rogue) = (
        Ca::new("Server CA"),
        Ca::new("Federation client CA"),
        Ca::new("Rogue CA"),
    );
    let (cert, key) = write_pair(dir.path(), &ca.valid(&["localhost"]));
    let certs = CertStore::load(&cert, &key).unwrap();
    let config = certs
        .server_config_with_client_cas(&[client_ca.der()])
        .unwrap();
    let node = serve_config(config, true).await;
    let with_identity = |pair: &(String, String)| {
        let sub = tempfile::tempdir().unwrap();
        let (c, k) = write_pair(sub.path(), pair);
        let identity = tls::ClientIdentity::load(&c, &k).unwrap();
        tls::client(&[ca.der()], Some(&identity), Duration::from_secs(10)).unwrap()
    };

    // No client certificate: TAXII serves the user, the federation routes refuse with 403.
    let anonymous = tls::client(&[ca.der()], None, Duration::from_secs(10)).unwrap();
    assert_eq!(
        discovery(&anonymous, node.port).await.unwrap().status(),
        200
    );
    let (status, text) = post_inbox(&anonymous, node.port).await.unwrap();
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("require a TLS client certificate"), "{text}");
    let r = anonymous
        .get(format!(
            "https://localhost:{}/federation/v1/outbox?after=0",
            node.port
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // A certificate of the client CA: past the gate, on to the inbox's own checks (the
    // request is not signed by a member).
    let member = with_identity(&client_ca.valid(&["localhost"]));
    let (status, text) = post_inbox(&member, node.port).await.unwrap();
    assert_eq!(status, 401, "{text}");
    assert!(!text.contains("client certificate"), "{text}");
    assert_eq!(discovery(&member, node.port).await.unwrap().status(), 200);

    // Another CA's certificate, or an expired one of the client CA: no connection at all.
    let stranger = with_identity(&rogue.valid(&["localhost"]));
    let e = post_inbox(&stranger, node.port).await.unwrap_err();
    assert!(e.is_connect() || e.is_request(), "{e:?}");
    let expired = with_identity(&client_ca.node(
        &["localhost"],
        OffsetDateTime::now_utc() - time::Duration::days(1),
    ));
    let e = post_inbox(&expired, node.port).await.unwrap_err();
    assert!(e.is_connect() || e.is_request(), "{e:?}");
}

#[tokio::test]
async fn the_federation_client_presents_a_reloaded_client_certificate_and_keeps_it_when_a_reload_fails(
) {
    let dir = tempfile::tempdir().unwrap();
    let (ca, client_ca, rogue) = (
        Ca::new("Server CA"),
        Ca::new("Federation client CA"),
        Ca::new("Rogue CA"),
    );
    let (cert, key) = write_pair(dir.path(), &ca.valid(&["localhost"]));
    let config = CertStore::load(&cert, &key)
        .unwrap()
        .server_config_with_client_cas(&[client_ca.der()])
        .unwrap();
    let node = serve_config(config, true).await;
    let files = tempfile::tempdir().unwrap();
    let (c, k) = write_pair(files.path(), &rogue.valid(&["localhost"]));
    let identity = tls::ClientCertStore::load(&c, &k).unwrap();
    let federation = tls::FederationClient::new(
        Arc::new(vec![ca.der()]),
        Some(identity.clone()),
        Duration::from_secs(10),
    )
    .unwrap();
    // Another CA's certificate: no connection.
    let e = post_inbox(&federation.get(), node.port).await.unwrap_err();
    assert!(e.is_connect() || e.is_request(), "{e:?}");
    // New files alone change nothing until they are reloaded.
    write_pair(files.path(), &client_ca.valid(&["localhost"]));
    assert!(post_inbox(&federation.get(), node.port).await.is_err());
    identity.reload().unwrap();
    let (status, text) = post_inbox(&federation.get(), node.port).await.unwrap();
    assert_eq!(status, 401, "past the certificate gate: {text}");
    // A key that is not the certificate's: the reload fails, the good identity stays.
    std::fs::write(&k, rogue.valid(&["localhost"]).1).unwrap();
    assert!(identity.reload().is_err());
    let (status, _) = post_inbox(&federation.get(), node.port).await.unwrap();
    assert_eq!(status, 401);
}

#[tokio::test]
async fn without_mutual_tls_a_client_certificate_is_neither_asked_for_nor_needed() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Server CA");
    let (cert, key) = write_pair(dir.path(), &ca.valid(&["localhost"]));
    let node = serve(&CertStore::load(&cert, &key).unwrap()).await;
    let anonymous = tls::client(&[ca.der()], None, Duration::from_secs(10)).unwrap();
    let (status, text) = post_inbox(&anonymous, node.port).await.unwrap();
    assert_eq!(status, 401, "{text}");
}

#[test]
fn a_client_identity_whose_key_is_not_the_certificate_s_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Federation client CA");
    let (cert, _) = ca.valid(&["localhost"]);
    let (_, other_key) = ca.valid(&["localhost"]);
    let (c, k) = write_pair(dir.path(), &(cert, other_key));
    let e = tls::ClientIdentity::load(&c, &k).unwrap_err().to_string();
    assert!(e.contains("does not go with the certificate"), "{e}");
    let good = tempfile::tempdir().unwrap();
    let (c, k) = write_pair(good.path(), &ca.valid(&["localhost"]));
    let e = CertStore::load(&c, &k)
        .unwrap()
        .server_config_with_client_cas(&[])
        .map(|_| ())
        .unwrap_err();
    assert!(
        e.to_string().contains("cannot verify client certificates"),
        "{e}"
    );
}
