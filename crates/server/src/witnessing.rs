//! Witnessing over HTTP: the node's witnessing task
//! (`comity_node::federation::witnesser`) submits this node's latest checkpoint to each
//! active peer over [`HttpTransport`]; what is checked and kept lives in
//! `comity_node::federation::witnessing`. This module starts it, counts outcomes in
//! `/metrics`, and shows admins the alerts at `GET /api/v1/witness/alerts`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::Json;
use comity_node::federation::witnesser::Witnesser;
use comity_node::federation::witnessing::Outcome;
use comity_node::federation::DeliveryError;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::federation::HttpTransport;
use crate::{ApiRoute, AppState};
use comity_stix::clock::format_us;

pub(crate) fn routes() -> Vec<ApiRoute> {
    vec![ApiRoute::get("/api/v1/witness/alerts", alerts)]
}

/// GET `/api/v1/witness/alerts` (admins): every alert raised while witnessing, oldest
/// first, with its evidence (both signed notes and the proof).
async fn alerts(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.admin()?;
    let alerts = state
        .node
        .store()
        .transparency_log()
        .witness_alerts()
        .await?;
    let items: Vec<Value> = alerts
        .into_iter()
        .map(|a| {
            json!({
                "id": a.id,
                "at": format_us(a.at),
                "peer": a.peer,
                "kind": a.kind,
                "detail": a.detail,
                "ours": a.ours,
                "theirs": a.theirs,
                "proof": a.proof,
                "digest": a.digest,
            })
        })
        .collect();
    Ok(Json(json!({ "alerts": items })))
}

/// How often checkpoints are submitted when `comity.toml` says nothing.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(60);

/// Starts the node's witnessing task over HTTP; it runs until aborted.
pub fn spawn(state: &AppState) -> Option<JoinHandle<()>> {
    let transport = HttpTransport::for_state(state, Duration::from_secs(30))?;
    Some(witnesser(state, transport).spawn())
}

/// One round: every active peer with an endpoint and a key is sent the latest checkpoint
/// (unless it cosigned it recently); returns what came of each submission.
pub async fn round(
    state: &AppState,
    client: &reqwest::Client,
) -> Vec<(String, Result<Outcome, DeliveryError>)> {
    witnesser(state, HttpTransport::with_client(client.clone()))
        .round()
        .await
}

/// The node's witnessing over `transport`, counting cosignatures and new alerts in
/// `/metrics`.
fn witnesser(state: &AppState, transport: HttpTransport) -> Witnesser {
    let metrics = state.metrics.clone();
    Witnesser::new(state.node.clone(), Arc::new(transport), state.witness_every).on_outcome(
        move |peer, outcome| match outcome {
            Outcome::Cosigned { .. } => metrics.cosignature(peer),
            Outcome::Alert { kind, new: true } => metrics.witness_alert(kind),
            _ => {}
        },
    )
}
