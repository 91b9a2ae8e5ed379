//! The released STIX objects of a collection as MISP events (pure): each `report` (a
//! published event) or `grouping` (an unpublished one) is an event holding what it refers
//! to; indicators, observations, threat actors, malware and intrusion sets that no report
//! or grouping refers to go into one event per day they were added to the collection.

use std::collections::{BTreeMap, HashMap, HashSet};

use comity_stix::clock::parse_us;
use comity_stix::tlp::{tlp_of_marking_ref, Tlp};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::attribute::{self, misp_label, Attr};

/// The namespace of the UUIDv5s this export derives (events per day, organisations,
/// galaxies, attributes that cannot keep their object's UUID).
const NAMESPACE: Uuid = Uuid::from_u128(0x8f0e_3c52_5b7a_4d1e_9c61_2a4f_0b7d_e913);

/// One released object, with when its version was added to the collection.
pub struct Held {
    /// The object as released.
    pub json: Value,
    /// Microseconds since the Unix epoch.
    pub date_added: i64,
}

/// One MISP event of the feed.
pub struct Event {
    /// Its UUID.
    pub uuid: String,
    /// The event file, `{"Event": {...}}`.
    pub json: Value,
    /// The manifest's entry for it.
    pub manifest: Value,
    /// Its attribute values, for `hashes.csv`.
    pub values: Vec<String>,
}

/// What [`build`] made.
#[derive(Default)]
pub struct Built {
    /// The events, by UUID.
    pub events: BTreeMap<String, Event>,
    /// Objects that give no attribute, each with why.
    pub skipped: Vec<(String, String)>,
}

fn text<'a>(o: &'a Value, key: &str) -> &'a str {
    o.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn is_revoked(o: &Value) -> bool {
    o.get("revoked") == Some(&Value::Bool(true))
}

/// The UUID part of a STIX id.
fn uuid_of(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id.split_once("--")?.1).ok()
}

fn derived(name: &str) -> String {
    Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
}

/// A STIX timestamp as MISP's seconds since the epoch.
fn seconds(stamp: &str) -> Option<i64> {
    parse_us(stamp).map(|us| us.div_euclid(1_000_000))
}

/// The most restrictive TLP level among an object's markings.
fn tlp(o: &Value) -> Option<Tlp> {
    o.get("object_marking_refs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().and_then(tlp_of_marking_ref))
        .max()
}

fn tag(name: &str) -> Value {
    json!({"name": name})
}

fn tlp_tag(t: Tlp) -> Value {
    tag(&format!("tlp:{}", t.extension_value()))
}

/// An object's labels as tags, without the `misp:` labels an import leaves (they become
/// the attribute's type and category again).
fn label_tags(o: &Value) -> Vec<Value> {
    o.get("labels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|l| !l.starts_with("misp:"))
        .map(tag)
        .collect()
}

/// The galaxy type of a threat actor, malware or intrusion set.
fn galaxy_type(o: &Value) -> &str {
    let fallback = match text(o, "type") {
        "threat-actor" => "threat-actor",
        "malware" => "malpedia",
        _ => "mitre-intrusion-set",
    };
    misp_label(o, "galaxy-type")
        .filter(|t| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .unwrap_or(fallback)
}

fn is_member_type(ty: &str) -> bool {
    matches!(
        ty,
        "indicator" | "observed-data" | "threat-actor" | "malware" | "intrusion-set"
    )
}

/// What goes into one event before it is written.
struct Draft<'a> {
    uuid: String,
    info: String,
    date: String,
    published: bool,
    orgc: Value,
    tlp: Option<Tlp>,
    tags: Vec<Value>,
    /// Seconds: the newest `modified` of everything the event holds or held.
    timestamp: i64,
    members: Vec<&'a Value>,
}

/// Builds the feed's events from the released objects of the collection `collection_id`
/// titled `title`.
pub fn build(collection_id: &str, title: &str, objects: &[Held]) -> Built {
    let index: HashMap<&str, &Held> = objects.iter().map(|h| (text(&h.json, "id"), h)).collect();
    let mut sightings: HashMap<&str, Vec<&Value>> = HashMap::new();
    for h in objects {
        if text(&h.json, "type") == "sighting" && !is_revoked(&h.json) {
            sightings
                .entry(text(&h.json, "sighting_of_ref"))
                .or_default()
                .push(&h.json);
        }
    }
    let collection_org =
        json!({"name": title, "uuid": derived(&format!("organisation:{collection_id}"))});
    let orgc = |o: &Value| -> Value {
        index
            .get(text(o, "created_by_ref"))
            .map(|h| &h.json)
            .filter(|i| text(i, "type") == "identity")
            .and_then(|i| {
                Some(json!({"name": text(i, "name"), "uuid": uuid_of(text(i, "id"))?.to_string()}))
            })
            .unwrap_or_else(|| collection_org.clone())
    };
    let mut containers: Vec<&Value> = objects
        .iter()
        .map(|h| &h.json)
        .filter(|o| matches!(text(o, "type"), "report" | "grouping") && !is_revoked(o))
        .collect();
    containers.sort_by_key(|o| text(o, "id"));
    let mut placed = HashSet::new();
    let mut drafts = Vec::new();
    let mut event_uuids = HashSet::new();
    for c in containers {
        let Some(own) = uuid_of(text(c, "id")) else {
            continue;
        };
        // A report and a grouping with the same UUID are two events.
        let uuid = match event_uuids.insert(own) {
            true => own.to_string(),
            false => derived(&format!("event:{}", text(c, "id"))),
        };
        let mut held_here = HashSet::new();
        let members: Vec<&Value> = c
            .get("object_refs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| index.get(r.as_str()?).map(|h| &h.json))
            .filter(|o| is_member_type(text(o, "type")) && held_here.insert(text(o, "id")))
            .collect();
        placed.extend(members.iter().map(|o| text(o, "id")));
        let published = text(c, "type") == "report";
        let dated = [if published { "published" } else { "created" }, "modified"];
        let mut tags: Vec<Value> = tlp(c).map(tlp_tag).into_iter().collect();
        tags.extend(label_tags(c));
        drafts.push(Draft {
            uuid,
            info: match text(c, "name") {
                "" => text(c, "id").to_owned(),
                name => name.to_owned(),
            },
            date: dated
                .iter()
                .find_map(|k| parse_us(text(c, k)).and(text(c, k).get(..10)))
                .unwrap_or_default()
                .to_owned(),
            published,
            orgc: orgc(c),
            tlp: tlp(c),
            tags,
            timestamp: seconds(text(c, "modified")).unwrap_or_default(),
            members,
        });
    }
    // What no report or grouping holds: one event per day it was added.
    let mut days: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for h in objects {
        let id = text(&h.json, "id");
        if is_member_type(text(&h.json, "type")) && !placed.contains(id) {
            let day = comity_stix::clock::format_us(h.date_added)
                .get(..10)
                .unwrap_or_default()
                .to_owned();
            days.entry(day).or_default().push(&h.json);
        }
    }
    for (day, mut members) in days {
        members.sort_by_key(|o| text(o, "id"));
        drafts.push(Draft {
            uuid: derived(&format!("day:{collection_id}:{day}")),
            info: format!("{title}: added on {day}"),
            date: day,
            published: true,
            orgc: collection_org.clone(),
            tlp: None,
            tags: Vec::new(),
            timestamp: 0,
            members,
        });
    }
    let mut built = Built::default();
    let mut used = HashSet::new();
    let mut writer = Writer {
        index: &index,
        sightings: &sightings,
        used: &mut used,
        skipped: &mut built.skipped,
    };
    for draft in drafts {
        let event = writer.event(draft);
        built.events.insert(event.uuid.clone(), event);
    }
    built
}

/// Writes events, keeping attribute UUIDs unique across the feed.
struct Writer<'a, 'b> {
    index: &'a HashMap<&'b str, &'b Held>,
    sightings: &'a HashMap<&'b str, Vec<&'b Value>>,
    used: &'a mut HashSet<String>,
    skipped: &'a mut Vec<(String, String)>,
}

impl Writer<'_, '_> {
    /// The object's own UUID when no attribute of the feed has it yet, else one derived
    /// from the event and `name`.
    fn attribute_uuid(&mut self, own: Option<Uuid>, event: &str, name: &str) -> String {
        let own = own.map(|u| u.to_string());
        match own.filter(|u| !self.used.contains(u)) {
            Some(u) => {
                self.used.insert(u.clone());
                u
            }
            None => {
                let u = derived(&format!("attribute:{event}:{name}"));
                self.used.insert(u.clone());
                u
            }
        }
    }

    fn event(&mut self, mut d: Draft) -> Event {
        let mut attributes = Vec::new();
        let mut clusters: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for o in std::mem::take(&mut d.members) {
            let id = text(o, "id");
            d.timestamp = d
                .timestamp
                .max(seconds(text(o, "modified")).unwrap_or_default());
            let sightings = self
                .sightings
                .get(id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for s in sightings {
                d.timestamp = d
                    .timestamp
                    .max(seconds(text(s, "modified")).unwrap_or_default());
            }
            if is_revoked(o) {
                continue;
            }
            match text(o, "type") {
                "indicator" => match attribute::of_indicator(o) {
                    Ok(a) => {
                        let uuid = self.attribute_uuid(uuid_of(id), &d.uuid, id);
                        attributes.push(attribute_json(uuid, &a, o, true, d.tlp, sightings));
                    }
                    Err(why) => self.skipped.push((id.to_owned(), why)),
                },
                "observed-data" => {
                    let scos: Vec<&Value> = o
                        .get("object_refs")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|r| self.index.get(r.as_str()?).map(|h| &h.json))
                        .collect();
                    let attrs = attribute::of_observation(o, &scos);
                    if attrs.is_empty() {
                        self.skipped
                            .push((id.to_owned(), "no observable an attribute holds".into()));
                    }
                    let own = if attrs.len() == 1 { uuid_of(id) } else { None };
                    for a in &attrs {
                        let name = format!("{id}:{}:{}", a.kind, a.value);
                        let uuid = self.attribute_uuid(own, &d.uuid, &name);
                        attributes.push(attribute_json(uuid, a, o, false, d.tlp, sightings));
                    }
                }
                _ => {
                    let galaxy = galaxy_type(o).to_owned();
                    let name = text(o, "name");
                    let Some(uuid) = uuid_of(id).filter(|_| !name.is_empty()) else {
                        self.skipped.push((id.to_owned(), "no name".into()));
                        continue;
                    };
                    let tag_name = format!("misp-galaxy:{galaxy}=\"{name}\"");
                    d.tags.push(tag(&tag_name));
                    let mut cluster = json!({
                        "uuid": uuid.to_string(), "type": galaxy, "value": name,
                        "tag_name": tag_name,
                    });
                    if let Some(desc) = o.get("description").and_then(Value::as_str) {
                        cluster["description"] = json!(desc);
                    }
                    clusters.entry(galaxy).or_default().push(cluster);
                }
            }
        }
        let galaxies: Vec<Value> = clusters
            .into_iter()
            .map(|(ty, clusters)| {
                json!({"uuid": derived(&format!("galaxy:{ty}")), "type": ty, "name": ty,
                       "namespace": "misp", "GalaxyCluster": clusters})
            })
            .collect();
        let timestamp = d.timestamp.to_string();
        let manifest = json!({
            "Orgc": d.orgc, "Tag": d.tags, "info": d.info, "date": d.date,
            "analysis": "2", "threat_level_id": "4", "timestamp": timestamp,
        });
        let values = attributes
            .iter()
            .map(|a| text(a, "value").to_owned())
            .collect();
        let mut event = manifest.clone();
        let e = event.as_object_mut().expect("an object");
        e.insert("uuid".into(), json!(d.uuid));
        e.insert("published".into(), json!(d.published));
        e.insert("publish_timestamp".into(), json!(timestamp));
        e.insert("Attribute".into(), json!(attributes));
        if !galaxies.is_empty() {
            e.insert("Galaxy".into(), json!(galaxies));
        }
        Event {
            uuid: d.uuid,
            json: json!({ "Event": event }),
            manifest,
            values,
        }
    }
}

/// One attribute: a TLP tag only when its level is not the event's.
fn attribute_json(
    uuid: String,
    a: &Attr,
    o: &Value,
    to_ids: bool,
    event_tlp: Option<Tlp>,
    sightings: &[&Value],
) -> Value {
    let mut tags: Vec<Value> = tlp(o)
        .filter(|t| Some(*t) != event_tlp)
        .map(tlp_tag)
        .into_iter()
        .collect();
    tags.extend(label_tags(o));
    let sightings: Vec<Value> = sightings
        .iter()
        .filter_map(|s| {
            let seen = ["last_seen", "first_seen", "created"]
                .iter()
                .find_map(|k| seconds(text(s, k)))?;
            Some(json!({
                "uuid": uuid_of(text(s, "id"))?.to_string(),
                "date_sighting": seen.to_string(), "type": "0",
            }))
        })
        .collect();
    let mut out = Map::new();
    out.insert("uuid".into(), json!(uuid));
    out.insert("type".into(), json!(a.kind));
    out.insert("category".into(), json!(a.category));
    out.insert("value".into(), json!(a.value));
    out.insert("to_ids".into(), json!(to_ids));
    out.insert(
        "timestamp".into(),
        json!(seconds(text(o, "modified")).unwrap_or_default().to_string()),
    );
    out.insert("comment".into(), json!(text(o, "description")));
    out.insert("disable_correlation".into(), json!(false));
    out.insert("deleted".into(), json!(false));
    if !tags.is_empty() {
        out.insert("Tag".into(), json!(tags));
    }
    if !sightings.is_empty() {
        out.insert("Sighting".into(), json!(sightings));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use comity_stix::tlp::{TLP2_AMBER, TLP2_RED};

    const DAY: i64 = 1_764_460_800_000_000; // 2025-11-30T00:00:00Z

    const EVENT: &str = r#"{"Event": {
        "uuid": "5f1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e5f", "info": "Phishing wave",
        "date": "2025-11-30", "timestamp": "1764460800", "published": true,
        "Orgc": {"uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f", "name": "CERT-ZZ"},
        "Tag": [{"name": "tlp:amber"}, {"name": "type:OSINT"}],
        "Attribute": [
            {"uuid": "6a1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e51", "type": "ip-src", "category": "Payload delivery",
             "value": "203.0.113.9", "to_ids": true, "timestamp": "1764460801",
             "Sighting": [{"uuid": "7b1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e52", "date_sighting": "1764460900"}]},
            {"uuid": "6a1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e53", "type": "hostname", "category": "Network activity",
             "value": "its.evil.example", "to_ids": false, "timestamp": "1764460802",
             "Tag": [{"name": "tlp:red"}, {"name": "kill-chain:delivery"}]},
            {"uuid": "6a1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e54", "type": "sha256", "category": "Payload delivery",
             "value": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "to_ids": "1",
             "timestamp": "1764460803", "comment": "the dropper"}
        ],
        "Galaxy": [{"type": "threat-actor", "GalaxyCluster": [
            {"uuid": "8c1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e56", "value": "APT ZZ", "description": "A group."}]}]
    }}"#;

    fn held(objects: Vec<Value>) -> Vec<Held> {
        objects
            .into_iter()
            .map(|json| Held {
                json,
                date_added: DAY + 3_600_000_000,
            })
            .collect()
    }

    fn only_event(built: &Built) -> &Value {
        assert_eq!(built.events.len(), 1);
        &built.events.values().next().unwrap().json["Event"]
    }

    #[test]
    fn an_imported_event_comes_back_as_it_was() {
        let imported = crate::misp::convert(EVENT).unwrap().objects;
        let built = build("c1", "Inbox", &held(imported));
        assert!(built.skipped.is_empty(), "{:?}", built.skipped);
        let e = only_event(&built);
        assert_eq!(e["uuid"], "5f1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e5f");
        assert_eq!(
            (e["info"].as_str(), e["date"].as_str()),
            (Some("Phishing wave"), Some("2025-11-30"))
        );
        assert_eq!(e["published"], true);
        assert_eq!(
            e["Orgc"],
            json!({"name": "CERT-ZZ", "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f"})
        );
        assert_eq!(
            e["Tag"],
            json!([{"name": "tlp:amber"}, {"name": "type:OSINT"}, {"name": "misp-galaxy:threat-actor=\"APT ZZ\""}])
        );
        let original: Value = serde_json::from_str(EVENT).unwrap();
        let summary = |attrs: &Value| -> Vec<Value> {
            let mut v: Vec<Value> = attrs
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    let to_ids = matches!(&a["to_ids"], Value::Bool(true)) || a["to_ids"] == "1";
                    json!([
                        a["uuid"],
                        a["type"],
                        a["category"],
                        a["value"],
                        to_ids,
                        a["Sighting"].as_array().map(|s| s
                            .iter()
                            .map(|s| s["date_sighting"].clone())
                            .collect::<Vec<_>>())
                    ])
                })
                .collect();
            v.sort_by_key(|a| a[0].as_str().unwrap().to_owned());
            v
        };
        assert_eq!(
            summary(&e["Attribute"]),
            summary(&original["Event"]["Attribute"])
        );
        let hostname = e["Attribute"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["type"] == "hostname")
            .unwrap();
        // Its own TLP differs from the event's: it says so.
        assert_eq!(
            hostname["Tag"],
            json!([{"name": "tlp:red"}, {"name": "kill-chain:delivery"}])
        );
        let sha = e["Attribute"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["type"] == "sha256")
            .unwrap();
        assert_eq!(
            (sha.get("Tag"), sha["comment"].as_str()),
            (None, Some("the dropper"))
        );
        let cluster = &e["Galaxy"][0]["GalaxyCluster"][0];
        assert_eq!(
            (
                e["Galaxy"][0]["type"].as_str(),
                cluster["uuid"].as_str(),
                cluster["value"].as_str()
            ),
            (
                Some("threat-actor"),
                Some("8c1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e56"),
                Some("APT ZZ")
            )
        );
        // The feed's event imports again as the same STIX objects.
        let again = crate::misp::convert(&json!({"Event": e}).to_string()).unwrap();
        let ids = |objects: &[Value]| {
            let mut ids: Vec<String> = objects.iter().map(|o| text(o, "id").to_owned()).collect();
            ids.sort();
            ids
        };
        assert_eq!(
            ids(&again.objects),
            ids(&crate::misp::convert(EVENT).unwrap().objects)
        );
        // The manifest carries the event's newest timestamp (the sighting's creation).
        let manifest = &built.events.values().next().unwrap().manifest;
        assert_eq!(manifest["timestamp"], e["timestamp"]);
        assert!(
            manifest["timestamp"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .unwrap()
                >= 1_764_460_900
        );
    }

    fn indicator(uuid: &str, value: &str, marking: &str) -> Value {
        json!({"type": "indicator", "spec_version": "2.1", "id": format!("indicator--{uuid}"),
               "created": "2025-11-30T10:00:00.000Z", "modified": "2025-11-30T10:00:00.000Z",
               "pattern_type": "stix", "pattern": format!("[domain-name:value = '{value}']"),
               "valid_from": "2025-11-30T10:00:00.000Z", "object_marking_refs": [marking]})
    }

    #[test]
    fn what_no_report_holds_goes_into_one_event_per_day_with_a_stable_uuid() {
        let a = indicator(
            "11111111-1111-4111-8111-111111111111",
            "a.example",
            TLP2_AMBER,
        );
        let b = indicator(
            "22222222-2222-4222-8222-222222222222",
            "b.example",
            TLP2_RED,
        );
        let mut objects = held(vec![a.clone(), b]);
        objects.push(Held {
            json: indicator(
                "33333333-3333-4333-8333-333333333333",
                "c.example",
                TLP2_AMBER,
            ),
            date_added: DAY + 86_400_000_000,
        });
        let built = build("c1", "Inbox", &objects);
        assert_eq!(built.events.len(), 2);
        let first = &built.events[&derived("day:c1:2025-11-30")].json["Event"];
        assert_eq!(first["info"], "Inbox: added on 2025-11-30");
        assert_eq!(first["Tag"], json!([]));
        let tags: Vec<&Value> = first["Attribute"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| &a["Tag"])
            .collect();
        assert_eq!(
            tags,
            [
                &json!([{"name": "tlp:amber"}]),
                &json!([{"name": "tlp:red"}])
            ]
        );
        assert!(built.events.contains_key(&derived("day:c1:2025-12-01")));
        // The same objects, in another order: the same feed.
        let mut reversed = held(vec![
            indicator(
                "22222222-2222-4222-8222-222222222222",
                "b.example",
                TLP2_RED,
            ),
            a,
        ]);
        reversed.push(Held {
            json: indicator(
                "33333333-3333-4333-8333-333333333333",
                "c.example",
                TLP2_AMBER,
            ),
            date_added: DAY + 86_400_000_000,
        });
        let again = build("c1", "Inbox", &reversed);
        let texts = |b: &Built| {
            b.events
                .values()
                .map(|e| e.json.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(&built), texts(&again));
    }

    #[test]
    fn revoked_objects_leave_the_event_and_move_its_timestamp() {
        let mut revoked = indicator(
            "11111111-1111-4111-8111-111111111111",
            "a.example",
            TLP2_AMBER,
        );
        revoked["revoked"] = json!(true);
        revoked["modified"] = json!("2025-12-02T00:00:00.000Z");
        let kept = indicator(
            "22222222-2222-4222-8222-222222222222",
            "b.example",
            TLP2_AMBER,
        );
        let built = build("c1", "Inbox", &held(vec![revoked, kept]));
        let e = only_event(&built);
        assert_eq!(e["Attribute"].as_array().unwrap().len(), 1);
        assert_eq!(
            e["timestamp"],
            seconds("2025-12-02T00:00:00.000Z").unwrap().to_string()
        );
    }

    #[test]
    fn an_object_in_two_reports_keeps_its_uuid_once() {
        let ind = indicator(
            "11111111-1111-4111-8111-111111111111",
            "a.example",
            TLP2_AMBER,
        );
        let report = |uuid: &str| {
            json!({"type": "report", "id": format!("report--{uuid}"), "name": "r",
            "created": "2025-11-30T10:00:00.000Z", "modified": "2025-11-30T10:00:00.000Z",
            "published": "2025-11-30T10:00:00.000Z", "object_refs": ["indicator--11111111-1111-4111-8111-111111111111",
                "indicator--99999999-9999-4999-8999-999999999999", "indicator--11111111-1111-4111-8111-111111111111"]})
        };
        let built = build(
            "c1",
            "Inbox",
            &held(vec![
                ind,
                report("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"),
                report("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"),
            ]),
        );
        let uuids: Vec<&str> = built
            .events
            .values()
            .map(|e| e.json["Event"]["Attribute"][0]["uuid"].as_str().unwrap())
            .collect();
        assert_eq!(uuids[0], "11111111-1111-4111-8111-111111111111");
        let mut twin = report("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
        twin["type"] = json!("grouping");
        twin["id"] = json!("grouping--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
        let twins = build(
            "c1",
            "Inbox",
            &held(vec![report("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"), twin]),
        );
        assert_eq!(
            twins.events.len(),
            2,
            "a report and a grouping sharing a UUID"
        );
        assert_ne!(uuids[1], uuids[0]);
        // Held by a report: no day event; a reference to what the reader may not see is
        // no attribute.
        assert_eq!(built.events.len(), 2);
        for e in built.events.values() {
            assert_eq!(e.json["Event"]["Attribute"].as_array().unwrap().len(), 1);
            assert_eq!(e.json["Event"]["Orgc"]["name"], "Inbox");
        }
    }
}
