//! `comity backup` and `comity restore`: online backups of a node on the embedded store.
//!
//! A backup is one SQLite file: the database as of one commit, copied while `comity serve`
//! and other writers go on, plus notes — the node's identity key (unless left out), its
//! `comity.toml`, and the snapshot's digests (counts and SHA-256 per collection and of the
//! transparency log, as `comity copy` computes them). `comity restore` puts it into an
//! empty data directory and checks the restored store against those digests before the
//! node can be served.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use comity_store_sqlite::{backup, SqliteStore, DATABASE_FILE};
use comity_tlog::note::Signer;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cmd::digest::NodeDigest;
use crate::cmd::log::{node_key, write_node_key, KEY_FILE};
use crate::config::{DataDir, FileConfig, StoreLocation, ATTACHMENTS_DIR, CONFIG_FILE};
use comity_node::requests::attachments::{is_sha256, Attachments};

/// Note names inside a backup file.
const MANIFEST: &str = "manifest";
const KEY: &str = "node.key";
const CONFIG: &str = "comity.toml";

/// Arguments of `comity backup`.
#[derive(clap::Args)]
pub struct BackupArgs {
    #[command(flatten)]
    data: DataDir,
    /// The backup file to write (must not exist).
    #[arg(long)]
    to: PathBuf,
    /// Leave the node's identity key out of the backup (then `comity restore` needs
    /// `--key`). Without this flag the backup is as secret as the key itself.
    #[arg(long)]
    without_key: bool,
}

/// Arguments of `comity restore`.
#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup file `comity backup` wrote.
    #[arg(long)]
    from: PathBuf,
    /// The data directory to restore into: it must not exist or be empty.
    #[arg(long, env = "COMITY_DATA_DIR", default_value = "comity-data")]
    data_dir: PathBuf,
    /// The node's identity key file, for a backup made with `--without-key`.
    #[arg(long)]
    key: Option<PathBuf>,
}

/// What a backup says of itself.
#[derive(serde::Serialize, serde::Deserialize)]
struct Manifest {
    /// The store schema version of the snapshot.
    schema: i64,
    /// When the snapshot was taken (RFC 3339).
    taken: String,
    /// The snapshot's digests.
    digest: NodeDigest,
    /// The SHA-256 of every attachment file in the backup, in order (none in a backup
    /// made before backups carried them).
    #[serde(default)]
    attachments: Vec<String>,
}

/// The name an attachment file has inside a backup, as under the data directory.
fn attachment_name(sha256: &str) -> String {
    format!("{ATTACHMENTS_DIR}/{}/{sha256}", &sha256[..2])
}

/// The attachment a backup's file name stands for, if it is one's name.
fn attachment_of(name: &str) -> Option<&str> {
    let sha256 = name.rsplit('/').next()?;
    (is_sha256(sha256) && name == attachment_name(sha256)).then_some(sha256)
}

/// A folder beside `target` for work in progress, removed when dropped.
fn work_dir_beside(target: &Path) -> anyhow::Result<tempfile::TempDir> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".comity-backup-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot make a work folder in {}", parent.display()))
}

/// Shows the bytes written to `file` against `total` until `done` is dropped.
fn watch_progress(file: PathBuf, total: u64, verb: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {verb} {{bytes}}/{{total_bytes}} [{{bar:40}}] {{bytes_per_sec}}"
        ))
        .expect("a valid template")
        .progress_chars("=> "),
    );
    let watched = bar.clone();
    std::thread::spawn(move || {
        while !watched.is_finished() {
            if let Ok(meta) = std::fs::metadata(&file) {
                watched.set_position(meta.len().min(total));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    bar
}

/// Runs `comity backup`.
pub async fn run_backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let dir = match args.data.store_location()? {
        StoreLocation::Sqlite(dir) => dir,
        StoreLocation::Postgres(url) => anyhow::bail!(
            "{url} is a PostgreSQL database: back it up with PostgreSQL's own tools \
             (pg_basebackup and WAL archiving, or pg_dump); see the README"
        ),
    };
    if !args.data.is_initialised()? {
        anyhow::bail!("{} holds no Comity node to back up", dir.display());
    }
    if args.to.exists() {
        anyhow::bail!("{} exists; name a new file", args.to.display());
    }
    let mut notes = BTreeMap::new();
    if !args.without_key {
        notes.insert(
            KEY.to_owned(),
            node_key(&dir)?.to_secret_string().into_bytes(),
        );
    }
    match std::fs::read(dir.join(CONFIG_FILE)) {
        Ok(config) => {
            notes.insert(CONFIG.to_owned(), config);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).context(format!("cannot read {CONFIG_FILE}")),
    }
    let work = work_dir_beside(&args.to)?;
    let copy = work.path().join(DATABASE_FILE);
    let started = Instant::now();
    let source_size = std::fs::metadata(dir.join(DATABASE_FILE))?.len();
    let bar = watch_progress(copy.clone(), source_size, "copying");
    let taken = comity_node::federation::envelope::timestamp(time::OffsetDateTime::now_utc());
    let (from, to) = (dir.clone(), copy.clone());
    let snapshot = tokio::task::spawn_blocking(move || backup::snapshot(&from, &to)).await?;
    bar.finish_and_clear();
    snapshot.context("copying the database")?;
    let copied_in = started.elapsed();
    eprintln!(
        "Copied a snapshot in {:.1} s; reading it back for its digests.",
        copied_in.as_secs_f64()
    );
    let digest = {
        let store = SqliteStore::open(work.path())?;
        NodeDigest::of(&store).await?
    };
    // Attachments are content-addressed and never change once sealed, so every one the
    // snapshot lists is there now (and one sealed since is harmless extra).
    let attachments = Attachments::new(dir.join(ATTACHMENTS_DIR));
    let held = attachments.sealed()?;
    let files = held
        .iter()
        .map(|sha256| Ok((attachment_name(sha256), attachments.sealed_file(sha256)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !files.is_empty() {
        eprintln!("Adding {} attachment files.", files.len());
    }
    backup::add_files(&copy, &files).context("adding the attachment files")?;
    let manifest = Manifest {
        schema: SqliteStore::schema_version(),
        taken,
        digest,
        attachments: held,
    };
    notes.insert(MANIFEST.to_owned(), serde_json::to_vec_pretty(&manifest)?);
    backup::add_notes(&copy, &notes)?;
    std::fs::rename(&copy, &args.to)
        .with_context(|| format!("cannot move the backup to {}", args.to.display()))?;
    let size = std::fs::metadata(&args.to)?.len();
    manifest.digest.print();
    eprintln!(
        "Backed up {} object versions and {} to {} ({:.1} MB) in {:.1} s{}.",
        manifest.digest.object_versions(),
        log_size(&manifest.digest),
        args.to.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        if args.without_key {
            "; the identity key is not in it: keep node.key for `comity restore --key`"
        } else {
            "; it holds the node's identity key: keep it as secret as node.key"
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn log_size(digest: &NodeDigest) -> String {
    match digest.parts.iter().find(|p| p.part == "transparency-log") {
        Some(p) => format!("{} log entries", p.count),
        None => "no log".into(),
    }
}

/// Runs `comity restore`.
pub async fn run_restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let dir = &args.data_dir;
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        anyhow::bail!(
            "{} is not empty: restore into a new or empty data directory",
            dir.display()
        );
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let work = work_dir_beside(&dir.join(DATABASE_FILE))?;
    let copy = work.path().join(DATABASE_FILE);
    let bar = watch_progress(
        copy.clone(),
        std::fs::metadata(&args.from)
            .with_context(|| format!("cannot read {}", args.from.display()))?
            .len(),
        "reading",
    );
    let copied = std::fs::copy(&args.from, &copy);
    bar.finish_and_clear();
    copied.with_context(|| format!("cannot read {}", args.from.display()))?;
    let mut notes = backup::take_notes(&copy)?.with_context(|| {
        format!(
            "{} is not a backup made by `comity backup`",
            args.from.display()
        )
    })?;
    let manifest: Manifest = serde_json::from_slice(
        &notes
            .remove(MANIFEST)
            .context("the backup has no manifest")?,
    )
    .context("the backup's manifest is unreadable")?;
    let key = match (notes.remove(KEY), &args.key) {
        (_, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        (Some(text), None) => String::from_utf8(text).context("the backup's key is not text")?,
        (None, None) => {
            anyhow::bail!("this backup was made --without-key: give the node's key file with --key")
        }
    };
    let key = Signer::parse(key.trim()).map_err(|e| anyhow::anyhow!("not a node key: {e}"))?;
    if manifest.schema > SqliteStore::schema_version() {
        anyhow::bail!(
            "the backup has schema version {}, newer than this build's {}; restore it with a newer comity",
            manifest.schema,
            SqliteStore::schema_version()
        );
    }
    let staged = work.path().join(ATTACHMENTS_DIR);
    let restored = backup::take_files(&copy, |name| {
        attachment_of(name).map(|_| work.path().join(name))
    })
    .context("reading the attachment files")?;
    let store = SqliteStore::open(work.path())?;
    let got = NodeDigest::of(&store).await?;
    eprintln!(
        "Checking the restored store against the backup taken {}:",
        manifest.taken
    );
    if !NodeDigest::compare(&manifest.digest, &got) {
        eprintln!(
            "error: the backup's contents differ from its manifest (see above); nothing restored"
        );
        return Ok(ExitCode::from(1));
    }
    let restored: Vec<String> = restored
        .iter()
        .filter_map(|name| attachment_of(name).map(str::to_owned))
        .collect();
    if restored != manifest.attachments {
        eprintln!(
            "error: the backup holds {} attachment files where its manifest lists {}; nothing restored",
            restored.len(),
            manifest.attachments.len()
        );
        return Ok(ExitCode::from(1));
    }
    let checked = Attachments::new(&staged);
    for sha256 in &restored {
        if let Err(e) = checked.verify(&store, sha256).await {
            eprintln!("error: attachment {sha256} does not verify ({e}); nothing restored");
            return Ok(ExitCode::from(1));
        }
    }
    if !restored.is_empty() {
        eprintln!("{} attachment files verified.", restored.len());
    }
    drop(store);
    std::fs::rename(&copy, dir.join(DATABASE_FILE))?;
    if staged.exists() {
        std::fs::rename(&staged, dir.join(ATTACHMENTS_DIR))?;
    }
    if let Some(config) = notes.remove(CONFIG) {
        std::fs::write(dir.join(CONFIG_FILE), config)?;
    }
    let key_file = FileConfig::load(dir)?
        .node_key_file
        .unwrap_or_else(|| KEY_FILE.into());
    write_node_key(&dir.join(key_file), &key)?;
    eprintln!(
        "Restored {} object versions and {} into {}: serve it with `comity serve --data-dir {}`.",
        got.object_versions(),
        log_size(&got),
        dir.display(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
