//! API roots, collections, users, grants, statuses and node secrets: the small tables.

use comity_store::{
    Access, ApiRoot, Collection, CollectionRef, Role, Status, StoreError, StoreResult, User,
};
use sqlx::{PgConnection, PgPool, Row};

use crate::error::{conflict_or_db, db};

/// How long statuses are kept, in microseconds (the TAXII minimum is 24 hours).
const STATUS_RETENTION_US: i64 = 48 * 3600 * 1_000_000;

pub async fn create_api_root(pool: &PgPool, root: &ApiRoot) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_roots (name, title, description, max_content_length)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&root.name)
    .bind(&root.title)
    .bind(&root.description)
    .bind(root.max_content_length as i64)
    .execute(pool)
    .await
    .map_err(|e| conflict_or_db(e, || format!("API root {:?}", root.name)))?;
    Ok(())
}

pub async fn api_roots(pool: &PgPool, name: Option<&str>) -> StoreResult<Vec<ApiRoot>> {
    let rows = sqlx::query(
        "SELECT name, title, description, max_content_length FROM api_roots
         WHERE $1::text IS NULL OR name = $1 ORDER BY name",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(ApiRoot {
                name: r.try_get(0).map_err(db)?,
                title: r.try_get(1).map_err(db)?,
                description: r.try_get(2).map_err(db)?,
                max_content_length: r.try_get::<i64, _>(3).map_err(db)? as u64,
            })
        })
        .collect()
}

pub async fn create_collection(pool: &PgPool, col: &Collection) -> StoreResult<()> {
    if api_roots(pool, Some(&col.api_root)).await?.is_empty() {
        return Err(StoreError::NotFound(format!("API root {:?}", col.api_root)));
    }
    sqlx::query(
        "INSERT INTO collections (api_root, id, title, description, view, origin)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&col.api_root)
    .bind(&col.id)
    .bind(&col.title)
    .bind(&col.description)
    .bind(&col.view)
    .bind(&col.origin)
    .execute(pool)
    .await
    .map_err(|e| conflict_or_db(e, || format!("collection {}", col.id)))?;
    Ok(())
}

pub async fn collections(
    pool: &PgPool,
    api_root: &str,
    id: Option<&str>,
) -> StoreResult<Vec<Collection>> {
    let rows = sqlx::query(
        "SELECT api_root, id, title, description, view, origin FROM collections
         WHERE api_root = $1 AND ($2::text IS NULL OR id = $2) ORDER BY ckey",
    )
    .bind(api_root)
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(Collection {
                api_root: r.try_get(0).map_err(db)?,
                id: r.try_get(1).map_err(db)?,
                title: r.try_get(2).map_err(db)?,
                description: r.try_get(3).map_err(db)?,
                view: r.try_get(4).map_err(db)?,
                origin: r.try_get(5).map_err(db)?,
            })
        })
        .collect()
}

/// Whether a collection's objects are shared with peers.
pub async fn collection_federated(pool: &PgPool, col: &CollectionRef) -> StoreResult<bool> {
    sqlx::query_scalar("SELECT federated FROM collections WHERE api_root = $1 AND id = $2")
        .bind(&col.api_root)
        .bind(&col.id)
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .ok_or_else(|| StoreError::NotFound(format!("collection {}", col.id)))
}

/// Turns sharing of a plain collection's objects with peers on or off.
pub async fn set_collection_federated(
    pool: &PgPool,
    col: &CollectionRef,
    on: bool,
) -> StoreResult<()> {
    let plain: bool = sqlx::query_scalar(
        "SELECT view IS NULL AND origin IS NULL FROM collections WHERE api_root = $1 AND id = $2",
    )
    .bind(&col.api_root)
    .bind(&col.id)
    .fetch_optional(pool)
    .await
    .map_err(db)?
    .ok_or_else(|| StoreError::NotFound(format!("collection {}", col.id)))?;
    if !plain {
        return Err(StoreError::Conflict(format!(
            "collection {} is a policy view or holds a member's objects; only plain collections are federated",
            col.id
        )));
    }
    sqlx::query("UPDATE collections SET federated = $3 WHERE api_root = $1 AND id = $2")
        .bind(&col.api_root)
        .bind(&col.id)
        .bind(on)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}

/// The internal key of a collection, or `NotFound`.
pub async fn collection_key(c: &mut PgConnection, col: &CollectionRef) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT ckey FROM collections WHERE api_root = $1 AND id = $2")
        .bind(&col.api_root)
        .bind(&col.id)
        .fetch_optional(c)
        .await
        .map_err(db)?
        .ok_or_else(|| StoreError::NotFound(format!("collection {}", col.id)))
}

pub async fn put_status(pool: &PgPool, status: &Status) -> StoreResult<()> {
    let body = serde_json::to_string(status).map_err(|e| StoreError::Backend(e.to_string()))?;
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query("DELETE FROM statuses WHERE created_us < $1")
        .bind(status.created_us - STATUS_RETENTION_US)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    sqlx::query(
        "INSERT INTO statuses (id, api_root, created_us, body) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE
         SET api_root = excluded.api_root, created_us = excluded.created_us, body = excluded.body",
    )
    .bind(&status.id)
    .bind(&status.api_root)
    .bind(status.created_us)
    .bind(&body)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)
}

pub async fn status(pool: &PgPool, api_root: &str, id: &str) -> StoreResult<Option<Status>> {
    let body: Option<String> =
        sqlx::query_scalar("SELECT body FROM statuses WHERE api_root = $1 AND id = $2")
            .bind(api_root)
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(db)?;
    body.map(|b| serde_json::from_str(&b).map_err(|e| StoreError::Backend(e.to_string())))
        .transpose()
}

pub async fn create_user(pool: &PgPool, user: &User) -> StoreResult<()> {
    sqlx::query("INSERT INTO users (name, role, password_hash) VALUES ($1, $2, $3)")
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .execute(pool)
        .await
        .map_err(|e| conflict_or_db(e, || format!("user {:?}", user.name)))?;
    Ok(())
}

pub async fn users(pool: &PgPool, name: Option<&str>) -> StoreResult<Vec<User>> {
    let rows = sqlx::query(
        "SELECT name, role, password_hash FROM users
         WHERE $1::text IS NULL OR name = $1 ORDER BY name",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter()
        .map(|r| {
            let role: String = r.try_get(1).map_err(db)?;
            Ok(User {
                name: r.try_get(0).map_err(db)?,
                role: role.parse().map_err(StoreError::Backend)?,
                password_hash: r.try_get(2).map_err(db)?,
            })
        })
        .collect()
}

pub async fn set_password_hash(pool: &PgPool, name: &str, hash: &str) -> StoreResult<()> {
    let changed = sqlx::query("UPDATE users SET password_hash = $2 WHERE name = $1")
        .bind(name)
        .bind(hash)
        .execute(pool)
        .await
        .map_err(db)?
        .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound(format!("user {name:?}")));
    }
    Ok(())
}

/// Changes a user's role; `NotFound` for an unknown user.
pub async fn set_role(pool: &PgPool, name: &str, role: Role) -> StoreResult<()> {
    let changed = sqlx::query("UPDATE users SET role = $2 WHERE name = $1")
        .bind(name)
        .bind(role.as_str())
        .execute(pool)
        .await
        .map_err(db)?
        .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound(format!("user {name:?}")));
    }
    Ok(())
}

pub async fn grant(
    pool: &PgPool,
    col: &CollectionRef,
    user: &str,
    access: Access,
) -> StoreResult<()> {
    let mut conn = pool.acquire().await.map_err(db)?;
    let ckey = collection_key(&mut conn, col).await?;
    if users(pool, Some(user)).await?.is_empty() {
        return Err(StoreError::NotFound(format!("user {user:?}")));
    }
    sqlx::query(
        "INSERT INTO grants (ckey, user_name, can_read, can_write) VALUES ($1, $2, $3, $4)
         ON CONFLICT (ckey, user_name) DO UPDATE
         SET can_read = excluded.can_read, can_write = excluded.can_write",
    )
    .bind(ckey)
    .bind(user)
    .bind(access.read)
    .bind(access.write)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub async fn access(pool: &PgPool, col: &CollectionRef, user: &str) -> StoreResult<Access> {
    let row = sqlx::query(
        "SELECT g.can_read, g.can_write FROM grants g JOIN collections c ON c.ckey = g.ckey
         WHERE c.api_root = $1 AND c.id = $2 AND g.user_name = $3",
    )
    .bind(&col.api_root)
    .bind(&col.id)
    .bind(user)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    match row {
        Some(r) => Ok(Access {
            read: r.try_get(0).map_err(db)?,
            write: r.try_get(1).map_err(db)?,
        }),
        None => Ok(Access::default()),
    }
}

pub async fn node_secret(pool: &PgPool, name: &str, init: [u8; 32]) -> StoreResult<[u8; 32]> {
    sqlx::query("INSERT INTO node_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(name)
        .bind(init.as_slice())
        .execute(pool)
        .await
        .map_err(db)?;
    let value: Vec<u8> = sqlx::query_scalar("SELECT value FROM node_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .map_err(db)?;
    value
        .try_into()
        .map_err(|_| StoreError::Backend(format!("node secret {name:?} is corrupt")))
}

/// Records the first use of a one-time id; `false` when it was used and has not expired.
pub async fn first_use(pool: &PgPool, id: &str, expires_at: i64, now: i64) -> StoreResult<bool> {
    sqlx::query("DELETE FROM used_ids WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await
        .map_err(db)?;
    let inserted = sqlx::query(
        "INSERT INTO used_ids (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(expires_at)
    .execute(pool)
    .await
    .map_err(db)?
    .rows_affected();
    Ok(inserted == 1)
}
