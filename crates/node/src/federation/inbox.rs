//! Receiving an envelope: check who sent it (a registered, active member whose pinned key
//! verifies the signature), that it is for this node, timely and next in the sender's
//! sequence; deduplicate by id; then apply it by kind: for `stix-objects`, check every
//! object against the agreements in force with the sender and the policy engine and store
//! what passes atomically with the inbox record and the log commitments; for `agreement`,
//! see [`super::agreement`]; for `sighting`, see [`super::sighting`]. Answer with a receipt
//! signed by this node. A refusal of an authenticated member is signed and recorded too,
//! never silent; anything that does not come from the member that signed the request (see
//! [`super::request_signature`]) is rejected unsigned. A `checkpoint`
//! envelope (unsequenced) goes to the witness instead ([`super::witnessing`]), which
//! answers with a signed `cosignature`.

use std::sync::Arc;

use comity_stix::tlp::Tlp;
use comity_store::{Collection, CollectionRef, InboxOutcome, InboxRecord, Store, StoreError};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::identity::PublicKey;
use crate::intake;
use crate::log::{LogError, NodeLog};
use crate::policy::{
    Access, Agreement, AgreementStatus, Channel, Decision, MarkedObject, MemberId, MemberStatus,
    Peer, Policy, Purpose, Requester,
};
use crate::registry::{Directory, Registry, RegistryError, RegistryState};
use crate::requests::attachments::Attachments;
use crate::requests::notify::Notices;
use comity_stix::clock::now_us;

use super::envelope::{Envelope, EnvelopeError, Kind, Receipt, RefusedObject, Signed};
use super::quota::{OverQuota, Quotas};
use super::seal::{self, OpeningKey};

/// The API root where received objects are kept.
pub const API_ROOT: &str = "default";

/// What the inbox answers.
#[derive(Debug)]
pub enum Answer {
    /// Applied (or applied before: the same receipt again). Some objects may have been
    /// refused; the receipt lists them.
    Delivered(Signed),
    /// Refused as a whole, for good; the signed receipt says why.
    Refused(Signed),
    /// Not now: an earlier envelope of the sender is missing. Nothing was recorded; the
    /// sender retries after sending the missing one.
    OutOfOrder {
        /// The sequence number this node expects next from the sender.
        expected: u64,
    },
    /// A checkpoint envelope was witnessed: cosigned or refused, in a signed `cosignature`
    /// envelope (see [`super::witnessing`]).
    Witness(super::witnessing::Witnessed),
    /// Beyond the sender's quota: refused, signed, not recorded (the sender retries after
    /// `retry_after` seconds).
    OverQuota {
        /// The signed refusal.
        receipt: Signed,
        /// Seconds after which the envelope would fit.
        retry_after: u64,
    },
    /// Not an envelope signed by the member the request came from: nothing is signed,
    /// recorded or applied; the reason is for the HTTP error.
    Rejected(EnvelopeError),
}

/// Failures that are this node's, not the sender's: the sender should retry.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The registry could not be read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// This node has no member record.
    #[error("this node has no member record; run `comity init`")]
    NoIdentity,
}

/// The inbox of this node.
pub struct Inbox<'a> {
    store: &'a dyn Store,
    log: &'a NodeLog,
    quotas: Option<&'a Quotas>,
    registry: Option<&'a RegistryState>,
    notices: Option<&'a Notices>,
    attachments: Option<&'a Attachments>,
    wake: Option<&'a Notify>,
}

impl<'a> Inbox<'a> {
    /// The inbox over `store`, signing receipts and committing with `log`.
    pub fn new(store: &'a dyn Store, log: &'a NodeLog) -> Inbox<'a> {
        Inbox {
            store,
            log,
            quotas: None,
            registry: None,
            notices: None,
            attachments: None,
            wake: None,
        }
    }

    /// The same inbox, waking `sender` (the federation sender's signal) after each envelope
    /// it takes in: one may have queued an answer for a peer (a request's delivery event),
    /// which then leaves at once rather than at the sender's next poll.
    pub fn with_wake(self, sender: &'a Notify) -> Inbox<'a> {
        Inbox {
            wake: Some(sender),
            ..self
        }
    }

    /// The same inbox, changing the registry with the node's registry `state`
    /// ([`crate::Node::registry_state`]); without it, agreement changes rely on the store's
    /// compare and swap alone and signatures are verified every time.
    pub fn with_registry_state(self, state: &'a RegistryState) -> Inbox<'a> {
        Inbox {
            registry: Some(state),
            ..self
        }
    }

    /// The node's registry, committing to the inbox's log.
    pub(super) fn registry(&self) -> Registry<'a> {
        match self.registry {
            Some(state) => Registry::with_state(self.store, self.log, state),
            None => Registry::new(self.store, self.log),
        }
    }

    /// The same inbox, taking shared objects only within each sender's `quotas`.
    pub fn with_quotas(self, quotas: &'a Quotas) -> Inbox<'a> {
        Inbox {
            quotas: Some(quotas),
            ..self
        }
    }

    /// The same inbox, publishing on `notices` ([`crate::Node::notices`]) every new event
    /// of a request that the other party made.
    pub fn with_notices(self, notices: &'a Notices) -> Inbox<'a> {
        Inbox {
            notices: Some(notices),
            ..self
        }
    }

    /// The same inbox, keeping the attachments of requests that arrive in `attachments`
    /// ([`crate::Node::attachments`]); without them, attachment chunks are refused.
    pub fn with_attachments(self, attachments: Option<&'a Attachments>) -> Inbox<'a> {
        Inbox {
            attachments,
            ..self
        }
    }

    /// Where the attachments of requests are kept, if anywhere.
    pub(super) fn attachments(&self) -> Option<&'a Attachments> {
        self.attachments
    }

    /// The answer to an envelope carrying `objects` objects that would overdraw its
    /// sender's quota (None when within it, or when this inbox counts none); within it,
    /// the envelope's allowance is taken.
    pub(super) fn beyond_quota(&self, local: &str, env: &Envelope, objects: u64) -> Option<Answer> {
        let quotas = self.quotas?;
        let size = env.body.get().len() as u64;
        match quotas.take(&env.from, objects, size) {
            Ok(()) => None,
            Err(over) => Some(self.over_quota(local, env, &over)),
        }
    }

    /// Where notices of requests go, if anywhere.
    pub(super) fn notices(&self) -> Option<&'a Notices> {
        self.notices
    }

    /// Receives one envelope (its JSON text) that came from member `sender`: the member
    /// whose signature on the request was verified, or the peer it was pulled from.
    pub async fn receive(&self, sender: &str, text: &[u8]) -> Result<Answer, InboxError> {
        let answer = self.take_in(sender, text).await;
        if let (Ok(Answer::Delivered(_)), Some(wake)) = (&answer, self.wake) {
            wake.notify_one();
        }
        answer
    }

    async fn take_in(&self, sender: &str, text: &[u8]) -> Result<Answer, InboxError> {
        let registry = self.registry();
        let local = registry
            .local_member()
            .await?
            .ok_or(InboxError::NoIdentity)?
            .id
            .0;
        let rejected = |e: EnvelopeError| {
            tracing::warn!(from = %sender, reason = %e, "envelope rejected");
            Ok(Answer::Rejected(e))
        };
        let signed = match Signed::parse(text) {
            Ok(s) => s,
            Err(e) => return rejected(e),
        };
        let env = &signed.envelope;
        if env.from != sender {
            return rejected(EnvelopeError::NotFromSender {
                from: env.from.clone(),
                sender: sender.to_owned(),
            });
        }
        if env.to != local {
            return rejected(EnvelopeError::NotForUs(env.to.clone()));
        }
        let Some(sender) = registry.member(&env.from).await? else {
            return rejected(EnvelopeError::UnknownSender(env.from.clone()));
        };
        let key: PublicKey = match sender.record.public_key.parse() {
            Ok(k) => k,
            Err(_) => return rejected(EnvelopeError::UnknownSender(env.from.clone())),
        };
        if let Err(e) = signed.verify(&key) {
            return rejected(e);
        }
        // From here the sender is who it says. Checkpoints are unsequenced and answered with
        // a cosignature, not a receipt.
        if env.kind == Kind::Checkpoint {
            return super::witnessing::receive(
                self.store, self.log, &local, &sender, &key, &signed,
            )
            .await
            .map(Answer::Witness)
            .map_err(InboxError::from);
        }
        // Answers are recorded against the sender.
        if let Some(done) = self.store.inbox_record(&env.from, &env.id).await? {
            return recorded_answer(&done);
        }
        // The sequence first: only the next envelope is answered for good. One that was
        // overtaken is refused without a record (its number belongs to another envelope);
        // one beyond the next waits for the sender to send the missing ones.
        let last = self.store.inbox_last_seq(&env.from).await?;
        if env.seq <= last {
            return Ok(self.used_already(&local, env, last));
        }
        if env.seq > last + 1 {
            return Ok(Answer::OutOfOrder { expected: last + 1 });
        }
        if sender.status == MemberStatus::Suspended {
            let why = EnvelopeError::SuspendedSender(env.from.clone()).to_string();
            return self.refuse_recorded(&local, env, why).await;
        }
        if let Err(e) = signed.check_time(OffsetDateTime::now_utc()) {
            return self.refuse_recorded(&local, env, e.to_string()).await;
        }
        // The signature covered the sealed body; now it is opened for this envelope. A body
        // of a sealed kind that is not sealed, sealed to another key or for another
        // envelope, or changed, is refused: nothing of it is applied.
        let opened;
        let env = if seal::is_sealed(env.kind) {
            match seal::open_received(env, &OpeningKey::of(self.log.node_key())) {
                Ok(body) => {
                    opened = Envelope {
                        body,
                        ..env.clone()
                    };
                    &opened
                }
                // The signature was verified: the sender made this body. Sealed to a key
                // of this node's that was rotated out, it is sent again once sealed anew.
                Err(seal::SealError::DoesNotOpen) => {
                    return rejected(EnvelopeError::SealedToAnotherKey)
                }
                Err(e) => return self.refuse_recorded(&local, env, e.to_string()).await,
            }
        } else {
            env
        };
        match env.kind {
            Kind::StixObjects => self.apply(&local, env).await,
            Kind::Agreement => super::agreement::receive(self, &local, env).await,
            Kind::Sighting => super::sighting::receive(self, &local, env).await,
            Kind::Request => super::request::receive(self, &local, env, &key).await,
            Kind::Attachment => super::request::receive_chunk(self, &local, env).await,
            Kind::Governance => super::governance::receive(self, &local, env).await,
            Kind::Member => super::member::receive(self, &local, env).await,
            other => {
                let why = format!(
                    "envelopes of kind {} are not accepted by this node yet",
                    other.as_str()
                );
                self.refuse_recorded(&local, env, why).await
            }
        }
    }

    /// The store this inbox writes to.
    pub(super) fn store(&self) -> &'a dyn Store {
        self.store
    }

    /// The log this inbox commits to.
    pub(super) fn log(&self) -> &'a NodeLog {
        self.log
    }

    /// Records an envelope whose content was taken in already (by its kind's module) and
    /// answers with a signed receipt; `accepted` counts what it brought.
    pub(super) async fn deliver_recorded(
        &self,
        local: &str,
        env: &Envelope,
        accepted: u64,
    ) -> Result<Answer, InboxError> {
        let outcome = InboxOutcome::Delivered;
        let receipt = self.receipt(local, env, outcome, None, accepted, Vec::new());
        let record = record_of(env, outcome, None, &receipt);
        match self.store.inbox_put(&record).await {
            Ok(true) => Ok(Answer::Delivered(receipt)),
            // Recorded concurrently by another request: answer with what was recorded.
            Ok(false) => self.recorded(env).await,
            Err(StoreError::Conflict(_)) => Ok(self.used_already(local, env, env.seq)),
            Err(e) => Err(e.into()),
        }
    }

    /// Applies a `stix-objects` envelope from a verified, active sender.
    async fn apply(&self, local: &str, env: &Envelope) -> Result<Answer, InboxError> {
        #[derive(serde::Deserialize)]
        struct Body {
            objects: Vec<Box<RawValue>>,
        }
        let body: Body = match serde_json::from_str(env.body.get()) {
            Ok(b) => b,
            Err(e) => {
                let why = format!("the body is not {{\"objects\": [...]}}: {e}");
                return self.refuse_recorded(local, env, why).await;
            }
        };
        let federation = Directory::new(self.store).federation().await?;
        let ours = MemberId(local.to_owned());
        let sender = MemberId(env.from.clone());
        let now = OffsetDateTime::now_utc();
        let agreements = federation
            .peers
            .get(&sender)
            .map(|p| p.agreements.clone())
            .unwrap_or_default();
        // Nothing is taken in without an agreement in force with the sender, not even
        // TLP:CLEAR; the whole envelope is refused before any object is looked at.
        if !agreements.iter().any(|a| in_force(a, now)) {
            let why = format!(
                "no agreement in force between {} and this node: nothing it shares is taken in",
                env.from
            );
            return self.refuse_recorded(local, env, why).await;
        }
        if let Some(quotas) = self.quotas {
            let size = env.body.get().len() as u64;
            if let Err(over) = quotas.take(&env.from, body.objects.len() as u64, size) {
                return Ok(self.over_quota(local, env, &over));
            }
        }
        // The sender's releases to us are judged as the sender's node would judge them: the
        // same engine, with the sender as the giver and this node as the receiving peer.
        let us_as_peer = Requester::Peer(Peer {
            member: ours.clone(),
            status: MemberStatus::Active,
            agreements: agreements.clone(),
        });
        let examined: Vec<_> = body
            .objects
            .iter()
            .enumerate()
            .map(|(i, raw)| intake::examine(i, raw))
            .collect();
        // Marking references resolve against the definitions this node holds and those that
        // come in the same envelope (as ATT&CK's copyright statement comes with its objects).
        let mut markings = (*federation.markings).clone();
        markings.hold_json(
            examined
                .iter()
                .flatten()
                .filter(|e| e.object.object_type == "marking-definition")
                .map(|e| e.object.json.as_str()),
        );
        let policy = Policy {
            markings: Arc::new(markings),
            ..Policy::new(sender.clone())
        };
        let now = OffsetDateTime::now_utc();
        let mut accepted = Vec::new();
        let mut refused = Vec::new();
        for (raw, examined) in body.objects.iter().zip(examined) {
            let mut examined = match examined {
                Ok(e) => e,
                Err(r) => {
                    refused.push(RefusedObject {
                        id: Some(r.id),
                        reason: r.reasons.join("; "),
                    });
                    continue;
                }
            };
            let marked = match MarkedObject::from_json(raw.get(), |_| sender.clone()) {
                Ok(m) => m,
                Err(e) => {
                    refused.push(RefusedObject {
                        id: Some(examined.object.id.clone()),
                        reason: format!("its markings cannot be read: {e}"),
                    });
                    continue;
                }
            };
            // An agreement in force must cover it (whatever its TLP level; unmarked counts as
            // AMBER, as for the engine), and the engine must let it come from the sender.
            let level = marked.tlp(&policy.markings).unwrap_or(Tlp::Amber);
            let allowed = Purpose::ALL.into_iter().any(|purpose| {
                agreements.iter().any(|a| {
                    a.gap(&marked, level, &sender, &ours, purpose, now)
                        .is_none()
                }) && matches!(
                    policy.decide(&Access {
                        object: &marked,
                        requester: &us_as_peer,
                        channel: Channel::FederationSend,
                        purpose,
                        at: now,
                    }),
                    Decision::Allow { .. }
                )
            });
            if !allowed {
                refused.push(RefusedObject {
                    id: Some(examined.object.id.clone()),
                    reason: format!(
                        "no agreement in force between {} and this node covers it",
                        env.from
                    ),
                });
                continue;
            }
            examined.originator = Some(env.from.clone());
            accepted.push(examined);
        }
        let collection = self.collection_for(&env.from).await?;
        let entries = self.log.object_entries(&accepted)?;
        let count = accepted.len() as u64;
        let reason = (!refused.is_empty()).then(|| format!("{} objects refused", refused.len()));
        let receipt = self.receipt(local, env, InboxOutcome::Delivered, reason, count, refused);
        let record = record_of(env, InboxOutcome::Delivered, None, &receipt);
        let objects = accepted.into_iter().map(|e| e.object).collect();
        let applied = match self
            .store
            .inbox_apply(&record, &collection, objects, entries)
            .await
        {
            // Another envelope took this sequence number meanwhile.
            Err(StoreError::Conflict(_)) => return Ok(self.used_already(local, env, env.seq)),
            other => other?,
        };
        match applied {
            Some(_) => Ok(Answer::Delivered(receipt)),
            // Applied concurrently by another request: answer with what was recorded.
            None => self.recorded(env).await,
        }
    }

    /// Stores `objects` (accepted from `env`, all of them) in `collection` with the inbox
    /// record and their log commitments `entries` in one transaction, and answers with a
    /// signed receipt; a concurrent or earlier application gets the receipt recorded then.
    pub(super) async fn apply_objects(
        &self,
        local: &str,
        env: &Envelope,
        collection: &CollectionRef,
        objects: Vec<comity_store::NewObject>,
        entries: Vec<comity_store::OpenableEntry>,
    ) -> Result<Answer, InboxError> {
        let count = objects.len() as u64;
        let receipt = self.receipt(local, env, InboxOutcome::Delivered, None, count, Vec::new());
        let record = record_of(env, InboxOutcome::Delivered, None, &receipt);
        let applied = match self
            .store
            .inbox_apply(&record, collection, objects, entries)
            .await
        {
            Err(StoreError::Conflict(_)) => return Ok(self.used_already(local, env, env.seq)),
            other => other?,
        };
        if applied.is_some() {
            return Ok(Answer::Delivered(receipt));
        }
        self.recorded(env).await
    }

    /// The answer recorded for `env` by the request that got there first.
    async fn recorded(&self, env: &Envelope) -> Result<Answer, InboxError> {
        let done = self
            .store
            .inbox_record(&env.from, &env.id)
            .await?
            .ok_or_else(|| StoreError::Backend("inbox record vanished".into()))?;
        recorded_answer(&done)
    }

    /// The collection that receives `sender`'s objects, made on first use. Its id is
    /// derived from the sender's (other collections, such as the sender's sightings, have
    /// the same origin).
    async fn collection_for(&self, sender: &str) -> Result<CollectionRef, InboxError> {
        let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, sender.as_bytes()).to_string();
        member_collection(
            self.store,
            sender,
            id,
            |name| format!("Shared by {name}"),
            format!("Objects {sender} shared with this node."),
        )
        .await
    }

    fn receipt(
        &self,
        local: &str,
        env: &Envelope,
        outcome: InboxOutcome,
        reason: Option<String>,
        accepted: u64,
        refused: Vec<RefusedObject>,
    ) -> Signed {
        let body = Receipt {
            envelope: env.id.clone(),
            seq: env.seq,
            outcome: outcome.as_str().to_owned(),
            reason,
            accepted,
            refused,
        };
        let raw = serde_json::value::to_raw_value(&body)
            .unwrap_or_else(|_| RawValue::from_string("{}".to_owned()).expect("{} is JSON"));
        Envelope::new(local, &env.from, Kind::Receipt, 0, raw).sign(self.log.node_key())
    }

    /// The refusal of an envelope beyond the sender's quota: signed, not recorded (it may
    /// come again once the sender's allowance has refilled).
    fn over_quota(&self, local: &str, env: &Envelope, over: &OverQuota) -> Answer {
        tracing::warn!(from = %env.from, envelope = %env.id, reason = %over, "envelope over quota");
        let receipt = self.receipt(
            local,
            env,
            InboxOutcome::Refused,
            Some(over.to_string()),
            0,
            Vec::new(),
        );
        Answer::OverQuota {
            receipt,
            retry_after: over.retry_after,
        }
    }

    /// The refusal of an envelope whose sequence number another envelope of the sender
    /// took: signed (the sender is authenticated), not recorded, since the number is that
    /// other envelope's.
    fn used_already(&self, local: &str, env: &Envelope, last: u64) -> Answer {
        let why = format!(
            "sequence number {} was used already by another envelope from {}; the next is {}",
            env.seq,
            env.from,
            last + 1
        );
        tracing::warn!(from = %env.from, envelope = %env.id, reason = %why, "envelope refused");
        Answer::Refused(self.receipt(local, env, InboxOutcome::Refused, Some(why), 0, Vec::new()))
    }

    /// A refusal of an authenticated sender's envelope: signed, recorded (so a retry gets
    /// the same answer), and committed to the log.
    pub(super) async fn refuse_recorded(
        &self,
        local: &str,
        env: &Envelope,
        why: String,
    ) -> Result<Answer, InboxError> {
        tracing::warn!(from = %env.from, envelope = %env.id.escape_debug(), reason = %why, "envelope refused");
        let receipt = self.receipt(
            local,
            env,
            InboxOutcome::Refused,
            Some(why.clone()),
            0,
            Vec::new(),
        );
        let record = record_of(env, InboxOutcome::Refused, Some(why), &receipt);
        match self.store.inbox_put(&record).await {
            Err(StoreError::Conflict(_)) => return Ok(self.used_already(local, env, env.seq)),
            other => {
                other?;
            }
        }
        let act = crate::log::Act {
            kind: comity_tlog::entry::ENVELOPE_REFUSED.to_owned(),
            actor: env.from.clone(),
            subject: format!("envelope:{}", env.id),
            canonical: record.receipt.clone().into_bytes(),
        };
        self.log.record(self.store, act).await?;
        Ok(Answer::Refused(receipt))
    }
}

/// Whether `agreement` is in force at `now`: signed by every party, not suspended or ended,
/// within its dates.
fn in_force(agreement: &Agreement, now: OffsetDateTime) -> bool {
    agreement.status == AgreementStatus::Active
        && agreement.valid_from <= now
        && agreement.valid_until.is_none_or(|until| now < until)
}

/// The journal record of an answered envelope.
fn record_of(
    env: &Envelope,
    outcome: InboxOutcome,
    reason: Option<String>,
    receipt: &Signed,
) -> InboxRecord {
    InboxRecord {
        sender: env.from.clone(),
        id: env.id.clone(),
        seq: env.seq,
        kind: env.kind.as_str().to_owned(),
        received_at: now_us(),
        outcome,
        reason,
        receipt: receipt.to_json(),
    }
}

/// The answer given before to the envelope of `done`: the same signed receipt.
fn recorded_answer(done: &InboxRecord) -> Result<Answer, InboxError> {
    let receipt = Signed::parse(done.receipt.as_bytes())
        .map_err(|e| StoreError::Backend(format!("stored receipt unreadable: {e}")))?;
    Ok(if done.outcome == InboxOutcome::Delivered {
        Answer::Delivered(receipt)
    } else {
        Answer::Refused(receipt)
    })
}

/// Collection `id`, holding what member `sender` sent this node, made on first use with its
/// origin set to `sender`, the title `title` gives for the member's registered name (else
/// its id), and `description`.
pub(super) async fn member_collection(
    store: &dyn Store,
    sender: &str,
    id: String,
    title: impl FnOnce(&str) -> String,
    description: String,
) -> Result<CollectionRef, InboxError> {
    if let Some(c) = store.collection(API_ROOT, &id).await? {
        return Ok(c.key());
    }
    let name = Directory::new(store)
        .member(sender)
        .await?
        .map_or_else(|| sender.to_owned(), |m| m.name().to_owned());
    let collection = Collection {
        id,
        api_root: API_ROOT.to_owned(),
        title: title(&name),
        description: Some(description),
        view: None,
        origin: Some(sender.to_owned()),
    };
    match store.create_collection(collection.clone()).await {
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(collection.key()),
        Err(e) => Err(e.into()),
    }
}
