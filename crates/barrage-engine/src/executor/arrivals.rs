//! The open model's machinery, shared by both arrival-rate executors: a dispatcher that
//! wakes at each intended start (with a precise timer) and hands the iteration to an idle
//! user, and the pool of users it draws from.
//!
//! Users are long-lived (each keeps its connections, cookies and what `setup` saved) and
//! created on demand up to `max_users`. When all are busy a scheduled iteration either
//! waits in a queue, to be taken by the next user that finishes (its response times still
//! count from the intended start, so the wait is not hidden), or is dropped and counted.
//! Iterations still queued when the schedule ends never started: they count as dropped.
//!
//! A load change (a session's `set rate`) replaces what remains of the schedule with a
//! constant rate from the moment of the change to the schedule's end: iteration `k` of the
//! new schedule is meant to start `k / rate` after the change, on the segment that owns pool
//! user `k mod max_users`, as before the change (with Poisson arrivals, a fresh Poisson process of the new rate from the change: the
//! process is memoryless, so nothing of the old one needs carrying over).
//!
//! Everything here lives on one worker thread: the pool is `Rc<RefCell<..>>`, and handing
//! over an iteration is a `Cell` write and a `Notify` on that thread.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::spacing::{self, Arrivals, Positions};
use super::{drain, sleep_until_opt, ExecutorRun, ScenarioCtx};
use crate::context::{UserRunning, WorkerCtx};
pub use crate::load::PoolSpec;
use crate::segment::Segment;
use crate::timer::PreciseTimer;
use crate::vu::{PlanHandle, StepsEnd, Vu};

impl PoolSpec {
    /// `up to 100 users (iterations queued when all are busy)`.
    pub fn describe(&self) -> String {
        let busy = if self.drop_when_busy {
            "dropped"
        } else {
            "queued"
        };
        format!(
            "up to {} users (iterations {busy} when all are busy)",
            self.max_users
        )
    }
}

/// The schedule of one segment: intended start offsets after the scenario's start.
pub type Offsets = Box<dyn Iterator<Item = Duration>>;

/// Where the dispatcher leaves an iteration for one user, and how it wakes it.
#[derive(Default)]
struct Slot {
    job: Cell<Option<Instant>>,
    wake: Notify,
}

impl Slot {
    fn job_pending(&self) -> bool {
        self.job.get().is_some()
    }
}

#[derive(Default)]
struct Pool {
    idle: RefCell<Vec<Rc<Slot>>>,
    queue: RefCell<VecDeque<Instant>>,
    created: Cell<u64>,
    /// Users running an iteration (or their setup) right now.
    busy: Cell<u64>,
    /// Signalled whenever a user goes idle.
    went_idle: Notify,
}

impl Pool {
    /// Counts a new user (busy from the start: it was made for an iteration, or says it is
    /// idle once its setup is done) and returns its number on this worker. Counted here, by
    /// the dispatcher, so the next check against `max_users` already sees it.
    fn add_user(&self) -> u64 {
        let n = self.created.get();
        self.created.set(n + 1);
        self.busy.set(self.busy.get() + 1);
        n
    }

    /// The next queued iteration, updating the queue gauge.
    fn next_queued(&self, ctx: &WorkerCtx) -> Option<Instant> {
        let (t, depth) = {
            let mut q = self.queue.borrow_mut();
            (q.pop_front()?, q.len() as u64)
        };
        ctx.recorder.borrow_mut().queue_depth(depth);
        Some(t)
    }
}

/// What every user of this scenario on this worker shares.
struct Shared {
    plan: PlanHandle,
    index: usize,
    ctx: Rc<WorkerCtx>,
    sctx: Rc<ScenarioCtx>,
    pool: Pool,
    /// The run's start: intended starts are counted by their second of the run.
    run_start: Instant,
    /// The stripe this pool serves; its users are numbered in it.
    segment: Segment,
}

/// A constant-rate schedule for one segment: `(rate, length, positions)` to its offsets
/// (`constant_arrival_rate::offsets`, handed in so this loop imports no model).
pub type ConstantSchedule = fn(f64, Option<Duration>, Positions) -> Offsets;

/// What a load change switches the schedule to: a constant rate, spaced as the model's.
#[derive(Clone, Copy)]
pub struct Schedule {
    pub constant: ConstantSchedule,
    pub arrivals: Arrivals,
}

/// Runs one segment's share of an open-model scenario: `offsets` is its planned schedule,
/// `segment` the stripe it was made for (the pool's share follows from it), `end` the
/// schedule's length, which a load change keeps, `changed_to` what a change switches to.
pub async fn run(
    offsets: Offsets,
    segment: Segment,
    pool: PoolSpec,
    end: Option<Duration>,
    changed_to: Schedule,
    r: ExecutorRun,
) {
    let ExecutorRun {
        plan,
        index,
        ctx,
        sctx,
        at,
        begin,
    } = r;
    let spec = PoolSpec {
        max_users: segment.share(pool.max_users),
        pre_allocated: segment.share(pool.pre_allocated),
        drop_when_busy: pool.drop_when_busy,
    };
    let shared = Rc::new(Shared {
        plan,
        index,
        ctx: ctx.clone(),
        sctx: sctx.clone(),
        pool: Pool::default(),
        run_start: at.start,
        segment,
    });
    let mut users = JoinSet::new();
    for _ in 0..spec.pre_allocated.min(spec.max_users) {
        let n = shared.pool.add_user();
        users.spawn_local(user(shared.clone(), Rc::new(Slot::default()), n));
    }
    let mut timer = PreciseTimer::new();
    let mut offsets = offsets;
    let mut changes = sctx.load_changes();
    let mut changed = false;
    let end_at = end.and_then(|e| begin.checked_add(e));
    // The starts that share the next wake-up (those due less than the batch window after
    // the first, `RunOptions::batch_window`), and the first start after them (taken from the
    // schedule to see that it is not in the batch). The wake-up is the first's intended
    // start: the others go early, by at most the window, never late by design, and count
    // their response times from when they really begin (`iteration`).
    let mut batch: Vec<Instant> = Vec::new();
    let mut ahead: Option<Instant> = None;
    loop {
        let next = ahead.take().or_else(|| next_start(&mut offsets, begin));
        let Some(first) = next else {
            // The schedule is used up. Without a change, that is its end; after one (a
            // rate of 0, say), the scenario still lasts its length, so it can be raised.
            if !changed {
                break;
            }
            tokio::select! {
                _ = sleep_until_opt(end_at) => break,
                change = changes.next() => {
                    offsets = after_change(changed_to, change.at, change.target, begin, end, segment, pool.max_users);
                    continue;
                }
                _ = sctx.stopped() => break,
            }
        };
        batch.clear();
        batch.push(first);
        let batch_end = first + at.batch_window;
        while let Some(t) = next_start(&mut offsets, begin) {
            if t >= batch_end {
                ahead = Some(t);
                break;
            }
            batch.push(t);
        }
        tokio::select! {
            _ = timer.sleep_until(first) => {}
            change = changes.next() => {
                // The batch's wake-up had not come: its starts are replaced with the rest.
                ahead = None;
                offsets = after_change(changed_to, change.at, change.target, begin, end, segment, pool.max_users);
                changed = true;
                continue;
            }
            _ = sctx.stopped() => break,
        }
        let now = Instant::now();
        for &intended in &batch {
            hand_off(&shared, &spec, &mut users, intended, now);
        }
    }
    let never_started = shared.pool.queue.borrow_mut().drain(..).count();
    {
        let mut r = ctx.recorder.borrow_mut();
        for _ in 0..never_started {
            r.dropped();
        }
        r.queue_depth(0);
    }
    // The schedule is over: iterations already handed out finish (within the stop
    // timeout) before the scenario stops, so none is cut short between its steps.
    if !sctx.stopping() {
        let grace = tokio::time::sleep(at.stop_timeout);
        tokio::pin!(grace);
        while shared.pool.busy.get() > 0 {
            tokio::select! {
                _ = shared.pool.went_idle.notified() => {}
                _ = &mut grace => break,
                _ = sctx.stopped() => break,
            }
        }
    }
    sctx.begin_stop();
    drain(&mut users, &sctx, at.stop_timeout).await;
}

/// The next intended start of `offsets`; `None` at its end (or past what an `Instant`
/// holds, which is never reached).
fn next_start(offsets: &mut Offsets, begin: Instant) -> Option<Instant> {
    begin.checked_add(offsets.next()?)
}

/// Starts the iteration meant for `intended` (`now` is when the dispatcher woke for it):
/// an idle user takes it, else a new one while the pool may grow, else it is dropped or
/// queued as the pool says.
fn hand_off(
    shared: &Rc<Shared>,
    spec: &PoolSpec,
    users: &mut JoinSet<()>,
    intended: Instant,
    now: Instant,
) {
    let ctx = &shared.ctx;
    let lag = now.saturating_duration_since(intended);
    ctx.recorder
        .borrow_mut()
        .schedule_lag(lag.as_nanos() as u64);
    let pool = &shared.pool;
    let idle = pool.idle.borrow_mut().pop();
    if let Some(slot) = idle {
        slot.job.set(Some(intended));
        pool.busy.set(pool.busy.get() + 1);
        slot.wake.notify_one();
    } else if pool.created.get() < spec.max_users {
        let slot = Rc::new(Slot::default());
        slot.job.set(Some(intended));
        let n = pool.add_user();
        users.spawn_local(user(shared.clone(), slot, n));
    } else if spec.drop_when_busy {
        ctx.recorder.borrow_mut().dropped();
    } else {
        let depth = {
            let mut q = pool.queue.borrow_mut();
            q.push_back(intended);
            q.len() as u64
        };
        ctx.recorder.borrow_mut().queue_depth(depth);
    }
}

/// The schedule after a change to `rate` at `at`: iteration `k` (of the segment's starts,
/// dealt over a pool of `pool_users`) at `k / rate` after the change (`k` a position of
/// the model's spacing), until the scenario's `end`.
fn after_change(
    to: Schedule,
    at: Instant,
    rate: f64,
    begin: Instant,
    end: Option<Duration>,
    segment: Segment,
    pool_users: u64,
) -> Offsets {
    let from = at.saturating_duration_since(begin);
    let left = end.map(|e| e.saturating_sub(from));
    let rate = if rate.is_finite() { rate.max(0.0) } else { 0.0 };
    let positions = spacing::positions(to.arrivals, segment, pool_users);
    Box::new((to.constant)(rate, left, positions).map(move |o| from + o))
}

/// One pooled user: set up once, then run whatever iterations it is handed (and whatever
/// waits in the queue) until the scenario stops.
async fn user(shared: Rc<Shared>, slot: Rc<Slot>, n: u64) {
    let pool = &shared.pool;
    // Numbered over the whole load, like closed-model users: this pool's n-th user is its
    // segment's n-th number.
    let i = shared.segment.nth(n);
    let user_type = shared.plan.scenarios[shared.index].user_type(i);
    shared.ctx.user_started();
    let _running = UserRunning(shared.ctx.clone());
    let mut vu = Vu::new(
        i + 1,
        shared.index,
        user_type,
        shared.plan.clone(),
        shared.ctx.clone(),
        shared.sctx.clone(),
        None,
    );
    // A user that cannot complete its setup still runs what it is handed: its failed
    // requests then show what is wrong, and the schedule is not held up.
    if vu.setup().await == StepsEnd::Shutdown {
        return;
    }
    loop {
        // An iteration handed over, else one waiting in the queue, else go idle.
        let job = slot.job.take().or_else(|| pool.next_queued(&shared.ctx));
        let Some(intended) = job else {
            pool.idle.borrow_mut().push(slot.clone());
            pool.busy.set(pool.busy.get() - 1);
            pool.went_idle.notify_waiters();
            tokio::select! {
                _ = slot.wake.notified() => {}
                _ = shared.sctx.stopped() => {}
            }
            // A job handed over just before the stop still runs (the dispatcher counted
            // this user busy again when it handed it over); without one, stop.
            if slot.job_pending() {
                continue;
            }
            return;
        };
        if !iteration(&shared, &mut vu, intended).await || shared.sctx.stopping() {
            return;
        }
    }
}

/// Runs one scheduled iteration; `false` when the scenario is stopping. One that begins
/// before its intended start (it shared an earlier start's wake-up) counts its response
/// times from now, when it really begins; one that begins late counts them from its
/// intended start, so the lateness is not hidden.
async fn iteration(shared: &Shared, vu: &mut Vu, intended: Instant) -> bool {
    let now = Instant::now();
    let delay = now.saturating_duration_since(intended);
    let second = intended
        .saturating_duration_since(shared.run_start)
        .as_secs();
    shared.ctx.recorder.borrow_mut().iteration_started(
        u32::try_from(second).unwrap_or(u32::MAX),
        delay.as_nanos() as u64,
    );
    vu.iteration_once(None, intended.min(now)).await != StepsEnd::Shutdown
}
