//! Histograms over time: one compact response-time histogram per 10-second window, for the
//! aggregate and each endpoint that saw traffic in it, so any percentile can be drawn over
//! time after the run (stored percentiles cannot be merged; histograms can).
//!
//! Windows are aligned to wall-clock 10 s boundaries (a window's `start` is a multiple of
//! 10 in Unix seconds), so runs split over several machines line their windows up by
//! `start` and merge them exactly. A closed second of the run belongs, whole, to the window
//! that holds its start on the wall clock.
//!
//! How closely that lines up: the run's seconds start at the run's own start, which falls
//! anywhere within a wall-clock second. A request that finished in the first `f` seconds
//! after a 10 s boundary, `f` being the fractional part of the run's start (always below
//! 1 s), lands in the window before. So a window holds what finished between its `start`
//! and `start + 10`, each end shifted later by the same `f`: windows line up to within 1 s
//! (plus whatever the machines' clocks disagree by), never more.
//!
//! The aggregator keeps the open window as plain counters and HDR histograms that are
//! cleared, not dropped, when it closes; a closed window is encoded once and shared as an
//! `Arc` (the session hands the same windows to every sink each second without copying).
//! Memory for the open window is one histogram per endpoint that was ever active plus one
//! for the aggregate; closed windows cost their encoded size (see DESIGN.md, "The result
//! file", for the measured bytes per endpoint-hour).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::histogram::LazyHistogram;
use crate::series::saturating_u32;

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

/// Requests, failures and response times of one endpoint (or all) over some span of time:
/// a second or a window. Cleared, never dropped, when the span closes.
#[derive(Clone, Debug, Default)]
pub(crate) struct SpanData {
    pub(crate) requests: u64,
    pub(crate) failures: u64,
    pub(crate) response_time: LazyHistogram,
}

impl SpanData {
    pub(crate) fn add(&mut self, requests: u64, failures: u64, response_time: &LazyHistogram) {
        self.requests += requests;
        self.failures += failures;
        self.response_time.add(response_time);
    }

    pub(crate) fn clear(&mut self) {
        self.requests = 0;
        self.failures = 0;
        self.response_time.clear();
    }

    fn entry(&self) -> WindowEntry {
        WindowEntry {
            requests: self.requests,
            failures: self.failures,
            response_time: self.response_time.encode(),
        }
    }
}

/// The windows of one run: those closed, and the one filling now.
#[derive(Debug)]
pub(crate) struct Windows {
    /// Unix seconds at the run's start (elapsed zero). Zero until the caller says, which
    /// lines windows up with the run's own seconds instead of the wall clock.
    wall_start: f64,
    closed: Vec<Arc<Window>>,
    /// The open window's `start` and `t`; `None` before the first second closed.
    open: Option<(u64, f64)>,
    aggregate: SpanData,
    endpoints: Vec<SpanData>,
}

impl Windows {
    pub(crate) fn new(endpoints: usize) -> Windows {
        Windows {
            wall_start: 0.0,
            closed: Vec::new(),
            open: None,
            aggregate: SpanData::default(),
            endpoints: vec![SpanData::default(); endpoints],
        }
    }

    pub(crate) fn set_wall_start(&mut self, unix_s: f64) {
        // A clock before 1970 or a NaN would make every window start at 0: keep the
        // arithmetic defined and let the windows say so.
        self.wall_start = if unix_s.is_finite() {
            unix_s.max(0.0)
        } else {
            0.0
        };
    }

    /// The window (its `start`) that holds a second of the run starting `at_s` after the
    /// run's start.
    pub(crate) fn start_of(&self, at_s: f64) -> u64 {
        let wall = (self.wall_start + at_s).max(0.0).floor() as u64;
        wall - wall % WINDOW_SECONDS
    }

    /// Adds a closed second (which started `from_s` and ended `to_s` after the run's start)
    /// to its window, closing the open window first when the second belongs to a later one.
    pub(crate) fn add_second(
        &mut self,
        from_s: f64,
        to_s: f64,
        aggregate: &SpanData,
        endpoints: &[SpanData],
    ) {
        let start = self.start_of(from_s);
        match self.open {
            Some((open, _)) if open < start => {
                self.close();
                self.open = Some((start, to_s));
            }
            // A second cannot start before the one closed before it; should the caller's
            // clock say otherwise, it stays in the open window rather than reopen a
            // closed one.
            Some((open, _)) => self.open = Some((open, to_s)),
            None => self.open = Some((start, to_s)),
        }
        self.aggregate.add(
            aggregate.requests,
            aggregate.failures,
            &aggregate.response_time,
        );
        for (mine, second) in self.endpoints.iter_mut().zip(endpoints) {
            if second.requests > 0 {
                mine.add(second.requests, second.failures, &second.response_time);
            }
        }
    }

    /// Encodes the open window into the closed list and clears its histograms for reuse.
    fn close(&mut self) {
        if let Some(window) = self.encode_open(true) {
            self.closed.push(Arc::new(window));
        }
        self.aggregate.clear();
        self.endpoints.iter_mut().for_each(SpanData::clear);
    }

    /// The open window as it stands, with its active endpoints when `endpoints` is set.
    fn encode_open(&self, endpoints: bool) -> Option<Window> {
        let (start, t) = self.open?;
        Some(Window {
            start,
            t,
            aggregate: self.aggregate.entry(),
            endpoints: if endpoints {
                self.endpoints
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.requests > 0)
                    .map(|(i, e)| WindowEndpoint {
                        i: saturating_u32(i as u64),
                        entry: e.entry(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
        })
    }

    pub(crate) fn closed(&self) -> &[Arc<Window>] {
        &self.closed
    }

    /// The open window so far, aggregate only (one encoding, cheap enough each second).
    pub(crate) fn open_aggregate(&self) -> Option<Window> {
        self.encode_open(false)
    }

    /// Every window, closed ones first, then the open one with its endpoints.
    pub(crate) fn all(&self) -> Vec<Window> {
        self.closed
            .iter()
            .map(|w| Window::clone(w))
            .chain(self.encode_open(true))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_belongs_to_the_window_holding_its_wall_clock_start() {
        let mut w = Windows::new(0);
        w.set_wall_start(1_700_000_007.25);
        assert_eq!(w.start_of(0.0), 1_700_000_000);
        // 1_700_000_009.25
        assert_eq!(w.start_of(2.0), 1_700_000_000);
        // 1_700_000_010.25: the next window, though the second ends at .25 past 11.
        assert_eq!(w.start_of(3.0), 1_700_000_010);
        w.set_wall_start(f64::NAN);
        assert_eq!(w.start_of(25.5), 20);
    }
}
