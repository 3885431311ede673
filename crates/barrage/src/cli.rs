//! Command-line arguments. Flag names mirror Locust for `run` and hey/oha for `hit`, so
//! people can bring their habits; precedence is flag, then `BARRAGE_*` environment, then
//! the scenario file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::durations::{parse_duration, parse_positive_duration};

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "barrage",
    version,
    about = "Load testing for HTTP APIs: scenarios, correct latency, live statistics, CI verdicts",
    after_help = "Start with `barrage demo`, then `barrage run --help`.\n\
                  Exit codes: 0 passed, 1 failed (a threshold failed or, without thresholds, \
                  a request failed), 2 bad usage or scenario, \
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
        barrage run scenario.yaml --rate 200 -t 1m     # open model: 200 iterations/s\n  \
        barrage run scenario.yaml --stages 30s:100,2m:100,30s:0\n  \
        barrage run scenario.yaml --debug        # one user, each task once, every request shown\n  \
        barrage run scenario.yaml --threshold 'p95<200ms' --threshold 'error_rate<1%'\n  \
        barrage run scenario.yaml --threshold 'p99{name=\"/items/{item_id}\", method=\"GET\"}<300ms'\n  \
        barrage run scenario.yaml --json out.json --csv out --junit junit.xml --summary-md summary.md\n  \
        barrage run scenario.yaml --json out.json --html report.html   # one file, opens offline\n  \
        barrage run scenario.yaml --segment 2/4 --start-at 2026-12-06T03:00:00Z --json part2.json\n\n\
        Thresholds: p50 p75 p90 p95 p99 p99.9 mean min max (response time; service_p95 etc. for \
        service time), error_rate, rps, checks, requests, failures, dropped_iterations; \
        server figures (server_cpu in % of a core, server_rss, probe_max_stall, pg_connections, \
        ...; avg(server_cpu) etc. for other statistics than the highest sample); \
        < <= > >= == !=; limits like 200ms, 1s, 1%, 0.01, 100, 500MB. With thresholds, they decide \
        the exit code.\n\
        While it runs on a terminal: w/W add 1/10 users, s/S remove 1/10 (with --rate: \
        iterations/s); Ctrl-C once stops gracefully, twice at once.\n\
        Secrets (authorization and cookie headers, tokens, passwords, values saved by setup) \
        are kept out of the result file and reports; --no-redact keeps them.")]
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
    #[command(
        after_help = "Examples:\n  barrage demo\n  barrage demo -t 5s --json demo.json --html demo.html"
    )]
    Demo(DemoArgs),
    /// Load one URL, as hey, oha or wrk do.
    #[command(after_help = "Examples:\n  \
        barrage hit http://127.0.0.1:8000/ -c 50 -d 10s\n  \
        barrage hit http://127.0.0.1:8000/items/ -m POST -b '{\"name\":\"x\",\"price\":1}' \
        -H 'content-type: application/json' -n 1000")]
    Hit(HitArgs),
    /// Compare two result files: per-endpoint changes with noise intervals, and regression
    /// gates that fail only on changes beyond the gate and beyond the noise.
    #[command(after_help = "Examples:\n  \
        barrage compare base.json new.json\n  \
        barrage compare base.json new.json --fail-if 'p95>+10%' --fail-if 'error_rate>+0.5%'\n  \
        barrage compare base.json new.json --fail-if 'p99{name=\"/items/{item_id}\"}>+20ms' --strict\n  \
        barrage compare base.json new.json --fail-if 'rps<-10%' --json diff.json --summary-md diff.md\n\n\
        Noise: percentile intervals are bootstrapped from the runs' HDR histograms; a percentile \
        is compared only with at least 20 samples above it in each run (p95: 400, p99: 2000). \
        Below that the gate says \"not enough data\": exit 0 with a warning, or 1 with --strict.\n\
        Exit codes: 0 passed, 1 a gate failed, 2 bad usage or unreadable file.")]
    Compare(crate::compare_cmd::CompareArgs),
    /// Render the summary and the CI files from a saved result; `--threshold` judges it again.
    #[command(after_help = "Examples:\n  \
        barrage report out.json\n  \
        barrage report out.json --threshold 'p95<200ms' --threshold 'error_rate<1%'\n  \
        barrage report out.json --csv out --junit junit.xml --summary-md summary.md\n  \
        barrage report new.json --html report.html --baseline base.json\n\n\
        Exit codes: with --threshold, 0 all passed and 1 one failed; without, 0; \
        2 unreadable file or bad threshold; 3 an output file could not be written.")]
    Report(crate::report_cmd::ReportArgs),
    /// Merge the result files of one run split over several processes (`run --segment
    /// I/N`) into one exact result: counts add, percentiles come from merged histograms,
    /// thresholds are judged again on the merged run.
    #[command(after_help = "Examples:\n  \
        barrage merge seg1.json seg2.json seg3.json seg4.json --json run.json\n  \
        barrage merge results/*.json --json run.json --html report.html --junit junit.xml\n  \
        barrage merge results/*.json --threshold 'p99<300ms' --threshold 'requests>=100000'\n\n\
        Refused: files of different scenarios, a segment given twice, segments of different \
        splits, a segment with a whole run. Missing segments are merged with a warning.\n\
        Exit codes: 0 merged and passed; 1 the merged run failed as one run would (a threshold \
        failed on it; without thresholds, any failed request); 2 a file unreadable or refused, \
        or a bad threshold; 3 an output file could not be written.")]
    Merge(crate::merge_cmd::MergeArgs),
    /// Write a scenario from the service's OpenAPI document (FastAPI: /openapi.json, or the
    /// app object itself with --from-app).
    #[command(after_help = "Examples:\n  \
        barrage init --openapi http://127.0.0.1:8000            # fetches /openapi.json\n  \
        barrage init --from-app app.main:app                    # imports the app, no server\n  \
        barrage init --openapi openapi.yaml -o scenario.yaml --force\n  \
        barrage init --openapi openapi.json --include items --exclude DELETE\n  \
        barrage init --openapi http://127.0.0.1:8000 --exclude 'PATCH /users/me' --think 1s..3s\n  \
        barrage init --openapi openapi.json --weights get=20,post=1 --check-responses\n\n\
        The scenario runs as written (values are generated from the schemas, ids flow from \
        creates to reads); try it with `barrage run scenario.yaml --debug`.\n\
        Exit codes: 0 written, 2 unreadable or unusable document, or bad flags.")]
    Init(crate::init_cmd::InitArgs),
    /// Find the highest rate (or most users) the service holds within its objectives:
    /// an exponential probe, then bisection, each step judged on the objectives and on
    /// being steady; optionally over several configurations of the service.
    #[command(after_help = "Examples:\n  \
        barrage capacity scenario.yaml --slo 'p99<300ms' --slo 'error_rate<1%'\n  \
        barrage capacity scenario.yaml --slo 'p95<100ms' --start-rate 50 --max-rate 5000 --step 20s --warmup 5s\n  \
        barrage capacity scenario.yaml --slo 'p99{name=\"/items/{item_id}\"}<200ms' --arrivals poisson --json cap.json --html cap.html\n  \
        barrage capacity scenario.yaml --slo 'p99<300ms' --model users --start-users 10 --max-users 2000\n  \
        barrage capacity scenario.yaml --slo 'p99<300ms' --fail-below 800\n  \
        barrage capacity scenario.yaml --slo 'p99<300ms' --baseline old.json --fail-if 'capacity<-10%'\n  \
        barrage capacity scenario.yaml --slo 'p99<300ms' -H http://127.0.0.1:8000 \\\n      \
        --serve 'uvicorn app:app --port 8000 --workers {workers}' --vary workers=1,2,4\n\n\
        The file's load rate and duration are not used (its user-pool settings are).\n\
        Exit codes: 0 a capacity was found (or --max-rate still passed), 1 a gate failed \
        (--fail-below, --fail-if), 2 bad usage or scenario, 3 no capacity could be found \
        (the start rate already fails, the generator was the limit, or the search stopped \
        incomplete at its step or time limit before a level failed), or a worker or an \
        output failed (what was found is still reported and written), 130 interrupted \
        (the bracket so far is still reported and written).")]
    Capacity(CapacityArgs),
    /// Coordinate a run over agents on other machines: each agent runs its share (segment),
    /// they start together, and this process shows, judges and writes the merged run.
    #[command(after_help = "Examples:\n  \
        barrage coordinator scenario.yaml --agents 4 -u 400 -t 5m --json run.json\n  \
        BARRAGE_TOKEN=s3cret barrage coordinator scenario.yaml --agents 10 --listen 0.0.0.0:5710 \\\n      \
        --rate 5000 -t 10m --threshold 'p99<300ms' --on-agent-loss continue\n  \
        barrage coordinator scenario.yaml --agents 2 --listen 0.0.0.0:5710 --token s3cret \\\n      \
        --tls-cert cert.pem --tls-key key.pem\n\n\
        Then on each machine: barrage agent --coordinator HOST:5710 --token s3cret\n\
        The usual run flags (-u, -r, -t, --rate, --stages, --iterations, -H, thresholds, outputs) \
        apply to the whole run. A lost agent is noticed within 5 s; its share is never moved to \
        the other agents.\n\
        Exit codes: as `run`; 3 also when an agent is lost under --on-agent-loss fail.")]
    Coordinator(CoordinatorArgs),
    /// Run a coordinator's load on this machine: connect, register, run the share it is
    /// given and stream its measurements; stops its load when the coordinator is gone.
    #[command(after_help = "Examples:\n  \
        barrage agent --coordinator 10.0.0.5:5710 --token s3cret\n  \
        BARRAGE_TOKEN=s3cret barrage agent --coordinator coord.internal:5710 --name gen-3 --workers 8\n  \
        barrage agent --coordinator coord.internal:5710 --token s3cret --tls-ca ca.pem\n\n\
        Exit codes: 0 its share ran to the end, 2 refused (wrong token, another version, a \
        scenario that does not compile here), 3 the coordinator could not be reached or was \
        lost (the load was stopped).")]
    Agent(AgentArgs),
    /// Write the Kubernetes manifests of a distributed run: a coordinator Deployment and
    /// Service, an Indexed Job of agents, and a ConfigMap with the scenario and its files.
    #[command(after_help = "Examples:\n  \
        barrage k8s scenario.yaml --agents 4 --image registry.example/barrage:0.1 | kubectl apply -f -\n  \
        barrage k8s scenario.yaml --agents 8 --image IMG --agent-cpu 4 --agent-memory 2Gi -- -t 10m --rate 2000\n  \
        barrage k8s scenario.yaml --agents 4 --image IMG --out manifests/\n  \
        barrage k8s scenario.yaml --agents 4 --image IMG --no-coordinator --results-claim results --start-at +5m\n  \
        barrage k8s scenario.yaml --agents 4 --image IMG --data-claim big-data\n\n\
        The scenario is checked as `barrage validate` does first. Flags after `--` go to \
        `barrage coordinator` (or to each `barrage run` with --no-coordinator). Only the \
        coordinator starts all agents together; without it, every pod starts at --start-at \
        if it is ready by then (docs/DISTRIBUTED.md, \"Kubernetes\").\n\
        Exit codes: 0 written, 2 bad scenario or flags, 3 an output file could not be written.")]
    K8s(crate::k8s::args::K8sArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = "Examples:\n  \
        barrage completions bash > ~/.local/share/bash-completion/completions/barrage\n  \
        barrage completions zsh > ~/.zfunc/_barrage      # a directory on $fpath\n  \
        barrage completions fish > ~/.config/fish/completions/barrage.fish\n  \
        barrage completions powershell >> $PROFILE")]
    Completions(crate::manual_cmd::CompletionsArgs),
    /// Print the man page, barrage(1), or write one page per command with --dir.
    #[command(after_help = "Examples:\n  \
        barrage man | man -l -\n  \
        barrage man --dir ~/.local/share/man/man1")]
    Man(crate::manual_cmd::ManArgs),
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
    #[arg(short = 't', long, env = "BARRAGE_RUN_TIME", value_parser = parse_positive_duration)]
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
    /// Open model: start this many iterations per second on a schedule, whatever the
    /// server's speed (overrides the file's load model; with --stages, the starting rate).
    #[arg(long, env = "BARRAGE_RATE")]
    pub rate: Option<f64>,
    /// Linear stages, e.g. 30s:100,2m:100,30s:0: users, or iterations/s with a rate.
    #[arg(long, env = "BARRAGE_STAGES", value_parser = parse_stages)]
    pub stages: Option<Stages>,
    /// Open model: most users running scheduled iterations at once.
    #[arg(long, env = "BARRAGE_MAX_USERS")]
    pub max_users: Option<u64>,
    /// Open model: how scheduled starts are spaced, `even` (as k6) or `poisson` (bursty,
    /// like many independent clients); overrides `load.arrivals`.
    #[arg(long, value_enum, env = "BARRAGE_ARRIVALS")]
    pub arrivals: Option<ArrivalsArg>,
    /// Leave the ramp-up out of the statistics (reset them once it is over), as Locust.
    #[arg(long)]
    pub reset_stats: bool,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub split: crate::segments::SegmentArgs,
    /// Run one user of each type through setup and each task once, printing every
    /// request, response and saved value, secrets included: the way to get a new
    /// scenario right.
    #[arg(long)]
    pub debug: bool,
    /// Accepted for Locust compatibility: without `--web`, runs are headless.
    #[arg(long, hide = true, conflicts_with = "web")]
    pub headless: bool,
    #[command(flatten)]
    pub web: WebArgs,
}

/// `--web` and its flags (Locust's names): serve the web UI while the run goes on.
#[derive(Args, Debug, Clone, Default)]
pub struct WebArgs {
    /// Serve the web UI (a page with the live statistics, charts, start form and buttons,
    /// and an HTTP API with Locust's paths); without --autostart the run waits for the
    /// page's start form (or `POST /swarm`).
    #[arg(long)]
    pub web: bool,
    /// The address the web UI listens on (default 127.0.0.1). Any address that is not
    /// loopback needs --web-auth-token.
    #[arg(long, value_name = "ADDR", requires = "web")]
    pub web_host: Option<String>,
    /// The web UI's port (default 8089; 0 picks a free one).
    #[arg(long, value_name = "PORT", requires = "web")]
    pub web_port: Option<u16>,
    /// Every request to the web UI must carry this token (`Authorization: Bearer TOKEN`, or
    /// open the page once as /?token=TOKEN, which keeps it in a cookie). Ignored without
    /// --web, so the variable may stay set in a shell or CI job.
    #[arg(long, value_name = "TOKEN", env = "BARRAGE_WEB_AUTH_TOKEN")]
    pub web_auth_token: Option<String>,
    /// Start the run at once instead of waiting for the start form.
    #[arg(long, requires = "web")]
    pub autostart: bool,
    /// Keep the web UI up this many seconds after the run ends (`POST /api/quit` or Ctrl-C
    /// ends it earlier); without it barrage exits when the run ends.
    #[arg(long, value_name = "SECONDS", requires = "web")]
    pub autoquit: Option<u64>,
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
    /// HTTP/1.1 only: TLS offers no HTTP/2 by ALPN (overrides `defaults.http2`).
    #[arg(long, conflicts_with = "http2")]
    pub http1: bool,
    /// HTTP/2 always: over cleartext (`http://`) with prior knowledge (h2c), over TLS
    /// offering only `h2` (overrides `defaults.http2`). Without either flag, TLS offers
    /// `h2` and `http/1.1` and the server picks (docs/HTTP2.md).
    #[arg(long)]
    pub http2: bool,
    /// Open connections from these source addresses, in turn: addresses and ranges,
    /// comma-separated (`127.0.0.2-127.0.0.60`). Each address has its own ephemeral
    /// ports, for more connections to one target than one address allows (~28,000).
    #[arg(long, value_name = "ADDRS", env = "BARRAGE_LOCAL_ADDRESSES", value_parser = parse_local_addresses)]
    pub local_addresses: Option<LocalAddresses>,
    /// No live table while the run goes on; only the summary at the end (as Locust's
    /// `--only-summary`).
    #[arg(long)]
    pub only_summary: bool,
    /// Pin worker thread i to the i-th CPU this process may run on (Linux), so the
    /// scheduler does not move workers between cores in the middle of a measurement.
    #[arg(long)]
    pub pin_workers: bool,
    /// Open models: scheduled starts due less than this long after another share its wake-up
    /// of the worker, so they go early by less than this, never late (default 1ms, at
    /// most 10ms; 0 wakes for every start). Response times count from when a request
    /// really began, so they stay true; a wider window costs less CPU per request at high
    /// rates and makes the load burstier below its scale (docs/PERFORMANCE.md measures the
    /// trade).
    #[arg(long, value_name = "DURATION", env = "BARRAGE_BATCH_WINDOW", value_parser = parse_batch_window)]
    pub batch_window: Option<Duration>,
    /// Keep secrets in the result file and reports: secret header values (authorization,
    /// cookie, *token*, *key*, *secret*), body fields, query and form parameters named like
    /// *password*, *secret*, *token* (and the scenario's `redact:` additions), values saved
    /// by setup steps, passwords in URLs, in failure samples, endpoint names and the saved
    /// command line. Redacted by default.
    #[arg(long)]
    pub no_redact: bool,
    /// Do not send a written request again: by default, a request written to a reused
    /// keep-alive connection that dies before a byte of the answer arrives goes once more
    /// on a fresh connection (any method), counted in `retries`. A request of which not a
    /// byte was written still goes again (the server never saw it).
    #[arg(long, env = "BARRAGE_NO_RETRY")]
    pub no_retry: bool,
    /// The largest response body kept for saves and checks, e.g. 32MiB (replaces the
    /// scenario's `defaults.max_body_size`; default 16MiB). Bodies nothing reads are
    /// counted, never kept.
    #[arg(long, value_name = "SIZE", env = "BARRAGE_MAX_BODY_SIZE", value_parser = parse_size)]
    pub max_body_size: Option<u64>,
    /// What all kept response bodies of the process may take together, e.g. 1GiB
    /// (default 128MiB); a body that would pass it fails its request.
    #[arg(long, value_name = "SIZE", env = "BARRAGE_MAX_BODY_MEMORY", value_parser = parse_size)]
    pub max_body_memory: Option<u64>,
    /// The largest response head (status line and headers) accepted, e.g. 256KiB
    /// (default 64KiB), however the network splits it.
    #[arg(long, value_name = "SIZE", env = "BARRAGE_MAX_HEAD_SIZE", value_parser = parse_size)]
    pub max_head_size: Option<u64>,
    #[command(flatten)]
    pub outputs: crate::outputs::OutputArgs,
    #[command(flatten)]
    pub monitor: crate::monitor_args::MonitorArgs,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// How long the demo runs.
    #[arg(short = 't', long, default_value = "15s", value_parser = parse_positive_duration)]
    pub run_time: Duration,
    /// Number of concurrent users.
    #[arg(short = 'u', long, default_value_t = 20)]
    pub users: u64,
    /// Where the result file goes.
    #[arg(long, default_value = "barrage-demo.json")]
    pub json: PathBuf,
    /// Where the HTML report goes (default: barrage-demo.html beside the result file).
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
    /// Worker threads (default: available cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Keep secrets in the result file (see `barrage run --help`).
    #[arg(long)]
    pub no_redact: bool,
    #[command(flatten)]
    pub web: WebArgs,
    #[command(flatten)]
    pub monitor: crate::monitor_args::MonitorArgs,
}

/// `barrage capacity` (see its `--help`).
#[derive(Args, Debug, Clone)]
pub struct CapacityArgs {
    /// The scenario file (YAML); one scenario (a file with several `scenarios:` is refused).
    pub scenario: PathBuf,
    /// An objective every judged step must meet, in the threshold language: 'p99<300ms',
    /// 'error_rate<1%', 'p95{name="/items/{item_id}"}<200ms' (repeatable). The file's
    /// `thresholds:` are objectives too; at least one is needed.
    #[arg(long = "slo", value_name = "EXPR")]
    pub slos: Vec<String>,
    /// Search the highest arrival rate (`rate`, open model) or the most concurrent users
    /// with the file's think time (`users`, closed model).
    #[arg(long, value_enum, default_value = "rate")]
    pub model: CapacityModel,
    /// The first rate tried, iterations/s.
    #[arg(long, value_name = "RATE", default_value_t = 10.0)]
    pub start_rate: f64,
    /// The highest rate ever tried, iterations/s.
    #[arg(long, value_name = "RATE", default_value_t = 100_000.0)]
    pub max_rate: f64,
    /// With --model users: the first number of users tried.
    #[arg(long, value_name = "USERS", default_value_t = 1)]
    pub start_users: u64,
    /// With --model users: the most users ever tried.
    #[arg(long, value_name = "USERS", default_value_t = 10_000)]
    pub max_users: u64,
    /// Bisection stops when the bracket is this narrow, relative to its lower end: 5% or
    /// 0.05.
    #[arg(long, value_name = "PERCENT", default_value = "5%", value_parser = parse_fraction)]
    pub precision: f64,
    /// How long each step is judged, after its warm-up.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_positive_duration)]
    pub step: Duration,
    /// How long each step runs before it is judged (not judged).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// How scheduled starts are spaced: `even` (as k6) or `poisson` (bursty); default the
    /// file's `load.arrivals`, else even.
    #[arg(long, value_enum)]
    pub arrivals: Option<ArrivalsArg>,
    /// Target base URL (overrides the file's `target`).
    #[arg(short = 'H', long, env = "BARRAGE_HOST")]
    pub host: Option<String>,
    /// Exit 1 when the capacity found is below this many requests/s (users with --model
    /// users).
    #[arg(long, value_name = "RATE")]
    pub fail_below: Option<f64>,
    /// An earlier capacity result (its --json file) to hold this one to with --fail-if.
    #[arg(long, value_name = "OLD.json")]
    pub baseline: Option<PathBuf>,
    /// A gate against --baseline: 'capacity<-10%' (fail when the capacity dropped by more
    /// than 10 %) or 'capacity<-200' (by more than 200 requests/s) (repeatable).
    #[arg(long = "fail-if", value_name = "EXPR", requires = "baseline")]
    pub fail_if: Vec<String>,
    /// Start the service for each configuration from this command line (run by `sh -c` in a
    /// process group of its own), with `{NAME}` replaced by the values of `--vary NAME=...`;
    /// it is stopped after each search, on Ctrl-C and on error.
    #[arg(long, value_name = "COMMAND", requires = "vary")]
    pub serve: Option<String>,
    /// The values a configuration name takes: `workers=1,2,4`, or `env:DB_POOL_SIZE=5,10,20`
    /// to set an environment variable of the service (repeatable: every combination runs).
    #[arg(long, value_name = "NAME=V1,V2,...", requires = "serve")]
    pub vary: Vec<String>,
    /// How long a started service may take to answer its first request.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_positive_duration, requires = "serve")]
    pub serve_timeout: Duration,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `--model`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapacityModel {
    Rate,
    Users,
}

/// `--arrivals`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrivalsArg {
    Even,
    Poisson,
}

impl From<ArrivalsArg> for barrage_engine::load::Arrivals {
    fn from(a: ArrivalsArg) -> Self {
        match a {
            ArrivalsArg::Even => barrage_engine::load::Arrivals::Even,
            ArrivalsArg::Poisson => barrage_engine::load::Arrivals::Poisson,
        }
    }
}

/// `5%` or `0.05`: a fraction more than 0 and less than 1.
fn parse_fraction(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("`{s}` is not a percentage: write it like 5% or 0.05"))?;
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(format!("`{s}` must be more than 0% and less than 100%"))
    }
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
    #[arg(short = 'd', long = "duration", value_parser = parse_positive_duration)]
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
    #[arg(long, default_value = "30s", value_parser = parse_positive_duration)]
    pub timeout: Duration,
    /// Constant rate: requests per second, sent on schedule whatever the server's speed
    /// (as oha -q, wrk2 -R); latency counts from each request's scheduled time.
    #[arg(long, short = 'q')]
    pub rate: Option<f64>,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub split: crate::segments::SegmentArgs,
}

/// `--stages 30s:100,2m:100,30s:0`: (duration, target) pairs.
#[derive(Clone, Debug)]
pub struct Stages(pub Vec<(Duration, f64)>);

fn parse_stages(s: &str) -> Result<Stages, String> {
    s.split(',')
        .map(barrage_scenario::parse_stage)
        .collect::<Result<_, _>>()
        .map(Stages)
        .map_err(|e| e.to_string())
}

/// Sizes on the command line use the scenario file's syntax (`16MiB`, `512KiB`).
fn parse_size(s: &str) -> Result<u64, String> {
    barrage_scenario::size::parse_size(s).map_err(|e| format!("{e}; {}", e.help()))
}

/// `--local-addresses`, parsed.
#[derive(Debug, Clone)]
pub struct LocalAddresses(pub Vec<std::net::IpAddr>);

fn parse_local_addresses(s: &str) -> Result<LocalAddresses, String> {
    barrage_engine::http::parse_local_addresses(s)
        .map(LocalAddresses)
        .map_err(|e| e.to_string())
}

/// `--batch-window`: a duration up to [`barrage_engine::MAX_BATCH_WINDOW`]; zero gives every
/// start its own wake-up.
fn parse_batch_window(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d > barrage_engine::MAX_BATCH_WINDOW {
        return Err(format!(
            "`{s}` is more than the 10ms a start may go early; write a window up to 10ms, \
             like `500us` (the default is 1ms; 0 wakes for every start)"
        ));
    }
    Ok(d)
}

// The coordinator's and agent's flags stand here, beside RunArgs which the coordinator's
// flattens, so that fleet_cmd.rs imports the CLI and not the other way round.

/// The port a coordinator listens on unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5710";

#[derive(Args, Debug)]
pub struct CoordinatorArgs {
    /// How many agents the run waits for; each runs 1/N of the load.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub agents: u64,
    /// Where agents connect (HOST:PORT). Beyond loopback a token is required.
    #[arg(long, value_name = "HOST:PORT", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// The secret every agent must present (compared in constant time).
    #[arg(long, env = "BARRAGE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Serve the agents over TLS with this certificate chain (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// When an agent is lost mid-run: `fail` stops every agent (exit 3), `continue` goes on
    /// with the others and marks the result degraded. A lost agent's share is never moved
    /// to the others.
    #[arg(long, value_enum, default_value = "fail")]
    pub on_agent_loss: LossArg,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossArg {
    Fail,
    Continue,
}

#[derive(Args, Debug)]
pub struct AgentArgs {
    /// The coordinator's address (HOST:PORT).
    #[arg(long, value_name = "HOST:PORT")]
    pub coordinator: String,
    /// The coordinator's token.
    #[arg(long, env = "BARRAGE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// This agent's name in the coordinator's output and result (default: the host name).
    #[arg(long)]
    pub name: Option<String>,
    /// Trust this CA certificate (PEM) for the coordinator's TLS: connect with TLS.
    #[arg(long, value_name = "PEM")]
    pub tls_ca: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, env = "BARRAGE_WORKERS")]
    pub workers: Option<usize>,
}
