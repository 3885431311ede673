//! Comparisons of hand-built result files with known distributions: exact verdicts where the
//! numbers are known, and the noise rule on both sides of the line.

use barrage_metrics::{encode_histogram, new_histogram, Histogram, LatencyStats, ResultDoc};
use serde_json::{json, Value};

use super::*;

/// `n` response times spread evenly over `lo_ms ..= lo_ms + 99` ms, shifted by `shift_us` µs.
fn spread(n: u64, lo_ms: u64, shift_us: u64) -> Histogram<u64> {
    let mut h = new_histogram();
    for i in 0..n {
        let ns = (lo_ms + i * 100 / n) * 1_000_000 + (i * 7_919 % 1_000) * 1_000;
        h.record(ns + shift_us * 1_000).unwrap();
    }
    h
}

struct Ep {
    method: &'static str,
    name: &'static str,
    failures: u64,
    hist: Histogram<u64>,
}

fn ep(method: &'static str, name: &'static str, hist: Histogram<u64>) -> Ep {
    Ep {
        method,
        name,
        failures: 0,
        hist,
    }
}

fn stats_json(method: &str, name: &str, requests: u64, failures: u64, h: &Histogram<u64>) -> Value {
    json!({
        "scenario": "default", "method": method, "name": name,
        "requests": requests, "failures": failures, "interrupted": 0,
        "rps": requests as f64 / 10.0,
        "response_time": LatencyStats::from_histogram(h),
        "service_time": LatencyStats::from_histogram(h),
        "status_codes": {}, "failures_by_category": {},
        "bytes_sent": 0, "bytes_received": 0
    })
}

/// A version-1 result file of a 10 s run holding `eps` (built as JSON, as a reader sees it).
fn doc(eps: &[Ep]) -> ResultDoc {
    let mut all = new_histogram();
    let mut failures = 0;
    for e in eps {
        all.add(&e.hist).unwrap();
        failures += e.failures;
    }
    let endpoints: Vec<Value> = eps
        .iter()
        .map(|e| {
            stats_json(
                e.method,
                e.name,
                e.hist.len() + e.failures,
                e.failures,
                &e.hist,
            )
        })
        .collect();
    let hist = |h: &Histogram<u64>| {
        json!({"response_time": encode_histogram(h), "service_time": encode_histogram(h),
               "failed": encode_histogram(&new_histogram())})
    };
    let v = json!({
        "version": 1,
        "tool": {"name": "barrage", "version": "test"},
        "run": {
            "scenario_file": "s.yaml", "scenario_sha256": "abc", "target": "http://127.0.0.1:1",
            "started_at": "2025-01-31T14:05:09.123Z", "ended_at": "2025-01-31T14:05:19.123Z",
            "duration_s": 10.0, "workers": 2, "interrupted": false,
            "load": {"users": 10, "spawn_rate": null, "duration_s": 10.0, "iterations": null},
            "host": {"os": "linux", "arch": "x86_64", "cpus": 2}, "command": "barrage run s.yaml"
        },
        "endpoints": endpoints,
        "aggregate": stats_json("", "Aggregated", all.len() + failures, failures, &all),
        "histograms": {
            "encoding": "hdr-v2-deflate-base64", "unit": "ns",
            "endpoints": eps.iter().map(|e| hist(&e.hist)).collect::<Vec<_>>(),
            "aggregate": hist(&all)
        }
    });
    ResultDoc::from_json(&v.to_string()).expect("the test document is a valid result file")
}

fn run(base: &ResultDoc, new: &ResultDoc, gates: &[&str]) -> Comparison {
    let opts = CompareOptions {
        gates: gates.iter().map(|g| Gate::parse(g).unwrap()).collect(),
        ..CompareOptions::default()
    };
    compare(
        Side {
            label: "base.json",
            doc: base,
        },
        Side {
            label: "new.json",
            doc: new,
        },
        &opts,
    )
    .unwrap()
}

fn checks<'a>(c: &'a Comparison, endpoint: &str) -> Vec<&'a GateCheck> {
    c.gates.iter().filter(|g| g.endpoint == endpoint).collect()
}

#[test]
fn a_slowed_endpoint_fails_and_an_unchanged_one_passes() {
    let base = doc(&[
        ep("GET", "/work", spread(4_000, 5, 0)),
        ep("GET", "/", spread(4_000, 20, 0)),
    ]);
    let new = doc(&[
        ep("GET", "/work", spread(4_000, 5, 50_000)),
        ep("GET", "/", spread(4_000, 20, 3)),
    ]);
    let c = run(&base, &new, &["p95>+10%"]);
    assert_eq!(c.verdict, Verdict::Failed);
    let work = checks(&c, "GET /work");
    assert_eq!(work.len(), 1);
    assert_eq!(work[0].outcome, GateOutcome::Fail);
    assert!(work[0].detail.starts_with("p95 "), "{}", work[0].detail);
    assert_eq!(checks(&c, "GET /")[0].outcome, GateOutcome::Pass);

    let p95 = c.endpoints[0].metric(Metric::P95).unwrap();
    assert_eq!(p95.verdict, ChangeVerdict::Worse);
    assert!((p95.change - 50.0).abs() < 0.2, "{p95:?}");
    let [lo, hi] = p95.interval.unwrap();
    assert!(lo > 48.0 && hi < 52.0, "{p95:?}");
    assert_eq!(p95.samples, [4_000, 4_000]);
    assert_eq!(
        c.endpoints[1].metric(Metric::P95).unwrap().verdict,
        ChangeVerdict::Same
    );
    // The table shows the default five metrics; p95 is one of them, so nothing is added.
    let shown: Vec<Metric> = c.endpoints[0].metrics.iter().map(|m| m.metric).collect();
    assert_eq!(shown, Metric::DEFAULT.to_vec());
}

#[test]
fn a_change_beyond_the_gate_but_within_the_noise_passes() {
    // 400 values (the least a p95 needs): a 2 % rise is past a 1 % gate but well inside
    // the interval of about ±3 ms.
    let base = doc(&[ep("GET", "/", spread(400, 1, 0))]);
    let new = doc(&[ep("GET", "/", spread(400, 1, 1_900))]);
    let c = run(&base, &new, &["p95{name=\"/\"}>+1%"]);
    let check = &c.gates[0];
    assert_eq!(check.outcome, GateOutcome::Pass, "{check:?}");
    assert!(
        check.detail.contains("within the noise"),
        "{}",
        check.detail
    );
    assert_eq!(c.verdict, Verdict::Passed);
}

#[test]
fn too_few_samples_are_not_enough_data_not_a_guess() {
    let base = doc(&[ep("GET", "/", spread(399, 1, 0))]);
    let new = doc(&[ep("GET", "/", spread(5_000, 1, 90_000))]);
    let c = run(&base, &new, &["p95>+10%", "p50>+10%"]);
    let p95: Vec<_> = c.gates.iter().filter(|g| g.gate == "p95>+10%").collect();
    assert!(p95.iter().all(|g| g.outcome == GateOutcome::NotEnoughData));
    assert!(
        p95[0].detail.contains("at least 400 successful requests")
            && p95[0].detail.contains("BASE has 399, NEW 5000"),
        "{}",
        p95[0].detail
    );
    // p50 needs only 40: judged, and the 90 ms slowdown fails it.
    assert!(c
        .gates
        .iter()
        .filter(|g| g.gate == "p50>+10%")
        .all(|g| g.outcome == GateOutcome::Fail));
    assert_eq!(c.verdict, Verdict::Failed);

    let c = run(&base, &new, &["p95>+10%"]);
    assert_eq!(c.verdict, Verdict::NotEnoughData);
    let md = comparison_markdown(&c);
    assert!(md.starts_with("### ⚠️ barrage compare"), "{md}");
    assert!(
        md.contains("| `p95>+10%` | `GET /` | ⚠️ not enough data | p95 needs at least 400"),
        "{md}"
    );
    let m = c.endpoints[0].metric(Metric::P95).unwrap();
    assert_eq!(m.verdict, ChangeVerdict::NotEnoughData);
    assert!(m.interval.is_none());
}

#[test]
fn added_and_removed_endpoints_are_listed_not_judged() {
    let base = doc(&[
        ep("GET", "/", spread(1_000, 1, 0)),
        ep("GET", "/old", spread(10, 1, 0)),
    ]);
    let new = doc(&[
        ep("POST", "/new", spread(10, 1, 0)),
        ep("GET", "/", spread(1_000, 1, 0)),
    ]);
    let c = run(
        &base,
        &new,
        &[
            "p95>+50%",
            "p95{name=\"/old\"}>+1%",
            "p95{name=\"/gone\"}>+1%",
        ],
    );
    let presence: Vec<(&str, Presence)> = c
        .endpoints
        .iter()
        .map(|e| (e.name.as_str(), e.presence))
        .collect();
    assert_eq!(
        presence,
        [
            ("/new", Presence::Added),
            ("/", Presence::Both),
            ("/old", Presence::Removed)
        ]
    );
    assert_eq!(c.endpoints[0].requests, [0, 10]);
    assert_eq!(c.endpoints[2].requests, [10, 0]);
    // The unnarrowed gate: the shared endpoint and the aggregate, nothing else.
    let plain: Vec<&str> = c
        .gates
        .iter()
        .filter(|g| g.gate == "p95>+50%")
        .map(|g| g.endpoint.as_str())
        .collect();
    assert_eq!(plain, ["GET /", "Aggregated"]);
    let old = c.gates.iter().find(|g| g.endpoint == "GET /old").unwrap();
    assert_eq!(old.outcome, GateOutcome::NotEnoughData);
    assert!(old.detail.contains("only in BASE"));
    let gone = c.gates.iter().find(|g| g.gate.contains("/gone")).unwrap();
    assert_eq!(
        (gone.endpoint.as_str(), gone.outcome),
        ("-", GateOutcome::NotEnoughData)
    );
    assert!(gone.detail.contains("matches no endpoint"));
}

#[test]
fn error_rate_gates_use_points_and_the_binomial_noise() {
    let ok = || spread(1_000, 1, 0);
    let base = doc(&[ep("GET", "/", ok())]);
    let mut failing = ep("GET", "/", ok());
    failing.failures = 50; // 50 of 1,050: 4.76 %
    let c = run(&base, &doc(&[failing]), &["error_rate{name=\"/\"}>+1%"]);
    assert_eq!(c.gates[0].outcome, GateOutcome::Fail, "{:?}", c.gates[0]);
    let m = c.endpoints[0].metric(Metric::ErrorRate).unwrap();
    assert!((m.new - 50.0 * 100.0 / 1_050.0).abs() < 1e-9);
    assert_eq!(m.samples, [1_000, 1_050]);

    // 1 -> 3 failures in about 1,000: +0.2 points is past a 0.1-point gate, but noise.
    let mut one = ep("GET", "/", ok());
    one.failures = 1;
    let mut three = ep("GET", "/", ok());
    three.failures = 3;
    let c = run(
        &doc(&[one]),
        &doc(&[three]),
        &["error_rate{name=\"/\"}>+0.1%"],
    );
    assert_eq!(c.gates[0].outcome, GateOutcome::Pass);
    assert!(c.gates[0].detail.contains("within the noise"));
}

#[test]
fn throughput_drops_fail_a_less_than_gate() {
    let base = doc(&[ep("GET", "/", spread(2_000, 1, 0))]);
    let new = doc(&[ep("GET", "/", spread(1_000, 1, 0))]);
    let c = run(&base, &new, &["rps<-10%"]);
    let m = c.aggregate.metric(Metric::Rps).unwrap();
    assert_eq!((m.base, m.new), (200.0, 100.0));
    assert_eq!(m.relative, Some(-0.5));
    assert_eq!(m.verdict, ChangeVerdict::Worse);
    assert!(c.gates.iter().all(|g| g.outcome == GateOutcome::Fail));
    // And the same drop passes a gate on an increase.
    assert_eq!(run(&base, &new, &["rps>+10%"]).verdict, Verdict::Passed);
}

#[test]
fn gated_metrics_join_the_table_and_max_is_judged_raw() {
    let base = doc(&[ep("GET", "/", spread(1_000, 1, 0))]);
    let new = doc(&[ep("GET", "/", spread(1_000, 1, 30_000))]);
    let c = run(&base, &new, &["max>+20ms", "mean>+10%"]);
    let shown: Vec<Metric> = c.aggregate.metrics.iter().map(|m| m.metric).collect();
    assert_eq!(
        shown,
        [
            Metric::Rps,
            Metric::ErrorRate,
            Metric::P50,
            Metric::P95,
            Metric::P99,
            Metric::Mean,
            Metric::Max
        ]
    );
    let max = c.aggregate.metric(Metric::Max).unwrap();
    assert!(max.interval.is_none() && max.note.is_some());
    assert!(
        c.gates.iter().all(|g| g.outcome == GateOutcome::Fail),
        "{:?}",
        c.gates
    );
}

#[test]
fn identical_runs_change_nothing() {
    let d = doc(&[ep("GET", "/", spread(5_000, 1, 0))]);
    let c = run(
        &d,
        &d,
        &[
            "p95>+1%",
            "p99>+1%",
            "mean>+1%",
            "error_rate>+0.1%",
            "rps<-1%",
        ],
    );
    assert_eq!(c.verdict, Verdict::Passed);
    for m in &c.aggregate.metrics {
        assert_eq!(m.change, 0.0, "{m:?}");
        assert_eq!(m.verdict, ChangeVerdict::Same, "{m:?}");
    }
    assert!(c.notes.is_empty(), "{:?}", c.notes);
}

#[test]
fn notes_say_what_makes_runs_less_comparable() {
    let base = doc(&[ep("GET", "/", spread(100, 1, 0))]);
    let mut new = base.clone();
    new.run.scenario_sha256 = Some("def".into());
    new.run.load.users = Some(50);
    new.run.interrupted = true;
    let notes = run(&base, &new, &[]).notes;
    assert_eq!(
        notes,
        [
            "the runs used different scenario files (their SHA-256 differ)",
            "different load: BASE ran 10 users, NEW 50",
            "NEW was interrupted before its end",
        ]
    );
}

#[test]
fn missing_histograms_are_an_error_that_says_so() {
    let base = doc(&[ep("GET", "/", spread(100, 1, 0))]);
    let mut broken = base.clone();
    broken.histograms.endpoints.clear();
    let err = compare(
        Side {
            label: "base.json",
            doc: &base,
        },
        Side {
            label: "old.json",
            doc: &broken,
        },
        &CompareOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.file, "old.json");
    assert!(
        err.to_string().contains("has 0 entries for 1 endpoints"),
        "{err}"
    );
}

#[test]
fn views_show_the_verdicts() {
    let base = doc(&[
        ep("GET", "/work", spread(4_000, 5, 0)),
        ep("GET", "/a|b", spread(4_000, 5, 0)),
    ]);
    let new = doc(&[
        ep("GET", "/work", spread(4_000, 5, 50_000)),
        ep("GET", "/a|b", spread(4_000, 5, 0)),
    ]);
    let c = run(&base, &new, &["p95>+10%"]);

    let text = comparison_text(&c, &crate::ViewOptions { color: false });
    assert!(!text.contains('\x1b'));
    let row = text
        .lines()
        .find(|l| l.contains("p95 ms") && l.contains("worse"))
        .unwrap_or_else(|| panic!("no worse p95 row:\n{text}"));
    assert!(
        row.contains("| +50.1 ms (+50%)    +49.2 .. +51.0 | worse"),
        "{row}"
    );
    assert!(text.contains("FAIL"), "{text}");
    assert!(
        text.contains("Result: FAILED (2 of 3 gate checks failed)"),
        "{text}"
    );

    let md = comparison_markdown(&c);
    assert!(md.starts_with("### ❌ barrage compare\n"), "{md}");
    assert!(
        md.contains("| `p95>+10%` | `GET /work` | ❌ **fail** |"),
        "{md}"
    );
    assert!(
        md.contains("| `GET /a\\|b` | req/s |"),
        "pipes in names are escaped:\n{md}"
    );
    assert!(md.contains("| --- | --- | ---: | ---: | ---: | ---: | --- |"));

    let json: Value = serde_json::from_str(&comparison_json(&c)).unwrap();
    assert_eq!(json["verdict"], "failed");
    assert_eq!(json["endpoints"][0]["metrics"][3]["metric"], "p95");
    assert_eq!(json["endpoints"][0]["metrics"][3]["verdict"], "worse");
    assert_eq!(json["gates"][0]["outcome"], "fail");
    assert_eq!(json["aggregate"]["name"], "Aggregated");
}
