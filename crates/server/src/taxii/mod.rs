//! The TAXII 2.1 endpoints: discovery, API roots, collections, objects, manifests,
//! versions and statuses. Handlers parse, rely on the [`crate::auth`] extractors for
//! authorisation, call the store, and render; errors are [`ApiError`]s.

pub(crate) mod objects;
mod paging;
mod query;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use comity_store::{Role, Status};
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::media::{self, TAXII_MEDIA_TYPE};
use crate::AppState;

/// The TAXII routes, mounted under `/taxii2/`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/taxii2/", get(discovery))
        .route("/taxii2/{root}/", get(api_root))
        .route("/taxii2/{root}/collections/", get(collections))
        .route("/taxii2/{root}/collections/{collection}/", get(collection))
        .route(
            "/taxii2/{root}/collections/{collection}/objects/",
            get(objects::get_objects).post(objects::add_objects),
        )
        .route(
            "/taxii2/{root}/collections/{collection}/manifest/",
            get(objects::manifest),
        )
        .route(
            "/taxii2/{root}/collections/{collection}/objects/{object}/",
            get(objects::get_object).delete(objects::delete_object),
        )
        .route(
            "/taxii2/{root}/collections/{collection}/objects/{object}/versions/",
            get(objects::versions),
        )
        .route("/taxii2/{root}/status/{status}/", get(status))
        .layer(middleware::from_fn(media::negotiate))
}

/// A 200 response with a TAXII JSON body.
pub(crate) fn taxii_json(body: String) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TAXII_MEDIA_TYPE),
    );
    r
}

fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn discovery(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    query::none(raw.as_deref())?;
    let base = base_url(&state, &headers);
    let roots = state.node.store().api_roots().await?;
    let urls: Vec<String> = roots
        .iter()
        .map(|r| format!("{base}/taxii2/{}/", r.name))
        .collect();
    let mut body = json!({
        "title": state.title,
        "description": "A Comity node: STIX 2.1 intelligence shared between sovereign authorities.",
        "api_roots": urls,
    });
    if let Some(first) = urls.first() {
        body["default"] = Value::String(first.clone());
    }
    Ok(taxii_json(body.to_string()))
}

async fn api_root(
    State(state): State<AppState>,
    _caller: Caller,
    Path(root): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    query::none(raw.as_deref())?;
    let root = state
        .node
        .store()
        .api_root(&root)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no API root {root:?}")))?;
    let mut body = json!({
        "title": root.title,
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": root.max_content_length,
    });
    if let Some(d) = root.description {
        body["description"] = Value::String(d);
    }
    Ok(taxii_json(body.to_string()))
}

fn collection_json(c: &comity_store::Collection, read: bool, write: bool) -> Value {
    let mut v = json!({
        "id": c.id,
        "title": c.title,
        "can_read": read,
        "can_write": write,
        "media_types": ["application/stix+json;version=2.1"],
    });
    if let Some(d) = &c.description {
        v["description"] = Value::String(d.clone());
    }
    v
}

async fn collections(
    State(state): State<AppState>,
    caller: Caller,
    Path(root): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    query::none(raw.as_deref())?;
    if state.node.store().api_root(&root).await?.is_none() {
        return Err(ApiError::not_found(format!("no API root {root:?}")));
    }
    let mut visible = Vec::new();
    for c in state.node.store().collections(&root).await? {
        let access = caller.access(state.node.view(), &c).await?;
        if access.read || access.write {
            visible.push(collection_json(&c, access.read, access.write));
        }
    }
    let body = if visible.is_empty() {
        json!({})
    } else {
        json!({ "collections": visible })
    };
    Ok(taxii_json(body.to_string()))
}

async fn collection(
    State(state): State<AppState>,
    caller: Caller,
    Path((root, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    query::none(raw.as_deref())?;
    let hidden = || ApiError::not_found(format!("no collection {id:?} in API root {root:?}"));
    let c = state
        .node
        .view()
        .collection(&root, &id)
        .await?
        .ok_or_else(hidden)?;
    let access = caller.access_cached(state.node.view(), &c).await?;
    if !access.read && !access.write {
        return Err(hidden());
    }
    Ok(taxii_json(
        collection_json(&c.collection, access.read, access.write).to_string(),
    ))
}

/// GET `…/status/{id}/`: only for the user who posted the request and for admins; anyone
/// else gets the same 404 as for a status that does not exist, since a status lists the
/// ids of the objects posted.
async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path((root, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (name, role) = caller.user()?;
    query::none(raw.as_deref())?;
    let readable = |s: &Status| role == Role::Admin || s.poster.as_deref() == Some(name);
    let status = state
        .node
        .store()
        .status(&root, &id)
        .await?
        .filter(readable)
        .ok_or_else(|| ApiError::not_found(format!("no status {id:?} in API root {root:?}")))?;
    Ok(taxii_json(objects::status_json(&status).to_string()))
}
