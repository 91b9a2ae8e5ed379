//! The web UI, served at `/`: server-rendered pages (askama templates, one base layout) in
//! six languages (Fluent catalogues, [`i18n`]), for the node's local users signed in with
//! their passwords ([`session`]).
//!
//! Every UI response passes [`gate`]: it sets the security headers, sends anyone without a
//! live session to the sign-in page, checks the CSRF token of every POST, and hands the
//! handlers the same [`Caller`] the API's extractors build, so every page is authorised by
//! the API's own role and collection checks.

mod account;
mod admin;
mod dashboard;
mod governance;
pub mod i18n;
mod intel;
mod members;
mod propose;
mod requests;
pub mod session;
mod tokens;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use askama::Template;
use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use comity_store::Role;

use crate::auth::{Caller, Principal};
use crate::error::ApiError;
use crate::AppState;
use i18n::Translator;
use session::Sessions;

/// The UI's shared state: its sessions, and whether cookies travel over TLS only.
#[derive(Clone, Default)]
pub struct UiState {
    /// The signed-in sessions.
    pub sessions: Arc<Sessions>,
    /// Whether the server serves TLS, so cookies are marked `Secure`.
    pub secure: bool,
}

/// Largest form a UI POST may send.
const MAX_FORM: usize = 64 * 1024;
/// Name of the cookie that remembers the language before and across sign-ins.
const LANG_COOKIE: &str = "comity_lang";
/// The content security policy of every UI response: nothing inline, nothing foreign.
pub const CSP: &str = "default-src 'self'; style-src 'self'; script-src 'self'; \
     frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The UI routes.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/ui.css", get(stylesheet))
        .route("/signin", get(account::signin_page).post(account::signin))
        .route("/signout", post(account::signout))
        .route("/preferences", post(account::preferences))
        .route("/sessions", get(account::sessions))
        .route("/sessions/{handle}/revoke", post(account::revoke))
        .route("/dashboard", get(dashboard::show))
        .route("/intel", get(intel::collections))
        .route("/intel/{root}/{collection}/", get(intel::objects))
        .route("/intel/{root}/{collection}/{id}", get(intel::object))
        .route("/requests", get(requests::lists))
        .route(
            "/requests/new",
            get(requests::draft_form).post(requests::draft),
        )
        .route("/requests/{id}", get(requests::show))
        .route("/requests/{id}/{act}", post(requests::act))
        .route("/governance", get(governance::list))
        .route("/governance/norms", get(governance::norms))
        .route(propose::PATH, get(propose::form).post(propose::propose))
        .route("/governance/proposals/{id}", get(governance::show))
        .route("/governance/proposals/{id}/vote", post(governance::vote))
        .route(
            "/governance/proposals/{id}/cancel",
            post(governance::cancel),
        )
        .route("/members", get(members::show))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .route("/admin", get(admin::show))
        .route("/admin/users", post(admin::add_user))
        .route("/admin/role", post(admin::set_role))
        .route(
            "/admin/sessions/{handle}/revoke",
            post(admin::revoke_session),
        )
        .route_layer(axum::middleware::from_fn_with_state(state, gate))
}

/// What every page knows of its viewer.
#[derive(Clone)]
pub struct Ctx {
    /// The viewer's language.
    pub t: Translator,
    /// The signed-in user, if any.
    pub user: Option<String>,
    /// Their role.
    pub role: Option<Role>,
    /// The CSRF token the page's forms carry.
    pub csrf: String,
    /// The viewer's time zone.
    pub tz: String,
    /// The path of the page, for the forms that come back to it.
    pub path: String,
}

impl Ctx {
    /// The context of a page shown to no one in particular (sign-in, errors).
    pub fn anonymous(t: Translator, path: String) -> Self {
        Ctx {
            t,
            user: None,
            role: None,
            csrf: String::new(),
            tz: "UTC".into(),
            path,
        }
    }

    /// The languages of the language switch, each named in itself.
    pub fn languages(&self) -> Vec<(&'static str, String)> {
        i18n::LANGUAGES
            .iter()
            .map(|l| (*l, Translator::new(l).m("language-name")))
            .collect()
    }

    /// Whether the viewer may see cooperation requests (the API's rule).
    pub fn officer(&self) -> bool {
        matches!(self.role, Some(Role::Liaison | Role::Admin))
    }

    /// The viewer as the API's extractors see it, when signed in.
    fn caller(&self) -> Option<Caller> {
        let (Some(name), Some(role)) = (&self.user, self.role) else {
            return None;
        };
        Some(Caller {
            principal: Principal::User {
                name: name.clone(),
                role,
            },
        })
    }

    /// Whether the viewer may read governance: the API's rule, asked of the API itself.
    pub fn governance_reader(&self) -> bool {
        self.caller()
            .is_some_and(|c| crate::governance::reader(&c).is_ok())
    }

    /// Whether the viewer acts for the member in governance (tables proposals, votes): the
    /// API's rule, asked of the API itself.
    pub fn governance_admin(&self) -> bool {
        self.caller()
            .is_some_and(|c| crate::governance::admin(&c).is_ok())
    }

    /// Whether the viewer administers the node: the API's rule, asked of the API itself.
    pub fn admin(&self) -> bool {
        self.caller().is_some_and(|c| c.admin().is_ok())
    }

    /// `at` in the viewer's time zone.
    pub fn when(&self, at: &str) -> String {
        self.t.datetime(at, &self.tz)
    }
}

/// The session id of a signed-in request (its cookie's value), for the handlers that
/// change or end that session.
#[derive(Clone)]
pub struct SessionId(pub String);

/// A cookie of the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value for a cookie only this server's pages send back.
fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let secure = if state.ui.secure { "; Secure" } else { "" };
    let age = max_age.map_or(String::new(), |s| format!("; Max-Age={s}"));
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/{secure}{age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The language of a request without a session: the remembered choice, else the browser's.
fn language_of(headers: &HeaderMap) -> &'static str {
    cookie(headers, LANG_COOKIE)
        .and_then(i18n::supported)
        .unwrap_or_else(|| {
            i18n::negotiate(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            )
        })
}

/// The client's address, as the API's throttles see it.
fn client_address(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// Sets the headers every UI response carries.
fn secure_headers(response: &mut Response, page: bool) {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if page {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Runs before every UI handler: see the module's documentation.
async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let page = req.uri().path() != "/ui.css";
    let mut response = admit(&state, req, next).await;
    secure_headers(&mut response, page);
    response
}

async fn admit(state: &AppState, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let lang = language_of(req.headers());
    if path == "/ui.css" || path == "/signin" {
        req.extensions_mut()
            .insert(Ctx::anonymous(Translator::new(lang), path));
        return next.run(req).await;
    }
    let sign_in = || Redirect::to("/signin").into_response();
    let Some(id) = cookie(req.headers(), session::COOKIE).map(str::to_owned) else {
        return sign_in();
    };
    let Some(session) = state.ui.sessions.touch(&id) else {
        return sign_in();
    };
    // The role is read afresh: a user removed or demoted since sign-in is so at once.
    let user = match state.node.view().user(&session.user).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            state.ui.sessions.end(&id);
            return sign_in();
        }
        Err(e) => return UiError::from(ApiError::from(e)).page(&Translator::new(lang)),
    };
    let ctx = Ctx {
        t: Translator::new(session.lang.unwrap_or(lang)),
        user: Some(user.name.clone()),
        role: Some(user.role),
        csrf: session.csrf.clone(),
        tz: session.tz.clone(),
        path,
    };
    if req.method() == Method::POST {
        req = match checked_form(req, &session).await {
            Ok(req) => req,
            Err(e) => return e.page(&ctx.t),
        };
    }
    req.extensions_mut().insert(Caller {
        principal: Principal::User {
            name: user.name,
            role: user.role,
        },
    });
    req.extensions_mut().insert(ctx);
    req.extensions_mut().insert(SessionId(id));
    next.run(req).await
}

/// The request with its form read and its CSRF token checked against the session's. A
/// proposal's form may carry its texts in six languages, and so may be larger.
async fn checked_form(req: Request, session: &session::Session) -> Result<Request, UiError> {
    let (parts, body) = req.into_parts();
    let max = if parts.uri.path() == propose::PATH {
        propose::MAX_FORM
    } else {
        MAX_FORM
    };
    let bytes = to_bytes(body, max)
        .await
        .map_err(|_| UiError::new(StatusCode::PAYLOAD_TOO_LARGE, "error-too-large"))?;
    if !csrf_in(&bytes).is_some_and(|token| session.csrf_matches(&token)) {
        return Err(UiError::new(StatusCode::FORBIDDEN, "error-csrf"));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The `csrf` field of a URL-encoded form.
fn csrf_in(form: &[u8]) -> Option<String> {
    form_urlencoded::parse(form)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
}

/// Why the form was refused: the field at fault (empty when none is), the viewer's words,
/// and the node's when it refused.
#[derive(Debug)]
pub struct Problem {
    field: String,
    /// The language of the text at fault, named in itself.
    about: Option<String>,
    message: String,
    detail: Option<String>,
}

impl Problem {
    /// A refusal of `field` (empty: of the form as a whole), in the viewer's words.
    pub fn new(field: &str, message: String) -> Self {
        Problem {
            field: field.to_owned(),
            about: None,
            message,
            detail: None,
        }
    }

    /// The refusal with the node's own words for it.
    pub fn because(mut self, detail: impl ToString) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    /// Whether `problem` marks `field` as the one at fault.
    pub fn marks(problem: Option<&Problem>, field: &str) -> bool {
        problem.is_some_and(|p| !p.field.is_empty() && p.field == field)
    }

    /// Whether `problem` is about the page as a whole rather than a field of a form.
    pub fn general(problem: Option<&Problem>) -> bool {
        problem.is_some_and(|p| p.field.is_empty())
    }
}

/// A page that could not be shown: its status and a message key, with the API's words for
/// what went wrong when there are any.
#[derive(Debug)]
pub struct UiError {
    status: StatusCode,
    key: &'static str,
    detail: Option<String>,
}

impl UiError {
    /// An error with a message from the catalogue.
    pub fn new(status: StatusCode, key: &'static str) -> Self {
        UiError {
            status,
            key,
            detail: None,
        }
    }

    /// The error page, in the viewer's language.
    pub fn page(&self, t: &Translator) -> Response {
        let page = ErrorPage {
            ctx: Ctx::anonymous(t.clone(), String::new()),
            title: t.m(self.key),
            detail: self.detail.clone(),
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => self.status.into_response(),
        }
    }
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        let key = match e.status() {
            StatusCode::FORBIDDEN => "error-forbidden",
            StatusCode::NOT_FOUND => "error-not-found",
            StatusCode::TOO_MANY_REQUESTS => "error-throttled",
            s if s.is_client_error() => "error-invalid",
            _ => "error-internal",
        };
        let detail = e
            .status()
            .is_client_error()
            .then(|| e.description().to_owned());
        UiError {
            status: e.status(),
            key,
            detail,
        }
    }
}

impl From<comity_node::requests::RequestError> for UiError {
    fn from(e: comity_node::requests::RequestError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<comity_store::StoreError> for UiError {
    fn from(e: comity_store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<comity_node::governance::GovernanceError> for UiError {
    fn from(e: comity_node::governance::GovernanceError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<askama::Error> for UiError {
    fn from(e: askama::Error) -> Self {
        tracing::error!(error = %e, "a UI template failed");
        UiError::new(StatusCode::INTERNAL_SERVER_ERROR, "error-internal")
    }
}

/// An error with the language of the page it replaces.
pub struct Failure(Translator, UiError);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        self.1.page(&self.0)
    }
}

/// A UI handler's answer: a page, or an error page in the viewer's language.
pub type UiResult = Result<Response, Failure>;

/// Attaches the viewer's language to an error, so it renders as a page.
pub trait InLanguage<T> {
    /// The result, its error speaking `ctx`'s language.
    fn speak(self, ctx: &Ctx) -> Result<T, Failure>;
}

impl<T, E: Into<UiError>> InLanguage<T> for Result<T, E> {
    fn speak(self, ctx: &Ctx) -> Result<T, Failure> {
        self.map_err(|e| Failure(ctx.t.clone(), e.into()))
    }
}

/// Renders a page.
pub fn render(ctx: &Ctx, page: impl Template) -> UiResult {
    Ok(Html(page.render().speak(ctx)?).into_response())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: Ctx,
    title: String,
    detail: Option<String>,
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("ui.css"),
    )
        .into_response()
}

/// The context of the request, as [`gate`] made it: `Viewer(ctx): Viewer<Ctx>`.
pub use axum::Extension as Viewer;
