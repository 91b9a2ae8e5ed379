//! This node's view of the federation: the member records it pins (its own among them) and
//! the agreements it is party to, kept in the store's registry and turned into what the
//! policy engine reads ([`Federation`]). Every change is committed to the transparency log
//! when the node has one.
//!
//! For now an admin adds and suspends members. Agreements travel between their parties:
//! one party proposes (its node signs the terms), each other party's node signs the same
//! terms, and an agreement is in force on a node only once that node holds every party's
//! signature, each verified with the signer's pinned key. Admission by vote comes with
//! governance.

//!
//! The module is split by subject: [`members`] (member records and the member acts),
//! [`agreements`] (agreement documents, their signatures and the agreement acts) and
//! [`federation_view`] (the federation as the policy engine reads it). Everything is
//! re-exported here, so `comity_node::registry::X` names each of them.

mod agreements;
mod federation_view;
mod members;

pub use agreements::{
    AgreementDocument, AgreementDraft, Merged, PartySignature, ScopeDocument, SignedAgreement,
};
pub use federation_view::Federation;
pub use members::{Member, MemberRecord, MemberRole, NewMember};

use comity_store::{Store, StoreError};
use serde_json::Value;
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
}

impl<'a> Directory<'a> {
    /// The registry in `store`, for reading.
    pub fn new(store: &'a dyn Store) -> Directory<'a> {
        Directory { store }
    }
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
    /// The registry in `store`; `log` receives a commitment for every change.
    pub fn new(store: &'a dyn Store, log: &'a NodeLog) -> Registry<'a> {
        Registry {
            store,
            log,
            directory: Directory { store },
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
}

#[cfg(test)]
mod member_tests;
