//! The metric vocabulary: the words thresholds (`p95{name="/a"} < 200ms`) and compare gates
//! (`--fail-if 'p95{name="/a"}>+10%'`) are written in, each read by one piece of code.
//!
//! A *metric* ([`Metric`]) is one figure a run measures over a set of endpoints: a statistic
//! of a latency (response time, from the intended start; or service time, from the request
//! written), the error rate, the throughput, the share of passed checks, or a count. Label
//! matchers ([`Matcher`]) choose the set; without them it is every endpoint together.
//!
//! Why one vocabulary: users write the same words in both places and expect them to mean
//! the same thing. When thresholds and gates each kept their own metric enum, alias list,
//! unit reader and matcher parser, a name or escape accepted by one could be refused by the
//! other, and a fix had to be made twice. So the words live here, once:
//!
//! - [`Metric::named`] reads a written name through the one alias table (`p999` and `p99.9`,
//!   `median`, `avg`, any case); [`Metric::name`] gives the canonical name back.
//! - `quantity` reads a number and its unit (`200ms`, `+10%`, `12.5/s`); what the unit
//!   means is the caller's rule, since a threshold's `1%` is a value and a gate's `+1%` a
//!   change (relative for latencies and rps, percentage points for error_rate).
//! - `matcher::block` reads a `{label="value", ...}` block, and [`selects`] is the one
//!   rule for which endpoints a list of matchers selects.
//!
//! Server figures (`server_cpu`, `probe_max_stall`, ...: [`Figure`]) are metrics too, with a
//! statistic over the run's samples (`avg(server_cpu)`; the maximum when none is named).
//! They are the server's, not an endpoint's, so matchers on them are refused here.
//!
//! Compare gates take a subset: response-time p50 p75 p90 p95 p99 p99.9 mean max,
//! error_rate and rps, the figures [`crate::compare`] knows how to size the noise of from
//! two result files. [`crate::compare::Metric`] can only hold those; the gate parser reads
//! any name here and refuses the others with the list of what it takes.
//!
//! This module reads text and says which endpoints matchers select, nothing else: no
//! evaluation (that is [`crate::threshold::evaluate`] and [`crate::compare::compare`]), no
//! printing. Its errors
//! are [`ParseError`]s that locate the bytes they are about, so the scenario file's
//! diagnostics can underline them.

mod cursor;
mod figure;
mod matcher;
mod metric;
mod quantity;
mod unit;

#[cfg(test)]
mod tests;

use std::ops::Range;

pub(crate) use cursor::Cursor;
pub use figure::{Figure, FigureStat, FIGURE_NAMES};
pub(crate) use matcher::block as matcher_block;
pub use matcher::{selects, Label, MatchOp, Matcher};
pub(crate) use metric::metric_word;
pub use metric::{Metric, Stat, Timing, Unit, METRIC_NAMES};
pub(crate) use quantity::quantity;
pub use quantity::{time_to_ms, NotANumber, Quantity};

/// Why an expression could not be read, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", .help.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
pub struct ParseError {
    /// Byte range in the expression (empty at the end when something is missing).
    pub span: Range<usize>,
    pub message: String,
    /// How to fix it, when there is something to suggest.
    pub help: Option<String>,
}

impl ParseError {
    pub(crate) fn new(span: Range<usize>, message: impl Into<String>) -> ParseError {
        ParseError {
            span,
            message: message.into(),
            help: None,
        }
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> ParseError {
        self.help = Some(help.into());
        self
    }
}

/// Words longer than this get no suggestion (see [`closest`]).
const MAX_SUGGESTED_LEN: usize = 64;

/// The allowed word closest to `word`, when it is close enough to be a likely slip.
pub(crate) fn closest(word: &str, allowed: &[&'static str]) -> Option<&'static str> {
    // Edit distance costs time and memory in the product of the two lengths (strsim's
    // Damerau-Levenshtein keeps the whole table): a 10 MB word took 18 s and about 1 GB per
    // candidate. A word this much longer than every allowed one is no slip of a finger.
    if word.len() > MAX_SUGGESTED_LEN {
        return None;
    }
    allowed
        .iter()
        .map(|&w| {
            (
                w,
                strsim::damerau_levenshtein(word, w),
                strsim::jaro_winkler(word, w),
            )
        })
        .filter(|&(w, edits, similar)| edits <= (w.len() / 3).max(1) || similar >= 0.9)
        .min_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)))
        .map(|(w, _, _)| w)
}
