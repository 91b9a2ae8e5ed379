//! `comity import`: bring STIX objects from files into a node's collection. Import goes
//! through the same intake as TAXII POST, in batches, each one durable before the next,
//! so it is safe while `comity serve` runs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use comity_node::federation::plan;
use comity_node::intake::{self, Examined, Refusal};
use comity_node::objects::{self, Outcome, Sharing};
use comity_node::registry::Directory;
use comity_node::Node;
use comity_store::{AddOutcome, Collection, Store};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::value::RawValue;

use crate::cmd::node::DEFAULT_API_ROOT;
use crate::config::DataDir;

/// Objects stored per transaction.
const BATCH: usize = 2000;

/// Arguments of `comity import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// Files (a bundle, a TAXII envelope, a JSON list, or one object) or directories
    /// (every `*.json` file inside, recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Collection id [default: the collection titled `default`].
    #[arg(long)]
    collection: Option<String>,
    /// API root of the collection.
    #[arg(long, default_value = DEFAULT_API_ROOT)]
    api_root: String,
    /// The files are MISP events (`{"Event": {...}}`), converted to STIX 2.1 first.
    #[arg(long)]
    misp: bool,
    #[command(flatten)]
    data: DataDir,
}

/// The collection `id` in `api_root`, or the one titled `default`.
pub(crate) async fn resolve_collection(
    store: &dyn Store,
    api_root: &str,
    id: Option<&str>,
) -> anyhow::Result<Collection> {
    let collections = store.collections(api_root).await?;
    let found = match id {
        Some(id) => collections.into_iter().find(|c| c.id == id),
        None => collections.into_iter().find(|c| c.title == "default"),
    };
    found.with_context(|| {
        format!(
            "no collection {} in API root {api_root:?}; see `comity collection list`",
            id.unwrap_or("titled `default`")
        )
    })
}

fn json_files(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read directory {}", path.display()))?
            .collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.path());
        for entry in entries {
            let p = entry.path();
            if p.is_dir() || p.extension().is_some_and(|e| e == "json") {
                json_files(&p, out)?;
            }
        }
    } else {
        out.push(path.to_owned());
    }
    Ok(())
}

/// The objects of one file, unparsed: a bundle or envelope, a list, or a single object.
fn objects_of(text: &str) -> Result<Vec<&RawValue>, serde_json::Error> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return serde_json::from_str(text);
    }
    let probe: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)?;
    if probe.contains_key("objects") && !probe.contains_key("spec_version") {
        Ok(serde_json::from_str::<intake::Envelope>(text)?.objects)
    } else {
        Ok(vec![serde_json::from_str(text)?])
    }
}

#[derive(Default)]
struct Tally {
    added: u64,
    queued: usize,
    withheld: plan::Withheld,
    already: u64,
    refused: Vec<(PathBuf, Refusal)>,
}

async fn store_batch(
    node: &Node,
    collection: &Collection,
    batch: &mut Vec<Examined>,
    file: &Path,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let prepared = objects::prepare(node.log(), std::mem::take(batch))?;
    let stored = objects::add(node, collection, prepared).await?;
    for Outcome {
        id,
        version,
        outcome,
    } in stored.outcomes
    {
        match outcome {
            AddOutcome::Added { .. } => tally.added += 1,
            AddOutcome::AlreadyStored => tally.already += 1,
            AddOutcome::ConflictingVersion => tally
                .refused
                .push((file.to_owned(), Refusal::version_conflict(id, version))),
        }
    }
    match stored.sharing {
        Sharing::Queued(queued) => {
            tally.queued += queued.objects;
            tally.withheld.merge(queued.withheld);
        }
        Sharing::Failed(why) => anyhow::bail!("objects stored but not queued for peers: {why}"),
        Sharing::NotFederated => {}
    }
    Ok(())
}

/// Runs `comity import`; exits 1 when any object was refused.
pub async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    crate::cmd::log::create_node_key(&args.data.data_dir)?;
    let node = args.data.open_node()?;
    // Objects imported into a federated collection are shared like objects posted over
    // TAXII (only plain collections are federated, and only once an admin turned it on).
    let collection =
        resolve_collection(node.store(), &args.api_root, args.collection.as_deref()).await?;
    let mut files = Vec::new();
    for p in &args.paths {
        json_files(p, &mut files)?;
    }
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} objects {per_sec} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut tally = Tally::default();
    for file in &files {
        let mut text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {} as UTF-8 text", file.display()))?;
        if args.misp {
            let converted = comity_node::misp::convert(&text)
                .with_context(|| format!("{} is no MISP event", file.display()))?;
            for skipped in &converted.skipped {
                eprintln!("  not mapped in {}: attribute {skipped}", file.display());
            }
            text = serde_json::to_string(&converted.objects)?;
        }
        let objects =
            objects_of(&text).with_context(|| format!("{} is not STIX JSON", file.display()))?;
        bar.inc_length(objects.len() as u64);
        bar.set_message(file.display().to_string());
        let mut batch = Vec::with_capacity(BATCH);
        for (position, raw) in objects.iter().enumerate() {
            match intake::examine(position, raw) {
                Ok(obj) => batch.push(obj),
                Err(refusal) => tally.refused.push((file.clone(), refusal)),
            }
            if batch.len() == BATCH {
                store_batch(&node, &collection, &mut batch, file, &mut tally).await?;
            }
            bar.inc(1);
        }
        store_batch(&node, &collection, &mut batch, file, &mut tally).await?;
    }
    bar.finish_and_clear();
    eprintln!(
        "Imported into collection {} ({}): {} added, {} already stored, {} refused.",
        collection.id,
        collection.title,
        tally.added,
        tally.already,
        tally.refused.len()
    );
    if tally.queued > 0 {
        eprintln!(
            "Queued {} objects for peers under the agreements in force; `comity serve` delivers them.",
            tally.queued
        );
    }
    let names = Directory::new(node.store()).members().await?;
    let name_of = |id: &str| {
        names
            .iter()
            .find(|m| m.id.0 == id)
            .map_or_else(|| id.to_owned(), |m| m.name().to_owned())
    };
    for line in crate::cmd::withheld::lines(&tally.withheld, "  ", name_of) {
        eprintln!("{line}");
    }
    for (file, refusal) in &tally.refused {
        eprintln!(
            "  refused {} in {}: {}",
            refusal.id,
            file.display(),
            refusal.message()
        );
    }
    Ok(if tally.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
