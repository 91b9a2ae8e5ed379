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

/// Why `x_comity_handling` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlingError {
    /// The property is not `{"codes": [...], "restrictions": "..."}`.
    #[error("property 'x_comity_handling' is malformed: {0}")]
    Malformed(&'static str),
    /// A code other than H0–H3.
    #[error("property 'x_comity_handling' has the unknown handling code '{0}'")]
    UnknownCode(String),
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
        let map = v
            .as_object()
            .ok_or(HandlingError::Malformed("not an object"))?;
        let list = map
            .get("codes")
            .and_then(Value::as_array)
            .ok_or(HandlingError::Malformed("'codes' is not a list"))?;
        let mut codes = BTreeSet::new();
        for c in list {
            let s = c
                .as_str()
                .ok_or(HandlingError::Malformed("'codes' is not a list of strings"))?;
            let code =
                HandlingCode::parse(s).ok_or_else(|| HandlingError::UnknownCode(s.to_owned()))?;
            codes.insert(code);
        }
        let restrictions = match map.get("restrictions") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(HandlingError::Malformed("'restrictions' is not a string")),
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

    #[test]
    fn absent_property_means_no_codes() {
        assert_eq!(Handling::from_property(None), Ok(Handling::default()));
    }
}
