//! The UI's languages: one Fluent catalogue per language under `locales/`, compiled into
//! the binary; the language a page speaks; dates in the viewer's time zone.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./src/ui/locales",
        fallback_language: "en",
    };
}

/// The languages the UI speaks, by tag, in the order the language switch offers them.
pub const LANGUAGES: [&str; 6] = ["ar", "zh", "en", "fr", "ru", "es"];

/// What a page shows when a message is missing from every catalogue; the tests look for it.
pub const MISSING: &str = "\u{27e6}missing:";

/// The language of `tag` when the UI speaks it.
pub fn supported(tag: &str) -> Option<&'static str> {
    LANGUAGES.iter().copied().find(|l| *l == tag)
}

/// The best language for an `Accept-Language` header, English when none is spoken here.
pub fn negotiate(accept_language: &str) -> &'static str {
    let requested = fluent_langneg::accepted_languages::parse(accept_language);
    let available: Vec<LanguageIdentifier> =
        LANGUAGES.iter().filter_map(|l| l.parse().ok()).collect();
    let default: LanguageIdentifier = fluent_templates::langid!("en");
    fluent_langneg::negotiate_languages(
        &requested,
        &available,
        Some(&default),
        fluent_langneg::NegotiationStrategy::Lookup,
    )
    .first()
    .and_then(|l| supported(l.language.as_str()))
    .unwrap_or("en")
}

/// Messages of one language.
#[derive(Clone)]
pub struct Translator {
    lang: &'static str,
    id: LanguageIdentifier,
}

impl Translator {
    /// The messages of `lang` (one of [`LANGUAGES`]; anything else speaks English).
    pub fn new(lang: &str) -> Self {
        let lang = supported(lang).unwrap_or("en");
        Translator {
            lang,
            id: lang
                .parse()
                .unwrap_or_else(|_| fluent_templates::langid!("en")),
        }
    }

    /// The language tag, for `lang=`.
    pub fn lang(&self) -> &'static str {
        self.lang
    }

    /// The writing direction, for `dir=`.
    pub fn dir(&self) -> &'static str {
        if self.lang == "ar" {
            "rtl"
        } else {
            "ltr"
        }
    }

    fn lookup(&self, key: &str, args: Option<&HashMap<Cow<'static, str>, FluentValue>>) -> String {
        LOCALES
            .try_lookup_complete(&self.id, key, args)
            .unwrap_or_else(|| {
                tracing::error!(key, lang = self.lang, "missing UI message");
                format!("{MISSING}{key}\u{27e7}")
            })
    }

    /// The message `key`.
    pub fn m(&self, key: &str) -> String {
        self.lookup(key, None)
    }

    /// The message `key` with one argument `name` (a number selects the plural form).
    pub fn a(&self, key: &str, name: &'static str, value: impl Into<Arg>) -> String {
        let value = match value.into() {
            Arg::Number(n) => FluentValue::from(n),
            Arg::Text(s) => FluentValue::from(s),
        };
        let args = HashMap::from([(Cow::Borrowed(name), value)]);
        self.lookup(key, Some(&args))
    }

    /// The message for a name the node writes in snake_case (a state, an act, a kind),
    /// under `prefix`: `state-under-review`.
    pub fn named(&self, prefix: &str, name: &str) -> String {
        self.m(&key(prefix, name))
    }

    /// `at` (RFC 3339) in time zone `tz`, written unambiguously: ISO date and time with
    /// the zone's name and offset; `at` itself when it cannot be read.
    pub fn datetime(&self, at: &str, tz: &str) -> String {
        in_zone(at, tz).unwrap_or_else(|| at.to_owned())
    }
}

/// The key of the message for `name` under `prefix` (see [`Translator::named`]).
pub fn key(prefix: &str, name: &str) -> String {
    format!("{prefix}-{}", name.replace(['_', '.'], "-").to_lowercase())
}

/// An argument of a message.
pub enum Arg {
    /// A number (plural rules apply).
    Number(i64),
    /// A text.
    Text(String),
}

impl From<usize> for Arg {
    fn from(n: usize) -> Self {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u32> for Arg {
    fn from(n: u32) -> Self {
        Arg::Number(i64::from(n))
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_owned())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}

/// Whether `tz` is a time zone of the IANA database.
pub fn known_zone(tz: &str) -> bool {
    jiff::tz::TimeZone::get(tz).is_ok()
}

fn in_zone(at: &str, tz: &str) -> Option<String> {
    let instant: jiff::Timestamp = at.parse().ok()?;
    let zone = jiff::tz::TimeZone::get(tz).ok()?;
    let local = instant.to_zoned_datetime(zone);
    Some(format!(
        "{} {} ({})",
        local.strftime("%Y-%m-%d %H:%M"),
        tz,
        local.strftime("%:z")
    ))
}

#[cfg(test)]
mod tests;
