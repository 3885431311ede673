//! barrage-report: what people read — the live terminal table and the end-of-run summary.
//!
//! Both are pure functions from a [`barrage_metrics::Snapshot`] to a `String`: the caller
//! decides where the text goes (stderr when stdout carries machine output) and whether colour
//! is on (from `NO_COLOR` and whether the stream is a terminal). Reading snapshots only, never
//! raw samples, is what keeps every view showing the same numbers as the result file.
//!
//! This crate must not run load, read clocks, or compute statistics the snapshot does not
//! hold; it formats. HTML, CSV, JUnit and compare will live here too, one module each.
//! The one exception is [`compare`], which sizes the noise between two runs from their
//! result files' histograms: a comparison is a view over two files, and its statistics exist
//! nowhere else. A smaller one: [`threshold`] merges the histograms of the endpoints a
//! threshold selects to read a percentile over several of them (a mean of percentiles
//! would be wrong), and [`csv`] reads Locust's extra percentiles (66 %, 98 %, ...) from the
//! result's histograms.
//!
//! The monitored server (`--monitor-*`, `--probe`) has its own views in `server`: a line
//! per source under the live table ([`live_view`]) and the summary's Server block
//! ([`server_section`]), read from the result's `server` section, which is not in a snapshot.
//! Its figures (`server_cpu`, ...) are metrics of the one vocabulary, so thresholds judge them.
//!
//! The words thresholds and compare gates are written in (metric names and their aliases,
//! label matchers, numbers with units) are one vocabulary, [`vocab`], read by one parser each.
//!
//! Thresholds ([`threshold`]: the language, evaluation, live watch), whether a run passed
//! ([`gate`]), and the CI files written from a result ([`csv`], [`junit`], [`markdown`])
//! live here too.

mod format;
pub mod generator;
mod live;
mod messages;
mod naming;
#[cfg(test)]
mod result_testdata;
mod server;
#[cfg(test)]
mod server_testdata;
mod streams;
mod summary;
mod table;
#[cfg(test)]
mod testdata;

/// `barrage compare`: two result files, per-endpoint changes and noise-aware gates.
pub mod compare;
/// Outputs written from a result file (`--csv`, `--junit`, `--summary-md`), one module each:
/// pure functions from a [`barrage_metrics::ResultDoc`] to text, and an atomic file write.
pub mod csv;
pub mod junit;
pub mod markdown;
mod output_file;
pub mod threshold;
pub mod vocab;

pub use output_file::write_atomic;

/// Whether a run passed: the one rule for exit codes and reports.
mod gate;
pub use gate::{gate, Gate};

/// Users that never got a connection, in words.
pub mod unconnected;

pub use live::{live_table, live_view};
pub use server::{live_lines as server_live_lines, server_section};
pub use summary::{never_ran_section, summary};

/// How text views are rendered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ViewOptions {
    /// Use ANSI colour and bold. Off means no escape codes at all.
    pub color: bool,
}
