//! `barrage compare` on real runs of the binary against the built-in target on loopback: a
//! route slowed by 50 ms is flagged and an unchanged one is not; two runs of the same target
//! pass a generous gate; a run too short to judge says "not enough data" (exit 0, or 1 with
//! `--strict`); bad gates and files are usage errors. Every run is bounded by iterations.

mod common;

use common::barrage;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use barrage_target::{DemoOptions, DemoTarget};
use serde_json::Value;

/// Two steps per iteration: `/` (the target's own delay, fixed at 100 ms below) and the test
/// route named `/work` (50 ms, or 100 ms in the slowed run). The delays are long so that a
/// busy machine's jitter, a few milliseconds when other builds share its cores, stays well
/// inside the gates: 10 % of `/` is 10 ms, 50 % of `/work` 25 ms.
fn scenario(work_delay_ms: u64) -> String {
    format!(
        "users:\n  u:\n    think: none\n    tasks:\n      t:\n        - get: /\n        \
         - get: /__barrage/delay/{work_delay_ms}\n          name: /work\n"
    )
}

fn exec(c: &mut Command) -> Output {
    common::run_with_timeout(c, Duration::from_secs(60)).expect("barrage finishes within 60 s")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the scenario with `/work` delayed by `work_delay_ms` for `iterations` iterations of
/// 50 users and returns the result file.
fn run(
    target: &DemoTarget,
    dir: &Path,
    label: &str,
    work_delay_ms: u64,
    iterations: u64,
) -> PathBuf {
    let file = dir.join(format!("{label}.yaml"));
    std::fs::write(&file, scenario(work_delay_ms)).unwrap();
    let out = dir.join(format!("{label}.json"));
    let o = exec(
        barrage()
            .arg("run")
            .arg(&file)
            .args(["-u", "50", "--workers", "2", "--iterations"])
            .arg(iterations.to_string())
            .arg("-H")
            .arg(target.url())
            .arg("--json")
            .arg(&out),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "run {label}:\n{}",
        text(&o.stderr)
    );
    out
}

fn compare(base: &Path, new: &Path, extra: &[&str]) -> Output {
    exec(barrage().arg("compare").arg(base).arg(new).args(extra))
}

fn gate_outcome<'a>(json: &'a Value, endpoint: &str) -> &'a str {
    json["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["endpoint"] == endpoint)
        .unwrap_or_else(|| panic!("no gate check on {endpoint} in {json}"))["outcome"]
        .as_str()
        .unwrap()
}

#[test]
fn a_slowed_endpoint_is_flagged_and_an_unchanged_rerun_passes() {
    let target = DemoTarget::start(DemoOptions::fixed(Duration::from_millis(100))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // 500 iterations: 500 samples per endpoint, more than the 400 a p95 needs; 1.5 s and
    // 2 s of load for 50 users.
    let base = run(&target, dir.path(), "base", 50, 500);
    let rerun = run(&target, dir.path(), "rerun", 50, 500);
    let slowed = run(&target, dir.path(), "slowed", 100, 500);

    let json = dir.path().join("slowed-cmp.json");
    let md = dir.path().join("slowed-cmp.md");
    let o = exec(
        barrage()
            .arg("compare")
            .arg(&base)
            .arg(&slowed)
            .args(["--fail-if", "p95>+10%", "--json"])
            .arg(&json)
            .arg("--summary-md")
            .arg(&md),
    );
    let stdout = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{}", text(&o.stderr));
    let fail_lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        fail_lines.iter().any(|l| l.contains("GET /work")),
        "the slowed endpoint is named:\n{stdout}"
    );
    assert!(
        !fail_lines.iter().any(|l| l.contains("GET / ")),
        "the unchanged endpoint is not flagged:\n{stdout}"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["verdict"], "failed");
    assert_eq!(gate_outcome(&doc, "GET /work"), "fail");
    assert_eq!(gate_outcome(&doc, "GET /"), "pass", "{stdout}");
    let work_p95 = doc["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "/work")
        .and_then(|e| e["metrics"].as_array())
        .and_then(|m| m.iter().find(|m| m["metric"] == "p95"))
        .expect("p95 of /work")
        .clone();
    let change = work_p95["change"].as_f64().unwrap();
    assert!(
        (25.0..100.0).contains(&change),
        "the p95 of /work rose by roughly the 50 ms added: {work_p95}"
    );
    assert!(
        work_p95["interval"][0].as_f64().unwrap() > 0.0,
        "{work_p95}"
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.starts_with("### ❌ barrage compare"), "{md}");
    assert!(
        md.contains("| `p95>+10%` | `GET /work` | ❌ **fail** |"),
        "{md}"
    );

    // The same target twice, with a generous gate: every check judged, and passed.
    let o = exec(barrage().arg("compare").arg(&base).arg(&rerun).args([
        "--fail-if",
        "p95>+50%",
        "--json",
        "-",
    ]));
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let doc: Value = serde_json::from_slice(&o.stdout).expect("--json - puts JSON on stdout");
    assert_eq!(doc["verdict"], "passed", "{stderr}");
    let outcomes: Vec<(&str, &str)> = doc["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["endpoint"].as_str().unwrap(),
                g["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("GET /", "pass"),
            ("GET /work", "pass"),
            ("Aggregated", "pass")
        ],
        "{stderr}"
    );
    assert!(
        stderr.contains("Result: PASSED (3 gate checks)"),
        "the table goes to stderr:\n{stderr}"
    );
}

#[test]
fn too_few_requests_give_not_enough_data_and_strict_fails_on_it() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tiny = run(&target, dir.path(), "tiny", 1, 5);

    let o = compare(&tiny, &tiny, &["--fail-if", "p95>+10%"]);
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "not enough data: p95 needs at least 400 successful requests (20 above the \
             percentile) in each run; BASE has 5, NEW 5"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("Result: NOT ENOUGH DATA"), "{stdout}");
    assert!(stderr.contains("warning: not enough data"), "{stderr}");

    let o = compare(&tiny, &tiny, &["--fail-if", "p95>+10%", "--strict"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("--strict"));

    // Without gates nothing is judged, so nothing is missing: exit 0 even with --strict.
    let o = compare(&tiny, &tiny, &["--strict"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("Result: no gates given"));
}

#[test]
fn bad_gates_and_files_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let o = compare(&missing, &missing, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("cannot read"),
        "{}",
        text(&o.stderr)
    );

    let not_result = dir.path().join("other.json");
    std::fs::write(&not_result, "{\"hello\": 1}").unwrap();
    let o = compare(&not_result, &not_result, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("not a barrage result file"),
        "{}",
        text(&o.stderr)
    );

    let o = compare(&not_result, &not_result, &["--fail-if", "p95>10"]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("`10%` for a relative change or `10ms` for an absolute one"),
        "{stderr}"
    );
}
