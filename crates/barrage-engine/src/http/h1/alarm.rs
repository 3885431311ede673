//! The response deadline of an HTTP/1.1 connection: one timer per connection, kept from
//! request to request, instead of a timer registered and removed for each one.
//!
//! Must not: let a request run past its own deadline, whatever deadline an earlier
//! request left the timer at, nor let I/O that is always ready (a server streaming without
//! pause) outrun the clock.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::H1Error;

/// A response deadline without a timer operation per request.
///
/// `tokio::time::timeout` registers a timer and removes it again for every request (a
/// lock and two wheel operations; this alarm saved 340 instructions per request, measured
/// with callgrind: docs/PERFORMANCE.md, the steps table, 8,905 -> 8,565). A
/// connection carries one request at a time, so one timer per connection suffices: it
/// stays armed at a deadline no later than the current request's, and when it fires
/// early (at an earlier request's deadline) it is moved to the current one. With answers
/// faster than the timeout it is re-armed about once per timeout period, not twice per
/// request.
#[derive(Default)]
pub(super) struct Alarm {
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    deadline: Option<tokio::time::Instant>,
    /// I/O operations in a row that were ready at once, with no look at the clock.
    ready_streak: u32,
}

/// I/O ready at once this many times in a row is read off the clock (see [`bounded`]).
const READY_STREAK: u32 = 32;

impl Alarm {
    pub(super) fn set(&mut self, deadline: std::time::Instant) {
        let deadline = tokio::time::Instant::from_std(deadline);
        self.deadline = Some(deadline);
        match &mut self.sleep {
            // Never later than this request's deadline (steps' timeouts differ).
            Some(sleep) if sleep.deadline() > deadline => sleep.as_mut().reset(deadline),
            Some(_) => {}
            None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
    }

    /// Whether the deadline has passed, by the clock.
    fn passed(&self) -> bool {
        self.deadline
            .is_some_and(|d| tokio::time::Instant::now() >= d)
    }

    /// Ready once the deadline has passed.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let (Some(sleep), Some(deadline)) = (&mut self.sleep, self.deadline) else {
            return Poll::Pending;
        };
        while sleep.as_mut().poll(cx).is_ready() {
            if tokio::time::Instant::now() >= deadline {
                return Poll::Ready(());
            }
            // An earlier request's deadline: move on to this one's.
            sleep.as_mut().reset(deadline);
        }
        Poll::Pending
    }

    /// What an I/O operation's `polled` result means with the deadline in force: the result
    /// when it is ready and the deadline holds, a timeout when it has passed, pending while
    /// both wait (the timer then wakes the task at the deadline). The one place the deadline
    /// is checked: the poll functions of the exchange (`conn.rs`) hand every poll of the
    /// socket through here.
    ///
    /// The clock is read when the I/O waits, and after every `READY_STREAK` operations
    /// ready at once: a server that streams without pause keeps every read ready (and may
    /// use up the task's budget, which the timer's own poll respects), and must still be
    /// cut off in time. Not on every poll: that was four clock readings a plain request,
    /// about 150 instructions (docs/PERFORMANCE.md).
    #[inline]
    pub(super) fn bound<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<Result<T, H1Error>> {
        if let Poll::Ready(done) = polled {
            self.ready_streak += 1;
            if self.ready_streak < READY_STREAK {
                return Poll::Ready(done.map_err(H1Error::Io));
            }
            self.ready_streak = 0;
            return Poll::Ready(match self.passed() {
                true => Err(H1Error::TimedOut),
                false => done.map_err(H1Error::Io),
            });
        }
        self.ready_streak = 0;
        if self.passed() {
            return Poll::Ready(Err(H1Error::TimedOut));
        }
        self.poll_expired(cx).map(|()| Err(H1Error::TimedOut))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `io`, unless the alarm goes off first.
    async fn bounded<T>(
        alarm: &mut Alarm,
        io: impl std::future::Future<Output = io::Result<T>>,
    ) -> Result<T, H1Error> {
        let mut io = std::pin::pin!(io);
        std::future::poll_fn(|cx| {
            let polled = io.as_mut().poll(cx);
            alarm.bound(cx, polled)
        })
        .await
    }

    #[tokio::test]
    async fn one_alarm_keeps_every_deadline() {
        use std::time::{Duration, Instant};
        let mut alarm = Alarm::default();
        let start = Instant::now();
        let ok = |v| async move { Ok::<_, io::Error>(v) };
        // Finished work is not a timeout, and leaves the alarm armed far ahead.
        alarm.set(start + Duration::from_secs(10));
        assert!(matches!(bounded(&mut alarm, ok(7)).await, Ok(7)));
        // A shorter deadline than the armed one holds: the alarm moves earlier.
        alarm.set(Instant::now() + Duration::from_millis(40));
        let never = std::future::pending::<io::Result<()>>();
        assert!(matches!(
            bounded(&mut alarm, never).await,
            Err(H1Error::TimedOut)
        ));
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(40) && waited < Duration::from_secs(5),
            "{waited:?}"
        );
        // The alarm fires at an earlier request's deadline; work running past it, within
        // its own later deadline, is not cut off.
        alarm.set(Instant::now() + Duration::from_millis(20));
        assert!(matches!(bounded(&mut alarm, ok(1)).await, Ok(1)));
        alarm.set(Instant::now() + Duration::from_millis(300));
        let slow = async {
            tokio::time::sleep(Duration::from_millis(80)).await;
            Ok::<_, io::Error>(2)
        };
        assert!(matches!(bounded(&mut alarm, slow).await, Ok(2)));
    }

    #[tokio::test]
    async fn a_deadline_holds_against_io_that_is_always_ready() {
        use std::time::{Duration, Instant};
        let mut alarm = Alarm::default();
        let start = Instant::now();
        alarm.set(start + Duration::from_millis(100));
        // A server streaming without pause: every read is ready at once.
        let mut reads = 0u64;
        let end = loop {
            match bounded(&mut alarm, async { Ok::<_, io::Error>(()) }).await {
                Ok(()) => reads += 1,
                Err(e) => break e,
            }
            assert!(start.elapsed() < Duration::from_secs(5), "never cut off");
        };
        assert!(matches!(end, H1Error::TimedOut), "{end:?}");
        assert!(reads > 0 && start.elapsed() >= Duration::from_millis(100));
    }
}
