//! The statistics a search reports: whether latency trends up within a step (a
//! least-squares slope with its 95 % interval), the concurrency a rate implies (Little's
//! law), a Universal Scalability Law fit of throughput against concurrency, and how many
//! steps a linear ramp would have needed.

use barrage_metrics::capacity::{Slope, UslFit};

/// The least-squares slope of `points` (x, y) with its 95 % confidence interval (Student's
/// t with n - 2 degrees of freedom); `None` with fewer than three points or when every x
/// is the same.
pub fn slope(points: &[(f64, f64)]) -> Option<Slope> {
    todo!("capacity-core helper")
}

/// Little's law: requests in service at once = throughput (requests/s) x mean time in the
/// system (s).
pub fn littles_law(rps: f64, mean_response_s: f64) -> f64 {
    rps * mean_response_s
}

/// Fits the Universal Scalability Law to (concurrency, throughput) points; `None` with
/// fewer than three distinct concurrencies or when the fit is degenerate. Coefficients are
/// kept at 0 or above (a negative fitted coefficient is refitted at 0).
pub fn usl_fit(points: &[(f64, f64)]) -> Option<UslFit> {
    todo!("capacity-core helper")
}

/// Steps a linear ramp from `start` in increments of `precision x capacity` needs to reach
/// `first_failed` (the level where the search first failed): what the same precision would
/// cost without a search.
pub fn linear_ramp_steps(start: f64, first_failed: f64, capacity: f64, precision: f64) -> u32 {
    todo!("capacity-core helper")
}
