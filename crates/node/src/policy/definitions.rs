//! What a marking reference means to this node, failing closed: the standard TLP ids (TLP
//! 1.0 mapped onto 2.0, the UUID compared whatever its case) are their level; a reference to
//! a marking definition the node holds means what that definition says (a statement, such
//! as ATT&CK's copyright, restricts nobody); anything else — an unknown id, a definition
//! the node cannot interpret, a malformed id — is TLP:RED.

use std::collections::HashMap;

use comity_stix::tlp::{canonical_marking_ref, tlp_of_marking_ref, Tlp, TLP2_EXTENSION};
use serde_json::Value;

/// The marking definitions this node holds (by id, UUID in lower case), each with the level
/// it stands for: `None` for a statement, which restricts nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarkingDefinitions {
    held: HashMap<String, Option<Tlp>>,
}

impl MarkingDefinitions {
    /// The definitions among stored JSON texts; texts that are not marking definitions
    /// with an identifier are skipped.
    pub fn from_json<'a>(texts: impl IntoIterator<Item = &'a str>) -> MarkingDefinitions {
        let mut definitions = MarkingDefinitions::default();
        definitions.hold_json(texts);
        definitions
    }

    /// Adds the definitions among JSON texts, as [`MarkingDefinitions::from_json`] reads them.
    pub fn hold_json<'a>(&mut self, texts: impl IntoIterator<Item = &'a str>) {
        for text in texts {
            if let Ok(value) = serde_json::from_str::<Value>(text) {
                self.hold(&value);
            }
        }
    }

    /// Adds one marking definition. Two definitions held under one id mean the more
    /// restrictive of the two.
    pub fn hold(&mut self, definition: &Value) {
        if definition.get("type").and_then(Value::as_str) != Some("marking-definition") {
            return;
        }
        let Some(id) = definition
            .get("id")
            .and_then(Value::as_str)
            .and_then(canonical_marking_ref)
        else {
            return;
        };
        let meaning = meaning(definition);
        let entry = self.held.entry(id.into_owned()).or_insert(meaning);
        *entry = (*entry).max(meaning);
    }

    /// The level `marking_ref` stands for; `None` when it restricts nobody (a statement
    /// this node holds). Unresolvable references are [`Tlp::Red`].
    pub fn level(&self, marking_ref: &str) -> Option<Tlp> {
        if let Some(level) = tlp_of_marking_ref(marking_ref) {
            return Some(level);
        }
        match canonical_marking_ref(marking_ref) {
            Some(id) => self
                .held
                .get(id.as_ref())
                .copied()
                .unwrap_or(Some(Tlp::Red)),
            None => Some(Tlp::Red),
        }
    }

    /// The most restrictive level among `marking_refs`, or `None` when none restricts.
    pub fn most_restrictive<'a>(
        &self,
        marking_refs: impl IntoIterator<Item = &'a str>,
    ) -> Option<Tlp> {
        marking_refs.into_iter().filter_map(|r| self.level(r)).max()
    }
}

/// What one held definition means: a plain statement restricts nobody, a TLP definition
/// (2.0 extension or 1.0 `tlp`) is its level, and anything else is RED.
fn meaning(definition: &Value) -> Option<Tlp> {
    let definition_type = definition.get("definition_type").and_then(Value::as_str);
    let extensions = definition.get("extensions").and_then(Value::as_object);
    let tlp2 = extensions
        .and_then(|e| e.get(TLP2_EXTENSION))
        .and_then(|e| e.get("tlp_2_0"))
        .and_then(Value::as_str);
    match (definition_type, extensions, tlp2) {
        (Some("statement"), None, None)
            if definition
                .pointer("/definition/statement")
                .is_some_and(Value::is_string) =>
        {
            None
        }
        (Some("tlp"), None, None) => Some(
            definition
                .pointer("/definition/tlp")
                .and_then(Value::as_str)
                .and_then(Tlp::from_tlp1_value)
                .unwrap_or(Tlp::Red),
        ),
        (None, Some(e), Some(level)) if e.len() == 1 => {
            Some(Tlp::from_extension_value(level).unwrap_or(Tlp::Red))
        }
        _ => Some(Tlp::Red),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use comity_stix::tlp::{TLP2_GREEN, TLP2_RED};
    use serde_json::json;

    const STATEMENT: &str = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168";
    const CUSTOM: &str = "marking-definition--0d1b4b5f-7c4e-4b5e-9e3a-2c1f0a9b8c7d";

    fn statement(id: &str) -> Value {
        json!({"type": "marking-definition", "spec_version": "2.1", "id": id,
               "created": "2017-06-01T00:00:00.000Z", "definition_type": "statement",
               "definition": {"statement": "Copyright 2015-2025, The MITRE Corporation."}})
    }

    #[test]
    fn standard_ids_are_their_level_in_any_case() {
        let none = MarkingDefinitions::default();
        assert_eq!(none.level(TLP2_GREEN), Some(Tlp::Green));
        assert_eq!(none.level(&TLP2_RED.to_ascii_uppercase()), Some(Tlp::Red));
        assert_eq!(
            none.level("marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1"),
            Some(Tlp::Red)
        );
    }

    #[test]
    fn a_held_statement_restricts_nobody_in_any_case() {
        let held = MarkingDefinitions::from_json([statement(STATEMENT).to_string().as_str()]);
        assert_eq!(held.level(STATEMENT), None);
        assert_eq!(
            held.level("marking-definition--FA42A846-8D90-4E51-BC29-71D5B4802168"),
            None
        );
        assert_eq!(
            held.most_restrictive([STATEMENT, TLP2_GREEN]),
            Some(Tlp::Green)
        );
        assert_eq!(held.most_restrictive([STATEMENT]), None);
    }

    #[test]
    fn unknown_unreadable_and_malformed_references_are_red() {
        let held = MarkingDefinitions::from_json([statement(STATEMENT).to_string().as_str()]);
        let pap = json!({"type": "marking-definition", "spec_version": "2.1", "id": CUSTOM,
                         "created": "2022-01-01T00:00:00.000Z", "name": "PAP:GREEN",
                         "extensions": {"extension-definition--f8d78575-edfd-406e-8e84-6162a8450f5b":
                                        {"extension_type": "property-extension", "pap": "green"}}});
        let mut with_pap = held.clone();
        with_pap.hold(&pap);
        for r in [
            CUSTOM,
            " marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168",
            "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168 ",
            "identity--fa42a846-8d90-4e51-bc29-71d5b4802168",
            "marking-definition--not-a-uuid",
            "",
        ] {
            assert_eq!(held.level(r), Some(Tlp::Red), "{r:?}");
            assert_eq!(held.most_restrictive([TLP2_GREEN, r]), Some(Tlp::Red));
        }
        assert_eq!(with_pap.level(CUSTOM), Some(Tlp::Red), "uninterpretable");
    }

    #[test]
    fn custom_tlp_definitions_and_conflicts_take_the_more_restrictive_meaning() {
        let amber = json!({"type": "marking-definition", "spec_version": "2.1", "id": CUSTOM,
                           "created": "2022-01-01T00:00:00.000Z", "name": "TLP:AMBER",
                           "extensions": {TLP2_EXTENSION: {"tlp_2_0": "amber"}}});
        let mut held = MarkingDefinitions::default();
        held.hold(&amber);
        assert_eq!(held.level(CUSTOM), Some(Tlp::Amber));
        // A statement under the same id does not lift the restriction.
        held.hold(&statement(CUSTOM));
        assert_eq!(held.level(CUSTOM), Some(Tlp::Amber));
        let mut reversed = MarkingDefinitions::default();
        reversed.hold(&statement(CUSTOM));
        reversed.hold(&amber);
        assert_eq!(reversed.level(CUSTOM), Some(Tlp::Amber));
        // A statement that also carries an extension cannot be read: RED.
        let mut extended = statement(STATEMENT);
        extended["extensions"] =
            json!({"extension-definition--1d4bd6e8-0c54-4b6e-9c17-0b5e3c1c1e6b": {}});
        let mut held = MarkingDefinitions::default();
        held.hold(&extended);
        assert_eq!(held.level(STATEMENT), Some(Tlp::Red));
    }
}
