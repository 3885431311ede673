//! What a metric is, and the one table of the names it may be written with.

use std::ops::Range;

use super::cursor::Cursor;
use super::figure::{Figure, FigureStat};
pub use super::unit::Unit;
// Short names, so the alias table below reads as a table.
use Metric::Latency;
use Stat::{Max, Mean, Min, P50, P75, P90, P95, P99, P999};
use Timing::{Response as R, Service as S};

/// Which latency a latency metric reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timing {
    /// From the intended start to the last byte.
    Response,
    /// From the request written to the last byte.
    Service,
}

/// Which statistic of a latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// The percentile in thousandths (p95 is 950), for percentiles.
    pub fn per_mille(self) -> Option<u32> {
        match self {
            Stat::P50 => Some(500),
            Stat::P75 => Some(750),
            Stat::P90 => Some(900),
            Stat::P95 => Some(950),
            Stat::P99 => Some(990),
            Stat::P999 => Some(999),
            Stat::Mean | Stat::Min | Stat::Max => None,
        }
    }

    pub fn is_percentile(self) -> bool {
        self.per_mille().is_some()
    }
}

/// One figure a run measures, for all endpoints together or for those a set of label
/// matchers selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    Latency(Timing, Stat),
    /// Failed requests over all requests.
    ErrorRate,
    /// Requests per second over the run.
    Rps,
    /// The share of check evaluations that passed.
    Checks,
    Requests,
    Failures,
    /// Iterations an open-model schedule could not start; counted for the whole run only.
    DroppedIterations,
    /// A statistic of a server figure's samples (`server_cpu`, `avg(probe_max_stall)`): the
    /// server's, not an endpoint's, so it takes no label matchers.
    Server(Figure, FigureStat),
}

/// Every name a metric may be written with, and the metric it means: the one alias table,
/// read by thresholds and compare gates alike. Matching ignores ASCII case.
///
/// The first name of each metric is its canonical one ([`Metric::name`]), so the order
/// matters; it is also the order suggestions are tried in.
const NAMES: [(&str, Metric); 30] = [
    ("p50", Latency(R, P50)),
    ("p75", Latency(R, P75)),
    ("p90", Latency(R, P90)),
    ("p95", Latency(R, P95)),
    ("p99", Latency(R, P99)),
    ("p99.9", Latency(R, P999)),
    ("p999", Latency(R, P999)),
    ("median", Latency(R, P50)),
    ("mean", Latency(R, Mean)),
    ("avg", Latency(R, Mean)),
    ("min", Latency(R, Min)),
    ("max", Latency(R, Max)),
    ("service_p50", Latency(S, P50)),
    ("service_p75", Latency(S, P75)),
    ("service_p90", Latency(S, P90)),
    ("service_p95", Latency(S, P95)),
    ("service_p99", Latency(S, P99)),
    ("service_p99.9", Latency(S, P999)),
    ("service_p999", Latency(S, P999)),
    ("service_median", Latency(S, P50)),
    ("service_mean", Latency(S, Mean)),
    ("service_avg", Latency(S, Mean)),
    ("service_min", Latency(S, Min)),
    ("service_max", Latency(S, Max)),
    ("error_rate", Metric::ErrorRate),
    ("rps", Metric::Rps),
    ("checks", Metric::Checks),
    ("requests", Metric::Requests),
    ("failures", Metric::Failures),
    ("dropped_iterations", Metric::DroppedIterations),
];

/// Every metric name accepted, for suggestions and the "expected" list.
pub const METRIC_NAMES: &[&str] = &names_of(&NAMES);

const fn names_of<const N: usize>(table: &[(&'static str, Metric); N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = table[i].0;
        i += 1;
    }
    out
}

impl Metric {
    /// The metric a written name means (`p999`, `P99.9`, `service_avg`, `server_cpu`), if
    /// any. A bare server figure means its maximum; `avg(server_cpu)` and the other
    /// statistics are read by the threshold parser, which sees the parentheses.
    pub fn named(word: &str) -> Option<Metric> {
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|&(_, m)| m)
            .or_else(|| Figure::named(word).map(|f| Metric::Server(f, FigureStat::Max)))
    }

    /// The canonical name (`p99.9`, `service_mean`, `error_rate`, `avg(server_cpu)`), as
    /// result files store it.
    pub fn name(self) -> &'static str {
        if let Metric::Server(figure, stat) = self {
            return figure.name_with(stat);
        }
        NAMES
            .iter()
            .find(|&&(_, m)| m == self)
            .map(|&(name, _)| name)
            .expect("NAMES has a name for every metric (tested in vocab::tests)")
    }

    pub fn unit(self) -> Unit {
        match self {
            Metric::Latency(..) => Unit::Ms,
            Metric::ErrorRate | Metric::Checks => Unit::Ratio,
            Metric::Rps => Unit::PerSecond,
            Metric::Requests | Metric::Failures | Metric::DroppedIterations => Unit::Count,
            Metric::Server(figure, _) => figure.unit(),
        }
    }

    /// Whether it is a server figure (no label matchers, judged from `server.stats`).
    pub fn is_server(self) -> bool {
        matches!(self, Metric::Server(..))
    }
}

/// The word where a metric name is written: letters, digits, `_` and `.` (for `p99.9`).
pub(crate) fn metric_word(c: &mut Cursor<'_>) -> Range<usize> {
    c.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}
