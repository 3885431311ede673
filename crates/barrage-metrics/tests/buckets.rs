//! The exporters' cumulative latency buckets, read from the aggregator's histograms: each
//! bound counts the timed requests at or below it, the last count is every timed request,
//! and a statistics reset starts them again.

use std::sync::Arc;
use std::time::Duration;

use barrage_metrics::{Aggregator, EndpointId, Recorder, Registry, Timing};

fn ms(v: u64) -> Timing {
    Timing {
        response_time_ns: v * 1_000_000,
        service_time_ns: v * 1_000_000,
    }
}

#[test]
fn buckets_count_the_requests_at_or_below_each_bound() {
    let mut r = Registry::default();
    r.add_endpoint("s", "GET", "/a");
    r.add_endpoint("s", "GET", "/b");
    let registry = Arc::new(r);
    let mut w = Recorder::new(&registry);
    let mut agg = Aggregator::new(registry);
    // /a: 3 x 2 ms, 2 x 40 ms, 1 x 2 s; /b: 4 x 120 ms.
    for (ep, v, n) in [(0, 2, 3), (0, 40, 2), (0, 2_000, 1), (1, 120, 4)] {
        for _ in 0..n {
            w.success(EndpointId(ep), 200, ms(v), 0, 0);
        }
    }
    agg.absorb(0, w.take_interval());
    agg.close_second(Duration::from_secs(1));
    let bounds = [0.005, 0.05, 0.1, 0.25, 1.0, 5.0];
    let b = agg.latency_buckets(&bounds);
    assert_eq!(b.bounds_s, bounds);
    assert_eq!(b.endpoints[0].cumulative, [3, 5, 5, 5, 5, 6]);
    assert_eq!(b.endpoints[0].count, 6);
    assert_eq!(b.endpoints[1].cumulative, [0, 0, 0, 4, 4, 4]);
    assert_eq!(b.aggregate.cumulative, [3, 5, 5, 9, 9, 10]);
    assert_eq!(b.aggregate.count, 10);
    // 3 x 2 ms + 2 x 40 ms + 2 s + 4 x 120 ms = 2.566 s, to the histogram's precision.
    let sum = b.aggregate.sum_s;
    assert!((sum - 2.566).abs() < 0.01, "{sum}");

    agg.reset();
    let empty = agg.latency_buckets(&bounds);
    assert_eq!(empty.aggregate.cumulative, [0; 6]);
    assert_eq!(empty.aggregate.count, 0);
}
