//! Federation over HTTP: the inbox at `POST /federation/v1/inbox` (authenticated by the
//! request's signature, then the envelope's, never by a password) and the sender, a background task that
//! delivers each peer's outbox in sequence order with exponential backoff and jitter,
//! verifying every receipt with the peer's pinned key before marking an envelope delivered.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use comity_node::federation::envelope::{Kind, Receipt, Signed};
use comity_node::federation::inbox::{Answer, Inbox, InboxError};
use comity_node::federation::{plan, pull, request_signature, sighting};
use comity_node::identity::PublicKey;
use comity_node::registry::Directory;
use comity_stix::clock::now_us;
use comity_store::OutboxEntry;
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::inbox_gate::Refused;
use crate::AppState;

/// Envelopes sent per peer per round before the sender looks at other peers.
const BATCH: usize = 16;
/// How often the node pulls what its peers queued for it (catch-up after an outage).
const PULL_EVERY: Duration = Duration::from_secs(30);
/// Longest wait between two attempts at one envelope.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(INBOX_PATH, post(inbox))
        .route("/federation/v1/outbox", get(outbox))
}

/// The scheme of the `Authorization` header that carries a signed pull request.
pub const PULL_SCHEME: &str = "Comity-Envelope";

/// GET `/federation/v1/outbox?after=SEQ`: what this node queued for the asking member
/// after SEQ, at most 100 envelopes, each signed. The member proves who it is with a fresh
/// `pull` envelope, base64 in `Authorization: Comity-Envelope <…>`.
async fn outbox(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    use base64::Engine as _;
    let log = state.node.log();
    let after: u64 = raw
        .as_deref()
        .and_then(|q| q.strip_prefix("after="))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            ApiError::bad_request("the query must be exactly after=<sequence number>")
        })?;
    let request = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix(PULL_SCHEME))
        .and_then(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
        })
        .ok_or_else(|| {
            ApiError::unauthorized(format!(
                "a pull needs `Authorization: {PULL_SCHEME} <base64 of a signed pull envelope>`"
            ))
        })?;
    let registry = Directory::new(state.node.store());
    let local = registry
        .local_member()
        .await
        .map_err(crate::auth::registry_error)?
        .ok_or_else(|| ApiError::unavailable("this node has no member record"))?;
    let pull::PullRequest {
        member: peer,
        after: asked,
    } = match pull::verify(state.node.store(), &local.id.0, &request).await {
        Ok(v) => v,
        Err(pull::PullError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(ApiError::unauthorized(e.to_string())),
    };
    if asked != after {
        return Err(ApiError::bad_request(format!(
            "the signed request asks for after={asked}, the query for after={after}"
        )));
    }
    let (envelopes, more, withheld) = match pull::answer(
        state.node.store(),
        &local.id.0,
        log.node_key(),
        &peer,
        after,
    )
    .await
    {
        Ok(v) => v,
        Err(pull::PullError::Store(e)) => return Err(e.into()),
        Err(e) => {
            tracing::error!(error = %e, "pull failed");
            return Err(ApiError::internal());
        }
    };
    state.metrics.withheld(&withheld);
    let mut body = String::from("{\"more\":");
    body.push_str(if more { "true" } else { "false" });
    body.push_str(",\"envelopes\":[");
    for (i, e) in envelopes.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&e.to_json());
    }
    body.push_str("]}");
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Pulls from every peer with an endpoint what it queued for this node after the last
/// envelope recorded from it, and applies it through the inbox in order.
async fn pull_all(state: &AppState, client: &reqwest::Client) -> Result<(), String> {
    use base64::Engine as _;
    let log = state.node.log();
    let store = state.node.store();
    let registry = Directory::new(store);
    let Some(local) = registry.local_member().await.map_err(|e| e.to_string())? else {
        return Ok(());
    };
    for member in registry.members().await.map_err(|e| e.to_string())? {
        let Some(endpoint) = member
            .record
            .endpoint
            .as_deref()
            .filter(|_| !member.record.local)
        else {
            continue;
        };
        loop {
            let after = store
                .inbox_last_seq(&member.id.0)
                .await
                .map_err(|e| e.to_string())?;
            let request = pull::request(&local.id.0, &member.id.0, after, log.node_key());
            let header = base64::engine::general_purpose::STANDARD.encode(request.to_json());
            let url = format!(
                "{}/federation/v1/outbox?after={after}",
                endpoint.trim_end_matches('/')
            );
            let response = client
                .get(&url)
                .header("Authorization", format!("{PULL_SCHEME} {header}"))
                .send()
                .await
                .map_err(|e| format!("cannot reach {url}: {e}"))?;
            if !response.status().is_success() {
                return Err(format!("{url} answered {}", response.status()));
            }
            #[derive(serde::Deserialize)]
            struct Pulled {
                more: bool,
                envelopes: Vec<Box<serde_json::value::RawValue>>,
            }
            let answer: Pulled = response.json().await.map_err(|e| format!("{url}: {e}"))?;
            let inbox = Inbox::new(store, log)
                .with_quotas(state.inbox.quotas())
                .with_registry_state(state.node.registry_state());
            for envelope in &answer.envelopes {
                match inbox.receive(&member.id.0, envelope.get().as_bytes()).await {
                    Ok(Answer::Delivered(_)) | Ok(Answer::Refused(_)) | Ok(Answer::Witness(_)) => {}
                    Ok(Answer::OverQuota { retry_after, .. }) => {
                        return Err(format!(
                        "{url}: over the quota of {}; pulling again in {retry_after} s or later",
                        member.id.0
                    ))
                    }
                    Ok(Answer::Rejected(why)) => return Err(format!("{url}: {why}")),
                    Ok(Answer::OutOfOrder { expected }) => {
                        return Err(format!("{url} skipped envelopes: expected {expected}"))
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
            if !answer.more || answer.envelopes.is_empty() {
                break;
            }
        }
    }
    Ok(())
}

fn envelope_response(status: StatusCode, signed: &Signed) -> Response {
    let mut response = (status, signed.to_json()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The path of the inbox, as requests sign it.
pub const INBOX_PATH: &str = "/federation/v1/inbox";

/// POST `/federation/v1/inbox`: one signed envelope in, one signed receipt out (200
/// delivered, 422 refused, 429 over the sender's quota), or 409 when an earlier envelope of
/// the sender is missing. The request must be signed by a registered, active member (see
/// [`crate::inbox_gate`]); anything else gets a small unsigned error before its body is
/// read, and an envelope that is not the signing member's gets an unsigned 400.
async fn inbox(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<Response, Refused> {
    let log = state.node.log();
    let gate = &state.inbox;
    let signature = gate
        .authenticate(state.node.store(), &headers, INBOX_PATH)
        .await?;
    let _admitted = gate.admit(&signature.sender)?;
    let bytes = gate.read_body(&headers, body, &signature).await?;
    let answer = Inbox::new(state.node.store(), log)
        .with_quotas(gate.quotas())
        .with_registry_state(state.node.registry_state())
        .receive(&signature.sender, &bytes)
        .await;
    match answer {
        Ok(Answer::Delivered(receipt)) => Ok(envelope_response(StatusCode::OK, &receipt)),
        Ok(Answer::Refused(receipt)) => {
            state.metrics.envelope_refused();
            Ok(envelope_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                &receipt,
            ))
        }
        Ok(Answer::OverQuota {
            receipt,
            retry_after,
        }) => {
            state.metrics.envelope_refused();
            let mut response = envelope_response(StatusCode::TOO_MANY_REQUESTS, &receipt);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            Ok(response)
        }
        Ok(Answer::Witness(witnessed)) => {
            if let Some(kind) = witnessed.alert {
                state.metrics.witness_alert(kind);
            }
            let status =
                StatusCode::from_u16(witnessed.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            Ok(envelope_response(status, &witnessed.answer))
        }
        Ok(Answer::Rejected(why)) => Err(ApiError::bad_request(why.to_string()).into()),
        Ok(Answer::OutOfOrder { expected }) => Err(ApiError::conflict(format!(
            "an earlier envelope is missing: this node expects sequence number {expected} next"
        ))
        .into()),
        Err(InboxError::Store(e)) => Err(ApiError::from(e).into()),
        Err(e) => {
            tracing::error!(error = %e, "inbox failure");
            Err(ApiError::unavailable("the inbox cannot apply envelopes right now; retry").into())
        }
    }
}

/// Starts the sender (which also pulls from peers every 30 s); it runs until aborted.
pub fn spawn_sender(state: &AppState) -> Option<JoinHandle<()>> {
    let state = state.clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .ok()?;
    Some(tokio::spawn(async move {
        // Children are aborted with this task: the JoinSet is dropped with it.
        let mut tasks = tokio::task::JoinSet::new();
        let (puller_state, puller_client) = (state.clone(), client.clone());
        tasks.spawn(async move {
            loop {
                if let Err(e) = pull_all(&puller_state, &puller_client).await {
                    tracing::info!(error = %e, "catch-up pull failed");
                }
                tokio::time::sleep(PULL_EVERY).await;
            }
        });
        // Each peer is delivered to by a task of its own, so a slow or silent peer holds
        // up nobody else; a peer has at most one such task at a time.
        let in_flight = Arc::new(Mutex::new(HashSet::<String>::new()));
        loop {
            let woken = state.node.outbox_queued();
            while tasks.try_join_next().is_some() {}
            if let Err(e) = start_due(&state, &client, &in_flight, &mut tasks).await {
                tracing::warn!(error = %e, "delivery round failed");
            }
            tokio::select! {
                _ = woken => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }))
}

/// Starts a delivery task for every peer with due envelopes that has none running.
async fn start_due(
    state: &AppState,
    client: &reqwest::Client,
    in_flight: &Arc<Mutex<HashSet<String>>>,
    tasks: &mut tokio::task::JoinSet<()>,
) -> Result<(), String> {
    let store = state.node.store();
    for peer in store.outbox_peers().await.map_err(|e| e.to_string())? {
        if !in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(peer.clone())
        {
            continue;
        }
        let (state, client, in_flight) = (state.clone(), client.clone(), in_flight.clone());
        tasks.spawn(async move {
            if let Err(e) = deliver_peer(&state, &client, &peer).await {
                tracing::warn!(peer = %peer, error = %e, "delivery failed");
            }
            in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&peer);
        });
    }
    Ok(())
}

/// Delivers one peer's due envelopes in sequence order until none is due or one fails.
/// What leaves is decided again now: a suspended member gets nothing (its envelopes wait),
/// and objects no agreement in force covers any more are taken out of the envelope.
async fn deliver_peer(
    state: &AppState,
    client: &reqwest::Client,
    peer: &str,
) -> Result<(), String> {
    let store = state.node.store();
    let registry = Directory::new(store);
    let federation = registry.federation().await.map_err(|e| e.to_string())?;
    let Some(local) = federation.local.clone() else {
        return Ok(());
    };
    let Some(member) = registry.member(peer).await.map_err(|e| e.to_string())? else {
        return Ok(());
    };
    if member.status == comity_node::policy::MemberStatus::Suspended {
        return Ok(());
    }
    let (Some(endpoint), Ok(key)) = (
        member.record.endpoint.clone(),
        member.record.public_key.parse::<PublicKey>(),
    ) else {
        return Ok(());
    };
    // The receipt of one envelope is recorded while the next one is sent: the peer has
    // applied the first already (it answers only then), and should this node stop before
    // the record is written, the envelope goes again and the peer answers it with the
    // receipt it recorded. Records are written in sequence order, each finished before the
    // outbox is read again or a failure is recorded.
    let mut recording: Option<Recording> = None;
    loop {
        if let Some(previous) = recording.take() {
            previous.await?;
        }
        let due = store
            .outbox_due(peer, now_us(), BATCH)
            .await
            .map_err(|e| e.to_string())?;
        if due.is_empty() {
            return Ok(());
        }
        for mut entry in due {
            // Objects and sightings leave only as the policy decides now.
            let decided = if entry.kind == Kind::StixObjects.as_str() {
                let mut withheld = plan::Withheld::default();
                let body = plan::still_allowed(
                    &federation,
                    peer,
                    entry.created_at,
                    &entry.body,
                    &mut withheld,
                );
                state.metrics.withheld(&withheld);
                Some(body)
            } else if entry.kind == Kind::Sighting.as_str() {
                Some(sighting::still_allowed(
                    &federation,
                    peer,
                    entry.created_at,
                    &entry.body,
                ))
            } else {
                None
            };
            match decided {
                Some(Ok(body)) => entry.body = body,
                Some(Err(e)) => {
                    if let Some(previous) = recording.take() {
                        previous.await?;
                    }
                    return Err(e);
                }
                None => {}
            }
            let sending = send(client, &local.0, &endpoint, &key, &entry, state);
            let sent = match recording.take() {
                Some(previous) => {
                    let (sent, recorded) = tokio::join!(sending, previous);
                    recorded?;
                    sent
                }
                None => sending.await,
            };
            match sent {
                Ok(receipt) => recording = Some(record(state, &entry, receipt)),
                Err(why) => {
                    let wait = backoff(entry.attempts);
                    tracing::info!(peer = %peer, seq = entry.seq, error = %why, retry_in_ms = wait.as_millis() as u64, "delivery failed");
                    store
                        .outbox_failed(peer, entry.seq, &why, now_us() + wait.as_micros() as i64)
                        .await
                        .map_err(|e| e.to_string())?;
                    return Ok(());
                }
            }
        }
    }
}

/// The write of a verified receipt, to be awaited (it starts when first polled).
type Recording = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// Records `receipt` (verified, received now) as the answer to `entry`.
fn record(state: &AppState, entry: &OutboxEntry, receipt: Signed) -> Recording {
    let (store, peer, seq, at) = (
        state.node.store_arc(),
        entry.peer.clone(),
        entry.seq,
        now_us(),
    );
    Box::pin(async move {
        store
            .outbox_delivered(&peer, seq, at, &receipt.to_json())
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

/// Exponential backoff from one second, capped, with ±25 % jitter.
fn backoff(attempts: u32) -> Duration {
    use rand::Rng as _;
    let base = Duration::from_secs(1u64 << attempts.min(9)).min(MAX_BACKOFF);
    base.mul_f64(rand::thread_rng().gen_range(0.75..1.25))
}

/// The inbox URL of a peer at `endpoint`.
pub(crate) fn inbox_url(endpoint: &str) -> String {
    format!("{}{INBOX_PATH}", endpoint.trim_end_matches('/'))
}

/// A POST of `envelope` (its JSON text) to the inbox at `url`, the request signed by
/// `local`'s node `key` as the inbox requires.
pub(crate) fn post_to_inbox(
    client: &reqwest::Client,
    url: &str,
    local: &str,
    key: &comity_node::identity::NodeKey,
    envelope: String,
) -> reqwest::RequestBuilder {
    let signed = request_signature::sign(
        key,
        local,
        "POST",
        INBOX_PATH,
        envelope.as_bytes(),
        now_us() / 1_000_000,
    );
    client
        .post(url)
        .header("Content-Type", "application/json")
        .header("Content-Digest", signed.content_digest)
        .header("Signature-Input", signed.signature_input)
        .header("Signature", signed.signature)
        .body(envelope)
}

/// Sends one envelope and returns the peer's receipt, verified.
async fn send(
    client: &reqwest::Client,
    local: &str,
    endpoint: &str,
    key: &PublicKey,
    entry: &OutboxEntry,
    state: &AppState,
) -> Result<Signed, String> {
    let log = state.node.log();
    let envelope = pull::outbox_envelope(entry, local, log.node_key())?;
    let url = inbox_url(endpoint);
    let response = post_to_inbox(client, &url, local, log.node_key(), envelope.to_json())
        .send()
        .await
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("broken answer from {url}: {e}"))?;
    if status != reqwest::StatusCode::OK && status != reqwest::StatusCode::UNPROCESSABLE_ENTITY {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
        return Err(format!("{url} answered {status}: {text}"));
    }
    let receipt = Signed::parse(&bytes).map_err(|e| format!("receipt from {url}: {e}"))?;
    receipt
        .verify(key)
        .map_err(|e| format!("receipt from {url}: {e}"))?;
    let body: Receipt = serde_json::from_str(receipt.envelope.body.get())
        .map_err(|e| format!("receipt from {url}: {e}"))?;
    if receipt.envelope.kind != Kind::Receipt
        || receipt.envelope.from != entry.peer
        || body.envelope != entry.id
    {
        return Err(format!("{url} answered with a receipt for something else"));
    }
    if body.outcome == "refused" {
        tracing::warn!(peer = %entry.peer, seq = entry.seq, reason = ?body.reason, "envelope refused by the peer");
    } else if !body.refused.is_empty() {
        tracing::warn!(peer = %entry.peer, seq = entry.seq, refused = body.refused.len(), "objects refused by the peer");
    }
    Ok(receipt)
}
