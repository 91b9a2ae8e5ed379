//! The members page, for every local user (the API's rule for `/api/v1/members` and
//! `/api/v1/agreements`): the member directory and the sharing agreements, read-only, as
//! the node's registry holds them.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use comity_node::registry::{Directory, Member};
use sha2::{Digest, Sha256};

use super::{render, Ctx, InLanguage, UiError, UiResult, Viewer};
use crate::auth::{registry_error, Caller};
use crate::AppState;

/// The fingerprint of a pinned key as written (`ed25519:<base64>`): the first 64 bits of
/// its SHA-256, in four groups of four hex digits, for reading aloud over a telephone.
pub(super) fn fingerprint(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest[..8]
        .chunks(2)
        .map(|pair| format!("{:02x}{:02x}", pair[0], pair[1]))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Member names by id.
fn by_id(members: &[Member]) -> BTreeMap<String, String> {
    members
        .iter()
        .map(|m| (m.id.0.clone(), m.name().to_owned()))
        .collect()
}

/// Member names by id, as this node's registry holds them.
pub(super) async fn names(state: &AppState) -> Result<BTreeMap<String, String>, UiError> {
    let members = Directory::new(state.node.store())
        .members()
        .await
        .map_err(registry_error)?;
    Ok(by_id(&members))
}

/// A member as a page names it: its name when the registry knows it, else its id.
pub(super) fn named(names: &BTreeMap<String, String>, id: &str) -> String {
    names
        .get(id)
        .filter(|n| !n.is_empty())
        .cloned()
        .unwrap_or_else(|| id.to_owned())
}

/// A member as the directory shows it.
struct MemberRow {
    id: String,
    name: String,
    country: String,
    /// Its roles as written (`central-authority`).
    roles: Vec<&'static str>,
    /// `active` or `suspended`.
    status: &'static str,
    endpoint: Option<String>,
    fingerprint: String,
    local: bool,
}

impl MemberRow {
    fn new(m: &Member) -> Self {
        MemberRow {
            id: m.id.0.clone(),
            name: m.name().to_owned(),
            country: m.record.country.clone(),
            roles: m.record.roles.iter().map(|r| r.as_str()).collect(),
            status: m.status.as_str(),
            endpoint: m.record.endpoint.clone(),
            fingerprint: fingerprint(&m.record.public_key),
            local: m.record.local,
        }
    }
}

/// An agreement as the list shows it.
struct AgreementRow {
    id: String,
    title: String,
    /// `proposed`, `active`, `suspended` or `terminated`.
    status: &'static str,
    parties: Vec<String>,
    /// The parties whose signature is awaited.
    missing: Vec<String>,
    object_types: Vec<String>,
    max_tlp: String,
    handling: Vec<String>,
    purposes: Vec<String>,
    valid_from: String,
    valid_until: Option<String>,
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    ctx: Ctx,
    members: Vec<MemberRow>,
    agreements: Vec<AgreementRow>,
}

/// GET `/members`: the member directory and the agreements.
pub(super) async fn show(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
) -> UiResult {
    caller.user().speak(&ctx)?;
    let directory = state.node.directory();
    let members = directory
        .members()
        .await
        .map_err(registry_error)
        .speak(&ctx)?;
    let names = by_id(&members);
    let name = |id: &String| named(&names, id);
    let agreements = directory
        .agreements()
        .await
        .map_err(registry_error)
        .speak(&ctx)?
        .iter()
        .map(|a| {
            let d = &a.document;
            AgreementRow {
                id: d.id.clone(),
                title: d.title.clone(),
                status: a.terms.status.as_str(),
                parties: d.parties.iter().map(name).collect(),
                missing: d.missing().iter().map(name).collect(),
                object_types: d.scope.object_types.iter().cloned().collect(),
                max_tlp: d.scope.max_tlp.to_uppercase(),
                handling: d.scope.handling.iter().cloned().collect(),
                purposes: d.scope.purposes.iter().cloned().collect(),
                valid_from: ctx.when(&d.valid_from),
                valid_until: d.valid_until.as_deref().map(|u| ctx.when(u)),
            }
        })
        .collect();
    let members = members.iter().map(MemberRow::new).collect();
    render(
        &ctx.clone(),
        MembersPage {
            ctx,
            members,
            agreements,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_is_sixteen_hex_digits_of_the_key_digest() {
        let key = "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
        let f = fingerprint(key);
        let digest: String = Sha256::digest(key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(f.replace(' ', ""), digest[..16]);
        assert_eq!(f.split(' ').count(), 4);
        assert_ne!(fingerprint("ed25519:other"), f);
    }
}
