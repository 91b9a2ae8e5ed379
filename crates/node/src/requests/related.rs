//! The STIX objects a request refers to: `related_objects` in its document, the ids of
//! objects this node holds. When the request is submitted, each one passes the policy
//! engine as a release to the requested member, through the federation channel, for the
//! purpose the request's kind serves. An object the member may not have refuses the
//! submission, naming the object and the rule; what it may have (with what granular
//! markings withhold removed) travels inside the signed submission, so both members hold,
//! and both logs commit to, exactly what was released. The receiving node refuses a
//! submission whose objects are not the ones its document names.

use serde_json::Value;

use comity_store::{CollectionRef, ObjectFilter, PageRequest, Store, VersionFilter};

use super::{invalid, RequestError, RequestKind};
use crate::node::Node;
use crate::policy::{Channel, Purpose};
use crate::release::{Release, Released};

/// The document field that names the related objects.
pub const FIELD: &str = "related_objects";
/// The most objects one request may name.
pub const MAX_RELATED: usize = 100;

/// The purpose a request of `kind` serves, which agreements must cover for its objects to
/// go: police cooperation for the 24/7 channel's expedited measures, judicial assistance
/// for production orders and mutual legal assistance.
pub fn purpose(kind: RequestKind) -> Purpose {
    match kind {
        RequestKind::Assistance | RequestKind::Preservation | RequestKind::Disclosure => {
            Purpose::PoliceCooperation
        }
        RequestKind::Production | RequestKind::Mla => Purpose::JudicialAssistance,
    }
}

/// The ids `document` names, in order; refused when the field is not a list of distinct
/// STIX ids, or names more than [`MAX_RELATED`].
pub fn named(document: &Value) -> Result<Vec<String>, RequestError> {
    let items = match document.get(FIELD) {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid(format!("{FIELD} is a list of STIX ids"))),
    };
    if items.len() > MAX_RELATED {
        return Err(invalid(format!(
            "{FIELD} names {} objects; a request may name {MAX_RELATED}",
            items.len()
        )));
    }
    let mut ids: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let id = item
            .as_str()
            .filter(|s| comity_stix::is_identifier(s))
            .ok_or_else(|| {
                invalid(format!(
                    "{FIELD}: {} is not a STIX id (type--UUID)",
                    truncated(item)
                ))
            })?;
        if ids.iter().any(|seen| seen == id) {
            return Err(invalid(format!("{FIELD} names {id} twice")));
        }
        ids.push(id.to_owned());
    }
    Ok(ids)
}

/// What member `to` may have of each object `ids` names, for a request of `kind`: the
/// newest version this node holds, released by the policy engine. Refused, naming the
/// object, when this node holds no such object or the policy keeps it here.
pub async fn release(
    node: &Node,
    kind: RequestKind,
    to: &str,
    ids: &[String],
) -> Result<Vec<Value>, RequestError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let purpose = purpose(kind);
    let federation = node.directory().federation().await?;
    let release = Release::for_member(federation, to, None, Channel::FederationSend, purpose);
    let mut released = Vec::with_capacity(ids.len());
    for id in ids {
        let (json, origin) = newest(node.store(), id).await?.ok_or_else(|| {
            invalid(format!(
                "{FIELD}: this node holds no object {id}; only objects stored here can be named"
            ))
        })?;
        match release.clone().from_origin(origin.as_deref()).object(&json) {
            Released::Allowed(text) => released.push(
                serde_json::from_str(&text)
                    .map_err(|e| invalid(format!("stored object {id} is not JSON: {e}")))?,
            ),
            Released::Denied(denial) => {
                return Err(invalid(format!(
                    "{FIELD}: {id} may not go to {to} for {}: {denial}",
                    purpose.as_str()
                )))
            }
        }
    }
    Ok(released)
}

/// Refuses `objects` (what an event carries) unless they are, in order, one object for
/// each id `document` names.
pub fn check_carried(document: &Value, objects: &[Value]) -> Result<(), RequestError> {
    let ids = named(document)?;
    if ids.len() != objects.len() {
        return Err(invalid(format!(
            "the submission carries {} related objects, but its document names {}",
            objects.len(),
            ids.len()
        )));
    }
    for (id, object) in ids.iter().zip(objects) {
        if object.get("id").and_then(Value::as_str) != Some(id.as_str()) {
            return Err(invalid(format!(
                "the submission carries {} where its document names {id}",
                truncated(object.get("id").unwrap_or(&Value::Null))
            )));
        }
    }
    Ok(())
}

/// The newest stored version of object `id` in any collection that holds objects (policy
/// views only show others' objects), with the member whose objects that collection holds.
async fn newest(
    store: &dyn Store,
    id: &str,
) -> Result<Option<(String, Option<String>)>, RequestError> {
    let filter = ObjectFilter {
        ids: vec![id.to_owned()],
        versions: VersionFilter::last(),
        ..ObjectFilter::default()
    };
    let page = PageRequest {
        limit: 1,
        after: None,
    };
    let mut found: Option<(i64, String, Option<String>)> = None;
    for root in store.api_roots().await? {
        for collection in store.collections(&root.name).await? {
            if collection.view.is_some() {
                continue;
            }
            let key: CollectionRef = collection.key();
            let Some(object) = store.objects(&key, &filter, &page).await?.items.pop() else {
                continue;
            };
            if found
                .as_ref()
                .is_none_or(|(at, _, _)| object.date_added > *at)
            {
                found = Some((object.date_added, object.json, collection.origin.clone()));
            }
        }
    }
    Ok(found.map(|(_, json, origin)| (json, origin)))
}

fn truncated(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}
