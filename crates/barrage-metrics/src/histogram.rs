//! The one histogram configuration barrage uses, and its encoding in result files.
//!
//! Every latency is an HDR histogram of nanoseconds with 3 significant digits over 1 µs .. 1 h
//! (DESIGN.md, "Measuring latency right"). Keeping one configuration everywhere is what makes
//! merging exact: two histograms with the same layout add bucket by bucket, so merging worker
//! intervals, seconds, or whole runs from different machines loses nothing.
//!
//! Such a histogram is about 200 KB, so [`LazyHistogram`] allocates only once something is
//! recorded into it: an endpoint that never saw traffic costs a few bytes. Values outside the
//! range are clamped, never rejected: recording can neither fail nor panic.
//!
//! This module must not decide what is measured; it only holds and encodes values.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use hdrhistogram::Histogram;

/// The lowest value told apart from zero: 1 µs, in nanoseconds.
pub const LOWEST_NS: u64 = 1_000;
/// The highest value tracked: 1 h, in nanoseconds. Larger values are clamped to it.
pub const HIGHEST_NS: u64 = 3_600 * 1_000_000_000;
/// Significant decimal digits kept.
pub const SIGNIFICANT_DIGITS: u8 = 3;
/// The name of the histogram encoding used in result files: HdrHistogram's V2 format, zlib
/// compressed (the "compressed histogram" other HdrHistogram implementations read), then
/// standard base64 with padding.
pub const ENCODING: &str = "hdr-v2-deflate-base64";

/// A new, empty histogram with barrage's configuration.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(LOWEST_NS, HIGHEST_NS, SIGNIFICANT_DIGITS)
        .expect("the constant bounds 1 µs .. 1 h at 3 digits are a valid configuration")
}

/// Converts nanoseconds to the milliseconds shown in reports and result files.
#[inline]
pub fn ns_to_ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Why an encoded histogram could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum HistogramDecodeError {
    #[error("histogram is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("histogram is not a valid HdrHistogram V2 encoding: {0}")]
    Hdr(#[from] hdrhistogram::serialization::DeserializeError),
}

/// Encodes a histogram as [`ENCODING`].
pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut bytes).expect(
        "serializing into a Vec fails only for counts above i64::MAX, which no run reaches",
    );
    BASE64.encode(bytes)
}

/// Rebuilds the exact histogram from a string produced by [`encode_histogram`] (the
/// `histograms` section of a result file). Tools that merge or compare runs start here.
pub fn decode_histogram(b64: &str) -> Result<Histogram<u64>, HistogramDecodeError> {
    let bytes = BASE64.decode(b64.trim())?;
    Ok(Deserializer::new().deserialize(&mut bytes.as_slice())?)
}

/// A histogram that allocates its ~200 KB of buckets on first use.
#[derive(Clone, Debug, Default)]
pub(crate) struct LazyHistogram(Option<Histogram<u64>>);

impl LazyHistogram {
    /// A histogram with its buckets already allocated, so the first record does not allocate.
    pub(crate) fn allocated() -> LazyHistogram {
        LazyHistogram(Some(new_histogram()))
    }

    /// A histogram that must have barrage's layout (bounds and digits); `wire` checks it.
    pub(crate) fn from_histogram(h: Histogram<u64>) -> LazyHistogram {
        LazyHistogram(Some(h))
    }

    /// Records one value, clamped into 1 µs .. 1 h. Allocates only on the first record.
    #[inline]
    pub(crate) fn record(&mut self, ns: u64) {
        self.0
            .get_or_insert_with(new_histogram)
            .saturating_record(ns);
    }

    /// Adds every value of `other` into `self`.
    pub(crate) fn add(&mut self, other: &LazyHistogram) {
        if let Some(o) = other.get() {
            self.add_histogram(o);
        }
    }

    /// Adds every value of a plain histogram with barrage's configuration into `self`.
    pub(crate) fn add_histogram(&mut self, other: &Histogram<u64>) {
        if other.is_empty() {
            return;
        }
        self.0
            .get_or_insert_with(new_histogram)
            .add(other)
            .expect("histograms built by new_histogram share one layout, so adding cannot overflow the range");
    }

    /// The histogram, if anything was ever allocated for it.
    pub(crate) fn get(&self) -> Option<&Histogram<u64>> {
        self.0.as_ref()
    }

    /// The number of values recorded.
    pub(crate) fn len(&self) -> u64 {
        self.0.as_ref().map_or(0, Histogram::len)
    }

    /// Forgets every value but keeps the allocation for reuse. Cheap when already empty
    /// (resetting walks all ~25,000 buckets).
    pub(crate) fn clear(&mut self) {
        if let Some(h) = &mut self.0 {
            if !h.is_empty() {
                h.reset();
            }
        }
    }

    /// Takes the values out, leaving an empty histogram that is already allocated when this one
    /// was: a histogram used during one interval will most likely be used in the next, and
    /// allocating here keeps the allocation off the per-request path. One allocated but
    /// empty (used once, idle since: a closed run's connection times after its first second)
    /// stays where it is and nothing is handed over, rather than a fresh ~200 KB of zeroed
    /// buckets every second for nothing.
    pub(crate) fn take_rewarmed(&mut self) -> LazyHistogram {
        match &self.0 {
            Some(h) if !h.is_empty() => std::mem::replace(self, LazyHistogram::allocated()),
            _ => LazyHistogram::default(),
        }
    }

    /// The value at `quantile` in nanoseconds, 0 when empty.
    pub(crate) fn quantile_ns(&self, quantile: f64) -> u64 {
        match &self.0 {
            Some(h) if !h.is_empty() => h.value_at_quantile(quantile),
            _ => 0,
        }
    }

    /// The largest value in nanoseconds (the top of its bucket), 0 when empty.
    pub(crate) fn max_ns(&self) -> u64 {
        match &self.0 {
            Some(h) if !h.is_empty() => h.max(),
            _ => 0,
        }
    }

    /// The result-file encoding; an empty histogram when nothing was recorded, so readers
    /// always find a valid histogram.
    pub(crate) fn encode(&self) -> String {
        match &self.0 {
            Some(h) => encode_histogram(h),
            None => encode_histogram(&new_histogram()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_values_are_clamped_not_rejected() {
        let mut h = LazyHistogram::default();
        h.record(0);
        h.record(1);
        h.record(u64::MAX);
        assert_eq!(h.len(), 3);
        assert!(h.max_ns() >= HIGHEST_NS);
        assert!(h.max_ns() <= HIGHEST_NS + HIGHEST_NS / 1000);
    }

    #[test]
    fn lazy_histogram_allocates_only_when_used() {
        let mut h = LazyHistogram::default();
        assert!(h.get().is_none());
        assert_eq!(h.quantile_ns(0.5), 0);
        assert!(h.take_rewarmed().get().is_none());
        h.record(5_000_000);
        let taken = h.take_rewarmed();
        assert_eq!(taken.len(), 1);
        assert!(h.get().is_some(), "rewarmed after use");
        assert_eq!(h.len(), 0);
        let kept = h.get().map(|k| k as *const Histogram<u64>);
        assert!(
            h.take_rewarmed().get().is_none(),
            "nothing handed over when idle"
        );
        assert_eq!(
            h.get().map(|k| k as *const Histogram<u64>),
            kept,
            "the same buckets kept"
        );
    }

    #[test]
    fn encoding_round_trips_exactly() {
        let mut h = new_histogram();
        for v in [1_000u64, 2_500_000, 40_000_000, 1_999_999_999] {
            h.record(v).unwrap();
        }
        let decoded = decode_histogram(&encode_histogram(&h)).unwrap();
        assert_eq!(decoded, h);
        assert_eq!(decoded.value_at_quantile(0.99), h.value_at_quantile(0.99));
        assert_eq!(decoded.low(), h.low());
        assert_eq!(decoded.high(), h.high());
    }

    #[test]
    fn empty_encoding_decodes_to_an_empty_histogram() {
        let decoded = decode_histogram(&LazyHistogram::default().encode()).unwrap();
        assert!(decoded.is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            decode_histogram("not base64!"),
            Err(HistogramDecodeError::Base64(_))
        ));
        assert!(matches!(
            decode_histogram("AAAA"),
            Err(HistogramDecodeError::Hdr(_))
        ));
    }
}
