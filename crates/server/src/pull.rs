//! What the exits that tools pull share (sensors reading detections, MISP fetching a
//! feed): who may export, which collections through the export channel of the sharing
//! policy, and conditional answers whose ETag is the SHA-256 of the body, so a tool that
//! polls with `If-None-Match` gets `304` until something changes.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use comity_node::policy::{Channel, Role};
use comity_node::release::Release;
use comity_store::Collection;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;

/// Whether the caller may export at all: a local user (401 otherwise) with the analyst
/// role or above (403 for viewers).
pub(crate) fn may_export(caller: &Caller) -> Result<(), ApiError> {
    let (_, role) = caller.user()?;
    if role == Role::Viewer {
        return Err(ApiError::forbidden(
            "the viewer role may not export; a sensor's token needs the analyst role or above",
        ));
    }
    Ok(())
}

/// The collections the caller may export from (the one named by `only`, when given),
/// each with the release that decides what of it the caller gets; a named collection that
/// does not exist or may not be read is 404, the same answer. Call [`may_export`] first.
pub(crate) async fn exportable(
    state: &AppState,
    caller: &Caller,
    only: Option<&str>,
) -> Result<Vec<(Collection, Release)>, ApiError> {
    let store = state.node.store();
    let mut collections: Vec<Collection> = Vec::new();
    for root in store.api_roots().await? {
        collections.extend(store.collections(&root.name).await?);
    }
    if let Some(id) = only {
        collections.retain(|c| c.id == id);
    }
    let sources = caller
        .readable_through(state, collections, Channel::Export)
        .await?;
    if let (Some(id), true) = (only, sources.is_empty()) {
        return Err(ApiError::not_found(format!(
            "no collection {id:?} that you may read"
        )));
    }
    Ok(sources)
}

/// `body` as `content_type`, or `304` when `If-None-Match` names its ETag.
pub(crate) fn conditional(
    headers: &HeaderMap,
    content_type: &'static str,
    body: String,
) -> Response {
    let etag = format!("\"{:x}\"", Sha256::digest(body.as_bytes()));
    let etag_value = HeaderValue::from_str(&etag).expect("hex in quotes");
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}
