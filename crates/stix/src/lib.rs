//! comity-stix: STIX 2.1 objects without I/O. It validates objects against every MUST of the
//! OASIS STIX 2.1 specification (errors) and its SHOULDs (warnings), computes deterministic
//! SCO ids and RFC 8785 canonical JSON, and knows the TLP marking definitions.
//!
//! Rules are plain code over `serde_json::Value` (no JSON Schema at run time), so validating a
//! typical indicator takes a microsecond or two.
//!
//! Every finding carries a stable rule id. Errors (a MUST is broken):
//! `json-type` (wrong JSON type, or null), `required-property`, `type-invalid`, `id-invalid`
//! (not `type--UUID` with an RFC 4122 UUID), `id-type-mismatch`, `spec-version` (not "2.1"),
//! `timestamp-format`, `timestamp-precision` (created/modified below milliseconds),
//! `modified-before-created`, `time-order` (last_seen before first_seen and the like), `range`,
//! `list-empty`, `dictionary-empty`, `dictionary-key`, `ref-invalid`, `ref-type` (a reference to
//! a type the property does not allow), `enum-value` (closed vocabularies), `property-name`,
//! `reserved-property`, `external-reference`, `hashes`, `granular-marking`,
//! `selector-unresolved`, `extensions`, `marking-definition`, `marking-circular`,
//! `tlp-invalid`, `tlp-noncanonical`, `exclusive-properties`, `dependent-property`,
//! `at-least-one`, `value-format` (addresses, URIs, language tags, base64, hex, CPE, ...),
//! `sco-id-uuidv4` (an SCO without ID Contributing Properties, or a process, needs a UUIDv4).
//!
//! Warnings (a SHOULD, or a deprecated form): `open-vocab`, `custom-property-prefix`,
//! `custom-object-prefix`, `custom-ref`, `extension-custom`, `id-uuid-version`,
//! `sco-id-deterministic` (the message carries the deterministic id), `deprecated`,
//! `bundle-spec-version`, `tlp-noncanonical` (a TLP 2.0 level under a non-standard id).
//!
//! ```
//! let indicator = serde_json::json!({
//!     "type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
//!     "created": "2024-03-01T10:00:00.000Z", "modified": "2024-03-01T10:00:00.000Z",
//!     "pattern": "[domain-name:value = 'evil.example.com']", "pattern_type": "stix",
//!     "valid_from": "2024-03-01T00:00:00Z", "confidence": 101
//! });
//! let v = comity_stix::validate(&indicator);
//! assert_eq!(
//!     v.errors[0].to_string(),
//!     "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: confidence: 101 is outside the allowed range 0..=100 [range]"
//! );
//! assert_eq!(comity_stix::object_type(&indicator), Some("indicator"));
//! assert_eq!(comity_stix::spec_version(&indicator), Some("2.1"));
//! ```
//!
//! Indicator patterns are not parsed here: the STIX patterning grammar lives in comity-pattern,
//! above this crate; `comity validate` joins the two (rule `pattern-syntax`).

mod canonical;
mod constraints;
mod extensions;
mod id;
mod markings;
mod meta;
mod props;
mod refs;
mod report;
mod sco;
mod sco_id;
mod sdo;
mod sro;
mod timestamp;
mod types;
mod validate;
mod vocab;

pub mod clock;
pub mod tlp;

pub use canonical::canonical_json;
pub use id::{is_identifier, is_type_key};
pub use report::{Validation, Violation};
pub use sco_id::{deterministic_sco_id, SCO_ID_NAMESPACE};
pub use validate::{validate, validate_bundle};

use serde_json::Value;

/// The `type` of a STIX object, if it has a string one.
pub fn object_type(obj: &Value) -> Option<&str> {
    obj.get("type")?.as_str()
}

/// The `spec_version` of a STIX object, if present.
pub fn spec_version(obj: &Value) -> Option<&str> {
    obj.get("spec_version")?.as_str()
}

/// The timestamp that orders versions of an object: `modified`, else `created`, else `None`
/// (SCOs are not versioned).
///
/// ```
/// let marking = serde_json::json!({"type": "marking-definition", "created": "2017-01-20T00:00:00.000Z"});
/// assert_eq!(comity_stix::version_key(&marking), Some("2017-01-20T00:00:00.000Z"));
/// assert_eq!(comity_stix::version_key(&serde_json::json!({"type": "url", "value": "https://a.example"})), None);
/// ```
pub fn version_key(obj: &Value) -> Option<&str> {
    obj.get("modified").or_else(|| obj.get("created"))?.as_str()
}
