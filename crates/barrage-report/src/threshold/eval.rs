//! Judging a threshold against what a run measured.
//!
//! Everything comes from a [`Snapshot`] (the numbers every view shows), except percentiles
//! over several endpoints: those are not the mean of the endpoints' percentiles, so they are
//! read from the endpoints' HDR histograms merged, which a result file carries. Without the
//! histograms (live) such a threshold is `pending`, never guessed.
//!
//! A threshold with nothing to measure (no request matched, no successful request to time,
//! no check ran, no monitored source measured a server figure) fails with a note that says
//! so: in CI, "the gate saw nothing" must not pass.

use barrage_metrics::{EndpointStats, HistogramSet, LatencyStats, Snapshot};

use super::{Metric, Stat, Threshold, Timing};
use crate::vocab::{Figure, FigureStat};

/// What a threshold saw and what it decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// In the metric's unit; `None` when there was nothing to measure.
    pub observed: Option<f64>,
    pub passed: bool,
    /// Why `observed` is missing, or how it was computed when that is worth saying.
    pub note: Option<String>,
    /// The value needs histograms this evaluation did not have (live); not a verdict yet.
    pub pending: bool,
}

impl Evaluation {
    fn value(t: &Threshold, observed: f64) -> Evaluation {
        Evaluation {
            observed: Some(observed),
            passed: t.op.holds(observed, t.limit),
            note: None,
            pending: false,
        }
    }

    fn nothing(note: impl Into<String>) -> Evaluation {
        Evaluation {
            observed: None,
            passed: false,
            note: Some(note.into()),
            pending: false,
        }
    }
}

/// Judges `t` against `s`. `histograms`, parallel to `s.endpoints` (a result file's), lets
/// percentiles over several endpoints be computed exactly; pass `None` live.
pub fn evaluate(t: &Threshold, s: &Snapshot, histograms: Option<&HistogramSet>) -> Evaluation {
    match t.metric {
        Metric::DroppedIterations => Evaluation::value(t, s.generator.dropped_iterations as f64),
        Metric::Checks => checks(t, s),
        Metric::Server(figure, stat) => server(t, s, figure, stat),
        _ => {
            let selected: Vec<usize> = if t.matchers.is_empty() {
                Vec::new()
            } else {
                let chosen: Vec<usize> = (0..s.endpoints.len())
                    .filter(|&i| {
                        let e = &s.endpoints[i];
                        t.selects(&e.scenario, &e.method, &e.name, None)
                    })
                    .collect();
                if chosen.is_empty() {
                    return Evaluation::nothing("no endpoint matches the label matchers");
                }
                chosen
            };
            endpoint_metric(t, s, &selected, histograms)
        }
    }
}

/// `selected` empty means "all endpoints": the snapshot's aggregate.
fn endpoint_metric(
    t: &Threshold,
    s: &Snapshot,
    selected: &[usize],
    histograms: Option<&HistogramSet>,
) -> Evaluation {
    let parts: Vec<&EndpointStats> = if selected.is_empty() {
        vec![&s.aggregate]
    } else {
        selected.iter().map(|&i| &s.endpoints[i]).collect()
    };
    let requests: u64 = parts.iter().map(|e| e.requests).sum();
    let failures: u64 = parts.iter().map(|e| e.failures).sum();
    match t.metric {
        Metric::Requests => Evaluation::value(t, requests as f64),
        Metric::Failures => Evaluation::value(t, failures as f64),
        Metric::Rps => Evaluation::value(t, parts.iter().map(|e| e.rps).sum()),
        Metric::ErrorRate if requests == 0 => Evaluation::nothing("no request was made"),
        Metric::ErrorRate => Evaluation::value(t, failures as f64 / requests as f64),
        Metric::Latency(timing, stat) => {
            let latency = |e: &EndpointStats| match timing {
                Timing::Response => e.response_time,
                Timing::Service => e.service_time,
            };
            // (index into the snapshot's endpoints, latency) of the parts that have one.
            let measured: Vec<(usize, LatencyStats)> = parts
                .iter()
                .enumerate()
                .map(|(k, e)| (selected.get(k).copied().unwrap_or(0), latency(e)))
                .filter(|(_, l)| l.count > 0)
                .collect();
            match measured.as_slice() {
                [] => Evaluation::nothing("no successful request to time"),
                [(_, one)] => Evaluation::value(t, pick(one, stat)),
                several => merged(t, several, stat, timing, histograms),
            }
        }
        // Handled by `evaluate`.
        Metric::Checks | Metric::DroppedIterations | Metric::Server(..) => {
            Evaluation::nothing("not an endpoint metric")
        }
    }
}

/// A statistic over several endpoints' latencies.
fn merged(
    t: &Threshold,
    measured: &[(usize, LatencyStats)],
    stat: Stat,
    timing: Timing,
    histograms: Option<&HistogramSet>,
) -> Evaluation {
    let parts: Vec<&LatencyStats> = measured.iter().map(|(_, l)| l).collect();
    let selected: Vec<usize> = measured.iter().map(|(i, _)| *i).collect();
    let count: u64 = parts.iter().map(|l| l.count).sum();
    match stat {
        Stat::Mean => Evaluation::value(
            t,
            parts.iter().map(|l| l.mean * l.count as f64).sum::<f64>() / count as f64,
        ),
        Stat::Min => Evaluation::value(t, parts.iter().map(|l| l.min).fold(f64::INFINITY, f64::min)),
        Stat::Max => Evaluation::value(t, parts.iter().map(|l| l.max).fold(0.0, f64::max)),
        _ => match histograms.and_then(|h| merge_histograms(h, &selected, timing)) {
            Some(stats) => {
                let mut e = Evaluation::value(t, pick(&stats, stat));
                e.note = Some(format!(
                    "{} endpoints, from their merged histograms",
                    selected.len()
                ));
                e
            }
            None if histograms.is_none() => Evaluation {
                observed: None,
                passed: false,
                note: Some(format!(
                    "a percentile over {} endpoints is judged at the end, from their merged histograms",
                    selected.len()
                )),
                pending: true,
            },
            None => Evaluation::nothing(format!(
                "a percentile over {} endpoints needs their histograms, and the result file's are missing or damaged; narrow the matchers to one endpoint",
                selected.len()
            )),
        },
    }
}

fn merge_histograms(h: &HistogramSet, selected: &[usize], timing: Timing) -> Option<LatencyStats> {
    let mut total = barrage_metrics::new_histogram();
    for &i in selected {
        let e = h.endpoints.get(i)?;
        let one = match timing {
            Timing::Response => e.response_time(),
            Timing::Service => e.service_time(),
        }
        .ok()?;
        total.add(&one).ok()?;
    }
    Some(LatencyStats::from_histogram(&total))
}

fn pick(l: &LatencyStats, stat: Stat) -> f64 {
    match stat {
        Stat::P50 => l.p50,
        Stat::P75 => l.p75,
        Stat::P90 => l.p90,
        Stat::P95 => l.p95,
        Stat::P99 => l.p99,
        Stat::P999 => l.p999,
        Stat::Mean => l.mean,
        Stat::Min => l.min,
        Stat::Max => l.max,
    }
}

/// A server figure, from the snapshot's `server` stats (live: the samples so far; at the
/// end: the result's `server.stats`). Nothing monitored it: fail and name the flag, as a
/// gate that saw nothing must not pass.
fn server(t: &Threshold, s: &Snapshot, figure: Figure, stat: FigureStat) -> Evaluation {
    match s
        .server
        .as_deref()
        .and_then(|stats| stats.figure(figure.name()))
    {
        Some(f) if f.count > 0 => Evaluation::value(t, stat.of(f)),
        // Something was monitored: the source may have been given and never answered.
        _ if s.server.is_some() => Evaluation::nothing(format!(
            "nothing measured {}: it needs {} (a source that was unreachable or lost the \
             whole run measures nothing; see the Server section)",
            figure.name(),
            figure.measured_by()
        )),
        _ => Evaluation::nothing(format!(
            "nothing measured {}: it needs {}",
            figure.name(),
            figure.measured_by()
        )),
    }
}

fn checks(t: &Threshold, s: &Snapshot) -> Evaluation {
    let (mut passes, mut fails, mut matched) = (0u64, 0u64, 0usize);
    for c in &s.checks {
        if t.selects(&c.scenario, &c.method, &c.name, Some(&c.check)) {
            passes += c.passes;
            fails += c.fails;
            matched += 1;
        }
    }
    if matched == 0 {
        return Evaluation::nothing(if t.matchers.is_empty() {
            "the scenario has no checks"
        } else {
            "no check matches the label matchers"
        });
    }
    if passes + fails == 0 {
        return Evaluation::nothing("no check ran");
    }
    Evaluation::value(t, passes as f64 / (passes + fails) as f64)
}
