//! The aggregator seen from the engine's side: workers record, the control thread absorbs,
//! closes seconds and reads snapshots. Exact numbers wherever they are known.

use std::sync::Arc;
use std::time::Duration;

use barrage_metrics::{
    Aggregator, CheckId, EndpointId, FailureCategory, Recorder, Registry, TaskId, Timing,
};

struct Fixture {
    registry: Arc<Registry>,
    get: EndpointId,
    post: EndpointId,
    task: TaskId,
    check: CheckId,
}

fn fixture() -> Fixture {
    let mut r = Registry::default();
    let get = r.add_endpoint("shop", "GET", "/items/{{ id }}");
    let post = r.add_endpoint("shop", "POST", "/items/");
    let task = r.add_task("shop", "shopper", "read_item");
    let check = r.add_check(post, "status == 201");
    Fixture {
        registry: Arc::new(r),
        get,
        post,
        task,
        check,
    }
}

fn ms(response: u64, service: u64) -> Timing {
    Timing {
        response_time_ns: response * 1_000_000,
        service_time_ns: service * 1_000_000,
    }
}

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn snapshot_reports_what_the_workers_recorded() {
    let f = fixture();
    let mut w0 = Recorder::new(&f.registry);
    let mut w1 = Recorder::new(&f.registry);
    w0.set_users(3);
    w1.set_users(2);
    for v in 1..=100 {
        w0.success(f.get, 200, ms(v, v / 2), 10, 100);
    }
    for _ in 0..8 {
        w1.success(f.post, 201, ms(50, 40), 20, 30);
        w1.check(f.check, true);
    }
    w1.failure(
        f.post,
        FailureCategory::Check,
        Some(200),
        Some(ms(70, 60)),
        20,
        30,
        || "status == 201: got 200".into(),
    );
    w1.check(f.check, false);
    w1.failure(
        f.post,
        FailureCategory::ConnectRefused,
        None,
        None,
        0,
        0,
        || "connection refused (127.0.0.1:9)".into(),
    );
    w1.interrupted(f.get);
    // Two of the GETs went once more on a fresh connection (one per worker), one POST too.
    w0.retried(f.get, 1);
    w1.retried(f.get, 1);
    w1.retried(f.post, 1);
    w0.connection(2_000_000, Some(5_000_000));
    w1.connection(4_000_000, None);
    w0.iteration(f.task, 120_000_000);

    let mut agg = Aggregator::new(f.registry.clone());
    agg.absorb(0, w0.take_interval());
    agg.absorb(1, w1.take_interval());
    agg.close_second(2 * SECOND);
    let s = agg.snapshot(2 * SECOND);

    assert_eq!(s.elapsed, 2 * SECOND);
    assert_eq!(s.users, 5);
    assert_eq!(s.endpoints.len(), 2);

    let get = &s.endpoints[0];
    assert_eq!(
        (get.scenario.as_str(), get.method.as_str()),
        ("shop", "GET")
    );
    assert_eq!(get.name, "/items/{{ id }}");
    assert_eq!((get.requests, get.failures, get.interrupted), (100, 0, 1));
    assert_eq!(get.rps, 50.0);
    assert_eq!(get.current_rps, 50.0, "one closed second of 2 s");
    assert_eq!(get.response_time.count, 100);
    assert!((get.response_time.p50 - 50.0).abs() < 0.05);
    assert!((get.response_time.max - 100.0).abs() < 0.1);
    assert!((get.service_time.p50 - 25.0).abs() < 0.05);
    assert_eq!(get.status_codes.get(&200), Some(&100));
    assert_eq!((get.bytes_sent, get.bytes_received), (1000, 10_000));
    assert_eq!(get.retries, 2, "retries are counted apart from requests");
    assert_eq!(s.endpoints[1].retries, 1);
    assert_eq!(s.aggregate.retries, 3);
    assert_eq!(s.aggregate.failures, 2, "and never as failures");

    let post = &s.endpoints[1];
    assert_eq!((post.requests, post.failures), (10, 2));
    assert_eq!(
        post.response_time.count, 8,
        "latencies cover successes only"
    );
    assert_eq!(post.status_codes.get(&201), Some(&8));
    assert_eq!(
        post.status_codes.get(&200),
        Some(&1),
        "failed responses count too"
    );
    assert_eq!(post.failures_by_category.get("check"), Some(&1));
    assert_eq!(post.failures_by_category.get("connect_refused"), Some(&1));
    assert_eq!(post.failures_per_s, 1.0);

    let a = &s.aggregate;
    assert_eq!((a.method.as_str(), a.name.as_str()), ("", "Aggregated"));
    assert_eq!((a.requests, a.failures, a.interrupted), (110, 2, 1));
    assert_eq!(a.rps, 55.0);
    assert_eq!(a.response_time.count, 108);
    assert_eq!(a.status_codes.values().sum::<u64>(), 109);
    assert_eq!(a.bytes_sent, 1000 + 9 * 20);

    let failures: Vec<_> = s
        .failures
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                f.category.as_str(),
                f.count,
                f.sample.as_str(),
            )
        })
        .collect();
    assert_eq!(
        failures,
        vec![
            (
                "/items/",
                "connect_refused",
                1,
                "connection refused (127.0.0.1:9)"
            ),
            ("/items/", "check", 1, "status == 201: got 200"),
        ]
    );

    assert_eq!(s.checks.len(), 1);
    assert_eq!(s.checks[0].check, "status == 201");
    assert_eq!(s.checks[0].method, "POST");
    assert_eq!((s.checks[0].passes, s.checks[0].fails), (8, 1));

    assert_eq!(s.tasks[0].task, "read_item");
    assert_eq!(s.tasks[0].user, "shopper");
    assert_eq!(s.tasks[0].iterations, 1);
    assert!((s.tasks[0].duration.p50 - 120.0).abs() < 0.1);

    assert_eq!(s.connections.opened, 2);
    assert_eq!(s.connections.connect_time.count, 2);
    assert_eq!(s.connections.tls_time.count, 1);
    assert!((s.connections.tls_time.max - 5.0).abs() < 0.01);
}

#[test]
fn failures_keep_the_first_sample_across_intervals_and_workers() {
    let f = fixture();
    let mut agg = Aggregator::new(f.registry.clone());
    for (worker, msg) in [(0, "first"), (1, "second"), (0, "third")] {
        let mut w = Recorder::new(&f.registry);
        w.failure(
            f.get,
            FailureCategory::Status,
            Some(500),
            None,
            0,
            0,
            || msg.into(),
        );
        w.failure(
            f.get,
            FailureCategory::Status,
            Some(500),
            None,
            0,
            0,
            || unreachable!("a sample is already held for this interval"),
        );
        agg.absorb(worker, w.take_interval());
    }
    let s = agg.snapshot(SECOND);
    assert_eq!(s.failures.len(), 1);
    assert_eq!(s.failures[0].count, 6);
    assert_eq!(s.failures[0].sample, "first");
    assert_eq!(s.endpoints[0].status_codes.get(&500), Some(&6));
}

#[test]
fn series_has_one_small_summary_per_closed_second() {
    let f = fixture();
    let mut w = Recorder::new(&f.registry);
    let mut agg = Aggregator::new(f.registry.clone());
    // Second 1: 10 GETs at 10 ms. Second 2: nothing. Second 3 (half a second long): 4 POSTs
    // at 30 ms, one failed.
    w.set_users(4);
    for _ in 0..10 {
        w.success(f.get, 200, ms(10, 5), 0, 0);
    }
    agg.absorb(0, w.take_interval());
    agg.close_second(SECOND);
    agg.absorb(0, w.take_interval());
    agg.close_second(2 * SECOND);
    for _ in 0..3 {
        w.success(f.post, 201, ms(30, 20), 0, 0);
    }
    w.failure(
        f.post,
        FailureCategory::Status,
        Some(500),
        None,
        0,
        0,
        || "HTTP 500".into(),
    );
    agg.absorb(0, w.take_interval());
    agg.close_second(Duration::from_millis(2500));

    let series = agg.series();
    assert_eq!(series.len(), 3);
    assert_eq!(series[0].t, 1.0);
    assert_eq!(series[0].users, 4);
    assert_eq!((series[0].requests, series[0].failures), (10, 0));
    assert_eq!(series[0].rps, 10.0);
    assert!(
        (9_990..=10_010).contains(&series[0].p50),
        "{}",
        series[0].p50
    );
    assert_eq!(series[0].endpoints.len(), 1);
    assert_eq!(series[0].endpoints[0].i, 0);
    assert_eq!(series[1].requests, 0);
    assert!(
        series[1].endpoints.is_empty(),
        "idle endpoints are left out"
    );
    assert_eq!(series[2].t, 2.5);
    assert_eq!(series[2].rps, 8.0, "4 requests in half a second");
    assert_eq!(series[2].endpoints[0].i, 1);
    assert_eq!(
        (
            series[2].endpoints[0].requests,
            series[2].endpoints[0].failures
        ),
        (4, 1)
    );

    // current rates: the last three closed seconds span 2.5 s.
    let s = agg.snapshot(Duration::from_millis(2500));
    assert_eq!(s.aggregate.current_rps, 14.0 / 2.5);
    assert_eq!(s.endpoints[1].failures_per_s, 1.0 / 2.5);
    assert_eq!(s.aggregate.rps, 14.0 / 2.5);
}

#[test]
fn current_rates_use_only_the_last_three_seconds() {
    let f = fixture();
    let mut w = Recorder::new(&f.registry);
    let mut agg = Aggregator::new(f.registry.clone());
    for (second, n) in [10, 20, 30, 40].into_iter().enumerate() {
        for _ in 0..n {
            w.success(f.get, 200, ms(1, 1), 0, 0);
        }
        agg.absorb(0, w.take_interval());
        agg.close_second(SECOND * (second as u32 + 1));
    }
    let s = agg.snapshot(4 * SECOND);
    assert_eq!(s.endpoints[0].current_rps, 30.0);
    assert_eq!(s.endpoints[0].rps, 25.0);
}

#[test]
fn users_are_the_sum_of_each_workers_latest_gauge() {
    let f = fixture();
    let mut agg = Aggregator::new(f.registry.clone());
    let mut w0 = Recorder::new(&f.registry);
    let mut w2 = Recorder::new(&f.registry);
    w0.set_users(10);
    w2.set_users(5);
    agg.absorb(0, w0.take_interval());
    agg.absorb(2, w2.take_interval());
    assert_eq!(agg.users(), 15);
    w0.set_users(1);
    agg.absorb(0, w0.take_interval());
    assert_eq!(agg.snapshot(SECOND).users, 6);
}

#[test]
fn users_that_never_connected_are_the_waiting_gauge_plus_those_that_ended_so() {
    let f = fixture();
    let mut agg = Aggregator::new(f.registry.clone());
    let mut w0 = Recorder::new(&f.registry);
    let mut w1 = Recorder::new(&f.registry);
    // Worker 0: 7 users running, 3 still waiting for a first connection.
    w0.set_users(7);
    w0.set_unconnected(3);
    w1.set_users(4);
    w1.set_unconnected(2);
    agg.absorb(0, w0.take_interval());
    agg.absorb(1, w1.take_interval());
    assert_eq!(
        agg.users(),
        11,
        "users waiting for a connection are not running"
    );
    assert_eq!(agg.users_never_connected(), 5);
    // The run ends: worker 0's three waiting users end without a connection; one of
    // worker 1's got one in the meantime and the other ended without.
    w0.set_users(0);
    w0.set_unconnected(0);
    for _ in 0..3 {
        w0.ended_unconnected();
    }
    w1.set_users(0);
    w1.set_unconnected(0);
    w1.ended_unconnected();
    agg.absorb(0, w0.take_interval());
    agg.absorb(1, w1.take_interval());
    // A later interval carries the gauge but counts no user twice.
    agg.absorb(0, w0.take_interval());
    agg.close_second(SECOND);
    agg.reset();
    let s = agg.snapshot(2 * SECOND);
    assert_eq!(s.users, 0);
    assert_eq!(
        s.connections.users_never_connected, 4,
        "a fact about the whole run: kept across a statistics reset"
    );
}

#[test]
fn reset_drops_cumulative_stats_and_restarts_the_rate_clock() {
    let f = fixture();
    let mut w = Recorder::new(&f.registry);
    let mut agg = Aggregator::new(f.registry.clone());
    for _ in 0..100 {
        w.success(f.get, 200, ms(500, 400), 0, 0);
    }
    w.check(f.check, false);
    agg.absorb(0, w.take_interval());
    agg.close_second(10 * SECOND);
    agg.reset();
    assert_eq!(agg.stats_since(), 10 * SECOND);
    for _ in 0..20 {
        w.success(f.get, 200, ms(5, 4), 0, 0);
    }
    agg.absorb(0, w.take_interval());
    agg.close_second(11 * SECOND);

    let s = agg.snapshot(12 * SECOND);
    assert_eq!(s.endpoints[0].requests, 20);
    assert_eq!(
        s.endpoints[0].rps, 10.0,
        "20 requests over the 2 s since the reset"
    );
    assert!(s.endpoints[0].response_time.max < 6.0);
    assert_eq!(s.checks[0].fails, 0);
    assert_eq!(
        agg.series().len(),
        2,
        "the series is a timeline and survives a reset"
    );
}

#[test]
fn an_empty_run_reports_zeros_not_nan() {
    let f = fixture();
    let agg = Aggregator::new(f.registry.clone());
    let s = agg.snapshot(Duration::ZERO);
    assert_eq!(s.aggregate.requests, 0);
    assert_eq!(s.aggregate.rps, 0.0);
    assert_eq!(s.aggregate.current_rps, 0.0);
    assert_eq!(s.aggregate.response_time.p99, 0.0);
    assert!(s.failures.is_empty());
    assert_eq!(s.endpoints.len(), 2, "idle endpoints are still listed");
}

#[test]
fn one_response_time_histogram_equals_the_results() {
    let f = fixture();
    let mut w = Recorder::new(&f.registry);
    for v in 1..=100 {
        w.success(f.get, 200, ms(v, v / 2), 10, 100);
    }
    for _ in 0..8 {
        w.success(f.post, 201, ms(50, 40), 20, 30);
    }
    let mut agg = Aggregator::new(f.registry.clone());
    agg.absorb(0, w.take_interval());
    let doc = agg.result(barrage_metrics::RunMeta::default(), SECOND);
    let h = &doc.histograms;
    assert_eq!(
        agg.response_time_histogram(None).as_deref(),
        Some(h.aggregate.response_time.as_str())
    );
    for e in [f.get, f.post] {
        let i = e.0 as usize;
        assert_eq!(
            agg.response_time_histogram(Some(i)).as_deref(),
            Some(h.endpoints[i].response_time.as_str())
        );
    }
    let post = barrage_metrics::decode_histogram(
        &agg.response_time_histogram(Some(f.post.0 as usize))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(post.len(), 8);
    assert_eq!(agg.response_time_histogram(Some(2)), None);
}
