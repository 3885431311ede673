//! Property: however the requests are split over workers and intervals, merging gives exactly
//! what recording everything in one place gives (histograms bucket for bucket, every counter,
//! every percentile).

mod common;

use std::time::Duration;

use barrage_metrics::{
    Aggregator, CheckId, EndpointId, FailureCategory, Recorder, ResultDoc, RunMeta, TaskId, Timing,
};
use common::registry;
use proptest::prelude::*;

const WORKERS: usize = 4;

#[derive(Clone, Debug)]
enum Kind {
    Success,
    FailureWithResponse(usize),
    FailureWithoutResponse(usize),
    Interrupted,
    Check(bool),
    Connection(bool),
    Iteration,
}

#[derive(Clone, Debug)]
struct Event {
    endpoint: u32,
    kind: Kind,
    latency_ns: u64,
    status: u16,
    worker: usize,
    /// Take and absorb the worker's interval after this event.
    cut: bool,
}

fn latency() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..2_000_000,                // below 1 ms, around the 1 µs floor
        1_000_000u64..10_000_000_000,   // 1 ms .. 10 s
        4_000_000_000_000u64..u64::MAX, // beyond the 1 h ceiling: clamped
    ]
}

fn event() -> impl Strategy<Value = Event> {
    let kind = prop_oneof![
        6 => Just(Kind::Success),
        2 => (0..FailureCategory::COUNT).prop_map(Kind::FailureWithResponse),
        1 => (0..FailureCategory::COUNT).prop_map(Kind::FailureWithoutResponse),
        1 => Just(Kind::Interrupted),
        1 => any::<bool>().prop_map(Kind::Check),
        1 => any::<bool>().prop_map(Kind::Connection),
        1 => Just(Kind::Iteration),
    ];
    (
        0u32..3,
        kind,
        latency(),
        prop::sample::select(vec![200u16, 201, 204, 404, 422, 500, 503, 599, 100, 302]),
        0..WORKERS,
        prop::bool::weighted(0.04),
    )
        .prop_map(|(endpoint, kind, latency_ns, status, worker, cut)| Event {
            endpoint,
            kind,
            latency_ns,
            status,
            worker,
            cut,
        })
}

fn apply(rec: &mut Recorder, e: &Event) {
    let ep = EndpointId(e.endpoint);
    let t = Timing {
        response_time_ns: e.latency_ns,
        service_time_ns: e.latency_ns / 3,
    };
    // The sample depends only on (endpoint, category), so "first sample wins" cannot make two
    // equally valid merge orders differ.
    let sample = |c: usize| move || format!("ep {} category {c}", e.endpoint);
    match e.kind {
        Kind::Success => rec.success(ep, e.status, t, e.latency_ns % 1000, e.latency_ns % 7777),
        Kind::FailureWithResponse(c) => rec.failure(
            ep,
            FailureCategory::ALL[c],
            Some(e.status),
            Some(t),
            1,
            2,
            sample(c),
        ),
        Kind::FailureWithoutResponse(c) => {
            rec.failure(ep, FailureCategory::ALL[c], None, None, 0, 0, sample(c))
        }
        Kind::Interrupted => rec.interrupted(ep),
        Kind::Check(passed) => rec.check(CheckId(e.endpoint), passed),
        Kind::Connection(tls) => rec.connection(e.latency_ns, tls.then_some(e.latency_ns / 2)),
        Kind::Iteration => rec.iteration(TaskId(e.endpoint), e.latency_ns),
    }
}

fn result(agg: &Aggregator) -> ResultDoc {
    agg.result(RunMeta::default(), Duration::from_secs(10))
}

// Each case merges dozens of ~200 KB histograms, which is slow in an unoptimized test build;
// 24 cases of up to 300 events (about 10 cuts each) keep the test near ten seconds.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn merging_intervals_in_any_split_equals_recording_in_one(
        events in prop::collection::vec(event(), 0..300)
    ) {
        let registry = registry();

        let mut one = Recorder::new(&registry);
        let mut whole = Aggregator::new(registry.clone());
        for e in &events {
            apply(&mut one, e);
        }
        whole.absorb(0, one.take_interval());

        let mut workers: Vec<Recorder> = (0..WORKERS).map(|_| Recorder::new(&registry)).collect();
        let mut split = Aggregator::new(registry.clone());
        for e in &events {
            apply(&mut workers[e.worker], e);
            if e.cut {
                split.absorb(e.worker, workers[e.worker].take_interval());
            }
        }
        for (i, w) in workers.iter_mut().enumerate() {
            split.absorb(i, w.take_interval());
        }

        let elapsed = Duration::from_secs(10);
        prop_assert_eq!(whole.snapshot(elapsed), split.snapshot(elapsed));

        let (a, b) = (result(&whole), result(&split));
        for (ha, hb) in a.histograms.endpoints.iter().chain([&a.histograms.aggregate])
            .zip(b.histograms.endpoints.iter().chain([&b.histograms.aggregate]))
        {
            prop_assert_eq!(ha.response_time().unwrap(), hb.response_time().unwrap());
            prop_assert_eq!(ha.service_time().unwrap(), hb.service_time().unwrap());
            prop_assert_eq!(ha.failed().unwrap(), hb.failed().unwrap());
        }
        prop_assert_eq!(&a.histograms.tasks, &b.histograms.tasks);
        prop_assert_eq!(&a.histograms.connections, &b.histograms.connections);
        prop_assert_eq!(a, b);
    }
}
