//! Federation: sovereign nodes sharing under agreements over signed envelopes. This module
//! owns the envelope format, what is shared with whom ([`plan`]), and how a received
//! envelope is checked and applied ([`inbox`]), sightings sent back to the originators of
//! what they sighted ([`sighting`]), the events of cooperation requests ([`request`]), governance
//! proposals and ballots ([`governance`]), members' changed records ([`member`]), and how nodes witness each other's logs
//! ([`witnessing`]), and the [`sender`] that delivers each peer's outbox over a
//! [`transport::PeerTransport`] (the server's is HTTP); what fails in those exchanges is a
//! [`DeliveryError`]. The bodies of envelopes that carry intelligence, requests, ballots or
//! attachments are sealed to their receiver ([`seal`]).

pub mod agreement;
pub mod delivery;
pub mod envelope;
pub mod governance;
pub mod inbox;
pub mod member;
pub mod plan;
pub mod pull;
pub mod quota;
pub mod request;
pub mod request_signature;
pub mod seal;
pub mod sender;
pub mod sighting;
#[cfg(test)]
pub(crate) mod test_nodes;
pub mod transport;
pub mod witnesser;
pub mod witnessing;

pub use delivery::{DeliveryError, QueuedError};

use comity_stix::clock::now_us;
use comity_store::{OutboxItem, OutboxKind, Store, StoreError};

/// Queues one unsealed envelope of `kind` with `body` for each of `recipients`, each in its
/// own outbox.
pub(crate) async fn queue_to_each(
    store: &dyn Store,
    recipients: &[&str],
    kind: OutboxKind,
    body: &str,
) -> Result<(), StoreError> {
    for to in recipients {
        let item = OutboxItem {
            id: uuid::Uuid::new_v4().to_string(),
            kind,
            created_at: now_us(),
            body: body.to_owned(),
        };
        store.outbox_push(to, vec![item]).await?;
    }
    Ok(())
}
