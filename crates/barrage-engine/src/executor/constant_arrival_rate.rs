//! Constant arrival rate: iteration `k` (0-based, over all workers) is meant to start at
//! `k / rate` seconds after the scenario's start, whatever happened before it, and runs on
//! worker `k mod workers`. The schedule is pure arithmetic, so it cannot drift.

use std::time::Duration;

/// This worker's intended start offsets, in order. Unbounded when `duration` is `None`.
pub fn offsets(
    rate: f64,
    duration: Option<Duration>,
    worker: usize,
    workers: usize,
) -> impl Iterator<Item = Duration> {
    let step = workers.max(1) as u64;
    (worker as u64..)
        .step_by(step as usize)
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
        let w0: Vec<_> = offsets(1000.0, d, 0, 2).collect();
        let w1: Vec<_> = offsets(1000.0, d, 1, 2).collect();
        assert_eq!(w0.len() + w1.len(), 10_000);
        assert_eq!(w0[1], Duration::from_millis(2));
        assert_eq!(w1[0], Duration::from_millis(1));
        assert!(w1.last().unwrap() < &Duration::from_secs(10));
        assert_eq!(offsets(0.0, d, 0, 1).count(), 0);
        assert_eq!(
            offsets(3.0, None, 0, 1).take(4).last(),
            Some(Duration::from_secs(1))
        );
    }
}
