//! The result file is a contract with other tools: its shape, its round trip, and that the
//! histograms inside give back exactly the numbers reported next to them.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use barrage_metrics::{
    decode_histogram, format_timestamp, Aggregator, FailureCategory, HostInfo, LatencyStats,
    LoadInfo, Recorder, Registry, ResultDoc, ResultError, RunMeta, Timing,
};

fn meta() -> RunMeta {
    RunMeta {
        tool_version: "0.1.0".into(),
        scenario_file: Some("shop.yaml".into()),
        scenario_sha256: Some("ab".repeat(32)),
        target: "http://127.0.0.1:8000".into(),
        started_at: format_timestamp(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)),
        ended_at: format_timestamp(UNIX_EPOCH + Duration::from_millis(1_700_000_003_123)),
        duration_s: 0.0,
        workers: 2,
        interrupted: false,
        load: LoadInfo {
            model: Some("10 users (5 started per second) for 3s".into()),
            rate: None,
            users: Some(10),
            spawn_rate: Some(5.0),
            duration_s: Some(3.0),
            iterations: None,
        },
        host: HostInfo::current(),
        command: "barrage run shop.yaml -u 10 -r 5 -t 3s".into(),
        run_id: "3b2f6c1e-0d4a-4f7e-9a51-5c2d8e1f0a77".into(),
        segment: None,
        start_at: None,
    }
}

/// A small run: two endpoints over three seconds and two workers, latencies 1..=1000 ms.
fn run() -> (Aggregator, Duration) {
    let mut r = Registry::default();
    let get = r.add_endpoint("shop", "GET", "/items/[item_name]");
    let post = r.add_endpoint("shop", "POST", "/items/");
    let task = r.add_task("shop", "shopper", "read_item");
    let check = r.add_check(post, "status == 201");
    let registry = Arc::new(r);
    let mut workers = [Recorder::new(&registry), Recorder::new(&registry)];
    let mut agg = Aggregator::new(registry);
    for second in 1..=3u64 {
        for (w, rec) in workers.iter_mut().enumerate() {
            rec.set_users(5);
            for v in 1..=1000u64 {
                if v % 2 == w as u64 {
                    rec.success(
                        get,
                        200,
                        Timing {
                            response_time_ns: v * 1_000_000,
                            service_time_ns: v * 900_000,
                        },
                        120,
                        2_048,
                    );
                }
            }
            rec.success(
                post,
                201,
                Timing {
                    response_time_ns: 40_000_000 + second,
                    service_time_ns: 30_000_000,
                },
                300,
                80,
            );
            rec.check(check, true);
            rec.failure(
                post,
                FailureCategory::Status,
                Some(422),
                Some(Timing {
                    response_time_ns: 12_000_000,
                    service_time_ns: 11_000_000,
                }),
                300,
                90,
                || "HTTP 422 Unprocessable Entity".into(),
            );
            rec.connection(1_500_000, Some(4_000_000));
            rec.iteration(task, 250_000_000);
            agg.absorb(w, rec.take_interval());
        }
        agg.close_second(Duration::from_secs(second));
    }
    (agg, Duration::from_secs(3))
}

#[test]
fn result_numbers_match_the_snapshot() {
    let (agg, elapsed) = run();
    let doc = agg.result(meta(), elapsed);
    let snap = agg.snapshot(elapsed);
    assert_eq!(doc.version, 2);
    assert_eq!(doc.tool.name, "barrage");
    assert_eq!(doc.tool.version, "0.1.0");
    assert_eq!(doc.run.duration_s, 3.0);
    let without_live_rates = |e: &barrage_metrics::EndpointStats| barrage_metrics::EndpointStats {
        current_rps: 0.0,
        failures_per_s: 0.0,
        ..e.clone()
    };
    let endpoints: Vec<_> = snap.endpoints.iter().map(without_live_rates).collect();
    assert_eq!(doc.endpoints, endpoints);
    assert_eq!(doc.aggregate, without_live_rates(&snap.aggregate));
    assert_eq!(doc.failures, snap.failures);
    assert_eq!(doc.checks, snap.checks);
    assert_eq!(doc.tasks, snap.tasks);
    assert_eq!(doc.connections, snap.connections);
    assert_eq!(doc.series.len(), 3);
    assert_eq!(doc.endpoints[0].requests, 3000);
    assert_eq!(doc.endpoints[0].rps, 1000.0);
    assert_eq!(doc.endpoints[1].requests, 12);
    assert_eq!(doc.endpoints[1].failures, 6);
    assert_eq!(doc.aggregate.requests, 3012);
    let total: u64 = doc.series.iter().map(|s| s.requests).sum();
    assert_eq!(
        total, doc.aggregate.requests,
        "the series adds up to the totals"
    );
}

#[test]
fn decoded_histograms_give_the_reported_numbers_exactly() {
    let (agg, elapsed) = run();
    let doc = agg.result(meta(), elapsed);
    assert_eq!(doc.histograms.encoding, "hdr-v2-deflate-base64");
    assert_eq!(doc.histograms.unit, "ns");
    assert_eq!(doc.histograms.endpoints.len(), doc.endpoints.len());
    for (stats, h) in doc.endpoints.iter().zip(&doc.histograms.endpoints) {
        let rt = h.response_time().unwrap();
        assert_eq!(LatencyStats::from_histogram(&rt), stats.response_time);
        let st = h.service_time().unwrap();
        assert_eq!(LatencyStats::from_histogram(&st), stats.service_time);
    }
    let agg_rt = doc.histograms.aggregate.response_time().unwrap();
    assert_eq!(
        LatencyStats::from_histogram(&agg_rt),
        doc.aggregate.response_time
    );
    let failed = doc.histograms.endpoints[1].failed().unwrap();
    assert_eq!(failed.len(), 6);
    let task = decode_histogram(&doc.histograms.tasks[0].duration).unwrap();
    assert_eq!(LatencyStats::from_histogram(&task), doc.tasks[0].duration);
    let tls = decode_histogram(&doc.histograms.connections.tls_time).unwrap();
    assert_eq!(LatencyStats::from_histogram(&tls), doc.connections.tls_time);

    // Percentiles of 1..=1000 ms (three times over): within HDR precision of the truth.
    let p = &doc.endpoints[0].response_time;
    for (got, want) in [
        (p.p50, 500.0),
        (p.p99, 990.0),
        (p.p999, 999.0),
        (p.max, 1000.0),
    ] {
        assert!((got - want).abs() <= want * 0.001, "{got} vs {want}");
    }
}

#[test]
fn round_trips_through_a_file() {
    let (agg, elapsed) = run();
    let doc = agg.result(meta(), elapsed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("result.json");
    std::fs::write(&path, "old contents").unwrap();
    doc.write_atomic(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let back = ResultDoc::from_json(&text).unwrap();
    assert_eq!(back, doc);
    assert_eq!(back.run.tool_version, "0.1.0");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
}

#[test]
fn json_has_the_documented_shape() {
    let (agg, elapsed) = run();
    let v: serde_json::Value =
        serde_json::from_str(&agg.result(meta(), elapsed).to_json()).unwrap();
    assert_eq!(v["version"], 2);
    assert_eq!(v["tool"]["name"], "barrage");
    assert_eq!(v["tool"]["version"], "0.1.0");
    let run = &v["run"];
    assert_eq!(run["started_at"], "2023-11-14T22:13:20.123Z");
    assert_eq!(run["scenario_file"], "shop.yaml");
    assert_eq!(run["load"]["users"], 10);
    assert!(run["load"]["iterations"].is_null());
    assert!(run["host"]["cpus"].as_u64().unwrap() >= 1);
    assert!(run.get("tool_version").is_none());

    let ep = &v["endpoints"][0];
    for key in [
        "scenario",
        "method",
        "name",
        "requests",
        "failures",
        "interrupted",
        "rps",
        "response_time",
        "service_time",
        "status_codes",
        "failures_by_category",
        "bytes_sent",
        "bytes_received",
        "retries",
    ] {
        assert!(ep.get(key).is_some(), "endpoint lacks {key}");
    }
    assert!(ep.get("current_rps").is_none(), "live-only fields stay out");
    for key in [
        "count", "min", "mean", "max", "p50", "p75", "p90", "p95", "p99", "p999",
    ] {
        assert!(ep["response_time"][key].is_number(), "latency lacks {key}");
    }
    assert_eq!(ep["status_codes"]["200"], 3000);
    assert_eq!(v["endpoints"][1]["failures_by_category"]["status"], 6);
    assert_eq!(v["aggregate"]["name"], "Aggregated");
    assert_eq!(v["aggregate"]["method"], "");
    assert_eq!(v["failures"][0]["category"], "status");
    assert_eq!(v["failures"][0]["sample"], "HTTP 422 Unprocessable Entity");
    assert_eq!(v["checks"][0]["check"], "status == 201");
    assert_eq!(v["tasks"][0]["task"], "read_item");
    assert_eq!(v["connections"]["opened"], 6);
    let second = &v["series"][0];
    assert_eq!(second["t"], 1.0);
    assert_eq!(second["users"], 10);
    assert!(second["p95"].is_f64());
    assert_eq!(second["endpoints"][1]["i"], 1);
    assert_eq!(v["histograms"]["encoding"], "hdr-v2-deflate-base64");
    assert!(v["histograms"]["aggregate"]["failed"].is_string());
    // One window (three seconds, no wall-clock start given: aligned to the run's own).
    let w = &v["windows"][0];
    assert_eq!(v["windows"].as_array().unwrap().len(), 1);
    assert_eq!((w["start"].as_u64(), w["t"].as_f64()), (Some(0), Some(3.0)));
    assert_eq!(w["aggregate"]["requests"], 3012);
    assert_eq!(w["aggregate"]["failures"], 6);
    assert!(w["aggregate"]["response_time"].is_string());
    assert_eq!(w["endpoints"][1]["i"], 1);
    assert_eq!(
        w["endpoints"][1]["requests"], 12,
        "the entry is flattened beside `i`"
    );
    assert_eq!(second["in_flight"], 0);
}

#[test]
fn other_versions_are_refused_with_a_clear_error() {
    for found in [0u64, 3] {
        let err = ResultDoc::from_json(&format!(r#"{{"version": {found}, "endpoints": []}}"#))
            .unwrap_err();
        assert!(
            matches!(
                err,
                ResultError::UnsupportedVersion { found: f, oldest: 1, supported: 2 } if f == found
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "result file version {found} is not supported; this barrage reads versions 1 to 2"
            )
        );
    }
    assert!(matches!(
        ResultDoc::from_json("{}"),
        Err(ResultError::Json(_))
    ));
}

/// A file written by barrage before windows existed (the CI example's committed baseline,
/// from a real 30 s run) still reads, with no windows, its numbers as written.
#[test]
fn a_version_1_file_still_reads() {
    let text = include_str!("../../../examples/ci/baseline.json");
    let raw: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(raw["version"], 1);
    assert!(raw.get("windows").is_none());
    let doc = ResultDoc::from_json(text).expect("a version-1 file reads");
    assert_eq!(doc.version, 1, "the version read is kept");
    assert!(doc.windows.is_empty());
    assert_eq!(
        doc.aggregate.requests,
        raw["aggregate"]["requests"].as_u64().unwrap()
    );
    assert_eq!(doc.series.len(), raw["series"].as_array().unwrap().len());
    assert!(
        doc.series.iter().all(|s| s.in_flight == 0),
        "read as 0 when absent"
    );
    // Written again (with the newer fields, empty) and read back, it is the same document.
    let again = ResultDoc::from_json(&doc.to_json()).unwrap();
    assert_eq!(again, doc);
}

#[test]
fn readers_ignore_fields_they_do_not_know() {
    let (agg, elapsed) = run();
    let mut v: serde_json::Value =
        serde_json::from_str(&agg.result(meta(), elapsed).to_json()).unwrap();
    v["thresholds"] = serde_json::json!([{"expr": "p95 < 200ms", "ok": true}]);
    v["endpoints"][0]["p99_9_future"] = serde_json::json!(1);
    assert!(ResultDoc::from_json(&v.to_string()).is_ok());
}

#[test]
fn a_report_can_be_rebuilt_from_the_file() {
    let (agg, elapsed) = run();
    let doc = agg.result(meta(), elapsed);
    let s = doc.snapshot();
    assert_eq!(s.elapsed, elapsed);
    assert_eq!(s.users, 10);
    assert_eq!(s.aggregate.requests, doc.aggregate.requests);
    assert_eq!(s.endpoints.len(), 2);
}

/// The written file as JSON, changed by `edit`, read back: the error's text.
fn read_back_edited(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let (agg, elapsed) = run();
    let mut v: serde_json::Value =
        serde_json::from_str(&agg.result(meta(), elapsed).to_json()).unwrap();
    edit(&mut v);
    match ResultDoc::from_json(&v.to_string()) {
        Ok(_) => panic!("the edited file was accepted"),
        Err(e) => {
            assert!(matches!(e, ResultError::Inconsistent(_)), "{e}");
            e.to_string()
        }
    }
}

#[test]
fn numbers_no_run_produces_are_refused_with_the_endpoint_and_field() {
    let (agg, elapsed) = run();
    let v: serde_json::Value =
        serde_json::from_str(&agg.result(meta(), elapsed).to_json()).unwrap();
    let name = |i: usize| {
        format!(
            "endpoints[{i}] ({} {})",
            v["endpoints"][i]["method"].as_str().unwrap(),
            v["endpoints"][i]["name"].as_str().unwrap()
        )
    };
    let requests = v["endpoints"][0]["requests"].as_u64().unwrap();

    let e = read_back_edited(|v| v["endpoints"][0]["failures"] = (requests + 1).into());
    assert_eq!(
        e,
        format!(
            "the numbers do not add up at {}: `failures` ({}) is greater than `requests` \
             ({requests})",
            name(0),
            requests + 1
        )
    );

    let e = read_back_edited(|v| v["endpoints"][1]["response_time"]["p95"] = (-1.0).into());
    assert!(
        e.starts_with(&format!(
            "the numbers do not add up at {}: `response_time`: `p95` is -1",
            name(1)
        )),
        "{e}"
    );

    let e = read_back_edited(|v| {
        let rt = &mut v["endpoints"][0]["service_time"];
        let max = rt["max"].as_f64().unwrap();
        rt["p50"] = (max + 1.0).into();
    });
    assert!(e.contains("`service_time`: `p50`"), "{e}");
    assert!(e.contains("percentiles rise from min to max"), "{e}");

    let e = read_back_edited(|v| {
        let a = v["aggregate"]["requests"].as_u64().unwrap();
        v["aggregate"]["requests"] = (a + 5).into();
    });
    assert!(e.contains("at aggregate: `requests` is"), "{e}");

    // A histogram whose count disagrees with the statistics beside it.
    let e = read_back_edited(|v| {
        let other = v["histograms"]["endpoints"][1]["response_time"].clone();
        v["histograms"]["endpoints"][0]["response_time"] = other;
    });
    assert!(
        e.starts_with("the numbers do not add up at histograms.endpoints[0].response_time: holds"),
        "{e}"
    );
}
