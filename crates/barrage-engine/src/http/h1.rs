//! The lean HTTP/1.1 connection: one request at a time, written and read by the virtual
//! user's own task.
//!
//! hyper's client runs each connection as a task of its own and hands requests and
//! responses to it through channels: two task wake-ups, a channel message and a oneshot
//! per request, plus a copy of every request into its buffer. A load generator pays that
//! on every request; measured, the lean path here costs about a third less CPU per
//! request (docs/PERFORMANCE.md, "The HTTP path"). Here the user's task writes the request (one
//! `write` of bytes serialized into a reused buffer) and parses the answer with
//! `httparse` out of a reused read buffer; header values are slices of that buffer, not
//! copies. Everything HTTP/1.1 framing asks of a client is here: content-length,
//! chunked (with trailers), bodies delimited by the connection closing, no body for HEAD,
//! 1xx, 204 and 304, informational responses skipped, keep-alive by version and
//! `connection` header. `tests/h1_differential.rs` holds it to hyper's answers on the
//! same bytes.

use std::future::{poll_fn, Future};
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// The most bytes a response head may take; hyper's default limit is larger, but no
/// API answers with 64 KiB of headers, and a bound keeps a broken server from growing
/// the buffer without end.
pub const MAX_HEAD: usize = 64 * 1024;
/// The most header lines a response may have.
pub const MAX_HEADERS: usize = 128;
/// The largest body kept for saves and checks (bodies nothing reads are counted, never
/// kept, whatever their size).
pub const MAX_KEPT_BODY: usize = 256 << 20;

fn kept_too_long(len: u64) -> H1Error {
    H1Error::Protocol(format!(
        "a body of {len} bytes, over the {} MiB barrage keeps for saves and checks",
        MAX_KEPT_BODY >> 20
    ))
}

/// How much room a read asks for at least.
const READ_ROOM: usize = 8 * 1024;

/// A connection's byte stream: plain TCP, or TLS over TCP.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

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
}

/// A failed exchange; `unsent` when not a byte of the request reached the connection, so
/// the server cannot have seen it and a fresh connection may try it again.
#[derive(Debug)]
pub struct Failure {
    pub error: H1Error,
    pub unsent: bool,
}

/// A response head as it arrived: the bytes of the status line and header lines, shared
/// with the connection's read buffer. Most requests never look at a header, so the
/// `HeaderMap` is built only when asked for ([`Head::header_map`]); the few headers the
/// client itself needs (framing, keep-alive) are read while parsing.
#[derive(Debug, Clone, Default)]
pub struct Head {
    bytes: Bytes,
    /// A `set-cookie` header is present (noted while parsing: the cookie jar asks after
    /// every response).
    set_cookie: bool,
}

impl Head {
    /// Whether the response sets a cookie.
    pub fn sets_cookie(&self) -> bool {
        self.set_cookie
    }

    /// The header lines, in order, as the parser sees them; `visit` returns false to stop.
    fn each(&self, mut visit: impl FnMut(&str, &[u8]) -> bool) {
        let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut []);
        // The bytes parsed once already; parsing them again cannot fail.
        if httparse::ParserConfig::default()
            .parse_response_with_uninit_headers(&mut response, &self.bytes, &mut slots)
            .is_ok()
        {
            for h in response.headers.iter() {
                if !visit(h.name, h.value) {
                    return;
                }
            }
        }
    }

    /// The first value of the header `name` (any case).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        let base = self.bytes.as_ptr() as usize;
        let mut found = None;
        self.each(|n, v| {
            if n.eq_ignore_ascii_case(name) {
                let at = v.as_ptr() as usize - base;
                found = Some(at..at + v.len());
            }
            found.is_none()
        });
        found.map(|r| &self.bytes[r])
    }

    /// All headers as a `HeaderMap`, in order, repeats kept; the values share the head's
    /// memory rather than copying it.
    pub fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        let base = self.bytes.as_ptr() as usize;
        self.each(|name, value| {
            let at = value.as_ptr() as usize - base;
            // httparse accepts exactly the bytes `http` accepts in names and values.
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_maybe_shared(self.bytes.slice(at..at + value.len())),
            ) {
                map.append(name, value);
            }
            true
        });
        map
    }
}

/// A complete response.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub version: Version,
    pub head: Head,
    /// The body, when the caller asked to keep it; otherwise empty.
    pub body: Bytes,
    /// The body's length in bytes (decoded, for a chunked body).
    pub body_len: u64,
}

/// What the client itself needs of a response's headers, read while parsing it.
#[derive(Debug, Default)]
struct Fields {
    content_length: Option<u64>,
    /// `transfer-encoding` is present; its last coding is chunked.
    transfer_encoding: bool,
    chunked: bool,
    close: bool,
    keep_alive: bool,
    set_cookie: bool,
}

impl Fields {
    fn read(&mut self, name: &str, value: &[u8]) -> Result<(), H1Error> {
        let tokens = || value.split(|&b| b == b',').map(|t| t.trim_ascii());
        if name.eq_ignore_ascii_case("content-length") {
            for part in tokens() {
                let n = std::str::from_utf8(part)
                    .ok()
                    .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|s| s.parse::<u64>().ok())
                    .ok_or_else(|| H1Error::Protocol("invalid content-length".into()))?;
                if self.content_length.is_some_and(|l| l != n) {
                    return Err(H1Error::Protocol(
                        "conflicting content-length values".into(),
                    ));
                }
                self.content_length = Some(n);
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            self.transfer_encoding = true;
            if let Some(last) = tokens().next_back() {
                self.chunked = last.eq_ignore_ascii_case(b"chunked");
            }
        } else if name.eq_ignore_ascii_case("set-cookie") {
            self.set_cookie = true;
        } else if name.eq_ignore_ascii_case("connection") {
            for t in tokens() {
                self.close |= t.eq_ignore_ascii_case(b"close");
                self.keep_alive |= t.eq_ignore_ascii_case(b"keep-alive");
            }
        }
        Ok(())
    }
}

/// How a response's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// One HTTP/1.1 connection, owned by one virtual user.
pub struct Conn {
    stream: Stream,
    /// Bytes read and not consumed yet. Response heads and kept bodies are split off it
    /// and frozen, so they share its memory; once they are dropped the space is reused.
    buf: BytesMut,
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

    /// Writes `request` (a whole serialized request, see [`RequestWriter`]) and reads its
    /// response; `head_only` for a HEAD request (no body follows). `keep_body` false counts
    /// the body's bytes without keeping them. Past `deadline`, the exchange fails with
    /// [`H1Error::TimedOut`] (and the connection is not reusable).
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
    async fn read_more(&mut self) -> Result<usize, H1Error> {
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
        loop {
            let (status, version, head, fields) = self.read_head().await?;
            let code = status.as_u16();
            // Informational answers come before the real one (101 ends HTTP/1 on this
            // connection, and is the answer).
            if (100..200).contains(&code) && code != 101 {
                continue;
            }
            let framing = framing(head_only, status, &fields);
            // Both framings at once (RFC 9112 6.3: transfer-encoding wins) is how request
            // smuggling starts: read the body, then close.
            let ambiguous = fields.transfer_encoding && fields.content_length.is_some();
            let mut keep_alive =
                keep_alive(version, &fields) && framing != Framing::UntilClose && !ambiguous;
            if code == 101 {
                keep_alive = false;
            }
            let (body, body_len) = match framing {
                Framing::None => (Bytes::new(), 0),
                Framing::Length(n) => self.read_length(n, keep_body).await?,
                Framing::Chunked => self.read_chunked(keep_body).await?,
                Framing::UntilClose => self.read_to_end(keep_body).await?,
            };
            self.reusable = keep_alive;
            return Ok(Response {
                status,
                version,
                head,
                body,
                body_len,
            });
        }
    }

    /// Reads and parses one response head, leaving the buffer at its body.
    async fn read_head(&mut self) -> Result<(StatusCode, Version, Head, Fields), H1Error> {
        loop {
            if !self.buf.is_empty() {
                if let Some(p) = parse_head(&mut self.buf)? {
                    return Ok((p.status, p.version, p.head, p.fields));
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

    async fn read_length(&mut self, len: u64, keep: bool) -> Result<(Bytes, u64), H1Error> {
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

    async fn read_chunked(&mut self, keep: bool) -> Result<(Bytes, u64), H1Error> {
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

    async fn read_to_end(&mut self, keep: bool) -> Result<(Bytes, u64), H1Error> {
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

/// A response deadline without a timer operation per request.
///
/// `tokio::time::timeout` registers a timer and removes it again for every request (a
/// lock and two wheel operations; this alarm saved 340 instructions per request,
/// measured with callgrind, docs/PERFORMANCE.md). A
/// connection carries one request at a time, so one timer per connection suffices: it
/// stays armed at a deadline no later than the current request's, and when it fires
/// early (at an earlier request's deadline) it is moved to the current one. With answers
/// faster than the timeout it is re-armed about once per timeout period, not twice per
/// request.
#[derive(Default)]
struct Alarm {
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    deadline: Option<tokio::time::Instant>,
}

impl Alarm {
    fn set(&mut self, deadline: std::time::Instant) {
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
}

/// `io`, unless the alarm goes off first.
async fn bounded<T>(
    alarm: &mut Alarm,
    io: impl Future<Output = io::Result<T>>,
) -> Result<T, H1Error> {
    let mut io = std::pin::pin!(io);
    poll_fn(|cx| {
        // Read off the clock on every poll, not only when the I/O waits: a server that
        // streams without pause keeps every read ready (and may use up the task's budget,
        // which the timer's own poll respects), and must still be cut off in time.
        if alarm.passed() {
            return Poll::Ready(Err(H1Error::TimedOut));
        }
        if let Poll::Ready(done) = io.as_mut().poll(cx) {
            return Poll::Ready(done.map_err(H1Error::Io));
        }
        alarm.poll_expired(cx).map(|()| Err(H1Error::TimedOut))
    })
    .await
}

/// A parsed response head.
#[derive(Debug)]
pub struct ParsedHead {
    pub status: StatusCode,
    pub version: Version,
    pub head: Head,
    fields: Fields,
}

/// Parses the response head at the start of `buf` and splits it off, when `buf` holds all
/// of it (`None`: read more). The connection's own parser, public for the benches.
pub fn parse_head(buf: &mut BytesMut) -> Result<Option<ParsedHead>, H1Error> {
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        &mut slots,
    );
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(H1Error::Protocol(e.to_string())),
    };
    let code = response.code.expect("a complete head has a status");
    let status = StatusCode::from_u16(code)
        .map_err(|_| H1Error::Protocol(format!("status {code} out of range")))?;
    let version = match response.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let mut fields = Fields::default();
    for h in response.headers.iter() {
        fields.read(h.name, h.value)?;
    }
    let head = Head {
        bytes: buf.split_to(len).freeze(),
        set_cookie: fields.set_cookie,
    };
    Ok(Some(ParsedHead {
        status,
        version,
        head,
        fields,
    }))
}

/// How the body of a response to this request ends (RFC 9112, section 6.3).
fn framing(head_only: bool, status: StatusCode, fields: &Fields) -> Framing {
    let code = status.as_u16();
    if head_only || (100..200).contains(&code) || code == 204 || code == 304 {
        return Framing::None;
    }
    if fields.transfer_encoding {
        return if fields.chunked {
            Framing::Chunked
        } else {
            Framing::UntilClose
        };
    }
    match fields.content_length {
        Some(0) => Framing::None,
        Some(n) => Framing::Length(n),
        None => Framing::UntilClose,
    }
}

/// Whether the connection stays open after this response.
fn keep_alive(version: Version, fields: &Fields) -> bool {
    if version == Version::HTTP_10 {
        fields.keep_alive
    } else {
        !fields.close
    }
}

/// Writes an HTTP/1.1 request straight into a reused buffer, the way a virtual user builds
/// one from its plan: no `http::Request`, no `HeaderMap`, no parsed URI in between.
/// `start`, then `header` for each header, then `finish` with the body.
pub struct RequestWriter<'a> {
    out: &'a mut Vec<u8>,
    carries_body: bool,
    framed: bool,
}

impl<'a> RequestWriter<'a> {
    /// Clears `out` and writes the request line; `target` is the origin-form target (path
    /// and query).
    pub fn start(out: &'a mut Vec<u8>, method: &Method, target: &str) -> RequestWriter<'a> {
        out.clear();
        out.extend_from_slice(method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(target.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        RequestWriter {
            out,
            // RFC 9110 8.6: a user agent should send content-length when the method
            // defines a meaning for content, even when it sends none.
            carries_body: !matches!(
                *method,
                Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS | Method::CONNECT
            ),
            framed: false,
        }
    }

    /// One header line. The caller checks values (`valid_value`); names are `HeaderName`s.
    pub fn header(&mut self, name: &HeaderName, value: &[u8]) {
        self.framed |= *name == CONTENT_LENGTH || *name == TRANSFER_ENCODING;
        self.header_parts(name.as_str(), &[value]);
    }

    /// One header line whose value is several pieces written one after another.
    pub fn header_parts(&mut self, name: &str, value: &[&[u8]]) {
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b": ");
        for part in value {
            self.out.extend_from_slice(part);
        }
        self.out.extend_from_slice(b"\r\n");
    }

    /// A `content-length` unless a header already framed the body, the end of the head,
    /// and the body.
    pub fn finish(self, body: &[u8]) {
        if !self.framed && (!body.is_empty() || self.carries_body) {
            let mut digits = itoa::Buffer::new();
            let len = digits.format(body.len());
            self.out.extend_from_slice(b"content-length: ");
            self.out.extend_from_slice(len.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(body);
    }
}

/// Whether `value` may be sent as a header value: visible ASCII, spaces and tabs (what
/// `http::HeaderValue::from_str` accepts; no CR or LF can split the header).
pub fn valid_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// A serialized request read back: method, target, headers and body. For `--debug`, which
/// shows what was sent; `None` when `wire` is not a whole request.
pub fn parse_request(wire: &[u8]) -> Option<(Method, String, HeaderMap, &[u8])> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut slots);
    let httparse::Status::Complete(len) = req.parse(wire).ok()? else {
        return None;
    };
    let method = Method::from_bytes(req.method?.as_bytes()).ok()?;
    let mut headers = HeaderMap::new();
    for h in req.headers.iter() {
        headers.append(
            HeaderName::from_bytes(h.name.as_bytes()).ok()?,
            HeaderValue::from_bytes(h.value).ok()?,
        );
    }
    Some((method, req.path?.to_string(), headers, &wire[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Option<Fields> {
        let mut f = Fields::default();
        for (n, v) in pairs {
            f.read(n, v.as_bytes()).ok()?;
        }
        Some(f)
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let ok = StatusCode::OK;
        let f = |head, status, h: &[(&str, &str)]| fields(h).map(|x| framing(head, status, &x));
        assert_eq!(f(true, ok, &[("content-length", "5")]), Some(Framing::None));
        assert_eq!(f(false, StatusCode::NO_CONTENT, &[]), Some(Framing::None));
        assert_eq!(
            f(false, StatusCode::NOT_MODIFIED, &[("content-length", "9")]),
            Some(Framing::None)
        );
        assert_eq!(
            f(false, ok, &[("Content-Length", "5")]),
            Some(Framing::Length(5))
        );
        assert_eq!(
            f(false, ok, &[("content-length", "5, 5")]),
            Some(Framing::Length(5))
        );
        assert_eq!(
            f(
                false,
                ok,
                &[("content-length", "5"), ("content-length", "6")]
            ),
            None
        );
        assert_eq!(f(false, ok, &[("content-length", "-1")]), None);
        assert_eq!(f(false, ok, &[("content-length", "+5")]), None);
        // Transfer-encoding wins over content-length.
        assert_eq!(
            f(
                false,
                ok,
                &[
                    ("transfer-encoding", "gzip, Chunked"),
                    ("content-length", "3")
                ]
            ),
            Some(Framing::Chunked)
        );
        assert_eq!(
            f(false, ok, &[("transfer-encoding", "gzip")]),
            Some(Framing::UntilClose)
        );
        assert_eq!(f(false, ok, &[]), Some(Framing::UntilClose));
    }

    #[test]
    fn keep_alive_by_version_and_connection_header() {
        let k = |v, h: &[(&str, &str)]| keep_alive(v, &fields(h).unwrap());
        assert!(k(Version::HTTP_11, &[]));
        assert!(!k(Version::HTTP_11, &[("Connection", "Close")]));
        assert!(!k(Version::HTTP_11, &[("connection", "upgrade, close")]));
        assert!(!k(Version::HTTP_10, &[]));
        assert!(k(Version::HTTP_10, &[("connection", "Keep-Alive")]));
    }

    #[test]
    fn a_head_answers_lookups_and_builds_its_map_in_order() {
        let head = Head {
            bytes: Bytes::from_static(
                b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nLocation: /x\r\nset-cookie: b=2\r\n\r\n",
            ),
            set_cookie: true,
        };
        assert!(head.sets_cookie());
        assert_eq!(head.get("content-type"), None);
        assert_eq!(head.get("LOCATION"), Some(&b"/x"[..]));
        assert_eq!(head.get("set-cookie"), Some(&b"a=1"[..]));
        let map = head.header_map();
        let cookies: Vec<_> = map.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(map.len(), 3);
        assert!(Head::default().header_map().is_empty());
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

    #[test]
    fn requests_are_written_with_a_length_when_they_carry_a_body() {
        let mut out = Vec::new();
        let mut w = RequestWriter::start(&mut out, &Method::POST, "/items/?q=1");
        w.header(&http::header::HOST, b"127.0.0.1:8080");
        w.header(&http::header::CONTENT_TYPE, b"application/json");
        w.finish(b"{}");
        assert_eq!(
            out,
            b"POST /items/?q=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\ncontent-type: \
              application/json\r\ncontent-length: 2\r\n\r\n{}"
        );
        let (method, target, headers, body) = parse_request(&out).unwrap();
        assert_eq!(
            (method, target.as_str(), headers.len(), body),
            (Method::POST, "/items/?q=1", 3, &b"{}"[..])
        );
        let mut w = RequestWriter::start(&mut out, &Method::GET, "/");
        w.header(&http::header::HOST, b"h");
        w.finish(b"");
        assert_eq!(out, b"GET / HTTP/1.1\r\nhost: h\r\n\r\n");
        RequestWriter::start(&mut out, &Method::PUT, "/x").finish(b"");
        assert_eq!(out, b"PUT /x HTTP/1.1\r\ncontent-length: 0\r\n\r\n");
        let mut w = RequestWriter::start(&mut out, &Method::POST, "/x");
        w.header(&http::header::TRANSFER_ENCODING, b"chunked");
        w.finish(b"0\r\n\r\n");
        assert_eq!(
            out,
            b"POST /x HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"
        );
        assert!(valid_value(b"Bearer abc\tdef"));
        assert!(!valid_value(b"a\r\nx-injected: 1"));
    }
}
