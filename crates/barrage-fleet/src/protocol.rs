//! The messages between a coordinator and its agents: JSON in WebSocket text frames, one
//! message a frame, tagged by `type`.
//!
//! A conversation, from the agent's connection on:
//!
//! ```text
//! agent                                   coordinator
//!   ── upgrade (Authorization: Bearer TOKEN) ─▶   refused with 401 on a wrong token
//!   ── Hello {name, workers, version, host} ─▶
//!   ◀─ Ping {t0} ... ── Pong {t0, agent}     ×5: the clock offset (clock.rs)
//!   ◀─ Setup {spec, segment, worker offset}      the scenario and flags, its share
//!   ── Ready {shape} (or Refuse {why}) ─▶        compiled; the shape is checked
//!   ◀─ Start {at}                                wall-clock start in the agent's clock
//!   ── Event ... Heartbeat ... ─▶                every worker's per-second interval
//!   ◀─ Stop / Load / Heartbeat                   steering for all
//!   ── Done ─▶  ◀─ Bye                           the last intervals are in
//! ```
//!
//! JSON because the one large part, an interval's histograms, is already base64 text
//! (the result file's encoding), and a person can read a captured conversation.

use serde::{Deserialize, Serialize};

/// The protocol's version: an agent and a coordinator of different versions refuse
/// each other (the interval's layout follows the release).
pub const PROTOCOL: u32 = 1;

/// The size of a compiled plan's registry, which an agent's intervals must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    pub endpoints: usize,
    pub tasks: usize,
    pub checks: usize,
}

impl Shape {
    pub fn of(registry: &barrage_metrics::Registry) -> Shape {
        Shape {
            endpoints: registry.endpoints.len(),
            tasks: registry.tasks.len(),
            checks: registry.checks.len(),
        }
    }
}

/// From an agent to the coordinator.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromAgent {
    Hello {
        name: String,
        workers: usize,
        /// barrage's version (`CARGO_PKG_VERSION`).
        version: String,
        protocol: u32,
        host: barrage_metrics::HostInfo,
    },
    /// The answer to a [`ToAgent::Ping`]: `agent_ns` is the agent's wall clock (Unix
    /// nanoseconds) when it read the ping.
    Pong {
        t0_ns: u64,
        agent_ns: u64,
    },
    /// The plan is compiled: its registry's size.
    Ready {
        shape: Shape,
    },
    /// The agent cannot run what it was sent (the scenario does not compile there, a data
    /// file cannot be written).
    Refuse {
        why: String,
    },
    /// One of its workers' events; `worker` counts in the agent.
    Interval {
        worker: usize,
        second: u64,
        last: bool,
        interval: serde_json::Value,
    },
    Failed {
        worker: usize,
        message: String,
    },
    Crashed {
        worker: usize,
        message: String,
    },
    Warning {
        worker: usize,
        message: String,
    },
    Heartbeat,
    /// Every worker sent its last interval.
    Done,
}

/// From the coordinator to an agent.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToAgent {
    /// `t0_ns`: the coordinator's wall clock (Unix nanoseconds) as it sent the ping.
    Ping {
        t0_ns: u64,
    },
    Setup {
        /// What to run, as the front end describes it (the scenario text, its data files
        /// and the run's flags): opaque to this crate.
        spec: serde_json::Value,
        /// The agent's share: segment `index` (0-based) of `count`.
        index: u64,
        count: u64,
    },
    /// Start the load at this wall-clock time, in the agent's own clock (the coordinator's
    /// start plus the agent's measured offset).
    Start {
        at_ns: u64,
    },
    /// Stop, gracefully or at once.
    Stop {
        hard: bool,
    },
    /// Scenario `scenario` holds `target` (the whole run's level) from now on.
    Load {
        scenario: usize,
        target: f64,
    },
    Heartbeat,
    /// The coordinator will not take part in this run: why, for the agent to print.
    Refused {
        why: String,
    },
    /// The run is over; the agent may exit.
    Bye,
}

/// How often each side sends a heartbeat when it has nothing else to send.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(1);

/// How long a side waits without hearing from the other before it counts it lost: three
/// heartbeats missed. Well within the 5 s a lost agent must be noticed in (a killed process
/// closes its socket, noticed at once; this is for a machine that vanished from the
/// network).
pub const SILENCE: std::time::Duration = std::time::Duration::from_secs(3);
