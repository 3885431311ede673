//! One OTLP push: [`Figures`] as an `ExportMetricsServiceRequest`, built from the official
//! OpenTelemetry protobuf definitions (`opentelemetry-proto`).
//!
//! Every point is cumulative from the run's start (temporality `CUMULATIVE`), so a lost
//! push loses nothing: the next one carries the totals. Names and attributes follow the
//! OpenTelemetry semantic conventions where one exists (`http.client.request.duration` in
//! seconds with `http.request.method` and `url.template`, `http.client.active_requests`,
//! `error.type`); barrage's own figures are `barrage.*`. The run is the resource
//! (`service.name` = `barrage`, `barrage.run_id`).

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::figures::{EndpointFigures, Figures};

/// When the figures cover: from the run's start to now, in nanoseconds since the epoch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub start_unix_nano: u64,
    pub now_unix_nano: u64,
}

/// The request for `figures` of run `run_id`.
pub(crate) fn request(figures: &Figures, run_id: &str, span: Span) -> ExportMetricsServiceRequest {
    let cumulative = AggregationTemporality::Cumulative as i32;
    let point = |attributes: Vec<KeyValue>, value: number_data_point::Value| NumberDataPoint {
        attributes,
        start_time_unix_nano: span.start_unix_nano,
        time_unix_nano: span.now_unix_nano,
        value: Some(value),
        ..NumberDataPoint::default()
    };
    let int = |n: u64| number_data_point::Value::AsInt(i64::try_from(n).unwrap_or(i64::MAX));
    let counter = |name: &str, unit: &str, description: &str, points: Vec<NumberDataPoint>| {
        metric(
            name,
            unit,
            description,
            metric::Data::Sum(Sum {
                data_points: points,
                aggregation_temporality: cumulative,
                is_monotonic: true,
            }),
        )
    };
    let gauge = |name: &str, unit: &str, description: &str, points: Vec<NumberDataPoint>| {
        metric(
            name,
            unit,
            description,
            metric::Data::Gauge(Gauge {
                data_points: points,
            }),
        )
    };

    let histogram = Histogram {
        data_points: figures
            .endpoints
            .iter()
            .map(|e| HistogramDataPoint {
                attributes: endpoint_attributes(e),
                start_time_unix_nano: span.start_unix_nano,
                time_unix_nano: span.now_unix_nano,
                count: e.latency.count,
                sum: Some(e.latency.sum_s),
                bucket_counts: per_bucket(&e.latency.cumulative, e.latency.count),
                explicit_bounds: figures.bounds_s.clone(),
                ..HistogramDataPoint::default()
            })
            .collect(),
        aggregation_temporality: cumulative,
    };
    let metrics = vec![
        metric(
            "http.client.request.duration",
            "s",
            "Response time of barrage's timed (successful) requests, from the intended start \
             to the body complete",
            metric::Data::Histogram(histogram),
        ),
        counter(
            "barrage.requests",
            "{request}",
            "Requests barrage finished, failed ones included",
            figures
                .endpoints
                .iter()
                .map(|e| point(endpoint_attributes(e), int(e.requests)))
                .collect(),
        ),
        counter(
            "barrage.failures",
            "{request}",
            "Failed requests by failure category (error.type)",
            figures
                .endpoints
                .iter()
                .flat_map(|e| {
                    e.failures.iter().map(move |(category, n)| {
                        let mut a = endpoint_attributes(e);
                        a.push(attribute("error.type", category));
                        (a, *n)
                    })
                })
                .map(|(a, n)| point(a, int(n)))
                .collect(),
        ),
        gauge(
            "barrage.users",
            "{user}",
            "Virtual users running now",
            vec![point(Vec::new(), int(figures.users))],
        ),
        gauge(
            "http.client.active_requests",
            "{request}",
            "Requests written and not yet answered (in flight)",
            vec![point(Vec::new(), int(figures.in_flight))],
        ),
        counter(
            "barrage.iterations",
            "{iteration}",
            "Completed iterations of each task",
            figures
                .tasks
                .iter()
                .map(|t| {
                    let a = vec![
                        attribute("barrage.scenario", &t.scenario),
                        attribute("barrage.user", &t.user),
                        attribute("barrage.task", &t.task),
                    ];
                    point(a, int(t.iterations))
                })
                .collect(),
        ),
        counter(
            "barrage.dropped_iterations",
            "{iteration}",
            "Scheduled iterations dropped because every user was busy (arrival-rate loads)",
            vec![point(Vec::new(), int(figures.dropped_iterations))],
        ),
        gauge(
            "barrage.generator.schedule_lag",
            "s",
            "How late barrage's scheduler woke for a scheduled start, over the run so far \
             (barrage.stat: p50, p99, max)",
            [
                ("p50", figures.schedule_lag_p50_s),
                ("p99", figures.schedule_lag_p99_s),
                ("max", figures.schedule_lag_max_s),
            ]
            .into_iter()
            .map(|(stat, v)| {
                point(
                    vec![attribute("barrage.stat", stat)],
                    number_data_point::Value::AsDouble(v),
                )
            })
            .collect(),
        ),
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    attribute("service.name", "barrage"),
                    attribute("barrage.run_id", run_id),
                ],
                ..Resource::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "barrage".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..InstrumentationScope::default()
                }),
                metrics,
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    }
}

fn metric(name: &str, unit: &str, description: &str, data: metric::Data) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: description.into(),
        data: Some(data),
        ..Metric::default()
    }
}

fn attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..KeyValue::default()
    }
}

/// The semantic conventions' HTTP client attributes, and the scenario.
fn endpoint_attributes(e: &EndpointFigures) -> Vec<KeyValue> {
    vec![
        attribute("http.request.method", &e.method),
        attribute("url.template", &e.name),
        attribute("barrage.scenario", &e.scenario),
    ]
}

/// OTLP's explicit-bucket counts: each bucket alone (not cumulative), one more than the
/// bounds (the last is above every bound).
fn per_bucket(cumulative: &[u64], count: u64) -> Vec<u64> {
    let mut out = Vec::with_capacity(cumulative.len() + 1);
    let mut below = 0;
    for &c in cumulative {
        out.push(c.saturating_sub(below));
        below = below.max(c);
    }
    out.push(count.saturating_sub(below));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::tests::sample;

    fn find<'a>(r: &'a ExportMetricsServiceRequest, name: &str) -> &'a Metric {
        r.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("{name} is exported"))
    }

    fn text(kv: &[KeyValue], key: &str) -> Option<String> {
        kv.iter()
            .find(|a| a.key == key)
            .and_then(|a| match a.value.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(s) => Some(s.clone()),
                _ => None,
            })
    }

    #[test]
    fn the_histogram_is_per_bucket_cumulative_over_time_with_the_conventions_attributes() {
        let (snapshot, buckets) = sample();
        let f = Figures::new(&snapshot, Some(&buckets));
        let span = Span {
            start_unix_nano: 1_000,
            now_unix_nano: 5_000,
        };
        let r = request(&f, "run-1", span);
        let resource = r.resource_metrics[0].resource.as_ref().unwrap();
        assert_eq!(
            text(&resource.attributes, "service.name").unwrap(),
            "barrage"
        );
        assert_eq!(
            text(&resource.attributes, "barrage.run_id").unwrap(),
            "run-1"
        );

        let m = find(&r, "http.client.request.duration");
        assert_eq!(m.unit, "s");
        let Some(metric::Data::Histogram(h)) = &m.data else {
            panic!("a histogram")
        };
        assert_eq!(
            h.aggregation_temporality,
            AggregationTemporality::Cumulative as i32
        );
        let p = &h.data_points[0];
        assert_eq!(p.explicit_bounds, vec![0.005, 0.01, 0.1]);
        // Cumulative 4, 9, 10 of 10 become 4, 5, 1 and 0 above 0.1 s.
        assert_eq!(p.bucket_counts, vec![4, 5, 1, 0]);
        assert_eq!(p.bucket_counts.iter().sum::<u64>(), p.count);
        assert_eq!((p.count, p.sum), (10, Some(0.07)));
        assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (1_000, 5_000));
        assert_eq!(text(&p.attributes, "http.request.method").unwrap(), "GET");
        assert_eq!(text(&p.attributes, "url.template").unwrap(), "/items");
        assert_eq!(text(&p.attributes, "barrage.scenario").unwrap(), "shop");
        // 2 timed requests, one at or below 0.1 s, one above.
        assert_eq!(h.data_points[1].bucket_counts, vec![0, 0, 1, 1]);
    }

    #[test]
    fn counters_are_monotonic_cumulative_sums_and_failures_carry_error_type() {
        let (snapshot, buckets) = sample();
        let r = request(
            &Figures::new(&snapshot, Some(&buckets)),
            "run-1",
            Span {
                start_unix_nano: 1,
                now_unix_nano: 2,
            },
        );
        let sum = |name: &str| match &find(&r, name).data {
            Some(metric::Data::Sum(s)) => s.clone(),
            other => panic!("{name} is a sum, not {other:?}"),
        };
        let value = |p: &NumberDataPoint| match p.value {
            Some(number_data_point::Value::AsInt(n)) => n,
            _ => panic!("an integer"),
        };
        let requests = sum("barrage.requests");
        assert!(requests.is_monotonic);
        assert_eq!(
            requests.aggregation_temporality,
            AggregationTemporality::Cumulative as i32
        );
        assert_eq!(requests.data_points.iter().map(value).sum::<i64>(), 15);
        let failures = sum("barrage.failures");
        let by_type: Vec<(String, i64)> = failures
            .data_points
            .iter()
            .map(|p| (text(&p.attributes, "error.type").unwrap(), value(p)))
            .collect();
        assert_eq!(
            by_type,
            vec![("status".to_string(), 2), ("timeout".to_string(), 1)]
        );
        assert_eq!(value(&sum("barrage.iterations").data_points[0]), 7);
        assert_eq!(value(&sum("barrage.dropped_iterations").data_points[0]), 1);
        let Some(metric::Data::Gauge(users)) = &find(&r, "barrage.users").data else {
            panic!("a gauge")
        };
        assert_eq!(value(&users.data_points[0]), 4);
    }
}
