//! A worker: one OS thread with its own current-thread runtime, running the virtual
//! users striped onto it, with its own recorder.
//!
//! Why this shape: a multi-threaded runtime would move users between threads and force
//! every per-request record through shared state. Here a user, its connections and the
//! recorder it writes to all live on one thread; the only cross-thread traffic is one
//! message a second (the interval's measurements) and the rare control signal.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender as Sender;

use barrage_metrics::{Interval, Recorder};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use crate::executor::constant_users::ConstantUsers;
use crate::http::Connector;
use crate::plan::Plan;
use crate::vu::Vu;

/// What the controller asks of the workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Running,
    /// Start nothing new; let in-flight requests finish within the stop timeout.
    Graceful,
    /// Stop now: drop in-flight requests (counted as interrupted).
    Hard,
}

/// What a worker reports.
pub enum WorkerEvent {
    /// Measurements of one interval. `second` counts from 1 at the run's start; the final
    /// interval of a worker carries `last: true`.
    Interval {
        worker: usize,
        second: u64,
        last: bool,
        /// Boxed: an interval is large, and it crosses threads once a second.
        interval: Box<Interval>,
    },
    /// The worker's thread failed to start its runtime.
    Failed { worker: usize, message: String },
}

/// State shared by everything on one worker thread (never across threads).
pub struct WorkerCtx {
    pub index: usize,
    pub workers: usize,
    pub recorder: RefCell<Recorder>,
    pub connector: Connector,
    stopping: Cell<bool>,
    stop: Notify,
    /// Iterations this worker may still start; `None` for no limit.
    tickets: Cell<Option<u64>>,
    sequential: Cell<u64>,
    users: Cell<u64>,
}

impl WorkerCtx {
    pub fn new(
        index: usize,
        workers: usize,
        recorder: Recorder,
        connector: Connector,
        tickets: Option<u64>,
    ) -> WorkerCtx {
        WorkerCtx {
            index,
            workers,
            recorder: RefCell::new(recorder),
            connector,
            stopping: Cell::new(false),
            stop: Notify::new(),
            tickets: Cell::new(tickets),
            sequential: Cell::new(0),
            users: Cell::new(0),
        }
    }

    pub fn stopping(&self) -> bool {
        self.stopping.get()
    }

    /// Tells every user on this worker to stop at its next step, waking those that sleep.
    pub fn begin_stop(&self) {
        self.stopping.set(true);
        self.stop.notify_waiters();
    }

    /// Sleeps until `t`; `false` when the worker began stopping meanwhile.
    pub async fn sleep_until(&self, t: Instant) -> bool {
        if self.stopping.get() {
            return false;
        }
        // No await between the check above and the first poll of `notified` below, and
        // this thread is the only one that calls `begin_stop`: a stop cannot slip between.
        tokio::select! {
            _ = tokio::time::sleep_until(t.into()) => !self.stopping.get(),
            _ = self.stop.notified() => false,
        }
    }

    /// Takes one iteration from this worker's share; `false` when the share is used up.
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

    /// The next row of a sequential data source: rows are dealt to workers in turn, so
    /// over the whole run each row is used about as often as every other.
    pub fn next_sequential_row(&self, rows: usize) -> usize {
        let n = self.sequential.get();
        self.sequential.set(n + 1);
        ((n as usize) * self.workers + self.index) % rows
    }

    pub fn user_started(&self) {
        self.users.set(self.users.get() + 1);
        self.recorder.borrow_mut().set_users(self.users.get());
    }

    pub fn user_stopped(&self) {
        self.users.set(self.users.get().saturating_sub(1));
        self.recorder.borrow_mut().set_users(self.users.get());
    }
}

/// Everything a worker needs to know about its part of the run.
#[derive(Clone)]
pub struct WorkerSpec {
    pub index: usize,
    pub workers: usize,
    pub start: Instant,
    pub deadline: Option<Instant>,
    pub stop_timeout: Duration,
    pub executor: ConstantUsers,
    pub tickets: Option<u64>,
}

/// One user's whole life on this worker, counted in the users gauge.
async fn user(plan: Arc<Plan>, ctx: Rc<WorkerCtx>, i: u64) {
    let user_type = plan.user_cycle[(i % plan.user_cycle.len() as u64) as usize] as usize;
    ctx.user_started();
    let _running = UserRunning(ctx.clone());
    Vu::new(i + 1, user_type, plan, ctx, None).run().await;
}

/// Keeps the users gauge right however a user ends (finished, or aborted at a hard stop).
struct UserRunning(Rc<WorkerCtx>);

impl Drop for UserRunning {
    fn drop(&mut self) {
        self.0.user_stopped();
    }
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

/// The body of a worker thread: builds its runtime, runs its users, reports intervals.
pub fn run_worker(
    plan: Arc<Plan>,
    spec: WorkerSpec,
    connector: Connector,
    mut phase: watch::Receiver<Phase>,
    events: Sender<WorkerEvent>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = events.send(WorkerEvent::Failed {
                worker: spec.index,
                message: e.to_string(),
            });
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let ctx = Rc::new(WorkerCtx::new(
            spec.index,
            spec.workers,
            Recorder::new(&plan.registry),
            connector,
            spec.tickets,
        ));
        let mut users: JoinSet<()> = JoinSet::new();
        let mut schedule = spec
            .executor
            .schedule(spec.index, spec.workers, spec.start)
            .peekable();
        let ticker = {
            let (ctx, events) = (ctx.clone(), events.clone());
            let (start, index) = (spec.start, spec.index);
            tokio::task::spawn_local(async move {
                let mut second = 1u64;
                loop {
                    let at = start + Duration::from_secs(second);
                    tokio::time::sleep_until(at.into()).await;
                    let interval = Box::new(ctx.recorder.borrow_mut().take_interval());
                    let msg = WorkerEvent::Interval {
                        worker: index,
                        second,
                        last: false,
                        interval,
                    };
                    if events.send(msg).is_err() {
                        return;
                    }
                    second += 1;
                }
            })
        };

        let deadline = async {
            match spec.deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(deadline);
        let mut hard = false;
        loop {
            // Every user finished by itself (iterations used up, or this worker has none)
            // and none is still to come.
            if schedule.peek().is_none() && users.is_empty() {
                break;
            }
            let next_start = schedule.peek().map(|(at, _)| *at);
            tokio::select! {
                _ = sleep_until_opt(next_start) => {
                    if let Some((_, i)) = schedule.next() {
                        users.spawn_local(user(plan.clone(), ctx.clone(), i));
                    }
                }
                Some(_) = users.join_next(), if !users.is_empty() => {}
                _ = &mut deadline => break,
                changed = phase.changed() => {
                    match changed.map(|_| *phase.borrow()) {
                        Ok(Phase::Running) => {}
                        Ok(Phase::Hard) => { hard = true; break; }
                        Ok(Phase::Graceful) | Err(_) => break,
                    }
                }
            }
        }
        ctx.begin_stop();
        if !hard {
            let grace = tokio::time::sleep(spec.stop_timeout);
            tokio::pin!(grace);
            loop {
                tokio::select! {
                    next = users.join_next() => if next.is_none() { break },
                    _ = &mut grace => break,
                    changed = phase.changed() => {
                        if changed.is_err() || *phase.borrow() == Phase::Hard { break; }
                    }
                }
            }
        }
        users.abort_all();
        while users.join_next().await.is_some() {}
        ticker.abort();
        let interval = Box::new(ctx.recorder.borrow_mut().take_interval());
        let second = (spec.start.elapsed().as_secs()) + 1;
        let _ = events.send(WorkerEvent::Interval {
            worker: spec.index,
            second,
            last: true,
            interval,
        });
    });
}
