//! The administration page, for admins only ([`Caller::admin`], the API's rule for admin
//! acts): the local users and their roles, adding a user and changing a role through the
//! node's own workflows ([`admin::add_user`], [`admin::set_role`], as `comity user add` and
//! `comity user set-role` do, committed to the log the same way), and every open UI session
//! with a button that ends it.
//!
//! A new user's password is typed twice (at least [`admin::MIN_PASSWORD_CHARS`]
//! characters, the CLI's rule) or, both fields left empty, generated and shown once.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect};
use axum::Form;
use comity_node::admin::{self, AdminError, MAX_USER_NAME_CHARS, MIN_PASSWORD_CHARS};
use comity_store::{Role, StoreError};
use serde::Deserialize;

use super::account::since;
use super::session::COOKIE;
use super::{set_cookie, Ctx, InLanguage, Problem, SessionId, UiError, UiResult, Viewer};
use crate::auth::Caller;
use crate::AppState;

/// The role a new user is offered first (the CLI's default).
const FIRST_ROLE: Role = Role::Analyst;

/// A user as the page lists it.
struct UserRow {
    name: String,
    role: &'static str,
    /// Whether it is the viewer.
    me: bool,
}

/// A session as the page lists it.
struct SessionRow {
    user: String,
    handle: String,
    agent: String,
    since: String,
    current: bool,
}

/// What the new user form holds (never a password).
#[derive(Deserialize)]
pub(super) struct NewUser {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    ctx: Ctx,
    users: Vec<UserRow>,
    sessions: Vec<SessionRow>,
    /// Each role, with its name in the viewer's language.
    roles: Vec<(&'static str, String)>,
    /// The new user's name and role as entered.
    name: String,
    role: String,
    problem: Option<Problem>,
}

impl AdminPage {
    fn invalid(&self, field: &str) -> bool {
        Problem::marks(self.problem.as_ref(), field)
    }

    fn general(&self) -> bool {
        Problem::general(self.problem.as_ref())
    }

    /// The field of the role of user `name` (the form of its row).
    fn role_field(&self, name: &str) -> String {
        role_field(name)
    }

    fn max_name(&self) -> usize {
        MAX_USER_NAME_CHARS
    }

    fn min_password(&self) -> usize {
        MIN_PASSWORD_CHARS
    }
}

/// The new user form, blank: no name, the CLI's default role.
fn blank() -> (String, String) {
    (String::new(), FIRST_ROLE.as_str().to_owned())
}

fn role_field(name: &str) -> String {
    format!("role:{name}")
}

#[derive(Template)]
#[template(path = "user.html")]
struct CreatedPage {
    ctx: Ctx,
    name: String,
    role: &'static str,
    /// The password generated, shown this once; `None` when the admin typed one.
    password: Option<String>,
}

/// The page, with the new user form holding `name` and `role`, and `problem` if any.
async fn page(
    state: &AppState,
    ctx: Ctx,
    session: &str,
    (name, role): (String, String),
    problem: Option<Problem>,
    status: StatusCode,
) -> UiResult {
    let me = ctx.user.clone().unwrap_or_default();
    let users = state
        .node
        .store()
        .users()
        .await
        .speak(&ctx)?
        .into_iter()
        .map(|u| UserRow {
            me: u.name == me,
            name: u.name,
            role: u.role.as_str(),
        })
        .collect();
    let current = state.ui.sessions.touch(session).map(|s| s.handle);
    let sessions = state
        .ui
        .sessions
        .all()
        .iter()
        .map(|s| SessionRow {
            user: s.user.clone(),
            handle: s.handle.clone(),
            agent: s.agent.clone(),
            since: since(s, &ctx),
            current: current.as_deref() == Some(s.handle.as_str()),
        })
        .collect();
    let roles = Role::ALL
        .iter()
        .map(|r| (r.as_str(), ctx.t.named("role", r.as_str())))
        .collect();
    let page = AdminPage {
        ctx: ctx.clone(),
        users,
        sessions,
        roles,
        name,
        role,
        problem,
    };
    Ok((status, Html(page.render().speak(&ctx)?)).into_response())
}

/// GET `/admin`: users, roles and open sessions.
pub(super) async fn show(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    axum::Extension(SessionId(id)): axum::Extension<SessionId>,
) -> UiResult {
    caller.admin().speak(&ctx)?;
    page(&state, ctx, &id, blank(), None, StatusCode::OK).await
}

/// Why the node refused a user act: the field at fault, the viewer's words, the status.
fn refusal(e: &AdminError, field: &str, ctx: &Ctx) -> Option<(Problem, StatusCode)> {
    let (key, status) = match e {
        AdminError::Invalid(_) => ("error-admin-name", StatusCode::BAD_REQUEST),
        AdminError::Store(StoreError::Conflict(_)) => ("error-admin-exists", StatusCode::CONFLICT),
        AdminError::Store(StoreError::NotFound(_)) | AdminError::NotFound(_) => {
            ("error-admin-no-user", StatusCode::NOT_FOUND)
        }
        _ => return None,
    };
    Some((Problem::new(field, ctx.t.m(key)).because(e), status))
}

/// POST `/admin/users`: adds a user through the node's workflow (as `comity user add`),
/// with the password typed twice or generated; the answer shows a generated one once.
pub(super) async fn add_user(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    axum::Extension(SessionId(id)): axum::Extension<SessionId>,
    form: Result<Form<NewUser>, FormRejection>,
) -> UiResult {
    let by = caller.admin().speak(&ctx)?.to_owned();
    let Form(new) = form
        .map_err(|_| UiError::new(StatusCode::BAD_REQUEST, "error-invalid"))
        .speak(&ctx)?;
    let entered = (new.name.clone(), new.role.clone());
    let refuse =
        |field: &str, key: &str| Problem::new(field, ctx.t.a(key, "count", MIN_PASSWORD_CHARS));
    let checked = match (
        new.role.parse::<Role>(),
        new.password.is_empty() && new.password_again.is_empty(),
    ) {
        (Err(why), _) => Err(refuse("role", "error-admin-role").because(why)),
        (Ok(role), true) => Ok((role, admin::generate_password(), true)),
        (Ok(_), false) if new.password != new.password_again => {
            Err(refuse("password_again", "error-admin-password-mismatch"))
        }
        (Ok(role), false) => admin::check_password(&new.password)
            .map(|()| (role, new.password.clone(), false))
            .map_err(|why| refuse("password", "error-admin-password-short").because(why)),
    };
    let (role, password, generated) = match checked {
        Ok(checked) => checked,
        Err(problem) => {
            let status = StatusCode::BAD_REQUEST;
            return page(&state, ctx, &id, entered, Some(problem), status).await;
        }
    };
    if let Err(e) = admin::add_user(&state.node, &new.name, role, &password).await {
        let Some((problem, status)) = refusal(&e, "name", &ctx) else {
            tracing::error!(error = %e, "adding a user failed");
            return Err(UiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error-internal",
            ))
            .speak(&ctx);
        };
        return page(&state, ctx, &id, entered, Some(problem), status).await;
    }
    tracing::info!(admin = %by.escape_debug(), user = %new.name.escape_debug(),
        role = role.as_str(), "user added");
    let answer = CreatedPage {
        ctx: ctx.clone(),
        name: new.name,
        role: role.as_str(),
        password: generated.then_some(password),
    };
    Ok((StatusCode::CREATED, Html(answer.render().speak(&ctx)?)).into_response())
}

/// A role change as posted.
#[derive(Deserialize)]
pub(super) struct RoleChange {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

/// POST `/admin/role`: changes a user's role through the node's workflow (as `comity user
/// set-role`); back to the page, or the page with the refusal on the user's row.
pub(super) async fn set_role(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    axum::Extension(SessionId(id)): axum::Extension<SessionId>,
    form: Result<Form<RoleChange>, FormRejection>,
) -> UiResult {
    let by = caller.admin().speak(&ctx)?.to_owned();
    let Form(change) = form
        .map_err(|_| UiError::new(StatusCode::BAD_REQUEST, "error-invalid"))
        .speak(&ctx)?;
    let field = role_field(&change.name);
    let role = match change.role.parse::<Role>() {
        Ok(role) => role,
        Err(why) => {
            let problem = Problem::new(&field, ctx.t.m("error-admin-role")).because(why);
            return page(
                &state,
                ctx,
                &id,
                blank(),
                Some(problem),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    if let Err(e) = admin::set_role(&state.node, &change.name, role).await {
        let Some((problem, status)) = refusal(&e, "", &ctx) else {
            tracing::error!(error = %e, "changing a role failed");
            return Err(UiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error-internal",
            ))
            .speak(&ctx);
        };
        return page(&state, ctx, &id, blank(), Some(problem), status).await;
    }
    tracing::info!(admin = %by.escape_debug(), user = %change.name.escape_debug(),
        role = role.as_str(), "user role changed");
    Ok(Redirect::to("/admin").into_response())
}

/// POST `/admin/sessions/{handle}/revoke`: ends any user's session; ending the admin's own
/// signs it out.
pub(super) async fn revoke_session(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    axum::Extension(SessionId(id)): axum::Extension<SessionId>,
    Path(handle): Path<String>,
) -> UiResult {
    let by = caller.admin().speak(&ctx)?.to_owned();
    let own = state
        .ui
        .sessions
        .touch(&id)
        .is_some_and(|s| s.handle == handle);
    let Some(user) = state.ui.sessions.revoke_any(&handle) else {
        let problem = Problem::new("", ctx.t.m("error-admin-no-session"));
        return page(
            &state,
            ctx,
            &id,
            blank(),
            Some(problem),
            StatusCode::NOT_FOUND,
        )
        .await;
    };
    tracing::info!(admin = %by.escape_debug(), user = %user.escape_debug(), "UI session revoked");
    if !own {
        return Ok(Redirect::to("/admin").into_response());
    }
    let mut response = Redirect::to("/signin").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(&state, COOKIE, "", Some(0)));
    Ok(response)
}
