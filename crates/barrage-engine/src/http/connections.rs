//! The connections one virtual user holds, and the exchange that runs on one of them: take
//! the user's open connection to the origin (or open one), hand it the request, time it.
//!
//! A connection is of one kind, fixed when it is opened (`connect.rs` decides: HTTP/1.1,
//! or HTTP/2 by ALPN or prior knowledge). [`Connection`] is an enum rather than a trait object: the
//! kinds are few and known, so the hot path takes no indirect call and no box, and a
//! second kind is one more variant here and in the connector; the virtual user, which
//! sees only [`Outgoing`] and [`Exchange`], does not change.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use super::exchange::{Response, ResponseHead};
use super::h1;
use super::h2;
use super::{BodyLimits, Connector, Exchange, Origin, Outgoing, RequestError, Timings};

/// The connections one virtual user holds, by origin. Usually one; a scenario that
/// calls absolute URLs on other hosts gets one per host.
#[derive(Default)]
pub struct Connections {
    pub(super) open: Vec<(Origin, Connection)>,
    pub(super) notes: SendNotes,
}

/// What the sends since the last [`Connections::take_notes`] did beyond their answers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SendNotes {
    /// Requests sent once more on a fresh connection after a reused one died before a
    /// byte of the answer arrived.
    pub retries: u32,
    /// Body bytes that arrived for sends that then failed (a successful send's are its
    /// [`Exchange::body_len`]).
    pub received: u64,
}

impl Connections {
    /// Sends `out.request` to `out.origin`, reusing this user's connection when it is
    /// still open, and reads the answer.
    ///
    /// A request written to a reused connection that died before a byte of the answer
    /// arrived is sent once more on a fresh connection (unless the connector's
    /// `retry_reused` is off): the server did not answer it, so that is not a second
    /// attempt at anything the server saw through. It is noted in [`SendNotes::retries`],
    /// never as a failure; a request that fails again on the fresh connection fails.
    /// The retried request is timed from the retry's send.
    pub async fn send(
        &mut self,
        connector: &Connector,
        out: &Outgoing<'_>,
    ) -> Result<Exchange, RequestError> {
        let mut answer = None;
        self.send_into(connector, out, &mut answer).await?;
        Ok(answer.expect("a send that succeeds leaves its answer"))
    }

    /// [`Connections::send`], the answer written to `answer` (when it succeeds) instead of
    /// returned: the answer is written once, where its reader keeps it. Returned, it was
    /// copied three times on its way into the virtual user's request (`memcpy` of the
    /// whole answer, three calls a request in callgrind; docs/PERFORMANCE.md, "The answer
    /// written once").
    pub async fn send_into(
        &mut self,
        connector: &Connector,
        out: &Outgoing<'_>,
        answer: &mut Option<Exchange>,
    ) -> Result<(), RequestError> {
        let mut connected = None;
        // The connection carries the request where it lies in `open`, its origin beside
        // it: taking the pair (about 200 bytes) out and putting it back costs about 400
        // instructions per plain GET (`valgrind --tool=callgrind target/release/barrage hit URL -c 10 -n 20000 --workers 1`, docs/PERFORMANCE.md). Only a new connection clones the origin.
        let ready = poll_fn(|cx| Poll::Ready(self.poll_ready_connection(cx, out.origin))).await;
        let at = match ready {
            Some(at) => at,
            None => {
                let (c, timing) = cold(connector.connect(out.origin)).await?;
                connected = Some(timing);
                self.open.push((out.origin.clone(), c));
                self.open.len() - 1
            }
        };
        let mut reused = connected.is_none();
        let mut sent_at = Instant::now();
        // In flight from here (the write) until this returns or is dropped (a hard stop),
        // whatever the answer, retry included.
        let _in_flight = out.in_flight.enter();
        // One deadline for the request, retry or not: a retry after a long stall gets what
        // is left of the timeout, not a new one.
        let deadline = sent_at + out.timeout;
        let keep = out.keep_body.then_some(BodyLimits {
            max_body: out.max_body,
            budget: &connector.body_budget,
        });
        // At most two attempts: the second on a fresh connection. The connection's kind is
        // matched here rather than in a method of `Connection`: one level of futures fewer
        // between the user's task and the socket on every request (docs/PERFORMANCE.md,
        // "The engine against a bare tokio client").
        let result = loop {
            let attempt = match &mut self.open[at].1 {
                Connection::Http1(conn) => h1_result(
                    conn.exchange(out.request.wire(), out.request.head_only(), keep, deadline)
                        .await,
                    out,
                ),
                Connection::Http2(conn) => {
                    h2_result(cold(conn.exchange(out.request, keep, deadline, out.timeout)).await)
                }
            };
            match attempt {
                // Without `retry_reused`, only a request of which not a byte was written
                // goes again: the server never saw it.
                Err(f) if reused && (f.unsent || (connector.retry_reused && f.retryable)) => {
                    match cold(connector.connect(out.origin)).await {
                        Ok((c, timing)) => {
                            connected = Some(timing);
                            self.open[at].1 = c;
                            if !f.unsent {
                                self.notes.retries += 1;
                            }
                            sent_at = Instant::now();
                            reused = false;
                        }
                        Err(e) => {
                            self.open.swap_remove(at);
                            return Err(e);
                        }
                    }
                }
                other => break other,
            }
        };
        let done_at = Instant::now();
        // A failed connection is dropped (in flight or timed out: never reused), and so is
        // one its answer closed.
        if result.is_err() || !self.open[at].1.reusable() {
            self.open.swap_remove(at);
        }
        let response = result.map_err(|f| {
            self.notes.received += f.received;
            f.error
        })?;
        *answer = Some(Exchange::new(
            response,
            Timings {
                sent_at,
                done_at,
                connected,
            },
        ));
        Ok(())
    }

    /// What the sends since the last call retried and received beyond their answers;
    /// starts the count again.
    #[inline]
    pub fn take_notes(&mut self) -> SendNotes {
        std::mem::take(&mut self.notes)
    }

    /// Where this user's open connection to `origin` lies, if it can carry a request now.
    pub(super) async fn ready_connection(&mut self, origin: &Origin) -> Option<usize> {
        poll_fn(|cx| Poll::Ready(self.poll_ready_connection(cx, origin))).await
    }

    /// [`Connections::ready_connection`] from a poll function: what the common path of
    /// [`Connections::send`] calls, without a future of its own.
    fn poll_ready_connection(&mut self, cx: &mut Context<'_>, origin: &Origin) -> Option<usize> {
        let at = self.open.iter().position(|(o, _)| o == origin)?;
        // A connection the server closed while it sat idle is dropped here, before a
        // request is written to it.
        if self.open[at].1.poll_still_open(cx) {
            Some(at)
        } else {
            self.open.swap_remove(at);
            None
        }
    }
}

/// `future` boxed behind a pointer, for the steps of [`Connections::send_into`] few requests
/// take (opening a connection, the retry, an HTTP/2 exchange): their code and state stay
/// out of the poll function every HTTP/1.1 request runs through after each wake-up, where
/// they sat between its hot lines (docs/PERFORMANCE.md, "The answer written once"). One
/// allocation each time, against a connect's system calls or HTTP/2's own allocations.
fn cold<'a, T>(future: impl Future<Output = T> + 'a) -> Pin<Box<dyn Future<Output = T> + 'a>> {
    Box::pin(future)
}

/// Requests written and not yet answered on one worker (a gauge the worker reads once per
/// interval). A plain `Cell`, not an atomic: a worker's users all run on its one thread,
/// so the count costs an increment and a decrement per request and nothing else.
#[derive(Debug, Default)]
pub struct InFlightGauge(Cell<u64>);

impl InFlightGauge {
    /// Requests in flight now.
    pub fn get(&self) -> u64 {
        self.0.get()
    }

    /// Counts one request in flight until the returned mark is dropped.
    #[inline]
    pub(super) fn enter(&self) -> InFlightMark<'_> {
        self.0.set(self.0.get() + 1);
        InFlightMark(&self.0)
    }
}

/// One request in [`InFlightGauge`]'s count, for as long as it lives.
pub(super) struct InFlightMark<'a>(&'a Cell<u64>);

impl Drop for InFlightMark<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// One open connection, of the kind its origin spoke when it was opened.
pub enum Connection {
    Http1(h1::Conn),
    /// Boxed: its state (`h2`'s send handle and frame loop) is larger than HTTP/1.1's, and
    /// the HTTP/1.1 path should not carry it around.
    Http2(Box<h2::Conn>),
}

/// A failed exchange, whatever the kind; `unsent` when not a byte of the request reached
/// the connection, so the server cannot have seen it; `retryable` when, written to a
/// reused connection, it may go once more on a fresh one (see
/// [`h1::Failure::retryable_on_reused`]); `received` the body bytes that still arrived.
struct Failure {
    error: RequestError,
    unsent: bool,
    retryable: bool,
    received: u64,
}

impl Connection {
    /// Whether the connection can carry another request.
    pub(super) fn reusable(&self) -> bool {
        match self {
            Connection::Http1(conn) => conn.reusable(),
            Connection::Http2(conn) => conn.reusable(),
        }
    }

    /// Whether an idle connection is still open (the server may have closed it).
    fn poll_still_open(&mut self, cx: &mut Context<'_>) -> bool {
        match self {
            Connection::Http1(conn) => conn.poll_still_open(cx),
            Connection::Http2(conn) => conn.poll_still_open(cx),
        }
    }
}

/// An HTTP/1.1 exchange's result in the terms every kind shares.
fn h1_result(
    result: Result<h1::Response, h1::Failure>,
    out: &Outgoing<'_>,
) -> Result<Response, Failure> {
    match result {
        Ok(r) => Ok(Response {
            status: r.status,
            head: ResponseHead::Http1(r.head),
            body: r.body,
            kept: r.kept,
            body_len: r.body_len,
        }),
        Err(f) => Err(Failure {
            retryable: f.retryable_on_reused(),
            unsent: f.unsent,
            received: f.received,
            error: f.error.into_request_error(out.timeout),
        }),
    }
}

/// An HTTP/2 exchange's result in the terms every kind shares.
fn h2_result(result: Result<Response, h2::Failure>) -> Result<Response, Failure> {
    result.map_err(|f| Failure {
        error: f.error,
        unsent: f.unsent,
        retryable: f.retryable,
        received: f.received,
    })
}
