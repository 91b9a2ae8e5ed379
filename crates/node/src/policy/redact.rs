//! Removing the properties a [`super::Decision::Allow`] names from an object before it
//! leaves. Selectors are those of STIX granular markings: `description`,
//! `external_references.[0].url`, `kill_chain_phases.[1]`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Key(String),
    Index(usize),
}

fn parse(selector: &str) -> Vec<Step> {
    selector
        .split('.')
        .map(|part| {
            part.strip_prefix('[')
                .and_then(|p| p.strip_suffix(']'))
                .and_then(|n| n.parse().ok())
                .map_or_else(|| Step::Key(part.to_owned()), Step::Index)
        })
        .collect()
}

/// Removes every selected property or list element from `object`, and the granular
/// markings' selectors that pointed at or under what was removed (then the granular markings
/// left without selectors, then `granular_markings` itself when it is empty). Selectors that
/// resolve to nothing are ignored. List elements are removed from the highest index down, so
/// that several selectors into one list all remove what they named, and the selectors that
/// remain are renumbered to keep naming the elements they named.
pub fn redact(object: &mut Value, selectors: &[String]) {
    if selectors.is_empty() {
        return;
    }
    let mut paths: Vec<Vec<Step>> = selectors.iter().map(|s| parse(s)).collect();
    paths.sort();
    paths.dedup();
    let removed: Vec<&Vec<Step>> = paths.iter().rev().filter(|p| remove(object, p)).collect();
    prune_granular_markings(object, &removed);
}

/// Why a redacted object cannot leave at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Withheld {
    /// Removing what is withheld breaks a MUST that removing an enclosing element cannot
    /// mend (a required property, the object's identity or its markings).
    #[error("redacted, it would break a MUST of STIX 2.1: {violation}")]
    Invalid {
        /// The violation, with its property path and rule.
        violation: String,
    },
}

/// Most rounds of mending before an object is withheld.
const MAX_ROUNDS: usize = 8;

/// [`redact`], then made valid STIX by the rules of `comity validate`: where a removal broke
/// a MUST, the enclosing element goes too (the list element holding the broken property,
/// such as an external reference or a kill-chain phase; an emptied optional list or
/// dictionary); where that cannot mend it (a required property of the object, its identity,
/// its markings), the object is withheld.
pub fn redact_valid(mut value: Value, selectors: &[String]) -> Result<Value, Withheld> {
    redact(&mut value, selectors);
    for _ in 0..MAX_ROUNDS {
        let errors = comity_stix::validate(&value).errors;
        if errors.is_empty() {
            return Ok(value);
        }
        let mut enclosing = Vec::with_capacity(errors.len());
        for error in &errors {
            let withheld = || Withheld::Invalid {
                violation: error.to_string(),
            };
            enclosing.push(enclosing_element(&value, &error.path).ok_or_else(withheld)?);
        }
        redact(&mut value, &enclosing);
    }
    let violation = comity_stix::validate(&value)
        .errors
        .first()
        .map_or_else(|| "it cannot be mended".to_owned(), ToString::to_string);
    Err(Withheld::Invalid { violation })
}

/// The selector of what to remove so that the violation at validator path `path` (such as
/// `external_references[0].url`) goes: the innermost list element on the path, else the
/// property itself when present, else the dictionary that misses it. `None` when that would
/// take the object's identity, its markings or a required top-level property.
fn enclosing_element(object: &Value, path: &str) -> Option<String> {
    let mut steps = validator_path(path);
    let Some(Step::Key(top)) = steps.first() else {
        return None;
    };
    if super::IDENTITY.contains(&top.as_str()) || super::ENVELOPE.contains(&top.as_str()) {
        return None;
    }
    if let Some(i) = steps.iter().rposition(|s| matches!(s, Step::Index(_))) {
        steps.truncate(i + 1);
    } else if get(object, &steps).is_none() {
        steps.pop();
    }
    if steps.is_empty() || get(object, &steps).is_none() {
        return None;
    }
    Some(selector(&steps))
}

/// The steps of a validator path: `a[0].b` is `a`, `[0]`, `b`.
fn validator_path(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let (key, mut indices) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
        if !key.is_empty() {
            steps.push(Step::Key(key.to_owned()));
        }
        while let Some((index, rest)) = indices
            .strip_prefix('[')
            .and_then(|i| i.split_once(']'))
            .and_then(|(n, rest)| Some((n.parse().ok()?, rest)))
        {
            steps.push(Step::Index(index));
            indices = rest;
        }
    }
    steps
}

/// A granular-marking selector naming `steps`.
fn selector(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| match s {
            Step::Key(k) => k.clone(),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn get<'a>(value: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps.iter().try_fold(value, |at, step| match (step, at) {
        (Step::Key(k), Value::Object(map)) => map.get(k),
        (Step::Index(i), Value::Array(list)) => list.get(*i),
        _ => None,
    })
}

/// Drops the selectors that point at or under a removed path and renumbers the list
/// indices of the others past removed elements, then drops the granular markings left
/// without selectors, then `granular_markings` itself when it is empty.
fn prune_granular_markings(object: &mut Value, removed: &[&Vec<Step>]) {
    let Some(Value::Array(markings)) = object.get_mut("granular_markings") else {
        return;
    };
    for marking in markings.iter_mut() {
        if let Some(Value::Array(selectors)) = marking.get_mut("selectors") {
            selectors.retain_mut(|s| {
                let Some(text) = s.as_str() else {
                    return true;
                };
                let steps = parse(text);
                if removed.iter().any(|r| steps.starts_with(r)) {
                    return false;
                }
                *s = Value::String(selector(&renumbered(&steps, removed)));
                true
            });
        }
    }
    markings.retain(|m| {
        m.get("selectors")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty())
    });
    if markings.is_empty() {
        if let Value::Object(map) = object {
            map.remove("granular_markings");
        }
    }
}

/// `steps` with each list index lowered by the elements removed before it in the same list.
fn renumbered(steps: &[Step], removed: &[&Vec<Step>]) -> Vec<Step> {
    let mut out = steps.to_vec();
    for (i, step) in steps.iter().enumerate() {
        let Step::Index(n) = step else {
            continue;
        };
        let before = removed
            .iter()
            .filter(|r| {
                r.len() == i + 1 && r[..i] == steps[..i] && matches!(r[i], Step::Index(m) if m < *n)
            })
            .count();
        out[i] = Step::Index(n - before);
    }
    out
}

/// Removes what `path` names; whether there was something to remove.
fn remove(value: &mut Value, path: &[Step]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut at = value;
    for step in parents {
        let next = match (step, at) {
            (Step::Key(k), Value::Object(map)) => map.get_mut(k),
            (Step::Index(i), Value::Array(list)) => list.get_mut(*i),
            _ => None,
        };
        match next {
            Some(v) => at = v,
            None => return false,
        }
    }
    match (last, at) {
        (Step::Key(k), Value::Object(map)) => map.remove(k).is_some(),
        (Step::Index(i), Value::Array(list)) if *i < list.len() => {
            list.remove(*i);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn removes_top_level_nested_and_list_selections() {
        let mut obj = json!({
            "type": "report",
            "description": "secret",
            "external_references": [
                {"source_name": "a", "url": "https://a.example"},
                {"source_name": "b"},
                {"source_name": "c"}
            ],
            "labels": ["x", "y", "z", "w", "v", "u", "t", "s", "r", "q", "p", "o"],
            "granular_markings": [
                {"selectors": ["description", "name"], "marking_ref": "m1"},
                {"selectors": ["external_references.[0].url"], "marking_ref": "m2"}
            ]
        });
        redact(
            &mut obj,
            &sel(&[
                "description",
                "external_references.[0].url",
                "external_references.[2]",
                "labels.[1]",
                "labels.[10]",
                "missing.[3].deep",
                "labels.[99]",
            ]),
        );
        assert_eq!(
            obj,
            json!({
                "type": "report",
                "external_references": [{"source_name": "a"}, {"source_name": "b"}],
                "labels": ["x", "z", "w", "v", "u", "t", "s", "r", "q", "o"],
                "granular_markings": [{"selectors": ["name"], "marking_ref": "m1"}]
            })
        );
    }

    const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
    const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
    const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

    /// A valid GREEN indicator with `extra` properties.
    fn indicator(extra: Value) -> Value {
        let mut obj = json!({
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-11-27T08:00:00.000Z", "modified": "2026-11-27T08:00:00.000Z",
            "name": "C2 server", "pattern": "[ipv4-addr:value = '203.0.113.7']",
            "pattern_type": "stix", "valid_from": "2026-11-27T08:00:00Z",
            "object_marking_refs": [GREEN]
        });
        obj.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        assert!(comity_stix::validate(&obj).is_valid(), "{obj}");
        obj
    }

    #[test]
    fn a_withheld_url_takes_its_external_reference_and_the_emptied_list_with_it() {
        let obj = indicator(json!({
            "external_references": [{"source_name": "partner", "url": "https://secret.example"}],
            "granular_markings": [{"selectors": ["external_references.[0].url"], "marking_ref": RED}]
        }));
        let out = redact_valid(obj.clone(), &sel(&["external_references.[0].url"])).unwrap();
        let mut want = obj.clone();
        want.as_object_mut().unwrap().remove("external_references");
        want.as_object_mut().unwrap().remove("granular_markings");
        assert_eq!(out, want);
    }

    #[test]
    fn a_withheld_required_pattern_withholds_the_indicator() {
        let obj = indicator(json!({
            "granular_markings": [{"selectors": ["pattern"], "marking_ref": RED}]
        }));
        let err = redact_valid(obj.clone(), &sel(&["pattern"])).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            "{text}"
        );
        assert!(
            text.contains("pattern") && text.contains("[required-property]"),
            "{text}"
        );
    }

    #[test]
    fn a_fully_withheld_list_is_left_out_not_left_empty() {
        let obj = indicator(json!({
            "labels": ["informant", "operation"],
            "granular_markings": [{"selectors": ["labels.[0]", "labels.[1]"], "marking_ref": RED}]
        }));
        let out = redact_valid(obj.clone(), &sel(&["labels.[0]", "labels.[1]"])).unwrap();
        assert!(
            out.get("labels").is_none() && out.get("granular_markings").is_none(),
            "{out}"
        );
        assert!(comity_stix::validate(&out).is_valid());
    }

    #[test]
    fn a_kill_chain_phase_without_its_name_goes_and_kept_markings_follow_their_elements() {
        let obj = indicator(json!({
            "kill_chain_phases": [
                {"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "reconnaissance"},
                {"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"}
            ],
            "granular_markings": [
                {"selectors": ["kill_chain_phases.[0].phase_name"], "marking_ref": RED},
                {"selectors": ["kill_chain_phases.[1]"], "marking_ref": AMBER}
            ]
        }));
        let out = redact_valid(obj.clone(), &sel(&["kill_chain_phases.[0].phase_name"])).unwrap();
        assert_eq!(
            out["kill_chain_phases"],
            json!([{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"}])
        );
        assert_eq!(
            out["granular_markings"],
            json!([{"selectors": ["kill_chain_phases.[0]"], "marking_ref": AMBER}])
        );
    }

    #[test]
    fn a_break_in_the_markings_or_identity_withholds_rather_than_drops_a_marking() {
        // A selector the redaction cannot renumber (it was already dangling) is not mended by
        // dropping the granular marking: the object is withheld.
        let mut obj = indicator(json!({"description": "d"}));
        obj["granular_markings"] = json!([{"selectors": ["labels.[3]"], "marking_ref": AMBER}]);
        assert!(redact_valid(obj.clone(), &sel(&["description"])).is_err());
        assert!(enclosing_element(&obj, "granular_markings[0].selectors[0]").is_none());
        assert!(enclosing_element(&obj, "id").is_none());
        assert!(enclosing_element(&obj, "").is_none());
        assert_eq!(
            validator_path("external_references[2].hashes.SHA-256"),
            parse("external_references.[2].hashes.SHA-256")
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// An indicator whose every selectable value is a distinct word, so that what leaves
        /// can be searched for what was withheld.
        fn rich() -> Value {
            indicator(json!({
                "description": "word-description",
                "labels": ["word-label-0", "word-label-1", "word-label-2", "word-label-3"],
                "external_references": [
                    {"source_name": "word-src-0", "url": "https://word-url-0.example"},
                    {"source_name": "word-src-1", "description": "word-desc-1",
                     "external_id": "word-ext-1"},
                    {"source_name": "word-src-2", "url": "https://word-url-2.example",
                     "description": "word-desc-2"}
                ],
                "kill_chain_phases": [
                    {"kill_chain_name": "word-chain-0", "phase_name": "word-phase-0"},
                    {"kill_chain_name": "word-chain-1", "phase_name": "word-phase-1"},
                    {"kill_chain_name": "word-chain-2", "phase_name": "word-phase-2"}
                ],
                "indicator_types": ["malicious-activity", "attribution"]
            }))
        }

        const SELECTORS: [&str; 27] = [
            "name",
            "description",
            "pattern",
            "pattern_type",
            "valid_from",
            "labels",
            "labels.[0]",
            "labels.[1]",
            "labels.[2]",
            "labels.[3]",
            "external_references",
            "external_references.[0]",
            "external_references.[0].url",
            "external_references.[0].source_name",
            "external_references.[1]",
            "external_references.[1].description",
            "external_references.[1].external_id",
            "external_references.[2].url",
            "external_references.[2].description",
            "kill_chain_phases",
            "kill_chain_phases.[0]",
            "kill_chain_phases.[0].phase_name",
            "kill_chain_phases.[1].kill_chain_name",
            "kill_chain_phases.[2]",
            "kill_chain_phases.[2].phase_name",
            "indicator_types.[0]",
            "indicator_types",
        ];
        /// Kept markings, each with its own definition so that where it points can be followed.
        const KEPT: [&str; 3] = [
            "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            GREEN,
            AMBER,
        ];

        fn marking() -> impl Strategy<Value = (Vec<&'static str>, Option<usize>)> {
            (
                proptest::sample::subsequence(&SELECTORS[..], 1..4),
                proptest::option::of(0..KEPT.len()),
            )
        }

        /// The words of a JSON value.
        fn words(v: &Value) -> Vec<String> {
            let text = v.to_string();
            text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .filter(|w| w.starts_with("word-"))
                .map(str::to_owned)
                .collect()
        }

        /// Whether `now` is `before` with some of its elements or properties removed.
        fn is_part(now: &Value, before: &Value) -> bool {
            match (now, before) {
                (Value::Array(n), Value::Array(b)) => {
                    n.iter().all(|x| b.iter().any(|y| is_part(x, y)))
                }
                (Value::Object(n), Value::Object(b)) => n
                    .iter()
                    .all(|(k, x)| b.get(k).is_some_and(|y| is_part(x, y))),
                _ => now == before,
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            /// Whatever granular markings withhold, what leaves validates, holds no word a
            /// withheld marking selected, and every granular marking left still selects
            /// values its definition selected before.
            #[test]
            fn every_released_object_validates_and_holds_nothing_withheld(
                markings in proptest::collection::vec(marking(), 1..5),
            ) {
                let mut obj = rich();
                let mut granular = Vec::new();
                let mut withheld = Vec::new();
                for (selectors, kept) in &markings {
                    let marking_ref = kept.map_or(RED, |k| KEPT[k]);
                    granular.push(json!({"selectors": selectors, "marking_ref": marking_ref}));
                    if kept.is_none() {
                        withheld.extend(selectors.iter().map(|s| (*s).to_owned()));
                    }
                }
                obj["granular_markings"] = Value::Array(granular);
                prop_assume!(comity_stix::validate(&obj).is_valid());
                let Ok(out) = redact_valid(obj.clone(), &withheld) else {
                    return Ok(());
                };
                let verdict = comity_stix::validate(&out);
                prop_assert!(verdict.is_valid(), "{out}\n{:?}", verdict.errors);
                let left = words(&out);
                for selector in &withheld {
                    if let Some(value) = get(&obj, &parse(selector)) {
                        for word in words(value) {
                            prop_assert!(!left.contains(&word), "{word} of {selector} in {out}");
                        }
                    }
                }
                for g in out["granular_markings"].as_array().into_iter().flatten() {
                    let marking_ref = g["marking_ref"].as_str().unwrap();
                    let before: Vec<&Value> = obj["granular_markings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|m| m["marking_ref"] == marking_ref)
                        .flat_map(|m| m["selectors"].as_array().unwrap())
                        .filter_map(|s| get(&obj, &parse(s.as_str().unwrap())))
                        .collect();
                    for s in g["selectors"].as_array().unwrap() {
                        let now = get(&out, &parse(s.as_str().unwrap())).unwrap();
                        prop_assert!(
                            before.iter().any(|b| is_part(now, b)),
                            "{s} of {marking_ref} now selects {now}"
                        );
                    }
                }
            }
        }
    }
}
