//! Handling codes after Europol's SIENA: what an originator allows a recipient to do with an
//! object beyond who may read it. This module only reads and names the codes; the rules that
//! apply them are in [`super::Policy`].
//!
//! An object carries its codes in the custom property `x_comity_handling`:
//! `{"codes": ["H0", "H1", "H2", "H3"], "restrictions": "free text for H3"}`. A property on
//! the object (rather than a marking definition) because the H3 text belongs to one object,
//! while a marking definition is shared by many and cannot be changed once published. An
//! unknown code or a malformed property is an error, never ignored.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

/// The custom property that carries handling codes.
pub const PROPERTY: &str = "x_comity_handling";

/// One handling code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HandlingCode {
    /// H0: for law-enforcement purposes only.
    H0,
    /// H1: not to be used in judicial proceedings without the originator's consent.
    H1,
    /// H2: no onward dissemination without the originator's consent.
    H2,
    /// H3: other restrictions, stated in text.
    H3,
}

impl HandlingCode {
    /// All codes.
    pub const ALL: [HandlingCode; 4] = [
        HandlingCode::H0,
        HandlingCode::H1,
        HandlingCode::H2,
        HandlingCode::H3,
    ];

    /// The code as written, e.g. `H2`.
    pub fn as_str(self) -> &'static str {
        match self {
            HandlingCode::H0 => "H0",
            HandlingCode::H1 => "H1",
            HandlingCode::H2 => "H2",
            HandlingCode::H3 => "H3",
        }
    }

    /// The code written as `s`, e.g. `H2`.
    pub fn parse(s: &str) -> Option<HandlingCode> {
        HandlingCode::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What the code means, in one line.
    pub fn meaning(self) -> &'static str {
        match self {
            HandlingCode::H0 => "law-enforcement purposes only",
            HandlingCode::H1 => "not for judicial proceedings without the originator's consent",
            HandlingCode::H2 => "no onward dissemination without the originator's consent",
            HandlingCode::H3 => "other restrictions stated in text",
        }
    }
}

impl fmt::Display for HandlingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The handling codes of one object, with the text of its H3 restrictions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handling {
    /// The codes present.
    pub codes: BTreeSet<HandlingCode>,
    /// The restrictions that H3 refers to.
    pub restrictions: Option<String>,
}

/// The shape `x_comity_handling` must have, as error messages state it.
pub const SHAPE: &str = r#"{"codes": [...], "restrictions": "text"} with codes among "H0", "H1", "H2", "H3" and restrictions optional"#;

/// Why `x_comity_handling` could not be read; every message names the shape expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlingError {
    /// The property is not `{"codes": [...], "restrictions": "..."}`.
    #[error("property 'x_comity_handling' must be {SHAPE}: {0}")]
    Malformed(String),
    /// A code other than H0–H3 (they are written in capitals).
    #[error("property 'x_comity_handling' has the unknown handling code {0:?}: codes are \"H0\", \"H1\", \"H2\" or \"H3\", written exactly so")]
    UnknownCode(String),
}

/// What a JSON value is, in words, for error messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl Handling {
    /// Whether `code` is present.
    pub fn has(&self, code: HandlingCode) -> bool {
        self.codes.contains(&code)
    }

    /// Reads the value of `x_comity_handling`; absent means no codes.
    pub fn from_property(v: Option<&Value>) -> Result<Handling, HandlingError> {
        let Some(v) = v else {
            return Ok(Handling::default());
        };
        let malformed = |why: String| HandlingError::Malformed(why);
        let map = v
            .as_object()
            .ok_or_else(|| malformed(format!("it is {}", kind(v))))?;
        if let Some(other) = map
            .keys()
            .find(|k| !matches!(k.as_str(), "codes" | "restrictions"))
        {
            return Err(malformed(format!("it has the unknown member {other:?}")));
        }
        let list = match map.get("codes") {
            Some(Value::Array(list)) => list,
            Some(other) => return Err(malformed(format!("'codes' is {}", kind(other)))),
            None => return Err(malformed("'codes' is missing".to_owned())),
        };
        let mut codes = BTreeSet::new();
        for c in list {
            let s = c
                .as_str()
                .ok_or_else(|| malformed(format!("'codes' holds {}", kind(c))))?;
            let code =
                HandlingCode::parse(s).ok_or_else(|| HandlingError::UnknownCode(s.to_owned()))?;
            codes.insert(code);
        }
        let restrictions = match map.get("restrictions") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => return Err(malformed(format!("'restrictions' is {}", kind(other)))),
        };
        Ok(Handling {
            codes,
            restrictions,
        })
    }
}

impl fmt::Display for Handling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let codes: Vec<&str> = self.codes.iter().map(|c| c.as_str()).collect();
        f.write_str(&codes.join(", "))?;
        if let Some(text) = &self.restrictions {
            write!(f, " ({text})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_unknown_code_is_an_error_not_ignored() {
        let v = json!({"codes": ["H2", "H9"]});
        assert_eq!(
            Handling::from_property(Some(&v)),
            Err(HandlingError::UnknownCode("H9".into()))
        );
    }

    /// The shapes analysts write by mistake are refused with the shape expected (they used
    /// to be stored and then never left the node).
    #[test]
    fn every_other_shape_is_refused_naming_the_shape_expected() {
        let cases = [
            (json!("H2"), "it is a string"),
            (json!(["H2"]), "it is a list"),
            (json!({"codes": "H2"}), "'codes' is a string"),
            (json!({"codes": [2]}), "'codes' holds a number"),
            (json!({}), "'codes' is missing"),
            (
                json!({"codes": ["H3"], "restrictions": 1}),
                "'restrictions' is a number",
            ),
            (
                json!({"codes": ["H2"], "code": ["H0"]}),
                "unknown member \"code\"",
            ),
        ];
        for (v, why) in cases {
            let e = Handling::from_property(Some(&v)).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains(SHAPE), "{v}: {e}");
        }
        for code in ["h2", "H9", " H2", "H 2"] {
            let v = json!({ "codes": [code] });
            assert_eq!(
                Handling::from_property(Some(&v)),
                Err(HandlingError::UnknownCode(code.into())),
                "{v}"
            );
        }
        let v = json!({"codes": ["H3", "H0"], "restrictions": "not before the joint operation"});
        let h = Handling::from_property(Some(&v)).unwrap();
        assert_eq!(h.to_string(), "H0, H3 (not before the joint operation)");
    }

    #[test]
    fn absent_property_means_no_codes() {
        assert_eq!(Handling::from_property(None), Ok(Handling::default()));
    }
}
