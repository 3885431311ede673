//! `--monitor-prometheus URL`: a Prometheus endpoint scraped at each sample (a FastAPI app
//! with prometheus-fastapi-instrumentator, postgres_exporter, node_exporter), its
//! well-known series and the `--monitor-series` ones turned into columns.
//!
//! The pipeline: GET the text format ([`exposition`] reads it), pick and sum the series
//! ([`rules`]), then compare with the previous scrape ([`rates`]): counters become
//! per-second rates, histograms percentiles of what was observed in between. `open` takes
//! the first scrape, so the first sample already has rates, and the request counts since
//! the start cover the whole run.
//!
//! Blocking on purpose: the source runs on a thread of its own (see [`crate::Source`]), and
//! every scrape is bounded by [`SCRAPE_TIMEOUT`], below the default one-second interval.

mod exposition;
mod matcher;
mod rates;
mod rules;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use barrage_metrics::{Column, SourceKind};

use crate::source::{Source, SourceError};
use matcher::SeriesMatcher;
use rates::Tracker;

/// The longest a scrape may take, connecting included.
pub const SCRAPE_TIMEOUT: Duration = Duration::from_millis(800);
/// The largest scrape read: node_exporter's run to a few hundred kilobytes.
const MAX_SCRAPE_BYTES: u64 = 32 << 20;

/// The most columns one endpoint's table gets over a whole run: label sets that come and
/// go (pids, handlers of untemplated paths) would otherwise widen every row for as long as
/// the run lasts. Past it, new series are left out and the timeline says so once.
pub const MAX_COLUMNS: usize = 200;

/// A Prometheus endpoint (see the module comment).
pub struct PrometheusSource {
    url: String,
    target: String,
    name: String,
    matchers: Vec<SeriesMatcher>,
    agent: ureq::Agent,
    tracker: Tracker,
    columns: Vec<Column>,
    index: HashMap<String, usize>,
    last_scrape: Option<Instant>,
    /// Series left out once [`MAX_COLUMNS`] was reached; said once through `notes`.
    left_out: Option<usize>,
    said_left_out: bool,
}

impl PrometheusSource {
    /// Checks the URL (`http` or `https`, with a host) and the `--monitor-series` selectors;
    /// connects to nothing (that is [`Source::open`]).
    pub fn new(url: &str, series: &[String]) -> Result<PrometheusSource, SourceError> {
        let parsed = url::Url::parse(url).map_err(|e| {
            SourceError::new(format!(
                "--monitor-prometheus {url:?}: {e}; write the metrics URL, such as \
                 http://127.0.0.1:8000/metrics"
            ))
        })?;
        let host = match (parsed.scheme(), parsed.host_str()) {
            ("http" | "https", Some(host)) => host.to_owned(),
            _ => {
                return Err(SourceError::new(format!(
                    "--monitor-prometheus {url:?}: an http:// or https:// URL with a host was \
                     expected, such as http://127.0.0.1:8000/metrics"
                )))
            }
        };
        let matchers = series
            .iter()
            .map(|s| SeriesMatcher::parse(s).map_err(SourceError::new))
            .collect::<Result<Vec<_>, _>>()?;
        let mut shown = parsed.clone();
        if shown.password().is_some() {
            // The URL was just parsed with a host, so it can carry a password.
            let _ = shown.set_password(Some("redacted"));
        }
        let port = parsed
            .port_or_known_default()
            .map_or(String::new(), |p| format!(":{p}"));
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(SCRAPE_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(PrometheusSource {
            url: url.to_owned(),
            target: shown.to_string(),
            name: format!("prometheus {host}{port}{}", parsed.path()),
            matchers,
            agent,
            tracker: Tracker::default(),
            columns: Vec::new(),
            index: HashMap::new(),
            last_scrape: None,
            left_out: None,
            said_left_out: false,
        })
    }

    /// One scrape, read: the columns it wants are added to the table.
    fn scrape(&mut self) -> Result<(rules::Reading, Instant), SourceError> {
        let mut response = self
            .agent
            .get(&self.url)
            // The classic text format: a server that speaks OpenMetrics or protobuf too
            // answers with the one this reader knows best.
            .header("accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
            .call()
            .map_err(|e| SourceError::new(format!("scrape failed: {e}")))?;
        let at = Instant::now();
        let status = response.status();
        if !status.is_success() {
            return Err(SourceError::new(format!("scrape answered HTTP {status}")));
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_SCRAPE_BYTES)
            .read_to_string()
            .map_err(|e| SourceError::new(format!("reading the scrape failed: {e}")))?;
        let series = exposition::parse(&text)
            .map_err(|e| SourceError::new(format!("the scrape is not in the text format: {e}")))?;
        let reading = rules::read(&series, &self.matchers);
        for wanted in &reading.wanted {
            if !self.index.contains_key(&wanted.column.key) {
                if self.columns.len() >= MAX_COLUMNS {
                    *self.left_out.get_or_insert(0) += 1;
                    continue;
                }
                self.index
                    .insert(wanted.column.key.clone(), self.columns.len());
                self.columns.push(wanted.column.clone());
            }
        }
        Ok((reading, at))
    }
}

impl Source for PrometheusSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Prometheus
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn target(&self) -> String {
        self.target.clone()
    }

    fn open(&mut self) -> Result<(), SourceError> {
        let (reading, at) = self.scrape()?;
        self.tracker.baseline(&reading);
        self.last_scrape = Some(at);
        Ok(())
    }

    fn columns(&self) -> &[Column] {
        &self.columns
    }

    fn sample(&mut self) -> Result<Vec<Option<f64>>, SourceError> {
        let (reading, at) = self.scrape()?;
        let elapsed = self
            .last_scrape
            .map_or(0.0, |before| at.duration_since(before).as_secs_f64());
        let figures = self.tracker.figures(&reading, elapsed);
        self.last_scrape = Some(at);
        let mut row = vec![None; self.columns.len()];
        for (wanted, value) in reading.wanted.iter().zip(figures) {
            if let Some(&i) = self.index.get(&wanted.column.key) {
                row[i] = value;
            }
        }
        Ok(row)
    }

    fn notes(&mut self) -> Vec<String> {
        match self.left_out {
            Some(_) if !self.said_left_out => {
                self.said_left_out = true;
                vec![format!(
                    "{MAX_COLUMNS} columns reached: series that appear from now on are left \
                     out (name the ones that matter with --monitor-series, or fewer label \
                     sets)"
                )]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// prometheus-fastapi-instrumentator's output (trimmed), twice, 2 s apart.
    const FIRST: &str = r#"# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 5.0e+07
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 10.0
# TYPE http_requests_total counter
http_requests_total{handler="/fast",method="GET",status="2xx"} 100.0
http_requests_total{handler="/items/{item_id}",method="GET",status="2xx"} 10.0
# TYPE http_requests_created gauge
http_requests_created{handler="/fast",method="GET",status="2xx"} 1.79e+09
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{handler="/fast",le="0.1",method="GET"} 100.0
http_request_duration_seconds_bucket{handler="/fast",le="0.5",method="GET"} 100.0
http_request_duration_seconds_bucket{handler="/fast",le="1.0",method="GET"} 100.0
http_request_duration_seconds_bucket{handler="/fast",le="+Inf",method="GET"} 100.0
http_request_duration_seconds_count{handler="/fast",method="GET"} 100.0
http_request_duration_seconds_sum{handler="/fast",method="GET"} 1.0
# TYPE db_pool_checked_out gauge
db_pool_checked_out{pool="main"} 3.0
"#;

    const SECOND: &str = r#"# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 6.0e+07
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 11.0
# TYPE http_requests_total counter
http_requests_total{handler="/fast",method="GET",status="2xx"} 300.0
http_requests_total{handler="/items/{item_id}",method="GET",status="2xx"} 10.0
http_requests_total{handler="/items/{item_id}",method="GET",status="5xx"} 4.0
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{handler="/fast",le="0.1",method="GET"} 150.0
http_request_duration_seconds_bucket{handler="/fast",le="0.5",method="GET"} 290.0
http_request_duration_seconds_bucket{handler="/fast",le="1.0",method="GET"} 300.0
http_request_duration_seconds_bucket{handler="/fast",le="+Inf",method="GET"} 300.0
# TYPE db_pool_checked_out gauge
db_pool_checked_out{pool="main"} 5.0
"#;

    fn columns_of(reading: &rules::Reading) -> Vec<&str> {
        reading
            .wanted
            .iter()
            .map(|w| w.column.key.as_str())
            .collect()
    }

    #[test]
    fn two_scrapes_become_rates_counts_and_percentiles() {
        let first = rules::read(&exposition::parse(FIRST).unwrap(), &[]);
        let second = rules::read(&exposition::parse(SECOND).unwrap(), &[]);
        let mut tracker = Tracker::default();
        tracker.baseline(&first);
        let figures = tracker.figures(&second, 2.0);
        let got: HashMap<&str, Option<f64>> =
            columns_of(&second).into_iter().zip(figures).collect();
        // CPU: 1 s of CPU over 2 s of wall time.
        assert_eq!(got["cpu"], Some(50.0));
        assert_eq!(got["rss"], Some(6.0e7));
        // 200 + 4 requests in 2 s; the 5xx label set is new, so all 4 count.
        assert_eq!(got["http_requests_per_s"], Some(102.0));
        assert_eq!(got["http_errors_per_s"], Some(2.0));
        assert_eq!(got[r#"http_requests_per_s{handler="/fast"}"#], Some(100.0));
        assert_eq!(got[r#"http_requests{handler="/fast"}"#], Some(200.0));
        assert_eq!(
            got[r#"http_requests{handler="/items/{item_id}"}"#],
            Some(4.0)
        );
        // The 200 new observations: 50 at or below 0.1 s, 140 in (0.1, 0.5], 10 in (0.5, 1].
        // p50: rank 100, 0.1 + 0.4 * 50/140 s.
        let p50 = got["http_p50_ms"].unwrap();
        assert!(
            (p50 - 1000.0 * (0.1 + 0.4 * 50.0 / 140.0)).abs() < 1e-9,
            "{p50}"
        );
        // p99: rank 198, 0.5 + 0.5 * 8/10 s.
        let p99 = got[r#"http_p99_ms{handler="/fast"}"#].unwrap();
        assert!((p99 - 900.0).abs() < 1e-9, "{p99}");
        assert_eq!(got[r#"db_pool_checked_out{pool="main"}"#], Some(5.0));
        assert!(!got.keys().any(|k| k.contains("created")), "{got:?}");
    }

    #[test]
    fn a_selected_series_is_counted_once_and_apart_from_the_built_in_sums() {
        // The CPU counter is also a built-in column, and two selectors both match the
        // /items 5xx series: neither may double anything.
        let selectors: Vec<SeriesMatcher> = [
            "process_cpu_seconds_total",
            r#"http_requests_total{status="5xx"}"#,
            r#"http_requests_total{handler="/items/{item_id}"}"#,
        ]
        .iter()
        .map(|s| SeriesMatcher::parse(s).unwrap())
        .collect();
        let first = rules::read(&exposition::parse(FIRST).unwrap(), &selectors);
        let second = rules::read(&exposition::parse(SECOND).unwrap(), &selectors);
        let mut tracker = Tracker::default();
        tracker.baseline(&first);
        let figures = tracker.figures(&second, 2.0);
        let got: HashMap<&str, Option<f64>> =
            columns_of(&second).into_iter().zip(figures).collect();
        assert_eq!(got["cpu"], Some(50.0), "{got:?}");
        assert_eq!(got["rate(process_cpu_seconds_total)"], Some(0.5), "{got:?}");
        let five_xx = got
            .iter()
            .find(|(k, _)| k.starts_with("rate(http_requests_total{") && k.contains("5xx"))
            .map(|(_, v)| *v);
        // 4 new 5xx requests in 2 s (the label set is new: all of it counts), once.
        assert_eq!(five_xx, Some(Some(2.0)), "{got:?}");
        assert_eq!(got["http_requests_per_s"], Some(102.0), "{got:?}");
    }

    #[test]
    fn a_counter_reset_gives_no_rate_that_sample() {
        let mut tracker = Tracker::default();
        tracker.baseline(&rules::read(&exposition::parse(SECOND).unwrap(), &[]));
        let after_restart = rules::read(&exposition::parse(FIRST).unwrap(), &[]);
        let figures = tracker.figures(&after_restart, 1.0);
        let got: HashMap<&str, Option<f64>> = columns_of(&after_restart)
            .into_iter()
            .zip(figures)
            .collect();
        assert_eq!(got["cpu"], None);
        assert_eq!(got[r#"http_requests_per_s{handler="/fast"}"#], None);
        assert_eq!(got["http_p50_ms"], None);
        assert_eq!(got["rss"], Some(5.0e7));
        // increase() semantics: after a reset the new value counts as added.
        assert_eq!(got[r#"http_requests{handler="/fast"}"#], Some(100.0));
    }

    #[test]
    fn selected_series_follow_promql() {
        let matchers = [
            SeriesMatcher::parse(r#"http_requests_total{status="5xx"}"#).unwrap(),
            SeriesMatcher::parse("process_resident_memory_bytes").unwrap(),
        ];
        let mut tracker = Tracker::default();
        tracker.baseline(&rules::read(&exposition::parse(FIRST).unwrap(), &matchers));
        let second = rules::read(&exposition::parse(SECOND).unwrap(), &matchers);
        let figures = tracker.figures(&second, 2.0);
        let got: HashMap<&str, Option<f64>> =
            columns_of(&second).into_iter().zip(figures).collect();
        let key =
            r#"rate(http_requests_total{handler="/items/{item_id}",method="GET",status="5xx"})"#;
        assert_eq!(got[key], Some(2.0), "{got:?}");
        assert_eq!(got["process_resident_memory_bytes"], Some(6.0e7));
    }

    #[test]
    fn new_checks_the_url_and_selectors_without_connecting() {
        let source = PrometheusSource::new("http://user:secret@127.0.0.1:1/metrics", &[]).unwrap();
        assert_eq!(source.name(), "prometheus 127.0.0.1:1/metrics");
        assert!(!source.target().contains("secret"), "{}", source.target());
        assert!(PrometheusSource::new("127.0.0.1:8000/metrics", &[]).is_err());
        let err = PrometheusSource::new("http://127.0.0.1:1/metrics", &["m{a=b}".into()])
            .err()
            .unwrap();
        assert!(err.0.contains("column 5"), "{err}");
    }

    #[test]
    fn an_unreachable_endpoint_is_an_error_not_a_hang() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut source =
            PrometheusSource::new(&format!("http://127.0.0.1:{port}/metrics"), &[]).unwrap();
        let started = Instant::now();
        assert!(source.open().is_err());
        assert!(source.sample().is_err());
        assert!(started.elapsed() < 2 * SCRAPE_TIMEOUT);
    }

    #[test]
    fn columns_stop_growing_at_the_cap_and_the_timeline_is_told_once() {
        use std::io::{Read, Write};
        // 150 handlers: two columns each, past the cap.
        let mut page = String::from("# TYPE http_requests_total counter\n");
        for h in 0..150 {
            page.push_str(&format!(
                "http_requests_total{{handler=\"/h{h}\",method=\"GET\",status=\"2xx\"}} 1\n"
            ));
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/metrics", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            for _ in 0..2 {
                let (mut c, _) = listener.accept().unwrap();
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                let _ = write!(
                    c,
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                    page.len()
                );
            }
        });
        let mut source = PrometheusSource::new(&url, &[]).unwrap();
        source.open().unwrap();
        let row = source.sample().unwrap();
        server.join().unwrap();
        assert_eq!(source.columns().len(), MAX_COLUMNS);
        assert_eq!(row.len(), MAX_COLUMNS);
        let notes = source.notes();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("200 columns reached"), "{notes:?}");
        assert!(source.notes().is_empty(), "said once");
    }
}
