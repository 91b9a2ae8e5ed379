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
//! - `GET /api/v1/requests/{id}/file[?format=json|pdf]`: the request's court file, as
//!   JSON or printed as a PDF for a court (the JSON embedded in it).
//! - `PUT /api/v1/requests/{id}/attachments/{sha256}?size=S&offset=N` with the bytes from
//!   offset N (at most 8 MiB at a time, `application/octet-stream`): uploads an attachment
//!   before an act lists it. A chunk that does not start where the bytes held end is
//!   refused (409) with the bytes held, so an interrupted upload resumes from there; the
//!   last chunk seals the attachment when its SHA-256 matches (422 otherwise, and nothing
//!   is kept).
//! - `GET /api/v1/requests/{id}/attachments/{sha256}`: the bytes of an attachment listed
//!   in the request's signed history, checked at rest before and while they are sent.

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
        ApiRoute::get("/api/v1/requests/{id}/file", court_file),
        ApiRoute::post("/api/v1/requests/{id}/{act}", make),
        ApiRoute::put("/api/v1/requests/{id}/attachments/{sha256}", upload),
        ApiRoute::get("/api/v1/requests/{id}/attachments/{sha256}", download),
    ]
}

/// The liaison officer or admin behind the call.
pub(crate) fn officer(caller: &Caller) -> Result<&str, ApiError> {
    caller.user_in(
        &[Role::Liaison, Role::Admin],
        "cooperation requests are for liaison officers and admins",
    )
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
    let Query(q) = query?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileQuery {
    format: Option<String>,
}

/// The court file as JSON (the default) or, with `?format=pdf`, printed for a court.
async fn court_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<Query<FileQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let name = officer(&caller)?;
    let Query(q) = query?;
    let (content_type, body) = match q.format.as_deref() {
        None | Some("json") => (
            "application/json",
            requests::court_file::court_file(&state.node, name, &id)
                .await?
                .to_json(),
        ),
        Some("pdf") => (
            "application/pdf",
            requests::court_pdf::court_pdf(&state.node, name, &id).await?,
        ),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown court file format {other:?}: expected json or pdf"
            )))
        }
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    size: u64,
    #[serde(default)]
    offset: u64,
}

async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, sha256)): Path<(String, String)>,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, ApiError> {
    use comity_node::requests::attachments::{AttachmentError, MAX_CHUNK};
    use comity_node::requests::RequestError;
    officer(&caller)?;
    if let Some(given) = headers.get(header::CONTENT_TYPE) {
        let essence = given
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence != "application/octet-stream" {
            return Err(ApiError::unsupported_media_type(
                "an attachment's bytes are sent as Content-Type: application/octet-stream",
            ));
        }
    }
    let Query(q) = query.map_err(|e| {
        ApiError::bad_request(format!(
            "invalid query (size=BYTES&offset=N): {}",
            e.body_text()
        ))
    })?;
    if let Some(kept) = state.node.attachments() {
        if q.size > kept.max_size() {
            return Err(ApiError::too_large(format!(
                "the attachment has {} bytes; this node accepts at most {}",
                q.size,
                kept.max_size()
            )));
        }
    }
    let bytes = to_bytes(raw, MAX_CHUNK).await.map_err(|_| {
        ApiError::too_large(format!(
            "a chunk has at most {MAX_CHUNK} bytes; send the rest with offset=N"
        ))
    })?;
    match requests::upload(&state.node, &id, &sha256, q.size, q.offset, &bytes).await {
        Ok(progress) => Ok(Json(json!({
            "sha256": sha256,
            "size": progress.size,
            "held": progress.held,
            "complete": progress.complete,
        }))
        .into_response()),
        Err(RequestError::Attachment(e @ AttachmentError::Offset { held, .. })) => {
            let body = json!({
                "title": "Conflict",
                "description": e.to_string(),
                "http_status": "409",
                "held": held,
            });
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, sha256)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    officer(&caller)?;
    let (listed, mut reader) = requests::attachment(&state.node, &id, &sha256).await?;
    let size = reader.size();
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::task::spawn_blocking(move || loop {
        let next = match reader.next_segment() {
            Ok(Some(piece)) => Ok(axum::body::Bytes::from(piece)),
            Ok(None) => return,
            Err(e) => {
                tracing::error!(error = %e, "attachment integrity failure while sending");
                Err(std::io::Error::other(e.to_string()))
            }
        };
        let stop = next.is_err();
        if tx.blocking_send(next).is_err() || stop {
            return;
        }
    });
    let disposition = format!(
        "attachment; filename=\"{}\"",
        listed.name.replace(['"', '\\'], "_")
    );
    let mut response = Body::new(Segments(rx)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, header::HeaderValue::from(size));
    if let Ok(v) = header::HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        "comity-attachment-sha256",
        header::HeaderValue::from_str(&sha256).map_err(|_| ApiError::internal())?,
    );
    Ok(response)
}

/// A response body fed segment by segment by the task that reads and checks the file; an
/// integrity failure part way ends the body with an error, so the client sees a broken
/// transfer rather than bad bytes passed as good.
struct Segments(tokio::sync::mpsc::Receiver<Result<axum::body::Bytes, std::io::Error>>);

impl hyper::body::Body for Segments {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|next| next.map(|r| r.map(hyper::body::Frame::data)))
    }
}
