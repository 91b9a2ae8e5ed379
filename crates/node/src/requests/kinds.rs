//! The kinds of cooperation request and the fields each must carry, every field named with
//! the article of the instrument it comes from, so a refusal for a missing field tells the
//! officer what the other side is entitled to expect:
//!
//! - the Council of Europe Convention on Cybercrime (Budapest, ETS 185): art. 29
//!   (expedited preservation), art. 30 (expedited disclosure of preserved traffic data),
//!   art. 31 and its request template T-CY(2018)10 (the common fields), art. 35 (the 24/7
//!   network);
//! - Regulation (EU) 2023/1543 on European Production and Preservation Orders (e-Evidence):
//!   art. 3 (data categories), art. 10 (production: 10 days, 8 hours in an emergency),
//!   art. 11 (preservation: 60 days);
//! - the UN Model Treaty on Mutual Assistance in Criminal Matters (A/RES/45/117), art. 5
//!   (contents of requests).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kinds of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// Police to police or CERT to CERT help on an incident, on the 24/7 channel
    /// (Budapest art. 35).
    Assistance,
    /// Expedited preservation of stored data (Budapest art. 29; e-Evidence art. 11).
    Preservation,
    /// Expedited disclosure of preserved traffic data (Budapest art. 30).
    Disclosure,
    /// Production of data from a service provider (e-Evidence art. 10).
    Production,
    /// Mutual legal assistance (UN Model Treaty art. 5; Budapest art. 31).
    Mla,
}

impl RequestKind {
    /// Every kind.
    pub const ALL: [RequestKind; 5] = [
        RequestKind::Assistance,
        RequestKind::Preservation,
        RequestKind::Disclosure,
        RequestKind::Production,
        RequestKind::Mla,
    ];

    /// The kind as written.
    pub const fn as_str(self) -> &'static str {
        match self {
            RequestKind::Assistance => "assistance",
            RequestKind::Preservation => "preservation",
            RequestKind::Disclosure => "disclosure",
            RequestKind::Production => "production",
            RequestKind::Mla => "mla",
        }
    }

    /// How long the requested side has to answer by default, in seconds, counted from its
    /// signed acknowledgement: the instruments' figures where they give one, otherwise
    /// Comity's defaults (documented in the README); a node may set its own
    /// ([`ResponseTimes`]).
    pub const fn response_seconds(self, emergency: bool) -> i64 {
        const HOUR: i64 = 3600;
        const DAY: i64 = 24 * HOUR;
        match (self, emergency) {
            // The 24/7 network exists for immediate assistance (Budapest art. 35).
            (RequestKind::Assistance, false) => 3 * DAY,
            (RequestKind::Assistance, true) => 4 * HOUR,
            // Preservation is expedited by nature (Budapest art. 29(3): "expeditiously").
            (RequestKind::Preservation, false) => 2 * DAY,
            (RequestKind::Preservation, true) => 8 * HOUR,
            (RequestKind::Disclosure, false) => 5 * DAY,
            (RequestKind::Disclosure, true) => DAY,
            // e-Evidence art. 10(2) and 10(4).
            (RequestKind::Production, false) => 10 * DAY,
            (RequestKind::Production, true) => 8 * HOUR,
            (RequestKind::Mla, false) => 90 * DAY,
            (RequestKind::Mla, true) => 7 * DAY,
        }
    }
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RequestKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RequestKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown request kind {s:?}: expected assistance, preservation, disclosure, production or mla")
            })
    }
}

/// How long this node, as the requested side, gives itself to answer each kind of request:
/// the defaults of [`RequestKind::response_seconds`] unless the node's settings say
/// otherwise (`[requests] response_hours` in `comity.toml`). The deadline it sets goes into
/// its signed acknowledgement, so both members hold the same one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseTimes {
    overrides: std::collections::BTreeMap<(RequestKind, bool), i64>,
}

impl ResponseTimes {
    /// The longest response time a node may set: a year.
    pub const MAX_SECONDS: i64 = 366 * 86_400;

    /// Sets the response time for `kind` (in an emergency or not) to `seconds`; refused
    /// when not between one minute and [`Self::MAX_SECONDS`].
    pub fn set(&mut self, kind: RequestKind, emergency: bool, seconds: i64) -> Result<(), String> {
        if !(60..=Self::MAX_SECONDS).contains(&seconds) {
            return Err(format!(
                "the response time for {kind}{} must be between one minute and 366 days",
                if emergency { " in an emergency" } else { "" }
            ));
        }
        self.overrides.insert((kind, emergency), seconds);
        Ok(())
    }

    /// The response time for `kind`, in seconds.
    pub fn seconds(&self, kind: RequestKind, emergency: bool) -> i64 {
        self.overrides
            .get(&(kind, emergency))
            .copied()
            .unwrap_or_else(|| kind.response_seconds(emergency))
    }
}

/// The shortest preservation period (Budapest art. 29(7); e-Evidence art. 11(1)).
pub const MIN_PRESERVATION_DAYS: i64 = 60;

/// A field a request must carry, with where the obligation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Its path in the request document, dotted (`authority.time_zone`).
    pub path: &'static str,
    /// The article that asks for it.
    pub source: &'static str,
}

const fn field(path: &'static str, source: &'static str) -> Field {
    Field { path, source }
}

const TEMPLATE: &str = "Budapest Convention art. 31, request template T-CY(2018)10";

/// Fields every request carries.
pub const COMMON: &[Field] = &[
    field("authority.name", TEMPLATE),
    field("authority.contact", TEMPLATE),
    field("authority.time_zone", TEMPLATE),
    field("legal_basis.instrument", TEMPLATE),
    field("summary", TEMPLATE),
];

const ART35: &str = "Budapest Convention art. 35(1)";
const ART29B: &str = "Budapest Convention art. 29(2)(b)";
const ART29C: &str = "Budapest Convention art. 29(2)(c)";
const ART30: &str = "Budapest Convention art. 30(1)";
const EEV3: &str = "Regulation (EU) 2023/1543 art. 3(9)-(12)";
const EEV10: &str = "Regulation (EU) 2023/1543 art. 10";
const UN5A: &str = "UN Model Treaty on Mutual Assistance art. 5(1)(a)";
const UN5B: &str = "UN Model Treaty on Mutual Assistance art. 5(1)(b)";
const UN5C: &str = "UN Model Treaty on Mutual Assistance art. 5(1)(c)";

const ASSISTANCE: &[Field] = &[
    field("details.incident", ART35),
    field("details.help_sought", ART35),
];
const PRESERVATION: &[Field] = &[
    field("offence", ART29B),
    field("details.data", ART29C),
    field("details.relation_to_offence", ART29C),
    field("details.custodian", "Budapest Convention art. 29(2)(d)"),
    field("details.necessity", "Budapest Convention art. 29(2)(e)"),
    field("details.mla_to_follow", "Budapest Convention art. 29(2)(f)"),
];
const DISCLOSURE: &[Field] = &[
    field("offence", ART30),
    field("details.preservation", ART30),
    field("details.communication", ART30),
];
const PRODUCTION: &[Field] = &[
    field("offence", EEV10),
    field("details.categories", EEV3),
    field("details.time_range.from", EEV10),
    field("details.time_range.to", EEV10),
    field("details.time_range.time_zone", EEV10),
    field("details.addressee", EEV10),
];
const MLA: &[Field] = &[
    field("details.purpose", UN5B),
    field("details.assistance_sought", UN5B),
    field("offence", UN5C),
    field("details.laws", UN5C),
    field("details.proceedings", UN5A),
];

/// The fields a request of `kind` carries beyond [`COMMON`].
pub fn required(kind: RequestKind) -> &'static [Field] {
    match kind {
        RequestKind::Assistance => ASSISTANCE,
        RequestKind::Preservation => PRESERVATION,
        RequestKind::Disclosure => DISCLOSURE,
        RequestKind::Production => PRODUCTION,
        RequestKind::Mla => MLA,
    }
}

/// The data categories of a production (e-Evidence art. 3(9)–(12)).
pub const DATA_CATEGORIES: &[&str] = &["subscriber", "ip_for_identification", "traffic", "content"];

/// Why a refusal was given: a fixed dictionary, so both sides and the statistics read the
/// same reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// Sovereignty, security, ordre public or other essential interests.
    EssentialInterests,
    /// A political offence, or one connected with it.
    PoliticalOffence,
    /// Dual criminality is required and not met.
    DualCriminality,
    /// Immunities or privileges.
    Immunity,
    /// Fundamental rights would be infringed.
    FundamentalRights,
    /// Ne bis in idem.
    NeBisInIdem,
    /// The request is incomplete or manifestly wrong.
    Incomplete,
    /// The data are not stored, or no longer held.
    DataNotHeld,
    /// Execution is impossible de facto.
    Impossible,
    /// Another reason, given in the text.
    Other,
}

impl RefusalReason {
    /// Every reason, as written.
    pub const ALL: &'static [&'static str] = &[
        "essential_interests",
        "political_offence",
        "dual_criminality",
        "immunity",
        "fundamental_rights",
        "ne_bis_in_idem",
        "incomplete",
        "data_not_held",
        "impossible",
        "other",
    ];
}

/// The missing or malformed fields of `document` for a `kind` request, each with its
/// source; empty when it is complete. Only presence and shape are judged here: a field is
/// present when it holds a non-blank string, a non-empty list or object, a number or a
/// boolean.
pub fn missing(kind: RequestKind, document: &Value) -> Vec<Field> {
    COMMON
        .iter()
        .chain(required(kind))
        .filter(|f| !present(lookup(document, f.path)))
        .copied()
        .collect()
}

fn lookup<'v>(document: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(document, |v, key| v.get(key))
}

fn present(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Bool(_) | Value::Number(_)) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn common() -> Value {
        json!({
            "authority": {"name": "Cyber unit", "contact": "+33 1 00", "time_zone": "Europe/Paris"},
            "legal_basis": {"instrument": "Budapest Convention", "article": "29"},
            "summary": "Ransomware against hospitals",
        })
    }

    #[test]
    fn a_complete_preservation_misses_nothing() {
        let mut doc = common();
        doc["offence"] = json!("art. 323-1 code pénal");
        doc["details"] = json!({
            "data": "logs", "relation_to_offence": "C2", "custodian": "ACME hosting",
            "necessity": "rotation in 7 days", "mla_to_follow": true,
        });
        assert_eq!(missing(RequestKind::Preservation, &doc), vec![]);
    }

    #[test]
    fn every_missing_field_is_named_with_its_article() {
        let mut doc = common();
        doc["authority"]["time_zone"] = json!("   ");
        doc["details"] = json!({"data": "logs", "custodian": [], "necessity": null});
        let gaps: Vec<String> = missing(RequestKind::Preservation, &doc)
            .iter()
            .map(|f| format!("{} ({})", f.path, f.source))
            .collect();
        assert_eq!(
            gaps,
            [
                "authority.time_zone (Budapest Convention art. 31, request template T-CY(2018)10)",
                "offence (Budapest Convention art. 29(2)(b))",
                "details.relation_to_offence (Budapest Convention art. 29(2)(c))",
                "details.custodian (Budapest Convention art. 29(2)(d))",
                "details.necessity (Budapest Convention art. 29(2)(e))",
                "details.mla_to_follow (Budapest Convention art. 29(2)(f))",
            ]
        );
    }

    #[test]
    fn each_kind_asks_for_its_own_fields() {
        let doc = common();
        for kind in RequestKind::ALL {
            let gaps = missing(kind, &doc);
            assert_eq!(gaps.len(), required(kind).len(), "{kind}");
            assert_eq!(kind.as_str().parse::<RequestKind>(), Ok(kind));
            assert!(kind.response_seconds(true) < kind.response_seconds(false));
        }
        assert!("MLA".parse::<RequestKind>().is_err());
        // e-Evidence art. 10: ten days, eight hours in an emergency.
        assert_eq!(RequestKind::Production.response_seconds(false), 10 * 86_400);
        assert_eq!(RequestKind::Production.response_seconds(true), 8 * 3600);
    }
}
