//! The genesis document: what a federation is founded on, signed by every founding
//! member's node key. It names the founders (their member records: identity, keys,
//! endpoint, roles, country), the rules and the first norms. One founder drafts it
//! ([`draft`]), each founder signs it on its own node ([`sign`]), and every node, a founder
//! or one that joins later, adopts it once all founders signed ([`adopt`]): the founders it
//! does not pin yet are pinned, the rules become version 1 and the norms version 1, in one
//! transaction with the log entry that commits to the signed document. Nothing else in
//! governance may come first: a node that has rules or a proposal refuses a genesis.

use std::collections::{BTreeMap, BTreeSet};

use comity_stix::clock::format_us;
use comity_store::{Effect, GovernanceAct, NormVersion, RulesVersion, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::proposal::{check_norm, check_texts, Texts};
use super::rules::Rules;
use super::service::{entry, local_member, GovernanceError};
use crate::identity::PublicKey;
use crate::node::Node;
use crate::policy::{MemberId, MemberStatus};
use crate::registry::{check_plain_http, member_entry, Directory, Member, MemberRecord};

/// The format name a genesis document carries.
pub const FORMAT: &str = "comity-genesis/v1";
/// The most founders a genesis names (the United Nations has 193 members).
const MAX_FOUNDERS: usize = 256;
/// The most norms a genesis adopts.
const MAX_NORMS: usize = 256;
/// The largest genesis file read.
pub const MAX_BYTES: usize = 4 << 20;

/// A norm adopted at the founding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoundingNorm {
    /// The norm's id.
    pub norm: String,
    /// Its text in each language.
    pub texts: Texts,
}

/// What the founders sign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Always [`FORMAT`].
    pub format: String,
    /// `genesis--<UUID>`.
    pub id: String,
    /// The federation's name.
    pub title: String,
    /// When it was drafted (RFC 3339).
    pub created: String,
    /// The founding members' records, as each founder's node publishes it.
    pub founders: Vec<MemberRecord>,
    /// The rules the federation starts with.
    pub rules: Rules,
    /// The norms it starts with.
    pub norms: Vec<FoundingNorm>,
}

/// A genesis document with the founders' signatures, by member id: Ed25519 by the key the
/// document names for that founder, over the canonical JSON of `genesis`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedGenesis {
    /// The document.
    pub genesis: Genesis,
    /// The signatures so far.
    pub signatures: BTreeMap<String, String>,
}

fn invalid(why: impl Into<String>) -> GovernanceError {
    GovernanceError::Invalid(why.into())
}

impl Genesis {
    /// Checks the document's own rules: its format and id, founders (each a valid record
    /// under one id and one key, reachable over HTTPS or loopback), valid rules, and norms
    /// under distinct ids with valid texts.
    pub fn check(&self) -> Result<(), GovernanceError> {
        if self.format != FORMAT {
            return Err(invalid(format!(
                "the document's format is {:?}, not {FORMAT:?}",
                self.format
            )));
        }
        let uuid = self.id.strip_prefix("genesis--").unwrap_or_default();
        if uuid::Uuid::parse_str(uuid).is_err() {
            return Err(invalid(format!(
                "a genesis id is genesis--<UUID>, not {:?}",
                self.id
            )));
        }
        crate::registry::check_text("the federation's title", &self.title, 256)
            .map_err(|e| invalid(e.to_string()))?;
        comity_stix::clock::parse_us(&self.created).ok_or_else(|| {
            invalid(format!(
                "created {:?} is not an RFC 3339 time",
                self.created
            ))
        })?;
        if self.founders.is_empty() || self.founders.len() > MAX_FOUNDERS {
            return Err(invalid(format!(
                "a genesis names 1 to {MAX_FOUNDERS} founders, not {}",
                self.founders.len()
            )));
        }
        let (mut ids, mut keys) = (BTreeSet::new(), BTreeSet::new());
        for f in &self.founders {
            let id = f.id().unwrap_or_default();
            let refuse = |why: String| invalid(format!("founder {}: {why}", id.escape_debug()));
            f.check().map_err(|e| refuse(e.to_string()))?;
            if f.local || f.allow_plain_http || !f.key_history.is_empty() {
                return Err(refuse(
                    "a founder's record is as its node publishes it: not local, no plain-HTTP \
                     leave, no key history"
                        .into(),
                ));
            }
            if f.encryption_key.is_none() {
                return Err(refuse("the record publishes no encryption key".into()));
            }
            if let Some(endpoint) = &f.endpoint {
                check_plain_http(endpoint, false).map_err(|e| refuse(e.to_string()))?;
            }
            if !ids.insert(id) {
                return Err(refuse("named twice".into()));
            }
            if !keys.insert(f.public_key.as_str()) {
                return Err(refuse(format!(
                    "its key {} is another founder's too",
                    f.public_key
                )));
            }
        }
        self.rules
            .validate()
            .map_err(|e| invalid(format!("the rules are not valid: {e}")))?;
        if self.norms.len() > MAX_NORMS {
            return Err(invalid(format!(
                "a genesis adopts at most {MAX_NORMS} norms, not {}",
                self.norms.len()
            )));
        }
        let mut norms = BTreeSet::new();
        for n in &self.norms {
            check_norm(&n.norm)?;
            check_texts(&n.texts)?;
            if !norms.insert(n.norm.as_str()) {
                return Err(invalid(format!("norm {} is adopted twice", n.norm)));
            }
        }
        Ok(())
    }

    fn document(&self) -> Value {
        serde_json::to_value(self).expect("a genesis is JSON")
    }

    fn founder(&self, id: &str) -> Option<&MemberRecord> {
        self.founders.iter().find(|f| f.id() == Some(id))
    }
}

impl SignedGenesis {
    /// Reads a signed genesis file (at most [`MAX_BYTES`]) and checks the document.
    pub fn read(text: &str) -> Result<SignedGenesis, GovernanceError> {
        if text.len() > MAX_BYTES {
            return Err(invalid(format!(
                "the genesis file has {} bytes, more than {MAX_BYTES}",
                text.len()
            )));
        }
        let signed: SignedGenesis = serde_json::from_str(text)
            .map_err(|e| invalid(format!("not a signed genesis document ({FORMAT}): {e}")))?;
        signed.genesis.check()?;
        Ok(signed)
    }

    /// Verifies every signature with the key the document names for its founder, and
    /// returns the founders who have not signed yet.
    pub fn verify(&self) -> Result<Vec<String>, GovernanceError> {
        let document = self.genesis.document();
        for (member, signature) in &self.signatures {
            let founder = self.genesis.founder(member).ok_or_else(|| {
                invalid(format!(
                    "the genesis carries a signature by {}, who is not a founder",
                    member.escape_debug()
                ))
            })?;
            let key: PublicKey = founder
                .public_key
                .parse()
                .map_err(|e| invalid(format!("the key of founder {member}: {e}")))?;
            key.verify(&document, signature).map_err(|e| {
                invalid(format!(
                    "the signature of founder {member} does not verify with the key the \
                     genesis names for it: the document was changed after it signed, or \
                     someone else signed ({e})"
                ))
            })?;
        }
        Ok(self
            .genesis
            .founders
            .iter()
            .filter_map(|f| f.id())
            .filter(|id| !self.signatures.contains_key(*id))
            .map(str::to_owned)
            .collect())
    }
}

/// This node's member record as a founder publishes it, checked to name the key it runs
/// with.
async fn own_founder_record(node: &Node) -> Result<Member, GovernanceError> {
    let own = Directory::new(node.store())
        .local_member()
        .await?
        .ok_or(GovernanceError::NoIdentity)?;
    let running = node.log().node_key().public_key().to_string();
    if own.record.public_key != running {
        return Err(invalid(format!(
            "this node's record names the key {}, not the key {running} it runs with",
            own.record.public_key
        )));
    }
    Ok(own)
}

/// As a record travels in a genesis: as its node publishes it.
fn published(record: &MemberRecord) -> MemberRecord {
    MemberRecord {
        local: false,
        allow_plain_http: false,
        key_history: Vec::new(),
        ..record.clone()
    }
}

/// Drafts a genesis titled `title` at `at` with this node's member and the members
/// `founders` pinned here (as pinned), `rules` and `norms`, and signs it.
pub async fn draft(
    node: &Node,
    title: &str,
    founders: &BTreeSet<String>,
    rules: Rules,
    norms: Vec<FoundingNorm>,
    at: i64,
) -> Result<SignedGenesis, GovernanceError> {
    let own = own_founder_record(node).await?;
    let directory = Directory::new(node.store());
    let mut records = vec![published(&own.record)];
    for id in founders.iter().filter(|id| **id != own.id.0) {
        let member = directory
            .member(id)
            .await?
            .ok_or_else(|| invalid(format!("no member {id} is pinned here")))?;
        if member.status != MemberStatus::Active {
            return Err(invalid(format!(
                "member {id} is {}: founders are active members",
                member.status.as_str()
            )));
        }
        records.push(published(&member.record));
    }
    let genesis = Genesis {
        format: FORMAT.to_owned(),
        id: format!("genesis--{}", uuid::Uuid::new_v4()),
        title: title.to_owned(),
        created: format_us(at),
        founders: records,
        rules,
        norms,
    };
    genesis.check()?;
    sign(
        node,
        SignedGenesis {
            genesis,
            signatures: BTreeMap::new(),
        },
    )
    .await
}

/// Adds this node's signature to `signed`, once the document checks, this node is one of
/// its founders under the key it runs with, and the signatures so far verify.
pub async fn sign(
    node: &Node,
    mut signed: SignedGenesis,
) -> Result<SignedGenesis, GovernanceError> {
    signed.genesis.check()?;
    signed.verify()?;
    let own = own_founder_record(node).await?;
    let named = signed.genesis.founder(&own.id.0).ok_or_else(|| {
        invalid(format!(
            "this node's member {} is not a founder in this genesis",
            own.id
        ))
    })?;
    if named.public_key != own.record.public_key {
        return Err(invalid(format!(
            "the genesis names the key {} for this node's member, not its key {}",
            named.public_key, own.record.public_key
        )));
    }
    if signed.signatures.contains_key(&own.id.0) {
        return Err(invalid("this node has signed this genesis already"));
    }
    let signature = node.log().node_key().sign(&signed.genesis.document());
    signed.signatures.insert(own.id.0, signature);
    Ok(signed)
}

/// What adopting a genesis changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Adoption {
    /// The genesis id.
    pub id: String,
    /// The founders pinned by it (those this node did not pin yet).
    pub pinned: Vec<String>,
    /// The norms adopted.
    pub norms: usize,
}

/// Adopts `signed` at `at`, once every founder signed it: the founders not pinned here are
/// pinned as the document names them, its rules become version 1 and its norms version 1,
/// with a log entry committing to the signed document, all in one transaction. Refused
/// when this node has rules or a proposal already, when a founder is pinned here under
/// another key, or when this node is a founder under another key than it runs with.
pub async fn adopt(
    node: &Node,
    signed: &SignedGenesis,
    at: i64,
) -> Result<Adoption, GovernanceError> {
    signed.genesis.check()?;
    let missing = signed.verify()?;
    if !missing.is_empty() {
        return Err(invalid(format!(
            "the genesis is not signed yet by: {}",
            missing.join(", ")
        )));
    }
    let store = node.store();
    let local = local_member(store).await?;
    let directory = Directory::new(store);
    let genesis = &signed.genesis;
    let mut effects = vec![Effect::Rules(RulesVersion {
        version: 1,
        json: serde_json::to_string(&genesis.rules).map_err(|e| invalid(e.to_string()))?,
        proposal: None,
        at,
    })];
    for n in &genesis.norms {
        effects.push(Effect::Norm(NormVersion {
            norm: n.norm.clone(),
            version: 1,
            texts: serde_json::to_string(&n.texts).map_err(|e| invalid(e.to_string()))?,
            repealed: false,
            proposal: genesis.id.clone(),
            at,
        }));
    }
    let members = directory.members().await?;
    let mut pinned = Vec::new();
    for f in &genesis.founders {
        let id = f.id().unwrap_or_default();
        match members.iter().find(|m| m.id.0 == id) {
            Some(m) if m.record.public_key == f.public_key => {}
            Some(m) if m.record.local => {
                return Err(invalid(format!(
                    "the genesis names the key {} for this node's member, which runs with {}",
                    f.public_key, m.record.public_key
                )))
            }
            Some(m) => {
                return Err(invalid(format!(
                    "founder {id} is pinned here with the key {}, but the genesis names {}: \
                     confirm the member's key with it before adopting",
                    m.record.public_key, f.public_key
                )))
            }
            None => {
                if let Some(holder) = members.iter().find(|m| m.record.public_key == f.public_key) {
                    return Err(invalid(format!(
                        "founder {id}'s key {} is pinned here for member {}",
                        f.public_key, holder.id
                    )));
                }
                effects.push(Effect::Member {
                    entry: member_entry(&Member {
                        id: MemberId(id.to_owned()),
                        record: f.clone(),
                        status: MemberStatus::Active,
                        updated_at: at,
                    }),
                    expected: None,
                });
                pinned.push(id.to_owned());
            }
        }
    }
    let value = serde_json::to_value(signed).map_err(|e| invalid(e.to_string()))?;
    let sha256 = crate::requests::event::sha256_hex(comity_stix::canonical_json(&value).as_bytes());
    let act = GovernanceAct {
        log_entries: vec![entry(&local, genesis.id.clone(), &sha256)?],
        sends: Vec::new(),
    };
    store.found(&effects, &act).await.map_err(|e| match e {
        StoreError::Conflict(_) => invalid(
            "this node has rules or proposals already: a genesis is adopted before anything \
             else in governance",
        ),
        other => other.into(),
    })?;
    tracing::info!(genesis = %genesis.id, pinned = pinned.len(), norms = genesis.norms.len(), "genesis adopted");
    Ok(Adoption {
        id: genesis.id.clone(),
        pinned,
        norms: genesis.norms.len(),
    })
}

#[cfg(test)]
#[path = "genesis_tests.rs"]
mod tests;
