//! The stall probe: a light GET at a fixed rate on one keep-alive connection of its own,
//! each timed from its *scheduled* start, outside the run's statistics.
//!
//! Timing from the schedule is the point. A probe due while the service is frozen waits
//! behind the freeze (the connection is one, the probes go one after another), so its time
//! reads the freeze: a 1 s stop reads as about 1 s, whatever the load's own users saw (a
//! closed-model user waits with the server and sends nothing, so its percentiles hide the
//! stop: coordinated omission). A thread of its own sends the probes (never an engine
//! worker, never the source's sampling thread, which must stay free to report a probe that
//! is still waiting).
//!
//! The service is lost (an event on the timeline) when every probe finished in an interval
//! failed, or none finished and the one waiting is more than two intervals overdue. The
//! prober also measures its own lateness (woken after a probe was due although the one
//! before had finished), so a stall can be told from barrage's own scheduling delay.
//!
//! Stalled time is exact and kept in constant memory: probes finish in schedule order, so
//! every probe's interval `[scheduled + bound, finished]` starts no earlier than the one
//! before, and the union's measure is a running sum plus one open stretch per bound.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use barrage_metrics::{Column, ProbeSummary, SourceKind, SourceSeries, StallMoment};

use crate::{ProbeConfig, Source, SourceError};

/// A probe that has not finished within this is failed (and the probes due meanwhile with
/// it): the wait until then still counts as stalled time.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// The bounds of `stalled_over_{50,100,500}ms_s`, in seconds.
const BOUNDS_S: [f64; 3] = [0.050, 0.100, 0.500];
/// The bound (an index of [`BOUNDS_S`]) over which a stretch is a stall in `stalls`.
const STALL_BOUND: usize = 1;
/// At most this many stalls are kept (the longest).
const MAX_STALLS: usize = 100;
/// How long `open` waits for the first probe's outcome.
const FIRST_OUTCOME_WAIT: Duration = Duration::from_secs(1);

/// The rate used when the one given cannot be scheduled (`MonitorConfig::validate` refuses
/// it before a run; this keeps a library caller that skipped it from a panic).
const FALLBACK_RATE: f64 = 10.0;

/// Starts the prober thread (probe 0 is due at `run_start`) and returns the source the
/// runner samples every `interval` and the handle it reads the summary from.
pub fn start(
    config: &ProbeConfig,
    run_start: Instant,
    interval: Duration,
) -> (ProbeSource, ProbeHandle) {
    let rate = if crate::probe_rate_ok(config.rate) {
        config.rate
    } else {
        FALLBACK_RATE
    };
    let shared = Arc::new(Shared {
        record: Mutex::new(Record::default()),
        stop: AtomicBool::new(false),
        target: format!("GET {}", config.url),
        rate,
    });
    let prober = Prober {
        agent: agent(config.insecure),
        url: config.url.clone(),
        period: 1.0 / rate,
        run_start,
        shared: Arc::clone(&shared),
    };
    let thread = thread::Builder::new()
        .name("barrage-monitor-probe".to_owned())
        .spawn(move || prober.run())
        .expect("the system can start the stall probe's thread");
    let path = url::Url::parse(&config.url)
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|_| config.url.clone());
    let source = ProbeSource {
        shared: Arc::clone(&shared),
        thread: Some(thread),
        run_start,
        interval,
        name: format!("probe GET {path}"),
        url: config.url.clone(),
        columns: vec![
            column(
                "max_ms",
                "longest wait from schedule",
                "ms",
                Some("probe_max_stall"),
            ),
            column("answered", "answered in the interval", "count", None),
            column("failed", "failed so far", "count", Some("probe_failures")),
        ],
    };
    (source, ProbeHandle { shared, run_start })
}

fn column(key: &str, label: &str, unit: &str, figure: Option<&str>) -> Column {
    Column {
        key: key.to_owned(),
        label: label.to_owned(),
        unit: unit.to_owned(),
        figure: figure.map(str::to_owned),
    }
}

/// One connection at most, kept alive; no proxy from the environment (the load does not
/// use one either); statuses come back as values, so a 503 is a failed probe, not an error
/// of the client.
fn agent(insecure: bool) -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_idle_connections(1)
        .max_idle_connections_per_host(1)
        .http_status_as_error(false)
        .timeout_global(Some(PROBE_TIMEOUT))
        .proxy(None)
        .user_agent("barrage-probe")
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .disable_verification(insecure)
                .build(),
        )
        .build()
        .into()
}

struct Shared {
    record: Mutex<Record>,
    stop: AtomicBool,
    target: String,
    rate: f64,
}

impl Shared {
    fn record(&self) -> MutexGuard<'_, Record> {
        // The prober only pushes whole probes; a panic mid-way leaves a usable record.
        self.record.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Everything the probes showed, in constant space.
#[derive(Debug, Default)]
struct Record {
    sent: u64,
    answered: u64,
    failed: u64,
    /// The scheduled start of the probe being waited for, seconds since the run's start.
    waiting_since: Option<f64>,
    /// The last finished probe's failure, if it failed (`open` reads it).
    last_failure: Option<Option<String>>,
    longest: StallMoment,
    unions: [Union; 3],
    /// The stall being measured (the open stretch of the 100 ms union): its longest probe.
    current_stall: Option<StallMoment>,
    stalls: Vec<StallMoment>,
    /// Since the last sample: the longest wait of a finished probe, the answered count,
    /// and the failed count.
    interval_max_ms: Option<f64>,
    interval_answered: u64,
    interval_failed: u64,
    /// The first failure since the last sample (those after it are often only queued
    /// behind it).
    interval_failure: Option<String>,
    /// The longest the prober sent late on its own account, in seconds (see
    /// [`ProbeSummary::max_send_delay_ms`]).
    max_send_delay_s: f64,
}

impl Record {
    /// A probe scheduled at `scheduled` finished at `finished` (seconds since the run's
    /// start); `failure` says why it failed, if it did.
    fn finish(&mut self, scheduled: f64, finished: f64, failure: Option<String>) {
        let wait_ms = (finished - scheduled).max(0.0) * 1000.0;
        if failure.is_none() {
            self.answered += 1;
            self.interval_answered += 1;
        } else {
            self.failed += 1;
            self.interval_failed += 1;
            if self.interval_failure.is_none() {
                self.interval_failure.clone_from(&failure);
            }
        }
        self.last_failure = Some(failure);
        self.waiting_since = None;
        if wait_ms > self.longest.ms {
            self.longest = StallMoment {
                at_s: scheduled,
                ms: wait_ms,
            };
        }
        self.interval_max_ms = Some(self.interval_max_ms.unwrap_or(0.0).max(wait_ms));
        for (union, bound) in self.unions.iter_mut().zip(BOUNDS_S) {
            let stretch = union.add(scheduled + bound, finished);
            if bound == BOUNDS_S[STALL_BOUND] {
                let moment = StallMoment {
                    at_s: scheduled,
                    ms: wait_ms,
                };
                match stretch {
                    Stretch::None => {}
                    Stretch::Extended => {
                        if let Some(stall) = &mut self.current_stall {
                            if moment.ms > stall.ms {
                                *stall = moment;
                            }
                        }
                    }
                    Stretch::Started => {
                        if let Some(done) = self.current_stall.replace(moment) {
                            keep_stall(&mut self.stalls, done);
                        }
                    }
                }
            }
        }
    }

    /// The summary as of `now_s`: a probe still waiting counts with its wait so far.
    fn summary(&self, shared: &Shared, now_s: f64) -> ProbeSummary {
        let waiting = self.waiting_since.map(|s| (s, now_s.max(s)));
        let mut longest = self.longest.clone();
        if let Some((s, now)) = waiting {
            if (now - s) * 1000.0 > longest.ms {
                longest = StallMoment {
                    at_s: s,
                    ms: (now - s) * 1000.0,
                };
            }
        }
        let over: Vec<f64> = self
            .unions
            .iter()
            .zip(BOUNDS_S)
            .map(|(u, bound)| u.measure(waiting.map(|(s, now)| (s + bound, now))))
            .collect();
        let mut stalls = self.stalls.clone();
        if let Some(current) = &self.current_stall {
            keep_stall(&mut stalls, current.clone());
        }
        stalls.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
        ProbeSummary {
            target: shared.target.clone(),
            rate: shared.rate,
            sent: self.sent,
            answered: self.answered,
            failed: self.failed,
            longest_stall_ms: longest.ms,
            longest_stall_at_s: longest.at_s,
            stalled_over_50ms_s: over[0],
            stalled_over_100ms_s: over[1],
            stalled_over_500ms_s: over[2],
            stalls,
            max_send_delay_ms: self.max_send_delay_s * 1000.0,
        }
    }
}

/// Keeps the [`MAX_STALLS`] longest.
fn keep_stall(stalls: &mut Vec<StallMoment>, stall: StallMoment) {
    stalls.push(stall);
    if stalls.len() > MAX_STALLS {
        let shortest = stalls
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.ms.total_cmp(&b.1.ms))
            .map(|(i, _)| i)
            .expect("more than MAX_STALLS stalls were just counted");
        stalls.remove(shortest);
    }
}

/// The measure of a union of intervals added in order of their starts.
#[derive(Clone, Debug, Default, PartialEq)]
struct Union {
    closed: f64,
    open: Option<(f64, f64)>,
}

/// What adding an interval did to a [`Union`].
#[derive(Debug, PartialEq)]
enum Stretch {
    /// The interval was empty.
    None,
    /// It overlapped the open stretch.
    Extended,
    /// It began a new stretch.
    Started,
}

impl Union {
    /// Adds `[start, end]`; `start` is no earlier than any start added before.
    fn add(&mut self, start: f64, end: f64) -> Stretch {
        if end <= start {
            return Stretch::None;
        }
        match &mut self.open {
            Some((_, open_end)) if start <= *open_end => {
                *open_end = open_end.max(end);
                Stretch::Extended
            }
            open => {
                if let Some((s, e)) = open.replace((start, end)) {
                    self.closed += e - s;
                }
                Stretch::Started
            }
        }
    }

    /// The measure, with `extra` (an interval starting no earlier than every other) added
    /// for the reading only.
    fn measure(&self, extra: Option<(f64, f64)>) -> f64 {
        let mut copy = self.clone();
        if let Some((start, end)) = extra {
            copy.add(start, end);
        }
        copy.closed + copy.open.map_or(0.0, |(s, e)| e - s)
    }
}

/// What the runner reads the probe's summary from.
pub struct ProbeHandle {
    shared: Arc<Shared>,
    run_start: Instant,
}

impl ProbeHandle {
    pub fn summary(&self) -> ProbeSummary {
        let now_s = self.run_start.elapsed().as_secs_f64();
        self.shared.record().summary(&self.shared, now_s)
    }
}

/// The thread that sends the probes.
struct Prober {
    agent: ureq::Agent,
    url: String,
    period: f64,
    run_start: Instant,
    shared: Arc<Shared>,
}

impl Prober {
    fn run(self) {
        let mut next: u64 = 0;
        // When the last probe finished: a probe sent late after it was due is late on the
        // server's account; one due after it is late on ours (the thread woke late).
        let mut last_finished = 0.0_f64;
        while !self.shared.stop.load(Ordering::Acquire) {
            let scheduled = next as f64 * self.period;
            let due = self.run_start + Duration::from_secs_f64(scheduled);
            let now = Instant::now();
            if due > now {
                // Woken early by `finish` (or spuriously): the loop checks again.
                thread::park_timeout(due - now);
                continue;
            }
            {
                let sent_at = self.run_start.elapsed().as_secs_f64();
                let mut record = self.shared.record();
                record.sent += 1;
                record.waiting_since = Some(scheduled);
                if let Some(late) = own_send_delay(last_finished, scheduled, sent_at) {
                    record.max_send_delay_s = record.max_send_delay_s.max(late);
                }
            }
            let failure = self.probe().err();
            let finished = self.run_start.elapsed().as_secs_f64();
            last_finished = finished;
            let failed = failure.is_some();
            let mut record = self.shared.record();
            record.finish(scheduled, finished, failure);
            next += 1;
            if failed {
                // The probes due while this one failed would have queued behind it on the
                // one connection: they waited as long, and are counted failed with it,
                // rather than sent late one by one behind a server that does not answer.
                loop {
                    let scheduled = next as f64 * self.period;
                    if scheduled >= finished {
                        break;
                    }
                    record.sent += 1;
                    record.finish(
                        scheduled,
                        finished,
                        Some("queued behind a failed probe".to_owned()),
                    );
                    next += 1;
                }
            }
        }
    }

    /// One GET, read to its end so the connection is kept for the next.
    fn probe(&self) -> Result<(), String> {
        let mut response = self
            .agent
            .get(&self.url)
            .call()
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| format!("reading the answer: {e}"))?;
        if status >= 400 {
            return Err(format!("HTTP {status}"));
        }
        Ok(())
    }
}

/// How late a probe was sent on the prober's own account (seconds): only when the probe
/// before it had finished by its scheduled start, else the wait was for the server.
fn own_send_delay(last_finished: f64, scheduled: f64, sent_at: f64) -> Option<f64> {
    (last_finished <= scheduled).then(|| (sent_at - scheduled).max(0.0))
}

/// The probe as a source: a row per interval with the longest wait, answered and failed.
pub struct ProbeSource {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    run_start: Instant,
    /// The runner's sampling interval.
    interval: Duration,
    name: String,
    url: String,
    columns: Vec<Column>,
}

impl Source for ProbeSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Probe
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn target(&self) -> String {
        self.url.clone()
    }

    /// Reachable once a probe was answered; the first time, waits a moment for the first
    /// probe (due at the run's start) to finish. A probe still waiting is not a failure: a
    /// stalled service is reachable, and the stall is what the probe is for.
    fn open(&mut self) -> Result<(), SourceError> {
        let waited = Instant::now();
        loop {
            let last = self.shared.record().last_failure.clone();
            match last {
                Some(None) => return Ok(()),
                Some(Some(failure)) => return Err(SourceError::new(failure)),
                None if waited.elapsed() >= FIRST_OUTCOME_WAIT => return Ok(()),
                None => thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// `Err` (lost) when the service stopped answering: every probe that finished since
    /// the last sample failed, or none finished and the one waiting is overdue by more
    /// than two intervals. The interval's figures then wait for the next row, so a long
    /// wait still shows in `max_ms` once the service is back.
    fn sample(&mut self) -> Result<Vec<Option<f64>>, SourceError> {
        let now_s = self.run_start.elapsed().as_secs_f64();
        let mut record = self.shared.record();
        let waiting_s = record.waiting_since.map(|s| (now_s - s).max(0.0));
        if let Some(why) = lost(&record, waiting_s, self.interval) {
            return Err(SourceError::new(why));
        }
        record.interval_failed = 0;
        record.interval_failure = None;
        let waiting_ms = waiting_s.map(|s| s * 1000.0);
        let max_ms = match (record.interval_max_ms.take(), waiting_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let answered = std::mem::take(&mut record.interval_answered);
        Ok(vec![
            max_ms,
            Some(answered as f64),
            Some(record.failed as f64),
        ])
    }

    /// Stops the prober; a probe still waiting is left to time out on its own thread, and
    /// counts in the summary with its wait so far.
    fn finish(&mut self, _series: &mut SourceSeries) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let asked = Instant::now();
            while !thread.is_finished() && asked.elapsed() < Duration::from_millis(500) {
                thread::sleep(Duration::from_millis(5));
            }
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
    }
}

/// Why the service counts as lost at this sample, if it does (see [`ProbeSource::sample`]).
fn lost(record: &Record, waiting_s: Option<f64>, interval: Duration) -> Option<String> {
    if record.interval_answered > 0 {
        return None;
    }
    if record.interval_failed > 0 {
        let why = record.interval_failure.as_deref().unwrap_or("failed");
        return Some(format!("every probe failed since the last sample: {why}"));
    }
    let overdue = 2.0 * interval.as_secs_f64();
    match waiting_s {
        Some(waiting) if waiting > overdue => Some(format!(
            "no answer for {waiting:.1} s to the probe still waiting"
        )),
        _ => None,
    }
}

impl Drop for ProbeSource {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(thread) = &self.thread {
            thread.thread().unpark();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Shared {
        Shared {
            record: Mutex::default(),
            stop: AtomicBool::new(false),
            target: "GET http://127.0.0.1:1/health".to_owned(),
            rate: 10.0,
        }
    }

    /// Probes every 100 ms answered in 2 ms, except during a freeze from 1.0 s to 2.0 s
    /// (every probe due then is answered at 2.0 s).
    fn frozen_second() -> Record {
        let mut r = Record::default();
        let mut done = 0.0_f64;
        for i in 0..40 {
            let scheduled = i as f64 * 0.1;
            done = if (1.0..2.0).contains(&scheduled) {
                2.0
            } else {
                scheduled.max(done) + 0.002
            };
            r.sent += 1;
            r.finish(scheduled, done, None);
        }
        r
    }

    #[test]
    fn a_frozen_second_reads_as_a_second_from_the_schedule() {
        let s = shared();
        let summary = frozen_second().summary(&s, 4.0);
        assert_eq!(
            (summary.sent, summary.answered, summary.failed),
            (40, 40, 0)
        );
        assert!((summary.longest_stall_ms - 1000.0).abs() < 1e-6);
        assert!((summary.longest_stall_at_s - 1.0).abs() < 1e-9);
        // Waiting longer than the bound: from 1.0 + bound to 2.0.
        assert!((summary.stalled_over_50ms_s - 0.95).abs() < 1e-9);
        assert!((summary.stalled_over_100ms_s - 0.9).abs() < 1e-9);
        assert!((summary.stalled_over_500ms_s - 0.5).abs() < 1e-9);
        assert_eq!(
            summary.stalls,
            [StallMoment {
                at_s: 1.0,
                ms: 1000.0
            }]
        );
    }

    #[test]
    fn stalled_time_is_the_union_of_the_waits_over_the_bound() {
        let mut u = Union::default();
        assert_eq!(u.add(0.0, 1.0), Stretch::Started);
        assert_eq!(u.add(0.5, 1.5), Stretch::Extended);
        assert_eq!(u.add(1.2, 1.3), Stretch::Extended);
        assert_eq!(u.add(2.0, 1.9), Stretch::None);
        assert_eq!(u.add(3.0, 3.25), Stretch::Started);
        assert!((u.measure(None) - 1.75).abs() < 1e-12);
        // A probe still waiting counts for the reading, not for good.
        assert!((u.measure(Some((3.5, 4.0))) - 2.25).abs() < 1e-12);
        assert!((u.measure(None) - 1.75).abs() < 1e-12);
    }

    #[test]
    fn a_probe_still_waiting_counts_with_its_wait_so_far() {
        let s = shared();
        let mut r = Record {
            sent: 2,
            ..Record::default()
        };
        r.finish(0.0, 0.001, None);
        r.waiting_since = Some(0.1);
        let summary = r.summary(&s, 0.9);
        assert!((summary.longest_stall_ms - 800.0).abs() < 1e-6);
        assert!((summary.stalled_over_500ms_s - 0.3).abs() < 1e-9);
        assert_eq!(summary.answered, 1);
    }

    #[test]
    fn failures_count_and_their_wait_is_stalled_time() {
        let s = shared();
        let mut r = Record {
            sent: 1,
            ..Record::default()
        };
        r.finish(0.0, 0.3, Some("HTTP 503".to_owned()));
        let summary = r.summary(&s, 1.0);
        assert_eq!((summary.answered, summary.failed), (0, 1));
        assert!((summary.stalled_over_100ms_s - 0.2).abs() < 1e-9);
        assert_eq!(r.last_failure, Some(Some("HTTP 503".to_owned())));
    }

    #[test]
    fn the_service_is_lost_when_every_probe_of_the_interval_failed_or_one_is_long_overdue() {
        let second = Duration::from_secs(1);
        let mut r = Record::default();
        assert_eq!(
            lost(&r, None, second),
            None,
            "nothing finished, nothing waiting"
        );
        r.finish(0.0, 0.01, Some("connection refused".to_owned()));
        r.finish(0.1, 0.01, Some("queued behind a failed probe".to_owned()));
        assert_eq!(
            lost(&r, None, second).as_deref(),
            Some("every probe failed since the last sample: connection refused")
        );
        r.finish(0.2, 0.21, None);
        assert_eq!(lost(&r, None, second), None, "one answered");
        let quiet = Record::default();
        assert_eq!(
            lost(&quiet, Some(1.9), second),
            None,
            "a stall, not yet a loss"
        );
        assert_eq!(
            lost(&quiet, Some(2.5), second).as_deref(),
            Some("no answer for 2.5 s to the probe still waiting")
        );
    }

    #[test]
    fn a_lost_interval_keeps_its_figures_for_the_row_when_the_service_is_back() {
        let start = Instant::now();
        let shared = Arc::new(shared());
        let mut source = ProbeSource {
            shared: Arc::clone(&shared),
            thread: None,
            run_start: start,
            interval: Duration::from_secs(1),
            name: "probe GET /health".to_owned(),
            url: "http://127.0.0.1:1/health".to_owned(),
            columns: Vec::new(),
        };
        shared
            .record()
            .finish(0.0, 0.3, Some("HTTP 503".to_owned()));
        assert_eq!(
            source.sample().unwrap_err().to_string(),
            "every probe failed since the last sample: HTTP 503"
        );
        shared.record().finish(0.1, 0.32, None);
        let row = source.sample().unwrap();
        assert_eq!(row.len(), 3);
        assert!((row[0].unwrap() - 300.0).abs() < 1e-6, "{row:?}");
        assert_eq!(row[1..], [Some(1.0), Some(1.0)]);
        assert!(
            source.sample().is_ok(),
            "the failure was the last interval's"
        );
    }

    #[test]
    fn only_the_probers_own_lateness_is_its_send_delay() {
        // Due at 1.0, the one before done at 0.9, sent at 1.004: 4 ms ours.
        assert!((own_send_delay(0.9, 1.0, 1.004).unwrap() - 0.004).abs() < 1e-12);
        // The one before answered only at 1.3: the wait was the server's.
        assert_eq!(own_send_delay(1.3, 1.0, 1.3), None);
        let mut r = Record {
            max_send_delay_s: 0.004,
            ..Record::default()
        };
        r.finish(0.0, 0.001, None);
        assert!((r.summary(&shared(), 1.0).max_send_delay_ms - 4.0).abs() < 1e-9);
    }

    #[test]
    fn a_rate_that_cannot_be_scheduled_falls_back_instead_of_panicking() {
        let url = "http://127.0.0.1:1/health".to_owned();
        for rate in [0.0, -3.0, f64::NAN, f64::INFINITY] {
            let config = ProbeConfig {
                url: url.clone(),
                rate,
                insecure: false,
            };
            let (mut source, handle) = start(&config, Instant::now(), Duration::from_secs(1));
            thread::sleep(Duration::from_millis(20));
            let summary = handle.summary();
            source.finish(&mut SourceSeries::default());
            assert_eq!(summary.rate, FALLBACK_RATE, "{rate}");
            assert!(summary.sent >= 1, "{rate}: {summary:?}");
        }
    }

    #[test]
    fn only_the_longest_stalls_are_kept_in_time_order() {
        let mut r = Record::default();
        // 150 separate stalls, the k-th waiting 200 + k ms.
        for k in 0..150 {
            let scheduled = k as f64 * 10.0;
            r.finish(scheduled, scheduled + 0.2 + k as f64 / 1000.0, None);
        }
        let summary = r.summary(&shared(), 2000.0);
        assert_eq!(summary.stalls.len(), MAX_STALLS);
        assert!(
            (summary.stalls[0].ms - 250.0).abs() < 1e-6,
            "{:?}",
            summary.stalls[0]
        );
        assert!(summary.stalls.windows(2).all(|w| w[0].at_s < w[1].at_s));
    }
}
