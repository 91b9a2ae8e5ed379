//! The front door of the federation inbox: who may send a body at all, how large, and how
//! many at once. A request is authenticated by its RFC 9421 signature (see
//! [`comity_node::federation::request_signature`]) against the pinned key of a registered,
//! active member before any byte of its body is read; its body is then read as it streams,
//! up to the per-request cap, and checked against the signed digest. Concurrent inbox
//! requests are bounded globally and per sender; what a sender may store per hour is
//! bounded by its quotas.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use comity_node::federation::quota::{QuotaLimits, Quotas};
use comity_node::federation::request_signature::{RequestSignature, RequestSignatureError};
use comity_node::identity::PublicKey;
use comity_node::policy::MemberStatus;
use comity_node::registry::Directory;
use comity_store::Store;
use http_body_util::BodyExt as _;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// The limits of the inbox (`[federation]` in `comity.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxLimits {
    /// The largest body one request may carry.
    pub max_envelope_bytes: usize,
    /// Inbox requests served at once, all senders together.
    pub concurrent: usize,
    /// Inbox requests served at once for one sender.
    pub concurrent_per_sender: usize,
    /// What each sender may have stored per hour.
    pub quotas: QuotaLimits,
}

impl Default for InboxLimits {
    /// 64 MiB per envelope, 8 requests at once, 2 per sender, the default quotas.
    fn default() -> InboxLimits {
        InboxLimits {
            max_envelope_bytes: 64 * 1024 * 1024,
            concurrent: 8,
            concurrent_per_sender: 2,
            quotas: QuotaLimits::default(),
        }
    }
}

/// The inbox's limits and what is in use of them now.
#[derive(Debug)]
pub struct InboxGate {
    limits: InboxLimits,
    global: Arc<Semaphore>,
    per_sender: Arc<Mutex<HashMap<String, usize>>>,
    quotas: Arc<Quotas>,
    decoy: PublicKey,
}

/// A request let through: the sender's slot, given back when dropped.
pub struct Admitted {
    _global: OwnedSemaphorePermit,
    sender: String,
    per_sender: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut map = self.per_sender.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.sender) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.sender);
            }
        }
    }
}

/// A refusal at the door: a small unsigned error, and the connection is closed, so that a
/// body that was never read does not hold it.
#[derive(Debug)]
pub struct Refused(ApiError);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    }
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Refused {
        Refused(e)
    }
}

/// What every unauthenticated request is told, whatever the cause (unknown, local or
/// suspended member, another key, a malformed pinned key), so that no caller learns which
/// members are registered or active; the log says which it was.
const NOT_A_MEMBER: &str =
    "the request is not signed with the pinned key of a registered, active member of this node";

/// A public key whose private half no one holds (a fresh random key, its secret dropped).
fn decoy_key() -> PublicKey {
    let mut seed = [0u8; 32];
    rand::Rng::fill(&mut rand::thread_rng(), &mut seed);
    let key = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    use base64::Engine as _;
    format!(
        "ed25519:{}",
        base64::engine::general_purpose::STANDARD.encode(key.as_bytes())
    )
    .parse()
    .expect("an Ed25519 public key in its text form")
}

impl InboxGate {
    /// A gate with these limits, nothing in use.
    pub fn new(limits: InboxLimits) -> InboxGate {
        InboxGate {
            global: Arc::new(Semaphore::new(limits.concurrent)),
            per_sender: Arc::new(Mutex::new(HashMap::new())),
            quotas: Arc::new(Quotas::new(limits.quotas)),
            limits,
            decoy: decoy_key(),
        }
    }

    /// The senders' quotas.
    pub fn quotas(&self) -> &Quotas {
        &self.quotas
    }

    /// The senders' quotas, shared (pulled envelopes count against them too).
    pub fn shared_quotas(&self) -> Arc<Quotas> {
        self.quotas.clone()
    }

    /// Authenticates a `method` request to `path` (a `POST` to the inbox, a `GET` of an
    /// audit) from its headers alone: the signature parses, is fresh, is by a registered,
    /// active member's pinned key, and its nonce was never used. Returns the request's
    /// signature (its sender and the digest its body must have).
    pub async fn authenticate(
        &self,
        store: &dyn Store,
        headers: &HeaderMap,
        method: &str,
        path: &str,
    ) -> Result<RequestSignature, Refused> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let unauthorized =
            |e: RequestSignatureError| Refused(ApiError::unauthorized(e.to_string()));
        let signature = RequestSignature::parse(
            header("content-digest"),
            header("signature-input"),
            header("signature"),
        )
        .map_err(unauthorized)?;
        let now_us = comity_stix::clock::now_us();
        signature
            .check_time(now_us / 1_000_000)
            .map_err(unauthorized)?;
        let member = Directory::new(store)
            .member(&signature.sender)
            .await
            .map_err(crate::auth::registry_error)?;
        let key = member
            .filter(|m| !m.record.local && m.status == MemberStatus::Active)
            .and_then(|m| m.record.public_key.parse::<PublicKey>().ok());
        // A signature is checked whether or not the sender is an active member (against a
        // key no one holds when it is not), so that the time taken does not tell either.
        let verified = signature.verify(&key.unwrap_or(self.decoy), method, path);
        let refused = match (key, verified) {
            (Some(_), Ok(())) => None,
            (Some(_), Err(e)) => Some(e.to_string()),
            (None, _) => Some("not a registered, active peer member".to_owned()),
        };
        if let Some(reason) = refused {
            tracing::warn!(sender = %signature.sender.escape_debug(), reason = %reason, path = %path.escape_debug(), "federation request refused");
            return Err(Refused(ApiError::unauthorized(NOT_A_MEMBER)));
        }
        // Used once, by any process of the node, while it could pass as fresh.
        let window_us =
            2 * comity_node::federation::request_signature::MAX_SKEW_SECONDS * 1_000_000;
        let nonce = format!("inbox:{}:{}", signature.sender, signature.nonce);
        if !store
            .first_use(&nonce, now_us + window_us, now_us)
            .await
            .map_err(ApiError::from)?
        {
            return Err(Refused(ApiError::unauthorized(
                "this request signature was used already; sign each request anew",
            )));
        }
        Ok(signature)
    }

    /// A slot for one request of `sender`, or 503 (the inbox is busy) or 429 (the sender
    /// has its share in flight), with `Retry-After`.
    pub fn admit(&self, sender: &str) -> Result<Admitted, Refused> {
        let global = self.global.clone().try_acquire_owned().map_err(|_| {
            Refused(
                ApiError::unavailable("the inbox is serving as many envelopes as it can; retry")
                    .with_retry_after(1),
            )
        })?;
        let mut map = self.per_sender.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(sender.to_owned()).or_default();
        if *n >= self.limits.concurrent_per_sender {
            return Err(Refused(ApiError::too_many_requests(
                format!(
                    "{sender} has {} envelopes in flight already, as many as this node takes at once",
                    self.limits.concurrent_per_sender
                ),
                1,
            )));
        }
        *n += 1;
        Ok(Admitted {
            _global: global,
            sender: sender.to_owned(),
            per_sender: self.per_sender.clone(),
        })
    }

    /// Reads the body of an authenticated request as it streams: at most the cap (a larger
    /// `Content-Length` is refused before reading), its SHA-256 checked against the signed
    /// digest.
    pub async fn read_body(
        &self,
        headers: &HeaderMap,
        body: Body,
        signature: &RequestSignature,
    ) -> Result<Vec<u8>, Refused> {
        let cap = self.limits.max_envelope_bytes;
        let too_large = || {
            Refused(ApiError::too_large(format!(
                "an envelope may have at most {cap} bytes"
            )))
        };
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > cap as u64) {
            return Err(too_large());
        }
        let mut bytes = Vec::with_capacity(declared.unwrap_or(0) as usize);
        let mut hasher = Sha256::new();
        let mut body = body;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                Refused(ApiError::bad_request(format!(
                    "the body could not be read: {e}"
                )))
            })?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if bytes.len() + data.len() > cap {
                return Err(too_large());
            }
            hasher.update(&data);
            bytes.extend_from_slice(&data);
        }
        signature
            .check_digest(&hasher.finalize())
            .map_err(|e| Refused(ApiError::bad_request(e.to_string())))?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(concurrent: usize, per_sender: usize) -> InboxGate {
        InboxGate::new(InboxLimits {
            concurrent,
            concurrent_per_sender: per_sender,
            ..InboxLimits::default()
        })
    }

    fn status(r: Result<Admitted, Refused>) -> u16 {
        match r {
            Ok(_) => 200,
            Err(Refused(e)) => e.status().as_u16(),
        }
    }

    #[test]
    fn requests_are_bounded_per_sender_and_in_all_and_slots_come_back() {
        let g = gate(3, 2);
        let a1 = g.admit("a").unwrap();
        let a2 = g.admit("a").unwrap();
        assert_eq!(status(g.admit("a")), 429, "a third request of one sender");
        let b1 = g.admit("b").unwrap();
        assert_eq!(status(g.admit("c")), 503, "a fourth request in all");
        drop(a1);
        let a3 = g.admit("a").unwrap();
        drop((a2, a3, b1));
        // every slot is back: three senders at once again, none left counted
        let all: Vec<_> = ["a", "b", "c"]
            .iter()
            .map(|s| g.admit(s).unwrap())
            .collect();
        drop(all);
        assert!(g.per_sender.lock().unwrap().is_empty());
    }

    #[test]
    fn a_refusal_at_the_door_closes_the_connection() {
        let g = gate(1, 1);
        let _held = g.admit("a").unwrap();
        let response = g.admit("b").err().unwrap().into_response();
        assert_eq!(response.status().as_u16(), 503);
        assert_eq!(response.headers()[header::CONNECTION], "close");
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}
