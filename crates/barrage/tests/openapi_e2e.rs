//! `barrage init --openapi` end to end: FastAPI apps written for these tests (in
//! `crates/barrage-openapi/tests/apps/`) and the FastAPI example serve their documents on
//! loopback; barrage generates a scenario from each `/openapi.json`, runs it once in
//! `--debug` (every task once) and then under a short bounded load, and the apps say what
//! they served: every non-deprecated operation exercised, no 422 (the body of any is
//! printed: it names the field), and ids flowing from creates to reads (a read of an id
//! that was never created answers 404, which the generated checks do not accept there)
//! and from lists to reads (there 404 is accepted, since a list may be empty, so the
//! result's 200s and 404s per endpoint tell where the id came from).
//!
//! The apps need the FastAPI venv, so those tests are ignored by a bare `cargo test`;
//! `scripts/test.sh` prepares it. The bad-document tests need only the binary.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use common::{
    barrage, free_port, http_get, repo_root, run_with_timeout, text, wait_for_http, ChildGuard,
};

const VENV: &str = "needs the FastAPI venv: run scripts/test.sh";

fn python() -> String {
    std::env::var("BARRAGE_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// A FastAPI app under uvicorn on a free port, with what it served.
struct App {
    addr: SocketAddr,
    server: ChildGuard,
}

impl App {
    fn start(dir: &Path, module: &str, log: &Path) -> App {
        App::start_at(dir, module, "/openapi.json", log)
    }

    /// An app whose document is at `document` (FastAPI's `openapi_url`).
    fn start_at(dir: &Path, module: &str, document: &str, log: &Path) -> App {
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut server = ChildGuard::spawn(
            module,
            Command::new(python())
                .args([
                    "-m",
                    "uvicorn",
                    &format!("{module}:app"),
                    "--host",
                    "127.0.0.1",
                ])
                .args(["--port", &port.to_string(), "--no-access-log"])
                .current_dir(dir),
            log,
        )
        .expect("starting uvicorn");
        wait_for_http(addr, document, Duration::from_secs(30), &mut server)
            .unwrap_or_else(|e| panic!("{module} did not come up: {e}"));
        App { addr, server }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn get(&self, path: &str) -> Value {
        let (status, body) = http_get(self.addr, path).expect("asking the app");
        assert_eq!(status, 200, "{path}");
        serde_json::from_slice(&body).expect("JSON")
    }

    /// Requests served per route key (`GET /items/{item_id}`).
    fn counts(&self) -> BTreeMap<String, u64> {
        serde_json::from_value(self.get("/__barrage/counts")).expect("counts")
    }

    /// Asserts no 422 was answered; prints each one's route and body (the field).
    fn assert_no_422(&self, context: &str) {
        let errors = self.get("/__barrage/errors");
        assert_eq!(
            errors,
            Value::Array(Vec::new()),
            "422s answered (route and body):\n{errors:#}\n{context}"
        );
    }
}

/// `barrage init --openapi URL -o scenario.yaml` with extra flags; the file's text.
fn init(app: &App, dir: &Path, extra: &[&str]) -> (PathBuf, String) {
    let path = dir.join("scenario.yaml");
    let out = run_with_timeout(
        barrage()
            .args(["init", "--openapi", &app.url(), "--force", "-o"])
            .arg(&path)
            .args(if extra.contains(&"--think") {
                &[][..]
            } else {
                &["--think", "none"][..]
            })
            .args(extra),
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(out.status.success(), "init failed: {}", text(&out));
    let yaml = std::fs::read_to_string(&path).unwrap();
    (path, yaml)
}

fn run(scenario: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = barrage();
    c.arg("run").arg(scenario).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    run_with_timeout(&mut c, Duration::from_secs(120)).unwrap()
}

/// Generates, runs every task once, then a bounded load; checks what the app served.
/// Returns the app's counts after the debug run and the load run's result file.
fn generate_and_run(
    app: &App,
    dir: &Path,
    env: &[(&str, &str)],
    deprecated: &[&str],
) -> (String, Value) {
    let (scenario, yaml) = init(app, dir, &[]);
    let before = app.counts();
    assert!(
        before.values().all(|&n| n == 0),
        "served before the run: {before:?}"
    );

    let debug = run(&scenario, &["--debug"], env);
    let context = format!(
        "{}\n--- scenario ---\n{yaml}\n{}",
        text(&debug),
        app.server.log()
    );
    app.assert_no_422(&context);
    assert!(debug.status.success(), "debug run failed:\n{context}");
    let counts = app.counts();
    for (route, n) in &counts {
        let is_deprecated = deprecated.contains(&route.as_str());
        if is_deprecated {
            assert_eq!(*n, 0, "deprecated {route} was exercised");
        } else {
            assert!(*n > 0, "{route} was not exercised: {counts:?}\n{context}");
        }
    }

    let out_json = dir.join("out.json");
    let load = run(
        &scenario,
        &[
            "-u",
            "6",
            "-r",
            "1000",
            "--iterations",
            "240",
            "--json",
            out_json.to_str().unwrap(),
        ],
        env,
    );
    let context = format!(
        "{}\n--- scenario ---\n{yaml}\n{}",
        text(&load),
        app.server.log()
    );
    app.assert_no_422(&context);
    assert!(load.status.success(), "load run failed:\n{context}");
    let doc: Value = serde_json::from_slice(&std::fs::read(&out_json).unwrap()).unwrap();
    assert_eq!(doc["aggregate"]["failures"], 0, "{context}");
    assert_eq!(
        doc["aggregate"]["requests"],
        app.counts().values().sum::<u64>() - counts.values().sum::<u64>()
    );
    (yaml, doc)
}

fn apps_dir() -> PathBuf {
    repo_root().join("crates/barrage-openapi/tests/apps")
}

/// Requests answered with `status` for one endpoint in a result file.
fn status_count(doc: &Value, method: &str, name: &str, status: &str) -> u64 {
    doc["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["method"] == method && e["name"] == name)
        .and_then(|e| e["status_codes"][status].as_u64())
        .unwrap_or(0)
}

#[test]
#[ignore = "needs the FastAPI venv: run scripts/test.sh"]
fn shop_constraints_nested_models_unions_and_flows() {
    let _ = VENV;
    let tmp = tempfile::tempdir().unwrap();
    let app = App::start(&apps_dir(), "shop_app", &tmp.path().join("uvicorn.log"));
    let (yaml, doc) = generate_and_run(&app, tmp.path(), &[], &["GET /legacy"]);
    // Ids flow: reads, updates and deletes use the id their create answered, and each of
    // those succeeded (a 404 there is a failure, and the run had none).
    assert!(yaml.contains("product_id: '$.id'"), "{yaml}");
    assert!(
        yaml.contains("- get: \"/orders/{{ order_id }}/lines/{{ line_id }}\""),
        "{yaml}"
    );
    assert!(
        status_count(&doc, "GET", "/products/{product_id}", "200") > 0,
        "{doc:#}"
    );
    assert!(status_count(&doc, "GET", "/orders/{order_id}/lines/{line_id}", "200") > 0);
    assert_eq!(
        status_count(&doc, "GET", "/products/{product_id}", "404"),
        0
    );
    // Ids only a list supplies: the list runs first and its first id is read (the seeded
    // ids are nowhere near a generated value, so a 200 means the id came from the list).
    assert!(
        yaml.contains(
            "warehouse_id:\n                jsonpath: '$[0].id'\n                default: "
        ),
        "{yaml}"
    );
    assert!(yaml.contains("jsonpath: '$.items[0].bin_id'"), "{yaml}");
    for read in [
        "/warehouses/{warehouse_id}",
        "/warehouses/{warehouse_id}/bins/{bin_id}",
    ] {
        assert!(
            status_count(&doc, "GET", read, "200") > 0,
            "{read}\n{doc:#}"
        );
        assert_eq!(status_count(&doc, "GET", read, "404"), 0, "{read}\n{doc:#}");
    }
    // An empty list: the default id is valid for the parameter (no 422, asserted above)
    // and its 404 is accepted (the run had no failures).
    assert!(
        status_count(&doc, "GET", "/docks/{dock_id}", "404") > 0,
        "{doc:#}"
    );
    assert_eq!(status_count(&doc, "GET", "/docks/{dock_id}", "200"), 0);
    // A query list with `minItems: 2` goes out as the key repeated, and is accepted.
    assert!(
        status_count(&doc, "GET", "/stores/compare", "200") > 0,
        "{doc:#}"
    );
}

#[test]
#[ignore = "needs the FastAPI venv: run scripts/test.sh"]
fn auth_forms_and_uploads() {
    let tmp = tempfile::tempdir().unwrap();
    let app = App::start(&apps_dir(), "auth_app", &tmp.path().join("uvicorn.log"));
    let basic = "YWxpY2U6d29uZGVybGFuZA=="; // alice:wonderland
    let env = [
        ("OAUTH2_PASSWORD_BEARER_USERNAME", "alice"),
        ("OAUTH2_PASSWORD_BEARER_PASSWORD", "wonderland"),
        ("API_KEY_HEADER_KEY", "k-123"),
        ("API_KEY_QUERY_KEY", "k-123"),
        ("API_KEY_COOKIE_KEY", "k-123"),
        ("HTTP_BASIC_CREDENTIALS", basic),
    ];
    let (yaml, doc) = generate_and_run(&app, tmp.path(), &env, &[]);
    assert!(
        yaml.contains("authorization: \"Bearer {{ token }}\""),
        "{yaml}"
    );
    assert!(yaml.contains("multipart:"), "{yaml}");
    assert!(
        status_count(&doc, "GET", "/notes/{note_id}", "200") > 0,
        "{doc:#}"
    );
    // Logins happen once per user, in setup (6 users over 4 user types), not per task.
    let logins = status_count(&doc, "POST", "/token", "200");
    assert!((1..=6).contains(&logins), "{logins} logins\n{doc:#}");
}

#[test]
#[ignore = "needs the FastAPI venv: run scripts/test.sh"]
fn the_fastapi_example_runs_as_generated() {
    let tmp = tempfile::tempdir().unwrap();
    let app = App::start(
        &repo_root().join("examples/fastapi-items"),
        "app",
        &tmp.path().join("uvicorn.log"),
    );
    // The example's own counter knows no 422 list; its counts are checked instead.
    let (scenario, yaml) = init(&app, tmp.path(), &[]);
    let out = run(
        &scenario,
        &["-u", "4", "-r", "1000", "--iterations", "200"],
        &[],
    );
    assert!(out.status.success(), "{}\n{yaml}", text(&out));
    let counts: BTreeMap<String, u64> =
        serde_json::from_value(app.get("/__barrage/counts")).unwrap();
    assert!(counts.values().all(|&n| n > 0), "{counts:?}");
}

#[test]
#[ignore = "needs the FastAPI venv: run scripts/test.sh"]
fn check_responses_catches_what_breaks_the_document() {
    let tmp = tempfile::tempdir().unwrap();
    let app = App::start(
        &apps_dir(),
        "conformance_app",
        &tmp.path().join("uvicorn.log"),
    );
    let (scenario, yaml) = init(&app, tmp.path(), &["--check-responses"]);
    let out_json = tmp.path().join("out.json");
    let out = run(
        &scenario,
        &[
            "-u",
            "4",
            "-r",
            "1000",
            "--iterations",
            "80",
            "--json",
            out_json.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "mismatches fail the run: {}\n{yaml}",
        text(&out)
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&out_json).unwrap()).unwrap();
    let failures: BTreeMap<String, (String, String)> = doc["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                (
                    f["category"].as_str().unwrap().to_string(),
                    f["sample"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    let context = format!("{failures:#?}\n{yaml}");
    assert!(!failures.contains_key("/good"), "{context}");
    let (category, sample) = &failures["/missing-field"];
    assert_eq!(category, "check", "{context}");
    assert!(
        sample.contains("\"name\" is a required property") && sample.contains("body: {\"id\":2"),
        "{context}"
    );
    let (category, sample) = &failures["/wrong-type"];
    assert_eq!(category, "check", "{context}");
    assert!(
        sample.contains("at /id: \"three\" is not of type \"integer\""),
        "{context}"
    );
    let (category, sample) = &failures["/undocumented-status"];
    assert_eq!(category, "status", "{context}");
    assert!(sample.starts_with("HTTP 203"), "{context}");
    // Every failing request of those endpoints was counted, and only those failed.
    for e in doc["endpoints"].as_array().unwrap() {
        let expected = if e["name"] == "/good" {
            0
        } else {
            e["requests"].as_u64().unwrap()
        };
        assert_eq!(e["failures"].as_u64().unwrap(), expected, "{e:#}");
    }
}

/// Bad documents: a located, actionable error and exit 2, never a panic.
#[test]
fn bad_documents_get_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 5] = [
        ("swagger.yaml", "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n", "is a Swagger 2.0 document"),
        ("broken.json", "{\n  \"openapi\": \"3.1.0\",\n  \"paths\": {\n}", "line 4, column 1"),
        ("broken.yaml", "openapi: 3.1.0\npaths:\n  /x: [\n", "broken.yaml:"),
        ("empty.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n", "no operation to write"),
        (
            "badref.yaml",
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses:\n        '200': {description: ok}\n      parameters:\n        - $ref: '#/components/parameters/Nope'\n",
            "nothing at `/components/parameters/Nope`",
        ),
    ];
    for (name, content, expected) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, content).unwrap();
        let out = run_with_timeout(
            barrage().args(["init", "-o", "-", "--openapi"]).arg(&path),
            Duration::from_secs(30),
        )
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out));
        assert!(
            stderr.contains(expected),
            "{name}: want {expected:?} in:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    let out = run_with_timeout(
        barrage().args(["init", "--openapi", "/no/such/file.json"]),
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /no/such/file.json"));
}

/// A file document in, a file out that `validate` accepts; an existing file is kept.
#[test]
fn a_generated_file_validates_and_is_not_overwritten_by_accident() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = tmp.path().join("openapi.json");
    std::fs::write(
        &doc,
        r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/items/{id}": {"get": {
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}}],
            "responses": {"200": {"description": "ok"}}}}}}"#,
    )
    .unwrap();
    let scenario = tmp.path().join("scenario.yaml");
    let init = |extra: &[&str]| {
        run_with_timeout(
            barrage()
                .args(["init", "--openapi"])
                .arg(&doc)
                .arg("-o")
                .arg(&scenario)
                .args(extra),
            Duration::from_secs(30),
        )
        .unwrap()
    };
    assert!(init(&[]).status.success());
    let validate = run_with_timeout(
        barrage().arg("validate").arg(&scenario),
        Duration::from_secs(30),
    )
    .unwrap();
    assert!(validate.status.success(), "{}", text(&validate));
    let again = init(&[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("--force"),
        "{}",
        text(&again)
    );
    assert!(init(&["--force"]).status.success());
}

fn endpoint_requests(doc: &Value, method: &str, name: &str) -> u64 {
    doc["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["method"] == method && e["name"] == name)
        .and_then(|e| e["requests"].as_u64())
        .unwrap_or(0)
}

/// An app shaped like the full-stack FastAPI template: the document found through
/// `/docs`, filters that must match, and a 30 s run of 10 users that never re-keys or
/// deletes its own login, creates no superuser, reads lists that have rows, reaches
/// every operation it does not leave out on purpose, and spends little on health checks.
#[test]
#[ignore = "needs the FastAPI venv: run scripts/test.sh"]
fn a_full_stack_app_survives_its_generated_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let app = App::start_at(
        &apps_dir(),
        "fullstack_app",
        "/api/v1/openapi.json",
        &tmp.path().join("uvicorn.log"),
    );
    let init_out = |extra: &[&str]| {
        run_with_timeout(
            barrage()
                .args(["init", "--openapi", &app.url(), "-o", "-"])
                .args(extra),
            Duration::from_secs(60),
        )
        .unwrap()
    };
    // Filters: a typo is an error with the nearest names; one operation can go.
    let typo = init_out(&["--exclude", "itemz"]);
    assert_eq!(typo.status.code(), Some(2), "{}", text(&typo));
    assert!(
        String::from_utf8_lossy(&typo.stderr).contains("did you mean `items`?"),
        "{}",
        text(&typo)
    );
    let one = init_out(&["--exclude", "PATCH /api/v1/users/me"]);
    assert!(one.status.success(), "{}", text(&one));
    let yaml = String::from_utf8_lossy(&one.stdout);
    assert!(!yaml.contains("patch /api/v1/users/me:"), "{yaml}");
    assert!(yaml.contains("get /api/v1/users/me:"), "{yaml}");
    assert!(yaml.contains("patch /api/v1/users/me/password:"), "{yaml}");

    let (scenario, yaml) = init(&app, tmp.path(), &["--think", "0.1s..0.3s"]);
    let stderr_of_default = init_out(&[]);
    assert!(
        String::from_utf8_lossy(&stderr_of_default.stderr)
            .contains("found the document at http://127.0.0.1:"),
        "{}",
        text(&stderr_of_default)
    );
    assert!(
        String::from_utf8_lossy(&stderr_of_default.stdout).contains("  think: '0.5s..1.5s'"),
        "the default think time is written"
    );
    // The documentation page's URL works too: it names the document.
    let from_docs = run_with_timeout(
        barrage().args([
            "init",
            "--openapi",
            &format!("{}/docs", app.url()),
            "-o",
            "-",
        ]),
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(from_docs.status.success(), "{}", text(&from_docs));
    assert!(
        String::from_utf8_lossy(&from_docs.stderr).contains(&format!(
            "found the document at {}/api/v1/openapi.json",
            app.url()
        )),
        "{}",
        text(&from_docs)
    );
    for left_out in [
        "      # delete /api/v1/users/me:",
        "      # patch /api/v1/users/me/password:",
    ] {
        assert!(yaml.contains(left_out), "{left_out}\n{yaml}");
    }
    // An optional privilege flag is never sent (a `false` would demote the login).
    assert!(!yaml.contains("is_superuser:"), "{yaml}");
    assert!(yaml.contains("not sent: email"), "{yaml}");

    // No silent credentials: without the variables, validate names both.
    let validate = run_with_timeout(
        barrage().arg("validate").arg(&scenario),
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(validate.status.code(), Some(2), "{}", text(&validate));
    for var in [
        "OAUTH2_PASSWORD_BEARER_USERNAME",
        "OAUTH2_PASSWORD_BEARER_PASSWORD",
    ] {
        assert!(
            String::from_utf8_lossy(&validate.stderr)
                .contains(&format!("environment variable `{var}` is not set")),
            "{}",
            text(&validate)
        );
    }

    let env = [
        ("OAUTH2_PASSWORD_BEARER_USERNAME", "admin@example.com"),
        ("OAUTH2_PASSWORD_BEARER_PASSWORD", "changethis"),
    ];
    let out_json = tmp.path().join("out.json");
    let load = run(
        &scenario,
        &[
            "-u",
            "10",
            "-r",
            "10",
            "-t",
            "30s",
            "--json",
            out_json.to_str().unwrap(),
        ],
        &env,
    );
    let context = format!(
        "{}\n--- scenario ---\n{yaml}\n{}",
        text(&load),
        app.server.log()
    );
    app.assert_no_422(&context);
    assert!(load.status.success(), "{context}");
    let doc: Value = serde_json::from_slice(&std::fs::read(&out_json).unwrap()).unwrap();
    assert_eq!(doc["aggregate"]["failures"], 0, "{context}");
    let safety = app.get("/__barrage/safety");
    assert_eq!(safety["failed_logins"], 0, "{safety}");
    assert_eq!(safety["superusers_created"], 0, "{safety}");
    assert_eq!(safety["login_changed"], 0, "{safety}");
    let reads = safety["list_reads"].as_u64().unwrap();
    assert!(reads > 0, "{safety}");
    // Only a read before anything was created can be empty (skip stays 0; before,
    // `skip: int(1, 1000)` made most reads empty).
    let empty = safety["empty_list_reads"].as_u64().unwrap();
    assert!(empty * 20 < reads, "{safety}");
    let counts = app.counts();
    for (route, n) in counts.iter().filter(|(r, _)| !r.contains("/__barrage/")) {
        let on_purpose = ["DELETE /api/v1/users/me", "PATCH /api/v1/users/me/password"]
            .contains(&route.as_str());
        if on_purpose {
            assert_eq!(*n, 0, "{route} ran: {counts:?}");
        } else {
            assert!(*n > 0, "{route} was not exercised: {counts:?}\n{context}");
        }
    }
    let total = doc["aggregate"]["requests"].as_u64().unwrap();
    let health = endpoint_requests(&doc, "GET", "/api/v1/utils/health-check/");
    assert!(
        health > 0 && health * 4 < total,
        "health got {health} of {total} requests"
    );
}

/// Newer FastAPI shapes: composed form bodies, a discriminated union as a form, an
/// integer-keyed map, a header model that lists `host`, and optional parameters a
/// validator restricts beyond the schema, which only the rare task sends.
#[test]
#[ignore = "needs the FastAPI venv: run scripts/test.sh"]
fn newer_fastapi_shapes_are_sent_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let app = App::start(&apps_dir(), "shapes_app", &tmp.path().join("uvicorn.log"));
    let (scenario, yaml) = init(&app, tmp.path(), &["--think", "none"]);
    assert!(!yaml.contains("host:"), "{yaml}");
    let out_json = tmp.path().join("out.json");
    let load = run(
        &scenario,
        &[
            "-u",
            "4",
            "-r",
            "100",
            "--iterations",
            "300",
            "--json",
            out_json.to_str().unwrap(),
        ],
        &[],
    );
    let context = format!(
        "{}\n--- scenario ---\n{yaml}\n{}",
        text(&load),
        app.server.log()
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&out_json).unwrap()).unwrap();
    let errors = app.get("/__barrage/errors");
    let errors = errors.as_array().unwrap();
    // Only the validator the document cannot show rejects anything, and only in the
    // rare task that sends the optional parameters.
    assert!(
        errors
            .iter()
            .all(|e| e["route"] == "GET /search"
                && e["body"].as_str().unwrap().contains("must be even")),
        "{errors:#?}\n{context}"
    );
    let searches = endpoint_requests(&doc, "GET", "/search");
    assert!(
        (errors.len() as u64) * 4 < searches,
        "{} of {searches} searches rejected\n{context}",
        errors.len()
    );
    let counts = app.counts();
    for route in ["POST /profile", "POST /pet", "POST /scores", "GET /headers"] {
        assert!(counts[route] > 0, "{route}: {counts:?}");
        assert_eq!(
            doc["endpoints"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| format!(
                    "{} {}",
                    e["method"].as_str().unwrap(),
                    e["name"].as_str().unwrap()
                ) == route)
                .map(|e| e["failures"].as_u64().unwrap())
                .sum::<u64>(),
            0,
            "{route}\n{context}"
        );
    }
    assert_eq!(
        app.get("/__barrage/hosts"),
        serde_json::json!([app.addr.to_string()]),
        "the real Host only"
    );
}

/// `init --from-app MODULE:APP` imports the app in the project's Python (`--python`) from
/// the current directory and reads `app.openapi()`: the scenario is the one `--openapi`
/// writes from the same app's served document, but for the two lines that say where the
/// document came from (the header's command, and the target: a served document's address,
/// or uvicorn's default one).
#[test]
#[ignore = "needs the FastAPI venv: run scripts/test.sh"]
fn from_app_writes_the_scenario_of_the_served_document() {
    let tmp = tempfile::tempdir().unwrap();
    let example = repo_root().join("examples/fastapi-items");
    let app = App::start(&example, "app", &tmp.path().join("uvicorn.log"));
    let (_, served) = init(&app, tmp.path(), &[]);
    let from_app = tmp.path().join("from-app.yaml");
    let out = run_with_timeout(
        barrage()
            .args([
                "init",
                "--from-app",
                "app:app",
                "--think",
                "none",
                "--python",
            ])
            .arg(python())
            .arg("-o")
            .arg(&from_app)
            .current_dir(&example),
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("4 task(s) from app:app"),
        "{}",
        text(&out)
    );
    let written = std::fs::read_to_string(&from_app).unwrap();
    let (served, written): (Vec<&str>, Vec<&str>) =
        (served.lines().collect(), written.lines().collect());
    assert_eq!(served.len(), written.len(), "{written:#?}");
    for (n, (s, w)) in served.iter().zip(&written).enumerate() {
        if s.starts_with("# Generated by ") {
            assert!(
                w.starts_with(
                    "# Generated by `barrage init --from-app app:app --think none` from app:app"
                ),
                "{w}"
            );
        } else if s.starts_with("target: ") {
            assert_eq!(s.split_whitespace().nth(1), Some(app.url().as_str()));
            assert!(w.starts_with("target: http://127.0.0.1:8000 "), "{w}");
        } else {
            assert_eq!(s, w, "line {}", n + 1);
        }
    }
}

/// Each way `--from-app` can go wrong gets its own message with the fix, and exit 2.
#[test]
#[ignore = "needs the FastAPI venv: run scripts/test.sh"]
fn from_app_errors_say_what_to_change() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("plain.py"), "app = [1, 2]\n").unwrap();
    std::fs::write(
        tmp.path().join("broken.py"),
        "import json\nraise RuntimeError('the database is not configured')\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("loud.py"),
        "print('hello from import')\nfrom fastapi import FastAPI\napp = FastAPI()\n\
         @app.get('/x')\ndef x():\n    return 1\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("needs.py"),
        "import json\nimport no_such_dependency\napp = None\n",
    )
    .unwrap();
    // A non-daemon thread started at import: a normal interpreter exit would wait for it.
    std::fs::write(
        tmp.path().join("threaded.py"),
        "import threading, time\nthreading.Thread(target=lambda: time.sleep(3600)).start()\n\
         from fastapi import FastAPI\napp = FastAPI()\n@app.get('/t')\ndef t():\n    return 1\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("stuck.py"),
        "import time\ntime.sleep(3600)\napp = None\n",
    )
    .unwrap();
    let init = |target: &str, python_path: &std::ffi::OsStr| {
        run_with_timeout(
            barrage()
                .args([
                    "init",
                    "-o",
                    "-",
                    "--import-timeout",
                    "3",
                    "--from-app",
                    target,
                ])
                .arg("--python")
                .arg(python_path)
                .current_dir(tmp.path()),
            Duration::from_secs(60),
        )
        .unwrap()
    };
    let py = std::ffi::OsString::from(python());
    let cases: [(&str, &std::ffi::OsStr, &str); 8] = [
        (
            "plain",
            py.as_os_str(),
            "write the app as `module:attribute`",
        ),
        (
            "nowhere:app",
            py.as_os_str(),
            "ModuleNotFoundError: No module named 'nowhere'",
        ),
        (
            "broken:app",
            py.as_os_str(),
            "RuntimeError: the database is not configured",
        ),
        // A dependency of the app missing: the traceback and the missing package, not the
        // working directory, are what the message points at.
        ("needs:app", py.as_os_str(), "importing the app with"),
        (
            "stuck:app",
            py.as_os_str(),
            "the app did not finish importing in 3 s",
        ),
        (
            "plain:application",
            py.as_os_str(),
            "plain has no attribute 'application'",
        ),
        (
            "plain:app",
            py.as_os_str(),
            "that is a list, not a FastAPI app",
        ),
        (
            "plain:app",
            "/no/such/python".as_ref(),
            "cannot run the Python `/no/such/python`: not found",
        ),
    ];
    for (target, python_path, expected) in cases {
        let started = std::time::Instant::now();
        let out = init(target, python_path);
        // The stuck import is killed at its 3 s deadline; the others end on their own.
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{target}: {:?}",
            started.elapsed()
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{target}: {}", text(&out));
        assert!(
            stderr.contains(expected),
            "{target}: want {expected:?} in:\n{stderr}"
        );
        assert!(stderr.contains("help: "), "{target}: {stderr}");
        assert!(!stderr.contains("panicked"), "{target}: {stderr}");
    }
    let needs = String::from_utf8_lossy(&init("needs:app", py.as_os_str()).stderr).into_owned();
    assert!(
        needs.contains("Traceback (most recent call last)")
            && needs.contains("ModuleNotFoundError: No module named 'no_such_dependency'")
            && needs.contains("install it into the project's virtualenv")
            && !needs.contains("run barrage from the directory"),
        "{needs}"
    );
    // The module not found at all is the working directory's fault, and says so.
    let nowhere = String::from_utf8_lossy(&init("nowhere:app", py.as_os_str()).stderr).into_owned();
    assert!(
        nowhere.contains("run barrage from the directory") && !nowhere.contains("Traceback"),
        "{nowhere}"
    );
    // A thread left running by the import does not keep barrage waiting.
    let started = std::time::Instant::now();
    let out = init("threaded:app", py.as_os_str());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("get /t:"));
    // What the app prints while it is imported does not end up in the document.
    let out = init("loud:app", py.as_os_str());
    assert!(out.status.success(), "{}", text(&out));
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(
        yaml.contains("get /x:") && !yaml.contains("hello"),
        "{yaml}"
    );
}
