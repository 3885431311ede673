//! Ramping arrival rate: the rate moves linearly through stages, and iteration `k`
//! (0-based, over all workers) starts when the number of iterations the rate has called
//! for, `N(t) = ∫ rate`, reaches `k`. Within a stage `N` is quadratic in time, so each start
//! time is the root of a quadratic: exact, computed once per iteration, never a sleep loop.
//! Iteration `k` runs on the segment that owns pool user `k mod max_users` (`spacing.rs`).
//! With Poisson arrivals the `k` are a unit-rate Poisson process's positions
//! (`spacing.rs`), and the same inversion rescales them into a Poisson process that
//! follows the ramp.

use std::time::Duration;

use barrage_metrics::LoadInfo;

use super::constant_arrival_rate::arrivals_text;
use super::spacing::{self, Positions};
use super::{arrivals, stages_level_at, stages_text, Executor, ExecutorRun, LocalFuture, Steer};
pub use crate::load::RampingArrivalRate;
use crate::plan::Stage;
use crate::segment::Segment;

impl RampingArrivalRate {
    /// The intended start offsets of `segment`'s share of the schedule, in order: the
    /// starts it is dealt with its share of the pool's users (`spacing.rs`). `seed` fixes
    /// Poisson draws (tests); `None` draws them from entropy, as a run does.
    pub fn planned(&self, segment: Segment, seed: Option<u64>) -> arrivals::Offsets {
        let users = self.pool.max_users;
        let positions = match seed {
            Some(seed) => spacing::seeded(self.arrivals, segment, users, seed),
            None => spacing::positions(self.arrivals, segment, users),
        };
        Box::new(offsets(self.rate, self.stages.clone(), positions))
    }
}

impl Executor for RampingArrivalRate {
    fn describe(&self) -> String {
        format!(
            "iterations/s from {} {}{}, {}",
            self.rate,
            stages_text(&self.stages),
            arrivals_text(self.arrivals),
            self.pool.describe()
        )
    }

    fn max_users(&self) -> u64 {
        self.pool.max_users
    }

    fn length(&self) -> Option<Duration> {
        Some(self.stages.iter().map(|s| s.duration).sum())
    }

    fn ramp_up(&self) -> Duration {
        self.stages.first().map_or(Duration::ZERO, |s| s.duration)
    }

    fn steers(&self) -> Steer {
        Steer::Rate
    }

    fn level_at(&self, t: Duration) -> f64 {
        stages_level_at(self.rate, &self.stages, t)
    }

    fn load_info(&self) -> LoadInfo {
        LoadInfo {
            rate: Some(self.rate),
            duration_s: self.length().map(|d| d.as_secs_f64()),
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
            self.length(),
            arrivals::Schedule {
                constant: |rate, length, positions| {
                    Box::new(super::constant_arrival_rate::offsets(
                        rate, length, positions,
                    ))
                },
                arrivals: self.arrivals,
            },
            r,
        ))
    }
}

/// The intended start offsets of a segment whose start positions (`spacing.rs`) are
/// `positions`, in order, ending with the last stage.
pub fn offsets(
    start_rate: f64,
    stages: Vec<Stage>,
    positions: Positions,
) -> impl Iterator<Item = Duration> {
    let mut schedule = Schedule::new(start_rate, stages);
    positions
        .map_while(move |k| schedule.time_of(k))
        .map(Duration::from_secs_f64)
}

/// Walks the stages forward; `time_of` must be asked for increasing counts.
struct Schedule {
    /// (length in s, rate at start, rate at end)
    stages: Vec<(f64, f64, f64)>,
    index: usize,
    /// Start of the current stage (s) and the iterations called for before it.
    at: f64,
    before: f64,
}

impl Schedule {
    fn new(start_rate: f64, stages: Vec<Stage>) -> Schedule {
        let mut from = start_rate;
        let stages = stages
            .iter()
            .map(|s| {
                let seg = (s.duration.as_secs_f64(), from, s.target);
                from = s.target;
                seg
            })
            .collect();
        Schedule {
            stages,
            index: 0,
            at: 0.0,
            before: 0.0,
        }
    }

    /// Seconds after the start at which `N(t) = k`; `None` past the last stage.
    fn time_of(&mut self, k: f64) -> Option<f64> {
        loop {
            let &(len, r0, r1) = self.stages.get(self.index)?;
            let in_stage = (r0 + r1) / 2.0 * len;
            if k < self.before + in_stage {
                // before + r0·τ + (r1 - r0)/(2·len)·τ² = k, solved in the form that stays
                // accurate when the stage is flat (a → 0).
                let a = if len > 0.0 {
                    (r1 - r0) / (2.0 * len)
                } else {
                    0.0
                };
                let c = self.before - k;
                let denom = r0 + (r0 * r0 - 4.0 * a * c).max(0.0).sqrt();
                if denom > 0.0 {
                    return Some(self.at + (-2.0 * c / denom).min(len));
                }
                // r0 = 0 and k = before: the first iteration of a stage rising from zero.
                return Some(self.at);
            }
            self.at += len;
            self.before += in_stage;
            self.index += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Arrivals;

    fn even(segment: Segment) -> Positions {
        spacing::positions(Arrivals::Even, segment, 1000)
    }

    fn stage(secs: u64, target: f64) -> Stage {
        Stage {
            duration: Duration::from_secs(secs),
            target,
        }
    }

    #[test]
    fn counts_follow_the_area_under_the_rate() {
        // 0 -> 100/s over 10 s (500 iterations), hold 100/s for 5 s (500), 100 -> 0 in 10 s (500).
        let stages = vec![stage(10, 100.0), stage(5, 100.0), stage(10, 0.0)];
        let all: Vec<f64> = offsets(0.0, stages.clone(), even(Segment::WHOLE))
            .map(|d| d.as_secs_f64())
            .collect();
        assert_eq!(all.len(), 1500);
        // Half the ramp's area is reached at t = 10/sqrt(2).
        assert!((all[250] - 10.0 / 2f64.sqrt()).abs() < 1e-9, "{}", all[250]);
        // During the flat stage, starts are 10 ms apart.
        assert!((all[600] - all[599] - 0.01).abs() < 1e-9);
        assert!(all.windows(2).all(|w| w[0] <= w[1]));
        let split: usize = Segment::WHOLE
            .split(3)
            .map(|w| offsets(0.0, stages.clone(), even(w)).count())
            .sum();
        assert_eq!(split, 1500);
    }

    #[test]
    fn a_constant_stage_matches_the_constant_schedule() {
        let ramp: Vec<_> = offsets(50.0, vec![stage(2, 50.0)], even(Segment::WHOLE)).collect();
        let constant: Vec<_> = super::super::constant_arrival_rate::offsets(
            50.0,
            Some(Duration::from_secs(2)),
            even(Segment::WHOLE),
        )
        .collect();
        assert_eq!(ramp.len(), constant.len());
        for (a, b) in ramp.iter().zip(&constant) {
            assert!(a.abs_diff(*b) < Duration::from_nanos(10));
        }
    }

    #[test]
    fn poisson_starts_follow_the_ramp() {
        // 0 -> 200/s over 20 s: 2,000 expected, of which a quarter in the first half (the
        // area under the ramp), and in every second `N(s+1) - N(s)` = 5·(2s+1).
        let runs = 40;
        let mut per_second = [0u64; 20];
        let mut total = 0usize;
        for seed in 0..runs {
            let starts: Vec<f64> = offsets(
                0.0,
                vec![stage(20, 200.0)],
                spacing::seeded(Arrivals::Poisson, Segment::WHOLE, 1000, seed),
            )
            .map(|d| d.as_secs_f64())
            .collect();
            assert!(starts.windows(2).all(|w| w[0] <= w[1]));
            total += starts.len();
            for t in starts {
                per_second[t as usize] += 1;
            }
        }
        // 80,000 expected over the runs (Poisson standard deviation 283).
        assert!((total as f64 - 80_000.0).abs() < 1_200.0, "{total}");
        let first_half: u64 = per_second[..10].iter().sum();
        assert!((first_half as f64 - 20_000.0).abs() < 600.0, "{first_half}");
        for (s, &n) in per_second.iter().enumerate() {
            let expected = runs as f64 * 5.0 * (2 * s + 1) as f64;
            // Five standard deviations of a Poisson count.
            assert!(
                (n as f64 - expected).abs() < 5.0 * expected.sqrt(),
                "second {s}: {n}, expected {expected}"
            );
        }
    }
}
