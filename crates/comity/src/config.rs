//! Node configuration: the data directory, an optional `comity.toml` inside it, and
//! `COMITY_*` environment variables. Precedence: command-line flag, then environment,
//! then the file, then the built-in default.
//!
//! The store is the embedded SQLite file in the data directory unless a PostgreSQL URL is
//! configured (`--database-url`, `COMITY_DATABASE_URL`, or `[database] url` in the file).
//! A URL is only ever shown with its password redacted.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use comity_node::requests::{RequestKind, ResponseTimes};
use comity_node::Node;
use comity_store::{ObjectStore, Store};
use comity_store_postgres::{redact_url, PgStore};
use comity_store_sqlite::SqliteStore;
use serde::Deserialize;

/// Name of the configuration file inside the data directory.
pub const CONFIG_FILE: &str = "comity.toml";
/// The folder of the data directory that keeps the requests' attachment files.
pub const ATTACHMENTS_DIR: &str = "attachments";

/// Address served when nothing else is configured: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8425";

/// Where the node keeps its data; every command that touches the node takes it.
#[derive(clap::Args, Clone, Debug)]
pub struct DataDir {
    /// The node's data directory (created by `comity init`).
    #[arg(long, env = "COMITY_DATA_DIR", default_value = "comity-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL database of the node (postgres://user:password@host/db), instead of the
    /// embedded SQLite file; overrides `[database] url` in comity.toml.
    #[arg(long, env = "COMITY_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// Settings read from `comity.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on.
    pub listen: Option<SocketAddr>,
    /// Base URL advertised in TAXII discovery (for nodes behind a proxy).
    pub public_url: Option<String>,
    /// Title shown in TAXII discovery.
    pub title: Option<String>,
    /// Where the store lives when it is not the embedded SQLite file.
    pub database: Option<DatabaseConfig>,
    /// The node identity key file, relative to the data directory (default `node.key`).
    pub node_key_file: Option<PathBuf>,
    /// Witnessing: how often the node submits its checkpoint to its peers.
    pub witnessing: Option<WitnessingConfig>,
    /// The federation inbox: body cap, concurrency and per-peer quotas.
    pub federation: Option<FederationConfig>,
    /// Connection limits and timeouts of the server.
    pub connections: Option<ConnectionsConfig>,
    /// Cooperation requests: how long this node gives itself to answer.
    pub requests: Option<RequestsConfig>,
    /// Notifications of requests for the 24/7 channel: e-mail and webhooks.
    pub notifications: Option<crate::notify::NotificationsConfig>,
    /// TLS: the server's certificate and key, and the CAs trusted for peers.
    pub tls: Option<TlsConfig>,
}

/// The `[tls]` table of `comity.toml`; paths are relative to the data directory.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The server's certificate chain (PEM); with `key_file`, the node serves TLS only.
    pub cert_file: Option<PathBuf>,
    /// The server's private key (PEM).
    pub key_file: Option<PathBuf>,
    /// CA certificates (PEM) trusted for peers beside the system's roots.
    #[serde(default)]
    pub peer_ca_files: Vec<PathBuf>,
    /// Mutual TLS: CA certificates (PEM) whose client certificates the federation routes
    /// require; other routes serve clients without a certificate.
    #[serde(default)]
    pub client_ca_files: Vec<PathBuf>,
    /// The certificate chain (PEM) the federation client presents to peers.
    pub client_cert_file: Option<PathBuf>,
    /// Its private key (PEM).
    pub client_key_file: Option<PathBuf>,
}

/// The server's certificate and key from flags or the environment, which win over the file.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct TlsArgs {
    /// The server's certificate chain (PEM); with --tls-key-file the node serves HTTPS only.
    #[arg(long, env = "COMITY_TLS_CERT_FILE")]
    pub tls_cert_file: Option<PathBuf>,
    /// The server's private key (PEM).
    #[arg(long, env = "COMITY_TLS_KEY_FILE")]
    pub tls_key_file: Option<PathBuf>,
}

/// What TLS settings come to: the certificate and key files when the node serves TLS, and
/// the peer CA files; each path resolved against the data directory.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// Certificate and key files, when the node serves TLS.
    pub server: Option<(PathBuf, PathBuf)>,
    /// CA files trusted for peers.
    pub peer_ca_files: Vec<PathBuf>,
    /// CA files of the client certificates the federation routes require (none: no mutual
    /// TLS).
    pub client_ca_files: Vec<PathBuf>,
    /// Certificate and key files the federation client presents, when it has them.
    pub client: Option<(PathBuf, PathBuf)>,
}

impl TlsSettings {
    /// The CA certificates trusted for peers beside the system's roots.
    pub fn peer_roots(&self) -> anyhow::Result<Vec<comity_server::tls::CertificateDer<'static>>> {
        comity_server::tls::read_ca_files(&self.peer_ca_files).context("[tls] peer_ca_files")
    }

    /// The certificate the federation client presents, when one is configured, with its
    /// files to reload it from.
    pub fn client_identity(
        &self,
    ) -> anyhow::Result<Option<std::sync::Arc<comity_server::tls::ClientCertStore>>> {
        self.client
            .as_ref()
            .map(|(cert, key)| comity_server::tls::ClientCertStore::load(cert, key))
            .transpose()
            .context("[tls] client_cert_file and client_key_file")
    }
}

impl TlsArgs {
    /// Flags and environment, else the file; both files or neither.
    pub fn settings(
        &self,
        file: Option<&TlsConfig>,
        data_dir: &Path,
    ) -> anyhow::Result<TlsSettings> {
        let unset = TlsConfig::default();
        let file = file.unwrap_or(&unset);
        let cert = self.tls_cert_file.clone().or(file.cert_file.clone());
        let key = self.tls_key_file.clone().or(file.key_file.clone());
        let server = match (cert, key) {
            (Some(cert), Some(key)) => Some((data_dir.join(cert), data_dir.join(key))),
            (None, None) => None,
            _ => anyhow::bail!(
                "TLS needs both a certificate and a key file ([tls] cert_file and key_file in \
                 {CONFIG_FILE}, or --tls-cert-file and --tls-key-file)"
            ),
        };
        let client = match (&file.client_cert_file, &file.client_key_file) {
            (Some(cert), Some(key)) => Some((data_dir.join(cert), data_dir.join(key))),
            (None, None) => None,
            _ => anyhow::bail!(
                "the federation client's certificate needs both [tls] client_cert_file and \
                 client_key_file in {CONFIG_FILE}"
            ),
        };
        if !file.client_ca_files.is_empty() && server.is_none() {
            anyhow::bail!(
                "[tls] client_ca_files (mutual TLS for the federation routes) needs the node to \
                 serve TLS: set [tls] cert_file and key_file in {CONFIG_FILE} too"
            );
        }
        let resolve = |paths: &[PathBuf]| paths.iter().map(|p| data_dir.join(p)).collect();
        Ok(TlsSettings {
            server,
            peer_ca_files: resolve(&file.peer_ca_files),
            client_ca_files: resolve(&file.client_ca_files),
            client,
        })
    }
}

/// The `[requests]` table of `comity.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestsConfig {
    /// Hours this node, as the requested side, gives itself to answer, by kind: `assistance`,
    /// `preservation`, `disclosure`, `production`, `mla`, each also with `_emergency`
    /// (e.g. `production_emergency = 8`); unset kinds keep their defaults.
    #[serde(default)]
    pub response_hours: std::collections::BTreeMap<String, u32>,
    /// The largest attachment this node stores, in bytes (2 GiB when unset).
    pub max_attachment_bytes: Option<u64>,
}

impl RequestsConfig {
    /// The response times these settings give.
    pub fn response_times(&self) -> anyhow::Result<ResponseTimes> {
        let mut times = ResponseTimes::default();
        for (name, hours) in &self.response_hours {
            let (kind, emergency) = match name.strip_suffix("_emergency") {
                Some(kind) => (kind, true),
                None => (name.as_str(), false),
            };
            let kind: RequestKind = kind.parse().map_err(|e| {
                anyhow::anyhow!(
                    "[requests] response_hours in {CONFIG_FILE}: {e} (or KIND_emergency)"
                )
            })?;
            times
                .set(kind, emergency, i64::from(*hours) * 3600)
                .map_err(|e| anyhow::anyhow!("[requests] response_hours in {CONFIG_FILE}: {e}"))?;
        }
        Ok(times)
    }
}

/// The `[federation]` table of `comity.toml`; each setting unset keeps its default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// Largest envelope body an authenticated peer may send (default 64 MiB).
    pub max_envelope_bytes: Option<usize>,
    /// Inbox requests served at once, all peers together (default 8).
    pub inbox_concurrency: Option<usize>,
    /// Inbox requests served at once for one peer (default 2).
    pub inbox_concurrency_per_peer: Option<usize>,
    /// Objects a peer may send per hour (default 1,000,000).
    pub quota_objects_per_hour: Option<u64>,
    /// Envelope body bytes a peer may send per hour (default 1 GiB).
    pub quota_bytes_per_hour: Option<u64>,
}

impl FederationConfig {
    /// The inbox limits these settings give; every limit must be at least 1.
    pub fn inbox_limits(&self) -> anyhow::Result<comity_server::inbox_gate::InboxLimits> {
        let mut limits = comity_server::inbox_gate::InboxLimits::default();
        let set = |name: &str, value: Option<u64>, slot: &mut u64| -> anyhow::Result<()> {
            if let Some(v) = value {
                anyhow::ensure!(
                    v >= 1,
                    "[federation] {name} in {CONFIG_FILE} must be at least 1"
                );
                *slot = v;
            }
            Ok(())
        };
        let as_u64 = |v: Option<usize>| v.map(|v| v as u64);
        let mut max = limits.max_envelope_bytes as u64;
        let mut all = limits.concurrent as u64;
        let mut per_peer = limits.concurrent_per_sender as u64;
        set(
            "max_envelope_bytes",
            as_u64(self.max_envelope_bytes),
            &mut max,
        )?;
        set(
            "inbox_concurrency",
            as_u64(self.inbox_concurrency),
            &mut all,
        )?;
        set(
            "inbox_concurrency_per_peer",
            as_u64(self.inbox_concurrency_per_peer),
            &mut per_peer,
        )?;
        set(
            "quota_objects_per_hour",
            self.quota_objects_per_hour,
            &mut limits.quotas.objects_per_hour,
        )?;
        set(
            "quota_bytes_per_hour",
            self.quota_bytes_per_hour,
            &mut limits.quotas.bytes_per_hour,
        )?;
        limits.max_envelope_bytes = max as usize;
        limits.concurrent = all as usize;
        limits.concurrent_per_sender = per_peer as usize;
        Ok(limits)
    }
}

/// `[connections]` in comity.toml: the limits that keep one client from taking the node
/// down (see `comity_server::connections::ConnectionLimits` for what each means).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsConfig {
    pub header_timeout_seconds: Option<u64>,
    pub idle_timeout_seconds: Option<u64>,
    pub max: Option<usize>,
    pub max_per_address: Option<usize>,
}

/// The same limits from flags or the environment, which win over the file.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ConnectionArgs {
    /// Seconds a client has to send a request's headers [default: 10].
    #[arg(long, env = "COMITY_HEADER_TIMEOUT_SECONDS")]
    pub header_timeout_seconds: Option<u64>,
    /// Seconds without traffic after which a connection is closed [default: 60].
    #[arg(long, env = "COMITY_IDLE_TIMEOUT_SECONDS")]
    pub idle_timeout_seconds: Option<u64>,
    /// Connections open at once [default: 512].
    #[arg(long, env = "COMITY_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Connections open at once from one address (IPv6: one /64) [default: 64].
    #[arg(long, env = "COMITY_MAX_CONNECTIONS_PER_ADDRESS")]
    pub max_connections_per_address: Option<usize>,
}

impl ConnectionArgs {
    /// The limits: flags and environment, else the file, else the defaults; each at least 1.
    pub fn limits(
        &self,
        file: Option<&ConnectionsConfig>,
    ) -> anyhow::Result<comity_server::connections::ConnectionLimits> {
        let unset = ConnectionsConfig::default();
        let file = file.unwrap_or(&unset);
        let defaults = comity_server::connections::ConnectionLimits::default();
        let pick = |name: &str, arg: Option<u64>, file: Option<u64>, default: u64| {
            let value = arg.or(file).unwrap_or(default);
            anyhow::ensure!(value >= 1, "[connections] {name} must be at least 1");
            Ok(value)
        };
        let seconds = std::time::Duration::from_secs;
        let count = |n: Option<usize>| n.map(|n| n as u64);
        Ok(comity_server::connections::ConnectionLimits {
            header_timeout: seconds(pick(
                "header_timeout_seconds",
                self.header_timeout_seconds,
                file.header_timeout_seconds,
                defaults.header_timeout.as_secs(),
            )?),
            idle_timeout: seconds(pick(
                "idle_timeout_seconds",
                self.idle_timeout_seconds,
                file.idle_timeout_seconds,
                defaults.idle_timeout.as_secs(),
            )?),
            max_connections: pick(
                "max",
                count(self.max_connections),
                count(file.max),
                defaults.max_connections as u64,
            )? as usize,
            max_per_address: pick(
                "max_per_address",
                count(self.max_connections_per_address),
                count(file.max_per_address),
                defaults.max_per_address as u64,
            )? as usize,
        })
    }
}

/// The `[witnessing]` table of `comity.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessingConfig {
    /// Seconds between two rounds of submitting the latest checkpoint to each active peer
    /// (default 60; at least 1).
    pub interval_seconds: Option<u64>,
}

/// The `[database]` table of `comity.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// PostgreSQL URL, `postgres://user:password@host:5432/db`.
    pub url: Option<String>,
}

impl FileConfig {
    /// Reads `comity.toml` from the data directory; a missing file is an empty config.
    pub fn load(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).with_context(|| format!("in {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
}

/// The commented template written by `comity init`.
pub const CONFIG_TEMPLATE: &str = r#"# Comity node configuration. Environment variables (COMITY_LISTEN, COMITY_PUBLIC_URL)
# and command-line flags override what is set here.

# Address the node listens on. Loopback by default: expose it deliberately.
# listen = "127.0.0.1:8425"

# Base URL advertised in TAXII discovery, when the node sits behind a reverse proxy.
# public_url = "https://cti.example.gov"

# Title shown in TAXII discovery.
# title = "Comity node"

# The node identity key (Ed25519, mode 0600), relative to this directory. The environment
# may name another file (COMITY_NODE_KEY_FILE) or hold the key itself (COMITY_NODE_KEY).
# node_key_file = "node.key"

# Witnessing: every interval the node sends its latest checkpoint to each active peer
# (when its log grew, or the peer's cosignature is ten intervals old) and collects their
# cosignatures.
# [witnessing]
# interval_seconds = 60

# The federation inbox: requests must be signed by a registered, active member (checked
# before the body is read); then each body is capped, requests are bounded at once (all
# peers, and per peer), and each peer may send so many objects and bytes per hour.
# [federation]
# max_envelope_bytes = 67108864
# inbox_concurrency = 8
# inbox_concurrency_per_peer = 2
# quota_objects_per_hour = 1000000
# quota_bytes_per_hour = 1073741824
# Connections: a client must send a request's headers within header_timeout_seconds (also
# how long an idle keep-alive connection stays open); a connection with no traffic for
# idle_timeout_seconds is closed; at most `max` connections at once, and at most
# max_per_address from one address (an IPv6 /64 counts as one). Beyond a limit new
# connections are closed at once. Environment: COMITY_HEADER_TIMEOUT_SECONDS,
# COMITY_IDLE_TIMEOUT_SECONDS, COMITY_MAX_CONNECTIONS, COMITY_MAX_CONNECTIONS_PER_ADDRESS.
# [connections]
# header_timeout_seconds = 10
# idle_timeout_seconds = 60
# max = 512
# max_per_address = 64

# TLS: with a certificate and its key (PEM, relative to this directory or absolute) the
# node serves HTTPS only (TLS 1.2+, 1.3 preferred; HTTP/2 and HTTP/1.1); SIGHUP, or a change
# of either file (checked every 30 s), reloads both for new connections. Environment: COMITY_TLS_CERT_FILE, COMITY_TLS_KEY_FILE.
# peer_ca_files: CAs trusted for peers' certificates beside the system's roots.
# Mutual TLS (optional): with client_ca_files the server asks every client for a
# certificate; the federation routes (/federation/...) then answer 403 to a connection that
# presented none, and a certificate those CAs did not sign (or an expired one) fails the
# handshake; a peer's certificate must be valid for the host of its member endpoint.
# TAXII, the API and the web UI go on serving users without a certificate.
# client_cert_file and client_key_file: the certificate this node presents to its peers
# (deliveries, pulls, witnessing, `comity log audit`); it may be the server's own pair when
# the federation CA issued it for client authentication too. Reloaded, as cert_file is, on
# SIGHUP or a change of either file.
# [tls]
# cert_file = "tls/cert.pem"
# key_file = "tls/key.pem"
# peer_ca_files = ["tls/federation-ca.pem"]
# client_ca_files = ["tls/federation-ca.pem"]
# client_cert_file = "tls/client-cert.pem"
# client_key_file = "tls/client-key.pem"

# Notifications of cooperation requests for the 24/7 channel: e-mail through an SMTP
# server (STARTTLS required unless the server is on loopback) and webhooks (https://, signed
# with HMAC-SHA256 in X-Comity-Signature). Secrets are read from files relative to this
# directory. A notice never carries the request's contents.
# [notifications]
# email_to = ["duty-officer@example.org"]
# reminder_hours = 4
# [notifications.smtp]
# host = "smtp.example.org"
# port = 587
# starttls = true
# username = "comity"
# password_file = "smtp-password"
# from = "comity@example.org"
# [[notifications.webhooks]]
# url = "https://hooks.example.org/comity"
# secret_file = "webhook-secret"

# The store: the embedded SQLite file in this directory unless a PostgreSQL URL is set
# here or in COMITY_DATABASE_URL (prefer the environment for a URL with a password).
# [database]
# url = "postgres://comity@db.example:5432/comity"
"#;

/// Where a node's store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded SQLite file in this data directory.
    Sqlite(PathBuf),
    /// A PostgreSQL database at this URL.
    Postgres(String),
}

impl std::fmt::Display for StoreLocation {
    /// Names the store for messages; a URL's password is redacted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite(dir) => write!(f, "{}", dir.display()),
            StoreLocation::Postgres(url) => write!(f, "{}", redact_url(url)),
        }
    }
}

impl StoreLocation {
    /// A data directory, or a `postgres://` URL.
    pub fn parse(text: &str) -> Self {
        if comity_store_postgres::is_postgres_url(text) {
            StoreLocation::Postgres(text.to_owned())
        } else {
            StoreLocation::Sqlite(PathBuf::from(text))
        }
    }

    /// Opens the store, creating it and bringing its schema up to date when needed.
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        Ok(match self {
            StoreLocation::Sqlite(dir) => Arc::new(
                SqliteStore::open(dir)
                    .with_context(|| format!("cannot open the store in {}", dir.display()))?,
            ),
            StoreLocation::Postgres(url) => Arc::new(
                PgStore::open(url)
                    .await
                    .with_context(|| format!("cannot open the store at {}", redact_url(url)))?,
            ),
        })
    }

    /// Whether a node lives here: the SQLite file exists, or the database holds the schema
    /// and an API root. An unreachable database is an error, not "no node".
    pub async fn holds_node(&self) -> anyhow::Result<bool> {
        match self {
            StoreLocation::Sqlite(dir) => Ok(dir.join(comity_store_sqlite::DATABASE_FILE).exists()),
            StoreLocation::Postgres(url) => {
                let store = PgStore::connect_only(url).await?;
                let found =
                    store.schema_in_database().await? > 0 && !store.api_roots().await?.is_empty();
                store.close().await;
                Ok(found)
            }
        }
    }
}

/// Runs an async store operation from the synchronous configuration API, on the
/// command's (multi-threaded) runtime.
fn on_runtime<T>(
    future: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let handle = tokio::runtime::Handle::try_current()
        .context("the store can only be opened from within the command's runtime")?;
    tokio::task::block_in_place(|| handle.block_on(future))
}

impl DataDir {
    /// Where the store lives: the configured PostgreSQL URL (flag or environment, then
    /// `comity.toml`), else the SQLite file in the data directory.
    pub fn store_location(&self) -> anyhow::Result<StoreLocation> {
        let url = match &self.database_url {
            Some(url) => Some(url.clone()),
            None => FileConfig::load(&self.data_dir)?
                .database
                .and_then(|d| d.url),
        };
        match url {
            Some(url) if !url.trim().is_empty() => {
                if !comity_store_postgres::is_postgres_url(&url) {
                    anyhow::bail!(
                        "the database URL {} is not a postgres:// or postgresql:// URL",
                        redact_url(&url)
                    );
                }
                Ok(StoreLocation::Postgres(url))
            }
            _ => Ok(StoreLocation::Sqlite(self.data_dir.clone())),
        }
    }

    /// Whether `comity init` has run for this node (for PostgreSQL: the schema exists and
    /// holds an API root). A store that cannot be reached is an error, never taken for an
    /// empty one.
    pub fn is_initialised(&self) -> anyhow::Result<bool> {
        let location = self.store_location()?;
        on_runtime(location.holds_node())
            .with_context(|| format!("cannot open the store at {location}"))
    }

    /// Opens the node's store; fails with advice when the node is not initialised, and
    /// with the reason when the store cannot be reached or is too new.
    pub fn open_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        let location = self.store_location()?;
        if !self.is_initialised()? {
            anyhow::bail!(
                "{location} holds no Comity node; create one with `comity init --data-dir {}`",
                self.data_dir.display()
            );
        }
        on_runtime(location.open())
    }

    /// Opens the node: its store, its identity key (which signs its log) and its settings
    /// for cooperation requests.
    pub fn open_node(&self) -> anyhow::Result<Node> {
        let store = self.open_store()?;
        let key = crate::cmd::log::node_key(&self.data_dir)?;
        let node = Node::new(store, key)?;
        let settings = FileConfig::load(&self.data_dir)?
            .requests
            .unwrap_or_default();
        node.set_response_times(settings.response_times()?);
        let mut attachments = comity_node::requests::attachments::Attachments::new(
            self.data_dir.join(ATTACHMENTS_DIR),
        );
        if let Some(max) = settings.max_attachment_bytes {
            if max == 0 {
                anyhow::bail!("[requests] max_attachment_bytes in {CONFIG_FILE} is at least 1");
            }
            attachments = attachments.with_max_size(max);
        }
        node.set_attachments(attachments);
        let warning_lists = comity_node::correlation::warnings::WarningLists::load(
            &self.data_dir.join("warninglists"),
        )?;
        node.set_warning_lists(warning_lists);
        Ok(node)
    }

    /// Opens the node's store, creating the database (or its schema) if needed.
    pub fn open_or_create_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        let location = self.store_location()?;
        on_runtime(location.open())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requests(text: &str) -> anyhow::Result<ResponseTimes> {
        let file: FileConfig = toml::from_str(text)?;
        file.requests.unwrap_or_default().response_times()
    }

    #[test]
    fn tls_settings_take_flags_over_the_file_and_need_both_files() {
        let file: FileConfig = toml::from_str(
            "[tls]\ncert_file = \"c.pem\"\nkey_file = \"/abs/k.pem\"\npeer_ca_files = [\"ca.pem\"]\n",
        )
        .unwrap();
        let dir = Path::new("/data");
        let got = TlsArgs::default().settings(file.tls.as_ref(), dir).unwrap();
        assert_eq!(
            got.server,
            Some((PathBuf::from("/data/c.pem"), PathBuf::from("/abs/k.pem")))
        );
        assert_eq!(got.peer_ca_files, vec![PathBuf::from("/data/ca.pem")]);
        let flags = TlsArgs {
            tls_cert_file: Some("/f/c.pem".into()),
            tls_key_file: None,
        };
        let got = flags.settings(file.tls.as_ref(), dir).unwrap();
        assert_eq!(
            got.server,
            Some((PathBuf::from("/f/c.pem"), PathBuf::from("/abs/k.pem")))
        );
        assert!(flags.settings(None, dir).is_err());
        assert_eq!(
            TlsArgs::default().settings(None, dir).unwrap(),
            TlsSettings::default()
        );
    }

    fn tls(text: &str) -> anyhow::Result<TlsSettings> {
        let file: FileConfig = toml::from_str(text)?;
        TlsArgs::default().settings(file.tls.as_ref(), Path::new("/data"))
    }

    #[test]
    fn the_client_certificate_and_the_client_cas_are_read_relative_to_the_data_dir() {
        let got = tls("[tls]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n\
                       client_ca_files = [\"fed-ca.pem\", \"/etc/other-ca.pem\"]\n\
                       client_cert_file = \"client.pem\"\nclient_key_file = \"/abs/client.key\"\n")
        .unwrap();
        assert_eq!(
            got.client_ca_files,
            vec![
                PathBuf::from("/data/fed-ca.pem"),
                PathBuf::from("/etc/other-ca.pem")
            ]
        );
        assert_eq!(
            got.client,
            Some((
                PathBuf::from("/data/client.pem"),
                PathBuf::from("/abs/client.key")
            ))
        );
        // a client certificate alone, without mutual TLS on the server, is fine
        let got =
            tls("[tls]\nclient_cert_file = \"c.pem\"\nclient_key_file = \"k.pem\"\n").unwrap();
        assert!(got.server.is_none() && got.client_ca_files.is_empty());
        assert!(got.client.is_some());
        let none = tls("").unwrap();
        assert_eq!((none.client, none.client_ca_files), (None, vec![]));
    }

    #[test]
    fn half_a_client_pair_or_client_cas_without_a_server_certificate_are_refused() {
        for half in [
            "[tls]\nclient_cert_file = \"c.pem\"\n",
            "[tls]\nclient_key_file = \"k.pem\"\n",
        ] {
            let e = tls(half).unwrap_err().to_string();
            assert!(
                e.contains("needs both [tls] client_cert_file and client_key_file"),
                "{e}"
            );
        }
        let e = tls("[tls]\nclient_ca_files = [\"ca.pem\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("client_ca_files (mutual TLS for the federation routes) needs the node to serve TLS"),
            "{e}"
        );
        let e = tls("[tls]\nclient_ca_file = \"ca.pem\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `client_ca_file`"), "{e}");
    }

    #[test]
    fn client_files_that_do_not_load_are_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("junk.pem"), "not pem").unwrap();
        let settings = TlsSettings {
            client: Some((dir.path().join("junk.pem"), dir.path().join("missing.key"))),
            client_ca_files: vec![dir.path().join("none.pem")],
            ..TlsSettings::default()
        };
        let e = format!("{:#}", settings.client_identity().unwrap_err());
        assert!(
            e.contains("[tls] client_cert_file") && e.contains("junk.pem"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            comity_server::tls::read_ca_files(&settings.client_ca_files).unwrap_err()
        );
        assert!(e.contains("none.pem"), "{e}");
    }

    #[test]
    fn response_hours_set_the_node_s_deadlines_by_kind() {
        let times = requests(
            "[requests]\nresponse_hours = { production = 120, production_emergency = 2 }\n",
        )
        .unwrap();
        assert_eq!(times.seconds(RequestKind::Production, false), 120 * 3600);
        assert_eq!(times.seconds(RequestKind::Production, true), 2 * 3600);
        assert_eq!(
            times.seconds(RequestKind::Mla, false),
            RequestKind::Mla.response_seconds(false)
        );
    }

    #[test]
    fn unknown_kinds_and_impossible_hours_are_refused() {
        let e = requests("[requests]\nresponse_hours = { gossip = 1 }\n").unwrap_err();
        assert!(
            e.to_string().contains("unknown request kind \"gossip\""),
            "{e}"
        );
        let e = requests("[requests]\nresponse_hours = { mla = 0 }\n").unwrap_err();
        assert!(
            e.to_string().contains("between one minute and 366 days"),
            "{e}"
        );
        assert!(requests("[requests]\nresponse_hours = { mla = -1 }\n").is_err());
        assert!(requests("[requests]\nresponse = 1\n").is_err());
    }
}
