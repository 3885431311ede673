//! The closed model: a fixed number of users, started at a fixed rate, each looping
//! through its tasks until the run ends.
//!
//! User `i` (0-based, over all workers) starts at `i / spawn_rate` seconds after the run's
//! start and runs on worker `i mod workers`, so every worker computes its own share of the
//! schedule without talking to the others.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::{drain, sleep_until_opt, user_life, Placement, ScenarioCtx};
use crate::plan::Plan;
use crate::worker::WorkerCtx;

/// Runs this worker's users of a constant-users scenario until its duration is over, its
/// iterations are used up, or it is stopped.
pub async fn run(
    model: ConstantUsers,
    plan: Arc<Plan>,
    index: usize,
    ctx: Rc<WorkerCtx>,
    sctx: Rc<ScenarioCtx>,
    at: Placement,
    begin: Instant,
) {
    let deadline = plan.scenarios[index].load.length().map(|d| begin + d);
    let mut schedule = model.schedule(at.worker, at.workers, begin).peekable();
    let mut users = JoinSet::new();
    loop {
        // Every user finished by itself (iterations used up, or none here) and none is
        // still to come.
        if schedule.peek().is_none() && users.is_empty() {
            break;
        }
        let next = schedule.peek().map(|(t, _)| *t);
        tokio::select! {
            _ = sleep_until_opt(next) => {
                if let Some((_, i)) = schedule.next() {
                    let life = user_life(plan.clone(), index, ctx.clone(), sctx.clone(), i, None);
                    users.spawn_local(life);
                }
            }
            Some(_) = users.join_next(), if !users.is_empty() => {}
            _ = sleep_until_opt(deadline) => {
                sctx.begin_stop();
                break;
            }
            _ = sctx.stopped() => break,
        }
    }
    drain(&mut users, &sctx, at.stop_timeout).await;
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConstantUsers {
    pub users: u64,
    /// Users started per second; `None` starts all at once.
    pub spawn_rate: Option<f64>,
}

impl ConstantUsers {
    /// How many users worker `worker` of `workers` runs.
    pub fn users_on(&self, worker: usize, workers: usize) -> u64 {
        let (w, n) = (worker as u64, workers as u64);
        self.users / n + u64::from(w < self.users % n)
    }

    /// When the `i`-th user (0-based, over all workers) starts, after the run's start.
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

    /// The users of one worker, in start order: `(start time, global user index)`.
    pub fn schedule(
        &self,
        worker: usize,
        workers: usize,
        start: Instant,
    ) -> impl Iterator<Item = (Instant, u64)> + 'static {
        let this = *self;
        (worker as u64..this.users)
            .step_by(workers.max(1))
            .map_while(move |i| start.checked_add(this.start_offset(i)).map(|t| (t, i)))
    }

    /// How long until every user has started.
    pub fn ramp_up(&self) -> Duration {
        self.start_offset(self.users.saturating_sub(1))
    }
}

/// Splits `total` iterations over workers in proportion to their users, so no worker
/// holds iterations it has no users to run.
pub fn iteration_shares(total: u64, users: &ConstantUsers, workers: usize) -> Vec<u64> {
    let per: Vec<u64> = (0..workers).map(|w| users.users_on(w, workers)).collect();
    let all: u64 = per.iter().sum();
    if all == 0 {
        return vec![0; workers];
    }
    let mut shares: Vec<u64> = per
        .iter()
        .map(|&u| ((total as u128 * u as u128) / all as u128) as u64)
        .collect();
    let mut left = total - shares.iter().sum::<u64>();
    for (w, share) in shares.iter_mut().enumerate() {
        if left == 0 {
            break;
        }
        if per[w] > 0 {
            *share += 1;
            left -= 1;
        }
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_striped_and_started_at_the_spawn_rate() {
        let c = ConstantUsers {
            users: 5,
            spawn_rate: Some(2.0),
        };
        let t0 = Instant::now();
        let w0: Vec<_> = c.schedule(0, 2, t0).collect();
        let w1: Vec<_> = c.schedule(1, 2, t0).collect();
        assert_eq!(w0.iter().map(|u| u.1).collect::<Vec<_>>(), vec![0, 2, 4]);
        assert_eq!(w1.iter().map(|u| u.1).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(w0[2].0 - t0, Duration::from_secs(2));
        assert_eq!(w1[0].0 - t0, Duration::from_millis(500));
        assert_eq!((c.users_on(0, 2), c.users_on(1, 2)), (3, 2));
        assert_eq!(c.ramp_up(), Duration::from_secs(2));
    }

    #[test]
    fn iterations_follow_the_users() {
        let c = ConstantUsers {
            users: 3,
            spawn_rate: None,
        };
        assert_eq!(iteration_shares(10, &c, 2), vec![7, 3]);
        assert_eq!(iteration_shares(10, &c, 4).iter().sum::<u64>(), 10);
        assert_eq!(iteration_shares(10, &c, 4)[3], 0);
        let one = ConstantUsers {
            users: 1,
            spawn_rate: None,
        };
        assert_eq!(iteration_shares(5, &one, 2), vec![5, 0]);
    }
}
