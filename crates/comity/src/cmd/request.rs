//! `comity request …`: cooperation requests between members, for a liaison officer or an
//! admin of this node (`--officer`, a local user with one of those roles; the name goes
//! into the signed events). Works while `comity serve` runs: what is made here is queued
//! for the other party and sent by the running node. The same workflow backs
//! `/api/v1/requests`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use comity_node::node::Node;
use comity_node::requests::{
    self, Act, Attachment, Details, NewRequest, RefusalReason, Request, RequestKind, State,
};
use comity_store::Role;

use crate::config::DataDir;

/// Subcommands of `comity request`.
#[derive(clap::Subcommand)]
pub enum RequestCommand {
    /// Write a new request as a draft (nothing leaves until `transition ID submit`). The
    /// document is JSON: `authority` {name, contact, time_zone, office_hours, channel},
    /// `legal_basis` {instrument, article, domestic_law}, `summary`, `offence`,
    /// `case_numbers`, `handling`, `details` {the kind's own fields}; submitting names any
    /// field that is missing, with the article that requires it.
    New {
        /// assistance, preservation, disclosure, production or mla.
        #[arg(long)]
        kind: RequestKind,
        /// The requested member's id (identity--…; `comity member list`).
        #[arg(long)]
        to: String,
        /// An emergency (an imminent risk to life or safety): deadlines in hours; the
        /// document must give `emergency_justification`.
        #[arg(long)]
        emergency: bool,
        /// The document, a JSON file; `-` for standard input.
        #[arg(long)]
        document: PathBuf,
        #[command(flatten)]
        who: Officer,
    },
    /// List requests, most recently updated first: id, kind, state, partner, due, flags.
    List {
        /// Only those with this member on the other side.
        #[arg(long)]
        partner: Option<String>,
        /// Only this kind.
        #[arg(long)]
        kind: Option<RequestKind>,
        /// Only this state (submitted, under_review, refused, …).
        #[arg(long)]
        state: Option<State>,
        /// Only those whose answer is overdue.
        #[arg(long)]
        overdue: bool,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: Officer,
    },
    /// Response times per partner, kind and side: requests, open, overdue, refused, and the
    /// median time to acknowledge, to decide and to execute (from the signed histories).
    Stats {
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: Officer,
    },
    /// Show one request with its signed history (opening it on the requested side records
    /// the signed retrieval receipt the requester receives).
    Show {
        /// Request id (request--…).
        id: String,
        /// Print JSON instead (every event with its signature and hash).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: Officer,
    },
    /// Make an act: submit, acknowledge, review, request_info, supply_info, accept,
    /// accept_with_conditions, accept_conditions, postpone, resume, refuse, execute,
    /// execute_partially, complete, close, preserve, extend, link, lapse, release, withdraw.
    /// `show` lists the acts allowed now.
    Transition {
        /// Request id.
        id: String,
        /// The act.
        act: Act,
        /// Free text: why, what is asked or supplied.
        #[arg(long)]
        note: Option<String>,
        /// refuse: essential_interests, political_offence, dual_criminality, immunity,
        /// fundamental_rights, ne_bis_in_idem, incomplete, data_not_held, impossible, other.
        #[arg(long)]
        reason: Option<String>,
        /// accept_with_conditions: the conditions.
        #[arg(long)]
        conditions: Option<String>,
        /// preserve, extend: until when (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// link: the request that follows the preservation.
        #[arg(long)]
        link: Option<String>,
        /// A file delivered or supplied (repeat): stored on this node (encrypted, resuming an
        /// earlier interrupted attempt), listed by name, SHA-256 and size in the signed event,
        /// and sent to the other party after it.
        #[arg(long = "attach", value_name = "FILE")]
        attach: Vec<PathBuf>,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: Officer,
    },
    /// Store files as attachments of a request on this node (encrypted at rest; an
    /// interrupted attempt resumes) and print how an act lists them: name, SHA-256, size.
    /// `transition --attach FILE` does this itself.
    Attach {
        /// Request id.
        id: String,
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        who: Officer,
    },
    /// Write the bytes of an attachment listed in a request's history to a file, once
    /// checked at rest against its SHA-256 (nothing is written when the check fails).
    Attachment {
        /// Request id.
        id: String,
        /// The attachment's SHA-256.
        sha256: String,
        /// Where to write it (must not exist).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        who: Officer,
    },
    /// Write the request's court file: the request, every signed event as signed, the two
    /// members' keys, and for each event this node's log entry with its opening and an
    /// inclusion proof against a signed checkpoint. `comity request verify` checks it
    /// offline with nothing but this node's log key (`comity log key`).
    ///
    /// With `--format pdf`, the same file printed for a court: every field with its label
    /// (and the article that requires it), deadlines in UTC and in both parties' time
    /// zones, the history, the attachments' SHA-256, each event's signature and signer key,
    /// and the log inclusion proofs; every page's footer gives its number and the SHA-256 of
    /// the JSON court file, which is embedded in the PDF as court-file.json (`pdfdetach
    /// -saveall` extracts it for `comity request verify`). The fonts come from the system
    /// (Debian: fonts-noto-core, fonts-dejavu-core, and fonts-noto-cjk for Chinese,
    /// Japanese or Korean text); a missing one is named with its package.
    ///
    /// Example: comity request export request--… --format pdf --out court-file.pdf
    Export {
        /// Request id.
        id: String,
        /// Where to write it (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// json (machine-verifiable) or pdf (printable, the JSON embedded).
        #[arg(long, value_enum, default_value_t = FileFormat::Json)]
        format: FileFormat,
        #[command(flatten)]
        who: Officer,
    },
    /// Check a court file offline: the chain of events, every signature, and that the log
    /// whose key is in KEYFILE committed to each event as filed. Exit 0 when all hold.
    Verify {
        /// The court file `comity request export` wrote.
        file: PathBuf,
        /// A file with the log's verifier key (`comity log key` prints it), one a line.
        #[arg(long)]
        key: PathBuf,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
    },
}

/// The forms of a court file.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    /// The machine-verifiable JSON file.
    Json,
    /// The printable PDF, with the JSON file embedded.
    Pdf,
}

/// Who acts, and on which node.
#[derive(clap::Args)]
pub struct Officer {
    /// The local user making the act: a liaison officer or an admin.
    #[arg(long, env = "COMITY_OFFICER")]
    officer: String,
    #[command(flatten)]
    data: DataDir,
}

impl Officer {
    /// The node, once the officer is known to be a liaison officer or an admin of it.
    async fn open(&self) -> anyhow::Result<Node> {
        let node = self.data.open_node()?;
        let user = node
            .store()
            .user(&self.officer)
            .await?
            .with_context(|| format!("no local user {:?}", self.officer))?;
        if !matches!(user.role, Role::Liaison | Role::Admin) {
            bail!(
                "user {:?} is {}; cooperation requests are for liaison officers and admins",
                self.officer,
                user.role.as_str()
            );
        }
        Ok(node)
    }
}

/// Runs `comity request …`.
pub async fn run(command: RequestCommand) -> anyhow::Result<ExitCode> {
    match command {
        RequestCommand::New {
            kind,
            to,
            emergency,
            document,
            who,
        } => {
            let node = who.open().await?;
            let text = if document.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&document)
                    .with_context(|| format!("reading {}", document.display()))?
            };
            let document = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", document.display()))?;
            let new = NewRequest {
                kind,
                to,
                emergency,
                document,
            };
            let made = requests::draft(&node, &who.officer, new).await?;
            println!("{}", made.id);
            eprintln!(
                "drafted; send it with: comity request transition {} submit",
                made.id
            );
        }
        RequestCommand::List {
            partner,
            kind,
            state,
            overdue,
            limit,
            json,
            who,
        } => {
            let node = who.open().await?;
            let query = requests::Query {
                partner,
                kind,
                state,
                overdue,
                limit,
            };
            let found = requests::list(&node, &query).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&found)?);
            } else {
                for r in &found {
                    println!("{}", line(r));
                }
            }
        }
        RequestCommand::Stats { json, who } => {
            let node = who.open().await?;
            let figures = requests::statistics(&node).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&figures)?);
            } else {
                println!("partner\tkind\tside\trequests\topen\toverdue\trefused\tto acknowledge\tto decide\tto execute");
                for f in &figures {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        f.partner,
                        f.kind,
                        match f.side {
                            requests::Side::Requester => "requester",
                            requests::Side::Requested => "requested",
                        },
                        f.requests,
                        f.open,
                        f.overdue,
                        f.refused,
                        duration(f.to_acknowledge),
                        duration(f.to_decide),
                        duration(f.to_execute)
                    );
                }
            }
        }
        RequestCommand::Show { id, json, who } => {
            let node = who.open().await?;
            let r = requests::open(&node, &who.officer, &id).await?;
            print(&r, json)?;
        }
        RequestCommand::Transition {
            id,
            act,
            note,
            reason,
            conditions,
            until,
            link,
            attach,
            json,
            who,
        } => {
            let node = who.open().await?;
            let reason = reason
                .map(|r| serde_json::from_value::<RefusalReason>(serde_json::Value::String(r)))
                .transpose()
                .map_err(|_| {
                    anyhow::anyhow!(
                        "unknown reason: expected one of {}",
                        RefusalReason::ALL.join(", ")
                    )
                })?;
            let mut attachments = Vec::new();
            for path in &attach {
                attachments.push(store_file(&node, &id, path).await?);
            }
            let details = Details {
                note,
                reason,
                conditions,
                until,
                link,
                attachments,
                ..Details::default()
            };
            let r = requests::act(&node, &who.officer, &id, act, details).await?;
            print(&r, json)?;
        }
        RequestCommand::Attach {
            id,
            files,
            json,
            who,
        } => {
            let node = who.open().await?;
            let mut stored = Vec::new();
            for path in &files {
                stored.push(store_file(&node, &id, path).await?);
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&stored)?);
            } else {
                for a in &stored {
                    println!("{}  {}  {}", a.sha256, a.size, a.name);
                }
            }
        }
        RequestCommand::Export {
            id,
            out,
            format,
            who,
        } => {
            let node = who.open().await?;
            let (text, what) = match format {
                FileFormat::Json => {
                    let file = requests::court_file::court_file(&node, &who.officer, &id).await?;
                    let what = format!(
                        "the court file of {id}, {} events with their log proofs",
                        file.events.len()
                    );
                    (file.to_json(), what)
                }
                FileFormat::Pdf => (
                    requests::court_pdf::court_pdf(&node, &who.officer, &id).await?,
                    format!("the court file of {id}, printed (the JSON file embedded)"),
                ),
            };
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            std::io::Write::write_all(
                &mut options
                    .open(&out)
                    .with_context(|| format!("cannot create {}", out.display()))?,
                &text,
            )?;
            eprintln!("{}: {what}", out.display());
        }
        RequestCommand::Verify { file, key, json } => {
            let policy = crate::cmd::log::trust_policy(&key)?;
            let text =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let filed: requests::court_file::CourtFile = serde_json::from_slice(&text)
                .with_context(|| format!("{} is not a court file", file.display()))?;
            match requests::court_file::verify(&filed, &policy) {
                Ok(events) if json => println!("{}", serde_json::to_string_pretty(&events)?),
                Ok(events) => {
                    for e in &events {
                        println!(
                            "{}\t{}\t{}\t{}\tlog entry {} (checkpoint of size {})",
                            e.n, e.act, e.by, e.at, e.log_index, e.checkpoint_size
                        );
                    }
                    println!(
                        "OK: {} events of {}, each signed by its member and committed to by the log {}.",
                        events.len(),
                        filed.request.get("id").and_then(|v| v.as_str()).unwrap_or("?"),
                        filed.log_origin
                    );
                }
                Err(e) => {
                    eprintln!("verification failed: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        RequestCommand::Attachment {
            id,
            sha256,
            out,
            who,
        } => {
            let node = who.open().await?;
            let (listed, mut reader) = requests::attachment(&node, &id, &sha256).await?;
            let dir = out
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let mut part = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot write in {}", dir.display()))?;
            while let Some(piece) = reader.next_segment()? {
                std::io::Write::write_all(&mut part, &piece)?;
            }
            part.as_file().sync_all()?;
            part.persist_noclobber(&out)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {}", out.display(), e.error))?;
            eprintln!(
                "{}: {} bytes, SHA-256 {} checked ({})",
                out.display(),
                listed.size,
                listed.sha256,
                listed.name
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Stores the file at `path` as an attachment of request `id` on `node`, going on from the
/// bytes held already when an earlier attempt stopped; returns how an act lists it.
async fn store_file(node: &Node, id: &str, path: &PathBuf) -> anyhow::Result<Attachment> {
    use std::io::{Read, Seek, SeekFrom};
    let listed = attachment(path)?;
    let kept = node
        .attachments()
        .context("this node keeps no attachment bytes")?;
    let mut offset = match kept.progress(&listed.sha256)? {
        Some(p) if p.size == listed.size => p.held,
        _ => 0,
    };
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    file.seek(SeekFrom::Start(offset))?;
    let mut chunk = vec![0u8; requests::attachments::MAX_CHUNK];
    loop {
        let mut n = 0;
        while n < chunk.len() {
            let got = file.read(&mut chunk[n..])?;
            if got == 0 {
                break;
            }
            n += got;
        }
        let p = requests::upload(node, id, &listed.sha256, listed.size, offset, &chunk[..n])
            .await
            .with_context(|| format!("storing {}", path.display()))?;
        if p.complete {
            return Ok(listed);
        }
        if n == 0 {
            bail!("{} changed while it was stored", path.display());
        }
        offset = p.held;
    }
}

/// A file listed by name, SHA-256 and size, read in a stream.
fn attachment(path: &PathBuf) -> anyhow::Result<Attachment> {
    use sha2::{Digest, Sha256};
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} has no usable file name", path.display()))?;
    Ok(Attachment {
        name: name.to_owned(),
        sha256: hex::encode(hasher.finalize()),
        size,
    })
}

fn line(r: &Request) -> String {
    let partner = match r.side {
        requests::Side::Requester => format!("to {}", r.requested),
        requests::Side::Requested => format!("from {}", r.requester),
    };
    let mut flags = Vec::new();
    if r.emergency {
        flags.push("EMERGENCY");
    }
    if r.overdue {
        flags.push("OVERDUE");
    }
    format!(
        "{}\t{}\t{}\t{partner}\tdue {}\t{}",
        r.id,
        r.kind,
        r.state,
        r.due.as_deref().unwrap_or("-"),
        flags.join(",")
    )
}

fn print(r: &Request, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(r)?);
        return Ok(());
    }
    println!("{}", line(r));
    println!("updated {}; created {}", r.updated, r.created);
    let allowed: Vec<&str> = r.allowed.iter().map(Act::as_str).collect();
    println!(
        "allowed now: {}",
        if allowed.is_empty() {
            "nothing".to_owned()
        } else {
            allowed.join(", ")
        }
    );
    println!("document:\n{}", serde_json::to_string_pretty(&r.document)?);
    println!("history:");
    for h in &r.history {
        let e = &h.event;
        let details = if e.details.is_empty() {
            String::new()
        } else {
            format!(" {}", serde_json::to_string(&e.details)?)
        };
        println!(
            "  {:>3} {} {} by {} ({}) -> {}{details}  sha256 {}",
            e.n, e.at, e.act, e.by, e.officer, e.state, h.sha256
        );
    }
    Ok(())
}

/// A median in seconds as people read it: `-`, `45s`, `3h12m`, `2d4h`.
fn duration(seconds: Option<i64>) -> String {
    match seconds {
        None => "-".to_owned(),
        Some(s) if s < 60 => format!("{s}s"),
        Some(s) if s < 3600 => format!("{}m", s / 60),
        Some(s) if s < 86_400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        Some(s) => format!("{}d{}h", s / 86_400, s % 86_400 / 3600),
    }
}
