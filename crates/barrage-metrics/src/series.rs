//! The per-second time series: one small summary per closed second.
//!
//! A run keeps cumulative histograms plus this series, never raw samples, so memory grows by
//! one summary per second whatever the request rate. To keep summaries small they hold
//! percentiles rather than histograms, latencies as whole microseconds in `u32` (1 h is
//! 3.6e9 µs, inside `u32`), and per-endpoint entries only for endpoints that saw traffic in
//! that second. In result files latencies are written as milliseconds, like everywhere else.
//!
//! Size per second (64-bit): a [`SecondSummary`] is 112 bytes plus 24 bytes per endpoint
//! active in that second ([`EndpointSecond`]), held in one heap block. A 24-hour run with 10
//! busy endpoints holds 86,400 × 352 B ≈ 30 MB.

use serde::{Deserialize, Serialize};

/// One closed second, all endpoints together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecondSummary {
    /// Seconds since the start of the run, at the end of this second.
    pub t: f64,
    /// Users running when the second closed (sum over workers).
    pub users: u64,
    /// Requests written and not yet answered when the second closed (sum over workers).
    /// Absent in files written before it existed: read as 0.
    #[serde(default)]
    pub in_flight: u64,
    /// Requests finished in the second, failed ones included.
    pub requests: u64,
    pub failures: u64,
    /// `requests` over the second's actual length.
    pub rps: f64,
    /// Response time of successful requests in this second (µs; ms in JSON).
    #[serde(with = "micros_as_ms")]
    pub p50: u32,
    #[serde(with = "micros_as_ms")]
    pub p95: u32,
    #[serde(with = "micros_as_ms")]
    pub p99: u32,
    #[serde(with = "micros_as_ms")]
    pub max: u32,
    /// Endpoints that finished at least one request in this second.
    pub endpoints: Vec<EndpointSecond>,
    /// Iterations an arrival-rate schedule started in this second (0 in closed models).
    #[serde(default)]
    pub iterations_started: u64,
    /// Scheduled iterations dropped in this second.
    #[serde(default)]
    pub dropped: u64,
    /// The busiest worker thread's CPU use in this second, percent of one core.
    #[serde(default)]
    pub cpu_percent: f64,
}

/// One endpoint during one second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSecond {
    /// Index into the endpoint list (the registry order, as in the result file's `endpoints`).
    pub i: u32,
    pub requests: u32,
    pub failures: u32,
    /// Response time of successful requests in this second (µs; ms in JSON).
    #[serde(with = "micros_as_ms")]
    pub p50: u32,
    #[serde(with = "micros_as_ms")]
    pub p95: u32,
    #[serde(with = "micros_as_ms")]
    pub p99: u32,
}

/// Nanoseconds to whole microseconds, saturating at `u32::MAX` (about 71 minutes, beyond the
/// histograms' 1 h range).
pub(crate) fn ns_to_micros(ns: u64) -> u32 {
    u32::try_from(ns.saturating_add(500) / 1_000).unwrap_or(u32::MAX)
}

/// A count that fits in a second's summary, saturating rather than wrapping.
pub(crate) fn saturating_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Stores microseconds, writes milliseconds.
mod micros_as_ms {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(us: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(f64::from(*us) / 1_000.0)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let ms = f64::deserialize(d)?;
        // `as` saturates out-of-range floats and maps NaN to 0, which is what a reader of a
        // damaged file wants here.
        Ok((ms * 1_000.0).round() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_the_documented_budget() {
        assert_eq!(std::mem::size_of::<SecondSummary>(), 112);
        assert_eq!(std::mem::size_of::<EndpointSecond>(), 24);
    }

    #[test]
    fn latencies_are_milliseconds_in_json_and_round_trip() {
        let s = SecondSummary {
            t: 3.0,
            users: 10,
            in_flight: 7,
            requests: 250,
            failures: 2,
            rps: 250.0,
            p50: 12_345,
            p95: 40_000,
            p99: 99_999,
            max: 1_000_001,
            endpoints: vec![EndpointSecond {
                i: 0,
                requests: 250,
                failures: 2,
                p50: 12_345,
                p95: 40_000,
                p99: 99_999,
            }],
            iterations_started: 0,
            dropped: 0,
            cpu_percent: 12.5,
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["p50"], 12.345);
        assert_eq!(json["max"], 1000.001);
        assert_eq!(json["endpoints"][0]["p99"], 99.999);
        assert_eq!(json["in_flight"], 7);
        let back: SecondSummary = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, s);
        // Written before the gauge existed: read as 0.
        let mut old = json;
        old.as_object_mut().unwrap().remove("in_flight");
        let back: SecondSummary = serde_json::from_value(old).unwrap();
        assert_eq!(back.in_flight, 0);
    }

    #[test]
    fn conversions_saturate() {
        assert_eq!(ns_to_micros(1_499), 1);
        assert_eq!(ns_to_micros(1_500), 2);
        assert_eq!(ns_to_micros(u64::MAX / 2), u32::MAX);
        assert_eq!(saturating_u32(u64::MAX), u32::MAX);
    }
}
