//! Observations: observed-data SDOs read from JSON, in the 2.1 form (`object_refs` to
//! SCOs elsewhere in the input, usually the same bundle) or the 2.0 form (an embedded
//! `objects` dictionary). It owns turning input JSON into observations with their
//! time interval, count and objects; it never evaluates patterns.

use std::collections::HashMap;

use serde_json::Value;

use crate::timestamp::Timestamp;
use crate::{EvalError, StixVersion};

/// One observed-data SDO: `count` observations of its objects between `first` and `last`.
#[derive(Debug, Clone)]
pub struct Observation<'a> {
    /// The SDO's `id`, when it has one.
    pub id: Option<&'a str>,
    /// `first_observed`.
    pub first: Timestamp,
    /// `last_observed`.
    pub last: Timestamp,
    /// `number_observed`.
    pub count: u64,
    /// The observed objects with the key references use for them (an SCO id in 2.1,
    /// the dictionary key in 2.0), in input order.
    pub objects: Vec<(&'a str, &'a Value)>,
    /// An index by key, only for observations with many objects.
    by_key: Option<HashMap<&'a str, usize>>,
}

/// Below this many objects a linear scan resolves references faster than a map.
const MAP_FROM: usize = 16;

impl<'a> Observation<'a> {
    /// Builds an observation from its parts.
    pub fn new(
        id: Option<&'a str>,
        first: Timestamp,
        last: Timestamp,
        count: u64,
        objects: Vec<(&'a str, &'a Value)>,
    ) -> Observation<'a> {
        let by_key = (objects.len() >= MAP_FROM).then(|| {
            objects
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (*k, i))
                .collect()
        });
        Observation {
            id,
            first,
            last,
            count,
            objects,
            by_key,
        }
    }

    /// The object a reference points to, if it is among this observation's objects.
    pub fn resolve(&self, reference: &str) -> Option<&'a Value> {
        match &self.by_key {
            Some(map) => map.get(reference).map(|&i| self.objects[i].1),
            None => self
                .objects
                .iter()
                .find(|(k, _)| *k == reference)
                .map(|(_, v)| *v),
        }
    }
}

/// All observations of one evaluation, in input order.
#[derive(Debug, Clone, Default)]
pub struct Observations<'a> {
    /// The observations; a binding names them by index into this list.
    pub items: Vec<Observation<'a>>,
}

impl<'a> Observations<'a> {
    /// Reads a list whose items are observed-data SDOs, bundles containing them (and the
    /// SCOs they refer to), or (2.1) bare SCOs referred to by observed-data elsewhere in
    /// the list. In a 2.0 list every item outside a bundle is taken as observed-data.
    pub fn from_json(input: &'a [Value], version: StixVersion) -> Result<Self, EvalError> {
        let mut flat: Vec<&'a Value> = Vec::new();
        for item in input {
            match item.get("type").and_then(Value::as_str) {
                Some("bundle") => match item.get("objects") {
                    Some(Value::Array(objects)) => flat.extend(objects),
                    Some(_) => return Err(invalid("a bundle's 'objects' must be a list")),
                    None => {}
                },
                Some(_) => flat.push(item),
                None => return Err(invalid("every input object needs a 'type'")),
            }
        }
        let by_id: HashMap<&str, &Value> = flat
            .iter()
            .filter(|o| o.get("type").and_then(Value::as_str) != Some("observed-data"))
            .filter_map(|o| Some((o.get("id")?.as_str()?, *o)))
            .collect();
        let mut items = Vec::new();
        for item in input {
            let in_bundle = item.get("type").and_then(Value::as_str) == Some("bundle");
            let sdos: Vec<&Value> = if in_bundle {
                let objects = item.get("objects").and_then(Value::as_array);
                objects.map(|v| v.iter().collect()).unwrap_or_default()
            } else {
                vec![item]
            };
            for sdo in sdos {
                let is_observed_data =
                    sdo.get("type").and_then(Value::as_str) == Some("observed-data");
                // A 2.0 list holds observed-data only, whatever each item's type says
                // (as the reference matcher reads it); elsewhere other objects are SCOs.
                let top_level_20 = version == StixVersion::V20 && !in_bundle;
                if is_observed_data || top_level_20 {
                    items.push(observation(sdo, &by_id, version)?);
                }
            }
        }
        Ok(Observations { items })
    }
}

fn invalid(msg: impl Into<String>) -> EvalError {
    EvalError::InvalidData(msg.into())
}

fn observation<'a>(
    sdo: &'a Value,
    by_id: &HashMap<&str, &'a Value>,
    version: StixVersion,
) -> Result<Observation<'a>, EvalError> {
    let id = sdo.get("id").and_then(Value::as_str);
    let name = id.unwrap_or("observed-data");
    let time = |key: &str| -> Result<Timestamp, EvalError> {
        let s = sdo
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("{name}: '{key}' is required")))?;
        Timestamp::parse(s)
            .ok_or_else(|| invalid(format!("{name}: '{key}' is not a timestamp: {s}")))
    };
    let first = time("first_observed")?;
    let last = time("last_observed")?;
    if last < first {
        return Err(invalid(format!(
            "{name}: last_observed is before first_observed"
        )));
    }
    let count = sdo
        .get("number_observed")
        .and_then(Value::as_u64)
        .filter(|n| *n >= 1)
        .ok_or_else(|| invalid(format!("{name}: 'number_observed' must be an integer >= 1")))?;
    let mut objects = Vec::new();
    match (sdo.get("object_refs"), sdo.get("objects")) {
        (Some(Value::Array(refs)), _) if version == StixVersion::V21 => {
            for r in refs {
                let r = r
                    .as_str()
                    .ok_or_else(|| invalid(format!("{name}: object_refs must hold strings")))?;
                if let Some(obj) = by_id.get(r) {
                    objects.push((r, *obj));
                }
            }
        }
        (_, Some(Value::Object(embedded))) => {
            objects.extend(embedded.iter().map(|(k, v)| (k.as_str(), v)));
        }
        _ if version == StixVersion::V21 => {
            return Err(invalid(format!(
                "{name}: 'object_refs' (a list) is required"
            )))
        }
        _ => {
            return Err(invalid(format!(
                "{name}: 'objects' (a dictionary) is required"
            )))
        }
    }
    Ok(Observation::new(id, first, last, count, objects))
}
