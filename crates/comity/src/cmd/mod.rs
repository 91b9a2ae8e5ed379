//! One module per subcommand family; each exposes its clap arguments and a `run` function.

pub mod agreement;
pub mod backup;
pub mod collection;
pub mod copy;
pub mod correlate;
pub mod demo;
pub mod digest;
pub mod export;
pub mod feed;
pub mod genesis;
pub mod governance;
mod governance_audit;
pub mod import;
pub mod key;
pub mod log;
pub mod matching;
pub mod member;
pub mod migrate;
pub mod node;
pub mod pattern;
pub mod request;
pub mod sighting;
pub mod token;
pub mod user;
pub mod validate;
pub mod withheld;
pub mod witness;
