//! One HTTP/2 connection and its exchange: read the rendered request back, open a stream,
//! send the headers and the body, read the answer's head and body (kept within the body
//! limits, or counted and dropped), all while driving the connection's frame loop on the
//! user's own task.
//!
//! Must not: reuse a connection after it failed, was told to go away, or closed.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONNECTION, HOST, TRANSFER_ENCODING, UPGRADE};
use http::{HeaderMap, HeaderName, Request, Uri};

use crate::http::budget::{KeepRefused, KeptBody};
use crate::http::exchange::{Response, ResponseHead};
use crate::http::h1::{parse_request, BODY_START};
use crate::http::{BodyLimits, Origin, RequestBuf, RequestError, Stream};

/// One HTTP/2 connection, owned by one virtual user.
pub struct Conn {
    send: h2::client::SendRequest<Bytes>,
    /// The connection's frame loop: polled beside each request and when the connection is
    /// picked up again, never by a task of its own.
    driver: h2::client::Connection<Stream, Bytes>,
    /// False once the frame loop ended or an exchange failed.
    open: bool,
    /// `http` or `https`, for the `:scheme` of every request.
    scheme: http::uri::Scheme,
    /// The origin's authority, for `:authority` when the request names no `host`.
    authority: http::uri::Authority,
}

/// A failed exchange: the request's error, whether not a byte of it reached the server
/// (`unsent`), whether, on a reused connection, it may go once more on a fresh one
/// (`retryable`: the server refused the stream or the connection went away before
/// anything of the answer arrived), and the body bytes that arrived before it failed.
pub(crate) struct Failure {
    pub error: RequestError,
    pub unsent: bool,
    pub retryable: bool,
    pub received: u64,
}

/// Headers HTTP/2 forbids (RFC 9113, 8.2.2): the connection's own business in HTTP/1.1.
const CONNECTION_SPECIFIC: [&str; 3] = ["keep-alive", "proxy-connection", "te"];

impl Conn {
    /// Starts HTTP/2 on `stream` (the client preface and settings are sent with the first
    /// request's frames).
    pub(crate) async fn handshake(stream: Stream, origin: &Origin) -> Result<Conn, RequestError> {
        let (send, driver) = h2::client::Builder::new()
            // Nothing is pushed to a load generator: it would only cost the server.
            .enable_push(false)
            .handshake(stream)
            .await
            .map_err(|e| h2_error(e, Duration::ZERO))?;
        let scheme = match origin.scheme {
            crate::http::Scheme::Http => http::uri::Scheme::HTTP,
            crate::http::Scheme::Https => http::uri::Scheme::HTTPS,
        };
        let authority = format!("{}:{}", origin.host, origin.port)
            .parse()
            .map_err(|e| RequestError::Invalid(format!("bad authority {origin}: {e}")))?;
        Ok(Conn {
            send,
            driver,
            open: true,
            scheme,
            authority,
        })
    }

    /// Whether the connection can carry another request.
    pub fn reusable(&self) -> bool {
        self.open
    }

    /// Whether the connection is still open: drives its frame loop once (answering the
    /// pings and settings that arrived while it sat idle) and asks whether a stream could
    /// be opened on it. A GOAWAY or a close ends it.
    pub(crate) fn poll_still_open(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.open {
            return false;
        }
        self.open = if Pin::new(&mut self.driver).poll(cx).is_ready() {
            false
        } else {
            !matches!(self.send.poll_ready(cx), Poll::Ready(Err(_)))
        };
        self.open
    }

    /// Sends `request` (rendered for HTTP/1.1, read back here) on a new stream and reads
    /// its answer by `deadline`; with `keep` the body is kept within those limits,
    /// otherwise counted and dropped (its first [`BODY_START`] bytes are kept either way).
    /// `timeout` is what the request was given, for the error.
    pub(crate) async fn exchange(
        &mut self,
        request: &RequestBuf,
        keep: Option<BodyLimits<'_>>,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Response, Failure> {
        // A request that cannot be put into HTTP/2's form would not go on a fresh
        // connection either.
        let unsendable = |error| Failure {
            error,
            unsent: false,
            retryable: false,
            received: 0,
        };
        let (req, body) = self.request(request).map_err(unsendable)?;
        let mut progress = Progress::default();
        let mut driving = true;
        let result = {
            let Conn { send, driver, .. } = self;
            let work = exchange(send, req, body, keep, &mut progress);
            let mut work = std::pin::pin!(work);
            // The frame loop runs beside the request: it writes the request's frames and reads
            // the answer's. When it ends (the server closed, or went away), the request's own
            // future learns of it from `h2` and fails.
            let both = poll_fn(|cx| {
                if driving && Pin::new(&mut *driver).poll(cx).is_ready() {
                    driving = false;
                }
                work.as_mut().poll(cx)
            });
            tokio::time::timeout_at(deadline.into(), both).await
        };
        let failure = |error: RequestError, progress: &Progress| Failure {
            unsent: !progress.sent,
            retryable: !progress.answered,
            received: progress.received,
            error,
        };
        match result {
            Ok(Ok(response)) => {
                self.open &= driving;
                Ok(response)
            }
            Ok(Err(Problem::H2(e))) => {
                self.open = false;
                let retryable = !progress.answered && refused_or_gone(&e);
                Err(Failure {
                    retryable,
                    ..failure(h2_error(e, timeout), &progress)
                })
            }
            Ok(Err(Problem::Body(why))) => {
                self.open = false;
                Err(Failure {
                    retryable: false,
                    ..failure(body_refused(why), &progress)
                })
            }
            Err(_) => {
                self.open = false;
                Err(Failure {
                    retryable: false,
                    ..failure(RequestError::ResponseTimeout(timeout), &progress)
                })
            }
        }
    }

    /// The rendered request as `h2` takes it: `:scheme` and `:authority` from the origin
    /// and the `host` header, and no header HTTP/2 forbids.
    fn request(&self, rendered: &RequestBuf) -> Result<(Request<()>, Bytes), RequestError> {
        let (method, target, mut headers, body) = parse_request(rendered.wire())
            .ok_or_else(|| RequestError::Invalid("the request could not be read back".into()))?;
        let authority = match headers.remove(HOST) {
            Some(host) => http::uri::Authority::try_from(host.as_bytes())
                .map_err(|e| RequestError::Invalid(format!("bad host header: {e}")))?,
            None => self.authority.clone(),
        };
        strip_connection_headers(&mut headers);
        let uri = Uri::builder()
            .scheme(self.scheme.clone())
            .authority(authority)
            .path_and_query(target)
            .build()
            .map_err(|e| RequestError::Invalid(format!("bad request target: {e}")))?;
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .version(http::Version::HTTP_2)
            .body(())
            .map_err(|e| RequestError::Invalid(e.to_string()))?;
        *req.headers_mut() = headers;
        Ok((req, Bytes::copy_from_slice(body)))
    }
}

/// How far an exchange got, for its failure: whether the request went out, whether
/// anything of the answer arrived, and how many body bytes did.
#[derive(Default)]
struct Progress {
    sent: bool,
    answered: bool,
    received: u64,
}

/// One request on a new stream, and its answer.
async fn exchange(
    send: &mut h2::client::SendRequest<Bytes>,
    req: Request<()>,
    body: Bytes,
    keep: Option<BodyLimits<'_>>,
    progress: &mut Progress,
) -> Result<Response, Problem> {
    // Waits for a free stream within the server's limit (and the connection's preface).
    poll_fn(|cx| send.poll_ready(cx)).await?;
    let (answer, mut outgoing) = send.send_request(req, body.is_empty())?;
    progress.sent = true;
    if !body.is_empty() {
        // `h2` holds what the flow-control window does not admit yet and sends it as the
        // server opens the window; request bodies are the scenario's own, already in memory.
        outgoing.send_data(body, true)?;
    }
    let answer = answer.await?;
    progress.answered = true;
    let (parts, mut incoming) = answer.into_parts();
    let mut kept = keep.map(KeptBody::new);
    let mut start = Vec::new();
    let mut refused = None;
    while let Some(chunk) = poll_fn(|cx| incoming.poll_data(cx)).await {
        let chunk = chunk?;
        let n = chunk.len();
        progress.received += n as u64;
        // Gives the window back at once: the body is consumed as it arrives.
        let _ = incoming.flow_control().release_capacity(n);
        match &mut kept {
            Some(k) => {
                if let Err(why) = k.push(&chunk) {
                    refused = Some(why);
                    break;
                }
            }
            None if start.len() < BODY_START => {
                let room = BODY_START - start.len();
                start.extend_from_slice(&chunk[..n.min(room)]);
            }
            None => {}
        }
    }
    if let Some(why) = refused {
        return Err(Problem::Body(why));
    }
    let (body, kept) = match kept {
        Some(k) => (k.finish(), true),
        None => (Bytes::from(start), false),
    };
    Ok(Response {
        status: parts.status,
        body_len: progress.received,
        head: ResponseHead::Http2(Box::new(parts.headers)),
        body,
        kept,
    })
}

/// Why an exchange on a stream failed: the protocol or the connection, or a body to keep
/// over its limits.
enum Problem {
    H2(h2::Error),
    Body(KeepRefused),
}

impl From<h2::Error> for Problem {
    fn from(e: h2::Error) -> Problem {
        Problem::H2(e)
    }
}

/// A body over its limits, counted as HTTP/1.1 counts it (`h1::H1Error::into_request_error`).
fn body_refused(why: KeepRefused) -> RequestError {
    match why {
        KeepRefused::TooLong { .. } => RequestError::Protocol(why.to_string()),
        KeepRefused::OverBudget { .. } => RequestError::BodyMemory(why.to_string()),
    }
}

/// Whether the server did not take the stream up: it refused it, or the connection went
/// away (or ended) before any of the answer arrived; HTTP/2 says such a request was not
/// processed and may be sent again (RFC 9113, 8.7).
fn refused_or_gone(e: &h2::Error) -> bool {
    e.is_go_away() || e.is_io() || e.reason() == Some(h2::Reason::REFUSED_STREAM)
}

/// An `h2` error as the request's failure: the socket's own error as I/O (a reset counts
/// as one), the server resetting the stream or going away as the connection closed on it,
/// and anything else as a protocol error.
fn h2_error(e: h2::Error, timeout: Duration) -> RequestError {
    if e.is_io() {
        return match e.into_io() {
            Some(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                RequestError::ResponseTimeout(timeout)
            }
            Some(io) => RequestError::Io(io),
            None => RequestError::Closed,
        };
    }
    if e.is_remote()
        && matches!(
            e.reason(),
            Some(h2::Reason::NO_ERROR | h2::Reason::CANCEL | h2::Reason::REFUSED_STREAM)
        )
    {
        return RequestError::Closed;
    }
    RequestError::Protocol(format!("HTTP/2: {e}"))
}

/// Removes the headers HTTP/2 forbids: `connection` and those it names, `keep-alive`,
/// `proxy-connection`, `transfer-encoding`, `upgrade`, and `te` unless it is `trailers`.
fn strip_connection_headers(headers: &mut HeaderMap) {
    if let Some(named) = headers.remove(CONNECTION) {
        if let Ok(named) = named.to_str() {
            for name in named.split(',') {
                if let Ok(name) = HeaderName::from_bytes(name.trim().as_bytes()) {
                    headers.remove(name);
                }
            }
        }
    }
    headers.remove(TRANSFER_ENCODING);
    headers.remove(UPGRADE);
    for name in CONNECTION_SPECIFIC {
        if name == "te" && headers.get(name).is_some_and(|v| v == "trailers") {
            continue;
        }
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_http2_forbids_are_dropped_and_te_trailers_kept() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "h2c"),
            ("te", "trailers"),
            ("accept", "*/*"),
        ] {
            h.append(HeaderName::from_static(k), v.parse().unwrap());
        }
        strip_connection_headers(&mut h);
        let mut left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        left.sort();
        assert_eq!(left, ["accept", "te"]);
        let mut h = HeaderMap::new();
        h.insert("te", "gzip".parse().unwrap());
        strip_connection_headers(&mut h);
        assert!(h.is_empty());
    }
}
