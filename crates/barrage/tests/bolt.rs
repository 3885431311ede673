//! `scripts/build-bolt.sh` end to end: it lays out this test's own barrage (same target
//! directory and Cargo profile, so only the binary's last unit is built again, to link it
//! with its relocations; test binaries run one after another, so no other test runs the
//! binary while it is relinked), training it against the built-in target. Then the
//! laid-out binary:
//! - was laid out by a profile of barrage's own code (BOLT says how many functions ran);
//! - answers `--version` with this crate's version;
//! - sends exactly the requests asked for, every one answered, as the target counts them;
//! - runs `barrage demo` (the bundled scenario) to a passing verdict.
//!
//! Ignored by a bare `cargo test`: it needs LLVM's BOLT (`BARRAGE_BOLT_DIR`; scripts/test.sh
//! installs Debian's bolt-22 and sets it).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use barrage_target::{DemoOptions, DemoTarget};
use common::{assert_version, read_json, repo_script, run_with_timeout, tests_build, text};

/// The profiled functions BOLT reported in its layout (the last `N out of M functions`
/// line: the first is the instrumentation's, before any profile).
fn profiled_functions(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .rev()
        .find(|l| {
            l.contains("functions in the binary") && l.contains("non-empty execution profile")
        })?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
#[ignore = "needs LLVM's BOLT (BARRAGE_BOLT_DIR): run scripts/test.sh"]
fn the_laid_out_binary_measures_what_the_plain_one_does() {
    let (target, profile) = tests_build();
    let built = run_with_timeout(
        repo_script("build-bolt.sh")
            .env("CARGO_TARGET_DIR", &target)
            .env("BARRAGE_CARGO_PROFILE", &profile),
        Duration::from_secs(900),
    )
    .expect("build-bolt.sh ends within 15 minutes");
    assert!(built.status.success(), "{}", text(&built));
    let stdout = String::from_utf8_lossy(&built.stdout);
    let bolted = PathBuf::from(stdout.lines().last().expect("the script prints the path"));
    assert_eq!(bolted, target.join("bolt/barrage"), "{}", text(&built));
    let stderr = String::from_utf8_lossy(&built.stderr);
    // The training ran barrage's client, scenario and statistics code: well over a
    // thousand functions in a release build. A profile that reached BOLT empty (a
    // training that failed quietly) would say 0.
    let profiled = profiled_functions(&stderr).expect("BOLT reports its profile");
    assert!(
        profiled >= 500,
        "{profiled} functions profiled\n{}",
        text(&built)
    );

    let version = run_with_timeout(
        Command::new(&bolted).arg("--version"),
        Duration::from_secs(10),
    )
    .unwrap();
    assert_version(&version);

    // The HTTP path, counted on both sides.
    let served = DemoTarget::start(DemoOptions::no_delay()).expect("the demo target starts");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("hit.json");
    let hit = run_with_timeout(
        Command::new(&bolted)
            .arg("hit")
            .arg(format!("{}/items/1", served.url()))
            .args(["-n", "2000", "-c", "20", "--workers", "1", "--only-summary"])
            .arg("--json")
            .arg(&json),
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(hit.status.success(), "{}", text(&hit));
    let doc = read_json(&json);
    assert_eq!(doc["aggregate"]["requests"], 2000, "{}", text(&hit));
    assert_eq!(doc["aggregate"]["failures"], 0, "{}", text(&hit));
    let counted: u64 = served.counts().values().sum();
    assert_eq!(counted, 2000, "{:?}", served.counts());

    // The scenario engine: the bundled example, to its verdict.
    let demo = run_with_timeout(
        Command::new(&bolted)
            .current_dir(dir.path())
            .args(["demo", "-t", "2s", "--workers", "1"])
            .arg("--json")
            .arg(dir.path().join("demo.json")),
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(demo.status.success(), "{}", text(&demo));
    let doc = read_json(&dir.path().join("demo.json"));
    assert!(
        doc["aggregate"]["requests"].as_u64().unwrap() > 0,
        "{}",
        text(&demo)
    );
    assert!(
        String::from_utf8_lossy(&demo.stderr).contains("Result: PASSED"),
        "{}",
        text(&demo)
    );
}
