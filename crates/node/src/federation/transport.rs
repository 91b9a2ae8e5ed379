//! How a node reaches its peers: a [`PeerTransport`] carries signed envelopes to a peer's
//! inbox and fetches what a peer queued for this node. The node decides what to send,
//! signs it and checks what comes back; the transport only carries bytes (the server's
//! is HTTP).

use async_trait::async_trait;

use super::request_signature::SignatureHeaders;

/// The path of the inbox, as requests sign it.
pub const INBOX_PATH: &str = "/federation/v1/inbox";

/// The path of the outbox a peer pulls from.
pub const OUTBOX_PATH: &str = "/federation/v1/outbox";

/// The path template of a proposal's dossier, which a member auditing it asks for with a
/// signed `GET` (see [`crate::governance::audit`]).
pub const DOSSIER_PATH: &str = "/federation/v1/governance/proposals/{id}";

/// The path of proposal `id`'s dossier, which a request for it signs.
pub fn dossier_path(id: &str) -> String {
    DOSSIER_PATH.replace("{id}", id)
}

/// The path of the first page of a node's decided governance history, which a member that
/// joins later asks for with a signed `GET` (see [`crate::governance::history`]).
pub const HISTORY_PATH: &str = "/federation/v1/governance/history";

/// The path template of the page of the history after proposal `{after}`.
pub const HISTORY_AFTER_PATH: &str = "/federation/v1/governance/history/{after}";

/// The path of the history page after proposal `after` (the first page when `None`).
pub fn history_path(after: Option<&str>) -> String {
    match after {
        Some(id) => HISTORY_AFTER_PATH.replace("{after}", id),
        None => HISTORY_PATH.to_owned(),
    }
}

/// The path at which a node takes its peers' key statements, which authenticate
/// themselves ([`crate::identity::rotation`]).
pub const KEYS_PATH: &str = "/federation/v1/keys";

/// The keys URL of a peer at `endpoint`.
pub fn keys_url(endpoint: &str) -> String {
    format!("{}{KEYS_PATH}", endpoint.trim_end_matches('/'))
}

/// The scheme of the `Authorization` header that carries a signed pull request.
pub const PULL_SCHEME: &str = "Comity-Envelope";

/// The inbox URL of a peer at `endpoint`.
pub fn inbox_url(endpoint: &str) -> String {
    format!("{}{INBOX_PATH}", endpoint.trim_end_matches('/'))
}

/// The outbox URL of a peer at `endpoint`, for what came after `after`.
pub fn outbox_url(endpoint: &str, after: u64) -> String {
    format!(
        "{}{OUTBOX_PATH}?after={after}",
        endpoint.trim_end_matches('/')
    )
}

/// What a peer answered: its status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAnswer {
    /// The status code.
    pub status: u16,
    /// The status as logged (`404 Not Found`).
    pub status_text: String,
    /// The body.
    pub body: Vec<u8>,
}

impl PeerAnswer {
    /// Whether the status is a success (2xx).
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a peer could not be reached or its answer not read; the attempt may be retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

/// The carrier between this node and its peers.
#[async_trait]
pub trait PeerTransport: Send + Sync + 'static {
    /// POSTs `envelope` (its JSON text) to the inbox of the peer at `endpoint`, the
    /// request signed with `signature` (made over [`INBOX_PATH`]); returns the answer.
    async fn post_inbox(
        &self,
        endpoint: &str,
        envelope: String,
        signature: SignatureHeaders,
    ) -> Result<PeerAnswer, TransportError>;

    /// GETs what the peer at `endpoint` queued for this node after `after`, proving who
    /// asks with `authorization` (the `Authorization` header's value).
    async fn get_outbox(
        &self,
        endpoint: &str,
        after: u64,
        authorization: String,
    ) -> Result<PeerAnswer, TransportError>;

    /// POSTs this node's key statements (`body`: `{"member": ID, "statements": [...]}`) to
    /// the peer at `endpoint` ([`KEYS_PATH`]). A transport that carries none (a test's)
    /// keeps this default, which fails.
    async fn post_keys(&self, endpoint: &str, body: String) -> Result<PeerAnswer, TransportError> {
        let _ = body;
        Err(TransportError(format!(
            "this transport carries no key statements (to {endpoint})"
        )))
    }

    /// GETs `path` from the peer at `endpoint`, the request signed with `signature` (made
    /// over `GET`, `path` and an empty body), reading at most `max` bytes of the answer. A
    /// transport that carries none (a test's) keeps this default, which fails.
    async fn get_signed(
        &self,
        endpoint: &str,
        path: &str,
        signature: SignatureHeaders,
        max: usize,
    ) -> Result<PeerAnswer, TransportError> {
        let _ = (signature, max);
        Err(TransportError(format!(
            "this transport carries no signed GET (to {endpoint}{path})"
        )))
    }
}
