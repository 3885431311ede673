//! `barrage completions SHELL` and `barrage man`: the shells' and man's views of the one
//! clap definition in `cli.rs` (which `main.rs` hands in), generated on demand so they can
//! never drift from the flags the binary really takes. The Python wheel ships their output
//! (scripts/build-wheel.sh runs both), and so can any other package.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use clap_complete::Shell;

use crate::exit;

/// The arguments of `barrage completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The arguments of `barrage man`.
#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write barrage.1 and one page per command (barrage-run.1, ...) into this directory
    /// instead of printing barrage.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints the completion script for `args.shell` on stdout.
pub fn completions(args: CompletionsArgs, mut cli: clap::Command) -> u8 {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cli, "barrage", &mut out);
    print(&out)
}

/// Prints barrage(1), or writes every page into `--dir`.
pub fn man(args: ManArgs, cli: clap::Command) -> u8 {
    let result = match &args.dir {
        Some(dir) => write_pages(dir, cli),
        None => {
            let mut out = Vec::new();
            match clap_mangen::Man::new(cli).render(&mut out) {
                Ok(()) => return print(&out),
                Err(e) => Err(e.to_string()),
            }
        }
    };
    match result {
        Ok(()) => exit::OK,
        Err(message) => {
            eprintln!("error: {message}");
            exit::CANNOT_RUN
        }
    }
}

fn write_pages(dir: &Path, cli: clap::Command) -> Result<(), String> {
    let why = |e: std::io::Error| format!("cannot write the man pages into {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(why)?;
    clap_mangen::generate_to(cli, dir).map_err(why)
}

fn print(bytes: &[u8]) -> u8 {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => exit::OK,
        // A closed pipe (`barrage man | head`) is the reader's choice, not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            exit::CANNOT_RUN
        }
    }
}
