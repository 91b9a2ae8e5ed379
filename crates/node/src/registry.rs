//! This node's view of the federation: the member records it pins (its own among them) and
//! the agreements it is party to, kept in the store's registry and turned into what the
//! policy engine reads ([`Federation`]). Every change is committed to the transparency log
//! when the node has one.
//!
//! For now an admin adds and suspends members and creates agreements, which this node
//! signs with its identity key; admission by vote comes with governance, and collecting the
//! other parties' signatures with federation.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use comity_store::{RegistryEntry, RegistryKind, Store, StoreError};
use comity_tlog::entry::{AGREEMENT_CHANGED, MEMBER_CHANGED};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Digest as _;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::identity::{KeyError, NodeKey, PublicKey};
use crate::log::{now_us, Act, LogError, NodeLog};
use crate::policy::{
    Agreement, AgreementStatus, HandlingCode, MemberId, MemberStatus, Peer, Purpose, Scope, Tlp,
};

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

/// What a member authority does in the federation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemberRole {
    /// A national CERT/CSIRT.
    Cert,
    /// A police cyber unit.
    Police,
    /// A judicial authority.
    Judicial,
    /// A central authority for mutual legal assistance.
    CentralAuthority,
}

impl MemberRole {
    /// All roles.
    pub const ALL: [MemberRole; 4] = [
        MemberRole::Cert,
        MemberRole::Police,
        MemberRole::Judicial,
        MemberRole::CentralAuthority,
    ];

    /// The role as written, e.g. `central-authority`.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Cert => "cert",
            MemberRole::Police => "police",
            MemberRole::Judicial => "judicial",
            MemberRole::CentralAuthority => "central-authority",
        }
    }
}

impl fmt::Display for MemberRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MemberRole {
    type Err = String;
    fn from_str(s: &str) -> Result<MemberRole, String> {
        MemberRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown member role {s:?}: expected cert, police, judicial or central-authority")
            })
    }
}

/// A member's record as peers pin it: its STIX `identity`, public key, endpoint, roles and
/// country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    /// The member's STIX 2.1 `identity` object (an organisation in the government sector).
    pub identity: Value,
    /// Its node's Ed25519 public key, `ed25519:<base64>`.
    pub public_key: String,
    /// Its node's base URL, when known.
    pub endpoint: Option<String>,
    /// What it does.
    pub roles: BTreeSet<MemberRole>,
    /// ISO 3166-1 alpha-2 country code, e.g. `FR`.
    pub country: String,
    /// Whether this is this node's own record.
    #[serde(default)]
    pub local: bool,
}

/// The facts a member record is made from.
#[derive(Debug, Clone)]
pub struct NewMember {
    /// The organisation's name.
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// What it does.
    pub roles: BTreeSet<MemberRole>,
    /// Its node's public key, `ed25519:<base64>`.
    pub public_key: String,
    /// Its node's base URL.
    pub endpoint: Option<String>,
    /// How to reach the organisation.
    pub contact: Option<String>,
    /// Its STIX identity id, when it has one already; a new one is made otherwise.
    pub identity_id: Option<String>,
}

impl NewMember {
    /// Checks the facts and builds the record (with a fresh STIX identity when none is
    /// named).
    pub fn into_record(self, local: bool) -> Result<MemberRecord, RegistryError> {
        check_text("a member's name", &self.name, 256)?;
        if let Some(contact) = &self.contact {
            check_text("a member's contact", contact, 512)?;
        }
        check_country(&self.country)?;
        if self.roles.is_empty() {
            return Err(invalid(
                "a member needs at least one role: cert, police, judicial or central-authority",
            ));
        }
        self.public_key
            .parse::<PublicKey>()
            .map_err(|e| invalid(format!("public key {:?}: {e}", self.public_key)))?;
        if let Some(url) = &self.endpoint {
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if !scheme_ok || url.len() > 2048 || url.chars().any(char::is_whitespace) {
                return Err(invalid(format!("endpoint {url:?} is not an http(s) URL")));
            }
        }
        let id = match self.identity_id {
            Some(id) => {
                check_identity_id(&id)?;
                id
            }
            None => format!("identity--{}", uuid::Uuid::new_v4()),
        };
        let now = timestamp(OffsetDateTime::now_utc());
        let mut identity = json!({
            "type": "identity",
            "spec_version": "2.1",
            "id": id,
            "created": now,
            "modified": now,
            "name": self.name,
            "identity_class": "organization",
            "sectors": ["government-national"],
        });
        if let Some(contact) = self.contact {
            identity["contact_information"] = Value::String(contact);
        }
        Ok(MemberRecord {
            identity,
            public_key: self.public_key,
            endpoint: self.endpoint,
            roles: self.roles,
            country: self.country,
            local,
        })
    }
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

/// A member as this node knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its id (the id of its STIX identity).
    pub id: MemberId,
    /// Its record.
    pub record: MemberRecord,
    /// Its standing.
    pub status: MemberStatus,
    /// Last change, microseconds since the Unix epoch.
    pub updated_at: i64,
}

impl Member {
    /// The organisation's name.
    pub fn name(&self) -> &str {
        self.record.identity["name"].as_str().unwrap_or_default()
    }
}

/// What an agreement covers, as written in its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeDocument {
    /// STIX object types, e.g. `indicator`.
    pub object_types: BTreeSet<String>,
    /// The most restrictive TLP level that may flow: `clear`, `green`, `amber`,
    /// `amber+strict` or `red`.
    pub max_tlp: String,
    /// The handling codes the parties undertake to honour (`H0` … `H3`).
    pub handling: BTreeSet<String>,
    /// `intelligence`, `police-cooperation`, `judicial-assistance`.
    pub purposes: BTreeSet<String>,
}

/// One party's signature over an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartySignature {
    /// The signing member.
    pub member: String,
    /// The key it signed with, `ed25519:<base64>`.
    pub public_key: String,
    /// Ed25519 over the canonical JSON of the agreement without its signatures, base64.
    pub signature: String,
}

/// A sharing agreement as its parties hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementDocument {
    /// `agreement--<UUID>`.
    pub id: String,
    /// A title people recognise.
    pub title: String,
    /// The member who proposed it.
    pub proposer: String,
    /// Its parties (two or more members).
    pub parties: BTreeSet<String>,
    /// What it covers.
    pub scope: ScopeDocument,
    /// In force from (RFC 3339).
    pub valid_from: String,
    /// In force until, exclusive (RFC 3339); none for no end.
    pub valid_until: Option<String>,
    /// When it was drawn up.
    pub created: String,
    /// The parties' signatures.
    #[serde(default)]
    pub signatures: Vec<PartySignature>,
}

impl AgreementDocument {
    /// What each party signs: the document without its signatures.
    pub fn signed_body(&self) -> Value {
        let mut body = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut body {
            map.remove("signatures");
        }
        body
    }

    /// The scope and period as the policy engine reads them.
    fn to_policy(&self, status: AgreementStatus) -> Result<Agreement, RegistryError> {
        let s = &self.scope;
        let max_tlp = Tlp::from_extension_value(&s.max_tlp).ok_or_else(|| {
            invalid(format!(
                "max TLP {:?} is not clear, green, amber, amber+strict or red",
                s.max_tlp
            ))
        })?;
        let handling = s
            .handling
            .iter()
            .map(|c| {
                HandlingCode::parse(c)
                    .ok_or_else(|| invalid(format!("handling code {c:?} is not H0, H1, H2 or H3")))
            })
            .collect::<Result<_, _>>()?;
        let purposes = s
            .purposes
            .iter()
            .map(|p| p.parse::<Purpose>().map_err(invalid))
            .collect::<Result<_, _>>()?;
        Ok(Agreement {
            id: self.id.clone(),
            parties: self.parties.iter().cloned().map(MemberId).collect(),
            scope: Scope {
                object_types: s.object_types.clone(),
                max_tlp,
                handling,
                purposes,
            },
            valid_from: parse_time("valid_from", &self.valid_from)?,
            valid_until: self
                .valid_until
                .as_deref()
                .map(|u| parse_time("valid_until", u))
                .transpose()?,
            status,
        })
    }
}

/// An agreement as this node holds it: the signed document, its status and the engine's
/// reading of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAgreement {
    /// The document with its signatures.
    pub document: AgreementDocument,
    /// The engine's reading (scope, period, status).
    pub terms: Agreement,
}

/// What an admin fills in to draw up an agreement.
#[derive(Debug, Clone)]
pub struct AgreementDraft {
    /// A title.
    pub title: String,
    /// The other parties (this node is always a party).
    pub partners: BTreeSet<String>,
    /// What it covers.
    pub scope: ScopeDocument,
    /// In force from; now when absent.
    pub valid_from: Option<String>,
    /// In force until; no end when absent.
    pub valid_until: Option<String>,
}

/// The federation as the policy engine needs it: who this node is and each peer with the
/// agreements it shares with us.
#[derive(Debug, Clone, Default)]
pub struct Federation {
    /// This node's member id, when its record exists.
    pub local: Option<MemberId>,
    /// This node's roles (what its own users read for follows from them).
    pub local_roles: BTreeSet<MemberRole>,
    /// Every other member, with its standing and agreements.
    pub peers: HashMap<MemberId, Peer>,
    /// The last change to any member or agreement, microseconds since the Unix epoch.
    pub changed_at: i64,
}

impl Federation {
    /// Whether a decision taken at `then` (microseconds) still holds now: nothing in the
    /// registry changed since, and no agreement started or ended in between.
    pub fn unchanged_since(&self, then: i64) -> bool {
        let (Ok(then_t), now) = (
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(then) * 1000),
            OffsetDateTime::now_utc(),
        ) else {
            return false;
        };
        let crossed = |t: OffsetDateTime| then_t < t && t <= now;
        self.changed_at < then
            && !self
                .peers
                .values()
                .flat_map(|p| &p.agreements)
                .any(|a| crossed(a.valid_from) || a.valid_until.is_some_and(crossed))
    }

    /// The purpose this node's own users read for: police units for police cooperation,
    /// judicial and central authorities for judicial assistance, others (CERTs) for
    /// intelligence.
    pub fn local_purpose(&self) -> Purpose {
        let roles = &self.local_roles;
        if roles.contains(&MemberRole::Police) {
            Purpose::PoliceCooperation
        } else if roles.contains(&MemberRole::Judicial)
            || roles.contains(&MemberRole::CentralAuthority)
        {
            Purpose::JudicialAssistance
        } else {
            Purpose::Intelligence
        }
    }

    /// The member an object comes from, given its `created_by_ref`: a registered peer when
    /// the reference names one, this node otherwise.
    pub fn originator(&self, created_by_ref: Option<&str>, local: &MemberId) -> MemberId {
        match created_by_ref {
            Some(by) if self.peers.contains_key(by) => MemberId(by.to_owned()),
            _ => local.clone(),
        }
    }
}

/// The registry of one node over its store, committing changes to its log when it has one.
pub struct Registry<'a> {
    store: &'a dyn Store,
    log: Option<&'a NodeLog>,
}

impl<'a> Registry<'a> {
    /// The registry in `store`; `log` receives a commitment for every change.
    pub fn new(store: &'a dyn Store, log: Option<&'a NodeLog>) -> Registry<'a> {
        Registry { store, log }
    }

    async fn commit(&self, kind: &str, subject: &str, what: Value) -> Result<(), RegistryError> {
        let (Some(log), Some(_)) = (self.log, self.store.transparency_log()) else {
            return Ok(());
        };
        let act = Act {
            kind: kind.to_owned(),
            actor: log.origin().to_owned(),
            subject: subject.to_owned(),
            canonical: comity_stix::canonical_json(&what).into_bytes(),
        };
        log.record(self.store, act).await?;
        Ok(())
    }

    /// Registers a member (this node's own record when `record.local`).
    pub async fn add_member(&self, record: MemberRecord) -> Result<Member, RegistryError> {
        let id = record.identity["id"]
            .as_str()
            .ok_or_else(|| invalid("the member's identity has no id"))?
            .to_owned();
        if record.local && self.local_member().await?.is_some() {
            return Err(invalid("this node already has its own member record"));
        }
        let member = Member {
            id: MemberId(id),
            record,
            status: MemberStatus::Active,
            updated_at: now_us(),
        };
        self.store
            .add_registry_entry(&member_entry(&member))
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    invalid(format!("member {} is registered already", member.id))
                }
                other => other.into(),
            })?;
        self.commit(MEMBER_CHANGED, &member.id.0, member_json(&member))
            .await?;
        Ok(member)
    }

    /// Replaces this node's own record (name, country, roles, endpoint, contact).
    pub async fn update_local(&self, record: MemberRecord) -> Result<Member, RegistryError> {
        let mut member = self
            .local_member()
            .await?
            .ok_or_else(|| invalid("this node has no member record yet; run `comity init`"))?;
        member.record = MemberRecord {
            local: true,
            ..record
        };
        member.updated_at = now_us();
        self.store
            .update_registry_entry(&member_entry(&member))
            .await?;
        self.commit(MEMBER_CHANGED, &member.id.0, member_json(&member))
            .await?;
        Ok(member)
    }

    /// Suspends or reinstates a peer member.
    pub async fn set_member_status(
        &self,
        id: &str,
        status: MemberStatus,
    ) -> Result<Member, RegistryError> {
        let mut member = self
            .member(id)
            .await?
            .ok_or_else(|| invalid(format!("no member {id} is registered")))?;
        if member.record.local {
            return Err(invalid("this node cannot suspend or reinstate itself"));
        }
        if member.status == status {
            return Err(invalid(format!(
                "member {id} is {} already",
                status.as_str()
            )));
        }
        member.status = status;
        member.updated_at = now_us();
        self.store
            .update_registry_entry(&member_entry(&member))
            .await?;
        self.commit(MEMBER_CHANGED, id, member_json(&member))
            .await?;
        Ok(member)
    }

    /// One member.
    pub async fn member(&self, id: &str) -> Result<Option<Member>, RegistryError> {
        self.store
            .registry_entry(RegistryKind::Member, id)
            .await?
            .map(|e| read_member(&e))
            .transpose()
    }

    /// Every member, this node included, by id.
    pub async fn members(&self) -> Result<Vec<Member>, RegistryError> {
        self.store
            .registry(RegistryKind::Member)
            .await?
            .iter()
            .map(read_member)
            .collect()
    }

    /// This node's own record, once `comity init` has made it.
    pub async fn local_member(&self) -> Result<Option<Member>, RegistryError> {
        Ok(self.members().await?.into_iter().find(|m| m.record.local))
    }

    /// Draws up an agreement between this node and `draft.partners`, signed with this
    /// node's key; it is in force from its start date. The partners' signatures are added
    /// when they send them.
    pub async fn create_agreement(
        &self,
        draft: AgreementDraft,
        key: &NodeKey,
    ) -> Result<SignedAgreement, RegistryError> {
        let local = self
            .local_member()
            .await?
            .ok_or_else(|| invalid("this node has no member record yet; run `comity init`"))?;
        if key.public_key().to_string() != local.record.public_key {
            return Err(invalid(
                "the node key does not match the public key of this node's member record",
            ));
        }
        if draft.title.trim().is_empty() || draft.title.len() > 256 {
            return Err(invalid(
                "an agreement's title must have 1 to 256 characters",
            ));
        }
        if draft.partners.is_empty() {
            return Err(invalid("an agreement needs at least one other party"));
        }
        for partner in &draft.partners {
            match self.member(partner).await? {
                None => return Err(invalid(format!("no member {partner} is registered"))),
                Some(m) if m.record.local => {
                    return Err(invalid("this node is a party already; name the others"))
                }
                Some(m) if m.status == MemberStatus::Suspended => {
                    return Err(invalid(format!("member {partner} is suspended")))
                }
                Some(_) => {}
            }
        }
        if draft.scope.object_types.is_empty() || draft.scope.purposes.is_empty() {
            return Err(invalid(
                "an agreement's scope needs at least one object type and one purpose",
            ));
        }
        let now = OffsetDateTime::now_utc();
        let mut parties = draft.partners;
        parties.insert(local.id.0.clone());
        let mut document = AgreementDocument {
            id: format!("agreement--{}", uuid::Uuid::new_v4()),
            title: draft.title,
            proposer: local.id.0.clone(),
            parties,
            scope: draft.scope,
            valid_from: draft.valid_from.unwrap_or_else(|| timestamp(now)),
            valid_until: draft.valid_until,
            created: timestamp(now),
            signatures: Vec::new(),
        };
        let terms = document.to_policy(AgreementStatus::Active)?;
        if terms.valid_until.is_some_and(|u| u <= terms.valid_from) {
            return Err(invalid("valid_until must come after valid_from"));
        }
        document.signatures.push(PartySignature {
            member: local.id.0.clone(),
            public_key: local.record.public_key.clone(),
            signature: key.sign(&document.signed_body()),
        });
        let agreement = SignedAgreement { document, terms };
        self.store
            .add_registry_entry(&agreement_entry(&agreement)?)
            .await?;
        self.commit(
            AGREEMENT_CHANGED,
            &agreement.document.id,
            agreement_json(&agreement),
        )
        .await?;
        Ok(agreement)
    }

    /// Suspends, reinstates or terminates an agreement. A terminated one stays terminated.
    pub async fn set_agreement_status(
        &self,
        id: &str,
        status: AgreementStatus,
    ) -> Result<SignedAgreement, RegistryError> {
        let mut agreement = self
            .agreement(id)
            .await?
            .ok_or_else(|| invalid(format!("no agreement {id}")))?;
        if agreement.terms.status == AgreementStatus::Terminated {
            return Err(invalid(format!("agreement {id} is terminated for good")));
        }
        if agreement.terms.status == status {
            return Err(invalid(format!(
                "agreement {id} is {} already",
                status.as_str()
            )));
        }
        agreement.terms.status = status;
        self.store
            .update_registry_entry(&agreement_entry(&agreement)?)
            .await?;
        self.commit(AGREEMENT_CHANGED, id, agreement_json(&agreement))
            .await?;
        Ok(agreement)
    }

    /// One agreement, its signatures checked against the pinned keys.
    pub async fn agreement(&self, id: &str) -> Result<Option<SignedAgreement>, RegistryError> {
        let members = self.members().await?;
        self.store
            .registry_entry(RegistryKind::Agreement, id)
            .await?
            .map(|e| read_agreement(&e, &members))
            .transpose()
    }

    /// Every agreement, by id.
    pub async fn agreements(&self) -> Result<Vec<SignedAgreement>, RegistryError> {
        let members = self.members().await?;
        self.store
            .registry(RegistryKind::Agreement)
            .await?
            .iter()
            .map(|e| read_agreement(e, &members))
            .collect()
    }

    /// The federation as the policy engine reads it.
    pub async fn federation(&self) -> Result<Federation, RegistryError> {
        let members = self.members().await?;
        let entries = self.store.registry(RegistryKind::Agreement).await?;
        let changed_at = entries
            .iter()
            .map(|e| e.updated_at)
            .chain(members.iter().map(|m| m.updated_at))
            .max()
            .unwrap_or(0);
        // An agreement whose signatures do not verify (tampered with in the database, or
        // signed by a key that is no longer pinned) covers nothing: it is left out, and
        // said so in the log, rather than stopping every exit.
        let agreements: Vec<SignedAgreement> = entries
            .iter()
            .filter_map(|e| match read_agreement(e, &members) {
                Ok(a) => Some(a),
                Err(err) => {
                    tracing::error!(error = %err, "agreement ignored");
                    None
                }
            })
            .collect();
        let me = members.iter().find(|m| m.record.local);
        let local = me.map(|m| m.id.clone());
        let local_roles = me.map(|m| m.record.roles.clone()).unwrap_or_default();
        let peers = members
            .into_iter()
            .filter(|m| !m.record.local)
            .map(|m| {
                let shared = agreements
                    .iter()
                    .filter(|a| a.terms.parties.contains(&m.id))
                    .map(|a| a.terms.clone())
                    .collect();
                let peer = Peer {
                    member: m.id.clone(),
                    status: m.status,
                    agreements: shared,
                };
                (m.id, peer)
            })
            .collect();
        Ok(Federation {
            local,
            local_roles,
            peers,
            changed_at,
        })
    }
}

fn member_entry(m: &Member) -> RegistryEntry {
    RegistryEntry {
        kind: RegistryKind::Member,
        id: m.id.0.clone(),
        status: m.status.as_str().to_owned(),
        document: serde_json::to_string(&m.record).unwrap_or_default(),
        updated_at: m.updated_at,
    }
}

fn member_json(m: &Member) -> Value {
    json!({"status": m.status.as_str(), "record": m.record})
}

fn read_member(e: &RegistryEntry) -> Result<Member, RegistryError> {
    let corrupt = |why: String| RegistryError::Corrupt {
        kind: "member",
        id: e.id.clone(),
        why,
    };
    let record: MemberRecord =
        serde_json::from_str(&e.document).map_err(|err| corrupt(err.to_string()))?;
    let status = MemberStatus::parse(&e.status)
        .ok_or_else(|| corrupt(format!("unknown status {:?}", e.status)))?;
    Ok(Member {
        id: MemberId(e.id.clone()),
        record,
        status,
        updated_at: e.updated_at,
    })
}

fn agreement_entry(a: &SignedAgreement) -> Result<RegistryEntry, RegistryError> {
    Ok(RegistryEntry {
        kind: RegistryKind::Agreement,
        id: a.document.id.clone(),
        status: a.terms.status.as_str().to_owned(),
        document: serde_json::to_string(&a.document)
            .map_err(|e| invalid(format!("cannot encode the agreement: {e}")))?,
        updated_at: now_us(),
    })
}

fn agreement_json(a: &SignedAgreement) -> Value {
    json!({"status": a.terms.status.as_str(), "document": a.document})
}

/// Reads a stored agreement and checks every signature against the signer's pinned key: an
/// agreement whose signatures do not verify is reported, never applied.
/// The digests of agreement documents whose signatures verified in this process.
fn verified() -> &'static std::sync::Mutex<std::collections::HashSet<[u8; 32]>> {
    static VERIFIED: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<[u8; 32]>>> =
        std::sync::OnceLock::new();
    VERIFIED.get_or_init(Default::default)
}

fn read_agreement(e: &RegistryEntry, members: &[Member]) -> Result<SignedAgreement, RegistryError> {
    let corrupt = |why: String| RegistryError::Corrupt {
        kind: "agreement",
        id: e.id.clone(),
        why,
    };
    let document: AgreementDocument =
        serde_json::from_str(&e.document).map_err(|err| corrupt(err.to_string()))?;
    let status = AgreementStatus::parse(&e.status)
        .ok_or_else(|| corrupt(format!("unknown status {:?}", e.status)))?;
    for sig in &document.signatures {
        let pinned = members
            .iter()
            .find(|m| m.id.0 == sig.member)
            .ok_or_else(|| corrupt(format!("signed by unknown member {}", sig.member)))?;
        if pinned.record.public_key != sig.public_key {
            return Err(corrupt(format!(
                "signed by {} with a key that is not its pinned key",
                sig.member
            )));
        }
    }
    // Whether the signatures verify depends only on the document's text (which carries the
    // signers' keys, checked against the pinned ones above), so each text is verified once
    // per process; every exit reads the agreements, and Ed25519 costs tens of µs.
    let digest: [u8; 32] = sha2::Sha256::digest(e.document.as_bytes()).into();
    if !verified()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&digest)
    {
        let body = document.signed_body();
        for sig in &document.signatures {
            let key: PublicKey = sig
                .public_key
                .parse()
                .map_err(|err: KeyError| corrupt(err.to_string()))?;
            key.verify(&body, &sig.signature)
                .map_err(|err| corrupt(format!("signature of {}: {err}", sig.member)))?;
        }
        let mut set = verified().lock().unwrap_or_else(|p| p.into_inner());
        if set.len() >= 10_000 {
            set.clear();
        }
        set.insert(digest);
    }
    let terms = document
        .to_policy(status)
        .map_err(|err| corrupt(err.to_string()))?;
    Ok(SignedAgreement { document, terms })
}
