//! `--monitor-postgres` through the binary, against a real PostgreSQL (Debian's, started
//! by the test) behind a FastAPI endpoint that inserts through psycopg: the connection
//! counts show the app's pool, transactions/s rise with the load, and the statements that
//! took the time name the app's insert.

mod common;

use std::time::Duration;

use common::postgres::PgServer;
use common::{endpoint, read_json, write, ChildGuard};

/// Column `key`'s values over the run.
fn values(source: &serde_json::Value, key: &str) -> Vec<f64> {
    let columns = source["columns"].as_array().expect("columns");
    let at = columns
        .iter()
        .position(|c| c["key"] == key)
        .unwrap_or_else(|| panic!("no column {key} in {source}"));
    source["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["values"].get(at).and_then(|v| v.as_f64()))
        .collect()
}

#[test]
#[ignore = "needs PostgreSQL (BARRAGE_PG_BIN) and the test venv with psycopg (scripts/test.sh prepares them)"]
fn connections_transactions_and_statements_of_the_apps_database() {
    let _serial = common::serial();
    let pg = PgServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let pool = 4;
    let mut app = ChildGuard::spawn(
        "uvicorn",
        std::process::Command::new(common::python())
            .current_dir(common::repo_root().join("crates/barrage/tests/apps"))
            .env("PG_DSN", pg.url())
            .env("PG_POOL", pool.to_string())
            .args(["-m", "uvicorn", "pg_app:app", "--host", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--log-level", "critical"]),
        &dir.path().join("uvicorn.log"),
    )
    .expect("starting uvicorn");
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    common::wait_for_http(addr, "/health", Duration::from_secs(20), &mut app).unwrap();
    let scenario = write(
        dir.path(),
        "s.yaml",
        "target: http://127.0.0.1:1\nusers:\n  u:\n    tasks:\n      t:\n        - post: /orders\n",
    );
    let out = dir.path().join("r.json");
    let run = common::run(
        common::barrage()
            .arg("run")
            .arg(&scenario)
            .args(["-u", "8", "-r", "8", "-t", "5s", "--workers", "1"])
            .args(["--monitor-postgres", &pg.url()])
            .arg("-H")
            .arg(format!("http://{addr}"))
            .arg("--json")
            .arg(&out),
    );
    assert!(
        run.status.success(),
        "{}\n{}\n{}",
        common::stderr(&run),
        app.log(),
        pg.log()
    );
    let doc = read_json(&out);
    let orders = endpoint(&doc, "POST", "/orders");
    assert_eq!(orders["failures"], 0, "{orders}");
    let sent = orders["requests"].as_u64().unwrap();
    assert!(sent > 50, "{orders}");
    let server = &doc["server"];
    let source = server["sources"]
        .as_array()
        .expect("a server section with sources")
        .iter()
        .find(|s| s["kind"] == "postgres")
        .unwrap_or_else(|| panic!("no postgres source in {server}"));
    assert_eq!(
        source["name"],
        format!("postgres 127.0.0.1:{}/postgres", pg.port)
    );
    assert!(source["lost"].is_null(), "{source}");

    let connections = values(source, "connections");
    let max = connections.iter().copied().fold(0.0, f64::max);
    assert!(
        max >= pool as f64,
        "the app's {pool} connections: {connections:?}"
    );
    let transactions = values(source, "transactions_per_s");
    assert!(
        transactions.iter().any(|t| *t > 0.0),
        "transactions/s during the load: {transactions:?}"
    );
    assert!(
        values(source, "rows_inserted_per_s")
            .iter()
            .any(|r| *r > 0.0),
        "{source}"
    );
    // The threshold figures come from the same columns.
    let figures = server["stats"]["figures"].as_array().expect("figures");
    let figure = |name: &str| {
        figures
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("figure {name} in {figures:?}"))
    };
    assert!(figure("pg_connections")["max"].as_f64().unwrap() >= pool as f64);
    assert!(figure("pg_transactions")["max"].as_f64().unwrap() > 0.0);

    let statements = source["statements"].as_array().expect("statements");
    let insert = statements
        .iter()
        .find(|s| {
            s["query"]
                .as_str()
                .is_some_and(|q| q.starts_with("INSERT INTO orders"))
        })
        .unwrap_or_else(|| panic!("the app's insert in {statements:?}"));
    // Every request inserted once; a few may have been in flight at the first snapshot.
    let calls = insert["calls"].as_u64().unwrap();
    assert!(
        calls >= sent.saturating_sub(10) && calls <= sent + 10,
        "{calls} vs {sent}"
    );
    // Each insert sleeps 10 ms first.
    assert!(insert["mean_ms"].as_f64().unwrap() >= 10.0, "{insert}");
}
