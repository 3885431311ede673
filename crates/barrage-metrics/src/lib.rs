//! barrage-metrics: what a load test measured, from the hot path to the result file.
//!
//! The pipeline (DESIGN.md, "Data flow"):
//!
//! ```text
//! worker thread:  Recorder ──take_interval() once a second──▶ Interval ──(sent by the engine)──┐
//! control thread: Aggregator::absorb ──▶ cumulative totals + open second ──close_second()──▶ series
//!                 Aggregator::snapshot ──▶ Snapshot (live view, summary, web UI)
//!                 Aggregator::result   ──▶ ResultDoc (the versioned result file)
//! several processes' ResultDocs ──merge()──▶ one ResultDoc (exact: histograms add)
//! ```
//!
//! The design choices a newcomer might question:
//!
//! - **One recorder per worker, no sharing.** Recording is a few additions into vectors
//!   indexed by interned ids ([`EndpointId`], [`TaskId`], [`CheckId`]); workers hand their data
//!   over once a second, by value. No lock, atomic or channel per request.
//! - **HDR histograms everywhere, never raw samples.** Nanoseconds, 3 significant digits,
//!   1 µs .. 1 h. They merge exactly, so per-worker intervals, seconds and whole runs from
//!   several machines add up to what one histogram would have recorded; memory stays flat
//!   however long the run.
//! - **Everything downstream reads [`Snapshot`]s**, so every view shows the same numbers.
//!
//! This crate must not know about HTTP, scenarios, clocks or output formatting: the engine
//! measures and names, this crate counts and summarizes, `barrage-report` formats.

mod aggregator;
pub mod capacity;
mod counters;
mod generator;
mod histogram;
mod interval;
mod merge;
mod messages;
mod read;
mod recorder;
mod registry;
mod result;
mod series;
mod server;
mod slowest;
mod snapshot;
mod stream;
mod verdict;
mod window;
pub mod wire;

pub use aggregator::Aggregator;
pub use capacity::{CapacityDoc, CapacityStatus, CapacityStep, SearchModel, SweepDoc};
pub use generator::{GeneratorStats, GeneratorTally};
pub use histogram::{
    decode_histogram, encode_histogram, new_histogram, ns_to_ms, HistogramDecodeError, ENCODING,
    HIGHEST_NS, LOWEST_NS, SIGNIFICANT_DIGITS,
};
pub use interval::Interval;
pub use merge::{merge, MergeError, MergeInput};
pub use messages::MessageStats;
pub use read::{Inconsistency, ResultError};
pub use recorder::Recorder;
pub use registry::{
    CheckId, CheckInfo, EndpointId, EndpointInfo, FailureCategory, Registry, TaskId, TaskInfo,
    Timing,
};
pub use result::{
    format_timestamp, ConnectionHistograms, EndpointHistograms, GeneratorHistograms, HistogramSet,
    HostInfo, LoadInfo, NamedGenerator, NeverRan, ResultDoc, RunMeta, SegmentMeta, TaskHistograms,
    TimelineEntry, ToolInfo,
};
pub use series::{EndpointSecond, SecondSummary};
pub use server::{
    BucketCounts, Column, FigureStats, LatencyBuckets, ProbeSummary, ProcessInfo, Row, ServerEvent,
    ServerLive, ServerSection, ServerStats, SourceKind, SourceLive, SourceSeries, StallMoment,
    StatementStats, FIGURES,
};
pub use slowest::{TraceIds, SLOWEST};
pub use snapshot::{
    CheckStats, ConnectionStats, EndpointStats, FailureStats, LatencyStats, SlowRequest, Snapshot,
    TaskStats,
};
pub use stream::{EventCounts, StreamHistograms, StreamStats, StreamTiming};
pub use verdict::ThresholdVerdict;
pub use window::{Window, WindowEndpoint, WindowEntry, WINDOW_SECONDS};

/// Re-exported so users of [`decode_histogram`] need not depend on `hdrhistogram` themselves.
pub use hdrhistogram::Histogram;
