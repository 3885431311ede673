//! `barrage report RESULT.json`: the summary and the CI files (`--csv`, `--junit`,
//! `--summary-md`) and the HTML report (`--html`, with `--baseline BASE.json` drawn under
//! it) from a saved result, without running anything; `--threshold` judges the saved run
//! again (the result file has the histograms, so percentiles over several endpoints are
//! exact here too).
//!
//! Exit codes: with `--threshold`, 1 when one fails and 0 otherwise; without, 0 (the stored
//! verdicts are shown, not re-applied); 2 for an unreadable file or a bad threshold; 3 when
//! an output file cannot be written.

use std::path::{Path, PathBuf};

use barrage_metrics::ResultDoc;
use barrage_report::ViewOptions;
use barrage_web::report::HtmlReport;
use barrage_web::view::View;
use clap::Args;

use barrage_session::thresholds::{self, Known};

use crate::exit;
use crate::outputs::{self, OutputArgs};
use crate::terminal::{print_diagnostics, stderr_color};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A result file written by `barrage run --json`.
    pub result: PathBuf,
    #[command(flatten)]
    pub outputs: OutputArgs,
    /// With --html: draw this earlier run's result under this one, with `barrage
    /// compare`'s verdicts (baseline first, as `compare BASE NEW`).
    #[arg(long, value_name = "BASE.json", requires = "html")]
    pub baseline: Option<PathBuf>,
}

/// Reads a result file, saying why it cannot be read.
pub(crate) fn read(path: &Path) -> Result<ResultDoc, u8> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", path.display());
        exit::USAGE
    })?;
    ResultDoc::from_json(&text).map_err(|e| {
        eprintln!(
            "error: {}: {e}\n  help: give a file written by `barrage run --json PATH`",
            path.display()
        );
        exit::USAGE
    })
}

pub fn report(args: ReportArgs) -> u8 {
    let mut doc = match read(&args.result) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let baseline = match args.baseline.as_deref().map(read).transpose() {
        Ok(b) => b,
        Err(code) => return code,
    };
    let rejudge = !args.outputs.thresholds.is_empty();
    if rejudge {
        let known = Known::of_result(&doc);
        let collected = thresholds::collect(None, &[], &args.outputs.thresholds, &known);
        if print_diagnostics(&collected.reports) {
            return exit::USAGE;
        }
        thresholds::judge(&collected.items, &mut doc, None);
    }
    if !show(&doc, &args.outputs, None, baseline.as_ref()) {
        return exit::CANNOT_RUN;
    }
    if rejudge {
        let failed = doc.thresholds.iter().filter(|v| !v.passed).count();
        if failed > 0 {
            eprintln!(
                "Thresholds: FAILED ({failed} of {} failed)",
                doc.thresholds.len()
            );
            return exit::FAILED;
        }
        eprintln!("Thresholds: PASSED");
    } else {
        let g = barrage_report::gate(&doc);
        eprintln!(
            "Result when run: {} ({})",
            if g.passed { "PASSED" } else { "FAILED" },
            g.reason
        );
    }
    exit::OK
}

/// Prints a saved (or merged) result's summary, never-ran, server and threshold sections,
/// and writes the files `outputs` ask for (and the result file at `json`); `false` when
/// one could not be written. `barrage merge` shows its merged run the same way.
pub(crate) fn show(
    doc: &ResultDoc,
    outputs: &OutputArgs,
    json: Option<PathBuf>,
    baseline: Option<&ResultDoc>,
) -> bool {
    let view = ViewOptions {
        color: stderr_color(),
    };
    eprintln!("{}", barrage_report::summary(&doc.snapshot(), &view));
    let never_ran = barrage_report::never_ran_section(&doc.never_ran, &view);
    if !never_ran.is_empty() {
        eprintln!("{never_ran}");
    }
    let server = barrage_report::server_section(doc.server.as_ref(), &view);
    if !server.is_empty() {
        eprintln!("{server}");
    }
    let section = barrage_report::threshold::thresholds_section(&doc.thresholds, &view);
    if !section.is_empty() {
        eprintln!("{section}");
    }
    let mut written = outputs.files(json).write(doc);
    if let Some(path) = &outputs.html {
        let view = View::from_result(doc, baseline);
        written.push(HtmlReport { path: path.clone() }.write(&view));
    }
    outputs::report(&written)
}
