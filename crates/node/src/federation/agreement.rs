//! Agreements across nodes. One party proposes: its node signs the terms and queues an
//! `agreement` envelope, `{"agreement": DOCUMENT}` (the terms and the signatures so far), for
//! every other party in the durable outbox. Each party's node takes in what it receives
//! (checked as [`Registry::merge_agreement`] says: the sender is a party, every signature
//! verifies with the signer's pinned key, the terms are those of any copy held already),
//! stores it as proposed and signs only when its admin says so; its signature is committed
//! to its log and the signed document goes to the other parties the same way. On each node
//! the agreement is in force once every party's signature is there.
//!
//! A party withdraws by terminating the agreement on its node: `{"terminated": ID}` goes to
//! the other parties the same way, and since the terms were signed as a whole by all of
//! them, the agreement ends on every node that takes it in (the sender must be a party).
//! Suspension is each node's own decision and does not travel.
//!
//! The registry records an act and returns what changed ([`AgreementChange`]); the
//! workflows here ([`propose`], [`sign`], [`set_status`]) do the act and queue what the
//! other parties are to hear of it ([`queue_change`]), unless told not to send (the
//! document then goes to them out of band).

use comity_store::{OutboxKind, Store, StoreError};
use serde::Deserialize;

use crate::identity::NodeKey;
use crate::policy::AgreementStatus;
use crate::registry::{
    AgreementChange, AgreementDocument, AgreementDraft, Registry, RegistryError, SignedAgreement,
};

use super::envelope::Envelope;
use super::inbox::{Answer, Inbox, InboxError};

/// The body of an `agreement` envelope: a document, or a party's withdrawal.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    agreement: Option<AgreementDocument>,
    terminated: Option<String>,
}

/// The body of an `agreement` envelope carrying `document`.
pub fn body(document: &AgreementDocument) -> String {
    serde_json::json!({ "agreement": document }).to_string()
}

/// Proposes an agreement ([`Registry::create_agreement`]) signed with `key` and, with
/// `send`, queues it for every other party.
pub async fn propose(
    registry: &Registry<'_>,
    draft: AgreementDraft,
    key: &NodeKey,
    send: bool,
) -> Result<SignedAgreement, RegistryError> {
    let change = registry.create_agreement(draft, key).await?;
    finish(registry, change, send).await
}

/// Signs agreement `id` with `key` ([`Registry::sign_agreement`]) and, with `send`, queues
/// the document with every signature this node holds for the other parties.
pub async fn sign(
    registry: &Registry<'_>,
    id: &str,
    key: &NodeKey,
    send: bool,
) -> Result<SignedAgreement, RegistryError> {
    let change = registry.sign_agreement(id, key).await?;
    finish(registry, change, send).await
}

/// Suspends, reinstates or terminates agreement `id` ([`Registry::set_agreement_status`])
/// and, with `send`, queues a termination (this party's withdrawal) for the other parties;
/// a suspension or a reinstatement does not travel.
pub async fn set_status(
    registry: &Registry<'_>,
    id: &str,
    status: AgreementStatus,
    send: bool,
) -> Result<SignedAgreement, RegistryError> {
    let change = registry.set_agreement_status(id, status).await?;
    finish(registry, change, send).await
}

async fn finish(
    registry: &Registry<'_>,
    change: AgreementChange,
    send: bool,
) -> Result<SignedAgreement, RegistryError> {
    if send {
        queue_change(registry.store(), &change).await?;
    }
    Ok(change.into_agreement())
}

/// Queues what the other parties are to hear of `change`: the signed document, or this
/// node's withdrawal; nothing for a change that is this node's own business.
pub async fn queue_change(store: &dyn Store, change: &AgreementChange) -> Result<(), StoreError> {
    match change {
        AgreementChange::Signed { agreement, by } => queue(store, by, &agreement.document).await,
        AgreementChange::Withdrawn { agreement, by } => {
            queue_termination(store, by, &agreement.document).await
        }
        AgreementChange::Local(_) => Ok(()),
    }
}

/// Queues `document` for every party but `local`, one envelope each in that party's outbox.
pub async fn queue(
    store: &dyn Store,
    local: &str,
    document: &AgreementDocument,
) -> Result<(), StoreError> {
    queue_body(store, local, document, body(document)).await
}

/// Queues `local`'s withdrawal from `document` for every other party.
pub async fn queue_termination(
    store: &dyn Store,
    local: &str,
    document: &AgreementDocument,
) -> Result<(), StoreError> {
    let body = serde_json::json!({ "terminated": document.id }).to_string();
    queue_body(store, local, document, body).await
}

async fn queue_body(
    store: &dyn Store,
    local: &str,
    document: &AgreementDocument,
    body: String,
) -> Result<(), StoreError> {
    let parties = document.parties.iter().filter(|p| *p != local);
    super::queue_to_each(
        store,
        &parties.map(String::as_str).collect::<Vec<_>>(),
        OutboxKind::Agreement,
        &body,
    )
    .await
}

/// Applies an `agreement` envelope from a verified, active sender: refused (signed,
/// recorded, logged) when its document does not pass [`Registry::merge_agreement`],
/// delivered otherwise, the receipt counting the signatures that were new here.
pub(super) async fn receive(
    inbox: &Inbox<'_>,
    local: &str,
    env: &Envelope,
) -> Result<Answer, InboxError> {
    let registry = inbox.registry();
    let document = match serde_json::from_str(env.body.get()) {
        Ok(Body {
            agreement: Some(document),
            terminated: None,
        }) => document,
        Ok(Body {
            agreement: None,
            terminated: Some(id),
        }) => {
            return match registry.withdrawn(&id, &env.from).await {
                Ok(changed) => {
                    tracing::info!(from = %env.from, agreement = %id, "a party withdrew: agreement terminated");
                    inbox.deliver_recorded(local, env, u64::from(changed)).await
                }
                Err(RegistryError::Invalid(why)) => inbox.refuse_recorded(local, env, why).await,
                Err(e) => Err(e.into()),
            };
        }
        Ok(_) => {
            let why = "the body holds either an agreement or a termination".to_owned();
            return inbox.refuse_recorded(local, env, why).await;
        }
        Err(e) => {
            let why = format!(
                "the body is not {{\"agreement\": {{...}}}} or {{\"terminated\": ID}}: {e}"
            );
            return inbox.refuse_recorded(local, env, why).await;
        }
    };
    let merged = match registry.merge_agreement(document, Some(&env.from)).await {
        Ok(m) => m,
        Err(RegistryError::Invalid(why)) => return inbox.refuse_recorded(local, env, why).await,
        Err(e) => return Err(e.into()),
    };
    let doc = &merged.agreement.document;
    tracing::info!(
        from = %env.from,
        agreement = %doc.id,
        added = merged.added.len(),
        missing = doc.missing().len(),
        "agreement received"
    );
    inbox
        .deliver_recorded(local, env, merged.added.len() as u64)
        .await
}

#[cfg(test)]
mod tests;
