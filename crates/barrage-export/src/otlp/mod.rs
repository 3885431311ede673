//! `--otlp URL`: a sink that pushes the run's figures as OpenTelemetry metrics over
//! OTLP/HTTP (protobuf), every `--otlp-interval` and once more at the end.
//!
//! The push is a blocking POST on the sink's own thread (the session gives every sink
//! one): while a push waits on a slow collector the sink misses seconds, which costs
//! nothing, since every push carries cumulative totals. A failed push never stops the run:
//! the first failure is a warning line, the rest are counted and told at the end.

mod request;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use barrage_session::{Finished, Live, Sink, SinkError, Started};
use prost::Message;

use crate::figures::Figures;
use crate::ExportError;

/// The longest a push may take; a collector slower than that is reported as failing.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// The sink.
pub(crate) struct OtlpSink {
    url: String,
    interval: Duration,
    run_id: String,
    agent: ureq::Agent,
    /// When the run started, in nanoseconds since the epoch (every point's start time).
    start_unix_nano: u64,
    /// The run time (on the session's second count) at which the next push is due: pushes
    /// follow the run's own clock, so a 1 s interval pushes every closed second, never
    /// skipping one because the second closed a millisecond early.
    next_push: Duration,
    pushes: u64,
    failed: u64,
    last_error: Option<String>,
}

impl OtlpSink {
    /// A sink pushing to `url` (checked here: an `http://` or `https://` address).
    pub(crate) fn new(
        url: &str,
        interval: Duration,
        run_id: &str,
    ) -> Result<OtlpSink, ExportError> {
        let fail = |reason: &str| ExportError::Otlp {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: ureq::http::Uri = url.parse().map_err(|_| {
            fail("not a URL; give the collector's OTLP/HTTP metrics address, like http://127.0.0.1:4318/v1/metrics")
        })?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(fail(
                "not an http:// or https:// address; give one like \
                 http://127.0.0.1:4318/v1/metrics",
            ));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(PUSH_TIMEOUT.min(interval.max(Duration::from_secs(1)))))
            .http_status_as_error(true)
            .build()
            .into();
        Ok(OtlpSink {
            url: url.to_owned(),
            interval,
            run_id: run_id.to_owned(),
            agent,
            start_unix_nano: unix_nano(SystemTime::now()),
            next_push: interval,
            pushes: 0,
            failed: 0,
            last_error: None,
        })
    }

    /// `since` is where the cumulative figures start (`Snapshot::stats_since`): after a
    /// statistics reset the counts start again from zero, and OTLP's cumulative temporality
    /// says so with a new start time.
    fn push(&mut self, figures: &Figures, since: Duration) {
        let start_unix_nano = self
            .start_unix_nano
            .saturating_add(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX));
        let span = request::Span {
            start_unix_nano,
            now_unix_nano: unix_nano(SystemTime::now()).max(start_unix_nano),
        };
        let body = request::request(figures, &self.run_id, span).encode_to_vec();
        self.pushes += 1;
        let sent = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/x-protobuf")
            .send(&body[..])
            .and_then(|mut r| r.body_mut().read_to_vec().map(drop));
        if let Err(e) = sent {
            self.failed += 1;
            if self.last_error.is_none() {
                eprintln!(
                    "warning: --otlp {}: the push failed ({e}); the run goes on, and later \
                     failures are counted",
                    self.url
                );
            }
            self.last_error = Some(e.to_string());
        }
    }
}

fn unix_nano(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl Sink for OtlpSink {
    fn name(&self) -> &str {
        "OTLP"
    }

    fn started(&mut self, _run: &Started) {
        self.start_unix_nano = unix_nano(SystemTime::now());
    }

    fn second(&mut self, live: &Live) {
        let now = Duration::from_secs(live.second);
        if now < self.next_push {
            return;
        }
        self.next_push = now + self.interval;
        self.push(
            &Figures::new(&live.snapshot, live.buckets.as_deref()),
            live.snapshot.stats_since,
        );
    }

    fn finished(&mut self, end: &Finished) -> Result<Vec<String>, SinkError> {
        self.push(
            &Figures::new(&end.snapshot, end.buckets.as_deref()),
            end.snapshot.stats_since,
        );
        Ok(match &self.last_error {
            Some(e) if self.failed > 0 => vec![format!(
                "OTLP: {} of {} pushes to {} failed (the last: {e})",
                self.failed, self.pushes, self.url
            )],
            _ => Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_must_be_http_or_https() {
        let ok = OtlpSink::new(
            "http://127.0.0.1:4318/v1/metrics",
            Duration::from_secs(10),
            "r",
        );
        assert!(ok.is_ok());
        for bad in ["127.0.0.1:4318", "ftp://x/v1/metrics", "not a url"] {
            let e = OtlpSink::new(bad, Duration::from_secs(10), "r")
                .err()
                .unwrap_or_else(|| panic!("{bad} is refused"))
                .to_string();
            assert!(
                e.starts_with(&format!("--otlp {bad}:")) && e.contains("http://127.0.0.1:4318"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_failed_push_is_counted_and_told_once_at_the_end() {
        // A port nothing listens on: bound, read, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let mut sink = OtlpSink::new(
            &format!("http://127.0.0.1:{port}/v1/metrics"),
            Duration::from_secs(1),
            "r",
        )
        .unwrap();
        sink.push(&Figures::default(), Duration::ZERO);
        sink.push(&Figures::default(), Duration::ZERO);
        assert_eq!((sink.pushes, sink.failed), (2, 2));
        assert!(sink.last_error.is_some());
    }
}
