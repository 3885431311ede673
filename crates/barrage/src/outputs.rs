//! The flags that judge a run and write files beside the result (`--threshold`, `--csv`,
//! `--junit`, `--summary-md`), shared by `run`, `hit` and `report`, and writing those files.
//! The formats are `barrage_report`'s (`csv`, `junit`, `markdown`); this module only decides
//! paths and says what was written.

use std::path::PathBuf;

use barrage_metrics::ResultDoc;
use barrage_report::csv::LocustCsv;

use clap::Args;

#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Judge the run by this threshold, e.g. 'p95<200ms' or 'error_rate{method="POST"}<1%'
    /// (repeatable). `run` adds them to the scenario's `thresholds`, and with thresholds they
    /// decide the exit code instead of "any failed request"; `report` judges the saved run.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// Write Locust's CSV files: PREFIX_stats.csv, PREFIX_stats_history.csv,
    /// PREFIX_failures.csv and PREFIX_exceptions.csv.
    #[arg(long, value_name = "PREFIX")]
    pub csv: Option<String>,
    /// With --csv: also a stats-history row per endpoint and second (as Locust's flag).
    #[arg(long, requires = "csv")]
    pub csv_full_history: bool,
    /// Write a JUnit XML report: each threshold and each check is a test case.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown summary (for a CI job summary or a pull-request comment).
    #[arg(long, value_name = "PATH")]
    pub summary_md: Option<PathBuf>,
}

/// Writes the files asked for; `false` (after saying why) when one could not be written.
pub fn write(doc: &ResultDoc, args: &OutputArgs) -> bool {
    let mut ok = true;
    if let Some(prefix) = &args.csv {
        match LocustCsv::from_result(doc, args.csv_full_history).write(prefix) {
            Ok(paths) => eprintln!(
                "CSV files: {}",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(e) => {
                eprintln!("error: cannot write the CSV files {prefix}_*.csv: {e}");
                ok = false;
            }
        }
    }
    let files = [
        (
            &args.junit,
            "JUnit report",
            barrage_report::junit::junit as fn(&ResultDoc) -> String,
        ),
        (
            &args.summary_md,
            "Markdown summary",
            barrage_report::markdown::markdown,
        ),
    ];
    for (path, what, render) in files {
        let Some(path) = path else { continue };
        match barrage_report::write_atomic(path, &render(doc)) {
            Ok(()) => eprintln!("{what}: {}", path.display()),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                ok = false;
            }
        }
    }
    ok
}
