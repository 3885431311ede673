use std::time::Duration;

use barrage_metrics::{Aggregator, SecondSummary};
use barrage_report::threshold::Watch;

use super::*;
use crate::view::EndpointWindows;

fn row(t: f64, requests: u64) -> SecondSummary {
    SecondSummary {
        t,
        users: 3,
        requests,
        failures: 0,
        rps: requests as f64,
        p50: 1_000,
        p95: 2_000,
        p99: 3_000,
        max: 4_000,
        endpoints: Vec::new(),
        iterations_started: 0,
        dropped: 0,
        cpu_percent: 5.0,
        in_flight: 2,
    }
}

fn live(second: u64, recent: Vec<SecondSummary>) -> Live {
    Live {
        second,
        snapshot: Aggregator::new(Arc::default()).snapshot(Duration::from_secs(second)),
        thresholds: Watch::new(Vec::new()),
        schedule_matters: false,
        missed: 0,
        windows: Vec::new(),
        recent,
        open_window: None,
        server: None,
        buckets: None,
    }
}

#[test]
fn each_second_appends_only_new_rows_and_its_delta_holds_just_them() {
    let view = LiveView::new(View::default());
    let mut events = view.subscribe();
    let mut sink = view.sink();
    sink.second(&live(1, vec![row(1.0, 10)]));
    // The sink missed second 2: second 3's recent rows fill it in, and row 1 is not added
    // twice.
    sink.second(&live(3, vec![row(1.0, 10), row(2.0, 20), row(3.0, 30)]));
    let whole: View = serde_json::from_str(&view.view_json()).unwrap();
    assert_eq!(whole.mode, Mode::Live);
    assert_eq!(whole.series.t, [1.0, 2.0, 3.0]);
    assert_eq!(whole.series.rps, [10.0, 20.0, 30.0]);
    let first = events.try_recv().unwrap();
    assert_eq!(first.name, "second");
    let first: View = serde_json::from_str(&first.data).unwrap();
    assert_eq!(first.series.t, [1.0]);
    let second: View = serde_json::from_str(&events.try_recv().unwrap().data).unwrap();
    assert_eq!(
        second.series.t,
        [2.0, 3.0],
        "the delta holds only what is new"
    );
    assert_eq!(second.series.rps, [20.0, 30.0]);
}

#[test]
fn states_and_notices_reach_the_clients_and_the_view() {
    let view = LiveView::new(View {
        state: State::Ready,
        form: Some(view::Form::default()),
        ..View::default()
    });
    let mut events = view.subscribe();
    view.set_state(State::Running);
    view.set_state(State::Running);
    view.notice("\nLoad changed: users 2 -> 5 (scenario default) (web UI).");
    let e = events.try_recv().unwrap();
    assert_eq!(
        (e.name, &*e.data),
        ("state", r#"{"state":"running","verdict":null}"#)
    );
    let e = events.try_recv().unwrap();
    assert_eq!(
        (e.name, &*e.data),
        (
            "notice",
            r#"{"text":"Load changed: users 2 -> 5 (scenario default) (web UI)."}"#
        )
    );
    assert!(
        events.try_recv().is_err(),
        "an unchanged state sends nothing"
    );
    view.with_view(|v| {
        assert_eq!(v.state, State::Running);
        assert_eq!(v.form, None, "the form is gone once the run starts");
        assert_eq!(v.notices.len(), 1);
    });
}

#[test]
fn the_end_is_the_last_event_and_then_every_stream_ends() {
    let view = LiveView::new(View::default());
    let mut before = view.subscribe();
    view.set_state(State::Running);
    view.end(0);
    let ended = r#"{"state":"ended","verdict":null}"#;
    let e = before.try_recv().unwrap();
    assert_eq!(
        (e.name, &*e.data),
        ("state", r#"{"state":"running","verdict":null}"#)
    );
    let e = before.try_recv().unwrap();
    assert_eq!((e.name, &*e.data), ("state", ended));
    assert_eq!(
        before.try_recv().unwrap_err(),
        broadcast::error::TryRecvError::Closed
    );
    // A client that comes after the end gets the end, then the stream ends.
    let mut after = view.subscribe();
    let e = after.try_recv().unwrap();
    assert_eq!((e.name, &*e.data), ("state", ended));
    assert_eq!(
        after.try_recv().unwrap_err(),
        broadcast::error::TryRecvError::Closed
    );
    // Nothing is sent once closed, and it is no error.
    view.notice("late");
    assert_eq!(view.subscribe().try_recv().unwrap().name, "state");
}

fn windows(start: &[u64], aggregate: &[f64], endpoints: &[(u32, &[f64])]) -> Windows {
    let values = |v: &[f64]| vec![v.iter().map(|&x| Some(x)).collect::<Vec<_>>()];
    Windows {
        quantiles: vec!["p50".into()],
        start: start.to_vec(),
        t: start.iter().map(|&s| s as f64).collect(),
        requests: vec![1; start.len()],
        aggregate: values(aggregate),
        endpoints: endpoints
            .iter()
            .map(|&(i, v)| EndpointWindows {
                i,
                values: values(v),
            })
            .collect(),
        open: None,
    }
}

#[test]
fn appended_windows_keep_every_endpoint_aligned_to_all_windows() {
    let mut whole = Windows::default();
    append_windows(
        &mut whole,
        windows(&[10, 20], &[1.0, 2.0], &[(3, &[5.0, 6.0])]),
    );
    append_windows(&mut whole, windows(&[30], &[3.0], &[(1, &[7.0])]));
    append_windows(&mut whole, Windows::default());
    assert_eq!(whole.start, [10, 20, 30]);
    assert_eq!(whole.aggregate, [[Some(1.0), Some(2.0), Some(3.0)]]);
    let by_i: Vec<_> = whole
        .endpoints
        .iter()
        .map(|e| (e.i, e.values.clone()))
        .collect();
    assert_eq!(
        by_i,
        [
            (1, vec![vec![None, None, Some(7.0)]]),
            (3, vec![vec![Some(5.0), Some(6.0), None]]),
        ]
    );
}

#[test]
fn a_threshold_is_pending_until_judged_then_pass_or_fail() {
    let t = barrage_report::threshold::parse("p95<200ms").unwrap();
    let w = Watched::new(t, true, Duration::ZERO);
    let v = watched(&w);
    assert_eq!(
        (v.expr.as_str(), v.status.as_str(), v.limit, v.unit.as_str()),
        ("p95<200ms", "pending", 200.0, "ms")
    );
    assert!(v.abort_on_fail);
    let judged = judged(&ThresholdVerdict {
        expr: "p95<200ms".into(),
        metric: "p95".into(),
        op: "<".into(),
        limit: 200.0,
        unit: "ms".into(),
        observed: Some(250.0),
        passed: false,
        source: "scenario".into(),
        abort_on_fail: false,
        aborted_run: false,
        note: None,
    });
    assert_eq!(
        (judged.status.as_str(), judged.observed),
        ("fail", Some(250.0))
    );
}

fn server_live(rows: &[(f64, f64)], lost: Option<&str>) -> Arc<ServerLive> {
    use barrage_metrics::{Column, SourceKind, SourceLive};
    let rows: Vec<ServerRow> = rows
        .iter()
        .map(|&(t, cpu)| ServerRow {
            t,
            values: vec![Some(cpu)],
        })
        .collect();
    Arc::new(ServerLive {
        sources: vec![SourceLive {
            kind: Some(SourceKind::Process),
            name: "processes (port 8000)".into(),
            columns: vec![Column {
                key: "cpu".into(),
                label: "CPU".into(),
                unit: "%".into(),
                figure: Some("server_cpu".into()),
            }],
            last: rows.last().cloned(),
            rows,
            lost: lost.map(Into::into),
        }],
        ..ServerLive::default()
    })
}

fn cpu_of(section: &ServerSection) -> Vec<(f64, Option<f64>)> {
    section.sources[0]
        .rows
        .iter()
        .map(|r| (r.t, r.get(0)))
        .collect()
}

#[test]
fn server_rows_are_appended_each_second_and_the_delta_holds_just_the_new_ones() {
    let view = LiveView::new(View::default());
    let mut events = view.subscribe();
    let mut sink = view.sink();
    let mut second = live(1, vec![row(1.0, 10)]);
    second.server = Some(server_live(&[(1.0, 50.0)], None));
    sink.second(&second);
    let mut second = live(2, vec![row(2.0, 10)]);
    // A row repeated is not appended twice.
    second.server = Some(server_live(&[(1.0, 50.0), (2.0, 150.0)], Some("exited")));
    sink.second(&second);
    let whole: View = serde_json::from_str(&view.view_json()).unwrap();
    let server = whole.server.expect("the server section");
    assert_eq!(cpu_of(&server), [(1.0, Some(50.0)), (2.0, Some(150.0))]);
    assert_eq!(server.sources[0].lost.as_deref(), Some("exited"));
    assert_eq!(
        server.sources[0].columns[0].figure.as_deref(),
        Some("server_cpu")
    );
    let first: View = serde_json::from_str(&events.try_recv().unwrap().data).unwrap();
    assert_eq!(cpu_of(&first.server.unwrap()), [(1.0, Some(50.0))]);
    let delta: View = serde_json::from_str(&events.try_recv().unwrap().data).unwrap();
    let delta = delta.server.unwrap();
    assert_eq!(cpu_of(&delta), [(2.0, Some(150.0))]);
    assert_eq!(delta.sources[0].lost.as_deref(), Some("exited"));

    // A second without server news leaves the section as it is, and its delta has none.
    sink.second(&live(3, vec![row(3.0, 10)]));
    let delta: View = serde_json::from_str(&events.try_recv().unwrap().data).unwrap();
    assert_eq!(delta.server, None);
    view.with_view(|v| assert_eq!(v.server.as_ref().map(cpu_of).unwrap().len(), 2));
}

#[test]
fn the_result_s_server_section_replaces_the_live_one_and_its_delta_has_the_rows_missed() {
    let mut whole = None;
    server_second(&mut whole, &server_live(&[(1.0, 50.0)], None));
    let mut end = whole.clone().unwrap();
    end.sources[0].rows.push(ServerRow {
        t: 2.0,
        values: vec![Some(80.0)],
    });
    end.hints = vec!["a hint".into()];
    end.interval_s = 1.0;
    let delta = server_finished(&mut whole, &end);
    assert_eq!(cpu_of(&delta), [(2.0, Some(80.0))]);
    assert_eq!(delta.hints, ["a hint"]);
    assert_eq!(whole, Some(end));
}
