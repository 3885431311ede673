//! The final summary printed when a run ends.
//!
//! Sections, each shown only when it has something to say: response time per endpoint (the
//! headline: from the intended start, so queueing and coordinated omission are in it), service
//! time (from the request written: the server's share), status codes, failures with a sample
//! message each, checks, task iterations, connections, and totals. Every section title says
//! which latency it shows, because the two differ exactly when it matters.
//!
//! Like the live table it is a pure function of one snapshot; it must not compute statistics
//! of its own beyond shares and sums of what the snapshot holds.

use std::fmt::Write as _;

use barrage_metrics::{EndpointStats, FailureCategory, LatencyStats, NeverRan, Snapshot};

use crate::format;
use crate::naming::{Naming, NAME_WIDTH};
use crate::table::{paint, truncate, Cell, Column, Style, Table};
use crate::ViewOptions;

/// The widest a failure's sample message gets, in chars.
const SAMPLE_WIDTH: usize = 80;

/// Renders the end-of-run summary. See the module documentation for its sections.
pub fn summary(s: &Snapshot, opts: &ViewOptions) -> String {
    let color = opts.color;
    let naming = Naming::for_snapshot(s);
    let busy: Vec<&EndpointStats> = s
        .endpoints
        .iter()
        .filter(|e| e.requests > 0 || e.interrupted > 0)
        .collect();
    let mut out = String::new();

    section(
        &mut out,
        "Response time (ms), from the intended start to the last byte: what a user waiting in line feels",
        color,
    );
    out.push_str(&latency_table(s, &busy, naming, Latency::Response, color));

    if s.aggregate.service_time.count > 0 {
        section(
            &mut out,
            "Service time (ms), from the request written to the last byte: the server's share (connection set-up excluded)",
            color,
        );
        out.push_str(&latency_table(s, &busy, naming, Latency::Service, color));
    }

    if let Some((title, table)) = crate::streams::summary_section(&busy, naming, color) {
        section(&mut out, title, color);
        out.push_str(&table);
    }

    if !s.aggregate.status_codes.is_empty() {
        section(&mut out, "Status codes", color);
        let mut cols = naming.columns();
        cols.push(Column::left("Codes").group());
        let mut t = Table::new(cols);
        for e in busy.iter().filter(|e| !e.status_codes.is_empty()) {
            let mut cells = naming.endpoint(e);
            cells.push(Cell::new(codes(e)));
            t.row(cells);
        }
        t.rule();
        let mut cells = naming.cells("", "", &s.aggregate.name);
        cells.push(Cell::new(codes(&s.aggregate)));
        t.row_styled(cells, Style::Bold);
        out.push_str(&t.render(color));
    }

    if !s.failures.is_empty() {
        section(&mut out, "Failures", color);
        let mut cols = vec![Column::right("# fails"), Column::left("Category")];
        cols.extend(naming.columns());
        cols.push(Column::left("Sample message"));
        let mut t = Table::new(cols);
        let mut failures: Vec<_> = s.failures.iter().collect();
        // Most frequent first; the sort is stable, so ties keep the snapshot's order.
        failures.sort_by_key(|f| std::cmp::Reverse(f.count));
        for f in failures {
            let label: &str = match FailureCategory::from_name(&f.category) {
                Some(c) => c.label(),
                None => &f.category,
            };
            let mut cells = vec![
                Cell::styled(f.count.to_string(), Style::Red),
                Cell::new(label),
            ];
            cells.extend(naming.cells(&f.scenario, &f.method, &f.name));
            cells.push(Cell::new(truncate(&f.sample, SAMPLE_WIDTH)));
            t.row(cells);
        }
        out.push_str(&t.render(color));
    }

    if !s.checks.is_empty() {
        section(&mut out, "Checks", color);
        let mut cols = naming.columns();
        cols.extend([
            Column::left("Check"),
            Column::right("Passes").group(),
            Column::right("Fails"),
        ]);
        let mut t = Table::new(cols);
        for c in &s.checks {
            let mut cells = naming.cells(&c.scenario, &c.method, &c.name);
            cells.extend([
                Cell::new(truncate(&c.check, NAME_WIDTH)),
                Cell::new(c.passes.to_string()),
                Cell::failures(c.fails, c.passes + c.fails),
            ]);
            t.row(cells);
        }
        out.push_str(&t.render(color));
    }

    if s.tasks.iter().any(|t| t.iterations > 0) {
        section(
            &mut out,
            "Task iterations (ms), one pass through all of a task's steps",
            color,
        );
        let mut cols = Vec::new();
        if naming.with_scenario() {
            cols.push(Column::left("Scenario"));
        }
        cols.extend([
            Column::left("User"),
            Column::left("Task"),
            Column::right("Iterations").group(),
        ]);
        cols.extend(stat_columns());
        let mut t = Table::new(cols);
        for task in s.tasks.iter().filter(|t| t.iterations > 0) {
            let mut cells = Vec::new();
            if naming.with_scenario() {
                cells.push(Cell::new(truncate(&task.scenario, NAME_WIDTH)));
            }
            cells.extend([
                Cell::new(truncate(&task.user, NAME_WIDTH)),
                Cell::new(truncate(&task.task, NAME_WIDTH)),
                Cell::new(task.iterations.to_string()),
            ]);
            cells.extend(stat_cells(&task.duration));
            t.row(cells);
        }
        out.push_str(&t.render(color));
    }

    if let Some(table) = crate::messages::table(&s.endpoints, naming, color) {
        section(
            &mut out,
            "WebSocket messages (round trips are in the response times)",
            color,
        );
        out.push_str(&table);
    }

    let c = &s.connections;
    if c.opened > 0 || c.users_never_connected > 0 {
        section(&mut out, "Connections", color);
        let _ = write!(out, "{} opened", c.opened);
        if c.http2 > 0 {
            let _ = write!(out, " ({} HTTP/2)", c.http2);
        }
        let _ = write!(out, "; connect {}", brief(&c.connect_time));
        if c.tls_time.count > 0 {
            let _ = write!(out, "; TLS handshake {}", brief(&c.tls_time));
        }
        out.push('\n');
        // Why, with the fix, is among the run's warnings (the result file's too).
        if let Some(count) = crate::unconnected::count(c, None) {
            let line = format!("{count} (failures of category local_resources)");
            out.push_str(&paint(&line, Style::Red, color));
            out.push('\n');
        }
    }

    section(&mut out, "Totals", color);
    out.push_str(&totals(s, color));
    out
}

/// The tasks and endpoints that never ran, one line each with why; empty when everything
/// ran. Apart from [`summary`] because the reasons come from the plan, which a snapshot
/// does not hold: the result file carries them (`never_ran`).
pub fn never_ran_section(items: &[NeverRan], opts: &ViewOptions) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    section(&mut out, "Never ran", opts.color);
    let several = items.iter().any(|n| n.scenario != items[0].scenario);
    for n in items {
        let what = truncate(&n.what, 2 * NAME_WIDTH);
        if several {
            let _ = writeln!(out, "{} / {what}: {}", n.scenario, n.why);
        } else {
            let _ = writeln!(out, "{what}: {}", n.why);
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Latency {
    Response,
    Service,
}

fn latency_table(
    s: &Snapshot,
    busy: &[&EndpointStats],
    naming: Naming,
    which: Latency,
    color: bool,
) -> String {
    let mut cols = naming.columns();
    match which {
        Latency::Response => cols.extend([Column::right("# reqs"), Column::right("# fails")]),
        Latency::Service => cols.push(Column::right("Count")),
    }
    cols.extend(stat_columns());
    let mut t = Table::new(cols);
    let row = |mut cells: Vec<Cell>, e: &EndpointStats| {
        let stats = match which {
            Latency::Response => {
                cells.extend([
                    Cell::new(e.requests.to_string()),
                    Cell::failures(e.failures, e.requests),
                ]);
                &e.response_time
            }
            Latency::Service => {
                cells.push(Cell::new(e.service_time.count.to_string()));
                &e.service_time
            }
        };
        cells.extend(stat_cells(stats));
        cells
    };
    for e in busy {
        t.row(row(naming.endpoint(e), e));
    }
    t.rule();
    t.row_styled(
        row(naming.cells("", "", &s.aggregate.name), &s.aggregate),
        Style::Bold,
    );
    t.render(color)
}

fn stat_columns() -> [Column; 8] {
    [
        Column::right("Avg").group(),
        Column::right("p50"),
        Column::right("p75"),
        Column::right("p90"),
        Column::right("p95"),
        Column::right("p99"),
        Column::right("p99.9"),
        Column::right("Max"),
    ]
}

fn stat_cells(l: &LatencyStats) -> [Cell; 8] {
    [
        Cell::new(format::latency(l, |l| l.mean)),
        Cell::new(format::latency(l, |l| l.p50)),
        Cell::new(format::latency(l, |l| l.p75)),
        Cell::new(format::latency(l, |l| l.p90)),
        Cell::new(format::latency(l, |l| l.p95)),
        Cell::new(format::latency(l, |l| l.p99)),
        Cell::new(format::latency(l, |l| l.p999)),
        Cell::new(format::latency(l, |l| l.max)),
    ]
}

/// `200: 1197  500: 3`
fn codes(e: &EndpointStats) -> String {
    e.status_codes
        .iter()
        .map(|(code, n)| format!("{code}: {n}"))
        .collect::<Vec<_>>()
        .join("  ")
}

/// `p50 1.25 ms, p95 4.88 ms, max 30.4 ms`
fn brief(l: &LatencyStats) -> String {
    format!(
        "p50 {} ms, p95 {} ms, max {} ms",
        format::latency(l, |l| l.p50),
        format::latency(l, |l| l.p95),
        format::latency(l, |l| l.max)
    )
}

fn totals(s: &Snapshot, color: bool) -> String {
    let a = &s.aggregate;
    let failures = format!(
        "{} failures ({})",
        a.failures,
        format::percent(a.failures, a.requests)
    );
    let failures = if a.failures > 0 {
        paint(&failures, Style::Red, color)
    } else {
        failures
    };
    let mut out = format!(
        "{} requests in {} ({} req/s), {failures}",
        a.requests,
        format::duration(s.elapsed),
        format::rate(a.rps),
    );
    if a.interrupted > 0 {
        let _ = write!(out, ", {} interrupted at the stop", a.interrupted);
    }
    if a.retries > 0 {
        // Retries are no failures: say where they were, so a server that drops kept-alive
        // connections is seen.
        let by_endpoint: Vec<String> = s
            .endpoints
            .iter()
            .filter(|e| e.retries > 0)
            .map(|e| format!("{} {} {}", e.method, e.name, e.retries))
            .collect();
        let _ = write!(
            out,
            "\n{} sent again on a fresh connection after a reused one closed unanswered ({})",
            a.retries,
            by_endpoint.join(", ")
        );
    }
    let _ = write!(
        out,
        "\n{} sent, {} received; {} users running at the end",
        format::bytes(a.bytes_sent),
        format::bytes(a.bytes_received),
        s.users
    );
    if let Some(count) = crate::unconnected::count(&s.connections, None) {
        let _ = write!(out, ", {}", paint(&count, Style::Red, color));
    }
    out.push('\n');
    out
}

fn section(out: &mut String, title: &str, color: bool) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&paint(title, Style::Bold, color));
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::snapshot;

    fn plain() -> String {
        summary(&snapshot(), &ViewOptions { color: false })
    }

    fn line_with<'a>(out: &'a str, section: &str, needle: &str) -> &'a str {
        let start = out
            .find(section)
            .unwrap_or_else(|| panic!("no section {section}"));
        out[start..]
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle} in {section}"))
    }

    #[test]
    fn what_never_ran_is_listed_with_why() {
        let plain = ViewOptions { color: false };
        assert_eq!(never_ran_section(&[], &plain), "");
        let n = |scenario: &str, what: &str, why: &str| NeverRan {
            scenario: scenario.into(),
            what: what.into(),
            why: why.into(),
        };
        let items = [n("s", "task export of user reader", "unknown")];
        assert_eq!(
            never_ran_section(&items, &plain),
            "Never ran\ntask export of user reader: unknown\n"
        );
        let items = [
            n("a", "task t of user u", "x"),
            n("b", "task t of user u", "y"),
        ];
        assert_eq!(
            never_ran_section(&items, &plain),
            "Never ran\na / task t of user u: x\nb / task t of user u: y\n"
        );
    }

    #[test]
    fn no_escape_codes_without_colour() {
        assert!(!plain().contains('\x1b'));
        let colored = summary(&snapshot(), &ViewOptions { color: true });
        assert!(colored.contains("\x1b[1mTotals\x1b[0m"));
        assert!(colored.contains("\x1b[31m"));
    }

    #[test]
    fn response_time_table_has_every_percentile() {
        let out = plain();
        let header = line_with(&out, "Response time (ms), from the intended start", "p99.9");
        for col in [
            "Type", "Name", "# reqs", "# fails", "Avg", "p50", "p75", "p90", "p95", "p99", "Max",
        ] {
            assert!(header.contains(col), "header lacks {col}: {header}");
        }
        let get = line_with(&out, "Response time", "/items/[item_name]");
        // mean 12.34, p50 10.24, p75 14.81, p90 29.62, p95 40.11, p99 120.56, p99.9 240.01, max 250.01
        for v in [
            "1200",
            "3 (0.25%)",
            "12.3",
            "10.2",
            "14.8",
            "29.6",
            "40.1",
            "121",
            "240",
            "250",
        ] {
            assert!(get.contains(v), "missing {v}: {get}");
        }
        let agg = line_with(&out, "Response time", "Aggregated");
        assert!(agg.contains("1300"));
        assert!(
            !out.contains("/never-called"),
            "idle endpoints are left out"
        );
    }

    #[test]
    fn service_time_is_labelled_apart() {
        let out = plain();
        assert!(out.contains("Service time (ms), from the request written to the last byte"));
        let get = line_with(&out, "Service time", "/items/[item_name]");
        // service base is half the response base: mean 6.17, p50 5.12
        assert!(
            get.contains("1197") && get.contains("6.17") && get.contains("5.12"),
            "{get}"
        );
    }

    #[test]
    fn status_codes_failures_and_checks() {
        let out = plain();
        assert!(line_with(&out, "Status codes", "/items/[item_name]").contains("200: 1197  500: 3"));
        let failures_start = out.find("Failures").unwrap();
        let rows: Vec<&str> = out[failures_start..].lines().skip(3).take(2).collect();
        assert!(
            rows[0].contains("7") && rows[0].contains("connection refused"),
            "most frequent first: {rows:?}"
        );
        assert!(rows[0].contains("connection refused (127.0.0.1:8000)"));
        assert!(rows[1].contains("HTTP status") && rows[1].contains("{\"detail\":\"boom\"}"));
        let check = line_with(&out, "Checks", "status == 201");
        assert!(
            check.contains("POST") && check.contains("99") && check.contains("1 (1.00%)"),
            "{check}"
        );
    }

    #[test]
    fn tasks_connections_and_totals() {
        let out = plain();
        let task = line_with(&out, "Task iterations", "read_item");
        assert!(
            task.contains("shopper") && task.contains("600") && task.contains("250"),
            "{task}"
        );
        assert!(out.contains("120 opened; connect p50 1.24 ms, p95 4.88 ms, max 30.4 ms"));
        assert!(!out.contains("TLS handshake"), "no TLS, no TLS line");
        assert!(out.contains(
            "1300 requests in 1m05s (20.00 req/s), 3 failures (0.23%), 1 interrupted at the stop"
        ));
        assert!(out.contains("152.3 KiB sent, 2.5 MiB received; 120 users running at the end"));
        assert!(!out.contains("sent again"), "no retries, no line");
    }

    #[test]
    fn http2_connections_are_counted_apart() {
        let mut s = snapshot();
        s.connections.http2 = 80;
        let out = summary(&s, &ViewOptions { color: false });
        assert!(
            out.contains("120 opened (80 HTTP/2); connect p50 1.24 ms"),
            "{out}"
        );
    }

    #[test]
    fn retries_are_shown_by_endpoint_when_there_are_some() {
        let mut s = snapshot();
        s.endpoints[0].retries = 7;
        s.aggregate.retries = 7;
        let out = summary(&s, &ViewOptions { color: false });
        let e = &s.endpoints[0];
        let want = format!(
            "7 sent again on a fresh connection after a reused one closed unanswered ({} {} 7)",
            e.method, e.name
        );
        assert!(out.contains(&want), "{out}");
    }

    #[test]
    fn an_empty_run_still_renders() {
        let mut s = snapshot();
        s.endpoints.clear();
        s.failures.clear();
        s.checks.clear();
        s.tasks.clear();
        s.connections = Default::default();
        s.aggregate = EndpointStats {
            name: "Aggregated".into(),
            ..Default::default()
        };
        let out = summary(&s, &ViewOptions { color: false });
        assert!(out.contains("0 requests in 1m05s (0.00 req/s), 0 failures (0.00%)"));
        assert!(!out.contains("Service time"));
        assert!(!out.contains("Failures"));
    }
}
