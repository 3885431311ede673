//! The live table: what a terminal shows once a second while the run goes on.
//!
//! Modelled on Locust's headless output so its users read it at a glance: one row per
//! endpoint with requests, failures, response-time statistics and rates, then the Aggregated
//! row. Latencies are response times (from the intended start); rates in the last columns are
//! current (the last few seconds), not run averages.
//!
//! Under the table, [`live_view`] adds a line per monitored server source (`--monitor-*`,
//! `--probe`).
//!
//! It must not keep state between calls: each frame is a pure function of one snapshot.

use barrage_metrics::{EndpointStats, ServerLive, Snapshot};

use crate::format;
use crate::naming::Naming;
use crate::table::{paint, Cell, Column, Style, Table};
use crate::ViewOptions;

/// Renders one frame of the live view: a header line with the elapsed time and users
/// running, then the table. Endpoints that have not finished a request yet are left out.
pub fn live_table(s: &Snapshot, opts: &ViewOptions) -> String {
    let naming = Naming::for_snapshot(s);
    let mut columns = naming.columns();
    columns.extend([
        Column::right("# reqs"),
        Column::right("# fails"),
        Column::right("Avg").group(),
        Column::right("Min"),
        Column::right("Max"),
        Column::right("Med"),
        Column::right("p95"),
        Column::right("p99"),
        Column::right("req/s").group(),
        Column::right("failures/s"),
    ]);
    let mut table = Table::new(columns);
    for e in s
        .endpoints
        .iter()
        .filter(|e| e.requests > 0 || e.interrupted > 0)
    {
        table.row(row(naming.endpoint(e), e));
    }
    table.rule();
    table.row_styled(
        row(naming.cells("", "", &s.aggregate.name), &s.aggregate),
        Style::Bold,
    );

    // Users without a connection are not running: say so beside the count, or a user
    // would read the gauge as the load asked for.
    let unconnected = crate::unconnected::count(&s.connections, None)
        .map(|c| {
            format!(
                " ({}: local resources ran out)",
                paint(&c, Style::Red, opts.color)
            )
        })
        .unwrap_or_default();
    let header = format!(
        "{}  elapsed {}, {} users running{unconnected}; latencies in ms, response time from the intended start",
        paint("barrage", Style::Bold, opts.color),
        format::duration(s.elapsed),
        s.users,
    );
    format!("{header}\n{}", table.render(opts.color))
}

/// [`live_table`] and, under it, a line per monitored source (its name and the few most
/// telling values of its newest sample, or why it was lost), each kept within the table's
/// width so the frame stays a rectangle.
pub fn live_view(s: &Snapshot, server: Option<&ServerLive>, opts: &ViewOptions) -> String {
    let mut text = live_table(s, opts);
    if let Some(server) = server {
        // The rule under the header spans the table exactly, and carries no colour.
        let width = text
            .lines()
            .find(|l| l.starts_with('-'))
            .map_or(80, |l| l.chars().count());
        text.push_str(&crate::server::live_lines(server, width, opts));
    }
    text
}

fn row(mut cells: Vec<Cell>, e: &EndpointStats) -> Vec<Cell> {
    let rt = &e.response_time;
    cells.extend([
        Cell::new(e.requests.to_string()),
        Cell::failures(e.failures, e.requests),
        Cell::new(format::latency(rt, |l| l.mean)),
        Cell::new(format::latency(rt, |l| l.min)),
        Cell::new(format::latency(rt, |l| l.max)),
        Cell::new(format::latency(rt, |l| l.p50)),
        Cell::new(format::latency(rt, |l| l.p95)),
        Cell::new(format::latency(rt, |l| l.p99)),
        Cell::new(format::rate(e.current_rps)),
        Cell::styled(
            format::rate(e.failures_per_s),
            if e.failures_per_s > 0.0 {
                Style::Red
            } else {
                Style::Plain
            },
        ),
    ]);
    cells
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::snapshot;

    #[test]
    fn shows_every_busy_endpoint_and_the_aggregate() {
        let out = live_table(&snapshot(), &ViewOptions { color: false });
        assert!(!out.contains('\x1b'), "no escape codes without colour");
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("barrage  elapsed 1m05s, 120 users running"));
        assert!(lines[1].starts_with("Type  Name"));
        for col in [
            "# reqs",
            "# fails",
            "Avg",
            "Min",
            "Max",
            "Med",
            "p95",
            "p99",
            "req/s",
            "failures/s",
        ] {
            assert!(lines[1].contains(col), "header lacks {col}");
        }
        let get = lines.iter().find(|l| l.starts_with("GET")).unwrap();
        assert!(get.contains("/items/[item_name]"));
        assert!(get.contains("1200"));
        assert!(get.contains("3 (0.25%)"));
        assert!(get.contains("12.3"), "avg: {get}");
        assert!(get.contains("0.95"), "min: {get}");
        assert!(get.contains("250"), "max: {get}");
        assert!(get.contains("40.1"), "p95: {get}");
        assert!(get.contains("20.50"), "current req/s: {get}");
        assert!(
            !out.contains("/never-called"),
            "idle endpoints are left out"
        );
        let agg = lines.last().unwrap();
        assert!(agg.trim_start().starts_with("Aggregated"));
        assert!(agg.contains("1300"));
    }

    #[test]
    fn users_without_a_connection_are_named_beside_the_running_ones() {
        let mut s = snapshot();
        s.users = 256;
        s.connections.users_never_connected = 144;
        let out = live_table(&s, &ViewOptions { color: false });
        let header = out.lines().next().unwrap();
        assert!(
            header.contains(
                "256 users running (144 users never got a connection: local resources ran out);"
            ),
            "{header}"
        );
    }

    #[test]
    fn server_lines_follow_the_table_within_its_width() {
        let opts = ViewOptions { color: false };
        let table = live_table(&snapshot(), &opts);
        assert_eq!(live_view(&snapshot(), None, &opts), table);
        let server = crate::server_testdata::live();
        let out = live_view(&snapshot(), Some(&server), &opts);
        let under = out.strip_prefix(&table).expect("the table comes first");
        let width = table.lines().nth(2).unwrap().chars().count();
        assert!(table.lines().nth(2).unwrap().starts_with("----"));
        let lines: Vec<&str> = under.lines().collect();
        assert_eq!(lines.len(), server.sources.len());
        assert!(lines[0].starts_with("  processes (port 8000): CPU 100% (2 processes)"));
        for line in lines {
            assert!(line.chars().count() <= width, "{line}");
        }
    }

    #[test]
    fn long_names_are_cut() {
        let out = live_table(&snapshot(), &ViewOptions { color: false });
        assert!(out.contains('…'));
        assert!(!out.contains(&"very/".repeat(12)));
    }

    #[test]
    fn colour_marks_failures_when_asked() {
        let out = live_table(&snapshot(), &ViewOptions { color: true });
        assert!(out.contains("\x1b[31m3 (0.25%)\x1b[0m"));
        assert!(out.contains("\x1b[1mbarrage\x1b[0m"));
    }
}
