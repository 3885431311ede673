//! The file sinks: the JSON result file (or stdout), Locust's four CSV files, a JUnit report
//! and a Markdown summary, each written atomically once the run is over. `barrage report`
//! writes the same files from a saved result, through [`FileSinks::write`].

use std::io::Write;
use std::path::PathBuf;

use barrage_metrics::ResultDoc;
use barrage_report::csv::LocustCsv;

use crate::sink::{Finished, Sink, SinkError};

/// The result file: a path, or stdout for `-`.
pub struct JsonResult {
    pub path: PathBuf,
}

impl JsonResult {
    fn write(&self, doc: &ResultDoc) -> Result<Vec<String>, SinkError> {
        if self.path.as_os_str() == "-" {
            let mut stdout = std::io::stdout().lock();
            return doc
                .write_to(&mut stdout)
                .and_then(|()| stdout.flush())
                .map(|()| Vec::new())
                .map_err(|source| SinkError::Write {
                    what: "the result to stdout".to_owned(),
                    source,
                });
        }
        doc.write_atomic(&self.path)
            .map(|()| vec![format!("Result file: {}", self.path.display())])
            .map_err(|source| SinkError::Write {
                what: self.path.display().to_string(),
                source,
            })
    }
}

/// Locust's CSV files: PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv and
/// PREFIX_exceptions.csv.
pub struct Csv {
    pub prefix: String,
    pub full_history: bool,
}

impl Csv {
    fn write(&self, doc: &ResultDoc) -> Result<Vec<String>, SinkError> {
        match LocustCsv::from_result(doc, self.full_history).write(&self.prefix) {
            Ok(paths) => Ok(vec![format!(
                "CSV files: {}",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )]),
            Err(source) => Err(SinkError::Write {
                what: format!("the CSV files {}_*.csv", self.prefix),
                source,
            }),
        }
    }
}

/// A JUnit XML report: each threshold and each check is a test case.
pub struct Junit {
    pub path: PathBuf,
}

/// A Markdown summary (a CI job summary, a pull-request comment).
pub struct Markdown {
    pub path: PathBuf,
}

fn write_text(path: &std::path::Path, what: &str, text: &str) -> Result<Vec<String>, SinkError> {
    barrage_report::write_atomic(path, text)
        .map(|()| vec![format!("{what}: {}", path.display())])
        .map_err(|source| SinkError::Write {
            what: path.display().to_string(),
            source,
        })
}

impl Sink for JsonResult {
    fn name(&self) -> &str {
        "JSON result"
    }
    fn reads_seconds(&self) -> bool {
        false
    }
    fn finished(&mut self, end: &Finished) -> Result<Vec<String>, SinkError> {
        self.write(&end.result)
    }
}

impl Sink for Csv {
    fn name(&self) -> &str {
        "CSV files"
    }
    fn reads_seconds(&self) -> bool {
        false
    }
    fn finished(&mut self, end: &Finished) -> Result<Vec<String>, SinkError> {
        self.write(&end.result)
    }
}

impl Sink for Junit {
    fn name(&self) -> &str {
        "JUnit report"
    }
    fn reads_seconds(&self) -> bool {
        false
    }
    fn finished(&mut self, end: &Finished) -> Result<Vec<String>, SinkError> {
        write_text(
            &self.path,
            "JUnit report",
            &barrage_report::junit::junit(&end.result),
        )
    }
}

impl Sink for Markdown {
    fn name(&self) -> &str {
        "Markdown summary"
    }
    fn reads_seconds(&self) -> bool {
        false
    }
    fn finished(&mut self, end: &Finished) -> Result<Vec<String>, SinkError> {
        write_text(
            &self.path,
            "Markdown summary",
            &barrage_report::markdown::markdown(&end.result),
        )
    }
}

/// The files a front end asked for beside (or instead of) the result file.
#[derive(Debug, Clone, Default)]
pub struct FileSinks {
    pub json: Option<PathBuf>,
    pub csv: Option<String>,
    pub csv_full_history: bool,
    pub junit: Option<PathBuf>,
    pub summary_md: Option<PathBuf>,
}

impl FileSinks {
    /// The sinks, in the order their files are written.
    pub fn sinks(&self) -> Vec<Box<dyn Sink>> {
        let mut out: Vec<Box<dyn Sink>> = Vec::new();
        if let Some(path) = &self.json {
            out.push(Box::new(JsonResult { path: path.clone() }));
        }
        if let Some(prefix) = &self.csv {
            out.push(Box::new(Csv {
                prefix: prefix.clone(),
                full_history: self.csv_full_history,
            }));
        }
        if let Some(path) = &self.junit {
            out.push(Box::new(Junit { path: path.clone() }));
        }
        if let Some(path) = &self.summary_md {
            out.push(Box::new(Markdown { path: path.clone() }));
        }
        out
    }

    /// Writes the files from a saved result, as the sinks would at the end of a run.
    pub fn write(&self, doc: &ResultDoc) -> Vec<Result<Vec<String>, SinkError>> {
        let end = Finished {
            result: doc.clone(),
            snapshot: doc.snapshot(),
            schedule_matters: false,
            buckets: None,
            hurry: Default::default(),
        };
        self.sinks()
            .into_iter()
            .map(|mut s| s.finished(&end))
            .collect()
    }
}
