//! `comity user …` and `comity collection …`: local users and TAXII collections.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context;
use comity_node::registry::Registry;
use comity_node::release::ViewSpec;
use comity_store::{Access, Collection, Role, Store, User};
use comity_tlog::entry::{COLLECTION_CHANGED, USER_CHANGED};

use crate::cmd::node::DEFAULT_API_ROOT;
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

/// Subcommands of `comity collection`.
#[derive(clap::Subcommand)]
pub enum CollectionCommand {
    /// Add a TAXII collection; prints its id.
    Add {
        /// Human title.
        #[arg(long)]
        title: String,
        /// API root to put it in.
        #[arg(long, default_value = DEFAULT_API_ROOT)]
        api_root: String,
        /// Collection UUID [default: a new random one].
        #[arg(long)]
        id: Option<uuid::Uuid>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Users who may read it (repeat the flag for several).
        #[arg(long = "read", value_name = "USER")]
        readers: Vec<String>,
        /// Users who may read and write it (repeat the flag for several).
        #[arg(long = "write", value_name = "USER")]
        writers: Vec<String>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Add a policy view: a read-only collection showing what a peer member may read of
    /// another collection, as the sharing policy decides object by object; prints its id.
    /// Give the member a token (`comity token create --member …`) to let it read the view.
    AddView {
        /// Human title.
        #[arg(long)]
        title: String,
        /// The collection whose objects the view filters.
        #[arg(long)]
        source: String,
        /// The member whose reading the view shows (identity--…).
        #[arg(long)]
        member: String,
        /// Only what this agreement covers [default: any agreement in force with the member].
        #[arg(long)]
        agreement: Option<String>,
        /// intelligence, police-cooperation or judicial-assistance.
        #[arg(long, default_value = "intelligence")]
        purpose: String,
        /// API root of both collections.
        #[arg(long, default_value = DEFAULT_API_ROOT)]
        api_root: String,
        /// Local users who may read the view (repeat the flag for several).
        #[arg(long = "read", value_name = "USER")]
        readers: Vec<String>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Turn sharing of a collection's objects with peers on or off (off for a new
    /// collection): with it on, what is stored in the collection is offered to every peer
    /// the agreements in force and the sharing policy allow. Committed to the log.
    Federate {
        /// Collection id.
        collection: String,
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        state: String,
        /// API root of the collection.
        #[arg(long, default_value = DEFAULT_API_ROOT)]
        api_root: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// List collections with their object counts and whether they are federated.
    List {
        /// API root to list.
        #[arg(long, default_value = DEFAULT_API_ROOT)]
        api_root: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Set a user's permissions on a collection (no flag removes access).
    Grant {
        /// Collection id.
        collection: String,
        /// User name.
        user: String,
        /// Allow reading.
        #[arg(long)]
        read: bool,
        /// Allow writing (adding and deleting objects).
        #[arg(long)]
        write: bool,
        /// API root of the collection.
        #[arg(long, default_value = DEFAULT_API_ROOT)]
        api_root: String,
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
    if password.chars().count() < 12 {
        anyhow::bail!("a password needs at least 12 characters");
    }
    Ok(password)
}

/// Runs `comity user …`.
pub async fn user(command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add { name, role, data } => {
            let store = data.open_store()?;
            if name.is_empty() || name.contains(':') || name.chars().any(char::is_control) {
                anyhow::bail!("a user name must be non-empty, without ':' or control characters");
            }
            let hash = comity_server::hash_password(&password_from_env_or_stdin()?)
                .map_err(anyhow::Error::msg)?;
            add_user(
                &data,
                store.as_ref(),
                User {
                    name: name.clone(),
                    role,
                    password_hash: hash,
                },
            )
            .await?;
            eprintln!("Added user {name:?} with role {}.", role.as_str());
        }
        UserCommand::List { data } => {
            for u in data.open_store()?.users().await? {
                println!("{}\t{}", u.name, u.role.as_str());
            }
        }
        UserCommand::SetRole { name, role, data } => {
            let store = data.open_store()?;
            store.set_role(&name, role).await?;
            record_user(&data, store.as_ref(), &name, "role changed", Some(role)).await?;
            eprintln!("User {name:?} is now {}.", role.as_str());
        }
        UserCommand::Passwd { name, data } => {
            let store = data.open_store()?;
            let hash = comity_server::hash_password(&password_from_env_or_stdin()?)
                .map_err(anyhow::Error::msg)?;
            store.set_password_hash(&name, &hash).await?;
            record_user(&data, store.as_ref(), &name, "password changed", None).await?;
            eprintln!("Changed the password of {name:?}.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates a user and commits the change to the transparency log.
pub(crate) async fn add_user(data: &DataDir, store: &dyn Store, user: User) -> anyhow::Result<()> {
    let (name, role) = (user.name.clone(), user.role);
    store.create_user(user).await?;
    record_user(data, store, &name, "added", Some(role)).await
}

/// Creates a collection and commits the change to the transparency log.
pub(crate) async fn add_collection(
    data: &DataDir,
    store: &dyn Store,
    collection: &Collection,
) -> anyhow::Result<()> {
    store.create_collection(collection.clone()).await?;
    let what = serde_json::json!({
        "change": "added",
        "title": collection.title,
        "description": collection.description,
    });
    record_collection(data, store, collection, &what).await
}

/// Commits a user change to the transparency log (name, role, what changed; never a
/// password or its hash).
async fn record_user(
    data: &DataDir,
    store: &dyn Store,
    name: &str,
    change: &str,
    role: Option<Role>,
) -> anyhow::Result<()> {
    let what = serde_json::json!({
        "user": name,
        "change": change,
        "role": role.map(Role::as_str),
    });
    let subject = format!("user:{name}");
    crate::cmd::log::record(&data.data_dir, store, USER_CHANGED, subject, &what).await
}

/// Commits a collection change to the transparency log.
async fn record_collection(
    data: &DataDir,
    store: &dyn Store,
    collection: &Collection,
    what: &serde_json::Value,
) -> anyhow::Result<()> {
    let subject = format!("collection:{}/{}", collection.api_root, collection.id);
    crate::cmd::log::record(&data.data_dir, store, COLLECTION_CHANGED, subject, what).await
}

/// Turns sharing of a plain collection's objects with peers on or off, and commits the
/// change to the log.
pub(crate) async fn federate(
    data: &DataDir,
    store: &dyn Store,
    collection: &Collection,
    on: bool,
) -> anyhow::Result<()> {
    store
        .set_collection_federated(&collection.key(), on)
        .await
        .with_context(|| format!("collection {}", collection.id))?;
    let what = serde_json::json!({"federated": on});
    record_collection(data, store, collection, &what).await
}

/// Grants access and commits the change.
pub(crate) async fn grant(
    data: &DataDir,
    store: &dyn Store,
    collection: &Collection,
    user: &str,
    access: Access,
) -> anyhow::Result<()> {
    store
        .grant(&collection.key(), user, access)
        .await
        .with_context(|| format!("cannot grant access to {user:?}"))?;
    let what = serde_json::json!({
        "change": "access",
        "user": user,
        "read": access.read,
        "write": access.write,
    });
    record_collection(data, store, collection, &what).await
}

async fn grant_all(
    data: &DataDir,
    store: &dyn Store,
    collection: &Collection,
    readers: &[String],
    writers: &[String],
) -> anyhow::Result<()> {
    for (users, access) in [
        (
            readers,
            Access {
                read: true,
                write: false,
            },
        ),
        (
            writers,
            Access {
                read: true,
                write: true,
            },
        ),
    ] {
        for user in users {
            grant(data, store, collection, user, access).await?;
        }
    }
    Ok(())
}

/// Runs `comity collection …`.
pub async fn collection(command: CollectionCommand) -> anyhow::Result<ExitCode> {
    match command {
        CollectionCommand::Add {
            title,
            api_root,
            id,
            description,
            readers,
            writers,
            data,
        } => {
            let store = data.open_store()?;
            let collection = Collection {
                id: id.unwrap_or_else(uuid::Uuid::new_v4).to_string(),
                api_root,
                title,
                description,
                view: None,
                origin: None,
            };
            add_collection(&data, store.as_ref(), &collection).await?;
            grant_all(&data, store.as_ref(), &collection, &readers, &writers).await?;
            println!("{}", collection.id);
        }
        CollectionCommand::AddView {
            title,
            source,
            member,
            agreement,
            purpose,
            api_root,
            readers,
            data,
        } => {
            let store = data.open_store()?;
            let spec = ViewSpec {
                source,
                member,
                agreement,
                purpose: Some(purpose),
            };
            spec.purpose().map_err(anyhow::Error::msg)?;
            let source = store
                .collection(&api_root, &spec.source)
                .await?
                .with_context(|| format!("no collection {} in API root {api_root}", spec.source))?;
            if source.view.is_some() {
                anyhow::bail!(
                    "collection {} is a view itself; name a stored collection",
                    source.id
                );
            }
            let registry = Registry::new(store.as_ref(), None);
            let known = registry.member(&spec.member).await?;
            if known.is_none_or(|m| m.record.local) {
                anyhow::bail!("{:?} is not a registered peer member", spec.member);
            }
            if let Some(a) = &spec.agreement {
                let found = registry
                    .agreement(a)
                    .await?
                    .with_context(|| format!("no agreement {a}"))?;
                if !found.terms.parties.iter().any(|p| p.0 == spec.member) {
                    anyhow::bail!("{} is not a party to agreement {a}", spec.member);
                }
            }
            let collection = Collection {
                id: uuid::Uuid::new_v4().to_string(),
                api_root,
                title,
                description: Some(format!(
                    "What {} may read of {}.",
                    spec.member, source.title
                )),
                view: Some(serde_json::to_string(&spec)?),
                origin: None,
            };
            add_collection(&data, store.as_ref(), &collection).await?;
            grant_all(&data, store.as_ref(), &collection, &readers, &[]).await?;
            println!("{}", collection.id);
        }
        CollectionCommand::List { api_root, data } => {
            let store = data.open_store()?;
            for c in store.collections(&api_root).await? {
                let n = store.count_objects(&c.key()).await?;
                let shared = if store.collection_federated(&c.key()).await? {
                    "federated"
                } else {
                    "not federated"
                };
                println!("{}\t{}\t{n} objects\t{shared}", c.id, c.title);
            }
        }
        CollectionCommand::Federate {
            collection,
            state,
            api_root,
            data,
        } => {
            let store = data.open_store()?;
            let c = store
                .collection(&api_root, &collection)
                .await?
                .with_context(|| format!("no collection {collection} in API root {api_root}"))?;
            let on = state == "on";
            federate(&data, store.as_ref(), &c, on).await?;
            eprintln!(
                "Collection {:?} is {}.",
                c.title,
                if on {
                    "federated: its objects are offered to peers as the agreements and the policy allow"
                } else {
                    "not federated: its objects stay on this node"
                }
            );
        }
        CollectionCommand::Grant {
            collection,
            user,
            read,
            write,
            api_root,
            data,
        } => {
            let store = data.open_store()?;
            let c = store
                .collection(&api_root, &collection)
                .await?
                .with_context(|| format!("no collection {collection} in API root {api_root}"))?;
            let access = Access {
                read: read || write,
                write,
            };
            grant(&data, store.as_ref(), &c, &user, access).await?;
            eprintln!(
                "{user:?} may now read: {}, write: {}.",
                access.read, access.write
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
