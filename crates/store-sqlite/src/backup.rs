//! Online backups of the embedded store.
//!
//! [`snapshot`] copies the database with SQLite's online backup API in one step: one read
//! transaction, so the copy is the database as of one commit, while writers (`comity serve`,
//! `comity import`) go on in the WAL without waiting. A backup file also carries notes
//! (the manifest, the node's key and configuration) in a table of its own, which
//! [`take_notes`] reads and removes when the file is restored, and files kept beside the
//! database (the requests' attachments), which [`add_files`] streams in and [`take_files`]
//! streams out, never whole in memory.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use comity_store::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags, MAIN_DB};

use crate::{db, DATABASE_FILE};

/// The table that holds a backup's notes; never present in a live store.
const NOTES: &str = "comity_backup_note";
/// The table that holds a backup's files (each streamed in and out as a blob); never
/// present in a live store.
const FILES: &str = "comity_backup_file";

/// Copies the store of `data_dir` into the new file `dest`, as one consistent snapshot,
/// and checks the copy's structure (`PRAGMA quick_check`).
pub fn snapshot(data_dir: &Path, dest: &Path) -> StoreResult<()> {
    let source_path = data_dir.join(DATABASE_FILE);
    let source = Connection::open_with_flags(&source_path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| {
            StoreError::Unavailable(format!("cannot open {}: {e}", source_path.display()))
        })?;
    source
        .busy_timeout(std::time::Duration::from_secs(30))
        .map_err(db)?;
    // Readable by the owner only (SQLite gives its WAL files the same mode): a backup holds
    // what the data directory holds. An empty file is an empty database to SQLite.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(dest)
        .map_err(|e| StoreError::Conflict(format!("cannot create {}: {e}", dest.display())))?;
    let mut copy = Connection::open(dest).map_err(db)?;
    {
        let backup = rusqlite::backup::Backup::new(&source, &mut copy).map_err(db)?;
        // All pages in one step: a step that sees another connection's commit would start
        // over, and under a steady write load never finish.
        backup.step(-1).map_err(db)?;
    }
    let verdict: String = copy
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(db)?;
    if verdict != "ok" {
        return Err(StoreError::Backend(format!(
            "the copy of {} fails SQLite's check: {verdict}",
            source_path.display()
        )));
    }
    Ok(())
}

/// Adds notes to the backup file `file` and leaves it in rollback-journal mode, so that the
/// file alone holds everything.
pub fn add_notes(file: &Path, notes: &BTreeMap<String, Vec<u8>>) -> StoreResult<()> {
    let mut conn = Connection::open(file).map_err(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(db)?;
    let tx = conn.transaction().map_err(db)?;
    tx.execute(
        &format!("CREATE TABLE {NOTES} (name TEXT PRIMARY KEY, value BLOB NOT NULL)"),
        [],
    )
    .map_err(db)?;
    for (name, value) in notes {
        tx.execute(
            &format!("INSERT INTO {NOTES} (name, value) VALUES (?1, ?2)"),
            (name, value),
        )
        .map_err(db)?;
    }
    tx.commit().map_err(db)?;
    // A rollback-journal database is one file whatever opens it later; the switch from WAL
    // waits for the last other connection to the copy (the digest reader's) to close.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mode = conn.query_row("PRAGMA journal_mode = DELETE", [], |row| {
            row.get::<_, String>(0)
        });
        match mode {
            Ok(mode) if mode.eq_ignore_ascii_case("delete") => return Ok(()),
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy
                    || f.code == rusqlite::ErrorCode::DatabaseLocked => {}
            Err(e) => return Err(db(e)),
        }
        if std::time::Instant::now() > deadline {
            return Err(StoreError::Backend(format!(
                "{} is still in use: cannot seal the backup",
                file.display()
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Adds files to the backup `file`, each streamed in under its name (call it before
/// [`add_notes`], which seals the file).
pub fn add_files(file: &Path, files: &[(String, PathBuf)]) -> StoreResult<()> {
    let mut conn = Connection::open(file).map_err(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(db)?;
    let tx = conn.transaction().map_err(db)?;
    tx.execute(
        &format!("CREATE TABLE {FILES} (name TEXT PRIMARY KEY, value BLOB NOT NULL)"),
        [],
    )
    .map_err(db)?;
    for (name, path) in files {
        let mut source = std::fs::File::open(path)
            .map_err(|e| StoreError::Unavailable(format!("cannot read {}: {e}", path.display())))?;
        let size = source
            .metadata()
            .map_err(|e| StoreError::Backend(e.to_string()))?
            .len();
        let size = i64::try_from(size)
            .map_err(|_| StoreError::Backend(format!("{} is too large", path.display())))?;
        tx.execute(
            &format!("INSERT INTO {FILES} (name, value) VALUES (?1, zeroblob(?2))"),
            (name, size),
        )
        .map_err(db)?;
        let mut blob = tx
            .blob_open(MAIN_DB, FILES, "value", tx.last_insert_rowid(), false)
            .map_err(db)?;
        let copied = std::io::copy(&mut source, &mut blob)
            .map_err(|e| StoreError::Backend(format!("copying {}: {e}", path.display())))?;
        if copied != size as u64 {
            return Err(StoreError::Backend(format!(
                "{} changed while it was copied",
                path.display()
            )));
        }
    }
    tx.commit().map_err(db)
}

/// Writes out and removes the files of a backup file being restored: each to the path
/// `place` gives for its name, streamed; a name `place` refuses (`None`) stops the
/// restore with an error, so a forged backup cannot write outside where it is meant to.
/// Returns the names, in order (none for a backup without files).
pub fn take_files(
    file: &Path,
    place: impl Fn(&str) -> Option<PathBuf>,
) -> StoreResult<Vec<String>> {
    let mut conn = Connection::open(file)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", file.display())))?;
    let present: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [FILES],
            |row| row.get(0),
        )
        .map_err(db)?;
    if !present {
        return Ok(Vec::new());
    }
    let tx = conn.transaction().map_err(db)?;
    let rows: Vec<(i64, String)> = {
        let mut stmt = tx
            .prepare(&format!("SELECT rowid, name FROM {FILES} ORDER BY name"))
            .map_err(db)?;
        let rows = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)?
    };
    for (rowid, name) in &rows {
        let dest = place(name).ok_or_else(|| {
            StoreError::Backend(format!(
                "the backup holds a file named {name:?}, which is not a file it can make"
            ))
        })?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Backend(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let mut out = std::fs::File::create_new(&dest)
            .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", dest.display())))?;
        let mut blob = tx
            .blob_open(MAIN_DB, FILES, "value", *rowid, true)
            .map_err(db)?;
        std::io::copy(&mut blob, &mut out)
            .and_then(|_| out.flush())
            .and_then(|_| out.sync_all())
            .map_err(|e| StoreError::Backend(format!("writing {}: {e}", dest.display())))?;
    }
    tx.execute(&format!("DROP TABLE {FILES}"), []).map_err(db)?;
    tx.commit().map_err(db)?;
    // The pages the files took are given back, so the restored store is its own size.
    conn.execute("VACUUM", []).map_err(db)?;
    Ok(rows.into_iter().map(|(_, name)| name).collect())
}

/// Reads and removes the notes of a backup file being restored (`None`: the file is an
/// SQLite database but not a Comity backup).
pub fn take_notes(file: &Path) -> StoreResult<Option<BTreeMap<String, Vec<u8>>>> {
    let mut conn = Connection::open(file)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", file.display())))?;
    let present: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [NOTES],
            |row| row.get(0),
        )
        .map_err(|e| {
            StoreError::Backend(format!("{} is not an SQLite database: {e}", file.display()))
        })?;
    if !present {
        return Ok(None);
    }
    let tx = conn.transaction().map_err(db)?;
    let notes = {
        let mut stmt = tx
            .prepare(&format!("SELECT name, value FROM {NOTES}"))
            .map_err(db)?;
        let rows = stmt
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .map_err(db)?;
        rows.collect::<Result<BTreeMap<_, _>, _>>().map_err(db)?
    };
    tx.execute(&format!("DROP TABLE {NOTES}"), []).map_err(db)?;
    tx.commit().map_err(db)?;
    Ok(Some(notes))
}
