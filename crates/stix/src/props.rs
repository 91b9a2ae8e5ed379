//! Property tables and the generic checks of the spec's data types (string, integer, list,
//! timestamp, dictionary, hashes, external-reference, kill-chain-phase, binary, hex, ...).
//! Type-specific co-constraints (one property requiring another) live with each object type.

use serde_json::{Map, Value};

use crate::refs::{check_ref, check_refs, Targets};
use crate::report::{Ctx, Path};
use crate::timestamp::Timestamp;
use crate::vocab;

/// A JSON object: a STIX object or one of its nested objects.
pub(crate) type JsonObject = Map<String, Value>;

/// The spec data type of one property.
pub(crate) enum Kind {
    /// Checked by the orchestrator (`type`, `id`, `spec_version`).
    Core,
    String,
    Boolean,
    /// An integer within an inclusive range.
    Integer(i64, i64),
    /// A JSON number within an inclusive range.
    Number(f64, f64),
    Timestamp,
    /// A timestamp precise to at least the millisecond (`created`, `modified`).
    TimestampMillis,
    /// A non-empty list of strings.
    Strings,
    Ref(Targets),
    Refs(Targets),
    /// A closed enumeration.
    Enum(&'static [&'static str]),
    /// A non-empty list drawn from a closed enumeration.
    Enums(&'static [&'static str]),
    /// An open vocabulary: other values are warnings.
    Vocab(&'static [&'static str]),
    /// A non-empty list drawn from an open vocabulary.
    Vocabs(&'static [&'static str]),
    KillChainPhases,
    ExternalReferences,
    /// A hashes dictionary; custom algorithm names are allowed.
    Hashes,
    /// An external reference's hashes: only hash-algorithm-ov names are allowed.
    ExternalHashes,
    Dictionary,
    /// A dictionary of header fields whose values are lists of strings; with `single` a value
    /// may also be one string (then a list holds at least two), as in email headers.
    Headers {
        single: bool,
    },
    Object,
    /// An object with its own property table.
    Nested(&'static [Prop]),
    /// A non-empty list of objects with their own property table.
    NestedList(&'static [Prop]),
    Binary,
    Hex,
    /// An RFC 5646 language tag.
    Lang,
    /// An RFC 3986 URI (scheme, then no whitespace or control characters).
    Url,
    /// The `extensions` dictionary, with the predefined extensions of the type.
    Extensions(&'static [Ext]),
    /// The `granular_markings` list.
    GranularMarkings,
}

/// One property of a type: its name, data type and whether it is required.
pub(crate) struct Prop {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) required: bool,
}

/// A predefined extension (e.g. `archive-ext`) and its property table.
pub(crate) struct Ext {
    pub(crate) name: &'static str,
    pub(crate) props: &'static [Prop],
    /// The spec asks for at least one property beyond the required ones (e.g. `ntfs-ext`).
    pub(crate) needs_optional: bool,
}

/// A required property.
pub(crate) const fn req(name: &'static str, kind: Kind) -> Prop {
    Prop {
        name,
        kind,
        required: true,
    }
}

/// An optional property.
pub(crate) const fn opt(name: &'static str, kind: Kind) -> Prop {
    Prop {
        name,
        kind,
        required: false,
    }
}

/// Finds a property by name in the given tables, first table first.
pub(crate) fn find<'t>(tables: &[&'t [Prop]], name: &str) -> Option<&'t Prop> {
    tables
        .iter()
        .flat_map(|t| t.iter())
        .find(|p| p.name == name)
}

/// Reports every required property of `tables` missing from `map` (`Kind::Core` ones are the
/// orchestrator's).
pub(crate) fn check_required(
    ctx: &mut Ctx,
    path: &Path<'_>,
    map: &Map<String, Value>,
    tables: &[&[Prop]],
) {
    for p in tables.iter().flat_map(|t| t.iter()) {
        if p.required && !matches!(p.kind, Kind::Core) && !map.contains_key(p.name) {
            ctx.error(
                &path.key(p.name),
                "required-property",
                format!("required property '{}' is missing", p.name),
            );
        }
    }
}

/// Checks the known properties of a nested object (unknown ones are left alone) and its required ones.
pub(crate) fn check_nested(
    ctx: &mut Ctx,
    path: &Path<'_>,
    v: &Value,
    props: &[Prop],
    root: &Map<String, Value>,
) {
    let Some(map) = v.as_object() else {
        ctx.error(path, "json-type", "must be an object");
        return;
    };
    for (k, v) in map {
        if let Some(p) = find(&[props], k) {
            check_value(ctx, &path.key(k), v, &p.kind, root);
        }
    }
    check_required(ctx, path, map, &[props]);
}

/// Checks one value against its data type. `root` is the whole object (for granular-marking selectors).
pub(crate) fn check_value(
    ctx: &mut Ctx,
    path: &Path<'_>,
    v: &Value,
    kind: &Kind,
    root: &Map<String, Value>,
) {
    match kind {
        Kind::Core => {}
        Kind::String => expect(ctx, path, v.is_string(), "a string"),
        Kind::Boolean => expect(ctx, path, v.is_boolean(), "a boolean"),
        Kind::Object => expect(ctx, path, v.is_object(), "an object"),
        Kind::Integer(min, max) => match v.as_i64() {
            Some(n) if n < *min || n > *max => ctx.error(
                path,
                "range",
                format!("{n} is outside the allowed range {min}..={max}"),
            ),
            Some(_) => {}
            None if v.is_u64() => ctx.error(
                path,
                "range",
                format!("{v} is outside the allowed range {min}..={max}"),
            ),
            None => ctx.error(path, "json-type", "must be an integer"),
        },
        Kind::Number(min, max) => match v.as_f64() {
            Some(n) if n < *min || n > *max => ctx.error(
                path,
                "range",
                format!("{n} is outside the allowed range {min}..={max}"),
            ),
            Some(_) => {}
            None => ctx.error(path, "json-type", "must be a number"),
        },
        Kind::Timestamp => {
            timestamp(ctx, path, v);
        }
        Kind::TimestampMillis => {
            if let Some(ts) = timestamp(ctx, path, v) {
                if ts.precision() < 3 {
                    ctx.error(
                        path,
                        "timestamp-precision",
                        "must be precise to at least the millisecond",
                    );
                }
            }
        }
        Kind::Strings => list(ctx, path, v, |ctx, path, item| {
            expect(ctx, path, item.is_string(), "a string")
        }),
        Kind::Ref(targets) => check_ref(ctx, path, v, *targets),
        Kind::Refs(targets) => check_refs(ctx, path, v, *targets),
        Kind::Enum(values) => enumerated(ctx, path, v, values),
        Kind::Enums(values) => list(ctx, path, v, |ctx, path, item| {
            enumerated(ctx, path, item, values)
        }),
        Kind::Vocab(values) => open_vocab(ctx, path, v, values),
        Kind::Vocabs(values) => list(ctx, path, v, |ctx, path, item| {
            open_vocab(ctx, path, item, values)
        }),
        Kind::KillChainPhases => list(ctx, path, v, |ctx, path, item| {
            check_nested(ctx, path, item, KILL_CHAIN_PHASE, root)
        }),
        Kind::ExternalReferences => list(ctx, path, v, external_reference),
        Kind::Hashes => hashes(ctx, path, v, false),
        Kind::ExternalHashes => hashes(ctx, path, v, true),
        Kind::Dictionary => dictionary(ctx, path, v),
        Kind::Headers { single } => headers(ctx, path, v, *single),
        Kind::Nested(props) => check_nested(ctx, path, v, props, root),
        Kind::NestedList(props) => list(ctx, path, v, |ctx, path, item| {
            check_nested(ctx, path, item, props, root)
        }),
        Kind::Binary => encoded(ctx, path, v, is_base64, "base64 (RFC 4648) binary data"),
        Kind::Hex => encoded(
            ctx,
            path,
            v,
            is_hex,
            "an even number of hexadecimal characters",
        ),
        Kind::Lang => encoded(ctx, path, v, is_language_tag, "an RFC 5646 language tag"),
        Kind::Url => encoded(ctx, path, v, is_uri, "an RFC 3986 URI"),
        Kind::Extensions(predefined) => {
            crate::extensions::check_extensions(ctx, path, v, predefined, root)
        }
        Kind::GranularMarkings => crate::markings::check_granular_markings(ctx, path, v, root),
    }
}

fn expect(ctx: &mut Ctx, path: &Path<'_>, ok: bool, what: &str) {
    if !ok {
        ctx.error(path, "json-type", format!("must be {what}"));
    }
}

/// Parses a timestamp property, reporting a malformed one.
pub(crate) fn timestamp<'v>(ctx: &mut Ctx, path: &Path<'_>, v: &'v Value) -> Option<Timestamp<'v>> {
    let Some(s) = v.as_str() else {
        ctx.error(
            path,
            "json-type",
            "must be a string holding an RFC 3339 timestamp",
        );
        return None;
    };
    match Timestamp::parse(s) {
        Ok(ts) => Some(ts),
        Err(why) => {
            ctx.error(
                path,
                "timestamp-format",
                format!("'{s}' is not a STIX timestamp: {why}"),
            );
            None
        }
    }
}

/// Checks a non-empty list, applying `item` to each member.
pub(crate) fn list(
    ctx: &mut Ctx,
    path: &Path<'_>,
    v: &Value,
    mut item: impl FnMut(&mut Ctx, &Path<'_>, &Value),
) {
    let Some(items) = v.as_array() else {
        ctx.error(path, "json-type", "must be a list");
        return;
    };
    if items.is_empty() {
        ctx.error(
            path,
            "list-empty",
            "must not be an empty list (omit the property instead)",
        );
    }
    for (i, v) in items.iter().enumerate() {
        item(ctx, &path.index(i), v);
    }
}

fn enumerated(ctx: &mut Ctx, path: &Path<'_>, v: &Value, values: &[&str]) {
    match v.as_str() {
        Some(s) if values.contains(&s) => {}
        Some(s) => ctx.error(
            path,
            "enum-value",
            format!(
                "'{s}' is not one of the allowed values: {}",
                values.join(", ")
            ),
        ),
        None => ctx.error(path, "json-type", "must be a string"),
    }
}

fn open_vocab(ctx: &mut Ctx, path: &Path<'_>, v: &Value, values: &[&str]) {
    match v.as_str() {
        Some(s) if values.contains(&s) => {}
        Some(s) => ctx.warn(
            path,
            "open-vocab",
            format!("'{s}' is not in the suggested vocabulary"),
        ),
        None => ctx.error(path, "json-type", "must be a string"),
    }
}

fn encoded(ctx: &mut Ctx, path: &Path<'_>, v: &Value, ok: fn(&str) -> bool, what: &str) {
    match v.as_str() {
        Some(s) if ok(s) => {}
        Some(_) => ctx.error(path, "value-format", format!("must be {what}")),
        None => ctx.error(path, "json-type", "must be a string"),
    }
}

const KILL_CHAIN_PHASE: &[Prop] = &[
    req("kill_chain_name", Kind::String),
    req("phase_name", Kind::String),
];

const EXTERNAL_REFERENCE: &[Prop] = &[
    req("source_name", Kind::String),
    opt("description", Kind::String),
    opt("url", Kind::Url),
    opt("hashes", Kind::ExternalHashes),
    opt("external_id", Kind::String),
];

fn external_reference(ctx: &mut Ctx, path: &Path<'_>, v: &Value) {
    check_nested(ctx, path, v, EXTERNAL_REFERENCE, &Map::new());
    let Some(map) = v.as_object() else { return };
    if !["description", "url", "external_id"]
        .iter()
        .any(|k| map.contains_key(*k))
    {
        ctx.error(
            path,
            "external-reference",
            "at least one of description, url or external_id must be present",
        );
    }
    let source = map.get("source_name").and_then(Value::as_str);
    let external_id = map.get("external_id").and_then(Value::as_str);
    // CVE and CAPEC references go both ways: the reserved source names need their id format,
    // and ids in those formats need their source name.
    let cve = (source == Some("cve"), external_id.is_some_and(is_cve_id));
    let capec = (
        source == Some("capec"),
        external_id.is_some_and(is_capec_id),
    );
    for ((named, formatted), name, what) in
        [(cve, "cve", "CVE-YYYY-NNNN"), (capec, "capec", "CAPEC-N")]
    {
        if named != formatted {
            let msg =
                format!("source_name '{name}' and an external_id of the form {what} go together");
            ctx.error(path, "external-reference", msg);
        }
    }
}

fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.len() >= 4
        && num.bytes().all(|b| b.is_ascii_digit())
        && !(num.len() > 4 && num.starts_with('0'))
}

fn is_capec_id(s: &str) -> bool {
    s.strip_prefix("CAPEC-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks a dictionary: an object whose keys are ASCII letters, digits, `_` or `-`, at most 250 long.
fn dictionary(ctx: &mut Ctx, path: &Path<'_>, v: &Value) {
    let Some(map) = v.as_object() else {
        ctx.error(path, "json-type", "must be an object (dictionary)");
        return;
    };
    if map.is_empty() {
        ctx.error(
            path,
            "dictionary-empty",
            "must not be an empty dictionary (omit the property instead)",
        );
    }
    for k in map.keys() {
        if !is_dictionary_key(k) {
            ctx.error(
                &path.key(k),
                "dictionary-key",
                "dictionary keys must be ASCII letters, digits, '_' or '-', at most 250 characters",
            );
        }
    }
}

fn headers(ctx: &mut Ctx, path: &Path<'_>, v: &Value, single: bool) {
    dictionary(ctx, path, v);
    for (k, field) in v.as_object().into_iter().flatten() {
        let strings = field.as_array().filter(|l| l.iter().all(Value::is_string));
        let ok = match strings {
            Some(list) => list.len() >= if single { 2 } else { 1 },
            None => single && field.is_string(),
        };
        if !ok {
            let what = if single {
                "a string or a list of at least two strings"
            } else {
                "a non-empty list of strings"
            };
            ctx.error(
                &path.key(k),
                "json-type",
                format!("a header field must be {what}"),
            );
        }
    }
}

fn is_dictionary_key(k: &str) -> bool {
    k.len() <= 250
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks a hashes dictionary; `closed` restricts algorithm names to hash-algorithm-ov.
fn hashes(ctx: &mut Ctx, path: &Path<'_>, v: &Value, closed: bool) {
    let Some(map) = v.as_object() else {
        ctx.error(path, "json-type", "must be an object (hashes dictionary)");
        return;
    };
    if map.is_empty() {
        ctx.error(
            path,
            "dictionary-empty",
            "must hold at least one hash (omit the property instead)",
        );
    }
    for (k, v) in map {
        let path = path.key(k);
        let Some(s) = v.as_str() else {
            ctx.error(&path, "json-type", "a hash value must be a string");
            continue;
        };
        let hex_len = match k.as_str() {
            "MD5" => Some(32),
            "SHA-1" => Some(40),
            "SHA-256" | "SHA3-256" => Some(64),
            "SHA-512" | "SHA3-512" => Some(128),
            _ => None,
        };
        if let Some(n) = hex_len {
            if s.len() != n || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                ctx.error(
                    &path,
                    "hashes",
                    format!("a {k} hash must be {n} hexadecimal characters"),
                );
            }
        } else if !vocab::HASH_ALGORITHM.contains(&k.as_str()) {
            if closed {
                let msg = format!(
                    "'{k}' is not in hash-algorithm-ov, which external references must use"
                );
                ctx.error(&path, "hashes", msg);
            } else if !(3..=250).contains(&k.len()) || !is_dictionary_key(k) {
                let msg = "a custom hash algorithm name must be 3 to 250 ASCII letters, digits, '_' or '-'";
                ctx.error(&path, "hashes", msg);
            } else {
                ctx.warn(
                    &path,
                    "open-vocab",
                    format!("'{k}' is not in hash-algorithm-ov"),
                );
            }
        }
    }
}

fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    let body = b.iter().rposition(|&c| c != b'=').map_or(0, |i| i + 1);
    b.len().is_multiple_of(4)
        && b.len() - body <= 2
        && b[..body]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

fn is_hex(s: &str) -> bool {
    s.len().is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// RFC 3986 URI shape: `scheme:` (a letter, then letters, digits, `+`, `-`, `.`) followed by
/// characters a URI may hold (no whitespace, controls or `<>"{}|\\^` backquote).
fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    scheme_ok
        && !rest.is_empty()
        && !rest
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c))
}

/// RFC 5646 shape: a 2-8 letter primary subtag (or `i`/`x` for grandfathered/private tags),
/// then subtags of 1-8 letters or digits.
pub(crate) fn is_language_tag(s: &str) -> bool {
    let subtag =
        |p: &str| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric());
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let primary_ok = if matches!(primary, "i" | "x" | "I" | "X") {
        !rest.is_empty() // private-use and grandfathered tags need a subtag after the singleton
    } else {
        (2..=8).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic())
    };
    primary_ok && rest.into_iter().all(subtag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_hex_and_language_tags() {
        assert!(
            is_base64("iVBORw0KGgoAAAANSUhEUgAAADI=")
                && is_base64("")
                && !is_base64("abc")
                && !is_base64("ab=c")
        );
        assert!(is_hex("00ff") && !is_hex("0ff") && !is_hex("zz"));
        assert!(
            is_language_tag("en")
                && is_language_tag("zh-Hant-TW")
                && !is_language_tag("english language")
        );
        assert!(
            is_uri("https://attack.mitre.org/techniques/T0800") && is_uri("urn:isbn:0451450523")
        );
        assert!(
            !is_uri("attack.mitre.org/x")
                && !is_uri("2024-01-01T00:00:00Z")
                && !is_uri("http://a b")
        );
        assert!(is_language_tag("x-comity") && !is_language_tag("x") && !is_language_tag("en-"));
        assert!(
            is_cve_id("CVE-2016-1234") && is_cve_id("CVE-2021-44228") && !is_cve_id("CVE-2016-123")
        );
        assert!(is_capec_id("CAPEC-163") && !is_capec_id("CAPEC-"));
    }
}
