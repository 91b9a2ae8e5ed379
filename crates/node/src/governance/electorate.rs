//! The member set a proposal is tabled and decided against: every member known when it was
//! tabled, with its pinned key and its standing. Only the members active at tabling vote
//! and make up the quorum's base; a member suspended then, or admitted later, does not.
//! This module holds the set; it never reads the registry (its callers build it from it).

use std::collections::BTreeMap;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::identity::PublicKey;
use crate::policy::MemberStatus;

/// One member of the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elector {
    /// Its pinned node key: its ballots must verify with it.
    pub key: PublicKey,
    /// Its standing when the proposal was tabled.
    pub status: MemberStatus,
}

/// The members known when a proposal was tabled, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Electorate {
    members: BTreeMap<String, Elector>,
}

/// Why a member set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElectorateError {
    /// The same member twice.
    #[error("member {0} is listed twice")]
    Duplicate(String),
}

impl Electorate {
    /// The set of `members` (id, pinned key, standing); refused when one is listed twice.
    pub fn new(
        members: impl IntoIterator<Item = (String, PublicKey, MemberStatus)>,
    ) -> Result<Electorate, ElectorateError> {
        let mut set = BTreeMap::new();
        for (id, key, status) in members {
            if set.contains_key(&id) {
                return Err(ElectorateError::Duplicate(id));
            }
            set.insert(id, Elector { key, status });
        }
        Ok(Electorate { members: set })
    }

    /// Member `id`, if known.
    pub fn get(&self, id: &str) -> Option<&Elector> {
        self.members.get(id)
    }

    /// Every member, by id.
    pub fn members(&self) -> impl Iterator<Item = (&String, &Elector)> {
        self.members.iter()
    }

    /// Whether member `id` was active.
    pub fn is_active(&self, id: &str) -> bool {
        self.get(id)
            .is_some_and(|e| e.status == MemberStatus::Active)
    }

    /// How many members were active: the quorum's base.
    pub fn active(&self) -> u32 {
        let n = self
            .members
            .values()
            .filter(|e| e.status == MemberStatus::Active)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Hex SHA-256 of the set's canonical JSON (`{id: {"key", "status"}}`), so two nodes
    /// can tell whether they decided against the same members.
    pub fn digest(&self) -> String {
        let value: serde_json::Map<String, Value> = self
            .members
            .iter()
            .map(|(id, e)| {
                (
                    id.clone(),
                    json!({"key": e.key.to_string(), "status": e.status.as_str()}),
                )
            })
            .collect();
        hex::encode(Sha256::digest(
            comity_stix::canonical_json(&Value::Object(value)).as_bytes(),
        ))
    }
}
