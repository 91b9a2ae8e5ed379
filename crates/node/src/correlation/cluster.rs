//! Clusters: reports, groupings, incidents, campaigns, intrusion sets, threat actors and
//! malware linked through shared infrastructure, as a graph whose every edge carries its
//! evidence (which values or objects, held by whom, from which members).
//!
//! Built outward from one object: its members (what a report or grouping lists, what a
//! relationship ties to an incident, a campaign…; an object of another type is its own
//! only member) are looked up in the value index with [`who_else`](super::who_else), and
//! what relates to the other holders of their values becomes a neighbour, up to a depth
//! and a number of nodes. Everything passes the reader's rights exactly as "who else"
//! does: a node, an edge or a piece of evidence the reader may not read is not there.
//! [`export`] writes a cluster as GraphML or as a STIX `grouping`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use comity_stix::tlp::{tlp_of_marking_ref, Tlp};
use comity_store::{Store, StoreError};
use serde::Serialize;

use super::values::Kind;
use super::warnings::WarningLists;
use super::who_else::{
    correlate, far_end, listed, related, released_object, type_of, CorrelationError, Reader,
    Subject, MAX_LISTED,
};

pub mod export;

/// Types a cluster's nodes may have.
pub const NODE_TYPES: [&str; 7] = [
    "report",
    "grouping",
    "incident",
    "campaign",
    "intrusion-set",
    "threat-actor",
    "malware",
];

/// How far and how wide a cluster grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Steps from the seed (1 to [`MAX_DEPTH`]).
    pub depth: usize,
    /// Most nodes, the seed included (1 to [`MAX_NODES`]).
    pub max_nodes: usize,
}

/// Deepest cluster asked for.
pub const MAX_DEPTH: usize = 3;
/// Most nodes in a cluster.
pub const MAX_NODES: usize = 500;
/// Holders listed per value when looking for neighbours.
const HOLDERS_PER_VALUE: usize = 100;

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            depth: 2,
            max_nodes: 100,
        }
    }
}

/// Why a cluster cannot be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The seed does not exist or the reader may not read it (one answer for both).
    #[error("no object {0} that you may read")]
    NotFound(String),
    /// Depth or size out of range.
    #[error("depth must be 1 to {MAX_DEPTH} and max_nodes 1 to {MAX_NODES}")]
    Bounds,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CorrelationError> for ClusterError {
    fn from(e: CorrelationError) -> Self {
        match e {
            CorrelationError::Store(e) => ClusterError::Store(e),
            // Object subjects never fail to parse; say so rather than panic if one did.
            CorrelationError::NotAValue(v) => ClusterError::NotFound(v),
        }
    }
}

/// A cluster: its nodes, its edges with their evidence, and whether bounds cut it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cluster {
    /// The object it was built from.
    pub seed: String,
    /// Every node, the seed first, then by distance and id.
    pub nodes: Vec<Node>,
    /// Every edge, by its ends.
    pub edges: Vec<Edge>,
    /// The most restrictive TLP of every object it draws on (unmarked counts as AMBER):
    /// what the cluster itself must be marked with when it is shared.
    pub tlp: String,
    /// Whether the depth, the number of nodes or of members looked at left some out.
    pub truncated: bool,
}

/// One node of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// Its STIX id.
    pub id: String,
    /// Its STIX type.
    #[serde(rename = "type")]
    pub object_type: String,
    /// Its `name`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The member it comes from.
    pub originator: String,
    /// Steps from the seed.
    pub distance: usize,
}

/// Two nodes that share values or objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// One end (the smaller id).
    pub source: String,
    /// The other end.
    pub target: String,
    /// What they share.
    pub evidence: Vec<Evidence>,
}

/// One thing two nodes share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The value's kind (`ipv4-addr`, `hash:SHA-256`, …), or `object` when both list the
    /// same object.
    pub kind: String,
    /// The value in its normal form, or the shared object's id.
    pub value: String,
    /// The objects that hold it, on both sides of the edge.
    pub holders: Vec<String>,
    /// The members those holders come from.
    pub members: Vec<String>,
}

/// What is known while a cluster grows.
#[derive(Default)]
struct Growing {
    nodes: BTreeMap<String, Node>,
    edges: BTreeMap<(String, String), BTreeMap<(String, String), Evidence>>,
    drawn_on: BTreeSet<String>,
    tlp: Option<Tlp>,
    truncated: bool,
}

impl Growing {
    fn note_markings(&mut self, object: &serde_json::Value) {
        let tlp = object
            .get("object_marking_refs")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|m| tlp_of_marking_ref(m.as_str()?))
            .max()
            .unwrap_or(Tlp::Amber);
        self.tlp = self.tlp.max(Some(tlp));
    }

    fn link(&mut self, a: &str, b: &str, evidence: Evidence) {
        let key = if a < b { (a, b) } else { (b, a) };
        let found = self
            .edges
            .entry((key.0.to_owned(), key.1.to_owned()))
            .or_default();
        let entry = found
            .entry((evidence.kind.clone(), evidence.value.clone()))
            .or_insert_with(|| Evidence {
                holders: Vec::new(),
                members: Vec::new(),
                ..evidence.clone()
            });
        for (into, from) in [
            (&mut entry.holders, evidence.holders),
            (&mut entry.members, evidence.members),
        ] {
            into.extend(from);
            into.sort();
            into.dedup();
        }
    }
}

/// Builds the cluster around `seed` for `reader`, within `bounds`.
pub async fn cluster(
    store: &dyn Store,
    reader: &Reader,
    warnings: &WarningLists,
    seed: &str,
    bounds: Bounds,
) -> Result<Cluster, ClusterError> {
    if !(1..=MAX_DEPTH).contains(&bounds.depth) || !(1..=MAX_NODES).contains(&bounds.max_nodes) {
        return Err(ClusterError::Bounds);
    }
    let Some((object, originator)) = released_object(store, reader, seed).await? else {
        return Err(ClusterError::NotFound(seed.to_owned()));
    };
    let mut g = Growing::default();
    add_node(&mut g, seed, &object, originator, 0);
    let mut queue = VecDeque::from([(seed.to_owned(), object, 0usize)]);
    while let Some((id, object, distance)) = queue.pop_front() {
        let neighbours = neighbours(store, reader, warnings, &id, &object, &mut g).await?;
        for (other, evidence) in neighbours {
            if !g.nodes.contains_key(&other) {
                if distance + 1 > bounds.depth || g.nodes.len() >= bounds.max_nodes {
                    g.truncated = true;
                    continue;
                }
                let Some((far, originator)) = released_object(store, reader, &other).await? else {
                    continue;
                };
                add_node(&mut g, &other, &far, originator, distance + 1);
                queue.push_back((other.clone(), far, distance + 1));
            }
            for e in evidence {
                g.link(&id, &other, e);
            }
        }
    }
    for holder in std::mem::take(&mut g.drawn_on) {
        if let Some((object, _)) = released_object(store, reader, &holder).await? {
            g.note_markings(&object);
        }
    }
    let mut nodes: Vec<Node> = g.nodes.into_values().collect();
    nodes.sort_by(|a, b| (a.distance, a.id != seed, &a.id).cmp(&(b.distance, b.id != seed, &b.id)));
    Ok(Cluster {
        seed: seed.to_owned(),
        nodes,
        edges: g
            .edges
            .into_iter()
            .map(|((source, target), evidence)| Edge {
                source,
                target,
                evidence: evidence.into_values().collect(),
            })
            .collect(),
        tlp: g.tlp.unwrap_or(Tlp::Amber).extension_value().to_owned(),
        truncated: g.truncated,
    })
}

fn add_node(
    g: &mut Growing,
    id: &str,
    object: &serde_json::Value,
    originator: String,
    distance: usize,
) {
    g.note_markings(object);
    g.nodes.insert(
        id.to_owned(),
        Node {
            id: id.to_owned(),
            object_type: type_of(id).to_owned(),
            name: object
                .get("name")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            originator,
            distance,
        },
    );
}

/// The nodes that share something with node `id`, each with the evidence.
async fn neighbours(
    store: &dyn Store,
    reader: &Reader,
    warnings: &WarningLists,
    id: &str,
    object: &serde_json::Value,
    g: &mut Growing,
) -> Result<BTreeMap<String, Vec<Evidence>>, ClusterError> {
    let members = members(store, reader, id, object, g).await?;
    let mut found: BTreeMap<String, Vec<Evidence>> = BTreeMap::new();
    for member in &members {
        let originator = match released_object(store, reader, member).await? {
            Some((_, originator)) => originator,
            None => continue,
        };
        // Another node listing the same object.
        for r in related(store, reader, &[member.as_str()]).await? {
            if r.id != id && NODE_TYPES.contains(&r.object_type.as_str()) {
                g.drawn_on.insert(member.clone());
                found.entry(r.id).or_default().push(Evidence {
                    kind: "object".into(),
                    value: member.clone(),
                    holders: vec![member.clone()],
                    members: vec![originator.clone()],
                });
            }
        }
        // Other holders of its values, and what relates to them.
        let answer = correlate(
            store,
            reader,
            warnings,
            &Subject::Object(member.clone()),
            HOLDERS_PER_VALUE,
        )
        .await?;
        for v in answer.values.into_iter().filter(|v| !v.suppressed) {
            for r in v.related {
                if r.id == id || !NODE_TYPES.contains(&r.object_type.as_str()) {
                    continue;
                }
                let mut members: BTreeSet<String> = v
                    .objects
                    .iter()
                    .filter(|o| r.via.contains(&o.id))
                    .map(|o| o.originator.clone())
                    .collect();
                members.insert(originator.clone());
                let mut holders = r.via;
                holders.push(member.clone());
                g.drawn_on.extend(holders.iter().cloned());
                found.entry(r.id).or_default().push(Evidence {
                    kind: v.kind.clone(),
                    value: v.value.clone(),
                    holders,
                    members: members.into_iter().collect(),
                });
            }
        }
    }
    Ok(found)
}

/// What node `id` stands for: the objects a report or grouping lists, the objects
/// relationships tie to it, or the object itself when it is not of a node type.
async fn members(
    store: &dyn Store,
    reader: &Reader,
    id: &str,
    object: &serde_json::Value,
    g: &mut Growing,
) -> Result<Vec<String>, StoreError> {
    if !NODE_TYPES.contains(&type_of(id)) {
        return Ok(vec![id.to_owned()]);
    }
    let mut members = listed(object);
    let tied = store
        .postings_of_values(&Kind::Reference.name(), &[id.to_owned()])
        .await?;
    for p in tied {
        if p.is_last && type_of(&p.object.id) == "relationship" && reader.allows(&p) {
            if let Some(other) = far_end(&p.object.json, id) {
                members.insert(other);
            }
        }
    }
    members.remove(id);
    if members.len() > MAX_LISTED {
        g.truncated = true;
    }
    Ok(members.into_iter().take(MAX_LISTED).collect())
}

#[cfg(test)]
mod tests;
