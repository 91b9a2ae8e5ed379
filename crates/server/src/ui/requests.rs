//! Cooperation request pages, for liaison officers and admins (the API's rule, through
//! [`crate::requests::officer`]): the inbox and outbox, one request with its signed
//! timeline and the acts the viewer may make, and the form that drafts a new request.
//! Every page and act calls the node's `requests` workflow as the API does.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use comity_node::requests::kinds::{self, RefusalReason};
use comity_node::requests::machine::{State as Stage, AWAITING_ANSWER};
use comity_node::requests::{self, Act, Details, NewRequest, Request, RequestKind, Side};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{render, Ctx, InLanguage, UiError, UiResult, Viewer};
use crate::auth::Caller;
use crate::requests::officer;
use crate::AppState;

/// A request in a list.
pub(super) struct RequestRow {
    pub id: String,
    pub kind: RequestKind,
    pub partner: String,
    pub state: String,
    pub emergency: bool,
    pub overdue: bool,
    /// The deadline in the viewer's time zone.
    pub due: Option<String>,
    /// The deadline in the partner's time zone, when the request names it.
    pub due_partner: Option<String>,
}

/// The time zone of the member on the other side, when the request says it: the
/// requester's authority names its own.
fn partner_zone(r: &Request) -> Option<&str> {
    (r.side == Side::Requested)
        .then(|| r.document.pointer("/authority/time_zone"))
        .flatten()
        .and_then(Value::as_str)
}

impl RequestRow {
    pub(super) fn new(r: &Request, ctx: &Ctx) -> Self {
        let partner = match r.side {
            Side::Requester => &r.requested,
            Side::Requested => &r.requester,
        };
        RequestRow {
            id: r.id.clone(),
            kind: r.kind,
            partner: partner.clone(),
            state: ctx.t.named("state", r.state.as_str()),
            emergency: r.emergency,
            overdue: r.overdue,
            due: r.due.as_deref().map(|d| ctx.when(d)),
            due_partner: r
                .due
                .as_deref()
                .zip(partner_zone(r))
                .map(|(d, tz)| ctx.t.datetime(d, tz)),
        }
    }
}

/// Whether a request waits for this node's side: a delivered one or one whose answer is
/// due, on the requested side; a draft, or a question or conditions to answer, on the
/// requester's.
fn awaits_us(r: &Request) -> bool {
    match r.side {
        Side::Requested => r.state == Stage::Delivered || AWAITING_ANSWER.contains(&r.state),
        Side::Requester => matches!(
            r.state,
            Stage::Draft | Stage::InfoRequested | Stage::AcceptedWithConditions
        ),
    }
}

/// The requests awaiting an act of this node, emergencies first, then by deadline.
pub(super) async fn awaiting(state: &AppState, ctx: &Ctx) -> Result<Vec<RequestRow>, UiError> {
    let query = requests::Query {
        limit: requests::MAX_LIST,
        ..Default::default()
    };
    let mut waiting: Vec<Request> = requests::list(&state.node, &query)
        .await?
        .into_iter()
        .filter(awaits_us)
        .collect();
    waiting.sort_by(|a, b| {
        (!a.emergency, a.due.is_none(), &a.due).cmp(&(!b.emergency, b.due.is_none(), &b.due))
    });
    Ok(waiting.iter().map(|r| RequestRow::new(r, ctx)).collect())
}

#[derive(Template)]
#[template(path = "requests.html")]
struct ListsPage {
    ctx: Ctx,
    inbox: Vec<RequestRow>,
    outbox: Vec<RequestRow>,
}

/// GET `/requests`: the inbox and the outbox, most recently updated first.
pub(super) async fn lists(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
) -> UiResult {
    officer(&caller).speak(&ctx)?;
    let query = requests::Query {
        limit: requests::MAX_LIST,
        ..Default::default()
    };
    let all = requests::list(&state.node, &query).await.speak(&ctx)?;
    let (outbox, inbox): (Vec<_>, Vec<_>) = all.iter().partition(|r| r.side == Side::Requester);
    let rows = |rs: Vec<&Request>| rs.into_iter().map(|r| RequestRow::new(r, &ctx)).collect();
    let (inbox, outbox) = (rows(inbox), rows(outbox));
    render(&ctx.clone(), ListsPage { ctx, inbox, outbox })
}

/// An event of a timeline.
struct EventRow {
    n: u64,
    act: String,
    by: String,
    officer: String,
    at: String,
    state: String,
    note: String,
    signature: String,
    sha256: String,
}

/// An act the viewer may make, with the detail it asks for.
struct ActForm {
    act: &'static str,
    label: String,
    /// The one detail field beyond the note: `reason`, `conditions`, `until` or `link`.
    field: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    ctx: Ctx,
    row: RequestRow,
    requester: String,
    requested: String,
    document: String,
    events: Vec<EventRow>,
    acts: Vec<ActForm>,
    reasons: Vec<(&'static str, String)>,
}

/// The first characters of a signature or hash, enough to tell them apart on a page.
fn short(s: &str) -> String {
    s.chars().take(16).collect()
}

/// The detail field an act asks for beyond its note.
fn detail_field(act: Act) -> Option<&'static str> {
    match act {
        Act::Refuse => Some("reason"),
        Act::AcceptWithConditions => Some("conditions"),
        Act::Preserve | Act::Extend => Some("until"),
        Act::Link => Some("link"),
        _ => None,
    }
}

/// GET `/requests/{id}`: one request, its timeline and the acts allowed now. The first
/// time an officer of the requested side opens it, the node sends the retrieval receipt,
/// as the API does.
pub(super) async fn show(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
) -> UiResult {
    let name = officer(&caller).speak(&ctx)?;
    let r = requests::open(&state.node, name, &id).await.speak(&ctx)?;
    let events = r
        .history
        .iter()
        .map(|h| EventRow {
            n: h.event.n,
            act: ctx.t.named("act", h.event.act.as_str()),
            by: h.event.by.clone(),
            officer: h.event.officer.clone(),
            at: ctx.when(&h.event.at),
            state: ctx.t.named("state", h.event.state.as_str()),
            note: h.event.details.note.clone().unwrap_or_default(),
            signature: short(&h.signature),
            sha256: short(&h.sha256),
        })
        .collect();
    let acts = r
        .allowed
        .iter()
        .filter(|a| **a != Act::Retrieve)
        .map(|a| ActForm {
            act: a.as_str(),
            label: ctx.t.named("act", a.as_str()),
            field: detail_field(*a),
        })
        .collect();
    let reasons = RefusalReason::ALL
        .iter()
        .map(|r| (*r, ctx.t.named("reason", r)))
        .collect();
    let page = RequestPage {
        row: RequestRow::new(&r, &ctx),
        requester: r.requester.clone(),
        requested: r.requested.clone(),
        document: serde_json::to_string_pretty(&r.document).unwrap_or_default(),
        events,
        acts,
        reasons,
        ctx: ctx.clone(),
    };
    render(&ctx, page)
}

#[derive(Deserialize)]
pub(super) struct ActInput {
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    conditions: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    link: String,
}

/// A form's text, `None` when blank.
fn given(s: String) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// POST `/requests/{id}/{act}`: makes the act through the workflow, then shows the request.
pub(super) async fn act(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    Path((id, act)): Path<(String, String)>,
    form: Result<Form<ActInput>, axum::extract::rejection::FormRejection>,
) -> UiResult {
    let name = officer(&caller).speak(&ctx)?;
    let act: Act = act
        .parse()
        .map_err(|_| UiError::new(StatusCode::NOT_FOUND, "error-not-found"))
        .speak(&ctx)?;
    let Form(f) = form
        .map_err(|_| UiError::new(StatusCode::BAD_REQUEST, "error-invalid"))
        .speak(&ctx)?;
    let reason = given(f.reason)
        .map(|r| serde_json::from_value::<RefusalReason>(Value::String(r)))
        .transpose()
        .map_err(|_| UiError::new(StatusCode::BAD_REQUEST, "error-invalid"))
        .speak(&ctx)?;
    let details = Details {
        note: given(f.note),
        reason,
        conditions: given(f.conditions),
        until: given(f.until),
        link: given(f.link),
        ..Details::default()
    };
    requests::act(&state.node, name, &id, act, details)
        .await
        .speak(&ctx)?;
    Ok(Redirect::to(&format!("/requests/{id}")).into_response())
}

/// A field of the draft form.
struct FieldInput {
    /// Its path in the document, also the input's name.
    path: &'static str,
    label: String,
    source: &'static str,
    /// `text`, `long`, `yes-no` or `list`.
    input: &'static str,
}

#[derive(Template)]
#[template(path = "draft.html")]
struct DraftPage {
    ctx: Ctx,
    kind: RequestKind,
    kinds: Vec<(&'static str, String)>,
    fields: Vec<FieldInput>,
}

#[derive(Deserialize)]
pub(super) struct KindQuery {
    kind: Option<String>,
}

/// How a field is entered.
fn input_of(path: &str) -> &'static str {
    match path {
        "details.mla_to_follow" => "yes-no",
        "details.categories" => "list",
        "summary" | "offence" => "long",
        p if p.starts_with("details.") && !p.contains("time_range") => "long",
        _ => "text",
    }
}

/// GET `/requests/new[?kind=K]`: the form for a new request of kind K (preservation by
/// default), every required field named with the article that asks for it.
pub(super) async fn draft_form(
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    Query(q): Query<KindQuery>,
) -> UiResult {
    officer(&caller).speak(&ctx)?;
    let kind: RequestKind = q
        .kind
        .as_deref()
        .unwrap_or("preservation")
        .parse()
        .map_err(|_| UiError::new(StatusCode::BAD_REQUEST, "error-invalid"))
        .speak(&ctx)?;
    let fields = kinds::COMMON
        .iter()
        .chain(kinds::required(kind))
        .map(|f| FieldInput {
            path: f.path,
            label: ctx.t.named("field", f.path),
            source: f.source,
            input: input_of(f.path),
        })
        .collect();
    let kinds = RequestKind::ALL
        .iter()
        .map(|k| (k.as_str(), ctx.t.named("kind", k.as_str())))
        .collect();
    render(
        &ctx.clone(),
        DraftPage {
            ctx,
            kind,
            kinds,
            fields,
        },
    )
}

/// The document a draft form describes: each field set at its dotted path.
fn document(kind: RequestKind, form: &[(String, String)]) -> Value {
    let mut doc = Map::new();
    let paths = kinds::COMMON.iter().chain(kinds::required(kind));
    for f in paths {
        let Some((_, raw)) = form.iter().find(|(k, _)| k == f.path) else {
            continue;
        };
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let value = match input_of(f.path) {
            "yes-no" => Value::Bool(raw == "yes"),
            "list" => raw
                .split(',')
                .map(|s| Value::String(s.trim().to_owned()))
                .filter(|v| v.as_str() != Some(""))
                .collect(),
            _ => Value::String(raw.to_owned()),
        };
        let mut at = &mut doc;
        let mut keys = f.path.split('.').peekable();
        while let Some(key) = keys.next() {
            if keys.peek().is_none() {
                at.insert(key.to_owned(), value.clone());
                break;
            }
            let next = at
                .entry(key.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            match next {
                Value::Object(m) => at = m,
                _ => break,
            }
        }
    }
    if let Some((_, why)) = form.iter().find(|(k, _)| k == "emergency_justification") {
        if !why.trim().is_empty() {
            doc.insert("emergency_justification".into(), why.trim().into());
        }
    }
    Value::Object(doc)
}

/// POST `/requests/new`: saves the draft through the workflow and opens it.
pub(super) async fn draft(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    Form(form): Form<Vec<(String, String)>>,
) -> UiResult {
    let name = officer(&caller).speak(&ctx)?;
    let field = |k: &str| {
        form.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let kind: RequestKind = field("kind")
        .parse()
        .map_err(|_| UiError::new(StatusCode::BAD_REQUEST, "error-invalid"))
        .speak(&ctx)?;
    let new = NewRequest {
        kind,
        to: field("to"),
        emergency: field("emergency") == "yes",
        document: document(kind, &form),
    };
    let made = requests::draft(&state.node, name, new).await.speak(&ctx)?;
    Ok(Redirect::to(&format!("/requests/{}", made.id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_draft_form_becomes_a_nested_document() {
        let doc = document(
            RequestKind::Preservation,
            &form(&[
                ("authority.name", " Cyber unit "),
                ("authority.time_zone", "Europe/Paris"),
                ("details.mla_to_follow", "yes"),
                ("details.data", "logs"),
                ("summary", ""),
                ("unknown.field", "dropped"),
                ("emergency_justification", "life at risk"),
            ]),
        );
        assert_eq!(
            doc,
            serde_json::json!({
                "authority": {"name": "Cyber unit", "time_zone": "Europe/Paris"},
                "details": {"mla_to_follow": true, "data": "logs"},
                "emergency_justification": "life at risk",
            })
        );
        assert!(
            kinds::missing(RequestKind::Preservation, &doc).len() > 1,
            "blank and absent fields stay missing"
        );
    }

    #[test]
    fn a_production_form_lists_its_categories() {
        let doc = document(
            RequestKind::Production,
            &form(&[("details.categories", "subscriber, traffic,,")]),
        );
        assert_eq!(
            doc["details"]["categories"],
            serde_json::json!(["subscriber", "traffic"])
        );
    }
}
