//! Writing an HTTP/1.1 request: the connection kind's [`RequestSink`], which a virtual user
//! renders its plan into, and the reading back of a written request for `--debug`.
//!
//! The request is written straight into a buffer its owner reuses: no `http::Request`, no
//! `HeaderMap`, no parsed URI in between, so a plain GET allocates nothing, and the
//! connection sends the buffer with one `write`.

use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::MAX_HEADERS;
use crate::http::RequestSink;

/// Writes an HTTP/1.1 request into a reused buffer: [`RequestWriter::start`] writes the
/// request line, then the [`RequestSink`] methods write each header and, last, the body.
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
}

impl RequestSink for RequestWriter<'_> {
    fn header(&mut self, name: &HeaderName, value: &[u8]) {
        self.header_parts(name, &[value]);
    }

    fn header_parts(&mut self, name: &HeaderName, value: &[&[u8]]) {
        self.framed |= *name == CONTENT_LENGTH || *name == TRANSFER_ENCODING;
        self.out.extend_from_slice(name.as_str().as_bytes());
        self.out.extend_from_slice(b": ");
        for part in value {
            self.out.extend_from_slice(part);
        }
        self.out.extend_from_slice(b"\r\n");
    }

    /// A `content-length` unless a header already framed the body, the end of the head,
    /// and the body.
    fn finish(self, body: &[u8]) {
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
    }
}
