//! `GET /api/v1/detections?format=suricata|snort|zeek-intel|list|yara|sigma[&collection=ID][&type=…]`: the
//! indicators a local user (a sensor's API token) may read, in a sensor format, through the
//! export channel of the sharing policy. Conditional: the ETag is the SHA-256 of the body,
//! so a sensor that polls with `If-None-Match` gets `304` until something changes
//! ([`crate::pull`]). The workflow is `comity_node::detections::export`; this adapter
//! authorises and parses.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use comity_node::detections::{export, Format, ValueKind};
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pull::{conditional, exportable, may_export};
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
    may_export(&caller)?;
    let Query(q) = query?;
    let format: Format = q
        .format
        .as_deref()
        .ok_or_else(|| ApiError::bad_request(format!("format is required: {}", Format::names())))?
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
    let sources: Vec<_> = exportable(&state, &caller, q.collection.as_deref())
        .await?
        .into_iter()
        .map(|(c, release)| (c.key(), release))
        .collect();
    let exported = export(
        state.node.store(),
        &sources,
        format,
        &kinds,
        time::OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(conditional(&headers, format.media_type(), exported.text))
}
