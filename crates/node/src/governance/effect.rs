//! What a succeeded proposal changes, as the store applies it with its outcome: a version
//! of a norm, new rules, or a member's record (its standing, or its keys). Derived from the
//! proposal and what this node holds at the proposal's deadline, the logical point at which
//! every node applies it; the times written are the deadline's, so every node writes the
//! same facts.

use comity_stix::clock::format_us;
use comity_store::{Effect, NormVersion, RulesVersion, Store};
use serde_json::json;

use super::ballot::Choice;
use super::proposal::{Action, Proposal};
use super::service::GovernanceError;
use super::tally::Outcome;
use crate::identity::rotation::{self, Decision};
use crate::policy::{MemberId, MemberStatus};
use crate::registry::{member_entry, Directory, Member, MemberRecord, RegistryError};

/// What executing `proposal`, decided as `outcome` says, does here: `Ok(None)` when it
/// changes nothing stored (a joint statement), `Err(why)` when it cannot apply (the norm or
/// the member is no longer as the proposal needs): it then succeeds without being
/// executed, and expires.
pub(super) async fn effect_of(
    store: &dyn Store,
    proposal: &Proposal,
    outcome: &Outcome,
) -> Result<Result<Option<Effect>, String>, GovernanceError> {
    let at = proposal.deadline();
    let norm_version = |norm: &str, version: u64, texts: String, repealed: bool| NormVersion {
        norm: norm.to_owned(),
        version,
        texts,
        repealed,
        proposal: proposal.id.clone(),
        at,
    };
    let texts_json = |texts: &super::Texts| serde_json::to_string(texts).unwrap_or_default();
    Ok(match &proposal.action {
        Action::AdoptNorm { norm, texts } => match last_norm(store, norm).await? {
            Some(_) => Err(format!("norm {norm} exists already")),
            None => Ok(Some(Effect::Norm(norm_version(
                norm,
                1,
                texts_json(texts),
                false,
            )))),
        },
        Action::AmendNorm { norm, texts } => match last_norm(store, norm).await? {
            Some(last) if !last.repealed => Ok(Some(Effect::Norm(norm_version(
                norm,
                last.version + 1,
                texts_json(texts),
                false,
            )))),
            _ => Err(format!("norm {norm} is not in force")),
        },
        Action::RepealNorm { norm } => match last_norm(store, norm).await? {
            Some(last) if !last.repealed => Ok(Some(Effect::Norm(norm_version(
                norm,
                last.version + 1,
                "{}".into(),
                true,
            )))),
            _ => Err(format!("norm {norm} is not in force")),
        },
        Action::ChangeRules { rules } => {
            let version = store.rules_in_force().await?.map_or(0, |r| r.version);
            Ok(Some(Effect::Rules(RulesVersion {
                version: version + 1,
                json: serde_json::to_string(rules).unwrap_or_default(),
                proposal: Some(proposal.id.clone()),
                at,
            })))
        }
        Action::SuspendMember { member } | Action::ExpelMember { member } => {
            standing(
                store,
                member,
                MemberStatus::Active,
                MemberStatus::Suspended,
                at,
            )
            .await?
        }
        Action::ReinstateMember { member } => {
            standing(
                store,
                member,
                MemberStatus::Suspended,
                MemberStatus::Active,
                at,
            )
            .await?
        }
        Action::AdmitMember {
            member,
            public_key,
            country,
        } => match Directory::new(store).member(member).await? {
            Some(_) => Err(format!("{member} is a member already")),
            None => {
                let when = format_us(at);
                let record = MemberRecord {
                    identity: json!({
                        "type": "identity",
                        "spec_version": "2.1",
                        "id": member,
                        "created": when,
                        "modified": when,
                        "name": member,
                        "identity_class": "organization",
                        "sectors": ["government-national"],
                    }),
                    public_key: public_key.to_string(),
                    // An admission names the identity key only: nothing sealed goes to the
                    // member until the record its node signed, with an encryption key, is
                    // taken (`comity member update`).
                    encryption_key: None,
                    endpoint: None,
                    roles: Default::default(),
                    country: country.clone(),
                    local: false,
                    allow_plain_http: false,
                    key_history: Vec::new(),
                };
                let entry = member_entry(&Member {
                    id: MemberId(member.clone()),
                    record,
                    status: MemberStatus::Active,
                    updated_at: at,
                });
                Ok(Some(Effect::Member {
                    entry,
                    expected: None,
                }))
            }
        },
        Action::JointStatement { .. } => Ok(None),
        Action::RevokeMemberKey { member, .. } => {
            let by_others = outcome
                .counted
                .iter()
                .any(|c| c.member != *member && c.choice == Choice::Yes);
            if !by_others {
                return Ok(Err(format!(
                    "no member but {member} voted for it: a member's keys are not replaced by its \
                     own vote alone"
                )));
            }
            let (_, decision) = proposal
                .action
                .key_decision(&proposal.id)
                .expect("a key revocation decides keys");
            replaced_keys(store, member, &decision, at)
                .await?
                .map(|(expected, changed)| {
                    Some(Effect::Member {
                        entry: member_entry(&changed),
                        expected: Some(member_entry(&expected)),
                    })
                })
        }
    })
}

/// Member `member` as held here and as `decision` leaves it at `at`: its keys revoked and
/// the new key pinned, the replacement at the end of its key history. `Err(why)` when it
/// cannot apply: the member is unknown here, the new key was its key before or is pinned
/// for another member, or a key is malformed.
pub(super) async fn replaced_keys(
    store: &dyn Store,
    member: &str,
    decision: &Decision,
    at: i64,
) -> Result<Result<(Member, Member), String>, GovernanceError> {
    let directory = Directory::new(store);
    let Some(current) = directory.member(member).await? else {
        return Ok(Err(format!("{member} is not a member here")));
    };
    let record = &current.record;
    let statement = match rotation::replace(
        member,
        &record.public_key,
        &record.key_history,
        decision,
        at,
    ) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e.0)),
    };
    match directory
        .check_key_unpinned(member, &decision.new_key)
        .await
    {
        Ok(()) => {}
        Err(RegistryError::Invalid(why)) => return Ok(Err(why)),
        Err(e) => return Err(e.into()),
    }
    let mut changed = current.clone();
    changed.record.public_key = decision.new_key.clone();
    changed.record.encryption_key = Some(decision.encryption_key.clone());
    changed.record.key_history.push(statement);
    changed.updated_at = at;
    Ok(Ok((current, changed)))
}

/// The last version of `norm`, if it was ever adopted.
async fn last_norm(store: &dyn Store, norm: &str) -> Result<Option<NormVersion>, GovernanceError> {
    Ok(store
        .norms()
        .await?
        .into_iter()
        .filter(|n| n.norm == norm)
        .max_by_key(|n| n.version))
}

/// A member's standing changed from `from` to `to`.
async fn standing(
    store: &dyn Store,
    member: &str,
    from: MemberStatus,
    to: MemberStatus,
    at: i64,
) -> Result<Result<Option<Effect>, String>, GovernanceError> {
    let Some(current) = Directory::new(store).member(member).await? else {
        return Ok(Err(format!("{member} is not a member here")));
    };
    if current.status != from {
        return Ok(Err(format!(
            "{member} is {} here, not {}",
            current.status.as_str(),
            from.as_str()
        )));
    }
    let expected = member_entry(&current);
    let changed = Member {
        status: to,
        updated_at: at,
        ..current
    };
    Ok(Ok(Some(Effect::Member {
        entry: member_entry(&changed),
        expected: Some(expected),
    })))
}
