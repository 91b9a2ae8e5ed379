//! `comity pattern`: placeholder, filled in by the patterning work.

use std::process::ExitCode;

/// Subcommands of `comity pattern`.
#[derive(clap::Subcommand)]
pub enum PatternCommand {
    /// Check that a pattern parses.
    Validate {
        /// The STIX pattern.
        pattern: String,
    },
}

/// Runs `comity pattern …`.
pub fn run(_command: PatternCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
