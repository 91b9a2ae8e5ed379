//! One module per subcommand family; each exposes its clap arguments and a `run` function.

pub mod admin;
pub mod backup;
pub mod copy;
pub mod demo;
pub mod digest;
pub mod log;
pub mod migrate;
pub mod node;
pub mod pattern;
pub mod registry;
pub mod sighting;
pub mod telemetry;
pub mod transfer;
pub mod validate;
pub mod withheld;
pub mod witness;
