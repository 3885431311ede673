//! Which series of a scrape become columns, and how: the default set of well-known series
//! (process CPU and memory, prometheus-fastapi-instrumentator's request counts and
//! durations, database-connection gauges) and the `--monitor-series` selectors.
//!
//! A scrape becomes a [`Reading`]: the cumulative values this scrape holds (counters and
//! histogram buckets, summed where a column sums several series, keyed by what they are)
//! and the columns wanted, each saying which of those values it is computed from. Rates and
//! quantiles need the previous scrape: that is [`super::rates`]' business.

use std::collections::BTreeMap;

use barrage_metrics::Column;

use super::exposition::{Kind, Series, Value};
use super::matcher::SeriesMatcher;

/// Above this many handlers, `http_request_duration_seconds` is kept over all handlers only:
/// three percentiles per handler would drown every other column.
pub const MAX_HANDLER_PERCENTILES: usize = 20;
/// Label sets kept per database-connection gauge family and per `--monitor-series`.
pub const MAX_SERIES_PER_RULE: usize = 20;

/// What a column is computed from.
#[derive(Clone, Debug, PartialEq)]
pub enum Figure {
    /// A gauge's value, times the scale.
    Gauge(f64),
    /// The per-second increase of counter `of`, times `scale`.
    Rate { of: String, scale: f64 },
    /// The increase of counter `of` since the first scrape.
    Increase { of: String },
    /// Quantile `q` of the observations added to histogram `of` since the last scrape,
    /// times `scale`.
    Quantile { of: String, q: f64, scale: f64 },
}

/// One column wanted by a scrape.
#[derive(Clone, Debug, PartialEq)]
pub struct Wanted {
    pub column: Column,
    pub figure: Figure,
}

/// A scrape, read (see the module comment).
#[derive(Clone, Debug, Default)]
pub struct Reading {
    pub counters: BTreeMap<String, f64>,
    /// Cumulative bucket counts by upper bound, ascending.
    pub histograms: BTreeMap<String, Vec<(f64, f64)>>,
    pub wanted: Vec<Wanted>,
}

impl Reading {
    fn want(&mut self, key: String, label: String, unit: &str, figure: Figure) {
        if self.wanted.iter().any(|w| w.column.key == key) {
            return;
        }
        self.wanted.push(Wanted {
            column: Column {
                key,
                label,
                unit: unit.to_owned(),
                figure: None,
            },
            figure,
        });
    }

    fn add_counter(&mut self, of: &str, value: f64) {
        *self.counters.entry(of.to_owned()).or_insert(0.0) += value;
    }

    /// One exact series (a `--monitor-series` selection): kept once under a key of its
    /// own, never added to the built-in sums, and a series two selectors match is not
    /// counted twice.
    fn set_counter(&mut self, of: &str, value: f64) {
        self.counters
            .entry(format!("selected:{of}"))
            .or_insert(value);
    }

    fn set_histogram(&mut self, of: &str, buckets: &[(f64, f64)]) {
        self.histograms
            .entry(format!("selected:{of}"))
            .or_insert_with(|| buckets.to_vec());
    }

    fn add_histogram(&mut self, of: &str, buckets: &[(f64, f64)]) {
        let sum = self.histograms.entry(of.to_owned()).or_default();
        for &(le, count) in buckets {
            match sum.iter_mut().find(|(bound, _)| *bound == le) {
                Some((_, total)) => *total += count,
                None => sum.push((le, count)),
            }
        }
        sum.sort_by(|a, b| a.0.total_cmp(&b.0));
    }

    /// p50, p95 and p99 of histogram `of` (its buckets added beforehand).
    fn want_percentiles(&mut self, of: &str, key: &dyn Fn(&str) -> String, label: &str) {
        for (name, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
            self.want(
                key(name),
                format!("{name} {label}"),
                "ms",
                Figure::Quantile {
                    of: of.to_owned(),
                    q,
                    scale: 1000.0,
                },
            );
        }
    }
}

/// Reads a scrape's series into the columns to show (see the module comment).
pub fn read(series: &[Series], matchers: &[SeriesMatcher]) -> Reading {
    let mut reading = Reading::default();
    process(series, &mut reading);
    http_requests(series, &mut reading);
    http_durations(series, &mut reading);
    connection_gauges(series, &mut reading);
    for matcher in matchers {
        selected(series, matcher, &mut reading);
    }
    reading
}

fn scalar(series: &Series) -> Option<f64> {
    match series.value {
        Value::Scalar(v) if v.is_finite() => Some(v),
        _ => None,
    }
}

fn process(series: &[Series], reading: &mut Reading) {
    for s in series.iter().filter(|s| s.labels.is_empty()) {
        match (s.name.as_str(), scalar(s)) {
            ("process_cpu_seconds_total", Some(v)) => {
                reading.add_counter("process_cpu_seconds_total", v);
                reading.want(
                    "cpu".into(),
                    "CPU".into(),
                    "%",
                    Figure::Rate {
                        of: "process_cpu_seconds_total".into(),
                        scale: 100.0,
                    },
                );
            }
            ("process_resident_memory_bytes", Some(v)) => {
                reading.want("rss".into(), "RSS".into(), "bytes", Figure::Gauge(v))
            }
            _ => {}
        }
    }
}

/// prometheus-fastapi-instrumentator's `http_requests_total` (handler, method, status):
/// summed per handler, as a rate and as the count since the first scrape; the total rate
/// and the 5xx rate.
fn http_requests(series: &[Series], reading: &mut Reading) {
    let mut total = None;
    let mut errors = 0.0;
    let mut handlers: BTreeMap<&str, f64> = BTreeMap::new();
    for s in series.iter().filter(|s| s.name == "http_requests_total") {
        let Some(v) = scalar(s) else { continue };
        *total.get_or_insert(0.0) += v;
        if s.label("status").is_some_and(|st| st.starts_with('5')) {
            errors += v;
        }
        *handlers
            .entry(s.label("handler").unwrap_or(""))
            .or_insert(0.0) += v;
    }
    let Some(total) = total else { return };
    reading.add_counter("http_requests_total", total);
    reading.add_counter("http_requests_total{status=5xx}", errors);
    reading.want(
        "http_requests_per_s".into(),
        "requests/s".into(),
        "/s",
        Figure::Rate {
            of: "http_requests_total".into(),
            scale: 1.0,
        },
    );
    reading.want(
        "http_errors_per_s".into(),
        "5xx/s".into(),
        "/s",
        Figure::Rate {
            of: "http_requests_total{status=5xx}".into(),
            scale: 1.0,
        },
    );
    for (handler, v) in handlers {
        let of = format!("http_requests_total{}", labels_key(&[("handler", handler)]));
        reading.add_counter(&of, v);
        let labels = labels_key(&[("handler", handler)]);
        reading.want(
            format!("http_requests_per_s{labels}"),
            format!("requests/s {handler}"),
            "/s",
            Figure::Rate {
                of: of.clone(),
                scale: 1.0,
            },
        );
        reading.want(
            format!("http_requests{labels}"),
            format!("requests {handler} (since start)"),
            "count",
            Figure::Increase { of },
        );
    }
}

/// `http_request_duration_seconds` over all handlers and per handler (up to
/// [`MAX_HANDLER_PERCENTILES`]), and `http_request_duration_highr_seconds` (finer buckets,
/// no labels).
fn http_durations(series: &[Series], reading: &mut Reading) {
    let mut handlers: BTreeMap<&str, Vec<&[(f64, f64)]>> = BTreeMap::new();
    for s in series {
        let Value::Histogram { buckets } = &s.value else {
            continue;
        };
        match s.name.as_str() {
            "http_request_duration_seconds" => {
                reading.add_histogram("http_request_duration_seconds", buckets);
                handlers
                    .entry(s.label("handler").unwrap_or(""))
                    .or_default()
                    .push(buckets);
            }
            "http_request_duration_highr_seconds" => {
                reading.add_histogram("http_request_duration_highr_seconds", buckets)
            }
            _ => {}
        }
    }
    if reading
        .histograms
        .contains_key("http_request_duration_seconds")
    {
        reading.want_percentiles(
            "http_request_duration_seconds",
            &|p| format!("http_{p}_ms"),
            "(all handlers)",
        );
    }
    if reading
        .histograms
        .contains_key("http_request_duration_highr_seconds")
    {
        reading.want_percentiles(
            "http_request_duration_highr_seconds",
            &|p| format!("http_highr_{p}_ms"),
            "(fine buckets)",
        );
    }
    if handlers.len() <= MAX_HANDLER_PERCENTILES {
        for (handler, parts) in handlers {
            let labels = labels_key(&[("handler", handler)]);
            let of = format!("http_request_duration_seconds{labels}");
            for buckets in parts {
                reading.add_histogram(&of, buckets);
            }
            reading.want_percentiles(&of, &|p| format!("http_{p}_ms{labels}"), handler);
        }
    }
}

/// Whether a gauge family counts database connections, by the names in common use:
/// postgres_exporter's `pg_stat_activity_count` and `pg_stat_database_numbackends`,
/// SQLAlchemy-style pool gauges (`*_pool_size`, `*_pool_checked_out*`, `*_pool_checkedout*`)
/// and any gauge with `connections` in its name (`db_connections_in_use`).
pub fn is_connection_gauge(name: &str) -> bool {
    name == "pg_stat_activity_count"
        || name == "pg_stat_database_numbackends"
        || name.ends_with("_pool_size")
        || name.contains("_pool_checked_out")
        || name.contains("_pool_checkedout")
        || name.contains("connections")
}

fn connection_gauges(series: &[Series], reading: &mut Reading) {
    let mut per_family: BTreeMap<&str, usize> = BTreeMap::new();
    for s in series {
        if !matches!(s.kind, Kind::Gauge | Kind::Untyped) || !is_connection_gauge(&s.name) {
            continue;
        }
        let Some(v) = scalar(s) else { continue };
        let kept = per_family.entry(&s.name).or_insert(0);
        if *kept >= MAX_SERIES_PER_RULE {
            continue;
        }
        *kept += 1;
        reading.want(series_key(s), series_label(s), "count", Figure::Gauge(v));
    }
}

/// A `--monitor-series` selector: every selected series (up to [`MAX_SERIES_PER_RULE`]) a
/// column of its own, as PromQL would show it: a gauge as is, a counter's `rate(..)`, a
/// histogram's p50/p95/p99, a summary's quantiles and `rate(.._count)`.
fn selected(series: &[Series], matcher: &SeriesMatcher, reading: &mut Reading) {
    for s in series
        .iter()
        .filter(|s| matcher.matches(s))
        .take(MAX_SERIES_PER_RULE)
    {
        let key = series_key(s);
        let label = series_label(s);
        let seconds = s.name.ends_with("_seconds") || s.name.ends_with("_seconds_total");
        match (&s.value, s.kind) {
            (Value::Scalar(v), Kind::Counter) if v.is_finite() => {
                reading.set_counter(&key, *v);
                reading.want(
                    format!("rate({key})"),
                    format!("{label} /s"),
                    "/s",
                    Figure::Rate {
                        of: format!("selected:{key}"),
                        scale: 1.0,
                    },
                );
            }
            (Value::Scalar(v), _) if v.is_finite() => {
                let (unit, scale) = gauge_unit(&s.name);
                reading.want(key, label, unit, Figure::Gauge(v * scale));
            }
            (Value::Histogram { buckets }, _) => {
                reading.set_histogram(&key, buckets);
                let (unit, scale) = if seconds {
                    ("ms", 1000.0)
                } else {
                    (gauge_unit(&s.name).0, 1.0)
                };
                for (name, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
                    reading.want(
                        format!("{name}({key})"),
                        format!("{name} {label}"),
                        unit,
                        Figure::Quantile {
                            of: format!("selected:{key}"),
                            q,
                            scale,
                        },
                    );
                }
                if let Some(&(_, count)) = buckets.last() {
                    let of = format!("{key}:count");
                    reading.set_counter(&of, count);
                    let of = format!("selected:{of}");
                    reading.want(
                        format!("rate({key}:count)"),
                        format!("{label} observations/s"),
                        "/s",
                        Figure::Rate { of, scale: 1.0 },
                    );
                }
            }
            (Value::Summary { quantiles, count }, _) => {
                let (unit, scale) = gauge_unit(&s.name);
                for &(q, v) in quantiles.iter().filter(|(_, v)| v.is_finite()) {
                    reading.want(
                        format!("{key}:quantile={q}"),
                        format!("{label} q{q}"),
                        unit,
                        Figure::Gauge(v * scale),
                    );
                }
                if let Some(count) = count {
                    let of = format!("{key}:count");
                    reading.set_counter(&of, *count);
                    let of = format!("selected:{of}");
                    reading.want(
                        format!("rate({key}:count)"),
                        format!("{label} observations/s"),
                        "/s",
                        Figure::Rate { of, scale: 1.0 },
                    );
                }
            }
            _ => {}
        }
    }
}

/// A gauge's unit by the naming conventions: `_bytes`, `_seconds` (shown in ms).
fn gauge_unit(name: &str) -> (&'static str, f64) {
    if name.ends_with("_bytes") {
        ("bytes", 1.0)
    } else if name.ends_with("_seconds") {
        ("ms", 1000.0)
    } else {
        ("count", 1.0)
    }
}

/// `{a="x",b="y"}`, empty without labels: the stable part of a column key.
fn labels_key(labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// The series as PromQL writes it: `name{a="x"}`.
fn series_key(s: &Series) -> String {
    let labels: Vec<(&str, &str)> = s
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    format!("{}{}", s.name, labels_key(&labels))
}

/// For people: `name a=x b=y`.
fn series_label(s: &Series) -> String {
    let mut label = s.name.clone();
    for (k, v) in &s.labels {
        label.push_str(&format!(" {k}={v}"));
    }
    label
}
