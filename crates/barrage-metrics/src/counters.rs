//! Small fixed-size counters the recorder bumps per request: status codes and failures by
//! category.
//!
//! They are plain arrays rather than maps so that counting a request never allocates nor
//! hashes: an endpoint sees a handful of distinct status codes, found by a linear scan over a
//! few inline slots, and there are exactly [`FailureCategory::COUNT`] failure categories.
//! Only data that is truly new allocates: a ninth distinct status code within one interval
//! spills into a map, and the first failure of a category in an interval stores its sample
//! message.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::registry::FailureCategory;

/// Distinct status codes kept inline before spilling into a map.
const INLINE_CODES: usize = 8;

/// Counts per HTTP status code.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(from = "Vec<(u16, u64)>", into = "Vec<(u16, u64)>")]
pub(crate) struct StatusCounts {
    inline: [(u16, u64); INLINE_CODES],
    len: usize,
    overflow: BTreeMap<u16, u64>,
}

impl StatusCounts {
    #[inline]
    pub(crate) fn add(&mut self, code: u16, n: u64) {
        for slot in &mut self.inline[..self.len] {
            if slot.0 == code {
                slot.1 += n;
                return;
            }
        }
        if self.len < INLINE_CODES {
            self.inline[self.len] = (code, n);
            self.len += 1;
        } else {
            *self.overflow.entry(code).or_default() += n;
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.inline[..self.len]
            .iter()
            .copied()
            .chain(self.overflow.iter().map(|(&c, &n)| (c, n)))
    }
}

// On the wire (`crate::wire`) the counts are a list of pairs, rebuilt by `add`, so no
// input can break the inline slots' invariant.
impl From<Vec<(u16, u64)>> for StatusCounts {
    fn from(pairs: Vec<(u16, u64)>) -> StatusCounts {
        let mut counts = StatusCounts::default();
        for (code, n) in pairs {
            counts.add(code, n);
        }
        counts
    }
}

impl From<StatusCounts> for Vec<(u16, u64)> {
    fn from(counts: StatusCounts) -> Vec<(u16, u64)> {
        counts.iter().collect()
    }
}

/// Failures of one category: how many, and the first message seen.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct FailureSlot {
    pub(crate) count: u64,
    pub(crate) sample: Option<String>,
}

/// Failures by category, indexed by [`FailureCategory::index`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct FailureCounts {
    pub(crate) slots: [FailureSlot; FailureCategory::COUNT],
}

impl FailureCounts {
    /// Counts one failure; `message` runs only when no sample is held yet for the category.
    #[inline]
    pub(crate) fn add(&mut self, category: FailureCategory, message: impl FnOnce() -> String) {
        let slot = &mut self.slots[category.index()];
        slot.count += 1;
        if slot.sample.is_none() {
            slot.sample = Some(message());
        }
    }

    /// Adds counts from `other`, keeping `self`'s samples and borrowing `other`'s only where
    /// `self` has none (the first sample seen wins).
    pub(crate) fn merge(&mut self, other: &FailureCounts) {
        for (mine, theirs) in self.slots.iter_mut().zip(&other.slots) {
            mine.count += theirs.count;
            if mine.sample.is_none() {
                mine.sample.clone_from(&theirs.sample);
            }
        }
    }

    /// Categories with at least one failure, in category order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (FailureCategory, &FailureSlot)> + '_ {
        FailureCategory::ALL
            .into_iter()
            .zip(&self.slots)
            .filter(|(_, s)| s.count > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_counts_spill_past_the_inline_slots() {
        let mut s = StatusCounts::default();
        for code in 200..212u16 {
            s.add(code, 1);
            s.add(code, 2);
        }
        let all: BTreeMap<u16, u64> = s.iter().collect();
        assert_eq!(all.len(), 12);
        assert!(all.values().all(|&n| n == 3));
    }

    #[test]
    fn failures_keep_the_first_sample_and_call_the_closure_once() {
        let mut f = FailureCounts::default();
        let mut calls = 0;
        for i in 0..5 {
            f.add(FailureCategory::Status, || {
                calls += 1;
                format!("HTTP 500 #{i}")
            });
        }
        assert_eq!(calls, 1);
        let slot = &f.slots[FailureCategory::Status.index()];
        assert_eq!(slot.count, 5);
        assert_eq!(slot.sample.as_deref(), Some("HTTP 500 #0"));

        let mut other = FailureCounts::default();
        other.add(FailureCategory::Status, || "later".into());
        other.add(FailureCategory::Reset, || "reset by peer".into());
        f.merge(&other);
        let got: Vec<_> = f
            .iter()
            .map(|(c, s)| (c, s.count, s.sample.clone().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                (FailureCategory::Reset, 1, "reset by peer".to_string()),
                (FailureCategory::Status, 6, "HTTP 500 #0".to_string()),
            ]
        );
    }
}
