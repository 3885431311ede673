//! The `barrage` command: parse arguments, dispatch, and turn outcomes into exit codes.
//! Everything else lives in the library crates (the run itself in `barrage-session`); this
//! crate only picks the sinks and the front end's keys and signals.

mod cli;
mod commands;
mod compare_cmd;
mod debug_view;
mod hit_cmd;
mod init_cmd;
mod outputs;
mod report_cmd;
mod terminal;

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

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // One current-thread runtime on the main thread drives control (signals, timers,
    // the session); the load itself runs on worker threads with runtimes of their own.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::CANNOT_RUN);
        }
    };
    let local = tokio::task::LocalSet::new();
    let code = local.block_on(&runtime, async {
        match cli.command {
            cli::Command::Run(args) => commands::run(args).await,
            cli::Command::Validate { scenario } => commands::validate(&scenario),
            cli::Command::Schema => commands::schema(),
            cli::Command::Demo(args) => commands::demo(args).await,
            cli::Command::Hit(args) => hit_cmd::hit(args).await,
            cli::Command::Compare(args) => compare_cmd::compare(args),
            cli::Command::Report(args) => report_cmd::report(args),
            cli::Command::Init(args) => init_cmd::init(args),
        }
    });
    ExitCode::from(code)
}
