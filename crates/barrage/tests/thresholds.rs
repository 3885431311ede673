//! Thresholds end to end, against the built-in target on loopback: `report --threshold`
//! placed exactly at, just over and just under values read from a saved result (exact
//! verdicts and exit codes), thresholds deciding a run's exit code, located errors (exit 2),
//! `abort_on_fail` stopping a run after its delay, and the files `--csv`, `--junit` and
//! `--summary-md` write. Every run here is bounded by an iteration count or a short duration.

mod common;

use common::{barrage, read_json, run, run_scenario, stderr, write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use barrage_target::{DemoOptions, DemoTarget};
use serde_json::Value;

/// Three endpoints: two that succeed (one named with braces) and one that always fails.
const MIXED: &str = r#"
target: http://127.0.0.1:1
tasks:
  read:
    weight: 3
    steps:
      - get: "/items/Item {{ int(1, 9) }}"
        name: /items/{item_id}
        check:
          status: 200
          json:
            '$.name': exists
  root:
    weight: 2
    steps:
      - get: /
  missing:
    weight: 1
    steps:
      - get: /__barrage/nope
        name: /missing
"#;

/// Runs MIXED for 300 iterations and returns the result file's path.
fn saved_result(target: &DemoTarget, dir: &Path) -> PathBuf {
    let scenario = write(dir, "mixed.yaml", MIXED);
    let out = dir.join("saved.json");
    let o = run_scenario(
        &scenario,
        &["-u", "3", "--iterations", "300", "--workers", "2"],
        target.url(),
        &out,
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "failed requests fail a run without thresholds\n{}",
        stderr(&o)
    );
    out
}

/// `barrage report FILE --threshold EXPR`: the exit code and stderr.
fn judge(file: &Path, expr: &str) -> (Option<i32>, String) {
    let o = run(barrage()
        .arg("report")
        .arg(file)
        .args(["--threshold", expr]));
    (o.status.code(), stderr(&o))
}

fn endpoint<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no endpoint {name}"))
}

#[test]
fn report_rejudges_a_saved_result_exactly_at_over_and_under_its_values() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = saved_result(&target, dir.path());
    let doc = read_json(&file);
    let agg = &doc["aggregate"];
    let num = |v: &Value| v.as_f64().unwrap();

    // (threshold, exit code): at the value, just beyond it, and just inside it.
    let p95 = num(&agg["response_time"]["p95"]);
    let items = endpoint(&doc, "/items/{item_id}");
    let items_p99 = num(&items["response_time"]["p99"]);
    let (requests, failures) = (num(&agg["requests"]), num(&agg["failures"]));
    assert!(
        failures > 0.0 && failures < requests,
        "the run has some failures: {agg}"
    );
    let error_pct = failures * 100.0 / requests;
    let rps = num(&agg["rps"]);
    let service_mean = num(&agg["service_time"]["mean"]);
    let cases: Vec<(String, i32)> = vec![
        (format!("p95 <= {p95}ms"), 0),
        (format!("p95 < {p95}ms"), 1),
        (format!("p95 == {p95}ms"), 0),
        (format!("p95 < {}ms", p95 + 0.001), 0),
        (format!("p95 <= {}ms", p95 - 0.001), 1),
        (format!("p95 >= {}ms", p95 + 0.001), 1),
        (format!("service_mean <= {service_mean}ms"), 0),
        (format!("service_mean < {service_mean}ms"), 1),
        (
            format!(r#"p99{{name="/items/{{item_id}}", method="GET"}} <= {items_p99}ms"#),
            0,
        ),
        (
            format!(r#"p99{{name="/items/{{item_id}}", method="GET"}} < {items_p99}ms"#),
            1,
        ),
        (format!("error_rate <= {error_pct}%"), 0),
        (format!("error_rate < {error_pct}%"), 1),
        (format!("error_rate < {}%", error_pct + 0.01), 0),
        (format!("error_rate <= {}", failures / requests - 0.0001), 1),
        (r#"error_rate{name="/missing"} == 100%"#.to_owned(), 0),
        (r#"error_rate{name!="/missing"} == 0"#.to_owned(), 0),
        (format!("rps >= {rps}"), 0),
        (format!("rps > {rps}"), 1),
        (format!("requests == {requests}"), 0),
        (format!("failures != {failures}"), 1),
        ("checks == 100%".to_owned(), 0),
        (r#"checks{check="$.name exists"} < 100%"#.to_owned(), 1),
        ("dropped_iterations == 0".to_owned(), 0),
    ];
    for (expr, want) in &cases {
        let (code, err) = judge(&file, expr);
        assert_eq!(code, Some(*want), "`{expr}`\n{err}");
        let mark = if *want == 0 { "PASS" } else { "FAIL" };
        assert!(err.contains(&format!("{mark}  {expr}")), "`{expr}`:\n{err}");
    }

    // A percentile over several endpoints is read from their merged histograms: the two
    // endpoints with successful requests together are exactly the aggregate's.
    let p50 = num(&agg["response_time"]["p50"]);
    let merged = format!(r#"p50{{name!="/missing"}} <= {p50}ms"#);
    let (code, err) = judge(&file, &merged);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("2 endpoints, from their merged histograms"),
        "{err}"
    );
    let (code, _) = judge(&file, &format!(r#"p50{{name!="/missing"}} < {p50}ms"#));
    assert_eq!(code, Some(1));

    // Several thresholds: one failure fails, and the summary says which, by how much.
    let o = run(barrage().arg("report").arg(&file).args([
        "--threshold",
        "p95 < 1h",
        "--threshold",
        "error_rate < 0.1%",
    ]));
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("Thresholds (1 of 2 passed)"), "{err}");
    assert!(
        err.contains(&format!("observed {:.2}%", error_pct)),
        "{err}"
    );
    assert!(err.contains("points over the limit of 0.10%"), "{err}");
    assert!(err.contains("Thresholds: FAILED (1 of 2 failed)"), "{err}");

    // Without --threshold, report renders and exits 0 even for a failed run.
    let o = run(barrage().arg("report").arg(&file));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("Result when run: FAILED"));
}

#[test]
fn bad_thresholds_and_bad_files_exit_2_with_located_help() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = saved_result(&target, dir.path());

    let (code, err) = judge(&file, "p95 < 200");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("error: threshold: `200` has no unit"), "{err}");
    assert!(err.contains("--threshold:1:7"), "{err}");
    assert!(err.contains("`200ms`"), "{err}");

    let (code, err) = judge(&file, "eror_rate < 1%");
    assert_eq!(code, Some(2));
    assert!(err.contains("did you mean `error_rate`?"), "{err}");

    let (code, err) = judge(&file, r#"p95{name="/mising"} < 1s"#);
    assert_eq!(code, Some(2));
    assert!(err.contains("no endpoint matches these labels"), "{err}");
    assert!(err.contains(r#"did you mean name="/missing"?"#), "{err}");

    let bogus = write(dir.path(), "bogus.json", "{\"hello\": 1}");
    let o = run(barrage().arg("report").arg(&bogus));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a barrage result file"),
        "{}",
        stderr(&o)
    );
    let o = run(barrage().arg("report").arg(dir.path().join("nope.json")));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_scenario_threshold_error_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{MIXED}thresholds:\n  - p95 < 200ms\n  - threshold: 'p99{{name=\"/items/{{item_id}}\"}} < 300'\n"
    );
    let scenario = write(dir.path(), "s.yaml", &text);
    let o = run(barrage().arg("validate").arg(&scenario));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    let line = text.lines().position(|l| l.contains("< 300")).unwrap() + 1;
    let col = text.lines().nth(line - 1).unwrap().find("300").unwrap() + 1;
    assert!(
        err.contains(&format!("s.yaml:{line}:{col}")),
        "points at `300` (line {line}, column {col}):\n{err}"
    );
    assert!(err.contains("`300` has no unit"), "{err}");
    // The same file runs no load: `run` refuses it before starting.
    let o = run(barrage()
        .arg("run")
        .arg(&scenario)
        .args(["--iterations", "1"]));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn thresholds_decide_the_exit_code_and_are_stored_with_their_verdicts() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{MIXED}thresholds:\n  - error_rate < 50%\n");
    let scenario = write(dir.path(), "s.yaml", &text);
    let out = dir.path().join("out.json");
    let prefix = dir.path().join("locust").display().to_string();
    let junit = dir.path().join("junit.xml");
    let md = dir.path().join("summary.md");
    let o = run(barrage()
        .arg("run")
        .arg(&scenario)
        .args(["-u", "3", "--iterations", "200", "-H"])
        .arg(target.url())
        .args(["--threshold", "p99 < 1h", "--json"])
        .arg(&out)
        .args(["--csv", &prefix, "--junit"])
        .arg(&junit)
        .arg("--summary-md")
        .arg(&md));
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "thresholds pass although requests failed\n{err}"
    );
    assert!(
        err.contains("Result: PASSED (all thresholds passed)"),
        "{err}"
    );
    let doc = read_json(&out);
    let verdicts = doc["thresholds"].as_array().unwrap();
    assert_eq!(verdicts.len(), 2);
    assert_eq!(verdicts[0]["expr"], "error_rate < 50%");
    assert_eq!(verdicts[0]["source"], "scenario");
    assert_eq!(verdicts[0]["metric"], "error_rate");
    assert_eq!(verdicts[0]["unit"], "ratio");
    assert_eq!(verdicts[0]["limit"], 0.5);
    assert_eq!(verdicts[0]["passed"], true);
    let agg = &doc["aggregate"];
    let rate = agg["failures"].as_f64().unwrap() / agg["requests"].as_f64().unwrap();
    assert_eq!(verdicts[0]["observed"].as_f64(), Some(rate));
    assert_eq!(verdicts[1]["source"], "command line");
    assert_eq!(verdicts[1]["metric"], "p99");

    for suffix in ["stats", "stats_history", "failures", "exceptions"] {
        assert!(
            Path::new(&format!("{prefix}_{suffix}.csv")).exists(),
            "{suffix}"
        );
    }
    // Locust's stats file: the Aggregated row counts the 200 iterations' 200 requests, and
    // the failures the result file counts.
    let stats = std::fs::read_to_string(format!("{prefix}_stats.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(stats.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no `{name}` column in {stats}"))
    };
    let (name, count, fails) = (
        column("Name"),
        column("Request Count"),
        column("Failure Count"),
    );
    let aggregated = rows
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[name] == "Aggregated")
        .unwrap_or_else(|| panic!("no Aggregated row in {stats}"));
    assert_eq!(agg["requests"], 200);
    assert_eq!(&aggregated[count], "200", "{stats}");
    // The target counts what it serves but not `/__barrage/nope`: the rest failed.
    let served: u64 = target.counts().values().sum();
    assert!(served < 200, "some requests failed: {stats}");
    assert_eq!(agg["failures"], 200 - served);
    assert_eq!(aggregated[fails], (200 - served).to_string(), "{stats}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"<testsuite name="thresholds" tests="2" failures="0""#),
        "{xml}"
    );
    let summary = std::fs::read_to_string(&md).unwrap();
    assert!(
        summary.starts_with("## barrage: ✅ passed (all thresholds passed)"),
        "{summary}"
    );
    assert!(summary.contains("| ✅ | `error_rate < 50%` |"), "{summary}");

    // A failing threshold fails the run (exit 1) and says by how much.
    let o = run(barrage()
        .arg("run")
        .arg(&scenario)
        .args(["-u", "2", "--iterations", "50", "-H"])
        .arg(target.url())
        .args(["--threshold", "p95 < 1us"]));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("FAIL  p95 < 1us"), "{err}");
    assert!(err.contains("over the limit of 0.001 ms"), "{err}");
    assert!(
        err.contains("Result: FAILED (1 of 2 thresholds failed: p95 < 1us)"),
        "{err}"
    );
}

#[test]
fn abort_on_fail_stops_the_run_after_its_delay() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "failing.yaml",
        "target: http://127.0.0.1:1\nthink: 10ms\ntasks:\n  t:\n    - get: /__barrage/nope\n\
         thresholds:\n  - threshold: error_rate < 1%\n    abort_on_fail: true\n    delay: 2s\n",
    );
    let out = dir.path().join("out.json");
    let started = Instant::now();
    let o = run_scenario(&scenario, &["-u", "2", "-t", "30s"], target.url(), &out);
    let took = started.elapsed();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Stopping: threshold `error_rate < 1%` failed (abort_on_fail)"),
        "{err}"
    );
    let doc = read_json(&out);
    let ran = doc["run"]["duration_s"].as_f64().unwrap();
    assert!(
        (2.0..4.5).contains(&ran),
        "judged from 2 s on, once a second: stopped after {ran} s"
    );
    assert!(
        took < Duration::from_secs(15),
        "well under -t 30s: {took:?}"
    );
    assert_eq!(doc["thresholds"][0]["aborted_run"], true);
    assert_eq!(doc["thresholds"][0]["passed"], false);
    assert_eq!(doc["run"]["interrupted"], false, "an abort is not a Ctrl-C");
}

/// Server figures (`--monitor-*`, `--probe`) in the threshold language: mistakes located in
/// the scenario file, and a figure nothing measured failing the run with the flag to add.
#[test]
fn server_thresholds_are_located_and_fail_when_nothing_measured_them() {
    let dir = tempfile::tempdir().unwrap();
    for (threshold, bad, message) in [
        (
            r#"'server_cpu{name="/"} < 90%'"#,
            r#"{name="/"}"#,
            "takes no label matchers",
        ),
        ("avg(p95) < 200ms", "avg(p95)", "write `mean`"),
        ("server_rss < 500", "500", "`500MB` or `500MiB`"),
    ] {
        let text = format!("{MIXED}thresholds:\n  - server_cpu < 90%\n  - {threshold}\n");
        let scenario = write(dir.path(), "s.yaml", &text);
        let o = run(barrage().arg("validate").arg(&scenario));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{threshold}: {err}");
        let line = text.lines().position(|l| l.contains(threshold)).unwrap() + 1;
        let col = text.lines().nth(line - 1).unwrap().find(bad).unwrap() + 1;
        assert!(
            err.contains(&format!("s.yaml:{line}:{col}")),
            "{threshold}: points at `{bad}` (line {line}, column {col}):\n{err}"
        );
        assert!(err.contains(message), "{threshold}: {err}");
    }

    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let scenario = write(dir.path(), "ok.yaml", MIXED);
    let out = dir.path().join("out.json");
    let o = run(barrage()
        .arg("run")
        .arg(&scenario)
        .args(["-u", "2", "--iterations", "20", "--workers", "1"])
        .args(["--threshold", "server_cpu < 90%"])
        .arg("-H")
        .arg(target.url())
        .arg("--json")
        .arg(&out));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("nothing measured server_cpu: it needs --monitor-pid or --monitor-port"),
        "{err}"
    );
    let doc = read_json(&out);
    let v = &doc["thresholds"][0];
    assert_eq!(v["metric"], "server_cpu");
    assert_eq!(v["unit"], "%");
    assert_eq!(v["passed"], false);
    assert!(v["observed"].is_null());
    assert!(
        doc["server"].is_null(),
        "nothing monitored, no server section"
    );
}
