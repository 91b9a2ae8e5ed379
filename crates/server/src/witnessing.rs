//! Witnessing over HTTP: a background task that, every interval, submits this node's latest
//! checkpoint to each active peer as a signed `checkpoint` envelope posted to the peer's
//! inbox, and handles the signed `cosignature` envelope that comes back in the response.
//! The exchange is a direct request and response, not the durable outbox: a cosignature
//! is an answer, and a checkpoint that could not be delivered is superseded by the next
//! round's (see `comity_node::federation::witnessing`). What is checked and kept lives
//! there; this module only carries envelopes, counts outcomes in `/metrics`, and shows
//! admins the alerts at `GET /api/v1/witness/alerts`.

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use comity_node::federation::sender::sign_for_inbox;
use comity_node::federation::transport::PeerTransport;
use comity_node::federation::witnessing::{self, Outcome, Prepared};
use comity_node::identity::PublicKey;
use comity_node::log::log_of;
use comity_node::policy::MemberStatus;
use comity_node::registry::Directory;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::federation::HttpTransport;
use crate::AppState;
use comity_stix::clock::format_us;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/witness/alerts", get(alerts))
}

/// GET `/api/v1/witness/alerts` (admins): every alert raised while witnessing, oldest
/// first, with its evidence (both signed notes and the proof).
async fn alerts(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.admin()?;
    let alerts = log_of(state.node.store())?.witness_alerts().await?;
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

/// A peer that cosigned the latest checkpoint is sent it again after this many intervals,
/// so that its cosignature stays fresh.
const REFRESH_ROUNDS: u32 = 10;

/// Starts the witnessing task when the node has a key; it runs until aborted.
pub fn spawn(state: &AppState) -> Option<JoinHandle<()>> {
    let state = state.clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .ok()?;
    Some(tokio::spawn(async move {
        loop {
            tokio::time::sleep(state.witness_every).await;
            for (peer, outcome) in round(&state, &client).await {
                match outcome {
                    Ok(Outcome::Cosigned { size }) => {
                        tracing::debug!(peer = %peer, size, "checkpoint cosigned")
                    }
                    Ok(Outcome::Refused { status, reason }) => {
                        tracing::info!(peer = %peer, status, reason = %reason, "checkpoint not cosigned")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::info!(peer = %peer, error = %e, "witnessing failed"),
                }
            }
        }
    }))
}

/// One round: every active peer with an endpoint and a key is sent the latest checkpoint
/// (unless it cosigned it recently); returns what came of each submission.
pub async fn round(
    state: &AppState,
    client: &reqwest::Client,
) -> Vec<(String, Result<Outcome, String>)> {
    let registry = Directory::new(state.node.store());
    let local = match registry.local_member().await {
        Ok(Some(m)) => m.id.0,
        Ok(None) => return Vec::new(),
        Err(e) => return vec![(String::new(), Err(e.to_string()))],
    };
    let members = match registry.members().await {
        Ok(m) => m,
        Err(e) => return vec![(String::new(), Err(e.to_string()))],
    };
    // Each peer in a task of its own, so a slow or silent peer holds up nobody else.
    let mut tasks = tokio::task::JoinSet::new();
    for member in members {
        if member.record.local || member.status == MemberStatus::Suspended {
            continue;
        }
        let (Some(endpoint), Ok(key)) = (
            member.record.endpoint.clone(),
            member.record.public_key.parse::<PublicKey>(),
        ) else {
            continue;
        };
        let (state, client, local, peer) =
            (state.clone(), client.clone(), local.clone(), member.id.0);
        tasks.spawn(async move {
            let outcome = witness_peer(&state, &client, &local, &peer, &endpoint, &key).await;
            match &outcome {
                Ok(Some(Outcome::Cosigned { .. })) => state.metrics.cosignature(&peer),
                Ok(Some(Outcome::Alert { kind, new: true })) => state.metrics.witness_alert(kind),
                _ => {}
            }
            (peer, outcome)
        });
    }
    let mut out = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((_, Ok(None))) => {}
            Ok((peer, Ok(Some(o)))) => out.push((peer, Ok(o))),
            Ok((peer, Err(e))) => out.push((peer, Err(e))),
            Err(e) => out.push((String::new(), Err(format!("witnessing task failed: {e}")))),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Submits the latest checkpoint to one peer; after a 409, once more from the size the
/// peer knows. `None`: the peer cosigned the latest checkpoint recently, nothing was sent.
async fn witness_peer(
    state: &AppState,
    client: &reqwest::Client,
    local: &str,
    peer: &str,
    endpoint: &str,
    key: &PublicKey,
) -> Result<Option<Outcome>, String> {
    let log = state.node.log();
    let store = state.node.store();
    let refresh = state
        .witness_every
        .saturating_mul(REFRESH_ROUNDS)
        .as_micros() as i64;
    let mut old = None;
    for _ in 0..2 {
        let sub = match witnessing::prepare(store, log, local, peer, old, refresh)
            .await
            .map_err(|e| e.to_string())?
        {
            Prepared::Send(sub) => sub,
            Prepared::UpToDate => return Ok(None),
            Prepared::Alert { kind, new } => return Ok(Some(Outcome::Alert { kind, new })),
        };
        let envelope = sub.envelope.to_json();
        let signature = sign_for_inbox(log.node_key(), local, &envelope);
        let answer = HttpTransport::with_client(client.clone())
            .post_inbox(endpoint, envelope, signature)
            .await
            .map_err(|e| e.0)?;
        let (status, bytes) = (answer.status, answer.body);
        match witnessing::answered(store, log, local, key, &sub, status, &bytes).await? {
            Outcome::Retry { known_size } if old.is_none() => old = Some(known_size),
            other => return Ok(Some(other)),
        }
    }
    Ok(Some(Outcome::Refused {
        status: 409,
        reason: "the peer's known size changed twice".into(),
    }))
}
