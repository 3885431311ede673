//! The segments' schedules add up to the one-process schedule, for every load model and
//! every split of the load over 1 to 16 processes (`--segment I/N`), each process with its
//! own number of worker threads (a fleet of machines with different core counts): user
//! start and stop times, arrival instants and iteration counts are compared exactly, as
//! values, against [`Segment::WHOLE`]'s. Poisson arrivals are random by design: there, each
//! segment's stream is an independent Poisson process of its share of the rate, so what
//! is tested is the rate of each and of their union, and that the union is Poisson.

use std::time::{Duration, Instant};

use super::closed::Event;
use super::{ramping_users, Executor};
use crate::load::{
    Arrivals, ConstantArrivalRate, ConstantUsers, PoolSpec, RampingArrivalRate, RampingUsers,
};
use crate::plan::Stage;
use crate::segment::Segment;

/// The process segments of a load split `n` ways, each with the worker segments it runs:
/// process `i` has `i mod 3 + 1` worker threads.
fn fleet(n: u64) -> Vec<(Segment, Vec<Segment>)> {
    (0..n)
        .map(|i| {
            let process = Segment::new(i, n).expect("i < n");
            (process, process.split((i % 3 + 1) as usize).collect())
        })
        .collect()
}

/// Every worker segment of a load split `n` ways.
fn workers(n: u64) -> Vec<Segment> {
    fleet(n).into_iter().flat_map(|(_, w)| w).collect()
}

fn stage(millis: u64, target: f64) -> Stage {
    Stage {
        duration: Duration::from_millis(millis),
        target,
    }
}

fn pool(max_users: u64) -> PoolSpec {
    PoolSpec {
        max_users,
        pre_allocated: max_users.min(4),
        drop_when_busy: false,
    }
}

#[test]
fn constant_users_start_at_the_one_process_times() {
    let t0 = Instant::now();
    for spawn_rate in [Some(7.0), Some(0.3), None] {
        let model = ConstantUsers {
            users: 37,
            spawn_rate,
            duration: Some(Duration::from_secs(60)),
            iterations: None,
        };
        let whole: Vec<(Duration, u64)> = model
            .schedule(Segment::WHOLE, t0)
            .map(|(t, i)| (t - t0, i))
            .collect();
        assert_eq!(whole.len(), 37);
        for n in 1..=16 {
            let mut union: Vec<(Duration, u64)> = workers(n)
                .into_iter()
                .flat_map(|w| model.schedule(w, t0).map(|(t, i)| (t - t0, i)))
                .collect();
            union.sort();
            assert_eq!(union, whole, "{n} segments, spawn rate {spawn_rate:?}");
            // The users running at t, over all segments, are the model's level at t: the
            // spawn rate is scaled to each segment's share by the striping.
            if let Some(rate) = spawn_rate {
                for j in 0..40 {
                    let t = Duration::from_secs_f64((j as f64 + 0.5) / rate);
                    let running = union.iter().filter(|(s, _)| *s <= t).count();
                    assert_eq!(running as f64, model.level_at(t), "{n} segments at {t:?}");
                }
            }
        }
    }
}

#[test]
fn ramping_users_start_and_stop_at_the_one_process_times() {
    let models = [
        RampingUsers {
            start: 0,
            stages: vec![stage(4_000, 23.0), stage(2_000, 23.0), stage(3_000, 0.0)],
        },
        RampingUsers {
            start: 5,
            stages: vec![stage(1_500, 17.5), stage(2_500, 3.0), stage(1_000, 40.0)],
        },
    ];
    for model in &models {
        let mut whole = ramping_users::events(model.start, &model.stages, Segment::WHOLE);
        whole.sort();
        for n in 1..=16 {
            let mut union: Vec<(Duration, Event)> = workers(n)
                .into_iter()
                .flat_map(|w| ramping_users::events(model.start, &model.stages, w))
                .collect();
            union.sort();
            assert_eq!(union, whole, "{n} segments, {model:?}");
            // Users running at t (started, not yet stopped) over all segments: the level.
            for j in 0..200 {
                let t = Duration::from_millis(j * 50 + 7);
                let level: i64 = union
                    .iter()
                    .filter(|(s, _)| *s <= t)
                    .map(|(_, e)| match e {
                        Event::Start(_) => 1,
                        Event::Stop(_) => -1,
                    })
                    .sum();
                assert_eq!(level as f64, model.level_at(t), "{n} segments at {t:?}");
            }
        }
    }
}

/// Every start of an open model's segment, up to its end.
fn starts(planned: impl Iterator<Item = Duration>) -> Vec<Duration> {
    planned.collect()
}

#[test]
fn constant_arrival_rate_starts_interleave_into_the_one_process_schedule() {
    for max_users in [1, 3, 10, 16, 1_000] {
        let model = ConstantArrivalRate {
            rate: 333.0,
            duration: Some(Duration::from_secs(3)),
            pool: pool(max_users),
            arrivals: Arrivals::Even,
        };
        let whole = starts(model.planned(Segment::WHOLE, None));
        assert_eq!(whole.len(), 999);
        for n in 1..=16 {
            let mut union: Vec<Duration> = workers(n)
                .into_iter()
                .flat_map(|w| starts(model.planned(w, None)))
                .collect();
            union.sort();
            assert_eq!(union, whole, "{n} segments, {max_users} users");
            // A process's share of the starts follows its share of the pool's users.
            for (process, ws) in fleet(n) {
                let mine: usize = ws.iter().map(|&w| model.planned(w, None).count()).sum();
                assert_eq!(mine as u64, process.dealt(999, max_users));
            }
        }
    }
}

#[test]
fn ramping_arrival_rate_starts_interleave_into_the_one_process_schedule() {
    let stages = vec![stage(2_000, 300.0), stage(1_000, 300.0), stage(1_500, 20.0)];
    for max_users in [2, 7, 16, 500] {
        let model = RampingArrivalRate {
            rate: 10.0,
            stages: stages.clone(),
            pool: pool(max_users),
            arrivals: Arrivals::Even,
        };
        let whole = starts(model.planned(Segment::WHOLE, None));
        // The area under the rate: 310 + 300 + 240.
        assert_eq!(whole.len(), 850);
        for n in 1..=16 {
            let mut union: Vec<Duration> = workers(n)
                .into_iter()
                .flat_map(|w| starts(model.planned(w, None)))
                .collect();
            union.sort();
            assert_eq!(union, whole, "{n} segments, {max_users} users");
        }
    }
}

#[test]
fn open_models_pool_users_are_numbered_over_the_whole_load() {
    // Pool user n of a segment is the segment's n-th number: together, 0..max_users once.
    for max_users in [1, 5, 16, 33] {
        for n in 1..=16 {
            let mut users: Vec<u64> = workers(n)
                .into_iter()
                .flat_map(|w| (0..w.share(max_users)).map(move |k| w.nth(k)))
                .collect();
            users.sort_unstable();
            assert_eq!(users, (0..max_users).collect::<Vec<_>>());
        }
    }
}

#[test]
fn iteration_counts_split_exactly() {
    for users in [1, 3, 8, 16, 50] {
        for total in [0, 1, 10, 99, 1_000] {
            let model = ConstantUsers {
                users,
                spawn_rate: Some(5.0),
                duration: None,
                iterations: Some(total),
            };
            assert_eq!(model.iterations(Segment::WHOLE), Some(total));
            for n in 1..=16 {
                let mut sum = 0;
                for (process, ws) in fleet(n) {
                    let mine: u64 = ws.iter().map(|&w| model.iterations(w).unwrap()).sum();
                    // What a process's workers run together is the process's own share,
                    // whatever its number of workers.
                    assert_eq!(Some(mine), model.iterations(process));
                    if process.share(users) == 0 {
                        assert_eq!(mine, 0, "a process without users runs no iteration");
                    }
                    sum += mine;
                }
                assert_eq!(
                    sum, total,
                    "{total} iterations, {users} users, {n} segments"
                );
            }
        }
    }
}

/// Per-second counts of a schedule `secs` long: (total, index of dispersion).
fn per_second(starts: &[Duration], secs: usize) -> (u64, f64) {
    let mut counts = vec![0u64; secs];
    for s in starts {
        counts[s.as_secs() as usize] += 1;
    }
    let n = secs as f64;
    let total: u64 = counts.iter().sum();
    let mean = total as f64 / n;
    let var = counts
        .iter()
        .map(|&c| (c as f64 - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    (total, var / mean)
}

/// Whether a Poisson count `n` is within five standard deviations of its mean.
fn poisson_count_fits(n: u64, mean: f64) -> bool {
    (n as f64 - mean).abs() <= 5.0 * mean.sqrt().max(1.0)
}

#[test]
fn poisson_segments_add_up_to_a_poisson_process_of_the_whole_rate() {
    // 250/s for 400 s: 100,000 starts expected. Each worker's stream is its own process,
    // seeded here so the test is repeatable (a run seeds from entropy).
    let secs = 400;
    for max_users in [5, 16, 1_000] {
        let model = ConstantArrivalRate {
            rate: 250.0,
            duration: Some(Duration::from_secs(secs)),
            pool: pool(max_users),
            arrivals: Arrivals::Poisson,
        };
        for n in 1..=16 {
            let mut union = Vec::new();
            let mut seed = n * 1_000 + max_users;
            for (process, ws) in fleet(n) {
                let mut mine = 0u64;
                for w in ws {
                    seed += 1;
                    let s = starts(model.planned(w, Some(seed)));
                    if w.share(max_users) == 0 {
                        assert!(s.is_empty(), "a segment without users starts nothing");
                    }
                    mine += s.len() as u64;
                    union.extend(s);
                }
                // Each process: a Poisson count with mean rate x its share of the users.
                let expected = 250.0 * secs as f64 * process.dealt_fraction(max_users);
                assert!(
                    poisson_count_fits(mine, expected),
                    "process {process:?} of {n}: {mine} starts, expected {expected}"
                );
            }
            let (total, dispersion) = per_second(&union, secs as usize);
            assert!(
                poisson_count_fits(total, 100_000.0),
                "{n} segments, {max_users} users: {total} starts"
            );
            // Per-second counts of a Poisson process: variance = mean (index 1, standard
            // error 0.07 over 400 seconds).
            assert!(
                (dispersion - 1.0).abs() < 0.3,
                "{n} segments, {max_users} users: index of dispersion {dispersion}"
            );
        }
    }
}

#[test]
fn poisson_segments_follow_a_ramp_together() {
    // 0 -> 400/s over 20 s, then 400/s for 5 s: 4,000 + 2,000 starts expected.
    for n in 1..=16 {
        let model = RampingArrivalRate {
            rate: 0.0,
            stages: vec![stage(20_000, 400.0), stage(5_000, 400.0)],
            pool: pool(12),
            arrivals: Arrivals::Poisson,
        };
        let union: Vec<Duration> = workers(n)
            .into_iter()
            .enumerate()
            .flat_map(|(i, w)| starts(model.planned(w, Some(n * 100 + i as u64))))
            .collect();
        let ramp = union
            .iter()
            .filter(|t| **t < Duration::from_secs(20))
            .count() as u64;
        let first_half = union
            .iter()
            .filter(|t| **t < Duration::from_secs(10))
            .count() as u64;
        assert!(poisson_count_fits(ramp, 4_000.0), "{n}: {ramp} in the ramp");
        assert!(
            poisson_count_fits(first_half, 1_000.0),
            "{n}: {first_half} in the ramp's first half"
        );
        assert!(poisson_count_fits(union.len() as u64 - ramp, 2_000.0));
    }
}
