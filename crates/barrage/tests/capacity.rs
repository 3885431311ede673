//! `barrage capacity` against the built-in target run as a service of known capacity (`slots`
//! requests in service at once, each taking `service`: capacity `slots / service`), where
//! the right answer is known: with evenly spaced arrivals latency is flat up to the capacity
//! and grows without bound past it, so the search for `p99 < 10 x service` must land just
//! under `slots / service`; with Poisson arrivals it must match the M/D/c queue's rate for
//! the same objective (simulated by `barrage_capacity::queue`).
//!
//! Steps are short (`--step 3s --warmup 1s`) and searches start near a third of the
//! capacity, so each search runs a handful of steps; each is light on CPU (a few hundred
//! requests per second), so the tests may run side by side.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use barrage_capacity::queue::{Service, Spacing};
use barrage_target::{DemoOptions, DemoTarget, ServiceCapacity};
use common::{barrage, read_json, run_with_timeout, stderr, write};
use serde_json::Value;

const SCENARIO: &str = "users:\n  u:\n    tasks:\n      t:\n        - get: /\n";
const WARMUP_S: f64 = 1.0;
const STEP_S: f64 = 3.0;

fn target(slots: u32, service_ms: u64) -> DemoTarget {
    DemoTarget::start(DemoOptions {
        capacity: Some(ServiceCapacity {
            slots,
            service: Duration::from_millis(service_ms),
        }),
        ..DemoOptions::no_delay()
    })
    .unwrap()
}

/// The Poisson test reads p99 at the edge of the queue, which a second search beside it on
/// this 2-core machine moves (seen in CI: 348 found against 397). It runs alone; the other
/// searches, whose edges are sharp, share the machine with each other.
static MACHINE: RwLock<()> = RwLock::new(());

fn alone() -> RwLockWriteGuard<'static, ()> {
    MACHINE.write().unwrap_or_else(|e| e.into_inner())
}

fn beside() -> RwLockReadGuard<'static, ()> {
    MACHINE.read().unwrap_or_else(|e| e.into_inner())
}

/// `barrage capacity` with short steps against `url`, writing `out`; `extra` adds flags.
fn capacity(scenario: &Path, url: &str, out: &Path, extra: &[&str]) -> Command {
    let mut c = barrage();
    c.arg("capacity")
        .arg(scenario)
        .args([
            "-H",
            url,
            "--step",
            "3s",
            "--warmup",
            "1s",
            "--workers",
            "1",
        ])
        .arg("--json")
        .arg(out)
        .args(extra);
    c
}

/// Runs a search to its end within three minutes.
fn search(c: &mut Command) -> Output {
    run_with_timeout(c, Duration::from_secs(180)).expect("the search ends within 3 minutes")
}

fn cap(doc: &Value) -> &Value {
    &doc["capacity"]
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number: {v}"))
}

/// The checks every found capacity must pass: the bracket holds the capacity's level, the
/// steps are consistent with the bracket, and a search beat a linear ramp.
fn consistent(doc: &Value) {
    let c = cap(doc);
    let passed = f(&c["bracket"]["passed"]);
    let failed = f(&c["bracket"]["failed"]);
    assert!(passed < failed, "{c}");
    assert!(
        (failed - passed) / passed <= 0.05 + 1e-9,
        "bracket too wide: {c}"
    );
    let steps = c["steps"].as_array().unwrap();
    assert_eq!(c["steps_run"].as_u64().unwrap() as usize, steps.len());
    // The capacity is the confirmed step's: a passing step at the bracket's lower level,
    // the last one run at that level; its requests/s as achieved, its iterations/s the
    // rate it ran at (the open model's level).
    let at = steps
        .iter()
        .rev()
        .find(|s| f(&s["level"]) == passed)
        .expect("a step at the passing level");
    assert_eq!(at["passed"], true, "{at}");
    assert_eq!(at["phase"], "confirm", "{at}");
    assert_eq!(f(&c["rps"]), f(&at["rps"]));
    assert_eq!(f(&c["iterations_per_second"]), passed);
    assert!(steps
        .iter()
        .any(|s| f(&s["level"]) == failed && s["passed"] == false));
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(s["index"].as_u64().unwrap() as usize, i + 1);
        assert!((f(&s["judged_to_s"]) - f(&s["judged_from_s"]) - STEP_S).abs() < 1e-9);
        assert_eq!(
            s["passed"].as_bool().unwrap(),
            s["reasons"].as_array().unwrap().is_empty(),
            "{s}"
        );
    }
    // Little's law at the capacity.
    let concurrency = f(&c["concurrency"]);
    assert!((concurrency - f(&at["rps"]) * f(&at["mean_ms"]) / 1000.0).abs() < 1e-6);
    let linear = c["linear_ramp_steps"].as_u64().unwrap();
    assert!(
        (steps.len() as u64) < linear,
        "{} steps run, a linear ramp would run {linear}",
        steps.len()
    );
}

fn even_capacity_is_found_just_under_slots_over_service(slots: u32, service_ms: u64) {
    let _beside = beside();
    let t = target(slots, service_ms);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let out = dir.path().join("cap.json");
    let truth = f64::from(slots) / (service_ms as f64 / 1000.0);
    let slo = format!("p99<{}ms", 10 * service_ms);
    let start = format!("{}", (truth / 3.0).round());
    let o = search(&mut capacity(
        &scenario,
        &t.url(),
        &out,
        &["--slo", &slo, "--start-rate", &start],
    ));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let doc = read_json(&out);
    let c = cap(&doc);
    assert_eq!(c["status"], "found", "{err}");
    consistent(&doc);
    let rps = f(&c["rps"]);
    // Within 10 % below the capacity; above it only by what a step's edges can hold (the
    // requests in service when the judged part began).
    assert!(
        rps >= 0.9 * truth && rps <= truth * 1.02,
        "found {rps} requests/s, capacity {truth}\n{err}"
    );
    assert!(err.contains("Capacity: "), "{err}");
    assert!(
        err.contains("Throughput and latency, step by step"),
        "{err}"
    );
}

#[test]
fn two_slots_of_10ms_hold_200_per_second() {
    even_capacity_is_found_just_under_slots_over_service(2, 10);
}

#[test]
fn eight_slots_of_20ms_hold_400_per_second() {
    even_capacity_is_found_just_under_slots_over_service(8, 20);
}

#[test]
fn three_slots_of_5ms_hold_600_per_second() {
    even_capacity_is_found_just_under_slots_over_service(3, 5);
}

/// With Poisson arrivals the queue forms before the capacity: the search must find what
/// the M/D/c queue, asked the same question over the same step, says.
#[test]
fn poisson_capacity_matches_the_m_d_c_queue() {
    let _alone = alone();
    let (slots, service_ms) = (4u32, 10u64);
    let t = target(slots, service_ms);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let out = dir.path().join("cap.json");
    let s = service_ms as f64 / 1000.0;
    let model = Service {
        servers: slots,
        service_s: s,
    };
    let expected =
        model.rate_for_quantile(Spacing::Poisson, 0.99, 10.0 * s, WARMUP_S, STEP_S, 20, 13);
    let start = format!("{}", (expected / 3.0).round());
    let slo = format!("p99<{}ms", 10 * service_ms);
    let o = search(&mut capacity(
        &scenario,
        &t.url(),
        &out,
        &[
            "--slo",
            &slo,
            "--start-rate",
            &start,
            "--arrivals",
            "poisson",
        ],
    ));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let doc = read_json(&out);
    assert_eq!(cap(&doc)["settings"]["arrivals"], "poisson");
    // The rate found, as the model's is a rate: the iterations a Poisson step starts are a
    // draw from it (a confirmation at 363/s that started 347/s once failed this test when
    // the capacity was read off the draw).
    consistent(&doc);
    let found = f(&cap(&doc)["iterations_per_second"]);
    assert!(
        (found - expected).abs() <= 0.1 * expected,
        "found {found} iterations/s, the M/D/{slots} queue {expected}\n{err}"
    );
}

#[test]
fn a_start_rate_that_already_fails_exits_3() {
    let _beside = beside();
    let t = target(2, 10);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let out = dir.path().join("cap.json");
    // Twice the capacity: the queue grows from the first second.
    let o = search(&mut capacity(
        &scenario,
        &t.url(),
        &out,
        &["--slo", "p99<100ms", "--start-rate", "400"],
    ));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("No capacity found: the first level"), "{err}");
    let c = &read_json(&out)["capacity"];
    assert_eq!(c["status"], "start_fails");
    assert_eq!(c["steps_run"], 1);
    assert_eq!(c["bracket"]["passed"], Value::Null);
    assert_eq!(f(&c["bracket"]["failed"]), 400.0);
    assert!(
        c["first_failed"]
            .as_str()
            .unwrap()
            .starts_with("p99<100ms: "),
        "{c}"
    );
}

/// A search capped under the capacity: `at_least` and exit 0; the same search against a
/// floor above it, or a baseline much higher, exits 1. One search, three gates.
#[test]
fn max_rate_below_the_capacity_is_at_least_and_gates_fail_against_more() {
    let _beside = beside();
    let t = target(4, 10); // 400/s
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let out = dir.path().join("cap.json");
    let args = [
        "--slo",
        "p99<100ms",
        "--start-rate",
        "80",
        "--max-rate",
        "160",
    ];
    let o = search(&mut capacity(&scenario, &t.url(), &out, &args));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let doc = read_json(&out);
    let c = cap(&doc);
    assert_eq!(c["status"], "at_least", "{c}");
    assert_eq!(f(&c["bracket"]["passed"]), 160.0);
    assert!(err.contains("Capacity: at least"), "{err}");
    // probe 80, probe 160 (the max), confirm 160.
    assert_eq!(c["steps_run"], 3, "{c}");

    let mut floor_args = args.to_vec();
    floor_args.extend(["--fail-below", "1000"]);
    let o = search(&mut capacity(
        &scenario,
        &t.url(),
        &dir.path().join("floor.json"),
        &floor_args,
    ));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("Gate --fail-below 1,000"), "{err}");
    assert!(err.contains("FAILED"), "{err}");

    // A baseline that held five times as much.
    let mut base = doc.clone();
    base["capacity"]["rps"] = Value::from(f(&c["rps"]) * 5.0);
    let base_path = dir.path().join("base.json");
    std::fs::write(&base_path, serde_json::to_string(&base).unwrap()).unwrap();
    let mut gate_args = args.to_vec();
    gate_args.extend([
        "--baseline",
        base_path.to_str().unwrap(),
        "--fail-if",
        "capacity<-10%",
    ]);
    let o = search(&mut capacity(
        &scenario,
        &t.url(),
        &dir.path().join("gate.json"),
        &gate_args,
    ));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("Gate --fail-if capacity<-10%"), "{err}");
}

#[test]
fn usage_errors_exit_2_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let out = dir.path().join("cap.json");
    // No request is sent in any of these: the URL need not answer.
    let url = "http://127.0.0.1:9";
    let quick = |extra: &[&str]| {
        let o = run_with_timeout(
            &mut capacity(&scenario, url, &out, extra),
            Duration::from_secs(30),
        )
        .unwrap();
        (o.status.code(), stderr(&o))
    };
    let (code, err) = quick(&[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("error: no objective"), "{err}");
    assert!(err.contains("--slo 'p99<300ms'"), "{err}");

    let (code, err) = quick(&[
        "--slo",
        "p99<100ms",
        "--baseline",
        "x.json",
        "--fail-if",
        "capacity>5%",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--fail-if `capacity>5%`"), "{err}");

    let (code, err) = quick(&["--slo", "p99<"]);
    assert_eq!(code, Some(2), "{err}");

    // A baseline without a capacity (a plain run's result).
    let plain = write(dir.path(), "plain.json", "{}");
    let (code, err) = quick(&[
        "--slo",
        "p99<100ms",
        "--baseline",
        plain.to_str().unwrap(),
        "--fail-if",
        "capacity<-10%",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--baseline"), "{err}");

    let several = write(
        dir.path(),
        "several.yaml",
        "scenarios:\n  a:\n    users:\n      u:\n        tasks:\n          t:\n            - get: /\n  \
         b:\n    users:\n      v:\n        tasks:\n          t:\n            - get: /\n",
    );
    let o = run_with_timeout(
        &mut capacity(&several, url, &out, &["--slo", "p99<100ms"]),
        Duration::from_secs(30),
    )
    .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("has `scenarios:` (2 of them: a, b)"), "{err}");
    assert!(
        !out.exists(),
        "no result is written for a search that never ran"
    );
}

/// Ctrl-C in the middle of a search: exit 130, and the result still written with the
/// bracket so far.
#[test]
fn ctrl_c_reports_the_bracket_so_far() {
    let _beside = beside();
    let t = target(2, 10);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let out = dir.path().join("cap.json");
    let log = dir.path().join("stderr.log");
    let mut c = capacity(
        &scenario,
        &t.url(),
        &out,
        &["--slo", "p99<100ms", "--start-rate", "50"],
    );
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    // Wait for the second step's verdict (50/s and 100/s both pass), then interrupt.
    let waited = Instant::now();
    while !read_log().contains("step  2") {
        assert!(waited.elapsed() < Duration::from_secs(60), "{}", read_log());
        assert!(child.try_wait().unwrap().is_none(), "{}", read_log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let stopped = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if stopped.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("not stopped 20 s after SIGINT\n{}", read_log());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let err = read_log();
    assert_eq!(status.code(), Some(130), "{err}");
    let doc = read_json(&out);
    let c = cap(&doc);
    assert_eq!(c["status"], "interrupted", "{c}");
    assert_eq!(doc["run"]["interrupted"], true);
    // Both steps passed: the bracket's lower end is the second, nothing failed yet.
    assert_eq!(f(&c["bracket"]["passed"]), 100.0, "{c}");
    assert_eq!(c["bracket"]["failed"], Value::Null, "{c}");
    assert!(c["steps_run"].as_u64().unwrap() >= 2);
    assert!(err.contains("Interrupted: so far"), "{err}");
}

/// The closed model: users with 100 ms of think time against 4 slots of 20 ms (200
/// requests/s). Each user asks once per (response time + 100 ms); up to 200 x 0.12 = 24
/// users the service keeps up and responses take 20 ms; past that it is saturated, the
/// closed loop holds the throughput at 200/s and the response time grows to
/// N / 200 - 0.1 s. `p99 < 200ms` therefore holds up to N = 200 x (0.2 + 0.1) = 60 users.
#[test]
fn users_model_finds_the_users_the_objective_allows() {
    let _beside = beside();
    let t = target(4, 20);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "users.yaml",
        "users:\n  u:\n    think: 100ms\n    tasks:\n      t:\n        - get: /\n",
    );
    let out = dir.path().join("cap.json");
    let o = search(&mut capacity(
        &scenario,
        &t.url(),
        &out,
        &[
            "--slo",
            "p99<200ms",
            "--model",
            "users",
            "--start-users",
            "12",
        ],
    ));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let doc = read_json(&out);
    let c = cap(&doc);
    assert_eq!(c["status"], "found", "{c}");
    assert_eq!(c["settings"]["model"], "users");
    let users = f(&c["users"]);
    // Bisection stops within 5 %, and per-request jitter lowers the edge a little.
    assert!((48.0..=61.0).contains(&users), "{users} users\n{err}");
    // Saturated there: the service's capacity.
    let rps = f(&c["rps"]);
    assert!((180.0..=204.0).contains(&rps), "{rps} requests/s\n{err}");
}
