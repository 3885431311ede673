//! The figures `compare` can compare and gate on, with their units and which way is better.

use serde::Serialize;

/// One compared figure of an endpoint. Latencies are response times (from the intended start,
/// DESIGN.md "Measuring latency right") over successful requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Rps,
    ErrorRate,
    P50,
    P75,
    P90,
    P95,
    P99,
    P999,
    Mean,
    Max,
}

/// The unit a metric's values and absolute changes are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds.
    Ms,
    /// Percent (error rate); its changes are percentage points.
    Percent,
    /// Requests per second.
    PerSecond,
}

impl Metric {
    pub const ALL: [Metric; 10] = [
        Metric::Rps,
        Metric::ErrorRate,
        Metric::P50,
        Metric::P75,
        Metric::P90,
        Metric::P95,
        Metric::P99,
        Metric::P999,
        Metric::Mean,
        Metric::Max,
    ];

    /// Shown for every endpoint; gated metrics are added to these.
    pub const DEFAULT: [Metric; 5] = [
        Metric::Rps,
        Metric::ErrorRate,
        Metric::P50,
        Metric::P95,
        Metric::P99,
    ];

    /// The name used in gates and in the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Rps => "rps",
            Metric::ErrorRate => "error_rate",
            Metric::P50 => "p50",
            Metric::P75 => "p75",
            Metric::P90 => "p90",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::P999 => "p999",
            Metric::Mean => "mean",
            Metric::Max => "max",
        }
    }

    /// The name in a gate; as in thresholds, `p99.9` is accepted for `p999`, `median` for
    /// `p50` and `avg` for `mean`.
    pub fn parse(s: &str) -> Option<Metric> {
        let s = s.to_ascii_lowercase();
        match s.as_str() {
            "p99.9" => return Some(Metric::P999),
            "median" => return Some(Metric::P50),
            "avg" => return Some(Metric::Mean),
            _ => {}
        }
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The percentile in thousandths (p95 is 950), for percentile metrics.
    pub fn per_mille(self) -> Option<u32> {
        match self {
            Metric::P50 => Some(500),
            Metric::P75 => Some(750),
            Metric::P90 => Some(900),
            Metric::P95 => Some(950),
            Metric::P99 => Some(990),
            Metric::P999 => Some(999),
            _ => None,
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Metric::Rps => Unit::PerSecond,
            Metric::ErrorRate => Unit::Percent,
            _ => Unit::Ms,
        }
    }

    /// True for requests/s; every other metric is better lower.
    pub fn higher_is_better(self) -> bool {
        self == Metric::Rps
    }

    /// How a table labels the metric's row.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Rps => "req/s",
            Metric::ErrorRate => "error rate",
            Metric::P50 => "p50 ms",
            Metric::P75 => "p75 ms",
            Metric::P90 => "p90 ms",
            Metric::P95 => "p95 ms",
            Metric::P99 => "p99 ms",
            Metric::P999 => "p99.9 ms",
            Metric::Mean => "mean ms",
            Metric::Max => "max ms",
        }
    }
}

impl Unit {
    /// The suffix of an absolute change: ` ms`, ` pp` (percentage points), `/s`.
    pub fn change_suffix(self) -> &'static str {
        match self {
            Unit::Ms => " ms",
            Unit::Percent => " pp",
            Unit::PerSecond => "/s",
        }
    }

    /// The unit's name in the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::Percent => "%",
            Unit::PerSecond => "req/s",
        }
    }
}
