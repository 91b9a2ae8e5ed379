//! Sharing agreements as values: who the parties are, what they cover (object types, a
//! maximum TLP level, the handling codes the parties undertake to honour, purposes), and
//! when they are in force. This module answers "does this agreement cover this object for
//! this purpose now?" with a precise reason when not; it never stores, signs or fetches
//! agreements, and it never decides a release on its own (that is [`super::Policy`]).

use std::collections::BTreeSet;
use std::fmt;

use comity_stix::tlp::Tlp;
use time::OffsetDateTime;

use super::handling::HandlingCode;
use super::marking::{MarkedObject, MemberId};

/// Why information is asked for; agreements list the purposes they allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// `intelligence`: threat intelligence sharing between CERTs and agencies.
    Intelligence,
    /// `police-cooperation`: police-to-police cooperation.
    PoliceCooperation,
    /// `judicial-assistance`: use in judicial proceedings and mutual legal assistance.
    JudicialAssistance,
}

impl Purpose {
    /// All purposes.
    pub const ALL: [Purpose; 3] = [
        Purpose::Intelligence,
        Purpose::PoliceCooperation,
        Purpose::JudicialAssistance,
    ];

    /// The purpose as written in an agreement, e.g. `police-cooperation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Intelligence => "intelligence",
            Purpose::PoliceCooperation => "police-cooperation",
            Purpose::JudicialAssistance => "judicial-assistance",
        }
    }

    /// Whether this is a law-enforcement purpose in the sense of handling code H0.
    pub fn is_law_enforcement(self) -> bool {
        matches!(
            self,
            Purpose::PoliceCooperation | Purpose::JudicialAssistance
        )
    }
}

impl std::str::FromStr for Purpose {
    type Err = String;
    fn from_str(s: &str) -> Result<Purpose, String> {
        Purpose::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "purpose {s:?} is not intelligence, police-cooperation or judicial-assistance"
                )
            })
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The recorded status of an agreement. Expiry is not a status: it follows from the
/// validity period and the time of the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementStatus {
    /// Proposed, awaiting the signatures of some parties: nothing flows under it yet.
    Proposed,
    /// Signed by every party and applied.
    Active,
    /// Put on hold by a party; nothing flows under it until it is active again.
    Suspended,
    /// Ended for good.
    Terminated,
}

impl AgreementStatus {
    /// Every status.
    pub const ALL: [AgreementStatus; 4] = [
        AgreementStatus::Proposed,
        AgreementStatus::Active,
        AgreementStatus::Suspended,
        AgreementStatus::Terminated,
    ];

    /// The status as stored and shown: `proposed`, `active`, `suspended` or `terminated`.
    pub fn as_str(self) -> &'static str {
        match self {
            AgreementStatus::Proposed => "proposed",
            AgreementStatus::Active => "active",
            AgreementStatus::Suspended => "suspended",
            AgreementStatus::Terminated => "terminated",
        }
    }

    /// The status written as `s`.
    pub fn parse(s: &str) -> Option<AgreementStatus> {
        AgreementStatus::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl From<AgreementStatus> for comity_store::RegistryStatus {
    /// The status an agreement's registry entry is stored with.
    fn from(status: AgreementStatus) -> Self {
        match status {
            AgreementStatus::Proposed => comity_store::RegistryStatus::Proposed,
            AgreementStatus::Active => comity_store::RegistryStatus::Active,
            AgreementStatus::Suspended => comity_store::RegistryStatus::Suspended,
            AgreementStatus::Terminated => comity_store::RegistryStatus::Terminated,
        }
    }
}

/// What an agreement covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The STIX object types that may flow, e.g. `indicator`.
    pub object_types: BTreeSet<String>,
    /// The most restrictive TLP level that may flow.
    pub max_tlp: Tlp,
    /// The handling codes the parties undertake to honour; an object carrying any other code
    /// does not flow under this agreement.
    pub handling: BTreeSet<HandlingCode>,
    /// The purposes information may be used for.
    pub purposes: BTreeSet<Purpose>,
}

/// A bilateral or multilateral sharing agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    /// Its identifier.
    pub id: String,
    /// The member ids of its parties.
    pub parties: BTreeSet<MemberId>,
    /// What it covers.
    pub scope: Scope,
    /// When it comes into force.
    pub valid_from: OffsetDateTime,
    /// When it ends (exclusive); `None` for no end.
    pub valid_until: Option<OffsetDateTime>,
    /// Its recorded status.
    pub status: AgreementStatus,
}

impl Agreement {
    /// Why this agreement does not let `object` go from `giver` to `receiver` for `purpose`
    /// at `at`, or `None` when it does.
    pub fn gap(
        &self,
        object: &MarkedObject,
        level: Tlp,
        giver: &MemberId,
        receiver: &MemberId,
        purpose: Purpose,
        at: OffsetDateTime,
    ) -> Option<String> {
        let id = &self.id;
        match self.status {
            AgreementStatus::Active => {}
            AgreementStatus::Proposed => {
                return Some(format!(
                    "agreement {id} is not signed by all its parties yet"
                ))
            }
            AgreementStatus::Suspended => return Some(format!("agreement {id} is suspended")),
            AgreementStatus::Terminated => return Some(format!("agreement {id} is terminated")),
        }
        if at < self.valid_from {
            return Some(format!(
                "agreement {id} is not in force before {}",
                self.valid_from
            ));
        }
        if let Some(until) = self.valid_until.filter(|u| at >= *u) {
            return Some(format!("agreement {id} expired at {until}"));
        }
        for party in [giver, receiver] {
            if !self.parties.contains(party) {
                return Some(format!("{party} is not a party to agreement {id}"));
            }
        }
        if !self.scope.object_types.contains(&object.object_type) {
            return Some(format!(
                "agreement {id} does not cover objects of type {}",
                object.object_type
            ));
        }
        if level > self.scope.max_tlp {
            return Some(format!(
                "agreement {id} covers at most {}, the object is {level}",
                self.scope.max_tlp
            ));
        }
        if let Some(code) = object
            .handling
            .codes
            .iter()
            .find(|c| !self.scope.handling.contains(c))
        {
            return Some(format!(
                "agreement {id} does not admit handling code {code} ({})",
                code.meaning()
            ));
        }
        if !self.scope.purposes.contains(&purpose) {
            return Some(format!(
                "agreement {id} does not allow the purpose {purpose}"
            ));
        }
        None
    }
}
