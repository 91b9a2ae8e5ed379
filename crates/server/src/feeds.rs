//! `/api/v1/feeds`: feed subscriptions, for admins only (anyone else is refused, without
//! learning which feeds exist), and the scheduler that runs due feeds while the node
//! serves. The workflow is [`comity_node::feeds`]; this module only translates, and reads
//! sources over HTTP for it ([`HttpFetch`]).
//!
//! - `GET /api/v1/feeds`: every feed with its state (never its credential).
//! - `POST /api/v1/feeds` with the subscription: a new feed, due at once.
//! - `DELETE /api/v1/feeds/{name}`: removes a feed (what it stored stays).
//! - `POST /api/v1/feeds/{name}/run`: runs it now; the run's report, or 502 with the
//!   source's error (recorded on the feed, which is retried with backoff).

use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use comity_node::feeds::{self, Credential, FeedError, Fetch, FetchRequest, Fetched, NewFeed};
use serde_json::json;
use tokio::task::JoinHandle;

use crate::api::body_within;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::{ApiRoute, AppState};

/// Largest subscription body read.
const MAX_BODY: usize = 16 * 1024;

/// Largest answer read from a source (a list or a TAXII page).
pub const MAX_SOURCE_BYTES: usize = 256 * 1024 * 1024;

/// How often the scheduler looks for due feeds.
pub const SCHEDULER_EVERY: Duration = Duration::from_secs(15);

pub(crate) fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/api/v1/feeds", list),
        ApiRoute::post("/api/v1/feeds", add),
        ApiRoute::delete("/api/v1/feeds/{name}", remove),
        ApiRoute::post("/api/v1/feeds/{name}/run", run),
    ]
}

impl From<FeedError> for ApiError {
    fn from(e: FeedError) -> Self {
        match e {
            FeedError::Invalid(_) => ApiError::bad_request(e.to_string()),
            FeedError::NotFound(_) => ApiError::not_found(e.to_string()),
            FeedError::Exists(_) | FeedError::Busy(_) => ApiError::conflict(e.to_string()),
            FeedError::Failed { .. } => ApiError::bad_gateway(e.to_string()),
            FeedError::Store(e) => e.into(),
        }
    }
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.admin()?;
    let feeds = feeds::list(&state.node).await?;
    Ok(Json(json!({ "feeds": feeds })).into_response())
}

async fn add(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    caller.admin()?;
    let new: NewFeed = body_within(&headers, raw, MAX_BODY).await?;
    let view = feeds::add(&state.node, new).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    caller.admin()?;
    feeds::remove(&state.node, &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn run(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    caller.admin()?;
    let fetch = HttpFetch::for_state(&state)?;
    let report = feeds::run(&state.node, &fetch, &name, &|_| {}).await?;
    Ok(Json(report).into_response())
}

/// Starts the scheduler, unless [`AppState::feeds_every`] is `None`: at that period it
/// runs the feeds that are due, one after the other; it runs until aborted.
pub fn spawn_scheduler(state: &AppState) -> Option<JoinHandle<()>> {
    let every = state.feeds_every?;
    let fetch = HttpFetch::for_state(state).ok()?;
    let node = state.node.clone();
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = feeds::run_due(&node, &fetch, comity_stix::clock::now_us()).await {
                tracing::warn!(error = %e, "the feed scheduler cannot read the feeds");
            }
        }
    }))
}

/// Reads feed sources over HTTP(S) with reqwest, trusting the system's roots and the
/// node's peer CAs; answers are read up to [`MAX_SOURCE_BYTES`].
#[derive(Debug, Clone)]
pub struct HttpFetch {
    client: reqwest::Client,
}

impl HttpFetch {
    /// A reader whose requests give up after `timeout`, trusting `roots` beside the
    /// system's.
    pub fn new(
        roots: &[rustls::pki_types::CertificateDer<'static>],
        timeout: Duration,
    ) -> Result<HttpFetch, crate::tls::TlsError> {
        Ok(HttpFetch {
            client: crate::tls::client(roots, None, timeout)?,
        })
    }

    fn for_state(state: &AppState) -> Result<HttpFetch, ApiError> {
        HttpFetch::new(&state.peer_roots, Duration::from_secs(300)).map_err(|e| {
            tracing::error!(error = %e, "no HTTP client for feeds");
            ApiError::internal()
        })
    }
}

/// The headers feeds read.
const KEPT_HEADERS: [&str; 4] = [
    "x-taxii-date-added-last",
    "content-range",
    "content-type",
    "etag",
];

#[async_trait]
impl Fetch for HttpFetch {
    async fn get(&self, request: FetchRequest<'_>) -> Result<Fetched, String> {
        let mut builder = self
            .client
            .get(request.url)
            .header(reqwest::header::ACCEPT, request.accept);
        if let Some(range) = request.range {
            builder = builder.header(reqwest::header::RANGE, range);
        }
        builder = match request.credential {
            Some(Credential::Basic { user, password }) => builder.basic_auth(user, Some(password)),
            Some(Credential::Bearer { token }) => builder.bearer_auth(token),
            None => builder,
        };
        let failed = |e: reqwest::Error| {
            format!(
                "{}: {}",
                request.url,
                crate::federation::with_causes(&e.without_url())
            )
        };
        let mut response = builder.send().await.map_err(failed)?;
        let headers = KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                let value = response.headers().get(*name)?.to_str().ok()?;
                Some(((*name).to_owned(), value.to_owned()))
            })
            .collect();
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_SOURCE_BYTES {
                return Err(format!(
                    "{}: the answer is larger than {MAX_SOURCE_BYTES} bytes",
                    request.url
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            headers,
            body,
        })
    }
}
