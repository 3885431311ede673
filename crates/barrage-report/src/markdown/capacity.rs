//! The summary's Capacity section, for a result of `barrage capacity`: the conclusion with
//! its bracket, the concurrency it implies, what failed first, and a row per step.
//!
//! Reasons and objectives come from the person's expressions and the server's figures, so
//! every one goes through [`cell`] or [`code`] like the rest of the summary.

use std::fmt::Write as _;

use barrage_metrics::capacity::{CapacityDoc, CapacityStatus, CapacityStep, StepPhase};

use super::{cell, code};
use crate::format;

/// How a search ended, in the words the HTML report uses too.
fn status_words(status: CapacityStatus) -> &'static str {
    match status {
        CapacityStatus::Found => "Capacity found",
        CapacityStatus::AtLeast => {
            "At least: the highest level asked for still passed, so the capacity is higher"
        }
        CapacityStatus::StartFails => "No capacity: the start level already failed",
        CapacityStatus::GeneratorLimit => {
            "No capacity: the generator, not the service, was the limit"
        }
        CapacityStatus::Interrupted => "Interrupted: the bracket found so far",
        CapacityStatus::Incomplete => {
            "Incomplete: the search's step or time limit came before a failing level"
        }
    }
}

fn phase(p: Option<StepPhase>) -> &'static str {
    match p {
        Some(StepPhase::Probe) => "probe",
        Some(StepPhase::Bisect) => "bisect",
        Some(StepPhase::Confirm) => "confirm",
        None => "-",
    }
}

fn level(v: Option<f64>, unit: &str, none: &str) -> String {
    v.map_or_else(
        || none.to_owned(),
        |v| format!("{} {unit}", format::rate(v)),
    )
}

/// The `### Capacity` section.
pub(super) fn section(cap: &CapacityDoc) -> String {
    let mut out = String::from("### Capacity\n\n");
    let unit = cap.settings.model.unit();
    let capacity = match cap.rps {
        Some(rps) => {
            let at_least = if cap.status == CapacityStatus::AtLeast {
                "at least "
            } else {
                ""
            };
            let iterations = cap.iterations_per_second.map_or(String::new(), |i| {
                format!(" ({} iterations/s)", format::rate(i))
            });
            format!("{at_least}{} req/s{iterations}", format::rate(rps))
        }
        None => "none".to_owned(),
    };
    let _ = writeln!(out, "**{}:** {capacity}\n", status_words(cap.status));
    if !cap.message.is_empty() {
        let _ = writeln!(out, "> {}\n", cell(&cap.message));
    }
    let mut facts = vec![format!(
        "bracket: {} passed, {} failed",
        level(cap.bracket.passed, unit, "none"),
        level(cap.bracket.failed, unit, "none")
    )];
    if let Some(users) = cap.users {
        facts.push(format!("{users:.0} users"));
    }
    if let Some(c) = cap.concurrency {
        facts.push(format!("{c:.1} requests in service (Little's law)"));
    }
    let run = match cap.steps_run {
        1 => "1 step run".to_owned(),
        n => format!("{n} steps run"),
    };
    facts.push(match cap.linear_ramp_steps {
        Some(ramp) => format!("{run} (a linear ramp of the same precision: {ramp})"),
        None => run,
    });
    let _ = writeln!(out, "{}\n", facts.join(" · "));
    if let Some(first) = &cap.first_failed {
        let _ = writeln!(out, "Failed first: {}\n", cell(first));
    }
    if !cap.settings.objectives.is_empty() {
        let objectives: Vec<String> = cap.settings.objectives.iter().map(|o| code(o)).collect();
        let _ = writeln!(out, "Objectives: {}\n", objectives.join(", "));
    }
    if let Some(usl) = &cap.usl {
        let peak = match (usl.peak_concurrency, usl.peak_rps) {
            (Some(n), Some(x)) => format!("peak {} req/s at {n:.1} in service", format::rate(x)),
            _ => "no peak".to_owned(),
        };
        let _ = writeln!(
            out,
            "Universal Scalability Law fit over {} steps: λ {:.3} req/s, σ {:.5}, κ {:.7}, r² {:.3}; {peak}.\n",
            usl.points, usl.lambda, usl.sigma, usl.kappa, usl.r_squared
        );
    }
    if cap.steps.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "Latency in ms over each step's judged seconds.\n\n\
         | # | Phase | Level ({unit}) | req/s | Errors | Dropped | p50 | p95 | p99 | Verdict | Why |\n\
         | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
    );
    for s in &cap.steps {
        out.push_str(&step_row(s));
    }
    out.push('\n');
    out
}

fn step_row(s: &CapacityStep) -> String {
    let verdict = match (s.passed, s.generator_limited, s.disturbed) {
        (true, _, _) => "✅ pass",
        (false, true, _) => "❌ generator limit",
        (false, false, true) => "🔁 disturbed, run again",
        (false, false, false) => "❌ fail",
    };
    let why: Vec<String> = s.reasons.iter().map(|r| cell(r)).collect();
    format!(
        "| {} | {} | {} | {} | {:.2}% | {} | {} | {} | {} | {verdict} | {} |\n",
        s.index,
        phase(s.phase),
        format::rate(s.level),
        format::rate(s.rps),
        s.error_rate * 100.0,
        s.dropped_iterations,
        format::ms(s.p50_ms),
        format::ms(s.p95_ms),
        format::ms(s.p99_ms),
        why.join("; "),
    )
}

#[cfg(test)]
mod tests {
    use barrage_metrics::capacity::{Bracket, SearchSettingsDoc, Slope, UslFit};

    use super::*;
    use crate::markdown::markdown;
    use crate::result_testdata::result;

    fn step(
        index: u32,
        phase: StepPhase,
        level: f64,
        p99_ms: f64,
        reasons: &[&str],
    ) -> CapacityStep {
        CapacityStep {
            index,
            phase: Some(phase),
            level,
            requests: (level * 3.0) as u64,
            rps: level * 0.999,
            iterations_per_second: level * 0.999,
            mean_ms: 10.2,
            p50_ms: 10.1,
            p95_ms: 10.4,
            p99_ms,
            concurrency: level * 0.999 * 0.0102,
            latency_slope: Some(Slope {
                slope: 0.01,
                low: -0.02,
                high: 0.04,
                points: 3,
            }),
            generator_cpu_percent: 12.0,
            schedule_lag_p99_ms: 0.2,
            passed: reasons.is_empty(),
            reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
            ..CapacityStep::default()
        }
    }

    /// A search for `p99 < 100ms` against a service of capacity 400/s: probes 100, 200,
    /// 400 pass and 800 fails, bisection at 600 fails, 400 is confirmed.
    fn found() -> CapacityDoc {
        CapacityDoc {
            status: CapacityStatus::Found,
            rps: Some(399.6),
            iterations_per_second: Some(399.6),
            bracket: Bracket {
                passed: Some(400.0),
                failed: Some(600.0),
            },
            concurrency: Some(4.08),
            first_failed: Some("p99 < 100ms: 2,310 ms".to_owned()),
            usl: Some(UslFit {
                lambda: 98.2,
                sigma: 0.0041,
                kappa: 0.00002,
                r_squared: 0.982,
                peak_concurrency: Some(222.7),
                peak_rps: Some(4210.0),
                points: 5,
            }),
            steps_run: 6,
            linear_ramp_steps: Some(26),
            message: "capacity 399.60 req/s (p99 < 100ms held up to 400 iterations/s)".to_owned(),
            settings: SearchSettingsDoc {
                objectives: vec!["p99 < 100ms".to_owned()],
                start: 100.0,
                max: 10_000.0,
                precision: 0.05,
                step_s: 3.0,
                warmup_s: 1.0,
                arrivals: "even".to_owned(),
                ..SearchSettingsDoc::default()
            },
            steps: vec![
                step(1, StepPhase::Probe, 100.0, 10.9, &[]),
                step(2, StepPhase::Probe, 200.0, 11.0, &[]),
                step(3, StepPhase::Probe, 400.0, 12.5, &[]),
                step(
                    4,
                    StepPhase::Probe,
                    800.0,
                    2310.0,
                    &[
                        "p99 < 100ms: 2,310 ms",
                        "dropped 412 iterations | *queue* <full>",
                    ],
                ),
                step(
                    5,
                    StepPhase::Bisect,
                    600.0,
                    1190.0,
                    &["p99 < 100ms: 1,190 ms"],
                ),
                step(6, StepPhase::Confirm, 400.0, 12.1, &[]),
            ],
            ..CapacityDoc::default()
        }
    }

    #[test]
    fn a_capacity_result_has_its_conclusion_bracket_and_a_row_per_step() {
        let mut doc = result();
        assert!(!markdown(&doc).contains("### Capacity"));
        doc.capacity = Some(found());
        let md = markdown(&doc);
        let at = md.find("### Capacity\n\n").expect("a Capacity section");
        assert!(
            at < md.find("### Endpoints").expect("endpoints"),
            "the conclusion comes first: {md}"
        );
        assert!(
            md.contains("**Capacity found:** 399.60 req/s (399.60 iterations/s)\n\n"),
            "{md}"
        );
        assert!(
            md.contains("> capacity 399.60 req/s (p99 \\< 100ms held up to 400 iterations/s)\n"),
            "{md}"
        );
        assert!(
            md.contains(
                "bracket: 400.00 iterations/s passed, 600.00 iterations/s failed · 4.1 requests \
                 in service (Little's law) · 6 steps run (a linear ramp of the same precision: 26)\n"
            ),
            "{md}"
        );
        assert!(
            md.contains("Failed first: p99 \\< 100ms: 2,310 ms\n"),
            "{md}"
        );
        assert!(md.contains("Objectives: `p99 < 100ms`\n"), "{md}");
        assert!(
            md.contains("λ 98.200 req/s, σ 0.00410, κ 0.0000200, r² 0.982; peak 4210.00 req/s at 222.7 in service."),
            "{md}"
        );
        assert!(
            md.contains("| # | Phase | Level (iterations/s) | req/s | Errors | Dropped | p50 | p95 | p99 | Verdict | Why |\n"),
            "{md}"
        );
        assert!(
            md.contains(
                "| 1 | probe | 100.00 | 99.90 | 0.00% | 0 | 10.1 | 10.4 | 10.9 | ✅ pass |  |\n"
            ),
            "{md}"
        );
        // A reason holding Markdown and table syntax is shown as written.
        assert!(
            md.contains(
                "| 4 | probe | 800.00 | 799.20 | 0.00% | 0 | 10.1 | 10.4 | 2310 | ❌ fail | p99 \\< 100ms: 2,310 ms; dropped 412 iterations \\| \\*queue\\* \\<full\\> |\n"
            ),
            "{md}"
        );
        assert!(md.contains("| 6 | confirm | 400.00 | 399.60 |"), "{md}");
        let rows = md
            .lines()
            .filter(|l| {
                l.starts_with("| ")
                    && [" | probe |", " | bisect |", " | confirm |"]
                        .iter()
                        .any(|p| l.contains(p))
            })
            .count();
        assert_eq!(rows, 6, "a row per step: {md}");
    }

    #[test]
    fn a_search_without_a_capacity_says_why_in_its_own_words() {
        let mut cap = found();
        cap.status = CapacityStatus::GeneratorLimit;
        cap.rps = None;
        cap.iterations_per_second = None;
        cap.concurrency = None;
        cap.usl = None;
        cap.linear_ramp_steps = None;
        cap.bracket = Bracket {
            passed: None,
            failed: Some(100.0),
        };
        cap.steps.truncate(1);
        cap.steps_run = 1;
        cap.steps[0].passed = false;
        cap.steps[0].generator_limited = true;
        cap.steps[0].reasons = vec!["schedule lag p99 4.20 ms, over 1 ms".to_owned()];
        let md = section(&cap);
        assert!(
            md.starts_with(
                "### Capacity\n\n**No capacity: the generator, not the service, was the limit:** none\n"
            ),
            "{md}"
        );
        assert!(
            md.contains("bracket: none passed, 100.00 iterations/s failed · 1 step run\n"),
            "{md}"
        );
        assert!(
            md.contains("| ❌ generator limit | schedule lag p99 4.20 ms, over 1 ms |"),
            "{md}"
        );
        assert!(!md.contains("Universal Scalability Law"), "{md}");

        cap.status = CapacityStatus::AtLeast;
        cap.rps = Some(9990.0);
        assert!(
            section(&cap).contains("**At least: the highest level asked for still passed, so the capacity is higher:** at least 9990.00 req/s\n"),
            "{}",
            section(&cap)
        );
    }
}
