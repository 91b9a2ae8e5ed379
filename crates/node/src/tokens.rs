//! API tokens: issued to a local user (acting with that user's role) or, by an admin, to a
//! peer member (reading what the sharing policy lets that member read). A token is shown
//! once, as `comity_<id>.<secret>`; the store keeps only the SHA-256 of the secret, which
//! is compared in constant time. Tokens expire and can be revoked; both changes are
//! committed to the transparency log.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use comity_store::{ApiToken, Store, StoreError};
use comity_tlog::entry::TOKEN_CHANGED;
use rand::RngCore as _;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::log::{Act, LogError};
use crate::node::Node;
use comity_stix::clock::now_us;

/// The prefix every token starts with, so that secret scanners can find leaked ones.
pub const PREFIX: &str = "comity_";

/// Most characters a token's label may have.
pub const MAX_LABEL_CHARS: usize = 128;

/// Why a presented token was not accepted. The messages never repeat the secret.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not of the form `comity_<id>.<secret>`.
    #[error("the bearer token is not a Comity API token")]
    Malformed,
    /// No token has this id, or the secret does not match.
    #[error("the bearer token is not valid")]
    Unknown,
    /// The token was revoked.
    #[error("the bearer token was revoked")]
    Revoked,
    /// The token has expired.
    #[error("the bearer token has expired")]
    Expired,
    /// The token asked for breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Committing the change to the log failed.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// A token just issued: the stored record and the secret text, shown once.
pub struct Issued {
    /// What is stored.
    pub token: ApiToken,
    /// The whole token to hand to the holder.
    pub secret: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Issued({}, secret withheld)", self.token.id)
    }
}

/// Splits a presented token into its id and secret.
pub fn parse(presented: &str) -> Result<(&str, &str), TokenError> {
    let rest = presented
        .strip_prefix(PREFIX)
        .ok_or(TokenError::Malformed)?;
    let (id, secret) = rest.split_once('.').ok_or(TokenError::Malformed)?;
    let id_ok = id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit());
    if !id_ok || secret.len() != 43 {
        return Err(TokenError::Malformed);
    }
    Ok((id, secret))
}

/// The token's id as stored, from a presented token or an id typed by a person.
pub fn id_of(text: &str) -> &str {
    parse(text).map_or(text, |(id, _)| id)
}

/// Issues a token for `user` (or, when `member` is set, for that peer member), valid until
/// `expires_at` (microseconds) when given.
pub async fn issue(
    node: &Node,
    user: &str,
    label: &str,
    member: Option<String>,
    expires_at: Option<i64>,
) -> Result<Issued, TokenError> {
    crate::registry::check_text("a token's label", label, MAX_LABEL_CHARS)
        .map_err(|e| TokenError::Invalid(e.to_string()))?;
    let mut id = [0u8; 12];
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut id);
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let id = hex::encode(id);
    let secret = URL_SAFE_NO_PAD.encode(secret);
    let token = ApiToken {
        id: id.clone(),
        label: label.to_owned(),
        user: user.to_owned(),
        member,
        secret_sha256: Sha256::digest(secret.as_bytes()).into(),
        created_at: now_us(),
        expires_at,
        revoked_at: None,
    };
    node.store().create_token(&token).await?;
    commit(node, &token, "created").await?;
    Ok(Issued {
        secret: format!("{PREFIX}{id}.{secret}"),
        token,
    })
}

/// Checks a presented token: it must exist, match, be unrevoked and unexpired at `now`.
pub async fn verify(store: &dyn Store, presented: &str, now: i64) -> Result<ApiToken, TokenError> {
    let (id, secret) = parse(presented)?;
    let token = store.token(id).await?.ok_or(TokenError::Unknown)?;
    let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
    if !bool::from(digest.ct_eq(&token.secret_sha256)) {
        return Err(TokenError::Unknown);
    }
    if token.revoked_at.is_some() {
        return Err(TokenError::Revoked);
    }
    if token.expires_at.is_some_and(|t| now >= t) {
        return Err(TokenError::Expired);
    }
    Ok(token)
}

/// Revokes a token; `Ok(false)` when it was revoked already.
pub async fn revoke(node: &Node, id: &str) -> Result<bool, TokenError> {
    let revoked = node.store().revoke_token(id, now_us()).await?;
    if revoked {
        if let Some(token) = node.store().token(id).await? {
            commit(node, &token, "revoked").await?;
        }
    }
    Ok(revoked)
}

async fn commit(node: &Node, token: &ApiToken, change: &str) -> Result<(), TokenError> {
    let log = node.log();
    let what = json!({
        "change": change,
        "id": token.id,
        "label": token.label,
        "user": token.user,
        "member": token.member,
        "expires_at": token.expires_at,
    });
    let act = Act {
        kind: TOKEN_CHANGED.to_owned(),
        actor: log.origin().to_owned(),
        subject: token.id.clone(),
        canonical: comity_stix::canonical_json(&what).into_bytes(),
    };
    log.record(node.store(), act).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_tokens_parse() {
        let good = format!("{PREFIX}{}.{}", "a".repeat(24), "b".repeat(43));
        assert_eq!(
            parse(&good).unwrap(),
            ("a".repeat(24).as_str(), "b".repeat(43).as_str())
        );
        for bad in [
            String::new(),
            "comity_".into(),
            format!("{PREFIX}{}{}", "a".repeat(24), "b".repeat(43)),
            format!("{PREFIX}{}.{}", "g".repeat(24), "b".repeat(43)),
            format!("{PREFIX}{}.{}", "a".repeat(23), "b".repeat(43)),
            format!("{PREFIX}{}.{}", "a".repeat(24), "b".repeat(42)),
            format!("other_{}.{}", "a".repeat(24), "b".repeat(43)),
        ] {
            assert!(matches!(parse(&bad), Err(TokenError::Malformed)), "{bad}");
        }
    }
}
