//! `GET /api/v1/sightings[?indicator=ID]`: the sightings members sent back about objects
//! this node originated, counted per sighted object and member, for a local user: only
//! the collections "Sightings from <member>" the user may read, and only the sightings the
//! sharing policy lets the user read there (as a TAXII read of that collection would).

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use comity_node::federation::sighting::{received, sighting_collections};
use comity_node::release::Released;
use serde_json::json;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::{ApiRoute, AppState};

pub(crate) fn routes() -> Vec<ApiRoute> {
    vec![ApiRoute::get("/api/v1/sightings", list_sightings)]
}

/// The sighted object asked for: none, or `indicator=<STIX id>`.
fn target(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(raw) = raw.filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    let id = raw.strip_prefix("indicator=").ok_or_else(|| {
        ApiError::bad_request("the query may only be indicator=<the sighted object's STIX id>")
    })?;
    if !comity_stix::is_identifier(id) {
        return Err(ApiError::bad_request(format!(
            "{id:?} is not a STIX identifier"
        )));
    }
    Ok(Some(id.to_owned()))
}

async fn list_sightings(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.user()?;
    let target = target(raw.as_deref())?;
    let store = state.node.store();
    let mut readable = Vec::new();
    let mut releases = HashMap::new();
    for (c, release) in caller
        .readable(&state, sighting_collections(store).await?)
        .await?
    {
        releases.insert(c.id.clone(), release);
        readable.push(c);
    }
    let seen = received(store, &readable, target.as_deref(), |c, json| {
        releases
            .get(&c.id)
            .is_some_and(|r| matches!(r.object(json), Released::Allowed(_)))
    })
    .await?;
    Ok(Json(json!({ "sightings": seen })).into_response())
}
