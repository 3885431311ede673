//! Reference queue models for checking a capacity search against ground truth: a service
//! with `c` requests in service at once, each taking a fixed `s` (the built-in target's
//! `--capacity` mode), fed evenly spaced (D/D/c) or Poisson (M/D/c) arrivals. Simulated,
//! not approximated: the tests ask the same question of the model as the search asks of
//! the service (the response-time quantile over a step after a warm-up).

use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp};

/// How arrivals are spaced in a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    Even,
    Poisson,
}

/// A service of `servers` slots, each request taking `service_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Service {
    pub servers: u32,
    pub service_s: f64,
}

impl Service {
    /// Requests per second it completes when always busy: `servers / service_s`.
    pub fn capacity(&self) -> f64 {
        f64::from(self.servers) / self.service_s
    }

    /// The `quantile` (0.99) of response time (waiting plus service, s) of the requests
    /// arriving during `step_s` after `warmup_s`, starting from an empty system, at `rate`
    /// arrivals/s, averaged over `runs` simulations seeded from `seed` (Poisson; one run
    /// suffices for even spacing). With no arrival in the step (or no rate) it is the
    /// service time: what a request would see.
    #[allow(clippy::too_many_arguments)]
    pub fn response_quantile(
        &self,
        rate: f64,
        spacing: Spacing,
        quantile: f64,
        warmup_s: f64,
        step_s: f64,
        runs: u32,
        seed: u64,
    ) -> f64 {
        let runs = match spacing {
            Spacing::Even => 1,
            Spacing::Poisson => runs.max(1),
        };
        let total: f64 = (0..runs)
            .map(|run| {
                let mut rng = StdRng::seed_from_u64(seed.wrapping_add(u64::from(run)));
                let mut responses = self.responses(rate, spacing, warmup_s, step_s, &mut rng);
                nearest_rank(&mut responses, quantile).unwrap_or(self.service_s)
            })
            .sum();
        total / f64::from(runs)
    }

    /// The highest rate whose [`Service::response_quantile`] stays under `limit_s`, to
    /// within 0.5 % (bisection over `(0, 2 x capacity]`). Every trial uses the same seeds,
    /// so Poisson arrivals at two rates are the same draws scaled in time and the quantile
    /// rises with the rate as bisection needs. 0 when even the lowest rate tried fails.
    #[allow(clippy::too_many_arguments)]
    pub fn rate_for_quantile(
        &self,
        spacing: Spacing,
        quantile: f64,
        limit_s: f64,
        warmup_s: f64,
        step_s: f64,
        runs: u32,
        seed: u64,
    ) -> f64 {
        let holds = |rate: f64| {
            self.response_quantile(rate, spacing, quantile, warmup_s, step_s, runs, seed) < limit_s
        };
        let (mut low, mut high) = (0.0, 2.0 * self.capacity());
        if holds(high) {
            return high;
        }
        // Bounded: from 2 x capacity, 0.5 % of the answer takes ~10 halvings unless nothing
        // holds at all, when `low` stays 0.
        for _ in 0..60 {
            if high - low <= 0.005 * low {
                break;
            }
            let mid = (low + high) / 2.0;
            if holds(mid) {
                low = mid;
            } else {
                high = mid;
            }
        }
        low
    }

    /// The response times (s) of the requests arriving in `[warmup_s, warmup_s + step_s)`.
    ///
    /// Service times are all equal and the line is first come, first served, so requests
    /// start in arrival order and finish in it: the slot that frees first for request `k`
    /// is the one request `k - c` used. A ring of the last `c` finish times is the whole
    /// state. The response is the wait plus the service time, not the finish minus the
    /// arrival, so a request that never waits takes exactly the service time.
    fn responses(
        &self,
        rate: f64,
        spacing: Spacing,
        warmup_s: f64,
        step_s: f64,
        rng: &mut StdRng,
    ) -> Vec<f64> {
        let servers = self.servers.max(1) as usize;
        let Ok(gaps) = Exp::new(rate) else {
            return Vec::new();
        };
        if !(rate > 0.0 && rate.is_finite()) {
            return Vec::new();
        }
        let end = warmup_s + step_s;
        let mut free_at = vec![0.0f64; servers];
        let mut responses = Vec::with_capacity((step_s * rate * 1.1) as usize + 16);
        let mut clock = 0.0;
        for k in 0u64.. {
            let arrival = match spacing {
                Spacing::Even => k as f64 / rate,
                Spacing::Poisson => {
                    clock += gaps.sample(rng);
                    clock
                }
            };
            if arrival >= end {
                break;
            }
            let slot = &mut free_at[(k % servers as u64) as usize];
            let wait = (*slot - arrival).max(0.0);
            *slot = arrival + wait + self.service_s;
            if arrival >= warmup_s {
                responses.push(wait + self.service_s);
            }
        }
        responses
    }
}

/// The nearest-rank `quantile` of `values` (reordered); `None` when empty.
fn nearest_rank(values: &mut [f64], quantile: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = (quantile * values.len() as f64).ceil() as usize;
    let index = rank.clamp(1, values.len()) - 1;
    let (_, value, _) = values.select_nth_unstable_by(index, f64::total_cmp);
    Some(*value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVEN: Spacing = Spacing::Even;
    const POISSON: Spacing = Spacing::Poisson;

    #[test]
    fn below_capacity_evenly_spaced_requests_never_wait() {
        for (servers, service_s) in [(1, 0.01), (4, 0.02), (16, 0.005), (3, 0.1)] {
            let service = Service { servers, service_s };
            for share in [0.1, 0.5, 0.9, 0.999] {
                let rate = share * service.capacity();
                let q = service.response_quantile(rate, EVEN, 0.99, 2.0, 3.0, 1, 0);
                assert_eq!(q, service_s, "{service:?} at {rate}/s");
            }
        }
    }

    #[test]
    fn above_capacity_the_wait_grows_with_the_step() {
        // One slot of 10 ms at 110/s: request k starts at k x 10 ms and arrives at k / 110 s,
        // so it waits t x (1.1 - 1) at arrival time t: the quantile is the wait of the
        // request arriving 99 % into the step, plus the service.
        let service = Service {
            servers: 1,
            service_s: 0.01,
        };
        let mut last = 0.0;
        for step_s in [1.0, 2.0, 4.0, 8.0] {
            let q = service.response_quantile(110.0, EVEN, 0.99, 2.0, step_s, 1, 0);
            let expected = 0.01 + (2.0 + 0.99 * step_s) * 0.1;
            assert!(
                (q - expected).abs() < 0.002,
                "step {step_s}: {q} vs {expected}"
            );
            assert!(q > last);
            last = q;
        }
        // With four slots the same holds at 4 x the rate, to within a service time.
        let four = Service {
            servers: 4,
            service_s: 0.01,
        };
        let q = four.response_quantile(440.0, EVEN, 0.99, 2.0, 4.0, 1, 0);
        let expected = 0.01 + (2.0 + 0.99 * 4.0) * 0.1;
        assert!((q - expected).abs() < 0.011, "{q} vs {expected}");
    }

    /// The M/D/1 queue's mean wait is known exactly (Pollaczek-Khinchine):
    /// `rho s / (2 (1 - rho))`.
    #[test]
    fn md1_mean_wait_matches_pollaczek_khinchine() {
        let service = Service {
            servers: 1,
            service_s: 0.001,
        };
        for rho in [0.5, 0.7] {
            let rate = rho / service.service_s;
            // 300,000 arrivals; the warm-up of 1 s lets the queue reach its steady state.
            let step_s = 300_000.0 / rate;
            let mut rng = StdRng::seed_from_u64(42);
            let responses = service.responses(rate, POISSON, 1.0, step_s, &mut rng);
            let mean_wait =
                responses.iter().sum::<f64>() / responses.len() as f64 - service.service_s;
            let expected = rho * service.service_s / (2.0 * (1.0 - rho));
            assert!(
                (mean_wait - expected).abs() < 0.03 * expected,
                "rho {rho}: mean wait {mean_wait} vs {expected}"
            );
        }
    }

    #[test]
    fn poisson_arrivals_queue_below_capacity_and_are_repeatable() {
        let service = Service {
            servers: 4,
            service_s: 0.02,
        };
        let q = service.response_quantile(180.0, POISSON, 0.99, 2.0, 3.0, 5, 9);
        assert!(q > 0.02 && q < 0.2, "{q}");
        assert_eq!(
            q,
            service.response_quantile(180.0, POISSON, 0.99, 2.0, 3.0, 5, 9)
        );
        assert_eq!(
            service.response_quantile(0.0, POISSON, 0.99, 2.0, 3.0, 5, 9),
            0.02
        );
    }

    #[test]
    fn rate_for_quantile_with_even_arrivals() {
        let service = Service {
            servers: 4,
            service_s: 0.02,
        };
        // A limit barely above the service time: no wait is tolerated, so the rate is the
        // capacity, to the bisection's 0.5 %.
        let tight = service.rate_for_quantile(EVEN, 0.99, 0.0201, 2.0, 3.0, 1, 0);
        assert!((199.0..=200.0).contains(&tight), "{tight}");
        // A generous limit (10 x the service time): the step absorbs a backlog of
        // (limit - s) by its 99th-percentile arrival, 2 + 0.99 x 3 s in, so the rate may
        // pass the capacity by (limit - s) / 4.97 s = 3.6 %; evenly spaced arrivals do
        // not queue at all below it.
        let generous = service.rate_for_quantile(EVEN, 0.99, 0.2, 2.0, 3.0, 1, 0);
        let expected = 200.0 * (1.0 + 0.18 / (2.0 + 0.99 * 3.0));
        assert!(
            (generous - expected).abs() < 0.01 * expected,
            "{generous} vs {expected}"
        );
        assert!(generous > 200.0);
    }

    #[test]
    fn rate_for_quantile_with_poisson_arrivals_is_below_the_even_one() {
        let service = Service {
            servers: 4,
            service_s: 0.02,
        };
        let (limit, warmup, step) = (0.2, 2.0, 3.0);
        let rate = service.rate_for_quantile(POISSON, 0.99, limit, warmup, step, 5, 1);
        let even = service.rate_for_quantile(EVEN, 0.99, limit, warmup, step, 1, 0);
        assert!(
            rate > 0.6 * service.capacity() && rate < even,
            "{rate} vs {even}"
        );
        // The bisection's bracket: the answer holds, 1 % more does not.
        let q = |r| service.response_quantile(r, POISSON, 0.99, warmup, step, 5, 1);
        assert!(
            q(rate) < limit && q(rate * 1.01) >= limit,
            "{} {}",
            q(rate),
            q(rate * 1.01)
        );
        // Nothing holds under a limit below the service time.
        assert_eq!(
            service.rate_for_quantile(EVEN, 0.99, 0.01, warmup, step, 1, 0),
            0.0
        );
    }
}
