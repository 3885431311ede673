//! The CI example runs as written: `examples/ci/loadtest.sh` (the script the GitHub Actions
//! workflow calls) starts the FastAPI app, runs the scenario with thresholds, compares with
//! the stored baseline and writes the Markdown summary. Here it runs without GitHub, against
//! this build of barrage, on a free loopback port, for a few seconds, with outputs in a
//! temporary directory and `GITHUB_STEP_SUMMARY` pointed at a file of its own.
//!
//! It needs Python with the example's requirements, so it is ignored by a bare `cargo test`;
//! `scripts/test.sh` prepares the venv, sets `BARRAGE_PYTHON` and runs it.

mod common;

use common::python;
use std::process::Command;
use std::time::Duration;

use common::{free_port, repo_root, run_with_timeout};

#[test]
#[ignore = "needs the FastAPI venv: run scripts/test.sh"]
fn the_ci_script_runs_judges_compares_and_writes_the_summary() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let out = tmp.path().join("results");
    let step_summary = tmp.path().join("step-summary.md");
    std::fs::write(&step_summary, "earlier step's summary\n").unwrap();

    let output = run_with_timeout(
        common::isolate(&mut Command::new("bash"))
            .arg(repo_root().join("examples/ci/loadtest.sh"))
            .env("BARRAGE", env!("CARGO_BIN_EXE_barrage"))
            .env("PYTHON", python())
            .env("PORT", free_port().to_string())
            // As many users as the baseline, so the runs compare like with like; 8 s gives
            // the aggregate the 400 requests a p95 needs to be judged.
            .env("USERS", "100")
            .env("DURATION", "8s")
            .env("OUT_DIR", &out)
            .env("GITHUB_STEP_SUMMARY", &step_summary)
            .current_dir(tmp.path()),
        // App start-up (a few seconds), 8 s of load, the graceful stop, the comparison.
        Duration::from_secs(120),
    )
    .unwrap_or_else(|e| panic!("loadtest.sh did not finish: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let app_log = std::fs::read_to_string(out.join("app.log")).unwrap_or_default();
    let context =
        format!("--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n--- app.log ---\n{app_log}");
    assert_eq!(output.status.code(), Some(0), "{context}");

    // The run's result, judged by its thresholds, and compared with the baseline.
    let result = std::fs::read_to_string(out.join("result.json")).expect("result.json");
    let result: serde_json::Value = serde_json::from_str(&result).unwrap();
    assert_eq!(result["aggregate"]["failures"], 0, "{context}");
    let comparison = std::fs::read_to_string(out.join("compare.json")).expect("compare.json");
    let comparison: serde_json::Value = serde_json::from_str(&comparison).unwrap();
    assert_ne!(comparison["verdict"], "failed", "{context}");
    assert_eq!(
        comparison["base"]["file"],
        repo_root()
            .join("examples/ci/baseline.json")
            .display()
            .to_string()
    );
    let outcome = |gate: &str, endpoint: &str| {
        comparison["gates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["gate"] == gate && g["endpoint"] == endpoint)
            .unwrap_or_else(|| panic!("no {gate} check on {endpoint}: {comparison}"))["outcome"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The aggregate has samples enough for both gates: judged, and passed.
    assert_eq!(outcome("p95>+50ms", "Aggregated"), "pass", "{context}");
    assert_eq!(outcome("error_rate>+1%", "Aggregated"), "pass", "{context}");

    // The summary: the run's part, then the comparison's, also appended for GitHub.
    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    let compare_at = summary
        .find("barrage compare")
        .unwrap_or_else(|| panic!("no comparison in the summary:\n{summary}"));
    assert!(compare_at > 0, "the run's summary comes first:\n{summary}");
    assert!(
        summary.contains("p95<500ms"),
        "the thresholds are listed:\n{summary}"
    );
    let step = std::fs::read_to_string(&step_summary).unwrap();
    assert_eq!(step, format!("earlier step's summary\n{summary}"));
}
