//! The units metrics and server figures are in, and how result files name them.

/// The unit a metric's values (and a threshold's limit) are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds.
    Ms,
    /// A fraction from 0 to 1 (shown as a percentage).
    Ratio,
    /// Requests per second.
    PerSecond,
    Count,
    /// Percent of one CPU core (`150` is one and a half cores): server CPU.
    Percent,
    /// Bytes: server memory.
    Bytes,
    /// Events per second that are not requests: PostgreSQL transactions.
    Rate,
}

impl Unit {
    /// The name stored in result files.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::Ratio => "ratio",
            Unit::PerSecond => "req/s",
            Unit::Count => "count",
            Unit::Percent => "%",
            Unit::Bytes => "bytes",
            Unit::Rate => "/s",
        }
    }

    /// A limit in this unit, for "write it like" help.
    pub(crate) fn example(self) -> &'static str {
        match self {
            Unit::Ms => "200ms",
            Unit::Ratio => "1%",
            Unit::PerSecond => "100",
            Unit::Count => "0",
            Unit::Percent => "90%",
            Unit::Bytes => "500MB",
            Unit::Rate => "100",
        }
    }
}
