//! `comity correlate VALUE|ID [--json]`: who else has seen a value, or the values of an
//! object, as the node's administrator reads (every plain collection, each object through
//! the sharing policy as a TAXII read would). `comity correlate --reindex` indexes the
//! versions stored before the value index existed, showing its progress. Both work while
//! `comity serve` runs.

use std::process::ExitCode;

use anyhow::Context;
use comity_node::correlation::reindex::reindex;
use comity_node::correlation::who_else::{correlate, Correlation, Reader, Subject, MAX_LIMIT};
use comity_node::policy::Channel;
use comity_node::release::Release;
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
    /// Print the answer as JSON (what `GET /api/v1/correlate` returns).
    #[arg(long)]
    pub json: bool,
    /// Index every stored object version again (for versions stored before the index).
    #[arg(long)]
    pub reindex: bool,
    #[command(flatten)]
    pub data: DataDir,
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
    let subject = if comity_stix::is_identifier(&subject) {
        Subject::Object(subject)
    } else {
        Subject::Value(subject)
    };
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
    let answer = correlate(
        store,
        &Reader::new(readable),
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
