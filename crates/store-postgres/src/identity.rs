//! API tokens and the registry of members and agreements. The store keeps what the node
//! hands it (hashes of token secrets, registry documents as JSON text) and never
//! interprets it.

use comity_store::{ApiToken, RegistryEntry, RegistryKind, StoreError, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use crate::error::{conflict_or_db, db};

/// Stores a new token; `Conflict` when its id exists.
pub async fn create_token(pool: &PgPool, t: &ApiToken) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_tokens
             (id, label, user_name, member, secret_sha256, created_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&t.id)
    .bind(&t.label)
    .bind(&t.user)
    .bind(&t.member)
    .bind(t.secret_sha256.as_slice())
    .bind(t.created_at)
    .bind(t.expires_at)
    .bind(t.revoked_at)
    .execute(pool)
    .await
    .map_err(|e| conflict_or_db(e, || format!("API token {:?}", t.id)))?;
    Ok(())
}

/// The columns [`token_row`] reads.
const TOKEN_COLUMNS: &str =
    "id, label, user_name, member, secret_sha256, created_at, expires_at, revoked_at";

fn token_row(r: &PgRow) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: r.try_get(0).map_err(db)?,
        label: r.try_get(1).map_err(db)?,
        user: r.try_get(2).map_err(db)?,
        member: r.try_get(3).map_err(db)?,
        secret_sha256: r.try_get(4).map_err(db)?,
        created_at: r.try_get(5).map_err(db)?,
        expires_at: r.try_get(6).map_err(db)?,
        revoked_at: r.try_get(7).map_err(db)?,
    })
}

/// One token by id (a primary-key look-up: this runs on every authenticated request).
pub async fn token(pool: &PgPool, id: &str) -> StoreResult<Option<ApiToken>> {
    sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db)?
    .as_ref()
    .map(token_row)
    .transpose()
}

/// Every token, by `created_at`, then id.
pub async fn tokens(pool: &PgPool) -> StoreResult<Vec<ApiToken>> {
    sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at, id"
    ))
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(token_row)
    .collect()
}

/// Revokes a token at `at` unless it is revoked already (then `false`); `NotFound` for
/// an unknown id. One statement, so concurrent revocations keep the first time.
pub async fn revoke_token(pool: &PgPool, id: &str, at: i64) -> StoreResult<bool> {
    let (revoked, exists): (bool, bool) = sqlx::query_as(
        "WITH revoked AS (
             UPDATE api_tokens SET revoked_at = $2
             WHERE id = $1 AND revoked_at IS NULL RETURNING 1
         )
         SELECT EXISTS (SELECT 1 FROM revoked), EXISTS (SELECT 1 FROM api_tokens WHERE id = $1)",
    )
    .bind(id)
    .bind(at)
    .fetch_one(pool)
    .await
    .map_err(db)?;
    if exists {
        Ok(revoked)
    } else {
        Err(StoreError::NotFound(format!("API token {id:?}")))
    }
}

/// Adds a registry document; `Conflict` when its kind and id exist.
pub async fn add_registry_entry(
    c: impl sqlx::PgExecutor<'_>,
    e: &RegistryEntry,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO registry (kind, id, status, document, updated_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(e.kind.as_str())
    .bind(&e.id)
    .bind(e.status.as_str())
    .bind(&e.document)
    .bind(e.updated_at)
    .execute(c)
    .await
    .map_err(|err| conflict_or_db(err, || format!("{} {:?}", e.kind.as_str(), e.id)))?;
    Ok(())
}

/// Replaces a registry document's status, text and time; `NotFound` when absent.
pub async fn update_registry_entry(pool: &PgPool, e: &RegistryEntry) -> StoreResult<()> {
    let changed = sqlx::query(
        "UPDATE registry SET status = $3, document = $4, updated_at = $5
         WHERE kind = $1 AND id = $2",
    )
    .bind(e.kind.as_str())
    .bind(&e.id)
    .bind(e.status.as_str())
    .bind(&e.document)
    .bind(e.updated_at)
    .execute(pool)
    .await
    .map_err(db)?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound(format!(
            "{} {:?}",
            e.kind.as_str(),
            e.id
        )));
    }
    Ok(())
}

/// Replaces an entry while its status and document are those of `expected`.
pub async fn replace_registry_entry(
    c: impl sqlx::PgExecutor<'_>,
    e: &RegistryEntry,
    expected: &RegistryEntry,
) -> StoreResult<bool> {
    let changed = sqlx::query(
        "UPDATE registry SET status = $3, document = $4, updated_at = $5
         WHERE kind = $1 AND id = $2 AND status = $6 AND document = $7",
    )
    .bind(e.kind.as_str())
    .bind(&e.id)
    .bind(e.status.as_str())
    .bind(&e.document)
    .bind(e.updated_at)
    .bind(expected.status.as_str())
    .bind(&expected.document)
    .execute(c)
    .await
    .map_err(db)?
    .rows_affected();
    Ok(changed == 1)
}

/// The columns [`registry_row`] reads.
const REGISTRY_COLUMNS: &str = "kind, id, status, document, updated_at";

fn registry_row(r: &PgRow) -> StoreResult<RegistryEntry> {
    let kind: String = r.try_get(0).map_err(db)?;
    Ok(RegistryEntry {
        kind: kind.parse()?,
        id: r.try_get(1).map_err(db)?,
        status: r.try_get::<String, _>(2).map_err(db)?.parse()?,
        document: r.try_get(3).map_err(db)?,
        updated_at: r.try_get(4).map_err(db)?,
    })
}

/// One registry document by kind and id.
pub async fn registry_entry(
    pool: &PgPool,
    kind: RegistryKind,
    id: &str,
) -> StoreResult<Option<RegistryEntry>> {
    sqlx::query(&format!(
        "SELECT {REGISTRY_COLUMNS} FROM registry WHERE kind = $1 AND id = $2"
    ))
    .bind(kind.as_str())
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db)?
    .as_ref()
    .map(registry_row)
    .transpose()
}

/// Every registry document of `kind`, by id (byte-wise: the column collates as "C").
pub async fn registry(pool: &PgPool, kind: RegistryKind) -> StoreResult<Vec<RegistryEntry>> {
    sqlx::query(&format!(
        "SELECT {REGISTRY_COLUMNS} FROM registry WHERE kind = $1 ORDER BY id"
    ))
    .bind(kind.as_str())
    .fetch_all(pool)
    .await
    .map_err(db)?
    .iter()
    .map(registry_row)
    .collect()
}
