//! `/api/v1/requests`: cooperation requests between members, for the liaison officers and
//! admins of this node (anyone else is refused, peer members included: requests travel
//! between nodes as signed events through the federation, never through this API).
//!
//! - `GET /api/v1/requests[?partner=ID&kind=K&state=S&overdue=true&limit=N]`: the list,
//!   most recently updated first, without histories.
//! - `POST /api/v1/requests` `{"kind", "to", "emergency", "document"}`: a new draft.
//! - `GET /api/v1/requests/statistics`: response times per partner, kind and side.
//! - `GET /api/v1/requests/{id}`: one request with its signed history. The first time an
//!   officer of the requested side opens it, the node records and sends the signed
//!   retrieval receipt.
//! - `POST /api/v1/requests/{id}/{act}` with the act's details (no body when none): submit,
//!   acknowledge, refuse, … as [`comity_node::requests::machine`] allows.

use axum::body::{to_bytes, Body};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use comity_node::requests::{self, Act, Details, NewRequest, RequestKind};
use comity_store::Role;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::body_within;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::{ApiRoute, AppState};

/// Largest body a request route reads: a document and some room.
const MAX_BODY: usize = requests::MAX_DOCUMENT_BYTES + 16 * 1024;

pub(crate) fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/api/v1/requests", list),
        ApiRoute::post("/api/v1/requests", create),
        ApiRoute::get("/api/v1/requests/statistics", statistics),
        ApiRoute::get("/api/v1/requests/{id}", show),
        ApiRoute::post("/api/v1/requests/{id}/{act}", make),
    ]
}

/// The liaison officer or admin behind the call.
fn officer(caller: &Caller) -> Result<&str, ApiError> {
    match caller.user()? {
        (name, Role::Liaison | Role::Admin) => Ok(name),
        (name, role) => Err(ApiError::forbidden(format!(
            "user {name:?} is {}; cooperation requests are for liaison officers and admins",
            role.as_str()
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    partner: Option<String>,
    kind: Option<String>,
    state: Option<String>,
    overdue: Option<bool>,
    limit: Option<usize>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    officer(&caller)?;
    let Query(q) =
        query.map_err(|e| ApiError::bad_request(format!("invalid query: {}", e.body_text())))?;
    let query = requests::Query {
        partner: q.partner,
        kind: q
            .kind
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(ApiError::bad_request)?,
        state: q
            .state
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(ApiError::bad_request)?,
        overdue: q.overdue.unwrap_or(false),
        limit: q.limit.unwrap_or(100),
    };
    let found = requests::list(&state.node, &query).await?;
    Ok(Json(json!({ "requests": found })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    kind: RequestKind,
    to: String,
    #[serde(default)]
    emergency: bool,
    document: Value,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    let name = officer(&caller)?;
    let c: Create = body_within(&headers, raw, MAX_BODY).await?;
    let new = NewRequest {
        kind: c.kind,
        to: c.to,
        emergency: c.emergency,
        document: c.document,
    };
    let made = requests::draft(&state.node, name, new).await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

async fn statistics(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    officer(&caller)?;
    let figures = requests::statistics(&state.node).await?;
    Ok(Json(json!({ "statistics": figures })).into_response())
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let name = officer(&caller)?;
    Ok(Json(requests::open(&state.node, name, &id).await?).into_response())
}

async fn make(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, act)): Path<(String, String)>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    let name = officer(&caller)?;
    let act: Act = act.parse().map_err(ApiError::not_found)?;
    // An act with no details may come with no body at all.
    let details: Details = if headers.contains_key(header::CONTENT_TYPE) {
        body_within(&headers, raw, MAX_BODY).await?
    } else {
        let bytes = to_bytes(raw, MAX_BODY).await.map_err(|_| {
            ApiError::too_large(format!(
                "this route reads bodies of at most {MAX_BODY} bytes"
            ))
        })?;
        if !bytes.is_empty() {
            return Err(ApiError::unsupported_media_type(
                "an act's details are sent as Content-Type: application/json",
            ));
        }
        Details::default()
    };
    Ok(Json(requests::act(&state.node, name, &id, act, details).await?).into_response())
}
