//! Schema migrations, tracked in the table `comity_schema` (one row per applied version).
//! All pending migrations run in one transaction under an advisory lock, so that several
//! processes starting at once apply them exactly once; a database newer than this build
//! is refused, never touched.

use comity_store::{StoreError, StoreResult};
use sqlx::PgPool;

use crate::error::db;

/// Migrations in order; the schema version is the number applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_transparency_log.sql"),
    include_str!("../migrations/0003_identity.sql"),
    include_str!("../migrations/0004_federation.sql"),
    include_str!("../migrations/0005_meta_version.sql"),
    include_str!("../migrations/0006_witnessing.sql"),
    include_str!("../migrations/0007_used_ids.sql"),
    include_str!("../migrations/0008_marking_definitions.sql"),
    include_str!("../migrations/0009_log_openings.sql"),
    include_str!("../migrations/0010_collection_federation.sql"),
    include_str!("../migrations/0011_requests.sql"),
    include_str!("../migrations/0012_value_index.sql"),
    include_str!("../migrations/0013_feeds.sql"),
    include_str!("../migrations/0014_governance.sql"),
    include_str!("../migrations/0015_packed_objects.sql"),
    include_str!("../migrations/0016_gov_cancellations.sql"),
    include_str!("../migrations/0017_request_transfers.sql"),
    include_str!("../migrations/0018_founding_norms.sql"),
];

/// The newest schema version this build knows.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// Advisory lock key that serialises migrating processes ("comity" in ASCII).
const MIGRATION_LOCK: i64 = 0x636f_6d69_7479;

/// Brings the schema up to date; idempotent. Returns the versions before and after.
pub async fn up(pool: &PgPool) -> StoreResult<(i64, i64)> {
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let tracked: bool = sqlx::query_scalar("SELECT to_regclass('comity_schema') IS NOT NULL")
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
    if !tracked {
        sqlx::query(
            "CREATE TABLE comity_schema (
                 version    BIGINT PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    let found: i64 = sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM comity_schema")
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
    if found > LATEST {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: LATEST,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(|e| {
            StoreError::Backend(format!("migration to schema version {version} failed: {e}"))
        })?;
        sqlx::query("INSERT INTO comity_schema (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok((found, LATEST))
}

/// The schema version of the database (0 when it holds no Comity schema).
pub async fn current(pool: &PgPool) -> StoreResult<i64> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('comity_schema') IS NOT NULL")
        .fetch_one(pool)
        .await
        .map_err(db)?;
    if !exists {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM comity_schema")
        .fetch_one(pool)
        .await
        .map_err(db)
}
