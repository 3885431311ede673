//! WebSocket steps end to end against a FastAPI app served by uvicorn (`apps/ws_app.py`):
//! barrage's message counts equal the server's, round trips are measured against an echo
//! that waits a known time, a socket kept across iterations is opened once per user, and a
//! server's close and a receive that times out are counted in their own categories.
//!
//! Needs Python with FastAPI and uvicorn (`wsproto` for the WebSocket server), so ignored
//! by a bare `cargo test`; `scripts/test.sh` prepares the venv and sets `BARRAGE_PYTHON`.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use common::{endpoint, free_port, python, read_json, run_with_timeout, wait_for_http, ChildGuard};

/// The echo route's wait before each answer.
const DELAY_MS: f64 = 100.0;
const USERS: u64 = 4;
/// Iterations over all users.
const ITERATIONS: u64 = 12;
/// Messages the push route sends per socket.
const PUSHED: u64 = 5;

/// Starts the app on a free loopback port.
fn serve(dir: &Path) -> (ChildGuard, SocketAddr) {
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let apps = common::repo_root().join("crates/barrage/tests/apps");
    let mut app = ChildGuard::spawn(
        "uvicorn",
        Command::new(python())
            .args(["-m", "uvicorn", "ws_app:app", "--host", "127.0.0.1"])
            .args([
                "--port",
                &port.to_string(),
                "--ws",
                "wsproto",
                "--no-access-log",
            ])
            .current_dir(apps),
        &dir.join("uvicorn.log"),
    )
    .expect("starting uvicorn");
    wait_for_http(addr, "/counts", Duration::from_secs(30), &mut app)
        .unwrap_or_else(|e| panic!("the WebSocket app did not come up: {e}"));
    (app, addr)
}

/// `barrage run` of `scenario` against `addr`, within a minute; the result file.
fn run(dir: &Path, scenario: &str, addr: SocketAddr, app: &ChildGuard) -> (Value, String) {
    let file = common::write(dir, "scenario.yaml", scenario);
    let out = dir.join("out.json");
    let output = run_with_timeout(
        common::barrage()
            .arg("run")
            .arg(&file)
            .args(["-H", &format!("http://{addr}")])
            .arg("--json")
            .arg(&out),
        Duration::from_secs(60),
    )
    .unwrap_or_else(|e| panic!("barrage run did not finish: {e}\n{}", app.log()));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        out.exists(),
        "no result file; exit {}\n{stderr}\n{}",
        output.status,
        app.log()
    );
    (read_json(&out), stderr)
}

/// The app's counts of `route`, summed over users: (sockets, received, sent).
fn served(counts: &Value, route: &str) -> (u64, u64, u64) {
    let mut sum = (0, 0, 0);
    for user in counts[route]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        sum.0 += user["sockets"].as_u64().unwrap();
        sum.1 += user["received"].as_u64().unwrap();
        sum.2 += user["sent"].as_u64().unwrap();
    }
    sum
}

fn counts(addr: SocketAddr) -> Value {
    let (status, body) = common::http_get(addr, "/counts").expect("asking the app");
    assert_eq!(status, 200);
    serde_json::from_slice(&body).expect("the counts are JSON")
}

/// (sockets, sent, received) of a WebSocket endpoint in the result file.
fn messages(e: &Value) -> (u64, u64, u64) {
    let m = &e["messages"];
    (
        m["sockets"]
            .as_u64()
            .unwrap_or_else(|| panic!("no messages in {e}")),
        m["sent"].as_u64().unwrap(),
        m["received"].as_u64().unwrap(),
    )
}

#[test]
#[ignore = "needs the FastAPI example's Python venv: run scripts/test.sh (sets BARRAGE_PYTHON)"]
fn message_counts_equal_the_servers_and_round_trips_are_measured() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let (app, addr) = serve(tmp.path());
    let scenario = format!(
        "\
load: {{ users: {USERS}, spawn_rate: {USERS}, iterations: {ITERATIONS} }}
tasks:
  talk:
    - ws: /ws/echo?user={{{{ user_id }}}}&delay={DELAY_MS}
      name: echo
      messages:
        - send: hello {{{{ user_id }}}}
        - receive:
            check: {{ body_contains: 'hello {{{{ user_id }}}}' }}
        - send: {{ json: {{ n: '{{{{ iteration }}}}', who: '{{{{ user_id }}}}' }} }}
        - receive:
            save: {{ n: $.n }}
            check: {{ json: {{ '$.who': '{{{{ user_id }}}}' }} }}
    - ws: /ws/push?user={{{{ user_id }}}}&n={PUSHED}
      name: push
      messages:
        - send: start
        - receive:
            until: {{ json: {{ '$.last': true }} }}
            check: {{ json: {{ '$.i': {last} }} }}
    - ws: /ws/echo?user=kept{{{{ user_id }}}}
      name: chat
      keep: true
      messages:
        - send: again {{{{ n }}}}
        - receive:
            check: {{ body_contains: again }}
",
        last = PUSHED - 1
    );
    let (doc, stderr) = run(tmp.path(), &scenario, addr, &app);
    let context = format!("{stderr}\n{}", app.log());
    assert_eq!(doc["aggregate"]["failures"], 0, "{context}");

    let server = counts(addr);
    let iterations = ITERATIONS;

    // The echo: two round trips per iteration, each answered after DELAY_MS.
    let echo = endpoint(&doc, "WS", "echo");
    let (sockets, received, sent) = served(&server, "echo");
    let kept: (u64, u64, u64) = {
        let users = server["echo"].as_object().unwrap();
        users
            .iter()
            .filter(|(u, _)| u.starts_with("kept"))
            .fold((0, 0, 0), |s, (_, c)| {
                (
                    s.0 + c["sockets"].as_u64().unwrap(),
                    s.1 + c["received"].as_u64().unwrap(),
                    s.2 + c["sent"].as_u64().unwrap(),
                )
            })
    };
    let echo_only = (sockets - kept.0, received - kept.1, sent - kept.2);
    assert_eq!(
        messages(echo),
        (iterations, 2 * iterations, 2 * iterations),
        "{context}"
    );
    assert_eq!(
        messages(echo),
        (echo_only.0, echo_only.1, echo_only.2),
        "barrage's (sockets, sent, received) against the app's (sockets, received, sent)"
    );
    assert_eq!(echo["requests"], 2 * iterations);
    let p50 = echo["response_time"]["p50"].as_f64().unwrap();
    assert!(
        (p50 - DELAY_MS).abs() <= DELAY_MS * 0.05,
        "echo round trip p50 {p50} ms, expected {DELAY_MS} ms within 5 %"
    );
    let service_p50 = echo["service_time"]["p50"].as_f64().unwrap();
    assert!(
        (service_p50 - DELAY_MS).abs() <= DELAY_MS * 0.05,
        "service p50 {service_p50} ms"
    );
    assert!(echo["messages"]["upgrade_time"]["count"] == iterations);

    // The push: every message the server pushed was received (the first four skipped by
    // `until`, the last one checked).
    let push = endpoint(&doc, "WS", "push");
    let (sockets, received, sent) = served(&server, "push");
    assert_eq!(messages(push), (sockets, received, sent), "{context}");
    assert_eq!(
        messages(push),
        (iterations, iterations, PUSHED * iterations)
    );
    assert_eq!(push["requests"], iterations);

    // The kept socket: opened once per user, one round trip per iteration.
    let chat = endpoint(&doc, "WS", "chat");
    assert_eq!(messages(chat), kept, "{context}");
    assert_eq!(messages(chat), (USERS, iterations, iterations));

    // Connections: one per socket opened.
    assert_eq!(
        doc["connections"]["opened"],
        2 * iterations + USERS,
        "{context}"
    );
    let checks = doc["checks"].as_array().expect("checks");
    assert!(
        checks.iter().all(|c| c["fails"] == 0) && checks.len() == 4,
        "{checks:#?}"
    );
}

#[test]
#[ignore = "needs the FastAPI example's Python venv: run scripts/test.sh (sets BARRAGE_PYTHON)"]
fn a_server_close_and_a_receive_timeout_are_failures_of_their_own() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let (app, addr) = serve(tmp.path());
    let scenario = "\
load: { users: 2, spawn_rate: 2, iterations: 4 }
tasks:
  t:
    - ws: /ws/close?user={{ user_id }}
      name: closes
      messages:
        - send: bye
        - receive:
    - ws: /ws/silent?user={{ user_id }}
      name: silent
      messages:
        - send: anyone?
        - receive: { timeout: 300ms }
";
    let (doc, stderr) = run(tmp.path(), scenario, addr, &app);
    let context = format!("{stderr}\n{}", app.log());
    let closes = endpoint(&doc, "WS", "closes");
    assert_eq!(closes["requests"], 4, "{context}");
    assert_eq!(closes["failures"], 4);
    assert_eq!(closes["failures_by_category"]["ws_closed"], 4, "{closes}");
    let silent = endpoint(&doc, "WS", "silent");
    assert_eq!(silent["failures_by_category"]["ws_timeout"], 4, "{silent}");
    assert_eq!(messages(silent), (4, 4, 0));
    let server = counts(addr);
    assert_eq!(served(&server, "silent"), (4, 4, 0));
    assert_eq!(served(&server, "close"), (4, 4, 0));
    let sample = doc["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["category"] == "ws_closed")
        .expect("a ws_closed failure");
    assert!(
        sample["sample"].as_str().unwrap().contains("done here"),
        "the close reason is in the sample: {sample}"
    );
    assert_eq!(doc["aggregate"]["failures"], 8);
}

#[test]
#[ignore = "needs the FastAPI example's Python venv: run scripts/test.sh (sets BARRAGE_PYTHON)"]
fn debug_shows_every_message_sent_and_received() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let (app, addr) = serve(tmp.path());
    let file = common::write(
        tmp.path(),
        "debug.yaml",
        "\
tasks:
  t:
    - ws: /ws/push?user=debug&n=3
      messages:
        - send: start
        - receive: { until: { json: { '$.last': true } } }
",
    );
    let output = run_with_timeout(
        common::barrage()
            .arg("run")
            .arg(&file)
            .args(["-H", &format!("http://{addr}"), "--debug"]),
        Duration::from_secs(30),
    )
    .unwrap_or_else(|e| panic!("barrage run --debug did not finish: {e}\n{}", app.log()));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("→ GET ws://127.0.0.1:"), "{text}");
    assert!(text.contains("← 101 Switching Protocols"), "{text}");
    assert!(text.contains("⇢ sent start"), "{text}");
    assert!(
        text.contains(r#"⇠ received {"i":0,"last":false}    (skipped"#),
        "{text}"
    );
    assert!(text.contains(r#"⇠ received {"i":2,"last":true}"#), "{text}");
    assert!(text.contains("⇥ closed WS /ws/push"), "{text}");
}
