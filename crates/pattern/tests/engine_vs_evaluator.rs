//! Differential property test: the compiled engine and the plain evaluator must give the
//! same hits for random indicators and random observations.

use comity_pattern::{Engine, IndicatorMeta, Observation, StixVersion, Timestamp};
use proptest::prelude::*;
use serde_json::{json, Value};

const STRINGS: &[&str] = &[
    "a",
    "ab",
    "b",
    "évil",
    "x.example",
    "10.0.0.1",
    "10.1.2.3",
    "2001:db8::1",
    "",
];

fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(STRINGS).prop_map(|s| format!("'{s}'")),
        (0i64..4).prop_map(|i| i.to_string()),
        Just("1.0".to_string()),
        Just("true".to_string()),
        Just("h'6162'".to_string()),
    ]
}

fn path() -> impl Strategy<Value = &'static str> {
    prop::sample::select(
        &[
            "ipv4-addr:value",
            "domain-name:value",
            "domain-name:resolves_to_refs[*].value",
            "domain-name:resolves_to_refs[0].value",
            "file:name",
            "file:size",
            "file:hashes.MD5",
            "file:flag",
            "url:value",
        ][..],
    )
}

fn test_expr() -> impl Strategy<Value = String> {
    let not = prop::bool::weighted(0.2).prop_map(|n| if n { "NOT " } else { "" });
    prop_oneof![
        (
            path(),
            not.clone(),
            prop::sample::select(&["=", "!=", "<", ">=", "="][..]),
            literal()
        )
            .prop_map(|(p, n, op, l)| format!("{p} {n}{op} {l}")),
        (path(), not.clone(), prop::collection::vec(literal(), 0..4))
            .prop_map(|(p, n, v)| format!("{p} {n}IN ({})", v.join(", "))),
        (
            path(),
            not.clone(),
            prop::sample::select(&["a%", "%b", "_b", "%ex%", "%", "10.%", "év%"][..])
        )
            .prop_map(|(p, n, l)| format!("{p} {n}LIKE '{l}'")),
        (
            path(),
            not.clone(),
            prop::sample::select(&["^a", "b$", "ex", ".", "^10\\\\."][..])
        )
            .prop_map(|(p, n, l)| format!("{p} {n}MATCHES '{l}'")),
        (
            path(),
            not,
            prop::sample::select(
                &["10.0.0.0/8", "10.0.0.1/32", "10.1.0.0/16", "2001:db8::/32"][..]
            )
        )
            .prop_map(|(p, n, l)| format!("{p} {n}ISSUBSET '{l}'")),
        (prop::bool::ANY, path())
            .prop_map(|(n, p)| format!("{}EXISTS {p}", if n { "NOT " } else { "" })),
    ]
}

fn comparison() -> impl Strategy<Value = String> {
    test_expr().prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("({a} OR {b})")),
        ]
    })
}

fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => comparison().prop_map(|c| format!("[{c}]")),
        1 => (comparison(), comparison()).prop_map(|(a, b)| format!("[{a}] OR [{b}]")),
        1 => (comparison(), comparison()).prop_map(|(a, b)| format!("[{a}] AND [{b}]")),
        1 => comparison().prop_map(|c| format!("[{c}] REPEATS 2 TIMES")),
        1 => (comparison(), comparison()).prop_map(|(a, b)| format!("([{a}] FOLLOWEDBY [{b}]) WITHIN 5 SECONDS")),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(STRINGS).prop_map(Value::from),
        (0i64..4).prop_map(Value::from),
        Just(json!(1.0)),
        Just(json!(true)),
        Just(Value::Null),
    ]
}

fn object() -> impl Strategy<Value = Value> {
    prop_oneof![
        value().prop_map(|v| json!({"type": "ipv4-addr", "value": v})),
        (value(), prop::bool::ANY).prop_map(|(v, r)| {
            let refs = if r { json!(["ip"]) } else { json!([]) };
            json!({"type": "domain-name", "value": v, "resolves_to_refs": refs})
        }),
        (value(), value(), value(), value())
            .prop_map(|(n, s, h, f)| json!({"type": "file", "name": n, "size": s, "hashes": {"MD5": h}, "flag": f})),
        value().prop_map(|v| json!({"type": "url", "value": v})),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn engine_hits_equal_evaluator_verdicts(
        patterns in prop::collection::vec(pattern(), 1..12),
        ip in value(),
        objects in prop::collection::vec(object(), 1..4),
        count in 1u64..3,
        window in 0u8..3,
    ) {
        let mut engine = Engine::new();
        let mut matchers = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            let t = |s: &str| Timestamp::parse(s);
            let (valid_from, valid_until) = match (i as u8 + window) % 3 {
                0 => (None, None),
                1 => (t("2020-01-01T00:00:00Z"), t("2030-01-01T00:00:00Z")),
                _ => (t("2030-01-01T00:00:00Z"), None),
            };
            let meta = IndicatorMeta { id: format!("indicator--{i}"), valid_from, valid_until, revoked: i % 7 == 6 };
            let Ok(m) = comity_pattern::Pattern::parse(p, StixVersion::V21).map_err(comity_pattern::PatternError::from).and_then(|p| p.matcher()) else {
                continue;
            };
            engine.add(meta.clone(), p, StixVersion::V21).unwrap();
            matchers.push((meta, m));
        }
        let ip_object = json!({"type": "ipv4-addr", "value": ip});
        let keys: Vec<String> = (0..objects.len()).map(|i| format!("o{i}")).collect();
        let mut refs: Vec<(&str, &Value)> = keys.iter().map(String::as_str).zip(objects.iter()).collect();
        refs.push(("ip", &ip_object));
        let at = Timestamp::parse("2024-06-01T00:00:00Z").unwrap();
        let o = Observation::new(None, at, at, count, refs);
        let mut expected: Vec<String> = matchers
            .iter()
            .filter(|(meta, m)| meta.active_during(at, at) && m.matches_one(&o).unwrap_or(false))
            .map(|(meta, _)| meta.id.clone())
            .collect();
        let mut got: Vec<String> = engine.matches(&o).into_iter().map(|h| h.indicator.id.clone()).collect();
        expected.sort();
        got.sort();
        prop_assert_eq!(got, expected, "patterns: {:?}", patterns);
    }
}

#[test]
fn removed_indicators_stop_firing_and_replaced_ones_use_the_new_pattern() {
    let mut engine = Engine::new();
    let meta = |id: &str| IndicatorMeta {
        id: id.into(),
        valid_from: None,
        valid_until: None,
        revoked: false,
    };
    engine
        .add(
            meta("a"),
            "[ipv4-addr:value = '10.0.0.1']",
            StixVersion::V21,
        )
        .unwrap();
    engine
        .add(
            meta("b"),
            "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
            StixVersion::V21,
        )
        .unwrap();
    let obj = json!({"type": "ipv4-addr", "value": "10.0.0.1"});
    let at = Timestamp::parse("2024-06-01T00:00:00Z").unwrap();
    let o = Observation::new(None, at, at, 1, vec![("0", &obj)]);
    assert_eq!(engine.matches(&o).len(), 2);
    assert!(engine.remove("a"));
    assert_eq!(engine.matches(&o).len(), 1);
    engine
        .add(
            meta("b"),
            "[ipv4-addr:value = '10.9.9.9']",
            StixVersion::V21,
        )
        .unwrap();
    assert!(engine.matches(&o).is_empty());
}
