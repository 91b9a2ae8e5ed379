//! Warning lists: values that correlate with everything (public resolvers, private ranges,
//! reserved domains), in the JSON format of MISP's warninglists so that a node loads the
//! lists its users already trust, unchanged. A value a list matches is flagged in answers
//! and suppressed from "who else" results. The node ships a small default set
//! (`crates/node/warninglists/`, CC0) and reads extra lists from its data directory.

use std::path::Path;

use comity_pattern::IpNet;
use comity_store::IndexedValue;
use serde::{Deserialize, Serialize};

/// How a list's entries match, as MISP names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchType {
    /// The value equals an entry.
    String,
    /// The value contains an entry.
    Substring,
    /// The value's host name is an entry or a sub-domain of one.
    Hostname,
    /// The value is an address or block within an entry's block.
    Cidr,
    /// The value matches an entry's regular expression.
    Regex,
}

/// One warning list as MISP writes it; fields MISP adds and this node does not read are
/// ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningListFile {
    /// The list's name, shown beside flagged values.
    pub name: String,
    /// Its version.
    pub version: u64,
    /// What it holds.
    pub description: String,
    /// The MISP attribute types it applies to (all when empty).
    #[serde(default)]
    pub matching_attributes: Vec<String>,
    /// How its entries match.
    #[serde(rename = "type")]
    pub match_type: MatchType,
    /// The entries.
    pub list: Vec<String>,
}

/// Why a list could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum WarningListError {
    /// The file is not a warning list.
    #[error("{file}: not a MISP warning list: {reason}")]
    Invalid {
        /// The file (or built-in list) name.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// The directory or a file cannot be read.
    #[error("{file}: {source}")]
    Io {
        /// The file or directory.
        file: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Largest warning-list file read, in bytes.
pub const MAX_LIST_BYTES: u64 = 64 << 20;

/// One loaded list, its entries prepared for matching.
#[derive(Debug, Clone)]
struct WarningList {
    name: String,
    attributes: Vec<String>,
    entries: Entries,
}

#[derive(Debug, Clone)]
enum Entries {
    Strings(std::collections::HashSet<String>),
    Substrings(Vec<String>),
    Hostnames(std::collections::HashSet<String>),
    Blocks(Vec<IpNet>),
    Regexes(Vec<regex::Regex>),
}

/// The lists a node applies: its defaults and its own.
#[derive(Debug, Clone, Default)]
pub struct WarningLists {
    lists: Vec<WarningList>,
}

/// The default lists shipped with the node.
const DEFAULTS: &[(&str, &str)] = &[
    (
        "public-dns-v4.json",
        include_str!("../../warninglists/public-dns-v4.json"),
    ),
    (
        "public-dns-v6.json",
        include_str!("../../warninglists/public-dns-v6.json"),
    ),
    (
        "special-use-ranges.json",
        include_str!("../../warninglists/special-use-ranges.json"),
    ),
    (
        "common-resolver-hostnames.json",
        include_str!("../../warninglists/common-resolver-hostnames.json"),
    ),
];

impl WarningLists {
    /// The default lists shipped with the node.
    pub fn defaults() -> WarningLists {
        let mut lists = WarningLists::default();
        for (file, text) in DEFAULTS {
            lists
                .add_json(file, text)
                .unwrap_or_else(|e| panic!("a default warning list is invalid: {e}"));
        }
        lists
    }

    /// The defaults plus every `*.json` file of `dir` (none when it does not exist), in
    /// file name order.
    pub fn load(dir: &Path) -> Result<WarningLists, WarningListError> {
        let mut lists = WarningLists::defaults();
        let io = |file: &Path, source| WarningListError::Io {
            file: file.display().to_string(),
            source,
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(lists),
            Err(e) => return Err(io(dir, e)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| io(dir, e))?.path();
            if path.extension().is_some_and(|x| x == "json") {
                files.push(path);
            }
        }
        files.sort();
        for path in files {
            let size = std::fs::metadata(&path).map_err(|e| io(&path, e))?.len();
            if size > MAX_LIST_BYTES {
                return Err(WarningListError::Invalid {
                    file: path.display().to_string(),
                    reason: format!("{size} bytes, more than {MAX_LIST_BYTES}"),
                });
            }
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            lists.add_json(&path.display().to_string(), &text)?;
        }
        Ok(lists)
    }

    /// Adds one list from its MISP JSON text.
    pub fn add_json(&mut self, file: &str, text: &str) -> Result<(), WarningListError> {
        let invalid = |reason: String| WarningListError::Invalid {
            file: file.to_owned(),
            reason,
        };
        let parsed: WarningListFile =
            serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let entries = match parsed.match_type {
            MatchType::String => Entries::Strings(
                parsed
                    .list
                    .iter()
                    .map(|s| s.trim().to_lowercase())
                    .collect(),
            ),
            MatchType::Substring => Entries::Substrings(
                parsed
                    .list
                    .iter()
                    .map(|s| s.to_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
            MatchType::Hostname => Entries::Hostnames(
                parsed
                    .list
                    .iter()
                    .map(|s| {
                        s.trim()
                            .trim_start_matches("*.")
                            .trim_end_matches('.')
                            .to_lowercase()
                    })
                    .collect(),
            ),
            MatchType::Cidr => Entries::Blocks(
                parsed
                    .list
                    .iter()
                    .map(|s| {
                        IpNet::parse(s.trim())
                            .ok_or_else(|| invalid(format!("{s:?} is not an address or block")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            MatchType::Regex => Entries::Regexes(
                parsed
                    .list
                    .iter()
                    .map(|s| {
                        regex::RegexBuilder::new(s)
                            .size_limit(1 << 20)
                            .build()
                            .map_err(|e| invalid(format!("{s:?}: {e}")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        self.lists.push(WarningList {
            name: parsed.name,
            attributes: parsed.matching_attributes,
            entries,
        });
        Ok(())
    }

    /// The names of the lists that match `value`, in load order.
    pub fn matches(&self, value: &IndexedValue) -> Vec<String> {
        let attributes = misp_attributes(&value.kind);
        self.lists
            .iter()
            .filter(|l| {
                l.attributes.is_empty()
                    || l.attributes
                        .iter()
                        .any(|a| attributes.contains(&a.as_str()))
            })
            .filter(|l| l.entries.matches(value))
            .map(|l| l.name.clone())
            .collect()
    }
}

impl Entries {
    fn matches(&self, v: &IndexedValue) -> bool {
        let text = v.value.to_lowercase();
        match self {
            Entries::Strings(set) => set.contains(&text),
            Entries::Substrings(parts) => parts.iter().any(|p| text.contains(p.as_str())),
            Entries::Hostnames(set) => host_of(v).is_some_and(|host| {
                let mut rest = host.as_str();
                loop {
                    if set.contains(rest) {
                        return true;
                    }
                    match rest.split_once('.') {
                        Some((_, parent)) => rest = parent,
                        None => return false,
                    }
                }
            }),
            Entries::Blocks(blocks) => {
                IpNet::parse(&v.value).is_some_and(|net| blocks.iter().any(|b| net.is_subset_of(b)))
            }
            Entries::Regexes(res) => res.iter().any(|re| re.is_match(&v.value)),
        }
    }
}

/// The host name a value names: a domain itself, a URL's host, an e-mail address's domain.
fn host_of(v: &IndexedValue) -> Option<String> {
    match v.kind.as_str() {
        "domain-name" => Some(v.value.clone()),
        "email-addr" => v.value.rsplit_once('@').map(|(_, d)| d.to_owned()),
        "url" => url::Url::parse(&v.value)
            .ok()
            .and_then(|u| u.host_str().map(str::to_lowercase)),
        _ => None,
    }
}

/// The MISP attribute types a value of this kind would be stored as.
fn misp_attributes(kind: &str) -> &'static [&'static str] {
    match kind {
        "ipv4-addr" | "ipv6-addr" => &[
            "ip-src",
            "ip-dst",
            "ip-src|port",
            "ip-dst|port",
            "domain|ip",
            "ip",
        ],
        "domain-name" => &["domain", "hostname", "domain|ip"],
        "url" => &["url", "uri", "link"],
        "email-addr" => &["email", "email-src", "email-dst"],
        "mutex" => &["mutex"],
        "windows-registry-key" => &["regkey"],
        "mac-addr" => &["mac-address"],
        "hash:MD5" => &["md5", "filename|md5"],
        "hash:SHA-1" => &["sha1", "filename|sha1"],
        "hash:SHA-256" => &["sha256", "filename|sha256"],
        "hash:SHA-512" => &["sha512", "filename|sha512"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests;
