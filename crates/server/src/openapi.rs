//! `GET /api/v1/openapi.json`: the node API's OpenAPI 3.1 document, written by hand in
//! `openapi.json` beside this file and served as it is.
//!
//! It is served without authentication: it describes the routes, their bodies and their
//! errors, and holds no data of the node (no members, no users, no requests). The
//! integration test `openapi` checks that it describes exactly the routes of
//! [`crate::api_routes`], and each of them answers as routed.

use axum::http::header;
use axum::response::IntoResponse;

use crate::ApiRoute;

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub(crate) fn routes() -> Vec<ApiRoute> {
    vec![ApiRoute::get("/api/v1/openapi.json", document)]
}

async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
