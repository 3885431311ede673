//! The HTML report in a real browser: two short runs against the built-in target on
//! loopback (`--json` and `--html`), a report of the second with the first as its baseline
//! (`barrage report --html --baseline`), each opened from file:// in headless Chromium by
//! `web/tests/report.mjs`, which checks the page against the result file (no console error,
//! no network request, the verdict, every table row, the charts, the percentile picker, the
//! baseline). Screenshots go to target/test-artifacts/.
//!
//! Also the page's live mode against a stand-in server (`web/tests/page_live.mjs`).
//!
//! Needs Chromium and `web/node_modules` (scripts/test.sh installs both and runs these with
//! `--include-ignored`); a bare `cargo test` skips them.

mod common;

use std::path::Path;
use std::process::Command;

use barrage_target::{DemoOptions, DemoTarget};
use common::{barrage, read_json, repo_root, run, stderr, write};

const SCENARIO: &str = r#"
target: http://127.0.0.1:1
users:
  reader:
    tasks:
      item:
        weight: 3
        steps:
          - get: "/items/Item {{ int(1, 100) }}"
            name: /items/[name]
            check:
              status: 200
      root:
        steps:
          - get: /
"#;

/// Runs `barrage run` for 3 s with 4 users, writing `NAME.json` and `NAME.html`; returns
/// the exit code.
fn run_once(dir: &Path, scenario: &Path, url: &str, name: &str) -> i32 {
    let o = run(barrage()
        .arg("run")
        .arg(scenario)
        .args(["-u", "4", "-r", "4", "-t", "3s", "--workers", "1"])
        .args(["--threshold", "p95<5s"])
        .arg("-H")
        .arg(url)
        .arg("--json")
        .arg(dir.join(format!("{name}.json")))
        .arg("--html")
        .arg(dir.join(format!("{name}.html"))));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "HTML report: {}",
            dir.join(format!("{name}.html")).display()
        )),
        "{err}"
    );
    o.status.code().expect("barrage exits by itself")
}

/// The result `from` with one 10-second window holding the whole run's histograms, so the
/// percentile chart has a window whose values are the table's (a 3-second run has one or two
/// windows, each with part of the run).
fn with_one_window(from: &Path, to: &Path) {
    let mut doc = read_json(from);
    let hist = doc["histograms"].clone();
    let entry = |stats: &serde_json::Value, h: &serde_json::Value| {
        serde_json::json!({
            "requests": stats["requests"],
            "failures": stats["failures"],
            "response_time": h["response_time"],
        })
    };
    let endpoints: Vec<serde_json::Value> = doc["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .enumerate()
        .filter(|(_, e)| e["requests"].as_u64() > Some(0))
        .map(|(i, e)| {
            let mut w = entry(e, &hist["endpoints"][i]);
            w["i"] = serde_json::json!(i);
            w
        })
        .collect();
    doc["windows"] = serde_json::json!([{
        "start": 1_700_000_000u64,
        "t": doc["run"]["duration_s"],
        "aggregate": entry(&doc["aggregate"], &hist["aggregate"]),
        "endpoints": endpoints,
    }]);
    std::fs::write(to, serde_json::to_string_pretty(&doc).expect("JSON")).expect("writing");
}

fn node(report: &Path, result: &Path, exit: i32, screenshot: &Path, baseline: bool) {
    let root = repo_root();
    let mut c = Command::new("node");
    c.current_dir(&root)
        .arg("web/tests/report.mjs")
        .arg(report)
        .arg(result)
        .arg(exit.to_string())
        .arg(screenshot);
    if baseline {
        c.arg("--baseline");
    }
    let o = c.output().expect("node runs (install Node.js)");
    assert!(
        o.status.success(),
        "report.mjs failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
#[ignore = "needs Chromium and web/node_modules (scripts/test.sh)"]
fn the_html_report_opens_offline_and_shows_the_result_file_s_numbers() {
    let _browser = common::one_browser_at_a_time();
    let target = DemoTarget::start(DemoOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "scenario.yaml", SCENARIO);
    let artifacts = repo_root().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("creating target/test-artifacts");

    let base_exit = run_once(dir.path(), &scenario, &target.url(), "base");
    let new_exit = run_once(dir.path(), &scenario, &target.url(), "new");
    assert_eq!((base_exit, new_exit), (0, 0), "p95 < 5s passes on loopback");
    node(
        &dir.path().join("new.html"),
        &dir.path().join("new.json"),
        new_exit,
        &artifacts.join("report.png"),
        false,
    );

    let windowed = dir.path().join("windowed.json");
    with_one_window(&dir.path().join("new.json"), &windowed);
    let compared = dir.path().join("compared.html");
    let o = run(barrage()
        .arg("report")
        .arg(&windowed)
        .arg("--html")
        .arg(&compared)
        .arg("--baseline")
        .arg(dir.path().join("base.json")));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("HTML report: {}", compared.display())),
        "{}",
        stderr(&o)
    );
    node(
        &compared,
        &windowed,
        new_exit,
        &artifacts.join("report-baseline.png"),
        true,
    );
}

/// The page's live mode against a stand-in server inside the browser (no barrage process):
/// deltas appended, a reconnection fetching the whole View again, and 2,000 endpoints
/// updating without a main-thread task over 200 ms. The web UI's own tests drive the page
/// against the real server.
#[test]
#[ignore = "needs Chromium and web/node_modules (scripts/test.sh)"]
fn the_live_page_appends_deltas_and_stays_responsive_with_2000_endpoints() {
    let _browser = common::one_browser_at_a_time();
    let artifacts = repo_root().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("creating target/test-artifacts");
    let o = Command::new("node")
        .current_dir(repo_root())
        .arg("web/tests/page_live.mjs")
        .arg(artifacts.join("page-live-2000.png"))
        .output()
        .expect("node runs (install Node.js)");
    assert!(
        o.status.success(),
        "page_live.mjs failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn baseline_is_refused_without_html() {
    let dir = tempfile::tempdir().unwrap();
    let result = write(dir.path(), "r.json", "{}");
    let o = run(barrage()
        .arg("report")
        .arg(&result)
        .arg("--baseline")
        .arg(&result));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--html"), "{}", stderr(&o));
}
