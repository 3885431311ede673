//! The flags that watch the server while the load runs (`--monitor-*`, `--probe*`) and
//! export barrage's own figures live (`--prometheus-listen`, `--otlp`), and `--traceparent`;
//! shared by `run`, `hit` and `demo`. This module only turns flags into the session's
//! `MonitorConfig` and the exporters' `ExportConfig`.

use std::time::Duration;

use barrage_export::ExportConfig;
use barrage_monitor::{MonitorConfig, ProbeConfig};
use clap::Args;

#[derive(Args, Debug, Clone, Default)]
pub struct MonitorArgs {
    /// Watch this process while the load runs: CPU, memory, threads, open files, context
    /// switches, disk and network bytes, per second (repeatable).
    #[arg(
        long = "monitor-pid",
        value_name = "PID",
        help_heading = "Server monitoring"
    )]
    pub pids: Vec<u32>,
    /// Watch the processes listening on this TCP port and their children (uvicorn
    /// --workers, gunicorn) (repeatable).
    #[arg(
        long = "monitor-port",
        value_name = "PORT",
        help_heading = "Server monitoring"
    )]
    pub ports: Vec<u16>,
    /// Scrape this Prometheus endpoint every interval, e.g. a FastAPI app's /metrics or
    /// postgres_exporter (repeatable): counters become rates, histograms percentiles.
    #[arg(
        long = "monitor-prometheus",
        value_name = "URL",
        help_heading = "Server monitoring"
    )]
    pub prometheus: Vec<String>,
    /// Keep this Prometheus series too, by name or matcher, beyond the well-known ones
    /// (repeatable), e.g. 'db_pool_in_use' or 'http_requests_total{handler="/items"}'.
    #[arg(
        long = "monitor-series",
        value_name = "SERIES",
        help_heading = "Server monitoring"
    )]
    pub series: Vec<String>,
    /// Watch this PostgreSQL server: connections by state, lock waits, transactions/s,
    /// rows/s, the longest query, and pg_stat_statements when installed (repeatable).
    #[arg(
        long = "monitor-postgres",
        value_name = "URL",
        help_heading = "Server monitoring"
    )]
    pub postgres: Vec<String>,
    /// Time between samples of every monitored source.
    #[arg(long = "monitor-interval", value_name = "DURATION", default_value = "1s",
          value_parser = crate::durations::parse_positive_duration, help_heading = "Server monitoring")]
    pub interval: Duration,
    /// Send a light GET to this path (e.g. /health) at a fixed rate on a connection of its
    /// own, timed from its schedule and left out of the statistics: how long the service
    /// stopped answering (event-loop stalls).
    #[arg(
        long = "probe",
        value_name = "PATH",
        help_heading = "Server monitoring"
    )]
    pub probe: Option<String>,
    /// Probes per second.
    #[arg(
        long = "probe-rate",
        value_name = "N",
        default_value_t = 10.0,
        requires = "probe",
        help_heading = "Server monitoring"
    )]
    pub probe_rate: f64,
    /// Serve barrage's live figures at http://ADDR/metrics in the Prometheus text format,
    /// e.g. 127.0.0.1:9464. An address beyond loopback needs --prometheus-auth-token.
    #[arg(
        long = "prometheus-listen",
        value_name = "ADDR",
        help_heading = "Exports"
    )]
    pub prometheus_listen: Option<String>,
    /// Scrapes of --prometheus-listen must carry `Authorization: Bearer TOKEN` (ignored
    /// without --prometheus-listen, so the variable may stay set in a shell or CI job).
    #[arg(
        long = "prometheus-auth-token",
        value_name = "TOKEN",
        env = "BARRAGE_PROMETHEUS_AUTH_TOKEN",
        help_heading = "Exports"
    )]
    pub prometheus_token: Option<String>,
    /// Push barrage's live figures as OpenTelemetry metrics over OTLP/HTTP to this URL,
    /// e.g. http://127.0.0.1:4318/v1/metrics.
    #[arg(long = "otlp", value_name = "URL", help_heading = "Exports")]
    pub otlp: Option<String>,
    /// Time between OTLP pushes (one more is sent at the end).
    #[arg(long = "otlp-interval", value_name = "DURATION", default_value = "10s",
          value_parser = crate::durations::parse_positive_duration, requires = "otlp",
          help_heading = "Exports")]
    pub otlp_interval: Duration,
    /// Add a W3C `traceparent` header to every request, and keep the trace ids of the 5
    /// slowest requests per endpoint in the result file.
    #[arg(long, help_heading = "Exports")]
    pub traceparent: bool,
}

impl MonitorArgs {
    /// The session's monitor settings; `base` is the scenario's target, which `--probe`'s
    /// path is resolved against. `Err` says what to fix.
    pub fn monitor(
        &self,
        base: Option<&url::Url>,
        insecure: bool,
    ) -> Result<MonitorConfig, String> {
        let probe = match &self.probe {
            None => None,
            Some(path) => {
                let url = match url::Url::parse(path) {
                    Ok(absolute) => absolute,
                    Err(_) => {
                        let Some(base) = base else {
                            return Err(format!(
                                "--probe {path}: the scenario has no target to resolve the path \
                                 against; give --host, or an absolute URL"
                            ));
                        };
                        base.join(path)
                            .map_err(|e| format!("--probe {path}: {e}"))?
                    }
                };
                Some(ProbeConfig {
                    url: url.to_string(),
                    rate: self.probe_rate,
                    insecure,
                })
            }
        };
        let config = MonitorConfig {
            pids: self.pids.clone(),
            ports: self.ports.clone(),
            prometheus: self.prometheus.clone(),
            series: self.series.clone(),
            postgres: self.postgres.clone(),
            probe,
            interval: self.interval,
        };
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }

    /// The exporters' settings for the run `run_id`.
    pub fn exports(&self, run_id: &str) -> ExportConfig {
        ExportConfig {
            prometheus_listen: self.prometheus_listen.clone(),
            prometheus_token: self.prometheus_token.clone(),
            otlp: self.otlp.clone(),
            otlp_interval: self.otlp_interval,
            run_id: run_id.to_owned(),
        }
    }
}
