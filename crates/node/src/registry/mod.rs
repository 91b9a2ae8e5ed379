//! This node's view of the federation: the member records it pins (its own among them) and
//! the agreements it is party to, kept in the store's registry and turned into what the
//! policy engine reads ([`Federation`]). Every change is committed to the transparency log
//! when the node has one.
//!
//! For now an admin adds and suspends members. Agreements travel between their parties:
//! one party proposes (its node signs the terms), each other party's node signs the same
//! terms, and an agreement is in force on a node only once that node holds every party's
//! signature, each verified with the signer's pinned key. A succeeded governance proposal
//! admits, suspends or reinstates a member too ([`crate::governance`]).

//!
//! The module is split by subject: [`members`] (member records and the member acts),
//! [`agreements`] (agreement documents, their signatures and the agreement acts) and
//! [`federation_view`] (the federation as the policy engine reads it). Everything is
//! re-exported here, so `comity_node::registry::X` names each of them.

mod agreements;
mod federation_view;
mod keys;
mod members;

pub use agreements::{
    AgreementChange, AgreementDocument, AgreementDraft, Merged, PartySignature, ScopeDocument,
    SignedAgreement,
};
pub use federation_view::Federation;
pub use keys::MAX_STATEMENTS;
pub(crate) use members::member_entry;
pub use members::{
    check_plain_http, plain_http_off_loopback, Member, MemberRecord, MemberRole, NewMember,
};

use std::collections::HashSet;

use comity_store::{Store, StoreError};
use serde_json::Value;
use sha2::Digest as _;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::log::{Act, LogError, NodeLog};

/// Errors of the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Committing the change to the log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The input breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// A stored document cannot be read back.
    #[error("stored {kind} {id} is unreadable: {why}")]
    Corrupt {
        /// `member` or `agreement`.
        kind: &'static str,
        /// Its id.
        id: String,
        /// Why.
        why: String,
    },
}

fn invalid(why: impl Into<String>) -> RegistryError {
    RegistryError::Invalid(why.into())
}

/// Refuses text that is empty, too long, or holds control or bidirectional-override
/// characters (which would forge lines in listings or reverse what a person reads).
pub fn check_text(what: &str, text: &str, max: usize) -> Result<(), RegistryError> {
    if text.trim().is_empty() || text.chars().count() > max {
        return Err(invalid(format!("{what} must have 1 to {max} characters")));
    }
    let hostile = |c: char| {
        c.is_control()
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}')
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if let Some(c) = text.chars().find(|c| hostile(*c)) {
        return Err(invalid(format!(
            "{what} must not contain control or direction-override characters (found U+{:04X})",
            c as u32
        )));
    }
    Ok(())
}

fn check_country(code: &str) -> Result<(), RegistryError> {
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(invalid(format!(
            "country {code:?} is not an ISO 3166-1 alpha-2 code (two capital letters, e.g. FR)"
        )))
    }
}

fn check_identity_id(id: &str) -> Result<(), RegistryError> {
    let ok = id
        .strip_prefix("identity--")
        .and_then(|u| uuid::Uuid::parse_str(u).ok())
        .is_some_and(|u| u.hyphenated().to_string() == id["identity--".len()..]);
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{id:?} is not a STIX identity id (identity--<lowercase UUID>)"
        )))
    }
}

/// A STIX timestamp: UTC with exactly three fractional digits.
fn timestamp(t: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

fn parse_time(field: &str, s: &str) -> Result<OffsetDateTime, RegistryError> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|_| invalid(format!("{field} {s:?} is not an RFC 3339 timestamp")))
}

/// What the registry holds, read: members, agreements (their signatures checked) and the
/// federation view. Writes go through [`Registry`].
#[derive(Clone, Copy)]
pub struct Directory<'a> {
    store: &'a dyn Store,
    /// The node's registry state, when read through a node.
    state: Option<&'a RegistryState>,
}

impl<'a> Directory<'a> {
    /// The registry in `store`, for reading, without a node: every agreement's signatures
    /// are verified each time they are read (the CLI's reads of a bare store).
    pub fn new(store: &'a dyn Store) -> Directory<'a> {
        Directory { store, state: None }
    }

    /// The registry in `store` of the node whose registry state is `state`: an agreement
    /// text whose signatures verified once on this node is not verified again.
    pub fn with_state(store: &'a dyn Store, state: &'a RegistryState) -> Directory<'a> {
        Directory {
            store,
            state: Some(state),
        }
    }
}

/// What one node's registry keeps between acts, owned by [`crate::Node`] (never shared
/// between nodes, even in one process): the lock its agreement changes take turns on, and
/// the digests of the agreement texts whose signatures verified on it.
///
/// A [`Registry`] or [`Directory`] made from a node ([`crate::Node::registry`],
/// [`crate::Node::directory`]) uses the node's state. One made with `new` over a bare
/// store has none: it verifies every signature every time, and its agreement changes rely
/// on the store's compare and swap alone (which is what guards two processes sharing a
/// store in any case), retrying when another change came first.
#[derive(Debug, Default)]
pub struct RegistryState {
    /// Serialises this node's changes to agreements: each reads the document, adds to it
    /// and writes it back, and two signatures arriving at once must both be kept.
    changes: tokio::sync::Mutex<()>,
    /// SHA-256 digests of agreement texts whose signatures verified on this node.
    verified: std::sync::Mutex<HashSet<[u8; 32]>>,
}

impl RegistryState {
    /// At most this many digests are kept; the set starts again when full.
    const MAX_VERIFIED: usize = 10_000;

    /// Whether `text` (an agreement document as stored or received) verified on this node.
    pub fn verified(&self, text: &str) -> bool {
        let digest = digest(text);
        self.verified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&digest)
    }

    /// Notes that the signatures of `text` verified.
    fn remember(&self, text: &str) {
        let mut set = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if set.len() >= Self::MAX_VERIFIED {
            set.clear();
        }
        set.insert(digest(text));
    }
}

fn digest(text: &str) -> [u8; 32] {
    sha2::Sha256::digest(text.as_bytes()).into()
}

/// The registry of one node over its store, committing every change to its log.
pub struct Registry<'a> {
    store: &'a dyn Store,
    log: &'a NodeLog,
    directory: Directory<'a>,
}

impl<'a> std::ops::Deref for Registry<'a> {
    type Target = Directory<'a>;

    fn deref(&self) -> &Directory<'a> {
        &self.directory
    }
}

impl<'a> Registry<'a> {
    /// The registry in `store`; `log` receives a commitment for every change. Without a
    /// node's [`RegistryState`]: see there what that means.
    pub fn new(store: &'a dyn Store, log: &'a NodeLog) -> Registry<'a> {
        Registry {
            store,
            log,
            directory: Directory::new(store),
        }
    }

    /// The registry in `store` of the node whose log is `log` and whose registry state is
    /// `state` (what [`crate::Node::registry`] makes).
    pub fn with_state(
        store: &'a dyn Store,
        log: &'a NodeLog,
        state: &'a RegistryState,
    ) -> Registry<'a> {
        Registry {
            store,
            log,
            directory: Directory::with_state(store, state),
        }
    }

    async fn commit(&self, kind: &str, subject: &str, what: Value) -> Result<(), RegistryError> {
        let log = self.log;
        let act = Act {
            kind: kind.to_owned(),
            actor: log.origin().to_owned(),
            subject: subject.to_owned(),
            canonical: comity_stix::canonical_json(&what).into_bytes(),
        };
        log.record(self.store, act).await?;
        Ok(())
    }

    /// The store this registry writes to.
    pub(crate) fn store(&self) -> &'a dyn Store {
        self.store
    }
}

#[cfg(test)]
mod member_tests;
#[cfg(test)]
mod state_tests;
