//! The server side of a run: what the monitored processes, Prometheus endpoints, PostgreSQL
//! servers and the stall probe showed while the load ran, on the run's time axis.
//!
//! `barrage-monitor` measures it (on threads of its own, never a worker's); the session puts
//! the newest of it into every closed second ([`ServerLive`]) and the whole of it into the
//! result file ([`ServerSection`], the result's `server`). Every source is a table: named
//! [`Column`]s and one [`Row`] per sample, so every view (terminal, summary, web UI, HTML
//! report) can show any source without knowing what it is.
//!
//! Thresholds read [`ServerStats`]: a fixed vocabulary of *figures* ([`FIGURES`]:
//! `server_cpu`, `probe_max_stall`, `pg_connections_waiting`, ...), each fed by the column
//! that names it in [`Column::figure`], with its per-sample maximum, minimum, mean and last
//! value over the run.

use serde::{Deserialize, Serialize};

/// A figure a threshold may name: (name, unit, what it is).
pub const FIGURES: &[(&str, &str, &str)] = &[
    (
        "server_cpu",
        "%",
        "CPU of the monitored processes, summed, in % of one core",
    ),
    (
        "server_rss",
        "bytes",
        "resident memory of the monitored processes, summed",
    ),
    (
        "server_threads",
        "count",
        "threads of the monitored processes, summed",
    ),
    (
        "server_open_files",
        "count",
        "open files of the monitored processes, summed",
    ),
    (
        "probe_max_stall",
        "ms",
        "the stall probe's response time from its scheduled start: the longest stall",
    ),
    (
        "probe_failures",
        "count",
        "stall-probe requests that failed (connection error, timeout, status >= 400)",
    ),
    (
        "pg_connections",
        "count",
        "PostgreSQL connections (pg_stat_activity client backends)",
    ),
    (
        "pg_connections_active",
        "count",
        "PostgreSQL connections running a query",
    ),
    (
        "pg_connections_idle_in_transaction",
        "count",
        "PostgreSQL connections idle inside a transaction",
    ),
    (
        "pg_connections_waiting",
        "count",
        "PostgreSQL connections waiting on a lock",
    ),
    (
        "pg_transactions",
        "/s",
        "PostgreSQL transactions (commits and rollbacks) per second",
    ),
    (
        "pg_longest_query",
        "ms",
        "the longest-running PostgreSQL query at the sample",
    ),
];

/// What a kind of source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Processes read from `/proc` (`--monitor-pid`, `--monitor-port`).
    Process,
    /// A Prometheus endpoint scraped (`--monitor-prometheus`).
    Prometheus,
    /// A PostgreSQL server queried (`--monitor-postgres`).
    Postgres,
    /// The stall probe (`--probe`).
    Probe,
}

/// One column of a source's table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Stable key (`cpu`, `rss`, `cpu_pid_4242`, `http_requests_per_s{handler="/items"}`).
    pub key: String,
    /// For people (`CPU`, `RSS`, `CPU pid 4242`, `requests/s /items`).
    pub label: String,
    /// `%` (of one core), `bytes`, `bytes/s`, `count`, `/s`, `ms`, `s`.
    pub unit: String,
    /// The threshold figure this column feeds ([`FIGURES`]), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure: Option<String>,
}

/// One sample of a source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Seconds since the run's start at which the sample was taken (the run's time axis,
    /// as [`crate::SecondSummary::t`]).
    pub t: f64,
    /// Parallel to the source's columns; `null` where nothing was measured. A row may be
    /// shorter than the columns (a column added later, as a new worker process appeared):
    /// the missing values are `null`.
    pub values: Vec<Option<f64>>,
}

impl Row {
    /// The value of column `i`, if measured.
    pub fn get(&self, i: usize) -> Option<f64> {
        self.values.get(i).copied().flatten()
    }
}

/// A monitored process, as found at the start (or when it appeared).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessInfo {
    pub pid: u32,
    /// The parent's pid, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppid: Option<u32>,
    /// The command line, shortened.
    pub command: String,
    /// How it was found: `--monitor-pid`, `listening on port 8000`, `child of 4242`.
    pub found: String,
}

/// A statement of `pg_stat_statements`, with what it added during the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementStats {
    /// The normalized query text, shortened.
    pub query: String,
    pub calls: u64,
    /// Execution time added during the run.
    pub total_ms: f64,
    pub mean_ms: f64,
    pub rows: u64,
}

/// One monitored source over the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceSeries {
    pub kind: Option<SourceKind>,
    /// For people: `processes (port 8000)`, `prometheus 127.0.0.1:8000/metrics`,
    /// `postgres 127.0.0.1:5432/app`, `probe GET /health`.
    pub name: String,
    /// What was asked, as given (passwords redacted).
    pub target: String,
    pub columns: Vec<Column>,
    /// One per sample, oldest first.
    pub rows: Vec<Row>,
    /// `process` sources: the processes watched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<ProcessInfo>,
    /// `postgres` sources with `pg_stat_statements`: the statements that added the most
    /// execution time during the run, most first (at most 10).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<StatementStats>,
    /// Why the source gave no data at the end (unreachable, the process exited), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost: Option<String>,
}

/// The stall probe's summary (`server.probe`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeSummary {
    /// What was probed: `GET http://127.0.0.1:8000/health`.
    pub target: String,
    /// Probes per second asked.
    pub rate: f64,
    /// Probes scheduled, answered (any status below 400) and failed.
    pub sent: u64,
    pub answered: u64,
    pub failed: u64,
    /// The longest response time from a probe's scheduled start: how long the service
    /// stopped answering at worst.
    pub longest_stall_ms: f64,
    /// When that was, in seconds since the run's start (the probe's scheduled start).
    pub longest_stall_at_s: f64,
    /// Time during which some probe had been waiting longer than 50, 100 and 500 ms, in
    /// seconds (the union of every probe's `[scheduled + bound, answered]`).
    pub stalled_over_50ms_s: f64,
    pub stalled_over_100ms_s: f64,
    pub stalled_over_500ms_s: f64,
    /// The stalls over 100 ms, in order (at most 100: the longest are kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stalls: Vec<StallMoment>,
    /// The longest the probe itself sent late, in ms: its thread woke after a probe's
    /// scheduled start although the one before had already finished (barrage's own
    /// scheduling delay, not the server's). Stalls near this figure are not the server's.
    #[serde(default)]
    pub max_send_delay_ms: f64,
}

/// One stall: the probe scheduled at `at_s` waited `ms` from its schedule.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StallMoment {
    pub at_s: f64,
    pub ms: f64,
}

/// One figure's statistics over the run's samples (see [`FIGURES`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FigureStats {
    /// A name of [`FIGURES`].
    pub name: String,
    pub unit: String,
    /// Samples that measured it.
    pub count: u64,
    pub max: f64,
    pub min: f64,
    pub mean: f64,
    pub last: f64,
}

/// The threshold figures over the run so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerStats {
    /// Only the figures some monitored source measured, in [`FIGURES`] order.
    pub figures: Vec<FigureStats>,
}

impl ServerStats {
    pub fn figure(&self, name: &str) -> Option<&FigureStats> {
        self.figures.iter().find(|f| f.name == name)
    }
}

/// The result file's `server` section (absent when nothing was monitored).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerSection {
    /// Seconds between samples (`--monitor-interval`).
    pub interval_s: f64,
    /// In the order given on the command line: processes, Prometheus, PostgreSQL, probe.
    pub sources: Vec<SourceSeries>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeSummary>,
    pub stats: ServerStats,
    /// What the numbers suggest (blocking calls in async code, an exhausted pool), each
    /// naming its evidence; empty when nothing stood out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

/// One source's news in a closed second.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceLive {
    pub kind: Option<SourceKind>,
    pub name: String,
    /// All columns so far (a column may have been added since the last second).
    pub columns: Vec<Column>,
    /// The rows sampled since the last [`ServerLive`] (usually one), oldest first.
    pub rows: Vec<Row>,
    /// The newest row ever sampled (also when `rows` is empty this second).
    pub last: Option<Row>,
    /// Why the source gives no data now, if so.
    pub lost: Option<String>,
}

/// Something that happened to a source, for the run's timeline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerEvent {
    /// Seconds since the run's start.
    pub at_s: f64,
    /// `postgres 127.0.0.1:5432/app: unreachable (connection refused); the run goes on`.
    pub what: String,
}

/// The server side as of a closed second: what the session hands to the sinks in
/// `Live::server`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerLive {
    pub sources: Vec<SourceLive>,
    pub stats: ServerStats,
    pub probe: Option<ProbeSummary>,
    /// Events since the last [`ServerLive`].
    pub events: Vec<ServerEvent>,
}

/// Cumulative latency-bucket counts, Prometheus-style, for the exporters
/// (`--prometheus-listen`, `--otlp`): computed from the HDR histograms once a second when
/// a sink asks for them (`Settings::latency_buckets`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyBuckets {
    /// Upper bounds in seconds, ascending (`+Inf` is implied: it is `count`).
    pub bounds_s: Vec<f64>,
    /// Parallel to the snapshot's endpoints.
    pub endpoints: Vec<BucketCounts>,
    pub aggregate: BucketCounts,
}

/// One histogram's buckets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BucketCounts {
    /// Timed requests at or below each bound (cumulative, as Prometheus' `le`).
    pub cumulative: Vec<u64>,
    /// Timed requests in all.
    pub count: u64,
    /// The sum of their response times, in seconds (from the histogram: exact to its 3
    /// significant digits).
    pub sum_s: f64,
}
