//! Where a proposal stands, named as OpenZeppelin's Governor names it, derived from the
//! time, its outcome and the two facts that are acts rather than counts: its cancellation
//! and its execution. Pure: the caller gives the time and the facts.
//!
//! ```text
//! pending (the voting delay; the proposer may cancel → canceled)
//!   → active (the voting period)
//!   → defeated | succeeded (at the deadline, from the outcome)
//! succeeded → executed | expired (not executed within the execution window)
//! ```

use serde::Serialize;

use super::proposal::Proposal;
use super::tally::{Decision, Outcome};

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalState {
    /// Tabled; voting has not opened.
    Pending,
    /// Voting is open.
    Active,
    /// Canceled by its proposer while pending.
    Canceled,
    /// Quorum or majority not met at the deadline.
    Defeated,
    /// Quorum and majority met at the deadline; not yet executed.
    Succeeded,
    /// Succeeded, and its effect applied.
    Executed,
    /// Succeeded, but not executed within the execution window.
    Expired,
}

/// The acts done to a proposal, microseconds since the epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lifecycle {
    /// When its proposer canceled it.
    pub canceled_at: Option<i64>,
    /// When its effect was applied.
    pub executed_at: Option<i64>,
}

/// Why a proposal cannot be canceled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelError {
    /// Someone other than its proposer asked.
    #[error("only the proposer, {proposer}, may cancel proposal {proposal}")]
    NotProposer {
        /// The proposal.
        proposal: String,
        /// Its proposer.
        proposer: String,
    },
    /// Voting has opened.
    #[error("proposal {0} can no longer be canceled: voting has opened")]
    VotingOpened(String),
}

impl Proposal {
    /// Checks that member `by` may cancel the proposal at `at`: its proposer, while it is
    /// pending.
    pub fn check_cancel(&self, by: &str, at: i64) -> Result<(), CancelError> {
        if by != self.proposer {
            return Err(CancelError::NotProposer {
                proposal: self.id.clone(),
                proposer: self.proposer.clone(),
            });
        }
        if at >= self.voting_starts() {
            return Err(CancelError::VotingOpened(self.id.clone()));
        }
        Ok(())
    }
}

/// Where `proposal` stands at `at`, given `outcome` (its ballots tallied; only read after
/// the deadline) and `lifecycle`. A cancellation made once voting opened, or an execution
/// outside the execution window or of a proposal that did not succeed, is ignored.
pub fn state_at(
    proposal: &Proposal,
    at: i64,
    outcome: &Outcome,
    lifecycle: &Lifecycle,
) -> ProposalState {
    let starts = proposal.voting_starts();
    let deadline = proposal.deadline();
    if lifecycle.canceled_at.is_some_and(|c| c < starts && c <= at) {
        return ProposalState::Canceled;
    }
    if at < starts {
        return ProposalState::Pending;
    }
    if at < deadline {
        return ProposalState::Active;
    }
    if outcome.decision == Decision::Defeated {
        return ProposalState::Defeated;
    }
    let ends = proposal.execution_ends();
    if lifecycle
        .executed_at
        .is_some_and(|e| (deadline..ends).contains(&e) && e <= at)
    {
        return ProposalState::Executed;
    }
    if at >= ends {
        return ProposalState::Expired;
    }
    ProposalState::Succeeded
}
