//! The HTTP connection under servers that close kept-alive connections or stream without
//! end, through the binary: a reused connection closed by a failing endpoint costs the
//! other endpoints nothing (the request goes once more, counted in `retries`), and kept
//! bodies stay within the memory budget however many users read an endless body.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{barrage, endpoint, read_json, write, ChildGuard};

/// FastAPI (uvicorn) closing the connection after an unhandled exception's 500, without
/// `connection: close`, beside a plain GET: the GET never fails, the retries are counted,
/// and the 500s are counted on their own endpoint only.
#[test]
#[ignore = "needs the test venv (BARRAGE_PYTHON): scripts/test.sh"]
fn a_failing_endpoint_that_closes_its_connection_costs_the_others_nothing() {
    let _serial = common::serial();
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let mut app = ChildGuard::spawn(
        "uvicorn",
        std::process::Command::new(common::python())
            .current_dir(common::repo_root().join("crates/barrage/tests/apps"))
            .args(["-m", "uvicorn", "raising_app:app", "--host", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--log-level", "critical"]),
        &dir.path().join("uvicorn.log"),
    )
    .expect("starting uvicorn");
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    common::wait_for_http(addr, "/ok", Duration::from_secs(20), &mut app).unwrap();
    let scenario = write(
        dir.path(),
        "s.yaml",
        "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      t:\n        - post: /boom\n        - get: /ok\n",
    );
    let out = dir.path().join("r.json");
    let run = common::run_scenario(
        &scenario,
        &["-u", "2", "-r", "2", "-t", "4s", "--workers", "1"],
        format!("http://{addr}"),
        &out,
    );
    let doc = read_json(&out);
    let get = endpoint(&doc, "GET", "/ok");
    let post = endpoint(&doc, "POST", "/boom");
    assert!(get["requests"].as_u64().unwrap() > 50, "{get}");
    assert_eq!(get["failures"], 0, "{get}\n{}", common::stderr(&run));
    assert_eq!(
        post["failures"], post["requests"],
        "every POST is a 500: {post}"
    );
    assert_eq!(
        post["failures_by_category"],
        serde_json::json!({ "status": post["requests"] }),
        "the 500s alone, no resets: {post}"
    );
    // Each POST's 500 closes its connection, and the GET written after it on the same
    // connection meets that close: the GET goes once more, counted apart.
    let retries = doc["aggregate"]["retries"].as_u64().unwrap();
    assert!(retries > 0, "{}", doc["aggregate"]);
    assert_eq!(
        retries,
        get["retries"].as_u64().unwrap() + post["retries"].as_u64().unwrap()
    );
    assert!(
        common::stderr(&run).contains("sent again on a fresh connection"),
        "{}",
        common::stderr(&run)
    );
}

/// A server streaming an endless chunked body to every connection (each bounded at 64 MiB
/// and by the test's stop flag).
struct Endless {
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Endless {
    fn start() -> Endless {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                let Ok((mut sock, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                let flag = flag.clone();
                std::thread::spawn(move || {
                    sock.set_nonblocking(false).unwrap();
                    let mut head = [0u8; 4096];
                    if sock.read(&mut head).unwrap_or(0) == 0 {
                        return;
                    }
                    let _ =
                        sock.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
                    let chunk = format!("{:x}\r\n{}\r\n", 65536, "x".repeat(65536));
                    for _ in 0..1024 {
                        if flag.load(Ordering::SeqCst) || sock.write_all(chunk.as_bytes()).is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        Endless { addr, stop }
    }
}

impl Drop for Endless {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The high-water mark of a process's resident memory, in bytes.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// 20 users saving from an endless body: before the budget each held up to 256 MiB (2.36
/// GB with 20 users); now the process stays well under 400 MB, and the bytes that arrived
/// are counted though every request failed.
#[test]
fn twenty_users_reading_an_endless_body_stay_within_the_budget() {
    let _serial = common::serial();
    let server = Endless::start();
    let dir = tempfile::tempdir().unwrap();

    // The defaults: 16 MiB a response, 128 MiB for all kept bodies.
    let (peak, doc) = endless_run(&server, dir.path(), &[]);
    assert!(peak < 400 << 20, "peak RSS {} MiB", peak >> 20);
    let agg = &doc["aggregate"];
    assert_eq!(agg["failures"], agg["requests"], "{agg}");
    let received = agg["bytes_received"].as_u64().unwrap();
    // Every failed request counted what arrived: at least 1 MiB each, whether it reached
    // its cap or the budget stopped it first.
    assert!(
        received >= agg["failures"].as_u64().unwrap() * (1 << 20),
        "{received} bytes for {agg}"
    );

    // A budget of 16 MiB: without it 20 users would keep 20 x 16 MiB; with it one body at
    // a time can reach the cap, and the others fail as this machine's shortage.
    let (small, doc) = endless_run(&server, dir.path(), &["--max-body-memory", "16MiB"]);
    assert!(
        small < 160 << 20,
        "peak RSS {} MiB under a 16 MiB budget",
        small >> 20
    );
    let categories = doc["aggregate"]["failures_by_category"].to_string();
    assert!(categories.contains("local_resources"), "{categories}");
    eprintln!(
        "peak RSS {} MiB with the defaults, {} MiB under a 16 MiB budget",
        peak >> 20,
        small >> 20
    );
}

/// Runs 20 users saving from `server`'s endless body for 4 s with `extra` flags; the
/// child's peak RSS and its result file.
fn endless_run(server: &Endless, dir: &Path, extra: &[&str]) -> (u64, serde_json::Value) {
    let scenario = write(
        dir,
        "s.yaml",
        "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      t:\n        - get: /\n          save:\n            token: $.token\n",
    );
    let out = dir.join("r.json");
    let mut command = barrage();
    command
        .arg("run")
        .arg(&scenario)
        .args([
            "-u",
            "20",
            "-r",
            "100",
            "-t",
            "4s",
            "--workers",
            "2",
            "--only-summary",
        ])
        .args(extra)
        .arg("-H")
        .arg(format!("http://{}", server.addr))
        .arg("--json")
        .arg(&out);
    let mut child =
        ChildGuard::spawn("barrage", &mut command, &dir.join("b.log")).expect("starting barrage");
    let started = Instant::now();
    let mut peak = 0;
    while child.exited().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "barrage overran"
        );
        if let Some(hwm) = vm_hwm(child.id()) {
            peak = peak.max(hwm);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(peak > 0, "read the child's VmHWM\n{}", child.log());
    (peak, read_json(&out))
}

/// `--max-body-size` replaces the scenario's cap: the failure says which cap, under
/// `protocol`; a size without a unit is a usage error that suggests one.
#[test]
fn the_body_cap_is_set_from_the_command_line() {
    let _serial = common::serial();
    let server = Endless::start();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "s.yaml",
        "target: http://127.0.0.1:1\ndefaults: { max_body_size: 8MiB }\nusers:\n  u:\n    tasks:\n      t:\n        - get: /\n          save:\n            token: $.token\n",
    );
    let out = dir.path().join("r.json");
    common::run_scenario(
        &scenario,
        &["-u", "1", "--iterations", "3", "--max-body-size", "1MiB"],
        format!("http://{}", server.addr),
        &out,
    );
    let doc = read_json(&out);
    let failure = &doc["failures"][0];
    assert_eq!(failure["category"], "protocol", "{failure}");
    assert_eq!(failure["count"], 3, "{failure}");
    assert!(
        failure["sample"]
            .as_str()
            .unwrap()
            .contains("over the 1 MiB barrage keeps per response"),
        "{failure}"
    );
    // Each request counted the 1 MiB it kept before the cap.
    assert!(doc["aggregate"]["bytes_received"].as_u64().unwrap() >= 3 << 20);

    // `--debug` keeps every body, within the same limits as the run it stands for.
    let debug = common::run(
        barrage()
            .arg("run")
            .arg(&scenario)
            .args(["--debug", "--max-body-memory", "256KiB", "-H"])
            .arg(format!("http://{}", server.addr)),
    );
    assert_eq!(debug.status.code(), Some(1), "{}", common::stderr(&debug));
    assert!(
        common::stderr(&debug).contains("all kept bodies may take together"),
        "{}",
        common::stderr(&debug)
    );

    let bad = common::run(
        barrage()
            .args(["hit", "http://127.0.0.1:1/", "--max-body-size", "16"])
            .arg("-n")
            .arg("1"),
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        common::stderr(&bad).contains("add a unit: `16MiB`"),
        "{}",
        common::stderr(&bad)
    );
}
