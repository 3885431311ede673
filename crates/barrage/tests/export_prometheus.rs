//! `--prometheus-listen`: a real Prometheus server (Debian's package, `BARRAGE_PROMETHEUS`)
//! scrapes barrage every second during a run; its query API then reports barrage's request
//! count equal to the result file's, exactly, because the end waits for a scrape of the
//! final figures. Also: the flag's mistakes stop before the run.

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use barrage_target::{DemoOptions, DemoTarget};
use common::EXPORT_FAILED_REQUESTS as FAILED_REQUESTS;
use common::{free_port, http_get, read_json, run, stderr, wait_for_http, write, ChildGuard};
use serde_json::Value;

/// The exporters' scenario (`common::EXPORT_SCENARIO`), running for 4s.
fn scenario() -> String {
    common::EXPORT_SCENARIO.replace("DURATION", "4s")
}

/// Percent-encodes a PromQL expression for a query string.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The single value of an instant query, if it has one.
fn query(prometheus: SocketAddr, promql: &str) -> Option<f64> {
    let (status, body) = http_get(
        prometheus,
        &format!("/api/v1/query?query={}", encode(promql)),
    )
    .unwrap_or_else(|e| panic!("Prometheus answers its query API: {e}"));
    let doc: Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
        panic!(
            "{promql}: not JSON ({e}): {}",
            String::from_utf8_lossy(&body)
        )
    });
    assert_eq!(status, 200, "{promql}: {doc}");
    let result = doc["data"]["result"].as_array()?;
    result.first()?["value"][1].as_str()?.parse().ok()
}

#[test]
#[ignore = "needs Debian's prometheus (BARRAGE_PROMETHEUS): run scripts/test.sh"]
fn prometheus_scraping_the_run_reports_the_result_files_request_count() {
    let binary =
        std::env::var_os("BARRAGE_PROMETHEUS").unwrap_or_else(|| "/usr/bin/prometheus".into());
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The scrape config needs barrage's port before barrage runs: a free one, given to
    // --prometheus-listen.
    let port = free_port();
    let config = write(
        dir.path(),
        "prometheus.yml",
        &format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: barrage\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    );
    let web = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut prometheus = ChildGuard::spawn(
        "prometheus",
        Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .arg("--log.level=warn"),
        &dir.path().join("prometheus.log"),
    )
    .unwrap();
    wait_for_http(web, "/-/ready", Duration::from_secs(30), &mut prometheus).unwrap();
    // Prometheus hands new targets to its scrapers up to 5 s after it is ready (its
    // discovery updates are throttled): wait until it scrapes (barrage's port, still
    // closed, is then "down"), so the run is scraped from its first second.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = http_get(web, "/api/v1/targets").expect("Prometheus lists its targets");
        let doc: Value = serde_json::from_slice(&body).expect("JSON");
        let scraped = doc["data"]["activeTargets"].as_array().is_some_and(|t| {
            t.iter().any(|t| {
                t["lastScrape"]
                    .as_str()
                    .is_some_and(|s| !s.starts_with("0001"))
            })
        });
        if scraped {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never scraped: {doc}\n{}",
            prometheus.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let scenario = write(dir.path(), "load.yaml", &scenario());
    let out = dir.path().join("out.json");
    let listen = format!("127.0.0.1:{port}");
    let o = run(common::barrage()
        .arg("run")
        .arg(&scenario)
        .args(["-H", target.url().as_str(), "--prometheus-listen", &listen])
        .arg("--json")
        .arg(&out));
    let err = stderr(&o);
    assert_eq!(o.status.code(), FAILED_REQUESTS, "{err}");
    assert!(
        err.contains(&format!("Prometheus metrics: http://{listen}/metrics")),
        "{err}"
    );
    assert!(
        !err.contains("no scrape read the final figures"),
        "Prometheus read the final figures: {err}\n{}",
        prometheus.log()
    );
    let doc = read_json(&out);
    let run_id = doc["run"]["run_id"].as_str().unwrap().to_owned();
    let expected = doc["aggregate"]["requests"].as_u64().unwrap();
    assert!(expected > 50, "the run did some work: {expected}");
    let timed = doc["aggregate"]["response_time"]["count"].as_u64().unwrap();
    let failures = doc["aggregate"]["failures"].as_u64().unwrap();

    // The newest sample of each series is the final one; the scrape that read it has
    // answered, and Prometheus appends it right after: allow it a moment to land.
    let sum_of_last =
        |metric: &str| format!("sum(last_over_time({metric}{{run_id=\"{run_id}\"}}[5m]))");
    let deadline = Instant::now() + Duration::from_secs(10);
    let requests = loop {
        let got = query(web, &sum_of_last("barrage_requests_total"));
        if got == Some(expected as f64) || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        requests,
        Some(expected as f64),
        "Prometheus' count of run {run_id} equals the result file's\n{}",
        prometheus.log()
    );
    assert_eq!(
        query(
            web,
            &sum_of_last("http_client_request_duration_seconds_count")
        ),
        Some(timed as f64),
        "the histogram counts the timed requests"
    );
    assert_eq!(
        query(
            web,
            &format!(
                "sum(last_over_time(barrage_failures_total{{run_id=\"{run_id}\",category=\"status\"}}[5m]))"
            )
        ),
        Some(failures as f64)
    );
    // Scraped during the run too, not only at the end: several samples of the counter.
    let samples = query(
        web,
        &format!("sum(count_over_time(barrage_requests_total{{run_id=\"{run_id}\",name=\"/items/1\"}}[5m]))"),
    )
    .unwrap_or(0.0);
    assert!(samples >= 3.0, "{samples} scrapes in a 4 s run at 1/s");
    // histogram_quantile works on the buckets (the Grafana dashboard's p95).
    let p95 = query(
        web,
        &format!(
            "histogram_quantile(0.95, sum by (le) (last_over_time(http_client_request_duration_seconds_bucket{{run_id=\"{run_id}\"}}[5m])))"
        ),
    )
    .expect("a p95");
    assert!(
        p95 > 0.0 && p95 <= 0.1,
        "p95 {p95} s against a loopback target"
    );
}

#[test]
fn a_taken_port_or_an_open_address_without_a_token_stops_before_the_run() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let hit = |extra: &[&str]| {
        run(common::barrage()
            .args(["hit", "http://127.0.0.1:1/", "-n", "1"])
            .args(extra))
    };
    let o = hit(&["--prometheus-listen", &addr]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("--prometheus-listen {addr}: port"))
            && stderr(&o).contains("is taken"),
        "{}",
        stderr(&o)
    );
    let o = hit(&["--prometheus-listen", "0.0.0.0:0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--prometheus-auth-token"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_run_serves_its_metrics_with_the_token_it_was_given() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "load.yaml",
        &common::EXPORT_SCENARIO.replace("DURATION", "3s"),
    );
    let port = free_port();
    let log = dir.path().join("barrage.log");
    let mut barrage = ChildGuard::spawn(
        "barrage",
        common::barrage()
            .arg("run")
            .arg(&scenario)
            .args(["-H", target.url().as_str()])
            .args(["--prometheus-listen", &format!("127.0.0.1:{port}")])
            .args(["--prometheus-auth-token", "s3cret"]),
        &log,
    )
    .unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    // The listener is bound before the load starts; wait for the first closed second.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (status, body) = loop {
        let got = std::net::TcpStream::connect(addr).ok().map(|mut s| {
            use std::io::{Read, Write};
            write!(
                s,
                "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut raw = Vec::new();
            let _ = s.read_to_end(&mut raw);
            common::parse_response(&raw).unwrap_or((0, Vec::new()))
        });
        match got {
            Some((200, body))
                if String::from_utf8_lossy(&body).contains("barrage_requests_total") =>
            {
                break (200, String::from_utf8(body).unwrap())
            }
            _ if Instant::now() > deadline || barrage.exited().is_some() => {
                panic!("no metrics from the run\n{}", barrage.log())
            }
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    assert_eq!(status, 200);
    assert!(body.contains("# TYPE http_client_request_duration_seconds histogram"));
    assert_eq!(
        http_get(addr, "/metrics").unwrap().0,
        401,
        "no token, no metrics"
    );
}
