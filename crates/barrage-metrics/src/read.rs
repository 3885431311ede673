//! Reading a result file: its version, its JSON, and the checks it passes, so that numbers a
//! run cannot produce are refused with the place they stand, rather than flowing into a
//! report or a comparison. (`result.rs` holds the document and writes it; it needs none of
//! this.)
//!
//! Result files are committed as baselines and edited by hand or by other tools, so a
//! reader cannot assume the writer was barrage. What is checked is what every barrage run
//! guarantees: failures within requests, latency statistics non-negative, finite and in
//! order (min <= p50 <= ... <= p99.9 <= max), latencies over no more requests than
//! succeeded, the aggregate equal to the sum of its endpoints, and each histogram holding
//! exactly the count its statistics claim. Anything a reader ignores (fields it does not
//! know, missing optional sections) is not checked.

use serde::Deserialize;

use crate::histogram::decode_histogram;
use crate::result::{EndpointHistograms, ResultDoc};
use crate::snapshot::{EndpointStats, LatencyStats};

/// Why a result file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    #[error("not a barrage result file: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "result file version {found} is not supported; this barrage reads version {supported}"
    )]
    UnsupportedVersion { found: u64, supported: u32 },
    /// Numbers no run could have produced.
    #[error("the numbers do not add up at {0}")]
    Inconsistent(#[from] Inconsistency),
}

impl ResultDoc {
    /// Reads a result file, refusing versions other than [`ResultDoc::VERSION`] with an error
    /// that says so (rather than a confusing missing-field message), and numbers no run could
    /// have produced with the endpoint and field they stand in.
    pub fn from_json(json: &str) -> Result<ResultDoc, ResultError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u64,
        }
        let VersionOnly { version } = serde_json::from_str(json)?;
        if version != u64::from(ResultDoc::VERSION) {
            return Err(ResultError::UnsupportedVersion {
                found: version,
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
    histograms(doc)
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
    for (field, encoded, count) in [
        ("response_time", &h.response_time, e.response_time.count),
        ("service_time", &h.service_time, e.service_time.count),
    ] {
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
