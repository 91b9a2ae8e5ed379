//! Governance pages, for analysts, liaison officers and admins (the API's rule, through
//! [`crate::governance::reader`]): the proposals with where each stands and its tally so
//! far, one proposal with what it would do, its timeline, its ballots and its result, the
//! norms registry and the rules in force. Admins vote for the member (the API's rule,
//! [`crate::governance::admin`]). Every page and the vote call the node's `governance`
//! workflows as the API does.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use comity_node::governance::{
    service, Action, Choice, Outcome, ProposalState, ProposalView, Rules, Texts,
};
use comity_node::registry::Directory;
use comity_stix::clock::{format_us, now_us};
use serde::{Deserialize, Serialize};

use super::members::{named, names};
use super::{render, Ctx, InLanguage, UiError, UiResult, Viewer};
use crate::auth::Caller;
use crate::governance::{admin, reader};
use crate::AppState;

/// Most proposals a list shows.
const LISTED: usize = 100;

/// The snake_case name serde gives an enum value (a state, a decision, a refusal).
pub(super) fn snake(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(o)) => o
            .get("reason")
            .and_then(|r| r.as_str())
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

/// The tally of a proposal as a page shows it.
pub(super) struct TallyRow {
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    pub toward_quorum: u32,
    pub quorum_needed: u32,
    pub quorum_met: bool,
    pub majority: String,
    pub majority_met: bool,
    /// `succeeded` or `defeated`.
    pub decision: String,
    pub digest: String,
}

impl TallyRow {
    fn new(o: &Outcome) -> Self {
        TallyRow {
            yes: o.yes,
            no: o.no,
            abstain: o.abstain,
            toward_quorum: o.toward_quorum,
            quorum_needed: o.quorum_needed,
            quorum_met: o.quorum_met,
            majority: o.majority.to_string(),
            majority_met: o.majority_met,
            decision: snake(&o.decision),
            digest: o.digest.clone(),
        }
    }
}

/// A proposal in a list.
pub(super) struct ProposalRow {
    pub id: String,
    /// Its kind, as written (`adopt_norm`).
    pub kind: &'static str,
    /// Its state, as written (`active`): the badge's class and message.
    pub state: String,
    pub proposer: String,
    pub voting_starts: String,
    pub deadline: String,
    pub tally: Option<TallyRow>,
    /// Whether the tally is final (counted at the deadline).
    pub counted: bool,
}

impl ProposalRow {
    fn new(p: &ProposalView, names: &BTreeMap<String, String>, ctx: &Ctx) -> Self {
        ProposalRow {
            id: p.proposal.id.clone(),
            kind: p.proposal.kind().as_str(),
            state: snake(&p.state),
            proposer: named(names, &p.proposal.proposer),
            voting_starts: ctx.when(&p.voting_starts),
            deadline: ctx.when(&p.deadline),
            // Before voting opens, or once canceled, there is nothing to tally.
            tally: p
                .outcome
                .as_ref()
                .filter(|_| !matches!(p.state, ProposalState::Pending | ProposalState::Canceled))
                .map(TallyRow::new),
            counted: p.counted,
        }
    }
}

#[derive(Template)]
#[template(path = "proposals.html")]
struct ListPage {
    ctx: Ctx,
    proposals: Vec<ProposalRow>,
}

/// GET `/governance`: the proposals, newest first, each with its tally so far.
pub(super) async fn list(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
) -> UiResult {
    reader(&caller).speak(&ctx)?;
    let store = state.node.store();
    let now = now_us();
    service::count_due(store, now).await.speak(&ctx)?;
    let found = service::list_with_outcomes(store, now, LISTED)
        .await
        .speak(&ctx)?;
    let names = names(&state).await.speak(&ctx)?;
    let proposals = found
        .iter()
        .map(|p| ProposalRow::new(p, &names, &ctx))
        .collect();
    render(&ctx.clone(), ListPage { ctx, proposals })
}

/// The proposals open for a vote now, for the dashboard of a viewer who may read them
/// (none for anyone else), the nearest deadline first.
pub(super) async fn open_for_vote(
    state: &AppState,
    ctx: &Ctx,
    caller: &Caller,
) -> Result<Vec<ProposalRow>, UiError> {
    if reader(caller).is_err() {
        return Ok(Vec::new());
    }
    let store = state.node.store();
    let now = now_us();
    service::count_due(store, now).await?;
    let open = service::open_for_vote(store, now).await?;
    let names = names(state).await?;
    Ok(open
        .iter()
        .map(|p| ProposalRow::new(p, &names, ctx))
        .collect())
}

/// A text of a proposal or a norm in one language.
pub(super) struct TextRow {
    pub lang: String,
    pub text: String,
}

/// The texts of `texts`, the viewer's language first.
fn texts_of(texts: &Texts, ctx: &Ctx) -> Vec<TextRow> {
    let mut rows: Vec<TextRow> = texts
        .iter()
        .map(|(lang, text)| TextRow {
            lang: lang.clone(),
            text: text.clone(),
        })
        .collect();
    rows.sort_by_key(|r| r.lang != ctx.t.lang());
    rows
}

/// What a proposal would do, as a page shows it.
struct Effect {
    /// The member it concerns, named.
    member: Option<String>,
    /// Its country and key, for an admission.
    country: Option<String>,
    public_key: Option<String>,
    /// For a key revocation: the encryption key pinned with the key, and from when the
    /// member's keys are revoked.
    encryption_key: Option<String>,
    revoked_from: Option<String>,
    /// The norm it concerns.
    norm: Option<String>,
    texts: Vec<TextRow>,
    /// The rules it would put in force.
    rules: Option<RulesView>,
}

impl Effect {
    fn new(action: &Action, names: &BTreeMap<String, String>, ctx: &Ctx) -> Self {
        let mut e = Effect {
            member: None,
            country: None,
            public_key: None,
            encryption_key: None,
            revoked_from: None,
            norm: None,
            texts: Vec::new(),
            rules: None,
        };
        match action {
            Action::AdmitMember {
                member,
                public_key,
                country,
            } => {
                e.member = Some(named(names, member));
                e.country = Some(country.clone());
                e.public_key = Some(public_key.to_string());
            }
            Action::SuspendMember { member }
            | Action::ReinstateMember { member }
            | Action::ExpelMember { member } => e.member = Some(named(names, member)),
            Action::AdoptNorm { norm, texts } | Action::AmendNorm { norm, texts } => {
                e.norm = Some(norm.clone());
                e.texts = texts_of(texts, ctx);
            }
            Action::RepealNorm { norm } => e.norm = Some(norm.clone()),
            Action::ChangeRules { rules } => e.rules = Some(RulesView::new(rules, ctx)),
            Action::JointStatement { texts } => e.texts = texts_of(texts, ctx),
            Action::RevokeMemberKey {
                member,
                revoked_from,
                new_key,
                encryption_key,
            } => {
                e.member = Some(named(names, member));
                e.revoked_from = Some(format_us(*revoked_from));
                e.public_key = Some(new_key.to_string());
                e.encryption_key = Some(encryption_key.to_string());
            }
        }
        e
    }
}

/// A ballot as a page shows it.
struct BallotRow {
    member: String,
    /// Whether it is this node's member's.
    ours: bool,
    /// `yes`, `no` or `abstain`.
    choice: String,
    sha256: String,
}

/// A ballot that does not count, with why.
struct RefusedRow {
    member: String,
    /// The reason as written (`late`): its message.
    reason: String,
    /// The node's words for it.
    detail: String,
    sha256: String,
}

/// A moment of a proposal's life.
struct Moment {
    label: String,
    at: String,
}

#[derive(Template)]
#[template(path = "proposal.html")]
struct ProposalPage {
    ctx: Ctx,
    row: ProposalRow,
    sponsors: Vec<String>,
    effect: Effect,
    timeline: Vec<Moment>,
    ballots: Vec<BallotRow>,
    refused: Vec<RefusedRow>,
    not_executed: bool,
    /// Whether the viewer may vote now (an admin, while voting is open).
    may_vote: bool,
    /// Whether the viewer may cancel it (an admin, the proposal its member's, pending).
    may_cancel: bool,
    /// This node's member's ballot that counts now, if any: the choice the form shows.
    ours: Option<String>,
    choices: [&'static str; 3],
}

/// The first characters of a hash, enough to tell ballots apart on a page.
fn short(s: &str) -> String {
    s.chars().take(16).collect()
}

/// GET `/governance/proposals/{id}`: one proposal, what it would do, its timeline, its
/// ballots and its result (provisional until counted), with the vote form for an admin
/// while voting is open.
pub(super) async fn show(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
) -> UiResult {
    reader(&caller).speak(&ctx)?;
    let store = state.node.store();
    let now = now_us();
    service::count_due(store, now).await.speak(&ctx)?;
    let view = service::show(store, &id, now).await.speak(&ctx)?;
    let names = names(&state).await.speak(&ctx)?;
    let local = Directory::new(store)
        .local_member()
        .await
        .map_err(crate::auth::registry_error)
        .speak(&ctx)?
        .map(|m| m.id.0);
    let p = &view.proposal;
    let mut timeline = vec![
        Moment {
            label: ctx.t.m("proposal-tabled"),
            at: ctx.when(&format_us(p.tabled_at)),
        },
        Moment {
            label: ctx.t.m("proposal-voting-starts"),
            at: ctx.when(&view.voting_starts),
        },
        Moment {
            label: ctx.t.m("proposal-deadline"),
            at: ctx.when(&view.deadline),
        },
    ];
    if view.counted {
        timeline.push(Moment {
            label: ctx.t.m("proposal-execution-ends"),
            at: ctx.when(&format_us(p.execution_ends())),
        });
    }
    let (ballots, refused) = match &view.outcome {
        Some(o) => (
            o.counted
                .iter()
                .map(|c| BallotRow {
                    member: named(&names, &c.member),
                    ours: Some(&c.member) == local.as_ref(),
                    choice: c.choice.to_string(),
                    sha256: short(&c.sha256),
                })
                .collect(),
            o.refused
                .iter()
                .map(|r| RefusedRow {
                    member: r
                        .member
                        .as_deref()
                        .map_or_else(String::new, |m| named(&names, m)),
                    reason: snake(&r.reason),
                    detail: r.reason.to_string(),
                    sha256: short(&r.sha256),
                })
                .collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let may_vote = admin(&caller).is_ok() && view.state == ProposalState::Active;
    // Only its proposer cancels a proposal, while it is pending (the workflow's rule).
    let may_cancel = admin(&caller).is_ok()
        && view.state == ProposalState::Pending
        && local.as_deref() == Some(p.proposer.as_str());
    let ours = ballots
        .iter()
        .find(|b: &&BallotRow| b.ours)
        .map(|b| b.choice.clone());
    let page = ProposalPage {
        row: ProposalRow::new(&view, &names, &ctx),
        sponsors: p.sponsors.iter().map(|s| named(&names, s)).collect(),
        effect: Effect::new(&p.action, &names, &ctx),
        timeline,
        ballots,
        refused,
        not_executed: view.not_executed.is_some(),
        may_vote,
        may_cancel,
        ours,
        choices: ["yes", "no", "abstain"],
        ctx: ctx.clone(),
    };
    render(&ctx, page)
}

#[derive(Deserialize)]
pub(super) struct VoteInput {
    #[serde(default)]
    choice: String,
}

/// POST `/governance/proposals/{id}/vote`: casts the member's ballot through the
/// workflow (admins only, as the API), then shows the proposal.
pub(super) async fn vote(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
    form: Result<Form<VoteInput>, axum::extract::rejection::FormRejection>,
) -> UiResult {
    admin(&caller).speak(&ctx)?;
    let choice: Choice = form
        .ok()
        .and_then(|Form(f)| f.choice.parse().ok())
        .ok_or_else(|| UiError::new(StatusCode::BAD_REQUEST, "error-invalid"))
        .speak(&ctx)?;
    service::vote(&state.node, &id, choice, now_us())
        .await
        .speak(&ctx)?;
    state.node.outbox_ready();
    Ok(Redirect::to(&format!("/governance/proposals/{id}")).into_response())
}

/// POST `/governance/proposals/{id}/cancel`: cancels the member's own pending proposal
/// through the workflow (admins only, as the API), then shows it.
pub(super) async fn cancel(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
) -> UiResult {
    admin(&caller).speak(&ctx)?;
    service::cancel(&state.node, &id, now_us())
        .await
        .speak(&ctx)?;
    state.node.outbox_ready();
    Ok(Redirect::to(&format!("/governance/proposals/{id}")).into_response())
}

/// What a kind of proposal needs under some rules.
struct KindRow {
    kind: &'static str,
    majority: String,
    sponsors: u32,
}

/// Rules as a page shows them.
pub(super) struct RulesView {
    voting_delay: String,
    voting_period: String,
    execution_window: String,
    quorum: String,
    abstentions_count: bool,
    kinds: Vec<KindRow>,
}

/// A duration in the largest whole unit that writes it exactly.
fn duration(t: &super::i18n::Translator, seconds: i64) -> String {
    let n = |v: i64| usize::try_from(v).unwrap_or(0);
    match seconds {
        s if s > 0 && s % 86_400 == 0 => t.a("duration-days", "count", n(s / 86_400)),
        s if s > 0 && s % 3600 == 0 => t.a("duration-hours", "count", n(s / 3600)),
        s if s > 0 && s % 60 == 0 => t.a("duration-minutes", "count", n(s / 60)),
        s => t.a("duration-seconds", "count", n(s)),
    }
}

impl RulesView {
    fn new(r: &Rules, ctx: &Ctx) -> Self {
        RulesView {
            voting_delay: duration(&ctx.t, r.voting_delay_seconds),
            voting_period: duration(&ctx.t, r.voting_period_seconds),
            execution_window: duration(&ctx.t, r.execution_window_seconds),
            quorum: r.quorum.to_string(),
            abstentions_count: r.abstentions_count_toward_quorum,
            kinds: r
                .kinds
                .iter()
                .map(|(k, kr)| KindRow {
                    kind: k.as_str(),
                    majority: kr.majority.to_string(),
                    sponsors: kr.sponsors,
                })
                .collect(),
        }
    }
}

/// A version of a norm as a page shows it.
struct NormRow {
    norm: String,
    /// "version N", in the viewer's language.
    version: String,
    repealed: bool,
    /// The proposal that decided it, or the genesis that adopted it.
    proposal: String,
    /// Whether the genesis adopted it (no proposal page to link to).
    founding: bool,
    at: String,
    texts: Vec<TextRow>,
}

#[derive(Template)]
#[template(path = "norms.html")]
struct NormsPage {
    ctx: Ctx,
    norms: Vec<NormRow>,
    rules: RulesView,
}

/// GET `/governance/norms`: every version of every norm, and the rules in force.
pub(super) async fn norms(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
) -> UiResult {
    reader(&caller).speak(&ctx)?;
    let store = state.node.store();
    service::count_due(store, now_us()).await.speak(&ctx)?;
    let norms = service::norms(store)
        .await
        .speak(&ctx)?
        .into_iter()
        .map(|n| {
            let texts: Texts = serde_json::from_value(n.texts).unwrap_or_default();
            let version = usize::try_from(n.version).unwrap_or(usize::MAX);
            NormRow {
                texts: texts_of(&texts, &ctx),
                norm: n.norm,
                version: ctx.t.a("norm-version", "count", version),
                repealed: n.repealed,
                founding: n.proposal.starts_with("genesis--"),
                proposal: n.proposal,
                at: ctx.when(&n.at),
            }
        })
        .collect();
    let rules = RulesView::new(&service::rules_in_force(store).await.speak(&ctx)?, &ctx);
    render(&ctx.clone(), NormsPage { ctx, norms, rules })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::Translator;

    #[test]
    fn durations_take_the_largest_exact_unit() {
        let t = Translator::new("en");
        let strip = |s: String| s.replace(['\u{2068}', '\u{2069}'], "");
        assert_eq!(strip(duration(&t, 172_800)), "2 days");
        assert_eq!(strip(duration(&t, 3600)), "1 hour");
        assert_eq!(strip(duration(&t, 90 * 60)), "90 minutes");
        assert_eq!(strip(duration(&t, 61)), "61 seconds");
        assert_eq!(strip(duration(&t, 0)), "0 seconds");
    }

    #[test]
    fn enum_values_are_named_as_the_node_writes_them() {
        use comity_node::governance::{Decision, ProposalState, Refusal};
        assert_eq!(snake(&ProposalState::Active), "active");
        assert_eq!(snake(&Decision::Defeated), "defeated");
        assert_eq!(
            snake(&Refusal::Late {
                at: "a".into(),
                deadline: "b".into()
            }),
            "late"
        );
        assert_eq!(snake(&Refusal::BadSignature), "bad_signature");
    }
}
