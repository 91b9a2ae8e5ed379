//! Sensor formats: Suricata rules, a Zeek Intel framework file, plain lists (YARA and Sigma
//! rules have modules of their own: [`super::yara`], [`super::sigma`]). Each line names
//! the indicator it comes from and its TLP level. Values reach here normalised by
//! [`super::extract`]; free text (an indicator's name) is reduced to characters that cannot
//! end a rule option or a Zeek column.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::extract::ValueKind;
use super::Detection;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Suricata rules (file hashes through `filemd5`/`filesha1`/`filesha256` list files).
    Suricata,
    /// A Zeek Intel framework file (tab-separated, `#fields` header).
    ZeekIntel,
    /// One value a line.
    List,
    /// YARA rules (file hashes through the `hash` module, other values as strings).
    Yara,
    /// Sigma rules (YAML documents, one per indicator and kind of log).
    Sigma,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 5] = [
        Format::Suricata,
        Format::ZeekIntel,
        Format::List,
        Format::Yara,
        Format::Sigma,
    ];

    /// The format as written in `--format` and `format=`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Suricata => "suricata",
            Format::ZeekIntel => "zeek-intel",
            Format::List => "list",
            Format::Yara => "yara",
            Format::Sigma => "sigma",
        }
    }

    /// Every format's name, for messages: `suricata, zeek-intel, list, yara or sigma`.
    pub fn names() -> String {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
        let (last, rest) = names.split_last().expect("formats");
        format!("{} or {last}", rest.join(", "))
    }

    /// The media type of an export in this format.
    pub const fn media_type(self) -> &'static str {
        match self {
            Format::Sigma => "application/yaml; charset=utf-8",
            _ => "text/plain; charset=utf-8",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown format {s:?}: expected {}", Format::names()))
    }
}

/// The file a Suricata hash rule reads its hashes from: what `--format list --type KIND`
/// writes, placed in Suricata's rule directory.
pub fn hash_list_file(kind: ValueKind) -> String {
    format!("comity-{}.list", kind.name())
}

/// The first SID of Comity's rules: 3,000,000,000 and above is left free by the public
/// rule sets.
const SID_BASE: u32 = 3_000_000_000;

/// Writes Suricata rules, one SID per indicator and value, stable across exports (derived
/// from the indicator id and the value; the next free one on a collision within an export).
pub struct Suricata {
    used: HashSet<u32>,
    /// The kinds of file hash seen, each with the latest `modified` of its indicators.
    hashes: BTreeMap<ValueKind, String>,
}

impl Default for Suricata {
    fn default() -> Self {
        Suricata::new()
    }
}

impl Suricata {
    /// An empty rule writer.
    pub fn new() -> Suricata {
        Suricata {
            used: HashSet::new(),
            hashes: BTreeMap::new(),
        }
    }

    fn sid(&mut self, indicator: &str, value: &str, variant: u8) -> u32 {
        let digest = Sha256::new()
            .chain_update(indicator)
            .chain_update([0, variant])
            .chain_update(value)
            .finalize();
        let span = u32::MAX - SID_BASE;
        let mut sid =
            SID_BASE + u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % span;
        while !self.used.insert(sid) {
            sid = if sid == u32::MAX { SID_BASE } else { sid + 1 };
        }
        sid
    }

    /// Appends the rules for `d` to `out`.
    pub fn rules(&mut self, d: &Detection, out: &mut String) {
        let msg = format!("COMITY {} {} {}", d.tlp, d.kind.name(), text(&d.name));
        let mut meta = format!("comity_indicator {}, tlp {}", d.indicator, d.tlp_key());
        for (key, date) in [("created_at", &d.created), ("updated_at", &d.modified)] {
            if let Some(day) = metadata_date(date) {
                let _ = write!(meta, ", {key} {day}");
            }
        }
        let v = &d.value;
        // `target` names the side of the rule that is ours: the host that talked to the value.
        let mut rule = |out: &mut String, variant: u8, head: &str, body: &str, target: &str| {
            let sid = self.sid(&d.indicator, v, variant);
            let _ = writeln!(
                out,
                "alert {head} (msg:\"{msg}\"; {body}target:{target}; classtype:bad-unknown; sid:{sid}; rev:1; metadata:{meta};)"
            );
        };
        match d.kind {
            ValueKind::Ipv4 | ValueKind::Ipv6 => {
                rule(
                    out,
                    0,
                    &format!("ip $HOME_NET any -> {v} any"),
                    "",
                    "src_ip",
                );
                rule(
                    out,
                    1,
                    &format!("ip {v} any -> $HOME_NET any"),
                    "",
                    "dest_ip",
                );
            }
            ValueKind::Domain => {
                let c = content(&format!(".{v}"));
                rule(
                    out,
                    0,
                    "dns $HOME_NET any -> any any",
                    &format!("dns.query; dotprefix; content:\"{c}\"; nocase; endswith; "),
                    "src_ip",
                );
                rule(
                    out,
                    1,
                    "tls $HOME_NET any -> $EXTERNAL_NET any",
                    &format!("tls.sni; dotprefix; content:\"{c}\"; nocase; endswith; "),
                    "src_ip",
                );
            }
            ValueKind::Url => {
                let Ok(url) = url::Url::parse(v) else { return };
                let host = content(url.host_str().unwrap_or_default());
                let mut path = url.path().to_owned();
                if let Some(q) = url.query() {
                    path.push('?');
                    path.push_str(q);
                }
                rule(
                    out,
                    0,
                    "http $HOME_NET any -> $EXTERNAL_NET any",
                    &format!(
                        "flow:established,to_server; http.host; content:\"{host}\"; startswith; endswith; http.uri; content:\"{}\"; fast_pattern; startswith; endswith; ",
                        content(&path)
                    ),
                    "src_ip",
                );
            }
            ValueKind::Md5 | ValueKind::Sha1 | ValueKind::Sha256 => {
                let latest = self.hashes.entry(d.kind).or_default();
                if d.modified > *latest {
                    latest.clone_from(&d.modified);
                }
            }
        }
    }

    /// Appends one rule per kind of file hash seen, reading the hashes from
    /// [`hash_list_file`].
    pub fn finish(mut self, out: &mut String) {
        for (kind, modified) in std::mem::take(&mut self.hashes) {
            let keyword = match kind {
                ValueKind::Md5 => "filemd5",
                ValueKind::Sha1 => "filesha1",
                _ => "filesha256",
            };
            let name = kind.name();
            let sid = self.sid("comity-file-hashes", name, 0);
            let updated = metadata_date(&modified)
                .map(|day| format!(", created_at {day}, updated_at {day}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "alert http $EXTERNAL_NET any -> $HOME_NET any (msg:\"COMITY file {name} on the Comity {name} list\"; flow:established,to_client; {keyword}:{}; target:dest_ip; classtype:bad-unknown; sid:{sid}; rev:1; metadata:comity_list {name}{updated};)",
                hash_list_file(kind),
            );
        }
    }
}

/// The Zeek Intel framework header.
pub const ZEEK_HEADER: &str = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n";

/// Appends `d` as a Zeek Intel line to `out`.
pub fn zeek(d: &Detection, out: &mut String) {
    let (value, kind) = match d.kind {
        ValueKind::Ipv4 | ValueKind::Ipv6 if d.value.contains('/') => {
            (d.value.clone(), "Intel::SUBNET")
        }
        ValueKind::Ipv4 | ValueKind::Ipv6 => (d.value.clone(), "Intel::ADDR"),
        ValueKind::Domain => (d.value.clone(), "Intel::DOMAIN"),
        // Zeek's URLs carry no scheme.
        ValueKind::Url => (
            d.value
                .split_once("://")
                .map_or(d.value.clone(), |(_, rest)| rest.to_owned()),
            "Intel::URL",
        ),
        ValueKind::Md5 | ValueKind::Sha1 | ValueKind::Sha256 => {
            (d.value.clone(), "Intel::FILE_HASH")
        }
    };
    let _ = writeln!(
        out,
        "{value}\t{kind}\tcomity\t{} {} {}",
        d.indicator,
        d.tlp,
        text(&d.name)
    );
}

/// `s` with only characters safe inside a quoted Suricata option and a Zeek column: letters,
/// digits, spaces and plain punctuation; anything else becomes `_`. At most 120
/// characters.
pub(super) fn text(s: &str) -> String {
    s.chars()
        .take(120)
        .map(|c| {
            if c.is_alphanumeric() || " .,-_()/'#@+*!?".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `s` as the inside of a Suricata `content:"…"`: bytes other than letters, digits and
/// `.-_~%=&,+@!*?` written in hex (`|3b|`), so no value can end the option or the rule.
fn content(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b".-_~%=&,+@!*?".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "|{b:02x}|");
        }
    }
    out
}

/// A STIX timestamp's day as Suricata metadata writes dates (`2024_05_01`), when it has one.
fn metadata_date(timestamp: &str) -> Option<String> {
    let day = timestamp.get(..10)?;
    let ok = day.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        _ => b.is_ascii_digit(),
    });
    ok.then(|| day.replace('-', "_"))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A detection of a TLP:GREEN indicator made on 1 May 2024 and changed the next day.
    pub(in crate::detections) fn detection(kind: ValueKind, value: &str, name: &str) -> Detection {
        Detection {
            indicator: "indicator--6f5a6d0e-7b2c-4c1e-9f3a-2d4b5c6d7e8f".into(),
            name: name.into(),
            tlp: "TLP:GREEN".into(),
            created: "2024-05-01T10:00:00.000Z".into(),
            modified: "2024-05-02T10:00:00.000Z".into(),
            kind,
            value: value.into(),
        }
    }

    #[test]
    fn hostile_names_and_values_cannot_end_a_rule_or_a_column() {
        let mut s = Suricata::new();
        let mut out = String::new();
        let name = "x\"; sid:1; rev:1;) alert ip any any -> any any (msg:\"\tnew\nline";
        s.rules(
            &detection(ValueKind::Url, "http://evil.example/a;b%22c?q=|x|", name),
            &mut out,
        );
        assert_eq!(out.lines().count(), 1, "{out}");
        let line = out.lines().next().unwrap();
        assert_eq!(line.matches("sid:").count(), 1, "{line}");
        assert_eq!(line.matches('"').count(), 6, "{line}");
        assert!(
            line.contains("content:\"|2f|a|3b|b%22c?q=|7c|x|7c|\""),
            "{line}"
        );
        assert!(
            line.ends_with("created_at 2024_05_01, updated_at 2024_05_02;)"),
            "{line}"
        );
        let mut z = String::new();
        zeek(&detection(ValueKind::Domain, "evil.example", name), &mut z);
        assert_eq!(z.lines().count(), 1);
        assert_eq!(z.matches('\t').count(), 3, "{z}");
    }

    #[test]
    fn sids_are_stable_and_never_repeat_within_an_export() {
        let d = detection(ValueKind::Ipv4, "203.0.113.7", "c2");
        let (mut a, mut b) = (Suricata::new(), Suricata::new());
        let (mut x, mut y) = (String::new(), String::new());
        a.rules(&d, &mut x);
        b.rules(&d, &mut y);
        assert_eq!(x, y);
        // the same indicator and value twice in one export: new SIDs
        a.rules(&d, &mut x);
        let sids: HashSet<&str> = x
            .split("sid:")
            .skip(1)
            .map(|s| s.split(';').next().unwrap())
            .collect();
        assert_eq!(sids.len(), 4, "{x}");
    }

    #[test]
    fn hashes_become_one_rule_per_kind_reading_its_list() {
        let mut s = Suricata::new();
        let mut out = String::new();
        s.rules(
            &detection(ValueKind::Sha256, &"a".repeat(64), "f"),
            &mut out,
        );
        s.rules(
            &detection(ValueKind::Sha256, &"b".repeat(64), "g"),
            &mut out,
        );
        s.rules(&detection(ValueKind::Md5, &"c".repeat(32), "h"), &mut out);
        assert!(out.is_empty());
        s.finish(&mut out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].contains("filemd5:comity-md5.list;"), "{out}");
        assert!(metadata_date("2024-5-1").is_none() && metadata_date("").is_none());
        assert!(lines[1].contains("filesha256:comity-sha256.list;"), "{out}");
    }

    #[test]
    fn formats_read_back_from_their_names() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        }
        let e = "snort".parse::<Format>().unwrap_err();
        assert!(
            e.contains("\"snort\"") && e.contains("zeek-intel, list, yara or sigma"),
            "{e}"
        );
    }
}
