//! `/metrics` in the OpenMetrics text format, for admins: requests and their latency by
//! route template, authentication failures, and every release and denial the sharing
//! policy decided, by channel and rule. Label values come from fixed sets (route templates,
//! rule names), never from what a client sent, so a client cannot grow the label space.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use comity_node::policy::{Channel, Rule};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    channel: String,
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerLabels {
    peer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedLabels {
    feed: String,
}

/// Each feed's figures, read from the store (runs by `comity feed run` included).
#[derive(Default)]
struct FeedFigures {
    runs: Family<FeedLabels, Gauge>,
    failed_runs: Family<FeedLabels, Gauge>,
    failures_in_a_row: Family<FeedLabels, Gauge>,
    objects: Family<FeedLabels, Gauge>,
}

impl FeedFigures {
    fn register(&self, registry: &mut Registry) {
        for (name, help, family) in [
            ("feed_runs", "Runs of a feed, successful or not", &self.runs),
            (
                "feed_failed_runs",
                "Failed runs of a feed",
                &self.failed_runs,
            ),
            (
                "feed_failures_in_a_row",
                "Runs of a feed failed since its last success",
                &self.failures_in_a_row,
            ),
            (
                "feed_objects",
                "Object versions a feed stored",
                &self.objects,
            ),
        ] {
            registry.register(name, help, family.clone());
        }
    }

    /// Sets every feed's figures; a removed feed's disappear.
    fn set(&self, feeds: &[comity_store::Feed]) {
        let families = [
            &self.runs,
            &self.failed_runs,
            &self.failures_in_a_row,
            &self.objects,
        ];
        for family in families {
            family.clear();
        }
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        for feed in feeds {
            let labels = FeedLabels {
                feed: feed.record.name.clone(),
            };
            let s = &feed.state;
            for (family, n) in families
                .iter()
                .zip([s.runs, s.failed_runs, s.failures, s.objects])
            {
                family.get_or_create(&labels).set(gauge(n));
            }
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: u16,
}

type Latency = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.1 ms to about 3.3 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// The node's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Latency,
    auth_failures: Family<StatusLabels, Counter>,
    released: Family<ChannelLabels, Counter>,
    denied: Family<DecisionLabels, Counter>,
    envelopes_refused: Counter,
    outbox_pending: Family<PeerLabels, Gauge>,
    outbox_lag: Family<PeerLabels, Gauge<f64, AtomicU64>>,
    witness_alerts: Family<KindLabels, Counter>,
    cosignatures: Family<PeerLabels, Counter>,
    feeds: FeedFigures,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("comity");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Latency = Family::new_with_constructor(latency_histogram);
        let auth_failures = Family::<StatusLabels, Counter>::default();
        let released = Family::<ChannelLabels, Counter>::default();
        let denied = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route template",
            latency.clone(),
        );
        registry.register(
            "auth_failures",
            "Refused credentials, by the status answered (401, or 429 when throttled)",
            auth_failures.clone(),
        );
        registry.register(
            "policy_released_objects",
            "Objects the sharing policy let out, by channel",
            released.clone(),
        );
        registry.register(
            "policy_denied_objects",
            "Objects the sharing policy kept in, by channel and the rule that denied",
            denied.clone(),
        );
        let envelopes_refused = Counter::default();
        let outbox_pending = Family::<PeerLabels, Gauge>::default();
        let outbox_lag = Family::<PeerLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "federation_envelopes_refused",
            "Envelopes from peers this node refused (with a signed receipt)",
            envelopes_refused.clone(),
        );
        registry.register(
            "federation_outbox_pending",
            "Envelopes queued for a peer and not yet delivered",
            outbox_pending.clone(),
        );
        registry.register(
            "federation_outbox_lag_seconds",
            "Age of the oldest envelope not yet delivered to a peer",
            outbox_lag.clone(),
        );
        let witness_alerts = Family::<KindLabels, Counter>::default();
        let cosignatures = Family::<PeerLabels, Counter>::default();
        registry.register(
            "witness_alerts",
            "Inconsistencies met while witnessing (fork, rollback, inconsistent, refused, peer-ahead)",
            witness_alerts.clone(),
        );
        registry.register(
            "witness_cosignatures",
            "Cosignatures of this node's checkpoints collected from a peer",
            cosignatures.clone(),
        );
        let feeds = FeedFigures::default();
        feeds.register(&mut registry);
        Metrics {
            feeds,
            registry,
            witness_alerts,
            cosignatures,
            envelopes_refused,
            outbox_pending,
            outbox_lag,
            requests,
            latency,
            auth_failures,
            released,
            denied,
        }
    }
}

impl Metrics {
    /// Counts a refused credential.
    pub fn auth_failure(&self, status: StatusCode) {
        self.auth_failures
            .get_or_create(&StatusLabels {
                status: status.as_u16(),
            })
            .inc();
    }

    /// Counts objects the policy released through `channel`.
    pub fn released(&self, channel: Channel, count: u64) {
        if count > 0 {
            self.released
                .get_or_create(&ChannelLabels {
                    channel: channel.to_string(),
                })
                .inc_by(count);
        }
    }

    /// Counts the objects the policy withheld from peers on the federation channel.
    pub fn withheld(&self, withheld: &comity_node::federation::plan::Withheld) {
        for ((_, rule), tally) in &withheld.0 {
            self.denied
                .get_or_create(&DecisionLabels {
                    channel: Channel::FederationSend.to_string(),
                    rule: rule.as_str().to_owned(),
                })
                .inc_by(tally.count);
        }
    }

    /// Counts one object the policy denied through `channel` by `rule`.
    pub fn denied(&self, channel: Channel, rule: Rule) {
        self.denied
            .get_or_create(&DecisionLabels {
                channel: channel.to_string(),
                rule: rule.as_str().to_owned(),
            })
            .inc();
    }

    /// Counts an envelope refused by the inbox.
    pub fn envelope_refused(&self) {
        self.envelopes_refused.inc();
    }

    /// Counts an inconsistency met while witnessing, by kind (a fixed set).
    pub fn witness_alert(&self, kind: &str) {
        self.witness_alerts
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// Counts a cosignature collected from a registered peer.
    pub fn cosignature(&self, peer: &str) {
        self.cosignatures
            .get_or_create(&PeerLabels {
                peer: peer.to_owned(),
            })
            .inc();
    }

    fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Middleware: counts every request and its latency by route template.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let response = next.run(request).await;
    let metrics = &state.metrics;
    metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// GET `/metrics` (admins only).
pub async fn metrics(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.admin()?;
    let now = comity_stix::clock::now_us();
    for peer in state.node.store().outbox_stats().await? {
        let labels = PeerLabels { peer: peer.peer };
        let pending = i64::try_from(peer.pending).unwrap_or(i64::MAX);
        state
            .metrics
            .outbox_pending
            .get_or_create(&labels)
            .set(pending);
        let lag = peer
            .oldest_pending_at
            .map_or(0.0, |t| (now - t).max(0) as f64 / 1e6);
        state.metrics.outbox_lag.get_or_create(&labels).set(lag);
    }
    state.metrics.feeds.set(&state.node.store().feeds().await?);
    let body = state.metrics.render().map_err(|_| ApiError::internal())?;
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(response)
}
