//! `comity collection …`: TAXII collections, policy views, federation and access.

use std::process::ExitCode;

use anyhow::Context;
use comity_node::admin;
use comity_node::release::ViewSpec;
use comity_node::Node;
use comity_store::{Access, Collection};

use crate::cmd::node::DEFAULT_API_ROOT;
use crate::config::DataDir;

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

/// Grants `readers` read access and `writers` read and write access to `collection`.
pub(crate) async fn grant_all(
    node: &Node,
    collection: &Collection,
    readers: &[String],
    writers: &[String],
) -> anyhow::Result<()> {
    for (users, write) in [(readers, false), (writers, true)] {
        for user in users {
            let access = Access { read: true, write };
            admin::grant(node, collection, user, access)
                .await
                .with_context(|| format!("cannot grant access to {user:?}"))?;
        }
    }
    Ok(())
}

async fn find_collection(node: &Node, api_root: &str, id: &str) -> anyhow::Result<Collection> {
    node.store()
        .collection(api_root, id)
        .await?
        .with_context(|| format!("no collection {id} in API root {api_root}"))
}

/// Runs `comity collection …`.
pub async fn run(command: CollectionCommand) -> anyhow::Result<ExitCode> {
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
            let node = data.open_node()?;
            let collection = Collection {
                id: id.unwrap_or_else(uuid::Uuid::new_v4).to_string(),
                api_root,
                title,
                description,
                view: None,
                origin: None,
            };
            admin::add_collection(&node, &collection).await?;
            grant_all(&node, &collection, &readers, &writers).await?;
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
            let node = data.open_node()?;
            let spec = ViewSpec {
                source,
                member,
                agreement,
                purpose: Some(purpose),
            };
            let collection = admin::add_view(&node, &api_root, title, spec).await?;
            grant_all(&node, &collection, &readers, &[]).await?;
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
            let node = data.open_node()?;
            let c = find_collection(&node, &api_root, &collection).await?;
            let on = state == "on";
            admin::federate(&node, &c, on)
                .await
                .with_context(|| format!("collection {}", c.id))?;
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
            let node = data.open_node()?;
            let c = find_collection(&node, &api_root, &collection).await?;
            let access = Access {
                read: read || write,
                write,
            };
            admin::grant(&node, &c, &user, access)
                .await
                .with_context(|| format!("cannot grant access to {user:?}"))?;
            eprintln!(
                "{user:?} may now read: {}, write: {}.",
                access.read, access.write
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
