//! Steering a running test from the terminal (README, "Steering a running test"): with
//! stdin a terminal, `W` adds ten users and `s` removes one, without Enter, and each change
//! is in the result file's timeline. The terminal is a real pseudo-terminal, made by
//! Python's `pty` module (the venv `scripts/test.sh` prepares), which types the keys.
//!
//! Load goes only to the built-in target on 127.0.0.1; the run is bounded by `-d`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{isolate, python, read_json, run_with_timeout};

use barrage_target::{DemoOptions, DemoTarget};

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

#[test]
fn keys_on_a_terminal_add_and_remove_users_and_land_in_the_timeline() {
    let target = DemoTarget::start(DemoOptions::default()).expect("the target starts");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keys.json");
    let mut c = Command::new(python());
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
    let users: Vec<u64> = doc["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["users"].as_u64().unwrap())
        .collect();
    assert_eq!(users[0], 1, "{users:?}");
    assert_eq!(users[2], 11, "{users:?}");
    assert_eq!(users[3], 10, "{users:?}");
    assert_eq!(
        target.counts().get("GET /").copied(),
        doc["aggregate"]["requests"].as_u64()
    );
}
