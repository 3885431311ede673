//! Poisson arrivals end to end: `--arrivals poisson` and `load.arrivals: poisson` start the
//! rate's number of iterations with per-second counts that vary as a Poisson count does,
//! the load description says so, and a bad value or one without a rate is a located error
//! or a clear one. Bounded runs against the built-in target on loopback.

mod common;

use common::{barrage, read_json, run, run_scenario, stderr, write};

use barrage_target::{DemoOptions, DemoTarget};

const ROOT: &str = "users:\n  u:\n    tasks:\n      t:\n        - get: /\n";

fn by_second(doc: &serde_json::Value) -> Vec<u64> {
    doc["iterations_by_second"]
        .as_array()
        .expect("iterations_by_second")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "needs an optimized build; scripts/test.sh runs it optimized (--profile ci)"
)]
fn poisson_arrivals_start_the_rate_with_poisson_counts() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "root.yaml", ROOT);
    let out = dir.path().join("poisson.json");
    let o = run_scenario(
        &scenario,
        &["--rate", "200", "--arrivals", "poisson", "-t", "5s"],
        target.url(),
        &out,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = read_json(&out);
    // 1,000 expected; a Poisson count's standard deviation is 31.6: five of them.
    let started = doc["generator"]["iterations_started"].as_u64().unwrap();
    assert!(
        started.abs_diff(1000) <= 158,
        "{started} iterations started, 1,000 ± 158 expected"
    );
    assert_eq!(doc["generator"]["dropped_iterations"].as_u64(), Some(0));
    let model = doc["run"]["load"]["model"].as_str().unwrap();
    assert!(model.contains("Poisson arrivals"), "{model}");
    // Each second's count is Poisson(200): between 130 and 270 (five standard deviations),
    // and not all the same (as evenly spaced starts would give: 200 each).
    let seconds = by_second(&doc);
    assert_eq!(seconds.len(), 5, "{seconds:?}");
    assert_eq!(seconds.iter().sum::<u64>(), started);
    assert!(
        seconds.iter().all(|&n| (130..=270).contains(&n)),
        "{seconds:?}"
    );
    let first = seconds[0];
    assert!(seconds.iter().any(|&n| n != first), "{seconds:?}");

    // The same from the file, with the file's key.
    let file = write(
        dir.path(),
        "file.yaml",
        &format!("{ROOT}load:\n  rate: 200\n  duration: 2s\n  arrivals: poisson\n"),
    );
    let out = dir.path().join("file.json");
    let o = run_scenario(&file, &[], target.url(), &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = read_json(&out);
    let started = doc["generator"]["iterations_started"].as_u64().unwrap();
    // 400 expected, standard deviation 20.
    assert!(started.abs_diff(400) <= 100, "{started}");
    let model = doc["run"]["load"]["model"].as_str().unwrap();
    assert!(model.contains("Poisson arrivals"), "{model}");
}

#[test]
fn a_bad_arrivals_value_is_a_located_error_naming_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.yaml",
        &format!("{ROOT}load:\n  rate: 10\n  arrivals: bursty\n"),
    );
    for cmd in ["validate", "run"] {
        let o = run(barrage().arg(cmd).arg(&bad));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {err}");
        assert!(err.contains("bad.yaml:8:13"), "{err}");
        assert!(err.contains("not a choice for `arrivals`"), "{err}");
        assert!(err.contains("poisson"), "{err}");
    }
    let closed = write(
        dir.path(),
        "closed.yaml",
        &format!("{ROOT}load:\n  users: 2\n  arrivals: poisson\n"),
    );
    let o = run(barrage().arg("validate").arg(&closed));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("closed.yaml:8:3"), "{err}");
    assert!(err.contains("applies only to an arrival rate"), "{err}");

    let o = run(barrage()
        .args(["run", "--arrivals", "poisson", "-u", "1", "-t", "1s", "-H"])
        .arg("http://127.0.0.1:1")
        .arg(write(dir.path(), "root.yaml", ROOT)));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--arrivals applies only to an arrival rate"),
        "{err}"
    );
}
