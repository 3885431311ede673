//! Sinks: where a run's figures go. The live terminal table, the summary, the result file,
//! Locust's CSV files, JUnit and Markdown are each a [`Sink`]; so will be the web UI's
//! stream and an exporter. Adding an output is one type that implements [`Sink`] and one
//! line that adds it to the list a front end hands to [`crate::Session::run`].
//!
//! Why a push model on threads of their own: the session pushes each closed second's
//! [`Snapshot`] to every sink and goes on. A sink runs on its own thread, fed through a
//! small bounded queue, so a slow sink (a terminal over a slow link, a web client that
//! stopped reading) can never delay the aggregation, let alone the workers. When a sink's
//! queue is full, the second is not queued for it: the sink misses that second, and the
//! next one it gets says how many it missed ([`Live::missed`]). Every snapshot is
//! cumulative, so a sink that missed seconds still shows the right totals; only its
//! per-second view has gaps. The start and the end are never dropped: the session waits
//! for them, and at the end it hands the result to the sinks one after another, in the
//! order they were given, so files are written, and messages appear, in a fixed order.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use barrage_metrics::{ResultDoc, RunMeta, SecondSummary, Snapshot, Window};
use barrage_report::threshold::Watch;

/// How many seconds a sink may fall behind before it misses one.
const QUEUE: usize = 4;

/// An output of a run. Every method has a default that does nothing, so a sink implements
/// only what it uses. Methods run on the sink's own thread.
pub trait Sink: Send {
    /// A name for messages (`JSON result`, `live table`).
    fn name(&self) -> &str;

    /// The run has started.
    fn started(&mut self, _run: &Started) {}

    /// A second has closed: the statistics so far.
    fn second(&mut self, _live: &Live) {}

    /// Whether this sink reads the closed seconds ([`Sink::second`]). When none does and
    /// no threshold may stop the run, the session builds no [`Live`]: its snapshot reads
    /// the mean and percentiles of every cumulative histogram, about 2 million
    /// instructions each second, which a latency-bound run (a few thousand requests a
    /// second) pays as hundreds of instructions a request. The sinks that write only at
    /// the end say `false`.
    fn reads_seconds(&self) -> bool {
        true
    }

    /// Whether this sink reads [`Live::open_window`]. Encoding the open window (a
    /// deflated histogram) costs about 1.5 million instructions each second, so the
    /// session does it only when a sink says so.
    fn reads_open_window(&self) -> bool {
        false
    }

    /// Something worth telling the person watching (statistics reset, a threshold stopped
    /// the run); never dropped.
    fn notice(&mut self, _text: &str) {}

    /// The run is over. Returns lines for the person who ran it (`Result file: out.json`),
    /// or why this output could not be written.
    fn finished(&mut self, _end: &Finished) -> Result<Vec<String>, SinkError> {
        Ok(Vec::new())
    }
}

/// An output that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot write {what}: {source}")]
    Write {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the {0} output stopped working (it panicked)")]
    Panicked(String),
}

/// What a run is, as it starts.
#[derive(Debug, Clone)]
pub struct Started {
    /// The load in words, one clause per scenario.
    pub load: String,
    pub meta: RunMeta,
    pub workers: usize,
}

/// A closed second.
#[derive(Debug, Clone)]
pub struct Live {
    /// The second that closed, counted from 1 at the run's start.
    pub second: u64,
    pub snapshot: Snapshot,
    /// The thresholds' live state.
    pub thresholds: Watch,
    /// The run has a schedule whose lateness matters (arrival rate, pacing).
    pub schedule_matters: bool,
    /// Seconds this sink missed since the last one it got (it fell behind).
    pub missed: u64,
    /// The closed 10-second windows so far, oldest first (shared, not copied, per second).
    pub windows: Vec<Arc<barrage_metrics::Window>>,
    /// The last (up to) [`RECENT_SECONDS`] closed seconds, newest last (its `t` is this
    /// second's end), so a sink that missed seconds can fill in its own series.
    pub recent: Vec<SecondSummary>,
    /// The open 10-second window as far as it got (this second included), aggregate only:
    /// its `endpoints` are empty. `None` before the first second closed, and when no sink
    /// reads it ([`Sink::reads_open_window`]).
    pub open_window: Option<Window>,
    /// The server side's news (`--monitor-*`, `--probe`); `None` when nothing is monitored.
    pub server: Option<Arc<barrage_metrics::ServerLive>>,
    /// Cumulative latency buckets for the exporters, when `Settings::latency_buckets` asks.
    pub buckets: Option<Arc<barrage_metrics::LatencyBuckets>>,
}

/// How many closed seconds [`Live::recent`] holds: twice the seconds a sink may fall
/// behind before it misses one, so a sink that missed a few while its queue was full finds
/// them in the next second it gets (one that missed more must read the result so far).
pub const RECENT_SECONDS: usize = 2 * QUEUE;

/// The end of a run.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The result, judged: thresholds, warnings and timeline included.
    pub result: ResultDoc,
    /// The final statistics.
    pub snapshot: Snapshot,
    pub schedule_matters: bool,
    /// The final latency buckets, when `Settings::latency_buckets` asks.
    pub buckets: Option<Arc<barrage_metrics::LatencyBuckets>>,
    /// Set when the person asks to stop now (Ctrl-C) while the outputs are written: a sink
    /// that waits at the end (for a final scrape) should stop waiting. The outputs are
    /// written off the control thread, so the front end still hears the key.
    pub hurry: Arc<std::sync::atomic::AtomicBool>,
}

enum Message {
    Started(Arc<Started>),
    Second(Arc<Live>, u64),
    Notice(Arc<str>),
    Finished(Arc<Finished>, SyncSender<Result<Vec<String>, SinkError>>),
}

struct Running {
    name: String,
    queue: SyncSender<Message>,
    thread: Option<JoinHandle<()>>,
    /// Seconds not queued since the last one that was.
    missed: u64,
}

/// The sinks of one run, each on its own thread.
pub(crate) struct Sinks {
    running: Vec<Running>,
    /// Some sink reads the closed seconds ([`Sink::reads_seconds`]).
    seconds: bool,
    /// Some sink reads [`Live::open_window`].
    open_window: bool,
}

impl Sinks {
    /// Starts a thread per sink. A sink whose thread cannot start is reported and left out.
    pub(crate) fn start(sinks: Vec<Box<dyn Sink>>) -> (Sinks, Vec<SinkError>) {
        let mut running = Vec::new();
        let mut errors = Vec::new();
        let seconds = sinks.iter().any(|s| s.reads_seconds());
        let open_window = sinks.iter().any(|s| s.reads_open_window());
        for sink in sinks {
            let name = sink.name().to_owned();
            let (queue, rx) = sync_channel(QUEUE);
            match std::thread::Builder::new()
                .name(format!("barrage-sink-{}", running.len()))
                .spawn(move || serve(sink, rx))
            {
                Ok(thread) => running.push(Running {
                    name,
                    queue,
                    thread: Some(thread),
                    missed: 0,
                }),
                Err(source) => errors.push(SinkError::Write { what: name, source }),
            }
        }
        (
            Sinks {
                running,
                seconds,
                open_window,
            },
            errors,
        )
    }

    /// Whether some sink reads the closed seconds (so the session builds a [`Live`]).
    pub(crate) fn read_seconds(&self) -> bool {
        self.seconds
    }

    /// Whether some sink reads [`Live::open_window`] (so the session encodes it).
    pub(crate) fn read_open_window(&self) -> bool {
        self.open_window
    }

    pub(crate) fn started(&self, started: Started) {
        let started = Arc::new(started);
        for r in &self.running {
            let _ = r.queue.send(Message::Started(started.clone()));
        }
    }

    /// Offers a closed second to every sink; a sink whose queue is full misses it.
    pub(crate) fn second(&mut self, live: Live) {
        let live = Arc::new(live);
        for r in &mut self.running {
            match r.queue.try_send(Message::Second(live.clone(), r.missed)) {
                Ok(()) => r.missed = 0,
                Err(TrySendError::Full(_)) => r.missed += 1,
                Err(TrySendError::Disconnected(_)) => {}
            }
        }
    }

    pub(crate) fn notice(&self, text: &str) {
        let text: Arc<str> = Arc::from(text);
        for r in &self.running {
            let _ = r.queue.send(Message::Notice(text.clone()));
        }
    }

    /// Hands the end to each sink in turn, waiting for each; then ends their threads.
    /// Returns each sink's lines or error, in the sinks' order.
    pub(crate) fn finish(mut self, end: Finished) -> Vec<Result<Vec<String>, SinkError>> {
        let end = Arc::new(end);
        let mut out = Vec::new();
        for r in &mut self.running {
            let (tx, rx) = sync_channel(1);
            let answer = match r.queue.send(Message::Finished(end.clone(), tx)) {
                Ok(()) => rx.recv().ok(),
                Err(_) => None,
            };
            out.push(answer.unwrap_or_else(|| Err(SinkError::Panicked(r.name.clone()))));
        }
        self.join();
        out
    }

    fn join(&mut self) {
        for r in &mut self.running {
            // Closing the queue ends the thread's loop.
            let (closed, _) = sync_channel(0);
            r.queue = closed;
            if let Some(t) = r.thread.take() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Sinks {
    fn drop(&mut self) {
        self.join();
    }
}

fn serve(mut sink: Box<dyn Sink>, rx: Receiver<Message>) {
    while let Ok(message) = rx.recv() {
        match message {
            Message::Started(s) => sink.started(&s),
            Message::Second(live, missed) => {
                if missed == 0 {
                    sink.second(&live);
                } else {
                    let mut live = (*live).clone();
                    live.missed = missed;
                    sink.second(&live);
                }
            }
            Message::Notice(text) => sink.notice(&text),
            Message::Finished(end, reply) => {
                let _ = reply.send(sink.finished(&end));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    /// Records what it got, sleeping in every second as a slow terminal would.
    struct Slow {
        sleep: Duration,
        got: Arc<Mutex<Vec<(u64, u64)>>>,
    }

    impl Sink for Slow {
        fn name(&self) -> &str {
            "slow"
        }
        fn second(&mut self, live: &Live) {
            std::thread::sleep(self.sleep);
            self.got.lock().unwrap().push((live.second, live.missed));
        }
        fn finished(&mut self, end: &Finished) -> Result<Vec<String>, SinkError> {
            Ok(vec![format!("{} seconds", end.result.series.len())])
        }
    }

    fn live(second: u64) -> Live {
        Live {
            second,
            snapshot: barrage_metrics::Aggregator::new(Arc::default())
                .snapshot(Duration::from_secs(second)),
            thresholds: Watch::new(Vec::new()),
            schedule_matters: false,
            missed: 0,
            windows: Vec::new(),
            recent: Vec::new(),
            open_window: None,
            server: None,
            buckets: None,
        }
    }

    #[test]
    fn a_slow_sink_misses_seconds_but_never_holds_up_the_session() {
        let slow = Arc::new(Mutex::new(Vec::new()));
        let fast = Arc::new(Mutex::new(Vec::new()));
        let (mut sinks, errors) = Sinks::start(vec![
            Box::new(Slow {
                sleep: Duration::from_millis(200),
                got: slow.clone(),
            }),
            Box::new(Slow {
                sleep: Duration::ZERO,
                got: fast.clone(),
            }),
        ]);
        assert!(errors.is_empty());
        let pushed = Instant::now();
        for s in 1..=20 {
            sinks.second(live(s));
            std::thread::sleep(Duration::from_millis(5));
        }
        // Twenty seconds pushed in about 0.1 s, though the slow sink takes 0.2 s for each.
        assert!(pushed.elapsed() < Duration::from_secs(2));
        let end = Finished {
            result: barrage_metrics::Aggregator::new(Arc::default())
                .result(RunMeta::default(), Duration::from_secs(20)),
            snapshot: live(20).snapshot,
            schedule_matters: false,
            buckets: None,
            hurry: Arc::default(),
        };
        let answers = sinks.finish(end);
        assert_eq!(answers.len(), 2);
        assert!(answers
            .iter()
            .all(|a| a.as_ref().is_ok_and(|l| l == &["0 seconds"])));
        let fast = fast.lock().unwrap();
        assert_eq!(fast.len(), 20, "a sink that keeps up gets every second");
        let slow = slow.lock().unwrap();
        assert!(slow.len() < 20, "the slow sink fell behind: {slow:?}");
        // Whatever it got, it was told how many seconds it missed: together they are all.
        let accounted: u64 = slow.iter().map(|&(_, missed)| 1 + missed).sum();
        let last = slow.last().unwrap().0;
        assert_eq!(accounted, last, "{slow:?}");
        assert!(slow.windows(2).all(|w| w[1].0 == w[0].0 + 1 + w[1].1));
    }
}
