//! Whether this machine could give a user a connection, and how long the user waits when it
//! could not.
//!
//! A user started beyond what the machine can hold (more users than file descriptors, more
//! connections than local ports) fails to connect at once, every time. Retrying at once is
//! what made 30,000 users under a 20,000-descriptor limit spin through 491,034 failures in
//! 5 s while the summary said "30000 users". So such failures (category `local_resources`)
//! back off per user, 10 ms doubling to 1 s, back to nothing once a connection opens; and a
//! user whose *first* connection could not be opened is taken out of the users gauge until
//! it gets one, because a user that never reached the target put no load on it.
//!
//! Pure bookkeeping: [`Reach::note`] says what changed and [`crate::vu::Vu`] applies it to
//! the worker's gauges and sleeps, so the rules are tested here without a network.

use std::time::Duration;

use crate::http::RequestError;

/// The first pause after a local shortage; it doubles up to [`LONGEST_PAUSE`].
pub(super) const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause: a user still gets a chance every second when descriptors free up.
pub(super) const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// What one request attempt says about the user's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attempt {
    /// A connection carried the request (whatever the answer).
    Connected,
    /// This machine had no descriptor, port or buffer for a new connection.
    LocalShortage,
    /// Neither: the target refused or did not answer the connect, or the request could not
    /// be built. Says nothing about local resources.
    Other,
}

impl Attempt {
    /// Reads a request's result.
    pub(super) fn of<T>(result: &Result<T, RequestError>) -> Attempt {
        Attempt::of_error(result.as_ref().err())
    }

    /// Reads a request's error, `None` when it was answered.
    #[inline]
    pub(super) fn of_error(error: Option<&RequestError>) -> Attempt {
        match error {
            None => Attempt::Connected,
            Some(RequestError::LocalResources(..)) => Attempt::LocalShortage,
            // These happen only on a connection that was open.
            Some(
                RequestError::ResponseTimeout(_)
                | RequestError::Io(_)
                | RequestError::Closed
                | RequestError::Protocol(_)
                | RequestError::BodyMemory(_),
            ) => Attempt::Connected,
            Some(_) => Attempt::Other,
        }
    }
}

/// What the caller must do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Change {
    /// Wait this long before the next request.
    pub(super) pause: Option<Duration>,
    /// The user just became one that never got a connection (`Some(true)`), or just got its
    /// first one after waiting (`Some(false)`).
    pub(super) unconnected: Option<bool>,
}

/// One user's standing.
#[derive(Debug, Default)]
pub(super) struct Reach {
    ever_connected: bool,
    /// Counted out of the users gauge, waiting for a first connection.
    waiting: bool,
    /// The pause the next shortage costs; zero until the first.
    next_pause: Duration,
}

impl Reach {
    /// Takes one attempt into account.
    pub(super) fn note(&mut self, attempt: Attempt) -> Change {
        match attempt {
            Attempt::Connected => {
                self.ever_connected = true;
                self.next_pause = Duration::ZERO;
                Change {
                    pause: None,
                    unconnected: std::mem::take(&mut self.waiting).then_some(false),
                }
            }
            Attempt::LocalShortage => {
                let pause = self.next_pause.max(FIRST_PAUSE);
                self.next_pause = (pause * 2).min(LONGEST_PAUSE);
                let newly = !self.ever_connected && !self.waiting;
                self.waiting |= newly;
                Change {
                    pause: Some(pause),
                    unconnected: newly.then_some(true),
                }
            }
            Attempt::Other => Change::default(),
        }
    }

    /// Whether the user is out of the users gauge, waiting for its first connection.
    pub(super) fn waiting(&self) -> bool {
        self.waiting
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortages_back_off_doubling_to_a_second_and_a_connection_resets_the_pause() {
        let mut r = Reach::default();
        let pauses: Vec<u64> = (0..9)
            .map(|_| r.note(Attempt::LocalShortage).pause.unwrap().as_millis() as u64)
            .collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        assert_eq!(r.note(Attempt::Connected).pause, None);
        assert_eq!(
            r.note(Attempt::LocalShortage).pause,
            Some(FIRST_PAUSE),
            "a connection starts the back-off over"
        );
        // A refusal is the target's doing: no pause, and the back-off is kept.
        assert_eq!(r.note(Attempt::Other), Change::default());
        assert_eq!(r.note(Attempt::LocalShortage).pause, Some(2 * FIRST_PAUSE));
    }

    #[test]
    fn only_a_user_that_never_connected_leaves_the_gauge_and_it_returns_once() {
        let mut r = Reach::default();
        assert_eq!(r.note(Attempt::LocalShortage).unconnected, Some(true));
        assert!(r.waiting());
        assert_eq!(
            r.note(Attempt::LocalShortage).unconnected,
            None,
            "counted out once, however often it fails"
        );
        assert_eq!(r.note(Attempt::Other).unconnected, None);
        assert_eq!(r.note(Attempt::Connected).unconnected, Some(false));
        assert!(!r.waiting());
        assert_eq!(r.note(Attempt::Connected).unconnected, None);
        // Having held a connection, a later shortage pauses the user but it still counts
        // as running: it reached the target.
        let later = r.note(Attempt::LocalShortage);
        assert_eq!(later.unconnected, None);
        assert!(later.pause.is_some());
        assert!(!r.waiting());
    }

    #[test]
    fn request_errors_are_read_as_the_attempt_they_were() {
        let io = || std::io::Error::from_raw_os_error(libc::EMFILE);
        let shortage: Result<(), _> = Err(RequestError::LocalResources("o".into(), io()));
        assert_eq!(Attempt::of(&shortage), Attempt::LocalShortage);
        let refused: Result<(), _> = Err(RequestError::Refused("o".into()));
        assert_eq!(Attempt::of(&refused), Attempt::Other);
        let closed: Result<(), _> = Err(RequestError::Closed);
        assert_eq!(Attempt::of(&closed), Attempt::Connected);
        assert_eq!(Attempt::of(&Ok::<(), RequestError>(())), Attempt::Connected);
    }
}
