//! Federation: sovereign nodes sharing under agreements over signed envelopes. This module
//! owns the envelope format, what is shared with whom ([`plan`]), and how a received
//! envelope is checked and applied ([`inbox`]), sightings sent back to the originators of
//! what they sighted ([`sighting`]), and how nodes witness each other's logs
//! ([`witnessing`]); the HTTP transport lives in the server.

pub mod agreement;
pub mod envelope;
pub mod inbox;
pub mod plan;
pub mod pull;
pub mod quota;
pub mod request_signature;
pub mod sighting;
#[cfg(test)]
pub(crate) mod test_nodes;
pub mod witnessing;
