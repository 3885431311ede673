//! The `barrage` command: parse arguments, dispatch, and turn outcomes into exit codes.
//! Everything else lives in the library crates (the run itself in `barrage-session`); this
//! crate only picks the sinks and the front end's keys and signals.

mod capacity_cmd;
mod capacity_gates;
mod cli;
mod commands;
mod compare_cmd;
mod demo_cmd;
mod durations;
mod fleet_cmd;
mod fleet_tls;
mod hit_cmd;
mod init_cmd;
mod k8s;
mod manual_cmd;
mod merge_cmd;
mod monitor_args;
mod outputs;
mod report_cmd;
mod segments;
mod serve;
mod sweep;
mod terminal;
mod web_cmd;

use std::process::ExitCode;

use clap::Parser;

/// Exit codes (DESIGN.md, "Conventions for users"), and the one place a run's outcome
/// becomes one.
pub mod exit {
    use barrage_session::Outcome;

    pub const OK: u8 = 0;
    /// The run finished but failed its gate (any failed request, or none succeeded).
    pub const FAILED: u8 = 1;
    /// Bad usage or a bad scenario.
    pub const USAGE: u8 = 2;
    /// The run itself could not proceed.
    pub const CANNOT_RUN: u8 = 3;
    /// Interrupted by Ctrl-C (results were still written).
    pub const INTERRUPTED: u8 = 130;

    /// Says what the run came to on stderr and returns its exit code: 3 when a worker
    /// failed or an output could not be written, 130 when interrupted, else the gate's
    /// verdict (`barrage_report::gate`: no successful request fails; thresholds, when
    /// given, decide; otherwise any failed request fails).
    pub fn of_run(outcome: &Outcome) -> u8 {
        let written = crate::outputs::report(&outcome.outputs);
        for w in &outcome.warnings {
            eprintln!("warning: {w}");
        }
        if let Some(e) = &outcome.worker_error {
            eprintln!("error: {e}");
            return CANNOT_RUN;
        }
        if !written {
            return CANNOT_RUN;
        }
        if outcome.interrupted {
            return INTERRUPTED;
        }
        let gate = barrage_report::gate(&outcome.result);
        match (gate.passed, outcome.result.thresholds.is_empty()) {
            (true, true) => eprintln!("Result: PASSED"),
            (true, false) => eprintln!("Result: PASSED ({})", gate.reason),
            (false, _) => eprintln!("Result: FAILED ({})", gate.reason),
        }
        if gate.passed {
            OK
        } else {
            FAILED
        }
    }
}

/// The control thread's runtime. tokio panics instead of returning an error when its signal
/// handling cannot get the two descriptors it needs (a process allowed only a handful of
/// open files: `ulimit -n 6`); that panic is caught here, kept off the terminal, and turned
/// into the error it is.
fn control_runtime() -> Result<tokio::runtime::Runtime, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let built = std::panic::catch_unwind(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    });
    std::panic::set_hook(hook);
    match built {
        Ok(Ok(rt)) => Ok(rt),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!(
                "{why} (too few open files? this process may open {}; raise `ulimit -n`)",
                open_files_limit()
            ))
        }
    }
}

fn open_files_limit() -> String {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or_else(|_| "few".to_string(), |(soft, _)| soft.to_string())
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // One current-thread runtime on the main thread drives control (signals, timers,
    // the session); the load itself runs on worker threads with runtimes of their own.
    let runtime = match control_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::CANNOT_RUN);
        }
    };
    let local = tokio::task::LocalSet::new();
    let code = local.block_on(&runtime, async {
        match cli.command {
            cli::Command::Run(args) if args.web.web => web_cmd::run(args).await,
            cli::Command::Run(args) => commands::run(args).await,
            cli::Command::Validate { scenario } => commands::validate(&scenario),
            cli::Command::Schema => commands::schema(),
            cli::Command::Demo(args) => demo_cmd::run(args).await,
            cli::Command::Hit(args) => hit_cmd::hit(args).await,
            cli::Command::Coordinator(args) => fleet_cmd::coordinator(args).await,
            cli::Command::Agent(args) => fleet_cmd::agent(args).await,
            cli::Command::Capacity(args) if args.serve.is_some() => sweep::run(args).await,
            cli::Command::Capacity(args) => capacity_cmd::run(args).await,
            cli::Command::Compare(args) => compare_cmd::compare(args),
            cli::Command::Report(args) => report_cmd::report(args),
            cli::Command::Merge(args) => merge_cmd::merge_files(args),
            cli::Command::Init(args) => init_cmd::init(args),
            cli::Command::K8s(args) => k8s::k8s(args),
            cli::Command::Completions(args) => {
                manual_cmd::completions(args, <cli::Cli as clap::CommandFactory>::command())
            }
            cli::Command::Man(args) => {
                manual_cmd::man(args, <cli::Cli as clap::CommandFactory>::command())
            }
        }
    });
    ExitCode::from(code)
}
