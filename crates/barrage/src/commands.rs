//! `run`, `validate` and `schema`, and what `demo`, `hit` and the web UI share with them:
//! read a scenario, hand it to a session with the sinks the flags ask for, and turn the
//! outcome into an exit code ([`crate::exit`]).
//! Messages for people go to stderr, machine output (`--json -`, `schema`) to stdout.

use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use barrage_engine::http::HttpVersion;
use barrage_engine::{
    check_overrides, compile, CompileOptions, LoadOverrides, Plan, RunOptions, Segment,
};
use barrage_metrics::RunMeta;
use barrage_report::ViewOptions;
use barrage_scenario::{render, Scenario, SourceFile};
use barrage_session::sinks::{DebugView, LiveTable, Summary};
use barrage_session::thresholds::{self, Known};
use barrage_session::{sha256_hex, Control, Outcome, Session, Settings, Sink};

use crate::cli::{CommonArgs, RunArgs};
use crate::exit;
use crate::segments::{SegmentArg, SegmentArgs, StartAt};
use crate::terminal::{print_diagnostics, stderr_color};

/// When neither the file nor a flag says how long in-flight requests may take at the end
/// (k6's `gracefulStop` is 30 s; API requests are short, and a run that ends should end soon).
pub(crate) const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

pub fn schema() -> u8 {
    println!(
        "{}",
        serde_json::to_string_pretty(&barrage_scenario::json_schema())
            .expect("a serde_json::Value always serializes")
    );
    exit::OK
}

/// A scenario read, with its overrides checked and compiled. `Err` is the exit code.
pub(crate) struct Loaded {
    pub file: SourceFile,
    pub scenario: Scenario,
    pub plan: Plan,
}

impl Loaded {
    /// The run's thresholds: the file's (when it came from a file) and the `--threshold`
    /// flags, with their diagnostics printed. `Err` is the exit code (bad usage).
    pub(crate) fn thresholds(
        &self,
        from_file: bool,
        flags: &[String],
    ) -> Result<Vec<thresholds::Item>, u8> {
        let collected = thresholds::collect(
            from_file.then_some(&self.file),
            &self.scenario.thresholds,
            flags,
            &Known::of_registry(&self.plan.registry),
        );
        if print_diagnostics(&collected.reports) {
            return Err(exit::USAGE);
        }
        Ok(collected.items)
    }
}

/// Parses `file`, checks `opts`' overrides against it and compiles it, printing diagnostics.
pub(crate) fn load(file: SourceFile, opts: &CompileOptions, usage_error: u8) -> Result<Loaded, u8> {
    match compile_text(file, opts, stderr_color()) {
        Ok((loaded, warnings)) => {
            eprint!("{warnings}");
            Ok(loaded)
        }
        Err(errors) => {
            eprint!("{errors}");
            Err(usage_error)
        }
    }
}

/// Parses `file`, checks `opts`' overrides against it and compiles it. Returns the loaded
/// scenario and its warnings rendered, or everything that stopped it rendered (the web UI
/// answers a start form with this text).
pub(crate) fn compile_text(
    file: SourceFile,
    opts: &CompileOptions,
    color: bool,
) -> Result<(Loaded, String), String> {
    let (scenario, warnings) = match barrage_scenario::parse(&file) {
        Ok(x) => x,
        Err(diags) => return Err(render(&file, &diags, color)),
    };
    let mut shown = String::new();
    if !warnings.is_empty() {
        shown.push_str(&render(&file, &warnings, color));
    }
    if let Err(e) = check_overrides(&scenario, &opts.load) {
        return Err(format!("{shown}error: {e}\n"));
    }
    match compile(&scenario, &file, opts) {
        Ok((plan, more)) => {
            if !more.is_empty() {
                shown.push_str(&render(&file, &more, color));
            }
            Ok((
                Loaded {
                    file,
                    scenario,
                    plan,
                },
                shown,
            ))
        }
        Err(diags) => Err(shown + &render(&file, &diags, color)),
    }
}

pub(crate) fn read(path: &Path) -> Result<SourceFile, u8> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(SourceFile {
            name: path.display().to_string(),
            text,
        }),
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            // Out of file descriptors is the machine's limit, not a wrong path.
            let out_of_files = matches!(e.raw_os_error(), Some(23 | 24));
            Err(if out_of_files {
                exit::CANNOT_RUN
            } else {
                exit::USAGE
            })
        }
    }
}

pub fn validate(path: &Path) -> u8 {
    let loaded = match read(path).and_then(|f| load(f, &CompileOptions::default(), exit::USAGE)) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if let Err(code) = loaded.thresholds(true, &[]) {
        return code;
    }
    let Loaded {
        file,
        scenario,
        plan,
    } = loaded;
    let user_types: usize = plan.scenarios.iter().map(|s| s.users.len()).sum();
    let tasks: usize = plan
        .scenarios
        .iter()
        .flat_map(|s| s.users.iter())
        .map(|u| u.tasks.len())
        .sum();
    let endpoints = plan.registry.endpoints.len();
    eprintln!(
        "{}: OK ({user_types} user type{}, {tasks} task{}, {endpoints} endpoint{}{})",
        file.name,
        plural(user_types),
        plural(tasks),
        plural(endpoints),
        if scenario.thresholds.is_empty() {
            String::new()
        } else {
            format!(", {} thresholds", scenario.thresholds.len())
        }
    );
    exit::OK
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The command line's load flags, as the engine's typed overrides.
pub(crate) fn overrides(args: &RunArgs) -> LoadOverrides {
    LoadOverrides {
        users: args.users,
        spawn_rate: args.spawn_rate,
        duration: args.run_time,
        iterations: args.iterations,
        rate: args.rate,
        stages: args.stages.as_ref().map(|s| {
            s.0.iter()
                .map(|&(duration, target)| barrage_engine::plan::Stage { duration, target })
                .collect()
        }),
        max_users: args.max_users,
        pre_allocated_users: None,
        arrivals: args.arrivals.map(Into::into),
    }
}

/// `run` without `--web` (with it: [`crate::web_cmd::run`]).
pub async fn run(args: RunArgs) -> u8 {
    let opts = CompileOptions {
        host: args.host.clone(),
        load: overrides(&args),
        max_body_size: args.common.max_body_size,
        no_redact: args.common.no_redact,
    };
    let loaded = match read(&args.scenario).and_then(|f| load(f, &opts, exit::USAGE)) {
        Ok(l) => l,
        Err(code) => return code,
    };
    if args.debug {
        return debug(
            loaded.plan,
            &run_options(&args.common, DEFAULT_STOP_TIMEOUT),
        )
        .await;
    }
    let stop_timeout = args
        .stop_timeout
        .or(loaded.scenario.load.stop_timeout.as_ref().map(|t| t.value))
        .unwrap_or(DEFAULT_STOP_TIMEOUT);
    execute(
        loaded,
        &args.common,
        &args.split,
        stop_timeout,
        args.reset_stats,
        true,
    )
    .await
}

/// Runs a loaded scenario with the terminal's sinks and the files the flags ask for, then
/// decides the exit code. Shared by `run`, `demo` and `hit`; `from_file` says whether the
/// scenario came from a file the result should name (not `hit`'s).
pub(crate) async fn execute(
    loaded: Loaded,
    common: &CommonArgs,
    split: &SegmentArgs,
    stop_timeout: Duration,
    reset_stats: bool,
    from_file: bool,
) -> u8 {
    let run = Run {
        common,
        split,
        stop_timeout,
        reset_stats,
        from_file,
    };
    match run_session(loaded, &run, Vec::new(), |_| {}).await {
        Ok(outcome) => exit::of_run(&outcome),
        Err(code) => code,
    }
}

/// How `run_session` runs a loaded scenario (see [`execute`]).
pub(crate) struct Run<'a> {
    pub common: &'a CommonArgs,
    /// `--segment` and `--start-at` ([`SegmentArgs::NONE`]: the whole load, at once).
    pub split: &'a SegmentArgs,
    pub stop_timeout: Duration,
    pub reset_stats: bool,
    pub from_file: bool,
}

/// Starts the session and runs it to the end with the terminal's sinks, the files the
/// flags ask for and `extra` sinks (the web UI's); `started` gets the control handle as
/// the run starts. `Err` is the exit code of a run that could not start.
pub(crate) async fn run_session(
    loaded: Loaded,
    run: &Run<'_>,
    extra: Vec<Box<dyn Sink>>,
    started: impl FnOnce(Control),
) -> Result<Outcome, u8> {
    let items = loaded.thresholds(run.from_file, &run.common.outputs.thresholds)?;
    if let Some(s) = run.split.segment {
        if barrage_session::most_users_in(&loaded.plan, s.engine()) == 0 {
            eprintln!(
                "error: segment {s} has nothing to run: the load has only {} user{} (users, or \
                 an open model's max_users) to share over {} segments; split it over at most \
                 that many, or raise the users",
                barrage_session::most_users(&loaded.plan),
                plural(barrage_session::most_users(&loaded.plan) as usize),
                s.count
            );
            return Err(exit::USAGE);
        }
    }
    // Everything that can refuse the run has been checked: now wait for the start.
    if let Some(at) = run.split.start_at {
        crate::segments::wait_until(at, run.split.segment).await?;
    }
    let (session, export_sinks) = start_session(loaded, run, items)?;
    Ok(drive(session, export_sinks, run.common, extra, started).await)
}

/// Runs a started session to the end with the terminal's sinks, the files the flags ask
/// for, `extra` sinks and the exports; Ctrl-C and keys steer it. Shared by
/// [`run_session`] and the coordinator.
pub(crate) async fn drive(
    session: Session,
    export_sinks: Vec<Box<dyn Sink>>,
    common: &CommonArgs,
    extra: Vec<Box<dyn Sink>>,
    started: impl FnOnce(Control),
) -> Outcome {
    let view = ViewOptions {
        color: stderr_color(),
    };
    let mut sinks: Vec<Box<dyn Sink>> = vec![
        Box::new(LiveTable::new(
            Box::new(std::io::stderr()),
            view,
            !common.only_summary,
        )),
        Box::new(Summary::new(Box::new(std::io::stderr()), view)),
    ];
    sinks.extend(common.outputs.sinks(common.json.clone()));
    sinks.extend(extra);
    // Last: at the end the Prometheus sink may wait for a final scrape and the OTLP sink
    // for its last push; the files and the web UI must not wait behind them.
    sinks.extend(export_sinks);
    started(session.control());
    let steering = crate::terminal::steer(session.control());
    let outcome = session.run(sinks).await;
    drop(steering);
    outcome
}

/// Starts the session of a loaded scenario with `thresholds`, the monitoring and exports
/// the flags ask for, and says on stderr what runs against what. Returns the session and
/// the export sinks (to be handed to it last). Shared by [`run_session`] and `capacity`.
/// `Err` is the exit code of a run that could not start.
pub(crate) fn start_session(
    loaded: Loaded,
    run: &Run<'_>,
    items: Vec<thresholds::Item>,
) -> Result<(Session, Vec<Box<dyn Sink>>), u8> {
    let prepared = prepare(loaded, run, items)?;
    let session = match Session::start(prepared.plan, prepared.settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(exit::CANNOT_RUN);
        }
    };
    announce(
        &session,
        &prepared.target,
        run.common,
        run.split.segment,
        &prepared.export_lines,
    );
    Ok((session, prepared.export_sinks))
}

/// A session's plan and settings, before it starts (see [`prepare`]).
pub(crate) struct Prepared {
    pub plan: Plan,
    pub settings: Settings,
    /// The exports' sinks, to be handed to the session last.
    pub export_sinks: Vec<Box<dyn Sink>>,
    /// What the exports say they do (printed by [`announce`]).
    pub export_lines: Vec<String>,
    /// The target as the result file shows it.
    pub target: String,
}

/// The settings a loaded scenario runs with: thresholds, monitoring, exports, the result
/// file's `run`. Shared by [`start_session`] and the coordinator (which starts its session
/// over its agents). `Err` is the exit code.
pub(crate) fn prepare(
    loaded: Loaded,
    run: &Run<'_>,
    items: Vec<thresholds::Item>,
) -> Result<Prepared, u8> {
    let Run {
        common,
        split,
        stop_timeout,
        reset_stats,
        from_file,
    } = *run;
    // `--no-redact` (compiled in: the plan has no rules) keeps secrets in every file and
    // report: the engine's samples, the endpoint names, the command line and the target.
    let Loaded { file, plan, .. } = loaded;
    let rules = plan.redact.clone();
    let target = target_of(&plan);
    let args: Vec<String> = std::env::args().collect();
    let base = plan
        .base
        .as_ref()
        .and_then(|b| url::Url::parse(&format!("{}{}/", b.origin, b.path_prefix)).ok());
    let monitor = match common.monitor.monitor(base.as_ref(), common.insecure) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(exit::USAGE);
        }
    };
    let run_id = uuid::Uuid::new_v4().to_string();
    let exports = common.monitor.exports(&run_id);
    let (export_sinks, export_lines) = match barrage_export::sinks(&exports) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(exit::USAGE);
        }
    };
    let settings = Settings {
        run: RunOptions {
            segment: split.segment.map_or(Segment::WHOLE, SegmentArg::engine),
            ..run_options(common, stop_timeout)
        },
        reset_stats,
        thresholds: items,
        meta: RunMeta {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_file: from_file.then(|| file.name.clone()),
            scenario_sha256: from_file.then(|| sha256_hex(file.text.as_bytes())),
            target: target.clone(),
            command: match &rules {
                Some(r) => r.command_line(&args),
                None => args.join(" "),
            },
            run_id,
            segment: split.segment.map(SegmentArg::meta),
            start_at: split.start_at.map(StartAt::text),
            ..RunMeta::default()
        },
        monitor: Some(monitor),
        latency_buckets: (!exports.is_empty()).then(|| barrage_export::LATENCY_BUCKETS_S.to_vec()),
    };
    Ok(Prepared {
        plan,
        settings,
        export_sinks,
        export_lines,
        target,
    })
}

/// Says on stderr what runs against what, with the session's notices and the exports'.
pub(crate) fn announce(
    session: &Session,
    target: &str,
    common: &CommonArgs,
    segment: Option<SegmentArg>,
    export_lines: &[String],
) {
    let workers = session.workers();
    eprintln!(
        "barrage {}: {} against {}, {workers} worker{}{}",
        env!("CARGO_PKG_VERSION"),
        session.describe(),
        if target.is_empty() {
            "absolute URLs"
        } else {
            target
        },
        plural(workers),
        match segment {
            Some(s) => format!(", segment {s} (this process runs that share of the load)"),
            None => String::new(),
        },
    );
    if let Some(window) = common
        .batch_window
        .filter(|w| *w != barrage_engine::DEFAULT_BATCH_WINDOW)
    {
        eprintln!(
            "batch window {window:?}: open-model starts due less than {window:?} after another \
             share its wake-up (they go early by less than that, never late)"
        );
    }
    for notice in session.notices() {
        eprintln!("{notice}");
    }
    for line in export_lines {
        eprintln!("{line}");
    }
}

/// The plan's target as the result file shows it (redacted unless `--no-redact`).
pub(crate) fn target_of(plan: &Plan) -> String {
    let Some(b) = plan.base.as_ref() else {
        return String::new();
    };
    let url = format!("{}{}", b.origin, b.path_prefix);
    match &plan.redact {
        Some(r) => r.url(&url).into_owned(),
        None => url,
    }
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How the engine runs, from the flags every running command shares; `--debug` takes the
/// same connection rules (limits, retry, local addresses) as the run it stands for.
pub(crate) fn run_options(common: &CommonArgs, stop_timeout: Duration) -> RunOptions {
    let defaults = RunOptions::default();
    let size = |flag: Option<u64>, default: usize| {
        flag.map_or(default, |n| usize::try_from(n).unwrap_or(usize::MAX))
    };
    RunOptions {
        stop_timeout,
        workers: common.workers.unwrap_or_else(default_workers).max(1),
        insecure: common.insecure,
        local_addresses: common
            .local_addresses
            .as_ref()
            .map(|l| l.0.clone())
            .unwrap_or_default(),
        pin_workers: common.pin_workers,
        retry_reused: !common.no_retry,
        traceparent: common.monitor.traceparent,
        batch_window: common.batch_window.unwrap_or(defaults.batch_window),
        max_head: size(common.max_head_size, defaults.max_head),
        body_memory: size(common.max_body_memory, defaults.body_memory),
        http: match (common.http1, common.http2) {
            (true, _) => Some(HttpVersion::Http1),
            (_, true) => Some(HttpVersion::Http2),
            _ => None,
        },
        ..defaults
    }
}

async fn debug(plan: Plan, options: &RunOptions) -> u8 {
    let observer: Rc<dyn barrage_engine::Observer> =
        Rc::new(DebugView::new(Box::new(std::io::stderr())));
    eprintln!("Debug run: one user of each type runs setup, then each task once.");
    eprintln!(
        "It shows everything, secrets included (it writes no file); runs without --debug \
         keep them out of their files and reports."
    );
    match barrage_session::debug(Arc::new(plan), observer, options).await {
        Ok((requests, failed)) => {
            eprintln!(
                "\nDebug run done: {requests} request{}, {failed} failed.",
                plural(requests as usize),
            );
            if failed > 0 || requests == 0 {
                exit::FAILED
            } else {
                exit::OK
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::CANNOT_RUN
        }
    }
}
