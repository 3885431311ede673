//! The Prometheus source against a real FastAPI app instrumented with
//! prometheus-fastapi-instrumentator: the counts it reads per handler are the requests
//! sent, exactly; the rates and percentiles are there; a scrape that fails is an error,
//! and the next one that works is back.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use barrage_monitor::{PrometheusSource, Source};

/// The last sample by column key.
fn by_key(source: &PrometheusSource, row: &[Option<f64>]) -> HashMap<String, Option<f64>> {
    source
        .columns()
        .iter()
        .zip(row)
        .map(|(c, v)| (c.key.clone(), *v))
        .collect()
}

/// One sample by column key; panics if the source gives none.
fn sample(source: &mut PrometheusSource) -> HashMap<String, Option<f64>> {
    let row = source.sample().unwrap_or_else(|e| panic!("a sample: {e}"));
    by_key(source, &row)
}

#[test]
#[ignore = "needs the test venv with prometheus-fastapi-instrumentator (scripts/test.sh prepares it)"]
fn counts_rates_and_percentiles_of_an_instrumented_fastapi_app() {
    let port = support::free_port();
    let app = support::Uvicorn::start("instrumented_app", port, &[], "/fast");
    let url = format!("http://127.0.0.1:{port}/metrics");
    let mut source =
        PrometheusSource::new(&url, &[r#"http_requests_total{handler="/fast"}"#.into()]).unwrap();
    assert_eq!(
        source.name(),
        format!("prometheus 127.0.0.1:{port}/metrics")
    );
    source.open().expect("the first scrape");

    for i in 0..150 {
        assert_eq!(support::get(port, "/fast").unwrap(), 200);
        if i % 3 == 0 {
            assert_eq!(support::get(port, &format!("/items/{i}")).unwrap(), 200);
        }
    }
    // The instrumentator counts a request after its response is sent.
    std::thread::sleep(Duration::from_millis(300));
    let row = source.sample().expect("a scrape");
    let got = by_key(&source, &row);
    let fast = r#"http_requests{handler="/fast"}"#;
    let items = r#"http_requests{handler="/items/{item_id}"}"#;
    // /fast answered once before the baseline (the readiness check): not counted.
    assert_eq!(got[fast], Some(150.0), "{got:?}\n{}", app.log());
    assert_eq!(got[items], Some(50.0), "{got:?}");
    assert!(got[r#"http_requests_per_s{handler="/fast"}"#].unwrap() > 0.0);
    let p50 = got["http_highr_p50_ms"].expect("a p50 over the observations");
    assert!(p50 > 0.0 && p50 < 100.0, "{p50}");
    assert!(got[r#"http_p99_ms{handler="/fast"}"#].is_some(), "{got:?}");
    assert!(got["rss"].unwrap() > 1e6, "{got:?}");
    assert!(got["cpu"].is_some(), "{got:?}");
    assert!(
        got[r#"rate(http_requests_total{handler="/fast",method="GET",status="2xx"})"#].unwrap()
            > 0.0,
        "{got:?}"
    );

    // Nothing sent since: no new observations, so no percentiles, and the counts stay.
    std::thread::sleep(Duration::from_millis(200));
    let got = sample(&mut source);
    assert_eq!(got[fast], Some(150.0));
    assert_eq!(got[r#"http_requests_per_s{handler="/fast"}"#], Some(0.0));
    assert_eq!(got[r#"http_p50_ms{handler="/fast"}"#], None);

    // The app goes away: the scrape fails; a new app on the same port: back, its counters
    // reset (no rate that sample), then counting again.
    drop(app);
    let err = source.sample().unwrap_err();
    assert!(err.0.contains("scrape failed"), "{err}");
    let app = support::Uvicorn::start("instrumented_app", port, &[], "/fast");
    let got = sample(&mut source);
    assert_eq!(
        got[r#"http_requests_per_s{handler="/fast"}"#], None,
        "{got:?}"
    );
    assert_eq!(
        got[fast],
        Some(151.0),
        "increase() counts the new process's one request"
    );
    for _ in 0..10 {
        support::get(port, "/fast").unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let got = sample(&mut source);
    assert_eq!(got[fast], Some(161.0), "{got:?}\n{}", app.log());
}
