//! `barrage coordinator` and `barrage agent` as local processes against the built-in target
//! on loopback: the merged run counts what the target served, percentiles come from the
//! merged histograms, a wrong token is refused on both sides, a killed agent is noticed
//! within 5 s and handled by `--on-agent-loss`, agents stop their load within 10 s of
//! losing the coordinator, and a load change reaches every agent. Every run is bounded by
//! an iteration count or a short duration.

mod common;

use std::path::Path;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use barrage_target::{DemoOptions, DemoTarget};
use common::{barrage, endpoint, free_port, read_json, write, ChildGuard};

/// Two endpoints the target counts apart; every items-API request takes the target's delay.
const SCENARIO: &str = r#"
target: http://127.0.0.1:1
users:
  reader:
    tasks:
      one:
        steps:
          - get: "/items/Item {{ int(1, 100) }}"
            name: /items/[name]
          - get: /
"#;

fn spawn(name: &str, dir: &Path, args: &[&str]) -> ChildGuard {
    let mut c = barrage();
    c.args(args);
    ChildGuard::spawn(name, &mut c, &dir.join(format!("{name}.log")))
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"))
}

fn agent(dir: &Path, name: &str, port: u16, token: &str) -> ChildGuard {
    let addr = format!("127.0.0.1:{port}");
    spawn(
        name,
        dir,
        &[
            "agent",
            "--coordinator",
            &addr,
            "--token",
            token,
            "--name",
            name,
            "--workers",
            "2",
        ],
    )
}

/// Waits for `child` to end, at most `within`.
fn wait(child: &mut ChildGuard, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.exited() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn kill9(child: &ChildGuard) {
    let status = Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn logs(children: &[&ChildGuard]) -> String {
    children.iter().map(|c| c.log()).collect::<Vec<_>>().join("\n")
}

/// Waits until the coordinator's log says all agents registered (the run starts 2 s later).
fn wait_for_log(child: &ChildGuard, text: &str, within: Duration) {
    let deadline = Instant::now() + within;
    while !child.log().contains(text) {
        assert!(Instant::now() < deadline, "no `{text}` in time:\n{}", child.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn total(counts: &std::collections::BTreeMap<String, u64>) -> u64 {
    counts.values().sum()
}

#[test]
fn four_agents_merge_into_the_counts_the_target_served() {
    let _serial = common::serial();
    let target = DemoTarget::start(DemoOptions::fixed(Duration::from_millis(20))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let out = dir.path().join("out.json");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut coordinator = spawn(
        "coordinator",
        dir.path(),
        &[
            "coordinator",
            scenario.to_str().unwrap(),
            "--agents",
            "4",
            "--listen",
            &listen,
            "--token",
            "s3cret",
            "-H",
            &target.url(),
            "-u",
            "8",
            "--iterations",
            "400",
            "--json",
            out.to_str().unwrap(),
            "--threshold",
            "p50<1s",
        ],
    );
    wait_for_log(&coordinator, "waiting for 4 agents", Duration::from_secs(10));
    let mut agents: Vec<ChildGuard> = (1..=4)
        .map(|i| agent(dir.path(), &format!("gen-{i}"), port, "s3cret"))
        .collect();
    let status = wait(&mut coordinator, Duration::from_secs(40));
    let all = |agents: &[ChildGuard]| {
        let mut v: Vec<&ChildGuard> = vec![&coordinator];
        v.extend(agents.iter());
        logs(&v)
    };
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", all(&agents));
    for a in agents.iter_mut() {
        let status = wait(a, Duration::from_secs(10));
        assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", a.log());
    }
    let all = all(&agents);

    let doc = read_json(&out);
    let counts = target.counts();
    let served = |k: &str| counts.get(k).copied().unwrap_or(0);
    let reads = endpoint(&doc, "GET", "/items/[name]");
    let roots = endpoint(&doc, "GET", "/");
    // 400 iterations in all, split over 4 agents x 2 workers: each one read and one root.
    assert_eq!(reads["requests"], 400, "{all}");
    assert_eq!(reads["requests"].as_u64(), Some(served("GET /items/{name}")));
    assert_eq!(roots["requests"].as_u64(), Some(served("GET /")));
    assert_eq!(doc["aggregate"]["requests"].as_u64(), Some(total(&counts)));
    assert_eq!(doc["aggregate"]["failures"], 0);
    // The target holds every items-API request 20 ms: the merged median is a little above.
    let p50 = reads["response_time"]["p50"].as_f64().unwrap();
    assert!((19.5..40.0).contains(&p50), "p50 {p50} ms");
    // Every agent under its name, with its segment and measured clock offset.
    let generators = doc["generators"].as_array().expect("generators");
    assert_eq!(generators.len(), 4, "{doc}");
    for (i, g) in generators.iter().enumerate() {
        assert_eq!(g["segment"]["index"], i as u64 + 1);
        assert_eq!(g["segment"]["count"], 4);
        assert_eq!(g["workers"], 2);
        // Same machine, same clock: the offset is the measurement's error, well under 50 ms.
        let offset = g["clock_offset_ms"].as_f64().expect("clock_offset_ms");
        assert!(offset.abs() < 50.0, "offset {offset} ms");
        assert!(g.get("lost_at_s").is_none());
    }
    assert_eq!(doc["run"]["workers"], 8);
    assert!(doc["run"]["start_at"].is_string(), "{}", doc["run"]);
    assert_eq!(doc["thresholds"][0]["passed"], true, "{}", doc["thresholds"]);
}

#[test]
fn an_agent_with_the_wrong_token_is_refused_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let coordinator = spawn(
        "coordinator",
        dir.path(),
        &[
            "coordinator",
            scenario.to_str().unwrap(),
            "--agents",
            "1",
            "--listen",
            &listen,
            "--token",
            "right",
            "--iterations",
            "10",
        ],
    );
    wait_for_log(&coordinator, "waiting for 1 agent", Duration::from_secs(10));
    let mut wrong = agent(dir.path(), "intruder", port, "wrong");
    let status = wait(&mut wrong, Duration::from_secs(10));
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{}", wrong.log());
    assert!(wrong.log().contains("refused the token"), "{}", wrong.log());
    wait_for_log(&coordinator, "wrong or missing token", Duration::from_secs(5));
    assert!(!coordinator.log().contains("registered"), "{}", coordinator.log());
}

#[test]
fn a_coordinator_beyond_loopback_needs_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let o = common::run(barrage().args([
        "coordinator",
        scenario.to_str().unwrap(),
        "--agents",
        "1",
        "--listen",
        "0.0.0.0:0",
    ]));
    assert_eq!(o.status.code(), Some(2));
    assert!(common::stderr(&o).contains("needs a token"), "{}", common::stderr(&o));
}
