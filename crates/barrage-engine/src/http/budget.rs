//! The memory that kept response bodies may take, per response and for the whole process.
//!
//! A body is kept only when a save or a check reads it (or `--debug` shows it); bodies
//! nobody reads are counted as they stream and never held. A kept body is held until its
//! answer has been judged, so a server streaming an endless body to a step that saves from
//! it would otherwise make every user hold as much as the per-response cap allows at once:
//! 20 users at 256 MiB each drove the process past 2 GB. Two limits bound that:
//!
//! - [`BodyLimits::max_body`], per response (default 16 MiB): a body over it fails its
//!   request, and its connection is closed.
//! - [`BodyBudget`], one for the process (default 128 MiB), shared by every worker: the
//!   capacity that all kept bodies hold at once. A body that would take the process over it
//!   fails its request; nothing waits, so no user can stall another.
//!
//! The budget is charged by the capacity a kept body allocates (what the process really
//! holds), in steps that at most double it, and released when the last view of the body is
//! dropped: the charge travels inside the body's [`Bytes`] as its owner, so nobody has to
//! remember to give it back. A body that arrived whole in the connection's read buffer is
//! split off that buffer without a copy and without a charge: the read buffer is the
//! connection's own, bounded memory.
//!
//! Must not: wait for memory, or take a lock (one atomic add and one subtract per kept
//! body that outgrew the read buffer).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;

/// The default per-response cap on a kept body.
pub const DEFAULT_MAX_BODY: usize = 16 << 20;
/// The default budget of all kept bodies of the process together.
pub const DEFAULT_BODY_MEMORY: usize = 128 << 20;

/// The memory all kept bodies of the process may hold at once. Shared by every worker.
#[derive(Debug)]
pub struct BodyBudget {
    limit: usize,
    used: AtomicUsize,
}

impl BodyBudget {
    pub fn new(limit: usize) -> Arc<BodyBudget> {
        Arc::new(BodyBudget {
            limit,
            used: AtomicUsize::new(0),
        })
    }

    /// The budget in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes held by kept bodies now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Takes `n` bytes of the budget, or says no when that would pass its limit.
    fn take(&self, n: usize) -> bool {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let Some(after) = used.checked_add(n).filter(|&a| a <= self.limit) else {
                return false;
            };
            match self
                .used
                .compare_exchange_weak(used, after, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => used = now,
            }
        }
    }

    fn give_back(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::Relaxed);
    }
}

impl Default for BodyBudget {
    fn default() -> BodyBudget {
        BodyBudget {
            limit: DEFAULT_BODY_MEMORY,
            used: AtomicUsize::new(0),
        }
    }
}

/// How much of one answer's body may be kept, and from which budget.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits<'a> {
    /// The largest body kept for one response.
    pub max_body: usize,
    pub budget: &'a Arc<BodyBudget>,
}

/// Why a body could not be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepRefused {
    /// The body is longer than the per-response cap.
    TooLong { len: u64, max: usize },
    /// The process's budget for kept bodies is in use by other answers.
    OverBudget { budget: usize },
}

impl std::fmt::Display for KeepRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            KeepRefused::TooLong { len, max } => write!(
                f,
                "a body of at least {len} bytes, over the {} barrage keeps per response for \
                 saves and checks (raise `max_body_size` or --max-body-size)",
                mib(max)
            ),
            KeepRefused::OverBudget { budget } => write!(
                f,
                "keeping this body would pass the {} all kept bodies may take together \
                 (raise --max-body-memory, or lower `max_body_size` or the users)",
                mib(budget)
            ),
        }
    }
}

fn mib(n: usize) -> String {
    if n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// A body being kept: grows in steps that at most double its capacity, never past the
/// cap, charging the budget for each step.
pub(crate) struct KeptBody<'a> {
    buf: Vec<u8>,
    limits: BodyLimits<'a>,
    /// Bytes of the budget this body holds (its capacity).
    charged: usize,
}

impl<'a> KeptBody<'a> {
    pub(crate) fn new(limits: BodyLimits<'a>) -> KeptBody<'a> {
        KeptBody {
            buf: Vec::new(),
            limits,
            charged: 0,
        }
    }

    /// Room for `total` bytes in all, announced by the server: reserved up to one step
    /// ahead only, so a server's number alone never makes a large allocation.
    pub(crate) fn expect(&mut self, total: u64) -> Result<(), KeepRefused> {
        if total > self.limits.max_body as u64 {
            return Err(KeepRefused::TooLong {
                len: total,
                max: self.limits.max_body,
            });
        }
        let ahead = (total as usize).min(self.buf.len() + (1 << 20));
        self.grow_to(ahead)
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<(), KeepRefused> {
        let want = self.buf.len() + bytes.len();
        if want > self.limits.max_body {
            return Err(KeepRefused::TooLong {
                len: want as u64,
                max: self.limits.max_body,
            });
        }
        if want > self.buf.capacity() {
            // Doubling keeps the copies few; the cap keeps the last step from
            // overshooting it (a `Vec`'s own growth would double past it).
            let step = (self.buf.capacity() * 2)
                .max(want)
                .max(16 << 10)
                .min(self.limits.max_body);
            self.grow_to(step)?;
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn grow_to(&mut self, capacity: usize) -> Result<(), KeepRefused> {
        if capacity <= self.buf.capacity() {
            return Ok(());
        }
        let more = capacity - self.charged;
        if !self.limits.budget.take(more) {
            return Err(KeepRefused::OverBudget {
                budget: self.limits.budget.limit,
            });
        }
        self.charged += more;
        self.buf.reserve_exact(capacity - self.buf.len());
        Ok(())
    }

    /// The body, carrying its charge: the budget gets it back when the last view of the
    /// body is dropped.
    pub(crate) fn finish(mut self) -> Bytes {
        let charged = std::mem::take(&mut self.charged);
        let buf = std::mem::take(&mut self.buf);
        if charged == 0 {
            return Bytes::from(buf);
        }
        Bytes::from_owner(Charged {
            buf,
            budget: Arc::clone(self.limits.budget),
            charged,
        })
    }
}

impl Drop for KeptBody<'_> {
    fn drop(&mut self) {
        // A body given up half way (too long, a failure) gives its charge back at once.
        if self.charged > 0 {
            self.limits.budget.give_back(self.charged);
        }
    }
}

/// A kept body's memory and the share of the budget it holds.
struct Charged {
    buf: Vec<u8>,
    budget: Arc<BodyBudget>,
    charged: usize,
}

impl AsRef<[u8]> for Charged {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Charged {
    fn drop(&mut self) {
        self.budget.give_back(self.charged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_body_is_charged_by_capacity_and_gives_it_back_when_dropped() {
        let budget = BodyBudget::new(3 << 20);
        let limits = BodyLimits {
            max_body: 1 << 20,
            budget: &budget,
        };
        let mut kept = KeptBody::new(limits);
        for _ in 0..100 {
            kept.push(&[7u8; 1000]).unwrap();
        }
        // 16 KiB, then doubling: 128 KiB holds 100,000 bytes.
        assert_eq!(limits.budget.used(), 128 << 10);
        let body = kept.finish();
        assert_eq!(body.len(), 100_000);
        let view = body.slice(10..20);
        drop(body);
        assert_eq!(limits.budget.used(), 128 << 10, "a view still holds it");
        drop(view);
        assert_eq!(limits.budget.used(), 0);
    }

    #[test]
    fn growth_stops_at_the_cap_and_the_budget() {
        let budget = BodyBudget::new(150_000);
        let limits = BodyLimits {
            max_body: 100_000,
            budget: &budget,
        };
        let mut kept = KeptBody::new(limits);
        kept.push(&vec![1u8; 70_000]).unwrap();
        kept.push(&vec![1u8; 30_000]).unwrap();
        // Doubling 70,000 would be 140,000: the cap holds it at 100,000.
        assert_eq!(limits.budget.used(), 100_000);
        assert_eq!(
            kept.push(b"x"),
            Err(KeepRefused::TooLong {
                len: 100_001,
                max: 100_000
            })
        );
        let other = {
            let mut k = KeptBody::new(limits);
            k.push(&vec![2u8; 60_000]).map(|_| ())
        };
        assert_eq!(other, Err(KeepRefused::OverBudget { budget: 150_000 }));
        drop(kept);
        assert_eq!(
            limits.budget.used(),
            0,
            "a body given up gives its charge back"
        );
        let mut k = KeptBody::new(limits);
        assert!(k.expect(100_001).is_err());
        k.expect(90_000).unwrap();
        assert_eq!(limits.budget.used(), 90_000);
    }
}
