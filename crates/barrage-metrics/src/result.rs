//! The result file: one versioned JSON document per run.
//!
//! Other tools read it (merge, compare, CI gates), so its core is a contract (DESIGN.md, "The
//! result file"): `version`, the `endpoints` array and the `aggregate` object, with latencies
//! in milliseconds over successful requests. Everything else is informative and may grow;
//! readers must ignore fields they do not know, and this reader does (serde's default), so a
//! newer writer's additions do not break an older reader of the same version. A change to the
//! core bumps [`ResultDoc::VERSION`].
//!
//! The serialized HDR histograms travel inside the file, so merging runs split over machines
//! and comparing runs lose no precision: [`crate::decode_histogram`] rebuilds them exactly.
//!
//! This module must not compute statistics; [`crate::Aggregator::result`] fills the document
//! from the same snapshot the views show.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::generator::GeneratorStats;
use crate::histogram::{decode_histogram, HistogramDecodeError, ENCODING};
use crate::interval::EndpointData;
use crate::series::SecondSummary;
use crate::snapshot::{
    CheckStats, ConnectionStats, EndpointStats, FailureStats, Snapshot, TaskStats,
};
use crate::verdict::ThresholdVerdict;

/// The whole result file. Field order is the order written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultDoc {
    /// The format version; see [`ResultDoc::VERSION`].
    pub version: u32,
    pub tool: ToolInfo,
    pub run: RunMeta,
    /// Seconds since the start where the cumulative statistics begin: 0 unless statistics were
    /// reset during the run (then `rps` is computed over `duration_s - stats_since_s`).
    #[serde(default)]
    pub stats_since_s: f64,
    /// One entry per endpoint, in scenario-file order.
    pub endpoints: Vec<EndpointStats>,
    /// All endpoints together: method `""`, name `"Aggregated"`.
    pub aggregate: EndpointStats,
    #[serde(default)]
    pub failures: Vec<FailureStats>,
    #[serde(default)]
    pub checks: Vec<CheckStats>,
    #[serde(default)]
    pub tasks: Vec<TaskStats>,
    #[serde(default)]
    pub connections: ConnectionStats,
    /// The generator's health: schedule lag, queued and dropped iterations, CPU.
    #[serde(default)]
    pub generator: GeneratorStats,
    /// Iterations an arrival-rate schedule started, by the second (from 0) they were meant
    /// to start in; empty for closed models.
    #[serde(default)]
    pub iterations_by_second: Vec<u64>,
    /// Why the results may not be trusted (the generator fell behind, ran out of CPU), in
    /// words; empty when nothing was noticed.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The thresholds judged at the end of the run, in the order given (scenario file first,
    /// then `--threshold` flags); empty when there were none.
    #[serde(default)]
    pub thresholds: Vec<ThresholdVerdict>,
    /// One summary per closed second (see [`SecondSummary`] for its size).
    #[serde(default)]
    pub series: Vec<SecondSummary>,
    #[serde(default)]
    pub histograms: HistogramSet,
    /// Response-time histograms per 10-second window (see [`crate::Window`]), oldest first;
    /// empty in version 1 files.
    #[serde(default)]
    pub windows: Vec<crate::Window>,
    /// What was done to the run while it ran (load changed, statistics reset, stopped), in
    /// order; absent when nothing was. Added without a version change: older readers skip
    /// it, and older files read as an empty timeline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
    /// Tasks and endpoints that never ran, with why when it is known; absent when
    /// everything ran. Added without a version change, like `timeline`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub never_ran: Vec<NeverRan>,
    /// The server side (`--monitor-*`, `--probe`): absent when nothing was monitored.
    /// Added without a version change, like `timeline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<crate::ServerSection>,
    /// What `barrage capacity` found (the totals and tables above then cover its last
    /// step; `series` the whole search). Absent in other runs. Added without a version
    /// change, like `timeline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<crate::CapacityDoc>,
    /// Each generator's own figures when the run was merged from several processes (see
    /// [`NamedGenerator`]); absent for one process. Added without a version change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generators: Vec<NamedGenerator>,
}

/// A task or endpoint of the scenario that never ran in this run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeverRan {
    pub scenario: String,
    /// `task browse of user shopper`, `GET /items/{id} (setup of user admin)`.
    pub what: String,
    /// Why, in words, when it is known: the user type got no user, its setup failed, the
    /// task's weight is too small for the iterations run; `unknown` otherwise.
    pub why: String,
}

/// One thing done to a running run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Seconds after the run's start.
    pub at_s: f64,
    /// What was done, in words: `users 50 -> 80 (scenario default)`, `statistics reset`.
    pub what: String,
    /// Who did it, as the front end names itself: `terminal` (keys), `Ctrl-C`, `threshold`
    /// (`abort_on_fail`), `--reset-stats`; later front ends add their own.
    pub source: String,
}

/// Which program wrote the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

/// Facts about the run, filled in by the binary and written as the file's `run` object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// Written as `tool.version`, not inside `run`; [`ResultDoc::from_json`] fills it back in.
    #[serde(skip)]
    pub tool_version: String,
    /// The scenario file as given on the command line; `None` for `hit` or a generated run.
    pub scenario_file: Option<String>,
    /// SHA-256 of the scenario file's bytes, lowercase hex.
    pub scenario_sha256: Option<String>,
    /// The base URL the load went to.
    pub target: String,
    /// RFC 3339, UTC (see [`format_timestamp`]).
    pub started_at: String,
    pub ended_at: String,
    /// Set by [`crate::Aggregator::result`] from the `elapsed` it is given.
    pub duration_s: f64,
    pub workers: u32,
    /// The run was cut short (Ctrl-C, or a hard stop).
    pub interrupted: bool,
    pub load: LoadInfo,
    pub host: HostInfo,
    /// The command line, for reproducing the run.
    pub command: String,
    /// A random id of this run (UUID v4): the `run_id` label of what `--prometheus-listen`
    /// and `--otlp` export, so their series can be matched with this file. Empty in files
    /// written before it existed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub run_id: String,
    /// The share of the load this process ran (`--segment I/N`, or a coordinator's agent);
    /// absent for a whole run. Added without a version change, like `run_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentMeta>,
    /// The wall-clock start asked for (`--start-at`, RFC 3339 UTC); absent when the run
    /// started at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
}

/// Which share of a load split over processes a run was: `index` of `count`, counted from 1
/// as on the command line (`--segment 2/4` is `{index: 2, count: 4}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SegmentMeta {
    pub index: u64,
    pub count: u64,
}

/// One generator's own figures in a result merged from several processes (`barrage
/// merge`, the coordinator): what it was, where it ran, and its health, which is not
/// summed across generators (one lagging generator is not hidden by others that kept up).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedGenerator {
    /// How the merge names it: the file it came from, or the agent's name.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentMeta>,
    #[serde(default)]
    pub host: HostInfo,
    #[serde(default)]
    pub started_at: String,
    #[serde(default)]
    pub workers: u32,
    /// Its schedule lag, queue, drops and CPU, as in a one-process file's `generator`.
    #[serde(default)]
    pub generator: GeneratorStats,
    /// Its own warnings (why its share of the results may not be trusted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// A coordinated run's agent: its clock minus the coordinator's, in milliseconds, as
    /// measured at registration (the round trip with the least delay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_offset_ms: Option<f64>,
    /// A coordinated run's agent that was lost: seconds after the run's start when the
    /// coordinator stopped hearing from it (its share was not moved to the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_at_s: Option<f64>,
}

/// The load profile asked for; each field is `null` when it did not apply.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadInfo {
    /// The load model in words, one clause per scenario.
    #[serde(default)]
    pub model: Option<String>,
    /// Iterations per second, for an arrival-rate model.
    #[serde(default)]
    pub rate: Option<f64>,
    pub users: Option<u64>,
    pub spawn_rate: Option<f64>,
    pub duration_s: Option<f64>,
    pub iterations: Option<u64>,
}

/// The machine that generated the load.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostInfo {
    pub os: String,
    pub arch: String,
    pub cpus: u32,
}

impl HostInfo {
    /// The machine this process runs on.
    pub fn current() -> HostInfo {
        HostInfo {
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            cpus: std::thread::available_parallelism()
                .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX)),
        }
    }
}

/// Formats a wall-clock time as RFC 3339 in UTC with millisecond precision
/// (`2025-01-31T14:05:09.123Z`), the form `started_at` and `ended_at` use.
pub fn format_timestamp(t: SystemTime) -> String {
    let dt = time::OffsetDateTime::from(t);
    let millis = dt.nanosecond() / 1_000_000 * 1_000_000;
    dt.replace_nanosecond(millis)
        .expect("a whole number of milliseconds is a valid nanosecond value")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("every UTC time after year 0 formats as RFC 3339")
}

/// The serialized histograms, each a string in [`ENCODING`] of nanosecond values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistogramSet {
    /// Always [`ENCODING`] (versions 1 and 2).
    pub encoding: String,
    /// Always `"ns"`.
    pub unit: String,
    /// Parallel to the document's `endpoints`.
    pub endpoints: Vec<EndpointHistograms>,
    pub aggregate: EndpointHistograms,
    /// Iteration durations, parallel to the document's `tasks`.
    #[serde(default)]
    pub tasks: Vec<TaskHistograms>,
    #[serde(default)]
    pub connections: ConnectionHistograms,
    #[serde(default)]
    pub generator: GeneratorHistograms,
}

impl Default for HistogramSet {
    fn default() -> HistogramSet {
        HistogramSet {
            encoding: ENCODING.to_owned(),
            unit: "ns".to_owned(),
            endpoints: Vec::new(),
            aggregate: EndpointHistograms::default(),
            tasks: Vec::new(),
            connections: ConnectionHistograms::default(),
            generator: GeneratorHistograms::default(),
        }
    }
}

/// The three histograms of one endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointHistograms {
    /// Successful requests, from the intended start.
    pub response_time: String,
    /// Successful requests, from the request written.
    pub service_time: String,
    /// Failed requests that got a response, response time.
    pub failed: String,
    /// A `stream:` endpoint's first byte, first event, event gap and duration histograms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<crate::StreamHistograms>,
}

impl EndpointHistograms {
    pub(crate) fn of(d: &EndpointData) -> EndpointHistograms {
        EndpointHistograms {
            response_time: d.response_time.encode(),
            service_time: d.service_time.encode(),
            failed: d.failed.encode(),
            stream: d.stream.as_deref().map(crate::StreamHistograms::of),
        }
    }

    /// Decodes `response_time`.
    pub fn response_time(&self) -> Result<Histogram<u64>, HistogramDecodeError> {
        decode_histogram(&self.response_time)
    }

    /// Decodes `service_time`.
    pub fn service_time(&self) -> Result<Histogram<u64>, HistogramDecodeError> {
        decode_histogram(&self.service_time)
    }

    /// Decodes `failed`.
    pub fn failed(&self) -> Result<Histogram<u64>, HistogramDecodeError> {
        decode_histogram(&self.failed)
    }
}

/// The iteration-duration histogram of one task.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskHistograms {
    pub duration: String,
}

/// Connection set-up histograms.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionHistograms {
    pub connect_time: String,
    pub tls_time: String,
}

/// The generator's own timing histograms (see [`GeneratorStats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratorHistograms {
    pub schedule_lag: String,
    pub start_delay: String,
}

impl ResultDoc {
    /// The format version this crate writes. It reads this one and every older one back
    /// to [`ResultDoc::OLDEST_READ`]; version 2 added `windows` (version 1 files read with
    /// none).
    pub const VERSION: u32 = 2;

    /// The oldest format version this crate still reads.
    pub const OLDEST_READ: u32 = 1;

    /// The document as pretty-printed JSON, ending with a newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .expect("a ResultDoc has only string map keys and finite numbers, so it serializes");
        s.push('\n');
        s
    }

    /// Writes the JSON to `w` (for `--json -`, stdout).
    pub fn write_to(&self, mut w: impl Write) -> io::Result<()> {
        w.write_all(self.to_json().as_bytes())?;
        w.flush()
    }

    /// Writes the JSON to `path` atomically: a temporary file in the same directory, synced,
    /// then renamed over `path`, so a reader never sees half a file and an interrupted write
    /// leaves any previous file intact. The caller handles `-` (stdout) with
    /// [`ResultDoc::write_to`].
    pub fn write_atomic(&self, path: &Path) -> io::Result<()> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".barrage-result-").suffix(".tmp");
        // Temporary files are private (0600) by default; a result file should get what any new
        // file gets (0666 less the umask), or keep the mode of the file it replaces.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let mut tmp = builder.tempfile_in(dir)?;
        {
            let mut w = BufWriter::new(tmp.as_file_mut());
            serde_json::to_writer_pretty(&mut w, self)?;
            w.write_all(b"\n")?;
            w.flush()?;
        }
        if let Ok(existing) = std::fs::metadata(path) {
            tmp.as_file().set_permissions(existing.permissions())?;
        }
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    /// The final snapshot the file was written from, so a report can be rendered from a file.
    /// The live-only rates (`current_rps`, `failures_per_s`) are zero.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            elapsed: Duration::try_from_secs_f64(self.run.duration_s).unwrap_or_default(),
            users: self.series.last().map_or(0, |s| s.users),
            in_flight: self.series.last().map_or(0, |s| s.in_flight),
            endpoints: self.endpoints.clone(),
            aggregate: self.aggregate.clone(),
            failures: self.failures.clone(),
            checks: self.checks.clone(),
            tasks: self.tasks.clone(),
            connections: self.connections.clone(),
            generator: self.generator.clone(),
            server: self
                .server
                .as_ref()
                .map(|s| std::sync::Arc::new(s.stats.clone())),
            stats_since: Duration::try_from_secs_f64(self.stats_since_s).unwrap_or_default(),
        }
    }
}
