//! Judging one step: its figures, the objectives it failed, and whether it was steady, from
//! the step's own statistics (the snapshot since the reset that began its judged part) and
//! its per-second rows.
//!
//! A step passes only if every objective holds **and** it was steady: the load asked for
//! was the load delivered (achieved >= 98 % of the level, no dropped iterations), latency
//! was not still climbing (the 95 % interval of the per-second median's least-squares slope
//! does not lie above zero: a queue that grows slowly passes a percentile objective for a
//! short step and fails it in production), and the generator kept up
//! (`barrage_report::generator`'s limits). Why several checks and not just the objectives:
//! an objective judged over a short step can pass at a rate the service does not hold.
//!
//! A failure that is the generator's (a worker over the CPU limit, a late schedule, or too
//! few iterations started with none dropped or queued) is [`Verdict::GeneratorLimit`]: that
//! level says nothing of the service.
//!
//! Must not steer or print: plain figures in, a [`CapacityStep`] out.

use barrage_metrics::capacity::{CapacityStep, SearchModel, StepPhase};
use barrage_metrics::{HistogramSet, SecondSummary, Snapshot};
use barrage_report::generator::{CPU_LIMIT_PERCENT, LAG_LIMIT_MS};
use barrage_report::threshold::{self, Threshold};

use crate::search::Verdict;
use crate::stats;

/// The share of the level a step must achieve.
pub const ACHIEVED_SHARE: f64 = 0.98;

/// What a step measured, as the driver hands it over.
#[derive(Debug, Clone, Copy)]
pub struct StepFigures<'a> {
    /// 1, 2, ... in the order run.
    pub index: u32,
    pub phase: StepPhase,
    pub level: f64,
    pub model: SearchModel,
    /// The statistics since the reset that began the judged part (cumulative over it).
    pub snapshot: &'a Snapshot,
    /// The judged part's closed seconds, oldest first.
    pub seconds: &'a [SecondSummary],
    /// Seconds since the run's start where the judged part began and ended.
    pub judged_from_s: f64,
    pub judged_to_s: f64,
    /// The run has a schedule whose lateness matters (the open model).
    pub schedule_matters: bool,
    /// Arrivals are a Poisson process: the count started in a step varies by about its
    /// square root, which the achieved-rate check allows three times over.
    pub poisson: bool,
    /// The monitored server's CPU over the judged part, if any process is monitored.
    pub server_cpu_percent: Option<f64>,
    /// Histograms of the judged part (a result so far), for percentile objectives over
    /// several endpoints; `None` leaves those objectives undecided, which fails them.
    pub histograms: Option<&'a HistogramSet>,
}

/// A judged step: the record and the verdict the search needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub step: CapacityStep,
    pub verdict: Verdict,
}

/// Judges a step against `objectives` (see the module comment).
pub fn judge(f: &StepFigures, objectives: &[Threshold]) -> Judged {
    let s = f.snapshot;
    let a = &s.aggregate;
    let span = (f.judged_to_s - f.judged_from_s).max(1e-9);
    let requests = a.requests;
    let failures = a.failures;
    let rps = requests as f64 / span;
    let iterations = match f.model {
        SearchModel::Rate => s.generator.iterations_started,
        SearchModel::Users => s.tasks.iter().map(|t| t.iterations).sum(),
    };
    let iterations_per_second = iterations as f64 / span;
    let mean_ms = a.response_time.mean;
    let p50_points: Vec<(f64, f64)> = f
        .seconds
        .iter()
        .filter(|r| r.requests > r.failures)
        .map(|r| (r.t, f64::from(r.p50) / 1000.0))
        .collect();
    let latency_slope = stats::slope(&p50_points);
    let generator_cpu_percent = f.seconds.iter().map(|r| r.cpu_percent).fold(0.0, f64::max);
    let lag = &s.generator.schedule_lag;
    let schedule_lag_p99_ms = lag.p99;

    let mut reasons = Vec::new();
    for t in objectives {
        let e = threshold::evaluate(t, s, f.histograms);
        if e.passed {
            continue;
        }
        let seen = match (e.observed, &e.note) {
            _ if e.pending => {
                "not judged (a percentile over several endpoints needs their histograms)".to_owned()
            }
            (Some(v), _) => show(v, t.metric.unit().as_str()),
            (None, Some(note)) => note.clone(),
            (None, None) => "nothing measured".to_owned(),
        };
        reasons.push(format!("{}: {seen}", t.text.trim()));
    }

    let dropped = s.generator.dropped_iterations;
    let short = match f.model {
        SearchModel::Rate => {
            // A step's edges cut the schedule at arbitrary points: one iteration short is
            // on schedule.
            let expected = f.level * span;
            let allowed = if f.poisson {
                3.0 * expected.sqrt()
            } else {
                1.0
            };
            iterations_per_second < ACHIEVED_SHARE * f.level
                && expected - iterations as f64 > allowed
        }
        SearchModel::Users => false,
    };
    if short {
        reasons.push(format!(
            "achieved {}/s, under {:.0} % of {}/s",
            rate(iterations_per_second),
            ACHIEVED_SHARE * 100.0,
            rate(f.level)
        ));
    }
    if f.model == SearchModel::Users {
        let fewest = f.seconds.iter().map(|r| r.users).min().unwrap_or(0);
        if (fewest as f64) < ACHIEVED_SHARE * f.level {
            reasons.push(format!(
                "{fewest} users running, under {:.0} % of {}",
                ACHIEVED_SHARE * 100.0,
                f.level
            ));
        }
    }
    if dropped > 0 {
        reasons.push(format!(
            "{dropped} iterations dropped (every user busy: raise load.max_users, or the service is saturated)"
        ));
    }
    if let Some(sl) = latency_slope.filter(|sl| sl.low > 0.0) {
        reasons.push(format!(
            "latency rising: p50 {:+.3} ms per second (95 % interval {:.3} to {:.3})",
            sl.slope, sl.low, sl.high
        ));
    }
    let cpu_over = generator_cpu_percent > CPU_LIMIT_PERCENT;
    let late = f.schedule_matters && lag.count > 0 && schedule_lag_p99_ms > LAG_LIMIT_MS;
    if cpu_over {
        reasons.push(format!(
            "generator: a worker used {generator_cpu_percent:.0}% of a core (over {CPU_LIMIT_PERCENT:.0}%)"
        ));
    }
    if late {
        reasons.push(format!(
            "generator: schedule lag p99 {schedule_lag_p99_ms:.2} ms (over {LAG_LIMIT_MS} ms)"
        ));
    }
    // Too few started with nothing dropped or waiting for a user: the scheduler itself
    // could not keep up.
    let unscheduled = short && dropped == 0 && s.generator.queue_max == 0;
    let generator_limited = cpu_over || late || unscheduled;

    let verdict = if generator_limited {
        Verdict::GeneratorLimit
    } else if reasons.is_empty() {
        Verdict::Passed
    } else {
        Verdict::Failed
    };
    Judged {
        step: CapacityStep {
            index: f.index,
            phase: Some(f.phase),
            level: f.level,
            judged_from_s: f.judged_from_s,
            judged_to_s: f.judged_to_s,
            requests,
            failures,
            error_rate: if requests == 0 {
                0.0
            } else {
                failures as f64 / requests as f64
            },
            rps,
            iterations_per_second,
            dropped_iterations: dropped,
            mean_ms,
            p50_ms: a.response_time.p50,
            p95_ms: a.response_time.p95,
            p99_ms: a.response_time.p99,
            concurrency: stats::littles_law(rps, mean_ms / 1000.0),
            latency_slope,
            server_cpu_percent: f.server_cpu_percent,
            generator_cpu_percent,
            schedule_lag_p99_ms,
            passed: verdict == Verdict::Passed,
            reasons,
            generator_limited,
        },
        verdict,
    }
}

/// A value in an objective's unit, as a reason shows it.
fn show(v: f64, unit: &str) -> String {
    match unit {
        "ms" => format!("{v:.1} ms"),
        "ratio" => format!("{:.2}%", v * 100.0),
        "req/s" | "/s" => format!("{}/s", rate(v)),
        "%" => format!("{v:.1}%"),
        _ => format!("{v}"),
    }
}

/// A rate with a thousands separator and no more digits than matter: `1,912`, `12.5`.
pub fn rate(v: f64) -> String {
    if v.abs() >= 100.0 {
        let whole = v.round() as i64;
        let digits = whole.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if whole < 0 {
            out.insert(0, '-');
        }
        out
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use barrage_metrics::{EndpointStats, GeneratorStats, LatencyStats};

    fn snapshot(requests: u64, p99: f64, started: u64, dropped: u64) -> Snapshot {
        let mut s = barrage_metrics::Aggregator::new(std::sync::Arc::default())
            .snapshot(std::time::Duration::from_secs(10));
        s.aggregate = EndpointStats {
            requests,
            response_time: LatencyStats {
                count: requests,
                mean: 10.0,
                p50: 9.0,
                p95: 12.0,
                p99,
                ..LatencyStats::default()
            },
            ..EndpointStats::default()
        };
        s.generator = GeneratorStats {
            iterations_started: started,
            dropped_iterations: dropped,
            ..GeneratorStats::default()
        };
        s
    }

    fn second(t: f64, p50_us: u32, cpu: f64) -> SecondSummary {
        SecondSummary {
            t,
            users: 0,
            in_flight: 0,
            requests: 100,
            failures: 0,
            rps: 100.0,
            p50: p50_us,
            p95: p50_us,
            p99: p50_us,
            max: p50_us,
            endpoints: Vec::new(),
            iterations_started: 100,
            dropped: 0,
            cpu_percent: cpu,
        }
    }

    fn figures<'a>(s: &'a Snapshot, rows: &'a [SecondSummary], level: f64) -> StepFigures<'a> {
        StepFigures {
            index: 1,
            phase: StepPhase::Probe,
            level,
            model: SearchModel::Rate,
            snapshot: s,
            seconds: rows,
            judged_from_s: 4.0,
            judged_to_s: 7.0,
            schedule_matters: true,
            poisson: false,
            server_cpu_percent: None,
            histograms: None,
        }
    }

    #[test]
    fn a_steady_step_within_its_objectives_passes_with_its_figures() {
        let s = snapshot(300, 15.0, 300, 0);
        let rows = [
            second(5.0, 9000, 10.0),
            second(6.0, 9000, 12.0),
            second(7.0, 9000, 11.0),
        ];
        let j = judge(
            &figures(&s, &rows, 100.0),
            &[threshold::parse("p99<20ms").unwrap()],
        );
        assert_eq!(j.verdict, Verdict::Passed, "{:?}", j.step.reasons);
        assert_eq!(j.step.rps, 100.0);
        assert_eq!(j.step.iterations_per_second, 100.0);
        // Little's law: 100 requests/s x 10 ms.
        assert!((j.step.concurrency - 1.0).abs() < 1e-9);
        assert_eq!(j.step.generator_cpu_percent, 12.0);
    }

    #[test]
    fn objectives_come_first_then_steadiness() {
        let s = snapshot(300, 25.0, 280, 3);
        let rows = [
            second(5.0, 9000, 10.0),
            second(6.0, 19000, 10.0),
            second(7.0, 29000, 10.0),
        ];
        let j = judge(
            &figures(&s, &rows, 100.0),
            &[threshold::parse("p99<20ms").unwrap()],
        );
        assert_eq!(j.verdict, Verdict::Failed);
        assert_eq!(j.step.reasons[0], "p99<20ms: 25.0 ms");
        assert!(
            j.step.reasons[1].starts_with("achieved 93.3/s"),
            "{:?}",
            j.step.reasons
        );
        assert!(j.step.reasons[2].starts_with("3 iterations dropped"));
        assert!(j.step.reasons[3].starts_with("latency rising"));
        assert!(!j.step.generator_limited);
    }

    #[test]
    fn one_iteration_short_is_on_schedule_and_a_silent_shortfall_is_the_generator() {
        let s = snapshot(299, 5.0, 299, 0);
        assert_eq!(
            judge(&figures(&s, &[], 100.0), &[]).verdict,
            Verdict::Passed
        );
        let s = snapshot(250, 5.0, 250, 0);
        let j = judge(&figures(&s, &[], 100.0), &[]);
        assert_eq!(j.verdict, Verdict::GeneratorLimit);
        assert!(j.step.generator_limited);
    }

    #[test]
    fn a_busy_worker_is_the_generator_limit() {
        let s = snapshot(300, 5.0, 300, 0);
        let rows = [second(5.0, 9000, 95.0)];
        let j = judge(&figures(&s, &rows, 100.0), &[]);
        assert_eq!(j.verdict, Verdict::GeneratorLimit);
        assert!(
            j.step.reasons[0].contains("95% of a core"),
            "{:?}",
            j.step.reasons
        );
    }

    #[test]
    fn rates_read_as_people_write_them() {
        assert_eq!(rate(1912.4), "1,912");
        assert_eq!(rate(1_234_567.0), "1,234,567");
        assert_eq!(rate(12.5), "12.5");
        assert_eq!(rate(40.0), "40");
    }
}
