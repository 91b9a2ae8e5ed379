//! `comity member …`: the federation as this node sees it, its own record and the peer
//! members it pins. The same domain services back the node API at `/api/v1/`.

use std::process::ExitCode;

use anyhow::Context;
use comity_node::member_file::MemberFile;
use comity_node::policy::MemberStatus;
use comity_node::registry::{Directory, Member, MemberRecord, MemberRole, NewMember};
use comity_node::Node;

use crate::config::DataDir;

/// The facts of a member record, as flags.
#[derive(clap::Args, Clone)]
pub struct MemberFacts {
    /// The organisation's name, e.g. "CERT-FR".
    #[arg(long)]
    pub name: String,
    /// ISO 3166-1 alpha-2 country code, e.g. FR.
    #[arg(long)]
    pub country: String,
    /// cert, police, judicial or central-authority (repeat for several).
    #[arg(long = "role", value_name = "ROLE", required = true)]
    pub roles: Vec<MemberRole>,
    /// Its node's base URL, e.g. https://cti.cert.example.gov
    #[arg(long)]
    pub endpoint: Option<String>,
    /// How to reach the organisation (e-mail, phone of the 24/7 point of contact).
    #[arg(long)]
    pub contact: Option<String>,
}

/// Subcommands of `comity member`.
#[derive(clap::Subcommand)]
pub enum MemberCommand {
    /// Register a peer member with its pinned public key (committed to the log): from the
    /// file its node wrote (`comity member show-local --out FILE`), or from every fact by
    /// hand, its identity id included.
    Add {
        /// The peer's signed member record file: pinned exactly (id, key, endpoint, roles,
        /// country) once its signature verifies.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "country", "roles", "endpoint", "contact", "public_key", "encryption_key", "id"], required_unless_present = "name")]
        from: Option<std::path::PathBuf>,
        #[command(flatten)]
        facts: Option<MemberFacts>,
        /// Its node's public key as `comity member show-local` prints it (ed25519:…).
        #[arg(long, requires = "name")]
        public_key: Option<String>,
        /// Its node's encryption key as `comity member show-local` prints it (x25519:…):
        /// without it nothing sealed (objects, sightings, requests, attachments,
        /// governance) is sent to the member.
        #[arg(long, requires = "name")]
        encryption_key: Option<String>,
        /// Its STIX identity id (identity--…), as its own node shows it: without it the
        /// peer's envelopes are not recognised as its own.
        #[arg(long, requires = "name")]
        id: Option<String>,
        /// Allow a plain http:// endpoint off loopback for this member (refused otherwise):
        /// what is sent to it crosses the network unencrypted. Logged with a warning.
        #[arg(long)]
        allow_plain_http: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Replace a peer's pinned record with a newer one from the file its node wrote
    /// (`comity member show-local --out FILE`): taken only when signed by the key pinned
    /// for that member and modified after the pinned record (committed to the log). This
    /// is how this node learns a peer's new endpoint, or the encryption key a peer
    /// upgraded from an earlier build now publishes.
    Update {
        /// The peer's signed member record file.
        #[arg(long, value_name = "FILE")]
        from: std::path::PathBuf,
        /// Allow a plain http:// endpoint off loopback for this member (refused otherwise,
        /// unless allowed before for the same endpoint). Logged with a warning.
        #[arg(long)]
        allow_plain_http: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Remove a member registered by mistake, with the envelopes waiting in its outbox
    /// (committed to the log). Refused while an agreement that is not terminated names it
    /// or any agreement holds its signature.
    Remove {
        /// Member id (identity--…).
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// List members: id, status, country, roles, name.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Print one member's record as JSON.
    Show {
        /// Member id (identity--…).
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Print this node's own record as JSON: what peers need to register it.
    ShowLocal {
        /// Write the record, signed with this node's key, to FILE instead: the file peers
        /// pin with `comity member add --from FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Replace this node's own name, country, roles, endpoint and contact.
    SetLocal {
        #[command(flatten)]
        facts: MemberFacts,
        #[command(flatten)]
        data: DataDir,
    },
    /// Suspend a member: from now on it receives nothing.
    Suspend {
        /// Member id.
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Reinstate a suspended member.
    Reinstate {
        /// Member id.
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
}

fn facts_into(
    facts: MemberFacts,
    public_key: String,
    encryption_key: Option<String>,
    id: Option<String>,
) -> NewMember {
    NewMember {
        name: facts.name,
        country: facts.country,
        roles: facts.roles.into_iter().collect(),
        public_key,
        encryption_key,
        endpoint: facts.endpoint,
        contact: facts.contact,
        identity_id: id,
    }
}

fn member_line(m: &Member) -> String {
    let roles: Vec<&str> = m.record.roles.iter().map(|r| r.as_str()).collect();
    let who = if m.record.local { " (this node)" } else { "" };
    format!(
        "{}\t{}\t{}\t{}\t{}{who}",
        m.id,
        m.status.as_str(),
        m.record.country,
        roles.join(","),
        m.name()
    )
}

/// The record in the signed member record file `file`, its signature checked.
fn read_member_file(file: &std::path::Path) -> anyhow::Result<MemberRecord> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    MemberFile::read(&text).with_context(|| file.display().to_string())
}

/// Warns when the admin allows `record`'s plain `http://` endpoint off loopback.
fn warn_plain_http(record: &MemberRecord) {
    let plain = record
        .endpoint
        .as_deref()
        .is_some_and(comity_node::registry::plain_http_off_loopback);
    if record.allow_plain_http && plain {
        eprintln!(
            "Warning: plain http:// allowed for this member: what this node sends it \
             crosses the network unencrypted."
        );
    }
}

/// Prints `v` as pretty JSON on standard output.
pub(crate) fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Creates this node's own member record (at `comity init`).
pub(crate) async fn create_local(node: &Node, facts: MemberFacts) -> anyhow::Result<Member> {
    let public_key = node.log().node_key().public_key().to_string();
    // The registry puts this node's own encryption key in its record.
    let record = facts_into(facts, public_key, None, None).into_record(true)?;
    Ok(node.registry().add_member(record).await?)
}

/// Runs `comity member …`.
pub async fn run(command: MemberCommand) -> anyhow::Result<ExitCode> {
    match command {
        MemberCommand::Add {
            from,
            facts,
            public_key,
            encryption_key,
            id,
            allow_plain_http,
            data,
        } => {
            let mut record = match (from, facts, public_key) {
                (Some(file), _, _) => read_member_file(&file)?,
                (None, Some(facts), Some(key)) => {
                    facts_into(facts, key, encryption_key, id).into_record(false)?
                }
                _ => {
                    anyhow::bail!("give --from FILE, or --name, --country, --role and --public-key")
                }
            };
            record.allow_plain_http = allow_plain_http;
            warn_plain_http(&record);
            let node = data.open_node()?;
            let m = node.registry().add_member(record).await?;
            eprintln!(
                "Registered member {} ({}), key {}; confirm the key with them.",
                m.id,
                m.name(),
                m.record.public_key
            );
            println!("{}", m.id);
        }
        MemberCommand::Update {
            from,
            allow_plain_http,
            data,
        } => {
            let mut record = read_member_file(&from)?;
            record.allow_plain_http = allow_plain_http;
            warn_plain_http(&record);
            let node = data.open_node()?;
            let m = node.registry().update_member(record).await?;
            eprintln!(
                "Updated member {} ({}): record modified at {}, key {}.",
                m.id,
                m.name(),
                m.record.identity["modified"].as_str().unwrap_or_default(),
                m.record.public_key
            );
        }
        MemberCommand::Remove { id, data } => {
            let node = data.open_node()?;
            let (m, dropped) = node.registry().remove_member(&id).await?;
            eprintln!(
                "Removed member {} ({}) and {dropped} envelope(s) waiting for it.",
                m.id,
                m.name()
            );
        }
        MemberCommand::List { data } => {
            let store = data.open_store()?;
            for m in Directory::new(store.as_ref()).members().await? {
                println!("{}", member_line(&m));
            }
        }
        MemberCommand::Show { id, data } => {
            let store = data.open_store()?;
            let m = Directory::new(store.as_ref())
                .member(&id)
                .await?
                .with_context(|| format!("no member {id} is registered"))?;
            print_json(&m.record)?;
        }
        MemberCommand::ShowLocal { out, data } => {
            let store = data.open_store()?;
            let m = Directory::new(store.as_ref())
                .local_member()
                .await?
                .context(
                    "this node has no member record; set one with `comity member set-local`",
                )?;
            match out {
                None => print_json(&m.record)?,
                Some(path) => {
                    let log = crate::cmd::log::node_log(&data.data_dir)?;
                    let file = MemberFile::sign(&m.record, log.node_key())?;
                    std::fs::write(&path, serde_json::to_string_pretty(&file)? + "\n")
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!(
                        "Wrote the signed member record of {} ({}), key {}, to {}; peers pin it \
                         with `comity member add --from {}`.",
                        m.id,
                        m.name(),
                        m.record.public_key,
                        path.display(),
                        path.display()
                    );
                }
            }
        }
        MemberCommand::SetLocal { facts, data } => {
            let node = data.open_node()?;
            let registry = node.registry();
            let public_key = node.log().node_key().public_key().to_string();
            let m = match registry.local_member().await? {
                Some(current) => {
                    let id = current.id.0.clone();
                    let record = facts_into(facts, public_key, None, Some(id)).into_record(true)?;
                    registry.update_local(record).await?
                }
                None => create_local(&node, facts).await?,
            };
            eprintln!("This node is member {} ({}).", m.id, m.name());
        }
        MemberCommand::Suspend { id, data } => {
            set_member(&data, &id, MemberStatus::Suspended).await?;
        }
        MemberCommand::Reinstate { id, data } => {
            set_member(&data, &id, MemberStatus::Active).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn set_member(data: &DataDir, id: &str, status: MemberStatus) -> anyhow::Result<()> {
    let node = data.open_node()?;
    let m = node.registry().set_member_status(id, status).await?;
    eprintln!(
        "Member {} ({}) is now {}.",
        m.id,
        m.name(),
        m.status.as_str()
    );
    Ok(())
}
