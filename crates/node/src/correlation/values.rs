//! Extraction of observable values for the value index: from cyber-observable objects and
//! from the values an indicator's STIX pattern names, normalised so that one value is one
//! posting key whoever wrote it (lower-case domains and hashes, canonical addresses and
//! URLs, blocks kept as blocks for containment). Pure: no store, no policy. Hostile input
//! gives fewer values, never a panic: a value that does not normalise is left out.

use std::net::{Ipv4Addr, Ipv6Addr};

use comity_pattern::ast::{ObjectPath, PathStep};
use comity_pattern::{IpNet, Pattern, StixVersion};
use comity_store::{IndexedValue, NetRange};
use serde_json::Value;

/// Longest value indexed, in bytes; longer ones are left out (no observable needs more).
pub const MAX_VALUE_LEN: usize = 2048;

/// The kinds of value the index holds; hashes carry their algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An IPv4 address or block.
    Ipv4,
    /// An IPv6 address or block.
    Ipv6,
    /// A domain name.
    Domain,
    /// A URL.
    Url,
    /// An e-mail address.
    Email,
    /// A MAC address.
    Mac,
    /// A mutex name.
    Mutex,
    /// A Windows registry key.
    RegistryKey,
    /// A hash, by its algorithm's normal name (`MD5`, `SHA-256`, …).
    Hash(String),
    /// A reference to another object (a report's `object_refs`, a relationship's ends, a
    /// sighting's `sighting_of_ref`): what leads from an object to what relates to it.
    Reference,
}

impl Kind {
    /// The name stored in the index.
    pub fn name(&self) -> String {
        match self {
            Kind::Ipv4 => "ipv4-addr".into(),
            Kind::Ipv6 => "ipv6-addr".into(),
            Kind::Domain => "domain-name".into(),
            Kind::Url => "url".into(),
            Kind::Email => "email-addr".into(),
            Kind::Mac => "mac-addr".into(),
            Kind::Mutex => "mutex".into(),
            Kind::RegistryKey => "windows-registry-key".into(),
            Kind::Hash(algorithm) => format!("hash:{algorithm}"),
            Kind::Reference => "ref".into(),
        }
    }

    /// The kind [`Kind::name`] names.
    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "ipv4-addr" => Kind::Ipv4,
            "ipv6-addr" => Kind::Ipv6,
            "domain-name" => Kind::Domain,
            "url" => Kind::Url,
            "email-addr" => Kind::Email,
            "mac-addr" => Kind::Mac,
            "mutex" => Kind::Mutex,
            "windows-registry-key" => Kind::RegistryKey,
            "ref" => Kind::Reference,
            _ => Kind::Hash(hash_algorithm(name.strip_prefix("hash:")?)?),
        })
    }

    /// The kind of a STIX object path's value (`domain-name:value`, `file:hashes.MD5`),
    /// when it is one the index holds.
    fn of_path(object_type: &str, property: &str, sub: Option<&str>) -> Option<Kind> {
        Some(match (object_type, property, sub) {
            ("ipv4-addr", "value", None) => Kind::Ipv4,
            ("ipv6-addr", "value", None) => Kind::Ipv6,
            ("domain-name", "value", None) => Kind::Domain,
            ("url", "value", None) => Kind::Url,
            ("email-addr", "value", None) => Kind::Email,
            ("mac-addr", "value", None) => Kind::Mac,
            ("mutex", "name", None) => Kind::Mutex,
            ("windows-registry-key", "key", None) => Kind::RegistryKey,
            ("file" | "artifact" | "x509-certificate", "hashes", Some(algorithm)) => {
                Kind::Hash(hash_algorithm(algorithm)?)
            }
            _ => return None,
        })
    }
}

/// The normal name of a hash algorithm (the STIX vocabulary's spelling), or `None` for a
/// name that is not a plausible algorithm.
fn hash_algorithm(name: &str) -> Option<String> {
    let upper = name.trim().to_ascii_uppercase();
    let normal = match upper.replace(['-', '_'], "").as_str() {
        "MD5" => "MD5".to_owned(),
        "SHA1" => "SHA-1".to_owned(),
        "SHA256" => "SHA-256".to_owned(),
        "SHA512" => "SHA-512".to_owned(),
        "SHA3256" => "SHA3-256".to_owned(),
        "SHA3512" => "SHA3-512".to_owned(),
        _ => upper,
    };
    let plausible = !normal.is_empty()
        && normal.len() <= 32
        && normal
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    plausible.then_some(normal)
}

/// Normalises `raw` as a value of `kind`; `None` when it is not one.
pub fn normalise(kind: &Kind, raw: &str) -> Option<IndexedValue> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_VALUE_LEN || raw.chars().any(char::is_control) {
        return None;
    }
    let (value, net) = match kind {
        Kind::Ipv4 | Kind::Ipv6 => {
            let (value, net) = address(raw)?;
            if matches!(kind, Kind::Ipv6) != value.contains(':') {
                return None;
            }
            (value, Some(net))
        }
        Kind::Domain => (domain(raw)?, None),
        Kind::Url => (url(raw)?, None),
        Kind::Email => {
            let (local, host) = raw.rsplit_once('@')?;
            if local.is_empty() || local.contains(char::is_whitespace) {
                return None;
            }
            (format!("{}@{}", local.to_lowercase(), domain(host)?), None)
        }
        Kind::Mac => {
            let hex: String = raw
                .chars()
                .filter(|c| !matches!(c, ':' | '-' | '.'))
                .collect();
            if hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let hex = hex.to_ascii_lowercase();
            let pairs: Vec<&str> = (0..6).map(|i| &hex[2 * i..2 * i + 2]).collect();
            (pairs.join(":"), None)
        }
        Kind::Hash(_) => {
            if !raw.bytes().all(|b| b.is_ascii_graphic()) {
                return None;
            }
            (raw.to_ascii_lowercase(), None)
        }
        Kind::Mutex => (raw.to_owned(), None),
        // Registry keys are case-insensitive.
        Kind::RegistryKey => (raw.to_lowercase(), None),
        Kind::Reference if comity_stix::is_identifier(raw) => (raw.to_owned(), None),
        Kind::Reference => return None,
    };
    Some(IndexedValue {
        kind: kind.name(),
        value,
        net,
    })
}

/// An address or block in canonical text (host bits cleared, the prefix written only for
/// a block) with the block it covers.
fn address(raw: &str) -> Option<(String, NetRange)> {
    let net = IpNet::parse(raw)?;
    let width: u32 = if net.v6 { 128 } else { 32 };
    let host_bits = width - u32::from(net.prefix);
    let host_mask: u128 = if host_bits == 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    let lo = net.bits & !host_mask;
    let hi = lo | host_mask;
    let text = if net.v6 {
        Ipv6Addr::from(lo).to_string()
    } else {
        Ipv4Addr::from(lo as u32).to_string()
    };
    let text = if host_bits == 0 {
        text
    } else {
        format!("{text}/{}", net.prefix)
    };
    Some((
        text,
        NetRange {
            lo: lo.to_be_bytes(),
            hi: hi.to_be_bytes(),
        },
    ))
}

/// A domain name in lower case without a trailing dot; `None` for text that cannot be one.
fn domain(raw: &str) -> Option<String> {
    let d = raw.trim_end_matches('.').to_lowercase();
    let valid = !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label
                    .chars()
                    .any(|c| c.is_whitespace() || "/@:?#[]\\".contains(c))
        });
    valid.then_some(d)
}

/// A URL as the WHATWG parser writes it (scheme and host lower-cased, default port and
/// dot segments removed, characters percent-encoded), without its fragment.
fn url(raw: &str) -> Option<String> {
    let mut parsed = url::Url::parse(raw).ok()?;
    parsed.set_fragment(None);
    let text = String::from(parsed);
    (text.len() <= MAX_VALUE_LEN).then_some(text)
}

/// The observable values of one STIX object: an SCO's own values, or the values an
/// indicator's STIX pattern names. A revoked object, and anything that is not a JSON
/// object, has none. Each value once, in the order found.
pub fn extract(object: &Value) -> Vec<IndexedValue> {
    let mut out = Vec::new();
    let Some(map) = object.as_object() else {
        return out;
    };
    if map.get("revoked") == Some(&Value::Bool(true)) {
        return out;
    }
    let Some(object_type) = map.get("type").and_then(Value::as_str) else {
        return out;
    };
    let mut seen = std::collections::HashSet::new();
    let mut push = |v: Option<IndexedValue>| {
        if let Some(v) = v {
            if seen.insert(v.clone()) {
                out.push(v);
            }
        }
    };
    if object_type == "indicator" {
        if map.get("pattern_type").and_then(Value::as_str) == Some("stix") {
            if let Some(text) = map.get("pattern").and_then(Value::as_str) {
                for v in pattern_values(text) {
                    push(Some(v));
                }
            }
        }
        return out;
    }
    for reference in references(map) {
        push(normalise(&Kind::Reference, reference));
    }
    for (property, value) in map {
        match value {
            Value::String(s) => {
                if let Some(kind) = Kind::of_path(object_type, property, None) {
                    push(normalise(&kind, s));
                }
            }
            Value::Object(sub) => {
                for (key, v) in sub {
                    if let (Some(kind), Some(s)) =
                        (Kind::of_path(object_type, property, Some(key)), v.as_str())
                    {
                        push(normalise(&kind, s));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The objects an object points at through the properties that relate objects.
fn references(map: &serde_json::Map<String, Value>) -> Vec<&str> {
    let mut out = Vec::new();
    for key in ["source_ref", "target_ref", "sighting_of_ref"] {
        out.extend(map.get(key).and_then(Value::as_str));
    }
    if let Some(Value::Array(refs)) = map.get("object_refs") {
        out.extend(refs.iter().filter_map(Value::as_str));
    }
    out
}

/// The observable values of a stored object's JSON text, as [`extract`] finds them;
/// none when the text is not JSON.
pub fn extract_text(json: &str) -> Vec<IndexedValue> {
    serde_json::from_str(json)
        .map(|v: Value| extract(&v))
        .unwrap_or_default()
}

/// The values a STIX pattern names; none when it does not parse.
pub fn pattern_values(text: &str) -> Vec<IndexedValue> {
    let Ok(pattern) = Pattern::parse(text, StixVersion::V21) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, literal) in pattern.named_values() {
        if let Some(v) = path_kind(path).and_then(|kind| normalise(&kind, literal)) {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// The kind of value a pattern's object path selects: `type:property` or
/// `type:property.key` (a hash).
fn path_kind(path: &ObjectPath) -> Option<Kind> {
    let key = |i: usize| match path.steps.get(i) {
        Some(PathStep::Key(k)) => Some(k.as_str()),
        _ => None,
    };
    match path.steps.len() {
        1 => Kind::of_path(&path.object_type, key(0)?, None),
        2 => Kind::of_path(&path.object_type, key(0)?, Some(key(1)?)),
        _ => None,
    }
}

/// What a value typed by a user (a query) may be: each kind it can be read as, normalised.
/// An address or block is only that; a URL only a URL; otherwise, a hexadecimal string
/// of a hash's length is that hash, `x@y` an e-mail address, and anything that reads as a
/// domain a domain — and every text is also looked up as a mutex and a registry key.
pub fn classify(raw: &str) -> Vec<IndexedValue> {
    let raw = raw.trim();
    for kind in [Kind::Ipv4, Kind::Ipv6] {
        if let Some(v) = normalise(&kind, raw) {
            return vec![v];
        }
    }
    if raw.contains("://") {
        return normalise(&Kind::Url, raw).into_iter().collect();
    }
    let mut kinds = Vec::new();
    if raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        let algorithm = match raw.len() {
            32 => Some("MD5"),
            40 => Some("SHA-1"),
            64 => Some("SHA-256"),
            128 => Some("SHA-512"),
            _ => None,
        };
        kinds.extend(algorithm.map(|a| Kind::Hash(a.to_owned())));
    }
    if raw.contains('@') {
        kinds.push(Kind::Email);
    } else if raw.contains('.') {
        kinds.push(Kind::Domain);
    }
    kinds.extend([Kind::Mac, Kind::Mutex, Kind::RegistryKey]);
    kinds.iter().filter_map(|k| normalise(k, raw)).collect()
}

#[cfg(test)]
mod tests;
