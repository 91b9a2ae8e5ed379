//! `comity sightings`: what members reported back about the objects this node originated
//! (sightings received in the collections "Sightings from <member>"), per sighted object
//! and member, and per day, week or month with `--window`. Works while `comity serve` runs.

use std::process::ExitCode;

use comity_node::federation::sighting::{received, sighting_collections, Window};

use crate::config::DataDir;

/// Arguments of `comity sightings`.
#[derive(clap::Args)]
pub struct SightingsArgs {
    /// Only the sightings of this object (an indicator's id, for example).
    #[arg(long)]
    pub indicator: Option<String>,
    /// Count per time window too (day, week from Monday, or month; UTC, by each sighting's
    /// `last_seen`).
    #[arg(long)]
    pub window: Option<Window>,
    /// Print JSON (a list of {target, member, sightings, count, last_seen[, windows]})
    /// instead of tab-separated lines.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataDir,
}

/// Runs `comity sightings`: one line per sighted object and reporting member: the object,
/// the member, how many sightings, the sum of their counts, the latest time seen.
pub async fn run(args: SightingsArgs) -> anyhow::Result<ExitCode> {
    let store = args.data.open_store()?;
    let collections = sighting_collections(store.as_ref()).await?;
    let seen = received(
        store.as_ref(),
        &collections,
        args.indicator.as_deref(),
        args.window,
        |_, _| true,
    )
    .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&seen)?);
    } else {
        for s in &seen {
            println!(
                "{}\t{}\t{}\t{}\t{}",
                s.target,
                s.member,
                s.sightings,
                s.count,
                s.last_seen.as_deref().unwrap_or("-")
            );
            for w in &s.windows {
                println!("\t{}\t{}\t{}", w.start, w.sightings, w.count);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
