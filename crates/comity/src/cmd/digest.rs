//! What a node holds, as counts and SHA-256 digests: two stores hold the same node when
//! their digests are equal. `comity copy` compares its source and target with it, `comity
//! backup` writes the snapshot's into the backup, and `comity restore` checks the restored
//! store against that.

use comity_store::{
    CollectionRef, ObjectFilter, PageRequest, Store, TransparencyLog, VersionFilter,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Log entries read (and appended, by `comity copy`) per query.
pub const LOG_BATCH: u64 = 5000;

/// One part of a node (a collection, the transparency log): how many items, and the
/// SHA-256 over all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartDigest {
    /// `api-root/collection`, or `transparency-log`.
    pub part: String,
    /// Object versions, or log entries.
    pub count: u64,
    /// Hex SHA-256.
    pub sha256: String,
}

/// Every collection's digest and the log's, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeDigest {
    /// The parts, collections first (by API root and collection id), then the log.
    pub parts: Vec<PartDigest>,
}

impl NodeDigest {
    /// Reads every collection and the log of `store`.
    pub async fn of(store: &dyn Store) -> anyhow::Result<NodeDigest> {
        let mut parts = Vec::new();
        for root in store.api_roots().await? {
            for col in store.collections(&root.name).await? {
                let key = col.key();
                let (count, sha256) = collection_digest(store, &key).await?;
                parts.push(PartDigest {
                    part: format!("{}/{}", key.api_root, key.id),
                    count,
                    sha256,
                });
            }
        }
        parts.sort_by(|a, b| a.part.cmp(&b.part));
        let (count, sha256) = log_digest(store.transparency_log()).await?;
        parts.push(PartDigest {
            part: "transparency-log".into(),
            count,
            sha256,
        });
        Ok(NodeDigest { parts })
    }

    /// The number of object versions over all collections.
    pub fn object_versions(&self) -> u64 {
        self.parts
            .iter()
            .filter(|p| p.part != "transparency-log")
            .map(|p| p.count)
            .sum()
    }

    /// Prints one line per part on standard output (`part, count, sha256`).
    pub fn print(&self) {
        println!("part\tcount\tsha256");
        for p in &self.parts {
            println!("{}\t{}\t{}", p.part, p.count, p.sha256);
        }
    }

    /// Prints one line per part on standard output (`part, count, sha256, verdict`) and
    /// says whether `got` holds exactly what `want` does.
    pub fn compare(want: &NodeDigest, got: &NodeDigest) -> bool {
        let mut names: Vec<&str> = want.parts.iter().map(|p| p.part.as_str()).collect();
        for p in &got.parts {
            if !names.contains(&p.part.as_str()) {
                names.push(&p.part);
            }
        }
        let find = |d: &'_ NodeDigest, name: &str| d.parts.iter().find(|p| p.part == name).cloned();
        let mut all_equal = true;
        println!("part\tcount\tsha256\tverdict");
        for name in names {
            match (find(want, name), find(got, name)) {
                (Some(a), Some(b)) if a == b => {
                    println!("{name}\t{}\t{}\tidentical", b.count, b.sha256)
                }
                (a, b) => {
                    all_equal = false;
                    let show = |p: &Option<PartDigest>| {
                        p.as_ref()
                            .map(|p| (p.count.to_string(), p.sha256.clone()))
                            .unwrap_or(("absent".into(), "-".into()))
                    };
                    let ((na, sa), (nb, sb)) = (show(&a), show(&b));
                    println!("{name}\t{na} -> {nb}\t{sa} -> {sb}\tDIFFERENT");
                }
            }
        }
        all_equal
    }
}

/// Every version of every object.
pub fn every_version() -> ObjectFilter {
    ObjectFilter {
        versions: VersionFilter::all(),
        ..ObjectFilter::default()
    }
}

/// Count and SHA-256 of a collection's versions in `date_added` order. Each version
/// contributes its id, version, `date_added` and JSON, each length-prefixed, so both
/// sides hash exactly the same bytes when they hold the same data.
async fn collection_digest(
    store: &dyn Store,
    collection: &CollectionRef,
) -> anyhow::Result<(u64, String)> {
    let mut hash = Sha256::new();
    let mut count = 0u64;
    let mut after = None;
    loop {
        let page = store
            .objects(
                collection,
                &every_version(),
                &PageRequest { limit: 5000, after },
            )
            .await?;
        for o in &page.items {
            for field in [o.id.as_bytes(), o.version.as_bytes(), o.json.as_bytes()] {
                hash.update((field.len() as u64).to_be_bytes());
                hash.update(field);
            }
            hash.update(o.date_added.to_be_bytes());
            count += 1;
        }
        match page.next {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    Ok((count, hex::encode(hash.finalize())))
}

/// Count and SHA-256 of a store's log entries, in order, and of their kept openings.
async fn log_digest(log: &dyn TransparencyLog) -> anyhow::Result<(u64, String)> {
    let size = log.log_size().await?;
    let mut hash = Sha256::new();
    let mut start = 0;
    while start < size {
        let end = (start + LOG_BATCH).min(size);
        for entry in log.log_entries(start, end).await? {
            hash.update((entry.len() as u64).to_be_bytes());
            hash.update(&entry);
        }
        for o in log.openings_between(start, end).await? {
            hash.update(o.index.to_be_bytes());
            for part in [o.scope.as_bytes(), o.subject.as_bytes(), &o.opening] {
                hash.update((part.len() as u64).to_be_bytes());
                hash.update(part);
            }
        }
        start = end;
    }
    Ok((size, hex::encode(hash.finalize())))
}
