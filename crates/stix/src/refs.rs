//! Identifier references (`*_ref`, `*_refs`): the classes of STIX types and which classes a
//! reference may point at. A custom (unknown) type is accepted wherever a class is required,
//! since its class cannot be told from its identifier.

use serde_json::Value;

use crate::id::{parse_identifier, IdError};
use crate::report::{Ctx, Path};

/// The classes of STIX objects the spec distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Sdo,
    Sro,
    Sco,
    Meta,
    Bundle,
    Custom,
}

/// The class of a type name, by the spec's list of predefined types.
pub(crate) fn class_of(ty: &str) -> Class {
    match ty {
        "attack-pattern" | "campaign" | "course-of-action" | "grouping" | "identity"
        | "incident" | "indicator" | "infrastructure" | "intrusion-set" | "location"
        | "malware" | "malware-analysis" | "note" | "observed-data" | "opinion" | "report"
        | "threat-actor" | "tool" | "vulnerability" => Class::Sdo,
        "relationship" | "sighting" => Class::Sro,
        "artifact"
        | "autonomous-system"
        | "directory"
        | "domain-name"
        | "email-addr"
        | "email-message"
        | "file"
        | "ipv4-addr"
        | "ipv6-addr"
        | "mac-addr"
        | "mutex"
        | "network-traffic"
        | "process"
        | "software"
        | "url"
        | "user-account"
        | "windows-registry-key"
        | "x509-certificate" => Class::Sco,
        "marking-definition" | "language-content" | "extension-definition" => Class::Meta,
        "bundle" => Class::Bundle,
        _ => Class::Custom,
    }
}

/// What a reference property may point at.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Targets {
    /// Any STIX object.
    Any,
    /// Only the listed types.
    Only(&'static [&'static str]),
    /// An SDO (or a custom object).
    Sdo,
    /// An SCO (or a custom object).
    Sco,
    /// An SCO or an SRO (or a custom object): observed-data `object_refs`.
    ScoOrSro,
    /// An SDO or an SCO (or a custom object): relationship `source_ref` / `target_ref`.
    SdoOrSco,
}

impl Targets {
    fn allows(self, ty: &str) -> bool {
        let class = class_of(ty);
        match self {
            Targets::Any => class != Class::Bundle,
            Targets::Only(types) => types.contains(&ty),
            Targets::Sdo => matches!(class, Class::Sdo | Class::Custom),
            Targets::Sco => matches!(class, Class::Sco | Class::Custom),
            Targets::ScoOrSro => matches!(class, Class::Sco | Class::Sro | Class::Custom),
            Targets::SdoOrSco => matches!(class, Class::Sdo | Class::Sco | Class::Custom),
        }
    }

    fn describe(self) -> String {
        match self {
            Targets::Any => "a STIX object".into(),
            Targets::Only(types) => types.join(" or "),
            Targets::Sdo => "an SDO".into(),
            Targets::Sco => "an SCO".into(),
            Targets::ScoOrSro => "an SCO or an SRO".into(),
            Targets::SdoOrSco => "an SDO or an SCO".into(),
        }
    }
}

/// Checks that `v` is an identifier and that it points at an allowed type.
pub(crate) fn check_ref(ctx: &mut Ctx, path: &Path<'_>, v: &Value, targets: Targets) {
    let Some(s) = v.as_str() else {
        ctx.error(path, "json-type", "must be a string holding an identifier");
        return;
    };
    match parse_identifier(s) {
        Ok((ty, _)) if targets.allows(ty) => {}
        Ok((ty, _)) => ctx.error(
            path,
            "ref-type",
            format!(
                "'{s}' refers to type {ty}; it must refer to {}",
                targets.describe()
            ),
        ),
        Err(IdError::Shape) => ctx.error(
            path,
            "ref-invalid",
            format!("'{s}' is not an identifier of the form type--UUID"),
        ),
        Err(IdError::Uuid) => ctx.error(
            path,
            "ref-invalid",
            format!("'{s}' does not end in an RFC 4122 UUID"),
        ),
    }
}

/// Checks a non-empty list of references.
pub(crate) fn check_refs(ctx: &mut Ctx, path: &Path<'_>, v: &Value, targets: Targets) {
    let Some(items) = v.as_array() else {
        ctx.error(path, "json-type", "must be a list of identifiers");
        return;
    };
    if items.is_empty() {
        ctx.error(path, "list-empty", "must not be an empty list");
    }
    for (i, item) in items.iter().enumerate() {
        check_ref(ctx, &path.index(i), item, targets);
    }
}
