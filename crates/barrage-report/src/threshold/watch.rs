//! Thresholds while the run goes on: their current status for the live view, and the
//! decision to stop a run early (`abort_on_fail`).
//!
//! Abort semantics are k6's `abortOnFail` with `delayAbortEval`: a threshold is not judged for
//! aborting until `delay` has passed since the start (a target warming up must not end the
//! run), and after that the first snapshot on which it fails stops the run. A threshold with
//! nothing measured yet, or one that can only be judged at the end, never aborts.
//!
//! The caller decides when to look (once a closed second) and how to stop; this type keeps
//! no clock of its own: time is the snapshot's `elapsed`.

use std::time::Duration;

use barrage_metrics::Snapshot;

use super::{evaluate, Evaluation, Threshold};
use crate::table::{paint, truncate, Style};
use crate::ViewOptions;

/// One threshold under watch.
#[derive(Clone, Debug)]
pub struct Watched {
    pub threshold: Threshold,
    pub abort_on_fail: bool,
    /// With `abort_on_fail`: no abort before this much of the run has passed.
    pub delay: Duration,
    last: Option<Evaluation>,
}

impl Watched {
    pub fn new(threshold: Threshold, abort_on_fail: bool, delay: Duration) -> Watched {
        Watched {
            threshold,
            abort_on_fail,
            delay,
            last: None,
        }
    }

    /// The last live evaluation (`None` before the first closed second).
    pub fn last(&self) -> Option<&Evaluation> {
        self.last.as_ref()
    }
}

/// The thresholds of a run, as the live loop sees them.
#[derive(Clone, Debug, Default)]
pub struct Watch {
    items: Vec<Watched>,
    aborted_by: Option<usize>,
}

impl Watch {
    pub fn new(items: Vec<Watched>) -> Watch {
        Watch {
            items,
            aborted_by: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether any threshold may stop the run, so it is worth judging every second.
    pub fn can_abort(&self) -> bool {
        self.items.iter().any(|w| w.abort_on_fail)
    }

    /// Judges every threshold on `s`. Returns the index of the threshold that stops the run,
    /// the first time one does (never again after that).
    pub fn observe(&mut self, s: &Snapshot) -> Option<usize> {
        for w in &mut self.items {
            w.last = Some(evaluate(&w.threshold, s, None));
        }
        if self.aborted_by.is_some() {
            return None;
        }
        let abort = self.items.iter().position(|w| {
            w.abort_on_fail
                && s.elapsed >= w.delay
                && w.last
                    .as_ref()
                    .is_some_and(|e| e.observed.is_some() && !e.passed)
        });
        self.aborted_by = abort;
        abort
    }

    /// The threshold that stopped the run, if one did.
    pub fn aborted_by(&self) -> Option<usize> {
        self.aborted_by
    }

    pub fn items(&self) -> &[Watched] {
        &self.items
    }

    /// Lines for the live view, one per threshold: `ok`, `FAILING` or `waiting`, the
    /// expression and the value seen. Empty without thresholds.
    pub fn status(&self, opts: &ViewOptions) -> String {
        let mut out = String::new();
        for w in &self.items {
            let (mark, detail) = match &w.last {
                None => (paint("waiting", Style::Plain, opts.color), String::new()),
                Some(e) if e.pending => (
                    paint("at end", Style::Plain, opts.color),
                    "  (judged from the histograms when the run ends)".to_owned(),
                ),
                Some(e) => {
                    let v = w.threshold.verdict(e, "", w.abort_on_fail);
                    let mark = match (e.observed, e.passed) {
                        (None, _) => paint("no data", Style::Plain, opts.color),
                        (Some(_), true) => paint("ok", Style::Plain, opts.color),
                        (Some(_), false) => paint("FAILING", Style::Red, opts.color),
                    };
                    (mark, format!("  {}", super::describe(&v)))
                }
            };
            let abort = if w.abort_on_fail {
                "  [abort_on_fail]"
            } else {
                ""
            };
            out.push_str(&format!(
                "  threshold {mark}: {}{detail}{abort}\n",
                truncate(w.threshold.text.trim(), 60)
            ));
        }
        out
    }
}
