//! `comity import` and `comity export`: move STIX objects between files and a node's
//! collections. Import goes through the same intake as TAXII POST, in batches, each one
//! durable before the next, so it is safe while `comity serve` runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use comity_node::federation::plan;
use comity_node::intake::{self, Examined, Refusal};
use comity_node::log::NodeLog;
use comity_node::policy::{Channel, Purpose, Role};
use comity_node::registry::{Federation, Registry};
use comity_node::release::{Release, Released};
use comity_store::{
    AddOutcome, Collection, NewObject, ObjectFilter, PageRequest, Store, VersionFilter,
};
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
    #[command(flatten)]
    data: DataDir,
}

/// Arguments of `comity export`.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// Collection id [default: the collection titled `default`].
    #[arg(long)]
    collection: Option<String>,
    /// API root of the collection.
    #[arg(long, default_value = DEFAULT_API_ROOT)]
    api_root: String,
    /// Only these types (repeat the flag for several).
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// Every version of each object, not only the newest.
    #[arg(long)]
    all_versions: bool,
    /// Export what this peer member (identity--…) may be sent, instead of this
    /// organisation's own copy: the sharing policy decides for each object.
    #[arg(long, value_name = "MEMBER")]
    for_member: Option<String>,
    /// The purpose of a --for-member export: intelligence, police-cooperation or
    /// judicial-assistance.
    #[arg(long, default_value = "intelligence", requires = "for_member")]
    purpose: String,
    #[command(flatten)]
    data: DataDir,
}

async fn resolve_collection(
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
    store: &dyn Store,
    log: Option<&NodeLog>,
    sharing: Option<&Federation>,
    collection: &Collection,
    batch: &mut Vec<Examined>,
    file: &Path,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let ids: Vec<(String, String)> = batch
        .iter()
        .map(|e| (e.object.id.clone(), e.object.version.clone()))
        .collect();
    let entries = log.map(|log| log.object_entries(batch)).transpose()?;
    let texts: Vec<String> = match sharing {
        Some(_) => batch.iter().map(|e| e.object.json.clone()).collect(),
        None => Vec::new(),
    };
    let objects: Vec<NewObject> = std::mem::take(batch)
        .into_iter()
        .map(|e| e.object)
        .collect();
    let outcomes = match entries {
        Some(entries) => NodeLog::add_objects(store, &collection.key(), objects, entries).await?,
        None => store.add_objects(&collection.key(), objects).await?,
    };
    let mut added = Vec::new();
    for (i, ((id, version), outcome)) in ids.into_iter().zip(outcomes).enumerate() {
        match outcome {
            AddOutcome::Added { .. } => {
                tally.added += 1;
                added.extend(texts.get(i).map(String::as_str));
            }
            AddOutcome::AlreadyStored => {
                // Offered again, so that an import rerun after a crash shares them.
                tally.already += 1;
                added.extend(texts.get(i).map(String::as_str));
            }
            AddOutcome::ConflictingVersion => tally
                .refused
                .push((file.to_owned(), Refusal::version_conflict(id, version))),
        }
    }
    if let Some(federation) = sharing {
        let queued = plan::enqueue(store, federation, &added).await?;
        tally.queued += queued.objects;
        tally.withheld.merge(queued.withheld);
    }
    Ok(())
}

/// Runs `comity import`; exits 1 when any object was refused.
pub async fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let store = args.data.open_store()?;
    crate::cmd::log::create_node_key(&args.data.data_dir)?;
    let log = Some(crate::cmd::log::node_log(&args.data.data_dir)?);
    let collection =
        resolve_collection(store.as_ref(), &args.api_root, args.collection.as_deref()).await?;
    // Objects imported into a federated collection are shared like objects posted over
    // TAXII (only plain collections are federated, and only once an admin turned it on).
    let federation = if log.is_some() && store.collection_federated(&collection.key()).await? {
        Some(Registry::new(store.as_ref(), None).federation().await?)
    } else {
        None
    };
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
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {} as UTF-8 text", file.display()))?;
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
                store_batch(
                    store.as_ref(),
                    log.as_ref(),
                    federation.as_ref(),
                    &collection,
                    &mut batch,
                    file,
                    &mut tally,
                )
                .await?;
            }
            bar.inc(1);
        }
        store_batch(
            store.as_ref(),
            log.as_ref(),
            federation.as_ref(),
            &collection,
            &mut batch,
            file,
            &mut tally,
        )
        .await?;
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
    let names = Registry::new(store.as_ref(), None).members().await?;
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

/// Runs `comity export`: one STIX bundle on standard output.
pub async fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = args.data.open_store()?;
    let collection =
        resolve_collection(store.as_ref(), &args.api_root, args.collection.as_deref()).await?;
    let filter = ObjectFilter {
        types: args.types,
        versions: if args.all_versions {
            VersionFilter::all()
        } else {
            VersionFilter::last()
        },
        ..ObjectFilter::default()
    };
    let registry = Registry::new(store.as_ref(), None);
    let federation = registry.federation().await?;
    let release = match &args.for_member {
        Some(member) => {
            if !federation.peers.contains_key(member.as_str()) {
                anyhow::bail!("{member:?} is not a registered peer member");
            }
            let purpose: Purpose = args.purpose.parse().map_err(anyhow::Error::msg)?;
            Release::for_member(federation, member, None, Channel::FederationSend, purpose)
        }
        None => {
            let purpose = federation.local_purpose();
            Release::for_user(federation, Role::Admin, Channel::Export, purpose)
        }
    }
    .from_origin(collection.origin.as_deref());
    let mut withheld = std::collections::BTreeMap::<&str, u64>::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write!(
        out,
        "{{\"type\":\"bundle\",\"id\":\"bundle--{}\",\"objects\":[",
        uuid::Uuid::new_v4()
    )?;
    let mut after = None;
    let mut count = 0u64;
    loop {
        let page = store
            .objects(
                &collection.key(),
                &filter,
                &PageRequest { limit: 5000, after },
            )
            .await?;
        for o in &page.items {
            let json = match release.object(&o.json) {
                Released::Allowed(json) => json,
                Released::Denied(denial) => {
                    *withheld.entry(denial.rule.as_str()).or_default() += 1;
                    continue;
                }
            };
            if count > 0 {
                out.write_all(b",")?;
            }
            out.write_all(b"\n")?;
            out.write_all(json.as_bytes())?;
            count += 1;
        }
        match page.next {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    out.write_all(b"\n]}\n")?;
    out.flush()?;
    eprintln!(
        "Exported {count} objects from collection {}.",
        collection.id
    );
    for (rule, n) in withheld {
        eprintln!("Withheld by the sharing policy ({rule}): {n} objects.");
    }
    Ok(ExitCode::SUCCESS)
}
