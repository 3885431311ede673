//! A streamed answer on an HTTP/1.1 connection: the head with the moment its first byte
//! arrived, then the body handed out piece by piece as it arrives (a whole chunk of a
//! chunked body, or what one read brought), for `stream:` steps.
//!
//! Kept apart from the exchange in `conn.rs` and `body.rs` so the plain request path takes
//! no clock reading and no extra branch for it: a step is sent one way or the other, chosen
//! when the plan is compiled. A stream the caller stops reading before its end (`max_events`,
//! its timeout) leaves the connection unusable, since the rest of the body is still on
//! its way; it is closed rather than drained.

use std::time::Instant;

use bytes::{Buf, Bytes};
use http::StatusCode;

use super::head::Framing;
use super::{Conn, Failure, H1Error, Head};
use crate::http::budget::KeepRefused;

/// The head of a streamed answer.
pub struct StreamHead {
    pub status: StatusCode,
    pub head: Head,
    /// When the first byte of the answer (of its head) arrived.
    pub first_byte_at: Instant,
    pub body: BodyPieces,
}

/// Where a streamed body is in its framing.
pub struct BodyPieces {
    state: State,
    /// The connection may carry another request once the body has ended.
    keep_alive: bool,
}

enum State {
    Length(u64),
    Chunked,
    UntilClose,
    Done,
}

impl BodyPieces {
    /// Whether the whole body has been read.
    pub fn ended(&self) -> bool {
        matches!(self.state, State::Done)
    }
}

impl Conn {
    /// Writes `request` and reads its answer's head, noting when the first byte of it came;
    /// the body is then read with [`Conn::next_piece`]. Past `deadline` reading fails with
    /// [`H1Error::TimedOut`].
    pub async fn start_stream(
        &mut self,
        request: &[u8],
        head_only: bool,
        deadline: Instant,
    ) -> Result<StreamHead, Failure> {
        self.begin(deadline);
        self.write_request(request).await?;
        self.read_stream_head(head_only)
            .await
            .map_err(|error| self.failure(error))
    }

    async fn read_stream_head(&mut self, head_only: bool) -> Result<StreamHead, H1Error> {
        // A connection is handed over with an empty buffer (`still_open`), so the first
        // read that brings anything brings the answer's first byte.
        while self.buf.is_empty() {
            if self.read_more().await? == 0 {
                return Err(H1Error::Closed);
            }
        }
        let first_byte_at = Instant::now();
        let mut head = loop {
            let head = self.read_head().await?;
            if !head.informational() {
                break head;
            }
            self.buf.advance(head.len);
        };
        let (framing, keep_alive) = head.body(head_only);
        head.attach(self.buf.split_to(head.len).freeze());
        let state = match framing {
            Framing::None | Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::Chunked,
            Framing::UntilClose => State::UntilClose,
        };
        if matches!(state, State::Done) {
            self.reusable = keep_alive;
        }
        Ok(StreamHead {
            status: head.status,
            head: head.head,
            first_byte_at,
            body: BodyPieces { state, keep_alive },
        })
    }

    /// The next piece of a streamed body, `None` at its end: a whole chunk of a chunked
    /// body (at most `max_chunk` bytes, or the read fails), otherwise what has arrived.
    pub async fn next_piece(
        &mut self,
        body: &mut BodyPieces,
        max_chunk: usize,
    ) -> Result<Option<Bytes>, H1Error> {
        let piece = match body.state {
            State::Done => return Ok(None),
            State::Length(left) => {
                if self.buf.is_empty() && self.read_more().await? == 0 {
                    return Err(H1Error::Closed);
                }
                let here = (self.buf.len() as u64).min(left);
                body.state = match left - here {
                    0 => State::Done,
                    rest => State::Length(rest),
                };
                self.buf.split_to(here as usize).freeze()
            }
            State::UntilClose => {
                if self.buf.is_empty() && self.read_more().await? == 0 {
                    body.state = State::Done;
                    return Ok(None);
                }
                self.buf.split().freeze()
            }
            State::Chunked => {
                let size = loop {
                    match httparse::parse_chunk_size(&self.buf) {
                        Ok(httparse::Status::Complete((used, size))) => {
                            self.buf.advance(used);
                            break size;
                        }
                        Ok(httparse::Status::Partial) if self.buf.len() < 4096 => {
                            if self.read_more().await? == 0 {
                                return Err(H1Error::Closed);
                            }
                        }
                        _ => return Err(H1Error::Protocol("invalid chunk size line".into())),
                    }
                };
                if size == 0 {
                    self.read_trailers().await?;
                    body.state = State::Done;
                    self.reusable = body.keep_alive;
                    return Ok(None);
                }
                if size > max_chunk as u64 {
                    return Err(H1Error::BodyLimit(KeepRefused::TooLong {
                        len: size,
                        max: max_chunk,
                    }));
                }
                let size = size as usize;
                while self.buf.len() < size + 2 {
                    if self.read_more().await? == 0 {
                        return Err(H1Error::Closed);
                    }
                }
                if &self.buf[size..size + 2] != b"\r\n" {
                    return Err(H1Error::Protocol("chunk not followed by CRLF".into()));
                }
                let chunk = self.buf.split_to(size).freeze();
                self.buf.advance(2);
                chunk
            }
        };
        self.received += piece.len() as u64;
        if body.ended() {
            self.reusable = body.keep_alive;
        }
        Ok(Some(piece))
    }
}
