//! The two STIX Relationship Objects: relationship and sighting.

use serde_json::Value;

use crate::constraints::time_order;
use crate::props::{opt, req, JsonObject, Kind::*, Prop};
use crate::refs::Targets;
use crate::report::{Ctx, Path};
use crate::types::{TypeSpec, DOMAIN};

const RELATIONSHIP: &[Prop] = &[
    req("relationship_type", String),
    opt("description", String),
    req("source_ref", Ref(Targets::SdoOrSco)),
    req("target_ref", Ref(Targets::SdoOrSco)),
    opt("start_time", Timestamp),
    opt("stop_time", Timestamp),
];
const SIGHTING: &[Prop] = &[
    opt("description", String),
    opt("first_seen", Timestamp),
    opt("last_seen", Timestamp),
    opt("count", Integer(0, 999_999_999)),
    req("sighting_of_ref", Ref(Targets::Sdo)),
    opt(
        "observed_data_refs",
        Refs(Targets::Only(&["observed-data"])),
    ),
    opt(
        "where_sighted_refs",
        Refs(Targets::Only(&["identity", "location"])),
    ),
    opt("summary", Boolean),
];

fn relationship(ctx: &mut Ctx, map: &JsonObject) {
    if let Some(rt) = map.get("relationship_type").and_then(Value::as_str) {
        let ok = !rt.is_empty()
            && rt
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            let msg = format!("'{rt}' must contain only a-z, 0-9 and '-'");
            ctx.error(&Path::Root.key("relationship_type"), "value-format", msg);
        }
    }
    time_order(ctx, map, "start_time", "stop_time", true);
}

fn sighting(ctx: &mut Ctx, map: &JsonObject) {
    time_order(ctx, map, "first_seen", "last_seen", false);
}

/// The SRO type spec for `ty`, if `ty` is relationship or sighting.
pub(crate) fn spec(ty: &str) -> Option<TypeSpec> {
    match ty {
        "relationship" => Some(TypeSpec {
            common: DOMAIN,
            props: RELATIONSHIP,
            check: Some(relationship),
        }),
        "sighting" => Some(TypeSpec {
            common: DOMAIN,
            props: SIGHTING,
            check: Some(sighting),
        }),
        _ => None,
    }
}
