//! No secret barrage sent reaches a file or report meant for sharing, even when the server
//! repeats the request back (issue 16); failure samples carry the start of the answer,
//! FastAPI's `detail` as it is (issue 19).
//!
//! The target is `crates/barrage-openapi/tests/apps/echo_app.py` under uvicorn: its
//! `/echo` answers 400 with every header and the body it was sent, its `/items` is
//! FastAPI's own 422 that repeats the body, its `/login` answers a token (saved by
//! `setup`) or 400 `{"detail": "Incorrect email or password"}`. Every secret the test
//! sends holds `Secret-`, so one search of every output finds any of them. The app needs
//! the FastAPI venv, so these tests are ignored by a bare `cargo test`; `scripts/test.sh`
//! runs them.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use serde_json::Value;

/// What every secret of these tests holds.
const MARK: &str = "Secret-";

/// Each secret, by where it was sent.
const LOGIN_PASSWORD: &str = "pw-login-Secret-1";
const SETUP_TOKEN: &str = "tok-setup-Secret-2";
const COOKIE: &str = "cookie-Secret-3";
const API_KEY: &str = "key-Secret-4";
const BODY_PASSWORD: &str = "body-Secret-5";
const WRONG_PASSWORD: &str = "wrong-Secret-6";
const HIT_HEADER: &str = "hit-Secret-7";
const HIT_BODY: &str = "hit-Secret-8";
const URL_PASSWORD: &str = "url-Secret-9";
/// What the echo app's `/session` answers, in a header and a field, for checks that fail.
const SERVER_SECRETS: [&str; 2] = ["srv-Secret-11", "srv-Secret-12"];
/// In `hit`'s query: the endpoint is named by its path, query included.
const QUERY_KEY: &str = "query-Secret-10";

/// Setup logs in and saves the token; three tasks send it with the other secrets to the
/// echoing routes, and one logs in with a wrong password. `body_contains` passes on every
/// answer: the samples are the status failures, with the body's start.
const SCENARIO: &str = r#"
users:
  member:
    setup:
      - post: /login
        json: { email: alice@example.com, password: pw-login-Secret-1 }
        save: { token: $.access_token }
    tasks:
      echo:
        steps:
          - post: /echo
            headers:
              authorization: "Bearer {{ token }}"
              cookie: "session=cookie-Secret-3"
              api-key: key-Secret-4
            json: { note: hello, password: body-Secret-5 }
            check: { body_contains: detail }
      item:
        steps:
          - post: /items
            headers: { authorization: "Bearer {{ token }}" }
            json: { note: hello, password: body-Secret-5 }
            check: { body_contains: detail }
      wrong_login:
        steps:
          - post: /login
            name: wrong login
            json: { email: alice@example.com, password: wrong-Secret-6 }
            check: { body_contains: detail }
      server_header:
        steps:
          - get: /session
            check: { headers: { x-session-token: another } }
      server_field:
        steps:
          - get: /session
            name: session field
            check: { json: { $.access_token: another } }
"#;

/// Without the venv: the built-in target's `/__barrage/me` answers 401
/// `{"detail": "Not authenticated"}` to a request without its cookie. The sample says so,
/// in the summary and the result file.
#[test]
fn a_failure_sample_shows_the_body_detail_without_the_venv() {
    let target = barrage_target::DemoTarget::start(barrage_target::DemoOptions::no_delay())
        .expect("the built-in target starts");
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write(
        tmp.path(),
        "me.yaml",
        "tasks:\n  me:\n    - get: /__barrage/me\n      check: { body_contains: detail }\n",
    );
    let out = tmp.path().join("out.json");
    let o = run_scenario(
        &scenario,
        &["-u", "1", "--iterations", "3"],
        target.url(),
        &out,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let sample = "HTTP 401 Unauthorized (expected status < 400): Not authenticated";
    let doc = read_json(&out);
    assert_eq!(doc["failures"][0]["sample"], sample, "{}", doc["failures"]);
    assert_eq!(doc["failures"][0]["count"], 3);
    let shown = stderr(&o);
    assert!(shown.contains(sample), "{shown}");
}

/// A secret header whose rendered value cannot be sent is a template failure that does not
/// name the value (nothing was sent, so nothing else would hide it).
#[test]
fn an_unsendable_secret_header_is_not_named_in_its_sample() {
    let target = barrage_target::DemoTarget::start(barrage_target::DemoOptions::no_delay())
        .expect("the built-in target starts");
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write(
        tmp.path(),
        "key.yaml",
        "tasks:\n  t:\n    - get: /\n      headers: { x-api-key: \"{{ 'k\u{e9}y-Secret-11' }}\" }\n",
    );
    let out = tmp.path().join("out.json");
    let o = run_scenario(
        &scenario,
        &["-u", "1", "--iterations", "2"],
        target.url(),
        &out,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = read_json(&out);
    assert_eq!(
        doc["failures"][0]["category"], "template",
        "{}",
        doc["failures"]
    );
    assert_eq!(
        doc["failures"][0]["sample"],
        "header `x-api-key`: its value is not a valid header value"
    );
    assert!(!stderr(&o).contains(MARK));
}

/// The echo app under uvicorn on a free port.
struct EchoApp {
    addr: SocketAddr,
    _server: ChildGuard,
}

impl EchoApp {
    fn start(log: &Path) -> EchoApp {
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut server = ChildGuard::spawn(
            "echo_app",
            Command::new(python())
                .args(["-m", "uvicorn", "echo_app:app", "--host", "127.0.0.1"])
                .args(["--port", &port.to_string(), "--no-access-log"])
                .current_dir(repo_root().join("crates/barrage-openapi/tests/apps")),
            log,
        )
        .expect("starting uvicorn");
        wait_for_http(addr, "/openapi.json", Duration::from_secs(30), &mut server)
            .unwrap_or_else(|e| panic!("echo_app did not come up: {e}"));
        EchoApp {
            addr,
            _server: server,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Every output of one run: stdout, stderr and each file it wrote, by name.
struct Outputs {
    all: Vec<(String, String)>,
    json: Value,
    stderr: String,
}

impl Outputs {
    /// The outputs holding `needle`, by name.
    fn holding(&self, needle: &str) -> Vec<&str> {
        self.all
            .iter()
            .filter(|(_, text)| text.contains(needle))
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// The failure sample of `method name` in the result file.
    fn sample(&self, method: &str, name: &str) -> &str {
        self.json["failures"]
            .as_array()
            .expect("the result file has a failures array")
            .iter()
            .find(|f| f["method"] == method && f["name"] == name)
            .and_then(|f| f["sample"].as_str())
            .unwrap_or_else(|| panic!("no failure of {method} {name}: {}", self.json))
    }
}

/// Runs `barrage ARGS --json --csv --junit --summary-md` in `dir` and gathers its outputs.
fn run_all(dir: &Path, args: &[&str]) -> Outputs {
    let out = dir.join("out");
    std::fs::create_dir_all(&out).expect("an output directory");
    let o: Output = run(barrage()
        .args(args)
        .arg("--json")
        .arg(out.join("result.json"))
        .arg("--csv")
        .arg(out.join("run"))
        .arg("--junit")
        .arg(out.join("junit.xml"))
        .arg("--summary-md")
        .arg(out.join("summary.md")));
    assert_eq!(
        o.status.code(),
        Some(1),
        "failures fail the run: {}",
        stderr(&o)
    );
    let mut all = vec![
        (
            "stdout".to_string(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        ),
        ("stderr".to_string(), stderr(&o)),
    ];
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
        .expect("the output directory")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "result.json",
        "junit.xml",
        "summary.md",
        "run_failures.csv",
        "run_stats.csv",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    for f in &files {
        let text = std::fs::read_to_string(f).expect("a text output");
        all.push((f.display().to_string(), text));
    }
    Outputs {
        json: read_json(&out.join("result.json")),
        stderr: stderr(&o),
        all,
    }
}

#[test]
#[ignore = "needs the FastAPI venv (BARRAGE_PYTHON); scripts/test.sh runs it"]
fn no_secret_of_a_scenario_reaches_any_output_unless_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let app = EchoApp::start(&tmp.path().join("uvicorn.log"));
    let scenario = write(tmp.path(), "scenario.yaml", SCENARIO);
    let scenario = scenario.to_str().unwrap();
    let url = app.url();
    let load = ["-u", "1", "--iterations", "60", "-H", &url];

    let redacted = run_all(
        &tmp.path().join("redacted"),
        &[&["run", scenario], &load[..]].concat(),
    );
    assert_eq!(
        redacted.holding(MARK),
        Vec::<&str>::new(),
        "a secret in the outputs of a plain run"
    );
    // Each task ran and failed; the samples say why, from the body, with what was hidden
    // marked.
    let echo = redacted.sample("POST", "/echo");
    assert!(
        echo.starts_with("HTTP 400 Bad Request (expected status < 400): {\"body\":"),
        "{echo}"
    );
    // The secrets were in the part of the echo the sample shows, hidden.
    for header in ["api-key", "authorization", "cookie"] {
        assert!(
            echo.contains(&format!("\"{header}\":\"[redacted]\"")),
            "{echo}"
        );
    }
    let item = redacted.sample("POST", "/items");
    assert!(
        item.starts_with(
            "HTTP 422 Unprocessable Entity (expected status < 400): body.name: Field required; \
             body.price: Field required"
        ),
        "{item}"
    );
    let login = redacted.sample("POST", "wrong login");
    assert_eq!(
        login,
        "HTTP 400 Bad Request (expected status < 400): Incorrect email or password"
    );
    assert!(
        redacted.stderr.contains(login),
        "the summary shows the sample:\n{}",
        redacted.stderr
    );

    // A failed check on a secret the server sent does not show the value it got.
    let header = redacted.sample("GET", "/session");
    assert!(
        header.starts_with(
            "check failed: header x-session-token == \"another\" (the value received is \
             redacted)"
        ),
        "{header}"
    );
    let field = redacted.sample("GET", "session field");
    assert!(
        field.starts_with(
            "check failed: $.access_token == \"another\" (the value received is redacted)"
        ),
        "{field}"
    );

    // `--no-redact` keeps what the server echoed.
    let kept = run_all(
        &tmp.path().join("kept"),
        &[&["run", scenario, "--no-redact"], &load[..]].concat(),
    );
    let echo = kept.sample("POST", "/echo");
    for secret in [SETUP_TOKEN, COOKIE, API_KEY, BODY_PASSWORD] {
        assert!(echo.contains(secret), "{secret} kept in {echo}");
        assert!(!kept.holding(secret).is_empty());
    }
    for secret in SERVER_SECRETS {
        assert!(!kept.holding(secret).is_empty(), "{secret} kept");
    }

    // `--debug` shows everything, and says so.
    let o = run(barrage().args(["run", scenario, "--debug", "-H", &url]));
    let shown = stderr(&o);
    assert!(shown.contains("secrets included"), "{shown}");
    for secret in [
        LOGIN_PASSWORD,
        SETUP_TOKEN,
        COOKIE,
        API_KEY,
        BODY_PASSWORD,
        WRONG_PASSWORD,
    ] {
        assert!(shown.contains(secret), "--debug shows {secret}:\n{shown}");
    }
}

#[test]
#[ignore = "needs the FastAPI venv (BARRAGE_PYTHON); scripts/test.sh runs it"]
fn hit_keeps_its_headers_body_and_url_password_out_of_its_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let app = EchoApp::start(&tmp.path().join("uvicorn.log"));
    let url = format!(
        "http://alice:{URL_PASSWORD}@{}/echo?api_key={QUERY_KEY}",
        app.addr
    );
    let header = format!("authorization: Bearer {HIT_HEADER}");
    let body = format!(r#"{{"note":"x","password":"{HIT_BODY}"}}"#);
    let hit = [
        "hit",
        &url,
        "-m",
        "POST",
        "-c",
        "1",
        "-n",
        "5",
        "-H",
        &header,
        "-H",
        "content-type: application/json",
        "-b",
        &body,
    ];

    let redacted = run_all(&tmp.path().join("redacted"), &hit);
    assert_eq!(redacted.holding(MARK), Vec::<&str>::new());
    let command = redacted.json["run"]["command"].as_str().unwrap();
    assert!(
        command.contains(&format!(
            "http://alice:[redacted]@{}/echo?api_key=[redacted] -m POST -c 1 -n 5 -H authorization: [redacted] \
             -H content-type: application/json -b {{\"note\":\"x\",\"password\":\"[redacted]\"}}",
            app.addr
        )),
        "{command}"
    );

    let kept = run_all(
        &tmp.path().join("kept"),
        &[&hit[..], &["--no-redact"]].concat(),
    );
    let command = kept.json["run"]["command"].as_str().unwrap();
    for secret in [HIT_HEADER, HIT_BODY, URL_PASSWORD, QUERY_KEY] {
        assert!(command.contains(secret), "{secret} kept in {command}");
    }
}
