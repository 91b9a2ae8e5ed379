//! Governance: proposals, the ballots received on them, outcomes, the rules and the norms
//! registry. Each act is written in one transaction with its log entries and envelopes
//! (and, for an outcome, its effect); the transaction takes the store clock first (as
//! every log append does), so acts are serialised across processes and each check reads
//! what the previous act committed. The store never interprets what it keeps.

use comity_store::federation_storage::{count_from_sql, limit_to_sql, seq_to_sql};
use comity_store::{
    BallotRecord, CancellationRecord, Decided, Effect, GovernanceAct, GovernanceRecords,
    NormVersion, OutcomeRecord, ProposalRecord, RulesVersion, StoreError, StoreResult,
    GOVERNANCE_SCOPE,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use crate::error::{conflict_or_db, db};
use crate::{federation, identity, log, objects};

const PROPOSAL_COLUMNS: &str = "id, kind, proposer, tabled_at, deadline, sha256, json";
const BALLOT_COLUMNS: &str = "proposal, sha256, member, received_at, refusal, json";
const OUTCOME_COLUMNS: &str = "proposal, decision, digest, counted_at, executed_at, json";
const CANCELLATION_COLUMNS: &str = "proposal, member, at, sha256, json";
const NORM_COLUMNS: &str = "norm, version, texts, repealed, proposal, at";
const RULES_COLUMNS: &str = "version, json, proposal, at";

fn proposal_row(r: &PgRow) -> StoreResult<ProposalRecord> {
    Ok(ProposalRecord {
        id: r.try_get(0).map_err(db)?,
        kind: r.try_get(1).map_err(db)?,
        proposer: r.try_get(2).map_err(db)?,
        tabled_at: r.try_get(3).map_err(db)?,
        deadline: r.try_get(4).map_err(db)?,
        sha256: r.try_get(5).map_err(db)?,
        json: r.try_get(6).map_err(db)?,
    })
}

fn ballot_row(r: &PgRow) -> StoreResult<BallotRecord> {
    Ok(BallotRecord {
        proposal: r.try_get(0).map_err(db)?,
        sha256: r.try_get(1).map_err(db)?,
        member: r.try_get(2).map_err(db)?,
        received_at: r.try_get(3).map_err(db)?,
        refusal: r.try_get(4).map_err(db)?,
        json: r.try_get(5).map_err(db)?,
    })
}

fn outcome_row(r: &PgRow) -> StoreResult<OutcomeRecord> {
    Ok(OutcomeRecord {
        proposal: r.try_get(0).map_err(db)?,
        decision: r.try_get(1).map_err(db)?,
        digest: r.try_get(2).map_err(db)?,
        counted_at: r.try_get(3).map_err(db)?,
        executed_at: r.try_get(4).map_err(db)?,
        json: r.try_get(5).map_err(db)?,
    })
}

fn cancellation_row(r: &PgRow) -> StoreResult<CancellationRecord> {
    Ok(CancellationRecord {
        proposal: r.try_get(0).map_err(db)?,
        member: r.try_get(1).map_err(db)?,
        at: r.try_get(2).map_err(db)?,
        sha256: r.try_get(3).map_err(db)?,
        json: r.try_get(4).map_err(db)?,
    })
}

fn norm_row(r: &PgRow) -> StoreResult<NormVersion> {
    Ok(NormVersion {
        norm: r.try_get(0).map_err(db)?,
        version: count_from_sql(r.try_get(1).map_err(db)?)?,
        texts: r.try_get(2).map_err(db)?,
        repealed: r.try_get(3).map_err(db)?,
        proposal: r.try_get(4).map_err(db)?,
        at: r.try_get(5).map_err(db)?,
    })
}

fn rules_row(r: &PgRow) -> StoreResult<RulesVersion> {
    Ok(RulesVersion {
        version: count_from_sql(r.try_get(0).map_err(db)?)?,
        json: r.try_get(1).map_err(db)?,
        proposal: r.try_get(2).map_err(db)?,
        at: r.try_get(3).map_err(db)?,
    })
}

/// Writes the act's log entries and envelopes inside the caller's transaction.
async fn write_act(tx: &mut PgConnection, act: &GovernanceAct) -> StoreResult<()> {
    log::append_openable_in(tx, GOVERNANCE_SCOPE, &act.log_entries).await?;
    for (peer, item) in &act.sends {
        federation::push_in(tx, peer, std::slice::from_ref(item)).await?;
    }
    Ok(())
}

/// `NotFound` unless proposal `id` is stored.
async fn check_proposal(tx: &mut PgConnection, id: &str) -> StoreResult<()> {
    sqlx::query("SELECT 1 FROM gov_proposals WHERE id = $1")
        .bind(id)
        .fetch_optional(tx)
        .await
        .map_err(db)?
        .map(|_| ())
        .ok_or_else(|| StoreError::NotFound(format!("proposal {id:?}")))
}

async fn has_outcome(tx: &mut PgConnection, proposal: &str) -> StoreResult<bool> {
    Ok(
        sqlx::query("SELECT 1 FROM gov_outcomes WHERE proposal = $1")
            .bind(proposal)
            .fetch_optional(tx)
            .await
            .map_err(db)?
            .is_some(),
    )
}

/// Stores a tabled proposal with its act; `false` when the same one is stored.
pub async fn table(pool: &PgPool, p: &ProposalRecord, act: &GovernanceAct) -> StoreResult<bool> {
    let mut tx = pool.begin().await.map_err(db)?;
    objects::lock_clock(&mut tx).await?;
    if !insert_proposal(&mut tx, p).await? {
        return Ok(false);
    }
    write_act(&mut tx, act).await?;
    tx.commit().await.map_err(db)?;
    Ok(true)
}

/// Inserts a tabled proposal in the caller's transaction; `false` when the same one is
/// stored, a conflict when another one is.
async fn insert_proposal(tx: &mut PgConnection, p: &ProposalRecord) -> StoreResult<bool> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT sha256 FROM gov_proposals WHERE id = $1")
            .bind(&p.id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
    match stored {
        Some(sha256) if sha256 == p.sha256 => return Ok(false),
        Some(_) => return Err(StoreError::Conflict(format!("another proposal {:?}", p.id))),
        None => {}
    }
    sqlx::query(&format!(
        "INSERT INTO gov_proposals ({PROPOSAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(&p.id)
    .bind(&p.kind)
    .bind(&p.proposer)
    .bind(p.tabled_at)
    .bind(p.deadline)
    .bind(&p.sha256)
    .bind(&p.json)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    Ok(true)
}

/// Stores a ballot with its act; `false` when the same text is stored for the proposal.
pub async fn add_ballot(pool: &PgPool, b: &BallotRecord, act: &GovernanceAct) -> StoreResult<bool> {
    let mut tx = pool.begin().await.map_err(db)?;
    objects::lock_clock(&mut tx).await?;
    if !insert_ballot(&mut tx, b).await? {
        return Ok(false);
    }
    write_act(&mut tx, act).await?;
    tx.commit().await.map_err(db)?;
    Ok(true)
}

/// Inserts a ballot in the caller's transaction; `false` when the same text is stored for
/// the proposal, a conflict once the proposal is counted or canceled.
async fn insert_ballot(tx: &mut PgConnection, b: &BallotRecord) -> StoreResult<bool> {
    check_proposal(&mut *tx, &b.proposal).await?;
    let stored = sqlx::query("SELECT 1 FROM gov_ballots WHERE proposal = $1 AND sha256 = $2")
        .bind(&b.proposal)
        .bind(&b.sha256)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    if stored.is_some() {
        return Ok(false);
    }
    if has_outcome(&mut *tx, &b.proposal).await? {
        return Err(StoreError::Conflict(format!(
            "a ballot on proposal {:?}, counted already",
            b.proposal
        )));
    }
    if stored_cancellation(&mut *tx, &b.proposal).await?.is_some() {
        return Err(StoreError::Conflict(format!(
            "a ballot on proposal {:?}, canceled",
            b.proposal
        )));
    }
    sqlx::query(&format!(
        "INSERT INTO gov_ballots ({BALLOT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
    ))
    .bind(&b.proposal)
    .bind(&b.sha256)
    .bind(&b.member)
    .bind(b.received_at)
    .bind(&b.refusal)
    .bind(&b.json)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    Ok(true)
}

/// The SHA-256 of the stored cancellation of `proposal`, if any.
async fn stored_cancellation(tx: &mut PgConnection, proposal: &str) -> StoreResult<Option<String>> {
    sqlx::query_scalar("SELECT sha256 FROM gov_cancellations WHERE proposal = $1")
        .bind(proposal)
        .fetch_optional(tx)
        .await
        .map_err(db)
}

/// Stores a proposal's cancellation with its act; `false` when the same one is stored.
pub async fn cancel(
    pool: &PgPool,
    k: &CancellationRecord,
    act: &GovernanceAct,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await.map_err(db)?;
    objects::lock_clock(&mut tx).await?;
    check_proposal(&mut tx, &k.proposal).await?;
    match stored_cancellation(&mut tx, &k.proposal).await? {
        Some(sha256) if sha256 == k.sha256 => return Ok(false),
        Some(_) => {
            return Err(StoreError::Conflict(format!(
                "another cancellation of proposal {:?}",
                k.proposal
            )))
        }
        None => {}
    }
    if has_outcome(&mut tx, &k.proposal).await? {
        return Err(StoreError::Conflict(format!(
            "the cancellation of proposal {:?}, counted already",
            k.proposal
        )));
    }
    sqlx::query(&format!(
        "INSERT INTO gov_cancellations ({CANCELLATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
    ))
    .bind(&k.proposal)
    .bind(&k.member)
    .bind(k.at)
    .bind(&k.sha256)
    .bind(&k.json)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    write_act(&mut tx, act).await?;
    tx.commit().await.map_err(db)?;
    Ok(true)
}

async fn insert_rules(tx: &mut PgConnection, r: &RulesVersion) -> StoreResult<()> {
    let version = seq_to_sql(r.version)?;
    let last: i64 = sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM gov_rules")
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
    if version != last + 1 {
        return Err(StoreError::Conflict(format!(
            "rules version {version}, after version {last}"
        )));
    }
    sqlx::query(&format!(
        "INSERT INTO gov_rules ({RULES_COLUMNS}) VALUES ($1, $2, $3, $4)"
    ))
    .bind(version)
    .bind(&r.json)
    .bind(&r.proposal)
    .bind(r.at)
    .execute(tx)
    .await
    .map_err(db)?;
    Ok(())
}

async fn apply(tx: &mut PgConnection, effect: &Effect) -> StoreResult<()> {
    match effect {
        Effect::Norm(n) => {
            let version = seq_to_sql(n.version)?;
            let last: i64 = sqlx::query_scalar(
                "SELECT coalesce(max(version), 0) FROM gov_norms WHERE norm = $1",
            )
            .bind(&n.norm)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            if version != last + 1 {
                return Err(StoreError::Conflict(format!(
                    "version {version} of norm {:?}, after version {last}",
                    n.norm
                )));
            }
            sqlx::query(&format!(
                "INSERT INTO gov_norms ({NORM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
            ))
            .bind(&n.norm)
            .bind(version)
            .bind(&n.texts)
            .bind(n.repealed)
            .bind(&n.proposal)
            .bind(n.at)
            .execute(tx)
            .await
            .map_err(|e| conflict_or_db(e, || format!("norm {:?}", n.norm)))?;
        }
        Effect::Rules(r) => insert_rules(tx, r).await?,
        Effect::Member { entry, expected } => match expected {
            None => identity::add_registry_entry(tx, entry).await?,
            Some(expected) => {
                if !identity::replace_registry_entry(tx, entry, expected).await? {
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
pub async fn record_outcome(
    pool: &PgPool,
    o: &OutcomeRecord,
    effect: Option<&Effect>,
    act: &GovernanceAct,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await.map_err(db)?;
    objects::lock_clock(&mut tx).await?;
    if has_outcome(&mut tx, &o.proposal).await? {
        return Ok(false);
    }
    insert_outcome(&mut tx, o, effect).await?;
    write_act(&mut tx, act).await?;
    tx.commit().await.map_err(db)?;
    Ok(true)
}

/// Inserts the outcome of a stored proposal without one, and applies its effect, in the
/// caller's transaction.
async fn insert_outcome(
    tx: &mut PgConnection,
    o: &OutcomeRecord,
    effect: Option<&Effect>,
) -> StoreResult<()> {
    check_proposal(&mut *tx, &o.proposal).await?;
    sqlx::query(&format!(
        "INSERT INTO gov_outcomes ({OUTCOME_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
    ))
    .bind(&o.proposal)
    .bind(&o.decision)
    .bind(&o.digest)
    .bind(o.counted_at)
    .bind(o.executed_at)
    .bind(&o.json)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    if let Some(effect) = effect {
        apply(tx, effect).await?;
    }
    Ok(())
}

/// Stores a proposal decided elsewhere with its ballots, outcome, effect and act, all or
/// nothing; `false` when it has an outcome already.
pub async fn record_decided(
    pool: &PgPool,
    d: &Decided,
    effect: Option<&Effect>,
    act: &GovernanceAct,
) -> StoreResult<bool> {
    d.check()?;
    let mut tx = pool.begin().await.map_err(db)?;
    objects::lock_clock(&mut tx).await?;
    if has_outcome(&mut tx, &d.proposal.id).await? {
        return Ok(false);
    }
    if stored_cancellation(&mut tx, &d.proposal.id)
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict(format!(
            "the outcome of proposal {:?}, canceled",
            d.proposal.id
        )));
    }
    insert_proposal(&mut tx, &d.proposal).await?;
    for b in &d.ballots {
        insert_ballot(&mut tx, b).await?;
    }
    insert_outcome(&mut tx, &d.outcome, effect).await?;
    write_act(&mut tx, act).await?;
    tx.commit().await.map_err(db)?;
    Ok(true)
}

/// Applies the founding effects, the rules first; `Conflict` once there are rules or
/// proposals.
pub async fn found(pool: &PgPool, founding: &[Effect], act: &GovernanceAct) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    objects::lock_clock(&mut tx).await?;
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM gov_proposals) OR EXISTS (SELECT 1 FROM gov_rules)",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    let starts_with_rules = matches!(founding.first(), Some(Effect::Rules(r)) if r.version == 1);
    if taken || !starts_with_rules {
        return Err(StoreError::Conflict(
            "what a node starts its governance with, once it has rules or proposals, or \
             without rules first"
                .into(),
        ));
    }
    for effect in founding {
        apply(&mut tx, effect).await?;
    }
    write_act(&mut tx, act).await?;
    tx.commit().await.map_err(db)?;
    Ok(())
}

/// Proposal `id`.
pub async fn proposal(pool: &PgPool, id: &str) -> StoreResult<Option<ProposalRecord>> {
    sqlx::query(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM gov_proposals WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db)?
    .as_ref()
    .map(proposal_row)
    .transpose()
}

/// The newest proposals first.
pub async fn proposals(pool: &PgPool, limit: usize) -> StoreResult<Vec<ProposalRecord>> {
    sqlx::query(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM gov_proposals
         ORDER BY tabled_at DESC, id COLLATE \"C\" DESC LIMIT $1"
    ))
    .bind(limit_to_sql(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(proposal_row)
    .collect()
}

/// The proposals past their deadline with no outcome.
/// The proposals with an outcome after `after` (deadline, id), by deadline then id
/// (byte-wise, as SQLite orders them).
pub async fn decided(
    pool: &PgPool,
    after: Option<(i64, &str)>,
    limit: usize,
) -> StoreResult<Vec<ProposalRecord>> {
    let (deadline, id) = after.unwrap_or((i64::MIN, ""));
    sqlx::query(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM gov_proposals p
         WHERE EXISTS (SELECT 1 FROM gov_outcomes o WHERE o.proposal = p.id)
           AND (deadline > $1 OR (deadline = $1 AND id COLLATE \"C\" > $2))
         ORDER BY deadline, id COLLATE \"C\" LIMIT $3"
    ))
    .bind(deadline)
    .bind(id)
    .bind(limit_to_sql(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(proposal_row)
    .collect()
}

pub async fn proposals_due(pool: &PgPool, at: i64) -> StoreResult<Vec<ProposalRecord>> {
    sqlx::query(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM gov_proposals p
         WHERE deadline <= $1
           AND NOT EXISTS (SELECT 1 FROM gov_outcomes o WHERE o.proposal = p.id)
           AND NOT EXISTS (SELECT 1 FROM gov_cancellations k WHERE k.proposal = p.id)
         ORDER BY deadline, id COLLATE \"C\""
    ))
    .bind(at)
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(proposal_row)
    .collect()
}

/// The ballots on proposal `id`, in the order received.
pub async fn ballots(pool: &PgPool, id: &str) -> StoreResult<Vec<BallotRecord>> {
    sqlx::query(&format!(
        "SELECT {BALLOT_COLUMNS} FROM gov_ballots WHERE proposal = $1 ORDER BY n"
    ))
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(ballot_row)
    .collect()
}

/// The outcome of proposal `id`.
pub async fn outcome(pool: &PgPool, id: &str) -> StoreResult<Option<OutcomeRecord>> {
    sqlx::query(&format!(
        "SELECT {OUTCOME_COLUMNS} FROM gov_outcomes WHERE proposal = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db)?
    .as_ref()
    .map(outcome_row)
    .transpose()
}

/// The cancellation of proposal `id`.
pub async fn cancellation(pool: &PgPool, id: &str) -> StoreResult<Option<CancellationRecord>> {
    sqlx::query(&format!(
        "SELECT {CANCELLATION_COLUMNS} FROM gov_cancellations WHERE proposal = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db)?
    .as_ref()
    .map(cancellation_row)
    .transpose()
}

/// The latest rules.
pub async fn rules_in_force(pool: &PgPool) -> StoreResult<Option<RulesVersion>> {
    Ok(rules(pool, "ORDER BY version DESC LIMIT 1").await?.pop())
}

/// Every version of the rules, oldest first.
pub async fn rules_versions(pool: &PgPool) -> StoreResult<Vec<RulesVersion>> {
    rules(pool, "ORDER BY version").await
}

async fn rules(pool: &PgPool, order: &str) -> StoreResult<Vec<RulesVersion>> {
    sqlx::query(&format!("SELECT {RULES_COLUMNS} FROM gov_rules {order}"))
        .fetch_all(pool)
        .await
        .map_err(db)?
        .iter()
        .map(rules_row)
        .collect()
}

/// Stores governance records copied from another store as they are, in one transaction;
/// those stored already are left alone. Ballots keep the order given (the order received).
pub async fn restore(pool: &PgPool, records: &GovernanceRecords) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    for p in &records.proposals {
        sqlx::query(&format!(
            "INSERT INTO gov_proposals ({PROPOSAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(&p.id)
        .bind(&p.kind)
        .bind(&p.proposer)
        .bind(p.tabled_at)
        .bind(p.deadline)
        .bind(&p.sha256)
        .bind(&p.json)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    for b in &records.ballots {
        sqlx::query(&format!(
            "INSERT INTO gov_ballots ({BALLOT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(&b.proposal)
        .bind(&b.sha256)
        .bind(&b.member)
        .bind(b.received_at)
        .bind(&b.refusal)
        .bind(&b.json)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    for o in &records.outcomes {
        sqlx::query(&format!(
            "INSERT INTO gov_outcomes ({OUTCOME_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(&o.proposal)
        .bind(&o.decision)
        .bind(&o.digest)
        .bind(o.counted_at)
        .bind(o.executed_at)
        .bind(&o.json)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    for k in &records.cancellations {
        sqlx::query(&format!(
            "INSERT INTO gov_cancellations ({CANCELLATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(&k.proposal)
        .bind(&k.member)
        .bind(k.at)
        .bind(&k.sha256)
        .bind(&k.json)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    for r in &records.rules {
        sqlx::query(&format!(
            "INSERT INTO gov_rules ({RULES_COLUMNS}) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
        ))
        .bind(seq_to_sql(r.version)?)
        .bind(&r.json)
        .bind(&r.proposal)
        .bind(r.at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    for n in &records.norms {
        sqlx::query(&format!(
            "INSERT INTO gov_norms ({NORM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(&n.norm)
        .bind(seq_to_sql(n.version)?)
        .bind(&n.texts)
        .bind(n.repealed)
        .bind(&n.proposal)
        .bind(n.at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)
}

/// Every version of every norm.
pub async fn norms(pool: &PgPool) -> StoreResult<Vec<NormVersion>> {
    sqlx::query(&format!(
        "SELECT {NORM_COLUMNS} FROM gov_norms ORDER BY norm COLLATE \"C\", version"
    ))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(norm_row)
    .collect()
}
