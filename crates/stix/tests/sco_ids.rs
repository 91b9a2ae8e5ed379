//! Deterministic SCO ids: the ids in the OASIS examples, ids computed by the OASIS `stix2`
//! Python library (an independent implementation), and the id offered for an SCO without one.

use comity_stix::{deterministic_sco_id, validate};
use serde_json::json;

#[test]
fn matches_the_ids_of_the_oasis_sighting_of_observed_data_example() {
    let file = json!({
        "type": "file", "id": "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d", "spec_version": "2.1",
        "hashes": {"MD5": "1717b7fff97d37a1e1a0029d83492de1", "SHA-1": "c79a326f8411e9488bdc3779753e1e3489aaedea"},
        "size": 83968, "name": "resume.pdf"
    });
    assert_eq!(deterministic_sco_id(&file).as_deref(), file["id"].as_str());
    let key = json!({
        "type": "windows-registry-key", "id": "windows-registry-key--16b80d14-d574-5620-abad-10ff304b1c26",
        "spec_version": "2.1", "key": "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\WSALG2"
    });
    assert_eq!(deterministic_sco_id(&key).as_deref(), key["id"].as_str());
}

#[test]
fn matches_the_oasis_python_library() {
    let cases = [
        (
            json!({"type": "domain-name", "value": "example.com"}),
            "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7",
        ),
        (
            json!({"type": "ipv4-addr", "value": "198.51.100.3"}),
            "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4",
        ),
        (
            json!({"type": "email-addr", "value": "john@example.com"}),
            "email-addr--7165e2a9-671f-585d-b1e1-ca59c671d934",
        ),
        (
            json!({"type": "url", "value": "https://example.com/research/index.html"}),
            "url--47c3cf9a-5027-5bf0-997a-017c7edc7c55",
        ),
        (
            // Only the preferred hash (MD5 before SHA-256) contributes.
            json!({"type": "file", "name": "qwerty.dll", "hashes": {
                "SHA-256": "ceafbfd424be2ca4a5f0402cae090dda2fb0526cf521b60b60077c0f622b285a",
                "MD5": "b6d3fa0c4a0d5fbe3eb2f2ef55aaff03"}}),
            "file--6e315574-0980-5e69-8c63-59ef888c51ba",
        ),
    ];
    for (obj, want) in cases {
        assert_eq!(deterministic_sco_id(&obj).as_deref(), Some(want), "{obj}");
    }
}

#[test]
fn none_for_process_sdos_and_scos_without_contributing_properties() {
    assert_eq!(
        deterministic_sco_id(&json!({"type": "process", "pid": 1})),
        None
    );
    assert_eq!(
        deterministic_sco_id(&json!({"type": "user-account", "display_name": "x"})),
        None
    );
    assert_eq!(
        deterministic_sco_id(&json!({"type": "malware", "name": "x"})),
        None
    );
}

#[test]
fn an_sco_without_id_is_told_its_deterministic_id() {
    let v =
        validate(&json!({"type": "domain-name", "spec_version": "2.1", "value": "example.com"}));
    assert_eq!(v.errors.len(), 1, "{:?}", v.errors);
    assert_eq!(v.errors[0].rule, "required-property");
    assert!(
        v.errors[0]
            .message
            .contains("domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7"),
        "{}",
        v.errors[0]
    );
}

#[test]
fn a_non_deterministic_sco_id_is_only_a_warning() {
    let v = validate(&json!({
        "type": "domain-name", "spec_version": "2.1", "value": "example.com",
        "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5"
    }));
    assert!(v.is_valid(), "{:?}", v.errors);
    assert!(v
        .warnings
        .iter()
        .any(|w| w.rule == "sco-id-deterministic" && w.message.contains("bedb4899")));
}
