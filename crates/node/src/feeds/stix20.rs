//! STIX 2.0 objects made STIX 2.1 objects, as a TAXII 2.0 feed reads them (the node stores
//! 2.1 only). What differs between the two and is common in feeds is converted:
//!
//! - every object gets `spec_version: "2.1"` (a 2.0 object carries none: one that does is
//!   no 2.0 object);
//! - indicators get `pattern_type: "stix"` (2.0 patterns are STIX patterns);
//! - the `labels` that 2.0 required on indicators, malware, reports, threat actors and tools
//!   stay, and also become their 2.1 `…_types` (the 2.0 label vocabularies are the 2.1 type
//!   vocabularies);
//! - malware gets `is_family: true` (2.1 requires it; a 2.0 malware object names a family
//!   or a variant as a family does);
//! - the four TLP marking definitions (the same ids in 2.0 and 2.1) get their 2.1 `name`.
//!
//! Types STIX 2.0 does not have (2.1's new objects, top-level cyber observables) are not
//! converted, and neither is anything that is not valid STIX 2.1 once converted (checked
//! with [`comity_stix::validate`]): the reason is returned and nothing of it is stored.

use comity_stix::tlp::Tlp;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The object types of STIX 2.0 (custom ones start with `x-`).
const STIX20_TYPES: [&str; 15] = [
    "attack-pattern",
    "campaign",
    "course-of-action",
    "identity",
    "indicator",
    "intrusion-set",
    "malware",
    "observed-data",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
    "relationship",
    "sighting",
    "marking-definition",
];

/// The types whose 2.0 `labels` became a 2.1 `…_types` property.
const TYPES_FROM_LABELS: [(&str, &str); 5] = [
    ("indicator", "indicator_types"),
    ("malware", "malware_types"),
    ("report", "report_types"),
    ("threat-actor", "threat_actor_types"),
    ("tool", "tool_types"),
];

/// `raw`, a STIX 2.0 object, as a valid STIX 2.1 object; or why it cannot be one (naming
/// the object by its id when it has one).
pub(super) fn to_stix21(raw: &RawValue) -> Result<Map<String, Value>, String> {
    let value: Value =
        serde_json::from_str(raw.get()).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(mut object) = value else {
        return Err("not a JSON object".into());
    };
    let id = match object.get("id") {
        Some(Value::String(id)) => id.clone(),
        _ => "an object without an id".into(),
    };
    let ty = match object.get("type") {
        Some(Value::String(ty)) => ty.clone(),
        _ => return Err(format!("{id}: no type")),
    };
    if !STIX20_TYPES.contains(&ty.as_str()) && !ty.starts_with("x-") {
        return Err(format!("{id}: {ty:?} is not a STIX 2.0 object type"));
    }
    if let Some(version) = object.get("spec_version") {
        return Err(format!(
            "{id}: carries spec_version {version}, which no STIX 2.0 object has"
        ));
    }
    object.insert("spec_version".into(), "2.1".into());
    match ty.as_str() {
        "indicator" => {
            object
                .entry("pattern_type")
                .or_insert_with(|| "stix".into());
        }
        "malware" => {
            object.entry("is_family").or_insert(Value::Bool(true));
        }
        "marking-definition" => name_tlp_definition(&mut object),
        _ => {}
    }
    if let Some((_, property)) = TYPES_FROM_LABELS.iter().find(|(t, _)| *t == ty) {
        if let Some(labels) = object.get("labels").cloned() {
            object.entry(*property).or_insert(labels);
        }
    }
    let converted = Value::Object(object);
    let errors = comity_stix::validate(&converted).errors;
    if !errors.is_empty() {
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        return Err(format!(
            "{id}: not valid STIX 2.1 once converted: {}",
            errors.join("; ")
        ));
    }
    match converted {
        Value::Object(object) => Ok(object),
        _ => unreachable!("an object stays an object"),
    }
}

/// A TLP 1.0 marking definition gets the `name` STIX 2.1 gives it (`TLP:AMBER`); whether it
/// is the standard one for its id is for validation to say.
fn name_tlp_definition(object: &mut Map<String, Value>) {
    if object.get("definition_type").and_then(Value::as_str) != Some("tlp") {
        return;
    }
    let level = object
        .get("definition")
        .and_then(|d| d.get("tlp"))
        .and_then(Value::as_str)
        .filter(|level| Tlp::from_tlp1_value(level).is_some())
        .map(str::to_ascii_uppercase);
    if let Some(level) = level {
        object
            .entry("name")
            .or_insert_with(|| format!("TLP:{level}").into());
    }
}

#[cfg(test)]
mod tests {
    use comity_stix::tlp::{TLP1_AMBER, TLP1_WHITE};
    use serde_json::json;

    use super::*;

    fn convert(object: Value) -> Result<Value, String> {
        let raw = RawValue::from_string(object.to_string()).unwrap();
        to_stix21(&raw).map(Value::Object)
    }

    const ID: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    const T: &str = "2017-06-01T00:00:00.000Z";

    fn indicator20() -> Value {
        json!({"type": "indicator", "id": ID, "created": T, "modified": T,
            "labels": ["malicious-activity"], "name": "C2",
            "pattern": "[ipv4-addr:value = '198.51.100.1']", "valid_from": "2017-06-01T00:00:00Z"})
    }

    #[test]
    fn an_indicator_gets_its_spec_version_pattern_type_and_types() {
        assert_eq!(
            convert(indicator20()).unwrap(),
            json!({"type": "indicator", "spec_version": "2.1", "id": ID, "created": T,
                "modified": T, "labels": ["malicious-activity"],
                "indicator_types": ["malicious-activity"], "name": "C2",
                "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
                "valid_from": "2017-06-01T00:00:00Z"})
        );
    }

    #[test]
    fn malware_becomes_a_family_with_its_types() {
        let id = "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b";
        let malware = json!({"type": "malware", "id": id, "created": T, "modified": T,
            "name": "Cryptolocker", "labels": ["ransomware"]});
        assert_eq!(
            convert(malware).unwrap(),
            json!({"type": "malware", "spec_version": "2.1", "id": id, "created": T,
                "modified": T, "name": "Cryptolocker", "labels": ["ransomware"],
                "malware_types": ["ransomware"], "is_family": true})
        );
    }

    #[test]
    fn threat_actors_tools_and_reports_keep_labels_and_get_types() {
        let actor = "threat-actor--9a8a0d25-7636-429b-a99e-b2a73cd0f11f";
        let cases = [
            (
                json!({"type": "threat-actor", "id": actor, "created": T, "modified": T,
                    "name": "Evil Org", "labels": ["crime-syndicate"]}),
                "threat_actor_types",
            ),
            (
                json!({"type": "tool", "id": "tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                    "created": T, "modified": T, "name": "VNC", "labels": ["remote-access"]}),
                "tool_types",
            ),
            (
                json!({"type": "report", "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
                    "created": T, "modified": T, "name": "The Black Vine Group",
                    "published": "2017-06-02T00:00:00Z", "labels": ["threat-actor"],
                    "object_refs": [actor]}),
                "report_types",
            ),
        ];
        for (object, property) in cases {
            let mut expected = object.clone();
            expected["spec_version"] = json!("2.1");
            expected[property] = object["labels"].clone();
            assert_eq!(convert(object).unwrap(), expected, "{property}");
        }
    }

    #[test]
    fn a_tlp_definition_becomes_the_standard_21_one_and_others_pass_with_a_version() {
        let amber = json!({"type": "marking-definition", "id": TLP1_AMBER,
            "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
            "definition": {"tlp": "amber"}});
        assert_eq!(
            convert(amber).unwrap(),
            json!({"type": "marking-definition", "spec_version": "2.1", "id": TLP1_AMBER,
                "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
                "name": "TLP:AMBER", "definition": {"tlp": "amber"}})
        );
        let statement = json!({"type": "marking-definition",
            "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41db",
            "created": T, "definition_type": "statement",
            "definition": {"statement": "Copyright 2017, Example Corp"}});
        let mut expected = statement.clone();
        expected["spec_version"] = json!("2.1");
        assert_eq!(convert(statement).unwrap(), expected);
        // The WHITE id defining RED is no standard TLP definition: not converted.
        let forged = json!({"type": "marking-definition", "id": TLP1_WHITE,
            "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
            "definition": {"tlp": "red"}});
        let why = convert(forged).unwrap_err();
        assert!(why.contains("[tlp-noncanonical]"), "{why}");
    }

    #[test]
    fn relationships_sightings_observed_data_and_custom_objects_get_a_version() {
        let cases = [
            json!({"type": "relationship",
                "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
                "created": T, "modified": T, "relationship_type": "indicates",
                "source_ref": ID, "target_ref": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}),
            json!({"type": "sighting", "id": "sighting--ee20065d-2555-424f-ad9e-0f8428623c75",
                "created": T, "modified": T, "sighting_of_ref": ID, "count": 2}),
            json!({"type": "observed-data",
                "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
                "created": T, "modified": T, "first_observed": "2017-06-01T00:00:00Z",
                "last_observed": "2017-06-01T00:00:00Z", "number_observed": 1,
                "objects": {"0": {"type": "ipv4-addr", "value": "198.51.100.3"}}}),
            json!({"type": "x-example-thing", "id": "x-example-thing--b67d30ff-02ac-498a-92f9-32f845f448cf",
                "created": T, "modified": T, "x_note": "kept"}),
        ];
        for object in cases {
            let mut expected = object.clone();
            expected["spec_version"] = json!("2.1");
            assert_eq!(convert(object.clone()).unwrap(), expected, "{object}");
        }
    }

    #[test]
    fn hostile_strings_pass_through_as_data() {
        let mut hostile = indicator20();
        let text = "<script>alert(1)</script>\u{202e}'; DROP TABLE objects; --";
        hostile["name"] = json!(text);
        hostile["description"] = json!("a\u{0}b\r\nc");
        let converted = convert(hostile).unwrap();
        assert_eq!(converted["name"], text);
        assert_eq!(converted["description"], "a\u{0}b\r\nc");
    }

    #[test]
    fn what_is_no_20_object_or_no_valid_21_object_is_not_converted() {
        let without = |property: &str| {
            let mut o = indicator20();
            o.as_object_mut().unwrap().remove(property);
            o
        };
        let mut v21 = indicator20();
        v21["spec_version"] = json!("2.1");
        let mut bad_id = indicator20();
        bad_id["id"] = json!("indicator--<script>");
        let cases = [
            (json!("indicator"), "not a JSON object".to_owned()),
            (json!([indicator20()]), "not a JSON object".to_owned()),
            (without("type"), format!("{ID}: no type")),
            (
                json!({"type": "grouping", "id": "grouping--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3"}),
                "\"grouping\" is not a STIX 2.0 object type".to_owned(),
            ),
            (
                json!({"type": "ipv4-addr", "value": "198.51.100.1"}),
                "an object without an id: \"ipv4-addr\" is not a STIX 2.0 object type".to_owned(),
            ),
            (
                json!({"type": "bundle", "id": "bundle--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3"}),
                "\"bundle\" is not a STIX 2.0 object type".to_owned(),
            ),
            (
                v21,
                format!("{ID}: carries spec_version \"2.1\", which no STIX 2.0 object has"),
            ),
            (
                without("valid_from"),
                format!("{ID}: not valid STIX 2.1 once converted: {ID}: valid_from:"),
            ),
            (bad_id, "[id-invalid]".to_owned()),
        ];
        for (object, expected) in cases {
            let why = convert(object.clone()).unwrap_err();
            assert!(why.contains(&expected), "{object}: {why}");
        }
        let raw = RawValue::from_string("[1,2]".into()).unwrap();
        assert_eq!(to_stix21(&raw).unwrap_err(), "not a JSON object");
    }
}
