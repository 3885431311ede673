//! `--monitor-postgres URL`: a PostgreSQL server queried at each sample: connections by
//! state, those waiting on a lock, transactions and rows per second of the URL's database,
//! the longest running query, and, with `pg_stat_statements`, the statements that added the
//! most execution time during the run.
//!
//! One round trip per sample: a single prepared statement reads `pg_stat_activity` and
//! `pg_stat_database` (both in-memory views, no table is scanned). The monitor's own
//! connection is left out of every figure, and its queries carry a `/* barrage monitor */`
//! comment so `pg_stat_statements`' list leaves them out too.
//!
//! Plain TCP only (`NoTls`): a URL asking for `sslmode=require` fails at `open` with the
//! driver's words. The sync `postgres` client blocks, which is fine on the source's own
//! thread; `statement_timeout` and the connect timeout keep a sample under a second.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use barrage_metrics::{Column, SourceKind, SourceSeries, StatementStats};
use postgres::config::Host;
use postgres::{Client, Config, NoTls, Statement};

use crate::source::{without_password, Source, SourceError};

/// Bounds a connection attempt and every query.
pub const QUERY_TIMEOUT: Duration = Duration::from_millis(800);
/// How many statements `finish` keeps.
const TOP_STATEMENTS: usize = 10;
/// How much of a statement's text the result keeps.
const STATEMENT_CHARS: usize = 300;

const TAG: &str = "/* barrage monitor */";

/// The sample: client backends other than ours, by state, and the database's counters.
const SAMPLE_SQL: &str = "/* barrage monitor */
WITH a AS (
  SELECT state, wait_event_type, query_start FROM pg_stat_activity
  WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
)
SELECT
  (SELECT count(*) FROM a),
  (SELECT count(*) FROM a WHERE state = 'active'),
  (SELECT count(*) FROM a WHERE state = 'idle'),
  (SELECT count(*) FROM a WHERE state LIKE 'idle in transaction%'),
  (SELECT count(*) FROM a WHERE wait_event_type = 'Lock'),
  (SELECT (extract(epoch FROM clock_timestamp() - min(query_start)) * 1000)::float8
     FROM a WHERE state = 'active'),
  d.xact_commit + d.xact_rollback,
  d.tup_returned, d.tup_fetched, d.tup_inserted, d.tup_updated, d.tup_deleted
FROM pg_stat_database d WHERE d.datname = current_database()";

/// (key, label, unit, figure) of each column, in the order of [`SAMPLE_SQL`]'s values.
const COLUMNS: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "connections",
        "connections",
        "count",
        Some("pg_connections"),
    ),
    ("active", "active", "count", Some("pg_connections_active")),
    ("idle", "idle", "count", None),
    (
        "idle_in_transaction",
        "idle in transaction",
        "count",
        Some("pg_connections_idle_in_transaction"),
    ),
    (
        "waiting",
        "waiting on a lock",
        "count",
        Some("pg_connections_waiting"),
    ),
    (
        "longest_query_ms",
        "longest query",
        "ms",
        Some("pg_longest_query"),
    ),
    (
        "transactions_per_s",
        "transactions/s",
        "/s",
        Some("pg_transactions"),
    ),
    ("rows_returned_per_s", "rows returned/s", "/s", None),
    ("rows_fetched_per_s", "rows fetched/s", "/s", None),
    ("rows_inserted_per_s", "rows inserted/s", "/s", None),
    ("rows_updated_per_s", "rows updated/s", "/s", None),
    ("rows_deleted_per_s", "rows deleted/s", "/s", None),
];
/// Values before this index are gauges; from it on, counters turned into rates.
const FIRST_RATE: usize = 6;

/// A PostgreSQL server (see the module comment).
pub struct PostgresSource {
    config: Config,
    name: String,
    target: String,
    columns: Vec<Column>,
    conn: Option<Connection>,
    /// The counters of the previous sample, and when it was taken.
    previous: Option<([i64; 6], Instant)>,
    /// The monitor's own transactions not yet taken out of an increase (see `sample`).
    own_transactions_owed: i64,
    /// `pg_stat_statements` as `open` found it, when the extension is there.
    statements_at_start: Option<HashMap<StatementKey, Counted>>,
}

struct Connection {
    client: Client,
    sample: Statement,
    /// The `pg_stat_statements` query for this server's version, when the extension is
    /// installed.
    statements_sql: Option<String>,
}

type StatementKey = (i64, i64, i64);

#[derive(Clone, Debug, Default)]
struct Counted {
    query: String,
    calls: i64,
    total_ms: f64,
    rows: i64,
}

impl PostgresSource {
    /// Reads the URL (`postgres://user:pass@127.0.0.1:5432/app` or `host=... dbname=...`);
    /// connects to nothing (that is [`Source::open`]).
    pub fn new(url: &str) -> Result<PostgresSource, SourceError> {
        let mut config = Config::from_str(url).map_err(|e| {
            SourceError::new(format!(
                "--monitor-postgres {:?}: {e}; write a connection URL such as \
                 postgres://user:password@127.0.0.1:5432/app",
                without_password(url)
            ))
        })?;
        config.connect_timeout(QUERY_TIMEOUT);
        // `statement_timeout` is the server's: a frozen server, or a network that drops
        // packets, would hold a query (and this source's thread) until the kernel gives up,
        // minutes later. Unacknowledged data past this makes the socket fail instead, so
        // the source is lost on the timeline within a few intervals.
        config.tcp_user_timeout(Duration::from_secs(3));
        config.keepalives_idle(Duration::from_secs(5));
        if config.get_application_name().is_none() {
            config.application_name("barrage monitor");
        }
        let timeout = format!("-c statement_timeout={}", QUERY_TIMEOUT.as_millis());
        let options = match config.get_options() {
            Some(given) => format!("{given} {timeout}"),
            None => timeout,
        };
        config.options(&options);
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(host)) => host.clone(),
            Some(Host::Unix(path)) => path.display().to_string(),
            None => "localhost".to_owned(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let database = config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or("postgres")
            .to_owned();
        Ok(PostgresSource {
            config,
            name: format!("postgres {host}:{port}/{database}"),
            target: without_password(url),
            columns: COLUMNS
                .iter()
                .map(|(key, label, unit, figure)| Column {
                    key: (*key).to_owned(),
                    label: (*label).to_owned(),
                    unit: (*unit).to_owned(),
                    figure: figure.map(str::to_owned),
                })
                .collect(),
            conn: None,
            previous: None,
            own_transactions_owed: 0,
            statements_at_start: None,
        })
    }

    fn connect(&self) -> Result<Connection, SourceError> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(|e| SourceError::new(format!("cannot connect: {}", describe(&e))))?;
        let sample = client.prepare(SAMPLE_SQL).map_err(|e| {
            SourceError::new(format!("cannot read the statistics: {}", describe(&e)))
        })?;
        let version: Option<String> = client
            .query_opt(
                "/* barrage monitor */ SELECT extversion FROM pg_extension \
                 WHERE extname = 'pg_stat_statements'",
                &[],
            )
            .map_err(|e| SourceError::new(describe(&e)))?
            .map(|row| row.get(0));
        // The extension's 1.8 (PostgreSQL 13) renamed total_time to total_exec_time.
        let statements_sql = version.map(|v| {
            let time = if version_at_least(&v, 1, 8) {
                "total_exec_time"
            } else {
                "total_time"
            };
            format!(
                "{TAG} SELECT userid::int8, dbid::int8, coalesce(queryid, 0), calls, \
                 {time}, rows, coalesce(query, '') FROM pg_stat_statements"
            )
        });
        Ok(Connection {
            client,
            sample,
            statements_sql,
        })
    }

    /// The connection, made anew if it was lost.
    fn connection(&mut self) -> Result<&mut Connection, SourceError> {
        if self.conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            self.conn = Some(self.connect()?);
        }
        Ok(self.conn.as_mut().expect("a connection was just made"))
    }

    fn statements(&mut self) -> Option<HashMap<StatementKey, Counted>> {
        let conn = self.conn.as_mut()?;
        let sql = conn.statements_sql.as_ref()?;
        // Without shared_preload_libraries the extension exists but cannot be read: then
        // there is no statement list, and nothing else is lost.
        let rows = conn.client.query(sql.as_str(), &[]).ok()?;
        let mut out: HashMap<StatementKey, Counted> = HashMap::new();
        for row in rows {
            let query: String = row.get(6);
            if query.contains(TAG) {
                continue;
            }
            let entry = out.entry((row.get(0), row.get(1), row.get(2))).or_default();
            entry.query = query;
            entry.calls += row.get::<_, i64>(3);
            entry.total_ms += row.get::<_, f64>(4);
            entry.rows += row.get::<_, i64>(5);
        }
        Some(out)
    }
}

impl Source for PostgresSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Postgres
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn target(&self) -> String {
        self.target.clone()
    }

    fn open(&mut self) -> Result<(), SourceError> {
        self.connection()?;
        self.statements_at_start = self.statements();
        Ok(())
    }

    fn columns(&self) -> &[Column] {
        &self.columns
    }

    fn sample(&mut self) -> Result<Vec<Option<f64>>, SourceError> {
        let conn = self.connection()?;
        let row = match conn.client.query_one(&conn.sample, &[]) {
            Ok(row) => row,
            Err(e) => {
                // A closed connection is made anew at the next sample.
                return Err(SourceError::new(format!("query failed: {}", describe(&e))));
            }
        };
        let now = Instant::now();
        let mut values: Vec<Option<f64>> =
            (0..5).map(|i| Some(row.get::<_, i64>(i) as f64)).collect();
        values.push(row.get::<_, Option<f64>>(5));
        let mut counters = [0i64; 6];
        for (i, counter) in counters.iter_mut().enumerate() {
            *counter = row.get::<_, i64>(FIRST_RATE + i);
        }
        match self.previous {
            Some((before, at)) => {
                let elapsed = now.duration_since(at).as_secs_f64();
                // The previous sample's query was a transaction of this database, not the
                // application's. PostgreSQL publishes a backend's counters up to a second
                // late, so the monitor's transactions are owed and paid from the next
                // increases: subtracting one per window would undercount nothing and
                // overcount each window that saw none.
                self.own_transactions_owed += 1;
                for (i, (now, before)) in counters.iter().zip(before).enumerate() {
                    let mut delta = now - before;
                    if i == 0 && delta > 0 {
                        let paid = delta.min(self.own_transactions_owed);
                        self.own_transactions_owed -= paid;
                        delta -= paid;
                    }
                    // A drop is a statistics reset (pg_stat_reset, a restart): no rate.
                    values.push((delta >= 0 && elapsed > 0.0).then(|| delta as f64 / elapsed));
                }
            }
            None => values.extend([None; 6]),
        }
        self.previous = Some((counters, now));
        Ok(values)
    }

    fn finish(&mut self, series: &mut SourceSeries) {
        let Some(start) = self.statements_at_start.take() else {
            return;
        };
        let Some(end) = self.statements() else { return };
        series.statements = top_statements(&start, end);
    }
}

/// The statements with the most execution time added between the two snapshots, most
/// first.
fn top_statements(
    start: &HashMap<StatementKey, Counted>,
    end: HashMap<StatementKey, Counted>,
) -> Vec<StatementStats> {
    let mut added: Vec<StatementStats> = end
        .into_iter()
        .filter_map(|(key, now)| {
            let before = start.get(&key).cloned().unwrap_or_default();
            // A statement evicted and seen anew counts from zero.
            let before = if now.calls < before.calls {
                Counted::default()
            } else {
                before
            };
            let calls = now.calls - before.calls;
            (calls > 0).then(|| {
                let total_ms = now.total_ms - before.total_ms;
                StatementStats {
                    query: shorten(&now.query),
                    calls: calls as u64,
                    total_ms,
                    mean_ms: total_ms / calls as f64,
                    rows: (now.rows - before.rows).max(0) as u64,
                }
            })
        })
        .collect();
    added.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    added.truncate(TOP_STATEMENTS);
    added
}

/// The query on one line, at most [`STATEMENT_CHARS`] characters.
fn shorten(query: &str) -> String {
    let one_line = query.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(STATEMENT_CHARS) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

fn version_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    found >= (major, minor)
}

/// The driver's error with its cause (`db error: FATAL: password authentication failed`),
/// which its own `Display` leaves out.
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_names_the_server_and_hides_the_password() {
        let source = PostgresSource::new("postgres://app:secret@127.0.0.1:5433/shop").unwrap();
        assert_eq!(source.name(), "postgres 127.0.0.1:5433/shop");
        assert_eq!(
            source.target(),
            "postgres://app:redacted@127.0.0.1:5433/shop"
        );
        let source =
            PostgresSource::new("host=127.0.0.1 user=app password='s e' dbname=shop").unwrap();
        assert_eq!(source.name(), "postgres 127.0.0.1:5432/shop");
        assert_eq!(
            source.target(),
            "host=127.0.0.1 user=app password=redacted dbname=shop"
        );
        let err = PostgresSource::new("postgres://app:secret@127.0.0.1:notaport/x")
            .err()
            .unwrap();
        assert!(
            !err.0.contains("secret") && err.0.contains("postgres://"),
            "{err}"
        );
    }

    #[test]
    fn the_top_statements_are_those_that_added_the_most_time() {
        let counted = |query: &str, calls, total_ms, rows| Counted {
            query: query.to_owned(),
            calls,
            total_ms,
            rows,
        };
        let start = HashMap::from([
            ((1, 1, 1), counted("SELECT 1", 10, 100.0, 10)),
            ((1, 1, 2), counted("SELECT 2", 5, 50.0, 5)),
        ]);
        let end = HashMap::from([
            ((1, 1, 1), counted("SELECT 1", 12, 110.0, 12)),
            ((1, 1, 2), counted("SELECT 2", 5, 50.0, 5)),
            (
                (1, 1, 3),
                counted("INSERT  INTO t\n VALUES ($1)", 4, 40.0, 4),
            ),
        ]);
        let top = top_statements(&start, end);
        assert_eq!(
            top,
            vec![
                StatementStats {
                    query: "INSERT INTO t VALUES ($1)".into(),
                    calls: 4,
                    total_ms: 40.0,
                    mean_ms: 10.0,
                    rows: 4
                },
                StatementStats {
                    query: "SELECT 1".into(),
                    calls: 2,
                    total_ms: 10.0,
                    mean_ms: 5.0,
                    rows: 2
                },
            ]
        );
        assert!(version_at_least("1.10", 1, 8) && !version_at_least("1.7", 1, 8));
    }

    #[test]
    fn an_unreachable_server_is_an_error_within_the_timeout() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut source = PostgresSource::new(&format!("postgres://u@127.0.0.1:{port}/db")).unwrap();
        let started = Instant::now();
        let err = source.open().unwrap_err();
        assert!(err.0.contains("cannot connect"), "{err}");
        assert!(source.sample().is_err());
        assert!(started.elapsed() < 4 * QUERY_TIMEOUT);
    }
}
