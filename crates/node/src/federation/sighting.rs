//! Sightings back to originators: when a local user stores a STIX `sighting` whose
//! `sighting_of_ref` names an object another member originated, this node tells that member
//! in a `sighting` envelope, `{"sighting": OBJECT}`, through the same durable outbox as
//! everything else (sequence, retries, receipts, pulls).
//!
//! **Who gets it.** The originator of the sighted object: the member its `created_by_ref`
//! names when that is a registered member, else the member whose collection ("Shared by
//! …", origin = that member) holds it. An object a member relayed goes back to its
//! creator, not to the member in between. Nobody else: other peers get the sighting only as
//! an ordinary shared object, when an agreement's `object_types` lists `sighting`.
//!
//! **The rule.** Sovereignty first: an agreement in force between this node and the
//! originator must exist (an active, fully signed agreement within its validity), or
//! nothing leaves, whatever the sighting's TLP. The agreement's `object_types` scope is not
//! asked for `sighting`: a sighting of the originator's own object is an answer about its
//! own intelligence, which the originator shared for that purpose. Everything else is the
//! policy engine's, channel `federation send`, exactly as for shared objects: the sighting's
//! TLP against the agreement's `max_tlp`, TLP:RED only to named recipients, handling codes,
//! the agreement's purposes, a suspended member gets nothing, granular markings redact. A
//! sighting created by a third member is judged as that member's (not passed on above GREEN).
//!
//! **What it carries.** The sighting as the policy releases it, with `created_by_ref` set
//! to this node's member id when absent. `observed_data_refs` name this node's evidence,
//! which the originator cannot read, and are stripped (the observed data go, if at all, as
//! ordinary shared objects under an agreement that covers them); `where_sighted_refs` keep
//! only this node's own identity (a member both sides know), other references are stripped.
//! `count`, `first_seen`, `last_seen`, `summary` and the rest go as written. What leaves is
//! decided again at delivery: a sighting the policy no longer lets go travels as
//! `{"sighting": null}`, which the originator records and ignores.
//!
//! **Receiving.** The sender must be an active member (checked by the inbox) with an
//! agreement in force with this node; the body must be `{"sighting": OBJECT}`; the object a
//! valid STIX 2.1 sighting whose `sighting_of_ref` names an object this node originated
//! (created by this node, or held in a plain collection and not created by another member); and the policy engine
//! must let it come from the sender under their agreements, judged as the sender's node
//! judges it. Then it is stored in the collection "Sightings from <member>" (origin = the
//! sender) with the inbox record and its log commitment in one transaction. Anything else
//! is refused as a whole with a signed receipt, recorded and committed to the log; a replay
//! gets the same receipt. [`received`] counts what arrived, per sighted object and member
//! (`comity sightings`, `GET /api/v1/sightings`).

use std::collections::{BTreeMap, BTreeSet};

use comity_store::{
    CollectionRef, ObjectFilter, OutboxKind, PageRequest, Store, StoreError, VersionFilter,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use time::OffsetDateTime;

use crate::intake;
use crate::policy::{
    Access, Agreement, AgreementStatus, Channel, Decision, MarkedObject, MemberId, MemberStatus,
    Peer, Policy, Purpose, Requester,
};
use crate::registry::{Directory, Federation};

use super::delivery::QueuedError;
use super::envelope::Envelope;
use super::inbox::{member_collection, Answer, Inbox, InboxError};
use super::seal::Sealer;

mod received;
pub use received::{received, sighting_collections, Seen, Window, WindowCount};

/// The STIX type this module carries.
pub const SIGHTING: &str = "sighting";
/// Most sighted objects looked up in one query.
const LOOKUP: usize = 500;

/// The body of a `sighting` envelope: the sighting, or `null` when it was withheld at
/// delivery.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    sighting: Option<Box<RawValue>>,
}

/// The properties of an object this module looks at.
#[derive(Debug, Deserialize)]
struct Head {
    #[serde(rename = "type")]
    object_type: String,
    sighting_of_ref: Option<String>,
    created_by_ref: Option<String>,
}

/// Whether `peer` is active and shares an agreement in force with this node at `at`.
pub fn in_force(peer: &Peer, at: OffsetDateTime) -> bool {
    peer.status == MemberStatus::Active
        && peer.agreements.iter().any(|a| {
            a.status == AgreementStatus::Active
                && a.valid_from <= at
                && a.valid_until.is_none_or(|u| at < u)
        })
}

/// `agreements` with `sighting` added to their object types: a sighting goes back to the
/// originator whatever types the agreement lists.
fn for_sightings(agreements: &[Agreement]) -> Vec<Agreement> {
    agreements
        .iter()
        .cloned()
        .map(|mut a| {
            a.scope.object_types.insert(SIGHTING.to_owned());
            a
        })
        .collect()
}

/// Whether the sighting `json` (originated by `originator`) may go from `giver` to
/// `receiver`, given the agreements between them, and as what: the JSON text with what
/// granular markings withhold removed, or why not.
pub fn release(
    giver: &MemberId,
    receiver: &Peer,
    originator: MemberId,
    json: &str,
    at: OffsetDateTime,
) -> Result<String, String> {
    if !in_force(receiver, at) {
        return Err(format!(
            "no agreement is in force between {giver} and {}",
            receiver.member
        ));
    }
    let marked = MarkedObject::from_json(json, |_| originator)
        .map_err(|e| format!("its markings cannot be read: {e}"))?;
    let requester = Requester::Peer(Peer {
        member: receiver.member.clone(),
        status: receiver.status,
        agreements: for_sightings(&receiver.agreements),
    });
    let policy = Policy::new(giver.clone());
    let mut why = None;
    for purpose in Purpose::ALL {
        if !receiver
            .agreements
            .iter()
            .any(|a| a.scope.purposes.contains(&purpose))
        {
            continue;
        }
        let decision = policy.decide(&Access {
            object: &marked,
            requester: &requester,
            channel: Channel::FederationSend,
            purpose,
            at,
        });
        match decision {
            Decision::Allow { redact } if redact.is_empty() => return Ok(json.to_owned()),
            Decision::Allow { redact } => {
                let value: Value =
                    serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
                return crate::policy::redact_valid(value, &redact)
                    .map(|v| v.to_string())
                    .map_err(|e| e.to_string());
            }
            Decision::Deny { reason } => {
                why.get_or_insert(reason.reason);
            }
        }
    }
    Err(why.unwrap_or_else(|| "no agreement allows any purpose".to_owned()))
}

/// The sighting as it travels from `local`: `observed_data_refs` stripped,
/// `where_sighted_refs` kept only where they name `local`, `created_by_ref` set to `local`
/// when absent.
pub fn outgoing(json: &str, local: &str) -> Result<String, String> {
    let mut value: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| "not a JSON object".to_owned())?;
    object.remove("observed_data_refs");
    if let Some(Value::Array(refs)) = object.get_mut("where_sighted_refs") {
        refs.retain(|r| r.as_str() == Some(local));
        if refs.is_empty() {
            object.remove("where_sighted_refs");
        }
    }
    object
        .entry("created_by_ref")
        .or_insert_with(|| Value::String(local.to_owned()));
    Ok(value.to_string())
}

/// The members that originated the object `id` as this node holds it, one per collection
/// holding it: the member its `created_by_ref` names when that is a registered member (a
/// peer, or this node), else the collection's origin (the member that shared it), else, in
/// a plain collection, this node. Views are not looked at.
pub async fn originators(
    store: &dyn Store,
    federation: &Federation,
    local: &MemberId,
    id: &str,
) -> Result<BTreeSet<MemberId>, StoreError> {
    let mut all = originators_of(store, federation, local, &[id.to_owned()]).await?;
    Ok(all.remove(id).unwrap_or_default())
}

/// [`originators`] of many objects at once, by id (ids held nowhere are left out): one
/// query per collection for every [`LOOKUP`] ids.
pub async fn originators_of(
    store: &dyn Store,
    federation: &Federation,
    local: &MemberId,
    ids: &[String],
) -> Result<BTreeMap<String, BTreeSet<MemberId>>, StoreError> {
    let mut found: BTreeMap<String, BTreeSet<MemberId>> = BTreeMap::new();
    if ids.is_empty() {
        return Ok(found);
    }
    for root in store.api_roots().await? {
        for c in store.collections(&root.name).await? {
            if c.view.is_some() {
                continue;
            }
            for chunk in ids.chunks(LOOKUP) {
                let filter = ObjectFilter {
                    ids: chunk.to_vec(),
                    versions: VersionFilter::last(),
                    ..ObjectFilter::default()
                };
                let page = PageRequest {
                    limit: chunk.len(),
                    after: None,
                };
                for held in store.objects(&c.key(), &filter, &page).await?.items {
                    let by = serde_json::from_str::<Head>(&held.json)
                        .ok()
                        .and_then(|h| h.created_by_ref)
                        .filter(|by| *by == local.0 || federation.peers.contains_key(by.as_str()));
                    let member = match (by, &c.origin) {
                        (Some(by), _) => MemberId(by),
                        (None, Some(origin)) => MemberId(origin.clone()),
                        (None, None) => local.clone(),
                    };
                    found.entry(held.id).or_default().insert(member);
                }
            }
        }
    }
    Ok(found)
}

/// Queues, for each sighting among `objects` (JSON texts just stored in a plain collection)
/// of an object another member originated, a `sighting` envelope to that member when the
/// rule above lets it go. Returns how many were queued.
pub async fn enqueue(
    store: &dyn Store,
    federation: &Federation,
    sealer: &Sealer,
    objects: &[&str],
) -> Result<usize, StoreError> {
    let Some(local) = federation.local.clone() else {
        return Ok(0);
    };
    if federation.peers.is_empty() {
        return Ok(0);
    }
    // The sightings among the objects, then where their sighted objects come from.
    let sightings: Vec<(&str, Head, String)> = objects
        .iter()
        .filter(|text| text.contains("\"sighting\""))
        .filter_map(|text| {
            let head = serde_json::from_str::<Head>(text).ok()?;
            let target = head.sighting_of_ref.clone()?;
            (head.object_type == SIGHTING).then_some((*text, head, target))
        })
        .collect();
    if sightings.is_empty() {
        return Ok(0);
    }
    let mut targets: Vec<String> = sightings.iter().map(|(_, _, t)| t.clone()).collect();
    targets.sort();
    targets.dedup();
    let held = originators_of(store, federation, &local, &targets).await?;
    let now = OffsetDateTime::now_utc();
    let mut queued = 0;
    for (text, head, target) in &sightings {
        let by = federation.originator(head.created_by_ref.as_deref(), &local);
        for member in held.get(target).into_iter().flatten() {
            // Not back to ourselves, nor to the member who made the sighting.
            if *member == local || *member == by {
                continue;
            }
            let Some(peer) = federation.peers.get(member) else {
                continue;
            };
            let released = release(&local, peer, by.clone(), text, now)
                .and_then(|json| outgoing(&json, &local.0));
            match released {
                Ok(json) => {
                    let item = sealer.item(&member.0, OutboxKind::Sighting, body(Some(&json)));
                    store.outbox_push(&member.0, vec![item]).await?;
                    queued += 1;
                }
                Err(why) => {
                    tracing::info!(peer = %member, target = %target, reason = %why, "sighting not sent to the originator")
                }
            }
        }
    }
    Ok(queued)
}

/// The body of a `sighting` envelope carrying `sighting` (JSON text), or withheld.
pub fn body(sighting: Option<&str>) -> String {
    match sighting {
        Some(json) => format!("{{\"sighting\":{json}}}"),
        None => "{\"sighting\":null}".to_owned(),
    }
}

/// The body of a `sighting` envelope queued at `queued_at`, as it may leave now: as queued
/// when nothing the decision rests on changed since, withheld (`null`) when the policy no
/// longer lets it go to `peer`.
pub fn still_allowed(
    federation: &Federation,
    peer: &str,
    queued_at: i64,
    queued: &str,
) -> Result<String, QueuedError> {
    if federation.unchanged_since(queued_at) {
        return Ok(queued.to_owned());
    }
    let parsed: Body = serde_json::from_str(queued).map_err(QueuedError::Sighting)?;
    let Some(sighting) = parsed.sighting else {
        return Ok(queued.to_owned());
    };
    let (Some(local), Some(receiver)) = (federation.local.as_ref(), federation.peers.get(peer))
    else {
        return Ok(body(None));
    };
    let by = serde_json::from_str::<Head>(sighting.get())
        .ok()
        .and_then(|h| h.created_by_ref);
    let originator = federation.originator(by.as_deref(), local);
    match release(
        local,
        receiver,
        originator,
        sighting.get(),
        OffsetDateTime::now_utc(),
    ) {
        Ok(json) => Ok(body(Some(&json))),
        Err(why) => {
            tracing::info!(peer = %peer, reason = %why, "sighting withheld at delivery");
            Ok(body(None))
        }
    }
}

/// The id of the collection that receives `sender`'s sightings.
pub fn collection_id(sender: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("sightings:{sender}").as_bytes(),
    )
    .to_string()
}

/// The collection that receives `sender`'s sightings, made on first use.
async fn collection_for(store: &dyn Store, sender: &str) -> Result<CollectionRef, InboxError> {
    member_collection(
        store,
        sender,
        collection_id(sender),
        |name| format!("Sightings from {name}"),
        format!("Sightings {sender} reported of objects this node originated."),
    )
    .await
}

/// Applies a `sighting` envelope from a verified, active sender (see the module doc).
pub(super) async fn receive(
    inbox: &Inbox<'_>,
    local: &str,
    env: &Envelope,
) -> Result<Answer, InboxError> {
    let body: Body = match serde_json::from_str(env.body.get()) {
        Ok(b) => b,
        Err(e) => {
            let why = format!("the body is not {{\"sighting\": {{...}}}}: {e}");
            return inbox.refuse_recorded(local, env, why).await;
        }
    };
    let Some(raw) = body.sighting else {
        // Withheld by the sender at delivery: nothing to store.
        return inbox.deliver_recorded(local, env, 0).await;
    };
    let store = inbox.store();
    let federation = Directory::new(store).federation().await?;
    let ours = MemberId(local.to_owned());
    let sender = MemberId(env.from.clone());
    let now = OffsetDateTime::now_utc();
    let agreements = federation
        .peers
        .get(&sender)
        .map(|p| p.agreements.clone())
        .unwrap_or_default();
    let us_as_peer = Peer {
        member: ours.clone(),
        status: MemberStatus::Active,
        agreements,
    };
    if !in_force(&us_as_peer, now) {
        let why = format!("no agreement is in force between {sender} and this node");
        return inbox.refuse_recorded(local, env, why).await;
    }
    let mut examined = match intake::examine(0, &raw) {
        Ok(e) => e,
        Err(r) => {
            let why = format!(
                "the sighting is not valid STIX 2.1: {}",
                r.reasons.join("; ")
            );
            return inbox.refuse_recorded(local, env, why).await;
        }
    };
    let head = serde_json::from_str::<Head>(raw.get()).ok();
    let target = match head {
        Some(Head {
            object_type,
            sighting_of_ref: Some(target),
            ..
        }) if object_type == SIGHTING => target,
        _ => {
            let why = format!(
                "a sighting envelope carries a STIX sighting, not a {}",
                examined.object.object_type
            );
            return inbox.refuse_recorded(local, env, why).await;
        }
    };
    if !originators(store, &federation, &ours, &target)
        .await?
        .contains(&ours)
    {
        let why = format!("{target} is not an object this node originated");
        return inbox.refuse_recorded(local, env, why).await;
    }
    // Judged as the sender's node judges it: the sender gives, this node receives.
    if let Err(why) = release(&sender, &us_as_peer, sender.clone(), raw.get(), now) {
        let why = format!("the policy does not let this sighting come from {sender}: {why}");
        return inbox.refuse_recorded(local, env, why).await;
    }
    examined.originator = Some(env.from.clone());
    let collection = collection_for(store, &env.from).await?;
    let entries = inbox
        .log()
        .object_entries(std::slice::from_ref(&examined))?;
    inbox
        .apply_objects(local, env, &collection, vec![examined.object], entries)
        .await
}

#[cfg(test)]
mod tests;
