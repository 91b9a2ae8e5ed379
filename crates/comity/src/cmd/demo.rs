//! `comity demo`: three fictitious national authorities on loopback, each a full node with
//! its own SQLite data directory, one bilateral and one trilateral agreement between them
//! (proposed by one node, signed by each other party's node, in force once every node holds
//! every signature),
//! and sample intelligence under mixed TLP markings shared as the agreements allow. It
//! prints where each node is, how to log in, and what flowed and what did not.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use comity_node::federation::agreement as agreements;
use comity_node::federation::plan::{self, Withheld};
use comity_node::registry::{AgreementDraft, Directory, MemberRole, NewMember, ScopeDocument};
use comity_server::AppState;
use serde_json::json;

use crate::cmd::node::{initialise_with, shutdown_signal, Identity};
use crate::config::DataDir;

/// Arguments of `comity demo`.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Directory for the three nodes' data (must not exist yet).
    #[arg(long, default_value = "comity-demo")]
    dir: PathBuf,
    /// First of three consecutive loopback ports.
    #[arg(long, default_value_t = 8431)]
    port: u16,
    /// Set everything up, let it flow, print the summary and stop (for scripts).
    #[arg(long)]
    once: bool,
}

struct DemoNode {
    name: &'static str,
    country: &'static str,
    role: MemberRole,
    addr: SocketAddr,
    data: DataDir,
    password: String,
    node: comity_node::Node,
    id: String,
    public_key: String,
    encryption_key: Option<String>,
}

const TLP: [(&str, &str); 5] = [
    (
        "CLEAR",
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    ),
    (
        "GREEN",
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    ),
    (
        "AMBER",
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    ),
    (
        "AMBER+STRICT",
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    ),
    (
        "RED",
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    ),
];

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Sample intelligence of `by`: indicators and malware under every TLP level, RED ones
/// naming `red_for` as their recipient.
fn samples(by: &str, red_for: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for (i, (level, marking)) in TLP.iter().cycle().take(20).enumerate() {
        let malware = i % 4 == 3;
        let ty = if malware { "malware" } else { "indicator" };
        let mut o = json!({
            "type": ty,
            "spec_version": "2.1",
            "id": format!("{ty}--{}", uuid::Uuid::new_v4()),
            "created": "2026-11-27T08:00:00.000Z",
            "modified": "2026-11-27T08:00:00.000Z",
            "created_by_ref": by,
            "name": format!("Demo {ty} {i} ({level})"),
            "object_marking_refs": [marking],
        });
        if malware {
            o["is_family"] = json!(false);
        } else {
            o["pattern"] = json!(format!("[ipv4-addr:value = '198.51.100.{i}']"));
            o["pattern_type"] = json!("stix");
            o["valid_from"] = json!("2026-11-27T08:00:00Z");
        }
        if *level == "RED" {
            o["x_comity_red_recipients"] = json!([red_for]);
        }
        out.push(o);
    }
    out
}

/// Runs `comity demo`.
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    if args.dir.exists() {
        anyhow::bail!(
            "{} exists already; remove it or name another with --dir",
            args.dir.display()
        );
    }
    let plan = [
        ("CERT of Arcadia", "XA", MemberRole::Cert),
        ("Police of Borduria", "XB", MemberRole::Police),
        (
            "Central Authority of Carpania",
            "XC",
            MemberRole::CentralAuthority,
        ),
    ];
    let mut nodes = Vec::new();
    for (i, (name, country, role)) in plan.into_iter().enumerate() {
        let addr: SocketAddr = format!("127.0.0.1:{}", args.port + i as u16).parse()?;
        let data = DataDir {
            data_dir: args
                .dir
                .join(format!("node-{}", country.to_ascii_lowercase())),
            database_url: None,
        };
        let password = comity_node::admin::generate_password();
        let identity = Identity::new(name, country, vec![role], format!("http://{addr}"));
        initialise_with(&data, identity, &password).await?;
        let node = data.open_node()?;
        let me = Directory::new(node.store())
            .local_member()
            .await?
            .context("the node has no member record")?;
        nodes.push(DemoNode {
            name,
            country,
            role,
            addr,
            data,
            password,
            node,
            id: me.id.0.clone(),
            public_key: me.record.public_key.clone(),
            encryption_key: me.record.encryption_key.clone(),
        });
    }
    // Each node pins the others.
    for me in &nodes {
        let registry = me.node.registry();
        for peer in nodes.iter().filter(|p| p.id != me.id) {
            let record = NewMember {
                name: peer.name.into(),
                country: peer.country.into(),
                roles: [peer.role].into(),
                public_key: peer.public_key.clone(),
                encryption_key: peer.encryption_key.clone(),
                endpoint: Some(format!("http://{}", peer.addr)),
                contact: None,
                identity_id: Some(peer.id.clone()),
            }
            .into_record(false)?;
            registry.add_member(record).await?;
        }
    }
    // Serve all three in this process.
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut servers = Vec::new();
    let mut states = Vec::new();
    for node in &nodes {
        let state = AppState::new(
            node.node.clone(),
            format!("Comity demo: {}", node.name),
            None,
        )
        .await?;
        let listener = tokio::net::TcpListener::bind(node.addr)
            .await
            .with_context(|| format!("cannot listen on {}", node.addr))?;
        let mut rx = stop.subscribe();
        servers.push(tokio::spawn(comity_server::serve(
            listener,
            state.clone(),
            async move {
                let _ = rx.recv().await;
            },
        )));
        states.push(state);
    }
    agree(&nodes, &states).await?;
    // Each node shares its samples as a TAXII client would post them; what its policy
    // withholds from each peer is decided again here by the same engine, to show why.
    let client = reqwest::Client::new();
    let mut withheld = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let red_for = &nodes[(i + 1) % nodes.len()].id;
        let collection = node
            .node
            .store()
            .collections("default")
            .await?
            .into_iter()
            .find(|c| c.title == "default")
            .context("no default collection")?;
        // Sharing a collection is an admin's explicit choice: the demo shares its default.
        comity_node::admin::federate(&node.node, &collection, true).await?;
        let objects = samples(&node.id, red_for);
        let texts: Vec<String> = objects.iter().map(|o| o.to_string()).collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let federation = Directory::new(node.node.store()).federation().await?;
        withheld.push(plan::plan(&federation, &texts).withheld);
        let r = client
            .post(format!(
                "http://{}/taxii2/default/collections/{}/objects/",
                node.addr, collection.id
            ))
            .basic_auth("admin", Some(&node.password))
            .header("Content-Type", "application/taxii+json;version=2.1")
            .header("Accept", "application/taxii+json;version=2.1")
            .body(json!({ "objects": &objects }).to_string())
            .send()
            .await?;
        anyhow::ensure!(
            r.status() == 202,
            "posting samples to {} failed: {}",
            node.name,
            r.status()
        );
    }
    // Wait until every outbox is empty (or 30 s).
    for _ in 0..60 {
        let mut pending = 0;
        for node in &nodes {
            pending += node
                .node
                .store()
                .outbox_stats()
                .await?
                .iter()
                .map(|s| s.pending)
                .sum::<u64>();
        }
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    summary(&nodes, &withheld, &args).await?;
    if !args.once {
        eprintln!("The three nodes run until Ctrl-C.");
        shutdown_signal().await;
    }
    let _ = stop.send(());
    for s in servers {
        let _ = s.await;
    }
    drop(states);
    Ok(ExitCode::SUCCESS)
}

/// Arcadia proposes both agreements; each other party's node signs what it received, and
/// the signatures travel until every node holds every party's signature (or 60 s pass).
async fn agree(nodes: &[DemoNode], states: &[AppState]) -> anyhow::Result<()> {
    let (a, b, c) = (&nodes[0].id, &nodes[1].id, &nodes[2].id);
    let agreements = [
        (
            "Arcadia–Borduria: ransomware and phishing",
            vec![b],
            set(&["indicator", "malware"]),
            "amber",
            set(&["intelligence", "police-cooperation"]),
        ),
        (
            "Arcadia–Borduria–Carpania: cross-border fraud",
            vec![b, c],
            set(&["indicator"]),
            "green",
            set(&["intelligence", "police-cooperation", "judicial-assistance"]),
        ),
    ];
    let proposer = nodes[0].node.registry();
    let mut ids = Vec::new();
    for (title, partners, types, max_tlp, purposes) in agreements {
        let draft = AgreementDraft {
            title: title.into(),
            partners: partners.into_iter().cloned().collect(),
            scope: ScopeDocument {
                object_types: types,
                max_tlp: max_tlp.into(),
                handling: BTreeSet::new(),
                purposes,
            },
            valid_from: None,
            valid_until: None,
        };
        let agreement =
            agreements::propose(&proposer, draft, nodes[0].node.log().node_key(), true).await?;
        ids.push((agreement.document.id, agreement.document.parties));
    }
    states[0].node.outbox_ready();
    debug_assert!(ids.iter().all(|(_, parties)| parties.contains(a)));
    let mut signed = BTreeSet::new();
    for _ in 0..120 {
        let mut in_force = 0;
        for (node, state) in nodes.iter().zip(states) {
            let registry = node.node.registry();
            for (id, parties) in &ids {
                if !parties.contains(&node.id) {
                    in_force += 1;
                    continue;
                }
                let Some(held) = registry.agreement(id).await? else {
                    continue;
                };
                if !held.document.signed_by(&node.id)
                    && signed.insert((node.id.clone(), id.clone()))
                {
                    agreements::sign(&registry, id, node.node.log().node_key(), true).await?;
                    state.node.outbox_ready();
                } else if held.document.is_complete() {
                    in_force += 1;
                }
            }
        }
        if in_force == nodes.len() * ids.len() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    anyhow::bail!("the agreements did not come into force on every node within 60 s")
}

async fn summary(nodes: &[DemoNode], withheld: &[Withheld], args: &DemoArgs) -> anyhow::Result<()> {
    println!(
        "Comity demo: three member authorities on loopback ({}).\n",
        args.dir.display()
    );
    let name_of = |id: &str| {
        nodes
            .iter()
            .find(|n| n.id == id)
            .map_or_else(|| id.to_owned(), |n| n.name.to_owned())
    };
    for (node, withheld) in nodes.iter().zip(withheld) {
        println!("{} ({}, {})", node.name, node.country, node.role);
        println!(
            "  TAXII   http://{}/taxii2/   user admin, password {}",
            node.addr, node.password
        );
        println!("  member  {}", node.id);
        println!("  data    {}", node.data.data_dir.display());
        for c in node.node.store().collections("default").await? {
            let n = node.node.store().count_objects(&c.key()).await?;
            println!("  collection {:<40} {n:>3} objects  ({})", c.title, c.id);
        }
        for s in node.node.store().outbox_stats().await? {
            let to = nodes
                .iter()
                .find(|n| n.id == s.peer)
                .map_or(s.peer.as_str(), |n| n.name);
            println!(
                "  sent to {to}: {} envelopes delivered, {} pending",
                s.delivered_seq, s.pending
            );
        }
        for line in crate::cmd::withheld::lines(withheld, "  ", name_of) {
            println!("{line}");
        }
        println!();
    }
    println!(
        "What flowed: each node's \"Shared by …\" collections hold what its partners' agreements"
    );
    println!("cover: GREEN and CLEAR indicators under the trilateral, up to AMBER (malware too)");
    println!("between Arcadia and Borduria. CLEAR lifts the TLP limit, not an agreement's types:");
    println!("CLEAR malware does not reach Carpania, whose only agreement covers indicators.");
    println!("AMBER+STRICT and RED would need an agreement reaching them (RED also the recipient");
    println!("named): none here does. Every withheld object is counted at /metrics as");
    println!(
        "`comity_policy_denied_objects_total{{channel=\"federation send\",rule=…}}`; the rules"
    );
    println!("are the README's sharing rules; every act is in `comity log`.");
    Ok(())
}
