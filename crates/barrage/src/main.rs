//! The `barrage` command: parse arguments, dispatch, and turn outcomes into exit codes.
//! Everything else lives in the library crates; this file only wires them.

mod cli;
mod commands;
mod compare_cmd;
mod debug_view;
mod hit_cmd;
mod init_cmd;
mod judge;
mod live;
mod load_flags;
mod outputs;
mod report_cmd;

use std::process::ExitCode;

use clap::Parser;

/// Exit codes (DESIGN.md, "Conventions for users").
pub mod exit {
    pub const OK: u8 = 0;
    /// The run finished but failed its gate (any failed request, or none succeeded).
    pub const FAILED: u8 = 1;
    /// Bad usage or a bad scenario.
    pub const USAGE: u8 = 2;
    /// The run itself could not proceed.
    pub const CANNOT_RUN: u8 = 3;
    /// Interrupted by Ctrl-C (results were still written).
    pub const INTERRUPTED: u8 = 130;
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // One current-thread runtime on the main thread drives control (signals, timers,
    // the live table); the load itself runs on worker threads with runtimes of their own.
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
