//! Object path resolution: the values an object path selects from one root object.
//! It owns stepping through keys, list indexes and `[*]`, decoding `_hex` / `_bin`
//! properties to bytes, and following `_ref` / `_refs` to other objects of the same
//! observation. It never compares values.

use base64::Engine as _;
use serde_json::Value;

use crate::ast::PathStep;
use crate::EvalError;

/// A value selected by a path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item<'a> {
    /// A JSON value as found.
    Json(&'a Value),
    /// A binary property (`…_hex` / `…_bin`), decoded.
    Bytes(Vec<u8>),
    /// The objects a `…_refs` list points to.
    Objects(Vec<&'a Value>),
}

/// Follows `steps` from `root`; `deref` finds the object a reference names.
pub(crate) fn resolve<'a>(
    root: &'a Value,
    steps: &[PathStep],
    deref: &dyn Fn(&str) -> Option<&'a Value>,
) -> Result<Vec<Item<'a>>, EvalError> {
    let mut items = Vec::new();
    visit(&Item::Json(root), steps, deref, &mut |item| {
        items.push(item.clone());
        true
    })?;
    Ok(items)
}

/// Calls `f` on every value `steps` select from `item`, without collecting them, until
/// `f` returns false. Returns false when stopped early.
pub(crate) fn visit<'a>(
    item: &Item<'a>,
    steps: &[PathStep],
    deref: &dyn Fn(&str) -> Option<&'a Value>,
    f: &mut dyn FnMut(&Item<'a>) -> bool,
) -> Result<bool, EvalError> {
    let Some((step, rest)) = steps.split_first() else {
        return Ok(f(item));
    };
    match step {
        PathStep::Key(key) => {
            if let Item::Json(Value::Object(map)) = item {
                if let Some(v) = map.get(key) {
                    if let Some(stepped) = step_key(key, v, deref)? {
                        return visit(&stepped, rest, deref, f);
                    }
                }
            }
        }
        PathStep::Index(i) => {
            let Ok(i) = usize::try_from(*i) else {
                return Ok(true);
            };
            let element = match item {
                Item::Json(Value::Array(list)) => list.get(i),
                Item::Objects(list) => list.get(i).copied(),
                _ => None,
            };
            if let Some(e) = element {
                return visit(&Item::Json(e), rest, deref, f);
            }
        }
        PathStep::Any => match item {
            Item::Json(Value::Array(list)) => {
                for e in list {
                    if !visit(&Item::Json(e), rest, deref, f)? {
                        return Ok(false);
                    }
                }
            }
            Item::Objects(list) => {
                for e in list {
                    if !visit(&Item::Json(e), rest, deref, f)? {
                        return Ok(false);
                    }
                }
            }
            _ => {}
        },
    }
    Ok(true)
}

fn step_key<'a>(
    key: &str,
    v: &'a Value,
    deref: &dyn Fn(&str) -> Option<&'a Value>,
) -> Result<Option<Item<'a>>, EvalError> {
    let bad = |what: &str| EvalError::InvalidData(format!("property '{key}': {what}"));
    if key.ends_with("_hex") {
        let s = v.as_str().ok_or_else(|| bad("a hex string is required"))?;
        return decode_hex(s)
            .map(|b| Some(Item::Bytes(b)))
            .ok_or_else(|| bad("invalid hex"));
    }
    if key.ends_with("_bin") {
        let s = v
            .as_str()
            .ok_or_else(|| bad("a base64 string is required"))?;
        return base64::engine::general_purpose::STANDARD
            .decode(s)
            .map(|b| Some(Item::Bytes(b)))
            .map_err(|_| bad("invalid base64"));
    }
    if key.ends_with("_ref") {
        let r = v
            .as_str()
            .ok_or_else(|| bad("a reference must be a string"))?;
        return Ok(deref(r).map(Item::Json));
    }
    if key.ends_with("_refs") {
        let list = v
            .as_array()
            .ok_or_else(|| bad("a reference list must be a list"))?;
        let mut objects = Vec::new();
        for r in list {
            let r = r
                .as_str()
                .ok_or_else(|| bad("references must be strings"))?;
            objects.extend(deref(r));
        }
        return Ok((!objects.is_empty()).then_some(Item::Objects(objects)));
    }
    Ok(Some(Item::Json(v)))
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|p| {
            let hi = (p[0] as char).to_digit(16)?;
            let lo = (p[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}
