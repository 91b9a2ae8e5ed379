//! Printing a court file with the system's fonts (scripts/test installs them): Arabic set
//! right to left, long hashes wrapped inside the column, a character without a glyph and
//! an unreadable event refused.

use std::collections::BTreeMap;

use serde_json::json;

use super::fonts::{Fonts, Slot};
use super::text::{Style, Typesetter};
use super::*;
use crate::identity::NodeKey;
use crate::requests::court_file::{FiledEvent, FORMAT};
use crate::requests::event::{Attachment, Details, Event, VERSION};
use crate::requests::{Act, State};

const AUTHORITY: &str = "الهيئة الوطنية للأمن السيبراني";
const SUMMARY: &str = "请求保全服务器日志";
const RELATED: &str = "indicator--6f5a6d0e-7b2c-4c1e-9f3a-2d4b5c6d7e8f";

fn key() -> NodeKey {
    NodeKey::from_log_signer(&crate::federation::test_nodes::signer(3)).unwrap()
}

fn file() -> CourtFile {
    let k = key();
    let document = json!({
        "authority": {"name": AUTHORITY, "contact": "+966 11 000", "time_zone": "Asia/Riyadh"},
        "requested_authority": {"name": "网络安全中心", "time_zone": "Asia/Shanghai"},
        "legal_basis": {"instrument": "Budapest Convention", "article": "29"},
        "summary": SUMMARY,
        "offence": "unauthorised access",
        "details": {"data": "logs", "relation_to_offence": "C2", "custodian": "ACME",
                    "necessity": "rotation", "mla_to_follow": true},
        "related_objects": [RELATED],
    });
    let submit = Event {
        v: VERSION,
        request: "request--1".into(),
        n: 1,
        prev: None,
        act: Act::Submit,
        by: "identity--a".into(),
        officer: "liaison".into(),
        at: "2026-12-06T10:00:00.000000Z".into(),
        state: State::Submitted,
        details: Details {
            objects: vec![json!({"type": "indicator", "id": RELATED, "name": "C2 خادم"})],
            ..Details::default()
        },
        document: Some(document.clone()),
    }
    .sign(&k);
    let acknowledge = Event {
        v: VERSION,
        request: "request--1".into(),
        n: 2,
        prev: Some(submit.sha256.clone()),
        act: Act::Acknowledge,
        by: "identity--a".into(),
        officer: "نور".into(),
        at: "2026-12-06T11:00:00.000000Z".into(),
        state: State::Acknowledged,
        details: Details {
            due: Some("2026-12-08T11:00:00.000000Z".into()),
            attachments: vec![Attachment {
                name: "سجلات.txt".into(),
                sha256: "ab".repeat(32),
                size: 12,
            }],
            ..Details::default()
        },
        document: None,
    }
    .sign(&k);
    CourtFile {
        format: FORMAT.into(),
        made_by: "identity--a".into(),
        request: json!({"id": "request--1", "kind": "preservation", "state": "acknowledged",
                        "emergency": false, "due": "2026-12-08T11:00:00.000000Z",
                        "document": document}),
        members: BTreeMap::from([("identity--a".into(), k.public_key().to_string())]),
        log_origin: "comity/n3".into(),
        events: [submit, acknowledge]
            .into_iter()
            .map(|s| FiledEvent {
                event: s.json,
                commitments: Vec::new(),
            })
            .collect(),
    }
}

#[test]
fn a_court_file_prints_with_its_json_embedded() {
    let f = file();
    let json = f.to_json();
    let pdf = render(&f, &json).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains(EMBEDDED_NAME), "the JSON file is embedded");
    // The fonts are embedded, as subsets.
    assert!(text.contains("/FontFile"), "fonts are embedded");
}

#[test]
fn arabic_is_set_right_to_left_and_hashes_stay_inside_their_column() {
    let fonts = Fonts::for_text(&format!("{AUTHORITY}{SUMMARY}")).unwrap();
    let t = Typesetter::new(&fonts).unwrap();
    let body = Style {
        face: Slot::Regular,
        size: 9.0,
        gray: 0,
    };
    let lines = t.set(AUTHORITY, body, 300.0).unwrap();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].rtl);
    assert!(lines[0].runs.iter().all(|r| r.slot == Slot::Arabic));
    // Mixed: the Latin run first, then the Arabic run, in display order.
    let mixed = t
        .set(&format!("Authority {AUTHORITY}"), body, 400.0)
        .unwrap();
    assert!(!mixed[0].rtl);
    let slots: Vec<Slot> = mixed[0].runs.iter().map(|r| r.slot).collect();
    assert_eq!(slots.first(), Some(&Slot::Regular));
    assert_eq!(slots.last(), Some(&Slot::Arabic));
    // Chinese takes the CJK font.
    let zh = t.set(SUMMARY, body, 300.0).unwrap();
    assert!(zh[0].runs.iter().all(|r| r.slot == Slot::Cjk));
    // A hash longer than its column is broken inside the column.
    let mono = Style {
        face: Slot::Mono,
        size: 7.5,
        gray: 0,
    };
    let hash = "0123456789abcdef".repeat(8);
    let lines = t.set(&hash, mono, 100.0).unwrap();
    assert!(lines.len() > 1);
    assert!(lines.iter().all(|l| l.width <= 100.0), "every line fits");
    let joined: String = lines
        .iter()
        .flat_map(|l| l.runs.iter().map(|r| r.text.as_str()))
        .collect();
    assert_eq!(joined, hash, "nothing is lost at the breaks");
}

#[test]
fn a_character_no_font_has_is_refused_not_printed_as_a_box() {
    let mut f = file();
    f.request["document"]["summary"] = json!("Old Italic 𐌀");
    let e = render(&f, &f.to_json()).unwrap_err();
    assert_eq!(e, PdfError::NoGlyph('𐌀'));
    assert!(e.to_string().contains("U+10300"), "{e}");
}

#[test]
fn an_event_that_is_not_signed_is_refused() {
    let mut f = file();
    f.events[1].event = "{}".into();
    let e = render(&f, &f.to_json()).unwrap_err();
    assert!(matches!(e, PdfError::Event { n: 2, .. }), "{e}");
}

#[test]
fn the_objects_a_submission_released_are_listed_with_its_event() {
    let f = file();
    let blocks = content::blocks(&f, &f.to_json()).unwrap();
    let released: Vec<&str> = blocks
        .iter()
        .filter_map(|b| match b {
            content::Block::Row { label, value, .. } if label == "Related object released" => {
                Some(value.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(released, [format!("{RELATED} (C2 خادم)")]);
}
