//! `barrage compare BASE.json NEW.json`: reads two result files, compares them with
//! [`barrage_report::compare`], prints the table, writes `--json` and `--summary-md`, and turns
//! the verdict into an exit code. The statistics and the formatting live in `barrage-report`;
//! this file only does the input, output and exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use barrage_metrics::ResultDoc;
use barrage_report::compare::{
    compare as compare_runs, comparison_json, comparison_markdown, comparison_text, CompareOptions,
    Gate, Side, Verdict, RESAMPLES,
};
use barrage_report::ViewOptions;
use clap::Args;

use crate::exit;

/// The arguments of `barrage compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The result file to compare against (e.g. the last good run).
    #[arg(value_name = "BASE.json")]
    pub base: PathBuf,
    /// The result file of the run being judged.
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,
    /// Fail (exit 1) when a change goes beyond GATE and beyond the noise; repeatable.
    /// `METRIC[{label="value",...}] (>|<) AMOUNT`: metrics p50 p75 p90 p95 p99 p999 mean max
    /// (response time, `%` relative or `ms`/`s`/`us` absolute), error_rate (in percentage
    /// points), rps (`%` or requests/s). Without matchers a gate applies to every endpoint in
    /// both runs and to the aggregate.
    #[arg(long = "fail-if", value_name = "GATE", value_parser = parse_gate)]
    pub fail_if: Vec<Gate>,
    /// Also fail (exit 1) when a gate could not be judged (not enough data, no such endpoint).
    #[arg(long)]
    pub strict: bool,
    /// Write the comparison as JSON here; `-` for stdout (the table then goes to stderr).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Write the comparison as Markdown here (for a CI job summary or a pull-request comment).
    #[arg(long, value_name = "PATH")]
    pub summary_md: Option<PathBuf>,
    /// Bootstrap resamples per percentile interval.
    #[arg(long, default_value_t = RESAMPLES, value_name = "N", hide_short_help = true)]
    pub resamples: usize,
}

fn parse_gate(s: &str) -> Result<Gate, String> {
    Gate::parse(s).map_err(|e| e.to_string())
}

pub fn compare(args: CompareArgs) -> u8 {
    let (base, new) = match (read(&args.base), read(&args.new)) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let (base_label, new_label) = (label(&args.base), label(&args.new));
    let opts = CompareOptions {
        gates: args.fail_if,
        resamples: args.resamples.max(100),
    };
    let comparison = match compare_runs(
        Side {
            label: &base_label,
            doc: &base,
        },
        Side {
            label: &new_label,
            doc: &new,
        },
        &opts,
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };

    let json_to_stdout = args.json.as_deref() == Some(Path::new("-"));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if json_to_stdout {
        let view = ViewOptions {
            color: !no_color && std::io::stderr().is_terminal(),
        };
        eprint!("{}", comparison_text(&comparison, &view));
        print!("{}", comparison_json(&comparison));
    } else {
        let view = ViewOptions {
            color: !no_color && std::io::stdout().is_terminal(),
        };
        print!("{}", comparison_text(&comparison, &view));
    }
    let mut written = true;
    if let Some(path) = args.json.as_deref().filter(|_| !json_to_stdout) {
        written &= write(path, &comparison_json(&comparison), "comparison (JSON)");
    }
    if let Some(path) = &args.summary_md {
        written &= write(
            path,
            &comparison_markdown(&comparison),
            "comparison (Markdown)",
        );
    }
    if !written {
        return exit::CANNOT_RUN;
    }
    match comparison.verdict {
        Verdict::Passed => exit::OK,
        Verdict::Failed => exit::FAILED,
        Verdict::NotEnoughData if args.strict => {
            eprintln!(
                "error: some gates could not be judged (not enough data) and --strict is set"
            );
            exit::FAILED
        }
        Verdict::NotEnoughData => {
            eprintln!(
                "warning: not enough data to judge some gates (see above); exiting 0. Run \
                 longer or with more users for more samples, or pass --strict to fail instead."
            );
            exit::OK
        }
    }
}

/// The name a file goes by in the report: the path as given.
fn label(path: &Path) -> String {
    path.display().to_string()
}

fn read(path: &Path) -> Result<ResultDoc, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    ResultDoc::from_json(&text).map_err(|e| {
        format!(
            "{}: {e} (compare reads the files `barrage run --json PATH` writes)",
            path.display()
        )
    })
}

fn write(path: &Path, text: &str, what: &str) -> bool {
    match barrage_report::write_atomic(path, text) {
        Ok(()) => {
            eprintln!("Wrote the {what} to {}", path.display());
            true
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", path.display());
            false
        }
    }
}
