//! `merge`: known samples split over K generators (one aggregator and one result file
//! each) and merged give what one aggregator fed every sample gives: every count, every
//! percentile of the endpoints, the aggregate, tasks, connections, the generator and the
//! 10-second windows, bucket for bucket. The per-second series keeps percentiles, not
//! histograms, so its merged percentiles are held to what the merge promises: counts and
//! max exact, percentiles an upper bound. Then the refusals, each with its message.

mod common;

use std::time::{Duration, SystemTime};

use barrage_metrics::{
    format_timestamp, merge, Aggregator, CheckId, EndpointId, FailureCategory, MergeError,
    MergeInput, Recorder, ResultDoc, RunMeta, SegmentMeta, StreamTiming, TaskId, Timing, TraceIds,
};
use common::registry;
use proptest::prelude::*;

const GENERATORS: usize = 3;
/// 25 seconds: three 10-second windows, the first and last partial.
const SECONDS: u64 = 25;
/// Unix seconds at the run's start, off a 10 s boundary.
const WALL_START: f64 = 1_700_000_003.25;

#[derive(Clone, Debug)]
enum Kind {
    Success,
    Traced,
    Failure(usize, bool),
    Interrupted,
    Check(bool),
    Connection(bool),
    Http2,
    Iteration,
    Scheduled,
    Dropped,
    Stream(u64),
    Retried,
}

#[derive(Clone, Debug)]
struct Event {
    endpoint: u32,
    kind: Kind,
    latency_ns: u64,
    status: u16,
    generator: usize,
    second: u64,
}

fn event() -> impl Strategy<Value = Event> {
    let kind = prop_oneof![
        8 => Just(Kind::Success),
        1 => Just(Kind::Traced),
        2 => ((0..FailureCategory::COUNT), any::<bool>()).prop_map(|(c, r)| Kind::Failure(c, r)),
        1 => Just(Kind::Interrupted),
        1 => any::<bool>().prop_map(Kind::Check),
        1 => any::<bool>().prop_map(Kind::Connection),
        1 => Just(Kind::Http2),
        1 => Just(Kind::Iteration),
        1 => Just(Kind::Scheduled),
        1 => Just(Kind::Dropped),
        1 => (0u64..20).prop_map(Kind::Stream),
        1 => Just(Kind::Retried),
    ];
    (
        0u32..3,
        kind,
        prop_oneof![0u64..2_000_000, 1_000_000u64..10_000_000_000],
        prop::sample::select(vec![200u16, 201, 404, 500, 503]),
        0..GENERATORS,
        0..SECONDS,
    )
        .prop_map(
            |(endpoint, kind, latency_ns, status, generator, second)| Event {
                endpoint,
                kind,
                latency_ns,
                status,
                generator,
                second,
            },
        )
}

fn apply(rec: &mut Recorder, e: &Event, n: usize) {
    let ep = EndpointId(e.endpoint);
    let t = Timing {
        response_time_ns: e.latency_ns,
        service_time_ns: e.latency_ns / 3,
    };
    match e.kind {
        Kind::Success => rec.success(ep, e.status, t, 10, 100),
        Kind::Traced => {
            rec.success(ep, 200, t, 10, 100);
            // Distinct times: which of two equally slow requests is kept is order, not data.
            let ids = TraceIds {
                trace_id: n as u128 + 1,
                span_id: n as u64 + 1,
            };
            rec.traced(
                ep,
                1_000_000 + n as u64 * 1_000,
                ids,
                e.second * 1_000_000_000,
            );
        }
        Kind::Failure(c, with_response) => rec.failure(
            ep,
            FailureCategory::ALL[c],
            with_response.then_some(e.status),
            with_response.then_some(t),
            1,
            2,
            // One sample per (endpoint, category), so "the first file's" is every file's.
            || format!("ep {} category {c}", e.endpoint),
        ),
        Kind::Interrupted => rec.interrupted(ep),
        Kind::Check(passed) => rec.check(CheckId(e.endpoint), passed),
        Kind::Connection(tls) => rec.connection(e.latency_ns, tls.then_some(e.latency_ns / 2)),
        Kind::Http2 => rec.http2_connection(),
        Kind::Iteration => rec.iteration(TaskId(e.endpoint), e.latency_ns),
        Kind::Scheduled => {
            rec.schedule_lag(e.latency_ns / 100);
            rec.iteration_started(e.second as u32, e.latency_ns / 10);
        }
        Kind::Dropped => rec.dropped(),
        Kind::Stream(events) => {
            rec.success(ep, 200, t, 10, 100);
            let timing = StreamTiming {
                first_byte_ns: e.latency_ns / 4,
                first_event_ns: (events > 0).then_some(e.latency_ns / 2),
                duration_ns: e.latency_ns,
                events,
            };
            let gaps = vec![e.latency_ns / 8; events.saturating_sub(1) as usize];
            rec.stream(ep, &timing, &gaps);
        }
        Kind::Retried => rec.retried(ep, 1),
    }
}

fn meta(elapsed: Duration, segment: Option<SegmentMeta>) -> RunMeta {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(WALL_START);
    RunMeta {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        scenario_file: Some("s.yaml".to_owned()),
        scenario_sha256: Some("ab".repeat(32)),
        target: "http://127.0.0.1:1".to_owned(),
        started_at: format_timestamp(start),
        ended_at: format_timestamp(start + elapsed),
        workers: 1,
        segment,
        ..RunMeta::default()
    }
}

/// Runs `events` through one aggregator with a worker per generator (`one`), and through
/// one aggregator per generator (the files), closing the same seconds in each.
fn record(events: &[Event]) -> (ResultDoc, Vec<ResultDoc>) {
    let registry = registry();
    let mut one = Aggregator::new(registry.clone());
    one.set_wall_start(WALL_START);
    let mut split: Vec<Aggregator> = (0..GENERATORS)
        .map(|_| {
            let mut a = Aggregator::new(registry.clone());
            a.set_wall_start(WALL_START);
            a
        })
        .collect();
    let mut for_one: Vec<Recorder> = (0..GENERATORS).map(|_| Recorder::new(&registry)).collect();
    let mut for_split: Vec<Recorder> = (0..GENERATORS).map(|_| Recorder::new(&registry)).collect();
    for second in 0..SECONDS {
        for (n, e) in events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.second == second)
        {
            apply(&mut for_one[e.generator], e, n);
            apply(&mut for_split[e.generator], e, n);
        }
        for g in 0..GENERATORS {
            // Gauges and CPU differ per generator and second.
            let users = (g as u64 + 1) * (second % 4);
            let cpu = (g as u64 + 1) * 100_000_000 + second * 1_000_000;
            for rec in [&mut for_one[g], &mut for_split[g]] {
                rec.set_users(users);
                rec.set_in_flight(users / 2);
                rec.queue_depth(second % (g as u64 + 2));
                rec.cpu(cpu);
            }
            one.absorb(g, for_one[g].take_interval());
            split[g].absorb(0, for_split[g].take_interval());
        }
        let at = Duration::from_secs(second + 1);
        one.close_second(at);
        split.iter_mut().for_each(|a| a.close_second(at));
    }
    let elapsed = Duration::from_secs(SECONDS);
    let mut whole = meta(elapsed, None);
    whole.workers = GENERATORS as u32;
    let files = split
        .iter()
        .enumerate()
        .map(|(g, a)| {
            let segment = SegmentMeta {
                index: g as u64 + 1,
                count: GENERATORS as u64,
            };
            a.result(meta(elapsed, Some(segment)), elapsed)
        })
        .collect();
    (one.result(whole, elapsed), files)
}

fn inputs(files: Vec<ResultDoc>) -> Vec<MergeInput> {
    files
        .into_iter()
        .enumerate()
        .map(|(g, doc)| MergeInput {
            name: format!("g{g}.json"),
            // Through the file and back, as `barrage merge` reads them.
            doc: ResultDoc::from_json(&doc.to_json()).expect("a file barrage wrote reads back"),
        })
        .collect()
}

// Each case merges a few dozen histograms; 16 cases of up to 400 events keep the test
// within a few seconds in a release build.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn merging_generators_files_equals_recording_in_one_place(
        events in prop::collection::vec(event(), 0..400)
    ) {
        let (one, files) = record(&events);
        let mut merged = merge(&inputs(files), "barrage merge g0.json g1.json g2.json").unwrap();

        prop_assert_eq!(merged.generators.len(), GENERATORS);
        prop_assert_eq!(&merged.generators[1].name, "segment 2/3");
        prop_assert!(merged.warnings.is_empty(), "{:?}", merged.warnings);
        prop_assert_eq!(merged.run.workers, GENERATORS as u32);
        prop_assert_eq!(merged.run.segment, None);
        prop_assert_eq!(&merged.run.command, "barrage merge g0.json g1.json g2.json");

        // The series: counts, gauges and max exact; each percentile at or above the one
        // recorded in one place (the highest of the generators').
        prop_assert_eq!(merged.series.len(), one.series.len());
        for (m, o) in merged.series.iter_mut().zip(&one.series) {
            prop_assert_eq!(
                (m.t, m.users, m.in_flight, m.requests, m.failures, m.max),
                (o.t, o.users, o.in_flight, o.requests, o.failures, o.max)
            );
            prop_assert_eq!((m.iterations_started, m.dropped), (o.iterations_started, o.dropped));
            prop_assert!(m.p50 >= o.p50 && m.p95 >= o.p95 && m.p99 >= o.p99);
            prop_assert!(m.p99 <= m.max);
            prop_assert_eq!(m.endpoints.len(), o.endpoints.len());
            for (me, oe) in m.endpoints.iter_mut().zip(&o.endpoints) {
                prop_assert_eq!((me.i, me.requests, me.failures), (oe.i, oe.requests, oe.failures));
                prop_assert!(me.p50 >= oe.p50 && me.p95 >= oe.p95 && me.p99 >= oe.p99);
                (me.p50, me.p95, me.p99) = (oe.p50, oe.p95, oe.p99);
            }
            (m.p50, m.p95, m.p99) = (o.p50, o.p95, o.p99);
        }

        // Everything else equals one aggregator's, field for field (the encoded
        // histograms of endpoints, tasks, connections, generator and windows included),
        // but what names the merge itself.
        merged.run = one.run.clone();
        merged.generators.clear();
        prop_assert_eq!(merged, one);
    }
}

fn sample(segment: Option<SegmentMeta>) -> ResultDoc {
    let registry = registry();
    let mut agg = Aggregator::new(registry.clone());
    agg.set_wall_start(WALL_START);
    let mut rec = Recorder::new(&registry);
    let t = Timing {
        response_time_ns: 5_000_000,
        service_time_ns: 4_000_000,
    };
    rec.success(EndpointId(0), 200, t, 1, 1);
    agg.absorb(0, rec.take_interval());
    agg.close_second(Duration::from_secs(1));
    let elapsed = Duration::from_secs(1);
    agg.result(meta(elapsed, segment), elapsed)
}

fn named(name: &str, doc: ResultDoc) -> MergeInput {
    MergeInput {
        name: name.to_owned(),
        doc,
    }
}

fn seg(index: u64, count: u64) -> Option<SegmentMeta> {
    Some(SegmentMeta { index, count })
}

fn refused(inputs: &[MergeInput]) -> String {
    merge(inputs, "barrage merge").unwrap_err().to_string()
}

#[test]
fn files_of_different_scenarios_are_refused() {
    let a = sample(None);
    let mut b = sample(None);
    b.run.scenario_sha256 = Some("cd".repeat(32));
    let msg = refused(&[named("a.json", a.clone()), named("b.json", b)]);
    assert!(
        msg.starts_with("a.json and b.json ran different scenarios"),
        "{msg}"
    );
    let mut hit = sample(None);
    hit.run.scenario_sha256 = None;
    let msg = refused(&[named("a.json", a), named("hit.json", hit)]);
    assert!(
        msg.starts_with(
            "a.json records the scenario it ran (scenario_sha256) but hit.json does not"
        ),
        "{msg}"
    );
}

#[test]
fn overlapping_segments_are_refused() {
    let msg = refused(&[
        named("a.json", sample(seg(2, 4))),
        named("b.json", sample(seg(2, 4))),
    ]);
    assert_eq!(
        msg,
        "a.json and b.json are both segment 2/4: a share of the load given twice would count \
         its requests twice"
    );
    let msg = refused(&[
        named("a.json", sample(seg(1, 4))),
        named("b.json", sample(seg(1, 2))),
    ]);
    assert!(
        msg.starts_with(
            "a.json is segment 1/4 but b.json is segment 1/2: segments of different splits overlap"
        ),
        "{msg}"
    );
    let msg = refused(&[
        named("whole.json", sample(None)),
        named("s.json", sample(seg(1, 2))),
    ]);
    assert!(
        msg.starts_with("s.json is one segment of a split run but whole.json is a whole run"),
        "{msg}"
    );
    let msg = refused(&[named("a.json", sample(seg(5, 4)))]);
    assert_eq!(
        msg,
        "a.json: `run.segment` is 5/4; a segment is I/N with 1 <= I <= N"
    );
}

#[test]
fn the_same_run_twice_a_capacity_result_and_a_trimmed_file_are_refused() {
    let mut a = sample(None);
    a.run.run_id = "0b1d".to_owned();
    let msg = refused(&[named("a.json", a.clone()), named("copy.json", a)]);
    assert!(
        msg.starts_with("a.json and copy.json are the same run (run_id 0b1d)"),
        "{msg}"
    );

    let mut trimmed = sample(None);
    trimmed.histograms.endpoints[0].response_time.clear();
    let msg = refused(&[named("a.json", sample(None)), named("t.json", trimmed)]);
    assert!(
        msg.starts_with("t.json: `histograms.endpoints[0].response_time` holds no histogram though it counts 1 values"),
        "{msg}"
    );

    let mut bad_time = sample(None);
    bad_time.run.started_at = "yesterday".to_owned();
    let msg = refused(&[named("a.json", sample(None)), named("b.json", bad_time)]);
    assert_eq!(
        msg,
        "b.json: `run.started_at` is \"yesterday\", not an RFC 3339 time; merge lines the files up by it"
    );
    assert_eq!(merge(&[], "barrage merge"), Err(MergeError::Nothing));
}

#[test]
fn missing_segments_are_merged_with_a_warning() {
    let merged = merge(
        &[
            named("a.json", sample(seg(1, 4))),
            named("b.json", sample(seg(2, 4))),
        ],
        "barrage merge",
    )
    .unwrap();
    assert_eq!(merged.aggregate.requests, 2);
    assert_eq!(
        merged.warnings,
        vec!["segments 3/4, 4/4 missing: the merged run holds 2 of 4 shares of the load"]
    );
}

#[test]
fn files_started_apart_line_up_on_the_wall_clock() {
    // b started 2.5 s after a: its first second (2.5..3.5 on a's clock) is the merged
    // run's fourth (index 3), and the merged run lasts until b ended.
    let a = sample(None);
    let mut b = sample(None);
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(WALL_START + 2.5);
    b.run.started_at = format_timestamp(start);
    b.run.ended_at = format_timestamp(start + Duration::from_secs(1));
    b.run.run_id = "other".to_owned();
    b.timeline.push(barrage_metrics::TimelineEntry {
        at_s: 0.5,
        what: "statistics reset".to_owned(),
        source: "--reset-stats".to_owned(),
    });
    let merged = merge(&[named("a.json", a), named("b.json", b)], "barrage merge").unwrap();
    assert_eq!(merged.run.duration_s, 3.5);
    assert_eq!(merged.run.started_at, "2023-11-14T22:13:23.25Z");
    let requests: Vec<u64> = merged.series.iter().map(|s| s.requests).collect();
    assert_eq!(requests, vec![1, 0, 0, 1]);
    assert_eq!(merged.series[3].t, 3.5);
    assert_eq!(merged.timeline[0].at_s, 3.0);
    assert_eq!(merged.timeline[0].source, "--reset-stats (b.json)");
    assert_eq!(merged.aggregate.rps, 2.0 / 3.5);
}
