//! One HTTP/1.1 connection and its exchange loop: write the request, read the answer's
//! head (skipping informational answers), read its body as the head frames it, and decide
//! whether the connection may carry another request.
//!
//! The connection is driven by the virtual user's own task: no connection task, no
//! channel. It owns one read buffer for its whole life; response heads and kept bodies
//! are split off it and share its memory. Must not: reuse a connection after any failure,
//! or after an answer whose end could not be told apart from the next one's start.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::AsyncWrite;
use tokio_util::io::poll_read_buf;

use super::alarm::Alarm;
use super::head::{parse_head_in, Framing, ParsedHead};
use super::{Failure, H1Error, Response, BODY_START, MAX_HEAD};
use crate::http::{BodyLimits, Stream};

/// How much room a read asks for at least.
const READ_ROOM: usize = 8 * 1024;

/// One HTTP/1.1 connection, owned by one virtual user.
pub struct Conn {
    pub(super) stream: Stream,
    /// Bytes read and not consumed yet. Response heads and kept bodies are split off it
    /// and frozen, so they share its memory; once they are dropped the space is reused.
    pub(super) buf: BytesMut,
    /// False once the connection must not carry another request.
    pub(super) reusable: bool,
    /// The current request's deadline, on a timer kept from request to request.
    pub(super) alarm: Alarm,
    /// The most bytes a response head may take, however TCP splits it.
    max_head: usize,
    /// Body bytes of the current answer read so far: what a failed request still counts
    /// as received.
    pub(super) received: u64,
    /// A byte of the current answer has arrived (a reused connection that dies before one
    /// did may take the request again on a fresh one).
    pub(super) answered: bool,
}

impl Conn {
    pub fn new(stream: Stream) -> Conn {
        Conn {
            stream,
            buf: BytesMut::new(),
            reusable: true,
            alarm: Alarm::default(),
            max_head: MAX_HEAD,
            received: 0,
            answered: false,
        }
    }

    /// The most bytes a response head may take (default [`MAX_HEAD`]): a longer head fails
    /// its request whether it arrived in one segment or byte by byte.
    pub fn with_max_head(mut self, max_head: usize) -> Conn {
        self.max_head = max_head;
        self
    }

    /// Body bytes of the current answer read so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The byte stream of a connection no request has used yet, for a protocol that takes
    /// it over from the start (a WebSocket, whose upgrade `http/ws.rs` writes itself).
    pub fn into_stream(self) -> Stream {
        self.stream
    }

    /// Whether the connection can carry another request.
    pub fn reusable(&self) -> bool {
        self.reusable
    }

    /// Whether an idle kept-alive connection is still open: it is not once the server
    /// has closed it (end of stream, a reset) or sent something nobody asked for (say a
    /// 408 before closing). Costs no system call while nothing has arrived, since the
    /// runtime knows the socket is not readable.
    pub async fn still_open(&mut self) -> bool {
        poll_fn(|cx| Poll::Ready(self.poll_still_open(cx))).await
    }

    /// [`Conn::still_open`] from a poll function.
    pub(crate) fn poll_still_open(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.reusable || !self.buf.is_empty() {
            return false;
        }
        self.stream.poll_idle_open(cx)
    }

    /// Writes `request` (a whole rendered request, see
    /// [`RequestWriter`](super::RequestWriter)) and reads its response; `head_only` for a
    /// HEAD request (no body follows). With `keep` the body is kept within those limits;
    /// without, its bytes are counted and dropped as they stream (its first
    /// [`BODY_START`](super::BODY_START) bytes are kept either way). Past `deadline`, the
    /// exchange fails with [`H1Error::TimedOut`] (and the connection is not reusable).
    ///
    /// The write and the head are one poll function ([`Conn::poll_answer_head`]), and an
    /// answer whose body came with its head (the usual small API answer) is finished
    /// without another poll; only a body still on its way is read by the async readers of
    /// `body.rs`, in a future of its own on the heap. On the common path this future is
    /// the only one between the caller and the socket: nested async functions, one per
    /// step of the exchange, cost their states' moves and dispatch on every request
    /// (docs/PERFORMANCE.md, "The exchange as poll functions").
    pub async fn exchange(
        &mut self,
        request: &[u8],
        head_only: bool,
        keep: Option<BodyLimits<'_>>,
        deadline: std::time::Instant,
    ) -> Result<Response, Failure> {
        self.begin(deadline);
        let mut written = Some(0);
        let mut head = poll_fn(|cx| self.poll_answer_head(cx, request, &mut written)).await?;
        let (framing, keep_alive) = head.body(head_only);
        // The start of a length-framed body nobody keeps goes with the head, in one split.
        let start = match (framing, keep) {
            (Framing::Length(n), None) => n.min(BODY_START as u64) as usize,
            _ => 0,
        };
        let body = match self.body_in_buffer(&head, framing, keep) {
            // The whole body came with the head: no other poll.
            Some(len) => {
                head.attach(self.buf.split_to(head.len + start).freeze());
                self.received = len as u64;
                match keep {
                    Some(_) => self.buf.split_to(len).freeze(),
                    None => {
                        self.buf.advance(len - start);
                        Bytes::new()
                    }
                }
            }
            // A body still on its way: its readers' state (1.3 KB) is boxed rather than
            // carried in every exchange's future, which each wake-up of the user reads
            // from; one allocation against the reads still to come (docs/PERFORMANCE.md,
            // "The answer written once").
            None => Box::pin(self.read_body(&mut head, framing, start, keep))
                .await
                .map_err(|error| self.failure(error))?,
        };
        self.reusable = keep_alive;
        Ok(Response {
            status: head.status,
            version: head.version,
            head: head.head,
            body,
            kept: keep.is_some(),
            body_len: self.received,
        })
    }

    /// Readies the connection for a request due by `deadline`.
    pub(super) fn begin(&mut self, deadline: std::time::Instant) {
        self.alarm.set(deadline);
        // Nothing left over from the last answer, and its bytes (split off this buffer)
        // dropped: the next answer is read to the start of the buffer again, into memory
        // the last one warmed, not into the next cold stretch of it. Never allocates.
        if self.buf.is_empty() {
            let _ = self.buf.try_reclaim(READ_ROOM);
        }
        // Until the request is written the connection is in an unknown state; a failure
        // from here on means it must not be used again.
        self.reusable = false;
        self.received = 0;
        self.answered = false;
    }

    /// A failure once the request is written.
    pub(super) fn failure(&self, error: H1Error) -> Failure {
        Failure {
            error,
            unsent: false,
            answered: self.answered,
            received: self.received,
        }
    }

    /// Writes what is left of `request` (from `*written`, `None` once it is all written and
    /// flushed), then reads the answer's head, skipping informational answers.
    fn poll_answer_head(
        &mut self,
        cx: &mut Context<'_>,
        request: &[u8],
        written: &mut Option<usize>,
    ) -> Poll<Result<ParsedHead, Failure>> {
        if let Some(at) = written {
            ready!(self.poll_write_request(cx, request, at))?;
            *written = None;
        }
        loop {
            let head = ready!(self.poll_head(cx)).map_err(|error| self.failure(error))?;
            if !head.informational() {
                return Poll::Ready(Ok(head));
            }
            self.buf.advance(head.len);
        }
    }

    /// The length of the body after `head` when all of it is in the buffer already (no
    /// body, or one framed by a length that came with the head); `None` when more must be
    /// read, or when a body to keep is over its cap (`read_body` says so).
    #[inline]
    fn body_in_buffer(
        &self,
        head: &ParsedHead,
        framing: Framing,
        keep: Option<BodyLimits<'_>>,
    ) -> Option<usize> {
        let len = match framing {
            Framing::None => 0,
            Framing::Length(n) => n,
            Framing::Chunked | Framing::UntilClose => return None,
        };
        let buffered = (self.buf.len() - head.len) as u64;
        if len > buffered || keep.is_some_and(|k| len > k.max_body as u64) {
            return None;
        }
        Some(len as usize)
    }

    /// Reads the body after `head` (at the start of the buffer), however it is framed,
    /// splitting the head off with the body's first `start` bytes.
    async fn read_body(
        &mut self,
        head: &mut ParsedHead,
        framing: Framing,
        start: usize,
        keep: Option<BodyLimits<'_>>,
    ) -> Result<Bytes, H1Error> {
        while self.buf.len() < head.len + start {
            if self.read_more().await? == 0 {
                self.received = (self.buf.len() - head.len) as u64;
                return Err(H1Error::Closed);
            }
        }
        head.attach(self.buf.split_to(head.len + start).freeze());
        self.received = start as u64;
        Ok(match framing {
            Framing::None => Bytes::new(),
            // What is left of it (all of it, when kept: then no start was split off).
            Framing::Length(n) => self.read_length(n - start as u64, keep).await?,
            Framing::Chunked => self.read_chunked(keep).await?,
            Framing::UntilClose => self.read_to_end(keep).await?,
        })
    }

    /// Writes what is left of `request` from `*written`, then flushes (a TLS stream may
    /// hold records back until then; for TCP that does nothing).
    fn poll_write_request(
        &mut self,
        cx: &mut Context<'_>,
        request: &[u8],
        written: &mut usize,
    ) -> Poll<Result<(), Failure>> {
        let unwritten = |error| Failure {
            error,
            unsent: false,
            answered: false,
            received: 0,
        };
        while *written < request.len() {
            let polled = Pin::new(&mut self.stream).poll_write(cx, &request[*written..]);
            match ready!(self.alarm.bound(cx, polled)) {
                Ok(0) => {
                    return Poll::Ready(Err(Failure {
                        unsent: *written == 0,
                        ..unwritten(H1Error::Closed)
                    }))
                }
                Ok(n) => *written += n,
                Err(error) => {
                    return Poll::Ready(Err(Failure {
                        unsent: *written == 0 && !matches!(error, H1Error::TimedOut),
                        ..unwritten(error)
                    }))
                }
            }
        }
        let polled = Pin::new(&mut self.stream).poll_flush(cx);
        self.alarm.bound(cx, polled).map_err(unwritten)
    }

    /// Writes `request`, then flushes.
    pub(super) async fn write_request(&mut self, request: &[u8]) -> Result<(), Failure> {
        let mut written = 0;
        poll_fn(|cx| self.poll_write_request(cx, request, &mut written)).await
    }

    /// Reads more bytes into the buffer; end of stream is `Ok(0)`.
    fn poll_read_more(&mut self, cx: &mut Context<'_>) -> Poll<Result<usize, H1Error>> {
        if self.buf.capacity() - self.buf.len() < READ_ROOM / 2 {
            self.buf.reserve(READ_ROOM);
        }
        let polled = poll_read_buf(Pin::new(&mut self.stream), cx, &mut self.buf);
        let n = ready!(self.alarm.bound(cx, polled))?;
        self.answered |= n > 0;
        Poll::Ready(Ok(n))
    }

    /// Reads more bytes into the buffer; end of stream is `Ok(0)`.
    pub(super) async fn read_more(&mut self) -> Result<usize, H1Error> {
        poll_fn(|cx| self.poll_read_more(cx)).await
    }

    /// Reads and parses one response head, leaving it at the start of the buffer.
    ///
    /// The size limit is one rule for the whole head, whatever the segments it came in: a
    /// head parsed whole from one read is held to it as much as one still growing (before,
    /// a 100,000-byte head passed when it came in one write and failed in two).
    fn poll_head(&mut self, cx: &mut Context<'_>) -> Poll<Result<ParsedHead, H1Error>> {
        loop {
            if !self.buf.is_empty() {
                if let Some(head) = parse_head_in(&self.buf)? {
                    if head.len > self.max_head {
                        return Poll::Ready(Err(self.head_too_long()));
                    }
                    return Poll::Ready(Ok(head));
                }
                if self.buf.len() > self.max_head {
                    return Poll::Ready(Err(self.head_too_long()));
                }
            }
            if ready!(self.poll_read_more(cx))? == 0 {
                return Poll::Ready(Err(H1Error::Closed));
            }
        }
    }

    /// Reads and parses one response head, leaving it at the start of the buffer.
    pub(super) async fn read_head(&mut self) -> Result<ParsedHead, H1Error> {
        poll_fn(|cx| self.poll_head(cx)).await
    }

    pub(super) fn max_head(&self) -> usize {
        self.max_head
    }

    fn head_too_long(&self) -> H1Error {
        H1Error::Protocol(format!(
            "response head longer than {} bytes (the limit is set by --max-head-size)",
            self.max_head
        ))
    }
}
