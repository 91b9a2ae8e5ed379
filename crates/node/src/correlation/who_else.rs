//! "Who else has seen this": for a value, or for the values of an object, the other
//! objects that hold it, grouped per object with first and last seen and originators,
//! counted — all within what the viewer may read. Every posting passes the same
//! [`Release`] a TAXII read of its collection would: a posting in a collection the viewer
//! may not read, or in an object version the policy withholds, is not there for it, and
//! changes no count, no member list and no date. Values on a warning list are flagged and
//! their "who else" left out. Beside the holders, an answer names what relates to them
//! (reports and groupings listing them, incidents, campaigns, intrusion sets, threat actors
//! and malware a relationship ties them to), found through the index's references and
//! released to the reader in the same way.

use std::collections::{BTreeSet, HashMap};

use comity_stix::clock::format_us;
use comity_store::{
    CollectionRef, IndexedValue, ObjectFilter, PageRequest, Posting, Store, StoreError,
    VersionFilter,
};
use serde::Serialize;

use super::values::{classify, normalise, Kind};
use super::warnings::WarningLists;
use crate::release::{Release, Released};

/// Most objects listed per value when the caller names no limit; counts are never cut.
pub const DEFAULT_LIMIT: usize = 100;
/// Most objects listed per value, whatever the caller asks.
pub const MAX_LIMIT: usize = 10_000;

/// What one viewer may read: each collection it may read, with the release its objects
/// pass (as its TAXII reads would).
pub struct Reader {
    releases: HashMap<CollectionRef, Release>,
}

impl Reader {
    /// A reader of these collections, each with its release.
    pub fn new(readable: impl IntoIterator<Item = (CollectionRef, Release)>) -> Reader {
        Reader {
            releases: readable.into_iter().collect(),
        }
    }

    /// The release of a posting's collection when the viewer may read the version it
    /// points at.
    fn release(&self, p: &Posting) -> Option<&Release> {
        let release = self.releases.get(&p.collection)?;
        matches!(release.object(&p.object.json), Released::Allowed(_)).then_some(release)
    }

    /// Whether the viewer may read the version a posting points at.
    pub(super) fn allows(&self, p: &Posting) -> bool {
        self.release(p).is_some()
    }
}

/// What is asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A value as a user typed it; looked up as every kind it can be.
    Value(String),
    /// The values of an object (by STIX id), in the versions the viewer may read; for a
    /// report or grouping, the values of every object it lists that the viewer may read.
    Object(String),
}

/// Why a question has no answer.
#[derive(Debug, thiserror::Error)]
pub enum CorrelationError {
    /// The text cannot be any value the index holds.
    #[error("{0:?} is not an address, block, domain, URL, e-mail address, hash, MAC address, mutex or registry key")]
    NotAValue(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The answer: one report per value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Correlation {
    /// The values looked up, each with who else holds it.
    pub values: Vec<ValueReport>,
}

/// One value and the objects that hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValueReport {
    /// Its kind (`ipv4-addr`, `hash:SHA-256`, …).
    pub kind: String,
    /// Its normal form.
    pub value: String,
    /// The warning lists that match it.
    pub warning_lists: Vec<String>,
    /// Whether its "who else" is left out because a warning list matches it.
    pub suppressed: bool,
    /// How many objects hold it (or a block containing it, or an address within it).
    pub count: usize,
    /// The members those objects come from.
    pub members: Vec<String>,
    /// When it was first stored in any of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// When it was last stored in any of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// The objects, most recently seen first, at most the limit asked.
    pub objects: Vec<SharedBy>,
    /// What relates to the objects listed, by id.
    pub related: Vec<Related>,
}

/// An object related to holders of a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    /// Its STIX id.
    pub id: String,
    /// Its STIX type.
    #[serde(rename = "type")]
    pub object_type: String,
    /// The holders it relates to.
    pub via: Vec<String>,
}

/// Types a relationship may lead to that an answer names.
const RELATED_TYPES: [&str; 5] = [
    "incident",
    "campaign",
    "intrusion-set",
    "threat-actor",
    "malware",
];

/// Types that list objects (`object_refs`) that an answer names.
const CONTAINER_TYPES: [&str; 2] = ["report", "grouping"];

pub(super) fn type_of(id: &str) -> &str {
    id.split("--").next().unwrap_or_default()
}

/// One object holding a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedBy {
    /// Its STIX id.
    pub id: String,
    /// Its STIX type.
    #[serde(rename = "type")]
    pub object_type: String,
    /// The collection it is in (`api-root/collection-id`).
    pub collection: String,
    /// The member it comes from.
    pub originator: String,
    /// The values of it that matched (the value itself, or a block or address related).
    pub matched: Vec<String>,
    /// Its originator's confidence in it (STIX `confidence`, 0–100), when it states one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u64>,
    /// When a version holding the value was first stored.
    pub first_seen: String,
    /// When a version holding the value was last stored.
    pub last_seen: String,
}

/// Answers `subject` for `reader`, listing at most `limit` objects per value.
pub async fn correlate(
    store: &dyn Store,
    reader: &Reader,
    warnings: &WarningLists,
    subject: &Subject,
    limit: usize,
) -> Result<Correlation, CorrelationError> {
    let limit = limit.min(MAX_LIMIT);
    let (lookups, exclude) = match subject {
        Subject::Value(raw) => {
            let lookups = classify(raw);
            if lookups.is_empty() {
                return Err(CorrelationError::NotAValue(raw.clone()));
            }
            (lookups, BTreeSet::new())
        }
        Subject::Object(id) => {
            let own = own_objects(store, reader, id).await?;
            (object_values(store, reader, &own).await?, own)
        }
    };
    let mut values = Vec::with_capacity(lookups.len());
    for lookup in lookups {
        values.push(report(store, reader, warnings, lookup, &exclude, limit).await?);
    }
    if matches!(subject, Subject::Value(_)) && values.iter().any(|v| v.count > 0) {
        // A typed value read as several kinds: keep the readings that found something.
        values.retain(|v| v.count > 0 || v.suppressed);
    }
    Ok(Correlation { values })
}

/// Most objects of a report or grouping whose values are looked up.
pub(super) const MAX_LISTED: usize = 1_000;

/// Object `id` and, when it is a report or grouping the reader may read, the first
/// [`MAX_LISTED`] objects it lists: the objects whose values an answer is about, and which
/// it leaves out of its holders.
async fn own_objects(
    store: &dyn Store,
    reader: &Reader,
    id: &str,
) -> Result<BTreeSet<String>, StoreError> {
    let mut own = BTreeSet::from([id.to_owned()]);
    if CONTAINER_TYPES.contains(&type_of(id)) {
        if let Some((object, _)) = released_object(store, reader, id).await? {
            own.extend(listed(&object).into_iter().take(MAX_LISTED));
        }
    }
    Ok(own)
}

/// The ids a report or grouping lists (`object_refs`).
pub(super) fn listed(object: &serde_json::Value) -> BTreeSet<String> {
    object
        .get("object_refs")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect()
}

/// The values of the current versions of `objects` the reader may read, in any of their
/// collections. An object it may not read has none, exactly like one that does not exist.
async fn object_values(
    store: &dyn Store,
    reader: &Reader,
    objects: &BTreeSet<String>,
) -> Result<Vec<IndexedValue>, StoreError> {
    let mut found = BTreeSet::new();
    for id in objects {
        for collection in reader.releases.keys() {
            for p in store.object_postings(collection, id).await? {
                if p.is_last && p.kind != Kind::Reference.name() && reader.release(&p).is_some() {
                    found.insert((p.kind, p.value));
                }
            }
        }
    }
    Ok(found
        .into_iter()
        .filter_map(|(kind, value)| normalise(&Kind::from_name(&kind)?, &value))
        .collect())
}

/// One object's postings of a value, as the reader may see them.
struct Seen<'r> {
    current: Option<(String, &'r Release)>,
    matched: BTreeSet<String>,
    first: i64,
    last: i64,
}

async fn report(
    store: &dyn Store,
    reader: &Reader,
    warnings: &WarningLists,
    lookup: IndexedValue,
    exclude: &BTreeSet<String>,
    limit: usize,
) -> Result<ValueReport, StoreError> {
    let warning_lists = warnings.matches(&lookup);
    let mut report = ValueReport {
        kind: lookup.kind.clone(),
        value: lookup.value.clone(),
        suppressed: !warning_lists.is_empty(),
        warning_lists,
        count: 0,
        members: Vec::new(),
        first_seen: None,
        last_seen: None,
        objects: Vec::new(),
        related: Vec::new(),
    };
    if report.suppressed {
        return Ok(report);
    }
    let mut seen: HashMap<(CollectionRef, String), Seen<'_>> = HashMap::new();
    for p in store.postings(&lookup).await? {
        if exclude.contains(&p.object.id) {
            continue;
        }
        let Some(release) = reader.release(&p) else {
            continue;
        };
        let at = p.object.date_added;
        let entry = seen
            .entry((p.collection.clone(), p.object.id.clone()))
            .or_insert_with(|| Seen {
                current: None,
                matched: BTreeSet::new(),
                first: at,
                last: at,
            });
        entry.first = entry.first.min(at);
        entry.last = entry.last.max(at);
        entry.matched.insert(p.value);
        if p.is_last {
            entry.current = Some((p.object.json, release));
        }
    }
    let mut members = BTreeSet::new();
    let mut objects = Vec::new();
    for ((collection, id), s) in seen {
        // Only objects whose current version holds the value: a newer version without it
        // (or revoked) has let it go.
        let Some((json, release)) = s.current else {
            continue;
        };
        let object = serde_json::from_str::<serde_json::Value>(&json).ok();
        let field = |name: &str| object.as_ref().and_then(|v| v.get(name));
        let created_by = field("created_by_ref").and_then(|v| v.as_str());
        let confidence = field("confidence").and_then(serde_json::Value::as_u64);
        let originator = release.originator(created_by).0;
        members.insert(originator.clone());
        objects.push((
            s.last,
            s.first,
            SharedBy {
                object_type: type_of(&id).to_owned(),
                id,
                collection: format!("{}/{}", collection.api_root, collection.id),
                originator,
                matched: s.matched.into_iter().collect(),
                confidence,
                first_seen: format_us(s.first),
                last_seen: format_us(s.last),
            },
        ));
    }
    report.count = objects.len();
    report.first_seen = objects.iter().map(|o| o.1).min().map(format_us);
    report.last_seen = objects.iter().map(|o| o.0).max().map(format_us);
    objects.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.id.cmp(&b.2.id)));
    report.objects = objects.into_iter().take(limit).map(|o| o.2).collect();
    report.members = members.into_iter().collect();
    let holders: Vec<&str> = report.objects.iter().map(|o| o.id.as_str()).collect();
    report.related = related(store, reader, &holders).await?;
    Ok(report)
}

/// What relates to `holders`, as the reader may read it: the containers listing them and
/// the far ends of the relationships from or to them, each with the holders it relates to.
pub(super) async fn related(
    store: &dyn Store,
    reader: &Reader,
    holders: &[&str],
) -> Result<Vec<Related>, StoreError> {
    let mut found: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    if holders.is_empty() {
        return Ok(Vec::new());
    }
    let referred: Vec<String> = holders.iter().map(|h| (*h).to_owned()).collect();
    let postings = store
        .postings_of_values(&Kind::Reference.name(), &referred)
        .await?;
    for p in postings {
        let holder = &p.value;
        if !p.is_last || reader.release(&p).is_none() {
            continue;
        }
        let kind = type_of(&p.object.id);
        let target = if CONTAINER_TYPES.contains(&kind) {
            p.object.id.clone()
        } else if kind == "relationship" {
            let Some(other) = far_end(&p.object.json, holder) else {
                continue;
            };
            if !RELATED_TYPES.contains(&type_of(&other))
                || released_object(store, reader, &other).await?.is_none()
            {
                continue;
            }
            other
        } else {
            continue;
        };
        found.entry(target).or_default().insert(holder.clone());
    }
    Ok(found
        .into_iter()
        .map(|(id, via)| Related {
            object_type: type_of(&id).to_owned(),
            id,
            via: via.into_iter().collect(),
        })
        .collect())
}

/// The end of a relationship that is not `holder`.
pub(super) fn far_end(json: &str, holder: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let end = |key: &str| v.get(key).and_then(serde_json::Value::as_str);
    match (end("source_ref"), end("target_ref")) {
        (Some(s), Some(t)) if s == holder => Some(t.to_owned()),
        (Some(s), Some(_)) => Some(s.to_owned()),
        _ => None,
    }
}

/// The newest version of object `id` as released to the reader (granular markings
/// applied), with the member it comes from; `None` when the reader may not read it in any
/// collection, exactly as when it does not exist.
pub(super) async fn released_object(
    store: &dyn Store,
    reader: &Reader,
    id: &str,
) -> Result<Option<(serde_json::Value, String)>, StoreError> {
    let filter = ObjectFilter {
        ids: vec![id.to_owned()],
        versions: VersionFilter::last(),
        ..ObjectFilter::default()
    };
    for (collection, release) in &reader.releases {
        let page = store
            .objects(
                collection,
                &filter,
                &PageRequest {
                    limit: 1,
                    after: None,
                },
            )
            .await?;
        for o in &page.items {
            if let Released::Allowed(json) = release.object(&o.json) {
                let Ok(object) = serde_json::from_str::<serde_json::Value>(&json) else {
                    continue;
                };
                let created_by = object.get("created_by_ref").and_then(|v| v.as_str());
                let originator = release.originator(created_by).0;
                return Ok(Some((object, originator)));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
