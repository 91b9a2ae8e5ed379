//! Deterministic SCO identifiers (STIX 2.1 section 2.9): UUIDv5 in the STIX namespace over the
//! RFC 8785 canonical JSON of the type's ID Contributing Properties.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::canonical::canonical_json;

/// The UUIDv5 namespace the spec reserves for SCO identifiers.
pub const SCO_ID_NAMESPACE: Uuid = uuid::uuid!("00abedb4-aa42-466c-9c01-fed23315a9b7");

/// The ID Contributing Properties of each SCO type (none for process: it always uses UUIDv4).
fn contributing_properties(ty: &str) -> Option<&'static [&'static str]> {
    Some(match ty {
        "artifact" => &["hashes", "payload_bin"],
        "autonomous-system" => &["number"],
        "directory" => &["path"],
        "domain-name" | "email-addr" | "ipv4-addr" | "ipv6-addr" | "mac-addr" | "url" => &["value"],
        "email-message" => &["from_ref", "subject", "body"],
        "file" => &["hashes", "name", "extensions", "parent_directory_ref"],
        "mutex" => &["name"],
        "network-traffic" => &[
            "start",
            "end",
            "src_ref",
            "dst_ref",
            "src_port",
            "dst_port",
            "protocols",
            "extensions",
        ],
        "software" => &["name", "cpe", "swid", "vendor", "version"],
        "user-account" => &["account_type", "user_id", "account_login"],
        "windows-registry-key" => &["key", "values"],
        "x509-certificate" => &["hashes", "serial_number"],
        _ => return None,
    })
}

/// A `hashes` dictionary contributes one hash only, by preference MD5, SHA-1, SHA-256,
/// SHA-512, else the first key in sorted order.
fn one_hash(hashes: &Value) -> Option<Value> {
    let map = hashes.as_object()?;
    let key = ["MD5", "SHA-1", "SHA-256", "SHA-512"]
        .into_iter()
        .find(|k| map.contains_key(*k))
        .or_else(|| map.keys().min().map(String::as_str))?;
    let mut one = Map::new();
    one.insert(key.to_owned(), map.get(key)?.clone());
    Some(Value::Object(one))
}

/// The deterministic id an SCO should carry, or `None` when `obj` is not an SCO with ID
/// Contributing Properties present (such objects use UUIDv4).
pub fn deterministic_sco_id(obj: &Value) -> Option<String> {
    let map = obj.as_object()?;
    let ty = map.get("type")?.as_str()?;
    let mut name = Map::new();
    for &prop in contributing_properties(ty)? {
        // An unusable hashes dictionary (empty, not an object) contributes nothing.
        let value = match map.get(prop) {
            Some(hashes) if prop == "hashes" => one_hash(hashes),
            other => other.cloned(),
        };
        if let Some(v) = value {
            name.insert(prop.to_owned(), v);
        }
    }
    if name.is_empty() {
        return None;
    }
    let uuid = Uuid::new_v5(
        &SCO_ID_NAMESPACE,
        canonical_json(&Value::Object(name)).as_bytes(),
    );
    Some(format!("{ty}--{uuid}"))
}
