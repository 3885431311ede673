//! Ramping users: the number of users follows linear stages (`30s:100,2m:100,30s:0`).
//!
//! The schedule is computed once, as events: user `i` (0-based) runs while the target is
//! above `i`, so it starts when the target rises through `i + 1` and stops when it falls
//! below it again. Crossing times come straight from each stage's line. A user told to
//! stop finishes its current iteration first (k6's graceful ramp-down). When the last
//! stage ends, the scenario ends.

use std::time::Duration;

use barrage_metrics::LoadInfo;

pub use super::closed::Event;
use super::closed::{self, Closed};
use super::{stages_level_at, stages_text, Executor, ExecutorRun, LocalFuture, Steer};
pub use crate::load::RampingUsers;
use crate::plan::Stage;
use crate::segment::Segment;

impl Executor for RampingUsers {
    fn describe(&self) -> String {
        format!("users from {} {}", self.start, stages_text(&self.stages))
    }

    fn max_users(&self) -> u64 {
        self.stages
            .iter()
            .map(|st| st.target.ceil() as u64)
            .fold(self.start, u64::max)
    }

    fn length(&self) -> Option<Duration> {
        Some(self.stages.iter().map(|s| s.duration).sum())
    }

    fn ramp_up(&self) -> Duration {
        self.stages.first().map_or(Duration::ZERO, |s| s.duration)
    }

    fn steers(&self) -> Steer {
        Steer::Users
    }

    fn level_at(&self, t: Duration) -> f64 {
        stages_level_at(self.start as f64, &self.stages, t).floor()
    }

    fn load_info(&self) -> LoadInfo {
        LoadInfo {
            duration_s: self.length().map(|d| d.as_secs_f64()),
            ..LoadInfo::default()
        }
    }

    /// Stages have no spawn rate: a load change moves to its new number of users at once.
    fn run(&self, r: ExecutorRun) -> LocalFuture {
        let this = self.clone();
        let events = events(self.start, &self.stages, r.at.segment);
        Box::pin(closed::run(
            Closed {
                events: Box::new(events.into_iter()),
                end: self.length(),
                spawn_rate: None,
                planned: Box::new(move |t| this.level_at(t) as u64),
            },
            r,
        ))
    }
}

/// This worker's start and stop events, in time order, as offsets from the scenario's
/// start. Users are striped: user `i` belongs to the segment that owns it.
pub fn events(start: u64, stages: &[Stage], segment: Segment) -> Vec<(Duration, Event)> {
    let mine = |i: u64| segment.owns(i);
    let mut out: Vec<(Duration, Event)> = (0..start)
        .filter(|&i| mine(i))
        .map(|i| (Duration::ZERO, Event::Start(i)))
        .collect();
    let mut at = Duration::ZERO;
    let mut from = start as f64;
    for stage in stages {
        let to = stage.target;
        let len = stage.duration.as_secs_f64();
        let time_of = |level: f64| at + Duration::from_secs_f64(len * (level - from) / (to - from));
        if to > from {
            // Levels L with from < L <= to: user L-1 starts when the line reaches L.
            let first = from.floor() as u64 + 1;
            for level in first..=to.floor() as u64 {
                if mine(level - 1) {
                    out.push((time_of(level as f64), Event::Start(level - 1)));
                }
            }
        } else if to < from {
            // Levels L with to < L <= from: user L-1 stops as the line falls below L.
            let lowest = to.floor() as u64 + 1;
            for level in (lowest..=from.floor() as u64).rev() {
                if mine(level - 1) {
                    out.push((time_of(level as f64), Event::Stop(level - 1)));
                }
            }
        }
        at += stage.duration;
        from = to;
    }
    out.sort_by_key(|(t, _)| *t);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(secs: u64, target: f64) -> Stage {
        Stage {
            duration: Duration::from_secs(secs),
            target,
        }
    }

    #[test]
    fn users_follow_the_stages_up_and_down() {
        // 0 -> 4 users over 4 s, hold 2 s, 4 -> 0 over 2 s.
        let ev = events(
            0,
            &[stage(4, 4.0), stage(2, 4.0), stage(2, 0.0)],
            Segment::WHOLE,
        );
        let starts: Vec<_> = ev
            .iter()
            .filter_map(|(t, e)| matches!(e, Event::Start(_)).then_some(t.as_secs_f64()))
            .collect();
        assert_eq!(starts, vec![1.0, 2.0, 3.0, 4.0]);
        let stops: Vec<_> = ev
            .iter()
            .filter_map(|(t, e)| match e {
                Event::Stop(i) => Some((*i, t.as_secs_f64())),
                _ => None,
            })
            .collect();
        // The line falls from 4 at 6 s to 0 at 8 s: below 4 at once, below 1 at 7.5 s.
        assert_eq!(stops, vec![(3, 6.0), (2, 6.5), (1, 7.0), (0, 7.5)]);
    }

    #[test]
    fn events_are_striped_over_workers_and_start_users_come_first() {
        let all: Vec<_> = Segment::WHOLE
            .split(2)
            .flat_map(|w| events(2, &[stage(2, 6.0)], w))
            .collect();
        let mut started: Vec<u64> = all
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Start(i) => Some(*i),
                _ => None,
            })
            .collect();
        started.sort();
        assert_eq!(started, vec![0, 1, 2, 3, 4, 5]);
        let w1 = events(2, &[stage(2, 6.0)], Segment::WHOLE.split(2).nth(1).unwrap());
        assert_eq!(w1[0], (Duration::ZERO, Event::Start(1)));
        assert!(w1
            .iter()
            .all(|(_, e)| matches!(e, Event::Start(i) if i % 2 == 1)));
    }
}
