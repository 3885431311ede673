//! Executors decide *when* users run or iterations start. One load model per module; each
//! computes start times from its schedule formula, never from `now()`, so a slow moment in
//! the generator does not bend the schedule. Every worker runs each scenario's executor
//! for its own stripe of users (user `i` on worker `i mod workers`) or iterations
//! (iteration `k` on worker `k mod workers`): no coordination between workers is needed.

pub mod arrivals;
pub mod constant_arrival_rate;
pub mod constant_users;
pub mod ramping_arrival_rate;
pub mod ramping_users;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::plan::{LoadModel, Plan};
use crate::vu::Vu;
use crate::worker::WorkerCtx;

/// Where one worker's share of one scenario runs.
#[derive(Clone)]
pub struct Placement {
    pub worker: usize,
    pub workers: usize,
    /// The run's start; the scenario's own start is `start + plan.start`.
    pub start: Instant,
    pub stop_timeout: Duration,
}

/// One scenario's state on one worker: whether it is stopping, and its share of a total
/// iteration count. Users and the executor check it; only this thread touches it.
pub struct ScenarioCtx {
    pub index: usize,
    stopping: Cell<bool>,
    stop: Notify,
    tickets: Cell<Option<u64>>,
}

impl ScenarioCtx {
    pub fn new(index: usize, tickets: Option<u64>) -> ScenarioCtx {
        ScenarioCtx {
            index,
            stopping: Cell::new(false),
            stop: Notify::new(),
            tickets: Cell::new(tickets),
        }
    }

    pub fn stopping(&self) -> bool {
        self.stopping.get()
    }

    /// Tells the scenario's users to stop at their next step, waking those that sleep.
    pub fn begin_stop(&self) {
        self.stopping.set(true);
        self.stop.notify_waiters();
    }

    /// Sleeps until `t`; `false` when the scenario began stopping meanwhile.
    pub async fn sleep_until(&self, t: Instant) -> bool {
        if self.stopping.get() {
            return false;
        }
        // No await between the check above and the first poll of `notified` below, and
        // only this thread calls `begin_stop`: a stop cannot slip between.
        tokio::select! {
            _ = tokio::time::sleep_until(t.into()) => !self.stopping.get(),
            _ = self.stop.notified() => false,
        }
    }

    /// Resolves when the scenario begins stopping.
    pub async fn stopped(&self) {
        if !self.stopping.get() {
            self.stop.notified().await;
        }
    }

    /// Takes one iteration from this worker's share; `false` when it is used up (or the
    /// scenario is stopping).
    pub fn take_iteration(&self) -> bool {
        match self.tickets.get() {
            None => !self.stopping.get(),
            Some(0) => false,
            Some(n) => {
                self.tickets.set(Some(n - 1));
                !self.stopping.get()
            }
        }
    }
}

/// Runs one worker's share of scenario `index` to its end: the schedule done and every
/// user finished, or a stop (`ScenarioCtx::begin_stop`) and the users' stop timeout.
pub async fn run(
    plan: Arc<Plan>,
    index: usize,
    ctx: Rc<WorkerCtx>,
    sctx: Rc<ScenarioCtx>,
    at: Placement,
) {
    let scenario = &plan.scenarios[index];
    let begin = at.start + scenario.start;
    if !sctx.sleep_until(begin).await {
        return;
    }
    match &scenario.load {
        LoadModel::ConstantUsers {
            users, spawn_rate, ..
        } => {
            let model = constant_users::ConstantUsers {
                users: *users,
                spawn_rate: *spawn_rate,
            };
            constant_users::run(model, plan.clone(), index, ctx, sctx, at, begin).await
        }
        LoadModel::RampingUsers { start, stages } => {
            let events = ramping_users::events(*start, stages, at.worker, at.workers);
            ramping_users::run(events, plan.clone(), index, ctx, sctx, at, begin).await
        }
        LoadModel::ArrivalRate {
            rate,
            stages,
            duration,
            max_users,
            pre_allocated_users,
            drop_when_busy,
        } => {
            // Fewer users than workers: the schedule is striped over as many workers as
            // there are users, so no worker holds iterations without a user to run them.
            let workers = at.workers.min(*max_users as usize).max(1);
            if at.worker >= workers {
                return;
            }
            let pool = arrivals::PoolSpec {
                max_users: share(*max_users, at.worker, workers),
                pre_allocated: share(*pre_allocated_users, at.worker, workers),
                drop_when_busy: *drop_when_busy,
            };
            let offsets: Box<dyn Iterator<Item = Duration>> = if stages.is_empty() {
                Box::new(constant_arrival_rate::offsets(
                    *rate, *duration, at.worker, workers,
                ))
            } else {
                Box::new(ramping_arrival_rate::offsets(
                    *rate,
                    stages.clone(),
                    at.worker,
                    workers,
                ))
            };
            arrivals::run(offsets, pool, plan.clone(), index, ctx, sctx, at, begin).await
        }
    }
}

/// One user's whole life: counted in the users gauge however it ends (finished, told to
/// stop, or aborted at a hard stop). `own_stop` lets a ramp-down stop this user alone, at
/// the end of its current iteration.
pub(crate) async fn user_life(
    plan: Arc<Plan>,
    scenario: usize,
    ctx: Rc<WorkerCtx>,
    sctx: Rc<ScenarioCtx>,
    i: u64,
    own_stop: Option<Rc<Cell<bool>>>,
) {
    let user_type = plan.scenarios[scenario].user_type(i);
    ctx.user_started();
    let _running = UserRunning(ctx.clone());
    Vu::new(i + 1, scenario, user_type, plan, ctx, sctx, None)
        .run(own_stop)
        .await;
}

pub(crate) struct UserRunning(pub(crate) Rc<WorkerCtx>);

impl Drop for UserRunning {
    fn drop(&mut self) {
        self.0.user_stopped();
    }
}

pub(crate) async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

/// Worker `w`'s part of `total` when it is spread evenly over `workers`.
pub fn share(total: u64, w: usize, workers: usize) -> u64 {
    let n = workers.max(1) as u64;
    total / n + u64::from((w as u64) < total % n)
}

/// Waits for `users` to end by themselves, up to `stop_timeout` after the scenario began
/// stopping; then aborts the rest (their in-flight requests count as interrupted).
pub(crate) async fn drain(
    users: &mut tokio::task::JoinSet<()>,
    sctx: &ScenarioCtx,
    stop_timeout: Duration,
) {
    loop {
        tokio::select! {
            next = users.join_next() => if next.is_none() { return },
            _ = sctx.stopped() => break,
        }
    }
    let grace = tokio::time::sleep(stop_timeout);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            next = users.join_next() => if next.is_none() { return },
            _ = &mut grace => break,
        }
    }
    users.abort_all();
    while users.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_and_differ_by_at_most_one() {
        for total in [0u64, 1, 7, 100] {
            let parts: Vec<u64> = (0..3).map(|w| share(total, w, 3)).collect();
            assert_eq!(parts.iter().sum::<u64>(), total);
            assert!(parts.iter().max().unwrap() - parts.iter().min().unwrap() <= 1);
        }
    }
}
