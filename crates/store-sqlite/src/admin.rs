//! API roots, collections, users, grants, statuses and node secrets: the small tables.

use comity_store::{
    Access, ApiRoot, Collection, CollectionRef, Role, Status, StoreError, StoreResult, User,
};
use rusqlite::{params, Connection, OptionalExtension};

use crate::{conflict_or_db, db};

/// How long statuses are kept, in microseconds (the TAXII minimum is 24 hours).
const STATUS_RETENTION_US: i64 = 48 * 3600 * 1_000_000;

pub fn create_api_root(c: &Connection, root: &ApiRoot) -> StoreResult<()> {
    c.execute(
        "INSERT INTO api_roots (name, title, description, max_content_length) VALUES (?1, ?2, ?3, ?4)",
        params![root.name, root.title, root.description, root.max_content_length as i64],
    )
    .map_err(|e| conflict_or_db(e, || format!("API root {:?}", root.name)))?;
    Ok(())
}

pub fn api_roots(c: &Connection, name: Option<&str>) -> StoreResult<Vec<ApiRoot>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT name, title, description, max_content_length FROM api_roots
             WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map(params![name], |r| {
            Ok(ApiRoot {
                name: r.get(0)?,
                title: r.get(1)?,
                description: r.get(2)?,
                max_content_length: r.get::<_, i64>(3)? as u64,
            })
        })
        .map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

pub fn create_collection(c: &Connection, col: &Collection) -> StoreResult<()> {
    if api_roots(c, Some(&col.api_root))?.is_empty() {
        return Err(StoreError::NotFound(format!("API root {:?}", col.api_root)));
    }
    c.execute(
        "INSERT INTO collections (api_root, id, title, description, view, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            col.api_root,
            col.id,
            col.title,
            col.description,
            col.view,
            col.origin
        ],
    )
    .map_err(|e| conflict_or_db(e, || format!("collection {}", col.id)))?;
    Ok(())
}

/// Whether a collection's objects are shared with peers.
pub fn collection_federated(c: &Connection, col: &CollectionRef) -> StoreResult<bool> {
    c.query_row(
        "SELECT federated FROM collections WHERE api_root = ?1 AND id = ?2",
        params![col.api_root, col.id],
        |r| r.get::<_, i64>(0),
    )
    .optional()
    .map_err(db)?
    .map(|f| f != 0)
    .ok_or_else(|| StoreError::NotFound(format!("collection {}", col.id)))
}

/// Turns sharing of a plain collection's objects with peers on or off.
pub fn set_collection_federated(c: &Connection, col: &CollectionRef, on: bool) -> StoreResult<()> {
    let plain: bool = c
        .query_row(
            "SELECT view IS NULL AND origin IS NULL FROM collections WHERE api_root = ?1 AND id = ?2",
            params![col.api_root, col.id],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?
        .ok_or_else(|| StoreError::NotFound(format!("collection {}", col.id)))?;
    if !plain {
        return Err(StoreError::Conflict(format!(
            "collection {} is a policy view or holds a member's objects; only plain collections are federated",
            col.id
        )));
    }
    c.execute(
        "UPDATE collections SET federated = ?3 WHERE api_root = ?1 AND id = ?2",
        params![col.api_root, col.id, on],
    )
    .map_err(db)?;
    Ok(())
}

pub fn collections(
    c: &Connection,
    api_root: &str,
    id: Option<&str>,
) -> StoreResult<Vec<Collection>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT api_root, id, title, description, view, origin FROM collections
             WHERE api_root = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY ckey",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map(params![api_root, id], |r| {
            Ok(Collection {
                api_root: r.get(0)?,
                id: r.get(1)?,
                title: r.get(2)?,
                description: r.get(3)?,
                view: r.get(4)?,
                origin: r.get(5)?,
            })
        })
        .map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

/// The internal key of a collection, or `NotFound`.
pub fn collection_key(c: &Connection, col: &CollectionRef) -> StoreResult<i64> {
    c.prepare_cached("SELECT ckey FROM collections WHERE api_root = ?1 AND id = ?2")
        .map_err(db)?
        .query_row(params![col.api_root, col.id], |r| r.get(0))
        .optional()
        .map_err(db)?
        .ok_or_else(|| StoreError::NotFound(format!("collection {}", col.id)))
}

pub fn put_status(c: &Connection, status: &Status) -> StoreResult<()> {
    let body = serde_json::to_string(status).map_err(|e| StoreError::Backend(e.to_string()))?;
    c.prepare_cached("DELETE FROM statuses WHERE created_us < ?1")
        .map_err(db)?
        .execute(params![status.created_us - STATUS_RETENTION_US])
        .map_err(db)?;
    c.prepare_cached(
        "INSERT OR REPLACE INTO statuses (id, api_root, created_us, body) VALUES (?1, ?2, ?3, ?4)",
    )
    .map_err(db)?
    .execute(params![status.id, status.api_root, status.created_us, body])
    .map_err(db)?;
    Ok(())
}

pub fn status(c: &Connection, api_root: &str, id: &str) -> StoreResult<Option<Status>> {
    let body: Option<String> = c
        .prepare_cached("SELECT body FROM statuses WHERE api_root = ?1 AND id = ?2")
        .map_err(db)?
        .query_row(params![api_root, id], |r| r.get(0))
        .optional()
        .map_err(db)?;
    body.map(|b| serde_json::from_str(&b).map_err(|e| StoreError::Backend(e.to_string())))
        .transpose()
}

pub fn create_user(c: &Connection, user: &User) -> StoreResult<()> {
    c.execute(
        "INSERT INTO users (name, role, password_hash) VALUES (?1, ?2, ?3)",
        params![user.name, user.role.as_str(), user.password_hash],
    )
    .map_err(|e| conflict_or_db(e, || format!("user {:?}", user.name)))?;
    Ok(())
}

pub fn users(c: &Connection, name: Option<&str>) -> StoreResult<Vec<User>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT name, role, password_hash FROM users WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map(params![name], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })
        .map_err(db)?;
    let mut users = Vec::new();
    for row in rows {
        let (name, role, password_hash) = row.map_err(db)?;
        let role = role.parse().map_err(StoreError::Backend)?;
        users.push(User {
            name,
            role,
            password_hash,
        });
    }
    Ok(users)
}

pub fn set_password_hash(c: &Connection, name: &str, hash: &str) -> StoreResult<()> {
    let changed = c
        .execute(
            "UPDATE users SET password_hash = ?2 WHERE name = ?1",
            params![name, hash],
        )
        .map_err(db)?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!("user {name:?}")));
    }
    Ok(())
}

/// Changes a user's role; `NotFound` for an unknown user.
pub fn set_role(c: &Connection, name: &str, role: Role) -> StoreResult<()> {
    let changed = c
        .execute(
            "UPDATE users SET role = ?2 WHERE name = ?1",
            params![name, role.as_str()],
        )
        .map_err(db)?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!("user {name:?}")));
    }
    Ok(())
}

pub fn grant(c: &Connection, col: &CollectionRef, user: &str, access: Access) -> StoreResult<()> {
    let ckey = collection_key(c, col)?;
    if users(c, Some(user))?.is_empty() {
        return Err(StoreError::NotFound(format!("user {user:?}")));
    }
    c.execute(
        "INSERT OR REPLACE INTO grants (ckey, user_name, can_read, can_write) VALUES (?1, ?2, ?3, ?4)",
        params![ckey, user, access.read, access.write],
    )
    .map_err(db)?;
    Ok(())
}

pub fn access(c: &Connection, col: &CollectionRef, user: &str) -> StoreResult<Access> {
    let row = c
        .prepare_cached(
            "SELECT g.can_read, g.can_write FROM grants g JOIN collections c ON c.ckey = g.ckey
             WHERE c.api_root = ?1 AND c.id = ?2 AND g.user_name = ?3",
        )
        .map_err(db)?
        .query_row(params![col.api_root, col.id, user], |r| {
            Ok(Access {
                read: r.get(0)?,
                write: r.get(1)?,
            })
        })
        .optional()
        .map_err(db)?;
    Ok(row.unwrap_or_default())
}

pub fn node_secret(c: &Connection, name: &str, init: [u8; 32]) -> StoreResult<[u8; 32]> {
    let key = format!("secret:{name}");
    c.execute(
        "INSERT OR IGNORE INTO meta (name, value) VALUES (?1, ?2)",
        params![key, init.as_slice()],
    )
    .map_err(db)?;
    let value: Vec<u8> = c
        .query_row(
            "SELECT value FROM meta WHERE name = ?1",
            params![key],
            |r| r.get(0),
        )
        .map_err(db)?;
    value
        .try_into()
        .map_err(|_| StoreError::Backend(format!("node secret {name:?} is corrupt")))
}

/// Records the first use of a one-time id; `false` when it was used and has not expired.
pub fn first_use(c: &Connection, id: &str, expires_at: i64, now: i64) -> StoreResult<bool> {
    c.prepare_cached("DELETE FROM used_ids WHERE expires_at <= ?1")
        .and_then(|mut q| q.execute(params![now]))
        .map_err(db)?;
    let inserted = c
        .prepare_cached("INSERT OR IGNORE INTO used_ids (id, expires_at) VALUES (?1, ?2)")
        .and_then(|mut q| q.execute(params![id, expires_at]))
        .map_err(db)?;
    Ok(inserted == 1)
}
