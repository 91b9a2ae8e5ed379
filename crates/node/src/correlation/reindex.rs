//! Re-indexing: extracts the values of every stored object version again and replaces its
//! postings, for versions stored before the value index existed (or after a change to the
//! extraction). Walks the store in row order, one transaction per batch, so it can run
//! beside a serving node and be interrupted and run again: it is idempotent.

use comity_store::{Store, StoreError};

use super::values::extract_text;

/// Versions read and re-indexed per transaction.
pub const BATCH: usize = 1000;

/// How far a re-index got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Versions re-indexed.
    pub versions: u64,
    /// Postings written for them.
    pub postings: u64,
}

/// Re-indexes every stored version; `progress` is told after each batch.
pub async fn reindex(
    store: &dyn Store,
    mut progress: impl FnMut(Progress),
) -> Result<Progress, StoreError> {
    let mut done = Progress::default();
    let mut after = 0;
    loop {
        let versions = store.versions_after(after, BATCH).await?;
        let Some(last) = versions.last() else {
            return Ok(done);
        };
        after = last.row;
        let batch: Vec<_> = versions
            .iter()
            .map(|v| (v.row, extract_text(&v.json)))
            .collect();
        done.versions += batch.len() as u64;
        done.postings += batch.iter().map(|(_, v)| v.len() as u64).sum::<u64>();
        store.reindex_versions(batch).await?;
        progress(done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use comity_store::prelude::*;
    use comity_store::{ApiRoot, Collection, CollectionRef, IndexedValue, NewObject};
    use comity_store_sqlite::SqliteStore;

    #[tokio::test]
    async fn versions_stored_without_values_gain_them_and_a_second_run_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        store
            .create_api_root(ApiRoot {
                name: "r".into(),
                title: "r".into(),
                description: None,
                max_content_length: 1 << 20,
            })
            .await
            .unwrap();
        store
            .create_collection(Collection {
                id: "c".into(),
                api_root: "r".into(),
                title: "c".into(),
                description: None,
                view: None,
                origin: None,
            })
            .await
            .unwrap();
        let col = CollectionRef {
            api_root: "r".into(),
            id: "c".into(),
        };
        // As a build before the index stored them: no values.
        let objects: Vec<NewObject> = (0..2500)
            .map(|i| {
                let id = format!("domain-name--00000000-0000-4000-8000-{i:012}");
                NewObject {
                    json: format!(r#"{{"type":"domain-name","id":"{id}","value":"D{i}.example"}}"#),
                    id,
                    object_type: "domain-name".into(),
                    version: String::new(),
                    version_key: String::new(),
                    spec_version: "2.1".into(),
                    values: Vec::new(),
                }
            })
            .collect();
        store.add_objects(&col, objects).await.unwrap();
        assert_eq!(store.posting_count().await.unwrap(), 0);
        let mut reports = Vec::new();
        let done = reindex(&store, |p| reports.push(p)).await.unwrap();
        assert_eq!(
            done,
            Progress {
                versions: 2500,
                postings: 2500
            }
        );
        assert_eq!(reports.len(), 3, "one report per batch of {BATCH}");
        assert_eq!(store.posting_count().await.unwrap(), 2500);
        let found = store
            .postings(&IndexedValue {
                kind: "domain-name".into(),
                value: "d7.example".into(),
                net: None,
            })
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        reindex(&store, |_| {}).await.unwrap();
        assert_eq!(store.posting_count().await.unwrap(), 2500);
    }
}
