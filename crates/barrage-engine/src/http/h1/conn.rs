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
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};

use super::alarm::{bounded, Alarm};
use super::head::{parse_head, Framing, ParsedHead};
use super::{Failure, H1Error, Response, MAX_HEAD};
use crate::http::Stream;

/// How much room a read asks for at least.
const READ_ROOM: usize = 8 * 1024;

/// One HTTP/1.1 connection, owned by one virtual user.
pub struct Conn {
    pub(super) stream: Stream,
    /// Bytes read and not consumed yet. Response heads and kept bodies are split off it
    /// and frozen, so they share its memory; once they are dropped the space is reused.
    pub(super) buf: BytesMut,
    /// False once the connection must not carry another request.
    reusable: bool,
    /// The current request's deadline, on a timer kept from request to request.
    alarm: Alarm,
}

impl Conn {
    pub fn new(stream: Stream) -> Conn {
        Conn {
            stream,
            buf: BytesMut::new(),
            reusable: true,
            alarm: Alarm::default(),
        }
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
        if !self.reusable || !self.buf.is_empty() {
            return false;
        }
        let stream = &mut self.stream;
        poll_fn(|cx| {
            let mut byte = [0u8; 1];
            let mut probe = ReadBuf::new(&mut byte);
            match Pin::new(&mut *stream).poll_read(cx, &mut probe) {
                Poll::Pending => Poll::Ready(true),
                Poll::Ready(_) => Poll::Ready(false),
            }
        })
        .await
    }

    /// Writes `request` (a whole rendered request, see
    /// [`RequestWriter`](super::RequestWriter)) and reads its response; `head_only` for a
    /// HEAD request (no body follows). `keep_body` false counts the body's bytes without
    /// keeping them. Past `deadline`, the exchange fails with [`H1Error::TimedOut`] (and the
    /// connection is not reusable).
    pub async fn exchange(
        &mut self,
        request: &[u8],
        head_only: bool,
        keep_body: bool,
        deadline: std::time::Instant,
    ) -> Result<Response, Failure> {
        self.alarm.set(deadline);
        // Until the request is written the connection is in an unknown state; a failure
        // from here on means it must not be used again.
        self.reusable = false;
        self.write_request(request).await?;
        let response = self
            .read_response(head_only, keep_body)
            .await
            .map_err(|error| Failure {
                error,
                unsent: false,
            })?;
        Ok(response)
    }

    async fn write_request(&mut self, request: &[u8]) -> Result<(), Failure> {
        let mut written = 0;
        while written < request.len() {
            match bounded(&mut self.alarm, self.stream.write(&request[written..])).await {
                Ok(0) => {
                    return Err(Failure {
                        error: H1Error::Closed,
                        unsent: written == 0,
                    })
                }
                Ok(n) => written += n,
                Err(error) => {
                    return Err(Failure {
                        unsent: written == 0 && !matches!(error, H1Error::TimedOut),
                        error,
                    })
                }
            }
        }
        // A TLS stream may hold records back until flushed; for TCP this does nothing.
        bounded(&mut self.alarm, self.stream.flush())
            .await
            .map_err(|error| Failure {
                error,
                unsent: false,
            })
    }

    /// Reads more bytes into the buffer; end of stream is `Ok(0)`.
    pub(super) async fn read_more(&mut self) -> Result<usize, H1Error> {
        if self.buf.capacity() - self.buf.len() < READ_ROOM / 2 {
            self.buf.reserve(READ_ROOM);
        }
        bounded(&mut self.alarm, self.stream.read_buf(&mut self.buf)).await
    }

    async fn read_response(
        &mut self,
        head_only: bool,
        keep_body: bool,
    ) -> Result<Response, H1Error> {
        let head = loop {
            let head = self.read_head().await?;
            if !head.informational() {
                break head;
            }
        };
        let (framing, keep_alive) = head.body(head_only);
        let (body, body_len) = match framing {
            Framing::None => (Bytes::new(), 0),
            Framing::Length(n) => self.read_length(n, keep_body).await?,
            Framing::Chunked => self.read_chunked(keep_body).await?,
            Framing::UntilClose => self.read_to_end(keep_body).await?,
        };
        self.reusable = keep_alive;
        Ok(Response {
            status: head.status,
            version: head.version,
            head: head.head,
            body,
            body_len,
        })
    }

    /// Reads and parses one response head, leaving the buffer at its body.
    async fn read_head(&mut self) -> Result<ParsedHead, H1Error> {
        loop {
            if !self.buf.is_empty() {
                if let Some(head) = parse_head(&mut self.buf)? {
                    return Ok(head);
                }
                if self.buf.len() > MAX_HEAD {
                    return Err(H1Error::Protocol(format!(
                        "response head longer than {MAX_HEAD} bytes"
                    )));
                }
            }
            if self.read_more().await? == 0 {
                return Err(H1Error::Closed);
            }
        }
    }
}
