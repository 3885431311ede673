//! The HTTP/2 connection kind: one connection per origin per virtual user, like HTTP/1.1,
//! spoken by the `h2` crate (the protocol crate hyper is built on), chosen when the
//! connection is opened (`connect.rs`: ALPN `h2` over TLS, or prior knowledge over
//! cleartext) and never on the HTTP/1.1 path.
//!
//! The design choices a newcomer would question:
//!
//! - **No connection task.** hyper and oha spawn a task per HTTP/2 connection that drives
//!   its frames, and hand it requests over a channel. Here, as for HTTP/1.1, the user's
//!   own task drives the connection: while one of its requests is in flight it polls the
//!   connection's frame loop beside the request (`conn.rs`), and between requests it polls
//!   it once when it picks the connection up again (`poll_still_open`), which answers the pings
//!   and settings the server sent meanwhile and notices a GOAWAY or a close. A user sends
//!   one request at a time, so nobody else is waiting on the connection while it idles.
//! - **The request is read back from its HTTP/1.1 rendering.** A user renders a request
//!   before `Connections::send` picks or opens its connection (`request.rs`), so a request
//!   may meet either kind, and a request retried on a fresh connection may meet the other
//!   one. Rather than render twice or teach every renderer a second encoding, this kind
//!   reads the rendered request back (`h1::parse_request`, one `httparse` pass) into the
//!   `http::Request` that `h2` takes. HTTP/2 pays that parse (the `h2` crate allocates per
//!   stream anyway); HTTP/1.1 pays nothing, and its hot path is untouched.
//! - **Streams per connection** are capped by the server's `SETTINGS_MAX_CONCURRENT_STREAMS`
//!   (`h2` waits for a free stream in `poll_ready`) and by the scenario's `max_streams`;
//!   since users never share a connection and send one request at a time, a connection
//!   carries one stream at a time today (docs/HTTP2.md).
//!
//! Must not: spawn a task, share a connection between users, or be reached from outside
//! `http/` (the user sees only `Outgoing` and `Exchange`).

mod conn;

pub use conn::Conn;
pub(crate) use conn::Failure;
