//! A request's court file: the request as this node holds it, every signed event in the
//! exact text both parties signed and stored, the public keys of the two members, and for
//! each event the entries of this node's transparency log that commit to it, each with its
//! opening and an inclusion proof against a signed checkpoint. [`verify`] checks a file
//! offline, with nothing but the node's log key: the chain of events (numbers, each
//! naming the hash of the one before), every member signature, and that this node's log
//! committed to each event exactly as filed. A file that fails any check says which event
//! and why.

use std::collections::BTreeMap;

use comity_tlog::entry::{Entry, Opening, REQUEST_EVENT};
use comity_tlog::offline::{TlogProof, TrustPolicy};
use comity_tlog::Hash;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{open, RequestError, SignedEvent};
use crate::identity::PublicKey;
use crate::node::Node;
use comity_store::REQUEST_SCOPE;

/// The format this build writes and reads.
pub const FORMAT: &str = "comity-request-file/1";

/// A request's court file (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourtFile {
    /// [`FORMAT`].
    pub format: String,
    /// The member whose node made the file.
    pub made_by: String,
    /// The request as that node shows it, without its history.
    pub request: Value,
    /// The public keys of the two members (`ed25519:…`), as that node pins them.
    pub members: BTreeMap<String, String>,
    /// The origin of that node's log (its checkpoints' first line).
    pub log_origin: String,
    /// The signed events, in order.
    pub events: Vec<FiledEvent>,
}

impl CourtFile {
    /// The file's JSON text, as `comity request export` writes it and the API serves it:
    /// the bytes whose SHA-256 the printed file shows.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a court file serialises")
    }
}

/// One signed event of a court file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiledEvent {
    /// The event's JSON text exactly as signed and stored.
    pub event: String,
    /// The log entries committing to it.
    pub commitments: Vec<FiledCommitment>,
}

/// A log entry committing to an event, with its opening and inclusion proof.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiledCommitment {
    /// The entry's index in the log.
    pub index: u64,
    /// The entry, as the log holds it.
    pub entry: String,
    /// What opens it.
    pub opening: String,
    /// A `c2sp.org/tlog-proof@v1` proof of its inclusion.
    pub proof: String,
}

/// Makes the court file of request `id` for `officer` (opening it as `show` does, so a
/// first opening on the requested side is recorded as its retrieval first).
pub async fn court_file(node: &Node, officer: &str, id: &str) -> Result<CourtFile, RequestError> {
    let mut request = open(node, officer, id).await?;
    let local = node
        .directory()
        .local_member()
        .await?
        .ok_or(RequestError::NoIdentity)?;
    let mut members = BTreeMap::new();
    for member in [&request.requester, &request.requested] {
        if let Some(m) = node.directory().member(member).await? {
            members.insert(member.clone(), m.record.public_key);
        }
    }
    let store = node.store();
    let mut events = Vec::new();
    for stored in store.request_events(id).await? {
        let sha256: [u8; 32] = hex::decode(&stored.sha256)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                RequestError::Store(comity_store::StoreError::Backend(format!(
                    "event {} of {id} has a malformed stored hash",
                    stored.n
                )))
            })?;
        let subject = format!("{id}#{}", stored.n);
        let commitments = node
            .log()
            .proofs(store, REQUEST_SCOPE, &subject, &sha256)
            .await?
            .into_iter()
            .map(|p| FiledCommitment {
                index: p.index,
                entry: String::from_utf8_lossy(&p.entry).into_owned(),
                opening: String::from_utf8_lossy(&p.opening).into_owned(),
                proof: p.proof.to_string(),
            })
            .collect();
        events.push(FiledEvent {
            event: stored.json,
            commitments,
        });
    }
    request.history.clear();
    request.allowed.clear();
    Ok(CourtFile {
        format: FORMAT.to_owned(),
        made_by: local.id.0,
        request: serde_json::to_value(&request)
            .map_err(|e| RequestError::Store(comity_store::StoreError::Backend(e.to_string())))?,
        members,
        log_origin: node.log().origin().to_owned(),
        events,
    })
}

/// Why a court file does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CourtFileError {
    /// Not a court file this build reads.
    #[error("not a court file of format {FORMAT}: {0}")]
    Format(String),
    /// The file holds no event.
    #[error("the file holds no event")]
    Empty,
    /// An event does not check.
    #[error("event {n}: {reason}")]
    Event {
        /// Its place in the file, from 1.
        n: usize,
        /// What is wrong.
        reason: String,
    },
}

/// One event of a verified file: what it is and where the log committed to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedEvent {
    /// Its number.
    pub n: u64,
    /// The act.
    pub act: String,
    /// The member that made and signed it.
    pub by: String,
    /// When (the signed time).
    pub at: String,
    /// Hex SHA-256 of its text.
    pub sha256: String,
    /// The log entry that commits to it.
    pub log_index: u64,
    /// The size of the signed checkpoint that entry is proven in.
    pub checkpoint_size: u64,
}

/// Checks a court file offline against the log keys of `policy` (see the module
/// documentation). Returns the events, each with the entry that commits to it.
pub fn verify(
    file: &CourtFile,
    policy: &TrustPolicy,
) -> Result<Vec<VerifiedEvent>, CourtFileError> {
    if file.format != FORMAT {
        return Err(CourtFileError::Format(format!(
            "its format is {:?}",
            file.format
        )));
    }
    if file.log_origin != policy.origin {
        return Err(CourtFileError::Format(format!(
            "it was made by the log {:?}, not {:?}",
            file.log_origin, policy.origin
        )));
    }
    let id = file
        .request
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| CourtFileError::Format("its request has no id".into()))?;
    if file.events.is_empty() {
        return Err(CourtFileError::Empty);
    }
    let mut out: Vec<VerifiedEvent> = Vec::with_capacity(file.events.len());
    for (i, filed) in file.events.iter().enumerate() {
        let n = i + 1;
        let bad = |reason: String| CourtFileError::Event { n, reason };
        let signed = SignedEvent::parse(&filed.event).map_err(|e| bad(e.to_string()))?;
        let ev = &signed.event;
        if ev.request != id {
            return Err(bad(format!("it belongs to {}, not {id}", ev.request)));
        }
        if ev.n != n as u64 {
            return Err(bad(format!("it is numbered {}", ev.n)));
        }
        let prev = out.last().map(|p| p.sha256.clone());
        if ev.prev != prev {
            return Err(bad(
                "it does not name the hash of the event before it".into()
            ));
        }
        let key: PublicKey = file
            .members
            .get(&ev.by)
            .ok_or_else(|| bad(format!("the file gives no key for its signer {}", ev.by)))?
            .parse()
            .map_err(|e| bad(format!("the key of {}: {e}", ev.by)))?;
        signed.verify(&key).map_err(|e| bad(e.to_string()))?;
        let sha256: [u8; 32] = hex::decode(&signed.sha256)
            .expect("hex")
            .try_into()
            .expect("32 bytes");
        let subject = format!("{id}#{n}");
        let mut why = Vec::new();
        let committed = filed.commitments.iter().find_map(|c| {
            match check_commitment(c, policy, &subject, &sha256) {
                Ok(size) => Some((c.index, size)),
                Err(e) => {
                    why.push(format!("entry {}: {e}", c.index));
                    None
                }
            }
        });
        let Some((log_index, checkpoint_size)) = committed else {
            return Err(bad(if why.is_empty() {
                "no log entry commits to it".into()
            } else {
                format!("no log entry commits to it ({})", why.join("; "))
            }));
        };
        out.push(VerifiedEvent {
            n: ev.n,
            act: ev.act.as_str().to_owned(),
            by: ev.by.clone(),
            at: ev.at.clone(),
            sha256: signed.sha256.clone(),
            log_index,
            checkpoint_size,
        });
    }
    Ok(out)
}

/// Checks that `c` is in the log of `policy` and commits to `subject` with `sha256`;
/// returns the size of the checkpoint it is proven in.
fn check_commitment(
    c: &FiledCommitment,
    policy: &TrustPolicy,
    subject: &str,
    sha256: &[u8; 32],
) -> Result<u64, String> {
    let proof = TlogProof::parse(c.proof.as_bytes()).map_err(|e| e.to_string())?;
    if proof.index != c.index {
        return Err(format!("its proof is for entry {}", proof.index));
    }
    let checkpoint = proof
        .verify(&Hash::leaf(c.entry.as_bytes()), policy)
        .map_err(|e| e.to_string())?;
    let opening = Opening::decode(c.opening.as_bytes()).map_err(|e| e.to_string())?;
    let act = Entry::decode(c.entry.as_bytes())
        .and_then(|e| e.reveal(Some(&opening)))
        .map_err(|e| e.to_string())?;
    if act.kind != REQUEST_EVENT {
        return Err(format!("it is a {} entry", act.kind));
    }
    if act.subject != subject || &act.sha256 != sha256 {
        return Err(format!("it commits to {}, not to this event", act.subject));
    }
    Ok(checkpoint.size)
}
