//! `--batch-window`: open-model starts due within the window after another share its
//! wake-up, so they go early (never late by design), and count their response times from
//! when they really began; every scheduled start still happens. Bounded runs against the
//! built-in target on loopback.

mod common;

use common::{barrage, read_json, run, stderr};

use barrage_target::{DemoOptions, DemoTarget, ServiceCapacity};
use serde_json::Value;

/// 300 starts at 250/s (4 ms apart) against a one-slot service taking 2 ms a request, with
/// `window`; the result file.
fn run_with_window(target: &DemoTarget, window: &str) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("window.json");
    let o = run(barrage().args([
        "hit",
        "--rate",
        "250",
        "-n",
        "300",
        "--workers",
        "1",
        "--batch-window",
        window,
        "--only-summary",
        "--json",
        out.to_str().unwrap(),
        &target.url(),
    ]));
    assert_eq!(o.status.code(), Some(0), "{window}: {}", stderr(&o));
    (read_json(&out), stderr(&o))
}

fn ms(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number: {v}"))
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "needs an optimized build; scripts/test.sh runs it optimized (--profile ci)"
)]
fn a_10ms_window_sends_starts_4ms_apart_in_threes_each_timed_from_its_real_start() {
    // One request in service at a time, each 2 ms: a lone request takes 2 ms; three sent
    // at once take 2, 4 and 6 ms.
    let target = DemoTarget::start(DemoOptions {
        capacity: Some(ServiceCapacity {
            slots: 1,
            service: std::time::Duration::from_millis(2),
        }),
        ..DemoOptions::no_delay()
    })
    .unwrap();

    let (wide, says) = run_with_window(&target, "10ms");
    assert!(
        says.contains("batch window 10ms"),
        "the run says it batches: {says}"
    );
    // Every scheduled start happened, and the target saw each request.
    assert_eq!(wide["aggregate"]["requests"].as_u64(), Some(300));
    assert_eq!(target.counts().values().sum::<u64>(), 300);
    // Starts at 0, 4 and 8 ms share the wake-up at 0 (12 is the next batch's first): the second and third go early and
    // wait in the service's line behind the first. Timed from when they really began, the
    // median is the second's 4 ms. (Timed from their intended starts, the early two would
    // read about 0; without batching every request reads 2 ms.)
    let p50 = ms(&wide["aggregate"]["response_time"]["p50"]);
    assert!(
        (3.5..5.5).contains(&p50),
        "response time p50 {p50} ms, about 4 ms expected"
    );
    // Nothing was held back: the first of each batch starts at its intended time, the
    // others before theirs.
    let lag = ms(&wide["generator"]["schedule_lag"]["p50"]);
    assert!(lag < 1.0, "schedule lag p50 {lag} ms, about 0 expected");

    // The contrast: a window of 0 wakes for every start, and each request is alone.
    let (each, _) = run_with_window(&target, "0ms");
    let p50 = ms(&each["aggregate"]["response_time"]["p50"]);
    assert!(
        (1.9..3.0).contains(&p50),
        "response time p50 {p50} ms, about 2 ms expected"
    );
}

#[test]
fn a_window_over_10ms_or_without_a_unit_exits_2_with_the_fix() {
    for (value, says) in [("11ms", "write a window up to 10ms"), ("10", "unit")] {
        let o = run(barrage().args([
            "hit",
            "--rate",
            "10",
            "-n",
            "1",
            "--batch-window",
            value,
            "http://127.0.0.1:9/",
        ]));
        assert_eq!(o.status.code(), Some(2), "{value}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{value}: {}", stderr(&o));
    }
}
