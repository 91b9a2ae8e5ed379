//! A STIX object or bundle as TAXII POST, `comity import` and `comity validate` read it:
//! intake (parse, validate, canonical hash), bundle validation and canonical JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(raw) = serde_json::from_str::<Box<RawValue>>(text) {
        let _ = comity_node::intake::examine(0, &raw);
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = comity_stix::validate_bundle(&value);
        let canonical = comity_stix::canonical_json(&value);
        let again: serde_json::Value =
            serde_json::from_str(&canonical).expect("canonical JSON parses");
        assert_eq!(
            canonical,
            comity_stix::canonical_json(&again),
            "canonical JSON is a fixed point"
        );
    }
});
