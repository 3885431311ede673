//! The live web UI in a real headless Chromium (`web/tests/live.mjs`, driven through
//! playwright-core): a whole run from the start form against the demo target (counts grow,
//! charts draw, a users change followed by the users chart, a reload keeps the whole
//! series, stop, three downloads, the page's numbers equal to the result file's), and a
//! run with 2,000 endpoint names whose updates never block the page's main thread for more
//! than 500 ms. Load goes to 127.0.0.1 only, every run bounded by its run time.
//!
//! Needs Chromium and web/node_modules, which scripts/test.sh installs: ignored in a bare
//! `cargo test`, run with `--include-ignored`.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use barrage_target::{DemoOptions, DemoTarget};
use common::{read_json, repo_root, run_with_timeout, write};

fn node(args: &[&str], within: Duration) {
    let out = run_with_timeout(
        Command::new("node")
            .arg("web/tests/live.mjs")
            .args(args)
            .current_dir(repo_root()),
        within,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let text = format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    println!("{text}");
}

fn artifacts() -> PathBuf {
    let dir = repo_root().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
#[ignore = "needs Chromium and web/node_modules (scripts/test.sh)"]
fn a_whole_run_from_the_page() {
    let _browser = common::one_browser_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.json");
    let (mut child, url) = common::serve_web(
        &[
            "demo",
            "-t",
            "60s",
            "--json",
            out.to_str().unwrap(),
            "--autoquit",
            "60",
        ],
        dir.path(),
    );
    let downloads = dir.path().join("downloads");
    let shot = artifacts().join("web-ui.png");
    node(
        &[
            "run",
            &url,
            downloads.to_str().unwrap(),
            shot.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    // The download is the file `--json` wrote.
    let written = read_json(&out);
    let downloaded = read_json(&downloads.join("result.json"));
    assert_eq!(downloaded["aggregate"], written["aggregate"]);
    assert_eq!(downloaded["endpoints"], written["endpoints"]);
    assert_eq!(written["timeline"][0]["source"], "web UI");
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    assert!(child.exited().is_none(), "the page stays up for --autoquit");
}

#[test]
#[ignore = "needs Chromium and web/node_modules (scripts/test.sh)"]
fn two_thousand_endpoints_never_block_the_page() {
    let _browser = common::one_browser_at_a_time();
    let target = DemoTarget::start(DemoOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from(
        "load:\n  users: 4\n  spawn_rate: 4\n  duration: 40s\nusers:\n  many:\n    think: none\n    tasks:\n      all:\n",
    );
    for i in 0..2000 {
        yaml.push_str(&format!("        - get: /items/Item {i}\n"));
    }
    let scenario = write(dir.path(), "many.yaml", &yaml);
    let (_child, url) = common::serve_web(
        &[
            "run",
            scenario.to_str().unwrap(),
            "-H",
            &target.url(),
            "--autoquit",
            "10",
        ],
        dir.path(),
    );
    node(&["many", &url], Duration::from_secs(90));
}
