//! The values that cross the [`crate::Store`] boundary. Plain data, no behaviour beyond
//! small conveniences; validation of STIX content happens before objects get here.

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// A closed set of values stored as text: `as_str` gives the text stored (and shown),
/// `FromStr` reads it back and fails closed with [`StoreError::Backend`] on any other text,
/// `Display` and `Serialize` write the same text.
macro_rules! stored_text {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text stored and shown.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = StoreError;
            /// Reads stored text; any other text is a corrupt row ([`StoreError::Backend`]).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(StoreError::Backend(format!(
                        concat!("unknown ", $what, " {:?}: expected one of {}"),
                        other,
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

/// A TAXII API root: a named group of collections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRoot {
    /// URL path segment, e.g. `default`.
    pub name: String,
    /// Human title.
    pub title: String,
    /// Optional description.
    pub description: Option<String>,
    /// Largest request body accepted, in bytes (advertised and enforced).
    pub max_content_length: u64,
}

/// A TAXII collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// The collection's UUID.
    pub id: String,
    /// API root it belongs to.
    pub api_root: String,
    /// Human title.
    pub title: String,
    /// Optional description.
    pub description: Option<String>,
    /// When set, the collection is a policy view: a JSON description that the node
    /// interprets (for example "what member X may read of collection C"). Stored as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
    /// When set, the member (`identity--…`) whose shared objects this collection receives;
    /// their originator is that member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl Collection {
    /// The key that object operations use.
    pub fn key(&self) -> CollectionRef {
        CollectionRef {
            api_root: self.api_root.clone(),
            id: self.id.clone(),
        }
    }
}

/// Names one collection for object operations.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CollectionRef {
    /// API root name.
    pub api_root: String,
    /// Collection UUID.
    pub id: String,
}

/// One object version to store, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    /// STIX id (`type--uuid`).
    pub id: String,
    /// STIX type.
    pub object_type: String,
    /// The version as written in the object (`modified`, else `created`, else empty).
    pub version: String,
    /// The version normalised to a fixed-width UTC timestamp with nanoseconds, so that
    /// versions order as strings (empty for unversioned objects).
    pub version_key: String,
    /// `spec_version` of the object (`2.1` when absent).
    pub spec_version: String,
    /// The object's JSON exactly as received.
    pub json: String,
    /// Its observable values, indexed with it in the same transaction.
    pub values: Vec<crate::IndexedValue>,
}

/// What happened to one object of an [`crate::ObjectStore::add_objects`] call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddOutcome {
    /// Newly stored with this `date_added` (microseconds since the Unix epoch).
    Added {
        /// Server time the version was added.
        date_added: i64,
    },
    /// The same version with equal content was already in the collection.
    AlreadyStored,
    /// The same version exists with different content; nothing was changed.
    ConflictingVersion,
}

/// One stored object version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// STIX id.
    pub id: String,
    /// The version as written in the object (empty when unversioned).
    pub version: String,
    /// `spec_version` of the object.
    pub spec_version: String,
    /// Server time the version was added, microseconds since the Unix epoch.
    pub date_added: i64,
    /// Storage row number: with `date_added`, where the version stands in a listing.
    pub row: i64,
    /// The object's JSON exactly as received.
    pub json: String,
}

impl StoredObject {
    /// The cursor that continues a listing right after this version.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            date_added: self.date_added,
            row: self.row,
        }
    }
}

/// Which versions of each object a query selects (TAXII `match[version]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionFilter {
    /// Every version.
    pub all: bool,
    /// The oldest version of each object.
    pub first: bool,
    /// The newest version of each object.
    pub last: bool,
    /// Versions with exactly these normalised version keys.
    pub at: Vec<String>,
}

impl VersionFilter {
    /// Only the newest version (the TAXII default for objects).
    pub fn last() -> Self {
        VersionFilter {
            last: true,
            ..Self::default()
        }
    }
    /// Every version (the TAXII default for manifests of versions and deletion).
    pub fn all() -> Self {
        VersionFilter {
            all: true,
            ..Self::default()
        }
    }
}

/// Filters of an object query; empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectFilter {
    /// `match[id]`.
    pub ids: Vec<String>,
    /// `match[type]`.
    pub types: Vec<String>,
    /// `match[spec_version]`.
    pub spec_versions: Vec<String>,
    /// `match[version]`.
    pub versions: VersionFilter,
    /// `added_after`, microseconds since the Unix epoch (exclusive).
    pub added_after: Option<i64>,
}

/// Position after the last row of a page: stateless, valid across processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// `date_added` of the last row returned.
    pub date_added: i64,
    /// Storage row number of the last row returned (a tie-breaker).
    pub row: i64,
}

/// Which page to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many rows.
    pub limit: usize,
    /// Continue after this row.
    pub after: Option<Cursor>,
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows, in `date_added` order.
    pub items: Vec<T>,
    /// Where the next page starts, when there are more rows.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// A page from rows read in order with `LIMIT limit + 1`, each with its cursor: the
    /// extra row only tells that there is more.
    pub fn from_overfetch(rows: Vec<(Cursor, T)>, limit: usize) -> Self {
        let more = rows.len() > limit;
        let mut next = None;
        let items = rows
            .into_iter()
            .take(limit)
            .map(|(cursor, item)| {
                next = Some(cursor);
                item
            })
            .collect();
        Page {
            items,
            next: if more { next } else { None },
        }
    }
}

/// One object's line in a status resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetail {
    /// STIX id (or the position in the envelope when the object had no usable id).
    pub id: String,
    /// The object's version (may be empty).
    pub version: String,
    /// Why it failed, or a note on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A TAXII status resource: the outcome of one POST.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Status UUID.
    pub id: String,
    /// API root it belongs to.
    pub api_root: String,
    /// `complete` or `pending`.
    pub status: String,
    /// RFC 3339 time the request was received.
    pub request_timestamp: String,
    /// Microseconds since the Unix epoch when created (for expiry).
    pub created_us: i64,
    /// Objects stored (or already present).
    pub successes: Vec<StatusDetail>,
    /// Objects refused, with reasons.
    pub failures: Vec<StatusDetail>,
    /// Objects not yet processed.
    pub pendings: Vec<StatusDetail>,
    /// The local user who posted the request; only that user and admins may read the
    /// status. A status without one (written before posters were kept) is for admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster: Option<String>,
}

/// Role of a local user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads what it is granted.
    Viewer,
    /// Reads and writes intelligence where granted.
    Analyst,
    /// Sends and answers cooperation requests, votes.
    Liaison,
    /// Administers the node; reads and writes every collection.
    Admin,
}

impl Role {
    /// All roles.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Analyst, Role::Liaison, Role::Admin];

    /// The role's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Liaison => "liaison",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "analyst" => Ok(Role::Analyst),
            "liaison" => Ok(Role::Liaison),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}: expected viewer, analyst, liaison or admin"
            )),
        }
    }
}

/// A local user. The password is only ever held as an Argon2id PHC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: String,
}

/// Permissions of a user on a collection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Access {
    /// May read objects.
    pub read: bool,
    /// May add and delete objects.
    pub write: bool,
}

/// An API token. Only the SHA-256 of its secret is stored; the secret is shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Public identifier (the part of the token before the secret), unique.
    pub id: String,
    /// What the holder calls it, e.g. "misp sync".
    pub label: String,
    /// The local user it belongs to (for a member token: the admin who issued it).
    pub user: String,
    /// When set, the token acts for this peer member (its `identity--…` id), not for `user`.
    pub member: Option<String>,
    /// SHA-256 of the secret.
    pub secret_sha256: [u8; 32],
    /// Creation time, microseconds since the Unix epoch.
    pub created_at: i64,
    /// Expiry (exclusive), microseconds; None = never.
    pub expires_at: Option<i64>,
    /// When it was revoked, microseconds; None = not revoked.
    pub revoked_at: Option<i64>,
}

/// What kind of registry document an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistryKind {
    /// A member of the community (a peer node or organisation).
    Member,
    /// An agreement between members.
    Agreement,
}

impl RegistryKind {
    /// Every kind.
    pub const ALL: [RegistryKind; 2] = [RegistryKind::Member, RegistryKind::Agreement];

    /// The kind's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistryKind::Member => "member",
            RegistryKind::Agreement => "agreement",
        }
    }
}

impl std::str::FromStr for RegistryKind {
    type Err = StoreError;
    /// Reads a stored kind; unknown text is a corrupt row ([`StoreError::Backend`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "member" => Ok(RegistryKind::Member),
            "agreement" => Ok(RegistryKind::Agreement),
            other => Err(StoreError::Backend(format!(
                "unknown registry kind {other:?}: expected member or agreement"
            ))),
        }
    }
}

stored_text! {
    /// The status of a registry entry, as stored. Which statuses a member or an agreement
    /// may have is the node's business; the store keeps one of these.
    pub enum RegistryStatus("registry status") {
        /// An agreement proposed and awaiting signatures.
        Proposed => "proposed",
        /// A member in good standing; an agreement signed by every party.
        Active => "active",
        /// A suspended member or agreement.
        Suspended => "suspended",
        /// An agreement ended for good.
        Terminated => "terminated",
    }
}

stored_text! {
    /// What an envelope in an outbox carries, named as in the envelope.
    pub enum OutboxKind("outbox kind") {
        /// Shared STIX objects.
        StixObjects => "stix-objects",
        /// A sighting sent back to an object's originator.
        Sighting => "sighting",
        /// An agreement proposal, signature or termination.
        Agreement => "agreement",
        /// An event of a cooperation request.
        Request => "request",
        /// A chunk of a cooperation request's attachment.
        Attachment => "attachment",
        /// A governance act: a tabled proposal or a ballot.
        Governance => "governance",
        /// This node's own member record, changed: its signed member record file.
        Member => "member",
    }
}

stored_text! {
    /// What became of an envelope received from a peer.
    pub enum InboxOutcome("inbox outcome") {
        /// Its content was taken in.
        Delivered => "delivered",
        /// It was refused.
        Refused => "refused",
    }
}

/// One document of the node's registry (a member record or an agreement): the store keeps
/// the JSON and a status and never interprets either; the node crate owns their schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryEntry {
    /// Whether it is a member record or an agreement.
    pub kind: RegistryKind,
    /// The document's id (e.g. `identity--…` for a member).
    pub id: String,
    /// Its status (a member is `active` or `suspended`; an agreement may also be
    /// `proposed` or `terminated`).
    pub status: RegistryStatus,
    /// The document as JSON text.
    pub document: String,
    /// Last change, microseconds since the Unix epoch.
    pub updated_at: i64,
}

/// One envelope waiting for (or already given to) a peer. The store assigns `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// The envelope's id, unique per peer.
    pub id: String,
    /// What the envelope carries.
    pub kind: OutboxKind,
    /// When it was made, microseconds since the Unix epoch; the entry is due from then.
    pub created_at: i64,
    /// The envelope as JSON text, stored as given.
    pub body: String,
}

/// An outbox entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The peer it is for.
    pub peer: String,
    /// Its place in the peer's outbox: 1, 2, … without gaps.
    pub seq: u64,
    /// The envelope's id, unique per peer.
    pub id: String,
    /// What the envelope carries.
    pub kind: OutboxKind,
    /// When it was made, microseconds since the Unix epoch.
    pub created_at: i64,
    /// The envelope as JSON text.
    pub body: String,
    /// When the peer's signed receipt came back (µs); None while undelivered.
    pub delivered_at: Option<i64>,
    /// The peer's receipt (JSON text), once delivered.
    pub receipt: Option<String>,
    /// How many attempts failed so far.
    pub attempts: u32,
    /// Earliest time of the next attempt (µs).
    pub next_attempt_at: i64,
    /// Why the last attempt failed, if one did.
    pub last_error: Option<String>,
}

/// Per-peer outbox figures for metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxStats {
    /// The peer.
    pub peer: String,
    /// Entries not yet delivered.
    pub pending: u64,
    /// The earliest `created_at` among the undelivered entries; None when all are delivered.
    pub oldest_pending_at: Option<i64>,
    /// The highest seq given to this peer.
    pub last_seq: u64,
    /// The highest delivered seq, 0 if none.
    pub delivered_seq: u64,
}

/// One envelope received from a peer and what was done with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRecord {
    /// The member that sent it (`identity--…`).
    pub sender: String,
    /// The envelope's id, unique per sender.
    pub id: String,
    /// Its seq in the sender's outbox for this node.
    pub seq: u64,
    /// What the envelope carries, as the node names it.
    pub kind: String,
    /// When it was received, microseconds since the Unix epoch.
    pub received_at: i64,
    /// Delivered or refused.
    pub outcome: InboxOutcome,
    /// Why it was refused (or a note on delivery).
    pub reason: Option<String>,
    /// The signed receipt returned (JSON text), returned again verbatim to a retry.
    pub receipt: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_without_view_or_origin_keep_their_json_shape() {
        let plain = Collection {
            id: "c".into(),
            api_root: "r".into(),
            title: "t".into(),
            description: None,
            view: None,
            origin: None,
        };
        let json = serde_json::to_string(&plain).unwrap();
        assert!(!json.contains("view") && !json.contains("origin"), "{json}");
        assert_eq!(serde_json::from_str::<Collection>(&json).unwrap(), plain);
        let received = Collection {
            origin: Some("identity--a".into()),
            ..plain
        };
        let json = serde_json::to_string(&received).unwrap();
        assert_eq!(serde_json::from_str::<Collection>(&json).unwrap(), received);
    }

    #[test]
    fn registry_kinds_read_back_what_they_store() {
        for kind in [RegistryKind::Member, RegistryKind::Agreement] {
            assert_eq!(kind.as_str().parse::<RegistryKind>().unwrap(), kind);
        }
        let unknown = "Member".parse::<RegistryKind>();
        assert!(
            matches!(unknown, Err(StoreError::Backend(_))),
            "{unknown:?}"
        );
    }

    /// Reads back every value from its text, and writes exactly that text in JSON.
    fn round_trip<T>(all: &[T], texts: &[&str])
    where
        T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + Serialize,
        T: std::str::FromStr<Err = StoreError>,
    {
        let written: Vec<String> = all.iter().map(|v| v.to_string()).collect();
        assert_eq!(written, texts);
        for (v, text) in all.iter().zip(texts) {
            assert_eq!(text.parse::<T>().unwrap(), *v);
            assert_eq!(serde_json::to_string(v).unwrap(), format!("{text:?}"));
        }
    }

    /// Unknown text, including a near miss, is a corrupt row, never a guess.
    fn fails_closed<T: std::str::FromStr<Err = StoreError> + std::fmt::Debug>(texts: &[&str]) {
        for text in texts {
            let read = text.parse::<T>();
            assert!(
                matches!(read, Err(StoreError::Backend(_))),
                "{text:?}: {read:?}"
            );
        }
    }

    #[test]
    fn stored_texts_are_exactly_those_of_before() {
        round_trip(
            RegistryStatus::ALL,
            &["proposed", "active", "suspended", "terminated"],
        );
        round_trip(
            OutboxKind::ALL,
            &[
                "stix-objects",
                "sighting",
                "agreement",
                "request",
                "attachment",
                "governance",
                "member",
            ],
        );
        round_trip(InboxOutcome::ALL, &["delivered", "refused"]);
        round_trip(
            crate::WitnessAlertKind::ALL,
            &["rollback", "fork", "inconsistent", "refused", "peer-ahead"],
        );
    }

    #[test]
    fn unknown_stored_texts_fail_closed() {
        fails_closed::<RegistryStatus>(&["", "Active", "expired", " active"]);
        fails_closed::<OutboxKind>(&[
            "",
            "stix_objects",
            "checkpoint",
            "pull",
            "requests",
            "attachments",
        ]);
        fails_closed::<InboxOutcome>(&["", "accepted", "Delivered"]);
        fails_closed::<crate::WitnessAlertKind>(&["", "bad-proof", "peer_ahead"]);
    }
}
