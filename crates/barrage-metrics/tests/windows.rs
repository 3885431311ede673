//! 10-second windows and the in-flight gauge, from the aggregator's side: which window each
//! closed second lands in, that windows add up to the run, that their histograms merge
//! back into the run's exactly, and that a reader checks them.

use std::sync::Arc;
use std::time::Duration;

use barrage_metrics::{
    decode_histogram, new_histogram, Aggregator, FailureCategory, Recorder, Registry, ResultDoc,
    ResultError, RunMeta, Timing, WINDOW_SECONDS,
};

/// The wall clock at the run's start: a quarter past 7 s into a 10 s window.
const WALL_START: f64 = 1_700_000_007.25;
const W0: u64 = 1_700_000_000;

fn ms(v: u64) -> Timing {
    Timing {
        response_time_ns: v * 1_000_000,
        service_time_ns: v * 900_000,
    }
}

/// Second `k` (from 1): `k` GETs of `k` ms on worker 0; one POST on worker 1, which fails
/// every fifth second. Returns (requests, failures) recorded.
fn record_second(k: u64, w0: &mut Recorder, w1: &mut Recorder) -> (u64, u64) {
    for _ in 0..k {
        w0.success(barrage_metrics::EndpointId(0), 200, ms(k), 0, 0);
    }
    let post = barrage_metrics::EndpointId(1);
    if k.is_multiple_of(5) {
        w1.failure(
            post,
            FailureCategory::Status,
            Some(500),
            Some(ms(3)),
            0,
            0,
            || "HTTP 500".into(),
        );
        (k + 1, 1)
    } else {
        w1.success(post, 201, ms(40 + k), 0, 0);
        (k + 1, 0)
    }
}

fn registry() -> Arc<Registry> {
    let mut r = Registry::default();
    r.add_endpoint("s", "GET", "/a");
    r.add_endpoint("s", "POST", "/b");
    Arc::new(r)
}

/// 25 whole seconds and a last one of 0.4 s (two GETs), with the wall start above.
fn run(reset_after: Option<u64>) -> (Aggregator, Vec<(u64, u64)>) {
    let registry = registry();
    let (mut w0, mut w1) = (Recorder::new(&registry), Recorder::new(&registry));
    let mut agg = Aggregator::new(registry);
    agg.set_wall_start(WALL_START);
    let mut per_second = Vec::new();
    for k in 1..=25u64 {
        per_second.push(record_second(k, &mut w0, &mut w1));
        agg.absorb(0, w0.take_interval());
        agg.absorb(1, w1.take_interval());
        agg.close_second(Duration::from_secs(k));
        if reset_after == Some(k) {
            agg.reset();
        }
    }
    let get = barrage_metrics::EndpointId(0);
    w0.success(get, 200, ms(7), 0, 0);
    w0.success(get, 200, ms(7), 0, 0);
    per_second.push((2, 0));
    agg.absorb(0, w0.take_interval());
    agg.absorb(1, w1.take_interval());
    agg.close_second(Duration::from_millis(25_400));
    (agg, per_second)
}

#[test]
fn each_second_lands_in_the_window_holding_its_wall_clock_start() {
    let (agg, per_second) = run(None);
    let doc = agg.result(RunMeta::default(), Duration::from_millis(25_400));
    let starts: Vec<u64> = doc.windows.iter().map(|w| w.start).collect();
    assert_eq!(starts, [W0, W0 + 10, W0 + 20, W0 + 30]);
    assert!(starts.iter().all(|s| s % WINDOW_SECONDS == 0));
    // Second k starts at 07.25 + (k - 1) on the wall clock: seconds 1-3 (07.25 to 09.25)
    // in the first window, 4-13 in the second, 14-23 in the third, 24 to the end in the
    // open one.
    let ts: Vec<f64> = doc.windows.iter().map(|w| w.t).collect();
    assert_eq!(ts, [3.0, 13.0, 23.0, 25.4]);
    let expected = |seconds: std::ops::RangeInclusive<usize>| -> (u64, u64) {
        per_second[seconds.start() - 1..*seconds.end()]
            .iter()
            .fold((0, 0), |(r, f), &(r2, f2)| (r + r2, f + f2))
    };
    let got: Vec<(u64, u64)> = doc
        .windows
        .iter()
        .map(|w| (w.aggregate.requests, w.aggregate.failures))
        .collect();
    assert_eq!(
        got,
        [
            expected(1..=3),
            expected(4..=13),
            expected(14..=23),
            expected(24..=26)
        ]
    );
    // 1+2+3 GETs and three POSTs; none failed (5 is the first failing second).
    assert_eq!(got[0], (9, 0));
    // Seconds 24, 25 and the last: 24 + 25 + 2 GETs, two POSTs, one failed (25).
    assert_eq!(got[3], (53, 1));
    let total: u64 = doc.windows.iter().map(|w| w.aggregate.requests).sum();
    assert_eq!(total, doc.aggregate.requests);
    let failures: u64 = doc.windows.iter().map(|w| w.aggregate.failures).sum();
    assert_eq!(failures, doc.aggregate.failures);
    // Per endpoint too, and every endpoint was active in every window.
    for (i, e) in doc.endpoints.iter().enumerate() {
        let sum: u64 = doc
            .windows
            .iter()
            .flat_map(|w| w.endpoints.iter().filter(|x| x.i as usize == i))
            .map(|x| x.entry.requests)
            .sum();
        assert_eq!(sum, e.requests, "endpoint {i}");
    }
    assert!(doc.windows.iter().all(|w| w.endpoints.len() == 2));
    // The written file reads back with its windows.
    let back = ResultDoc::from_json(&doc.to_json()).unwrap();
    assert_eq!(back.windows, doc.windows);
}

#[test]
fn window_histograms_merge_into_the_runs_exactly() {
    let (agg, _) = run(None);
    let doc = agg.result(RunMeta::default(), Duration::from_millis(25_400));
    let merged = |select: &dyn Fn(&barrage_metrics::Window) -> Option<String>| {
        let mut h = new_histogram();
        for w in &doc.windows {
            if let Some(encoded) = select(w) {
                h.add(decode_histogram(&encoded).unwrap()).unwrap();
            }
        }
        h
    };
    for i in 0..doc.endpoints.len() {
        let h = merged(&|w| {
            w.endpoints
                .iter()
                .find(|e| e.i as usize == i)
                .map(|e| e.entry.response_time.clone())
        });
        let run = doc.histograms.endpoints[i].response_time().unwrap();
        assert_eq!(h, run, "endpoint {i}");
        assert_eq!(h.len(), doc.endpoints[i].response_time.count);
    }
    let h = merged(&|w| Some(w.aggregate.response_time.clone()));
    assert_eq!(h, doc.histograms.aggregate.response_time().unwrap());
    // Window 0 holds GETs of 1, 2 and 3 ms (one, two and three of them) and POSTs.
    let w0 = decode_histogram(&doc.windows[0].endpoints[0].entry.response_time).unwrap();
    assert_eq!(w0.len(), 6);
    assert_eq!(w0.value_at_quantile(0.5), w0.highest_equivalent(2_000_000));
}

#[test]
fn closed_windows_are_shared_and_the_open_one_is_its_aggregate() {
    let registry = registry();
    let (mut w0, mut w1) = (Recorder::new(&registry), Recorder::new(&registry));
    let mut agg = Aggregator::new(registry);
    agg.set_wall_start(WALL_START);
    assert!(agg.open_window().is_none(), "no second closed yet");
    for k in 1..=3 {
        record_second(k, &mut w0, &mut w1);
        agg.absorb(0, w0.take_interval());
        agg.absorb(1, w1.take_interval());
        agg.close_second(Duration::from_secs(k));
    }
    assert!(agg.windows().is_empty(), "the first window is still open");
    let open = agg.open_window().unwrap();
    assert_eq!((open.start, open.t), (W0, 3.0));
    assert_eq!((open.aggregate.requests, open.aggregate.failures), (9, 0));
    assert!(open.endpoints.is_empty(), "aggregate only");
    assert_eq!(
        decode_histogram(&open.aggregate.response_time)
            .unwrap()
            .len(),
        9
    );
    record_second(4, &mut w0, &mut w1);
    agg.absorb(0, w0.take_interval());
    agg.absorb(1, w1.take_interval());
    agg.close_second(Duration::from_secs(4));
    assert_eq!(agg.windows().len(), 1);
    let first = agg.windows()[0].clone();
    assert_eq!(first.aggregate.requests, 9);
    assert_eq!(agg.open_window().unwrap().aggregate.requests, 5);
    agg.close_second(Duration::from_secs(5));
    assert!(
        Arc::ptr_eq(&first, &agg.windows()[0]),
        "a closed window is encoded once and shared"
    );
}

#[test]
fn a_statistics_reset_keeps_the_windows() {
    let (agg, per_second) = run(Some(15));
    assert_eq!(agg.windows().len(), 3);
    let doc = agg.result(RunMeta::default(), Duration::from_millis(25_400));
    assert_eq!(doc.windows.len(), 4);
    let total: u64 = doc.windows.iter().map(|w| w.aggregate.requests).sum();
    let recorded: u64 = per_second.iter().map(|&(r, _)| r).sum();
    assert_eq!(total, recorded, "windows are over time, like the series");
    let after: u64 = per_second[15..].iter().map(|&(r, _)| r).sum();
    assert_eq!(
        doc.aggregate.requests, after,
        "the totals start at the reset"
    );
}

#[test]
fn without_a_wall_start_windows_follow_the_runs_own_seconds() {
    let registry = registry();
    let mut agg = Aggregator::new(registry);
    for k in 1..=21 {
        agg.close_second(Duration::from_secs(k));
    }
    let starts: Vec<u64> = agg.windows().iter().map(|w| w.start).collect();
    assert_eq!(starts, [0, 10]);
    assert_eq!(agg.open_window().unwrap().start, 20);
}

#[test]
fn in_flight_is_a_gauge_summed_over_workers() {
    let registry = registry();
    let (mut w0, mut w1) = (Recorder::new(&registry), Recorder::new(&registry));
    let mut agg = Aggregator::new(registry);
    w0.set_in_flight(3);
    w1.set_in_flight(2);
    agg.absorb(0, w0.take_interval());
    agg.absorb(1, w1.take_interval());
    agg.close_second(Duration::from_secs(1));
    assert_eq!(agg.in_flight(), 5);
    assert_eq!(agg.snapshot(Duration::from_secs(1)).in_flight, 5);
    // A gauge carries over to the next interval; it is not a count.
    agg.absorb(0, w0.take_interval());
    w1.set_in_flight(0);
    agg.absorb(1, w1.take_interval());
    agg.close_second(Duration::from_secs(2));
    let series: Vec<u64> = agg.series().iter().map(|s| s.in_flight).collect();
    assert_eq!(series, [5, 3]);
    let doc = agg.result(RunMeta::default(), Duration::from_secs(2));
    assert_eq!(doc.snapshot().in_flight, 3, "the last second's gauge");
}

fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> Result<ResultDoc, ResultError> {
    let (agg, _) = run(None);
    let mut v: serde_json::Value = serde_json::from_str(
        &agg.result(RunMeta::default(), Duration::from_millis(25_400))
            .to_json(),
    )
    .unwrap();
    edit(&mut v);
    ResultDoc::from_json(&v.to_string())
}

#[test]
fn windows_that_no_run_produces_are_refused_with_the_place() {
    let problem = |edit: fn(&mut serde_json::Value)| match edited(edit) {
        Err(ResultError::Inconsistent(i)) => format!("{i}"),
        other => panic!("read: {other:?}"),
    };
    assert_eq!(
        problem(|v| v["windows"][1]["start"] = (W0 + 15).into()),
        "windows[1]: `start` (1700000015) is not a multiple of 10"
    );
    assert_eq!(
        problem(|v| v["windows"][2]["start"] = W0.into()),
        "windows[2]: `start` (1700000000) does not come after the window before \
         (1700000010); windows are in time order, one per start"
    );
    assert_eq!(
        problem(|v| v["windows"][0]["endpoints"][1]["failures"] = 99.into()),
        "windows[0]: endpoints[i=1]: `failures` (99) is greater than `requests` (3)"
    );
    assert_eq!(
        problem(|v| v["windows"][0]["endpoints"][1]["i"] = 7.into()),
        "windows[0]: endpoint index 7 is not one of the file's 2 endpoints in order"
    );
    assert_eq!(
        problem(|v| v["windows"][0]["aggregate"]["requests"] = 10.into()),
        "windows[0]: aggregate `requests` is 10 but the endpoints' add up to 9"
    );
    assert!(edited(|_| {}).is_ok());
}
