//! What the parts of one worker thread share: the worker's own state (its recorder, its
//! connector, its users and in-flight gauges) and each scenario's state on that worker
//! (stopping, its share of a total iteration count, and the load changes a running session
//! sends).
//!
//! Why a module of its own: the executors, the worker loop and the virtual users all read
//! these, and none of them should have to import another to get at them. With the shared
//! state here, imports run one way: `worker` -> `executor` -> `vu` -> `context`.
//!
//! Nothing here crosses threads: a worker's tasks share it through `Rc`, and only that
//! thread touches it. The one exception is the load-change receiver, a `watch` channel the
//! control thread writes to once per change (never per request).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use barrage_metrics::Recorder;
use tokio::sync::{watch, Notify};

use crate::http::{Connector, InFlightGauge, RequestBuf};
use crate::segment::Segment;

/// Where one worker's share of one scenario runs.
#[derive(Clone)]
pub struct Placement {
    /// This worker's share of the whole load: its users and iterations.
    pub segment: Segment,
    /// The run's start; the scenario's own start is `start + plan.start`.
    pub start: Instant,
    pub stop_timeout: Duration,
    /// How early an open model's start may go to share a wake-up (`--batch-window`).
    pub batch_window: Duration,
}

/// A change of a running scenario's load, sent by the session's control handle: from `at`
/// on, the scenario holds `target` (users for a closed model, iterations per second for an
/// open one) instead of what remains of its planned schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadChange {
    pub at: Instant,
    pub target: f64,
}

/// The latest load change of one scenario (`None` until the first). A `watch` channel: only
/// the latest value matters, since each change replaces whatever remained of the one before.
pub type LoadChanges = watch::Receiver<Option<LoadChange>>;

/// One scenario's state on one worker: whether it is stopping, its share of a total
/// iteration count, and where its load changes arrive. Users and the executor check it;
/// only this thread touches it.
pub struct ScenarioCtx {
    pub index: usize,
    stopping: Cell<bool>,
    stop: Notify,
    tickets: Cell<Option<u64>>,
    changes: Option<LoadChanges>,
}

impl ScenarioCtx {
    pub fn new(index: usize, tickets: Option<u64>) -> ScenarioCtx {
        ScenarioCtx {
            index,
            stopping: Cell::new(false),
            stop: Notify::new(),
            tickets: Cell::new(tickets),
            changes: None,
        }
    }

    /// Where this scenario's load changes arrive (a run started by a session has them).
    pub fn with_changes(mut self, changes: LoadChanges) -> ScenarioCtx {
        self.changes = Some(changes);
        self
    }

    /// The executor's own receiver of load changes: resolves with each new change, never
    /// when there can be none.
    pub fn load_changes(&self) -> ChangeStream {
        ChangeStream(self.changes.clone())
    }

    /// Whether this worker's share of a total iteration count is used up (`false` when
    /// the scenario has no count).
    pub fn out_of_iterations(&self) -> bool {
        self.tickets.get() == Some(0)
    }

    pub fn stopping(&self) -> bool {
        self.stopping.get()
    }

    /// Tells the scenario's users to stop at their next step, waking those that sleep.
    pub fn begin_stop(&self) {
        self.stopping.set(true);
        self.stop.notify_waiters();
    }

    /// Sleeps until `t`; `false` when the scenario began stopping meanwhile.
    pub async fn sleep_until(&self, t: Instant) -> bool {
        if self.stopping.get() {
            return false;
        }
        // No await between the check above and the first poll of `notified` below, and
        // only this thread calls `begin_stop`: a stop cannot slip between.
        tokio::select! {
            _ = tokio::time::sleep_until(t.into()) => !self.stopping.get(),
            _ = self.stop.notified() => false,
        }
    }

    /// Resolves when the scenario begins stopping.
    pub async fn stopped(&self) {
        if !self.stopping.get() {
            self.stop.notified().await;
        }
    }

    /// Takes one iteration from this worker's share; `false` when it is used up (or the
    /// scenario is stopping).
    pub fn take_iteration(&self) -> bool {
        match self.tickets.get() {
            None => !self.stopping.get(),
            Some(0) => false,
            Some(n) => {
                self.tickets.set(Some(n - 1));
                !self.stopping.get()
            }
        }
    }
}

/// State shared by everything on one worker thread (never across threads).
pub struct WorkerCtx {
    /// The worker's share of the load: its users, iterations and data rows.
    pub segment: Segment,
    pub recorder: RefCell<Recorder>,
    pub connector: Connector,
    /// Requests written and not yet answered by this worker's users, read into the
    /// recorder once per interval.
    pub in_flight: InFlightGauge,
    /// With `--traceparent`, the run's start: requests carry a `traceparent` header and the
    /// slowest are kept with their ids, dated from it (`vu/trace.rs`). `None` without it.
    pub traceparent: Option<Instant>,
    sequential: Cell<u64>,
    /// Users alive on this worker, including those still waiting for a first connection.
    users: Cell<u64>,
    /// Of those, the users that have never held a connection because this machine ran out
    /// of descriptors or ports. The users gauge counts them out: a user that cannot reach
    /// the target puts no load on it, and a run of 30,000 users of which 11,500 never
    /// connected must not say "30000 users".
    unconnected: Cell<u64>,
    /// Fixed steps as this worker rendered them, by their number (`RequestPlan::fixed`).
    rendered: RefCell<Vec<Option<Rc<Rendered>>>>,
}

/// A fixed step as rendered (`Vu::build`): the request, its target and its body.
pub struct Rendered {
    pub request: RequestBuf,
    pub url: String,
    pub body: Vec<u8>,
}

impl WorkerCtx {
    pub fn new(segment: Segment, recorder: Recorder, connector: Connector) -> WorkerCtx {
        WorkerCtx {
            segment,
            recorder: RefCell::new(recorder),
            connector,
            in_flight: InFlightGauge::default(),
            traceparent: None,
            sequential: Cell::new(0),
            users: Cell::new(0),
            unconnected: Cell::new(0),
            rendered: RefCell::default(),
        }
    }

    /// The fixed step numbered `slot` as this worker rendered it, if it has.
    pub fn rendered(&self, slot: u32) -> Option<Rc<Rendered>> {
        self.rendered.borrow().get(slot as usize).cloned().flatten()
    }

    /// Keeps the fixed step numbered `slot` as rendered, for the worker's other users.
    pub fn keep_rendered(&self, slot: u32, rendered: Rendered) {
        let mut all = self.rendered.borrow_mut();
        let slot = slot as usize;
        if all.len() <= slot {
            all.resize(slot + 1, None);
        }
        all[slot] = Some(Rc::new(rendered));
    }

    /// Turns `--traceparent` on for this worker's requests; `start` is the run's start.
    pub fn with_traceparent(mut self, start: Instant) -> WorkerCtx {
        self.traceparent = Some(start);
        self
    }

    /// The next row of a sequential data source. The rows are dealt to the segments as
    /// numbers are (this worker owns rows `index, index + count, ...` of the whole load's
    /// numbering), and each worker takes its own rows in turn, wrapping around within
    /// them: no two workers, of one process or of several (`--segment`), ever take the same
    /// row, and once each has gone round its rows, together they have taken every row
    /// once. With fewer rows than worker threads over all processes some workers own none:
    /// those take rows by the whole load's numbering, shared with the others.
    pub fn next_sequential_row(&self, rows: usize) -> usize {
        let n = self.sequential.get();
        self.sequential.set(n + 1);
        let rows = rows as u64;
        let own = self.segment.share(rows);
        let row = if own > 0 {
            self.segment.nth(n % own)
        } else {
            self.segment.nth(n) % rows.max(1)
        };
        row as usize
    }

    pub fn user_started(&self) {
        self.users.set(self.users.get() + 1);
        self.publish_users();
    }

    pub fn user_stopped(&self) {
        self.users.set(self.users.get().saturating_sub(1));
        self.publish_users();
    }

    /// A user's first connection failed for lack of local resources: it waits, out of the
    /// users gauge, until it gets one ([`WorkerCtx::user_connected`]) or ends
    /// ([`WorkerCtx::unconnected_user_ended`]).
    pub fn user_unconnected(&self) {
        self.unconnected.set(self.unconnected.get() + 1);
        self.publish_users();
    }

    /// A user that was waiting for its first connection got one.
    pub fn user_connected(&self) {
        self.unconnected
            .set(self.unconnected.get().saturating_sub(1));
        self.publish_users();
    }

    /// A user ended still waiting for its first connection.
    pub fn unconnected_user_ended(&self) {
        self.unconnected
            .set(self.unconnected.get().saturating_sub(1));
        self.recorder.borrow_mut().ended_unconnected();
        self.publish_users();
    }

    /// Both gauges derive from the two counts, so the order in which a user's guards are
    /// dropped at the end (its running guard, its unconnected state) cannot skew them.
    fn publish_users(&self) {
        let (users, unconnected) = (self.users.get(), self.unconnected.get());
        let mut recorder = self.recorder.borrow_mut();
        recorder.set_users(users.saturating_sub(unconnected));
        recorder.set_unconnected(unconnected);
    }
}

/// See [`ScenarioCtx::load_changes`].
pub struct ChangeStream(Option<LoadChanges>);

impl ChangeStream {
    /// The next load change; pending forever when no more can come. A change sent before
    /// the executor started (the scenario's start offset) is returned at once.
    pub async fn next(&mut self) -> LoadChange {
        loop {
            let Some(rx) = &mut self.0 else {
                return std::future::pending().await;
            };
            if rx.changed().await.is_err() {
                self.0 = None;
                continue;
            }
            if let Some(change) = *rx.borrow_and_update() {
                return change;
            }
        }
    }
}

/// Counts a user in the worker's users gauge for as long as it lives, however it ends.
pub(crate) struct UserRunning(pub(crate) Rc<WorkerCtx>);

impl Drop for UserRunning {
    fn drop(&mut self) {
        self.0.user_stopped();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_rows_are_dealt_over_the_segments_and_each_goes_round_its_own() {
        let tls = crate::http::tls_config(false).expect("the default TLS set-up builds");
        let workers: Vec<WorkerCtx> = Segment::WHOLE
            .split(3)
            .map(|s| {
                let connector = Connector::new(Duration::from_secs(1), tls.clone());
                WorkerCtx::new(s, Recorder::new(&Default::default()), connector)
            })
            .collect();
        let rows = |w: &WorkerCtx, n| (0..4).map(|_| w.next_sequential_row(n)).collect::<Vec<_>>();
        // 5 rows over three workers: 0 and 3, 1 and 4, 2 alone.
        assert_eq!(rows(&workers[0], 5), [0, 3, 0, 3]);
        assert_eq!(rows(&workers[1], 5), [1, 4, 1, 4]);
        assert_eq!(rows(&workers[2], 5), [2, 2, 2, 2]);
        // 2 rows: the third worker owns none and takes rows by the global numbering.
        assert_eq!(rows(&workers[2], 2), [0, 1, 0, 1]);
    }

    #[test]
    fn sequential_rows_of_segments_are_disjoint_and_cover_what_one_process_takes() {
        let tls = crate::http::tls_config(false).expect("the default TLS set-up builds");
        let worker = |s: Segment| {
            let connector = Connector::new(Duration::from_secs(1), tls.clone());
            WorkerCtx::new(s, Recorder::new(&Default::default()), connector)
        };
        for n in 1..=16u64 {
            // Process i of n with i mod 3 + 1 worker threads, each drawing its own rows
            // round: together, every row once.
            let workers: Vec<WorkerCtx> = (0..n)
                .flat_map(|i| Segment::new(i, n).unwrap().split((i % 3 + 1) as usize))
                .map(worker)
                .collect();
            let rows = 97;
            let mut taken: Vec<usize> = Vec::new();
            for w in &workers {
                let mine: Vec<usize> = (0..w.segment.share(rows as u64))
                    .map(|_| w.next_sequential_row(rows))
                    .collect();
                // Then it starts again on its own rows, never another's.
                assert_eq!(w.next_sequential_row(rows), mine[0]);
                taken.extend(mine);
            }
            taken.sort_unstable();
            // One process taking as many rows takes each row once.
            let whole = worker(Segment::WHOLE);
            let one: Vec<usize> = (0..rows).map(|_| whole.next_sequential_row(rows)).collect();
            assert_eq!(
                taken, one,
                "{n} segments: no row taken twice, none left out"
            );
        }
    }
}
