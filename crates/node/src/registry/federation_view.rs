//! The federation as the policy engine reads it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use comity_store::RegistryKind;
use time::OffsetDateTime;

use super::agreements::{read_agreement, SignedAgreement};
use super::members::MemberRole;
use super::{Directory, RegistryError};
use crate::federation::seal::{keys_of, EncryptionKey};
use crate::policy::{MarkingDefinitions, MemberId, Peer, Purpose};

/// The federation as the policy engine needs it: who this node is and each peer with the
/// agreements it shares with us.
#[derive(Debug, Clone, Default)]
pub struct Federation {
    /// This node's member id, when its record exists.
    pub local: Option<MemberId>,
    /// This node's roles (what its own users read for follows from them).
    pub local_roles: BTreeSet<MemberRole>,
    /// Every other member, with its standing and agreements.
    pub peers: HashMap<MemberId, Peer>,
    /// The last change to any member or agreement, microseconds since the Unix epoch.
    pub changed_at: i64,
    /// The marking definitions this node holds, which marking references resolve against.
    pub markings: Arc<MarkingDefinitions>,
    /// The encryption keys the members' records publish, by member id.
    pub encryption_keys: Arc<HashMap<String, EncryptionKey>>,
}

impl Federation {
    /// Whether a decision taken at `then` (microseconds) still holds now: nothing in the
    /// registry changed since, and no agreement started or ended in between.
    pub fn unchanged_since(&self, then: i64) -> bool {
        let (Ok(then_t), now) = (
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(then) * 1000),
            OffsetDateTime::now_utc(),
        ) else {
            return false;
        };
        let crossed = |t: OffsetDateTime| then_t < t && t <= now;
        self.changed_at < then
            && !self
                .peers
                .values()
                .flat_map(|p| &p.agreements)
                .any(|a| crossed(a.valid_from) || a.valid_until.is_some_and(crossed))
    }

    /// The purpose this node's own users read for: police units for police cooperation,
    /// judicial and central authorities for judicial assistance, others (CERTs) for
    /// intelligence.
    pub fn local_purpose(&self) -> Purpose {
        let roles = &self.local_roles;
        if roles.contains(&MemberRole::Police) {
            Purpose::PoliceCooperation
        } else if roles.contains(&MemberRole::Judicial)
            || roles.contains(&MemberRole::CentralAuthority)
        {
            Purpose::JudicialAssistance
        } else {
            Purpose::Intelligence
        }
    }

    /// The member an object comes from, given its `created_by_ref`: a registered peer when
    /// the reference names one, this node otherwise.
    pub fn originator(&self, created_by_ref: Option<&str>, local: &MemberId) -> MemberId {
        match created_by_ref {
            Some(by) if self.peers.contains_key(by) => MemberId(by.to_owned()),
            _ => local.clone(),
        }
    }
}

impl<'a> Directory<'a> {
    /// The federation as the policy engine reads it.
    pub async fn federation(&self) -> Result<Federation, RegistryError> {
        let members = self.members().await?;
        let entries = self.store.registry(RegistryKind::Agreement).await?;
        let changed_at = entries
            .iter()
            .map(|e| e.updated_at)
            .chain(members.iter().map(|m| m.updated_at))
            .max()
            .unwrap_or(0);
        // An agreement whose signatures do not verify (tampered with in the database, or
        // signed by a key that is no longer pinned) covers nothing: it is left out, and
        // said so in the log, rather than stopping every exit. So is one that carries a
        // signature made with a key since revoked, until its parties sign a new one.
        let agreements: Vec<SignedAgreement> = entries
            .iter()
            .filter_map(|e| match read_agreement(e, &members, self.state) {
                Ok(a) if a.revoked.is_empty() => Some(a),
                Ok(a) => {
                    tracing::debug!(agreement = %a.document.id, "agreement with a revoked signature covers nothing");
                    None
                }
                Err(err) => {
                    tracing::error!(error = %err, "agreement ignored");
                    None
                }
            })
            .collect();
        let encryption_keys = Arc::new(keys_of(&members));
        let me = members.iter().find(|m| m.record.local);
        let local = me.map(|m| m.id.clone());
        let local_roles = me.map(|m| m.record.roles.clone()).unwrap_or_default();
        let peers = members
            .into_iter()
            .filter(|m| !m.record.local)
            .map(|m| {
                let shared = agreements
                    .iter()
                    .filter(|a| a.terms.parties.contains(&m.id))
                    .map(|a| a.terms.clone())
                    .collect();
                let peer = Peer {
                    member: m.id.clone(),
                    status: m.status,
                    agreements: shared,
                };
                (m.id, peer)
            })
            .collect();
        let definitions = self.store.marking_definitions().await?;
        let markings = MarkingDefinitions::from_json(definitions.iter().map(String::as_str));
        Ok(Federation {
            local,
            local_roles,
            peers,
            changed_at,
            markings: Arc::new(markings),
            encryption_keys,
        })
    }
}
