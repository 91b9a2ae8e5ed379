//! The STIX Meta Objects: marking-definition, language-content and extension-definition.

use serde_json::Value;

use crate::id::is_property_name;
use crate::props::{is_language_tag, opt, req, JsonObject, Kind::*, Prop};
use crate::refs::Targets;
use crate::report::{Ctx, Path};
use crate::types::{TypeSpec, DOMAIN, MARKING};
use crate::vocab;

const LANGUAGE_CONTENT: &[Prop] = &[
    req("object_ref", Ref(Targets::Any)),
    opt("object_modified", Timestamp),
    req("contents", Dictionary),
];
const EXTENSION_DEFINITION: &[Prop] = &[
    req("created_by_ref", Ref(Targets::Only(&["identity"]))),
    req("name", String),
    opt("description", String),
    req("schema", String),
    req("version", String),
    req("extension_types", Enums(vocab::EXTENSION_TYPE)),
    opt("extension_properties", Strings),
];

fn language_content(ctx: &mut Ctx, map: &JsonObject) {
    let Some(contents) = map.get("contents").and_then(Value::as_object) else {
        return;
    };
    let path = Path::Root.key("contents");
    for (lang, translation) in contents {
        if !is_language_tag(lang) {
            let msg = format!("'{lang}' is not an RFC 5646 language tag");
            ctx.error(&path.key(lang), "value-format", msg);
        }
        let keys = translation
            .as_object()
            .map(|t| t.keys())
            .into_iter()
            .flatten();
        for key in keys.filter(|k| !is_property_name(k)) {
            let msg = format!("'{key}' is not a property name");
            ctx.error(&path.key(lang).key(key), "value-format", msg);
        }
        if !translation.is_object() {
            ctx.error(
                &path.key(lang),
                "json-type",
                "each language's contents must be an object",
            );
        }
    }
}

/// The meta-object type spec for `ty`, if `ty` is a meta object.
pub(crate) fn spec(ty: &str) -> Option<TypeSpec> {
    match ty {
        "marking-definition" => Some(TypeSpec {
            common: MARKING,
            props: &[],
            check: Some(crate::markings::check_marking_definition),
        }),
        "language-content" => Some(TypeSpec {
            common: DOMAIN,
            props: LANGUAGE_CONTENT,
            check: Some(language_content),
        }),
        "extension-definition" => Some(TypeSpec {
            common: DOMAIN,
            props: EXTENSION_DEFINITION,
            check: None,
        }),
        _ => None,
    }
}
