//! Constant arrival rate: iteration `k` (0-based, over all workers) is meant to start at
//! `k / rate` seconds after the scenario's start, whatever happened before it, and runs on
//! the segment that owns pool user `k mod max_users` (`spacing.rs`). The schedule is pure arithmetic, so it cannot drift. With
//! Poisson arrivals the `k` are a Poisson process's positions instead (`spacing.rs`), and
//! the same division turns them into times.

use std::time::Duration;

use barrage_metrics::LoadInfo;

use super::spacing::{self, Arrivals, Positions};
use super::{arrivals, secs, Executor, ExecutorRun, LocalFuture, Steer};
pub use crate::load::ConstantArrivalRate;
use crate::segment::Segment;

impl ConstantArrivalRate {
    /// The intended start offsets of `segment`'s share of the schedule, in order: the
    /// starts it is dealt with its share of the pool's users (`spacing.rs`). `seed` fixes
    /// Poisson draws (tests); `None` draws them from entropy, as a run does.
    pub fn planned(&self, segment: Segment, seed: Option<u64>) -> arrivals::Offsets {
        let users = self.pool.max_users;
        let positions = match seed {
            Some(seed) => spacing::seeded(self.arrivals, segment, users, seed),
            None => spacing::positions(self.arrivals, segment, users),
        };
        Box::new(offsets(self.rate, self.duration, positions))
    }
}

impl Executor for ConstantArrivalRate {
    fn describe(&self) -> String {
        let shape = match self.duration {
            Some(d) => format!("{} iterations/s for {}", self.rate, secs(d)),
            None => format!("{} iterations/s until Ctrl-C", self.rate),
        };
        format!(
            "{shape}{}, {}",
            arrivals_text(self.arrivals),
            self.pool.describe()
        )
    }

    fn max_users(&self) -> u64 {
        self.pool.max_users
    }

    fn length(&self) -> Option<Duration> {
        self.duration
    }

    fn ramp_up(&self) -> Duration {
        Duration::ZERO
    }

    fn steers(&self) -> Steer {
        Steer::Rate
    }

    fn level_at(&self, _t: Duration) -> f64 {
        self.rate
    }

    fn load_info(&self) -> LoadInfo {
        LoadInfo {
            rate: Some(self.rate),
            duration_s: self.duration.map(|d| d.as_secs_f64()),
            ..LoadInfo::default()
        }
    }

    fn run(&self, r: ExecutorRun) -> LocalFuture {
        // Starts go with the pool's users (`spacing.rs`): a segment without a user (fewer
        // users than segments) has nothing to run.
        let segment = r.at.segment;
        if segment.share(self.pool.max_users) == 0 {
            return Box::pin(async {});
        }
        Box::pin(arrivals::run(
            self.planned(segment, None),
            segment,
            self.pool,
            self.duration,
            arrivals::Schedule {
                constant: |rate, length, positions| {
                    Box::new(self::offsets(rate, length, positions))
                },
                arrivals: self.arrivals,
            },
            r,
        ))
    }
}

/// `, Poisson arrivals` (nothing for the default, even spacing): the descriptions' clause.
pub(crate) fn arrivals_text(arrivals: Arrivals) -> &'static str {
    match arrivals {
        Arrivals::Even => "",
        Arrivals::Poisson => ", Poisson arrivals",
    }
}

/// The intended start offsets of a segment whose start positions (`spacing.rs`) are
/// `positions`, in order. Unbounded when `duration` is `None`.
pub fn offsets(
    rate: f64,
    duration: Option<Duration>,
    positions: Positions,
) -> impl Iterator<Item = Duration> {
    positions
        .map(move |k| k / rate)
        .take_while(move |&t| {
            rate > 0.0 && t.is_finite() && duration.is_none_or(|d| t < d.as_secs_f64())
        })
        // A start beyond what a `Duration` holds is never reached: the schedule ends there.
        .map_while(|t| Duration::try_from_secs_f64(t).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn even(segment: Segment) -> Positions {
        spacing::positions(Arrivals::Even, segment, 1000)
    }

    #[test]
    fn rate_times_duration_iterations_split_over_workers() {
        let d = Some(Duration::from_secs(10));
        let [s0, s1]: [Segment; 2] = Segment::WHOLE
            .split(2)
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        let w0: Vec<_> = offsets(1000.0, d, even(s0)).collect();
        let w1: Vec<_> = offsets(1000.0, d, even(s1)).collect();
        assert_eq!(w0.len() + w1.len(), 10_000);
        assert_eq!(w0[1], Duration::from_millis(2));
        assert_eq!(w1[0], Duration::from_millis(1));
        assert!(w1.last().unwrap() < &Duration::from_secs(10));
        assert_eq!(offsets(0.0, d, even(Segment::WHOLE)).count(), 0);
        assert_eq!(
            offsets(3.0, None, even(Segment::WHOLE)).take(4).last(),
            Some(Duration::from_secs(1))
        );
    }

    /// Counts per second of a schedule `secs` long: (mean, index of dispersion).
    fn per_second(offsets: impl Iterator<Item = Duration>, secs: usize) -> (f64, f64) {
        let mut counts = vec![0u64; secs];
        for o in offsets {
            counts[o.as_secs() as usize] += 1;
        }
        let n = secs as f64;
        let mean = counts.iter().sum::<u64>() as f64 / n;
        let var = counts
            .iter()
            .map(|&c| (c as f64 - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        (mean, var / mean)
    }

    #[test]
    fn poisson_starts_have_the_rate_and_vary_as_poisson_counts() {
        let d = Some(Duration::from_secs(400));
        let rate = 200.0;
        let poisson = offsets(
            rate,
            d,
            spacing::seeded(Arrivals::Poisson, Segment::WHOLE, 1000, 11),
        );
        let starts: Vec<f64> = poisson.map(|o| o.as_secs_f64()).collect();
        // 80,000 expected; a Poisson count's standard deviation is under 300.
        assert!(
            (starts.len() as f64 - 80_000.0).abs() < 1_200.0,
            "{}",
            starts.len()
        );
        let gaps: Vec<f64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64).sqrt();
        assert!((mean * rate - 1.0).abs() < 0.02, "mean gap {mean}");
        assert!(
            (sd / mean - 1.0).abs() < 0.03,
            "coefficient of variation {}",
            sd / mean
        );

        // Per-second counts: variance equal to the mean (index of dispersion 1; its
        // standard error over 400 seconds is 0.07), where even starts give exactly `rate`.
        let seeded = |seed| spacing::seeded(Arrivals::Poisson, Segment::WHOLE, 1000, seed);
        let (mean, dispersion) = per_second(offsets(rate, d, seeded(11)), 400);
        assert!((mean - rate).abs() < 3.0, "{mean}");
        assert!(
            (dispersion - 1.0).abs() < 0.25,
            "index of dispersion {dispersion}"
        );
        let (mean, dispersion) = per_second(offsets(rate, d, even(Segment::WHOLE)), 400);
        assert_eq!((mean, dispersion), (rate, 0.0));

        // Split over three workers, each drawing its own process: together, the same law.
        let split = Segment::WHOLE.split(3).enumerate().flat_map(|(i, s)| {
            offsets(
                rate,
                d,
                spacing::seeded(Arrivals::Poisson, s, 1000, i as u64),
            )
        });
        let (mean, dispersion) = per_second(split, 400);
        assert!((mean - rate).abs() < 3.0, "{mean}");
        assert!(
            (dispersion - 1.0).abs() < 0.25,
            "index of dispersion {dispersion}"
        );
    }
}
