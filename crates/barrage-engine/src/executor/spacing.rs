//! Where an open model's scheduled starts fall, before they become times: the `k`-th start
//! of a segment sits at a *position* `x_k` in the count domain, and each model turns
//! positions into times by solving `N(t) = x`, `N` being the iterations its rate has called
//! for by `t` (`rate · t` for a constant rate, the area under the ramp otherwise).
//!
//! Which starts a segment takes: start `k` goes with pool user `k mod max_users` (the whole
//! pool's), and so to the segment that owns that user ([`Segment::dealt_numbers`]). A
//! segment's share of the schedule is thus its share of the users, whatever the mix of
//! processes and worker threads the load is split over, and a segment without a user has
//! no start. Evenly spaced starts are the segment's numbers themselves: together, all
//! segments take `0, 1, 2, ...` once each, the one-process schedule exactly.
//!
//! Poisson starts are a unit-rate Poisson process in the count domain, which the map to
//! time turns into a Poisson process of the model's rate, ramps included: that is time
//! rescaling (a process whose cumulative intensity is `N` is the image of a unit-rate one
//! under `N⁻¹`), so no rate is ever sampled at a moment and nothing drifts. A segment's
//! share of it is a Poisson process of rate `share / max_users` in the count domain (gaps
//! exponential with mean `max_users / share`), drawn from its own generator; independent
//! Poisson processes add up to one of the summed rate, so all the segments together start
//! one of the whole rate without talking to each other. What is exact for Poisson starts is
//! the law (each segment's rate, and their sum), not the instants: those are random.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::Exp1;

pub use crate::load::Arrivals;
use crate::segment::Segment;

/// A segment's start positions in the count domain, increasing.
pub type Positions = Box<dyn Iterator<Item = f64>>;

/// `segment`'s start positions for `arrivals`, the starts being dealt over a pool of
/// `pool_users` users; Poisson ones drawn from a generator seeded from the thread's
/// entropy, so segments (and runs) are independent.
pub fn positions(arrivals: Arrivals, segment: Segment, pool_users: u64) -> Positions {
    match arrivals {
        Arrivals::Even => even(segment, pool_users),
        Arrivals::Poisson => poisson(segment, pool_users, SmallRng::from_rng(&mut rand::rng())),
    }
}

/// Like [`positions`], from a fixed seed (tests, and anyone who wants a schedule again).
pub fn seeded(arrivals: Arrivals, segment: Segment, pool_users: u64, seed: u64) -> Positions {
    match arrivals {
        Arrivals::Even => even(segment, pool_users),
        Arrivals::Poisson => poisson(segment, pool_users, SmallRng::seed_from_u64(seed)),
    }
}

fn even(segment: Segment, pool_users: u64) -> Positions {
    Box::new(segment.dealt_numbers(pool_users).map(|k| k as f64))
}

/// A Poisson process of rate `share / pool_users` from 0 (none for a segment without a
/// user): the first start one gap in, as a process observed from an arbitrary moment
/// (memoryless, so a load change may start one afresh).
fn poisson(segment: Segment, pool_users: u64, mut rng: SmallRng) -> Positions {
    let fraction = segment.dealt_fraction(pool_users);
    if fraction <= 0.0 {
        return Box::new(std::iter::empty());
    }
    let mean_gap = 1.0 / fraction;
    let mut at = 0.0f64;
    Box::new(std::iter::from_fn(move || {
        let gap: f64 = rng.sample(Exp1);
        at += gap * mean_gap;
        Some(at)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean and coefficient of variation of the gaps between consecutive positions.
    fn gap_stats(p: &[f64]) -> (f64, f64) {
        let gaps: Vec<f64> = p.windows(2).map(|w| w[1] - w[0]).collect();
        let n = gaps.len() as f64;
        let mean = gaps.iter().sum::<f64>() / n;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var.sqrt() / mean)
    }

    #[test]
    fn poisson_gaps_are_exponential_with_the_segments_mean() {
        let p: Vec<f64> = seeded(Arrivals::Poisson, Segment::WHOLE, 100, 7)
            .take(50_000)
            .collect();
        let (mean, cv) = gap_stats(&p);
        // Exponential gaps: mean 1, coefficient of variation 1 (the standard error of
        // each estimate is under 1 % at this size).
        assert!((mean - 1.0).abs() < 0.02, "mean gap {mean}");
        assert!((cv - 1.0).abs() < 0.03, "coefficient of variation {cv}");
        assert!(p.windows(2).all(|w| w[0] < w[1]));

        let third = Segment::new(1, 3).unwrap();
        let (mean, cv) = gap_stats(
            &seeded(Arrivals::Poisson, third, 300, 7)
                .take(50_000)
                .collect::<Vec<_>>(),
        );
        assert!((mean - 3.0).abs() < 0.06, "mean gap {mean}");
        assert!((cv - 1.0).abs() < 0.03, "coefficient of variation {cv}");

        let even: Vec<f64> = seeded(Arrivals::Even, third, 300, 7).take(1000).collect();
        let (mean, cv) = gap_stats(&even);
        assert_eq!((even[0], mean, cv), (1.0, 3.0, 0.0));
    }

    #[test]
    fn segments_draw_independent_processes() {
        let a: Vec<f64> = positions(Arrivals::Poisson, Segment::WHOLE, 10)
            .take(100)
            .collect();
        let b: Vec<f64> = positions(Arrivals::Poisson, Segment::WHOLE, 10)
            .take(100)
            .collect();
        assert_ne!(a, b);
        let c: Vec<f64> = seeded(Arrivals::Poisson, Segment::WHOLE, 10, 3)
            .take(100)
            .collect();
        let d: Vec<f64> = seeded(Arrivals::Poisson, Segment::WHOLE, 10, 3)
            .take(100)
            .collect();
        assert_eq!(c, d);
    }
}
