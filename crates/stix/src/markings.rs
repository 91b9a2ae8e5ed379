//! Data markings: `granular_markings` (shape and selector resolution) and the rules of
//! marking-definition objects (statement, TLP 1.0 and TLP 2.0 definitions, no self-marking).

use serde_json::{Map, Value};

use crate::props::{check_nested, check_value, opt, req, Kind, Prop};
use crate::refs::Targets;
use crate::report::{Ctx, Path};
use crate::tlp::{self, Tlp};

const MARKING_DEFINITION: Targets = Targets::Only(&["marking-definition"]);

const GRANULAR_MARKING: &[Prop] = &[
    req("selectors", Kind::Strings),
    opt("marking_ref", Kind::Ref(MARKING_DEFINITION)),
    opt("lang", Kind::Lang),
];

/// Checks `granular_markings`: each names exactly one of `marking_ref` / `lang`, and every
/// selector resolves to a property of `root`.
pub(crate) fn check_granular_markings(
    ctx: &mut Ctx,
    path: &Path<'_>,
    v: &Value,
    root: &Map<String, Value>,
) {
    crate::props::list(ctx, path, v, |ctx, path, marking| {
        check_nested(ctx, path, marking, GRANULAR_MARKING, root);
        let Some(map) = marking.as_object() else {
            return;
        };
        if map.contains_key("marking_ref") == map.contains_key("lang") {
            ctx.error(
                path,
                "granular-marking",
                "exactly one of marking_ref and lang must be present",
            );
        }
        let Some(selectors) = map.get("selectors").and_then(Value::as_array) else {
            return;
        };
        for (i, selector) in selectors.iter().enumerate() {
            if let Some(s) = selector.as_str() {
                if !resolves(root, s) {
                    let msg =
                        format!("selector '{s}' does not resolve to a property of this object");
                    ctx.error(&path.key("selectors").index(i), "selector-unresolved", msg);
                }
            }
        }
    });
}

/// Whether a selector such as `external_references.[0].source_name` names something in `root`.
fn resolves(root: &Map<String, Value>, selector: &str) -> bool {
    let mut parts = selector.split('.');
    let Some(mut current) = parts.next().and_then(|first| root.get(first)) else {
        return false;
    };
    for part in parts {
        let next = match part.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
            Some(index) => index
                .parse::<usize>()
                .ok()
                .and_then(|i| current.as_array()?.get(i)),
            None => current.as_object().and_then(|m| m.get(part)),
        };
        match next {
            Some(v) => current = v,
            None => return false,
        }
    }
    true
}

const STATEMENT: &[Prop] = &[req("statement", Kind::String)];
const TLP1: &[Prop] = &[req("tlp", Kind::String)];
const TLP2: &[Prop] = &[req("tlp_2_0", Kind::String)];

/// Type-specific rules of marking-definition objects.
pub(crate) fn check_marking_definition(ctx: &mut Ctx, map: &Map<String, Value>) {
    let root = Path::Root;
    let id = map.get("id").and_then(Value::as_str).unwrap_or_default();
    self_marking(ctx, map, id);

    let definition_type = map.get("definition_type");
    let definition = map.get("definition");
    let tlp2_ext = map
        .get("extensions")
        .and_then(|e| e.get(tlp::TLP2_EXTENSION));
    if !map.contains_key("extensions") {
        for name in ["definition_type", "definition"] {
            if !map.contains_key(name) {
                let msg = format!("'{name}' is required when the extensions property is absent");
                ctx.error(&root.key(name), "required-property", msg);
            }
        }
    } else if definition_type.is_some() != definition.is_some() {
        ctx.error(
            &root,
            "marking-definition",
            "definition_type and definition must be present together",
        );
    }

    let mut tlp1 = None;
    match (definition_type.and_then(Value::as_str), definition) {
        (Some("statement"), Some(def)) => check_value(
            ctx,
            &root.key("definition"),
            def,
            &Kind::Nested(STATEMENT),
            map,
        ),
        (Some("tlp"), Some(def)) => {
            check_value(ctx, &root.key("definition"), def, &Kind::Nested(TLP1), map);
            if let Some(value) = def.get("tlp").and_then(Value::as_str) {
                tlp1 = Tlp::from_tlp1_value(value);
                if tlp1.is_none() {
                    let msg =
                        format!("'{value}' is not a TLP 1.0 level (white, green, amber, red)");
                    ctx.error(&root.key("definition").key("tlp"), "tlp-invalid", msg);
                }
            }
        }
        _ => {}
    }
    if let Some(level) = tlp1 {
        // The four standard TLP 1.0 objects are fixed, property for property.
        let canonical = level.tlp1_marking_ref().unwrap_or_default();
        let name = format!("TLP:{}", tlp1_level_name(level));
        let standard = [
            ("type", "marking-definition"),
            ("spec_version", "2.1"),
            ("id", canonical),
            ("created", tlp::TLP1_CREATED),
            ("definition_type", "tlp"),
            ("name", name.as_str()),
        ];
        let exact = map.len() == standard.len() + 1
            && standard
                .iter()
                .all(|(k, v)| map.get(*k).and_then(Value::as_str) == Some(*v))
            && definition
                .and_then(Value::as_object)
                .is_some_and(|d| d.len() == 1);
        if !exact {
            let msg = format!(
                "TLP 1.0 {level} must be exactly the standard marking definition {canonical} \
                 (created {}, named {name}, nothing added)",
                tlp::TLP1_CREATED
            );
            ctx.error(&root, "tlp-noncanonical", msg);
        }
    }

    let mut tlp2 = None;
    if let Some(ext) = tlp2_ext {
        let path = root.key("extensions");
        let path = path.key(tlp::TLP2_EXTENSION);
        check_value(ctx, &path, ext, &Kind::Nested(TLP2), map);
        if let Some(value) = ext.get("tlp_2_0").and_then(Value::as_str) {
            tlp2 = Tlp::from_extension_value(value);
            if tlp2.is_none() {
                let msg = format!(
                    "'{value}' is not a TLP 2.0 level (clear, green, amber, amber+strict, red)"
                );
                ctx.error(&path.key("tlp_2_0"), "tlp-invalid", msg);
            }
        }
    }
    if let Some(level) = tlp2 {
        if id != level.marking_ref() {
            ctx.warn(
                &root,
                "tlp-noncanonical",
                format!(
                    "{level} should use the standard marking definition {}",
                    level.marking_ref()
                ),
            );
        }
    }

    // A standard TLP id must carry the level it stands for.
    if let Some(level) = tlp::tlp_of_marking_ref(id) {
        let is_tlp1_id = level.tlp1_marking_ref() == Some(id);
        let carried = if is_tlp1_id { tlp1 } else { tlp2 };
        if carried != Some(level) {
            ctx.error(
                &root,
                "tlp-noncanonical",
                format!(
                    "{id} is the standard {level} marking definition but does not define {level}"
                ),
            );
        }
    }
}

/// The TLP 1.0 level name (`WHITE` where TLP 2.0 says `CLEAR`).
fn tlp1_level_name(level: Tlp) -> &'static str {
    match level {
        Tlp::Clear => "WHITE",
        Tlp::Green => "GREEN",
        Tlp::Amber | Tlp::AmberStrict => "AMBER",
        Tlp::Red => "RED",
    }
}

/// A marking definition must not mark itself (no circular references).
fn self_marking(ctx: &mut Ctx, map: &Map<String, Value>, id: &str) {
    let refs = map.get("object_marking_refs").and_then(Value::as_array);
    if refs.is_some_and(|r| r.iter().any(|m| m.as_str() == Some(id))) {
        ctx.error(
            &Path::Root.key("object_marking_refs"),
            "marking-circular",
            "a marking definition must not mark itself",
        );
    }
    let granular = map.get("granular_markings").and_then(Value::as_array);
    if granular.is_some_and(|g| {
        g.iter()
            .any(|m| m.get("marking_ref").and_then(Value::as_str) == Some(id))
    }) {
        ctx.error(
            &Path::Root.key("granular_markings"),
            "marking-circular",
            "a marking definition must not mark itself",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::resolves;
    use serde_json::json;

    #[test]
    fn selectors_resolve_through_lists_and_objects() {
        let obj = json!({"description": "d", "external_references": [{"source_name": "a"}], "labels": ["x"]});
        let map = obj.as_object().unwrap();
        assert!(resolves(map, "description"));
        assert!(resolves(map, "external_references.[0].source_name"));
        assert!(resolves(map, "labels.[0]"));
        assert!(!resolves(map, "labels.[1]"));
        assert!(!resolves(map, "external_references.[0].url"));
        assert!(!resolves(map, "name"));
    }
}
