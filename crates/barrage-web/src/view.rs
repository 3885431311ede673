//! The View: everything the page draws, as one JSON document. The HTML report embeds one made
//! from a result file ([`View::from_result`]); the web UI serves one for the run so far
//! (`GET /api/view`) and, each closed second, a *delta*: a View whose `series` and `windows`
//! hold only what is new since the previous one (appended by the page), every other field
//! whole (replaced).
//!
//! The monitored server's section (`server`) is the result file's, as is: the page groups
//! each source's columns by unit into charts itself, so a new kind of source needs no change
//! here. Live, its rows are appended like the series.
//!
//! A capacity search's result (`capacity`, from `barrage capacity`) is also carried as is:
//! the page draws its conclusion, steps and fits from the same numbers the JSON holds.
//!
//! Latencies are milliseconds, as everywhere in barrage. Series are columnar (one array per
//! figure) because that is what uPlot draws and it keeps the JSON small.

use std::collections::BTreeMap;

use barrage_metrics::{
    decode_histogram, ns_to_ms, CapacityDoc, CapacityStatus, CheckStats, ConnectionStats,
    EndpointStats, FailureStats, GeneratorStats, Histogram, NeverRan, ResultDoc, RunMeta,
    SecondSummary, ServerSection, TaskStats, ThresholdVerdict, TimelineEntry, Window,
};
use barrage_report::compare::{self, CompareOptions, Side};
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
    /// The monitored server (`--monitor-*`, `--probe`): each source's rows on the run's time
    /// axis, the probe, the hints; `None` when nothing was monitored. In a delta, each
    /// source's `rows` are only the new ones (appended by the page), every other field whole.
    pub server: Option<ServerSection>,
    /// What `barrage capacity` found (the result file's `capacity`): drawn near the top of a
    /// report; `None` for any other run, and always live (a search runs without the web UI).
    pub capacity: Option<CapacityDoc>,
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

// The functions below are shared by the report and the live view (which builds its View from
// a session's snapshots with `Row::of`, `series`, `windows`, `spectrum` and `verdict`).

impl View {
    /// The View of a finished run read from its result file; with `baseline`, the baseline
    /// drawn under it and `compare`'s verdicts (its default options: no gates). The verdict's
    /// exit status is the one barrage gave the run ([`exit_code`]).
    pub fn from_result(doc: &ResultDoc, baseline: Option<&ResultDoc>) -> View {
        let mut warnings = doc.warnings.clone();
        let mut spectra = Vec::with_capacity(doc.endpoints.len() + 1);
        let hs = &doc.histograms;
        let wanted = hs
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, h)| (Some(i as u32), h))
            .chain(std::iter::once((None, &hs.aggregate)));
        for (i, h) in wanted {
            // A version 1 file without histograms has empty strings: nothing to draw.
            if h.response_time.is_empty() {
                continue;
            }
            match h.response_time() {
                Ok(h) => spectra.push(spectrum(&h, i)),
                Err(e) => warnings.push(format!(
                    "the response-time histogram of {} cannot be read ({e}); its distribution \
                     is not drawn",
                    i.map_or("the aggregate".to_owned(), |i| format!("endpoint {i}"))
                )),
            }
        }
        View {
            mode: Mode::Report,
            state: State::Ended,
            tool_version: doc.tool.version.clone(),
            run: doc.run.clone(),
            load: doc.run.load.model.clone().unwrap_or_default(),
            form: None,
            elapsed_s: doc.run.duration_s,
            stats_since_s: doc.stats_since_s,
            users: doc.series.last().map_or(0, |s| s.users),
            in_flight: doc.series.last().map_or(0, |s| s.in_flight),
            endpoints: doc.endpoints.iter().map(Row::of).collect(),
            aggregate: Row::of(&doc.aggregate),
            failures: doc.failures.clone(),
            checks: doc.checks.clone(),
            tasks: doc.tasks.clone(),
            connections: doc.connections.clone(),
            generator: Generator {
                stats: doc.generator.clone(),
                suspect: suspect(&doc.warnings),
            },
            thresholds: doc.thresholds.iter().map(ThresholdView::judged).collect(),
            series: series_of(doc),
            windows: windows(&doc.windows),
            spectra,
            timeline: doc.timeline.clone(),
            warnings,
            never_ran: doc.never_ran.clone(),
            notices: Vec::new(),
            verdict: Some(verdict(doc, exit_code(doc))),
            baseline: baseline.map(|base| Box::new(Baseline::of(base, doc))),
            server: doc.server.clone(),
            capacity: doc.capacity.clone(),
        }
    }
}

impl Baseline {
    /// `base` as drawn under `new`, with `barrage compare base new`'s output.
    fn of(base: &ResultDoc, new: &ResultDoc) -> Baseline {
        let compared = compare::compare(
            Side {
                label: "baseline",
                doc: base,
            },
            Side {
                label: "this run",
                doc: new,
            },
            &CompareOptions::default(),
        );
        let compare = match compared {
            Ok(c) => serde_json::to_value(&c)
                .expect("a Comparison has only string keys and plain numbers, so it serializes"),
            // The report still shows both runs; the page says why there are no verdicts.
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        };
        Baseline {
            tool_version: base.tool.version.clone(),
            run: base.run.clone(),
            endpoints: base.endpoints.iter().map(Row::of).collect(),
            aggregate: Row::of(&base.aggregate),
            series: series_of(base),
            windows: windows(&base.windows),
            compare,
            // Compare's default options give no gates, so there is nothing to pass or fail.
            compare_passed: None,
        }
    }
}

impl ThresholdView {
    /// A threshold judged at the end of a run.
    pub fn judged(v: &ThresholdVerdict) -> ThresholdView {
        ThresholdView {
            expr: v.expr.clone(),
            status: if v.passed { "pass" } else { "fail" }.to_owned(),
            observed: v.observed,
            limit: v.limit,
            unit: v.unit.clone(),
            abort_on_fail: v.abort_on_fail,
            note: v.note.clone(),
        }
    }
}

/// Whether the run's warnings say its results are suspect (`barrage_report::generator`'s
/// rule, which words every such warning so).
pub fn suspect(warnings: &[String]) -> bool {
    warnings.iter().any(|w| w.starts_with("results suspect"))
}

/// The exit status barrage gives a finished run from its result: for a capacity search,
/// what it found ([`capacity_exit_code`]: a search that had concluded when Ctrl-C came
/// during the shutdown keeps its status); else 130 when it was interrupted, else the
/// gate's (0 passed, 1 failed). A worker error, an unwritable output (3) or a gate on a
/// capacity (`--fail-below`, `--fail-if`: 1) is not in the result; the binary knows those.
pub fn exit_code(doc: &ResultDoc) -> u8 {
    if let Some(cap) = &doc.capacity {
        capacity_exit_code(cap)
    } else if doc.run.interrupted {
        130
    } else if barrage_report::gate(doc).passed {
        0
    } else {
        1
    }
}

impl Row {
    /// A row of a snapshot or a result.
    pub fn of(stats: &EndpointStats) -> Row {
        Row {
            stats: stats.clone(),
            // Not serialized in EndpointStats (result files leave them out), so carried here.
            current_rps: stats.current_rps,
            failures_per_s: stats.failures_per_s,
        }
    }
}

/// A result file's series; files written before the in-flight gauge existed (version 1)
/// read it as 0, which was never measured: their column is left empty, and nothing is drawn.
fn series_of(doc: &ResultDoc) -> Series {
    let mut s = series(&doc.series);
    if doc.version < 2 {
        s.in_flight.clear();
    }
    s
}

/// The per-second series as columns.
pub fn series(rows: &[SecondSummary]) -> Series {
    let ms = |us: u32| f64::from(us) / 1e3;
    Series {
        t: rows.iter().map(|r| r.t).collect(),
        users: rows.iter().map(|r| r.users).collect(),
        rps: rows.iter().map(|r| r.rps).collect(),
        failures_per_s: rows
            .iter()
            .map(|r| r.failures as f64 * per_request_second(r))
            .collect(),
        in_flight: rows.iter().map(|r| r.in_flight).collect(),
        cpu_percent: rows.iter().map(|r| r.cpu_percent).collect(),
        dropped: rows.iter().map(|r| r.dropped).collect(),
        p50: rows.iter().map(|r| ms(r.p50)).collect(),
        p95: rows.iter().map(|r| ms(r.p95)).collect(),
        p99: rows.iter().map(|r| ms(r.p99)).collect(),
        max: rows.iter().map(|r| ms(r.max)).collect(),
    }
}

/// Failures per second need the second's actual length, which `rps` was computed over
/// (`requests / length`); a second without requests has no failures either.
fn per_request_second(r: &SecondSummary) -> f64 {
    if r.requests == 0 {
        0.0
    } else {
        r.rps / r.requests as f64
    }
}

/// The percentiles of [`QUANTILES`] for each window (decoding its histograms). A histogram
/// that cannot be decoded reads as no value (`null`), like a window without a success.
pub fn windows<'a>(list: impl IntoIterator<Item = &'a Window>) -> Windows {
    let list: Vec<&Window> = list.into_iter().collect();
    let n = list.len();
    let mut out = Windows {
        quantiles: QUANTILES.iter().map(|(l, _)| (*l).to_owned()).collect(),
        start: list.iter().map(|w| w.start).collect(),
        t: list.iter().map(|w| w.t).collect(),
        requests: list.iter().map(|w| w.aggregate.requests).collect(),
        aggregate: vec![Vec::with_capacity(n); QUANTILES.len()],
        endpoints: Vec::new(),
        open: None,
    };
    let mut by_endpoint: BTreeMap<u32, Vec<Vec<Option<f64>>>> = BTreeMap::new();
    for (w, window) in list.iter().enumerate() {
        push_quantiles(&mut out.aggregate, &window.aggregate.response_time);
        for e in &window.endpoints {
            let values = by_endpoint
                .entry(e.i)
                .or_insert_with(|| vec![vec![None; w]; QUANTILES.len()]);
            push_quantiles(values, &e.entry.response_time);
        }
        // Endpoints idle in this window get a gap.
        for values in by_endpoint.values_mut() {
            for column in values.iter_mut() {
                column.resize(w + 1, None);
            }
        }
    }
    out.endpoints = by_endpoint
        .into_iter()
        .map(|(i, values)| EndpointWindows { i, values })
        .collect();
    out
}

fn push_quantiles(columns: &mut [Vec<Option<f64>>], encoded: &str) {
    let values = quantiles_of(encoded);
    for (column, v) in columns.iter_mut().zip(values) {
        column.push(v);
    }
}

/// [`QUANTILES`] of an encoded histogram of nanoseconds, ms; `None` each when it is empty or
/// cannot be read.
pub fn quantiles_of(encoded: &str) -> Vec<Option<f64>> {
    match decode_histogram(encoded) {
        Ok(h) => quantiles(&h),
        Err(_) => vec![None; QUANTILES.len()],
    }
}

/// [`QUANTILES`] of a histogram of nanoseconds, ms, read as the statistics table reads them
/// (`value_at_quantile`; `max` is the histogram's max), so a window covering the whole run
/// shows the table's numbers.
pub fn quantiles(h: &Histogram<u64>) -> Vec<Option<f64>> {
    QUANTILES
        .iter()
        .map(|&(_, q)| {
            if h.is_empty() {
                None
            } else if q >= 1.0 {
                Some(ns_to_ms(h.max()))
            } else {
                Some(ns_to_ms(h.value_at_quantile(q)))
            }
        })
        .collect()
}

/// The percentiles a spectrum is read at, HdrHistogram's way: halving the distance to 100
/// each tick (0, 50, 75, 87.5, ...) up to 99.999, then 100.
fn spectrum_ticks() -> Vec<f64> {
    let mut ticks = vec![0.0];
    let mut step = 50.0;
    let mut p = 0.0;
    while p + step <= 99.999 {
        p += step;
        ticks.push(p);
        step /= 2.0;
    }
    ticks.push(100.0);
    ticks
}

/// The percentile spectrum of a histogram of nanoseconds, for endpoint `i` (`None`: the
/// aggregate). Empty when nothing was recorded. The ends are the histogram's min and max,
/// as in the table.
pub fn spectrum(h: &Histogram<u64>, i: Option<u32>) -> Spectrum {
    if h.is_empty() {
        return Spectrum {
            i,
            points: Vec::new(),
        };
    }
    let points = spectrum_ticks()
        .into_iter()
        .map(|p| {
            let ns = if p <= 0.0 {
                h.min()
            } else if p >= 100.0 {
                h.max()
            } else {
                h.value_at_quantile(p / 100.0)
            };
            [p, ns_to_ms(ns)]
        })
        .collect();
    Spectrum { i, points }
}

/// `barrage capacity`'s exit status for what the search found: 0 a capacity (also "at
/// least"), 3 none could be found (also `incomplete`), 130 interrupted. The totals of a search's result cover its
/// last step only, so the run's gate says nothing about the search.
pub fn capacity_exit_code(cap: &CapacityDoc) -> u8 {
    match cap.status {
        CapacityStatus::Found | CapacityStatus::AtLeast => 0,
        CapacityStatus::StartFails
        | CapacityStatus::GeneratorLimit
        | CapacityStatus::Incomplete => 3,
        CapacityStatus::Interrupted => 130,
    }
}

/// The verdict on a judged result (`barrage_report::gate`) with the exit status given; for
/// a capacity search, the search's conclusion.
pub fn verdict(doc: &ResultDoc, exit_code: u8) -> Verdict {
    if let Some(cap) = &doc.capacity {
        return Verdict {
            passed: exit_code == 0,
            exit_code,
            reason: cap.message.clone(),
        };
    }
    let gate = barrage_report::gate(doc);
    let reason = if doc.run.interrupted {
        format!("interrupted; {}", gate.reason)
    } else {
        gate.reason
    };
    Verdict {
        passed: gate.passed && exit_code == 0,
        exit_code,
        reason,
    }
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
