//! Command-line arguments. Flag names mirror Locust for `run` and hey/oha for `hit`, so
//! people can bring their habits; precedence is flag, then `BARRAGE_*` environment, then
//! the scenario file.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "barrage",
    version,
    about = "Load testing for HTTP APIs: scenarios, correct latency, live statistics, CI verdicts",
    after_help = "Start with `barrage demo`, then `barrage run --help`.\n\
                  Exit codes: 0 passed, 1 failed (failed requests), 2 bad usage or scenario, \
                  3 could not run, 130 interrupted."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario file.
    #[command(after_help = "Examples:\n  \
        barrage run scenario.yaml\n  \
        barrage run scenario.yaml -u 50 -r 25 -t 20s --json out.json\n  \
        barrage run scenario.yaml -H http://127.0.0.1:8001 --iterations 1000\n  \
        barrage run scenario.yaml --debug        # one user, each task once, every request shown")]
    Run(RunArgs),
    /// Check a scenario file without sending any request.
    #[command(after_help = "Examples:\n  barrage validate scenario.yaml")]
    Validate {
        /// The scenario file (YAML).
        scenario: PathBuf,
    },
    /// Print the scenario file's JSON Schema (for editors and linters).
    #[command(after_help = "Examples:\n  barrage schema > barrage.schema.json")]
    Schema,
    /// Start a built-in items API on loopback and run the bundled example against it.
    #[command(after_help = "Examples:\n  barrage demo\n  barrage demo -t 5s --json demo.json")]
    Demo(DemoArgs),
    /// Load one URL, as hey, oha or wrk do.
    #[command(after_help = "Examples:\n  \
        barrage hit http://127.0.0.1:8000/ -c 50 -d 10s\n  \
        barrage hit http://127.0.0.1:8000/items/ -m POST -b '{\"name\":\"x\",\"price\":1}' \
        -H 'content-type: application/json' -n 1000")]
    Hit(HitArgs),
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The scenario file (YAML).
    pub scenario: PathBuf,
    /// Number of concurrent users (overrides `load.users`).
    #[arg(short = 'u', long, env = "BARRAGE_USERS")]
    pub users: Option<u64>,
    /// Users started per second (overrides `load.spawn_rate`).
    #[arg(short = 'r', long, env = "BARRAGE_SPAWN_RATE")]
    pub spawn_rate: Option<f64>,
    /// Stop after this long, e.g. 30s, 5m, 1h30m (overrides `load.duration`).
    #[arg(short = 't', long, env = "BARRAGE_RUN_TIME", value_parser = parse_duration)]
    pub run_time: Option<Duration>,
    /// Target base URL (overrides the file's `target`).
    #[arg(short = 'H', long, env = "BARRAGE_HOST")]
    pub host: Option<String>,
    /// Stop after this many iterations in total over all users (as k6's shared iterations).
    #[arg(long, env = "BARRAGE_ITERATIONS")]
    pub iterations: Option<u64>,
    /// How long in-flight requests may take to finish when the run ends.
    #[arg(long, env = "BARRAGE_STOP_TIMEOUT", value_parser = parse_duration)]
    pub stop_timeout: Option<Duration>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Run one user of each type through setup and each task once, printing every
    /// request, response and saved value: the way to get a new scenario right.
    #[arg(long)]
    pub debug: bool,
    /// Accepted for Locust compatibility; barrage's `run` never opens a UI.
    #[arg(long, hide = true)]
    pub headless: bool,
}

#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Write the result file (JSON) here; `-` for stdout.
    #[arg(long, value_name = "PATH", env = "BARRAGE_JSON")]
    pub json: Option<PathBuf>,
    /// Worker threads (default: available cores).
    #[arg(long, env = "BARRAGE_WORKERS")]
    pub workers: Option<usize>,
    /// Do not verify TLS certificates (self-signed test servers).
    #[arg(long)]
    pub insecure: bool,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// How long the demo runs.
    #[arg(short = 't', long, default_value = "15s", value_parser = parse_duration)]
    pub run_time: Duration,
    /// Number of concurrent users.
    #[arg(short = 'u', long, default_value_t = 20)]
    pub users: u64,
    /// Where the result file goes.
    #[arg(long, default_value = "barrage-demo.json")]
    pub json: PathBuf,
    /// Worker threads (default: available cores).
    #[arg(long)]
    pub workers: Option<usize>,
}

#[derive(Args, Debug)]
pub struct HitArgs {
    /// The URL to load (http:// or https://).
    pub url: String,
    /// Concurrent connections (one user each).
    #[arg(short = 'c', long = "connections", default_value_t = 50)]
    pub connections: u64,
    /// Total requests (default 200, as hey, unless -d is given).
    #[arg(short = 'n', long = "requests")]
    pub requests: Option<u64>,
    /// Duration, e.g. 10s (overrides -n's default).
    #[arg(short = 'd', long = "duration", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// HTTP method.
    #[arg(short = 'm', long = "method", default_value = "GET")]
    pub method: String,
    /// Header `name: value` (repeatable).
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Request body.
    #[arg(short = 'b', long = "body")]
    pub body: Option<String>,
    /// Response timeout.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Durations on the command line use the scenario file's syntax (`500ms`, `1m30s`).
fn parse_duration(s: &str) -> Result<Duration, String> {
    barrage_scenario::parse_duration(s).map_err(|e| format!("{e}; {}", e.help()))
}
