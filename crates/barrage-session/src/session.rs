//! One run, from start to judged result: the loop that every front end drives.
//!
//! [`Session::start`] starts the engine's workers; [`Session::run`] then, on the calling
//! thread's current-thread runtime, gathers the workers' per-second intervals, closes each
//! second once every worker has reported it, pushes it to the sinks, resets the statistics
//! when `--reset-stats` says, watches the thresholds that may abort the run, applies what
//! the [`Control`] handle asks (the result so far among it), and at the end assembles the
//! result (generator warnings, threshold verdicts, timeline) and hands it to the sinks. It returns an [`Outcome`]; the
//! front end decides what that means for an exit code.
//!
//! Must not print: what a person should read goes to the sinks (`Sink::notice`), into the
//! outcome, or into [`Session::notices`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use barrage_engine::{Plan, Run, RunOptions, StartError, Steer, WorkerEvent};

use barrage_metrics::{
    format_timestamp, Aggregator, HostInfo, ResultDoc, RunMeta, ServerSection, Snapshot,
    TimelineEntry,
};
use barrage_monitor::Monitor;
use barrage_report::threshold::Watch;
use tokio::sync::mpsc;

use crate::control::{Command, Control, Message, Request, ScenarioInfo};
use crate::sink::{Finished, Live, Sink, SinkError, Sinks, Started, RECENT_SECONDS};
use crate::source::{RunSource, SourceReport};
use crate::thresholds::{self, Item};
use crate::{never_ran, plan_info};

/// How a session runs its plan, beyond the plan itself.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Workers, stop timeout, TLS, source addresses, pinning, segment.
    pub run: RunOptions,
    /// Reset the statistics once the ramp-up is over (Locust's `--reset-stats`).
    pub reset_stats: bool,
    /// The run's thresholds: watched live, judged at the end.
    pub thresholds: Vec<Item>,
    /// What the result file says about the run (scenario file, target, command); the
    /// session fills in times, workers, load and host.
    pub meta: RunMeta,
    /// The server side to watch (`--monitor-*`, `--probe`); `None` or empty: nothing.
    pub monitor: Option<barrage_monitor::MonitorConfig>,
    /// Upper bounds (seconds) of the latency buckets the exporters publish: when set, every
    /// closed second carries [`crate::Live::buckets`].
    pub latency_buckets: Option<Vec<f64>>,
}

/// Why a session could not start.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Start(#[from] StartError),
}

/// What a run came to.
pub struct Outcome {
    /// The judged result (what the result file holds).
    pub result: ResultDoc,
    /// The final statistics.
    pub snapshot: Snapshot,
    /// A stop was asked through the control handle (Ctrl-C, the web UI's stop button).
    pub interrupted: bool,
    /// A worker failed or panicked: the run is incomplete.
    pub worker_error: Option<String>,
    /// Each sink's lines for the person, or why it could not write, in the sinks' order;
    /// sinks that could not even start come first.
    pub outputs: Vec<Result<Vec<String>, SinkError>>,
    /// Things that went less well than asked but did not stop the run.
    pub warnings: Vec<String>,
}

impl Outcome {
    /// Whether every output was written.
    pub fn outputs_written(&self) -> bool {
        self.outputs.iter().all(Result::is_ok)
    }
}

/// A started run (see the module comment).
pub struct Session {
    run: Box<dyn RunSource>,
    plan: Arc<Plan>,
    settings: Settings,
    started_wall: SystemTime,
    /// The wall clock at the run's own start (`Run::start`), which 10-second windows are
    /// aligned from.
    run_wall_start: SystemTime,
    requests: mpsc::UnboundedReceiver<Message>,
    control: Control,
    notices: Vec<String>,
    monitor: Option<Monitor>,
}

impl Session {
    /// Starts the workers; the load begins at once.
    pub fn start(plan: Plan, settings: Settings) -> Result<Session, SessionError> {
        let mut notices = Vec::new();
        if let Some(limit) = barrage_engine::timer::raise_open_files_limit() {
            let users = plan_info::most_users_in(&plan, settings.run.segment);
            // Each user holds a connection; leave room for the process's own files.
            if users + 64 > limit {
                notices.push(format!(
                    "warning: up to {users} users but only {limit} open files allowed: users \
                     past about {} will fail to connect (counted as failures); raise `ulimit \
                     -n`, or split the load over machines",
                    limit.saturating_sub(64)
                ));
            }
        }
        let plan = Arc::new(plan);
        let before = Instant::now();
        let started_wall = SystemTime::now();
        let run = Run::start(plan.clone(), &settings.run)?;
        // The run's clock starts inside `Run::start`, after the TLS set-up (a few ms): the
        // wall clock at that instant is what windows line up on.
        let run_wall_start = started_wall + run.start.saturating_duration_since(before);
        let mut session = Session::of(plan, settings, Box::new(run), started_wall, run_wall_start);
        session.notices = notices;
        Ok(session)
    }

    /// A session over a run that is already under way elsewhere (a coordinated run's
    /// agents): `run_wall_start` is the wall clock at `source.start()`. Starts the
    /// monitoring, if any, on the run's clock.
    pub fn with_source(
        plan: Plan,
        settings: Settings,
        source: Box<dyn RunSource>,
        run_wall_start: SystemTime,
    ) -> Session {
        Session::of(
            Arc::new(plan),
            settings,
            source,
            SystemTime::now(),
            run_wall_start,
        )
    }

    fn of(
        plan: Arc<Plan>,
        settings: Settings,
        run: Box<dyn RunSource>,
        started_wall: SystemTime,
        run_wall_start: SystemTime,
    ) -> Session {
        let scenarios: Arc<[ScenarioInfo]> = plan
            .scenarios
            .iter()
            .map(|s| ScenarioInfo {
                name: s.name.clone(),
                steers: s.load.executor().steers(),
            })
            .collect();
        let (tx, requests) = mpsc::unbounded_channel();
        // Started with the load, on the run's clock, so its rows share the run's time axis.
        let monitor = settings
            .monitor
            .clone()
            .filter(|m| !m.is_empty())
            .map(|m| Monitor::start(m, run.start()));
        Session {
            run,
            plan,
            settings,
            started_wall,
            run_wall_start,
            requests,
            control: Control::new(tx, scenarios),
            notices: Vec::new(),
            monitor,
        }
    }

    /// A handle that steers this run; clone it for every front end.
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// Warnings found while starting (too few open files for the users asked for).
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// The run's load in words, one clause per scenario.
    pub fn describe(&self) -> String {
        plan_info::describe(&self.plan)
    }

    pub fn workers(&self) -> usize {
        self.run.workers()
    }

    /// Runs to the end, feeding `sinks`, and returns what the run came to. Must be called
    /// inside a current-thread runtime (the workers run on threads of their own).
    pub async fn run(self, sinks: Vec<Box<dyn Sink>>) -> Outcome {
        let Session {
            mut run,
            plan,
            settings,
            started_wall,
            run_wall_start,
            mut requests,
            control,
            notices: _,
            monitor,
        } = self;
        // Keeps the channel open while the loop runs, so `requests` never ends early.
        let _own = control;
        let (mut sinks, sink_errors) = Sinks::start(sinks);
        let mut meta = settings.meta.clone();
        meta.workers = run.workers() as u32;
        meta.load = plan_info::load_info(&plan);
        meta.host = HostInfo::current();
        meta.started_at = format_timestamp(started_wall);
        let schedule_matters = plan.scenarios.iter().any(|s| s.schedule_matters());
        sinks.started(Started {
            load: plan_info::describe(&plan),
            meta: meta.clone(),
            workers: run.workers(),
        });
        let mut agg = Aggregator::new(plan.registry.clone());
        agg.set_wall_start(
            run_wall_start
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        );
        let mut state = Loop {
            agg,
            meta,
            thresholds: settings.thresholds.clone(),
            schedule_matters,
            most_users: plan_info::most_users_in(&plan, settings.run.segment),
            watch: thresholds::watch(&settings.thresholds),
            reset_after: settings.reset_stats.then(|| plan_info::ramp_up_end(&plan)),
            reset_asked: None,
            timeline: Vec::new(),
            targets: vec![None; plan.scenarios.len()],
            interrupted: false,
            start: run.start(),
            warnings: Vec::new(),
            monitor,
            server: None,
            latency_buckets: settings.latency_buckets.clone(),
        };
        let workers = run.workers();
        // Seconds are closed once every worker has reported them, so a per-second entry
        // never misses a worker's share.
        let mut reported: BTreeMap<u64, usize> = BTreeMap::new();
        let mut finished = 0usize;
        let mut next_second = 1u64;
        let mut worker_error = None;
        loop {
            tokio::select! {
                event = run.events().recv() => match event {
                    Some(WorkerEvent::Interval { worker, second, last, interval }) => {
                        state.agg.absorb(worker, *interval);
                        if last {
                            finished += 1;
                        } else {
                            *reported.entry(second).or_default() += 1;
                        }
                        while reported.get(&next_second).copied().unwrap_or(0) + finished >= workers
                            && finished < workers
                        {
                            reported.remove(&next_second);
                            state.close_second(next_second, run.as_ref(), &mut sinks, schedule_matters);
                            next_second += 1;
                        }
                        if finished == workers {
                            break;
                        }
                    }
                    Some(WorkerEvent::Crashed { worker, message }) => {
                        worker_error = Some(format!("worker {worker}: {message}"));
                    }
                    Some(WorkerEvent::Failed { worker, message }) => {
                        worker_error = Some(format!("worker {worker}: {message}"));
                        finished += 1;
                        run.hard_stop();
                        if finished == workers {
                            break;
                        }
                    }
                    Some(WorkerEvent::Warning { worker, message }) => {
                        state.warnings.push(format!("worker {worker}: {message}"));
                    }
                    None => {
                        if finished < workers && worker_error.is_none() {
                            worker_error = Some("a worker ended without its last report".to_string());
                        }
                        break;
                    }
                },
                Some(message) = requests.recv() => match message {
                    Message::Steer(request) => state.apply(request, run.as_ref(), &plan, &mut sinks),
                    Message::ResultSoFar(reply) => {
                        let server = state.monitor.as_ref().map(Monitor::so_far);
                        let so_far = state.result(run.start().elapsed(), server, run.as_ref());
                        // The asker may have given up waiting: nothing to do then.
                        let _ = reply.send(so_far);
                    }
                    Message::Histogram(endpoint, reply) => {
                        let _ = reply.send(state.agg.response_time_histogram(endpoint));
                    }
                }
            }
        }
        // From here the run is over for the handle: new requests fail at once, and those
        // still queued are dropped, which answers a waiting `result_so_far` with `Ended`.
        requests.close();
        while requests.try_recv().is_ok() {}
        let elapsed = run.start().elapsed();
        // The last, partial second.
        state.agg.close_second(elapsed);
        let report = run.report();
        let panicked = run.join();
        if worker_error.is_none() {
            worker_error = panicked.into_iter().next();
        }
        // One last sample of every source, now that the load is over.
        let server = state.monitor.take().map(Monitor::finish);
        let mut snapshot = state.agg.snapshot(elapsed);
        snapshot.server = server.as_ref().map(|s| Arc::new(s.stats.clone()));
        let mut result = state.result_with(elapsed, server, &report);
        result.never_ran = never_ran::explain(&never_ran::shapes(&plan), &result);
        let mut outputs: Vec<Result<Vec<String>, SinkError>> =
            sink_errors.into_iter().map(Err).collect();
        let end = Finished {
            result: result.clone(),
            snapshot: snapshot.clone(),
            schedule_matters,
            buckets: state
                .latency_buckets
                .as_ref()
                .map(|b| Arc::new(state.agg.latency_buckets(b))),
            hurry: _own.hurry(),
        };
        // Off this thread: a sink may wait at the end (a final scrape, a last push), and
        // the front end's Ctrl-C runs on this thread's runtime; it sets `hurry`.
        outputs.extend(
            tokio::task::spawn_blocking(move || sinks.finish(end))
                .await
                .unwrap_or_else(|_| vec![Err(SinkError::Panicked("outputs".to_owned()))]),
        );
        Outcome {
            result,
            snapshot,
            interrupted: state.interrupted,
            worker_error,
            outputs,
            warnings: state.warnings,
        }
    }
}

/// The control loop's state between events.
struct Loop {
    agg: Aggregator,
    /// The result file's `run`, as far as it is known at the start.
    meta: RunMeta,
    thresholds: Vec<Item>,
    schedule_matters: bool,
    /// The most users the plan asks for at once (for the unconnected-users warning).
    most_users: u64,
    watch: Watch,
    /// `--reset-stats`: drop the statistics once this much of the run (the ramp-up) is over.
    reset_after: Option<Duration>,
    /// A reset asked through the handle, by whom: done when the next second closes, so the
    /// statistics start on a second every worker has reported (a reset between two closes
    /// would keep part of the open second and drop the rest).
    reset_asked: Option<String>,
    timeline: Vec<TimelineEntry>,
    /// Each scenario's level as last set through the handle (`None`: as planned).
    targets: Vec<Option<f64>>,
    interrupted: bool,
    start: Instant,
    warnings: Vec<String>,
    /// The server side, while the run lasts (taken for its last sample at the end).
    monitor: Option<Monitor>,
    /// The server-side figures as of the last closed second, for thresholds.
    server: Option<Arc<barrage_metrics::ServerStats>>,
    /// See [`Settings::latency_buckets`].
    latency_buckets: Option<Vec<f64>>,
}

impl Loop {
    /// The result document as of `elapsed`: the aggregator's, with the generator's
    /// warnings, the thresholds judged on it (from its histograms, which make percentiles
    /// over several endpoints exact) and the timeline. Used at the end and for
    /// [`Control::result_so_far`]. `server` is the monitor's section as of now, if any: the
    /// hints are drawn from it and the result's series before the thresholds are judged.
    fn result(
        &self,
        elapsed: Duration,
        server: Option<ServerSection>,
        run: &dyn RunSource,
    ) -> ResultDoc {
        self.result_with(elapsed, server, &run.report())
    }

    /// [`Loop::result`] with what the run source adds (its generators and warnings)
    /// already in `source` (at the end, the source is gone by the time the result is made).
    fn result_with(
        &self,
        elapsed: Duration,
        server: Option<ServerSection>,
        source: &SourceReport,
    ) -> ResultDoc {
        let mut meta = self.meta.clone();
        meta.ended_at = format_timestamp(SystemTime::now());
        meta.interrupted = self.interrupted;
        let mut result = self.agg.result(meta, elapsed);
        result.server = server;
        if result.server.is_some() {
            let hints = barrage_monitor::hints(&result);
            if let Some(s) = result.server.as_mut() {
                s.hints = hints;
            }
        }
        result.warnings =
            barrage_report::generator::warnings(&result.generator, self.schedule_matters);
        if let Some(w) = barrage_report::unconnected::explained(
            &result.connections,
            &result.failures,
            Some(self.most_users),
        ) {
            result.warnings.push(w);
        }
        result.warnings.extend(source.warnings.iter().cloned());
        result.generators.clone_from(&source.generators);
        thresholds::judge(&self.thresholds, &mut result, self.watch.aborted_by());
        result.timeline.clone_from(&self.timeline);
        result
    }

    fn note(&mut self, what: String, source: &str) {
        self.timeline.push(TimelineEntry {
            at_s: self.start.elapsed().as_secs_f64(),
            what,
            source: source.to_owned(),
        });
    }

    fn close_second(
        &mut self,
        second: u64,
        run: &dyn RunSource,
        sinks: &mut Sinks,
        schedule_matters: bool,
    ) {
        self.agg.close_second(Duration::from_secs(second));
        if let Some(source) = self.reset_asked.take() {
            self.agg.reset();
            self.note("statistics reset".to_owned(), &source);
            sinks.notice(&format!("Statistics reset after {second} s ({source})."));
        }
        if let Some(after) = self.reset_after {
            if !after.is_zero() && Duration::from_secs(second) >= after {
                self.agg.reset();
                self.reset_after = None;
                self.note("statistics reset".to_owned(), "--reset-stats");
                sinks.notice(&format!(
                    "Ramp-up over after {second} s: statistics reset (--reset-stats)."
                ));
            }
        }
        let server = self.monitor.as_mut().map(|m| Arc::new(m.tick()));
        if let Some(news) = &server {
            for e in &news.events {
                self.timeline.push(TimelineEntry {
                    at_s: e.at_s,
                    what: e.what.clone(),
                    source: "monitor".to_owned(),
                });
                sinks.notice(&format!("Monitor: {}", e.what));
            }
            self.server = Some(Arc::new(news.stats.clone()));
        }
        if !sinks.read_seconds() && !self.watch.can_abort() {
            // Nobody would read the second's figures (the series is kept above).
            return;
        }
        let mut snapshot = self.agg.snapshot(self.start.elapsed());
        snapshot.server = self.server.clone();
        // Judged once a closed second, so an abort acts on whole seconds.
        if let Some(i) = self.watch.observe(&snapshot) {
            let text = self.watch.items()[i].threshold.text.trim().to_owned();
            sinks.notice(&format!(
                "\nStopping: threshold `{text}` failed (abort_on_fail); letting in-flight requests finish..."
            ));
            self.note(format!("stopped: threshold `{text}` failed"), "threshold");
            run.graceful_stop();
        }
        let series = self.agg.series();
        sinks.second(Live {
            second,
            snapshot,
            thresholds: self.watch.clone(),
            schedule_matters,
            missed: 0,
            windows: self.agg.windows().to_vec(),
            recent: series[series.len().saturating_sub(RECENT_SECONDS)..].to_vec(),
            open_window: match sinks.read_open_window() {
                true => self.agg.open_window(),
                false => None,
            },
            server,
            buckets: self
                .latency_buckets
                .as_ref()
                .map(|b| Arc::new(self.agg.latency_buckets(b))),
        });
    }

    fn apply(&mut self, request: Request, run: &dyn RunSource, plan: &Plan, sinks: &mut Sinks) {
        let Request { command, source } = request;
        match command {
            Command::Stop { hard, interrupt } => {
                self.interrupted |= interrupt;
                if hard {
                    run.hard_stop();
                    self.note("stopped at once".to_owned(), &source);
                } else {
                    run.graceful_stop();
                    self.note("stopped".to_owned(), &source);
                }
            }
            Command::ResetStats => self.reset_asked = Some(source),
            Command::Set { scenario, target } => {
                self.set(scenario, target, run, plan, &source, sinks)
            }
            Command::Adjust { scenario, by } => {
                let now = self.level(scenario, plan);
                self.set(scenario, (now + by).max(0.0), run, plan, &source, sinks);
            }
        }
    }

    /// Scenario `i`'s level now: as last set, or as planned.
    fn level(&self, i: usize, plan: &Plan) -> f64 {
        self.targets[i].unwrap_or_else(|| {
            let s = &plan.scenarios[i];
            let t = self.start.elapsed().saturating_sub(s.start);
            s.load.executor().level_at(t)
        })
    }

    fn set(
        &mut self,
        i: usize,
        target: f64,
        run: &dyn RunSource,
        plan: &Plan,
        source: &str,
        sinks: &mut Sinks,
    ) {
        let before = self.level(i, plan);
        let s = &plan.scenarios[i];
        let (what, target) = match s.load.executor().steers() {
            Steer::Users => ("users", target.round()),
            Steer::Rate => ("rate", target),
        };
        self.targets[i] = Some(target);
        run.change_load(i, target);
        let text = format!("{what} {before} -> {target} (scenario {})", s.name);
        sinks.notice(&format!("Load changed: {text} ({source})."));
        self.note(text, source);
    }
}
