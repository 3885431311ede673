//! The aggregator: merges worker intervals into cumulative statistics and a per-second series.
//!
//! It lives on the control thread and is the only place where data from several workers
//! meets. Each [`Interval`] is merged twice: into the cumulative totals (what the summary and
//! result file report) and into the open second (which becomes one small [`SecondSummary`] when
//! the second is closed). Histograms add bucket by bucket, so the totals are exactly what one
//! histogram fed every request would hold.
//!
//! Each closed second is then added to its 10-second window (`window.rs`), whose histograms
//! are encoded once when the window closes.
//!
//! Memory stays flat: cumulative histograms per endpoint, task and connection timing, one
//! reusable set for the open second and one for the open window, the series of small
//! summaries and the encoded windows. No raw samples.
//!
//! The aggregator must not read the clock: the caller passes `elapsed` wherever time matters,
//! which keeps the arithmetic testable and the same for every view.

use std::sync::Arc;
use std::time::Duration;

use crate::generator::GeneratorData;
use crate::interval::{CheckData, ConnectionData, EndpointData, Interval, TaskData};
use crate::registry::{EndpointInfo, Registry};
use crate::result::{
    ConnectionHistograms, EndpointHistograms, GeneratorHistograms, HistogramSet, ResultDoc,
    RunMeta, TaskHistograms, ToolInfo,
};
use crate::series::{ns_to_micros, saturating_u32, EndpointSecond, SecondSummary};
use crate::snapshot::{
    endpoint_stats, per_second, CheckStats, ConnectionStats, FailureStats, LatencyStats, Rates,
    Snapshot, TaskStats,
};
use crate::window::{SpanData, Window, Windows};

/// How many closed seconds the "current" rates average over.
const CURRENT_WINDOW_SECONDS: usize = 3;

/// Merges intervals from every worker. See the module documentation.
#[derive(Debug)]
pub struct Aggregator {
    registry: Arc<Registry>,
    totals: Totals,
    open: OpenSecond,
    series: Vec<SecondSummary>,
    /// Response-time histograms per 10-second window, closed and open.
    windows: Windows,
    /// The users gauge of each worker, as of its latest interval.
    users: Vec<u64>,
    /// Requests written and not yet answered, per worker, as of its latest interval.
    in_flight: Vec<u64>,
    /// The scheduled-iteration queue gauge of each worker, as of its latest interval.
    queues: Vec<u64>,
    /// Users of each worker still waiting for their first connection (local resources).
    unconnected: Vec<u64>,
    /// Users that ended without ever getting a connection, over the whole run (never reset).
    ended_unconnected: u64,
    /// CPU time each worker used in the open second.
    open_cpu: Vec<u64>,
    /// The busiest worker's CPU use in any closed second (percent of one core).
    cpu_percent_max: f64,
    /// The `elapsed` of the last closed second.
    last_close: Duration,
    /// Where the cumulative statistics start: zero, or the last closed second before a reset.
    stats_since: Duration,
}

/// Cumulative data since the start (or the last reset).
#[derive(Debug)]
struct Totals {
    endpoints: Vec<EndpointData>,
    aggregate: EndpointData,
    tasks: Vec<TaskData>,
    checks: Vec<CheckData>,
    connections: ConnectionData,
    generator: GeneratorData,
}

impl Totals {
    fn new(registry: &Registry) -> Totals {
        Totals {
            endpoints: vec![EndpointData::default(); registry.endpoints.len()],
            aggregate: EndpointData::default(),
            tasks: vec![TaskData::default(); registry.tasks.len()],
            checks: vec![CheckData::default(); registry.checks.len()],
            connections: ConnectionData::default(),
            generator: GeneratorData::default(),
        }
    }
}

#[derive(Debug)]
struct OpenSecond {
    /// Per endpoint: requests, failures and response times in the open second; the
    /// histograms are cleared, not dropped, when the second closes.
    endpoints: Vec<SpanData>,
    aggregate: SpanData,
    iterations_started: u64,
    dropped: u64,
}

impl Aggregator {
    /// An aggregator for the ids in `registry`.
    pub fn new(registry: Arc<Registry>) -> Aggregator {
        Aggregator {
            totals: Totals::new(&registry),
            open: OpenSecond {
                endpoints: vec![SpanData::default(); registry.endpoints.len()],
                aggregate: SpanData::default(),
                iterations_started: 0,
                dropped: 0,
            },
            windows: Windows::new(registry.endpoints.len()),
            registry,
            series: Vec::new(),
            users: Vec::new(),
            in_flight: Vec::new(),
            queues: Vec::new(),
            unconnected: Vec::new(),
            ended_unconnected: 0,
            open_cpu: Vec::new(),
            cpu_percent_max: 0.0,
            last_close: Duration::ZERO,
            stats_since: Duration::ZERO,
        }
    }

    /// Merges one worker's interval into the cumulative totals and the open second, and takes
    /// its users gauge as that worker's current count.
    pub fn absorb(&mut self, worker: usize, interval: Interval) {
        if self.users.len() <= worker {
            self.users.resize(worker + 1, 0);
            self.in_flight.resize(worker + 1, 0);
            self.queues.resize(worker + 1, 0);
            self.unconnected.resize(worker + 1, 0);
            self.open_cpu.resize(worker + 1, 0);
        }
        self.users[worker] = interval.users;
        self.in_flight[worker] = interval.in_flight;
        self.unconnected[worker] = interval.unconnected;
        self.ended_unconnected += interval.ended_unconnected;
        self.queues[worker] = interval.generator.queue_now;
        self.open_cpu[worker] += interval.generator.cpu_ns;
        self.open.iterations_started += interval.generator.started;
        self.open.dropped += interval.generator.dropped;

        // Intervals come from recorders built from the same registry, so the lengths match;
        // zipping (rather than indexing) keeps a mismatch from panicking the control thread.
        debug_assert_eq!(interval.endpoints.len(), self.totals.endpoints.len());
        let t = &mut self.totals;
        let endpoints = t.endpoints.iter_mut().zip(&mut self.open.endpoints);
        for ((total, second), e) in endpoints.zip(&interval.endpoints) {
            if e.is_idle() {
                continue;
            }
            total.merge(e);
            t.aggregate.merge(e);
            second.add(e.requests, e.failures, &e.response_time);
            self.open
                .aggregate
                .add(e.requests, e.failures, &e.response_time);
        }
        for (mine, theirs) in t.tasks.iter_mut().zip(&interval.tasks) {
            mine.duration.add(&theirs.duration);
        }
        for (mine, theirs) in t.checks.iter_mut().zip(&interval.checks) {
            mine.passes += theirs.passes;
            mine.fails += theirs.fails;
        }
        t.connections.merge(&interval.connections);
        t.generator.merge(&interval.generator);
    }

    /// Closes the open second, ending at `elapsed` since the start of the run: appends one
    /// [`SecondSummary`] to the series, adds the second to its 10-second window (closing
    /// the window before when this second starts a later one) and starts a new second.
    pub fn close_second(&mut self, elapsed: Duration) {
        let secs = elapsed.saturating_sub(self.last_close).as_secs_f64();
        let busiest = self.open_cpu.iter().copied().max().unwrap_or(0);
        let cpu_percent = if secs > 0.0 {
            busiest as f64 / 1e9 / secs * 100.0
        } else {
            0.0
        };
        // A sliver of a second (the run's last, partial one) says little about load.
        if secs >= 0.5 {
            self.cpu_percent_max = self.cpu_percent_max.max(cpu_percent);
        }
        let agg = &self.open.aggregate;
        let endpoints = self
            .open
            .endpoints
            .iter()
            .enumerate()
            .filter(|(_, s)| s.requests > 0)
            .map(|(i, s)| EndpointSecond {
                i: saturating_u32(i as u64),
                requests: saturating_u32(s.requests),
                failures: saturating_u32(s.failures),
                p50: ns_to_micros(s.response_time.quantile_ns(0.5)),
                p95: ns_to_micros(s.response_time.quantile_ns(0.95)),
                p99: ns_to_micros(s.response_time.quantile_ns(0.99)),
            })
            .collect();
        self.series.push(SecondSummary {
            t: elapsed.as_secs_f64(),
            users: self.users(),
            in_flight: self.in_flight(),
            requests: agg.requests,
            failures: agg.failures,
            rps: per_second(agg.requests, secs),
            p50: ns_to_micros(agg.response_time.quantile_ns(0.5)),
            p95: ns_to_micros(agg.response_time.quantile_ns(0.95)),
            p99: ns_to_micros(agg.response_time.quantile_ns(0.99)),
            max: ns_to_micros(agg.response_time.max_ns()),
            endpoints,
            iterations_started: self.open.iterations_started,
            dropped: self.open.dropped,
            cpu_percent: (cpu_percent * 10.0).round() / 10.0,
        });
        self.windows.add_second(
            self.last_close.as_secs_f64(),
            elapsed.as_secs_f64(),
            &self.open.aggregate,
            &self.open.endpoints,
        );
        self.open.iterations_started = 0;
        self.open.dropped = 0;
        self.open_cpu.iter_mut().for_each(|c| *c = 0);
        for s in &mut self.open.endpoints {
            s.clear();
        }
        self.open.aggregate.clear();
        self.last_close = elapsed;
    }

    /// Users running now: the sum of every worker's latest gauge.
    pub fn users(&self) -> u64 {
        self.users.iter().sum()
    }

    /// Requests written and not yet answered now: the sum of every worker's latest gauge.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.iter().sum()
    }

    /// Where the run started on the wall clock, in Unix seconds (the caller reads the
    /// clock; this crate does not). Windows are aligned to wall-clock multiples of 10 s
    /// from it (see [`Window`]); without it they are aligned to the run's own start, as if
    /// the run had started at Unix time 0. Call it before the first second closes.
    pub fn set_wall_start(&mut self, unix_s: f64) {
        self.windows.set_wall_start(unix_s);
    }

    /// The closed 10-second windows so far, oldest first.
    pub fn windows(&self) -> &[Arc<Window>] {
        self.windows.closed()
    }

    /// The open 10-second window so far (the seconds closed in it), aggregate only: its
    /// `endpoints` are empty. `None` before the first second closes.
    pub fn open_window(&self) -> Option<Window> {
        self.windows.open_aggregate()
    }

    /// Users that never got a connection for lack of local resources: those waiting for
    /// their first one now plus those that ended without one.
    pub fn users_never_connected(&self) -> u64 {
        self.unconnected.iter().sum::<u64>() + self.ended_unconnected
    }

    /// The closed seconds so far.
    pub fn series(&self) -> &[SecondSummary] {
        &self.series
    }

    /// The registry this aggregator names things by.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Drops the cumulative statistics (for `--reset-stats` after the ramp-up). The series,
    /// the windows (both are over time), the open second and the gauges are kept; rates
    /// from then on are computed over the time since the last closed second, which is
    /// where the new statistics start.
    pub fn reset(&mut self) {
        self.totals = Totals::new(&self.registry);
        self.stats_since = self.last_close;
    }

    /// Where the cumulative statistics start (zero unless [`Aggregator::reset`] was called).
    pub fn stats_since(&self) -> Duration {
        self.stats_since
    }

    /// The statistics as of `elapsed` since the start of the run.
    pub fn snapshot(&self, elapsed: Duration) -> Snapshot {
        let total_secs = elapsed.saturating_sub(self.stats_since).as_secs_f64();
        let window = self.current_window();
        let reg = &self.registry;
        let t = &self.totals;

        let endpoints = reg
            .endpoints
            .iter()
            .zip(&t.endpoints)
            .enumerate()
            .map(|(i, (info, d))| endpoint_stats(info, d, window.rates(i, total_secs)))
            .collect();
        let aggregate_info = EndpointInfo {
            scenario: String::new(),
            method: String::new(),
            name: "Aggregated".to_owned(),
        };
        let aggregate = endpoint_stats(
            &aggregate_info,
            &t.aggregate,
            Rates {
                total_secs,
                current_rps: per_second(window.aggregate.0, window.secs),
                failures_per_s: per_second(window.aggregate.1, window.secs),
            },
        );

        let failures = reg
            .endpoints
            .iter()
            .zip(&t.endpoints)
            .flat_map(|(info, d)| {
                d.failures_by_category
                    .iter()
                    .map(move |(category, slot)| FailureStats {
                        scenario: info.scenario.clone(),
                        method: info.method.clone(),
                        name: info.name.clone(),
                        category: category.as_str().to_owned(),
                        count: slot.count,
                        sample: slot.sample.clone().unwrap_or_default(),
                    })
            })
            .collect();

        let checks = reg
            .checks
            .iter()
            .zip(&t.checks)
            .map(|(info, d)| {
                let ep = reg.endpoints.get(info.endpoint.index());
                let names =
                    |f: fn(&EndpointInfo) -> &String| ep.map(f).cloned().unwrap_or_default();
                CheckStats {
                    scenario: names(|e| &e.scenario),
                    method: names(|e| &e.method),
                    name: names(|e| &e.name),
                    check: info.name.clone(),
                    passes: d.passes,
                    fails: d.fails,
                }
            })
            .collect();

        let tasks = reg
            .tasks
            .iter()
            .zip(&t.tasks)
            .map(|(info, d)| TaskStats {
                scenario: info.scenario.clone(),
                user: info.user.clone(),
                task: info.name.clone(),
                iterations: d.duration.len(),
                duration: LatencyStats::from_lazy(&d.duration),
            })
            .collect();

        Snapshot {
            elapsed,
            users: self.users(),
            in_flight: self.in_flight(),
            endpoints,
            aggregate,
            failures,
            checks,
            tasks,
            connections: ConnectionStats {
                opened: t.connections.opened,
                http2: t.connections.http2,
                connect_time: LatencyStats::from_lazy(&t.connections.connect_time),
                tls_time: LatencyStats::from_lazy(&t.connections.tls_time),
                users_never_connected: self.users_never_connected(),
            },
            generator: t
                .generator
                .stats(self.cpu_percent_max, self.queues.iter().sum()),
            server: None,
            stats_since: self.stats_since,
        }
    }

    /// Cumulative response-time bucket counts for `bounds_s` (seconds, ascending), per
    /// endpoint and for the aggregate, read from the cumulative histograms: what the
    /// Prometheus and OTLP exporters publish. One walk over each histogram's recorded
    /// buckets a second; a value is in a bound's bucket when its HDR bucket's top is at or
    /// below it (exact to the histogram's 3 significant digits).
    pub fn latency_buckets(&self, bounds_s: &[f64]) -> crate::LatencyBuckets {
        let bounds_ns: Vec<u64> = bounds_s
            .iter()
            .map(|&b| (b * 1e9).clamp(0.0, u64::MAX as f64) as u64)
            .collect();
        let counts = |h: &crate::histogram::LazyHistogram| {
            let mut per_bucket = vec![0u64; bounds_ns.len()];
            let Some(h) = h.get() else {
                return crate::BucketCounts {
                    cumulative: per_bucket,
                    ..Default::default()
                };
            };
            for v in h.iter_recorded() {
                let i = bounds_ns.partition_point(|&b| b < v.value_iterated_to());
                if let Some(n) = per_bucket.get_mut(i) {
                    *n += v.count_since_last_iteration();
                }
            }
            let mut running = 0;
            for n in &mut per_bucket {
                running += *n;
                *n = running;
            }
            crate::BucketCounts {
                cumulative: per_bucket,
                count: h.len(),
                sum_s: h.mean() * h.len() as f64 / 1e9,
            }
        };
        crate::LatencyBuckets {
            bounds_s: bounds_s.to_vec(),
            endpoints: self
                .totals
                .endpoints
                .iter()
                .map(|e| counts(&e.response_time))
                .collect(),
            aggregate: counts(&self.totals.aggregate.response_time),
        }
    }

    /// Iterations started by an arrival-rate schedule, by the second of the run (from 0) in
    /// which they were meant to start.
    pub fn iterations_by_second(&self) -> Vec<u64> {
        let list = &self.totals.generator.started_by_second;
        let len = list.last().map_or(0, |&(s, _)| s as usize + 1);
        let mut out = vec![0; len];
        for &(s, n) in list {
            out[s as usize] += n;
        }
        out
    }

    /// The encoded cumulative response-time histogram of one endpoint (its index) or, with
    /// `None`, of the aggregate: what a latency distribution needs, without building the
    /// whole [`Aggregator::result`]. `None` for an index past the endpoints.
    pub fn response_time_histogram(&self, endpoint: Option<usize>) -> Option<String> {
        let data = match endpoint {
            Some(i) => self.totals.endpoints.get(i)?,
            None => &self.totals.aggregate,
        };
        Some(data.response_time.encode())
    }

    /// The result file for the run so far. `meta.duration_s` is set from `elapsed`, so the
    /// file's duration and its rates agree. `windows` holds the closed windows and then the
    /// open one, as far as it got.
    pub fn result(&self, mut meta: RunMeta, elapsed: Duration) -> ResultDoc {
        meta.duration_s = elapsed.as_secs_f64();
        let mut snapshot = self.snapshot(elapsed);
        // The live-only rates are not written; zero them so the document equals what a
        // reader gets back from the file.
        for e in snapshot
            .endpoints
            .iter_mut()
            .chain([&mut snapshot.aggregate])
        {
            e.current_rps = 0.0;
            e.failures_per_s = 0.0;
        }
        let t = &self.totals;
        let histograms = HistogramSet {
            endpoints: t.endpoints.iter().map(EndpointHistograms::of).collect(),
            aggregate: EndpointHistograms::of(&t.aggregate),
            tasks: t
                .tasks
                .iter()
                .map(|d| TaskHistograms {
                    duration: d.duration.encode(),
                })
                .collect(),
            connections: ConnectionHistograms {
                connect_time: t.connections.connect_time.encode(),
                tls_time: t.connections.tls_time.encode(),
            },
            generator: GeneratorHistograms {
                schedule_lag: t.generator.schedule_lag.encode(),
                start_delay: t.generator.start_delay.encode(),
            },
            ..HistogramSet::default()
        };
        ResultDoc {
            version: ResultDoc::VERSION,
            tool: ToolInfo {
                name: "barrage".to_owned(),
                version: meta.tool_version.clone(),
            },
            run: meta,
            stats_since_s: self.stats_since.as_secs_f64(),
            endpoints: snapshot.endpoints,
            aggregate: snapshot.aggregate,
            failures: snapshot.failures,
            checks: snapshot.checks,
            tasks: snapshot.tasks,
            connections: snapshot.connections,
            generator: snapshot.generator,
            iterations_by_second: self.iterations_by_second(),
            warnings: Vec::new(),
            thresholds: Vec::new(),
            timeline: Vec::new(),
            never_ran: Vec::new(),
            server: None,
            capacity: None,
            generators: Vec::new(),
            series: self.series.clone(),
            histograms,
            windows: self.windows.all(),
        }
    }

    /// Requests and failures per endpoint over the last few closed seconds.
    fn current_window(&self) -> Recent {
        let n = self.series.len();
        let first = n.saturating_sub(CURRENT_WINDOW_SECONDS);
        let start = if first == 0 {
            0.0
        } else {
            self.series[first - 1].t
        };
        let secs = self.series.last().map_or(0.0, |s| s.t - start);
        let mut per_endpoint = vec![(0u64, 0u64); self.registry.endpoints.len()];
        let mut aggregate = (0, 0);
        for s in &self.series[first..] {
            aggregate.0 += s.requests;
            aggregate.1 += s.failures;
            for e in &s.endpoints {
                if let Some(slot) = per_endpoint.get_mut(e.i as usize) {
                    slot.0 += u64::from(e.requests);
                    slot.1 += u64::from(e.failures);
                }
            }
        }
        Recent {
            secs,
            per_endpoint,
            aggregate,
        }
    }
}

/// (requests, failures) over the last few closed seconds.
struct Recent {
    secs: f64,
    per_endpoint: Vec<(u64, u64)>,
    aggregate: (u64, u64),
}

impl Recent {
    fn rates(&self, endpoint: usize, total_secs: f64) -> Rates {
        let (requests, failures) = self.per_endpoint[endpoint];
        Rates {
            total_secs,
            current_rps: per_second(requests, self.secs),
            failures_per_s: per_second(failures, self.secs),
        }
    }
}
