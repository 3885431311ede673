//! barrage-export: the run's live figures, out to the tools teams already watch.
//!
//! - `--prometheus-listen ADDR`: a [`barrage_session::Sink`] that serves `/metrics` in the
//!   Prometheus text format, on a thread of its own, from the newest closed second.
//! - `--otlp URL`: a sink that pushes the same figures as OpenTelemetry metrics over
//!   OTLP/HTTP (protobuf), every `--otlp-interval` and once more at the end.
//!
//! Both read what every closed second carries (the snapshot, and the cumulative latency
//! buckets the session computes when `Settings::latency_buckets` is set to
//! [`LATENCY_BUCKETS_S`]); neither touches a worker.

use std::time::Duration;

use barrage_session::Sink;

/// The latency bucket bounds both exporters publish, in seconds: OpenTelemetry's advice
/// for `http.client.request.duration`, extended to 30 s and 60 s for load tests.
pub const LATENCY_BUCKETS_S: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0, 60.0,
];

/// What to export (the flags).
#[derive(Clone, Debug, Default)]
pub struct ExportConfig {
    /// `--prometheus-listen`: `127.0.0.1:9464`, `[::1]:0`, `0.0.0.0:9464` (with a token).
    pub prometheus_listen: Option<String>,
    /// `--prometheus-auth-token`: scrapes must carry `Authorization: Bearer TOKEN`; needed
    /// to listen beyond loopback.
    pub prometheus_token: Option<String>,
    /// `--otlp`: the OTLP/HTTP metrics endpoint (`http://127.0.0.1:4318/v1/metrics`).
    pub otlp: Option<String>,
    /// `--otlp-interval`: between pushes.
    pub otlp_interval: Duration,
    /// The run's id (`RunMeta::run_id`): the `run_id` label / attribute.
    pub run_id: String,
}

impl ExportConfig {
    pub fn is_empty(&self) -> bool {
        self.prometheus_listen.is_none() && self.otlp.is_none()
    }
}

/// Why an export could not start (before the run starts, so the user can fix the flag).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("--prometheus-listen {addr}: {reason}")]
    Listen { addr: String, reason: String },
    #[error("--otlp {url}: {reason}")]
    Otlp { url: String, reason: String },
}

/// The sinks `config` asks for; the Prometheus listener is bound here, so a taken port or
/// a non-loopback address without a token fails before the load starts. Returns with the
/// sinks the lines to print (`Prometheus metrics: http://127.0.0.1:9464/metrics`).
pub fn sinks(config: &ExportConfig) -> Result<(Vec<Box<dyn Sink>>, Vec<String>), ExportError> {
    if config.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    todo!("barrage-export: sinks")
}
