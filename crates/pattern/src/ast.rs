//! The syntax tree of a STIX pattern. It owns the shape of a parsed pattern and its
//! literal values; it does no parsing and no evaluation. Chains of the same operator are
//! kept flat (`a AND b AND c` is one node with three operands) so that long chains never
//! make deep trees.

use std::fmt;

use crate::timestamp::Timestamp;

/// A whole pattern: observation expressions joined by AND / OR / FOLLOWEDBY.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparison ]`
    Observation(ComparisonExpr),
    /// All operands, each bound to different observations.
    And(Vec<ObservationExpr>),
    /// Any operand.
    Or(Vec<ObservationExpr>),
    /// Each operand's observations come after those of the operands before it.
    FollowedBy(Vec<ObservationExpr>),
    /// An expression with a qualifier.
    Qualified(Box<ObservationExpr>, Qualifier),
}

/// A qualifier applied to an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`
    Within(f64),
    /// `REPEATS n TIMES`
    Repeats(u64),
    /// `START t'…' STOP t'…'`
    StartStop(Timestamp, Timestamp),
}

/// The inside of `[ … ]`.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonExpr {
    /// All hold on the same object.
    And(Vec<ComparisonExpr>),
    /// Any holds.
    Or(Vec<ComparisonExpr>),
    /// One property test.
    Test(PropertyTest),
}

/// `path [NOT] op literal`, or `[NOT] EXISTS path`.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyTest {
    /// The object path on the left.
    pub path: ObjectPath,
    /// Whether `NOT` precedes the operator.
    pub negated: bool,
    /// The operator and its right-hand side.
    pub op: Comparison,
}

/// A comparison operator with its operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    /// `=`
    Eq(Literal),
    /// `!=`
    Ne(Literal),
    /// `<`
    Lt(Literal),
    /// `<=`
    Le(Literal),
    /// `>`
    Gt(Literal),
    /// `>=`
    Ge(Literal),
    /// `IN (…)`
    In(Vec<Literal>),
    /// `LIKE '…'`
    Like(String),
    /// `MATCHES '…'`
    Matches(String),
    /// `ISSUBSET '…'`
    IsSubset(String),
    /// `ISSUPERSET '…'`
    IsSuperset(String),
    /// `EXISTS`
    Exists,
}

/// `type:prop.sub[0].x[*]`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectPath {
    /// The object type before the colon.
    pub object_type: String,
    /// The steps after the colon; the first is always a key.
    pub steps: Vec<PathStep>,
}

/// One step of an object path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// `.name` or `.'quoted name'`
    Key(String),
    /// `[n]`
    Index(i64),
    /// `[*]`
    Any,
}

/// A literal value in a pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// An integer.
    Int(i128),
    /// A floating-point number.
    Float(f64),
    /// A string (escapes resolved).
    Str(String),
    /// `true` / `false`
    Bool(bool),
    /// `b'…'` or `h'…'`
    Binary(Vec<u8>),
    /// `t'…'`
    Timestamp(Timestamp),
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Key(k) if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathStep::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    write!(f, "'{}'", escape(k))?;
                }
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::Any => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// Escapes a string for a pattern string literal.
pub(crate) fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

impl ObservationExpr {
    /// Every comparison expression (`[ … ]`) in the pattern, left to right.
    pub fn observations(&self) -> Vec<&ComparisonExpr> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            match e {
                ObservationExpr::Observation(c) => out.push(c),
                ObservationExpr::And(v)
                | ObservationExpr::Or(v)
                | ObservationExpr::FollowedBy(v) => stack.extend(v.iter().rev()),
                ObservationExpr::Qualified(inner, _) => stack.push(inner),
            }
        }
        out
    }
}

impl ComparisonExpr {
    /// Every property test in this expression, left to right.
    pub fn tests(&self) -> Vec<&PropertyTest> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            match e {
                ComparisonExpr::Test(t) => out.push(t),
                ComparisonExpr::And(v) | ComparisonExpr::Or(v) => stack.extend(v.iter().rev()),
            }
        }
        out
    }
}
