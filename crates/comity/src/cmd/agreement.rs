//! `comity agreement …`: the sharing agreements this node proposes, signs, imports and
//! ends. The same domain services back the node API at `/api/v1/`.

use std::collections::{BTreeSet, HashMap};
use std::process::ExitCode;

use anyhow::Context;
use comity_node::federation::agreement as agreements;
use comity_node::policy::AgreementStatus;
use comity_node::registry::{
    AgreementDocument, AgreementDraft, Directory, ScopeDocument, SignedAgreement,
};
use comity_store::Store;

use crate::cmd::member::print_json;
use crate::config::DataDir;

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
    let status = a.state();
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
        "state": a.state(),
        "signature_revoked": a.revoked,
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
pub async fn run(command: AgreementCommand) -> anyhow::Result<ExitCode> {
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
