//! The per-worker recorder: where every request's outcome lands.
//!
//! One `Recorder` lives on each worker thread and is used only from it, so recording is a few
//! additions into vectors indexed by interned ids: no lock, no atomic, no channel, no string
//! hashing (DESIGN.md, "The engine"). Once a second the worker calls
//! [`Recorder::take_interval`] and sends the [`Interval`] it gets to the control thread; that
//! one cross-thread hand-off per second replaces a message per request (goose's ceiling, see
//! STYLE.md).
//!
//! Allocation: histograms are allocated lazily, and `take_interval` pre-allocates fresh ones
//! for every endpoint, task and connection timing that was in use, so in steady state the
//! record methods never allocate. The exceptions are data that is truly new: the first failure
//! of a category per endpoint per interval builds its sample message, and a ninth distinct
//! status code per endpoint per interval spills into a map.
//!
//! The recorder must not read clocks or know about HTTP: the caller measures, the recorder
//! counts.

use crate::interval::Interval;
use crate::registry::{CheckId, EndpointId, FailureCategory, Registry, TaskId, Timing};
use crate::slowest::{Slow, TraceIds};
use crate::stream::StreamTiming;

/// Records request outcomes for one worker. See the module documentation.
///
/// Every method panics if handed an id that is not in the [`Registry`] the recorder was built
/// from; ids come from the engine's compiled plan, so that is a bug, not a runtime condition.
#[derive(Debug)]
pub struct Recorder {
    current: Interval,
}

impl Recorder {
    /// A recorder sized for every endpoint, task and check in `registry`.
    pub fn new(registry: &Registry) -> Recorder {
        Recorder {
            current: Interval::empty(registry),
        }
    }

    /// A request that succeeded: counted, and both latencies recorded.
    #[inline]
    pub fn success(
        &mut self,
        ep: EndpointId,
        status: u16,
        t: Timing,
        bytes_sent: u64,
        bytes_received: u64,
    ) {
        let e = &mut self.current.endpoints[ep.index()];
        e.requests += 1;
        e.bytes_sent += bytes_sent;
        e.bytes_received += bytes_received;
        e.status.add(status, 1);
        e.response_time.record(t.response_time_ns);
        e.service_time.record(t.service_time_ns);
    }

    /// A successful request that carried a `traceparent` header (`--traceparent`), told
    /// beside [`Recorder::success`]: kept among its endpoint's slowest (with `ids`, and
    /// `at_ns`, when it was sent in nanoseconds since the run's start) when it is one of
    /// them. One comparison and no allocation unless it is.
    #[inline]
    pub fn traced(&mut self, ep: EndpointId, response_time_ns: u64, ids: TraceIds, at_ns: u64) {
        self.current.endpoints[ep.index()].slowest.offer(Slow {
            response_time_ns,
            ids,
            at_ns,
        });
    }

    /// A request that failed. `status` and `t` are present when a response arrived (for
    /// example an unexpected status, or a failed check); its response time then goes into the
    /// endpoint's `failed` histogram, never into the success histograms.
    ///
    /// `message` builds the sample message; it is called only when no sample is held yet for
    /// (`ep`, `category`) in this interval, so formatting costs nothing on repeated failures.
    #[allow(clippy::too_many_arguments)] // the engine's call site reads best with them spelled out
    #[inline]
    pub fn failure(
        &mut self,
        ep: EndpointId,
        category: FailureCategory,
        status: Option<u16>,
        t: Option<Timing>,
        bytes_sent: u64,
        bytes_received: u64,
        message: impl FnOnce() -> String,
    ) {
        let e = &mut self.current.endpoints[ep.index()];
        e.requests += 1;
        e.failures += 1;
        e.bytes_sent += bytes_sent;
        e.bytes_received += bytes_received;
        if let Some(code) = status {
            e.status.add(code, 1);
        }
        if let Some(t) = t {
            e.failed.record(t.response_time_ns);
        }
        e.failures_by_category.add(category, message);
    }

    /// `n` requests of endpoint `ep` that went once more on a fresh connection, after a
    /// reused one died before a byte of the answer: counted apart, never as failures (the
    /// request itself is counted once, by [`Recorder::success`] or [`Recorder::failure`]).
    #[inline]
    pub fn retried(&mut self, ep: EndpointId, n: u64) {
        self.current.endpoints[ep.index()].retries += n;
    }

    /// A successful streamed answer's figures (told beside [`Recorder::success`]): its
    /// first byte, first event, the gaps between its events, duration and event count.
    pub fn stream(&mut self, ep: EndpointId, t: &StreamTiming, gaps_ns: &[u64]) {
        self.current.endpoints[ep.index()]
            .stream
            .get_or_insert_default()
            .record(t, gaps_ns);
    }

    /// A WebSocket of endpoint `ep` was opened; its upgrade took `upgrade_ns`.
    #[inline]
    pub fn ws_opened(&mut self, ep: EndpointId, upgrade_ns: u64) {
        let m = &mut self.current.endpoints[ep.index()].messages;
        m.sockets += 1;
        m.upgrade_time.record(upgrade_ns);
    }

    /// Messages a WebSocket of endpoint `ep` sent and received (the round trips of its
    /// `receive`s are told apart, by [`Recorder::success`] and [`Recorder::failure`]).
    #[inline]
    pub fn ws_messages(&mut self, ep: EndpointId, sent: u64, received: u64) {
        let m = &mut self.current.endpoints[ep.index()].messages;
        m.sent += sent;
        m.received += received;
    }

    /// The outcome of one check on one response.
    #[inline]
    pub fn check(&mut self, id: CheckId, passed: bool) {
        let c = &mut self.current.checks[id.index()];
        if passed {
            c.passes += 1;
        } else {
            c.fails += 1;
        }
    }

    /// A new connection was made: how long the TCP connect took and, for TLS, the handshake.
    #[inline]
    pub fn connection(&mut self, connect_ns: u64, tls_ns: Option<u64>) {
        let c = &mut self.current.connections;
        c.opened += 1;
        c.connect_time.record(connect_ns);
        if let Some(tls) = tls_ns {
            c.tls_time.record(tls);
        }
    }

    /// The connection just counted by [`Recorder::connection`] speaks HTTP/2.
    #[inline]
    pub fn http2_connection(&mut self) {
        self.current.connections.http2 += 1;
    }

    /// One iteration of a task (one pass through all its steps) completed.
    #[inline]
    pub fn iteration(&mut self, task: TaskId, duration_ns: u64) {
        self.current.tasks[task.index()]
            .duration
            .record(duration_ns);
    }

    /// A request cut off by a hard stop. Not a failure, and not counted in `requests`.
    #[inline]
    pub fn interrupted(&mut self, ep: EndpointId) {
        self.current.endpoints[ep.index()].interrupted += 1;
    }

    /// The number of users running on this worker now (a gauge, not a counter).
    #[inline]
    pub fn set_users(&mut self, n: u64) {
        self.current.users = n;
    }

    /// The number of requests written and not yet answered on this worker now (a gauge, set
    /// once per interval by the worker, which counts them as they go).
    #[inline]
    pub fn set_in_flight(&mut self, n: u64) {
        self.current.in_flight = n;
    }

    /// The number of users on this worker that have never held a connection because this
    /// machine ran out of descriptors or ports (a gauge; such users are not in
    /// [`Recorder::set_users`]'s count).
    #[inline]
    pub fn set_unconnected(&mut self, n: u64) {
        self.current.unconnected = n;
    }

    /// A user ended without ever having held a connection, for lack of local resources.
    #[inline]
    pub fn ended_unconnected(&mut self) {
        self.current.ended_unconnected += 1;
    }

    /// The scheduler woke `lag_ns` after an intended start (arrival-rate models).
    #[inline]
    pub fn schedule_lag(&mut self, lag_ns: u64) {
        self.current.generator.schedule_lag.record(lag_ns);
    }

    /// A scheduled iteration began `delay_ns` after its intended start, which fell in
    /// second `intended_second` of the run (counting from 0).
    #[inline]
    pub fn iteration_started(&mut self, intended_second: u32, delay_ns: u64) {
        let g = &mut self.current.generator;
        g.started += 1;
        g.start_delay.record(delay_ns);
        match g.started_by_second.last_mut() {
            Some((s, n)) if *s == intended_second => *n += 1,
            // A new second: one push a second, not per request.
            _ => crate::generator::add_to_second(&mut g.started_by_second, intended_second, 1),
        }
    }

    /// A scheduled iteration was dropped: every user was busy and the scenario drops rather
    /// than queues.
    #[inline]
    pub fn dropped(&mut self) {
        self.current.generator.dropped += 1;
    }

    /// Scheduled iterations waiting for a free user right now.
    #[inline]
    pub fn queue_depth(&mut self, n: u64) {
        let g = &mut self.current.generator;
        g.queue_now = n;
        g.queue_max = g.queue_max.max(n);
    }

    /// CPU time the worker thread used since the last call (read by the worker once per
    /// interval from its thread clock).
    pub fn cpu(&mut self, ns: u64) {
        self.current.generator.cpu_ns += ns;
    }

    /// Swaps out everything recorded since the last take. The gauges carry over.
    pub fn take_interval(&mut self) -> Interval {
        self.current.take_rewarmed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn registry() -> (Registry, EndpointId, EndpointId, TaskId, CheckId) {
        let mut r = Registry::default();
        let a = r.add_endpoint("s", "GET", "/a");
        let b = r.add_endpoint("s", "POST", "/b");
        let t = r.add_task("s", "u", "browse");
        let c = r.add_check(b, "status == 201");
        (r, a, b, t, c)
    }

    fn ms(v: u64) -> Timing {
        Timing {
            response_time_ns: v * 1_000_000,
            service_time_ns: v * 500_000,
        }
    }

    #[test]
    fn records_successes_failures_and_the_rest() {
        let (r, a, b, t, c) = registry();
        let mut rec = Recorder::new(&r);
        rec.set_users(7);
        rec.success(a, 200, ms(10), 100, 1000);
        rec.success(a, 200, ms(20), 100, 1000);
        rec.failure(
            a,
            FailureCategory::Status,
            Some(503),
            Some(ms(30)),
            100,
            50,
            || "HTTP 503".into(),
        );
        rec.failure(b, FailureCategory::ConnectRefused, None, None, 0, 0, || {
            "connection refused".into()
        });
        rec.interrupted(b);
        rec.check(c, true);
        rec.check(c, false);
        rec.connection(1_000_000, Some(3_000_000));
        rec.connection(2_000_000, None);
        rec.iteration(t, 50_000_000);

        let iv = rec.take_interval();
        assert_eq!(iv.requests(), 4);
        assert_eq!(iv.failures(), 2);
        assert_eq!(iv.users(), 7);
        let ea = &iv.endpoints[0];
        assert_eq!((ea.requests, ea.failures, ea.interrupted), (3, 1, 0));
        assert_eq!((ea.bytes_sent, ea.bytes_received), (300, 2050));
        let codes: BTreeMap<u16, u64> = ea.status.iter().collect();
        assert_eq!(codes, BTreeMap::from([(200, 2), (503, 1)]));
        assert_eq!(ea.response_time.len(), 2);
        assert_eq!(ea.service_time.len(), 2);
        assert_eq!(ea.failed.len(), 1);
        let eb = &iv.endpoints[1];
        assert_eq!((eb.requests, eb.failures, eb.interrupted), (1, 1, 1));
        assert_eq!(eb.failed.len(), 0, "no response, no latency");
        assert_eq!(iv.checks[0].passes, 1);
        assert_eq!(iv.checks[0].fails, 1);
        assert_eq!(iv.connections.opened, 2);
        assert_eq!(iv.connections.connect_time.len(), 2);
        assert_eq!(iv.connections.tls_time.len(), 1);
        assert_eq!(iv.tasks[0].duration.len(), 1);
    }

    #[test]
    fn take_interval_starts_afresh_and_keeps_the_users_gauge() {
        let (r, a, ..) = registry();
        let mut rec = Recorder::new(&r);
        rec.set_users(3);
        rec.success(a, 200, ms(1), 0, 0);
        let first = rec.take_interval();
        assert_eq!(first.requests(), 1);
        // The endpoint that was busy got pre-allocated histograms; the idle one did not.
        assert!(rec.current.endpoints[0].response_time.get().is_some());
        assert!(rec.current.endpoints[1].response_time.get().is_none());
        let second = rec.take_interval();
        assert!(second.is_empty());
        assert_eq!(second.users(), 3);
        // Idle since: nothing handed over, and the recorder keeps its buckets.
        assert!(second.endpoints[0].response_time.get().is_none());
        assert!(rec.current.endpoints[0].response_time.get().is_some());
    }

    #[test]
    fn sample_message_is_built_once_per_interval_and_category() {
        let (r, a, ..) = registry();
        let mut rec = Recorder::new(&r);
        let mut built = 0;
        for _ in 0..3 {
            rec.failure(a, FailureCategory::Reset, None, None, 0, 0, || {
                built += 1;
                "reset".into()
            });
        }
        assert_eq!(built, 1);
        let _ = rec.take_interval();
        rec.failure(a, FailureCategory::Reset, None, None, 0, 0, || {
            built += 1;
            "reset again".into()
        });
        assert_eq!(built, 2, "a new interval holds no sample yet");
    }

    #[test]
    fn traced_requests_keep_the_five_slowest_across_intervals_and_workers() {
        use crate::Aggregator;
        use std::sync::Arc;
        use std::time::Duration;

        let (r, a, b, ..) = registry();
        let ids = |n: u64| TraceIds {
            trace_id: u128::from(n) << 64 | 0xabc,
            span_id: n,
        };
        let mut workers = [Recorder::new(&r), Recorder::new(&r)];
        let mut agg = Aggregator::new(Arc::new(r));
        // Two workers, two intervals each: request n takes (n * 7 % 41) ms (each of 1..=40 once), n = 1..=40, and
        // is sent at n ms. Untraced successes (`/a`'s 500 ms) and failures are never kept.
        for second in 0..2u64 {
            for n in (1..=40u64).filter(|n| (n - 1) / 20 == second) {
                let w = &mut workers[(n % 2) as usize];
                let t = ms(n * 7 % 41);
                w.success(a, 200, t, 0, 0);
                w.traced(a, t.response_time_ns, ids(n), n * 1_000_000);
            }
            workers[0].success(a, 200, ms(500), 0, 0);
            workers[1].failure(
                a,
                FailureCategory::Status,
                Some(500),
                Some(ms(900)),
                0,
                0,
                String::new,
            );
            for (i, w) in workers.iter_mut().enumerate() {
                agg.absorb(i, w.take_interval());
            }
            agg.close_second(Duration::from_secs(second + 1));
        }
        let snap = agg.snapshot(Duration::from_secs(2));
        let kept: Vec<(&str, f64, f64)> = snap.endpoints[0]
            .slowest
            .iter()
            .map(|s| (s.span_id.as_str(), s.response_time_ms, s.at_s))
            .collect();
        // The slowest: 40 ms (n 35), 39 (29), 38 (23), 37 (17), 36 (11), from both workers
        // and both seconds.
        assert_eq!(
            kept,
            [
                ("0000000000000023", 40.0, 0.035),
                ("000000000000001d", 39.0, 0.029),
                ("0000000000000017", 38.0, 0.023),
                ("0000000000000011", 37.0, 0.017),
                ("000000000000000b", 36.0, 0.011),
            ]
        );
        assert_eq!(
            snap.endpoints[0].slowest[0].trace_id,
            "00000000000000230000000000000abc"
        );
        assert!(snap.endpoints[1].slowest.is_empty(), "nothing traced on /b");
        assert_eq!(snap.aggregate.slowest, snap.endpoints[0].slowest);

        // A reset starts the list again, as it does every statistic.
        agg.reset();
        workers[0].success(b, 201, ms(3), 0, 0);
        workers[0].traced(b, ms(3).response_time_ns, ids(99), 0);
        agg.absorb(0, workers[0].take_interval());
        let snap = agg.snapshot(Duration::from_secs(3));
        assert!(snap.endpoints[0].slowest.is_empty());
        assert_eq!(snap.endpoints[1].slowest.len(), 1);
        assert_eq!(snap.endpoints[1].slowest[0].span_id, "0000000000000063");
    }

    #[test]
    fn recorder_and_interval_can_cross_threads() {
        fn assert_send<T: Send + 'static>() {}
        assert_send::<Recorder>();
        assert_send::<Interval>();
    }
}
