//! `comity key …`: rotating this node's identity key, revoking a former one, and the key
//! history its peers verify. The statements are made by the node core
//! ([`comity_node::identity::rotation`]); this module handles the key file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use comity_node::federation::seal::OpeningKey;
use comity_node::identity::rotation::KeyHistory;
use comity_node::identity::NodeKey;
use comity_stix::clock::{format_us, now_us, parse_us};
use comity_tlog::note::{KeyKind, Signer};

use crate::cmd::log::{key_from_env, key_path, node_key, write_node_key, KEY_ENV};
use crate::config::DataDir;

/// `comity key …` subcommands.
#[derive(clap::Subcommand)]
pub enum KeyCommand {
    /// Replace this node's identity key (and the encryption key derived from it) with a
    /// new one. The rotation statement is signed by the old key and the new one; the node's
    /// record names the new keys; the old key file is kept beside the new one as
    /// `<key file>.retired-<time>`. Restart `comity serve` afterwards: until then it sends
    /// nothing; once restarted it announces the statement to every peer before anything
    /// else, and signs, seals and cosigns with the new key under the same log origin.
    Rotate {
        #[command(flatten)]
        data: DataDir,
    },
    /// Revoke a former identity key of this node from a time on (when a compromise
    /// began): peers that take the statement, signed by the current key, count nothing
    /// more that key signed.
    Revoke {
        /// The former key, `ed25519:<base64>` (as `comity key history` prints it).
        key: String,
        /// From when (RFC 3339, e.g. 2026-12-01T00:00:00Z); now when absent.
        #[arg(long)]
        from: Option<String>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Make a new identity key for a governance decision to pin (when a thief of this
    /// node's key rotated first, so that peers accept nothing this node signs): written
    /// beside the key file as `<key file>.next`, its identity key and encryption key
    /// printed for the other members, who table a `revoke_member_key` proposal with them.
    /// Once the decision is executed (`comity key history` names the key), move the file
    /// in place of the key file and restart `comity serve`.
    Prepare {
        #[command(flatten)]
        data: DataDir,
    },
    /// Print this node's key, its former keys and its key statements (JSON with --json).
    History {
        /// Print the statements as JSON, as peers receive them.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
}

/// Runs a `comity key` subcommand.
pub async fn run(command: KeyCommand) -> anyhow::Result<std::process::ExitCode> {
    dispatch(command).await?;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn dispatch(command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Rotate { data } => rotate(&data).await,
        KeyCommand::Prepare { data } => prepare(&data),
        KeyCommand::Revoke { key, from, data } => {
            let node = data.open_node()?;
            let now = now_us();
            let from = match from {
                Some(text) => parse_us(&text).with_context(|| {
                    format!("--from {text:?} is not an RFC 3339 time (e.g. 2026-12-01T00:00:00Z)")
                })?,
                None => now,
            };
            node.registry().revoke_local_key(&key, from, now).await?;
            println!("Revoked {key} from {}.", format_us(from));
            eprintln!(
                "The statement goes to every peer with the next envelopes `comity serve` sends."
            );
            Ok(())
        }
        KeyCommand::History { json, data } => {
            let node = data.open_node()?;
            let local = node
                .directory()
                .local_member()
                .await?
                .context("this node has no member record yet; run `comity init`")?;
            let history = &local.record.key_history;
            if json {
                println!("{}", serde_json::to_string_pretty(history)?);
                return Ok(());
            }
            println!("key\t{}", local.record.public_key);
            for s in history {
                use comity_node::identity::rotation::KeyStatement as S;
                if let S::KeyRotation { old_key, .. } | S::KeyReplacement { old_key, .. } =
                    &s.statement
                {
                    let former = KeyHistory(history)
                        .former(old_key)
                        .expect("a rotated-out key is former");
                    let revoked = former
                        .revoked_from
                        .map(|t| format!("\trevoked from {}", format_us(t)))
                        .unwrap_or_default();
                    println!(
                        "former\t{old_key}\tuntil {}{revoked}",
                        format_us(former.until)
                    );
                }
            }
            Ok(())
        }
    }
}

/// A fresh key under the log origin of the node's key, written to `<key file>.next` (refused
/// when that file exists: an earlier rotation or preparation was not finished). Returns the
/// key file's path, the new key and its file's path.
fn next_key(data: &DataDir) -> anyhow::Result<(PathBuf, Signer, PathBuf)> {
    use rand::RngCore as _;
    if key_from_env().is_some() {
        anyhow::bail!(
            "the node key comes from {KEY_ENV}: rotate it by putting a key file in place \
             instead (unset {KEY_ENV}, set COMITY_NODE_KEY_FILE or node_key_file)"
        );
    }
    let path = key_path(&data.data_dir);
    let next = sibling(&path, "next");
    if next.exists() {
        anyhow::bail!(
            "{} exists: an earlier rotation or preparation was not finished. If `comity key \
             history` names its key as the current one, move it to {}; otherwise delete it, \
             then run this again",
            next.display(),
            path.display()
        );
    }
    let old = node_key(&data.data_dir)?;
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let new = Signer::new(
        old.name(),
        KeyKind::Ed25519,
        ed25519_dalek::SigningKey::from_bytes(&seed),
    )?;
    write_node_key(&next, &new)?;
    Ok((path, new, next))
}

/// `comity key prepare`: the new key is written aside and its public keys printed, one a
/// line (identity, then encryption); nothing is stored or signed.
fn prepare(data: &DataDir) -> anyhow::Result<()> {
    let (path, new, next) = next_key(data)?;
    let key = NodeKey::from_log_signer(&new)?;
    println!("{}", key.public_key());
    println!("{}", OpeningKey::of(&key).public_key());
    eprintln!(
        "A new key is in {} (keep it secret). Give the two keys above to the other members \
         out of band: they table a revoke_member_key proposal with them. Once it is executed \
         here (`comity key history` names the key), move the file to {} and restart \
         `comity serve`.",
        next.display(),
        path.display()
    );
    Ok(())
}

/// `comity key rotate`: a new key file is written beside the old one first, the rotation
/// is stored, then the files are swapped, so an interruption leaves a state the next run
/// names.
async fn rotate(data: &DataDir) -> anyhow::Result<()> {
    let node = data.open_node()?;
    let (path, new, next) = next_key(data)?;
    let old = node_key(&data.data_dir)?;
    let (member, _) = node
        .registry()
        .rotate_local_key(&NodeKey::from_log_signer(&new)?, now_us())
        .await?;
    let retired = sibling(&path, &format!("retired-{}", now_us() / 1_000_000));
    std::fs::rename(&path, &retired)
        .with_context(|| format!("cannot move {} to {}", path.display(), retired.display()))?;
    std::fs::rename(&next, &path)
        .with_context(|| format!("cannot move {} to {}", next.display(), path.display()))?;
    println!("{}", member.record.public_key);
    eprintln!(
        "Rotated the identity key of {} (log origin {} unchanged).\n\
         New key: {}\nThe old key file is kept as {} (keep it secret, or destroy it).\n\
         Restart `comity serve` now: until it restarts it sends nothing; then it announces the \
         rotation to every peer before anything else.",
        member.id,
        old.name(),
        member.record.public_key,
        retired.display()
    );
    Ok(())
}

/// `path` with `.suffix` added to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    path.with_file_name(name)
}
