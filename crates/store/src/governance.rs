//! Governance as the store keeps it: proposals as tabled (their signed text), the ballots
//! received on each (admitted, or refused with the reason), the cancellation of those
//! canceled by their proposer, the outcome of each with its
//! digest, the rules in force (every version) and the norms registry (every version of
//! every norm). The store never interprets a proposal, a ballot, a rule or a norm text:
//! the node crate owns their vocabulary and checks each before it gets here. What the store
//! guarantees is that every act is written once, together with its log entry, the
//! envelopes that carry it to the other members and, for an outcome, the effect it has.

use crate::{OpenableEntry, OutboxItem, RegistryEntry};

/// The scope under which the openings of governance log entries are kept.
pub const GOVERNANCE_SCOPE: &str = "governance";

/// A proposal as tabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalRecord {
    /// Its id, `proposal--<UUID>`.
    pub id: String,
    /// Its kind, as the node writes it (`adopt_norm`, …).
    pub kind: String,
    /// The member that tabled it.
    pub proposer: String,
    /// When it was tabled, microseconds since the Unix epoch.
    pub tabled_at: i64,
    /// Its deadline, microseconds: the outcome is counted from then.
    pub deadline: i64,
    /// Hex SHA-256 of `json`.
    pub sha256: String,
    /// The signed proposal as JSON text, stored as given.
    pub json: String,
}

/// A ballot received on a proposal, admitted or refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BallotRecord {
    /// The proposal it was received for.
    pub proposal: String,
    /// Hex SHA-256 of `json`: a text is kept once per proposal.
    pub sha256: String,
    /// The member it names, when it could be read.
    pub member: Option<String>,
    /// When it was received, microseconds.
    pub received_at: i64,
    /// Why it does not count (JSON text, as the node writes it); `None` when admitted.
    pub refusal: Option<String>,
    /// The signed ballot as JSON text, stored as given.
    pub json: String,
}

/// A proposal canceled by its proposer while pending: the signed cancellation as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancellationRecord {
    /// The proposal canceled.
    pub proposal: String,
    /// The member that canceled it (its proposer).
    pub member: String,
    /// When it was canceled (the signed time), microseconds.
    pub at: i64,
    /// Hex SHA-256 of `json`.
    pub sha256: String,
    /// The signed cancellation as JSON text, stored as given.
    pub json: String,
}

/// The outcome of a proposal, counted at its deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeRecord {
    /// The proposal.
    pub proposal: String,
    /// What was decided (`succeeded`, `defeated`).
    pub decision: String,
    /// Hex SHA-256 of the outcome, the same on every node that counted the same ballots.
    pub digest: String,
    /// When it was counted here, microseconds.
    pub counted_at: i64,
    /// When its effect was applied here, microseconds; `None` when it has none.
    pub executed_at: Option<i64>,
    /// The outcome as JSON text.
    pub json: String,
}

/// A proposal decided on other nodes, as a node that joins later takes it from a peer's
/// history: the proposal as tabled, the ballots counted and its outcome, stored together
/// ([`crate::GovernanceStore::record_decided`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// The proposal.
    pub proposal: ProposalRecord,
    /// Its ballots, in the order given.
    pub ballots: Vec<BallotRecord>,
    /// Its outcome.
    pub outcome: OutcomeRecord,
}

impl Decided {
    /// A backend error unless every ballot and the outcome are of the proposal.
    pub fn check(&self) -> crate::StoreResult<()> {
        let id = &self.proposal.id;
        if self.outcome.proposal != *id || self.ballots.iter().any(|b| b.proposal != *id) {
            return Err(crate::StoreError::Backend(format!(
                "a ballot or the outcome of decided proposal {id:?} is of another proposal"
            )));
        }
        Ok(())
    }
}

/// One version of a norm of the norms registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormVersion {
    /// The norm's id.
    pub norm: String,
    /// Its version, from 1: adoption, then each amendment or its repeal.
    pub version: u64,
    /// Its texts by language (JSON text); empty (`{}`) for a repeal.
    pub texts: String,
    /// Whether this version repeals the norm.
    pub repealed: bool,
    /// The proposal that decided it.
    pub proposal: String,
    /// When it took effect here, microseconds.
    pub at: i64,
}

/// One version of the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesVersion {
    /// Its version, from 1.
    pub version: u64,
    /// The rules as JSON text.
    pub json: String,
    /// The proposal that decided them; `None` for the rules a node starts with.
    pub proposal: Option<String>,
    /// When they took effect here, microseconds.
    pub at: i64,
}

/// What a succeeded proposal changes, applied in the transaction of its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A new version of a norm: version 1 is an adoption (a [`crate::StoreError::Conflict`]
    /// when the norm exists), a later one must follow the stored last version.
    Norm(NormVersion),
    /// New rules, the next version after those in force.
    Rules(RulesVersion),
    /// A member record: added when `expected` is `None` (a conflict when it exists),
    /// otherwise replaced only while the stored entry is still `expected` (a conflict when
    /// it is not).
    Member {
        /// The entry after the change.
        entry: RegistryEntry,
        /// The entry before it.
        expected: Option<RegistryEntry>,
    },
}

/// What goes with every governance act in its transaction.
#[derive(Debug, Clone)]
pub struct GovernanceAct {
    /// The log entries that commit to it (their openings kept under [`GOVERNANCE_SCOPE`]).
    pub log_entries: Vec<OpenableEntry>,
    /// The envelopes that carry it, each for its member's outbox.
    pub sends: Vec<(String, OutboxItem)>,
}

/// Everything governance keeps, as `comity copy` carries it from one store to another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GovernanceRecords {
    /// The proposals, as tabled.
    pub proposals: Vec<ProposalRecord>,
    /// The ballots of every proposal, each proposal's in the order received.
    pub ballots: Vec<BallotRecord>,
    /// The outcomes.
    pub outcomes: Vec<OutcomeRecord>,
    /// The cancellations.
    pub cancellations: Vec<CancellationRecord>,
    /// Every version of the rules, oldest first.
    pub rules: Vec<RulesVersion>,
    /// Every version of every norm.
    pub norms: Vec<NormVersion>,
}

impl GovernanceRecords {
    /// Reads them all from `store`, proposals oldest first.
    pub async fn read(store: &dyn crate::GovernanceStore) -> crate::StoreResult<GovernanceRecords> {
        let mut proposals = store.proposals(usize::MAX).await?;
        proposals.reverse();
        let mut records = GovernanceRecords {
            rules: store.rules_versions().await?,
            norms: store.norms().await?,
            ..GovernanceRecords::default()
        };
        for p in &proposals {
            records.ballots.extend(store.ballots(&p.id).await?);
            records.outcomes.extend(store.outcome(&p.id).await?);
            records
                .cancellations
                .extend(store.cancellation(&p.id).await?);
        }
        records.proposals = proposals;
        Ok(records)
    }

    /// Whether there is nothing.
    pub fn is_empty(&self) -> bool {
        *self == GovernanceRecords::default()
    }
}
