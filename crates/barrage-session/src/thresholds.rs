//! A run's thresholds, from the words the user wrote to the exit code: collected from the
//! scenario file and `--threshold` flags, parsed with diagnostics located in the file (or in
//! the flag), checked against the endpoints the run can have, watched live, and judged at
//! the end into the result's `thresholds`. The language itself lives in
//! `barrage_report::threshold`; this module only wires it to files, flags and the run.
//!
//! Must not judge anything itself: evaluation is `barrage_report::threshold::evaluate`, and
//! the pass/fail rule for a whole run is `barrage_report::gate`. Must not print: what is
//! wrong with a threshold comes back as diagnostics, which the front end renders.

use std::time::Duration;

use barrage_metrics::{Registry, ResultDoc, ThresholdVerdict};
use barrage_report::threshold::{self, ParseError, Threshold, Watch, Watched};
use barrage_scenario::{Diagnostic, SourceFile, Span};

/// Where a threshold came from, as the result file records it.
pub const FROM_SCENARIO: &str = "scenario";
pub const FROM_COMMAND_LINE: &str = "command line";

/// One threshold of a run.
#[derive(Clone, Debug)]
pub struct Item {
    pub threshold: Threshold,
    pub source: &'static str,
    pub abort_on_fail: bool,
    pub delay: Duration,
}

/// The endpoints and checks a run can have, which label matchers must be able to select.
pub struct Known<'a> {
    /// (scenario, method, name)
    pub endpoints: Vec<(&'a str, &'a str, &'a str)>,
    /// (scenario, method, name, check)
    pub checks: Vec<(&'a str, &'a str, &'a str, &'a str)>,
}

impl Known<'_> {
    pub fn of_registry(r: &Registry) -> Known<'_> {
        Known {
            endpoints: r
                .endpoints
                .iter()
                .map(|e| (e.scenario.as_str(), e.method.as_str(), e.name.as_str()))
                .collect(),
            checks: r
                .checks
                .iter()
                .filter_map(|c| {
                    let e = r.endpoints.get(c.endpoint.index())?;
                    Some((
                        e.scenario.as_str(),
                        e.method.as_str(),
                        e.name.as_str(),
                        c.name.as_str(),
                    ))
                })
                .collect(),
        }
    }

    pub fn of_result(doc: &ResultDoc) -> Known<'_> {
        Known {
            endpoints: doc
                .endpoints
                .iter()
                .map(|e| (e.scenario.as_str(), e.method.as_str(), e.name.as_str()))
                .collect(),
            checks: doc
                .checks
                .iter()
                .map(|c| {
                    (
                        c.scenario.as_str(),
                        c.method.as_str(),
                        c.name.as_str(),
                        c.check.as_str(),
                    )
                })
                .collect(),
        }
    }
}

/// What [`collect`] found: the thresholds, and what is wrong with them (or worth a
/// warning), each list of diagnostics with the text it points into (the scenario file, or a
/// `--threshold` flag as a one-line source of its own).
pub struct Collected {
    pub items: Vec<Item>,
    pub reports: Vec<(SourceFile, Vec<Diagnostic>)>,
}

impl Collected {
    /// Whether any diagnostic is an error (the run must not start).
    pub fn failed(&self) -> bool {
        self.reports
            .iter()
            .any(|(_, d)| d.iter().any(Diagnostic::is_error))
    }
}

/// Parses the scenario's thresholds (diagnostics point into `file`) and the `--threshold`
/// flags (diagnostics point into the flag), and checks that their matchers can select
/// something.
pub fn collect(
    file: Option<&SourceFile>,
    from_file: &[barrage_scenario::Threshold],
    from_flags: &[String],
    known: &Known,
) -> Collected {
    let mut items = Vec::new();
    let mut reports = Vec::new();
    let mut report = |src: &SourceFile, diags: Vec<Diagnostic>| {
        if !diags.is_empty() {
            reports.push((src.clone(), diags));
        }
    };
    if let Some(file) = file {
        let mut diags = Vec::new();
        for t in from_file {
            let base = expr_offset(file, t.expr.span, &t.expr.value);
            let locate = |r: std::ops::Range<usize>| match base {
                Some(b) => Span::new(b + r.start, b + r.end),
                None => t.expr.span,
            };
            match threshold::parse(&t.expr.value) {
                Ok(parsed) => {
                    let abort_on_fail = t.abort_on_fail.is_some_and(|a| a.value);
                    diags.extend(check(&parsed, known, abort_on_fail, locate));
                    items.push(Item {
                        threshold: parsed,
                        source: FROM_SCENARIO,
                        abort_on_fail,
                        delay: t.delay.map_or(Duration::ZERO, |d| d.value),
                    });
                }
                Err(e) => diags.push(diagnostic(&e, locate)),
            }
        }
        report(file, diags);
    }
    for flag in from_flags {
        let src = SourceFile {
            name: "--threshold".to_owned(),
            text: flag.clone(),
        };
        let locate = |r: std::ops::Range<usize>| Span::new(r.start, r.end);
        let diags = match threshold::parse(flag) {
            Ok(parsed) => {
                let diags = check(&parsed, known, false, locate);
                items.push(Item {
                    threshold: parsed,
                    source: FROM_COMMAND_LINE,
                    abort_on_fail: false,
                    delay: Duration::ZERO,
                });
                diags
            }
            Err(e) => vec![diagnostic(&e, locate)],
        };
        report(&src, diags);
    }
    Collected { items, reports }
}

/// Where the expression's first byte is in the file: the scalar itself, or one past its
/// opening quote. `None` when the written form differs from the value (escapes, folding),
/// and then diagnostics point at the whole scalar.
fn expr_offset(file: &SourceFile, span: Span, value: &str) -> Option<usize> {
    let written = file.text.get(span.start..span.end)?;
    if written == value {
        return Some(span.start);
    }
    let inner = written.get(1..written.len().checked_sub(1)?)?;
    (inner == value && matches!(written.as_bytes()[0], b'"' | b'\'')).then_some(span.start + 1)
}

fn diagnostic(e: &ParseError, locate: impl Fn(std::ops::Range<usize>) -> Span) -> Diagnostic {
    let d = Diagnostic::error(locate(e.span.clone()), format!("threshold: {}", e.message));
    match &e.help {
        Some(help) => d.with_help(help.clone()),
        None => d,
    }
}

/// Static checks of a parsed threshold against what the run can measure.
fn check(
    t: &Threshold,
    known: &Known,
    abort_on_fail: bool,
    locate: impl Fn(std::ops::Range<usize>) -> Span,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let whole = locate(0..t.text.trim_end().len());
    if !t.matchers.is_empty() {
        let (any, names): (bool, Vec<&str>) = if t.metric == threshold::Metric::Checks {
            (
                known
                    .checks
                    .iter()
                    .any(|&(s, m, n, c)| t.selects(s, m, n, Some(c))),
                known.checks.iter().map(|c| c.2).collect(),
            )
        } else {
            (
                known
                    .endpoints
                    .iter()
                    .any(|&(s, m, n)| t.selects(s, m, n, None)),
                known.endpoints.iter().map(|e| e.2).collect(),
            )
        };
        if !any {
            let wanted = t
                .matchers
                .iter()
                .find(|m| m.label == threshold::Label::Name)
                .map(|m| m.value.as_str());
            let help = match wanted.and_then(|w| nearest(w, &names)) {
                Some(close) => format!("did you mean name=\"{close}\"?"),
                None => {
                    let mut unique: Vec<&str> = names.clone();
                    unique.dedup();
                    format!("names here: {}", unique.join(", "))
                }
            };
            diags.push(
                Diagnostic::error(
                    whole,
                    format!(
                        "threshold: no {} matches these labels",
                        if t.metric == threshold::Metric::Checks {
                            "check"
                        } else {
                            "endpoint"
                        }
                    ),
                )
                .with_help(help),
            );
        }
    }
    if abort_on_fail && t.needs_histograms() {
        let several = known
            .endpoints
            .iter()
            .filter(|&&(s, m, n)| t.selects(s, m, n, None))
            .count();
        if several > 1 {
            diags.push(
                Diagnostic::warning(
                    whole,
                    format!("threshold: `abort_on_fail` cannot act on a percentile over {several} endpoints"),
                )
                .with_help(
                    "such a percentile needs the endpoints' histograms merged, which happens when the run ends; narrow the labels to one endpoint to abort on it",
                ),
            );
        }
    }
    diags
}

fn nearest<'a>(wanted: &str, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .map(|&n| (n, strsim::jaro_winkler(wanted, n)))
        .filter(|&(_, s)| s >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(n, _)| n)
}

/// The thresholds saved results were judged by, to judge a merged run again: each
/// distinct `expr` once (the first verdict found wins its `source` and `abort_on_fail`),
/// in the order found. An expression this barrage cannot parse (a newer writer's) is an
/// error naming it.
pub fn of_verdicts<'a>(
    verdicts: impl IntoIterator<Item = &'a ThresholdVerdict>,
) -> Result<Vec<Item>, String> {
    let mut items: Vec<Item> = Vec::new();
    for v in verdicts {
        if items.iter().any(|i| i.threshold.text == v.expr) {
            continue;
        }
        let threshold = threshold::parse(&v.expr)
            .map_err(|e| format!("threshold `{}`: {}", v.expr, e.message))?;
        items.push(Item {
            threshold,
            source: if v.source == FROM_SCENARIO {
                FROM_SCENARIO
            } else {
                FROM_COMMAND_LINE
            },
            abort_on_fail: v.abort_on_fail,
            delay: Duration::ZERO,
        });
    }
    Ok(items)
}

/// The live view of the thresholds (and the abort decision).
pub fn watch(items: &[Item]) -> Watch {
    Watch::new(
        items
            .iter()
            .map(|i| Watched::new(i.threshold.clone(), i.abort_on_fail, i.delay))
            .collect(),
    )
}

/// Judges every threshold against the result (its snapshot and its histograms) and stores
/// the verdicts in it. `aborted_by` marks the threshold that stopped the run.
pub fn judge(items: &[Item], doc: &mut ResultDoc, aborted_by: Option<usize>) {
    let snapshot = doc.snapshot();
    doc.thresholds = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let e = threshold::evaluate(&item.threshold, &snapshot, Some(&doc.histograms));
            let mut v = item.threshold.verdict(&e, item.source, item.abort_on_fail);
            v.aborted_run = aborted_by == Some(i);
            v
        })
        .collect();
}
