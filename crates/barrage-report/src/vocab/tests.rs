//! The shared vocabulary: the alias table both ways, quantities, and the matcher parser
//! giving thresholds and gates the same matchers and the same endpoints.

use super::matcher::parse_matchers;
use super::quantity::read_quantity;
use super::*;
use crate::compare::{self, Gate};
use crate::threshold;

/// Every metric there is.
fn all_metrics() -> Vec<Metric> {
    let stats = [
        Stat::P50,
        Stat::P75,
        Stat::P90,
        Stat::P95,
        Stat::P99,
        Stat::P999,
        Stat::Mean,
        Stat::Min,
        Stat::Max,
    ];
    let mut all: Vec<Metric> = [Timing::Response, Timing::Service]
        .into_iter()
        .flat_map(|t| stats.map(|s| Metric::Latency(t, s)))
        .collect();
    all.extend([
        Metric::ErrorRate,
        Metric::Rps,
        Metric::Checks,
        Metric::Requests,
        Metric::Failures,
        Metric::DroppedIterations,
    ]);
    all
}

#[test]
fn every_alias_maps_both_ways() {
    let aliases = [
        ("p999", "p99.9"),
        ("median", "p50"),
        ("avg", "mean"),
        ("service_p999", "service_p99.9"),
        ("service_median", "service_p50"),
        ("service_avg", "service_mean"),
    ];
    for (alias, canonical) in aliases {
        let m = Metric::named(alias).unwrap_or_else(|| panic!("{alias}"));
        assert_eq!(m.name(), canonical, "{alias}");
        assert_eq!(Metric::named(canonical), Some(m), "{canonical}");
    }
    // Every written name reads as a metric whose canonical name reads back the same, in
    // any case; every metric has a canonical name; nothing else is a name.
    for &name in METRIC_NAMES {
        let m = Metric::named(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(Metric::named(m.name()), Some(m), "{name}");
        assert_eq!(Metric::named(&name.to_ascii_uppercase()), Some(m), "{name}");
    }
    let all = all_metrics();
    for &m in &all {
        assert!(METRIC_NAMES.contains(&m.name()), "{m:?}");
        assert_eq!(Metric::named(m.name()), Some(m));
    }
    let aliases_count = METRIC_NAMES.len() - all.len();
    assert_eq!(
        aliases_count,
        aliases.len(),
        "an alias the test above misses"
    );
    for nope in ["", "p96", "service_", "service_rps", "p99.", "latency"] {
        assert_eq!(Metric::named(nope), None, "{nope}");
    }
}

#[test]
fn compare_takes_its_subset_and_keeps_its_json_names() {
    let compared: Vec<(Metric, &str)> = all_metrics()
        .into_iter()
        .filter_map(|m| compare::Metric::new(m).map(|c| (m, c.as_str())))
        .collect();
    let names: Vec<&str> = compared.iter().map(|&(_, n)| n).collect();
    assert_eq!(
        names,
        [
            "p50",
            "p75",
            "p90",
            "p95",
            "p99",
            "p999",
            "mean",
            "max",
            "error_rate",
            "rps"
        ]
    );
    for (m, name) in compared {
        let c = compare::Metric::new(m).unwrap();
        assert_eq!(c.metric(), m);
        // `barrage compare --json` writes the same names as before the vocabulary was shared.
        assert_eq!(serde_json::to_value(c).unwrap(), name);
    }
    assert_eq!(compare::Metric::P999.metric().name(), "p99.9");
    assert_eq!(compare::Metric::ALL.len(), 10);
}

#[test]
fn quantities_split_number_and_unit() {
    fn q(text: &str, signed: bool) -> Quantity<'_> {
        read_quantity(text, 0, signed).unwrap().0
    }
    let q1 = q("200 ms", false);
    assert_eq!((q1.value, q1.digits, q1.unit), (200.0, "200", "ms"));
    assert_eq!((q1.span, q1.unit_span), (0..6, 4..6));
    let q2 = q("-1.5%", true);
    assert_eq!(
        (q2.value, q2.digits, q2.unit, q2.span),
        (-1.5, "1.5", "%", 0..5)
    );
    assert_eq!(q("+ 10/s", true).value, 10.0);
    assert_eq!(q("0.01", false).unit, "");
    // A word after a space that is not a unit is left for the caller.
    let (q3, end) = read_quantity("p95 < 5 and", 6, false).unwrap();
    assert_eq!((q3.unit, end), ("and", 11));
    let (q4, end) = read_quantity("< 5 , x", 2, false).unwrap();
    assert_eq!((q4.unit, end), ("", 3));

    let e = read_quantity("-5ms", 0, false).unwrap_err();
    assert_eq!((e.found.as_str(), e.span.clone()), ("-5ms", 0..4));
    assert_eq!(e.to_string(), "expected a number, found `-5ms`");
    assert_eq!(read_quantity("x <", 3, false).unwrap_err().span, 3..3);

    assert_eq!(time_to_ms(250.0, "µs"), Some(0.25));
    assert_eq!(time_to_ms(1.5, "s"), Some(1500.0));
    assert_eq!(time_to_ms(2.0, "m"), Some(120_000.0));
    assert_eq!(time_to_ms(1.0, "%"), None);
}

/// Blocks written the same way in a threshold and in a gate.
const BLOCKS: &[&str] = &[
    r#"{}"#,
    r#"{name="/items/{item_id}", method="get"}"#,
    r#"{name=~"/items/.*", method!="POST"}"#,
    r#"{ scenario = 'check out' , name!~"/health|/metrics", }"#,
    r#"{name="a \"}>\" \\ name"}"#,
    r#"{name="/a,b}[c]{"}"#,
    r#"{method=~"get|put"}"#,
];

#[test]
fn the_matcher_parser_reads_alike_from_every_entry_point() {
    for block in BLOCKS {
        let (direct, end) = parse_matchers(block, 0, Metric::Latency(Timing::Response, Stat::P95))
            .unwrap_or_else(|e| panic!("{block}: {e}"));
        assert_eq!(end, block.len(), "{block}");
        let t = threshold::parse(&format!("p95{block} < 1ms")).unwrap();
        let g = Gate::parse(&format!("p95{block}>+1%")).unwrap();
        assert_eq!(t.matchers, direct, "{block}");
        assert_eq!(g.matchers, direct, "{block}");
    }
    // Errors: the same message and help, located in the text each was given. (A block left
    // open is not here: what follows it, a limit or an amount, is what the parser meets.)
    for (block, message) in [
        (r#"{path="/"}"#, "unknown label `path`"),
        (r#"{name=/}"#, "the value of `name` must be quoted"),
        (r#"{name="/}"#, "this quoted value is never closed"),
        (r#"{name="/" method="GET"}"#, "expected `,` or `}`"),
        (r#"{check="x"}"#, "only `checks` has it"),
        (r#"{name=~"("}"#, "invalid regular expression"),
    ] {
        let p95 = Metric::Latency(Timing::Response, Stat::P95);
        let direct = parse_matchers(&format!("p95{block}"), 3, p95).unwrap_err();
        assert!(direct.message.contains(message), "{block}: {direct}");
        let from_threshold = threshold::parse(&format!("p95{block} < 1ms")).unwrap_err();
        assert_eq!(
            (&from_threshold.message, &from_threshold.help),
            (&direct.message, &direct.help),
            "{block}"
        );
        assert_eq!(from_threshold.span.start, direct.span.start, "{block}");
        let from_gate = Gate::parse(&format!("p95{block}>+1%")).unwrap_err();
        assert!(
            from_gate.to_string().contains(&direct.to_string()),
            "{block}: {from_gate}"
        );
    }
}

#[test]
fn a_gate_and_a_threshold_with_the_same_matchers_select_the_same_endpoints() {
    let endpoints = [
        ("shop", "GET", "/items/{item_id}"),
        ("shop", "POST", "/items/"),
        ("shop", "PUT", "/items/{item_id}"),
        ("check out", "GET", "/health"),
        ("check out", "GET", "/a,b}[c]{"),
        ("default", "get", r#"a "}>" \ name"#),
    ];
    for block in BLOCKS {
        let t = threshold::parse(&format!("p95{block} < 1ms")).unwrap();
        let g = Gate::parse(&format!("p95{block}>+1%")).unwrap();
        let by_threshold: Vec<_> = endpoints
            .iter()
            .filter(|&&(s, m, n)| t.selects(s, m, n, None))
            .collect();
        let by_gate: Vec<_> = endpoints
            .iter()
            .filter(|&&(s, m, n)| g.matches(s, m, n))
            .collect();
        assert_eq!(by_threshold, by_gate, "{block}");
    }
    let t = threshold::parse(r#"p95{name=~"/items/.*", method!="POST"} < 1ms"#).unwrap();
    let chosen: Vec<_> = endpoints
        .iter()
        .filter(|&&(s, m, n)| t.selects(s, m, n, None))
        .collect();
    assert_eq!(chosen, [&endpoints[0], &endpoints[2]]);
}

#[test]
fn gates_refuse_metrics_compare_cannot_compare() {
    for name in [
        "checks",
        "service_p95",
        "min",
        "requests",
        "dropped_iterations",
    ] {
        let e = Gate::parse(&format!("{name}>+1%")).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "`{name}` cannot be compared between runs; compare gates take p50"
            )),
            "{e}"
        );
    }
    let e = Gate::parse("p96>+1%").unwrap_err().to_string();
    assert!(
        e.contains("unknown metric `p96`; compare gates take"),
        "{e}"
    );
    assert!(Gate::parse("P99.9>+1%").is_ok());
}
