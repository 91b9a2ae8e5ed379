//! Domain services of a Comity node. They depend on the [`comity_store::Store`] trait and
//! the pure crates, never on HTTP or on a particular database.

pub mod admin;
pub mod correlation;
pub mod detections;
pub mod federation;
pub mod feeds;
pub mod governance;
pub mod identity;
pub mod intake;
pub mod log;
pub mod member_file;
pub mod misp;
pub mod misp_feed;
pub mod node;
pub mod objects;
pub mod policy;
pub mod registry;
pub mod release;
pub mod requests;
#[cfg(test)]
pub(crate) mod test_peers;
pub mod tokens;
pub mod view;

pub use node::Node;
