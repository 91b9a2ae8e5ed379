//! The transparency log over HTTP: the C2SP tlog-tiles read endpoints (`/log/checkpoint`,
//! `/log/tile/…`) for authenticated callers, the C2SP tlog-witness endpoint
//! `POST /log/add-checkpoint` for peers (authenticated by their log signature), and the
//! background task that signs a checkpoint every second when the log has grown. Handlers
//! only translate; what is logged and how it is proven lives in `comity_node::log`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use comity_node::federation::witnessing::checkpoint_with_cosignatures;
use comity_node::log::{log_of, tile_bytes, LogError, NodeLog};
use comity_tlog::tiles::Tile;
use comity_tlog::witness::{WitnessError, CONFLICT_CONTENT_TYPE};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;

/// Largest `add-checkpoint` body read.
const MAX_WITNESS_BODY: usize = 1 << 20;

/// How often the signer looks for growth.
const SIGN_EVERY: Duration = Duration::from_secs(1);

/// The log's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/checkpoint/cosigned", get(cosigned))
        .route("/log/tile/{*path}", get(tile))
        .route("/log/add-checkpoint", post(add_checkpoint))
}

fn node_log(state: &AppState) -> Result<Arc<NodeLog>, ApiError> {
    state
        .log
        .clone()
        .ok_or_else(|| ApiError::not_found("this node keeps no transparency log"))
}

fn log_failure(e: LogError) -> ApiError {
    match e {
        LogError::Store(s) => s.into(),
        LogError::Tile(t) => ApiError::not_found(t.to_string()),
        other => {
            tracing::error!(error = %other, "transparency log failed");
            ApiError::internal()
        }
    }
}

fn text(body: impl Into<Body>, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body.into(),
    )
        .into_response()
}

/// GET `/log/checkpoint`: the latest signed checkpoint, with the cosignature lines peers
/// gave it appended (none yet, typically, for a checkpoint just signed).
async fn checkpoint(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    let log = node_log(&state)?;
    let note = checkpoint_with_cosignatures(state.store.as_ref(), &log, false)
        .await
        .map_err(log_failure)?
        .unwrap_or_default();
    Ok(text(note, "text/plain; charset=utf-8"))
}

/// GET `/log/checkpoint/cosigned`: the largest checkpoint peers have cosigned, with every
/// cosignature collected for it; 404 before any.
async fn cosigned(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    let log = node_log(&state)?;
    let note = checkpoint_with_cosignatures(state.store.as_ref(), &log, true)
        .await
        .map_err(log_failure)?
        .ok_or_else(|| ApiError::not_found("no peer has cosigned a checkpoint of this log yet"))?;
    Ok(text(note, "text/plain; charset=utf-8"))
}

/// GET `/log/tile/<L>/<N>[.p/<W>]` and `/log/tile/entries/<N>[.p/<W>]`.
async fn tile(
    State(state): State<AppState>,
    _caller: Caller,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    node_log(&state)?;
    let tile = Tile::parse_path(&format!("tile/{path}"))
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    let log = log_of(state.store.as_ref())?;
    let size = log.log_size().await?;
    let bytes = tile_bytes(log, tile, size).await.map_err(log_failure)?;
    Ok(text(bytes, "application/octet-stream"))
}

/// POST `/log/add-checkpoint`: cosigns a trusted peer's checkpoint that is consistent with
/// the last one this node cosigned; answers with the spec's status codes.
async fn add_checkpoint(State(state): State<AppState>, body: Body) -> Response {
    let refusal = |status: u16, content_type: &'static str, body: String| {
        let mut r = text(body, content_type);
        *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        r
    };
    let Some(log) = state.log.clone() else {
        return refusal(404, "text/plain", "this node is not a witness\n".into());
    };
    let Ok(bytes) = to_bytes(body, MAX_WITNESS_BODY).await else {
        return refusal(400, "text/plain", "request body too large\n".into());
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match log.add_checkpoint(state.store.as_ref(), &bytes, now).await {
        Ok(lines) => text(lines, "text/plain; charset=utf-8"),
        Err(e) => {
            if let WitnessError::Inconsistent {
                latest: Some(latest),
                ..
            } = &e
            {
                tracing::warn!(
                    cosigned = %latest.note,
                    offered = %String::from_utf8_lossy(&bytes),
                    "a peer log offered a checkpoint inconsistent with the one cosigned: fork evidence"
                );
            }
            let content_type = match e {
                WitnessError::Conflict { .. } => CONFLICT_CONTENT_TYPE,
                _ => "text/plain; charset=utf-8",
            };
            refusal(e.status(), content_type, e.response_body())
        }
    }
}

/// Signs a checkpoint every second when the log has grown, until the task is dropped.
pub fn spawn_signer(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let log = state.log.clone()?;
    let store = state.store.clone();
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(SIGN_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = log.checkpoint(store.as_ref()).await {
                tracing::warn!(error = %e, "signing a checkpoint failed");
            }
        }
    }))
}
