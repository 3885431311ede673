//! Which share of the whole load one runner does.
//!
//! Users and iterations are numbered over the whole load (user `i`, iteration `k`, from 0),
//! and a segment owns the numbers congruent to its `index` modulo its `count`: the stripe
//! `index, index + count, index + 2·count, ...`. Every runner computes its own share from
//! the load's formulas, so no runner talks to another to divide the work.
//!
//! Segments nest: a process that runs segment `p` of `P` (`barrage run --segment p+1/P`)
//! splits it over its `W` worker threads as segments `p + P·w` of `P·W`, so a worker owns
//! exactly the numbers it would own if all the workers ran in one process. Processes need
//! not have the same number of workers: whatever a worker gets must therefore be a count
//! of the numbers it owns, never a part computed from its position among the segments of
//! its own count (which depends on how the others split). [`Segment::share`] and
//! [`Segment::dealt`] are such counts, so every split of every segment adds up to the
//! whole exactly. k6's `execution_segment.go` holds the same idea as fractions of the load;
//! stripes keep user numbers whole, which matters since user `i`'s type and data rows
//! follow from `i`.

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

    /// This segment's `n`-th number (from 0): the global number of its `n`-th user or row
    /// draw.
    pub fn nth(self, n: u64) -> u64 {
        n.saturating_mul(self.count).saturating_add(self.index)
    }

    /// How many of `0..amount` are this segment's when they are dealt round-robin over
    /// `owners` numbered owners (number `k` goes with owner `k mod owners`): its part of a
    /// total iteration count shared by `owners` users, say. Since it counts owners'
    /// numbers, the parts nest as segments do: the parts of a segment's splits add up to
    /// its own part, and the parts of all segments of any mix of splits add up to `amount`
    /// exactly. A segment that owns no owner gets nothing, and so does every segment when
    /// there is no owner.
    pub fn dealt(self, amount: u64, owners: u64) -> u64 {
        if owners == 0 {
            return 0;
        }
        (amount / owners) * self.share(owners) + self.share(amount % owners)
    }

    /// The numbers this segment gets when they are dealt round-robin over `owners` owners
    /// (see [`Segment::dealt`]), in order: the `k` with `k mod owners` this segment's. An
    /// arrival-rate schedule hands start `k` to the segment that owns pool user
    /// `k mod max_users`, so a segment's share of the starts follows its share of the
    /// users, and a segment without a user gets no start. Empty without an owner.
    pub fn dealt_numbers(self, owners: u64) -> impl Iterator<Item = u64> {
        let per_round = self.share(owners);
        (0..u64::MAX)
            .take_while(move |_| per_round > 0)
            .map_while(move |j| {
                let owner = self.nth(j % per_round);
                (j / per_round).checked_mul(owners)?.checked_add(owner)
            })
    }

    /// The fraction of all numbers this segment gets when they are dealt over `owners`
    /// owners (`share(owners) / owners`; 0 without an owner).
    pub fn dealt_fraction(self, owners: u64) -> f64 {
        if owners == 0 {
            return 0.0;
        }
        self.share(owners) as f64 / owners as f64
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

    /// Every way of running `count` segments: each split over 1, 2 or 3 workers (machines
    /// with different numbers of cores), flattened to the workers' segments.
    fn mixed_splits(count: u64) -> Vec<Segment> {
        (0..count)
            .flat_map(|i| {
                let workers = (i % 3 + 1) as usize;
                Segment::new(i, count).unwrap().split(workers)
            })
            .collect()
    }

    #[test]
    fn dealt_parts_add_up_over_any_mix_of_splits_and_follow_the_owners() {
        // 3 users over 2 workers (2 and 1): 10 iterations dealt round-robin, 7 and 3.
        let two: Vec<Segment> = Segment::WHOLE.split(2).collect();
        assert_eq!(
            two.iter().map(|s| s.dealt(10, 3)).collect::<Vec<_>>(),
            [7, 3]
        );
        let four: Vec<Segment> = Segment::WHOLE.split(4).collect();
        assert_eq!(four[3].dealt(10, 3), 0, "a worker without users gets none");
        assert_eq!(
            two.iter().map(|s| s.dealt(5, 1)).collect::<Vec<_>>(),
            [5, 0]
        );
        assert_eq!(Segment::WHOLE.dealt(5, 0), 0);
        for count in 1..=16 {
            let parts = mixed_splits(count);
            for amount in [0, 1, 7, 100, 1001] {
                for owners in [1, 2, 5, 13, 16, 40] {
                    let sum: u64 = parts.iter().map(|s| s.dealt(amount, owners)).sum();
                    assert_eq!(sum, amount, "{amount} over {owners}, {count} segments");
                    // A segment's part is what its splits get together.
                    for i in 0..count {
                        let s = Segment::new(i, count).unwrap();
                        let split: u64 = s.split(3).map(|w| w.dealt(amount, owners)).sum();
                        assert_eq!(split, s.dealt(amount, owners));
                    }
                }
            }
        }
    }

    #[test]
    fn dealt_numbers_are_owned_once_and_counted_by_dealt() {
        let w: Vec<Segment> = Segment::WHOLE.split(4).collect();
        // 10 owners over 4 workers: worker 0 owns owners 0, 4, 8.
        assert_eq!(
            w[0].dealt_numbers(10).take(6).collect::<Vec<_>>(),
            [0, 4, 8, 10, 14, 18]
        );
        assert_eq!(Segment::new(5, 8).unwrap().dealt_numbers(3).next(), None);
        assert_eq!(w[1].dealt_fraction(10), 0.3);
        for count in 1..=16 {
            for owners in [1, 3, 10, 16, 17, 1000] {
                let parts = mixed_splits(count);
                let mut all: Vec<u64> = parts
                    .iter()
                    .flat_map(|s| s.dealt_numbers(owners).take_while(|&k| k < 500))
                    .collect();
                all.sort_unstable();
                assert_eq!(all, (0..500).collect::<Vec<_>>(), "{count} over {owners}");
                for s in &parts {
                    let n = s.dealt_numbers(owners).take_while(|&k| k < 500).count();
                    assert_eq!(n as u64, s.dealt(500, owners));
                }
                let fractions: f64 = parts.iter().map(|s| s.dealt_fraction(owners)).sum();
                assert!((fractions - 1.0).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn nth_numbers_a_segments_users_globally() {
        let s = Segment::new(1, 3).unwrap();
        assert_eq!((0..3).map(|n| s.nth(n)).collect::<Vec<_>>(), [1, 4, 7]);
        assert!(Segment::new(2, 2).is_err());
    }
}
