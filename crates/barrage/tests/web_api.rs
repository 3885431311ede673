//! The web UI's HTTP API, driven as a Locust script drives Locust's (plain HTTP over
//! loopback, no browser): `POST /swarm` (to start, and mid-run to change the users),
//! `GET /stats/requests` while the run goes on, `GET /stop`, and the numbers at the end
//! equal to the result file's; a bad host answered with its diagnostic while the page stays
//! ready; the security rules (a non-loopback bind without a token, tokens a cookie cannot
//! hold, 401 without the token, the cookie from `?token=`, 403 for another site's Origin,
//! the token never shown); `--web --headless`; Ctrl-C before the start; event streams that
//! see the end before the process exits, and one that never reads holding nothing up. Load
//! goes to the demo target on 127.0.0.1 only, and every run is bounded by its run time.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use barrage_target::{DemoOptions, DemoTarget};
use common::{barrage, read_json, run, stderr, write, ChildGuard};
use serde_json::Value;

const GETS: &str = r#"
target: http://127.0.0.1:1
load:
  users: 1
  duration: 60s
users:
  reader:
    think: 10ms
    tasks:
      home:
        - get: /
      one:
        - get: "/items/Item {{ int(1, 3) }}"
          name: /items/[name]
"#;

/// One HTTP/1.1 exchange on a fresh connection: status, head (lower-cased) and body.
fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, Vec<u8>) {
    let timeout = Duration::from_secs(10);
    let mut s = TcpStream::connect_timeout(&addr, timeout).unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut response = Vec::new();
    s.read_to_end(&mut response).unwrap();
    let head_end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..head_end]).to_lowercase();
    let (status, body) = common::parse_response(&response).expect("an HTTP response");
    (status, head, body)
}

fn json(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let (status, _, body) = call(addr, method, path, headers, body);
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{path}: {e}: {}", String::from_utf8_lossy(&body)));
    (status, v)
}

/// Starts `barrage ARGS --web --web-port 0` and waits for its `Web UI: http://ADDR/` line.
fn serve(args: &[&str], dir: &Path) -> (ChildGuard, SocketAddr) {
    let (child, url) = common::serve_web(args, dir);
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    (child, addr)
}

fn wait_exit(child: &mut ChildGuard, within: Duration) -> i32 {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.exited() {
            return status.code().unwrap_or(-1);
        }
        assert!(
            Instant::now() < deadline,
            "barrage did not end\n{}",
            child.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn aggregated(stats: &Value) -> u64 {
    stats["stats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Aggregated")
        .expect("an Aggregated entry")["num_requests"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_locust_script_swarms_watches_and_stops_and_the_numbers_equal_the_result_file() {
    let target = DemoTarget::start(DemoOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "gets.yaml", GETS);
    let out = dir.path().join("out.json");
    let (mut child, addr) = serve(
        &[
            "run",
            scenario.to_str().unwrap(),
            "--autoquit",
            "60",
            "--json",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    let (status, view) = json(addr, "GET", "/api/view", &[], "");
    assert_eq!(status, 200);
    assert_eq!(view["state"], "ready");
    assert_eq!(view["form"]["scenarios"][0]["users"], 1);
    assert_eq!(view["form"]["run_time_s"], 60.0);
    // A host that is no URL: the scenario's diagnostic, and the page is still ready.
    let (status, refused) = json(
        addr,
        "POST",
        "/api/start",
        &[("content-type", "application/json")],
        r#"{"host": "ftp://nowhere"}"#,
    );
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("ftp://nowhere"),
        "{refused}"
    );
    assert_eq!(json(addr, "GET", "/api/view", &[], "").1["state"], "ready");

    let form = format!(
        "user_count=2&spawn_rate=2&host={}",
        target.url().replace(':', "%3A").replace('/', "%2F")
    );
    let (status, swarm) = json(
        addr,
        "POST",
        "/swarm",
        &[("content-type", "application/x-www-form-urlencoded")],
        &form,
    );
    assert_eq!(status, 200, "{swarm}");
    assert_eq!(swarm["success"], true);
    assert_eq!(swarm["message"], "Swarming started");
    assert_eq!(swarm["host"], target.url());
    let (status, again) = json(
        addr,
        "POST",
        "/api/start",
        &[("content-type", "application/json")],
        "{}",
    );
    assert_eq!(status, 409, "{again}");

    // Running, and the counts grow from one poll to a later one.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        let (status, stats) = json(addr, "GET", "/stats/requests", &[], "");
        assert_eq!(status, 200);
        if stats["state"] == "running" {
            seen.push(aggregated(&stats));
            assert_eq!(stats["user_count"].as_u64().map(|u| u <= 2), Some(true));
        }
        let counted: Vec<u64> = seen.iter().copied().filter(|&n| n > 0).collect();
        if counted.len() >= 2 && counted.last() > counted.first() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "requests did not grow: {seen:?}\n{}",
            child.log()
        );
        std::thread::sleep(Duration::from_millis(700));
    }
    // Locust's `/swarm` during the run changes the user count, as Locust's web.py does;
    // `/api/start` stays refused.
    let (status, more) = json(
        addr,
        "POST",
        "/swarm",
        &[("content-type", "application/x-www-form-urlencoded")],
        "user_count=3&spawn_rate=10",
    );
    assert_eq!(status, 200, "{more}");
    assert_eq!(more["success"], true, "{more}");
    assert_eq!(more["message"], "Swarming started");
    assert_eq!(more["host"], target.url());
    assert_eq!(
        json(
            addr,
            "POST",
            "/api/start",
            &[("content-type", "application/json")],
            "{}"
        )
        .0,
        409
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, stats) = json(addr, "GET", "/stats/requests", &[], "");
        if stats["user_count"] == 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "users never reached 3: {}\n{}",
            stats["user_count"],
            child.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The distribution of the run so far, of the aggregate and of one endpoint (one
    // histogram from the session); an index past the endpoints is 404.
    let (status, spectrum) = json(addr, "GET", "/api/distribution?endpoint=aggregate", &[], "");
    assert_eq!(status, 200, "{spectrum}");
    assert_eq!(spectrum["i"], Value::Null);
    let points = spectrum["points"].as_array().unwrap();
    assert!(!points.is_empty(), "{spectrum}");
    let (status, one) = json(addr, "GET", "/api/distribution?endpoint=1", &[], "");
    assert_eq!((status, &one["i"]), (200, &Value::from(1)), "{one}");
    let (status, e) = json(addr, "GET", "/api/distribution?endpoint=9", &[], "");
    assert_eq!(status, 404, "{e}");
    assert_eq!(
        json(addr, "GET", "/api/distribution?endpoint=x", &[], "").0,
        400
    );

    let (status, stopped) = json(addr, "GET", "/stop", &[], "");
    assert_eq!((status, &stopped["success"]), (200, &Value::Bool(true)));

    // Once over, the page stays up (--autoquit) with the final numbers.
    let deadline = Instant::now() + Duration::from_secs(20);
    let stats = loop {
        let (_, stats) = json(addr, "GET", "/stats/requests", &[], "");
        if stats["state"] == "stopped" {
            break stats;
        }
        assert!(Instant::now() < deadline, "never stopped\n{}", child.log());
        std::thread::sleep(Duration::from_millis(200));
    };
    let doc = read_json(&out);
    let entries = stats["stats"].as_array().unwrap();
    let endpoints = doc["endpoints"].as_array().unwrap();
    assert_eq!(entries.len(), endpoints.len() + 1);
    // Sorted by name and method, as Locust's.
    let mut sorted: Vec<&serde_json::Value> = endpoints.iter().collect();
    sorted.sort_by_key(|e| (e["name"].as_str().unwrap(), e["method"].as_str().unwrap()));
    for (entry, e) in entries.iter().zip(sorted) {
        assert_eq!(entry["name"], e["name"]);
        assert_eq!(entry["method"], e["method"]);
        assert_eq!(entry["num_requests"], e["requests"]);
        assert_eq!(entry["num_failures"], e["failures"]);
        assert_eq!(entry["median_response_time"], e["response_time"]["p50"]);
        assert_eq!(
            entry["response_time_percentile_0.95"],
            e["response_time"]["p95"]
        );
        assert_eq!(entry["max_response_time"], e["response_time"]["max"]);
    }
    let total = entries.last().unwrap();
    assert_eq!(total["num_requests"], doc["aggregate"]["requests"]);
    assert_eq!(
        total["avg_response_time"],
        doc["aggregate"]["response_time"]["mean"]
    );
    let served: u64 = target.counts().values().sum();
    assert_eq!(doc["aggregate"]["requests"].as_u64(), Some(served));
    assert!(served > 0);
    // The change and the stop from the page are in the timeline, by their source.
    let timeline = doc["timeline"].as_array().unwrap();
    assert_eq!(timeline[0]["source"], "web UI", "{timeline:?}");
    assert_eq!(
        timeline[0]["what"], "users 2 -> 3 (scenario default)",
        "{timeline:?}"
    );
    assert_eq!(timeline[1]["source"], "web UI", "{timeline:?}");

    // The downloads are the result's.
    let (status, head, body) = call(addr, "GET", "/download/result.json", &[], "");
    assert_eq!(status, 200);
    assert!(
        head.contains("content-disposition: attachment; filename=barrage_result.json"),
        "{head}"
    );
    let downloaded: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(downloaded["aggregate"], doc["aggregate"]);
    let (status, head, csv) = call(addr, "GET", "/download/stats.csv", &[], "");
    assert_eq!(status, 200);
    assert!(head.contains("filename=barrage_stats.csv"), "{head}");
    let csv = String::from_utf8(csv).unwrap();
    let last = csv.lines().last().unwrap();
    assert!(
        last.contains(&format!("Aggregated\",{served},"))
            || last.contains(&format!("Aggregated,{served},")),
        "{csv}"
    );

    // A stop from the page ends the run as its run time would: the verdict (passed) decides.
    assert_eq!(json(addr, "POST", "/api/quit", &[], "").0, 200);
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(10)),
        0,
        "{}",
        child.log()
    );
}

#[test]
fn off_loopback_a_token_is_required_and_with_one_every_request_carries_it_here_on_127_0_0_2() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "gets.yaml", GETS);
    let s = scenario.to_str().unwrap();
    let o = run(barrage().args([
        "run",
        s,
        "--web",
        "--web-host",
        "0.0.0.0",
        "--web-port",
        "0",
    ]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not loopback"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--web-auth-token"), "{}", stderr(&o));
    let o = run(barrage().args(["run", s, "--web", "--headless"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--headless"), "{}", stderr(&o));

    // Tokens a cookie cannot hold would never work from the page: refused at the start.
    for bad in ["a;b", "a,b", "a b", "tök", "a\tb", "a\"b"] {
        let o = run(barrage().args([
            "run",
            s,
            "--web",
            "--web-port",
            "0",
            "--web-auth-token",
            bad,
        ]));
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("cookie cannot carry"),
            "{bad:?}: {}",
            stderr(&o)
        );
    }

    // With a token, on 127.0.0.2: an address that is not the default (tests send nothing
    // off loopback, so this is as far from the default as a test may bind; the rules
    // checked here do not depend on the address once a token is given).
    let out = dir.path().join("never.json");
    let (mut child, addr) = serve(
        &[
            "run",
            s,
            "--web-host",
            "127.0.0.2",
            "--web-auth-token",
            "t0ken",
            "--json",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    let (status, e) = json(addr, "GET", "/api/view", &[], "");
    assert_eq!(status, 401, "{e}");
    assert!(e["error"].as_str().unwrap().contains("token"));
    assert_eq!(
        call(
            addr,
            "GET",
            "/stats/requests",
            &[("authorization", "Bearer nope")],
            ""
        )
        .0,
        401
    );
    assert_eq!(
        call(
            addr,
            "GET",
            "/api/view",
            &[("authorization", "Bearer t0ken")],
            ""
        )
        .0,
        200
    );
    assert_eq!(addr.ip().to_string(), "127.0.0.2");
    // The scheme's name in any case.
    assert_eq!(
        call(
            addr,
            "GET",
            "/api/view",
            &[("authorization", "bearer t0ken")],
            ""
        )
        .0,
        200
    );
    let (status, head, _) = call(addr, "GET", "/?token=t0ken", &[], "");
    assert_eq!(status, 303);
    assert!(
        head.contains("set-cookie: barrage_token=t0ken; httponly; samesite=strict; path=/"),
        "{head}"
    );
    assert_eq!(
        call(
            addr,
            "GET",
            "/api/view",
            &[("cookie", "barrage_token=t0ken")],
            ""
        )
        .0,
        200
    );
    // Another site's page, even with the token in the browser's cookie.
    let (status, refused) = json(
        addr,
        "POST",
        "/api/stop",
        &[
            ("cookie", "barrage_token=t0ken"),
            ("origin", "http://evil.example"),
        ],
        "",
    );
    assert_eq!(status, 403, "{refused}");
    let (status, _) = json(
        addr,
        "GET",
        "/stop",
        &[
            ("authorization", "Bearer t0ken"),
            ("sec-fetch-site", "cross-site"),
        ],
        "",
    );
    assert_eq!(status, 403);

    // Ctrl-C before the start: no run, no files, 130.
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(10)),
        130,
        "{}",
        child.log()
    );
    assert!(child.log().contains("no run, no files"), "{}", child.log());
    assert!(!out.exists());
}

const TWO: &str = r#"
scenarios:
  browse:
    users:
      reader:
        think: 20ms
        tasks:
          read:
            - get: "/items/Item {{ int(1, 9) }}"
              name: /items/[name]
    load:
      users: 2
      duration: 30s
  checkout:
    users:
      buyer:
        tasks:
          home:
            - get: /
    load:
      rate: 5
      duration: 30s
"#;

#[test]
fn several_scenarios_show_each_load_and_ctrl_c_during_the_run_is_130() {
    let target = DemoTarget::start(DemoOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "two.yaml", TWO);
    let out = dir.path().join("two.json");
    let (mut child, addr) = serve(
        &[
            "run",
            scenario.to_str().unwrap(),
            "-H",
            &target.url(),
            "--json",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    let (_, view) = json(addr, "GET", "/api/view", &[], "");
    let form = &view["form"];
    assert_eq!(form["editable"], false);
    assert_eq!(form["host"], target.url());
    let scenarios = form["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 2);
    assert_eq!(
        (
            &scenarios[0]["name"],
            &scenarios[0]["steers"],
            &scenarios[0]["users"]
        ),
        (
            &Value::from("browse"),
            &Value::from("users"),
            &Value::from(2)
        )
    );
    assert_eq!(
        (
            &scenarios[1]["name"],
            &scenarios[1]["steers"],
            &scenarios[1]["rate"]
        ),
        (
            &Value::from("checkout"),
            &Value::from("rate"),
            &Value::from(5.0)
        )
    );
    let ct = [("content-type", "application/json")];
    assert_eq!(json(addr, "POST", "/api/start", &ct, "{}").0, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    while aggregated(&json(addr, "GET", "/stats/requests", &[], "").1) == 0 {
        assert!(Instant::now() < deadline, "no request\n{}", child.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    // Several scenarios: a change names its scenario, and a rate goes to the open one.
    let (status, e) = json(addr, "POST", "/api/load", &ct, r#"{"users": 4}"#);
    assert_eq!(status, 400);
    assert!(e["error"].as_str().unwrap().contains("name the one"), "{e}");
    let (status, e) = json(
        addr,
        "POST",
        "/api/load",
        &ct,
        r#"{"scenario": "checkout", "users": 4}"#,
    );
    assert_eq!(status, 400);
    assert!(
        e["error"].as_str().unwrap().contains("change its rate"),
        "{e}"
    );
    assert_eq!(
        json(
            addr,
            "POST",
            "/api/load",
            &ct,
            r#"{"scenario": "browse", "users": 4}"#
        )
        .0,
        200
    );
    // The change reaches the run (its notice comes back through the web sink).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, view) = json(addr, "GET", "/api/view", &[], "");
        let notices = view["notices"].to_string();
        if notices.contains("users 2 -> 4 (scenario browse) (web UI)") {
            break;
        }
        assert!(Instant::now() < deadline, "{notices}\n{}", child.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(20)),
        130,
        "{}",
        child.log()
    );
    let doc = read_json(&out);
    assert_eq!(doc["run"]["interrupted"], true);
    let timeline = doc["timeline"].as_array().unwrap();
    assert_eq!(timeline[0]["source"], "web UI");
    assert_eq!(timeline[0]["what"], "users 2 -> 4 (scenario browse)");
    assert_eq!(timeline[1]["source"], "Ctrl-C");
}

/// What a Python script written for Locust's web API does, with `requests`.
const LOCUST_SCRIPT: &str = r#"
import sys, time, requests
base = sys.argv[1]
r = requests.post(base + "/swarm", data={"user_count": 2, "spawn_rate": 2, "host": sys.argv[2], "run_time": "30s"})
r.raise_for_status()
assert r.json()["success"] is True, r.text
seen = []
deadline = time.time() + 20
while time.time() < deadline:
    s = requests.get(base + "/stats/requests").json()
    total = [e for e in s["stats"] if e["name"] == "Aggregated"][0]
    if s["state"] == "running" and total["num_requests"] > 0:
        seen.append(total["num_requests"])
    if len(seen) >= 2 and seen[-1] > seen[0]:
        break
    time.sleep(0.5)
assert len(seen) >= 2 and seen[-1] > seen[0], seen
assert requests.get(base + "/stats/reset").text == "ok"
time.sleep(1.5)  # a reset takes effect when the next second closes
assert requests.get(base + "/stop").json() == {"success": True, "message": "Test stopped"}
print("swarmed, watched", seen, "and stopped")
"#;

#[test]
#[ignore = "needs the test venv (scripts/test.sh): Python's requests"]
fn a_python_script_for_locusts_api_works_unchanged() {
    let target = DemoTarget::start(DemoOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "gets.yaml", GETS);
    let out = dir.path().join("py.json");
    let (mut child, addr) = serve(
        &[
            "run",
            scenario.to_str().unwrap(),
            "--json",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    let o = run(Command::new(common::python())
        .arg("-c")
        .arg(LOCUST_SCRIPT)
        .arg(format!("http://{addr}"))
        .arg(target.url()));
    assert!(o.status.success(), "{}\n{}", stderr(&o), child.log());
    // Stopped from the script: the run ends as by its run time, and passes.
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(20)),
        0,
        "{}",
        child.log()
    );
    let doc = read_json(&out);
    // The totals start at the reset; the per-second series holds the whole run.
    let served: u64 = target.counts().values().sum();
    assert!(doc["stats_since_s"].as_f64().unwrap() > 0.0);
    assert!(doc["aggregate"]["requests"].as_u64().unwrap() < served);
    assert_eq!(common::series(&doc, "requests").iter().sum::<u64>(), served);
    let sources: Vec<&str> = doc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        ["web UI", "web UI"],
        "statistics reset, then stopped"
    );
}

#[test]
fn a_password_in_the_host_is_never_shown_and_the_form_sent_back_runs() {
    let target = DemoTarget::start(DemoOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "gets.yaml", GETS);
    let out = dir.path().join("pw.json");
    let host = target.url().replace("http://", "http://user:pw-s3cret@");
    let (mut child, addr) = serve(
        &[
            "run",
            scenario.to_str().unwrap(),
            "-H",
            &host,
            "--json",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    let (_, body, view) = call(addr, "GET", "/api/view", &[], "");
    let view_text = String::from_utf8(view).unwrap();
    assert!(!view_text.contains("pw-s3cret"), "{view_text}");
    let view: Value = serde_json::from_str(&view_text).unwrap();
    let shown = view["form"]["host"].as_str().unwrap().to_owned();
    assert!(shown.starts_with("http://"), "{shown} {body}");
    // The form sent back as shown: the run goes to the host as given.
    let start = serde_json::json!({ "host": shown, "run_time_s": 1 }).to_string();
    let (status, e) = json(
        addr,
        "POST",
        "/api/start",
        &[("content-type", "application/json")],
        &start,
    );
    assert_eq!(status, 200, "{e}");
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(20)),
        0,
        "{}",
        child.log()
    );
    let doc = read_json(&out);
    assert!(doc["aggregate"]["requests"].as_u64().unwrap() > 0);
    assert_eq!(doc["aggregate"]["failures"], 0);
    assert!(!std::fs::read_to_string(&out).unwrap().contains("pw-s3cret"));
}

/// Opens `/api/events` on a raw connection (the head sent, nothing read yet).
fn events(addr: SocketAddr, headers: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /api/events HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n{headers}\r\n"
    )
    .unwrap();
    s
}

#[test]
fn without_autoquit_an_event_stream_sees_the_end_before_the_process_exits() {
    const CLIENTS: usize = 20;
    let target = DemoTarget::start(DemoOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "gets.yaml", GETS);
    // Three times: the end used to race the runtime's drop, so one pass could be luck.
    for round in 0..3 {
        let (mut child, addr) = serve(
            &["run", scenario.to_str().unwrap(), "-H", &target.url()],
            dir.path(),
        );
        // Several clients, as several tabs: each must see the end.
        let mut streams: Vec<TcpStream> = (0..CLIENTS).map(|_| events(addr, "")).collect();
        let ct = [("content-type", "application/json")];
        let (status, e) = json(addr, "POST", "/api/start", &ct, r#"{"run_time_s": 1}"#);
        assert_eq!(status, 200, "{e}");
        for (k, stream) in streams.iter_mut().enumerate() {
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 8192];
            let text = loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen).into_owned();
                if text.contains(r#""state":"ended""#) || n == 0 {
                    break text;
                }
            };
            assert!(
                text.contains("event: state") && text.contains(r#""state":"ended""#),
                "round {round}, client {k}: no ended state event before the stream closed:\n{text}\n{}",
                child.log()
            );
        }
        // The stream then ends, and the process exits without waiting for the client.
        let code = wait_exit(&mut child, Duration::from_secs(10));
        assert_eq!(code, 0, "round {round}\n{}", child.log());
    }
}

#[test]
fn a_browser_that_never_reads_costs_the_run_no_second_and_no_time() {
    let target = DemoTarget::start(DemoOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "gets.yaml", GETS);
    let out = dir.path().join("stalled.json");
    let (mut child, addr) = serve(
        &[
            "run",
            scenario.to_str().unwrap(),
            "--json",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    // Attached before the start and kept, unread, for the whole run.
    let stalled = events(addr, "");
    let form = format!(
        "user_count=2&spawn_rate=2&run_time=5&host={}",
        target.url().replace(':', "%3A").replace('/', "%2F")
    );
    let started = Instant::now();
    let (status, swarm) = json(
        addr,
        "POST",
        "/swarm",
        &[("content-type", "application/x-www-form-urlencoded")],
        &form,
    );
    assert_eq!(status, 200, "{swarm}");
    // The run ends by its run time (5 s) and the process with it: the unread stream holds
    // neither (a stop takes at most the stop timeout and the server's 2 s grace).
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(20)),
        0,
        "{}",
        child.log()
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let doc = read_json(&out);
    let duration = doc["run"]["duration_s"].as_f64().unwrap();
    assert!((4.5..7.0).contains(&duration), "ran {duration} s");
    // Every second of the run reached the result.
    let seconds = common::series(&doc, "requests").len() as f64;
    assert!(
        (seconds - duration).abs() <= 1.0,
        "{seconds} seconds in the series of a {duration} s run"
    );
    drop(stalled);
}

#[test]
fn the_web_auth_token_is_never_shown_in_the_view_the_result_or_the_downloads() {
    let target = DemoTarget::start(DemoOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "gets.yaml", GETS);
    let out = dir.path().join("token.json");
    let secret = "Zq7-web-token-5ecret";
    let (mut child, addr) = serve(
        &[
            "run",
            scenario.to_str().unwrap(),
            "-H",
            &target.url(),
            "--web-auth-token",
            secret,
            "--autoquit",
            "60",
            "--json",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    let bearer = format!("Bearer {secret}");
    let auth = [("authorization", bearer.as_str())];
    let start = [auth[0], ("content-type", "application/json")];
    let (status, e) = json(addr, "POST", "/api/start", &start, r#"{"run_time_s": 1}"#);
    assert_eq!(status, 200, "{e}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while json(addr, "GET", "/api/view", &auth, "").1["state"] != "ended" {
        assert!(Instant::now() < deadline, "never ended\n{}", child.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    let file = std::fs::read_to_string(&out).unwrap();
    let doc: Value = serde_json::from_str(&file).unwrap();
    let command = doc["run"]["command"].as_str().unwrap();
    assert!(command.contains("--web-auth-token [redacted]"), "{command}");
    let mut shown = vec![("--json file", file)];
    for path in [
        "/api/view",
        "/download/result.json",
        "/download/report.html",
    ] {
        let (status, _, body) = call(addr, "GET", path, &auth, "");
        assert_eq!(status, 200, "{path}");
        let body = String::from_utf8(body).unwrap();
        assert!(body.contains("[redacted]"), "{path} holds no command line");
        shown.push((path, body));
    }
    for (what, text) in shown {
        assert!(!text.contains(secret), "{what} shows the token");
    }
    assert_eq!(call(addr, "POST", "/api/quit", &auth, "").0, 200);
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(10)),
        0,
        "{}",
        child.log()
    );
}
