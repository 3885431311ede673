//! The PostgreSQL source against a real server (Debian's, started by the test): every
//! connection state it reports is one the test set up, the transactions and rows it
//! counts are the ones the test made, and `finish` names the statement that took the
//! time.

#[path = "../../barrage/tests/common/postgres.rs"]
mod pg;

use std::collections::HashMap;
use std::thread;
use std::time::{Duration, Instant};

use barrage_metrics::SourceSeries;
use barrage_monitor::{PostgresSource, Source};
use postgres::{Client, NoTls};

fn by_key(source: &PostgresSource, row: &[Option<f64>]) -> HashMap<String, Option<f64>> {
    source
        .columns()
        .iter()
        .zip(row)
        .map(|(c, v)| (c.key.clone(), *v))
        .collect()
}

fn client(server: &pg::PgServer) -> Client {
    Client::connect(&server.url(), NoTls).expect("a test connection")
}

/// One sample by column key; panics if the source gives none.
fn sample(source: &mut PostgresSource) -> HashMap<String, Option<f64>> {
    let row = source.sample().unwrap_or_else(|e| panic!("a sample: {e}"));
    by_key(source, &row)
}

#[test]
#[ignore = "needs PostgreSQL (BARRAGE_PG_BIN; scripts/test.sh prepares it)"]
fn connections_by_state_locks_transactions_and_statements() {
    let server = pg::PgServer::start();
    server.psql("CREATE TABLE t (id serial PRIMARY KEY, note text)");
    let mut source = PostgresSource::new(&server.url()).unwrap();
    assert_eq!(
        source.name(),
        format!("postgres 127.0.0.1:{}/postgres", server.port)
    );
    source
        .open()
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    let first = sample(&mut source);
    assert_eq!(
        first["connections"],
        Some(0.0),
        "the monitor's own is left out"
    );
    assert_eq!(
        first["transactions_per_s"], None,
        "no rate before a second sample"
    );

    // One connection holds a lock inside a transaction, one waits for it, one sleeps in a
    // query, one is idle.
    let mut holder = client(&server);
    holder
        .batch_execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let url = server.url();
    let waiter = thread::spawn({
        let url = url.clone();
        move || {
            let mut c = Client::connect(&url, NoTls).unwrap();
            c.query_one("SELECT count(*) FROM t", &[]).unwrap();
        }
    });
    let sleeper = thread::spawn(move || {
        let mut c = Client::connect(&url, NoTls).unwrap();
        c.execute("SELECT pg_sleep(1.5)", &[]).unwrap();
    });
    let mut idle = client(&server);
    // Until both threads have connected and started (a loaded machine may take a while),
    // within the sleeper's 1.5 s.
    let started = Instant::now();
    let mut got = sample(&mut source);
    while (got["waiting"], got["active"]) != (Some(1.0), Some(2.0))
        && started.elapsed() < Duration::from_millis(1000)
    {
        thread::sleep(Duration::from_millis(50));
        got = sample(&mut source);
    }
    assert_eq!(got["connections"], Some(4.0), "{got:?}");
    assert_eq!(got["active"], Some(2.0), "{got:?}");
    assert_eq!(got["idle"], Some(1.0), "{got:?}");
    assert_eq!(got["idle_in_transaction"], Some(1.0), "{got:?}");
    assert_eq!(got["waiting"], Some(1.0), "{got:?}");
    // The sleeper's query, running since before the sample.
    let longest = got["longest_query_ms"].unwrap();
    assert!(longest > 0.0 && longest < 1500.0, "{longest}");
    holder.batch_execute("COMMIT").unwrap();
    waiter.join().unwrap();
    sleeper.join().unwrap();

    // 60 inserts, one transaction each. PostgreSQL publishes a busy backend's counters up
    // to a second late, an idle one's up to 10 s, an ending one's as it ends: the sample
    // before the inserts waits for the setup's to be out, the inserting connection is
    // closed after them, and the rates are summed over samples for 4 s.
    // Prepared first: with the extended protocol, a preparation is a transaction too.
    let insert = idle.prepare("INSERT INTO t (note) VALUES ($1)").unwrap();
    thread::sleep(Duration::from_millis(1500));
    source.sample().unwrap();
    let mut at = Instant::now();
    for i in 0..60 {
        idle.execute(&insert, &[&format!("n{i}")]).unwrap();
    }
    drop(idle);
    let mut transactions = 0.0;
    let mut inserted = 0.0;
    for _ in 0..8 {
        thread::sleep(Duration::from_millis(500));
        let got = sample(&mut source);
        let elapsed = at.elapsed().as_secs_f64();
        at = Instant::now();
        transactions += got["transactions_per_s"].unwrap() * elapsed;
        inserted += got["rows_inserted_per_s"].unwrap() * elapsed;
    }
    // The rates are per second of the time between samples, measured apart from the
    // test's own clock (a preempted test thread shifts the product by a few percent on a
    // busy machine): 60 rows, give or take two.
    assert!((58.0..62.0).contains(&inserted), "{inserted}");
    // The 60 inserts, and up to 10 transactions published late with them: the insert's
    // preparation, the lock holder's, the monitor's own beyond those it subtracts.
    assert!((58.0..72.0).contains(&transactions), "{transactions}");

    let mut series = SourceSeries::default();
    source.finish(&mut series);
    let insert = series
        .statements
        .iter()
        .find(|s| s.query.starts_with("INSERT INTO t"))
        .unwrap_or_else(|| panic!("{:#?}", series.statements));
    assert_eq!(insert.calls, 60);
    assert_eq!(insert.rows, 60);
    assert!(insert.total_ms > 0.0 && (insert.mean_ms - insert.total_ms / 60.0).abs() < 1e-9);
    assert!(
        !series
            .statements
            .iter()
            .any(|s| s.query.contains("barrage monitor")),
        "{:#?}",
        series.statements
    );
    // The 1.5 s sleep took the most time of all: it comes first.
    assert!(
        series.statements[0].query.contains("pg_sleep"),
        "{:#?}",
        series.statements
    );
}
