//! How far two runs' figures could differ by chance alone: a 95 % interval for the change of
//! each compared metric, and the minimum sample sizes below which no interval is given.
//!
//! - **Percentiles** (p50 .. p99.9): a bootstrap over the runs' HDR histograms. One resample
//!   draws `n` values from a run's recorded distribution (as many as it recorded) and reads
//!   the percentile; the change's interval is the 2.5th and 97.5th percentile of
//!   `new resample - base resample` over [`RESAMPLES`] pairs. Drawing `n` values one by one
//!   would cost `n` per resample (millions for a long run), so a resample's percentile is
//!   drawn directly: the `k`-th smallest of `n` uniform draws follows `Beta(k, n - k + 1)`,
//!   and mapping that through the histogram's inverse cumulative distribution gives exactly
//!   the `k`-th smallest of `n` draws from the histogram. Same distribution, one draw.
//!   `k` is the rank HdrHistogram reads the percentile at (`ceil(q n)`), so resamples and the
//!   reported figures agree.
//! - **Mean**: normal approximation, `±1.96 sqrt(s1²/n1 + s2²/n2)` with the histograms'
//!   standard deviations.
//! - **Error rate**: Newcombe's hybrid score interval for a difference of two proportions,
//!   built from each run's Wilson interval (good at small counts and rates near 0, where the
//!   plain normal interval fails).
//! - **Requests/s**: request counts treated as Poisson, so a rate's standard error is
//!   `rps / sqrt(requests)`. A closed-model run varies less than Poisson, so this errs wide.
//! - **Max** is one request: no interval exists.
//!
//! Too few samples make any interval a guess, so none is computed below a floor: a percentile
//! `q` needs `n (1 - q) >= 20` recorded values in each run (20 values above it: p50 needs 40,
//! p95 400, p99 2,000, p99.9 20,000); mean and requests/s need 20.
//!
//! The random draws come from a fixed seed, so the same two files always get the same
//! verdict. This module must not decide what is a regression; it only sizes the noise.

use barrage_metrics::Histogram;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Beta, Distribution};

/// The two-sided 95 % quantile of the standard normal distribution.
pub(crate) const Z95: f64 = 1.959_963_984_540_054;

/// Resampled pairs per percentile interval: enough for steady 2.5 %/97.5 % bounds (25 draws
/// beyond each), and cheap since a resample is one Beta draw and one binary search.
pub const RESAMPLES: usize = 1000;

/// Values a percentile needs above it in each run before it is compared.
pub const MIN_TAIL_SAMPLES: u64 = 20;

/// Samples the mean and requests/s need in each run before they are compared.
pub const MIN_SAMPLES: u64 = 20;

/// The seed of every bootstrap: verdicts are reproducible.
const SEED: u64 = 0x6261_7272_6167_6521;

/// A 95 % interval `[lo, hi]` of a change (new minus base).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Interval {
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    /// Scales both ends (e.g. nanoseconds to milliseconds).
    pub(crate) fn scaled(self, factor: f64) -> Interval {
        Interval {
            lo: self.lo * factor,
            hi: self.hi * factor,
        }
    }

    /// True when the whole interval lies above zero: an increase larger than the noise.
    pub(crate) fn above_zero(self) -> bool {
        self.lo > 0.0
    }

    /// True when the whole interval lies below zero: a decrease larger than the noise.
    pub(crate) fn below_zero(self) -> bool {
        self.hi < 0.0
    }
}

/// The fewest recorded values each run needs before percentile `per_mille`/1000 is compared:
/// `ceil(20 / (1 - q))`, in integers so that p95 needs exactly 400, not 401.
pub fn min_samples_for_percentile(per_mille: u32) -> u64 {
    let above = u64::from(1000 - per_mille.min(999));
    (MIN_TAIL_SAMPLES * 1000).div_ceil(above)
}

/// The rank HdrHistogram's `value_at_quantile` reads quantile `q` of `n` values at.
fn rank_of(q: f64, n: u64) -> u64 {
    ((q * n as f64).ceil() as u64).clamp(1, n.max(1))
}

/// A histogram's recorded values as a cumulative table: the top of each non-empty bucket (the
/// value HdrHistogram reports for it) and the count up to and including it.
pub(crate) struct Cdf {
    values: Vec<u64>,
    cumulative: Vec<u64>,
}

impl Cdf {
    pub(crate) fn new(h: &Histogram<u64>) -> Cdf {
        let mut values = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0;
        for v in h.iter_recorded() {
            total += v.count_at_value();
            values.push(v.value_iterated_to());
            cumulative.push(total);
        }
        Cdf { values, cumulative }
    }

    /// The number of recorded values.
    pub(crate) fn len(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// The `rank`-th smallest value (1-based, clamped into range); 0 when empty.
    fn value_at_rank(&self, rank: u64) -> u64 {
        let i = self.cumulative.partition_point(|&c| c < rank);
        self.values
            .get(i.min(self.values.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    }

    /// Quantile `q`, exactly as `Histogram::value_at_quantile` reads it (for `q > 0`).
    pub(crate) fn quantile(&self, q: f64) -> u64 {
        self.value_at_rank(rank_of(q, self.len()))
    }

    /// Draws quantile `q` of `self.len()` values resampled with replacement, `count` times.
    fn resampled_quantiles(&self, q: f64, count: usize, rng: &mut StdRng) -> Vec<f64> {
        let n = self.len();
        let k = rank_of(q, n);
        let Ok(order_statistic) = Beta::new(k as f64, (n - k + 1) as f64) else {
            // Only for an empty table (n = 0): nothing to resample.
            return vec![0.0; count];
        };
        (0..count)
            .map(|_| {
                let u: f64 = order_statistic.sample(rng);
                let rank = (u * n as f64).ceil() as u64;
                self.value_at_rank(rank.clamp(1, n)) as f64
            })
            .collect()
    }
}

/// The bootstrap 95 % interval of `new`'s quantile `q` minus `base`'s, in the tables' unit.
pub(crate) fn quantile_change(base: &Cdf, new: &Cdf, q: f64, resamples: usize) -> Interval {
    let mut rng = StdRng::seed_from_u64(SEED);
    let resamples = resamples.max(40);
    let b = base.resampled_quantiles(q, resamples, &mut rng);
    let n = new.resampled_quantiles(q, resamples, &mut rng);
    let mut diffs: Vec<f64> = n.iter().zip(&b).map(|(n, b)| n - b).collect();
    diffs.sort_by(f64::total_cmp);
    let at = |p: f64| diffs[((p * (diffs.len() - 1) as f64).round()) as usize];
    Interval {
        lo: at(0.025),
        hi: at(0.975),
    }
}

/// The 95 % interval of a difference of two independent estimates with standard errors
/// `se_base` and `se_new` (normal approximation).
pub(crate) fn normal_change(change: f64, se_base: f64, se_new: f64) -> Interval {
    let half = Z95 * (se_base * se_base + se_new * se_new).sqrt();
    Interval {
        lo: change - half,
        hi: change + half,
    }
}

/// The Wilson score 95 % interval of a proportion of `hits` in `n` (`n > 0`), as fractions.
pub(crate) fn wilson(hits: u64, n: u64) -> (f64, f64) {
    let n = n.max(1) as f64;
    let p = hits as f64 / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// Newcombe's hybrid score 95 % interval (his method 10) of `hits_new/n_new - hits_base/n_base`,
/// as fractions.
pub(crate) fn proportion_change(
    hits_base: u64,
    n_base: u64,
    hits_new: u64,
    n_new: u64,
) -> Interval {
    let p1 = hits_base as f64 / n_base.max(1) as f64;
    let p2 = hits_new as f64 / n_new.max(1) as f64;
    let (l1, u1) = wilson(hits_base, n_base);
    let (l2, u2) = wilson(hits_new, n_new);
    let d = p2 - p1;
    Interval {
        lo: d - ((p2 - l2).powi(2) + (u1 - p1).powi(2)).sqrt(),
        hi: d + ((u2 - p2).powi(2) + (p1 - l1).powi(2)).sqrt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use barrage_metrics::new_histogram;
    use rand::Rng;

    /// 100,000 values uniform over 1..=100 ms: the true p95 is 95 ms.
    fn uniform_ms(step_ns: u64) -> Histogram<u64> {
        let mut h = new_histogram();
        for i in 0..100_000u64 {
            h.record(1_000_000 + (i % 100) * 1_000_000 + step_ns)
                .unwrap();
        }
        h
    }

    #[test]
    fn minimum_samples_follow_twenty_above_the_percentile() {
        assert_eq!(min_samples_for_percentile(500), 40);
        assert_eq!(min_samples_for_percentile(750), 80);
        assert_eq!(min_samples_for_percentile(900), 200);
        assert_eq!(min_samples_for_percentile(950), 400);
        assert_eq!(min_samples_for_percentile(990), 2_000);
        assert_eq!(min_samples_for_percentile(999), 20_000);
    }

    #[test]
    fn cdf_quantiles_equal_hdrhistogram_s() {
        let mut h = new_histogram();
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..5_000 {
            h.record(rng.random_range(1_000..50_000_000)).unwrap();
        }
        let cdf = Cdf::new(&h);
        assert_eq!(cdf.len(), 5_000);
        for q in [0.0001, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0] {
            assert_eq!(cdf.quantile(q), h.value_at_quantile(q), "q = {q}");
        }
    }

    #[test]
    fn bootstrap_of_a_sample_contains_the_true_percentile() {
        // Base: a sample of 2,000 from Exp(mean 10 ms), whose true p95 is 10 ln 20 = 29.96 ms.
        // New: a huge sample of the same law, so the change's interval is almost all base's
        // noise and must contain true p95 - base's p95.
        let mut rng = StdRng::seed_from_u64(11);
        let mut draw = |n: usize| {
            let mut h = new_histogram();
            for _ in 0..n {
                let u: f64 = rng.random();
                h.record((-(1.0 - u).ln() * 10e6) as u64 + 1_000).unwrap();
            }
            h
        };
        let base = draw(2_000);
        let exact = draw(400_000);
        let truth = 10e6 * 20f64.ln();
        let i = quantile_change(&Cdf::new(&base), &Cdf::new(&exact), 0.95, RESAMPLES);
        let base_p95 = base.value_at_quantile(0.95) as f64;
        let exact_p95 = exact.value_at_quantile(0.95) as f64;
        assert!(
            (exact_p95 - truth).abs() < 0.02 * truth,
            "{exact_p95} vs {truth}"
        );
        assert!(
            i.lo <= truth - base_p95 && truth - base_p95 <= i.hi,
            "interval {i:?} misses the true change {}",
            truth - base_p95
        );
        // The standard error of a p95 of 2,000 such values is sqrt(q (1 - q) / n) / f(x_q) =
        // 0.00487 / (0.05 / 10 ms) = 0.97 ms, so the interval spans about 2 x 1.96 x 0.97 ms.
        let width = i.hi - i.lo;
        assert!(width > 2.8e6 && width < 5.2e6, "{i:?}: width {width}");
    }

    #[test]
    fn identical_histograms_give_an_interval_around_zero() {
        let h = uniform_ms(0);
        let i = quantile_change(&Cdf::new(&h), &Cdf::new(&h), 0.95, RESAMPLES);
        assert!(i.lo < 0.0 && i.hi > 0.0, "{i:?}");
        // 100,000 values, 1,000 per millisecond: the p95 moves by about ±0.15 ms.
        assert!(i.lo > -1e6 && i.hi < 1e6, "{i:?}");
        assert!((i.lo + i.hi).abs() < 0.5e6, "roughly symmetric: {i:?}");
    }

    #[test]
    fn a_real_shift_lies_outside_the_noise() {
        let base = uniform_ms(0);
        let slower = uniform_ms(5_000_000);
        let i = quantile_change(&Cdf::new(&base), &Cdf::new(&slower), 0.95, RESAMPLES);
        // Values on whole milliseconds: the p95 of a resample moves in steps of 1 ms.
        assert!(i.above_zero() && i.lo > 3.9e6 && i.hi < 6.1e6, "{i:?}");
    }

    #[test]
    fn one_beta_draw_matches_resampling_value_by_value() {
        // The shortcut must give the same spread as drawing n values and sorting them.
        let mut rng = StdRng::seed_from_u64(3);
        let mut h = new_histogram();
        let mut values = Vec::new();
        for _ in 0..500 {
            let v = rng.random_range(1_000_000..100_000_000u64);
            h.record(v).unwrap();
            values.push(h.highest_equivalent(v));
        }
        let cdf = Cdf::new(&h);
        let fast = cdf.resampled_quantiles(0.9, 4_000, &mut rng);
        let slow: Vec<f64> = (0..4_000)
            .map(|_| {
                let mut s: Vec<u64> = (0..values.len())
                    .map(|_| values[rng.random_range(0..values.len())])
                    .collect();
                s.sort_unstable();
                s[rank_of(0.9, 500) as usize - 1] as f64
            })
            .collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let sd = |v: &[f64]| {
            let m = mean(v);
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
        };
        assert!((mean(&fast) - mean(&slow)).abs() < 0.1 * sd(&slow));
        assert!((sd(&fast) / sd(&slow) - 1.0).abs() < 0.1);
    }

    #[test]
    fn wilson_interval_matches_the_textbook() {
        // 10 of 100: Wilson's 95 % interval is 0.0552 .. 0.1744.
        let (lo, hi) = wilson(10, 100);
        assert!(
            (lo - 0.05523).abs() < 1e-4 && (hi - 0.17437).abs() < 1e-4,
            "{lo} {hi}"
        );
        // No failures in 50 still leaves room for up to 7.1 %.
        let (lo, hi) = wilson(0, 50);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.07135).abs() < 1e-4, "{hi}");
    }

    #[test]
    fn newcombe_difference_matches_his_worked_example() {
        // Newcombe (1998), example (a), method 10: 56/70 - 48/80 = 0.2, interval
        // 0.0524 .. 0.3339.
        let i = proportion_change(48, 80, 56, 70);
        assert!(
            (i.lo - 0.0524).abs() < 1e-4 && (i.hi - 0.3339).abs() < 1e-4,
            "{i:?}"
        );
        let same = proportion_change(0, 1_000, 0, 1_000);
        assert!(same.lo < 0.0 && same.hi > 0.0);
    }

    #[test]
    fn normal_interval_is_symmetric() {
        let i = normal_change(2.0, 0.3, 0.4);
        assert!((i.lo - (2.0 - Z95 * 0.5)).abs() < 1e-12);
        assert!((i.hi - (2.0 + Z95 * 0.5)).abs() < 1e-12);
    }
}
