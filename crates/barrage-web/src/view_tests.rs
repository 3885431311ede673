//! The View builders against runs with known numbers: a result made by the aggregator from
//! recorded requests, and 10-second windows built by hand from histograms of known values.

use std::sync::Arc;
use std::time::Duration;

use barrage_metrics::{
    encode_histogram, new_histogram, Aggregator, FailureCategory, Recorder, Registry, RunMeta,
    Timing, WindowEndpoint, WindowEntry,
};

use super::*;

const MS: u64 = 1_000_000;

/// Equal within HDR's 3 significant digits (a bucket reads as its highest value).
fn close(got: Option<f64>, want: f64) -> bool {
    got.is_some_and(|g| (g - want).abs() <= want * 1e-3)
}

fn all_close(got: &[Option<f64>], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(close(*g, *w), "{got:?} vs {want:?}");
    }
}

/// Two endpoints: `GET /a` answers 1..=100 ms (100 requests), `POST /b` 10 successes of
/// 500 ms and 5 failures (status 500). Two closed seconds.
fn result() -> ResultDoc {
    let mut reg = Registry::default();
    let a = reg.add_endpoint("s", "GET", "/a");
    let b = reg.add_endpoint("s", "POST", "/b");
    let reg = Arc::new(reg);
    let mut agg = Aggregator::new(reg.clone());
    let mut rec = Recorder::new(&reg);
    let t = |ms: u64| Timing {
        response_time_ns: ms * MS,
        service_time_ns: ms * MS,
    };
    for ms in 1..=50 {
        rec.success(a, 200, t(ms), 10, 20);
    }
    agg.absorb(0, rec.take_interval());
    agg.close_second(Duration::from_secs(1));
    for ms in 51..=100 {
        rec.success(a, 200, t(ms), 10, 20);
    }
    for _ in 0..10 {
        rec.success(b, 201, t(500), 10, 20);
    }
    for _ in 0..5 {
        rec.failure(
            b,
            FailureCategory::Status,
            Some(500),
            Some(t(3)),
            10,
            20,
            || "500 Internal Server Error".to_owned(),
        );
    }
    agg.absorb(0, rec.take_interval());
    agg.close_second(Duration::from_secs(2));
    let meta = RunMeta {
        tool_version: "9.9.9".to_owned(),
        target: "http://127.0.0.1:1".to_owned(),
        ..RunMeta::default()
    };
    agg.result(meta, Duration::from_secs(2))
}

/// A window of `values_ms` (each recorded once) for the aggregate, and per endpoint.
fn window(start: u64, t: f64, endpoints: &[(u32, &[u64])]) -> Window {
    let encode = |values: &[u64]| {
        let mut h = new_histogram();
        for v in values {
            h.record(v * MS).expect("in range");
        }
        encode_histogram(&h)
    };
    let all: Vec<u64> = endpoints
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .collect();
    Window {
        start,
        t,
        aggregate: WindowEntry {
            requests: all.len() as u64,
            failures: 0,
            response_time: encode(&all),
        },
        endpoints: endpoints
            .iter()
            .map(|(i, v)| WindowEndpoint {
                i: *i,
                entry: WindowEntry {
                    requests: v.len() as u64,
                    failures: 0,
                    response_time: encode(v),
                },
            })
            .collect(),
    }
}

#[test]
fn windows_read_every_quantile_and_leave_gaps_where_an_endpoint_was_idle() {
    let one_to_100: Vec<u64> = (1..=100).collect();
    let list = [
        window(1_700_000_000, 10.0, &[(0, &one_to_100)]),
        window(1_700_000_010, 20.0, &[(1, &[7, 7, 7, 9])]),
        window(1_700_000_020, 25.5, &[(0, &[40]), (1, &[8])]),
    ];
    let w = windows(&list);
    assert_eq!(
        w.quantiles,
        ["p50", "p75", "p90", "p95", "p99", "p99.9", "max"]
    );
    assert_eq!(w.start, [1_700_000_000, 1_700_000_010, 1_700_000_020]);
    assert_eq!(w.t, [10.0, 20.0, 25.5]);
    assert_eq!(w.requests, [100, 4, 2]);
    // 1..=100 ms, one each: the quantile q is q*100 ms (HDR's 3 digits are exact here).
    let first: Vec<Option<f64>> = w.aggregate.iter().map(|q| q[0]).collect();
    all_close(&first, &[50.0, 75.0, 90.0, 95.0, 99.0, 100.0, 100.0]);
    assert!(close(w.aggregate[0][1], 7.0));
    assert!(close(w.aggregate[6][1], 9.0));
    assert_eq!(w.endpoints.len(), 2);
    assert_eq!(w.endpoints[0].i, 0);
    let p50 = &w.endpoints[0].values[0];
    assert!(
        close(p50[0], 50.0) && p50[1].is_none() && close(p50[2], 40.0),
        "{p50:?}"
    );
    assert_eq!(w.endpoints[1].i, 1);
    let max = &w.endpoints[1].values[6];
    assert!(
        max[0].is_none() && close(max[1], 9.0) && close(max[2], 8.0),
        "{max:?}"
    );
    for e in &w.endpoints {
        assert!(e.values.iter().all(|column| column.len() == 3));
    }
}

#[test]
fn a_window_without_successes_or_with_a_bad_histogram_reads_as_no_value() {
    let mut bad = window(1_700_000_000, 10.0, &[(0, &[])]);
    bad.endpoints[0].entry.response_time = "not base64!".to_owned();
    let w = windows(&[bad]);
    assert_eq!(w.aggregate, vec![vec![None]; QUANTILES.len()]);
    assert_eq!(w.endpoints[0].values, vec![vec![None]; QUANTILES.len()]);
    assert_eq!(windows(&[]).aggregate, vec![Vec::<Option<f64>>::new(); 7]);
}

#[test]
fn a_spectrum_halves_the_distance_to_100_and_ends_at_min_and_max() {
    let mut h = new_histogram();
    for v in 1..=1000 {
        h.record(v * MS).expect("in range");
    }
    let s = spectrum(&h, Some(3));
    assert_eq!(s.i, Some(3));
    let p: Vec<f64> = s.points.iter().map(|x| x[0]).collect();
    assert_eq!(&p[..5], [0.0, 50.0, 75.0, 87.5, 93.75]);
    assert_eq!(p[p.len() - 2], 100.0 - 100.0 / 65536.0);
    assert_eq!(p[p.len() - 1], 100.0);
    let ms: Vec<Option<f64>> = s.points.iter().map(|x| Some(x[1])).collect();
    all_close(&ms[..4], &[1.0, 500.0, 750.0, 875.0]);
    assert!(close(ms[ms.len() - 1], 1000.0));
    // The ends are the table's min and max.
    let stats = barrage_metrics::LatencyStats::from_histogram(&h);
    assert_eq!(
        (s.points[0][1], ms[ms.len() - 1]),
        (stats.min, Some(stats.max))
    );
    assert!(s.points.windows(2).all(|w| w[0][1] <= w[1][1]));
    assert!(spectrum(&new_histogram(), None).points.is_empty());
}

#[test]
fn series_columns_follow_the_seconds_with_failures_per_second() {
    let doc = result();
    let s = series(&doc.series);
    assert_eq!(s.t, [1.0, 2.0]);
    assert_eq!(s.rps, [50.0, 65.0]);
    assert_eq!(s.failures_per_s, [0.0, 5.0]);
    assert_eq!(s.p50.len(), 2);
    assert!(close(Some(s.max[1]), 500.0));
    assert!(close(Some(s.p50[0]), 25.0), "{:?}", s.p50);
}

#[test]
fn a_report_view_holds_the_result_file_s_numbers_and_verdict() {
    let doc = result();
    let v = View::from_result(&doc, None);
    assert_eq!(v.mode, Mode::Report);
    assert_eq!(v.state, State::Ended);
    assert_eq!(v.tool_version, doc.tool.version);
    assert_eq!(v.endpoints.len(), 2);
    assert_eq!(v.endpoints[1].stats, doc.endpoints[1]);
    assert_eq!(v.aggregate.stats.requests, 115);
    assert_eq!(v.aggregate.stats.failures, 5);
    assert_eq!(
        v.verdict,
        Some(Verdict {
            passed: false,
            exit_code: 1,
            reason: "5 of 115 requests failed".to_owned()
        })
    );
    // Both endpoints and the aggregate have a spectrum; its max is the table's max.
    assert_eq!(v.spectra.len(), 3);
    assert_eq!(v.spectra[2].i, None);
    assert_eq!(
        v.spectra[0].points.last().expect("points")[1],
        doc.endpoints[0].response_time.max
    );
    assert_eq!(v.series.t.len(), 2);
    assert!(v.baseline.is_none());
    // The JSON the page reads has the flattened statistics and the rates.
    let json = serde_json::to_value(&v).expect("serializes");
    assert_eq!(json["endpoints"][0]["requests"], 100);
    assert_eq!(
        json["endpoints"][0]["response_time"]["p50"].as_f64(),
        Some(doc.endpoints[0].response_time.p50)
    );
    assert!(close(
        json["endpoints"][0]["response_time"]["p50"].as_f64(),
        50.0
    ));
    assert_eq!(json["verdict"]["exit_code"], 1);
    assert!(
        json["server"].is_null(),
        "nothing monitored, no server section"
    );
}

#[test]
fn a_report_view_carries_the_result_s_server_section_as_is() {
    let mut doc = result();
    let server = barrage_metrics::ServerSection {
        interval_s: 1.0,
        sources: vec![barrage_metrics::SourceSeries {
            kind: Some(barrage_metrics::SourceKind::Process),
            name: "processes (port 8000)".into(),
            columns: vec![barrage_metrics::Column {
                key: "cpu".into(),
                label: "CPU".into(),
                unit: "%".into(),
                figure: Some("server_cpu".into()),
            }],
            rows: vec![barrage_metrics::Row {
                t: 1.0,
                values: vec![Some(42.0)],
            }],
            ..Default::default()
        }],
        hints: vec!["a hint".into()],
        ..Default::default()
    };
    doc.server = Some(server.clone());
    let v = View::from_result(&doc, None);
    assert_eq!(v.server, Some(server));
    let json = serde_json::to_value(&v).expect("serializes");
    assert_eq!(json["server"]["sources"][0]["rows"][0]["values"][0], 42.0);
    assert_eq!(json["server"]["sources"][0]["columns"][0]["unit"], "%");
    assert_eq!(json["server"]["hints"][0], "a hint");
}

#[test]
fn a_report_view_carries_the_capacity_search_as_is() {
    use barrage_metrics::capacity::{Bracket, StepPhase};
    use barrage_metrics::{CapacityDoc, CapacityStatus, CapacityStep};
    let mut doc = result();
    assert_eq!(View::from_result(&doc, None).capacity, None);
    let capacity = CapacityDoc {
        status: CapacityStatus::GeneratorLimit,
        bracket: Bracket {
            passed: Some(4000.0),
            failed: Some(8000.0),
        },
        message: "the generator, not the service, is the limit: add --workers or machines".into(),
        steps: vec![CapacityStep {
            index: 1,
            phase: Some(StepPhase::Probe),
            level: 8000.0,
            rps: 6012.5,
            reasons: vec!["schedule lag p99 4.2 ms, over 1 ms".into()],
            generator_limited: true,
            disturbed: false,
            ..Default::default()
        }],
        ..Default::default()
    };
    doc.capacity = Some(capacity.clone());
    let v = View::from_result(&doc, None);
    assert_eq!(v.capacity, Some(capacity));
    let json = serde_json::to_value(&v).expect("serializes");
    assert_eq!(json["capacity"]["status"], "generator_limit");
    assert_eq!(json["capacity"]["bracket"]["failed"], 8000.0);
    assert_eq!(json["capacity"]["steps"][0]["phase"], "probe");
    assert_eq!(json["capacity"]["steps"][0]["rps"], 6012.5);
    let back: CapacityDoc =
        serde_json::from_value(json["capacity"].clone()).expect("the page's JSON reads back");
    assert_eq!(Some(back), v.capacity);
}

#[test]
fn a_capacity_search_s_verdict_is_what_it_found_not_its_last_step_s_gate() {
    use barrage_metrics::{CapacityDoc, CapacityStatus};
    let mut doc = result();
    assert!(!barrage_report::gate(&doc).passed, "five requests failed");
    let with = |status: CapacityStatus| {
        let mut doc = doc.clone();
        doc.capacity = Some(CapacityDoc {
            status,
            message: format!("{status:?}"),
            ..Default::default()
        });
        View::from_result(&doc, None)
            .verdict
            .expect("a finished run has a verdict")
    };
    for (status, exit) in [
        (CapacityStatus::Found, 0),
        (CapacityStatus::AtLeast, 0),
        (CapacityStatus::StartFails, 3),
        (CapacityStatus::GeneratorLimit, 3),
        (CapacityStatus::Interrupted, 130),
        (CapacityStatus::Incomplete, 3),
    ] {
        let v = with(status);
        assert_eq!(
            (v.passed, v.exit_code, v.reason.as_str()),
            (exit == 0, exit, format!("{status:?}").as_str())
        );
    }
    doc.run.interrupted = true;
    doc.capacity = Some(CapacityDoc {
        status: CapacityStatus::Interrupted,
        ..CapacityDoc::default()
    });
    assert_eq!(exit_code(&doc), 130, "Ctrl-C during a search");
    // Ctrl-C during the shutdown of a search that had concluded: what it found stands.
    doc.capacity = Some(CapacityDoc::default());
    assert_eq!(exit_code(&doc), 0, "Ctrl-C after the search concluded");
}

#[test]
fn thresholds_decide_the_verdict_and_an_interrupted_run_exits_130() {
    let mut doc = result();
    doc.thresholds = vec![ThresholdVerdict {
        expr: "p95 < 1s".to_owned(),
        limit: 1000.0,
        unit: "ms".to_owned(),
        observed: Some(500.0),
        passed: true,
        ..Default::default()
    }];
    let v = View::from_result(&doc, None);
    assert_eq!(v.thresholds[0].status, "pass");
    assert_eq!(v.thresholds[0].observed, Some(500.0));
    let verdict = v.verdict.expect("a verdict");
    assert!(verdict.passed);
    assert_eq!(verdict.exit_code, 0);
    assert_eq!(verdict.reason, "the threshold passed");
    doc.run.interrupted = true;
    let verdict = View::from_result(&doc, None).verdict.expect("a verdict");
    assert_eq!(
        (verdict.passed, verdict.exit_code),
        (false, 130),
        "{verdict:?}"
    );
}

#[test]
fn a_baseline_is_drawn_with_compare_s_output() {
    let doc = result();
    let mut base = result();
    base.run.started_at = "2026-01-01T00:00:00.000Z".to_owned();
    let v = View::from_result(&doc, Some(&base));
    let b = v.baseline.expect("a baseline");
    assert_eq!(b.run.started_at, "2026-01-01T00:00:00.000Z");
    assert_eq!(b.series.t, [1.0, 2.0]);
    assert_eq!(b.aggregate.stats.requests, 115);
    assert_eq!(b.compare["verdict"], "passed");
    assert_eq!(b.compare["endpoints"].as_array().map(Vec::len), Some(2));
    assert_eq!(b.compare_passed, None);
    // A histogram that cannot be read leaves the runs drawn and says why there is no
    // comparison.
    base.histograms.aggregate.response_time = "???".to_owned();
    let b = View::from_result(&doc, Some(&base))
        .baseline
        .expect("a baseline");
    assert!(b.compare["error"]
        .as_str()
        .is_some_and(|e| e.contains("baseline")));
}

#[test]
fn suspect_follows_the_generator_s_warning_words() {
    assert!(suspect(&[
        "results suspect: a worker thread used 99% of a core".to_owned()
    ]));
    assert!(!suspect(&["something else".to_owned()]));
}
