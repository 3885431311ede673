//! The W3C Trace Context header a request carries with `--traceparent`:
//! `traceparent: 00-<trace id, 32 hex>-<span id, 16 hex>-01`, so the service's tracing
//! (Jaeger, Tempo) files its spans under a trace id barrage knows, and the slowest requests
//! kept in the result file can be looked up there.
//!
//! Which ids: every request step draws a new trace id and span id from its user's generator
//! (a `SmallRng` the user already owns: no lock, no system call). A redirect's next request
//! keeps the step's trace id with a span id of its own, since it is one more request of
//! the same step; a request sent once more on a fresh connection (a kept-alive one died
//! before a byte of the answer) goes out as rendered, ids included, because the server
//! answered only one of the two (`http/connections.rs`). The sampled flag is set (`01`) so
//! a service that samples by its parent keeps these traces. Ids are never all zero, which
//! the specification forbids.
//!
//! Cost: the header is formatted into 55 bytes on the stack and copied into the request's
//! reused buffer, so it allocates nothing; without the flag none of this runs.

use barrage_metrics::TraceIds;
use http::HeaderName;
use rand::rngs::SmallRng;
use rand::Rng;

/// The header's name.
pub(super) const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The length of a version-00 `traceparent` value: `00-` + 32 + `-` + 16 + `-01`.
pub(super) const LEN: usize = 55;

/// New ids for a request step.
pub(super) fn new_ids(rng: &mut SmallRng) -> TraceIds {
    let trace_id = loop {
        let id: u128 = rng.random();
        if id != 0 {
            break id;
        }
    };
    TraceIds {
        trace_id,
        span_id: new_span_id(rng),
    }
}

/// A new span id, for a redirect's next request within the same trace.
pub(super) fn new_span_id(rng: &mut SmallRng) -> u64 {
    loop {
        let id: u64 = rng.random();
        if id != 0 {
            return id;
        }
    }
}

/// The header's value for `ids`, sampled.
///
/// The hex digits come from `hex::encode_to_slice` (no allocation, no `core::fmt`):
/// `write!` with `{:032x}` made building a plain GET 130-170 ns slower (`cargo bench -p
/// barrage-engine --bench request`, "build GET / with traceparent" against "build GET /",
/// docs/PERFORMANCE.md), more than the whole request took to build.
pub(super) fn value(ids: TraceIds) -> [u8; LEN] {
    let mut buf = *b"00-00000000000000000000000000000000-0000000000000000-01";
    hex::encode_to_slice(ids.trace_id.to_be_bytes(), &mut buf[3..35])
        .expect("32 hex digits hold 16 bytes");
    hex::encode_to_slice(ids.span_id.to_be_bytes(), &mut buf[36..52])
        .expect("16 hex digits hold 8 bytes");
    buf
}

/// The ids of a `traceparent` value a scenario sets itself, so its slowest requests can be
/// kept under the ids it really sent; `None` unless it is a valid version-00 value.
pub(super) fn parse(value: &[u8]) -> Option<TraceIds> {
    if value.len() != LEN || &value[..3] != b"00-" || value[35] != b'-' || value[52] != b'-' {
        return None;
    }
    let trace_id = u128::from_str_radix(hex(&value[3..35])?, 16).ok()?;
    let span_id = u64::from_str_radix(hex(&value[36..52])?, 16).ok()?;
    hex(&value[53..])?;
    (trace_id != 0 && span_id != 0).then_some(TraceIds { trace_id, span_id })
}

/// `part` as text when it is lowercase hex digits only (what `from_str_radix` would take
/// besides, a sign or capitals, the header may not hold).
fn hex(part: &[u8]) -> Option<&str> {
    part.iter()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        .then(|| std::str::from_utf8(part).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_value_is_version_00_sampled_with_padded_lowercase_ids() {
        let ids = TraceIds {
            trace_id: 0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c,
            span_id: 0xb7ad_6b71_6920_3331,
        };
        // The example of the W3C specification.
        assert_eq!(
            &value(ids),
            b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        );
        let small = TraceIds {
            trace_id: 1,
            span_id: 2,
        };
        assert_eq!(
            &value(small),
            b"00-00000000000000000000000000000001-0000000000000002-01"
        );
        assert_eq!(parse(&value(ids)), Some(ids));
        assert_eq!(parse(&value(small)), Some(small));
    }

    #[test]
    fn parse_takes_only_valid_version_00_values() {
        let good = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        assert!(parse(good).is_some());
        for bad in [
            &b"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"[..],
            b"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            b"00-00000000000000000000000000000000-b7ad6b7169203331-01",
            b"00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0",
            b"00-+af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            b"00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01",
            b"",
        ] {
            assert_eq!(parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn ids_are_distinct_and_never_zero() {
        let mut rng = SmallRng::seed_from_u64(12);
        let ids: Vec<TraceIds> = (0..10_000).map(|_| new_ids(&mut rng)).collect();
        assert!(ids.iter().all(|i| i.trace_id != 0 && i.span_id != 0));
        let traces: std::collections::HashSet<u128> = ids.iter().map(|i| i.trace_id).collect();
        let spans: std::collections::HashSet<u64> = ids.iter().map(|i| i.span_id).collect();
        assert_eq!((traces.len(), spans.len()), (10_000, 10_000));
    }
}
