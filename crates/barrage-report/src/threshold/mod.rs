//! Thresholds: pass/fail expressions over a run's statistics, like `p95 < 200ms`.
//!
//! The language, in full:
//!
//! ```text
//! threshold = metric [ "{" matcher { "," matcher } [","] "}" ] op limit
//!           | stat "(" figure ")" op limit                  stat = max | avg | mean | min | last
//! matcher   = label ( "=" | "!=" | "=~" | "!~" ) quoted     label = scenario | method | name | check
//! op        = "<" | "<=" | ">" | ">=" | "==" | "!="
//! limit     = number [ unit ]                                unit = ns | us | µs | ms | s | m | h | % | /s
//!                                                                  | B | kB | MB | GB | KiB | MiB | GiB
//! ```
//!
//! Metrics: response-time `p50 p75 p90 p95 p99 p99.9` (`p999` and `median` are aliases),
//! `mean` (`avg`), `min`, `max`; the same with a `service_` prefix for service time
//! (`service_p95`); `error_rate` (failed / all requests, `1%` or `0.01`); `rps` (requests per
//! second over the run); `checks` (the share of check evaluations that passed); `requests`
//! and `failures` (counts); `dropped_iterations` (iterations an open-model schedule could
//! not start; always 0 in closed models).
//!
//! Server figures (`--monitor-*`, `--probe`): `server_cpu` (in % of one core: `90%` is 90,
//! `150%` one and a half cores; a bare number is % too), `server_rss` (a size: `500MB`,
//! `1GiB`), `server_threads`, `server_open_files`, `probe_max_stall` (a time),
//! `probe_failures`, `pg_connections`, `pg_connections_active`,
//! `pg_connections_idle_in_transaction`, `pg_connections_waiting`, `pg_transactions` (per
//! second), `pg_longest_query` (a time). A threshold judges their per-sample maximum over the
//! run, or the statistic it names: `avg(server_cpu) < 70%`, `min(...)`, `max(...)`,
//! `last(...)`. They take no label matchers. When nothing measured one, its threshold fails
//! with a note naming the flag that would.
//!
//! The metric names, label matchers and number+unit reading are [`crate::vocab`]'s, shared
//! with compare gates; what is a threshold's own is the comparison, what a limit's unit means
//! (`1%` is 0.01 of error rate), and how a threshold is judged ([`evaluate`]).
//!
//! Matchers narrow a threshold to the endpoints whose labels match, as in Prometheus: `=`
//! and `!=` compare the text exactly (`method` ignores case), `=~` and `!~` take a regular
//! expression anchored at both ends. Without matchers a threshold judges all endpoints
//! together. With matchers it judges the matching endpoints together: counts add up, means
//! are weighted by count, and percentiles over several endpoints are read from their merged
//! HDR histograms, which only a result (not a live snapshot) holds; live, such a threshold
//! shows as "judged at the end".
//!
//! This module must not read clocks or print: [`parse`] reads text, [`evaluate`] reads a
//! snapshot (and, at the end, the result's histograms), [`Watch`] keeps the live state.

mod eval;
mod parse;
mod view;
mod watch;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_server;

use std::ops::Range;

use crate::vocab;

pub use eval::{evaluate, Evaluation};
pub use parse::parse;
pub use view::{describe, thresholds_section};
pub use watch::{Watch, Watched};

// The vocabulary is shared with compare gates; it is re-exported here because a threshold
// is where most callers meet it (and where they always found it).
pub use vocab::{
    Figure, FigureStat, Label, MatchOp, Matcher, Metric, ParseError, Stat, Timing, Unit,
    FIGURE_NAMES, METRIC_NAMES,
};

/// A parsed threshold.
#[derive(Clone, Debug)]
pub struct Threshold {
    /// The expression as written.
    pub text: String,
    pub metric: Metric,
    /// Where the metric name is in `text`.
    pub metric_span: Range<usize>,
    pub matchers: Vec<Matcher>,
    pub op: Op,
    /// In the metric's [`Unit`]: milliseconds, a fraction, requests/s or a count.
    pub limit: f64,
    /// Where the limit (number and unit) is in `text`.
    pub limit_span: Range<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    /// Whether `observed op limit` holds. Two values count as equal when they agree to
    /// about nine significant digits, so a limit copied from a result file (or written as
    /// `1.5%` for a rate computed as 3/200) compares equal despite binary rounding.
    pub fn holds(self, observed: f64, limit: f64) -> bool {
        let equal = (observed - limit).abs() <= 1e-9 * observed.abs().max(limit.abs()).max(1e-9);
        match self {
            Op::Lt => observed < limit && !equal,
            Op::Le => observed < limit || equal,
            Op::Gt => observed > limit && !equal,
            Op::Ge => observed > limit || equal,
            Op::Eq => equal,
            Op::Ne => !equal,
        }
    }
}

impl Threshold {
    /// Whether an endpoint (or a check on it) is selected by every matcher. The `check`
    /// label is compared with `check` when given, and passes otherwise.
    pub fn selects(&self, scenario: &str, method: &str, name: &str, check: Option<&str>) -> bool {
        vocab::selects(&self.matchers, scenario, method, name, check)
    }

    /// Whether judging it may need several endpoints' histograms merged.
    pub fn needs_histograms(&self) -> bool {
        matches!(self.metric, Metric::Latency(_, s) if s.is_percentile())
            && !self.matchers.is_empty()
    }
}
