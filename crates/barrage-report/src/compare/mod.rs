//! `barrage compare BASE.json NEW.json`: what changed between two runs, and whether it is a
//! regression worth failing a build for.
//!
//! Endpoints are matched by (scenario, method, name); those in one run only are listed as
//! added or removed. For every endpoint in both runs, and for the aggregate, it compares
//! requests/s, error rate and response-time p50/p95/p99 (plus whatever a gate asks for),
//! each with the absolute and relative change, a 95 % interval for the change, and a verdict:
//! `better`, `worse`, `same` (the interval holds zero: the change is within the noise), or
//! `not enough data`.
//!
//! The design choice a newcomer might question: **a gate fails only when the change exceeds
//! the gate and also the noise.** Two runs of an unchanged service never give the same p95;
//! a gate on the raw figures would fail builds at random. So `p95>+10%` fails only when the
//! p95 rose by more than 10 % *and* the 95 % interval of the change lies wholly above zero.
//! The intervals are bootstrapped from the HDR histograms inside the result files (see
//! [`noise`] for each metric's method and the minimum sample sizes). Below those minimums the
//! figure is "not enough data": a gate on it is neither passed nor failed, and the comparison
//! says so (the command exits 0 with a warning, or 1 under `--strict`).
//!
//! Unlike the rest of this crate, this module computes statistics: a comparison is a view
//! over two result files, and the noise it needs lives only in their histograms. It must not
//! read files or print; the binary does that, and [`render`] formats.

mod change;
mod gate;
mod metric;
mod noise;
mod render;

use std::fmt;

use barrage_metrics::{EndpointStats, ResultDoc};
use serde::Serialize;

pub use gate::{Amount, Direction, Gate, GateError};
pub use metric::{Metric, Unit};
pub use noise::{min_samples_for_percentile, MIN_SAMPLES, MIN_TAIL_SAMPLES, RESAMPLES};
pub use render::{comparison_json, comparison_markdown, comparison_text};

use change::{compare_endpoint, Figures};

/// One of the two runs: a label for messages (usually the file name) and its result.
#[derive(Clone, Copy, Debug)]
pub struct Side<'a> {
    pub label: &'a str,
    pub doc: &'a ResultDoc,
}

/// What to compare, and the gates to check.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    pub gates: Vec<Gate>,
    /// Bootstrap resamples per percentile interval.
    pub resamples: usize,
}

impl Default for CompareOptions {
    fn default() -> CompareOptions {
        CompareOptions {
            gates: Vec::new(),
            resamples: RESAMPLES,
        }
    }
}

/// A result file whose histograms cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompareError {
    pub file: String,
    pub problem: String,
}

impl fmt::Display for CompareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}; compare needs the histograms a barrage run writes into its result file \
             (re-run with --json to get a fresh one)",
            self.file, self.problem
        )
    }
}

impl std::error::Error for CompareError {}

/// The whole comparison, as the text, Markdown and JSON views show it.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub base: RunInfo,
    pub new: RunInfo,
    /// Differences between the runs that make the comparison less fair (other scenario file,
    /// other load, other machine, an interrupted run).
    pub notes: Vec<String>,
    /// Endpoints in both runs and added ones in NEW's order, then removed ones in BASE's.
    pub endpoints: Vec<EndpointComparison>,
    pub aggregate: EndpointComparison,
    /// One entry per gate and endpoint it applies to.
    pub gates: Vec<GateCheck>,
    pub verdict: Verdict,
}

/// Facts about one of the runs, for the header.
#[derive(Clone, Debug, Serialize)]
pub struct RunInfo {
    pub file: String,
    pub started_at: String,
    pub duration_s: f64,
    pub requests: u64,
    pub target: String,
}

/// Where an endpoint was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Both,
    /// Only in NEW.
    Added,
    /// Only in BASE.
    Removed,
}

/// One endpoint (or the aggregate) in both runs.
#[derive(Clone, Debug, Serialize)]
pub struct EndpointComparison {
    pub scenario: String,
    pub method: String,
    pub name: String,
    pub presence: Presence,
    /// Requests in BASE and NEW (0 where absent).
    pub requests: [u64; 2],
    /// Empty unless the endpoint is in both runs.
    pub metrics: Vec<MetricChange>,
}

impl EndpointComparison {
    /// `GET /items/{id}`, with the scenario in front when `with_scenario`; `Aggregated` alone.
    pub fn display_name(&self, with_scenario: bool) -> String {
        let base = if self.method.is_empty() {
            self.name.clone()
        } else {
            format!("{} {}", self.method, self.name)
        };
        if with_scenario && !self.scenario.is_empty() {
            format!("{}: {base}", self.scenario)
        } else {
            base
        }
    }

    /// The change of `metric`, when it was compared.
    pub fn metric(&self, metric: Metric) -> Option<&MetricChange> {
        self.metrics.iter().find(|m| m.metric == metric)
    }
}

/// One metric's change between the runs.
#[derive(Clone, Debug, Serialize)]
pub struct MetricChange {
    pub metric: Metric,
    /// `ms`, `%` or `req/s`; changes of `%` are percentage points.
    pub unit: &'static str,
    pub base: f64,
    pub new: f64,
    /// `new - base`.
    pub change: f64,
    /// `change / base`, as a fraction; `None` when the base is 0.
    pub relative: Option<f64>,
    /// The 95 % interval of `change`; `None` for max and when there is not enough data.
    pub interval: Option<[f64; 2]>,
    /// The samples behind the figure in BASE and NEW: successful requests for latencies,
    /// all requests for error rate and requests/s.
    pub samples: [u64; 2],
    pub verdict: ChangeVerdict,
    /// Why there is no interval (not enough data, or max).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How a metric moved, net of noise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeVerdict {
    Better,
    Worse,
    /// Within the noise.
    Same,
    NotEnoughData,
}

/// One gate checked on one endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct GateCheck {
    pub gate: String,
    /// `GET /items/{id}`, `Aggregated`, or `-` when the gate matched no endpoint.
    pub endpoint: String,
    pub outcome: GateOutcome,
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateOutcome {
    Pass,
    Fail,
    /// Neither: too few samples, or nothing to compare.
    NotEnoughData,
}

/// The comparison's verdict: `Failed` if any gate failed, else `NotEnoughData` if any gate
/// could not be checked, else `Passed` (also when no gate was given).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    NotEnoughData,
}

/// Compares `new` with `base` and checks `opts.gates`.
pub fn compare(
    base: Side<'_>,
    new: Side<'_>,
    opts: &CompareOptions,
) -> Result<Comparison, CompareError> {
    let mut metrics: Vec<Metric> = Metric::DEFAULT.to_vec();
    metrics.extend(opts.gates.iter().map(|g| g.metric));
    metrics.sort();
    metrics.dedup();

    let mut endpoints = Vec::new();
    for (i, e) in new.doc.endpoints.iter().enumerate() {
        match find(base.doc, e) {
            Some(j) => {
                let b = Figures::of(base, Some(j))?;
                let n = Figures::of(new, Some(i))?;
                endpoints.push(compare_endpoint(e, &b, &n, &metrics, opts.resamples));
            }
            None => endpoints.push(one_sided(e, Presence::Added)),
        }
    }
    for e in &base.doc.endpoints {
        if find(new.doc, e).is_none() {
            endpoints.push(one_sided(e, Presence::Removed));
        }
    }
    let aggregate = compare_endpoint(
        &new.doc.aggregate,
        &Figures::of(base, None)?,
        &Figures::of(new, None)?,
        &metrics,
        opts.resamples,
    );
    let with_scenario = has_several_scenarios(&endpoints);
    let gates: Vec<GateCheck> = opts
        .gates
        .iter()
        .flat_map(|g| check_gate(g, &endpoints, &aggregate, with_scenario))
        .collect();
    let verdict = if gates.iter().any(|g| g.outcome == GateOutcome::Fail) {
        Verdict::Failed
    } else if gates
        .iter()
        .any(|g| g.outcome == GateOutcome::NotEnoughData)
    {
        Verdict::NotEnoughData
    } else {
        Verdict::Passed
    };
    Ok(Comparison {
        base: RunInfo::of(base),
        new: RunInfo::of(new),
        notes: notes(base.doc, new.doc),
        endpoints,
        aggregate,
        gates,
        verdict,
    })
}

/// True when endpoints come from more than one scenario, so names need the scenario.
pub(crate) fn has_several_scenarios(endpoints: &[EndpointComparison]) -> bool {
    let mut scenarios = endpoints.iter().map(|e| e.scenario.as_str());
    let first = scenarios.next();
    scenarios.any(|s| Some(s) != first)
}

impl RunInfo {
    fn of(side: Side<'_>) -> RunInfo {
        RunInfo {
            file: side.label.to_owned(),
            started_at: side.doc.run.started_at.clone(),
            duration_s: side.doc.run.duration_s,
            requests: side.doc.aggregate.requests,
            target: side.doc.run.target.clone(),
        }
    }
}

fn find(doc: &ResultDoc, e: &EndpointStats) -> Option<usize> {
    doc.endpoints
        .iter()
        .position(|o| o.scenario == e.scenario && o.method == e.method && o.name == e.name)
}

fn one_sided(e: &EndpointStats, presence: Presence) -> EndpointComparison {
    EndpointComparison {
        scenario: e.scenario.clone(),
        method: e.method.clone(),
        name: e.name.clone(),
        presence,
        requests: match presence {
            Presence::Removed => [e.requests, 0],
            _ => [0, e.requests],
        },
        metrics: Vec::new(),
    }
}

/// Checks `gate` on every endpoint it applies to.
fn check_gate(
    gate: &Gate,
    endpoints: &[EndpointComparison],
    aggregate: &EndpointComparison,
    with_scenario: bool,
) -> Vec<GateCheck> {
    let check = |e: &EndpointComparison, outcome, detail: String| GateCheck {
        gate: gate.text().to_owned(),
        endpoint: e.display_name(with_scenario),
        outcome,
        detail,
    };
    let targets: Vec<&EndpointComparison> = if gate.has_matchers() {
        endpoints
            .iter()
            .filter(|e| gate.matches(&e.scenario, &e.method, &e.name))
            .collect()
    } else {
        endpoints
            .iter()
            .filter(|e| e.presence == Presence::Both)
            .chain([aggregate])
            .collect()
    };
    if targets.is_empty() {
        return vec![GateCheck {
            gate: gate.text().to_owned(),
            endpoint: "-".to_owned(),
            outcome: GateOutcome::NotEnoughData,
            detail: "matches no endpoint of either run: check the labels against the table"
                .to_owned(),
        }];
    }
    targets
        .into_iter()
        .map(|e| {
            let Some(m) = e.metric(gate.metric) else {
                let side = if e.presence == Presence::Added {
                    "NEW"
                } else {
                    "BASE"
                };
                return check(
                    e,
                    GateOutcome::NotEnoughData,
                    format!("only in {side}: nothing to compare"),
                );
            };
            if m.verdict == ChangeVerdict::NotEnoughData {
                let why = m.note.clone().unwrap_or_default();
                return check(e, GateOutcome::NotEnoughData, why);
            }
            let exceeded = gate.exceeded_by(m.change, m.relative);
            let beyond_noise = match (m.interval, gate.direction) {
                (Some([lo, _]), Direction::Increase) => lo > 0.0,
                (Some([_, hi]), Direction::Decrease) => hi < 0.0,
                (None, _) => true,
            };
            let mut detail = render::change_sentence(m);
            let outcome = if exceeded && beyond_noise {
                GateOutcome::Fail
            } else {
                if exceeded {
                    detail.push_str("; beyond the gate but within the noise");
                }
                GateOutcome::Pass
            };
            check(e, outcome, detail)
        })
        .collect()
}

/// What makes the two runs less comparable than they look.
fn notes(base: &ResultDoc, new: &ResultDoc) -> Vec<String> {
    let mut notes = Vec::new();
    if let (Some(b), Some(n)) = (&base.run.scenario_sha256, &new.run.scenario_sha256) {
        if b != n {
            notes.push("the runs used different scenario files (their SHA-256 differ)".into());
        }
    }
    let (bl, nl) = (&base.run.load, &new.run.load);
    if bl.users != nl.users {
        notes.push(format!(
            "different load: BASE ran {} users, NEW {}",
            count(bl.users),
            count(nl.users)
        ));
    }
    if base.run.host != new.run.host {
        notes.push(format!(
            "different machines: BASE {} {} with {} CPUs, NEW {} {} with {} CPUs",
            base.run.host.os,
            base.run.host.arch,
            base.run.host.cpus,
            new.run.host.os,
            new.run.host.arch,
            new.run.host.cpus
        ));
    }
    for (which, doc) in [("BASE", base), ("NEW", new)] {
        if doc.run.interrupted {
            notes.push(format!("{which} was interrupted before its end"));
        }
    }
    notes
}

fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "?".to_owned(), |n| n.to_string())
}

#[cfg(test)]
mod tests;
