//! What members reported back: the sightings received in the collections "Sightings from
//! <member>", counted per sighted object and member and, when asked, per day, week or
//! month (by each sighting's `last_seen`, else `created`).

use std::collections::BTreeMap;

use comity_store::{Collection, ObjectFilter, PageRequest, Store, StoreError, VersionFilter};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{collection_id, SIGHTING};
use crate::federation::inbox::API_ROOT;

/// What arrived about one sighted object from one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seen {
    /// The sighted object's id (`sighting_of_ref`).
    pub target: String,
    /// The member that reported the sightings.
    pub member: String,
    /// How many sightings (distinct objects, newest versions) it reported.
    pub sightings: u64,
    /// The sum of their `count` properties (a sighting without one counts once).
    pub count: u64,
    /// The latest `last_seen` (else `created`) among them.
    pub last_seen: Option<String>,
    /// The same counts per time window, oldest first, when a window was asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<WindowCount>,
}

/// A time window sightings are counted in (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    /// A calendar day.
    Day,
    /// An ISO week, from Monday.
    Week,
    /// A calendar month.
    Month,
}

impl Window {
    /// The first day of the window holding `date`.
    fn start(self, date: Date) -> Date {
        match self {
            Window::Day => date,
            Window::Week => {
                let back = i64::from(date.weekday().to_monday_zero_offset());
                date.checked_sub(jiff::Span::new().days(back))
                    .unwrap_or(date)
            }
            Window::Month => date.first_of_month(),
        }
    }
}

impl std::str::FromStr for Window {
    type Err = String;

    fn from_str(s: &str) -> Result<Window, String> {
        match s {
            "day" => Ok(Window::Day),
            "week" => Ok(Window::Week),
            "month" => Ok(Window::Month),
            _ => Err(format!("{s:?} is not a window: day, week or month")),
        }
    }
}

/// The sightings of one member about one object in one window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowCount {
    /// The window's first day (`YYYY-MM-DD`), or `unknown` for sightings whose time
    /// cannot be read.
    pub start: String,
    /// How many sightings.
    pub sightings: u64,
    /// The sum of their counts.
    pub count: u64,
}

/// The collections that receive members' sightings ("Sightings from <member>").
pub async fn sighting_collections(store: &dyn Store) -> Result<Vec<Collection>, StoreError> {
    Ok(store
        .collections(API_ROOT)
        .await?
        .into_iter()
        .filter(|c| {
            c.origin
                .as_deref()
                .is_some_and(|o| c.id == collection_id(o))
        })
        .collect())
}

/// The sightings received in `collections` (see [`sighting_collections`]), per sighted
/// object and member, ordered by object then member, with per-`window` counts when one is
/// given; only those of `target` when given, and only the sightings `keep` (given the
/// collection and the sighting's JSON) lets count.
pub async fn received(
    store: &dyn Store,
    collections: &[Collection],
    target: Option<&str>,
    window: Option<Window>,
    keep: impl Fn(&Collection, &str) -> bool,
) -> Result<Vec<Seen>, StoreError> {
    #[derive(Deserialize)]
    struct Sighting {
        sighting_of_ref: String,
        count: Option<u64>,
        last_seen: Option<String>,
        created: Option<String>,
    }
    let filter = ObjectFilter {
        types: vec![SIGHTING.to_owned()],
        versions: VersionFilter::last(),
        ..ObjectFilter::default()
    };
    let mut seen: BTreeMap<(String, String), (Seen, BTreeMap<String, WindowCount>)> =
        BTreeMap::new();
    for c in collections {
        let Some(member) = c.origin.clone() else {
            continue;
        };
        let mut after = None;
        loop {
            let page = store
                .objects(&c.key(), &filter, &PageRequest { limit: 500, after })
                .await?;
            for o in &page.items {
                let Ok(s) = serde_json::from_str::<Sighting>(&o.json) else {
                    continue;
                };
                if target.is_some_and(|t| t != s.sighting_of_ref) || !keep(c, &o.json) {
                    continue;
                }
                let (entry, windows) = seen
                    .entry((s.sighting_of_ref.clone(), member.clone()))
                    .or_insert_with(|| {
                        let seen = Seen {
                            target: s.sighting_of_ref.clone(),
                            member: member.clone(),
                            sightings: 0,
                            count: 0,
                            last_seen: None,
                            windows: Vec::new(),
                        };
                        (seen, BTreeMap::new())
                    });
                let count = s.count.unwrap_or(1);
                entry.sightings += 1;
                entry.count += count;
                let at = s.last_seen.or(s.created);
                if let Some(window) = window {
                    let start = at
                        .as_deref()
                        .and_then(|t| t.parse::<Timestamp>().ok())
                        .map(|t| {
                            window
                                .start(jiff::tz::TimeZone::UTC.to_datetime(t).date())
                                .to_string()
                        })
                        .unwrap_or_else(|| "unknown".to_owned());
                    let w = windows.entry(start.clone()).or_insert(WindowCount {
                        start,
                        sightings: 0,
                        count: 0,
                    });
                    w.sightings += 1;
                    w.count += count;
                }
                if at > entry.last_seen {
                    entry.last_seen = at;
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Ok(seen
        .into_values()
        .map(|(mut seen, windows)| {
            seen.windows = windows.into_values().collect();
            seen
        })
        .collect())
}
