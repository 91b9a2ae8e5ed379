//! Property tests: timestamp ordering, canonical JSON stability, deterministic ids that ignore
//! non-contributing properties, and a validator that never panics whatever it is given.

use comity_stix::{canonical_json, deterministic_sco_id, validate};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Year, month, day, hour, minute, second and nine fraction digits: orders like the instant.
type Parts = (u32, u32, u32, u32, u32, u32, String);

/// A timestamp as comparable parts, and its STIX text.
fn timestamp() -> impl Strategy<Value = (Parts, String)> {
    (
        1970u32..2100,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
        "[0-9]{3,9}",
    )
        .prop_map(|(y, mo, d, h, mi, s, frac)| {
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac}Z");
            ((y, mo, d, h, mi, s, format!("{frac:0<9}")), text)
        })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        (-1e12f64..1e12).prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Equality of JSON values where numbers compare as IEEE doubles (JCS writes 3.0 as 3).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

proptest! {
    #[test]
    fn modified_before_created_is_reported_exactly_when_it_is_earlier(
        (created_key, created) in timestamp(),
        (modified_key, modified) in timestamp(),
    ) {
        let obj = json!({
            "type": "identity", "spec_version": "2.1", "id": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
            "created": created, "modified": modified, "name": "x"
        });
        let v = validate(&obj);
        let reported = v.errors.iter().any(|e| e.rule == "modified-before-created");
        prop_assert_eq!(reported, modified_key < created_key);
        prop_assert_eq!(v.errors.len(), usize::from(reported));
    }

    #[test]
    fn canonical_json_is_a_fixed_point_and_preserves_the_value(v in json_value()) {
        let once = canonical_json(&v);
        let back: Value = serde_json::from_str(&once).unwrap();
        prop_assert_eq!(canonical_json(&back), once);
        prop_assert!(same(&back, &v), "{} vs {}", back, v);
    }

    #[test]
    fn deterministic_ids_ignore_non_contributing_properties(value in "[a-z0-9.-]{1,40}", defanged: bool) {
        let bare = json!({"type": "domain-name", "value": value});
        let dressed = json!({
            "type": "domain-name", "value": value, "spec_version": "2.1", "defanged": defanged,
            "id": "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7",
            "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]
        });
        let id = deterministic_sco_id(&bare).unwrap();
        prop_assert!(id.starts_with("domain-name--"));
        prop_assert_eq!(Some(id), deterministic_sco_id(&dressed));
    }

    #[test]
    fn validation_never_panics(
        ty in prop::sample::select(vec![
            "indicator", "malware", "relationship", "sighting", "observed-data", "location", "file",
            "network-traffic", "email-message", "marking-definition", "bundle", "x-custom", "Bad Type",
        ]),
        props in prop::collection::btree_map(
            prop::sample::select(vec![
                "id", "created", "modified", "spec_version", "granular_markings", "extensions", "objects",
                "hashes", "external_references", "kill_chain_phases", "object_refs", "definition", "is_multipart",
                "body_multipart", "latitude", "valid_from", "x_custom_ref", "values",
            ]),
            json_value(),
            0..8,
        ),
    ) {
        let mut obj: serde_json::Map<String, Value> = props.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        obj.insert("type".into(), json!(ty));
        let v = validate(&Value::Object(obj));
        for finding in v.errors.iter().chain(&v.warnings) {
            prop_assert!(!finding.rule.is_empty() && !finding.message.is_empty());
        }
    }
}
