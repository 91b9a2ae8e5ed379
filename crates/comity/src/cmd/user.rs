//! `comity user …`: local users, their roles and passwords.

use std::io::BufRead;
use std::process::ExitCode;

use comity_node::admin;
use comity_store::Role;

use crate::config::DataDir;

/// Subcommands of `comity user`.
#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Add a local user. The password comes from COMITY_USER_PASSWORD, or from the first
    /// line of standard input.
    Add {
        /// Login name.
        name: String,
        /// viewer (reads), analyst (reads and writes intelligence), liaison, or admin.
        #[arg(long, default_value = "analyst")]
        role: Role,
        #[command(flatten)]
        data: DataDir,
    },
    /// List local users and their roles.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Change a user's role.
    SetRole {
        /// Login name.
        name: String,
        /// viewer, analyst, liaison or admin.
        role: Role,
        #[command(flatten)]
        data: DataDir,
    },
    /// Change a user's password (from COMITY_USER_PASSWORD or standard input).
    Passwd {
        /// Login name.
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
}

fn password_from_env_or_stdin() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("COMITY_USER_PASSWORD") {
        if !p.is_empty() {
            return Ok(p);
        }
    }
    eprintln!("Password (one line on standard input):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    admin::check_password(&password)?;
    Ok(password)
}

/// Runs `comity user …`.
pub async fn run(command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add { name, role, data } => {
            let node = data.open_node()?;
            admin::add_user(&node, &name, role, &password_from_env_or_stdin()?).await?;
            eprintln!("Added user {name:?} with role {}.", role.as_str());
        }
        UserCommand::List { data } => {
            for u in data.open_store()?.users().await? {
                println!("{}\t{}", u.name, u.role.as_str());
            }
        }
        UserCommand::SetRole { name, role, data } => {
            admin::set_role(&data.open_node()?, &name, role).await?;
            eprintln!("User {name:?} is now {}.", role.as_str());
        }
        UserCommand::Passwd { name, data } => {
            let node = data.open_node()?;
            admin::set_password(&node, &name, &password_from_env_or_stdin()?).await?;
            eprintln!("Changed the password of {name:?}.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
