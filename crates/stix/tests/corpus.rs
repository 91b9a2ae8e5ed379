//! The corpus of deliberately broken objects (`tests/corpus/invalid/<rule>--<case>.json`: each
//! must be rejected with exactly the rule its name starts with) and of valid edge cases
//! (`tests/corpus/valid/*.json`: no errors, warnings allowed). `tests/corpus/cli-invalid/` holds
//! indicators with broken STIX patterns: this crate does not parse patterns (comity-pattern sits
//! above it), so they pass here and `comity validate` rejects them (see the Python oracle test).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use comity_stix::validate;
use serde_json::Value;

fn corpus(dir: &str) -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            let obj = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (stem, obj)
        })
        .collect()
}

#[test]
fn each_broken_object_is_rejected_with_exactly_its_rule() {
    let cases = corpus("invalid");
    assert!(
        cases.len() >= 60,
        "the invalid corpus shrank to {}",
        cases.len()
    );
    let mut failures = Vec::new();
    let mut rules_covered = BTreeSet::new();
    for (name, obj) in &cases {
        let expected = name.split("--").next().unwrap();
        let v = validate(obj);
        let rules: BTreeSet<&str> = v.errors.iter().map(|e| e.rule).collect();
        if rules != BTreeSet::from([expected]) {
            failures.push(format!(
                "{name}: expected only [{expected}], got {:?}",
                v.errors
            ));
        }
        rules_covered.insert(expected.to_owned());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        rules_covered.len() >= 30,
        "rules covered: {rules_covered:?}"
    );
}

#[test]
fn valid_edge_cases_have_no_errors() {
    let cases = corpus("valid");
    assert!(cases.len() >= 30);
    for (name, obj) in &cases {
        let v = validate(obj);
        assert!(v.is_valid(), "{name}: {:#?}", v.errors);
    }
}

#[test]
fn pattern_syntax_is_left_to_the_caller() {
    let cases = corpus("cli-invalid");
    assert!(!cases.is_empty());
    for (name, obj) in &cases {
        assert!(name.starts_with("pattern-syntax--"), "{name}");
        assert!(validate(obj).is_valid(), "{name}");
    }
}

#[test]
fn should_level_findings_are_warnings() {
    for (name, rule) in [
        ("open-vocab-unknown-value-is-warning", "open-vocab"),
        (
            "custom-property-without-prefix-is-warning",
            "custom-property-prefix",
        ),
    ] {
        let (_, obj) = corpus("valid")
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap();
        let v = validate(&obj);
        assert!(
            v.warnings.iter().any(|w| w.rule == rule),
            "{name}: {:?}",
            v.warnings
        );
    }
}

#[test]
fn findings_name_object_path_and_rule() {
    let (_, obj) = corpus("invalid")
        .into_iter()
        .find(|(n, _)| n == "external-reference--only-source-name")
        .unwrap();
    let e = &validate(&obj).errors[0];
    assert_eq!(
        e.object_id.as_deref(),
        Some("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
    );
    assert_eq!(e.path, "external_references[0]");
    assert_eq!(
        e.to_string(),
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: external_references[0]: \
         at least one of description, url or external_id must be present [external-reference]"
    );
}
