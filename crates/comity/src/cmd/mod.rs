//! One module per subcommand family; each exposes its clap arguments and a `run` function.

pub mod pattern;
pub mod validate;
