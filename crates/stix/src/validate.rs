//! The validation entry points: one object (SDO, SRO, SCO, meta object, custom object) or a
//! bundle. Dispatches to the type registry and applies the rules every object shares: type
//! name, identifier, spec_version, created/modified order, custom and reserved properties.

use serde_json::{Map, Value};

use crate::constraints::time_order;
use crate::extensions::declared;
use crate::id::{is_property_name, is_type_name, parse_identifier, uuid_version, IdError};
use crate::props::{check_required, check_value, find, Prop};
use crate::refs::{class_of, Class};
use crate::report::{Ctx, Path, Validation};
use crate::sco_id::deterministic_sco_id;
use crate::types::{spec_of, CYBER_OBSERVABLE, DOMAIN};

/// Property names the spec reserves at the top level of objects; they must not be used.
const RESERVED: &[&str] = &["severity", "action", "username", "phone_numbers"];

/// Validates one STIX object against the MUSTs (errors) and SHOULDs (warnings) of STIX 2.1.
/// A bundle is validated as an envelope plus every object it holds (paths `objects[i]...`).
pub fn validate(obj: &Value) -> Validation {
    let Some(map) = obj.as_object() else {
        let mut ctx = Ctx::new(None);
        ctx.error(
            &Path::Root,
            "json-type",
            "a STIX object must be a JSON object",
        );
        return ctx.out;
    };
    if map.get("type").and_then(Value::as_str) == Some("bundle") {
        let mut out = validate_bundle(obj);
        for (i, inner) in map
            .get("objects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let inner_out = validate(inner);
            let prefix = |mut v: crate::Violation| {
                v.path = if v.path.is_empty() {
                    format!("objects[{i}]")
                } else {
                    format!("objects[{i}].{}", v.path)
                };
                v
            };
            out.errors.extend(inner_out.errors.into_iter().map(prefix));
            out.warnings
                .extend(inner_out.warnings.into_iter().map(prefix));
        }
        return out;
    }
    let mut ctx = Ctx::new(map.get("id").and_then(Value::as_str));
    check_object(&mut ctx, obj, map);
    ctx.out
}

/// Validates a bundle's own properties (type, id, objects being a list of objects), not the
/// objects inside it.
pub fn validate_bundle(bundle: &Value) -> Validation {
    let map = match bundle.as_object() {
        Some(map) => map,
        None => return validate(bundle),
    };
    let mut ctx = Ctx::new(map.get("id").and_then(Value::as_str));
    let root = Path::Root;
    match map.get("type").and_then(Value::as_str) {
        Some("bundle") => {}
        _ => ctx.error(
            &root.key("type"),
            "type-invalid",
            "a bundle's type must be 'bundle'",
        ),
    }
    check_id(&mut ctx, map, Some("bundle"), Class::Bundle, None);
    for (k, v) in map {
        match k.as_str() {
            "type" | "id" => {}
            "objects" => crate::props::list(&mut ctx, &root.key(k), v, |ctx, path, item| {
                if !item.is_object() {
                    ctx.error(
                        path,
                        "json-type",
                        "each member of objects must be a STIX object",
                    );
                }
            }),
            "spec_version" => ctx.warn(
                &root.key(k),
                "bundle-spec-version",
                "bundles have no spec_version in STIX 2.1",
            ),
            _ => custom_property(&mut ctx, k, v, false),
        }
    }
    ctx.out
}

fn check_object(ctx: &mut Ctx, obj: &Value, map: &Map<String, Value>) {
    let root = Path::Root;
    let ty = match map.get("type") {
        None => {
            ctx.error(
                &root.key("type"),
                "required-property",
                "required property 'type' is missing",
            );
            None
        }
        Some(Value::String(ty)) if is_type_name(ty) => Some(ty.as_str()),
        Some(Value::String(ty)) => {
            let msg =
                format!("'{ty}' is not a type name (a-z, 0-9 and single '-', 3 to 250 characters)");
            ctx.error(&root.key("type"), "type-invalid", msg);
            None
        }
        Some(_) => {
            ctx.error(&root.key("type"), "json-type", "must be a string");
            None
        }
    };
    let spec = ty.and_then(spec_of);
    let declared = declared(map);
    let class = match ty.map(class_of) {
        Some(Class::Custom) => declared.new_object.unwrap_or(Class::Sdo),
        Some(class) => class,
        None => Class::Custom,
    };
    if let (Some(ty), None, None) = (ty, &spec, declared.new_object) {
        if !ty.starts_with("x-") {
            let msg = format!("custom type '{ty}' should be defined by an extension-definition (new-sdo/new-sco/new-sro)");
            ctx.warn(&root.key("type"), "custom-object-prefix", msg);
        }
    }
    let common = spec.as_ref().map_or(
        if class == Class::Sco {
            CYBER_OBSERVABLE
        } else {
            DOMAIN
        },
        |s| s.common,
    );
    let own: &[Prop] = spec.as_ref().map_or(&[], |s| s.props);
    let tables = [own, common];
    let is_marking = ty == Some("marking-definition");

    let deterministic = if class == Class::Sco {
        deterministic_sco_id(obj)
    } else {
        None
    };
    check_id(ctx, map, ty, class, deterministic.as_deref());
    match map.get("spec_version") {
        None if class == Class::Sco => {}
        None => ctx.error(
            &root.key("spec_version"),
            "required-property",
            "required property 'spec_version' is missing",
        ),
        Some(Value::String(v)) if v == "2.1" => {}
        Some(Value::String(v)) => ctx.error(
            &root.key("spec_version"),
            "spec-version",
            format!("'{v}' is not '2.1'"),
        ),
        Some(_) => ctx.error(
            &root.key("spec_version"),
            "json-type",
            "must be the string '2.1'",
        ),
    }
    for (k, v) in map {
        match find(&tables, k) {
            Some(p) => check_value(ctx, &root.key(k), v, &p.kind, map),
            // A custom type defines its own properties; only predefined types need the prefix.
            // The reserved names belong to the common properties of SDOs, SROs and SCOs.
            None if RESERVED.contains(&k.as_str()) && !is_marking => {
                let msg = format!("'{k}' is a reserved property name and must not be used");
                ctx.error(&root.key(k), "reserved-property", msg);
            }
            None => custom_property(ctx, k, v, spec.is_none() || declared.toplevel_properties),
        }
    }
    check_required(ctx, &root, map, &tables);
    time_order(ctx, map, "created", "modified", false);
    if let Some(check) = spec.and_then(|s| s.check) {
        check(ctx, map);
    }
}

/// Checks `id`: present, `type--UUID` with an RFC 4122 UUID, prefix equal to `type`.
fn check_id(
    ctx: &mut Ctx,
    map: &Map<String, Value>,
    ty: Option<&str>,
    class: Class,
    deterministic: Option<&str>,
) {
    let path = Path::Root.key("id");
    let Some(id) = map.get("id") else {
        let hint = deterministic
            .map(|d| format!("; its deterministic id would be {d}"))
            .unwrap_or_default();
        ctx.error(
            &path,
            "required-property",
            format!("required property 'id' is missing{hint}"),
        );
        return;
    };
    let Some(id) = id.as_str() else {
        ctx.error(&path, "json-type", "must be a string");
        return;
    };
    match parse_identifier(id) {
        Err(IdError::Shape) => ctx.error(
            &path,
            "id-invalid",
            format!("'{id}' is not of the form type--UUID"),
        ),
        Err(IdError::Uuid) => ctx.error(
            &path,
            "id-invalid",
            format!("'{id}' does not end in an RFC 4122 UUID"),
        ),
        Ok((prefix, _)) if ty.is_some_and(|ty| ty != prefix) => {
            let msg = format!(
                "the id's type '{prefix}' does not match the object's type '{}'",
                ty.unwrap_or_default()
            );
            ctx.error(&path, "id-type-mismatch", msg);
        }
        Ok((_, uuid)) => match deterministic {
            Some(d) if d != id => ctx.warn(
                &path,
                "sco-id-deterministic",
                format!("SCO ids should be deterministic: {d}"),
            ),
            Some(_) => {}
            // Section 2.9: with no ID Contributing Properties present (a process never has
            // any), the id's UUID must be a version 4 one.
            None if ty.map(class_of) == Some(Class::Sco) && uuid_version(uuid) != 4 => ctx.error(
                &path,
                "sco-id-uuidv4",
                "an SCO without ID Contributing Properties (or a process) must use a UUIDv4 id",
            ),
            _ if class != Class::Sco && uuid_version(uuid) != 4 => ctx.warn(
                &path,
                "id-uuid-version",
                "SDO, SRO, meta and bundle ids should use UUIDv4",
            ),
            _ => {}
        },
    }
}

/// Rules for a property the spec does not define on this type.
fn custom_property(ctx: &mut Ctx, name: &str, v: &Value, prefix_optional: bool) {
    let path = Path::Root.key(name);
    if !is_property_name(name) {
        let msg = format!(
            "custom property name '{name}' must be 3 to 250 characters of a-z, 0-9 and '_', starting with a letter"
        );
        ctx.error(&path, "property-name", msg);
    } else if v.is_null() {
        ctx.error(
            &path,
            "json-type",
            "null is not a STIX value (omit the property instead)",
        );
    } else if v.as_array().is_some_and(Vec::is_empty) {
        ctx.error(
            &path,
            "list-empty",
            "must not be an empty list (omit the property instead)",
        );
    } else {
        if !name.starts_with("x_") && !prefix_optional {
            let msg = format!(
                "custom property '{name}' should be defined by an extension or start with 'x_'"
            );
            ctx.warn(&path, "custom-property-prefix", msg);
        }
        let is_id = |v: &Value| v.as_str().is_some_and(|s| parse_identifier(s).is_ok());
        let is_ref = name.ends_with("_ref") && !is_id(v);
        let is_refs = name.ends_with("_refs") && !v.as_array().is_some_and(|a| a.iter().all(is_id));
        if is_ref || is_refs {
            let msg = "a property named *_ref / *_refs should hold identifiers (type--UUID)";
            ctx.warn(&path, "custom-ref", msg);
        }
    }
}
