//! A hand-built snapshot for the view tests: known numbers, so the tests can assert exactly
//! how they are shown.

use std::collections::BTreeMap;
use std::time::Duration;

use barrage_metrics::{
    CheckStats, ConnectionStats, EndpointStats, FailureStats, LatencyStats, Snapshot, TaskStats,
};

pub(crate) fn latency(count: u64, base: f64) -> LatencyStats {
    LatencyStats {
        count,
        min: base * 0.077,
        mean: base,
        max: base * 20.26,
        p50: base * 0.83,
        p75: base * 1.2,
        p90: base * 2.4,
        p95: base * 3.25,
        p99: base * 9.77,
        p999: base * 19.45,
    }
}

fn endpoint(method: &str, name: &str, requests: u64, failures: u64, base: f64) -> EndpointStats {
    let ok = requests - failures;
    EndpointStats {
        scenario: "shop".into(),
        method: method.into(),
        name: name.into(),
        requests,
        failures,
        interrupted: 0,
        rps: requests as f64 / 65.0,
        current_rps: 0.0,
        failures_per_s: 0.0,
        response_time: latency(ok, base),
        service_time: latency(ok, base / 2.0),
        status_codes: if requests > 0 {
            BTreeMap::from([(200, ok)])
        } else {
            BTreeMap::new()
        },
        failures_by_category: BTreeMap::new(),
        bytes_sent: requests * 120,
        bytes_received: requests * 2048,
        retries: 0,
        slowest: Vec::new(),
        stream: None,
        messages: None,
    }
}

pub(crate) fn snapshot() -> Snapshot {
    let mut get = endpoint("GET", "/items/[item_name]", 1200, 3, 12.34);
    get.current_rps = 20.5;
    get.failures_per_s = 0.05;
    get.status_codes.insert(500, 3);
    get.failures_by_category.insert("status".into(), 3);
    let post = endpoint("POST", "/items/", 100, 0, 30.0);
    let idle = endpoint("GET", "/never-called", 0, 0, 0.0);
    let mut long = endpoint("GET", &format!("/{}end", "very/".repeat(12)), 0, 0, 0.0);
    long.interrupted = 1;

    let mut aggregate = endpoint("", "Aggregated", 1300, 3, 13.7);
    aggregate.scenario = String::new();
    aggregate.current_rps = 22.0;
    aggregate.failures_per_s = 0.05;
    aggregate.interrupted = 1;
    aggregate.status_codes = BTreeMap::from([(200, 1297), (500, 3)]);
    aggregate.failures_by_category.insert("status".into(), 3);

    Snapshot {
        generator: Default::default(),
        server: None,
        stats_since: Duration::ZERO,
        elapsed: Duration::from_secs(65),
        users: 120,
        in_flight: 0,
        endpoints: vec![get, post, idle, long],
        aggregate,
        failures: vec![
            FailureStats {
                scenario: "shop".into(),
                method: "GET".into(),
                name: "/items/[item_name]".into(),
                category: "status".into(),
                count: 3,
                sample: "HTTP 500 Internal Server Error: {\"detail\":\"boom\"}".into(),
            },
            FailureStats {
                scenario: "shop".into(),
                method: "POST".into(),
                name: "/items/".into(),
                category: "connect_refused".into(),
                count: 7,
                sample: "connection refused (127.0.0.1:8000)".into(),
            },
        ],
        checks: vec![CheckStats {
            scenario: "shop".into(),
            method: "POST".into(),
            name: "/items/".into(),
            check: "status == 201".into(),
            passes: 99,
            fails: 1,
        }],
        tasks: vec![TaskStats {
            scenario: "shop".into(),
            user: "shopper".into(),
            task: "read_item".into(),
            iterations: 600,
            duration: latency(600, 250.0),
        }],
        connections: ConnectionStats {
            opened: 120,
            connect_time: latency(120, 1.5),
            tls_time: LatencyStats::default(),
            users_never_connected: 0,
            http2: 0,
        },
    }
}
