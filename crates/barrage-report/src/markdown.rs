//! `--summary-md PATH`: a Markdown summary for a CI job summary (`$GITHUB_STEP_SUMMARY`) or
//! a pull-request comment: the verdict, a capacity search's result (its own module, when the
//! result is `barrage capacity`'s), thresholds, a per-endpoint table, failures and, when the
//! server was monitored, a line per source, the top statements and the hints.
//!
//! GitHub-flavoured Markdown: names go in code spans (so `[item_name]` or `*` in a path is
//! not read as a link or emphasis) with `|` escaped (it would end a table cell even there).
//! A comparison with a baseline, when there is one, is appended by its own module.

mod capacity;

use std::fmt::Write as _;

use barrage_metrics::{EndpointStats, ResultDoc};

use crate::format;
use crate::gate::gate;
use crate::threshold::describe;

/// Renders the Markdown summary of a result; its verdicts are `doc.thresholds`.
pub fn markdown(doc: &ResultDoc) -> String {
    let mut out = String::new();
    let g = gate(doc);
    let _ = writeln!(
        out,
        "## barrage: {} ({})\n",
        if g.passed { "✅ passed" } else { "❌ failed" },
        g.reason
    );
    let agg = &doc.aggregate;
    let mut facts = Vec::new();
    if let Some(file) = &doc.run.scenario_file {
        facts.push(code(file));
    }
    if !doc.run.target.is_empty() {
        facts.push(format!("against {}", code(&doc.run.target)));
    }
    if let Some(users) = doc.run.load.users {
        facts.push(format!("{users} users"));
    }
    facts.push(format!("{:.1} s", doc.run.duration_s));
    facts.push(format!(
        "{} requests, {} failed, {} req/s",
        agg.requests,
        format::percent(agg.failures, agg.requests),
        format::rate(agg.rps)
    ));
    if doc.run.interrupted {
        facts.push("interrupted".to_owned());
    }
    let _ = writeln!(out, "{}\n", facts.join(" · "));

    if let Some(cap) = &doc.capacity {
        out.push_str(&capacity::section(cap));
    }

    if !doc.thresholds.is_empty() {
        out.push_str("### Thresholds\n\n| | Threshold | Result |\n| --- | --- | --- |\n");
        for v in &doc.thresholds {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                if v.passed { "✅" } else { "❌" },
                code(&v.expr),
                cell(&describe(v))
            );
        }
        out.push('\n');
    }

    out.push_str(
        "### Endpoints\n\nResponse time in ms, from the intended start to the last byte, of successful requests.\n\n\
         | Type | Name | Requests | Failures | req/s | p50 | p95 | p99 | max |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for e in doc.endpoints.iter().filter(|e| e.requests > 0) {
        out.push_str(&endpoint_row(&e.method, &code(&e.name), e));
    }
    out.push_str(&endpoint_row("", "**Aggregated**", agg));
    out.push('\n');
    out.push_str(&crate::streams::markdown_section(&doc.endpoints, code));
    out.push_str(&crate::messages::markdown(&doc.endpoints, code));

    if !doc.failures.is_empty() {
        out.push_str(
            "### Failures\n\n| Type | Name | Category | Count | Sample message |\n\
             | --- | --- | --- | ---: | --- |\n",
        );
        let mut failures: Vec<_> = doc.failures.iter().collect();
        failures.sort_by_key(|f| std::cmp::Reverse(f.count));
        for f in failures {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                f.method,
                code(&f.name),
                f.category,
                f.count,
                cell(&f.sample)
            );
        }
        out.push('\n');
    }

    if let Some(server) = &doc.server {
        out.push_str("### Server\n\n| Source | Over the run |\n| --- | --- |\n");
        for s in crate::server::source_summaries(server) {
            let text = if s.lost {
                format!("❌ {}", cell(&s.text))
            } else {
                cell(&s.text)
            };
            let _ = writeln!(out, "| {} | {text} |", code(s.name));
        }
        out.push('\n');
        let statements = crate::server::top_statements(server, 3);
        if !statements.is_empty() {
            out.push_str("Statements that added the most time:\n\n");
            for st in statements {
                let _ = writeln!(
                    out,
                    "- {} in {} calls: {}",
                    crate::server::value(st.total_ms, "ms"),
                    st.calls,
                    code(&st.query)
                );
            }
            out.push('\n');
        }
        for hint in &server.hints {
            let _ = writeln!(out, "> **Hint:** {}\n", cell(hint));
        }
    }

    let failing_checks: Vec<_> = doc.checks.iter().filter(|c| c.fails > 0).collect();
    if !failing_checks.is_empty() {
        out.push_str(
            "### Failed checks\n\n| Type | Name | Check | Failed | Passed |\n\
             | --- | --- | --- | ---: | ---: |\n",
        );
        for c in failing_checks {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                c.method,
                code(&c.name),
                code(&c.check),
                c.fails,
                c.passes
            );
        }
        out.push('\n');
    }
    out
}

fn endpoint_row(method: &str, name: &str, e: &EndpointStats) -> String {
    let rt = &e.response_time;
    format!(
        "| {method} | {name} | {} | {} | {} | {} | {} | {} | {} |\n",
        e.requests,
        format::count_with_percent(e.failures, e.requests),
        format::rate(e.rps),
        format::latency(rt, |l| l.p50),
        format::latency(rt, |l| l.p95),
        format::latency(rt, |l| l.p99),
        format::latency(rt, |l| l.max),
    )
}

/// Text in a code span, safe inside a table cell.
fn code(s: &str) -> String {
    let s = s.replace('|', "\\|").replace('\n', " ");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// Plain text safe inside a table cell, and shown as written: it may come from a server
/// (a failure's sample, a scraped route like `/items/<id>`, an error message), so what
/// Markdown or HTML would read (emphasis, links, tags, code) is escaped, and line breaks
/// and control characters become spaces.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '|' | '*' | '_' | '[' | ']' | '<' | '>' | '`' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result_testdata::result;

    #[test]
    fn has_the_verdict_endpoints_failures_and_escaped_names() {
        let mut doc = result();
        doc.endpoints[0].name = "/a|b/[id]".to_owned();
        let md = markdown(&doc);
        assert!(
            md.starts_with("## barrage: ❌ failed (3 of 1300 requests failed)\n"),
            "{md}"
        );
        assert!(md.contains("`shop.yaml` · against `http://127.0.0.1:8000` · 120 users · 65.0 s · 1300 requests, 0.23% failed, 20.00 req/s"), "{md}");
        assert!(
            md.contains("| GET | `/a\\|b/[id]` | 1200 | 3 (0.25%) |"),
            "{md}"
        );
        assert!(md.contains("|  | **Aggregated** | 1300 |"), "{md}");
        assert!(md.contains("### Failures"));
        assert!(
            md.contains("| POST | `/items/` | `status` | 3 | 97 |"),
            "{md}"
        );
        assert!(!md.contains("### Thresholds"));
    }

    #[test]
    fn the_server_block_has_a_row_per_source_and_the_hints() {
        let mut doc = result();
        assert!(!markdown(&doc).contains("### Server"));
        doc.server = Some(crate::server_testdata::section());
        let md = markdown(&doc);
        assert!(md.contains("### Server\n\n| Source | Over the run |\n| --- | --- |\n| `processes (port 8000)` | CPU max 150%, mean 100%; RSS max 200.0 MiB; threads max 9; pids 4242 4243 |\n"), "{md}");
        assert!(
            md.contains("| `prometheus 127.0.0.1:9187/metrics` | ❌ lost: unreachable (connection refused) |"),
            "{md}"
        );
        assert!(
            md.contains("- 4000 ms in 100 calls: `UPDATE items SET n = n + $1`\n"),
            "{md}"
        );
        assert!(!md.contains("COMMIT"), "only the top 3 statements: {md}");
        assert!(
            md.contains(&format!("> **Hint:** {}\n", crate::server_testdata::HINT)),
            "{md}"
        );
    }

    #[test]
    fn thresholds_decide_the_heading() {
        let mut doc = result();
        doc.thresholds = vec![barrage_metrics::ThresholdVerdict {
            expr: "error_rate < 1%".to_owned(),
            op: "<".to_owned(),
            limit: 0.01,
            unit: "ratio".to_owned(),
            observed: Some(3.0 / 1300.0),
            passed: true,
            ..Default::default()
        }];
        let md = markdown(&doc);
        assert!(
            md.starts_with("## barrage: ✅ passed (the threshold passed)\n"),
            "{md}"
        );
        assert!(
            md.contains(
                "| ✅ | `error_rate < 1%` | observed 0.23%, 0.77 points under the limit of 1.00% |"
            ),
            "{md}"
        );
    }

    #[test]
    fn text_from_the_server_is_shown_as_written() {
        assert_eq!(
            cell("GET /items/<id> *5xx* [x](y) a_b `c`\r\nd\u{1b}[2J|e\\"),
            "GET /items/\\<id\\> \\*5xx\\* \\[x\\](y) a\\_b \\`c\\`  d \\[2J\\|e\\\\"
        );
    }
}
