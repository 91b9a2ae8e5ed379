//! The outcome of a policy decision: allow (with the property paths to redact) or deny with
//! the rule that denied and a reason a person can act on. This module only describes
//! outcomes; it never computes them (that is [`super::Policy`]).

use std::fmt;

/// The rule that denied a release; stable names for counting denials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// The channel does not serve this kind of requester.
    Channel,
    /// The local user's role does not allow the channel.
    Role,
    /// The requesting member is suspended.
    SuspendedMember,
    /// The TLP level does not reach this requester through this channel.
    Tlp,
    /// A TLP:RED object does not name the requester among its recipients.
    RedRecipients,
    /// A handling code forbids the use or the channel.
    Handling,
    /// No agreement in force covers the release.
    Agreement,
    /// Granular markings cover every property that carries content.
    Granular,
    /// The object's markings cannot be read, so it cannot be released.
    Markings,
}

impl Rule {
    /// The rule's stable name, e.g. `red-recipients`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Channel => "channel",
            Rule::Role => "role",
            Rule::SuspendedMember => "suspended-member",
            Rule::Tlp => "tlp",
            Rule::RedRecipients => "red-recipients",
            Rule::Handling => "handling",
            Rule::Agreement => "agreement",
            Rule::Granular => "granular",
            Rule::Markings => "markings",
        }
    }
}

/// Why a release is denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The rule that denied.
    pub rule: Rule,
    /// Which marking, code or agreement, and why, in words.
    pub reason: String,
}

impl Denial {
    pub(crate) fn new(rule: Rule, reason: impl Into<String>) -> Denial {
        Denial {
            rule,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.reason, self.rule.as_str())
    }
}

/// What the engine decided for one object, one requester, one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The object may be released after removing the properties selected by `redact`
    /// (granular-marking selectors such as `description` or `external_references.[0].url`;
    /// empty when nothing needs removing).
    Allow {
        /// Selectors of the properties to remove, sorted, without duplicates.
        redact: Vec<String>,
    },
    /// The object must not be released.
    Deny {
        /// Why.
        reason: Denial,
    },
}

impl Decision {
    /// Whether the object may be released (possibly redacted).
    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}
