//! Feed subscriptions: an admin subscribes a plain collection to a source (a TAXII 2.1 or
//! 2.0 collection of another server, a plain list of indicators, or a MISP feed), and every
//! run brings what is new into the collection through the node's one write path
//! ([`crate::objects::add`] after [`crate::intake::examine`]), exactly as a TAXII POST
//! would. Runs are incremental and resumable: the cursor is saved after each page, a
//! failure is recorded on the feed and retried with exponential backoff. This module owns
//! the vocabulary of feeds (kinds, settings, cursors); it never reads a source itself (that
//! is [`Fetch`], implemented by the server) and never lists a feed's credential.

pub mod list;
mod misp;
pub mod source;
mod stix20;
mod taxii;
mod taxii20;

use std::collections::BTreeMap;
use std::str::FromStr;

use comity_stix::clock::{format_us, now_us};
use comity_stix::tlp::{tlp_of_marking_ref, Tlp};
use comity_store::{Collection, FeedRecord, FeedState, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::intake;
use crate::node::Node;
use crate::objects;
pub use source::{Credential, Fetch, FetchRequest, Fetched};

/// The shortest interval between two runs of a feed, in seconds.
pub const MIN_INTERVAL_SECS: u64 = 60;
/// The longest interval between two runs of a feed, in seconds (30 days).
pub const MAX_INTERVAL_SECS: u64 = 30 * 86_400;
/// The interval of a feed added without one, in seconds.
pub const DEFAULT_INTERVAL_SECS: u64 = 3_600;
/// The first retry after a failure comes this many seconds later; each further failure
/// doubles it, up to [`MAX_RETRY_SECS`] (and never beyond the feed's interval).
pub const FIRST_RETRY_SECS: u64 = 30;
/// The longest wait before a retry, in seconds.
pub const MAX_RETRY_SECS: u64 = 6 * 3_600;

/// What a feed reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    /// A TAXII 2.1 collection of another server (`…/collections/{id}/`).
    Taxii,
    /// A TAXII 2.0 collection of another server (`…/collections/{id}/`): STIX 2.0 bundles
    /// paged with `Range: items`, converted to STIX 2.1 before they are stored.
    Taxii20,
    /// A plain list (one value a line) or a CSV file with a chosen column.
    List,
    /// A MISP feed (`manifest.json` and one `{uuid}.json` a MISP event), converted to
    /// STIX 2.1 by [`crate::misp`].
    Misp,
}

impl FeedKind {
    /// Its name, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Taxii => "taxii",
            FeedKind::Taxii20 => "taxii20",
            FeedKind::List => "list",
            FeedKind::Misp => "misp",
        }
    }
}

impl FromStr for FeedKind {
    type Err = FeedError;
    fn from_str(s: &str) -> Result<FeedKind, FeedError> {
        match s {
            "taxii" => Ok(FeedKind::Taxii),
            "taxii20" => Ok(FeedKind::Taxii20),
            "list" => Ok(FeedKind::List),
            "misp" => Ok(FeedKind::Misp),
            other => Err(FeedError::Invalid(format!(
                "kind: unknown feed kind {other:?} (taxii, taxii20, list or misp)"
            ))),
        }
    }
}

impl std::fmt::Display for FeedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a feed operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The subscription asked for is not acceptable: which field, and why.
    #[error("{0}")]
    Invalid(String),
    /// No feed has that name.
    #[error("no feed named {0:?}")]
    NotFound(String),
    /// A feed of that name exists.
    #[error("a feed named {0:?} exists already")]
    Exists(String),
    /// The feed is being run by this process already.
    #[error("feed {0:?} is running already")]
    Busy(String),
    /// A run failed (recorded on the feed, which is retried later).
    #[error("feed {name:?} failed: {reason}")]
    Failed {
        /// The feed.
        name: String,
        /// Why, without any credential.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A subscription as an admin asks for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFeed {
    /// Its name: 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit.
    pub name: String,
    /// What it reads.
    pub kind: FeedKind,
    /// Where: `https`, or `http` to loopback (or anywhere with `allow_http`).
    pub url: String,
    /// The API root of the collection it fills.
    pub api_root: String,
    /// The plain collection it fills.
    pub collection: String,
    /// Seconds between runs.
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// Markings given to objects that carry none (TLP 2.0 names or ids); list indicators
    /// all carry them.
    #[serde(default)]
    pub markings: Vec<String>,
    /// List feeds: days an indicator is valid from its creation.
    #[serde(default)]
    pub valid_days: Option<u32>,
    /// List feeds: the confidence (0 to 100) of every indicator.
    #[serde(default)]
    pub confidence: Option<u8>,
    /// List feeds: read CSV lines, taking this column (from 1).
    #[serde(default)]
    pub column: Option<usize>,
    /// TAXII feeds: objects asked for per page (1 to 10000; 1000 when not given).
    #[serde(default)]
    pub page_size: Option<usize>,
    /// The credential sent to the source.
    #[serde(default)]
    pub credential: Option<Credential>,
    /// Allows plain `http` off loopback.
    #[serde(default)]
    pub allow_http: bool,
}

fn default_interval() -> u64 {
    DEFAULT_INTERVAL_SECS
}

/// What a feed's kind needs, stored with it as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    markings: Vec<String>,
    valid_days: Option<u32>,
    confidence: Option<u8>,
    column: Option<usize>,
    #[serde(default)]
    page_size: Option<usize>,
    allow_http: bool,
}

/// A feed as `feed list` and `GET /api/v1/feeds` show it: never its credential.
#[derive(Debug, Clone, Serialize)]
pub struct FeedView {
    /// Its name.
    pub name: String,
    /// What it reads.
    pub kind: String,
    /// Where.
    pub url: String,
    /// The API root of the collection it fills.
    pub api_root: String,
    /// The collection it fills.
    pub collection: String,
    /// Seconds between runs.
    pub interval_secs: u64,
    /// Markings given to unmarked objects.
    pub markings: Vec<String>,
    /// List feeds: days of validity.
    pub valid_days: Option<u32>,
    /// List feeds: confidence.
    pub confidence: Option<u8>,
    /// List feeds: the CSV column read.
    pub column: Option<usize>,
    /// TAXII feeds: objects asked for per page.
    pub page_size: Option<usize>,
    /// Whether a credential is sent (never which).
    pub authenticated: bool,
    /// Where the next run resumes.
    pub cursor: Option<String>,
    /// When the last run ended.
    pub last_run: Option<String>,
    /// Why the last run failed, if it did.
    pub last_error: Option<String>,
    /// Failures in a row.
    pub failures: u64,
    /// When the next run is due.
    pub next_run: String,
    /// Runs in all.
    pub runs: u64,
    /// Failed runs in all.
    pub failed_runs: u64,
    /// Objects stored by all runs.
    pub objects: u64,
}

impl FeedView {
    fn of(feed: comity_store::Feed) -> FeedView {
        let settings: Settings = serde_json::from_str(&feed.record.settings).unwrap_or_default();
        let (r, s) = (feed.record, feed.state);
        FeedView {
            name: r.name,
            kind: r.kind,
            url: r.url,
            api_root: r.api_root,
            collection: r.collection,
            interval_secs: r.interval_secs,
            markings: settings.markings,
            valid_days: settings.valid_days,
            confidence: settings.confidence,
            column: settings.column,
            page_size: settings.page_size,
            authenticated: r.secret.is_some(),
            cursor: s.cursor,
            last_run: s.last_run.map(format_us),
            last_error: s.last_error,
            failures: s.failures,
            next_run: format_us(s.next_run),
            runs: s.runs,
            failed_runs: s.failed_runs,
            objects: s.objects,
        }
    }
}

fn invalid(what: impl Into<String>) -> FeedError {
    FeedError::Invalid(what.into())
}

fn check_name(name: &str) -> Result<(), FeedError> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    match ok {
        true => Ok(()),
        false => Err(invalid(format!(
            "name: {name:?} must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        ))),
    }
}

/// The TLP 2.0 marking-definition id of each of `markings` (names such as `amber` or
/// `TLP:AMBER+STRICT`, or TLP 1.0 / 2.0 ids); at most one.
fn resolve_markings(markings: &[String]) -> Result<Vec<String>, FeedError> {
    let resolved = markings
        .iter()
        .map(|m| {
            let lower = m.trim().to_ascii_lowercase();
            let name = lower.strip_prefix("tlp:").unwrap_or(&lower);
            tlp_of_marking_ref(m)
                .or_else(|| Tlp::from_extension_value(name))
                .map(|t| t.marking_ref().to_owned())
                .ok_or_else(|| {
                    invalid(format!(
                        "markings: {m:?} is not a TLP marking (clear, green, amber, amber+strict, red, or a TLP marking-definition id)"
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if resolved.len() > 1 {
        return Err(invalid("markings: give one TLP marking"));
    }
    Ok(resolved)
}

/// The plain collection a feed fills.
async fn plain_collection(node: &Node, api_root: &str, id: &str) -> Result<Collection, FeedError> {
    let collection = node
        .store()
        .collection(api_root, id)
        .await?
        .ok_or_else(|| {
            invalid(format!(
                "collection: no collection {id:?} in API root {api_root:?}"
            ))
        })?;
    if collection.view.is_some() || collection.origin.is_some() {
        return Err(invalid(format!(
            "collection: {id:?} is a policy view or a member's collection; feeds fill plain collections"
        )));
    }
    Ok(collection)
}

/// Checks `new` and stores it, due at once; returns it as listed.
pub async fn add(node: &Node, new: NewFeed) -> Result<FeedView, FeedError> {
    check_name(&new.name)?;
    let url = source::check_url(&new.url, new.allow_http)?;
    if new.credential.is_some() && url.scheme() == "http" && !source::is_loopback(&url) {
        return Err(invalid(
            "credential: a credential is never sent over plain http off loopback",
        ));
    }
    if !(MIN_INTERVAL_SECS..=MAX_INTERVAL_SECS).contains(&new.interval_secs) {
        return Err(invalid(format!(
            "interval: {} s is outside {MIN_INTERVAL_SECS} s to {MAX_INTERVAL_SECS} s",
            new.interval_secs
        )));
    }
    let markings = resolve_markings(&new.markings)?;
    let list_settings =
        new.valid_days.is_some() || new.confidence.is_some() || new.column.is_some();
    match new.kind {
        FeedKind::Misp => {
            if list_settings || new.page_size.is_some() {
                return Err(invalid(
                    "valid_days, confidence, column and page_size are not for MISP feeds",
                ));
            }
        }
        FeedKind::Taxii | FeedKind::Taxii20 => {
            if list_settings {
                return Err(invalid(
                    "valid_days, confidence and column are for list feeds only",
                ));
            }
            if new.page_size.is_some_and(|n| !(1..=10_000).contains(&n)) {
                return Err(invalid("page_size: 1 to 10000"));
            }
            if !url.path().contains("/collections/") {
                return Err(invalid(format!(
                    "url: a TAXII feed reads a collection (…/collections/{{id}}/), not {:?}",
                    url.path()
                )));
            }
        }
        FeedKind::List => {
            if new.page_size.is_some() {
                return Err(invalid("page_size is for TAXII feeds only"));
            }
            if new.confidence.is_some_and(|c| c > 100) {
                return Err(invalid("confidence: 0 to 100"));
            }
            if new.valid_days.is_some_and(|d| !(1..=3650).contains(&d)) {
                return Err(invalid("valid_days: 1 to 3650"));
            }
            if new.column.is_some_and(|c| !(1..=1000).contains(&c)) {
                return Err(invalid("column: 1 to 1000"));
            }
        }
    }
    plain_collection(node, &new.api_root, &new.collection).await?;
    let settings = Settings {
        markings,
        valid_days: new.valid_days,
        confidence: new.confidence,
        column: new.column,
        page_size: new.page_size,
        allow_http: new.allow_http,
    };
    let now = now_us();
    let record = FeedRecord {
        name: new.name.clone(),
        kind: new.kind.as_str().to_owned(),
        url: url.to_string(),
        api_root: new.api_root,
        collection: new.collection,
        interval_secs: new.interval_secs,
        settings: serde_json::to_string(&settings).expect("settings serialise"),
        secret: new
            .credential
            .map(|c| serde_json::to_string(&c).expect("a credential serialises")),
        created_at: now,
    };
    let state = FeedState {
        next_run: now,
        ..FeedState::default()
    };
    match node.store().add_feed(&record, &state).await {
        Err(StoreError::Conflict(_)) => return Err(FeedError::Exists(new.name)),
        other => other?,
    }
    tracing::info!(feed = %record.name, kind = %record.kind, url = %record.url, "feed added");
    Ok(FeedView::of(comity_store::Feed { record, state }))
}

/// Every feed, by name.
pub async fn list(node: &Node) -> Result<Vec<FeedView>, FeedError> {
    Ok(node
        .store()
        .feeds()
        .await?
        .into_iter()
        .map(FeedView::of)
        .collect())
}

/// Removes a feed (what it stored stays).
pub async fn remove(node: &Node, name: &str) -> Result<(), FeedError> {
    match node.store().remove_feed(name).await {
        Err(StoreError::NotFound(_)) => Err(FeedError::NotFound(name.to_owned())),
        other => {
            other?;
            tracing::info!(feed = %name, "feed removed");
            Ok(())
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    /// The feed.
    pub feed: String,
    /// Object versions stored.
    pub stored: u64,
    /// Object versions that were stored already.
    pub already: u64,
    /// Objects refused at intake (logged with their reasons).
    pub refused: u64,
    /// List feeds: lines skipped as no value; TAXII 2.0 feeds: objects that could not be
    /// converted to STIX 2.1 (none of them is stored).
    pub skipped: u64,
    /// List feeds: indicators revoked.
    pub revoked: u64,
    /// Pages read.
    pub pages: u64,
    /// The source had not changed since the last run.
    pub unchanged: bool,
    /// Why objects were skipped or refused, each naming its object: the first
    /// [`MAX_REASONS`], without control characters.
    pub reasons: Vec<String>,
}

/// The most reasons a run's report keeps.
pub const MAX_REASONS: usize = 20;

/// One run in progress: the feed, its state (saved at each checkpoint) and its report.
struct Run<'a> {
    node: &'a Node,
    fetch: &'a dyn Fetch,
    record: FeedRecord,
    settings: Settings,
    credential: Option<Credential>,
    collection: Collection,
    state: FeedState,
    report: RunReport,
    progress: &'a (dyn Fn(&RunReport) + Send + Sync),
}

impl Run<'_> {
    fn failed(&self, reason: impl Into<String>) -> FeedError {
        FeedError::Failed {
            name: self.record.name.clone(),
            reason: reason.into(),
        }
    }

    /// Keeps why an object was skipped or refused in the report (the first few, cut short).
    fn note(&mut self, reason: &str) {
        if self.report.reasons.len() < MAX_REASONS {
            self.report.reasons.push(source::excerpt(reason, 300));
        }
    }

    /// GETs `url` from the source with the feed's credential (and `range`, if any).
    async fn get(
        &mut self,
        url: &str,
        accept: &str,
        range: Option<&str>,
    ) -> Result<Fetched, FeedError> {
        let fetched = self
            .fetch
            .get(FetchRequest {
                url,
                accept,
                range,
                credential: self.credential.as_ref(),
            })
            .await
            .map_err(|e| self.failed(e))?;
        self.report.pages += 1;
        Ok(fetched)
    }

    /// Examines `raws` and stores the valid ones in the feed's collection, with their log
    /// entries, as a TAXII POST would.
    async fn store(&mut self, raws: &[Box<RawValue>]) -> Result<(), FeedError> {
        let mut examined = Vec::with_capacity(raws.len());
        for (i, raw) in raws.iter().enumerate() {
            match intake::examine(i, raw) {
                Ok(e) => examined.push(e),
                Err(refusal) => {
                    self.report.refused += 1;
                    self.note(&format!("{}: refused: {}", refusal.id, refusal.message()));
                    tracing::warn!(feed = %self.record.name, id = %refusal.id,
                        reason = %refusal.message(), "feed object refused");
                }
            }
        }
        if examined.is_empty() {
            return Ok(());
        }
        let prepared =
            objects::prepare(self.node.log(), examined).map_err(|e| self.failed(e.to_string()))?;
        let stored = objects::add(self.node, &self.collection, prepared).await?;
        for outcome in stored.outcomes {
            match outcome.outcome {
                comity_store::AddOutcome::Added { .. } => self.report.stored += 1,
                comity_store::AddOutcome::AlreadyStored => self.report.already += 1,
                comity_store::AddOutcome::ConflictingVersion => {
                    self.report.refused += 1;
                    self.note(&format!(
                        "{}: refused: this version is stored with other content",
                        outcome.id
                    ));
                    tracing::warn!(feed = %self.record.name, id = %outcome.id,
                        "feed object refused: this version is stored with other content");
                }
            }
        }
        (self.progress)(&self.report);
        Ok(())
    }

    /// Saves the values the run saw with the state, in one transaction.
    async fn save_values(&mut self, values: &[comity_store::FeedValue]) -> Result<(), FeedError> {
        self.state.objects = self.state.objects.saturating_add(self.report.stored);
        let saved = self
            .node
            .store()
            .replace_feed_values(&self.record.name, values, &self.state)
            .await;
        self.state.objects -= self.report.stored;
        Ok(saved?)
    }

    /// Saves the state (its cursor and the objects stored so far): a later run resumes here.
    async fn checkpoint(&mut self) -> Result<(), FeedError> {
        self.state.objects = self.state.objects.saturating_add(self.report.stored);
        let saved = self
            .node
            .store()
            .save_feed_state(&self.record.name, &self.state)
            .await;
        self.state.objects -= self.report.stored;
        Ok(saved?)
    }
}

/// Marks a feed as running in this process while it lives.
struct Running<'a> {
    node: &'a Node,
    name: String,
}

impl<'a> Running<'a> {
    fn start(node: &'a Node, name: &str) -> Result<Running<'a>, FeedError> {
        let mut running = node
            .feeds_running()
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if !running.insert(name.to_owned()) {
            return Err(FeedError::Busy(name.to_owned()));
        }
        Ok(Running {
            node,
            name: name.to_owned(),
        })
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.node
            .feeds_running()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.name);
    }
}

/// Runs feed `name` now, whether due or not; `progress` sees the report after each page.
/// A failure is recorded on the feed (its error, one more failure, a retry with backoff)
/// and returned as [`FeedError::Failed`]; a feed this process is running already is
/// [`FeedError::Busy`], changing nothing.
pub async fn run(
    node: &Node,
    fetch: &dyn Fetch,
    name: &str,
    progress: &(dyn Fn(&RunReport) + Send + Sync),
) -> Result<RunReport, FeedError> {
    let _running = Running::start(node, name)?;
    let feed = node
        .store()
        .feed(name)
        .await?
        .ok_or_else(|| FeedError::NotFound(name.to_owned()))?;
    let failed = |reason: String| FeedError::Failed {
        name: name.to_owned(),
        reason,
    };
    let settings: Settings = serde_json::from_str(&feed.record.settings)
        .map_err(|e| failed(format!("stored settings unreadable: {e}")))?;
    let credential = feed
        .record
        .secret
        .as_deref()
        .map(serde_json::from_str::<Credential>)
        .transpose()
        .map_err(|_| failed("stored credential unreadable".into()))?;
    let kind: FeedKind = feed.record.kind.parse()?;
    let outcome = match plain_collection(node, &feed.record.api_root, &feed.record.collection).await
    {
        Ok(collection) => {
            let mut run = Run {
                node,
                fetch,
                settings,
                credential,
                collection,
                state: feed.state.clone(),
                report: RunReport {
                    feed: name.to_owned(),
                    ..RunReport::default()
                },
                record: feed.record.clone(),
                progress,
            };
            let done = match kind {
                FeedKind::Taxii => taxii::pull(&mut run).await,
                FeedKind::Taxii20 => taxii20::pull(&mut run).await,
                FeedKind::List => list_run(&mut run).await,
                FeedKind::Misp => misp::pull(&mut run).await,
            };
            (done, run.state, run.report)
        }
        Err(e) => (Err(e), feed.state.clone(), RunReport::default()),
    };
    let (done, mut state, report) = outcome;
    let now = now_us();
    state.runs += 1;
    state.last_run = Some(now);
    state.objects = state.objects.saturating_add(report.stored);
    let result = match done {
        Ok(()) => {
            state.failures = 0;
            state.last_error = None;
            state.next_run = now + secs_us(feed.record.interval_secs);
            tracing::info!(feed = %name, stored = report.stored, already = report.already,
                refused = report.refused, revoked = report.revoked, pages = report.pages,
                "feed run done");
            Ok(report)
        }
        Err(e) => {
            let reason = match &e {
                FeedError::Failed { reason, .. } => reason.clone(),
                other => other.to_string(),
            };
            state.failures += 1;
            state.failed_runs += 1;
            state.last_error = Some(reason.clone());
            let wait = retry_after(state.failures, feed.record.interval_secs);
            state.next_run = now + secs_us(wait);
            tracing::warn!(feed = %name, error = %reason, failures = state.failures,
                retry_in_secs = wait, "feed run failed");
            Err(failed(reason))
        }
    };
    node.store().save_feed_state(name, &state).await?;
    result
}

/// Runs every feed due at `now`, one after the other; the result of each.
pub async fn run_due(
    node: &Node,
    fetch: &dyn Fetch,
    now: i64,
) -> Result<Vec<Result<RunReport, FeedError>>, FeedError> {
    let mut results = Vec::new();
    for feed in node.store().feeds().await? {
        if feed.state.next_run <= now {
            match run(node, fetch, &feed.record.name, &|_| {}).await {
                // Run by hand right now: not due any more once that run ends.
                Err(FeedError::Busy(_)) => {}
                result => results.push(result),
            }
        }
    }
    Ok(results)
}

/// Seconds to wait before retrying after the `failures`-th failure in a row: 30 s,
/// doubling, at most [`MAX_RETRY_SECS`] and never beyond the feed's interval.
pub fn retry_after(failures: u64, interval_secs: u64) -> u64 {
    let doublings = failures.saturating_sub(1).min(20) as u32;
    FIRST_RETRY_SECS
        .saturating_mul(1 << doublings)
        .min(MAX_RETRY_SECS)
        .min(interval_secs)
}

fn secs_us(secs: u64) -> i64 {
    i64::try_from(secs)
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000_000)
}

/// A list feed's run: the list read, new values indicated, gone values revoked.
async fn list_run(run: &mut Run<'_>) -> Result<(), FeedError> {
    let url = run.record.url.clone();
    let fetched = run
        .get(&url, "text/plain, text/csv;q=0.9, */*;q=0.1", None)
        .await?;
    let body = fetched.success(&url).map_err(|e| run.failed(e))?;
    let hash = {
        use sha2::Digest;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(&body)))
    };
    if run.state.cursor.as_deref() == Some(hash.as_str()) {
        run.report.unchanged = true;
        return Ok(());
    }
    let parsed = list::parse(&String::from_utf8_lossy(&body), run.settings.column);
    run.report.skipped = parsed.skipped.len() as u64;
    for skipped in parsed.skipped.iter().take(10) {
        tracing::debug!(feed = %run.record.name, line = skipped.line, reason = %skipped.reason,
            "list line skipped");
    }
    let name = run.record.name.clone();
    let previous = run.node.store().feed_values(&name).await?;
    let defaults = list::IndicatorDefaults {
        feed: &name,
        markings: &run.settings.markings,
        valid_days: run.settings.valid_days,
        confidence: run.settings.confidence,
    };
    let now = now_us();
    // The values with a live indicator (and its creation), and those whose indicator was
    // revoked (by their key, without the prefix).
    let mut live = BTreeMap::new();
    let mut revoked = BTreeMap::new();
    for v in &previous {
        match v.value.strip_prefix(list::REVOKED) {
            Some(key) => revoked.insert(key.to_owned(), v.created.clone()),
            None => live.insert(v.value.clone(), v.created.clone()),
        };
    }
    let life = |key: &str, created: i64| list::Life {
        created,
        renewed: revoked.contains_key(key),
    };
    let mut objects = Vec::new();
    let mut kept = BTreeMap::new();
    for (key, value) in &parsed.values {
        let created = match live.get(key) {
            Some(created) => created.clone(),
            None => {
                objects.push(list::indicator(
                    &defaults,
                    value,
                    life(key, now),
                    now,
                    false,
                ));
                format_us(now)
            }
        };
        kept.insert(key.clone(), created);
    }
    let mut gone_now = Vec::new();
    for (key, created) in live.iter().filter(|(k, _)| !parsed.values.contains_key(*k)) {
        let (Some(value), Some(created_us)) = (
            list::ListValue::from_key(key),
            comity_stix::clock::parse_us(created),
        ) else {
            continue;
        };
        objects.push(list::indicator(
            &defaults,
            &value,
            life(key, created_us),
            now,
            true,
        ));
        gone_now.push((key.clone(), created.clone()));
        run.report.revoked += 1;
    }
    for (key, created) in revoked.into_iter().chain(gone_now) {
        kept.insert(format!("{}{key}", list::REVOKED), created);
    }
    let kept: Vec<comity_store::FeedValue> = kept
        .into_iter()
        .map(|(value, created)| comity_store::FeedValue { value, created })
        .collect();
    let raws = objects
        .iter()
        .map(|o| RawValue::from_string(o.to_string()).expect("JSON text"))
        .collect::<Vec<_>>();
    run.store(&raws).await?;
    run.state.cursor = Some(hash);
    run.save_values(&kept).await
}

#[cfg(test)]
mod tests;
