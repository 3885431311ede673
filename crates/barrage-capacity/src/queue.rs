//! Reference queue models for checking a capacity search against ground truth: a service
//! with `c` requests in service at once, each taking a fixed `s` (the built-in target's
//! `--capacity` mode), fed evenly spaced (D/D/c) or Poisson (M/D/c) arrivals. Simulated,
//! not approximated: the tests ask the same question of the model as the search asks of
//! the service (the response-time quantile over a step after a warm-up).

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
    /// suffices for even spacing).
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
        todo!("capacity-core helper")
    }

    /// The highest rate whose [`Service::response_quantile`] stays under `limit_s`, to
    /// within 0.5 % (bisection over `(0, 2 x capacity]`).
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
        todo!("capacity-core helper")
    }
}
