//! Property tests: one comparison (`=`, `<`, `IN`, `LIKE`, `MATCHES`, `ISSUBSET`, …)
//! applied to one selected value, with the specification's typing rules: numbers compare
//! across int and float, strings compare with binaries only through code points below
//! 256, timestamps compare with JSON strings holding timestamps, values of other types
//! are simply unequal, and LIKE / MATCHES see NFC-normalised text. It owns compiling a
//! test (regexes, sets, CIDR blocks) and applying it; it never walks paths or data.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use crate::ast::{Comparison, Literal, ObjectPath, PropertyTest};
use crate::cidr::IpNet;
use crate::path::Item;
use crate::timestamp::Timestamp;
use crate::{EvalError, PatternError};

/// Bytes of compiled program a MATCHES or LIKE expression may take.
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// A property test ready to apply.
#[derive(Debug, Clone)]
pub(crate) struct CompiledTest {
    pub path: ObjectPath,
    pub negated: bool,
    pub test: Test,
}

#[derive(Debug, Clone)]
pub(crate) enum Test {
    Eq(Literal, bool),
    Order(Literal, std::cmp::Ordering, bool),
    In(Box<Set>),
    Like(Box<LazyRegex>, bool),
    Matches(Box<LazyRegex>),
    Subset(IpNet),
    Superset(IpNet),
    Exists,
}

/// A homogeneous set literal, indexed for membership.
#[derive(Debug, Clone, Default)]
pub(crate) struct Set {
    ints: HashSet<i128>,
    floats: Vec<f64>,
    strings: HashSet<String>,
    bytes: HashSet<Vec<u8>>,
    bools: HashSet<bool>,
    timestamps: HashSet<Timestamp>,
}

/// A JSON or decoded value, typed as the comparison tables need.
enum Typed<'a> {
    Int(i128),
    Float(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
    Bool(bool),
    Other,
}

fn typed<'a>(item: &'a Item<'_>) -> Typed<'a> {
    match item {
        Item::Bytes(b) => Typed::Bytes(b),
        Item::Json(Value::String(s)) => Typed::Str(s),
        Item::Json(Value::Bool(b)) => Typed::Bool(*b),
        Item::Json(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Typed::Int(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Typed::Int(i128::from(u))
            } else {
                Typed::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        _ => Typed::Other,
    }
}

fn unusable(msg: String) -> PatternError {
    PatternError::Unusable(msg)
}

impl CompiledTest {
    pub fn compile(t: &PropertyTest) -> Result<CompiledTest, PatternError> {
        use std::cmp::Ordering::*;
        let test = match &t.op {
            Comparison::Eq(l) => Test::Eq(l.clone(), false),
            Comparison::Ne(l) => Test::Eq(l.clone(), true),
            Comparison::Lt(l) => Test::Order(l.clone(), Less, false),
            Comparison::Le(l) => Test::Order(l.clone(), Greater, true),
            Comparison::Gt(l) => Test::Order(l.clone(), Greater, false),
            Comparison::Ge(l) => Test::Order(l.clone(), Less, true),
            Comparison::In(items) => Test::In(Box::new(Set::compile(items)?)),
            Comparison::Like(like) => {
                let like: String = like.nfc().collect();
                let latin1 = like.chars().all(|c| (c as u32) < 256);
                Test::Like(Box::new(LazyRegex::new(like_to_regex(&like))?), latin1)
            }
            Comparison::Matches(re) => Test::Matches(Box::new(LazyRegex::new(re.nfc().collect())?)),
            Comparison::IsSubset(s) => Test::Subset(
                IpNet::parse(s).ok_or_else(|| unusable(format!("invalid CIDR block '{s}'")))?,
            ),
            Comparison::IsSuperset(s) => Test::Superset(
                IpNet::parse(s)
                    .ok_or_else(|| unusable(format!("invalid IP address or CIDR block '{s}'")))?,
            ),
            Comparison::Exists => Test::Exists,
        };
        Ok(CompiledTest {
            path: t.path.clone(),
            negated: t.negated,
            test,
        })
    }

    /// Whether the test holds for the values a path selected from one root object.
    pub fn holds_for(&self, items: &[Item<'_>]) -> Result<bool, EvalError> {
        if let Test::Exists = self.test {
            return Ok(items.is_empty() == self.negated);
        }
        for item in items {
            if self.holds(item)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether the test holds for one value.
    pub fn holds(&self, item: &Item<'_>) -> Result<bool, EvalError> {
        let value = typed(item);
        let result = match &self.test {
            Test::Eq(lit, ne) => equals(lit, &value)? != *ne,
            Test::Order(lit, ord, inverted) => match compare(lit, &value)? {
                // No ordering between these types: false, whatever NOT says.
                Compared::Incomparable => return Ok(false),
                Compared::Refused => false,
                Compared::Ordering(o) => (o == *ord) != *inverted,
            },
            Test::In(set) => set.contains(&value)?,
            Test::Like(re, latin1) => match value {
                Typed::Str(s) => re.text()?.is_match(&nfc(s)),
                Typed::Bytes(b) if *latin1 => match std::str::from_utf8(b) {
                    Ok(s) => re.text()?.is_match(&nfc(s)),
                    Err(_) => false,
                },
                _ => false,
            },
            Test::Matches(re) => match value {
                Typed::Str(s) => re.text()?.is_match(&nfc(s)),
                Typed::Bytes(b) => re.bytes().is_some_and(|r| r.is_match(b)),
                _ => false,
            },
            Test::Subset(net) => match value {
                Typed::Str(s) => ip_value(s)?.is_subset_of(net),
                _ => false,
            },
            Test::Superset(net) => match value {
                Typed::Str(s) => net.is_subset_of(&ip_value(s)?),
                _ => false,
            },
            Test::Exists => true,
        };
        Ok(result != self.negated)
    }
}

fn ip_value(s: &str) -> Result<IpNet, EvalError> {
    IpNet::parse(s)
        .ok_or_else(|| EvalError::InvalidData(format!("'{s}' is not an IP address or CIDR block")))
}

fn json_timestamp(s: &str) -> Result<Timestamp, EvalError> {
    Timestamp::parse(s)
        .ok_or_else(|| EvalError::InvalidData(format!("invalid timestamp in JSON: {s}")))
}

fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(c as u32).ok()).collect()
}

fn int_float_eq(i: i128, f: f64) -> bool {
    f.is_finite() && f.fract() == 0.0 && (f as i128) == i && (i as f64) == f
}

fn equals(lit: &Literal, value: &Typed<'_>) -> Result<bool, EvalError> {
    Ok(match (lit, value) {
        (Literal::Int(a), Typed::Int(b)) => a == b,
        (Literal::Int(a), Typed::Float(b)) | (Literal::Float(b), Typed::Int(a)) => {
            int_float_eq(*a, *b)
        }
        (Literal::Float(a), Typed::Float(b)) => a == b,
        (Literal::Str(a), Typed::Str(b)) => a == b,
        (Literal::Str(s), Typed::Bytes(b)) => latin1(s).is_some_and(|s| s == *b),
        (Literal::Binary(a), Typed::Bytes(b)) => a == b,
        (Literal::Binary(b), Typed::Str(s)) => latin1(s).is_some_and(|s| s == *b),
        (Literal::Bool(a), Typed::Bool(b)) => a == b,
        (Literal::Timestamp(t), Typed::Str(s)) => *t == json_timestamp(s)?,
        _ => false,
    })
}

enum Compared {
    Ordering(std::cmp::Ordering),
    /// Types with no order between them.
    Incomparable,
    /// A string with code points of 256 or more against binary: the comparison is false.
    Refused,
}

/// Orders the value against the literal (value first).
fn compare(lit: &Literal, value: &Typed<'_>) -> Result<Compared, EvalError> {
    use Compared::*;
    let num = |a: f64, b: f64| {
        a.partial_cmp(&b)
            .map_or(Ordering(std::cmp::Ordering::Equal), Ordering)
    };
    Ok(match (lit, value) {
        (Literal::Int(l), Typed::Int(v)) => Ordering(v.cmp(l)),
        (Literal::Int(l), Typed::Float(v)) => num(*v, *l as f64),
        (Literal::Float(l), Typed::Int(v)) => num(*v as f64, *l),
        (Literal::Float(l), Typed::Float(v)) => num(*v, *l),
        (Literal::Str(l), Typed::Str(v)) => Ordering((*v).cmp(l.as_str())),
        (Literal::Str(l), Typed::Bytes(v)) => match latin1(l) {
            Some(l) => Ordering((*v).cmp(l.as_slice())),
            None => Refused,
        },
        (Literal::Binary(l), Typed::Bytes(v)) => Ordering((*v).cmp(l.as_slice())),
        (Literal::Binary(l), Typed::Str(v)) => match latin1(v) {
            Some(v) => Ordering(v.as_slice().cmp(l.as_slice())),
            None => Refused,
        },
        (Literal::Timestamp(l), Typed::Str(v)) => Ordering(json_timestamp(v)?.cmp(l)),
        _ => Incomparable,
    })
}

impl Set {
    fn compile(items: &[Literal]) -> Result<Set, PatternError> {
        let mut set = Set::default();
        let kind = |l: &Literal| match l {
            Literal::Int(_) | Literal::Float(_) => 0,
            Literal::Str(_) => 1,
            Literal::Binary(_) => 2,
            Literal::Bool(_) => 3,
            Literal::Timestamp(_) => 4,
        };
        if let Some(first) = items.first() {
            if items.iter().any(|l| kind(l) != kind(first)) {
                return Err(unusable(
                    "a set must hold values of one type (numbers may mix int and float)".into(),
                ));
            }
        }
        for l in items {
            match l {
                Literal::Int(i) => {
                    set.ints.insert(*i);
                }
                Literal::Float(f) if int_float_eq(*f as i128, *f) => {
                    set.ints.insert(*f as i128);
                }
                Literal::Float(f) => set.floats.push(*f),
                Literal::Str(s) => {
                    set.strings.insert(s.clone());
                }
                Literal::Binary(b) => {
                    set.bytes.insert(b.clone());
                }
                Literal::Bool(b) => {
                    set.bools.insert(*b);
                }
                Literal::Timestamp(t) => {
                    set.timestamps.insert(*t);
                }
            }
        }
        Ok(set)
    }

    /// Membership with the equality of the reference implementation: numbers by value
    /// (booleans count as 0 and 1 there), strings, binaries and timestamps exactly.
    fn contains(&self, value: &Typed<'_>) -> Result<bool, EvalError> {
        let number =
            |i: i128| self.ints.contains(&i) || self.floats.iter().any(|f| int_float_eq(i, *f));
        Ok(match value {
            Typed::Int(i) => number(*i) || (*i == 0 || *i == 1) && self.bools.contains(&(*i == 1)),
            Typed::Float(f) if int_float_eq(*f as i128, *f) => {
                number(*f as i128) || (*f == 0.0 || *f == 1.0) && self.bools.contains(&(*f == 1.0))
            }
            Typed::Float(f) => self.floats.contains(f),
            Typed::Bool(b) => self.bools.contains(b) || number(i128::from(*b)),
            Typed::Str(s) if !self.timestamps.is_empty() => {
                self.timestamps.contains(&json_timestamp(s)?)
            }
            Typed::Str(s) => self.strings.contains(*s),
            Typed::Bytes(b) => self.bytes.contains(*b),
            Typed::Other => false,
        })
    }
}

/// Text in normal form C, borrowed when it already is (all ASCII).
fn nfc(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(s.nfc().collect())
    }
}

/// A regular expression checked when the pattern is compiled and built on first use
/// (most indicators are never evaluated in full, so most are never built).
#[derive(Debug)]
pub(crate) struct LazyRegex {
    source: String,
    text: OnceLock<Result<regex::Regex, String>>,
    bytes: OnceLock<Option<regex::bytes::Regex>>,
}

impl Clone for LazyRegex {
    fn clone(&self) -> Self {
        LazyRegex {
            source: self.source.clone(),
            text: OnceLock::new(),
            bytes: OnceLock::new(),
        }
    }
}

impl LazyRegex {
    fn new(source: String) -> Result<LazyRegex, PatternError> {
        regex_syntax::Parser::new()
            .parse(&source)
            .map_err(|e| unusable(format!("invalid regular expression '{source}': {e}")))?;
        Ok(LazyRegex {
            source,
            text: OnceLock::new(),
            bytes: OnceLock::new(),
        })
    }

    /// The regex over text.
    fn text(&self) -> Result<&regex::Regex, EvalError> {
        self.text
            .get_or_init(|| {
                regex::RegexBuilder::new(&self.source)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| {
                EvalError::TooComplex(format!("regular expression '{}': {e}", self.source))
            })
    }

    /// The same regex over bytes (its code points below 256 read as bytes), if it has
    /// no code point of 256 or more.
    fn bytes(&self) -> Option<&regex::bytes::Regex> {
        self.bytes
            .get_or_init(|| {
                if !self.source.chars().all(|c| (c as u32) < 256) {
                    return None;
                }
                regex::bytes::RegexBuilder::new(&latin1_regex(&self.source))
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .ok()
            })
            .as_ref()
    }
}

/// `LIKE` to an anchored regex: `%` is any run of characters, `_` any one character.
pub(crate) fn like_to_regex(like: &str) -> String {
    let mut out = String::from(r"(?s)\A");
    for c in like.chars() {
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    out.push_str(r"\z");
    out
}

/// A regex over text whose code points are all below 256, as a regex over bytes.
fn latin1_regex(re: &str) -> String {
    let mut out = String::from("(?-u)");
    for c in re.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!(r"\x{:02X}", c as u32));
        }
    }
    out
}
