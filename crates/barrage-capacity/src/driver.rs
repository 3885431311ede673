//! The driver: runs a search over one session, as a [`Sink`] that sees each closed second
//! and steers through the session's [`Control`].
//!
//! Why a sink and not a loop of its own: the session already closes every second once each
//! worker has reported it and pushes it to its sinks; a driver that lives there sees exactly
//! the seconds every other output sees, needs no clock of its own (every wait is counted in
//! closed seconds), and runs on the sink's thread, off the control loop. It only sends
//! requests through the handle, which the loop applies between two seconds.
//!
//! One step, second by second:
//!
//! ```text
//!  set level ── warm-up (not judged) ── reset_stats ── a Live shows the reset
//!      ▲                                                   │ count `step` seconds
//!      │                                                   ▼
//!      │◀── passed ────────────────────────────────── judge (objectives, steadiness)
//!      └─── failed: level 0, wait until nothing is in flight and nothing queued
//!           (at most the stop timeout), so a backlog never leaks into the next step
//!           unnoticed (one that outlasts the wait is a note on the next step)
//! ```
//!
//! When the search is over it ends the session ([`Control::end`]); a stop from elsewhere
//! (Ctrl-C) ends it with the bracket so far. Every wait is bounded: the warm-up and the
//! step by their lengths (with `--model users`, the warm-up also waits for the users to
//! start, at most [`users_wait_s`] more), the reset by [`RESET_WAIT_S`], the drain by the
//! stop timeout, the whole by the search's `max_steps`. What it found is read through
//! [`Handle`] once the session is over, and turned into the result's `capacity` object by
//! [`conclude`].

use std::sync::{Arc, Mutex, MutexGuard};

use barrage_metrics::capacity::{
    CapacityDoc, CapacityStatus, CapacityStep, SearchModel, SearchSettingsDoc, StepPhase,
};
use barrage_metrics::{HistogramSet, SecondSummary, SourceKind};
use barrage_report::threshold::Threshold;
use barrage_session::{Control, Live, Sink, Started};

use crate::judge::{self, rate, StepFigures};
use crate::search::{Conclusion, Next, Search, Verdict};
use crate::stats;

/// Who the driver's changes are in the result's timeline.
pub const SOURCE: &str = "capacity search";

/// Closed seconds to wait for a reset to show before giving up on the search (it shows in
/// the next second closed after it is asked, unless the sink fell behind).
pub const RESET_WAIT_S: u64 = 5;

/// Closed seconds a users step's warm-up may run past its length for the users to start,
/// beyond what the spawn rate takes: the spawn is spread over the workers and reported a
/// second late.
pub const USERS_MARGIN_S: u64 = 3;

/// How much longer than its length a warm-up at `users` may run for them all to start:
/// `users / spawn_rate` (none without a spawn rate: all start at once) plus
/// [`USERS_MARGIN_S`]. Users still short after that are the generator's limit, not the
/// service's.
pub fn users_wait_s(users: f64, spawn_rate: Option<f64>) -> u64 {
    let spawn = spawn_rate
        .filter(|r| *r > 0.0)
        .map_or(0, |r| (users / r).ceil() as u64);
    spawn + USERS_MARGIN_S
}

/// How the driver runs a search.
#[derive(Debug, Clone)]
pub struct DriverSettings {
    pub model: SearchModel,
    /// Closed seconds each step runs before it is judged, and is judged.
    pub warmup_s: u64,
    pub step_s: u64,
    /// Closed seconds to wait, after a failed step, for the backlog to drain.
    pub drain_s: u64,
    /// The objectives, parsed.
    pub objectives: Vec<Threshold>,
    /// Some objective is a percentile over several endpoints: the judged part's histograms
    /// are fetched from the session (a result so far) to decide it.
    pub needs_histograms: bool,
    /// Arrivals are a Poisson process (see [`StepFigures::poisson`]).
    pub poisson: bool,
    /// The open model's user pool (`max_users`; see [`StepFigures::pool_users`]).
    pub pool_users: Option<u64>,
    /// `--model users`: the file's spawn rate (users/s), which bounds the warm-up's wait
    /// for the users to start ([`users_wait_s`]).
    pub spawn_rate: Option<f64>,
}

/// Called with each step as it is judged (the front end prints a line).
pub type OnStep = Box<dyn FnMut(&CapacityStep) + Send>;

/// What the driver recorded; shared with the [`Handle`].
#[derive(Debug)]
struct Record {
    search: Search,
    steps: Vec<CapacityStep>,
    conclusion: Option<Conclusion>,
    /// Why the search ended early, beside its conclusion (a reset that never showed).
    notes: Vec<String>,
}

/// Reads what the driver found once the session is over.
#[derive(Debug, Clone)]
pub struct Handle {
    record: Arc<Mutex<Record>>,
}

/// A search's outcome, as the driver recorded it.
#[derive(Debug, Clone)]
pub struct Found {
    pub steps: Vec<CapacityStep>,
    pub conclusion: Conclusion,
    pub notes: Vec<String>,
    /// The search reached its own end (a conclusion, or gave up with a note); `false`
    /// when the session ended first (Ctrl-C, a worker's failure, the run's time bound).
    pub concluded: bool,
}

impl Handle {
    /// The steps and the conclusion; a session that ended before the search did (Ctrl-C,
    /// a worker's failure, the time bound) concludes as interrupted, with the bracket so
    /// far, and [`conclude`] says which.
    pub fn found(&self) -> Found {
        let r = lock(&self.record);
        Found {
            steps: r.steps.clone(),
            conclusion: r
                .conclusion
                .clone()
                .unwrap_or_else(|| r.search.interrupted()),
            notes: r.notes.clone(),
            concluded: r.conclusion.is_some(),
        }
    }
}

fn lock(m: &Mutex<Record>) -> MutexGuard<'_, Record> {
    // A panic in the sink's thread leaves the record as it was at a step's boundary.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where the current step is.
#[derive(Debug, Clone)]
enum State {
    /// Before the session's first report.
    Idle,
    /// Holding `level`; the warm-up ends when second `until` closes, or later (up to
    /// `latest`) while fewer users run than the level asks.
    Warmup { until: u64, latest: u64 },
    /// The reset was asked when second `asked` closed; statistics counted since `before`.
    AwaitReset { asked: u64, before: f64 },
    /// Judging since `from` (seconds since the run's start).
    Judging { from: f64 },
    /// After a failure at level 0: until nothing is in flight, or second `until`.
    Draining { until: u64 },
    /// The search is over (or given up); the session was asked to end.
    Over,
}

/// The search as a [`Sink`] (see the module comment).
pub struct Driver {
    settings: DriverSettings,
    control: Control,
    record: Arc<Mutex<Record>>,
    on_step: OnStep,
    state: State,
    level: f64,
    phase: StepPhase,
    /// The judged part's seconds so far.
    rows: Vec<SecondSummary>,
    /// The server's CPU per closed second of the judged part (processes monitored).
    server_cpu: Vec<f64>,
    /// Notes for the next step judged (a backlog that had not drained when it began).
    pending_notes: Vec<String>,
}

/// A driver for `search` over the session `control` steers, and the handle that reads
/// what it found.
pub fn driver(
    search: Search,
    settings: DriverSettings,
    control: Control,
    on_step: OnStep,
) -> (Driver, Handle) {
    let record = Arc::new(Mutex::new(Record {
        search,
        steps: Vec::new(),
        conclusion: None,
        notes: Vec::new(),
    }));
    (
        Driver {
            settings,
            control,
            record: record.clone(),
            on_step,
            state: State::Idle,
            level: 0.0,
            phase: StepPhase::Probe,
            rows: Vec::new(),
            server_cpu: Vec::new(),
            pending_notes: Vec::new(),
        },
        Handle { record },
    )
}

impl Driver {
    /// Asks the search what to run next at the close of second `now`, and starts it.
    fn next_step(&mut self, now: u64) {
        let next = lock(&self.record).search.next();
        match next {
            Next::Run { level, phase } => {
                self.level = level;
                self.phase = phase;
                if self.set_level(level).is_err() {
                    self.state = State::Over;
                    return;
                }
                let until = now + self.settings.warmup_s;
                let latest = match self.settings.model {
                    SearchModel::Rate => until,
                    SearchModel::Users => until + users_wait_s(level, self.settings.spawn_rate),
                };
                self.state = State::Warmup { until, latest };
            }
            Next::Done(conclusion) => {
                {
                    let mut r = lock(&self.record);
                    r.conclusion = Some(conclusion);
                    // No step left to carry them: they go with the conclusion.
                    r.notes.append(&mut self.pending_notes);
                }
                self.finish();
            }
        }
    }

    fn set_level(&self, level: f64) -> Result<(), barrage_session::ControlError> {
        match self.settings.model {
            SearchModel::Rate => self.control.set_rate(None, level, SOURCE),
            SearchModel::Users => self.control.set_users(None, level.round() as u64, SOURCE),
        }
    }

    fn finish(&mut self) {
        self.state = State::Over;
        // The run may already be over (Ctrl-C): nothing to end then.
        let _ = self.control.end(SOURCE);
    }

    /// Gives up on the search with a note: the bracket so far, as when the step limit is
    /// reached ([`Search::stopped_early`]: `incomplete` unless something failed above the
    /// highest pass, or the highest pass is the maximum).
    fn give_up(&mut self, why: String) {
        {
            let mut r = lock(&self.record);
            let c = r.search.stopped_early();
            r.conclusion = Some(c);
            r.notes.append(&mut self.pending_notes);
            r.notes.push(why);
        }
        self.finish();
    }

    /// Keeps the judged part's seconds, from `recent` so that seconds this sink missed
    /// (it fell behind) are not lost.
    fn collect(&mut self, live: &Live, from: f64) {
        let last = self.rows.last().map_or(from, |r| r.t);
        for r in &live.recent {
            if r.t > last + 0.5 {
                self.rows.push(r.clone());
            }
        }
        if let Some(cpu) = server_cpu(live, from) {
            self.server_cpu.push(cpu);
        }
    }

    fn judge(&mut self, live: &Live, from: f64, to: f64) {
        let histograms = if self.settings.needs_histograms {
            histograms_so_far(&self.control)
        } else {
            None
        };
        let index = lock(&self.record).steps.len() as u32 + 1;
        let server_cpu_percent = (!self.server_cpu.is_empty())
            .then(|| self.server_cpu.iter().sum::<f64>() / self.server_cpu.len() as f64);
        let mut judged = judge::judge(
            &StepFigures {
                index,
                phase: self.phase,
                level: self.level,
                model: self.settings.model,
                snapshot: &live.snapshot,
                seconds: &self.rows,
                judged_from_s: from,
                judged_to_s: to,
                schedule_matters: live.schedule_matters,
                poisson: self.settings.poisson,
                pool_users: self.settings.pool_users,
                server_cpu_percent,
                histograms: histograms.as_ref(),
            },
            &self.settings.objectives,
        );
        // Disturbed twice in a row: the search ends here, and this step is where the
        // generator (this machine) gave out.
        if judged.verdict == Verdict::Disturbed {
            let mut after = lock(&self.record).search.clone();
            after.record(self.level, self.phase, judged.verdict);
            if matches!(after.next(), Next::Done(c) if c.status == CapacityStatus::GeneratorLimit) {
                judged.step.generator_limited = true;
                for r in &mut judged.step.reasons {
                    *r = r.replace(
                        "the step runs again",
                        "twice in a row at this level, so this machine cannot generate it",
                    );
                }
            }
        }
        let mut notes = std::mem::take(&mut self.pending_notes);
        notes.append(&mut judged.step.notes);
        judged.step.notes = notes;
        (self.on_step)(&judged.step);
        {
            let mut r = lock(&self.record);
            r.search.record(self.level, self.phase, judged.verdict);
            r.steps.push(judged.step);
        }
        self.rows.clear();
        self.server_cpu.clear();
        if judged.verdict == Verdict::Failed {
            if self.set_level(0.0).is_err() {
                self.state = State::Over;
                return;
            }
            self.state = State::Draining {
                until: live.second + self.settings.drain_s,
            };
        } else {
            self.next_step(live.second);
        }
    }
}

impl Sink for Driver {
    fn name(&self) -> &str {
        SOURCE
    }

    fn started(&mut self, _run: &Started) {
        // The session starts at the first level already; setting it again marks the
        // step's start in the timeline.
        self.next_step(0);
    }

    fn second(&mut self, live: &Live) {
        let now = live.second;
        match self.state.clone() {
            State::Idle | State::Over => {}
            State::Warmup { until, latest } => {
                // A users step waits for its users (a slow spawn rate), within `latest`;
                // the judge counts users still short as the generator's limit.
                let starting = self.settings.model == SearchModel::Users
                    && (live.snapshot.users as f64) < self.level
                    && now < latest;
                if now >= until && !starting {
                    let before = live.snapshot.stats_since.as_secs_f64();
                    if self.control.reset_stats(SOURCE).is_err() {
                        self.state = State::Over;
                        return;
                    }
                    self.state = State::AwaitReset { asked: now, before };
                }
            }
            State::AwaitReset { asked, before } => {
                let since = live.snapshot.stats_since.as_secs_f64();
                if since > before {
                    self.rows.clear();
                    self.server_cpu.clear();
                    self.state = State::Judging { from: since };
                    self.second(live);
                } else if now >= asked + RESET_WAIT_S {
                    self.give_up(format!(
                        "the statistics reset asked at {asked} s did not show within \
                         {RESET_WAIT_S} s; the search stopped there"
                    ));
                }
            }
            State::Judging { from } => {
                self.collect(live, from);
                let to = now as f64;
                if to - from >= self.settings.step_s as f64 {
                    self.judge(live, from, to);
                }
            }
            State::Draining { until } => {
                let s = &live.snapshot;
                let idle = s.in_flight == 0
                    && s.generator.queue_depth == 0
                    && (self.settings.model == SearchModel::Rate || s.users == 0);
                if !idle && now >= until {
                    self.pending_notes.push(format!(
                        "the previous step's backlog had not drained after {} s ({} in \
                         flight, {} queued, {} users): this step began with it",
                        self.settings.drain_s, s.in_flight, s.generator.queue_depth, s.users
                    ));
                }
                if idle || now >= until {
                    self.next_step(now);
                }
            }
        }
    }
}

/// The monitored processes' CPU (% of one core, summed over sources) in this second's
/// samples taken after `from` (a sample at the judged part's start measured the warm-up's
/// last second); `None` when no process is monitored or none was sampled.
fn server_cpu(live: &Live, from: f64) -> Option<f64> {
    let server = live.server.as_ref()?;
    let mut total = None;
    for source in &server.sources {
        if source.kind != Some(SourceKind::Process) {
            continue;
        }
        let Some(col) = source
            .columns
            .iter()
            .position(|c| c.figure.as_deref() == Some("server_cpu"))
        else {
            continue;
        };
        let values: Vec<f64> = source
            .rows
            .iter()
            .filter(|r| r.t > from)
            .filter_map(|r| r.get(col))
            .collect();
        if !values.is_empty() {
            *total.get_or_insert(0.0) += values.iter().sum::<f64>() / values.len() as f64;
        }
    }
    total
}

/// The histograms of the run so far, asked of the session from the sink's thread (which
/// may block: it is not the control loop's).
fn histograms_so_far(control: &Control) -> Option<HistogramSet> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .ok()?;
    let asked = control.result_so_far();
    runtime
        .block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(5), asked)
                .await
                .ok()
        })?
        .ok()
        .map(|doc| doc.histograms)
}

/// The result file's `capacity` object from what the driver found; `interrupted` when the
/// person stopped the run. A search that had not concluded when the session ended is
/// `interrupted` if the person stopped it, else `incomplete` (the run's time bound, or a
/// worker's failure); one that had concluded keeps its status, also when Ctrl-C came
/// during the shutdown.
pub fn conclude(found: &Found, settings: SearchSettingsDoc, interrupted: bool) -> CapacityDoc {
    let mut c = found.conclusion.clone();
    let mut notes = found.notes.clone();
    if !found.concluded {
        if interrupted {
            c.status = CapacityStatus::Interrupted;
        } else {
            c.status = CapacityStatus::Incomplete;
            notes.push("the run ended before the search did".to_owned());
        }
    }
    let steps = &found.steps;
    // A level the generator could not go past is not the service's capacity.
    let at = match c.status {
        CapacityStatus::Found
        | CapacityStatus::AtLeast
        | CapacityStatus::Interrupted
        | CapacityStatus::Incomplete => c.capacity_step.and_then(|i| steps.get(i)),
        CapacityStatus::StartFails | CapacityStatus::GeneratorLimit => None,
    };
    let first_failed = c.first_failed_step.and_then(|i| steps.get(i));
    let usl_points: Vec<(f64, f64)> = steps
        .iter()
        .filter(|s| !s.generator_limited && !s.disturbed && s.rps > 0.0 && s.concurrency > 0.0)
        .map(|s| (s.concurrency, s.rps))
        .collect();
    let linear_ramp_steps = match (c.bracket.passed, c.bracket.failed) {
        (Some(passed), Some(failed)) => Some(stats::linear_ramp_steps(
            settings.start,
            failed,
            passed,
            settings.precision,
        )),
        _ => None,
    };
    let users = (settings.model == SearchModel::Users)
        .then(|| at.map(|s| s.level))
        .flatten();
    let mut doc = CapacityDoc {
        status: c.status,
        rps: at.map(|s| s.rps),
        iterations_per_second: at.map(|s| capacity_iterations(settings.model, s)),
        users,
        bracket: c.bracket,
        concurrency: at.map(|s| s.concurrency),
        first_failed: first_failed.and_then(|s| s.reasons.first().cloned()),
        usl: stats::usl_fit(&usl_points),
        steps_run: steps.len() as u32,
        linear_ramp_steps,
        message: String::new(),
        settings,
        steps: steps.clone(),
    };
    doc.message = message(&doc, c.unconfirmed, &notes);
    doc
}

/// The capacity in iterations/s from the step that holds it. In the open model that is the
/// arrival rate the step ran at (its level: the `rate:` to set), not the iterations it
/// happened to start: with Poisson arrivals a step's count is a draw from that rate, off by
/// about its square root (3 %, one standard deviation, over a 3-s step at 360/s), and a
/// capacity read off the draw can lie below its own bracket. Evenly spaced arrivals start
/// the level to within one iteration, so for them the two agree. In the closed model the
/// level is users, and the iterations/s is what they finished.
fn capacity_iterations(model: SearchModel, step: &CapacityStep) -> f64 {
    match model {
        SearchModel::Rate => step.level,
        SearchModel::Users => step.iterations_per_second,
    }
}

/// The conclusion in words: what the terminal prints first.
fn message(doc: &CapacityDoc, unconfirmed: bool, notes: &[String]) -> String {
    let unit = doc.settings.model.unit();
    let level = |v: Option<f64>| v.map_or_else(|| "none".to_owned(), rate);
    let bracket = format!(
        "between {} (passed) and {} (failed) {unit}",
        level(doc.bracket.passed),
        level(doc.bracket.failed)
    );
    let capacity = match (doc.rps, doc.iterations_per_second) {
        (Some(rps), Some(ips)) => {
            let users = doc
                .users
                .map_or(String::new(), |u| format!("{} users: ", rate(u)));
            format!(
                "{users}{} requests/s ({} iterations/s)",
                rate(rps),
                rate(ips)
            )
        }
        _ => String::new(),
    };
    let mut text = match doc.status {
        CapacityStatus::Found => format!("Capacity: {capacity}, {bracket}"),
        CapacityStatus::AtLeast => format!(
            "Capacity: at least {capacity}: the highest level allowed ({}) still passed",
            level(doc.bracket.passed)
        ),
        CapacityStatus::StartFails => format!(
            "No capacity found: the first level ({} {unit}) already failed; start lower \
             (--start-rate, --start-users) or check the objectives",
            rate(doc.settings.start)
        ),
        CapacityStatus::GeneratorLimit if doc.steps.last().is_some_and(|s| s.disturbed) => {
            format!(
                "No capacity found: the generator, not the service, is the limit: its schedule \
                 was late twice in a row while its workers idled (other work on this machine \
                 takes the CPU): run barrage where it has cores to itself{}",
                doc.bracket.passed.map_or(String::new(), |p| format!(
                    " (the service held {} {unit})",
                    rate(p)
                ))
            )
        }
        CapacityStatus::GeneratorLimit => format!(
            "No capacity found: the generator, not the service, is the limit: add --workers or \
             machines{}",
            doc.bracket.passed.map_or(String::new(), |p| format!(
                " (the service held {} {unit})",
                rate(p)
            ))
        ),
        CapacityStatus::Interrupted if capacity.is_empty() => {
            format!("Interrupted before any level passed ({bracket})")
        }
        CapacityStatus::Interrupted => {
            format!("Interrupted: so far {capacity}, {bracket}")
        }
        CapacityStatus::Incomplete if capacity.is_empty() => {
            format!("Incomplete: the search stopped before any level passed ({bracket})")
        }
        CapacityStatus::Incomplete => format!(
            "Incomplete: the search stopped before it concluded: so far {capacity}, {bracket}"
        ),
    };
    if unconfirmed && matches!(doc.status, CapacityStatus::Found | CapacityStatus::AtLeast) {
        text.push_str(" (not confirmed: the repeat of the highest passing level failed, or the step limit was reached)");
    }
    for n in notes {
        text.push_str(&format!("; {n}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use barrage_metrics::capacity::Bracket;

    fn found(status: CapacityStatus, concluded: bool) -> Found {
        Found {
            steps: Vec::new(),
            conclusion: Conclusion {
                status,
                bracket: Bracket {
                    passed: Some(100.0),
                    failed: Some(110.0),
                },
                capacity_step: None,
                first_failed_step: None,
                unconfirmed: false,
            },
            notes: Vec::new(),
            concluded,
        }
    }

    fn settings() -> SearchSettingsDoc {
        SearchSettingsDoc {
            start: 10.0,
            max: 1000.0,
            precision: 0.05,
            ..SearchSettingsDoc::default()
        }
    }

    #[test]
    fn ctrl_c_during_the_shutdown_of_a_concluded_search_keeps_its_status() {
        let doc = conclude(&found(CapacityStatus::Found, true), settings(), true);
        assert_eq!(doc.status, CapacityStatus::Found);
        // Not concluded: stopped by the person, or by the run's end (its time bound).
        let doc = conclude(&found(CapacityStatus::Interrupted, false), settings(), true);
        assert_eq!(doc.status, CapacityStatus::Interrupted);
        let doc = conclude(
            &found(CapacityStatus::Interrupted, false),
            settings(),
            false,
        );
        assert_eq!(doc.status, CapacityStatus::Incomplete);
        assert!(
            doc.message
                .ends_with("; the run ended before the search did"),
            "{}",
            doc.message
        );
    }

    #[test]
    fn an_open_models_capacity_is_the_rate_that_passed_not_the_draw() {
        // A Poisson step at 363/s that happened to start 347/s (as one on CI did): the
        // capacity is the rate it passed at, inside its bracket; the requests/s stay as
        // measured. With users, the level is users and the iterations are what finished.
        let step = CapacityStep {
            level: 363.0,
            rps: 348.0,
            iterations_per_second: 347.0,
            ..CapacityStep::default()
        };
        let mut f = found(CapacityStatus::Found, true);
        f.steps.push(step);
        f.conclusion.capacity_step = Some(0);
        f.conclusion.bracket.passed = Some(363.0);
        let doc = conclude(&f, settings(), false);
        assert_eq!(
            (doc.iterations_per_second, doc.rps, doc.users),
            (Some(363.0), Some(348.0), None)
        );
        assert!(
            doc.message
                .starts_with("Capacity: 348 requests/s (363 iterations/s), between 363"),
            "{}",
            doc.message
        );
        let users = SearchSettingsDoc {
            model: SearchModel::Users,
            ..settings()
        };
        let doc = conclude(&f, users, false);
        assert_eq!(
            (doc.iterations_per_second, doc.users),
            (Some(347.0), Some(363.0))
        );
    }

    #[test]
    fn a_users_warm_up_waits_for_the_spawn_rate_and_a_margin() {
        assert_eq!(users_wait_s(50.0, Some(10.0)), 5 + USERS_MARGIN_S);
        assert_eq!(users_wait_s(51.0, Some(10.0)), 6 + USERS_MARGIN_S);
        assert_eq!(users_wait_s(50.0, None), USERS_MARGIN_S);
    }
}
