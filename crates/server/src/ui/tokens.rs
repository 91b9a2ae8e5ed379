//! The API tokens page, for every signed-in user: the tokens `GET /api/v1/tokens` shows
//! them (an admin every token, anyone else their own), a form that issues one through the
//! API's own [`issue_token`] (a label, the days until it expires and, for an admin, a peer
//! member to issue it to), whose answer shows the secret once, and revocation through the
//! API's [`revoke_token_as`] (an admin any token; anyone else's token is "not found").

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use axum::Form;
use comity_node::registry::{Directory, Member};
use comity_node::tokens::MAX_LABEL_CHARS;
use comity_stix::clock::{format_us, now_us};
use comity_store::ApiToken;
use serde::Deserialize;

use super::{Ctx, InLanguage, Problem, UiError, UiResult, Viewer};
use crate::api::{
    issue_token, revoke_token_as, token_visible, TokenField, TokenRequest, DEFAULT_TOKEN_DAYS,
    MAX_TOKEN_DAYS,
};
use crate::auth::{registry_error, Caller};
use crate::AppState;

/// The states a token is shown in (active, expired, revoked), each with its message
/// (`token-state-…`).
pub(super) const STATES: [&str; 3] = ["active", "expired", "revoked"];

/// A token as the list shows it (never its secret, which is not kept).
struct TokenRow {
    id: String,
    label: String,
    user: String,
    /// The peer member it was issued to, by name when the registry knows it.
    member: Option<String>,
    created: String,
    expires: Option<String>,
    /// One of [`STATES`].
    state: &'static str,
    revoked: Option<String>,
}

impl TokenRow {
    fn new(t: &ApiToken, ctx: &Ctx, members: &[Member], now: i64) -> Self {
        let [active, expired, revoked] = STATES;
        let state = match (t.revoked_at, t.expires_at) {
            (Some(_), _) => revoked,
            (None, Some(at)) if at <= now => expired,
            _ => active,
        };
        let when = |us: i64| ctx.when(&format_us(us));
        let member = t.member.as_ref().map(|id| {
            members
                .iter()
                .find(|m| &m.id.0 == id && !m.name().is_empty())
                .map_or_else(|| id.clone(), |m| m.name().to_owned())
        });
        TokenRow {
            id: t.id.clone(),
            label: t.label.clone(),
            user: t.user.clone(),
            member,
            created: when(t.created_at),
            expires: t.expires_at.map(when),
            state,
            revoked: t.revoked_at.map(when),
        }
    }
}

/// What the creation form holds: blank, or as the viewer entered it.
#[derive(Deserialize)]
pub(super) struct Entered {
    #[serde(default)]
    label: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    member: String,
}

impl Entered {
    fn blank() -> Self {
        Entered {
            label: String::new(),
            days: DEFAULT_TOKEN_DAYS.to_string(),
            member: String::new(),
        }
    }
}

/// A peer member an admin may issue a token to.
struct Peer {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    ctx: Ctx,
    tokens: Vec<TokenRow>,
    /// Whether the viewer sees every token (an admin), so the holder is shown.
    all: bool,
    /// The peer members a token may be issued to (admins only; empty for others).
    peers: Vec<Peer>,
    entered: Entered,
    problem: Option<Problem>,
}

impl TokensPage {
    fn invalid(&self, field: &str) -> bool {
        Problem::marks(self.problem.as_ref(), field)
    }

    fn general(&self) -> bool {
        Problem::general(self.problem.as_ref())
    }

    fn max_label(&self) -> usize {
        MAX_LABEL_CHARS
    }

    fn max_days(&self) -> u32 {
        MAX_TOKEN_DAYS
    }
}

#[derive(Template)]
#[template(path = "token.html")]
struct CreatedPage {
    ctx: Ctx,
    token: TokenRow,
    secret: String,
}

/// The tokens page with `entered` in its form and `problem` when something was refused.
async fn page(
    state: &AppState,
    ctx: Ctx,
    caller: &Caller,
    entered: Entered,
    problem: Option<Problem>,
    status: StatusCode,
) -> UiResult {
    let (name, role) = caller.user().speak(&ctx)?;
    let members = Directory::new(state.node.store())
        .members()
        .await
        .map_err(registry_error)
        .speak(&ctx)?;
    let now = now_us();
    let mut tokens: Vec<TokenRow> = state
        .node
        .store()
        .tokens()
        .await
        .speak(&ctx)?
        .iter()
        .filter(|t| token_visible(name, role, t))
        .map(|t| TokenRow::new(t, &ctx, &members, now))
        .collect();
    tokens.sort_by_key(|t| t.state != STATES[0]);
    let all = caller.admin().is_ok();
    let peers = members
        .iter()
        .filter(|m| all && !m.record.local)
        .map(|m| Peer {
            id: m.id.0.clone(),
            name: m.name().to_owned(),
        })
        .collect();
    let page = TokensPage {
        ctx: ctx.clone(),
        tokens,
        all,
        peers,
        entered,
        problem,
    };
    Ok((status, Html(page.render().speak(&ctx)?)).into_response())
}

/// GET `/tokens`: the viewer's tokens (every token for an admin) and the creation form.
pub(super) async fn list(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
) -> UiResult {
    page(&state, ctx, &caller, Entered::blank(), None, StatusCode::OK).await
}

/// POST `/tokens`: issues a token as `POST /api/v1/tokens` does; the answer shows its
/// secret, this once. A refusal shows the form again with the field at fault marked.
pub(super) async fn create(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    form: Result<Form<Entered>, FormRejection>,
) -> UiResult {
    let Form(entered) = form
        .map_err(|_| UiError::new(StatusCode::BAD_REQUEST, "error-invalid"))
        .speak(&ctx)?;
    let Ok(days) = entered.days.trim().parse::<u32>() else {
        let problem = Problem::new("days", ctx.t.a("error-token-days", "count", MAX_TOKEN_DAYS));
        return page(
            &state,
            ctx,
            &caller,
            entered,
            Some(problem),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let member = Some(entered.member.trim()).filter(|m| !m.is_empty());
    let req = TokenRequest {
        label: entered.label.clone(),
        expires_in_days: Some(days),
        member: member.map(str::to_owned),
    };
    match issue_token(&state, &caller, req).await {
        Ok(issued) => {
            let members = Directory::new(state.node.store())
                .members()
                .await
                .map_err(registry_error)
                .speak(&ctx)?;
            let token = TokenRow::new(&issued.token, &ctx, &members, now_us());
            let answer = CreatedPage {
                ctx: ctx.clone(),
                token,
                secret: issued.secret,
            };
            Ok((StatusCode::CREATED, Html(answer.render().speak(&ctx)?)).into_response())
        }
        Err((field, e)) => {
            if !e.status().is_client_error() {
                return Err(UiError::from(e)).speak(&ctx);
            }
            let (field, key) = match field {
                Some(TokenField::Label) => ("label", "error-token-label"),
                Some(TokenField::Expiry) => ("days", "error-token-days"),
                Some(TokenField::Member) => ("member", "error-token-member"),
                None => ("", "error-invalid"),
            };
            let message = ctx.t.a(key, "count", max_of(field));
            let problem = Problem::new(field, message).because(e.description());
            page(&state, ctx, &caller, entered, Some(problem), e.status()).await
        }
    }
}

/// The bound a field's message names.
fn max_of(field: &str) -> usize {
    match field {
        "label" => MAX_LABEL_CHARS,
        _ => usize::try_from(MAX_TOKEN_DAYS).unwrap_or(usize::MAX),
    }
}

/// POST `/tokens/{id}/revoke`: revokes a token as `DELETE /api/v1/tokens/{id}` does, then
/// back to the list; a token the viewer may not revoke is "not found", shown on the list.
pub(super) async fn revoke(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
) -> UiResult {
    let e = match revoke_token_as(&state, &caller, &id).await {
        Ok(_) => return Ok(Redirect::to("/tokens").into_response()),
        Err(e) if e.status().is_client_error() => e,
        Err(e) => return Err(UiError::from(e)).speak(&ctx),
    };
    let problem = Problem::new("", ctx.t.m("error-token-revoke")).because(e.description());
    page(
        &state,
        ctx,
        &caller,
        Entered::blank(),
        Some(problem),
        e.status(),
    )
    .await
}
