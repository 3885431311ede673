//! The whole-run tables of a merge: endpoints and the aggregate, failures, checks, tasks,
//! connections and the generator's health. Counts add; latencies are read from the merged
//! histograms (see the parent module).

use std::collections::HashMap;

use hdrhistogram::Histogram;

use super::{add_encoded, empty, MergeError, MergeInput};
use crate::generator::GeneratorStats;
use crate::histogram::encode_histogram;
use crate::registry::FailureCategory;
use crate::result::{
    ConnectionHistograms, EndpointHistograms, GeneratorHistograms, HistogramSet, TaskHistograms,
};
use crate::snapshot::{
    CheckStats, ConnectionStats, EndpointStats, FailureStats, LatencyStats, SlowRequest, TaskStats,
};
use crate::stream::{StreamHistograms, StreamStats};
use crate::{MessageStats, SLOWEST};

/// The merged tables, and where each input's endpoints went.
pub(super) struct Tables {
    pub(super) endpoints: Vec<EndpointStats>,
    pub(super) aggregate: EndpointStats,
    pub(super) failures: Vec<FailureStats>,
    pub(super) checks: Vec<CheckStats>,
    pub(super) tasks: Vec<TaskStats>,
    pub(super) connections: ConnectionStats,
    pub(super) generator: GeneratorStats,
    pub(super) histograms: HistogramSet,
    /// Per input, the merged index of each of its endpoints.
    pub(super) endpoint_maps: Vec<Vec<usize>>,
}

pub(super) fn merge_tables(
    inputs: &[&MergeInput],
    offsets: &[f64],
    warnings: &mut Vec<String>,
) -> Result<Tables, MergeError> {
    // Endpoints by (scenario, method, name): the first input's order, then new ones.
    let mut keys: Vec<(String, String, String)> = Vec::new();
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    let endpoint_maps: Vec<Vec<usize>> = inputs
        .iter()
        .map(|i| {
            i.doc
                .endpoints
                .iter()
                .map(|e| {
                    let key = (e.scenario.clone(), e.method.clone(), e.name.clone());
                    *index.entry(key.clone()).or_insert_with(|| {
                        keys.push(key);
                        keys.len() - 1
                    })
                })
                .collect()
        })
        .collect();
    let mut endpoints: Vec<EndpointMerge> = keys
        .iter()
        .map(|(s, m, n)| EndpointMerge::new(s, m, n))
        .collect();
    let mut aggregate = EndpointMerge::new("", "", "Aggregated");
    for ((input, map), offset) in inputs.iter().zip(&endpoint_maps).zip(offsets) {
        let h = &input.doc.histograms;
        for (i, e) in input.doc.endpoints.iter().enumerate() {
            let at = format!("histograms.endpoints[{i}]");
            endpoints[map[i]].add(input, e, h.endpoints.get(i), &at, *offset)?;
        }
        aggregate.add(
            input,
            &input.doc.aggregate,
            Some(&h.aggregate),
            "histograms.aggregate",
            *offset,
        )?;
    }
    let mut histograms = HistogramSet::default();
    let mut merged_endpoints = Vec::with_capacity(endpoints.len());
    for e in endpoints {
        let (stats, h) = e.finish(warnings);
        merged_endpoints.push(stats);
        histograms.endpoints.push(h);
    }
    let (aggregate, aggregate_h) = aggregate.finish(warnings);
    histograms.aggregate = aggregate_h;

    let (tasks, task_histograms) = merge_tasks(inputs)?;
    histograms.tasks = task_histograms;
    let (connections, connection_histograms) = merge_connections(inputs)?;
    histograms.connections = connection_histograms;
    let (generator, generator_histograms) = merge_generator(inputs)?;
    histograms.generator = generator_histograms;

    Ok(Tables {
        failures: merge_failures(inputs, &index),
        checks: merge_checks(inputs),
        endpoints: merged_endpoints,
        aggregate,
        tasks,
        connections,
        generator,
        histograms,
        endpoint_maps,
    })
}

/// One endpoint (or the aggregate) being merged.
struct EndpointMerge {
    stats: EndpointStats,
    response_time: Histogram<u64>,
    service_time: Histogram<u64>,
    failed: Histogram<u64>,
    stream: Option<StreamMerge>,
    /// Each file's upgrade times (no histogram in the file to merge).
    upgrades: Vec<LatencyStats>,
}

struct StreamMerge {
    first_byte: Histogram<u64>,
    first_event: Histogram<u64>,
    event_gap: Histogram<u64>,
    duration: Histogram<u64>,
    events: crate::EventCounts,
}

impl EndpointMerge {
    fn new(scenario: &str, method: &str, name: &str) -> EndpointMerge {
        EndpointMerge {
            stats: EndpointStats {
                scenario: scenario.to_owned(),
                method: method.to_owned(),
                name: name.to_owned(),
                ..EndpointStats::default()
            },
            response_time: empty(),
            service_time: empty(),
            failed: empty(),
            stream: None,
            upgrades: Vec::new(),
        }
    }

    fn add(
        &mut self,
        input: &MergeInput,
        e: &EndpointStats,
        h: Option<&EndpointHistograms>,
        at: &str,
        offset: f64,
    ) -> Result<(), MergeError> {
        let file = input.name.as_str();
        let s = &mut self.stats;
        s.requests += e.requests;
        s.failures += e.failures;
        s.interrupted += e.interrupted;
        s.bytes_sent += e.bytes_sent;
        s.bytes_received += e.bytes_received;
        s.retries += e.retries;
        for (code, n) in &e.status_codes {
            *s.status_codes.entry(*code).or_default() += n;
        }
        for (category, n) in &e.failures_by_category {
            *s.failures_by_category.entry(category.clone()).or_default() += n;
        }
        s.slowest.extend(e.slowest.iter().map(|r| SlowRequest {
            at_s: r.at_s + offset,
            ..r.clone()
        }));

        let none = EndpointHistograms::default();
        let h = h.unwrap_or(&none);
        let field = |f: &str| {
            let at = at.to_owned();
            let f = f.to_owned();
            move || format!("{at}.{f}")
        };
        add_encoded(
            &mut self.response_time,
            file,
            field("response_time"),
            &h.response_time,
            e.response_time.count,
        )?;
        add_encoded(
            &mut self.service_time,
            file,
            field("service_time"),
            &h.service_time,
            e.service_time.count,
        )?;
        // `failed` has no count beside it in the file: a missing one is a trimmed file,
        // and then the failed requests' times are merely not kept.
        add_encoded(&mut self.failed, file, field("failed"), &h.failed, 0)?;

        if let Some(stream) = &e.stream {
            let hs = h.stream.clone().unwrap_or_default();
            let m = self.stream.get_or_insert_with(|| StreamMerge {
                first_byte: empty(),
                first_event: empty(),
                event_gap: empty(),
                duration: empty(),
                events: crate::EventCounts::default(),
            });
            for ((name, encoded), (into, (_, l))) in hs.fields().into_iter().zip(
                [
                    &mut m.first_byte,
                    &mut m.first_event,
                    &mut m.event_gap,
                    &mut m.duration,
                ]
                .into_iter()
                .zip(stream.latencies()),
            ) {
                add_encoded(
                    into,
                    file,
                    field(&format!("stream.{name}")),
                    encoded,
                    l.count,
                )?;
            }
            m.events.merge(&stream.events);
        }
        if let Some(msg) = &e.messages {
            let m = s.messages.get_or_insert_with(MessageStats::default);
            m.sockets += msg.sockets;
            m.sent += msg.sent;
            m.received += msg.received;
            self.upgrades.push(msg.upgrade_time);
        }
        Ok(())
    }

    fn finish(mut self, warnings: &mut Vec<String>) -> (EndpointStats, EndpointHistograms) {
        let s = &mut self.stats;
        s.response_time = LatencyStats::from_histogram(&self.response_time);
        s.service_time = LatencyStats::from_histogram(&self.service_time);
        // The slowest of the union are the slowest of all; a stable sort keeps the first
        // file's on a tie, as one process keeps the one seen first.
        s.slowest
            .sort_by(|a, b| b.response_time_ms.total_cmp(&a.response_time_ms));
        s.slowest.truncate(SLOWEST);
        let stream = self.stream.map(|m| {
            s.stream = Some(StreamStats {
                first_byte: LatencyStats::from_histogram(&m.first_byte),
                first_event: LatencyStats::from_histogram(&m.first_event),
                event_gap: LatencyStats::from_histogram(&m.event_gap),
                duration: LatencyStats::from_histogram(&m.duration),
                events: m.events,
            });
            StreamHistograms {
                first_byte: encode_histogram(&m.first_byte),
                first_event: encode_histogram(&m.first_event),
                event_gap: encode_histogram(&m.event_gap),
                duration: encode_histogram(&m.duration),
            }
        });
        if let Some(m) = &mut s.messages {
            m.upgrade_time = unhistogrammed(&self.upgrades);
            if self.upgrades.iter().filter(|u| u.count > 0).count() > 1 {
                warnings.push(format!(
                    "{} {}: `messages.upgrade_time` percentiles are the highest of the \
                     generators' (an upper bound): the result file keeps no histogram of \
                     WebSocket upgrades; its count, min, mean and max are exact",
                    s.method, s.name
                ));
            }
        }
        let h = EndpointHistograms {
            response_time: encode_histogram(&self.response_time),
            service_time: encode_histogram(&self.service_time),
            failed: encode_histogram(&self.failed),
            stream,
        };
        (self.stats, h)
    }
}

/// Latencies that come without a histogram: count, min, max and the count-weighted mean
/// are exact; each percentile is the highest of the parts' (an upper bound: a mixture's
/// quantile lies between its parts' lowest and highest).
fn unhistogrammed(parts: &[LatencyStats]) -> LatencyStats {
    let parts: Vec<&LatencyStats> = parts.iter().filter(|p| p.count > 0).collect();
    let count: u64 = parts.iter().map(|p| p.count).sum();
    if count == 0 {
        return LatencyStats::default();
    }
    let highest = |f: fn(&LatencyStats) -> f64| parts.iter().map(|p| f(p)).fold(0.0, f64::max);
    LatencyStats {
        count,
        min: parts.iter().map(|p| p.min).fold(f64::INFINITY, f64::min),
        mean: parts.iter().map(|p| p.mean * p.count as f64).sum::<f64>() / count as f64,
        max: highest(|p| p.max),
        p50: highest(|p| p.p50),
        p75: highest(|p| p.p75),
        p90: highest(|p| p.p90),
        p95: highest(|p| p.p95),
        p99: highest(|p| p.p99),
        p999: highest(|p| p.p999),
    }
}

/// Failures by (endpoint, category), counts added, the first file's sample kept; in
/// endpoint order, then category order (as one process lists them).
fn merge_failures(
    inputs: &[&MergeInput],
    endpoints: &HashMap<(String, String, String), usize>,
) -> Vec<FailureStats> {
    let mut out: Vec<FailureStats> = Vec::new();
    for input in inputs {
        for f in &input.doc.failures {
            match out.iter_mut().find(|o| {
                o.scenario == f.scenario
                    && o.method == f.method
                    && o.name == f.name
                    && o.category == f.category
            }) {
                Some(o) => {
                    o.count += f.count;
                    if o.sample.is_empty() {
                        o.sample.clone_from(&f.sample);
                    }
                }
                None => out.push(f.clone()),
            }
        }
    }
    let category_rank = |c: &str| {
        FailureCategory::ALL
            .iter()
            .position(|k| k.as_str() == c)
            .unwrap_or(FailureCategory::COUNT)
    };
    out.sort_by_key(|f| {
        (
            endpoints
                .get(&(f.scenario.clone(), f.method.clone(), f.name.clone()))
                .copied()
                .unwrap_or(usize::MAX),
            category_rank(&f.category),
        )
    });
    out
}

/// Checks by (scenario, method, name, check), passes and fails added.
fn merge_checks(inputs: &[&MergeInput]) -> Vec<CheckStats> {
    let mut out: Vec<CheckStats> = Vec::new();
    for input in inputs {
        for c in &input.doc.checks {
            match out.iter_mut().find(|o| {
                o.scenario == c.scenario
                    && o.method == c.method
                    && o.name == c.name
                    && o.check == c.check
            }) {
                Some(o) => {
                    o.passes += c.passes;
                    o.fails += c.fails;
                }
                None => out.push(c.clone()),
            }
        }
    }
    out
}

/// Tasks by (scenario, user, task), durations from the merged histograms.
fn merge_tasks(
    inputs: &[&MergeInput],
) -> Result<(Vec<TaskStats>, Vec<TaskHistograms>), MergeError> {
    let mut out: Vec<(TaskStats, Histogram<u64>)> = Vec::new();
    for input in inputs {
        for (i, t) in input.doc.tasks.iter().enumerate() {
            let slot = match out
                .iter()
                .position(|(o, _)| o.scenario == t.scenario && o.user == t.user && o.task == t.task)
            {
                Some(n) => n,
                None => {
                    out.push((t.clone(), empty()));
                    out.len() - 1
                }
            };
            let encoded = input
                .doc
                .histograms
                .tasks
                .get(i)
                .map_or("", |h| h.duration.as_str());
            add_encoded(
                &mut out[slot].1,
                &input.name,
                || format!("histograms.tasks[{i}].duration"),
                encoded,
                t.duration.count,
            )?;
        }
    }
    Ok(out
        .into_iter()
        .map(|(t, h)| {
            let stats = TaskStats {
                iterations: h.len(),
                duration: LatencyStats::from_histogram(&h),
                ..t
            };
            let hist = TaskHistograms {
                duration: encode_histogram(&h),
            };
            (stats, hist)
        })
        .unzip())
}

fn merge_connections(
    inputs: &[&MergeInput],
) -> Result<(ConnectionStats, ConnectionHistograms), MergeError> {
    let (mut connect, mut tls) = (empty(), empty());
    let mut out = ConnectionStats::default();
    for input in inputs {
        let c = &input.doc.connections;
        let h = &input.doc.histograms.connections;
        out.opened += c.opened;
        out.http2 += c.http2;
        out.users_never_connected += c.users_never_connected;
        add_encoded(
            &mut connect,
            &input.name,
            || "histograms.connections.connect_time".to_owned(),
            &h.connect_time,
            c.connect_time.count,
        )?;
        add_encoded(
            &mut tls,
            &input.name,
            || "histograms.connections.tls_time".to_owned(),
            &h.tls_time,
            c.tls_time.count,
        )?;
    }
    out.connect_time = LatencyStats::from_histogram(&connect);
    out.tls_time = LatencyStats::from_histogram(&tls);
    let h = ConnectionHistograms {
        connect_time: encode_histogram(&connect),
        tls_time: encode_histogram(&tls),
    };
    Ok((out, h))
}

/// The generators' health over all of them: lag from the merged histograms, iterations
/// and drops added, the deepest queue and the busiest thread the highest of any (as one
/// process reports its busiest worker), the queue left at the end added.
fn merge_generator(
    inputs: &[&MergeInput],
) -> Result<(GeneratorStats, GeneratorHistograms), MergeError> {
    let (mut lag, mut delay) = (empty(), empty());
    let mut out = GeneratorStats::default();
    for input in inputs {
        let g = &input.doc.generator;
        let h = &input.doc.histograms.generator;
        out.iterations_started += g.iterations_started;
        out.dropped_iterations += g.dropped_iterations;
        out.queue_max = out.queue_max.max(g.queue_max);
        out.queue_depth += g.queue_depth;
        out.cpu_percent_max = out.cpu_percent_max.max(g.cpu_percent_max);
        add_encoded(
            &mut lag,
            &input.name,
            || "histograms.generator.schedule_lag".to_owned(),
            &h.schedule_lag,
            g.schedule_lag.count,
        )?;
        add_encoded(
            &mut delay,
            &input.name,
            || "histograms.generator.start_delay".to_owned(),
            &h.start_delay,
            g.start_delay.count,
        )?;
    }
    out.schedule_lag = LatencyStats::from_histogram(&lag);
    out.start_delay = LatencyStats::from_histogram(&delay);
    let h = GeneratorHistograms {
        schedule_lag: encode_histogram(&lag),
        start_delay: encode_histogram(&delay),
    };
    Ok((out, h))
}
