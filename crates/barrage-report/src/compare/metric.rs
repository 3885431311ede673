//! The metrics `compare` compares: a subset of the one vocabulary ([`crate::vocab::Metric`]),
//! with what only a comparison needs to know of them: which way is better, the table's row
//! labels, the rows shown by default, and the unit changes are shown in.
//!
//! The subset is the figures whose change between two runs [`super::noise`] can put an
//! interval on from the result files' response-time histograms and counts. [`Metric`] is
//! a wrapper around the shared metric, not a second vocabulary: names are read by
//! [`vocab::Metric::named`], and [`Metric::new`] lets only those figures in, so the
//! comparison never meets a metric it cannot compare.

use serde::{Serialize, Serializer};

use crate::vocab::{self, Stat, Timing};

/// One compared figure of an endpoint: a [`vocab::Metric`] that compare can compare.
/// Latencies are response times (from the intended start, DESIGN.md "Measuring latency
/// right") over successful requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Metric(vocab::Metric);

const fn latency(stat: Stat) -> Metric {
    Metric(vocab::Metric::Latency(Timing::Response, stat))
}

/// Every compared metric with its row label, in the order rows are shown.
const COMPARED: [(Metric, &str); 10] = [
    (Metric::Rps, "req/s"),
    (Metric::ErrorRate, "error rate"),
    (Metric::P50, "p50 ms"),
    (Metric::P75, "p75 ms"),
    (Metric::P90, "p90 ms"),
    (Metric::P95, "p95 ms"),
    (Metric::P99, "p99 ms"),
    (Metric::P999, "p99.9 ms"),
    (Metric::Mean, "mean ms"),
    (Metric::Max, "max ms"),
];

const fn metrics_of<const N: usize>(table: &[(Metric, &str); N]) -> [Metric; N] {
    let mut out = [Metric::Rps; N];
    let mut i = 0;
    while i < N {
        out[i] = table[i].0;
        i += 1;
    }
    out
}

/// Named like the enum variants compare had before it shared the vocabulary, so that
/// `Metric::P95` reads (and matches) as it always did.
#[allow(non_upper_case_globals)]
impl Metric {
    pub const Rps: Metric = Metric(vocab::Metric::Rps);
    pub const ErrorRate: Metric = Metric(vocab::Metric::ErrorRate);
    pub const P50: Metric = latency(Stat::P50);
    pub const P75: Metric = latency(Stat::P75);
    pub const P90: Metric = latency(Stat::P90);
    pub const P95: Metric = latency(Stat::P95);
    pub const P99: Metric = latency(Stat::P99);
    pub const P999: Metric = latency(Stat::P999);
    pub const Mean: Metric = latency(Stat::Mean);
    pub const Max: Metric = latency(Stat::Max);
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
    /// Every metric compare compares, in the order its rows are shown.
    pub const ALL: [Metric; 10] = metrics_of(&COMPARED);

    /// Shown for every endpoint; gated metrics are added to these.
    pub const DEFAULT: [Metric; 5] = [
        Metric::Rps,
        Metric::ErrorRate,
        Metric::P50,
        Metric::P95,
        Metric::P99,
    ];

    /// `metric`, when compare can compare it.
    pub fn new(metric: vocab::Metric) -> Option<Metric> {
        let m = Metric(metric);
        Metric::ALL.contains(&m).then_some(m)
    }

    /// The metric in the shared vocabulary.
    pub fn metric(self) -> vocab::Metric {
        self.0
    }

    /// The name in the JSON output and in messages: the canonical name, except that
    /// `p999` keeps the spelling compare's JSON has always had (result files and thresholds
    /// write `p99.9`; both read as the same metric).
    pub fn as_str(self) -> &'static str {
        if self == Metric::P999 {
            "p999"
        } else {
            self.0.name()
        }
    }

    /// The percentile in thousandths (p95 is 950), for percentile metrics.
    pub fn per_mille(self) -> Option<u32> {
        match self.0 {
            vocab::Metric::Latency(_, stat) => stat.per_mille(),
            _ => None,
        }
    }

    pub fn unit(self) -> Unit {
        match self.0 {
            vocab::Metric::Rps => Unit::PerSecond,
            vocab::Metric::ErrorRate => Unit::Percent,
            _ => Unit::Ms,
        }
    }

    /// True for requests/s; every other metric is better lower.
    pub fn higher_is_better(self) -> bool {
        self == Metric::Rps
    }

    /// How a table labels the metric's row.
    pub fn label(self) -> &'static str {
        COMPARED[self.rank()].1
    }

    /// Where the metric's rows go: its place in [`COMPARED`].
    fn rank(self) -> usize {
        COMPARED
            .iter()
            .position(|&(m, _)| m == self)
            .expect("a compare::Metric is built only from COMPARED's metrics")
    }
}

/// Rows go in table order (rps, error rate, then latencies), whatever order gates ask in.
impl Ord for Metric {
    fn cmp(&self, other: &Metric) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for Metric {
    fn partial_cmp(&self, other: &Metric) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
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
