//! barrage's CI files read by the tools they imitate or feed: `--csv` files compared with a
//! real Locust run's (same file names, byte-identical header rows, rows as long as the
//! header), and `--junit` read back by the `junitparser` package (test counts, failures,
//! messages), as a CI system would read it.
//!
//! Both need Python packages (`scripts/requirements-test.txt`), so they are ignored by a bare
//! `cargo test`; `scripts/test.sh` installs them into `.venv`, sets `BARRAGE_PYTHON` and runs
//! them. Load goes only to the built-in target on 127.0.0.1, for 3 s (Locust) or 100
//! iterations (barrage).

mod common;

use common::{barrage, python};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use barrage_target::{DemoOptions, DemoTarget};
use common::run_with_timeout;
use serde_json::Value;

/// The same two endpoints for both tools: one that succeeds, one that always fails.
const LOCUSTFILE: &str = r#"
from locust import HttpUser, constant, task

class Reader(HttpUser):
    wait_time = constant(0.05)

    @task
    def read(self):
        self.client.get("/items/Item 1", name="/items/[name]")

    @task
    def missing(self):
        self.client.get("/__barrage/nope", name="/missing")
"#;

const SCENARIO: &str = r#"
target: http://127.0.0.1:1
think: 10ms
tasks:
  read:
    - get: /items/Item 1
      name: /items/[name]
      check:
        json:
          '$.name': exists
  missing:
    - get: /__barrage/nope
      name: /missing
"#;

const FILES: [&str; 4] = ["stats", "stats_history", "failures", "exceptions"];

fn read(prefix: &Path, suffix: &str) -> String {
    let path = PathBuf::from(format!("{}_{suffix}.csv", prefix.display()));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn header(text: &str) -> &str {
    &text[..text.find("\r\n").map_or(text.len(), |i| i + 2)]
}

/// Column counts of every row (Python's csv quoting kept in mind: no field here has a comma
/// except quoted failure messages, which the `csv` crate reads properly).
fn row_widths(text: &str) -> Vec<usize> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("valid CSV").len())
        .collect()
}

fn names(stats: &str) -> Vec<String> {
    let mut r = csv::Reader::from_reader(stats.as_bytes());
    r.records().map(|r| r.unwrap()[1].to_owned()).collect()
}

#[test]
#[ignore = "needs Locust from scripts/requirements-test.txt: run scripts/test.sh (sets BARRAGE_PYTHON)"]
fn csv_files_match_a_real_locust_runs() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let locustfile = dir.path().join("locustfile.py");
    std::fs::write(&locustfile, LOCUSTFILE).unwrap();
    let locust_prefix = dir.path().join("locust");
    let python = python();
    let o = run_with_timeout(
        Command::new(&python)
            .args(["-m", "locust", "-f"])
            .arg(&locustfile)
            .args([
                "--headless",
                "-u",
                "2",
                "-r",
                "2",
                "-t",
                "3s",
                "--only-summary",
            ])
            .args(["--loglevel", "WARNING", "-H"])
            .arg(target.url())
            .arg("--csv")
            .arg(&locust_prefix)
            .arg("--csv-full-history")
            .current_dir(dir.path()),
        Duration::from_secs(90),
    )
    .expect("locust ends within 90 s");
    // Locust exits 1 when requests failed, as they must here.
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let scenario = dir.path().join("s.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let ours = dir.path().join("barrage");
    let o = run_with_timeout(
        barrage()
            .arg("run")
            .arg(&scenario)
            .args(["-u", "2", "--iterations", "100", "-H"])
            .arg(target.url())
            .arg("--csv")
            .arg(&ours)
            .arg("--csv-full-history"),
        Duration::from_secs(60),
    )
    .expect("barrage ends within 60 s");
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    for suffix in FILES {
        let theirs = read(&locust_prefix, suffix);
        let mine = read(&ours, suffix);
        assert_eq!(header(&mine), header(&theirs), "header of _{suffix}.csv");
        let width = row_widths(header(&theirs))[0];
        for (file, text) in [("locust", &theirs), ("barrage", &mine)] {
            assert!(
                row_widths(text).iter().all(|&w| w == width),
                "{file}'s _{suffix}.csv has a row of another width:\n{text}"
            );
        }
    }
    let stats = (read(&locust_prefix, "stats"), read(&ours, "stats"));
    assert_eq!(names(&stats.1), names(&stats.0), "same rows, same order");
    let failures = (read(&locust_prefix, "failures"), read(&ours, "failures"));
    assert_eq!(row_widths(&failures.0).len(), 2, "{}", failures.0);
    assert_eq!(row_widths(&failures.1).len(), 2, "{}", failures.1);
}

/// Runs `script` with the venv's Python, `args` after it; its stdout as JSON.
fn python_json(script: &str, args: &[&Path]) -> Value {
    let mut c = Command::new(python());
    c.arg("-c").arg(script).args(args);
    let o = run_with_timeout(&mut c, Duration::from_secs(60)).expect("python ends");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("the script prints JSON")
}

const READ_JUNIT: &str = r#"
import json, sys
from junitparser import Failure, JUnitXml

xml = JUnitXml.fromfile(sys.argv[1])
suites = []
for suite in xml:
    cases = []
    for case in suite:
        failures = [r for r in case.result if isinstance(r, Failure)]
        cases.append({
            "name": case.name,
            "classname": case.classname,
            "failure": failures[0].message if failures else None,
            "text": failures[0].text if failures else None,
        })
    suites.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures, "cases": cases})
print(json.dumps({"tests": xml.tests, "failures": xml.failures, "suites": suites}))
"#;

#[test]
#[ignore = "needs junitparser from scripts/requirements-test.txt: run scripts/test.sh (sets BARRAGE_PYTHON)"]
fn junitparser_reads_the_junit_file() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let junit = dir.path().join("junit.xml");
    let o = run_with_timeout(
        barrage()
            .arg("run")
            .arg(&scenario)
            .args(["-u", "2", "--iterations", "100", "-H"])
            .arg(target.url())
            .args(["--threshold", "p95 < 1h"])
            .args(["--threshold", r#"error_rate{name="/missing"} < 1%"#])
            .arg("--junit")
            .arg(&junit),
        Duration::from_secs(60),
    )
    .expect("barrage ends within 60 s");
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let read = python_json(READ_JUNIT, &[&junit]);
    assert_eq!(read["tests"], 3, "{read}");
    assert_eq!(read["failures"], 1, "{read}");
    let suites = read["suites"].as_array().unwrap();
    assert_eq!(suites.len(), 2, "thresholds and checks: {read}");
    let thresholds = &suites[0];
    assert_eq!(thresholds["name"], "thresholds");
    assert_eq!(
        (
            thresholds["tests"].as_u64(),
            thresholds["failures"].as_u64()
        ),
        (Some(2), Some(1))
    );
    let cases = thresholds["cases"].as_array().unwrap();
    assert_eq!(cases[0]["name"], "p95 < 1h");
    assert_eq!(cases[0]["failure"], Value::Null);
    assert_eq!(cases[1]["name"], r#"error_rate{name="/missing"} < 1%"#);
    assert_eq!(
        cases[1]["failure"],
        "observed 100.00%, 99.00 points over the limit of 1.00%"
    );
    assert_eq!(cases[1]["text"], cases[1]["failure"]);
    assert_eq!(cases[1]["classname"], "barrage.thresholds");
    let checks = &suites[1];
    assert_eq!(checks["name"], "checks");
    assert_eq!(
        (checks["tests"].as_u64(), checks["failures"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        checks["cases"][0]["name"],
        "GET /items/[name] check $.name exists"
    );
}
