//! Micro-benchmarks of recording: one successful request into a worker's [`Recorder`] (the
//! per-request cost), and the once-a-second hand-off (`take_interval` on the worker, then
//! `Aggregator::absorb` on the control thread) for a 10-endpoint registry.
//!
//! Run with `cargo bench -p barrage-metrics --bench record`. The numbers in
//! `docs/PERFORMANCE.md` came from this file.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use barrage_metrics::{Aggregator, EndpointId, Recorder, Registry, Timing, TraceIds};
use criterion::{criterion_group, criterion_main, Criterion};

const ENDPOINTS: usize = 10;
/// Requests recorded between two hand-offs in the interval bench, spread over the endpoints.
const REQUESTS_PER_INTERVAL: u64 = 1_000;

fn registry() -> (Arc<Registry>, Vec<EndpointId>) {
    let mut r = Registry::default();
    let ids = (0..ENDPOINTS)
        .map(|i| r.add_endpoint("bench", "GET", &format!("/endpoint/{i}")))
        .collect();
    (Arc::new(r), ids)
}

/// Latencies spread over a few orders of magnitude (50 µs .. ~50 ms), so recording touches
/// different histogram buckets as in a real run.
fn timing(i: u64) -> Timing {
    let ns = 50_000 + (i * 7_919 % 1_000) * 50_000;
    Timing {
        response_time_ns: ns,
        service_time_ns: ns - ns / 10,
    }
}

fn record(c: &mut Criterion) {
    let (registry, ids) = registry();
    let mut group = c.benchmark_group("recorder");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let mut recorder = Recorder::new(&registry);
    let mut i = 0u64;
    group.bench_function("success (steady state)", |b| {
        b.iter(|| {
            i += 1;
            let ep = ids[(i % ENDPOINTS as u64) as usize];
            recorder.success(black_box(ep), 200, black_box(timing(i)), 120, 450);
        })
    });

    // `--traceparent`: the same, plus the offer to the endpoint's slowest (one comparison
    // once the five slowest latencies of the spread are held).
    let mut recorder = Recorder::new(&registry);
    let mut i = 0u64;
    group.bench_function("success + traced (steady state)", |b| {
        b.iter(|| {
            i += 1;
            let ep = ids[(i % ENDPOINTS as u64) as usize];
            let t = black_box(timing(i));
            recorder.success(black_box(ep), 200, t, 120, 450);
            let ids = TraceIds {
                trace_id: u128::from(i) << 64 | 1,
                span_id: i,
            };
            recorder.traced(ep, t.response_time_ns, black_box(ids), i);
        })
    });

    let mut recorder = Recorder::new(&registry);
    let mut aggregator = Aggregator::new(Arc::clone(&registry));
    group.bench_function(
        format!("take_interval + absorb ({ENDPOINTS} endpoints, {REQUESTS_PER_INTERVAL} requests)"),
        |b| {
            // Only the hand-off is timed; recording the interval's requests is set-up.
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    for i in 0..REQUESTS_PER_INTERVAL {
                        let ep = ids[(i % ENDPOINTS as u64) as usize];
                        recorder.success(ep, 200, timing(i), 120, 450);
                    }
                    let start = Instant::now();
                    let interval = recorder.take_interval();
                    aggregator.absorb(0, black_box(interval));
                    spent += start.elapsed();
                }
                spent
            })
        },
    );
    group.finish();
}

criterion_group!(benches, record);
criterion_main!(benches);
