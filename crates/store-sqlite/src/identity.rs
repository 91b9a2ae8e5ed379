//! API tokens and the registry of members and agreements. The store keeps what the node
//! hands it (hashes of token secrets, registry documents as JSON text) and never
//! interprets it.

use comity_store::{ApiToken, RegistryEntry, RegistryKind, StoreError, StoreResult};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::{conflict_or_db, db, in_transaction};

/// Stores a new token; `Conflict` when its id exists.
pub fn create_token(c: &Connection, t: &ApiToken) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO api_tokens
             (id, label, user_name, member, secret_sha256, created_at, expires_at, revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .map_err(db)?
    .execute(params![
        t.id,
        t.label,
        t.user,
        t.member,
        t.secret_sha256.as_slice(),
        t.created_at,
        t.expires_at,
        t.revoked_at
    ])
    .map_err(|e| conflict_or_db(e, || format!("API token {:?}", t.id)))?;
    Ok(())
}

/// The columns [`token_row`] reads.
const TOKEN_COLUMNS: &str =
    "id, label, user_name, member, secret_sha256, created_at, expires_at, revoked_at";

fn token_row(r: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: r.get(0)?,
        label: r.get(1)?,
        user: r.get(2)?,
        member: r.get(3)?,
        secret_sha256: r.get(4)?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}

/// One token by id (a primary-key look-up: this runs on every authenticated request).
pub fn token(c: &Connection, id: &str) -> StoreResult<Option<ApiToken>> {
    c.prepare_cached(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?1"
    ))
    .map_err(db)?
    .query_row(params![id], token_row)
    .optional()
    .map_err(db)
}

/// Every token, by `created_at`, then id.
pub fn tokens(c: &Connection) -> StoreResult<Vec<ApiToken>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at, id"
        ))
        .map_err(db)?;
    let rows = stmt.query_map([], token_row).map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

/// Revokes a token at `at` unless it is revoked already (then `false`); `NotFound` for
/// an unknown id.
pub fn revoke_token(c: &mut Connection, id: &str, at: i64) -> StoreResult<bool> {
    in_transaction(c, |tx| {
        let changed = tx
            .prepare_cached(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            )
            .map_err(db)?
            .execute(params![id, at])
            .map_err(db)?;
        if changed == 1 {
            return Ok(true);
        }
        let exists = tx
            .prepare_cached("SELECT 1 FROM api_tokens WHERE id = ?1")
            .map_err(db)?
            .query_row(params![id], |_| Ok(()))
            .optional()
            .map_err(db)?
            .is_some();
        if exists {
            Ok(false)
        } else {
            Err(StoreError::NotFound(format!("API token {id:?}")))
        }
    })
}

/// Adds a registry document; `Conflict` when its kind and id exist.
pub fn add_registry_entry(c: &Connection, e: &RegistryEntry) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO registry (kind, id, status, document, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .map_err(db)?
    .execute(params![
        e.kind.as_str(),
        e.id,
        e.status.as_str(),
        e.document,
        e.updated_at
    ])
    .map_err(|err| conflict_or_db(err, || format!("{} {:?}", e.kind.as_str(), e.id)))?;
    Ok(())
}

/// Replaces a registry document's status, text and time; `NotFound` when absent.
pub fn update_registry_entry(c: &Connection, e: &RegistryEntry) -> StoreResult<()> {
    let changed = c
        .prepare_cached(
            "UPDATE registry SET status = ?3, document = ?4, updated_at = ?5
             WHERE kind = ?1 AND id = ?2",
        )
        .map_err(db)?
        .execute(params![
            e.kind.as_str(),
            e.id,
            e.status.as_str(),
            e.document,
            e.updated_at
        ])
        .map_err(db)?;
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
pub fn replace_registry_entry(
    c: &Connection,
    e: &RegistryEntry,
    expected: &RegistryEntry,
) -> StoreResult<bool> {
    let changed = c
        .prepare_cached(
            "UPDATE registry SET status = ?3, document = ?4, updated_at = ?5
             WHERE kind = ?1 AND id = ?2 AND status = ?6 AND document = ?7",
        )
        .map_err(db)?
        .execute(params![
            e.kind.as_str(),
            e.id,
            e.status.as_str(),
            e.document,
            e.updated_at,
            expected.status.as_str(),
            expected.document
        ])
        .map_err(db)?;
    Ok(changed == 1)
}

/// The columns [`registry_row`] reads.
const REGISTRY_COLUMNS: &str = "kind, id, status, document, updated_at";

/// A registry row, with its kind and status still as stored text.
type RawEntry = (String, String, String, String, i64);

fn registry_row(r: &Row<'_>) -> rusqlite::Result<RawEntry> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn registry_entry_of(row: RawEntry) -> StoreResult<RegistryEntry> {
    let (kind, id, status, document, updated_at) = row;
    Ok(RegistryEntry {
        kind: kind.parse()?,
        id,
        status: status.parse()?,
        document,
        updated_at,
    })
}

/// One registry document by kind and id.
pub fn registry_entry(
    c: &Connection,
    kind: RegistryKind,
    id: &str,
) -> StoreResult<Option<RegistryEntry>> {
    c.prepare_cached(&format!(
        "SELECT {REGISTRY_COLUMNS} FROM registry WHERE kind = ?1 AND id = ?2"
    ))
    .map_err(db)?
    .query_row(params![kind.as_str(), id], registry_row)
    .optional()
    .map_err(db)?
    .map(registry_entry_of)
    .transpose()
}

/// Every registry document of `kind`, by id.
pub fn registry(c: &Connection, kind: RegistryKind) -> StoreResult<Vec<RegistryEntry>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {REGISTRY_COLUMNS} FROM registry WHERE kind = ?1 ORDER BY id"
        ))
        .map_err(db)?;
    let rows = stmt
        .query_map(params![kind.as_str()], registry_row)
        .map_err(db)?;
    rows.map(|row| registry_entry_of(row.map_err(db)?))
        .collect()
}
