//! Releasing stored objects through an exit: every object that leaves (a TAXII read, an
//! export, a policy view) passes [`Release::object`], which asks the one policy engine and
//! removes what granular markings withhold, so that what leaves is still valid STIX (or does
//! not leave). No exit decides on its own.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::policy::{
    Access, Channel, Decision, Denial, MarkedObject, MemberId, MemberStatus, Peer, Policy, Purpose,
    Requester, Role, Rule,
};
use crate::registry::Federation;

/// A collection defined as a policy view: what `member` may read of the `source`
/// collection (under `agreement` only, when named) for `purpose`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewSpec {
    /// The collection (same API root) whose objects the view filters.
    pub source: String,
    /// The member whose reading the view shows.
    pub member: String,
    /// Restricts the view to one agreement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<String>,
    /// The purpose the member reads for; `intelligence` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

impl ViewSpec {
    /// The purpose the view reads for.
    pub fn purpose(&self) -> Result<Purpose, String> {
        self.purpose
            .as_deref()
            .map_or(Ok(Purpose::Intelligence), str::parse)
    }
}

/// The id this node uses for itself before it has a member record.
pub const UNREGISTERED: &str = "identity--00000000-0000-4000-8000-000000000000";

/// What happened to one object at an exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released<'a> {
    /// It leaves, unchanged or with withheld properties removed.
    Allowed(Cow<'a, str>),
    /// It stays.
    Denied(Denial),
}

/// One exit's question, asked for many objects: who reads, through which channel, for what.
#[derive(Debug, Clone)]
pub struct Release {
    policy: Policy,
    federation: Federation,
    requester: Requester,
    channel: Channel,
    purpose: Purpose,
    at: OffsetDateTime,
    origin: Option<MemberId>,
}

impl Release {
    /// A local user with `role` reading through `channel`, for the node's own purpose.
    pub fn for_user(
        federation: Federation,
        role: Role,
        channel: Channel,
        purpose: Purpose,
    ) -> Release {
        Release::new(federation, Requester::Local { role }, channel, purpose)
    }

    /// Peer member `member` reading through `channel` for `purpose`, under `agreement` only
    /// when one is named. An unknown member is treated as suspended: it gets nothing.
    pub fn for_member(
        federation: Federation,
        member: &str,
        agreement: Option<&str>,
        channel: Channel,
        purpose: Purpose,
    ) -> Release {
        let mut peer = federation
            .peers
            .get(member)
            .cloned()
            .unwrap_or_else(|| Peer {
                member: MemberId(member.to_owned()),
                status: MemberStatus::Suspended,
                agreements: Vec::new(),
            });
        if let Some(only) = agreement {
            peer.agreements.retain(|a| a.id == only);
        }
        Release::new(federation, Requester::Peer(peer), channel, purpose)
    }

    fn new(
        federation: Federation,
        requester: Requester,
        channel: Channel,
        purpose: Purpose,
    ) -> Release {
        let local = federation
            .local
            .clone()
            .unwrap_or_else(|| MemberId(UNREGISTERED.to_owned()));
        let policy = Policy {
            markings: federation.markings.clone(),
            ..Policy::new(local)
        };
        Release {
            policy,
            federation,
            requester,
            channel,
            purpose,
            at: OffsetDateTime::now_utc(),
            origin: None,
        }
    }

    /// The same release for objects that all come from `origin` (a collection of objects
    /// a peer shared): they are that member's, whatever their `created_by_ref` says.
    pub fn from_origin(self, origin: Option<&str>) -> Release {
        Release {
            origin: origin.map(|o| MemberId(o.to_owned())),
            ..self
        }
    }

    /// The channel this release serves.
    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// The member an object read through this release comes from, given its
    /// `created_by_ref`: the collection's origin when it holds a peer's objects, else the
    /// peer the reference names, else this node.
    pub fn originator(&self, created_by_ref: Option<&str>) -> MemberId {
        match &self.origin {
            Some(origin) => origin.clone(),
            None => self
                .federation
                .originator(created_by_ref, &self.policy.local),
        }
    }

    /// Decides for one stored object (its JSON text) and returns what may leave. An object
    /// whose markings cannot be read does not leave.
    pub fn object<'a>(&self, json: &'a str) -> Released<'a> {
        let marked = match MarkedObject::from_json(json, |by| self.originator(by)) {
            Ok(m) => m,
            Err(e) => {
                return Released::Denied(Denial::new(
                    Rule::Markings,
                    format!("its markings cannot be read: {e}"),
                ))
            }
        };
        let decision = self.policy.decide(&Access {
            object: &marked,
            requester: &self.requester,
            channel: self.channel,
            purpose: self.purpose,
            at: self.at,
        });
        match decision {
            Decision::Deny { reason } => Released::Denied(reason),
            Decision::Allow { redact } if redact.is_empty() => {
                Released::Allowed(Cow::Borrowed(json))
            }
            Decision::Allow { redact } => {
                let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
                    return Released::Denied(Denial::new(Rule::Markings, "it is not valid JSON"));
                };
                match crate::policy::redact_valid(value, &redact) {
                    Ok(value) => Released::Allowed(Cow::Owned(value.to_string())),
                    Err(e) => Released::Denied(Denial::new(Rule::Granular, e.to_string())),
                }
            }
        }
    }
}
