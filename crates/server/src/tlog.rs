//! The transparency log over HTTP: the C2SP tlog-tiles read endpoints (`/log/checkpoint`
//! and hash tiles for authenticated callers, entry bundles for admins only), an object's
//! entries with their openings and proofs for those who may read the object
//! (`/log/objects/…`), the C2SP tlog-witness endpoint `POST /log/add-checkpoint` for peers
//! (authenticated by their log signature), and the background task that signs a
//! checkpoint every second when the log has grown. Handlers only translate; what is
//! logged and how it is proven lives in `comity_node::log`.

use std::borrow::Cow;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use axum::Router;
use comity_node::federation::witnessing::checkpoint_with_cosignatures;
use comity_node::log::{tile_bytes, LogError};
use comity_node::release::Released;
use comity_store::{ObjectFilter, PageRequest, VersionFilter};
use comity_tlog::tiles::{Tile, TileKind};
use comity_tlog::witness::{WitnessError, CONFLICT_CONTENT_TYPE};

use crate::auth::{Caller, CollectionAccess};
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
        .route(
            "/log/objects/{root}/{collection}/{object}/",
            get(object_proofs),
        )
        .route("/log/add-checkpoint", post(add_checkpoint))
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
    let log = state.node.log();
    let note = checkpoint_with_cosignatures(state.node.store(), log, false)
        .await
        .map_err(log_failure)?
        .unwrap_or_default();
    Ok(text(note, "text/plain; charset=utf-8"))
}

/// GET `/log/checkpoint/cosigned`: the largest checkpoint peers have cosigned, with every
/// cosignature collected for it; 404 before any.
async fn cosigned(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    let log = state.node.log();
    let note = checkpoint_with_cosignatures(state.node.store(), log, true)
        .await
        .map_err(log_failure)?
        .ok_or_else(|| ApiError::not_found("no peer has cosigned a checkpoint of this log yet"))?;
    Ok(text(note, "text/plain; charset=utf-8"))
}

/// GET `/log/tile/<L>/<N>[.p/<W>]` (hash tiles: what witnesses and auditors need) and
/// `/log/tile/entries/<N>[.p/<W>]` (entry bundles: admins only, as entries name the kind
/// and time of every act).
async fn tile(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let tile = Tile::parse_path(&format!("tile/{path}"))
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    if tile.kind == TileKind::Entries {
        caller.admin().map_err(|_| {
            ApiError::forbidden("entry bundles of the transparency log are for admins only")
        })?;
    }
    let log = state.node.store().transparency_log();
    let size = log.log_size().await?;
    let bytes = tile_bytes(log, tile, size).await.map_err(log_failure)?;
    Ok(text(bytes, "application/octet-stream"))
}

/// Most versions of one object answered by `/log/objects/…`.
const MAX_VERSIONS: usize = 1000;

/// GET `/log/objects/{root}/{collection}/{object}/`: for every version of the object that
/// the caller may read in full in this collection (as TAXII would return it, unredacted),
/// the log entries committing to it, each with its opening and a `tlog-proof@v1` proof:
/// `{"commitments":[{"id","version","index","entry","opening","proof"}]}`. A version the
/// caller may not read, or reads redacted, is left out; none at all is the same 404 as an
/// absent object.
async fn object_proofs(
    State(state): State<AppState>,
    access: CollectionAccess,
    Path((_, _, id)): Path<(String, String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let log = state.node.log();
    let absent = || ApiError::not_found(format!("no object {id:?} to prove in this collection"));
    if !comity_stix::is_identifier(&id) {
        return Err(absent());
    }
    let (source, release) = access.release(&state).await?;
    let filter = ObjectFilter {
        ids: vec![id.clone()],
        versions: VersionFilter::all(),
        ..ObjectFilter::default()
    };
    let request = PageRequest {
        limit: MAX_VERSIONS,
        after: None,
    };
    let page = state
        .node
        .store()
        .objects(&source, &filter, &request)
        .await?;
    let mut commitments = Vec::new();
    for object in page.items {
        if !matches!(
            release.object(&object.json),
            Released::Allowed(Cow::Borrowed(_))
        ) {
            continue;
        }
        let proofs = log
            .object_proofs(state.node.store(), &source, &object)
            .await
            .map_err(log_failure)?;
        commitments.extend(proofs.into_iter().map(|p| {
            serde_json::json!({
                "id": object.id,
                "version": object.version,
                "index": p.index,
                "entry": String::from_utf8_lossy(&p.entry),
                "opening": String::from_utf8_lossy(&p.opening),
                "proof": p.proof.to_string(),
            })
        }));
    }
    if commitments.is_empty() {
        return Err(absent());
    }
    Ok(Json(serde_json::json!({ "commitments": commitments })))
}

/// POST `/log/add-checkpoint`: cosigns a trusted peer's checkpoint that is consistent with
/// the last one this node cosigned; answers with the spec's status codes.
async fn add_checkpoint(State(state): State<AppState>, body: Body) -> Response {
    let refusal = |status: u16, content_type: &'static str, body: String| {
        let mut r = text(body, content_type);
        *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        r
    };
    let log = state.node.log();
    let Ok(bytes) = to_bytes(body, MAX_WITNESS_BODY).await else {
        return refusal(400, "text/plain", "request body too large\n".into());
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match log.add_checkpoint(state.node.store(), &bytes, now).await {
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
pub fn spawn_signer(state: &AppState) -> tokio::task::JoinHandle<()> {
    let node = state.node.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SIGN_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = node.log().checkpoint(node.store()).await {
                tracing::warn!(error = %e, "signing a checkpoint failed");
            }
        }
    })
}
