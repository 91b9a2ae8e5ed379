//! The witnessing task: every interval, this node's latest checkpoint is submitted to each
//! active peer as a signed `checkpoint` envelope posted to the peer's inbox over a
//! [`PeerTransport`], and the signed `cosignature` envelope that comes back is checked and
//! kept (see [`super::witnessing`]). The exchange is a direct request and response, not
//! the durable outbox: a cosignature is an answer, and a checkpoint that could not be
//! delivered is superseded by the next round's.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::identity::PublicKey;
use crate::node::Node;
use crate::policy::MemberStatus;

use super::delivery::DeliveryError;
use super::sender::sign_for_inbox;
use super::transport::PeerTransport;
use super::witnessing::{self, Outcome, Prepared};

/// A peer that cosigned the latest checkpoint is sent it again after this many intervals,
/// so that its cosignature stays fresh.
const REFRESH_ROUNDS: u32 = 10;

/// Told of each peer's outcome as its submission finishes (the peer, what came of it).
pub type OutcomeHook = Arc<dyn Fn(&str, &Outcome) + Send + Sync>;

/// The witnessing of one node: cheap to clone.
#[derive(Clone)]
pub struct Witnesser {
    node: Node,
    transport: Arc<dyn PeerTransport>,
    every: Duration,
    outcome: OutcomeHook,
}

impl Witnesser {
    /// Submits `node`'s checkpoint over `transport` every `every`.
    pub fn new(node: Node, transport: Arc<dyn PeerTransport>, every: Duration) -> Witnesser {
        Witnesser {
            node,
            transport,
            every,
            outcome: Arc::new(|_, _| {}),
        }
    }

    /// Calls `hook` with each peer's outcome as its submission finishes.
    pub fn on_outcome(self, hook: impl Fn(&str, &Outcome) + Send + Sync + 'static) -> Witnesser {
        Witnesser {
            outcome: Arc::new(hook),
            ..self
        }
    }

    /// Starts the witnessing task; it runs until aborted.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(self.every).await;
                for (peer, outcome) in self.round().await {
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
        })
    }

    /// One round: every active peer with an endpoint and a key is sent the latest
    /// checkpoint (unless it cosigned it recently); returns what came of each submission.
    pub async fn round(&self) -> Vec<(String, Result<Outcome, DeliveryError>)> {
        let registry = self.node.directory();
        let local = match registry.local_member().await {
            Ok(Some(m)) => m.id.0,
            Ok(None) => return Vec::new(),
            Err(e) => return vec![(String::new(), Err(e.into()))],
        };
        let members = match registry.members().await {
            Ok(m) => m,
            Err(e) => return vec![(String::new(), Err(e.into()))],
        };
        // Each peer in a task of its own, so a slow or silent peer holds up nobody else.
        let mut tasks = tokio::task::JoinSet::new();
        for member in members {
            if member.record.local || member.status == MemberStatus::Suspended {
                continue;
            }
            let (Some(endpoint), Ok(key)) = (
                member.record.delivery_endpoint(),
                member.record.public_key.parse::<PublicKey>(),
            ) else {
                continue;
            };
            let (witnesser, local, peer) = (self.clone(), local.clone(), member.id.0);
            tasks.spawn(async move {
                let outcome = witnesser.witness_peer(&local, &peer, &endpoint, &key).await;
                if let Ok(Some(o)) = &outcome {
                    (witnesser.outcome)(&peer, o);
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
                Err(e) => out.push((String::new(), Err(e.into()))),
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Submits the latest checkpoint to one peer; after a 409, once more from the size the
    /// peer knows. `None`: the peer cosigned the latest checkpoint recently, nothing was
    /// sent.
    async fn witness_peer(
        &self,
        local: &str,
        peer: &str,
        endpoint: &str,
        key: &PublicKey,
    ) -> Result<Option<Outcome>, DeliveryError> {
        let log = self.node.log();
        let store = self.node.store();
        let refresh = self.every.saturating_mul(REFRESH_ROUNDS).as_micros() as i64;
        let mut old = None;
        for _ in 0..2 {
            let sub = match witnessing::prepare(store, log, local, peer, old, refresh).await? {
                Prepared::Send(sub) => sub,
                Prepared::UpToDate => return Ok(None),
                Prepared::Alert { kind, new } => return Ok(Some(Outcome::Alert { kind, new })),
            };
            let envelope = sub.envelope.to_json();
            let signature = sign_for_inbox(log.node_key(), local, &envelope);
            let answer = self
                .transport
                .post_inbox(endpoint, envelope, signature)
                .await?;
            match witnessing::answered(store, log, local, key, &sub, answer.status, &answer.body)
                .await?
            {
                Outcome::Retry { known_size } if old.is_none() => old = Some(known_size),
                other => return Ok(Some(other)),
            }
        }
        Ok(Some(Outcome::Refused {
            status: 409,
            reason: "the peer's known size changed twice".into(),
        }))
    }
}
