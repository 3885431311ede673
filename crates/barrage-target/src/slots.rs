//! The items API as a service of known capacity ([`super::ServiceCapacity`]): `slots`
//! requests in service at once, each for exactly `service`, the rest in line in the order
//! they reach it.
//!
//! Why due times on the clock rather than a semaphore and a sleep: a request that sleeps
//! `service` after getting a slot holds the slot for `service` plus the timer's lateness,
//! so on a busy machine the service would complete fewer than `slots / service` requests a
//! second, and the ground truth would move with the load. Here each request's answer is due
//! `service` after the later of its arrival and the time its slot comes free (the previous
//! due time, not when that answer was really sent), so lateness delays one answer and never
//! the next: the throughput is exactly the capacity whenever the line is not empty.
//!
//! The one lock: every request takes a mutex for a heap pop and push. That is the target's
//! cost, not the generator's, at the few thousand requests a second a capacity test runs.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::ServiceCapacity;

/// When each slot comes free, earliest first.
pub(super) struct Slots {
    service: Duration,
    free_at: Mutex<BinaryHeap<Reverse<Instant>>>,
}

impl Slots {
    /// Every slot free now; `slots` of 0 counts as 1 (a service that serves nothing would
    /// only hang its clients).
    pub(super) fn new(capacity: ServiceCapacity) -> Slots {
        let now = Instant::now();
        Slots {
            service: capacity.service,
            free_at: Mutex::new((0..capacity.slots.max(1)).map(|_| Reverse(now)).collect()),
        }
    }

    /// When the answer to a request arriving at `arrival` is due; the slot it takes is
    /// busy until then.
    pub(super) fn due(&self, arrival: Instant) -> Instant {
        // A panic while holding the lock cannot leave the heap inconsistent (pop and push
        // are the only operations), so a poisoned lock is used as it is.
        let mut free_at = self.free_at.lock().unwrap_or_else(|e| e.into_inner());
        let Reverse(free) = free_at
            .pop()
            .expect("the heap holds one entry per slot, popped and pushed back together");
        let due = arrival.max(free) + self.service;
        free_at.push(Reverse(due));
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_beyond_the_slots_wait_in_line() {
        let ms = Duration::from_millis;
        let slots = Slots::new(ServiceCapacity {
            slots: 2,
            service: ms(10),
        });
        let t0 = Instant::now();
        let dues: Vec<Duration> = (0..5).map(|_| slots.due(t0) - t0).collect();
        assert_eq!(dues, [ms(10), ms(10), ms(20), ms(20), ms(30)]);
        // One arriving after the line has cleared is served at once.
        assert_eq!(slots.due(t0 + ms(100)) - t0, ms(110));
        // And the other slot, free since 30 ms, too.
        assert_eq!(slots.due(t0 + ms(100)) - t0, ms(110));
        assert_eq!(slots.due(t0 + ms(100)) - t0, ms(120));
    }

    #[test]
    fn no_slots_means_one() {
        let slots = Slots::new(ServiceCapacity {
            slots: 0,
            service: Duration::from_millis(5),
        });
        let t0 = Instant::now();
        assert_eq!(slots.due(t0) - t0, Duration::from_millis(5));
        assert_eq!(slots.due(t0) - t0, Duration::from_millis(10));
    }
}
