//! Index atoms: for a pattern, a set of cheap conditions at least one of which must hold
//! on some object of an observation for the pattern to match it. The engine indexes
//! these and evaluates a pattern fully only when one of its atoms fires. It owns that
//! derivation and the value hashing the equality index shares with the engine; it must
//! never produce a set that misses a match (more candidates are fine, fewer are a bug).

use unicode_normalization::UnicodeNormalization;

use crate::ast::{Comparison, ComparisonExpr, Literal, ObjectPath, ObservationExpr, PropertyTest};
use crate::cidr::IpNet;
use crate::fasthash::hash_one;

/// One indexable condition on objects of one type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Atom {
    /// A value selected by `path` hashes to `key`.
    Eq(ObjectPath, u64),
    /// A text value selected by `path` contains `literal` (after NFC normalisation).
    Substring(ObjectPath, String),
    /// A value selected by `path` may match the regular expression; a match contains
    /// one of `literals` (when that list is empty, no such literals are known).
    Regex(ObjectPath, String, Vec<String>),
    /// An address value selected by `path` lies in the block.
    Prefix(ObjectPath, IpNet),
    /// Any object of this type: the pattern is evaluated for every one.
    Type(String),
}

impl Atom {
    /// Lower is more selective.
    fn rank(&self) -> u8 {
        match self {
            Atom::Eq(..) => 0,
            Atom::Prefix(..) => 1,
            Atom::Substring(..) => 2,
            Atom::Regex(..) => 3,
            Atom::Type(_) => 4,
        }
    }
}

/// The atoms of a whole pattern: one observation can only satisfy it if it satisfies
/// some `[…]` of it, so the union over its comparison expressions.
pub(crate) fn pattern_atoms(expr: &ObservationExpr) -> Vec<Atom> {
    let mut out = Vec::new();
    for c in expr.observations() {
        for a in comparison_atoms(c) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

/// Every string a pattern names as a value an object property equals (`=`, `IN`) or a
/// block an address lies in (`ISSUBSET`), outside `NOT`, with the path it is compared to:
/// what a value index records of an indicator. Unlike [`pattern_atoms`] it keeps every
/// operand of `AND`, since each is a value the indicator names.
pub(crate) fn named_values(expr: &ObservationExpr) -> Vec<(&ObjectPath, &str)> {
    let mut out = Vec::new();
    let mut stack: Vec<&ComparisonExpr> = expr.observations();
    while let Some(c) = stack.pop() {
        match c {
            ComparisonExpr::And(parts) | ComparisonExpr::Or(parts) => stack.extend(parts),
            ComparisonExpr::Test(t) if !t.negated => match &t.op {
                Comparison::Eq(Literal::Str(s)) | Comparison::IsSubset(s) => {
                    out.push((&t.path, s.as_str()))
                }
                Comparison::In(items) => out.extend(items.iter().filter_map(|l| match l {
                    Literal::Str(s) => Some((&t.path, s.as_str())),
                    _ => None,
                })),
                _ => {}
            },
            ComparisonExpr::Test(_) => {}
        }
    }
    out
}

fn comparison_atoms(c: &ComparisonExpr) -> Vec<Atom> {
    match c {
        ComparisonExpr::Test(t) => test_atoms(t),
        // Any one operand's atoms are necessary: take the most selective operand.
        ComparisonExpr::And(parts) => parts
            .iter()
            .map(comparison_atoms)
            .min_by_key(|atoms| (atoms.iter().map(Atom::rank).max().unwrap_or(4), atoms.len()))
            .unwrap_or_default(),
        ComparisonExpr::Or(parts) => parts.iter().flat_map(comparison_atoms).collect(),
    }
}

fn test_atoms(t: &PropertyTest) -> Vec<Atom> {
    let fallback = || vec![Atom::Type(t.path.object_type.clone())];
    if t.negated {
        return fallback();
    }
    let path = || t.path.clone();
    match &t.op {
        Comparison::Eq(lit) => match literal_keys(lit, false) {
            Some(keys) => keys.into_iter().map(|k| Atom::Eq(path(), k)).collect(),
            None => fallback(),
        },
        Comparison::In(items) => {
            let mut atoms = Vec::with_capacity(items.len());
            for lit in items {
                match literal_keys(lit, true) {
                    Some(keys) => atoms.extend(keys.into_iter().map(|k| Atom::Eq(path(), k))),
                    None => return fallback(),
                }
            }
            atoms
        }
        Comparison::Like(like) => {
            let like: String = like.nfc().collect();
            let literal = like
                .split(['%', '_'])
                .max_by_key(|s| s.len())
                .unwrap_or_default();
            if literal.is_empty() {
                fallback()
            } else {
                vec![Atom::Substring(path(), literal.to_string())]
            }
        }
        Comparison::Matches(re) => {
            let re: String = re.nfc().collect();
            let literals = regex_literals(&re).unwrap_or_default();
            vec![Atom::Regex(path(), re, literals)]
        }
        Comparison::IsSubset(net) => match IpNet::parse(net) {
            Some(net) => vec![Atom::Prefix(path(), net)],
            None => fallback(),
        },
        _ => fallback(),
    }
}

/// Literals one of which every match of `re` starts with (so every text it matches
/// contains one), when there is a short finite list of them, none shorter than 2 bytes.
fn regex_literals(re: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::Extractor;
    let hir = regex_syntax::Parser::new().parse(re).ok()?;
    let seq = Extractor::new().extract(&hir);
    let literals = seq.literals()?;
    if literals.is_empty() || literals.len() > 64 || literals.iter().any(|l| l.as_bytes().len() < 2)
    {
        return None;
    }
    literals
        .iter()
        .map(|l| String::from_utf8(l.as_bytes().to_vec()).ok())
        .collect()
}

/// The keys under which a value equal to `lit` can be found. `in_set` adds the keys
/// set membership also accepts (booleans as 0 and 1). `None`: not indexable.
fn literal_keys(lit: &Literal, in_set: bool) -> Option<Vec<u64>> {
    let mut keys = Vec::new();
    match lit {
        Literal::Str(s) => {
            keys.push(ValueKey::Str(s).hash());
            if let Some(b) = latin1(s) {
                keys.push(ValueKey::Bytes(&b).hash());
            }
        }
        Literal::Binary(b) => {
            keys.push(ValueKey::Bytes(b).hash());
            let text: String = b.iter().map(|&c| char::from(c)).collect();
            keys.push(ValueKey::Str(&text).hash());
        }
        Literal::Int(i) => keys.push(number_key(*i as f64, Some(*i))),
        Literal::Float(f) => keys.push(number_key(*f, None)),
        Literal::Bool(b) => {
            keys.push(ValueKey::Bool(*b).hash());
            if in_set {
                keys.push(number_key(f64::from(u8::from(*b)), Some(i128::from(*b))));
            }
        }
        Literal::Timestamp(_) => return None,
    }
    if in_set {
        match lit {
            Literal::Int(0 | 1) => keys.push(ValueKey::Bool(matches!(lit, Literal::Int(1))).hash()),
            Literal::Float(f) if *f == 0.0 || *f == 1.0 => {
                keys.push(ValueKey::Bool(*f == 1.0).hash())
            }
            _ => {}
        }
    }
    Some(keys)
}

fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(c as u32).ok()).collect()
}

/// A value as the equality index hashes it.
pub(crate) enum ValueKey<'a> {
    /// Text.
    Str(&'a str),
    /// Binary.
    Bytes(&'a [u8]),
    /// An integral number.
    Int(i128),
    /// A non-integral number, by bits.
    Float(u64),
    /// A boolean.
    Bool(bool),
}

impl ValueKey<'_> {
    /// A stable 64-bit hash; collisions only cost a needless full evaluation.
    pub fn hash(&self) -> u64 {
        match self {
            ValueKey::Str(s) => hash_one((0u8, s)),
            ValueKey::Bytes(b) => hash_one((1u8, b)),
            ValueKey::Int(i) => hash_one((2u8, i)),
            ValueKey::Float(f) => hash_one((3u8, f)),
            ValueKey::Bool(b) => hash_one((4u8, b)),
        }
    }
}

/// Numbers equal across int and float hash alike.
pub(crate) fn number_key(f: f64, exact: Option<i128>) -> u64 {
    match exact {
        Some(i) => ValueKey::Int(i).hash(),
        None if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30 => {
            ValueKey::Int(f as i128).hash()
        }
        None => ValueKey::Float(f.to_bits()).hash(),
    }
}
