//! `comity token …`: API tokens for users (Bearer authentication) and for peer members
//! reading their views.

use std::process::ExitCode;

use anyhow::Context;
use comity_node::registry::Directory;
use comity_node::tokens;
use comity_stix::clock::now_us;

use crate::config::DataDir;

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

/// Runs `comity token …`.
pub async fn run(command: TokenCommand) -> anyhow::Result<ExitCode> {
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
