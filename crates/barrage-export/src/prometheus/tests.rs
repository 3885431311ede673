use std::io::{Read, Write};
use std::net::TcpStream;

use super::*;
use crate::figures::tests::sample;

fn figures() -> Figures {
    let (snapshot, buckets) = sample();
    Figures::new(&snapshot, Some(&buckets))
}

/// A GET over a plain socket (the test must not lean on an HTTP client of the crate).
fn get(url: &str, authorization: Option<&str>) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_once('/').expect("a path");
    let mut s = TcpStream::connect(host).expect("the server listens");
    let auth = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().expect("a status line");
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (status, body)
}

/// The value of the sample line `series` (name and labels exactly as written).
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{series} in\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn the_page_names_every_metric_with_its_labels_and_cumulative_buckets() {
    let text = render::render(Arc::new(figures()), "run-1");
    let get = r#"{run_id="run-1",scenario="shop",method="GET",name="/items"}"#;
    assert_eq!(value(&text, &format!("barrage_requests_total{get}")), 10.0);
    assert_eq!(
        value(
            &text,
            r#"barrage_failures_total{run_id="run-1",scenario="shop",method="POST",name="/cart \"x\"",category="status"}"#
        ),
        2.0,
        "label values are escaped"
    );
    // Cumulative 4, 9, 10 of 10 timed requests: `le` counts are cumulative, monotone, and
    // `+Inf` is the count.
    let le = |bound: &str| {
        value(
            &text,
            &format!(
                "http_client_request_duration_seconds_bucket{{run_id=\"run-1\",scenario=\"shop\",method=\"GET\",name=\"/items\",le=\"{bound}\"}}"
            ),
        )
    };
    let buckets: Vec<f64> = ["0.005", "0.01", "0.1", "+Inf"]
        .iter()
        .map(|b| le(b))
        .collect();
    assert_eq!(buckets, vec![4.0, 9.0, 10.0, 10.0]);
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(
        value(
            &text,
            &format!("http_client_request_duration_seconds_count{get}")
        ),
        10.0
    );
    assert_eq!(
        value(
            &text,
            &format!("http_client_request_duration_seconds_sum{get}")
        ),
        0.07
    );
    let run = r#"{run_id="run-1"}"#;
    assert_eq!(value(&text, &format!("barrage_users{run}")), 4.0);
    assert_eq!(
        value(&text, &format!("http_client_active_requests{run}")),
        2.0
    );
    assert_eq!(
        value(&text, &format!("barrage_dropped_iterations_total{run}")),
        1.0
    );
    assert_eq!(
        value(
            &text,
            r#"barrage_iterations_total{run_id="run-1",scenario="shop",user="Buyer",task="browse"}"#
        ),
        7.0
    );
    assert_eq!(
        value(
            &text,
            r#"barrage_generator_schedule_lag_seconds{run_id="run-1",stat="max"}"#
        ),
        0.012
    );
    assert!(text.contains("# TYPE http_client_request_duration_seconds histogram"));
    assert!(text.contains("# TYPE barrage_requests_total counter"));
    assert!(
        !text.contains("# EOF"),
        "the Prometheus text format, not OpenMetrics"
    );
}

#[test]
fn serves_the_newest_figures_on_the_port_it_bound() {
    let sink = PrometheusSink::start("127.0.0.1:0", None, "run-2").unwrap();
    assert!(sink.url().starts_with("http://127.0.0.1:") && sink.url().ends_with("/metrics"));
    assert!(!sink.url().contains(":0/"), "the real port: {}", sink.url());
    let (status, body) = get(sink.url(), None);
    assert_eq!(
        (status, body.as_str()),
        (200, ""),
        "nothing before the first second"
    );
    sink.publish(figures(), false);
    let (status, body) = get(sink.url(), None);
    assert_eq!(status, 200);
    assert_eq!(
        value(
            &body,
            r#"barrage_requests_total{run_id="run-2",scenario="shop",method="GET",name="/items"}"#
        ),
        10.0
    );
}

#[test]
fn a_taken_port_fails_before_the_run_naming_the_fix() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let e = PrometheusSink::start(&addr, None, "r")
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.starts_with(&format!("--prometheus-listen {addr}:")) && e.contains("0 for any free"),
        "{e}"
    );
}

#[test]
fn a_token_is_required_on_every_scrape_when_set() {
    let sink = PrometheusSink::start("127.0.0.1:0", Some("s3cret".into()), "r").unwrap();
    assert_eq!(get(sink.url(), None).0, 401);
    assert_eq!(get(sink.url(), Some("Bearer nope")).0, 401);
    assert_eq!(get(sink.url(), Some("Bearer s3cret")).0, 200);
}

#[test]
fn the_end_waits_for_a_scrape_of_the_final_figures_only_when_someone_scrapes() {
    // Nobody scraped: no wait, however long the allowance.
    let quiet = PrometheusSink::start("127.0.0.1:0", None, "r").unwrap();
    quiet.publish(figures(), true);
    let t = Instant::now();
    assert_eq!(
        quiet.wait_for_final_scrape(false, &AtomicBool::new(false), Duration::from_secs(30)),
        None
    );
    assert!(t.elapsed() < Duration::from_secs(1));

    // Scraped during the run: the end waits until a scrape read the final figures.
    let sink = PrometheusSink::start("127.0.0.1:0", None, "r").unwrap();
    sink.publish(figures(), false);
    assert_eq!(get(sink.url(), None).0, 200);
    sink.publish(figures(), true);
    let url = sink.url().to_owned();
    let scraper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        get(&url, None)
    });
    let t = Instant::now();
    assert_eq!(
        sink.wait_for_final_scrape(false, &AtomicBool::new(false), Duration::from_secs(30)),
        None
    );
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(10),
        "waited {waited:?} for the scrape 300 ms later"
    );
    let (status, body) = scraper.join().unwrap();
    assert!(status == 200 && body.contains("barrage_requests_total"));

    // Interrupted (Ctrl-C): no wait even with a scraper.
    assert_eq!(
        sink.wait_for_final_scrape(true, &AtomicBool::new(false), Duration::from_secs(30)),
        None
    );
}

#[test]
fn the_end_gives_up_after_its_allowance_and_says_so() {
    let sink = PrometheusSink::start("127.0.0.1:0", None, "r").unwrap();
    assert_eq!(get(sink.url(), None).0, 200);
    sink.publish(figures(), true);
    let line = sink
        .wait_for_final_scrape(false, &AtomicBool::new(false), Duration::from_millis(200))
        .expect("a line saying it gave up");
    assert!(line.contains("no scrape read the final figures"), "{line}");
}

#[test]
fn the_end_waits_no_longer_than_the_scrapers_period_allows_and_hears_ctrl_c() {
    // Two scrapes 200 ms apart: a scraper that comes back within 0.8 s would have come, so
    // the end waits about that, not the 30 s allowance.
    let sink = PrometheusSink::start("127.0.0.1:0", None, "r").unwrap();
    sink.publish(figures(), false);
    assert_eq!(get(sink.url(), None).0, 200);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(get(sink.url(), None).0, 200);
    sink.publish(figures(), true);
    let t = Instant::now();
    let line = sink.wait_for_final_scrape(false, &AtomicBool::new(false), Duration::from_secs(30));
    let waited = t.elapsed();
    assert!(line.is_some(), "nobody read the final figures");
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_secs(5),
        "waited {waited:?}; 1.5 x 200 ms + 0.5 s expected"
    );

    // Ctrl-C during the wait: it ends within a slice.
    let slow = PrometheusSink::start("127.0.0.1:0", None, "r").unwrap();
    assert_eq!(get(slow.url(), None).0, 200);
    slow.publish(figures(), true);
    let hurry = Arc::new(AtomicBool::new(false));
    let press = hurry.clone();
    let presser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        press.store(true, Ordering::Relaxed);
    });
    let t = Instant::now();
    assert_eq!(
        slow.wait_for_final_scrape(false, &hurry, Duration::from_secs(30)),
        None
    );
    let waited = t.elapsed();
    presser.join().unwrap();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "waited {waited:?} after a Ctrl-C at 300 ms"
    );
}

#[test]
fn the_grafana_dashboard_is_json_and_queries_only_metrics_the_page_has() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/grafana/barrage-dashboard.json"
    );
    let text = std::fs::read_to_string(path).expect("the dashboard is in examples/grafana");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let page = render::render(Arc::new(figures()), "r");
    let mut exprs = Vec::new();
    for panel in doc["panels"].as_array().expect("panels") {
        for t in panel["targets"].as_array().expect("targets") {
            exprs.push(t["expr"].as_str().expect("a PromQL expression").to_owned());
        }
    }
    assert!(exprs.len() >= 10, "{exprs:?}");
    let quantiles = exprs
        .iter()
        .filter(|e| e.contains("histogram_quantile"))
        .count();
    assert!(quantiles >= 3, "p50, p95 and p99");
    for e in &exprs {
        assert!(
            e.contains(r#"run_id="$run_id""#),
            "every query picks the run: {e}"
        );
        let metrics: Vec<&str> = e
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("barrage_") || w.starts_with("http_client_"))
            .collect();
        assert!(!metrics.is_empty(), "{e}");
        for m in metrics {
            assert!(
                page.lines().any(|l| l.starts_with(&format!("{m}{{"))),
                "{m} (in {e}) is on the page"
            );
        }
    }
    let run_var = doc["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "run_id")
        .expect("a run_id variable");
    assert_eq!(
        run_var["definition"],
        "label_values(barrage_requests_total, run_id)"
    );
}
