//! A cluster written for other tools: GraphML (Gephi, yEd, networkx) and a STIX 2.1
//! `grouping` that lists the nodes and the objects holding the evidence, marked with the
//! most restrictive TLP of what it draws on.

use std::collections::BTreeSet;

use comity_stix::clock::{format_us, now_us};
use comity_stix::tlp::Tlp;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{Cluster, Edge, Evidence};
use crate::registry::RegistryError;
use crate::Node;

/// The namespace of groupings' deterministic ids (one cluster, one id).
const NAMESPACE: Uuid = Uuid::from_u128(0x3f0d_6a52_8c1e_4b7a_a9d2_51e8_0c47_b36e);

/// GraphML attributes: (id, for, type).
const KEYS: [(&str, &str, &str); 7] = [
    ("type", "node", "string"),
    ("name", "node", "string"),
    ("originator", "node", "string"),
    ("distance", "node", "int"),
    ("evidence", "edge", "string"),
    ("members", "edge", "string"),
    ("weight", "edge", "int"),
];

/// Text as XML 1.0 may hold it: characters it forbids (most control characters,
/// U+FFFE, U+FFFF) become U+FFFD.
fn xml_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// One line per piece of evidence: `kind value (members)`.
fn evidence_text(evidence: &[Evidence]) -> String {
    evidence
        .iter()
        .map(|e| format!("{} {} ({})", e.kind, e.value, e.members.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn edge_members(edge: &Edge) -> String {
    let members: BTreeSet<&str> = edge
        .evidence
        .iter()
        .flat_map(|e| e.members.iter().map(String::as_str))
        .collect();
    members.into_iter().collect::<Vec<_>>().join(", ")
}

/// The cluster as a GraphML document (undirected; node data: type, name, originator,
/// distance; edge data: evidence, members, weight = pieces of evidence).
pub fn graphml(cluster: &Cluster) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write_graphml(&mut w, cluster).expect("writing to memory does not fail");
    String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8")
}

fn write_graphml(w: &mut Writer<Vec<u8>>, cluster: &Cluster) -> std::io::Result<()> {
    let data = |w: &mut Writer<Vec<u8>>, key: &str, text: &str| -> std::io::Result<()> {
        w.create_element("data")
            .with_attribute(("key", key))
            .write_text_content(BytesText::new(&xml_text(text)))?;
        Ok(())
    };
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("graphml")
        .with_attribute(("xmlns", "http://graphml.graphdrawing.org/xmlns"))
        .write_inner_content(|w| {
            for (id, on, ty) in KEYS {
                w.create_element("key")
                    .with_attributes([
                        ("id", id),
                        ("for", on),
                        ("attr.name", id),
                        ("attr.type", ty),
                    ])
                    .write_empty()?;
            }
            w.create_element("graph")
                .with_attributes([("id", "cluster"), ("edgedefault", "undirected")])
                .write_inner_content(|w| {
                    for n in &cluster.nodes {
                        w.create_element("node")
                            .with_attribute(("id", xml_text(&n.id).as_str()))
                            .write_inner_content(|w| {
                                data(w, "type", &n.object_type)?;
                                if let Some(name) = &n.name {
                                    data(w, "name", name)?;
                                }
                                data(w, "originator", &n.originator)?;
                                data(w, "distance", &n.distance.to_string())
                            })?;
                    }
                    for e in &cluster.edges {
                        w.create_element("edge")
                            .with_attributes([
                                ("source", xml_text(&e.source).as_str()),
                                ("target", xml_text(&e.target).as_str()),
                            ])
                            .write_inner_content(|w| {
                                data(w, "evidence", &evidence_text(&e.evidence))?;
                                data(w, "members", &edge_members(e))?;
                                data(w, "weight", &e.evidence.len().to_string())
                            })?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    Ok(())
}

/// The cluster as a STIX 2.1 `grouping` (context `suspicious-activity`) made at `now`
/// (a STIX timestamp) by `created_by` (an identity id): its nodes and the objects holding
/// the evidence as `object_refs`, each edge a line of the description, marked with the
/// cluster's TLP. Its id is derived from the seed and the nodes, so the same cluster
/// exported again is a new version of the same grouping.
pub fn grouping(cluster: &Cluster, created_by: Option<&str>, now: &str) -> Value {
    let nodes: BTreeSet<&str> = cluster.nodes.iter().map(|n| n.id.as_str()).collect();
    let holders: BTreeSet<&str> = cluster
        .edges
        .iter()
        .flat_map(|e| e.evidence.iter())
        .flat_map(|ev| ev.holders.iter().map(String::as_str))
        .collect();
    let mut refs: Vec<&str> = vec![cluster.seed.as_str()];
    refs.extend(nodes.union(&holders).filter(|r| **r != cluster.seed));
    let key = nodes.iter().copied().collect::<Vec<_>>().join(" ");
    let id = Uuid::new_v5(&NAMESPACE, format!("{}\n{key}", cluster.seed).as_bytes());
    let seed_name = cluster
        .nodes
        .first()
        .and_then(|n| n.name.clone())
        .unwrap_or_else(|| cluster.seed.clone());
    let description = cluster
        .edges
        .iter()
        .map(|e| {
            let shared: Vec<String> = e
                .evidence
                .iter()
                .map(|ev| format!("{} {}", ev.kind, ev.value))
                .collect();
            format!("{} — {}: {}", e.source, e.target, shared.join("; "))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let tlp = Tlp::from_extension_value(&cluster.tlp).unwrap_or(Tlp::Red);
    let mut grouping = json!({
        "type": "grouping",
        "spec_version": "2.1",
        "id": format!("grouping--{id}"),
        "created": now,
        "modified": now,
        "name": format!("Cluster around {seed_name}"),
        "context": "suspicious-activity",
        "object_refs": refs,
        "object_marking_refs": [tlp.marking_ref()],
    });
    if !description.is_empty() {
        grouping["description"] = Value::String(description);
    }
    if let Some(by) = created_by {
        grouping["created_by_ref"] = Value::String(by.to_owned());
    }
    grouping
}

/// The cluster as the grouping `node`'s member makes now (see [`grouping`]; without
/// `created_by_ref` while the node has no member record).
pub async fn grouping_now(node: &Node, cluster: &Cluster) -> Result<Value, RegistryError> {
    let local = node.directory().local_member().await?;
    Ok(grouping(
        cluster,
        local.as_ref().map(|m| m.id.0.as_str()),
        &format_us(now_us()),
    ))
}
