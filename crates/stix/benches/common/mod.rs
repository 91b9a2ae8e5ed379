//! Data the benches share.

use serde_json::Value;

/// Every object of the ICS ATT&CK 18.1 bundle in `tests/data`.
pub fn ics_objects() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/attack/ics-attack-18.1.json"
    );
    let text = std::fs::read_to_string(path).expect("ICS ATT&CK bundle");
    let bundle: Value = serde_json::from_str(&text).expect("JSON");
    bundle["objects"].as_array().cloned().unwrap_or_default()
}
