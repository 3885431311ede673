//! The generator's own health in words: one line under the live table, a section in the
//! summary, and the warnings that mark a run's results as suspect.
//!
//! A load generator that falls behind its schedule (late wake-ups) or runs out of CPU
//! measures itself, not the server. barrage says so, loudly, instead of printing numbers
//! that look fine. The rule (DESIGN.md, "Measuring latency right"): in a run whose schedule
//! matters (arrival rates, pacing), schedule lag p99 over 1 ms or a worker above 90 % CPU
//! makes the results suspect. A closed loop saturating its core is doing its job.

use barrage_metrics::{GeneratorStats, Snapshot};

/// Schedule lag p99 above this (ms) makes a scheduled run's results suspect.
pub const LAG_LIMIT_MS: f64 = 1.0;
/// A worker thread's CPU above this (percent of a core) makes them suspect.
pub const CPU_LIMIT_PERCENT: f64 = 90.0;

/// Why the results may not be trusted; empty when nothing was noticed.
pub fn warnings(g: &GeneratorStats, schedule_matters: bool) -> Vec<String> {
    let mut out = Vec::new();
    if !schedule_matters {
        return out;
    }
    if g.schedule_lag.count > 0 && g.schedule_lag.p99 > LAG_LIMIT_MS {
        out.push(format!(
            "results suspect: the generator started iterations late (schedule lag p99 {:.2} ms, \
             over {LAG_LIMIT_MS} ms); use more --workers, or split the load over machines",
            g.schedule_lag.p99
        ));
    }
    if g.cpu_percent_max > CPU_LIMIT_PERCENT {
        out.push(format!(
            "results suspect: a worker thread used {:.0}% of a core (over {CPU_LIMIT_PERCENT:.0}%); \
             the generator may be the bottleneck",
            g.cpu_percent_max
        ));
    }
    out
}

/// The line under the live table for runs with a schedule: iterations started, dropped and
/// queued, schedule lag, CPU; with a SUSPECT mark when the limits are passed.
pub fn live_line(s: &Snapshot, schedule_matters: bool) -> Option<String> {
    if !schedule_matters {
        return None;
    }
    let g = &s.generator;
    let suspect = if warnings(g, true).is_empty() {
        ""
    } else {
        "  SUSPECT: generator behind or out of CPU"
    };
    Some(format!(
        "generator: {} iterations started, {} dropped, {} queued (max {}); schedule lag p99 {:.3} ms; CPU max {:.0}%{suspect}",
        g.iterations_started,
        g.dropped_iterations,
        g.queue_depth,
        g.queue_max,
        g.schedule_lag.p99,
        g.cpu_percent_max,
    ))
}

/// The summary's generator section.
pub fn summary_section(
    g: &GeneratorStats,
    warnings: &[String],
    workers: u32,
    schedule_matters: bool,
) -> String {
    let mut out = String::from("Generator\n");
    let threads = if workers == 1 { "thread" } else { "threads" };
    out.push_str(&format!("{workers} worker {threads}\n"));
    if schedule_matters || g.iterations_started > 0 || g.dropped_iterations > 0 {
        out.push_str(&format!(
            "{} scheduled iterations started, {} dropped; deepest queue {}\n\
             schedule lag (wake-up minus intended start): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms\n\
             start delay (intended start to a user beginning it): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms\n",
            g.iterations_started,
            g.dropped_iterations,
            g.queue_max,
            g.schedule_lag.p50,
            g.schedule_lag.p99,
            g.schedule_lag.max,
            g.start_delay.p50,
            g.start_delay.p99,
            g.start_delay.max,
        ));
    }
    out.push_str(&format!(
        "busiest worker thread: {:.0}% of a core in its busiest second\n",
        g.cpu_percent_max
    ));
    for w in warnings {
        out.push_str(&format!("WARNING: {w}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use barrage_metrics::LatencyStats;

    #[test]
    fn lag_and_cpu_make_scheduled_runs_suspect_only() {
        let mut g = GeneratorStats {
            schedule_lag: LatencyStats {
                count: 100,
                p99: 0.4,
                ..LatencyStats::default()
            },
            cpu_percent_max: 50.0,
            ..GeneratorStats::default()
        };
        assert!(warnings(&g, true).is_empty());
        g.schedule_lag.p99 = 1.5;
        g.cpu_percent_max = 97.0;
        let w = warnings(&g, true);
        assert_eq!(w.len(), 2);
        assert!(w[0].contains("1.50 ms"), "{w:?}");
        assert!(w[1].contains("97%"), "{w:?}");
        assert!(
            warnings(&g, false).is_empty(),
            "a closed loop may use its core"
        );
    }

    #[test]
    fn the_summary_says_how_many_workers_ran() {
        let g = GeneratorStats {
            cpu_percent_max: 42.0,
            ..GeneratorStats::default()
        };
        let closed = summary_section(&g, &[], 2, false);
        assert!(closed.contains("2 worker threads\n"), "{closed}");
        assert!(closed.contains("42% of a core"), "{closed}");
        assert!(!closed.contains("schedule lag"), "{closed}");
        let open = summary_section(&g, &["slow".into()], 1, true);
        assert!(open.contains("1 worker thread\n"), "{open}");
        assert!(open.contains("schedule lag"), "{open}");
        assert!(open.contains("WARNING: slow"), "{open}");
    }
}
