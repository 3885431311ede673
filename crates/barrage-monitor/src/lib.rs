//! barrage-monitor: the server side of a run, measured while the load runs.
//!
//! A [`Monitor`] watches the sources a [`MonitorConfig`] names (processes read from
//! `/proc`, Prometheus endpoints scraped, PostgreSQL servers queried, and the stall probe),
//! each on a thread of its own so a slow scrape never delays another source, and never on
//! an engine worker: the generator's CPU goes to the load. Every source is a table
//! (`barrage_metrics::SourceSeries`: columns and one row per sample) on the run's time axis
//! (seconds since the run's start, the `Instant` handed to [`Monitor::start`]).
//!
//! The session calls [`Monitor::tick`] once per closed second for the news (rows since the
//! last tick, the threshold figures so far, events for the timeline), [`Monitor::so_far`]
//! for a mid-run result, and [`Monitor::finish`] at the end (one last sample of every
//! source, then the whole section).
//!
//! A source that cannot be reached at the start, or is lost mid-run (the process exited,
//! the scrape failed), is an event on the timeline, never an error: the run goes on.

mod hints;
mod postgres;
mod probe;
mod process;
mod prometheus;
mod runner;
mod source;
mod stats;

use std::time::{Duration, Instant};

use barrage_metrics::{ServerLive, ServerSection};

pub use hints::hints;
pub use postgres::PostgresSource;
pub use prometheus::PrometheusSource;
pub use source::{Source, SourceError};

/// What to monitor (the `--monitor-*` and `--probe*` flags).
#[derive(Clone, Debug, Default)]
pub struct MonitorConfig {
    /// `--monitor-pid`: these processes (and nothing else).
    pub pids: Vec<u32>,
    /// `--monitor-port`: the processes listening on these TCP ports, with their children.
    pub ports: Vec<u16>,
    /// `--monitor-prometheus`: endpoints to scrape (`http://127.0.0.1:8000/metrics`).
    pub prometheus: Vec<String>,
    /// `--monitor-series`: more Prometheus series to keep, by name or matcher
    /// (`db_pool_size`, `http_requests_total{handler="/items"}`), beyond the default set.
    pub series: Vec<String>,
    /// `--monitor-postgres`: connection URLs (`postgres://user:pass@127.0.0.1:5432/app`).
    pub postgres: Vec<String>,
    /// `--probe` (resolved against the scenario's host) and `--probe-rate`.
    pub probe: Option<ProbeConfig>,
    /// `--monitor-interval`: between samples (1 s by default).
    pub interval: Duration,
}

impl MonitorConfig {
    /// Whether nothing is to be monitored (then no [`Monitor`] is started).
    pub fn is_empty(&self) -> bool {
        self.pids.is_empty()
            && self.ports.is_empty()
            && self.prometheus.is_empty()
            && self.postgres.is_empty()
            && self.probe.is_none()
    }

    /// Checks what can be checked before the run: every URL parses with a scheme its
    /// source speaks, and no pid or port is 0. A source that is merely unreachable is not an
    /// error here: that is a warning on the timeline once the run starts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.pids.contains(&0) {
            return Err(ConfigError::Zero {
                flag: "--monitor-pid",
            });
        }
        if self.ports.contains(&0) {
            return Err(ConfigError::Zero {
                flag: "--monitor-port",
            });
        }
        for url in &self.prometheus {
            check_url(
                "--monitor-prometheus",
                url,
                &["http", "https"],
                "http://127.0.0.1:8000/metrics",
            )?;
            // Its `--monitor-series` selectors too: building the source does no I/O.
            PrometheusSource::new(url, &self.series)
                .map_err(|e| ConfigError::source("--monitor-prometheus", e))?;
        }
        // A URL or a `host=... dbname=...` string, as libpq takes; building does no I/O.
        for url in &self.postgres {
            // Only the scheme here: libpq's URLs (several hosts with ports, a socket folder
            // in `?host=`) are more than the url crate takes, and `PostgresSource::new`
            // reads them as the server would. The URL is shown without its password.
            if let Some((scheme, _)) = url.split_once("://") {
                if !matches!(scheme, "postgres" | "postgresql") {
                    return Err(ConfigError::Url {
                        flag: "--monitor-postgres",
                        url: source::without_password(url),
                        reason: format!(
                            "the scheme `{scheme}` is not one this source speaks (postgres or \
                             postgresql)"
                        ),
                        example: "postgres://user:password@127.0.0.1:5432/app",
                    });
                }
            }
            PostgresSource::new(url).map_err(|e| ConfigError::source("--monitor-postgres", e))?;
        }
        if let Some(probe) = &self.probe {
            if !probe_rate_ok(probe.rate) {
                return Err(ConfigError::ProbeRate {
                    rate: probe.rate.to_string(),
                });
            }
            check_url(
                "--probe",
                &probe.url,
                &["http", "https"],
                "http://127.0.0.1:8000/health",
            )?;
        }
        Ok(())
    }
}

impl ConfigError {
    /// The source's own message, which names the flag already or gets it in front (never
    /// the URL: a PostgreSQL one may hold a password, which the sources' messages hide).
    fn source(flag: &str, e: SourceError) -> ConfigError {
        if e.0.starts_with("--") {
            ConfigError::Source(e.0)
        } else {
            ConfigError::Source(format!("{flag}: {}", e.0))
        }
    }
}

/// A monitoring flag that cannot work, found before the run starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{flag} {url}: {reason}; give a URL like {example}")]
    Url {
        flag: &'static str,
        url: String,
        reason: String,
        example: &'static str,
    },
    #[error("{flag} 0: give a number above 0")]
    Zero { flag: &'static str },
    /// What the source itself refused (a bad `--monitor-series` selector, a connection
    /// string libpq would not take), in its words.
    #[error("{0}")]
    Source(String),
    #[error(
        "--probe-rate {rate}: give probes per second, more than 0 and at most {MAX_PROBE_RATE}"
    )]
    ProbeRate { rate: String },
}

/// The most probes per second: more would be load, not a probe.
pub const MAX_PROBE_RATE: f64 = 1000.0;

/// Whether `rate` probes per second can be scheduled (finite, above 0, at most the cap).
pub(crate) fn probe_rate_ok(rate: f64) -> bool {
    rate.is_finite() && rate > 0.0 && rate <= MAX_PROBE_RATE
}

fn check_url(
    flag: &'static str,
    url: &str,
    schemes: &[&str],
    example: &'static str,
) -> Result<(), ConfigError> {
    let error = |reason: String| ConfigError::Url {
        flag,
        url: url.to_owned(),
        reason,
        example,
    };
    let parsed = url::Url::parse(url).map_err(|e| error(format!("not a URL ({e})")))?;
    if !schemes.contains(&parsed.scheme()) {
        return Err(error(format!(
            "the scheme `{}` is not one this source speaks ({})",
            parsed.scheme(),
            schemes.join(" or ")
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(error("no host".to_owned()));
    }
    Ok(())
}

/// The stall probe: a light GET at a fixed rate, on a connection of its own, timed from
/// its schedule, outside the run's statistics.
#[derive(Clone, Debug)]
pub struct ProbeConfig {
    /// The absolute URL probed (`http://127.0.0.1:8000/health`).
    pub url: String,
    /// Probes per second (`--probe-rate`, 10 by default).
    pub rate: f64,
    /// Accept any TLS certificate (`--insecure`).
    pub insecure: bool,
}

/// A running monitor (see the crate comment).
pub struct Monitor {
    runner: runner::Runner,
}

impl Monitor {
    /// Starts a thread per source. Never fails: a source that cannot start is an event in
    /// the first [`Monitor::tick`], and shows in the result as `lost`.
    pub fn start(config: MonitorConfig, run_start: Instant) -> Monitor {
        Monitor {
            runner: runner::Runner::start(config, run_start),
        }
    }

    /// The news since the last tick: new rows, the figures so far, events. Cheap: it never
    /// copies a whole series.
    pub fn tick(&mut self) -> ServerLive {
        self.runner.tick()
    }

    /// The whole section so far, for a mid-run result (copies every series).
    pub fn so_far(&self) -> ServerSection {
        self.runner.so_far()
    }

    /// Takes one last sample of every source, stops the threads and returns the section,
    /// with the probe's summary; `hints` are filled in by [`hints`] once the result exists.
    pub fn finish(self) -> ServerSection {
        self.runner.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MonitorConfig {
        MonitorConfig {
            interval: Duration::from_secs(1),
            ..MonitorConfig::default()
        }
    }

    #[test]
    fn urls_are_checked_before_the_run_with_the_fix_in_the_message() {
        let mut c = config();
        c.prometheus = vec!["http://127.0.0.1:8000/metrics".to_owned()];
        c.postgres = vec!["postgresql://app:pw@127.0.0.1/app".to_owned()];
        assert_eq!(c.validate(), Ok(()));

        c.prometheus = vec!["127.0.0.1:8000/metrics".to_owned()];
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "--monitor-prometheus 127.0.0.1:8000/metrics: not a URL (relative URL without a \
             base); give a URL like http://127.0.0.1:8000/metrics"
        );
        c.prometheus.clear();
        c.postgres = vec!["mysql://db/app".to_owned()];
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("--monitor-postgres mysql://db/app: the scheme `mysql`"));
        // The password never shows, whatever is wrong.
        c.postgres = vec!["mysql://app:hunter2@db/app".to_owned()];
        let e = c.validate().unwrap_err().to_string();
        assert!(
            !e.contains("hunter2") && e.contains("app:redacted@db"),
            "{e}"
        );
        // libpq's forms the url crate would refuse: several hosts with ports, a socket.
        c.postgres = vec![
            "postgres://app:pw@h1:5432,h2:5433/app".to_owned(),
            "postgresql:///app?host=/run/postgresql".to_owned(),
        ];
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn a_probe_rate_that_cannot_be_scheduled_is_refused() {
        let mut c = config();
        let probe = |rate| ProbeConfig {
            url: "http://127.0.0.1:8000/health".to_owned(),
            rate,
            insecure: false,
        };
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1000.5] {
            c.probe = Some(probe(rate));
            assert_eq!(
                c.validate(),
                Err(ConfigError::ProbeRate {
                    rate: rate.to_string()
                }),
                "{rate}"
            );
        }
        c.probe = Some(probe(0.0));
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "--probe-rate 0: give probes per second, more than 0 and at most 1000"
        );
        for rate in [0.5, 10.0, 1000.0] {
            c.probe = Some(probe(rate));
            assert_eq!(c.validate(), Ok(()), "{rate}");
        }
    }

    #[test]
    fn pid_and_port_zero_are_refused() {
        let mut c = config();
        c.ports = vec![0];
        assert_eq!(
            c.validate(),
            Err(ConfigError::Zero {
                flag: "--monitor-port"
            })
        );
        c.ports.clear();
        c.pids = vec![0];
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "--monitor-pid 0: give a number above 0"
        );
    }
}
