//! What the policy engine reads from a STIX object: its TLP level (TLP 2.0, with TLP 1.0 ids
//! mapped onto 2.0 by [`comity_stix::tlp`]), its granular markings, its handling codes, its
//! RED recipients and its originator. This module only reads markings; it never decides
//! who may see an object (that is [`super::Policy`]) and never edits the object.
//!
//! Comity-specific markings travel as two custom properties of the marked object, so that
//! any STIX client can read them unchanged:
//! - `x_comity_handling`: `{"codes": ["H0", "H2", …], "restrictions": "text of H3"}` (see
//!   [`super::handling`]);
//! - `x_comity_red_recipients`: the member ids an originator named for a TLP:RED object.

use std::borrow::Cow;

use comity_stix::tlp::Tlp;
use serde_json::Value;

use super::definitions::MarkingDefinitions;
use super::handling::{Handling, HandlingError};

/// The id of a federation member: the STIX id of its `identity` (`identity--…`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId(pub String);

impl std::borrow::Borrow<str> for MemberId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for MemberId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One entry of `granular_markings` that carries a `marking_ref` (language markings do not
/// restrict anyone and are not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GranularMarking {
    /// The selectors, e.g. `description` or `external_references.[0].url`.
    pub selectors: Vec<String>,
    /// The marking-definition id applied to the selected properties.
    pub marking_ref: String,
}

/// An object as the policy engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedObject {
    /// The STIX `type`, matched against an agreement's scope.
    pub object_type: String,
    /// The member whose node the object comes from.
    pub originator: MemberId,
    /// `object_marking_refs`.
    pub object_marking_refs: Vec<String>,
    /// `granular_markings` that name a marking definition.
    pub granular_markings: Vec<GranularMarking>,
    /// The originator's handling codes.
    pub handling: Handling,
    /// Who the originator named as recipients of a TLP:RED object.
    pub red_recipients: Vec<MemberId>,
    /// The object's top-level property names, to tell whether redaction leaves anything
    /// (read, and so filled, only when the object has granular markings).
    pub properties: Vec<String>,
}

/// Why the markings of an object could not be read. An object whose markings cannot be read
/// must not be released at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkingError {
    /// The value is not a JSON object or has no string `type`.
    #[error("not a STIX object with a type")]
    NotAnObject,
    /// A marking property has the wrong shape.
    #[error("property '{property}' is malformed: {why}")]
    Malformed {
        /// The property, e.g. `granular_markings.[2].selectors`.
        property: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `x_comity_handling` is malformed.
    #[error(transparent)]
    Handling(#[from] HandlingError),
}

impl MarkedObject {
    /// Reads the markings of a STIX object that `originator` shared.
    pub fn from_stix(obj: &Value, originator: MemberId) -> Result<MarkedObject, MarkingError> {
        let map = obj.as_object().ok_or(MarkingError::NotAnObject)?;
        let parts = Parts {
            object_type: map.get("type").and_then(Value::as_str).map(str::to_owned),
            created_by_ref: None,
            object_marking_refs: map.get("object_marking_refs").cloned(),
            granular_markings: map.get("granular_markings").cloned(),
            handling: map.get(super::handling::PROPERTY).cloned(),
            red_recipients: map.get(RED_RECIPIENTS).cloned(),
            properties: map.keys().map(|k| Cow::Borrowed(k.as_str())).collect(),
        };
        parts.assemble(|_| originator)
    }

    /// Reads the markings of a stored object straight from its JSON text without building
    /// the whole JSON tree: only the marking properties are parsed, other values are
    /// skipped. `originator` names the member the object comes from, given its
    /// `created_by_ref`.
    pub fn from_json(
        text: &str,
        originator: impl FnOnce(Option<&str>) -> MemberId,
    ) -> Result<MarkedObject, MarkingError> {
        let parts: Parts = serde_json::from_str(text).map_err(|_| MarkingError::NotAnObject)?;
        parts.assemble(originator)
    }

    /// The object-level TLP level: the most restrictive of `object_marking_refs` as
    /// `definitions` resolve them (a reference they cannot resolve is RED); `None` when no
    /// reference restricts.
    pub fn tlp(&self, definitions: &MarkingDefinitions) -> Option<Tlp> {
        definitions.most_restrictive(self.object_marking_refs.iter().map(String::as_str))
    }
}

/// The properties the engine reads, still unchecked.
#[derive(Default)]
struct Parts<'a> {
    object_type: Option<String>,
    created_by_ref: Option<String>,
    object_marking_refs: Option<Value>,
    granular_markings: Option<Value>,
    handling: Option<Value>,
    red_recipients: Option<Value>,
    properties: Vec<Cow<'a, str>>,
}

impl Parts<'_> {
    fn assemble(
        self,
        originator: impl FnOnce(Option<&str>) -> MemberId,
    ) -> Result<MarkedObject, MarkingError> {
        let object_type = self.object_type.ok_or(MarkingError::NotAnObject)?;
        let object_marking_refs =
            strings(self.object_marking_refs.as_ref(), "object_marking_refs")?;
        let mut granular_markings = Vec::new();
        if let Some(list) = &self.granular_markings {
            let list = list
                .as_array()
                .ok_or_else(|| malformed("granular_markings", "not a list"))?;
            for (i, g) in list.iter().enumerate() {
                let selectors_path = format!("granular_markings.[{i}].selectors");
                let selectors = strings(g.get("selectors"), &selectors_path)?;
                match g.get("marking_ref") {
                    Some(Value::String(r)) => granular_markings.push(GranularMarking {
                        selectors,
                        marking_ref: r.clone(),
                    }),
                    Some(_) => {
                        return Err(malformed(
                            &format!("granular_markings.[{i}].marking_ref"),
                            "not a string",
                        ))
                    }
                    None => {}
                }
            }
        }
        let handling = Handling::from_property(self.handling.as_ref())?;
        let red_recipients = strings(self.red_recipients.as_ref(), RED_RECIPIENTS)?
            .into_iter()
            .map(MemberId)
            .collect();
        Ok(MarkedObject {
            originator: originator(self.created_by_ref.as_deref()),
            object_type,
            object_marking_refs,
            granular_markings,
            handling,
            red_recipients,
            // Only granular markings need the property names; most objects have none.
            properties: if self.granular_markings.is_some() {
                self.properties.into_iter().map(Cow::into_owned).collect()
            } else {
                Vec::new()
            },
        })
    }
}

impl<'de> serde::Deserialize<'de> for Parts<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PartsVisitor)
    }
}

struct PartsVisitor;

/// A property name, borrowed from the text when it holds no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a property name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> serde::de::Visitor<'de> for PartsVisitor {
    type Value = Parts<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a STIX object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Parts<'de>, A::Error> {
        use serde::de::IgnoredAny;
        let mut parts = Parts::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match key.as_ref() {
                "type" => parts.object_type = map.next_value::<Option<String>>()?,
                "created_by_ref" => parts.created_by_ref = map.next_value::<Option<String>>()?,
                "object_marking_refs" => parts.object_marking_refs = Some(map.next_value()?),
                "granular_markings" => parts.granular_markings = Some(map.next_value()?),
                super::handling::PROPERTY => parts.handling = Some(map.next_value()?),
                RED_RECIPIENTS => parts.red_recipients = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            parts.properties.push(key);
        }
        Ok(parts)
    }
}

/// The custom property that names the recipients of a TLP:RED object.
pub const RED_RECIPIENTS: &str = "x_comity_red_recipients";

fn malformed(property: &str, why: &'static str) -> MarkingError {
    MarkingError::Malformed {
        property: property.to_owned(),
        why,
    }
}

/// An optional list of strings; absent is empty.
fn strings(v: Option<&Value>, property: &str) -> Result<Vec<String>, MarkingError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let list = v
        .as_array()
        .ok_or_else(|| malformed(property, "not a list"))?;
    list.iter()
        .map(|s| {
            s.as_str()
                .map(str::to_owned)
                .ok_or_else(|| malformed(property, "not a list of strings"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use comity_stix::tlp::{TLP1_AMBER, TLP1_WHITE, TLP2_CLEAR, TLP2_RED};
    use serde_json::json;

    #[test]
    fn the_most_restrictive_tlp_marking_wins_and_tlp1_maps_onto_tlp2() {
        let none = MarkingDefinitions::default();
        assert_eq!(
            none.most_restrictive([TLP2_CLEAR, TLP1_AMBER]),
            Some(Tlp::Amber)
        );
        assert_eq!(none.most_restrictive([TLP1_WHITE]), Some(Tlp::Clear));
        assert_eq!(
            none.most_restrictive([TLP2_RED, TLP2_CLEAR]),
            Some(Tlp::Red)
        );
        // A statement restricts nobody once the node holds it; until then it is unknown: RED.
        let statement = "marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f";
        assert_eq!(none.most_restrictive([statement]), Some(Tlp::Red));
        let held = MarkingDefinitions::from_json([json!({
            "type": "marking-definition", "id": statement, "definition_type": "statement",
            "definition": {"statement": "Copyright"}
        })
        .to_string()
        .as_str()]);
        assert_eq!(held.most_restrictive([statement]), None);
        assert_eq!(
            held.most_restrictive([statement, TLP1_WHITE]),
            Some(Tlp::Clear)
        );
    }

    #[test]
    fn reads_markings_handling_and_red_recipients_from_an_object() {
        let obj = json!({
            "type": "indicator",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "description": "secret",
            "object_marking_refs": [TLP1_AMBER],
            "granular_markings": [
                {"selectors": ["description"], "marking_ref": TLP2_RED},
                {"selectors": ["name"], "lang": "fr"}
            ],
            "x_comity_handling": {"codes": ["H2", "H3"], "restrictions": "not before 1 May"},
            "x_comity_red_recipients": ["identity--b"]
        });
        let m = MarkedObject::from_stix(&obj, MemberId("identity--a".into())).unwrap();
        assert_eq!(m.object_type, "indicator");
        assert_eq!(m.tlp(&MarkingDefinitions::default()), Some(Tlp::Amber));
        assert_eq!(m.granular_markings.len(), 1);
        assert_eq!(m.granular_markings[0].selectors, ["description"]);
        assert_eq!(m.handling.to_string(), "H2, H3 (not before 1 May)");
        assert_eq!(m.red_recipients, [MemberId("identity--b".into())]);
        assert!(m.properties.contains(&"description".to_owned()));
    }

    #[test]
    fn reading_from_text_agrees_with_reading_from_a_tree() {
        let obj = json!({
            "type": "indicator",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created_by_ref": "identity--c",
            "pattern": "[ipv4-addr:value = '198.51.100.1']",
            "object_marking_refs": [TLP2_RED],
            "granular_markings": [{"selectors": ["pattern"], "marking_ref": TLP1_AMBER}],
            "x_comity_handling": {"codes": ["H1"]},
            "x_comity_red_recipients": ["identity--b"]
        });
        let mut seen = None;
        let from_text = MarkedObject::from_json(&obj.to_string(), |by| {
            seen = by.map(str::to_owned);
            MemberId("identity--a".into())
        })
        .unwrap();
        assert_eq!(seen.as_deref(), Some("identity--c"));
        let mut from_tree = MarkedObject::from_stix(&obj, MemberId("identity--a".into())).unwrap();
        from_tree.properties.sort();
        let mut from_text = from_text;
        from_text.properties.sort();
        assert_eq!(from_text, from_tree);
        let escaped = r#"{"type":"indicator","x_\u0061":1,"granular_markings":[]}"#;
        let m = MarkedObject::from_json(escaped, |_| MemberId("identity--a".into())).unwrap();
        assert_eq!(m.properties, ["type", "x_a", "granular_markings"]);
        for bad in ["[1]", "{\"id\": 1}", "{\"type\": 3}", "not json"] {
            let err = MarkedObject::from_json(bad, |_| MemberId("identity--a".into()));
            assert_eq!(err, Err(MarkingError::NotAnObject), "{bad}");
        }
    }

    #[test]
    fn malformed_markings_are_refused_with_the_property_named() {
        let obj = json!({"type": "indicator", "granular_markings": [{"selectors": "description"}]});
        let err = MarkedObject::from_stix(&obj, MemberId("identity--a".into())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "property 'granular_markings.[0].selectors' is malformed: not a list"
        );
    }
}
