//! More users than this machine can give connections to (issue #16 item 4): under an
//! open-files limit of 256, `hit -c 400` cannot connect every user. Those users are
//! counted as never connected (not as running), their failures have their own category,
//! `local_resources`, and back off instead of spinning, and the run fails its gate with
//! that reason. Load goes to a demo target on 127.0.0.1 only, for 3 s.

#![cfg(target_os = "linux")]

mod common;

use common::{barrage_limited, read_json, run, stderr};

use barrage_target::{DemoOptions, DemoTarget};

const USERS: u64 = 400;
const SECONDS: u64 = 3;

/// Runs `hit` with `extra` arguments under a 256-file limit; the exit code, stderr and the
/// result file.
fn hit_starved(target: &DemoTarget, extra: &[&str]) -> (Option<i32>, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let o = run(barrage_limited("-n 256")
        .arg("hit")
        .arg(target.url())
        .args(["-c", &USERS.to_string(), "-d", &format!("{SECONDS}s")])
        .args(["--workers", "1", "--json"])
        .arg(&json)
        .args(extra));
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    let doc = read_json(&json);
    (o.status.code(), err, doc)
}

fn check(code: Option<i32>, err: &str, doc: &serde_json::Value) {
    let never = doc["connections"]["users_never_connected"]
        .as_u64()
        .unwrap();
    // 256 descriptors less the process's own (stdio, runtimes, the target's address
    // lookups): between about 200 and 250 users get a connection.
    assert!(
        (120..=220).contains(&never),
        "{never} users never connected\n{err}"
    );
    // While the run went on, the users gauge counted only users holding a connection:
    // with the users that never got one, that is every user asked for.
    let series = doc["series"].as_array().unwrap();
    let mid = &series[1];
    assert_eq!(
        mid["users"].as_u64().unwrap() + never,
        USERS,
        "second 2's gauge plus the users never connected: {mid}"
    );

    let agg = &doc["aggregate"]["failures_by_category"];
    let local = agg["local_resources"].as_u64().unwrap_or(0);
    assert!(local >= never, "each such user failed at least once: {agg}");
    // Backing off 10 ms doubling to 1 s, a user tries at most 10 times in 3 s; spinning
    // made hundreds of thousands.
    assert!(
        local <= never * 10,
        "{local} local_resources failures for {never} users"
    );
    assert_eq!(agg.get("other"), None, "nothing counted as `other`: {agg}");

    assert_eq!(code, Some(1), "{err}");
    let reason = format!("Result: FAILED ({never} of {USERS} users never got a connection");
    assert!(err.contains(&reason), "{err}");
    // The summary and the result file say why, with the fix.
    let warning = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .find(|w| w.contains("never got a connection"))
        .unwrap_or_else(|| panic!("no warning in {}", doc["warnings"]));
    assert!(warning.contains("Too many open files"), "{warning}");
    assert!(warning.contains("ulimit -n"), "{warning}");
    assert!(err.contains(&format!("WARNING: {warning}")), "{err}");
    assert!(
        err.contains(&format!(
            "{never} users never got a connection (failures of category local_resources)"
        )),
        "{err}"
    );
}

#[test]
fn users_without_a_descriptor_are_reported_back_off_and_fail_the_run() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let (code, err, doc) = hit_starved(&target, &[]);
    check(code, &err, &doc);
}

#[test]
fn with_local_addresses_too() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let (code, err, doc) = hit_starved(&target, &["--local-addresses", "127.0.0.1"]);
    check(code, &err, &doc);
}
