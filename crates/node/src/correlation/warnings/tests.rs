use super::*;
use crate::correlation::values::{classify, normalise, Kind};

fn one(raw: &str) -> IndexedValue {
    classify(raw).remove(0)
}

#[test]
fn the_default_lists_flag_resolvers_private_ranges_and_reserved_names() {
    let lists = WarningLists::defaults();
    for raw in [
        "8.8.8.8",
        "1.1.1.1",
        "10.20.30.40",
        "192.168.1.0/24",
        "2001:4860:4860::8888",
        "fe80::1",
        "dns.google",
        "www.example.com",
        "https://sub.example.org/x",
    ] {
        assert!(!lists.matches(&one(raw)).is_empty(), "{raw}");
    }
    for raw in [
        "8.8.8.9",
        "11.0.0.1",
        "2001:db8::1",
        "evil.example.net.attacker.test",
        "notexample.com",
    ] {
        assert_eq!(lists.matches(&one(raw)), Vec::<String>::new(), "{raw}");
    }
    // A block wider than a listed one is not within it.
    assert_eq!(lists.matches(&one("10.0.0.0/7")), Vec::<String>::new());
}

#[test]
fn a_list_applies_only_to_its_attribute_types() {
    let lists = WarningLists::defaults();
    // The mutex "8.8.8.8" is not an address.
    let mutex = normalise(&Kind::Mutex, "8.8.8.8").unwrap();
    assert_eq!(lists.matches(&mutex), Vec::<String>::new());
}

#[test]
fn a_misp_warninglist_file_loads_unchanged_with_each_match_type() {
    let text = include_str!("../../../../../tests/data/warninglists/misp-format-cidr.json");
    let mut lists = WarningLists::default();
    lists.add_json("misp-format-cidr.json", text).unwrap();
    let parsed: WarningListFile = serde_json::from_str(text).unwrap();
    assert_eq!(parsed.match_type, MatchType::Cidr);
    assert_eq!(lists.matches(&one("172.16.5.5")), vec![parsed.name.clone()]);
    let misp = |kind: &str, list: &str| {
        format!(
            r#"{{"description":"d","list":[{list}],"matching_attributes":[],"name":"{kind} list","type":"{kind}","version":20240101,"extra":"ignored"}}"#
        )
    };
    for (kind, list, hit, miss) in [
        ("string", r#""Bad.Example""#, "bad.example", "good.example"),
        (
            "substring",
            r#""tracker""#,
            "ads.tracker.test",
            "clean.test",
        ),
        ("hostname", r#""cdn.test""#, "a.b.cdn.test", "cdn.test.evil"),
        ("regex", r#""^mal[0-9]+\\.test$""#, "mal42.test", "mal.test"),
    ] {
        let mut lists = WarningLists::default();
        lists.add_json(kind, &misp(kind, list)).unwrap();
        assert_eq!(lists.matches(&one(hit)).len(), 1, "{kind} {hit}");
        assert_eq!(lists.matches(&one(miss)).len(), 0, "{kind} {miss}");
    }
}

#[test]
fn malformed_lists_are_refused_with_their_file_named() {
    let mut lists = WarningLists::default();
    for (text, says) in [
        ("not json", "expected"),
        (
            r#"{"name":"x","version":1,"description":"d","type":"fuzzy","list":[]}"#,
            "fuzzy",
        ),
        (
            r#"{"name":"x","version":"one","description":"d","type":"string","list":[]}"#,
            "invalid type",
        ),
        (
            r#"{"name":"x","version":1,"description":"d","type":"cidr","list":["10.0.0.0/99"]}"#,
            "10.0.0.0/99",
        ),
        (
            r#"{"name":"x","version":1,"description":"d","type":"regex","list":["("]}"#,
            "regex",
        ),
        (
            r#"{"name":"x","version":1,"description":"d","type":"string"}"#,
            "list",
        ),
    ] {
        let e = lists.add_json("bad.json", text).unwrap_err().to_string();
        assert!(e.starts_with("bad.json: ") && e.contains(says), "{e}");
    }
    assert_eq!(
        lists.matches(&one("8.8.8.8")),
        Vec::<String>::new(),
        "nothing was added"
    );
}

#[test]
fn a_node_directory_adds_its_lists_to_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        WarningLists::load(&dir.path().join("absent"))
            .unwrap()
            .lists
            .len(),
        DEFAULTS.len()
    );
    std::fs::write(
        dir.path().join("ours.json"),
        r#"{"name":"ours","version":1,"description":"d","matching_attributes":["domain"],"type":"string","list":["ours.test"]}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a list").unwrap();
    let lists = WarningLists::load(dir.path()).unwrap();
    assert_eq!(lists.matches(&one("ours.test")), vec!["ours".to_owned()]);
    std::fs::write(dir.path().join("broken.json"), "{").unwrap();
    let e = WarningLists::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains("broken.json"), "{e}");
}
