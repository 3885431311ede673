//! Starting a run: one thread per worker, a phase signal to stop them, and the stream of
//! per-second measurements they report. The caller (the binary) aggregates and prints.

use std::rc::Rc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use barrage_metrics::Recorder;
use tokio::sync::{mpsc, watch};

use crate::context::{LoadChange, ScenarioCtx, WorkerCtx};
use crate::http::h1::MAX_HEAD;
use crate::http::{
    tls_config_for, BodyBudget, Connector, HttpVersion, TlsError, DEFAULT_BODY_MEMORY,
};
use crate::plan::Plan;
use crate::segment::Segment;
use crate::vu::{Observer, StepsEnd, Vu};
use crate::worker::{run_worker, Phase, WorkerEvent, WorkerSpec};

/// Starts of an open model due less than this long after the first of them share one
/// wake-up, at the first of them: the later ones go early, by less than this much, and
/// never late by design. A start that goes early counts its response times from when it
/// really began, so they stay true; what changes is the load's shape below this scale (at
/// 2,000 starts/s, two at once every 1 ms instead of one every 0.5 ms), as with the peers
/// that batch (oha's 1 ms timer ticks, hey's tickers in phase). At up to 1,000 starts/s
/// per worker (gaps of 1 ms or more) an even schedule never batches. A wake-up is most of
/// what an open model's request costs (the timer's arming, the worker's sleep and wake,
/// and the idle server's wake that each lone request brings), so halving the wake-ups at
/// 2,000/s about halves the CPU per request: docs/PERFORMANCE.md, "Batch window".
pub const DEFAULT_BATCH_WINDOW: Duration = Duration::from_millis(1);

/// The most `--batch-window` accepts: beyond it the load's shape would drift from the one
/// asked for at a scale a service notices.
pub const MAX_BATCH_WINDOW: Duration = Duration::from_millis(10);

/// How a run is carried out (how much load, and for how long, is in the plan).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How long in-flight requests may take to finish when a scenario ends.
    pub stop_timeout: Duration,
    pub workers: usize,
    pub insecure: bool,
    /// Source addresses for connections, in turn (`--local-addresses`); empty: any.
    pub local_addresses: Vec<std::net::IpAddr>,
    /// Pin worker i to the i-th allowed CPU (`--pin-workers`).
    pub pin_workers: bool,
    /// The share of the whole load this process runs ([`Segment::WHOLE`] alone).
    pub segment: Segment,
    /// Send a request once more on a fresh connection when a reused one died before a
    /// byte of the answer (`--no-retry` turns it off).
    pub retry_reused: bool,
    /// The most bytes a response head may take (`--max-head-size`).
    pub max_head: usize,
    /// What all kept response bodies of the process may take together
    /// (`--max-body-memory`).
    pub body_memory: usize,
    /// Add a W3C `traceparent` header to every request and keep the trace ids of the
    /// slowest requests per endpoint (`--traceparent`).
    pub traceparent: bool,
    /// How early an open model's scheduled start may go so that it shares a wake-up with
    /// the start before it (`--batch-window`; [`DEFAULT_BATCH_WINDOW`]).
    pub batch_window: Duration,
    /// `--http1` or `--http2`: overrides the scenario's `defaults.http2` ([`Plan::http`]).
    pub http: Option<HttpVersion>,
}

impl RunOptions {
    /// Which HTTP the run's connections speak: the command line's choice, else the plan's.
    fn http(&self, plan: &Plan) -> HttpVersion {
        self.http.unwrap_or(plan.http)
    }

    /// The connector every worker clones: the one budget for kept bodies is shared by all.
    /// Its TLS configuration offers by ALPN what [`RunOptions::http`] asks for, and is
    /// built here when the plan may speak TLS from its first request; a plain-HTTP run
    /// builds it only if a connection needs it (a redirect to https).
    fn connector(&self, plan: &Plan) -> Result<Connector, StartError> {
        let tls = tls_config_for(self.insecure, self.http(plan))?;
        let mut connector = Connector::new(plan.connect_timeout, tls)
            .with_local_addresses(self.local_addresses.clone());
        connector.http = self.http(plan);
        connector.retry_reused = self.retry_reused;
        connector.max_head = self.max_head;
        connector.body_budget = BodyBudget::new(self.body_memory);
        if plan.may_speak_tls_at_once() {
            connector.prepare_tls();
        }
        Ok(connector)
    }
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            stop_timeout: Duration::from_secs(10),
            workers: 1,
            insecure: false,
            local_addresses: Vec::new(),
            pin_workers: false,
            segment: Segment::WHOLE,
            retry_reused: true,
            max_head: MAX_HEAD,
            body_memory: DEFAULT_BODY_MEMORY,
            traceparent: false,
            batch_window: DEFAULT_BATCH_WINDOW,
            http: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("TLS set-up failed: {0}")]
    Tls(#[from] TlsError),
    #[error("cannot start worker thread: {0}")]
    Thread(std::io::Error),
}

/// A run in progress.
pub struct Run {
    phase: watch::Sender<Phase>,
    /// Each scenario's load changes, one sender per scenario.
    changes: Vec<watch::Sender<Option<LoadChange>>>,
    pub events: mpsc::UnboundedReceiver<WorkerEvent>,
    threads: Vec<JoinHandle<()>>,
    pub start: Instant,
    pub workers: usize,
}

impl Run {
    /// Starts the workers; they begin at once.
    pub fn start(plan: Arc<Plan>, opts: &RunOptions) -> Result<Run, StartError> {
        let workers = opts.workers.max(1);
        let connector = opts.connector(&plan)?;
        let cpus = if opts.pin_workers {
            crate::timer::allowed_cpus()
        } else {
            Vec::new()
        };
        let (phase, phase_rx) = watch::channel(Phase::Running);
        let (tx, events) = mpsc::unbounded_channel();
        let segments: Vec<Segment> = opts.segment.split(workers).collect();
        let (changes, change_rx): (Vec<_>, Vec<_>) =
            plan.scenarios.iter().map(|_| watch::channel(None)).unzip();
        let start = Instant::now();
        let mut threads = Vec::with_capacity(workers);
        for index in 0..workers {
            let segment = segments[index];
            let spec = WorkerSpec {
                index,
                segment,
                start,
                stop_timeout: opts.stop_timeout,
                batch_window: opts.batch_window,
                // A total iteration count goes round the users: each worker runs its users'.
                tickets: plan
                    .scenarios
                    .iter()
                    .map(|s| s.load.executor().iterations(segment))
                    .collect(),
                changes: change_rx.clone(),
                traceparent: opts.traceparent,
            };
            let warnings = tx.clone();
            let (plan, connector, rx, tx) = (
                plan.clone(),
                connector.clone(),
                phase_rx.clone(),
                tx.clone(),
            );
            let cpu = (!cpus.is_empty()).then(|| cpus[index % cpus.len()]);
            let handle = std::thread::Builder::new()
                .name(format!("barrage-worker-{index}"))
                .spawn(move || {
                    if let Some(cpu) = cpu {
                        // Pinning is a refinement: a worker that can't be pinned still runs.
                        if let Err(e) = crate::timer::pin_current_thread(cpu) {
                            let _ = warnings.send(WorkerEvent::Warning {
                                worker: index,
                                message: format!("not pinned to CPU {cpu}: {e}"),
                            });
                        }
                    }
                    run_worker(plan, spec, connector, rx, tx)
                })
                .map_err(StartError::Thread)?;
            threads.push(handle);
        }
        Ok(Run {
            phase,
            changes,
            events,
            threads,
            start,
            workers,
        })
    }

    /// Start nothing new; in-flight requests get the stop timeout to finish.
    pub fn graceful_stop(&self) {
        self.phase.send_replace(Phase::Graceful);
    }

    /// Stop now; in-flight requests are counted as interrupted.
    pub fn hard_stop(&self) {
        self.phase.send_replace(Phase::Hard);
    }

    /// From now on, scenario `scenario` holds `target`: users for a closed model, iterations
    /// per second for an open one (see `executor/`). `false` when there is no such scenario.
    pub fn change_load(&self, scenario: usize, target: f64) -> bool {
        let Some(tx) = self.changes.get(scenario) else {
            return false;
        };
        tx.send_replace(Some(LoadChange {
            at: Instant::now(),
            target,
        }));
        true
    }

    /// Waits for the worker threads to end (after they sent their last interval); says
    /// which, if any, panicked.
    pub fn join(self) -> Vec<String> {
        self.threads
            .into_iter()
            .enumerate()
            .filter_map(|(i, t)| t.join().err().map(|_| format!("worker {i} panicked")))
            .collect()
    }
}

/// `run --debug`: one user of each type (of every scenario) runs `setup`, then every task
/// once, in file order,
/// on the calling thread, telling `observer` everything. Returns the recorder with what
/// was measured. Must be called inside a `LocalSet` on a current-thread runtime.
pub async fn debug_run(
    plan: Arc<Plan>,
    observer: Rc<dyn Observer>,
    options: &RunOptions,
) -> Result<Recorder, StartError> {
    let connector = options.connector(&plan)?;
    let ctx = WorkerCtx::new(Segment::WHOLE, Recorder::new(&plan.registry), connector);
    let ctx = Rc::new(match options.traceparent {
        true => ctx.with_traceparent(Instant::now()),
        false => ctx,
    });
    let shared = Rc::new(plan.clone());
    for (s, scenario) in plan.scenarios.iter().enumerate() {
        let sctx = Rc::new(ScenarioCtx::new(s, None));
        for (user_type, user) in scenario.users.iter().enumerate() {
            let mut vu = Vu::new(
                user_type as u64 + 1,
                s,
                user_type,
                Rc::clone(&shared),
                ctx.clone(),
                sctx.clone(),
                Some(observer.clone()),
            );
            observer.task(&user.name, "setup");
            if vu.setup().await != StepsEnd::Completed {
                continue;
            }
            for task in 0..user.tasks.len() {
                vu.iteration_once(Some(task), Instant::now()).await;
            }
        }
    }
    let ctx = Rc::try_unwrap(ctx)
        .map_err(|_| StartError::Thread(std::io::Error::other("debug user still running")))?;
    Ok(ctx.recorder.into_inner())
}
