//! What members may propose, and tabling: a proposal is tabled by an active member with the
//! sponsors its kind needs, against the member set and the rules in force at that moment,
//! which it carries with it so that it is decided by them whatever changes later. Pure:
//! the caller gives the time, the member set and the rules; nothing is stored here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::electorate::Electorate;
use super::rules::{Rules, RulesError};
use super::timestamp;
use crate::federation::seal::EncryptionKey;
use crate::identity::rotation::{Decision, MAX_AHEAD_US};
use crate::identity::PublicKey;
use crate::policy::MemberStatus;

/// The kinds of proposal, as the rules name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalKind {
    /// Admit a new member.
    AdmitMember,
    /// Suspend a member.
    SuspendMember,
    /// Reinstate a suspended member.
    ReinstateMember,
    /// Expel a member.
    ExpelMember,
    /// Adopt a norm.
    AdoptNorm,
    /// Amend an adopted norm.
    AmendNorm,
    /// Repeal an adopted norm.
    RepealNorm,
    /// Change the rules.
    ChangeRules,
    /// Adopt a joint statement.
    JointStatement,
    /// Revoke a member's keys and pin the one it supplied out of band.
    RevokeMemberKey,
}

impl ProposalKind {
    /// Every kind.
    pub const ALL: [ProposalKind; 10] = [
        ProposalKind::AdmitMember,
        ProposalKind::SuspendMember,
        ProposalKind::ReinstateMember,
        ProposalKind::ExpelMember,
        ProposalKind::AdoptNorm,
        ProposalKind::AmendNorm,
        ProposalKind::RepealNorm,
        ProposalKind::ChangeRules,
        ProposalKind::JointStatement,
        ProposalKind::RevokeMemberKey,
    ];

    /// The kind as written.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProposalKind::AdmitMember => "admit_member",
            ProposalKind::SuspendMember => "suspend_member",
            ProposalKind::ReinstateMember => "reinstate_member",
            ProposalKind::ExpelMember => "expel_member",
            ProposalKind::AdoptNorm => "adopt_norm",
            ProposalKind::AmendNorm => "amend_norm",
            ProposalKind::RepealNorm => "repeal_norm",
            ProposalKind::ChangeRules => "change_rules",
            ProposalKind::JointStatement => "joint_statement",
            ProposalKind::RevokeMemberKey => "revoke_member_key",
        }
    }
}

impl fmt::Display for ProposalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Texts by language (BCP 47 tag → text), e.g. `{"en": "…", "fr": "…"}`.
pub type Texts = BTreeMap<String, String>;

/// What a proposal would do, with what it needs to do it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Admit a member: its id (its STIX identity's), its node's key and its country.
    AdmitMember {
        /// Its member id, `identity--…`.
        member: String,
        /// Its node's public key, `ed25519:…`.
        #[serde(with = "as_text")]
        public_key: PublicKey,
        /// ISO 3166-1 alpha-2 country code.
        country: String,
    },
    /// Suspend an active member.
    SuspendMember {
        /// Its member id.
        member: String,
    },
    /// Reinstate a suspended member.
    ReinstateMember {
        /// Its member id.
        member: String,
    },
    /// Expel a member.
    ExpelMember {
        /// Its member id.
        member: String,
    },
    /// Adopt a norm under a new id.
    AdoptNorm {
        /// The norm's id.
        norm: String,
        /// Its text in each language.
        texts: Texts,
    },
    /// Replace an adopted norm's texts.
    AmendNorm {
        /// The norm's id.
        norm: String,
        /// Its new text in each language.
        texts: Texts,
    },
    /// Repeal an adopted norm.
    RepealNorm {
        /// The norm's id.
        norm: String,
    },
    /// Replace the rules.
    ChangeRules {
        /// The new rules.
        rules: Rules,
    },
    /// Adopt a joint statement (signed, once adopted, by the members who voted yes).
    JointStatement {
        /// Its text in each language.
        texts: Texts,
    },
    /// Revoke every key of a member used from a time on (when a thief of its key rotated
    /// first, so that the member can sign nothing its peers accept) and pin the key it
    /// supplied out of band ([`crate::identity::rotation::replace`]).
    RevokeMemberKey {
        /// Its member id.
        member: String,
        /// From when its keys are revoked: when the compromise began (RFC 3339 in JSON).
        #[serde(with = "timestamp")]
        revoked_from: i64,
        /// The identity key to pin, `ed25519:…`.
        #[serde(with = "as_text")]
        new_key: PublicKey,
        /// The encryption key that goes with it, `x25519:…`.
        #[serde(with = "as_text")]
        encryption_key: EncryptionKey,
    },
}

impl Action {
    /// Its kind.
    pub fn kind(&self) -> ProposalKind {
        match self {
            Action::AdmitMember { .. } => ProposalKind::AdmitMember,
            Action::SuspendMember { .. } => ProposalKind::SuspendMember,
            Action::ReinstateMember { .. } => ProposalKind::ReinstateMember,
            Action::ExpelMember { .. } => ProposalKind::ExpelMember,
            Action::AdoptNorm { .. } => ProposalKind::AdoptNorm,
            Action::AmendNorm { .. } => ProposalKind::AmendNorm,
            Action::RepealNorm { .. } => ProposalKind::RepealNorm,
            Action::ChangeRules { .. } => ProposalKind::ChangeRules,
            Action::JointStatement { .. } => ProposalKind::JointStatement,
            Action::RevokeMemberKey { .. } => ProposalKind::RevokeMemberKey,
        }
    }

    /// What a key revocation decides, as proposal `proposal`: the member and the decision.
    pub fn key_decision(&self, proposal: &str) -> Option<(&str, Decision)> {
        let Action::RevokeMemberKey {
            member,
            revoked_from,
            new_key,
            encryption_key,
        } = self
        else {
            return None;
        };
        let decision = Decision {
            proposal: proposal.to_owned(),
            new_key: new_key.to_string(),
            encryption_key: encryption_key.to_string(),
            revoked_from: *revoked_from,
        };
        Some((member, decision))
    }
}

/// A value written as its text in JSON (a key).
mod as_text {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A proposal as tabled: it carries the rules in force at that moment, by which it is
/// decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// Its id, `proposal--<UUID>`.
    pub id: String,
    /// What it would do.
    pub action: Action,
    /// The member that tabled it.
    pub proposer: String,
    /// The members that sponsor it, besides the proposer.
    pub sponsors: BTreeSet<String>,
    /// When it was tabled, microseconds since the epoch (RFC 3339 in JSON).
    #[serde(with = "timestamp")]
    pub tabled_at: i64,
    /// The rules in force when it was tabled.
    pub rules: Rules,
}

/// A proposal before it is tabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Motion {
    /// Its id, `proposal--<UUID>`.
    pub id: String,
    /// What it would do.
    pub action: Action,
    /// The member tabling it.
    pub proposer: String,
    /// The members sponsoring it, besides the proposer.
    pub sponsors: BTreeSet<String>,
}

/// Why a proposal could not be tabled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TablingError {
    /// The id is not `proposal--<UUID>`.
    #[error("a proposal id is proposal--<UUID>, not {0:?}")]
    Id(String),
    /// The proposer is not an active member.
    #[error("{0} is not an active member and cannot table a proposal")]
    Proposer(String),
    /// A sponsor is not an active member.
    #[error("sponsor {0} is not an active member")]
    Sponsor(String),
    /// The proposer listed itself as a sponsor.
    #[error("the proposer cannot sponsor its own proposal")]
    SelfSponsored,
    /// Too few sponsors.
    #[error("{kind} proposals need {needed} sponsors besides the proposer; this one has {given}")]
    Sponsors {
        /// Its kind.
        kind: ProposalKind,
        /// How many the rules in force ask for.
        needed: u32,
        /// How many it has.
        given: u32,
    },
    /// The rules in force are not valid.
    #[error("the rules in force are not valid: {0}")]
    RulesInForce(RulesError),
    /// A rule change proposes rules that are not valid.
    #[error("the proposed rules are not valid: {0}")]
    ProposedRules(RulesError),
    /// The member it would act on cannot be acted on so.
    #[error("{kind}: member {member} {why}")]
    Member {
        /// Its kind.
        kind: ProposalKind,
        /// The member.
        member: String,
        /// Why not.
        why: &'static str,
    },
    /// A norm id is malformed.
    #[error("{0}")]
    Norm(String),
    /// A text (or its language tag) is empty or malformed, or there is none.
    #[error("{0}")]
    Texts(String),
    /// Another field is empty or malformed.
    #[error("{0}")]
    Field(String),
    /// A time is out of its bounds.
    #[error("{0}")]
    Time(String),
}

impl Motion {
    /// Tables the motion at `at` (microseconds since the epoch) under `rules`, the rules in
    /// force, against `electorate`, the member set at that moment: its proposer and
    /// sponsors must be active members, as many sponsors as its kind needs, and what it
    /// would do must make sense against that set.
    pub fn table(
        self,
        at: i64,
        rules: &Rules,
        electorate: &Electorate,
    ) -> Result<Proposal, TablingError> {
        rules.validate().map_err(TablingError::RulesInForce)?;
        let valid_id = self
            .id
            .strip_prefix("proposal--")
            .is_some_and(|u| uuid::Uuid::try_parse(u).is_ok());
        if !valid_id {
            return Err(TablingError::Id(self.id));
        }
        if !electorate.is_active(&self.proposer) {
            return Err(TablingError::Proposer(self.proposer));
        }
        if self.sponsors.contains(&self.proposer) {
            return Err(TablingError::SelfSponsored);
        }
        if let Some(s) = self.sponsors.iter().find(|s| !electorate.is_active(s)) {
            return Err(TablingError::Sponsor(s.clone()));
        }
        let kind = self.action.kind();
        let needed = rules.for_kind(kind).sponsors;
        let given = u32::try_from(self.sponsors.len()).unwrap_or(u32::MAX);
        if given < needed {
            return Err(TablingError::Sponsors {
                kind,
                needed,
                given,
            });
        }
        check_action(&self.action, at, electorate)?;
        Ok(Proposal {
            id: self.id,
            action: self.action,
            proposer: self.proposer,
            sponsors: self.sponsors,
            tabled_at: at,
            rules: rules.clone(),
        })
    }
}

fn check_action(action: &Action, at: i64, electorate: &Electorate) -> Result<(), TablingError> {
    let kind = action.kind();
    let member_error = |member: &str, why| {
        Err(TablingError::Member {
            kind,
            member: member.to_owned(),
            why,
        })
    };
    match action {
        Action::AdmitMember {
            member, country, ..
        } => {
            if !member.starts_with("identity--") {
                return Err(TablingError::Field(format!(
                    "a member id is identity--<UUID>, not {member:?}"
                )));
            }
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(TablingError::Field(format!(
                    "a country is an ISO 3166-1 alpha-2 code such as FR, not {country:?}"
                )));
            }
            if electorate.get(member).is_some() {
                return member_error(member, "is a member already");
            }
        }
        Action::SuspendMember { member } => {
            if !electorate.is_active(member) {
                return member_error(member, "is not an active member");
            }
        }
        Action::ReinstateMember { member } => {
            if electorate.get(member).map(|e| e.status) != Some(MemberStatus::Suspended) {
                return member_error(member, "is not a suspended member");
            }
        }
        Action::ExpelMember { member } => {
            if electorate.get(member).is_none() {
                return member_error(member, "is not a member");
            }
        }
        Action::AdoptNorm { norm, texts } | Action::AmendNorm { norm, texts } => {
            check_norm(norm)?;
            check_texts(texts)?;
        }
        Action::RepealNorm { norm } => check_norm(norm)?,
        Action::ChangeRules { rules } => rules.validate().map_err(TablingError::ProposedRules)?,
        Action::JointStatement { texts } => check_texts(texts)?,
        Action::RevokeMemberKey {
            member,
            revoked_from,
            new_key,
            ..
        } => {
            let Some(elector) = electorate.get(member) else {
                return member_error(member, "is not a member");
            };
            if elector.key == *new_key {
                return Err(TablingError::Field(format!(
                    "the key {new_key} is the one pinned for {member}, which is revoked: the \
                     member supplies a new one"
                )));
            }
            if let Some((holder, _)) = electorate.members().find(|(_, e)| e.key == *new_key) {
                return Err(TablingError::Field(format!(
                    "the key {new_key} is pinned already for member {holder}: one key is one member"
                )));
            }
            if *revoked_from > at + MAX_AHEAD_US {
                return Err(TablingError::Time(format!(
                    "the keys are revoked from {}, in the future of the tabling time {}: they \
                     are revoked from when the compromise began",
                    comity_stix::clock::format_us(*revoked_from),
                    comity_stix::clock::format_us(at)
                )));
            }
        }
    }
    Ok(())
}

fn non_empty(what: &str, text: &str) -> Result<(), TablingError> {
    if text.trim().is_empty() {
        return Err(TablingError::Field(format!("{what} cannot be empty")));
    }
    Ok(())
}

/// A control character other than a line break or a tab, or a bidirectional override:
/// either would forge lines in listings or reverse what a person reads.
fn hostile(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}')
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `what`, 1 to `max` ASCII letters, digits, `.`, `_` or `-` (a norm id, a language tag).
fn check_name(what: &str, name: &str, max: usize) -> Result<(), TablingError> {
    let fits = (1..=max).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !fits {
        return Err(TablingError::Field(format!(
            "{what} is 1 to {max} ASCII letters, digits, '.', '_' or '-', not {name:?}"
        )));
    }
    Ok(())
}

pub(super) fn check_norm(norm: &str) -> Result<(), TablingError> {
    check_name("a norm id", norm, 64).map_err(|e| TablingError::Norm(e.to_string()))
}

pub(super) fn check_texts(texts: &Texts) -> Result<(), TablingError> {
    let about_texts = |e: TablingError| TablingError::Texts(e.to_string());
    if texts.is_empty() {
        return Err(TablingError::Texts(
            "a text in at least one language is needed".into(),
        ));
    }
    for (language, text) in texts {
        check_name("a language tag", language, 35).map_err(about_texts)?;
        non_empty(&format!("the {language} text"), text).map_err(about_texts)?;
        if let Some(c) = text.chars().find(|c| hostile(*c)) {
            return Err(TablingError::Texts(format!(
                "the {language} text holds the control or direction character U+{:04X}",
                u32::from(c)
            )));
        }
    }
    Ok(())
}

impl Proposal {
    /// Its kind.
    pub fn kind(&self) -> ProposalKind {
        self.action.kind()
    }

    /// When voting opens: the end of the voting delay.
    pub fn voting_starts(&self) -> i64 {
        self.tabled_at + self.rules.voting_delay_seconds * 1_000_000
    }

    /// The deadline: a ballot signed at or after it is late.
    pub fn deadline(&self) -> i64 {
        self.voting_starts() + self.rules.voting_period_seconds * 1_000_000
    }

    /// Until when a succeeded proposal may be executed.
    pub fn execution_ends(&self) -> i64 {
        self.deadline() + self.rules.execution_window_seconds * 1_000_000
    }
}
