//! How numbers read in the terminal: milliseconds, rates, percentages, bytes, durations.
//!
//! One place for these so the live table and the summary never disagree on how a number
//! looks. Precision follows the magnitude (three significant figures or so, like the HDR
//! histograms behind them): more digits than the measurement holds would be noise.

use std::time::Duration;

use barrage_metrics::LatencyStats;

/// A latency in milliseconds: `0.42`, `4.20`, `42.0`, `420`, `4200`.
pub(crate) fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// A latency field of `stats`, or `-` when nothing was measured.
pub(crate) fn latency(stats: &LatencyStats, field: impl Fn(&LatencyStats) -> f64) -> String {
    if stats.count == 0 {
        "-".to_owned()
    } else {
        ms(field(stats))
    }
}

/// A rate per second, two decimals.
pub(crate) fn rate(v: f64) -> String {
    format!("{v:.2}")
}

/// `part` as a percentage of `whole`, two decimals; `0.00%` when `whole` is zero.
pub(crate) fn percent(part: u64, whole: u64) -> String {
    let p = if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    };
    format!("{p:.2}%")
}

/// A count with its share: `3 (0.25%)`.
pub(crate) fn count_with_percent(part: u64, whole: u64) -> String {
    format!("{part} ({})", percent(part, whole))
}

/// Bytes in binary units: `512 B`, `1.5 KiB`, `20.0 MiB`.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// A run duration: `42s`, `5m07s`, `2h05m07s`; tenths of a second below ten seconds.
pub(crate) fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 10 {
        format!("{:.1}s", d.as_secs_f64())
    } else if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m{:02}s", secs / 3600, secs / 60 % 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_keep_about_three_figures() {
        assert_eq!(ms(0.4234), "0.42");
        assert_eq!(ms(4.2), "4.20");
        assert_eq!(ms(42.04), "42.0");
        assert_eq!(ms(420.4), "420");
        assert_eq!(ms(4200.0), "4200");
    }

    #[test]
    fn empty_latencies_show_a_dash() {
        assert_eq!(latency(&LatencyStats::default(), |s| s.p50), "-");
    }

    #[test]
    fn counts_rates_and_bytes() {
        assert_eq!(count_with_percent(3, 1200), "3 (0.25%)");
        assert_eq!(count_with_percent(0, 0), "0 (0.00%)");
        assert_eq!(rate(12.345), "12.35");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(20 * 1024 * 1024), "20.0 MiB");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(Duration::from_millis(2500)), "2.5s");
        assert_eq!(duration(Duration::from_secs(42)), "42s");
        assert_eq!(duration(Duration::from_secs(307)), "5m07s");
        assert_eq!(duration(Duration::from_secs(7507)), "2h05m07s");
    }
}
