//! `comity member …`, `comity agreement …` and `comity token …`: the federation as this
//! node sees it, the agreements it signs, and API tokens. The same domain services back
//! the node API at `/api/v1/`.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::Context;
use comity_node::log::{now_us, NodeLog};
use comity_node::policy::{AgreementStatus, MemberStatus};
use comity_node::registry::{
    AgreementDocument, AgreementDraft, Member, MemberRole, NewMember, Registry, ScopeDocument,
    SignedAgreement,
};
use comity_node::tokens;
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
    /// Register a peer member with its pinned public key (committed to the log).
    Add {
        #[command(flatten)]
        facts: MemberFacts,
        /// Its node's public key as `comity member show-local` prints it (ed25519:…).
        #[arg(long)]
        public_key: String,
        /// Its STIX identity id (identity--…), as its own node shows it.
        #[arg(long)]
        id: Option<String>,
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
    /// List agreements: id, status, signatures held, parties, scope, title.
    List {
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

fn load_log(data: &DataDir, store: &dyn Store) -> anyhow::Result<Option<NodeLog>> {
    if store.transparency_log().is_none() {
        return Ok(None);
    }
    crate::cmd::log::node_log(&data.data_dir).map(Some)
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
pub async fn create_local(
    data: &DataDir,
    store: &dyn Store,
    facts: MemberFacts,
) -> anyhow::Result<Member> {
    let log = crate::cmd::log::node_log(&data.data_dir)?;
    let public_key = log.node_key().public_key().to_string();
    let record = facts_into(facts, public_key, None).into_record(true)?;
    let recorder = store.transparency_log().map(|_| &log);
    Ok(Registry::new(store, recorder).add_member(record).await?)
}

/// Runs `comity member …`.
pub async fn member(command: MemberCommand) -> anyhow::Result<ExitCode> {
    match command {
        MemberCommand::Add {
            facts,
            public_key,
            id,
            data,
        } => {
            let store = data.open_store()?;
            let log = load_log(&data, store.as_ref())?;
            let record = facts_into(facts, public_key, id).into_record(false)?;
            let m = Registry::new(store.as_ref(), log.as_ref())
                .add_member(record)
                .await?;
            eprintln!("Registered member {} ({}).", m.id, m.name());
            println!("{}", m.id);
        }
        MemberCommand::List { data } => {
            let store = data.open_store()?;
            for m in Registry::new(store.as_ref(), None).members().await? {
                println!("{}", member_line(&m));
            }
        }
        MemberCommand::Show { id, data } => {
            let store = data.open_store()?;
            let m = Registry::new(store.as_ref(), None)
                .member(&id)
                .await?
                .with_context(|| format!("no member {id} is registered"))?;
            print_json(&m.record)?;
        }
        MemberCommand::ShowLocal { data } => {
            let store = data.open_store()?;
            let m = Registry::new(store.as_ref(), None)
                .local_member()
                .await?
                .context(
                    "this node has no member record; set one with `comity member set-local`",
                )?;
            print_json(&m.record)?;
        }
        MemberCommand::SetLocal { facts, data } => {
            let store = data.open_store()?;
            let log = crate::cmd::log::node_log(&data.data_dir)?;
            let registry = Registry::new(store.as_ref(), Some(&log));
            let public_key = log.node_key().public_key().to_string();
            let m = match registry.local_member().await? {
                Some(current) => {
                    let id = current.id.0.clone();
                    let record = facts_into(facts, public_key, Some(id)).into_record(true)?;
                    registry.update_local(record).await?
                }
                None => create_local(&data, store.as_ref(), facts).await?,
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
    let store = data.open_store()?;
    let log = load_log(data, store.as_ref())?;
    let m = Registry::new(store.as_ref(), log.as_ref())
        .set_member_status(id, status)
        .await?;
    eprintln!(
        "Member {} ({}) is now {}.",
        m.id,
        m.name(),
        m.status.as_str()
    );
    Ok(())
}

fn agreement_line(a: &SignedAgreement) -> String {
    let d = &a.document;
    let status = a.terms.status.as_str();
    let parties: Vec<&str> = d.parties.iter().map(String::as_str).collect();
    let types: Vec<&str> = d.scope.object_types.iter().map(String::as_str).collect();
    let missing = d.missing();
    let signed = if missing.is_empty() {
        format!("signed {}/{}", d.parties.len(), d.parties.len())
    } else {
        format!(
            "signed {}/{} (missing {})",
            d.parties.len() - missing.len(),
            d.parties.len(),
            missing.join(",")
        )
    };
    format!(
        "{}\t{status}\t{signed}\t{}\tmax TLP:{}\t{}\t{}",
        d.id,
        parties.join(","),
        d.scope.max_tlp.to_ascii_uppercase(),
        types.join(","),
        d.title
    )
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
            let store = data.open_store()?;
            let log = crate::cmd::log::node_log(&data.data_dir)?;
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
            let recorder = store.transparency_log().map(|_| &log);
            let a = Registry::new(store.as_ref(), recorder)
                .create_agreement(draft, log.node_key(), !offline)
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
                a.document.missing().join(", ")
            );
            println!("{}", a.document.id);
            return Ok(ExitCode::SUCCESS);
        }
        AgreementCommand::Sign { id, offline, data } => {
            let store = data.open_store()?;
            let log = crate::cmd::log::node_log(&data.data_dir)?;
            let recorder = store.transparency_log().map(|_| &log);
            let a = Registry::new(store.as_ref(), recorder)
                .sign_agreement(&id, log.node_key(), !offline)
                .await?;
            eprintln!("Signed agreement {}.", a.document.id);
            eprintln!("{}", agreement_line(&a));
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
            let store = data.open_store()?;
            let log = load_log(&data, store.as_ref())?;
            let merged = Registry::new(store.as_ref(), log.as_ref())
                .merge_agreement(document, None)
                .await?;
            eprintln!(
                "Agreement {}: {} new signature(s).",
                merged.agreement.document.id,
                merged.added.len()
            );
            eprintln!("{}", agreement_line(&merged.agreement));
            println!("{}", merged.agreement.document.id);
            return Ok(ExitCode::SUCCESS);
        }
        AgreementCommand::List { data } => {
            let store = data.open_store()?;
            for a in Registry::new(store.as_ref(), None).agreements().await? {
                println!("{}", agreement_line(&a));
            }
            return Ok(ExitCode::SUCCESS);
        }
        AgreementCommand::Show { id, data } => {
            let store = data.open_store()?;
            let a = Registry::new(store.as_ref(), None)
                .agreement(&id)
                .await?
                .with_context(|| format!("no agreement {id}"))?;
            eprintln!("{}", agreement_line(&a));
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
    let store = data.open_store()?;
    let log = load_log(&data, store.as_ref())?;
    let a = Registry::new(store.as_ref(), log.as_ref())
        .set_agreement_status(&id, status, send)
        .await?;
    eprintln!("{}", agreement_line(&a));
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
            let store = data.open_store()?;
            store
                .user(&user)
                .await?
                .with_context(|| format!("no user {user:?}"))?;
            if let Some(m) = &member {
                let known = Registry::new(store.as_ref(), None).member(m).await?;
                if known.is_none_or(|k| k.record.local) {
                    anyhow::bail!("{m:?} is not a registered peer member");
                }
            }
            let log = load_log(&data, store.as_ref())?;
            let expires = now_us() + i64::from(expires_in_days) * 86_400_000_000;
            let issued = tokens::issue(
                store.as_ref(),
                log.as_ref(),
                &user,
                &label,
                member,
                Some(expires),
            )
            .await?;
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
                    (Some(at), _) => format!("revoked {}", comity_server::timefmt::format_us(at)),
                    (None, Some(at)) if at <= now => {
                        format!("expired {}", comity_server::timefmt::format_us(at))
                    }
                    (None, Some(at)) => {
                        format!("expires {}", comity_server::timefmt::format_us(at))
                    }
                    (None, None) => "never expires".into(),
                };
                println!("{}\t{holder}\t{state}\t{}", t.id, t.label);
            }
        }
        TokenCommand::Revoke { id, data } => {
            let store = data.open_store()?;
            let log = load_log(&data, store.as_ref())?;
            let id = tokens::id_of(&id).to_owned();
            if tokens::revoke(store.as_ref(), log.as_ref(), &id).await? {
                eprintln!("Revoked token {id}.");
            } else {
                eprintln!("Token {id} was revoked already.");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
