//! `stream:` steps against a FastAPI app with known timing (tests/apps/stream_app.py): a
//! server-sent-events route and a plain `StreamingResponse`, each waiting a known time
//! before its first event and a known gap between events. The result file's `stream`
//! figures must match them (first event and gap p50 within 5 %, release build), the event
//! counts must equal what the server sent, and the event checks and saves must pass. An
//! open-model run against a stream whose first event stalls shows the stall in
//! `first_event`, counted from the intended start.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use common::{free_port, python, repo_root, run_with_timeout, wait_for_http, ChildGuard};

/// Starts the stream app on a free loopback port.
fn start_app(tmp: &Path) -> (ChildGuard, SocketAddr) {
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut app = ChildGuard::spawn(
        "uvicorn",
        Command::new(python())
            .args(["-m", "uvicorn", "stream_app:app", "--host", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--no-access-log"])
            .current_dir(repo_root().join("crates/barrage/tests/apps")),
        &tmp.join("uvicorn.log"),
    )
    .expect("starting uvicorn");
    wait_for_http(addr, "/__counts", Duration::from_secs(30), &mut app)
        .unwrap_or_else(|e| panic!("the stream app did not come up: {e}"));
    (app, addr)
}

/// Runs barrage with `args` on `scenario` and returns the result file.
fn run(tmp: &Path, scenario: &str, args: &[&str], app: &ChildGuard) -> (Value, String) {
    let file = tmp.join("scenario.yaml");
    std::fs::write(&file, scenario).expect("writing the scenario");
    let out = tmp.join("out.json");
    let output = run_with_timeout(
        common::barrage()
            .arg("run")
            .arg(&file)
            .args(args)
            .arg("--json")
            .arg(&out),
        Duration::from_secs(60),
    )
    .unwrap_or_else(|e| panic!("barrage run did not finish: {e}\n{}", app.log()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "barrage run exited with {}\n{stdout}\n{stderr}\n{}",
        output.status,
        app.log()
    );
    let doc = serde_json::from_slice(&std::fs::read(&out).expect("the result file"))
        .expect("the result file is JSON");
    (doc, format!("{stdout}{stderr}"))
}

fn endpoint<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no endpoint `{name}` in {doc:#}"))
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// `got` within 5 % of `want`.
fn within_5_percent(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= want * 0.05,
        "{what}: {got:.2} ms, expected {want} ms within 5 %"
    );
}

const ITERATIONS: u64 = 12;

#[test]
#[ignore = "needs the FastAPI example's Python venv: run scripts/test.sh (sets BARRAGE_PYTHON)"]
fn events_and_chunks_are_timed_counted_checked_and_saved() {
    let _serial = common::serial();
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let (app, addr) = start_app(tmp.path());
    let scenario = format!(
        r#"
target: http://{addr}
users:
  reader:
    tasks:
      both:
        steps:
          - get: /sse?first_ms=200&gap_ms=100&n=4
            name: sse
            stream: events
            check:
              status: 200
              events: 5
              event:
                token: {{ json: {{ '$.text': exists }} }}
                done: {{ json: {{ '$.finish': stop }} }}
            save:
              seen: {{ events: true }}
              finish: {{ event: done, jsonpath: $.finish }}
          - get: /chunks?first_ms=150&gap_ms=50&n=4
            name: chunks
            stream: chunks
            check:
              events: {{ min: 4, max: 4 }}
          # The saves of the first step, read back: `seen` (5) chunks asked for, `finish`
          # sent along; only two are read.
          - get: "/chunks?n={{{{ seen }}}}&first_ms=0&gap_ms=0&tag={{{{ finish }}}}"
            name: saved
            stream: chunks
            max_events: 2
"#
    );
    let iterations = ITERATIONS.to_string();
    let (doc, printed) = run(
        tmp.path(),
        &scenario,
        &["-u", "3", "-r", "100", "--iterations", &iterations],
        &app,
    );
    let (status, counts) = common::http_get(addr, "/__counts").expect("asking the app");
    assert_eq!(status, 200);
    let counts: Value = serde_json::from_slice(&counts).expect("counts are JSON");

    let sse = endpoint(&doc, "sse");
    assert_eq!(sse["requests"], ITERATIONS, "{sse:#}");
    assert_eq!(sse["failures"], 0, "{sse:#}\n{printed}");
    let s = &sse["stream"];
    // Four tokens and `done` per stream; the comment and the id-only block are no events.
    assert_eq!(s["events"]["streams"], ITERATIONS);
    assert_eq!(s["events"]["total"], counts["sse_events"], "{counts}");
    assert_eq!(s["events"]["total"], 5 * ITERATIONS);
    assert_eq!(
        (s["events"]["min"].clone(), s["events"]["max"].clone()),
        (5.into(), 5.into())
    );
    within_5_percent("sse first_event p50", num(&s["first_event"]["p50"]), 200.0);
    within_5_percent("sse event_gap p50", num(&s["event_gap"]["p50"]), 100.0);
    assert_eq!(s["event_gap"]["count"], 4 * ITERATIONS);
    assert!(
        num(&s["first_byte"]["p50"]) <= num(&s["first_event"]["p50"]),
        "{s:#}"
    );
    // The stream ran from its first byte to its end: four gaps after the first event.
    assert!(num(&s["duration"]["p50"]) >= 400.0, "{s:#}");
    assert!(num(&sse["response_time"]["p50"]) >= 600.0, "{sse:#}");

    eprintln!("sse stream: {s}");
    let chunks = endpoint(&doc, "chunks");
    assert_eq!(chunks["failures"], 0, "{chunks:#}\n{printed}");
    let c = &chunks["stream"];
    assert_eq!(c["events"]["total"], 4 * ITERATIONS);
    within_5_percent(
        "chunks first_event p50",
        num(&c["first_event"]["p50"]),
        150.0,
    );
    within_5_percent("chunks event_gap p50", num(&c["event_gap"]["p50"]), 50.0);
    eprintln!("chunks stream: {c}");

    // The saves reached the next step, which stopped reading after `max_events` (how many
    // of the rest the server wrote before it saw the connection close is its business).
    let saved = endpoint(&doc, "saved");
    assert_eq!(saved["failures"], 0, "{saved:#}\n{printed}");
    assert_eq!(saved["stream"]["events"]["total"], 2 * ITERATIONS);
    assert_eq!(saved["stream"]["events"]["max"], 2);
    assert_eq!(counts["chunk_streams"], 2 * ITERATIONS, "{counts}");
    let served = counts["chunks"].as_u64().expect("chunks");
    assert!(
        (6 * ITERATIONS..=9 * ITERATIONS).contains(&served),
        "4 chunks per `chunks` stream and 2 to 5 per `saved` one: {counts}"
    );

    let checks = doc["checks"].as_array().expect("checks");
    for name in [
        "events == 5",
        "event token: $.text exists",
        r#"event done: $.finish == "stop""#,
        "events == 4",
    ] {
        let check = checks
            .iter()
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("no check `{name}` in {checks:#?}"));
        assert_eq!(check["passes"], ITERATIONS, "{check}");
        assert_eq!(check["fails"], 0, "{check}");
    }

    // The histograms travel in the file, beside the figures they give.
    let i = doc["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["name"] == "sse")
        .unwrap();
    let h = &doc["histograms"]["endpoints"][i]["stream"];
    let gaps = barrage_metrics::decode_histogram(h["event_gap"].as_str().expect("event_gap"))
        .expect("decodes");
    assert_eq!(gaps.len(), 4 * ITERATIONS);
    assert!(
        printed.contains("Streams (ms)"),
        "the summary shows streams:\n{printed}"
    );
}

#[test]
#[ignore = "needs the FastAPI example's Python venv: run scripts/test.sh (sets BARRAGE_PYTHON)"]
fn an_open_model_counts_a_stalled_first_event_from_the_intended_start() {
    let _serial = common::serial();
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let (app, addr) = start_app(tmp.path());
    let scenario = format!(
        r#"
target: http://{addr}
users:
  reader:
    tasks:
      stall:
        steps:
          - get: /sse?first_ms=600&gap_ms=10&n=2
            name: stall
            stream: events
"#
    );
    // Four starts a second and one user: each stream takes about 0.62 s, so every start
    // after the first waits for the user, and that wait is part of its first event.
    let (doc, printed) = run(
        tmp.path(),
        &scenario,
        &["--rate", "4", "-t", "2s", "--max-users", "1"],
        &app,
    );
    let e = endpoint(&doc, "stall");
    assert_eq!(e["failures"], 0, "{e:#}\n{printed}");
    let s = &e["stream"];
    let first = &s["first_event"];
    assert!(num(&first["count"]) >= 3.0, "{e:#}");
    // Every first event carries the whole stall: none is timed from a later moment than
    // its start (the first start also carries the run's own start-up).
    assert!(num(&first["min"]) >= 600.0, "{s:#}");
    eprintln!(
        "stall: first_event {first}, service_time {}",
        e["service_time"]
    );
    // Later ones were scheduled 250 ms apart but waited for the user: from their intended
    // starts, their first events came later still (the second alone: 0.62 - 0.25 + 0.6 s).
    assert!(num(&first["max"]) >= 900.0, "{s:#}");
    // Timed from the request's send, the server's share stays about one stall.
    assert!(num(&e["service_time"]["max"]) < 800.0, "{e:#}");
}

#[test]
#[ignore = "needs the FastAPI example's Python venv: run scripts/test.sh (sets BARRAGE_PYTHON)"]
fn a_stream_step_gets_an_http1_connection_of_its_own_where_the_run_speaks_http2() {
    let _serial = common::serial();
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let (app, addr) = start_app(tmp.path());
    // uvicorn speaks HTTP/1.1 only: with `--http2` (prior knowledge) a plain request fails,
    // while the stream step opens an HTTP/1.1 connection for itself and closes it after.
    let scenario = format!(
        r#"
target: http://{addr}
users:
  reader:
    tasks:
      read:
        steps:
          - get: /sse?first_ms=20&gap_ms=10&n=3
            name: sse
            stream: events
"#
    );
    let (doc, printed) = run(
        tmp.path(),
        &scenario,
        &["-u", "1", "-r", "1", "--iterations", "3", "--http2"],
        &app,
    );
    let e = endpoint(&doc, "sse");
    assert_eq!(e["requests"], 3, "{e:#}\n{printed}");
    assert_eq!(e["failures"], 0, "{e:#}\n{printed}");
    // Three events per stream (data events; the app may add a closing one).
    assert!(num(&e["stream"]["events"]["total"]) >= 9.0, "{e:#}");
    // A connection of its own each time: three opened, none of them HTTP/2.
    let c = &doc["connections"];
    assert_eq!(c["opened"], 3, "{c:#}");
    assert!(c["http2"].as_u64().unwrap_or(0) == 0, "{c:#}");
}
