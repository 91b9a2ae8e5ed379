use super::*;
use proptest::prelude::*;
use serde_json::json;

fn pairs(values: &[IndexedValue]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|v| (v.kind.clone(), v.value.clone()))
        .collect()
}

fn p(kind: &str, value: &str) -> (String, String) {
    (kind.to_owned(), value.to_owned())
}

#[test]
fn scos_give_their_values_normalised() {
    let cases = [
        (
            json!({"type": "ipv4-addr", "value": "198.51.100.7"}),
            p("ipv4-addr", "198.51.100.7"),
        ),
        (
            json!({"type": "ipv4-addr", "value": "10.1.2.3/8"}),
            p("ipv4-addr", "10.0.0.0/8"),
        ),
        (
            json!({"type": "ipv6-addr", "value": "2001:DB8:0:0:0:0:0:1"}),
            p("ipv6-addr", "2001:db8::1"),
        ),
        (
            json!({"type": "domain-name", "value": "Evil.EXAMPLE.com."}),
            p("domain-name", "evil.example.com"),
        ),
        (
            json!({"type": "url", "value": "HTTP://Evil.Example.com:80/a/../b?q=1#frag"}),
            p("url", "http://evil.example.com/b?q=1"),
        ),
        (
            json!({"type": "email-addr", "value": "Boss@Example.COM"}),
            p("email-addr", "boss@example.com"),
        ),
        (
            json!({"type": "mac-addr", "value": "00-1A-2B-3C-4D-5E"}),
            p("mac-addr", "00:1a:2b:3c:4d:5e"),
        ),
        (
            json!({"type": "mutex", "name": "Global\\Mtx"}),
            p("mutex", "Global\\Mtx"),
        ),
        (
            json!({"type": "windows-registry-key", "key": "HKEY_LOCAL_MACHINE\\Run"}),
            p("windows-registry-key", "hkey_local_machine\\run"),
        ),
    ];
    for (object, expected) in cases {
        assert_eq!(pairs(&extract(&object)), vec![expected], "{object}");
    }
}

#[test]
fn file_hashes_are_kept_by_algorithm() {
    let file = json!({"type": "file", "name": "x.exe", "hashes": {
        "MD5": "D41D8CD98F00B204E9800998ECF8427E",
        "SHA256": "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "SHA-1": "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"
    }});
    let mut got = pairs(&extract(&file));
    got.sort();
    assert_eq!(
        got,
        vec![
            p("hash:MD5", "d41d8cd98f00b204e9800998ecf8427e"),
            p("hash:SHA-1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            p(
                "hash:SHA-256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            ),
        ]
    );
}

#[test]
fn an_address_keeps_its_block_for_containment() {
    let v = normalise(&Kind::Ipv4, "192.168.7.9/16").unwrap();
    let net = v.net.unwrap();
    assert_eq!(v.value, "192.168.0.0/16");
    assert_eq!(&net.lo[12..], &[192, 168, 0, 0]);
    assert_eq!(&net.hi[12..], &[192, 168, 255, 255]);
    assert!(!net.is_address());
    let one = normalise(&Kind::Ipv4, "192.168.7.9").unwrap();
    assert!(one.net.unwrap().is_address());
    // An IPv6 text is not an IPv4 value, nor the other way round.
    assert_eq!(normalise(&Kind::Ipv4, "::1"), None);
    assert_eq!(normalise(&Kind::Ipv6, "127.0.0.1"), None);
}

#[test]
fn indicator_patterns_give_every_value_they_name() {
    let indicator = json!({"type": "indicator", "pattern_type": "stix", "pattern":
        "[ipv4-addr:value = '203.0.113.5' OR domain-name:value IN ('A.example', 'b.example')] \
         AND [file:hashes.'SHA-256' = 'AB12' AND file:name = 'x'] \
         FOLLOWEDBY [ipv4-addr:value ISSUBSET '198.51.100.0/24'] \
         AND [url:value != 'http://not.this/'] AND [email-addr:value NOT = 'no@x.org']"});
    let mut got = pairs(&extract(&indicator));
    got.sort();
    assert_eq!(
        got,
        vec![
            p("domain-name", "a.example"),
            p("domain-name", "b.example"),
            p("hash:SHA-256", "ab12"),
            p("ipv4-addr", "198.51.100.0/24"),
            p("ipv4-addr", "203.0.113.5"),
        ]
    );
}

#[test]
fn revoked_objects_and_other_pattern_languages_give_nothing() {
    for object in [
        json!({"type": "ipv4-addr", "value": "198.51.100.7", "revoked": true}),
        json!({"type": "indicator", "pattern_type": "sigma", "pattern": "[ipv4-addr:value = '1.2.3.4']"}),
        json!({"type": "indicator", "pattern_type": "stix", "pattern": "[ipv4-addr:value = "}),
        json!({"type": "indicator", "pattern_type": "stix", "pattern": 7}),
        json!({"type": "malware", "name": "1.2.3.4"}),
        json!(["ipv4-addr", "1.2.3.4"]),
        json!({"value": "1.2.3.4"}),
    ] {
        assert_eq!(extract(&object), vec![], "{object}");
    }
}

#[test]
fn hostile_values_are_left_out() {
    let long = "a.".repeat(MAX_VALUE_LEN);
    for (kind, raw) in [
        (Kind::Domain, long.as_str()),
        (Kind::Domain, "evil example.com"),
        (Kind::Domain, "a..b"),
        (Kind::Domain, "bad\u{0}.com"),
        (Kind::Domain, "x/y.com"),
        (Kind::Ipv4, "300.1.1.1"),
        (Kind::Ipv4, "1.2.3.4/33"),
        (Kind::Ipv4, "1.2.3.4/"),
        (Kind::Url, "not a url"),
        (Kind::Email, "@example.com"),
        (Kind::Email, "a b@example.com"),
        (Kind::Mac, "00:11:22:33:44"),
        (Kind::Hash("MD5".into()), "ab cd"),
        (Kind::Mutex, ""),
        (Kind::Mutex, "   "),
    ] {
        assert_eq!(normalise(&kind, raw), None, "{kind:?} {raw:?}");
    }
    let hashes = json!({"type": "file", "hashes": {"": "ab", "x y": "cd", "MD5": 5}});
    assert_eq!(extract(&hashes), vec![]);
}

#[test]
fn typed_values_are_read_as_every_kind_they_can_be() {
    let kinds = |raw: &str| -> Vec<String> { classify(raw).into_iter().map(|v| v.kind).collect() };
    assert_eq!(kinds("8.8.8.8"), vec!["ipv4-addr"]);
    assert_eq!(kinds("10.0.0.0/8"), vec!["ipv4-addr"]);
    assert_eq!(kinds("2001:db8::1"), vec!["ipv6-addr"]);
    assert_eq!(kinds("https://x.example/"), vec!["url"]);
    assert_eq!(
        kinds("d41d8cd98f00b204e9800998ecf8427e"),
        vec!["hash:MD5", "mutex", "windows-registry-key"]
    );
    assert_eq!(
        kinds("Evil.example"),
        vec!["domain-name", "mutex", "windows-registry-key"]
    );
    assert_eq!(kinds("a@b.example")[0], "email-addr");
    assert_eq!(kinds(""), Vec::<String>::new());
}

proptest! {
    #[test]
    fn extraction_never_panics_on_any_pattern_or_value(text in ".{0,200}", kind in 0usize..5) {
        let kinds = [Kind::Ipv4, Kind::Ipv6, Kind::Domain, Kind::Url, Kind::Email];
        let _ = normalise(&kinds[kind], &text);
        let _ = classify(&text);
        let _ = pattern_values(&text);
        let _ = pattern_values(&format!("[ipv4-addr:value = '{text}']"));
        let _ = extract(&json!({"type": "url", "value": text}));
    }

    #[test]
    fn normal_forms_are_fixed_points(a in any::<u32>(), prefix in 0u8..=32) {
        let v = normalise(&Kind::Ipv4, &format!("{}/{prefix}", Ipv4Addr::from(a))).unwrap();
        let again = normalise(&Kind::Ipv4, &v.value).unwrap();
        prop_assert_eq!(v, again);
    }
}

#[test]
fn references_to_other_objects_are_kept_once_and_only_when_they_are_ids() {
    let a = "indicator--00000000-0000-4000-8000-000000000001";
    let b = "campaign--00000000-0000-4000-8000-000000000002";
    let report = json!({"type": "report", "object_refs": [a, a, b, "not an id", 7]});
    assert_eq!(pairs(&extract(&report)), vec![p("ref", a), p("ref", b)]);
    let rel = json!({"type": "relationship", "source_ref": a, "target_ref": b});
    assert_eq!(pairs(&extract(&rel)), vec![p("ref", a), p("ref", b)]);
}
