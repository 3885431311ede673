//! The `/metrics` page: [`Figures`] in the Prometheus text format (0.0.4), written by the
//! official `prometheus-client` crate.
//!
//! Why a [`Collector`] over precomputed values rather than the crate's live `Counter`s and
//! `Histogram`s: barrage's counts already exist (the session aggregates them once a
//! second), so the exporter only describes them; keeping a second set of metric objects
//! in step would be a copy that could drift. The crate still writes every line (names,
//! `_total`, `_bucket{le=..}`, escaping), so the page is what Prometheus expects.
//!
//! Names follow OpenTelemetry's HTTP client conventions where one exists, as its
//! Prometheus mapping spells them (`http.client.request.duration` in seconds becomes
//! `http_client_request_duration_seconds`); the rest are `barrage_*`. Every series carries
//! the run's `run_id`. docs/MONITORING.md lists them all.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use crate::figures::Figures;

/// What one scrape renders: the figures and the run they belong to.
#[derive(Debug)]
struct Page {
    figures: std::sync::Arc<Figures>,
    run_id: String,
}

/// The `/metrics` text of `figures`.
pub(crate) fn render(figures: std::sync::Arc<Figures>, run_id: &str) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Page {
        figures,
        run_id: run_id.to_owned(),
    }));
    let mut text = String::new();
    // Writing into a String cannot fail: fmt::Write for String is infallible.
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        .expect("writing to a String cannot fail");
    text
}

impl Collector for Page {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let f = &*self.figures;
        let run = ("run_id", self.run_id.as_str());
        let endpoint = |e| endpoint_labels(run, e);

        let mut m = enc.encode_descriptor(
            "http_client_request_duration",
            "Response time of barrage's timed (successful) requests, from the intended start \
             to the body complete",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for e in &f.endpoints {
            let buckets = histogram_buckets(&f.bounds_s, &e.latency.cumulative, e.latency.count);
            m.encode_family(&endpoint(e))?
                .encode_histogram::<NoExemplar>(e.latency.sum_s, e.latency.count, &buckets, None)?;
        }

        let mut m = enc.encode_descriptor(
            "barrage_requests",
            "Requests barrage finished, failed ones included",
            None,
            MetricType::Counter,
        )?;
        for e in &f.endpoints {
            m.encode_family(&endpoint(e))?
                .encode_counter::<NoExemplar, _, f64>(&e.requests, None)?;
        }

        let mut m = enc.encode_descriptor(
            "barrage_failures",
            "Failed requests by failure category",
            None,
            MetricType::Counter,
        )?;
        for e in &f.endpoints {
            for (category, n) in &e.failures {
                let labels = endpoint(e);
                let with_category: Vec<(&str, &str)> = labels
                    .iter()
                    .copied()
                    .chain([("category", category.as_str())])
                    .collect();
                m.encode_family(&with_category)?
                    .encode_counter::<NoExemplar, _, f64>(n, None)?;
            }
        }

        let mut m = enc.encode_descriptor(
            "barrage_users",
            "Virtual users running now",
            None,
            MetricType::Gauge,
        )?;
        m.encode_family(&[run])?.encode_gauge(&f.users)?;

        let mut m = enc.encode_descriptor(
            "http_client_active_requests",
            "Requests written and not yet answered (in flight)",
            None,
            MetricType::Gauge,
        )?;
        m.encode_family(&[run])?.encode_gauge(&f.in_flight)?;

        let mut m = enc.encode_descriptor(
            "barrage_iterations",
            "Completed iterations of each task",
            None,
            MetricType::Counter,
        )?;
        for t in &f.tasks {
            let labels = [
                run,
                ("scenario", t.scenario.as_str()),
                ("user", t.user.as_str()),
                ("task", t.task.as_str()),
            ];
            m.encode_family(&labels)?
                .encode_counter::<NoExemplar, _, f64>(&t.iterations, None)?;
        }

        let mut m = enc.encode_descriptor(
            "barrage_dropped_iterations",
            "Scheduled iterations dropped because every user was busy (arrival-rate loads)",
            None,
            MetricType::Counter,
        )?;
        m.encode_family(&[run])?
            .encode_counter::<NoExemplar, _, f64>(&f.dropped_iterations, None)?;

        let mut m = enc.encode_descriptor(
            "barrage_generator_schedule_lag",
            "How late barrage's scheduler woke for a scheduled start, over the run so far \
             (stat: p50, p99, max)",
            Some(&Unit::Seconds),
            MetricType::Gauge,
        )?;
        for (stat, v) in [
            ("p50", f.schedule_lag_p50_s),
            ("p99", f.schedule_lag_p99_s),
            ("max", f.schedule_lag_max_s),
        ] {
            m.encode_family(&[run, ("stat", stat)])?.encode_gauge(&v)?;
        }
        Ok(())
    }
}

/// An endpoint's labels: the run, the scenario, the method and the endpoint's name.
fn endpoint_labels<'a>(
    run: (&'a str, &'a str),
    e: &'a crate::figures::EndpointFigures,
) -> [(&'a str, &'a str); 4] {
    [
        run,
        ("scenario", e.scenario.as_str()),
        ("method", e.method.as_str()),
        ("name", e.name.as_str()),
    ]
}

/// The label set type of exemplars, which barrage does not attach.
type NoExemplar = prometheus_client::encoding::NoLabelSet;

/// `(upper bound, count in that bucket alone)` pairs, `+Inf` last, as the crate's
/// `encode_histogram` wants them: it adds them up into the cumulative `le` counts itself.
fn histogram_buckets(bounds_s: &[f64], cumulative: &[u64], count: u64) -> Vec<(f64, u64)> {
    let mut out = Vec::with_capacity(bounds_s.len() + 1);
    let mut below = 0;
    for (&bound, &c) in bounds_s.iter().zip(cumulative) {
        out.push((bound, c.saturating_sub(below)));
        below = below.max(c);
    }
    out.push((f64::INFINITY, count.saturating_sub(below)));
    out
}
