//! What every request reads before its data — the caller's user record and grants, the
//! collection, and the federation (members and agreements, signatures verified) — kept in
//! memory and trusted while [`comity_store::IdentityStore::meta_version`] is unchanged.
//!
//! The version moves with every change to those tables, whichever process makes it (the
//! CLI beside a running server included), so a cached answer is never older than the
//! request that reads it: each look-up reads the version first, and a newer version
//! empties the cache. A look-up that raced with a change and read an older version
//! answers from the store and caches nothing. Misses (unknown users, unknown collections)
//! are cached too, and each map is emptied when it reaches [`MAX_ENTRIES`], so hostile
//! names cannot grow it without bound.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use crate::registry::{Directory, Federation, RegistryError, RegistryState};
use crate::release::ViewSpec;
use comity_store::{Access, Collection, CollectionRef, Store, StoreError, User};

/// Upper bound on the entries of each map.
const MAX_ENTRIES: usize = 10_000;

/// A collection as the cache keeps it: its policy view definition is parsed once, when the
/// collection is loaded, not on every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedCollection {
    /// The collection as stored.
    pub collection: Collection,
    /// Its policy view: `None` for a plain collection, `Err` (with the parser's reason) for
    /// a stored definition that does not parse, which every use refuses.
    pub view: Option<Result<Arc<ViewSpec>, String>>,
}

impl CachedCollection {
    /// A stored collection with its view definition parsed.
    pub fn new(collection: Collection) -> Self {
        let view = collection.view.as_deref().map(|text| {
            serde_json::from_str(text)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
        CachedCollection { collection, view }
    }
}

#[derive(Default)]
struct Snapshot {
    version: i64,
    users: HashMap<String, Option<User>>,
    collections: HashMap<(String, String), Option<CachedCollection>>,
    access: HashMap<(String, String, String), Access>,
    /// At most one entry: a map so that the federation takes the same path as the rest.
    federation: HashMap<(), Federation>,
}

/// The cache of one server process over its store.
pub struct NodeView {
    store: Arc<dyn Store>,
    registry: Arc<RegistryState>,
    snapshot: Mutex<Snapshot>,
}

impl NodeView {
    /// An empty cache over `store`, with a registry state of its own.
    pub fn new(store: Arc<dyn Store>) -> Self {
        NodeView::with_registry_state(store, Arc::default())
    }

    /// An empty cache over `store`, reading the registry with the node's `registry` state.
    pub fn with_registry_state(store: Arc<dyn Store>, registry: Arc<RegistryState>) -> Self {
        NodeView {
            store,
            registry,
            snapshot: Mutex::new(Snapshot::default()),
        }
    }

    /// A local user by name.
    pub async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let store = self.store.as_ref();
        self.cached(|s| &mut s.users, name.to_owned(), || store.user(name))
            .await
    }

    /// A collection of an API root, with its policy view parsed.
    pub async fn collection(
        &self,
        api_root: &str,
        id: &str,
    ) -> Result<Option<CachedCollection>, StoreError> {
        let store = self.store.as_ref();
        let key = (api_root.to_owned(), id.to_owned());
        self.cached(
            |s| &mut s.collections,
            key,
            || async {
                Ok(store
                    .collection(api_root, id)
                    .await?
                    .map(CachedCollection::new))
            },
        )
        .await
    }

    /// A user's grants on a collection.
    pub async fn access(
        &self,
        collection: &CollectionRef,
        user: &str,
    ) -> Result<Access, StoreError> {
        let store = self.store.as_ref();
        let key = (
            collection.api_root.clone(),
            collection.id.clone(),
            user.to_owned(),
        );
        self.cached(|s| &mut s.access, key, || store.access(collection, user))
            .await
    }

    /// The members and the agreements in force, as [`Registry::federation`] reads them.
    pub async fn federation(&self) -> Result<Federation, RegistryError> {
        let registry = Directory::with_state(self.store.as_ref(), &self.registry);
        self.cached(|s| &mut s.federation, (), || registry.federation())
            .await
    }

    async fn cached<K, V, E, F, Fut>(
        &self,
        map: fn(&mut Snapshot) -> &mut HashMap<K, V>,
        key: K,
        load: F,
    ) -> Result<V, E>
    where
        K: Eq + Hash,
        V: Clone,
        E: From<StoreError>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let version = self.store.meta_version().await?;
        {
            let mut snapshot = self.lock();
            if version > snapshot.version {
                *snapshot = Snapshot {
                    version,
                    ..Snapshot::default()
                };
            }
            if version == snapshot.version {
                if let Some(value) = map(&mut snapshot).get(&key) {
                    return Ok(value.clone());
                }
            }
        }
        let value = load().await?;
        let mut snapshot = self.lock();
        if version == snapshot.version {
            let entries = map(&mut snapshot);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, value.clone());
        }
        Ok(value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Snapshot> {
        self.snapshot.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use comity_store::{ApiRoot, IdentityStore, ObjectStore, Role};
    use comity_store_sqlite::SqliteStore;

    async fn fixture() -> (tempfile::TempDir, Arc<dyn Store>, NodeView) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
        store
            .create_api_root(ApiRoot {
                name: "r".into(),
                title: "r".into(),
                description: None,
                max_content_length: 1000,
            })
            .await
            .unwrap();
        let cache = NodeView::new(store.clone());
        (dir, store, cache)
    }

    fn user(name: &str, hash: &str) -> User {
        User {
            name: name.into(),
            role: Role::Analyst,
            password_hash: hash.into(),
        }
    }

    #[tokio::test]
    async fn a_change_by_another_process_is_seen_by_the_next_look_up() {
        let (dir, _store, cache) = fixture().await;
        assert_eq!(cache.user("ana").await.unwrap(), None);
        // Another process (a CLI) opens the same database and changes it.
        let other = SqliteStore::open(dir.path()).unwrap();
        other.create_user(user("ana", "$h1")).await.unwrap();
        assert_eq!(cache.user("ana").await.unwrap(), Some(user("ana", "$h1")));
        other.set_password_hash("ana", "$h2").await.unwrap();
        assert_eq!(cache.user("ana").await.unwrap(), Some(user("ana", "$h2")));
        let col = Collection {
            id: "c".into(),
            api_root: "r".into(),
            title: "t".into(),
            description: None,
            view: None,
            origin: None,
        };
        assert_eq!(cache.collection("r", "c").await.unwrap(), None);
        other.create_collection(col.clone()).await.unwrap();
        assert_eq!(
            cache.collection("r", "c").await.unwrap(),
            Some(CachedCollection {
                collection: col.clone(),
                view: None
            })
        );
        assert_eq!(
            cache.access(&col.key(), "ana").await.unwrap(),
            Access::default()
        );
        let read = Access {
            read: true,
            write: false,
        };
        other.grant(&col.key(), "ana", read).await.unwrap();
        assert_eq!(cache.access(&col.key(), "ana").await.unwrap(), read);
    }

    #[test]
    fn a_view_is_parsed_once_and_an_unreadable_one_is_kept_as_an_error() {
        let plain = Collection {
            id: "c".into(),
            api_root: "r".into(),
            title: "t".into(),
            description: None,
            view: None,
            origin: None,
        };
        assert_eq!(CachedCollection::new(plain.clone()).view, None);
        let view = Collection {
            view: Some(r#"{"source":"s","member":"identity--m"}"#.into()),
            ..plain.clone()
        };
        let parsed = CachedCollection::new(view).view.unwrap().unwrap();
        assert_eq!(
            (parsed.source.as_str(), parsed.member.as_str()),
            ("s", "identity--m")
        );
        let broken = Collection {
            view: Some(r#"{"source":"s"}"#.into()),
            ..plain
        };
        assert!(matches!(CachedCollection::new(broken).view, Some(Err(_))));
    }

    #[tokio::test]
    async fn unchanged_tables_are_answered_from_memory() {
        let (dir, store, cache) = fixture().await;
        store.create_user(user("ana", "$h1")).await.unwrap();
        assert!(cache.user("ana").await.unwrap().is_some());
        // A write that bypasses the triggers (which no Comity code does) is invisible
        // until the version moves: proof that the second read came from memory.
        let raw = rusqlite::Connection::open(dir.path().join(comity_store_sqlite::DATABASE_FILE))
            .unwrap();
        raw.execute_batch(
            "DROP TRIGGER users_update_bumps_meta;
             UPDATE users SET password_hash = '$raw' WHERE name = 'ana';",
        )
        .unwrap();
        assert_eq!(
            cache.user("ana").await.unwrap().unwrap().password_hash,
            "$h1"
        );
        store.create_user(user("bo", "$h3")).await.unwrap();
        assert_eq!(
            cache.user("ana").await.unwrap().unwrap().password_hash,
            "$raw"
        );
    }

    #[tokio::test]
    async fn hostile_names_do_not_grow_the_cache_without_bound() {
        let (_dir, _store, cache) = fixture().await;
        for i in 0..(MAX_ENTRIES + 10) {
            assert_eq!(cache.user(&format!("nobody-{i}")).await.unwrap(), None);
        }
        assert!(cache.lock().users.len() <= MAX_ENTRIES);
    }
}
