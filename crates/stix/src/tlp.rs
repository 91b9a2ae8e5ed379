//! Traffic Light Protocol markings: the TLP 2.0 marking definitions (defined through the
//! extension-definition `TLP2_EXTENSION`) and the STIX 2.1 TLP 1.0 definitions, mapped onto TLP 2.0.

use std::borrow::Cow;
use std::fmt;

/// The extension-definition that TLP 2.0 marking definitions use.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";
/// TLP 2.0 CLEAR marking definition id.
pub const TLP2_CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
/// TLP 2.0 GREEN marking definition id.
pub const TLP2_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
/// TLP 2.0 AMBER marking definition id.
pub const TLP2_AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
/// TLP 2.0 AMBER+STRICT marking definition id.
pub const TLP2_AMBER_STRICT: &str = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
/// TLP 2.0 RED marking definition id.
pub const TLP2_RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
/// TLP 1.0 WHITE marking definition id (STIX 2.1 section 7.2.1.4).
pub const TLP1_WHITE: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
/// TLP 1.0 GREEN marking definition id.
pub const TLP1_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
/// TLP 1.0 AMBER marking definition id.
pub const TLP1_AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
/// TLP 1.0 RED marking definition id.
pub const TLP1_RED: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
/// The `created` timestamp every TLP 1.0 marking definition carries.
pub const TLP1_CREATED: &str = "2017-01-20T00:00:00.000Z";

/// A TLP 2.0 level; TLP 1.0 levels map onto these (WHITE becomes CLEAR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tlp {
    /// TLP:CLEAR (TLP 1.0 WHITE): disclosure is not limited.
    Clear,
    /// TLP:GREEN: limited disclosure, the community.
    Green,
    /// TLP:AMBER: limited disclosure, the recipient's organisation and its clients.
    Amber,
    /// TLP:AMBER+STRICT: limited disclosure, the recipient's organisation only.
    AmberStrict,
    /// TLP:RED: for the eyes and ears of individual recipients only.
    Red,
}

impl Tlp {
    /// All levels, from least to most restrictive.
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The TLP 2.0 marking-definition id of this level.
    pub fn marking_ref(self) -> &'static str {
        match self {
            Tlp::Clear => TLP2_CLEAR,
            Tlp::Green => TLP2_GREEN,
            Tlp::Amber => TLP2_AMBER,
            Tlp::AmberStrict => TLP2_AMBER_STRICT,
            Tlp::Red => TLP2_RED,
        }
    }

    /// The value of the `tlp_2_0` property in the TLP 2.0 extension, e.g. `amber+strict`.
    pub fn extension_value(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// Parses a `tlp_2_0` extension value.
    pub fn from_extension_value(s: &str) -> Option<Tlp> {
        Tlp::ALL.into_iter().find(|t| t.extension_value() == s)
    }

    /// Parses a TLP 1.0 `definition.tlp` value (`white`, `green`, `amber`, `red`).
    pub fn from_tlp1_value(s: &str) -> Option<Tlp> {
        match s {
            "white" => Some(Tlp::Clear),
            "green" => Some(Tlp::Green),
            "amber" => Some(Tlp::Amber),
            "red" => Some(Tlp::Red),
            _ => None,
        }
    }

    /// The TLP 1.0 marking-definition id of this level, if TLP 1.0 had one.
    pub fn tlp1_marking_ref(self) -> Option<&'static str> {
        match self {
            Tlp::Clear => Some(TLP1_WHITE),
            Tlp::Green => Some(TLP1_GREEN),
            Tlp::Amber => Some(TLP1_AMBER),
            Tlp::AmberStrict => None,
            Tlp::Red => Some(TLP1_RED),
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLP:{}", self.extension_value().to_ascii_uppercase())
    }
}

/// The TLP level a marking reference stands for, TLP 1.0 ids mapped to their 2.0 equivalents.
/// The UUID part is compared as the spec compares UUIDs, whatever the case of its hex digits.
pub fn tlp_of_marking_ref(marking_ref: &str) -> Option<Tlp> {
    let is = |t: Tlp, id: &str| t.marking_ref() == id || t.tlp1_marking_ref() == Some(id);
    if let Some(t) = Tlp::ALL.into_iter().find(|t| is(*t, marking_ref)) {
        return Some(t);
    }
    let id = canonical_marking_ref(marking_ref)?;
    Tlp::ALL.into_iter().find(|t| is(*t, &id))
}

/// A marking reference as one identifier: `marking-definition--` and an RFC 4122 UUID, with
/// the UUID's hex digits in lower case (borrowed when they are already). `None` when the text
/// is not such an identifier: another type, surrounding whitespace, a malformed UUID.
pub fn canonical_marking_ref(marking_ref: &str) -> Option<Cow<'_, str>> {
    let (ty, uuid) = crate::id::parse_identifier(marking_ref).ok()?;
    if ty != "marking-definition" {
        return None;
    }
    if uuid.bytes().any(|b| b.is_ascii_uppercase()) {
        Some(Cow::Owned(marking_ref.to_ascii_lowercase()))
    } else {
        Some(Cow::Borrowed(marking_ref))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_tlp1_ids_onto_tlp2_levels() {
        assert_eq!(tlp_of_marking_ref(TLP1_WHITE), Some(Tlp::Clear));
        assert_eq!(tlp_of_marking_ref(TLP1_AMBER), Some(Tlp::Amber));
        assert_eq!(
            tlp_of_marking_ref(TLP2_AMBER_STRICT),
            Some(Tlp::AmberStrict)
        );
        assert_eq!(
            tlp_of_marking_ref("marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f"),
            None
        );
    }

    #[test]
    fn compares_the_uuid_part_whatever_its_case() {
        let red = "marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1";
        assert_eq!(tlp_of_marking_ref(red), Some(Tlp::Red));
        assert_eq!(canonical_marking_ref(red).as_deref(), Some(TLP2_RED));
        assert_eq!(
            tlp_of_marking_ref("marking-definition--5E57C739-391A-4EB3-B6BE-7D15CA92D5ED"),
            Some(Tlp::Red)
        );
        for not_an_id in [
            " marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
            "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\n",
            "MARKING-DEFINITION--e828b379-4e03-4974-9ac4-e53a884c97c1",
            "identity--e828b379-4e03-4974-9ac4-e53a884c97c1",
            "marking-definition--e828b3794e0349749ac4e53a884c97c1",
            "marking-definition--red",
        ] {
            assert_eq!(tlp_of_marking_ref(not_an_id), None, "{not_an_id:?}");
            assert_eq!(canonical_marking_ref(not_an_id), None, "{not_an_id:?}");
        }
    }

    #[test]
    fn names_and_extension_values_round_trip() {
        for t in Tlp::ALL {
            assert_eq!(Tlp::from_extension_value(t.extension_value()), Some(t));
        }
        assert_eq!(Tlp::AmberStrict.to_string(), "TLP:AMBER+STRICT");
        assert_eq!(Tlp::from_tlp1_value("white"), Some(Tlp::Clear));
    }
}
