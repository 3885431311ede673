//! Thresholds on server figures: every figure and unit, the statistics, the mistakes a user
//! makes (matchers, `avg(p95)`, CPU as a fraction), and evaluation against hand-made
//! `server` stats whose numbers are known.

use std::sync::Arc;
use std::time::Duration;

use barrage_metrics::{FigureStats, ServerStats, Snapshot, FIGURES};

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

fn at<'a>(text: &'a str, e: &ParseError) -> &'a str {
    &text[e.span.clone()]
}

#[test]
fn the_vocabulary_has_every_figure_the_monitor_measures_in_its_unit() {
    let names: Vec<&str> = FIGURES.iter().map(|f| f.0).collect();
    assert_eq!(FIGURE_NAMES, names.as_slice());
    for (name, unit, _) in FIGURES {
        let Some(Metric::Server(figure, FigureStat::Max)) = Metric::named(name) else {
            panic!("{name} is no server figure");
        };
        assert_eq!(figure.name(), *name);
        assert_eq!(figure.unit().as_str(), *unit, "{name}");
        assert_eq!(Metric::Server(figure, FigureStat::Max).name(), *name);
        for (stat, written) in [
            (FigureStat::Avg, "avg"),
            (FigureStat::Min, "min"),
            (FigureStat::Last, "last"),
        ] {
            let t = ok(&format!("{written}({name}) < {}", figure.unit().example()));
            assert_eq!(t.metric, Metric::Server(figure, stat));
            assert_eq!(t.metric.name(), format!("{written}({name})"));
        }
        // `max(...)` is the bare name's statistic, written out.
        let t = ok(&format!("max( {name} ) < {}", figure.unit().example()));
        assert_eq!(t.metric, Metric::Server(figure, FigureStat::Max));
    }
}

#[test]
fn each_figure_reads_its_limit_in_its_own_unit() {
    for (written, limit) in [
        // % of one core, not a fraction: 90% is 90, 150% one and a half cores.
        ("server_cpu < 90%", 90.0),
        ("server_cpu < 150%", 150.0),
        ("server_cpu < 90", 90.0),
        ("avg(server_cpu) < 70%", 70.0),
        ("server_rss < 500MB", 500e6),
        ("server_rss < 1GiB", 1024.0 * 1024.0 * 1024.0),
        ("server_rss < 1.5GiB", 1.5 * 1024.0 * 1024.0 * 1024.0),
        ("server_rss < 512 KiB", 512.0 * 1024.0),
        ("probe_max_stall < 200ms", 200.0),
        ("probe_max_stall < 1.5s", 1500.0),
        ("pg_longest_query < 2s", 2000.0),
        ("pg_transactions > 100", 100.0),
        ("pg_transactions > 12.5/s", 12.5),
        ("pg_connections_waiting == 0", 0.0),
        ("server_threads <= 64", 64.0),
        ("probe_failures == 0", 0.0),
        ("PG_CONNECTIONS < 20", 20.0),
    ] {
        assert_eq!(ok(written).limit, limit, "{written}");
    }
}

#[test]
fn mistakes_on_server_figures_point_at_the_bytes_and_say_the_fix() {
    let text = r#"server_cpu{name="/a"} < 90%"#;
    let e = err(text);
    assert_eq!(at(text, &e), r#"{name="/a"}"#);
    assert!(e.message.contains("takes no label matchers"), "{e}");
    assert!(e.help.unwrap().contains("remove the `{...}`"));

    let text = "avg(p95) < 200ms";
    let e = err(text);
    assert_eq!(at(text, &e), "avg(p95)");
    assert_eq!(
        e.message,
        "`avg(...)` takes a server figure, and `p95` is not one"
    );
    assert!(e.help.unwrap().contains("write `mean`"));

    let text = "max(error_rate) < 1%";
    let e = err(text);
    assert!(e.help.unwrap().contains("`error_rate < 1%`"));

    let text = "median(server_cpu) < 90%";
    let e = err(text);
    assert_eq!(at(text, &e), "median");
    assert_eq!(e.message, "unknown statistic `median`");
    assert!(e.help.unwrap().contains("(...)`"));

    let text = "avg(server_cpus) < 90%";
    let e = err(text);
    assert_eq!(at(text, &e), "server_cpus");
    assert_eq!(e.help.as_deref(), Some("did you mean `server_cpu`?"));

    let text = "avg(server_cpu < 90%";
    let e = err(text);
    assert_eq!(e.message, "`(` is never closed");
    assert!(e.help.unwrap().contains("`avg(server_cpu)`"));

    let e = err("server_cpo < 90%");
    assert_eq!(e.help.as_deref(), Some("did you mean `server_cpu`?"));

    let text = "server_rss < 500";
    let e = err(text);
    assert_eq!(
        (at(text, &e), e.message.as_str()),
        ("500", "`500` has no unit")
    );
    assert!(e.help.unwrap().contains("`500MB` or `500MiB`"));

    let text = "server_rss < 500mb";
    let e = err(text);
    assert_eq!(at(text, &e), "mb");
    assert!(e.help.unwrap().contains("write `MB`"));

    let text = "server_cpu < 0.9s";
    let e = err(text);
    assert_eq!(at(text, &e), "s");
    assert!(e.help.unwrap().contains("`0.9%`"));

    let text = "probe_max_stall < 200";
    assert_eq!(err(text).message, "`200` has no unit");
    let text = "pg_connections < 20%";
    assert_eq!(at(text, &err(text)), "%");
}

fn stats(name: &str, max: f64, min: f64, mean: f64, last: f64) -> FigureStats {
    let unit = FIGURES.iter().find(|f| f.0 == name).unwrap().1;
    FigureStats {
        name: name.into(),
        unit: unit.into(),
        count: 30,
        max,
        min,
        mean,
        last,
    }
}

/// The test snapshot with server stats: CPU 20..140 % (mean 80, last 95), RSS max 300 MB,
/// longest stall 250 ms, no connection waiting.
fn server_snap() -> Snapshot {
    let mut s = snapshot();
    s.server = Some(Arc::new(ServerStats {
        figures: vec![
            stats("server_cpu", 140.0, 20.0, 80.0, 95.0),
            stats("server_rss", 300e6, 100e6, 200e6, 250e6),
            stats("probe_max_stall", 250.0, 1.0, 12.0, 3.0),
            stats("pg_connections_waiting", 0.0, 0.0, 0.0, 0.0),
        ],
    }));
    s
}

fn eval(text: &str) -> Evaluation {
    evaluate(&ok(text), &server_snap(), None)
}

#[test]
fn a_figure_is_judged_on_its_maximum_unless_a_statistic_is_named() {
    for (text, observed, passed) in [
        ("server_cpu < 150%", 140.0, true),
        ("server_cpu < 90%", 140.0, false),
        ("max(server_cpu) < 140%", 140.0, false),
        ("max(server_cpu) <= 140%", 140.0, true),
        ("avg(server_cpu) < 90%", 80.0, true),
        ("mean(server_cpu) < 70%", 80.0, false),
        ("min(server_cpu) >= 20", 20.0, true),
        ("last(server_cpu) < 90%", 95.0, false),
        ("server_rss < 500MB", 300e6, true),
        ("server_rss < 250MB", 300e6, false),
        ("probe_max_stall < 200ms", 250.0, false),
        ("avg(probe_max_stall) < 200ms", 12.0, true),
        ("pg_connections_waiting == 0", 0.0, true),
    ] {
        let e = eval(text);
        assert_eq!((e.observed, e.passed), (Some(observed), passed), "{text}");
        assert!(!e.pending, "{text}");
    }
}

#[test]
fn a_figure_nothing_measured_fails_naming_the_flag_that_would() {
    for (text, flag) in [
        ("server_threads < 100", "--monitor-pid or --monitor-port"),
        ("probe_failures == 0", "--probe"),
        ("pg_transactions > 10", "--monitor-postgres"),
    ] {
        let e = eval(text);
        assert_eq!((e.observed, e.passed), (None, false), "{text}");
        let figure = text.split(' ').next().unwrap();
        // Something else was monitored, so the source may have been given and lost.
        assert_eq!(
            e.note.unwrap(),
            format!(
                "nothing measured {figure}: it needs {flag} (a source that was unreachable \
                 or lost the whole run measures nothing; see the Server section)"
            )
        );
    }
    // Nothing monitored at all.
    let e = evaluate(&ok("server_cpu < 90%"), &snapshot(), None);
    assert_eq!(
        e.note.as_deref(),
        Some("nothing measured server_cpu: it needs --monitor-pid or --monitor-port")
    );
    // A figure with no sample yet is not a zero.
    let mut s = server_snap();
    let mut empty = (*s.server.take().unwrap()).clone();
    empty.figures[0].count = 0;
    s.server = Some(Arc::new(empty));
    assert_eq!(evaluate(&ok("server_cpu < 90%"), &s, None).observed, None);
}

#[test]
fn server_verdicts_say_by_how_much_in_the_figures_unit() {
    let cases = [
        (
            "server_cpu < 90%",
            "observed 140.0%, 50.0 points over the limit of 90.0%",
        ),
        (
            "avg(server_cpu) < 90%",
            "observed 80.0%, 10.0 points under the limit of 90.0%",
        ),
        (
            "server_rss < 250MB",
            "observed 286.1 MiB, 47.7 MiB over the limit of 238.4 MiB (+20.0%)",
        ),
        (
            "probe_max_stall < 200ms",
            "observed 250 ms, 50.0 ms over the limit of 200 ms (+25.0%)",
        ),
    ];
    for (text, want) in cases {
        let t = ok(text);
        let v = t.verdict(&eval(text), "cli", false);
        assert_eq!(v.metric, t.metric.name());
        assert_eq!(describe(&v), want, "{text}");
    }
    let v = ok("avg(server_cpu) < 90%").verdict(&eval("avg(server_cpu) < 90%"), "cli", false);
    assert_eq!(
        (v.metric.as_str(), v.unit.as_str()),
        ("avg(server_cpu)", "%")
    );
}

#[test]
fn the_watch_aborts_on_a_server_figure_and_waits_while_nothing_is_measured() {
    let mut w = Watch::new(vec![Watched::new(
        ok("probe_max_stall < 200ms"),
        true,
        Duration::ZERO,
    )]);
    // Before the monitor's first sample: no value, no abort.
    assert_eq!(w.observe(&snapshot()), None);
    let status = w.status(&crate::ViewOptions { color: false });
    assert!(
        status.contains("threshold no data: probe_max_stall"),
        "{status}"
    );
    assert_eq!(w.observe(&server_snap()), Some(0));
    let status = w.status(&crate::ViewOptions { color: false });
    assert!(
        status.contains("threshold FAILING: probe_max_stall < 200ms  observed 250 ms"),
        "{status}"
    );
}

#[test]
fn a_bare_cpu_limit_at_or_below_one_is_refused_as_ambiguous() {
    let e = parse("server_cpu < 0.9").unwrap_err();
    assert_eq!(e.message, "`0.9` would be 0.9% of one core");
    assert_eq!(&"server_cpu < 0.9"[e.span.clone()], "0.9");
    assert!(e.help.as_deref().unwrap().contains("`90%`"), "{:?}", e.help);
    // Written with its unit, or above 1, it is read as % of a core.
    assert_eq!(parse("server_cpu < 0.9%").unwrap().limit, 0.9);
    assert_eq!(parse("server_cpu < 90").unwrap().limit, 90.0);
}
