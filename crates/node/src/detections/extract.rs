//! What a sensor can look for in one indicator: the observable values its STIX pattern
//! names, when the pattern is exactly "any of these values" — observations joined by OR,
//! each one or more `=` or `IN` tests of a supported property joined by OR. A pattern that
//! needs more (AND, FOLLOWEDBY, qualifiers, NOT, ranges, regular expressions, another
//! property) is skipped whole, with the reason: a rule for part of it would fire on traffic
//! the indicator does not describe.

use comity_pattern::ast::{Comparison, ComparisonExpr, Literal, ObservationExpr, PathStep};
use comity_pattern::{Pattern, StixVersion};
use serde_json::Value;

use crate::feeds::list::classify;

pub use crate::feeds::list::ValueKind;

/// One value a sensor looks for, normalised (IP networks in CIDR form, domains and hashes
/// in lower case) and checked to hold no character a rule or list line could be broken
/// with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observable {
    /// Its kind.
    pub kind: ValueKind,
    /// The value.
    pub value: String,
}

/// The values of an indicator (the object's JSON), or why it gives none.
pub fn values(indicator: &Value) -> Result<Vec<Observable>, String> {
    if indicator.get("revoked") == Some(&Value::Bool(true)) {
        return Err("revoked".into());
    }
    match indicator.get("pattern_type").and_then(Value::as_str) {
        Some("stix") => {}
        Some(other) => return Err(format!("pattern type {other:?} is not STIX")),
        None => return Err("no pattern_type".into()),
    }
    let text = indicator
        .get("pattern")
        .and_then(Value::as_str)
        .ok_or("no pattern")?;
    let pattern = Pattern::parse(text, StixVersion::V21).map_err(|e| format!("{e}"))?;
    let mut out = Vec::new();
    observations(pattern.expr(), &mut out)?;
    Ok(out)
}

fn observations(expr: &ObservationExpr, out: &mut Vec<Observable>) -> Result<(), String> {
    match expr {
        ObservationExpr::Observation(c) => comparisons(c, out),
        ObservationExpr::Or(items) => items.iter().try_for_each(|e| observations(e, out)),
        ObservationExpr::And(_) => Err("observations joined by AND".into()),
        ObservationExpr::FollowedBy(_) => Err("observations joined by FOLLOWEDBY".into()),
        ObservationExpr::Qualified(..) => Err("a qualifier (WITHIN, REPEATS, START/STOP)".into()),
    }
}

fn comparisons(expr: &ComparisonExpr, out: &mut Vec<Observable>) -> Result<(), String> {
    match expr {
        ComparisonExpr::Or(items) => items.iter().try_for_each(|c| comparisons(c, out)),
        ComparisonExpr::And(_) => Err("comparisons joined by AND".into()),
        ComparisonExpr::Test(test) => {
            if test.negated {
                return Err("a NOT comparison".into());
            }
            let kind = kind_of(&test.path.object_type, &test.path.steps)
                .ok_or_else(|| format!("the property {} has no sensor rule", test.path))?;
            let literals: Vec<&Literal> = match &test.op {
                Comparison::Eq(l) => vec![l],
                Comparison::In(ls) => ls.iter().collect(),
                _ => return Err(format!("a comparison other than = or IN on {}", test.path)),
            };
            for literal in literals {
                let Literal::Str(raw) = literal else {
                    return Err(format!("a value of {} that is not a string", test.path));
                };
                let kind = match kind {
                    // A connection's end: the address says which version it is.
                    Kind::Address if raw.contains(':') => ValueKind::Ipv6,
                    Kind::Address => ValueKind::Ipv4,
                    Kind::Of(kind) => kind,
                };
                out.push(Observable {
                    kind,
                    value: normalised(kind, raw)?,
                });
            }
            Ok(())
        }
    }
}

/// What a property holds: values of one kind, or an address of either IP version.
#[derive(Clone, Copy)]
enum Kind {
    Of(ValueKind),
    Address,
}

fn kind_of(object_type: &str, steps: &[PathStep]) -> Option<Kind> {
    let key = |k: &str| matches!(steps, [PathStep::Key(s)] if s == k);
    let kind = match (object_type, steps) {
        ("ipv4-addr", _) if key("value") => ValueKind::Ipv4,
        ("ipv6-addr", _) if key("value") => ValueKind::Ipv6,
        ("domain-name", _) if key("value") => ValueKind::Domain,
        ("url", _) if key("value") => ValueKind::Url,
        // How MISP's ip-src and ip-dst attributes are written in STIX.
        ("network-traffic", [PathStep::Key(end), PathStep::Key(value)])
            if (end == "src_ref" || end == "dst_ref") && value == "value" =>
        {
            return Some(Kind::Address)
        }
        ("file", [PathStep::Key(h), PathStep::Key(algo)]) if h == "hashes" => {
            match algo.to_ascii_uppercase().replace('-', "").as_str() {
                "MD5" => ValueKind::Md5,
                "SHA1" => ValueKind::Sha1,
                "SHA256" => ValueKind::Sha256,
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(Kind::Of(kind))
}

/// The longest value accepted (a URL may be long; anything longer is not a sensor value).
const MAX_VALUE: usize = 2048;

fn normalised(kind: ValueKind, raw: &str) -> Result<String, String> {
    let bad = || format!("{:?} is not a usable {} value", clip(raw), kind.name());
    if raw.is_empty() || raw.len() > MAX_VALUE {
        return Err(bad());
    }
    if kind == ValueKind::Url {
        let url = url::Url::parse(raw).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!("{:?} is not an http or https URL", clip(raw)));
        }
        // The parser percent-encodes spaces, quotes and control characters.
        return Ok(url.to_string());
    }
    // What a list feed takes, read the same way: canonical addresses and blocks, domains
    // and hashes in lower case.
    match classify(raw) {
        Ok(value) if value.kind == kind => Ok(match value.value.split_once('/') {
            // A block of one address is that address.
            Some((ip, "32" | "128")) => ip.to_owned(),
            _ => value.value,
        }),
        _ => Err(bad()),
    }
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(pattern: &str) -> Result<Vec<(ValueKind, String)>, String> {
        values(&json!({"type": "indicator", "pattern_type": "stix", "pattern": pattern}))
            .map(|vs| vs.into_iter().map(|v| (v.kind, v.value)).collect())
    }

    #[test]
    fn any_of_these_values_gives_each_value_normalised() {
        assert_eq!(
            of("[ipv4-addr:value = '203.0.113.7'] OR [domain-name:value = 'Evil.Example.']")
                .unwrap(),
            [
                (ValueKind::Ipv4, "203.0.113.7".into()),
                (ValueKind::Domain, "evil.example".into())
            ]
        );
        assert_eq!(
            of("[ipv4-addr:value = '10.0.0.0/8' OR ipv6-addr:value = '2001:DB8::1/128']").unwrap(),
            [
                (ValueKind::Ipv4, "10.0.0.0/8".into()),
                (ValueKind::Ipv6, "2001:db8::1".into())
            ]
        );
        assert_eq!(
            of("[file:hashes.'SHA-256' IN ('AA00000000000000000000000000000000000000000000000000000000000000')] OR [file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']").unwrap(),
            [
                (ValueKind::Sha256, format!("aa{}", "0".repeat(62))),
                (ValueKind::Md5, "d41d8cd98f00b204e9800998ecf8427e".into())
            ]
        );
        assert_eq!(
            of("[network-traffic:dst_ref.value = '203.0.113.9'] OR [network-traffic:src_ref.value = '2001:db8::9']").unwrap(),
            [
                (ValueKind::Ipv4, "203.0.113.9".into()),
                (ValueKind::Ipv6, "2001:db8::9".into())
            ]
        );
        assert_eq!(
            of("[url:value = 'http://evil.example/a b\"c']").unwrap(),
            [(ValueKind::Url, "http://evil.example/a%20b%22c".into())]
        );
    }

    #[test]
    fn patterns_that_say_more_than_any_of_these_values_are_skipped_with_the_reason() {
        for (pattern, why) in [
            (
                "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.example']",
                "AND",
            ),
            (
                "[ipv4-addr:value = '1.2.3.4' AND ipv4-addr:value = '1.2.3.5']",
                "AND",
            ),
            (
                "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.5']",
                "FOLLOWEDBY",
            ),
            ("[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES", "qualifier"),
            ("[ipv4-addr:value != '1.2.3.4']", "other than = or IN"),
            ("[ipv4-addr:value NOT = '1.2.3.4']", "NOT"),
            ("[domain-name:value MATCHES '^a']", "other than = or IN"),
            ("[process:name = 'evil.exe']", "no sensor rule"),
            ("[network-traffic:dst_port = 443]", "no sensor rule"),
            (
                "[network-traffic:dst_ref.value = 'evil.example']",
                "not a usable ipv4",
            ),
            ("[file:hashes.'SHA-512' = 'aa']", "no sensor rule"),
            ("[ipv4-addr:value = '999.1.1.1']", "not a usable ipv4"),
            ("[ipv4-addr:value = '2001:db8::1']", "not a usable ipv4"),
            ("[ipv4-addr:value = '10.0.0.0/33']", "not a usable ipv4"),
            (
                "[domain-name:value = 'a\";drop.example']",
                "not a usable domain",
            ),
            (
                "[domain-name:value = 'tab\there.example']",
                "not a usable domain",
            ),
            (
                "[file:hashes.MD5 = 'zz1d8cd98f00b204e9800998ecf8427e']",
                "not a usable md5",
            ),
            (
                "[url:value = 'javascript:alert(1)']",
                "not an http or https URL",
            ),
            ("[url:value = 'not a url']", "not a usable url"),
            ("[ipv4-addr:value = ", "expecting a literal"),
        ] {
            let got = of(pattern).expect_err(pattern);
            assert!(got.contains(why), "{pattern}: {got}");
        }
        for (indicator, why) in [
            (
                json!({"pattern_type": "stix", "pattern": "[ipv4-addr:value = '1.2.3.4']", "revoked": true}),
                "revoked",
            ),
            (
                json!({"pattern_type": "sigma", "pattern": "title: x"}),
                "not STIX",
            ),
            (
                json!({"pattern": "[ipv4-addr:value = '1.2.3.4']"}),
                "no pattern_type",
            ),
            (json!({"pattern_type": "stix"}), "no pattern"),
        ] {
            let got = values(&indicator).expect_err(why);
            assert!(got.contains(why), "{got}");
        }
    }

    #[test]
    fn kinds_read_back_from_their_names_and_unknown_ones_are_refused() {
        for kind in ValueKind::ALL {
            assert_eq!(kind.name().parse::<ValueKind>(), Ok(kind));
        }
        assert!("ipv5".parse::<ValueKind>().unwrap_err().contains("ipv5"));
    }
}
