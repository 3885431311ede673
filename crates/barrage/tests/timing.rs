//! Closed-model behaviour whose exact numbers come from the clock: pacing keeps iterations on
//! their grid, a failed setup is retried a think time later, percentiles are read at their
//! exact ranks, the live table comes every 2 s unless `--only-summary`, and keys typed on a
//! terminal change the users while the test runs.
//!
//! Each exact number here holds only if nothing else loads the machine: every test takes
//! one lock (no two run at once) and needs an optimized build (a debug build's overhead
//! would be measured too); a debug `cargo test` skips them and says so, `scripts/test.sh`
//! runs them with `--release`. Margins are stated beside each number. (The open model's
//! timing tests are in `open_model.rs`, under a lock of their own: test binaries run one
//! after another, so the two locks never meet.)

mod common;

use std::process::Command;
use std::time::Duration;

use common::scripted::{Answer, Scripted};
use common::{
    barrage, endpoint, isolate, read_json, run, run_scenario, run_with_timeout, serial, series,
    stderr, write,
};

use barrage_target::{DemoOptions, DemoTarget};

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "timing test: needs an optimized build; scripts/test.sh runs it optimized (--profile ci)"
)]
fn pacing_starts_each_iteration_on_its_grid_whatever_the_iteration_took() {
    let _one = serial();
    // Iterations that take 50-300 ms, paced at 500 ms: they start every 500 ms, not 500 ms
    // after the previous one ended (that would be 550-800 ms apart).
    let server = Scripted::start(Answer::Ok);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "paced.yaml",
        "users:\n  u:\n    think: { pacing: 500ms }\n    tasks:\n      t:\n        - get: \"/sleep/{{ int(50, 300) }}\"\n          name: /sleep\n",
    );
    let out = dir.path().join("paced.json");
    let o = run_scenario(
        &scenario,
        &["-u", "1", "--iterations", "6", "--workers", "1"],
        server.url(),
        &out,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 6);
    let first = arrivals[0].at;
    let offsets: Vec<f64> = arrivals
        .iter()
        .map(|a| (a.at - first).as_secs_f64() * 1000.0)
        .collect();
    eprintln!("arrivals, ms after the first: {offsets:.1?}");
    // Iteration k is meant to start k × 500 ms after the first, so each arrival minus its
    // grid point is the same number, give or take jitter: the first request also connects,
    // and pacing uses tokio's timer (up to 1 ms late), lateness that does not add up on a
    // grid. 20 ms covers a busy moment and is far below what an iteration off the grid
    // would drift: at least 50 ms per step.
    let off_grid: Vec<f64> = offsets
        .iter()
        .enumerate()
        .map(|(k, at)| at - k as f64 * 500.0)
        .collect();
    let lo = off_grid.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = off_grid.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(
        hi - lo <= 20.0,
        "arrivals minus their grid points spread over {:.1} ms: {off_grid:.1?}",
        hi - lo
    );
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "timing test: needs an optimized build; scripts/test.sh runs it optimized (--profile ci)"
)]
fn a_user_whose_setup_fails_retries_it_and_runs_no_task_meanwhile() {
    let _one = serial();
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The login body misses the password: 422 every time.
    let scenario = write(
        dir.path(),
        "badlogin.yaml",
        "users:\n  u:\n    setup:\n      - post: /login\n        json: { username: u }\n    tasks:\n      t:\n        - get: /\n",
    );
    let out = dir.path().join("badlogin.json");
    let o = run_scenario(&scenario, &["-u", "2", "-t", "2500ms"], target.url(), &out);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = read_json(&out);
    let login = endpoint(&doc, "POST", "/login");
    // Each user tries at 0 s, 1 s and 2 s (a second apart at least, think time being
    // none): 0.5 s from the end of the run to the last try.
    assert_eq!(login["requests"], 6, "{login}");
    assert_eq!(login["failures"], 6);
    assert_eq!(target.counts()["POST /login"], 6);
    assert_eq!(
        target.counts()["GET /"],
        0,
        "no task runs before setup succeeds"
    );
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "timing test: needs an optimized build; scripts/test.sh runs it optimized (--profile ci)"
)]
fn percentiles_are_read_at_their_exact_ranks() {
    let _one = serial();
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // 1,000 requests, each taking the server the delay of its row: 989 none, one 200 ms,
    // ten 600 ms. A percentile q is the value at rank ceil(q × 1000) (HdrHistogram's rule):
    // p99 is rank 990, the one 200 ms request; p99.9 is rank 999, a 600 ms one; p95 and
    // below are undelayed. A percentile read one rank off either way is another band. The
    // bands are 200 ms apart, so only a stall of that length on loopback could move one.
    let mut rows = String::from("ms\n200\n");
    rows.push_str(&"600\n".repeat(10));
    rows.push_str(&"0\n".repeat(989));
    write(dir.path(), "delays.csv", &rows);
    let scenario = write(
        dir.path(),
        "ranks.yaml",
        "data:\n  d:\n    file: delays.csv\n    order: sequential\nusers:\n  u:\n    tasks:\n      t:\n        - get: \"/__barrage/delay/{{ d.ms }}\"\n          name: /delay\n",
    );
    let out = dir.path().join("ranks.json");
    // Thresholds are judged from the histograms in the result: they must agree.
    let o = run_scenario(
        &scenario,
        &[
            "-u",
            "10",
            "--iterations",
            "1000",
            "--workers",
            "1",
            "--threshold",
            "p99 >= 200ms",
            "--threshold",
            "p99 < 300ms",
            "--threshold",
            "p95 < 100ms",
            "--threshold",
            "p99.9 >= 600ms",
        ],
        target.url(),
        &out,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = read_json(&out);
    for e in [&doc["aggregate"], endpoint(&doc, "GET", "/delay")] {
        assert_eq!(e["requests"], 1000);
        let rt = &e["response_time"];
        let ms = |p: &str| rt[p].as_f64().unwrap();
        for p in ["p50", "p75", "p90", "p95"] {
            assert!(ms(p) < 100.0, "{p} {} ms: {rt}", ms(p));
        }
        assert!((200.0..300.0).contains(&ms("p99")), "p99: {rt}");
        assert!((600.0..700.0).contains(&ms("p999")), "p99.9: {rt}");
        assert!((600.0..700.0).contains(&ms("max")), "max: {rt}");
    }
}

/// Printed at the top of every live table, and nowhere else.
const LIVE_TABLE: &str = "users running; latencies in ms";

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "timing test: needs an optimized build; scripts/test.sh runs it optimized (--profile ci)"
)]
fn the_live_table_comes_every_two_seconds_and_only_summary_turns_it_off() {
    let _one = serial();
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let hit = |extra: &[&str]| {
        let o = run(barrage()
            .arg("hit")
            .arg(format!("{}/", target.url()))
            .args(["-q", "50", "-d", "5s", "-c", "2"])
            .args(extra));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stderr(&o)
    };
    // A 5 s run: tables at 2 s and 4 s, a second away from the end either way.
    let err = hit(&[]);
    assert_eq!(err.matches(LIVE_TABLE).count(), 2, "{err}");
    let err = hit(&["--only-summary"]);
    assert_eq!(err.matches(LIVE_TABLE).count(), 0, "{err}");
    assert!(
        err.contains("Aggregated"),
        "the summary is still printed: {err}"
    );
}

/// Runs ARGV on a pseudo-terminal; types each (delay, key) after its delay; echoes nothing
/// back, so the test sees the exit status only.
const TYPIST: &str = r#"
import os, pty, sys, time
keys = [(float(d), k) for d, k in (p.split(":") for p in sys.argv[1].split(","))]
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
start = time.monotonic()
for delay, key in keys:
    time.sleep(max(0.0, start + delay - time.monotonic()))
    os.write(fd, key.encode())
while True:
    try:
        if not os.read(fd, 4096):
            break
    except OSError:
        break
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

/// Steering a running test from the terminal (README, "Steering a running test"): with
/// stdin a terminal, `W` adds ten users and `s` removes one, without Enter, and each change
/// is in the result file's timeline. The terminal is a real pseudo-terminal, made by
/// Python's standard `pty` module, which types the keys.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "timing test: needs an optimized build; scripts/test.sh runs it optimized (--profile ci)"
)]
fn keys_on_a_terminal_add_and_remove_users_and_land_in_the_timeline() {
    let _one = serial();
    let target = DemoTarget::start(DemoOptions::default()).expect("the target starts");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keys.json");
    let mut c = Command::new("python3");
    c.arg("-c")
        .arg(TYPIST)
        .arg("1.5:W,3.5:s")
        .arg(env!("CARGO_BIN_EXE_barrage"))
        .args(["hit", &format!("{}/", target.url()), "-c", "1", "-d", "5s"])
        .args(["--workers", "2", "--json"])
        .arg(&out);
    isolate(&mut c);
    let o = run_with_timeout(&mut c, Duration::from_secs(60)).expect("the run ends");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let doc = read_json(&out);
    let timeline = doc["timeline"].as_array().expect("a timeline");
    let whats: Vec<&str> = timeline
        .iter()
        .map(|t| t["what"].as_str().unwrap())
        .collect();
    assert_eq!(
        whats,
        [
            "users 1 -> 11 (scenario default)",
            "users 11 -> 10 (scenario default)"
        ]
    );
    assert!(timeline.iter().all(|t| t["source"] == "terminal"));
    let at: Vec<f64> = timeline
        .iter()
        .map(|t| t["at_s"].as_f64().unwrap())
        .collect();
    assert!(
        (at[0] - 1.5).abs() < 0.5 && (at[1] - 3.5).abs() < 0.5,
        "{at:?}"
    );
    // `hit` starts its users at once, so the ten arrive together: 1 user in the first
    // second, 11 in the third, 10 in the fourth.
    let users = series(&doc, "users");
    assert_eq!(users[0], 1, "{users:?}");
    assert_eq!(users[2], 11, "{users:?}");
    assert_eq!(users[3], 10, "{users:?}");
    assert_eq!(
        target.counts().get("GET /").copied(),
        doc["aggregate"]["requests"].as_u64()
    );
}
