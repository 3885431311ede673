//! The server side as text: a line per monitored source under the live table, and the
//! summary's "Server" block at the end.
//!
//! Every source is a table of columns and rows ([`barrage_metrics::SourceSeries`]), so
//! these views pick what to show by the column's *figure* (`server_cpu`, `pg_connections`,
//! ...: the contract every source fills) and its unit, never by the source's internals; a
//! Prometheus source, whose columns are whatever the endpoint exposes, shows its first few
//! columns. The summary's max/mean of a column over the rows are the one statistic this
//! module computes itself: the section holds the rows and nothing else sums them per source.

use barrage_metrics::{
    Column, ProbeSummary, Row, ServerLive, ServerSection, SourceKind, SourceLive, SourceSeries,
    StatementStats,
};

use crate::format;
use crate::table::{paint, sanitize, truncate, Style};
use crate::ViewOptions;

/// How many columns of a source with no known figures (Prometheus) a line shows.
const FIRST_COLUMNS: usize = 4;

/// A value of a column's unit, as shown: `143%`, `212.4 MiB`, `12`, `45.20/s`, `3.20 ms`.
pub(crate) fn value(v: f64, unit: &str) -> String {
    match unit {
        "%" => format!("{v:.0}%"),
        "bytes" => format::bytes(v.max(0.0).round() as u64),
        "bytes/s" => format!("{}/s", format::bytes(v.max(0.0).round() as u64)),
        "/s" => format!("{}/s", format::rate(v)),
        "ms" => format!("{} ms", format::ms(v)),
        "s" => format!("{} s", format::ms(v)),
        "count" if v.fract() == 0.0 => format!("{v:.0}"),
        _ => format!("{v:.2}"),
    }
}

/// The index of the column that feeds `figure`.
fn figure_column(columns: &[Column], figure: &str) -> Option<usize> {
    columns
        .iter()
        .position(|c| c.figure.as_deref() == Some(figure))
}

/// The few most telling values of a process or PostgreSQL source: (label, figure).
fn telling(kind: Option<SourceKind>) -> &'static [(&'static str, &'static str)] {
    match kind {
        Some(SourceKind::Process) => &[
            ("CPU", "server_cpu"),
            ("RSS", "server_rss"),
            ("threads", "server_threads"),
        ],
        Some(SourceKind::Postgres) => &[
            ("connections", "pg_connections"),
            ("active", "pg_connections_active"),
            ("waiting", "pg_connections_waiting"),
            ("tx", "pg_transactions"),
            ("longest query", "pg_longest_query"),
        ],
        _ => &[],
    }
}

/// Processes with a CPU column of their own (`cpu_pid_4242`) measured in `row`.
fn processes_in(columns: &[Column], row: &Row) -> usize {
    columns
        .iter()
        .enumerate()
        .filter(|(i, c)| c.key.starts_with("cpu_pid_") && row.get(*i).is_some())
        .count()
}

/// The parts of one source's live line, from its newest row.
fn live_parts(source: &SourceLive, probe: Option<&ProbeSummary>) -> Vec<String> {
    if source.kind == Some(SourceKind::Probe) {
        if let Some(p) = probe {
            return vec![
                format!("longest stall {}", value(p.longest_stall_ms, "ms")),
                format!(
                    "stalled > 100 ms for {}",
                    value(p.stalled_over_100ms_s, "s")
                ),
                format!("{} sent, {} failed", p.sent, p.failed),
            ];
        }
    }
    let Some(last) = &source.last else {
        return vec!["no sample yet".to_owned()];
    };
    let mut parts = Vec::new();
    for (label, figure) in telling(source.kind) {
        let Some(i) = figure_column(&source.columns, figure) else {
            continue;
        };
        let Some(v) = last.get(i) else { continue };
        let unit = &source.columns[i].unit;
        let mut part = format!("{label} {}", value(v, unit));
        if *figure == "server_cpu" {
            let n = processes_in(&source.columns, last);
            if n > 0 {
                part.push_str(&format!(" ({n} process{})", if n == 1 { "" } else { "es" }));
            }
        }
        parts.push(part);
    }
    if parts.is_empty() {
        parts = source
            .columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                last.get(i)
                    .map(|v| format!("{} {}", c.label, value(v, &c.unit)))
            })
            .take(FIRST_COLUMNS)
            .collect();
    }
    parts
}

/// One line per monitored source, for under the live table: its name and the few most
/// telling values of its newest row (or `lost: why`), each cut to `width` chars.
pub fn live_lines(server: &ServerLive, width: usize, opts: &ViewOptions) -> String {
    let mut out = String::new();
    for source in &server.sources {
        let name = sanitize(&source.name);
        let (text, style) = match &source.lost {
            Some(why) => (format!("  {name}: lost: {}", sanitize(why)), Style::Red),
            None => (
                format!(
                    "  {name}: {}",
                    sanitize(&live_parts(source, server.probe.as_ref()).join(", "))
                ),
                Style::Plain,
            ),
        };
        out.push_str(&paint(&truncate(&text, width), style, opts.color));
        out.push('\n');
    }
    out
}

/// Max and mean of column `i` over the rows that measured it.
fn max_mean(rows: &[Row], i: usize) -> Option<(f64, f64)> {
    let values: Vec<f64> = rows.iter().filter_map(|r| r.get(i)).collect();
    if values.is_empty() {
        return None;
    }
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((max, values.iter().sum::<f64>() / values.len() as f64))
}

/// The summary parts of a process, PostgreSQL or Prometheus source.
fn summary_parts(s: &SourceSeries) -> Vec<String> {
    let column = |figure: &str| {
        figure_column(&s.columns, figure)
            .and_then(|i| max_mean(&s.rows, i).map(|m| (m, s.columns[i].unit.as_str())))
    };
    let mut parts = Vec::new();
    match s.kind {
        Some(SourceKind::Process) => {
            if let Some(((max, mean), unit)) = column("server_cpu") {
                parts.push(format!(
                    "CPU max {}, mean {}",
                    value(max, unit),
                    value(mean, unit)
                ));
            }
            if let Some(((max, _), unit)) = column("server_rss") {
                parts.push(format!("RSS max {}", value(max, unit)));
            }
            if let Some(((max, _), unit)) = column("server_threads") {
                parts.push(format!("threads max {}", value(max, unit)));
            }
            if !s.processes.is_empty() {
                let pids: Vec<String> = s.processes.iter().map(|p| p.pid.to_string()).collect();
                parts.push(format!("pids {}", pids.join(" ")));
            }
        }
        Some(SourceKind::Postgres) => {
            for (label, figure) in [
                ("connections max", "pg_connections"),
                ("waiting max", "pg_connections_waiting"),
                ("longest query", "pg_longest_query"),
            ] {
                if let Some(((max, _), unit)) = column(figure) {
                    parts.push(format!("{label} {}", value(max, unit)));
                }
            }
            if let Some(((_, mean), unit)) = column("pg_transactions") {
                parts.push(format!("tx mean {}", value(mean, unit)));
            }
        }
        _ => {}
    }
    if parts.is_empty() {
        parts = s
            .columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                max_mean(&s.rows, i).map(|(max, mean)| {
                    format!(
                        "{} max {}, mean {}",
                        c.label,
                        value(max, &c.unit),
                        value(mean, &c.unit)
                    )
                })
            })
            .take(FIRST_COLUMNS)
            .collect();
    }
    parts
}

/// Past this, barrage's own lateness in sending probes is worth saying: part of a stall
/// may be the generator's, not the server's.
const SEND_DELAY_WORTH_SAYING_MS: f64 = 20.0;

fn probe_line(p: &ProbeSummary) -> String {
    format!(
        "longest stall {} at {:.1} s; stalled over 50 ms {}, over 100 ms {}, over 500 ms {}; \
         {} probes, {} failed",
        value(p.longest_stall_ms, "ms"),
        p.longest_stall_at_s,
        value(p.stalled_over_50ms_s, "s"),
        value(p.stalled_over_100ms_s, "s"),
        value(p.stalled_over_500ms_s, "s"),
        p.sent,
        p.failed
    )
}

/// A line under the probe's when barrage itself sent probes late.
fn send_delay_line(p: &ProbeSummary) -> Option<String> {
    (p.max_send_delay_ms > SEND_DELAY_WORTH_SAYING_MS).then(|| {
        format!(
            "  barrage sent a probe up to {} late (its own CPU): that much of a stall may be \
             the generator's",
            value(p.max_send_delay_ms, "ms")
        )
    })
}

/// The widest a line of the Server block gets (the summary's other wide text, failure
/// samples, is cut near this too).
const LINE_WIDTH: usize = 140;

/// One source in the summary: its name, and what it showed or why it was lost.
pub(crate) struct SourceSummary<'a> {
    pub(crate) name: &'a str,
    pub(crate) text: String,
    pub(crate) lost: bool,
}

/// Each source's summary, in the section's order (the terminal and Markdown say the same).
pub(crate) fn source_summaries(server: &ServerSection) -> Vec<SourceSummary<'_>> {
    server
        .sources
        .iter()
        .map(|s| {
            // What it measured before it was lost matters most then (a worker killed for
            // its memory): the figures first, then why it is lost.
            let measured = match (s.kind, &server.probe) {
                (Some(SourceKind::Probe), Some(p)) => Some(probe_line(p)),
                _ => {
                    let parts = summary_parts(s);
                    (!parts.is_empty()).then(|| parts.join("; "))
                }
            };
            let text = match (measured, &s.lost) {
                (Some(m), Some(why)) => format!("{m}; lost: {why}"),
                (None, Some(why)) => format!("lost: {why}"),
                (Some(m), None) => m,
                (None, None) => "no sample".to_owned(),
            };
            SourceSummary {
                name: &s.name,
                text,
                lost: s.lost.is_some(),
            }
        })
        .collect()
}

/// The statements of every PostgreSQL source that added the most time, most first.
pub(crate) fn top_statements(server: &ServerSection, n: usize) -> Vec<&StatementStats> {
    let mut statements: Vec<_> = server.sources.iter().flat_map(|s| &s.statements).collect();
    statements.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    statements.truncate(n);
    statements
}

/// The summary's "Server" block: a line per source (max/mean of its key columns; the
/// probe's stalls), the lost sources, the three statements that added the most time, and
/// the hints. Empty when nothing was monitored.
pub fn server_section(server: Option<&ServerSection>, opts: &ViewOptions) -> String {
    let Some(server) = server else {
        return String::new();
    };
    let mut out = paint("Server", Style::Bold, opts.color);
    out.push('\n');
    let mut line = |text: String, style: Style| {
        out.push_str(&paint(
            &truncate(&sanitize(&text), LINE_WIDTH),
            style,
            opts.color,
        ));
        out.push('\n');
    };
    for s in source_summaries(server) {
        let style = if s.lost { Style::Red } else { Style::Plain };
        line(format!("  {}: {}", s.name, s.text), style);
    }
    if let Some(late) = server.probe.as_ref().and_then(send_delay_line) {
        line(late, Style::Plain);
    }
    let statements = top_statements(server, 3);
    if !statements.is_empty() {
        line(
            "  Statements that added the most time:".to_owned(),
            Style::Plain,
        );
        for st in statements {
            line(format!("    {}", statement(st)), Style::Plain);
        }
    }
    // Hints are whole sentences naming their evidence: never cut.
    for hint in &server.hints {
        out.push_str(&paint(
            &format!("  Hint: {}", sanitize(hint)),
            Style::Bold,
            opts.color,
        ));
        out.push('\n');
    }
    out
}

/// `4000 ms in 100 calls (40.0 ms mean): UPDATE ...`.
pub(crate) fn statement(st: &StatementStats) -> String {
    format!(
        "{} in {} calls ({} mean): {}",
        value(st.total_ms, "ms"),
        st.calls,
        value(st.mean_ms, "ms"),
        st.query
    )
}

#[cfg(test)]
mod tests;
