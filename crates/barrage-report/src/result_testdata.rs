//! A hand-built result file for the output tests (CSV, JUnit, Markdown): the view tests'
//! snapshot plus a run, a two-second series and real histograms with known values, read
//! through `ResultDoc::from_json` exactly as a saved file would be.

use barrage_metrics::{encode_histogram, new_histogram, LatencyStats, ResultDoc};
use serde_json::json;

use crate::testdata::snapshot;

/// A histogram (encoded) of `from..=to` milliseconds, one request each.
fn ms_range(from: u64, to: u64) -> (String, LatencyStats) {
    let mut h = new_histogram();
    for v in from..=to {
        h.record(v * 1_000_000).expect("in range");
    }
    (encode_histogram(&h), LatencyStats::from_histogram(&h))
}

/// Endpoint 0 (`GET /items/[item_name]`): 1200 requests, 3 failed, latencies 1..=1197 ms;
/// endpoint 1 (`POST /items/`): 100 requests, latencies 1..=100 ms; 2 and 3 idle.
pub(crate) fn result() -> ResultDoc {
    let s = snapshot();
    let mut endpoints = s.endpoints.clone();
    let (get_h, get_l) = ms_range(1, 1197);
    let (post_h, post_l) = ms_range(1, 100);
    endpoints[0].response_time = get_l;
    endpoints[1].response_time = post_l;
    let mut aggregate = s.aggregate.clone();
    let mut all = new_histogram();
    for v in (1..=1197u64).chain(1..=100) {
        all.record(v * 1_000_000).expect("in range");
    }
    aggregate.response_time = LatencyStats::from_histogram(&all);
    let hist = |rt: &str| json!({ "response_time": rt, "service_time": "", "failed": "" });
    let doc = json!({
        "version": 1,
        "tool": { "name": "barrage", "version": "0.1.0" },
        "run": {
            "scenario_file": "shop.yaml",
            "scenario_sha256": null,
            "target": "http://127.0.0.1:8000",
            "started_at": "2026-01-31T14:05:09.000Z",
            "ended_at": "2026-01-31T14:06:14.000Z",
            "duration_s": 65.0,
            "workers": 2,
            "interrupted": false,
            "load": { "users": 120, "spawn_rate": null, "duration_s": 65.0, "iterations": null },
            "host": { "os": "linux", "arch": "x86_64", "cpus": 2 },
            "command": "barrage run shop.yaml"
        },
        "endpoints": endpoints,
        "aggregate": aggregate,
        "failures": s.failures,
        "checks": [
            { "scenario": "shop", "method": "POST", "name": "/items/", "check": "status", "passes": 97, "fails": 3 },
            { "scenario": "shop", "method": "GET", "name": "/items/[item_name]", "check": "json '$.name'", "passes": 10, "fails": 0 }
        ],
        "series": [
            { "t": 1.0, "users": 60, "requests": 20, "failures": 1, "rps": 20.0,
              "p50": 4.5, "p95": 9.25, "p99": 12.0, "max": 15.5,
              "endpoints": [ { "i": 0, "requests": 20, "failures": 1, "p50": 4.5, "p95": 9.25, "p99": 12.0 } ] },
            { "t": 2.0, "users": 120, "requests": 30, "failures": 0, "rps": 30.0,
              "p50": 5.0, "p95": 10.0, "p99": 11.0, "max": 12.5,
              "endpoints": [
                { "i": 0, "requests": 25, "failures": 0, "p50": 5.0, "p95": 10.0, "p99": 11.0 },
                { "i": 1, "requests": 5, "failures": 0, "p50": 3.0, "p95": 4.0, "p99": 4.0 } ] }
        ],
        "histograms": {
            "encoding": "hdr-v2-deflate-base64",
            "unit": "ns",
            "endpoints": [ hist(&get_h), hist(&post_h), hist(""), hist("") ],
            "aggregate": hist(&encode_histogram(&all))
        }
    });
    ResultDoc::from_json(&doc.to_string()).expect("the test result is a valid result file")
}
