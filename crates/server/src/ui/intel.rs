//! Intelligence pages: the collections the viewer may read, a collection's objects (by
//! type, a page at a time) and one object with its markings, JSON, versions and who else
//! holds its values (`correlation::who_else`, within the viewer's rights). Reads go
//! through the TAXII routes' own extractor ([`CollectionAccess`]) and release
//! ([`crate::taxii::objects::readable_page`]), so the viewer sees exactly what TAXII
//! would give them: a collection they may not read is "not found", a withheld object
//! leaves no row, no count and no link.

use askama::Template;
use axum::extract::{Path, Query, State};
use comity_node::correlation::who_else::{correlate, Subject, ValueReport};
use comity_node::policy::{Handling, HandlingCode, Tlp, HANDLING};
use comity_stix::tlp::tlp_of_marking_ref;
use comity_store::StoredObject;
use serde::Deserialize;
use serde_json::Value;

use super::{render, Ctx, InLanguage, UiResult, Viewer};
use crate::auth::{Caller, CollectionAccess};
use crate::taxii::objects::{readable_page, readable_versions, version_of};
use crate::AppState;

/// Objects on one page of a listing.
const PAGE: usize = 50;
/// Other holders linked per value on an object's page (the count is never cut).
const HOLDERS_SHOWN: usize = 10;

/// A collection the viewer may read.
struct CollectionRow {
    root: String,
    id: String,
    title: String,
}

#[derive(Template)]
#[template(path = "collections.html")]
struct CollectionsPage {
    ctx: Ctx,
    collections: Vec<CollectionRow>,
}

/// GET `/intel`: the collections the viewer may read, in every API root.
pub(super) async fn collections(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
) -> UiResult {
    let store = state.node.store();
    let mut rows = Vec::new();
    for root in store.api_roots().await.speak(&ctx)? {
        for c in store.collections(&root.name).await.speak(&ctx)? {
            let readable = CollectionAccess::to_read(&state, &caller, c)
                .await
                .speak(&ctx)?;
            if let Some(access) = readable {
                rows.push(CollectionRow {
                    root: root.name.clone(),
                    id: access.collection.id,
                    title: access.collection.title,
                });
            }
        }
    }
    render(
        &ctx.clone(),
        CollectionsPage {
            ctx,
            collections: rows,
        },
    )
}

/// The markings of an object, as a page shows them.
pub(super) struct Markings {
    /// The TLP level, as `TLP:AMBER+STRICT`, with its CSS class.
    pub tlp: Option<(&'static str, &'static str)>,
    /// The handling codes.
    pub codes: Vec<HandlingCode>,
    /// The text of H3.
    pub restrictions: Option<String>,
}

/// The label and badge class of a TLP level (TLP 2.0 labels are never translated).
pub(super) fn tlp_badge(tlp: Tlp) -> (&'static str, &'static str) {
    match tlp {
        Tlp::Clear => ("TLP:CLEAR", "tlp-clear"),
        Tlp::Green => ("TLP:GREEN", "tlp-green"),
        Tlp::Amber => ("TLP:AMBER", "tlp-amber"),
        Tlp::AmberStrict => ("TLP:AMBER+STRICT", "tlp-amber-strict"),
        Tlp::Red => ("TLP:RED", "tlp-red"),
    }
}

/// The most restrictive TLP level an object is marked with, and its handling codes.
pub(super) fn markings(object: &Value) -> Markings {
    let tlp = object
        .get("object_marking_refs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(tlp_of_marking_ref)
        .max()
        .map(tlp_badge);
    let handling = Handling::from_property(object.get(HANDLING)).unwrap_or_default();
    Markings {
        tlp,
        codes: handling.codes.into_iter().collect(),
        restrictions: handling.restrictions,
    }
}

/// An object in a list.
pub(super) struct ObjectRow {
    pub root: String,
    pub collection: String,
    pub id: String,
    pub kind: String,
    pub name: String,
    pub version: String,
    pub markings: Markings,
}

impl ObjectRow {
    pub(super) fn new(root: &str, collection: &str, o: &StoredObject) -> Self {
        let json: Value = serde_json::from_str(&o.json).unwrap_or_default();
        ObjectRow {
            root: root.to_owned(),
            collection: collection.to_owned(),
            id: o.id.clone(),
            kind: json["type"].as_str().unwrap_or_default().to_owned(),
            name: json["name"].as_str().unwrap_or_default().to_owned(),
            version: version_of(o),
            markings: markings(&json),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    next: String,
}

#[derive(Template)]
#[template(path = "objects.html")]
struct ObjectsPage {
    ctx: Ctx,
    root: String,
    collection: String,
    kind: String,
    objects: Vec<ObjectRow>,
    next: Option<String>,
}

/// GET `/intel/{root}/{collection}/[?type=T&next=TOKEN]`.
pub(super) async fn objects(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    access: Result<CollectionAccess, crate::error::ApiError>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let access = access.speak(&ctx)?;
    let query = {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("limit", &PAGE.to_string());
        if !q.kind.is_empty() {
            query.append_pair("match[type]", &q.kind);
        }
        if !q.next.is_empty() {
            query.append_pair("next", &q.next);
        }
        query.finish()
    };
    let (items, next) = readable_page(&state, &access, &query).await.speak(&ctx)?;
    let (root, collection) = (
        access.collection.api_root.clone(),
        access.collection.id.clone(),
    );
    let objects = items
        .iter()
        .map(|o| ObjectRow::new(&root, &collection, o))
        .collect();
    render(
        &ctx.clone(),
        ObjectsPage {
            ctx,
            root,
            collection,
            kind: q.kind,
            objects,
            next,
        },
    )
}

#[derive(Template)]
#[template(path = "object.html")]
struct ObjectPage {
    ctx: Ctx,
    root: String,
    collection: String,
    object: ObjectRow,
    json: String,
    versions: Vec<String>,
    who_else: Vec<ValueReport>,
}

/// GET `/intel/{root}/{collection}/{id}`: the latest version the viewer may read, with the
/// list of versions and who else holds its values.
pub(super) async fn object(
    State(state): State<AppState>,
    Viewer(ctx): Viewer<Ctx>,
    caller: Caller,
    access: Result<CollectionAccess, crate::error::ApiError>,
    Path((_, _, id)): Path<(String, String, String)>,
) -> UiResult {
    let access = access.speak(&ctx)?;
    let versions = readable_versions(&state, &access, &id).await.speak(&ctx)?;
    let (root, collection) = (
        access.collection.api_root.clone(),
        access.collection.id.clone(),
    );
    let latest = versions
        .iter()
        .max_by_key(|o| version_of(o))
        .ok_or_else(|| crate::error::ApiError::not_found("no such object"))
        .speak(&ctx)?;
    let parsed: Value = serde_json::from_str(&latest.json).unwrap_or_default();
    let json = serde_json::to_string_pretty(&parsed).unwrap_or_else(|_| latest.json.clone());
    let object = ObjectRow::new(&root, &collection, latest);
    let versions = versions.iter().map(version_of).collect();
    let reader = crate::correlate::reader(&state, &caller)
        .await
        .speak(&ctx)?;
    let who_else = correlate(
        state.node.store(),
        &reader,
        state.node.warning_lists(),
        &Subject::Object(id),
        HOLDERS_SHOWN,
    )
    .await
    .map_err(crate::error::ApiError::from)
    .speak(&ctx)?
    .values;
    render(
        &ctx.clone(),
        ObjectPage {
            ctx,
            root,
            collection,
            object,
            json,
            versions,
            who_else,
        },
    )
}
