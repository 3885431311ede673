//! The slowest traced requests of one endpoint (`--traceparent`): their trace ids, so a
//! p99 point can be looked up in the service's tracing (Jaeger, Tempo) by id.
//!
//! The design choice: a fixed array of the [`SLOWEST`] slowest, sorted slowest first, with
//! the fastest of them kept apart as a floor. A request slower than the floor takes its
//! place; every other request costs one comparison and no allocation, so the recorder's
//! promise (nothing allocated per request, no lock) holds with tracing on. Keeping the top
//! few exactly is possible only because they are few: the histograms say how slow a p99
//! is, this says which requests were that slow.
//!
//! Which requests count: those in the response-time histogram, the successful ones, since
//! that population is what the percentiles (and so a p99 point) are made of. A failed
//! request is counted and sampled under `failures` instead.
//!
//! Like everything in an interval, it merges: the slowest of two sets is the slowest of
//! their union, so workers, seconds and a reset (`--reset-stats` starts a new set) behave
//! as for the histograms.

use serde::{Deserialize, Serialize};

/// How many of the slowest requests each endpoint keeps.
pub const SLOWEST: usize = 5;

/// The ids of one traced request as its `traceparent` header carried them (W3C Trace
/// Context): the trace it belongs to and its own span (the header's `parent-id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TraceIds {
    /// 128 bits, never zero (the W3C rule for a valid id).
    pub trace_id: u128,
    /// 64 bits, never zero.
    pub span_id: u64,
}

/// One kept request: how long it took, its ids, and when it was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Slow {
    pub(crate) response_time_ns: u64,
    pub(crate) ids: TraceIds,
    /// When the request was sent, in nanoseconds since the run's start.
    pub(crate) at_ns: u64,
}

/// The [`SLOWEST`] slowest requests seen, slowest first. See the module documentation.
///
/// On the wire (`crate::wire`) it is the list of kept requests, offered again one by one
/// when read, so no input can break the order the floor relies on.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(from = "Vec<Slow>", into = "Vec<Slow>")]
pub(crate) struct Slowest {
    /// The response time a request must beat to be kept: the fastest held once all places
    /// are taken, zero before.
    floor: u64,
    /// Slowest first; the places not yet taken are at the end.
    held: [Option<Slow>; SLOWEST],
}

impl Slowest {
    /// Keeps `s` if it is among the slowest so far. A tie with the fastest held keeps the
    /// one seen first.
    #[inline]
    pub(crate) fn offer(&mut self, s: Slow) {
        // The common path: one comparison.
        if s.response_time_ns > self.floor {
            self.insert(s);
        }
    }

    /// Puts `s` in its place, dropping the fastest held when every place is taken.
    #[inline(never)]
    fn insert(&mut self, s: Slow) {
        let rt = s.response_time_ns;
        // There is such a place: a free one, or (when full) at least the last, since `s`
        // beat the floor.
        let Some(at) = self
            .held
            .iter()
            .position(|h| h.is_none_or(|h| rt > h.response_time_ns))
        else {
            return;
        };
        self.held.copy_within(at..SLOWEST - 1, at + 1);
        self.held[at] = Some(s);
        self.floor = self.held[SLOWEST - 1].map_or(0, |h| h.response_time_ns);
    }

    /// Adds what `other` kept: the slowest of both.
    pub(crate) fn merge(&mut self, other: &Slowest) {
        for s in other.iter() {
            self.offer(*s);
        }
    }

    /// The kept requests, slowest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Slow> {
        self.held.iter().map_while(Option::as_ref)
    }
}

impl From<Vec<Slow>> for Slowest {
    fn from(kept: Vec<Slow>) -> Slowest {
        let mut s = Slowest::default();
        for one in kept {
            s.offer(one);
        }
        s
    }
}

impl From<Slowest> for Vec<Slow> {
    fn from(s: Slowest) -> Vec<Slow> {
        s.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow(ms: u64, id: u64) -> Slow {
        Slow {
            response_time_ns: ms * 1_000_000,
            ids: TraceIds {
                trace_id: u128::from(id),
                span_id: id,
            },
            at_ns: id,
        }
    }

    fn ids(s: &Slowest) -> Vec<u64> {
        s.iter().map(|s| s.ids.span_id).collect()
    }

    #[test]
    fn keeps_the_five_slowest_slowest_first() {
        let mut s = Slowest::default();
        assert_eq!(ids(&s), Vec::<u64>::new());
        // Response times 7, 3, 9, 1, 12, 5, 8, 2, 11 ms; the span id names each.
        for (id, ms) in [7, 3, 9, 1, 12, 5, 8, 2, 11].into_iter().enumerate() {
            s.offer(slow(ms, id as u64 + 1));
        }
        // 12 (id 5), 11 (9), 9 (3), 8 (7), 7 (1).
        assert_eq!(ids(&s), [5, 9, 3, 7, 1]);
        assert_eq!(s.floor, 7_000_000);
    }

    #[test]
    fn fewer_than_five_are_all_kept_and_a_tie_keeps_the_first() {
        let mut s = Slowest::default();
        s.offer(slow(4, 1));
        s.offer(slow(6, 2));
        assert_eq!(ids(&s), [2, 1]);
        assert_eq!(s.floor, 0, "not full: anything slower than nothing is kept");
        for id in 3..=5 {
            s.offer(slow(4, id));
        }
        assert_eq!(ids(&s), [2, 1, 3, 4, 5]);
        // As slow as the fastest held: not kept.
        s.offer(slow(4, 6));
        assert_eq!(ids(&s), [2, 1, 3, 4, 5]);
        s.offer(slow(5, 7));
        assert_eq!(ids(&s), [2, 7, 1, 3, 4]);
    }

    #[test]
    fn merging_keeps_the_slowest_of_both_whatever_the_split() {
        let all: Vec<Slow> = (1..=40).map(|i| slow(i * 37 % 101, i)).collect();
        let mut one = Slowest::default();
        all.iter().for_each(|s| one.offer(*s));
        // The same requests seen by three workers, merged in another order.
        let mut parts = [Slowest::default(), Slowest::default(), Slowest::default()];
        for (i, s) in all.iter().enumerate() {
            parts[i % 3].offer(*s);
        }
        let mut merged = Slowest::default();
        for p in parts.iter().rev() {
            merged.merge(p);
        }
        assert_eq!(ids(&merged), ids(&one));
        // i * 37 % 101 for i in 1..=40: the largest are 100 (i 30), 97 (19), 94 (8), 93 (38), 90 (27).
        assert_eq!(ids(&one), [30, 19, 8, 38, 27]);
    }
}
