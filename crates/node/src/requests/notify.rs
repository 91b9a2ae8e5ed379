//! Notices for the 24/7 channel: that something happened to a request, and where to look.
//!
//! A [`Notice`] names the request, its kind, whether it is an emergency, the other party,
//! what happened (a new request arrived, the other party acted, the answer is due soon, the
//! answer is overdue), the state and the due time. It never carries the document, the
//! details of an act or any other text the other party wrote: requests are confidential,
//! and a notice goes out by e-mail and webhooks. The duty officer reads the request itself
//! on the node (`comity request show ID`).
//!
//! The node publishes notices on its [`Notices`] channel: the federation inbox for every
//! new event the other party made, and [`due_notices`] (called periodically) for
//! reminders and overdue answers. Whoever sends them (e-mail, webhooks) subscribes.

use comity_stix::clock::{format_us, now_us};
use comity_store::{RequestFilter, RequestRecord, Store};
use serde::Serialize;
use tokio::sync::broadcast;

use super::{Act, RequestError, RequestKind, Side, SignedEvent, State, MAX_LIST};

/// Notices kept for a subscriber that has not read them yet; older ones are dropped (the
/// subscriber is told how many).
pub const CAPACITY: usize = 256;

/// What happened to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum What {
    /// A new request arrived from the other party.
    Received,
    /// The other party made an act on the request.
    Event,
    /// The answer is due within the reminder window.
    Reminder,
    /// The answer is overdue.
    Overdue,
}

impl What {
    /// As written in a notice.
    pub const fn as_str(self) -> &'static str {
        match self {
            What::Received => "received",
            What::Event => "event",
            What::Reminder => "reminder",
            What::Overdue => "overdue",
        }
    }
}

/// That something happened to a request: never what the request says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// The request's id.
    pub request: String,
    /// Its kind.
    pub kind: RequestKind,
    /// Whether it is an emergency.
    pub emergency: bool,
    /// The other party's member id.
    pub partner: String,
    /// This node's side.
    pub side: Side,
    /// What happened.
    pub what: What,
    /// The other party's act, for [`What::Event`] and [`What::Received`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<Act>,
    /// The request's state now.
    pub state: State,
    /// When the answer is due (RFC 3339), if a clock runs.
    pub due: Option<String>,
    /// When the notice was made (RFC 3339).
    pub at: String,
}

impl Notice {
    /// The notice for request `header` as member `local` holds it; `None` when `local` is
    /// not a party or the header does not read.
    pub fn of(header: &RequestRecord, local: &str, what: What, act: Option<Act>) -> Option<Notice> {
        let (side, partner) = if header.requester == local {
            (Side::Requester, &header.requested)
        } else if header.requested == local {
            (Side::Requested, &header.requester)
        } else {
            return None;
        };
        Some(Notice {
            request: header.id.clone(),
            kind: header.kind.parse().ok()?,
            emergency: header.emergency,
            partner: partner.clone(),
            side,
            what,
            act,
            state: header.state.parse().ok()?,
            due: header.due_at.map(format_us),
            at: format_us(now_us()),
        })
    }

    /// A one-line subject, e.g. `[Comity] EMERGENCY assistance request received from M`.
    pub fn subject(&self) -> String {
        let urgency = if self.emergency { "EMERGENCY " } else { "" };
        let kind = self.kind.as_str();
        let partner = &self.partner;
        let happened = match (self.what, self.act) {
            (What::Received, _) => format!("received from {partner}"),
            (What::Event, Some(act)) => format!("{partner}: {act}"),
            (What::Event, None) => format!("{partner} acted"),
            (What::Reminder, _) => "answer due soon".to_owned(),
            (What::Overdue, _) => "answer overdue".to_owned(),
        };
        format!("[Comity] {urgency}{kind} request {happened}")
    }

    /// The plain text of an e-mail: what happened and where to read the request.
    pub fn text(&self) -> String {
        let mut lines = vec![
            self.subject().trim_start_matches("[Comity] ").to_owned(),
            String::new(),
            format!("Request:   {}", self.request),
            format!("Kind:      {}", self.kind.as_str()),
            format!("Emergency: {}", if self.emergency { "yes" } else { "no" }),
            format!("Partner:   {}", self.partner),
            format!("Our side:  {}", self.side),
            format!("Happened:  {}", self.what.as_str()),
        ];
        if let Some(act) = self.act {
            lines.push(format!("Act:       {act}"));
        }
        lines.push(format!("State:     {}", self.state));
        if let Some(due) = &self.due {
            lines.push(format!("Due:       {due}"));
        }
        lines.push(format!("Noticed:   {}", self.at));
        lines.push(String::new());
        lines.push(format!(
            "Read it on the node: comity request show {}",
            self.request
        ));
        lines.push(
            "This notice carries no content of the request, which is confidential.".to_owned(),
        );
        lines.join("\n") + "\n"
    }

    /// The JSON body of a webhook.
    pub fn json(&self) -> String {
        serde_json::to_string(self).expect("a notice serialises")
    }
}

/// The node's channel of notices: cheap to clone, every clone the same channel.
#[derive(Debug, Clone)]
pub struct Notices {
    tx: broadcast::Sender<Notice>,
}

impl Default for Notices {
    fn default() -> Self {
        Notices::new()
    }
}

impl Notices {
    /// A channel keeping up to [`CAPACITY`] notices per subscriber.
    pub fn new() -> Notices {
        Notices {
            tx: broadcast::channel(CAPACITY).0,
        }
    }

    /// Publishes `notice`; with no subscriber it goes nowhere.
    pub fn send(&self, notice: Notice) {
        let _ = self.tx.send(notice);
    }

    /// A subscription to the notices published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.tx.subscribe()
    }

    /// Publishes the notice for a new event of request that member `local` took in (the
    /// other party's act, `event_json`): `received` for a submission, `event` otherwise.
    /// A notice that cannot be made is logged, never an error of the inbox.
    pub(crate) async fn taken_in(&self, store: &dyn Store, local: &str, event_json: &str) {
        let Ok(signed) = SignedEvent::parse(event_json) else {
            return;
        };
        let act = signed.event.act;
        let what = if act == Act::Submit {
            What::Received
        } else {
            What::Event
        };
        match store.request(&signed.event.request).await {
            Ok(Some(header)) => {
                if let Some(notice) = Notice::of(&header, local, what, Some(act)) {
                    self.send(notice);
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(request = %signed.event.request, error = %e, "no notice for a request event: the store failed")
            }
        }
    }
}

/// The notices for the answers that member `local` holds that are due before `now +
/// window`: `overdue` for those past due, `reminder` for the others.
pub async fn due_notices(
    store: &dyn Store,
    local: &str,
    window: std::time::Duration,
) -> Result<Vec<Notice>, RequestError> {
    let now = now_us();
    let window = i64::try_from(window.as_micros()).unwrap_or(i64::MAX);
    let filter = RequestFilter {
        due_before: Some(now.saturating_add(window)),
        limit: MAX_LIST,
        ..RequestFilter::default()
    };
    Ok(store
        .requests(&filter)
        .await?
        .iter()
        .filter_map(|h| {
            let what = if h.due_at.is_some_and(|d| d < now) {
                What::Overdue
            } else {
                What::Reminder
            };
            Notice::of(h, local, what, None)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use comity_store::RequestStore;
    use comity_store_sqlite::SqliteStore;

    /// A header as the store keeps it, written straight to the store: answers due at
    /// chosen times, without waiting for them.
    fn header(requester: &str, requested: &str, due_at: Option<i64>) -> RequestRecord {
        RequestRecord {
            id: format!("request--{}", uuid::Uuid::new_v4()),
            kind: "preservation".into(),
            requester: requester.into(),
            requested: requested.into(),
            state: "acknowledged".into(),
            emergency: false,
            created_at: now_us(),
            updated_at: now_us(),
            due_at,
            events: 0,
            document: r#"{"summary":"TOP-SECRET-SUMMARY"}"#.into(),
        }
    }

    #[tokio::test]
    async fn answers_due_soon_are_reminders_and_past_due_ones_overdue() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let hour = 3_600_000_000;
        let past = header("member-a", "member-b", Some(now_us() - hour));
        let soon = header("member-b", "member-a", Some(now_us() + hour));
        let later = header("member-a", "member-b", Some(now_us() + 10 * hour));
        let none = header("member-a", "member-b", None);
        let elsewhere = header("member-a", "member-c", Some(now_us() - hour));
        for h in [&past, &soon, &later, &none, &elsewhere] {
            store.save_request_draft(h).await.unwrap();
        }
        let two_hours = std::time::Duration::from_secs(7200);
        let mut found = due_notices(&store, "member-b", two_hours).await.unwrap();
        found.sort_by_key(|n| n.what.as_str());
        let got: Vec<_> = found
            .iter()
            .map(|n| (n.request.as_str(), n.what, n.side, n.partner.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (past.id.as_str(), What::Overdue, Side::Requested, "member-a"),
                (
                    soon.id.as_str(),
                    What::Reminder,
                    Side::Requester,
                    "member-a"
                ),
            ]
        );
        let overdue_only = due_notices(&store, "member-b", std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(overdue_only.len(), 1);
        assert_eq!(overdue_only[0].what, What::Overdue);
        for n in &found {
            assert!(n.subject().contains("answer"), "{}", n.subject());
            for form in [n.subject(), n.text(), n.json()] {
                assert!(!form.contains("TOP-SECRET"), "{form}");
            }
        }
    }
}
