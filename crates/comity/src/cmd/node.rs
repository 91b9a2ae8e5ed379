//! `comity init` and `comity serve`: create a node, and run it.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use comity_node::{admin, Node};
use comity_server::tls::Reloadable;
use comity_server::AppState;
use comity_store::{Access, ApiRoot, Collection, Role};

use crate::config::{DataDir, FileConfig, CONFIG_FILE, CONFIG_TEMPLATE, DEFAULT_LISTEN};

/// Name of the API root made by `init`.
pub const DEFAULT_API_ROOT: &str = "default";
/// Largest request body accepted by the default API root (10 MiB).
pub const DEFAULT_MAX_CONTENT_LENGTH: u64 = 10 * 1024 * 1024;

/// Arguments of `comity init`.
#[derive(clap::Args)]
pub struct InitArgs {
    #[command(flatten)]
    data: DataDir,
    #[command(flatten)]
    identity: Identity,
}

/// This node's member record, as `init` first writes it (change it later with
/// `comity member set-local`).
#[derive(clap::Args, Clone, Default)]
pub struct Identity {
    /// The organisation running the node, e.g. "CERT-FR" [default: Comity node].
    #[arg(long, env = "COMITY_ORGANISATION")]
    organisation: Option<String>,
    /// Its ISO 3166-1 alpha-2 country code, e.g. FR [default: ZZ, unknown].
    #[arg(long, env = "COMITY_COUNTRY")]
    country: Option<String>,
    /// What it does: cert, police, judicial or central-authority (repeat) [default: cert].
    #[arg(long = "member-role", value_name = "ROLE")]
    roles: Vec<comity_node::registry::MemberRole>,
    /// The node's base URL as peers reach it, e.g. https://cti.cert.example.gov
    #[arg(long, env = "COMITY_ENDPOINT")]
    endpoint: Option<String>,
}

impl Identity {
    /// An identity given in code.
    pub(crate) fn new(
        organisation: &str,
        country: &str,
        roles: Vec<comity_node::registry::MemberRole>,
        endpoint: String,
    ) -> Identity {
        Identity {
            organisation: Some(organisation.to_owned()),
            country: Some(country.to_owned()),
            roles,
            endpoint: Some(endpoint),
        }
    }

    fn facts(self) -> crate::cmd::member::MemberFacts {
        let roles = if self.roles.is_empty() {
            vec![comity_node::registry::MemberRole::Cert]
        } else {
            self.roles
        };
        crate::cmd::member::MemberFacts {
            name: self.organisation.unwrap_or_else(|| "Comity node".into()),
            country: self.country.unwrap_or_else(|| "ZZ".into()),
            roles,
            endpoint: self.endpoint,
            contact: None,
        }
    }
}

/// Arguments of `comity serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    data: DataDir,
    /// Address to listen on [default: 127.0.0.1:8425, loopback only].
    #[arg(long, env = "COMITY_LISTEN")]
    listen: Option<SocketAddr>,
    /// Base URL advertised in TAXII discovery, e.g. https://cti.example.gov
    #[arg(long, env = "COMITY_PUBLIC_URL")]
    public_url: Option<String>,
    #[command(flatten)]
    connections: crate::config::ConnectionArgs,
    #[command(flatten)]
    tls: crate::config::TlsArgs,
    /// Seconds between two looks for due feeds; 0 runs feeds only by hand.
    #[arg(long, env = "COMITY_FEED_SCHEDULER_SECONDS",
          default_value_t = comity_server::feeds::SCHEDULER_EVERY.as_secs())]
    feed_scheduler_seconds: u64,
}

/// Creates the node: data directory, store, API root `default` with a collection
/// `default`, the user `admin` and the node's member record. Returns the admin password
/// when it was generated.
async fn initialise(data: &DataDir, identity: Identity) -> anyhow::Result<Option<String>> {
    let (password, generated) = match std::env::var("COMITY_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (admin::generate_password(), true),
    };
    initialise_with(data, identity, &password).await?;
    Ok(generated.then_some(password))
}

/// [`initialise`] with the admin password given.
pub(crate) async fn initialise_with(
    data: &DataDir,
    identity: Identity,
    password: &str,
) -> anyhow::Result<()> {
    let dir = &data.data_dir;
    if data.is_initialised()? {
        anyhow::bail!("{} already holds a Comity node", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    crate::cmd::log::create_node_key(dir)?;
    let store = data.open_or_create_store()?;
    let node = Node::new(store, crate::cmd::log::node_key(dir)?)?;
    admin::add_api_root(
        &node,
        ApiRoot {
            name: DEFAULT_API_ROOT.into(),
            title: "Comity default API root".into(),
            description: Some("Intelligence held by this node.".into()),
            max_content_length: DEFAULT_MAX_CONTENT_LENGTH,
        },
    )
    .await?;
    let collection = Collection {
        id: uuid::Uuid::new_v4().to_string(),
        api_root: DEFAULT_API_ROOT.into(),
        title: "default".into(),
        description: Some("The node's default collection.".into()),
        view: None,
        origin: None,
    };
    admin::add_collection(&node, &collection).await?;
    admin::add_user(&node, "admin", Role::Admin, password).await?;
    let full = Access {
        read: true,
        write: true,
    };
    admin::grant(&node, &collection, "admin", full).await?;
    let me = crate::cmd::member::create_local(&node, identity.facts()).await?;
    let config = dir.join(CONFIG_FILE);
    if !config.exists() {
        std::fs::write(&config, CONFIG_TEMPLATE)?;
    }
    eprintln!(
        "Initialised a Comity node in {} (API root `{DEFAULT_API_ROOT}`, collection `default` = {}).",
        dir.display(),
        collection.id
    );
    eprintln!(
        "This node is member {} ({}, country {}); change that with `comity member set-local`.",
        me.id,
        me.name(),
        me.record.country
    );
    Ok(())
}

fn announce_password(password: &str) {
    eprintln!("Log in as user `admin` with password: {password}");
    eprintln!("This password is shown once; change it with `comity user passwd admin`.");
}

/// Runs `comity init`.
pub async fn init(args: InitArgs) -> anyhow::Result<ExitCode> {
    if let Some(password) = initialise(&args.data, args.identity).await? {
        announce_password(&password);
    } else {
        eprintln!("User `admin` has the password given in COMITY_ADMIN_PASSWORD.");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Runs `comity serve`; initialises the node first when the data directory is empty.
pub async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if !args.data.is_initialised()? {
        eprintln!(
            "No node in {} yet: initialising one.",
            args.data.data_dir.display()
        );
        if let Some(password) = initialise(&args.data, Identity::default()).await? {
            announce_password(&password);
        }
    }
    let file = FileConfig::load(&args.data.data_dir)?;
    let listen = match args.listen.or(file.listen) {
        Some(addr) => addr,
        None => DEFAULT_LISTEN.parse()?,
    };
    crate::cmd::log::create_node_key(&args.data.data_dir)?;
    let notifications = match &file.notifications {
        Some(n) => Some(n.settings(&args.data.data_dir)?),
        None => None,
    };
    let node = args.data.open_node()?;
    crate::cmd::log::record_config(&args.data.data_dir, &node).await?;
    // A node made before envelopes were sealed publishes its encryption key now; its peers
    // pin it from its member record file (`comity member show-local --out FILE`).
    if node.registry().publish_encryption_key().await? {
        eprintln!(
            "This node's member record now publishes its encryption key; give peers the \
             record again (`comity member show-local --out FILE`) so that they can seal to it."
        );
    }
    if let Some(settings) = notifications {
        crate::notify::start(&node, settings)?;
    }
    let mut state = AppState::new(
        node,
        file.title.unwrap_or_else(|| "Comity node".into()),
        args.public_url.or(file.public_url),
    )
    .await?;
    if let Some(seconds) = file.witnessing.as_ref().and_then(|w| w.interval_seconds) {
        anyhow::ensure!(
            seconds >= 1,
            "[witnessing] interval_seconds in {CONFIG_FILE} must be at least 1"
        );
        state = state.with_witness_every(std::time::Duration::from_secs(seconds));
    }
    if let Some(federation) = &file.federation {
        state = state.with_inbox_limits(federation.inbox_limits()?);
    }
    state = state.with_feeds_every(
        (args.feed_scheduler_seconds > 0)
            .then(|| std::time::Duration::from_secs(args.feed_scheduler_seconds)),
    );
    let limits = args.connections.limits(file.connections.as_ref())?;
    let tls = args.tls.settings(file.tls.as_ref(), &args.data.data_dir)?;
    let client_cas =
        comity_server::tls::read_ca_files(&tls.client_ca_files).context("[tls] client_ca_files")?;
    let client_identity = tls.client_identity()?;
    let mut reloaded: Vec<(&'static str, Arc<dyn Reloadable>)> = Vec::new();
    if let Some(identity) = &client_identity {
        reloaded.push(("TLS client certificate and key", identity.clone()));
    }
    state = state
        .with_peer_roots(tls.peer_roots()?)
        .with_client_identity(client_identity)
        .requiring_client_cert_for_federation(!client_cas.is_empty());
    let server_tls = match &tls.server {
        Some((cert, key)) => {
            let certs =
                comity_server::tls::CertStore::load(cert, key).context("cannot serve TLS")?;
            reloaded.push(("TLS certificate and key", certs.clone()));
            Some(if client_cas.is_empty() {
                certs.server_config()
            } else {
                certs
                    .server_config_with_client_cas(&client_cas)
                    .context("[tls] client_ca_files")?
            })
        }
        None => None,
    };
    reload_on_hangup(reloaded);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let bound = listener.local_addr()?;
    let scheme = if server_tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(address = %bound, "serving TAXII 2.1 at {scheme}://{bound}/taxii2/");
    eprintln!("Comity node serving TAXII 2.1 at {scheme}://{bound}/taxii2/ (Ctrl-C to stop)");
    comity_server::serve_with_tls(listener, state, limits, server_tls, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// How often the certificate and key files are checked for a change.
const TLS_FILES_CHECKED_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Reloads each pair of files in `pairs` (the server's certificate and key, the federation
/// client's) on SIGHUP, and when either file of a pair changes (checked every 30 s): new
/// connections get the new pair, open ones keep theirs; a pair that does not load is logged
/// and leaves the old one in force.
fn reload_on_hangup(pairs: Vec<(&'static str, Arc<dyn Reloadable>)>) {
    if pairs.is_empty() {
        return;
    }
    #[cfg(unix)]
    let mut hangups = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGHUP: certificates reload when their files change");
            None
        }
    };
    tokio::spawn(async move {
        let mut every = tokio::time::interval(TLS_FILES_CHECKED_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            #[cfg(unix)]
            let hangup = async {
                match hangups.as_mut() {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let hangup = std::future::pending::<Option<()>>();
            let signalled = tokio::select! {
                Some(()) = hangup => true,
                _ = every.tick() => false,
            };
            for (what, pair) in &pairs {
                let outcome = if signalled {
                    pair.reload().map(|()| Some("SIGHUP"))
                } else {
                    pair.reload_if_changed()
                        .map(|changed| changed.then_some("the files changed"))
                };
                match outcome {
                    Ok(Some(why)) => tracing::info!("{why}: {what} reloaded"),
                    Ok(None) => {}
                    Err(e) => tracing::error!(
                        error = %e,
                        "{what} not reloaded; the previous one stays in force"
                    ),
                }
            }
        }
    });
}
