//! STIX patterning for Comity: a parser for the complete STIX 2.1 patterning grammar (and
//! the 2.0 variant), an evaluator with the specification's semantics over observed-data,
//! and a compiled engine that matches a stream of observations against many indicators
//! at once.
//!
//! A pure crate: no I/O, no async, no global state.
//!
//! ```
//! use comity_pattern::{Pattern, Observations, StixVersion};
//! let pattern = Pattern::parse("[ipv4-addr:value ISSUBSET '203.0.113.0/24']", StixVersion::V21).unwrap();
//! let input: Vec<serde_json::Value> = serde_json::from_str(r#"[{"type": "bundle", "id": "bundle--1", "objects": [
//!   {"type": "observed-data", "id": "observed-data--1", "first_observed": "2024-01-01T00:00:00Z",
//!    "last_observed": "2024-01-01T00:00:00Z", "number_observed": 1, "object_refs": ["ipv4-addr--1"]},
//!   {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "203.0.113.7"}]}]"#).unwrap();
//! let observations = Observations::from_json(&input, StixVersion::V21).unwrap();
//! let binding = pattern.matcher().unwrap().find(&observations).unwrap();
//! assert_eq!(binding, Some(vec![0]));
//! ```

pub mod ast;
mod atoms;
mod cidr;
mod compare;
pub mod engine;
mod eval;
mod fasthash;
mod lexer;
mod observation;
mod parser;
mod path;
mod timestamp;
mod validate;

use std::fmt;
use std::str::FromStr;

pub use cidr::IpNet;
pub use engine::{Engine, Hit, IndicatorMeta};
pub use eval::{Matcher, MAX_BINDING, SEARCH_BUDGET};
pub use observation::{Observation, Observations};
pub use parser::{parse_object_path, MAX_NESTING};
pub use timestamp::Timestamp;
pub use validate::{validate, Warning};

/// Which version of the patterning grammar to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum StixVersion {
    /// STIX 2.0: no `EXISTS`; observed-data embeds its objects.
    V20,
    /// STIX 2.1 (the default): observed-data refers to SCOs by `object_refs`.
    #[default]
    V21,
}

impl FromStr for StixVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "2.0" => Ok(StixVersion::V20),
            "2.1" => Ok(StixVersion::V21),
            other => Err(format!(
                "unknown STIX version '{other}' (expected 2.0 or 2.1)"
            )),
        }
    }
}

impl fmt::Display for StixVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StixVersion::V20 => "2.0",
            StixVersion::V21 => "2.1",
        })
    }
}

/// A syntax error: where it is (line from 1, column from 0, as ANTLR counts) and what
/// was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}:{column}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 0-based column in characters.
    pub column: usize,
    /// What was found and what was expected.
    pub message: String,
}

/// Why a pattern cannot be used: bad syntax, or a value the specification forbids.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatternError {
    /// The text does not follow the grammar.
    #[error(transparent)]
    Syntax(#[from] ParseError),
    /// A hash value compared to `hashes.<algorithm>` has the wrong form.
    #[error("'{value}' is not a valid {algorithm} hash")]
    InvalidHash {
        /// The literal.
        value: String,
        /// The hash algorithm named in the path.
        algorithm: String,
    },
    /// A well-formed pattern that cannot be evaluated (an invalid regular expression,
    /// CIDR block, set, or qualifier value).
    #[error("{0}")]
    Unusable(String),
}

/// Why an evaluation could not give an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The observed-data or its objects are not what the specification requires.
    #[error("invalid observed data: {0}")]
    InvalidData(String),
    /// The search for a binding would exceed its bounds.
    #[error("pattern too expensive to evaluate: {0}")]
    TooComplex(String),
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    expr: ast::ObservationExpr,
    version: StixVersion,
}

impl Pattern {
    /// Parses `text` with the grammar of `version`. This accepts everything the grammar
    /// accepts; [`validate`] adds the specification's further rules.
    pub fn parse(text: &str, version: StixVersion) -> Result<Pattern, ParseError> {
        Ok(Pattern {
            expr: parser::parse(text, version, false)?,
            version,
        })
    }

    /// Parses `text` and applies the rule that a `[…]` observation carries each
    /// qualifier kind at most once (STIX 2.1).
    pub fn parse_strict(text: &str, version: StixVersion) -> Result<Pattern, ParseError> {
        Ok(Pattern {
            expr: parser::parse(text, version, true)?,
            version,
        })
    }

    /// The syntax tree.
    pub fn expr(&self) -> &ast::ObservationExpr {
        &self.expr
    }

    /// The grammar version this pattern was parsed with.
    pub fn version(&self) -> StixVersion {
        self.version
    }

    /// The string values the pattern compares object properties to with `=`, `IN` or
    /// `ISSUBSET` (outside `NOT`), each with its object path: the values it names.
    pub fn named_values(&self) -> Vec<(&ast::ObjectPath, &str)> {
        atoms::named_values(&self.expr)
    }

    /// Compiles the pattern for evaluation (regular expressions, sets, CIDR blocks).
    pub fn matcher(&self) -> Result<Matcher, PatternError> {
        Matcher::new(self)
    }
}
