//! Ramping users: the number of users follows linear stages (`30s:100,2m:100,30s:0`).
//!
//! The schedule is computed once, as events: user `i` (0-based) runs while the target is
//! above `i`, so it starts when the target rises through `i + 1` and stops when it falls
//! below it again. Crossing times come straight from each stage's line. A user told to
//! stop finishes its current iteration first (k6's graceful ramp-down). When the last
//! stage ends, the scenario ends.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::{drain, user_life, Placement, ScenarioCtx};
use crate::plan::{Plan, Stage};
use crate::worker::WorkerCtx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Start(u64),
    Stop(u64),
}

/// This worker's start and stop events, in time order, as offsets from the scenario's
/// start. Users are striped: user `i` belongs to worker `i mod workers`.
pub fn events(
    start: u64,
    stages: &[Stage],
    worker: usize,
    workers: usize,
) -> Vec<(Duration, Event)> {
    let mine = |i: u64| i % workers.max(1) as u64 == worker as u64;
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

/// Runs this worker's events, then ends the scenario when the last stage is over.
pub async fn run(
    events: Vec<(Duration, Event)>,
    plan: Arc<Plan>,
    index: usize,
    ctx: Rc<WorkerCtx>,
    sctx: Rc<ScenarioCtx>,
    at: Placement,
    begin: Instant,
) {
    let end = begin + plan.scenarios[index].load.length().unwrap_or_default();
    let mut users = JoinSet::new();
    let mut stops: HashMap<u64, Rc<Cell<bool>>> = HashMap::new();
    let mut events = events.into_iter().peekable();
    loop {
        let next = events.peek().map_or(end, |(t, _)| begin + *t);
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => {
                match events.next() {
                    Some((_, Event::Start(i))) => {
                        let stop = Rc::new(Cell::new(false));
                        stops.insert(i, stop.clone());
                        let life = user_life(plan.clone(), index, ctx.clone(), sctx.clone(), i, Some(stop));
                        users.spawn_local(life);
                    }
                    Some((_, Event::Stop(i))) => {
                        if let Some(stop) = stops.remove(&i) {
                            stop.set(true);
                        }
                    }
                    None => {
                        sctx.begin_stop();
                        break;
                    }
                }
            }
            // Users ramped down end by themselves; collect them so the set stays small.
            Some(_) = users.join_next(), if !users.is_empty() => {}
            _ = sctx.stopped() => break,
        }
    }
    drain(&mut users, &sctx, at.stop_timeout).await;
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
        let ev = events(0, &[stage(4, 4.0), stage(2, 4.0), stage(2, 0.0)], 0, 1);
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
        let all: Vec<_> = (0..2)
            .flat_map(|w| events(2, &[stage(2, 6.0)], w, 2))
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
        let w1 = events(2, &[stage(2, 6.0)], 1, 2);
        assert_eq!(w1[0], (Duration::ZERO, Event::Start(1)));
        assert!(w1
            .iter()
            .all(|(_, e)| matches!(e, Event::Start(i) if i % 2 == 1)));
    }
}
