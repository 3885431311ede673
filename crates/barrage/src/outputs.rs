//! The flags that judge a run and write files beside the result (`--threshold`, `--csv`,
//! `--junit`, `--summary-md`, `--html`), shared by `run`, `hit` and `report`. The files are the
//! session's sinks; this module only turns flags into them and says what was written.

use std::path::PathBuf;

use barrage_session::sinks::FileSinks;
use barrage_session::{Sink, SinkError};
use barrage_web::report::HtmlReport;

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
    /// Write the HTML report: one self-contained file that opens offline (verdict, table,
    /// charts with a percentile picker, latency distributions, failures, checks).
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
}

impl OutputArgs {
    /// The file sinks these flags (and the result file, if any) ask for.
    pub fn files(&self, json: Option<PathBuf>) -> FileSinks {
        FileSinks {
            json,
            csv: self.csv.clone(),
            csv_full_history: self.csv_full_history,
            junit: self.junit.clone(),
            summary_md: self.summary_md.clone(),
        }
    }

    /// Every sink these flags ask for: the files, then the HTML report.
    pub fn sinks(&self, json: Option<PathBuf>) -> Vec<Box<dyn Sink>> {
        let mut sinks = self.files(json).sinks();
        if let Some(path) = &self.html {
            sinks.push(Box::new(HtmlReport { path: path.clone() }));
        }
        sinks
    }
}

/// Prints what each output says (`Result file: out.json`) or why it could not be written;
/// `false` when one could not.
pub fn report(outputs: &[Result<Vec<String>, SinkError>]) -> bool {
    let mut ok = true;
    for o in outputs {
        match o {
            Ok(lines) => lines.iter().for_each(|l| eprintln!("{l}")),
            Err(e) => {
                eprintln!("error: {e}");
                ok = false;
            }
        }
    }
    ok
}
