//! A throwaway PostgreSQL server for the monitoring tests: Debian's binaries
//! (`BARRAGE_PG_BIN`, set by scripts/test.sh), a data folder in a temporary directory, a
//! free loopback port, `pg_stat_statements` preloaded and created. Stopped (immediately:
//! nothing in it is worth a checkpoint) when the guard drops, failing tests included.
//!
//! PostgreSQL refuses to run as root, and the tests run as root in CI: then every command
//! runs as the `postgres` user (`runuser -u postgres --`), which owns the temporary folder.
//!
//! Self-contained (std and tempfile only), so crates/barrage-monitor's tests include it too
//! (`#[path]`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct PgServer {
    bin: PathBuf,
    dir: tempfile::TempDir,
    as_postgres: bool,
    pub port: u16,
}

impl PgServer {
    /// Makes and starts the server, then creates `pg_stat_statements`.
    pub fn start() -> PgServer {
        let bin = PathBuf::from(std::env::var_os("BARRAGE_PG_BIN").expect(
            "BARRAGE_PG_BIN is not set: run scripts/test.sh, which installs Debian's \
             postgresql and sets it to the folder holding initdb, pg_ctl and postgres",
        ));
        let dir = tempfile::tempdir().expect("a temporary folder for PostgreSQL");
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if as_postgres {
            check(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(dir.path())
                    .output(),
                "chown the temporary folder to postgres",
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let server = PgServer {
            bin,
            dir,
            as_postgres,
            port,
        };
        let data = server.data();
        std::fs::create_dir_all(server.dir.path().join("sock")).unwrap();
        if as_postgres {
            check(
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(server.dir.path().join("sock"))
                    .output(),
                "chown the socket folder",
            );
        }
        check(
            server
                .command("initdb")
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
                .output(),
            "initdb",
        );
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 \
             -c shared_preload_libraries=pg_stat_statements -c fsync=off \
             -c max_connections=50",
            server.dir.path().join("sock").display()
        );
        check(
            server
                .command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(server.dir.path().join("postgres.log"))
                .args(["-w", "-t", "30", "-o", &options, "start"])
                .output(),
            "pg_ctl start",
        );
        server.psql("CREATE EXTENSION pg_stat_statements");
        server
    }

    /// A URL for the `postgres` superuser and database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs SQL with psql; panics with its output on an error.
    pub fn psql(&self, sql: &str) -> String {
        let out = check(
            self.command("psql")
                .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"])
                .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"])
                .args(["-p", &self.port.to_string(), "-c", sql])
                .output(),
            "psql",
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            // runuser keeps the working directory, which postgres may not read.
            c.current_dir(Path::new("/"));
            c
        } else {
            Command::new(program)
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // A failure here only means the server is already down.
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

fn check(result: std::io::Result<Output>, what: &str) -> Output {
    let out = result.unwrap_or_else(|e| panic!("{what}: cannot run it: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
