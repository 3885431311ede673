//! `--csv PREFIX`: the four files Locust writes with `--csv`, with its exact names, headers
//! and column meanings, so dashboards and scripts written for Locust read barrage's runs.
//!
//! Files: `PREFIX_stats.csv`, `PREFIX_stats_history.csv`, `PREFIX_failures.csv`,
//! `PREFIX_exceptions.csv`, as Python's `csv` module writes them (minimal quoting, `\r\n`).
//! The headers are checked against a real Locust run by `tests/locust_compat.rs`.
//!
//! Where barrage's data differs from Locust's, this is what is written (and why):
//!
//! - Latencies are barrage's response times (from the intended start) of *successful*
//!   requests, like every other barrage view; Locust also times failed ones. Median and
//!   percentile columns are whole milliseconds, as Locust writes them; averages, minimum and
//!   maximum keep their decimals, as Locust's do. Percentiles come from the run's HDR
//!   histograms (`N/A` when no request was made, as Locust writes).
//! - `Average Content Size` is bytes received per request.
//! - Stats history: barrage keeps one small summary per second, not cumulative histograms,
//!   so each row is that second's figures: `Requests/s` and `Failures/s` of the second, the
//!   `50%`, `95%`, `99%` and (aggregate only) `100%` columns of the second's requests, and
//!   `N/A` for the percentiles a second does not keep. `Total Request Count` and `Total
//!   Failure Count` are exact running totals; `Total Max Response Time` (aggregate rows) is
//!   the running maximum; the other `Total ...` columns are `N/A`. `Timestamp` is the end of
//!   the second in Unix seconds. Rows are the `Aggregated` ones unless `full_history` (Locust's
//!   `--csv-full-history`) adds one per endpoint and second.
//! - Failures: one row per endpoint and failure category, `Error` being the category and its
//!   sample message; `First Seen` and `Last Seen` are the first and last second in which the
//!   endpoint failed (per endpoint, not per category).
//! - Exceptions: barrage runs no user code that can raise, so the file has its header only.

use std::io;
use std::path::{Path, PathBuf};

use barrage_metrics::{EndpointStats, LatencyStats, ResultDoc};

use crate::output_file::write_atomic;

const STATS_HEADER: &[&str] = &[
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    "50%",
    "66%",
    "75%",
    "80%",
    "90%",
    "95%",
    "98%",
    "99%",
    "99.9%",
    "99.99%",
    "100%",
];

/// Locust's `PERCENTILES_TO_REPORT`.
const PERCENTILES: [f64; 11] = [
    0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0,
];

const HISTORY_HEADER_START: &[&str] = &[
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
];
const HISTORY_HEADER_END: &[&str] = &[
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
];

const FAILURES_HEADER: &[&str] = &[
    "Method",
    "Name",
    "Error",
    "Occurrences",
    "First Seen",
    "Last Seen",
];
const EXCEPTIONS_HEADER: &[&str] = &["Count", "Message", "Traceback", "Nodes"];

const NA: &str = "N/A";

/// The four files' contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocustCsv {
    pub stats: String,
    pub stats_history: String,
    pub failures: String,
    pub exceptions: String,
}

impl LocustCsv {
    /// Renders the files from a result. `full_history` adds per-endpoint history rows.
    pub fn from_result(doc: &ResultDoc, full_history: bool) -> LocustCsv {
        LocustCsv {
            stats: stats(doc),
            stats_history: stats_history(doc, full_history),
            failures: failures(doc),
            exceptions: table(EXCEPTIONS_HEADER, Vec::new()),
        }
    }

    /// The file names Locust uses for `--csv PREFIX`.
    pub fn paths(prefix: &str) -> [PathBuf; 4] {
        ["stats", "stats_history", "failures", "exceptions"]
            .map(|suffix| PathBuf::from(format!("{prefix}_{suffix}.csv")))
    }

    /// Writes the four files (each atomically) and returns their paths.
    pub fn write(&self, prefix: &str) -> io::Result<[PathBuf; 4]> {
        let paths = LocustCsv::paths(prefix);
        let contents = [
            &self.stats,
            &self.stats_history,
            &self.failures,
            &self.exceptions,
        ];
        for (path, text) in paths.iter().zip(contents) {
            write_atomic(Path::new(path), text)?;
        }
        Ok(paths)
    }
}

/// Rows as Python's `csv.writer` writes them: minimal quoting, `\r\n` after each row.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .quote_style(::csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    let mut write = |row: &[&str]| {
        w.write_record(row)
            .expect("writing CSV into memory cannot fail: rows have the header's length")
    };
    write(header);
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        write(&cells);
    }
    let bytes = w
        .into_inner()
        .expect("flushing CSV into memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
}

/// A float as Python's `str()` writes it: `4.0`, `5.869552157874798`.
fn py_float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

fn whole_ms(v: f64) -> String {
    format!("{}", v.round() as u64)
}

/// Endpoints in Locust's order (sorted by name, then method), with their index in the file.
fn sorted(doc: &ResultDoc) -> Vec<(usize, &EndpointStats)> {
    let mut v: Vec<(usize, &EndpointStats)> = doc.endpoints.iter().enumerate().collect();
    v.sort_by(|a, b| (&a.1.name, &a.1.method).cmp(&(&b.1.name, &b.1.method)));
    v
}

fn run_secs(doc: &ResultDoc) -> f64 {
    (doc.run.duration_s - doc.stats_since_s).max(0.0)
}

fn stats(doc: &ResultDoc) -> String {
    let secs = run_secs(doc);
    let mut rows = Vec::new();
    let hist = &doc.histograms;
    for (i, e) in sorted(doc) {
        let h = hist.endpoints.get(i).and_then(|h| h.response_time().ok());
        rows.push(stats_row(e, &e.method, secs, h.as_ref()));
    }
    let h = hist.aggregate.response_time().ok();
    rows.push(stats_row(&doc.aggregate, "", secs, h.as_ref()));
    table(STATS_HEADER, rows)
}

fn stats_row(
    e: &EndpointStats,
    method: &str,
    secs: f64,
    h: Option<&barrage_metrics::Histogram<u64>>,
) -> Vec<String> {
    let rt = &e.response_time;
    let timed = rt.count > 0;
    let or_zero = |v: f64| if timed { py_float(v) } else { "0".to_owned() };
    let per_s = |n: u64| py_float(if secs > 0.0 { n as f64 / secs } else { 0.0 });
    let mut row = vec![
        method.to_owned(),
        e.name.clone(),
        e.requests.to_string(),
        e.failures.to_string(),
        if timed {
            whole_ms(rt.p50)
        } else {
            "0".to_owned()
        },
        py_float(if timed { rt.mean } else { 0.0 }),
        or_zero(rt.min),
        or_zero(rt.max),
        if e.requests > 0 {
            py_float(e.bytes_received as f64 / e.requests as f64)
        } else {
            "0".to_owned()
        },
        per_s(e.requests),
        per_s(e.failures),
    ];
    row.extend(percentiles(e.requests, rt, h));
    row
}

/// Locust's eleven percentile columns.
fn percentiles(
    requests: u64,
    rt: &LatencyStats,
    h: Option<&barrage_metrics::Histogram<u64>>,
) -> Vec<String> {
    if requests == 0 {
        return vec![NA.to_owned(); PERCENTILES.len()];
    }
    PERCENTILES
        .iter()
        .map(|&q| {
            if rt.count == 0 {
                return "0".to_owned();
            }
            match h.filter(|h| !h.is_empty()) {
                Some(h) if q >= 1.0 => whole_ms(barrage_metrics::ns_to_ms(h.max())),
                Some(h) => whole_ms(barrage_metrics::ns_to_ms(h.value_at_quantile(q))),
                // Without histograms (a hand-made file), the percentiles the summary keeps.
                None => match q {
                    0.5 => whole_ms(rt.p50),
                    0.75 => whole_ms(rt.p75),
                    0.9 => whole_ms(rt.p90),
                    0.95 => whole_ms(rt.p95),
                    0.99 => whole_ms(rt.p99),
                    0.999 => whole_ms(rt.p999),
                    1.0 => whole_ms(rt.max),
                    _ => NA.to_owned(),
                },
            }
        })
        .collect()
}

/// Unix seconds of the run's start, from `run.started_at` (RFC 3339).
fn started_unix(doc: &ResultDoc) -> Option<f64> {
    let t = time::OffsetDateTime::parse(
        &doc.run.started_at,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    Some(t.unix_timestamp_nanos() as f64 / 1e9)
}

fn stats_history(doc: &ResultDoc, full_history: bool) -> String {
    let mut header: Vec<&str> = HISTORY_HEADER_START.to_vec();
    header.extend(&STATS_HEADER[11..]);
    header.extend(HISTORY_HEADER_END);
    let start = started_unix(doc).unwrap_or(0.0);
    let endpoints = if full_history {
        sorted(doc)
    } else {
        Vec::new()
    };
    let mut totals = vec![(0u64, 0u64); doc.endpoints.len()];
    let (mut requests, mut failures, mut max) = (0u64, 0u64, 0u32);
    let mut rows = Vec::new();
    let mut previous_t = 0.0;
    for s in &doc.series {
        let timestamp = format!("{}", (start + s.t).floor() as i64);
        let len = (s.t - previous_t).max(1e-9);
        previous_t = s.t;
        let rate = |n: u64| format!("{:.6}", n as f64 / len);
        let ms = |us: u32| whole_ms(f64::from(us) / 1000.0);
        for e in &s.endpoints {
            if let Some(t) = totals.get_mut(e.i as usize) {
                t.0 += u64::from(e.requests);
                t.1 += u64::from(e.failures);
            }
        }
        for &(i, stats) in &endpoints {
            let second = s.endpoints.iter().find(|e| e.i as usize == i);
            let (n, f) = second.map_or((0, 0), |e| (u64::from(e.requests), u64::from(e.failures)));
            let mut row = vec![
                timestamp.clone(),
                s.users.to_string(),
                stats.method.clone(),
                stats.name.clone(),
                rate(n),
                rate(f),
            ];
            row.extend(second_percentiles(
                n,
                second.map(|e| (e.p50, e.p95, e.p99, None)),
                ms,
            ));
            let (total_n, total_f) = totals[i];
            row.extend([total_n.to_string(), total_f.to_string()]);
            row.extend([NA; 5].map(str::to_owned));
            rows.push(row);
        }
        requests += s.requests;
        failures += s.failures;
        if s.requests > s.failures {
            max = max.max(s.max);
        }
        let mut row = vec![
            timestamp,
            s.users.to_string(),
            String::new(),
            "Aggregated".to_owned(),
            rate(s.requests),
            rate(s.failures),
        ];
        row.extend(second_percentiles(
            s.requests,
            Some((s.p50, s.p95, s.p99, Some(s.max))),
            ms,
        ));
        row.extend([requests.to_string(), failures.to_string()]);
        row.extend([NA; 3].map(str::to_owned));
        row.push(if requests > failures {
            py_float(f64::from(max) / 1000.0)
        } else {
            NA.to_owned()
        });
        row.push(NA.to_owned());
        rows.push(row);
    }
    table(&header, rows)
}

/// The eleven percentile columns of one second: 50%, 95%, 99% and 100% (when known).
fn second_percentiles(
    requests: u64,
    kept: Option<(u32, u32, u32, Option<u32>)>,
    ms: impl Fn(u32) -> String,
) -> Vec<String> {
    let mut cells = vec![NA.to_owned(); PERCENTILES.len()];
    if let (true, Some((p50, p95, p99, max))) = (requests > 0, kept) {
        cells[0] = ms(p50);
        cells[5] = ms(p95);
        cells[7] = ms(p99);
        if let Some(max) = max {
            cells[10] = ms(max);
        }
    }
    cells
}

fn failures(doc: &ResultDoc) -> String {
    let start = started_unix(doc);
    let rows =
        doc.failures
            .iter()
            .map(|f| {
                let index = doc.endpoints.iter().position(|e| {
                    e.scenario == f.scenario && e.method == f.method && e.name == f.name
                });
                let seen: Vec<f64> = doc
                    .series
                    .iter()
                    .filter(|s| {
                        s.endpoints
                            .iter()
                            .any(|e| Some(e.i as usize) == index && e.failures > 0)
                    })
                    .map(|s| s.t)
                    .collect();
                let stamp = |secs: Option<f64>| match (start, secs) {
                    (Some(start), Some(secs)) => utc_seconds(start + secs),
                    _ => String::new(),
                };
                // The first failing second began a second before its end.
                let first = seen.first().map(|t| (t - 1.0).max(0.0));
                vec![
                    f.method.clone(),
                    f.name.clone(),
                    format!("{}: {}", f.category, f.sample),
                    f.count.to_string(),
                    stamp(first),
                    stamp(seen.last().copied()),
                ]
            })
            .collect();
    table(FAILURES_HEADER, rows)
}

/// `2026-01-31T14:05:09Z`, as Locust's `format_utc_timestamp`.
fn utc_seconds(unix: f64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix.floor() as i64) else {
        return String::new();
    };
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests;
