//! `comity correlate VALUE|ID [--json]`: who else has seen a value, or the values of an
//! object, as the node's administrator reads (every plain collection, each object through
//! the sharing policy as a TAXII read would). `comity correlate ID --cluster` draws the
//! cluster around an object (text, JSON, GraphML or a STIX grouping).
//! `comity correlate --reindex` indexes the versions stored before the value index existed,
//! showing its progress. All work while `comity serve` runs.

use std::process::ExitCode;

use anyhow::Context;
use comity_node::correlation::cluster::{self, export, Bounds, Cluster};
use comity_node::correlation::reindex::reindex;
use comity_node::correlation::who_else::{correlate, Correlation, Reader, Subject, MAX_LIMIT};
use comity_node::policy::Channel;
use comity_node::release::Release;
use comity_node::Node;
use comity_store::Role;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::DataDir;

/// Arguments of `comity correlate`.
#[derive(clap::Args)]
pub struct CorrelateArgs {
    /// A value (address, block, domain, URL, e-mail address, hash, …) or a STIX id.
    #[arg(required_unless_present = "reindex", conflicts_with = "reindex")]
    pub subject: Option<String>,
    /// Most objects listed per value (counts are never cut).
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Print the answer as JSON (what `GET /api/v1/correlate` returns; with `--cluster`,
    /// the same as `--format json`).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Draw the cluster around the object ID: the reports, groupings, incidents, campaigns,
    /// intrusion sets, threat actors and malware linked to it through shared values or
    /// objects, each link with its evidence.
    #[arg(long, requires = "subject")]
    pub cluster: bool,
    /// Steps from the object a cluster reaches (1 to 3).
    #[arg(long, default_value_t = Bounds::default().depth, requires = "cluster")]
    pub depth: usize,
    /// Most nodes in a cluster, the object included (1 to 500).
    #[arg(long, default_value_t = Bounds::default().max_nodes, requires = "cluster")]
    pub max_nodes: usize,
    /// How a cluster is written: text, json, graphml (Gephi, yEd, networkx) or stix (a
    /// grouping marked with the most restrictive TLP it draws on).
    #[arg(long, value_enum, requires = "cluster")]
    pub format: Option<ClusterFormat>,
    /// Index every stored object version again (for versions stored before the index).
    #[arg(long)]
    pub reindex: bool,
    #[command(flatten)]
    pub data: DataDir,
}

/// How `--cluster` writes the cluster.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ClusterFormat {
    Text,
    Json,
    Graphml,
    Stix,
}

/// Runs `comity correlate`.
pub async fn run(args: CorrelateArgs) -> anyhow::Result<ExitCode> {
    let node = args.data.open_node()?;
    let store = node.store();
    let Some(subject) = args.subject else {
        let bar = ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .context("progress template")?,
        );
        let done = reindex(store, |p| {
            bar.set_message(format!("{} versions, {} postings", p.versions, p.postings));
            bar.tick();
        })
        .await?;
        bar.finish_and_clear();
        println!(
            "re-indexed {} object versions: {} postings",
            done.versions, done.postings
        );
        return Ok(ExitCode::SUCCESS);
    };
    let reader = admin_reader(&node).await?;
    if args.cluster {
        anyhow::ensure!(
            comity_stix::is_identifier(&subject),
            "--cluster needs a STIX id (type--uuid), not {subject:?}"
        );
        let bounds = Bounds {
            depth: args.depth,
            max_nodes: args.max_nodes,
        };
        let found =
            cluster::cluster(store, &reader, node.warning_lists(), &subject, bounds).await?;
        let format = match (args.json, args.format) {
            (true, _) => ClusterFormat::Json,
            (false, format) => format.unwrap_or(ClusterFormat::Text),
        };
        print_cluster(&node, &found, format).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let subject = if comity_stix::is_identifier(&subject) {
        Subject::Object(subject)
    } else {
        Subject::Value(subject)
    };
    let answer = correlate(
        store,
        &reader,
        node.warning_lists(),
        &subject,
        args.limit.min(MAX_LIMIT),
    )
    .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        print_text(&answer);
    }
    Ok(ExitCode::SUCCESS)
}

/// What the administrator reads: every plain collection, through the sharing policy.
async fn admin_reader(node: &Node) -> anyhow::Result<Reader> {
    let store = node.store();
    let federation = node.view().federation().await?;
    let purpose = federation.local_purpose();
    let mut readable = Vec::new();
    for root in store.api_roots().await? {
        for c in store.collections(&root.name).await? {
            if c.view.is_none() {
                let release =
                    Release::for_user(federation.clone(), Role::Admin, Channel::TaxiiRead, purpose)
                        .from_origin(c.origin.as_deref());
                readable.push((c.key(), release));
            }
        }
    }
    Ok(Reader::new(readable))
}

async fn print_cluster(node: &Node, found: &Cluster, format: ClusterFormat) -> anyhow::Result<()> {
    match format {
        ClusterFormat::Json => println!("{}", serde_json::to_string_pretty(found)?),
        ClusterFormat::Graphml => println!("{}", export::graphml(found)),
        ClusterFormat::Stix => println!(
            "{}",
            serde_json::to_string_pretty(&export::grouping_now(node, found).await?)?
        ),
        ClusterFormat::Text => {
            for n in &found.nodes {
                println!(
                    "{}{}\t{}\t{}",
                    "  ".repeat(n.distance),
                    n.id,
                    n.name.as_deref().unwrap_or("-"),
                    n.originator
                );
            }
            for e in &found.edges {
                println!("{} — {}", e.source, e.target);
                for ev in &e.evidence {
                    println!("\t{} {}\t({})", ev.kind, ev.value, ev.members.join(", "));
                }
            }
            let cut = if found.truncated {
                " (truncated: raise --depth or --max-nodes)"
            } else {
                ""
            };
            println!(
                "{} nodes, {} links, TLP:{}{cut}",
                found.nodes.len(),
                found.edges.len(),
                found.tlp.to_uppercase()
            );
        }
    }
    Ok(())
}

/// One block per value: its heading, then one tab-separated line per object.
fn print_text(answer: &Correlation) {
    for v in &answer.values {
        let flag = if v.suppressed {
            format!(" [warning list: {}]", v.warning_lists.join("; "))
        } else {
            String::new()
        };
        println!(
            "{} {}: {} objects, {} members{flag}",
            v.kind,
            v.value,
            v.count,
            v.members.len()
        );
        for o in &v.objects {
            println!(
                "\t{}\t{}\t{}\t{}\t{}",
                o.id, o.originator, o.collection, o.first_seen, o.last_seen
            );
        }
    }
}
