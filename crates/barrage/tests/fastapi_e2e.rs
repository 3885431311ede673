//! End to end against the real FastAPI example: uvicorn serves `examples/fastapi-items/app.py`
//! on loopback, barrage runs `examples/fastapi-items/scenario.yaml` at it for a bounded time,
//! and the result file is checked against what the app says it served.
//!
//! This is the issue's promise to the FastAPI developer, checked as they would: the counts
//! equal the server's exactly, the task mix is the scenario's 10:2:1, nothing failed, the
//! result file has its contract fields, and its histograms decode to the percentiles it
//! reports. It needs Python with the example's requirements, so it is ignored by a bare
//! `cargo test`; `scripts/test.sh` prepares the venv, sets `BARRAGE_PYTHON` and runs it.

mod common;

use common::python;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use common::{free_port, repo_root, run_with_timeout, wait_for_http, ChildGuard};

/// Users started; each logs in once in `setup`.
const USERS: u64 = 30;

/// The scenario's tasks, their weights, and the method and endpoint name of their one step.
const TASKS: [(&str, u64, &str, &str); 3] = [
    ("read_item", 10, "GET", "/items/[item_name]"),
    ("create_item", 2, "POST", "/items/"),
    ("view_root", 1, "GET", "/"),
];

/// Every endpoint the run may report, with the app's route key for it.
const ENDPOINTS: [(&str, &str, &str); 4] = [
    ("GET", "/items/[item_name]", "GET /items/{name}"),
    ("POST", "/items/", "POST /items/"),
    ("GET", "/", "GET /"),
    ("POST", "/login", "POST /login"),
];

const LATENCY_FIELDS: [&str; 10] = [
    "count", "min", "mean", "max", "p50", "p75", "p90", "p95", "p99", "p999",
];

/// The percentiles the result file reports, with the quantile each is read at.
const PERCENTILES: [(&str, f64); 6] = [
    ("p50", 0.50),
    ("p75", 0.75),
    ("p90", 0.90),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p999", 0.999),
];

#[test]
#[ignore = "needs the FastAPI example's Python venv: run scripts/test.sh (sets BARRAGE_PYTHON)"]
fn fastapi_example_counts_match_the_app_and_the_design_sketch_runs() {
    let example = repo_root().join("examples/fastapi-items");
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));

    let mut app = ChildGuard::spawn(
        "uvicorn",
        Command::new(python())
            .args(["-m", "uvicorn", "app:app", "--host", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--no-access-log"])
            .current_dir(&example),
        &tmp.path().join("uvicorn.log"),
    )
    .expect("starting uvicorn");
    let before = wait_for_http(addr, "/__barrage/counts", Duration::from_secs(30), &mut app)
        .unwrap_or_else(|e| panic!("the FastAPI app did not come up: {e}"));
    let before = parse_counts(&before);
    assert!(
        before.values().all(|&n| n == 0),
        "app served requests before the run: {before:?}"
    );

    let out = tmp.path().join("out.json");
    let users = USERS.to_string();
    let output = run_with_timeout(
        common::barrage()
            .arg("run")
            .arg(example.join("scenario.yaml"))
            .args(["-u", &users, "-r", &users, "-t", "8s"])
            .args(["-H", &format!("http://{addr}")])
            .arg("--json")
            .arg(&out),
        // 8 s of load, the graceful stop, start-up and writing: well under a minute.
        Duration::from_secs(60),
    )
    .unwrap_or_else(|e| panic!("barrage run did not finish: {e}\n{}", app.log()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "barrage run exited with {}\n--- stderr ---\n{stderr}\n{}",
        output.status,
        app.log()
    );

    let doc: Value = serde_json::from_slice(
        &std::fs::read(&out).unwrap_or_else(|e| panic!("reading {}: {e}", out.display())),
    )
    .expect("the result file is JSON");
    let (status, served) = common::http_get(addr, "/__barrage/counts").expect("asking the app");
    assert_eq!(status, 200);
    let served = parse_counts(&served);
    let context = format!("app counts: {served:?}\nbarrage stderr:\n{stderr}");

    assert_contract_fields(&doc);
    assert_counts_match_the_app(&doc, &served, &context);
    assert_task_mix_is_10_2_1(&doc, &context);
    assert_histograms_decode_to_the_reported_figures(&doc);

    // The scenario sketch in docs/DESIGN.md, exactly as written there, runs against the same
    // app (with -H for the app's port, and a short bounded load instead of 500 users for 5m).
    let sketch = design_sketch();
    let sketch_file = tmp.path().join("sketch.yaml");
    std::fs::write(&sketch_file, &sketch).expect("writing the sketch");
    let sketch_out = tmp.path().join("sketch.json");
    let output = run_with_timeout(
        common::barrage()
            .arg("run")
            .arg(&sketch_file)
            .args(["-u", "10", "-r", "10", "-t", "4s"])
            .args(["-H", &format!("http://{addr}")])
            .arg("--json")
            .arg(&sketch_out),
        Duration::from_secs(60),
    )
    .unwrap_or_else(|e| panic!("the sketch run did not finish: {e}\n{}", app.log()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the DESIGN sketch failed against the app: {}\n{stderr}",
        output.status
    );
    let doc: Value =
        serde_json::from_slice(&std::fs::read(&sketch_out).expect("the sketch's result file"))
            .expect("JSON");
    assert_eq!(
        uint(&doc["aggregate"]["failures"], "failures"),
        0,
        "{stderr}"
    );
    let find = |method: &str, name: &str| {
        endpoints(&doc)
            .iter()
            .find(|e| e["method"] == method && e["name"] == name)
            .map(|e| uint(&e["requests"], "requests"))
            .unwrap_or_else(|| panic!("no {method} {name} in the sketch's result: {stderr}"))
    };
    assert_eq!(find("POST", "/login"), 10, "setup once per user");
    // Every create is followed by a read of the id it saved.
    assert_eq!(find("POST", "/items/"), find("GET", "/items/{{ id }}"));
    assert!(find("GET", "/items/[item_name]") > 0);
}

/// The YAML block under "## The scenario file" in docs/DESIGN.md.
fn design_sketch() -> String {
    let design =
        std::fs::read_to_string(repo_root().join("docs/DESIGN.md")).expect("docs/DESIGN.md");
    let section = design
        .split("## The scenario file")
        .nth(1)
        .expect("DESIGN.md has a scenario file section");
    let block = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the section holds a yaml block");
    block.to_string()
}

fn parse_counts(body: &[u8]) -> BTreeMap<String, u64> {
    serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "the app's counts are not a map of numbers ({e}): {}",
            String::from_utf8_lossy(body)
        )
    })
}

fn endpoints(doc: &Value) -> &[Value] {
    doc["endpoints"]
        .as_array()
        .expect("`endpoints` is an array")
}

fn uint(value: &Value, what: &str) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("{what} is not a whole number: {value}"))
}

fn number(value: &Value, what: &str) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {value}"))
}

fn label(endpoint: &Value) -> String {
    let text = |field: &str| endpoint[field].as_str().unwrap_or("?").to_owned();
    format!("{} {}", text("method"), text("name"))
}

/// The core of the result file that other tools read (DESIGN, "The result file").
fn assert_contract_fields(doc: &Value) {
    assert_eq!(doc["version"], 2, "result file version");
    assert!(
        !endpoints(doc).is_empty(),
        "no endpoints in the result file"
    );
    for endpoint in endpoints(doc) {
        let label = label(endpoint);
        for field in ["scenario", "method", "name"] {
            assert!(
                endpoint[field].is_string(),
                "{label}: `{field}` is not a string"
            );
        }
        uint(&endpoint["requests"], &format!("{label}: requests"));
        uint(&endpoint["failures"], &format!("{label}: failures"));
        assert_rps_and_latencies(endpoint, &label);
    }
    let aggregate = &doc["aggregate"];
    assert!(aggregate.is_object(), "no `aggregate` object");
    uint(&aggregate["requests"], "aggregate: requests");
    uint(&aggregate["failures"], "aggregate: failures");
    assert_rps_and_latencies(aggregate, "aggregate");
}

fn assert_rps_and_latencies(entry: &Value, label: &str) {
    assert!(
        number(&entry["rps"], &format!("{label}: rps")) > 0.0,
        "{label}: rps is not positive"
    );
    for latency in ["response_time", "service_time"] {
        let figures = &entry[latency];
        for field in LATENCY_FIELDS {
            number(&figures[field], &format!("{label}: {latency}.{field}"));
        }
        // Milliseconds, in order: min <= p50 <= ... <= p999 <= max, mean within [min, max].
        let ordered: Vec<f64> = ["min", "p50", "p75", "p90", "p95", "p99", "p999", "max"]
            .iter()
            .map(|field| number(&figures[*field], field))
            .collect();
        assert!(
            ordered.windows(2).all(|w| w[0] <= w[1]),
            "{label}: {latency} figures out of order: {figures}"
        );
        let mean = number(&figures["mean"], "mean");
        assert!(
            ordered[0] <= mean && mean <= ordered[7],
            "{label}: {latency} mean outside [min, max]"
        );
        // The app answers in milliseconds; a figure in seconds or microseconds would be off
        // by a thousand.
        assert!(
            ordered[7] < 10_000.0,
            "{label}: {latency}.max is {} ms",
            ordered[7]
        );
    }
}

/// Per endpoint, barrage's request count (every attempt) equals the app's count for the
/// route, exactly; nothing failed; and nothing else was sent.
fn assert_counts_match_the_app(doc: &Value, served: &BTreeMap<String, u64>, context: &str) {
    let mut reported = BTreeMap::new();
    for endpoint in endpoints(doc) {
        let method = endpoint["method"].as_str().unwrap().to_ascii_uppercase();
        let name = endpoint["name"].as_str().unwrap();
        let route = ENDPOINTS
            .iter()
            .find(|(m, n, _)| *m == method && *n == name)
            .map(|(_, _, route)| *route)
            .unwrap_or_else(|| panic!("unexpected endpoint {method} {name}\n{context}"));
        let requests = uint(&endpoint["requests"], "requests");
        assert_eq!(
            uint(&endpoint["failures"], "failures"),
            0,
            "{method} {name} failed\n{context}"
        );
        let previous = reported.insert(route.to_owned(), requests);
        assert!(
            previous.is_none(),
            "{method} {name} is reported twice\n{context}"
        );
    }
    for (route, &count) in served {
        assert_eq!(
            reported.get(route).copied().unwrap_or(0),
            count,
            "barrage's requests for {route} differ from the app's count\n{context}"
        );
    }
    for route in reported.keys() {
        assert!(
            served.contains_key(route),
            "the app has no count for {route}\n{context}"
        );
    }
    assert_eq!(
        reported.get("POST /login").copied(),
        Some(USERS),
        "each user logs in once, in setup\n{context}"
    );
    assert_eq!(
        uint(&doc["aggregate"]["failures"], "aggregate failures"),
        0,
        "{context}"
    );
    assert_eq!(
        uint(&doc["aggregate"]["requests"], "aggregate requests"),
        served.values().sum::<u64>(),
        "aggregate requests differ from the app's total\n{context}"
    );
}

/// Each task's share of iterations is within 4.5 standard deviations of its weight's share.
///
/// Each iteration picks a task independently with probability weight / 13, so a task's count
/// k over n iterations is binomial(n, p): mean n p, standard deviation sqrt(n p (1 - p)).
/// 4.5 standard deviations on each of three counts leaves a healthy run a chance of about
/// 2e-5 of failing here, while a broken weight table (uniform picks, say: 1/3 each) is far
/// outside it at the few hundred iterations this run makes.
fn assert_task_mix_is_10_2_1(doc: &Value, context: &str) {
    let tasks = doc["tasks"].as_array().expect("`tasks` is an array");
    let iterations = |task: &str| -> u64 {
        let entry = tasks
            .iter()
            .find(|t| t["task"] == task)
            .unwrap_or_else(|| panic!("task {task} missing from `tasks`\n{context}"));
        uint(&entry["iterations"], &format!("{task}: iterations"))
    };
    let counts: Vec<u64> = TASKS.iter().map(|(task, ..)| iterations(task)).collect();
    let n: u64 = counts.iter().sum();
    let total_weight: u64 = TASKS.iter().map(|(_, weight, ..)| weight).sum();
    // 30 users for 8 s with 1.5 s of think time on average make about 150 iterations.
    assert!(
        n >= 60,
        "only {n} iterations in 8 s with {USERS} users\n{context}"
    );

    for ((task, weight, method, name), &k) in TASKS.iter().zip(&counts) {
        // Each task is one request step, so its iterations are its endpoint's requests.
        let endpoint = endpoints(doc)
            .iter()
            .find(|e| {
                e["method"].as_str().map(str::to_ascii_uppercase).as_deref() == Some(*method)
                    && e["name"] == *name
            })
            .unwrap_or_else(|| panic!("no endpoint {method} {name} for task {task}\n{context}"));
        assert_eq!(
            uint(&endpoint["requests"], "requests"),
            k,
            "{task}: iterations vs requests"
        );

        let p = *weight as f64 / total_weight as f64;
        let expected = n as f64 * p;
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (k as f64 - expected).abs() <= 4.5 * sd,
            "{task}: {k} of {n} iterations, expected {expected:.1} ± {:.1} (4.5 sd); mix {counts:?}\n{context}",
            4.5 * sd
        );
        assert!(k > 0, "{task} never ran; mix {counts:?}\n{context}");
    }
}

/// The serialized histograms hold exactly the successful requests and give back the
/// percentiles the file reports: merging and comparing result files depend on it.
fn assert_histograms_decode_to_the_reported_figures(doc: &Value) {
    let histograms = &doc["histograms"];
    assert_eq!(histograms["unit"], "ns", "histogram unit");
    let encoded = histograms["endpoints"]
        .as_array()
        .expect("`histograms.endpoints` is an array");
    assert_eq!(
        encoded.len(),
        endpoints(doc).len(),
        "one histogram set per endpoint"
    );

    let mut entries: Vec<(String, &Value, &Value)> = endpoints(doc)
        .iter()
        .zip(encoded)
        .map(|(endpoint, hists)| (label(endpoint), endpoint, hists))
        .collect();
    entries.push((
        "aggregate".to_owned(),
        &doc["aggregate"],
        &histograms["aggregate"],
    ));

    for (label, entry, hists) in entries {
        let successes = uint(&entry["requests"], "requests") - uint(&entry["failures"], "failures");
        for latency in ["response_time", "service_time"] {
            let text = hists[latency]
                .as_str()
                .unwrap_or_else(|| panic!("{label}: histogram {latency} is not a string"));
            let histogram = barrage_metrics::decode_histogram(text)
                .unwrap_or_else(|e| panic!("{label}: histogram {latency} does not decode: {e:?}"));
            assert_eq!(
                histogram.len(),
                successes,
                "{label}: {latency} histogram count"
            );
            assert_eq!(
                uint(&entry[latency]["count"], "count"),
                successes,
                "{label}: {latency}.count"
            );
            for (field, quantile) in PERCENTILES {
                let value = histogram.value_at_quantile(quantile);
                let decoded_ms = value as f64 / 1e6;
                let reported_ms = number(&entry[latency][field], field);
                // The report may round to 0.01 ms, or give another value of the same HDR
                // bucket (3 significant digits): either is the same measurement.
                let tolerance = (histogram.equivalent_range(value) as f64 / 1e6).max(0.01);
                assert!(
                    (decoded_ms - reported_ms).abs() <= tolerance,
                    "{label}: {latency}.{field} is {reported_ms} ms, the histogram says \
                     {decoded_ms} ms (tolerance {tolerance} ms)"
                );
            }
        }
    }
}
