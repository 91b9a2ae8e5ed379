//! What is shared with whom: for objects just stored, every peer with an agreement in
//! force gets, in envelopes of at most [`ENVELOPE_OBJECTS`] objects, exactly the objects
//! the policy engine releases to it through the federation channel (redacted as it says),
//! queued in that peer's durable outbox.

use std::collections::BTreeMap;

use comity_store::{OutboxKind, Store, StoreError};

use crate::policy::{Channel, Denial, MemberStatus, Purpose, Rule};
use crate::registry::Federation;
use crate::release::{Release, Released};

use super::delivery::QueuedError;
use super::seal::Sealer;
use crate::identity::NodeKey;

/// Most objects one envelope carries.
pub const ENVELOPE_OBJECTS: usize = 1000;

/// How many objects the policy withheld from one peer by one rule, with the first one as
/// an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithheldTally {
    /// How many objects.
    pub count: u64,
    /// The id of the first one.
    pub example: String,
    /// Why it was withheld.
    pub reason: String,
}

/// Objects the policy withheld from peers on the federation channel, by peer and rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Withheld(pub BTreeMap<(String, Rule), WithheldTally>);

impl Withheld {
    fn add(&mut self, peer: &str, object: &str, denial: Denial) {
        self.0
            .entry((peer.to_owned(), denial.rule))
            .and_modify(|t| t.count += 1)
            .or_insert_with(|| WithheldTally {
                count: 1,
                example: object_id(object),
                reason: denial.reason,
            });
    }

    /// Adds the tallies of `other`, keeping the first examples.
    pub fn merge(&mut self, other: Withheld) {
        for (key, tally) in other.0 {
            self.0
                .entry(key)
                .and_modify(|t| t.count += tally.count)
                .or_insert(tally);
        }
    }

    /// Whether nothing was withheld.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What planning decided for objects just stored.
#[derive(Debug, Default)]
pub struct Plan {
    /// The objects (JSON text, redacted for it) each peer may be sent, by peer; peers that
    /// may receive none are left out.
    pub shared: Vec<(String, Vec<String>)>,
    /// What was withheld from whom, and why.
    pub withheld: Withheld,
}

/// What each peer may be sent of `objects`, and what is withheld from whom.
pub fn plan(federation: &Federation, objects: &[&str]) -> Plan {
    let mut peers: Vec<&String> = federation.peers.keys().map(|m| &m.0).collect();
    peers.sort();
    let mut plan = Plan::default();
    for peer in peers {
        let shared = decide_for_peer(federation, peer, objects, &mut plan.withheld);
        if !shared.is_empty() {
            plan.shared.push((peer.clone(), shared));
        }
    }
    plan
}

/// The objects (JSON text, redacted for it) that `peer` may be sent now: none when it is
/// unknown or suspended or shares no agreement with this node (CLEAR included: an object
/// travels only under an agreement in force whose scope covers it). What is withheld is
/// tallied in `withheld`.
pub fn decide_for_peer(
    federation: &Federation,
    peer: &str,
    objects: &[&str],
    withheld: &mut Withheld,
) -> Vec<String> {
    let releases: Vec<Release> = match federation.peers.get(peer) {
        Some(member) => Purpose::ALL
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
            .collect(),
        None => Vec::new(),
    };
    let suspended = federation
        .peers
        .get(peer)
        .is_none_or(|m| m.status != MemberStatus::Active);
    let mut shared = Vec::new();
    // A member's own objects are not sent back to it.
    for o in objects
        .iter()
        .filter(|o| created_by(o).as_deref() != Some(peer))
    {
        let mut first_denial = None;
        let allowed = releases.iter().find_map(|r| match r.object(o) {
            Released::Allowed(json) => Some(json.into_owned()),
            Released::Denied(d) => {
                first_denial.get_or_insert(d);
                None
            }
        });
        match allowed {
            Some(json) => shared.push(json),
            None => {
                let denial = first_denial.unwrap_or_else(|| no_purpose(peer, suspended));
                withheld.add(peer, o, denial);
            }
        }
    }
    shared
}

/// Why nothing could be tried for `peer`: it is unknown or suspended, or no agreement it
/// shares with this node names any purpose.
fn no_purpose(peer: &str, suspended: bool) -> Denial {
    if suspended {
        Denial::new(
            Rule::SuspendedMember,
            format!("member {peer} is suspended or unknown"),
        )
    } else {
        Denial::new(
            Rule::Agreement,
            format!("{peer} shares no agreement with this node"),
        )
    }
}

/// The objects (JSON text, redacted for it) that `peer` may be sent now (see
/// [`decide_for_peer`]).
pub fn for_peer(federation: &Federation, peer: &str, objects: &[&str]) -> Vec<String> {
    decide_for_peer(federation, peer, objects, &mut Withheld::default())
}

/// The `id` of an object's JSON text (empty when it has none).
fn object_id(object: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Id {
        id: Option<String>,
    }
    serde_json::from_str::<Id>(object)
        .ok()
        .and_then(|i| i.id)
        .unwrap_or_default()
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
pub fn body_objects(body: &str) -> Result<Vec<Box<serde_json::value::RawValue>>, QueuedError> {
    #[derive(serde::Deserialize)]
    struct Body {
        objects: Vec<Box<serde_json::value::RawValue>>,
    }
    serde_json::from_str::<Body>(body)
        .map(|b| b.objects)
        .map_err(QueuedError::Objects)
}

/// The body of an envelope queued at `queued_at` with only what `peer` may still be sent
/// now: the body as queued when nothing the decision rests on has changed since. What is
/// taken out is tallied in `withheld`.
pub fn still_allowed(
    federation: &Federation,
    peer: &str,
    queued_at: i64,
    body: &str,
    withheld: &mut Withheld,
) -> Result<String, QueuedError> {
    if federation.unchanged_since(queued_at) {
        return Ok(body.to_owned());
    }
    let objects = body_objects(body)?;
    let texts: Vec<&str> = objects.iter().map(|o| o.get()).collect();
    let allowed = decide_for_peer(federation, peer, &texts, withheld);
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

/// What [`enqueue`] queued, and what it withheld from whom.
#[derive(Debug, Default)]
pub struct Queued {
    /// Objects queued, all peers together (sightings included).
    pub objects: usize,
    /// Objects withheld from peers, by peer and rule.
    pub withheld: Withheld,
}

/// Queues what [`plan`] gives in each peer's outbox, sealed (see [`super::seal`]) by this
/// node (identity key `key`), and the sightings [`super::sighting`] sends back to
/// originators. A node without its own member record queues nothing.
pub async fn enqueue(
    store: &dyn Store,
    federation: &Federation,
    key: &NodeKey,
    objects: &[&str],
) -> Result<Queued, StoreError> {
    let Some(local) = &federation.local else {
        return Ok(Queued::default());
    };
    let sealer = Sealer::new(&local.0, key, federation);
    let Plan { shared, withheld } = plan(federation, objects);
    let mut queued = 0;
    for (peer, shared) in shared {
        let items = shared
            .chunks(ENVELOPE_OBJECTS)
            .map(|chunk| {
                queued += chunk.len();
                sealer.item(&peer, OutboxKind::StixObjects, objects_body(chunk))
            })
            .collect();
        store.outbox_push(&peer, items).await?;
    }
    // Sightings of other members' objects also go back to their originators.
    queued += super::sighting::enqueue(store, federation, &sealer, objects).await?;
    Ok(Queued {
        objects: queued,
        withheld,
    })
}
