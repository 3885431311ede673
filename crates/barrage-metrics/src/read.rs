//! Reading a result file: its version, its JSON, and the checks it passes, so that numbers a
//! run cannot produce are refused with the place they stand, rather than flowing into a
//! report or a comparison. (`result.rs` holds the document and writes it; it needs none of
//! this.)
//!
//! Result files are committed as baselines and edited by hand or by other tools, so a
//! reader cannot assume the writer was barrage. What is checked is what every barrage run
//! guarantees: failures within requests, latency statistics non-negative, finite and in
//! order (min <= p50 <= ... <= p99.9 <= max), latencies over no more requests than
//! succeeded, the aggregate equal to the sum of its endpoints, each histogram holding
//! exactly the count its statistics claim, and 10-second windows in order on their
//! boundaries, adding up within each window. Anything a reader ignores (fields it does not
//! know, missing optional sections) is not checked.

use serde::Deserialize;

use crate::histogram::decode_histogram;
use crate::result::{EndpointHistograms, ResultDoc};
use crate::snapshot::{EndpointStats, LatencyStats};
use crate::window::{WindowEntry, WINDOW_SECONDS};

/// Why a result file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    #[error("not a barrage result file: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "result file version {found} is not supported; this barrage reads versions {oldest} \
         to {supported}"
    )]
    UnsupportedVersion {
        found: u64,
        oldest: u32,
        supported: u32,
    },
    /// Numbers no run could have produced.
    #[error("the numbers do not add up at {0}")]
    Inconsistent(#[from] Inconsistency),
}

impl ResultDoc {
    /// Reads a result file of any version from [`ResultDoc::OLDEST_READ`] to
    /// [`ResultDoc::VERSION`], refusing others with an error that says so (rather than a
    /// confusing missing-field message), and numbers no run could have produced with the
    /// endpoint and field they stand in. What a version added reads as empty from older
    /// files (`windows` before version 2); `version` keeps the number read.
    pub fn from_json(json: &str) -> Result<ResultDoc, ResultError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u64,
        }
        let VersionOnly { version } = serde_json::from_str(json)?;
        let readable = u64::from(ResultDoc::OLDEST_READ)..=u64::from(ResultDoc::VERSION);
        if !readable.contains(&version) {
            return Err(ResultError::UnsupportedVersion {
                found: version,
                oldest: ResultDoc::OLDEST_READ,
                supported: ResultDoc::VERSION,
            });
        }
        let mut doc: ResultDoc = serde_json::from_str(json)?;
        validate(&doc)?;
        doc.run.tool_version.clone_from(&doc.tool.version);
        Ok(doc)
    }
}

/// A result file whose numbers no run could have produced: where, and what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {problem}")]
pub struct Inconsistency {
    /// `endpoints[2] (GET /items/{id})`, `aggregate`, `histograms.endpoints[0].response_time`.
    pub at: String,
    pub problem: String,
}

/// Checks `doc`; the first inconsistency found, in file order.
fn validate(doc: &ResultDoc) -> Result<(), Inconsistency> {
    for (i, e) in doc.endpoints.iter().enumerate() {
        endpoint(e, &format!("endpoints[{i}] ({} {})", e.method, e.name))?;
    }
    endpoint(&doc.aggregate, "aggregate")?;
    if !doc.endpoints.is_empty() {
        for (field, sum, total) in [
            (
                "requests",
                // In u128: counts read from a file may be anything, and a sum that wrapped
                // could match.
                doc.endpoints
                    .iter()
                    .map(|e| u128::from(e.requests))
                    .sum::<u128>(),
                u128::from(doc.aggregate.requests),
            ),
            (
                "failures",
                doc.endpoints.iter().map(|e| u128::from(e.failures)).sum(),
                u128::from(doc.aggregate.failures),
            ),
        ] {
            if sum != total {
                return Err(Inconsistency {
                    at: "aggregate".to_owned(),
                    problem: format!("`{field}` is {total} but the endpoints' add up to {sum}"),
                });
            }
        }
    }
    histograms(doc)?;
    windows(doc)
}

/// Windows start on 10 s boundaries, in order; each entry's failures are within its
/// requests, its endpoints are in the file's `endpoints`, in order, and add up to its
/// aggregate. Their histograms are not decoded here: a day-long run holds hundreds of
/// thousands, and a reader that draws them meets a bad one as a decode error anyway.
fn windows(doc: &ResultDoc) -> Result<(), Inconsistency> {
    let mut previous: Option<u64> = None;
    for (w, window) in doc.windows.iter().enumerate() {
        let fail = |problem: String| Inconsistency {
            at: format!("windows[{w}]"),
            problem,
        };
        if window.start % WINDOW_SECONDS != 0 {
            return Err(fail(format!(
                "`start` ({}) is not a multiple of {WINDOW_SECONDS}",
                window.start
            )));
        }
        if let Some(before) = previous.filter(|&p| p >= window.start) {
            return Err(fail(format!(
                "`start` ({}) does not come after the window before ({before}); windows are \
                 in time order, one per start",
                window.start
            )));
        }
        previous = Some(window.start);
        let entries = std::iter::once(("aggregate".to_owned(), &window.aggregate)).chain(
            window
                .endpoints
                .iter()
                .map(|e| (format!("endpoints[i={}]", e.i), &e.entry)),
        );
        for (what, e) in entries {
            if e.failures > e.requests {
                return Err(fail(format!(
                    "{what}: `failures` ({}) is greater than `requests` ({})",
                    e.failures, e.requests
                )));
            }
        }
        let mut last: Option<u32> = None;
        for e in &window.endpoints {
            if e.i as usize >= doc.endpoints.len() || last.is_some_and(|l| l >= e.i) {
                return Err(fail(format!(
                    "endpoint index {} is not one of the file's {} endpoints in order",
                    e.i,
                    doc.endpoints.len()
                )));
            }
            last = Some(e.i);
        }
        // A window listing no endpoints is a hand-made one (or an open window's aggregate
        // alone): nothing to add up.
        if !window.endpoints.is_empty() {
            let sum = |f: fn(&WindowEntry) -> u64| -> u128 {
                window
                    .endpoints
                    .iter()
                    .map(|e| u128::from(f(&e.entry)))
                    .sum()
            };
            for (field, sum, total) in [
                ("requests", sum(|e| e.requests), window.aggregate.requests),
                ("failures", sum(|e| e.failures), window.aggregate.failures),
            ] {
                if sum != u128::from(total) {
                    return Err(fail(format!(
                        "aggregate `{field}` is {total} but the endpoints' add up to {sum}"
                    )));
                }
            }
        }
    }
    Ok(())
}

fn endpoint(e: &EndpointStats, at: &str) -> Result<(), Inconsistency> {
    let fail = |problem: String| Inconsistency {
        at: at.to_owned(),
        problem,
    };
    if e.failures > e.requests {
        return Err(fail(format!(
            "`failures` ({}) is greater than `requests` ({})",
            e.failures, e.requests
        )));
    }
    let succeeded = e.requests - e.failures;
    for (field, l) in [
        ("response_time", &e.response_time),
        ("service_time", &e.service_time),
    ] {
        if l.count > succeeded {
            return Err(fail(format!(
                "`{field}.count` ({}) is greater than the requests that succeeded ({succeeded}: \
                 requests less failures); latencies cover successful requests only",
                l.count
            )));
        }
        latency(l).map_err(|p| fail(format!("`{field}`: {p}")))?;
    }
    if !e.rps.is_finite() || e.rps < 0.0 {
        return Err(fail(format!("`rps` is {}, not a rate", e.rps)));
    }
    Ok(())
}

/// Non-negative, finite and ordered.
fn latency(l: &LatencyStats) -> Result<(), String> {
    let named = [
        ("min", l.min),
        ("p50", l.p50),
        ("p75", l.p75),
        ("p90", l.p90),
        ("p95", l.p95),
        ("p99", l.p99),
        ("p999", l.p999),
        ("max", l.max),
    ];
    for (name, v) in named.iter().chain([&("mean", l.mean)]) {
        if !v.is_finite() || *v < 0.0 {
            return Err(format!(
                "`{name}` is {v}; latencies are finite and not negative"
            ));
        }
    }
    for pair in named.windows(2) {
        let ((a, va), (b, vb)) = (pair[0], pair[1]);
        if va > vb {
            return Err(format!(
                "`{a}` ({va}) is above `{b}` ({vb}); percentiles rise from min to max"
            ));
        }
    }
    Ok(())
}

/// Each histogram present decodes and holds the count its statistics claim.
fn histograms(doc: &ResultDoc) -> Result<(), Inconsistency> {
    let h = &doc.histograms;
    if !h.endpoints.is_empty() && h.endpoints.len() != doc.endpoints.len() {
        return Err(Inconsistency {
            at: "histograms.endpoints".to_owned(),
            problem: format!(
                "{} entries for {} endpoints; there is one per endpoint",
                h.endpoints.len(),
                doc.endpoints.len()
            ),
        });
    }
    let pairs = h
        .endpoints
        .iter()
        .zip(&doc.endpoints)
        .enumerate()
        .map(|(i, (h, e))| (format!("histograms.endpoints[{i}]"), h, e))
        .chain([(
            "histograms.aggregate".to_owned(),
            &h.aggregate,
            &doc.aggregate,
        )]);
    for (at, h, e) in pairs {
        endpoint_histograms(&at, h, e)?;
    }
    Ok(())
}

fn endpoint_histograms(
    at: &str,
    h: &EndpointHistograms,
    e: &EndpointStats,
) -> Result<(), Inconsistency> {
    let mut fields = vec![
        (
            "response_time",
            h.response_time.as_str(),
            e.response_time.count,
        ),
        (
            "service_time",
            h.service_time.as_str(),
            e.service_time.count,
        ),
    ];
    // A stream's histograms are held to the counts of its `stream` object.
    if let (Some(h), Some(s)) = (&h.stream, &e.stream) {
        for ((field, encoded), (_, l)) in h.fields().into_iter().zip(s.latencies()) {
            fields.push((field, encoded, l.count));
        }
    }
    for (field, encoded, count) in fields {
        // An empty string is a histogram left out (hand-made files, trimmed baselines).
        if encoded.is_empty() {
            continue;
        }
        let at = format!("{at}.{field}");
        let decoded = decode_histogram(encoded).map_err(|err| Inconsistency {
            at: at.clone(),
            problem: err.to_string(),
        })?;
        if decoded.len() != count {
            return Err(Inconsistency {
                at,
                problem: format!(
                    "holds {} values but `{field}.count` of `{} {}` says {count}",
                    decoded.len(),
                    e.method,
                    e.name
                ),
            });
        }
    }
    Ok(())
}
