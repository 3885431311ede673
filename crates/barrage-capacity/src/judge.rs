//! Judging one step: its figures, the objectives it failed, and whether it was steady, from
//! the step's own statistics (the snapshot since the reset that began its judged part) and
//! its per-second rows.
//!
//! A step passes only if every objective holds **and** it was steady: the load asked for
//! was the load delivered (achieved >= 98 % of the level, no dropped iterations), latency
//! was not still climbing (the 95 % interval of the per-second median's least-squares slope
//! lies above zero **and** its low end rises by at least [`RISE_SHARE`] of the step's p50
//! over the judged part: a queue that grows slowly passes a percentile objective for a
//! short step and fails it in production, while a trend of microseconds is significant on a
//! quiet service but harmless), and the generator kept up (`barrage_report::generator`'s
//! limits). Why several checks and not just the objectives: an objective judged over a
//! short step can pass at a rate the service does not hold.
//!
//! A failure that is the generator's (a worker over the CPU limit, a late schedule, too
//! few iterations started with none dropped or queued, iterations queued or dropped while
//! the open model's user pool was full, or fewer users running than asked) is
//! [`Verdict::GeneratorLimit`]: that level says nothing of the service. A late schedule
//! (or a silent shortfall) while the busiest worker used under [`IDLE_CPU_PERCENT`] of a
//! core is not the generator's own work but the machine's: something else took the CPU for
//! a while (a build, the service itself on the same cores). That is
//! [`Verdict::Disturbed`], and the search runs the step again; twice in a row is the limit.
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

/// The least rise of the median over a judged part, as a share of its p50, that counts as
/// "latency rising" (with a slope whose 95 % interval lies above zero).
pub const RISE_SHARE: f64 = 0.05;

/// The fewest per-second medians the latency trend is judged on. Each second's median is
/// read off a histogram whose buckets are evenly spaced within an octave, so three seconds
/// in neighbouring buckets lie exactly on a line: no residual, an interval of zero width,
/// and a "significant" rise of one bucket per second from a service that is merely
/// noisy (a CI machine failed a 20 requests/s step of a 1.2 ms service this way). Five
/// points leave three degrees of freedom and make a chance straight line rare; shorter
/// steps keep the slope in the record but are not failed by it.
pub const MIN_TREND_POINTS: u32 = 5;

/// Under this share of a core (the busiest worker, any second of the step), a worker that
/// starts late was kept from the CPU by other work, not busy with its own.
pub const IDLE_CPU_PERCENT: f64 = 50.0;

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
    /// The open model's user pool (`max_users`): iterations that queued or were dropped
    /// while every user of it was in use waited for the generator, not the service.
    pub pool_users: Option<u64>,
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
    // The driver's warm-up waited for the users to start (within the spawn rate's time):
    // users still short are the generator's, whatever the service does.
    let users_short = f.model == SearchModel::Users && {
        let fewest = f.seconds.iter().map(|r| r.users).min().unwrap_or(0);
        let short = (fewest as f64) < ACHIEVED_SHARE * f.level;
        if short {
            reasons.push(format!(
                "generator: {fewest} users running, under {:.0} % of {} (the spawn rate did \
                 not start them within the warm-up)",
                ACHIEVED_SHARE * 100.0,
                f.level
            ));
        }
        short
    };
    let waited = dropped > 0 || s.generator.queue_max > 0;
    let busiest = f.seconds.iter().map(|r| r.users).fold(s.users, u64::max);
    let pool_full = match (f.model, f.pool_users) {
        (SearchModel::Rate, Some(pool)) => waited && busiest >= pool,
        _ => false,
    };
    if pool_full {
        reasons.push(format!(
            "the user pool (max_users {}) was full: raise load.max_users",
            f.pool_users.unwrap_or_default()
        ));
    } else if dropped > 0 {
        reasons.push(format!(
            "{dropped} iterations dropped (every user busy: raise load.max_users, or the service is saturated)"
        ));
    }
    // A rise too small to matter (microseconds on a quiet service) is not a growing queue,
    // however significant.
    let rising = latency_slope.filter(|sl| {
        sl.points >= MIN_TREND_POINTS
            && sl.low > 0.0
            && sl.low * span >= RISE_SHARE * a.response_time.p50
    });
    if let Some(sl) = rising {
        reasons.push(format!(
            "latency rising: p50 {:+.3} ms per second (95 % interval {:.3} to {:.3})",
            sl.slope, sl.low, sl.high
        ));
    }
    let cpu_over = generator_cpu_percent > CPU_LIMIT_PERCENT;
    // Late as a habit, not once: a tenth of the starts over the limit. A step of a few
    // seconds at a modest rate has so few starts that its p99 is one start, and a busy
    // machine (the service on the same cores, a test suite beside it) delays one now and
    // then; that delay is in the step's latencies (they count from the intended start), so
    // the objectives still see it, and the step says so in its notes.
    let late = f.schedule_matters && lag.count > 0 && lag.p90 > LAG_LIMIT_MS;
    let mut notes = Vec::new();
    if f.schedule_matters && !late && lag.count > 0 && schedule_lag_p99_ms > LAG_LIMIT_MS {
        notes.push(format!(
            "schedule lag p99 {schedule_lag_p99_ms:.2} ms (over {LAG_LIMIT_MS} ms for under a \
             tenth of the starts: the machine was busy; the latencies include it)"
        ));
    }
    if cpu_over {
        reasons.push(format!(
            "generator: a worker used {generator_cpu_percent:.0}% of a core (over {CPU_LIMIT_PERCENT:.0}%)"
        ));
    }
    // Too few started with nothing dropped or waiting for a user: the scheduler itself
    // could not keep up.
    let unscheduled = short && dropped == 0 && s.generator.queue_max == 0;
    // Late or short while no worker was busy: the CPU went to something else.
    // (Without a second of CPU figures nothing says the workers were idle.)
    let disturbed = (late || unscheduled)
        && !(cpu_over || pool_full || users_short)
        && !f.seconds.is_empty()
        && generator_cpu_percent < IDLE_CPU_PERCENT;
    if late {
        let why = if disturbed {
            format!(
                " while the busiest worker used {generator_cpu_percent:.0}% of a core: other \
                 work on the machine took the CPU; the step runs again"
            )
        } else {
            String::new()
        };
        reasons.push(format!(
            "generator: schedule lag p90 {:.2} ms (over {LAG_LIMIT_MS} ms: a tenth of the starts late){why}",
            lag.p90
        ));
    } else if disturbed {
        reasons.push(format!(
            "generator: too few iterations started while the busiest worker used \
             {generator_cpu_percent:.0}% of a core: other work on the machine took the CPU; \
             the step runs again"
        ));
    }
    let generator_limited =
        !disturbed && (cpu_over || late || unscheduled || pool_full || users_short);

    let verdict = if disturbed {
        Verdict::Disturbed
    } else if generator_limited {
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
            disturbed,
            // The driver adds what came before the step.
            notes,
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
            pool_users: None,
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
    fn a_start_late_now_and_then_is_a_note_a_late_schedule_is_the_generators_limit() {
        let rows = [
            second(5.0, 9000, 10.0),
            second(6.0, 9000, 12.0),
            second(7.0, 9000, 11.0),
        ];
        let objectives = [threshold::parse("p99<20ms").unwrap()];
        let mut s = snapshot(300, 15.0, 300, 0);
        s.generator.schedule_lag = LatencyStats {
            count: 300,
            p50: 0.05,
            p90: 0.2,
            p99: 3.2,
            ..LatencyStats::default()
        };
        let j = judge(&figures(&s, &rows, 100.0), &objectives);
        assert_eq!(j.verdict, Verdict::Passed, "{:?}", j.step.reasons);
        assert!(!j.step.generator_limited);
        assert_eq!(j.step.notes.len(), 1, "{:?}", j.step.notes);
        assert!(j.step.notes[0].starts_with("schedule lag p99 3.20 ms"));

        // Late as a habit while a worker was busy: the generator's limit.
        s.generator.schedule_lag.p90 = 1.5;
        let busy = [
            second(5.0, 9000, 40.0),
            second(6.0, 9000, 70.0),
            second(7.0, 9000, 60.0),
        ];
        let j = judge(&figures(&s, &busy, 100.0), &objectives);
        assert_eq!(j.verdict, Verdict::GeneratorLimit);
        assert!(j.step.generator_limited);
        assert!(!j.step.disturbed);
        assert!(j.step.notes.is_empty());
        assert_eq!(
            j.step.reasons,
            ["generator: schedule lag p90 1.50 ms (over 1 ms: a tenth of the starts late)"]
        );

        // Late as a habit while every worker idled (12 % at most): the machine was busy
        // with other work; the step runs again.
        let j = judge(&figures(&s, &rows, 100.0), &objectives);
        assert_eq!(j.verdict, Verdict::Disturbed);
        assert!(j.step.disturbed && !j.step.generator_limited && !j.step.passed);
        assert_eq!(
            j.step.reasons,
            [
                "generator: schedule lag p90 1.50 ms (over 1 ms: a tenth of the starts late) \
                 while the busiest worker used 12% of a core: other work on the machine took \
                 the CPU; the step runs again"
            ]
        );
    }

    /// Five judged seconds (4 s to 9 s), enough to judge the latency trend.
    fn five<'a>(s: &'a Snapshot, rows: &'a [SecondSummary], level: f64) -> StepFigures<'a> {
        StepFigures {
            judged_to_s: 9.0,
            ..figures(s, rows, level)
        }
    }

    fn seconds_at(p50_us: &[u32]) -> Vec<SecondSummary> {
        p50_us
            .iter()
            .zip(5..)
            .map(|(&p50, t)| second(f64::from(t), p50, 10.0))
            .collect()
    }

    #[test]
    fn objectives_come_first_then_steadiness() {
        let s = snapshot(500, 25.0, 466, 3);
        let rows = seconds_at(&[9000, 19000, 29000, 39000, 49000]);
        let j = judge(
            &five(&s, &rows, 100.0),
            &[threshold::parse("p99<20ms").unwrap()],
        );
        assert_eq!(j.verdict, Verdict::Failed);
        assert_eq!(j.step.reasons[0], "p99<20ms: 25.0 ms");
        assert!(
            j.step.reasons[1].starts_with("achieved 93.2/s"),
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
        // The same shortfall while the workers idled: disturbed, not the generator.
        let idle = [second(5.0, 9000, 8.0)];
        let j = judge(&figures(&s, &idle, 100.0), &[]);
        assert_eq!(j.verdict, Verdict::Disturbed);
        assert!(j.step.reasons[1].starts_with("generator: too few iterations started"));
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
    fn iterations_waiting_on_a_full_user_pool_are_the_generator_not_the_service() {
        // 280 of 300 started, 20 dropped, while all 100 users of the pool were in use.
        let s = snapshot(280, 5.0, 280, 20);
        let rows: Vec<SecondSummary> = [5.0, 6.0, 7.0]
            .iter()
            .map(|&t| SecondSummary {
                users: 100,
                ..second(t, 9000, 10.0)
            })
            .collect();
        let full = StepFigures {
            pool_users: Some(100),
            ..figures(&s, &rows, 100.0)
        };
        let j = judge(&full, &[]);
        assert_eq!(j.verdict, Verdict::GeneratorLimit, "{:?}", j.step.reasons);
        assert!(j.step.generator_limited);
        assert!(
            j.step.reasons.contains(
                &"the user pool (max_users 100) was full: raise load.max_users".to_owned()
            ),
            "{:?}",
            j.step.reasons
        );
        // Queued (none dropped) counts the same.
        let mut queued = snapshot(280, 5.0, 280, 0);
        queued.generator.queue_max = 7;
        let j = judge(
            &StepFigures {
                snapshot: &queued,
                ..full
            },
            &[],
        );
        assert_eq!(j.verdict, Verdict::GeneratorLimit, "{:?}", j.step.reasons);
        // The same drops with room left in the pool: the service did not keep up.
        let j = judge(
            &StepFigures {
                pool_users: Some(1000),
                ..full
            },
            &[],
        );
        assert_eq!(j.verdict, Verdict::Failed, "{:?}", j.step.reasons);
        assert!(!j.step.generator_limited);
        assert!(j.step.reasons[1].starts_with("20 iterations dropped"));
    }

    #[test]
    fn a_latency_rise_must_be_significant_and_at_least_5_percent_of_p50() {
        let s = snapshot(500, 15.0, 500, 0);
        // 9.000 to 9.004 ms: a perfect, hence significant, rise of 4 us over the 5 s
        // judged, far under 5 % of the 9 ms p50 (0.45 ms).
        let tiny = seconds_at(&[9000, 9001, 9002, 9003, 9004]);
        let j = judge(&five(&s, &tiny, 100.0), &[]);
        assert!(j.step.latency_slope.unwrap().low > 0.0);
        assert_eq!(j.verdict, Verdict::Passed, "{:?}", j.step.reasons);
        // 9.0 to 9.8 ms: 0.2 ms per second, 1 ms over 5 s, over 0.45 ms.
        let real = seconds_at(&[9000, 9200, 9400, 9600, 9800]);
        let j = judge(&five(&s, &real, 100.0), &[]);
        assert_eq!(j.verdict, Verdict::Failed);
        assert_eq!(
            j.step.reasons,
            ["latency rising: p50 +0.200 ms per second (95 % interval 0.200 to 0.200)"]
        );
        // Just under the effect: 0.08 ms per second, 0.40 ms over 5 s.
        let under = seconds_at(&[9000, 9080, 9160, 9240, 9320]);
        assert_eq!(
            judge(&five(&s, &under, 100.0), &[]).verdict,
            Verdict::Passed
        );
    }

    #[test]
    fn three_seconds_in_neighbouring_buckets_are_not_a_trend() {
        // What failed a 20 requests/s step on a CI machine: three per-second medians one
        // histogram bucket apart lie exactly on a line, an interval of zero width above
        // zero. Under five points the slope is recorded, not judged.
        let mut s = snapshot(60, 5.3, 60, 0);
        s.aggregate.response_time.p50 = 1.2;
        let rows = seconds_at(&[1151, 1238, 1325]);
        let j = judge(&figures(&s, &rows, 20.0), &[]);
        let slope = j.step.latency_slope.unwrap();
        assert_eq!(slope.points, 3);
        assert!(slope.low > 0.0, "{slope:?}");
        assert_eq!(j.verdict, Verdict::Passed, "{:?}", j.step.reasons);
        // The same line over five seconds fails.
        let mut s = snapshot(100, 5.3, 100, 0);
        s.aggregate.response_time.p50 = 1.2;
        let rows = seconds_at(&[1151, 1238, 1325, 1412, 1499]);
        let j = judge(&five(&s, &rows, 20.0), &[]);
        assert_eq!(j.verdict, Verdict::Failed, "{:?}", j.step.reasons);
    }

    #[test]
    fn users_that_did_not_start_are_the_generator() {
        let mut s = snapshot(300, 5.0, 0, 0);
        s.users = 40;
        let rows: Vec<SecondSummary> = [5.0, 6.0, 7.0]
            .iter()
            .map(|&t| SecondSummary {
                users: 40,
                ..second(t, 9000, 10.0)
            })
            .collect();
        let j = judge(
            &StepFigures {
                model: SearchModel::Users,
                schedule_matters: false,
                ..figures(&s, &rows, 50.0)
            },
            &[],
        );
        assert_eq!(j.verdict, Verdict::GeneratorLimit, "{:?}", j.step.reasons);
        assert!(
            j.step.reasons[0].starts_with("generator: 40 users running, under 98 % of 50"),
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
