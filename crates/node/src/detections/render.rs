//! Sensor formats: Suricata and Snort 3 rules, a Zeek Intel framework file, plain lists (YARA and Sigma
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
    /// Snort 3 rules (no file hashes: Snort 3 has no rule option that reads a list of them).
    Snort,
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
    pub const ALL: [Format; 6] = [
        Format::Suricata,
        Format::Snort,
        Format::ZeekIntel,
        Format::List,
        Format::Yara,
        Format::Sigma,
    ];

    /// The format as written in `--format` and `format=`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Suricata => "suricata",
            Format::Snort => "snort",
            Format::ZeekIntel => "zeek-intel",
            Format::List => "list",
            Format::Yara => "yara",
            Format::Sigma => "sigma",
        }
    }

    /// Every format's name, for messages: `suricata, snort, zeek-intel, list, yara or sigma`.
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
/// Suricata rule sets, and lies within the range Snort leaves to local rules (1,000,000 and
/// above), so both dialects use the same SIDs.
const SID_BASE: u32 = 3_000_000_000;

/// The rule languages [`Rules`] writes. Both share the header (`alert ip $HOME_NET any ->
/// …`), `msg`, the SID scheme, `rev`, `classtype` and `metadata`; they differ in how a rule
/// looks into DNS, TLS and HTTP, and in file hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Suricata: `dns.query`, `tls.sni`, `http.host`/`http.uri` with `startswith` and
    /// `endswith`, `target`, file hashes through `filemd5`/`filesha1`/`filesha256` lists.
    Suricata,
    /// Snort 3: domains by their labels in a DNS query (`|04|evil|07|example|00|`) and by
    /// the TLS client hello's server name after `ssl_state:client_hello`, URLs by
    /// `http_header:field host` and `http_uri`; each rule names its `service`. Snort 3 has
    /// no rule option that reads a list of file hashes (its file policy holds them in the
    /// Lua configuration), so file hashes give no rule.
    Snort,
}

/// Writes Suricata or Snort 3 rules, one SID per indicator and value, stable across exports
/// (derived from the indicator id and the value; the next free one on a collision within an
/// export).
pub struct Rules {
    dialect: Dialect,
    used: HashSet<u32>,
    /// The kinds of file hash seen, each with the latest `modified` of its indicators.
    hashes: BTreeMap<ValueKind, String>,
}

impl Rules {
    /// An empty rule writer for `dialect`.
    pub fn new(dialect: Dialect) -> Rules {
        Rules {
            dialect,
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

    /// Appends the rules for `d` to `out`; false when the dialect has none for its value
    /// (a file hash in Snort 3, a URL that cannot be read).
    pub fn rules(&mut self, d: &Detection, out: &mut String) -> bool {
        let msg = format!("COMITY {} {} {}", d.tlp, d.kind.name(), text(&d.name));
        let mut meta = format!(
            "comity_indicator {}, tlp {}",
            metadata_value(&d.indicator),
            metadata_value(&d.tlp_key())
        );
        for (key, date) in [("created_at", &d.created), ("updated_at", &d.modified)] {
            if let Some(day) = metadata_date(date) {
                let _ = write!(meta, ", {key} {day}");
            }
        }
        let v = &d.value;
        let dialect = self.dialect;
        // `target` names the side of the rule that is ours: the host that talked to the value
        // (Suricata only).
        let mut rule = |out: &mut String, variant: u8, head: &str, body: &str, target: &str| {
            let sid = self.sid(&d.indicator, v, variant);
            let target = match dialect {
                Dialect::Suricata => format!("target:{target}; "),
                Dialect::Snort => String::new(),
            };
            let _ = writeln!(
                out,
                "alert {head} (msg:\"{msg}\"; {body}{target}classtype:bad-unknown; sid:{sid}; rev:1; metadata:{meta};)"
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
            ValueKind::Domain if dialect == Dialect::Suricata => {
                let c = content(format!(".{v}").as_bytes());
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
            ValueKind::Domain => {
                // A standard query (QR and opcode 0), the name as labels after the 12-byte
                // header: `|04|evil|07|example|00|` is the domain and its subdomains, and no
                // `notevil.example`. DNS over UDP only (over TCP the message starts two
                // bytes later).
                rule(
                    out,
                    0,
                    "udp $HOME_NET any -> any 53",
                    &format!(
                        "flow:to_server; byte_test:1,!&,0xF8,2; content:\"{}\", offset 12, nocase, fast_pattern; service:dns; ",
                        content(&dns_labels(v))
                    ),
                    "src_ip",
                );
                // The server name of a client hello: name type 0, its length, the name.
                // Snort 3 has no buffer of the SNI alone, so this is the exact name only,
                // not its subdomains (their DNS queries fire the rule above).
                let mut sni = vec![0];
                sni.extend_from_slice(&u16::try_from(v.len()).unwrap_or(u16::MAX).to_be_bytes());
                sni.extend_from_slice(v.as_bytes());
                rule(
                    out,
                    1,
                    "tcp $HOME_NET any -> $EXTERNAL_NET any",
                    &format!(
                        "flow:to_server,established; ssl_state:client_hello; content:\"{}\", nocase, fast_pattern; service:ssl; ",
                        content(&sni)
                    ),
                    "src_ip",
                );
            }
            ValueKind::Url => {
                let Ok(url) = url::Url::parse(v) else {
                    return false;
                };
                let host = url.host_str().unwrap_or_default();
                let mut path = url.path().to_owned();
                if let Some(q) = url.query() {
                    path.push('?');
                    path.push_str(q);
                }
                let body = match dialect {
                    Dialect::Suricata => format!(
                        "flow:established,to_server; http.host; content:\"{}\"; startswith; endswith; http.uri; content:\"{}\"; fast_pattern; startswith; endswith; ",
                        content(host.as_bytes()),
                        content(path.as_bytes())
                    ),
                    // `http_uri` is normalised (percent-decoded), so the path is matched
                    // decoded; each content is the whole buffer (from its start, nothing
                    // after it).
                    Dialect::Snort => {
                        let path = percent_decoded(&path);
                        format!(
                            "flow:to_server,established; http_header:field host; content:\"{}\", depth {}, nocase; isdataat:!1,relative; http_uri; content:\"{}\", depth {}, fast_pattern; isdataat:!1,relative; service:http; ",
                            content(host.as_bytes()),
                            host.len(),
                            content(&path),
                            path.len()
                        )
                    }
                };
                let head = match dialect {
                    Dialect::Suricata => "http $HOME_NET any -> $EXTERNAL_NET any",
                    Dialect::Snort => "tcp $HOME_NET any -> $EXTERNAL_NET any",
                };
                rule(out, 0, head, &body, "src_ip");
            }
            ValueKind::Md5 | ValueKind::Sha1 | ValueKind::Sha256 => {
                if dialect == Dialect::Snort {
                    return false;
                }
                let latest = self.hashes.entry(d.kind).or_default();
                if d.modified > *latest {
                    latest.clone_from(&d.modified);
                }
            }
        }
        true
    }

    /// Appends one Suricata rule per kind of file hash seen, reading the hashes from
    /// [`hash_list_file`] (Snort 3: nothing).
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

/// `bytes` as the inside of a Suricata or Snort 3 `content:"…"`: bytes other than letters,
/// digits and `.-_~%=&,+@!*?` written in hex, a run of them between one pair of pipes
/// (`|3b 22|`), so no value can end the option or the rule (`;`, `"`, `\` and `|` are
/// always hex).
fn content(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut hex = false;
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b".-_~%=&,+@!*?".contains(&b) {
            if hex {
                out.push('|');
                hex = false;
            }
            out.push(char::from(b));
        } else {
            out.push(if hex { ' ' } else { '|' });
            hex = true;
            let _ = write!(out, "{b:02x}");
        }
    }
    if hex {
        out.push('|');
    }
    out
}

/// A domain as a DNS message writes it: each label after its length, then the root's 0.
fn dns_labels(domain: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(domain.len() + 2);
    for label in domain.split('.').filter(|l| !l.is_empty()) {
        out.push(u8::try_from(label.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

/// `s` with its `%XX` escapes decoded, as Snort 3 normalises `http_uri`.
fn percent_decoded(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// `s` as a metadata value: letters, digits, `-`, `_` and `.`; anything else becomes `_`
/// (Snort 3 and Suricata metadata are `key value` pairs separated by commas, ended by `;`).
fn metadata_value(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
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
        let mut s = Rules::new(Dialect::Suricata);
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
        let (mut a, mut b) = (Rules::new(Dialect::Suricata), Rules::new(Dialect::Suricata));
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
        let mut s = Rules::new(Dialect::Suricata);
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

    const META: &str = "metadata:comity_indicator indicator--6f5a6d0e-7b2c-4c1e-9f3a-2d4b5c6d7e8f, tlp green, created_at 2024_05_01, updated_at 2024_05_02;)";

    /// The Snort 3 rules of one detection, and whether it gave any.
    fn snort(kind: ValueKind, value: &str, name: &str) -> (bool, String) {
        let mut rules = Rules::new(Dialect::Snort);
        let mut out = String::new();
        let wrote = rules.rules(&detection(kind, value, name), &mut out);
        rules.finish(&mut out);
        (wrote, out)
    }

    #[test]
    fn snort_rules_for_each_kind_of_value() {
        let (_, ip) = snort(ValueKind::Ipv4, "203.0.113.7", "c2");
        assert_eq!(
            ip,
            format!(
                "alert ip $HOME_NET any -> 203.0.113.7 any (msg:\"COMITY TLP:GREEN ipv4 c2\"; classtype:bad-unknown; sid:3122069426; rev:1; {META}\n\
                 alert ip 203.0.113.7 any -> $HOME_NET any (msg:\"COMITY TLP:GREEN ipv4 c2\"; classtype:bad-unknown; sid:3266209974; rev:1; {META}\n"
            )
        );
        let (_, net) = snort(ValueKind::Ipv6, "2001:db8::/32", "c2");
        assert_eq!(
            net,
            format!(
                "alert ip $HOME_NET any -> 2001:db8::/32 any (msg:\"COMITY TLP:GREEN ipv6 c2\"; classtype:bad-unknown; sid:3754565918; rev:1; {META}\n\
                 alert ip 2001:db8::/32 any -> $HOME_NET any (msg:\"COMITY TLP:GREEN ipv6 c2\"; classtype:bad-unknown; sid:3285181779; rev:1; {META}\n"
            )
        );
        let (_, domain) = snort(ValueKind::Domain, "evil.example", "c2");
        assert_eq!(
            domain,
            format!(
                "alert udp $HOME_NET any -> any 53 (msg:\"COMITY TLP:GREEN domain c2\"; flow:to_server; byte_test:1,!&,0xF8,2; content:\"|04|evil|07|example|00|\", offset 12, nocase, fast_pattern; service:dns; classtype:bad-unknown; sid:4111536092; rev:1; {META}\n\
                 alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:\"COMITY TLP:GREEN domain c2\"; flow:to_server,established; ssl_state:client_hello; content:\"|00 00 0c|evil.example\", nocase, fast_pattern; service:ssl; classtype:bad-unknown; sid:4129192724; rev:1; {META}\n"
            )
        );
        let (_, url) = snort(
            ValueKind::Url,
            "http://evil.example/gate.php?id=1;x=%222%22",
            "c2",
        );
        assert_eq!(
            url,
            format!(
                "alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:\"COMITY TLP:GREEN url c2\"; flow:to_server,established; http_header:field host; content:\"evil.example\", depth 12, nocase; isdataat:!1,relative; http_uri; content:\"|2f|gate.php?id=1|3b|x=|22|2|22|\", depth 20, fast_pattern; isdataat:!1,relative; service:http; classtype:bad-unknown; sid:3188740501; rev:1; {META}\n"
            )
        );
        // file hashes: no rule, not even from finish
        for (kind, hash) in [
            (ValueKind::Md5, "c".repeat(32)),
            (ValueKind::Sha1, "d".repeat(40)),
            (ValueKind::Sha256, "a".repeat(64)),
        ] {
            assert_eq!(snort(kind, &hash, "f"), (false, String::new()));
        }
        assert_eq!(
            snort(ValueKind::Url, "not a url", "u"),
            (false, String::new())
        );
    }

    #[test]
    fn snort_and_suricata_share_the_sid_scheme() {
        let d = detection(ValueKind::Ipv4, "203.0.113.7", "c2");
        let sids = |dialect| {
            let mut out = String::new();
            Rules::new(dialect).rules(&d, &mut out);
            out.split("sid:")
                .skip(1)
                .map(|s| s.split(';').next().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(sids(Dialect::Snort), sids(Dialect::Suricata));
        assert_eq!(sids(Dialect::Snort).len(), 2);
    }

    #[test]
    fn hostile_values_stay_inside_their_snort_content() {
        let name = "x\"; sid:1; rev:1;) alert ip any any -> any any (msg:\"\tnew\nline|\\";
        let (_, domain) = snort(ValueKind::Domain, "a\"b;c|d\\e\nf.example", name);
        let lines: Vec<&str> = domain.lines().collect();
        assert_eq!(lines.len(), 2, "{domain}");
        for line in &lines {
            assert_eq!(line.matches("sid:").count(), 1, "{line}");
            assert_eq!(line.matches('"').count(), 4, "{line}");
            assert!(!line.contains('\\') && line.ends_with(META), "{line}");
        }
        assert!(
            lines[0]
                .contains("content:\"|0b|a|22|b|3b|c|7c|d|5c|e|0a|f|07|example|00|\", offset 12"),
            "{domain}"
        );
        assert!(
            lines[1].contains("content:\"|00 00 13|a|22|b|3b|c|7c|d|5c|e|0a|f.example\", nocase"),
            "{domain}"
        );
        // percent-escapes decode to raw bytes in http_uri: hex again
        let (_, url) = snort(
            ValueKind::Url,
            "http://evil.example/x%22%3B%7C%5C%0A%7Cy",
            name,
        );
        assert_eq!(url.lines().count(), 1, "{url}");
        assert!(
            url.contains("http_uri; content:\"|2f|x|22 3b 7c 5c 0a 7c|y\", depth 9,"),
            "{url}"
        );
        assert_eq!(url.matches('"').count(), 6, "{url}");
        assert_eq!(percent_decoded("a%zz%4"), b"a%zz%4");
        assert_eq!(percent_decoded("%41%4a%"), b"AJ%");
        assert_eq!(
            metadata_value("indicator--x; sid:1, tlp red"),
            "indicator--x__sid_1__tlp_red"
        );
    }

    #[test]
    fn formats_read_back_from_their_names() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        }
        let e = "snort2".parse::<Format>().unwrap_err();
        assert!(
            e.contains("\"snort2\"")
                && e.contains("suricata, snort, zeek-intel, list, yara or sigma"),
            "{e}"
        );
    }
}
