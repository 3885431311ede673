//! barrage-monitor: the server side of a run, measured while the load runs.
//!
//! A [`Monitor`] watches the sources a [`MonitorConfig`] names (processes read from
//! `/proc`, Prometheus endpoints scraped, PostgreSQL servers queried, and the stall probe),
//! each on a thread of its own so a slow scrape never delays another source, and never on
//! an engine worker: the generator's CPU goes to the load. Every source is a table
//! (`barrage_metrics::SourceSeries`: columns and one row per sample) on the run's time axis
//! (seconds since the run's start, the `Instant` handed to [`Monitor::start`]).
//!
//! The session calls [`Monitor::tick`] once per closed second for the news (rows since the
//! last tick, the threshold figures so far, events for the timeline), [`Monitor::so_far`]
//! for a mid-run result, and [`Monitor::finish`] at the end (one last sample of every
//! source, then the whole section).
//!
//! A source that cannot be reached at the start, or is lost mid-run (the process exited,
//! the scrape failed), is an event on the timeline, never an error: the run goes on.

mod postgres;
mod prometheus;
mod source;

use std::time::{Duration, Instant};

use barrage_metrics::{ResultDoc, ServerLive, ServerSection};

pub use postgres::PostgresSource;
pub use prometheus::PrometheusSource;
pub use source::{Source, SourceError};

/// What to monitor (the `--monitor-*` and `--probe*` flags).
#[derive(Clone, Debug, Default)]
pub struct MonitorConfig {
    /// `--monitor-pid`: these processes (and nothing else).
    pub pids: Vec<u32>,
    /// `--monitor-port`: the processes listening on these TCP ports, with their children.
    pub ports: Vec<u16>,
    /// `--monitor-prometheus`: endpoints to scrape (`http://127.0.0.1:8000/metrics`).
    pub prometheus: Vec<String>,
    /// `--monitor-series`: more Prometheus series to keep, by name or matcher
    /// (`db_pool_size`, `http_requests_total{handler="/items"}`), beyond the default set.
    pub series: Vec<String>,
    /// `--monitor-postgres`: connection URLs (`postgres://user:pass@127.0.0.1:5432/app`).
    pub postgres: Vec<String>,
    /// `--probe` (resolved against the scenario's host) and `--probe-rate`.
    pub probe: Option<ProbeConfig>,
    /// `--monitor-interval`: between samples (1 s by default).
    pub interval: Duration,
}

impl MonitorConfig {
    /// Whether nothing is to be monitored (then no [`Monitor`] is started).
    pub fn is_empty(&self) -> bool {
        self.pids.is_empty()
            && self.ports.is_empty()
            && self.prometheus.is_empty()
            && self.postgres.is_empty()
            && self.probe.is_none()
    }
}

/// The stall probe: a light GET at a fixed rate, on a connection of its own, timed from
/// its schedule, outside the run's statistics.
#[derive(Clone, Debug)]
pub struct ProbeConfig {
    /// The absolute URL probed (`http://127.0.0.1:8000/health`).
    pub url: String,
    /// Probes per second (`--probe-rate`, 10 by default).
    pub rate: f64,
    /// Accept any TLS certificate (`--insecure`).
    pub insecure: bool,
}

/// A running monitor (see the crate comment).
pub struct Monitor {
    _private: (),
}

impl Monitor {
    /// Starts a thread per source. Never fails: a source that cannot start is an event in
    /// the first [`Monitor::tick`], and shows in the result as `lost`.
    pub fn start(config: MonitorConfig, run_start: Instant) -> Monitor {
        let _ = (config, run_start);
        todo!("barrage-monitor: Monitor::start")
    }

    /// The news since the last tick: new rows, the figures so far, events. Cheap: it never
    /// copies a whole series.
    pub fn tick(&mut self) -> ServerLive {
        todo!("barrage-monitor: Monitor::tick")
    }

    /// The whole section so far, for a mid-run result (copies every series).
    pub fn so_far(&self) -> ServerSection {
        todo!("barrage-monitor: Monitor::so_far")
    }

    /// Takes one last sample of every source, stops the threads and returns the section,
    /// with the probe's summary; `hints` are filled in by [`hints`] once the result exists.
    pub fn finish(self) -> ServerSection {
        todo!("barrage-monitor: Monitor::finish")
    }
}

/// What the numbers suggest, each naming its evidence: latency rising at a flat request
/// rate while every monitored worker stays below half a core is the sign of blocking calls
/// in async code or an exhausted pool. Reads the result's series and its `server` section.
pub fn hints(result: &ResultDoc) -> Vec<String> {
    let _ = result;
    todo!("barrage-monitor: hints")
}
