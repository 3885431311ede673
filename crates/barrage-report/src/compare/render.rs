//! The comparison as people and programs read it: a terminal table, Markdown (for a CI job
//! summary or a pull-request comment), and JSON.
//!
//! One row per endpoint and metric, so each figure has room for its base, new value, change,
//! noise interval and verdict; the gates follow, then one result line. The Markdown is
//! self-contained (it is often pasted alone). This module only formats what [`super::compare`]
//! decided.

use std::fmt::Write as _;

use super::{
    has_several_scenarios, ChangeVerdict, Comparison, EndpointComparison, GateOutcome,
    MetricChange, Presence, RunInfo, Unit, Verdict,
};
use crate::format;
use crate::table::{paint, truncate, Cell, Column, Style, Table};
use crate::ViewOptions;

/// The comparison as JSON (pretty-printed, ending with a newline).
pub fn comparison_json(c: &Comparison) -> String {
    let mut s = serde_json::to_string_pretty(c)
        .expect("a Comparison has only string keys and plain numbers, so it serializes");
    s.push('\n');
    s
}

/// The comparison as a terminal report: header, table, gates, result line.
pub fn comparison_text(c: &Comparison, view: &ViewOptions) -> String {
    let color = view.color;
    let mut out = String::new();
    let _ = writeln!(out, "Comparing NEW with BASE:");
    for (which, run) in [("BASE", &c.base), ("NEW ", &c.new)] {
        let _ = writeln!(out, "  {which}  {}", run_line(run));
    }
    for note in &c.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    out.push('\n');

    let with_scenario = has_several_scenarios(&c.endpoints);
    let mut cols = Vec::new();
    if with_scenario {
        cols.push(Column::left("Scenario"));
    }
    cols.extend([
        Column::left("Type"),
        Column::left("Name"),
        Column::left("Metric").group(),
        Column::right("Base"),
        Column::right("New"),
        Column::right("Change").group(),
        Column::right("95% interval"),
        Column::left("Verdict").group(),
    ]);
    let mut table = Table::new(cols);
    let compared: Vec<&EndpointComparison> = c
        .endpoints
        .iter()
        .filter(|e| e.presence == Presence::Both)
        .collect();
    for (i, e) in compared.iter().enumerate() {
        if i > 0 {
            table.rule();
        }
        endpoint_rows(&mut table, e, with_scenario, Style::Plain);
    }
    if !compared.is_empty() {
        table.rule();
    }
    endpoint_rows(&mut table, &c.aggregate, with_scenario, Style::Bold);
    out.push_str(&table.render(color));

    for (presence, title) in [
        (Presence::Added, "Only in NEW (added)"),
        (Presence::Removed, "Only in BASE (removed)"),
    ] {
        let list: Vec<String> = c
            .endpoints
            .iter()
            .filter(|e| e.presence == presence)
            .map(|e| {
                format!(
                    "{} ({} requests)",
                    e.display_name(with_scenario),
                    e.requests[0] + e.requests[1]
                )
            })
            .collect();
        if !list.is_empty() {
            let _ = writeln!(out, "{title}: {}", list.join(", "));
        }
    }

    if !c.gates.is_empty() {
        let _ = writeln!(
            out,
            "\nGates (a gate fails only when the change is beyond it and beyond the noise):"
        );
        let mut gates = Table::new(vec![
            Column::left("Result"),
            Column::left("Gate"),
            Column::left("Endpoint"),
            Column::left("Detail"),
        ]);
        for g in &c.gates {
            let (text, style) = match g.outcome {
                GateOutcome::Pass => ("pass", Style::Green),
                GateOutcome::Fail => ("FAIL", Style::Red),
                GateOutcome::NotEnoughData => ("?", Style::Bold),
            };
            gates.row(vec![
                Cell::styled(text, style),
                Cell::new(&g.gate),
                Cell::new(truncate(&g.endpoint, 60)),
                Cell::new(&g.detail),
            ]);
        }
        out.push_str(&gates.render(color));
    }
    let _ = writeln!(out, "\n{}", paint(&result_line(c), result_style(c), color));
    out
}

/// The comparison as Markdown.
pub fn comparison_markdown(c: &Comparison) -> String {
    let mut out = String::new();
    let icon = match c.verdict {
        Verdict::Passed => "✅",
        Verdict::Failed => "❌",
        Verdict::NotEnoughData => "⚠️",
    };
    let _ = writeln!(out, "### {icon} barrage compare\n");
    let _ = writeln!(out, "{}\n", md_escape(&result_line(c)));
    let _ = writeln!(out, "- **Base**: {}", md_escape(&run_line(&c.base)));
    let _ = writeln!(out, "- **New**: {}", md_escape(&run_line(&c.new)));
    for note in &c.notes {
        let _ = writeln!(out, "- Note: {}", md_escape(note));
    }
    out.push('\n');

    if !c.gates.is_empty() {
        let _ = writeln!(out, "| Gate | Endpoint | Result | Detail |");
        let _ = writeln!(out, "| --- | --- | --- | --- |");
        for g in &c.gates {
            let result = match g.outcome {
                GateOutcome::Pass => "✅ pass",
                GateOutcome::Fail => "❌ **fail**",
                GateOutcome::NotEnoughData => "⚠️ not enough data",
            };
            // The result column already says "not enough data".
            let detail = g
                .detail
                .strip_prefix("not enough data: ")
                .unwrap_or(&g.detail);
            let _ = writeln!(
                out,
                "| {} | {} | {result} | {} |",
                md_code(&g.gate),
                md_code(&g.endpoint),
                md_escape(detail)
            );
        }
        out.push('\n');
    }

    let with_scenario = has_several_scenarios(&c.endpoints);
    let _ = writeln!(
        out,
        "| Endpoint | Metric | Base | New | Change | 95% interval | Verdict |"
    );
    let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: | ---: | --- |");
    for e in c
        .endpoints
        .iter()
        .filter(|e| e.presence == Presence::Both)
        .chain([&c.aggregate])
    {
        for (i, m) in e.metrics.iter().enumerate() {
            let name = if i == 0 {
                md_code(&e.display_name(with_scenario))
            } else {
                String::new()
            };
            let verdict = match m.verdict {
                ChangeVerdict::Worse => "🔴 worse",
                ChangeVerdict::Better => "🟢 better",
                ChangeVerdict::Same => "same",
                ChangeVerdict::NotEnoughData => "not enough data",
            };
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {} | {verdict} |",
                m.metric.label(),
                value(m, m.base),
                value(m, m.new),
                md_escape(&change(m)),
                interval(m)
            );
        }
    }
    for (presence, title) in [
        (Presence::Added, "Only in new"),
        (Presence::Removed, "Only in base"),
    ] {
        let list: Vec<String> = c
            .endpoints
            .iter()
            .filter(|e| e.presence == presence)
            .map(|e| md_code(&e.display_name(with_scenario)))
            .collect();
        if !list.is_empty() {
            let _ = writeln!(out, "\n{title}: {}", list.join(", "));
        }
    }
    out
}

/// `p95 21.0 -> 71.2 ms (+50.2 ms, +239%), 95% interval of the change +49.9 .. +50.4 ms`.
pub(crate) fn change_sentence(m: &MetricChange) -> String {
    let unit = unit_of(m);
    let after = match unit {
        Unit::Ms => " ms",
        Unit::Percent => "",
        Unit::PerSecond => " req/s",
    };
    let mut s = format!(
        "{} {} -> {}{after} ({})",
        m.metric.as_str(),
        value(m, m.base),
        value(m, m.new),
        change(m)
    );
    match m.interval {
        Some([lo, hi]) => {
            let _ = write!(
                s,
                ", 95% interval of the change {} .. {}{}",
                signed(unit, lo),
                signed(unit, hi),
                unit.change_suffix()
            );
        }
        None => s.push_str(", no noise interval (max is one request)"),
    }
    s
}

fn endpoint_rows(table: &mut Table, e: &EndpointComparison, with_scenario: bool, style: Style) {
    for (i, m) in e.metrics.iter().enumerate() {
        let mut cells = Vec::new();
        if with_scenario {
            cells.push(Cell::new(if i == 0 { e.scenario.as_str() } else { "" }));
        }
        if i == 0 {
            cells.push(Cell::new(&e.method));
            cells.push(Cell::new(truncate(&e.name, crate::naming::NAME_WIDTH)));
        } else {
            cells.push(Cell::new(""));
            cells.push(Cell::new(""));
        }
        let (verdict, vstyle) = match m.verdict {
            ChangeVerdict::Worse => ("worse", Style::Red),
            ChangeVerdict::Better => ("better", Style::Green),
            ChangeVerdict::Same => ("same", Style::Plain),
            ChangeVerdict::NotEnoughData => ("not enough data", Style::Plain),
        };
        cells.extend([
            Cell::new(m.metric.label()),
            Cell::new(value(m, m.base)),
            Cell::new(value(m, m.new)),
            Cell::new(change(m)),
            Cell::new(interval(m)),
            Cell::styled(verdict, vstyle),
        ]);
        table.row_styled(cells, style);
    }
}

fn run_line(r: &RunInfo) -> String {
    let mut s = format!(
        "{}: started {}, {}, {} requests",
        r.file,
        if r.started_at.is_empty() {
            "?"
        } else {
            &r.started_at
        },
        format::duration(std::time::Duration::from_secs_f64(r.duration_s.max(0.0))),
        r.requests
    );
    if !r.target.is_empty() {
        let _ = write!(s, ", {}", r.target);
    }
    s
}

fn result_line(c: &Comparison) -> String {
    let total = c.gates.len();
    let count = |o: GateOutcome| c.gates.iter().filter(|g| g.outcome == o).count();
    match c.verdict {
        Verdict::Failed => format!(
            "Result: FAILED ({} of {total} gate checks failed)",
            count(GateOutcome::Fail)
        ),
        Verdict::NotEnoughData => format!(
            "Result: NOT ENOUGH DATA ({} of {total} gate checks could not be judged; none failed)",
            count(GateOutcome::NotEnoughData)
        ),
        Verdict::Passed if total == 0 => {
            "Result: no gates given (add e.g. --fail-if 'p95>+10%' to judge)".to_owned()
        }
        Verdict::Passed => format!("Result: PASSED ({total} gate checks)"),
    }
}

fn result_style(c: &Comparison) -> Style {
    match c.verdict {
        Verdict::Failed => Style::Red,
        Verdict::NotEnoughData => Style::Bold,
        Verdict::Passed => Style::Green,
    }
}

fn unit_of(m: &MetricChange) -> Unit {
    m.metric.unit()
}

/// A value in its unit, without the unit for milliseconds and requests/s (the row says it).
fn value(m: &MetricChange, v: f64) -> String {
    match unit_of(m) {
        Unit::Ms => format::ms(v),
        Unit::Percent => format!("{v:.2}%"),
        Unit::PerSecond => format::rate(v),
    }
}

/// A signed number in the unit's precision, `0` for no change.
fn signed(unit: Unit, v: f64) -> String {
    if v == 0.0 {
        return "0".to_owned();
    }
    let sign = if v > 0.0 { '+' } else { '-' };
    let magnitude = match unit {
        Unit::Ms => format::ms(v.abs()),
        Unit::Percent | Unit::PerSecond => format!("{:.2}", v.abs()),
    };
    format!("{sign}{magnitude}")
}

/// `+50.2 ms (+239%)`, `+1.20 pp`, `-9.80/s (-48.8%)`.
fn change(m: &MetricChange) -> String {
    let unit = unit_of(m);
    if m.change == 0.0 {
        return "0".to_owned();
    }
    let mut s = format!("{}{}", signed(unit, m.change), unit.change_suffix());
    if unit != Unit::Percent {
        if let Some(r) = m.relative {
            let pct = r * 100.0;
            if pct.abs() < 10.0 {
                let _ = write!(s, " ({pct:+.1}%)");
            } else {
                let _ = write!(s, " ({pct:+.0}%)");
            }
        }
    }
    s
}

fn interval(m: &MetricChange) -> String {
    match m.interval {
        Some([lo, hi]) => {
            let unit = unit_of(m);
            format!("{} .. {}", signed(unit, lo), signed(unit, hi))
        }
        None => "-".to_owned(),
    }
}

/// Text safe in a Markdown table cell.
fn md_escape(s: &str) -> String {
    crate::table::sanitize(s)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('*', "\\*")
        .replace('_', "\\_")
        .replace('`', "\\`")
        .replace('<', "&lt;")
}

/// Text as inline code in a Markdown table cell (endpoint names hold `{}`, `[]`, `*`).
fn md_code(s: &str) -> String {
    let s = crate::table::sanitize(s).replace('|', "\\|");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}
