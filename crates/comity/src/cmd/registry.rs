//! `comity member …`, `comity agreement …` and `comity token …`: the federation as this
//! node sees it, the agreements it signs, and API tokens. The same domain services back
//! the node API at `/api/v1/`.

use std::collections::{BTreeSet, HashMap};
use std::process::ExitCode;

use anyhow::Context;
use comity_node::federation::agreement as agreements;
use comity_node::member_file::MemberFile;
use comity_node::policy::{AgreementStatus, MemberStatus};
use comity_node::registry::{
    AgreementDocument, AgreementDraft, Directory, Member, MemberRole, NewMember, ScopeDocument,
    SignedAgreement,
};
use comity_node::tokens;
use comity_node::Node;
use comity_stix::clock::now_us;
use comity_store::Store;

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
        #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "country", "roles", "endpoint", "contact", "public_key", "id"], required_unless_present = "name")]
        from: Option<std::path::PathBuf>,
        #[command(flatten)]
        facts: Option<MemberFacts>,
        /// Its node's public key as `comity member show-local` prints it (ed25519:…).
        #[arg(long, requires = "name")]
        public_key: Option<String>,
        /// Its STIX identity id (identity--…), as its own node shows it: without it the
        /// peer's envelopes are not recognised as its own.
        #[arg(long, requires = "name")]
        id: Option<String>,
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

/// Subcommands of `comity agreement`.
#[derive(clap::Subcommand)]
pub enum AgreementCommand {
    /// Propose an agreement to one or more members: this node signs its terms and sends
    /// them to the other parties, each of which signs it in turn (`comity agreement sign`).
    /// It is in force on a node once that node holds every party's signature.
    Create {
        /// A title people recognise.
        #[arg(long)]
        title: String,
        /// A party besides this node (repeat for a multilateral agreement).
        #[arg(long = "with", value_name = "MEMBER", required = true)]
        partners: Vec<String>,
        /// STIX object types it covers (repeat, or comma-separate).
        #[arg(
            long = "type",
            value_name = "TYPE",
            value_delimiter = ',',
            required = true
        )]
        types: Vec<String>,
        /// The most restrictive TLP level that may flow: clear, green, amber, amber+strict, red.
        #[arg(long, default_value = "green")]
        max_tlp: String,
        /// Handling codes the parties undertake to honour: H0, H1, H2, H3 (repeat).
        #[arg(long = "handling", value_name = "CODE", value_delimiter = ',')]
        handling: Vec<String>,
        /// Purposes: intelligence, police-cooperation, judicial-assistance (repeat).
        #[arg(
            long = "purpose",
            value_name = "PURPOSE",
            value_delimiter = ',',
            default_value = "intelligence"
        )]
        purposes: Vec<String>,
        /// In force from (RFC 3339) [default: now].
        #[arg(long)]
        from: Option<String>,
        /// In force until, exclusive (RFC 3339) [default: no end].
        #[arg(long)]
        until: Option<String>,
        /// Send nothing: the other parties get the document out of band (`comity agreement
        /// show ID > FILE` here, `comity agreement import FILE` there).
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Sign a proposed agreement this node is party to (committed to the log) and send the
    /// signed document to the other parties.
    Sign {
        /// Agreement id (agreement--…).
        id: String,
        /// Send nothing: hand the signed document (`comity agreement show ID`) to the other
        /// parties out of band.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Take in an agreement document received out of band (as `comity agreement show`
    /// prints it), checked exactly as one received from a party: its signatures are added to
    /// any held. Nothing is signed for this node.
    Import {
        /// The document, JSON; `-` for standard input.
        file: std::path::PathBuf,
        #[command(flatten)]
        data: DataDir,
    },
    /// List agreements: id, status, signatures held and who still has to sign, parties (by
    /// member name), scope, title.
    List {
        /// Print JSON instead, with member ids: id, title, status, parties, signed, missing,
        /// scope.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Print one agreement document with its signatures as JSON (which `comity agreement
    /// import` takes); the status and the missing signatures go to standard error.
    Show {
        /// Agreement id (agreement--…).
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Put an agreement on hold: nothing flows under it until it is reinstated.
    Suspend {
        /// Agreement id.
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Put a suspended agreement back in force.
    Reinstate {
        /// Agreement id.
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// End an agreement for good: this party withdraws (or declines a proposal), and the
    /// other parties' nodes are told, which ends it there too.
    Terminate {
        /// Agreement id.
        id: String,
        /// Tell nobody: the other parties end their copies themselves.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        data: DataDir,
    },
}

/// Subcommands of `comity token`.
#[derive(clap::Subcommand)]
pub enum TokenCommand {
    /// Create an API token (shown once) for a user, or for a peer member to read its views.
    Create {
        /// The user it belongs to (for --member: the admin issuing it).
        #[arg(long, default_value = "admin")]
        user: String,
        /// What it is for, e.g. "MISP sync".
        #[arg(long)]
        label: String,
        /// Days until it expires (1 to 366).
        #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=366))]
        expires_in_days: u32,
        /// Issue it to this peer member (identity--…) instead of the user.
        #[arg(long)]
        member: Option<String>,
        #[command(flatten)]
        data: DataDir,
    },
    /// List tokens (never their secrets): id, user or member, label, expiry, revocation.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Revoke a token by its id (or the whole token).
    Revoke {
        /// Token id.
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
}

fn facts_into(facts: MemberFacts, public_key: String, id: Option<String>) -> NewMember {
    NewMember {
        name: facts.name,
        country: facts.country,
        roles: facts.roles.into_iter().collect(),
        public_key,
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

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Creates this node's own member record (at `comity init`).
pub async fn create_local(node: &Node, facts: MemberFacts) -> anyhow::Result<Member> {
    let public_key = node.log().node_key().public_key().to_string();
    let record = facts_into(facts, public_key, None).into_record(true)?;
    Ok(node.registry().add_member(record).await?)
}

/// Runs `comity member …`.
pub async fn member(command: MemberCommand) -> anyhow::Result<ExitCode> {
    match command {
        MemberCommand::Add {
            from,
            facts,
            public_key,
            id,
            data,
        } => {
            let record = match (from, facts, public_key) {
                (Some(file), _, _) => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("cannot read {}", file.display()))?;
                    MemberFile::read(&text).with_context(|| file.display().to_string())?
                }
                (None, Some(facts), Some(key)) => facts_into(facts, key, id).into_record(false)?,
                _ => {
                    anyhow::bail!("give --from FILE, or --name, --country, --role and --public-key")
                }
            };
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
                    let record = facts_into(facts, public_key, Some(id)).into_record(true)?;
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

/// Member names by id, for showing agreements as people read them.
struct Names(HashMap<String, String>);

impl Names {
    async fn of(store: &dyn Store) -> anyhow::Result<Names> {
        let members = Directory::new(store).members().await?;
        Ok(Names(
            members
                .iter()
                .map(|m| {
                    let who = if m.record.local {
                        format!("{} (this node)", m.name())
                    } else {
                        m.name().to_owned()
                    };
                    (m.id.0.clone(), who)
                })
                .collect(),
        ))
    }

    /// The names of `ids` (an id no member has is shown as it is), comma-separated.
    fn list<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> String {
        let names: Vec<&str> = ids
            .into_iter()
            .map(|id| self.0.get(id).map_or(id.as_str(), String::as_str))
            .collect();
        names.join(", ")
    }
}

fn agreement_line(a: &SignedAgreement, names: &Names) -> String {
    let d = &a.document;
    let status = a.terms.status.as_str();
    let types: Vec<&str> = d.scope.object_types.iter().map(String::as_str).collect();
    let missing = d.missing();
    let signed = if missing.is_empty() {
        format!("signed {}/{}", d.parties.len(), d.parties.len())
    } else {
        format!(
            "signed {}/{} (missing {})",
            d.parties.len() - missing.len(),
            d.parties.len(),
            names.list(&missing)
        )
    };
    format!(
        "{}\t{status}\t{signed}\t{}\tmax TLP:{}\t{}\t{}",
        d.id,
        names.list(&d.parties),
        d.scope.max_tlp.to_ascii_uppercase(),
        types.join(","),
        d.title
    )
}

/// An agreement for `agreement list --json`: ids, not names.
fn agreement_json(a: &SignedAgreement) -> serde_json::Value {
    let d = &a.document;
    let signed: Vec<&str> = d.signatures.iter().map(|s| s.member.as_str()).collect();
    serde_json::json!({
        "id": d.id,
        "title": d.title,
        "status": a.terms.status.as_str(),
        "parties": d.parties,
        "signed": signed,
        "missing": d.missing(),
        "scope": d.scope,
    })
}

/// Prints an agreement's summary line on standard error.
async fn report(store: &dyn Store, a: &SignedAgreement) -> anyhow::Result<()> {
    eprintln!("{}", agreement_line(a, &Names::of(store).await?));
    Ok(())
}

/// Runs `comity agreement …`.
pub async fn agreement(command: AgreementCommand) -> anyhow::Result<ExitCode> {
    let (data, change) = match command {
        AgreementCommand::Create {
            title,
            partners,
            types,
            max_tlp,
            handling,
            purposes,
            from,
            until,
            offline,
            data,
        } => {
            let node = data.open_node()?;
            let draft = AgreementDraft {
                title,
                partners: partners.into_iter().collect(),
                scope: ScopeDocument {
                    object_types: types.into_iter().collect(),
                    max_tlp: max_tlp.to_ascii_lowercase(),
                    handling: handling
                        .into_iter()
                        .map(|h| h.to_ascii_uppercase())
                        .collect(),
                    purposes: purposes.into_iter().collect::<BTreeSet<_>>(),
                },
                valid_from: from,
                valid_until: until,
            };
            let a = agreements::propose(&node.registry(), draft, node.log().node_key(), !offline)
                .await?;
            let next = if offline {
                "hand it to them with `comity agreement show`"
            } else {
                "sent to them"
            };
            eprintln!(
                "Proposed and signed agreement {} ({}); it awaits the signatures of {} ({next}).",
                a.document.id,
                a.document.title,
                Names::of(node.store()).await?.list(&a.document.missing())
            );
            println!("{}", a.document.id);
            return Ok(ExitCode::SUCCESS);
        }
        AgreementCommand::Sign { id, offline, data } => {
            let node = data.open_node()?;
            let a =
                agreements::sign(&node.registry(), &id, node.log().node_key(), !offline).await?;
            eprintln!("Signed agreement {}.", a.document.id);
            report(node.store(), &a).await?;
            return Ok(ExitCode::SUCCESS);
        }
        AgreementCommand::Import { file, data } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
            };
            let document: AgreementDocument = serde_json::from_str(&text)
                .with_context(|| format!("{} is not an agreement document", file.display()))?;
            let node = data.open_node()?;
            let merged = node.registry().merge_agreement(document, None).await?;
            eprintln!(
                "Agreement {}: {} new signature(s).",
                merged.agreement.document.id,
                merged.added.len()
            );
            report(node.store(), &merged.agreement).await?;
            println!("{}", merged.agreement.document.id);
            return Ok(ExitCode::SUCCESS);
        }
        AgreementCommand::List { json, data } => {
            let store = data.open_store()?;
            let agreements = Directory::new(store.as_ref()).agreements().await?;
            if json {
                print_json(&agreements.iter().map(agreement_json).collect::<Vec<_>>())?;
            } else {
                let names = Names::of(store.as_ref()).await?;
                for a in &agreements {
                    println!("{}", agreement_line(a, &names));
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        AgreementCommand::Show { id, data } => {
            let store = data.open_store()?;
            let a = Directory::new(store.as_ref())
                .agreement(&id)
                .await?
                .with_context(|| format!("no agreement {id}"))?;
            report(store.as_ref(), &a).await?;
            print_json(&a.document)?;
            return Ok(ExitCode::SUCCESS);
        }
        AgreementCommand::Suspend { id, data } => (data, (id, AgreementStatus::Suspended, false)),
        AgreementCommand::Reinstate { id, data } => (data, (id, AgreementStatus::Active, false)),
        AgreementCommand::Terminate { id, offline, data } => {
            (data, (id, AgreementStatus::Terminated, !offline))
        }
    };
    let (id, status, send) = change;
    let node = data.open_node()?;
    let a = agreements::set_status(&node.registry(), &id, status, send).await?;
    report(node.store(), &a).await?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `comity token …`.
pub async fn token(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create {
            user,
            label,
            expires_in_days,
            member,
            data,
        } => {
            let node = data.open_node()?;
            node.store()
                .user(&user)
                .await?
                .with_context(|| format!("no user {user:?}"))?;
            if let Some(m) = &member {
                let known = Directory::new(node.store()).member(m).await?;
                if known.is_none_or(|k| k.record.local) {
                    anyhow::bail!("{m:?} is not a registered peer member");
                }
            }
            let expires = now_us() + i64::from(expires_in_days) * 86_400_000_000;
            let issued = tokens::issue(&node, &user, &label, member, Some(expires)).await?;
            eprintln!(
                "Created token {} ({label}); it is shown once and expires in {expires_in_days} days. \
                 Use it as `Authorization: Bearer <token>`.",
                issued.token.id
            );
            println!("{}", issued.secret);
        }
        TokenCommand::List { data } => {
            let store = data.open_store()?;
            let now = now_us();
            for t in store.tokens().await? {
                let holder = t
                    .member
                    .as_deref()
                    .map_or_else(|| format!("user:{}", t.user), |m| format!("member:{m}"));
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(at), _) => format!("revoked {}", comity_stix::clock::format_us(at)),
                    (None, Some(at)) if at <= now => {
                        format!("expired {}", comity_stix::clock::format_us(at))
                    }
                    (None, Some(at)) => {
                        format!("expires {}", comity_stix::clock::format_us(at))
                    }
                    (None, None) => "never expires".into(),
                };
                println!("{}\t{holder}\t{state}\t{}", t.id, t.label);
            }
        }
        TokenCommand::Revoke { id, data } => {
            let node = data.open_node()?;
            let id = tokens::id_of(&id).to_owned();
            if tokens::revoke(&node, &id).await? {
                eprintln!("Revoked token {id}.");
            } else {
                eprintln!("Token {id} was revoked already.");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
