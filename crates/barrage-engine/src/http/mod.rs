//! The HTTP client: connections a virtual user owns, requests with timing points, and a
//! failure category for everything that can go wrong.
//!
//! Connections are barrage's own lean HTTP/1.1 connections ([`h1`]), one per origin per
//! VU, kept alive and reused, driven by the user's own task (no connection task, no
//! channel). There is no pool shared between users: a real user's browser holds its own
//! connections, and sharing would put a lock on the hot path. Timing is taken here, on
//! the monotonic clock, because only this layer knows when a connection was ready and
//! when the body was complete.

mod connect;
mod error;
pub mod h1;
mod origin;

pub use connect::{parse_local_addresses, tls_config, Connector};
pub use error::{categorize, RequestError};
pub use origin::{Origin, Scheme};

use std::cell::OnceCell;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use h1::Conn;

/// The connections one virtual user holds, by origin. Usually one; a scenario that
/// calls absolute URLs on other hosts gets one per host.
#[derive(Default)]
pub struct Connections {
    open: Vec<(Origin, Conn)>,
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
    /// The response head as it arrived; see [`Exchange::headers`].
    pub head: h1::Head,
    /// Built from `head` the first time someone asks.
    pub headers: OnceCell<HeaderMap>,
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

impl Exchange {
    /// The response's headers, built on first use: most requests never read one.
    pub fn headers(&self) -> &HeaderMap {
        self.headers.get_or_init(|| self.head.header_map())
    }
}

impl Connections {
    /// Drops every connection (the next request reconnects).
    pub fn clear(&mut self) {
        self.open.clear();
    }

    /// Sends `request` (a whole serialized request, see [`h1::RequestWriter`]) to
    /// `origin`, reusing this user's connection when it is still open.
    ///
    /// `head_only` for a HEAD request. `keep_body` false counts the body's bytes without
    /// keeping them (nothing needs them). `timeout` bounds the response: from the request
    /// being sent to the last body byte.
    pub async fn send(
        &mut self,
        connector: &Connector,
        origin: &Origin,
        request: &[u8],
        head_only: bool,
        keep_body: bool,
        timeout: Duration,
    ) -> Result<Exchange, RequestError> {
        let mut connected = None;
        // The origin is kept with its connection and handed back with it, so a reused
        // connection costs no copy of it; only a new connection clones it.
        let (key, mut conn) = match self.ready_connection(origin).await {
            Some(found) => found,
            None => {
                let (c, timing) = connector.connect(origin).await?;
                connected = Some(timing);
                (origin.clone(), c)
            }
        };
        let reused = connected.is_none();
        let mut sent_at = Instant::now();
        // A failed connection is dropped here (in flight or timed out: never reused).
        let failed = |f: h1::Failure| RequestError::exchange(f.error, timeout);
        let response = match conn
            .exchange(request, head_only, keep_body, sent_at + timeout)
            .await
        {
            Ok(response) => response,
            // A kept-alive connection that failed before a byte of the request was written:
            // the server never saw it, so one try on a fresh connection is not a second
            // attempt. Once any of it may have been written the failure stands: a retry
            // could make the server count a request twice.
            Err(h1::Failure { unsent: true, .. }) if reused => {
                let (c, timing) = connector.connect(origin).await?;
                connected = Some(timing);
                conn = c;
                sent_at = Instant::now();
                conn.exchange(request, head_only, keep_body, sent_at + timeout)
                    .await
                    .map_err(failed)?
            }
            Err(f) => return Err(failed(f)),
        };
        let done_at = Instant::now();
        if conn.reusable() {
            self.open.push((key, conn));
        }
        Ok(Exchange {
            status: response.status,
            head: response.head,
            headers: OnceCell::new(),
            body: response.body,
            body_len: response.body_len,
            sent_at,
            done_at,
            connected,
            redirected: false,
        })
    }

    /// Takes this user's open connection to `origin` if it can carry a request now.
    async fn ready_connection(&mut self, origin: &Origin) -> Option<(Origin, Conn)> {
        let pos = self.open.iter().position(|(o, _)| o == origin)?;
        let (key, mut conn) = self.open.swap_remove(pos);
        // A connection the server closed while it sat idle is dropped here, before a
        // request is written to it.
        conn.still_open().await.then_some((key, conn))
    }
}
