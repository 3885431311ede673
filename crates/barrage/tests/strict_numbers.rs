//! Numbers no run can use are refused where they are written, with exit 2 (issue #16 item
//! 5): a threshold limit past f64's range, a result file whose counts do not add up (in
//! either file of a compare), a zero run length or timeout on the command line and in the
//! scenario file. The one run here goes to a demo target on 127.0.0.1, 40 requests.

mod common;

use std::path::Path;

use common::{barrage, read_json, run, stderr, write};

use barrage_target::{DemoOptions, DemoTarget};

/// A real result file of 40 requests, written to `dir/good.json`.
fn good_result(dir: &Path) -> std::path::PathBuf {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let json = dir.join("good.json");
    let o = run(barrage()
        .arg("hit")
        .arg(target.url())
        .args(["-c", "2", "-n", "40", "--json"])
        .arg(&json));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    json
}

#[test]
fn a_limit_past_the_range_of_numbers_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let json = good_result(dir.path());
    let huge = format!("1{}", "0".repeat(309));
    let o = run(barrage()
        .arg("report")
        .arg(&json)
        .args(["--threshold", &format!("requests < {huge}")]));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    // The 310-digit number is cut in the message and the snippet, located all the same.
    assert!(err.contains("` is too large to be a limit"), "{err}");
    assert!(err.contains("--threshold:1:12"), "{err}");
    assert!(!err.contains("inf"), "never judged as infinity: {err}");
}

#[test]
fn compare_checks_both_files_and_says_which_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_result(dir.path());
    let mut doc = read_json(&good);
    doc["endpoints"][0]["failures"] = 41.into();
    let bad = write(dir.path(), "bad.json", &doc.to_string());
    for (base, new) in [(&bad, &good), (&good, &bad)] {
        let o = run(barrage().arg("compare").arg(base).arg(new));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!(
                "{}: the numbers do not add up at endpoints[0] (GET /): `failures` (41) is \
                 greater than `requests` (40)",
                bad.display()
            )),
            "{err}"
        );
    }
    // `report` reads through the same check.
    let o = run(barrage().arg("report").arg(&bad));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`failures` (41) is greater than `requests` (40)"));
}

#[test]
fn zero_lengths_and_timeouts_are_refused_on_the_command_line_and_in_the_file() {
    for args in [
        &["hit", "http://127.0.0.1:9/", "-d", "0s"][..],
        &["hit", "http://127.0.0.1:9/", "--timeout", "0ms"][..],
    ] {
        let o = run(barrage().args(args));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("is zero; write a length above zero"), "{err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let s = write(
        dir.path(),
        "s.yaml",
        "load: { users: 1, duration: 0s }\ntasks: { t: [ { get: / } ] }\n",
    );
    let o = run(barrage().arg("validate").arg(&s));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("a duration of zero is not allowed here"),
        "{err}"
    );
    assert!(err.contains("s.yaml:1:29"), "{err}");
}
