//! `barrage merge A.json B.json ...`: the result files of one run split over several
//! processes (`run --segment I/N`, machines started by hand) merged into the result one
//! process would have written (`barrage_metrics::merge`, exact: histograms add), judged
//! again by the thresholds, and shown and written as `barrage report` does.
//!
//! Thresholds: the union of the files' (by expression, the first file's first; the files
//! of one scenario share the scenario's, so they differ only by `--threshold` flags given
//! to some runs) and this command's `--threshold` flags, judged on the merged run. Their
//! verdicts replace the files' own, which judged a share of the load only.
//!
//! Exit codes: 0 merged and passed; 1 the merged run failed its gate as one process's run
//! would (`barrage_report::gate`: a threshold failed on it; without thresholds, any failed
//! request; no request succeeded); 2 a file unreadable or refused (different scenarios,
//! overlapping segments), or a bad threshold; 3 an output file could not be written.

use std::path::PathBuf;

use barrage_metrics::{merge, MergeInput};
use barrage_session::thresholds::{self, Known};
use clap::Args;

use crate::exit;
use crate::outputs::OutputArgs;
use crate::report_cmd;
use crate::terminal::print_diagnostics;

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Result files written by `barrage run --json`, one per process of the run (each
    /// segment once).
    #[arg(required = true, value_name = "RESULT.json")]
    pub results: Vec<PathBuf>,
    /// Write the merged result file here (`-` for stdout).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub outputs: OutputArgs,
}

pub fn merge_files(args: MergeArgs) -> u8 {
    let mut inputs = Vec::with_capacity(args.results.len());
    for path in &args.results {
        match report_cmd::read(path) {
            Ok(doc) => inputs.push(MergeInput {
                name: path.display().to_string(),
                doc,
            }),
            Err(code) => return code,
        }
    }
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let mut doc = match merge(&inputs, &command) {
        Ok(doc) => doc,
        Err(e) => {
            eprintln!("error: cannot merge: {e}");
            return exit::USAGE;
        }
    };
    doc.run.run_id = uuid::Uuid::new_v4().to_string();

    let mut items = match thresholds::of_verdicts(inputs.iter().flat_map(|i| &i.doc.thresholds)) {
        Ok(items) => items,
        Err(e) => {
            eprintln!("error: {e}\n  help: merge with the barrage that wrote the files");
            return exit::USAGE;
        }
    };
    let known = Known::of_result(&doc);
    let flags: Vec<String> = args
        .outputs
        .thresholds
        .iter()
        .filter(|f| !items.iter().any(|i| &i.threshold.text == *f))
        .cloned()
        .collect();
    let collected = thresholds::collect(None, &[], &flags, &known);
    if print_diagnostics(&collected.reports) {
        return exit::USAGE;
    }
    items.extend(collected.items);
    thresholds::judge(&items, &mut doc, None);
    // A threshold that stopped a generator stopped part of the run: say so on its verdict.
    for v in &mut doc.thresholds {
        v.aborted_run = inputs
            .iter()
            .flat_map(|i| &i.doc.thresholds)
            .any(|t| t.expr == v.expr && t.aborted_run);
    }

    eprintln!(
        "Merged {} result files ({} generators, {:.1} s).",
        inputs.len(),
        doc.generators.len(),
        doc.run.duration_s
    );
    for w in &doc.warnings {
        eprintln!("warning: {w}");
    }
    if !report_cmd::show(&doc, &args.outputs, args.json.clone(), None) {
        return exit::CANNOT_RUN;
    }
    let failed = doc.thresholds.iter().filter(|v| !v.passed).count();
    if failed > 0 {
        eprintln!(
            "Thresholds: FAILED on the merged run ({failed} of {} failed)",
            doc.thresholds.len()
        );
    } else if !doc.thresholds.is_empty() {
        eprintln!("Thresholds: PASSED on the merged run");
    }
    // The merged run passes or fails as one process would have: `run`'s gate.
    let gate = barrage_report::gate(&doc);
    if gate.passed {
        eprintln!("Result: PASSED ({})", gate.reason);
        exit::OK
    } else {
        eprintln!("Result: FAILED ({})", gate.reason);
        exit::FAILED
    }
}
