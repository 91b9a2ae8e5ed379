//! `comity feed …`: feed subscriptions (a TAXII 2.1 or 2.0 collection of another server, a
//! plain list of indicators, or a MISP feed) that fill a local collection. The workflow is
//! [`comity_node::feeds`]; `comity serve` runs due feeds on its own, `feed run` runs one now.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use comity_node::feeds::{self, Credential, FeedKind, NewFeed, RunReport};
use comity_server::feeds::HttpFetch;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cmd::import::resolve_collection;
use crate::cmd::node::DEFAULT_API_ROOT;
use crate::config::DataDir;

/// Subcommands of `comity feed`.
#[derive(clap::Subcommand)]
pub enum FeedCommand {
    /// Subscribe a collection to a feed (due at once).
    Add(Box<AddArgs>),
    /// List feeds with their state: last run, last error, failures, next run, figures.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Run a feed now, showing progress.
    Run {
        /// The feed's name.
        name: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Remove a feed (what it stored stays).
    Remove {
        /// The feed's name.
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
}

/// Arguments of `comity feed add`.
#[derive(clap::Args)]
pub struct AddArgs {
    /// The feed's name.
    name: String,
    /// What it reads:
    ///   taxii    a TAXII 2.1 collection; --url is the collection, …/collections/{id}/
    ///   taxii20  a TAXII 2.0 collection; --url is the collection, …/collections/{id}/.
    ///            Read as STIX 2.0 bundles paged with Range: items; each object is made
    ///            STIX 2.1 (spec_version, pattern_type, …_types from labels, is_family);
    ///            objects that cannot be are skipped, with the reason in the run's report
    ///   list     a plain list (one value a line) or, with --column, a CSV file
    ///   misp     a MISP feed; --url is the directory of its manifest.json
    #[arg(long, verbatim_doc_comment)]
    kind: String,
    /// Where it reads: https, or http to loopback (else --allow-http).
    #[arg(long)]
    url: String,
    /// The collection it fills [default: the collection titled `default`].
    #[arg(long)]
    collection: Option<String>,
    /// API root of the collection.
    #[arg(long, default_value = DEFAULT_API_ROOT)]
    api_root: String,
    /// Seconds between runs (60 to 2592000).
    #[arg(long, default_value_t = feeds::DEFAULT_INTERVAL_SECS)]
    interval: u64,
    /// TLP marking given to objects that carry none (clear, green, amber,
    /// amber+strict, red).
    #[arg(long)]
    marking: Option<String>,
    /// List feeds: days an indicator is valid.
    #[arg(long)]
    valid_days: Option<u32>,
    /// List feeds: confidence of the indicators (0 to 100).
    #[arg(long)]
    confidence: Option<u8>,
    /// List feeds: read CSV, taking this column (from 1).
    #[arg(long)]
    column: Option<usize>,
    /// TAXII feeds (2.1 and 2.0): objects asked for per page (1 to 10000) [default: 1000].
    #[arg(long)]
    page_size: Option<usize>,
    /// Send a Bearer token read from this environment variable.
    #[arg(long, conflicts_with = "user")]
    token_env: Option<String>,
    /// Send HTTP Basic as this user, with the password read from --password-env.
    #[arg(long, requires = "password_env")]
    user: Option<String>,
    /// The environment variable holding the Basic password.
    #[arg(long, requires = "user")]
    password_env: Option<String>,
    /// Allow plain http off loopback.
    #[arg(long)]
    allow_http: bool,
    #[command(flatten)]
    data: DataDir,
}

fn secret_from(var: &str) -> anyhow::Result<String> {
    std::env::var(var).with_context(|| format!("the environment variable {var} is not set"))
}

/// Runs `comity feed …`.
pub async fn run(command: FeedCommand) -> anyhow::Result<ExitCode> {
    match command {
        FeedCommand::Add(args) => {
            let AddArgs {
                name,
                kind,
                url,
                collection,
                api_root,
                interval,
                marking,
                valid_days,
                confidence,
                column,
                page_size,
                token_env,
                user,
                password_env,
                allow_http,
                data,
            } = *args;
            let kind: FeedKind = kind.parse()?;
            let credential = match (token_env, user, password_env) {
                (Some(var), _, _) => Some(Credential::Bearer {
                    token: secret_from(&var)?,
                }),
                (None, Some(user), Some(var)) => Some(Credential::Basic {
                    user,
                    password: secret_from(&var)?,
                }),
                _ => None,
            };
            let node = data.open_node()?;
            let collection =
                resolve_collection(node.store(), &api_root, collection.as_deref()).await?;
            let view = feeds::add(
                &node,
                NewFeed {
                    name,
                    kind,
                    url,
                    api_root,
                    collection: collection.id,
                    interval_secs: interval,
                    markings: marking.into_iter().collect(),
                    valid_days,
                    confidence,
                    column,
                    page_size,
                    credential,
                    allow_http,
                },
            )
            .await?;
            println!(
                "feed {} added: {} {} into {}/{}, every {} s",
                view.name, view.kind, view.url, view.api_root, view.collection, view.interval_secs
            );
        }
        FeedCommand::List { json, data } => {
            let node = data.open_node()?;
            let list = feeds::list(&node).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(ExitCode::SUCCESS);
            }
            for f in list {
                println!(
                    "{}\t{}\t{}\t{}/{}\tevery {} s\truns {} (failed {})\tobjects {}\tnext {}",
                    f.name,
                    f.kind,
                    f.url,
                    f.api_root,
                    f.collection,
                    f.interval_secs,
                    f.runs,
                    f.failed_runs,
                    f.objects,
                    f.next_run
                );
                if let Some(error) = f.last_error {
                    println!("\tfailing ({} in a row): {error}", f.failures);
                }
            }
        }
        FeedCommand::Run { name, json, data } => {
            let node = data.open_node()?;
            let fetch = HttpFetch::new(&[], Duration::from_secs(300))
                .map_err(|e| anyhow::anyhow!("no HTTP client: {}", e.0))?;
            let bar = ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            let progress = |r: &RunReport| {
                bar.set_message(format!(
                    "{}: {} pages, {} stored, {} already there, {} refused",
                    r.feed, r.pages, r.stored, r.already, r.refused
                ))
            };
            let report = feeds::run(&node, &fetch, &name, &progress).await;
            bar.finish_and_clear();
            let report = report?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else if report.unchanged {
                println!("feed {}: unchanged since the last run", report.feed);
            } else {
                println!(
                    "feed {}: {} stored, {} already there, {} refused, {} revoked, {} skipped, {} pages",
                    report.feed,
                    report.stored,
                    report.already,
                    report.refused,
                    report.revoked,
                    report.skipped,
                    report.pages
                );
                for reason in &report.reasons {
                    println!("\t{reason}");
                }
            }
        }
        FeedCommand::Remove { name, data } => {
            let node = data.open_node()?;
            feeds::remove(&node, &name).await?;
            println!("feed {name} removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}
