//! The sender: a background task that delivers each peer's outbox in sequence order with
//! exponential backoff and jitter, verifying every receipt with the peer's pinned key
//! before marking an envelope delivered, and that pulls every 30 s what peers queued for
//! this node (catch-up after an outage, see [`super::pull::catch_up`]). The envelopes wait
//! in the store, one queue per peer; the [`PeerTransport`] carries them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use comity_stix::clock::now_us;
use comity_store::OutboxEntry;
use tokio::task::JoinHandle;

use crate::identity::{NodeKey, PublicKey};
use crate::node::Node;
use crate::policy::MemberStatus;

use super::delivery::DeliveryError;
use super::envelope::{Kind, Receipt, Signed};
use super::plan::Withheld;
use super::pull;
use super::quota::Quotas;
use super::request_signature::{self, SignatureHeaders};
use super::transport::{inbox_url, PeerTransport, INBOX_PATH};

/// Envelopes sent per peer per round before the sender looks at other peers.
const BATCH: usize = 16;
/// How often the node pulls what its peers queued for it (catch-up after an outage).
const PULL_EVERY: Duration = Duration::from_secs(30);
/// Longest wait between two attempts at one envelope.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Told of objects the policy took out of an envelope as it left.
pub type WithheldHook = Arc<dyn Fn(&Withheld) + Send + Sync>;

/// The sender of one node: cheap to clone (every clone is the same sender).
#[derive(Clone)]
pub struct Sender {
    node: Node,
    transport: Arc<dyn PeerTransport>,
    quotas: Arc<Quotas>,
    withheld: WithheldHook,
    /// How many of this node's key statements each peer has taken, as far as this process
    /// knows (every statement is announced again after a restart; peers skip what they
    /// hold).
    announced: Arc<Mutex<HashMap<String, usize>>>,
}

impl Sender {
    /// The sender of `node` over `transport`; what is pulled is applied within `quotas`
    /// (those of the node's inbox).
    pub fn new(node: Node, transport: Arc<dyn PeerTransport>, quotas: Arc<Quotas>) -> Sender {
        Sender {
            node,
            transport,
            quotas,
            withheld: Arc::new(|_| {}),
            announced: Arc::default(),
        }
    }

    /// Calls `hook` with what the policy took out of each envelope as it left.
    pub fn on_withheld(self, hook: impl Fn(&Withheld) + Send + Sync + 'static) -> Sender {
        Sender {
            withheld: Arc::new(hook),
            ..self
        }
    }

    /// Starts the sender (which also pulls from peers every 30 s); it runs until aborted.
    /// First it queues the attachment bytes a crash left unqueued
    /// ([`crate::requests::resume_transfers`]).
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            if let Err(e) = crate::requests::resume_transfers(&self.node).await {
                tracing::warn!(error = %e, "queueing pending attachment transfers failed");
            }
            // Children are aborted with this task: the JoinSet is dropped with it.
            let mut tasks = tokio::task::JoinSet::new();
            let puller = self.clone();
            tasks.spawn(async move {
                loop {
                    if let Err(e) =
                        pull::catch_up(&puller.node, puller.transport.as_ref(), &puller.quotas)
                            .await
                    {
                        tracing::info!(error = %e, "catch-up pull failed");
                    }
                    tokio::time::sleep(PULL_EVERY).await;
                }
            });
            // Each peer is delivered to by a task of its own, so a slow or silent peer holds
            // up nobody else; a peer has at most one such task at a time.
            let in_flight = Arc::new(Mutex::new(HashSet::<String>::new()));
            loop {
                let woken = self.node.outbox_queued();
                while tasks.try_join_next().is_some() {}
                if let Err(e) = self.start_due(&in_flight, &mut tasks).await {
                    tracing::warn!(error = %e, "delivery round failed");
                }
                tokio::select! {
                    _ = woken => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
            }
        })
    }

    /// Sends `peer` this node's key statements it has not taken yet as far as this process
    /// knows, before anything this node signs with its new key reaches it: the peer then
    /// pins that key. A failure is logged and delivery goes on (the peer refuses what the
    /// new key signed until it takes the statements, and they are sent again next time).
    /// Says `false`, and nothing may be sent, while the node runs with a key its record no
    /// longer names (rotated by `comity key rotate`, not restarted yet).
    async fn announce_keys(
        &self,
        local: &str,
        peer: &str,
        endpoint: &str,
    ) -> Result<bool, DeliveryError> {
        let Some(local) = self.node.directory().member(local).await? else {
            return Ok(true);
        };
        if local.record.public_key != self.node.log().node_key().public_key().to_string() {
            tracing::warn!(
                key = %local.record.public_key,
                "this node's record names a rotated key it does not run with yet: nothing is \
                 sent until it is restarted with the key in its key file"
            );
            return Ok(false);
        }
        let history = &local.record.key_history;
        let taken = self
            .announced
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(peer)
            .copied()
            .unwrap_or(0);
        if history.len() <= taken {
            return Ok(true);
        }
        let body = serde_json::json!({"member": local.id.0, "statements": history}).to_string();
        match self.transport.post_keys(endpoint, body).await {
            Ok(answer) if answer.is_success() => {
                self.announced
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(peer.to_owned(), history.len());
                tracing::info!(peer = %peer, statements = history.len(), "key statements announced");
            }
            Ok(answer) => tracing::warn!(
                peer = %peer,
                status = %answer.status_text,
                reason = %String::from_utf8_lossy(&answer.body),
                "the peer refused this node's key statements"
            ),
            Err(e) => tracing::warn!(peer = %peer, error = %e, "key statements not announced"),
        }
        Ok(true)
    }

    /// Starts a delivery task for every peer with due envelopes that has none running.
    async fn start_due(
        &self,
        in_flight: &Arc<Mutex<HashSet<String>>>,
        tasks: &mut tokio::task::JoinSet<()>,
    ) -> Result<(), DeliveryError> {
        let store = self.node.store();
        for peer in store.outbox_peers().await? {
            if !in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(peer.clone())
            {
                continue;
            }
            let (sender, in_flight) = (self.clone(), in_flight.clone());
            tasks.spawn(async move {
                let delivered = match sender.deliver_peer(&peer).await {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(peer = %peer, error = %e, "delivery failed");
                        0
                    }
                };
                in_flight
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&peer);
                // What was queued for this peer while this task was finishing was skipped
                // as in flight: after a round that delivered, look again at once rather
                // than at the next poll. A round that delivered nothing does not, so a
                // peer that cannot be reached is never polled in a loop.
                if delivered > 0 {
                    sender.node.outbox_ready();
                }
            });
        }
        Ok(())
    }

    /// Delivers one peer's due envelopes in sequence order until none is due or one fails,
    /// and says how many it delivered. What leaves is decided again now: a suspended member
    /// gets nothing (its envelopes wait), and objects no agreement in force covers any more
    /// are taken out of the envelope.
    pub async fn deliver_peer(&self, peer: &str) -> Result<u64, DeliveryError> {
        let store = self.node.store();
        let registry = self.node.directory();
        let federation = registry.federation().await?;
        let Some(local) = federation.local.clone() else {
            return Ok(0);
        };
        let Some(member) = registry.member(peer).await? else {
            return Ok(0);
        };
        if member.status == MemberStatus::Suspended {
            return Ok(0);
        }
        let (Some(endpoint), Ok(key)) = (
            member.record.delivery_endpoint(),
            member.record.public_key.parse::<PublicKey>(),
        ) else {
            return Ok(0);
        };
        if !self.announce_keys(&local.0, peer, &endpoint).await? {
            return Ok(0);
        }
        // The receipt of one envelope is recorded while the next one is sent: the peer has
        // applied the first already (it answers only then), and should this node stop
        // before the record is written, the envelope goes again and the peer answers it
        // with the receipt it recorded. Records are written in sequence order, each
        // finished before the outbox is read again or a failure is recorded.
        let mut recording: Option<Recording> = None;
        let mut delivered = 0;
        loop {
            if let Some(previous) = recording.take() {
                previous.await?;
            }
            let due = store.outbox_due(peer, now_us(), BATCH).await?;
            if due.is_empty() {
                return Ok(delivered);
            }
            for entry in due {
                // What leaves is sealed to the peer, objects and sightings as the policy
                // decides now. An entry that cannot leave (the peer publishes no encryption
                // key) waits, its reason in the outbox; nothing leaves unsealed.
                let mut withheld = Withheld::default();
                let envelope = pull::outbox_envelope(
                    &entry,
                    &local.0,
                    self.node.log().node_key(),
                    &federation,
                    &mut withheld,
                );
                (self.withheld)(&withheld);
                let sent = match envelope {
                    Ok(envelope) => {
                        let sending = self.send(&local.0, &endpoint, &key, &entry, envelope);
                        match recording.take() {
                            Some(previous) => {
                                let (sent, recorded) = tokio::join!(sending, previous);
                                recorded?;
                                sent
                            }
                            None => sending.await,
                        }
                    }
                    Err(e) => {
                        if let Some(previous) = recording.take() {
                            previous.await?;
                        }
                        Err(e.into())
                    }
                };
                match sent {
                    Ok(receipt) => {
                        delivered += 1;
                        recording = Some(self.record(&entry, receipt));
                    }
                    Err(why) => {
                        let wait = backoff(entry.attempts);
                        tracing::info!(peer = %peer, seq = entry.seq, error = %why, retry_in_ms = wait.as_millis() as u64, "delivery failed");
                        store
                            .outbox_failed(
                                peer,
                                entry.seq,
                                &why.to_string(),
                                now_us() + wait.as_micros() as i64,
                            )
                            .await?;
                        return Ok(delivered);
                    }
                }
            }
        }
    }

    /// Records `receipt` (verified, received now) as the answer to `entry`.
    fn record(&self, entry: &OutboxEntry, receipt: Signed) -> Recording {
        let (store, peer, seq, at) = (
            self.node.store_arc(),
            entry.peer.clone(),
            entry.seq,
            now_us(),
        );
        Box::pin(async move {
            store
                .outbox_delivered(&peer, seq, at, &receipt.to_json())
                .await?;
            Ok(())
        })
    }

    /// Sends `envelope` (made from `entry`) and returns the peer's receipt, verified.
    async fn send(
        &self,
        local: &str,
        endpoint: &str,
        key: &PublicKey,
        entry: &OutboxEntry,
        envelope: Signed,
    ) -> Result<Signed, DeliveryError> {
        let envelope = envelope.to_json();
        let url = inbox_url(endpoint);
        let signature = sign_for_inbox(self.node.log().node_key(), local, &envelope);
        let answer = self
            .transport
            .post_inbox(endpoint, envelope, signature)
            .await?;
        let bytes = answer.body;
        if answer.status != 200 && answer.status != 422 {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
            return Err(DeliveryError::Status {
                url,
                status: answer.status,
                status_text: answer.status_text,
                body: text,
            });
        }
        let unverified = |source| DeliveryError::Unverified {
            from: url.clone(),
            source,
        };
        let receipt = Signed::parse(&bytes).map_err(unverified)?;
        receipt.verify(key).map_err(unverified)?;
        let body: Receipt =
            serde_json::from_str(receipt.envelope.body.get()).map_err(|source| {
                DeliveryError::Unreadable {
                    from: url.clone(),
                    source,
                }
            })?;
        if receipt.envelope.kind != Kind::Receipt
            || receipt.envelope.from != entry.peer
            || body.envelope != entry.id
        {
            return Err(DeliveryError::OtherReceipt { url });
        }
        if body.outcome == "refused" {
            tracing::warn!(peer = %entry.peer, seq = entry.seq, reason = ?body.reason, "envelope refused by the peer");
        } else if !body.refused.is_empty() {
            tracing::warn!(peer = %entry.peer, seq = entry.seq, refused = body.refused.len(), "objects refused by the peer");
        }
        Ok(receipt)
    }
}

/// The write of a verified receipt, to be awaited (it starts when first polled).
type Recording =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), DeliveryError>> + Send>>;

/// Exponential backoff from one second, capped, with ±25 % jitter.
fn backoff(attempts: u32) -> Duration {
    use rand::Rng as _;
    let base = Duration::from_secs(1u64 << attempts.min(9)).min(MAX_BACKOFF);
    base.mul_f64(rand::thread_rng().gen_range(0.75..1.25))
}

/// The signature of a POST of `envelope` (its JSON text) to a peer's inbox by `local`,
/// made with its node `key`, as the inbox requires.
pub fn sign_for_inbox(key: &NodeKey, local: &str, envelope: &str) -> SignatureHeaders {
    request_signature::sign(
        key,
        local,
        "POST",
        INBOX_PATH,
        envelope.as_bytes(),
        now_us() / 1_000_000,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use async_trait::async_trait;
    use comity_store::prelude::*;
    use comity_store_sqlite::SqliteStore;

    use crate::federation::inbox::{Answer, Inbox};
    use crate::federation::test_nodes::{self, draft, pin_reachable, signer, Node as TestNode};
    use crate::federation::transport::{PeerAnswer, TransportError};
    use crate::identity::rotation::SignedKeyStatement;
    use crate::log::NodeLog;
    use crate::registry::{Directory, Registry};

    /// Carries envelopes straight into the peer's inbox, or fails when `down`.
    struct Direct {
        store: SqliteStore,
        log: NodeLog,
        from: String,
        down: bool,
    }

    #[async_trait]
    impl PeerTransport for Direct {
        async fn post_inbox(
            &self,
            _endpoint: &str,
            envelope: String,
            _signature: SignatureHeaders,
        ) -> Result<PeerAnswer, TransportError> {
            if self.down {
                return Err(TransportError("cannot reach the peer".into()));
            }
            let answer = Inbox::new(&self.store, &self.log)
                .receive(&self.from, envelope.as_bytes())
                .await
                .map_err(|e| TransportError(e.to_string()))?;
            let (status, receipt) = match answer {
                Answer::Delivered(r) => (200, r),
                Answer::Refused(r) => (422, r),
                other => return Err(TransportError(format!("{other:?}"))),
            };
            Ok(PeerAnswer {
                status,
                status_text: status.to_string(),
                body: receipt.to_json().into_bytes(),
            })
        }

        async fn get_outbox(
            &self,
            _endpoint: &str,
            _after: u64,
            _authorization: String,
        ) -> Result<PeerAnswer, TransportError> {
            Err(TransportError("no pulls here".into()))
        }

        async fn post_keys(
            &self,
            _endpoint: &str,
            body: String,
        ) -> Result<PeerAnswer, TransportError> {
            #[derive(serde::Deserialize)]
            struct Body {
                member: String,
                statements: Vec<SignedKeyStatement>,
            }
            let body: Body =
                serde_json::from_str(&body).map_err(|e| TransportError(e.to_string()))?;
            let taken = Registry::new(&self.store, &self.log)
                .take_key_statements(&body.member, &body.statements)
                .await;
            let (status, text) = match taken {
                Ok(n) => (200, n.to_string()),
                Err(e) => (422, e.to_string()),
            };
            Ok(PeerAnswer {
                status,
                status_text: status.to_string(),
                body: text.into_bytes(),
            })
        }
    }

    #[tokio::test]
    async fn after_a_rotation_nothing_leaves_until_restart_then_the_peer_takes_the_key_first() {
        let (a, b, sender) = proposal_queued(false).await;
        let new = NodeKey::from_log_signer(&signer(11)).unwrap();
        a.registry().rotate_local_key(&new, now_us()).await.unwrap();
        // Still running with the key it rotated out: nothing leaves.
        assert_eq!(sender.deliver_peer(&b.id).await.unwrap(), 0);
        assert_eq!(b.store.inbox_last_seq(&a.id).await.unwrap(), 0);
        // Restarted with the new key: the statement goes first, then the agreement proposal
        // (signed with the old key before the rotation, which still holds) and the new
        // record, both in envelopes signed with the new key.
        let node = Node::with_log(
            Arc::new(SqliteStore::open(a.dir.path()).unwrap()),
            NodeLog::new(signer(11)).unwrap(),
        );
        let restarted = Sender::new(node, sender.transport.clone(), sender.quotas.clone());
        assert_eq!(restarted.deliver_peer(&b.id).await.unwrap(), 2);
        let pinned = Directory::new(&b.store)
            .member(&a.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(pinned.record.public_key, new.public_key().to_string());
        assert_eq!(pinned.record.key_history.len(), 1);
        assert!(b.registry().agreements().await.unwrap().len() == 1);
        assert!(a
            .store
            .outbox_due(&b.id, now_us(), 10)
            .await
            .unwrap()
            .is_empty());
    }

    /// Node `a` (seed 1) with an agreement proposal queued for `b` (seed 2), and the
    /// sender of `a` over a transport into `b`'s inbox.
    async fn proposal_queued(down: bool) -> (TestNode, TestNode, Sender) {
        let (a, b) = (test_nodes::node(1).await, test_nodes::node(2).await);
        pin_reachable(&a, &b).await;
        pin_reachable(&b, &a).await;
        crate::federation::agreement::propose(
            &a.registry(),
            draft("CTI", &[&b.id], &["indicator"], "amber"),
            a.log.node_key(),
            true,
        )
        .await
        .unwrap();
        let node = Node::with_log(
            Arc::new(SqliteStore::open(a.dir.path()).unwrap()),
            NodeLog::new(signer(1)).unwrap(),
        );
        let transport = Direct {
            store: SqliteStore::open(b.dir.path()).unwrap(),
            log: NodeLog::new(signer(2)).unwrap(),
            from: a.id.clone(),
            down,
        };
        let quotas = Arc::new(Quotas::new(Default::default()));
        (a, b, Sender::new(node, Arc::new(transport), quotas))
    }

    #[tokio::test]
    async fn the_sender_delivers_the_outbox_and_records_the_verified_receipt() {
        let (a, b, sender) = proposal_queued(false).await;
        let queued = a.store.outbox_after(&b.id, 0, 10).await.unwrap();
        assert!(!queued.is_empty());
        let delivered = sender.deliver_peer(&b.id).await.unwrap();
        assert_eq!(delivered, queued.len() as u64);
        // Nothing is left: a second round delivers nothing (and so wakes no one).
        assert_eq!(sender.deliver_peer(&b.id).await.unwrap(), 0);
        let after = a.store.outbox_after(&b.id, 0, 10).await.unwrap();
        assert_eq!(after.len(), queued.len());
        for entry in &after {
            assert!(entry.delivered_at.is_some(), "{entry:?}");
            let receipt = Signed::parse(entry.receipt.as_deref().unwrap().as_bytes()).unwrap();
            assert_eq!(receipt.envelope.kind, Kind::Receipt);
            assert_eq!(receipt.envelope.from, b.id);
        }
        assert_eq!(
            b.store.inbox_last_seq(&a.id).await.unwrap(),
            queued.last().unwrap().seq
        );
    }

    #[tokio::test]
    async fn a_failed_delivery_is_retried_later_with_backoff() {
        let (a, b, sender) = proposal_queued(true).await;
        assert_eq!(
            sender.deliver_peer(&b.id).await.unwrap(),
            0,
            "nothing delivered"
        );
        let entry = a.store.outbox_after(&b.id, 0, 10).await.unwrap().remove(0);
        assert_eq!(entry.delivered_at, None);
        assert_eq!(entry.attempts, 1);
        assert_eq!(entry.last_error.as_deref(), Some("cannot reach the peer"));
        assert!(entry.next_attempt_at >= now_us() + 500_000, "{entry:?}");
        assert!(a
            .store
            .outbox_due(&b.id, now_us(), 10)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(b.store.inbox_last_seq(&a.id).await.unwrap(), 0);
    }

    /// Answers every envelope with `403 Forbidden` and a reason, as a peer that does not
    /// know this node does.
    struct Forbidding;

    #[async_trait]
    impl PeerTransport for Forbidding {
        async fn post_inbox(
            &self,
            _endpoint: &str,
            _envelope: String,
            _signature: SignatureHeaders,
        ) -> Result<PeerAnswer, TransportError> {
            Ok(PeerAnswer {
                status: 403,
                status_text: "403 Forbidden".into(),
                body: b"not a member".to_vec(),
            })
        }

        async fn get_outbox(
            &self,
            _endpoint: &str,
            _after: u64,
            _authorization: String,
        ) -> Result<PeerAnswer, TransportError> {
            Err(TransportError("no pulls here".into()))
        }
    }

    #[tokio::test]
    async fn a_refusal_by_the_peer_surfaces_with_its_status_and_is_retried_later() {
        let (a, b, sender) = proposal_queued(false).await;
        let sender = Sender::new(
            sender.node.clone(),
            Arc::new(Forbidding),
            sender.quotas.clone(),
        );
        let entry = a.store.outbox_after(&b.id, 0, 10).await.unwrap().remove(0);
        let key = b.log.node_key().public_key();
        let federation = a.registry().federation().await.unwrap();
        let envelope = pull::outbox_envelope(
            &entry,
            &a.id,
            a.log.node_key(),
            &federation,
            &mut Default::default(),
        )
        .unwrap();
        match sender
            .send(&a.id, "https://peer.example", &key, &entry, envelope)
            .await
        {
            Err(DeliveryError::Status { status, body, .. }) => {
                assert_eq!((status, body.as_str()), (403, "not a member"))
            }
            other => panic!("{other:?}"),
        }
        sender.deliver_peer(&b.id).await.unwrap();
        let entry = a.store.outbox_after(&b.id, 0, 10).await.unwrap().remove(0);
        assert_eq!(entry.delivered_at, None);
        assert_eq!(entry.attempts, 1);
        assert_eq!(
            entry.last_error.as_deref(),
            Some("https://peer.example/federation/v1/inbox answered 403 Forbidden: not a member")
        );
    }

    #[test]
    fn backoff_doubles_from_one_second_with_jitter_and_a_cap() {
        for attempts in 0..12 {
            let base = Duration::from_secs(1u64 << attempts.min(9)).min(MAX_BACKOFF);
            let wait = backoff(attempts);
            assert!(wait >= base.mul_f64(0.75) && wait <= base.mul_f64(1.25));
        }
    }
}
