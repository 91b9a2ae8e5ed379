//! YARA rules for what a file or a memory image can hold: file hashes through YARA's `hash`
//! module, domains, URLs and single addresses as text strings. One rule per indicator and
//! value, named from both (stable across exports), with the indicator, its TLP level and
//! its dates as meta. IP networks give no rule: a file holds addresses, not ranges.

use std::collections::HashSet;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::extract::ValueKind;
use super::render::text;
use super::Detection;

/// What every YARA export starts with: the module the hash rules call.
pub const HEADER: &str = "import \"hash\"\n\n";

/// Writes YARA rules, each name used once in an export.
#[derive(Debug, Default)]
pub struct Yara {
    used: HashSet<String>,
}

impl Yara {
    /// An empty rule writer.
    pub fn new() -> Yara {
        Yara::default()
    }

    /// Appends the rule for `d` to `out`; `false`, writing nothing, when its value cannot
    /// be looked for in a file (an IP network).
    pub fn rule(&mut self, d: &Detection, out: &mut String) -> bool {
        let v = &d.value;
        let condition = match d.kind {
            ValueKind::Md5 => format!("hash.md5(0, filesize) == \"{v}\""),
            ValueKind::Sha1 => format!("hash.sha1(0, filesize) == \"{v}\""),
            ValueKind::Sha256 => format!("hash.sha256(0, filesize) == \"{v}\""),
            ValueKind::Ipv4 | ValueKind::Ipv6 if v.contains('/') => return false,
            ValueKind::Ipv4 | ValueKind::Ipv6 | ValueKind::Domain | ValueKind::Url => {
                String::from("$value")
            }
        };
        let strings = match d.kind {
            // Whole words only: 203.0.113.7 is not 203.0.113.70, evil.example not
            // notevil.example (but sub.evil.example is).
            ValueKind::Ipv4 | ValueKind::Ipv6 | ValueKind::Domain => {
                format!(
                    "    strings:\n        $value = \"{}\" ascii wide nocase fullword\n",
                    literal(v)
                )
            }
            ValueKind::Url => {
                format!(
                    "    strings:\n        $value = \"{}\" ascii wide nocase\n",
                    literal(v)
                )
            }
            ValueKind::Md5 | ValueKind::Sha1 | ValueKind::Sha256 => String::new(),
        };
        let name = self.name(d);
        let _ = write!(
            out,
            "rule {name} : comity {tag}\n{{\n    meta:\n        comity_indicator = \"{id}\"\n        tlp = \"{tlp}\"\n        name = \"{text}\"\n        value_type = \"{kind}\"\n        created = \"{created}\"\n        modified = \"{modified}\"\n{strings}    condition:\n        {condition}\n}}\n\n",
            tag = d.tlp_key(),
            id = literal(&d.indicator),
            tlp = literal(&d.tlp),
            text = literal(&text(&d.name)),
            kind = d.kind.name(),
            created = literal(&d.created),
            modified = literal(&d.modified),
        );
        true
    }

    /// `comity_<kind>_<12 hex digits of the indicator and value>`, with `_2`, `_3`… when
    /// the export holds it already.
    fn name(&mut self, d: &Detection) -> String {
        let digest = Sha256::new()
            .chain_update(&d.indicator)
            .chain_update([0])
            .chain_update(&d.value)
            .finalize();
        let base = format!("comity_{}_{}", d.kind.name(), hex::encode(&digest[..6]));
        let mut name = base.clone();
        let mut n = 1;
        while !self.used.insert(name.clone()) {
            n += 1;
            name = format!("{base}_{n}");
        }
        name
    }
}

/// `s` as the inside of a YARA text string or meta value: printable ASCII as it is except
/// `"` and `\`, every other byte as `\xHH`, so no value can end the string or the rule.
fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detections::render::tests::detection;

    #[test]
    fn hashes_become_hash_module_conditions_and_names_never_repeat() {
        let mut y = Yara::new();
        let mut out = String::new();
        let d = detection(ValueKind::Sha256, &"a".repeat(64), "dropper");
        assert!(y.rule(&d, &mut out));
        assert!(y.rule(&d, &mut out));
        assert!(out.contains(&format!(
            "hash.sha256(0, filesize) == \"{}\"",
            "a".repeat(64)
        )));
        let names: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("rule "))
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        assert_eq!(names.len(), 2);
        assert_eq!(names[1], format!("{}_2", names[0]));
        assert!(!y.rule(&detection(ValueKind::Ipv4, "10.0.0.0/8", "net"), &mut out));
    }

    #[test]
    fn hostile_names_and_values_cannot_end_a_string_or_the_rule() {
        let mut out = String::new();
        let name = "x\" condition: true }\nrule evil { condition: true }";
        let d = detection(ValueKind::Url, "http://evil.example/a\"b\\c?d=é", name);
        assert!(Yara::new().rule(&d, &mut out));
        assert_eq!(
            out.lines().filter(|l| l.starts_with("rule ")).count(),
            1,
            "{out}"
        );
        assert_eq!(out.matches('}').count(), 1, "{out}");
        assert!(
            out.contains(
                r#"$value = "http://evil.example/a\x22b\x5cc?d=\xc3\xa9" ascii wide nocase"#
            ),
            "{out}"
        );
    }
}
