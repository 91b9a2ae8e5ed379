//! `comity governance …`: proposals decided by one member, one vote, and the norms
//! registry, for the operator of this node (who acts for its member). Works while `comity
//! serve` runs: what is tabled, cast or canceled here is queued for every other active
//! member and sent by the running node, which also counts each proposal at its deadline.
//! The same workflows back `/api/v1/governance`. `audit` asks peers for their signed
//! dossiers over the federation route and recomputes their outcomes here; `catch-up` reads
//! a peer's decided history over the federation route and verifies each item here.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use comity_node::governance::{service, Action, Choice, NewProposal, ProposalView, Rules};
use comity_stix::clock::now_us;

use crate::config::DataDir;

/// Subcommands of `comity governance`.
#[derive(clap::Subcommand)]
pub enum GovernanceCommand {
    /// Table a proposal for this node's member. The action is JSON, e.g. `{"kind":
    /// "adopt_norm", "norm": "gge-2015-13a", "texts": {"en": "…", "fr": "…"}}`; kinds:
    /// admit_member (member, public_key, country), suspend_member, reinstate_member,
    /// expel_member (member), adopt_norm, amend_norm (norm, texts), repeal_norm (norm),
    /// change_rules (rules), joint_statement (texts), revoke_member_key (member,
    /// revoked_from, new_key, encryption_key: the keys the member's `comity key prepare`
    /// printed).
    Propose {
        /// The action, a JSON file; `-` for standard input.
        #[arg(long)]
        action: PathBuf,
        /// A member sponsoring it (repeat).
        #[arg(long = "sponsor", value_name = "MEMBER")]
        sponsors: Vec<String>,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Cast this node's member's ballot (a later one replaces it until the deadline).
    Vote {
        /// Proposal id (proposal--…).
        id: String,
        /// yes, no or abstain.
        choice: Choice,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Cancel a proposal this node's member tabled, while it is pending (before voting
    /// opens); every node then holds it canceled.
    Cancel {
        /// Proposal id.
        id: String,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Audit proposals at peers: ask each for its signed dossier (the signed proposal, the
    /// ballots it received, the outcome it counted), recompute the outcome from its ballots
    /// and compare with what it claims and with what this node holds. Prints, per peer,
    /// agree or disagree with the evidence; exits 1 when a peer disagrees or cannot be
    /// audited.
    Audit {
        /// Proposal id; every proposal held here when omitted.
        id: Option<String>,
        /// A member to audit (repeat); every other active member with an endpoint when
        /// omitted.
        #[arg(long = "peer", value_name = "MEMBER")]
        peers: Vec<String>,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Catch up with the history decided since the genesis, for a node that joins later:
    /// read the first peer's decided proposals in order (compared item by item with the
    /// other peers named), verify each against the member set and rules derived here
    /// (signatures, tabling, the count from the signed ballots) and apply it as executing
    /// it would. Stops at the first item that does not verify, saying why, and exits 1;
    /// what was applied before stays. Running it again applies nothing new.
    CatchUp {
        /// The peer to read (repeat to compare with others: their items must agree).
        #[arg(long = "from", value_name = "MEMBER", required = true)]
        from: Vec<String>,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// List proposals, newest first: id, kind, state, deadline.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Show one proposal with its outcome (provisional until counted at the deadline).
    Show {
        /// Proposal id.
        id: String,
        /// Print JSON instead (every ballot counted or refused with its reason).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// The norms registry: every version of every adopted norm.
    Norms {
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Found a federation: draft, sign, adopt or show a genesis document (the founders,
    /// the rules and the first norms, signed by every founder).
    #[command(subcommand)]
    Genesis(super::genesis::GenesisCommand),
    /// The rules in force; with `--set FILE`, the rules this node starts with (before any
    /// proposal; every member must start with the same rules). Later rules change only by
    /// a proposal.
    Rules {
        /// The first rules, a JSON file.
        #[arg(long)]
        set: Option<PathBuf>,
        #[command(flatten)]
        data: DataDir,
    },
}

fn read(path: &PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        Ok(std::io::read_to_string(std::io::stdin())?)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}

fn line(p: &ProposalView) -> String {
    format!(
        "{}\t{}\t{}\t{}",
        p.proposal.id,
        p.proposal.kind(),
        serde_json::to_value(p.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        p.deadline
    )
}

fn print(p: &ProposalView, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(p)?);
        return Ok(());
    }
    println!("{}", line(p));
    if let Some(o) = &p.outcome {
        let status = if p.counted { "final" } else { "provisional" };
        println!(
            "{status}: yes {} no {} abstain {}; quorum {}/{} {}; majority {} {}; digest {}",
            o.yes,
            o.no,
            o.abstain,
            o.toward_quorum,
            o.quorum_needed,
            if o.quorum_met { "met" } else { "not met" },
            o.majority,
            if o.majority_met { "met" } else { "not met" },
            o.digest
        );
        for r in &o.refused {
            println!(
                "refused {} ({}): {}",
                r.sha256,
                r.member.as_deref().unwrap_or("unreadable"),
                r.reason
            );
        }
    }
    if let Some(why) = &p.not_executed {
        println!("not executed: {why}");
    }
    Ok(())
}

pub async fn run(command: GovernanceCommand) -> anyhow::Result<ExitCode> {
    match command {
        GovernanceCommand::Propose {
            action,
            sponsors,
            json,
            data,
        } => {
            let node = data.open_node()?;
            let text = read(&action)?;
            let action: Action = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a proposal's action", action.display()))?;
            let new = NewProposal {
                action,
                sponsors: sponsors.into_iter().collect::<BTreeSet<_>>(),
            };
            let made = service::propose(&node, new, now_us()).await?;
            print(&made, json)?;
        }
        GovernanceCommand::Vote {
            id,
            choice,
            json,
            data,
        } => {
            let node = data.open_node()?;
            let shown = service::vote(&node, &id, choice, now_us()).await?;
            print(&shown, json)?;
        }
        GovernanceCommand::Cancel { id, json, data } => {
            let node = data.open_node()?;
            let shown = service::cancel(&node, &id, now_us()).await?;
            print(&shown, json)?;
        }
        GovernanceCommand::Audit {
            id,
            peers,
            json,
            data,
        } => return super::governance_audit::run(id, peers, json, &data).await,
        GovernanceCommand::CatchUp { from, json, data } => {
            return super::governance_catch_up::run(from, json, &data).await
        }
        GovernanceCommand::List { limit, json, data } => {
            let node = data.open_node()?;
            let now = now_us();
            service::count_due(node.store(), now).await?;
            let found = service::list(node.store(), now, limit).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&found)?);
            } else {
                for p in &found {
                    println!("{}", line(p));
                }
            }
        }
        GovernanceCommand::Show { id, json, data } => {
            let node = data.open_node()?;
            let now = now_us();
            service::count_due(node.store(), now).await?;
            print(&service::show(node.store(), &id, now).await?, json)?;
        }
        GovernanceCommand::Norms { json, data } => {
            let node = data.open_node()?;
            service::count_due(node.store(), now_us()).await?;
            let norms = service::norms(node.store()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&norms)?);
            } else {
                for n in &norms {
                    let state = if n.repealed { "repealed" } else { "in force" };
                    println!(
                        "{} v{}\t{state}\t{}\t{}",
                        n.norm, n.version, n.proposal, n.at
                    );
                    if let Some(texts) = n.texts.as_object() {
                        for (language, text) in texts {
                            println!("  [{language}] {}", text.as_str().unwrap_or_default());
                        }
                    }
                }
            }
        }
        GovernanceCommand::Genesis(command) => super::genesis::run(command).await?,
        GovernanceCommand::Rules { set, data } => {
            let node = data.open_node()?;
            if let Some(path) = set {
                let rules: Rules = serde_json::from_str(&read(&path)?)
                    .with_context(|| format!("{} is not valid rules", path.display()))?;
                service::set_initial_rules(&node, &rules, now_us()).await?;
                eprintln!("rules set");
            }
            let rules = service::rules_in_force(node.store()).await?;
            println!("{}", serde_json::to_string_pretty(&rules)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
