//! The `extensions` property: extension-definition keyed extensions (STIX 2.1 section 7.3),
//! predefined object extensions such as `archive-ext`, and what the extensions declare
//! about the object (a new object type, top-level custom properties).

use serde_json::{Map, Value};

use crate::id::{is_rfc4122_uuid, is_type_name};
use crate::props::{check_nested, check_value, req, Ext, Kind, Prop};
use crate::refs::Class;
use crate::report::{Ctx, Path};
use crate::vocab;

/// Properties every extension-definition keyed extension may carry.
const DEFINED_EXTENSION: &[Prop] = &[req("extension_type", Kind::Enum(vocab::EXTENSION_TYPE))];

/// Checks the `extensions` dictionary of an object.
pub(crate) fn check_extensions(
    ctx: &mut Ctx,
    path: &Path<'_>,
    v: &Value,
    predefined: &[Ext],
    root: &Map<String, Value>,
) {
    let Some(map) = v.as_object() else {
        ctx.error(
            path,
            "json-type",
            "must be an object (dictionary of extensions)",
        );
        return;
    };
    if map.is_empty() {
        ctx.error(path, "extensions", "must contain at least one extension");
    }
    for (key, ext) in map {
        let path = path.key(key);
        if !ext.is_object() {
            ctx.error(&path, "json-type", "an extension must be an object");
        } else if let Some(uuid) = key.strip_prefix("extension-definition--") {
            if !is_rfc4122_uuid(uuid) {
                ctx.error(
                    &path,
                    "extensions",
                    "an extension-definition key must be a valid extension-definition identifier",
                );
            }
            check_value(ctx, &path, ext, &Kind::Nested(DEFINED_EXTENSION), root);
        } else if let Some(known) = predefined.iter().find(|e| e.name == key) {
            check_nested(ctx, &path, ext, known.props, root);
            let optional_present = |map: &Map<String, Value>| {
                map.keys()
                    .any(|k| known.props.iter().any(|p| p.name == k && !p.required))
            };
            if known.needs_optional && ext.as_object().is_some_and(|m| !optional_present(m)) {
                let msg = format!("{key} must contain at least one of its optional properties");
                ctx.error(&path, "at-least-one", msg);
            }
        } else if is_type_name(key) && key.ends_with("-ext") {
            ctx.warn(
                &path,
                "extension-custom",
                "custom extensions not defined by an extension-definition are deprecated",
            );
        } else {
            ctx.error(
                &path,
                "extensions",
                "keys must be extension-definition identifiers or predefined extension names",
            );
        }
    }
}

/// What an object's extension-definition extensions declare about it.
#[derive(Default)]
pub(crate) struct Declared {
    /// The class of a custom object introduced by a `new-sdo` / `new-sco` / `new-sro` extension.
    pub(crate) new_object: Option<Class>,
    /// Whether a `toplevel-property-extension` is in use (custom top-level names then need no prefix).
    pub(crate) toplevel_properties: bool,
}

/// Reads the extension types an object declares through its `extensions`.
pub(crate) fn declared(map: &Map<String, Value>) -> Declared {
    let mut out = Declared::default();
    let Some(exts) = map.get("extensions").and_then(Value::as_object) else {
        return out;
    };
    for ext in exts.values() {
        match ext.get("extension_type").and_then(Value::as_str) {
            Some("new-sdo") => out.new_object = Some(Class::Sdo),
            Some("new-sco") => out.new_object = Some(Class::Sco),
            Some("new-sro") => out.new_object = Some(Class::Sro),
            Some("toplevel-property-extension") => out.toplevel_properties = true,
            _ => {}
        }
    }
    out
}
