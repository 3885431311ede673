//! The threshold language: every metric, unit and matcher form; every error located; and
//! evaluation against a hand-built snapshot whose numbers are known.

use std::time::Duration;

use barrage_metrics::{
    encode_histogram, new_histogram, CheckStats, EndpointHistograms, HistogramSet, LatencyStats,
    Snapshot,
};

use super::*;
use crate::testdata::snapshot;

fn ok(text: &str) -> Threshold {
    parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn err(text: &str) -> ParseError {
    match parse(text) {
        Ok(t) => panic!("{text:?} parsed as {t:?}"),
        Err(e) => e,
    }
}

/// The text an error points at.
fn at<'a>(text: &'a str, e: &ParseError) -> &'a str {
    &text[e.span.clone()]
}

#[test]
fn every_metric_name_parses_to_its_canonical_name() {
    let cases = [
        ("p50", "p50"),
        ("median", "p50"),
        ("p75", "p75"),
        ("p90", "p90"),
        ("p95", "p95"),
        ("p99", "p99"),
        ("p99.9", "p99.9"),
        ("p999", "p99.9"),
        ("mean", "mean"),
        ("avg", "mean"),
        ("min", "min"),
        ("max", "max"),
        ("service_p50", "service_p50"),
        ("service_p99.9", "service_p99.9"),
        ("service_p999", "service_p99.9"),
        ("service_mean", "service_mean"),
        ("service_max", "service_max"),
        ("service_min", "service_min"),
        ("P95", "p95"),
    ];
    for (written, canonical) in cases {
        let t = ok(&format!("{written} < 1s"));
        assert_eq!(t.metric.name(), canonical, "{written}");
        assert_eq!(t.metric.unit(), Unit::Ms);
        assert_eq!(t.limit, 1000.0);
    }
    for (written, unit, limit) in [
        ("error_rate < 1%", Unit::Ratio, 0.01),
        ("error_rate <= 0.05", Unit::Ratio, 0.05),
        ("checks >= 99.5%", Unit::Ratio, 0.995),
        ("rps > 100", Unit::PerSecond, 100.0),
        ("rps > 12.5/s", Unit::PerSecond, 12.5),
        ("requests >= 1000", Unit::Count, 1000.0),
        ("failures == 0", Unit::Count, 0.0),
        ("dropped_iterations == 0", Unit::Count, 0.0),
    ] {
        let t = ok(written);
        assert_eq!(t.metric.unit(), unit, "{written}");
        assert_eq!(t.limit, limit, "{written}");
    }
    // Every name the suggestions offer is accepted.
    for name in METRIC_NAMES {
        assert!(
            ["1ms", "1%", "1"]
                .iter()
                .any(|limit| parse(&format!("{name} < {limit}")).is_ok()),
            "{name}"
        );
    }
}

#[test]
fn units_scale_to_milliseconds_exactly() {
    for (written, ms) in [
        ("p95 < 200ms", 200.0),
        ("p95 < 4.095ms", 4.095),
        ("p95 < 1s", 1000.0),
        ("p95 < 1.5s", 1500.0),
        ("p95 < 250us", 0.25),
        ("p95 < 250µs", 0.25),
        ("p95 < 500000ns", 0.5),
        ("p95 < 2m", 120_000.0),
        ("p95 < 200 ms", 200.0),
    ] {
        assert_eq!(ok(written).limit, ms, "{written}");
    }
}

#[test]
fn all_comparison_operators() {
    for (op, want) in [
        ("<", Op::Lt),
        ("<=", Op::Le),
        (">", Op::Gt),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
    ] {
        assert_eq!(ok(&format!("p95{op}200ms")).op, want);
        assert_eq!(ok(&format!("  p95 {op} 200ms  ")).op, want);
    }
}

#[test]
fn equality_tolerates_binary_rounding_only() {
    assert!(Op::Le.holds(3.0 / 200.0, 1.5 / 100.0));
    assert!(Op::Eq.holds(0.1 + 0.2, 0.3));
    assert!(!Op::Lt.holds(0.1 + 0.2, 0.3));
    assert!(Op::Lt.holds(4.094, 4.095));
    assert!(!Op::Le.holds(4.096, 4.095));
    assert!(Op::Gt.holds(4.096, 4.095));
    assert!(Op::Eq.holds(0.0, 0.0));
    assert!(!Op::Eq.holds(1e-6, 0.0));
}

#[test]
fn matchers_take_quoted_values_with_braces_brackets_and_commas() {
    let t = ok(r#"p99{name="/items/{item_id}", method="GET"} < 300ms"#);
    assert_eq!(t.matchers.len(), 2);
    assert_eq!(t.matchers[0].label, Label::Name);
    assert_eq!(t.matchers[0].value, "/items/{item_id}");
    assert_eq!(t.matchers[1].label, Label::Method);
    assert_eq!(t.matchers[1].value, "GET");
    assert_eq!(t.limit, 300.0);

    let t = ok(r#"error_rate{name="/a,b}[c]{", scenario='check out',} < 1%"#);
    assert_eq!(t.matchers[0].value, "/a,b}[c]{");
    assert_eq!(t.matchers[1].value, "check out");

    let t = ok(r#"p95{name="say \"hi\" \\ there"} < 1s"#);
    assert_eq!(t.matchers[0].value, r#"say "hi" \ there"#);

    let t = ok(r#"p95{name!="/health", name=~"/items/.*", method!~"POST|PUT"} < 1s"#);
    let ops: Vec<MatchOp> = t.matchers.iter().map(|m| m.op).collect();
    assert_eq!(ops, [MatchOp::Ne, MatchOp::Regex, MatchOp::NotRegex]);
    assert!(t.selects("s", "GET", "/items/7", None));
    assert!(!t.selects("s", "POST", "/items/7", None));
    assert!(!t.selects("s", "GET", "/health", None));
    // Regexes are anchored at both ends.
    assert!(!t.selects("s", "GET", "/v1/items/7", None));

    // `method` ignores case; other labels do not.
    let t = ok(r#"p95{method="get", name="/A"} < 1s"#);
    assert!(t.selects("s", "GET", "/A", None));
    assert!(!t.selects("s", "GET", "/a", None));

    assert!(ok("p95{} < 1s").matchers.is_empty());
    let t = ok(r#"checks{check="status"} > 99%"#);
    assert!(t.selects("s", "GET", "/", Some("status")));
    assert!(!t.selects("s", "GET", "/", Some("json")));
}

#[test]
fn errors_point_at_the_mistake_and_suggest_a_fix() {
    let text = "p59 < 200ms";
    let e = err(text);
    assert_eq!(e.message, "unknown metric `p59`");
    assert_eq!(at(text, &e), "p59");
    assert!(e
        .help
        .unwrap()
        .contains("p50, p75, p90, p95, p99 and p99.9"));

    let text = "eror_rate < 1%";
    let e = err(text);
    assert_eq!(e.help.as_deref(), Some("did you mean `error_rate`?"));
    assert_eq!(at(text, &e), "eror_rate");

    let e = err("servce_p95 < 1s");
    assert_eq!(e.help.as_deref(), Some("did you mean `service_p95`?"));
    let e = err("latency < 1s");
    assert!(e.help.unwrap().starts_with("metrics: p50"));

    let text = "p95 < 200";
    let e = err(text);
    assert_eq!(e.message, "`200` has no unit");
    assert_eq!(at(text, &e), "200");
    assert!(e.help.unwrap().contains("`200ms`"));

    let text = "p95 < 200kg";
    let e = err(text);
    assert_eq!(at(text, &e), "kg");
    assert_eq!(e.message, "`kg` is not a unit of time");

    let text = "error_rate < 5";
    let e = err(text);
    assert!(e.message.contains("rates are fractions from 0 to 1"));
    assert!(e.help.unwrap().contains("`5%`"));

    let text = "error_rate < 5ms";
    assert_eq!(at(text, &err(text)), "ms");
    let text = "rps > 5%";
    assert_eq!(err(text).message, "`rps` takes no unit `%`");
    let text = "p95 < 5%";
    assert_eq!(err(text).message, "`%` is not a unit of time");

    let text = "p95 = 200ms";
    let e = err(text);
    assert_eq!(at(text, &e), "=");
    assert!(e.help.unwrap().contains("=="));

    let text = "p95 200ms";
    let e = err(text);
    assert!(e.message.starts_with("expected a comparison"));
    assert_eq!(at(text, &e), "2");

    let e = err("p95");
    assert_eq!(e.message, "`p95` needs a comparison and a limit");
    assert_eq!(e.span, 3..3);

    let e = err("p95 <");
    assert_eq!(e.message, "the limit is missing");
    let e = err("p95 < fast");
    assert_eq!(e.message, "expected a number, found `fast`");

    let text = "p95 < 200ms and p99 < 1s";
    let e = err(text);
    assert_eq!(at(text, &e), "and p99 < 1s");

    let e = err("   ");
    assert_eq!(e.message, "the threshold is empty");
}

#[test]
fn limits_past_the_range_of_numbers_or_of_rates_are_refused_where_written() {
    // 1e309 written out: past f64's range, it would read as infinity.
    let huge = format!("1{}", "0".repeat(309));
    for (text, written) in [
        (format!("requests > {huge}"), huge.clone()),
        (format!("p95 < {huge}ms"), format!("{huge}ms")),
        (format!("rps > {huge}/s"), format!("{huge}/s")),
    ] {
        let e = err(&text);
        assert_eq!(e.message, format!("`{written}` is too large to be a limit"));
        assert_eq!(at(&text, &e), written);
    }
    // Finite as written, infinite once scaled to milliseconds.
    let big_hours = format!("p95 < 1{}h", "0".repeat(306));
    assert!(err(&big_hours)
        .message
        .ends_with("is too large to be a limit"));

    let text = "error_rate < 150%";
    let e = err(text);
    assert_eq!(e.message, "`150%` is not a rate: rates run from 0% to 100%");
    assert_eq!(at(text, &e), "150%");
    assert_eq!(ok("error_rate < 100%").limit, 1.0);
}

#[test]
fn matcher_errors_are_located() {
    let text = r#"p95{name=/items/} < 1s"#;
    let e = err(text);
    assert_eq!(e.message, "the value of `name` must be quoted");
    assert_eq!(at(text, &e), "/items/");
    assert_eq!(e.help.as_deref(), Some(r#"write `name="/items/"`"#));

    let text = r#"p95{nmae="/"} < 1s"#;
    let e = err(text);
    assert_eq!(at(text, &e), "nmae");
    assert_eq!(e.help.as_deref(), Some("did you mean `name`?"));

    let text = r#"p95{name="/items/{id}} < 1s"#;
    let e = err(text);
    assert_eq!(e.message, "this quoted value is never closed");
    assert_eq!(at(text, &e), r#""/items/{id}} < 1s"#);

    let text = r#"p95{name="/" method="GET"} < 1s"#;
    let e = err(text);
    assert!(e.message.starts_with("expected `,` or `}`"));
    assert_eq!(at(text, &e), "m");

    let text = r#"p95{name="/"  < 1s"#;
    assert!(err(text).message.starts_with("expected `,` or `}`"));
    let text = r#"p95{name="/","#;
    assert_eq!(err(text).message, "`{` is never closed");

    let text = r#"p95{name=="/"} < 1s"#;
    assert_eq!(err(text).message, "label matchers use `=`, not `==`");

    let text = r#"p95{name=~"(unclosed"} < 1s"#;
    let e = err(text);
    assert!(
        e.message.starts_with("invalid regular expression"),
        "{}",
        e.message
    );
    assert_eq!(at(text, &e), r#""(unclosed""#);

    let text = r#"p95{name="a\qb"} < 1s"#;
    let e = err(text);
    assert_eq!(at(text, &e), r"\q");

    let text = r#"p95{check="status"} < 1s"#;
    assert!(err(text).message.contains("only `checks` has it"));
    let text = r#"dropped_iterations{scenario="a"} == 0"#;
    let e = err(text);
    assert_eq!(at(text, &e), "scenario");
    assert!(e.message.contains("whole run"));
}

fn hist_of(values_ms: &[u64]) -> String {
    let mut h = new_histogram();
    for v in values_ms {
        h.record(v * 1_000_000).unwrap();
    }
    encode_histogram(&h)
}

/// The test snapshot, with checks and a generator count.
fn snap() -> Snapshot {
    let mut s = snapshot();
    s.checks = vec![
        CheckStats {
            scenario: "shop".into(),
            method: "POST".into(),
            name: "/items/".into(),
            check: "status".into(),
            passes: 95,
            fails: 5,
        },
        CheckStats {
            scenario: "shop".into(),
            method: "GET".into(),
            name: "/items/[item_name]".into(),
            check: "json".into(),
            passes: 100,
            fails: 0,
        },
    ];
    s.generator.dropped_iterations = 7;
    s
}

fn eval(text: &str) -> Evaluation {
    evaluate(&ok(text), &snap(), None)
}

#[test]
fn aggregate_metrics_read_the_snapshot() {
    let s = snap();
    let agg = &s.aggregate;
    assert_eq!(eval("p95 < 1h").observed, Some(agg.response_time.p95));
    assert_eq!(
        eval("service_p99.9 < 1h").observed,
        Some(agg.service_time.p999)
    );
    assert_eq!(eval("mean < 1h").observed, Some(agg.response_time.mean));
    assert_eq!(
        eval("service_min < 1h").observed,
        Some(agg.service_time.min)
    );
    assert_eq!(eval("requests > 0").observed, Some(agg.requests as f64));
    assert_eq!(eval("failures > 0").observed, Some(agg.failures as f64));
    assert_eq!(eval("rps > 0").observed, Some(agg.rps));
    let rate = agg.failures as f64 / agg.requests as f64;
    assert_eq!(eval("error_rate < 1%").observed, Some(rate));
    assert_eq!(eval("checks > 0").observed, Some(195.0 / 200.0));
    assert_eq!(eval(r#"checks{check="status"} > 0"#).observed, Some(0.95));
    assert_eq!(eval(r#"checks{method="GET"} > 0"#).observed, Some(1.0));
    assert_eq!(eval("dropped_iterations == 7").observed, Some(7.0));
    assert!(eval("dropped_iterations == 7").passed);
}

#[test]
fn a_limit_at_just_under_and_just_over_the_value() {
    let p95 = snap().aggregate.response_time.p95;
    let at = format!("{p95}ms");
    assert!(eval(&format!("p95 <= {at}")).passed);
    assert!(!eval(&format!("p95 < {at}")).passed);
    assert!(eval(&format!("p95 >= {at}")).passed);
    assert!(eval(&format!("p95 == {at}")).passed);
    assert!(eval(&format!("p95 < {}ms", p95 + 0.001)).passed);
    assert!(!eval(&format!("p95 < {}ms", p95 - 0.001)).passed);
}

#[test]
fn matchers_select_endpoints_and_merge_their_counts() {
    let s = snap();
    let get = &s.endpoints[0];
    assert_eq!(get.name, "/items/[item_name]");
    let e = eval(r#"p95{name="/items/[item_name]"} < 1h"#);
    assert_eq!(e.observed, Some(get.response_time.p95));
    let e = eval(r#"error_rate{method="GET"} < 1%"#);
    let gets: Vec<_> = s.endpoints.iter().filter(|e| e.method == "GET").collect();
    let (n, f) = gets
        .iter()
        .fold((0, 0), |(n, f), e| (n + e.requests, f + e.failures));
    assert_eq!(e.observed, Some(f as f64 / n as f64));
    // Means weigh each endpoint by its count; min and max are the extremes.
    let e = eval(r#"mean{scenario="shop"} < 1h"#);
    let (a, b) = (&s.endpoints[0].response_time, &s.endpoints[1].response_time);
    let want = (a.mean * a.count as f64 + b.mean * b.count as f64) / (a.count + b.count) as f64;
    assert!((e.observed.unwrap() - want).abs() < 1e-9);
    assert_eq!(
        eval(r#"max{scenario="shop"} < 1h"#).observed,
        Some(a.max.max(b.max))
    );

    let e = eval(r#"p95{name="/nope"} < 1s"#);
    assert_eq!(e.observed, None);
    assert!(!e.passed, "a threshold that saw nothing fails");
    assert_eq!(
        e.note.as_deref(),
        Some("no endpoint matches the label matchers")
    );
    let e = eval(r#"p95{name="/never-called"} < 1s"#);
    assert_eq!(e.note.as_deref(), Some("no successful request to time"));
}

#[test]
fn percentiles_over_several_endpoints_come_from_merged_histograms() {
    let mut s = snap();
    // Two endpoints: 1..=100 ms and 101..=200 ms; together p50 is 100 ms.
    let low: Vec<u64> = (1..=100).collect();
    let high: Vec<u64> = (101..=200).collect();
    s.endpoints[0].response_time = LatencyStats::from_histogram(&decode(&hist_of(&low)));
    s.endpoints[1].response_time = LatencyStats::from_histogram(&decode(&hist_of(&high)));
    let mut all = new_histogram();
    for v in 1..=200u64 {
        all.record(v * 1_000_000).unwrap();
    }
    let p50 = LatencyStats::from_histogram(&all).p50;
    assert!((p50 - 100.0).abs() < 0.1, "{p50}");
    let t = ok(&format!(r#"p50{{scenario="shop"}} <= {p50}ms"#));
    let live = evaluate(&t, &s, None);
    assert!(live.pending && !live.passed && live.observed.is_none());
    let mut h = HistogramSet::default();
    for values in [&low, &high] {
        h.endpoints.push(EndpointHistograms {
            response_time: hist_of(values),
            ..Default::default()
        });
    }
    for _ in 2..s.endpoints.len() {
        h.endpoints.push(EndpointHistograms::default());
    }
    let end = evaluate(&t, &s, Some(&h));
    assert_eq!(end.observed, Some(p50), "the same as one histogram of both");
    assert!(end.passed);
    assert_eq!(
        end.note.as_deref(),
        Some("2 endpoints, from their merged histograms")
    );
}

fn decode(s: &str) -> barrage_metrics::Histogram<u64> {
    barrage_metrics::decode_histogram(s).unwrap()
}

#[test]
fn nothing_to_measure_fails_with_a_reason() {
    let mut s = snap();
    s.aggregate.requests = 0;
    s.aggregate.failures = 0;
    let e = evaluate(&ok("error_rate < 1%"), &s, None);
    assert_eq!((e.observed, e.passed), (None, false));
    assert_eq!(e.note.as_deref(), Some("no request was made"));
    s.checks.clear();
    let e = evaluate(&ok("checks > 99%"), &s, None);
    assert_eq!(e.note.as_deref(), Some("the scenario has no checks"));
}

#[test]
fn verdicts_say_by_how_much() {
    let t = ok("p95 < 200ms");
    let mut e = Evaluation {
        observed: Some(250.0),
        passed: false,
        note: None,
        pending: false,
    };
    let v = t.verdict(&e, "scenario", false);
    assert_eq!(
        describe(&v),
        "observed 250 ms, 50.0 ms over the limit of 200 ms (+25.0%)"
    );
    e.observed = Some(150.0);
    e.passed = true;
    assert_eq!(
        describe(&t.verdict(&e, "scenario", false)),
        "observed 150 ms, 50.0 ms under the limit of 200 ms (-25.0%)"
    );
    let t = ok("error_rate < 1%");
    e.observed = Some(0.04);
    e.passed = false;
    assert_eq!(
        describe(&t.verdict(&e, "cli", false)),
        "observed 4.00%, 3.00 points over the limit of 1.00%"
    );
    let section = thresholds_section(&[v], &crate::ViewOptions { color: false });
    assert_eq!(
        section,
        "Thresholds (0 of 1 passed)\n  FAIL  p95 < 200ms  observed 250 ms, 50.0 ms over the limit of 200 ms (+25.0%)\n"
    );
}

#[test]
fn the_watch_aborts_only_after_the_delay_and_only_once() {
    let failing = ok("error_rate < 0.1%");
    let mut w = Watch::new(vec![
        Watched::new(ok("p95 < 1h"), true, Duration::ZERO),
        Watched::new(failing, true, Duration::from_secs(70)),
    ]);
    let mut s = snap();
    assert!(s.elapsed < Duration::from_secs(70));
    assert_eq!(w.observe(&s), None, "not before the delay");
    let status = w.status(&crate::ViewOptions { color: false });
    assert!(status.contains("threshold ok: p95 < 1h"), "{status}");
    assert!(
        status.contains("threshold FAILING: error_rate < 0.1%"),
        "{status}"
    );
    s.elapsed = Duration::from_secs(70);
    assert_eq!(w.observe(&s), Some(1));
    assert_eq!(w.observe(&s), None, "a run is stopped once");
    assert_eq!(w.aborted_by(), Some(1));
}
