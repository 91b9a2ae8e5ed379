//! The node API at `/api/v1/`: API tokens (every local user, for itself; admins for anyone
//! and for peer members), the members registry and agreements (read by local users, changed
//! by admins). Bodies are JSON; errors have the TAXII error shape. The same domain services
//! back the `comity token|member|agreement` commands.

use std::collections::BTreeSet;

use axum::body::{to_bytes, Body};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use comity_node::federation::agreement as agreements;
use comity_node::member_file::MemberFile;
use comity_node::policy::{AgreementStatus, MemberStatus};
use comity_node::registry::{
    AgreementDraft, Member, MemberRole, NewMember, ScopeDocument, SignedAgreement,
};
use comity_node::tokens::{self, TokenError};
use comity_stix::clock::now_us;
use comity_store::{ApiToken, Role};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{registry_error, Caller};
use crate::error::ApiError;
use crate::{ApiRoute, AppState};
use comity_stix::clock::format_us;

/// Longest token life, in days.
pub(crate) const MAX_TOKEN_DAYS: u32 = 366;
/// A token's life when none is asked for, in days.
pub(crate) const DEFAULT_TOKEN_DAYS: u32 = 90;
const DAY_US: i64 = 86_400 * 1_000_000;

pub(crate) fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/api/v1/tokens", list_tokens),
        ApiRoute::post("/api/v1/tokens", create_token),
        ApiRoute::delete("/api/v1/tokens/{id}", revoke_token),
        ApiRoute::get("/api/v1/members", list_members),
        ApiRoute::post("/api/v1/members", add_member),
        ApiRoute::post("/api/v1/members/{id}/record", update_member),
        ApiRoute::post("/api/v1/members/{id}/suspend", suspend_member),
        ApiRoute::post("/api/v1/members/{id}/reinstate", reinstate_member),
        ApiRoute::get("/api/v1/agreements", list_agreements),
        ApiRoute::post("/api/v1/agreements", create_agreement),
        ApiRoute::post("/api/v1/agreements/{id}/sign", sign_agreement),
        ApiRoute::post("/api/v1/agreements/{id}/{action}", agreement_status),
    ]
}

/// Largest body the node API reads.
const MAX_BODY: usize = 64 * 1024;

/// Reads a JSON body strictly: the right media type, at most [`MAX_BODY`] bytes, the right
/// shape, no unknown fields.
async fn body<T: DeserializeOwned>(headers: &HeaderMap, body: Body) -> Result<T, ApiError> {
    body_within(headers, body, MAX_BODY).await
}

/// Reads a JSON body as [`body`] does, of at most `max` bytes.
pub(crate) async fn body_within<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    max: usize,
) -> Result<T, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or("").trim() == "application/json");
    if !json {
        return Err(ApiError::unsupported_media_type(
            "the node API takes Content-Type: application/json",
        ));
    }
    let bytes = to_bytes(body, max).await.map_err(|_| {
        ApiError::too_large(format!("this route reads bodies of at most {max} bytes"))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("invalid body: {e}")))
}

fn token_json(t: &ApiToken) -> Value {
    json!({
        "id": t.id,
        "label": t.label,
        "user": t.user,
        "member": t.member,
        "created": format_us(t.created_at),
        "expires": t.expires_at.map(format_us),
        "revoked": t.revoked_at.map(format_us),
    })
}

fn token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::Store(e) => e.into(),
        TokenError::Invalid(why) => ApiError::bad_request(why),
        other => {
            tracing::error!(error = %other, "token failure");
            ApiError::internal()
        }
    }
}

/// Whether the user `name` of `role` sees `token` (`GET /api/v1/tokens`): an admin every
/// token, anyone else its own user tokens.
pub(crate) fn token_visible(name: &str, role: Role, token: &ApiToken) -> bool {
    role == Role::Admin || token.user == name && token.member.is_none()
}

async fn list_tokens(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let (name, role) = caller.user()?;
    let all = state.node.store().tokens().await?;
    let mine: Vec<Value> = all
        .iter()
        .filter(|t| token_visible(name, role, t))
        .map(token_json)
        .collect();
    Ok(Json(json!({ "tokens": mine })).into_response())
}

/// A token asked for (`POST /api/v1/tokens`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequest {
    /// What it is for.
    pub label: String,
    /// Days until it expires ([`DEFAULT_TOKEN_DAYS`] when not given).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
    /// The peer member it is for (admins only).
    #[serde(default)]
    pub member: Option<String>,
}

/// The part of a [`TokenRequest`] a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenField {
    /// The label.
    Label,
    /// The days until it expires.
    Expiry,
    /// The peer member.
    Member,
}

/// Issues a token to the caller as `POST /api/v1/tokens` does (a member's token for admins
/// only, 1 to [`MAX_TOKEN_DAYS`] days), and logs it; a refusal names its field when it has one.
pub(crate) async fn issue_token(
    state: &AppState,
    caller: &Caller,
    req: TokenRequest,
) -> Result<tokens::Issued, (Option<TokenField>, ApiError)> {
    let (name, _) = caller.user().map_err(|e| (None, e))?;
    let days = req.expires_in_days.unwrap_or(DEFAULT_TOKEN_DAYS);
    if days == 0 || days > MAX_TOKEN_DAYS {
        return Err((
            Some(TokenField::Expiry),
            ApiError::bad_request(format!("expires_in_days must be 1 to {MAX_TOKEN_DAYS}")),
        ));
    }
    if let Some(member) = &req.member {
        caller.admin().map_err(|e| (Some(TokenField::Member), e))?;
        let refused = |e| (Some(TokenField::Member), e);
        let registry = state.node.directory();
        let known = registry
            .member(member)
            .await
            .map_err(|e| refused(registry_error(e)))?;
        if known.is_none_or(|m| m.record.local) {
            return Err(refused(ApiError::bad_request(format!(
                "{member:?} is not a registered peer member"
            ))));
        }
    }
    let issued = tokens::issue(
        &state.node,
        name,
        &req.label,
        req.member,
        Some(now_us() + i64::from(days) * DAY_US),
    )
    .await
    .map_err(|e| {
        let field = matches!(e, TokenError::Invalid(_)).then_some(TokenField::Label);
        (field, token_error(e))
    })?;
    tracing::info!(user = %name.escape_debug(), token = %issued.token.id, "API token created");
    Ok(issued)
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    caller.user()?;
    let req: TokenRequest = body(&headers, raw).await?;
    let issued = issue_token(&state, &caller, req)
        .await
        .map_err(|(_, e)| e)?;
    let mut out = token_json(&issued.token);
    out["token"] = Value::String(issued.secret);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// Revokes token `id` (or the whole token) for the caller as `DELETE /api/v1/tokens/{id}`
/// does: an admin any token, anyone else its own (another's is "not found"), and logs it.
/// Returns the id and whether it was revoked now (not already).
pub(crate) async fn revoke_token_as(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(String, bool), ApiError> {
    let (name, role) = caller.user()?;
    let id = tokens::id_of(id).to_owned();
    let hidden = || {
        ApiError::not_found(format!(
            "no token {:?}",
            id.chars().take(40).collect::<String>()
        ))
    };
    let token = state.node.store().token(&id).await?.ok_or_else(hidden)?;
    if role != Role::Admin && token.user != name {
        return Err(hidden());
    }
    let revoked = tokens::revoke(&state.node, &id)
        .await
        .map_err(token_error)?;
    tracing::info!(user = %name.escape_debug(), token = %id, "API token revoked");
    Ok((id, revoked))
}

async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (id, revoked) = revoke_token_as(&state, &caller, &id).await?;
    Ok(Json(json!({ "id": id, "revoked": true, "already_revoked": !revoked })).into_response())
}

fn member_json(m: &Member) -> Value {
    json!({
        "id": m.id.0,
        "name": m.name(),
        "status": m.status.as_str(),
        "local": m.record.local,
        "country": m.record.country,
        "roles": m.record.roles,
        "endpoint": m.record.endpoint,
        "public_key": m.record.public_key,
        "encryption_key": m.record.encryption_key,
        "identity": m.record.identity,
        "updated": format_us(m.updated_at),
    })
}

async fn list_members(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.user()?;
    let members = state
        .node
        .directory()
        .members()
        .await
        .map_err(registry_error)?;
    let list: Vec<Value> = members.iter().map(member_json).collect();
    Ok(Json(json!({ "members": list })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberRequest {
    name: String,
    country: String,
    roles: BTreeSet<MemberRole>,
    public_key: String,
    /// Its node's encryption key (`x25519:…`), for sealed envelope bodies.
    #[serde(default)]
    encryption_key: Option<String>,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    contact: Option<String>,
    #[serde(default)]
    identity_id: Option<String>,
    /// Allow a plain `http://` endpoint off loopback (refused otherwise; logged).
    #[serde(default)]
    allow_plain_http: bool,
}

async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    let admin = caller.admin()?;
    let req: MemberRequest = body(&headers, raw).await?;
    let mut record = NewMember {
        name: req.name,
        country: req.country,
        roles: req.roles,
        public_key: req.public_key,
        encryption_key: req.encryption_key,
        endpoint: req.endpoint,
        contact: req.contact,
        identity_id: req.identity_id,
    }
    .into_record(false)
    .map_err(registry_error)?;
    record.allow_plain_http = req.allow_plain_http;
    let member = state
        .node
        .registry()
        .add_member(record)
        .await
        .map_err(registry_error)?;
    tracing::info!(user = %admin.escape_debug(), member = %member.id, "member added");
    Ok((StatusCode::CREATED, Json(member_json(&member))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberUpdateRequest {
    /// The member record file the member's node wrote (`comity member show-local --out`).
    file: Value,
    /// Allow a plain `http://` endpoint off loopback (refused otherwise, unless allowed
    /// before for the same endpoint; logged).
    #[serde(default)]
    allow_plain_http: bool,
}

async fn update_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    let admin = caller.admin()?;
    let req: MemberUpdateRequest = body(&headers, raw).await?;
    let mut record = MemberFile::read(&req.file.to_string())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if record.id() != Some(id.as_str()) {
        return Err(ApiError::bad_request(format!(
            "the file holds the record of member {}, not of {id}",
            record.id().unwrap_or_default()
        )));
    }
    record.allow_plain_http = req.allow_plain_http;
    let member = state
        .node
        .registry()
        .update_member(record)
        .await
        .map_err(registry_error)?;
    tracing::info!(user = %admin.escape_debug(), member = %member.id, "member record updated");
    Ok(Json(member_json(&member)).into_response())
}

async fn set_member(
    state: &AppState,
    caller: &Caller,
    id: &str,
    status: MemberStatus,
) -> Result<Response, ApiError> {
    let admin = caller.admin()?;
    let member = state
        .node
        .registry()
        .set_member_status(id, status)
        .await
        .map_err(registry_error)?;
    tracing::info!(user = %admin.escape_debug(), member = %member.id, ?status, "member standing changed");
    Ok(Json(member_json(&member)).into_response())
}

async fn suspend_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_member(&state, &caller, &id, MemberStatus::Suspended).await
}

async fn reinstate_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_member(&state, &caller, &id, MemberStatus::Active).await
}

/// An agreement as the API shows it: its status here, how it stands (`signature revoked`
/// while a signature on it was made with a key since revoked: it then covers nothing),
/// which parties' signatures this node holds, which are missing and which were made with
/// a revoked key, and the signed document.
fn agreement_json(a: &SignedAgreement) -> Value {
    let signed: Vec<&str> = a
        .document
        .signatures
        .iter()
        .map(|s| s.member.as_str())
        .collect();
    json!({
        "status": a.terms.status.as_str(),
        "state": a.state(),
        "signature_revoked": a.revoked,
        "signed": signed,
        "missing": a.document.missing(),
        "agreement": a.document,
    })
}

async fn list_agreements(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.user()?;
    let agreements = state
        .node
        .directory()
        .agreements()
        .await
        .map_err(registry_error)?;
    let list: Vec<Value> = agreements.iter().map(agreement_json).collect();
    Ok(Json(json!({ "agreements": list })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgreementRequest {
    title: String,
    partners: BTreeSet<String>,
    scope: ScopeDocument,
    #[serde(default)]
    valid_from: Option<String>,
    #[serde(default)]
    valid_until: Option<String>,
}

async fn create_agreement(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    let admin = caller.admin()?;
    let req: AgreementRequest = body(&headers, raw).await?;
    let draft = AgreementDraft {
        title: req.title,
        partners: req.partners,
        scope: req.scope,
        valid_from: req.valid_from,
        valid_until: req.valid_until,
    };
    let agreement = agreements::propose(
        &state.node.registry(),
        draft,
        state.node.log().node_key(),
        true,
    )
    .await
    .map_err(registry_error)?;
    state.node.outbox_ready();
    tracing::info!(user = %admin.escape_debug(), agreement = %agreement.document.id, "agreement proposed");
    Ok((StatusCode::CREATED, Json(agreement_json(&agreement))).into_response())
}

/// POST `/api/v1/agreements/{id}/sign` (admins): this node signs a proposed agreement it is
/// party to; the signature goes to the other parties.
async fn sign_agreement(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let admin = caller.admin()?;
    let agreement = agreements::sign(
        &state.node.registry(),
        &id,
        state.node.log().node_key(),
        true,
    )
    .await
    .map_err(registry_error)?;
    state.node.outbox_ready();
    tracing::info!(user = %admin.escape_debug(), agreement = %id.escape_debug(), status = agreement.terms.status.as_str(), "agreement signed");
    Ok(Json(agreement_json(&agreement)).into_response())
}

async fn agreement_status(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let admin = caller.admin()?;
    let status = match action.as_str() {
        "suspend" => AgreementStatus::Suspended,
        "reinstate" => AgreementStatus::Active,
        "terminate" => AgreementStatus::Terminated,
        _ => {
            return Err(ApiError::not_found(
                "agreements take suspend, reinstate or terminate",
            ))
        }
    };
    let agreement = agreements::set_status(&state.node.registry(), &id, status, true)
        .await
        .map_err(registry_error)?;
    tracing::info!(user = %admin.escape_debug(), agreement = %id.escape_debug(), ?status, "agreement status changed");
    Ok(Json(agreement_json(&agreement)).into_response())
}
