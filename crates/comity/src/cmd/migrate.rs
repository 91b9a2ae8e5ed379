//! `comity migrate`: brings the schema of the node's store up to date. Idempotent; a
//! store newer than this build is refused and left untouched.

use std::process::ExitCode;

use anyhow::Context;
use comity_store_postgres::PgStore;
use comity_store_sqlite::SqliteStore;

use crate::config::{DataDir, StoreLocation};

/// Arguments of `comity migrate`.
#[derive(clap::Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    data: DataDir,
}

/// Runs `comity migrate`.
pub async fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let location = args.data.store_location()?;
    let (from, to) = match &location {
        StoreLocation::Postgres(url) => {
            let store = PgStore::connect_only(url)
                .await
                .with_context(|| format!("cannot migrate {location}"))?;
            let versions = store
                .migrate()
                .await
                .with_context(|| format!("cannot migrate {location}"))?;
            store.close().await;
            versions
        }
        StoreLocation::Sqlite(dir) => {
            if !location.holds_node().await? {
                anyhow::bail!("{location} holds no Comity node to migrate");
            }
            SqliteStore::open(dir).with_context(|| format!("cannot migrate {location}"))?;
            let latest = SqliteStore::schema_version();
            (latest, latest)
        }
    };
    if from == to {
        eprintln!("The store at {location} is up to date (schema version {to}).");
    } else {
        eprintln!("Migrated the store at {location} from schema version {from} to {to}.");
    }
    Ok(ExitCode::SUCCESS)
}
