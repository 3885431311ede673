//! The HTTP client: connections a virtual user owns, requests with timing points, and a
//! failure category for everything that can go wrong.
//!
//! Connections are barrage's own lean connections, one per origin per VU, kept alive and
//! reused, driven by the user's own task (no connection task, no channel). There is no pool
//! shared between users: a real user's browser holds its own connections, and sharing would
//! put a lock on the hot path. Timing is taken here, on the monotonic clock, because only
//! this layer knows when a connection was ready and when the body was complete.
//!
//! ## The protocol boundary
//!
//! A virtual user asks for an exchange in terms no protocol owns, and nothing else of this
//! module is its business:
//!
//! ```text
//!   RequestBuf::start(method, target) -> impl RequestSink
//!       sink.header(name, value), sink.header_parts(name, pieces), sink.finish(body)
//!   Connections::send(&Connector, &Outgoing { origin, request: &RequestBuf, keep, timeout,
//!                     in_flight: &InFlightGauge (counts it from its write to its end) })
//!       -> Exchange: status(), header(name), sets_cookie(), headers() (built on first use),
//!                    body() (kept) or body_len() (counted), body_start() (always),
//!                    timings { sent_at, done_at, connected }
//!       or RequestError (counted under `categorize(&error)`)
//!   Connections::take_notes() -> SendNotes { retries, received }: what the sends since
//!       the last call retried, and the body bytes failed sends still received
//! ```
//!
//!
//! A `stream:` step's answer is read through `Connections::open_stream` instead
//! (`streamed.rs`): the head with its first byte's time, then the body piece by piece.
//!
//! Memory: a kept body is bounded per response and by one budget for the process
//! (`budget.rs`); a body nobody keeps is counted and dropped as it streams.
//!
//! Behind it, each connection is of one kind ([`Connection`]), fixed when it is opened:
//! HTTP/1.1 ([`h1`]), whose request writing, response parsing, body framing and deadline
//! live in `h1/`, or HTTP/2 (`h2/`, on the `h2` crate), chosen by ALPN over TLS or by
//! prior knowledge over cleartext (`connect.rs`, [`HttpVersion`]). No caller outside this
//! module reaches into either. The user renders every request through the same sink in
//! HTTP/1.1's encoding; an HTTP/2 connection reads it back into its frames (`h2/mod.rs`
//! says why), so the user need not know the kind before rendering. Why the user renders
//! into a sink rather than handing over a neutral request value: `request.rs`.
//!
//! A WebSocket step leaves the boundary above: `ws.rs` takes a fresh connection from the
//! same connector, hands its stream to tungstenite for the upgrade and the framing, and
//! the user holds the socket itself (`vu/ws.rs`).
//!
//! Must not: print, spawn a task per connection, or share a connection between users.

mod budget;
mod connect;
mod connections;
mod error;
mod exchange;
pub mod h1;
mod h2;
mod origin;
mod request;
mod sse;
mod stream;
mod streamed;
mod tls;
pub mod ws;

pub use budget::{BodyBudget, BodyLimits, KeepRefused, DEFAULT_BODY_MEMORY, DEFAULT_MAX_BODY};
pub use connect::{parse_local_addresses, Connector, HttpVersion, LocalAddressError};
pub use connections::{Connection, Connections, InFlightGauge, SendNotes};
pub use error::{categorize, RequestError};
pub use exchange::{ConnectTiming, Exchange, Timings};
pub use origin::{Origin, Scheme};
pub use request::{valid_value, Outgoing, RequestBuf, RequestSink, SentRequest};
pub use sse::{SseDecoder, SseError, SseEvent};
pub use stream::Stream;
pub use streamed::Streaming;
pub use tls::{tls_config, tls_config_for, Tls, TlsError};
