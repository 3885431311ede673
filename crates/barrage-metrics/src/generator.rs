//! The generator watching itself: how late it started iterations against their schedule,
//! how many it dropped or queued, and how busy its threads were.
//!
//! A load generator that falls behind its own schedule reports latencies that are not the
//! server's; these figures are what lets a run say "results are suspect" instead of quietly
//! lying. They are recorded per worker like everything else and merged exactly.
//!
//! Iterations started are also counted by their *intended* second (the second of the
//! schedule they belong to, not the second they happened to start in), so a test, or a
//! person, can see that an arrival-rate schedule was honoured second by second. That list
//! costs 8 bytes per second of run.

use serde::{Deserialize, Serialize};

use crate::histogram::LazyHistogram;
use crate::snapshot::LatencyStats;

/// One interval's (or the run's) generator figures.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct GeneratorData {
    /// How late the scheduler woke for an intended start (actual minus intended).
    pub(crate) schedule_lag: LazyHistogram,
    /// How long a scheduled iteration waited before a user began it (for a free user, or for
    /// a new user's setup). Part of every request's response time in that iteration.
    pub(crate) start_delay: LazyHistogram,
    pub(crate) started: u64,
    pub(crate) dropped: u64,
    /// Deepest queue of iterations waiting for a free user during the interval.
    pub(crate) queue_max: u64,
    /// The queue depth when the interval was taken (a gauge).
    pub(crate) queue_now: u64,
    /// `(intended second, iterations started)`, seconds increasing.
    pub(crate) started_by_second: Vec<(u32, u64)>,
    /// Thread CPU time the worker used during the interval.
    pub(crate) cpu_ns: u64,
}

impl GeneratorData {
    pub(crate) fn merge(&mut self, other: &GeneratorData) {
        self.schedule_lag.add(&other.schedule_lag);
        self.start_delay.add(&other.start_delay);
        self.started += other.started;
        self.dropped += other.dropped;
        self.queue_max = self.queue_max.max(other.queue_max);
        self.cpu_ns += other.cpu_ns;
        for &(second, n) in &other.started_by_second {
            add_to_second(&mut self.started_by_second, second, n);
        }
    }

    pub(crate) fn take_rewarmed(&mut self) -> GeneratorData {
        let queue_now = self.queue_now;
        GeneratorData {
            schedule_lag: self.schedule_lag.take_rewarmed(),
            start_delay: self.start_delay.take_rewarmed(),
            started: std::mem::take(&mut self.started),
            dropped: std::mem::take(&mut self.dropped),
            // The next interval's deepest queue starts from the depth it inherits.
            queue_max: std::mem::replace(&mut self.queue_max, queue_now),
            queue_now,
            started_by_second: std::mem::take(&mut self.started_by_second),
            cpu_ns: std::mem::take(&mut self.cpu_ns),
        }
    }

    pub(crate) fn stats(&self, busiest_cpu_percent: f64, queue_depth: u64) -> GeneratorStats {
        GeneratorStats {
            schedule_lag: LatencyStats::from_lazy(&self.schedule_lag),
            start_delay: LatencyStats::from_lazy(&self.start_delay),
            iterations_started: self.started,
            dropped_iterations: self.dropped,
            queue_max: self.queue_max,
            queue_depth,
            cpu_percent_max: busiest_cpu_percent,
        }
    }
}

/// One generator's own health over a run, apart from the merged totals: a coordinated
/// run keeps one per agent (its `NamedGenerator.generator` in the result), so an agent that
/// fell behind is not hidden by others that kept up. Fed the same intervals as the
/// aggregator; over the whole run (a statistics reset does not clear it).
#[derive(Clone, Debug, Default)]
pub struct GeneratorTally {
    data: GeneratorData,
    busiest_cpu_percent: f64,
    /// Each worker's queue depth as of its latest interval.
    queues: Vec<u64>,
}

impl GeneratorTally {
    /// Adds worker `worker`'s interval. `whole` says it covers a whole second (every
    /// interval but a worker's last, partial one), so its CPU time is a share of a core.
    pub fn absorb(&mut self, worker: usize, interval: &crate::Interval, whole: bool) {
        let g = &interval.generator;
        self.data.merge(g);
        if whole {
            self.busiest_cpu_percent = self.busiest_cpu_percent.max(g.cpu_ns as f64 / 1e7);
        }
        if self.queues.len() <= worker {
            self.queues.resize(worker + 1, 0);
        }
        self.queues[worker] = g.queue_now;
    }

    /// Its figures, as a one-process result's `generator`.
    pub fn stats(&self) -> GeneratorStats {
        self.data
            .stats(self.busiest_cpu_percent, self.queues.iter().sum())
    }
}

/// Adds `n` starts to `second` in a list kept sorted by second. Starts arrive in schedule
/// order, so this is almost always the last entry or a new one at the end.
pub(crate) fn add_to_second(list: &mut Vec<(u32, u64)>, second: u32, n: u64) {
    match list.iter().rposition(|&(s, _)| s <= second) {
        Some(i) if list[i].0 == second => list[i].1 += n,
        Some(i) => list.insert(i + 1, (second, n)),
        None => list.insert(0, (second, n)),
    }
}

/// The generator's health, as the live view and the result file show it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GeneratorStats {
    /// Scheduler wake-up minus intended start, over every scheduled start (ms).
    pub schedule_lag: LatencyStats,
    /// Intended start to the moment a user began the iteration (ms).
    pub start_delay: LatencyStats,
    /// Iterations started by an arrival-rate schedule (0 in closed models).
    pub iterations_started: u64,
    /// Scheduled iterations dropped because every user was busy.
    pub dropped_iterations: u64,
    /// Deepest queue of scheduled iterations waiting for a free user.
    pub queue_max: u64,
    /// Scheduled iterations waiting for a free user now (live view; the last value at the end).
    #[serde(default)]
    pub queue_depth: u64,
    /// The busiest worker thread's CPU use in any closed second, in percent of one core.
    pub cpu_percent_max: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_are_kept_by_second_in_order_whatever_the_merge_order() {
        let mut list = Vec::new();
        add_to_second(&mut list, 3, 1);
        add_to_second(&mut list, 3, 2);
        add_to_second(&mut list, 5, 1);
        add_to_second(&mut list, 4, 7);
        add_to_second(&mut list, 0, 1);
        assert_eq!(list, vec![(0, 1), (3, 3), (4, 7), (5, 1)]);
    }

    #[test]
    fn queue_max_carries_the_inherited_depth() {
        let mut g = GeneratorData {
            queue_max: 9,
            queue_now: 4,
            ..GeneratorData::default()
        };
        let taken = g.take_rewarmed();
        assert_eq!((taken.queue_max, g.queue_max, g.queue_now), (9, 4, 4));
    }
}
