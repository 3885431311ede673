//! The statistics a search reports: whether latency trends up within a step (a
//! least-squares slope with its 95 % interval), the concurrency a rate implies (Little's
//! law), a Universal Scalability Law fit of throughput against concurrency, and how many
//! steps a linear ramp would have needed.
//!
//! The t quantile comes from `statrs` (the crate the ecosystem uses for distributions), not
//! a table. The USL fit is a small Levenberg-Marquardt written here: three parameters and a
//! handful of points need a 3 x 3 solve, and the maintained fitting crates
//! (`levenberg-marquardt`, `argmin`) bring nalgebra or a framework for it. It minimises the
//! squared error of the throughput itself (not of the linearised `N / X`, which weighs the
//! points unevenly), started from the linearised fit.

use barrage_metrics::capacity::{Slope, UslFit};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The least-squares slope of `points` (x, y) with its 95 % confidence interval (Student's
/// t with n - 2 degrees of freedom); `None` with fewer than three points or when every x
/// is the same. Points with a coordinate that is not finite are left out.
pub fn slope(points: &[(f64, f64)]) -> Option<Slope> {
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let n = points.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let b = sxy / sxx;
    let a = mean_y - b * mean_x;
    let residual: f64 = points.iter().map(|p| (p.1 - a - b * p.0).powi(2)).sum();
    let standard_error = (residual / (nf - 2.0) / sxx).sqrt();
    let t = StudentsT::new(0.0, 1.0, nf - 2.0)
        .expect("n - 2 >= 1 degrees of freedom are valid")
        .inverse_cdf(0.975);
    Some(Slope {
        slope: b,
        low: b - t * standard_error,
        high: b + t * standard_error,
        points: n as u32,
    })
}

/// Little's law: requests in service at once = throughput (requests/s) x mean time in the
/// system (s).
pub fn littles_law(rps: f64, mean_response_s: f64) -> f64 {
    rps * mean_response_s
}

/// The USL's throughput at concurrency `n`: `lambda n / (1 + sigma (n - 1) + kappa n (n - 1))`.
pub fn usl_throughput(lambda: f64, sigma: f64, kappa: f64, n: f64) -> f64 {
    lambda * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))
}

/// Where the USL's throughput peaks: `sqrt((1 - sigma) / kappa)`, and no less than one
/// request in service (with `sigma >= 1` throughput falls from the first); `None` when
/// `kappa` is 0 (throughput then only levels off).
pub fn peak_concurrency(sigma: f64, kappa: f64) -> Option<f64> {
    if kappa.is_nan() || kappa <= 0.0 {
        return None;
    }
    Some(((1.0 - sigma) / kappa).max(0.0).sqrt().max(1.0))
}

/// The USL's throughput at its peak ([`peak_concurrency`]); `None` without a peak.
pub fn peak_rps(lambda: f64, sigma: f64, kappa: f64) -> Option<f64> {
    peak_concurrency(sigma, kappa).map(|n| usl_throughput(lambda, sigma, kappa, n))
}

/// The coefficient of determination of `fitted` over `points` (x, y): 1 minus the residual
/// sum of squares over the total. When every y is the same it is 1 for an exact fit and 0
/// otherwise.
pub fn r_squared(points: &[(f64, f64)], fitted: impl Fn(f64) -> f64) -> f64 {
    if points.is_empty() {
        return 0.0;
    }
    let mean = points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64;
    let total: f64 = points.iter().map(|p| (p.1 - mean).powi(2)).sum();
    let residual: f64 = points.iter().map(|p| (p.1 - fitted(p.0)).powi(2)).sum();
    if total > 0.0 {
        1.0 - residual / total
    } else if residual == 0.0 {
        1.0
    } else {
        0.0
    }
}

/// Fits the Universal Scalability Law to (concurrency, throughput) points; `None` with
/// fewer than three distinct concurrencies or when the fit is degenerate. Coefficients are
/// kept at 0 or above (a negative fitted coefficient is refitted at 0). Points with a
/// concurrency or throughput that is not positive and finite are left out.
pub fn usl_fit(points: &[(f64, f64)]) -> Option<UslFit> {
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|&(n, x)| n.is_finite() && x.is_finite() && n > 0.0 && x > 0.0)
        .collect();
    let mut distinct: Vec<f64> = points.iter().map(|p| p.0).collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    if distinct.len() < 3 {
        return None;
    }
    let start = linearised_start(&points);

    // The whole fit, and with each coefficient (and both) held at 0: the best of those
    // whose coefficients are all >= 0 is the constrained least-squares fit.
    let mut best: Option<([f64; 3], f64)> = None;
    for free in [[true, true], [true, false], [false, true], [false, false]] {
        let mut init = start;
        for (i, &is_free) in free.iter().enumerate() {
            if !is_free {
                init[i + 1] = 0.0;
            }
        }
        let Some((params, sse)) = levenberg_marquardt(&points, init, free) else {
            continue;
        };
        let feasible = params[1] >= 0.0 && params[2] >= 0.0;
        if feasible && best.is_none_or(|(_, best_sse)| sse < best_sse) {
            best = Some((params, sse));
        }
    }
    let ([lambda, sigma, kappa], _) = best?;
    if !(lambda > 0.0 && lambda.is_finite()) {
        return None;
    }
    Some(UslFit {
        lambda,
        sigma,
        kappa,
        r_squared: r_squared(&points, |n| usl_throughput(lambda, sigma, kappa, n)),
        peak_concurrency: peak_concurrency(sigma, kappa),
        peak_rps: peak_rps(lambda, sigma, kappa),
        points: points.len() as u32,
    })
}

/// A start for the fit: `N / X = a + b N + c N^2` is linear in (a, b, c) and equals the
/// USL with `lambda = 1 / (a + b + c)`, `kappa = c lambda`, `sigma = b lambda + kappa`.
/// Coefficients are clamped at 0; `lambda` falls back to the best X / N seen.
fn linearised_start(points: &[(f64, f64)]) -> [f64; 3] {
    let mut ata = [[0.0; 3]; 3];
    let mut aty = [0.0; 3];
    for &(n, x) in points {
        let row = [1.0, n, n * n];
        for i in 0..3 {
            for j in 0..3 {
                ata[i][j] += row[i] * row[j];
            }
            aty[i] += row[i] * n / x;
        }
    }
    let best_per_request = points.iter().map(|&(n, x)| x / n).fold(0.0, f64::max);
    match solve3(ata, aty) {
        Some([a, b, c]) if a + b + c > 0.0 => {
            let lambda = 1.0 / (a + b + c);
            let kappa = (c * lambda).max(0.0);
            let sigma = (b * lambda + kappa).max(0.0);
            [lambda, sigma, kappa]
        }
        _ => [best_per_request, 0.0, 0.0],
    }
}

/// Least squares of the throughput over (lambda, sigma, kappa) by Levenberg-Marquardt with
/// Marquardt's scaling (the parameters differ by orders of magnitude); `free` says whether
/// sigma and kappa may move (lambda always does). Returns the parameters and the sum of
/// squared errors, or `None` if no usable point was reached.
fn levenberg_marquardt(
    points: &[(f64, f64)],
    init: [f64; 3],
    free: [bool; 2],
) -> Option<([f64; 3], f64)> {
    let free = [true, free[0], free[1]];
    let sse = |p: [f64; 3]| -> Option<f64> {
        let mut total = 0.0;
        for &(n, x) in points {
            let d = 1.0 + p[1] * (n - 1.0) + p[2] * n * (n - 1.0);
            if d.is_nan() || d <= 0.0 {
                // Past a pole of the curve: not a throughput.
                return None;
            }
            total += (x - p[0] * n / d).powi(2);
        }
        total.is_finite().then_some(total)
    };
    let mut params = init;
    let mut error = sse(params)?;
    let mut damping = 1e-3;
    for _ in 0..500 {
        let mut jtj = [[0.0; 3]; 3];
        let mut jtr = [0.0; 3];
        for &(n, x) in points {
            let d = 1.0 + params[1] * (n - 1.0) + params[2] * n * (n - 1.0);
            let fitted = params[0] * n / d;
            let grad = [
                n / d,
                -params[0] * n * (n - 1.0) / (d * d),
                -params[0] * n * n * (n - 1.0) / (d * d),
            ];
            for i in 0..3 {
                for j in 0..3 {
                    jtj[i][j] += grad[i] * grad[j];
                }
                jtr[i] += grad[i] * (x - fitted);
            }
        }
        for i in 0..3 {
            if !free[i] {
                jtj[i] = [0.0; 3];
                for row in jtj.iter_mut() {
                    row[i] = 0.0;
                }
                jtj[i][i] = 1.0;
                jtr[i] = 0.0;
            }
        }
        let mut improved = false;
        while damping < 1e12 {
            let mut a = jtj;
            for (i, row) in a.iter_mut().enumerate() {
                let diagonal = if jtj[i][i] > 0.0 { jtj[i][i] } else { 1.0 };
                row[i] += damping * diagonal;
            }
            let Some(delta) = solve3(a, jtr) else {
                damping *= 10.0;
                continue;
            };
            let trial = [
                params[0] + delta[0],
                params[1] + delta[1],
                params[2] + delta[2],
            ];
            match sse(trial) {
                Some(trial_error) if trial_error < error && trial[0] > 0.0 => {
                    let gain = (error - trial_error) / error.max(f64::MIN_POSITIVE);
                    params = trial;
                    error = trial_error;
                    damping = (damping / 3.0).max(1e-12);
                    improved = gain > 1e-15;
                    break;
                }
                _ => damping *= 4.0,
            }
        }
        if !improved {
            break;
        }
    }
    Some((params, error))
}

/// Solves the 3 x 3 system `a v = b` by Gaussian elimination with partial pivoting;
/// `None` when it is singular.
fn solve3(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].is_nan() || a[pivot][col].abs() <= 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..3 {
            let factor = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= factor * p;
            }
            b[row] -= factor * b[col];
        }
    }
    let mut v = [0.0; 3];
    for row in (0..3).rev() {
        let tail: f64 = (row + 1..3).map(|k| a[row][k] * v[k]).sum();
        v[row] = (b[row] - tail) / a[row][row];
    }
    v.iter().all(|x| x.is_finite()).then_some(v)
}

/// Steps a linear ramp from `start` in increments of `precision x capacity` needs to reach
/// `first_failed`: what the same precision would cost without a search. Give it the
/// bracket's top (the lowest level that failed) and the capacity found: a ramp stops at its
/// first failing level, which lies above the capacity and at most one increment past the
/// bracket's top, so this counts the ramp's steps to within one. At least 1.
pub fn linear_ramp_steps(start: f64, first_failed: f64, capacity: f64, precision: f64) -> u32 {
    let increment = precision * capacity;
    if !(increment > 0.0 && first_failed > start) {
        return 1;
    }
    // The start itself, then each increment; the small allowance keeps an exact multiple
    // from counting one more step through rounding.
    let increments = ((first_failed - start) / increment - 1e-9).ceil();
    (increments + 1.0).min(f64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn slope_of_a_noisy_line_holds_the_true_slope() {
        let mut rng = StdRng::seed_from_u64(7);
        let points: Vec<(f64, f64)> = (0..30)
            .map(|i| {
                let x = f64::from(i);
                (x, 3.0 + 0.5 * x + rng.random_range(-1.0..1.0))
            })
            .collect();
        let s = slope(&points).unwrap();
        assert!(s.low < 0.5 && 0.5 < s.high, "{s:?}");
        assert!((s.slope - 0.5).abs() < 0.05, "{s:?}");
        assert!(s.low > 0.0, "{s:?}");
        assert_eq!(s.points, 30);
    }

    #[test]
    fn slope_interval_is_students_t() {
        // y = x plus residuals +1, -2, +1 around the line: slope 1 exactly, residual sum
        // of squares 6, s^2 = 6 / 1, Sxx = 2, standard error sqrt(3); t(0.975, 1) = 12.706.
        let s = slope(&[(0.0, 1.0), (1.0, -1.0), (2.0, 3.0)]).unwrap();
        assert!((s.slope - 1.0).abs() < 1e-12, "{s:?}");
        let half = 12.706_204_736 * 3f64.sqrt();
        assert!((s.high - s.slope - half).abs() < 1e-6, "{s:?}");
        assert!((s.slope - s.low - half).abs() < 1e-6, "{s:?}");
    }

    #[test]
    fn flat_noisy_series_has_an_interval_around_zero() {
        // A 95 % interval holds the true slope (0) in about 95 % of series: 400 seeded
        // series miss about 20 times; far more would mean the interval is too narrow (a
        // wrong t or standard error), none at all that it is too wide.
        let mut rng = StdRng::seed_from_u64(11);
        let mut missed = 0;
        for _ in 0..400 {
            let points: Vec<(f64, f64)> = (0..20)
                .map(|i| (f64::from(i), 12.0 + rng.random_range(-2.0..2.0)))
                .collect();
            let s = slope(&points).unwrap();
            if !(s.low < 0.0 && 0.0 < s.high) {
                missed += 1;
            }
        }
        assert!((8..=32).contains(&missed), "missed {missed} of 400");
    }

    #[test]
    fn strictly_rising_series_lies_above_zero() {
        let points: Vec<(f64, f64)> = (0..10)
            .map(|i| (f64::from(i), 5.0 + 0.2 * f64::from(i * i)))
            .collect();
        let s = slope(&points).unwrap();
        assert!(s.low > 0.0, "{s:?}");
    }

    #[test]
    fn slope_needs_three_points_and_spread_in_x() {
        assert_eq!(slope(&[(0.0, 1.0), (1.0, 2.0)]), None);
        assert_eq!(slope(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]), None);
        assert_eq!(slope(&[(0.0, 1.0), (1.0, 2.0), (2.0, f64::NAN)]), None);
        // An exact line: an interval of width 0.
        let s = slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]).unwrap();
        assert_eq!((s.slope, s.low, s.high), (2.0, 2.0, 2.0));
    }

    fn usl_points(lambda: f64, sigma: f64, kappa: f64, ns: &[f64]) -> Vec<(f64, f64)> {
        ns.iter()
            .map(|&n| (n, usl_throughput(lambda, sigma, kappa, n)))
            .collect()
    }

    fn close(actual: f64, expected: f64, relative: f64) -> bool {
        (actual - expected).abs() <= relative * expected.abs()
    }

    #[test]
    fn usl_recovers_known_coefficients_from_exact_points() {
        let ns = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
        for (lambda, sigma, kappa) in [
            (100.0, 0.05, 0.001),
            (1995.0, 0.2, 0.0002),
            (40.0, 0.01, 0.03),
        ] {
            let fit = usl_fit(&usl_points(lambda, sigma, kappa, &ns)).unwrap();
            assert!(close(fit.lambda, lambda, 0.01), "{fit:?}");
            assert!(close(fit.sigma, sigma, 0.01), "{fit:?}");
            assert!(close(fit.kappa, kappa, 0.01), "{fit:?}");
            assert!(fit.r_squared > 0.9999, "{fit:?}");
            let peak = ((1.0 - sigma) / kappa).sqrt();
            assert!(close(fit.peak_concurrency.unwrap(), peak, 0.01), "{fit:?}");
            let peak_x = usl_throughput(lambda, sigma, kappa, peak);
            assert!(close(fit.peak_rps.unwrap(), peak_x, 0.01), "{fit:?}");
            assert_eq!(fit.points, 7);
        }
    }

    #[test]
    fn usl_without_coherency_has_no_peak() {
        // Amdahl's law (kappa = 0): the unconstrained fit may land a hair below 0, and is
        // refitted at 0 then.
        let fit = usl_fit(&usl_points(50.0, 0.1, 0.0, &[1.0, 3.0, 5.0, 10.0, 20.0])).unwrap();
        assert!(
            close(fit.lambda, 50.0, 0.01) && close(fit.sigma, 0.1, 0.01),
            "{fit:?}"
        );
        assert!(fit.kappa >= 0.0 && fit.kappa < 1e-6, "{fit:?}");
        // Throughput growing faster than linear would need a negative sigma: held at 0.
        let superlinear = [(1.0, 10.0), (2.0, 22.0), (4.0, 48.0), (8.0, 100.0)];
        let fit = usl_fit(&superlinear).unwrap();
        assert!(fit.sigma >= 0.0 && fit.kappa >= 0.0, "{fit:?}");
        assert_eq!((fit.sigma, fit.kappa), (0.0, 0.0), "{fit:?}");
        assert_eq!(fit.peak_concurrency, None);
        assert_eq!(peak_rps(10.0, 0.0, 0.0), None);
    }

    #[test]
    fn usl_from_noisy_points_is_close() {
        let (lambda, sigma, kappa) = (100.0, 0.05, 0.001);
        let mut rng = StdRng::seed_from_u64(3);
        let points: Vec<(f64, f64)> = [
            1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0,
        ]
        .iter()
        .map(|&n| {
            let x = usl_throughput(lambda, sigma, kappa, n);
            (n, x * (1.0 + rng.random_range(-0.03..0.03)))
        })
        .collect();
        let fit = usl_fit(&points).unwrap();
        assert!(close(fit.lambda, lambda, 0.1), "{fit:?}");
        assert!((fit.sigma - sigma).abs() < 0.03, "{fit:?}");
        assert!(close(fit.kappa, kappa, 0.5), "{fit:?}");
        assert!(fit.r_squared > 0.95, "{fit:?}");
        let peak = ((1.0 - sigma) / kappa).sqrt();
        assert!(close(fit.peak_concurrency.unwrap(), peak, 0.25), "{fit:?}");
    }

    #[test]
    fn usl_needs_three_distinct_concurrencies() {
        assert_eq!(usl_fit(&[(1.0, 10.0), (2.0, 19.0)]), None);
        assert_eq!(
            usl_fit(&[(1.0, 10.0), (2.0, 19.0), (2.0, 19.5), (1.0, 9.0)]),
            None
        );
        assert_eq!(
            usl_fit(&[(1.0, 10.0), (2.0, 19.0), (0.0, 0.0), (3.0, f64::NAN)]),
            None
        );
        assert!(usl_fit(&[(1.0, 10.0), (2.0, 19.0), (3.0, 27.0)]).is_some());
    }

    #[test]
    fn r_squared_of_exact_and_flat_fits() {
        let points = [(1.0, 2.0), (2.0, 4.0), (3.0, 6.0)];
        assert_eq!(r_squared(&points, |x| 2.0 * x), 1.0);
        // The mean as the fit explains nothing.
        assert_eq!(r_squared(&points, |_| 4.0), 0.0);
        assert_eq!(r_squared(&[(1.0, 3.0), (2.0, 3.0)], |_| 3.0), 1.0);
        assert_eq!(r_squared(&[(1.0, 3.0), (2.0, 3.0)], |_| 2.0), 0.0);
    }

    #[test]
    fn peak_is_where_the_curve_turns() {
        let n = peak_concurrency(0.04, 0.0006).unwrap();
        assert!((n - 40.0).abs() < 1e-9, "{n}");
        let at = |m| usl_throughput(10.0, 0.04, 0.0006, m);
        assert!(at(n) > at(n - 1.0) && at(n) > at(n + 1.0));
        assert_eq!(peak_rps(10.0, 0.04, 0.0006), Some(at(n)));
        // Contention alone past 1: throughput falls from the first request.
        assert_eq!(peak_concurrency(1.5, 0.01), Some(1.0));
        assert_eq!(peak_concurrency(0.1, 0.0), None);
    }

    #[test]
    fn linear_ramp_counts_its_start_and_each_increment() {
        // From 10 in steps of 5 % of 100 (5): 10, 15, ..., 105: 20 steps.
        assert_eq!(linear_ramp_steps(10.0, 105.0, 100.0, 0.05), 20);
        // 106 is one increment further.
        assert_eq!(linear_ramp_steps(10.0, 106.0, 100.0, 0.05), 21);
        assert_eq!(linear_ramp_steps(10.0, 10.0, 100.0, 0.05), 1);
        assert_eq!(linear_ramp_steps(10.0, 20.0, 0.0, 0.05), 1);
    }
}
