//! The registry of STIX types: for a type name, its common property table, its own property
//! table and its type-specific rules. The tables themselves live in `sdo`, `sro`, `sco`, `meta`.

use serde_json::{Map, Value};

use crate::props::{opt, req, Kind, Prop};
use crate::refs::Targets;
use crate::report::Ctx;

/// Type-specific rules run after the property-by-property checks.
pub(crate) type Check = Option<fn(&mut Ctx, &Map<String, Value>)>;

/// What the validator knows about one type.
pub(crate) struct TypeSpec {
    /// Common properties (section 3.2 for SDOs/SROs, 6.1 for SCOs, 7.2 for marking definitions).
    pub(crate) common: &'static [Prop],
    /// The type's own properties; they take precedence over `common` of the same name.
    pub(crate) props: &'static [Prop],
    /// Type-specific co-constraints.
    pub(crate) check: Check,
}

const MARKING_REFS: Targets = Targets::Only(&["marking-definition"]);

/// Common properties of SDOs, SROs, language-content and extension-definition.
pub(crate) const DOMAIN: &[Prop] = &[
    req("type", Kind::Core),
    req("spec_version", Kind::Core),
    req("id", Kind::Core),
    req("created", Kind::TimestampMillis),
    req("modified", Kind::TimestampMillis),
    opt("created_by_ref", Kind::Ref(Targets::Only(&["identity"]))),
    opt("revoked", Kind::Boolean),
    opt("labels", Kind::Strings),
    opt("confidence", Kind::Integer(0, 100)),
    opt("lang", Kind::Lang),
    opt("external_references", Kind::ExternalReferences),
    opt("object_marking_refs", Kind::Refs(MARKING_REFS)),
    opt("granular_markings", Kind::GranularMarkings),
    opt("extensions", Kind::Extensions(&[])),
];

/// Common properties of SCOs (`spec_version` optional).
pub(crate) const CYBER_OBSERVABLE: &[Prop] = &[
    req("type", Kind::Core),
    opt("spec_version", Kind::Core),
    req("id", Kind::Core),
    opt("object_marking_refs", Kind::Refs(MARKING_REFS)),
    opt("granular_markings", Kind::GranularMarkings),
    opt("defanged", Kind::Boolean),
    opt("extensions", Kind::Extensions(&[])),
];

/// Properties of marking-definition objects (they are not versioned: no `modified`).
pub(crate) const MARKING: &[Prop] = &[
    req("type", Kind::Core),
    req("spec_version", Kind::Core),
    req("id", Kind::Core),
    req("created", Kind::TimestampMillis),
    opt("created_by_ref", Kind::Ref(Targets::Only(&["identity"]))),
    opt("external_references", Kind::ExternalReferences),
    opt("object_marking_refs", Kind::Refs(MARKING_REFS)),
    opt("granular_markings", Kind::GranularMarkings),
    opt("extensions", Kind::Extensions(&[])),
    opt("name", Kind::String),
    opt("definition_type", Kind::String),
    opt("definition", Kind::Object),
];

/// The spec of a predefined type, or `None` for a custom type.
pub(crate) fn spec_of(ty: &str) -> Option<TypeSpec> {
    crate::sdo::spec(ty)
        .or_else(|| crate::sro::spec(ty))
        .or_else(|| crate::sco::spec(ty))
        .or_else(|| crate::meta::spec(ty))
}
