//! Catching up with the history decided since the genesis, for a node that joins later. It
//! reads a peer's [`super::history`] page by page, in decided order (deadline, then id),
//! and takes each item only once it verified it against the state it derives itself: the
//! member set and rules in force when the proposal was tabled (those its genesis left,
//! changed by each earlier decision as of its deadline), the proposer's signature with the
//! key pinned in that set, the tabling checks, every ballot admitted as on arrival, and the
//! outcome recounted from the ballots (the peer's claimed outcome must be that count). The
//! effect is derived here as executing the proposal derives it, and the proposal, its
//! ballots, outcome, effect and log entries are stored in one transaction. The first item
//! that does not verify stops the catch-up with the reason; what was applied before stays.
//! Items held here already are verified and compared, never applied twice. A second peer's
//! history, when given, must list the same items.

use std::collections::VecDeque;

use async_trait::async_trait;
use comity_stix::clock::format_us;
use comity_store::{Decided, GovernanceAct, ProposalRecord, Store, StoreError};
use serde::Serialize;

use super::audit::Summary;
use super::ballot::Ballot;
use super::electorate::Electorate;
use super::history::{Item, SignedPage, MAX_PAGE_BYTES};
use super::proposal::{Action, Motion, Proposal};
use super::rules::Rules;
use super::service::{
    ballot_record, corrupt, electorate_now, equivocation, local_member, outcome_record,
    proposal_record, rules_in_force, tabled_entry, GovernanceError, COUNT_AFTER_US,
};
use super::tabled::SignedProposal;
use super::tally::{admit, count, Decision};
use crate::federation::request_signature;
use crate::federation::transport::{history_path, PeerTransport};
use crate::identity::{NodeKey, PublicKey};
use crate::node::Node;
use crate::policy::MemberStatus;
use crate::registry::Directory;

/// Where a history's pages come from.
#[async_trait]
pub trait Pages: Send + Sync {
    /// The member whose history it is.
    fn peer(&self) -> &str;
    /// The text of its page after proposal `after` (the first page when `None`), or why
    /// it could not be had.
    async fn fetch(&self, after: Option<&str>) -> Result<String, String>;
}

/// A peer's history over the federation: a `GET` signed by this node's key, as an audit
/// asks for a dossier.
pub struct PeerPages<'a> {
    transport: &'a dyn PeerTransport,
    key: &'a NodeKey,
    local: String,
    peer: String,
    endpoint: String,
}

impl<'a> PeerPages<'a> {
    /// `peer`'s history as `node` asks for it over `transport`; refused when the peer is
    /// unknown here or has no endpoint this node may reach.
    pub async fn new(
        node: &'a Node,
        transport: &'a dyn PeerTransport,
        peer: &str,
    ) -> Result<PeerPages<'a>, GovernanceError> {
        let store = node.store();
        let member = Directory::new(store).member(peer).await?.ok_or_else(|| {
            invalid(format!(
                "{} is not a member known here",
                peer.escape_debug()
            ))
        })?;
        let endpoint = member
            .record
            .delivery_endpoint()
            .ok_or_else(|| invalid(format!("{peer} has no endpoint this node may reach")))?;
        Ok(PeerPages {
            transport,
            key: node.log().node_key(),
            local: local_member(store).await?,
            peer: peer.to_owned(),
            endpoint,
        })
    }
}

#[async_trait]
impl Pages for PeerPages<'_> {
    fn peer(&self) -> &str {
        &self.peer
    }

    async fn fetch(&self, after: Option<&str>) -> Result<String, String> {
        let path = history_path(after);
        let now = comity_stix::clock::now_us() / 1_000_000;
        let signature = request_signature::sign(self.key, &self.local, "GET", &path, b"", now);
        let answer = self
            .transport
            .get_signed(&self.endpoint, &path, signature, MAX_PAGE_BYTES)
            .await
            .map_err(|e| e.to_string())?;
        if !answer.is_success() {
            let said = serde_json::from_slice::<serde_json::Value>(&answer.body)
                .ok()
                .and_then(|v| v["description"].as_str().map(str::to_owned))
                .unwrap_or_default();
            return Err(format!(
                "GET {path} answered {}: {said}",
                answer.status_text
            ));
        }
        String::from_utf8(answer.body).map_err(|_| format!("GET {path}: the answer is not UTF-8"))
    }
}

/// A proposal applied by the catch-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// The proposal.
    pub proposal: String,
    /// Its kind.
    pub kind: String,
    /// What was decided.
    pub decision: Decision,
    /// Whether its effect was applied.
    pub executed: bool,
}

/// Where and why a catch-up stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stop {
    /// The peer whose history stopped it.
    pub peer: String,
    /// The item that did not verify, when it names one.
    pub proposal: Option<String>,
    /// Why.
    pub reason: String,
}

/// What a catch-up did, so far or in all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CatchUp {
    /// The peers read.
    pub peers: Vec<String>,
    /// The items verified.
    pub verified: usize,
    /// Of those, the ones held here already.
    pub held: usize,
    /// The ones applied now, in decided order.
    pub applied: Vec<Applied>,
    /// Why it stopped before the end of the history, if it did.
    pub stopped: Option<Stop>,
}

fn invalid(why: String) -> GovernanceError {
    GovernanceError::Invalid(why)
}

/// Catches up with the history `sources` hand over (the first read, the others compared
/// with it item by item), at `now`, calling `progress` after each item. Store failures are
/// errors; an item that does not verify ends it with [`CatchUp::stopped`].
pub async fn catch_up(
    node: &Node,
    sources: &[&dyn Pages],
    now: i64,
    progress: &mut (dyn FnMut(&CatchUp) + Send),
) -> Result<CatchUp, GovernanceError> {
    let store = node.store();
    let Some((first, others)) = sources.split_first() else {
        return Err(invalid("name a peer to catch up from".into()));
    };
    let local = local_member(store).await?;
    for (i, s) in sources.iter().enumerate() {
        if s.peer() == local || sources[..i].iter().any(|o| o.peer() == s.peer()) {
            return Err(invalid(format!(
                "{} is this node's member or named twice",
                s.peer()
            )));
        }
    }
    super::service::count_due(store, now).await?;
    let mut run = Run {
        store,
        local,
        held: store.decided(None, usize::MAX).await?.into(),
        replay: None,
        now,
    };
    let mut report = CatchUp {
        peers: sources.iter().map(|s| s.peer().to_owned()).collect(),
        ..CatchUp::default()
    };
    let mut main = Cursor::new(*first);
    let mut compared: Vec<Cursor> = others.iter().map(|s| Cursor::new(*s)).collect();
    loop {
        let item = match main.next(store).await? {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(reason) => return Ok(stopped(report, first.peer(), None, reason)),
        };
        let id = proposal_id(&item);
        for c in &mut compared {
            let reason = match c.next(store).await? {
                Ok(Some(theirs)) => disagreement(&item, &theirs, first.peer(), c.peer()),
                Ok(None) => Some(format!("the history of {} ends before it", c.peer())),
                Err(reason) => Some(reason),
            };
            if let Some(reason) = reason {
                return Ok(stopped(report, c.source.peer(), id, reason));
            }
        }
        match run.take(&item).await? {
            Ok(None) => report.held += 1,
            Ok(Some(applied)) => report.applied.push(applied),
            Err(reason) => return Ok(stopped(report, first.peer(), id, reason)),
        }
        report.verified += 1;
        progress(&report);
    }
    for c in &mut compared {
        if let Ok(Some(theirs)) = c.next(store).await? {
            let reason = format!(
                "the history of {} goes on with proposal {}, that of {} ends",
                c.peer(),
                proposal_id(&theirs).unwrap_or_default(),
                first.peer()
            );
            return Ok(stopped(report, c.source.peer(), None, reason));
        }
    }
    if let Some(h) = run.held.front() {
        let reason = format!(
            "the history omits proposal {} (deadline {}), decided here",
            h.id,
            format_us(h.deadline)
        );
        return Ok(stopped(report, first.peer(), None, reason));
    }
    Ok(report)
}

fn stopped(mut report: CatchUp, peer: &str, proposal: Option<String>, reason: String) -> CatchUp {
    tracing::warn!(peer = %peer, proposal = ?proposal, reason = %reason, "catch-up stopped");
    report.stopped = Some(Stop {
        peer: peer.to_owned(),
        proposal,
        reason,
    });
    report
}

fn proposal_id(item: &Item) -> Option<String> {
    SignedProposal::parse(&item.proposal)
        .ok()
        .map(|s| s.tabled.proposal.id)
}

/// Why two peers' items differ, if they do: another proposal text, outcome or execution.
fn disagreement(ours: &Item, theirs: &Item, first: &str, other: &str) -> Option<String> {
    let sha = |i: &Item| crate::requests::event::sha256_hex(i.proposal.as_bytes());
    let same = sha(ours) == sha(theirs)
        && ours.outcome.digest == theirs.outcome.digest
        && ours.executed == theirs.executed;
    (!same).then(|| {
        format!(
            "{first} lists proposal {} (sha256 {}, outcome {}, executed {}), {other} lists \
             proposal {} (sha256 {}, outcome {}, executed {})",
            proposal_id(ours).unwrap_or_default(),
            sha(ours),
            ours.outcome.digest,
            ours.executed,
            proposal_id(theirs).unwrap_or_default(),
            sha(theirs),
            theirs.outcome.digest,
            theirs.executed
        )
    })
}

/// One peer's history as it is read, page by page.
struct Cursor<'a> {
    source: &'a dyn Pages,
    buffer: VecDeque<Item>,
    after: Option<String>,
    done: bool,
}

impl<'a> Cursor<'a> {
    fn new(source: &'a dyn Pages) -> Cursor<'a> {
        Cursor {
            source,
            buffer: VecDeque::new(),
            after: None,
            done: false,
        }
    }

    fn peer(&self) -> &str {
        self.source.peer()
    }

    /// The next item, `None` at the end, or why the history cannot be read on.
    async fn next(
        &mut self,
        store: &dyn Store,
    ) -> Result<Result<Option<Item>, String>, GovernanceError> {
        if self.buffer.is_empty() && !self.done {
            match self.read_page(store).await? {
                Ok(()) => {}
                Err(reason) => return Ok(Err(reason)),
            }
        }
        let item = self.buffer.pop_front();
        if let Some(i) = &item {
            self.after = Some(proposal_id(i).unwrap_or_default());
        }
        Ok(Ok(item))
    }

    async fn read_page(
        &mut self,
        store: &dyn Store,
    ) -> Result<Result<(), String>, GovernanceError> {
        let peer = self.source.peer();
        let text = match self.source.fetch(self.after.as_deref()).await {
            Ok(text) => text,
            Err(why) => return Ok(Err(format!("its history could not be had: {why}"))),
        };
        let signed = match SignedPage::parse(&text) {
            Ok(s) => s,
            Err(why) => return Ok(Err(format!("its answer is {why}"))),
        };
        let page = &signed.page;
        let Some(key) = pinned_key(store, peer).await? else {
            return Ok(Err(format!("{peer} is not a member known here")));
        };
        if page.member != peer {
            return Ok(Err(format!(
                "the page is from {}, not from {peer}",
                page.member.escape_debug()
            )));
        }
        if let Err(e) = crate::identity::signed::verify(page, &signed.signature, &key) {
            return Ok(Err(format!(
                "the page does not verify with the pinned key of {peer}: {e}"
            )));
        }
        if page.after != self.after {
            return Ok(Err(format!(
                "the page follows {:?}, not {:?} as asked",
                page.after, self.after
            )));
        }
        if page.items.is_empty() && page.more {
            return Ok(Err("the page holds no item but says more follow".into()));
        }
        self.done = !page.more;
        self.buffer.extend(signed.page.items);
        Ok(Ok(()))
    }
}

/// The key pinned here for `member`, if it is known.
async fn pinned_key(store: &dyn Store, member: &str) -> Result<Option<PublicKey>, GovernanceError> {
    match Directory::new(store).member(member).await? {
        Some(m) => {
            Ok(Some(m.record.public_key.parse().map_err(|e| {
                corrupt(&format!("key of member {member}"), e)
            })?))
        }
        None => Ok(None),
    }
}

/// The member set and rules in force.
#[derive(Debug, Clone)]
struct State {
    members: Electorate,
    rules: Rules,
}

impl State {
    /// The state a decision leaves: what its effect changes in the member set or the rules
    /// when it was executed, as `super::effect` changes the registry and the rules.
    fn after(&self, action: &Action, executed: bool) -> Result<State, GovernanceError> {
        let mut next = self.clone();
        if !executed {
            return Ok(next);
        }
        let mut members: Vec<(String, PublicKey, MemberStatus)> = self
            .members
            .members()
            .map(|(id, e)| (id.clone(), e.key, e.status))
            .collect();
        let find = |members: &mut Vec<(String, PublicKey, MemberStatus)>, id: &str| {
            members.iter_mut().position(|m| m.0 == id)
        };
        match action {
            Action::ChangeRules { rules } => {
                next.rules = rules.clone();
                return Ok(next);
            }
            Action::AdmitMember {
                member, public_key, ..
            } => members.push((member.clone(), *public_key, MemberStatus::Active)),
            Action::SuspendMember { member } | Action::ExpelMember { member } => {
                if let Some(i) = find(&mut members, member) {
                    members[i].2 = MemberStatus::Suspended;
                }
            }
            Action::ReinstateMember { member } => {
                if let Some(i) = find(&mut members, member) {
                    members[i].2 = MemberStatus::Active;
                }
            }
            Action::RevokeMemberKey {
                member, new_key, ..
            } => {
                if let Some(i) = find(&mut members, member) {
                    members[i].1 = *new_key;
                }
            }
            Action::AdoptNorm { .. }
            | Action::AmendNorm { .. }
            | Action::RepealNorm { .. }
            | Action::JointStatement { .. } => return Ok(next),
        }
        next.members = Electorate::new(members).map_err(|e| corrupt("member set", e))?;
        Ok(next)
    }
}

/// The states in force over the history: each from the deadline of the decision that
/// left it.
struct Replay {
    states: Vec<(i64, State)>,
    last: (i64, String),
}

impl Replay {
    /// The state in force for a proposal tabled at `tabled_at`: the decisions counted by
    /// then, [`COUNT_AFTER_US`] after their deadlines, as the proposer's node counts them.
    fn at(&self, tabled_at: i64) -> &State {
        let visible = tabled_at - COUNT_AFTER_US;
        &self
            .states
            .iter()
            .rev()
            .find(|(from, _)| *from <= visible)
            .unwrap_or(&self.states[0])
            .1
    }

    fn latest(&self) -> &State {
        &self.states[self.states.len() - 1].1
    }
}

/// A catch-up under way on this node.
struct Run<'a> {
    store: &'a dyn Store,
    local: String,
    /// The proposals decided here not yet met in the history, in decided order.
    held: VecDeque<ProposalRecord>,
    replay: Option<Replay>,
    now: i64,
}

impl Run<'_> {
    /// Verifies `item` and applies it, or finds it held: what was applied (`None` when
    /// held), or why it does not verify.
    async fn take(
        &mut self,
        item: &Item,
    ) -> Result<Result<Option<Applied>, String>, GovernanceError> {
        let signed = match SignedProposal::parse(&item.proposal) {
            Ok(s) => s,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let p = &signed.tabled.proposal;
        let key = (p.deadline(), p.id.clone());
        if let Some(last) = self.replay.as_ref().map(|r| &r.last) {
            if key <= *last {
                return Ok(Err(format!(
                    "the history is out of order: proposal {} (deadline {}) comes after {} \
                     (deadline {})",
                    p.id,
                    format_us(key.0),
                    last.1,
                    format_us(last.0)
                )));
            }
        }
        if key.0 + COUNT_AFTER_US > self.now {
            return Ok(Err(format!(
                "proposal {} is not decided yet: its deadline is {}",
                p.id,
                format_us(key.0)
            )));
        }
        let here = match self.held.front() {
            Some(h) if (h.deadline, h.id.as_str()) < (key.0, key.1.as_str()) => {
                return Ok(Err(format!(
                    "the history omits proposal {} (deadline {}), decided here",
                    h.id,
                    format_us(h.deadline)
                )))
            }
            Some(h) if h.id == p.id => self.held.pop_front(),
            _ => None,
        };
        let carried = match signed.tabled.electorate() {
            Ok(e) => e,
            Err(e) => return Ok(Err(e.to_string())),
        };
        if self.replay.is_none() {
            self.replay = Some(self.start(&carried, here.is_some()).await?);
        }
        let replay = self.replay.as_ref().expect("started");
        let state = replay.at(p.tabled_at);
        if let Err(why) = check_tabling(&signed, &carried, state) {
            return Ok(Err(why));
        }
        let counted = match recount(p, &carried, item) {
            Ok(c) => c,
            Err(why) => return Ok(Err(why)),
        };
        let (applied, executed) = match here {
            Some(held) => match self.compare_held(&signed, &held, item).await? {
                Ok(()) => (None, item.executed),
                Err(why) => return Ok(Err(why)),
            },
            None => match self.apply(&signed, item, counted).await? {
                Ok(applied) => {
                    let executed = applied.executed;
                    (Some(applied), executed)
                }
                Err(why) => return Ok(Err(why)),
            },
        };
        let replay = self.replay.as_mut().expect("started");
        let next = replay.latest().after(&p.action, executed)?;
        replay.states.push((key.0, next));
        replay.last = key;
        if applied.is_some() {
            if let Err(why) = self.check_store(&p.id).await? {
                return Ok(Err(why));
            }
        }
        Ok(Ok(applied))
    }

    /// The state the genesis left, before the first item: the rules this node started
    /// with, and its member set (without its own member unless the first item's set names
    /// it). When that item is held here already, its member set, verified when taken.
    async fn start(&self, first: &Electorate, held: bool) -> Result<Replay, GovernanceError> {
        let rules = match self.store.rules_versions().await?.into_iter().next() {
            Some(r) => serde_json::from_str(&r.json).map_err(|e| corrupt("rules", e))?,
            None => Rules::default(),
        };
        let members = if held {
            first.clone()
        } else {
            without(&electorate_now(self.store).await?, &self.local, first)?
        };
        Ok(Replay {
            states: vec![(i64::MIN, State { members, rules })],
            last: (i64::MIN, String::new()),
        })
    }

    /// Compares a verified item with what this node holds of it.
    async fn compare_held(
        &self,
        signed: &SignedProposal,
        held: &ProposalRecord,
        item: &Item,
    ) -> Result<Result<(), String>, GovernanceError> {
        let id = &held.id;
        if held.sha256 != signed.sha256 {
            return Ok(Err(format!(
                "this node holds another text of proposal {id} (sha256 {})",
                held.sha256
            )));
        }
        let Some(outcome) = self.store.outcome(id).await? else {
            return Err(corrupt(&format!("outcome of {id}"), "missing"));
        };
        if outcome.digest != item.outcome.digest || outcome.executed_at.is_some() != item.executed {
            return Ok(Err(format!(
                "this node counted proposal {id} as {} (digest {}, {}), the history says {} \
                 ({})",
                outcome.decision,
                outcome.digest,
                executed_text(outcome.executed_at.is_some()),
                Summary::from(&item.outcome),
                executed_text(item.executed)
            )));
        }
        Ok(Ok(()))
    }

    /// Applies a verified item that is new here: its effect derived here, as executing it
    /// derives it, must be the one the history claims.
    async fn apply(
        &self,
        signed: &SignedProposal,
        item: &Item,
        counted: Recounted,
    ) -> Result<Result<Applied, String>, GovernanceError> {
        let store = self.store;
        let p = &signed.tabled.proposal;
        if let Some(held) = store.proposal(&p.id).await? {
            if held.sha256 != signed.sha256 {
                return Ok(Err(format!(
                    "this node holds another text of proposal {} (sha256 {})",
                    p.id, held.sha256
                )));
            }
            if store.cancellation(&p.id).await?.is_some() {
                return Ok(Err(format!("proposal {} is canceled here", p.id)));
            }
        }
        if let Some(later) = self.held.front() {
            return Ok(Err(format!(
                "this node holds proposal {}, decided after proposal {}, but not {}: it \
                 cannot apply it in order",
                later.id, p.id, p.id
            )));
        }
        let outcome = &item.outcome;
        let (effect, executed) = if outcome.decision == Decision::Succeeded {
            match self.effect(p, outcome).await? {
                Ok(effect) => (effect, true),
                Err(why) if item.executed => {
                    return Ok(Err(format!(
                        "the history says proposal {} was executed, but its effect cannot \
                         apply here: {why}",
                        p.id
                    )))
                }
                Err(_) => (None, false),
            }
        } else {
            (None, false)
        };
        if executed != item.executed {
            return Ok(Err(format!(
                "the history says proposal {} was {}, but it is {} here",
                p.id,
                executed_text(item.executed),
                executed_text(executed)
            )));
        }
        let mut log_entries = vec![tabled_entry(&self.local, signed)?];
        let mut ballots = Vec::new();
        for (text, admitted, refusal) in &counted.ballots {
            let (record, entry) =
                ballot_record(&self.local, admitted, text, refusal.as_ref(), self.now)?;
            ballots.push(record);
            log_entries.push(entry);
        }
        let (outcome_record, entries) =
            outcome_record(&self.local, p, outcome, self.now, executed)?;
        log_entries.extend(entries);
        let decided = Decided {
            proposal: proposal_record(signed),
            ballots,
            outcome: outcome_record,
        };
        let act = GovernanceAct {
            log_entries,
            sends: Vec::new(),
        };
        match store.record_decided(&decided, effect.as_ref(), &act).await {
            Ok(_) => {}
            Err(StoreError::Conflict(why)) => {
                return Ok(Err(format!(
                    "proposal {} cannot be stored here: {why}",
                    p.id
                )))
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(proposal = %p.id, decision = ?outcome.decision, executed, "decided proposal taken from the history");
        Ok(Ok(Applied {
            proposal: p.id.clone(),
            kind: p.kind().as_str().to_owned(),
            decision: outcome.decision,
            executed,
        }))
    }

    /// The effect of a succeeded `p` here. The admission of this node's own member changes
    /// nothing stored (its record is its own), once it names the key this node runs with.
    async fn effect(
        &self,
        p: &Proposal,
        outcome: &super::tally::Outcome,
    ) -> Result<Result<Option<comity_store::Effect>, String>, GovernanceError> {
        if let Action::AdmitMember {
            member, public_key, ..
        } = &p.action
        {
            if *member == self.local {
                let own = pinned_key(self.store, member).await?;
                return Ok(if own == Some(*public_key) {
                    Ok(None)
                } else {
                    Err(format!(
                        "it admits this node's member {member} with the key {public_key}, not \
                         the key this node runs with"
                    ))
                });
            }
        }
        super::effect::effect_of(self.store, p, outcome).await
    }

    /// Checks that the member set and rules stored here are those the history left after
    /// proposal `id`.
    async fn check_store(&self, id: &str) -> Result<Result<(), String>, GovernanceError> {
        let state = self.replay.as_ref().expect("started").latest();
        let members = without(
            &electorate_now(self.store).await?,
            &self.local,
            &state.members,
        )?;
        if members.digest() != state.members.digest() {
            return Ok(Err(format!(
                "after proposal {id} the member set here differs from the one the history \
                 leaves: {}",
                difference(&members, &state.members)
            )));
        }
        if rules_in_force(self.store).await?.digest() != state.rules.digest() {
            return Ok(Err(format!(
                "after proposal {id} the rules here differ from those the history leaves"
            )));
        }
        Ok(Ok(()))
    }
}

fn executed_text(executed: bool) -> &'static str {
    if executed {
        "executed"
    } else {
        "not executed"
    }
}

/// `set` without member `local`, unless `reference` names it.
fn without(
    set: &Electorate,
    local: &str,
    reference: &Electorate,
) -> Result<Electorate, GovernanceError> {
    if reference.get(local).is_some() {
        return Ok(set.clone());
    }
    Electorate::new(
        set.members()
            .filter(|(id, _)| *id != local)
            .map(|(id, e)| (id.clone(), e.key, e.status)),
    )
    .map_err(|e| corrupt("member set", e))
}

/// How two member sets differ, in words (the first few members).
fn difference(here: &Electorate, there: &Electorate) -> String {
    let show = |e: Option<&super::electorate::Elector>| match e {
        Some(e) => format!("{} ({})", e.key, e.status.as_str()),
        None => "absent".to_owned(),
    };
    let mut ids: Vec<&String> = here
        .members()
        .chain(there.members())
        .map(|(id, _)| id)
        .collect();
    ids.sort();
    ids.dedup();
    let differ: Vec<String> = ids
        .into_iter()
        .filter(|id| here.get(id) != there.get(id))
        .take(5)
        .map(|id| {
            format!(
                "{id}: {} here, {} in the history",
                show(here.get(id)),
                show(there.get(id))
            )
        })
        .collect();
    differ.join("; ")
}

/// Checks that `signed` was tabled as its proposer's node tabled it under `state`: signed
/// with the proposer's key pinned then, against that member set and those rules, passing
/// the tabling checks.
fn check_tabling(
    signed: &SignedProposal,
    carried: &Electorate,
    state: &State,
) -> Result<(), String> {
    let p = &signed.tabled.proposal;
    let Some(proposer) = state.members.get(&p.proposer) else {
        return Err(format!(
            "its proposer {} is not a member when it was tabled",
            p.proposer.escape_debug()
        ));
    };
    signed.verify(&proposer.key).map_err(|e| {
        format!(
            "the proposal's signature does not verify with the key of {} pinned then: {e}",
            p.proposer
        )
    })?;
    if carried.digest() != state.members.digest() {
        return Err(format!(
            "it was tabled against a member set (sha256 {}) other than the one in force then \
             (sha256 {}): {}",
            carried.digest(),
            state.members.digest(),
            difference(&state.members, carried)
        ));
    }
    if p.rules.digest() != state.rules.digest() {
        return Err(format!(
            "it was tabled under rules (sha256 {}) other than those in force then (sha256 {})",
            p.rules.digest(),
            state.rules.digest()
        ));
    }
    let again = Motion {
        id: p.id.clone(),
        action: p.action.clone(),
        proposer: p.proposer.clone(),
        sponsors: p.sponsors.clone(),
    }
    .table(p.tabled_at, &state.rules, &state.members)
    .map_err(|e| format!("it could not be tabled then: {e}"))?;
    if again != *p {
        return Err("it is not as tabling makes it".into());
    }
    Ok(())
}

/// An item's ballots, each admitted (and refused as a double vote when it is one), and
/// the outcome they give.
struct Recounted {
    ballots: Vec<(
        String,
        super::tally::Admitted,
        Option<super::tally::Refusal>,
    )>,
}

/// Admits every ballot of `item` as its node did on arrival and recounts: refused when a
/// ballot does not verify or is handed over twice, or when the claimed outcome is not
/// the count.
fn recount(p: &Proposal, carried: &Electorate, item: &Item) -> Result<Recounted, String> {
    let mut ballots = Vec::new();
    let mut earlier: Vec<(String, Ballot)> = Vec::new();
    for text in &item.ballots {
        let admitted = admit(p, carried, text).map_err(|r| {
            format!(
                "ballot {}{} is refused: {}",
                r.sha256,
                r.member
                    .as_deref()
                    .map(|m| format!(" of {m}"))
                    .unwrap_or_default(),
                r.reason
            )
        })?;
        if earlier.iter().any(|(sha, _)| sha == admitted.sha256()) {
            return Err(format!("ballot {} is handed over twice", admitted.sha256()));
        }
        let refusal = equivocation(admitted.ballot(), &earlier);
        earlier.push((admitted.sha256().to_owned(), admitted.ballot().clone()));
        ballots.push((text.clone(), admitted, refusal));
    }
    let derived = count(
        p,
        carried,
        ballots.iter().map(|(_, a, _)| a.clone()).collect(),
        Vec::new(),
    );
    if derived != item.outcome {
        return Err(format!(
            "the outcome handed over, {}{}, is not what its ballots give: {}",
            Summary::from(&item.outcome),
            if item.outcome.digest_holds() {
                ""
            } else {
                " (which does not hash to its digest)"
            },
            Summary::from(&derived)
        ));
    }
    Ok(Recounted { ballots })
}
