//! Failures counted by their cause, each produced for real: a target whose accept queue is
//! full (`connect_timeout`), one that resets or closes the connection after reading the
//! request (`reset`), one that answers with something other than HTTP (`protocol`), a
//! template whose variable was never saved (`template`), and requests barrage cannot make or
//! follow (`other`). The categories already covered elsewhere: `connect_refused`, `tls` and
//! `response_timeout` in `run_builtin_target.rs`, `status` and `check` in `thresholds.rs`.
//!
//! Each run is a fixed number of iterations by one user, so every count is exact: so many
//! requests, all failed, all under the one category (and none under another), with the
//! sample message saying why. Scripted servers are in `common/scripted.rs`.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::scripted::{Answer, FullBacklog, Scripted};
use common::{barrage, endpoint, read_json, run, run_scenario, stderr, write};
use serde_json::{json, Value};

use barrage_target::{DemoOptions, DemoTarget};

const ITERATIONS: u64 = 3;

/// Runs `scenario` (YAML text) for ITERATIONS iterations of one user against `host`; the
/// result file. Every request failing, the run exits 1.
fn run_failing(dir: &Path, scenario: &str, host: &str) -> Value {
    let file = write(dir, "s.yaml", scenario);
    let out = dir.join("out.json");
    let o = run_scenario(
        &file,
        &[
            "-u",
            "1",
            "--iterations",
            &ITERATIONS.to_string(),
            "--workers",
            "1",
        ],
        host,
        &out,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    read_json(&out)
}

/// Asserts that endpoint `method name` had exactly ITERATIONS requests, all failed under
/// `category` alone; returns that category's sample message.
fn only_failures_of(doc: &Value, method: &str, name: &str, category: &str) -> String {
    let e = endpoint(doc, method, name);
    assert_eq!(e["requests"], ITERATIONS, "{e}");
    assert_eq!(e["failures"], ITERATIONS, "{e}");
    assert_eq!(
        e["failures_by_category"],
        json!({ category: ITERATIONS }),
        "{e}"
    );
    let failure = doc["failures"]
        .as_array()
        .expect("the result file has a failures array")
        .iter()
        .find(|f| f["name"] == name && f["method"] == method)
        .unwrap_or_else(|| panic!("no failure entry for {method} {name}: {}", doc["failures"]));
    assert_eq!(failure["category"], category, "{failure}");
    assert_eq!(failure["count"], ITERATIONS, "{failure}");
    failure["sample"].as_str().unwrap_or_default().to_owned()
}

const GET_ROOT: &str = "users:\n  u:\n    tasks:\n      t:\n        - get: /\n";

#[test]
#[cfg(target_os = "linux")]
fn a_connect_that_never_completes_is_a_connect_timeout_after_the_scenarios_limit() {
    let target = FullBacklog::new();
    let dir = tempfile::tempdir().unwrap();
    let scenario = format!("defaults:\n  connect_timeout: 300ms\n{GET_ROOT}");
    let started = Instant::now();
    let doc = run_failing(dir.path(), &scenario, &target.url());
    let took = started.elapsed();
    let sample = only_failures_of(&doc, "GET", "/", "connect_timeout");
    assert!(sample.contains("timed out after 300ms"), "{sample}");
    // Three 300 ms connect timeouts, not three of the default 10 s.
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert_eq!(doc["connections"]["opened"], 0);
}

#[test]
fn a_reset_after_the_request_is_read_is_counted_as_reset_once_per_request() {
    for answer in [Answer::Reset, Answer::Close] {
        let target = Scripted::start(answer);
        let dir = tempfile::tempdir().unwrap();
        let doc = run_failing(dir.path(), GET_ROOT, &target.url());
        let sample = only_failures_of(&doc, "GET", "/", "reset");
        match answer {
            Answer::Reset => assert!(sample.contains("reset"), "{sample}"),
            _ => assert!(sample.contains("closed the connection"), "{sample}"),
        }
        // Each request went out once: a failed request is not sent again.
        assert_eq!(target.requests() as u64, ITERATIONS, "{answer:?}");
    }
}

#[test]
fn an_answer_that_is_not_http_is_a_protocol_failure() {
    // What a load test pointed at the wrong port gets: an SSH server's greeting.
    let target = Scripted::start(Answer::Raw("SSH-2.0-OpenSSH_9.6\r\n"));
    let dir = tempfile::tempdir().unwrap();
    let doc = run_failing(dir.path(), GET_ROOT, &target.url());
    let sample = only_failures_of(&doc, "GET", "/", "protocol");
    assert!(sample.starts_with("invalid response"), "{sample}");
    assert_eq!(target.requests() as u64, ITERATIONS);
}

#[test]
fn a_variable_that_was_never_saved_is_a_template_failure_and_nothing_is_sent() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // `/` answers no access_token, so the save fails (a `check` failure of the first step)
    // and `token` is never set when the second step renders its path.
    let scenario = r#"
users:
  u:
    tasks:
      t:
        - get: /
          save:
            token: '$.access_token'
        - get: "/items/{{ token }}"
          name: /items/[token]
"#;
    let doc = run_failing(dir.path(), scenario, &target.url());
    let sample = only_failures_of(&doc, "GET", "/", "check");
    assert!(sample.contains("save `token`"), "{sample}");
    let sample = only_failures_of(&doc, "GET", "/items/[token]", "template");
    assert!(sample.contains("variable `token` is not set"), "{sample}");
    // The request that could not be rendered never reached the target.
    let counts = target.counts();
    assert_eq!(
        (counts["GET /"], counts["GET /items/{name}"]),
        (ITERATIONS, 0)
    );
}

#[test]
fn requests_barrage_cannot_make_or_follow_are_other() {
    // A redirect to a scheme barrage does not speak.
    let target = Scripted::start(Answer::Raw(
        "HTTP/1.1 302 Found\r\nlocation: ftp://127.0.0.1/file\r\ncontent-length: 0\r\n\r\n",
    ));
    let dir = tempfile::tempdir().unwrap();
    let doc = run_failing(dir.path(), GET_ROOT, &target.url());
    let sample = only_failures_of(&doc, "GET", "/", "other");
    assert!(
        sample.contains("redirect to `ftp://127.0.0.1/file`"),
        "{sample}"
    );
    assert_eq!(
        target.requests() as u64,
        ITERATIONS,
        "the redirect is not followed"
    );

    // A source address of the other IP version than the target's: no connection can be made.
    let out = dir.path().join("hit.json");
    let o = run(barrage()
        .arg("hit")
        .arg(format!("{}/", target.url()))
        .args(["-n", &ITERATIONS.to_string(), "-c", "1", "--workers", "1"])
        .args(["--local-addresses", "::1", "--json"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = read_json(&out);
    let name = doc["endpoints"][0]["name"].as_str().unwrap().to_owned();
    let sample = only_failures_of(&doc, "GET", &name, "other");
    assert!(
        sample.contains("no --local-addresses entry of the same IP version"),
        "{sample}"
    );
    assert_eq!(target.requests() as u64, ITERATIONS, "nothing more arrived");
}
