//! The live View: the run so far as the page draws it, kept by barrage (not by the browser),
//! so a reload or a second browser sees the whole run.
//!
//! [`LiveView`] holds one [`View`] behind a mutex and a broadcast channel of [`Event`]s.
//! Its [`WebSink`] is one of the session's sinks: each closed second it replaces the
//! statistics, appends the new per-second rows, 10-second windows and monitored-server rows,
//! and broadcasts the second's *delta* (the View with only the new rows and windows) as JSON, serialized once
//! for every client. The server reads the whole View for `GET /api/view` and forwards the
//! events to each `GET /api/events` stream.
//!
//! Why this shape: the session runs each sink on a thread of its own behind a small queue
//! (a slow sink misses seconds, never delays the run), so the sink's work is the only cost
//! the web UI adds to a run: one `Row` per endpoint and one JSON serialization per second,
//! whatever the number of browsers. A browser that stops reading only lags its broadcast
//! receiver, which the server then drops (the page re-fetches the View when it reconnects).
//!
//! Must not steer the run or write files: the front end owns the run, the session the
//! statistics.

use std::sync::{Arc, Mutex, MutexGuard};

use barrage_metrics::{
    ResultDoc, Row as ServerRow, ServerLive, ServerSection, SourceSeries, ThresholdVerdict,
};
use barrage_report::threshold::Watched;
use barrage_session::{Finished, Live, Sink, SinkError, Started};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::view::{self, Generator, Mode, Row, Series, State, ThresholdView, View, Windows};

/// How many events a client may fall behind before it is dropped (and re-fetches the View
/// when its browser reconnects): more than a minute of seconds.
const EVENTS: usize = 64;

/// One server-sent event: its name (`second`, `state`, `notice`) and its JSON data,
/// serialized once for every client.
#[derive(Clone, Debug)]
pub struct Event {
    pub name: &'static str,
    pub data: Arc<str>,
}

/// The run so far, shared by the web sink (which writes it) and the server (which reads it).
#[derive(Clone)]
pub struct LiveView {
    inner: Arc<Inner>,
}

struct Inner {
    whole: Mutex<Whole>,
    /// `None` once the run has ended ([`LiveView::close`]): dropping the sender ends every
    /// event stream after its last event, so a graceful shutdown has nothing to wait for.
    events: Mutex<Option<broadcast::Sender<Event>>>,
    /// The last `state` event, for a client that subscribes after the streams closed.
    last_state: Mutex<Option<Event>>,
}

struct Whole {
    view: View,
    /// The last per-second row appended (`t`), so a second that repeats rows adds none.
    last_t: f64,
    /// The start of the last window appended.
    last_window: Option<u64>,
    /// The run's judged result, once it is over.
    result: Option<Arc<ResultDoc>>,
}

impl LiveView {
    /// A live View that starts as `ready` (the start form, the run's target), in live mode.
    pub fn new(mut ready: View) -> LiveView {
        ready.mode = Mode::Live;
        let (events, _) = broadcast::channel(EVENTS);
        LiveView {
            inner: Arc::new(Inner {
                whole: Mutex::new(Whole {
                    view: ready,
                    last_t: 0.0,
                    last_window: None,
                    result: None,
                }),
                events: Mutex::new(Some(events)),
                last_state: Mutex::new(None),
            }),
        }
    }

    fn whole(&self) -> MutexGuard<'_, Whole> {
        // A panic while holding the lock leaves a View that is still whole (each update
        // replaces or appends complete values), so a poisoned lock is still usable.
        self.inner
            .whole
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads the whole View without copying it.
    pub fn with_view<R>(&self, read: impl FnOnce(&View) -> R) -> R {
        read(&self.whole().view)
    }

    /// The whole View as JSON (`GET /api/view`).
    pub fn view_json(&self) -> String {
        self.with_view(to_json)
    }

    /// The events from now on. Once the streams are closed, a receiver that holds the
    /// last `state` event and then ends.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        if let Some(events) = lock(&self.inner.events).as_ref() {
            return events.subscribe();
        }
        let (events, receiver) = broadcast::channel(1);
        if let Some(last) = lock(&self.inner.last_state).clone() {
            let _ = events.send(last);
        }
        receiver
    }

    /// Ends every event stream after the events already sent (the run is over, or the
    /// server stops); later subscribers get the last `state` event and an end.
    pub fn close(&self) {
        lock(&self.inner.events).take();
    }

    /// The run's judged result, once it is over.
    pub fn result(&self) -> Option<Arc<ResultDoc>> {
        self.whole().result.clone()
    }

    pub fn state(&self) -> State {
        self.with_view(|v| v.state)
    }

    /// Moves to `state` (the start form accepted, a stop asked), telling the clients.
    pub fn set_state(&self, state: State) {
        let mut whole = self.whole();
        if whole.view.state != state {
            whole.view.state = state;
            if state != State::Ready {
                whole.view.form = None;
            }
            self.send_state(&whole.view);
        }
    }

    /// The start form was accepted: the run starts against `target` (redacted).
    pub fn accepted(&self, target: String) {
        self.whole().view.run.target = target;
        self.set_state(State::Running);
    }

    /// Something for the person watching (a start refused, a load change).
    pub fn notice(&self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.whole().view.notices.push(text.to_owned());
        #[derive(Serialize)]
        struct Notice<'a> {
            text: &'a str,
        }
        self.send("notice", &Notice { text });
    }

    /// The run is over: `exit_code` is what barrage gives it. The View takes the verdict
    /// and the state `ended`.
    pub fn end(&self, exit_code: u8) {
        let mut whole = self.whole();
        if let Some(result) = whole.result.clone() {
            whole.view.verdict = Some(view::verdict(&result, exit_code));
        }
        whole.view.state = State::Ended;
        self.send_state(&whole.view);
        drop(whole);
        self.close();
    }

    /// The session's sink that keeps this View.
    pub fn sink(&self) -> WebSink {
        WebSink { live: self.clone() }
    }

    fn send_state(&self, view: &View) {
        #[derive(Serialize)]
        struct StateEvent<'a> {
            state: State,
            verdict: Option<&'a view::Verdict>,
        }
        self.send(
            "state",
            &StateEvent {
                state: view.state,
                verdict: view.verdict.as_ref(),
            },
        );
    }

    fn send(&self, name: &'static str, data: &impl Serialize) {
        self.send_raw(Event {
            name,
            data: to_json(data).into(),
        });
    }

    fn send_raw(&self, event: Event) {
        if event.name == "state" {
            *lock(&self.inner.last_state) = Some(event.clone());
        }
        // No client listening (or the streams closed) is no error.
        if let Some(events) = lock(&self.inner.events).as_ref() {
            let _ = events.send(event);
        }
    }
}

/// A lock whose holder cannot leave its value half-written (a whole value is swapped in).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("a View holds only strings, numbers and lists")
}

/// The sink that keeps a [`LiveView`] (see the module comment).
pub struct WebSink {
    live: LiveView,
}

impl Sink for WebSink {
    fn name(&self) -> &str {
        "web UI"
    }

    fn reads_open_window(&self) -> bool {
        true
    }

    fn started(&mut self, run: &Started) {
        let mut whole = self.live.whole();
        let v = &mut whole.view;
        v.tool_version = run.meta.tool_version.clone();
        v.run = run.meta.clone();
        v.load = run.load.clone();
        v.form = None;
        v.state = State::Running;
        self.live.send_state(&whole.view);
    }

    fn second(&mut self, live: &Live) {
        let mut whole = self.live.whole();
        let delta = whole.second(live);
        drop(whole);
        self.live.send_raw(Event {
            name: "second",
            data: delta.into(),
        });
    }

    fn notice(&mut self, text: &str) {
        self.live.notice(text);
    }

    fn finished(&mut self, end: &Finished) -> Result<Vec<String>, SinkError> {
        let mut whole = self.live.whole();
        let delta = whole.finished(end);
        drop(whole);
        self.live.send_raw(Event {
            name: "second",
            data: delta.into(),
        });
        Ok(Vec::new())
    }
}

impl Whole {
    /// Takes a closed second; returns the delta's JSON.
    fn second(&mut self, live: &Live) -> String {
        let s = &live.snapshot;
        let v = &mut self.view;
        v.elapsed_s = s.elapsed.as_secs_f64();
        v.users = s.users;
        v.in_flight = s.in_flight;
        v.endpoints = s.endpoints.iter().map(Row::of).collect();
        v.aggregate = Row::of(&s.aggregate);
        v.failures = s.failures.clone();
        v.checks = s.checks.clone();
        v.tasks = s.tasks.clone();
        v.connections = s.connections.clone();
        v.warnings = barrage_report::generator::warnings(&s.generator, live.schedule_matters);
        v.generator = Generator {
            stats: s.generator.clone(),
            suspect: !v.warnings.is_empty(),
        };
        v.thresholds = live.thresholds.items().iter().map(watched).collect();
        let rows: Vec<_> = live
            .recent
            .iter()
            .filter(|r| r.t > self.last_t + 1e-9)
            .cloned()
            .collect();
        let windows: Vec<_> = live
            .windows
            .iter()
            .filter(|w| self.last_window.is_none_or(|last| w.start > last))
            .map(|w| &**w)
            .collect();
        let open = live.open_window.as_ref().map(open_window);
        let server = live
            .server
            .as_deref()
            .map(|news| server_second(&mut self.view.server, news));
        self.append(&rows, &windows, open, server)
    }

    /// Takes the end of the run: the final figures replace the live ones.
    fn finished(&mut self, end: &Finished) -> String {
        let r = &end.result;
        let v = &mut self.view;
        v.elapsed_s = r.run.duration_s;
        v.stats_since_s = r.stats_since_s;
        v.run = r.run.clone();
        v.endpoints = r.endpoints.iter().map(Row::of).collect();
        v.aggregate = Row::of(&r.aggregate);
        v.failures = r.failures.clone();
        v.checks = r.checks.clone();
        v.tasks = r.tasks.clone();
        v.connections = r.connections.clone();
        v.warnings = r.warnings.clone();
        v.generator = Generator {
            stats: r.generator.clone(),
            suspect: !barrage_report::generator::warnings(&r.generator, end.schedule_matters)
                .is_empty(),
        };
        if !r.thresholds.is_empty() {
            v.thresholds = r.thresholds.iter().map(judged).collect();
        }
        v.timeline = r.timeline.clone();
        v.never_ran = r.never_ran.clone();
        if v.state == State::Running {
            v.state = State::Stopping;
        }
        let rows: Vec<_> = r
            .series
            .iter()
            .filter(|row| row.t > self.last_t + 1e-9)
            .cloned()
            .collect();
        let windows: Vec<_> = r
            .windows
            .iter()
            .filter(|w| self.last_window.is_none_or(|last| w.start > last))
            .collect();
        let server = r
            .server
            .as_ref()
            .map(|end| server_finished(&mut self.view.server, end));
        self.result = Some(Arc::new(r.clone()));
        self.append(&rows, &windows, None, server)
    }

    /// Appends new rows and windows, returning the delta: the View with only them.
    fn append(
        &mut self,
        rows: &[barrage_metrics::SecondSummary],
        windows: &[&barrage_metrics::Window],
        open: Option<view::OpenWindow>,
        server: Option<ServerSection>,
    ) -> String {
        let series = if rows.is_empty() {
            Series::default()
        } else {
            view::series(rows)
        };
        let mut new_windows = if windows.is_empty() {
            Windows::default()
        } else {
            view::windows(windows.iter().copied())
        };
        new_windows.open = open.clone();
        if let Some(last) = rows.last() {
            self.last_t = last.t;
        }
        if let Some(last) = windows.last() {
            self.last_window = Some(last.start);
        }
        // The delta is the whole View with the new rows and windows swapped in: serialized
        // without copying the endpoints' rows.
        let old_series = std::mem::replace(&mut self.view.series, series);
        let old_windows = std::mem::replace(&mut self.view.windows, new_windows);
        let old_server = std::mem::replace(&mut self.view.server, server);
        let delta = to_json(&self.view);
        let series = std::mem::replace(&mut self.view.series, old_series);
        let new_windows = std::mem::replace(&mut self.view.windows, old_windows);
        self.view.server = old_server;
        append_series(&mut self.view.series, series);
        append_windows(&mut self.view.windows, new_windows);
        self.view.windows.open = open;
        delta
    }
}

/// Takes a second's server news into the View's section (created at the first); returns
/// the delta's section: every source with only the rows new this second.
fn server_second(whole: &mut Option<ServerSection>, news: &ServerLive) -> ServerSection {
    let whole = whole.get_or_insert_with(ServerSection::default);
    let mut delta = ServerSection {
        interval_s: whole.interval_s,
        sources: Vec::with_capacity(news.sources.len()),
        probe: news.probe.clone(),
        stats: news.stats.clone(),
        hints: whole.hints.clone(),
    };
    for src in &news.sources {
        let at = match whole.sources.iter().position(|s| s.name == src.name) {
            Some(at) => at,
            None => {
                whole.sources.push(SourceSeries {
                    kind: src.kind,
                    name: src.name.clone(),
                    ..SourceSeries::default()
                });
                whole.sources.len() - 1
            }
        };
        let own = &mut whole.sources[at];
        // A row the View already has (the session repeats none, but a late second might)
        // is not appended twice.
        let last_t = own.rows.last().map_or(f64::NEG_INFINITY, |r| r.t);
        let rows: Vec<ServerRow> = src.rows.iter().filter(|r| r.t > last_t).cloned().collect();
        own.columns = src.columns.clone();
        own.lost = src.lost.clone();
        own.rows.extend(rows.iter().cloned());
        delta.sources.push(SourceSeries {
            kind: own.kind,
            name: own.name.clone(),
            target: own.target.clone(),
            columns: own.columns.clone(),
            rows,
            processes: own.processes.clone(),
            statements: own.statements.clone(),
            lost: own.lost.clone(),
        });
    }
    whole.probe = news.probe.clone();
    whole.stats = news.stats.clone();
    delta
}

/// Takes the result's server section, which replaces the live one; returns the delta's:
/// each source with only the rows the View did not have.
fn server_finished(whole: &mut Option<ServerSection>, end: &ServerSection) -> ServerSection {
    let mut delta = end.clone();
    if let Some(before) = whole.as_ref() {
        for src in &mut delta.sources {
            let last_t = before
                .sources
                .iter()
                .find(|s| s.name == src.name)
                .and_then(|s| s.rows.last())
                .map_or(f64::NEG_INFINITY, |r| r.t);
            src.rows.retain(|r| r.t > last_t);
        }
    }
    *whole = Some(end.clone());
    delta
}

/// A threshold as the live loop last judged it.
fn watched(w: &Watched) -> ThresholdView {
    let (status, observed, note) = match w.last() {
        None => ("pending", None, None),
        Some(e) => match e.observed {
            Some(o) if !e.pending => (if e.passed { "pass" } else { "fail" }, Some(o), None),
            _ => ("pending", None, e.note.clone()),
        },
    };
    ThresholdView {
        expr: w.threshold.text.trim().to_owned(),
        status: status.to_owned(),
        observed,
        limit: w.threshold.limit,
        unit: w.threshold.metric.unit().as_str().to_owned(),
        abort_on_fail: w.abort_on_fail,
        note,
    }
}

/// A threshold as the end of the run judged it.
fn judged(t: &ThresholdVerdict) -> ThresholdView {
    ThresholdView {
        expr: t.expr.clone(),
        status: if t.passed { "pass" } else { "fail" }.to_owned(),
        observed: t.observed,
        limit: t.limit,
        unit: t.unit.clone(),
        abort_on_fail: t.abort_on_fail,
        note: t.note.clone(),
    }
}

/// The open window (aggregate only) as the page draws it: one value per quantile.
fn open_window(w: &barrage_metrics::Window) -> view::OpenWindow {
    let one = view::windows([w]);
    view::OpenWindow {
        start: w.start,
        t: w.t,
        values: one
            .aggregate
            .iter()
            .map(|column| column.first().copied().flatten())
            .collect(),
    }
}

fn append_series(whole: &mut Series, new: Series) {
    let Series {
        t,
        users,
        rps,
        failures_per_s,
        in_flight,
        cpu_percent,
        dropped,
        p50,
        p95,
        p99,
        max,
    } = new;
    whole.t.extend(t);
    whole.users.extend(users);
    whole.rps.extend(rps);
    whole.failures_per_s.extend(failures_per_s);
    whole.in_flight.extend(in_flight);
    whole.cpu_percent.extend(cpu_percent);
    whole.dropped.extend(dropped);
    whole.p50.extend(p50);
    whole.p95.extend(p95);
    whole.p99.extend(p99);
    whole.max.extend(max);
}

/// Appends `new`'s windows to `whole`'s, keeping every endpoint's values aligned to all
/// windows: an endpoint new in `new` gets `null` for the earlier windows, one absent from
/// `new` gets `null` for the new ones.
fn append_windows(whole: &mut Windows, new: Windows) {
    let before = whole.start.len();
    let added = new.start.len();
    if added == 0 {
        return;
    }
    if whole.quantiles.is_empty() {
        whole.quantiles = new.quantiles.clone();
    }
    let quantiles = whole.quantiles.len().max(new.aggregate.len());
    whole.start.extend(new.start);
    whole.t.extend(new.t);
    whole.requests.extend(new.requests);
    whole
        .aggregate
        .resize_with(quantiles, || vec![None; before]);
    for (q, values) in new.aggregate.into_iter().enumerate() {
        whole.aggregate[q].extend(values);
    }
    let nulls = |n: usize| vec![vec![None; n]; quantiles];
    let mut seen = vec![false; whole.endpoints.len()];
    for e in new.endpoints {
        let at = match whole.endpoints.binary_search_by_key(&e.i, |w| w.i) {
            Ok(at) => at,
            Err(at) => {
                whole.endpoints.insert(
                    at,
                    view::EndpointWindows {
                        i: e.i,
                        values: nulls(before),
                    },
                );
                seen.insert(at, false);
                at
            }
        };
        seen[at] = true;
        let values = &mut whole.endpoints[at].values;
        values.resize_with(quantiles, || vec![None; before]);
        for (q, v) in e.values.into_iter().enumerate() {
            values[q].extend(v);
        }
    }
    for (e, seen) in whole.endpoints.iter_mut().zip(seen) {
        if !seen {
            for q in &mut e.values {
                q.resize(before + added, None);
            }
        }
    }
}

#[cfg(test)]
mod tests;
