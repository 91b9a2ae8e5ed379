//! Governance across nodes: a `governance` envelope carries a signed proposal to every
//! other active member, `{"proposal": PROPOSAL}`, a member's signed ballot with the
//! proposal it is on, `{"proposal": PROPOSAL, "ballot": BALLOT}` (so a member that has not
//! received the proposal yet can check it), or the proposer's signed cancellation with the
//! proposal, `{"proposal": PROPOSAL, "cancellation": CANCELLATION}`, through the durable
//! outbox like everything else. The inbox checks the envelope and its sender; the proposal and the ballot are
//! checked and taken in by [`crate::governance::service`], which refuses them (signed
//! receipt, recorded, committed to the log) with the precise reason.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::governance::service::Carried;
use crate::governance::GovernanceError;

use super::envelope::Envelope;
use super::inbox::{Answer, Inbox, InboxError};

/// The body of a `governance` envelope.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    proposal: Box<RawValue>,
    ballot: Option<Box<RawValue>>,
    cancellation: Option<Box<RawValue>>,
}

/// Applies a `governance` envelope from a verified, active sender.
pub(super) async fn receive(
    inbox: &Inbox<'_>,
    local: &str,
    env: &Envelope,
) -> Result<Answer, InboxError> {
    let body: Body = match serde_json::from_str(env.body.get()) {
        Ok(b) => b,
        Err(e) => {
            let why = format!(
                "the body is not {{\"proposal\": {{...}}, \"ballot\" or \"cancellation\"?: {{...}}}}: {e}"
            );
            return inbox.refuse_recorded(local, env, why).await;
        }
    };
    let carried = match (&body.ballot, &body.cancellation) {
        (None, None) => Carried::Nothing,
        (Some(ballot), None) => Carried::Ballot(ballot.get()),
        (None, Some(cancellation)) => Carried::Cancellation(cancellation.get()),
        (Some(_), Some(_)) => {
            let why = "the body carries a ballot and a cancellation: one act per envelope";
            return inbox.refuse_recorded(local, env, why.to_owned()).await;
        }
    };
    // Proposals and ballots count against the sender's hourly allowance of body bytes.
    if let Some(answer) = inbox.beyond_quota(local, env, 0) {
        return Ok(answer);
    }
    let taken =
        crate::governance::service::take_in(inbox.store(), &env.from, body.proposal.get(), carried)
            .await;
    match taken {
        Ok(fresh) => inbox.deliver_recorded(local, env, u64::from(fresh)).await,
        Err(GovernanceError::Store(e)) => Err(e.into()),
        Err(GovernanceError::Log(e)) => Err(e.into()),
        Err(GovernanceError::Registry(e)) => Err(e.into()),
        Err(GovernanceError::NoIdentity) => Err(InboxError::NoIdentity),
        Err(refusal) => inbox.refuse_recorded(local, env, refusal.to_string()).await,
    }
}
