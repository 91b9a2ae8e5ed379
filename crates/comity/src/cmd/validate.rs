//! `comity validate`: placeholder, filled in by the STIX validation work.

use std::process::ExitCode;

/// Arguments of `comity validate`.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// Files holding STIX objects, bundles or TAXII envelopes.
    pub files: Vec<std::path::PathBuf>,
}

/// Runs `comity validate`.
pub fn run(_args: ValidateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
