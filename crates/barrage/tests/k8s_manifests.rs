//! `barrage k8s` as a user runs it: the manifests it writes pass the Kubernetes API's
//! schemas (kubernetes-validate, offline, from the test venv), for each shape of run; and
//! what it refuses, it refuses with the fix.
//!
//! The schema test needs kubernetes-validate from scripts/requirements-test.txt, so it is
//! ignored by a bare `cargo test`; `scripts/test.sh` prepares the venv, sets
//! `BARRAGE_PYTHON` and runs it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{barrage, python, run, stderr, write};
use saphyr::{LoadableYamlNode, Yaml};

const SCENARIO: &str = "\
target: http://127.0.0.1:8000
data:
  users: { file: data/users.csv }
tasks:
  t:
    - get: /items/{{ users.id }}
    - post: /upload
      multipart:
        photo: { file: photo.bin }
load:
  users: 4
  duration: 10s
thresholds:
  - p95 < 500ms
";

/// A scenario folder: the scenario, a CSV table below it and a binary file beside it.
fn scenario_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    write(dir.path(), "data/users.csv", "id,name\n1,a\n2,b\n");
    std::fs::write(dir.path().join("photo.bin"), [0u8, 0xff, 0xfe, 7]).unwrap();
    let scenario = write(dir.path(), "load.yaml", SCENARIO);
    (dir, scenario)
}

fn k8s(scenario: &Path, args: &[&str]) -> Output {
    run(barrage()
        .arg("k8s")
        .arg(scenario)
        .args(["--image", "registry.example/barrage:0.1"])
        .args(args))
}

fn manifests(scenario: &Path, args: &[&str]) -> String {
    let o = k8s(scenario, args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn kinds(yaml: &str) -> Vec<String> {
    Yaml::load_from_str(yaml)
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap().to_string())
        .collect()
}

/// kubernetes-validate on `file` against Kubernetes `version`, unknown fields refused.
fn validate(file: &Path, version: &str) -> Output {
    Command::new(python())
        .args([
            "-m",
            "kubernetes_validate",
            "--strict",
            "--quiet",
            "-k",
            version,
        ])
        .arg(file)
        .output()
        .expect("the venv's python runs")
}

#[test]
#[ignore = "needs kubernetes-validate from scripts/requirements-test.txt: run scripts/test.sh (sets BARRAGE_PYTHON)"]
fn every_shape_of_run_passes_the_api_schemas() {
    let (dir, scenario) = scenario_dir();
    let shapes: [(&str, &[&str]); 5] = [
        ("coordinator", &["--agents", "4", "--", "-t", "1m"]),
        (
            "existing-token",
            &[
                "--agents",
                "2",
                "--token-secret",
                "my-token",
                "-n",
                "perf",
                "--name",
                "checkout",
            ],
        ),
        (
            "coordinator-claims",
            &[
                "--agents",
                "3",
                "--data-claim",
                "data",
                "--results-claim",
                "results",
            ],
        ),
        (
            "segments",
            &[
                "--agents",
                "4",
                "--no-coordinator",
                "--results-claim",
                "results",
                "--start-at",
                "+10m",
                "--agent-cpu",
                "1500m",
                "--agent-memory",
                "512Mi",
            ],
        ),
        (
            "segments-data-claim",
            &[
                "--agents",
                "16",
                "--no-coordinator",
                "--results-claim",
                "r",
                "--data-claim",
                "d",
            ],
        ),
    ];
    for (shape, args) in shapes {
        let yaml = manifests(&scenario, args);
        let file = write(dir.path(), &format!("{shape}.yaml"), &yaml);
        for version in ["1.37.0", "1.25.0"] {
            let o = validate(&file, version);
            assert!(
                o.status.success(),
                "{shape} against {version}:\n{}{}\n{yaml}",
                String::from_utf8_lossy(&o.stdout),
                stderr(&o)
            );
        }
    }

    // The validator does refuse: the same manifests with one field misspelled fail.
    let yaml = manifests(&scenario, &["--agents", "4"]);
    assert!(yaml.contains("completionMode: Indexed"));
    let bad = write(
        dir.path(),
        "bad.yaml",
        &yaml.replace("completionMode: Indexed", "completionMod: Indexed"),
    );
    let o = validate(&bad, "1.37.0");
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("'completionMod' was unexpected"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn the_shapes_hold_the_objects_they_promise() {
    let (_dir, scenario) = scenario_dir();
    assert_eq!(
        kinds(&manifests(&scenario, &["--agents", "4"])),
        ["Secret", "ConfigMap", "Service", "Deployment", "Job"]
    );
    assert_eq!(
        kinds(&manifests(
            &scenario,
            &["--agents", "4", "--token-secret", "mine"]
        )),
        ["ConfigMap", "Service", "Deployment", "Job"]
    );
    let o = k8s(
        &scenario,
        &["--agents", "4", "--no-coordinator", "--results-claim", "r"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        kinds(&String::from_utf8_lossy(&o.stdout)),
        ["ConfigMap", "Job", "Pod"]
    );
    // The start time is said where the user sees it, and it is the one in the pods.
    let err = stderr(&o);
    let at = err
        .split("every segment starts at ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no start time in: {err}"));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("--start-at {at} ")),
        "{at}"
    );
}

#[test]
fn the_config_map_holds_the_files_the_pods_read_back_byte_for_byte() {
    let (_dir, scenario) = scenario_dir();
    let yaml = manifests(&scenario, &["--agents", "2"]);
    let docs = Yaml::load_from_str(&yaml).unwrap();
    let cm = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("ConfigMap"))
        .unwrap();
    assert_eq!(cm["data"]["load.yaml"].as_str(), Some(SCENARIO));
    assert_eq!(
        cm["data"]["data_users.csv"].as_str(),
        Some("id,name\n1,a\n2,b\n")
    );
    assert_eq!(cm["binaryData"]["photo.bin"].as_str(), Some("AP/+Bw=="));
}

#[test]
fn out_writes_one_file_per_object_in_apply_order() {
    let (dir, scenario) = scenario_dir();
    let out = dir.path().join("manifests");
    let args = ["--agents", "2", "--token-secret", "mine"];
    let o = k8s(
        &scenario,
        &[&args[..], &["--out", out.to_str().unwrap()]].concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "00-configmap-barrage-scenario.yaml",
            "01-service-barrage-coordinator.yaml",
            "02-deployment-barrage-coordinator.yaml",
            "03-job-barrage-agents.yaml",
        ]
    );
    let joined: String = names
        .iter()
        .map(|n| std::fs::read_to_string(out.join(n)).unwrap())
        .collect();
    assert_eq!(
        joined,
        manifests(&scenario, &args),
        "the same objects as on stdout"
    );
}

#[test]
fn what_cannot_go_into_the_pods_is_refused_with_the_fix() {
    let (dir, scenario) = scenario_dir();
    // Past a ConfigMap's 1 MiB: the data claim is the way.
    let mut big = String::from("id,name\n");
    while big.len() <= 1024 * 1024 {
        big.push_str("1234567,abcdefghijklmnopqrstuvwxyz\n");
    }
    write(dir.path(), "data/users.csv", &big);
    let o = k8s(&scenario, &["--agents", "2"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("more than a ConfigMap holds"), "{e}");
    assert!(e.contains("--data-claim"), "{e}");
    assert!(o.stdout.is_empty());
    // With the claim it goes through, and says what the claim must hold.
    let o = k8s(&scenario, &["--agents", "2", "--data-claim", "big"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("data/users.csv, photo.bin"),
        "{}",
        stderr(&o)
    );

    // A file outside the scenario's folder.
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let outside = write(
        dir.path(),
        "sub/outside.yaml",
        &SCENARIO
            .replace("data/users.csv", "../data/users.csv")
            .replace("photo.bin", "../photo.bin"),
    );
    let o = k8s(&outside, &["--agents", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("outside the scenario's folder"),
        "{}",
        stderr(&o)
    );

    // Segments need somewhere to leave their results.
    let o = k8s(&scenario, &["--agents", "2", "--no-coordinator"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--results-claim"), "{}", stderr(&o));

    // A scenario `barrage validate` refuses is refused the same way, with its diagnostics.
    let broken = write(
        dir.path(),
        "broken.yaml",
        "target: http://127.0.0.1:1\ntasks: 3\n",
    );
    let o = k8s(&broken, &["--agents", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("broken.yaml"), "{}", stderr(&o));

    for (args, says) in [
        (&["--agents", "2", "--name", "Load"][..], "--name `Load`"),
        (
            &["--agents", "2", "--agent-cpu", "lots"],
            "--agent-cpu `lots`",
        ),
        (
            &["--agents", "2", "--agent-memory", "1GB"],
            "--agent-memory `1GB`",
        ),
        (
            &[
                "--agents",
                "2",
                "--no-coordinator",
                "--results-claim",
                "r",
                "--start-at",
                "2020-01-01T00:00:00Z",
            ],
            "already past",
        ),
    ] {
        let o = k8s(&scenario, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
}
