//! Verdicts as people read them: the summary's threshold section, and the one-line account
//! of each verdict ("observed 250 ms, 50.0 ms over the limit (+25%)") that the summary,
//! JUnit and Markdown share, so every output explains a failure the same way.

use barrage_metrics::ThresholdVerdict;

use super::{Evaluation, Threshold};
use crate::format;
use crate::table::{paint, truncate, Style};
use crate::ViewOptions;

impl Threshold {
    /// The verdict as the result file keeps it.
    pub fn verdict(&self, e: &Evaluation, source: &str, abort_on_fail: bool) -> ThresholdVerdict {
        ThresholdVerdict {
            expr: self.text.trim().to_owned(),
            metric: self.metric.name().to_owned(),
            op: self.op.as_str().to_owned(),
            limit: self.limit,
            unit: self.metric.unit().as_str().to_owned(),
            observed: e.observed,
            passed: e.passed,
            source: source.to_owned(),
            abort_on_fail,
            aborted_run: false,
            note: e.note.clone(),
        }
    }
}

/// A value of a verdict's unit, as shown: `12.3 ms`, `1.50%`, `20.00 req/s`, `3`.
pub(crate) fn value(v: f64, unit: &str) -> String {
    match unit {
        // Below 10 µs, `ms` would show 0.00: keep the microseconds.
        "ms" if v != 0.0 && v.abs() < 0.01 => format!("{v:.3} ms"),
        "ms" => format!("{} ms", format::ms(v)),
        "ratio" => percent(v * 100.0),
        "req/s" => format!("{} req/s", format::rate(v)),
        "/s" => format!("{}/s", format::rate(v)),
        // Server CPU, in % of one core.
        "%" => format!("{v:.1}%"),
        "bytes" => format::bytes(v.max(0.0).round() as u64),
        _ => format!("{v}"),
    }
}

fn percent(p: f64) -> String {
    if p != 0.0 && p.abs() < 0.01 {
        format!("{p:.4}%")
    } else {
        format!("{p:.2}%")
    }
}

/// A difference of a verdict's unit: percentages differ by points.
fn difference(d: f64, unit: &str) -> String {
    match unit {
        "ratio" => format!("{:.2} points", d * 100.0),
        "%" => format!("{d:.1} points"),
        _ => value(d, unit),
    }
}

/// What was seen and by how much it passed or failed:
/// `observed 250 ms, 50.0 ms over the limit of 200 ms (+25.0%)`.
pub fn describe(v: &ThresholdVerdict) -> String {
    let Some(observed) = v.observed else {
        return format!(
            "no value: {}",
            v.note.as_deref().unwrap_or("nothing was measured")
        );
    };
    let unit = v.unit.as_str();
    let seen = format!("observed {}", value(observed, unit));
    let limit = value(v.limit, unit);
    let d = observed - v.limit;
    let relative = if v.limit != 0.0 && unit != "ratio" && unit != "%" {
        format!(" ({:+.1}%)", d / v.limit * 100.0)
    } else {
        String::new()
    };
    let how = if (v.passed && d == 0.0) || (!v.passed && v.op == "!=") {
        format!("exactly the limit of {limit}")
    } else if v.op == "==" || v.op == "!=" {
        format!("{} from the limit of {limit}", difference(d.abs(), unit))
    } else if d > 0.0 {
        format!(
            "{} over the limit of {limit}{relative}",
            difference(d, unit)
        )
    } else if d < 0.0 {
        format!(
            "{} under the limit of {limit}{relative}",
            difference(-d, unit)
        )
    } else {
        format!("exactly the limit of {limit}")
    };
    let mut out = format!("{seen}, {how}");
    if let Some(note) = &v.note {
        out.push_str(&format!("; {note}"));
    }
    if v.aborted_run {
        out.push_str("; stopped the run");
    }
    out
}

/// The summary's threshold section: one line per threshold, PASS or FAIL, what was seen and
/// by how much. Empty when there are no thresholds.
pub fn thresholds_section(verdicts: &[ThresholdVerdict], opts: &ViewOptions) -> String {
    if verdicts.is_empty() {
        return String::new();
    }
    let passed = verdicts.iter().filter(|v| v.passed).count();
    let mut out = paint(
        &format!("Thresholds ({passed} of {} passed)", verdicts.len()),
        Style::Bold,
        opts.color,
    );
    out.push('\n');
    let width = verdicts
        .iter()
        .map(|v| v.expr.chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    for v in verdicts {
        let mark = if v.passed {
            paint("PASS", Style::Plain, opts.color)
        } else {
            paint("FAIL", Style::Red, opts.color)
        };
        let expr = truncate(&v.expr, 60);
        let pad = width.saturating_sub(expr.chars().count());
        out.push_str(&format!(
            "  {mark}  {expr}{}  {}\n",
            " ".repeat(pad),
            describe(v)
        ));
    }
    out
}
