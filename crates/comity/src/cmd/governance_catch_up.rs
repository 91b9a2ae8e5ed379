//! `comity governance catch-up`: reads peers' decided histories over the federation route
//! (a `GET` signed by this node's key, as an audit asks for a dossier) and catches up here
//! ([`comity_node::governance::catch_up`]), printing its progress.

use std::process::ExitCode;

use comity_node::governance::catch_up::{self, CatchUp, Pages, PeerPages};
use comity_server::federation::HttpTransport;
use comity_stix::clock::now_us;

use crate::config::DataDir;

/// How often progress is printed, in items.
const EVERY: usize = 50;

/// Catches up from `from` (the first read, the others compared); exits 1 when it stopped.
pub async fn run(from: Vec<String>, json: bool, data: &DataDir) -> anyhow::Result<ExitCode> {
    let node = data.open_node()?;
    let transport = HttpTransport::with_client(super::governance_audit::federation_client(data)?);
    let mut sources = Vec::new();
    for peer in &from {
        sources.push(PeerPages::new(&node, &transport, peer).await?);
    }
    let sources: Vec<&dyn Pages> = sources.iter().map(|s| s as &dyn Pages).collect();
    let mut progress = |p: &CatchUp| {
        if !json && p.verified.is_multiple_of(EVERY) {
            eprintln!(
                "{} items verified: {} applied, {} held already",
                p.verified,
                p.applied.len(),
                p.held
            );
        }
    };
    let report = catch_up::catch_up(&node, &sources, now_us(), &mut progress).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for a in &report.applied {
            let executed = if a.executed {
                "executed"
            } else {
                "not executed"
            };
            let decision = serde_json::to_value(a.decision)?;
            println!(
                "{}\t{}\t{}\t{executed}",
                a.proposal,
                a.kind,
                decision.as_str().unwrap_or_default()
            );
        }
        println!(
            "{} items verified: {} applied, {} held already",
            report.verified,
            report.applied.len(),
            report.held
        );
        if let Some(stop) = &report.stopped {
            println!(
                "stopped at {} from {}: {}",
                stop.proposal.as_deref().unwrap_or("the history"),
                stop.peer,
                stop.reason
            );
        }
    }
    Ok(if report.stopped.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
