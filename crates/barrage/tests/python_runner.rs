//! barrage_load (the Python package of the wheel) from the repository's `python/`, without
//! building the wheel: its Result unit tests under the test venv's pytest, and the runner's
//! promise that barrage dies with the Python that started it.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{python, repo_root, run_with_timeout};

fn with_package(c: &mut Command) -> &mut Command {
    c.env("PYTHONPATH", repo_root().join("python"))
        .env("BARRAGE_EXECUTABLE", env!("CARGO_BIN_EXE_barrage"))
        .env_remove("BARRAGE_URL")
}

#[test]
#[ignore = "needs the test venv's pytest: run scripts/test.sh"]
fn result_unit_tests_pass() {
    let out = run_with_timeout(
        with_package(&mut Command::new(python()))
            .args(["-m", "pytest", "-p", "no:cacheprovider", "-q"])
            .arg(repo_root().join("crates/barrage/tests/pip/test_result.py")),
        Duration::from_secs(120),
    )
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("3 passed"), "{stdout}");
}

/// The pids of the processes whose command line contains `token`.
#[cfg(target_os = "linux")]
fn processes_with(token: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmdline) = std::fs::read(
            std::path::Path::new("/proc")
                .join(pid.to_string())
                .join("cmdline"),
        ) {
            if String::from_utf8_lossy(&cmdline).contains(token) {
                found.push(pid);
            }
        }
    }
    found
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs the test venv: run scripts/test.sh"]
fn barrage_dies_with_the_python_that_started_it() {
    use common::scripted::{Answer, Scripted};
    use std::path::Path;
    use std::process::Stdio;
    use std::time::Instant;

    let server = Scripted::start(Answer::Ok);
    let tmp = tempfile::tempdir().unwrap();
    let workdir = tmp.path().join("runs");
    // A run of 60 s at 20 requests a second, far longer than the test waits.
    let script = format!(
        "from barrage_load import Barrage\n\
         Barrage({url:?}, {dir:?}).hit('/', connections=1, duration='60s', rate=20)\n",
        url = server.url(),
        dir = workdir.to_string_lossy(),
    );
    let mut child = with_package(&mut Command::new(python()))
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let token = workdir.to_string_lossy().into_owned();
    let started = Instant::now();
    let barrage_pids = loop {
        let pids: Vec<u32> = processes_with(&token)
            .into_iter()
            .filter(|&p| p != child.id())
            .collect();
        if !pids.is_empty() && server.requests() > 0 {
            break pids;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "barrage never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // kill -9: the Python gets no chance to clean up.
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = Instant::now();
    loop {
        let alive: Vec<u32> = barrage_pids
            .iter()
            .copied()
            .filter(|p| Path::new("/proc").join(p.to_string()).exists())
            .filter(|p| {
                // A zombie waiting for init to reap it has stopped running.
                std::fs::read_to_string(format!("/proc/{p}/stat"))
                    .map(|s| !s.contains(") Z "))
                    .unwrap_or(false)
            })
            .collect();
        if alive.is_empty() {
            break;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(5),
            "barrage {alive:?} still runs {:?} after its Python was killed",
            killed.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
