//! The form that tables a proposal, for admins (the API's rule for tabling,
//! [`crate::governance::admin`]): one kind at a time with its own fields, the sponsors
//! picked among the active members. What is entered is read into the API's own form of a
//! proposal ([`NewProposal`], `{"action": {"kind", …}, "sponsors": […]}`) and tabled by the
//! node's `governance::propose`, as the API and the CLI do. A refusal, the form's or the
//! node's, shows the form again with what was entered and why.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use axum::Form;
use comity_node::federation::seal::EncryptionKey;
use comity_node::governance::{service, GovernanceError, NewProposal, ProposalKind, TablingError};
use comity_node::identity::PublicKey;
use comity_node::member_file::MemberFile;
use comity_node::policy::MemberStatus;
use comity_node::registry::{Directory, Member};
use comity_stix::clock::now_us;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::i18n::{Translator, LANGUAGES};
use super::{Ctx, InLanguage, Problem, UiError, UiResult, Viewer};
use crate::auth::{registry_error, Caller};
use crate::error::ApiError;
use crate::governance::admin;
use crate::AppState;

/// Most characters a text in one language may hold on the form: six of them, in any
/// script, fit both the form ([`MAX_FORM`]) and the API's body for a proposal.
pub(super) const MAX_TEXT: usize = 6_000;

/// Largest form this page may send: six texts of [`MAX_TEXT`] characters of three UTF-8
/// bytes, each byte written `%XX`, with room for the rest.
pub(super) const MAX_FORM: usize = 400 * 1024;

/// The path of the form.
pub(super) const PATH: &str = "/governance/propose";

/// The kind the form opens with.
const FIRST: ProposalKind = ProposalKind::AdoptNorm;

/// The kind written `s`.
fn kind_of(s: &str) -> Option<ProposalKind> {
    ProposalKind::ALL.into_iter().find(|k| k.as_str() == s)
}

/// What a kind asks for besides its sponsors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// A norm id, with texts unless it is a repeal.
    Norm { texts: bool },
    /// Texts only (a joint statement).
    Texts,
    /// A member picked from the directory.
    Member,
    /// A member record file (an admission).
    Record,
    /// Rules, as JSON (a change of the rules).
    Rules,
    /// A member, the time its keys are revoked from and its new keys (a key revocation).
    Keys,
}

fn needs(kind: ProposalKind) -> Needs {
    match kind {
        ProposalKind::AdoptNorm | ProposalKind::AmendNorm => Needs::Norm { texts: true },
        ProposalKind::RepealNorm => Needs::Norm { texts: false },
        ProposalKind::JointStatement => Needs::Texts,
        ProposalKind::SuspendMember | ProposalKind::ReinstateMember | ProposalKind::ExpelMember => {
            Needs::Member
        }
        ProposalKind::AdmitMember => Needs::Record,
        ProposalKind::ChangeRules => Needs::Rules,
        ProposalKind::RevokeMemberKey => Needs::Keys,
    }
}

/// A text in one language as entered.
struct TextInput {
    lang: &'static str,
    /// The language named in itself.
    label: String,
    text: String,
}

/// What the form holds: blank, or as the viewer entered it.
struct Entered {
    norm: String,
    texts: Vec<TextInput>,
    member: String,
    record: String,
    rules: String,
    revoked_from: String,
    new_key: String,
    encryption_key: String,
    sponsors: BTreeSet<String>,
}

impl Entered {
    /// A blank form: the text in the viewer's language first.
    fn blank(ctx: &Ctx) -> Self {
        let mut texts: Vec<TextInput> = LANGUAGES
            .iter()
            .map(|lang| TextInput {
                lang,
                label: Translator::new(lang).m("language-name"),
                text: String::new(),
            })
            .collect();
        texts.sort_by_key(|t| t.lang != ctx.t.lang());
        Entered {
            norm: String::new(),
            texts,
            member: String::new(),
            record: String::new(),
            rules: String::new(),
            revoked_from: String::new(),
            new_key: String::new(),
            encryption_key: String::new(),
            sponsors: BTreeSet::new(),
        }
    }

    /// The form as posted.
    fn read(ctx: &Ctx, form: &[(String, String)]) -> Self {
        let field = |k: &str| {
            form.iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut e = Entered::blank(ctx);
        for t in &mut e.texts {
            t.text = field(&format!("text-{}", t.lang));
        }
        e.norm = field("norm");
        e.member = field("member");
        e.record = field("record");
        e.rules = field("rules");
        e.revoked_from = field("revoked_from");
        e.new_key = field("new_key");
        e.encryption_key = field("encryption_key");
        e.sponsors = form
            .iter()
            .filter(|(k, v)| k == "sponsor" && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect();
        e
    }
}

/// The texts entered, by language: at least one, none longer than [`MAX_TEXT`].
fn texts(e: &Entered, t: &Translator) -> Result<Value, Problem> {
    let mut texts = Map::new();
    for input in &e.texts {
        let text = input.text.trim();
        if text.is_empty() {
            continue;
        }
        if text.chars().count() > MAX_TEXT {
            let mut p = Problem::new(
                &format!("text-{}", input.lang),
                t.a("error-propose-text-long", "count", MAX_TEXT),
            );
            p.about = Some(input.label.clone());
            return Err(p);
        }
        texts.insert(input.lang.to_owned(), Value::String(text.to_owned()));
    }
    if texts.is_empty() {
        let first = e.texts.first().map_or("en", |i| i.lang);
        return Err(Problem::new(
            &format!("text-{first}"),
            t.m("error-propose-text-empty"),
        ));
    }
    Ok(Value::Object(texts))
}

/// The proposal the form describes, in the API's form and read as the API reads it; or
/// what is wrong with it. `members` is the member directory.
fn proposal(
    kind: ProposalKind,
    e: &Entered,
    members: &[Member],
    t: &Translator,
) -> Result<NewProposal, Problem> {
    let known = |id: &str| members.iter().any(|m| m.id.0 == id);
    if e.sponsors.iter().any(|s| !known(s)) {
        return Err(Problem::new(
            "sponsors",
            t.m("error-propose-sponsor-unknown"),
        ));
    }
    let member = || {
        let member = e.member.trim();
        if member.is_empty() {
            return Err(Problem::new("member", t.m("error-propose-member-empty")));
        }
        if !known(member) {
            return Err(Problem::new("member", t.m("error-propose-member-unknown")));
        }
        Ok(member)
    };
    let mut action = json!({"kind": kind.as_str()});
    let field = match needs(kind) {
        Needs::Norm { texts: with_texts } => {
            let norm = e.norm.trim();
            if norm.is_empty() {
                return Err(Problem::new("norm", t.m("error-propose-norm-empty")));
            }
            action["norm"] = norm.into();
            if with_texts {
                action["texts"] = texts(e, t)?;
            }
            "norm"
        }
        Needs::Texts => {
            action["texts"] = texts(e, t)?;
            ""
        }
        Needs::Member => {
            action["member"] = member()?.into();
            "member"
        }
        Needs::Keys => {
            action["member"] = member()?.into();
            let from = e.revoked_from.trim();
            if comity_stix::clock::parse_us(from).is_none() {
                return Err(Problem::new(
                    "revoked_from",
                    t.m("error-propose-revoked-from"),
                ));
            }
            action["revoked_from"] = from.into();
            let (new_key, encryption_key) = (e.new_key.trim(), e.encryption_key.trim());
            let refused =
                |name, why: String| Problem::new(name, t.m("error-propose-key")).because(why);
            for (name, text) in [("new_key", new_key), ("encryption_key", encryption_key)] {
                if text.is_empty() {
                    return Err(Problem::new(name, t.m("error-propose-key-empty")));
                }
            }
            new_key
                .parse::<PublicKey>()
                .map_err(|why| refused("new_key", why.to_string()))?;
            encryption_key
                .parse::<EncryptionKey>()
                .map_err(|why| refused("encryption_key", why.to_string()))?;
            action["new_key"] = new_key.into();
            action["encryption_key"] = encryption_key.into();
            "member"
        }
        Needs::Record => {
            if e.record.trim().is_empty() {
                return Err(Problem::new("record", t.m("error-propose-record-empty")));
            }
            let record = MemberFile::read(e.record.trim())
                .map_err(|why| Problem::new("record", t.m("error-propose-record")).because(why))?;
            action["member"] = record.id().unwrap_or_default().into();
            action["public_key"] = record.public_key.into();
            action["country"] = record.country.into();
            "record"
        }
        Needs::Rules => {
            if e.rules.trim().is_empty() {
                return Err(Problem::new("rules", t.m("error-propose-rules-empty")));
            }
            action["rules"] = serde_json::from_str(&e.rules)
                .map_err(|why| Problem::new("rules", t.m("error-propose-rules")).because(why))?;
            "rules"
        }
    };
    let key = match field {
        "record" => "error-propose-record",
        "rules" => "error-propose-rules",
        "keys" => "error-propose-key",
        _ => "error-invalid",
    };
    serde_json::from_value(json!({"action": action, "sponsors": e.sponsors}))
        .map_err(|why| Problem::new(field, t.m(key)).because(why))
}

/// The field the node's refusal is about, when it says.
fn field_of(e: &GovernanceError, kind: ProposalKind) -> &'static str {
    let GovernanceError::Tabling(refused) = e else {
        return "";
    };
    match (refused, needs(kind)) {
        (
            TablingError::Sponsor(_) | TablingError::SelfSponsored | TablingError::Sponsors { .. },
            _,
        ) => "sponsors",
        (TablingError::ProposedRules(_), _) => "rules",
        (TablingError::Norm(_), _) => "norm",
        (TablingError::Texts(_), _) => "texts",
        (TablingError::Member { .. } | TablingError::Field(_), Needs::Record) => "record",
        (TablingError::Time(_), _) => "revoked_from",
        (TablingError::Field(_), Needs::Keys) => "new_key",
        (TablingError::Member { .. }, _) => "member",
        _ => "",
    }
}

/// A member the form offers.
struct Pick {
    id: String,
    name: String,
    chosen: bool,
}

#[derive(Template)]
#[template(path = "propose.html")]
struct ProposePage {
    ctx: Ctx,
    kind: &'static str,
    kinds: Vec<(&'static str, String)>,
    /// What the kind asks for.
    norm: bool,
    texts: bool,
    member: bool,
    record: bool,
    rules: bool,
    keys: bool,
    /// The sponsors the rules in force ask for.
    needed: u32,
    /// The members the kind may concern.
    members: Vec<Pick>,
    /// The members who may sponsor (the other active members).
    sponsors: Vec<Pick>,
    /// The norms in force, offered for an amendment or a repeal.
    norms: Vec<String>,
    entered: Entered,
    problem: Option<Problem>,
}

impl ProposePage {
    /// Whether `field` is the one at fault.
    fn invalid(&self, field: &str) -> bool {
        Problem::marks(self.problem.as_ref(), field)
    }

    /// How many sponsors the rules in force ask for.
    fn sponsors_needed(&self) -> usize {
        usize::try_from(self.needed).unwrap_or(usize::MAX)
    }

    /// Most characters a text may hold.
    fn max_text(&self) -> usize {
        MAX_TEXT
    }
}

/// The form for `kind`, holding `entered`, with `problem` when it was refused.
async fn page(
    state: &AppState,
    ctx: Ctx,
    kind: ProposalKind,
    members: &[Member],
    entered: Entered,
    problem: Option<Problem>,
    status: StatusCode,
) -> UiResult {
    let store = state.node.store();
    let rules = service::rules_in_force(store).await.speak(&ctx)?;
    let local = |m: &Member| m.record.local;
    let concerned = |m: &Member| match kind {
        ProposalKind::SuspendMember => m.status == MemberStatus::Active && !local(m),
        ProposalKind::ReinstateMember => m.status == MemberStatus::Suspended,
        _ => !local(m),
    };
    let pick = |m: &Member, chosen: bool| Pick {
        id: m.id.0.clone(),
        name: m.name().to_owned(),
        chosen,
    };
    let picked = members
        .iter()
        .filter(|m| concerned(m))
        .map(|m| pick(m, m.id.0 == entered.member.trim()))
        .collect();
    let sponsors = members
        .iter()
        .filter(|m| m.status == MemberStatus::Active && !local(m))
        .map(|m| pick(m, entered.sponsors.contains(&m.id.0)))
        .collect();
    let mut last: BTreeMap<String, bool> = BTreeMap::new();
    for n in service::norms(store).await.speak(&ctx)? {
        last.insert(n.norm, n.repealed);
    }
    let norms = last
        .into_iter()
        .filter(|(_, repealed)| !repealed)
        .map(|(norm, _)| norm)
        .collect();
    let kinds = ProposalKind::ALL
        .iter()
        .map(|k| (k.as_str(), ctx.t.named("proposal-kind", k.as_str())))
        .collect();
    let needs = needs(kind);
    let page = ProposePage {
        kind: kind.as_str(),
        kinds,
        norm: matches!(needs, Needs::Norm { .. }),
        texts: matches!(needs, Needs::Norm { texts: true } | Needs::Texts),
        member: matches!(needs, Needs::Member | Needs::Keys),
        record: needs == Needs::Record,
        rules: needs == Needs::Rules,
        keys: needs == Needs::Keys,
        needed: rules.for_kind(kind).sponsors,
        members: picked,
        sponsors,
        norms,
        entered,
        problem,
        ctx: ctx.clone(),
    };
    Ok((status, Html(page.render().speak(&ctx)?)).into_response())
}

async fn directory(state: &AppState, ctx: &Ctx) -> Result<Vec<Member>, super::Failure> {
    Directory::new(state.node.store())
        .members()
        .await
        .map_err(registry_error)
        .speak(ctx)
}

#[derive(Deserialize)]
pub(super) struct KindQuery {
    kind: Option<String>,
}

/// GET `/governance/propose[?kind=K]`: the form for a proposal of kind K (the adoption of a
/// norm by default); a change of the rules starts from the rules in force.
pub(super) async fn form(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    Query(q): Query<KindQuery>,
) -> UiResult {
    admin(&caller).speak(&ctx)?;
    let kind = match q.kind.as_deref() {
        None => FIRST,
        Some(k) => kind_of(k)
            .ok_or_else(|| UiError::new(StatusCode::BAD_REQUEST, "error-invalid"))
            .speak(&ctx)?,
    };
    let mut entered = Entered::blank(&ctx);
    if kind == ProposalKind::ChangeRules {
        let rules = service::rules_in_force(state.node.store())
            .await
            .speak(&ctx)?;
        entered.rules = serde_json::to_string_pretty(&rules)
            .map_err(|_| UiError::new(StatusCode::INTERNAL_SERVER_ERROR, "error-internal"))
            .speak(&ctx)?;
    }
    let members = directory(&state, &ctx).await?;
    page(&state, ctx, kind, &members, entered, None, StatusCode::OK).await
}

/// POST `/governance/propose`: tables the proposal through the node's workflow (admins
/// only, as the API) and opens its page; a refusal shows the form again.
pub(super) async fn propose(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> UiResult {
    admin(&caller).speak(&ctx)?;
    let invalid = || UiError::new(StatusCode::BAD_REQUEST, "error-invalid");
    let Form(form) = form.map_err(|_| invalid()).speak(&ctx)?;
    let kind = form
        .iter()
        .find(|(k, _)| k == "kind")
        .and_then(|(_, v)| kind_of(v))
        .ok_or_else(invalid)
        .speak(&ctx)?;
    let entered = Entered::read(&ctx, &form);
    let members = directory(&state, &ctx).await?;
    let new = match proposal(kind, &entered, &members, &ctx.t) {
        Ok(new) => new,
        Err(problem) => {
            let status = StatusCode::BAD_REQUEST;
            return page(&state, ctx, kind, &members, entered, Some(problem), status).await;
        }
    };
    match service::propose(&state.node, new, now_us()).await {
        Ok(made) => {
            state.node.outbox_ready();
            let to = format!("/governance/proposals/{}", made.proposal.id);
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            let field = field_of(&e, kind);
            let e = ApiError::from(e);
            if !e.status().is_client_error() {
                return Err(UiError::from(e)).speak(&ctx);
            }
            let problem =
                Problem::new(field, ctx.t.m("error-propose-refused")).because(e.description());
            page(
                &state,
                ctx,
                kind,
                &members,
                entered,
                Some(problem),
                e.status(),
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_the_form_takes_fits_the_form_and_the_api_body() {
        // Three UTF-8 bytes a character, each written %XX in the form, six languages.
        assert!(LANGUAGES.len() * MAX_TEXT * 3 * 3 + 32 * 1024 <= MAX_FORM);
        // As JSON (three bytes a character at most), within the API's body.
        assert!(LANGUAGES.len() * MAX_TEXT * 3 + 16 * 1024 <= crate::governance::MAX_BODY);
    }

    #[test]
    fn each_kind_asks_for_its_own_fields() {
        assert!(ProposalKind::ALL
            .iter()
            .all(|k| kind_of(k.as_str()) == Some(*k)));
        assert_eq!(kind_of("adopt-norm"), None);
        assert_eq!(
            needs(ProposalKind::RepealNorm),
            Needs::Norm { texts: false }
        );
        assert_eq!(needs(ProposalKind::AdmitMember), Needs::Record);
        assert_eq!(needs(ProposalKind::ExpelMember), Needs::Member);
    }

    fn ctx() -> Ctx {
        Ctx::anonymous(Translator::new("en"), PATH.into())
    }

    fn entered(pairs: &[(&str, &str)]) -> Entered {
        let form: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Entered::read(&ctx(), &form)
    }

    #[test]
    fn a_norm_reads_into_the_apis_form() {
        let t = Translator::new("en");
        let e = entered(&[
            ("norm", " gge-13f "),
            ("text-en", " Do no harm. "),
            ("text-ar", "لا ضرر"),
            ("text-fr", "  "),
        ]);
        let new = proposal(ProposalKind::AdoptNorm, &e, &[], &t).unwrap();
        let as_api: NewProposal = serde_json::from_value(json!({"action": {
            "kind": "adopt_norm", "norm": "gge-13f",
            "texts": {"en": "Do no harm.", "ar": "لا ضرر"}}}))
        .unwrap();
        assert_eq!(new.action, as_api.action);
        assert!(new.sponsors.is_empty());
        let repeal = proposal(ProposalKind::RepealNorm, &e, &[], &t).unwrap();
        assert_eq!(
            serde_json::to_value(&repeal.action).unwrap(),
            json!({"kind": "repeal_norm", "norm": "gge-13f"})
        );
    }

    #[test]
    fn what_is_missing_or_too_long_is_named_with_its_field() {
        let t = Translator::new("en");
        let refused = |kind, pairs: &[(&str, &str)]| {
            let p = proposal(kind, &entered(pairs), &[], &t).err().unwrap();
            (p.field, p.message, p.detail)
        };
        let (field, message, _) = refused(ProposalKind::AdoptNorm, &[("text-en", "x")]);
        assert_eq!(field, "norm");
        assert!(message.contains("norm"), "{message}");
        let (field, _, _) = refused(ProposalKind::JointStatement, &[("text-fr", " ")]);
        assert_eq!(field, "text-en", "the viewer's language first");
        let long = "é".repeat(MAX_TEXT + 1);
        let p = proposal(
            ProposalKind::JointStatement,
            &entered(&[("text-ru", &long)]),
            &[],
            &t,
        )
        .err()
        .unwrap();
        assert_eq!(
            (p.field.as_str(), p.about.as_deref()),
            ("text-ru", Some("Русский"))
        );
        assert!(p.message.contains("6000"), "{}", p.message);
        let exact = "é".repeat(MAX_TEXT);
        assert!(proposal(
            ProposalKind::JointStatement,
            &entered(&[("text-ru", &exact)]),
            &[],
            &t
        )
        .is_ok());
        let (field, _, _) = refused(ProposalKind::ExpelMember, &[("member", "identity--x")]);
        assert_eq!(field, "member");
        let (field, _, detail) = refused(ProposalKind::AdmitMember, &[("record", "{}")]);
        assert_eq!(field, "record");
        assert!(detail.unwrap().contains("not a member record file"));
        let (field, _, detail) =
            refused(ProposalKind::ChangeRules, &[("rules", "{\"quorum\": 1}")]);
        assert_eq!(field, "rules");
        assert!(detail.is_some());
        let (field, _, _) = refused(
            ProposalKind::JointStatement,
            &[("text-en", "x"), ("sponsor", "identity--nobody")],
        );
        assert_eq!(field, "sponsors");
    }
}
