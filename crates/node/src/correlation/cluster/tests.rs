//! Clusters over a real SQLite store: what links reports and incidents, the evidence of
//! each edge, the bounds, the reader's rights, and the two exports.

use std::collections::BTreeSet;

use comity_stix::tlp::{TLP2_CLEAR, TLP2_GREEN, TLP2_RED};
use comity_store::prelude::*;
use comity_store_sqlite::SqliteStore;
use serde_json::{json, value::RawValue, Value};

use super::export::{graphml, grouping};
use super::*;
use crate::correlation::test_store::{collection, reader, store, LOCAL, PEER};
use crate::intake::examine;

fn id(ty: &str, n: u32) -> String {
    format!("{ty}--00000000-0000-4000-8000-{n:012}")
}

fn base(ty: &str, n: u32, marking: &str) -> Value {
    json!({
        "type": ty, "spec_version": "2.1", "id": id(ty, n),
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "object_marking_refs": [marking],
    })
}

fn indicator(n: u32, pattern: &str, marking: &str) -> Value {
    let mut o = base("indicator", n, marking);
    o["pattern"] = json!(pattern);
    o["pattern_type"] = json!("stix");
    o["valid_from"] = json!("2024-01-01T00:00:00Z");
    o
}

fn report(n: u32, name: &str, refs: &[String], marking: &str) -> Value {
    let mut o = base("report", n, marking);
    o["name"] = json!(name);
    o["published"] = json!("2024-01-01T00:00:00Z");
    o["object_refs"] = json!(refs);
    o
}

fn incident(n: u32, name: &str) -> Value {
    let mut o = base("incident", n, TLP2_CLEAR);
    o["name"] = json!(name);
    o
}

fn relationship(n: u32, source: &str, target: &str) -> Value {
    let mut o = base("relationship", n, TLP2_CLEAR);
    o["relationship_type"] = json!("indicates");
    o["source_ref"] = json!(source);
    o["target_ref"] = json!(target);
    o
}

async fn put(store: &SqliteStore, peer: bool, objects: &[Value]) {
    for o in objects {
        let raw = RawValue::from_string(o.to_string()).unwrap();
        let examined = examine(0, &raw).unwrap();
        store
            .add_objects(&collection(peer), vec![examined.object])
            .await
            .unwrap();
    }
}

/// The planted world:
/// - ours: report 1 lists indicator 1 (203.0.113.5) and indicator 9 (a public resolver);
///   report 6 lists indicator 1 too; report 4 lists indicator 4 (an unrelated address);
/// - the peer's: report 2 (GREEN) lists indicator 2 (203.0.113.5) and indicator 3
///   (evil.test); incident 3, which indicator 5 (evil.test) indicates; report 5 (RED to
///   no one) lists indicator 6 (203.0.113.5); report 7 lists indicator 7 (the resolver).
async fn world(store: &SqliteStore) {
    let ip = "[ipv4-addr:value = '203.0.113.5']";
    let domain = "[domain-name:value = 'evil.test']";
    let resolver = "[ipv4-addr:value = '8.8.8.8']";
    put(
        store,
        false,
        &[
            indicator(1, ip, TLP2_CLEAR),
            indicator(9, resolver, TLP2_CLEAR),
            indicator(4, "[ipv4-addr:value = '198.51.100.7']", TLP2_CLEAR),
            report(
                1,
                "Intrusion at the ministry",
                &[id("indicator", 1), id("indicator", 9)],
                TLP2_CLEAR,
            ),
            report(6, "Second look", &[id("indicator", 1)], TLP2_CLEAR),
            report(4, "Unrelated", &[id("indicator", 4)], TLP2_CLEAR),
        ],
    )
    .await;
    put(
        store,
        true,
        &[
            indicator(2, ip, TLP2_CLEAR),
            indicator(3, domain, TLP2_CLEAR),
            indicator(5, domain, TLP2_CLEAR),
            indicator(6, ip, TLP2_CLEAR),
            indicator(7, resolver, TLP2_CLEAR),
            report(
                2,
                "Campaign against ports",
                &[id("indicator", 2), id("indicator", 3)],
                TLP2_GREEN,
            ),
            incident(3, "Port outage"),
            relationship(1, &id("indicator", 5), &id("incident", 3)),
            report(5, "Withheld", &[id("indicator", 6)], TLP2_RED),
            report(7, "Resolver noise", &[id("indicator", 7)], TLP2_CLEAR),
        ],
    )
    .await;
}

async fn build(store: &SqliteStore, readable: [bool; 2], bounds: Bounds) -> Cluster {
    cluster(
        store,
        &reader(readable),
        &WarningLists::defaults(),
        &id("report", 1),
        bounds,
    )
    .await
    .unwrap()
}

fn node_ids(c: &Cluster) -> Vec<(String, usize)> {
    c.nodes.iter().map(|n| (n.id.clone(), n.distance)).collect()
}

fn edge<'c>(c: &'c Cluster, a: &str, b: &str) -> &'c Edge {
    let (a, b) = if a < b { (a, b) } else { (b, a) };
    c.edges
        .iter()
        .find(|e| e.source == a && e.target == b)
        .unwrap_or_else(|| panic!("no edge {a} — {b} in {:#?}", c.edges))
}

#[tokio::test]
async fn reports_and_incidents_are_linked_by_shared_values_and_objects_with_their_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    world(&store).await;
    let c = build(&store, [true, true], Bounds::default()).await;
    assert_eq!(
        node_ids(&c),
        vec![
            (id("report", 1), 0),
            (id("report", 2), 1),
            (id("report", 6), 1),
            (id("incident", 3), 2),
        ],
        "the RED report, the unrelated one and the resolver's are not there"
    );
    assert_eq!(
        c.nodes[0].name.as_deref(),
        Some("Intrusion at the ministry")
    );
    assert_eq!(c.nodes[1].originator, PEER);
    assert_eq!(c.nodes[0].originator, LOCAL);
    assert!(!c.truncated);
    assert_eq!(c.tlp, "green", "the most restrictive TLP drawn on");

    let ip = edge(&c, &id("report", 1), &id("report", 2));
    assert_eq!(ip.evidence.len(), 1);
    assert_eq!(
        (ip.evidence[0].kind.as_str(), ip.evidence[0].value.as_str()),
        ("ipv4-addr", "203.0.113.5")
    );
    assert_eq!(
        ip.evidence[0].holders,
        vec![id("indicator", 1), id("indicator", 2)],
        "the holders on both sides"
    );
    assert_eq!(
        ip.evidence[0].members,
        vec![LOCAL.to_owned(), PEER.to_owned()]
    );

    let same = edge(&c, &id("report", 1), &id("report", 6));
    assert!(same
        .evidence
        .iter()
        .any(|e| e.kind == "object" && e.value == id("indicator", 1)));

    let domain = edge(&c, &id("report", 2), &id("incident", 3));
    assert_eq!(domain.evidence[0].value, "evil.test");
    let also = edge(&c, &id("report", 2), &id("report", 6));
    assert_eq!(
        also.evidence[0].value, "203.0.113.5",
        "report 6 lists indicator 1 too"
    );
    assert_eq!(c.edges.len(), 4, "{:#?}", c.edges);
}

#[tokio::test]
async fn bounds_cut_the_cluster_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    world(&store).await;
    let near = build(
        &store,
        [true, true],
        Bounds {
            depth: 1,
            max_nodes: 100,
        },
    )
    .await;
    assert_eq!(near.nodes.len(), 3);
    assert!(near.truncated, "the incident two steps away was left out");
    let small = build(
        &store,
        [true, true],
        Bounds {
            depth: 3,
            max_nodes: 2,
        },
    )
    .await;
    assert_eq!(small.nodes.len(), 2);
    assert!(small.truncated);
    for bad in [
        Bounds {
            depth: 0,
            max_nodes: 10,
        },
        Bounds {
            depth: MAX_DEPTH + 1,
            max_nodes: 10,
        },
        Bounds {
            depth: 1,
            max_nodes: 0,
        },
        Bounds {
            depth: 1,
            max_nodes: MAX_NODES + 1,
        },
    ] {
        let e = cluster(
            &store,
            &reader([true, true]),
            &WarningLists::defaults(),
            &id("report", 1),
            bad,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, ClusterError::Bounds), "{bad:?}: {e}");
    }
}

#[tokio::test]
async fn a_reader_sees_only_what_it_may_read_and_an_unreadable_seed_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    world(&store).await;
    let ours_only = build(&store, [true, false], Bounds::default()).await;
    assert_eq!(
        node_ids(&ours_only),
        vec![(id("report", 1), 0), (id("report", 6), 1)]
    );
    let shown = serde_json::to_string(&ours_only).unwrap();
    assert!(!shown.contains(PEER), "nothing of the peer's: {shown}");
    assert_eq!(ours_only.tlp, "clear");

    let warnings = WarningLists::defaults();
    for (seed, readable) in [
        (id("report", 2), [true, false]),
        (id("report", 5), [true, true]),
        (id("report", 999), [true, true]),
    ] {
        let e = cluster(
            &store,
            &reader(readable),
            &warnings,
            &seed,
            Bounds::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(e.to_string(), format!("no object {seed} that you may read"));
    }
}

#[tokio::test]
async fn an_indicator_seed_clusters_what_holds_its_values() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    world(&store).await;
    let c = cluster(
        &store,
        &reader([true, true]),
        &WarningLists::defaults(),
        &id("indicator", 3),
        Bounds {
            depth: 1,
            max_nodes: 10,
        },
    )
    .await
    .unwrap();
    let ids: BTreeSet<String> = c.nodes.iter().map(|n| n.id.clone()).collect();
    assert_eq!(
        ids,
        BTreeSet::from([id("indicator", 3), id("incident", 3), id("report", 2)])
    );
}

#[tokio::test]
async fn exports_carry_the_graph_and_survive_hostile_names() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    world(&store).await;
    let mut c = build(&store, [true, true], Bounds::default()).await;
    c.nodes[0].name = Some("<b>&\"quoted\"\u{1}\u{FFFF}".into());

    let xml = graphml(&c);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut nodes, mut edges) = (0, 0);
    loop {
        match reader.read_event().expect("well-formed GraphML") {
            quick_xml::events::Event::Start(e) if e.name().into_inner() == "node" => nodes += 1,
            quick_xml::events::Event::Start(e) if e.name().into_inner() == "edge" => edges += 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!((nodes, edges), (c.nodes.len(), c.edges.len()));
    assert!(!xml.contains('\u{1}') && !xml.contains("<b>"), "{xml}");
    assert!(
        xml.contains("&lt;b&gt;&amp;&quot;quoted&quot;\u{FFFD}\u{FFFD}"),
        "the name escaped, forbidden characters replaced: {xml}"
    );

    let g = grouping(&c, Some(LOCAL), "2026-01-01T00:00:00.000Z");
    assert_eq!(g["type"], "grouping");
    assert_eq!(g["context"], "suspicious-activity");
    assert_eq!(g["object_marking_refs"], json!([TLP2_GREEN]));
    assert_eq!(g["created_by_ref"], LOCAL);
    let refs: Vec<&str> = g["object_refs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(refs[0], id("report", 1));
    for must in [
        id("report", 2),
        id("report", 6),
        id("incident", 3),
        id("indicator", 2),
        id("indicator", 5),
    ] {
        assert!(refs.contains(&must.as_str()), "{must} in {refs:?}");
    }
    let unique: BTreeSet<&str> = refs.iter().copied().collect();
    assert_eq!(unique.len(), refs.len());
    let again = grouping(&c, None, "2026-02-01T00:00:00.000Z");
    assert_eq!(
        g["id"], again["id"],
        "the same cluster keeps its grouping id"
    );
    assert!(again.get("created_by_ref").is_none());
}
