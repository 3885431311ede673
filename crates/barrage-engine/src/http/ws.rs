//! WebSockets over barrage's own connections: the connector opens the TCP (and TLS)
//! connection as for any request, so `--local-addresses`, the connect timeout and the TLS
//! settings apply; tokio-tungstenite writes the upgrade and does the framing.
//!
//! Why tungstenite and not frames of our own: the WebSocket protocol (masking,
//! fragmentation, control frames interleaved with data, the close handshake) is what a
//! maintained crate gets right, and a socket carries few messages next to a request's
//! bytes, so the hand-tuned path `h1/` has for HTTP/1.1 buys nothing here.
//!
//! Must not: share a socket between users, or read a message past its deadline.

use std::time::{Duration, Instant};

use barrage_metrics::FailureCategory;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::{self, protocol::WebSocketConfig, Message};
use tokio_tungstenite::WebSocketStream;

use super::{categorize, ConnectTiming, Connection, Connector, Origin, RequestError, Stream};

/// An open WebSocket.
pub type WsSocket = WebSocketStream<Stream>;

/// A socket just opened, and how long each part of opening it took.
pub struct OpenedWs {
    pub socket: WsSocket,
    /// TCP connect and TLS handshake, as for any connection.
    pub connected: ConnectTiming,
    /// The upgrade: request written to `101 Switching Protocols` read.
    pub upgrade: Duration,
}

/// Why a socket could not be opened, or a message sent or received.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    #[error(transparent)]
    Connect(RequestError),
    /// The upgrade was answered with another status than 101.
    #[error("the upgrade was answered HTTP {0} (expected 101 Switching Protocols)")]
    Rejected(u16),
    #[error("no answer to the upgrade within {0:?}")]
    UpgradeTimeout(Duration),
    /// The server closed the socket (a close frame, with its reason, or the connection).
    #[error("the server closed the WebSocket{}", .0.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    Closed(Option<String>),
    #[error("no message within {0:?}")]
    Timeout(Duration),
    #[error("WebSocket protocol error: {0}")]
    Protocol(String),
}

impl WsError {
    /// The category the failure is counted under.
    pub fn category(&self) -> FailureCategory {
        match self {
            WsError::Connect(e) => categorize(e),
            WsError::Rejected(_) => FailureCategory::Status,
            WsError::UpgradeTimeout(_) => FailureCategory::ConnectTimeout,
            WsError::Closed(_) => FailureCategory::WsClosed,
            WsError::Timeout(_) => FailureCategory::WsTimeout,
            WsError::Protocol(_) => FailureCategory::Protocol,
        }
    }
}

/// Opens a socket to `origin` with `request` (a `ws://` or `wss://` URI and the upgrade's
/// own headers; tungstenite adds the handshake's). Messages over `max_message` bytes fail
/// the receive that reads them. The upgrade must be answered within `timeout`.
pub async fn open_ws(
    connector: &Connector,
    origin: &Origin,
    request: http::Request<()>,
    max_message: usize,
    timeout: Duration,
) -> Result<OpenedWs, WsError> {
    // The upgrade is an HTTP/1.1 request: over TLS, offer only that by ALPN, whatever
    // the run's HTTP/2 setting.
    let (conn, connected) = connector
        .http1_only()
        .connect(origin)
        .await
        .map_err(WsError::Connect)?;
    let Connection::Http1(conn) = conn else {
        return Err(WsError::Connect(RequestError::Protocol(format!(
            "{origin} answered the WebSocket's connection in HTTP/2; the upgrade needs HTTP/1.1"
        ))));
    };
    let stream = conn.into_stream();
    let config = WebSocketConfig::default()
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message));
    let started = Instant::now();
    let handshake = tokio_tungstenite::client_async_with_config(request, stream, Some(config));
    let (socket, _response) = tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| WsError::UpgradeTimeout(timeout))?
        .map_err(|e| match e {
            tungstenite::Error::Http(answer) => WsError::Rejected(answer.status().as_u16()),
            other => failed(other),
        })?;
    Ok(OpenedWs {
        socket,
        connected,
        upgrade: started.elapsed(),
    })
}

/// Sends one text message.
pub async fn send_text(socket: &mut WsSocket, text: String) -> Result<(), WsError> {
    socket.send(Message::text(text)).await.map_err(failed)
}

/// The next text or binary message, waiting until `deadline` at most (control frames are
/// answered by tungstenite and skipped). `waited` is what the timeout error reports.
pub async fn receive(
    socket: &mut WsSocket,
    deadline: Instant,
    waited: Duration,
) -> Result<Bytes, WsError> {
    loop {
        let next = tokio::time::timeout_at(deadline.into(), socket.next())
            .await
            .map_err(|_| WsError::Timeout(waited))?;
        match next {
            None => return Err(WsError::Closed(None)),
            Some(Ok(Message::Text(text))) => return Ok(Bytes::from(text)),
            Some(Ok(Message::Binary(data))) => return Ok(data),
            Some(Ok(Message::Close(frame))) => {
                return Err(WsError::Closed(frame.map(|f| {
                    if f.reason.is_empty() {
                        format!("code {}", u16::from(f.code))
                    } else {
                        format!("code {}: {}", u16::from(f.code), f.reason)
                    }
                })));
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
            Some(Err(e)) => return Err(failed(e)),
        }
    }
}

/// Closes the socket: sends a close frame and reads until the server's answers it (or
/// `wait` has passed). Returns the data messages that still arrived meanwhile.
pub async fn close(mut socket: WsSocket, wait: Duration) -> u64 {
    let deadline = tokio::time::Instant::now() + wait;
    let mut received = 0;
    if tokio::time::timeout_at(deadline, socket.close(None))
        .await
        .is_ok_and(|sent| sent.is_ok())
    {
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, socket.next()).await {
            if matches!(message, Message::Text(_) | Message::Binary(_)) {
                received += 1;
            }
        }
    }
    received
}

/// A tungstenite error as one of ours: a connection that ended is the server closing it.
fn failed(e: tungstenite::Error) -> WsError {
    use tungstenite::error::ProtocolError;
    match e {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            WsError::Closed(None)
        }
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            WsError::Closed(Some("the connection ended without a close frame".into()))
        }
        tungstenite::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::BrokenPipe
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::UnexpectedEof => WsError::Closed(Some(io.to_string())),
            _ => WsError::Protocol(io.to_string()),
        },
        other => WsError::Protocol(other.to_string()),
    }
}
