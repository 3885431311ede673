//! A capacity search's result in the HTML report, the sweep page and the Markdown summary.
//!
//! The `capacity` object is built here (a hand-made search against a service of capacity
//! 400 requests/s: four slots of 10 ms, the shape the built-in target's capacity mode has)
//! and put into the result of a real short run against the built-in target on loopback, so
//! the rest of the report is a run's. `barrage report RESULT.json --html --summary-md` then
//! makes the report and the summary, and `web/tests/capacity.mjs` opens the report and the
//! sweep page (`barrage_web::report::sweep_html`) from file:// in headless Chromium: no
//! console error, no request, every figure and step row equal to the JSON, the charts drawn,
//! a status other than `found` in its own words. Screenshots go to target/test-artifacts/.
//!
//! Needs Chromium and `web/node_modules` (scripts/test.sh installs both and runs these with
//! `--include-ignored`); a bare `cargo test` skips them.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use barrage_metrics::capacity::{Bracket, SearchSettingsDoc, Slope, StepPhase, SweepEntry, UslFit};
use barrage_metrics::{CapacityDoc, CapacityStatus, CapacityStep, SearchModel, SweepDoc};
use barrage_target::{DemoOptions, DemoTarget};
use common::{barrage, read_json, repo_root, run, stderr, write};

const SCENARIO: &str = r#"
target: http://127.0.0.1:1
users:
  reader:
    tasks:
      item:
        steps:
          - get: /
            check:
              status: 200
"#;

/// Text from the person's expressions and the server's figures, which the page must show as
/// written and never run.
const HOSTILE: &str = "<img src=x onerror=\"window.pwned=1\"></script><!--";

/// The service: 4 requests in service at once, each taking 10 ms.
const SLOTS: f64 = 4.0;
const SERVICE_MS: f64 = 10.0;

/// One step of a search against [`SLOTS`] / [`SERVICE_MS`] held 3 s: below the capacity
/// latency stays at the service time, above it the backlog grows by `level - capacity`
/// each second and so does the wait.
fn step(index: u32, phase: StepPhase, level: f64) -> CapacityStep {
    let capacity = SLOTS * 1000.0 / SERVICE_MS;
    let step_s = 3.0;
    let over = (level - capacity).max(0.0);
    let rps = level.min(capacity) * 0.9985;
    let wait_ms = over * step_s / capacity * 1000.0 / 2.0;
    let (p50, p95, p99) = if over > 0.0 {
        (
            SERVICE_MS + wait_ms,
            SERVICE_MS + wait_ms * 1.9,
            SERVICE_MS + wait_ms * 1.98,
        )
    } else {
        (10.12, 10.61, 11.87)
    };
    let mean = if over > 0.0 {
        SERVICE_MS + wait_ms
    } else {
        10.2
    };
    let dropped = if level >= 800.0 { 212 } else { 0 };
    let requests = (rps * step_s).round() as u64;
    let failures = if over > 0.0 { requests / 50 } else { 0 };
    let mut reasons = Vec::new();
    if p99 >= 50.0 {
        reasons.push(format!("p99 < 50ms: {p99:.1} ms"));
    }
    if failures > 0 {
        reasons.push(format!("error_rate < 1%: 2.00 % {HOSTILE}"));
    }
    if over > 0.0 {
        reasons.push(format!(
            "latency rising: p50 slope {:.2} ms/s, 95 % interval above 0",
            wait_ms / step_s
        ));
    }
    if dropped > 0 {
        reasons.push(format!("{dropped} iterations dropped"));
    }
    let slope = if over > 0.0 {
        let s = wait_ms * 2.0 / step_s;
        Slope {
            slope: s,
            low: s * 0.8,
            high: s * 1.2,
            points: 3,
        }
    } else {
        Slope {
            slope: 0.004,
            low: -0.011,
            high: 0.019,
            points: 3,
        }
    };
    CapacityStep {
        index,
        phase: Some(phase),
        level,
        judged_from_s: f64::from(index) * 4.0 - 3.0,
        judged_to_s: f64::from(index) * 4.0,
        requests,
        failures,
        error_rate: failures as f64 / requests as f64,
        rps,
        iterations_per_second: rps,
        dropped_iterations: dropped,
        mean_ms: mean,
        p50_ms: p50,
        p95_ms: p95,
        p99_ms: p99,
        concurrency: rps * mean / 1000.0,
        latency_slope: Some(slope),
        server_cpu_percent: Some((level / capacity * 96.0).min(99.5)),
        generator_cpu_percent: 3.0 + level / 100.0,
        schedule_lag_p99_ms: 0.12,
        passed: reasons.is_empty(),
        reasons,
        generator_limited: false,
        disturbed: false,
        notes: Vec::new(),
    }
}

/// A search for `p99 < 50ms` from 100/s: probes 100, 200, 400 pass and 800 fails; bisection
/// at 600, 500, 450, 425 and 412.5 fails; 400 is confirmed. Found: 400 within 5 %.
fn found() -> CapacityDoc {
    use StepPhase::{Bisect, Confirm, Probe};
    let steps: Vec<CapacityStep> = [
        (Probe, 100.0),
        (Probe, 200.0),
        (Probe, 400.0),
        (Probe, 800.0),
        (Bisect, 600.0),
        (Bisect, 500.0),
        (Bisect, 450.0),
        (Bisect, 425.0),
        (Bisect, 412.5),
        (Confirm, 400.0),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (phase, level))| step(i as u32 + 1, phase, level))
    .collect();
    let confirmed = steps.last().expect("ten steps").clone();
    let (sigma, kappa): (f64, f64) = (0.2, 0.000_1);
    let peak_n = ((1.0 - sigma) / kappa).sqrt();
    let lambda = 100.0;
    let usl = |n: f64| lambda * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0));
    CapacityDoc {
        status: CapacityStatus::Found,
        rps: Some(confirmed.rps),
        iterations_per_second: Some(confirmed.iterations_per_second),
        users: None,
        bracket: Bracket {
            passed: Some(400.0),
            failed: Some(412.5),
        },
        concurrency: Some(confirmed.concurrency),
        first_failed: Some("p99 < 50ms: 1,198.0 ms".to_owned()),
        usl: Some(UslFit {
            lambda,
            sigma,
            kappa,
            r_squared: 0.712,
            peak_concurrency: Some(peak_n),
            peak_rps: Some(usl(peak_n)),
            points: 10,
        }),
        steps_run: 10,
        linear_ramp_steps: Some(16),
        message: format!(
            "capacity {:.1} requests/s ({:.1} iterations/s) between 400 and 412.5 iterations/s: \
             p99 < 50ms held at 400 and failed at 412.5",
            confirmed.rps, confirmed.iterations_per_second
        ),
        settings: SearchSettingsDoc {
            objectives: vec![
                "p99 < 50ms".to_owned(),
                format!("error_rate < 1% {HOSTILE}"),
            ],
            start: 100.0,
            max: 10_000.0,
            precision: 0.05,
            step_s: 3.0,
            warmup_s: 1.0,
            arrivals: "even".to_owned(),
            ..SearchSettingsDoc::default()
        },
        steps,
    }
}

/// The search stopped by the generator at 800/s: no capacity, in its own words.
fn generator_limit() -> CapacityDoc {
    let mut cap = found();
    cap.steps.truncate(4);
    let last = cap.steps.last_mut().expect("four steps");
    last.generator_limited = true;
    last.reasons = vec!["schedule lag p99 4.20 ms, over the 1 ms limit".to_owned()];
    for s in &mut cap.steps {
        s.server_cpu_percent = None;
    }
    cap.status = CapacityStatus::GeneratorLimit;
    cap.rps = None;
    cap.iterations_per_second = None;
    cap.concurrency = None;
    cap.bracket = Bracket {
        passed: Some(400.0),
        failed: Some(800.0),
    };
    cap.first_failed = Some("schedule lag p99 4.20 ms, over the 1 ms limit".to_owned());
    cap.usl = None;
    cap.steps_run = 4;
    cap.linear_ramp_steps = None;
    cap.message =
        "the generator, not the service, is the limit: add --workers or machines".to_owned();
    cap
}

/// A 2-second run against the built-in target with `capacity` added: the result file a
/// search writes (its totals cover the last step).
fn result_with(dir: &Path, url: &str, name: &str, cap: &CapacityDoc) -> std::path::PathBuf {
    let scenario = write(dir, "scenario.yaml", SCENARIO);
    let json = dir.join("run.json");
    if !json.exists() {
        let o = run(barrage()
            .arg("run")
            .arg(&scenario)
            .args([
                "-u",
                "2",
                "-r",
                "2",
                "-t",
                "2s",
                "--workers",
                "1",
                "-H",
                url,
            ])
            .arg("--json")
            .arg(&json));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let mut doc = read_json(&json);
    doc["capacity"] = serde_json::to_value(cap).expect("a CapacityDoc serializes");
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("JSON")).expect("writing");
    path
}

fn node(kind: &str, page: &Path, json: &Path, screenshot: &Path) {
    let o = Command::new("node")
        .current_dir(repo_root())
        .arg("web/tests/capacity.mjs")
        .arg(kind)
        .arg(page)
        .arg(json)
        .arg(screenshot)
        .output()
        .expect("node runs (install Node.js)");
    assert!(
        o.status.success(),
        "capacity.mjs failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&o.stdout));
}

fn artifacts() -> std::path::PathBuf {
    let dir = repo_root().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("creating target/test-artifacts");
    dir
}

#[test]
#[ignore = "needs Chromium and web/node_modules (scripts/test.sh)"]
fn a_capacity_result_s_report_shows_its_conclusion_curve_and_every_step() {
    let _browser = common::one_browser_at_a_time();
    let target = DemoTarget::start(DemoOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let artifacts = artifacts();

    for (name, cap) in [("found", found()), ("generator", generator_limit())] {
        let json = result_with(dir.path(), &target.url(), name, &cap);
        let html = dir.path().join(format!("{name}.html"));
        let md = dir.path().join(format!("{name}.md"));
        // `barrage report` needs no change for capacity: the View carries it.
        let o = run(barrage()
            .arg("report")
            .arg(&json)
            .arg("--html")
            .arg(&html)
            .arg("--summary-md")
            .arg(&md));
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let summary = std::fs::read_to_string(&md).expect("the summary");
        assert!(summary.contains("### Capacity\n"), "{summary}");
        match cap.rps {
            Some(rps) => assert!(
                summary.contains(&format!("**Capacity found:** {rps:.2} req/s")),
                "{summary}"
            ),
            None => assert!(
                summary.contains(
                    "**No capacity: the generator, not the service, was the limit:** none"
                ),
                "{summary}"
            ),
        }
        node(
            "report",
            &html,
            &json,
            &artifacts.join(format!("capacity-report-{name}.png")),
        );
    }
}

/// Three configurations: one worker finds 400/s, two find 1.98 times that, four did not
/// start (its error shown, no bar, no curve).
fn sweep() -> SweepDoc {
    let one = found();
    let mut two = found();
    for s in &mut two.steps {
        s.rps *= 1.98;
        s.iterations_per_second *= 1.98;
        s.level *= 2.0;
        s.concurrency *= 1.98;
        s.server_cpu_percent = None;
    }
    two.rps = Some(one.rps.expect("found") * 1.98);
    two.iterations_per_second = two.rps;
    two.bracket = Bracket {
        passed: Some(800.0),
        failed: Some(825.0),
    };
    let entry = |workers: &str, capacity: Option<CapacityDoc>, error: Option<&str>| SweepEntry {
        values: BTreeMap::from([("workers".to_owned(), workers.to_owned())]),
        command: format!("uvicorn app:app --workers {workers} {HOSTILE}"),
        log: format!("/tmp/sweep/workers-{workers}.log"),
        capacity,
        error: error.map(str::to_owned),
    };
    SweepDoc {
        kind: "capacity-sweep".to_owned(),
        tool_version: "0.0.0-test".to_owned(),
        scenario_file: "shop.yaml".to_owned(),
        serve: "uvicorn app:app --workers {workers}".to_owned(),
        configurations: vec![
            entry("1", Some(one), None),
            entry("2", Some(two), None),
            entry(
                "4",
                None,
                Some("the service did not answer within 30 s <see the log>"),
            ),
        ],
        interrupted: false,
    }
}

/// The sweep of [`sweep`] searched with `--model users`: compared by users (40, 79), not
/// requests/s; and a fourth configuration whose service exited during its search keeps its
/// curve but is compared by nothing.
fn users_sweep() -> SweepDoc {
    let mut doc = sweep();
    for (e, users) in doc.configurations.iter_mut().zip([40.0, 79.0]) {
        let c = e.capacity.as_mut().expect("the first two ran");
        c.settings.model = SearchModel::Users;
        c.users = Some(users);
    }
    let mut died = doc.configurations[1].clone();
    died.values = BTreeMap::from([("workers".to_owned(), "8".to_owned())]);
    died.error = Some("the service exited during the search: exit status: 5; see x.log".to_owned());
    doc.configurations.push(died);
    doc
}

#[test]
#[ignore = "needs Chromium and web/node_modules (scripts/test.sh)"]
fn the_sweep_page_of_a_users_search_compares_users() {
    let _browser = common::one_browser_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let doc = users_sweep();
    let json = dir.path().join("sweep.json");
    std::fs::write(&json, serde_json::to_string_pretty(&doc).expect("JSON")).expect("writing");
    let html = dir.path().join("sweep.html");
    std::fs::write(&html, barrage_web::report::sweep_html(&doc)).expect("writing");
    node(
        "sweep",
        &html,
        &json,
        &artifacts().join("capacity-sweep-users.png"),
    );
}

#[test]
#[ignore = "needs Chromium and web/node_modules (scripts/test.sh)"]
fn the_sweep_page_shows_the_capacity_per_configuration_and_each_curve() {
    let _browser = common::one_browser_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let doc = sweep();
    let json = dir.path().join("sweep.json");
    std::fs::write(&json, serde_json::to_string_pretty(&doc).expect("JSON")).expect("writing");
    let html = dir.path().join("sweep.html");
    std::fs::write(&html, barrage_web::report::sweep_html(&doc)).expect("writing");
    node(
        "sweep",
        &html,
        &json,
        &artifacts().join("capacity-sweep.png"),
    );
}
