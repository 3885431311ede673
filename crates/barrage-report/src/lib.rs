//! barrage-report: what people read — the live terminal table and the end-of-run summary.
//!
//! Both are pure functions from a [`barrage_metrics::Snapshot`] to a `String`: the caller
//! decides where the text goes (stderr when stdout carries machine output) and whether colour
//! is on (from `NO_COLOR` and whether the stream is a terminal). Reading snapshots only, never
//! raw samples, is what keeps every view showing the same numbers as the result file.
//!
//! This crate must not run load, read clocks, or compute statistics the snapshot does not
//! hold; it formats. HTML, CSV, JUnit and compare will live here too, one module each.

mod format;
mod live;
mod naming;
mod summary;
mod table;
#[cfg(test)]
mod testdata;

pub use live::live_table;
pub use summary::summary;

/// How text views are rendered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ViewOptions {
    /// Use ANSI colour and bold. Off means no escape codes at all.
    pub color: bool,
}
