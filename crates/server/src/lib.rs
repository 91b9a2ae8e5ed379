//! The HTTP face of a Comity node: TAXII 2.1 at `/taxii2/`, the node API at `/api/v1/`
//! (tokens, members, agreements, witness alerts, sightings, cooperation requests, feeds; its
//! OpenAPI document at `/api/v1/openapi.json`), the transparency log at `/log/`, `/metrics`
//! and `/healthz`; the web UI at `/` ([`ui`]).
//!
//! The server takes a bound listener and a shutdown future ([`serve`]), so tests bind
//! port 0 and run many nodes in one process. It holds no global state: everything a
//! handler needs is in [`AppState`].

mod api;
pub mod argon_pool;
pub mod auth;
pub mod client_auth;
pub mod connections;
mod correlate;
mod detections;
pub mod error;
pub mod federation;
pub mod feeds;
mod governance;
pub mod inbox_gate;
pub mod media;
pub mod metrics;
mod misp_feed;
pub mod openapi;
mod pull;
mod requests;
mod sightings;
mod taxii;
mod tlog;
pub mod tls;
pub mod ui;
pub mod witnessing;

use std::future::Future;
use std::sync::Arc;

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{get, MethodRouter};
use axum::Router;
use comity_node::Node;
use tokio::net::TcpListener;

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The node: its store, identity key, log and read views.
    pub node: Node,
    /// Credential verification and throttling.
    pub auth: Arc<auth::Authenticator>,
    /// Key that authenticates pagination tokens (identical for every process of a node).
    pub paging_key: [u8; 32],
    /// Title shown in TAXII discovery.
    pub title: String,
    /// Base URL advertised to clients, when the Host header must not be trusted.
    pub public_url: Option<String>,
    /// Request, authentication and policy counters served at `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// How often the node submits its checkpoint to its peers for cosigning.
    pub witness_every: std::time::Duration,
    /// How often the feed scheduler looks for due feeds; `None` runs feeds only by hand.
    pub feeds_every: Option<std::time::Duration>,
    /// The federation inbox's limits (authentication, body cap, concurrency, quotas).
    pub inbox: Arc<inbox_gate::InboxGate>,
    /// CA certificates trusted for peers beside the system's roots (`[tls] peer_ca_files`).
    pub peer_roots: Arc<Vec<rustls::pki_types::CertificateDer<'static>>>,
    /// The certificate the federation client presents to peers (`[tls] client_cert_file`),
    /// reloaded on SIGHUP or a change of its files.
    pub client_identity: Option<Arc<tls::ClientCertStore>>,
    /// Whether the federation routes require a verified TLS client certificate (`[tls]
    /// client_ca_files`), see [`client_auth`].
    pub federation_requires_client_cert: bool,
    /// The web UI's sessions and cookie settings.
    pub ui: ui::UiState,
}

impl AppState {
    /// Builds the state for a node, loading the node's paging key from its store.
    pub async fn new(
        node: Node,
        title: String,
        public_url: Option<String>,
    ) -> Result<Self, comity_store::StoreError> {
        let mut fresh = [0u8; 32];
        rand::Rng::fill(&mut rand::thread_rng(), &mut fresh);
        let paging_key = node.store().node_secret("paging", fresh).await?;
        Ok(AppState {
            node,
            auth: Arc::new(auth::Authenticator::new()),
            paging_key,
            title,
            public_url,
            metrics: Arc::default(),
            witness_every: witnessing::DEFAULT_EVERY,
            feeds_every: Some(feeds::SCHEDULER_EVERY),
            inbox: Arc::new(inbox_gate::InboxGate::new(Default::default())),
            peer_roots: Arc::default(),
            client_identity: None,
            federation_requires_client_cert: false,
            ui: ui::UiState::default(),
        })
    }

    /// The same state, with these limits on the federation inbox.
    pub fn with_inbox_limits(self, limits: inbox_gate::InboxLimits) -> Self {
        AppState {
            inbox: Arc::new(inbox_gate::InboxGate::new(limits)),
            ..self
        }
    }

    /// The same state, trusting these CAs for peers beside the system's roots.
    pub fn with_peer_roots(self, roots: Vec<rustls::pki_types::CertificateDer<'static>>) -> Self {
        AppState {
            peer_roots: Arc::new(roots),
            ..self
        }
    }

    /// The same state, presenting `identity` to peers as the federation client's
    /// certificate.
    pub fn with_client_identity(self, identity: Option<Arc<tls::ClientCertStore>>) -> Self {
        AppState {
            client_identity: identity,
            ..self
        }
    }

    /// The same state, refusing federation requests whose connection presented no verified
    /// client certificate (see [`client_auth`]).
    pub fn requiring_client_cert_for_federation(self, required: bool) -> Self {
        AppState {
            federation_requires_client_cert: required,
            ..self
        }
    }

    /// The same state, looking for due feeds every `every` (`None`: never).
    pub fn with_feeds_every(self, every: Option<std::time::Duration>) -> Self {
        AppState {
            feeds_every: every,
            ..self
        }
    }

    /// The same state, submitting checkpoints to peers every `every`.
    pub fn with_witness_every(self, every: std::time::Duration) -> Self {
        AppState {
            witness_every: every,
            ..self
        }
    }
}

/// All routes of the node.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics::metrics))
        .merge(taxii::routes())
        .merge(tlog::routes())
        .merge(node_api())
        .merge(
            federation::routes().route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                client_auth::require_for_federation,
            )),
        )
        .merge(ui::routes(state.clone()))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

/// One route of the node API: its method, its path (with `{name}` templates, as axum and
/// OpenAPI both write them) and its handler. The node API is served from these and nothing
/// else, so [`api_routes`] is exactly what the router serves under `/api/v1/`.
pub(crate) struct ApiRoute {
    method: Method,
    path: &'static str,
    handler: MethodRouter<AppState>,
}

impl ApiRoute {
    fn new(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> Self {
        debug_assert!(
            path.starts_with("/api/v1/"),
            "{path} is not a node API path"
        );
        ApiRoute {
            method,
            path,
            handler,
        }
    }

    /// `GET path`.
    pub(crate) fn get<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> Self {
        Self::new(Method::GET, path, axum::routing::get(h))
    }

    /// `POST path`.
    pub(crate) fn post<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> Self {
        Self::new(Method::POST, path, axum::routing::post(h))
    }

    /// `PUT path`.
    pub(crate) fn put<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> Self {
        Self::new(Method::PUT, path, axum::routing::put(h))
    }

    /// `DELETE path`.
    pub(crate) fn delete<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> Self {
        Self::new(Method::DELETE, path, axum::routing::delete(h))
    }
}

/// The node API's routes, module by module.
fn api_table() -> Vec<ApiRoute> {
    [
        api::routes(),
        witnessing::routes(),
        sightings::routes(),
        correlate::routes(),
        detections::routes(),
        misp_feed::routes(),
        requests::routes(),
        feeds::routes(),
        governance::routes(),
        openapi::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The node API's router, built from [`api_table`] only.
fn node_api() -> Router<AppState> {
    api_table()
        .into_iter()
        .fold(Router::new(), |r, route| r.route(route.path, route.handler))
}

/// Every route of the node API, as (method, path template): what the router serves under
/// `/api/v1/`, and what its OpenAPI document (`GET /api/v1/openapi.json`) describes.
pub fn api_routes() -> Vec<(Method, &'static str)> {
    api_table()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect()
}

/// Serves until `shutdown` completes, then finishes in-flight requests, with the default
/// [`ConnectionLimits`](connections::ConnectionLimits).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_limits(listener, state, Default::default(), shutdown).await
}

/// Serves until `shutdown` completes within `limits`, then finishes in-flight requests.
pub async fn serve_with_limits(
    listener: TcpListener,
    state: AppState,
    limits: connections::ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_tls(listener, state, limits, None, shutdown).await
}

/// [`serve_with_limits`], over TLS only when `tls` is given (see [`tls::CertStore`]).
pub async fn serve_with_tls(
    listener: TcpListener,
    state: AppState,
    limits: connections::ConnectionLimits,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = AppState {
        ui: ui::UiState {
            secure: tls.is_some(),
            ..state.ui
        },
        ..state
    };
    let signer = tlog::spawn_signer(&state);
    let sender = federation::spawn_sender(&state);
    let witness = witnessing::spawn(&state);
    // Proposals are counted within a second of the time their deadline allows.
    let counter = comity_node::governance::service::spawn_counter(
        state.node.clone(),
        std::time::Duration::from_secs(1),
    );
    let feeds = feeds::spawn_scheduler(&state);
    let served = connections::serve_tls(listener, router(state), limits, tls, shutdown).await;
    for task in [Some(signer), sender, witness, feeds, Some(counter)]
        .into_iter()
        .flatten()
    {
        task.abort();
    }
    served
}
