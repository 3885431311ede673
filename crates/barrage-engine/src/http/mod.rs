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
        let reused = self.ready_connection(origin).await;
        let mut sender = match reused {
            Some(s) => s,
            None => {
                let (s, timing) = connector.connect(origin).await?;
                connected = Some(timing);
                s
            }
        };
        // A kept-alive connection the server closed while idle fails before any byte of
        // the answer arrives; the server never saw the request, so one retry on a fresh
        // connection is not a second attempt (urllib3, behind Locust, does the same).
        let retry_copy = if connected.is_none() {
            Some(clone_request(&req))
        } else {
            None
        };
        let sent_at = Instant::now();
        let first = tokio::time::timeout(timeout, exchange(&mut sender, req, keep_body)).await;
        let result = match first {
            Err(_) => Err(RequestError::ResponseTimeout(timeout)),
            Ok(Err(e)) if e.is_stale_connection() && retry_copy.is_some() => {
                let (s, timing) = connector.connect(origin).await?;
                connected = Some(timing);
                sender = s;
                let req = retry_copy.expect("retry copy exists when the connection was reused");
                let sent_at = Instant::now();
                return match tokio::time::timeout(timeout, exchange(&mut sender, req, keep_body))
                    .await
                {
                    Err(_) => Err(RequestError::ResponseTimeout(timeout)),
                    Ok(Err(e)) => Err(e),
                    Ok(Ok(parts)) => {
                        self.keep(origin, sender);
                        Ok(parts.finish(sent_at, connected))
                    }
                };
            }
            Ok(r) => r,
        };
        let parts = result?;
        self.keep(origin, sender);
        Ok(parts.finish(sent_at, connected))
    }

    /// Takes this user's open connection to `origin` if it can accept a request now.
    async fn ready_connection(&mut self, origin: &Origin) -> Option<SendRequest<Full<Bytes>>> {
        let pos = self.open.iter().position(|(o, _)| o == origin)?;
        let (_, mut sender) = self.open.swap_remove(pos);
        // `ready` fails at once when the connection task has ended (server closed it).
        match sender.ready().await {
            Ok(()) => Some(sender),
            Err(_) => None,
        }
    }

    fn keep(&mut self, origin: &Origin, sender: SendRequest<Full<Bytes>>) {
        if !sender.is_closed() {
            self.open.push((origin.clone(), sender));
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
        }
    }
}

async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    req: Request<Full<Bytes>>,
    keep_body: bool,
) -> Result<Parts, RequestError> {
    let resp: Response<Incoming> = sender.send_request(req).await.map_err(RequestError::Http)?;
    let (head, mut body) = resp.into_parts();
    let mut body_len = 0u64;
    let kept = if keep_body {
        let collected = body.collect().await.map_err(RequestError::Body)?;
        let bytes = collected.to_bytes();
        body_len = bytes.len() as u64;
        bytes
    } else {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(RequestError::Body)?;
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

/// Requests are built from templates each time, so a copy for the stale-connection retry
/// is cheap: the body is reference-counted `Bytes`.
fn clone_request(req: &Request<Full<Bytes>>) -> Request<Full<Bytes>> {
    let mut builder = Request::builder()
        .method(req.method().clone())
        .uri(req.uri().clone())
        .version(req.version());
    if let Some(h) = builder.headers_mut() {
        *h = req.headers().clone();
    }
    let body = req.body().clone();
    builder
        .body(body)
        .expect("a copy of a valid request is a valid request")
}
