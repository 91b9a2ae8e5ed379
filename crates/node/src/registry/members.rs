//! Member records and the member acts.

use std::collections::BTreeSet;
use std::fmt;

use comity_store::{RegistryEntry, RegistryKind, StoreError};
use comity_tlog::entry::MEMBER_CHANGED;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::{
    check_country, check_identity_id, check_text, invalid, parse_time, timestamp, Directory,
    Registry, RegistryError,
};
use crate::federation::seal::{EncryptionKey, OpeningKey};
use crate::identity::rotation::SignedKeyStatement;
use crate::identity::PublicKey;
use crate::member_file::MemberFile;
use crate::policy::{AgreementStatus, MemberId, MemberStatus};
use comity_stix::clock::now_us;

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
    /// Its node's X25519 public key for sealed envelope bodies, `x25519:<base64>` (see
    /// [`crate::federation::seal`]); absent in records made before sealing, which then get
    /// nothing sealed (nothing leaves unsealed either) until it is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<String>,
    /// Its node's base URL, when known.
    pub endpoint: Option<String>,
    /// What it does.
    pub roles: BTreeSet<MemberRole>,
    /// ISO 3166-1 alpha-2 country code, e.g. `FR`.
    pub country: String,
    /// Whether this is this node's own record.
    #[serde(default)]
    pub local: bool,
    /// Whether this node's admin allowed a plain `http://` endpoint off loopback for this
    /// member (`comity member add --allow-plain-http`): a decision of this node, never
    /// taken from a peer's file; absent when false, so records and their signatures are
    /// unchanged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_plain_http: bool,
    /// The key statements taken for this member (made, for this node's own record), in
    /// order: its rotations and revocations ([`crate::identity::rotation`]). Changed only by
    /// [`Registry::take_key_statements`] and this node's own rotations, never by a member
    /// record file; absent when empty, so records and their signatures are unchanged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_history: Vec<SignedKeyStatement>,
}

/// The host of an `http(s)://` URL (IPv6 without its brackets), lower-case.
fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Whether `url` is a plain `http://` URL whose host is not this machine's loopback
/// (127.0.0.0/8, ::1, `localhost`): what peers may only be reached at with an admin's
/// explicit leave, since anyone on the path reads and changes what crosses it.
pub fn plain_http_off_loopback(url: &str) -> bool {
    if !url.starts_with("http://") {
        return false;
    }
    let Some(host) = url_host(url) else {
        return true;
    };
    if host == "localhost" {
        return false;
    }
    !host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a plain `http://` endpoint off loopback unless `allowed`: the one rule for
/// plain HTTP, applied when a peer is registered and before anything is sent to it.
pub fn check_plain_http(url: &str, allowed: bool) -> Result<(), RegistryError> {
    if plain_http_off_loopback(url) && !allowed {
        return Err(invalid(format!(
            "endpoint {url:?} is plain http:// off loopback: envelopes would cross the network \
             readable and changeable by anyone on the path; use https://, or allow it for \
             this member explicitly (`comity member add … --allow-plain-http`)"
        )));
    }
    Ok(())
}

impl MemberRecord {
    /// The record's member id (its identity's id).
    pub fn id(&self) -> Option<&str> {
        self.identity["id"].as_str()
    }

    /// The endpoint to send to and pull from: `None` when there is none, or when it is
    /// plain `http://` off loopback and this node's admin did not allow that (logged).
    pub fn delivery_endpoint(&self) -> Option<String> {
        let endpoint = self.endpoint.as_deref()?;
        if let Err(e) = check_plain_http(endpoint, self.allow_plain_http) {
            tracing::warn!(member = self.id().unwrap_or_default(), error = %e, "nothing sent to this member");
            return None;
        }
        Some(endpoint.to_owned())
    }

    /// Checks a record made elsewhere (a peer's member record file) by the rules
    /// [`NewMember::into_record`] applies to the facts it is made from.
    pub fn check(&self) -> Result<(), RegistryError> {
        let identity = &self.identity;
        if identity["type"] != "identity" || identity["spec_version"] != "2.1" {
            return Err(invalid(
                "the record's identity is not a STIX 2.1 identity object",
            ));
        }
        check_identity_id(self.id().unwrap_or_default())?;
        let name = identity["name"].as_str().unwrap_or_default();
        check_text("a member's name", name, 256)?;
        if let Some(contact) = identity.get("contact_information") {
            check_text(
                "a member's contact",
                contact.as_str().unwrap_or_default(),
                512,
            )?;
        }
        NewMember {
            name: name.to_owned(),
            country: self.country.clone(),
            roles: self.roles.clone(),
            public_key: self.public_key.clone(),
            encryption_key: self.encryption_key.clone(),
            endpoint: self.endpoint.clone(),
            contact: None,
            identity_id: self.id().map(str::to_owned),
        }
        .into_record(false)
        .map(drop)
    }
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
    /// Its node's encryption key, `x25519:<base64>`, when it publishes one.
    pub encryption_key: Option<String>,
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
        if let Some(key) = &self.encryption_key {
            key.parse::<EncryptionKey>()
                .map_err(|e| invalid(format!("encryption key {key:?}: {e}")))?;
        }
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
            encryption_key: self.encryption_key,
            endpoint: self.endpoint,
            roles: self.roles,
            country: self.country,
            local,
            allow_plain_http: false,
            key_history: Vec::new(),
        })
    }
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

impl<'a> Directory<'a> {
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
}

impl<'a> Registry<'a> {
    /// The encryption key this node publishes: derived from its identity key.
    fn own_encryption_key(&self) -> String {
        OpeningKey::of(self.log.node_key()).public_key().to_string()
    }

    /// Registers a member (this node's own record when `record.local`, which publishes this
    /// node's encryption key whatever it said).
    pub async fn add_member(&self, mut record: MemberRecord) -> Result<Member, RegistryError> {
        if record.local {
            record.encryption_key = Some(self.own_encryption_key());
        }
        let id = record.identity["id"]
            .as_str()
            .ok_or_else(|| invalid("the member's identity has no id"))?
            .to_owned();
        if record.local && self.local_member().await?.is_some() {
            return Err(invalid("this node already has its own member record"));
        }
        if !record.local {
            if let Some(endpoint) = &record.endpoint {
                check_plain_http(endpoint, record.allow_plain_http)?;
                if record.allow_plain_http && plain_http_off_loopback(endpoint) {
                    tracing::warn!(
                        member = %id,
                        endpoint = %endpoint,
                        "plain http:// allowed for this member by the admin: what is sent \
                         to it crosses the network unencrypted"
                    );
                }
            }
        }
        let members = self.members().await?;
        if let Some(holder) = members
            .iter()
            .find(|m| m.record.public_key == record.public_key && m.id.0 != id)
        {
            let whose = if holder.record.local {
                "this node's own key".to_owned()
            } else {
                format!(
                    "pinned already for member {} ({}); one key is one member: if that \
                     member was registered by mistake, `comity member remove {}` first",
                    holder.id,
                    holder.name(),
                    holder.id
                )
            };
            return Err(invalid(format!(
                "public key {} is {whose}",
                record.public_key
            )));
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

    /// Replaces this node's own record (name, country, roles, endpoint, contact); it
    /// publishes this node's identity and encryption keys whatever `record` said, and the
    /// new record, signed, goes to every peer ([`crate::federation::member`]).
    pub async fn update_local(&self, record: MemberRecord) -> Result<Member, RegistryError> {
        let mut member = self
            .local_member()
            .await?
            .ok_or_else(|| invalid("this node has no member record yet; run `comity init`"))?;
        let key_history = member.record.key_history.clone();
        let previous = std::mem::replace(
            &mut member.record,
            MemberRecord {
                local: true,
                public_key: self.log.node_key().public_key().to_string(),
                encryption_key: Some(self.own_encryption_key()),
                key_history,
                ..record
            },
        );
        // The identity keeps when it was made; `modified` moves on, so that peers tell the
        // new record from every earlier one (see [`Registry::update_member`]).
        let identity = &mut member.record.identity;
        identity["created"] = previous.identity["created"].clone();
        identity["modified"] = Value::String(modified_after(&previous.identity));
        member.updated_at = now_us();
        self.store
            .update_registry_entry(&member_entry(&member))
            .await?;
        self.commit(MEMBER_CHANGED, &member.id.0, member_json(&member))
            .await?;
        let file = MemberFile::sign(&member.record, self.log.node_key())
            .map_err(|e| invalid(e.to_string()))?;
        crate::federation::member::queue(self.store, &self.members().await?, &file).await?;
        Ok(member)
    }

    /// Adds this node's encryption key to its own record when the record lacks it (a node
    /// made before envelopes were sealed; `comity serve` calls this as it starts), with
    /// its log commitment. Says whether the record changed.
    pub async fn publish_encryption_key(&self) -> Result<bool, RegistryError> {
        let Some(local) = self.local_member().await? else {
            return Ok(false);
        };
        if local.record.encryption_key.as_deref() == Some(self.own_encryption_key().as_str()) {
            return Ok(false);
        }
        self.update_local(local.record).await?;
        Ok(true)
    }

    /// Replaces the pinned record of the peer member that `record` names with `record`, a
    /// newer one that member's node signed: read from its member record file ([`crate::member_file::MemberFile::read`]
    /// checked the signature with the key the record carries), so that this node learns,
    /// for instance, the encryption key a node upgraded from an earlier build now publishes,
    /// or its new endpoint. Committed to the log as `member.changed`; the member keeps its
    /// standing.
    ///
    /// Refused, leaving the pinned record as it is: for a member that is not registered or
    /// is this node; when the record names another key than the pinned one (a record
    /// signed by anyone else proves nothing about the member); when its identity's
    /// `modified` is not later than the pinned record's (a replayed or older file, which
    /// would undo a change); and for a plain `http://` endpoint off loopback unless
    /// `record.allow_plain_http` (this node's admin's leave) or the pinned record had that
    /// leave for the same endpoint.
    pub async fn update_member(&self, record: MemberRecord) -> Result<Member, RegistryError> {
        record.check()?;
        let id = record.id().unwrap_or_default().to_owned();
        let mut member = self.member(&id).await?.ok_or_else(|| {
            invalid(format!(
                "no member {id} is registered: pin it first (`comity member add --from FILE`)"
            ))
        })?;
        if member.record.local || record.local {
            return Err(invalid(
                "this is this node's own record: change it with `comity member set-local`",
            ));
        }
        if record.public_key != member.record.public_key {
            return Err(invalid(format!(
                "the record names the key {}, but member {id} is pinned with the key {}: a \
                 pinned record is replaced only by one its pinned key signed",
                record.public_key, member.record.public_key
            )));
        }
        let (new, pinned) = (
            modified_of(&record.identity)?,
            modified_of(&member.record.identity)?,
        );
        if new <= pinned {
            return Err(invalid(format!(
                "the record was modified at {}, not after the record pinned for member {id} \
                 (modified at {}): an older or replayed record is not taken",
                timestamp(new),
                timestamp(pinned)
            )));
        }
        let kept_leave =
            member.record.allow_plain_http && member.record.endpoint == record.endpoint;
        let allow_plain_http = record.allow_plain_http || kept_leave;
        if let Some(endpoint) = &record.endpoint {
            check_plain_http(endpoint, allow_plain_http)?;
        }
        member.record = MemberRecord {
            allow_plain_http,
            key_history: std::mem::take(&mut member.record.key_history),
            ..record
        };
        member.updated_at = now_us();
        self.store
            .update_registry_entry(&member_entry(&member))
            .await?;
        self.commit(MEMBER_CHANGED, &id, member_json(&member))
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

    /// Removes peer member `id` registered by mistake, with the envelopes still waiting in
    /// its outbox (committed to the log as `member.changed`, status `removed`); returns it
    /// with how many envelopes were dropped. Refused for this node's own record, and while
    /// an agreement that is not terminated names it or any agreement holds its signature
    /// (its signatures must stay verifiable): terminate those first, or suspend it.
    pub async fn remove_member(&self, id: &str) -> Result<(Member, u64), RegistryError> {
        let member = self
            .member(id)
            .await?
            .ok_or_else(|| invalid(format!("no member {id} is registered")))?;
        if member.record.local {
            return Err(invalid("this node cannot remove its own member record"));
        }
        for a in self.agreements().await? {
            let d = &a.document;
            if d.signed_by(id) {
                return Err(invalid(format!(
                    "agreement {} ({}) holds the signature of {id}, which must stay verifiable: \
                     suspend the member instead",
                    d.id, d.title
                )));
            }
            if a.terms.status != AgreementStatus::Terminated && d.parties.iter().any(|p| p == id) {
                return Err(invalid(format!(
                    "agreement {} ({}) names {id} as a party and is {}: terminate it first \
                     (`comity agreement terminate {}`)",
                    d.id,
                    d.title,
                    a.terms.status.as_str(),
                    d.id
                )));
            }
        }
        let dropped = self.store.remove_member(id).await.map_err(|e| match e {
            StoreError::NotFound(_) => invalid(format!("no member {id} is registered")),
            other => other.into(),
        })?;
        let what = json!({"status": "removed", "record": member.record});
        self.commit(MEMBER_CHANGED, id, what).await?;
        Ok((member, dropped))
    }
}

/// When the member record with STIX identity `identity` was last modified.
fn modified_of(identity: &Value) -> Result<OffsetDateTime, RegistryError> {
    parse_time(
        "the record's modified time",
        identity["modified"].as_str().unwrap_or_default(),
    )
}

/// A `modified` time for the next version of the record with STIX identity `identity`:
/// now, or a millisecond after its own (timestamps have milliseconds) when the clock has
/// not moved that far past it.
pub(super) fn modified_after(identity: &Value) -> String {
    let now = OffsetDateTime::now_utc();
    let next = match modified_of(identity) {
        Ok(previous) => now.max(previous + time::Duration::milliseconds(1)),
        Err(_) => now,
    };
    timestamp(next)
}

/// The registry entry of member `m`.
pub(crate) fn member_entry(m: &Member) -> RegistryEntry {
    RegistryEntry {
        kind: RegistryKind::Member,
        id: m.id.0.clone(),
        status: m.status.into(),
        document: serde_json::to_string(&m.record).unwrap_or_default(),
        updated_at: m.updated_at,
    }
}

pub(super) fn member_json(m: &Member) -> Value {
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
    let status = MemberStatus::parse(e.status.as_str())
        .ok_or_else(|| corrupt(format!("unknown status {:?}", e.status.as_str())))?;
    Ok(Member {
        id: MemberId(e.id.clone()),
        record,
        status,
        updated_at: e.updated_at,
    })
}
