//! Objects, manifests, versions, deletion and POST of envelopes in one collection.
//!
//! Pages are rendered by concatenating the stored JSON text, never re-serialising it, so
//! what a client gets back is exactly what was accepted.

use axum::body::{to_bytes, Body};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use comity_node::intake::{self, Envelope, Examined};
use comity_node::objects::{self, Posted, Sharing};
use comity_node::release::{Release, Released};
use comity_store::{Page, PageRequest, Status, StatusDetail, StoredObject, VersionFilter};
use serde_json::{json, Value};
use std::borrow::Cow;

use super::query::{self, Endpoint, Query};
use super::{paging, taxii_json};
use crate::auth::CollectionAccess;
use crate::error::ApiError;
use crate::media::require_taxii_content;
use crate::AppState;
use comity_stix::clock::format_us;
use comity_stix::is_identifier as is_stix_id;

/// Page size when the client names none.
const DEFAULT_LIMIT: usize = 1000;
/// Largest page served, whatever the client asks.
const MAX_LIMIT: usize = 10_000;

/// One page of a listing, with the scope its `next` token is bound to.
struct Listing {
    page: Page<StoredObject>,
    scope: String,
}

/// Reads the page a query asks for, counting only what the caller may read: a page holds
/// up to `limit` objects the sharing policy releases, `more` is true only when another
/// releasable object follows, and `next` continues right after the last object returned.
/// Withheld objects leave no trace: no empty pages, no `more`, no token position of
/// theirs. `next` tokens are bound to the collection, the endpoint and the filters, so a
/// token cannot be replayed on another collection or query.
async fn page(
    state: &AppState,
    access: &CollectionAccess,
    endpoint: &str,
    q: &Query,
) -> Result<Listing, ApiError> {
    let scope = format!(
        "{}/{}|{endpoint}|{:?}",
        access.collection.api_root, access.collection.id, q.filter
    );
    let mut after = q
        .next
        .as_deref()
        .map(|t| paging::decode(&state.paging_key, &scope, t))
        .transpose()?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let (source, release) = access.release(state).await?;
    let mut items = Vec::new();
    // One more than the page, so that one read usually tells whether there is more; the
    // reads that follow skip withheld objects in growing batches.
    let mut batch = limit + 1;
    let more = 'read: loop {
        let request = PageRequest {
            limit: batch,
            after,
        };
        let read = state
            .node
            .store()
            .objects(&source, &q.filter, &request)
            .await?;
        for o in read.items {
            if let Some(o) = released(state, &release, o) {
                if items.len() == limit {
                    break 'read true;
                }
                items.push(o);
            }
        }
        match read.next {
            Some(cursor) => after = Some(cursor),
            None => break false,
        }
        batch = (batch * 2).min(MAX_LIMIT);
    };
    state
        .metrics
        .released(release.channel(), items.len() as u64);
    let next = if more {
        items.last().map(StoredObject::cursor)
    } else {
        None
    };
    Ok(Listing {
        page: Page { items, next },
        scope,
    })
}

/// The object as the sharing policy lets it out (withheld properties removed), or `None`
/// when it is withheld, counted by the rule that withheld it.
fn released(state: &AppState, release: &Release, mut o: StoredObject) -> Option<StoredObject> {
    match release.object(&o.json) {
        Released::Allowed(Cow::Borrowed(_)) => {}
        Released::Allowed(Cow::Owned(json)) => o.json = json,
        Released::Denied(denial) => {
            state.metrics.denied(release.channel(), denial.rule);
            return None;
        }
    }
    Some(o)
}

/// Renders an envelope-like body: `{"more":…,"next":…,"<key>":[items]}` plus the
/// `X-TAXII-Date-Added-First/Last` headers.
fn paged_response(
    state: &AppState,
    Listing { page, scope }: &Listing,
    key: &str,
    item: impl Fn(&StoredObject, &mut String),
) -> Response {
    let mut body =
        String::with_capacity(64 + page.items.iter().map(|o| o.json.len() + 1).sum::<usize>());
    body.push_str("{\"more\":");
    body.push_str(if page.next.is_some() { "true" } else { "false" });
    if let Some(cursor) = page.next {
        body.push_str(",\"next\":\"");
        body.push_str(&paging::encode(&state.paging_key, scope, cursor));
        body.push('"');
    }
    if !page.items.is_empty() {
        body.push_str(",\"");
        body.push_str(key);
        body.push_str("\":[");
        for (i, o) in page.items.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            item(o, &mut body);
        }
        body.push(']');
    }
    body.push('}');
    let mut response = taxii_json(body);
    if let (Some(first), Some(last)) = (page.items.first(), page.items.last()) {
        let headers = response.headers_mut();
        for (name, us) in [
            ("x-taxii-date-added-first", first.date_added),
            ("x-taxii-date-added-last", last.date_added),
        ] {
            if let Ok(v) = HeaderValue::from_str(&format_us(us)) {
                headers.insert(name, v);
            }
        }
    }
    response
}

/// The TAXII version of a stored object: `modified`, else `created`, else `date_added`.
pub(crate) fn version_of(o: &StoredObject) -> String {
    if o.version.is_empty() {
        format_us(o.date_added)
    } else {
        o.version.clone()
    }
}

fn push_json_string(out: &mut String, s: &str) {
    out.push_str(&Value::String(s.to_owned()).to_string());
}

/// GET `…/objects/`.
pub async fn get_objects(
    State(state): State<AppState>,
    access: CollectionAccess,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = query::parse(raw.as_deref(), Endpoint::Objects, VersionFilter::last())?;
    let listing = page(&state, &access, "objects", &q).await?;
    Ok(paged_response(&state, &listing, "objects", |o, out| {
        out.push_str(&o.json)
    }))
}

/// GET `…/manifest/`.
pub async fn manifest(
    State(state): State<AppState>,
    access: CollectionAccess,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = query::parse(raw.as_deref(), Endpoint::Objects, VersionFilter::last())?;
    let listing = page(&state, &access, "manifest", &q).await?;
    Ok(paged_response(&state, &listing, "objects", |o, out| {
        out.push_str("{\"id\":");
        push_json_string(out, &o.id);
        out.push_str(",\"date_added\":\"");
        out.push_str(&format_us(o.date_added));
        out.push_str("\",\"version\":");
        push_json_string(out, &version_of(o));
        out.push_str(",\"media_type\":\"application/stix+json;version=");
        out.push_str(&o.spec_version);
        out.push_str("\"}");
    }))
}

fn object_id(id: &str) -> Result<(), ApiError> {
    if is_stix_id(id) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{:?} is not a STIX identifier (type--UUID)",
            id.chars().take(80).collect::<String>()
        )))
    }
}

/// The listing of one object's versions for `…/objects/{id}/` and its `versions/`;
/// 404 when nothing matches on a first page.
async fn one_object(
    state: &AppState,
    access: &CollectionAccess,
    id: &str,
    raw: Option<&str>,
    endpoint: Endpoint,
    default_versions: VersionFilter,
) -> Result<Listing, ApiError> {
    object_id(id)?;
    let mut q = query::parse(raw, endpoint, default_versions)?;
    q.filter.ids = vec![id.to_owned()];
    let listing = page(state, access, endpoint.name(), &q).await?;
    if listing.page.items.is_empty() && q.next.is_none() {
        return Err(ApiError::not_found(format!(
            "no object {id} matching the filters in this collection"
        )));
    }
    Ok(listing)
}

/// GET `…/objects/{id}/`.
pub async fn get_object(
    State(state): State<AppState>,
    access: CollectionAccess,
    Path((_, _, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let listing = one_object(
        &state,
        &access,
        &id,
        raw.as_deref(),
        Endpoint::Object,
        VersionFilter::last(),
    )
    .await?;
    Ok(paged_response(&state, &listing, "objects", |o, out| {
        out.push_str(&o.json)
    }))
}

/// GET `…/objects/{id}/versions/`.
pub async fn versions(
    State(state): State<AppState>,
    access: CollectionAccess,
    Path((_, _, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let listing = one_object(
        &state,
        &access,
        &id,
        raw.as_deref(),
        Endpoint::Versions,
        VersionFilter::all(),
    )
    .await?;
    Ok(paged_response(&state, &listing, "versions", |o, out| {
        push_json_string(out, &version_of(o))
    }))
}

/// A page of the objects `raw` (a TAXII query string) selects, released to the caller
/// exactly as GET `…/objects/` releases them, with the token of the next page: what the
/// web UI lists.
pub(crate) async fn readable_page(
    state: &AppState,
    access: &CollectionAccess,
    raw: &str,
) -> Result<(Vec<StoredObject>, Option<String>), ApiError> {
    let q = query::parse(Some(raw), Endpoint::Objects, VersionFilter::last())?;
    let Listing { page, scope } = page(state, access, "objects", &q).await?;
    let next = page
        .next
        .map(|cursor| paging::encode(&state.paging_key, &scope, cursor));
    Ok((page.items, next))
}

/// Every version of object `id` the caller may read, oldest first, released as GET
/// `…/objects/{id}/?match[version]=all` releases them; 404 when there is none: what the
/// web UI shows of one object.
pub(crate) async fn readable_versions(
    state: &AppState,
    access: &CollectionAccess,
    id: &str,
) -> Result<Vec<StoredObject>, ApiError> {
    let listing = one_object(
        state,
        access,
        id,
        Some("match[version]=all"),
        Endpoint::Object,
        VersionFilter::all(),
    )
    .await?;
    Ok(listing.page.items)
}

/// DELETE `…/objects/{id}/`.
pub async fn delete_object(
    State(state): State<AppState>,
    access: CollectionAccess,
    Path((_, _, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    object_id(&id)?;
    let q = query::parse(raw.as_deref(), Endpoint::DeleteObject, VersionFilter::all())?;
    let deleted = state
        .node
        .store()
        .delete_object(&access.collection.key(), &id, &q.filter)
        .await?;
    if deleted == 0 {
        return Err(ApiError::not_found(format!(
            "no object {id} matching the filters in this collection"
        )));
    }
    tracing::info!(user = %access.caller.name(), object = %id, versions = deleted, "object deleted");
    Ok(StatusCode::OK.into_response())
}

/// Renders a status resource as TAXII 2.1 defines it.
pub fn status_json(s: &Status) -> Value {
    json!({
        "id": s.id,
        "status": s.status,
        "request_timestamp": s.request_timestamp,
        "total_count": s.successes.len() + s.failures.len() + s.pendings.len(),
        "success_count": s.successes.len(),
        "successes": s.successes,
        "failure_count": s.failures.len(),
        "failures": s.failures,
        "pending_count": s.pendings.len(),
        "pendings": s.pendings,
    })
}

/// Parses an envelope and examines each object: the ones to store, and the refusals.
fn examine_all(bytes: &[u8]) -> Result<(Vec<Examined>, Vec<StatusDetail>), ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::bad_request(
            "the body must be a TAXII envelope: a JSON object with an `objects` list",
        ));
    }
    let envelope: Envelope = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not a TAXII envelope: {e}")))?;
    if envelope.objects.is_empty() {
        return Err(ApiError::unprocessable(
            "the envelope holds no objects to add",
        ));
    }
    let mut failures = Vec::new();
    let mut candidates = Vec::with_capacity(envelope.objects.len());
    for (position, raw) in envelope.objects.iter().enumerate() {
        match intake::examine(position, raw) {
            Ok(obj) => candidates.push(obj),
            Err(refusal) if refusal.unparsable => {
                return Err(ApiError::bad_request(format!(
                    "object #{position} cannot be read: {}",
                    refusal.message()
                )))
            }
            Err(refusal) => failures.push(refusal.into()),
        }
    }
    Ok((candidates, failures))
}

/// POST `…/objects/`: validates each object, stores the valid ones durably in one
/// transaction, and answers 202 with a complete status listing each outcome.
pub async fn add_objects(
    State(state): State<AppState>,
    access: CollectionAccess,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    query::none(raw.as_deref())?;
    require_taxii_content(&headers)?;
    let root = state
        .node
        .store()
        .api_root(&access.collection.api_root)
        .await?
        .ok_or_else(|| ApiError::not_found("API root"))?;
    let limit = root.max_content_length as usize;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        ApiError::too_large(format!(
            "the body exceeds this API root's max_content_length of {limit} bytes"
        ))
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let bytes = to_bytes(body, limit).await.map_err(|_| too_large())?;
    let request_timestamp = objects::request_timestamp();
    let node = state.node.clone();
    let (prepared, failures) = tokio::task::spawn_blocking(move || {
        let (examined, failures) = examine_all(&bytes)?;
        let prepared = objects::prepare(node.log(), examined)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok::<_, ApiError>((prepared, failures))
    })
    .await
    .map_err(|_| ApiError::internal())??;
    let Posted { status, sharing } = objects::post(
        &state.node,
        &access.collection,
        prepared,
        failures,
        access.caller.name(),
        request_timestamp,
    )
    .await?;
    match sharing {
        Sharing::Queued(queued) => {
            state.metrics.withheld(&queued.withheld);
            if queued.objects > 0 {
                tracing::debug!(objects = queued.objects, "queued for peers");
            }
        }
        Sharing::Failed(why) => {
            tracing::error!(collection = %access.collection.id, error = %why, "objects stored but not queued for peers")
        }
        Sharing::NotFederated => {}
    }
    tracing::info!(
        user = %access.caller.name(),
        collection = %access.collection.id,
        added = status.successes.len(),
        refused = status.failures.len(),
        "objects posted"
    );
    let mut response = taxii_json(status_json(&status).to_string());
    *response.status_mut() = StatusCode::ACCEPTED;
    Ok(response)
}
