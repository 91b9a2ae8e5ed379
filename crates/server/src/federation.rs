//! Federation over HTTP: the inbox at `POST /federation/v1/inbox` (authenticated by the
//! request's signature, then the envelope's, never by a password), the outbox peers pull
//! from, and [`HttpTransport`], the [`PeerTransport`] over which the node's sender
//! (`comity_node::federation::sender`) delivers each peer's outbox and pulls from peers.

use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use comity_node::federation::envelope::Signed;
use comity_node::federation::inbox::{Answer, InboxError};
use comity_node::federation::pull;
use comity_node::federation::request_signature::SignatureHeaders;
use comity_node::federation::sender::Sender;
use comity_node::federation::transport::{
    inbox_url, keys_url, outbox_url, PeerAnswer, PeerTransport, TransportError, OUTBOX_PATH,
};
pub use comity_node::federation::transport::{INBOX_PATH, PULL_SCHEME};
use comity_node::identity::rotation::SignedKeyStatement;
use comity_node::registry::RegistryError;
use tokio::task::JoinHandle;

use crate::client_auth::{self, ClientCertificate};
use crate::error::ApiError;
use crate::inbox_gate::Refused;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(INBOX_PATH, post(inbox))
        .route(
            comity_node::federation::transport::KEYS_PATH,
            post(keys).layer(axum::extract::DefaultBodyLimit::max(MAX_KEYS_BODY)),
        )
        .route(OUTBOX_PATH, get(outbox))
        .route(
            comity_node::federation::transport::DOSSIER_PATH,
            get(crate::governance::dossier),
        )
        .route(
            comity_node::federation::transport::HISTORY_PATH,
            get(crate::governance::history_first),
        )
        .route(
            comity_node::federation::transport::HISTORY_AFTER_PATH,
            get(crate::governance::history_after),
        )
}

/// GET `/federation/v1/outbox?after=SEQ`: what this node queued for the asking member
/// after SEQ, at most 100 envelopes, each signed. The member proves who it is with a fresh
/// `pull` envelope, base64 in `Authorization: Comity-Envelope <…>`.
async fn outbox(
    State(state): State<AppState>,
    client: Option<axum::Extension<ClientCertificate>>,
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
    let registry = state.node.directory();
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
    client_auth::bound_to_member(&state, client.as_deref(), &peer).await?;
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

/// The largest body of `POST /federation/v1/keys`: 64 statements of about 600 bytes.
const MAX_KEYS_BODY: usize = 64 * 1024;

/// The body of `POST /federation/v1/keys`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyStatements {
    member: String,
    statements: Vec<SignedKeyStatement>,
}

/// POST `/federation/v1/keys`: a peer's key statements (rotations, revocations), which
/// authenticate themselves: the rotations are signed by the key this node pins for the
/// member and by the new key (see `comity_node::identity::rotation`). Taken when they
/// continue the member's pinned history: `200 {"taken": N}` (0 when held already). The
/// caller is not otherwise authenticated, so a refusal says only that (422), whether the
/// member is unknown, the statements forged or out of order; the reason is in this node's
/// log. Over mutual TLS the connection's certificate must be the member's.
async fn keys(
    State(state): State<AppState>,
    client: Option<axum::Extension<ClientCertificate>>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let parsed: KeyStatements = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be {{\"member\": ID, \"statements\": [SIGNED_KEY_STATEMENT, ...]}}: {e}"
        ))
    })?;
    client_auth::bound_to_member(&state, client.as_deref(), &parsed.member).await?;
    match state
        .node
        .registry()
        .take_key_statements(&parsed.member, &parsed.statements)
        .await
    {
        Ok(taken) => Ok(axum::Json(serde_json::json!({ "taken": taken })).into_response()),
        Err(RegistryError::Invalid(why)) => {
            tracing::info!(member = %parsed.member.escape_debug(), reason = %why, "key statements refused");
            Err(ApiError::unprocessable(
                "the key statements were not taken: they do not continue the key history this \
                 node pins for that member (the reason is in this node's log)",
            ))
        }
        Err(e) => Err(crate::auth::registry_error(e)),
    }
}

fn envelope_response(status: StatusCode, signed: &Signed) -> Response {
    let mut response = (status, signed.to_json()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// POST `/federation/v1/inbox`: one signed envelope in, one signed receipt out (200
/// delivered, 422 refused, 429 over the sender's quota), or 409 when an earlier envelope of
/// the sender is missing. The request must be signed by a registered, active member (see
/// [`crate::inbox_gate`]), over a connection whose client certificate is that member's when
/// the node requires mutual TLS ([`client_auth::bound_to_member`]); anything else gets a small unsigned error before its body is
/// read, and an envelope that is not the signing member's gets an unsigned 400.
async fn inbox(
    State(state): State<AppState>,
    client: Option<axum::Extension<ClientCertificate>>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<Response, Refused> {
    let gate = &state.inbox;
    let signature = gate
        .authenticate(state.node.store(), &headers, "POST", INBOX_PATH)
        .await?;
    client_auth::bound_to_member(&state, client.as_deref(), &signature.sender).await?;
    let _admitted = gate.admit(&signature.sender)?;
    let bytes = gate.read_body(&headers, body, &signature).await?;
    let answer = state
        .node
        .inbox()
        .with_quotas(gate.quotas())
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

/// Starts the node's sender over HTTP (it also pulls from peers every 30 s); it runs until
/// aborted.
pub fn spawn_sender(state: &AppState) -> Option<JoinHandle<()>> {
    let transport = HttpTransport::for_state(state, Duration::from_secs(60))?;
    let metrics = state.metrics.clone();
    Some(
        Sender::new(
            state.node.clone(),
            std::sync::Arc::new(transport),
            state.inbox.shared_quotas(),
        )
        .on_withheld(move |withheld| metrics.withheld(withheld))
        .spawn(),
    )
}

/// Federation over HTTP with reqwest: envelopes are POSTed to a peer's inbox with the
/// request's signature in `Content-Digest`, `Signature-Input` and `Signature`; pulls GET
/// its outbox.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: crate::tls::FederationClient,
}

impl HttpTransport {
    /// A transport whose requests give up after `timeout` (10 s to connect), verifying
    /// peers' certificates against the system's roots (see [`crate::tls::client`]).
    pub fn new(timeout: Duration) -> Option<HttpTransport> {
        crate::tls::client(&[], None, timeout)
            .ok()
            .map(HttpTransport::with_client)
    }

    /// [`HttpTransport::new`], also trusting the node's peer CAs and presenting its client
    /// certificate (the reloaded one once it is reloaded).
    pub fn for_state(state: &AppState, timeout: Duration) -> Option<HttpTransport> {
        let client = crate::tls::FederationClient::new(
            state.peer_roots.clone(),
            state.client_identity.clone(),
            timeout,
        );
        match client {
            Ok(client) => Some(HttpTransport { client }),
            Err(e) => {
                tracing::error!(error = %e, "no federation client");
                None
            }
        }
    }

    /// A transport over `client`.
    pub fn with_client(client: reqwest::Client) -> HttpTransport {
        HttpTransport {
            client: crate::tls::FederationClient::fixed(client),
        }
    }

    /// Sends `request` to `url` and reads what it answers to the end.
    async fn exchange(
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<PeerAnswer, TransportError> {
        let response = request
            .send()
            .await
            .map_err(|e| TransportError(format!("cannot reach {url}: {}", with_causes(&e))))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| TransportError(format!("broken answer from {url}: {e}")))?;
        Ok(PeerAnswer {
            status: status.as_u16(),
            status_text: status.to_string(),
            body: body.to_vec(),
        })
    }
}

/// An error with the chain of its causes, so that a refused certificate says why (reqwest
/// alone says only "error sending request").
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

#[async_trait]
impl PeerTransport for HttpTransport {
    async fn post_inbox(
        &self,
        endpoint: &str,
        envelope: String,
        signature: SignatureHeaders,
    ) -> Result<PeerAnswer, TransportError> {
        let url = inbox_url(endpoint);
        let request = self
            .client
            .get()
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Content-Digest", signature.content_digest)
            .header("Signature-Input", signature.signature_input)
            .header("Signature", signature.signature)
            .body(envelope);
        HttpTransport::exchange(&url, request).await
    }

    async fn get_outbox(
        &self,
        endpoint: &str,
        after: u64,
        authorization: String,
    ) -> Result<PeerAnswer, TransportError> {
        let url = outbox_url(endpoint, after);
        let request = self
            .client
            .get()
            .get(&url)
            .header("Authorization", authorization);
        HttpTransport::exchange(&url, request).await
    }

    async fn get_signed(
        &self,
        endpoint: &str,
        path: &str,
        signature: SignatureHeaders,
        max: usize,
    ) -> Result<PeerAnswer, TransportError> {
        let url = format!("{}{path}", endpoint.trim_end_matches('/'));
        let mut response = self
            .client
            .get()
            .get(&url)
            .header("Content-Digest", signature.content_digest)
            .header("Signature-Input", signature.signature_input)
            .header("Signature", signature.signature)
            .send()
            .await
            .map_err(|e| TransportError(format!("cannot reach {url}: {}", with_causes(&e))))?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| TransportError(format!("broken answer from {url}: {e}")))?
        {
            if body.len() + chunk.len() > max {
                return Err(TransportError(format!(
                    "the answer of {url} is larger than {max} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(PeerAnswer {
            status: status.as_u16(),
            status_text: status.to_string(),
            body,
        })
    }

    async fn post_keys(&self, endpoint: &str, body: String) -> Result<PeerAnswer, TransportError> {
        let url = keys_url(endpoint);
        let request = self
            .client
            .get()
            .post(&url)
            .header("Content-Type", "application/json")
            .body(body);
        HttpTransport::exchange(&url, request).await
    }
}
