//! Sigma rules: per indicator, one rule for each kind of log its values appear in — DNS
//! queries (`dns`, the domain and its subdomains), firewall logs (`firewall`, either
//! address, networks with `|cidr`), proxy logs (`proxy`, the whole URL) and process
//! creation (`process_creation`, `Hashes` as Sysmon writes them). Field names are those of
//! Sigma's taxonomy, so a SIEM backend maps them. A rule's id is derived from the indicator
//! and the kind of log, so a later export updates the same rule.

use std::fmt::Write as _;

use uuid::Uuid;

use super::extract::ValueKind;
use super::render::text;
use super::Detection;

/// The kinds of log a rule is written for, in the order they are written.
const LOGS: [Log; 4] = [Log::Dns, Log::Firewall, Log::Proxy, Log::ProcessCreation];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Log {
    Dns,
    Firewall,
    Proxy,
    ProcessCreation,
}

impl Log {
    fn of(kind: ValueKind) -> Log {
        match kind {
            ValueKind::Domain => Log::Dns,
            ValueKind::Ipv4 | ValueKind::Ipv6 => Log::Firewall,
            ValueKind::Url => Log::Proxy,
            ValueKind::Md5 | ValueKind::Sha1 | ValueKind::Sha256 => Log::ProcessCreation,
        }
    }

    fn category(self) -> &'static str {
        match self {
            Log::Dns => "dns",
            Log::Firewall => "firewall",
            Log::Proxy => "proxy",
            Log::ProcessCreation => "process_creation",
        }
    }

    /// The selections (name, field with its modifiers, values) that find `values`.
    fn selections(self, values: &[&Detection]) -> Vec<(&'static str, &'static str, Vec<String>)> {
        let pick = |f: &dyn Fn(&Detection) -> Option<String>| -> Vec<String> {
            values.iter().filter_map(|d| f(d)).collect()
        };
        let selections = match self {
            Log::Dns => vec![(
                "selection_query",
                "query",
                values
                    .iter()
                    .flat_map(|d| [escape(&d.value), format!("*.{}", escape(&d.value))])
                    .collect(),
            )],
            Log::Firewall => {
                let hosts = pick(&|d| (!d.value.contains('/')).then(|| escape(&d.value)));
                let nets = pick(&|d| d.value.contains('/').then(|| d.value.clone()));
                vec![
                    ("selection_dst_ip", "dst_ip", hosts.clone()),
                    ("selection_src_ip", "src_ip", hosts),
                    ("selection_dst_net", "dst_ip|cidr", nets.clone()),
                    ("selection_src_net", "src_ip|cidr", nets),
                ]
            }
            Log::Proxy => vec![("selection_uri", "c-uri", pick(&|d| Some(escape(&d.value))))],
            Log::ProcessCreation => vec![(
                "selection_hashes",
                "Hashes|contains",
                pick(&|d| {
                    let label = match d.kind {
                        ValueKind::Md5 => "MD5",
                        ValueKind::Sha1 => "SHA1",
                        _ => "SHA256",
                    };
                    Some(format!("{label}={}", d.value.to_ascii_uppercase()))
                }),
            )],
        };
        selections
            .into_iter()
            .filter(|(_, _, v)| !v.is_empty())
            .collect()
    }
}

/// Writes Sigma rules: the detections of one indicator arrive one after the other and are
/// written together when the next indicator's arrive, or at [`Sigma::finish`].
#[derive(Debug, Default)]
pub struct Sigma {
    pending: Vec<Detection>,
    ids: std::collections::HashSet<Uuid>,
}

impl Sigma {
    /// An empty rule writer.
    pub fn new() -> Sigma {
        Sigma::default()
    }

    /// Takes `d`, writing to `out` the rules of the indicator before it if `d` is another's.
    pub fn push(&mut self, d: Detection, out: &mut String) {
        if self
            .pending
            .first()
            .is_some_and(|p| p.indicator != d.indicator)
        {
            self.flush(out);
        }
        self.pending.push(d);
    }

    /// Writes the rules of the last indicator.
    pub fn finish(mut self, out: &mut String) {
        self.flush(out);
    }

    /// Appends the rules for the pending detections (all of one indicator) to `out`, as
    /// YAML documents.
    fn flush(&mut self, out: &mut String) {
        let ds = std::mem::take(&mut self.pending);
        let Some(first) = ds.first() else { return };
        for log in LOGS {
            let values: Vec<&Detection> = ds.iter().filter(|d| Log::of(d.kind) == log).collect();
            if values.is_empty() {
                continue;
            }
            let id = self.id(&first.indicator, log);
            let title = format!(
                "COMITY {} {} {}",
                first.tlp,
                log.category(),
                text(&first.name)
            );
            let description = format!(
                "Values of STIX indicator {} ({}), exported by Comity.",
                first.indicator, first.tlp
            );
            let _ = writeln!(
                out,
                "---\ntitle: {}\nid: {id}\nstatus: experimental\ndescription: {}\nauthor: Comity",
                quoted(&title),
                quoted(&description)
            );
            for (key, stamp) in [("date", &first.created), ("modified", &first.modified)] {
                if let Some(day) = day_of(stamp) {
                    let _ = writeln!(out, "{key}: {day}");
                }
            }
            if first.tlp != "unmarked" {
                let tag = first
                    .tlp
                    .trim_start_matches("TLP:")
                    .to_ascii_lowercase()
                    .replace('+', "-");
                let _ = writeln!(out, "tags:\n    - tlp.{tag}");
            }
            let _ = writeln!(
                out,
                "logsource:\n    category: {}\ndetection:",
                log.category()
            );
            for (name, field, values) in log.selections(&values) {
                let _ = writeln!(out, "    {name}:\n        {field}:");
                for v in values {
                    let _ = writeln!(out, "            - {}", quoted(&v));
                }
            }
            let _ = writeln!(
                out,
                "    condition: 1 of selection_*\nfalsepositives:\n    - Unknown\nlevel: high"
            );
        }
    }

    /// The rule id of `indicator`'s rule for `log`: derived from both, so the next export
    /// names the same rule; derived again with a counter if this export used it already.
    fn id(&mut self, indicator: &str, log: Log) -> Uuid {
        let mut n = 1;
        loop {
            let name = match n {
                1 => format!("comity:sigma:{indicator}:{}", log.category()),
                n => format!("comity:sigma:{indicator}:{}:{n}", log.category()),
            };
            let id = Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes());
            if self.ids.insert(id) {
                return id;
            }
            n += 1;
        }
    }
}

/// `s` as a YAML double-quoted scalar (JSON's string syntax is one).
fn quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// `s` with Sigma's wildcards (`*`, `?`) and its escape character taken literally.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A STIX timestamp's day (`2024-05-01`), when it starts with one.
fn day_of(stamp: &str) -> Option<&str> {
    let day = stamp.get(..10)?;
    let ok = day.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        _ => b.is_ascii_digit(),
    });
    ok.then_some(day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detections::render::tests::detection;

    #[test]
    fn one_rule_per_kind_of_log_with_a_stable_id() {
        let ds = [
            detection(ValueKind::Domain, "evil.example", "c2"),
            detection(ValueKind::Ipv4, "203.0.113.7", "c2"),
            detection(ValueKind::Ipv4, "198.51.100.0/24", "c2"),
            detection(ValueKind::Sha256, &"ab".repeat(32), "c2"),
        ];
        let write = |ds: &[Detection]| {
            let mut sigma = Sigma::new();
            let mut out = String::new();
            for d in ds {
                sigma.push(d.clone(), &mut out);
            }
            sigma.finish(&mut out);
            out
        };
        let out = write(&ds);
        assert_eq!(out.matches("---\n").count(), 3, "{out}");
        assert!(out.contains("category: dns"), "{out}");
        assert!(out.contains("- \"*.evil.example\""), "{out}");
        assert!(
            out.contains("dst_ip|cidr:\n            - \"198.51.100.0/24\""),
            "{out}"
        );
        assert!(
            out.contains(&format!("- \"SHA256={}\"", "AB".repeat(32))),
            "{out}"
        );
        assert!(out.contains("tags:\n    - tlp.green"), "{out}");
        assert_eq!(out, write(&ds));
        // The same indicator again later in the export: its rules get other ids.
        let mut other = detection(ValueKind::Domain, "other.example", "x");
        other.indicator = "indicator--0b9c8d7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e".into();
        let twice = write(&[ds[0].clone(), other, ds[0].clone()]);
        let ids: std::collections::HashSet<&str> = twice
            .lines()
            .filter_map(|l| l.strip_prefix("id: "))
            .collect();
        assert_eq!(ids.len(), 3, "{twice}");
    }

    #[test]
    fn hostile_names_and_values_stay_inside_their_scalars() {
        let name = "x\"\nlevel: low\ndetection: {}";
        let d = detection(ValueKind::Url, "http://evil.example/a*b?c\\d\"e", name);
        let mut out = String::new();
        let mut sigma = Sigma::new();
        sigma.push(d, &mut out);
        sigma.finish(&mut out);
        assert_eq!(
            out.lines().filter(|l| l.starts_with("level:")).count(),
            1,
            "{out}"
        );
        assert!(
            out.contains(r#"- "http://evil.example/a\\*b\\?c\\\\d\"e""#),
            "{out}"
        );
    }
}
