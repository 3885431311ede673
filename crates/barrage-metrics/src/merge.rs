//! Merging result files: several processes' shares of one run (`barrage run --segment
//! I/N`, machines started by hand) become the one result a single process would have
//! written.
//!
//! Why it can be exact: every latency in a result file travels as an HDR histogram with the
//! one configuration barrage uses, and histograms add bucket by bucket. So every latency
//! object of the merged file (min, mean, max and every percentile of each endpoint, the
//! aggregate, tasks, connections, the generator's lag, streams) is read from merged
//! histograms, never averaged from the files' percentiles, and equals what one histogram
//! fed every request holds (the mean is the merged histogram's mean, as in one process).
//! Counts add. Locust's workers send percentiles rounded to two digits, so its merged p99
//! can exceed the max; this cannot.
//!
//! What cannot be exact, and is said rather than faked (DISTRIBUTED.md lists it):
//!
//! - the per-second `series` keeps percentiles, not histograms: a merged second's p50, p95,
//!   p99 are the highest of the generators' (an upper bound of the true value, which lies
//!   between their lowest and highest); its `max`, counts and users are exact. Percentiles
//!   over time that are exact come from the 10-second `windows`, which hold histograms;
//! - a WebSocket endpoint's `messages.upgrade_time` has no histogram in the file: its
//!   count, min, max and mean merge exactly, its percentiles are the highest of the files'
//!   (the result's `warnings` say so when it happens);
//! - `server` (what `--monitor-*` saw) is the first file's that has one: every generator
//!   watched the same server, and two views of it do not add.
//!
//! Time: the merged run starts at the earliest `started_at`. Each file's seconds are moved
//! by its start's offset from it, so `series`, `iterations_by_second`, the timeline and the
//! slowest requests' `at_s` are on the merged run's clock; `windows` are on the wall clock
//! already (their `start` is Unix seconds) and merge by `start`.
//!
//! This module refuses what would not be one run (different scenarios, a segment twice,
//! segments of different splits); it does not judge thresholds (the verdicts depend on the
//! threshold language, which `barrage-report` owns): the caller judges the merged run again
//! and fills `thresholds`.

mod stats;
mod time_axis;

use std::collections::{BTreeSet, HashSet};

use hdrhistogram::Histogram;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::histogram::{decode_histogram, new_histogram};
use crate::result::{format_timestamp, HostInfo, LoadInfo, NamedGenerator, ResultDoc, ToolInfo};

/// One result file to merge, with the name it was given by (its path as typed), which
/// messages and the merged file's `generators` use.
#[derive(Clone, Debug)]
pub struct MergeInput {
    pub name: String,
    pub doc: ResultDoc,
}

/// Why files were refused: each names the files it is about.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: give one or more result files")]
    Nothing,
    #[error(
        "{a} and {b} ran different scenarios (scenario_sha256 {a_sha} and {b_sha}); merge \
         combines the shares of one run of one scenario file"
    )]
    DifferentScenario {
        a: String,
        a_sha: String,
        b: String,
        b_sha: String,
    },
    #[error(
        "{with} records the scenario it ran (scenario_sha256) but {without} does not (a `barrage \
         hit` or an older file); merge combines the shares of one run of one scenario file"
    )]
    ScenarioUnknown { with: String, without: String },
    #[error("{a} and {b} are both segment {index}/{count}: a share of the load given twice would count its requests twice")]
    SegmentTwice {
        a: String,
        b: String,
        index: u64,
        count: u64,
    },
    #[error(
        "{a} is segment {a_index}/{a_count} but {b} is segment {b_index}/{b_count}: segments of \
         different splits overlap; merge the segments of one split (all I/{a_count})"
    )]
    SegmentCounts {
        a: String,
        a_index: u64,
        a_count: u64,
        b: String,
        b_index: u64,
        b_count: u64,
    },
    #[error(
        "{segmented} is one segment of a split run but {whole} is a whole run (no `run.segment`): \
         the whole run's load overlaps every segment's"
    )]
    SegmentMixed { segmented: String, whole: String },
    #[error("{file}: `run.segment` is {index}/{count}; a segment is I/N with 1 <= I <= N")]
    SegmentInvalid {
        file: String,
        index: u64,
        count: u64,
    },
    #[error("{a} and {b} are the same run (run_id {run_id}): a run given twice would count its requests twice")]
    SameRun {
        a: String,
        b: String,
        run_id: String,
    },
    #[error("{file} is the result of `barrage capacity` (a search over loads), not of one run; merge takes `barrage run` results")]
    Capacity { file: String },
    #[error(
        "{file}: `{at}` holds no histogram though it counts {count} values; merge computes \
         percentiles from the histograms, so give the file as barrage wrote it"
    )]
    NoHistogram {
        file: String,
        at: String,
        count: u64,
    },
    #[error("{file}: `{at}`: {why}")]
    Histogram {
        file: String,
        at: String,
        why: String,
    },
    #[error(
        "{file}: `run.{field}` is {value:?}, not an RFC 3339 time; merge lines the files up by it"
    )]
    Time {
        file: String,
        field: &'static str,
        value: String,
    },
}

/// Merges the result files of one run's shares into one result (see the module
/// documentation for what adds, what is recomputed and what is refused). `command` is the
/// merging command line, written as `run.command`. The result's `thresholds` are empty: the
/// caller judges the merged run again. Inputs of a split run are taken in segment order,
/// others in the order given; endpoints, tasks and checks are in the first input's order,
/// then those only later inputs have.
pub fn merge(inputs: &[MergeInput], command: &str) -> Result<ResultDoc, MergeError> {
    refuse(inputs)?;
    let mut inputs: Vec<&MergeInput> = inputs.iter().collect();
    inputs.sort_by_key(|i| i.doc.run.segment.map_or(0, |s| s.index));
    let starts = inputs
        .iter()
        .map(|i| parse_time(i, "started_at", &i.doc.run.started_at))
        .collect::<Result<Vec<_>, _>>()?;
    let ends = inputs
        .iter()
        .map(|i| parse_time(i, "ended_at", &i.doc.run.ended_at))
        .collect::<Result<Vec<_>, _>>()?;
    let first_start = *starts.iter().min().ok_or(MergeError::Nothing)?;
    let offsets: Vec<f64> = starts
        .iter()
        .map(|s| (*s - first_start).as_seconds_f64())
        .collect();

    let mut warnings = Vec::new();
    let tables = stats::merge_tables(&inputs, &offsets, &mut warnings)?;
    let axis = time_axis::merge_time(&inputs, &offsets, &tables.endpoint_maps, &mut warnings)?;

    let first = &inputs[0].doc;
    let duration_s = inputs
        .iter()
        .zip(&offsets)
        .map(|(i, o)| o + i.doc.run.duration_s)
        .fold(0.0, f64::max);
    let ended_at = ends.iter().max().copied().unwrap_or(first_start);
    let mut run = first.run.clone();
    run.tool_version = env!("CARGO_PKG_VERSION").to_owned();
    run.started_at = format_timestamp(first_start.into());
    run.ended_at = format_timestamp(ended_at.into());
    run.duration_s = duration_s;
    run.workers = inputs.iter().map(|i| i.doc.run.workers).sum();
    run.interrupted = inputs.iter().any(|i| i.doc.run.interrupted);
    run.load = merged_load(&inputs);
    run.host = HostInfo {
        cpus: inputs.iter().map(|i| i.doc.run.host.cpus).sum(),
        ..first.run.host.clone()
    };
    run.command = command.to_owned();
    run.run_id = String::new();
    run.segment = None;
    if inputs
        .iter()
        .any(|i| i.doc.run.start_at != first.run.start_at)
    {
        run.start_at = None;
    }
    let targets: BTreeSet<&str> = inputs.iter().map(|i| i.doc.run.target.as_str()).collect();
    if targets.len() > 1 {
        warnings.push(format!(
            "the files ran against different targets ({}): their counts are added as if one \
             server took them all",
            targets.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    warnings.extend(missing_segments(&inputs));

    // Figures reset during a run (`--reset-stats`) start where the latest reset was.
    let since: Vec<f64> = inputs
        .iter()
        .zip(&offsets)
        .filter(|(i, _)| i.doc.stats_since_s > 0.0)
        .map(|(i, o)| o + i.doc.stats_since_s)
        .collect();
    let stats_since_s = since.iter().copied().fold(0.0, f64::max);
    if !since.is_empty() && since.len() < inputs.len() {
        warnings.push(
            "some files reset their statistics during the run (--reset-stats) and others did \
             not: the totals of the merged run cover different spans of time"
                .to_owned(),
        );
    }
    let rate_secs = duration_s - stats_since_s;
    let mut endpoints = tables.endpoints;
    let mut aggregate = tables.aggregate;
    for e in endpoints.iter_mut().chain([&mut aggregate]) {
        e.rps = if rate_secs > 0.0 {
            e.requests as f64 / rate_secs
        } else {
            0.0
        };
    }

    let mut generators = Vec::new();
    for input in &inputs {
        let run = &input.doc.run;
        // A file that is itself a merge brings its generators along.
        if !input.doc.generators.is_empty() {
            generators.extend(input.doc.generators.iter().cloned());
            continue;
        }
        generators.push(NamedGenerator {
            name: generator_name(input),
            segment: run.segment,
            host: run.host.clone(),
            started_at: run.started_at.clone(),
            workers: run.workers,
            generator: input.doc.generator.clone(),
            warnings: input.doc.warnings.clone(),
            // A file run on its own (`run --segment`) had no coordinator to measure against
            // or lose it.
            clock_offset_ms: None,
            lost_at_s: None,
        });
    }
    for input in &inputs {
        if input.doc.generators.is_empty() {
            let name = generator_name(input);
            warnings.extend(input.doc.warnings.iter().map(|w| format!("{name}: {w}")));
        } else {
            // Already named by the merge that wrote them.
            warnings.extend(input.doc.warnings.iter().cloned());
        }
    }

    Ok(ResultDoc {
        version: ResultDoc::VERSION,
        tool: ToolInfo {
            name: "barrage".to_owned(),
            version: run.tool_version.clone(),
        },
        run,
        stats_since_s,
        endpoints,
        aggregate,
        failures: tables.failures,
        checks: tables.checks,
        tasks: tables.tasks,
        connections: tables.connections,
        generator: tables.generator,
        iterations_by_second: axis.iterations_by_second,
        warnings,
        thresholds: Vec::new(),
        series: axis.series,
        histograms: tables.histograms,
        windows: axis.windows,
        timeline: axis.timeline,
        never_ran: never_ran_everywhere(&inputs),
        server: inputs.iter().find_map(|i| i.doc.server.clone()),
        capacity: None,
        generators,
    })
}

/// How the merged file's `generators` name an input: `segment I/N`, or the file's name.
fn generator_name(input: &MergeInput) -> String {
    match input.doc.run.segment {
        Some(s) => format!("segment {}/{}", s.index, s.count),
        None => input.name.clone(),
    }
}

/// Everything that makes files not shares of one run, first found first.
fn refuse(inputs: &[MergeInput]) -> Result<(), MergeError> {
    let first = inputs.first().ok_or(MergeError::Nothing)?;
    for i in inputs {
        if i.doc.capacity.is_some() {
            return Err(MergeError::Capacity {
                file: i.name.clone(),
            });
        }
        if let Some(s) = i.doc.run.segment {
            if s.index == 0 || s.index > s.count {
                return Err(MergeError::SegmentInvalid {
                    file: i.name.clone(),
                    index: s.index,
                    count: s.count,
                });
            }
        }
    }
    for i in &inputs[1..] {
        match (&first.doc.run.scenario_sha256, &i.doc.run.scenario_sha256) {
            (Some(a), Some(b)) if a != b => {
                return Err(MergeError::DifferentScenario {
                    a: first.name.clone(),
                    a_sha: a.clone(),
                    b: i.name.clone(),
                    b_sha: b.clone(),
                })
            }
            (Some(_), None) => {
                return Err(MergeError::ScenarioUnknown {
                    with: first.name.clone(),
                    without: i.name.clone(),
                })
            }
            (None, Some(_)) => {
                return Err(MergeError::ScenarioUnknown {
                    with: i.name.clone(),
                    without: first.name.clone(),
                })
            }
            _ => {}
        }
        match (first.doc.run.segment, i.doc.run.segment) {
            (Some(_), None) => {
                return Err(MergeError::SegmentMixed {
                    segmented: first.name.clone(),
                    whole: i.name.clone(),
                })
            }
            (None, Some(_)) => {
                return Err(MergeError::SegmentMixed {
                    segmented: i.name.clone(),
                    whole: first.name.clone(),
                })
            }
            (Some(a), Some(b)) if a.count != b.count => {
                return Err(MergeError::SegmentCounts {
                    a: first.name.clone(),
                    a_index: a.index,
                    a_count: a.count,
                    b: i.name.clone(),
                    b_index: b.index,
                    b_count: b.count,
                })
            }
            _ => {}
        }
    }
    for (n, a) in inputs.iter().enumerate() {
        for b in &inputs[n + 1..] {
            if let (Some(sa), Some(sb)) = (a.doc.run.segment, b.doc.run.segment) {
                if sa == sb {
                    return Err(MergeError::SegmentTwice {
                        a: a.name.clone(),
                        b: b.name.clone(),
                        index: sa.index,
                        count: sa.count,
                    });
                }
            }
            if !a.doc.run.run_id.is_empty() && a.doc.run.run_id == b.doc.run.run_id {
                return Err(MergeError::SameRun {
                    a: a.name.clone(),
                    b: b.name.clone(),
                    run_id: a.doc.run.run_id.clone(),
                });
            }
        }
    }
    Ok(())
}

/// A warning when a split run's segments are not all there.
fn missing_segments(inputs: &[&MergeInput]) -> Option<String> {
    let count = inputs.first()?.doc.run.segment?.count;
    let given: HashSet<u64> = inputs
        .iter()
        .filter_map(|i| i.doc.run.segment.map(|s| s.index))
        .collect();
    let missing: Vec<String> = (1..=count)
        .filter(|i| !given.contains(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "segment{} {} missing: the merged run holds {} of {count} shares of the load",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            given.len()
        )
    })
}

/// Segments each record the whole load they are shares of (`run --segment` writes the
/// load as written in the file), so theirs is the first file's. Whole runs merged side by
/// side each record their own: what can be summed is summed. The model's words are the
/// first file's either way.
fn merged_load(inputs: &[&MergeInput]) -> LoadInfo {
    if inputs.iter().all(|i| i.doc.run.segment.is_some()) {
        let first = &inputs[0].doc.run.load;
        return LoadInfo {
            model: first
                .model
                .as_ref()
                .map(|m| format!("{m} (merged from {} segments)", inputs.len())),
            ..first.clone()
        };
    }
    let loads: Vec<&LoadInfo> = inputs.iter().map(|i| &i.doc.run.load).collect();
    let sum_u = |f: fn(&LoadInfo) -> Option<u64>| {
        loads
            .iter()
            .filter_map(|l| f(l))
            .reduce(|a, b| a.saturating_add(b))
    };
    let sum_f =
        |f: fn(&LoadInfo) -> Option<f64>| loads.iter().filter_map(|l| f(l)).reduce(|a, b| a + b);
    LoadInfo {
        model: loads[0]
            .model
            .as_ref()
            .map(|m| format!("{m} (merged from {} files)", inputs.len())),
        rate: sum_f(|l| l.rate),
        users: sum_u(|l| l.users),
        spawn_rate: sum_f(|l| l.spawn_rate),
        duration_s: loads.iter().filter_map(|l| l.duration_s).reduce(f64::max),
        iterations: sum_u(|l| l.iterations),
    }
}

/// What never ran in any of the files (something idle in one share may have run in
/// another), in the first file's order.
fn never_ran_everywhere(inputs: &[&MergeInput]) -> Vec<crate::NeverRan> {
    inputs[0]
        .doc
        .never_ran
        .iter()
        .filter(|n| {
            inputs[1..].iter().all(|i| {
                i.doc
                    .never_ran
                    .iter()
                    .any(|m| m.scenario == n.scenario && m.what == n.what)
            })
        })
        .cloned()
        .collect()
}

fn parse_time(
    input: &MergeInput,
    field: &'static str,
    value: &str,
) -> Result<OffsetDateTime, MergeError> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| MergeError::Time {
        file: input.name.clone(),
        field,
        value: value.to_owned(),
    })
}

/// Adds the histogram a file holds at `at` (for `count` values) into `into`. An empty
/// string is a histogram left out, which is fine only where nothing was counted.
fn add_encoded(
    into: &mut Histogram<u64>,
    file: &str,
    at: impl Fn() -> String,
    encoded: &str,
    count: u64,
) -> Result<(), MergeError> {
    if encoded.is_empty() {
        return if count == 0 {
            Ok(())
        } else {
            Err(MergeError::NoHistogram {
                file: file.to_owned(),
                at: at(),
                count,
            })
        };
    }
    let h = decode_histogram(encoded).map_err(|e| MergeError::Histogram {
        file: file.to_owned(),
        at: at(),
        why: e.to_string(),
    })?;
    into.add(&h).map_err(|e| MergeError::Histogram {
        file: file.to_owned(),
        at: at(),
        why: format!("does not fit barrage's histogram range (1 µs .. 1 h): {e:?}"),
    })
}

/// A fresh histogram to merge into.
fn empty() -> Histogram<u64> {
    new_histogram()
}
