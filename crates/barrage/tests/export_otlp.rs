//! `--otlp`: barrage pushes its figures to a real OTLP/HTTP receiver, which decodes them
//! with the official OpenTelemetry protobuf definitions (`opentelemetry-proto` from PyPI,
//! tests/apps/otlp_receiver.py); the last push's counts equal the result file's.

mod common;

use std::process::Command;
use std::time::Duration;

use barrage_target::{DemoOptions, DemoTarget};
use common::EXPORT_FAILED_REQUESTS as FAILED_REQUESTS;
use common::{
    free_port, python, read_json, repo_root, run, stderr, wait_for_http, write, ChildGuard,
};
use serde_json::Value;

/// The exporters' scenario (`common::EXPORT_SCENARIO`), running for 3s.
fn scenario() -> String {
    common::EXPORT_SCENARIO.replace("DURATION", "3s")
}

/// The metric `name` of a push.
fn metric<'a>(push: &'a Value, name: &str) -> &'a Value {
    push["resources"][0]["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {push}"))
}

fn points(m: &Value) -> &Vec<Value> {
    m["points"].as_array().expect("data points")
}

#[test]
#[ignore = "needs opentelemetry-proto from scripts/requirements-test.txt: run scripts/test.sh (sets BARRAGE_PYTHON)"]
fn the_receiver_decodes_pushes_whose_last_counts_equal_the_result_file() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let pushes = dir.path().join("pushes.jsonl");
    let script = repo_root().join("crates/barrage/tests/apps/otlp_receiver.py");
    let mut receiver = ChildGuard::spawn(
        "OTLP receiver",
        Command::new(python())
            .arg(&script)
            .arg(port.to_string())
            .arg(&pushes),
        &dir.path().join("receiver.log"),
    )
    .unwrap();
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_for_http(addr, "/", Duration::from_secs(20), &mut receiver).unwrap();

    let scenario = write(dir.path(), "load.yaml", &scenario());
    let out = dir.path().join("out.json");
    let url = format!("http://127.0.0.1:{port}/v1/metrics");
    let o = run(common::barrage()
        .arg("run")
        .arg(&scenario)
        .args([
            "-H",
            target.url().as_str(),
            "--otlp",
            &url,
            "--otlp-interval",
            "1s",
        ])
        .arg("--json")
        .arg(&out));
    assert_eq!(o.status.code(), FAILED_REQUESTS, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("OTLP metrics: pushed to {url} every 1 s")),
        "{}",
        stderr(&o)
    );
    let doc = read_json(&out);

    let text = std::fs::read_to_string(&pushes).expect("the receiver got pushes");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines.iter().all(|l| l.get("error").is_none()),
        "every push decodes: {text}\n{}",
        receiver.log()
    );
    // A 3 s run with a 1 s interval: pushes during the run, and one at the end.
    assert!(lines.len() >= 3, "{} pushes: {text}", lines.len());
    let last = lines.last().unwrap();

    let resource = &last["resources"][0]["attributes"];
    assert_eq!(resource["service.name"], "barrage");
    assert_eq!(resource["barrage.run_id"], doc["run"]["run_id"]);
    assert_eq!(doc["run"]["run_id"].as_str().unwrap().len(), 36, "a UUID");

    let requests = metric(last, "barrage.requests");
    assert_eq!(requests["kind"], "sum");
    assert_eq!(requests["monotonic"], true);
    assert_eq!(
        requests["temporality"], 2,
        "AGGREGATION_TEMPORALITY_CUMULATIVE"
    );
    let total: u64 = points(requests)
        .iter()
        .map(|p| p["value"].as_u64().unwrap())
        .sum();
    let expected = doc["aggregate"]["requests"].as_u64().unwrap();
    assert!(expected > 50, "the run did some work: {expected}");
    assert_eq!(total, expected, "the last push carries the final count");
    for p in points(requests) {
        let a = &p["attributes"];
        assert_eq!(a["http.request.method"], "GET");
        assert_eq!(a["barrage.scenario"], doc["endpoints"][0]["scenario"]);
        assert!(["/items/1", "/nowhere"].contains(&a["url.template"].as_str().unwrap()));
    }

    // Every answer of /nowhere is a 404: failures by error.type equal the file's.
    let failures = metric(last, "barrage.failures");
    let by_type: u64 = points(failures)
        .iter()
        .inspect(|p| assert_eq!(p["attributes"]["error.type"], "status", "{p}"))
        .map(|p| p["value"].as_u64().unwrap())
        .sum();
    assert_eq!(by_type, doc["aggregate"]["failures"].as_u64().unwrap());
    assert!(by_type > 0);

    let duration = metric(last, "http.client.request.duration");
    assert_eq!(duration["kind"], "histogram");
    assert_eq!(duration["unit"], "s");
    let timed: u64 = points(duration)
        .iter()
        .map(|p| {
            let buckets: u64 = p["bucket_counts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_u64().unwrap())
                .sum();
            assert_eq!(buckets, p["count"].as_u64().unwrap(), "buckets add up: {p}");
            assert_eq!(
                p["bucket_counts"].as_array().unwrap().len(),
                p["bounds"].as_array().unwrap().len() + 1
            );
            p["count"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(
        timed,
        doc["aggregate"]["response_time"]["count"].as_u64().unwrap(),
        "the histogram counts the timed requests"
    );
    assert!(timed > 0);

    // Cumulative: no push's count is below an earlier one's.
    let counts: Vec<u64> = lines
        .iter()
        .map(|l| {
            points(metric(l, "barrage.requests"))
                .iter()
                .map(|p| p["value"].as_u64().unwrap())
                .sum()
        })
        .collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert_eq!(metric(last, "barrage.users")["kind"], "gauge");
}

#[test]
fn a_collector_that_is_down_is_a_warning_and_the_run_goes_on() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "load.yaml",
        &common::EXPORT_SCENARIO.replace("DURATION", "2s"),
    );
    let out = dir.path().join("out.json");
    let url = format!("http://127.0.0.1:{}/v1/metrics", free_port());
    let o = run(common::barrage()
        .arg("run")
        .arg(&scenario)
        .args([
            "-H",
            target.url().as_str(),
            "--otlp",
            &url,
            "--otlp-interval",
            "1s",
        ])
        .arg("--json")
        .arg(&out));
    let err = stderr(&o);
    assert_eq!(o.status.code(), FAILED_REQUESTS, "{err}");
    assert_eq!(
        err.matches("warning: --otlp").count(),
        1,
        "one warning, the rest counted: {err}"
    );
    assert!(err.contains(&format!("pushes to {url} failed")), "{err}");
    assert!(read_json(&out)["aggregate"]["requests"].as_u64().unwrap() > 0);
}

#[test]
fn a_bad_otlp_url_stops_before_the_run_with_the_fix() {
    let o = run(common::barrage().args([
        "hit",
        "http://127.0.0.1:1/",
        "-n",
        "1",
        "--otlp",
        "127.0.0.1:4318",
    ]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--otlp 127.0.0.1:4318: not an http:// or https:// address"),
        "{}",
        stderr(&o)
    );
}
