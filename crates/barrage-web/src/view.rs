//! The View: everything the page draws, as one JSON document. The HTML report embeds one made
//! from a result file ([`View::from_result`]); the web UI serves one for the run so far
//! (`GET /api/view`) and, each closed second, a *delta*: a View whose `series` and `windows`
//! hold only what is new since the previous one (appended by the page), every other field
//! whole (replaced).
//!
//! Latencies are milliseconds, as everywhere in barrage. Series are columnar (one array per
//! figure) because that is what uPlot draws and it keeps the JSON small.

use barrage_metrics::{
    CheckStats, ConnectionStats, EndpointStats, FailureStats, GeneratorStats, NeverRan, RunMeta,
    TaskStats, TimelineEntry,
};
use serde::{Deserialize, Serialize};

/// The quantiles the percentile-over-time chart offers, as labelled on the page.
pub const QUANTILES: [(&str, f64); 7] = [
    ("p50", 0.5),
    ("p75", 0.75),
    ("p90", 0.9),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p99.9", 0.999),
    ("max", 1.0),
];

/// What the page shows. See the module comment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct View {
    pub mode: Mode,
    pub state: State,
    pub tool_version: String,
    /// The run's metadata (target, times, command, load), redacted as the result file is.
    pub run: RunMeta,
    /// The load in words, one clause per scenario.
    pub load: String,
    /// Live, before the start: the start form's fields, pre-filled.
    pub form: Option<Form>,
    pub elapsed_s: f64,
    /// Where the cumulative statistics start (after a reset).
    pub stats_since_s: f64,
    pub users: u64,
    pub in_flight: u64,
    /// One row per endpoint, in the result file's order (its index is the endpoint's `i`).
    pub endpoints: Vec<Row>,
    pub aggregate: Row,
    pub failures: Vec<FailureStats>,
    pub checks: Vec<CheckStats>,
    pub tasks: Vec<TaskStats>,
    pub connections: ConnectionStats,
    pub generator: Generator,
    pub thresholds: Vec<ThresholdView>,
    pub series: Series,
    pub windows: Windows,
    /// Latency distributions (percentile spectra): every endpoint's and the aggregate's in
    /// a report; empty live (the page asks `GET /api/distribution?endpoint=I`).
    pub spectra: Vec<Spectrum>,
    pub timeline: Vec<TimelineEntry>,
    pub warnings: Vec<String>,
    pub never_ran: Vec<NeverRan>,
    /// Live: messages for the person watching (statistics reset, load changed), oldest first.
    pub notices: Vec<String>,
    /// Once the run is over: pass or fail, the exit status and why.
    pub verdict: Option<Verdict>,
    /// A report made with `--baseline`: the baseline run, drawn under this one.
    pub baseline: Option<Box<Baseline>>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Report,
    Live,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Waiting for the start form.
    Ready,
    Running,
    /// A stop was asked; in-flight requests are finishing.
    Stopping,
    #[default]
    Ended,
}

/// One endpoint's (or the aggregate's) statistics, with the live-only rates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Row {
    #[serde(flatten)]
    pub stats: EndpointStats,
    /// Requests per second over the last few closed seconds (0 in a report).
    pub current_rps: f64,
    pub failures_per_s: f64,
}

/// The start form: what the page pre-fills from the scenario file and the flags.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub host: String,
    pub run_time_s: Option<f64>,
    pub scenarios: Vec<FormScenario>,
    /// Whether users, spawn rate and rate can be changed in the form (one scenario); with
    /// several, each one's load is shown as the file sets it.
    pub editable: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FormScenario {
    pub name: String,
    /// `users` (closed model) or `rate` (open model): what a load change sets.
    pub steers: String,
    pub users: Option<u64>,
    pub spawn_rate: Option<f64>,
    pub rate: Option<f64>,
    /// The load in words.
    pub load: String,
}

/// The generator's health.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Generator {
    #[serde(flatten)]
    pub stats: GeneratorStats,
    /// The results may not be the server's (schedule lag or CPU): see `warnings`.
    pub suspect: bool,
}

/// A threshold and where it stands.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThresholdView {
    pub expr: String,
    /// `pass`, `fail`, or `pending` (live, not judged yet).
    pub status: String,
    pub observed: Option<f64>,
    pub limit: f64,
    pub unit: String,
    pub abort_on_fail: bool,
    pub note: Option<String>,
}

/// One row per closed second, as columns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Seconds since the start, at the end of each second.
    pub t: Vec<f64>,
    pub users: Vec<u64>,
    pub rps: Vec<f64>,
    pub failures_per_s: Vec<f64>,
    pub in_flight: Vec<u64>,
    /// The busiest worker's CPU, percent of one core.
    pub cpu_percent: Vec<f64>,
    pub dropped: Vec<u64>,
    pub p50: Vec<f64>,
    pub p95: Vec<f64>,
    pub p99: Vec<f64>,
    pub max: Vec<f64>,
}

/// Percentiles per 10-second window, read from the windows' histograms.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Windows {
    /// The labels of [`QUANTILES`], in order: the first index of every `values`.
    pub quantiles: Vec<String>,
    /// Window starts, Unix seconds.
    pub start: Vec<u64>,
    /// Seconds since the run's start at each window's last closed second (the x axis).
    pub t: Vec<f64>,
    pub requests: Vec<u64>,
    /// `values[q][w]`: quantile `q` of window `w`, ms; `null` with no successful request.
    pub aggregate: Vec<Vec<Option<f64>>>,
    /// Endpoints with traffic in any of these windows, `values` shaped as `aggregate`.
    pub endpoints: Vec<EndpointWindows>,
    /// Live: the window still open (aggregate only), drawn as a provisional last point.
    pub open: Option<OpenWindow>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointWindows {
    pub i: u32,
    pub values: Vec<Vec<Option<f64>>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenWindow {
    pub start: u64,
    pub t: f64,
    /// One value per quantile, ms.
    pub values: Vec<Option<f64>>,
}

/// A latency distribution: response time at each percentile, for a log-scale spectrum.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Spectrum {
    /// The endpoint's index; `None` for the aggregate.
    pub i: Option<u32>,
    /// `[percentile (0..100), ms]`, percentiles increasing.
    pub points: Vec<[f64; 2]>,
}

/// The verdict on a finished run: the one rule of `barrage_report::gate`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub passed: bool,
    /// The exit status barrage gave (or gives) the run.
    pub exit_code: u8,
    pub reason: String,
}

/// The baseline of a report made with `--baseline`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub tool_version: String,
    pub run: RunMeta,
    pub endpoints: Vec<Row>,
    pub aggregate: Row,
    pub series: Series,
    pub windows: Windows,
    /// `barrage compare`'s machine-readable output (baseline vs this run).
    pub compare: serde_json::Value,
    /// Whether compare's gates passed (`None`: no gates were given).
    pub compare_passed: Option<bool>,
}

// The functions below are shared by the report (helper B implements them) and the live
// view (helper C uses them). Placeholders until B's branch lands; none may remain.

impl View {
    /// The View of a finished run read from its result file; with `baseline`, the baseline
    /// drawn under it and `compare`'s verdicts. `exit_code` is what barrage gave the run.
    pub fn from_result(
        doc: &barrage_metrics::ResultDoc,
        baseline: Option<&barrage_metrics::ResultDoc>,
    ) -> View {
        let _ = (doc, baseline);
        todo!("helper B")
    }
}

impl Row {
    /// A row of a snapshot or a result.
    pub fn of(stats: &EndpointStats) -> Row {
        let _ = stats;
        todo!("helper B")
    }
}

/// The per-second series as columns.
pub fn series(rows: &[barrage_metrics::SecondSummary]) -> Series {
    let _ = rows;
    todo!("helper B")
}

/// The percentiles of [`QUANTILES`] for each window (decoding its histograms).
pub fn windows<'a>(list: impl IntoIterator<Item = &'a barrage_metrics::Window>) -> Windows {
    let _ = list.into_iter();
    todo!("helper B")
}

/// The percentile spectrum of a histogram of nanoseconds, for endpoint `i` (`None`: the
/// aggregate).
pub fn spectrum(h: &barrage_metrics::Histogram<u64>, i: Option<u32>) -> Spectrum {
    let _ = (h, i);
    todo!("helper B")
}

/// The verdict on a judged result (`barrage_report::gate`) with the exit status given.
pub fn verdict(doc: &barrage_metrics::ResultDoc, exit_code: u8) -> Verdict {
    let _ = (doc, exit_code);
    todo!("helper B")
}
