//! `comity pattern`: validate a STIX pattern, or match one against observed-data the way
//! the OASIS reference matcher's `match(pattern, observed_data_sdos)` does.
//!
//! Exit codes are a contract: `validate` exits 0 (valid) or 1 (invalid, reason on
//! stderr); `match` exits 0 (matched, binding on stdout), 1 (no match) or 2 (invalid
//! pattern or input, reason on stderr).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use comity_pattern::{Observations, Pattern, StixVersion};

/// Subcommands of `comity pattern`.
#[derive(clap::Subcommand)]
pub enum PatternCommand {
    /// Check that a pattern parses and is valid; exit 0 if so, 1 if not.
    Validate {
        /// The STIX pattern.
        pattern: String,
        /// Grammar version: 2.0 or 2.1.
        #[arg(long, default_value = "2.1")]
        stix_version: StixVersion,
    },
    /// Match a pattern against observed-data: exit 0 and print the observed-data of one
    /// binding (ids, or input positions for those without one), 1 on no match, 2 on error.
    Match {
        /// The STIX pattern.
        pattern: String,
        /// Files each holding a JSON list of observed-data SDOs or bundles.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Grammar and observed-data version: 2.0 or 2.1.
        #[arg(long, default_value = "2.1")]
        stix_version: StixVersion,
    },
}

/// Runs `comity pattern …`.
pub fn run(command: PatternCommand) -> anyhow::Result<ExitCode> {
    match command {
        PatternCommand::Validate {
            pattern,
            stix_version,
        } => Ok(validate(&pattern, stix_version)),
        PatternCommand::Match {
            pattern,
            files,
            stix_version,
        } => match_files(&pattern, &files, stix_version),
    }
}

fn validate(pattern: &str, version: StixVersion) -> ExitCode {
    match comity_pattern::validate(pattern, version) {
        Ok(warnings) => {
            for w in warnings {
                eprintln!("warning: {w}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("invalid pattern: {e}");
            ExitCode::from(1)
        }
    }
}

/// Reads one input file: a JSON list of items, or a single object (a bundle).
pub(crate) fn read_json_items(path: &PathBuf) -> anyhow::Result<Vec<serde_json::Value>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: not UTF-8 (byte {})", path.display(), e.valid_up_to()))?;
    let value: serde_json::Value =
        serde_json::from_str(text).with_context(|| format!("{}: invalid JSON", path.display()))?;
    Ok(match value {
        serde_json::Value::Array(items) => items,
        single @ serde_json::Value::Object(_) => vec![single],
        _ => anyhow::bail!(
            "{}: expected a JSON list of observed-data or bundles",
            path.display()
        ),
    })
}

fn match_files(pattern: &str, files: &[PathBuf], version: StixVersion) -> anyhow::Result<ExitCode> {
    let matcher = Pattern::parse(pattern, version)
        .map_err(comity_pattern::PatternError::from)
        .and_then(|p| p.matcher())
        .map_err(|e| anyhow::anyhow!("invalid pattern: {e}"))?;
    let mut items = Vec::new();
    for f in files {
        items.extend(read_json_items(f)?);
    }
    let observations = Observations::from_json(&items, version)?;
    let Some(binding) = matcher.find(&observations)? else {
        return Ok(ExitCode::from(1));
    };
    let names: Vec<serde_json::Value> = binding
        .iter()
        .map(|&i| match observations.items[i].id {
            Some(id) => serde_json::Value::from(id),
            None => serde_json::Value::from(i),
        })
        .collect();
    println!("{}", serde_json::Value::Array(names));
    Ok(ExitCode::SUCCESS)
}
