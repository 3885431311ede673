//! The Python wheel end to end, as a FastAPI developer meets it: `scripts/build-wheel.sh`
//! builds it, a fresh virtualenv (nothing of the repository on its path) installs it with
//! pinned pytest, pytest-xdist, FastAPI and uvicorn from PyPI, and then:
//! - the venv's own `barrage` answers `--version` with this crate's version and runs
//!   `barrage demo`;
//! - the man page and the completions sit under the venv's `share/`;
//! - `tests/pip/test_items_load.py` runs through the plugin against examples/fastapi-items
//!   under two xdist workers: three load tests pass, the one with a threshold that cannot
//!   hold fails, and its report names the threshold with the value observed;
//!   each xdist worker started its own app (their `barrage_url`s differ);
//! - without `-m load` the load tests are skipped and the two others pass;
//! - against an app already running (`--barrage-url`), `--barrage-load` runs the load tests
//!   with the rest, on that URL.
//!
//! Ignored by a bare `cargo test`: it needs PyPI and a Python able to make venvs (what
//! `scripts/test.sh` checks and prepares). The wheel's binary is built in the same target
//! directory and with the same Cargo profile as this test, so that build is reused, not
//! repeated.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{
    assert_version, free_port, python, repo_root, repo_script, run_with_timeout, tests_build, text,
    wait_for_http, ChildGuard,
};

/// A command with nothing of the repository or of an activated venv in its environment.
fn clean(program: impl AsRef<std::ffi::OsStr>, venv: &Path) -> Command {
    let mut c = Command::new(program);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![venv.join("bin")];
    dirs.extend(std::env::split_paths(&path).filter(|d| !d.starts_with(repo_root())));
    c.env("PATH", std::env::join_paths(dirs).expect("PATH entries"))
        .env_remove("PYTHONPATH")
        .env_remove("VIRTUAL_ENV")
        .env_remove("BARRAGE_EXECUTABLE")
        .env_remove("BARRAGE_URL");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BARRAGE_") {
            c.env_remove(key);
        }
    }
    c
}

/// A test's verdict in pytest's `-rA` short summary (`PASSED tests/file.py::name`).
fn verdict_of<'a>(out: &'a str, test: &str) -> Option<&'a str> {
    let suffix = format!("test_items_load.py::{test}");
    out.lines().find_map(|line| {
        let (verdict, rest) = line.split_once(' ')?;
        let node = rest.split(" - ").next()?;
        node.ends_with(&suffix).then_some(verdict)
    })
}

fn phase(started: &mut Instant, what: &str) {
    eprintln!("{what}: {:.1} s", started.elapsed().as_secs_f64());
    *started = Instant::now();
}

#[test]
#[ignore = "needs PyPI and a Python that makes venvs: run scripts/test.sh"]
fn the_wheel_installs_barrage_and_its_pytest_plugin() {
    let whole = Instant::now();
    let mut started = Instant::now();
    let repo = repo_root();
    let tmp = tempfile::tempdir().unwrap();

    // As a user runs it, in the target directory of this test's build.
    let (target, profile) = tests_build();
    let built = run_with_timeout(
        repo_script("build-wheel.sh")
            .env("CARGO_TARGET_DIR", &target)
            .env("BARRAGE_CARGO_PROFILE", &profile),
        Duration::from_secs(900),
    )
    .unwrap();
    assert!(built.status.success(), "build-wheel.sh: {}", text(&built));
    let stdout = String::from_utf8_lossy(&built.stdout);
    let wheel = PathBuf::from(stdout.lines().last().expect("the wheel's path").trim());
    assert!(
        wheel.is_file() && wheel.starts_with(repo.join("target/wheels")),
        "{}",
        wheel.display()
    );
    phase(&mut started, "build-wheel.sh");

    let venv = tmp.path().join("venv");
    let made = run_with_timeout(
        Command::new(python()).args(["-m", "venv"]).arg(&venv),
        Duration::from_secs(120),
    )
    .unwrap();
    assert!(made.status.success(), "python -m venv: {}", text(&made));
    let installed = run_with_timeout(
        clean(venv.join("bin/python"), &venv)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .arg(&wheel)
            .arg("-r")
            .arg(repo.join("crates/barrage/tests/pip/requirements.txt")),
        Duration::from_secs(300),
    )
    .unwrap();
    assert!(
        installed.status.success(),
        "pip install: {}",
        text(&installed)
    );
    phase(&mut started, "venv and pip install");

    // The venv's barrage, the one `pip install` put there.
    let barrage = venv.join("bin/barrage");
    let version = run_with_timeout(
        clean(&barrage, &venv).arg("--version"),
        Duration::from_secs(10),
    )
    .unwrap();
    assert_version(&version);
    let demo_json = tmp.path().join("demo.json");
    let demo = run_with_timeout(
        clean(&barrage, &venv)
            .args(["demo", "-t", "3s", "-u", "5", "--json"])
            .arg(&demo_json)
            .current_dir(tmp.path()),
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(demo.status.success(), "barrage demo: {}", text(&demo));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&demo_json).unwrap()).unwrap();
    let requests = doc["aggregate"]["requests"].as_u64().unwrap();
    assert!(requests > 0 && doc["aggregate"]["failures"] == 0, "{doc}");
    phase(&mut started, "barrage --version and demo");

    let share = venv.join("share");
    let man = std::fs::read_to_string(share.join("man/man1/barrage.1")).unwrap();
    assert!(man.contains(".TH barrage 1"), "{man}");
    assert!(share.join("man/man1/barrage-run.1").is_file());
    let bash = std::fs::read_to_string(share.join("bash-completion/completions/barrage")).unwrap();
    assert!(
        bash.contains("_barrage()") && bash.contains("--from-app"),
        "bash completion"
    );
    assert!(share.join("zsh/site-functions/_barrage").is_file());
    assert!(share
        .join("fish/vendor_completions.d/barrage.fish")
        .is_file());

    // The load tests, with nothing of the repository but the app and the scenario.
    let tests = tmp.path().join("tests");
    std::fs::create_dir(&tests).unwrap();
    for (from, to) in [
        (
            "crates/barrage/tests/pip/test_items_load.py",
            "test_items_load.py",
        ),
        ("crates/barrage/tests/pip/conftest.py", "conftest.py"),
        ("examples/fastapi-items/scenario.yaml", "scenario.yaml"),
    ] {
        std::fs::copy(repo.join(from), tests.join(to)).unwrap();
    }
    let app_dir = repo.join("examples/fastapi-items");
    let urls = tmp.path().join("urls");
    // Each worker's barrage_url, as conftest.py records it; the directory emptied first.
    let urls_seen = || {
        let mut seen: Vec<(String, String)> = std::fs::read_dir(&urls)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let url = std::fs::read_to_string(e.path()).unwrap();
                (e.file_name().to_string_lossy().into_owned(), url)
            })
            .collect();
        seen.sort();
        seen
    };
    let run_pytest = |app: &[&str], extra: &[&str]| {
        let _ = std::fs::remove_dir_all(&urls);
        std::fs::create_dir(&urls).unwrap();
        run_with_timeout(
            clean(venv.join("bin/python"), &venv)
                .env("PIP_TEST_URL_DIR", &urls)
                .args(["-m", "pytest", "-p", "no:cacheprovider", "-rA"])
                .args(app)
                .args(extra)
                .arg(&tests)
                .current_dir(tmp.path()),
            Duration::from_secs(180),
        )
        .unwrap()
    };
    let app_dir_option = format!("barrage_app_dir={}", app_dir.display());
    let with_app = ["--barrage-app", "app:app", "-o", app_dir_option.as_str()];
    let pytest = |extra: &[&str]| run_pytest(&with_app, extra);
    let load = pytest(&["-m", "load", "-n", "2"]);
    let out = String::from_utf8_lossy(&load.stdout).into_owned();
    assert_eq!(
        load.status.code(),
        Some(1),
        "one test must fail: {}",
        text(&load)
    );
    for passing in [
        "test_a_bounded_hit_reports_what_the_app_served",
        "test_the_example_scenario_runs",
        "test_check_false_hands_back_the_failed_result",
    ] {
        assert!(
            verdict_of(&out, passing) == Some("PASSED"),
            "{passing}: {}",
            text(&load)
        );
    }
    assert!(
        verdict_of(&out, "test_a_threshold_that_cannot_hold_fails") == Some("FAILED"),
        "{}",
        text(&load)
    );
    assert!(out.contains("1 failed, 3 passed"), "{}", text(&load));
    // The plugin's message: the threshold, the value observed, the limit; then barrage's
    // own summary with its verdict.
    let named = out.lines().find(|l| l.contains("p95<0ms: observed "));
    let named = named.unwrap_or_else(|| panic!("no threshold line: {}", text(&load)));
    let observed: f64 = named
        .split("observed ")
        .nth(1)
        .and_then(|rest| rest.split(" ms").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no value in {named:?}"));
    assert!(observed > 0.0, "{named}");
    assert!(named.trim_end().ends_with("limit 0 ms"), "{named}");
    assert!(
        out.contains("Result: FAILED (1 of 1 threshold failed: p95<0ms)"),
        "{}",
        text(&load)
    );
    // Under xdist each worker starts the app for itself, on a port of its own.
    let seen = urls_seen();
    assert!(
        seen.len() == 2 && seen[0].1 != seen[1].1,
        "one URL per worker, different: {seen:?}"
    );
    assert!(
        seen.iter()
            .all(|(worker, url)| worker.starts_with("gw") && url.starts_with("http://127.0.0.1:")),
        "{seen:?}"
    );
    phase(&mut started, "pytest -m load -n 2");

    let plain = pytest(&[]);
    let out = String::from_utf8_lossy(&plain.stdout).into_owned();
    assert!(plain.status.success(), "{}", text(&plain));
    assert!(out.contains("2 passed, 4 skipped"), "{}", text(&plain));
    phase(&mut started, "pytest without -m load");

    // A service already running: uvicorn started here, the plugin only pointed at it.
    let port = free_port();
    let mut server = ChildGuard::spawn(
        "uvicorn",
        clean(venv.join("bin/python"), &venv)
            .args(["-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .current_dir(&app_dir),
        &tmp.path().join("uvicorn.log"),
    )
    .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    wait_for_http(addr, "/", Duration::from_secs(30), &mut server).unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let given = run_pytest(&["--barrage-url", url.as_str()], &["--barrage-load"]);
    let out = String::from_utf8_lossy(&given.stdout).into_owned();
    assert_eq!(given.status.code(), Some(1), "{}", text(&given));
    assert!(out.contains("1 failed, 5 passed"), "{}", text(&given));
    assert!(
        verdict_of(&out, "test_a_threshold_that_cannot_hold_fails") == Some("FAILED"),
        "{}",
        text(&given)
    );
    let seen = urls_seen();
    assert!(
        !seen.is_empty() && seen.iter().all(|(_, u)| *u == url),
        "every test on {url}: {seen:?}"
    );
    assert!(server.exited().is_none(), "{}", server.log());
    drop(server);
    phase(&mut started, "pytest --barrage-url --barrage-load");
    eprintln!("whole test: {:.1} s", whole.elapsed().as_secs_f64());
}
