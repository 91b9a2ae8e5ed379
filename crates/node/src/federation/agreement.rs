//! Agreements across nodes. One party proposes: its node signs the terms and queues an
//! `agreement` envelope, `{"agreement": DOCUMENT}` (the terms and the signatures so far), for
//! every other party in the durable outbox. Each party's node takes in what it receives
//! (checked as [`Registry::merge_agreement`](crate::registry::Registry::merge_agreement) says: the sender is a party, every signature
//! verifies with the signer's pinned key, the terms are those of any copy held already),
//! stores it as proposed and signs only when its admin says so; its signature is committed
//! to its log and the signed document goes to the other parties the same way. On each node
//! the agreement is in force once every party's signature is there.
//!
//! A party withdraws by terminating the agreement on its node: `{"terminated": ID}` goes to
//! the other parties the same way, and since the terms were signed as a whole by all of
//! them, the agreement ends on every node that takes it in (the sender must be a party).
//! Suspension is each node's own decision and does not travel.

use comity_store::{OutboxItem, Store, StoreError};
use serde::Deserialize;

use crate::registry::{AgreementDocument, RegistryError};
use comity_stix::clock::now_us;

use super::envelope::{Envelope, Kind};
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
    for party in document.parties.iter().filter(|p| *p != local) {
        let item = OutboxItem {
            id: uuid::Uuid::new_v4().to_string(),
            kind: Kind::Agreement.as_str().to_owned(),
            created_at: now_us(),
            body: body.clone(),
        };
        store.outbox_push(party, vec![item]).await?;
    }
    Ok(())
}

/// Applies an `agreement` envelope from a verified, active sender: refused (signed,
/// recorded, logged) when its document does not pass [`Registry::merge_agreement`](crate::registry::Registry::merge_agreement),
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
