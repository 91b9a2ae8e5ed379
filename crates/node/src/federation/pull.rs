//! Catch-up: a peer that missed envelopes (it was down, or could not be reached) asks for
//! those after the last sequence number it recorded. The request is itself a `pull`
//! envelope signed by the asking member's key, fresh (within [`MAX_PULL_AGE`]) and
//! addressed to this node; the answer is the outbox for that member, signed again.

use comity_store::{OutboxEntry, OutboxKind, Store, StoreError};
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::identity::{NodeKey, PublicKey};
use crate::policy::MemberStatus;
use crate::registry::{Directory, Federation, RegistryError};

use super::delivery::{DeliveryError, QueuedError};
use super::envelope::{timestamp, Envelope, EnvelopeError, Kind, Signed, VERSION};
use super::inbox::Answer;
use super::plan::{self, Withheld};
use super::quota::Quotas;
use super::transport::{outbox_url, PeerTransport, PULL_SCHEME};
use super::{seal, sighting};
use crate::node::Node;

/// How old a pull request may be.
pub const MAX_PULL_AGE: time::Duration = time::Duration::minutes(5);
/// Most envelopes one answer carries.
pub const PULL_LIMIT: usize = 100;

/// Why a pull was refused.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The request is not a valid pull from an active member.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The request is not a pull, or its body is not `{"after": N}`.
    #[error("not a pull request: {0}")]
    NotAPull(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request was answered before.
    #[error("this pull request was answered already; sign a new one")]
    Replayed,
    /// The registry could not be read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// An outbox entry cannot be sent as it is.
    #[error(transparent)]
    Queued(#[from] QueuedError),
}

/// The signed envelope for an outbox entry, as it is delivered or pulled by its peer: the
/// body sealed to the peer (see [`super::seal::leaving_body`]), objects and sightings
/// decided again by the policy as it stands in `federation` when anything it rests on
/// changed since the entry was queued (what is taken out is tallied in `withheld`); then
/// signed with `key`.
pub fn outbox_envelope(
    entry: &OutboxEntry,
    local: &str,
    key: &NodeKey,
    federation: &Federation,
    withheld: &mut Withheld,
) -> Result<Signed, QueuedError> {
    let kind = Kind::parse(entry.kind.as_str())
        .ok_or_else(|| QueuedError::UnknownKind(entry.kind.to_string()))?;
    let created = OffsetDateTime::from_unix_timestamp_nanos(i128::from(entry.created_at) * 1000)?;
    let decided_again = matches!(entry.kind, OutboxKind::StixObjects | OutboxKind::Sighting);
    let fresh = !decided_again || federation.unchanged_since(entry.created_at);
    let peer = entry.peer.as_str();
    let body = seal::leaving_body(
        federation,
        key,
        local,
        entry,
        kind,
        fresh,
        |plain| match entry.kind {
            OutboxKind::StixObjects => {
                plan::still_allowed(federation, peer, entry.created_at, &plain, withheld)
            }
            OutboxKind::Sighting => {
                sighting::still_allowed(federation, peer, entry.created_at, &plain)
            }
            _ => Ok(plain),
        },
    )?;
    Ok(Envelope {
        v: VERSION,
        id: entry.id.clone(),
        from: local.to_owned(),
        to: entry.peer.clone(),
        kind,
        created: timestamp(created),
        seq: entry.seq,
        body: RawValue::from_string(body).map_err(QueuedError::NotJson)?,
    }
    .sign(key))
}

/// A pull request from `local` to `peer` for what came after `after`.
pub fn request(local: &str, peer: &str, after: u64, key: &NodeKey) -> Signed {
    let body = RawValue::from_string(format!("{{\"after\":{after}}}")).expect("JSON object");
    Envelope::new(local, peer, Kind::Pull, 0, body).sign(key)
}

/// A verified pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// The asking member.
    pub member: String,
    /// The last sequence number it has.
    pub after: u64,
}

/// Checks a pull request: signed by an active member, addressed to this node, fresh, and
/// never answered before (by any process of this node).
pub async fn verify(store: &dyn Store, local: &str, text: &[u8]) -> Result<PullRequest, PullError> {
    let signed = Signed::parse(text)?;
    let env = &signed.envelope;
    if env.kind != Kind::Pull {
        return Err(PullError::NotAPull(format!(
            "the kind is {}",
            env.kind.as_str()
        )));
    }
    if env.to != local {
        return Err(EnvelopeError::NotForUs(env.to.clone()).into());
    }
    let member = Directory::new(store)
        .member(&env.from)
        .await?
        .filter(|m| !m.record.local)
        .ok_or_else(|| EnvelopeError::UnknownSender(env.from.clone()))?;
    let key: PublicKey = member
        .record
        .public_key
        .parse()
        .map_err(|_| EnvelopeError::UnknownSender(env.from.clone()))?;
    signed.verify(&key)?;
    if member.status == MemberStatus::Suspended {
        return Err(EnvelopeError::SuspendedSender(env.from.clone()).into());
    }
    let now = OffsetDateTime::now_utc();
    signed.check_time(now)?;
    let created =
        OffsetDateTime::parse(&env.created, &time::format_description::well_known::Rfc3339)
            .map_err(|_| PullError::NotAPull("bad time".into()))?;
    if created < now - MAX_PULL_AGE {
        return Err(EnvelopeError::Time {
            created: env.created.clone(),
            why: "is more than 5 minutes old; a pull request must be fresh",
        }
        .into());
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        after: u64,
    }
    let body: Body = serde_json::from_str(env.body.get())
        .map_err(|e| PullError::NotAPull(format!("the body is not {{\"after\": N}}: {e}")))?;
    // Answered once, by any process of this node: remembered for as long as the request
    // could pass the checks above (it may be dated up to the allowed skew ahead).
    let now_us = comity_stix::clock::now_us();
    let window_us = 2 * MAX_PULL_AGE.whole_microseconds() as i64;
    if !store
        .first_use(&format!("pull:{}", env.id), now_us + window_us, now_us)
        .await?
    {
        return Err(PullError::Replayed);
    }
    Ok(PullRequest {
        member: env.from.clone(),
        after: body.after,
    })
}

/// The signed envelopes for `peer` after `after`, whether more follow, and what was taken
/// out. What leaves is decided again now, as for a push: objects and sightings the policy
/// no longer lets go to `peer` are taken out (other kinds, such as agreements, go as
/// queued).
pub async fn answer(
    store: &dyn Store,
    local: &str,
    key: &NodeKey,
    peer: &str,
    after: u64,
) -> Result<(Vec<Signed>, bool, super::plan::Withheld), PullError> {
    let mut withheld = Withheld::default();
    let federation = Directory::new(store).federation().await?;
    let entries = store.outbox_after(peer, after, PULL_LIMIT + 1).await?;
    let more = entries.len() > PULL_LIMIT;
    let envelopes = entries
        .iter()
        .take(PULL_LIMIT)
        .map(|e| outbox_envelope(e, local, key, &federation, &mut withheld))
        .collect::<Result<Vec<_>, QueuedError>>()?;
    Ok((envelopes, more, withheld))
}

/// Pulls from every peer with an endpoint what it queued for this node after the last
/// envelope recorded from it, and applies it through the inbox (within `quotas`) in order.
pub async fn catch_up(
    node: &Node,
    transport: &dyn PeerTransport,
    quotas: &Quotas,
) -> Result<(), DeliveryError> {
    use base64::Engine as _;
    let log = node.log();
    let store = node.store();
    let registry = node.directory();
    let Some(local) = registry.local_member().await? else {
        return Ok(());
    };
    for member in registry.members().await? {
        let Some(endpoint) = member
            .record
            .delivery_endpoint()
            .filter(|_| !member.record.local)
        else {
            continue;
        };
        let endpoint = endpoint.as_str();
        loop {
            let after = store.inbox_last_seq(&member.id.0).await?;
            let request = request(&local.id.0, &member.id.0, after, log.node_key());
            let header = base64::engine::general_purpose::STANDARD.encode(request.to_json());
            let url = outbox_url(endpoint, after);
            let response = transport
                .get_outbox(endpoint, after, format!("{PULL_SCHEME} {header}"))
                .await?;
            if !response.is_success() {
                return Err(DeliveryError::Status {
                    url,
                    status: response.status,
                    status_text: response.status_text,
                    body: String::new(),
                });
            }
            #[derive(serde::Deserialize)]
            struct Pulled {
                more: bool,
                envelopes: Vec<Box<RawValue>>,
            }
            let answer: Pulled = serde_json::from_slice(&response.body).map_err(|source| {
                DeliveryError::Unreadable {
                    from: url.clone(),
                    source,
                }
            })?;
            let inbox = node.inbox().with_quotas(quotas);
            for envelope in &answer.envelopes {
                match inbox.receive(&member.id.0, envelope.get().as_bytes()).await {
                    Ok(Answer::Delivered(_)) | Ok(Answer::Refused(_)) | Ok(Answer::Witness(_)) => {}
                    Ok(Answer::OverQuota { retry_after, .. }) => {
                        return Err(DeliveryError::OverQuota {
                            url,
                            member: member.id.0.clone(),
                            retry_after,
                        })
                    }
                    Ok(Answer::Rejected(source)) => {
                        return Err(DeliveryError::Rejected { url, source })
                    }
                    Ok(Answer::OutOfOrder { expected }) => {
                        return Err(DeliveryError::Skipped { url, expected })
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if !answer.more || answer.envelopes.is_empty() {
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;
    use comity_store_sqlite::SqliteStore;

    use super::*;
    use crate::federation::request_signature::SignatureHeaders;
    use crate::federation::test_nodes::{self, signer};
    use crate::federation::transport::{PeerAnswer, TransportError};
    use crate::log::NodeLog;

    /// Answers every pull with `answer`.
    struct Answering(PeerAnswer);

    #[async_trait]
    impl PeerTransport for Answering {
        async fn post_inbox(
            &self,
            _endpoint: &str,
            _envelope: String,
            _signature: SignatureHeaders,
        ) -> Result<PeerAnswer, TransportError> {
            Err(TransportError("no pushes here".into()))
        }

        async fn get_outbox(
            &self,
            _endpoint: &str,
            _after: u64,
            _authorization: String,
        ) -> Result<PeerAnswer, TransportError> {
            Ok(self.0.clone())
        }
    }

    /// Node 1 pulling from node 2 (pinned, reachable) over a transport answering `answer`.
    async fn pull_answered(answer: PeerAnswer) -> Result<(), DeliveryError> {
        let (a, b) = (test_nodes::node(1).await, test_nodes::node(2).await);
        test_nodes::pin_reachable(&a, &b).await;
        let node = Node::with_log(
            Arc::new(SqliteStore::open(a.dir.path()).unwrap()),
            NodeLog::new(signer(1)).unwrap(),
        );
        let quotas = Quotas::new(Default::default());
        catch_up(&node, &Answering(answer), &quotas).await
    }

    #[tokio::test]
    async fn a_refused_pull_surfaces_with_the_status_the_peer_answered() {
        let refused = pull_answered(PeerAnswer {
            status: 401,
            status_text: "401 Unauthorized".into(),
            body: b"{}".to_vec(),
        })
        .await;
        match refused {
            Err(e @ DeliveryError::Status { status: 401, .. }) => assert_eq!(
                e.to_string(),
                "https://peer.example/federation/v1/outbox?after=0 answered 401 Unauthorized"
            ),
            other => panic!("{other:?}"),
        }
        let garbled = pull_answered(PeerAnswer {
            status: 200,
            status_text: "200 OK".into(),
            body: b"not JSON".to_vec(),
        })
        .await;
        assert!(
            matches!(garbled, Err(DeliveryError::Unreadable { .. })),
            "{garbled:?}"
        );
    }
}
