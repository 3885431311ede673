//! Reading a response body as its head frames it: a length, chunks (with extensions and
//! trailers), or until the server closes. A body is kept (for saves, checks and `--debug`)
//! within [`BodyLimits`], or only counted and dropped as it streams; either way its first
//! [`BODY_START`] bytes are kept for failure samples, and every byte is counted in
//! `Conn::received`, so a request that fails half way still counts what arrived.
//!
//! A kept body that arrived whole in the read buffer is split off it (no copy, nothing
//! charged: the buffer is the connection's own); one that needs more reads grows in a
//! [`KeptBody`] within the per-response cap and the process's budget (`http/budget.rs`).
//! The start of a body nobody keeps is split off the read buffer too: with the head, for a
//! body framed by a length (`conn.rs`), here for the others, copied only when the first
//! chunk of a chunked body is shorter than [`BODY_START`].

use bytes::{Buf, Bytes, BytesMut};

use super::{Conn, H1Error, BODY_START};
use crate::http::budget::{BodyLimits, KeepRefused, KeptBody};

fn refused(why: KeepRefused) -> H1Error {
    H1Error::BodyLimit(why)
}

impl Conn {
    /// A body of `len` bytes: kept, or (`keep` none) counted and dropped.
    pub(super) async fn read_length(
        &mut self,
        len: u64,
        keep: Option<BodyLimits<'_>>,
    ) -> Result<Bytes, H1Error> {
        let Some(limits) = keep else {
            self.skip(len).await?;
            return Ok(Bytes::new());
        };
        let want = usize::try_from(len)
            .ok()
            .filter(|&n| n <= limits.max_body)
            .ok_or(refused(KeepRefused::TooLong {
                len,
                max: limits.max_body,
            }))?;
        if self.buf.len() >= want {
            self.received += len;
            return Ok(self.buf.split_to(want).freeze());
        }
        let mut kept = KeptBody::new(limits);
        kept.expect(len).map_err(refused)?;
        while kept.len() < want {
            if self.buf.is_empty() && self.read_more().await? == 0 {
                return Err(H1Error::Closed);
            }
            let here = self.buf.len().min(want - kept.len());
            kept.push(&self.buf[..here]).map_err(refused)?;
            self.buf.advance(here);
            self.received += here as u64;
        }
        Ok(kept.finish())
    }

    /// Consumes `len` body bytes without keeping them.
    async fn skip(&mut self, len: u64) -> Result<(), H1Error> {
        let mut left = len;
        loop {
            let here = (self.buf.len() as u64).min(left);
            self.buf.advance(here as usize);
            self.received += here;
            left -= here;
            if left == 0 {
                return Ok(());
            }
            if self.read_more().await? == 0 {
                return Err(H1Error::Closed);
            }
        }
    }

    /// Consumes up to `len` bytes of the body in the buffer (at least one when `len` > 0,
    /// reading if need be), keeping them in `kept` or, not kept, noting them in `start`.
    /// Returns how many were consumed.
    async fn take_some(
        &mut self,
        len: u64,
        kept: &mut Option<KeptBody<'_>>,
        start: &mut Bytes,
    ) -> Result<u64, H1Error> {
        if self.buf.is_empty() && self.read_more().await? == 0 {
            return Err(H1Error::Closed);
        }
        let here = (self.buf.len() as u64).min(len) as usize;
        match kept {
            Some(k) => {
                k.push(&self.buf[..here]).map_err(refused)?;
                self.buf.advance(here);
            }
            None if start.len() < BODY_START => {
                let take = here.min(BODY_START - start.len());
                if start.is_empty() {
                    *start = self.buf.split_to(take).freeze();
                } else {
                    // Only when the first chunk was shorter than the start: rare.
                    let mut joined = BytesMut::with_capacity(start.len() + take);
                    joined.extend_from_slice(start);
                    joined.extend_from_slice(&self.buf[..take]);
                    self.buf.advance(take);
                    *start = joined.freeze();
                }
                self.buf.advance(here - take);
            }
            None => self.buf.advance(here),
        }
        self.received += here as u64;
        Ok(here as u64)
    }

    pub(super) async fn read_chunked(
        &mut self,
        keep: Option<BodyLimits<'_>>,
    ) -> Result<Bytes, H1Error> {
        let mut kept = keep.map(KeptBody::new);
        let mut start = Bytes::new();
        loop {
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
                return Ok(kept.map_or(start, KeptBody::finish));
            }
            if let (Some(k), Some(limits)) = (&kept, keep) {
                let len = (k.len() as u64).saturating_add(size);
                if len > limits.max_body as u64 {
                    return Err(refused(KeepRefused::TooLong {
                        len,
                        max: limits.max_body,
                    }));
                }
            }
            let mut left = size;
            while left > 0 {
                left -= self.take_some(left, &mut kept, &mut start).await?;
            }
            while self.buf.len() < 2 {
                if self.read_more().await? == 0 {
                    return Err(H1Error::Closed);
                }
            }
            if &self.buf[..2] != b"\r\n" {
                return Err(H1Error::Protocol("chunk not followed by CRLF".into()));
            }
            self.buf.advance(2);
        }
    }

    /// Consumes the trailer section after the last chunk (usually just the empty line).
    pub(super) async fn read_trailers(&mut self) -> Result<(), H1Error> {
        loop {
            if self.buf.starts_with(b"\r\n") {
                self.buf.advance(2);
                return Ok(());
            }
            let mut slots = [httparse::EMPTY_HEADER; 32];
            match httparse::parse_headers(&self.buf, &mut slots) {
                Ok(httparse::Status::Complete((used, _))) => {
                    self.buf.advance(used);
                    return Ok(());
                }
                Ok(httparse::Status::Partial) if self.buf.len() <= self.max_head() => {}
                Ok(httparse::Status::Partial) => {
                    return Err(H1Error::Protocol("trailers too long".into()))
                }
                Err(e) => return Err(H1Error::Protocol(format!("invalid trailer: {e}"))),
            }
            if self.read_more().await? == 0 {
                return Err(H1Error::Closed);
            }
        }
    }

    pub(super) async fn read_to_end(
        &mut self,
        keep: Option<BodyLimits<'_>>,
    ) -> Result<Bytes, H1Error> {
        let mut kept = keep.map(KeptBody::new);
        let mut start = Bytes::new();
        loop {
            match self.take_some(u64::MAX, &mut kept, &mut start).await {
                Ok(_) => {}
                Err(H1Error::Closed) => return Ok(kept.map_or(start, KeptBody::finish)),
                Err(e) => return Err(e),
            }
        }
    }
}
