//! One function per command. Each returns the process exit code; messages for people go
//! to stderr, machine output (`--json -`, `schema`) to stdout.

use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use barrage::demo_target::{DemoOptions, DemoTarget};
use barrage_engine::{compile, CompileOptions, Plan, Run, RunOptions};
use barrage_metrics::{HostInfo, LoadInfo, ResultDoc, RunMeta};
use barrage_report::ViewOptions;
use barrage_scenario::{
    render, Load, Method, RequestStep, Scenario, SourceFile, Span, Spanned, Step, Task, Think,
    UserType,
};

use crate::cli::{DemoArgs, HitArgs, RunArgs};
use crate::exit;
use crate::live::{drive, stderr_color, LiveOptions};

/// Used when neither the file nor the command line says how long to run in-flight
/// requests may take at the end (k6's `gracefulStop` default is 30 s; a load test's
/// requests are short, and a run that ends should end soon).
const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

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
fn load(path: &Path, opts: &CompileOptions) -> Result<(SourceFile, Scenario, Plan), u8> {
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
    compile_scenario(file, scenario, warnings, opts)
}

fn compile_scenario(
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
    match load(path, &CompileOptions::default()) {
        Ok((file, scenario, plan)) => {
            let tasks: usize = plan.users.iter().map(|u| u.tasks.len()).sum();
            eprintln!(
                "{}: OK ({} user type{}, {} task{}, {} endpoint{}{})",
                file.name,
                plan.users.len(),
                plural(plan.users.len()),
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

/// Load settings after precedence: flag (clap already merged `BARRAGE_*`), then file.
struct Settings {
    users: u64,
    spawn_rate: Option<f64>,
    duration: Option<Duration>,
    iterations: Option<u64>,
    stop_timeout: Duration,
}

fn settings(args: &RunArgs, load: &Load) -> Settings {
    Settings {
        users: args
            .users
            .or(load.users.as_ref().map(|u| u.value))
            .unwrap_or(1),
        spawn_rate: args
            .spawn_rate
            .or(load.spawn_rate.as_ref().map(|r| r.value)),
        duration: args.run_time.or(load.duration.as_ref().map(|d| d.value)),
        iterations: args
            .iterations
            .or(load.iterations.as_ref().map(|i| i.value)),
        stop_timeout: args
            .stop_timeout
            .or(load.stop_timeout.as_ref().map(|t| t.value))
            .unwrap_or(DEFAULT_STOP_TIMEOUT),
    }
}

pub async fn run(args: RunArgs) -> u8 {
    let opts = CompileOptions {
        host: args.host.clone(),
    };
    let (file, scenario, plan) = match load(&args.scenario, &opts) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if args.debug {
        return debug(plan, args.common.insecure).await;
    }
    let s = settings(&args, &scenario.load);
    if s.users == 0 {
        eprintln!("error: --users must be at least 1");
        return exit::USAGE;
    }
    if let Some(r) = s.spawn_rate {
        if !(r > 0.0 && r.is_finite()) {
            eprintln!("error: --spawn-rate must be a positive number of users per second");
            return exit::USAGE;
        }
    }
    let target = target_of(&plan);
    let meta = RunMeta {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_file: Some(file.name.clone()),
        scenario_sha256: Some(sha256_hex(file.text.as_bytes())),
        target,
        ..RunMeta::default()
    };
    execute(plan, s, &args.common, meta).await
}

fn target_of(plan: &Plan) -> String {
    plan.base
        .as_ref()
        .map(|b| format!("{}{}", b.origin, b.path_prefix))
        .unwrap_or_default()
}

/// Runs a compiled plan with live output, then prints the summary, writes the result
/// file and decides the exit code. Shared by `run`, `demo` and `hit`.
async fn execute(
    plan: Plan,
    s: Settings,
    common: &crate::cli::CommonArgs,
    mut meta: RunMeta,
) -> u8 {
    let workers = common.workers.unwrap_or_else(default_workers).max(1);
    let opts = RunOptions {
        users: s.users,
        spawn_rate: s.spawn_rate,
        duration: s.duration,
        iterations: s.iterations,
        stop_timeout: s.stop_timeout,
        workers,
        insecure: common.insecure,
    };
    meta.workers = workers as u32;
    meta.load = LoadInfo {
        users: Some(s.users),
        spawn_rate: s.spawn_rate,
        duration_s: s.duration.map(|d| d.as_secs_f64()),
        iterations: s.iterations,
    };
    meta.host = HostInfo::current();
    meta.command = std::env::args().collect::<Vec<_>>().join(" ");
    let bound = match (s.duration, s.iterations) {
        (Some(d), Some(n)) => format!("for {} or {n} iterations", human_duration(d)),
        (Some(d), None) => format!("for {}", human_duration(d)),
        (None, Some(n)) => format!("for {n} iterations"),
        (None, None) => "until Ctrl-C".to_string(),
    };
    eprintln!(
        "barrage {}: {} user{} ({}) against {} {bound}, {workers} worker{}",
        env!("CARGO_PKG_VERSION"),
        s.users,
        plural(s.users as usize),
        match s.spawn_rate {
            Some(r) => format!("{r} started per second"),
            None => "all at once".to_string(),
        },
        if meta.target.is_empty() {
            "absolute URLs"
        } else {
            &meta.target
        },
        plural(workers),
    );
    let registry = plan.registry.clone();
    let run = match Run::start(Arc::new(plan), &opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    let color = stderr_color();
    let outcome = drive(
        run,
        registry,
        meta,
        LiveOptions {
            view: ViewOptions { color },
            table: true,
        },
    )
    .await;
    eprintln!(
        "{}",
        barrage_report::summary(&outcome.snapshot, &ViewOptions { color })
    );
    let written = write_result(&outcome.result, common.json.as_deref());
    if let Some(e) = &outcome.worker_error {
        eprintln!("error: {e}");
        return exit::CANNOT_RUN;
    }
    if !written {
        return exit::CANNOT_RUN;
    }
    let agg = &outcome.snapshot.aggregate;
    if outcome.interrupted {
        exit::INTERRUPTED
    } else if agg.requests == 0 || agg.failures >= agg.requests {
        eprintln!("Result: FAILED (no request succeeded)");
        exit::FAILED
    } else if agg.failures > 0 {
        eprintln!(
            "Result: FAILED ({} of {} requests failed)",
            agg.failures, agg.requests
        );
        exit::FAILED
    } else {
        eprintln!("Result: PASSED");
        exit::OK
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

fn human_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 && s.fract() == 0.0 && (s as u64).is_multiple_of(60) {
        format!("{}m", s as u64 / 60)
    } else {
        format!("{s}s")
    }
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
    let (scenario, warnings) = match barrage_scenario::parse(&file) {
        Ok(x) => x,
        Err(diags) => {
            eprint!("{}", render(&file, &diags, stderr_color()));
            return exit::CANNOT_RUN;
        }
    };
    let opts = CompileOptions {
        host: Some(target.url()),
    };
    let (file, _scenario, plan) = match compile_scenario(file, scenario, warnings, &opts) {
        Ok(x) => x,
        Err(_) => return exit::CANNOT_RUN,
    };
    let s = Settings {
        users: args.users,
        spawn_rate: Some((args.users as f64 / 2.0).max(1.0)),
        duration: Some(args.run_time),
        iterations: None,
        stop_timeout: DEFAULT_STOP_TIMEOUT,
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
    };
    let code = execute(plan, s, &common, meta).await;
    let served: u64 = target.counts().values().sum();
    eprintln!("The demo target served {served} requests.");
    code
}

pub async fn hit(args: HitArgs) -> u8 {
    let method = match Method::ALL
        .iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(&args.method))
    {
        Some(m) => *m,
        None => {
            eprintln!(
                "error: -m {}: use one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
                args.method
            );
            return exit::USAGE;
        }
    };
    let Ok(url) = url::Url::parse(&args.url) else {
        eprintln!(
            "error: `{}` is not a URL (e.g. http://127.0.0.1:8000/)",
            args.url
        );
        return exit::USAGE;
    };
    if !matches!(url.scheme(), "http" | "https") {
        eprintln!("error: `{}`: only http:// and https:// URLs", args.url);
        return exit::USAGE;
    }
    let mut headers = Vec::new();
    for h in &args.headers {
        let Some((name, value)) = h.split_once(':') else {
            eprintln!("error: -H `{h}`: write headers as `name: value`");
            return exit::USAGE;
        };
        headers.push((spanned(name.trim()), spanned(value.trim())));
    }
    // The URL is sent as given: braces in it are not template syntax here.
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let origin = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    let origin = match url.port() {
        Some(p) => format!("{origin}:{p}"),
        None => origin,
    };
    let step = RequestStep {
        span: Span::default(),
        method: Spanned::new(method, Span::default()),
        url: spanned(&escape_template(&path)),
        name: Some(spanned(&path)),
        query: Vec::new(),
        headers,
        body: args
            .body
            .as_ref()
            .map(|b| barrage_scenario::Body::Raw(spanned(&escape_template(b)))),
        save: Vec::new(),
        check: Default::default(),
        timeout: Some(Spanned::new(args.timeout, Span::default())),
        on_failure: Spanned::new(Default::default(), Span::default()),
    };
    let scenario = Scenario {
        target: Some(spanned(&origin)),
        defaults: Default::default(),
        data: Vec::new(),
        users: vec![UserType {
            name: spanned("hit"),
            weight: Spanned::new(1, Span::default()),
            think: Some(Spanned::new(Think::None, Span::default())),
            setup: Vec::new(),
            tasks: vec![Task {
                name: spanned("request"),
                weight: Spanned::new(1, Span::default()),
                steps: vec![Step::Request(Box::new(step))],
            }],
        }],
        load: Load::default(),
        thresholds: Vec::new(),
    };
    let file = SourceFile {
        name: "<hit>".to_string(),
        text: String::new(),
    };
    let (_file, _scenario, plan) =
        match compile_scenario(file, scenario, Vec::new(), &CompileOptions::default()) {
            Ok(x) => x,
            Err(code) => return code,
        };
    // As hey: 200 requests unless a duration is given.
    let iterations = match (args.requests, args.duration) {
        (Some(n), _) => Some(n),
        (None, Some(_)) => None,
        (None, None) => Some(200),
    };
    if args.connections == 0 {
        eprintln!("error: -c must be at least 1");
        return exit::USAGE;
    }
    let s = Settings {
        users: args.connections,
        spawn_rate: None,
        duration: args.duration,
        iterations,
        stop_timeout: DEFAULT_STOP_TIMEOUT,
    };
    let meta = RunMeta {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        target: origin,
        ..RunMeta::default()
    };
    execute(plan, s, &args.common, meta).await
}

fn spanned(s: &str) -> Spanned<String> {
    Spanned::new(s.to_string(), Span::default())
}

/// `hit` sends its URL and body literally: `{{` becomes a template expression that
/// evaluates to the same two characters.
fn escape_template(s: &str) -> String {
    s.replace("{{", "{{ '{{' }}")
}
