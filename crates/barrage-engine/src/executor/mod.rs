//! Executors decide *when* users run or iterations start. One load model per module, each a
//! type implementing [`Executor`]: what it is in words, the most users it needs, how long it
//! lasts, its share of a total iteration count, and running it. Each computes start times
//! from its schedule formula, never from `now()`, so a slow moment in the generator does not
//! bend the schedule. Every worker runs each scenario's executor for its own [`Segment`] of
//! users (user `i` on the segment that owns `i`) or iterations: no coordination between
//! workers is needed.
//!
//! A running session may change a scenario's load ([`crate::context::LoadChange`]): a closed
//! model moves to the new number of users (at its spawn rate), an open one to the new rate;
//! either holds the new value for what remains of its schedule. The models share two loops:
//! `closed.rs` (users that loop through their tasks) and `arrivals.rs` (iterations handed
//! to a pool of users on a schedule).

pub mod arrivals;
mod closed;
pub mod constant_arrival_rate;
pub mod constant_users;
pub mod ramping_arrival_rate;
pub mod ramping_users;
#[cfg(test)]
mod segment_tests;
pub mod spacing;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use barrage_metrics::LoadInfo;

pub use crate::context::{Placement, ScenarioCtx};
use crate::context::{UserRunning, WorkerCtx};
use crate::load::LoadModel;
use crate::plan::{Plan, ScenarioPlan, Stage};
use crate::segment::Segment;
use crate::vu::{PlanHandle, Vu};
use barrage_scenario::Think;

/// What a load change sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steer {
    /// The number of users (closed models).
    Users,
    /// Iterations started per second (open models).
    Rate,
}

/// One worker's share of one scenario, as an executor gets it.
pub struct ExecutorRun {
    /// Shared by the scenario's users on this worker.
    pub plan: PlanHandle,
    /// The scenario's index in the plan.
    pub index: usize,
    pub ctx: Rc<WorkerCtx>,
    pub sctx: Rc<ScenarioCtx>,
    pub at: Placement,
    /// The scenario's own start (the run's start plus its start offset).
    pub begin: Instant,
}

/// A future that runs on one worker thread.
pub type LocalFuture = Pin<Box<dyn Future<Output = ()>>>;

/// A load model. The plan holds one per scenario ([`crate::plan::LoadModel`]); everything
/// that depends on which model it is asks it through this trait.
pub trait Executor {
    /// The load in words: `50 users (25 started per second) for 20s`.
    fn describe(&self) -> String;
    /// The most users it runs at once (each holds at least one connection).
    fn max_users(&self) -> u64;
    /// How long its schedule lasts after the scenario's start; `None` when only a stop or
    /// an iteration count ends it.
    fn length(&self) -> Option<Duration>;
    /// When the ramp-up is over (for `--reset-stats`).
    fn ramp_up(&self) -> Duration;
    /// The share of a total iteration count that `segment` runs; `None`: no count.
    fn iterations(&self, _segment: Segment) -> Option<u64> {
        None
    }
    /// What a load change of this model sets.
    fn steers(&self) -> Steer;
    /// The planned level (users, or iterations per second) `t` after the scenario's start.
    fn level_at(&self, t: Duration) -> f64;
    /// Whether start times are part of the load (arrival rates), so a late start makes the
    /// results suspect.
    fn schedule_matters(&self) -> bool {
        self.steers() == Steer::Rate
    }
    /// The result file's `run.load` fields (all but `model`, which describes every scenario).
    fn load_info(&self) -> LoadInfo;
    /// Runs one worker's share to its end: the schedule done and every user finished, or a
    /// stop (`ScenarioCtx::begin_stop`) and the users' stop timeout.
    fn run(&self, run: ExecutorRun) -> LocalFuture;
}

impl LoadModel {
    pub fn executor(&self) -> &dyn Executor {
        match self {
            LoadModel::ConstantUsers(m) => m,
            LoadModel::RampingUsers(m) => m,
            LoadModel::ConstantArrivalRate(m) => m,
            LoadModel::RampingArrivalRate(m) => m,
        }
    }

    /// How long the schedule lasts after the scenario's start; `None` when only Ctrl-C or an
    /// iteration count ends it.
    pub fn length(&self) -> Option<Duration> {
        self.executor().length()
    }

    /// When the ramp-up is over (for `--reset-stats`).
    pub fn ramp_up(&self) -> Duration {
        self.executor().ramp_up()
    }
}

impl ScenarioPlan {
    /// Whether start times matter for correct results: arrival-rate schedules, and pacing
    /// (each iteration starts at a fixed interval). Closed loops saturating a core are only
    /// doing their job.
    pub fn schedule_matters(&self) -> bool {
        self.load.executor().schedule_matters()
            || self
                .users
                .iter()
                .any(|u| matches!(u.think, Think::Pacing(_)))
    }
}

/// Runs one worker's share of scenario `index`, from the scenario's start offset on.
pub async fn run(
    plan: Arc<Plan>,
    index: usize,
    ctx: Rc<WorkerCtx>,
    sctx: Rc<ScenarioCtx>,
    at: Placement,
) {
    let begin = at.start + plan.scenarios[index].start;
    if !sctx.sleep_until(begin).await {
        return;
    }
    let future = plan.scenarios[index].load.executor().run(ExecutorRun {
        plan: Rc::new(plan.clone()),
        index,
        ctx,
        sctx,
        at,
        begin,
    });
    future.await
}

/// `7.5s`, or `2m` for whole minutes: durations as the load descriptions show them.
pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 && s.fract() == 0.0 && (s as u64).is_multiple_of(60) {
        format!("{}m", s as u64 / 60)
    } else {
        format!("{s}s")
    }
}

pub(crate) fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `to 100 over 30s, then to 0 over 10s`.
pub(crate) fn stages_text(stages: &[Stage]) -> String {
    stages
        .iter()
        .map(|s| format!("to {} over {}", s.target, secs(s.duration)))
        .collect::<Vec<_>>()
        .join(", then ")
}

/// The level of a line that starts at `from` and moves linearly through `stages`, `t` after
/// its start; the last stage's target after the end.
pub(crate) fn stages_level_at(from: f64, stages: &[Stage], t: Duration) -> f64 {
    let mut at = Duration::ZERO;
    let mut level = from;
    for s in stages {
        if t < at + s.duration {
            let into = (t - at).as_secs_f64() / s.duration.as_secs_f64();
            return level + (s.target - level) * into;
        }
        at += s.duration;
        level = s.target;
    }
    level
}

/// One user's whole life: counted in the users gauge however it ends (finished, told to
/// stop, or aborted at a hard stop). `own_stop` lets a ramp-down stop this user alone, at
/// the end of its current iteration. Returns the user's number and its stop flag, so the
/// executor knows who ended.
///
/// Spawned as it is, never wrapped: awaited inside another `async` block it was moved
/// into that block's state, and the task carried the user's state twice (11.6 KB rather
/// than 5.8) with one more level to pass on every wake-up (docs/PERFORMANCE.md, "The
/// answer written once").
pub(crate) async fn user_life(
    plan: PlanHandle,
    scenario: usize,
    ctx: Rc<WorkerCtx>,
    sctx: Rc<ScenarioCtx>,
    i: u64,
    own_stop: Rc<Cell<bool>>,
) -> (u64, Rc<Cell<bool>>) {
    let user_type = plan.scenarios[scenario].user_type(i);
    ctx.user_started();
    let _running = UserRunning(ctx.clone());
    let mut vu = Vu::new(i + 1, scenario, user_type, plan, ctx, sctx, None);
    vu.run(Some(own_stop.clone())).await;
    (i, own_stop)
}

pub(crate) async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

/// Waits for `users` to end by themselves, up to `stop_timeout` after the scenario began
/// stopping; then aborts the rest (their in-flight requests count as interrupted).
pub(crate) async fn drain<T: 'static>(
    users: &mut tokio::task::JoinSet<T>,
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

    fn stage(secs: u64, target: f64) -> Stage {
        Stage {
            duration: Duration::from_secs(secs),
            target,
        }
    }

    #[test]
    fn a_line_through_stages_has_its_level_at_every_moment() {
        let stages = [stage(10, 100.0), stage(10, 100.0), stage(5, 0.0)];
        let at = |s: f64| stages_level_at(0.0, &stages, Duration::from_secs_f64(s));
        assert_eq!(at(0.0), 0.0);
        assert_eq!(at(2.5), 25.0);
        assert_eq!(at(15.0), 100.0);
        assert_eq!(at(22.5), 50.0);
        assert_eq!(at(100.0), 0.0);
        assert_eq!(secs(Duration::from_secs(120)), "2m");
        assert_eq!(secs(Duration::from_millis(7500)), "7.5s");
    }
}
