//! The server figures a threshold may name (`server_cpu`, `probe_max_stall`,
//! `pg_connections_waiting`, ...), and the statistic over the run's samples it judges.
//!
//! The figures are [`barrage_metrics::FIGURES`], measured by `barrage-monitor` and summed up
//! in the result's `server.stats`; this is their name in the vocabulary. A figure is sampled
//! (once a `--monitor-interval`), so unlike a latency it has no percentiles: a threshold
//! judges the per-sample maximum unless it names `avg(...)`, `min(...)` or `last(...)`. The
//! maximum is the default because a limit on a server figure is nearly always a ceiling
//! ("the CPU never went over 90 %"), and a mean hides the seconds that matter.
//!
//! A figure is the server's, not an endpoint's: it takes no label matchers.

use super::unit::Unit;

/// A server figure (one name of [`barrage_metrics::FIGURES`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Figure {
    ServerCpu,
    ServerRss,
    ServerThreads,
    ServerOpenFiles,
    ProbeMaxStall,
    ProbeFailures,
    PgConnections,
    PgConnectionsActive,
    PgConnectionsIdleInTransaction,
    PgConnectionsWaiting,
    PgTransactions,
    PgLongestQuery,
}

/// Which statistic of a figure's samples over the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FigureStat {
    /// The default: the highest sample.
    Max,
    /// The mean of the samples (written `avg(...)` or `mean(...)`).
    Avg,
    Min,
    /// The newest sample.
    Last,
}

/// The statistics as written before `(`, and what each means. `mean` is an alias of `avg`.
pub(crate) const FIGURE_STATS: [(&str, FigureStat); 5] = [
    ("max", FigureStat::Max),
    ("avg", FigureStat::Avg),
    ("mean", FigureStat::Avg),
    ("min", FigureStat::Min),
    ("last", FigureStat::Last),
];

/// One row per figure: the figure, its names (bare for the maximum, then `avg(..)`,
/// `min(..)`, `last(..)`: the canonical name of each statistic, as verdicts store it), its
/// unit, and the flag that measures it (for "nothing measured it" notes).
type FigureRow = (Figure, [&'static str; 4], Unit, &'static str);

// The names are built with `concat!` so the four names of a figure cannot drift apart.
macro_rules! figures {
    ($($figure:ident = $name:literal, $unit:ident, $flag:expr;)*) => {
        const TABLE: &[FigureRow] = &[$((
            Figure::$figure,
            [
                $name,
                concat!("avg(", $name, ")"),
                concat!("min(", $name, ")"),
                concat!("last(", $name, ")"),
            ],
            Unit::$unit,
            $flag,
        )),*];

        /// Every figure name, bare, in [`barrage_metrics::FIGURES`] order.
        pub const FIGURE_NAMES: &[&str] = &[$($name),*];
    };
}

const PROCESSES: &str = "--monitor-pid or --monitor-port";
figures! {
    ServerCpu = "server_cpu", Percent, PROCESSES;
    ServerRss = "server_rss", Bytes, PROCESSES;
    ServerThreads = "server_threads", Count, PROCESSES;
    ServerOpenFiles = "server_open_files", Count, PROCESSES;
    ProbeMaxStall = "probe_max_stall", Ms, "--probe";
    ProbeFailures = "probe_failures", Count, "--probe";
    PgConnections = "pg_connections", Count, "--monitor-postgres";
    PgConnectionsActive = "pg_connections_active", Count, "--monitor-postgres";
    PgConnectionsIdleInTransaction = "pg_connections_idle_in_transaction", Count, "--monitor-postgres";
    PgConnectionsWaiting = "pg_connections_waiting", Count, "--monitor-postgres";
    PgTransactions = "pg_transactions", Rate, "--monitor-postgres";
    PgLongestQuery = "pg_longest_query", Ms, "--monitor-postgres";
}

impl Figure {
    fn row(self) -> &'static FigureRow {
        TABLE
            .iter()
            .find(|row| row.0 == self)
            .expect("the table has a row for every figure (tested in vocab::tests)")
    }

    /// The figure a bare name means (`server_cpu`, any case).
    pub fn named(word: &str) -> Option<Figure> {
        TABLE
            .iter()
            .find(|row| row.1[0].eq_ignore_ascii_case(word))
            .map(|row| row.0)
    }

    /// The bare name, as `server.stats` keys it.
    pub fn name(self) -> &'static str {
        self.row().1[0]
    }

    /// The canonical name of a statistic of this figure: `server_cpu` for the maximum,
    /// `avg(server_cpu)`, `min(server_cpu)`, `last(server_cpu)`.
    pub fn name_with(self, stat: FigureStat) -> &'static str {
        let names = &self.row().1;
        match stat {
            FigureStat::Max => names[0],
            FigureStat::Avg => names[1],
            FigureStat::Min => names[2],
            FigureStat::Last => names[3],
        }
    }

    pub fn unit(self) -> Unit {
        self.row().2
    }

    /// The flag that measures it: `--monitor-pid or --monitor-port`, `--probe`,
    /// `--monitor-postgres`.
    pub fn measured_by(self) -> &'static str {
        self.row().3
    }
}

impl FigureStat {
    /// The statistic written before `(` (`avg`, `mean`, `max`, `min`, `last`, any case).
    pub fn named(word: &str) -> Option<FigureStat> {
        FIGURE_STATS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|&(_, s)| s)
    }

    /// The value of this statistic in a figure's stats.
    pub fn of(self, f: &barrage_metrics::FigureStats) -> f64 {
        match self {
            FigureStat::Max => f.max,
            FigureStat::Avg => f.mean,
            FigureStat::Min => f.min,
            FigureStat::Last => f.last,
        }
    }
}
