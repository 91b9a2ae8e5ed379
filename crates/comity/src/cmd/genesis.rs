//! `comity governance genesis …`: founding a federation. One founder drafts the genesis
//! document, each founder signs the file in turn on its own node, and every node (a
//! founder, or one joining later) adopts the file once all founders signed it (see
//! `comity_node::governance::genesis`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use comity_node::governance::genesis::{self, FoundingNorm, SignedGenesis, MAX_BYTES};
use comity_node::governance::Rules;
use comity_stix::clock::now_us;

use crate::config::DataDir;

/// Subcommands of `comity governance genesis`.
#[derive(clap::Subcommand)]
pub enum GenesisCommand {
    /// Draft a genesis document naming this node's member and the pinned members given as
    /// founders, the rules and the first norms, signed by this node. Hand the file to the
    /// next founder, who runs `sign`.
    Draft {
        /// The federation's name.
        #[arg(long)]
        title: String,
        /// A founding member pinned here, besides this node's (repeat).
        #[arg(long = "founder", value_name = "MEMBER")]
        founders: Vec<String>,
        /// The rules, a JSON file (`comity governance rules` prints the defaults' form);
        /// the defaults when absent.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// The first norms, a JSON file: `[{"norm": ID, "texts": {"en": …, "fr": …}}, …]`
        /// (examples/genesis-norms-gge-2015.json holds the eleven norms of the UN GGE 2015
        /// report, A/70/174); none when absent.
        #[arg(long)]
        norms: Option<PathBuf>,
        /// Where to write the signed draft.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        data: DataDir,
    },
    /// Sign a genesis document as this node's member (a founder), after checking it and
    /// the signatures so far, and write it with the signature added.
    Sign {
        /// The genesis file.
        file: PathBuf,
        /// Where to write it signed.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        data: DataDir,
    },
    /// Adopt a genesis signed by all its founders: pin the founders not pinned here, and
    /// start governance with its rules and norms (before any proposal).
    Adopt {
        /// The genesis file.
        file: PathBuf,
        #[command(flatten)]
        data: DataDir,
    },
    /// Print a genesis file's title, founders (signed or not), rules and norms.
    Show {
        /// The genesis file.
        file: PathBuf,
    },
}

fn read_genesis(path: &Path) -> anyhow::Result<SignedGenesis> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    anyhow::ensure!(
        len <= MAX_BYTES as u64,
        "{} has {len} bytes, more than a genesis may ({MAX_BYTES})",
        path.display()
    );
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    SignedGenesis::read(&text).with_context(|| format!("{}", path.display()))
}

fn write_genesis(path: &Path, signed: &SignedGenesis) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(signed)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

fn missing_line(signed: &SignedGenesis) -> anyhow::Result<String> {
    let missing = signed.verify()?;
    Ok(if missing.is_empty() {
        "signed by every founder: each node adopts it with `comity governance genesis adopt FILE`"
            .to_owned()
    } else {
        format!("still to sign: {}", missing.join(", "))
    })
}

/// Runs a `comity governance genesis` subcommand.
pub async fn run(command: GenesisCommand) -> anyhow::Result<()> {
    match command {
        GenesisCommand::Draft {
            title,
            founders,
            rules,
            norms,
            out,
            data,
        } => {
            let node = data.open_node()?;
            let rules: Rules = match rules {
                Some(path) => serde_json::from_str(&std::fs::read_to_string(&path)?)
                    .with_context(|| format!("{} is not valid rules", path.display()))?,
                None => Rules::default(),
            };
            let norms: Vec<FoundingNorm> = match norms {
                Some(path) => {
                    serde_json::from_str(&std::fs::read_to_string(&path)?).with_context(|| {
                        format!(
                            "{} is not a list of norms [{{\"norm\": ID, \"texts\": {{…}}}}]",
                            path.display()
                        )
                    })?
                }
                None => Vec::new(),
            };
            let founders: BTreeSet<String> = founders.into_iter().collect();
            let signed = genesis::draft(&node, &title, &founders, rules, norms, now_us()).await?;
            write_genesis(&out, &signed)?;
            println!("{}", signed.genesis.id);
            eprintln!(
                "Drafted and signed {}; {}.",
                out.display(),
                missing_line(&signed)?
            );
        }
        GenesisCommand::Sign { file, out, data } => {
            let node = data.open_node()?;
            let signed = genesis::sign(&node, read_genesis(&file)?).await?;
            write_genesis(&out, &signed)?;
            eprintln!("Signed {}; {}.", out.display(), missing_line(&signed)?);
        }
        GenesisCommand::Adopt { file, data } => {
            let node = data.open_node()?;
            let adopted = genesis::adopt(&node, &read_genesis(&file)?, now_us()).await?;
            println!("{}", serde_json::to_string_pretty(&adopted)?);
            eprintln!(
                "Adopted {}: {} founders pinned here, {} norms in force; governance starts \
                 with its rules.",
                adopted.id,
                adopted.pinned.len(),
                adopted.norms
            );
        }
        GenesisCommand::Show { file } => {
            let signed = read_genesis(&file)?;
            let g = &signed.genesis;
            println!("{}\t{}\tdrafted {}", g.id, g.title, g.created);
            for f in &g.founders {
                let id = f.id().unwrap_or_default();
                let state = if signed.signatures.contains_key(id) {
                    "signed"
                } else {
                    "not signed"
                };
                let name = f.identity["name"].as_str().unwrap_or_default();
                println!(
                    "founder\t{id}\t{name}\t{}\t{}\t{state}",
                    f.country, f.public_key
                );
            }
            for n in &g.norms {
                println!(
                    "norm\t{}\t{}",
                    n.norm,
                    n.texts.keys().cloned().collect::<Vec<_>>().join(",")
                );
            }
            println!("rules\t{}", serde_json::to_string(&g.rules)?);
            println!("{}", missing_line(&signed)?);
        }
    }
    Ok(())
}
