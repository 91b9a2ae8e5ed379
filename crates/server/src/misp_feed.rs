//! `GET /api/v1/collections/{id}/misp-feed/{file}`: a collection as a MISP feed
//! (`manifest.json`, `{uuid}.json`, `hashes.csv`) for a local user (the API token a MISP
//! instance's feed is set up with), through the export channel of the sharing policy, with
//! the same access rules and conditional answers as the detections ([`crate::pull`]). The
//! workflow is `comity_node::misp_feed::export`; this adapter authorises and parses.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use comity_node::misp_feed::{export, FeedFile};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pull::{conditional, exportable, may_export};
use crate::{ApiRoute, AppState};

pub(crate) fn routes() -> Vec<ApiRoute> {
    vec![ApiRoute::get(
        "/api/v1/collections/{id}/misp-feed/{file}",
        get_file,
    )]
}

async fn get_file(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    may_export(&caller)?;
    let file: FeedFile = name.parse().map_err(ApiError::bad_request)?;
    let (collection, release) = exportable(&state, &caller, Some(&id))
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found(format!("no collection {id:?} that you may read")))?;
    let feed = export(state.node.store(), &collection, &release).await?;
    let content_type = match file {
        FeedFile::Hashes => "text/csv; charset=utf-8",
        _ => "application/json",
    };
    let body = feed.file(file).ok_or_else(|| {
        ApiError::not_found(format!("no event {name:?} in this feed that you may read"))
    })?;
    Ok(conditional(&headers, content_type, body))
}
