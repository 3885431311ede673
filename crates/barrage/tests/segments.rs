//! `barrage run --segment I/N --start-at TIME` (docs/DISTRIBUTED.md, "Segments"): four
//! processes started together, each running its share of an iterations-bounded load,
//! send together exactly what one whole run sends, and the target's own counts agree;
//! each result file says which share it was and when it was asked to start. Also: the
//! flags' mistakes are refused with their fix, and Ctrl-C during the wait ends it cleanly.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant, SystemTime};

use barrage_target::{DemoOptions, DemoTarget};
use common::{barrage, read_json, run, stderr, write, ChildGuard};
use serde_json::Value;

/// 6 users log in once each, then share 203 iterations of two requests, the first on the
/// next row of a sequential data source. 6 users and 203 iterations over 4 segments do not
/// divide evenly: segments 1 and 2 own two users each, 3 and 4 one.
const SCENARIO: &str = r#"
data:
  names:
    file: names.csv
    order: sequential
users:
  u:
    setup:
      - post: /login
        json: { username: u, password: p }
    tasks:
      t:
        - get: "/items/{{ names.name }}"
          name: /items/[name]
        - get: /
load:
  users: 6
  iterations: 203
"#;

/// Per-endpoint request counts of a result file: `"GET /"` -> requests.
fn requests(doc: &Value) -> BTreeMap<String, u64> {
    doc["endpoints"]
        .as_array()
        .expect("the result file has endpoints")
        .iter()
        .map(|e| {
            (
                format!(
                    "{} {}",
                    e["method"].as_str().unwrap(),
                    e["name"].as_str().unwrap()
                ),
                e["requests"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn unix_ms(rfc3339: &str) -> i128 {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("`{rfc3339}` is not RFC 3339: {e}"));
    t.unix_timestamp_nanos() / 1_000_000
}

fn scenario_in(dir: &Path) -> std::path::PathBuf {
    let rows: String = (0..300).map(|i| format!("n{i}\n")).collect();
    write(dir, "names.csv", &format!("name\n{rows}"));
    write(dir, "split.yaml", SCENARIO)
}

#[test]
fn four_segments_started_together_send_exactly_what_one_run_sends() {
    let split_target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let whole_target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_in(dir.path());

    // The asked start, to the millisecond, as the result file writes it.
    let start_at = barrage_metrics::format_timestamp(SystemTime::now() + Duration::from_secs(2));
    let asked_ms = unix_ms(&start_at);
    let handles: Vec<_> = (1..=4)
        .map(|i| {
            let out = dir.path().join(format!("part{i}.json"));
            let mut c = barrage();
            c.arg("run")
                .arg(&scenario)
                .arg("-H")
                .arg(split_target.url())
                .arg("--json")
                .arg(&out)
                // Machines differ: segments 1 and 3 run on one worker thread, 2 and 4 on two.
                .args(["--workers", if i % 2 == 1 { "1" } else { "2" }])
                .args(["--start-at", &start_at]);
            // The fourth takes its segment from the environment, as a Kubernetes pod would.
            if i == 4 {
                c.env("BARRAGE_SEGMENT", "4/4");
            } else {
                c.args(["--segment", &format!("{i}/4")]);
            }
            std::thread::spawn(move || (run(&mut c), out))
        })
        .collect();
    let parts: Vec<(Output, std::path::PathBuf)> =
        handles.into_iter().map(|h| h.join().unwrap()).collect();

    let mut sum: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_part = Vec::new();
    for (i, (o, out)) in parts.iter().enumerate() {
        let err = stderr(o);
        assert_eq!(o.status.code(), Some(0), "segment {}: {err}", i + 1);
        assert!(err.contains(&format!("segment {}/4", i + 1)), "{err}");
        assert!(err.contains("Waiting until"), "{err}");
        let doc = read_json(out);
        assert_eq!(
            doc["run"]["segment"],
            serde_json::json!({"index": i + 1, "count": 4})
        );
        assert_eq!(doc["run"]["start_at"], start_at.as_str());
        // Started at the asked time: not before it, and soon after (the processes are
        // started two seconds ahead, so only the start itself is in this).
        let started_ms = unix_ms(doc["run"]["started_at"].as_str().unwrap());
        let late = started_ms - asked_ms;
        assert!(
            (0..500).contains(&late),
            "segment {} started {late} ms after the asked start",
            i + 1
        );
        let counts = requests(&doc);
        for (k, v) in &counts {
            *sum.entry(k.clone()).or_default() += v;
        }
        per_part.push(counts);
    }
    // Each segment's share follows its users: 2, 2, 1, 1 of 6, and 203 iterations dealt
    // round-robin over the users (68, 67, 34, 34).
    let logins: Vec<u64> = per_part.iter().map(|c| c["POST /login"]).collect();
    assert_eq!(logins, [2, 2, 1, 1]);
    let reads: Vec<u64> = per_part.iter().map(|c| c["GET /"]).collect();
    assert_eq!(reads, [68, 67, 34, 34]);

    // The target saw exactly what the four files count.
    let served = split_target.counts();
    for (k, v) in &sum {
        let route = if k == "GET /items/[name]" {
            "GET /items/{name}"
        } else {
            k
        };
        assert_eq!(
            served[route], *v,
            "{k}: the target's count and the files' sum"
        );
    }
    // And one whole run sends the same.
    let whole = dir.path().join("whole.json");
    let o = run(barrage()
        .arg("run")
        .arg(&scenario)
        .arg("-H")
        .arg(whole_target.url())
        .arg("--json")
        .arg(&whole)
        .args(["--workers", "2"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let whole = read_json(&whole);
    assert!(
        whole["run"].get("segment").is_none(),
        "a whole run has no segment"
    );
    assert_eq!(requests(&whole), sum);
    assert_eq!(sum["GET /"], 203);
    assert_eq!(sum["POST /login"], 6);
}

#[test]
fn segment_and_start_mistakes_are_refused_with_their_fix() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_in(dir.path());
    let refused = |args: &[&str], says: &str| {
        let o = run(barrage().arg("run").arg(&scenario).args(args));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    };
    refused(
        &["--segment", "0/4"],
        "I counts from 1, so the first of 4 shares is 1/4",
    );
    refused(
        &["--segment", "5/4"],
        "there are only 4 shares, so I goes from 1 to 4",
    );
    refused(&["--segment", "x/4"], "I and N must be whole numbers");
    refused(&["--segment", "4"], "is not a segment: write I/N, like 2/4");
    refused(&["--start-at", "tomorrow"], "not an RFC 3339 time");
    let far = barrage_metrics::format_timestamp(SystemTime::now() + Duration::from_secs(90_000));
    refused(
        &["--start-at", &far],
        "more than 24 hours ahead is refused as a probable mistake",
    );
    refused(
        &["--segment", "4/4", "-u", "3", "-H", "http://127.0.0.1:9"],
        "segment 4/4 has nothing to run: the load has only 3 users",
    );
    refused(
        &["--segment", "1/2", "--web"],
        "--segment and --start-at run one share of a split load headless",
    );
}

#[test]
fn a_start_already_past_starts_at_once_and_says_how_late() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_in(dir.path());
    let past = barrage_metrics::format_timestamp(SystemTime::now() - Duration::from_secs(90));
    let out = dir.path().join("late.json");
    let began = Instant::now();
    let o = run(barrage()
        .arg("run")
        .arg(&scenario)
        .arg("-H")
        .arg(target.url())
        .args([
            "--segment",
            "2/2",
            "--start-at",
            &past,
            "--iterations",
            "10",
        ])
        .arg("--json")
        .arg(&out));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("--start-at {past} passed 1 min 3")),
        "{err}"
    );
    assert!(err.contains("starting segment 2/2 now"), "{err}");
    assert!(began.elapsed() < Duration::from_secs(20));
    // Segment 2 of 2 owns users 1, 3, 5: 10 iterations dealt over 6 users give it 5.
    assert_eq!(requests(&read_json(&out))["GET /"], 5);
}

#[test]
fn ctrl_c_during_the_wait_exits_without_running() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_in(dir.path());
    let later = barrage_metrics::format_timestamp(SystemTime::now() + Duration::from_secs(60));
    let out = dir.path().join("never.json");
    let mut child = ChildGuard::spawn(
        "barrage",
        barrage()
            .arg("run")
            .arg(&scenario)
            .arg("-H")
            .arg(target.url())
            .args(["--segment", "1/3", "--start-at", &later])
            .arg("--json")
            .arg(&out),
        &dir.path().join("wait.log"),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !child.log().contains("Waiting until") {
        assert!(Instant::now() < deadline, "{}", child.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let interrupted = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = loop {
        if let Some(s) = child.exited() {
            break s;
        }
        assert!(
            interrupted.elapsed() < Duration::from_secs(5),
            "still waiting after Ctrl-C: {}",
            child.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130), "{}", child.log());
    assert!(
        child
            .log()
            .contains("Interrupted before the start: no run, no files."),
        "{}",
        child.log()
    );
    assert!(!out.exists(), "no result file for a run that never started");
    assert_eq!(target.counts().values().sum::<u64>(), 0, "nothing was sent");
}
