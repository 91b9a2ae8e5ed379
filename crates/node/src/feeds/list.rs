//! List feeds: plain lists of indicators (one IP address, CIDR block, domain, URL or file
//! hash a line, `#` comments) or CSV files with a chosen column, turned into STIX
//! indicators. Each value's indicator has a deterministic id (UUIDv5 of the feed's name and
//! the value), so a re-run makes nothing new; a value gone from the list gets a new version
//! of its indicator with `revoked: true`. This module is pure: it reads text and writes
//! JSON, never the store.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{json, Value};
use uuid::Uuid;

/// The namespace of the UUIDv5 ids of list indicators.
const NAMESPACE: Uuid = Uuid::from_u128(0x6c1b_9f3e_2d4a_5b8c_9e7f_0a1b_2c3d_4e5f);

/// Longest line read; longer ones are skipped as hostile.
pub const MAX_LINE: usize = 4096;

/// What a value of a list (or of a sensor export) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValueKind {
    /// An IPv4 address or CIDR block.
    Ipv4,
    /// An IPv6 address or CIDR block.
    Ipv6,
    /// A domain name.
    Domain,
    /// A URL.
    Url,
    /// An MD5 file hash.
    Md5,
    /// A SHA-1 file hash.
    Sha1,
    /// A SHA-256 file hash.
    Sha256,
}

impl ValueKind {
    /// Every kind.
    pub const ALL: [ValueKind; 7] = [
        ValueKind::Ipv4,
        ValueKind::Ipv6,
        ValueKind::Domain,
        ValueKind::Url,
        ValueKind::Md5,
        ValueKind::Sha1,
        ValueKind::Sha256,
    ];

    fn label(self) -> &'static str {
        match self {
            ValueKind::Ipv4 => "ipv4-addr",
            ValueKind::Ipv6 => "ipv6-addr",
            ValueKind::Domain => "domain-name",
            ValueKind::Url => "url",
            ValueKind::Md5 => "md5",
            ValueKind::Sha1 => "sha1",
            ValueKind::Sha256 => "sha256",
        }
    }

    /// The short name sensor exports use (`--value-type`, `type=`): `ipv4`, `domain`, ….
    pub const fn name(self) -> &'static str {
        match self {
            ValueKind::Ipv4 => "ipv4",
            ValueKind::Ipv6 => "ipv6",
            ValueKind::Domain => "domain",
            ValueKind::Url => "url",
            ValueKind::Md5 => "md5",
            ValueKind::Sha1 => "sha1",
            ValueKind::Sha256 => "sha256",
        }
    }

    /// The STIX object path the pattern compares.
    fn object_path(self) -> &'static str {
        match self {
            ValueKind::Ipv4 => "ipv4-addr:value",
            ValueKind::Ipv6 => "ipv6-addr:value",
            ValueKind::Domain => "domain-name:value",
            ValueKind::Url => "url:value",
            ValueKind::Md5 => "file:hashes.MD5",
            ValueKind::Sha1 => "file:hashes.'SHA-1'",
            ValueKind::Sha256 => "file:hashes.'SHA-256'",
        }
    }
}

impl std::str::FromStr for ValueKind {
    type Err = String;
    /// Reads a short name ([`ValueKind::name`]).
    fn from_str(s: &str) -> Result<Self, String> {
        ValueKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!("unknown value type {s:?}: expected ipv4, ipv6, domain, url, md5, sha1 or sha256")
            })
    }
}

/// One value of a list, normalised (addresses canonical, domains and hashes lower case).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListValue {
    /// What it is.
    pub kind: ValueKind,
    /// The value.
    pub value: String,
}

impl ListValue {
    /// The key the store keeps it under: `<kind>:<value>`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.label(), self.value)
    }

    /// The value a key names (`None` for a key this build did not write).
    pub fn from_key(key: &str) -> Option<ListValue> {
        let (label, value) = key.split_once(':')?;
        let kind = ValueKind::ALL.into_iter().find(|k| k.label() == label)?;
        Some(ListValue {
            kind,
            value: value.to_owned(),
        })
    }

    /// The STIX pattern that matches it.
    pub fn pattern(&self) -> String {
        let literal = self.value.replace('\\', "\\\\").replace('\'', "\\'");
        format!("[{} = '{literal}']", self.kind.object_path())
    }
}

/// A line that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its number, from 1.
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// What a list holds.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Its values, by key (a value listed twice counts once).
    pub values: BTreeMap<String, ListValue>,
    /// The lines not taken.
    pub skipped: Vec<Skipped>,
}

/// Reads a list: one value a line, or the `column` (from 1) of CSV lines. Blank lines and
/// lines starting with `#` are comments; anything else that is not a value is skipped with
/// its line number.
pub fn parse(text: &str, column: Option<usize>) -> Parsed {
    let mut parsed = Parsed::default();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let skip = |reason: String| Skipped {
            line: i + 1,
            reason,
        };
        if line.len() > MAX_LINE {
            parsed
                .skipped
                .push(skip(format!("longer than {MAX_LINE} bytes")));
            continue;
        }
        let field = match column {
            None => Some(trimmed),
            Some(n) => trimmed.split(',').nth(n.saturating_sub(1)),
        };
        let Some(field) = field else {
            parsed
                .skipped
                .push(skip(format!("has no column {}", column.unwrap_or(1))));
            continue;
        };
        let field = field.trim().trim_matches('"').trim();
        match classify(field) {
            Ok(value) => {
                parsed.values.insert(value.key(), value);
            }
            Err(reason) => parsed.skipped.push(skip(reason)),
        }
    }
    parsed
}

/// What `field` is, or why it is none of the values a list may hold.
pub fn classify(field: &str) -> Result<ListValue, String> {
    if field.is_empty() {
        return Err("empty value".into());
    }
    if field.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("control or space characters in the value".into());
    }
    let value = |kind, value: String| Ok(ListValue { kind, value });
    if let Some(ip) = ip_or_cidr(field) {
        return ip;
    }
    let lower = field.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return match url::Url::parse(field) {
            Ok(_) => value(ValueKind::Url, field.to_owned()),
            Err(e) => Err(format!("not a valid URL: {e}")),
        };
    }
    if field.chars().all(|c| c.is_ascii_hexdigit()) {
        let kind = match field.len() {
            32 => ValueKind::Md5,
            40 => ValueKind::Sha1,
            64 => ValueKind::Sha256,
            n => return Err(format!("{n} hex digits is no MD5, SHA-1 or SHA-256 hash")),
        };
        return value(kind, lower);
    }
    let domain = lower.strip_suffix('.').unwrap_or(&lower);
    if is_domain(domain) {
        return value(ValueKind::Domain, domain.to_owned());
    }
    Err("not an IP address, CIDR block, domain, URL or hash".into())
}

/// An address or CIDR block, canonical; `None` when `field` is neither.
fn ip_or_cidr(field: &str) -> Option<Result<ListValue, String>> {
    let (addr, prefix) = match field.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (field, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let (kind, max) = match ip {
        IpAddr::V4(_) => (ValueKind::Ipv4, 32),
        IpAddr::V6(_) => (ValueKind::Ipv6, 128),
    };
    let value = match prefix {
        None => ip.to_string(),
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max => format!("{ip}/{n}"),
            _ => return Some(Err(format!("prefix /{p} is not 0 to {max}"))),
        },
    };
    Some(Ok(ListValue { kind, value }))
}

fn is_domain(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// How a list feed makes its indicators.
#[derive(Debug, Clone)]
pub struct IndicatorDefaults<'a> {
    /// The feed's name (part of every id, and of every indicator's name).
    pub feed: &'a str,
    /// The markings of every indicator.
    pub markings: &'a [String],
    /// How long an indicator is valid from its creation, in days.
    pub valid_days: Option<u32>,
    /// The confidence of every indicator (0 to 100).
    pub confidence: Option<u8>,
}

/// What prefixes the key of a value whose indicator was revoked, among a feed's values: a
/// value that comes back after that gets a new indicator (STIX never un-revokes one).
pub const REVOKED: char = '!';

/// One life of a value's indicator: from the value's first appearance, or from its return
/// after its indicator was revoked (`renewed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Life {
    /// When the indicator was created, microseconds.
    pub created: i64,
    /// The value came back after an earlier indicator of it was revoked.
    pub renewed: bool,
}

/// The deterministic id of the indicator of `value` in `feed` during `life`: UUIDv5 of the
/// feed's name and the value (and, for a renewed life, its creation time).
pub fn indicator_id(feed: &str, value: &ListValue, life: Life) -> String {
    let name = match life.renewed {
        false => format!("{feed}\n{}", value.key()),
        true => format!("{feed}\n{}\n{}", value.key(), life.created),
    };
    format!("indicator--{}", Uuid::new_v5(&NAMESPACE, name.as_bytes()))
}

/// The indicator of `value` during `life`, modified at `modified` (microseconds);
/// `revoked` makes it the version that revokes it.
pub fn indicator(
    defaults: &IndicatorDefaults<'_>,
    value: &ListValue,
    life: Life,
    modified: i64,
    revoked: bool,
) -> Value {
    let created = life.created;
    use comity_stix::clock::format_us;
    let mut object = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(defaults.feed, value, life),
        "created": format_us(created),
        "modified": format_us(modified),
        "name": format!("{} from feed {}", value.value, defaults.feed),
        "indicator_types": ["malicious-activity"],
        "pattern": value.pattern(),
        "pattern_type": "stix",
        "valid_from": format_us(created),
    });
    let fields = object.as_object_mut().expect("an object literal");
    if let Some(days) = defaults.valid_days {
        let until = created.saturating_add(i64::from(days) * 86_400_000_000);
        fields.insert("valid_until".into(), json!(format_us(until)));
    }
    if let Some(confidence) = defaults.confidence {
        fields.insert("confidence".into(), json!(confidence));
    }
    if !defaults.markings.is_empty() {
        fields.insert("object_marking_refs".into(), json!(defaults.markings));
    }
    if revoked {
        fields.insert("revoked".into(), json!(true));
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(p: &Parsed) -> Vec<&str> {
        p.values.keys().map(String::as_str).collect()
    }

    #[test]
    fn every_kind_of_value_is_recognised_and_normalised() {
        let text = "# a comment\n\n  203.0.113.9  \n198.51.100.0/24\n2001:DB8::1\n\
                    Evil.Example.\nhttps://x.example/a?b=c\n\
                    D41D8CD98F00B204E9800998ECF8427E\n\
                    da39a3ee5e6b4b0d3255bfef95601890afd80709\n\
                    e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
                    203.0.113.9\n";
        let parsed = parse(text, None);
        assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
        assert_eq!(
            keys(&parsed),
            [
                "domain-name:evil.example",
                "ipv4-addr:198.51.100.0/24",
                "ipv4-addr:203.0.113.9",
                "ipv6-addr:2001:db8::1",
                "md5:d41d8cd98f00b204e9800998ecf8427e",
                "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709",
                "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "url:https://x.example/a?b=c",
            ]
        );
    }

    #[test]
    fn hostile_lines_are_skipped_with_their_number_and_reason() {
        let long = format!("{}.example", "a".repeat(MAX_LINE));
        let text = format!(
            "evil.example\n{long}\n1.2.3.4 extra\nabc\u{0}def.example\n<script>\n\
             ' OR 1=1 --\n-bad-.example\n12345\n10.0.0.0/33\nhttp://[::1\nabcdef0123\n\
             ..\n1.2.3\n"
        );
        let parsed = parse(&text, None);
        assert_eq!(keys(&parsed), ["domain-name:evil.example"]);
        let lines: Vec<usize> = parsed.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, (2..=13).collect::<Vec<_>>());
        assert!(parsed.skipped[0].reason.contains("longer than"));
        assert!(parsed.skipped[1].reason.contains("space"));
        assert!(parsed.skipped[2].reason.contains("control"));
        assert!(parsed.skipped[7].reason.contains("prefix /33"));
        assert!(parsed.skipped[9].reason.contains("hex digits"));
    }

    #[test]
    fn a_csv_column_is_read_and_missing_columns_are_skipped() {
        let text = "first_seen,value,score\n2026-01-01,\"203.0.113.7\",90\n2026-01-02\n";
        let parsed = parse(text, Some(2));
        assert_eq!(keys(&parsed), ["ipv4-addr:203.0.113.7"]);
        // The header's "value" is no indicator; the short line has no second column.
        assert_eq!(parsed.skipped.len(), 2);
        assert!(parsed.skipped[1].reason.contains("no column 2"));
    }

    #[test]
    fn patterns_escape_quotes_and_backslashes_and_parse() {
        let v = classify("https://x.example/it's\\here").unwrap();
        assert_eq!(
            v.pattern(),
            r"[url:value = 'https://x.example/it\'s\\here']"
        );
        for field in [
            "203.0.113.9",
            "2001:db8::/32",
            "evil.example",
            "https://x.example/it's\\here",
            "d41d8cd98f00b204e9800998ecf8427e",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ] {
            let v = classify(field).unwrap();
            assert!(
                comity_pattern::Pattern::parse(&v.pattern(), Default::default()).is_ok(),
                "{}",
                v.pattern()
            );
            assert_eq!(ListValue::from_key(&v.key()), Some(v));
        }
        assert_eq!(ListValue::from_key("nonsense:1"), None);
        assert_eq!(ListValue::from_key("no colon"), None);
    }

    #[test]
    fn indicators_have_deterministic_ids_and_validate() {
        let markings = vec![comity_stix::tlp::TLP2_AMBER.to_owned()];
        let defaults = IndicatorDefaults {
            feed: "blocklist",
            markings: &markings,
            valid_days: Some(30),
            confidence: Some(70),
        };
        let v = classify("evil.example").unwrap();
        let life = |created, renewed| Life { created, renewed };
        let first = indicator(&defaults, &v, life(1_000_000, false), 1_000_000, false);
        let again = indicator(&defaults, &v, life(5_000_000, false), 5_000_000, false);
        assert_eq!(first["id"], again["id"]);
        let renewed = indicator(&defaults, &v, life(5_000_000, true), 5_000_000, false);
        assert_ne!(renewed["id"], first["id"]);
        let other_feed = IndicatorDefaults {
            feed: "other",
            ..defaults.clone()
        };
        assert_ne!(
            first["id"],
            indicator(&other_feed, &v, life(1_000_000, false), 1_000_000, false)["id"]
        );
        let revoked = indicator(&defaults, &v, life(1_000_000, false), 9_000_000, true);
        assert_eq!(revoked["id"], first["id"]);
        assert_eq!(revoked["created"], first["created"]);
        assert_eq!(revoked["revoked"], true);
        assert_eq!(first["confidence"], 70);
        assert_eq!(
            first["object_marking_refs"][0],
            comity_stix::tlp::TLP2_AMBER
        );
        for object in [&first, &revoked] {
            let report = comity_stix::validate(object);
            assert!(report.errors.is_empty(), "{:?}", report.errors);
        }
    }
}
