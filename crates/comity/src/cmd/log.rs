//! `comity log …`: the node's transparency log from the command line (its key, checkpoint,
//! entries and proofs, offline verification, trusting and auditing peer logs), and the
//! node identity key file that signs it. Never prints or logs the private key.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;

use anyhow::{bail, Context};
use comity_node::log::NodeLog;
use comity_node::Node;
use comity_store::{Store, TrustedLog};
use comity_tlog::checkpoint::Checkpoint;
use comity_tlog::entry::{Entry, LogEntry, Opening, OBJECT_ACCEPTED};
use comity_tlog::note::{KeyKind, Note, Signer, Verifier};
use comity_tlog::offline::{TlogProof, TrustPolicy};
use comity_tlog::proof::consistency_proof;
use comity_tlog::tiles::{Tile, TileHashReader, TileKind, TileSource};
use comity_tlog::tree::{tree_hash, TreeError};
use comity_tlog::witness::{AddCheckpoint, WitnessError};
use comity_tlog::Hash;
use sha2::{Digest, Sha256};

use crate::config::DataDir;

/// Name of the node identity key file inside the data directory.
pub const KEY_FILE: &str = "node.key";
/// Environment variable naming a key file to use instead of `<data dir>/node.key`.
pub const KEY_FILE_ENV: &str = "COMITY_NODE_KEY_FILE";
/// Environment variable holding the key itself (for secret stores that inject variables).
pub const KEY_ENV: &str = "COMITY_NODE_KEY";

pub(crate) fn key_from_env() -> Option<String> {
    std::env::var(KEY_ENV).ok().filter(|k| !k.trim().is_empty())
}

/// `comity log …` subcommands.
#[derive(clap::Subcommand)]
pub enum LogCommand {
    /// Print the node's log verifier key (a C2SP / sumdb/note verifier key string).
    Key {
        #[command(flatten)]
        data: DataDir,
    },
    /// Print the latest signed checkpoint, signing one first if the log has grown.
    Checkpoint {
        #[command(flatten)]
        data: DataDir,
    },
    /// Write the raw bytes of entry N (whose leaf hash is in the tree) to standard output.
    Entry {
        /// Zero-based entry index.
        index: u64,
        /// Print the act in the clear instead, as JSON (`actor`, `kind`, `sha256`,
        /// `subject`, `time`): a version 2 entry opened with the opening kept for it.
        #[arg(long)]
        reveal: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Print a c2sp.org/tlog-proof@v1 proof of entry N against the latest checkpoint.
    Prove {
        /// Zero-based entry index.
        index: u64,
        #[command(flatten)]
        data: DataDir,
    },
    /// Verify a proof offline: exit 0 when ENTRY is in the log signed by the key in KEYFILE.
    Verify {
        /// File holding the log's verifier key (and optionally witness keys), one a line.
        #[arg(long)]
        key: PathBuf,
        /// The tlog-proof file.
        proof: PathBuf,
        /// The raw entry file.
        entry: PathBuf,
    },
    /// Verify offline that the STIX object in OBJECT is committed to by an entry of the log
    /// signed by the key in KEYFILE: COMMITMENTS is the JSON answer of
    /// `GET /log/objects/{root}/{collection}/{object}/` (entries, openings and proofs).
    /// Exit 0 when one entry's opening names exactly this object and its proof verifies.
    VerifyObject {
        /// File holding the log's verifier key (and optionally witness keys), one a line.
        #[arg(long)]
        key: PathBuf,
        /// The commitments file.
        commitments: PathBuf,
        /// The STIX object, as read from the node.
        object: PathBuf,
    },
    /// Trust a peer log for auditing and witnessing: its origin and verifier key.
    Trust {
        /// The peer log's origin line.
        origin: String,
        /// Its verifier key string.
        vkey: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Fetch a peer's checkpoint, check it is consistent with the last one seen, cosign
    /// it; on a fork print both signed checkpoints as evidence and exit 1.
    Audit {
        /// The peer node's base URL, e.g. https://user:password@peer.example:8425 (its
        /// certificate verified against the system's roots and `[tls] peer_ca_files`).
        url: String,
        #[command(flatten)]
        data: DataDir,
    },
}

/// Where the key lives: `COMITY_NODE_KEY_FILE`, else `node_key_file` in `comity.toml`
/// (relative to the data directory), else `<data dir>/node.key`.
pub(crate) fn key_path(data_dir: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os(KEY_FILE_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let configured = crate::config::FileConfig::load(data_dir)
        .ok()
        .and_then(|c| c.node_key_file);
    match configured {
        Some(p) => data_dir.join(p),
        None => data_dir.join(KEY_FILE),
    }
}

/// Creates the node identity key in the data directory (mode 0600) with a fresh origin
/// `comity/<random id>`, unless a key exists there or one is named by the environment.
pub fn create_node_key(data_dir: &Path) -> anyhow::Result<()> {
    use rand::RngCore as _;
    let path = key_path(data_dir);
    if path.exists() || key_from_env().is_some() {
        return Ok(());
    }
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let mut id = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let origin = format!("comity/{}", hex::encode(id));
    let signer = Signer::new(
        &origin,
        KeyKind::Ed25519,
        ed25519_dalek::SigningKey::from_bytes(&seed),
    )?;
    match write_node_key(&path, &signer) {
        Ok(()) => {
            eprintln!(
                "Created the node identity key {} (log origin {origin}).",
                path.display()
            );
            Ok(())
        }
        // Another process created it first: use theirs.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::AlreadyExists) =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Loads the node's identity key: `COMITY_NODE_KEY`, else the file of [`key_path`].
pub fn node_key(data_dir: &Path) -> anyhow::Result<Signer> {
    if let Some(text) = key_from_env() {
        return Signer::parse(text.trim())
            .map_err(|e| anyhow::anyhow!("{KEY_ENV} does not hold a node key: {e}"));
    }
    let path = key_path(data_dir);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read the node identity key {}; `comity init` creates it",
            path.display()
        )
    })?;
    Signer::parse(text.trim())
        .map_err(|e| anyhow::anyhow!("{} is not a node key: {e}", path.display()))
}

/// The node's transparency log, signed with its identity key ([`node_key`]).
pub fn node_log(data_dir: &Path) -> anyhow::Result<NodeLog> {
    Ok(NodeLog::new(node_key(data_dir)?)?)
}

/// Writes `signer` as the key file `path` (mode 0600); fails if the file exists.
pub fn write_node_key(path: &Path, signer: &Signer) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{}", signer.to_secret_string())?;
    file.sync_all()?;
    Ok(())
}

/// Commits the configuration file when it differs from the one committed last (its hash
/// is kept in the data directory).
pub async fn record_config(data_dir: &Path, node: &Node) -> anyhow::Result<()> {
    let config = data_dir.join(crate::config::CONFIG_FILE);
    let Ok(bytes) = std::fs::read(&config) else {
        return Ok(());
    };
    let digest = hex::encode(Sha256::digest(&bytes));
    let seen = data_dir.join("log-config.sha256");
    if std::fs::read_to_string(&seen).is_ok_and(|s| s.trim() == digest) {
        return Ok(());
    }
    comity_node::admin::record_config(node, crate::config::CONFIG_FILE, &bytes).await?;
    std::fs::write(&seen, format!("{digest}\n"))?;
    Ok(())
}

/// Runs `comity log …`.
pub async fn run(command: LogCommand) -> anyhow::Result<ExitCode> {
    match command {
        LogCommand::Key { data } => {
            println!("{}", node_log(&data.data_dir)?.verifier());
        }
        LogCommand::Checkpoint { data } => {
            let (store, log) = open(&data)?;
            print!("{}", log.checkpoint(store.as_ref()).await?.note);
        }
        LogCommand::Entry {
            index,
            reveal,
            data,
        } => {
            let (store, _) = open(&data)?;
            let end = index.checked_add(1).context("index too large")?;
            let log = store.transparency_log();
            let entry = log
                .log_entries(index, end)
                .await?
                .pop()
                .context("no such entry")?;
            if reveal {
                let opening = log.openings_between(index, end).await?.pop();
                println!("{}", revealed(&entry, opening.map(|o| o.opening))?);
            } else {
                std::io::stdout().write_all(&entry)?;
            }
        }
        LogCommand::Prove { index, data } => {
            let (store, log) = open(&data)?;
            print!("{}", log.prove(store.as_ref(), index).await?);
        }
        LogCommand::Verify { key, proof, entry } => return verify(&key, &proof, &entry),
        LogCommand::VerifyObject {
            key,
            commitments,
            object,
        } => return verify_object(&key, &commitments, &object),
        LogCommand::Trust { origin, vkey, data } => {
            let verifier = Verifier::parse(&vkey)?;
            if verifier.kind() != KeyKind::Ed25519 {
                bail!(
                    "a log key must be an Ed25519 note key, not {}",
                    verifier.kind()
                );
            }
            let store = data.open_store()?;
            store
                .transparency_log()
                .trust_log(TrustedLog {
                    origin: origin.clone(),
                    verifier_key: vkey,
                })
                .await?;
            eprintln!("Trusting the log {origin} with key {}.", verifier.name());
        }
        LogCommand::Audit { url, data } => return audit(&url, &data).await,
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn open(data: &DataDir) -> anyhow::Result<(std::sync::Arc<dyn Store>, NodeLog)> {
    let log = node_log(&data.data_dir)?;
    Ok((data.open_store()?, log))
}

/// The trust policy of a key file: the log's Ed25519 key (its name is the origin) and any
/// witness keys, one a line.
pub fn trust_policy(key: &Path) -> anyhow::Result<TrustPolicy> {
    let keys =
        std::fs::read_to_string(key).with_context(|| format!("cannot read {}", key.display()))?;
    let keys: Vec<Verifier> = keys
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(Verifier::parse)
        .collect::<Result<_, _>>()
        .context("the key file must hold verifier key strings, one a line")?;
    let (log_keys, witnesses): (Vec<Verifier>, Vec<Verifier>) =
        keys.into_iter().partition(|k| k.kind() == KeyKind::Ed25519);
    let origin = log_keys
        .first()
        .context("the key file holds no Ed25519 log key")?
        .name()
        .to_owned();
    Ok(TrustPolicy {
        origin,
        log_keys,
        witnesses,
        min_cosignatures: 0,
    })
}

fn verify(key: &Path, proof: &Path, entry: &Path) -> anyhow::Result<ExitCode> {
    let policy = trust_policy(key)?;
    let proof = std::fs::read(proof).with_context(|| format!("cannot read {}", proof.display()))?;
    let entry = std::fs::read(entry).with_context(|| format!("cannot read {}", entry.display()))?;
    let parsed = TlogProof::parse(&proof)?;
    match parsed.verify(&Hash::leaf(&entry), &policy) {
        Ok(cp) => {
            println!(
                "OK: entry {} is in the log {} of size {}.",
                parsed.index, cp.origin, cp.size
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("verification failed: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// One commitment of `GET /log/objects/…`.
#[derive(serde::Deserialize)]
struct ObjectCommitment {
    index: u64,
    entry: String,
    /// Absent for a version 1 entry, which names its subject in the clear.
    opening: Option<String>,
    proof: String,
}

/// The commitments file: `{"commitments":[…]}`.
#[derive(serde::Deserialize)]
struct ObjectCommitments {
    commitments: Vec<ObjectCommitment>,
}

/// Checks one commitment: the proof puts the entry in the log, and the entry (through its
/// opening, for version 2) accepted exactly `subject` with content hash `sha256`.
fn check_commitment(
    c: &ObjectCommitment,
    policy: &TrustPolicy,
    subject: &str,
    sha256: &[u8; 32],
) -> anyhow::Result<(LogEntry, Checkpoint)> {
    let proof = TlogProof::parse(c.proof.as_bytes())?;
    if proof.index != c.index {
        bail!("its proof is for entry {}", proof.index);
    }
    let checkpoint = proof.verify(&Hash::leaf(c.entry.as_bytes()), policy)?;
    let opening = c
        .opening
        .as_deref()
        .map(|o| Opening::decode(o.as_bytes()))
        .transpose()
        .context("its opening is malformed")?;
    let act = Entry::decode(c.entry.as_bytes())?.reveal(opening.as_ref())?;
    if act.kind != OBJECT_ACCEPTED {
        bail!("it is a {} entry, not {OBJECT_ACCEPTED}", act.kind);
    }
    if act.subject != subject {
        bail!("it commits to {}, not {subject}", act.subject);
    }
    if &act.sha256 != sha256 {
        bail!(
            "it commits to content with SHA-256 {}, not this object's {}",
            hex::encode(act.sha256),
            hex::encode(sha256)
        );
    }
    Ok((act, checkpoint))
}

fn verify_object(key: &Path, commitments: &Path, object: &Path) -> anyhow::Result<ExitCode> {
    let policy = trust_policy(key)?;
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    let commitments: ObjectCommitments = serde_json::from_slice(&read(commitments)?)
        .context("the commitments file is not the JSON of GET /log/objects/…")?;
    let object: serde_json::Value =
        serde_json::from_slice(&read(object)?).context("the object file is not JSON")?;
    let id = object
        .get("id")
        .and_then(serde_json::Value::as_str)
        .context("the object has no string id")?;
    let subject = match comity_stix::version_key(&object) {
        Some(version) => format!("{id}@{version}"),
        None => id.to_owned(),
    };
    let sha256: [u8; 32] = Sha256::digest(comity_stix::canonical_json(&object)).into();
    let mut failures = Vec::new();
    for c in &commitments.commitments {
        match check_commitment(c, &policy, &subject, &sha256) {
            Ok((act, cp)) => {
                println!(
                    "OK: {subject} is committed to by entry {} of the log {} of size {} (originator {}).",
                    c.index, cp.origin, cp.size, act.actor
                );
                return Ok(ExitCode::SUCCESS);
            }
            Err(e) => failures.push(format!("entry {}: {e:#}", c.index)),
        }
    }
    eprintln!("verification failed: no entry commits to {subject}");
    for f in failures {
        eprintln!("  {f}");
    }
    Ok(ExitCode::FAILURE)
}

/// The act of `entry` in the clear, as JSON, opened with `opening` for version 2.
fn revealed(entry: &[u8], opening: Option<Vec<u8>>) -> anyhow::Result<serde_json::Value> {
    let opening = opening
        .map(|o| Opening::decode(&o))
        .transpose()
        .context("the opening kept for this entry is malformed")?;
    let act = Entry::decode(entry)?.reveal(opening.as_ref())?;
    Ok(serde_json::json!({
        "actor": act.actor,
        "kind": act.kind,
        "sha256": hex::encode(act.sha256),
        "subject": act.subject,
        "time": act.time,
    }))
}

/// A peer node's log over HTTP.
struct Peer {
    client: reqwest::Client,
    base: reqwest::Url,
    credentials: Option<(String, String)>,
}

impl Peer {
    /// The peer at `url`, its certificate verified against the system's roots and the CAs
    /// `[tls] peer_ca_files` of the node in `data_dir` names; the node's client certificate
    /// (`[tls] client_cert_file`) presented when the peer asks for one.
    fn new(url: &str, data_dir: &Path) -> anyhow::Result<Peer> {
        let file = crate::config::FileConfig::load(data_dir)?;
        let tls = crate::config::TlsArgs::default().settings(file.tls.as_ref(), data_dir)?;
        let client = comity_server::tls::client(
            &tls.peer_roots()?,
            tls.client_identity()?.map(|s| s.current()).as_deref(),
            std::time::Duration::from_secs(60),
        )?;
        let mut base = reqwest::Url::parse(url).with_context(|| format!("bad URL {url}"))?;
        let credentials = (!base.username().is_empty()).then(|| {
            (
                base.username().to_owned(),
                base.password().unwrap_or_default().to_owned(),
            )
        });
        let _ = base.set_username("");
        let _ = base.set_password(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Peer {
            client,
            base,
            credentials,
        })
    }

    async fn get(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let url = self.base.join(path)?;
        let mut req = self.client.get(url.clone());
        if let Some((user, password)) = &self.credentials {
            req = req.basic_auth(user, Some(password));
        }
        let resp = req.send().await.with_context(|| format!("GET {url}"))?;
        if !resp.status().is_success() {
            bail!("GET {url}: {}", resp.status());
        }
        Ok(resp.bytes().await?.to_vec())
    }
}

/// Records which tiles a computation reads, answering zeroes of the right length.
#[derive(Clone, Default)]
struct TileRecorder(Rc<RefCell<Vec<Tile>>>);

impl TileSource for TileRecorder {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TreeError> {
        self.0.borrow_mut().extend_from_slice(tiles);
        Ok(tiles
            .iter()
            .map(|t| vec![0; usize::from(t.width) * 32])
            .collect())
    }
}

struct FetchedTiles(HashMap<Tile, Vec<u8>>);

impl TileSource for FetchedTiles {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TreeError> {
        tiles
            .iter()
            .map(|t| {
                self.0
                    .get(t)
                    .cloned()
                    .ok_or(TreeError::MissingHash { index: t.index })
            })
            .collect()
    }
}

/// The peer's root of `size` and the consistency proof from `old`, computed from its tiles:
/// which tiles are read depends only on the sizes, so one recording run names them.
async fn proof_from_tiles(peer: &Peer, old: u64, size: u64) -> anyhow::Result<(Hash, Vec<Hash>)> {
    fn compute(
        source: impl TileSource,
        old: u64,
        size: u64,
    ) -> Result<(Hash, Vec<Hash>), TreeError> {
        let reader = TileHashReader::new(size, source)?;
        Ok((
            tree_hash(size, &reader)?,
            consistency_proof(old, size, &reader)?,
        ))
    }
    let recorder = TileRecorder::default();
    compute(recorder.clone(), old, size)?;
    let mut fetched = HashMap::new();
    let mut wanted = recorder.0.take();
    wanted.retain(|t| matches!(t.kind, TileKind::Hashes(_)));
    wanted.sort_by_key(|t| t.path());
    wanted.dedup();
    for tile in wanted {
        let bytes = peer.get(&format!("log/{}", tile.path())).await?;
        fetched.insert(tile, bytes);
    }
    Ok(compute(FetchedTiles(fetched), old, size)?)
}

fn print_fork(origin: &str, earlier: &str, now: &str) {
    println!("FORK: the log {origin} signed two checkpoints that are not consistent.");
    println!("--- checkpoint seen and cosigned earlier ---");
    print!("{earlier}");
    println!("--- checkpoint served now ---");
    print!("{now}");
}

async fn audit(url: &str, data: &DataDir) -> anyhow::Result<ExitCode> {
    let (store, log) = open(data)?;
    let peer = Peer::new(url, &data.data_dir)?;
    let note_bytes = peer.get("log/checkpoint").await?;
    let note_text = String::from_utf8(note_bytes).context("the checkpoint is not UTF-8")?;
    let note = Note::parse(note_text.as_bytes())?;
    let origin = Checkpoint::parse(&note.text)?.origin;
    let local = store.transparency_log();
    let trusted = local
        .trusted_logs()
        .await?
        .into_iter()
        .find(|t| t.origin == origin)
        .with_context(|| {
            format!("the log {origin} is not trusted; add it with `comity log trust {origin} VKEY`")
        })?;
    let key = Verifier::parse(&trusted.verifier_key)?;
    let signed = Checkpoint::open(note_text.as_bytes(), &origin, &[key])
        .with_context(|| format!("the checkpoint of {origin} is not validly signed"))?;
    let size = signed.checkpoint.size;
    let last = local.witnessed(&origin).await?;
    let old = last.as_ref().map_or(0, |w| w.head.size);
    if let Some(earlier) = last.as_ref().filter(|w| w.head.size > size) {
        print_fork(&origin, &earlier.note, &note_text);
        return Ok(ExitCode::FAILURE);
    }
    let (root, proof) = proof_from_tiles(&peer, old, size).await?;
    if root != signed.checkpoint.root {
        bail!("the tiles served by {origin} do not hash to its signed root");
    }
    let body = AddCheckpoint {
        old_size: old,
        proof,
        checkpoint: note_text.clone(),
    }
    .to_body();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    match log
        .add_checkpoint(store.as_ref(), body.as_bytes(), now)
        .await
    {
        Ok(lines) => {
            println!("OK: {origin} at size {size} is consistent with size {old}; cosigned:");
            print!("{lines}");
            Ok(ExitCode::SUCCESS)
        }
        Err(WitnessError::Inconsistent {
            latest: Some(earlier),
            ..
        }) => {
            print_fork(&origin, &earlier.note, &note_text);
            Ok(ExitCode::FAILURE)
        }
        Err(e) => bail!("auditing {origin} failed: {e}"),
    }
}
