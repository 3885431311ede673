//! What a capacity search found, as the result file's `capacity` object (and, for a sweep
//! over configurations, the sweep document): the capacity with its bracket, every step
//! that was run with its figures and verdict, and the fits made from them.
//!
//! Plain data: the search itself lives in `barrage-capacity`; the terminal, the HTML report
//! and `barrage compare`-style gates read these types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What is searched: the highest arrival rate (open model) or the most users (closed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchModel {
    /// Iterations started per second on a schedule (`--model rate`, the default).
    #[default]
    Rate,
    /// Concurrent users with the file's think time (`--model users`).
    Users,
}

impl SearchModel {
    /// The level's unit in words: `iterations/s` or `users`.
    pub fn unit(self) -> &'static str {
        match self {
            SearchModel::Rate => "iterations/s",
            SearchModel::Users => "users",
        }
    }
}

/// How a search ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityStatus {
    /// A capacity was found between a confirmed passing level and a failing one.
    #[default]
    Found,
    /// `--max-rate` (or `--max-users`) still passed: the capacity is at least that.
    AtLeast,
    /// The start level already failed: no capacity could be found.
    StartFails,
    /// The generator, not the service, was the limit: that level is not the service's.
    GeneratorLimit,
    /// Stopped by the person (Ctrl-C): the bracket found so far.
    Interrupted,
    /// The search stopped before it bracketed a capacity, and not by the person: its step
    /// limit or the run's time bound was reached (or a statistics reset never showed) with
    /// no failing level above the highest pass. The bracket so far; the capacity is at
    /// least its `passed` level, which is not the service's limit.
    Incomplete,
}

/// The stage of the search a step belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepPhase {
    /// Growing by a factor from the start level until a step fails.
    Probe,
    /// Halving the bracket between the last pass and the first failure.
    Bisect,
    /// Repeating the highest passing level to confirm it.
    Confirm,
}

/// The bracket: the highest level that passed and the lowest that failed above it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bracket {
    /// Highest level that passed (confirmed, once the search is over); `None` when none did.
    pub passed: Option<f64>,
    /// Lowest level above `passed` that failed; `None` when none failed.
    pub failed: Option<f64>,
}

/// One step of the search: a level held for the warm-up and then judged for the step's
/// length.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CapacityStep {
    /// 1, 2, ... in the order run.
    pub index: u32,
    pub phase: Option<StepPhase>,
    /// The level asked for: iterations/s (rate model) or users.
    pub level: f64,
    /// Seconds since the run's start where the judged part began and ended (after the
    /// warm-up); the result's `series` holds these seconds.
    pub judged_from_s: f64,
    pub judged_to_s: f64,
    /// Requests finished in the judged part, failed ones included, and the failed ones.
    pub requests: u64,
    pub failures: u64,
    /// `failures / requests` (0 without requests).
    pub error_rate: f64,
    /// Requests per second achieved over the judged part.
    pub rps: f64,
    /// Iterations per second achieved: started (open model) or finished (closed).
    pub iterations_per_second: f64,
    /// Scheduled iterations dropped in the judged part (open model).
    pub dropped_iterations: u64,
    /// Response time of successful requests over the judged part, ms.
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Requests in service at once, by Little's law: `rps x mean response time`.
    pub concurrency: f64,
    /// Least-squares slope of the per-second median response time over the judged part
    /// (ms per second) and its 95 % interval; `None` with fewer than three seconds.
    pub latency_slope: Option<Slope>,
    /// The server's CPU (% of one core, the monitored processes summed) averaged over the
    /// judged part; `None` when no process was monitored.
    pub server_cpu_percent: Option<f64>,
    /// The busiest generator worker's CPU (% of a core) and schedule lag p99 (ms) in the
    /// judged part.
    pub generator_cpu_percent: f64,
    pub schedule_lag_p99_ms: f64,
    pub passed: bool,
    /// Why it failed, one line each, objectives first (`p99 < 300ms: 412.0 ms`), then
    /// steadiness (`achieved 1,912/s, under 98 % of 2,000/s`); empty when it passed.
    pub reasons: Vec<String>,
    /// The generator was the limit in this step (a worker saturated or its schedule lagged).
    #[serde(default)]
    pub generator_limited: bool,
    /// The schedule was late (or short) while the generator's workers were mostly idle:
    /// other work on the machine took the CPU. Neither pass nor failure: the search ran the
    /// step again (the next step, same level and phase). Absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disturbed: bool,
    /// What happened before the step that bears on it (the previous step's backlog had not
    /// drained when it began).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A least-squares slope with its 95 % confidence interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Slope {
    pub slope: f64,
    pub low: f64,
    pub high: f64,
    /// Points the fit used.
    pub points: u32,
}

/// A Universal Scalability Law fit of throughput `X` against concurrency `N`:
/// `X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1))`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UslFit {
    /// Throughput of one request in service (requests/s).
    pub lambda: f64,
    /// Contention (serialization) coefficient.
    pub sigma: f64,
    /// Coherency (crosstalk) coefficient.
    pub kappa: f64,
    /// Coefficient of determination of the fit over the points it used.
    pub r_squared: f64,
    /// Concurrency where the fitted throughput peaks (`sqrt((1 - sigma) / kappa)`); `None`
    /// when `kappa` is 0 (no peak).
    pub peak_concurrency: Option<f64>,
    /// The fitted throughput at that peak.
    pub peak_rps: Option<f64>,
    /// Points (steps) the fit used.
    pub points: u32,
}

/// How the search was asked to run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchSettingsDoc {
    pub model: SearchModel,
    /// The objectives, as given (`p99 < 300ms`).
    pub objectives: Vec<String>,
    pub start: f64,
    pub max: f64,
    /// The bracket's width, relative to its lower end, at which bisection stops (0.05).
    pub precision: f64,
    pub step_s: f64,
    pub warmup_s: f64,
    /// `even` or `poisson` (open model).
    pub arrivals: String,
}

/// The result file's `capacity` object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CapacityDoc {
    pub status: CapacityStatus,
    /// The capacity in requests/s: what the confirmed passing step achieved; `None` when
    /// no level passed.
    pub rps: Option<f64>,
    /// The capacity in iterations/s: in the open model the arrival rate that step ran at
    /// (its level; a Poisson step's count is a draw from it), in the closed model the
    /// iterations its users finished per second.
    pub iterations_per_second: Option<f64>,
    /// `--model users`: the most users that met the objectives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<f64>,
    /// In the search's levels (iterations/s or users).
    pub bracket: Bracket,
    /// Requests in service at once at the capacity (Little's law).
    pub concurrency: Option<f64>,
    /// What failed first at the lowest failing level (an objective or a steadiness check).
    pub first_failed: Option<String>,
    /// With three or more steps of different concurrency.
    pub usl: Option<UslFit>,
    /// Steps run, and steps a linear ramp from the start level in steps of `precision` x
    /// the capacity would have needed to reach the first failure.
    pub steps_run: u32,
    pub linear_ramp_steps: Option<u32>,
    /// The conclusion in words (what the terminal prints first).
    pub message: String,
    pub settings: SearchSettingsDoc,
    pub steps: Vec<CapacityStep>,
}

/// One configuration of a sweep (`--serve ... --vary workers=1,2,4`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepEntry {
    /// The values of this configuration, by name as given to `--vary` (`workers`,
    /// `env:DB_POOL_SIZE`).
    pub values: BTreeMap<String, String>,
    /// The service's command line with the values filled in.
    pub command: String,
    /// Where the service's output was kept.
    pub log: String,
    /// The search's result; `None` when the service did not start or answer (see `error`).
    pub capacity: Option<CapacityDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The file `--json` writes for a sweep: one entry per configuration, in the order run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepDoc {
    /// Always `"capacity-sweep"`, so a reader can tell it from a result file.
    pub kind: String,
    pub tool_version: String,
    pub scenario_file: String,
    pub serve: String,
    pub configurations: Vec<SweepEntry>,
    /// Stopped by the person before every configuration ran.
    #[serde(default)]
    pub interrupted: bool,
}
