//! A virtual user: its variables, cookie jar and connections, and the loop that runs
//! `setup` once and then weighted tasks until the worker says stop.
//!
//! A VU lives on one worker thread and records into that worker's recorder through a
//! `RefCell`: nothing it does per request crosses threads. It keeps the *intended* start
//! of each request (the end of the previous step plus any think time), so a late timer
//! or a slow previous response shows up in the response time instead of vanishing.
//!
//! It speaks to the HTTP client only in protocol-neutral terms (`crate::http`: a rendered
//! request, an exchange), and tells the recorder and the `--debug` observer what became
//! of each request step from one place (`vu/outcome.rs`).

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use barrage_metrics::{EndpointId, FailureCategory, Timing};
use barrage_scenario::{DataOrder, Think};
use barrage_template::{RenderCtx, Response, ResponseView};

use http::{HeaderMap, StatusCode};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::context::{ScenarioCtx, WorkerCtx};
use crate::http::{Connections, Exchange, RequestBuf};
use crate::plan::{Plan, RequestPlan, Step};

#[doc(hidden)]
pub mod bench;
mod outcome;
mod reach;
mod request;
mod sample;
mod stream;
mod trace;
mod ws;

pub use request::BuildError;

use outcome::{Outcome, Verdict};
use reach::{Attempt, Reach};

/// Receives what a VU does, for `run --debug`. The engine never prints; the binary does.
pub trait Observer {
    fn request(
        &self,
        label: &str,
        method: &http::Method,
        url: &str,
        headers: &HeaderMap,
        body: &[u8],
    );
    fn response(&self, status: StatusCode, headers: &HeaderMap, body: &[u8], elapsed: Duration);
    fn failure(&self, label: &str, category: FailureCategory, message: &str);
    fn saved(&self, var: &str, value: &serde_json::Value);
    fn check(&self, name: &str, passed: bool, detail: &str);
    fn think(&self, duration: Duration);
    fn task(&self, user: &str, task: &str);
    /// One event of a `stream:` step (a chunk's bytes under `chunk`), `at` after the
    /// request's intended start.
    fn event(&self, _name: &str, _data: &[u8], _at: Duration) {}
    /// The answer about to be shown came on a connection opened for it: the HTTP version
    /// it speaks and what setting it up cost (`tls` for https).
    fn connection(&self, _version: http::Version, _connect: Duration, _tls: Option<Duration>) {}
    /// A WebSocket message `sent` by the user or received (`skipped` when an `until`
    /// passed over it).
    fn ws_message(&self, _sent: bool, _data: &[u8], _skipped: bool) {}
    /// The user closed the socket of the step labelled `label`.
    fn ws_closed(&self, _label: &str) {}
}

/// How a list of steps ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepsEnd {
    Completed,
    /// A request failed and its step says `on_failure: stop_iteration`.
    Stopped,
    /// The worker is stopping: end now.
    Shutdown,
}

/// A worker's handle on the plan, one for all its users of a scenario: cloning it (to walk
/// the plan while a user is borrowed mutably) touches no counter shared with other
/// threads, unlike the `Arc` inside, and its one box stays warm; a box of each user's own
/// was one more line of the user's to read at every request (docs/PERFORMANCE.md, "Fewer
/// cold lines a request").
// The extra box is the point: a counter the worker's thread alone touches, not an atomic
// increment shared by every worker thread each time the plan is walked.
#[allow(clippy::redundant_allocation)]
pub(crate) type PlanHandle = Rc<Arc<Plan>>;

/// The fields a plain request reads come first, in declaration order (`repr(C)`): after a
/// wake-up the user's state is read cold, and fields the compiler spreads over the whole
/// struct cost a cache line each where grouped they share a few (docs/PERFORMANCE.md,
/// "Fewer cold lines a request"). The rest (data rows, variables, buffers of rarer steps)
/// follow.
#[repr(C)]
pub struct Vu {
    plan: PlanHandle,
    ctx: Rc<WorkerCtx>,
    sctx: Rc<ScenarioCtx>,
    scenario: usize,
    user: usize,
    iteration: u64,
    rng: SmallRng,
    /// `--debug`'s observer. When there is one, someone reads every answer in full:
    /// bodies are kept, and every failed check says why, not only the first.
    observer: Option<Rc<dyn Observer>>,
    conns: Connections,
    /// The request as rendered for sending. It and the buffers below (`url_buf`,
    /// `body_buf`, `hop`, `verdicts`) are reused across requests, so steady-state
    /// rendering does not allocate anew.
    request: RequestBuf,
    /// The number of the [`fixed`](RequestPlan::fixed) step whose rendering `request`,
    /// `url_buf` and `body_buf` hold, when they hold one: sending it again is sending them.
    built: Option<u32>,
    /// Whether this machine could give the user a connection (`vu/reach.rs`).
    reach: Reach,
    /// Boxed: 112 bytes inline in every user, read only as "is there a jar" by most
    /// requests (the user's state is read cold at each wake-up; docs/PERFORMANCE.md).
    cookies: Option<Box<cookie_store::CookieStore>>,
    /// The saves and checks of the last answer.
    verdicts: Vec<Verdict>,
    /// When the last step of [`Vu::steps`] ended, if it was a request: the clock read once
    /// its answer was judged and recorded (the next step's intended start), used again as
    /// "now" by what follows at once (the iteration's length, the think time's start)
    /// rather than two more readings a request (docs/PERFORMANCE.md). Not the answer's own
    /// end: what the user did with the answer (a save from a large body, say) is not the
    /// next request's wait.
    ended_at: Option<Instant>,
    /// With `--traceparent`, the ids the current step's request was sent with (`None`
    /// when the step sets a `traceparent` of its own that is not valid).
    trace: Option<barrage_metrics::TraceIds>,
    /// 1-based, unique across workers within a scenario.
    pub user_id: u64,
    vars: Vec<Option<serde_json::Value>>,
    has_cookies: bool,
    rows: Vec<usize>,
    /// The request's origin-form target and its body, as last rendered.
    url_buf: String,
    body_buf: Vec<u8>,
    /// A redirect's next request (apart, so the step's own stays as it was sent).
    hop: RequestBuf,
    /// WebSockets kept open across iterations (`keep: true`), closed when the user stops.
    ws_kept: ws::KeptSockets,
}

impl Vu {
    pub fn new(
        user_id: u64,
        scenario: usize,
        user: usize,
        plan: PlanHandle,
        ctx: Rc<WorkerCtx>,
        sctx: Rc<ScenarioCtx>,
        observer: Option<Rc<dyn Observer>>,
    ) -> Vu {
        let rows = plan
            .data
            .iter()
            .map(|t| ((user_id - 1) as usize) % t.rows.len())
            .collect();
        Vu {
            user_id,
            scenario,
            user,
            sctx,
            vars: vec![None; plan.var_names.len()],
            cookies: plan.cookies.then(Box::default),
            has_cookies: false,
            conns: Connections::default(),
            reach: Reach::default(),
            rng: SmallRng::seed_from_u64(user_id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed()),
            iteration: 0,
            rows,
            observer,
            url_buf: String::new(),
            body_buf: Vec::new(),
            request: RequestBuf::default(),
            built: None,
            hop: RequestBuf::default(),
            verdicts: Vec::new(),
            trace: None,
            ws_kept: ws::KeptSockets::default(),
            ended_at: None,
            plan,
            ctx,
        }
    }

    /// The closed-model life of a user: setup until it succeeds, then tasks until the
    /// scenario stops, its iterations are used up, or `own_stop` is set (a ramp-down; the
    /// current iteration finishes first). Borrows the user rather than taking it: an async
    /// function's argument is moved into its state and then into a local, so the user's
    /// task held the user twice.
    pub async fn run(&mut self, own_stop: Option<Rc<std::cell::Cell<bool>>>) {
        self.live(own_stop).await;
        // Boxed: closing kept WebSockets (once per user) would otherwise add its state to
        // the user's task, beside the state every request reads.
        Box::pin(self.close_kept()).await;
    }

    /// [`Vu::run`] but for closing the sockets the user kept.
    async fn live(&mut self, own_stop: Option<Rc<std::cell::Cell<bool>>>) {
        let plan = self.plan.clone();
        let user = &plan.scenarios[self.scenario].users[self.user];
        let told_to_stop =
            |s: &Option<Rc<std::cell::Cell<bool>>>| s.as_ref().is_some_and(|c| c.get());
        loop {
            match self.steps(&user.setup, Instant::now(), true).await {
                StepsEnd::Completed => break,
                StepsEnd::Shutdown => return,
                // A user whose setup failed (it could not log in) tries again after its
                // think time, as a person would, and at least a second later so a failing
                // login is not hammered; every attempt is counted. In a run bounded by
                // iterations each retry uses one up, so a service that refuses every
                // login still ends the run (after at most users + iterations attempts)
                // instead of being retried for ever.
                StepsEnd::Stopped => {
                    if !self.sctx.take_iteration() {
                        return;
                    }
                    let now = Instant::now();
                    let wait = think_duration(user.think, &mut self.rng).max(SETUP_RETRY);
                    if !self.sctx.sleep_until(now + wait).await {
                        return;
                    }
                }
            }
        }
        // The intended start of the next iteration: the end of the think time after the
        // previous one (not when the timer happened to wake us), so a late wake-up counts
        // in the first request's response time.
        let mut next = Instant::now();
        loop {
            if told_to_stop(&own_stop) || !self.sctx.take_iteration() {
                return;
            }
            let started = next;
            // `iteration_once`, written out: one level of futures fewer per iteration.
            let index = self.begin_iteration(None);
            let end = self.steps(&user.tasks[index].steps, started, false).await;
            self.end_iteration(index, started, end);
            if end == StepsEnd::Shutdown || told_to_stop(&own_stop) {
                return;
            }
            let now = self.ended_at.unwrap_or_else(Instant::now);
            next = match self.think_until(user.think, started, now) {
                Some(until) => {
                    if !self.sctx.sleep_until(until).await {
                        return;
                    }
                    until
                }
                None => {
                    // Without think time a user whose requests all fail instantly (target
                    // down) would never give the worker's timers a turn: it spends a unit
                    // of the task's budget and yields once that is gone (128 units a
                    // poll). Not `yield_now` after every iteration: that put each request
                    // through a second scheduling round and an extra `epoll_wait`, about
                    // 1,000 instructions a request against a latency-bound service
                    // (docs/PERFORMANCE.md).
                    tokio::task::coop::consume_budget().await;
                    if self.sctx.stopping() {
                        return;
                    }
                    now
                }
            };
        }
    }

    /// Runs one iteration: the task chosen by weight, or `task` when given. `started` is
    /// the iteration's intended start: its first request's response time counts from it.
    pub async fn iteration_once(&mut self, task: Option<usize>, started: Instant) -> StepsEnd {
        let index = self.begin_iteration(task);
        let plan = self.plan.clone();
        let t = &plan.scenarios[self.scenario].users[self.user].tasks[index];
        let end = self.steps(&t.steps, started, false).await;
        self.end_iteration(index, started, end);
        end
    }

    /// The first part of [`Vu::iteration_once`]: picks the task (by weight, or `task` when
    /// given) and readies the data rows; returns the task's index. Apart so the closed
    /// loop runs an iteration without a future of its own (`Vu::live`).
    fn begin_iteration(&mut self, task: Option<usize>) -> usize {
        let user = &self.plan.scenarios[self.scenario].users[self.user];
        let index = match task {
            Some(i) => i,
            None => user.pick(self.rng.random_range(0..user.total_weight())),
        };
        if let Some(o) = &self.observer {
            o.task(&user.name, &user.tasks[index].name);
        }
        self.advance_rows();
        index
    }

    /// The last part of [`Vu::iteration_once`]: records the iteration of task `index`,
    /// started at `started`, unless the scenario was shut down during it.
    fn end_iteration(&mut self, index: usize, started: Instant, end: StepsEnd) {
        if end != StepsEnd::Shutdown {
            let now = self.ended_at.unwrap_or_else(Instant::now);
            let took = now.saturating_duration_since(started);
            let id = self.plan.scenarios[self.scenario].users[self.user].tasks[index].id;
            self.ctx
                .recorder
                .borrow_mut()
                .iteration(id, took.as_nanos() as u64);
        }
        self.iteration += 1;
    }

    /// Runs the setup steps (for `--debug`, which drives the user itself).
    pub async fn setup(&mut self) -> StepsEnd {
        let plan = self.plan.clone();
        let user = &plan.scenarios[self.scenario].users[self.user];
        self.steps(&user.setup, Instant::now(), true).await
    }

    fn advance_rows(&mut self) {
        for (i, t) in self.plan.data.iter().enumerate() {
            match t.order {
                DataOrder::PerUser => {}
                DataOrder::Sequential => self.rows[i] = self.ctx.next_sequential_row(t.rows.len()),
                DataOrder::Random => self.rows[i] = self.rng.random_range(0..t.rows.len()),
            }
        }
    }

    /// When the next iteration is meant to start after one that started at
    /// `iteration_start` and ended at `now`; `None` without think time. Tells the observer
    /// of the pause. Not an async function that also waits: the caller waits, one level of
    /// futures fewer per iteration (docs/PERFORMANCE.md, "The exchange as poll functions").
    fn think_until(
        &mut self,
        think: Think,
        iteration_start: Instant,
        now: Instant,
    ) -> Option<Instant> {
        let until = match think {
            Think::None => return None,
            // An iteration that overran its interval is followed at once.
            Think::Pacing(interval) => (iteration_start + interval).max(now),
            other => now + think_duration(other, &mut self.rng),
        };
        if let Some(o) = &self.observer {
            o.think(until.saturating_duration_since(now));
        }
        Some(until)
    }

    /// Runs `steps` from `intended`. `setup` makes any failed request end them (`Stopped`),
    /// since later steps and tasks depend on what setup saves.
    async fn steps(&mut self, steps: &[Step], mut intended: Instant, setup: bool) -> StepsEnd {
        self.ended_at = None;
        for step in steps {
            self.ended_at = None;
            if self.sctx.stopping() {
                return StepsEnd::Shutdown;
            }
            match step {
                Step::Think(t) => {
                    let d = think_duration(*t, &mut self.rng);
                    if let Some(o) = &self.observer {
                        o.think(d);
                    }
                    intended += d;
                    if !self.sctx.sleep_until(intended).await {
                        return StepsEnd::Shutdown;
                    }
                }
                Step::Request(r) => {
                    let ok = self.request(r, intended).await;
                    intended = Instant::now();
                    self.ended_at = Some(intended);
                    if !ok && (r.stop_on_failure || setup) {
                        return StepsEnd::Stopped;
                    }
                }
                Step::Ws(w) => {
                    // Boxed, as a `stream:` step is: a WebSocket step's state (about 4 KB)
                    // would otherwise widen every request step's future.
                    let ok = Box::pin(self.ws(w, intended)).await;
                    intended = Instant::now();
                    if !ok && (w.stop_on_failure || setup) {
                        return StepsEnd::Stopped;
                    }
                }
            }
        }
        StepsEnd::Completed
    }

    /// Runs one request step: builds it, sends it and judges the answer (saves land in
    /// the user's variables, cookies in its jar), then hands what became of it to
    /// [`Vu::settle`]. `true` when it succeeded.
    async fn request(&mut self, r: &RequestPlan, intended: Instant) -> bool {
        // A `stream:` step (chosen when the plan was compiled) takes its own path; boxed so
        // its larger future does not grow every plain request's.
        if let Some(s) = &r.stream {
            return Box::pin(self.stream(r, s, intended)).await;
        }
        self.verdicts.clear();
        let origin = match self.build(r, None) {
            Ok(origin) => origin,
            Err(e) => return self.settle(r, &Outcome::Unbuilt(&e)),
        };
        let sent = self.request.len() as u64;
        let plan = Rc::clone(&self.plan);
        // Relative paths go to the plan's base origin, borrowed rather than copied.
        let to = match &origin {
            Some(o) => o,
            None => {
                &plan
                    .base
                    .as_ref()
                    .expect("compile rejects paths without a target")
                    .origin
            }
        };
        if let Some(o) = &self.observer {
            self.show_request(o.as_ref(), r, to);
        }
        let mut guard = InFlight {
            ctx: self.ctx.clone(),
            endpoint: r.endpoint,
            armed: true,
        };
        // The step's own request is sent here, not in `follow`: one level of futures fewer
        // between the user's task and the socket for every answer that is neither a
        // redirect to follow nor cookies for a jar (see `Vu::follow`).
        let out = self.outgoing(r, to, &self.request, &guard.ctx.in_flight);
        // The answer is written here once and read in place (`Connections::send_into`).
        let mut answer = None;
        let mut result = self
            .conns
            .send_into(&guard.ctx.connector, &out, &mut answer)
            .await;
        if let Some(x) = answer.take_if(|x| self.wants_follow(x)) {
            // Boxed: its state (3 KB, a second send's among it) would otherwise widen every
            // plain request's future, which each wake-up reads from (docs/PERFORMANCE.md,
            // "The answer written once").
            result = Box::pin(self.follow(r, to, x))
                .await
                .map(|x| answer = Some(x));
        }
        guard.armed = false;
        let pause = self.note_reach(Attempt::of(&result));
        let notes = self.conns.take_notes();
        if notes.retries > 0 {
            self.note_retries(r, notes.retries);
        }
        let x = match result {
            Ok(()) => answer
                .as_ref()
                .expect("a send that succeeds leaves its answer"),
            Err(error) => {
                let outcome = Outcome::Unanswered {
                    sent,
                    received: notes.received,
                    error: &error,
                };
                let ok = self.settle(r, &outcome);
                if let Some(pause) = pause {
                    // A stop cuts the pause short; the next step sees it.
                    self.sctx.sleep_until(Instant::now() + pause).await;
                }
                return ok;
            }
        };
        let timing = Timing {
            response_time_ns: x
                .timings
                .done_at
                .saturating_duration_since(intended)
                .as_nanos() as u64,
            service_time_ns: x
                .timings
                .done_at
                .saturating_duration_since(x.timings.sent_at)
                .as_nanos() as u64,
        };
        let failure = self.judge(r, x, timing);
        // The outcome borrows the answer: each move of it would cost a `memcpy` on every
        // request.
        let outcome = Outcome::Answered {
            sent,
            x,
            timing,
            failure,
        };
        self.settle(r, &outcome)
    }

    /// Takes what a request attempt said about local resources into the worker's users
    /// gauges; the pause the user must take before its next request, if any.
    fn note_reach(&mut self, attempt: Attempt) -> Option<Duration> {
        let change = self.reach.note(attempt);
        match change.unconnected {
            Some(true) => self.ctx.user_unconnected(),
            Some(false) => self.ctx.user_connected(),
            None => {}
        }
        change.pause
    }

    /// Counts the requests of this step that went once more on a fresh connection (apart
    /// from failures: the server never answered the first try).
    #[cold]
    fn note_retries(&self, r: &RequestPlan, retries: u32) {
        self.ctx
            .recorder
            .borrow_mut()
            .retried(r.endpoint, u64::from(retries));
    }

    /// Status, saves and checks: stores what the saves found, notes each save and check in
    /// `self.verdicts`, and says why the request failed, if it did.
    fn judge(
        &mut self,
        r: &RequestPlan,
        x: &Exchange,
        timing: Timing,
    ) -> Option<(FailureCategory, String)> {
        let status = x.status();
        let view = ResponseView::new(Response {
            status: status.as_u16(),
            headers: if r.reads_headers {
                x.headers()
            } else {
                &NO_HEADERS
            },
            body: x.body(),
        });
        let mut failure: Option<(FailureCategory, String)> = None;
        if !r.check.status_ok(status.as_u16()) {
            failure = Some((
                FailureCategory::Status,
                format!(
                    "HTTP {} {} (expected {})",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or(""),
                    r.check.status_description()
                ),
            ));
        }
        for save in &r.saves {
            let value = save
                .extractor
                .extract(&view)
                .or_else(|| save.default.clone());
            let slot = save.slot as usize;
            match value {
                Some(v) => {
                    // `--debug` shows each value as it was saved (a later save may
                    // overwrite the slot); without it nothing is copied.
                    let shown = self.observer.is_some().then(|| v.clone());
                    self.vars[slot] = Some(v);
                    self.verdicts.push(Verdict::Saved(slot, shown));
                }
                None => {
                    if failure.is_none() {
                        let name = &self.plan.var_names[slot];
                        failure = Some((
                            FailureCategory::Check,
                            format!("save `{name}`: {} found nothing", save.what),
                        ));
                    }
                }
            }
        }
        if !r.check.items().is_empty() {
            let rows = current_rows(&self.plan, &self.rows);
            let mut ctx = RenderCtx {
                vars: &self.vars,
                user_id: self.user_id,
                iteration: self.iteration,
                rng: &mut self.rng,
                data: &rows,
            };
            let verdicts = &mut self.verdicts;
            let explain = self.observer.is_some();
            let items = r.check.items();
            let redact = self.plan.redact.as_ref();
            r.check.evaluate(
                &view,
                Duration::from_nanos(timing.response_time_ns),
                &mut ctx,
                &mut |i: usize, passed: bool, detail: &dyn Fn() -> String| {
                    // Why a check failed is worded for the request's failure message (the
                    // first failure's) and, when someone watches, for every failed check.
                    let reason = (!passed && (explain || failure.is_none())).then(detail);
                    if let (Some(reason), None) = (&reason, &failure) {
                        // The failure goes into shared files: a secret the server sent
                        // (`set-cookie`, `$.access_token`) is not shown; `--debug` shows it.
                        let secret = match (redact, items[i].subject()) {
                            (Some(rules), Some(s)) => {
                                rules.secret_header(s) || rules.secret_field(s)
                            }
                            _ => false,
                        };
                        failure = Some((
                            FailureCategory::Check,
                            if secret {
                                format!(
                                    "check failed: {} (the value received is redacted)",
                                    items[i].name()
                                )
                            } else {
                                format!("check failed: {} ({reason})", items[i].name())
                            },
                        ));
                    }
                    verdicts.push(Verdict::Check {
                        index: i,
                        passed,
                        reason,
                    });
                },
            );
        }
        failure
    }
}

impl Drop for Vu {
    /// A user that ends (or is dropped at a hard stop) still waiting for its first
    /// connection is counted as one that never got one.
    fn drop(&mut self) {
        if self.reach.waiting() {
            self.ctx.unconnected_user_ended();
        }
    }
}

/// The shortest wait before a user retries a failed setup.
const SETUP_RETRY: Duration = Duration::from_secs(1);

/// What saves and checks see as the headers of a request none of whose saves or checks
/// reads one (`RequestPlan::reads_headers`): building the map would be wasted work.
static NO_HEADERS: std::sync::LazyLock<HeaderMap> = std::sync::LazyLock::new(HeaderMap::new);

/// One draw of a think time (pacing is handled by the caller: it depends on when the
/// iteration started). A range is uniform over its closed interval, to the nanosecond.
pub fn think_duration(think: Think, rng: &mut SmallRng) -> Duration {
    match think {
        Think::None | Think::Pacing(_) => Duration::ZERO,
        Think::Constant(d) => d,
        Think::Range(lo, hi) if hi > lo => {
            let span = (hi - lo).as_nanos() as u64;
            lo + Duration::from_nanos(rng.random_range(0..=span))
        }
        Think::Range(lo, _) => lo,
    }
}

/// The current row of each data source (empty, and no allocation, without data files).
fn current_rows<'p>(plan: &'p Plan, rows: &[usize]) -> Vec<&'p [serde_json::Value]> {
    // Most plans have no data file: collecting an empty zip still cost a call and about 40
    // instructions per request.
    if plan.data.is_empty() {
        return Vec::new();
    }
    plan.data
        .iter()
        .zip(rows)
        .map(|(t, &i)| t.rows[i].as_slice())
        .collect()
}

/// Records a request cut off by a hard stop as interrupted (not failed) when its future
/// is dropped before it finished.
struct InFlight {
    ctx: Rc<WorkerCtx>,
    endpoint: EndpointId,
    armed: bool,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.armed {
            if let Ok(mut r) = self.ctx.recorder.try_borrow_mut() {
                r.interrupted(self.endpoint);
            }
        }
    }
}

/// Per-process randomness mixed into each user's seed so runs differ.
fn seed() -> u64 {
    use std::sync::OnceLock;
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(rand::random)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of what `make` returns (a future), without making one.
    fn output_size<A, R>(_make: impl FnOnce(A) -> R) -> usize {
        std::mem::size_of::<R>()
    }

    /// Every wake-up of a user reads its task's state, so the state of the steps few
    /// requests take (redirect hops, WebSocket and stream steps, bodies still on their
    /// way, closing kept sockets) is boxed, and nothing holds the user twice: a plain
    /// GET's user task was 11,584 bytes before, 1,616 after (`--profile ci`;
    /// docs/PERFORMANCE.md, "The answer written once"). The bound leaves room for the
    /// compiler's layout, not for a step's state to come back.
    #[test]
    fn a_users_task_stays_small() {
        let file = barrage_scenario::SourceFile {
            name: "t.yaml".into(),
            text: "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      t:\n        - get: /x\n"
                .into(),
        };
        let (scenario, _) = barrage_scenario::parse(&file).expect("the scenario parses");
        let (plan, _) = crate::compile(&scenario, &file, &crate::CompileOptions::default())
            .expect("the scenario compiles");
        let mut user = bench::BenchUser::new(Arc::new(plan)).expect("no certificates are read");
        let vu = &mut user.vu;
        let (plan, ctx, sctx) = (Rc::clone(&vu.plan), vu.ctx.clone(), vu.sctx.clone());
        let task = output_size(|stop| crate::executor::user_life(plan, 0, ctx, sctx, 1, stop));
        let iteration = output_size(|started| vu.iteration_once(None, started));
        assert!(task <= 2_560, "a closed-model user's task is {task} bytes");
        // What an open-model user's task holds beside its user and pool state.
        assert!(iteration <= 1_536, "an iteration is {iteration} bytes");
    }

    #[test]
    fn think_ranges_are_uniform_within_their_bounds() {
        let mut rng = SmallRng::seed_from_u64(7);
        let (lo, hi) = (Duration::from_millis(500), Duration::from_millis(2500));
        let draws: Vec<Duration> = (0..10_000)
            .map(|_| think_duration(Think::Range(lo, hi), &mut rng))
            .collect();
        assert!(draws.iter().all(|d| *d >= lo && *d <= hi));
        let mean = draws.iter().map(Duration::as_secs_f64).sum::<f64>() / draws.len() as f64;
        // Uniform on [0.5, 2.5]: mean 1.5 s, sd of the mean 0.577/sqrt(10000) = 0.006 s.
        assert!((mean - 1.5).abs() < 0.03, "mean {mean}");
        let d = Duration::from_secs(1);
        assert_eq!(think_duration(Think::Constant(d), &mut rng), d);
        assert_eq!(think_duration(Think::None, &mut rng), Duration::ZERO);
        assert_eq!(think_duration(Think::Range(d, d), &mut rng), d);
    }
}
