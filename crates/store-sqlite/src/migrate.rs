//! Schema migrations, tracked in SQLite's `user_version`. Each migration runs in its own
//! transaction; a database newer than this build is refused, never touched.

use comity_store::{StoreError, StoreResult};
use rusqlite::Connection;

use crate::db;

/// Migrations in order; the schema version is the number applied.
pub(crate) const MIGRATIONS: &[&str] = &[
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
    include_str!("../migrations/0019_marking_bumps_in_code.sql"),
];

/// The newest schema version this build knows.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// Brings the schema up to date; idempotent.
pub fn up(conn: &Connection) -> StoreResult<()> {
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db)?;
    if found > LATEST {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: LATEST,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        let batch = format!("BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {version}; COMMIT;");
        if let Err(e) = conn.execute_batch(&batch) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(StoreError::Backend(format!(
                "migration to schema version {version} failed: {e}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_fresh_database_goes_straight_to_the_latest_schema() {
        assert_eq!(LATEST, 19);
        let conn = Connection::open_in_memory().unwrap();
        up(&conn).unwrap();
        assert_eq!(version(&conn), LATEST);
        up(&conn).unwrap();
        assert_eq!(version(&conn), LATEST);
    }

    /// A database as a build that knew the first `n` migrations left it.
    fn at_version(n: usize) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for (index, sql) in MIGRATIONS[..n].iter().enumerate() {
            conn.execute_batch(&format!("{sql}; PRAGMA user_version = {};", index + 1))
                .unwrap();
        }
        conn
    }

    fn rows(conn: &Connection, table: &str) -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_schema_2_database_keeps_its_collections_and_gains_identity_and_federation() {
        let conn = at_version(2);
        conn.execute_batch(
            "INSERT INTO api_roots VALUES ('default', 'Default', NULL, 1000);
             INSERT INTO collections (api_root, id, title, description)
             VALUES ('default', 'c1', 'old', 'kept');",
        )
        .unwrap();
        up(&conn).unwrap();
        assert_eq!(version(&conn), LATEST);
        let cols = crate::admin::collections(&conn, "default", None).unwrap();
        assert_eq!(cols.len(), 1);
        assert_eq!(
            (cols[0].title.as_str(), cols[0].description.as_deref()),
            ("old", Some("kept"))
        );
        assert_eq!(
            (cols[0].view.as_deref(), cols[0].origin.as_deref()),
            (None, None)
        );
        // A plain collection was shared before collections had a federation setting: it
        // stays federated after the upgrade.
        assert!(crate::admin::collection_federated(&conn, &cols[0].key()).unwrap());
        for table in [
            "api_tokens",
            "registry",
            "outbox",
            "outbox_counters",
            "inbox",
        ] {
            assert_eq!(rows(&conn, table), 0, "{table}");
        }
    }

    #[test]
    fn a_schema_3_database_keeps_its_views_and_tokens_and_gains_federation() {
        let conn = at_version(3);
        conn.execute_batch(
            "INSERT INTO api_roots VALUES ('default', 'Default', NULL, 1000);
             INSERT INTO collections (api_root, id, title, description, view)
             VALUES ('default', 'v1', 'a view', NULL, '{\"source\":\"c1\"}');
             INSERT INTO api_tokens (id, label, user_name, secret_sha256, created_at)
             VALUES ('tok', 'kept', 'ana', zeroblob(32), 1);",
        )
        .unwrap();
        up(&conn).unwrap();
        assert_eq!(version(&conn), LATEST);
        let cols = crate::admin::collections(&conn, "default", None).unwrap();
        assert_eq!(cols.len(), 1);
        assert_eq!(cols[0].view.as_deref(), Some(r#"{"source":"c1"}"#));
        assert_eq!(cols[0].origin, None);
        assert!(!crate::admin::collection_federated(&conn, &cols[0].key()).unwrap());
        assert_eq!(rows(&conn, "api_tokens"), 1);
        for table in ["outbox", "outbox_counters", "inbox"] {
            assert_eq!(rows(&conn, table), 0, "{table}");
        }
    }

    #[test]
    fn a_schema_10_database_gains_requests_without_touching_the_meta_version() {
        let conn = at_version(10);
        conn.execute_batch("INSERT INTO api_roots VALUES ('default', 'Default', NULL, 1000);")
            .unwrap();
        let meta = |conn: &Connection| -> i64 {
            conn.query_row("SELECT version FROM meta_version", [], |r| r.get(0))
                .unwrap()
        };
        let before = meta(&conn);
        up(&conn).unwrap();
        assert_eq!(version(&conn), LATEST);
        assert_eq!(rows(&conn, "api_roots"), 1);
        conn.execute_batch(
            "INSERT INTO requests VALUES
                 ('request--1', 'assistance', 'identity--a', 'identity--b', 'submitted', 0,
                  1, 2, NULL, 1, '{}');
             INSERT INTO request_events VALUES ('request--1', 1, 'identity--a', 'submit', 2,
                  'ab', '{}');",
        )
        .unwrap();
        assert_eq!(rows(&conn, "requests"), 1);
        assert_eq!(rows(&conn, "request_events"), 1);
        assert_eq!(meta(&conn), before, "requests are not cached metadata");
        // One event per place in a history.
        assert!(conn
            .execute_batch(
                "INSERT INTO request_events VALUES ('request--1', 1, 'identity--b', 'x', 3,
                     'cd', '{}');"
            )
            .is_err());
    }

    #[test]
    fn a_schema_11_database_gains_feeds_without_touching_the_meta_version() {
        let conn = at_version(11);
        let meta = |conn: &Connection| -> i64 {
            conn.query_row("SELECT version FROM meta_version", [], |r| r.get(0))
                .unwrap()
        };
        let before = meta(&conn);
        up(&conn).unwrap();
        assert_eq!(version(&conn), LATEST);
        conn.execute_batch(
            "INSERT INTO feeds VALUES ('f', 'list', 'https://x/', 'default', 'c', 60, '{}',
                 NULL, 1, NULL, NULL, NULL, 0, 1, 0, 0, 0);
             INSERT INTO feed_values VALUES ('f', 'ipv4-addr:1.2.3.4', 't');",
        )
        .unwrap();
        assert_eq!(rows(&conn, "feeds"), 1);
        assert_eq!(meta(&conn), before, "feeds are not cached metadata");
        // An interval must be positive; a value is kept once per feed.
        assert!(conn
            .execute_batch(
                "INSERT INTO feeds VALUES ('g', 'list', 'https://x/', 'default', 'c', 0, '{}',
                     NULL, 1, NULL, NULL, NULL, 0, 1, 0, 0, 0);"
            )
            .is_err());
        assert!(conn
            .execute_batch("INSERT INTO feed_values VALUES ('f', 'ipv4-addr:1.2.3.4', 'u');")
            .is_err());
    }

    #[test]
    fn a_schema_11_database_gains_the_value_index_whose_postings_go_with_their_versions() {
        let conn = at_version(11);
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             INSERT INTO api_roots VALUES ('default', 'Default', NULL, 1000);
             INSERT INTO collections (api_root, id, title) VALUES ('default', 'c1', 't');
             INSERT INTO objects (seq, ckey, id, type, version, version_key, spec_version,
                                  date_added, is_first, is_last, json)
             SELECT 7, ckey, 'ipv4-addr--1', 'ipv4-addr', '', '', '2.1', 1, 1, 1, '{}'
             FROM collections;",
        )
        .unwrap();
        up(&conn).unwrap();
        assert_eq!(version(&conn), LATEST);
        assert_eq!(rows(&conn, "objects"), 1);
        assert_eq!(
            rows(&conn, "value_postings"),
            0,
            "old versions wait for a re-index"
        );
        conn.execute_batch(
            "INSERT INTO value_postings VALUES (7, 'ipv4-addr', '10.0.0.1', zeroblob(16), zeroblob(16));",
        )
        .unwrap();
        // A posting points at a stored version, with both block ends or neither.
        assert!(conn
            .execute_batch("INSERT INTO value_postings VALUES (8, 'mutex', 'm', NULL, NULL);")
            .is_err());
        assert!(conn
            .execute_batch(
                "INSERT INTO value_postings VALUES (7, 'ipv4-addr', 'x', zeroblob(16), NULL);"
            )
            .is_err());
        conn.execute_batch("DELETE FROM objects WHERE seq = 7;")
            .unwrap();
        assert_eq!(rows(&conn, "value_postings"), 0, "deleted with its version");
    }
}
