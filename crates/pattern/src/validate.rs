//! Validation beyond the grammar, as the OASIS validator does it: values compared to a
//! `hashes.<algorithm>` path must have that algorithm's form (an error), and object types
//! that are neither STIX 2.1 cyber-observables nor custom (`x-…`) draw a warning, since
//! custom types are allowed. It owns these checks only.

use std::fmt;

use crate::ast::{Comparison, Literal, PathStep};
use crate::{Pattern, PatternError, StixVersion};

/// Something legal but suspicious in a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning(pub String);

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Parses and validates a pattern; on success returns the warnings.
pub fn validate(text: &str, version: StixVersion) -> Result<Vec<Warning>, PatternError> {
    let pattern = Pattern::parse_strict(text, version)?;
    let mut warnings = Vec::new();
    for observation in pattern.expr().observations() {
        for test in observation.tests() {
            let ty = &test.path.object_type;
            if !SCO_TYPES.contains(&ty.as_str()) && !ty.starts_with("x-") {
                let w = Warning(format!("'{ty}' is not a STIX 2.1 cyber-observable type"));
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
            check_hash(&test.path.steps, &test.op)?;
        }
    }
    Ok(warnings)
}

/// Whether `value` has the form of a hash of the named algorithm (`None` for algorithms
/// without a known form). Names are compared upper-cased without hyphens, as the OASIS
/// validator normalises them.
fn hash_ok(algorithm: &str, value: &str) -> Option<bool> {
    let hex = |lengths: &[usize]| {
        lengths.contains(&value.len()) && value.bytes().all(|b| b.is_ascii_hexdigit())
    };
    let name = algorithm.to_uppercase().replace('-', "");
    Some(match name.as_str() {
        "MD5" => hex(&[32]),
        "MD6" => hex(&[32, 40, 56, 64, 96, 128]),
        "RIPEMD160" | "SHA1" => hex(&[40]),
        "SHA224" | "SHA3224" => hex(&[56]),
        "SHA256" | "SHA3256" => hex(&[64]),
        "SHA384" | "SHA3384" => hex(&[96]),
        "SHA512" | "SHA3512" | "WHIRLPOOL" => hex(&[128]),
        "SSDEEP" => {
            (1..=128).contains(&value.len())
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/+:.".contains(&b))
        }
        _ => return None,
    })
}

fn check_hash(steps: &[PathStep], op: &Comparison) -> Result<(), PatternError> {
    let in_hashes = steps.iter().any(|s| *s == PathStep::Key("hashes".into()));
    let Some(PathStep::Key(algorithm)) = steps.last() else {
        return Ok(());
    };
    if !in_hashes {
        return Ok(());
    }
    if hash_ok(algorithm, "").is_none() {
        return Ok(());
    }
    let literals: Vec<&Literal> = match op {
        Comparison::Eq(l) | Comparison::Ne(l) => vec![l],
        Comparison::In(v) => v.iter().collect(),
        _ => return Ok(()),
    };
    for l in literals {
        let ok = matches!(l, Literal::Str(s) if hash_ok(algorithm, s) == Some(true));
        if !ok {
            let value = match l {
                Literal::Str(s) => s.clone(),
                other => format!("{other:?}"),
            };
            return Err(PatternError::InvalidHash {
                value,
                algorithm: algorithm.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_hashes_are_errors_and_unknown_types_warnings() {
        let e = validate("[file:hashes.'SHA-256' = 'f00']", StixVersion::V21).unwrap_err();
        assert_eq!(e.to_string(), "'f00' is not a valid SHA-256 hash");
        let w = validate("[x_whatever:detected = 1]", StixVersion::V21).unwrap();
        assert_eq!(w.len(), 1);
        assert!(validate(
            "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']",
            StixVersion::V21
        )
        .unwrap()
        .is_empty());
    }
}
