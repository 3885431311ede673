//! Exit code 3, "the run could not proceed" (README, Commands): every output file a command
//! writes, when it cannot be written, and a run whose worker threads cannot start. Codes 0,
//! 1, 2 and 130 are checked beside the behaviour that produces them in the other test files.
//!
//! An output that cannot be written is one in a directory that does not exist. The run
//! itself still happens (the target counts its requests), and the other files are still
//! written: the exit code says one output is missing, not that the run was lost.

mod common;

use std::path::{Path, PathBuf};

use common::{barrage, barrage_limited, read_json, run, run_scenario, stderr, write};

use barrage_target::{DemoOptions, DemoTarget};

const ITERATIONS: u64 = 5;
const SCENARIO: &str = "users:\n  u:\n    tasks:\n      t:\n        - get: /\n";

/// A path inside a directory that does not exist.
fn unwritable(dir: &Path, name: &str) -> PathBuf {
    dir.join("no-such-dir").join(name)
}

#[test]
fn a_result_file_that_cannot_be_written_exits_3_after_the_run() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let out = unwritable(dir.path(), "out.json");
    let o = run_scenario(
        &scenario,
        &["-u", "1", "--iterations", &ITERATIONS.to_string()],
        target.url(),
        &out,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!("error: cannot write {}", out.display())),
        "{err}"
    );
    // The run happened, and its summary was printed.
    assert_eq!(target.counts()["GET /"], ITERATIONS);
    assert!(err.contains("Aggregated"), "{err}");

    // The same for `hit`.
    let o = run(barrage()
        .arg("hit")
        .arg(format!("{}/", target.url()))
        .args(["-n", "4", "-c", "1", "--json"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(target.counts()["GET /"], ITERATIONS + 4);
}

#[test]
fn each_ci_file_that_cannot_be_written_exits_3_and_the_result_file_is_still_written() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let bad = |name: &str| unwritable(dir.path(), name).display().to_string();
    let mut served = 0;
    for (flag, path) in [
        ("--csv", bad("prefix")),
        ("--junit", bad("junit.xml")),
        ("--summary-md", bad("summary.md")),
    ] {
        let out = dir
            .path()
            .join(format!("{}.json", flag.trim_start_matches('-')));
        let o = run_scenario(
            &scenario,
            &[
                "-u",
                "1",
                "--iterations",
                &ITERATIONS.to_string(),
                flag,
                &path,
            ],
            target.url(),
            &out,
        );
        assert_eq!(o.status.code(), Some(3), "{flag}: {}", stderr(&o));
        served += ITERATIONS;
        assert_eq!(target.counts()["GET /"], served, "{flag}");
        assert_eq!(
            read_json(&out)["aggregate"]["requests"],
            ITERATIONS,
            "{flag}: the result file is written whatever happened to the other outputs"
        );
    }
}

#[test]
fn report_compare_and_demo_exit_3_when_their_outputs_cannot_be_written() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let saved = dir.path().join("saved.json");
    let o = run_scenario(
        &scenario,
        &["-u", "1", "--iterations", &ITERATIONS.to_string()],
        target.url(),
        &saved,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    for (flag, name) in [
        ("--csv", "prefix"),
        ("--junit", "junit.xml"),
        ("--summary-md", "summary.md"),
    ] {
        // The same command with a writable path exits 0: only the path makes the 3.
        let good = dir.path().join(name);
        let o = run(barrage().arg("report").arg(&saved).arg(flag).arg(&good));
        assert_eq!(o.status.code(), Some(0), "report {flag}: {}", stderr(&o));
        let o = run(barrage()
            .arg("report")
            .arg(&saved)
            .arg(flag)
            .arg(unwritable(dir.path(), name)));
        assert_eq!(o.status.code(), Some(3), "report {flag}: {}", stderr(&o));
    }

    for (flag, name) in [("--json", "diff.json"), ("--summary-md", "diff.md")] {
        let o = run(barrage()
            .arg("compare")
            .arg(&saved)
            .arg(&saved)
            .arg(flag)
            .arg(dir.path().join(name)));
        assert_eq!(o.status.code(), Some(0), "compare {flag}: {}", stderr(&o));
        let o = run(barrage()
            .arg("compare")
            .arg(&saved)
            .arg(&saved)
            .arg(flag)
            .arg(unwritable(dir.path(), name)));
        assert_eq!(o.status.code(), Some(3), "compare {flag}: {}", stderr(&o));
    }

    let o = run(barrage()
        .args(["demo", "-t", "1s", "-u", "2", "--workers", "1", "--json"])
        .arg(unwritable(dir.path(), "demo.json")));
    assert_eq!(o.status.code(), Some(3), "demo: {}", stderr(&o));
}

/// Big enough for barrage's ordinary needs (it runs in well under 100 MB of address space).
const ADDRESS_SPACE_KB: &str = "4194304";

#[test]
#[cfg(target_os = "linux")]
fn a_run_whose_worker_threads_cannot_start_exits_3_and_sends_nothing() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let limited = || {
        let mut c = barrage_limited(&format!("-v {ADDRESS_SPACE_KB}"));
        c.arg("run")
            .arg(&scenario)
            .args(["-u", "1", "--iterations", "2", "--workers", "2", "-H"])
            .arg(target.url());
        c
    };
    // Within 4 GiB of address space barrage runs as usual...
    let o = run(limited().env_remove("RUST_MIN_STACK"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(target.counts()["GET /"], 2);
    // ...but not when each thread asks for an 8 GiB stack (Rust's std reads RUST_MIN_STACK
    // for the threads it spawns): no worker thread can start, so no request is sent.
    let o = run(limited().env("RUST_MIN_STACK", (8u64 << 30).to_string()));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("error: cannot start worker thread"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(target.counts()["GET /"], 2, "the failed run sent nothing");
}

/// Whatever the open-file limit, barrage runs, or exits with a code and a message that say
/// it could not: never a panic. Each limit from the fewest files the dynamic loader can
/// live with up to enough for a small run is tried (a limit of N leaves N - 3 files past
/// stdin, stdout and stderr): as the limit grows, the async runtime, the signal handler,
/// the scenario file, the worker threads' runtimes and the connections each get their
/// files in turn, so every one of those steps meets the limit once.
#[test]
#[cfg(target_os = "linux")]
fn too_few_open_files_is_an_error_with_an_exit_code_never_a_panic() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.yaml", SCENARIO);
    let mut outcomes = Vec::new();
    let mut wrong = 0;
    for limit in 4..=32 {
        let o = run(barrage_limited(&format!("-n {limit}"))
            .arg("run")
            .arg(&scenario)
            .args(["-u", "1", "--iterations", "2", "--workers", "2", "-H"])
            .arg(target.url()));
        let err = stderr(&o);
        if o.status.code() == Some(127) && err.contains("error while loading shared libraries") {
            continue; // too few files for the dynamic loader: barrage never ran
        }
        let said = err
            .lines()
            .find(|l| l.contains("panicked") || l.starts_with("error:"))
            .unwrap_or("");
        let fine = matches!(o.status.code(), Some(0..=3))
            && !err.contains("panicked")
            && (matches!(o.status.code(), Some(0 | 1)) || !said.is_empty());
        if !fine {
            wrong += 1;
        }
        let mark = if fine { "ok " } else { "BAD" };
        outcomes.push(format!("{mark} -n {limit}: {}  {said}", o.status));
    }
    assert!(outcomes.len() > 20, "{outcomes:#?}");
    assert_eq!(wrong, 0, "{outcomes:#?}");
}
