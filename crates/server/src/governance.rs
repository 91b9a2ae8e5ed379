//! `/api/v1/governance`: the proposals this node's member tables, votes on and cancels, and
//! the norms registry. Admins act for the member (table, vote, cancel); analysts, liaison
//! officers and admins read; anyone else is refused, peer members included: proposals,
//! ballots and cancellations travel between nodes as signed envelopes through the
//! federation, never through this API. The one governance route peers call is a
//! federation routes: `GET /federation/v1/governance/proposals/{id}`, the signed dossier a
//! member auditing the proposal asks for ([`dossier`]), and
//! `GET /federation/v1/governance/history[/{after}]`, the signed pages of the decided
//! history a member catching up asks for ([`history_first`]).
//!
//! - `GET /api/v1/governance/proposals[?limit=N]`: the proposals, newest first, each with
//!   where it stands.
//! - `POST /api/v1/governance/proposals` `{"action": {"kind", …}, "sponsors": [ID…]}`:
//!   tables a proposal.
//! - `GET /api/v1/governance/proposals/{id}`: one proposal with its outcome (provisional
//!   until counted at the deadline).
//! - `POST /api/v1/governance/proposals/{id}/vote` `{"choice": "yes"|"no"|"abstain"}`: this
//!   node's member's ballot (a later one replaces it until the deadline).
//! - `POST /api/v1/governance/proposals/{id}/cancel`: cancels a proposal this node's member
//!   tabled, while it is pending.
//! - `GET /api/v1/governance/norms`: every version of every adopted norm.
//! - `POST /api/v1/governance/catch-up` `{"from": [MEMBER…]}`: catches up with the history
//!   decided since the genesis (read from the first peer, compared with the others); the
//!   report says what was applied and, when it stopped, why.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use comity_node::governance::{audit, catch_up, history, service, Choice, NewProposal};
use comity_stix::clock::now_us;
use comity_store::Role;
use serde::Deserialize;
use serde_json::json;
use sha2::Digest as _;

use crate::api::body_within;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::{ApiRoute, AppState};

/// Largest body a governance route reads: a proposal with texts in several languages.
pub(crate) const MAX_BODY: usize = 128 * 1024;

pub(crate) fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/api/v1/governance/proposals", list),
        ApiRoute::post("/api/v1/governance/proposals", propose),
        ApiRoute::get("/api/v1/governance/proposals/{id}", show),
        ApiRoute::post("/api/v1/governance/proposals/{id}/vote", vote),
        ApiRoute::post("/api/v1/governance/proposals/{id}/cancel", cancel),
        ApiRoute::get("/api/v1/governance/norms", norms),
        ApiRoute::post("/api/v1/governance/catch-up", catch_up),
    ]
}

/// A caller who may read governance: an analyst, a liaison officer or an admin.
pub(crate) fn reader(caller: &Caller) -> Result<&str, ApiError> {
    caller.user_in(
        &[Role::Analyst, Role::Liaison, Role::Admin],
        "governance is read by analysts, liaison officers and admins",
    )
}

/// A caller who acts for the member: an admin.
pub(crate) fn admin(caller: &Caller) -> Result<&str, ApiError> {
    caller.user_in(
        &[Role::Admin],
        "only admins table proposals and vote for the member",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<usize>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    reader(&caller)?;
    let Query(q) = query?;
    let store = state.node.store();
    let now = now_us();
    service::count_due(store, now).await?;
    let found = service::list(store, now, q.limit.unwrap_or(100)).await?;
    Ok(Json(json!({ "proposals": found })).into_response())
}

async fn propose(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    admin(&caller)?;
    // The same reading as the web UI's form ends in (`NewProposal`'s JSON form).
    let new: NewProposal = body_within(&headers, raw, MAX_BODY).await?;
    let made = service::propose(&state.node, new, now_us()).await?;
    state.node.outbox_ready();
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    reader(&caller)?;
    let store = state.node.store();
    let now = now_us();
    service::count_due(store, now).await?;
    Ok(Json(service::show(store, &id, now).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vote {
    choice: Choice,
}

async fn vote(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    admin(&caller)?;
    let v: Vote = body_within(&headers, raw, MAX_BODY).await?;
    let shown = service::vote(&state.node, &id, v.choice, now_us()).await?;
    state.node.outbox_ready();
    Ok(Json(shown).into_response())
}

async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin(&caller)?;
    let shown = service::cancel(&state.node, &id, now_us()).await?;
    state.node.outbox_ready();
    Ok(Json(shown).into_response())
}

/// Authenticates a federation `GET` of governance evidence: signed like an inbox request
/// (RFC 9421, by a registered, active member's pinned key, over the method, the path and
/// the digest of an empty body), over a connection whose client certificate is that
/// member's when the node requires mutual TLS. Returns the member, once proposals due are
/// counted.
async fn member_asking(
    state: &AppState,
    client: Option<&crate::client_auth::ClientCertificate>,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
) -> Result<String, crate::inbox_gate::Refused> {
    let signature = state
        .inbox
        .authenticate(state.node.store(), headers, "GET", uri.path())
        .await?;
    signature
        .check_digest(&sha2::Sha256::digest(b""))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    crate::client_auth::bound_to_member(state, client, &signature.sender).await?;
    service::count_due(state.node.store(), now_us())
        .await
        .map_err(ApiError::from)?;
    Ok(signature.sender)
}

fn json_text(text: String) -> Response {
    let mut response = text.into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// GET `/federation/v1/governance/proposals/{id}`: this node's signed dossier of proposal
/// `id` (the signed proposal, every ballot received, its cancellation and its outcome) for
/// a member auditing it ([`member_asking`]).
pub(crate) async fn dossier(
    State(state): State<AppState>,
    client: Option<axum::Extension<crate::client_auth::ClientCertificate>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, crate::inbox_gate::Refused> {
    let member = member_asking(&state, client.as_deref(), &uri, &headers).await?;
    let signed = audit::dossier(
        state.node.store(),
        state.node.log().node_key(),
        &id,
        now_us(),
    )
    .await
    .map_err(ApiError::from)?;
    tracing::info!(proposal = %id, member = %member, "dossier handed over for an audit");
    Ok(json_text(signed.json))
}

/// GET `/federation/v1/governance/history`: the first page of this node's decided history
/// (every proposal it counted, by deadline then id, each with its signed proposal, ballots
/// and outcome), signed, for a member catching up ([`member_asking`]).
pub(crate) async fn history_first(
    State(state): State<AppState>,
    client: Option<axum::Extension<crate::client_auth::ClientCertificate>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Response, crate::inbox_gate::Refused> {
    history_page(&state, client.as_deref(), &uri, &headers, None).await
}

/// GET `/federation/v1/governance/history/{after}`: the page after proposal `after`.
pub(crate) async fn history_after(
    State(state): State<AppState>,
    client: Option<axum::Extension<crate::client_auth::ClientCertificate>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    Path(after): Path<String>,
) -> Result<Response, crate::inbox_gate::Refused> {
    history_page(&state, client.as_deref(), &uri, &headers, Some(&after)).await
}

async fn history_page(
    state: &AppState,
    client: Option<&crate::client_auth::ClientCertificate>,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    after: Option<&str>,
) -> Result<Response, crate::inbox_gate::Refused> {
    let member = member_asking(state, client, uri, headers).await?;
    let page = history::page(
        state.node.store(),
        state.node.log().node_key(),
        after,
        now_us(),
    )
    .await
    .map_err(ApiError::from)?;
    tracing::info!(member = %member, after = ?after, items = page.page.items.len(), "governance history handed over");
    Ok(json_text(page.json))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatchUpRequest {
    from: Vec<String>,
}

/// The most peers one catch-up compares.
const MAX_CATCH_UP_PEERS: usize = 4;

/// POST `/api/v1/governance/catch-up` `{"from": [MEMBER…]}`: catches up with the history
/// decided since the genesis, read from the first peer and compared with the others.
async fn catch_up(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    admin(&caller)?;
    let request: CatchUpRequest = body_within(&headers, raw, MAX_BODY).await?;
    if request.from.is_empty() || request.from.len() > MAX_CATCH_UP_PEERS {
        return Err(ApiError::bad_request(format!(
            "from names 1 to {MAX_CATCH_UP_PEERS} peers"
        )));
    }
    let transport =
        crate::federation::HttpTransport::for_state(&state, std::time::Duration::from_secs(60))
            .ok_or_else(ApiError::internal)?;
    let mut sources = Vec::new();
    for peer in &request.from {
        sources.push(catch_up::PeerPages::new(&state.node, &transport, peer).await?);
    }
    let sources: Vec<&dyn catch_up::Pages> =
        sources.iter().map(|s| s as &dyn catch_up::Pages).collect();
    let report = catch_up::catch_up(&state.node, &sources, now_us(), &mut |_| {}).await?;
    Ok(Json(report).into_response())
}

async fn norms(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    reader(&caller)?;
    let store = state.node.store();
    service::count_due(store, now_us()).await?;
    Ok(Json(json!({ "norms": service::norms(store).await? })).into_response())
}
