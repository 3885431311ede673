//! Thresholds: pass/fail expressions over a run's statistics, like `p95 < 200ms`.
//!
//! The language, in full:
//!
//! ```text
//! threshold = metric [ "{" matcher { "," matcher } [","] "}" ] op limit
//! matcher   = label ( "=" | "!=" | "=~" | "!~" ) quoted     label = scenario | method | name | check
//! op        = "<" | "<=" | ">" | ">=" | "==" | "!="
//! limit     = number [ unit ]                                unit = us | ms | s | m | % | /s
//! ```
//!
//! Metrics: response-time `p50 p75 p90 p95 p99 p99.9` (`p999` and `median` are aliases),
//! `mean` (`avg`), `min`, `max`; the same with a `service_` prefix for service time
//! (`service_p95`); `error_rate` (failed / all requests, `1%` or `0.01`); `rps` (requests per
//! second over the run); `checks` (the share of check evaluations that passed); `requests`
//! and `failures` (counts); `dropped_iterations` (iterations an open-model schedule could
//! not start; always 0 in closed models).
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

use std::ops::Range;

use regex::Regex;

pub use eval::{evaluate, Evaluation};
pub use parse::{parse, ParseError, METRIC_NAMES};
pub use view::{describe, thresholds_section};
pub use watch::{Watch, Watched};

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

/// Which latency a latency metric reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// From the intended start to the last byte.
    Response,
    /// From the request written to the last byte.
    Service,
}

/// Which statistic of a latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    P50,
    P75,
    P90,
    P95,
    P99,
    P999,
    Mean,
    Min,
    Max,
}

impl Stat {
    fn name(self) -> &'static str {
        match self {
            Stat::P50 => "p50",
            Stat::P75 => "p75",
            Stat::P90 => "p90",
            Stat::P95 => "p95",
            Stat::P99 => "p99",
            Stat::P999 => "p99.9",
            Stat::Mean => "mean",
            Stat::Min => "min",
            Stat::Max => "max",
        }
    }

    fn is_percentile(self) -> bool {
        !matches!(self, Stat::Mean | Stat::Min | Stat::Max)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Latency(Timing, Stat),
    ErrorRate,
    Rps,
    Checks,
    Requests,
    Failures,
    DroppedIterations,
}

impl Metric {
    /// The canonical name (`p99.9`, `service_mean`, `error_rate`).
    pub fn name(self) -> String {
        match self {
            Metric::Latency(Timing::Response, s) => s.name().to_owned(),
            Metric::Latency(Timing::Service, s) => format!("service_{}", s.name()),
            Metric::ErrorRate => "error_rate".to_owned(),
            Metric::Rps => "rps".to_owned(),
            Metric::Checks => "checks".to_owned(),
            Metric::Requests => "requests".to_owned(),
            Metric::Failures => "failures".to_owned(),
            Metric::DroppedIterations => "dropped_iterations".to_owned(),
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Metric::Latency(..) => Unit::Ms,
            Metric::ErrorRate | Metric::Checks => Unit::Ratio,
            Metric::Rps => Unit::PerSecond,
            Metric::Requests | Metric::Failures | Metric::DroppedIterations => Unit::Count,
        }
    }
}

/// The unit a metric's values (and its limit) are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds.
    Ms,
    /// A fraction from 0 to 1 (shown as a percentage).
    Ratio,
    /// Requests per second.
    PerSecond,
    Count,
}

impl Unit {
    /// The name stored in result files.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::Ratio => "ratio",
            Unit::PerSecond => "req/s",
            Unit::Count => "count",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Unit::Ms => "200ms",
            Unit::Ratio => "1%",
            Unit::PerSecond => "100",
            Unit::Count => "0",
        }
    }
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    Scenario,
    Method,
    Name,
    /// The check's own name; `checks` only.
    Check,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    Eq,
    Ne,
    Regex,
    NotRegex,
}

/// `name="/items/{item_id}"`.
#[derive(Clone, Debug)]
pub struct Matcher {
    pub label: Label,
    pub op: MatchOp,
    /// The value with its escapes resolved.
    pub value: String,
    /// For `=~` and `!~`: the value compiled, anchored at both ends.
    pub regex: Option<Regex>,
}

impl Matcher {
    /// Whether a label's value satisfies this matcher.
    pub fn matches(&self, value: &str) -> bool {
        let equal = if self.label == Label::Method {
            value.eq_ignore_ascii_case(&self.value)
        } else {
            value == self.value
        };
        match (self.op, &self.regex) {
            (MatchOp::Eq, _) => equal,
            (MatchOp::Ne, _) => !equal,
            (MatchOp::Regex, Some(r)) => r.is_match(value),
            (MatchOp::NotRegex, Some(r)) => !r.is_match(value),
            // `parse` always compiles the regex of `=~` and `!~`.
            (MatchOp::Regex | MatchOp::NotRegex, None) => false,
        }
    }
}

impl Threshold {
    /// Whether an endpoint (or a check on it) is selected by every matcher. The `check`
    /// label is compared with `check` when given, and passes otherwise.
    pub fn selects(&self, scenario: &str, method: &str, name: &str, check: Option<&str>) -> bool {
        self.matchers.iter().all(|m| match m.label {
            Label::Scenario => m.matches(scenario),
            Label::Method => m.matches(method),
            Label::Name => m.matches(name),
            Label::Check => check.is_none_or(|c| m.matches(c)),
        })
    }

    /// Whether judging it may need several endpoints' histograms merged.
    pub fn needs_histograms(&self) -> bool {
        matches!(self.metric, Metric::Latency(_, s) if s.is_percentile())
            && !self.matchers.is_empty()
    }
}
