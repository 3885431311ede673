//! Where a session's measurements come from, and where its steering goes.
//!
//! The session does not care whether its "workers" are threads of this process or threads
//! of other machines: it needs their per-second events, their count, the instant the run
//! started, and three ways to steer (graceful stop, hard stop, a new level). A local run is
//! [`barrage_engine::Run`]; a coordinated run (`barrage-fleet`'s `RemoteRun`) numbers its
//! agents' worker threads one after the other and broadcasts the steering to the agents.
//! Keeping this one trait is what lets the coordinator be one more front end of the same
//! session, with the same sinks, thresholds and result, instead of a second run loop.

use std::time::Instant;

use barrage_engine::{Run, WorkerEvent};
use barrage_metrics::NamedGenerator;
use tokio::sync::mpsc;

/// A run's workers, as the session sees them (see the module comment).
pub trait RunSource: Send {
    /// How many workers report; each sends its intervals and finally one with `last`.
    fn workers(&self) -> usize;
    /// When the run's clock started (second 1 ends a second after it).
    fn start(&self) -> Instant;
    /// The workers' events, in the order they arrive.
    fn events(&mut self) -> &mut mpsc::UnboundedReceiver<WorkerEvent>;
    /// Start nothing new; in-flight requests get the stop timeout to finish.
    fn graceful_stop(&self);
    /// Stop now.
    fn hard_stop(&self);
    /// Scenario `scenario` holds `target` from now on (users, or iterations per second),
    /// over all workers.
    fn change_load(&self, scenario: usize, target: f64) -> bool;
    /// Waits for the workers to end; says which failed.
    fn join(self: Box<Self>) -> Vec<String>;
    /// What only the source knows, for the result (a coordinated run: each agent under
    /// its name, with its clock offset and whether it was lost). Nothing for a local run.
    fn report(&self) -> SourceReport {
        SourceReport::default()
    }
}

/// What a [`RunSource`] adds to the result file.
#[derive(Clone, Debug, Default)]
pub struct SourceReport {
    /// Into the result's `warnings` (an agent lost: the result is degraded).
    pub warnings: Vec<String>,
    /// The result's `generators`, one per agent.
    pub generators: Vec<NamedGenerator>,
}

impl RunSource for Run {
    fn workers(&self) -> usize {
        self.workers
    }

    fn start(&self) -> Instant {
        self.start
    }

    fn events(&mut self) -> &mut mpsc::UnboundedReceiver<WorkerEvent> {
        &mut self.events
    }

    fn graceful_stop(&self) {
        Run::graceful_stop(self)
    }

    fn hard_stop(&self) {
        Run::hard_stop(self)
    }

    fn change_load(&self, scenario: usize, target: f64) -> bool {
        Run::change_load(self, scenario, target)
    }

    fn join(self: Box<Self>) -> Vec<String> {
        Run::join(*self)
    }
}
