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
    children
        .iter()
        .map(|c| c.log())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits until the coordinator's log says all agents registered (the run starts 2 s later).
fn wait_for_log(child: &ChildGuard, text: &str, within: Duration) {
    let deadline = Instant::now() + within;
    while !child.log().contains(text) {
        assert!(
            Instant::now() < deadline,
            "no `{text}` in time:\n{}",
            child.log()
        );
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
    wait_for_log(
        &coordinator,
        "waiting for 4 agents",
        Duration::from_secs(10),
    );
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
    assert_eq!(
        reads["requests"].as_u64(),
        Some(served("GET /items/{name}"))
    );
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
    assert_eq!(
        doc["thresholds"][0]["passed"], true,
        "{}",
        doc["thresholds"]
    );
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
    wait_for_log(
        &coordinator,
        "wrong or missing token",
        Duration::from_secs(5),
    );
    assert!(
        !coordinator.log().contains("registered"),
        "{}",
        coordinator.log()
    );
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
    assert!(
        common::stderr(&o).contains("needs a token"),
        "{}",
        common::stderr(&o)
    );
}

/// A coordinator of `agents` agents (named gen-1 ...) running SCENARIO for `run_time`
/// against `target`, with `extra` flags; returns once the agents have started their load.
struct Fleet {
    coordinator: ChildGuard,
    agents: Vec<ChildGuard>,
    out: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Fleet {
    fn start(target: &DemoTarget, agents: usize, extra: &[&str]) -> Fleet {
        Fleet::of(SCENARIO, target, agents, extra)
    }

    fn of(text: &str, target: &DemoTarget, agents: usize, extra: &[&str]) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let scenario = write(dir.path(), "s.yaml", text);
        let out = dir.path().join("out.json");
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let n = agents.to_string();
        let url = target.url();
        let mut args = vec![
            "coordinator",
            scenario.to_str().unwrap(),
            "--agents",
            &n,
            "--listen",
            &listen,
            "--token",
            "t",
            "-H",
            &url,
            "--json",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let coordinator = spawn("coordinator", dir.path(), &args);
        wait_for_log(&coordinator, "waiting for", Duration::from_secs(10));
        let agents = (1..=agents)
            .map(|i| agent(dir.path(), &format!("gen-{i}"), port, "t"))
            .collect();
        wait_for_log(&coordinator, "agents registered", Duration::from_secs(10));
        // They start 2 s after the last registration; give the load a moment more.
        std::thread::sleep(Duration::from_millis(3_000));
        Fleet {
            coordinator,
            agents,
            out,
            _dir: dir,
        }
    }

    fn logs(&self) -> String {
        let mut v: Vec<&ChildGuard> = vec![&self.coordinator];
        v.extend(self.agents.iter());
        logs(&v)
    }
}

/// The result's generator entry named `name`.
fn generator<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["generators"]
        .as_array()
        .expect("generators")
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no generator {name} in {}", doc["generators"]))
}

/// How long until the coordinator's log says `text`, at most `within`.
fn time_to_log(child: &ChildGuard, text: &str, within: Duration) -> Option<Duration> {
    let since = Instant::now();
    while since.elapsed() < within {
        if child.log().contains(text) {
            return Some(since.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// The open-model load used by the fault tests: 100 iterations/s in all.
const STEADY: &[&str] = &["--rate", "100", "--max-users", "20", "-t", "8s"];

#[test]
fn a_killed_agent_is_noticed_within_5_s_and_fails_the_run_by_default() {
    let _serial = common::serial();
    let target = DemoTarget::start(DemoOptions::fixed(Duration::from_millis(5))).unwrap();
    let mut fleet = Fleet::start(&target, 2, STEADY);
    kill9(&fleet.agents[1]);
    let noticed = time_to_log(&fleet.coordinator, ") lost ", Duration::from_secs(5));
    assert!(
        noticed.is_some(),
        "not noticed within 5 s:\n{}",
        fleet.logs()
    );
    let status = wait(&mut fleet.coordinator, Duration::from_secs(10));
    assert_eq!(status.and_then(|s| s.code()), Some(3), "{}", fleet.logs());
    assert!(
        fleet.coordinator.log().contains("--on-agent-loss fail"),
        "{}",
        fleet.logs()
    );
    // The other agent was stopped with the run and ended normally.
    let other = wait(&mut fleet.agents[0], Duration::from_secs(10));
    assert_eq!(other.and_then(|s| s.code()), Some(0), "{}", fleet.logs());
    assert!(
        fleet.coordinator.log().contains("agent gen-2 (segment "),
        "{}",
        fleet.logs()
    );
    let doc = read_json(&fleet.out);
    let lost = generator(&doc, "gen-2");
    let at = lost["lost_at_s"].as_f64().expect("lost_at_s");
    assert!((0.5..8.0).contains(&at), "lost at {at} s");
    assert!(generator(&doc, "gen-1").get("lost_at_s").is_none());
    assert!(
        doc["run"]["duration_s"].as_f64().unwrap() < 7.5,
        "stopped early: {}",
        doc["run"]
    );
}

#[test]
fn with_continue_the_run_goes_on_without_a_killed_agent_and_says_it_is_degraded() {
    let _serial = common::serial();
    let target = DemoTarget::start(DemoOptions::fixed(Duration::from_millis(5))).unwrap();
    let mut args = STEADY.to_vec();
    args.extend(["--on-agent-loss", "continue"]);
    let mut fleet = Fleet::start(&target, 2, &args);
    kill9(&fleet.agents[0]);
    let noticed = time_to_log(&fleet.coordinator, ") lost ", Duration::from_secs(5));
    assert!(
        noticed.is_some(),
        "not noticed within 5 s:\n{}",
        fleet.logs()
    );
    let status = wait(&mut fleet.coordinator, Duration::from_secs(15));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", fleet.logs());
    let other = wait(&mut fleet.agents[1], Duration::from_secs(10));
    assert_eq!(other.and_then(|s| s.code()), Some(0), "{}", fleet.logs());
    let doc = read_json(&fleet.out);
    let warnings = doc["warnings"].to_string();
    assert!(
        warnings.contains("gen-1") && warnings.contains("degraded"),
        "{warnings}"
    );
    assert!(
        warnings.contains("not moved to the other agents"),
        "{warnings}"
    );
    assert!(generator(&doc, "gen-1")["lost_at_s"].as_f64().is_some());
    assert!(generator(&doc, "gen-2").get("lost_at_s").is_none());
    // Each agent's own health is kept apart, and the parts add up to the run's.
    let started = |g: &serde_json::Value| g["generator"]["iterations_started"].as_u64().unwrap();
    let survivor = &generator(&doc, "gen-2")["generator"];
    assert_eq!(
        started(generator(&doc, "gen-1")) + started(generator(&doc, "gen-2")),
        doc["generator"]["iterations_started"].as_u64().unwrap(),
        "{}",
        doc["generators"]
    );
    // Its half of 100/s for 8 s.
    assert!(
        (340..=460).contains(&survivor["iterations_started"].as_u64().unwrap()),
        "{survivor}"
    );
    assert!(
        survivor["schedule_lag"]["count"].as_u64().unwrap() > 0,
        "{survivor}"
    );
    // The run lasted its 8 s: the other agent's half went on.
    assert!(
        doc["run"]["duration_s"].as_f64().unwrap() >= 7.5,
        "{}",
        doc["run"]
    );
}

#[test]
fn agents_stop_their_load_within_10_s_of_losing_the_coordinator() {
    let _serial = common::serial();
    let target = DemoTarget::start(DemoOptions::fixed(Duration::from_millis(5))).unwrap();
    let mut args = STEADY.to_vec();
    args[5] = "30s";
    let mut fleet = Fleet::start(&target, 2, &args);
    let before = total(&target.counts());
    assert!(before > 0, "no load yet:\n{}", fleet.logs());
    kill9(&fleet.coordinator);
    let killed = Instant::now();
    for a in fleet.agents.iter_mut() {
        let left = Duration::from_secs(10).saturating_sub(killed.elapsed());
        let status = wait(a, left);
        assert_eq!(status.and_then(|s| s.code()), Some(3), "{}", a.log());
        assert!(a.log().contains("lost the coordinator"), "{}", a.log());
    }
    assert!(killed.elapsed() < Duration::from_secs(10));
    // No orphan load: the target's count no longer grows.
    let after = total(&target.counts());
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(total(&target.counts()), after);
}

#[test]
fn ctrl_c_on_the_coordinator_stops_every_agent_and_writes_the_result() {
    let _serial = common::serial();
    let target = DemoTarget::start(DemoOptions::fixed(Duration::from_millis(5))).unwrap();
    let mut args = STEADY.to_vec();
    args[5] = "30s";
    let mut fleet = Fleet::start(&target, 2, &args);
    let status = Command::new("kill")
        .args(["-INT", &fleet.coordinator.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = wait(&mut fleet.coordinator, Duration::from_secs(10));
    assert_eq!(status.and_then(|s| s.code()), Some(130), "{}", fleet.logs());
    for a in fleet.agents.iter_mut() {
        let status = wait(a, Duration::from_secs(10));
        assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", a.log());
    }
    let doc = read_json(&fleet.out);
    assert_eq!(doc["run"]["interrupted"], true);
    assert_eq!(
        doc["aggregate"]["requests"].as_u64(),
        Some(total(&target.counts()))
    );
}

#[test]
fn an_abort_on_fail_threshold_stops_every_agent() {
    let _serial = common::serial();
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let failing = "target: http://127.0.0.1:1\nthink: 10ms\ntasks:\n  t:\n    - get: /__barrage/nope\n\
                   thresholds:\n  - threshold: error_rate < 1%\n    abort_on_fail: true\n    delay: 1s\n";
    let started = Instant::now();
    let mut fleet = Fleet::of(failing, &target, 2, &["-u", "4", "-t", "30s"]);
    let status = wait(&mut fleet.coordinator, Duration::from_secs(15));
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{}", fleet.logs());
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        fleet
            .coordinator
            .log()
            .contains("Stopping: threshold `error_rate < 1%` failed (abort_on_fail)"),
        "{}",
        fleet.logs()
    );
    for a in fleet.agents.iter_mut() {
        let status = wait(a, Duration::from_secs(10));
        assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", a.log());
    }
    let doc = read_json(&fleet.out);
    assert!(
        doc["run"]["duration_s"].as_f64().unwrap() < 10.0,
        "{}",
        doc["run"]
    );
    assert_eq!(doc["thresholds"][0]["passed"], false);
    // Both agents' requests are in the merged result, every one failed (404).
    let requests = doc["aggregate"]["requests"].as_u64().unwrap();
    assert!(requests > 0);
    assert_eq!(doc["aggregate"]["failures"].as_u64(), Some(requests));
    for name in ["gen-1", "gen-2"] {
        assert!(generator(&doc, name).get("lost_at_s").is_none());
    }
}

/// `POST path` with a JSON body to the coordinator's web UI; the status code.
fn post(port: u16, path: &str, body: &str) -> u16 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"))
}

#[test]
fn a_rate_change_in_the_coordinators_web_ui_reaches_every_agent() {
    let _serial = common::serial();
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let web = free_port().to_string();
    let mut fleet = Fleet::start(
        &target,
        2,
        &[
            "--rate",
            "10",
            "--max-users",
            "20",
            "-t",
            "9s",
            "--web",
            "--web-port",
            &web,
        ],
    );
    let port: u16 = web.parse().unwrap();
    let rate_over = |d: Duration| {
        let before = total(&target.counts());
        std::thread::sleep(d);
        (total(&target.counts()) - before) as f64 / d.as_secs_f64()
    };
    // 10 iterations/s of two requests each, split over the agents.
    let slow = rate_over(Duration::from_secs(2));
    assert_eq!(
        post(port, "/api/load", r#"{"rate": 100}"#),
        200,
        "{}",
        fleet.logs()
    );
    std::thread::sleep(Duration::from_millis(500));
    let fast = rate_over(Duration::from_secs(2));
    assert!((10.0..30.0).contains(&slow), "before: {slow} requests/s");
    assert!(
        (150.0..250.0).contains(&fast),
        "after: {fast} requests/s\n{}",
        fleet.logs()
    );
    let status = wait(&mut fleet.coordinator, Duration::from_secs(15));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", fleet.logs());
    let doc = read_json(&fleet.out);
    let timeline = doc["timeline"].to_string();
    assert!(
        timeline.contains("rate 10 -> 100") && timeline.contains("web UI"),
        "{timeline}"
    );
}

#[test]
fn agents_reach_a_coordinator_over_tls_when_it_has_a_certificate() {
    let _serial = common::serial();
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
        .expect("generating a certificate");
    let cert = write(dir.path(), "cert.pem", &made.cert.pem());
    let key = write(dir.path(), "key.pem", &made.key_pair.serialize_pem());
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let out = dir.path().join("out.json");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let url = target.url();
    let mut coordinator = spawn(
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
            "t",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "-H",
            &url,
            "--iterations",
            "50",
            "--json",
            out.to_str().unwrap(),
        ],
    );
    wait_for_log(&coordinator, "waiting for 1 agent", Duration::from_secs(10));
    // Without the CA the agent speaks plain WebSocket to a TLS listener: no registration.
    let mut plain = agent(dir.path(), "plain", port, "t");
    let status = wait(&mut plain, Duration::from_secs(15));
    assert_eq!(status.and_then(|s| s.code()), Some(3), "{}", plain.log());
    let mut tls = spawn(
        "tls",
        dir.path(),
        &[
            "agent",
            "--coordinator",
            &listen,
            "--token",
            "t",
            "--tls-ca",
            cert.to_str().unwrap(),
            "--workers",
            "2",
        ],
    );
    let status = wait(&mut coordinator, Duration::from_secs(30));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{}",
        logs(&[&coordinator, &tls])
    );
    assert_eq!(
        wait(&mut tls, Duration::from_secs(10)).and_then(|s| s.code()),
        Some(0)
    );
    let doc = read_json(&out);
    assert_eq!(endpoint(&doc, "GET", "/items/[name]")["requests"], 50);
    assert_eq!(
        doc["aggregate"]["requests"].as_u64(),
        Some(total(&target.counts()))
    );
}
