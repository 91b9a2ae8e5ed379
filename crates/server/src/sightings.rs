//! `GET /api/v1/sightings[?indicator=ID][&window=day|week|month]`: the sightings members
//! sent back about objects this node originated, counted per sighted object and member (and
//! per time window when asked), for a local user: only
//! the collections "Sightings from <member>" the user may read, and only the sightings the
//! sharing policy lets the user read there (as a TAXII read of that collection would).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use comity_node::federation::sighting::{received, sighting_collections, Window};
use comity_node::release::Released;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::{ApiRoute, AppState};

pub(crate) fn routes() -> Vec<ApiRoute> {
    vec![ApiRoute::get("/api/v1/sightings", list_sightings)]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SightingsQuery {
    /// Only the sightings of this object.
    indicator: Option<String>,
    /// Counts per day, week or month too.
    window: Option<Window>,
}

async fn list_sightings(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<SightingsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.user()?;
    let Query(q) = query?;
    if let Some(id) = q
        .indicator
        .as_deref()
        .filter(|id| !comity_stix::is_identifier(id))
    {
        return Err(ApiError::bad_request(format!(
            "{id:?} is not a STIX identifier"
        )));
    }
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
    let seen = received(
        store,
        &readable,
        q.indicator.as_deref(),
        q.window,
        |c, json| {
            releases
                .get(&c.id)
                .is_some_and(|r| matches!(r.object(json), Released::Allowed(_)))
        },
    )
    .await?;
    Ok(Json(json!({ "sightings": seen })).into_response())
}
