//! Why an exchange this node starts with a peer failed: delivering its outbox
//! ([`super::sender`]), pulling what the peer queued for it ([`super::pull::catch_up`]),
//! submitting its checkpoint ([`super::witnesser`]). These errors are for logs and for the
//! outbox's `last_error`; they never travel in an envelope (what a peer is told is decided
//! by the inbox and the witness, in their own words).

use comity_store::StoreError;

use crate::log::LogError;
use crate::registry::RegistryError;

use super::envelope::{EnvelopeError, Kind};
use super::inbox::InboxError;
use super::transport::TransportError;
use super::witnessing::CosignatureError;

/// Why delivering to a peer, pulling from it or having it witness failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The registry could not be read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// This node's log failed (its checkpoint, a proof, an alert).
    #[error(transparent)]
    Log(#[from] LogError),
    /// This node's inbox failed to apply what was pulled.
    #[error(transparent)]
    Inbox(#[from] InboxError),
    /// An outbox entry cannot be sent as it is.
    #[error(transparent)]
    Queued(#[from] QueuedError),
    /// The peer could not be reached, or its answer not read.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The peer answered with an HTTP status that is not an answer to what was sent.
    #[error("{url} answered {status_text}{}", detail(.body))]
    Status {
        /// The URL asked.
        url: String,
        /// The status code.
        status: u16,
        /// The status as logged (`404 Not Found`).
        status_text: String,
        /// The start of the body, for people.
        body: String,
    },
    /// The peer's answer is not an envelope signed by its pinned key.
    #[error("the answer from {from}: {source}")]
    Unverified {
        /// The URL asked, or the peer.
        from: String,
        /// Why.
        #[source]
        source: EnvelopeError,
    },
    /// The peer's answer (or the body of its envelope) is not the JSON expected.
    #[error("the answer from {from} cannot be read: {source}")]
    Unreadable {
        /// The URL asked, or the peer.
        from: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The peer answered with a receipt for another envelope, or from someone else.
    #[error("{url} answered with a receipt for something else")]
    OtherReceipt {
        /// The URL asked.
        url: String,
    },
    /// The answer is not addressed from the peer to this node.
    #[error("the answer is from {from} to {to}, not from {peer} to this node")]
    Misaddressed {
        /// The answer's `from`.
        from: String,
        /// The answer's `to`.
        to: String,
        /// The peer asked.
        peer: String,
    },
    /// The answer is of a kind that does not answer what was sent.
    #[error("the answer is of kind {}", .0.as_str())]
    UnexpectedKind(Kind),
    /// The answer is about another checkpoint envelope than the one sent.
    #[error("the answer is about another checkpoint envelope")]
    OtherCheckpoint,
    /// The status in the answer's body is not the HTTP status it came with.
    #[error("the answer says {said} but came with HTTP {status}")]
    StatusMismatch {
        /// The status the body gives.
        said: u16,
        /// The HTTP status.
        status: u16,
    },
    /// A 409 answer that does not say what size the peer knows.
    #[error("a 409 answer without the known size")]
    NoKnownSize,
    /// An outcome the answer should not have with its status.
    #[error("an answer {outcome:?} with HTTP {status}")]
    UnexpectedOutcome {
        /// The outcome given.
        outcome: String,
        /// The HTTP status.
        status: u16,
    },
    /// A cosignature that does not verify with the peer's pinned key.
    #[error(transparent)]
    Cosignature(#[from] CosignatureError),
    /// This node's own checkpoint cannot be read.
    #[error("our own checkpoint: {0}")]
    OwnCheckpoint(#[source] comity_tlog::note::NoteError),
    /// The pulled envelopes went over this node's quota for the peer.
    #[error("{url}: over the quota of {member}; pulling again in {retry_after} s or later")]
    OverQuota {
        /// The URL pulled from.
        url: String,
        /// The peer.
        member: String,
        /// Seconds after which the envelope would fit.
        retry_after: u64,
    },
    /// A pulled envelope was rejected by this node's inbox.
    #[error("{url}: {source}")]
    Rejected {
        /// The URL pulled from.
        url: String,
        /// Why.
        #[source]
        source: EnvelopeError,
    },
    /// The pulled envelopes skip sequence numbers.
    #[error("{url} skipped envelopes: expected {expected}")]
    Skipped {
        /// The URL pulled from.
        url: String,
        /// The sequence number expected next.
        expected: u64,
    },
    /// The task exchanging with the peer failed (it panicked, or was cancelled).
    #[error("the task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// `: body`, or nothing when the body is empty.
fn detail(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

/// Why an outbox entry cannot be sent as it is (it was queued by this node, so this is a
/// bug or a damaged store, never the peer's doing).
#[derive(Debug, thiserror::Error)]
pub enum QueuedError {
    /// The entry's kind is not an envelope kind.
    #[error("unknown kind {0}")]
    UnknownKind(String),
    /// The entry's creation time is out of range.
    #[error("its creation time is out of range: {0}")]
    Created(#[from] time::error::ComponentRange),
    /// The body is not JSON.
    #[error("its body is not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// The body of an objects envelope is not `{"objects": [...]}`.
    #[error("the body is not {{\"objects\": [...]}}: {0}")]
    Objects(#[source] serde_json::Error),
    /// The body of a sighting envelope is not `{"sighting": ...}`.
    #[error("the body is not {{\"sighting\": ...}}: {0}")]
    Sighting(#[source] serde_json::Error),
    /// The body cannot be sealed to the peer (it has no encryption key), or the outbox's
    /// own sealed copy does not open.
    #[error(transparent)]
    Seal(#[from] super::seal::SealError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_with_its_status_and_body_and_without_an_empty_body() {
        let refused = DeliveryError::Status {
            url: "https://peer.example/federation/v1/inbox".into(),
            status: 403,
            status_text: "403 Forbidden".into(),
            body: "not a member".into(),
        };
        assert_eq!(
            refused.to_string(),
            "https://peer.example/federation/v1/inbox answered 403 Forbidden: not a member"
        );
        let bare = DeliveryError::Status {
            url: "https://peer.example/federation/v1/outbox?after=0".into(),
            status: 404,
            status_text: "404 Not Found".into(),
            body: String::new(),
        };
        assert_eq!(
            bare.to_string(),
            "https://peer.example/federation/v1/outbox?after=0 answered 404 Not Found"
        );
    }

    #[test]
    fn a_transport_failure_reads_as_the_transport_said() {
        let e = DeliveryError::from(TransportError("cannot reach the peer".into()));
        assert_eq!(e.to_string(), "cannot reach the peer");
    }
}
