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
/// markings that selected what was removed, so that the object stays valid STIX. Selectors
/// that resolve to nothing are ignored. List elements are removed from the highest index
/// down, so that several selectors into one list all remove what they named.
pub fn redact(object: &mut Value, selectors: &[String]) {
    if selectors.is_empty() {
        return;
    }
    let mut paths: Vec<Vec<Step>> = selectors.iter().map(|s| parse(s)).collect();
    paths.sort();
    for path in paths.iter().rev() {
        remove(object, path);
    }
    prune_granular_markings(object, selectors);
}

/// Drops the selectors that point at or under a removed path, then the granular markings
/// left without selectors, then `granular_markings` itself when it is empty.
fn prune_granular_markings(object: &mut Value, removed: &[String]) {
    let gone = |selector: &str| {
        removed.iter().any(|r| {
            selector == r
                || selector
                    .strip_prefix(r.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    };
    let Some(Value::Array(markings)) = object.get_mut("granular_markings") else {
        return;
    };
    for marking in markings.iter_mut() {
        if let Some(Value::Array(selectors)) = marking.get_mut("selectors") {
            selectors.retain(|s| !s.as_str().is_some_and(gone));
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

fn remove(value: &mut Value, path: &[Step]) {
    let Some((last, parents)) = path.split_last() else {
        return;
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
            None => return,
        }
    }
    match (last, at) {
        (Step::Key(k), Value::Object(map)) => {
            map.remove(k);
        }
        (Step::Index(i), Value::Array(list)) if *i < list.len() => {
            list.remove(*i);
        }
        _ => {}
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
}
