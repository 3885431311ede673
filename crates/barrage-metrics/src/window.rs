//! Histograms over time: one compact response-time histogram per 10-second window, for the
//! aggregate and each endpoint that saw traffic in it, so any percentile can be drawn over
//! time after the run (stored percentiles cannot be merged; histograms can).
//!
//! Windows are aligned to wall-clock 10 s boundaries (a window's `start` is a multiple of
//! 10 in Unix seconds), so runs split over several machines line their windows up by
//! `start` and merge them exactly. A closed second of the run belongs to the window that
//! holds its start on the wall clock.

use serde::{Deserialize, Serialize};

/// Window length in seconds.
pub const WINDOW_SECONDS: u64 = 10;

/// One 10-second window: the aggregate and the endpoints active in it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Where the window starts, Unix seconds (a multiple of [`WINDOW_SECONDS`]).
    pub start: u64,
    /// Seconds since the run's start at the end of the last closed second in the window.
    pub t: f64,
    /// All endpoints together.
    pub aggregate: WindowEntry,
    /// Endpoints that finished a request in this window, in registry order.
    pub endpoints: Vec<WindowEndpoint>,
}

/// One endpoint (or the aggregate) during one window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowEntry {
    pub requests: u64,
    pub failures: u64,
    /// Successful requests' response time, in [`crate::ENCODING`] (nanoseconds).
    pub response_time: String,
}

/// [`WindowEntry`] for the endpoint at index `i` of the result file's `endpoints`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowEndpoint {
    pub i: u32,
    #[serde(flatten)]
    pub entry: WindowEntry,
}
