//! A streamed answer (`stream:` steps): the request sent as any other, then the answer's
//! head with the moment its first byte came, then its body piece by piece as it arrives,
//! so the user can time each event. The protocol-neutral face of `h1/observed.rs`.
//!
//! ```text
//!   Connections::open_stream(&Connector, &Outgoing) -> Streaming (status, first_byte_at,
//!       sent_at, connected) or RequestError
//!   Streaming::next_piece() -> Some(bytes) | None at the body's end | RequestError
//!   Streaming::finish(done_at) -> Exchange (the connection is kept only when the body
//!       was read to its end and the answer allows it)
//! ```
//!
//! Why a separate path rather than an observer inside `Connections::send`: the plain path
//! would pay a branch and a clock reading per read for a feature most steps never use.
//! Only HTTP/1.1 carries streams here. Where the run may speak HTTP/2 to the origin (TLS
//! with ALPN, or `--http2`), a stream gets an HTTP/1.1 connection of its own, opened for it
//! and closed when it ends, so the user's other requests keep their HTTP/2 connection and
//! a stream step works whatever the server picks.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;

use super::budget::KeptBody;
use super::connections::InFlightMark;
use super::exchange::{Response, ResponseHead};
use super::{
    h1, BodyLimits, ConnectTiming, Connection, Connections, Connector, Exchange, Outgoing,
    RequestError, Timings,
};

/// A streamed answer being read, on the connection it arrives on.
pub struct Streaming<'c> {
    conns: &'c mut Connections,
    at: usize,
    status: StatusCode,
    head: h1::Head,
    body: h1::BodyPieces,
    kept: Option<KeptBody<'c>>,
    /// The largest chunk taken whole (`max_body_size`).
    max_chunk: usize,
    timeout: Duration,
    /// When the request was handed to a ready connection.
    pub sent_at: Instant,
    /// When the first byte of the answer arrived.
    pub first_byte_at: Instant,
    /// Set when this request had to open a connection.
    pub connected: Option<ConnectTiming>,
    /// The connection was opened for this stream alone (the origin may speak HTTP/2):
    /// closed when the stream ends.
    own: bool,
    _in_flight: InFlightMark<'c>,
}

impl Connection {
    /// The HTTP/1.1 connection, when this is one: the only kind that carries streams.
    fn http1(&mut self) -> Option<&mut h1::Conn> {
        match self {
            Connection::Http1(c) => Some(c),
            Connection::Http2(_) => None,
        }
    }
}

impl Connections {
    /// Sends `out.request` and reads the head of its answer, to be read on as a stream.
    /// A request on a reused connection that died before a byte of the answer goes once
    /// more on a fresh one, as [`Connections::send`] does.
    pub async fn open_stream<'c>(
        &'c mut self,
        connector: &'c Connector,
        out: &Outgoing<'c>,
    ) -> Result<Streaming<'c>, RequestError> {
        let mut connected = None;
        let own = connector.may_speak_http2(out.origin);
        let http1 = own.then(|| connector.http1_only());
        let connector_h1 = http1.as_ref().unwrap_or(connector);
        let ready = if own {
            None
        } else {
            self.ready_connection(out.origin).await
        };
        let at = match ready {
            Some(at) => at,
            None => {
                let (c, timing) = connector_h1.connect(out.origin).await?;
                connected = Some(timing);
                self.open.push((out.origin.clone(), c));
                self.open.len() - 1
            }
        };
        let reused = connected.is_none();
        let mut sent_at = Instant::now();
        let in_flight = out.in_flight.enter();
        let deadline = sent_at + out.timeout;
        let request = out.request;
        let not_http1 = || {
            RequestError::Invalid(
                "a `stream:` step needs HTTP/1.1, and this connection speaks HTTP/2; run with \
                 --http1 (or `http2: false` in `defaults`)"
                    .into(),
            )
        };
        let mut result = match self.open[at].1.http1() {
            Some(conn) => {
                conn.start_stream(request.wire(), request.head_only(), deadline)
                    .await
            }
            None => return Err(not_http1()),
        };
        if let Err(f) = &result {
            if reused && (f.unsent || (connector.retry_reused && f.retryable_on_reused())) {
                let (c, timing) = match connector_h1.connect(out.origin).await {
                    Ok(c) => c,
                    Err(e) => {
                        self.open.swap_remove(at);
                        return Err(e);
                    }
                };
                connected = Some(timing);
                self.open[at].1 = c;
                if !f.unsent {
                    self.notes.retries += 1;
                }
                sent_at = Instant::now();
                result = match self.open[at].1.http1() {
                    Some(conn) => {
                        conn.start_stream(request.wire(), request.head_only(), deadline)
                            .await
                    }
                    None => return Err(not_http1()),
                };
            }
        }
        let head = match result {
            Ok(head) => head,
            Err(f) => {
                self.open.swap_remove(at);
                self.notes.received += f.received;
                return Err(f.error.into_request_error(out.timeout));
            }
        };
        let kept = out.keep_body.then(|| {
            KeptBody::new(BodyLimits {
                max_body: out.max_body,
                budget: &connector.body_budget,
            })
        });
        Ok(Streaming {
            conns: self,
            at,
            status: head.status,
            head: head.head,
            body: head.body,
            kept,
            max_chunk: out.max_body,
            timeout: out.timeout,
            sent_at,
            first_byte_at: head.first_byte_at,
            connected,
            own,
            _in_flight: in_flight,
        })
    }
}

impl Streaming<'_> {
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The next piece of the body (a whole chunk of a chunked body, otherwise what one
    /// read brought), `None` at its end.
    pub async fn next_piece(&mut self) -> Result<Option<Bytes>, RequestError> {
        let timeout = self.timeout;
        let conn = self.conns.open[self.at]
            .1
            .http1()
            .expect("a stream is opened on an HTTP/1.1 connection only");
        let piece = conn
            .next_piece(&mut self.body, self.max_chunk)
            .await
            .map_err(|e| e.into_request_error(timeout))?;
        if let (Some(kept), Some(piece)) = (&mut self.kept, &piece) {
            kept.push(piece)
                .map_err(|why| h1::H1Error::BodyLimit(why).into_request_error(timeout))?;
        }
        Ok(piece)
    }

    /// Body bytes read so far.
    pub fn received(&mut self) -> u64 {
        self.conns.open[self.at]
            .1
            .http1()
            .map_or(0, |c| c.received())
    }

    /// The answer as an exchange ending at `done_at`. The connection is kept only when its
    /// body was read to the end and the answer allows another request on it; a stream cut
    /// short is closed (the rest of it is still on its way).
    pub fn finish(mut self, done_at: Instant) -> Exchange {
        let received = self.received();
        let reusable = !self.own && self.body.ended() && self.conns.open[self.at].1.reusable();
        if !reusable {
            self.conns.open.swap_remove(self.at);
        }
        let kept = self.kept.is_some();
        Exchange::new(
            Response {
                status: self.status,
                head: ResponseHead::Http1(self.head),
                body: self.kept.map_or_else(Bytes::new, KeptBody::finish),
                kept,
                body_len: received,
            },
            Timings {
                sent_at: self.sent_at,
                done_at,
                connected: self.connected,
            },
        )
    }

    /// Ends a stream that failed: its connection is closed; the body bytes that arrived.
    pub fn abandon(mut self) -> u64 {
        let received = self.received();
        self.conns.open.swap_remove(self.at);
        received
    }
}
