//! Witnessing over envelopes: every node submits its latest signed checkpoint to each
//! active peer, which checks it against what it cosigned before and answers with its
//! cosignature; an inconsistency on either side raises an alert kept with its evidence.
//!
//! # Transport: a direct signed request, answered in the response
//!
//! A `checkpoint` envelope is not queued in the durable outbox: it is posted straight to
//! the peer's inbox, and the peer's signed `cosignature` envelope comes back in the HTTP
//! response. A cosignature is an answer, not a message of its own, and a checkpoint that
//! could not be delivered is stale by the next round: the next submission carries the
//! log's newest checkpoint with a fresh consistency proof, so queueing (and replaying in
//! order) old checkpoints would only delay the one that matters. Checkpoint envelopes are
//! therefore unsequenced (`seq` 0, like receipts and pulls), must be fresh (at most
//! [`MAX_CHECKPOINT_AGE`] old) and are not journalled; a replay is harmless, since the
//! witness state machine answers a checkpoint it has moved past with a conflict.
//!
//! # The exchange
//!
//! The body of a `checkpoint` envelope is `{"add_checkpoint": TEXT}` where TEXT is a C2SP
//! tlog-witness `add-checkpoint` request body: `old N`, the consistency proof from the
//! size N the peer last cosigned, an empty line, the signed checkpoint. The receiver
//! checks that the checkpoint is signed by the sender's pinned key (as an Ed25519 note
//! key named by the checkpoint's origin; the first origin a member presents is bound to
//! it as a trusted log, and another origin with the same key is refused), then runs its
//! witness ([`crate::log::NodeLog::witness`]). It answers with a signed `cosignature`
//! envelope whose body is a [`CosignatureBody`]: the cosignature line on success, or the
//! tlog-witness status (409 with the size it knows, 422 with the checkpoint it cosigned
//! before as evidence) on refusal. The sender verifies the cosignature with the peer's
//! pinned key (as a cosignature/v1 key) and keeps it, so its checkpoint can be served
//! with the cosignatures collected.
//!
//! # Alerts
//!
//! The receiver raises an alert when a member presents, signed with its key, a checkpoint
//! smaller than one it cosigned (`rollback`), of the same size with another root (`fork`),
//! or with a consistency proof that does not verify (`inconsistent`). The sender raises
//! one when a peer refuses its checkpoint as inconsistent (`refused`) or says it cosigned
//! a larger tree than the sender's log has (`peer-ahead`). An alert is kept once per
//! evidence ([`comity_store::WitnessAlert`]), committed to the log as `witness.alert`, and
//! reported as a tracing error; it changes no witness state.

use comity_store::{
    CollectedCosignature, Store, StoreError, StoredCheckpoint, WitnessAlert, WitnessAlertKind,
};
use comity_tlog::checkpoint::Checkpoint;
use comity_tlog::note::{KeyKind, Note, NoteError, NoteSignature, Verifier};
use comity_tlog::witness::{AddCheckpoint, WitnessError};
use comity_tlog::Hash;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::identity::PublicKey;
use crate::log::{with_hashes, Act, LogError, NodeLog};
use crate::policy::MemberStatus;
use crate::registry::Member;
use comity_stix::clock::now_us;

use super::delivery::DeliveryError;
use super::envelope::{Envelope, EnvelopeError, Kind, Signed};

/// How old a checkpoint envelope may be.
pub const MAX_CHECKPOINT_AGE: time::Duration = time::Duration::minutes(5);

/// A member presented a checkpoint smaller than one this node cosigned.
pub const ROLLBACK: &str = WitnessAlertKind::Rollback.as_str();
/// A member presented a checkpoint of a size this node cosigned, with another root.
pub const FORK: &str = WitnessAlertKind::Fork.as_str();
/// A member's consistency proof does not verify against what this node cosigned.
pub const INCONSISTENT: &str = WitnessAlertKind::Inconsistent.as_str();
/// A peer refused this node's checkpoint as inconsistent with what it cosigned.
pub const REFUSED: &str = WitnessAlertKind::Refused.as_str();
/// A peer says it cosigned a larger tree of this node's log than the log has.
pub const PEER_AHEAD: &str = WitnessAlertKind::PeerAhead.as_str();

/// The body of a `checkpoint` envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointBody {
    /// A C2SP tlog-witness `add-checkpoint` request body.
    pub add_checkpoint: String,
}

/// The body of a `cosignature` envelope: the answer to a checkpoint envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosignatureBody {
    /// The id of the checkpoint envelope answered.
    pub envelope: String,
    /// `cosigned` or `refused`.
    pub outcome: String,
    /// 200, or the tlog-witness status of the refusal (400, 403, 404, 409, 422, 500).
    pub status: u16,
    /// The cosignature line(s) of the checkpoint, when cosigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosignature: Option<String>,
    /// On 409: the size of the sender's log this node cosigned last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_size: Option<u64>,
    /// Why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// On an inconsistency: the checkpoint of the sender's log this node cosigned before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// What the inbox answers to a checkpoint envelope.
#[derive(Debug)]
pub struct Witnessed {
    /// The HTTP status: 200 cosigned, else the tlog-witness status of the refusal.
    pub status: u16,
    /// The signed `cosignature` envelope.
    pub answer: Signed,
    /// The kind of the alert raised, if one was raised and its evidence is new.
    pub alert: Option<&'static str>,
}

/// An alert to raise: who, what, and the evidence.
#[derive(Debug, Clone)]
pub struct Alert {
    /// The member in question.
    pub peer: String,
    /// One of [`ROLLBACK`], [`FORK`], [`INCONSISTENT`], [`REFUSED`], [`PEER_AHEAD`].
    pub kind: &'static str,
    /// A sentence for people.
    pub detail: String,
    /// The checkpoint held before.
    pub ours: String,
    /// What contradicts it.
    pub theirs: String,
    /// The consistency proof involved, one base64 hash a line.
    pub proof: String,
}

/// Keeps an alert with its evidence (once per evidence), commits it to the log as
/// `witness.alert` and reports it; returns the stored alert's id when it is new.
pub async fn raise(
    store: &dyn Store,
    log: &NodeLog,
    alert: Alert,
) -> Result<Option<u64>, LogError> {
    let evidence = serde_json::json!({
        "peer": alert.peer,
        "kind": alert.kind,
        "ours": alert.ours,
        "theirs": alert.theirs,
        "proof": alert.proof,
    });
    let canonical = comity_stix::canonical_json(&evidence);
    // What identifies the evidence: on the sender's side, the peer's word alone (this
    // node's own checkpoint changes with every alert it logs, and would make each round's
    // alert new); on the witness's side, both checkpoints and the proof.
    let identity = if matches!(alert.kind, REFUSED | PEER_AHEAD) {
        comity_stix::canonical_json(&serde_json::json!({
            "peer": alert.peer,
            "kind": alert.kind,
            "theirs": alert.theirs,
        }))
    } else {
        canonical.clone()
    };
    let digest = hex::encode(Sha256::digest(identity.as_bytes()));
    let id = store
        .transparency_log()
        .put_witness_alert(WitnessAlert {
            id: 0,
            at: now_us(),
            peer: alert.peer.clone(),
            kind: alert.kind.parse()?,
            detail: alert.detail.clone(),
            ours: alert.ours.clone(),
            theirs: alert.theirs.clone(),
            proof: alert.proof.clone(),
            digest,
        })
        .await?;
    match id {
        Some(id) => {
            tracing::error!(
                peer = %alert.peer,
                kind = alert.kind,
                alert = id,
                ours = %alert.ours,
                theirs = %alert.theirs,
                "witnessing alert: {}", alert.detail
            );
            log.record(
                store,
                Act {
                    kind: comity_tlog::entry::WITNESS_ALERT.to_owned(),
                    actor: alert.peer,
                    subject: format!("witness-alert:{id}"),
                    canonical: canonical.into_bytes(),
                },
            )
            .await?;
        }
        None => tracing::warn!(
            peer = %alert.peer,
            kind = alert.kind,
            "witnessing alert raised again (evidence kept already): {}", alert.detail
        ),
    }
    Ok(id)
}

fn proof_text(proof: &[Hash]) -> String {
    proof.iter().map(|h| format!("{h}\n")).collect()
}

/// The seconds since the epoch, for cosignature timestamps.
fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The receiving side.
struct Receiver<'a> {
    log: &'a NodeLog,
    local: &'a str,
    env: &'a Envelope,
}

impl Receiver<'_> {
    fn answer(&self, body: CosignatureBody, alert: Option<&'static str>) -> Witnessed {
        let status = body.status;
        if body.outcome != "cosigned" {
            tracing::warn!(from = %self.env.from, status, reason = ?body.reason, "checkpoint refused");
        }
        let raw = serde_json::value::to_raw_value(&body)
            .unwrap_or_else(|_| RawValue::from_string("{}".to_owned()).expect("{} is JSON"));
        let answer = Envelope::new(self.local, &self.env.from, Kind::Cosignature, 0, raw)
            .sign(self.log.node_key());
        Witnessed {
            status,
            answer,
            alert,
        }
    }

    fn refuse(&self, status: u16, reason: String) -> Witnessed {
        self.refuse_with(status, reason, None, None, None)
    }

    fn refuse_with(
        &self,
        status: u16,
        reason: String,
        known_size: Option<u64>,
        evidence: Option<String>,
        alert: Option<&'static str>,
    ) -> Witnessed {
        self.answer(
            CosignatureBody {
                envelope: self.env.id.clone(),
                outcome: "refused".into(),
                status,
                cosignature: None,
                known_size,
                reason: Some(reason),
                evidence,
            },
            alert,
        )
    }

    fn witness_refusal(&self, e: &WitnessError) -> Witnessed {
        let known = match e {
            WitnessError::Conflict { known_size, .. } => Some(*known_size),
            _ => None,
        };
        self.refuse_with(e.status(), e.to_string(), known, None, None)
    }
}

/// Receives a `checkpoint` envelope whose signature verified with the pinned key `key` of
/// the registered member `sender`: runs the witness and answers with a signed
/// `cosignature` envelope. Failures of this node (the store) are errors, for a retry.
pub async fn receive(
    store: &dyn Store,
    log: &NodeLog,
    local: &str,
    sender: &Member,
    key: &PublicKey,
    signed: &Signed,
) -> Result<Witnessed, LogError> {
    let env = &signed.envelope;
    let r = Receiver { log, local, env };
    if sender.record.local {
        return Ok(r.refuse(403, "this node does not witness its own log".into()));
    }
    if env.seq != 0 {
        return Ok(r.refuse(
            400,
            format!(
                "a checkpoint envelope is not sequenced: seq must be 0, not {}",
                env.seq
            ),
        ));
    }
    if sender.status == MemberStatus::Suspended {
        let why = EnvelopeError::SuspendedSender(env.from.clone()).to_string();
        return Ok(r.refuse(403, why));
    }
    let now = OffsetDateTime::now_utc();
    if let Err(e) = signed.check_time(now) {
        return Ok(r.refuse(400, e.to_string()));
    }
    let fresh = OffsetDateTime::parse(&env.created, &time::format_description::well_known::Rfc3339)
        .is_ok_and(|t| t >= now - MAX_CHECKPOINT_AGE);
    if !fresh {
        return Ok(r.refuse(
            400,
            format!(
                "the envelope's time {:?} is more than 5 minutes old; a checkpoint must be fresh",
                env.created
            ),
        ));
    }
    let body: CheckpointBody = match serde_json::from_str(env.body.get()) {
        Ok(b) => b,
        Err(e) => {
            return Ok(r.refuse(
                400,
                format!("the body is not {{\"add_checkpoint\": TEXT}}: {e}"),
            ))
        }
    };
    let request = match AddCheckpoint::parse(body.add_checkpoint.as_bytes()) {
        Ok(req) => req,
        Err(e) => return Ok(r.witness_refusal(&e)),
    };
    let text = match Note::parse(request.checkpoint.as_bytes())
        .and_then(|n| Checkpoint::parse(&n.text).map(|c| (n, c)))
    {
        Ok((_, c)) => c,
        Err(e) => return Ok(r.witness_refusal(&WitnessError::MalformedCheckpoint(e))),
    };
    let origin = text.origin.clone();
    let verifier = match key.note_verifier(&origin, KeyKind::Ed25519) {
        Ok(v) => v,
        Err(e) => return Ok(r.witness_refusal(&WitnessError::MalformedCheckpoint(e))),
    };
    let opened = match Checkpoint::open(
        request.checkpoint.as_bytes(),
        &origin,
        std::slice::from_ref(&verifier),
    ) {
        Ok(o) => o,
        Err(e) => {
            return Ok(r.refuse(
                403,
                format!(
                    "the checkpoint is not signed by the pinned key of {}: {e}",
                    env.from
                ),
            ))
        }
    };
    // The member's log is the first origin it presented with its key: bind it, and refuse
    // another origin with the same key, or this origin trusted with another key, unless
    // that key is one the member rotated out (its log continues under the new key).
    let tlog = store.transparency_log();
    let mut bound = false;
    let history = crate::identity::rotation::KeyHistory(&sender.record.key_history);
    for trusted in tlog.trusted_logs().await? {
        let trusted_key = Verifier::parse(&trusted.verifier_key).ok();
        let same_key = trusted_key.as_ref().is_some_and(|v| key.is_key_of(v));
        let rotated_out = trusted_key.as_ref().is_some_and(|v| {
            history
                .former(&PublicKey::from_verifier(v).to_string())
                .is_some()
        });
        if trusted.origin == origin {
            if !same_key && !rotated_out {
                return Ok(r.refuse(
                    403,
                    format!(
                        "the log {origin} is trusted with another key than {}'s",
                        env.from
                    ),
                ));
            }
            bound = same_key;
        } else if same_key {
            return Ok(r.refuse(
                403,
                format!(
                    "the log of {} is {}, not {origin}",
                    env.from, trusted.origin
                ),
            ));
        }
    }
    if !bound {
        tlog.trust_log(comity_store::TrustedLog {
            origin: origin.clone(),
            verifier_key: verifier.to_string(),
        })
        .await?;
    }
    let offered = opened.checkpoint;
    let proof = proof_text(&request.proof);
    if let Some(known) = tlog.witnessed(&origin).await? {
        let contradiction = if offered.size < known.head.size {
            Some((
                ROLLBACK,
                format!(
                    "{} presented its log {origin} at size {}, smaller than size {} cosigned before: the log was rolled back or forked",
                    env.from, offered.size, known.head.size
                ),
            ))
        } else if offered.size == known.head.size && offered.root != known.head.root {
            Some((
                FORK,
                format!(
                    "{} presented its log {origin} at size {} with root {}, but root {} was cosigned for that size: the log forked",
                    env.from, offered.size, offered.root, known.head.root
                ),
            ))
        } else {
            None
        };
        if let Some((kind, detail)) = contradiction {
            let new = raise(
                store,
                log,
                Alert {
                    peer: env.from.clone(),
                    kind,
                    detail: detail.clone(),
                    ours: known.note.clone(),
                    theirs: request.checkpoint.clone(),
                    proof,
                },
            )
            .await?;
            let (status, known_size) = if kind == ROLLBACK {
                (409, Some(known.head.size))
            } else {
                (422, None)
            };
            let alert = new.map(|_| kind);
            return Ok(r.refuse_with(status, detail, known_size, Some(known.note), alert));
        }
    }
    match log
        .witness(
            store,
            body.add_checkpoint.as_bytes(),
            now_seconds(),
            &origin,
            vec![verifier],
        )
        .await
    {
        Ok(lines) => Ok(r.answer(
            CosignatureBody {
                envelope: env.id.clone(),
                outcome: "cosigned".into(),
                status: 200,
                cosignature: Some(lines),
                known_size: None,
                reason: None,
                evidence: None,
            },
            None,
        )),
        Err(WitnessError::Inconsistent { reason, latest }) => {
            let ours = latest.map(|l| l.note).unwrap_or_default();
            let detail = format!(
                "{}'s consistency proof from size {} to {} of its log {origin} does not verify against what was cosigned: {reason}",
                env.from, request.old_size, offered.size
            );
            let new = raise(
                store,
                log,
                Alert {
                    peer: env.from.clone(),
                    kind: INCONSISTENT,
                    detail: detail.clone(),
                    ours: ours.clone(),
                    theirs: request.checkpoint.clone(),
                    proof,
                },
            )
            .await?;
            let alert = new.map(|_| INCONSISTENT);
            Ok(r.refuse_with(422, detail, None, Some(ours), alert))
        }
        Err(WitnessError::State(e)) => {
            Err(StoreError::Backend(format!("witness state: {e}")).into())
        }
        Err(e) => Ok(r.witness_refusal(&e)),
    }
}

/// A checkpoint envelope ready to send to one peer.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The peer (member id).
    pub peer: String,
    /// The signed envelope.
    pub envelope: Signed,
    /// The checkpoint it carries.
    pub checkpoint: StoredCheckpoint,
    /// The size the proof starts from.
    pub old_size: u64,
    /// The consistency proof, one base64 hash a line.
    pub proof: String,
}

/// What to do about one peer this round.
#[derive(Debug)]
pub enum Prepared {
    /// Send this.
    Send(Box<Submission>),
    /// The peer cosigned the latest checkpoint recently: nothing to send.
    UpToDate,
    /// The peer is known to have cosigned more of this log than it has: an alert was
    /// raised (`new`: its evidence was not kept before), nothing can be sent.
    Alert {
        /// The alert's kind.
        kind: &'static str,
        /// Whether its evidence is new.
        new: bool,
    },
}

/// Prepares the checkpoint envelope for `peer`: the latest checkpoint, with a consistency
/// proof from `old_size` (else from the size the peer last cosigned). Nothing is sent when
/// the peer cosigned the latest checkpoint less than `refresh_us` ago.
pub async fn prepare(
    store: &dyn Store,
    log: &NodeLog,
    local: &str,
    peer: &str,
    old_size: Option<u64>,
    refresh_us: i64,
) -> Result<Prepared, LogError> {
    let checkpoint = log.checkpoint(store).await?;
    let tlog = store.transparency_log();
    let last = tlog.latest_cosignature(peer).await?;
    if old_size.is_none() {
        if let Some(last) = &last {
            if last.size == checkpoint.size && now_us() - last.received_at < refresh_us {
                return Ok(Prepared::UpToDate);
            }
        }
    }
    let old = old_size.unwrap_or_else(|| last.as_ref().map_or(0, |l| l.size));
    if old > checkpoint.size {
        let new = peer_ahead(
            store,
            log,
            peer,
            old,
            &checkpoint,
            last.map(|l| l.checkpoint).unwrap_or_default(),
        )
        .await?;
        return Ok(Prepared::Alert {
            kind: PEER_AHEAD,
            new,
        });
    }
    let proof = with_hashes(tlog, |r| {
        comity_tlog::proof::consistency_proof(old, checkpoint.size, r)
    })
    .await?;
    let text = AddCheckpoint {
        old_size: old,
        proof: proof.clone(),
        checkpoint: checkpoint.note.clone(),
    }
    .to_body();
    let body = serde_json::value::to_raw_value(&CheckpointBody {
        add_checkpoint: text,
    })
    .map_err(|e| StoreError::Backend(e.to_string()))?;
    let envelope = Envelope::new(local, peer, Kind::Checkpoint, 0, body).sign(log.node_key());
    Ok(Prepared::Send(Box::new(Submission {
        peer: peer.to_owned(),
        envelope,
        checkpoint,
        old_size: old,
        proof: proof_text(&proof),
    })))
}

async fn peer_ahead(
    store: &dyn Store,
    log: &NodeLog,
    peer: &str,
    known: u64,
    checkpoint: &StoredCheckpoint,
    theirs: String,
) -> Result<bool, LogError> {
    let id = raise(
        store,
        log,
        Alert {
            peer: peer.to_owned(),
            kind: PEER_AHEAD,
            detail: format!(
                "{peer} cosigned size {known} of this node's log, which has only {} entries: this log was rolled back",
                checkpoint.size
            ),
            ours: checkpoint.note.clone(),
            theirs,
            proof: String::new(),
        },
    )
    .await?;
    Ok(id.is_some())
}

/// What came of a submission.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The peer cosigned; the cosignature verified and is kept.
    Cosigned {
        /// The size cosigned.
        size: u64,
    },
    /// The peer knows another size: submit again with a proof from it.
    Retry {
        /// The size the peer cosigned last.
        known_size: u64,
    },
    /// The peer refused for a reason that is not an inconsistency (it does not know this
    /// node yet, say).
    Refused {
        /// The status it answered.
        status: u16,
        /// Why.
        reason: String,
    },
    /// The peer's answer proves an inconsistency: an alert was raised (`new`: its
    /// evidence was not kept before).
    Alert {
        /// The alert's kind.
        kind: &'static str,
        /// Whether its evidence is new.
        new: bool,
    },
}

/// Checks the peer's answer (`status` and body) to `sub`, with its pinned `key`; keeps a
/// verified cosignature, raises an alert on an inconsistency. An answer that is not signed
/// by the peer, or not about `sub`, is an error (nothing is kept).
pub async fn answered(
    store: &dyn Store,
    log: &NodeLog,
    local: &str,
    key: &PublicKey,
    sub: &Submission,
    status: u16,
    bytes: &[u8],
) -> Result<Outcome, DeliveryError> {
    let unverified = |source| DeliveryError::Unverified {
        from: sub.peer.clone(),
        source,
    };
    let answer = Signed::parse(bytes).map_err(unverified)?;
    answer.verify(key).map_err(unverified)?;
    let env = &answer.envelope;
    if env.from != sub.peer || env.to != local {
        return Err(DeliveryError::Misaddressed {
            from: env.from.clone(),
            to: env.to.clone(),
            peer: sub.peer.clone(),
        });
    }
    if env.kind == Kind::Receipt {
        #[derive(Deserialize)]
        struct Refusal {
            reason: Option<String>,
        }
        let reason = serde_json::from_str::<Refusal>(env.body.get())
            .ok()
            .and_then(|r| r.reason)
            .unwrap_or_default();
        return Ok(Outcome::Refused { status, reason });
    }
    if env.kind != Kind::Cosignature {
        return Err(DeliveryError::UnexpectedKind(env.kind));
    }
    let body: CosignatureBody =
        serde_json::from_str(env.body.get()).map_err(|source| DeliveryError::Unreadable {
            from: sub.peer.clone(),
            source,
        })?;
    if body.envelope != sub.envelope.envelope.id {
        return Err(DeliveryError::OtherCheckpoint);
    }
    if body.status != status {
        return Err(DeliveryError::StatusMismatch {
            said: body.status,
            status,
        });
    }
    let text = Note::parse(sub.checkpoint.note.as_bytes())
        .map_err(DeliveryError::OwnCheckpoint)?
        .text;
    match (body.outcome.as_str(), status) {
        ("cosigned", 200) => {
            let lines = body.cosignature.unwrap_or_default();
            verify_cosignature(key, &text, &lines)?;
            store
                .transparency_log()
                .put_cosignature(CollectedCosignature {
                    witness: sub.peer.clone(),
                    size: sub.checkpoint.size,
                    checkpoint: sub.checkpoint.note.clone(),
                    line: lines,
                    received_at: now_us(),
                })
                .await?;
            Ok(Outcome::Cosigned {
                size: sub.checkpoint.size,
            })
        }
        ("refused", 409) => {
            let known = body.known_size.ok_or(DeliveryError::NoKnownSize)?;
            if known > sub.checkpoint.size {
                let new = peer_ahead(
                    store,
                    log,
                    &sub.peer,
                    known,
                    &sub.checkpoint,
                    body.evidence
                        .unwrap_or_else(|| format!("{} cosigned size {known}", sub.peer)),
                )
                .await?;
                return Ok(Outcome::Alert {
                    kind: PEER_AHEAD,
                    new,
                });
            }
            Ok(Outcome::Retry { known_size: known })
        }
        ("refused", 422) => {
            let detail = format!(
                "{} refused this node's checkpoint of size {} as inconsistent with what it cosigned: {}",
                sub.peer,
                sub.checkpoint.size,
                body.reason.as_deref().unwrap_or("no reason given")
            );
            let id = raise(
                store,
                log,
                Alert {
                    peer: sub.peer.clone(),
                    kind: REFUSED,
                    detail,
                    ours: sub.checkpoint.note.clone(),
                    theirs: body.evidence.unwrap_or_else(|| {
                        body.reason
                            .clone()
                            .unwrap_or_else(|| "no evidence given".into())
                    }),
                    proof: sub.proof.clone(),
                },
            )
            .await?;
            Ok(Outcome::Alert {
                kind: REFUSED,
                new: id.is_some(),
            })
        }
        ("refused", _) => Ok(Outcome::Refused {
            status,
            reason: body.reason.unwrap_or_default(),
        }),
        (other, _) => Err(DeliveryError::UnexpectedOutcome {
            outcome: other.to_owned(),
            status,
        }),
    }
}

/// Why cosignature lines do not verify with a peer's pinned key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    /// A line is not a signature line, or names no valid cosignature key.
    #[error("cosignature: {0}")]
    Malformed(#[source] NoteError),
    /// There is no line at all.
    #[error("the answer carries no cosignature")]
    Missing,
    /// A line does not verify with the pinned key.
    #[error("cosignature does not verify with the pinned key: {0}")]
    Invalid(#[source] NoteError),
    /// A line is not by the pinned key.
    #[error("cosignature does not verify with the pinned key")]
    NotByPinnedKey,
}

/// Checks cosignature lines over a checkpoint text with the peer's pinned key, as a
/// cosignature/v1 key named as each line says: at least one line, every line verifies.
pub fn verify_cosignature(
    key: &PublicKey,
    text: &str,
    lines: &str,
) -> Result<(), CosignatureError> {
    let sigs: Vec<NoteSignature> = lines
        .split_terminator('\n')
        .enumerate()
        .map(|(i, l)| NoteSignature::parse_line(l, i + 1))
        .collect::<Result<_, _>>()
        .map_err(CosignatureError::Malformed)?;
    if sigs.is_empty() {
        return Err(CosignatureError::Missing);
    }
    for sig in sigs {
        let verifier = key
            .note_verifier(&sig.name, KeyKind::CosignatureV1)
            .map_err(CosignatureError::Malformed)?;
        let note = Note {
            text: text.to_owned(),
            signatures: vec![sig],
        };
        let opened = Note::open(note.to_string().as_bytes(), &[verifier])
            .map_err(CosignatureError::Invalid)?;
        if opened.verified.is_empty() {
            return Err(CosignatureError::NotByPinnedKey);
        }
    }
    Ok(())
}

/// The latest checkpoint with the cosignatures collected for its size appended (C2SP
/// checkpoints carry cosignature lines after the log's signature); `cosigned` asks instead
/// for the largest checkpoint that has any cosignature.
pub async fn checkpoint_with_cosignatures(
    store: &dyn Store,
    log: &NodeLog,
    cosigned: bool,
) -> Result<Option<String>, LogError> {
    let tlog = store.transparency_log();
    let (note, cosignatures) = if cosigned {
        let all = tlog.cosignatures(None).await?;
        match all.first() {
            Some(first) => (first.checkpoint.clone(), all),
            None => return Ok(None),
        }
    } else {
        let cp = log.checkpoint(store).await?;
        let all = tlog.cosignatures(Some(cp.size)).await?;
        (cp.note, all)
    };
    let mut out = note;
    for c in cosignatures {
        for line in c.line.split_terminator('\n') {
            if !out.contains(line) {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use comity_tlog::note::Signer;

    fn signer(name: &str, kind: KeyKind, seed: u8) -> Signer {
        Signer::new(
            name,
            kind,
            ed25519_dalek::SigningKey::from_bytes(&[seed; 32]),
        )
        .unwrap()
    }

    fn public(seed: u8) -> PublicKey {
        crate::identity::NodeKey::from_log_signer(&signer("comity/x", KeyKind::Ed25519, seed))
            .unwrap()
            .public_key()
    }

    const TEXT: &str = "comity/a\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn a_cosignature_verifies_only_with_the_pinned_key_and_over_its_checkpoint() {
        let line = signer("comity/b", KeyKind::CosignatureV1, 2)
            .cosign(TEXT, 1_800_000_000)
            .unwrap()
            .to_line();
        assert_eq!(verify_cosignature(&public(2), TEXT, &line), Ok(()));
        // Another key, another text, a log signature instead of a cosignature, nothing.
        assert!(verify_cosignature(&public(3), TEXT, &line).is_err());
        let other = TEXT.replace("\n5\n", "\n6\n");
        assert!(verify_cosignature(&public(2), &other, &line).is_err());
        let log_sig = signer("comity/b", KeyKind::Ed25519, 2)
            .sign(TEXT)
            .unwrap()
            .to_line();
        assert!(verify_cosignature(&public(2), TEXT, &log_sig).is_err());
        assert!(verify_cosignature(&public(2), TEXT, "").is_err());
        assert!(verify_cosignature(&public(2), TEXT, "garbage\n").is_err());
        // Every line must verify.
        let two = format!("{line}{log_sig}");
        assert!(verify_cosignature(&public(2), TEXT, &two).is_err());
    }

    #[test]
    fn bodies_are_strict_and_round_trip() {
        let body = CosignatureBody {
            envelope: "e".into(),
            outcome: "refused".into(),
            status: 409,
            cosignature: None,
            known_size: Some(7),
            reason: Some("r".into()),
            evidence: None,
        };
        let text = serde_json::to_string(&body).unwrap();
        assert_eq!(
            text,
            r#"{"envelope":"e","outcome":"refused","status":409,"known_size":7,"reason":"r"}"#
        );
        assert_eq!(
            serde_json::from_str::<CosignatureBody>(&text).unwrap(),
            body
        );
        assert!(serde_json::from_str::<CosignatureBody>(
            r#"{"envelope":"e","outcome":"cosigned","status":200,"extra":1}"#
        )
        .is_err());
        assert!(
            serde_json::from_str::<CheckpointBody>(r#"{"add_checkpoint":"old 0\n\n","x":1}"#)
                .is_err()
        );
    }

    #[test]
    fn the_pinned_key_is_a_log_key_under_the_checkpoints_origin() {
        let log = signer("comity/a", KeyKind::Ed25519, 4);
        let pinned = public(4);
        let verifier = pinned.note_verifier("comity/a", KeyKind::Ed25519).unwrap();
        assert_eq!(verifier, log.verifier());
        assert!(pinned.is_key_of(&log.verifier()));
        assert!(!public(5).is_key_of(&log.verifier()));
        let note = Checkpoint::parse(TEXT)
            .unwrap()
            .sign(&log)
            .unwrap()
            .to_string();
        assert!(Checkpoint::open(note.as_bytes(), "comity/a", &[verifier]).is_ok());
        let elsewhere = public(4)
            .note_verifier("comity/other", KeyKind::Ed25519)
            .unwrap();
        assert!(Checkpoint::open(note.as_bytes(), "comity/a", &[elsewhere]).is_err());
    }
}
