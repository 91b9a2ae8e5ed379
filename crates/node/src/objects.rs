//! Storing STIX objects in a collection, the one write path of TAXII POST and
//! `comity import`: examined objects are [`prepare`]d (each gets its log entry), stored with
//! their entries in one transaction, and offered to the peers whose agreements cover them
//! when the collection is federated. [`post`] adds the TAXII status.

use comity_store::{AddOutcome, Collection, NewObject, Status, StatusDetail, StoreError};

use crate::federation::plan::{self, Queued};
use crate::intake::{Examined, Refusal};
use crate::log::{LogError, NodeLog};
use crate::node::Node;
use crate::registry::RegistryError;
use comity_stix::clock::{format_us, now_us};
use comity_store::OpenableEntry;

/// Objects ready to store: each with the log entry that commits to it.
pub struct Prepared {
    objects: Vec<NewObject>,
    entries: Vec<OpenableEntry>,
}

/// Computes the log entries of `examined` (CPU work: run it off the async threads for
/// large batches).
pub fn prepare(log: &NodeLog, examined: Vec<Examined>) -> Result<Prepared, LogError> {
    let entries = log.object_entries(&examined)?;
    let objects = examined.into_iter().map(|e| e.object).collect();
    Ok(Prepared { objects, entries })
}

/// What happened to one object.
#[derive(Debug)]
pub struct Outcome {
    /// The object's id.
    pub id: String,
    /// Its version (`modified`, else `created`, else empty).
    pub version: String,
    /// Stored, already there, or refused for a conflicting version.
    pub outcome: AddOutcome,
}

/// Whether the stored objects were offered to peers.
#[derive(Debug)]
pub enum Sharing {
    /// The collection is not federated (or holds received objects, or is a view).
    NotFederated,
    /// Queued in the outboxes of the peers that may receive them.
    Queued(Queued),
    /// Stored but not queued: why (the objects stay stored; a retry queues them).
    Failed(String),
}

/// The result of [`add`].
#[derive(Debug)]
pub struct Stored {
    /// One outcome per object, in order.
    pub outcomes: Vec<Outcome>,
    /// What was offered to peers.
    pub sharing: Sharing,
}

/// Stores `prepared` in `collection` with its log entries in one transaction, then offers
/// what was stored (or was already there: a retry after a crash between storing and
/// queuing must not leave objects unshared; receivers store each version once) to peers.
pub async fn add(
    node: &Node,
    collection: &Collection,
    prepared: Prepared,
) -> Result<Stored, StoreError> {
    let Prepared { objects, entries } = prepared;
    // Only a plain collection an admin federated offers its objects to peers; its texts are
    // kept for that, and only then.
    let plain = collection.origin.is_none() && collection.view.is_none();
    let federated = match plain {
        true => node
            .store()
            .collection_federated(&collection.key())
            .await
            .map_err(|e| format!("whether the collection is federated cannot be read: {e}")),
        false => Ok(false),
    };
    let texts: Vec<String> = if federated == Ok(true) {
        objects.iter().map(|o| o.json.clone()).collect()
    } else {
        Vec::new()
    };
    let ids: Vec<(String, String)> = objects
        .iter()
        .map(|o| (o.id.clone(), o.version.clone()))
        .collect();
    let added = NodeLog::add_objects(node.store(), &collection.key(), objects, entries).await?;
    let mut offered = Vec::new();
    let outcomes = ids
        .into_iter()
        .zip(added)
        .enumerate()
        .map(|(i, ((id, version), outcome))| {
            if !matches!(outcome, AddOutcome::ConflictingVersion) {
                offered.extend(texts.get(i).map(String::as_str));
            }
            Outcome {
                id,
                version,
                outcome,
            }
        })
        .collect();
    let sharing = match federated {
        Ok(true) => share(node, &offered).await,
        Ok(false) => Sharing::NotFederated,
        Err(why) => Sharing::Failed(why),
    };
    Ok(Stored { outcomes, sharing })
}

/// Queues `objects` (just stored in a federated collection) for the peers that may
/// receive them.
async fn share(node: &Node, objects: &[&str]) -> Sharing {
    if objects.is_empty() {
        return Sharing::NotFederated;
    }
    let queued = match node.view().federation().await {
        Ok(federation) => plan::enqueue(node.store(), &federation, node.log().node_key(), objects)
            .await
            .map_err(RegistryError::from),
        Err(e) => Err(e),
    };
    match queued {
        Ok(queued) => {
            if queued.objects > 0 {
                node.outbox_ready();
            }
            Sharing::Queued(queued)
        }
        Err(e) => Sharing::Failed(e.to_string()),
    }
}

/// The result of [`post`].
#[derive(Debug)]
pub struct Posted {
    /// The TAXII status, stored (readable by its poster).
    pub status: Status,
    /// What was offered to peers.
    pub sharing: Sharing,
}

/// TAXII POST: stores `prepared` as [`add`] does and records the complete status listing
/// each object's outcome, the `refused` ones (refused at intake) among the failures.
pub async fn post(
    node: &Node,
    collection: &Collection,
    prepared: Prepared,
    refused: Vec<StatusDetail>,
    poster: &str,
    request_timestamp: String,
) -> Result<Posted, StoreError> {
    let mut failures = refused;
    let mut successes = Vec::new();
    let stored = if prepared.objects.is_empty() {
        Stored {
            outcomes: Vec::new(),
            sharing: Sharing::NotFederated,
        }
    } else {
        add(node, collection, prepared).await?
    };
    for Outcome {
        id,
        version,
        outcome,
    } in stored.outcomes
    {
        match outcome {
            AddOutcome::Added { .. } => successes.push(StatusDetail {
                id,
                version,
                message: None,
            }),
            AddOutcome::AlreadyStored => successes.push(StatusDetail {
                id,
                version,
                message: Some("already stored".into()),
            }),
            AddOutcome::ConflictingVersion => {
                failures.push(Refusal::version_conflict(id, version).into())
            }
        }
    }
    let status = Status {
        id: uuid::Uuid::new_v4().to_string(),
        api_root: collection.api_root.clone(),
        status: "complete".into(),
        request_timestamp,
        created_us: now_us(),
        successes,
        failures,
        pendings: Vec::new(),
        poster: Some(poster.to_owned()),
    };
    node.store().put_status(&status).await?;
    Ok(Posted {
        status,
        sharing: stored.sharing,
    })
}

/// Deletes versions of an object (the filter selects which); how many were deleted.
pub async fn delete(
    node: &Node,
    collection: &Collection,
    id: &str,
    filter: &comity_store::ObjectFilter,
) -> Result<u64, StoreError> {
    node.store()
        .delete_object(&collection.key(), id, filter)
        .await
}

/// The TAXII time of now.
pub fn request_timestamp() -> String {
    format_us(now_us())
}
