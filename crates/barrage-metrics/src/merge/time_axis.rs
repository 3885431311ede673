//! The merge over time: the per-second `series` and `iterations_by_second` moved onto the
//! merged run's clock, the 10-second `windows` added by their wall-clock `start`, and the
//! timeline.
//!
//! A file's second (from `t_prev` to `t` after its own start) lands in the merged second
//! that holds its middle once moved by the file's offset: with `--start-at` the files start
//! within milliseconds of each other and their seconds map one to one; files started by
//! hand land within half a second of where they were.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::{add_encoded, empty, MergeError, MergeInput};
use crate::histogram::encode_histogram;
use crate::result::TimelineEntry;
use crate::series::{saturating_u32, EndpointSecond, SecondSummary};
use crate::window::{Window, WindowEndpoint, WindowEntry};

pub(super) struct Axis {
    pub(super) series: Vec<SecondSummary>,
    pub(super) windows: Vec<Window>,
    pub(super) iterations_by_second: Vec<u64>,
    pub(super) timeline: Vec<TimelineEntry>,
}

pub(super) fn merge_time(
    inputs: &[&MergeInput],
    offsets: &[f64],
    endpoint_maps: &[Vec<usize>],
    warnings: &mut Vec<String>,
) -> Result<Axis, MergeError> {
    Ok(Axis {
        series: merge_series(inputs, offsets, endpoint_maps),
        windows: merge_windows(inputs, offsets, endpoint_maps, warnings)?,
        iterations_by_second: merge_iterations(inputs, offsets),
        timeline: merge_timeline(inputs, offsets),
    })
}

/// The merged second (0-based) holding the middle of a file's second.
fn second_of(offset: f64, from: f64, to: f64) -> usize {
    (offset + (from + to) / 2.0).max(0.0).floor() as usize
}

/// One merged second being summed.
#[derive(Default)]
struct SecondMerge {
    /// The latest end of a second that landed here, on the merged clock.
    t: f64,
    users: u64,
    in_flight: u64,
    requests: u64,
    failures: u64,
    p50: u32,
    p95: u32,
    p99: u32,
    max: u32,
    iterations_started: u64,
    dropped: u64,
    cpu_percent: f64,
    /// By merged endpoint index: requests, failures and the highest p50, p95, p99.
    endpoints: BTreeMap<usize, (u64, u64, u32, u32, u32)>,
}

fn merge_series(
    inputs: &[&MergeInput],
    offsets: &[f64],
    endpoint_maps: &[Vec<usize>],
) -> Vec<SecondSummary> {
    let mut seconds: BTreeMap<usize, SecondMerge> = BTreeMap::new();
    for ((input, &offset), map) in inputs.iter().zip(offsets).zip(endpoint_maps) {
        // Gauges (users, in flight) are a file's last value in the merged second, summed
        // over files; everything else adds.
        let mut gauges: BTreeMap<usize, (u64, u64)> = BTreeMap::new();
        let mut from = 0.0;
        for s in &input.doc.series {
            let k = second_of(offset, from, s.t);
            from = s.t;
            gauges.insert(k, (s.users, s.in_flight));
            let m = seconds.entry(k).or_default();
            m.t = m.t.max(offset + s.t);
            m.requests += s.requests;
            m.failures += s.failures;
            m.p50 = m.p50.max(s.p50);
            m.p95 = m.p95.max(s.p95);
            m.p99 = m.p99.max(s.p99);
            m.max = m.max.max(s.max);
            m.iterations_started += s.iterations_started;
            m.dropped += s.dropped;
            m.cpu_percent = m.cpu_percent.max(s.cpu_percent);
            for e in &s.endpoints {
                // An index past the file's endpoints (a hand-edited file) has nowhere to go.
                let Some(&i) = map.get(e.i as usize) else {
                    continue;
                };
                let slot = m.endpoints.entry(i).or_default();
                slot.0 += u64::from(e.requests);
                slot.1 += u64::from(e.failures);
                slot.2 = slot.2.max(e.p50);
                slot.3 = slot.3.max(e.p95);
                slot.4 = slot.4.max(e.p99);
            }
        }
        for (k, (users, in_flight)) in gauges {
            let m = seconds.entry(k).or_default();
            m.users += users;
            m.in_flight += in_flight;
        }
    }
    let Some(&last) = seconds.keys().next_back() else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(last + 1);
    let mut previous_t = 0.0;
    // A second no file covered (files that did not overlap in time) is written empty, so
    // the series stays one entry per second.
    for k in 0..=last {
        let m = seconds.remove(&k).unwrap_or_else(|| SecondMerge {
            t: (k + 1) as f64,
            ..SecondMerge::default()
        });
        let t = m.t.max(previous_t);
        let secs = t - previous_t;
        previous_t = t;
        out.push(SecondSummary {
            t,
            users: m.users,
            in_flight: m.in_flight,
            requests: m.requests,
            failures: m.failures,
            rps: if secs > 0.0 {
                m.requests as f64 / secs
            } else {
                0.0
            },
            p50: m.p50,
            p95: m.p95,
            p99: m.p99,
            max: m.max,
            endpoints: m
                .endpoints
                .into_iter()
                .map(|(i, (requests, failures, p50, p95, p99))| EndpointSecond {
                    i: saturating_u32(i as u64),
                    requests: saturating_u32(requests),
                    failures: saturating_u32(failures),
                    p50,
                    p95,
                    p99,
                })
                .collect(),
            iterations_started: m.iterations_started,
            dropped: m.dropped,
            cpu_percent: m.cpu_percent,
        });
    }
    out
}

/// One window entry being merged: counts and the response-time histogram.
struct EntryMerge {
    requests: u64,
    failures: u64,
    response_time: Histogram<u64>,
}

impl EntryMerge {
    fn new() -> EntryMerge {
        EntryMerge {
            requests: 0,
            failures: 0,
            response_time: empty(),
        }
    }

    fn add(
        &mut self,
        file: &str,
        at: impl Fn() -> String,
        e: &WindowEntry,
    ) -> Result<(), MergeError> {
        self.requests += e.requests;
        self.failures += e.failures;
        // A window's histogram holds its successful requests.
        add_encoded(
            &mut self.response_time,
            file,
            at,
            &e.response_time,
            e.requests.saturating_sub(e.failures),
        )
    }

    fn finish(&self) -> WindowEntry {
        WindowEntry {
            requests: self.requests,
            failures: self.failures,
            response_time: encode_histogram(&self.response_time),
        }
    }
}

/// Windows by their wall-clock `start`: histograms add, so percentiles over time are exact.
/// Files without windows (version 1) but with requests would leave holes that look like
/// a quiet server: then the merged file has none, and a warning says why.
fn merge_windows(
    inputs: &[&MergeInput],
    offsets: &[f64],
    endpoint_maps: &[Vec<usize>],
    warnings: &mut Vec<String>,
) -> Result<Vec<Window>, MergeError> {
    if let Some(without) = inputs
        .iter()
        .find(|i| i.doc.windows.is_empty() && i.doc.aggregate.requests > 0)
    {
        if inputs.iter().any(|i| !i.doc.windows.is_empty()) {
            warnings.push(format!(
                "{} has no 10-second windows (a version 1 file): the merged run has none \
                 either, since they would miss its requests",
                without.name
            ));
        }
        return Ok(Vec::new());
    }
    // One window at a time, across the files (each file's windows are in order of
    // `start`, which reading it checked): a window's histograms are encoded and dropped
    // before the next is merged, so memory holds one window's (about 200 KB per endpoint
    // active in it), not the run's.
    let starts: std::collections::BTreeSet<u64> = inputs
        .iter()
        .flat_map(|i| i.doc.windows.iter().map(|w| w.start))
        .collect();
    let mut next = vec![0usize; inputs.len()];
    let mut out = Vec::with_capacity(starts.len());
    for start in starts {
        let mut t = 0.0f64;
        let mut aggregate = EntryMerge::new();
        let mut endpoints: BTreeMap<usize, EntryMerge> = BTreeMap::new();
        for (f, ((input, &offset), map)) in
            inputs.iter().zip(offsets).zip(endpoint_maps).enumerate()
        {
            let Some(window) = input.doc.windows.get(next[f]).filter(|w| w.start == start) else {
                continue;
            };
            let w = next[f];
            next[f] += 1;
            t = t.max(offset + window.t);
            aggregate.add(
                &input.name,
                || format!("windows[{w}].aggregate.response_time"),
                &window.aggregate,
            )?;
            for e in &window.endpoints {
                let Some(&i) = map.get(e.i as usize) else {
                    continue;
                };
                endpoints.entry(i).or_insert_with(EntryMerge::new).add(
                    &input.name,
                    || format!("windows[{w}].endpoints[i={}].response_time", e.i),
                    &e.entry,
                )?;
            }
        }
        out.push(Window {
            start,
            t,
            aggregate: aggregate.finish(),
            endpoints: endpoints
                .into_iter()
                .map(|(i, e)| WindowEndpoint {
                    i: saturating_u32(i as u64),
                    entry: e.finish(),
                })
                .collect(),
        });
    }
    Ok(out)
}

/// Iterations by the second they were meant to start in, each file's second moved by its
/// offset (rounded to the nearest whole second of the merged run).
fn merge_iterations(inputs: &[&MergeInput], offsets: &[f64]) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    for (input, &offset) in inputs.iter().zip(offsets) {
        for (s, &n) in input.doc.iterations_by_second.iter().enumerate() {
            let k = second_of(offset, s as f64, s as f64 + 1.0);
            if out.len() <= k {
                out.resize(k + 1, 0);
            }
            out[k] += n;
        }
    }
    out
}

/// What was done to each generator while it ran, on the merged clock, each entry's source
/// naming the generator.
fn merge_timeline(inputs: &[&MergeInput], offsets: &[f64]) -> Vec<TimelineEntry> {
    let mut out: Vec<TimelineEntry> = inputs
        .iter()
        .zip(offsets)
        .flat_map(|(input, &offset)| {
            let name = super::generator_name(input);
            input.doc.timeline.iter().map(move |e| TimelineEntry {
                at_s: e.at_s + offset,
                what: e.what.clone(),
                source: format!("{} ({name})", e.source),
            })
        })
        .collect();
    out.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    out
}
