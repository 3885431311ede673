//! Snapshots: the numbers every view shows.
//!
//! A [`Snapshot`] is a plain value built by the aggregator from its histograms and counters:
//! names resolved, percentiles read, rates computed. The live table, the final summary, the
//! web UI and the result file all read snapshots and never raw data, so every view shows the
//! same numbers (DESIGN.md, "Data flow").
//!
//! Latencies here are milliseconds (`f64`) read from HDR histograms of nanoseconds: exact to
//! the histogram's precision (3 significant digits), and all zero when nothing was recorded.
//! The percentiles are the histogram's `value_at_quantile` (the top of the bucket holding the
//! quantile), so a reader who decodes the histograms in a result file gets the same numbers.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::histogram::{ns_to_ms, LazyHistogram};
use crate::interval::EndpointData;
use crate::registry::EndpointInfo;

/// Everything measured so far, as every view sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Snapshot {
    /// Time since the start of the run.
    #[serde(rename = "elapsed_s", serialize_with = "duration_as_secs")]
    pub elapsed: Duration,
    /// Users running now (sum over workers).
    pub users: u64,
    /// Requests written and not yet answered, as of each worker's latest interval (sum
    /// over workers).
    pub in_flight: u64,
    /// One entry per registered endpoint, in registry (file) order, idle ones included.
    pub endpoints: Vec<EndpointStats>,
    /// All endpoints together: method `""`, name `"Aggregated"`.
    pub aggregate: EndpointStats,
    /// One entry per (endpoint, category) that failed at least once, in endpoint order and
    /// then category order.
    pub failures: Vec<FailureStats>,
    /// One entry per registered check, in registry order.
    pub checks: Vec<CheckStats>,
    /// One entry per registered task, in registry order.
    pub tasks: Vec<TaskStats>,
    pub connections: ConnectionStats,
    pub generator: crate::generator::GeneratorStats,
    /// The server-side figures so far (`--monitor-*`, `--probe`), which thresholds like
    /// `server_cpu < 90%` read; `None` when nothing is monitored. Not serialized: the
    /// result file has them in its `server` section.
    #[serde(skip)]
    pub server: Option<std::sync::Arc<crate::ServerStats>>,
    /// Since when (from the run's start) the cumulative figures count: zero unless the
    /// statistics were reset. What a cumulative export's start time follows.
    #[serde(skip)]
    pub stats_since: Duration,
}

/// The statistics of one endpoint (or of all of them, for the aggregate).
///
/// `requests` counts every finished attempt, failed ones included; requests cut off by a hard
/// stop are counted in `interrupted` only. Latencies cover successful requests.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointStats {
    pub scenario: String,
    pub method: String,
    pub name: String,
    pub requests: u64,
    pub failures: u64,
    pub interrupted: u64,
    /// Requests over the elapsed time (since the last statistics reset).
    pub rps: f64,
    /// Requests per second over the last (up to) three closed seconds. Live views only: not
    /// written to result files.
    #[serde(skip)]
    pub current_rps: f64,
    /// Failures per second over the last (up to) three closed seconds. Live views only.
    #[serde(skip)]
    pub failures_per_s: f64,
    /// From the intended start to the body complete: what a user waiting in line feels.
    pub response_time: LatencyStats,
    /// From the request written to the body complete: the server's share.
    pub service_time: LatencyStats,
    /// Every response, failed requests' included.
    pub status_codes: BTreeMap<u16, u64>,
    /// Keyed by [`crate::FailureCategory::as_str`].
    pub failures_by_category: BTreeMap<String, u64>,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Requests sent once more on a fresh connection after a reused one died before a byte
    /// of the answer (counted once in `requests`, never as failures). Absent in result
    /// files written before it existed: read as 0.
    #[serde(default)]
    pub retries: u64,
    /// With `--traceparent`: the slowest successful requests (at most [`crate::SLOWEST`]),
    /// slowest first, with the trace ids they were sent with. Absent without the flag.
    /// Added without a version change, like `timeline`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slowest: Vec<SlowRequest>,
    /// For an endpoint of `stream:` steps: first byte, first event, gaps between events,
    /// duration and events per stream. Absent for other endpoints; added without a version
    /// change, like `slowest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<crate::StreamStats>,
    /// A WebSocket step's sockets and messages (`- ws:`); absent for other endpoints.
    /// Added without a version change, like `slowest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<crate::MessageStats>,
}

/// One of an endpoint's slowest traced requests: what to look up in the service's tracing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SlowRequest {
    /// The W3C trace id, 32 lowercase hex digits, as in the request's `traceparent`.
    pub trace_id: String,
    /// The request's own span id (the header's `parent-id`), 16 lowercase hex digits.
    pub span_id: String,
    /// Its response time (from the intended start, as every response time), exact rather
    /// than read from a histogram.
    pub response_time_ms: f64,
    /// When it was sent, in seconds since the run's start.
    pub at_s: f64,
}

/// Latency statistics in milliseconds; all zero when `count` is zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyStats {
    pub count: u64,
    pub min: f64,
    pub mean: f64,
    pub max: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
}

impl LatencyStats {
    /// Reads the statistics of a histogram of nanoseconds.
    pub fn from_histogram(h: &Histogram<u64>) -> LatencyStats {
        if h.is_empty() {
            return LatencyStats::default();
        }
        let q = |quantile: f64| ns_to_ms(h.value_at_quantile(quantile));
        LatencyStats {
            count: h.len(),
            min: ns_to_ms(h.min()),
            mean: h.mean() / 1e6,
            max: ns_to_ms(h.max()),
            p50: q(0.5),
            p75: q(0.75),
            p90: q(0.9),
            p95: q(0.95),
            p99: q(0.99),
            p999: q(0.999),
        }
    }

    pub(crate) fn from_lazy(h: &LazyHistogram) -> LatencyStats {
        h.get().map(Self::from_histogram).unwrap_or_default()
    }
}

/// Failures of one category at one endpoint, with one sample message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureStats {
    pub scenario: String,
    pub method: String,
    pub name: String,
    /// [`crate::FailureCategory::as_str`].
    pub category: String,
    pub count: u64,
    /// The first message seen for this endpoint and category.
    pub sample: String,
}

/// The outcomes of one check, named by the endpoint it inspects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStats {
    pub scenario: String,
    pub method: String,
    pub name: String,
    pub check: String,
    pub passes: u64,
    pub fails: u64,
}

/// Completed iterations of one task and how long they took.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskStats {
    pub scenario: String,
    pub user: String,
    pub task: String,
    pub iterations: u64,
    pub duration: LatencyStats,
}

/// New connections and their set-up times.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionStats {
    pub opened: u64,
    pub connect_time: LatencyStats,
    pub tls_time: LatencyStats,
    /// Users that never got a connection because this machine ran out of descriptors or
    /// ports (failure category `local_resources`): those still waiting for their first
    /// connection plus those that ended without one. Such users are not counted in the
    /// users gauge. Not reset with the statistics: it is a fact about the whole run.
    /// Added without a version change; older files read as 0.
    #[serde(default)]
    pub users_never_connected: u64,
    /// Of `opened`, the connections that speak HTTP/2 (by ALPN or prior knowledge); the
    /// rest speak HTTP/1.1. Added without a version change: absent (older files, runs
    /// without HTTP/2) reads as 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub http2: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Rates that need the time window they are computed over.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Rates {
    /// Seconds the cumulative counters cover.
    pub(crate) total_secs: f64,
    pub(crate) current_rps: f64,
    pub(crate) failures_per_s: f64,
}

pub(crate) fn per_second(n: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        n as f64 / secs
    } else {
        0.0
    }
}

/// Builds the statistics of one endpoint from its cumulative data.
pub(crate) fn endpoint_stats(info: &EndpointInfo, d: &EndpointData, rates: Rates) -> EndpointStats {
    EndpointStats {
        scenario: info.scenario.clone(),
        method: info.method.clone(),
        name: info.name.clone(),
        requests: d.requests,
        failures: d.failures,
        interrupted: d.interrupted,
        rps: per_second(d.requests, rates.total_secs),
        current_rps: rates.current_rps,
        failures_per_s: rates.failures_per_s,
        response_time: LatencyStats::from_lazy(&d.response_time),
        service_time: LatencyStats::from_lazy(&d.service_time),
        status_codes: d.status.iter().collect(),
        failures_by_category: d
            .failures_by_category
            .iter()
            .map(|(c, s)| (c.as_str().to_owned(), s.count))
            .collect(),
        bytes_sent: d.bytes_sent,
        bytes_received: d.bytes_received,
        retries: d.retries,
        slowest: d
            .slowest
            .iter()
            .map(|s| SlowRequest {
                trace_id: format!("{:032x}", s.ids.trace_id),
                span_id: format!("{:016x}", s.ids.span_id),
                response_time_ms: s.response_time_ns as f64 / 1e6,
                at_s: s.at_ns as f64 / 1e9,
            })
            .collect(),
        stream: d.stream.as_ref().map(|s| s.stats()),
        messages: d.messages.stats(),
    }
}

fn duration_as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::new_histogram;

    #[test]
    fn percentiles_of_1_to_1000_ms_are_within_hdr_precision() {
        let mut h = new_histogram();
        for v in 1..=1000u64 {
            h.record(v * 1_000_000).unwrap();
        }
        let s = LatencyStats::from_histogram(&h);
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.001;
        assert_eq!(s.count, 1000);
        assert!(close(s.min, 1.0), "min {}", s.min);
        assert!(close(s.max, 1000.0), "max {}", s.max);
        assert!(close(s.mean, 500.5), "mean {}", s.mean);
        assert!(close(s.p50, 500.0), "p50 {}", s.p50);
        assert!(close(s.p75, 750.0), "p75 {}", s.p75);
        assert!(close(s.p90, 900.0), "p90 {}", s.p90);
        assert!(close(s.p95, 950.0), "p95 {}", s.p95);
        assert!(close(s.p99, 990.0), "p99 {}", s.p99);
        assert!(close(s.p999, 999.0), "p999 {}", s.p999);
        // Percentiles are the top of their bucket, never below the true value.
        assert!(s.p50 >= 500.0 && s.p99 >= 990.0);
    }

    #[test]
    fn empty_histogram_gives_all_zeros() {
        assert_eq!(
            LatencyStats::from_histogram(&new_histogram()),
            LatencyStats::default()
        );
        assert_eq!(
            LatencyStats::from_lazy(&LazyHistogram::default()),
            LatencyStats::default()
        );
    }
}
