//! The closed models' loop, shared by constant and ramping users: users start and stop at
//! the times of a list of events (this worker's stripe of them), each running its tasks
//! until told to stop, and the scenario ends at the end of its schedule, when its iteration
//! count is used up, or when it is stopped.
//!
//! A load change (a session's `set users`) replaces the events still to come: from the
//! level the scenario has at that moment, users are started (or told to stop, at the end of
//! their current iteration) one by one at the spawn rate, or all at once without one, until
//! the new level is reached; it is then held until the schedule's end. Which users to start
//! or stop is decided from this worker's own running users, not from the plan, so a change
//! that arrives while the worker is busy can neither run one user twice nor forget one.

use std::cell::Cell;
use std::collections::HashMap;
use std::iter::Peekable;
use std::rc::Rc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::{drain, sleep_until_opt, user_life, ExecutorRun};
use crate::segment::Segment;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Event {
    Start(u64),
    Stop(u64),
}

/// This worker's events, as offsets from the scenario's start, in time order.
pub(super) type Events = Box<dyn Iterator<Item = (Duration, Event)>>;

/// What the closed loop needs to know about its model.
pub(super) struct Closed {
    pub events: Events,
    /// When the scenario ends (after its start), if its schedule has an end.
    pub end: Option<Duration>,
    /// Users started (or stopped) per second after a load change; `None`: all at once.
    pub spawn_rate: Option<f64>,
    /// The planned number of users (over all workers) at a moment after the start.
    pub planned: Box<dyn Fn(Duration) -> u64>,
}

/// A load change in progress: from `from` users toward `to`, from `at` on.
#[derive(Debug, Clone, Copy)]
struct Ramp {
    at: Duration,
    from: u64,
    to: u64,
    spawn_rate: Option<f64>,
}

impl Ramp {
    /// The number of users (over all workers) at `t`.
    fn level_at(&self, t: Duration) -> u64 {
        let moved = match self.spawn_rate {
            Some(r) if r > 0.0 => (t.saturating_sub(self.at).as_secs_f64() * r).floor() as u64 + 1,
            _ => u64::MAX,
        };
        if self.to >= self.from {
            self.from.saturating_add(moved).min(self.to)
        } else {
            self.from.saturating_sub(moved).max(self.to)
        }
    }

    /// How long after `at` the `rank`-th user (0-based) is started or stopped.
    fn delay(&self, rank: u64) -> Duration {
        match self.spawn_rate {
            Some(r) if r > 0.0 => {
                Duration::try_from_secs_f64(rank as f64 / r).unwrap_or(Duration::MAX)
            }
            _ => Duration::ZERO,
        }
    }

    /// This worker's events for the change, given the users it runs now (not told to stop).
    fn events(&self, segment: Segment, running: &HashMap<u64, Rc<Cell<bool>>>) -> Events {
        let mut out: Vec<(Duration, Event)> = Vec::new();
        // Highest numbers stop first, as a ramp-down does.
        let mut stops: Vec<u64> = running.keys().copied().filter(|&i| i >= self.to).collect();
        stops.sort_unstable_by(|a, b| b.cmp(a));
        for i in stops {
            let rank = self.from.saturating_sub(1).saturating_sub(i);
            out.push((self.at.saturating_add(self.delay(rank)), Event::Stop(i)));
        }
        for i in segment.numbers_from(0).take_while(|&i| i < self.to) {
            if !running.contains_key(&i) {
                let rank = i.saturating_sub(self.from);
                out.push((self.at.saturating_add(self.delay(rank)), Event::Start(i)));
            }
        }
        out.sort_by_key(|(t, _)| *t);
        Box::new(out.into_iter())
    }
}

/// Runs this worker's users of a closed-model scenario until the schedule's end, the
/// iteration count is used up, or a stop.
pub(super) async fn run(model: Closed, r: ExecutorRun) {
    let ExecutorRun {
        plan,
        index,
        ctx,
        sctx,
        at,
        begin,
    } = r;
    let end = model.end.and_then(|e| begin.checked_add(e));
    let mut events: Peekable<Events> = model.events.peekable();
    let mut users = JoinSet::new();
    // Users running and not told to stop, with the flag that stops each alone.
    let mut running: HashMap<u64, Rc<Cell<bool>>> = HashMap::new();
    let mut changes = sctx.load_changes();
    let mut ramp: Option<Ramp> = None;
    loop {
        // Every user finished by itself (the iteration count is used up) and none is
        // still to come.
        if events.peek().is_none() && users.is_empty() && sctx.out_of_iterations() {
            break;
        }
        let next = events.peek().and_then(|(t, _)| begin.checked_add(*t));
        tokio::select! {
            _ = sleep_until_opt(next) => match events.next() {
                Some((_, Event::Start(i))) => {
                    if running.contains_key(&i) {
                        continue;
                    }
                    let stop = Rc::new(Cell::new(false));
                    running.insert(i, stop.clone());
                    users.spawn_local(user_life(plan.clone(), index, ctx.clone(), sctx.clone(), i, stop));
                }
                Some((_, Event::Stop(i))) => {
                    if let Some(stop) = running.remove(&i) {
                        stop.set(true);
                    }
                }
                None => {}
            },
            // Users ramped down end by themselves; collect them so the set stays small.
            Some(joined) = users.join_next(), if !users.is_empty() => {
                if let Ok((i, stop)) = joined {
                    if running.get(&i).is_some_and(|s| Rc::ptr_eq(s, &stop)) {
                        running.remove(&i);
                    }
                }
            }
            change = changes.next() => {
                let t0 = change.at.saturating_duration_since(begin);
                let from = ramp.map_or_else(|| (model.planned)(t0), |r| r.level_at(t0));
                let to = if change.target.is_finite() { change.target.max(0.0).round() as u64 } else { 0 };
                let next_ramp = Ramp { at: t0, from, to, spawn_rate: model.spawn_rate };
                events = next_ramp.events(at.segment, &running).peekable();
                ramp = Some(next_ramp);
            }
            _ = sleep_until_opt(end) => {
                sctx.begin_stop();
                break;
            }
            _ = sctx.stopped() => break,
        }
    }
    drain(&mut users, &sctx, at.stop_timeout).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(ids: &[u64]) -> HashMap<u64, Rc<Cell<bool>>> {
        ids.iter()
            .map(|&i| (i, Rc::new(Cell::new(false))))
            .collect()
    }

    #[test]
    fn a_rise_starts_the_missing_users_at_the_spawn_rate() {
        let ramp = Ramp {
            at: Duration::from_secs(10),
            from: 4,
            to: 8,
            spawn_rate: Some(2.0),
        };
        let [w0, w1]: [Segment; 2] = Segment::WHOLE
            .split(2)
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        let e0: Vec<_> = ramp.events(w0, &running(&[0, 2])).collect();
        let e1: Vec<_> = ramp.events(w1, &running(&[1, 3])).collect();
        let s = Duration::from_secs_f64;
        assert_eq!(e0, [(s(10.0), Event::Start(4)), (s(11.0), Event::Start(6))]);
        assert_eq!(e1, [(s(10.5), Event::Start(5)), (s(11.5), Event::Start(7))]);
        assert_eq!(ramp.level_at(s(10.0)), 5);
        assert_eq!(ramp.level_at(s(11.6)), 8);
    }

    #[test]
    fn a_fall_stops_the_highest_users_first_and_never_starts_a_running_one() {
        let ramp = Ramp {
            at: Duration::ZERO,
            from: 6,
            to: 2,
            spawn_rate: Some(1.0),
        };
        let e: Vec<_> = ramp
            .events(Segment::WHOLE, &running(&[0, 1, 2, 3, 4, 5]))
            .collect();
        let s = Duration::from_secs;
        assert_eq!(
            e,
            [
                (s(0), Event::Stop(5)),
                (s(1), Event::Stop(4)),
                (s(2), Event::Stop(3)),
                (s(3), Event::Stop(2))
            ]
        );
        assert_eq!(ramp.level_at(s(1)), 4);
        // Without a spawn rate, all at once; a user that is missing below the level is
        // started again.
        let at_once = Ramp {
            spawn_rate: None,
            ..ramp
        };
        let e: Vec<_> = at_once.events(Segment::WHOLE, &running(&[0, 3])).collect();
        assert_eq!(e, [(s(0), Event::Stop(3)), (s(0), Event::Start(1))]);
        assert_eq!(at_once.level_at(s(0)), 2);
    }
}
