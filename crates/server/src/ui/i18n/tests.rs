//! The catalogues against the pages: every language has every message, every message is
//! used by a page, and plural rules, negotiation and dates behave per language.

use std::collections::BTreeSet;
use std::path::Path;

use comity_node::governance::{Choice, Decision, ProposalKind, ProposalState, Refusal};
use comity_node::policy::{AgreementStatus, HandlingCode, MemberStatus, Tlp};
use comity_node::registry::MemberRole;
use comity_node::requests::{kinds, Act, RefusalReason, RequestKind, State};

use super::super::governance::snake;
use super::*;

const UI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ui");

/// The message ids a catalogue defines (messages start a line: `id = …`).
fn catalogue(lang: &str) -> BTreeSet<String> {
    let path = Path::new(UI).join("locales").join(lang).join("main.ftl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.lines()
        .filter_map(|l| l.split_once(" ="))
        .map(|(id, _)| id)
        .filter(|id| {
            id.starts_with(|c: char| c.is_ascii_lowercase())
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
        .map(str::to_owned)
        .collect()
}

/// The string literals that follow `marker` in `text`.
fn literals_after<'t>(text: &'t str, marker: &str) -> Vec<&'t str> {
    text.match_indices(marker)
        .filter_map(|(at, _)| text[at + marker.len()..].split('"').next())
        .collect()
}

/// Every message id the templates and the UI's code name literally, plus the ones built
/// from the node's names (states, acts, kinds, …).
fn used() -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let templates = Path::new(UI).join("templates");
    let files = std::fs::read_dir(&templates)
        .unwrap()
        .chain(std::fs::read_dir(UI).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "html" || e == "rs"));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for marker in [".m(\"", ".a(\"", "\"error-"] {
            for id in literals_after(&text, marker) {
                let id = if marker == "\"error-" {
                    format!("error-{id}")
                } else {
                    id.to_owned()
                };
                used.insert(id);
            }
        }
    }
    let named = |prefix: &str, names: &mut dyn Iterator<Item = &str>| {
        names.map(|n| key(prefix, n)).collect::<Vec<_>>()
    };
    used.extend(named("state", &mut State::ALL.iter().map(|s| s.as_str())));
    used.extend(named("act", &mut Act::ALL.iter().map(|a| a.as_str())));
    used.extend(named(
        "kind",
        &mut RequestKind::ALL.iter().map(|k| k.as_str()),
    ));
    used.extend(named("reason", &mut RefusalReason::ALL.iter().copied()));
    used.extend(named(
        "handling",
        &mut HandlingCode::ALL.iter().map(|c| c.as_str()),
    ));
    let fields = RequestKind::ALL
        .iter()
        .flat_map(|k| kinds::COMMON.iter().chain(kinds::required(*k)))
        .map(|f| f.path);
    used.extend(named("field", &mut fields.collect::<Vec<_>>().into_iter()));
    let kinds = ProposalKind::ALL.iter().map(|k| k.as_str());
    used.extend(named("proposal-kind", &mut kinds.clone()));
    used.extend(named("proposal-does", &mut kinds.clone()));
    let states = [
        ProposalState::Pending,
        ProposalState::Active,
        ProposalState::Canceled,
        ProposalState::Defeated,
        ProposalState::Succeeded,
        ProposalState::Executed,
        ProposalState::Expired,
    ]
    .map(|s| snake(&s));
    used.extend(named(
        "proposal-state",
        &mut states.iter().map(String::as_str),
    ));
    let choices = [Choice::Yes, Choice::No, Choice::Abstain].map(|c| c.to_string());
    used.extend(named("choice", &mut choices.iter().map(String::as_str)));
    let decisions = [Decision::Succeeded, Decision::Defeated].map(|d| snake(&d));
    for prefix in ["decision", "decision-so-far"] {
        used.extend(named(prefix, &mut decisions.iter().map(String::as_str)));
    }
    let text = String::new;
    let refusals = [
        Refusal::Malformed { error: text() },
        Refusal::OtherProposal { proposal: text() },
        Refusal::UnknownMember,
        Refusal::Suspended,
        Refusal::BadSignature,
        Refusal::Early {
            at: text(),
            opens: text(),
        },
        Refusal::Late {
            at: text(),
            deadline: text(),
        },
        Refusal::Replayed { of: text() },
        Refusal::Superseded { by_sequence: 2 },
        Refusal::Equivocation {
            sequence: 1,
            with: Vec::new(),
        },
    ]
    .map(|r| snake(&r));
    used.extend(named("refusal", &mut refusals.iter().map(String::as_str)));
    used.extend(named(
        "member-role",
        &mut MemberRole::ALL.iter().map(|r| r.as_str()),
    ));
    used.extend(named(
        "member-status",
        &mut MemberStatus::ALL.iter().map(|s| s.as_str()),
    ));
    used.extend(named(
        "agreement-status",
        &mut AgreementStatus::ALL.iter().map(|s| s.as_str()),
    ));
    used.extend(named(
        "token-state",
        &mut super::super::tokens::STATES.iter().copied(),
    ));
    used.extend(named(
        "role",
        &mut comity_store::Role::ALL.iter().map(|r| r.as_str()),
    ));
    used.extend(
        Tlp::ALL
            .iter()
            .map(|t| super::super::intel::tlp_badge(*t).1.to_owned()),
    );
    used
}

#[test]
fn every_language_has_every_message_and_no_other() {
    let english = catalogue("en");
    assert!(
        english.len() > 100,
        "the English catalogue lost its messages"
    );
    for lang in LANGUAGES {
        let other = catalogue(lang);
        let missing: Vec<_> = english.difference(&other).collect();
        let extra: Vec<_> = other.difference(&english).collect();
        assert!(missing.is_empty(), "{lang} lacks {missing:?}");
        assert!(
            extra.is_empty(),
            "{lang} has messages English lacks: {extra:?}"
        );
    }
}

#[test]
fn every_message_is_used_and_every_use_has_a_message() {
    let english = catalogue("en");
    let used = used();
    let unused: Vec<_> = english.difference(&used).collect();
    let undefined: Vec<_> = used.difference(&english).collect();
    assert!(unused.is_empty(), "messages no page uses: {unused:?}");
    assert!(
        undefined.is_empty(),
        "pages use undefined messages: {undefined:?}"
    );
}

#[test]
fn every_message_renders_in_every_language() {
    for lang in LANGUAGES {
        let t = Translator::new(lang);
        for id in catalogue("en") {
            for n in [0usize, 1, 2, 3, 5, 11, 100] {
                let text = t.a(&id, "count", n);
                assert!(!text.contains(MISSING), "{lang}: {id}");
                assert!(!text.trim().is_empty(), "{lang}: {id} is blank");
                assert!(
                    !text.contains("{ $"),
                    "{lang}: {id} left a placeable: {text}"
                );
            }
        }
    }
    assert!(Translator::new("en")
        .m("no-such-message")
        .starts_with(MISSING));
}

#[test]
fn plurals_follow_each_language_rules() {
    let strip = |s: String| s.replace(['\u{2068}', '\u{2069}'], "");
    let en = Translator::new("en");
    assert_eq!(
        strip(en.a("requests-count", "count", 1usize)),
        "One request."
    );
    assert_eq!(
        strip(en.a("requests-count", "count", 4usize)),
        "4 requests."
    );
    assert_eq!(
        strip(en.a("requests-count", "count", 0usize)),
        "No request."
    );
    let ru = Translator::new("ru");
    assert_eq!(strip(ru.a("requests-count", "count", 3usize)), "3 запроса.");
    assert_eq!(
        strip(ru.a("requests-count", "count", 21usize)),
        "21 запрос."
    );
    assert_eq!(
        strip(ru.a("requests-count", "count", 25usize)),
        "25 запросов."
    );
    let ar = Translator::new("ar");
    assert_eq!(strip(ar.a("requests-count", "count", 2usize)), "طلبان.");
    assert_eq!(strip(ar.a("requests-count", "count", 3usize)), "3 طلبات.");
    assert_eq!(strip(ar.a("requests-count", "count", 11usize)), "11 طلبًا.");
    let zh = Translator::new("zh");
    assert_eq!(strip(zh.a("requests-count", "count", 1usize)), "1 个请求。");
}

#[test]
fn the_browser_language_is_negotiated_and_english_is_the_default() {
    assert_eq!(negotiate("ar-EG,ar;q=0.9,en;q=0.5"), "ar");
    assert_eq!(negotiate("de-DE,fr;q=0.8,en;q=0.5"), "fr");
    assert_eq!(negotiate("zh-CN"), "zh");
    assert_eq!(negotiate("de, ja"), "en");
    assert_eq!(negotiate(""), "en");
    assert_eq!(negotiate(";;;q=abc,,"), "en");
    assert_eq!(supported("ar"), Some("ar"));
    assert_eq!(supported("AR"), None);
    assert_eq!(supported("de"), None);
    assert_eq!(Translator::new("ar").dir(), "rtl");
    assert_eq!(Translator::new("fr").dir(), "ltr");
    assert_eq!(Translator::new("xx").lang(), "en");
}

#[test]
fn dates_show_the_zone_by_name_and_offset() {
    let t = Translator::new("en");
    assert_eq!(
        t.datetime("2026-12-07T01:30:00Z", "Europe/Paris"),
        "2026-12-07 02:30 Europe/Paris (+01:00)"
    );
    assert_eq!(
        t.datetime("2026-07-01T12:00:00.123Z", "Asia/Shanghai"),
        "2026-07-01 20:00 Asia/Shanghai (+08:00)"
    );
    assert_eq!(
        t.datetime("2026-12-07T01:30:00Z", "UTC"),
        "2026-12-07 01:30 UTC (+00:00)"
    );
    // What cannot be read is shown as it came, never guessed.
    assert_eq!(t.datetime("yesterday", "UTC"), "yesterday");
    assert_eq!(
        t.datetime("2026-12-07T01:30:00Z", "Mars/Olympus"),
        "2026-12-07T01:30:00Z"
    );
    assert!(known_zone("America/Argentina/Buenos_Aires"));
    assert!(!known_zone("Europe/Atlantis"));
    assert!(!known_zone("../../etc/passwd"));
}
