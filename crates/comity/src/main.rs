//! The `comity` command line: one binary that initialises, runs and scripts a node.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Comity: a sovereign node for sharing cyber threat intelligence (STIX 2.1 over TAXII 2.1)
/// between member authorities under signed agreements.
#[derive(Parser)]
#[command(name = "comity", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate STIX 2.1 objects, bundles or TAXII envelopes against every MUST of the spec.
    Validate(cmd::validate::ValidateArgs),
    /// Work with STIX patterns: validate one, or match one against observed-data.
    #[command(subcommand)]
    Pattern(cmd::pattern::PatternCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => cmd::validate::run(args),
        Command::Pattern(command) => cmd::pattern::run(command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
