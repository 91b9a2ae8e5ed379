//! Documents a node signs: a JSON object whose member `signature` is the base64 Ed25519
//! signature, by the node's key, of the RFC 8785 canonical JSON of its other members.
//! Request events and ballots are such documents; each is kept with the exact text it
//! travels as, whose SHA-256 names it.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{KeyError, NodeKey, PublicKey};

/// Why the text of a signed document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Not JSON, too large, unsigned, or not the document expected; the text says why.
    Malformed(String),
    /// Written in another format version (member `v`).
    Version(u64),
}

/// `document` signed with `key`: its JSON text with the signature, and the signature.
pub fn sign<T: Serialize>(document: &T, key: &NodeKey) -> (String, String) {
    let Value::Object(mut members) = serde_json::to_value(document).expect("a document is JSON")
    else {
        unreachable!("a signed document serialises as an object")
    };
    let signature = key.sign(&Value::Object(members.clone()));
    members.insert("signature".into(), Value::String(signature.clone()));
    (Value::Object(members).to_string(), signature)
}

/// Reads the text of a signed `what` of at most `max_bytes`, in format `version`: the
/// document and its signature (checked by [`verify`]).
pub fn read<T: DeserializeOwned>(
    json: &str,
    max_bytes: usize,
    version: u64,
    what: &str,
) -> Result<(T, String), ReadError> {
    if json.len() > max_bytes {
        return Err(ReadError::Malformed(format!(
            "{} bytes, more than the {max_bytes} a {what} may have",
            json.len()
        )));
    }
    let mut members: Map<String, Value> =
        serde_json::from_str(json).map_err(|e| ReadError::Malformed(e.to_string()))?;
    let signature = match members.remove("signature") {
        Some(Value::String(s)) => s,
        _ => return Err(ReadError::Malformed("no signature".into())),
    };
    if let Some(v) = members.get("v").and_then(Value::as_u64) {
        if v != version {
            return Err(ReadError::Version(v));
        }
    }
    let document =
        T::deserialize(Value::Object(members)).map_err(|e| ReadError::Malformed(e.to_string()))?;
    Ok((document, signature))
}

/// Checks `signature` over `document` with `key`.
pub fn verify<T: Serialize>(
    document: &T,
    signature: &str,
    key: &PublicKey,
) -> Result<(), KeyError> {
    key.verify(
        &serde_json::to_value(document).expect("a document is JSON"),
        signature,
    )
}
