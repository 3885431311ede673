//! What one worker measured during one interval, and the per-id data it is made of.
//!
//! The same small structs serve the recorder (one interval of one worker) and the aggregator
//! (cumulative totals): an [`EndpointData`] is "counters plus three histograms for one
//! endpoint", whichever span of time it covers, and merging two of them is exact. Keeping one
//! shape for both is what lets the property tests state the whole contract in one line:
//! merging intervals in any split equals recording everything in one place.
//!
//! Nothing here knows about time or threads; [`Interval`] is a plain value that moves from a
//! worker to the control thread once a second.

use serde::{Deserialize, Serialize};

use crate::counters::{FailureCounts, StatusCounts};
use crate::generator::GeneratorData;
use crate::histogram::LazyHistogram;
use crate::messages::MessageData;
use crate::registry::Registry;
use crate::slowest::Slowest;
use crate::stream::StreamData;

/// Counters and latency histograms for one endpoint.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct EndpointData {
    /// Every finished attempt, failed ones included (interrupted ones are counted apart).
    pub(crate) requests: u64,
    pub(crate) failures: u64,
    /// Requests cut off by a hard stop: neither a success nor a failure.
    pub(crate) interrupted: u64,
    pub(crate) bytes_sent: u64,
    pub(crate) bytes_received: u64,
    /// Requests sent once more on a fresh connection (counted once in `requests`).
    pub(crate) retries: u64,
    pub(crate) status: StatusCounts,
    pub(crate) failures_by_category: FailureCounts,
    /// Successful requests, from the intended start.
    pub(crate) response_time: LazyHistogram,
    /// Successful requests, from the request written.
    pub(crate) service_time: LazyHistogram,
    /// Failed requests that got a response, response time.
    pub(crate) failed: LazyHistogram,
    /// The slowest successful requests sent with a `traceparent` (`--traceparent`), with
    /// their trace ids; empty without the flag.
    pub(crate) slowest: Slowest,
    /// A `stream:` step's figures (`stream.rs`); `None` until one is recorded here.
    pub(crate) stream: Option<Box<StreamData>>,
    /// A WebSocket endpoint's sockets and messages; idle for any other.
    pub(crate) messages: MessageData,
}

impl EndpointData {
    pub(crate) fn is_idle(&self) -> bool {
        self.requests == 0 && self.interrupted == 0 && self.messages.is_idle()
    }

    pub(crate) fn merge(&mut self, other: &EndpointData) {
        self.requests += other.requests;
        self.failures += other.failures;
        self.interrupted += other.interrupted;
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        self.retries += other.retries;
        for (code, n) in other.status.iter() {
            self.status.add(code, n);
        }
        self.failures_by_category.merge(&other.failures_by_category);
        self.response_time.add(&other.response_time);
        self.service_time.add(&other.service_time);
        self.failed.add(&other.failed);
        self.slowest.merge(&other.slowest);
        if let Some(theirs) = &other.stream {
            self.stream.get_or_insert_default().merge(theirs);
        }
        self.messages.merge(&other.messages);
    }

    /// Takes everything out, leaving zeroed counters and histograms pre-allocated where the
    /// taken ones were in use (see [`LazyHistogram::take_rewarmed`]).
    fn take_rewarmed(&mut self) -> EndpointData {
        EndpointData {
            requests: std::mem::take(&mut self.requests),
            failures: std::mem::take(&mut self.failures),
            interrupted: std::mem::take(&mut self.interrupted),
            bytes_sent: std::mem::take(&mut self.bytes_sent),
            bytes_received: std::mem::take(&mut self.bytes_received),
            retries: std::mem::take(&mut self.retries),
            status: std::mem::take(&mut self.status),
            failures_by_category: std::mem::take(&mut self.failures_by_category),
            response_time: self.response_time.take_rewarmed(),
            service_time: self.service_time.take_rewarmed(),
            failed: self.failed.take_rewarmed(),
            slowest: std::mem::take(&mut self.slowest),
            stream: self.stream.as_mut().map(|s| Box::new(s.take_rewarmed())),
            messages: self.messages.take_rewarmed(),
        }
    }
}

/// Completed iterations of one task; the count is the histogram's length.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct TaskData {
    pub(crate) duration: LazyHistogram,
}

/// Outcomes of one check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CheckData {
    pub(crate) passes: u64,
    pub(crate) fails: u64,
}

/// New connections: how many, how long connecting and the TLS handshake took.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ConnectionData {
    pub(crate) opened: u64,
    /// Of `opened`, those that speak HTTP/2.
    pub(crate) http2: u64,
    pub(crate) connect_time: LazyHistogram,
    pub(crate) tls_time: LazyHistogram,
}

impl ConnectionData {
    pub(crate) fn merge(&mut self, other: &ConnectionData) {
        self.opened += other.opened;
        self.http2 += other.http2;
        self.connect_time.add(&other.connect_time);
        self.tls_time.add(&other.tls_time);
    }

    fn take_rewarmed(&mut self) -> ConnectionData {
        ConnectionData {
            opened: std::mem::take(&mut self.opened),
            http2: std::mem::take(&mut self.http2),
            connect_time: self.connect_time.take_rewarmed(),
            tls_time: self.tls_time.take_rewarmed(),
        }
    }
}

/// Everything one worker measured during one interval (about a second).
///
/// Produced by [`crate::Recorder::take_interval`] on the worker thread and handed, by value, to
/// [`crate::Aggregator::absorb`] on the control thread; it owns all its data (`Send + 'static`).
/// Its size is a few hundred bytes per registered id plus the histograms of the endpoints,
/// tasks and connection timings that saw traffic in the interval (about 200 KB each).
/// It crosses the network as [`crate::wire`] encodes it (a coordinated run's agents).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Interval {
    pub(crate) endpoints: Vec<EndpointData>,
    pub(crate) tasks: Vec<TaskData>,
    pub(crate) checks: Vec<CheckData>,
    pub(crate) connections: ConnectionData,
    pub(crate) generator: GeneratorData,
    pub(crate) users: u64,
    /// A gauge like `users`: requests written and not yet answered when the interval was
    /// taken.
    pub(crate) in_flight: u64,
    /// A gauge like `users`: users of the worker that have never held a connection because
    /// this machine ran out of descriptors or ports (they are not in `users`).
    pub(crate) unconnected: u64,
    /// Users that ended in the interval without ever having held a connection, for the
    /// same reason (a counter: taken with the interval).
    pub(crate) ended_unconnected: u64,
}

impl Interval {
    /// An empty interval sized for `registry`.
    pub fn empty(registry: &Registry) -> Interval {
        Interval {
            endpoints: vec![EndpointData::default(); registry.endpoints.len()],
            tasks: vec![TaskData::default(); registry.tasks.len()],
            checks: vec![CheckData::default(); registry.checks.len()],
            connections: ConnectionData::default(),
            generator: GeneratorData::default(),
            users: 0,
            in_flight: 0,
            unconnected: 0,
            ended_unconnected: 0,
        }
    }

    /// Requests finished in the interval, failed ones included.
    pub fn requests(&self) -> u64 {
        self.endpoints.iter().map(|e| e.requests).sum()
    }

    /// Failed requests in the interval.
    pub fn failures(&self) -> u64 {
        self.endpoints.iter().map(|e| e.failures).sum()
    }

    /// The users running on the worker when the interval was taken.
    pub fn users(&self) -> u64 {
        self.users
    }

    /// Requests written and not yet answered on the worker when the interval was taken.
    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }

    /// True when nothing at all was recorded (the gauges aside).
    pub fn is_empty(&self) -> bool {
        self.endpoints.iter().all(EndpointData::is_idle)
            && self.tasks.iter().all(|t| t.duration.len() == 0)
            && self.checks.iter().all(|c| *c == CheckData::default())
            && self.connections.opened == 0
            && self.generator.started == 0
            && self.generator.dropped == 0
            && self.ended_unconnected == 0
    }

    /// Takes the recorded data out, leaving this interval empty but with its histograms
    /// pre-allocated wherever they were in use, so that the next interval's first records do
    /// not allocate. Called once a second, never per request.
    pub(crate) fn take_rewarmed(&mut self) -> Interval {
        Interval {
            endpoints: self
                .endpoints
                .iter_mut()
                .map(EndpointData::take_rewarmed)
                .collect(),
            tasks: self
                .tasks
                .iter_mut()
                .map(|t| TaskData {
                    duration: t.duration.take_rewarmed(),
                })
                .collect(),
            checks: self.checks.iter_mut().map(std::mem::take).collect(),
            connections: self.connections.take_rewarmed(),
            generator: self.generator.take_rewarmed(),
            users: self.users,
            in_flight: self.in_flight,
            unconnected: self.unconnected,
            ended_unconnected: std::mem::take(&mut self.ended_unconnected),
        }
    }
}
