//! Cooperation requests as the store keeps them: a header per request (what lists and
//! filters read) and the signed events of its history, in order. The store never interprets
//! a request's kind, state or document; the node crate owns their vocabulary and checks
//! every event before it gets here. What the store guarantees is the order: event `n` of a
//! request is appended only after event `n - 1`, once, together with its log entry and the
//! envelope that tells the other party.

use crate::{OpenableEntry, OutboxItem};

/// The scope under which the openings of request log entries are kept.
pub const REQUEST_SCOPE: &str = "requests";

/// A request's header: the request as it stands after its last event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The request's id (`request--<uuid>`).
    pub id: String,
    /// Its kind (`assistance`, `preservation`, …), as the node writes it.
    pub kind: String,
    /// The requesting member's id.
    pub requester: String,
    /// The requested member's id.
    pub requested: String,
    /// Its state after the last event (`draft` before any).
    pub state: String,
    /// Whether it is an emergency.
    pub emergency: bool,
    /// When it was made, microseconds since the Unix epoch.
    pub created_at: i64,
    /// When its last event happened (or the draft was saved), microseconds.
    pub updated_at: i64,
    /// When the requested side's answer is due, microseconds; `None` while no clock runs.
    pub due_at: Option<i64>,
    /// How many events its history holds (the last event's `n`; 0 for a draft).
    pub events: u64,
    /// The request's fields as JSON text.
    pub document: String,
}

/// One signed event of a request's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestEvent {
    /// The request it belongs to.
    pub request: String,
    /// Its place in the history, from 1.
    pub n: u64,
    /// The member that made it.
    pub actor: String,
    /// What it does (`submit`, `acknowledge`, …).
    pub act: String,
    /// When it was made (the signed time), microseconds.
    pub at: i64,
    /// Hex SHA-256 of `json`.
    pub sha256: String,
    /// The signed event as JSON text, stored as given.
    pub json: String,
}

/// One event to append, with what goes with it in the same transaction.
#[derive(Debug, Clone)]
pub struct RequestAppend {
    /// The request's header after the event.
    pub header: RequestRecord,
    /// The event.
    pub event: RequestEvent,
    /// The log entry that commits to it (its opening kept under [`REQUEST_SCOPE`]).
    pub log_entry: OpenableEntry,
    /// The envelope telling the other party, for that member's outbox, if any.
    pub send: Option<(String, OutboxItem)>,
    /// The SHA-256 of each attachment whose bytes follow the event to the `send` member:
    /// each kept as an [`AttachmentTransfer`] until the node has queued its chunks, so a
    /// crash between the two cannot leave the other party an event without its bytes.
    /// Empty when `send` is `None`.
    pub transfers: Vec<String>,
    /// The SHA-256 of the event held at this place that this one supersedes, with every
    /// event after it: the other party's act made at the same moment, which loses.
    pub replaces: Option<String>,
}

impl RequestAppend {
    /// The transfers this append starts, one per attachment listed in
    /// [`RequestAppend::transfers`]; an error when it lists some but sends no envelope.
    pub fn new_transfers(&self) -> crate::StoreResult<Vec<AttachmentTransfer>> {
        match (&self.send, self.transfers.is_empty()) {
            (_, true) => Ok(Vec::new()),
            (None, false) => Err(crate::StoreError::Backend(format!(
                "event {} of request {:?} lists transfers but goes to nobody",
                self.event.n, self.event.request
            ))),
            (Some((member, _)), false) => Ok(self
                .transfers
                .iter()
                .map(|sha256| AttachmentTransfer {
                    request: self.event.request.clone(),
                    sha256: sha256.clone(),
                    member: member.clone(),
                })
                .collect()),
        }
    }
}

/// Bytes of an attachment still to be queued for a member after the event that lists them
/// (see [`RequestAppend::transfers`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AttachmentTransfer {
    /// The request the event belongs to.
    pub request: String,
    /// The attachment's SHA-256, hex.
    pub sha256: String,
    /// The member the bytes go to.
    pub member: String,
}

/// What [`crate::RequestStore::requests`] lists: every field set narrows the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFilter {
    /// Requests with this member on either side.
    pub partner: Option<String>,
    /// Requests of this kind.
    pub kind: Option<String>,
    /// Requests in this state.
    pub state: Option<String>,
    /// Requests whose answer was due before this time (microseconds): the overdue ones.
    pub due_before: Option<i64>,
    /// Requests updated before this time, for paging (newest first): the last
    /// `(updated_at, id)` of the previous page.
    pub before: Option<(i64, String)>,
    /// At most this many.
    pub limit: usize,
}
