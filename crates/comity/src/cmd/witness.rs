//! `comity witness …`: what witnessing over envelopes found. The alerts raised when a peer
//! presented a checkpoint inconsistent with what this node cosigned (or refused this node's
//! as inconsistent), with their evidence, and this node's checkpoint with the cosignatures
//! its peers gave it. Works while `comity serve` runs.

use std::process::ExitCode;

use anyhow::Context;
use comity_node::federation::witnessing::checkpoint_with_cosignatures;

use crate::config::DataDir;

/// `comity witness …` subcommands.
#[derive(clap::Subcommand)]
pub enum WitnessCommand {
    /// List the alerts raised while witnessing, oldest first: id, time, peer, kind, detail
    /// (tab-separated). Exits 1 when there is any.
    Alerts {
        #[command(flatten)]
        data: DataDir,
    },
    /// Print one alert with its evidence (both signed notes, the proof) as JSON.
    Alert {
        /// The alert's id.
        id: u64,
        #[command(flatten)]
        data: DataDir,
    },
    /// Print the largest checkpoint of this node's log that peers cosigned, with their
    /// cosignature lines.
    Checkpoint {
        #[command(flatten)]
        data: DataDir,
    },
}

/// Runs a `comity witness` subcommand.
pub async fn run(command: WitnessCommand) -> anyhow::Result<ExitCode> {
    match command {
        WitnessCommand::Alerts { data } => {
            let store = data.open_store()?;
            let alerts = store.transparency_log().witness_alerts().await?;
            for a in &alerts {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    a.id,
                    comity_stix::clock::format_us(a.at),
                    a.peer,
                    a.kind,
                    a.detail
                );
            }
            if !alerts.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        WitnessCommand::Alert { id, data } => {
            let store = data.open_store()?;
            let alert = store
                .transparency_log()
                .witness_alerts()
                .await?
                .into_iter()
                .find(|a| a.id == id)
                .with_context(|| format!("no alert {id}"))?;
            let json = serde_json::json!({
                "id": alert.id,
                "at": comity_stix::clock::format_us(alert.at),
                "peer": alert.peer,
                "kind": alert.kind,
                "detail": alert.detail,
                "ours": alert.ours,
                "theirs": alert.theirs,
                "proof": alert.proof,
                "digest": alert.digest,
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        WitnessCommand::Checkpoint { data } => {
            let (store, log) = crate::cmd::log::open(&data)?;
            let note = checkpoint_with_cosignatures(store.as_ref(), &log, true)
                .await?
                .context("no peer has cosigned a checkpoint of this log yet")?;
            print!("{note}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
