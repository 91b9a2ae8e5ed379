//! Intake: turns the raw JSON of submitted STIX objects into versions ready to store, or
//! into precise refusals. Every entry point (TAXII POST, `comity import`, federation later)
//! goes through [`examine`], so the rules cannot drift apart.
//!
//! The object's text is kept byte for byte as received; it is parsed only to validate it
//! and to extract the indexed columns.

use comity_store::{NewObject, StatusDetail};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A container of objects: a TAXII envelope or a STIX bundle (both carry `objects`).
#[derive(Deserialize)]
pub struct Envelope<'a> {
    /// The objects, unparsed.
    #[serde(borrow, default)]
    pub objects: Vec<&'a RawValue>,
}

/// Why one submitted object was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The object's id, or `#N` (its position in the request) when it has no usable id.
    pub id: String,
    /// The object's version when it has one.
    pub version: String,
    /// Every MUST-level violation found, each naming the property path and the rule.
    pub reasons: Vec<String>,
    /// The text could not be parsed at all (for example nested deeper than the parser
    /// allows), as opposed to parsed and found invalid.
    pub unparsable: bool,
}

impl Refusal {
    /// The refusal of a version that is already stored with different content.
    pub fn version_conflict(id: String, version: String) -> Refusal {
        Refusal {
            id,
            version,
            reasons: vec!["this version is already stored with different content; a changed object needs a new modified timestamp [version-conflict]".into()],
            unparsable: false,
        }
    }

    /// All reasons in one line.
    pub fn message(&self) -> String {
        self.reasons.join("; ")
    }
}

impl From<Refusal> for StatusDetail {
    fn from(r: Refusal) -> StatusDetail {
        StatusDetail {
            message: Some(r.message()),
            id: r.id,
            version: r.version,
        }
    }
}

/// A submitted object found valid: the version to store and what the transparency log
/// commits to, computed from the one parse of the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examined {
    /// The version to store.
    pub object: NewObject,
    /// The member the object names as its creator (`created_by_ref`), if any.
    pub originator: Option<String>,
    /// SHA-256 of the object's RFC 8785 canonical JSON.
    pub content_sha256: [u8; 32],
}

/// Validates one submitted object; returns it ready to store, or the reasons to refuse it.
pub fn examine(position: usize, raw: &RawValue) -> Result<Examined, Refusal> {
    let text = raw.get();
    let value: Value = serde_json::from_str(text).map_err(|e| Refusal {
        id: format!("#{position}"),
        version: String::new(),
        reasons: vec![format!("not valid JSON: {e}")],
        unparsable: true,
    })?;
    let str_field = |name: &str| value.get(name).and_then(Value::as_str);
    let id = match str_field("id") {
        Some(id) => id.to_owned(),
        None => format!("#{position}"),
    };
    let version = str_field("modified")
        .or_else(|| str_field("created"))
        .unwrap_or_default()
        .to_owned();
    let refuse = |reasons: Vec<String>| Refusal {
        id: id.clone(),
        version: version.clone(),
        reasons,
        unparsable: false,
    };
    if !value.is_object() {
        return Err(refuse(vec![format!(
            "a STIX object must be a JSON object, not {}",
            json_kind(&value)
        )]));
    }
    let mut reasons: Vec<String> = comity_stix::validate(&value)
        .errors
        .iter()
        .map(ToString::to_string)
        .collect();
    if let Some(problem) = pattern_problem(&value) {
        reasons.push(problem);
    }
    if let Some(problem) = handling_problem(&value) {
        reasons.push(problem);
    }
    if !reasons.is_empty() {
        return Err(refuse(reasons));
    }
    let version_key = if version.is_empty() {
        String::new()
    } else {
        version_key(&version).ok_or_else(|| {
            refuse(vec![format!(
                "{id}: modified: {version:?} is not an RFC 3339 UTC timestamp [timestamp-format]"
            )])
        })?
    };
    let object = NewObject {
        object_type: str_field("type").unwrap_or_default().to_owned(),
        spec_version: str_field("spec_version").unwrap_or("2.1").to_owned(),
        id,
        version,
        version_key,
        json: text.to_owned(),
        values: crate::correlation::values::extract(&value),
    };
    Ok(Examined {
        object,
        originator: str_field("created_by_ref").map(str::to_owned),
        content_sha256: Sha256::digest(comity_stix::canonical_json(&value).as_bytes()).into(),
    })
}

/// An indicator whose `pattern_type` is `stix` must carry a pattern that parses.
fn pattern_problem(value: &Value) -> Option<String> {
    if value.get("type")?.as_str()? != "indicator" || value.get("pattern_type")?.as_str()? != "stix"
    {
        return None;
    }
    let pattern = value.get("pattern")?.as_str()?;
    let version = value
        .get("pattern_version")
        .and_then(Value::as_str)
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    let problem = comity_pattern::Pattern::parse(pattern, version)
        .map_err(comity_pattern::PatternError::from)
        .and_then(|p| p.matcher().map(drop))
        .err()?;
    let id = value.get("id").and_then(Value::as_str).unwrap_or("?");
    Some(format!("{id}: pattern: {problem} [pattern-syntax]"))
}

/// `x_comity_handling`, when present, must be read exactly as the policy engine reads it: an
/// object the node cannot interpret would be stored and then never leave, unexplained.
fn handling_problem(value: &Value) -> Option<String> {
    let property = value.get(crate::policy::HANDLING)?;
    let problem = crate::policy::Handling::from_property(Some(property)).err()?;
    let id = value.get("id").and_then(Value::as_str).unwrap_or("?");
    Some(format!("{id}: {problem} [handling-codes]"))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Normalises an RFC 3339 UTC timestamp (`…Z`, any fraction length) to a fixed width with
/// nine fraction digits, so that versions order correctly as strings. Digits beyond the
/// ninth are dropped. Returns `None` when the text is not of that form.
pub fn version_key(ts: &str) -> Option<String> {
    let b = ts.as_bytes();
    let shape_ok = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && *b.last()? == b'Z'
        && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19]
            .into_iter()
            .all(|r| b[r].iter().all(u8::is_ascii_digit));
    if !shape_ok {
        return None;
    }
    let fraction = &ts[19..ts.len() - 1];
    let digits = match fraction.strip_prefix('.') {
        Some(d) if !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()) => d,
        None if fraction.is_empty() => "",
        _ => return None,
    };
    let mut key = String::with_capacity(30);
    key.push_str(&ts[..19]);
    key.push('.');
    key.push_str(&digits[..digits.len().min(9)]);
    for _ in digits.len()..9 {
        key.push('0');
    }
    key.push('Z');
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_keys_order_like_time() {
        let a = version_key("2020-01-01T00:00:00Z").unwrap();
        let b = version_key("2020-01-01T00:00:00.5Z").unwrap();
        let c = version_key("2020-01-01T00:00:00.123456789123Z").unwrap();
        assert_eq!(a, "2020-01-01T00:00:00.000000000Z");
        assert_eq!(b, "2020-01-01T00:00:00.500000000Z");
        assert_eq!(c, "2020-01-01T00:00:00.123456789Z");
        assert!(a < c && c < b);
    }

    #[test]
    fn version_keys_refuse_other_shapes() {
        for bad in [
            "2020-01-01T00:00:00+01:00",
            "2020-01-01 00:00:00Z",
            "2020-01-01T00:00:00.Z",
            "2020-01-01T00:00:00.1aZ",
            "yesterday",
            "",
        ] {
            assert_eq!(version_key(bad), None, "{bad}");
        }
    }

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn keeps_the_text_byte_for_byte() {
        let text = r#"{ "type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.123456Z", "pattern": "[ipv4-addr:value = '10.0.0.1']", "pattern_type": "stix", "valid_from": "2016-01-01T00:00:00Z" }"#;
        let examined = examine(0, &raw(text)).unwrap();
        let obj = &examined.object;
        assert_eq!(obj.json, text);
        assert_eq!(obj.version, "2016-04-06T20:03:48.123456Z");
        assert_eq!(obj.version_key, "2016-04-06T20:03:48.123456000Z");
        assert_eq!(obj.object_type, "indicator");
    }

    #[test]
    fn refuses_an_indicator_whose_pattern_does_not_parse() {
        let text = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = ","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}"#;
        let refusal = examine(3, &raw(text)).unwrap_err();
        assert_eq!(
            refusal.id,
            "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
        );
        assert!(
            refusal.message().contains("[pattern-syntax]"),
            "{}",
            refusal.message()
        );
    }

    /// Found by the `stix_object` fuzz target (`fuzz/regressions/stix_object/`): numbers
    /// must be parsed to the nearest double, or the commitment (SHA-256 of the RFC 8785
    /// text) differs from what any other implementation computes. serde_json's default
    /// fast parser reads 1.1111111111111112e+60 as 1.1111111111111113e+60.
    #[test]
    fn commits_to_the_canonical_text_of_the_nearest_double() {
        use sha2::{Digest, Sha256};
        let text = r#"{"type":"x-number","id":"x-number--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","spec_version":"2.1","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","x_n":1.1111111111111112e60}"#;
        let examined = examine(0, &raw(text)).unwrap();
        let canonical = r#"{"created":"2016-04-06T20:03:48.000Z","id":"x-number--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","modified":"2016-04-06T20:03:48.000Z","spec_version":"2.1","type":"x-number","x_n":1.1111111111111112e+60}"#;
        assert_eq!(
            hex::encode(examined.content_sha256),
            hex::encode(Sha256::digest(canonical))
        );
    }

    #[test]
    fn refuses_handling_codes_the_policy_cannot_read_naming_the_shape() {
        let id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
        let object = |handling: &str| {
            format!(
                r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","x_comity_handling":{handling}}}"#
            )
        };
        for (bad, why) in [
            (r#""H2""#, "it is a string"),
            (r#"["H2"]"#, "it is a list"),
            (r#"{"codes":["h2"]}"#, r#"unknown handling code "h2""#),
            (r#"{"codes":["H9"]}"#, r#"unknown handling code "H9""#),
        ] {
            let refusal = examine(0, &raw(&object(bad))).unwrap_err();
            let message = refusal.message();
            assert_eq!(refusal.id, id);
            assert!(
                message.starts_with(&format!("{id}: property 'x_comity_handling' "))
                    && message.contains(why)
                    && message.ends_with("[handling-codes]"),
                "{bad}: {message}"
            );
        }
        let good = object(r#"{"codes":["H2","H3"],"restrictions":"not before the raid"}"#);
        assert!(examine(0, &raw(&good)).is_ok());
    }

    #[test]
    fn refuses_non_objects_by_position() {
        let refusal = examine(7, &raw("[1,2]")).unwrap_err();
        assert_eq!(refusal.id, "#7");
        assert!(refusal.message().contains("not an array"));
    }
}
