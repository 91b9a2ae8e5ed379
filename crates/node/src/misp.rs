//! MISP events (the MISP core format, one event as `{"Event": {...}}`) converted to STIX
//! 2.1 after the published MISP to STIX 2.1 mapping (misp-stix's documentation): the event
//! becomes a `report` when published, else a `grouping`, created by its organisation's
//! `identity`; an attribute flagged
//! `to_ids` becomes an `indicator` with a pattern, any other an `observed-data` with its
//! SCO; `tlp:` tags become TLP 2.0 marking references and other tags labels; galaxy clusters
//! of threat actors, malware and intrusion sets become those SDOs; sightings of indicators
//! become `sighting`s. Ids keep the MISP uuids, so importing an event twice stores nothing
//! new. This module is pure: it reads JSON and writes JSON; what it makes goes through the
//! node's intake like anything else.
//!
//! Attribute types it does not map are counted and named in [`Converted::skipped`], never
//! silently dropped.

use std::net::IpAddr;

use comity_stix::clock::format_us;
use comity_stix::tlp::Tlp;
use serde_json::{json, Map, Value};

/// Why an event cannot be converted at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MispError {
    /// The text is not JSON.
    #[error("not JSON: {0}")]
    Json(String),
    /// The JSON is not a MISP event: which field, and why.
    #[error("not a MISP event: {0}")]
    Shape(String),
}

/// What an event became.
#[derive(Debug, Default)]
pub struct Converted {
    /// The STIX objects, the report (or grouping) last.
    pub objects: Vec<Value>,
    /// The attributes not mapped: `uuid (type)`.
    pub skipped: Vec<String>,
}

fn shape(what: impl Into<String>) -> MispError {
    MispError::Shape(what.into())
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn uuid_of(v: &Value, what: &str) -> Result<String, MispError> {
    let raw = text(v, "uuid").ok_or_else(|| shape(format!("{what}: uuid is missing")))?;
    uuid::Uuid::parse_str(raw)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| shape(format!("{what}: uuid {raw:?} is not a UUID")))
}

/// A MISP timestamp (seconds since the epoch, as a string or a number) as STIX time.
fn timestamp(v: &Value, key: &str) -> Option<String> {
    let secs: i64 = match v.get(key)? {
        Value::String(s) => s.parse().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    (0..=253_402_300_799)
        .contains(&secs)
        .then(|| format_us(secs * 1_000_000))
}

/// The tags of an event or attribute: TLP markings and the other tags as labels.
fn tags(v: &Value) -> (Vec<String>, Vec<String>) {
    let mut markings = Vec::new();
    let mut labels = Vec::new();
    for tag in v.get("Tag").and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = text(tag, "name") else {
            continue;
        };
        let lower = name.trim().to_ascii_lowercase();
        let tlp = lower.strip_prefix("tlp:").and_then(|level| match level {
            "white" | "clear" => Some(Tlp::Clear),
            other => Tlp::from_extension_value(other),
        });
        match tlp {
            Some(t) => markings.push(t.marking_ref().to_owned()),
            None => labels.push(name.to_owned()),
        }
    }
    markings.sort();
    markings.dedup();
    (markings, labels)
}

/// The pattern and the SCO of an attribute's value, after the mapping; `None` for types
/// not mapped.
fn mapped(kind: &str, value: &str) -> Option<(String, Value)> {
    let literal = value.replace('\\', "\\\\").replace('\'', "\\'");
    let ip = |side: &str| -> Option<(String, Value)> {
        let ty = match value.parse::<IpAddr>().ok()? {
            IpAddr::V4(_) => "ipv4-addr",
            IpAddr::V6(_) => "ipv6-addr",
        };
        Some((
            format!(
                "[network-traffic:{side}_ref.type = '{ty}' AND network-traffic:{side}_ref.value = '{literal}']"
            ),
            json!({"type": ty, "value": value}),
        ))
    };
    let hash = |name: &str| {
        Some((
            format!("[file:hashes.{} = '{literal}']", quoted_key(name)),
            json!({"type": "file", "hashes": {name: value}}),
        ))
    };
    match kind {
        "ip-src" => ip("src"),
        "ip-dst" => ip("dst"),
        "domain" | "hostname" => Some((
            format!("[domain-name:value = '{literal}']"),
            json!({"type": "domain-name", "value": value}),
        )),
        "url" | "link" => Some((
            format!("[url:value = '{literal}']"),
            json!({"type": "url", "value": value}),
        )),
        "email-src" | "email" | "email-dst" => Some((
            format!("[email-addr:value = '{literal}']"),
            json!({"type": "email-addr", "value": value}),
        )),
        "filename" => Some((
            format!("[file:name = '{literal}']"),
            json!({"type": "file", "name": value}),
        )),
        "md5" => hash("MD5"),
        "sha1" => hash("SHA-1"),
        "sha256" => hash("SHA-256"),
        "sha512" => hash("SHA-512"),
        "mutex" => Some((
            format!("[mutex:name = '{literal}']"),
            json!({"type": "mutex", "name": value}),
        )),
        _ => None,
    }
}

fn quoted_key(name: &str) -> String {
    if name.contains('-') {
        format!("'{name}'")
    } else {
        name.to_owned()
    }
}

/// The MISP category as a kill chain phase, as the mapping writes it.
fn category_phase(attribute: &Value) -> Option<Value> {
    let category = text(attribute, "category")?;
    Some(json!([{"kill_chain_name": "misp-category", "phase_name": category}]))
}

/// The STIX type a galaxy of this type maps to.
fn galaxy_sdo(galaxy_type: &str) -> Option<&'static str> {
    match galaxy_type {
        "threat-actor" | "mitre-threat-actor" => Some("threat-actor"),
        "malpedia" | "mitre-malware" | "malware" | "android" | "banker" | "ransomware" | "rat"
        | "stealer" => Some("malware"),
        "mitre-intrusion-set" | "intrusion-set" => Some("intrusion-set"),
        _ => None,
    }
}

/// Converts one MISP event (`{"Event": {...}}`) to STIX 2.1 objects.
pub fn convert(text_of_event: &str) -> Result<Converted, MispError> {
    let root: Value =
        serde_json::from_str(text_of_event).map_err(|e| MispError::Json(e.to_string()))?;
    let event = root
        .get("Event")
        .filter(|e| e.is_object())
        .ok_or_else(|| shape("the top level has no \"Event\" object"))?;
    let event_uuid = uuid_of(event, "Event")?;
    let info = text(event, "info").ok_or_else(|| shape("Event: info is missing"))?;
    let date = text(event, "date")
        .filter(|d| {
            d.len() == 10 && comity_stix::clock::parse_us(&format!("{d}T00:00:00Z")).is_some()
        })
        .map(|d| format!("{d}T00:00:00.000Z"));
    let modified = timestamp(event, "timestamp")
        .or_else(|| date.clone())
        .ok_or_else(|| shape("Event: neither a timestamp (seconds since the epoch) nor a date"))?;
    let published = date.unwrap_or_else(|| modified.clone());
    let is_published = matches!(event.get("published"), Some(Value::Bool(true)));
    let mut out = Converted::default();
    let (event_markings, event_labels) = tags(event);
    let creator = match event.get("Orgc") {
        Some(org) => {
            let id = format!("identity--{}", uuid_of(org, "Event.Orgc")?);
            out.objects.push(json!({
                "type": "identity", "spec_version": "2.1", "id": id,
                "created": modified, "modified": modified,
                "name": text(org, "name").unwrap_or("MISP organisation"),
                "identity_class": "organization",
            }));
            Some(id)
        }
        None => None,
    };
    let common = |ty: &str, uuid: &str, created: &str, markings: &[String]| -> Map<String, Value> {
        let mut o = Map::new();
        o.insert("type".into(), json!(ty));
        o.insert("spec_version".into(), json!("2.1"));
        o.insert("id".into(), json!(format!("{ty}--{uuid}")));
        o.insert("created".into(), json!(created));
        o.insert("modified".into(), json!(created));
        if let Some(c) = &creator {
            o.insert("created_by_ref".into(), json!(c));
        }
        if !markings.is_empty() {
            o.insert("object_marking_refs".into(), json!(markings));
        }
        o
    };
    let mut refs = Vec::new();
    let attributes = event
        .get("Attribute")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for attribute in &attributes {
        let uuid = uuid_of(attribute, "Attribute")?;
        let kind = text(attribute, "type").unwrap_or_default();
        let value = text(attribute, "value").unwrap_or_default();
        let Some((pattern, sco)) = mapped(kind, value) else {
            out.skipped.push(format!("{uuid} ({kind})"));
            continue;
        };
        let created = timestamp(attribute, "timestamp").unwrap_or_else(|| modified.clone());
        let (mut markings, attribute_labels) = tags(attribute);
        if markings.is_empty() {
            markings = event_markings.clone();
        }
        let mut labels = vec![format!("misp:type=\"{kind}\"")];
        if let Some(category) = text(attribute, "category") {
            labels.push(format!("misp:category=\"{category}\""));
        }
        labels.extend(attribute_labels);
        let to_ids = match attribute.get("to_ids") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        };
        if to_ids {
            let mut o = common("indicator", &uuid, &created, &markings);
            o.insert("pattern".into(), json!(pattern));
            o.insert("pattern_type".into(), json!("stix"));
            o.insert("pattern_version".into(), json!("2.1"));
            o.insert("valid_from".into(), json!(created));
            if let Some(phases) = category_phase(attribute) {
                o.insert("kill_chain_phases".into(), phases);
            }
            if let Some(comment) = text(attribute, "comment").filter(|c| !c.is_empty()) {
                o.insert("description".into(), json!(comment));
            }
            o.insert("labels".into(), json!(labels));
            let id = o["id"].clone();
            for sighting in attribute
                .get("Sighting")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Ok(s_uuid) = uuid_of(sighting, "Sighting") else {
                    continue;
                };
                let seen = timestamp(sighting, "date_sighting").unwrap_or_else(|| created.clone());
                let mut s = common("sighting", &s_uuid, &seen, &markings);
                s.insert("sighting_of_ref".into(), id.clone());
                s.insert("first_seen".into(), json!(seen));
                s.insert("last_seen".into(), json!(seen));
                s.insert("count".into(), json!(1));
                refs.push(s["id"].clone());
                out.objects.push(Value::Object(s));
            }
            refs.push(id);
            out.objects.push(Value::Object(o));
        } else {
            let mut sco = sco;
            let sco_id = comity_stix::deterministic_sco_id(&sco)
                .ok_or_else(|| shape(format!("Attribute {uuid}: no SCO id")))?;
            sco["id"] = json!(sco_id);
            sco["spec_version"] = json!("2.1");
            let mut o = common("observed-data", &uuid, &created, &markings);
            o.insert("first_observed".into(), json!(created));
            o.insert("last_observed".into(), json!(created));
            o.insert("number_observed".into(), json!(1));
            o.insert("object_refs".into(), json!([sco_id]));
            o.insert("labels".into(), json!(labels));
            refs.push(o["id"].clone());
            out.objects.push(sco);
            out.objects.push(Value::Object(o));
        }
    }
    for galaxy in event
        .get("Galaxy")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(ty) = text(galaxy, "type").and_then(galaxy_sdo) else {
            continue;
        };
        for cluster in galaxy
            .get("GalaxyCluster")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let uuid = uuid_of(cluster, "GalaxyCluster")?;
            let Some(name) = text(cluster, "value") else {
                continue;
            };
            let mut o = common(ty, &uuid, &modified, &event_markings);
            o.insert("name".into(), json!(name));
            if let Some(d) = text(cluster, "description").filter(|d| !d.is_empty()) {
                o.insert("description".into(), json!(d));
            }
            if ty == "malware" {
                o.insert("is_family".into(), json!(true));
            }
            o.insert(
                "labels".into(),
                json!([format!(
                    "misp:galaxy-type=\"{}\"",
                    text(galaxy, "type").unwrap_or(ty)
                )]),
            );
            refs.push(o["id"].clone());
            out.objects.push(Value::Object(o));
        }
    }
    // A published event is a report; one still being worked on a grouping, as the mapping
    // has it.
    let mut report = match is_published {
        true => {
            let mut r = common("report", &event_uuid, &modified, &event_markings);
            r.insert("published".into(), json!(published));
            r.insert("report_types".into(), json!(["misp-event"]));
            r
        }
        false => {
            let mut g = common("grouping", &event_uuid, &modified, &event_markings);
            g.insert("context".into(), json!("misp-event"));
            g
        }
    };
    report.insert("name".into(), json!(info));
    if !event_labels.is_empty() {
        report.insert("labels".into(), json!(event_labels));
    }
    if refs.is_empty() {
        // A report refers to something: an event with nothing mapped refers to its creator.
        refs.extend(creator.iter().map(|c| json!(c)));
    }
    if refs.is_empty() {
        return Err(shape("the event has nothing to convert and no Orgc"));
    }
    report.insert("object_refs".into(), json!(refs));
    out.objects.push(Value::Object(report));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"Event": {
        "uuid": "5f1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e5f", "info": "Phishing wave",
        "date": "2026-11-30", "timestamp": "1764460800", "published": true,
        "Orgc": {"uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f", "name": "CERT-ZZ"},
        "Tag": [{"name": "tlp:amber"}, {"name": "type:OSINT"}],
        "Attribute": [
            {"uuid": "6a1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e51", "type": "ip-dst", "category": "Network activity",
             "value": "203.0.113.9", "to_ids": true, "timestamp": "1764460801",
             "Sighting": [{"uuid": "7b1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e52", "date_sighting": "1764460900"}]},
            {"uuid": "6a1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e53", "type": "domain", "category": "Network activity",
             "value": "its.evil.example", "to_ids": false, "timestamp": "1764460802",
             "Tag": [{"name": "tlp:red"}]},
            {"uuid": "6a1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e54", "type": "sha256", "category": "Payload delivery",
             "value": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "to_ids": "1"},
            {"uuid": "6a1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e55", "type": "yara", "value": "rule x {}", "to_ids": true}
        ],
        "Galaxy": [{"type": "threat-actor", "GalaxyCluster": [
            {"uuid": "8c1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e56", "value": "APT ZZ", "description": "A group."}]}]
    }}"#;

    #[test]
    fn an_event_becomes_a_report_with_indicators_observations_and_actors() {
        let c = convert(EVENT).unwrap();
        let types: Vec<&str> = c
            .objects
            .iter()
            .map(|o| o["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "identity",
                "sighting",
                "indicator",
                "domain-name",
                "observed-data",
                "indicator",
                "threat-actor",
                "report"
            ]
        );
        assert_eq!(c.skipped, ["6a1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e55 (yara)"]);
        let by_type = |t: &str| c.objects.iter().find(|o| o["type"] == t).unwrap();
        let ip = by_type("indicator");
        assert_eq!(
            ip["pattern"],
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.9']"
        );
        assert_eq!(ip["id"], "indicator--6a1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e51");
        assert_eq!(
            ip["object_marking_refs"],
            json!([comity_stix::tlp::TLP2_AMBER])
        );
        let observed = by_type("observed-data");
        assert_eq!(
            observed["object_marking_refs"],
            json!([comity_stix::tlp::TLP2_RED])
        );
        assert_eq!(by_type("sighting")["sighting_of_ref"], ip["id"]);
        let report = by_type("report");
        assert_eq!(report["labels"], json!(["type:OSINT"]));
        assert_eq!(report["object_refs"].as_array().unwrap().len(), 5);
        // Everything passes the node's intake.
        for (i, o) in c.objects.iter().enumerate() {
            let raw = serde_json::value::RawValue::from_string(o.to_string()).unwrap();
            if let Err(r) = crate::intake::examine(i, &raw) {
                panic!("{}: {}", o["type"], r.message());
            }
        }
    }

    #[test]
    fn an_unpublished_event_is_a_grouping_dated_by_its_date() {
        let c = convert(
            r#"{"Event": {"uuid": "5f1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e5f", "info": "draft",
                "date": "2026-11-30", "Orgc": {"uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f"}}}"#,
        )
        .unwrap();
        let grouping = c.objects.last().unwrap();
        assert_eq!(grouping["type"], "grouping");
        assert_eq!(grouping["context"], "misp-event");
        assert_eq!(grouping["created"], "2026-11-30T00:00:00.000Z");
    }

    #[test]
    fn what_is_no_misp_event_is_refused_precisely() {
        for (text, expected) in [
            ("not json", "not JSON"),
            ("[]", "no \"Event\""),
            (r#"{"Event": 5}"#, "no \"Event\""),
            (r#"{"Event": {"info": "x"}}"#, "uuid is missing"),
            (r#"{"Event": {"uuid": "nope", "info": "x"}}"#, "not a UUID"),
            (
                r#"{"Event": {"uuid": "5f1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e5f", "info": "x", "timestamp": "soon"}}"#,
                "neither a timestamp",
            ),
            (
                r#"{"Event": {"uuid": "5f1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e5f", "info": "x", "timestamp": "1",
                    "Attribute": [{"type": "ip-dst", "value": "1.2.3.4"}]}}"#,
                "Attribute: uuid is missing",
            ),
        ] {
            let e = convert(text).unwrap_err();
            assert!(e.to_string().contains(expected), "{text}: {e}");
        }
    }
}
