//! `barrage capacity`: one search against one service (see barrage-capacity), its terminal
//! report, its files and its gates. A sweep over configurations (`--serve`, `--vary`) is
//! [`crate::sweep`], which calls [`search`] once per configuration.

use barrage_metrics::{CapacityDoc, ResultDoc};

use crate::cli::CapacityArgs;

/// One search's outcome.
pub(crate) struct Searched {
    /// What was found (also when interrupted: the bracket so far).
    pub capacity: CapacityDoc,
    /// The run's result file, `capacity` filled in; `None` when no step ran.
    pub result: Option<ResultDoc>,
    /// Stopped by the person (Ctrl-C).
    pub interrupted: bool,
}

/// `barrage capacity`: a sweep with `--serve`, else one search, its report, files, gates.
pub async fn run(args: CapacityArgs) -> u8 {
    if args.serve.is_some() {
        return crate::sweep::run(args).await;
    }
    todo!("capacity front-end helper")
}

/// One search against `host` (or the flags' and file's target when `None`), printing a
/// line per step as it goes; `label` prefixes those lines in a sweep (`workers=2`). `Err`
/// is the exit code when the search could not start (2 usage or scenario, 3 cannot run).
pub(crate) async fn search(
    args: &CapacityArgs,
    host: Option<&str>,
    label: Option<&str>,
) -> Result<Searched, u8> {
    todo!("capacity front-end helper")
}

/// The terminal report of one search: the conclusion, the bracket, the concurrency, the
/// throughput-latency curve of every step, the USL fit, steps run against a linear ramp.
pub(crate) fn print_report(doc: &CapacityDoc) {
    todo!("capacity front-end helper")
}
