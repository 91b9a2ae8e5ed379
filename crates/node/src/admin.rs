//! Administrative acts: API roots, local users (roles, passwords), collections, policy
//! views, grants, and whether a collection is federated. Every change but an API root's is
//! committed to the transparency log: names, roles and what changed, never a password or
//! its hash. The CLI, the node API and the web UI all come here.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use comity_stix::clock::now_us;
use comity_store::{Access, ApiRoot, Collection, Role, StoreError, User};
use comity_tlog::entry::{LogEntry, COLLECTION_CHANGED, CONFIG_CHANGED, USER_CHANGED};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::log::{Act, LogError};
use crate::node::Node;
use crate::registry::RegistryError;
use crate::release::ViewSpec;

/// Why an administrative act was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The request itself is wrong (a bad name, an unknown member, a view of a view…).
    #[error("{0}")]
    Invalid(String),
    /// What the act names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The store failed or refused (a conflict, a missing user).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Committing the act to the log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The registry could not be read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Hashes a new password with Argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, AdminError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AdminError::Invalid(format!("cannot hash the password: {e}")))
}

/// Fewest characters a password typed by a person may have.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Most characters a user name may have.
pub const MAX_USER_NAME_CHARS: usize = 64;

/// Checks a password chosen by a person: at least [`MIN_PASSWORD_CHARS`] characters.
pub fn check_password(password: &str) -> Result<(), AdminError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// A new random password (24 letters and digits), for a user who will be told it once.
pub fn generate_password() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, 24)
}

/// Checks a new user's name: 1 to [`MAX_USER_NAME_CHARS`] characters, without ':' (it
/// ends the name in HTTP Basic), control or direction-override characters.
pub fn check_user_name(name: &str) -> Result<(), AdminError> {
    let refused = || {
        AdminError::Invalid(format!(
            "a user name must have 1 to {MAX_USER_NAME_CHARS} characters, \
             without ':', control or direction-override characters"
        ))
    };
    crate::registry::check_text("a user name", name, MAX_USER_NAME_CHARS).map_err(|_| refused())?;
    if name.contains(':') {
        return Err(refused());
    }
    Ok(())
}

/// Creates an API root (not logged: it holds no intelligence and grants nobody anything).
pub async fn add_api_root(node: &Node, root: ApiRoot) -> Result<(), AdminError> {
    Ok(node.store().create_api_root(root).await?)
}

/// Adds a local user with `password` (hashed here; the text is never kept).
pub async fn add_user(
    node: &Node,
    name: &str,
    role: Role,
    password: &str,
) -> Result<(), AdminError> {
    check_user_name(name)?;
    let user = User {
        name: name.to_owned(),
        role,
        password_hash: hash_password(password)?,
    };
    node.store().create_user(user).await?;
    record_user(node, name, "added", Some(role)).await
}

/// Changes a user's role. The node's last admin keeps its role: without one, nobody could
/// administer the node from the API or the web UI (only `comity user` beside the store).
pub async fn set_role(node: &Node, name: &str, role: Role) -> Result<(), AdminError> {
    if role != Role::Admin {
        let users = node.store().users().await?;
        let is_admin = |u: &&User| u.role == Role::Admin;
        let last = users.iter().filter(is_admin).count() == 1;
        if last && users.iter().filter(is_admin).any(|u| u.name == name) {
            return Err(AdminError::Invalid(format!(
                "{name} is this node's only admin: make another user an admin first"
            )));
        }
    }
    node.store().set_role(name, role).await?;
    record_user(node, name, "role changed", Some(role)).await
}

/// Changes a user's password.
pub async fn set_password(node: &Node, name: &str, password: &str) -> Result<(), AdminError> {
    node.store()
        .set_password_hash(name, &hash_password(password)?)
        .await?;
    record_user(node, name, "password changed", None).await
}

/// Creates a collection.
pub async fn add_collection(node: &Node, collection: &Collection) -> Result<(), AdminError> {
    node.store().create_collection(collection.clone()).await?;
    let what = json!({
        "change": "added",
        "title": collection.title,
        "description": collection.description,
    });
    record_collection(node, collection, &what).await
}

/// Creates a policy view in `api_root`: a read-only collection showing what `spec.member`
/// may read of `spec.source`. The source must be a stored collection, the member a
/// registered peer, and a named agreement one the member is party to.
pub async fn add_view(
    node: &Node,
    api_root: &str,
    title: String,
    spec: ViewSpec,
) -> Result<Collection, AdminError> {
    spec.purpose().map_err(AdminError::Invalid)?;
    let store = node.store();
    let source = store
        .collection(api_root, &spec.source)
        .await?
        .ok_or_else(|| {
            AdminError::NotFound(format!(
                "no collection {} in API root {api_root}",
                spec.source
            ))
        })?;
    if source.view.is_some() {
        return Err(AdminError::Invalid(format!(
            "collection {} is a view itself; name a stored collection",
            source.id
        )));
    }
    let registry = node.registry();
    let known = registry.member(&spec.member).await?;
    if known.is_none_or(|m| m.record.local) {
        return Err(AdminError::Invalid(format!(
            "{:?} is not a registered peer member",
            spec.member
        )));
    }
    if let Some(a) = &spec.agreement {
        let found = registry
            .agreement(a)
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("no agreement {a}")))?;
        if !found.terms.parties.iter().any(|p| p.0 == spec.member) {
            return Err(AdminError::Invalid(format!(
                "{} is not a party to agreement {a}",
                spec.member
            )));
        }
    }
    let collection = Collection {
        id: uuid::Uuid::new_v4().to_string(),
        api_root: api_root.to_owned(),
        title,
        description: Some(format!(
            "What {} may read of {}.",
            spec.member, source.title
        )),
        view: Some(serde_json::to_string(&spec).map_err(|e| AdminError::Invalid(e.to_string()))?),
        origin: None,
    };
    add_collection(node, &collection).await?;
    Ok(collection)
}

/// Turns sharing of a plain collection's objects with peers on or off.
pub async fn federate(node: &Node, collection: &Collection, on: bool) -> Result<(), AdminError> {
    node.store()
        .set_collection_federated(&collection.key(), on)
        .await?;
    record_collection(node, collection, &json!({"federated": on})).await
}

/// Sets `user`'s access to `collection`.
pub async fn grant(
    node: &Node,
    collection: &Collection,
    user: &str,
    access: Access,
) -> Result<(), AdminError> {
    node.store().grant(&collection.key(), user, access).await?;
    let what = json!({
        "change": "access",
        "user": user,
        "read": access.read,
        "write": access.write,
    });
    record_collection(node, collection, &what).await
}

/// Commits a user change (name, role, what changed).
async fn record_user(
    node: &Node,
    name: &str,
    change: &str,
    role: Option<Role>,
) -> Result<(), AdminError> {
    let what = json!({
        "user": name,
        "change": change,
        "role": role.map(Role::as_str),
    });
    record(node, USER_CHANGED, format!("user:{name}"), &what).await
}

/// Commits a collection change.
async fn record_collection(
    node: &Node,
    collection: &Collection,
    what: &Value,
) -> Result<(), AdminError> {
    let subject = format!("collection:{}/{}", collection.api_root, collection.id);
    record(node, COLLECTION_CHANGED, subject, what).await
}

/// Commits a configuration file's content (its SHA-256, never its text) to the log.
pub async fn record_config(node: &Node, name: &str, bytes: &[u8]) -> Result<(), AdminError> {
    let entry = crate::log::seal(LogEntry {
        kind: CONFIG_CHANGED.into(),
        time: now_us(),
        actor: node.log().origin().to_owned(),
        subject: name.to_owned(),
        sha256: Sha256::digest(bytes).into(),
    })?;
    node.store()
        .transparency_log()
        .append_openable(vec![entry])
        .await?;
    Ok(())
}

/// Commits an administrative act: `what` is hashed as canonical JSON, never logged.
pub async fn record(
    node: &Node,
    kind: &str,
    subject: String,
    what: &Value,
) -> Result<(), AdminError> {
    let log = node.log();
    let act = Act {
        kind: kind.to_owned(),
        actor: log.origin().to_owned(),
        subject,
        canonical: comity_stix::canonical_json(what).into_bytes(),
    };
    log.record(node.store(), act).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_and_passwords_follow_the_rules() {
        for good in ["ana", "Ana María", "علي", &"x".repeat(MAX_USER_NAME_CHARS)] {
            assert!(check_user_name(good).is_ok(), "{good}");
        }
        let long = "x".repeat(MAX_USER_NAME_CHARS + 1);
        for bad in [
            "",
            "  ",
            "a:b",
            "a\nb",
            "a\u{202E}b",
            "\u{0}",
            long.as_str(),
        ] {
            assert!(
                matches!(check_user_name(bad), Err(AdminError::Invalid(_))),
                "{bad:?}"
            );
        }
        assert!(check_password(&"é".repeat(MIN_PASSWORD_CHARS)).is_ok());
        assert!(check_password(&"x".repeat(MIN_PASSWORD_CHARS - 1)).is_err());
        let (a, b) = (generate_password(), generate_password());
        assert_ne!(a, b);
        assert!(check_password(&a).is_ok() && a.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[tokio::test]
    async fn the_last_admin_keeps_its_role() {
        let dir = tempfile::tempdir().unwrap();
        let store = comity_store_sqlite::SqliteStore::open(dir.path()).unwrap();
        let node = Node::new(
            std::sync::Arc::new(store),
            crate::federation::test_nodes::signer(1),
        )
        .unwrap();
        let role = |name: &'static str| {
            let node = &node;
            async move { node.store().user(name).await.unwrap().unwrap().role }
        };
        add_user(&node, "root", Role::Admin, &generate_password())
            .await
            .unwrap();
        add_user(&node, "ana", Role::Analyst, &generate_password())
            .await
            .unwrap();
        let refused = set_role(&node, "root", Role::Analyst).await;
        assert!(
            matches!(&refused, Err(AdminError::Invalid(m)) if m.contains("only admin")),
            "{refused:?}"
        );
        assert_eq!(role("root").await, Role::Admin, "nothing changed");
        // With a second admin, either may step down; the other then is the last.
        set_role(&node, "ana", Role::Admin).await.unwrap();
        set_role(&node, "root", Role::Viewer).await.unwrap();
        assert_eq!(role("root").await, Role::Viewer);
        assert!(set_role(&node, "ana", Role::Analyst).await.is_err());
        // Making the last admin an admin again is no demotion.
        set_role(&node, "ana", Role::Admin).await.unwrap();
    }
}
