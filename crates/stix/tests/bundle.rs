//! Bundles: the envelope's own rules, and findings about contained objects keeping their own
//! object id with an `objects[i]` path prefix.

use comity_stix::{validate, validate_bundle};
use serde_json::json;

fn identity(confidence: i64) -> serde_json::Value {
    json!({
        "type": "identity", "spec_version": "2.1", "id": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
        "created": "2024-03-01T10:00:00.000Z", "modified": "2024-03-01T10:00:00.000Z", "name": "CERT-EU",
        "confidence": confidence
    })
}

#[test]
fn findings_inside_a_bundle_name_the_inner_object_and_its_position() {
    let bundle = json!({
        "type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": [identity(50), identity(101)]
    });
    let v = validate(&bundle);
    assert_eq!(v.errors.len(), 1, "{:?}", v.errors);
    let e = &v.errors[0];
    assert_eq!(e.rule, "range");
    assert_eq!(e.path, "objects[1].confidence");
    assert_eq!(
        e.object_id.as_deref(),
        Some("identity--f431f809-377b-45e0-aa1c-6a4751cae5ff")
    );
    // The envelope alone is fine.
    assert!(validate_bundle(&bundle).is_valid());
}

#[test]
fn the_envelope_has_its_own_rules() {
    let cases = [
        (
            json!({"type": "bundle", "id": "report--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [identity(1)]}),
            "id-type-mismatch",
        ),
        (
            json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": []}),
            "list-empty",
        ),
        (
            json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [42]}),
            "json-type",
        ),
        (
            json!({"type": "bundle", "objects": [identity(1)]}),
            "required-property",
        ),
    ];
    for (bundle, rule) in cases {
        let rules: Vec<&str> = validate_bundle(&bundle)
            .errors
            .iter()
            .map(|e| e.rule)
            .collect();
        assert_eq!(rules, [rule], "{bundle}");
    }
}

#[test]
fn a_stix_2_0_style_bundle_spec_version_is_only_a_warning() {
    let bundle = json!({
        "type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "spec_version": "2.1",
        "objects": [identity(1)]
    });
    let v = validate_bundle(&bundle);
    assert!(v.is_valid());
    assert_eq!(
        v.warnings.iter().map(|w| w.rule).collect::<Vec<_>>(),
        ["bundle-spec-version"]
    );
}
