//! The figures both exporters publish, taken once from a closed second (or the end).
//!
//! Why a copy of its own instead of rendering straight from [`barrage_session::Live`]: a
//! scrape or a push happens on another thread and at another moment than the second that
//! fed it, so each exporter keeps the newest [`Figures`] behind an `Arc` and renders from
//! that; and both formats (Prometheus text, OTLP protobuf) read the same few numbers, so
//! choosing them (which counters, which labels, the buckets beside their endpoint) happens
//! here, once.

use barrage_metrics::{BucketCounts, LatencyBuckets, Snapshot};

/// One endpoint's counters and latency buckets.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct EndpointFigures {
    pub scenario: String,
    pub method: String,
    pub name: String,
    /// Finished requests, failed ones included (the result file's `requests`).
    pub requests: u64,
    /// Failures by category ([`barrage_metrics::FailureCategory::as_str`]), in name order.
    pub failures: Vec<(String, u64)>,
    /// Response times of the timed (successful) requests, cumulative per bound.
    pub latency: BucketCounts,
}

/// One task's completed iterations.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct TaskFigures {
    pub scenario: String,
    pub user: String,
    pub task: String,
    pub iterations: u64,
}

/// Everything exported, as of one moment of the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Figures {
    /// The latency buckets' upper bounds in seconds (`+Inf` implied).
    pub bounds_s: Vec<f64>,
    pub endpoints: Vec<EndpointFigures>,
    pub tasks: Vec<TaskFigures>,
    pub users: u64,
    pub in_flight: u64,
    pub dropped_iterations: u64,
    /// The generator's schedule lag so far (wake-up minus intended start), in seconds:
    /// median, 99th percentile and maximum.
    pub schedule_lag_p50_s: f64,
    pub schedule_lag_p99_s: f64,
    pub schedule_lag_max_s: f64,
}

impl Figures {
    /// The figures of `snapshot`, with each endpoint's buckets from `buckets` (parallel to
    /// the snapshot's endpoints). Without buckets (the session was not asked for them) the
    /// histograms are empty: counts still go out.
    pub(crate) fn new(snapshot: &Snapshot, buckets: Option<&LatencyBuckets>) -> Figures {
        let bounds_s = buckets.map_or_else(Vec::new, |b| b.bounds_s.clone());
        let empty = BucketCounts {
            cumulative: vec![0; bounds_s.len()],
            ..BucketCounts::default()
        };
        let endpoints = snapshot
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| EndpointFigures {
                scenario: e.scenario.clone(),
                method: e.method.clone(),
                name: e.name.clone(),
                requests: e.requests,
                failures: e
                    .failures_by_category
                    .iter()
                    .map(|(category, &n)| (category.clone(), n))
                    .collect(),
                latency: buckets
                    .and_then(|b| b.endpoints.get(i))
                    .cloned()
                    .unwrap_or_else(|| empty.clone()),
            })
            .collect();
        let tasks = snapshot
            .tasks
            .iter()
            .map(|t| TaskFigures {
                scenario: t.scenario.clone(),
                user: t.user.clone(),
                task: t.task.clone(),
                iterations: t.iterations,
            })
            .collect();
        let lag = &snapshot.generator.schedule_lag;
        Figures {
            bounds_s,
            endpoints,
            tasks,
            users: snapshot.users,
            in_flight: snapshot.in_flight,
            dropped_iterations: snapshot.generator.dropped_iterations,
            schedule_lag_p50_s: lag.p50 / 1e3,
            schedule_lag_p99_s: lag.p99 / 1e3,
            schedule_lag_max_s: lag.max / 1e3,
        }
    }

    /// Requests over every endpoint.
    #[cfg(test)]
    pub(crate) fn requests(&self) -> u64 {
        self.endpoints.iter().map(|e| e.requests).sum()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use barrage_metrics::{EndpointStats, TaskStats};

    /// A snapshot of two endpoints, the second with failures, and buckets for both.
    pub(crate) fn sample() -> (Snapshot, LatencyBuckets) {
        let mut get = EndpointStats {
            scenario: "shop".into(),
            method: "GET".into(),
            name: "/items".into(),
            requests: 10,
            ..EndpointStats::default()
        };
        get.response_time.count = 10;
        let mut post = EndpointStats {
            scenario: "shop".into(),
            method: "POST".into(),
            name: "/cart \"x\"".into(),
            requests: 5,
            failures: 3,
            ..EndpointStats::default()
        };
        post.failures_by_category.insert("status".into(), 2);
        post.failures_by_category.insert("timeout".into(), 1);
        post.response_time.count = 2;
        let mut snapshot = Snapshot {
            elapsed: std::time::Duration::from_secs(3),
            users: 4,
            in_flight: 2,
            endpoints: vec![get, post],
            aggregate: EndpointStats::default(),
            failures: Vec::new(),
            checks: Vec::new(),
            tasks: vec![TaskStats {
                scenario: "shop".into(),
                user: "Buyer".into(),
                task: "browse".into(),
                iterations: 7,
                duration: Default::default(),
            }],
            connections: Default::default(),
            generator: Default::default(),
            server: None,
            stats_since: std::time::Duration::ZERO,
        };
        snapshot.generator.dropped_iterations = 1;
        snapshot.generator.schedule_lag.p50 = 0.5;
        snapshot.generator.schedule_lag.p99 = 2.0;
        snapshot.generator.schedule_lag.max = 12.0;
        let buckets = LatencyBuckets {
            bounds_s: vec![0.005, 0.01, 0.1],
            endpoints: vec![
                BucketCounts {
                    cumulative: vec![4, 9, 10],
                    count: 10,
                    sum_s: 0.07,
                },
                BucketCounts {
                    cumulative: vec![0, 0, 1],
                    count: 2,
                    sum_s: 0.3,
                },
            ],
            aggregate: BucketCounts {
                cumulative: vec![4, 9, 11],
                count: 12,
                sum_s: 0.37,
            },
        };
        (snapshot, buckets)
    }

    #[test]
    fn takes_counters_labels_and_buckets_per_endpoint() {
        let (snapshot, buckets) = sample();
        let f = Figures::new(&snapshot, Some(&buckets));
        assert_eq!(f.requests(), 15);
        assert_eq!(f.endpoints[1].method, "POST");
        assert_eq!(
            f.endpoints[1].failures,
            vec![("status".to_string(), 2), ("timeout".to_string(), 1)]
        );
        assert_eq!(f.endpoints[0].latency.cumulative, vec![4, 9, 10]);
        assert_eq!(f.tasks[0].iterations, 7);
        assert_eq!((f.users, f.in_flight, f.dropped_iterations), (4, 2, 1));
        assert_eq!(f.schedule_lag_max_s, 0.012);
    }

    #[test]
    fn without_buckets_the_histograms_are_empty_but_counts_go_out() {
        let (snapshot, _) = sample();
        let f = Figures::new(&snapshot, None);
        assert!(f.bounds_s.is_empty());
        assert_eq!(f.endpoints[0].latency.count, 0);
        assert_eq!(f.requests(), 15);
    }
}
