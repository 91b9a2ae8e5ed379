//! `GET /api/v1/detections?format=suricata|zeek-intel|list[&collection=ID][&type=…]`: the
//! indicators a local user (a sensor's API token) may read, in a sensor format, through the
//! export channel of the sharing policy. Conditional: the ETag is the SHA-256 of the body,
//! so a sensor that polls with `If-None-Match` gets `304` until something changes. The
//! workflow is `comity_node::detections::export`; this adapter authorises and parses.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use comity_node::detections::{export, Format, ValueKind};
use comity_node::policy::{Channel, Role};
use comity_store::Collection;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::{ApiRoute, AppState};

pub(crate) fn routes() -> Vec<ApiRoute> {
    vec![ApiRoute::get("/api/v1/detections", get_detections)]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DetectionsQuery {
    format: Option<String>,
    collection: Option<String>,
    #[serde(rename = "type")]
    kinds: Option<String>,
}

async fn get_detections(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    query: Result<Query<DetectionsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (_, role) = caller.user()?;
    if role == Role::Viewer {
        return Err(ApiError::forbidden(
            "the viewer role may not export; a sensor's token needs the analyst role or above",
        ));
    }
    let Query(q) = query?;
    let format: Format = q
        .format
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("format is required: suricata, zeek-intel or list"))?
        .parse()
        .map_err(ApiError::bad_request)?;
    let kinds = q
        .kinds
        .as_deref()
        .map(|list| {
            list.split(',')
                .map(|k| k.parse::<ValueKind>())
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .map_err(ApiError::bad_request)?
        .unwrap_or_default();
    let store = state.node.store();
    let mut collections: Vec<Collection> = Vec::new();
    for root in store.api_roots().await? {
        collections.extend(store.collections(&root.name).await?);
    }
    if let Some(id) = &q.collection {
        collections.retain(|c| &c.id == id);
    }
    let sources: Vec<_> = caller
        .readable_through(&state, collections, Channel::Export)
        .await?
        .into_iter()
        .map(|(c, release)| (c.key(), release))
        .collect();
    if let (Some(id), true) = (&q.collection, sources.is_empty()) {
        // The same answer whether it does not exist or may not be read.
        return Err(ApiError::not_found(format!(
            "no collection {id:?} that you may read"
        )));
    }
    let exported = export(
        store,
        &sources,
        format,
        &kinds,
        time::OffsetDateTime::now_utc(),
    )
    .await?;
    let etag = format!("\"{:x}\"", Sha256::digest(exported.text.as_bytes()));
    let etag_value = HeaderValue::from_str(&etag).expect("hex in quotes");
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        exported.text,
    )
        .into_response())
}
