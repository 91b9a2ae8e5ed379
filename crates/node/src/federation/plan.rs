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
    let mut peers: Vec<&String> = federation.peers.keys().map(|m| &m.0).collect();
    peers.sort();
    peers
        .into_iter()
        .filter_map(|peer| {
            let shared = for_peer(federation, peer, objects);
            (!shared.is_empty()).then(|| (peer.clone(), shared))
        })
        .collect()
}

/// The objects (JSON text, redacted for it) that `peer` may be sent now: none when it is
/// unknown or suspended or shares no agreement with this node (CLEAR included: an object
/// travels only under an agreement in force whose scope covers it).
pub fn for_peer(federation: &Federation, peer: &str, objects: &[&str]) -> Vec<String> {
    let Some(member) = federation.peers.get(peer) else {
        return Vec::new();
    };
    if member.status != MemberStatus::Active {
        return Vec::new();
    }
    let releases: Vec<Release> = Purpose::ALL
        .into_iter()
        .filter(|p| {
            member
                .agreements
                .iter()
                .any(|a| a.scope.purposes.contains(p))
        })
        .map(|purpose| {
            Release::for_member(
                federation.clone(),
                peer,
                None,
                Channel::FederationSend,
                purpose,
            )
        })
        .collect();
    // No purpose of any agreement: nothing leaves, CLEAR included.
    released(&releases, peer, objects)
}

fn released(releases: &[Release], peer: &str, objects: &[&str]) -> Vec<String> {
    objects
        .iter()
        // A member's own objects are not sent back to it.
        .filter(|o| created_by(o).as_deref() != Some(peer))
        .filter_map(|o| {
            releases.iter().find_map(|r| match r.object(o) {
                Released::Allowed(json) => Some(json.into_owned()),
                Released::Denied(_) => None,
            })
        })
        .collect()
}

/// The `created_by_ref` of an object's JSON text.
fn created_by(object: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct CreatedBy {
        created_by_ref: Option<String>,
    }
    serde_json::from_str::<CreatedBy>(object)
        .ok()
        .and_then(|c| c.created_by_ref)
}

/// The objects of an envelope body `{"objects": [...]}`, as JSON texts.
pub fn body_objects(body: &str) -> Result<Vec<Box<serde_json::value::RawValue>>, String> {
    #[derive(serde::Deserialize)]
    struct Body {
        objects: Vec<Box<serde_json::value::RawValue>>,
    }
    serde_json::from_str::<Body>(body)
        .map(|b| b.objects)
        .map_err(|e| format!("the body is not {{\"objects\": [...]}}: {e}"))
}

/// The body of an envelope queued at `queued_at` with only what `peer` may still be sent
/// now: the body as queued when nothing the decision rests on has changed since.
pub fn still_allowed(
    federation: &Federation,
    peer: &str,
    queued_at: i64,
    body: &str,
) -> Result<String, String> {
    if federation.unchanged_since(queued_at) {
        return Ok(body.to_owned());
    }
    let objects = body_objects(body)?;
    let texts: Vec<&str> = objects.iter().map(|o| o.get()).collect();
    let allowed = for_peer(federation, peer, &texts);
    if allowed.len() < texts.len() {
        tracing::info!(peer = %peer, withheld = texts.len() - allowed.len(), "objects withheld at delivery: the policy no longer lets them go");
    }
    Ok(objects_body(&allowed))
}

/// The body of an envelope of `objects`.
pub fn objects_body(objects: &[String]) -> String {
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

/// Queues what [`plan`] gives in each peer's outbox, and the sightings [`super::sighting`]
/// sends back to originators; returns how many objects were queued.
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
    // Sightings of other members' objects also go back to their originators.
    queued += super::sighting::enqueue(store, federation, objects).await?;
    Ok(queued)
}
