//! Constant arrival rate: iteration `k` (0-based, over all workers) is meant to start at
//! `k / rate` seconds after the scenario's start, whatever happened before it, and runs on
//! the segment that owns `k`. The schedule is pure arithmetic, so it cannot drift.

use std::time::Duration;

use barrage_metrics::LoadInfo;

use super::arrivals;
use super::{secs, Executor, ExecutorRun, LocalFuture, Steer};
pub use crate::load::ConstantArrivalRate;
use crate::segment::Segment;

impl Executor for ConstantArrivalRate {
    fn describe(&self) -> String {
        let shape = match self.duration {
            Some(d) => format!("{} iterations/s for {}", self.rate, secs(d)),
            None => format!("{} iterations/s until Ctrl-C", self.rate),
        };
        format!("{shape}, {}", self.pool.describe())
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
        // Fewer users than segments: the schedule is striped over as many segments as there
        // are users, so none holds iterations without a user to run them.
        let Some(segment) = r.at.segment.limited(self.pool.max_users) else {
            return Box::pin(async {});
        };
        let planned = Box::new(offsets(self.rate, self.duration, segment));
        Box::pin(arrivals::run(
            planned,
            segment,
            self.pool,
            self.duration,
            |rate, length, segment| Box::new(self::offsets(rate, length, segment)),
            r,
        ))
    }
}

/// This segment's intended start offsets, in order. Unbounded when `duration` is `None`.
pub fn offsets(
    rate: f64,
    duration: Option<Duration>,
    segment: Segment,
) -> impl Iterator<Item = Duration> {
    segment
        .numbers_from(0)
        .map(move |k| k as f64 / rate)
        .take_while(move |&t| {
            rate > 0.0 && t.is_finite() && duration.is_none_or(|d| t < d.as_secs_f64())
        })
        // A start beyond what a `Duration` holds is never reached: the schedule ends there.
        .map_while(|t| Duration::try_from_secs_f64(t).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_times_duration_iterations_split_over_workers() {
        let d = Some(Duration::from_secs(10));
        let [s0, s1]: [Segment; 2] = Segment::WHOLE
            .split(2)
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        let w0: Vec<_> = offsets(1000.0, d, s0).collect();
        let w1: Vec<_> = offsets(1000.0, d, s1).collect();
        assert_eq!(w0.len() + w1.len(), 10_000);
        assert_eq!(w0[1], Duration::from_millis(2));
        assert_eq!(w1[0], Duration::from_millis(1));
        assert!(w1.last().unwrap() < &Duration::from_secs(10));
        assert_eq!(offsets(0.0, d, Segment::WHOLE).count(), 0);
        assert_eq!(
            offsets(3.0, None, Segment::WHOLE).take(4).last(),
            Some(Duration::from_secs(1))
        );
    }
}
