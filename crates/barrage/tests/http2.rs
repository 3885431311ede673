//! HTTP/2 end to end: the FastAPI app of `tests/apps/h2_app.py` under hypercorn, spoken to
//! over cleartext with prior knowledge (h2c) and over TLS chosen by ALPN, with a
//! self-signed certificate this test makes (rcgen); and under uvicorn over TLS, which
//! offers only HTTP/1.1, for the fallback. The app counts what it served by the HTTP
//! version the server spoke, so each run is checked against it: every request succeeded,
//! the server saw HTTP/2 (or HTTP/1.1 where asked), barrage's counts equal the app's, and
//! connections are counted by kind. Saves, checks, cookies, redirects, timeouts and the
//! response time from the start are exercised over HTTP/2 by the scenario.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use common::{free_port, python, read_json, run_with_timeout, wait_for_http, write, ChildGuard};

/// The delay of `/slow` in the scenario, and how far above it the median may be (5 %).
const SLOW_MS: f64 = 200.0;

/// One user's iteration: a save, a check on the body, a cookie set by the server and
/// sent back, a redirect followed, and a slow answer timed from the step's start.
const SCENARIO: &str = r#"
defaults:
  HTTP2
users:
  u:
    tasks:
      t:
        steps:
          - get: /hello
            save: { tok: '$.token' }
            check: { status: 200 }
          - post: /echo
            headers: { authorization: "Bearer {{ tok }}" }
            json: { n: 1 }
            check: { status: 200, json: { $.auth: "Bearer t-42", $.cookie: "yes", $.got.n: 1 } }
          - get: /moved
            check: { status: 200, json: { $.token: "t-42" } }
          - get: /slow?ms=200
            check: { json: { $.slept_ms: 200 } }
"#;

/// The endpoints the scenario calls, with the app's route for each.
const ROUTES: [(&str, &str, &str); 4] = [
    ("GET", "/hello", "GET /hello"),
    ("POST", "/echo", "POST /echo"),
    ("GET", "/moved", "GET /moved"),
    ("GET", "/slow?ms=200", "GET /slow"),
];

fn scenario(dir: &Path, http2: &str) -> std::path::PathBuf {
    write(dir, "h2.yaml", &SCENARIO.replace("HTTP2", http2))
}

/// What the app served so far, by "ROUTE HTTP/VERSION", asked over `url` (http or https).
fn served(url: &str) -> BTreeMap<String, u64> {
    let script = "import json, ssl, sys, urllib.request\n\
                  ctx = ssl._create_unverified_context()\n\
                  print(urllib.request.urlopen(sys.argv[1] + '/__barrage/counts', context=ctx).read().decode())";
    let out = Command::new(python())
        .args(["-c", script, url])
        .output()
        .expect("running python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the app's counts are JSON")
}

/// What the app served between two readings.
fn since(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, n)| (k.clone(), n - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn barrage_run(args: &[&str], context: &str) -> Output {
    let out = run_with_timeout(common::barrage().args(args), Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("barrage did not finish: {e}\n{context}"));
    out
}

/// Runs the scenario for a short bounded time and returns the result file.
fn run_scenario(file: &Path, host: &str, extra: &[&str], out: &Path, context: &str) -> Value {
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "-u",
        "3",
        "-r",
        "3",
        "-t",
        "3s",
    ];
    args.extend(["-H", host, "--json", out.to_str().unwrap()]);
    args.extend(extra);
    let output = barrage_run(&args, context);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "barrage {args:?} exited with {}\n{stderr}\n{context}",
        output.status
    );
    read_json(out)
}

/// Every request succeeded, the app served exactly barrage's counts, all in `version`,
/// and `/slow` took its delay, within 5 %, counted from the step's start.
fn assert_counts(doc: &Value, served: &BTreeMap<String, u64>, version: &str, context: &str) {
    let mut expected = BTreeMap::new();
    for (method, name, route) in ROUTES {
        let e = common::endpoint(doc, method, name);
        assert_eq!(e["failures"], 0, "{method} {name} failed: {e}\n{context}");
        let requests = e["requests"].as_u64().unwrap();
        assert!(requests > 0, "{method} {name} never ran\n{context}");
        // `/moved` answers with a redirect to `/hello`, which the app counts there.
        *expected
            .entry(format!("{route} HTTP/{version}"))
            .or_insert(0) += requests;
        if route == "GET /moved" {
            *expected
                .entry(format!("GET /hello HTTP/{version}"))
                .or_insert(0) += requests;
        }
    }
    assert_eq!(served, &expected, "app's counts vs barrage's\n{context}");
    let slow = &common::endpoint(doc, "GET", "/slow?ms=200")["response_time"];
    let p50 = slow["p50"].as_f64().unwrap();
    assert!(
        (SLOW_MS..=SLOW_MS * 1.05).contains(&p50),
        "/slow p50 {p50} ms, not within 5 % of {SLOW_MS} ms\n{context}"
    );
}

/// A self-signed certificate for 127.0.0.1, written as PEM files into `dir`.
fn certificate(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
        .expect("generating a certificate");
    (
        write(dir, "cert.pem", &made.cert.pem()),
        write(dir, "key.pem", &made.key_pair.serialize_pem()),
    )
}

fn apps() -> std::path::PathBuf {
    common::repo_root().join("crates/barrage/tests/apps")
}

#[test]
#[ignore = "needs the FastAPI example's Python venv: run scripts/test.sh (sets BARRAGE_PYTHON)"]
fn http2_over_h2c_and_tls_carries_every_request_and_the_counts_match_the_app() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let (cert, key) = certificate(tmp.path());
    let (tls_port, plain_port) = (free_port(), free_port());
    let plain = SocketAddr::from(([127, 0, 0, 1], plain_port));
    let mut app = ChildGuard::spawn(
        "hypercorn",
        Command::new(python())
            .args(["-m", "hypercorn", "h2_app:app"])
            // Served in this process: hypercorn's worker processes would outlive the
            // guard, which kills only the process it started.
            .args(["--workers", "0"])
            .args(["--bind", &format!("127.0.0.1:{tls_port}")])
            .args(["--insecure-bind", &plain.to_string()])
            .arg("--certfile")
            .arg(&cert)
            .arg("--keyfile")
            .arg(&key)
            .current_dir(apps()),
        &tmp.path().join("hypercorn.log"),
    )
    .expect("starting hypercorn");
    wait_for_http(
        plain,
        "/__barrage/counts",
        Duration::from_secs(30),
        &mut app,
    )
    .unwrap_or_else(|e| panic!("hypercorn did not come up: {e}"));
    let (h2c, tls) = (
        format!("http://{plain}"),
        format!("https://127.0.0.1:{tls_port}"),
    );

    // h2c with prior knowledge, asked for by the scenario.
    let file = scenario(tmp.path(), "http2: true");
    let before = served(&h2c);
    let doc = run_scenario(&file, &h2c, &[], &tmp.path().join("h2c.json"), &app.log());
    assert_counts(&doc, &since(&before, &served(&h2c)), "2", &app.log());
    let c = &doc["connections"];
    assert_eq!(
        (c["opened"].as_u64(), c["http2"].as_u64()),
        (Some(3), Some(3)),
        "{c}"
    );
    assert_eq!(c["tls_time"]["count"], 0, "{c}");

    // Over TLS, nothing asked: ALPN offers h2 and the server picks it.
    let file = scenario(tmp.path(), "{}");
    let before = served(&h2c);
    let doc = run_scenario(
        &file,
        &tls,
        &["--insecure"],
        &tmp.path().join("tls.json"),
        &app.log(),
    );
    assert_counts(&doc, &since(&before, &served(&h2c)), "2", &app.log());
    let c = &doc["connections"];
    assert_eq!(
        (c["opened"].as_u64(), c["http2"].as_u64()),
        (Some(3), Some(3)),
        "{c}"
    );
    assert_eq!(
        c["tls_time"]["count"], 3,
        "the TLS handshakes are reported apart: {c}"
    );

    // `--http1` over TLS: ALPN offers only http/1.1, and no connection is HTTP/2.
    let before = served(&h2c);
    let doc = run_scenario(
        &file,
        &tls,
        &["--insecure", "--http1"],
        &tmp.path().join("tls1.json"),
        &app.log(),
    );
    assert_counts(&doc, &since(&before, &served(&h2c)), "1.1", &app.log());
    assert!(
        doc["connections"].get("http2").is_none(),
        "{}",
        doc["connections"]
    );

    // `hit --http2` for one URL, as oha: h2c with prior knowledge.
    let before = served(&h2c);
    let out = tmp.path().join("hit.json");
    let url = format!("{h2c}/hello");
    let args = [
        "hit",
        &url,
        "-n",
        "40",
        "-c",
        "2",
        "--http2",
        "--json",
        out.to_str().unwrap(),
    ];
    let output = barrage_run(&args, &app.log());
    assert!(output.status.success(), "{}", common::stderr(&output));
    let doc = read_json(&out);
    assert_eq!(doc["aggregate"]["requests"], 40);
    assert_eq!(doc["aggregate"]["failures"], 0);
    assert_eq!(doc["connections"]["http2"], 2);
    let delta = since(&before, &served(&h2c));
    assert_eq!(
        delta,
        BTreeMap::from([("GET /hello HTTP/2".to_string(), 40)])
    );

    // A timeout over HTTP/2 fails the request as over HTTP/1.1.
    let out = tmp.path().join("timeout.json");
    let url = format!("{h2c}/slow?ms=3000");
    let args = [
        "hit",
        &url,
        "-n",
        "2",
        "-c",
        "1",
        "--http2",
        "--timeout",
        "300ms",
        "--json",
        out.to_str().unwrap(),
    ];
    let output = barrage_run(&args, &app.log());
    assert!(!output.status.success(), "timeouts fail the run");
    let doc = read_json(&out);
    let e = &doc["endpoints"][0];
    assert_eq!(e["failures"], 2, "{e}");
    assert_eq!(e["failures_by_category"]["response_timeout"], 2, "{e}");

    // `--debug` says which version each new connection speaks, and shows the exchange.
    let file = scenario(tmp.path(), "http2: true");
    let output = barrage_run(
        &["run", file.to_str().unwrap(), "-H", &h2c, "--debug"],
        &app.log(),
    );
    let err = common::stderr(&output);
    assert!(output.status.success(), "{err}");
    assert_eq!(
        err.matches("new connection: HTTP/2, connect").count(),
        1,
        "{err}"
    );
    assert!(err.contains("saved tok = \"t-42\""), "{err}");
    assert!(err.contains("server: hypercorn-h2"), "{err}");
}

#[test]
#[ignore = "needs the FastAPI example's Python venv: run scripts/test.sh (sets BARRAGE_PYTHON)"]
fn alpn_falls_back_to_http1_against_a_server_that_offers_only_it() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let (cert, key) = certificate(tmp.path());
    let port = free_port();
    let mut app = ChildGuard::spawn(
        "uvicorn",
        Command::new(python())
            .args(["-m", "uvicorn", "h2_app:app", "--host", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--no-access-log"])
            .arg("--ssl-certfile")
            .arg(&cert)
            .arg("--ssl-keyfile")
            .arg(&key)
            .current_dir(apps()),
        &tmp.path().join("uvicorn.log"),
    )
    .expect("starting uvicorn");
    let tls = format!("https://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(app.exited().is_none(), "uvicorn exited\n{}", app.log());
        assert!(
            std::time::Instant::now() < deadline,
            "uvicorn did not come up\n{}",
            app.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let file = scenario(tmp.path(), "{}");
    let before = served(&tls);
    let doc = run_scenario(
        &file,
        &tls,
        &["--insecure"],
        &tmp.path().join("fb.json"),
        &app.log(),
    );
    assert_counts(&doc, &since(&before, &served(&tls)), "1.1", &app.log());
    assert_eq!(doc["connections"]["opened"], 3);
    assert!(
        doc["connections"].get("http2").is_none(),
        "{}",
        doc["connections"]
    );

    // Asked for HTTP/2 only, a server that does not pick it fails the connection.
    let out = tmp.path().join("forced.json");
    let url = format!("{tls}/hello");
    let args = [
        "hit",
        &url,
        "-n",
        "3",
        "-c",
        "1",
        "--http2",
        "--insecure",
        "--json",
        out.to_str().unwrap(),
    ];
    let output = barrage_run(&args, &app.log());
    assert!(!output.status.success());
    let doc = read_json(&out);
    let e = &doc["endpoints"][0];
    assert_eq!(e["failures_by_category"]["protocol"], 3, "{e}");
    assert!(
        common::stderr(&output).contains("did not agree to HTTP/2"),
        "{}",
        common::stderr(&output)
    );
}

#[test]
fn http1_with_http2_is_a_usage_error() {
    let output = run_with_timeout(
        common::barrage().args([
            "hit",
            "http://127.0.0.1:9/",
            "-n",
            "1",
            "--http1",
            "--http2",
        ]),
        Duration::from_secs(20),
    )
    .expect("barrage finishes");
    assert_eq!(output.status.code(), Some(2));
    let err = common::stderr(&output);
    assert!(
        err.contains("'--http1' cannot be used with '--http2'"),
        "{err}"
    );
}
