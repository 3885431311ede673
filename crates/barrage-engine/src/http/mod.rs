//! The HTTP client: connections a virtual user owns, requests with timing points, and a
//! failure category for everything that can go wrong.
//!
//! Connections are hyper 1.x low-level client connections (`hyper::client::conn::http1`),
//! one per origin per VU, kept alive and reused. There is no pool shared between users:
//! a real user's browser holds its own connections, and sharing would put a lock on the
//! hot path. Timing is taken here, on the monotonic clock, because only this layer knows
//! when a connection was ready and when the body was complete.

mod connect;
mod error;
mod origin;

pub use connect::{tls_config, Connector};
pub use error::{categorize, RequestError};
pub use origin::{Origin, Scheme};

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;

/// The connections one virtual user holds, by origin. Usually one; a scenario that
/// calls absolute URLs on other hosts gets one per host.
#[derive(Default)]
pub struct Connections {
    open: Vec<(Origin, SendRequest<Full<Bytes>>)>,
}

/// What a connection attempt cost, when one was made for this request.
#[derive(Debug, Clone, Copy)]
pub struct ConnectTiming {
    pub connect: Duration,
    pub tls: Option<Duration>,
}

/// A completed exchange.
pub struct Exchange {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body, when the caller asked to keep it; otherwise empty.
    pub body: Bytes,
    pub body_len: u64,
    /// The moment the request was handed to a ready connection.
    pub sent_at: Instant,
    /// The moment the last body byte arrived.
    pub done_at: Instant,
    /// Set when this request had to open a connection.
    pub connected: Option<ConnectTiming>,
    /// The answer came after following redirects (its cookies are already stored).
    pub redirected: bool,
}

impl Connections {
    /// Drops every connection (the next request reconnects).
    pub fn clear(&mut self) {
        self.open.clear();
    }

    /// Sends `req` to `origin`, reusing this user's connection when it is still open.
    ///
    /// `keep_body` false counts the body's bytes without keeping them (nothing needs
    /// them). `timeout` bounds the response: from the request being sent to the last
    /// body byte.
    pub async fn send(
        &mut self,
        connector: &Connector,
        origin: &Origin,
        req: Request<Full<Bytes>>,
        keep_body: bool,
        timeout: Duration,
    ) -> Result<Exchange, RequestError> {
        let mut connected = None;
        // The origin is kept with its connection and handed back with it, so a reused
        // connection costs no copy of it; only a new connection clones it.
        let (key, mut sender) = match self.ready_connection(origin).await {
            Some(found) => found,
            None => {
                let (s, timing) = connector.connect(origin).await?;
                connected = Some(timing);
                (origin.clone(), s)
            }
        };
        let reused = connected.is_none();
        let sent_at = Instant::now();
        let first = tokio::time::timeout(timeout, exchange(&mut sender, req, keep_body)).await;
        let parts =
            match first {
                Err(_) => return Err(RequestError::ResponseTimeout(timeout)),
                Ok(Ok(parts)) => parts,
                // A kept-alive connection that closed before the request could be written
                // (hyper hands the request back only then): the server never saw it, so one
                // try on a fresh connection is not a second attempt. Once any of it may have
                // been written, the failure stands: a retry could make the server count a
                // request twice.
                Ok(Err(Failed {
                    unsent: Some(req), ..
                })) if reused => {
                    let (s, timing) = connector.connect(origin).await?;
                    connected = Some(timing);
                    sender = s;
                    let sent_at = Instant::now();
                    let parts =
                        match tokio::time::timeout(timeout, exchange(&mut sender, req, keep_body))
                            .await
                        {
                            Err(_) => return Err(RequestError::ResponseTimeout(timeout)),
                            Ok(Err(f)) => return Err(f.error),
                            Ok(Ok(parts)) => parts,
                        };
                    self.keep(key, sender);
                    return Ok(parts.finish(sent_at, connected));
                }
                Ok(Err(f)) => return Err(f.error),
            };
        self.keep(key, sender);
        Ok(parts.finish(sent_at, connected))
    }

    /// Takes this user's open connection to `origin` if it can accept a request now.
    async fn ready_connection(
        &mut self,
        origin: &Origin,
    ) -> Option<(Origin, SendRequest<Full<Bytes>>)> {
        let pos = self.open.iter().position(|(o, _)| o == origin)?;
        let (key, mut sender) = self.open.swap_remove(pos);
        // `ready` fails at once when the connection task has ended (server closed it).
        match sender.ready().await {
            Ok(()) => Some((key, sender)),
            Err(_) => None,
        }
    }

    fn keep(&mut self, origin: Origin, sender: SendRequest<Full<Bytes>>) {
        if !sender.is_closed() {
            self.open.push((origin, sender));
        }
    }
}

struct Parts {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    body_len: u64,
    done_at: Instant,
}

impl Parts {
    fn finish(self, sent_at: Instant, connected: Option<ConnectTiming>) -> Exchange {
        Exchange {
            status: self.status,
            headers: self.headers,
            body: self.body,
            body_len: self.body_len,
            sent_at,
            done_at: self.done_at,
            connected,
            redirected: false,
        }
    }
}

/// A failed exchange, with the request when hyper could give it back unsent.
struct Failed {
    error: RequestError,
    unsent: Option<Request<Full<Bytes>>>,
}

impl From<RequestError> for Failed {
    fn from(error: RequestError) -> Failed {
        Failed {
            error,
            unsent: None,
        }
    }
}

async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    req: Request<Full<Bytes>>,
    keep_body: bool,
) -> Result<Parts, Failed> {
    let resp: Response<Incoming> = match sender.try_send_request(req).await {
        Ok(resp) => resp,
        Err(mut e) => {
            let unsent = e.take_message();
            return Err(Failed {
                error: RequestError::Http(e.into_error()),
                unsent,
            });
        }
    };
    let (head, mut body) = resp.into_parts();
    let mut body_len = 0u64;
    let kept = if keep_body {
        let collected = body
            .collect()
            .await
            .map_err(|e| Failed::from(RequestError::Body(e)))?;
        let bytes = collected.to_bytes();
        body_len = bytes.len() as u64;
        bytes
    } else {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Failed::from(RequestError::Body(e)))?;
            if let Some(data) = frame.data_ref() {
                body_len += data.len() as u64;
            }
        }
        Bytes::new()
    };
    Ok(Parts {
        status: head.status,
        headers: head.headers,
        body: kept,
        body_len,
        done_at: Instant::now(),
    })
}
