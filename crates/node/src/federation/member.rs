//! A member's changed record travels to its peers: when this node's own record changes
//! (`comity member set-local`, or the encryption key an upgraded node publishes as it first
//! starts), its member record file, signed with the node's key, is queued for every peer
//! as a `member` envelope, `{"file": FILE}`. A peer takes it as `comity member update
//! --from FILE` would ([`crate::registry::Registry::update_member`]: signed by the key it
//! pins for the member, newer than the record it pins), and only from the member the
//! record is of. This module queues and receives those envelopes; the rules are the
//! registry's, and it never changes a record itself.

use comity_store::{OutboxKind, Store, StoreError};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::member_file::MemberFile;
use crate::registry::{Member, RegistryError};

use super::envelope::Envelope;
use super::inbox::{Answer, Inbox, InboxError};

/// The body of a `member` envelope.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    file: Box<RawValue>,
}

/// Queues `file`, this node's member record file, for every member in `members` but this
/// node.
pub(crate) async fn queue(
    store: &dyn Store,
    members: &[Member],
    file: &MemberFile,
) -> Result<(), StoreError> {
    let body = serde_json::json!({ "file": file }).to_string();
    let peers = members.iter().filter(|m| !m.record.local);
    super::queue_to_each(
        store,
        &peers.map(|m| m.id.0.as_str()).collect::<Vec<_>>(),
        OutboxKind::Member,
        &body,
    )
    .await
}

/// Applies a `member` envelope from a verified, active sender: its record replaces the one
/// pinned for the sender when the registry takes it; refused (signed, recorded, logged)
/// with the registry's reason otherwise, or when the file is unreadable, forged, or the
/// record of another member than the sender.
pub(super) async fn receive(
    inbox: &Inbox<'_>,
    local: &str,
    env: &Envelope,
) -> Result<Answer, InboxError> {
    let file = match serde_json::from_str::<Body>(env.body.get()) {
        Ok(body) => body.file,
        Err(e) => {
            let why = format!("the body is not {{\"file\": MEMBER_RECORD_FILE}}: {e}");
            return inbox.refuse_recorded(local, env, why).await;
        }
    };
    let record = match MemberFile::read(file.get()) {
        Ok(record) => record,
        Err(e) => return inbox.refuse_recorded(local, env, e.to_string()).await,
    };
    if record.id() != Some(env.from.as_str()) {
        let why = format!(
            "the record is of member {}, not of the sender {}: a node sends its own record only",
            record.id().unwrap_or_default(),
            env.from
        );
        return inbox.refuse_recorded(local, env, why).await;
    }
    match inbox.registry().update_member(record).await {
        Ok(member) => {
            tracing::info!(
                from = %env.from,
                modified = member.record.identity["modified"].as_str().unwrap_or_default(),
                "member record updated"
            );
            inbox.deliver_recorded(local, env, 1).await
        }
        Err(RegistryError::Invalid(why)) => inbox.refuse_recorded(local, env, why).await,
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests;
