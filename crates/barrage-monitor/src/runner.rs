//! The runner behind [`crate::Monitor`]: one thread per source, sampling on the run's clock,
//! and the shared tables the session reads.
//!
//! Each source's thread owns the source and samples it at every multiple of the interval
//! since the run's start (row `t` is the moment the sample began), so rows of different
//! sources line up with each other and with the run's seconds. A sample that overruns
//! skips to the next boundary instead of drifting. The thread appends to a table behind a
//! mutex that only it writes and the session reads once a second (`tick`): the lock is held
//! for a push or a copy of the new rows, never while a source is read.
//!
//! A source's state changes (unreachable at the start, lost mid-run, back again) become
//! events, one per change, for the run's timeline; what a source says while it stays down
//! is kept in `lost` and not repeated. A source's own notes ([`Source::notes`]) become
//! events as they come.
//!
//! At the stop, the last sample is taken only if half an interval passed since the one
//! before: a rate or a maximum over a few ms says nothing (one CPU tick reads as 200 %).

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use barrage_metrics::{
    Column, Row, ServerEvent, ServerLive, ServerSection, SourceKind, SourceLive, SourceSeries,
};

use crate::postgres::PostgresSource;
use crate::probe::{self, ProbeHandle};
use crate::process::ProcessSource;
use crate::prometheus::PrometheusSource;
use crate::source::without_password;
use crate::stats::{self, SourceFigures};
use crate::{MonitorConfig, Source, SourceError};

/// How long `finish` waits for the sources' last samples: a source slower than this is left
/// behind (and said so in its `lost`), so a hung scrape never holds up the run's result.
const LAST_SAMPLE_BOUND: Duration = Duration::from_secs(2);

pub struct Runner {
    interval: Duration,
    sources: Vec<Watched>,
    probe: Option<ProbeHandle>,
    run_start: Instant,
}

/// One source's thread and table.
struct Watched {
    table: Arc<Mutex<Table>>,
    stop: mpsc::Sender<()>,
    done: mpsc::Receiver<()>,
    thread: JoinHandle<()>,
}

/// What a source's thread has measured, read by the session.
struct Table {
    series: SourceSeries,
    figures: SourceFigures,
    /// Rows already handed out by `tick`.
    handed_out: usize,
    /// Events since the last `tick`.
    events: Vec<ServerEvent>,
    /// When the sample under way began (a scrape, a query), while it is under way.
    sampling_since: Option<Instant>,
    /// `tick` said the source stopped answering (a sample hung past [`HUNG_INTERVALS`]).
    hung: bool,
}

/// A sample still under way after this many intervals means the source stopped answering
/// (a frozen server whose kernel still acknowledges): lost on the timeline, though the
/// sampling thread is still waiting.
const HUNG_INTERVALS: u32 = 3;

fn lock(table: &Mutex<Table>) -> MutexGuard<'_, Table> {
    // A sampling thread that panicked left the table as of its last whole push: still the
    // best account of the source there is.
    table
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An event's words with control characters as spaces: they quote what a server said (a
/// PostgreSQL error, a scraped value), and go to the terminal as they are.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl Runner {
    pub fn start(config: MonitorConfig, run_start: Instant) -> Runner {
        let interval = config.interval.max(Duration::from_millis(10));
        let mut sources: Vec<Box<dyn Source>> = Vec::new();
        if !config.pids.is_empty() || !config.ports.is_empty() {
            sources.push(Box::new(ProcessSource::new(
                &config.pids,
                &config.ports,
                interval,
            )));
        }
        for url in &config.prometheus {
            sources.push(match PrometheusSource::new(url, &config.series) {
                Ok(source) => Box::new(source),
                Err(e) => Box::new(Unbuilt::new(SourceKind::Prometheus, url, e)),
            });
        }
        for url in &config.postgres {
            sources.push(match PostgresSource::new(url) {
                Ok(source) => Box::new(source),
                Err(e) => Box::new(Unbuilt::new(SourceKind::Postgres, url, e)),
            });
        }
        let mut probe = None;
        if let Some(probe_config) = &config.probe {
            let (source, handle) = probe::start(probe_config, run_start, interval);
            sources.push(Box::new(source));
            probe = Some(handle);
        }
        let mut names: Vec<String> = Vec::new();
        let sources = sources
            .into_iter()
            .enumerate()
            .map(|(i, source)| {
                // Views tell sources apart by name (two exporters' URLs differing only in
                // their query read alike): a repeated name gets its position.
                let mut name = source.name();
                if names.contains(&name) {
                    name = format!("{name} #{}", i + 1);
                }
                names.push(name.clone());
                Watched::spawn(i, source, name, run_start, interval)
            })
            .collect();
        Runner {
            interval,
            sources,
            probe,
            run_start,
        }
    }

    pub fn tick(&mut self) -> ServerLive {
        let mut sources = Vec::with_capacity(self.sources.len());
        let mut figures = Vec::with_capacity(self.sources.len());
        let mut events = Vec::new();
        let hung_after = self.interval * HUNG_INTERVALS;
        for watched in &self.sources {
            let mut table = lock(&watched.table);
            let table = &mut *table;
            if let Some(since) = table.sampling_since {
                if !table.hung && since.elapsed() > hung_after {
                    table.hung = true;
                    let why = format!("no answer for {:.1} s", since.elapsed().as_secs_f64());
                    table.events.push(ServerEvent {
                        at_s: since
                            .saturating_duration_since(self.run_start)
                            .as_secs_f64(),
                        what: printable(&format!(
                            "{}: lost ({why}); the run goes on",
                            table.series.name
                        )),
                    });
                    table.series.lost = Some(why);
                }
            }
            let rows = table.series.rows[table.handed_out..].to_vec();
            table.handed_out = table.series.rows.len();
            events.append(&mut table.events);
            figures.push(table.figures.clone());
            sources.push(SourceLive {
                kind: table.series.kind,
                name: table.series.name.clone(),
                columns: table.series.columns.clone(),
                last: table.series.rows.last().cloned(),
                rows,
                lost: table.series.lost.clone(),
            });
        }
        events.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
        let probe = self.probe.as_ref().map(|p| p.summary());
        let stats = stats::with_probe(stats::merge(&figures), probe.as_ref());
        ServerLive {
            sources,
            probe,
            stats,
            events,
        }
    }

    pub fn so_far(&self) -> ServerSection {
        let mut series = Vec::with_capacity(self.sources.len());
        let mut figures = Vec::with_capacity(self.sources.len());
        for watched in &self.sources {
            let table = lock(&watched.table);
            series.push(table.series.clone());
            figures.push(table.figures.clone());
        }
        let probe = self.probe.as_ref().map(|p| p.summary());
        ServerSection {
            interval_s: self.interval.as_secs_f64(),
            sources: series,
            stats: stats::with_probe(stats::merge(&figures), probe.as_ref()),
            probe,
            hints: Vec::new(),
        }
    }

    pub fn finish(self) -> ServerSection {
        for watched in &self.sources {
            // A thread that already ended has dropped its receiver; nothing to stop then.
            let _ = watched.stop.send(());
        }
        let deadline = Instant::now() + LAST_SAMPLE_BOUND;
        let mut series = Vec::with_capacity(self.sources.len());
        let mut figures = Vec::with_capacity(self.sources.len());
        for watched in self.sources {
            let wait = deadline.saturating_duration_since(Instant::now());
            let finished = !matches!(
                watched.done.recv_timeout(wait),
                Err(RecvTimeoutError::Timeout)
            );
            if finished {
                // Ended (or panicked, which its table already shows): joining is immediate.
                let _ = watched.thread.join();
            }
            let mut table = lock(&watched.table);
            if !finished && table.series.lost.is_none() {
                table.series.lost = Some(format!(
                    "no last sample: the source took longer than {} s to answer, and was left",
                    LAST_SAMPLE_BOUND.as_secs()
                ));
            }
            series.push(std::mem::take(&mut table.series));
            figures.push(table.figures.clone());
        }
        // After the threads: the probe's summary includes everything it measured.
        let probe = self.probe.as_ref().map(|p| p.summary());
        ServerSection {
            interval_s: self.interval.as_secs_f64(),
            sources: series,
            stats: stats::with_probe(stats::merge(&figures), probe.as_ref()),
            probe,
            hints: Vec::new(),
        }
    }
}

impl Watched {
    fn spawn(
        i: usize,
        source: Box<dyn Source>,
        name: String,
        run_start: Instant,
        interval: Duration,
    ) -> Watched {
        let table = Arc::new(Mutex::new(Table {
            series: SourceSeries {
                kind: Some(source.kind()),
                name,
                target: source.target(),
                ..SourceSeries::default()
            },
            figures: SourceFigures::default(),
            handed_out: 0,
            events: Vec::new(),
            sampling_since: None,
            hung: false,
        }));
        let (stop, stop_rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let sampler = Sampler {
            source,
            table: Arc::clone(&table),
            run_start,
            interval,
            state: State::NotOpen { said: false },
            last_sample: None,
        };
        let thread = thread::Builder::new()
            .name(format!("barrage-monitor-{i}"))
            .spawn(move || {
                sampler.run(stop_rx);
                let _ = done_tx.send(());
            })
            .expect("the system can start a thread for a monitored source");
        Watched {
            table,
            stop,
            done,
            thread,
        }
    }
}

/// Where a source stands, for saying each change once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// `open` has not worked yet; `said` once the unreachable event is out.
    NotOpen {
        said: bool,
    },
    Up,
    Lost,
}

struct Sampler {
    source: Box<dyn Source>,
    table: Arc<Mutex<Table>>,
    run_start: Instant,
    interval: Duration,
    state: State,
    /// When the last `sample` began.
    last_sample: Option<Instant>,
}

impl Sampler {
    fn run(mut self, stop: mpsc::Receiver<()>) {
        loop {
            self.step(true);
            let elapsed = self.run_start.elapsed();
            let next = (elapsed.as_nanos() / self.interval.as_nanos() + 1) as u32;
            let due = self.run_start + self.interval * next;
            match stop.recv_timeout(due.saturating_duration_since(Instant::now())) {
                Err(RecvTimeoutError::Timeout) => continue,
                // Told to stop, or the monitor is gone: the last sample, then the source's
                // own account.
                Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.last_step();
        let mut table = lock(&self.table);
        self.source.finish(&mut table.series);
        drop(table);
        self.say_notes(self.run_start.elapsed().as_secs_f64());
    }

    /// The sample at the stop, unless the last one was less than half an interval ago: a
    /// rate over a few ms is one CPU tick read as hundreds of percent, and a maximum over
    /// a few ms says nothing. A source never sampled yet is sampled whatever the gap.
    fn last_step(&mut self) {
        if matches!(self.state, State::NotOpen { .. }) {
            return;
        }
        let recent = self
            .last_sample
            .is_some_and(|at| at.elapsed() < self.interval / 2);
        if !recent {
            // For the charts only: taken after the load ended, it would make `last(...)`
            // and `min(...)` judge an idle server.
            self.step(false);
        }
    }

    /// One interval's work: open if not yet open, else one sample; `feeds_figures` says
    /// whether the sample counts for thresholds (not the one at the stop).
    fn step(&mut self, feeds_figures: bool) {
        let at_s = self.run_start.elapsed().as_secs_f64();
        if let State::NotOpen { said } = self.state {
            match self.source.open() {
                Ok(()) => {
                    if said {
                        self.say(at_s, "reachable now".to_owned(), None);
                    }
                    self.say_notes(at_s);
                    self.state = State::Up;
                }
                Err(e) => {
                    let what = format!(
                        "unreachable ({e}); trying again every {}, the run goes on",
                        seconds(self.interval)
                    );
                    if !said {
                        self.say(at_s, what, Some(e));
                    } else {
                        lock(&self.table).series.lost = Some(e.to_string());
                    }
                    self.state = State::NotOpen { said: true };
                    return;
                }
            }
        }
        self.last_sample = Some(Instant::now());
        lock(&self.table).sampling_since = self.last_sample;
        let sampled = self.source.sample();
        {
            let mut table = lock(&self.table);
            table.sampling_since = None;
            if std::mem::take(&mut table.hung) {
                // `tick` said it was lost: its answer now is news.
                self.state = State::Lost;
            }
        }
        self.say_notes(at_s);
        match sampled {
            Ok(values) => {
                let columns = self.source.columns();
                let mut table = lock(&self.table);
                if table.series.columns.len() != columns.len() {
                    table.series.columns = columns.to_vec();
                }
                if feeds_figures {
                    table.figures.add_row(columns, &values);
                }
                table.series.rows.push(Row { t: at_s, values });
                drop(table);
                if self.state == State::Lost {
                    self.say(at_s, "back; sampling again".to_owned(), None);
                }
                lock(&self.table).series.lost = None;
                self.state = State::Up;
            }
            Err(e) => {
                if self.state == State::Up {
                    self.say(at_s, format!("lost ({e}); the run goes on"), Some(e));
                } else {
                    lock(&self.table).series.lost = Some(e.to_string());
                }
                self.state = State::Lost;
            }
        }
    }

    /// The source's own news, as events that leave `lost` as it is.
    fn say_notes(&mut self, at_s: f64) {
        let notes = self.source.notes();
        if notes.is_empty() {
            return;
        }
        let mut table = lock(&self.table);
        for note in notes {
            let what = printable(&format!("{}: {note}", table.series.name));
            table.events.push(ServerEvent { at_s, what });
        }
    }

    fn say(&self, at_s: f64, what: String, lost: Option<SourceError>) {
        let mut table = lock(&self.table);
        let what = printable(&format!("{}: {what}", table.series.name));
        table.events.push(ServerEvent { at_s, what });
        table.series.lost = lost.map(|e| e.to_string());
    }
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s} s")
    } else {
        format!("{s:.3} s")
    }
}

/// A source whose constructor refused its target (a URL it cannot use): reported as
/// unreachable like any other, so the run goes on and the result says why.
struct Unbuilt {
    kind: SourceKind,
    name: String,
    target: String,
    error: SourceError,
}

impl Unbuilt {
    fn new(kind: SourceKind, url: &str, error: SourceError) -> Unbuilt {
        let target = without_password(url);
        let kind_name = match kind {
            SourceKind::Process => "processes",
            SourceKind::Prometheus => "prometheus",
            SourceKind::Postgres => "postgres",
            SourceKind::Probe => "probe",
        };
        // For people: where, without the scheme or who logs in.
        let shown = match url::Url::parse(url) {
            Ok(parsed) => format!(
                "{}{}{}",
                parsed.host_str().unwrap_or_default(),
                parsed.port().map(|p| format!(":{p}")).unwrap_or_default(),
                parsed.path()
            ),
            Err(_) => target.clone(),
        };
        Unbuilt {
            kind,
            name: format!("{kind_name} {shown}"),
            target,
            error,
        }
    }
}

impl Source for Unbuilt {
    fn kind(&self) -> SourceKind {
        self.kind
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn target(&self) -> String {
        self.target.clone()
    }

    fn open(&mut self) -> Result<(), SourceError> {
        Err(self.error.clone())
    }

    fn columns(&self) -> &[Column] {
        &[]
    }

    fn sample(&mut self) -> Result<Vec<Option<f64>>, SourceError> {
        Err(self.error.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A source that is up, then down, then up again, on a script of sample outcomes.
    struct Scripted {
        opens: Vec<bool>,
        samples: Vec<bool>,
        columns: Vec<Column>,
        finished: Arc<AtomicU32>,
    }

    impl Source for Scripted {
        fn kind(&self) -> SourceKind {
            SourceKind::Prometheus
        }
        fn name(&self) -> String {
            "scripted".to_owned()
        }
        fn target(&self) -> String {
            "script".to_owned()
        }
        fn open(&mut self) -> Result<(), SourceError> {
            if self.opens.is_empty() || self.opens.remove(0) {
                Ok(())
            } else {
                Err(SourceError::new("refused"))
            }
        }
        fn columns(&self) -> &[Column] {
            &self.columns
        }
        fn sample(&mut self) -> Result<Vec<Option<f64>>, SourceError> {
            if self.samples.is_empty() || self.samples.remove(0) {
                Ok(vec![Some(5.0)])
            } else {
                Err(SourceError::new("gone"))
            }
        }
        fn finish(&mut self, _series: &mut SourceSeries) {
            self.finished.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn sampler(source: Scripted) -> Sampler {
        let table = Arc::new(Mutex::new(Table {
            series: SourceSeries {
                name: source.name(),
                ..SourceSeries::default()
            },
            figures: SourceFigures::default(),
            handed_out: 0,
            events: Vec::new(),
            sampling_since: None,
            hung: false,
        }));
        Sampler {
            source: Box::new(source),
            table,
            run_start: Instant::now(),
            interval: Duration::from_secs(1),
            state: State::NotOpen { said: false },
            last_sample: None,
        }
    }

    #[test]
    fn each_change_of_a_source_is_said_once_and_the_rows_are_the_samples_that_worked() {
        let column = Column {
            key: "cpu".to_owned(),
            label: "CPU".to_owned(),
            unit: "%".to_owned(),
            figure: Some("server_cpu".to_owned()),
        };
        let mut s = sampler(Scripted {
            opens: vec![false, false, true],
            samples: vec![true, false, false, true, true],
            columns: vec![column],
            finished: Arc::default(),
        });
        for _ in 0..7 {
            s.step(true);
        }
        let table = lock(&s.table);
        let said: Vec<&str> = table.events.iter().map(|e| e.what.as_str()).collect();
        assert_eq!(
            said,
            [
                "scripted: unreachable (refused); trying again every 1 s, the run goes on",
                "scripted: reachable now",
                "scripted: lost (gone); the run goes on",
                "scripted: back; sampling again",
            ]
        );
        assert_eq!(table.series.rows.len(), 3);
        assert_eq!(table.series.columns.len(), 1);
        assert_eq!(table.series.lost, None);
        let stats = stats::merge([&table.figures]);
        assert_eq!(stats.figure("server_cpu").unwrap().count, 3);
    }

    #[test]
    fn a_source_still_down_keeps_its_reason_in_lost() {
        let mut s = sampler(Scripted {
            opens: vec![],
            samples: vec![true, false, false],
            columns: Vec::new(),
            finished: Arc::default(),
        });
        for _ in 0..3 {
            s.step(true);
        }
        let table = lock(&s.table);
        assert_eq!(table.series.lost.as_deref(), Some("gone"));
        assert_eq!(table.events.len(), 1);
    }

    #[test]
    fn tick_hands_out_each_row_once_and_finish_calls_the_sources_finish() {
        let finished = Arc::new(AtomicU32::new(0));
        let source = Scripted {
            opens: vec![],
            samples: vec![],
            columns: vec![Column::default()],
            finished: Arc::clone(&finished),
        };
        let start = Instant::now();
        let interval = Duration::from_millis(50);
        let mut runner = Runner {
            interval,
            sources: vec![Watched::spawn(
                0,
                Box::new(source),
                "scripted".to_owned(),
                start,
                interval,
            )],
            probe: None,
            run_start: start,
        };
        thread::sleep(Duration::from_millis(180));
        let first = runner.tick();
        thread::sleep(Duration::from_millis(120));
        let second = runner.tick();
        let (a, b) = (&first.sources[0].rows, &second.sources[0].rows);
        assert!(!a.is_empty() && !b.is_empty(), "{a:?} {b:?}");
        assert!(
            a.last().unwrap().t < b[0].t,
            "the second tick starts after the first: {a:?} {b:?}"
        );
        // One sample per interval of the run's clock (a late wake-up on a busy machine
        // shifts a sample within its interval, never into the next one's).
        let slots: Vec<u64> = a
            .iter()
            .chain(b)
            .map(|row| (row.t / interval.as_secs_f64()) as u64)
            .collect();
        assert!(slots.windows(2).all(|w| w[0] < w[1]), "{slots:?}");
        let section = runner.finish();
        let rows = &section.sources[0].rows;
        // The last sample is taken only if half an interval passed since the one before.
        assert!(rows.len() >= a.len() + b.len(), "{rows:?}");
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        assert_eq!(section.interval_s, 0.05);
    }

    #[test]
    fn the_sample_at_the_stop_waits_for_half_an_interval_since_the_last() {
        let mut s = sampler(Scripted {
            opens: vec![],
            samples: vec![],
            columns: vec![Column::default()],
            finished: Arc::default(),
        });
        s.interval = Duration::from_millis(200);
        s.step(true);
        thread::sleep(Duration::from_millis(5));
        s.last_step();
        assert_eq!(lock(&s.table).series.rows.len(), 1, "5 ms after: skipped");
        thread::sleep(Duration::from_millis(100));
        s.last_step();
        assert_eq!(
            lock(&s.table).series.rows.len(),
            2,
            "half an interval after: taken"
        );
        // Never sampled yet (opened just now): the stop's sample is the only one.
        let mut fresh = sampler(Scripted {
            opens: vec![],
            samples: vec![],
            columns: vec![Column::default()],
            finished: Arc::default(),
        });
        fresh.state = State::Up;
        fresh.last_step();
        assert_eq!(lock(&fresh.table).series.rows.len(), 1);
    }

    /// A source with news that is neither lost nor back.
    struct Noting(Vec<String>);

    impl Source for Noting {
        fn kind(&self) -> SourceKind {
            SourceKind::Process
        }
        fn name(&self) -> String {
            "noting".to_owned()
        }
        fn target(&self) -> String {
            String::new()
        }
        fn open(&mut self) -> Result<(), SourceError> {
            self.0.push("port 2 not found yet".to_owned());
            Ok(())
        }
        fn columns(&self) -> &[Column] {
            &[]
        }
        fn sample(&mut self) -> Result<Vec<Option<f64>>, SourceError> {
            Ok(Vec::new())
        }
        fn notes(&mut self) -> Vec<String> {
            std::mem::take(&mut self.0)
        }
    }

    #[test]
    fn a_sources_notes_are_events_and_leave_lost_alone() {
        let mut s = sampler(Scripted {
            opens: vec![],
            samples: vec![],
            columns: Vec::new(),
            finished: Arc::default(),
        });
        s.source = Box::new(Noting(Vec::new()));
        s.step(true);
        s.step(true);
        let table = lock(&s.table);
        let said: Vec<&str> = table.events.iter().map(|e| e.what.as_str()).collect();
        assert_eq!(said, ["scripted: port 2 not found yet"]);
        assert_eq!(table.series.lost, None);
        assert_eq!(table.series.rows.len(), 2);
    }

    #[test]
    fn a_target_refused_by_its_constructor_is_named_without_its_password() {
        let u = Unbuilt::new(
            SourceKind::Postgres,
            "postgres://app:secret@127.0.0.1:5432/app",
            SourceError::new("bad"),
        );
        assert_eq!(u.name, "postgres 127.0.0.1:5432/app");
        assert!(!u.target.contains("secret"));
    }

    /// Answers its first sample, then hangs in the second for `hang`.
    struct Hanging {
        hang: Duration,
        samples: u32,
    }

    impl Source for Hanging {
        fn kind(&self) -> SourceKind {
            SourceKind::Postgres
        }
        fn name(&self) -> String {
            "hanging".to_owned()
        }
        fn target(&self) -> String {
            String::new()
        }
        fn open(&mut self) -> Result<(), SourceError> {
            Ok(())
        }
        fn columns(&self) -> &[Column] {
            &[]
        }
        fn sample(&mut self) -> Result<Vec<Option<f64>>, SourceError> {
            self.samples += 1;
            if self.samples == 2 {
                thread::sleep(self.hang);
            }
            Ok(Vec::new())
        }
    }

    #[test]
    fn a_sample_that_hangs_is_lost_on_the_timeline_and_back_when_it_answers() {
        let start = Instant::now();
        let interval = Duration::from_millis(50);
        let source = Hanging {
            hang: Duration::from_millis(600),
            samples: 0,
        };
        let mut runner = Runner {
            interval,
            sources: vec![Watched::spawn(
                0,
                Box::new(source),
                "hanging".to_owned(),
                start,
                interval,
            )],
            probe: None,
            run_start: start,
        };
        // The second sample starts at about 50 ms and hangs until about 650 ms: lost once
        // it is three intervals overdue, back after it answers.
        let mut said = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && said.len() < 2 {
            thread::sleep(Duration::from_millis(20));
            let news = runner.tick();
            said.extend(news.events.into_iter().map(|e| e.what));
        }
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(
            said[0].starts_with("hanging: lost (no answer for "),
            "{said:?}"
        );
        assert_eq!(said[1], "hanging: back; sampling again", "{said:?}");
        drop(runner.finish());
    }
}
