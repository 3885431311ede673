//! An [`Interval`] on the network: how a coordinated run's agent sends each of its workers'
//! per-second measurements to the coordinator (`barrage-fleet`).
//!
//! The interval's own types derive serde; this module holds the one part that needs a
//! choice, the histograms, and the checks a receiver must make before it merges what came
//! from another machine. A histogram travels in the result file's encoding ([`ENCODING`]:
//! HdrHistogram V2, deflated, base64), so the wire adds no format of its own and the merge
//! stays exact; one that is empty travels as `null`. Decoding refuses histograms of another
//! layout (merging one would fail) and intervals whose lists do not fit the registry the
//! coordinator compiled, so nothing an agent sends can panic the control thread.
//!
//! [`ENCODING`]: crate::ENCODING

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::histogram::{decode_histogram, encode_histogram, LazyHistogram};
use crate::histogram::{HIGHEST_NS, LOWEST_NS, SIGNIFICANT_DIGITS};
use crate::{Interval, Registry};

impl Serialize for LazyHistogram {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.get().filter(|h| !h.is_empty()) {
            Some(h) => s.serialize_some(&encode_histogram(h)),
            None => s.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for LazyHistogram {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LazyHistogram, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(LazyHistogram::default());
        };
        let h = decode_histogram(&text).map_err(D::Error::custom)?;
        if h.low() != LOWEST_NS || h.high() != HIGHEST_NS || h.sigfig() != SIGNIFICANT_DIGITS {
            return Err(D::Error::custom(format!(
                "histogram of another layout ({} .. {} ns, {} digits; barrage uses {LOWEST_NS} \
                 .. {HIGHEST_NS} ns, {SIGNIFICANT_DIGITS} digits)",
                h.low(),
                h.high(),
                h.sigfig()
            )));
        }
        // The layout is barrage's, so the decoded histogram is used as it is (adding it to a
        // fresh one would allocate and walk ~200 KB of buckets once more).
        Ok(LazyHistogram::from_histogram(h))
    }
}

/// Why an interval from the network cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("not a valid interval: {0}")]
    Decode(#[from] serde_json::Error),
    #[error(
        "the interval's {what} ({got}) do not match the scenario's ({want}): was the agent's plan \
         compiled from another scenario or version?"
    )]
    Shape {
        what: &'static str,
        got: usize,
        want: usize,
    },
}

impl Interval {
    /// Whether this interval's endpoints, tasks and checks are `registry`'s.
    pub fn check_shape(&self, registry: &Registry) -> Result<(), WireError> {
        let pairs = [
            ("endpoints", self.endpoints.len(), registry.endpoints.len()),
            ("tasks", self.tasks.len(), registry.tasks.len()),
            ("checks", self.checks.len(), registry.checks.len()),
        ];
        for (what, got, want) in pairs {
            if got != want {
                return Err(WireError::Shape { what, got, want });
            }
        }
        Ok(())
    }
}

/// The interval as JSON.
pub fn encode_interval(interval: &Interval) -> serde_json::Value {
    serde_json::to_value(interval).expect(
        "an interval is plain data (numbers, strings, lists): serializing it to a JSON value \
         cannot fail",
    )
}

/// An interval read back from [`encode_interval`]'s JSON, checked against `registry`.
pub fn decode_interval(
    value: serde_json::Value,
    registry: &Registry,
) -> Result<Interval, WireError> {
    let interval: Interval = serde_json::from_value(value)?;
    interval.check_shape(registry)?;
    Ok(interval)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Aggregator, EndpointId, EndpointInfo, Recorder, Timing};
    use std::sync::Arc;
    use std::time::Duration;

    fn endpoint(name: &str) -> EndpointInfo {
        EndpointInfo {
            scenario: "default".into(),
            method: "GET".into(),
            name: name.into(),
        }
    }

    fn registry() -> Arc<Registry> {
        let mut r = Registry::default();
        r.endpoints.push(endpoint("/a"));
        r.endpoints.push(endpoint("/b"));
        Arc::new(r)
    }

    fn ms(ms: u64) -> Timing {
        Timing {
            response_time_ns: ms * 1_000_000,
            service_time_ns: ms * 1_000_000,
        }
    }

    #[test]
    fn an_interval_sent_over_the_wire_merges_as_the_original() {
        let reg = registry();
        let mut rec = Recorder::new(&reg);
        for t in [3u64, 7, 7, 120, 450] {
            rec.success(EndpointId(0), 200, ms(t), 10, 100);
        }
        rec.failure(
            EndpointId(1),
            crate::FailureCategory::Status,
            Some(503),
            Some(ms(2)),
            10,
            0,
            || "503".to_owned(),
        );
        let original = rec.take_interval();
        let sent = encode_interval(&original);
        let text = serde_json::to_string(&sent).unwrap();
        let back = decode_interval(serde_json::from_str(&text).unwrap(), &reg).unwrap();

        let mut here = Aggregator::new(reg.clone());
        here.absorb(0, original);
        let mut there = Aggregator::new(reg.clone());
        there.absorb(0, back);
        let (a, b) = (
            here.snapshot(Duration::from_secs(1)),
            there.snapshot(Duration::from_secs(1)),
        );
        assert_eq!(a.endpoints[0].requests, 5);
        assert_eq!(
            serde_json::to_value(&a.endpoints).unwrap(),
            serde_json::to_value(&b.endpoints).unwrap()
        );
    }

    #[test]
    fn an_interval_of_another_shape_or_layout_is_refused() {
        let reg = registry();
        let interval = Recorder::new(&reg).take_interval();
        let mut other = Registry::default();
        other.endpoints.push(endpoint("/a"));
        let err = decode_interval(encode_interval(&interval), &other).unwrap_err();
        assert!(
            err.to_string().contains("endpoints (2)") && err.to_string().contains("(1)"),
            "{err}"
        );

        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 1000, 2).unwrap();
        h.record(5).unwrap();
        let mut value = encode_interval(&interval);
        value["endpoints"][0]["response_time"] = encode_histogram(&h).into();
        let err = decode_interval(value, &reg).unwrap_err();
        assert!(err.to_string().contains("another layout"), "{err}");
    }
}
