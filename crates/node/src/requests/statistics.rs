//! Response times per partner, kind and side, from the signed histories: how fast each
//! partner answers this node's requests, and how fast this node answers theirs. Every time
//! is the difference of two signed times in one history, so both members compute the same
//! figures for the requests between them.

use std::collections::BTreeMap;

use comity_stix::clock::now_us;
use comity_store::{RequestFilter, Store};
use serde::Serialize;

use super::{Act, RequestError, RequestKind, Side, SignedEvent};

/// How many headers are read per page.
const PAGE: usize = 1000;

/// The figures for one partner, kind and side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseStats {
    /// The member on the other side.
    pub partner: String,
    /// The kind of request.
    pub kind: RequestKind,
    /// This node's side: `requester` (the partner answers) or `requested` (this node does).
    pub side: Side,
    /// Requests.
    pub requests: u64,
    /// Of which still awaiting an answer.
    pub open: u64,
    /// Of which past their due time.
    pub overdue: u64,
    /// Median seconds from submission to acknowledgement.
    pub to_acknowledge: Option<i64>,
    /// Median seconds from acknowledgement to the decision (accepted, accepted with
    /// conditions or refused).
    pub to_decide: Option<i64>,
    /// Median seconds from acknowledgement to execution (executed, or preserved).
    pub to_execute: Option<i64>,
    /// Refusals.
    pub refused: u64,
}

#[derive(Default)]
struct Samples {
    requests: u64,
    open: u64,
    overdue: u64,
    refused: u64,
    to_acknowledge: Vec<i64>,
    to_decide: Vec<i64>,
    to_execute: Vec<i64>,
}

/// The response times of every request this node (`local`) holds, by partner, kind and side.
pub async fn response_times(
    store: &dyn Store,
    local: &str,
) -> Result<Vec<ResponseStats>, RequestError> {
    let now = now_us();
    let mut groups: BTreeMap<(String, &'static str, bool), (RequestKind, Samples)> =
        BTreeMap::new();
    let mut before = None;
    loop {
        let filter = RequestFilter {
            before: before.clone(),
            limit: PAGE,
            ..RequestFilter::default()
        };
        let page = store.requests(&filter).await?;
        for header in &page {
            if header.events == 0 {
                continue;
            }
            let kind: RequestKind = header.kind.parse().map_err(RequestError::Invalid)?;
            let requester = header.requester == local;
            let partner = if requester {
                &header.requested
            } else {
                &header.requester
            };
            let (_, s) = groups
                .entry((partner.clone(), kind.as_str(), requester))
                .or_insert_with(|| (kind, Samples::default()));
            s.requests += 1;
            if let Some(due) = header.due_at {
                s.open += 1;
                s.overdue += u64::from(due < now);
            }
            let mut submitted = None;
            let mut acknowledged = None;
            let (mut decided, mut executed) = (false, false);
            for e in store.request_events(&header.id).await? {
                let act = SignedEvent::parse(&e.json)?.event.act;
                match act {
                    Act::Submit => submitted = Some(e.at),
                    Act::Acknowledge => {
                        acknowledged = Some(e.at);
                        if let Some(t) = submitted {
                            s.to_acknowledge.push(e.at - t);
                        }
                    }
                    Act::Accept | Act::AcceptWithConditions | Act::Refuse if !decided => {
                        decided = true;
                        s.refused += u64::from(act == Act::Refuse);
                        if let Some(t) = acknowledged {
                            s.to_decide.push(e.at - t);
                        }
                    }
                    Act::Complete | Act::Preserve if !executed => {
                        executed = true;
                        if let Some(t) = acknowledged {
                            s.to_execute.push(e.at - t);
                        }
                    }
                    _ => {}
                }
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE => before = Some((last.updated_at, last.id.clone())),
            _ => break,
        }
    }
    Ok(groups
        .into_iter()
        .map(|((partner, _, requester), (kind, s))| ResponseStats {
            partner,
            kind,
            side: if requester {
                Side::Requester
            } else {
                Side::Requested
            },
            requests: s.requests,
            open: s.open,
            overdue: s.overdue,
            to_acknowledge: median_seconds(s.to_acknowledge),
            to_decide: median_seconds(s.to_decide),
            to_execute: median_seconds(s.to_execute),
            refused: s.refused,
        })
        .collect())
}

/// The median of `us` (microseconds), in whole seconds; the lower middle of an even count.
fn median_seconds(mut us: Vec<i64>) -> Option<i64> {
    us.sort_unstable();
    us.get(us.len().saturating_sub(1) / 2)
        .map(|m| m / 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::median_seconds;

    #[test]
    fn the_median_is_the_lower_middle_in_seconds() {
        assert_eq!(median_seconds(vec![]), None);
        assert_eq!(median_seconds(vec![5_000_000]), Some(5));
        assert_eq!(
            median_seconds(vec![9_000_000, 1_000_000, 4_000_000, 7_000_000]),
            Some(4)
        );
    }
}
