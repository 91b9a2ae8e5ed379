//! The `comity` command line: one binary that initialises, runs and scripts a node.

mod cmd;
mod config;
mod notify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Comity: a sovereign node for sharing cyber threat intelligence (STIX 2.1 over TAXII 2.1)
/// between member authorities under signed agreements.
///
/// Start with `comity serve`: on first run it initialises a node in ./comity-data, prints
/// the admin password once, and serves TAXII 2.1 on http://127.0.0.1:8425/taxii2/.
#[derive(Parser)]
#[command(name = "comity", version, about, long_about)]
struct Cli {
    /// Log format on standard error.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "COMITY_LOG_FORMAT"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Create a node: data directory, store, API root `default` with a collection `default`,
    /// the user `admin` (password from COMITY_ADMIN_PASSWORD, else generated and shown once),
    /// the identity key and the node's member record (--organisation, --country, --member-role).
    Init(cmd::node::InitArgs),
    /// Run the node (initialising it first if the data directory is empty).
    Serve(cmd::node::ServeArgs),
    /// Start three fictitious member nodes on loopback with agreements and sample data, and
    /// show what flowed between them.
    Demo(cmd::demo::DemoArgs),
    /// Import STIX bundles, envelopes or lists of objects into a collection.
    Import(cmd::import::ImportArgs),
    /// Export a collection as one STIX bundle on standard output.
    Export(cmd::export::ExportArgs),
    /// Manage local users.
    #[command(subcommand)]
    User(cmd::user::UserCommand),
    /// Manage TAXII collections and who may read or write them.
    #[command(subcommand)]
    Collection(cmd::collection::CollectionCommand),
    /// The federation as this node sees it: its own record and the peer members it pins.
    #[command(subcommand)]
    Member(cmd::member::MemberCommand),
    /// This node's identity key: rotate it, revoke a former one, print its history.
    #[command(subcommand)]
    Key(cmd::key::KeyCommand),
    /// Sharing agreements: propose, sign, import, list, suspend, reinstate, terminate.
    #[command(subcommand)]
    Agreement(cmd::agreement::AgreementCommand),
    /// Cooperation requests between members (assistance, preservation, disclosure,
    /// production, mutual legal assistance): draft, list, show, make acts.
    #[command(subcommand)]
    Request(cmd::request::RequestCommand),
    /// Governance: proposals decided by one member, one vote, and the norms registry:
    /// propose, vote, list, show, norms, rules.
    #[command(subcommand)]
    Governance(cmd::governance::GovernanceCommand),
    /// API tokens for users (Bearer authentication) and for peer members reading their views.
    #[command(subcommand)]
    Token(cmd::token::TokenCommand),
    /// Feed subscriptions (TAXII 2.1 and 2.0 collections of other servers, plain lists,
    /// MISP feeds) that fill a collection: add, list, run, remove.
    #[command(subcommand)]
    Feed(cmd::feed::FeedCommand),
    /// Validate STIX 2.1 objects, bundles or TAXII envelopes against every MUST of the spec.
    Validate(cmd::validate::ValidateArgs),
    /// Work with STIX patterns: validate one, or match one against observed-data.
    #[command(subcommand)]
    Pattern(cmd::pattern::PatternCommand),
    /// Stream telemetry through every stored indicator (or those of a bundle); print hits or STIX sightings.
    Match(cmd::matching::MatchArgs),
    /// The node's transparency log: key, checkpoints, entries, proofs, verification, audit.
    #[command(subcommand)]
    Log(cmd::log::LogCommand),
    /// Witnessing: alerts raised on inconsistent checkpoints (with evidence), and this
    /// node's checkpoint with the cosignatures its peers gave it.
    #[command(subcommand)]
    Witness(cmd::witness::WitnessCommand),
    /// Sightings members sent back about objects this node originated, counted per object
    /// and member (--indicator ID for one object, --window day|week|month for a timeline).
    Sightings(cmd::sighting::SightingsArgs),
    /// Who else has seen a value (or the values of an object, by STIX id), within the
    /// sharing policy; --cluster draws the graph around an object (JSON, GraphML, STIX);
    /// --reindex indexes versions stored before the value index.
    Correlate(cmd::correlate::CorrelateArgs),
    /// Bring the store's schema up to date (idempotent; refuses a newer schema).
    Migrate(cmd::migrate::MigrateArgs),
    /// Copy a node's store (SQLite data directory or postgres:// URL) into PostgreSQL;
    /// resumable, verified by counts and SHA-256 per collection.
    Copy(cmd::copy::CopyArgs),
    /// Back up a node on the embedded store while it runs: one file with a consistent
    /// snapshot, the identity key and comity.toml, and the digests `restore` checks.
    Backup(cmd::backup::BackupArgs),
    /// Restore a backup into a new data directory, checked against its digests (counts and
    /// SHA-256 per collection and of the transparency log).
    Restore(cmd::backup::RestoreArgs),
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("COMITY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn run_async(
    future: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(future)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match cli.command {
        Command::Init(args) => run_async(cmd::node::init(args)),
        Command::Serve(args) => run_async(cmd::node::serve(args)),
        Command::Demo(args) => run_async(cmd::demo::run(args)),
        Command::Import(args) => run_async(cmd::import::run(args)),
        Command::Export(args) => run_async(cmd::export::run(args)),
        Command::User(command) => run_async(cmd::user::run(command)),
        Command::Collection(command) => run_async(cmd::collection::run(command)),
        Command::Member(command) => run_async(cmd::member::run(command)),
        Command::Key(command) => run_async(cmd::key::run(command)),
        Command::Agreement(command) => run_async(cmd::agreement::run(command)),
        Command::Request(command) => run_async(cmd::request::run(command)),
        Command::Governance(command) => run_async(cmd::governance::run(command)),
        Command::Token(command) => run_async(cmd::token::run(command)),
        Command::Feed(command) => run_async(cmd::feed::run(command)),
        Command::Validate(args) => cmd::validate::run(args),
        Command::Pattern(command) => cmd::pattern::run(command),
        Command::Match(args) => cmd::matching::run(args),
        Command::Log(command) => run_async(cmd::log::run(command)),
        Command::Witness(command) => run_async(cmd::witness::run(command)),
        Command::Sightings(args) => run_async(cmd::sighting::run(args)),
        Command::Correlate(args) => run_async(cmd::correlate::run(args)),
        Command::Migrate(args) => run_async(cmd::migrate::run(args)),
        Command::Copy(args) => run_async(cmd::copy::run(args)),
        Command::Backup(args) => run_async(cmd::backup::run_backup(args)),
        Command::Restore(args) => run_async(cmd::backup::run_restore(args)),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            let broken_pipe = err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
