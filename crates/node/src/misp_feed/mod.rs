//! MISP export: a collection as a MISP feed (`manifest.json`, one `{uuid}.json` per event,
//! `hashes.csv`), as MISP's feed fetcher reads one, after the published MISP ↔ STIX 2.1
//! mapping read backwards. Every object passes the reader's release first (the sharing
//! policy, through the export channel), so nothing reaches the feed that its reader could
//! not read. [`convert`] makes the events, [`attribute`] the attributes; event and
//! attribute UUIDs are those of the STIX objects (or UUIDv5s derived from the STIX ids),
//! so a second export of the same objects is the same feed.

pub mod attribute;
pub mod convert;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr;

use comity_store::{Collection, ObjectFilter, PageRequest, Store, StoreError, VersionFilter};
use md5::{Digest, Md5};
use serde_json::Value;
use uuid::Uuid;

use crate::release::{Release, Released};

/// A collection as a MISP feed.
#[derive(Debug, Default)]
pub struct Feed {
    /// `manifest.json`, as JSON.
    pub manifest: Value,
    /// The events (`{"Event": {...}}`) by UUID, written as text only when asked for.
    pub events: BTreeMap<String, Value>,
    /// `hashes.csv`: the MD5 of each attribute value and its event's UUID, a line each.
    pub hashes: String,
    /// Objects released to the reader.
    pub objects: u64,
    /// Objects the policy kept from the reader.
    pub withheld: u64,
    /// Attributes written.
    pub attributes: u64,
    /// Objects that gave no attribute, each with why (the first few).
    pub skipped_examples: Vec<(String, String)>,
    /// How many objects gave no attribute.
    pub skipped: u64,
}

/// One file of a feed, as named in its URL or directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFile {
    /// `manifest.json`.
    Manifest,
    /// `hashes.csv`.
    Hashes,
    /// `{uuid}.json`.
    Event(Uuid),
}

impl FromStr for FeedFile {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "manifest.json" => Ok(FeedFile::Manifest),
            "hashes.csv" => Ok(FeedFile::Hashes),
            _ => {
                let stem = name.strip_suffix(".json").ok_or_else(|| {
                    format!("{name:?} is no file of a MISP feed: manifest.json, hashes.csv or <uuid>.json")
                })?;
                Uuid::try_parse(stem)
                    .ok()
                    .filter(|u| stem.len() == 36 && stem == u.to_string())
                    .map(FeedFile::Event)
                    .ok_or_else(|| {
                        format!("{stem:?} is not an event UUID (lower-case, hyphenated)")
                    })
            }
        }
    }
}

/// How many skipped objects an export names.
const EXAMPLES: usize = 10;
/// Objects read per page.
const PAGE: usize = 2000;

impl Feed {
    fn skip(&mut self, id: &str, why: String) {
        self.skipped += 1;
        if self.skipped_examples.len() < EXAMPLES {
            self.skipped_examples.push((id.to_owned(), why));
        }
    }

    /// The text of one file, `None` for an event the feed does not hold.
    pub fn file(&self, file: FeedFile) -> Option<String> {
        match file {
            FeedFile::Manifest => Some(self.manifest.to_string()),
            FeedFile::Hashes => Some(self.hashes.clone()),
            FeedFile::Event(uuid) => self.events.get(&uuid.to_string()).map(Value::to_string),
        }
    }

    /// Writes the feed into `dir` (made if missing); event files of an earlier export that
    /// this one no longer holds are removed, so the directory is the feed.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for entry in std::fs::read_dir(dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Ok(FeedFile::Event(uuid)) = name.parse() {
                if !self.events.contains_key(&uuid.to_string()) {
                    std::fs::remove_file(dir.join(name.as_ref()))?;
                }
            }
        }
        for (uuid, event) in &self.events {
            std::fs::write(dir.join(format!("{uuid}.json")), event.to_string())?;
        }
        std::fs::write(dir.join("hashes.csv"), &self.hashes)?;
        // The manifest last: a fetcher reading it finds every event it lists.
        std::fs::write(dir.join("manifest.json"), self.manifest.to_string())
    }
}

/// Exports the newest version of every object of `collection` that `release` lets its
/// reader have, as a MISP feed.
pub async fn export(
    store: &dyn Store,
    collection: &Collection,
    release: &Release,
) -> Result<Feed, StoreError> {
    let filter = ObjectFilter {
        versions: VersionFilter::last(),
        ..ObjectFilter::default()
    };
    let mut feed = Feed::default();
    let mut held = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .objects(
                &collection.key(),
                &filter,
                &PageRequest { limit: PAGE, after },
            )
            .await?;
        for stored in &page.items {
            let json = match release.object(&stored.json) {
                Released::Allowed(json) => json,
                Released::Denied(_) => {
                    feed.withheld += 1;
                    continue;
                }
            };
            feed.objects += 1;
            match serde_json::from_str::<Value>(&json) {
                Ok(json) => held.push(convert::Held {
                    json,
                    date_added: stored.date_added,
                }),
                Err(e) => feed.skip(&stored.id, format!("not JSON: {e}")),
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let built = convert::build(&collection.id, &collection.title, &held);
    for (id, why) in built.skipped {
        feed.skip(&id, why);
    }
    let mut manifest = serde_json::Map::new();
    for (uuid, event) in built.events {
        for value in &event.values {
            let _ = writeln!(feed.hashes, "{:x},{uuid}", Md5::digest(value.as_bytes()));
        }
        feed.attributes += event.values.len() as u64;
        feed.events.insert(uuid.clone(), event.json);
        manifest.insert(uuid, event.manifest);
    }
    feed.manifest = Value::Object(manifest);
    Ok(feed)
}
