//! Real STIX content must validate with zero errors: MITRE ATT&CK (ICS and Mobile) and the
//! OASIS STIX 2.1 examples.

use std::path::PathBuf;

use comity_stix::{validate, Validation};
use serde_json::Value;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(rel)
}

fn load(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Objects of the published data that really break a MUST of STIX 2.1, with the one rule each
/// breaks. Section 3.2 says of `modified`: "this property MUST be later than or equal to the
/// value of the created property"; this ATT&CK relationship was modified in April 2018 but
/// created in October 2018. It is pinned here so that any other finding still fails the test.
const KNOWN_SPEC_VIOLATIONS: &[(&str, &str)] = &[(
    "relationship--f825f5ea-3815-431f-b005-4c01b8b2fed9",
    "modified-before-created",
)];

/// Validates every object of a bundle one by one; returns how many there were.
fn assert_bundle_valid(path: &PathBuf) -> usize {
    let bundle = load(path);
    let objects = bundle["objects"].as_array().expect("a bundle with objects");
    let mut errors = Vec::new();
    for obj in objects {
        let Validation { errors: e, .. } = validate(obj);
        let id = obj["id"].as_str().unwrap_or_default();
        if let Some((_, rule)) = KNOWN_SPEC_VIOLATIONS.iter().find(|(known, _)| *known == id) {
            let rules: Vec<&str> = e.iter().map(|v| v.rule).collect();
            assert_eq!(rules, [*rule], "{id} must break exactly its known rule");
            continue;
        }
        errors.extend(e.into_iter().map(|v| v.to_string()));
    }
    assert!(
        errors.is_empty(),
        "{}: {} errors, first: {:#?}",
        path.display(),
        errors.len(),
        &errors[..errors.len().min(20)]
    );
    objects.len()
}

#[test]
fn ics_attack_validates_without_errors() {
    assert!(assert_bundle_valid(&data("attack/ics-attack-18.1.json")) > 1000);
}

#[test]
fn mobile_attack_validates_without_errors() {
    assert!(assert_bundle_valid(&data("attack/mobile-attack-13.1.json")) > 1000);
}

#[test]
fn oasis_examples_validate_without_errors() {
    let mut files = 0;
    for entry in std::fs::read_dir(data("stix-examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            assert_bundle_valid(&path);
            let whole = validate(&load(&path));
            assert!(
                whole.is_valid(),
                "{}: bundle-level {:#?}",
                path.display(),
                whole.errors
            );
            files += 1;
        }
    }
    assert!(
        files >= 10,
        "expected the OASIS examples, found {files} files"
    );
}
