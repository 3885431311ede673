//! The request side of the protocol boundary: what a virtual user hands `http/` to send, in
//! terms no protocol owns (method, target, headers and body; the origin, whether the
//! answer's body is kept, the timeout), and nothing of how it goes on the wire.
//!
//! The design choice: a push model into the encoding that is sent. The user renders a
//! request once, straight from its plan, into a [`RequestSink`] that encodes as it goes,
//! into a buffer the user keeps and reuses ([`RequestBuf`]). The obvious alternative, a
//! neutral request value (method, target, a list of headers, a body) that each connection
//! kind encodes when it sends, would copy every header and the body once more per request
//! and keep an index of where each header lies. Rendering a plain GET costs about 0.1 µs
//! and allocates nothing (docs/PERFORMANCE.md, "Hot path"), and encoding as it goes keeps
//! it so: HTTP/1.1's sink ([`h1::RequestWriter`](super::h1::RequestWriter)) writes the
//! request's bytes, and the connection sends that buffer with one `write`, as before
//! there was a boundary.
//!
//! Why a rendered buffer crosses the boundary rather than a render callback the connection
//! calls when it is ready: a request may be sent twice (once more on a fresh connection
//! when a kept-alive one turns out closed before a byte of it was written), and rendering
//! it again would draw new random values and could fail after a connection was opened.
//!
//! A second connection kind (HTTP/2) brings its own sink, writing that kind's frames
//! (HEADERS with stateless HPACK, then DATA), and [`RequestBuf`] one more encoding. The
//! user writes through the same trait. What the boundary does not settle yet: a request is
//! rendered before `send` picks or opens its connection, and a connection's kind is known
//! only once it exists (ALPN), so HTTP/2 needs the kind of the origin's connection asked
//! for before rendering, and a request retried on a fresh connection of another kind
//! rendered again.

use std::time::Duration;

use http::{HeaderMap, HeaderName, Method};

use super::h1::{parse_request, RequestWriter};
use super::Origin;

/// Where a request is rendered: its headers one by one, then its body. The request line's
/// parts, method and target, are given when the sink is made ([`RequestBuf::start`]).
///
/// A push model, driven by the walk over the plan: each header value is handed over while
/// it still sits in the renderer's scratch space, and the sink copies it once, into the
/// encoding it sends; nothing is collected first. `finish` takes the sink by value, so no
/// header can follow the body. Values are checked by the caller ([`valid_value`]); names
/// are `HeaderName`s, valid by construction.
pub trait RequestSink {
    /// One header.
    fn header(&mut self, name: &HeaderName, value: &[u8]);

    /// One header whose value is several pieces, one after another (a step's own `cookie`
    /// header followed by the jar's cookies), so they need not be joined first.
    fn header_parts(&mut self, name: &HeaderName, value: &[&[u8]]);

    /// The body (empty for none), which ends the request. The sink adds whatever framing
    /// its protocol needs (HTTP/1.1: a `content-length`, unless a header framed the body).
    fn finish(self, body: &[u8]);
}

/// A request rendered for sending, in the encoding its connection writes. Its owner keeps
/// one and reuses it, so rendering allocates only while the buffer grows to its owner's
/// largest request.
#[derive(Debug, Default)]
pub struct RequestBuf {
    /// The HTTP/1.1 encoding: the request's bytes, as written.
    wire: Vec<u8>,
    /// The request is a HEAD: its answer has no body, whatever its head announces.
    head_only: bool,
}

impl Clone for RequestBuf {
    fn clone(&self) -> RequestBuf {
        RequestBuf {
            wire: self.wire.clone(),
            head_only: self.head_only,
        }
    }

    /// Copies into the buffer already there (a fixed step's bytes, `Vu::build`).
    fn clone_from(&mut self, source: &RequestBuf) {
        self.wire.clone_from(&source.wire);
        self.head_only = source.head_only;
    }
}

impl RequestBuf {
    /// Starts a new request in place of the last one: `method`, and `target` in origin
    /// form (path and query; the origin goes along in [`Outgoing`]). Render its headers and
    /// body into the sink returned.
    pub fn start(&mut self, method: &Method, target: &str) -> impl RequestSink + '_ {
        self.head_only = *method == Method::HEAD;
        RequestWriter::start(&mut self.wire, method, target)
    }

    /// The request's size as sent: what a run counts as bytes sent.
    pub fn len(&self) -> usize {
        self.wire.len()
    }

    /// Nothing was rendered yet.
    pub fn is_empty(&self) -> bool {
        self.wire.is_empty()
    }

    /// The request as encoded for its connection: what the connection writes, and what the
    /// benches and the differential test compare with hyper's bytes.
    pub fn wire(&self) -> &[u8] {
        &self.wire
    }

    /// The request read back, for `--debug`, which shows what was sent; `None` unless a
    /// whole request was rendered. Allocates: never on the measured path.
    pub fn read_back(&self) -> Option<SentRequest<'_>> {
        let (method, target, headers, body) = parse_request(&self.wire)?;
        Some(SentRequest {
            method,
            target,
            headers,
            body,
        })
    }

    pub(crate) fn head_only(&self) -> bool {
        self.head_only
    }
}

/// One exchange asked of [`Connections::send`](super::Connections::send).
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// Where the request goes; this user's open connection to it is reused.
    pub origin: &'a Origin,
    pub request: &'a RequestBuf,
    /// Keep the answer's body (something reads it); otherwise its bytes are only counted.
    pub keep_body: bool,
    /// The largest body kept (`max_body_size`); a longer one fails the request.
    pub max_body: usize,
    /// Bounds the answer: from the request being handed to a ready connection to the last
    /// byte of its body.
    pub timeout: Duration,
    /// The worker's gauge of requests in flight: this one counts in it from its write to
    /// its end.
    pub in_flight: &'a super::InFlightGauge,
}

/// A sent request read back ([`RequestBuf::read_back`]).
#[derive(Debug)]
pub struct SentRequest<'a> {
    pub method: Method,
    /// The origin-form target: path and query.
    pub target: String,
    pub headers: HeaderMap,
    pub body: &'a [u8],
}

/// Whether `value` may be sent as a header value: visible ASCII, spaces and tabs (what
/// [`http::HeaderValue::from_str`] accepts; no CR or LF can split the header).
pub fn valid_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_that_could_split_a_header_are_refused() {
        assert!(valid_value(b"Bearer abc\tdef"));
        assert!(!valid_value(b"a\r\nx-injected: 1"));
        // What the check stands for.
        assert!(http::HeaderValue::from_bytes(b"Bearer abc\tdef").is_ok());
        assert!(http::HeaderValue::from_bytes(b"a\r\nx-injected: 1").is_err());
    }

    #[test]
    fn a_request_is_rendered_once_and_read_back() {
        let mut buf = RequestBuf::default();
        let mut sink = buf.start(&Method::HEAD, "/items/1?q=a");
        sink.header(&http::header::HOST, b"h");
        sink.header_parts(&http::header::COOKIE, &[b"a=1", b"; ", b"b=2"]);
        sink.finish(b"");
        assert!(buf.head_only());
        assert_eq!(
            buf.wire(),
            b"HEAD /items/1?q=a HTTP/1.1\r\nhost: h\r\ncookie: a=1; b=2\r\n\r\n"
        );
        assert_eq!(buf.len(), buf.wire().len());
        let sent = buf.read_back().unwrap();
        assert_eq!(
            (sent.method, sent.target.as_str(), sent.body),
            (Method::HEAD, "/items/1?q=a", &b""[..])
        );
        assert_eq!(sent.headers["cookie"], "a=1; b=2");
        // The next request takes the buffer over.
        buf.start(&Method::POST, "/").finish(b"{}");
        assert!(!buf.head_only());
        assert_eq!(
            buf.wire(),
            b"POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}"
        );
    }
}
