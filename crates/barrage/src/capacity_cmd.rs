//! `barrage capacity`: one search against one service (see barrage-capacity), its terminal
//! report, its files and its gates. A sweep over configurations (`--serve`, `--vary`) is
//! [`crate::sweep`], which calls [`search`] once per configuration.
//!
//! The session is the one every run uses (started by [`commands::start_session`]); only the
//! load is the search's: the file's rate, users, duration and stages are replaced by the
//! first level and a bound on the whole search, and the driver steers from there. No live
//! table: the statistics are reset at every step, so a table would show a step's figures
//! mixed with its warm-up; one line per judged step is printed instead.

use std::time::Duration;

use barrage_capacity::driver::{self, DriverSettings};
use barrage_capacity::judge::rate;
use barrage_capacity::{Search, SearchSettings};
use barrage_engine::load::Arrivals;
use barrage_engine::plan::Stage;
use barrage_engine::{CompileOptions, LoadOverrides};
use barrage_metrics::capacity::{CapacityStatus, CapacityStep, SearchModel, SearchSettingsDoc};
use barrage_metrics::{CapacityDoc, ResultDoc};
use barrage_web::report::HtmlReport;
use barrage_web::view::View;

use crate::capacity_gates::Gates;
use crate::cli::{ArrivalsArg, CapacityArgs, CapacityModel};
use crate::commands::{self, Run, DEFAULT_STOP_TIMEOUT};
use crate::exit;
use crate::segments::SegmentArgs;

/// One search's outcome.
pub(crate) struct Searched {
    /// What was found (also when interrupted: the bracket so far).
    pub capacity: CapacityDoc,
    /// The run's result file, `capacity` filled in; `None` when no step ran.
    pub result: Option<ResultDoc>,
    /// Stopped by the person (Ctrl-C).
    pub interrupted: bool,
    /// A worker failed or an output of the session could not be written (said on stderr):
    /// what was found is still reported, and the exit status is 3.
    pub run_failed: bool,
}

/// The probe's growth per step, the confirmations tried and the steps allowed in all
/// (barrage_capacity::SearchSettings's defaults, which the issue leaves to us).
const SEARCH: SearchSettings = SearchSettings {
    start: 0.0,
    max: 0.0,
    precision: 0.0,
    factor: 2.0,
    integer_levels: false,
    max_confirmations: 2,
    max_steps: 40,
};

/// The open model's user pool when the file sets no `load.max_users`: enough users for the
/// highest rate the search may try (`--max-rate`) at [`POOL_LATENCY_S`] per iteration (by
/// Little's law), and at least [`POOL_FLOOR`], so that a full pool marks a service slower
/// than any objective a search is run against rather than the generator's default (the
/// judge calls a step whose iterations waited on a full pool the generator's limit).
/// Users are created only as the load needs them, so a large pool costs nothing until it
/// is used; it is capped where each user's connection still gets an open file.
const POOL_LATENCY_S: f64 = 2.0;
const POOL_FLOOR: u64 = 1000;
/// Open files kept for the process's own use (as the session's warning assumes).
const OPEN_FILES_RESERVE: u64 = 64;

/// `barrage capacity` without `--serve` (with it: [`crate::sweep::run`]): one search, its
/// report, files and gates.
pub async fn run(args: CapacityArgs) -> u8 {
    // The gates are read before the search, so a typo costs nothing.
    let gates = match Gates::of(&args) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let searched = match search(&args, None, None).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    print_report(&searched.capacity);
    let written = match &searched.result {
        Some(doc) => write_files(&args, doc, gates.baseline.as_ref()),
        None => {
            if args.common.json.is_some() || args.common.outputs.html.is_some() {
                eprintln!("No step ran: no file written.");
            }
            true
        }
    };
    let doc = &searched.capacity;
    // What the search found decides first: a search that had concluded when Ctrl-C came
    // during the shutdown keeps its status and its exit code.
    if doc.status == CapacityStatus::Interrupted {
        return exit::INTERRUPTED;
    }
    if !written || searched.run_failed {
        return exit::CANNOT_RUN;
    }
    match doc.status {
        CapacityStatus::Found | CapacityStatus::AtLeast => {}
        CapacityStatus::StartFails
        | CapacityStatus::GeneratorLimit
        | CapacityStatus::Interrupted
        | CapacityStatus::Incomplete => return exit::CANNOT_RUN,
    }
    let failed = gates.judge(doc);
    if failed {
        eprintln!("Result: FAILED (a capacity gate failed)");
        exit::FAILED
    } else {
        eprintln!("Result: PASSED");
        exit::OK
    }
}

/// One search against `host` (or the flags' and file's target when `None`), printing a
/// line per step as it goes; `label` prefixes those lines in a sweep (`workers=2`). `Err`
/// is the exit code when the search could not start (2 usage or scenario, 3 cannot run).
pub(crate) async fn search(
    args: &CapacityArgs,
    host: Option<&str>,
    label: Option<&str>,
) -> Result<Searched, u8> {
    let model = match args.model {
        CapacityModel::Rate => SearchModel::Rate,
        CapacityModel::Users => SearchModel::Users,
    };
    if model == SearchModel::Users && args.arrivals.is_some() {
        eprintln!("error: --arrivals applies to the open model (--model rate), not to users");
        return Err(exit::USAGE);
    }
    let (start, max) = match model {
        SearchModel::Rate => (args.start_rate, args.max_rate),
        SearchModel::Users => (args.start_users as f64, args.max_users as f64),
    };
    let settings = SearchSettings {
        start,
        max,
        precision: args.precision,
        integer_levels: model == SearchModel::Users,
        ..SEARCH
    };
    let search = Search::new(settings.clone()).map_err(|e| {
        eprintln!("error: {e}");
        exit::USAGE
    })?;

    let file = commands::read(&args.scenario)?;
    // The load is overridden, which a file of several scenarios cannot take; say so in
    // the search's words rather than the overrides'.
    if let Ok((scenario, _)) = barrage_scenario::parse(&file) {
        if !scenario.scenarios.is_empty() {
            eprintln!(
                "error: {}: `barrage capacity` searches one load, and this file has `scenarios:` \
                 ({} of them: {})\n  help: put the users and load of the one to search at the \
                 top level of a file of its own (`users:` and `load:`)",
                file.name,
                scenario.scenarios.len(),
                scenario
                    .scenarios
                    .iter()
                    .map(|s| s.name.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Err(exit::USAGE);
        }
    }
    let file_load = barrage_scenario::parse(&file).ok().map(|(s, _)| s.load);
    let stop_timeout = file_load
        .as_ref()
        .and_then(|l| l.stop_timeout.as_ref().map(|t| t.value))
        .unwrap_or(DEFAULT_STOP_TIMEOUT);
    let file_max_users = file_load
        .as_ref()
        .and_then(|l| l.max_users.as_ref().map(|m| m.value));
    let spawn_rate = file_load
        .as_ref()
        .and_then(|l| l.spawn_rate.as_ref().map(|r| r.value))
        .filter(|_| model == SearchModel::Users);
    // The pool the search sets when the file sets none (see POOL_LATENCY_S).
    let search_pool =
        (model == SearchModel::Rate && file_max_users.is_none()).then(|| search_pool(max));
    let pool_users = match model {
        SearchModel::Rate => file_max_users.or(search_pool),
        SearchModel::Users => None,
    };
    let warmup_s = whole_seconds(args.warmup);
    let step_s = whole_seconds(args.step).max(1);
    let drain_s = whole_seconds(stop_timeout).max(1);
    // A bound on the whole run, in case the driver never ends it: every step at its
    // longest (a users step's warm-up waiting for its users at the most users), with a few
    // seconds for the reset to show.
    let users_wait_s = match model {
        SearchModel::Rate => 0,
        SearchModel::Users => driver::users_wait_s(max, spawn_rate),
    };
    let bound = Duration::from_secs(
        u64::from(SEARCH.max_steps)
            * (warmup_s + users_wait_s + step_s + drain_s + driver::RESET_WAIT_S),
    );
    let mut load = overrides(args, model, start, bound, &file);
    load.max_users = search_pool;
    let opts = CompileOptions {
        host: host.map(str::to_owned).or_else(|| args.host.clone()),
        load,
        max_body_size: args.common.max_body_size,
        no_redact: args.common.no_redact,
    };
    let loaded = commands::load(file, &opts, exit::USAGE)?;
    let l = &loaded.scenario.load;
    let ignored: Vec<&str> = [
        ("rate", l.rate.is_some()),
        ("users", l.users.is_some()),
        (
            "spawn_rate",
            model == SearchModel::Rate && l.spawn_rate.is_some(),
        ),
        ("duration", l.duration.is_some()),
        ("iterations", l.iterations.is_some()),
        ("stages", !l.stages.is_empty()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    if !ignored.is_empty() {
        eprintln!(
            "note: the file's load {} not used: the search sets the load (its user-pool \
             settings, max_users, pre_allocated_users and on_max_users, are kept)",
            if ignored.len() == 1 {
                format!("`{}` is", ignored[0])
            } else {
                format!("`{}` are", ignored.join("`, `"))
            }
        );
    }

    let flags: Vec<String> = args
        .slos
        .iter()
        .chain(&args.common.outputs.thresholds)
        .cloned()
        .collect();
    let mut items = loaded.thresholds(true, &flags)?;
    if items.is_empty() {
        eprintln!(
            "error: no objective to search against\n  help: give one or more, e.g. --slo \
             'p99<300ms' --slo 'error_rate<1%' (or `thresholds:` in the file)"
        );
        return Err(exit::USAGE);
    }
    // The driver judges every step; the session only records the verdicts of the last
    // one in the result file, and must never stop the search itself.
    for item in &mut items {
        item.abort_on_fail = false;
    }
    let objectives: Vec<_> = items.iter().map(|i| i.threshold.clone()).collect();
    let needs_histograms = objectives.iter().any(|t| t.needs_histograms());
    let arrivals = match (model, args.arrivals) {
        (SearchModel::Users, _) => String::new(),
        (_, Some(ArrivalsArg::Poisson)) => "poisson".to_owned(),
        (_, Some(ArrivalsArg::Even)) => "even".to_owned(),
        (_, None) => plan_arrivals(&loaded.plan),
    };
    let settings_doc = SearchSettingsDoc {
        model,
        objectives: objectives
            .iter()
            .map(|t| t.text.trim().to_owned())
            .collect(),
        start,
        max,
        precision: args.precision,
        step_s: step_s as f64,
        warmup_s: warmup_s as f64,
        arrivals,
    };

    let run = Run {
        common: &args.common,
        split: &SegmentArgs::NONE,
        stop_timeout,
        reset_stats: false,
        from_file: true,
    };
    let (session, export_sinks) = commands::start_session(loaded, &run, items)?;
    eprintln!(
        "Searching the {} within {}: from {} to at most {} {}, steps of {} s after {} s of \
         warm-up, to {:.0} % precision.",
        match model {
            SearchModel::Rate => "highest rate",
            SearchModel::Users => "most users",
        },
        settings_doc.objectives.join(", "),
        rate(start),
        rate(max),
        model.unit(),
        step_s,
        warmup_s,
        args.precision * 100.0
    );
    if step_s < u64::from(barrage_capacity::judge::MIN_TREND_POINTS) {
        eprintln!(
            "note: steps under {} s are too short to judge whether latency is still rising; \
             each step's slope is recorded, not judged",
            barrage_capacity::judge::MIN_TREND_POINTS
        );
    }
    if let Some(pool) = search_pool {
        eprintln!(
            "The user pool holds up to {pool} users (the file sets no load.max_users: enough \
             for {} iterations/s of up to {POOL_LATENCY_S:.0} s each, within the open-files \
             limit).",
            rate(max)
        );
    }
    let prefix = label.map_or(String::new(), |l| format!("[{l}] "));
    let unit = model.unit();
    let (driver, found) = driver::driver(
        search,
        DriverSettings {
            model,
            warmup_s,
            step_s,
            drain_s,
            objectives,
            needs_histograms,
            poisson: settings_doc.arrivals == "poisson",
            pool_users,
            spawn_rate,
        },
        session.control(),
        Box::new(move |step| eprintln!("{prefix}{}", step_line(step, unit))),
    );
    let mut sinks: Vec<Box<dyn barrage_session::Sink>> = vec![Box::new(driver)];
    sinks.extend(export_sinks);
    // Ctrl-C only: a key would change the load in the middle of a judged step.
    let steering = crate::terminal::steer_interrupts_only(session.control());
    let outcome = session.run(sinks).await;
    drop(steering);

    // A failed output or worker is said now and folded into the exit status once what was
    // found has been reported and written: the steps run are still evidence.
    let written = crate::outputs::report(&outcome.outputs);
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(e) = &outcome.worker_error {
        eprintln!("error: {e}");
    }
    let run_failed = outcome.worker_error.is_some() || !written;
    let found = found.found();
    let capacity = driver::conclude(&found, settings_doc, outcome.interrupted);
    let result = (!found.steps.is_empty()).then(|| {
        let mut doc = outcome.result;
        doc.capacity = Some(capacity.clone());
        doc
    });
    Ok(Searched {
        capacity,
        result,
        interrupted: outcome.interrupted,
        run_failed,
    })
}

/// The pool for a search up to `max_rate` (see [`POOL_LATENCY_S`]), within the open-files
/// limit (raised to its hard limit first, as the session does).
fn search_pool(max_rate: f64) -> u64 {
    let wanted = ((max_rate * POOL_LATENCY_S).ceil() as u64).max(POOL_FLOOR);
    match barrage_engine::timer::raise_open_files_limit() {
        Some(limit) => wanted.min(limit.saturating_sub(OPEN_FILES_RESERVE).max(1)),
        None => wanted,
    }
}

/// The load the session starts with: the first level, held until the driver changes it,
/// for at most `bound`. Stages in the file are replaced by one hold (a duration cannot
/// shorten a file's stages).
fn overrides(
    args: &CapacityArgs,
    model: SearchModel,
    start: f64,
    bound: Duration,
    file: &barrage_scenario::SourceFile,
) -> LoadOverrides {
    let file_stages = barrage_scenario::parse(file)
        .ok()
        .is_some_and(|(s, _)| !s.load.stages.is_empty());
    let (duration, stages) = if file_stages {
        (
            None,
            Some(vec![Stage {
                duration: bound,
                target: start,
            }]),
        )
    } else {
        (Some(bound), None)
    };
    let mut o = LoadOverrides {
        duration,
        stages,
        ..LoadOverrides::default()
    };
    match model {
        SearchModel::Rate => {
            o.rate = Some(start);
            o.arrivals = args.arrivals.map(|a| match a {
                ArrivalsArg::Even => Arrivals::Even,
                ArrivalsArg::Poisson => Arrivals::Poisson,
            });
        }
        SearchModel::Users => o.users = Some(start as u64),
    }
    o
}

/// The file's `load.arrivals` as the settings record it, read from the compiled plan's
/// description (which names Poisson arrivals), so it is what the engine will do: `poisson`
/// or `even` (the default).
fn plan_arrivals(plan: &barrage_engine::Plan) -> String {
    if barrage_session::describe(plan).contains("Poisson") {
        "poisson".to_owned()
    } else {
        "even".to_owned()
    }
}

fn whole_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// One judged step, as printed when it is judged.
fn step_line(s: &CapacityStep, unit: &str) -> String {
    let phase = s.phase.map_or("", |p| match p {
        barrage_metrics::capacity::StepPhase::Probe => "probe",
        barrage_metrics::capacity::StepPhase::Bisect => "bisect",
        barrage_metrics::capacity::StepPhase::Confirm => "confirm",
    });
    let verdict = if s.passed {
        "passed".to_owned()
    } else if s.generator_limited {
        // Every reason: the generator's may come after an objective's.
        format!("GENERATOR LIMIT: {}", s.reasons.join("; "))
    } else if s.disturbed {
        format!("DISTURBED: {}", s.reasons.join("; "))
    } else {
        format!("FAILED: {}", s.reasons.first().map_or("", String::as_str))
    };
    let notes: String = s.notes.iter().map(|n| format!("\n  note: {n}")).collect();
    format!(
        "step {:>2} {phase:<7} {} {unit}: achieved {} iterations/s, {} requests/s, p50 {:.1} \
         ms, p95 {:.1} ms, p99 {:.1} ms, errors {:.2}%: {verdict}{notes}",
        s.index,
        rate(s.level),
        rate(s.iterations_per_second),
        rate(s.rps),
        s.p50_ms,
        s.p95_ms,
        s.p99_ms,
        s.error_rate * 100.0
    )
}

/// The terminal report of one search: the conclusion, the bracket, the concurrency, the
/// throughput-latency curve of every step, the USL fit, steps run against a linear ramp.
pub(crate) fn print_report(doc: &CapacityDoc) {
    eprint!("{}", report_text(doc));
}

fn report_text(doc: &CapacityDoc) -> String {
    let mut out = String::new();
    out.push('\n');
    out.push_str(&doc.message);
    out.push('\n');
    if let (Some(c), Some(at)) = (doc.concurrency, capacity_step(doc)) {
        out.push_str(&format!(
            "Concurrency at the capacity: {c:.1} requests in service at once (Little's law: {} \
             requests/s x {:.1} ms mean response time)\n",
            rate(at.rps),
            at.mean_ms
        ));
    }
    if !doc.steps.is_empty() {
        let server = doc.steps.iter().any(|s| s.server_cpu_percent.is_some());
        out.push_str("\nThroughput and latency, step by step:\n");
        out.push_str(&format!(
            "{:>4}  {:<7} {:>10} {:>12} {:>10} {:>9} {:>9} {:>9} {:>7}{}  verdict\n",
            "step",
            "phase",
            doc.settings.model.unit(),
            "achieved/s",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "errors",
            if server { "  server CPU" } else { "" }
        ));
        for s in &doc.steps {
            let phase = match s.phase {
                Some(barrage_metrics::capacity::StepPhase::Probe) => "probe",
                Some(barrage_metrics::capacity::StepPhase::Bisect) => "bisect",
                Some(barrage_metrics::capacity::StepPhase::Confirm) => "confirm",
                None => "",
            };
            let verdict = if s.passed {
                "passed".to_owned()
            } else if s.generator_limited {
                format!("generator limit ({})", s.reasons.join("; "))
            } else if s.disturbed {
                format!("disturbed, run again ({})", s.reasons.join("; "))
            } else {
                format!("failed ({})", s.reasons.join("; "))
            };
            let cpu = match (server, s.server_cpu_percent) {
                (false, _) => String::new(),
                (true, Some(c)) => format!("  {:>9.0}%", c),
                (true, None) => format!("  {:>10}", "-"),
            };
            out.push_str(&format!(
                "{:>4}  {phase:<7} {:>10} {:>12} {:>10} {:>9.1} {:>9.1} {:>9.1} {:>6.2}%{cpu}  {verdict}\n",
                s.index,
                rate(s.level),
                rate(s.iterations_per_second),
                rate(s.rps),
                s.p50_ms,
                s.p95_ms,
                s.p99_ms,
                s.error_rate * 100.0
            ));
            for n in &s.notes {
                out.push_str(&format!("      note: {n}\n"));
            }
        }
    }
    if let Some(first) = &doc.first_failed {
        out.push_str(&format!(
            "\nFirst to fail at the lowest failing level: {first}\n"
        ));
    }
    match &doc.usl {
        Some(u) => {
            out.push_str(&format!(
                "Universal Scalability Law fit over {} steps: lambda {:.1} requests/s per \
                 request in service, contention sigma {:.4}, coherency kappa {:.6}, R² {:.3}",
                u.points, u.lambda, u.sigma, u.kappa, u.r_squared
            ));
            if let (Some(n), Some(x)) = (u.peak_concurrency, u.peak_rps) {
                out.push_str(&format!(
                    "; throughput peaks near {n:.0} in service at {} requests/s",
                    rate(x)
                ));
            }
            out.push('\n');
        }
        None if !doc.steps.is_empty() => out.push_str(
            "No Universal Scalability Law fit: it needs three steps of different concurrency.\n",
        ),
        None => {}
    }
    match doc.linear_ramp_steps {
        Some(linear) => out.push_str(&format!(
            "Steps run: {}; a linear ramp to the same precision would have run {linear}.\n",
            doc.steps_run
        )),
        None => out.push_str(&format!("Steps run: {}.\n", doc.steps_run)),
    }
    out
}

fn capacity_step(doc: &CapacityDoc) -> Option<&CapacityStep> {
    let level = doc.bracket.passed?;
    doc.steps
        .iter()
        .rev()
        .find(|s| s.passed && s.level == level)
}

/// Writes `--json`, `--csv`, `--junit`, `--summary-md` and `--html` from the result;
/// `false` when one could not be written.
fn write_files(args: &CapacityArgs, doc: &ResultDoc, baseline: Option<&ResultDoc>) -> bool {
    let outputs = &args.common.outputs;
    let mut written = outputs.files(args.common.json.clone()).write(doc);
    if let Some(path) = &outputs.html {
        written.push(HtmlReport { path: path.clone() }.write(&View::from_result(doc, baseline)));
    }
    crate::outputs::report(&written)
}
