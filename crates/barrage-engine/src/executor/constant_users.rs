//! The closed model with a fixed number of users (Locust's and k6's `constant-vus` with a
//! ramp-up): `users` users, started at `spawn_rate` per second (all at once without one),
//! each looping through its tasks until the duration is over or the total iteration count
//! is used up.
//!
//! User `i` (0-based, over the whole load) starts at `i / spawn_rate` seconds after the
//! scenario's start and runs on the segment that owns `i`, so every worker computes its own
//! share of the schedule without talking to the others.

use std::time::{Duration, Instant};

use barrage_metrics::LoadInfo;

use super::closed::{self, Closed, Event};
use super::{plural, secs, Executor, ExecutorRun, LocalFuture, Steer};
pub use crate::load::ConstantUsers;
use crate::segment::Segment;

impl ConstantUsers {
    /// When the `i`-th user (0-based, over all workers) starts, after the scenario's start.
    pub fn start_offset(&self, i: u64) -> Duration {
        match self.spawn_rate {
            // Saturates instead of panicking for absurd rates (a start centuries away is
            // simply never reached).
            Some(rate) if rate > 0.0 => {
                Duration::try_from_secs_f64(i as f64 / rate).unwrap_or(Duration::MAX)
            }
            _ => Duration::ZERO,
        }
    }

    /// The users of one segment, in start order: `(start time, user number)`.
    pub fn schedule(
        &self,
        segment: Segment,
        start: Instant,
    ) -> impl Iterator<Item = (Instant, u64)> + 'static {
        let this = self.clone();
        segment
            .numbers_from(0)
            .take_while(move |&i| i < this.users)
            .map_while(move |i| start.checked_add(this.start_offset(i)).map(|t| (t, i)))
    }
}

impl Executor for ConstantUsers {
    fn describe(&self) -> String {
        let start = match self.spawn_rate {
            Some(r) => format!("{r} started per second"),
            None => "all at once".to_string(),
        };
        let bound = match (self.duration, self.iterations) {
            (Some(d), Some(n)) => format!("for {} or {n} iterations", secs(d)),
            (Some(d), None) => format!("for {}", secs(d)),
            (None, Some(n)) => format!("for {n} iterations"),
            (None, None) => "until Ctrl-C".to_string(),
        };
        format!(
            "{} user{} ({start}) {bound}",
            self.users,
            plural(self.users)
        )
    }

    fn max_users(&self) -> u64 {
        self.users
    }

    fn length(&self) -> Option<Duration> {
        self.duration
    }

    fn ramp_up(&self) -> Duration {
        self.start_offset(self.users.saturating_sub(1))
    }

    fn iterations(&self, segment: Segment) -> Option<u64> {
        self.iterations.map(|n| segment.dealt(n, self.users))
    }

    fn steers(&self) -> Steer {
        Steer::Users
    }

    fn level_at(&self, t: Duration) -> f64 {
        match self.spawn_rate {
            Some(r) if r > 0.0 => ((t.as_secs_f64() * r).floor() + 1.0).min(self.users as f64),
            _ => self.users as f64,
        }
    }

    fn load_info(&self) -> LoadInfo {
        LoadInfo {
            users: Some(self.users),
            spawn_rate: self.spawn_rate,
            duration_s: self.duration.map(|d| d.as_secs_f64()),
            iterations: self.iterations,
            ..LoadInfo::default()
        }
    }

    fn run(&self, r: ExecutorRun) -> LocalFuture {
        let this = self.clone();
        let begin = r.begin;
        let events = self
            .schedule(r.at.segment, begin)
            .map(move |(t, i)| (t - begin, Event::Start(i)));
        Box::pin(closed::run(
            Closed {
                events: Box::new(events),
                end: self.duration,
                spawn_rate: self.spawn_rate,
                planned: Box::new(move |t| this.level_at(t) as u64),
            },
            r,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(users: u64, spawn_rate: Option<f64>, iterations: Option<u64>) -> ConstantUsers {
        ConstantUsers {
            users,
            spawn_rate,
            duration: None,
            iterations,
        }
    }

    #[test]
    fn users_are_striped_and_started_at_the_spawn_rate() {
        let c = users(5, Some(2.0), None);
        let t0 = Instant::now();
        let [s0, s1]: [Segment; 2] = Segment::WHOLE
            .split(2)
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        let w0: Vec<_> = c.schedule(s0, t0).collect();
        let w1: Vec<_> = c.schedule(s1, t0).collect();
        assert_eq!(w0.iter().map(|u| u.1).collect::<Vec<_>>(), vec![0, 2, 4]);
        assert_eq!(w1.iter().map(|u| u.1).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(w0[2].0 - t0, Duration::from_secs(2));
        assert_eq!(w1[0].0 - t0, Duration::from_millis(500));
        assert_eq!((s0.share(c.users), s1.share(c.users)), (3, 2));
        assert_eq!(c.ramp_up(), Duration::from_secs(2));
        assert_eq!(c.level_at(Duration::from_millis(1600)), 4.0);
        assert_eq!(c.level_at(Duration::from_secs(60)), 5.0);
    }

    #[test]
    fn iterations_follow_the_users() {
        let c = users(3, None, Some(10));
        let two: Vec<Segment> = Segment::WHOLE.split(2).collect();
        let four: Vec<Segment> = Segment::WHOLE.split(4).collect();
        assert_eq!(
            two.iter().map(|&s| c.iterations(s).unwrap()).sum::<u64>(),
            10
        );
        // Dealt round-robin over the 3 users: users 0 and 2 (worker 0) take 7 of 10.
        assert_eq!(c.iterations(two[0]), Some(7));
        assert_eq!(
            four.iter().map(|&s| c.iterations(s).unwrap()).sum::<u64>(),
            10
        );
        assert_eq!(c.iterations(four[3]), Some(0));
        let one = users(1, None, Some(5));
        assert_eq!(
            two.iter().map(|&s| one.iterations(s)).collect::<Vec<_>>(),
            [Some(5), Some(0)]
        );
        assert_eq!(users(3, None, None).iterations(two[0]), None);
    }

    #[test]
    fn absurd_spawn_rates_do_not_panic() {
        let c = users(u64::MAX, Some(1e-300), None);
        assert_eq!(c.ramp_up(), Duration::MAX);
        assert!(c.describe().ends_with(" started per second) until Ctrl-C"));
    }
}
