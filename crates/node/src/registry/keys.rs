//! Key statements in the registry: this node rotating its identity key or revoking a
//! former one, and taking the statements of its peers ([`crate::identity::rotation`]).
//! Each change is a `member.changed` log entry on the node that makes it and on every
//! node that takes it.

use comity_stix::clock::now_us;
use comity_tlog::entry::MEMBER_CHANGED;
use serde_json::Value;

use super::members::{member_json, modified_after};
use super::{invalid, member_entry, Directory, Member, MemberRecord, Registry, RegistryError};
use crate::federation::seal::OpeningKey;
use crate::identity::rotation::{self, SignedKeyStatement, Step};
use crate::identity::NodeKey;
use crate::member_file::MemberFile;

/// The most statements one call takes: a member rotates rarely.
pub const MAX_STATEMENTS: usize = 64;

/// Continues `record`'s key history (of member `id`) with `s`, read at `now`.
fn continue_history(
    record: &mut MemberRecord,
    id: &str,
    s: &SignedKeyStatement,
    now: i64,
) -> Result<(), RegistryError> {
    match rotation::next(id, &record.public_key, &record.key_history, s, now)
        .map_err(|e| invalid(e.0))?
    {
        Step::Rotate {
            key,
            encryption_key,
        } => {
            record.public_key = key;
            record.encryption_key = Some(encryption_key);
        }
        Step::Revoke => {}
    }
    record.key_history.push(s.clone());
    Ok(())
}

impl Registry<'_> {
    /// This node's own record, checked to name the key the node runs with.
    async fn own_record_for_keys(&self) -> Result<Member, RegistryError> {
        let member = self
            .local_member()
            .await?
            .ok_or_else(|| invalid("this node has no member record yet; run `comity init`"))?;
        let running = self.log.node_key().public_key().to_string();
        if member.record.public_key != running {
            return Err(invalid(format!(
                "this node's record names the key {}, but the node runs with {running}: the \
                 key file is not the one the last rotation put in place",
                member.record.public_key
            )));
        }
        Ok(member)
    }

    /// Stores this node's changed record, commits it, and queues it (its file signed by
    /// `signer`, the key the record names) for every peer.
    async fn save_own(&self, member: &mut Member, signer: &NodeKey) -> Result<(), RegistryError> {
        let identity = &mut member.record.identity;
        identity["modified"] = Value::String(modified_after(identity));
        member.updated_at = now_us();
        self.store
            .update_registry_entry(&member_entry(member))
            .await?;
        self.commit(MEMBER_CHANGED, &member.id.0, member_json(member))
            .await?;
        let file = MemberFile::sign(&member.record, signer).map_err(|e| invalid(e.to_string()))?;
        crate::federation::member::queue(self.store, &self.members().await?, &file).await?;
        Ok(())
    }

    /// Rotates this node's identity key, the one this registry's log signs with, to `new`
    /// at `at`: the rotation statement, signed by both keys, joins the node's key history;
    /// its record names the new key and the encryption key derived from it; its new record
    /// is queued for every peer. The caller puts `new` in place of the key file: from the
    /// next start the node signs, seals and cosigns with it, and announces the statement
    /// to each peer before anything else it sends.
    pub async fn rotate_local_key(
        &self,
        new: &NodeKey,
        at: i64,
    ) -> Result<(Member, SignedKeyStatement), RegistryError> {
        let mut member = self.own_record_for_keys().await?;
        let encryption_key = OpeningKey::of(new).public_key().to_string();
        let statement = SignedKeyStatement::rotation(
            &member.id.0,
            self.log.node_key(),
            new,
            encryption_key,
            at,
        );
        let id = member.id.0.clone();
        continue_history(&mut member.record, &id, &statement, at)?;
        self.check_key_unpinned(&id, &member.record.public_key)
            .await?;
        self.save_own(&mut member, new).await?;
        Ok((member, statement))
    }

    /// Revokes `key`, a former identity key of this node, from `revoked_from` on, stated at
    /// `at` with the current key: peers that take it count nothing more that `key` signed.
    pub async fn revoke_local_key(
        &self,
        key: &str,
        revoked_from: i64,
        at: i64,
    ) -> Result<(Member, SignedKeyStatement), RegistryError> {
        let mut member = self.own_record_for_keys().await?;
        let id = member.id.0.clone();
        let statement =
            SignedKeyStatement::revocation(&id, key, revoked_from, self.log.node_key(), at);
        continue_history(&mut member.record, &id, &statement, at)?;
        self.save_own(&mut member, self.log.node_key()).await?;
        Ok((member, statement))
    }

    /// Takes peer member `id`'s key statements `statements`, in order: those it holds
    /// already are skipped; each other must continue the history pinned so far
    /// ([`rotation::next`]), or none is taken. Once taken, the member is pinned with its new
    /// key and encryption key (its former keys kept in its history), and the change is
    /// committed to the log. Returns how many were new.
    pub async fn take_key_statements(
        &self,
        id: &str,
        statements: &[SignedKeyStatement],
    ) -> Result<usize, RegistryError> {
        if statements.len() > MAX_STATEMENTS {
            return Err(invalid(format!(
                "{} key statements, more than the {MAX_STATEMENTS} taken at once",
                statements.len()
            )));
        }
        let mut member = self
            .member(id)
            .await?
            .filter(|m| !m.record.local)
            .ok_or_else(|| invalid(format!("no peer member {id} is registered")))?;
        let now = now_us();
        let mut taken = 0;
        for s in statements {
            if member.record.key_history.iter().any(|h| h.same_as(s)) {
                continue;
            }
            continue_history(&mut member.record, id, s, now)?;
            taken += 1;
        }
        if taken == 0 {
            return Ok(0);
        }
        self.check_key_unpinned(id, &member.record.public_key)
            .await?;
        member.updated_at = now;
        self.store
            .update_registry_entry(&member_entry(&member))
            .await?;
        self.commit(MEMBER_CHANGED, id, member_json(&member))
            .await?;
        tracing::info!(member = %id, key = %member.record.public_key, taken, "key statements taken");
        Ok(taken)
    }
}

impl Directory<'_> {
    /// Refuses `key` for member `id` when another member is pinned with it.
    pub(crate) async fn check_key_unpinned(
        &self,
        id: &str,
        key: &str,
    ) -> Result<(), RegistryError> {
        let members = self.members().await?;
        match members
            .iter()
            .find(|m| m.id.0 != id && m.record.public_key == key)
        {
            Some(holder) => Err(invalid(format!(
                "the key {key} is pinned already for member {}: one key is one member",
                holder.id
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
