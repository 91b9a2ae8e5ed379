//! A STIX pattern as indicators carry it: both grammars, the specification's further rules,
//! and compilation for evaluation.
#![no_main]

use comity_pattern::{Pattern, StixVersion};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for version in [StixVersion::V20, StixVersion::V21] {
        let _ = comity_pattern::validate(text, version);
        if let Ok(pattern) = Pattern::parse_strict(text, version) {
            let _ = pattern.matcher();
        }
    }
});
