//! What is shared with whom: for objects just stored, every peer with an agreement in
//! force gets, in envelopes of at most [`ENVELOPE_OBJECTS`] objects, exactly the objects
//! the policy engine releases to it through the federation channel (redacted as it says),
//! queued in that peer's durable outbox.

use comity_store::{OutboxItem, Store, StoreError};

use crate::log::now_us;
use crate::policy::{Channel, MemberStatus, Purpose};
use crate::registry::Federation;
use crate::release::{Release, Released};

use super::envelope::Kind;

/// Most objects one envelope carries.
pub const ENVELOPE_OBJECTS: usize = 1000;

/// The objects (JSON text, redacted for it) that each peer may be sent, by peer; peers
/// that may receive none are left out.
pub fn plan(federation: &Federation, objects: &[&str]) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut peers: Vec<_> = federation.peers.values().collect();
    peers.sort_by(|a, b| a.member.cmp(&b.member));
    for peer in peers {
        if peer.status != MemberStatus::Active || peer.agreements.is_empty() {
            continue;
        }
        let purposes: Vec<Purpose> = Purpose::ALL
            .into_iter()
            .filter(|p| peer.agreements.iter().any(|a| a.scope.purposes.contains(p)))
            .collect();
        let releases: Vec<Release> = purposes
            .into_iter()
            .map(|purpose| {
                Release::for_member(
                    federation.clone(),
                    &peer.member.0,
                    None,
                    Channel::FederationSend,
                    purpose,
                )
            })
            .collect();
        let shared: Vec<String> = objects
            .iter()
            .filter_map(|o| {
                releases.iter().find_map(|r| match r.object(o) {
                    Released::Allowed(json) => Some(json.into_owned()),
                    Released::Denied(_) => None,
                })
            })
            .collect();
        if !shared.is_empty() {
            out.push((peer.member.0.clone(), shared));
        }
    }
    out
}

/// Queues what [`plan`] gives in each peer's outbox; returns how many objects were queued.
pub async fn enqueue(
    store: &dyn Store,
    federation: &Federation,
    objects: &[&str],
) -> Result<usize, StoreError> {
    let mut queued = 0;
    for (peer, shared) in plan(federation, objects) {
        let items = shared
            .chunks(ENVELOPE_OBJECTS)
            .map(|chunk| {
                queued += chunk.len();
                OutboxItem {
                    id: uuid::Uuid::new_v4().to_string(),
                    kind: Kind::StixObjects.as_str().to_owned(),
                    created_at: now_us(),
                    body: objects_body(chunk),
                }
            })
            .collect();
        store.outbox_push(&peer, items).await?;
    }
    Ok(queued)
}

/// `{"objects":[…]}` from JSON texts, without re-serialising them.
fn objects_body(objects: &[String]) -> String {
    let mut body = String::with_capacity(16 + objects.iter().map(|o| o.len() + 1).sum::<usize>());
    body.push_str("{\"objects\":[");
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(o);
    }
    body.push_str("]}");
    body
}
