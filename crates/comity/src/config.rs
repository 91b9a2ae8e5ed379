//! Node configuration: the data directory, an optional `comity.toml` inside it, and
//! `COMITY_*` environment variables. Precedence: command-line flag, then environment,
//! then the file, then the built-in default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use comity_store::Store;
use comity_store_sqlite::SqliteStore;
use serde::Deserialize;

/// Name of the configuration file inside the data directory.
pub const CONFIG_FILE: &str = "comity.toml";

/// Address served when nothing else is configured: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8425";

/// Where the node keeps its data; every command that touches the node takes it.
#[derive(clap::Args, Clone, Debug)]
pub struct DataDir {
    /// The node's data directory (created by `comity init`).
    #[arg(long, env = "COMITY_DATA_DIR", default_value = "comity-data")]
    pub data_dir: PathBuf,
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
"#;

impl DataDir {
    /// Whether `comity init` has run here.
    pub fn is_initialised(&self) -> bool {
        self.data_dir
            .join(comity_store_sqlite::DATABASE_FILE)
            .exists()
    }

    /// Opens the node's store; fails with advice when the node is not initialised.
    pub fn open_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        if !self.is_initialised() {
            anyhow::bail!(
                "{} holds no Comity node; create one with `comity init --data-dir {}`",
                self.data_dir.display(),
                self.data_dir.display()
            );
        }
        self.open_or_create_store()
    }

    /// Opens the node's store, creating the database if needed.
    pub fn open_or_create_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        let store = SqliteStore::open(&self.data_dir)
            .with_context(|| format!("cannot open the store in {}", self.data_dir.display()))?;
        Ok(Arc::new(store))
    }
}
