//! The command line's promises beyond `run` itself (README, Commands): settings come from
//! flags, then `BARRAGE_*` environment variables, then the scenario file; `barrage demo`
//! serves its own items API and loads it with the bundled scenario; `barrage schema` prints
//! the scenario file's JSON Schema.
//!
//! Runs are bounded by iteration counts (the demo by its `-t`), so the counts are exact.

mod common;

use common::{barrage, endpoint, read_json, repo_root, run, stderr, write};
use serde_json::Value;

use barrage_target::{DemoOptions, DemoTarget};

/// Logs in once per user (so the logins count the users), then one request per iteration.
fn scenario(target: &str) -> String {
    format!(
        "target: {target}\nusers:\n  u:\n    setup:\n      - post: /login\n        json: {{ username: u, password: p }}\n    tasks:\n      t:\n        - get: /\nload:\n  users: 1\n  iterations: 30\n"
    )
}

/// (logins, reads) a target served.
fn served(t: &DemoTarget) -> (u64, u64) {
    let counts = t.counts();
    (counts["POST /login"], counts["GET /"])
}

#[test]
fn flags_win_over_barrage_environment_variables_which_win_over_the_file() {
    let (file_target, env_target, flag_target) = (
        DemoTarget::start(DemoOptions::no_delay()).unwrap(),
        DemoTarget::start(DemoOptions::no_delay()).unwrap(),
        DemoTarget::start(DemoOptions::no_delay()).unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "s.yaml", &scenario(&file_target.url()));
    let (env_json, flag_json) = (dir.path().join("env.json"), dir.path().join("flag.json"));

    // The file alone: its target, 1 user, 30 iterations.
    let o = run(barrage().arg("run").arg(&file).args(["--workers", "1"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(served(&file_target), (1, 30));

    // The environment over the file: another target, 3 users, 12 iterations, and a result
    // file although the command line asks for none.
    let o = run(barrage()
        .arg("run")
        .arg(&file)
        .args(["--workers", "1"])
        .env("BARRAGE_HOST", env_target.url())
        .env("BARRAGE_USERS", "3")
        .env("BARRAGE_ITERATIONS", "12")
        .env("BARRAGE_JSON", &env_json));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(served(&env_target), (3, 12));
    assert_eq!(
        served(&file_target),
        (1, 30),
        "the file's target got nothing more"
    );
    let doc = read_json(&env_json);
    assert_eq!(doc["run"]["load"]["users"], 3);
    assert_eq!(doc["run"]["target"], env_target.url());
    std::fs::remove_file(&env_json).unwrap();

    // Flags over the environment.
    let o = run(barrage()
        .arg("run")
        .arg(&file)
        .args(["--workers", "1", "-u", "2", "--iterations", "8", "-H"])
        .arg(flag_target.url())
        .arg("--json")
        .arg(&flag_json)
        .env("BARRAGE_HOST", env_target.url())
        .env("BARRAGE_USERS", "3")
        .env("BARRAGE_ITERATIONS", "12")
        .env("BARRAGE_JSON", &env_json));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(served(&flag_target), (2, 8));
    assert_eq!(
        served(&env_target),
        (3, 12),
        "the environment's target got nothing more"
    );
    assert_eq!(read_json(&flag_json)["run"]["load"]["users"], 2);
    assert!(!env_json.exists(), "--json wins over BARRAGE_JSON");
}

/// Printed at the top of every live table, and nowhere else.
const LIVE_TABLE: &str = "users running; latencies in ms";

#[test]
fn demo_serves_its_own_items_api_and_loads_it_with_the_bundled_scenario() {
    let dir = tempfile::tempdir().unwrap();
    // The defaults the README names: 20 users for 15 s, the result in barrage-demo.json.
    let o = run(barrage().args(["demo", "--help"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("[default: 15s]"), "{help}");
    assert!(help.contains("[default: 20]"), "{help}");
    assert!(help.contains("[default: barrage-demo.json]"), "{help}");

    // A shorter demo, run where its default result file can be found.
    let o = run(barrage()
        .args(["demo", "-t", "4s", "-u", "4", "--workers", "1"])
        .current_dir(dir.path()));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let listening = "Demo target (a small items API) listening on http://127.0.0.1:";
    assert!(err.contains(listening), "{err}");
    assert!(err.contains(LIVE_TABLE), "a live table every 2 s: {err}");
    assert!(err.contains("Result: PASSED"), "{err}");

    let doc = read_json(&dir.path().join("barrage-demo.json"));
    assert_eq!(
        doc["run"]["scenario_file"],
        "examples/fastapi-items/scenario.yaml (bundled)"
    );
    let target = doc["run"]["target"].as_str().unwrap();
    assert!(target.starts_with("http://127.0.0.1:"), "{target}");
    assert!(err.contains(&format!("listening on {target}\n")), "{err}");
    assert_eq!(doc["run"]["load"]["users"], 4);
    // The bundled scenario's setup: one login per user.
    assert_eq!(endpoint(&doc, "POST", "/login")["requests"], 4);
    let requests = doc["aggregate"]["requests"].as_u64().unwrap();
    assert_eq!(doc["aggregate"]["failures"], 0);
    // What barrage counted is what its own target served, to the request.
    assert!(
        err.contains(&format!("The demo target served {requests} requests.")),
        "{requests} requests in the result file:\n{err}"
    );
}

#[test]
fn schema_prints_the_scenario_files_json_schema() {
    let o = run(barrage().arg("schema"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "machine output only: {}", stderr(&o));
    let printed: Value = serde_json::from_slice(&o.stdout).expect("`barrage schema` prints JSON");
    let path = repo_root().join("crates/barrage-scenario/schema/scenario.schema.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(printed, file, "the schema printed is {}", path.display());
    assert!(printed["$schema"].is_string(), "{printed}");
    for key in [
        "target",
        "defaults",
        "users",
        "load",
        "thresholds",
        "scenarios",
    ] {
        assert!(
            printed["properties"][key].is_object(),
            "the schema describes `{key}`"
        );
    }
}

/// A token kept in the environment (a CI job's secret) must not break the commands that
/// do not serve anything: clap would count it as given and ask for `--web` or
/// `--prometheus-listen`.
#[test]
fn auth_tokens_in_the_environment_are_ignored_by_runs_that_serve_nothing() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "s.yaml",
        &format!(
            "target: http://{}\nusers:\n  u:\n    tasks:\n      t:\n        - get: /\nload:\n  users: 1\n  iterations: 3\n",
            target.addr()
        ),
    );
    let out = run(barrage()
        .args(["run", file.to_str().unwrap()])
        .env("BARRAGE_WEB_AUTH_TOKEN", "s3cret")
        .env("BARRAGE_PROMETHEUS_AUTH_TOKEN", "s3cret"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(target.counts()["GET /"], 3);
}
