//! Driving a run from the control thread: gathering the workers' per-second intervals,
//! printing the live table, handling Ctrl-C, and producing the final snapshot and result.
//!
//! Ctrl-C once asks for a graceful stop (in-flight requests get the stop timeout); twice
//! stops at once. Either way every measurement collected so far reaches the result.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use barrage_engine::{Run, WorkerEvent};
use barrage_metrics::{format_timestamp, Aggregator, Registry, ResultDoc, RunMeta, Snapshot};
use barrage_report::threshold::Watch;
use barrage_report::ViewOptions;

/// How often the live table is printed (Locust's headless output does the same).
const TABLE_EVERY: Duration = Duration::from_secs(2);

pub struct Outcome {
    pub snapshot: Snapshot,
    pub result: ResultDoc,
    pub interrupted: bool,
    /// A worker thread could not start; the run is incomplete.
    pub worker_error: Option<String>,
    /// The threshold (index into the watch's list) whose `abort_on_fail` stopped the run.
    pub aborted_by: Option<usize>,
}

pub struct LiveOptions {
    pub view: ViewOptions,
    /// Print the table every two seconds (to stderr, so machine output on stdout stays
    /// clean); off for `--debug`, which prints its own account.
    pub table: bool,
    /// The run's thresholds: shown under the table, and judged once a closed second when
    /// one may stop the run (`abort_on_fail`).
    pub thresholds: Watch,
    /// `--reset-stats`: drop the statistics once this much of the run (the ramp-up) is over.
    pub reset_after: Option<Duration>,
    /// The run has a schedule (arrival rate, pacing): show the generator's health line.
    pub schedule_matters: bool,
}

/// Judges the thresholds on a fresh snapshot; stops the run gracefully when one with
/// `abort_on_fail` has failed past its delay.
fn judge_thresholds(watch: &mut Watch, snap: &Snapshot, run: &Run) {
    if let Some(i) = watch.observe(snap) {
        let w = &watch.items()[i];
        eprintln!(
            "\nStopping: threshold `{}` failed (abort_on_fail); letting in-flight requests finish...",
            w.threshold.text.trim()
        );
        run.graceful_stop();
    }
}

/// Runs `run` to its end and returns what it measured.
pub async fn drive(
    mut run: Run,
    registry: Arc<Registry>,
    mut meta: RunMeta,
    mut opts: LiveOptions,
) -> Outcome {
    let started_wall = SystemTime::now();
    let workers = run.workers;
    let mut agg = Aggregator::new(registry);
    // Seconds are closed once every worker has reported them, so a per-second entry
    // never misses a worker's share.
    let mut reported: BTreeMap<u64, usize> = BTreeMap::new();
    let mut finished = 0usize;
    let mut next_second = 1u64;
    let mut interrupts = 0u32;
    let mut worker_error = None;
    let mut table =
        tokio::time::interval_at(tokio::time::Instant::now() + TABLE_EVERY, TABLE_EVERY);
    table.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let start = run.start;
    let mut interrupt = Interrupts::new();

    loop {
        tokio::select! {
            event = run.events.recv() => match event {
                Some(WorkerEvent::Interval { worker, second, last, interval }) => {
                    agg.absorb(worker, *interval);
                    if last {
                        finished += 1;
                    } else {
                        *reported.entry(second).or_default() += 1;
                    }
                    while reported.get(&next_second).copied().unwrap_or(0) + finished >= workers
                        && finished < workers
                    {
                        reported.remove(&next_second);
                        agg.close_second(Duration::from_secs(next_second));
                        if let Some(after) = opts.reset_after {
                            if !after.is_zero() && Duration::from_secs(next_second) >= after {
                                agg.reset();
                                opts.reset_after = None;
                                eprintln!("Ramp-up over after {next_second} s: statistics reset (--reset-stats).");
                            }
                        }
                        next_second += 1;
                        if opts.thresholds.can_abort() {
                            let snap = agg.snapshot(start.elapsed());
                            judge_thresholds(&mut opts.thresholds, &snap, &run);
                        }
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
                None => {
                    if finished < workers && worker_error.is_none() {
                        worker_error = Some("a worker ended without its last report".to_string());
                    }
                    break;
                }
            },
            _ = interrupt.recv() => {
                interrupts += 1;
                if interrupts == 1 {
                    eprintln!("\nStopping: letting in-flight requests finish (Ctrl-C again to stop now)...");
                    run.graceful_stop();
                } else {
                    eprintln!("\nStopping now.");
                    run.hard_stop();
                }
            }
            _ = table.tick(), if opts.table => {
                let snap = agg.snapshot(start.elapsed());
                judge_thresholds(&mut opts.thresholds, &snap, &run);
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{}", barrage_report::live_table(&snap, &opts.view));
                let _ = write!(err, "{}", opts.thresholds.status(&opts.view));
                if let Some(line) = barrage_report::generator::live_line(&snap, opts.schedule_matters) {
                    let _ = writeln!(err, "{line}");
                }
            }
        }
    }
    let elapsed = start.elapsed();
    // The last, partial second.
    agg.close_second(elapsed);
    let panicked = run.join();
    if worker_error.is_none() {
        worker_error = panicked.into_iter().next();
    }
    meta.started_at = format_timestamp(started_wall);
    meta.ended_at = format_timestamp(SystemTime::now());
    meta.interrupted = interrupts > 0;
    let snapshot = agg.snapshot(elapsed);
    let result = agg.result(meta, elapsed);
    Outcome {
        snapshot,
        result,
        interrupted: interrupts > 0,
        worker_error,
        aborted_by: opts.thresholds.aborted_by(),
    }
}

/// Ctrl-C as a stream: one listener for the whole run, so a second press that arrives
/// while the loop is busy is not lost between two `ctrl_c()` futures.
struct Interrupts {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Interrupts {
    fn new() -> Interrupts {
        Interrupts {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok(),
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.signal {
            s.recv().await;
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Whether color and escape codes may be used on stderr.
pub fn stderr_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}
