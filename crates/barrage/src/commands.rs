//! One function per command. Each returns the process exit code; messages for people go
//! to stderr, machine output (`--json -`, `schema`) to stdout.

use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use barrage::demo_target::{DemoOptions, DemoTarget};
use barrage_engine::{compile, CompileOptions, Plan, Run, RunOptions};
use barrage_metrics::{HostInfo, ResultDoc, RunMeta};
use barrage_report::ViewOptions;
use barrage_scenario::{render, Load, Scenario, SourceFile, Span, Spanned};

use crate::cli::{DemoArgs, RunArgs};
use crate::exit;
use crate::live::{drive, stderr_color, LiveOptions};

/// The bundled example, run by `barrage demo`.
const DEMO_SCENARIO: &str = include_str!("../../../examples/fastapi-items/scenario.yaml");

pub fn schema() -> u8 {
    println!(
        "{}",
        serde_json::to_string_pretty(&barrage_scenario::json_schema())
            .expect("a serde_json::Value always serializes")
    );
    exit::OK
}

/// Reads, parses and compiles a scenario, printing diagnostics. `Err` is the exit code.
fn load(
    path: &Path,
    opts: &CompileOptions,
    overrides: impl FnOnce(&mut Scenario) -> Result<(), String>,
) -> Result<(SourceFile, Scenario, Plan), u8> {
    let color = stderr_color();
    let (file, scenario, warnings) = match barrage_scenario::parse_file(path) {
        Ok(ok) => ok,
        Err(barrage_scenario::LoadError::Io { path, source }) => {
            eprintln!("error: cannot read {}: {source}", path.display());
            return Err(exit::USAGE);
        }
        Err(barrage_scenario::LoadError::Invalid { file, diagnostics }) => {
            eprint!("{}", render(&file, &diagnostics, color));
            return Err(exit::USAGE);
        }
    };
    let mut scenario = scenario;
    if let Err(message) = overrides(&mut scenario) {
        eprintln!("error: {message}");
        return Err(exit::USAGE);
    }
    compile_scenario(file, scenario, warnings, opts)
}

pub(crate) fn compile_scenario(
    file: SourceFile,
    scenario: Scenario,
    warnings: Vec<barrage_scenario::Diagnostic>,
    opts: &CompileOptions,
) -> Result<(SourceFile, Scenario, Plan), u8> {
    let color = stderr_color();
    if !warnings.is_empty() {
        eprint!("{}", render(&file, &warnings, color));
    }
    match compile(&scenario, &file, opts) {
        Ok((plan, more)) => {
            if !more.is_empty() {
                eprint!("{}", render(&file, &more, color));
            }
            Ok((file, scenario, plan))
        }
        Err(diags) => {
            eprint!("{}", render(&file, &diags, color));
            Err(exit::USAGE)
        }
    }
}

pub fn validate(path: &Path) -> u8 {
    match load(path, &CompileOptions::default(), |_| Ok(())) {
        Ok((file, scenario, plan)) => {
            let known = crate::judge::Known::of_registry(&plan.registry);
            let judged = crate::judge::collect(
                Some(&file),
                &scenario.thresholds,
                &[],
                &known,
                stderr_color(),
            );
            if let Err(code) = judged {
                return code;
            }
            let user_types: usize = plan.scenarios.iter().map(|s| s.users.len()).sum();
            let tasks: usize = plan
                .scenarios
                .iter()
                .flat_map(|s| s.users.iter())
                .map(|u| u.tasks.len())
                .sum();
            eprintln!(
                "{}: OK ({} user type{}, {} task{}, {} endpoint{}{})",
                file.name,
                user_types,
                plural(user_types),
                tasks,
                plural(tasks),
                plan.registry.endpoints.len(),
                plural(plan.registry.endpoints.len()),
                if scenario.thresholds.is_empty() {
                    String::new()
                } else {
                    format!(", {} thresholds", scenario.thresholds.len())
                }
            );
            exit::OK
        }
        Err(code) => code,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub async fn run(args: RunArgs) -> u8 {
    let opts = CompileOptions {
        host: args.host.clone(),
    };
    let (file, scenario, plan) = match load(&args.scenario, &opts, |s| {
        crate::load_flags::apply(s, &args)
    }) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if args.debug {
        return debug(plan, args.common.insecure).await;
    }
    let run = RunSettings {
        stop_timeout: crate::load_flags::stop_timeout(args.stop_timeout, &scenario.load),
        reset_stats: args.reset_stats,
    };
    let target = target_of(&plan);
    let meta = RunMeta {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_file: Some(file.name.clone()),
        scenario_sha256: Some(sha256_hex(file.text.as_bytes())),
        target,
        ..RunMeta::default()
    };
    let thresholds = match crate::judge::collect(
        Some(&file),
        &scenario.thresholds,
        &args.common.outputs.thresholds,
        &crate::judge::Known::of_registry(&plan.registry),
        stderr_color(),
    ) {
        Ok(t) => t,
        Err(code) => return code,
    };
    execute(plan, run, &args.common, meta, thresholds).await
}

/// The most users the plan can have at once (each holds at least one connection).
fn most_users(plan: &Plan) -> u64 {
    use barrage_engine::plan::LoadModel;
    plan.scenarios
        .iter()
        .map(|s| match &s.load {
            LoadModel::ConstantUsers { users, .. } => *users,
            LoadModel::RampingUsers { start, stages } => stages
                .iter()
                .map(|st| st.target.ceil() as u64)
                .fold(*start, u64::max),
            LoadModel::ArrivalRate { max_users, .. } => *max_users,
        })
        .sum()
}

/// How `execute` carries out a plan beyond the plan itself.
pub(crate) struct RunSettings {
    pub(crate) stop_timeout: Duration,
    /// Reset the statistics once the ramp-up is over.
    pub(crate) reset_stats: bool,
}

fn target_of(plan: &Plan) -> String {
    plan.base
        .as_ref()
        .map(|b| format!("{}{}", b.origin, b.path_prefix))
        .unwrap_or_default()
}

/// Runs a compiled plan with live output, then prints the summary, writes the result
/// file and decides the exit code. Shared by `run`, `demo` and `hit`.
pub(crate) async fn execute(
    plan: Plan,
    s: RunSettings,
    common: &crate::cli::CommonArgs,
    mut meta: RunMeta,
    thresholds: Vec<crate::judge::Item>,
) -> u8 {
    let workers = common.workers.unwrap_or_else(default_workers).max(1);
    let opts = RunOptions {
        stop_timeout: s.stop_timeout,
        workers,
        insecure: common.insecure,
        local_addresses: common
            .local_addresses
            .as_ref()
            .map(|l| l.0.clone())
            .unwrap_or_default(),
        pin_workers: common.pin_workers,
    };
    meta.workers = workers as u32;
    meta.load = crate::load_flags::load_info(&plan);
    meta.host = HostInfo::current();
    meta.command = std::env::args().collect::<Vec<_>>().join(" ");
    eprintln!(
        "barrage {}: {} against {}, {workers} worker{}",
        env!("CARGO_PKG_VERSION"),
        crate::load_flags::describe(&plan),
        if meta.target.is_empty() {
            "absolute URLs"
        } else {
            &meta.target
        },
        plural(workers),
    );
    if let Some(limit) = barrage_engine::timer::raise_open_files_limit() {
        let users = most_users(&plan);
        // Each user holds a connection; leave room for the process's own files.
        if users + 64 > limit {
            eprintln!(
                "warning: up to {users} users but only {limit} open files allowed: users past \
                 about {} will fail to connect (counted as failures); raise `ulimit -n`, or \
                 split the load over machines",
                limit.saturating_sub(64)
            );
        }
    }
    let reset_after = s.reset_stats.then(|| crate::load_flags::ramp_up_end(&plan));
    let schedule_matters = plan.scenarios.iter().any(|s| s.schedule_matters());
    let registry = plan.registry.clone();
    let run = match Run::start(Arc::new(plan), &opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    let color = stderr_color();
    let mut outcome = drive(
        run,
        registry,
        meta,
        LiveOptions {
            view: ViewOptions { color },
            table: !common.only_summary,
            thresholds: crate::judge::watch(&thresholds),
            reset_after,
            schedule_matters,
        },
    )
    .await;
    outcome.result.warnings =
        barrage_report::generator::warnings(&outcome.result.generator, schedule_matters);
    // Judged from the result, whose histograms make percentiles over several endpoints exact.
    crate::judge::judge(&thresholds, &mut outcome.result, outcome.aborted_by);
    eprintln!(
        "{}",
        barrage_report::summary(&outcome.snapshot, &ViewOptions { color })
    );
    eprintln!(
        "{}",
        barrage_report::generator::summary_section(
            &outcome.result.generator,
            &outcome.result.warnings,
            outcome.result.run.workers,
            schedule_matters,
        )
    );
    let section = barrage_report::threshold::thresholds_section(
        &outcome.result.thresholds,
        &ViewOptions { color },
    );
    if !section.is_empty() {
        eprintln!("{section}");
    }
    let written = write_result(&outcome.result, common.json.as_deref());
    let outputs_written = crate::outputs::write(&outcome.result, &common.outputs);
    if let Some(e) = &outcome.worker_error {
        eprintln!("error: {e}");
        return exit::CANNOT_RUN;
    }
    if !written || !outputs_written {
        return exit::CANNOT_RUN;
    }
    if outcome.interrupted {
        return exit::INTERRUPTED;
    }
    // One rule for the exit code and every report (`barrage_report::gate`): no request
    // succeeded fails; with thresholds they decide; without, any failed request fails.
    let gate = barrage_report::gate(&outcome.result);
    match (gate.passed, thresholds.is_empty()) {
        (true, true) => eprintln!("Result: PASSED"),
        (true, false) => eprintln!("Result: PASSED ({})", gate.reason),
        (false, _) => eprintln!("Result: FAILED ({})", gate.reason),
    }
    if gate.passed {
        exit::OK
    } else {
        exit::FAILED
    }
}

/// Writes the result file; `false` (after saying why) when it could not be written.
fn write_result(doc: &ResultDoc, path: Option<&Path>) -> bool {
    let Some(path) = path else {
        return true;
    };
    if path == Path::new("-") {
        let stdout = std::io::stdout();
        if let Err(e) = doc.write_to(stdout.lock()) {
            eprintln!("error: cannot write the result to stdout: {e}");
            return false;
        }
        return true;
    }
    match doc.write_atomic(path) {
        Ok(()) => {
            eprintln!("Result file: {}", path.display());
            true
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", path.display());
            false
        }
    }
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn debug(plan: Plan, insecure: bool) -> u8 {
    let plan = Arc::new(plan);
    let observer: Rc<dyn barrage_engine::Observer> = Rc::new(crate::debug_view::DebugView);
    eprintln!("Debug run: one user of each type runs setup, then each task once.");
    match barrage_engine::debug_run(plan.clone(), observer, insecure).await {
        Ok(mut recorder) => {
            let mut agg = barrage_metrics::Aggregator::new(plan.registry.clone());
            agg.absorb(0, recorder.take_interval());
            let snap = agg.snapshot(Duration::from_secs(1));
            let a = &snap.aggregate;
            eprintln!(
                "\nDebug run done: {} request{}, {} failed.",
                a.requests,
                plural(a.requests as usize),
                a.failures
            );
            if a.failures > 0 || a.requests == 0 {
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

pub async fn demo(args: DemoArgs) -> u8 {
    let target = match DemoTarget::start(DemoOptions::default()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot start the demo target on 127.0.0.1: {e}");
            return exit::CANNOT_RUN;
        }
    };
    eprintln!(
        "Demo target (a small items API) listening on {}",
        target.url()
    );
    let file = SourceFile {
        name: "examples/fastapi-items/scenario.yaml (bundled)".to_string(),
        text: DEMO_SCENARIO.to_string(),
    };
    let (mut scenario, warnings) = match barrage_scenario::parse(&file) {
        Ok(x) => x,
        Err(diags) => {
            eprint!("{}", render(&file, &diags, stderr_color()));
            return exit::CANNOT_RUN;
        }
    };
    // The demo's own load: its users, half of them started per second, for its run time.
    scenario.load = Load {
        users: Some(Spanned::new(args.users, Span::default())),
        spawn_rate: Some(Spanned::new(
            (args.users as f64 / 2.0).max(1.0),
            Span::default(),
        )),
        duration: Some(Spanned::new(args.run_time, Span::default())),
        ..Load::default()
    };
    let opts = CompileOptions {
        host: Some(target.url()),
    };
    let (file, scenario, plan) = match compile_scenario(file, scenario, warnings, &opts) {
        Ok(x) => x,
        Err(_) => return exit::CANNOT_RUN,
    };
    let s = RunSettings {
        stop_timeout: crate::load_flags::DEFAULT_STOP_TIMEOUT,
        reset_stats: false,
    };
    let meta = RunMeta {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_file: Some(file.name.clone()),
        scenario_sha256: Some(sha256_hex(file.text.as_bytes())),
        target: target.url(),
        ..RunMeta::default()
    };
    let common = crate::cli::CommonArgs {
        json: Some(args.json),
        workers: args.workers,
        insecure: false,
        local_addresses: None,
        pin_workers: false,
        only_summary: false,
        outputs: Default::default(),
    };
    let known = crate::judge::Known::of_registry(&plan.registry);
    let thresholds = match crate::judge::collect(
        Some(&file),
        &scenario.thresholds,
        &[],
        &known,
        stderr_color(),
    ) {
        Ok(t) => t,
        Err(_) => return exit::CANNOT_RUN,
    };
    let code = execute(plan, s, &common, meta, thresholds).await;
    let served: u64 = target.counts().values().sum();
    eprintln!("The demo target served {served} requests.");
    code
}
