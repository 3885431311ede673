//! What every monitored source is to the runner: a table that grows a row per sample.
//!
//! A source is sampled on a thread of its own ([`crate::Monitor`] runs one per source), so
//! a method may block (a scrape, a query) for up to the sampling interval without delaying
//! any other source. Rates (counters turned into per-second figures) are the source's own
//! business: it keeps its previous reading.

use barrage_metrics::{Column, SourceKind, SourceSeries};

/// One monitored thing (see the module comment).
pub trait Source: Send {
    fn kind(&self) -> SourceKind;

    /// For people: `processes (port 8000)`, `prometheus 127.0.0.1:8000/metrics`.
    fn name(&self) -> String;

    /// What was asked, as given, passwords redacted.
    fn target(&self) -> String;

    /// Connects or discovers what to watch. `Err` means unreachable: the runner reports it
    /// on the timeline and calls `open` again at each interval until it works.
    fn open(&mut self) -> Result<(), SourceError>;

    /// The columns so far; they may grow between samples (a new worker process), never
    /// shrink or reorder, so earlier rows stay valid.
    fn columns(&self) -> &[Column];

    /// One sample, parallel to [`Source::columns`] (`None` where nothing was measured; a
    /// rate's first sample has nothing to compare with). `Err` means the source was lost
    /// (the process exited, the scrape failed): reported once on the timeline, and the
    /// runner keeps sampling, reporting when it is back.
    fn sample(&mut self) -> Result<Vec<Option<f64>>, SourceError>;

    /// News worth a line on the timeline that is neither lost nor back (a target still
    /// missing while others are watched, a cap reached), each said once. The runner asks
    /// after every `open` and `sample`.
    fn notes(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// At the end, after the last sample: details beyond the table (the processes watched,
    /// the statements that added the most time).
    fn finish(&mut self, _series: &mut SourceSeries) {}
}

/// Why a source gave no data: said in words on the timeline and in the result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

impl SourceError {
    pub fn new(text: impl Into<String>) -> SourceError {
        SourceError(text.into())
    }
}

/// A source's URL without its password, for names, targets and messages: a URL's
/// `user:password@` (any scheme: Prometheus and PostgreSQL alike) and libpq's
/// `password=...` (also when the text does not parse, since the error message shows it).
pub(crate) fn without_password(url: &str) -> String {
    let in_url = regex::Regex::new(r"://([^:@/]*):[^@/]*@").expect("the pattern is valid");
    let in_pairs = regex::Regex::new(r"password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)")
        .expect("the pattern is valid");
    let url = in_url.replace(url, "://$1:redacted@");
    in_pairs.replace_all(&url, "password=redacted").into_owned()
}
