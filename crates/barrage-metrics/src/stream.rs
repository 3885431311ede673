//! What streamed answers (`stream:` steps) measured beyond the response time: when the
//! first byte and the first event came, the gaps between events, how long the stream ran
//! and how many events it carried.
//!
//! Kept in an endpoint's data only once a stream is recorded there (a box behind an
//! `Option`), so endpoints that never stream carry one pointer and merge as before. Like
//! every latency, the first byte and the first event count from the request's intended
//! start, so an open model's late start shows in them (coordinated omission); the gaps
//! count from the previous event, and the duration from the first byte to the stream's
//! end. Like `response_time`, they cover successful requests.

use serde::{Deserialize, Serialize};

use crate::histogram::LazyHistogram;
use crate::snapshot::LatencyStats;

/// One streamed answer as the engine tells it to [`crate::Recorder::stream`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamTiming {
    /// From the intended start to the answer's first byte.
    pub first_byte_ns: u64,
    /// From the intended start to the first event; `None` when none came.
    pub first_event_ns: Option<u64>,
    /// From the first byte to the stream's end (its last byte, or where it was cut).
    pub duration_ns: u64,
    /// Events (or chunks) the stream carried.
    pub events: u64,
}

/// The stream figures of one endpoint, whichever span of time they cover.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct StreamData {
    pub(crate) first_byte: LazyHistogram,
    pub(crate) first_event: LazyHistogram,
    pub(crate) event_gap: LazyHistogram,
    pub(crate) duration: LazyHistogram,
    pub(crate) events: EventCounts,
}

impl StreamData {
    pub(crate) fn record(&mut self, t: &StreamTiming, gaps_ns: &[u64]) {
        self.first_byte.record(t.first_byte_ns);
        if let Some(ns) = t.first_event_ns {
            self.first_event.record(ns);
        }
        for &gap in gaps_ns {
            self.event_gap.record(gap);
        }
        self.duration.record(t.duration_ns);
        self.events.add(t.events);
    }

    pub(crate) fn merge(&mut self, other: &StreamData) {
        self.first_byte.add(&other.first_byte);
        self.first_event.add(&other.first_event);
        self.event_gap.add(&other.event_gap);
        self.duration.add(&other.duration);
        self.events.merge(&other.events);
    }

    pub(crate) fn take_rewarmed(&mut self) -> StreamData {
        StreamData {
            first_byte: self.first_byte.take_rewarmed(),
            first_event: self.first_event.take_rewarmed(),
            event_gap: self.event_gap.take_rewarmed(),
            duration: self.duration.take_rewarmed(),
            events: std::mem::take(&mut self.events),
        }
    }

    pub(crate) fn stats(&self) -> StreamStats {
        StreamStats {
            first_byte: LatencyStats::from_lazy(&self.first_byte),
            first_event: LatencyStats::from_lazy(&self.first_event),
            event_gap: LatencyStats::from_lazy(&self.event_gap),
            duration: LatencyStats::from_lazy(&self.duration),
            events: self.events,
        }
    }
}

/// How many events the streams of an endpoint carried: counts, not a histogram (a
/// latency histogram's lowest value is 1 µs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCounts {
    /// Streams recorded.
    pub streams: u64,
    /// Events over all of them.
    pub total: u64,
    /// The fewest and most events one stream carried.
    pub min: u64,
    pub max: u64,
}

impl EventCounts {
    fn add(&mut self, events: u64) {
        self.min = if self.streams == 0 {
            events
        } else {
            self.min.min(events)
        };
        self.max = self.max.max(events);
        self.streams += 1;
        self.total += events;
    }

    pub(crate) fn merge(&mut self, other: &EventCounts) {
        if other.streams == 0 {
            return;
        }
        self.min = if self.streams == 0 {
            other.min
        } else {
            self.min.min(other.min)
        };
        self.max = self.max.max(other.max);
        self.streams += other.streams;
        self.total += other.total;
    }

    /// Events per stream, on average.
    pub fn mean(&self) -> f64 {
        if self.streams == 0 {
            0.0
        } else {
            self.total as f64 / self.streams as f64
        }
    }
}

/// An endpoint's stream figures in a snapshot and the result file (`stream`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamStats {
    /// From the intended start to the answer's first byte.
    pub first_byte: LatencyStats,
    /// From the intended start to the first event (or chunk).
    pub first_event: LatencyStats,
    /// Between consecutive events of one stream.
    pub event_gap: LatencyStats,
    /// From the first byte to the stream's end.
    pub duration: LatencyStats,
    pub events: EventCounts,
}

/// The stream histograms of one endpoint in the result file (`histograms.endpoints[i].stream`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamHistograms {
    pub first_byte: String,
    pub first_event: String,
    pub event_gap: String,
    pub duration: String,
}

impl StreamHistograms {
    pub(crate) fn of(d: &StreamData) -> StreamHistograms {
        StreamHistograms {
            first_byte: d.first_byte.encode(),
            first_event: d.first_event.encode(),
            event_gap: d.event_gap.encode(),
            duration: d.duration.encode(),
        }
    }

    /// Each histogram with the name of its field in [`StreamStats`].
    pub fn fields(&self) -> [(&'static str, &str); 4] {
        [
            ("first_byte", &self.first_byte),
            ("first_event", &self.first_event),
            ("event_gap", &self.event_gap),
            ("duration", &self.duration),
        ]
    }
}

impl StreamStats {
    /// Each latency with the name of its field.
    pub fn latencies(&self) -> [(&'static str, &LatencyStats); 4] {
        [
            ("first_byte", &self.first_byte),
            ("first_event", &self.first_event),
            ("event_gap", &self.event_gap),
            ("duration", &self.duration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_stream_data_equals_recording_in_one_place() {
        let streams = [
            (
                StreamTiming {
                    first_byte_ns: 2_000_000,
                    first_event_ns: Some(50_000_000),
                    duration_ns: 90_000_000,
                    events: 3,
                },
                vec![20_000_000, 20_000_000],
            ),
            (
                StreamTiming {
                    first_byte_ns: 3_000_000,
                    first_event_ns: None,
                    duration_ns: 5_000_000,
                    events: 0,
                },
                vec![],
            ),
            (
                StreamTiming {
                    first_byte_ns: 1_000_000,
                    first_event_ns: Some(40_000_000),
                    duration_ns: 60_000_000,
                    events: 7,
                },
                vec![10_000_000; 6],
            ),
        ];
        let mut one = StreamData::default();
        let (mut a, mut b) = (StreamData::default(), StreamData::default());
        for (i, (t, gaps)) in streams.iter().enumerate() {
            one.record(t, gaps);
            if i == 1 { &mut b } else { &mut a }.record(t, gaps);
        }
        a.merge(&b);
        assert_eq!(a.stats(), one.stats());
        let s = one.stats();
        assert_eq!(
            s.events,
            EventCounts {
                streams: 3,
                total: 10,
                min: 0,
                max: 7
            }
        );
        assert_eq!(s.first_event.count, 2);
        assert_eq!(s.event_gap.count, 8);
        assert_eq!(s.first_byte.count, 3);
        assert!((s.events.mean() - 10.0 / 3.0).abs() < 1e-12);
    }
}
