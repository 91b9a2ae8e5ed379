//! Pathological patterns and data get a clear error or a bounded answer: never a hang,
//! a stack overflow or a crash.

use std::time::{Duration, Instant};

use comity_pattern::{EvalError, Observations, Pattern, PatternError, StixVersion};
use serde_json::{json, Value};

fn observations(n: usize, count: u64) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"type": "observed-data", "id": format!("observed-data--{i}"),
                "first_observed": format!("2024-01-01T00:00:{:02}Z", i % 60),
                "last_observed": format!("2024-01-01T00:00:{:02}Z", i % 60),
                "number_observed": count,
                "objects": {"0": {"type": "x-thing", "name": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "n": i}}})
        })
        .collect()
}

fn run(pattern: &str, data: &[Value]) -> Result<Option<Vec<usize>>, String> {
    let start = Instant::now();
    let p = Pattern::parse(pattern, StixVersion::V20).map_err(|e| e.to_string())?;
    let m = p.matcher().map_err(|e| e.to_string())?;
    let obs = Observations::from_json(data, StixVersion::V20).map_err(|e| e.to_string())?;
    let r = m.find(&obs).map_err(|e| e.to_string());
    assert!(
        start.elapsed() < Duration::from_secs(90),
        "{pattern:.60} took {:?}",
        start.elapsed()
    );
    r
}

#[test]
fn nesting_ten_thousand_deep_is_a_parse_error() {
    let deep = format!(
        "{}[x-thing:n = 1]{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let err = Pattern::parse(&deep, StixVersion::V21).unwrap_err();
    assert!(err.message.contains("nest deeper"), "{err}");
    let deep = format!(
        "[{}x-thing:n = 1{}]",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(Pattern::parse(&deep, StixVersion::V21).is_err());
}

#[test]
fn an_in_set_of_a_million_items_is_answered_quickly() {
    let items: Vec<String> = (0..1_000_000).map(|i| i.to_string()).collect();
    let pattern = format!("[x-thing:n IN ({})]", items.join(", "));
    assert_eq!(run(&pattern, &observations(5, 1)).unwrap(), Some(vec![0]));
}

#[test]
fn catastrophic_regexes_run_in_linear_time() {
    for re in ["(a*)*b", "(a|aa)+$b", "^(a+)+$x", "(.*a){20}z"] {
        let pattern = format!("[x-thing:name MATCHES '{re}']");
        assert_eq!(run(&pattern, &observations(50, 1)).unwrap(), None, "{re}");
    }
}

#[test]
fn a_million_repeats_is_a_quick_no_or_a_clear_refusal() {
    assert_eq!(
        run(
            "[x-thing:n >= 0] REPEATS 1000000 TIMES",
            &observations(10, 1)
        )
        .unwrap(),
        None
    );
    let err = run(
        "[x-thing:n >= 0] REPEATS 1000000 TIMES",
        &observations(10, 1_000_000),
    )
    .unwrap_err();
    assert!(err.contains("too expensive"), "{err}");
}

#[test]
fn combinatorial_searches_stop_within_the_budget() {
    let twelve = ["[x-thing:n >= 0]"; 12].join(" AND ");
    // Solvable: found at once.
    assert!(run(&twelve, &observations(40, 1)).unwrap().is_some());
    // Unsatisfiable in a way the bounds cannot see: the budget stops the search.
    let hard = format!("({twelve}) WITHIN 1 SECONDS");
    match run(&hard, &observations(60, 1)) {
        Ok(None) => {}
        Err(e) => assert!(e.contains("too expensive"), "{e}"),
        Ok(Some(b)) => panic!("impossible binding {b:?}"),
    }
}

#[test]
fn repeats_with_many_candidates_do_not_explode() {
    let data = observations(60, 1);
    assert!(run(
        "[x-thing:n >= 0] REPEATS 30 TIMES WITHIN 100 SECONDS",
        &data
    )
    .unwrap()
    .is_some());
    assert_eq!(
        run("[x-thing:n >= 0] REPEATS 30 TIMES WITHIN 10 SECONDS", &data).unwrap(),
        None
    );
}

#[test]
fn truncated_patterns_and_bad_qualifier_values_are_errors() {
    for p in [
        "[x-thing:n = ",
        "[x-thing:n = 'open",
        "[x-thing:n = 1] WITHIN",
        "",
        "(",
        "[x-thing:n = 1] AND",
    ] {
        assert!(Pattern::parse(p, StixVersion::V21).is_err(), "{p:?}");
    }
    let p = Pattern::parse("[x-thing:n = 1] WITHIN 0 SECONDS", StixVersion::V21).unwrap();
    assert!(matches!(p.matcher(), Err(PatternError::Unusable(_))));
}

#[test]
fn malformed_observed_data_is_an_error_naming_the_problem() {
    let bad = vec![
        json!({"type": "observed-data", "id": "observed-data--1", "number_observed": 0,
        "first_observed": "2024-01-01T00:00:00Z", "last_observed": "2024-01-01T00:00:00Z", "objects": {}}),
    ];
    let err = Observations::from_json(&bad, StixVersion::V20).unwrap_err();
    assert!(
        matches!(&err, EvalError::InvalidData(m) if m.contains("number_observed")),
        "{err}"
    );
}
