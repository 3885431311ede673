//! `barrage merge`, end to end: three runs of one scenario against the built-in target on
//! loopback, marked as the segments 1/3 .. 3/3 of one split run (their `run.segment` set in
//! the file, as `run --segment` writes it), merged: the counts equal what the target
//! served, the percentiles those of one histogram fed every run's samples, a threshold is
//! judged again on the merged run (exit 1 when it fails there only), refusals exit 2, and
//! the CSV, JUnit, Markdown and HTML outputs are written from the merged run. Every run is
//! bounded by an iteration count.

mod common;

use std::path::{Path, PathBuf};

use barrage_metrics::{decode_histogram, new_histogram, ResultDoc};
use barrage_target::{DemoOptions, DemoTarget};
use common::{barrage, endpoint, read_json, run, run_scenario, stderr, write};

const SCENARIO: &str = r#"
target: http://127.0.0.1:1
users:
  reader:
    tasks:
      read:
        weight: 3
        steps:
          - get: "/items/Item {{ int(1, 50) }}"
            name: /items/[name]
      home:
        weight: 1
        steps:
          - get: /
"#;

const ITERATIONS: u64 = 120;

/// Three runs marked as the segments of one split run, with `requests<200` judged in
/// each (it passes there: each run has 120 requests).
fn three_segments(dir: &Path, target: &DemoTarget) -> Vec<PathBuf> {
    let scenario = write(dir, "reader.yaml", SCENARIO);
    (1..=3)
        .map(|i| {
            let out = dir.join(format!("seg{i}.json"));
            let o = run_scenario(
                &scenario,
                &[
                    "-u",
                    "2",
                    "--iterations",
                    &ITERATIONS.to_string(),
                    "--threshold",
                    "requests<200",
                ],
                target.url(),
                &out,
            );
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            let mut doc = read_json(&out);
            doc["run"]["segment"] = serde_json::json!({ "index": i, "count": 3 });
            std::fs::write(&out, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
            out
        })
        .collect()
}

fn merge(files: &[PathBuf], args: &[&str]) -> std::process::Output {
    run(barrage().arg("merge").args(files).args(args))
}

#[test]
fn merged_counts_equal_the_targets_and_outputs_are_written_from_the_merged_run() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = three_segments(dir.path(), &target);
    let out = dir.path().join("run.json");
    let csv = dir.path().join("merged");
    let junit = dir.path().join("junit.xml");
    let md = dir.path().join("summary.md");
    let html = dir.path().join("report.html");

    // `requests<200` passed in every segment; on the merged run (360 requests) it fails.
    let o = merge(
        &files,
        &[
            "--json",
            out.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
            "--summary-md",
            md.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("Merged 3 result files (3 generators"), "{err}");
    assert!(
        err.contains("Thresholds: FAILED on the merged run (1 of 1 failed)"),
        "{err}"
    );

    let doc = read_json(&out);
    let counts = target.counts();
    let served = |k: &str| counts.get(k).copied().unwrap_or(0);
    let reads = endpoint(&doc, "GET", "/items/[name]")["requests"]
        .as_u64()
        .unwrap();
    let lists = endpoint(&doc, "GET", "/")["requests"].as_u64().unwrap();
    assert_eq!(reads, served("GET /items/{name}"));
    assert_eq!(lists, served("GET /"));
    assert_eq!(reads + lists, 3 * ITERATIONS);
    assert_eq!(doc["aggregate"]["requests"], 3 * ITERATIONS);
    assert_eq!(doc["aggregate"]["failures"], 0);
    let tasks: u64 = doc["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["iterations"].as_u64().unwrap())
        .sum();
    assert_eq!(tasks, 3 * ITERATIONS);
    let series: u64 = doc["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(series, 3 * ITERATIONS);
    let windows: u64 = doc["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["aggregate"]["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(windows, 3 * ITERATIONS);

    // Each generator under its name; no segment on the merged run; the verdict replaced.
    let names: Vec<&str> = doc["generators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["segment 1/3", "segment 2/3", "segment 3/3"]);
    assert!(doc["run"].get("segment").is_none());
    assert_eq!(doc["thresholds"][0]["expr"], "requests<200");
    assert_eq!(doc["thresholds"][0]["observed"], 360.0);
    assert_eq!(doc["thresholds"][0]["passed"], false);

    // The merged percentiles are those of one histogram fed every run's samples.
    let merged = ResultDoc::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let mut all = new_histogram();
    for f in &files {
        let d = ResultDoc::from_json(&std::fs::read_to_string(f).unwrap()).unwrap();
        all.add(decode_histogram(&d.histograms.aggregate.response_time).unwrap())
            .unwrap();
    }
    assert_eq!(merged.aggregate.response_time.count, 3 * ITERATIONS);
    assert_eq!(
        merged.aggregate.response_time.p99,
        all.value_at_quantile(0.99) as f64 / 1e6
    );
    assert_eq!(
        merged.aggregate.response_time.p50,
        all.value_at_quantile(0.5) as f64 / 1e6
    );
    assert_eq!(merged.aggregate.response_time.max, all.max() as f64 / 1e6);

    // The other outputs, from the merged run.
    let stats = std::fs::read_to_string(dir.path().join("merged_stats.csv")).unwrap();
    let aggregated = stats
        .lines()
        .find(|l| l.contains("Aggregated"))
        .expect("an Aggregated row");
    assert!(aggregated.contains(",360,0,"), "{aggregated}");
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(
        junit.contains("requests&lt;200") || junit.contains("requests<200"),
        "{junit}"
    );
    assert!(junit.contains("failures=\"1\""), "{junit}");
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("360"), "{md}");
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(
        html.contains("\"name\":\"Aggregated\",\"requests\":360,"),
        "the report's data is the merged run's"
    );

    // `barrage report` reads the merged file back.
    let o = run(barrage().arg("report").arg(&out));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // A threshold that fails in each segment (120 requests) passes on the merged run, and
    // the stored one is judged with it.
    let o = merge(&files, &["--threshold", "requests>=300"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "requests<200 still fails: {err}");
    assert!(err.contains("1 of 2 failed"), "{err}");
}

#[test]
fn a_threshold_passes_on_the_merged_run_only_and_refusals_exit_2() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = three_segments(dir.path(), &target);
    // Without the segments' own `requests<200`, `requests>=300` alone decides.
    let stripped: Vec<PathBuf> = files
        .iter()
        .map(|f| {
            let mut doc = read_json(f);
            doc["thresholds"] = serde_json::json!([]);
            let p = f.with_extension("plain.json");
            std::fs::write(&p, serde_json::to_string(&doc).unwrap()).unwrap();
            p
        })
        .collect();
    let o = merge(&stripped, &["--threshold", "requests>=300"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("Thresholds: PASSED on the merged run"),
        "{err}"
    );

    // Two of three: merged, with a warning.
    let o = merge(&stripped[..2], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains(
            "warning: segment 3/3 missing: the merged run holds 2 of 3 shares of the load"
        ),
        "{err}"
    );

    // The same segment twice.
    let o = merge(&[files[0].clone(), files[1].clone(), files[0].clone()], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("are the same run") || err.contains("are both segment 1/3"),
        "{err}"
    );

    // Another scenario.
    let mut other = read_json(&files[2]);
    other["run"]["scenario_sha256"] = serde_json::json!("0".repeat(64));
    let other_path = write(dir.path(), "other.json", &other.to_string());
    let o = merge(&[files[0].clone(), files[1].clone(), other_path], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("ran different scenarios"), "{err}");

    // Without thresholds the merged run fails as one run would: on a failed request.
    let failing = write(
        dir.path(),
        "failing.yaml",
        "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      t:\n        steps:\n          - get: /\n          - get: /missing\n",
    );
    let halves: Vec<PathBuf> = (1..=2)
        .map(|i| {
            let out = dir.path().join(format!("failing{i}.json"));
            let o = run_scenario(&failing, &["--iterations", "5"], target.url(), &out);
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
            let mut doc = read_json(&out);
            doc["run"]["segment"] = serde_json::json!({ "index": i, "count": 2 });
            std::fs::write(&out, doc.to_string()).unwrap();
            out
        })
        .collect();
    let o = merge(&halves, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Result: FAILED (10 of 20 requests failed"),
        "{err}"
    );

    // Not a result file.
    let junk = write(dir.path(), "junk.json", "{\"version\": 2}");
    let o = merge(&[files[0].clone(), junk], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("junk.json: not a barrage result file"),
        "{err}"
    );
}
