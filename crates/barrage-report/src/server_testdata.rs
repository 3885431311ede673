//! A hand-made server section whose numbers are known, for the views' tests: processes
//! (two workers, CPU 50 -> 150 -> 100 %), PostgreSQL (with statements), a Prometheus source,
//! a lost source, the probe and a hint.

use barrage_metrics::{
    Column, FigureStats, ProbeSummary, ProcessInfo, Row, ServerLive, ServerSection, ServerStats,
    SourceKind, SourceLive, SourceSeries, StallMoment, StatementStats,
};

fn column(key: &str, label: &str, unit: &str, figure: Option<&str>) -> Column {
    Column {
        key: key.into(),
        label: label.into(),
        unit: unit.into(),
        figure: figure.map(Into::into),
    }
}

fn row(t: f64, values: &[Option<f64>]) -> Row {
    Row {
        t,
        values: values.to_vec(),
    }
}

const MB: f64 = 1024.0 * 1024.0;

pub(crate) fn processes() -> SourceSeries {
    SourceSeries {
        kind: Some(SourceKind::Process),
        name: "processes (port 8000)".into(),
        target: "--monitor-port 8000".into(),
        columns: vec![
            column("cpu", "CPU", "%", Some("server_cpu")),
            column("rss", "RSS", "bytes", Some("server_rss")),
            column("threads", "threads", "count", Some("server_threads")),
            column("cpu_pid_4242", "CPU pid 4242", "%", None),
            column("cpu_pid_4243", "CPU pid 4243", "%", None),
        ],
        rows: vec![
            row(
                1.0,
                &[
                    Some(50.0),
                    Some(100.0 * MB),
                    Some(8.0),
                    Some(25.0),
                    Some(25.0),
                ],
            ),
            row(
                2.0,
                &[
                    Some(150.0),
                    Some(200.0 * MB),
                    Some(9.0),
                    Some(75.0),
                    Some(75.0),
                ],
            ),
            row(
                3.0,
                &[
                    Some(100.0),
                    Some(150.0 * MB),
                    Some(9.0),
                    Some(50.0),
                    Some(50.0),
                ],
            ),
        ],
        processes: vec![
            ProcessInfo {
                pid: 4242,
                ppid: Some(4241),
                command: "uvicorn app:app --workers 2".into(),
                found: "child of 4241".into(),
            },
            ProcessInfo {
                pid: 4243,
                ppid: Some(4241),
                command: "uvicorn app:app --workers 2".into(),
                found: "child of 4241".into(),
            },
        ],
        ..SourceSeries::default()
    }
}

pub(crate) fn postgres() -> SourceSeries {
    SourceSeries {
        kind: Some(SourceKind::Postgres),
        name: "postgres 127.0.0.1:5432/app".into(),
        target: "postgres://app@127.0.0.1:5432/app".into(),
        columns: vec![
            column(
                "connections",
                "connections",
                "count",
                Some("pg_connections"),
            ),
            column("active", "active", "count", Some("pg_connections_active")),
            column(
                "waiting",
                "waiting",
                "count",
                Some("pg_connections_waiting"),
            ),
            column("tx_per_s", "transactions/s", "/s", Some("pg_transactions")),
            column(
                "longest_query",
                "longest query",
                "ms",
                Some("pg_longest_query"),
            ),
        ],
        rows: vec![
            row(
                1.0,
                &[Some(10.0), Some(2.0), Some(0.0), Some(40.0), Some(3.0)],
            ),
            row(
                2.0,
                &[Some(12.0), Some(5.0), Some(1.0), Some(60.0), Some(30.0)],
            ),
            row(3.0, &[Some(11.0), Some(4.0), None, Some(50.0), Some(4.0)]),
        ],
        statements: vec![
            StatementStats {
                query: "SELECT * FROM items WHERE id = $1".into(),
                calls: 500,
                total_ms: 1250.0,
                mean_ms: 2.5,
                rows: 500,
            },
            StatementStats {
                query: "UPDATE items SET n = n + $1".into(),
                calls: 100,
                total_ms: 4000.0,
                mean_ms: 40.0,
                rows: 100,
            },
            StatementStats {
                query: "BEGIN".into(),
                calls: 600,
                total_ms: 6.0,
                mean_ms: 0.01,
                rows: 0,
            },
            StatementStats {
                query: "COMMIT".into(),
                calls: 600,
                total_ms: 3.0,
                mean_ms: 0.005,
                rows: 0,
            },
        ],
        ..SourceSeries::default()
    }
}

pub(crate) fn prometheus() -> SourceSeries {
    SourceSeries {
        kind: Some(SourceKind::Prometheus),
        name: "prometheus 127.0.0.1:8000/metrics".into(),
        target: "http://127.0.0.1:8000/metrics".into(),
        columns: vec![
            column("process_cpu", "process CPU", "%", None),
            column("requests_items", "requests/s /items", "/s", None),
        ],
        rows: vec![
            row(1.0, &[Some(30.0), Some(100.0)]),
            row(2.0, &[Some(50.0), Some(300.0)]),
        ],
        ..SourceSeries::default()
    }
}

pub(crate) fn probe() -> ProbeSummary {
    ProbeSummary {
        target: "GET http://127.0.0.1:8000/health".into(),
        rate: 10.0,
        sent: 30,
        answered: 29,
        failed: 1,
        longest_stall_ms: 1020.0,
        max_send_delay_ms: 2.0,
        longest_stall_at_s: 2.2,
        stalled_over_50ms_s: 1.1,
        stalled_over_100ms_s: 1.0,
        stalled_over_500ms_s: 0.6,
        stalls: vec![StallMoment {
            at_s: 2.2,
            ms: 1020.0,
        }],
    }
}

pub(crate) const HINT: &str = "latency rose from 12 ms to 480 ms at a flat 200 req/s while \
     every worker stayed below half a core (max 45%): a blocking call in async code or an \
     exhausted pool";

pub(crate) fn section() -> ServerSection {
    ServerSection {
        interval_s: 1.0,
        sources: vec![
            processes(),
            prometheus(),
            postgres(),
            SourceSeries {
                kind: Some(SourceKind::Prometheus),
                name: "prometheus 127.0.0.1:9187/metrics".into(),
                target: "http://127.0.0.1:9187/metrics".into(),
                lost: Some("unreachable (connection refused)".into()),
                ..SourceSeries::default()
            },
            SourceSeries {
                kind: Some(SourceKind::Probe),
                name: "probe GET /health".into(),
                target: "/health".into(),
                columns: vec![column("stall", "stall", "ms", Some("probe_max_stall"))],
                rows: vec![row(1.0, &[Some(3.0)]), row(2.0, &[Some(1020.0)])],
                ..SourceSeries::default()
            },
        ],
        probe: Some(probe()),
        stats: ServerStats {
            figures: vec![FigureStats {
                name: "server_cpu".into(),
                unit: "%".into(),
                count: 3,
                max: 150.0,
                min: 50.0,
                mean: 100.0,
                last: 100.0,
            }],
        },
        hints: vec![HINT.into()],
    }
}

/// The server as of the third second: each source's newest row.
pub(crate) fn live() -> ServerLive {
    let s = section();
    ServerLive {
        sources: s
            .sources
            .iter()
            .map(|src| SourceLive {
                kind: src.kind,
                name: src.name.clone(),
                columns: src.columns.clone(),
                rows: src.rows.last().cloned().into_iter().collect(),
                last: src.rows.last().cloned(),
                lost: src.lost.clone(),
            })
            .collect(),
        stats: s.stats.clone(),
        probe: s.probe.clone(),
        events: Vec::new(),
    }
}
