//! The 19 STIX Domain Objects: their property tables and type-specific rules.

use serde_json::Value;

use crate::constraints::{at_least_one, exclusive, requires, time_order};
use crate::props::{opt, req, JsonObject, Kind::*, Prop};
use crate::refs::Targets;
use crate::report::{Ctx, Path};
use crate::types::TypeSpec;
use crate::vocab;

const SOFTWARE: crate::refs::Targets = Targets::Only(&["software"]);

const ATTACK_PATTERN: &[Prop] = &[
    req("name", String),
    opt("description", String),
    opt("aliases", Strings),
    opt("kill_chain_phases", KillChainPhases),
];
const CAMPAIGN: &[Prop] = &[
    req("name", String),
    opt("description", String),
    opt("aliases", Strings),
    opt("first_seen", Timestamp),
    opt("last_seen", Timestamp),
    opt("objective", String),
];
const COURSE_OF_ACTION: &[Prop] = &[req("name", String), opt("description", String)];
const GROUPING: &[Prop] = &[
    opt("name", String),
    opt("description", String),
    req("context", Vocab(vocab::GROUPING_CONTEXT)),
    req("object_refs", Refs(Targets::Any)),
];
const IDENTITY: &[Prop] = &[
    req("name", String),
    opt("description", String),
    opt("roles", Strings),
    opt("identity_class", Vocab(vocab::IDENTITY_CLASS)),
    opt("sectors", Vocabs(vocab::INDUSTRY_SECTOR)),
    opt("contact_information", String),
];
const INCIDENT: &[Prop] = &[
    req("name", String),
    opt("description", String),
    opt("kill_chain_phases", KillChainPhases),
];
const INDICATOR: &[Prop] = &[
    opt("name", String),
    opt("description", String),
    opt("indicator_types", Vocabs(vocab::INDICATOR_TYPE)),
    req("pattern", String),
    req("pattern_type", Vocab(vocab::PATTERN_TYPE)),
    opt("pattern_version", String),
    req("valid_from", Timestamp),
    opt("valid_until", Timestamp),
    opt("kill_chain_phases", KillChainPhases),
];
const INFRASTRUCTURE: &[Prop] = &[
    req("name", String),
    opt("description", String),
    opt("infrastructure_types", Vocabs(vocab::INFRASTRUCTURE_TYPE)),
    opt("aliases", Strings),
    opt("kill_chain_phases", KillChainPhases),
    opt("first_seen", Timestamp),
    opt("last_seen", Timestamp),
];
const INTRUSION_SET: &[Prop] = &[
    req("name", String),
    opt("description", String),
    opt("aliases", Strings),
    opt("first_seen", Timestamp),
    opt("last_seen", Timestamp),
    opt("goals", Strings),
    opt("resource_level", Vocab(vocab::ATTACK_RESOURCE_LEVEL)),
    opt("primary_motivation", Vocab(vocab::ATTACK_MOTIVATION)),
    opt("secondary_motivations", Vocabs(vocab::ATTACK_MOTIVATION)),
];
const LOCATION: &[Prop] = &[
    opt("name", String),
    opt("description", String),
    opt("latitude", Number(-90.0, 90.0)),
    opt("longitude", Number(-180.0, 180.0)),
    opt("precision", Number(0.0, f64::MAX)),
    opt("region", Vocab(vocab::REGION)),
    opt("country", String),
    opt("administrative_area", String),
    opt("city", String),
    opt("street_address", String),
    opt("postal_code", String),
];
const MALWARE: &[Prop] = &[
    opt("name", String),
    opt("description", String),
    opt("malware_types", Vocabs(vocab::MALWARE_TYPE)),
    req("is_family", Boolean),
    opt("aliases", Strings),
    opt("kill_chain_phases", KillChainPhases),
    opt("first_seen", Timestamp),
    opt("last_seen", Timestamp),
    opt("operating_system_refs", Refs(SOFTWARE)),
    opt(
        "architecture_execution_envs",
        Vocabs(vocab::PROCESSOR_ARCHITECTURE),
    ),
    opt(
        "implementation_languages",
        Vocabs(vocab::IMPLEMENTATION_LANGUAGE),
    ),
    opt("capabilities", Vocabs(vocab::MALWARE_CAPABILITIES)),
    opt("sample_refs", Refs(Targets::Only(&["file", "artifact"]))),
];
const MALWARE_ANALYSIS: &[Prop] = &[
    req("product", String),
    opt("version", String),
    opt("host_vm_ref", Ref(SOFTWARE)),
    opt("operating_system_ref", Ref(SOFTWARE)),
    opt("installed_software_refs", Refs(SOFTWARE)),
    opt("configuration_version", String),
    opt("modules", Strings),
    opt("analysis_engine_version", String),
    opt("analysis_definition_version", String),
    opt("submitted", Timestamp),
    opt("analysis_started", Timestamp),
    opt("analysis_ended", Timestamp),
    opt("result_name", String),
    opt("result", Vocab(vocab::MALWARE_RESULT)),
    opt("analysis_sco_refs", Refs(Targets::Sco)),
    opt(
        "sample_ref",
        Ref(Targets::Only(&["file", "artifact", "network-traffic"])),
    ),
];
const NOTE: &[Prop] = &[
    opt("abstract", String),
    req("content", String),
    opt("authors", Strings),
    req("object_refs", Refs(Targets::Any)),
];
const OBSERVED_DATA: &[Prop] = &[
    req("first_observed", Timestamp),
    req("last_observed", Timestamp),
    req("number_observed", Integer(1, 999_999_999)),
    opt("objects", Dictionary),
    opt("object_refs", Refs(Targets::ScoOrSro)),
];
const OPINION: &[Prop] = &[
    opt("explanation", String),
    opt("authors", Strings),
    req("opinion", Enum(vocab::OPINION)),
    req("object_refs", Refs(Targets::Any)),
];
const REPORT: &[Prop] = &[
    req("name", String),
    opt("description", String),
    opt("report_types", Vocabs(vocab::REPORT_TYPE)),
    req("published", Timestamp),
    req("object_refs", Refs(Targets::Any)),
];
const THREAT_ACTOR: &[Prop] = &[
    req("name", String),
    opt("description", String),
    opt("threat_actor_types", Vocabs(vocab::THREAT_ACTOR_TYPE)),
    opt("aliases", Strings),
    opt("first_seen", Timestamp),
    opt("last_seen", Timestamp),
    opt("roles", Vocabs(vocab::THREAT_ACTOR_ROLE)),
    opt("goals", Strings),
    opt("sophistication", Vocab(vocab::THREAT_ACTOR_SOPHISTICATION)),
    opt("resource_level", Vocab(vocab::ATTACK_RESOURCE_LEVEL)),
    opt("primary_motivation", Vocab(vocab::ATTACK_MOTIVATION)),
    opt("secondary_motivations", Vocabs(vocab::ATTACK_MOTIVATION)),
    opt("personal_motivations", Vocabs(vocab::ATTACK_MOTIVATION)),
];
const TOOL: &[Prop] = &[
    req("name", String),
    opt("description", String),
    opt("tool_types", Vocabs(vocab::TOOL_TYPE)),
    opt("aliases", Strings),
    opt("kill_chain_phases", KillChainPhases),
    opt("tool_version", String),
];
const VULNERABILITY: &[Prop] = &[req("name", String), opt("description", String)];

fn seen_order(ctx: &mut Ctx, map: &JsonObject) {
    time_order(ctx, map, "first_seen", "last_seen", false);
}

fn indicator(ctx: &mut Ctx, map: &JsonObject) {
    time_order(ctx, map, "valid_from", "valid_until", true);
}

fn location(ctx: &mut Ctx, map: &JsonObject) {
    requires(ctx, map, "latitude", "longitude");
    requires(ctx, map, "longitude", "latitude");
    requires(ctx, map, "precision", "latitude");
    requires(ctx, map, "precision", "longitude");
    at_least_one(ctx, map, &["region", "country", "latitude"]);
}

fn malware(ctx: &mut Ctx, map: &JsonObject) {
    if map.get("is_family") == Some(&Value::Bool(true)) && !map.contains_key("name") {
        ctx.error(
            &Path::Root.key("name"),
            "required-property",
            "'name' is required when is_family is true",
        );
    }
    seen_order(ctx, map);
}

fn malware_analysis(ctx: &mut Ctx, map: &JsonObject) {
    at_least_one(ctx, map, &["result", "analysis_sco_refs"]);
}

fn observed_data(ctx: &mut Ctx, map: &JsonObject) {
    at_least_one(ctx, map, &["objects", "object_refs"]);
    exclusive(ctx, map, "object_refs", "objects");
    time_order(ctx, map, "first_observed", "last_observed", false);
    if map.contains_key("objects") {
        ctx.warn(
            &Path::Root.key("objects"),
            "deprecated",
            "'objects' is deprecated; use object_refs",
        );
    }
}

/// The SDO type spec for `ty`, if `ty` is one of the 19 SDOs.
pub(crate) fn spec(ty: &str) -> Option<TypeSpec> {
    let (props, check): (&'static [Prop], crate::types::Check) = match ty {
        "attack-pattern" => (ATTACK_PATTERN, None),
        "campaign" => (CAMPAIGN, Some(seen_order)),
        "course-of-action" => (COURSE_OF_ACTION, None),
        "grouping" => (GROUPING, None),
        "identity" => (IDENTITY, None),
        "incident" => (INCIDENT, None),
        "indicator" => (INDICATOR, Some(indicator)),
        "infrastructure" => (INFRASTRUCTURE, Some(seen_order)),
        "intrusion-set" => (INTRUSION_SET, Some(seen_order)),
        "location" => (LOCATION, Some(location)),
        "malware" => (MALWARE, Some(malware)),
        "malware-analysis" => (MALWARE_ANALYSIS, Some(malware_analysis)),
        "note" => (NOTE, None),
        "observed-data" => (OBSERVED_DATA, Some(observed_data)),
        "opinion" => (OPINION, None),
        "report" => (REPORT, None),
        "threat-actor" => (THREAT_ACTOR, Some(seen_order)),
        "tool" => (TOOL, None),
        "vulnerability" => (VULNERABILITY, None),
        _ => return None,
    };
    Some(TypeSpec {
        common: crate::types::DOMAIN,
        props,
        check,
    })
}
