//! A worker: one OS thread with its own current-thread runtime, running the virtual
//! users striped onto it, with its own recorder.
//!
//! Why this shape: a multi-threaded runtime would move users between threads and force
//! every per-request record through shared state. Here a user, its connections and the
//! recorder it writes to all live on one thread; the only cross-thread traffic is one
//! message a second (the interval's measurements) and the rare control signal.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use barrage_metrics::{Interval, Recorder};
use tokio::sync::mpsc::UnboundedSender as Sender;
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use crate::context::WorkerCtx;
use crate::context::{LoadChanges, Placement, ScenarioCtx};
use crate::executor;
use crate::http::Connector;
use crate::plan::Plan;
use crate::segment::Segment;
use crate::timer::thread_cpu_ns;

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
    /// The worker's thread failed to start its runtime (it sends nothing else).
    Failed { worker: usize, message: String },
    /// Part of the worker's work panicked (a bug); its last interval still follows.
    Crashed { worker: usize, message: String },
    /// Something went less well than asked but the worker runs on (it could not be pinned
    /// to its CPU, say): for the person running the test.
    Warning { worker: usize, message: String },
}

/// Everything a worker needs to know about its part of the run.
#[derive(Clone)]
pub struct WorkerSpec {
    /// The worker's number in this process (for its reports).
    pub index: usize,
    /// This worker's share of the load.
    pub segment: Segment,
    pub start: Instant,
    pub stop_timeout: Duration,
    /// See [`crate::run::RunOptions::batch_window`].
    pub batch_window: Duration,
    /// This worker's share of each scenario's total iterations (`None`: no limit).
    pub tickets: Vec<Option<u64>>,
    /// Each scenario's load changes.
    pub changes: Vec<LoadChanges>,
    /// Requests carry a `traceparent` header (`--traceparent`).
    pub traceparent: bool,
}

/// The body of a worker thread: builds its runtime, runs its share of every scenario,
/// reports an interval each second and a last one at the end.
pub fn run_worker(
    plan: Arc<Plan>,
    spec: WorkerSpec,
    connector: Connector,
    phase: watch::Receiver<Phase>,
    events: Sender<WorkerEvent>,
) {
    // A local runtime: the users' tasks (`!Send`, they share the recorder) are its own
    // tasks. Inside a `LocalSet` on a current-thread runtime, each wake-up went through
    // both schedulers (docs/PERFORMANCE.md).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build_local(tokio::runtime::LocalOptions::default())
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
    let ctx = WorkerCtx::new(spec.segment, Recorder::new(&plan.registry), connector);
    let ctx = Rc::new(match spec.traceparent {
        true => ctx.with_traceparent(spec.start),
        false => ctx,
    });
    let cpu_mark = Rc::new(Cell::new(thread_cpu_ns()));
    let (start, index) = (spec.start, spec.index);
    let steer = {
        let (ctx, events, cpu_mark) = (ctx.clone(), events.clone(), cpu_mark.clone());
        steer(plan, spec, ctx, cpu_mark, phase, events)
    };
    // The worker's own loop is one of the runtime's tasks; the thread blocks on its handle.
    runtime.block_on(async {
        if let Err(e) = tokio::task::spawn_local(steer).await {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    });
    // Whatever still runs (a hard stop) is dropped with the runtime: requests in flight
    // are recorded as interrupted by their guards, into the recorder read just below.
    drop(runtime);
    let interval = take(&ctx, &cpu_mark);
    let second = start.elapsed().as_secs() + 1;
    let _ = events.send(WorkerEvent::Interval {
        worker: index,
        second,
        last: true,
        interval: Box::new(interval),
    });
}

/// The worker's loop: starts each scenario's executor and the one-a-second ticker, and
/// follows the controller's phase until the executors are done or told to stop.
async fn steer(
    plan: Arc<Plan>,
    spec: WorkerSpec,
    ctx: Rc<WorkerCtx>,
    cpu_mark: Rc<Cell<u64>>,
    mut phase: watch::Receiver<Phase>,
    events: Sender<WorkerEvent>,
) {
    let scenarios: Vec<Rc<ScenarioCtx>> = (0..plan.scenarios.len())
        .map(|i| {
            let sctx = ScenarioCtx::new(i, spec.tickets.get(i).copied().flatten());
            Rc::new(match spec.changes.get(i) {
                Some(rx) => sctx.with_changes(rx.clone()),
                None => sctx,
            })
        })
        .collect();
    let ticker = {
        let (ctx, events, cpu_mark) = (ctx.clone(), events.clone(), cpu_mark.clone());
        let (start, index) = (spec.start, spec.index);
        tokio::task::spawn_local(async move {
            let mut second = 1u64;
            loop {
                let at = start + Duration::from_secs(second);
                tokio::time::sleep_until(at.into()).await;
                let interval = take(&ctx, &cpu_mark);
                let msg = WorkerEvent::Interval {
                    worker: index,
                    second,
                    last: false,
                    interval: Box::new(interval),
                };
                if events.send(msg).is_err() {
                    return;
                }
                second += 1;
            }
        })
    };
    let mut executors = JoinSet::new();
    for (i, sctx) in scenarios.iter().enumerate() {
        let at = Placement {
            segment: spec.segment,
            start: spec.start,
            stop_timeout: spec.stop_timeout,
            batch_window: spec.batch_window,
        };
        executors.spawn_local(executor::run(
            plan.clone(),
            i,
            ctx.clone(),
            sctx.clone(),
            at,
        ));
    }
    let mut hard = false;
    let mut finished = false;
    loop {
        tokio::select! {
            next = executors.join_next() => match next {
                None => {
                    finished = true;
                    break;
                }
                Some(Err(e)) if e.is_panic() => {
                    let _ = events.send(WorkerEvent::Crashed {
                        worker: spec.index,
                        message: panic_message(e.into_panic()),
                    });
                }
                Some(_) => {}
            },
            changed = phase.changed() => {
                match changed.map(|_| *phase.borrow()) {
                    Ok(Phase::Running) => {}
                    Ok(Phase::Hard) => { hard = true; break; }
                    Ok(Phase::Graceful) | Err(_) => break,
                }
            }
        }
    }
    if !finished {
        for s in &scenarios {
            s.begin_stop();
        }
    }
    if !finished && !hard {
        // Each executor waits up to the stop timeout for its users; a second Ctrl-C
        // cuts that short.
        loop {
            tokio::select! {
                next = executors.join_next() => if next.is_none() { break },
                changed = phase.changed() => {
                    if changed.is_err() || *phase.borrow() == Phase::Hard { break; }
                }
            }
        }
    }
    ticker.abort();
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_string())
}

/// Takes the recorder's interval, with the thread CPU time used since the last take and
/// the requests in flight now.
fn take(ctx: &WorkerCtx, cpu_mark: &Cell<u64>) -> Interval {
    let now = thread_cpu_ns();
    let mut recorder = ctx.recorder.borrow_mut();
    recorder.cpu(now.saturating_sub(cpu_mark.replace(now)));
    recorder.set_in_flight(ctx.in_flight.get());
    recorder.take_interval()
}
