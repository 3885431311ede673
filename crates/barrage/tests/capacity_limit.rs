//! The generator is never the limit unnoticed: a capacity search against nginx (far faster
//! than one barrage worker can drive) with `--workers 1` and a `--max-rate` no generator
//! reaches must end with the generator message and exit 3, not with a capacity that is
//! really barrage's own ceiling.
//!
//! Needs Debian's nginx (`BARRAGE_NGINX`, scripts/test.sh installs and sets it), so it is
//! ignored by a bare `cargo test`.

mod common;

use std::time::Duration;

use common::nginx::Nginx;
use common::{barrage, run_with_timeout, write};
use serde_json::Value;

#[test]
#[ignore = "needs Debian's nginx (BARRAGE_NGINX): run scripts/test.sh"]
fn a_search_past_what_one_worker_can_send_ends_with_the_generator_message() {
    let _one_at_a_time = common::serial();
    let nginx = Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "nginx.yaml",
        &format!(
            "target: {}\n\
             users:\n  hitter:\n    tasks:\n      root:\n        steps:\n          - get: /\n\
             load:\n  rate: 1\n  duration: 1s\n  max_users: 2000\n",
            nginx.url()
        ),
    );
    let out = dir.path().join("cap.json");
    let output = run_with_timeout(
        barrage()
            .arg("capacity")
            .arg(&scenario)
            // Cheap objectives nginx meets at any rate one worker can send.
            .args(["--slo", "p99<500ms", "--slo", "error_rate<1%"])
            .args(["--start-rate", "5000", "--max-rate", "2000000"])
            .args(["--step", "2s", "--warmup", "1s", "--workers", "1"])
            .arg("--only-summary")
            .arg("--json")
            .arg(&out),
        // From 5,000/s the probe reaches any one worker's ceiling within a handful of
        // 3-second steps; two minutes bounds a slow machine.
        Duration::from_secs(120),
    )
    .expect("barrage capacity finishes");
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(
        text.contains("the generator, not the service, is the limit"),
        "{text}"
    );

    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("the result file")).unwrap();
    let cap = &doc["capacity"];
    assert_eq!(cap["status"], "generator_limit", "{cap}");
    assert!(
        cap["message"]
            .as_str()
            .unwrap()
            .contains("the generator, not the service, is the limit"),
        "{cap}"
    );
    let steps = cap["steps"].as_array().expect("steps");
    let last = steps.last().expect("at least one step ran");
    assert_eq!(last["generator_limited"], true, "{last}");
    assert_eq!(last["passed"], false, "{last}");
    // The search stopped where the generator gave out, far below the maximum asked for,
    // and nginx failed no request on the way.
    assert!(last["level"].as_f64().unwrap() < 2_000_000.0, "{last}");
    for s in steps {
        assert_eq!(s["failures"], 0, "{s}");
    }
    drop(nginx);
}
