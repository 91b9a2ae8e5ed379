//! `GET /api/v1/correlate?value=…|id=…[&limit=N]`: who else has seen a value, or the values
//! of an object, for a local user — within the collections the user may read and only the
//! object versions the sharing policy releases there, as a TAXII read would.
//! `GET /api/v1/correlate/cluster?id=…[&depth=N&max_nodes=N&format=json|graphml|stix]`:
//! the cluster around an object, under the same rights. The workflows are
//! `comity_node::correlation::{who_else, cluster}`; this adapter only authorises and parses.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use comity_node::correlation::cluster::{cluster, export, Bounds, ClusterError};
use comity_node::correlation::who_else::{correlate, Reader, Subject, DEFAULT_LIMIT, MAX_LIMIT};
use comity_store::Collection;
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::{ApiRoute, AppState};

pub(crate) fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/api/v1/correlate", get_correlation),
        ApiRoute::get("/api/v1/correlate/cluster", get_cluster),
    ]
}

/// Longest value accepted, in bytes.
const MAX_VALUE_BYTES: usize = 4096;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorrelateQuery {
    value: Option<String>,
    id: Option<String>,
    limit: Option<usize>,
}

/// The one subject the query names.
fn subject(q: CorrelateQuery) -> Result<(Subject, usize), ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let subject = match (q.value, q.id) {
        (Some(value), None) if value.len() <= MAX_VALUE_BYTES => Subject::Value(value),
        (Some(_), None) => {
            return Err(ApiError::bad_request(format!(
                "value is longer than {MAX_VALUE_BYTES} bytes"
            )))
        }
        (None, Some(id)) if comity_stix::is_identifier(&id) => Subject::Object(id),
        (None, Some(id)) => {
            return Err(ApiError::bad_request(format!(
                "{id:?} is not a STIX identifier"
            )))
        }
        _ => {
            return Err(ApiError::bad_request(
                "name exactly one of value=<observable value> and id=<STIX id>",
            ))
        }
    };
    Ok((subject, limit))
}

async fn get_correlation(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<CorrelateQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.user()?;
    let Query(q) = query?;
    let (subject, limit) = subject(q)?;
    let reader = reader(&state, &caller).await?;
    let answer = correlate(
        state.node.store(),
        &reader,
        state.node.warning_lists(),
        &subject,
        limit,
    )
    .await?;
    Ok(Json(answer).into_response())
}

/// What the caller may read: every collection of the node, through the caller's release.
pub(crate) async fn reader(state: &AppState, caller: &Caller) -> Result<Reader, ApiError> {
    let store = state.node.store();
    let mut collections: Vec<Collection> = Vec::new();
    for root in store.api_roots().await? {
        collections.extend(store.collections(&root.name).await?);
    }
    let readable = caller.readable(state, collections).await?;
    Ok(Reader::new(readable.into_iter().map(|(c, r)| (c.key(), r))))
}

/// How a cluster is written.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ClusterFormat {
    #[default]
    Json,
    Graphml,
    Stix,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterQuery {
    id: String,
    depth: Option<usize>,
    max_nodes: Option<usize>,
    #[serde(default)]
    format: ClusterFormat,
}

async fn get_cluster(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ClusterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.user()?;
    let Query(q) = query?;
    if !comity_stix::is_identifier(&q.id) {
        return Err(ApiError::bad_request(format!(
            "{:?} is not a STIX identifier",
            q.id
        )));
    }
    let defaults = Bounds::default();
    let bounds = Bounds {
        depth: q.depth.unwrap_or(defaults.depth),
        max_nodes: q.max_nodes.unwrap_or(defaults.max_nodes),
    };
    let reader = reader(&state, &caller).await?;
    let found = cluster(
        state.node.store(),
        &reader,
        state.node.warning_lists(),
        &q.id,
        bounds,
    )
    .await
    .map_err(|e| match e {
        ClusterError::NotFound(_) => ApiError::not_found(e.to_string()),
        ClusterError::Bounds => ApiError::bad_request(e.to_string()),
        ClusterError::Store(e) => e.into(),
    })?;
    Ok(match q.format {
        ClusterFormat::Json => Json(found).into_response(),
        ClusterFormat::Graphml => (
            [(
                header::CONTENT_TYPE,
                "application/graphml+xml; charset=utf-8",
            )],
            export::graphml(&found),
        )
            .into_response(),
        ClusterFormat::Stix => Json(
            export::grouping_now(&state.node, &found)
                .await
                .map_err(crate::auth::registry_error)?,
        )
        .into_response(),
    })
}
