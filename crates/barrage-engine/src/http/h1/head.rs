//! Reading a response head: parsing it with `httparse` out of the connection's read
//! buffer, the few headers the client itself needs (framing, keep-alive, whether a cookie
//! is set), and how the body that follows is framed (RFC 9112, section 6.3).
//!
//! The head stays as bytes shared with the read buffer ([`Head`]): most requests never
//! look at a header, so nothing is copied and no `HeaderMap` is built until someone asks.

use std::mem::MaybeUninit;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Version};

use super::{H1Error, MAX_HEADERS};

/// A response head as it arrived: the bytes of the status line and header lines, shared
/// with the connection's read buffer. Most requests never look at a header, so the
/// `HeaderMap` is built only when asked for ([`Head::header_map`]); the few headers the
/// client itself needs (framing, keep-alive) are read while parsing.
#[derive(Debug, Clone, Default)]
pub struct Head {
    /// The head, and after it (from `body_at`) the start of a body nobody keeps: split off
    /// the read buffer together, one split rather than two per request (a second split
    /// for the body's start cost about 100 instructions per plain GET, `valgrind
    /// --tool=callgrind target/release/barrage hit URL -c 10 -n 60000 --workers 1`,
    /// docs/PERFORMANCE.md).
    bytes: Bytes,
    /// Where the head ends (fits beside `set_cookie`: the head grows by nothing).
    body_at: u32,
    /// A `set-cookie` header is present (noted while parsing: the cookie jar asks after
    /// every response).
    set_cookie: bool,
}

impl Head {
    /// The start of the body split off with the head (empty unless the body was framed
    /// by a length and not kept).
    pub fn body_start(&self) -> &[u8] {
        &self.bytes[self.body_at as usize..]
    }

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
pub(super) enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// A parsed response head.
#[derive(Debug)]
pub struct ParsedHead {
    pub status: StatusCode,
    pub version: Version,
    /// Empty until its bytes are split off the read buffer ([`ParsedHead::attach`]).
    pub head: Head,
    /// The head's length in bytes.
    pub len: usize,
    fields: Fields,
}

impl ParsedHead {
    /// Gives the head its bytes: the head's `len` bytes, then any start of the body.
    #[inline]
    pub(super) fn attach(&mut self, bytes: Bytes) {
        self.head.bytes = bytes;
        self.head.body_at = self.len as u32;
    }

    /// An informational answer (1xx) that comes before the real one; 101 is the answer
    /// (it ends HTTP/1 on this connection).
    #[inline]
    pub(super) fn informational(&self) -> bool {
        let code = self.status.as_u16();
        (100..200).contains(&code) && code != 101
    }

    /// How the body after this head ends (an answer to a HEAD request, `head_only`, has
    /// none), and whether the connection may carry another request once it is read.
    // Inlined into the exchange loop: called on its own it costs 41 instructions per
    // request (`valgrind --tool=callgrind target/release/barrage hit URL -c 10 -n 20000 --workers 1`, docs/PERFORMANCE.md).
    #[inline]
    pub(super) fn body(&self, head_only: bool) -> (Framing, bool) {
        let framing = framing(head_only, self.status, &self.fields);
        // Both framings at once (RFC 9112 6.3: transfer-encoding wins) is how request
        // smuggling starts: read the body, then close.
        let ambiguous = self.fields.transfer_encoding && self.fields.content_length.is_some();
        let keep_alive = keep_alive(self.version, &self.fields)
            && framing != Framing::UntilClose
            && !ambiguous
            && self.status != StatusCode::SWITCHING_PROTOCOLS;
        (framing, keep_alive)
    }
}

/// Parses the response head at the start of `buf` and splits it off, when `buf` holds all
/// of it (`None`: read more). The connection's own parser, public for the benches.
pub fn parse_head(buf: &mut BytesMut) -> Result<Option<ParsedHead>, H1Error> {
    let Some(mut head) = parse_head_in(buf)? else {
        return Ok(None);
    };
    head.attach(buf.split_to(head.len).freeze());
    Ok(Some(head))
}

/// Parses the response head at the start of `buf`, leaving it there (its bytes are
/// attached once the caller knows how much to split off with it). Not inlined into the
/// exchange loop: inlined there, `Fields::read` no longer inlines into it, about 80
/// instructions more per plain GET (callgrind, docs/PERFORMANCE.md).
#[inline(never)]
pub(super) fn parse_head_in(buf: &[u8]) -> Result<Option<ParsedHead>, H1Error> {
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
        bytes: Bytes::new(),
        body_at: 0,
        set_cookie: fields.set_cookie,
    };
    Ok(Some(ParsedHead {
        status,
        version,
        head,
        len,
        fields,
    }))
}

/// How the body of a response to this request ends (RFC 9112, section 6.3).
#[inline]
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
#[inline]
fn keep_alive(version: Version, fields: &Fields) -> bool {
    if version == Version::HTTP_10 {
        fields.keep_alive
    } else {
        !fields.close
    }
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
            body_at: 67,
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
}
