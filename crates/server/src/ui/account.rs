//! Signing in and out, the viewer's preferences (language, time zone) and their sessions.
//!
//! The sign-in form carries a token that must equal a cookie the sign-in page set (a
//! double-submit check, as no session exists yet); the password goes through the API's
//! [`Authenticator::login`](crate::auth::Authenticator::login), so the same Argon2 pool
//! and the same throttles apply. A successful sign-in always begins a new session under a
//! new id, whatever cookie came with it, so a session id planted beforehand is worthless.

use askama::Template;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::i18n::{self, Translator};
use super::session::{self, random_hex, Session};
use super::{
    client_address, cookie, render, set_cookie, Ctx, InLanguage, SessionId, UiError, UiResult,
    Viewer, LANG_COOKIE,
};
use crate::AppState;

/// Cookie holding the sign-in form's token.
const SIGNIN_COOKIE: &str = "comity_signin";
/// A year, for the language cookie.
const YEAR: u64 = 365 * 86_400;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    ctx: Ctx,
    token: String,
    failed: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct LangQuery {
    lang: Option<String>,
}

/// GET `/signin[?lang=xx]`: the form, in the language asked for (then remembered).
pub(super) async fn signin_page(
    State(state): State<AppState>,
    Viewer(mut ctx): Viewer<Ctx>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> UiResult {
    let chosen = q.lang.as_deref().and_then(i18n::supported);
    if let Some(lang) = chosen {
        ctx.t = Translator::new(lang);
    }
    let mut response = signin_form(&state, &headers, ctx, None, StatusCode::OK)?;
    if let Some(lang) = chosen {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, LANG_COOKIE, lang, Some(YEAR)),
        );
    }
    Ok(response)
}

/// The sign-in form; its token is the one the browser holds already, if any (so pages
/// loaded twice or in two tabs agree), else a new one.
fn signin_form(
    state: &AppState,
    headers: &HeaderMap,
    ctx: Ctx,
    failed: Option<String>,
    status: StatusCode,
) -> UiResult {
    let token = cookie(headers, SIGNIN_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(random_hex, str::to_owned);
    let cookie = set_cookie(state, SIGNIN_COOKIE, &token, None);
    let mut response = render(&ctx.clone(), SignInPage { ctx, token, failed })?;
    *response.status_mut() = status;
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

#[derive(Deserialize)]
pub(super) struct SignIn {
    name: String,
    password: String,
    token: String,
}

/// POST `/signin`: checks the form's token and the password, then begins a new session.
pub(super) async fn signin(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    req: Request,
) -> UiResult {
    let address = client_address(&req);
    let headers = req.headers().clone();
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let Form(form) = Form::<SignIn>::from_request(req, &state)
        .await
        .map_err(|_| UiError::new(StatusCode::BAD_REQUEST, "error-invalid"))
        .speak(&ctx)?;
    let expected = cookie(&headers, SIGNIN_COOKIE).unwrap_or("");
    let same: bool =
        subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), form.token.as_bytes()).into();
    if expected.is_empty() || !same {
        return Err(UiError::new(StatusCode::FORBIDDEN, "error-csrf")).speak(&ctx);
    }
    match state
        .auth
        .login(state.node.view(), address, &form.name, &form.password)
        .await
    {
        Ok(_) => {}
        Err(e) if e.status() == StatusCode::TOO_MANY_REQUESTS => {
            let why = ctx.t.m("signin-throttled");
            return signin_form(
                &state,
                &headers,
                ctx,
                Some(why),
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => {
            let why = ctx.t.m("signin-failed");
            return signin_form(&state, &headers, ctx, Some(why), StatusCode::UNAUTHORIZED);
        }
        Err(e) => return Err(UiError::from(e)).speak(&ctx),
    }
    let lang = i18n::supported(ctx.t.lang());
    let id = state
        .ui
        .sessions
        .begin(&form.name, lang, "UTC", &agent)
        .map_err(|_| UiError::new(StatusCode::SERVICE_UNAVAILABLE, "error-busy"))
        .speak(&ctx)?;
    let mut response = Redirect::to("/dashboard").into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(&state, session::COOKIE, &id, None),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&state, SIGNIN_COOKIE, "", Some(0)),
    );
    Ok(response)
}

/// POST `/signout`: ends this session.
pub(super) async fn signout(
    State(state): State<AppState>,
    axum::Extension(SessionId(id)): axum::Extension<SessionId>,
) -> Response {
    state.ui.sessions.end(&id);
    let mut response = Redirect::to("/signin").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, session::COOKIE, "", Some(0)),
    );
    response
}

#[derive(Deserialize)]
pub(super) struct Preferences {
    lang: String,
    tz: String,
    back: String,
}

/// POST `/preferences`: the language and time zone of this session (the language also
/// for the sign-in page, in a cookie); back to the page the form was on.
pub(super) async fn preferences(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    axum::Extension(SessionId(id)): axum::Extension<SessionId>,
    form: Result<Form<Preferences>, axum::extract::rejection::FormRejection>,
) -> UiResult {
    let Form(p) = form
        .map_err(|_| UiError::new(StatusCode::BAD_REQUEST, "error-invalid"))
        .speak(&ctx)?;
    let lang = i18n::supported(&p.lang)
        .ok_or(UiError::new(StatusCode::BAD_REQUEST, "error-language"))
        .speak(&ctx)?;
    let tz = p.tz.trim();
    if !i18n::known_zone(tz) {
        return Err(UiError::new(StatusCode::BAD_REQUEST, "error-time-zone")).speak(&ctx);
    }
    state.ui.sessions.set_preferences(&id, Some(lang), Some(tz));
    let mut response = Redirect::to(local_path(&p.back)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, LANG_COOKIE, lang, Some(YEAR)),
    );
    Ok(response)
}

/// `back` when it is a path of this site, else the dashboard: never a redirect elsewhere.
fn local_path(back: &str) -> &str {
    let local = back.starts_with('/')
        && !back.starts_with("//")
        && !back.contains('\\')
        && !back.chars().any(char::is_control);
    if local {
        back
    } else {
        "/dashboard"
    }
}

/// One session as its user sees it.
struct SessionRow {
    handle: String,
    agent: String,
    since: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    ctx: Ctx,
    sessions: Vec<SessionRow>,
}

/// When session `s` began, in the viewer's time zone.
pub(super) fn since(s: &Session, ctx: &Ctx) -> String {
    let at = jiff::Timestamp::try_from(s.since)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_string();
    ctx.when(&at)
}

/// GET `/sessions`: the viewer's own sessions, each revocable.
pub(super) async fn sessions(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    axum::Extension(SessionId(id)): axum::Extension<SessionId>,
) -> UiResult {
    let user = ctx.user.clone().unwrap_or_default();
    let current = state.ui.sessions.touch(&id).map(|s| s.handle);
    let sessions = state
        .ui
        .sessions
        .of_user(&user)
        .iter()
        .map(|s| SessionRow {
            handle: s.handle.clone(),
            agent: s.agent.clone(),
            since: since(s, &ctx),
            current: current.as_deref() == Some(s.handle.as_str()),
        })
        .collect();
    render(&ctx.clone(), SessionsPage { ctx, sessions })
}

/// POST `/sessions/{handle}/revoke`: ends one of the viewer's sessions (404 for any other).
pub(super) async fn revoke(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    Path(handle): Path<String>,
) -> UiResult {
    let user = ctx.user.clone().unwrap_or_default();
    if !state.ui.sessions.revoke(&user, &handle) {
        return Err(UiError::new(StatusCode::NOT_FOUND, "error-not-found")).speak(&ctx);
    }
    Ok(Redirect::to("/sessions").into_response())
}
