//! The lean HTTP/1.1 connection kind: one request at a time, written and read by the
//! virtual user's own task.
//!
//! hyper's client runs each connection as a task of its own and hands requests and
//! responses to it through channels: two task wake-ups, a channel message and a oneshot
//! per request, plus a copy of every request into its buffer. A load generator pays that
//! on every request; measured, the lean path here costs about a third less CPU per
//! request (docs/PERFORMANCE.md, "The HTTP path"). Here the user's task writes the request (one
//! `write` of bytes rendered into a reused buffer) and parses the answer with
//! `httparse` out of a reused read buffer; header values are slices of that buffer, not
//! copies. Everything HTTP/1.1 framing asks of a client is here: content-length,
//! chunked (with trailers), bodies delimited by the connection closing, no body for HEAD,
//! 1xx, 204 and 304, informational responses skipped, keep-alive by version and
//! `connection` header. `tests/h1_differential.rs` holds it to hyper's answers on the
//! same bytes.
//!
//! By concern:
//! - `write.rs`: the request, written through the protocol-neutral
//!   [`RequestSink`](crate::http::RequestSink);
//! - `conn.rs`: the connection and its exchange loop;
//! - `head.rs`: parsing a response head, and how the body after it is framed;
//! - `body.rs`: reading a body by its framing, kept or only counted;
//! - `alarm.rs`: the response deadline, one timer per connection.
//!
//! Nothing outside `http/` uses this module: a virtual user speaks to `http/`'s
//! protocol-neutral face, and [`Connection`](crate::http::Connection) wraps [`Conn`] as one
//! kind among the kinds a connection can be. It is public for `tests/h1_differential.rs`
//! and the benches, which hold this kind's own parts to hyper and to the clock.

mod alarm;
mod body;
mod conn;
mod head;
mod observed;
mod write;

use std::io;
use std::time::Duration;

use bytes::Bytes;
use http::{StatusCode, Version};

pub use conn::Conn;
pub use head::{parse_head, Head, ParsedHead};
pub use observed::{BodyPieces, StreamHead};
pub use write::{parse_request, RequestWriter};

use super::budget::KeepRefused;
use super::RequestError;

/// The most bytes a response head may take by default (`--max-head-size` sets it): the
/// status line, the header lines and the empty line, however TCP splits them. hyper's
/// default limit is larger, but no API answers with 64 KiB of headers, and a bound keeps a
/// broken server from growing the buffer without end.
pub const MAX_HEAD: usize = 64 * 1024;
/// The most header lines a response may have.
pub const MAX_HEADERS: usize = 128;
/// How much of the start of every body is kept, kept body or not: what failure samples
/// show of an answer.
pub const BODY_START: usize = 1024;

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum H1Error {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(io::Error),
    /// The server closed the connection before the response was complete.
    #[error("the server closed the connection before the response was complete")]
    Closed,
    /// The response did not arrive whole before the deadline.
    #[error("no complete response before the deadline")]
    TimedOut,
    /// The server's bytes are not an HTTP/1.x response.
    #[error("invalid response: {0}")]
    Protocol(String),
    /// A body to keep was over its cap, or over what the process may keep.
    #[error("{0}")]
    BodyLimit(KeepRefused),
}

/// A failed exchange; `unsent` when not a byte of the request reached the connection, so
/// the server cannot have seen it and a fresh connection may try it again; `answered` once
/// any byte of the answer arrived; `received` the body bytes read before it failed.
#[derive(Debug)]
pub struct Failure {
    pub error: H1Error,
    pub unsent: bool,
    pub answered: bool,
    pub received: u64,
}

impl Failure {
    /// Whether a request that failed so on a *reused* connection may go once more on a
    /// fresh one: none of it was written, or the connection ended (end of stream, a reset)
    /// before a byte of the answer. A server that sent no byte of an answer did not answer
    /// the request; the usual cause is a kept-alive connection the server closed as the
    /// request was on its way (curl, hyper and browsers retry these too). A timeout is
    /// never retried: the server may still be working on the request.
    pub fn retryable_on_reused(&self) -> bool {
        if self.unsent {
            return true;
        }
        !self.answered
            && match &self.error {
                H1Error::Closed => true,
                H1Error::Io(e) => matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::BrokenPipe
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::UnexpectedEof
                ),
                _ => false,
            }
    }
}

/// A complete response.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub version: Version,
    pub head: Head,
    /// The body, when the caller asked to keep it (`kept`); otherwise its first
    /// [`BODY_START`] bytes at most, or nothing when they came with the head
    /// ([`Head::body_start`]: a body framed by a length).
    pub body: Bytes,
    pub kept: bool,
    /// The body's length in bytes (decoded, for a chunked body).
    pub body_len: u64,
}

impl H1Error {
    /// The request's failure, as counted; `timeout` is the one the exchange was given.
    pub(crate) fn into_request_error(self, timeout: Duration) -> RequestError {
        match self {
            H1Error::Io(e) => RequestError::Io(e),
            H1Error::Closed => RequestError::Closed,
            H1Error::Protocol(m) => RequestError::Protocol(m),
            H1Error::TimedOut => RequestError::ResponseTimeout(timeout),
            H1Error::BodyLimit(why @ KeepRefused::TooLong { .. }) => {
                RequestError::Protocol(why.to_string())
            }
            H1Error::BodyLimit(why @ KeepRefused::OverBudget { .. }) => {
                RequestError::BodyMemory(why.to_string())
            }
        }
    }
}
