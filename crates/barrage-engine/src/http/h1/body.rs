//! Reading a response body as its head frames it: a length, chunks (with extensions and
//! trailers), or until the server closes. A body is kept (for saves, checks and `--debug`)
//! or only counted; a kept body is capped at [`MAX_KEPT_BODY`], and a server's announced
//! length alone never makes an allocation of that size.

use bytes::{Buf, Bytes, BytesMut};

use super::{Conn, H1Error, MAX_HEAD, MAX_KEPT_BODY};

fn kept_too_long(len: u64) -> H1Error {
    H1Error::Protocol(format!(
        "a body of {len} bytes, over the {} MiB barrage keeps for saves and checks",
        MAX_KEPT_BODY >> 20
    ))
}

impl Conn {
    pub(super) async fn read_length(
        &mut self,
        len: u64,
        keep: bool,
    ) -> Result<(Bytes, u64), H1Error> {
        if keep {
            let want = usize::try_from(len)
                .ok()
                .filter(|&n| n <= MAX_KEPT_BODY)
                .ok_or_else(|| kept_too_long(len))?;
            if self.buf.len() < want {
                // Room for the body as announced, but not more than a read's worth ahead:
                // the server's number alone never makes a huge allocation.
                self.buf.reserve((want - self.buf.len()).min(1 << 20));
            }
            while self.buf.len() < want {
                if self.read_more().await? == 0 {
                    return Err(H1Error::Closed);
                }
            }
            return Ok((self.buf.split_to(want).freeze(), len));
        }
        self.skip(len).await?;
        Ok((Bytes::new(), len))
    }

    /// Consumes `len` body bytes without keeping them.
    async fn skip(&mut self, len: u64) -> Result<(), H1Error> {
        let mut left = len;
        loop {
            let here = (self.buf.len() as u64).min(left);
            self.buf.advance(here as usize);
            left -= here;
            if left == 0 {
                return Ok(());
            }
            if self.read_more().await? == 0 {
                return Err(H1Error::Closed);
            }
        }
    }

    pub(super) async fn read_chunked(&mut self, keep: bool) -> Result<(Bytes, u64), H1Error> {
        let mut kept = BytesMut::new();
        let mut total = 0u64;
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
                return Ok((kept.freeze(), total));
            }
            total = total.saturating_add(size);
            if keep && total > MAX_KEPT_BODY as u64 {
                return Err(kept_too_long(total));
            }
            if keep {
                while (self.buf.len() as u64) < size {
                    if self.read_more().await? == 0 {
                        return Err(H1Error::Closed);
                    }
                }
                kept.extend_from_slice(&self.buf[..size as usize]);
                self.buf.advance(size as usize);
            } else {
                self.skip(size).await?;
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
    async fn read_trailers(&mut self) -> Result<(), H1Error> {
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
                Ok(httparse::Status::Partial) if self.buf.len() <= MAX_HEAD => {}
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

    pub(super) async fn read_to_end(&mut self, keep: bool) -> Result<(Bytes, u64), H1Error> {
        let mut total = 0u64;
        let mut kept = BytesMut::new();
        loop {
            total += self.buf.len() as u64;
            if keep {
                if total > MAX_KEPT_BODY as u64 {
                    return Err(kept_too_long(total));
                }
                kept.extend_from_slice(&self.buf);
            }
            self.buf.clear();
            if self.read_more().await? == 0 {
                return Ok((kept.freeze(), total));
            }
        }
    }
}
