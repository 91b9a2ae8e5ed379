//! Governance: proposals, the ballots received on them, outcomes, the rules and the norms
//! registry. Each act is written in one `IMMEDIATE` transaction with its log entries and
//! envelopes (and, for an outcome, its effect); the store never interprets what it keeps.

use comity_store::federation_storage::{count_from_sql, limit_to_sql, seq_to_sql};
use comity_store::{
    BallotRecord, CancellationRecord, Decided, Effect, GovernanceAct, NormVersion, OutcomeRecord,
    ProposalRecord, RulesVersion, StoreError, StoreResult, GOVERNANCE_SCOPE,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::{conflict_or_db, db, federation, identity, in_transaction, log};

const PROPOSAL_COLUMNS: &str = "id, kind, proposer, tabled_at, deadline, sha256, json";
const BALLOT_COLUMNS: &str = "proposal, sha256, member, received_at, refusal, json";
const OUTCOME_COLUMNS: &str = "proposal, decision, digest, counted_at, executed_at, json";
const CANCELLATION_COLUMNS: &str = "proposal, member, at, sha256, json";
const NORM_COLUMNS: &str = "norm, version, texts, repealed, proposal, at";
const RULES_COLUMNS: &str = "version, json, proposal, at";

fn proposal_row(r: &Row<'_>) -> rusqlite::Result<ProposalRecord> {
    Ok(ProposalRecord {
        id: r.get(0)?,
        kind: r.get(1)?,
        proposer: r.get(2)?,
        tabled_at: r.get(3)?,
        deadline: r.get(4)?,
        sha256: r.get(5)?,
        json: r.get(6)?,
    })
}

fn ballot_row(r: &Row<'_>) -> rusqlite::Result<BallotRecord> {
    Ok(BallotRecord {
        proposal: r.get(0)?,
        sha256: r.get(1)?,
        member: r.get(2)?,
        received_at: r.get(3)?,
        refusal: r.get(4)?,
        json: r.get(5)?,
    })
}

fn outcome_row(r: &Row<'_>) -> rusqlite::Result<OutcomeRecord> {
    Ok(OutcomeRecord {
        proposal: r.get(0)?,
        decision: r.get(1)?,
        digest: r.get(2)?,
        counted_at: r.get(3)?,
        executed_at: r.get(4)?,
        json: r.get(5)?,
    })
}

fn cancellation_row(r: &Row<'_>) -> rusqlite::Result<CancellationRecord> {
    Ok(CancellationRecord {
        proposal: r.get(0)?,
        member: r.get(1)?,
        at: r.get(2)?,
        sha256: r.get(3)?,
        json: r.get(4)?,
    })
}

fn norm_row(r: &Row<'_>) -> rusqlite::Result<(NormVersion, i64)> {
    Ok((
        NormVersion {
            norm: r.get(0)?,
            version: 0,
            texts: r.get(2)?,
            repealed: r.get(3)?,
            proposal: r.get(4)?,
            at: r.get(5)?,
        },
        r.get(1)?,
    ))
}

fn rules_row(r: &Row<'_>) -> rusqlite::Result<(RulesVersion, i64)> {
    Ok((
        RulesVersion {
            version: 0,
            json: r.get(1)?,
            proposal: r.get(2)?,
            at: r.get(3)?,
        },
        r.get(0)?,
    ))
}

/// Writes the act's log entries and envelopes inside the caller's transaction.
fn write_act(tx: &Connection, act: &GovernanceAct) -> StoreResult<()> {
    log::append_openable_in(tx, GOVERNANCE_SCOPE, &act.log_entries)?;
    for (peer, item) in &act.sends {
        federation::push_in(tx, peer, std::slice::from_ref(item))?;
    }
    Ok(())
}

/// Stores a tabled proposal with its act; `false` when the same one is stored.
pub fn table(c: &mut Connection, p: &ProposalRecord, act: &GovernanceAct) -> StoreResult<bool> {
    in_transaction(c, |tx| {
        let fresh = insert_proposal(tx, p)?;
        if fresh {
            write_act(tx, act)?;
        }
        Ok(fresh)
    })
}

/// Inserts a tabled proposal in the caller's transaction; `false` when the same one is
/// stored, a conflict when another one is.
fn insert_proposal(tx: &Connection, p: &ProposalRecord) -> StoreResult<bool> {
    let stored: Option<String> = tx
        .prepare_cached("SELECT sha256 FROM gov_proposals WHERE id = ?1")
        .map_err(db)?
        .query_row(params![p.id], |r| r.get(0))
        .optional()
        .map_err(db)?;
    match stored {
        Some(sha256) if sha256 == p.sha256 => return Ok(false),
        Some(_) => return Err(StoreError::Conflict(format!("another proposal {:?}", p.id))),
        None => {}
    }
    tx.prepare_cached(&format!(
        "INSERT INTO gov_proposals ({PROPOSAL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))
    .map_err(db)?
    .execute(params![
        p.id,
        p.kind,
        p.proposer,
        p.tabled_at,
        p.deadline,
        p.sha256,
        p.json
    ])
    .map_err(db)?;
    Ok(true)
}

/// `NotFound` unless proposal `id` is stored.
fn check_proposal(tx: &Connection, id: &str) -> StoreResult<()> {
    tx.prepare_cached("SELECT 1 FROM gov_proposals WHERE id = ?1")
        .map_err(db)?
        .query_row(params![id], |_| Ok(()))
        .optional()
        .map_err(db)?
        .ok_or_else(|| StoreError::NotFound(format!("proposal {id:?}")))
}

fn has_outcome(tx: &Connection, proposal: &str) -> StoreResult<bool> {
    tx.prepare_cached("SELECT 1 FROM gov_outcomes WHERE proposal = ?1")
        .map_err(db)?
        .query_row(params![proposal], |_| Ok(()))
        .optional()
        .map_err(db)
        .map(|o| o.is_some())
}

/// Stores a ballot with its act; `false` when the same text is stored for the proposal.
pub fn add_ballot(c: &mut Connection, b: &BallotRecord, act: &GovernanceAct) -> StoreResult<bool> {
    in_transaction(c, |tx| {
        let fresh = insert_ballot(tx, b)?;
        if fresh {
            write_act(tx, act)?;
        }
        Ok(fresh)
    })
}

/// Inserts a ballot in the caller's transaction; `false` when the same text is stored for
/// the proposal, a conflict once the proposal is counted or canceled.
fn insert_ballot(tx: &Connection, b: &BallotRecord) -> StoreResult<bool> {
    check_proposal(tx, &b.proposal)?;
    let stored = tx
        .prepare_cached("SELECT 1 FROM gov_ballots WHERE proposal = ?1 AND sha256 = ?2")
        .map_err(db)?
        .query_row(params![b.proposal, b.sha256], |_| Ok(()))
        .optional()
        .map_err(db)?;
    if stored.is_some() {
        return Ok(false);
    }
    if has_outcome(tx, &b.proposal)? {
        return Err(StoreError::Conflict(format!(
            "a ballot on proposal {:?}, counted already",
            b.proposal
        )));
    }
    if stored_cancellation(tx, &b.proposal)?.is_some() {
        return Err(StoreError::Conflict(format!(
            "a ballot on proposal {:?}, canceled",
            b.proposal
        )));
    }
    tx.prepare_cached(&format!(
        "INSERT INTO gov_ballots ({BALLOT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    ))
    .map_err(db)?
    .execute(params![
        b.proposal,
        b.sha256,
        b.member,
        b.received_at,
        b.refusal,
        b.json
    ])
    .map_err(db)?;
    Ok(true)
}

/// The SHA-256 of the stored cancellation of `proposal`, if any.
fn stored_cancellation(tx: &Connection, proposal: &str) -> StoreResult<Option<String>> {
    tx.prepare_cached("SELECT sha256 FROM gov_cancellations WHERE proposal = ?1")
        .map_err(db)?
        .query_row(params![proposal], |r| r.get(0))
        .optional()
        .map_err(db)
}

/// Stores a proposal's cancellation with its act; `false` when the same one is stored.
pub fn cancel(
    c: &mut Connection,
    k: &CancellationRecord,
    act: &GovernanceAct,
) -> StoreResult<bool> {
    in_transaction(c, |tx| {
        check_proposal(tx, &k.proposal)?;
        match stored_cancellation(tx, &k.proposal)? {
            Some(sha256) if sha256 == k.sha256 => return Ok(false),
            Some(_) => {
                return Err(StoreError::Conflict(format!(
                    "another cancellation of proposal {:?}",
                    k.proposal
                )))
            }
            None => {}
        }
        if has_outcome(tx, &k.proposal)? {
            return Err(StoreError::Conflict(format!(
                "the cancellation of proposal {:?}, counted already",
                k.proposal
            )));
        }
        tx.prepare_cached(&format!(
            "INSERT INTO gov_cancellations ({CANCELLATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
        ))
        .map_err(db)?
        .execute(params![k.proposal, k.member, k.at, k.sha256, k.json])
        .map_err(db)?;
        write_act(tx, act)?;
        Ok(true)
    })
}

/// The stored last version of norm `norm` (0 when none).
fn last_norm_version(tx: &Connection, norm: &str) -> StoreResult<i64> {
    tx.prepare_cached("SELECT coalesce(max(version), 0) FROM gov_norms WHERE norm = ?1")
        .map_err(db)?
        .query_row(params![norm], |r| r.get(0))
        .map_err(db)
}

/// The stored last version of the rules (0 when none).
fn last_rules_version(tx: &Connection) -> StoreResult<i64> {
    tx.prepare_cached("SELECT coalesce(max(version), 0) FROM gov_rules")
        .map_err(db)?
        .query_row([], |r| r.get(0))
        .map_err(db)
}

fn insert_rules(tx: &Connection, r: &RulesVersion) -> StoreResult<()> {
    let version = seq_to_sql(r.version)?;
    let last = last_rules_version(tx)?;
    if version != last + 1 {
        return Err(StoreError::Conflict(format!(
            "rules version {version}, after version {last}"
        )));
    }
    tx.prepare_cached(&format!(
        "INSERT INTO gov_rules ({RULES_COLUMNS}) VALUES (?1, ?2, ?3, ?4)"
    ))
    .map_err(db)?
    .execute(params![version, r.json, r.proposal, r.at])
    .map_err(db)?;
    Ok(())
}

fn apply(tx: &Connection, effect: &Effect) -> StoreResult<()> {
    match effect {
        Effect::Norm(n) => {
            let version = seq_to_sql(n.version)?;
            let last = last_norm_version(tx, &n.norm)?;
            if version != last + 1 {
                return Err(StoreError::Conflict(format!(
                    "version {version} of norm {:?}, after version {last}",
                    n.norm
                )));
            }
            tx.prepare_cached(&format!(
                "INSERT INTO gov_norms ({NORM_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ))
            .map_err(db)?
            .execute(params![
                n.norm, version, n.texts, n.repealed, n.proposal, n.at
            ])
            .map_err(|e| conflict_or_db(e, || format!("norm {:?}", n.norm)))?;
        }
        Effect::Rules(r) => insert_rules(tx, r)?,
        Effect::Member { entry, expected } => match expected {
            None => identity::add_registry_entry(tx, entry)?,
            Some(expected) => {
                if !identity::replace_registry_entry(tx, entry, expected)? {
                    return Err(StoreError::Conflict(format!(
                        "member {:?} changed since the proposal was counted",
                        entry.id
                    )));
                }
            }
        },
    }
    Ok(())
}

/// Stores an outcome, applies its effect and writes its act, all or nothing; `false`
/// when the proposal has an outcome already.
pub fn record_outcome(
    c: &mut Connection,
    o: &OutcomeRecord,
    effect: Option<&Effect>,
    act: &GovernanceAct,
) -> StoreResult<bool> {
    in_transaction(c, |tx| {
        if has_outcome(tx, &o.proposal)? {
            return Ok(false);
        }
        insert_outcome(tx, o, effect)?;
        write_act(tx, act)?;
        Ok(true)
    })
}

/// Inserts the outcome of a stored proposal without one, and applies its effect, in the
/// caller's transaction.
fn insert_outcome(tx: &Connection, o: &OutcomeRecord, effect: Option<&Effect>) -> StoreResult<()> {
    check_proposal(tx, &o.proposal)?;
    tx.prepare_cached(&format!(
        "INSERT INTO gov_outcomes ({OUTCOME_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    ))
    .map_err(db)?
    .execute(params![
        o.proposal,
        o.decision,
        o.digest,
        o.counted_at,
        o.executed_at,
        o.json
    ])
    .map_err(db)?;
    if let Some(effect) = effect {
        apply(tx, effect)?;
    }
    Ok(())
}

/// Stores a proposal decided elsewhere with its ballots, outcome, effect and act, all or
/// nothing; `false` when it has an outcome already.
pub fn record_decided(
    c: &mut Connection,
    d: &Decided,
    effect: Option<&Effect>,
    act: &GovernanceAct,
) -> StoreResult<bool> {
    d.check()?;
    in_transaction(c, |tx| {
        if has_outcome(tx, &d.proposal.id)? {
            return Ok(false);
        }
        if stored_cancellation(tx, &d.proposal.id)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "the outcome of proposal {:?}, canceled",
                d.proposal.id
            )));
        }
        insert_proposal(tx, &d.proposal)?;
        for b in &d.ballots {
            insert_ballot(tx, b)?;
        }
        insert_outcome(tx, &d.outcome, effect)?;
        write_act(tx, act)?;
        Ok(true)
    })
}

/// Applies the founding effects, the rules first; `Conflict` once there are rules or
/// proposals.
pub fn found(c: &mut Connection, founding: &[Effect], act: &GovernanceAct) -> StoreResult<()> {
    in_transaction(c, |tx| {
        let proposals: i64 = tx
            .prepare_cached("SELECT count(*) FROM gov_proposals")
            .map_err(db)?
            .query_row([], |r| r.get(0))
            .map_err(db)?;
        let starts_with_rules =
            matches!(founding.first(), Some(Effect::Rules(r)) if r.version == 1);
        if proposals > 0 || last_rules_version(tx)? > 0 || !starts_with_rules {
            return Err(StoreError::Conflict(
                "what a node starts its governance with, once it has rules or proposals, or \
                 without rules first"
                    .into(),
            ));
        }
        for effect in founding {
            apply(tx, effect)?;
        }
        write_act(tx, act)
    })
}

fn collect<T>(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = c.prepare_cached(sql).map_err(db)?;
    let rows = stmt.query_map(params, row).map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

/// Proposal `id`.
pub fn proposal(c: &Connection, id: &str) -> StoreResult<Option<ProposalRecord>> {
    Ok(collect(
        c,
        &format!("SELECT {PROPOSAL_COLUMNS} FROM gov_proposals WHERE id = ?1"),
        params![id],
        proposal_row,
    )?
    .pop())
}

/// The newest proposals first.
pub fn proposals(c: &Connection, limit: usize) -> StoreResult<Vec<ProposalRecord>> {
    collect(
        c,
        &format!(
            "SELECT {PROPOSAL_COLUMNS} FROM gov_proposals
             ORDER BY tabled_at DESC, id DESC LIMIT ?1"
        ),
        params![limit_to_sql(limit)],
        proposal_row,
    )
}

/// The proposals past their deadline with no outcome.
pub fn proposals_due(c: &Connection, at: i64) -> StoreResult<Vec<ProposalRecord>> {
    collect(
        c,
        &format!(
            "SELECT {PROPOSAL_COLUMNS} FROM gov_proposals p
             WHERE deadline <= ?1
               AND NOT EXISTS (SELECT 1 FROM gov_outcomes o WHERE o.proposal = p.id)
               AND NOT EXISTS (SELECT 1 FROM gov_cancellations k WHERE k.proposal = p.id)
             ORDER BY deadline, id"
        ),
        params![at],
        proposal_row,
    )
}

/// The proposals with an outcome after `after` (deadline, id), by deadline then id.
pub fn decided(
    c: &Connection,
    after: Option<(i64, String)>,
    limit: usize,
) -> StoreResult<Vec<ProposalRecord>> {
    let (deadline, id) = after.unwrap_or((i64::MIN, String::new()));
    collect(
        c,
        &format!(
            "SELECT {PROPOSAL_COLUMNS} FROM gov_proposals p
             WHERE EXISTS (SELECT 1 FROM gov_outcomes o WHERE o.proposal = p.id)
               AND (deadline > ?1 OR (deadline = ?1 AND id > ?2))
             ORDER BY deadline, id LIMIT ?3"
        ),
        params![deadline, id, limit_to_sql(limit)],
        proposal_row,
    )
}

/// The ballots on proposal `id`, in the order received.
pub fn ballots(c: &Connection, id: &str) -> StoreResult<Vec<BallotRecord>> {
    collect(
        c,
        &format!("SELECT {BALLOT_COLUMNS} FROM gov_ballots WHERE proposal = ?1 ORDER BY rowid"),
        params![id],
        ballot_row,
    )
}

/// The outcome of proposal `id`.
pub fn outcome(c: &Connection, id: &str) -> StoreResult<Option<OutcomeRecord>> {
    Ok(collect(
        c,
        &format!("SELECT {OUTCOME_COLUMNS} FROM gov_outcomes WHERE proposal = ?1"),
        params![id],
        outcome_row,
    )?
    .pop())
}

/// The cancellation of proposal `id`.
pub fn cancellation(c: &Connection, id: &str) -> StoreResult<Option<CancellationRecord>> {
    Ok(collect(
        c,
        &format!("SELECT {CANCELLATION_COLUMNS} FROM gov_cancellations WHERE proposal = ?1"),
        params![id],
        cancellation_row,
    )?
    .pop())
}

/// The latest rules.
pub fn rules_in_force(c: &Connection) -> StoreResult<Option<RulesVersion>> {
    rules(c, "ORDER BY version DESC LIMIT 1").map(|mut all| all.pop())
}

/// Every version of the rules, oldest first.
pub fn rules_versions(c: &Connection) -> StoreResult<Vec<RulesVersion>> {
    rules(c, "ORDER BY version")
}

fn rules(c: &Connection, order: &str) -> StoreResult<Vec<RulesVersion>> {
    collect(
        c,
        &format!("SELECT {RULES_COLUMNS} FROM gov_rules {order}"),
        [],
        rules_row,
    )?
    .into_iter()
    .map(|(r, version)| {
        Ok(RulesVersion {
            version: count_from_sql(version)?,
            ..r
        })
    })
    .collect()
}

/// Every version of every norm.
pub fn norms(c: &Connection) -> StoreResult<Vec<NormVersion>> {
    collect(
        c,
        &format!("SELECT {NORM_COLUMNS} FROM gov_norms ORDER BY norm, version"),
        [],
        norm_row,
    )?
    .into_iter()
    .map(|(n, version)| {
        Ok(NormVersion {
            version: count_from_sql(version)?,
            ..n
        })
    })
    .collect()
}
