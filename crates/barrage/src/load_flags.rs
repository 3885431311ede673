//! The command line's say over the load: `-u/-r/-t/--iterations/--rate/--stages/
//! --max-users/--stop-timeout` written onto the scenario's `load` before it is compiled, so
//! flags win over the file (and `BARRAGE_*`, which clap reads into the same flags) with
//! one set of rules. Also the words that describe a plan's load to a person.
//!
//! A flag that picks another load model than the file's replaces it: `--rate` turns a
//! closed-model file into an open one, `-u` turns an arrival-rate file into a closed one.
//! A file with several `scenarios` keeps its own loads: load flags there are an error
//! (only `--stop-timeout` applies to all). Conflicts are resolved here rather than by clap,
//! since clap counts `BARRAGE_*` values as if typed: `--rate` wins over `-u`, `-r` and
//! `--iterations` (an open model has no fixed users); `--stages` with `-t` is an error.

use std::time::Duration;

use barrage_engine::plan::{LoadModel, Plan};
use barrage_metrics::LoadInfo;
use barrage_scenario::{Load, Scenario, Span, Spanned, Stage};

use crate::cli::RunArgs;

/// When neither the file nor a flag says how long in-flight requests may take at the end
/// (k6's `gracefulStop` is 30 s; API requests are short, and a run that ends should end soon).
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

fn spanned<T>(v: T) -> Spanned<T> {
    Spanned::new(v, Span::default())
}

/// Writes the load flags onto `scenario.load`. `Err` says which flag cannot apply.
pub fn apply(scenario: &mut Scenario, args: &RunArgs) -> Result<(), String> {
    let any = args.users.is_some()
        || args.spawn_rate.is_some()
        || args.run_time.is_some()
        || args.iterations.is_some()
        || args.rate.is_some()
        || args.stages.is_some()
        || args.max_users.is_some();
    if !scenario.scenarios.is_empty() {
        if any {
            return Err(
                "this file has several `scenarios`, each with its own `load`: \
                        -u, -r, -t, --iterations, --rate, --stages and --max-users do not \
                        apply; change the scenarios' `load` sections instead"
                    .to_string(),
            );
        }
        return Ok(());
    }
    let load = &mut scenario.load;
    if args.stages.is_some() && args.run_time.is_some() {
        return Err("--stages and -t/--run-time both set the run's length: give one".into());
    }
    if let Some(rate) = args.rate {
        // `--rate` replaces a closed model; the file's user stages are not rates.
        if load.rate.is_none() && args.stages.is_none() {
            load.stages.clear();
        }
        if !(0.0..=10_000_000.0).contains(&rate) {
            return Err("--rate must be a number of iterations per second, 0 to 10,000,000".into());
        }
        load.rate = Some(spanned(rate));
        load.users = None;
        load.spawn_rate = None;
        load.iterations = None;
    } else if args.users.is_some() || args.spawn_rate.is_some() || args.iterations.is_some() {
        // A closed-model flag: the file's arrival rate, if any, no longer applies.
        load.rate = None;
        load.max_users = None;
        load.pre_allocated_users = None;
        load.on_max_users = None;
    }
    if let Some(users) = args.users {
        if users == 0 || users > 10_000_000 {
            return Err("--users must be from 1 to 10,000,000".into());
        }
        load.users = Some(spanned(users));
    }
    if let Some(r) = args.spawn_rate {
        if !(r > 0.0 && r.is_finite()) {
            return Err("--spawn-rate must be a positive number of users per second".into());
        }
        load.spawn_rate = Some(spanned(r));
    }
    if let Some(n) = args.iterations {
        load.iterations = Some(spanned(n));
    }
    if let Some(stages) = &args.stages {
        load.stages = stages
            .0
            .iter()
            .map(|&(d, t)| Stage {
                duration: spanned(d),
                target: spanned(t),
            })
            .collect();
        load.duration = None;
        load.spawn_rate = None;
        load.iterations = None;
    }
    if let Some(t) = args.run_time {
        if !load.stages.is_empty() && args.stages.is_none() {
            return Err(
                "-t/--run-time cannot shorten the file's `stages`; give --stages \
                        instead, or remove the stages from the file"
                    .into(),
            );
        }
        load.duration = Some(spanned(t));
    }
    if let Some(m) = args.max_users {
        if load.rate.is_none() {
            return Err(
                "--max-users applies only to an arrival rate (--rate, or `rate` in \
                        the file)"
                    .into(),
            );
        }
        if m == 0 {
            return Err("--max-users must be at least 1".into());
        }
        load.max_users = Some(spanned(m));
    }
    if load.rate.is_none() && !load.stages.is_empty() {
        load.users.get_or_insert(spanned(0));
    }
    Ok(())
}

/// The stop timeout after precedence: flag, then the file, then the default.
pub fn stop_timeout(flag: Option<Duration>, load: &Load) -> Duration {
    flag.or(load.stop_timeout.as_ref().map(|t| t.value))
        .unwrap_or(DEFAULT_STOP_TIMEOUT)
}

/// One line per scenario: what load it applies, for how long.
pub fn describe(plan: &Plan) -> String {
    plan.scenarios
        .iter()
        .map(|s| {
            let what = describe_model(&s.load);
            let start = if s.start.is_zero() {
                String::new()
            } else {
                format!(", starting at {}", secs(s.start))
            };
            if plan.scenarios.len() == 1 {
                format!("{what}{start}")
            } else {
                format!("scenario {}: {what}{start}", s.name)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn describe_model(m: &LoadModel) -> String {
    match m {
        LoadModel::ConstantUsers {
            users,
            spawn_rate,
            duration,
            iterations,
        } => {
            let start = match spawn_rate {
                Some(r) => format!("{r} started per second"),
                None => "all at once".to_string(),
            };
            let bound = match (duration, iterations) {
                (Some(d), Some(n)) => format!("for {} or {n} iterations", secs(*d)),
                (Some(d), None) => format!("for {}", secs(*d)),
                (None, Some(n)) => format!("for {n} iterations"),
                (None, None) => "until Ctrl-C".to_string(),
            };
            format!("{users} user{} ({start}) {bound}", plural(*users))
        }
        LoadModel::RampingUsers { start, stages } => {
            format!("users from {start} {}", stages_text(stages))
        }
        LoadModel::ArrivalRate {
            rate,
            stages,
            duration,
            max_users,
            drop_when_busy,
            ..
        } => {
            let shape = if stages.is_empty() {
                match duration {
                    Some(d) => format!("{rate} iterations/s for {}", secs(*d)),
                    None => format!("{rate} iterations/s until Ctrl-C"),
                }
            } else {
                format!("iterations/s from {rate} {}", stages_text(stages))
            };
            let busy = if *drop_when_busy { "dropped" } else { "queued" };
            format!("{shape}, up to {max_users} users (iterations {busy} when all are busy)")
        }
    }
}

fn stages_text(stages: &[barrage_engine::plan::Stage]) -> String {
    stages
        .iter()
        .map(|s| format!("to {} over {}", s.target, secs(s.duration)))
        .collect::<Vec<_>>()
        .join(", then ")
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 && s.fract() == 0.0 && (s as u64).is_multiple_of(60) {
        format!("{}m", s as u64 / 60)
    } else {
        format!("{s}s")
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The result file's `run.load`: the first scenario's model (a multi-scenario file lists
/// each in `run.load.model`).
pub fn load_info(plan: &Plan) -> LoadInfo {
    let mut info = LoadInfo {
        model: Some(describe(plan)),
        ..LoadInfo::default()
    };
    if let Some(s) = plan.scenarios.first() {
        match &s.load {
            LoadModel::ConstantUsers {
                users,
                spawn_rate,
                duration,
                iterations,
            } => {
                info.users = Some(*users);
                info.spawn_rate = *spawn_rate;
                info.duration_s = duration.map(|d| d.as_secs_f64());
                info.iterations = *iterations;
            }
            LoadModel::RampingUsers { .. } => {
                info.duration_s = s.load.length().map(|d| d.as_secs_f64());
            }
            LoadModel::ArrivalRate { rate, .. } => {
                info.rate = Some(*rate);
                info.duration_s = s.load.length().map(|d| d.as_secs_f64());
            }
        }
    }
    info
}

/// When the ramp-up of every scenario is over (for `--reset-stats`).
pub fn ramp_up_end(plan: &Plan) -> Duration {
    plan.scenarios
        .iter()
        .map(|s| s.start + s.load.ramp_up())
        .max()
        .unwrap_or_default()
}
