//! The answer side of the protocol boundary: an [`Exchange`] is what came back for one
//! request, in terms no protocol owns: the status, the headers when someone asks, the body
//! (kept, or only counted), and when it all happened.
//!
//! The response head stays in the form its connection kind read it in (for HTTP/1.1, the
//! bytes as they arrived, shared with the read buffer): most requests never look at a
//! header, so the `HeaderMap` is built only on first use, and the questions the client asks
//! of every answer (a header by name, whether a cookie is set) are answered from that form.

use std::cell::OnceCell;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, StatusCode, Version};

use super::h1;

/// What a connection attempt cost, when one was made for this request.
#[derive(Debug, Clone, Copy)]
pub struct ConnectTiming {
    pub connect: Duration,
    pub tls: Option<Duration>,
}

/// When an exchange happened, on the monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    /// The moment the request was handed to a ready connection.
    pub sent_at: Instant,
    /// The moment the last body byte arrived.
    pub done_at: Instant,
    /// Set when this request had to open a connection.
    pub connected: Option<ConnectTiming>,
}

/// A completed exchange.
#[derive(Debug)]
pub struct Exchange {
    status: StatusCode,
    /// `body` is the whole body (it was asked to be kept); otherwise only its start. Sits
    /// beside `status` in what was padding, so the answer grows by nothing.
    kept: bool,
    head: ResponseHead,
    /// Built from `head` the first time someone asks; boxed, since most answers never
    /// build it and a map inline would be 88 bytes more to write per answer.
    headers: OnceCell<Box<HeaderMap>>,
    body: Bytes,
    body_len: u64,
    pub timings: Timings,
}

impl Exchange {
    pub(crate) fn new(response: Response, timings: Timings) -> Exchange {
        Exchange {
            status: response.status,
            kept: response.kept,
            head: response.head,
            headers: OnceCell::new(),
            body: response.body,
            body_len: response.body_len,
            timings,
        }
    }

    /// The same answer, timed as one exchange that began with an earlier one: a redirect
    /// chain's answer is timed from the first request's `sent_at`, with the first
    /// connection made for it.
    #[inline]
    pub fn spanning(self, sent_at: Instant, connected: Option<ConnectTiming>) -> Exchange {
        Exchange {
            timings: Timings {
                sent_at,
                connected,
                ..self.timings
            },
            ..self
        }
    }

    /// The HTTP version the answer came in: its connection's kind.
    pub fn version(&self) -> Version {
        match self.head {
            ResponseHead::Http1(_) => Version::HTTP_11,
            ResponseHead::Http2(_) => Version::HTTP_2,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The first value of the header `name` (any case), without building the map.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        match &self.head {
            ResponseHead::Http1(head) => head.get(name),
            ResponseHead::Http2(headers) => headers.get(name).map(|v| v.as_bytes()),
        }
    }

    /// Whether the response sets a cookie (known without building the map: the cookie jar
    /// asks after every response).
    pub fn sets_cookie(&self) -> bool {
        match &self.head {
            ResponseHead::Http1(head) => head.sets_cookie(),
            ResponseHead::Http2(headers) => headers.contains_key(http::header::SET_COOKIE),
        }
    }

    /// The response's headers, in order, repeats kept; built on first use, since most
    /// requests never read one.
    pub fn headers(&self) -> &HeaderMap {
        self.headers.get_or_init(|| match &self.head {
            ResponseHead::Http1(head) => Box::new(head.header_map()),
            ResponseHead::Http2(headers) => headers.clone(),
        })
    }

    /// The body, when the request asked to keep it ([`Outgoing::keep_body`]); otherwise
    /// empty.
    ///
    /// [`Outgoing::keep_body`]: super::Outgoing::keep_body
    pub fn body(&self) -> &[u8] {
        if self.kept {
            &self.body
        } else {
            &[]
        }
    }

    /// The first [`BODY_START`](super::h1::BODY_START) (1 KiB) bytes of the body at most
    /// (decoded, for a chunked body), kept or not: what a failure sample shows of the
    /// answer. Costs nothing extra: the start of a body nobody keeps is split off the read
    /// buffer without a copy (with the head, for a body framed by a length).
    pub fn body_start(&self) -> &[u8] {
        if self.body.is_empty() {
            // A length-framed body nobody keeps: its start came with the head.
            return match &self.head {
                ResponseHead::Http1(head) => head.body_start(),
                // HTTP/2 always hands the body's start over in `body`.
                ResponseHead::Http2(_) => &[],
            };
        }
        &self.body[..self.body.len().min(super::h1::BODY_START)]
    }

    /// The body's length in bytes (decoded, for a chunked body), kept or not.
    pub fn body_len(&self) -> u64 {
        self.body_len
    }
}

/// A response head in the form its connection kind keeps it.
#[derive(Debug)]
pub(crate) enum ResponseHead {
    Http1(h1::Head),
    /// HTTP/2's headers arrive decoded (HPACK) as a map; boxed so an [`Exchange`] stays
    /// as small as HTTP/1.1's (every request writes one).
    Http2(Box<HeaderMap>),
}

/// A complete response as a connection of any kind returns it; the connections add the
/// timings that make it an [`Exchange`].
pub(crate) struct Response {
    pub status: StatusCode,
    pub head: ResponseHead,
    /// The body when `kept`; otherwise its start.
    pub body: Bytes,
    pub kept: bool,
    pub body_len: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer is written once per request, where the user reads it, and moved only on
    /// the rare paths (a redirect): a second connection kind must not make HTTP/1.1's answer
    /// any larger, and the header map nobody asked for takes a pointer's room.
    #[test]
    fn an_exchange_stays_160_bytes_with_http2_beside_http1() {
        assert_eq!(std::mem::size_of::<Exchange>(), 160);
    }
}
