//! Feed subscriptions as the store keeps them: what an admin subscribed to (a
//! [`FeedRecord`]), where its last run left off (a [`FeedState`]) and, for list feeds, the
//! values the last run saw (so that a value gone from the list can be revoked). The store
//! never interprets a feed's kind, settings or cursor: the node crate owns their vocabulary.

/// A subscription, as the admin made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRecord {
    /// The feed's name, unique on the node.
    pub name: String,
    /// Its kind (`taxii`, `list`, …), as the node writes it.
    pub kind: String,
    /// Where it is read from.
    pub url: String,
    /// The API root of the collection it fills.
    pub api_root: String,
    /// The collection it fills.
    pub collection: String,
    /// Seconds between two runs.
    pub interval_secs: u64,
    /// The kind's settings (markings, validity, …) as JSON text.
    pub settings: String,
    /// The credential sent to the source, if any: stored, never listed.
    pub secret: Option<String>,
    /// When it was added, microseconds since the Unix epoch.
    pub created_at: i64,
}

/// Where a feed's runs left off, and their figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedState {
    /// Where the next run resumes (a TAXII `added_after`, a list's content hash, …).
    pub cursor: Option<String>,
    /// When the last run ended, microseconds.
    pub last_run: Option<i64>,
    /// Why the last run failed; `None` after a success.
    pub last_error: Option<String>,
    /// Runs failed in a row since the last success.
    pub failures: u64,
    /// When the next run is due, microseconds.
    pub next_run: i64,
    /// Runs ended, successful or not.
    pub runs: u64,
    /// Runs failed, in all.
    pub failed_runs: u64,
    /// Objects stored by all runs.
    pub objects: u64,
}

/// A subscription with its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// The subscription.
    pub record: FeedRecord,
    /// Where its runs left off.
    pub state: FeedState,
}

/// One value a list feed's last run saw, with the `created` time of its indicator (a
/// revocation is a new version of that indicator, so it keeps its `created`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedValue {
    /// The value as the node normalised it.
    pub value: String,
    /// The `created` timestamp of its indicator.
    pub created: String,
}
