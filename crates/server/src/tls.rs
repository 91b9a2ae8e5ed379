//! TLS for the server and for the federation client, with rustls.
//!
//! The server's certificate and key are read from PEM files; a [`CertStore`] holds the
//! pair in force and hands it to every new handshake, so [`PairFiles::reload`] (on SIGHUP,
//! or when the files change) swaps it for new connections while open ones go on with the
//! old. rustls' defaults
//! apply: TLS 1.3 preferred, TLS 1.2 with AEAD suites only, nothing older. ALPN offers
//! HTTP/2 and HTTP/1.1.
//!
//! The federation client trusts the system's roots, the bundled Mozilla roots and the CA
//! files the node names (`[tls] peer_ca_files`), see [`client`], and presents the node's
//! client certificate when it has one ([`ClientIdentity`], `[tls] client_cert_file`); a
//! [`FederationClient`] is built anew for its next request once that certificate is
//! reloaded ([`ClientCertStore`]).
//!
//! Mutual TLS: with `[tls] client_ca_files` the server asks every client for a certificate
//! ([`CertStore::server_config_with_client_cas`]). A client may present none (TAXII, the API
//! and the web UI serve users without one); a certificate that those CAs did not sign, or
//! that has expired, fails the handshake. The federation routes then require one, see
//! [`crate::client_auth`].

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::crypto::ring::default_provider;
use rustls::pki_types::pem::PemObject;
/// A DER certificate, as the functions of this module read and take them.
pub use rustls::pki_types::CertificateDer;
use rustls::pki_types::PrivateKeyDer;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};

/// Why TLS cannot be set up: which file, and what is wrong with it.
#[derive(Debug)]
pub struct TlsError(pub String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

fn error(text: impl Into<String>) -> TlsError {
    TlsError(text.into())
}

/// Reads every certificate of a PEM file.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| {
            error(format!(
                "cannot read certificates from {}: {e}",
                path.display()
            ))
        })?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(format!("{} is not valid PEM: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(error(format!(
            "{} holds no certificate (expected PEM \"BEGIN CERTIFICATE\")",
            path.display()
        )));
    }
    Ok(certs)
}

/// Loads a certificate chain and its private key (PEM), checking that the key is the
/// certificate's.
pub fn load_certified_key(cert_file: &Path, key_file: &Path) -> Result<CertifiedKey, TlsError> {
    let chain = read_certificates(cert_file)?;
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| {
        error(format!(
            "cannot read a private key (PEM PKCS#8, PKCS#1 or SEC1) from {}: {e}",
            key_file.display()
        ))
    })?;
    let provider = default_provider();
    let certified = CertifiedKey::from_der(chain, key, &provider).map_err(|e| {
        error(format!(
            "the key in {} does not go with the certificate in {}: {e}",
            key_file.display(),
            cert_file.display()
        ))
    })?;
    Ok(certified)
}

/// A certificate file and its key file, and what was last loaded from them (`T`: the
/// server's [`CertifiedKey`] or the client's [`ClientIdentity`]), kept until a reload
/// succeeds.
#[derive(Debug)]
pub struct PairFiles<T> {
    cert_file: PathBuf,
    key_file: PathBuf,
    load: fn(&Path, &Path) -> Result<T, TlsError>,
    current: RwLock<Arc<T>>,
    /// The files' modification times and sizes when last loaded.
    loaded: std::sync::Mutex<Stamp>,
}

type Stamp = [Option<(std::time::SystemTime, u64)>; 2];

fn stamp(cert_file: &Path, key_file: &Path) -> Stamp {
    let of = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())))
    };
    [of(cert_file), of(key_file)]
}

impl<T> PairFiles<T> {
    fn open(
        cert_file: &Path,
        key_file: &Path,
        load: fn(&Path, &Path) -> Result<T, TlsError>,
    ) -> Result<Arc<PairFiles<T>>, TlsError> {
        let loaded = stamp(cert_file, key_file);
        let current = load(cert_file, key_file)?;
        Ok(Arc::new(PairFiles {
            cert_file: cert_file.to_owned(),
            key_file: key_file.to_owned(),
            load,
            current: RwLock::new(Arc::new(current)),
            loaded: std::sync::Mutex::new(loaded),
        }))
    }

    /// Reads the files again; what is used from now on is the new pair. On an error the
    /// pair in force stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let loaded = stamp(&self.cert_file, &self.key_file);
        let pair = (self.load)(&self.cert_file, &self.key_file)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(pair);
        *self.loaded.lock().unwrap_or_else(|e| e.into_inner()) = loaded;
        Ok(())
    }

    /// [`PairFiles::reload`] when either file changed (modification time or size) since
    /// it was last loaded or tried; whether it reloaded. A pair that fails is not tried
    /// again until a file changes again.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let now = stamp(&self.cert_file, &self.key_file);
        {
            let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
            if *loaded == now {
                return Ok(false);
            }
            *loaded = now;
        }
        self.reload().map(|()| true)
    }

    /// The pair in force.
    pub fn current(&self) -> Arc<T> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A pair of files that can be read again while the node runs (SIGHUP, or a change of the
/// files), whatever is loaded from them.
pub trait Reloadable: Send + Sync {
    /// See [`PairFiles::reload`].
    fn reload(&self) -> Result<(), TlsError>;
    /// See [`PairFiles::reload_if_changed`].
    fn reload_if_changed(&self) -> Result<bool, TlsError>;
}

impl<T: Send + Sync> Reloadable for PairFiles<T> {
    fn reload(&self) -> Result<(), TlsError> {
        PairFiles::reload(self)
    }
    fn reload_if_changed(&self) -> Result<bool, TlsError> {
        PairFiles::reload_if_changed(self)
    }
}

/// The server's certificate and key files, and the pair loaded from them.
pub type CertStore = PairFiles<CertifiedKey>;

impl CertStore {
    /// Loads the pair; an error names the file at fault.
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<Arc<CertStore>, TlsError> {
        PairFiles::open(cert_file, key_file, load_certified_key)
    }

    /// The server configuration: rustls' safe defaults, this store's certificate, ALPN
    /// `h2` then `http/1.1`, no client certificates asked for.
    pub fn server_config(self: &Arc<Self>) -> Arc<ServerConfig> {
        self.config_with(WebPkiClientVerifier::no_client_auth())
    }

    /// [`CertStore::server_config`], also asking each client for a certificate signed by one
    /// of `client_cas`: a client may present none, but one that does not verify against
    /// those CAs (another CA, expired, not for client authentication) fails the handshake.
    pub fn server_config_with_client_cas(
        self: &Arc<Self>,
        client_cas: &[CertificateDer<'static>],
    ) -> Result<Arc<ServerConfig>, TlsError> {
        let mut roots = RootCertStore::empty();
        for ca in client_cas {
            roots
                .add(ca.clone())
                .map_err(|e| error(format!("not a usable client CA certificate: {e}")))?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(default_provider()),
        )
        .allow_unauthenticated()
        .build()
        .map_err(|e| error(format!("cannot verify client certificates: {e}")))?;
        Ok(self.config_with(verifier))
    }

    fn config_with(self: &Arc<Self>, clients: Arc<dyn ClientCertVerifier>) -> Arc<ServerConfig> {
        let mut config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default protocol versions")
            .with_client_cert_verifier(clients)
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// Whether `host` (a URL's host, IPv6 in brackets or not) is this machine's loopback:
/// 127.0.0.0/8, ::1 or `localhost`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Reads the CA certificates a node trusts for its peers beside the usual roots.
pub fn read_ca_files(paths: &[PathBuf]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let mut roots = Vec::new();
    for path in paths {
        roots.extend(read_certificates(path)?);
    }
    Ok(roots)
}

/// The certificate and key a node presents to its peers as a TLS client (`[tls]
/// client_cert_file` and `client_key_file`), for peers that require mutual TLS.
#[derive(Clone)]
pub struct ClientIdentity(reqwest::Identity);

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientIdentity(..)")
    }
}

/// The client certificate and key files, and the identity loaded from them: a reload
/// ([`PairFiles::reload`]) gives the federation client the new one for its next requests.
pub type ClientCertStore = PairFiles<ClientIdentity>;

impl ClientCertStore {
    /// Loads the identity; an error names the file at fault.
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<Arc<ClientCertStore>, TlsError> {
        PairFiles::open(cert_file, key_file, ClientIdentity::load)
    }
}

impl ClientIdentity {
    /// Loads a certificate chain and its private key (PEM), checking that the key is the
    /// certificate's; an error names the file at fault.
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<ClientIdentity, TlsError> {
        load_certified_key(cert_file, key_file)?;
        let mut pem = Vec::new();
        for file in [key_file, cert_file] {
            let text = std::fs::read(file)
                .map_err(|e| error(format!("cannot read {}: {e}", file.display())))?;
            pem.extend_from_slice(&text);
            pem.push(b'\n');
        }
        let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
            error(format!(
                "{} and {} do not make a client identity: {e}",
                cert_file.display(),
                key_file.display()
            ))
        })?;
        Ok(ClientIdentity(identity))
    }
}

/// The federation client: certificates verified against the system's roots, the bundled
/// Mozilla roots and `extra_roots`; `identity` presented when a peer asks for a client
/// certificate; TLS 1.2 at least; requests give up after `timeout` (10 s to connect).
pub fn client(
    extra_roots: &[CertificateDer<'static>],
    identity: Option<&ClientIdentity>,
    timeout: Duration,
) -> Result<reqwest::Client, TlsError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .min_tls_version(reqwest::tls::Version::TLS_1_2)
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10));
    if let Some(ClientIdentity(identity)) = identity {
        builder = builder.identity(identity.clone());
    }
    for cert in extra_roots {
        let cert = reqwest::Certificate::from_der(cert)
            .map_err(|e| error(format!("not a usable CA certificate: {e}")))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build()
        .map_err(|e| error(format!("cannot build the federation client: {e}")))
}

/// The federation client of a running node: [`client`] with the peer CAs and, when the
/// node has one, the client certificate of a [`ClientCertStore`]; once that store holds a
/// reloaded certificate the client is built anew, so the next connections present it
/// (requests under way finish on the old one).
#[derive(Debug, Clone)]
pub struct FederationClient {
    roots: Arc<Vec<CertificateDer<'static>>>,
    identity: Option<Arc<ClientCertStore>>,
    timeout: Duration,
    built: Arc<std::sync::Mutex<(Option<Arc<ClientIdentity>>, reqwest::Client)>>,
}

impl FederationClient {
    /// A client trusting `roots` beside the usual ones and presenting the identity
    /// `identity` holds; requests give up after `timeout`.
    pub fn new(
        roots: Arc<Vec<CertificateDer<'static>>>,
        identity: Option<Arc<ClientCertStore>>,
        timeout: Duration,
    ) -> Result<FederationClient, TlsError> {
        let current = identity.as_ref().map(|store| store.current());
        let client = client(&roots, current.as_deref(), timeout)?;
        Ok(FederationClient {
            roots,
            identity,
            timeout,
            built: Arc::new(std::sync::Mutex::new((current, client))),
        })
    }

    /// Always `client`, whatever is reloaded.
    pub fn fixed(client: reqwest::Client) -> FederationClient {
        FederationClient {
            roots: Arc::default(),
            identity: None,
            timeout: Duration::ZERO,
            built: Arc::new(std::sync::Mutex::new((None, client))),
        }
    }

    /// The client for the next request: built anew when the store's identity is no longer
    /// the one it was built with (should that fail, the previous client goes on).
    pub fn get(&self) -> reqwest::Client {
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(store) = &self.identity {
            let current = store.current();
            if !built.0.as_ref().is_some_and(|b| Arc::ptr_eq(b, &current)) {
                match client(&self.roots, Some(&current), self.timeout) {
                    Ok(client) => {
                        tracing::info!(
                            "the federation client presents the reloaded client certificate"
                        );
                        *built = (Some(current), client);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "the federation client keeps its previous client certificate")
                    }
                }
            }
        }
        built.1.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "example.org",
            "localhost.example.org",
            "[::2]",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
