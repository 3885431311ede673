//! `--monitor-prometheus` through the binary, against a FastAPI app instrumented with
//! prometheus-fastapi-instrumentator under uvicorn (one worker): the request count per
//! handler that the scrapes show over the run equals barrage's own per endpoint, within
//! 2 % (the last sample is taken after the load ended). The parser and the rates on fixed
//! scrapes are tested beside the code (crates/barrage-monitor/src/prometheus*).

mod common;

use std::time::Duration;

use common::{endpoint, read_json, write, ChildGuard};

/// The value of column `key` in the source's last row.
fn last_value(source: &serde_json::Value, key: &str) -> Option<f64> {
    let columns = source["columns"].as_array()?;
    let at = columns.iter().position(|c| c["key"] == key)?;
    source["rows"].as_array()?.last()?["values"]
        .get(at)?
        .as_f64()
}

#[test]
#[ignore = "needs the test venv with prometheus-fastapi-instrumentator (scripts/test.sh prepares it)"]
fn scraped_request_counts_per_handler_match_barrages() {
    let _serial = common::serial();
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let mut app = ChildGuard::spawn(
        "uvicorn",
        std::process::Command::new(common::python())
            .current_dir(common::repo_root().join("crates/barrage/tests/apps"))
            .args([
                "-m",
                "uvicorn",
                "instrumented_app:app",
                "--host",
                "127.0.0.1",
            ])
            .args(["--port", &port.to_string(), "--workers", "1"])
            .args(["--log-level", "critical"]),
        &dir.path().join("uvicorn.log"),
    )
    .expect("starting uvicorn");
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    common::wait_for_http(addr, "/metrics", Duration::from_secs(20), &mut app).unwrap();
    let scenario = write(
        dir.path(),
        "s.yaml",
        "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      t:\n        \
         - get: /fast\n        - get: /items/7\n        - get: /fast\n",
    );
    let out = dir.path().join("r.json");
    let metrics = format!("http://{addr}/metrics");
    let run = common::run(
        common::barrage()
            .arg("run")
            .arg(&scenario)
            .args(["-u", "4", "-r", "4", "-t", "5s", "--workers", "1"])
            .args(["--monitor-prometheus", &metrics])
            .arg("-H")
            .arg(format!("http://{addr}"))
            .arg("--json")
            .arg(&out),
    );
    assert!(
        run.status.success(),
        "{}\n{}",
        common::stderr(&run),
        app.log()
    );
    let doc = read_json(&out);
    let server = &doc["server"];
    let source = server["sources"]
        .as_array()
        .expect("a server section with sources")
        .iter()
        .find(|s| s["kind"] == "prometheus")
        .unwrap_or_else(|| panic!("no prometheus source in {server}"));
    assert_eq!(
        source["name"],
        format!("prometheus 127.0.0.1:{port}/metrics")
    );
    assert!(source["lost"].is_null(), "{source}");
    assert!(source["rows"].as_array().unwrap().len() >= 4, "{source}");

    for (handler, path) in [("/fast", "/fast"), ("/items/{item_id}", "/items/7")] {
        let sent = endpoint(&doc, "GET", path)["requests"].as_f64().unwrap();
        assert!(sent > 100.0, "{path}: {sent}");
        let key = format!("http_requests{{handler=\"{handler}\"}}");
        let scraped = last_value(source, &key).unwrap_or_else(|| panic!("{key} in {source}"));
        assert!(
            (scraped - sent).abs() <= 0.02 * sent,
            "{handler}: scraped {scraped}, barrage sent {sent}"
        );
    }
    // The well-known series are there, and the rate shows the load.
    let columns = source["columns"].as_array().unwrap();
    for key in ["cpu", "rss", "http_requests_per_s", "http_highr_p95_ms"] {
        assert!(columns.iter().any(|c| c["key"] == key), "{key} in {source}");
    }
    let peak = |key: &str| {
        let at = columns.iter().position(|c| c["key"] == key).unwrap();
        source["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["values"].get(at).and_then(|v| v.as_f64()))
            .fold(0.0, f64::max)
    };
    assert!(peak("http_requests_per_s") > 20.0, "{source}");
}
