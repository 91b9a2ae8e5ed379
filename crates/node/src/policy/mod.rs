//! The sharing policy: the one engine that decides whether an object may leave through an
//! exit (TAXII read, export, federation send, onward share, UI) to a requester, honouring
//! the originator's TLP 2.0 markings, granular markings, handling codes and the agreements
//! in force. Every exit calls [`Policy::decide`]; no exit keeps checks of its own.
//!
//! Pure code: no I/O, no clock (the time of the decision is an input), no storage. It never
//! modifies an object; it says which property paths to redact and the exit removes them.
//!
//! The rules, in the order they are applied (the first that fails denies):
//!
//! | rule | denies when |
//! | --- | --- |
//! | channel | `Ui`/`Export` asked by a peer; `FederationSend` to a local user |
//! | suspended-member | the requesting peer is suspended |
//! | role | a `viewer` exports; anyone but `liaison`/`admin` shares onward |
//! | tlp | `OnwardShare` above AMBER (AMBER+STRICT: the organisation only; RED: never onward) |
//! | — | the requester is the originator's own side (a local user and our object, or the originating peer): allowed from here |
//! | tlp | a local user exports another member's RED object; a peer gets another member's object above GREEN (we may not relay AMBER/RED) |
//! | red-recipients | a RED object does not name the receiving member (this node for local users, the peer for peers) |
//! | handling | H0 and a purpose that is not law enforcement; H1 and `judicial-assistance`; H2 or H3 and an onward release (`OnwardShare`, or a peer receiving another member's object) |
//! | agreement | a peer receives an object (CLEAR included) and no agreement in force between us and it covers the type, level, handling codes and purpose |
//! | granular | the properties whose granular markings these rules would deny (they are otherwise redacted) are all the object's content, or include `id`, `type`… |
//!
//! A peer's reading asks more than TLP 2.0 alone: the community is the members that share an
//! agreement in force with us, and (sovereignty first) that agreement must also cover the
//! object's type, level, handling codes and the purpose. CLEAR lifts the TLP limit, not the
//! agreement's scope: CLEAR malware does not reach a member whose agreements cover only
//! indicators. The README's sharing rules state the same for users.
//!
//! The peer member is the recipient organisation of TLP 2.0; its clients are reached only
//! through `OnwardShare`, where AMBER is allowed and AMBER+STRICT is not. An object without
//! any TLP marking is treated as [`Policy::unmarked`] (AMBER unless configured).
//!
//! Markings fail closed ([`MarkingDefinitions`]): a reference the node cannot resolve (an
//! unknown id, a definition it does not hold or cannot interpret, a malformed id) is RED,
//! whether it marks the object or some of its properties.

mod agreement;
mod decision;
mod definitions;
mod handling;
mod marking;
mod redact;

pub use agreement::{Agreement, AgreementStatus, Purpose, Scope};
pub use comity_stix::tlp::Tlp;
pub use decision::{Decision, Denial, Rule};
pub use definitions::MarkingDefinitions;
pub use handling::{Handling, HandlingCode, HandlingError, PROPERTY as HANDLING};
pub use marking::{GranularMarking, MarkedObject, MarkingError, MemberId, RED_RECIPIENTS};
pub use redact::{redact, redact_valid, Withheld};

use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;

/// An exit through which an object can leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// A TAXII 2.1 read (a local user or a peer).
    TaxiiRead,
    /// An export to a file by a local user; the copy stays in this organisation.
    Export,
    /// This node sending the object to a peer member.
    FederationSend,
    /// Passing the object beyond the recipient organisation: to its clients or constituents.
    OnwardShare,
    /// The node's web UI (local users).
    Ui,
}

impl Channel {
    /// All channels.
    pub const ALL: [Channel; 5] = [
        Channel::TaxiiRead,
        Channel::Export,
        Channel::FederationSend,
        Channel::OnwardShare,
        Channel::Ui,
    ];
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Channel::TaxiiRead => "TAXII read",
            Channel::Export => "export",
            Channel::FederationSend => "federation send",
            Channel::OnwardShare => "onward share",
            Channel::Ui => "UI",
        })
    }
}

pub use comity_store::Role;

/// Whether a local user's role may use an exit.
fn may_use(role: Role, channel: Channel) -> bool {
    match channel {
        Channel::Ui | Channel::TaxiiRead => true,
        Channel::Export => role != Role::Viewer,
        Channel::OnwardShare => matches!(role, Role::Liaison | Role::Admin),
        Channel::FederationSend => false,
    }
}

/// Whether a peer member may currently take part in the federation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    /// Admitted and in good standing.
    Active,
    /// Suspended: it receives nothing.
    Suspended,
}

impl MemberStatus {
    /// Both standings.
    pub const ALL: [MemberStatus; 2] = [MemberStatus::Active, MemberStatus::Suspended];

    /// The standing as stored and shown: `active` or `suspended`.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Active => "active",
            MemberStatus::Suspended => "suspended",
        }
    }

    /// The standing written as `s`.
    pub fn parse(s: &str) -> Option<MemberStatus> {
        MemberStatus::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl From<MemberStatus> for comity_store::RegistryStatus {
    /// The status a member's registry entry is stored with.
    fn from(status: MemberStatus) -> Self {
        match status {
            MemberStatus::Active => comity_store::RegistryStatus::Active,
            MemberStatus::Suspended => comity_store::RegistryStatus::Suspended,
        }
    }
}

/// A peer member asking for, or being sent, an object. The member is the recipient
/// organisation in the sense of TLP 2.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Its member id.
    pub member: MemberId,
    /// Its standing.
    pub status: MemberStatus,
    /// The agreements it shares with us (any status; the engine checks).
    pub agreements: Vec<Agreement>,
}

/// Who an object would go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    /// A user of this node.
    Local {
        /// The user's role.
        role: Role,
    },
    /// Another member's node.
    Peer(Peer),
}

/// One question to the engine.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    /// The object.
    pub object: &'a MarkedObject,
    /// Who would receive it.
    pub requester: &'a Requester,
    /// Through which exit.
    pub channel: Channel,
    /// For what purpose.
    pub purpose: Purpose,
    /// When (agreements are checked against this time).
    pub at: OffsetDateTime,
}

/// The sharing policy of this node: the one entry point every exit calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// This node's member id.
    pub local: MemberId,
    /// The level assumed for an object without any TLP marking.
    pub unmarked: Tlp,
    /// The marking definitions this node holds; a reference they cannot resolve is RED.
    pub markings: Arc<MarkingDefinitions>,
}

/// Properties without which an object cannot be shown at all.
const IDENTITY: [&str; 5] = ["type", "spec_version", "id", "created", "modified"];
/// Properties that describe the object rather than carry its content.
const ENVELOPE: [&str; 5] = [
    "created_by_ref",
    "object_marking_refs",
    "granular_markings",
    handling::PROPERTY,
    RED_RECIPIENTS,
];

impl Policy {
    /// A policy for the node of member `local`, with unmarked objects treated as AMBER.
    pub fn new(local: MemberId) -> Policy {
        Policy {
            local,
            unmarked: Tlp::Amber,
            markings: Arc::default(),
        }
    }

    /// Decides whether `access.object` may go to `access.requester` through
    /// `access.channel`, and which of its properties must be removed first.
    pub fn decide(&self, access: &Access<'_>) -> Decision {
        let object = access.object;
        let level = object.tlp(&self.markings).unwrap_or(self.unmarked);
        if let Err(reason) = self.check(access, level) {
            return Decision::Deny { reason };
        }
        let mut redact = Vec::new();
        let mut first_reason = None;
        for g in &object.granular_markings {
            let Some(granular) = self.markings.level(&g.marking_ref).filter(|t| *t > level) else {
                continue;
            };
            if let Err(reason) = self.check(access, granular) {
                redact.extend(g.selectors.iter().cloned());
                first_reason.get_or_insert(reason);
            }
        }
        redact.sort();
        redact.dedup();
        let Some(reason) = first_reason else {
            return Decision::Allow { redact };
        };
        let covers = |p: &str| redact.iter().any(|r| r == p);
        let identity = IDENTITY.into_iter().find(|p| covers(p));
        let mut content = object
            .properties
            .iter()
            .filter(|p| !IDENTITY.contains(&p.as_str()) && !ENVELOPE.contains(&p.as_str()));
        let everything = content.all(|p| covers(p));
        if identity.is_some() || everything {
            let what = identity.map_or("every content property".to_owned(), |p| {
                format!("its '{p}' property")
            });
            return Decision::Deny {
                reason: Denial::new(
                    Rule::Granular,
                    format!("granular markings withhold {what}: {}", reason.reason),
                ),
            };
        }
        Decision::Allow { redact }
    }

    /// The rules for the whole object at TLP level `level`.
    fn check(&self, access: &Access<'_>, level: Tlp) -> Result<(), Denial> {
        let object = access.object;
        let channel = access.channel;
        let peer = match access.requester {
            Requester::Local { role } => {
                if channel == Channel::FederationSend {
                    return Err(Denial::new(
                        Rule::Channel,
                        "a federation send goes to a peer member, not to a local user",
                    ));
                }
                if !may_use(*role, channel) {
                    return Err(Denial::new(
                        Rule::Role,
                        format!("the role {role} may not use the {channel} channel"),
                    ));
                }
                None
            }
            Requester::Peer(peer) => {
                if matches!(channel, Channel::Ui | Channel::Export) {
                    return Err(Denial::new(
                        Rule::Channel,
                        format!("the {channel} channel serves local users, not peer members"),
                    ));
                }
                if peer.status == MemberStatus::Suspended {
                    return Err(Denial::new(
                        Rule::SuspendedMember,
                        format!("member {} is suspended", peer.member),
                    ));
                }
                Some(peer)
            }
        };
        if channel == Channel::OnwardShare && level > Tlp::Amber {
            return Err(Denial::new(
                Rule::Tlp,
                format!(
                    "{level} is never shared onward: AMBER+STRICT stays in the recipient \
                     organisation, RED with its named recipients"
                ),
            ));
        }
        let receiver = peer.map_or(&self.local, |p| &p.member);
        if object.originator == *receiver {
            return Ok(());
        }
        let ours = object.originator == self.local;
        if peer.is_none() && level == Tlp::Red && channel == Channel::Export {
            return Err(Denial::new(
                Rule::Tlp,
                format!(
                    "TLP:RED from {} is not exported: it stays where its named recipients read it",
                    object.originator
                ),
            ));
        }
        if peer.is_some() && !ours && level > Tlp::Green {
            return Err(Denial::new(
                Rule::Tlp,
                format!(
                    "{level} from {} reaches only the organisation it was given to; \
                     this node may not pass it to {receiver}",
                    object.originator
                ),
            ));
        }
        if level == Tlp::Red && !object.red_recipients.contains(receiver) {
            return Err(Denial::new(
                Rule::RedRecipients,
                format!(
                    "TLP:RED from {} does not name {receiver} among its recipients",
                    object.originator
                ),
            ));
        }
        self.check_handling(access, peer.is_some() && !ours)?;
        // CLEAR lifts the TLP limit, not the agreement's scope: a peer gets nothing that
        // no agreement in force covers.
        match peer {
            Some(peer) => self.check_agreements(access, peer, level),
            None => Ok(()),
        }
    }

    /// Handling codes, for a requester who is not on the originator's side. `relayed`: a
    /// peer would get another member's object from us.
    fn check_handling(&self, access: &Access<'_>, relayed: bool) -> Result<(), Denial> {
        let handling = &access.object.handling;
        let deny = |code: HandlingCode, why: String| {
            Err(Denial::new(
                Rule::Handling,
                format!(
                    "handling code {code} of {} ({}): {why}",
                    access.object.originator,
                    code.meaning()
                ),
            ))
        };
        if handling.has(HandlingCode::H0) && !access.purpose.is_law_enforcement() {
            return deny(
                HandlingCode::H0,
                format!("the purpose {} is not law enforcement", access.purpose),
            );
        }
        if handling.has(HandlingCode::H1) && access.purpose == Purpose::JudicialAssistance {
            return deny(
                HandlingCode::H1,
                "ask the originator for consent first".to_owned(),
            );
        }
        let onward = relayed || access.channel == Channel::OnwardShare;
        if onward && handling.has(HandlingCode::H2) {
            return deny(
                HandlingCode::H2,
                "this would pass it beyond its recipient".to_owned(),
            );
        }
        if onward && handling.has(HandlingCode::H3) {
            let text = handling.restrictions.as_deref().unwrap_or("no text given");
            return deny(
                HandlingCode::H3,
                format!(
                    "the restrictions ('{text}') need a person to apply them before passing it on"
                ),
            );
        }
        Ok(())
    }

    /// Some agreement in force between this node and `peer` must cover the release.
    fn check_agreements(&self, access: &Access<'_>, peer: &Peer, level: Tlp) -> Result<(), Denial> {
        let mut gaps = Vec::new();
        for agreement in &peer.agreements {
            match agreement.gap(
                access.object,
                level,
                &self.local,
                &peer.member,
                access.purpose,
                access.at,
            ) {
                None => return Ok(()),
                Some(gap) => gaps.push(gap),
            }
        }
        let why = if gaps.is_empty() {
            "it shares no agreement with us".to_owned()
        } else {
            gaps.join("; ")
        };
        Err(Denial::new(
            Rule::Agreement,
            format!(
                "no agreement covers {level} {} for {} to {}: {why}",
                access.object.object_type, access.purpose, peer.member
            ),
        ))
    }
}

#[cfg(test)]
mod readme_rules;
#[cfg(test)]
mod tests;
