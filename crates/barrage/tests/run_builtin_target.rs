//! End-to-end runs of the `barrage` binary against the built-in demo target on loopback:
//! counts that match what the server saw, the result file's contract, failures by
//! category when the target is down, located scenario errors, `--debug`, `hit`, Ctrl-C.
//! Every run here is bounded by an iteration count or a short duration.

mod common;

use common::{barrage, endpoint, read_json, run, run_scenario, run_with_timeout, stderr, write};
use std::process::Command;
use std::time::Duration;

use barrage_target::{DemoOptions, DemoTarget};

const SHOP: &str = r#"
target: http://127.0.0.1:1
users:
  shopper:
    setup:
      - post: /login
        json: { username: u, password: p }
        save:
          token: '$.access_token'
    tasks:
      read:
        weight: 3
        steps:
          - get: "/items/Item {{ int(1, 100) }}"
            name: /items/[name]
      create:
        weight: 1
        steps:
          - post: /items/
            headers:
              authorization: "Bearer {{ token }}"
            json:
              name: "Item {{ int(1, 9) }}"
              price: "{{ float(1, 100, 2) }}"
            check:
              status: 201
              json:
                '$.id': exists
            save:
              id: '$.id'
          - get: "/items/{{ id }}"
"#;

#[test]
fn counts_match_what_the_target_served_and_the_result_file_keeps_its_contract() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "shop.yaml", SHOP);
    let out = dir.path().join("out.json");
    let o = run_scenario(
        &scenario,
        &["-u", "4", "--iterations", "200", "--workers", "2"],
        target.url(),
        &out,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = read_json(&out);
    let counts = target.counts();
    let served = |k: &str| counts.get(k).copied().unwrap_or(0);

    let login = endpoint(&doc, "POST", "/login");
    let reads = endpoint(&doc, "GET", "/items/[name]");
    let creates = endpoint(&doc, "POST", "/items/");
    let read_back = endpoint(&doc, "GET", "/items/{{ id }}");
    assert_eq!(login["requests"], 4, "setup runs once per user");
    assert_eq!(served("POST /login"), 4);
    assert_eq!(creates["requests"].as_u64(), Some(served("POST /items/")));
    assert_eq!(
        reads["requests"].as_u64().unwrap() + read_back["requests"].as_u64().unwrap(),
        served("GET /items/{name}")
    );
    assert_eq!(creates["requests"], read_back["requests"]);
    // 200 iterations in all: each is one read or one create (+ its read-back).
    assert_eq!(
        reads["requests"].as_u64().unwrap() + creates["requests"].as_u64().unwrap(),
        200
    );
    assert_eq!(doc["aggregate"]["failures"], 0);
    assert_eq!(
        doc["aggregate"]["requests"].as_u64().unwrap(),
        200 + 4 + creates["requests"].as_u64().unwrap()
    );
    let tasks: u64 = doc["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["iterations"].as_u64().unwrap())
        .sum();
    assert_eq!(tasks, 200);

    // The contract fields.
    assert_eq!(doc["version"], 2);
    for e in doc["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .chain([&doc["aggregate"]])
    {
        for key in ["scenario", "method", "name", "requests", "failures", "rps"] {
            assert!(!e[key].is_null(), "{key} missing in {e}");
        }
        for lat in ["response_time", "service_time"] {
            for key in [
                "min", "mean", "max", "p50", "p75", "p90", "p95", "p99", "p999",
            ] {
                assert!(e[lat][key].is_number(), "{lat}.{key} missing in {e}");
            }
        }
    }
    // Checks are counted under their names.
    let check = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"].as_str().unwrap().contains("$.id"))
        .expect("the $.id check is reported");
    assert_eq!(check["passes"], creates["requests"]);
    assert_eq!(check["fails"], 0);
}

#[test]
fn a_target_that_is_down_is_counted_by_category_and_the_run_fails() {
    // Bind and drop a listener: nothing listens on that port afterwards.
    let port = common::free_port();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "down.yaml",
        "users:\n  u:\n    think: 10ms\n    tasks:\n      t:\n        - get: /\n",
    );
    let out = dir.path().join("down.json");
    let o = run_scenario(
        &scenario,
        &["-u", "2", "-t", "1s"],
        format!("http://127.0.0.1:{port}"),
        &out,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = read_json(&out);
    let agg = &doc["aggregate"];
    assert!(agg["requests"].as_u64().unwrap() > 10);
    assert_eq!(agg["failures"], agg["requests"]);
    let f = &doc["failures"][0];
    assert_eq!(f["category"], "connect_refused");
    assert!(f["sample"].as_str().unwrap().contains("refused"), "{f}");
    assert!(stderr(&o).contains("connection refused") || stderr(&o).contains("connect_refused"));
}

#[test]
fn broken_scenarios_get_located_errors_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "misspelled.yaml",
            "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      t:\n        - get: /\n          tiemout: 1s\n",
            "misspelled.yaml:7:11",
            "timeout",
        ),
        (
            "duration.yaml",
            "target: http://127.0.0.1:1\ndefaults:\n  timeout: 10\nusers:\n  u:\n    tasks:\n      t:\n        - get: /\n",
            "duration.yaml:3:12",
            "10s",
        ),
        (
            "function.yaml",
            "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      t:\n        - get: \"/items/{{ rnd(1, 5) }}\"\n",
            "function.yaml:6:",
            "rnd",
        ),
        (
            "jsonpath.yaml",
            "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      t:\n        - get: /\n          save:\n            id: '$.[id'\n",
            "jsonpath.yaml:8:",
            "id",
        ),
        (
            "before.yaml",
            "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      t:\n        - get: \"/items/{{ id }}\"\n        - get: /\n          save:\n            id: '$.id'\n",
            "before.yaml:6:",
            "before",
        ),
    ];
    for (name, text, location, hint) in cases {
        let p = write(dir.path(), name, text);
        for cmd in ["validate", "run"] {
            let o = run(barrage().arg(cmd).arg(&p));
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{name} {cmd}: {err}");
            assert!(
                err.contains(location),
                "{name}: expected {location} in:\n{err}"
            );
            assert!(err.contains(hint), "{name}: expected {hint} in:\n{err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}

#[test]
fn debug_shows_each_request_response_and_saved_value() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "shop.yaml", SHOP);
    let o = run(barrage()
        .arg("run")
        .arg(&scenario)
        .arg("--debug")
        .arg("-H")
        .arg(target.url()));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("→ POST"), "{err}");
    assert!(err.contains("/login"), "{err}");
    assert!(err.contains("← 200"), "{err}");
    assert!(err.contains("← 201"), "{err}");
    assert!(err.contains("saved token = "), "{err}");
    assert!(err.contains("saved id = "), "{err}");
    // Bodies are shown even for steps that neither save nor check.
    assert!(err.contains("\"price\""), "{err}");
    // The space in "Item N" goes out percent-encoded.
    assert!(err.contains("/items/Item%20"), "{err}");
    // setup once, then each of the two tasks once: 1 + 1 + 2 requests.
    assert_eq!(target.counts().values().sum::<u64>(), 4);
}

#[test]
fn hit_sends_exactly_n_requests() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hit.json");
    let o = run(barrage()
        .arg("hit")
        .arg(format!("{}/items/", target.url()))
        .args([
            "-c",
            "3",
            "-n",
            "300",
            "-m",
            "POST",
            "-H",
            "content-type: application/json",
        ])
        // More workers than connections: a worker with no users must end at once.
        .args([
            "-b",
            r#"{"name": "x", "price": 2.5}"#,
            "--workers",
            "4",
            "--json",
        ])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(target.counts().get("POST /items/"), Some(&300));
    let doc = read_json(&out);
    assert_eq!(doc["aggregate"]["requests"], 300);
    assert_eq!(doc["endpoints"][0]["status_codes"]["201"], 300);
}

#[test]
fn local_addresses_and_pinned_workers() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hit.json");
    // 4 connections from two source addresses (loopback answers on all of 127/8), two
    // pinned workers. (`--only-summary` is checked in timing.rs, beside the live table.)
    let o = run(barrage()
        .arg("hit")
        .arg(format!("{}/", target.url()))
        .args(["-c", "4", "-n", "400", "--workers", "2", "--pin-workers"])
        .args(["--local-addresses", "127.0.0.2-127.0.0.3"])
        .arg("--json")
        .arg(&out));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let doc = read_json(&out);
    assert_eq!(doc["aggregate"]["requests"], 400);
    assert_eq!(target.counts().get("GET /"), Some(&400));
    assert_eq!(doc["connections"]["opened"], 4);
    assert_eq!(doc["run"]["workers"], 2);
    assert!(err.contains("2 worker threads"), "{err}");
    // A source address of the wrong family is a counted connection failure, not a crash.
    let o = run(barrage()
        .arg("hit")
        .arg(format!("{}/", target.url()))
        .args(["-n", "3", "-c", "1", "--local-addresses", "::1"]));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no --local-addresses entry"),
        "{}",
        stderr(&o)
    );
    // A malformed list is a usage error.
    let o = run(barrage()
        .arg("hit")
        .arg(format!("{}/", target.url()))
        .args(["--local-addresses", "127.0.0.9-127.0.0.2"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("runs downward"), "{}", stderr(&o));
}

#[test]
fn ctrl_c_stops_gracefully_and_still_writes_the_result() {
    let target = DemoTarget::start(DemoOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "shop.yaml", SHOP);
    let out = dir.path().join("int.json");
    let mut child = barrage()
        .arg("run")
        .arg(&scenario)
        .args(["-u", "5", "-t", "30s", "-H"])
        .arg(target.url())
        .arg("--json")
        .arg(&out)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("barrage did not stop within 20 s of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    let doc = read_json(&out);
    assert_eq!(doc["run"]["interrupted"], true);
    let served: u64 = target.counts().values().sum();
    assert!(served > 0);
    // A graceful stop lets in-flight requests finish: every request the target answered
    // was counted.
    assert_eq!(doc["aggregate"]["requests"].as_u64(), Some(served));
}

#[test]
fn data_rows_are_bound_per_user_or_drawn_in_order() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "accounts.csv",
        "username,password\nalice,a1\nbob,b2\ncarol,c3\n",
    );
    write(
        dir.path(),
        "skus.json",
        r#"[{"sku": "S-1"}, {"sku": "S-2"}]"#,
    );
    let scenario = write(
        dir.path(),
        "data.yaml",
        r#"
data:
  accounts:
    file: accounts.csv
  skus:
    file: skus.json
    order: sequential
users:
  u:
    setup:
      - post: /login
        json:
          username: "{{ accounts.username }}"
          password: "{{ accounts.password }}"
    tasks:
      first:
        - get: "/items/{{ skus.sku }}-{{ accounts.username }}"
      second:
        - get: "/items/{{ skus.sku }}-{{ accounts.username }}"
"#,
    );
    let o = run(barrage()
        .arg("run")
        .arg(&scenario)
        .arg("--debug")
        .arg("-H")
        .arg(target.url()));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    // User 1 takes row 1 of its per-user source; the sequential source advances per iteration.
    assert!(err.contains(r#""username":"alice""#), "{err}");
    assert!(err.contains("/items/S-1-alice"), "{err}");
    assert!(err.contains("/items/S-2-alice"), "{err}");
}

#[test]
fn tls_to_a_plain_http_port_is_counted_as_a_tls_failure() {
    // A server that answers anything, a TLS hello included, with plain HTTP and hangs up.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(3) {
            use std::io::Write;
            let mut s = stream.unwrap();
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let url = format!("https://{addr}/");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tls.json");
    let o = run(barrage()
        .args(["hit", &url, "-c", "1", "-n", "3", "--insecure", "--json"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = read_json(&out);
    assert_eq!(doc["aggregate"]["failures"], 3);
    assert_eq!(doc["failures"][0]["category"], "tls", "{}", doc["failures"]);
}

#[test]
fn a_login_the_service_always_refuses_still_ends_a_run_bounded_by_iterations() {
    // Without a duration only the iterations bound the run; every user's setup fails, so
    // no iteration ever starts. Each retry of a failed setup uses one up: 2 first
    // attempts, then 3 retries (one per iteration), and the run ends.
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "refused.yaml",
        r#"
users:
  u:
    setup:
      - post: /login
        json:
          username: nobody
    tasks:
      t:
        - get: /
"#,
    );
    let out = dir.path().join("refused.json");
    let o = run_scenario(
        &scenario,
        &["-u", "2", "--iterations", "3", "--workers", "1"],
        target.url(),
        &out,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = read_json(&out);
    let login = endpoint(&doc, "POST", "/login");
    assert_eq!(login["requests"], 5, "{login}");
    assert_eq!(login["failures"], 5, "{login}");
    assert_eq!(target.counts().get("POST /login"), Some(&5));
    assert_eq!(target.counts().get("GET /").copied().unwrap_or(0), 0);
}

#[test]
fn requests_that_fail_before_any_io_still_end_a_timed_run_on_time() {
    // A header rendered from a data row that may not go in a header: every request fails
    // as it is built, so a user without think time never waits on anything. It must
    // still give its worker's timers a turn (the run's end is one), and the run ends at
    // its duration with every attempt counted.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "rows.csv", "v\n\"a\nb\"\n");
    let scenario = write(
        dir.path(),
        "unbuilt.yaml",
        r#"
data:
  rows: { file: rows.csv }
users:
  u:
    tasks:
      t:
        - get: /
          headers:
            x-bad: "{{ rows.v }}"
"#,
    );
    let out = dir.path().join("unbuilt.json");
    let o = run_with_timeout(
        barrage()
            .arg("run")
            .arg(&scenario)
            .args([
                "-u",
                "2",
                "-t",
                "1s",
                "--workers",
                "1",
                "-H",
                "http://127.0.0.1:9",
            ])
            .arg("--json")
            .arg(&out),
        Duration::from_secs(30),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = read_json(&out);
    let failures = doc["aggregate"]["failures"].as_u64().unwrap();
    assert!(failures > 100, "{}", doc["aggregate"]);
    assert_eq!(doc["aggregate"]["requests"].as_u64(), Some(failures));
    let duration = doc["run"]["duration_s"].as_f64().unwrap();
    assert!((0.9..3.0).contains(&duration), "ran {duration} s");
}

#[test]
fn redirects_are_followed_and_cookies_kept_per_user() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "jar.yaml",
        r#"
users:
  u:
    setup:
      - get: /__barrage/session
    tasks:
      t:
        - get: /__barrage/me
          check:
            status: 200
        - get: /__barrage/redirect
          check:
            status: 200
            json:
              '$.message': Hello World
        - get: /__barrage/me
          name: me with its own cookie
          headers:
            cookie: "extra=1"
          check:
            status: 200
"#,
    );
    let out = dir.path().join("jar.json");
    let o = run_scenario(
        &scenario,
        &["-u", "3", "--iterations", "30"],
        target.url(),
        &out,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = read_json(&out);
    assert_eq!(endpoint(&doc, "GET", "/__barrage/me")["requests"], 30);
    assert_eq!(endpoint(&doc, "GET", "/__barrage/me")["failures"], 0);
    // A step's own `cookie` header is kept and the jar's cookies are added to it.
    let own = endpoint(&doc, "GET", "me with its own cookie");
    assert_eq!(
        (own["requests"].as_u64(), own["failures"].as_u64()),
        (Some(30), Some(0))
    );
    // Each redirect ends at `/`, which the target counts.
    assert_eq!(target.counts()["GET /"], 30);

    // Without the jar, the session cookie is not sent back: every `me` fails with 401.
    let no_jar = write(
        dir.path(),
        "nojar.yaml",
        &std::fs::read_to_string(&scenario)
            .unwrap()
            .replace("users:", "defaults:\n  cookies: false\nusers:"),
    );
    let o = run_scenario(
        &no_jar,
        &["-u", "1", "--iterations", "5"],
        target.url(),
        &out,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = read_json(&out);
    let me = endpoint(&doc, "GET", "/__barrage/me");
    assert_eq!(me["failures"], 5);
    assert_eq!(me["status_codes"]["401"], 5);
}

#[test]
fn a_known_delay_shows_in_the_percentiles_and_a_short_timeout_cuts_it_off() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "delay.yaml",
        r#"
users:
  u:
    tasks:
      slow:
        - get: /__barrage/delay/40
      too_slow:
        - get: /__barrage/delay/400
          timeout: 100ms
"#,
    );
    let out = dir.path().join("delay.json");
    let o = run_scenario(
        &scenario,
        &["-u", "4", "--iterations", "60"],
        target.url(),
        &out,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc = read_json(&out);
    let slow = endpoint(&doc, "GET", "/__barrage/delay/40");
    assert_eq!(slow["failures"], 0);
    // The server sleeps 40 ms: no percentile can be below it, and on loopback the rest
    // is well under 40 ms more even in a debug build.
    for p in ["min", "p50", "p99", "max"] {
        let ms = slow["response_time"][p].as_f64().unwrap();
        assert!((40.0..80.0).contains(&ms), "{p} = {ms} ms");
        let ms = slow["service_time"][p].as_f64().unwrap();
        assert!((40.0..80.0).contains(&ms), "service {p} = {ms} ms");
    }
    let cut = endpoint(&doc, "GET", "/__barrage/delay/400");
    assert!(cut["requests"].as_u64().unwrap() > 0);
    assert_eq!(cut["failures"], cut["requests"]);
    assert_eq!(
        cut["failures_by_category"]["response_timeout"],
        cut["requests"]
    );
}

#[test]
fn ctrl_c_twice_stops_at_once_and_counts_cut_requests_as_interrupted() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "slow.yaml",
        "users:\n  u:\n    tasks:\n      t:\n        - get: /__barrage/delay/20000\n",
    );
    let out = dir.path().join("hard.json");
    let mut child = barrage()
        .arg("run")
        .arg(&scenario)
        .args(["-u", "3", "-t", "60s", "--stop-timeout", "60s", "-H"])
        .arg(target.url())
        .arg("--json")
        .arg(&out)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    std::thread::sleep(Duration::from_millis(1000));
    let pid = child.id().to_string();
    for _ in 0..2 {
        assert!(Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        std::thread::sleep(Duration::from_millis(300));
    }
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "a second Ctrl-C must not wait for the 20 s requests"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    let doc = read_json(&out);
    assert_eq!(doc["run"]["interrupted"], true);
    let e = endpoint(&doc, "GET", "/__barrage/delay/20000");
    // The three requests in flight were cut off: neither successes nor failures.
    assert_eq!(e["interrupted"], 3, "{e}");
    assert_eq!(e["requests"], 0, "{e}");
}

#[test]
fn requests_cut_off_by_the_stop_timeout_are_interrupted_not_failed() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = |ms: u64| {
        write(
            dir.path(),
            &format!("slow{ms}.yaml"),
            &format!("users:\n  u:\n    tasks:\n      t:\n        - get: /__barrage/delay/{ms}\n          name: /slow\n"),
        )
    };
    // Three users each send one 5 s request at the start; the run ends at 1 s and gives
    // them 500 ms: all three are cut off at 1.5 s, 3.5 s before they would have finished.
    let out = dir.path().join("cut.json");
    let started = std::time::Instant::now();
    let o = run_scenario(
        &scenario(5000),
        &["-u", "3", "-t", "1s", "--stop-timeout", "500ms"],
        target.url(),
        &out,
    );
    let took = started.elapsed();
    // Not one request succeeded, and a run in which none did fails.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(took < Duration::from_secs(4), "not waited for: {took:?}");
    let doc = read_json(&out);
    let e = endpoint(&doc, "GET", "/slow");
    assert_eq!(
        counts(e),
        (3, 0, 0),
        "(interrupted, requests, failures): {e}"
    );
    assert_eq!(
        doc["run"]["interrupted"], false,
        "a stop timeout is not a Ctrl-C"
    );

    // The same with 1.5 s requests and the default stop timeout (10 s): they finish, and
    // count as requests.
    let o = run_scenario(
        &scenario(1500),
        &["-u", "3", "-t", "1s"],
        target.url(),
        &out,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = read_json(&out);
    let e = endpoint(&doc, "GET", "/slow");
    assert_eq!(
        counts(e),
        (0, 3, 0),
        "(interrupted, requests, failures): {e}"
    );
}

/// An endpoint's (interrupted, requests, failures).
fn counts(e: &serde_json::Value) -> (u64, u64, u64) {
    let n = |k: &str| {
        e[k].as_u64()
            .unwrap_or_else(|| panic!("no count `{k}` in {e}"))
    };
    (n("interrupted"), n("requests"), n("failures"))
}

#[test]
fn a_server_that_closes_kept_alive_connections_is_neither_failed_nor_counted_twice() {
    // Answers each connection's first request as if keeping it alive (no `connection:
    // close`), then hangs up: every later request on it must go out on a new connection,
    // once, and succeed.
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(AtomicU64::new(0));
    let counter = served.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            if got.windows(4).any(|w| w == b"\r\n\r\n") {
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "close.yaml",
        "users:\n  u:\n    think: 20ms\n    tasks:\n      t:\n        - get: /\n",
    );
    let out = dir.path().join("close.json");
    let o = run_scenario(
        &scenario,
        &["-u", "3", "--iterations", "60"],
        format!("http://{addr}"),
        &out,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = read_json(&out);
    assert_eq!(doc["aggregate"]["requests"], 60);
    assert_eq!(doc["aggregate"]["failures"], 0);
    assert_eq!(served.load(Ordering::SeqCst), 60);
    assert_eq!(
        doc["connections"]["opened"], 60,
        "one connection per request here"
    );
}

#[test]
fn absurd_load_numbers_are_refused_or_run_without_a_panic() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let body =
        "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      t:\n        - get: /\nload:\n";
    for (name, load, codes) in [
        (
            "slow_spawn",
            "  users: 2\n  spawn_rate: 1e-300\n  duration: 1s\n",
            [0, 0],
        ),
        ("slow_rate", "  rate: 1e-300\n  duration: 1s\n", [0, 0]),
        (
            "huge_stage",
            "  stages: [ { duration: 1s, target: 1e15 } ]\n",
            [2, 2],
        ),
        ("huge_rate", "  rate: 1e300\n  duration: 1s\n", [2, 2]),
    ] {
        let p = write(
            dir.path(),
            &format!("{name}.yaml"),
            &format!("{body}{load}"),
        );
        for (cmd, code) in ["validate", "run"].iter().zip(codes) {
            let mut c = barrage();
            c.arg(cmd).arg(&p);
            if *cmd == "run" {
                c.arg("-H").arg(target.url());
            }
            let o = run(&mut c);
            let err = stderr(&o);
            assert!(!err.contains("panicked"), "{name} {cmd}: {err}");
            if code == 2 {
                assert_eq!(o.status.code(), Some(2), "{name} {cmd}: {err}");
            } else {
                assert!(
                    matches!(o.status.code(), Some(0) | Some(1)),
                    "{name} {cmd}: {err}"
                );
            }
        }
    }
}

/// A loopback server thread answering each request on its connections with the next of
/// `answers` (then closing), and handing back every request it read (head and body).
fn scripted(answers: Vec<String>) -> (u16, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for answer in answers {
            let (sock, _) = listener.accept().unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut reader = BufReader::new(sock.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_string)
                })
                .map_or(0, |n| n.trim().parse::<usize>().unwrap());
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            head.push_str("\r\n");
            head.push_str(&String::from_utf8_lossy(&body));
            seen.push(head);
            (&sock).write_all(answer.as_bytes()).unwrap();
        }
        seen
    });
    (port, handle)
}

#[test]
fn redirect_hops_to_another_origin_leave_the_steps_host_credentials_and_body_behind() {
    // POST -> 302 to another origin (a GET without the body) -> 307 there (repeats that
    // GET: still no body) -> 200.
    let (second, second_seen) = scripted(vec![
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: /final\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".into(),
    ]);
    let (first, first_seen) = scripted(vec![format!(
        "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{second}/next\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )]);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "hops.yaml",
        &format!(
            "users:\n  u:\n    tasks:\n      t:\n        - post: http://127.0.0.1:{first}/start\n          headers:\n            host: api.example\n            authorization: Bearer secret\n          json:\n            name: x\n"
        ),
    );
    let out = dir.path().join("hops.json");
    let o = run(barrage()
        .arg("run")
        .arg(&scenario)
        .args(["--iterations", "1", "-u", "1", "--workers", "1", "--json"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let first_seen = first_seen.join().unwrap();
    let second_seen = second_seen.join().unwrap();
    assert!(first_seen[0].starts_with("POST /start "), "{first_seen:?}");
    assert!(
        first_seen[0].contains("host: api.example\r\n"),
        "{first_seen:?}"
    );
    assert!(
        first_seen[0].ends_with("{\"name\":\"x\"}"),
        "{first_seen:?}"
    );
    for hop in &second_seen {
        assert!(hop.starts_with("GET /"), "{second_seen:?}");
        let own_host = format!("host: 127.0.0.1:{second}\r\n");
        assert!(hop.contains(&own_host), "{second_seen:?}");
        assert!(!hop.contains("api.example"), "{second_seen:?}");
        assert!(!hop.contains("authorization"), "{second_seen:?}");
        assert!(!hop.contains("content-type"), "{second_seen:?}");
        assert!(hop.ends_with("\r\n\r\n"), "no body: {second_seen:?}");
    }
    assert!(second_seen[1].starts_with("GET /final "), "{second_seen:?}");
}

#[test]
fn a_step_sent_again_sends_the_same_bytes_until_the_jar_has_cookies() {
    // Three iterations of a fixed POST, a fixed GET the server redirects, and a fixed
    // GET whose second answer sets a cookie. A user sends each step's own bytes again,
    // rendered once (`Vu::build`): they must be the step's, not the last step's nor a
    // redirect's, and once the jar holds a cookie every request must carry it.
    let ok = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
    let moved = "HTTP/1.1 302 Found\r\nlocation: /landing\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    let cookie = "HTTP/1.1 200 OK\r\nset-cookie: s=1; Path=/\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
    let mut answers = Vec::new();
    for iteration in 0..3 {
        answers.extend([ok, moved, ok, if iteration == 1 { cookie } else { ok }]);
    }
    let (port, seen) = scripted(answers.into_iter().map(String::from).collect());
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "again.yaml",
        "users:\n  u:\n    tasks:\n      t:\n        - post: /a\n          headers:\n            x-step: a\n          json:\n            name: x\n        - get: /b\n        - get: /c\n",
    );
    let out = dir.path().join("again.json");
    let o = run_scenario(
        &scenario,
        &["-u", "1", "--workers", "1", "--iterations", "3"],
        format!("http://127.0.0.1:{port}"),
        &out,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let seen = seen.join().unwrap();
    assert_eq!(seen.len(), 12, "{seen:?}");
    let (a, b, landing, c) = (&seen[0], &seen[1], &seen[2], &seen[3]);
    assert!(
        a.starts_with("POST /a ") && a.ends_with("{\"name\":\"x\"}"),
        "{a}"
    );
    assert!(a.contains("x-step: a\r\n"), "{a}");
    assert!(b.starts_with("GET /b "), "{b}");
    assert!(landing.starts_with("GET /landing "), "{landing}");
    assert!(c.starts_with("GET /c "), "{c}");
    // The second iteration: the same four requests, byte for byte.
    assert_eq!(&seen[0..4], &seen[4..8]);
    // The third: the cookie set by the second `/c` goes with each, and nothing else changed.
    for (first, third) in seen[0..4].iter().zip(&seen[8..12]) {
        assert!(third.contains("cookie: s=1\r\n"), "{third}");
        assert_eq!(&third.replace("cookie: s=1\r\n", ""), first);
        assert!(!first.contains("cookie"), "{first}");
    }
}
