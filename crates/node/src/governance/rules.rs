//! The rules a federation decides by: how long a proposal waits before voting opens and how
//! long voting lasts, the quorum, the majority and the sponsors each kind of proposal
//! needs, and what abstentions count toward. Shares are exact fractions ([`Ratio`]): no
//! floating point enters a decision. This module only states and checks the rules; it
//! never counts ballots ([`super::tally`] does).
//!
//! The JSON form, as a genesis document or a rule change carries it:
//!
//! ```json
//! {
//!   "voting_delay_seconds": 86400,
//!   "voting_period_seconds": 604800,
//!   "execution_window_seconds": 604800,
//!   "quorum": "1/2",
//!   "abstentions_count_toward_quorum": true,
//!   "kinds": {
//!     "admit_member": {"majority": "2/3", "sponsors": 2},
//!     "suspend_member": {"majority": "1/2", "sponsors": 0},
//!     "…": "one entry for every kind of proposal"
//!   }
//! }
//! ```
//!
//! A majority is met when the yes ballots are more than the no ballots and at least the
//! rule's share of the yes and no ballots together: `1/2` is a simple majority (more yes
//! than no), `2/3` is two thirds of those voting yes or no. Abstentions never count toward
//! the majority. The quorum is met when the ballots that count toward it (yes and no, and
//! abstentions unless the rules say otherwise) are at least its share of the members who
//! were active when the proposal was tabled.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::proposal::ProposalKind;

/// The longest voting delay, voting period or execution window: a year.
pub const MAX_SECONDS: i64 = 366 * 86_400;
/// The shortest voting period: a minute.
pub const MIN_VOTING_PERIOD_SECONDS: i64 = 60;

/// The kinds of proposal added after rules were first written down: rules that say nothing
/// of them (decided or founded before) stay valid, and those kinds take their default
/// ([`Rules::for_kind`]).
const ADDED_LATER: [ProposalKind; 1] = [ProposalKind::RevokeMemberKey];

/// An exact share, `numerator/denominator`, written as that text in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ratio {
    numerator: u32,
    denominator: u32,
}

/// Why a share could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatioError {
    /// Not two whole numbers separated by `/`.
    #[error("a share is written numerator/denominator, e.g. 2/3, not {0:?}")]
    Malformed(String),
    /// A zero denominator.
    #[error("a share's denominator cannot be 0")]
    ZeroDenominator,
}

impl Ratio {
    /// One half: a simple majority.
    pub const HALF: Ratio = Ratio {
        numerator: 1,
        denominator: 2,
    };
    /// Two thirds.
    pub const TWO_THIRDS: Ratio = Ratio {
        numerator: 2,
        denominator: 3,
    };

    /// The share `numerator/denominator`; refused when the denominator is 0.
    pub fn new(numerator: u32, denominator: u32) -> Result<Ratio, RatioError> {
        if denominator == 0 {
            return Err(RatioError::ZeroDenominator);
        }
        Ok(Ratio {
            numerator,
            denominator,
        })
    }

    /// Its numerator.
    pub fn numerator(self) -> u32 {
        self.numerator
    }

    /// Its denominator.
    pub fn denominator(self) -> u32 {
        self.denominator
    }

    /// Whether `part` is at least this share of `whole`.
    pub fn reached(self, part: u32, whole: u32) -> bool {
        u64::from(part) * u64::from(self.denominator)
            >= u64::from(self.numerator) * u64::from(whole)
    }

    /// The smallest count that is at least this share of `whole`.
    pub fn needed(self, whole: u32) -> u32 {
        let product = u64::from(self.numerator) * u64::from(whole);
        let needed = product.div_ceil(u64::from(self.denominator));
        u32::try_from(needed).unwrap_or(u32::MAX)
    }

    /// Compares two shares exactly.
    fn cmp_share(self, other: Ratio) -> std::cmp::Ordering {
        (u64::from(self.numerator) * u64::from(other.denominator))
            .cmp(&(u64::from(other.numerator) * u64::from(self.denominator)))
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

impl FromStr for Ratio {
    type Err = RatioError;
    fn from_str(s: &str) -> Result<Ratio, RatioError> {
        let malformed = || RatioError::Malformed(s.to_owned());
        let (n, d) = s.split_once('/').ok_or_else(malformed)?;
        let whole = |t: &str| {
            (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse::<u32>().ok())
                .flatten()
        };
        Ratio::new(
            whole(n).ok_or_else(malformed)?,
            whole(d).ok_or_else(malformed)?,
        )
    }
}

impl TryFrom<String> for Ratio {
    type Error = RatioError;
    fn try_from(s: String) -> Result<Ratio, RatioError> {
        s.parse()
    }
}

impl From<Ratio> for String {
    fn from(r: Ratio) -> String {
        r.to_string()
    }
}

/// What one kind of proposal needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRules {
    /// The share of the yes and no ballots that must be yes.
    pub majority: Ratio,
    /// How many active members besides the proposer must sponsor it to table it.
    pub sponsors: u32,
}

/// The rules in force. Rules read from JSON are valid ([`Rules::validate`]); rules built
/// in code are checked when a proposal is tabled under them or proposes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RulesText")]
pub struct Rules {
    /// How long after tabling voting opens (the proposal is pending meanwhile, and its
    /// proposer may cancel it).
    pub voting_delay_seconds: i64,
    /// How long voting lasts.
    pub voting_period_seconds: i64,
    /// How long after the deadline a succeeded proposal may still be executed before it
    /// expires (OpenZeppelin's grace period).
    pub execution_window_seconds: i64,
    /// The share of the members active at tabling whose ballots must count toward quorum.
    pub quorum: Ratio,
    /// Whether abstentions count toward quorum (they never count toward the majority).
    pub abstentions_count_toward_quorum: bool,
    /// What each kind of proposal needs; every kind has an entry.
    pub kinds: BTreeMap<ProposalKind, KindRules>,
}

/// Rules as read from JSON, before they are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesText {
    voting_delay_seconds: i64,
    voting_period_seconds: i64,
    execution_window_seconds: i64,
    quorum: Ratio,
    abstentions_count_toward_quorum: bool,
    kinds: BTreeMap<ProposalKind, KindRules>,
}

impl TryFrom<RulesText> for Rules {
    type Error = RulesError;
    fn try_from(t: RulesText) -> Result<Rules, RulesError> {
        let rules = Rules {
            voting_delay_seconds: t.voting_delay_seconds,
            voting_period_seconds: t.voting_period_seconds,
            execution_window_seconds: t.execution_window_seconds,
            quorum: t.quorum,
            abstentions_count_toward_quorum: t.abstentions_count_toward_quorum,
            kinds: t.kinds,
        };
        rules.validate()?;
        Ok(rules)
    }
}

/// Why rules are not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// The quorum is 0 or more than 1.
    #[error("the quorum must be more than 0 and at most 1, not {0}")]
    Quorum(Ratio),
    /// A majority below one half or above 1.
    #[error("the majority for {kind} must be at least 1/2 and at most 1, not {majority}")]
    Majority {
        /// The kind of proposal.
        kind: ProposalKind,
        /// Its majority.
        majority: Ratio,
    },
    /// A kind of proposal the rules say nothing about.
    #[error("the rules say nothing about {0} proposals")]
    MissingKind(ProposalKind),
    /// A duration out of its bounds.
    #[error("{what} must be between {min} and {max} seconds, not {seconds}")]
    Duration {
        /// Which duration.
        what: &'static str,
        /// Its value.
        seconds: i64,
        /// The least it may be.
        min: i64,
        /// The most it may be.
        max: i64,
    },
}

impl Rules {
    /// Checks the rules; the first fault found is returned.
    pub fn validate(&self) -> Result<(), RulesError> {
        let durations = [
            ("the voting delay", self.voting_delay_seconds, 0),
            (
                "the voting period",
                self.voting_period_seconds,
                MIN_VOTING_PERIOD_SECONDS,
            ),
            ("the execution window", self.execution_window_seconds, 0),
        ];
        for (what, seconds, min) in durations {
            if !(min..=MAX_SECONDS).contains(&seconds) {
                return Err(RulesError::Duration {
                    what,
                    seconds,
                    min,
                    max: MAX_SECONDS,
                });
            }
        }
        let one = Ratio::new(1, 1).expect("1/1 is a share");
        let quorum = self.quorum;
        if quorum.numerator == 0 || quorum.cmp_share(one).is_gt() {
            return Err(RulesError::Quorum(quorum));
        }
        for kind in ProposalKind::ALL {
            let Some(rules) = self.kinds.get(&kind) else {
                if ADDED_LATER.contains(&kind) {
                    continue;
                }
                return Err(RulesError::MissingKind(kind));
            };
            let majority = rules.majority;
            if majority.cmp_share(Ratio::HALF).is_lt() || majority.cmp_share(one).is_gt() {
                return Err(RulesError::Majority { kind, majority });
            }
        }
        Ok(())
    }

    /// What proposals of `kind` need. Valid rules name every kind; for rules built in code
    /// that lack it (which [`Rules::validate`] refuses), the default of [`Rules::default`].
    pub fn for_kind(&self, kind: ProposalKind) -> KindRules {
        self.kinds
            .get(&kind)
            .copied()
            .unwrap_or_else(|| default_kind_rules(kind))
    }

    /// Hex SHA-256 of the rules' canonical JSON: how proposals and outcomes name them.
    pub fn digest(&self) -> String {
        let value = serde_json::to_value(self).expect("rules are JSON");
        hex::encode(Sha256::digest(
            comity_stix::canonical_json(&value).as_bytes(),
        ))
    }
}

fn default_kind_rules(kind: ProposalKind) -> KindRules {
    match kind {
        ProposalKind::AdmitMember => KindRules {
            majority: Ratio::TWO_THIRDS,
            sponsors: 2,
        },
        ProposalKind::ExpelMember | ProposalKind::ChangeRules | ProposalKind::RevokeMemberKey => {
            KindRules {
                majority: Ratio::TWO_THIRDS,
                sponsors: 0,
            }
        }
        _ => KindRules {
            majority: Ratio::HALF,
            sponsors: 0,
        },
    }
}

impl Default for Rules {
    /// A week's delay before voting, a week of voting, a week to execute, a quorum of half
    /// the members with abstentions counting toward it, two thirds to admit or expel a
    /// member, revoke a member's keys or change the rules (admission sponsored by two
    /// members), a simple majority otherwise.
    fn default() -> Rules {
        const WEEK: i64 = 7 * 86_400;
        Rules {
            voting_delay_seconds: WEEK,
            voting_period_seconds: WEEK,
            execution_window_seconds: WEEK,
            quorum: Ratio::HALF,
            abstentions_count_toward_quorum: true,
            kinds: ProposalKind::ALL
                .into_iter()
                .map(|k| (k, default_kind_rules(k)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ratio(s: &str) -> Ratio {
        s.parse().unwrap()
    }

    #[test]
    fn shares_read_and_compare_exactly() {
        assert_eq!(ratio("2/3").to_string(), "2/3");
        for bad in ["", "2", "2/", "/3", "-1/2", "1.5/2", " 1/2", "1/2/3"] {
            assert!(
                matches!(bad.parse::<Ratio>(), Err(RatioError::Malformed(_))),
                "{bad}"
            );
        }
        assert_eq!("1/0".parse::<Ratio>(), Err(RatioError::ZeroDenominator));
        // 2/3 of 193 is 128.67: 129 reach it, 128 do not.
        assert!(Ratio::TWO_THIRDS.reached(129, 193));
        assert!(!Ratio::TWO_THIRDS.reached(128, 193));
        assert_eq!(Ratio::TWO_THIRDS.needed(193), 129);
        assert_eq!(Ratio::HALF.needed(10), 5);
        assert_eq!(Ratio::HALF.needed(0), 0);
    }

    #[test]
    fn the_default_rules_are_valid_and_read_back_from_json() {
        let rules = Rules::default();
        rules.validate().unwrap();
        let text = serde_json::to_string(&rules).unwrap();
        let back: Rules = serde_json::from_str(&text).unwrap();
        assert_eq!(back, rules);
        assert_eq!(back.digest(), rules.digest());
        let admit = rules.for_kind(ProposalKind::AdmitMember);
        assert_eq!((admit.majority, admit.sponsors), (Ratio::TWO_THIRDS, 2));
        assert_eq!(
            rules.for_kind(ProposalKind::AdoptNorm).majority,
            Ratio::HALF
        );
        let value = serde_json::to_value(&rules).unwrap();
        assert_eq!(value["quorum"], json!("1/2"));
        assert_eq!(
            value["kinds"]["change_rules"],
            json!({"majority": "2/3", "sponsors": 0})
        );
    }

    #[test]
    fn invalid_rules_are_refused_with_the_fault() {
        let base = Rules::default();
        let check = |edit: &dyn Fn(&mut Rules)| {
            let mut r = base.clone();
            edit(&mut r);
            r.validate().unwrap_err().to_string()
        };
        assert_eq!(
            check(&|r| r.quorum = ratio("0/5")),
            "the quorum must be more than 0 and at most 1, not 0/5"
        );
        assert_eq!(
            check(&|r| r.quorum = ratio("4/3")),
            "the quorum must be more than 0 and at most 1, not 4/3"
        );
        assert!(Rules {
            quorum: ratio("3/3"),
            ..base.clone()
        }
        .validate()
        .is_ok());
        assert_eq!(
            check(&|r| r
                .kinds
                .get_mut(&ProposalKind::ExpelMember)
                .unwrap()
                .majority = ratio("49/100")),
            "the majority for expel_member must be at least 1/2 and at most 1, not 49/100"
        );
        assert_eq!(
            check(&|r| r.kinds.get_mut(&ProposalKind::AdoptNorm).unwrap().majority = ratio("5/4")),
            "the majority for adopt_norm must be at least 1/2 and at most 1, not 5/4"
        );
        assert_eq!(
            check(&|r| {
                r.kinds.remove(&ProposalKind::JointStatement);
            }),
            "the rules say nothing about joint_statement proposals"
        );
        assert_eq!(
            check(&|r| r.voting_period_seconds = 59),
            "the voting period must be between 60 and 31622400 seconds, not 59"
        );
        assert_eq!(
            check(&|r| r.voting_delay_seconds = -1),
            "the voting delay must be between 0 and 31622400 seconds, not -1"
        );
    }

    #[test]
    fn rules_written_before_a_kind_existed_stay_valid_and_give_it_its_default() {
        let mut value = serde_json::to_value(Rules::default()).unwrap();
        value["kinds"]
            .as_object_mut()
            .unwrap()
            .remove("revoke_member_key");
        let before: Rules = serde_json::from_value(value.clone()).unwrap();
        let revoke = before.for_kind(ProposalKind::RevokeMemberKey);
        assert_eq!((revoke.majority, revoke.sponsors), (Ratio::TWO_THIRDS, 0));
        // Read back as written: the digest proposals name the rules by is unchanged.
        assert_eq!(serde_json::to_value(&before).unwrap(), value);
        let mut weak = before.clone();
        weak.kinds.insert(
            ProposalKind::RevokeMemberKey,
            KindRules {
                majority: ratio("1/3"),
                sponsors: 0,
            },
        );
        assert_eq!(
            weak.validate().unwrap_err().to_string(),
            "the majority for revoke_member_key must be at least 1/2 and at most 1, not 1/3"
        );
    }

    #[test]
    fn unknown_members_and_kinds_in_json_are_refused() {
        let mut value = serde_json::to_value(Rules::default()).unwrap();
        value["quorum_percent"] = json!(50);
        assert!(serde_json::from_value::<Rules>(value.clone()).is_err());
        value.as_object_mut().unwrap().remove("quorum_percent");
        value["kinds"]["declare_war"] = json!({"majority": "1/2", "sponsors": 0});
        assert!(serde_json::from_value::<Rules>(value.clone()).is_err());
        value["kinds"]
            .as_object_mut()
            .unwrap()
            .remove("declare_war");
        value["quorum"] = json!(0.5);
        assert!(serde_json::from_value::<Rules>(value.clone()).is_err());
        value["quorum"] = json!("0/2");
        let e = serde_json::from_value::<Rules>(value.clone()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the quorum must be more than 0 and at most 1, not 0/2"
        );
        value["quorum"] = json!("1/2");
        value["kinds"]
            .as_object_mut()
            .unwrap()
            .remove("repeal_norm");
        let e = serde_json::from_value::<Rules>(value).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the rules say nothing about repeal_norm proposals"
        );
    }
}
