//! From two scrapes to figures: counter rates over the wall time between the scrapes,
//! increases since the first scrape, and histogram quantiles of the observations added in
//! between, interpolated inside their bucket as Prometheus' `histogram_quantile` does.
//!
//! A counter that went down was reset (the server restarted): that sample has no rate or
//! quantile, and the next one measures from the new value. A series first seen after the
//! first scrape started at zero (the instrumentator creates a label set at its first
//! request), so its whole value counts as added.

use std::collections::{BTreeMap, HashMap};

use super::rules::{Figure, Reading};

/// What the previous scrape held, for the next one's rates.
#[derive(Debug, Default)]
pub struct Tracker {
    /// Whether a scrape has been taken (before it, nothing counts as new).
    started: bool,
    counters: BTreeMap<String, f64>,
    histograms: BTreeMap<String, Vec<(f64, f64)>>,
    since_start: HashMap<String, f64>,
}

impl Tracker {
    /// Takes `reading` as the reference of the next one, without figures: the first scrape.
    pub fn baseline(&mut self, reading: &Reading) {
        self.remember(reading);
        for of in reading.counters.keys() {
            self.since_start.entry(of.clone()).or_insert(0.0);
        }
        self.started = true;
    }

    /// The figure of each wanted column, `elapsed_s` after the previous scrape, parallel
    /// to `reading.wanted`.
    pub fn figures(&mut self, reading: &Reading, elapsed_s: f64) -> Vec<Option<f64>> {
        // Increases first, once per counter, however many columns read them.
        let mut deltas: HashMap<&str, Option<f64>> = HashMap::new();
        for (of, &now) in &reading.counters {
            let before = self.previous_counter(of);
            let delta = before.map(|before| now - before).filter(|d| *d >= 0.0);
            let added = match (before, delta) {
                (_, Some(d)) => d,
                // A reset: Prometheus' increase() counts the new value as added.
                (Some(_), None) => now,
                (None, _) => 0.0,
            };
            *self.since_start.entry(of.clone()).or_insert(0.0) += added;
            deltas.insert(of, delta);
        }
        let values = reading
            .wanted
            .iter()
            .map(|w| match &w.figure {
                Figure::Gauge(v) => Some(*v),
                Figure::Rate { of, scale } => {
                    let delta = deltas.get(of.as_str()).copied().flatten()?;
                    (elapsed_s > 0.0).then(|| delta / elapsed_s * scale)
                }
                Figure::Increase { of } => self.since_start.get(of).copied(),
                Figure::Quantile { of, q, scale } => {
                    let now = reading.histograms.get(of)?;
                    let added = self.added(of, now)?;
                    histogram_quantile(*q, &added).map(|v| v * scale)
                }
            })
            .collect();
        self.remember(reading);
        values
    }

    fn previous_counter(&self, of: &str) -> Option<f64> {
        match self.counters.get(of) {
            Some(v) => Some(*v),
            None if self.started => Some(0.0),
            None => None,
        }
    }

    /// The observations added to histogram `of` since the previous scrape, by bucket;
    /// `None` after a reset or before any scrape.
    fn added(&self, of: &str, now: &[(f64, f64)]) -> Option<Vec<(f64, f64)>> {
        let before = match self.histograms.get(of) {
            Some(before) => before.as_slice(),
            None if self.started => &[],
            None => return None,
        };
        now.iter()
            .map(|&(le, count)| {
                let was = before
                    .iter()
                    .find(|(bound, _)| *bound == le)
                    .map_or(0.0, |(_, c)| *c);
                (count >= was).then_some((le, count - was))
            })
            .collect()
    }

    fn remember(&mut self, reading: &Reading) {
        self.counters = reading.counters.clone();
        self.histograms = reading.histograms.clone();
    }
}

/// Quantile `q` of cumulative buckets (upper bound, count at or below it), ascending with
/// `+Inf` last, as Prometheus' `histogram_quantile`: linear inside the bucket holding the
/// rank (from 0 for the first bucket), the highest finite bound when the rank falls in the
/// `+Inf` bucket. `None` without observations or without a `+Inf` bucket.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let &(last_bound, total) = buckets.last()?;
    if last_bound != f64::INFINITY || total <= 0.0 || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let rank = q * total;
    let at = buckets.iter().position(|&(_, count)| count >= rank)?;
    let (upper, count) = buckets[at];
    if upper == f64::INFINITY {
        return Some(if at == 0 { 0.0 } else { buckets[at - 1].0 });
    }
    let (lower, below) = if at == 0 {
        if upper <= 0.0 {
            return Some(upper);
        }
        (0.0, 0.0)
    } else {
        buckets[at - 1]
    };
    let in_bucket = count - below;
    if in_bucket <= 0.0 {
        return Some(upper);
    }
    Some(lower + (upper - lower) * (rank - below) / in_bucket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_inside_the_bucket_as_prometheus_does() {
        // 10 observations at or below 0.1, 30 more at or below 0.5, 10 more at or below 1.
        let b = [(0.1, 10.0), (0.5, 40.0), (1.0, 50.0), (f64::INFINITY, 50.0)];
        // p50: rank 25, in (0.1, 0.5] holding 30: 0.1 + 0.4 * 15/30.
        assert_eq!(histogram_quantile(0.5, &b), Some(0.1 + 0.4 * 15.0 / 30.0));
        // p10: rank 5, in the first bucket, from 0: 0.1 * 5/10.
        assert_eq!(histogram_quantile(0.1, &b), Some(0.05));
        // p95: rank 47.5, in (0.5, 1] holding 10: 0.5 + 0.5 * 7.5/10.
        assert_eq!(histogram_quantile(0.95, &b), Some(0.875));
        // Ranks in +Inf read as the highest finite bound.
        let b = [(0.1, 1.0), (f64::INFINITY, 4.0)];
        assert_eq!(histogram_quantile(0.99, &b), Some(0.1));
        assert_eq!(
            histogram_quantile(0.5, &[(0.1, 0.0), (f64::INFINITY, 0.0)]),
            None
        );
        assert_eq!(histogram_quantile(0.5, &[(0.1, 3.0)]), None);
    }
}
