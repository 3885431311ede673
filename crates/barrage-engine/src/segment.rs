//! Which share of the whole load one runner does.
//!
//! Users and iterations are numbered over the whole load (user `i`, iteration `k`, from 0),
//! and a segment owns the numbers congruent to its `index` modulo its `count`: the stripe
//! `index, index + count, index + 2·count, ...`. Every runner computes its own share from
//! the load's formulas, so no runner talks to another to divide the work.
//!
//! Segments nest: a process that runs segment `p` of `P` splits it over its `W` worker
//! threads as segments `p + P·w` of `P·W`, so a worker of one process owns exactly the
//! numbers it would own if all `P·W` workers ran in one process. Today's split over worker
//! threads is `Segment::WHOLE.split(W)`; a run spread over several machines gives each
//! process its own segment first (k6's `execution_segment.go` holds the same idea as
//! fractions of the load; stripes keep user numbers whole, which matters since user `i`'s
//! type and data rows follow from `i`).

/// Stripe `index` of `count` (`0 <= index < count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segment {
    index: u64,
    count: u64,
}

/// A segment that cannot be: `index` not below `count`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("segment {index}/{count}: the index must be below the count (and the count at least 1)")]
pub struct SegmentError {
    pub index: u64,
    pub count: u64,
}

impl Segment {
    /// All of the load.
    pub const WHOLE: Segment = Segment { index: 0, count: 1 };

    pub fn new(index: u64, count: u64) -> Result<Segment, SegmentError> {
        if count == 0 || index >= count {
            return Err(SegmentError { index, count });
        }
        Ok(Segment { index, count })
    }

    pub fn index(self) -> u64 {
        self.index
    }

    pub fn count(self) -> u64 {
        self.count
    }

    /// This segment split `n` ways (`n >= 1`), in order: part `j` owns the numbers of this
    /// segment whose position in it is `j` modulo `n`.
    pub fn split(self, n: usize) -> impl Iterator<Item = Segment> {
        let n = n.max(1) as u64;
        (0..n).map(move |j| Segment {
            index: self.index + self.count * j,
            count: self.count * n,
        })
    }

    /// Whether number `i` (a user, an iteration) is this segment's.
    pub fn owns(self, i: u64) -> bool {
        i % self.count == self.index
    }

    /// How many of the numbers `0..total` are this segment's.
    pub fn share(self, total: u64) -> u64 {
        total / self.count + u64::from(self.index < total % self.count)
    }

    /// This segment's numbers from `from` on, in order.
    pub fn numbers_from(self, from: u64) -> impl Iterator<Item = u64> {
        let first = from + (self.index + self.count - from % self.count) % self.count;
        (first..).step_by(self.count as usize)
    }

    /// How many of `0..total` the segments before this one (of the same count) own: where
    /// this segment's part starts when a count is dealt out in proportion.
    fn share_before(self, total: u64) -> u64 {
        (0..self.index)
            .map(|index| Segment { index, ..self }.share(total))
            .sum()
    }

    /// This segment's part of `amount` (total iterations, say) when it is dealt out in
    /// proportion to each segment's share of `weights` (users): the parts of all segments of
    /// one count add up to `amount` exactly, and a segment with no weight gets nothing.
    pub fn proportional(self, amount: u64, weights: u64) -> u64 {
        if weights == 0 {
            return if self.index == 0 { amount } else { 0 };
        }
        let upto = |w: u64| ((amount as u128 * w as u128) / weights as u128) as u64;
        let before = self.share_before(weights);
        upto(before + self.share(weights)) - upto(before)
    }

    /// The same stripes over at most `n` parts: a load that can use only `n` runners (an
    /// open model with `n` users at most) is striped over the first `n` segments, and the
    /// others get nothing (`None`).
    pub fn limited(self, n: u64) -> Option<Segment> {
        let count = self.count.min(n.max(1));
        (self.index < count).then_some(Segment {
            index: self.index,
            count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_owns_every_number_once() {
        let workers: Vec<Segment> = Segment::WHOLE.split(3).collect();
        for i in 0..100 {
            assert_eq!(workers.iter().filter(|s| s.owns(i)).count(), 1);
        }
        assert_eq!(workers.iter().map(|s| s.share(100)).sum::<u64>(), 100);
        assert_eq!(
            workers[1].numbers_from(5).take(3).collect::<Vec<_>>(),
            [7, 10, 13]
        );
        assert_eq!(workers[2].numbers_from(2).next(), Some(2));
    }

    #[test]
    fn segments_nest_as_if_all_workers_ran_in_one_process() {
        // Process 1 of 2, split over 3 workers, owns what workers 1, 3, 5 of 6 would.
        let process = Segment::new(1, 2).unwrap();
        let workers: Vec<Segment> = process.split(3).collect();
        let flat: Vec<Segment> = Segment::WHOLE.split(6).collect();
        assert_eq!(workers, [flat[1], flat[3], flat[5]]);
        for i in 0..60 {
            assert_eq!(
                process.owns(i),
                workers.iter().any(|w| w.owns(i)),
                "number {i}"
            );
        }
    }

    #[test]
    fn proportional_parts_add_up_and_follow_the_weights() {
        let two: Vec<Segment> = Segment::WHOLE.split(2).collect();
        // 3 users over 2 workers: 2 and 1; 10 iterations dealt 6 and 4 (floor of 20/3).
        assert_eq!(
            two.iter()
                .map(|s| s.proportional(10, 3))
                .collect::<Vec<_>>(),
            [6, 4]
        );
        let four: Vec<Segment> = Segment::WHOLE.split(4).collect();
        let parts: Vec<u64> = four.iter().map(|s| s.proportional(10, 3)).collect();
        assert_eq!(parts.iter().sum::<u64>(), 10);
        assert_eq!(parts[3], 0, "a worker without users gets no iterations");
        assert_eq!(
            two.iter().map(|s| s.proportional(5, 1)).collect::<Vec<_>>(),
            [5, 0]
        );
        for amount in [0, 1, 7, 1000] {
            for weights in [0, 1, 5, 13] {
                let sum: u64 = four.iter().map(|s| s.proportional(amount, weights)).sum();
                assert_eq!(sum, amount, "{amount} over {weights}");
            }
        }
    }

    #[test]
    fn limited_keeps_the_first_stripes() {
        let w: Vec<Segment> = Segment::WHOLE.split(4).collect();
        assert_eq!(w[1].limited(2), Some(Segment { index: 1, count: 2 }));
        assert_eq!(w[2].limited(2), None);
        assert_eq!(w[3].limited(10), Some(w[3]));
        assert!(Segment::new(2, 2).is_err());
    }
}
