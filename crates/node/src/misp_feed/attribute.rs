//! STIX values as MISP attributes, after the published MISP ↔ STIX 2.1 mapping read
//! backwards: which attribute type a property's value is, which categories that type takes
//! (MISP's `describeTypes`), and which value an indicator's pattern names. The
//! `misp:type="…"` and `misp:category="…"` labels that an import leaves choose between the
//! types a value may be (an `ip-src` or an `ip-dst`, a `domain` or a `hostname`) and the
//! category, when they fit; anything else takes the type's default.

use std::net::IpAddr;

use comity_pattern::ast::{Comparison, ComparisonExpr, Literal, ObservationExpr, PathStep};
use comity_pattern::{Pattern, StixVersion};
use serde_json::Value;

/// An attribute's type, category and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// The MISP attribute type (`ip-dst`, `sha256`, …).
    pub kind: &'static str,
    /// Its MISP category.
    pub category: &'static str,
    /// The value.
    pub value: String,
}

/// Each type this export writes, with its default category first and the others it
/// takes (MISP's `describeTypes.json`).
const CATEGORIES: &[(&str, &[&str])] = &[
    (
        "ip-src",
        &["Network activity", "Payload delivery", "External analysis"],
    ),
    (
        "ip-dst",
        &["Network activity", "Payload delivery", "External analysis"],
    ),
    (
        "domain",
        &["Network activity", "Payload delivery", "External analysis"],
    ),
    (
        "hostname",
        &["Network activity", "Payload delivery", "External analysis"],
    ),
    (
        "url",
        &["Network activity", "Payload delivery", "External analysis"],
    ),
    (
        "link",
        &[
            "External analysis",
            "Internal reference",
            "Antivirus detection",
            "Payload delivery",
            "Support Tool",
        ],
    ),
    (
        "email",
        &[
            "Social network",
            "Payload delivery",
            "Network activity",
            "Attribution",
            "Person",
        ],
    ),
    (
        "email-src",
        &["Payload delivery", "Network activity", "Social network"],
    ),
    (
        "email-dst",
        &["Network activity", "Payload delivery", "Social network"],
    ),
    (
        "filename",
        &[
            "Payload delivery",
            "Artifacts dropped",
            "Payload installation",
            "Persistence mechanism",
            "External analysis",
        ],
    ),
    (
        "md5",
        &[
            "Payload delivery",
            "Artifacts dropped",
            "Payload installation",
            "External analysis",
        ],
    ),
    (
        "sha1",
        &[
            "Payload delivery",
            "Artifacts dropped",
            "Payload installation",
            "External analysis",
        ],
    ),
    (
        "sha256",
        &[
            "Payload delivery",
            "Artifacts dropped",
            "Payload installation",
            "External analysis",
        ],
    ),
    (
        "sha512",
        &[
            "Payload delivery",
            "Artifacts dropped",
            "Payload installation",
        ],
    ),
    ("mutex", &["Artifacts dropped"]),
    (
        "stix2-pattern",
        &[
            "Payload installation",
            "Payload delivery",
            "Artifacts dropped",
            "Network activity",
        ],
    ),
    (
        "yara",
        &[
            "Payload installation",
            "Payload delivery",
            "Artifacts dropped",
        ],
    ),
    (
        "sigma",
        &[
            "Payload installation",
            "Payload delivery",
            "Artifacts dropped",
        ],
    ),
    ("snort", &["Network activity", "External analysis"]),
];

/// The value of a `misp:<key>="…"` label of `object`.
pub fn misp_label<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    let prefix = format!("misp:{key}=\"");
    object
        .get("labels")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find_map(|l| l.strip_prefix(prefix.as_str())?.strip_suffix('"'))
}

/// The category of an attribute of type `kind` made from `object`: its `misp-category`
/// kill chain phase or `misp:category` label when the type takes it, else the type's
/// default.
fn category(kind: &'static str, object: &Value) -> &'static str {
    let allowed = CATEGORIES
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, c)| *c)
        .expect("a type this export writes");
    let phase = object
        .get("kill_chain_phases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|p| p.get("kill_chain_name").and_then(Value::as_str) == Some("misp-category"))
        .and_then(|p| p.get("phase_name").and_then(Value::as_str));
    let wanted = phase.or_else(|| misp_label(object, "category"));
    wanted
        .and_then(|w| allowed.iter().find(|c| **c == w))
        .unwrap_or(&allowed[0])
}

/// The attribute type of `value`, the property `property` (`value`, `name`,
/// `hashes.SHA-256`) of an object of `object_type`, with `label` (the `misp:type` label)
/// choosing among the types it may be; `None` when no type fits or the value is not one
/// of its type.
fn kind_of(
    object_type: &str,
    property: &str,
    value: &str,
    label: Option<&str>,
) -> Option<&'static str> {
    let choose = |types: &[&'static str]| {
        Some(
            label
                .and_then(|l| types.iter().find(|t| **t == l).copied())
                .unwrap_or(types[0]),
        )
    };
    let hex = |len: usize| value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit());
    let kind = match (object_type, property) {
        ("ipv4-addr" | "ipv6-addr", "value") => {
            let address = value.split_once('/').map_or(value, |(a, _)| a);
            address.parse::<IpAddr>().ok()?;
            choose(&["ip-dst", "ip-src"])?
        }
        ("domain-name", "value") => choose(&["domain", "hostname"])?,
        ("url", "value") => choose(&["url", "link"])?,
        ("email-addr", "value") => choose(&["email", "email-src", "email-dst"])?,
        ("file", "name") => "filename",
        ("mutex", "name") => "mutex",
        ("file", hash) => match hash
            .strip_prefix("hashes.")?
            .to_ascii_uppercase()
            .replace('-', "")
            .as_str()
        {
            "MD5" if hex(32) => "md5",
            "SHA1" if hex(40) => "sha1",
            "SHA256" if hex(64) => "sha256",
            "SHA512" if hex(128) => "sha512",
            _ => return None,
        },
        _ => return None,
    };
    (!value.is_empty() && !value.contains(['\n', '\r'])).then_some(kind)
}

fn attr(kind: &'static str, object: &Value, value: &str) -> Attr {
    Attr {
        kind,
        category: category(kind, object),
        value: value.to_owned(),
    }
}

/// The attributes of the observable objects (SCOs) an `observed-data` refers to; SCO
/// properties no attribute type holds are left out.
pub fn of_observation(observed: &Value, scos: &[&Value]) -> Vec<Attr> {
    let label = misp_label(observed, "type");
    let mut out = Vec::new();
    for sco in scos {
        let ty = sco.get("type").and_then(Value::as_str).unwrap_or_default();
        let mut properties: Vec<(String, &str)> = ["value", "name"]
            .iter()
            .filter_map(|p| Some((p.to_string(), sco.get(*p)?.as_str()?)))
            .collect();
        if let Some(hashes) = sco.get("hashes").and_then(Value::as_object) {
            properties.extend(
                hashes
                    .iter()
                    .filter_map(|(k, v)| Some((format!("hashes.{k}"), v.as_str()?))),
            );
        }
        for (property, value) in properties {
            if let Some(kind) = kind_of(ty, &property, value, label) {
                out.push(attr(kind, observed, value));
            }
        }
    }
    out
}

/// The one attribute an indicator is: the value its pattern names when the pattern is one
/// comparison (`[domain-name:value = '…']`, or the type and value of one end of a
/// `network-traffic`, as MISP's `ip-src`/`ip-dst` are written), else the whole pattern as
/// a `stix2-pattern` (or a `yara`, `sigma`, `snort` rule for those pattern types).
pub fn of_indicator(indicator: &Value) -> Result<Attr, String> {
    let pattern = indicator
        .get("pattern")
        .and_then(Value::as_str)
        .ok_or("no pattern")?;
    let kind = match indicator.get("pattern_type").and_then(Value::as_str) {
        Some("stix") => {
            if let Some((kind, value)) = simple(indicator, pattern) {
                return Ok(attr(kind, indicator, &value));
            }
            "stix2-pattern"
        }
        Some("yara") => "yara",
        Some("sigma") => "sigma",
        Some("snort" | "suricata") => "snort",
        Some(other) => return Err(format!("pattern type {other:?} has no MISP attribute type")),
        None => return Err("no pattern_type".into()),
    };
    Ok(attr(kind, indicator, pattern))
}

/// The type and value of a pattern that names one value.
fn simple(indicator: &Value, pattern: &str) -> Option<(&'static str, String)> {
    let parsed = Pattern::parse(pattern, StixVersion::V21).ok()?;
    let ObservationExpr::Observation(comparison) = parsed.expr() else {
        return None;
    };
    let eq = |c: &ComparisonExpr| -> Option<(String, String, Vec<String>)> {
        let ComparisonExpr::Test(t) = c else {
            return None;
        };
        let (Comparison::Eq(Literal::Str(v)), false) = (&t.op, t.negated) else {
            return None;
        };
        let steps = t
            .path
            .steps
            .iter()
            .map(|s| match s {
                PathStep::Key(k) => Some(k.clone()),
                PathStep::Index(_) | PathStep::Any => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some((t.path.object_type.clone(), v.clone(), steps))
    };
    match comparison {
        ComparisonExpr::Test(_) => {
            let (ty, value, steps) = eq(comparison)?;
            let property = steps.join(".");
            let kind = kind_of(&ty, &property, &value, misp_label(indicator, "type"))?;
            Some((kind, value))
        }
        // `[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '…']`
        ComparisonExpr::And(parts) if parts.len() == 2 => {
            let (a, b) = (eq(&parts[0])?, eq(&parts[1])?);
            let ((ty_a, address_type, steps_a), (ty_b, value, steps_b)) =
                if a.2.last().map(String::as_str) == Some("type") {
                    (a, b)
                } else {
                    (b, a)
                };
            let end = match (steps_a.as_slice(), steps_b.as_slice()) {
                ([e, t], [e2, v]) if e == e2 && t == "type" && v == "value" => e.as_str(),
                _ => return None,
            };
            let kind = match end {
                "src_ref" => "ip-src",
                "dst_ref" => "ip-dst",
                _ => return None,
            };
            let fits = ty_a == "network-traffic"
                && ty_b == "network-traffic"
                && kind_of(&address_type, "value", &value, Some(kind)) == Some(kind);
            fits.then_some((kind, value))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn indicator(pattern: &str, labels: &[&str]) -> Value {
        json!({"type": "indicator", "pattern_type": "stix", "pattern": pattern, "labels": labels})
    }

    fn kind_and_value(a: Attr) -> (&'static str, &'static str, String) {
        (a.kind, a.category, a.value)
    }

    #[test]
    fn one_comparison_patterns_are_their_value() {
        for (pattern, labels, kind, category, value) in [
            ("[ipv4-addr:value = '203.0.113.9']", &[][..], "ip-dst", "Network activity", "203.0.113.9"),
            ("[ipv6-addr:value = '2001:db8::/32']", &["misp:type=\"ip-src\""][..], "ip-src", "Network activity", "2001:db8::/32"),
            ("[domain-name:value = 'a.example']", &["misp:type=\"hostname\"", "misp:category=\"External analysis\""][..], "hostname", "External analysis", "a.example"),
            // A label that does not fit the value's type is ignored, as is a category the
            // type does not take.
            ("[domain-name:value = 'a.example']", &["misp:type=\"md5\"", "misp:category=\"Person\""][..], "domain", "Network activity", "a.example"),
            ("[url:value = 'https://x.example/it\\'s']", &[][..], "url", "Network activity", "https://x.example/it's"),
            ("[email-addr:value = 'a@b.example']", &["misp:type=\"email-src\""][..], "email-src", "Payload delivery", "a@b.example"),
            ("[file:name = 'invoice.pdf.exe']", &[][..], "filename", "Payload delivery", "invoice.pdf.exe"),
            ("[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']", &[][..], "sha256", "Payload delivery", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']", &[][..], "md5", "Payload delivery", "d41d8cd98f00b204e9800998ecf8427e"),
            ("[mutex:name = 'Global\\\\x']", &[][..], "mutex", "Artifacts dropped", "Global\\x"),
            ("[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = '198.51.100.1']", &[][..], "ip-src", "Network activity", "198.51.100.1"),
            ("[network-traffic:dst_ref.value = '2001:db8::1' AND network-traffic:dst_ref.type = 'ipv6-addr']", &[][..], "ip-dst", "Network activity", "2001:db8::1"),
        ] {
            let got = of_indicator(&indicator(pattern, labels)).unwrap();
            assert_eq!(kind_and_value(got), (kind, category, value.to_owned()), "{pattern}");
        }
    }

    #[test]
    fn other_patterns_are_kept_whole() {
        for pattern in [
            "[ipv4-addr:value = '203.0.113.9'] OR [ipv4-addr:value = '203.0.113.10']",
            "[ipv4-addr:value = 'not an address']",
            "[file:hashes.MD5 = 'too short']",
            "[domain-name:value != 'a.example']",
            "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.1']",
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = 'x']",
            "[process:name = 'evil.exe']",
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e'] WITHIN 5 SECONDS",
        ] {
            let got = of_indicator(&indicator(pattern, &[])).unwrap();
            assert_eq!((got.kind, got.value.as_str()), ("stix2-pattern", pattern));
        }
        let yara = json!({"pattern_type": "yara", "pattern": "rule x { condition: true }",
                          "kill_chain_phases": [{"kill_chain_name": "misp-category", "phase_name": "Artifacts dropped"}]});
        assert_eq!(
            kind_and_value(of_indicator(&yara).unwrap()),
            (
                "yara",
                "Artifacts dropped",
                "rule x { condition: true }".into()
            )
        );
        assert!(
            of_indicator(&json!({"pattern_type": "pcre", "pattern": "x"}))
                .unwrap_err()
                .contains("\"pcre\"")
        );
        assert_eq!(
            of_indicator(&json!({"pattern_type": "stix"})).unwrap_err(),
            "no pattern"
        );
    }

    #[test]
    fn observations_give_one_attribute_per_value() {
        let observed = json!({"type": "observed-data", "labels": ["misp:type=\"ip-src\""]});
        let ip = json!({"type": "ipv4-addr", "value": "203.0.113.9"});
        let file = json!({"type": "file", "name": "a.exe", "hashes": {"SHA-1": "da39a3ee5e6b4b0d3255bfef95601890afd80709", "TLSH": "x"}});
        let process = json!({"type": "process", "pid": 4});
        let got: Vec<_> = of_observation(&observed, &[&ip, &file, &process])
            .into_iter()
            .map(|a| (a.kind, a.value))
            .collect();
        assert_eq!(
            got,
            [
                ("ip-src", "203.0.113.9".to_owned()),
                ("filename", "a.exe".to_owned()),
                (
                    "sha1",
                    "da39a3ee5e6b4b0d3255bfef95601890afd80709".to_owned()
                ),
            ]
        );
        let hostile = json!({"type": "domain-name", "value": "a.example\nb"});
        assert!(of_observation(&observed, &[&hostile]).is_empty());
    }
}
