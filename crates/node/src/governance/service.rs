//! The governance workflows, written once here; the API, the CLI and the federation inbox
//! call them. Time comes from the caller.
//!
//! - [`propose`]: this node's member tables a proposal against the member set and the
//!   rules in force here; it is signed, stored and committed to the log, and sent to every
//!   other active member in the same transaction.
//! - [`vote`]: this node's member casts a signed ballot (its sequence the ballot's time, or
//!   one more than its last);
//!   it is taken in here like any ballot and sent to every other active member with the
//!   signed proposal, so a member that has not received the proposal yet can check it.
//! - [`cancel`]: this node's member cancels a proposal it tabled, while it is pending: the
//!   signed cancellation is stored, committed to the log and sent to every other active
//!   member with the proposal; every node then holds the proposal `canceled`, refuses
//!   ballots on it and never counts it.
//! - `take_in` (the inbox calls it): a proposal, a ballot or a cancellation from a peer. A
//!   proposal is taken in only when its proposer's pinned key verifies it and this node's
//!   member set and rules are those it names. A ballot is admitted ([`super::admit`]) or
//!   refused with the reason (forged, unknown or suspended member, early, late, replayed,
//!   on a canceled proposal), and nothing is stored; a second different ballot of one
//!   member with the same sequence (a double vote) is refused too, but kept as evidence so
//!   that the count refuses both on every node. A cancellation is taken in only when it is
//!   the proposer's, verified with its pinned key and signed while the proposal was
//!   pending, before the proposal was counted here.
//! - [`count_due`]: at the deadline (plus [`COUNT_AFTER_US`] for ballots in flight) every
//!   node counts the ballots it holds ([`super::count`]); a succeeded proposal's effect
//!   (the `effect` module) is applied in the same transaction, as of the deadline.

use std::collections::BTreeSet;

use comity_stix::clock::{format_us, now_us};
use comity_store::{
    BallotRecord, CancellationRecord, Effect, GovernanceAct, OpenableEntry, OutboxItem, OutboxKind,
    OutcomeRecord, ProposalRecord, RulesVersion, Store, StoreError,
};
use comity_tlog::entry::{LogEntry, GOVERNANCE_ACT};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ballot::{Ballot, Choice, SignedBallot};
use super::cancel::{Cancellation, SignedCancellation};
use super::effect::effect_of;
use super::electorate::Electorate;
use super::proposal::{Action, Motion, Proposal, TablingError};
use super::rules::Rules;
use super::state::{state_at, Lifecycle, ProposalState};
use super::tabled::{SignedProposal, Tabled, TabledError};
use super::tally::{admit, count, Admitted, Decision, Outcome, Refusal};
use crate::federation::envelope::MAX_SKEW;
use crate::federation::seal::Sealer;
use crate::log::LogError;
use crate::node::Node;
use crate::registry::{Directory, RegistryError};

/// How long after a proposal's deadline its outcome is counted: ballots cast before the
/// deadline and still in flight are taken in meanwhile.
pub const COUNT_AFTER_US: i64 = 5_000_000;
/// The most proposals one list returns.
pub const MAX_LIST: usize = 1000;

/// Why a governance act failed.
#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    /// The input is not acceptable; the text says why.
    #[error("{0}")]
    Invalid(String),
    /// The proposal cannot be tabled.
    #[error(transparent)]
    Tabling(#[from] TablingError),
    /// A signed proposal that cannot be read.
    #[error(transparent)]
    Proposal(#[from] TabledError),
    /// The ballot does not count; the reason says why.
    #[error("the ballot is refused: {0}")]
    Ballot(Refusal),
    /// No such proposal on this node.
    #[error("proposal {0} not found")]
    NotFound(String),
    /// This node has no member record.
    #[error("this node has no member record; run `comity init`")]
    NoIdentity,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The registry could not be read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

fn invalid(why: impl Into<String>) -> GovernanceError {
    GovernanceError::Invalid(why.into())
}

/// A stored text that does not read back: the store is damaged.
pub(super) fn corrupt(what: &str, why: impl std::fmt::Display) -> GovernanceError {
    GovernanceError::Store(StoreError::Backend(format!("stored {what}: {why}")))
}

/// A proposal as this node shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalView {
    /// The proposal as tabled (with the rules it is decided by).
    #[serde(flatten)]
    pub proposal: Proposal,
    /// When voting opens.
    pub voting_starts: String,
    /// The deadline.
    pub deadline: String,
    /// Where it stands now.
    pub state: ProposalState,
    /// Its outcome: final once counted, provisional before (empty in a list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// Whether `outcome` is the final one, counted at the deadline.
    pub counted: bool,
    /// Why a succeeded proposal could not be executed, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_executed: Option<String>,
}

/// One version of a norm as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NormView {
    /// The norm's id.
    pub norm: String,
    /// Its version: 1 is the adoption.
    pub version: u64,
    /// Its texts by language (empty once repealed).
    pub texts: Value,
    /// Whether this version repeals it.
    pub repealed: bool,
    /// The proposal that decided it.
    pub proposal: String,
    /// When it took effect (the proposal's deadline).
    pub at: String,
}

/// A proposal to table, as the API takes it and the web UI's form is read into:
/// `{"action": {"kind", …}, "sponsors": [ID…]}`, sponsors optional, nothing else.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProposal {
    /// What it would do.
    pub action: Action,
    /// The members sponsoring it, besides this node's member.
    #[serde(default)]
    pub sponsors: BTreeSet<String>,
}

/// This node's member id.
pub(super) async fn local_member(store: &dyn Store) -> Result<String, GovernanceError> {
    Ok(Directory::new(store)
        .local_member()
        .await?
        .ok_or(GovernanceError::NoIdentity)?
        .id
        .0)
}

/// The rules in force here: the last version decided, or the defaults when none was set.
pub async fn rules_in_force(store: &dyn Store) -> Result<Rules, GovernanceError> {
    match store.rules_in_force().await? {
        Some(r) => serde_json::from_str(&r.json).map_err(|e| corrupt("rules", e)),
        None => Ok(Rules::default()),
    }
}

/// The member set as this node's registry holds it now.
pub async fn electorate_now(store: &dyn Store) -> Result<Electorate, GovernanceError> {
    let members = Directory::new(store).members().await?;
    let mut set = Vec::with_capacity(members.len());
    for m in members {
        let key = m
            .record
            .public_key
            .parse()
            .map_err(|e| corrupt(&format!("key of member {}", m.id), e))?;
        set.push((m.id.0, key, m.status));
    }
    Electorate::new(set).map_err(|e| corrupt("member set", e))
}

/// One log entry committing to `subject`, whose text hashes to `sha256` (hex).
pub(super) fn entry(
    actor: &str,
    subject: String,
    sha256: &str,
) -> Result<OpenableEntry, GovernanceError> {
    let digest = hex::decode(sha256)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt("digest", sha256))?;
    Ok(crate::log::seal(LogEntry {
        kind: GOVERNANCE_ACT.to_owned(),
        time: now_us(),
        actor: actor.to_owned(),
        subject,
        sha256: digest,
    })?)
}

/// The envelopes carrying `body` to every active member of `electorate` but `local`, each
/// sealed to its receiver by `sealer`.
fn sends(
    electorate: &Electorate,
    local: &str,
    sealer: &Sealer,
    body: &str,
) -> Vec<(String, OutboxItem)> {
    electorate
        .members()
        .filter(|(id, _)| *id != local && electorate.is_active(id))
        .map(|(id, _)| {
            let item = sealer.item(id, OutboxKind::Governance, body.to_owned());
            (id.clone(), item)
        })
        .collect()
}

/// Sets the rules this node starts with, before any proposal (until a genesis document
/// carries them): refused once it has rules or proposals.
pub async fn set_initial_rules(node: &Node, rules: &Rules, at: i64) -> Result<(), GovernanceError> {
    rules
        .validate()
        .map_err(|e| invalid(format!("the rules are not valid: {e}")))?;
    let local = local_member(node.store()).await?;
    let json = serde_json::to_string(rules).map_err(|e| invalid(e.to_string()))?;
    let sha256 = crate::requests::event::sha256_hex(json.as_bytes());
    let act = GovernanceAct {
        log_entries: vec![entry(&local, "rules#1".into(), &sha256)?],
        sends: Vec::new(),
    };
    let version = RulesVersion {
        version: 1,
        json,
        proposal: None,
        at,
    };
    node.store()
        .found(&[Effect::Rules(version)], &act)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                invalid("this node has rules or proposals already: rules change only by a proposal")
            }
            other => other.into(),
        })
}

/// Tables `new` for this node's member at `at`, stores it and sends it to every other
/// active member.
pub async fn propose(
    node: &Node,
    new: NewProposal,
    at: i64,
) -> Result<ProposalView, GovernanceError> {
    let store = node.store();
    count_due(store, at).await?;
    let local = local_member(store).await?;
    let rules = rules_in_force(store).await?;
    let electorate = electorate_now(store).await?;
    let proposal = Motion {
        id: format!("proposal--{}", uuid::Uuid::new_v4()),
        action: new.action,
        proposer: local.clone(),
        sponsors: new.sponsors,
    }
    .table(at, &rules, &electorate)?;
    // A key revocation is checked against the member's key history too, which the member
    // set does not carry: what would not apply at the deadline is refused now.
    if let Some((member, decision)) = proposal.action.key_decision(&proposal.id) {
        super::effect::replaced_keys(store, member, &decision, at)
            .await?
            .map_err(invalid)?;
    }
    let signed = Tabled::new(proposal, &electorate).sign(node.log().node_key());
    let body = format!("{{\"proposal\":{}}}", signed.json);
    let sealer = Sealer::load(store, node.log().node_key()).await?;
    let sends = sends(&electorate, &local, &sealer, &body);
    store_proposal(store, &local, &signed, sends).await?;
    tracing::info!(proposal = %signed.tabled.proposal.id, kind = %signed.tabled.proposal.kind(), "proposal tabled");
    show(store, &signed.tabled.proposal.id, at).await
}

async fn store_proposal(
    store: &dyn Store,
    actor: &str,
    signed: &SignedProposal,
    sends: Vec<(String, OutboxItem)>,
) -> Result<bool, GovernanceError> {
    let act = GovernanceAct {
        log_entries: vec![tabled_entry(actor, signed)?],
        sends,
    };
    Ok(store.table_proposal(&proposal_record(signed), &act).await?)
}

/// The log entry of `signed`'s tabling.
pub(super) fn tabled_entry(
    actor: &str,
    signed: &SignedProposal,
) -> Result<OpenableEntry, GovernanceError> {
    let id = &signed.tabled.proposal.id;
    entry(actor, format!("{id}#tabled"), &signed.sha256)
}

/// `signed` as the store keeps it.
pub(super) fn proposal_record(signed: &SignedProposal) -> ProposalRecord {
    let p = &signed.tabled.proposal;
    ProposalRecord {
        id: p.id.clone(),
        kind: p.kind().as_str().to_owned(),
        proposer: p.proposer.clone(),
        tabled_at: p.tabled_at,
        deadline: p.deadline(),
        sha256: signed.sha256.clone(),
        json: signed.json.clone(),
    }
}

/// The stored signed proposal `id`.
pub(super) async fn stored(store: &dyn Store, id: &str) -> Result<SignedProposal, GovernanceError> {
    let record = store
        .proposal(id)
        .await?
        .ok_or_else(|| GovernanceError::NotFound(id.to_owned()))?;
    SignedProposal::parse(&record.json).map_err(|e| corrupt(&format!("proposal {id}"), e))
}

/// Casts this node's member's ballot `choice` on proposal `id` at `at`: signed, taken in
/// here, sent to every other active member.
pub async fn vote(
    node: &Node,
    id: &str,
    choice: Choice,
    at: i64,
) -> Result<ProposalView, GovernanceError> {
    let store = node.store();
    count_due(store, at).await?;
    let local = local_member(store).await?;
    let signed = stored(store, id).await?;
    let mut sequence = 0;
    for b in store.ballots(id).await? {
        if b.member.as_deref() == Some(local.as_str()) {
            let held = SignedBallot::parse(&b.json).map_err(|e| corrupt("ballot", e))?;
            sequence = sequence.max(held.ballot.sequence);
        }
    }
    // The ballot's time in microseconds, or one more than the member's last if higher: two
    // votes made at once (two admins, two processes) never share a sequence, which would be
    // a double vote.
    let sequence = (sequence + 1).max(u64::try_from(at).unwrap_or(0));
    let ballot = Ballot::new(id, choice, &local, sequence, at)
        .sign(node.log().node_key())
        .map_err(|e| invalid(e.to_string()))?;
    let electorate = signed.tabled.electorate()?;
    let sealer = Sealer::load(store, node.log().node_key()).await?;
    let body = format!(
        "{{\"proposal\":{},\"ballot\":{}}}",
        signed.json, ballot.json
    );
    take_in_ballot(
        store,
        &local,
        &local,
        &signed,
        &ballot.json,
        sends(&electorate, &local, &sealer, &body),
    )
    .await?;
    tracing::info!(proposal = %id, choice = %choice, "ballot cast");
    show(store, id, at).await
}

/// What a governance envelope carries besides the signed proposal.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Carried<'a> {
    /// Nothing: the proposal is tabled.
    Nothing,
    /// A signed ballot on it.
    Ballot(&'a str),
    /// Its signed cancellation.
    Cancellation(&'a str),
}

/// Takes in a governance envelope's content from member `from`: the signed proposal
/// `proposal` and what it carries. Returns whether anything was new.
pub(crate) async fn take_in(
    store: &dyn Store,
    from: &str,
    proposal: &str,
    carried: Carried<'_>,
) -> Result<bool, GovernanceError> {
    count_due(store, now_us()).await?;
    let local = local_member(store).await?;
    let by_anyone = matches!(carried, Carried::Ballot(_));
    let (signed, fresh) = take_in_proposal(store, &local, from, proposal, by_anyone).await?;
    match carried {
        Carried::Ballot(text) => {
            take_in_ballot(store, &local, from, &signed, text, Vec::new()).await
        }
        Carried::Cancellation(text) => {
            take_in_cancellation(store, &local, from, &signed, text, Vec::new()).await
        }
        Carried::Nothing => Ok(fresh),
    }
}

/// Cancels proposal `id`, which this node's member tabled, at `at` while it is pending:
/// signed, taken in here, sent to every other active member with the proposal.
pub async fn cancel(node: &Node, id: &str, at: i64) -> Result<ProposalView, GovernanceError> {
    let store = node.store();
    count_due(store, at).await?;
    let local = local_member(store).await?;
    let signed = stored(store, id).await?;
    let cancellation = Cancellation::sign(id, &local, at, node.log().node_key());
    let electorate = signed.tabled.electorate()?;
    let sealer = Sealer::load(store, node.log().node_key()).await?;
    let body = format!(
        "{{\"proposal\":{},\"cancellation\":{}}}",
        signed.json, cancellation.json
    );
    take_in_cancellation(
        store,
        &local,
        &local,
        &signed,
        &cancellation.json,
        sends(&electorate, &local, &sealer, &body),
    )
    .await?;
    tracing::info!(proposal = %id, "proposal canceled");
    show(store, id, at).await
}

/// Takes in a cancellation text of `signed` from member `from`, and stores it with `sends`:
/// refused, changing nothing, unless it is the proposer's, signed with its pinned key while
/// the proposal was pending, and the proposal is neither canceled otherwise nor counted.
async fn take_in_cancellation(
    store: &dyn Store,
    local: &str,
    from: &str,
    signed: &SignedProposal,
    text: &str,
    sends: Vec<(String, OutboxItem)>,
) -> Result<bool, GovernanceError> {
    let proposal = &signed.tabled.proposal;
    let cancellation = SignedCancellation::parse(text).map_err(invalid)?;
    let c = &cancellation.cancellation;
    if c.proposal != proposal.id {
        return Err(invalid(format!(
            "the cancellation is of proposal {}, not of {}",
            c.proposal.escape_debug(),
            proposal.id
        )));
    }
    if c.member != from {
        return Err(invalid(format!(
            "the cancellation was signed for {}, but {from} sent it",
            c.member.escape_debug()
        )));
    }
    if let Some(held) = store.cancellation(&proposal.id).await? {
        if held.sha256 == cancellation.sha256 {
            return Ok(false);
        }
        return Err(invalid(format!(
            "proposal {} was canceled already, at {}",
            proposal.id,
            format_us(held.at)
        )));
    }
    proposal
        .check_cancel(&c.member, cancellation.at_us)
        .map_err(|e| invalid(e.to_string()))?;
    let electorate = signed.tabled.electorate()?;
    let key = electorate
        .get(&proposal.proposer)
        .ok_or_else(|| corrupt("proposal", "its proposer is not in its member set"))?
        .key;
    cancellation.verify(&key).map_err(|e| {
        invalid(format!(
            "the cancellation's signature does not verify with the pinned key of {}: {e}",
            proposal.proposer
        ))
    })?;
    if store.outcome(&proposal.id).await?.is_some() {
        return Err(invalid(format!(
            "proposal {} was counted already: the cancellation came after its count",
            proposal.id
        )));
    }
    if cancellation.at_us > now_us() + MAX_SKEW.whole_microseconds() as i64 {
        return Err(invalid(format!(
            "the cancellation's time {} is in the future",
            c.at
        )));
    }
    let record = CancellationRecord {
        proposal: proposal.id.clone(),
        member: c.member.clone(),
        at: cancellation.at_us,
        sha256: cancellation.sha256.clone(),
        json: text.to_owned(),
    };
    let act = GovernanceAct {
        log_entries: vec![entry(
            local,
            format!("{}#canceled", proposal.id),
            &cancellation.sha256,
        )?],
        sends,
    };
    match store.cancel_proposal(&record, &act).await {
        Ok(fresh) => Ok(fresh),
        Err(StoreError::Conflict(_)) => Err(invalid(format!(
            "proposal {} was counted or canceled meanwhile: the cancellation came too late",
            proposal.id
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Takes in a signed proposal, or finds it held already. Sent alone, it must come from its
/// proposer; with a ballot, any member may carry it (its proposer's signature vouches).
async fn take_in_proposal(
    store: &dyn Store,
    local: &str,
    from: &str,
    text: &str,
    carried: bool,
) -> Result<(SignedProposal, bool), GovernanceError> {
    let signed = SignedProposal::parse(text)?;
    let p = &signed.tabled.proposal;
    if !carried && p.proposer != from {
        return Err(invalid(format!(
            "proposal {} was tabled by {}, but {from} sent it",
            p.id.escape_debug(),
            p.proposer.escape_debug()
        )));
    }
    if let Some(held) = store.proposal(&p.id).await? {
        if held.sha256 == signed.sha256 {
            return Ok((signed, false));
        }
        return Err(invalid(format!(
            "another proposal {} is held here (sha256 {}), which stands",
            p.id, held.sha256
        )));
    }
    let Some(proposer) = Directory::new(store).member(&p.proposer).await? else {
        return Err(invalid(format!(
            "the proposer {} is not a member known here",
            p.proposer.escape_debug()
        )));
    };
    let key = proposer
        .record
        .public_key
        .parse()
        .map_err(|e| corrupt(&format!("key of member {}", proposer.id), e))?;
    signed.verify(&key).map_err(|e| {
        invalid(format!(
            "the proposal's signature does not verify with the pinned key of {}: {e}",
            p.proposer
        ))
    })?;
    if p.tabled_at > now_us() + MAX_SKEW.whole_microseconds() as i64 {
        return Err(invalid(format!(
            "proposal {} was tabled in the future ({})",
            p.id,
            format_us(p.tabled_at)
        )));
    }
    let electorate = electorate_now(store).await?;
    let carried_set = signed.tabled.electorate()?;
    if carried_set.digest() != electorate.digest() {
        return Err(invalid(format!(
            "proposal {} was tabled against a member set (sha256 {}) other than this node's (sha256 {})",
            p.id,
            carried_set.digest(),
            electorate.digest()
        )));
    }
    let rules = rules_in_force(store).await?;
    if p.rules.digest() != rules.digest() {
        return Err(invalid(format!(
            "proposal {} was tabled under rules (sha256 {}) other than those in force here (sha256 {})",
            p.id,
            p.rules.digest(),
            rules.digest()
        )));
    }
    let again = Motion {
        id: p.id.clone(),
        action: p.action.clone(),
        proposer: p.proposer.clone(),
        sponsors: p.sponsors.clone(),
    }
    .table(p.tabled_at, &rules, &electorate)?;
    if again != *p {
        return Err(invalid(format!("proposal {} is not as tabled", p.id)));
    }
    let fresh = store_proposal(store, local, &signed, Vec::new()).await?;
    tracing::info!(proposal = %p.id, from = %from, "proposal received");
    Ok((signed, fresh))
}

/// Admits a ballot text on `signed` cast by member `from`, and stores it with `sends`; a
/// double vote is stored as evidence and refused.
async fn take_in_ballot(
    store: &dyn Store,
    local: &str,
    from: &str,
    signed: &SignedProposal,
    text: &str,
    sends: Vec<(String, OutboxItem)>,
) -> Result<bool, GovernanceError> {
    let proposal = &signed.tabled.proposal;
    if let Some(c) = store.cancellation(&proposal.id).await? {
        return Err(invalid(format!(
            "proposal {} was canceled by its proposer at {}: it takes no ballots",
            proposal.id,
            format_us(c.at)
        )));
    }
    let electorate = signed.tabled.electorate()?;
    let admitted =
        admit(proposal, &electorate, text).map_err(|r| GovernanceError::Ballot(r.reason))?;
    let ballot = admitted.ballot();
    if ballot.member != from {
        return Err(invalid(format!(
            "the ballot was cast by {}, but {from} sent it",
            ballot.member
        )));
    }
    let signed_at = comity_stix::clock::parse_us(&ballot.at).unwrap_or(i64::MAX);
    if signed_at > now_us() + MAX_SKEW.whole_microseconds() as i64 {
        return Err(invalid(format!(
            "the ballot's time {} is in the future",
            ballot.at
        )));
    }
    let mut held = Vec::new();
    for b in store.ballots(&proposal.id).await? {
        if b.sha256 == admitted.sha256() {
            return Err(GovernanceError::Ballot(Refusal::Replayed { of: b.sha256 }));
        }
        let other = SignedBallot::parse(&b.json).map_err(|e| corrupt("ballot", e))?;
        held.push((b.sha256, other.ballot));
    }
    let refusal = equivocation(ballot, &held);
    let (record, log_entry) = ballot_record(local, &admitted, text, refusal.as_ref(), now_us())?;
    let act = GovernanceAct {
        log_entries: vec![log_entry],
        sends: if refusal.is_some() { Vec::new() } else { sends },
    };
    let fresh = match store.add_ballot(&record, &act).await {
        Ok(fresh) => fresh,
        Err(StoreError::Conflict(_)) => {
            return Err(invalid(format!(
                "proposal {} was counted already: the ballot came after its count",
                proposal.id
            )))
        }
        Err(e) => return Err(e.into()),
    };
    match refusal {
        Some(r) => Err(GovernanceError::Ballot(r)),
        None => Ok(fresh),
    }
}

/// Why `ballot` is refused when it is a double vote: another of `held` (hash, ballot)
/// names the same member and sequence (the last such one is named).
pub(super) fn equivocation(ballot: &Ballot, held: &[(String, Ballot)]) -> Option<Refusal> {
    held.iter()
        .rev()
        .find(|(_, b)| b.member == ballot.member && b.sequence == ballot.sequence)
        .map(|(sha256, _)| Refusal::Equivocation {
            sequence: ballot.sequence,
            with: vec![sha256.clone()],
        })
}

/// The ballot text `text`, admitted as `admitted` and refused as a double vote when
/// `refusal`, as the store keeps it once received at `received_at`, with its log entry.
pub(super) fn ballot_record(
    local: &str,
    admitted: &Admitted,
    text: &str,
    refusal: Option<&Refusal>,
    received_at: i64,
) -> Result<(BallotRecord, OpenableEntry), GovernanceError> {
    let ballot = admitted.ballot();
    let record = BallotRecord {
        proposal: ballot.proposal.clone(),
        sha256: admitted.sha256().to_owned(),
        member: Some(ballot.member.clone()),
        received_at,
        refusal: refusal.map(|r| serde_json::to_string(r).unwrap_or_default()),
        json: text.to_owned(),
    };
    let log_entry = entry(
        local,
        format!("{}#ballot", ballot.proposal),
        admitted.sha256(),
    )?;
    Ok((record, log_entry))
}

/// The outcome of `signed` from the ballots held: every ballot held is admitted again and
/// counted (a double vote's two ballots among them, which the count refuses).
async fn outcome_of(
    store: &dyn Store,
    signed: &SignedProposal,
) -> Result<Outcome, GovernanceError> {
    let proposal = &signed.tabled.proposal;
    let electorate = signed.tabled.electorate()?;
    let mut admitted: Vec<Admitted> = Vec::new();
    for b in store.ballots(&proposal.id).await? {
        let a = admit(proposal, &electorate, &b.json)
            .map_err(|r| corrupt(&format!("ballot {}", b.sha256), r.reason))?;
        admitted.push(a);
    }
    Ok(count(proposal, &electorate, admitted, Vec::new()))
}

/// Counts every proposal whose deadline passed [`COUNT_AFTER_US`] before `now` and that has
/// no outcome yet, and applies the effect of each that succeeded. Returns how many.
pub async fn count_due(store: &dyn Store, now: i64) -> Result<usize, GovernanceError> {
    let due = store.proposals_due(now - COUNT_AFTER_US).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let local = local_member(store).await?;
    let mut counted = 0;
    for record in due {
        let signed = SignedProposal::parse(&record.json)
            .map_err(|e| corrupt(&format!("proposal {}", record.id), e))?;
        let outcome = outcome_of(store, &signed).await?;
        let proposal = &signed.tabled.proposal;
        let (effect, executed) = if outcome.decision == Decision::Succeeded {
            match effect_of(store, proposal, &outcome).await? {
                Ok(effect) => (effect, true),
                Err(why) => {
                    tracing::warn!(proposal = %proposal.id, why = %why, "a succeeded proposal cannot be executed");
                    (None, false)
                }
            }
        } else {
            (None, false)
        };
        let (record, log_entries) = outcome_record(&local, proposal, &outcome, now, executed)?;
        let act = GovernanceAct {
            log_entries,
            sends: Vec::new(),
        };
        if store.record_outcome(&record, effect.as_ref(), &act).await? {
            counted += 1;
            tracing::info!(proposal = %proposal.id, decision = %record.decision, digest = %record.digest, executed, "proposal counted");
        }
    }
    Ok(counted)
}

/// The outcome of `proposal` as the store keeps it, counted at `now` (and executed at its
/// deadline when `executed`), with the log entries that commit to it.
pub(super) fn outcome_record(
    local: &str,
    proposal: &Proposal,
    outcome: &Outcome,
    now: i64,
    executed: bool,
) -> Result<(OutcomeRecord, Vec<OpenableEntry>), GovernanceError> {
    let json = serde_json::to_string(outcome).map_err(|e| invalid(e.to_string()))?;
    let mut log_entries = vec![entry(
        local,
        format!("{}#outcome", proposal.id),
        &outcome.digest,
    )?];
    if executed {
        log_entries.push(entry(
            local,
            format!("{}#executed", proposal.id),
            &outcome.digest,
        )?);
    }
    let record = OutcomeRecord {
        proposal: proposal.id.clone(),
        decision: match outcome.decision {
            Decision::Succeeded => "succeeded",
            Decision::Defeated => "defeated",
        }
        .to_owned(),
        digest: outcome.digest.clone(),
        counted_at: now,
        executed_at: executed.then(|| proposal.deadline()),
        json,
    };
    Ok((record, log_entries))
}

/// Starts the task that counts proposals as their deadlines pass, every `every`; it runs
/// until aborted.
pub fn spawn_counter(node: Node, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = count_due(node.store(), now_us()).await {
                tracing::warn!(error = %e, "counting proposals failed");
            }
        }
    })
}

/// Proposal `id` as it stands at `now`, with its outcome.
pub async fn show(store: &dyn Store, id: &str, now: i64) -> Result<ProposalView, GovernanceError> {
    let signed = stored(store, id).await?;
    view(store, signed, now, true).await
}

async fn view(
    store: &dyn Store,
    signed: SignedProposal,
    now: i64,
    with_outcome: bool,
) -> Result<ProposalView, GovernanceError> {
    let proposal = signed.tabled.proposal.clone();
    let held = store.outcome(&proposal.id).await?;
    let (outcome, counted, executed_at) = match &held {
        Some(o) => (
            serde_json::from_str::<Outcome>(&o.json).map_err(|e| corrupt("outcome", e))?,
            true,
            o.executed_at,
        ),
        None => (outcome_of(store, &signed).await?, false, None),
    };
    let lifecycle = Lifecycle {
        canceled_at: store.cancellation(&proposal.id).await?.map(|c| c.at),
        executed_at,
    };
    let mut state = state_at(&proposal, now, &outcome, &lifecycle);
    if !counted && matches!(state, ProposalState::Succeeded | ProposalState::Defeated) {
        // Past the deadline but not counted yet: still open to ballots in flight.
        state = ProposalState::Active;
    }
    let not_executed =
        (counted && outcome.decision == Decision::Succeeded && executed_at.is_none())
            .then(|| "its effect could not apply here (see the node's log)".to_owned());
    Ok(ProposalView {
        voting_starts: format_us(proposal.voting_starts()),
        deadline: format_us(proposal.deadline()),
        proposal,
        state,
        outcome: with_outcome.then_some(outcome),
        counted,
        not_executed,
    })
}

/// The proposals, most recently tabled first, at most `limit` (at most [`MAX_LIST`]).
pub async fn list(
    store: &dyn Store,
    now: i64,
    limit: usize,
) -> Result<Vec<ProposalView>, GovernanceError> {
    listed(store, now, limit, false).await
}

/// The proposals as [`list`] gives them, each with its outcome so far (final once
/// counted): the tally a page shows beside each proposal.
pub async fn list_with_outcomes(
    store: &dyn Store,
    now: i64,
    limit: usize,
) -> Result<Vec<ProposalView>, GovernanceError> {
    listed(store, now, limit, true).await
}

/// The proposals open for a vote at `now` (voting opened, deadline ahead), the nearest
/// deadline first, among the [`MAX_LIST`] most recently tabled. Only those whose deadline is
/// ahead are read and tallied, so the cost follows the open proposals, not every proposal
/// ever tabled.
pub async fn open_for_vote(
    store: &dyn Store,
    now: i64,
) -> Result<Vec<ProposalView>, GovernanceError> {
    let mut out = Vec::new();
    for record in store.proposals(MAX_LIST).await? {
        if record.deadline <= now {
            continue;
        }
        let signed = SignedProposal::parse(&record.json)
            .map_err(|e| corrupt(&format!("proposal {}", record.id), e))?;
        let shown = view(store, signed, now, false).await?;
        if shown.state == ProposalState::Active {
            out.push(shown);
        }
    }
    out.sort_by_key(|p| p.proposal.deadline());
    Ok(out)
}

async fn listed(
    store: &dyn Store,
    now: i64,
    limit: usize,
    with_outcome: bool,
) -> Result<Vec<ProposalView>, GovernanceError> {
    let mut out = Vec::new();
    for record in store.proposals(limit.min(MAX_LIST)).await? {
        let signed = SignedProposal::parse(&record.json)
            .map_err(|e| corrupt(&format!("proposal {}", record.id), e))?;
        out.push(view(store, signed, now, with_outcome).await?);
    }
    Ok(out)
}

/// The norms registry: every version of every norm, by norm then version.
pub async fn norms(store: &dyn Store) -> Result<Vec<NormView>, GovernanceError> {
    store
        .norms()
        .await?
        .into_iter()
        .map(|n| {
            Ok(NormView {
                texts: serde_json::from_str(&n.texts).map_err(|e| corrupt("norm texts", e))?,
                norm: n.norm,
                version: n.version,
                repealed: n.repealed,
                proposal: n.proposal,
                at: format_us(n.at),
            })
        })
        .collect()
}
