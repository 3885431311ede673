//! One WebSocket connection carrying the protocol's JSON messages, over TCP or TLS.

use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A byte stream a WebSocket runs over: a TCP connection, or TLS over one.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The connection, typed by what this side receives (`In`) and sends (`Out`).
pub struct Link<In, Out> {
    ws: WebSocketStream<Box<dyn Io>>,
    _types: std::marker::PhantomData<fn(Out) -> In>,
}

/// Why a message could not be sent or received.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("connection closed")]
    Closed,
    #[error("{0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("unreadable message: {0}")]
    Json(#[from] serde_json::Error),
}

impl<In: DeserializeOwned, Out: Serialize> Link<In, Out> {
    pub fn new(ws: WebSocketStream<Box<dyn Io>>) -> Self {
        Link {
            ws,
            _types: std::marker::PhantomData,
        }
    }

    pub async fn send(&mut self, message: &Out) -> Result<(), LinkError> {
        let text = serde_json::to_string(message)?;
        self.ws.send(Message::text(text)).await?;
        Ok(())
    }

    /// The next message; pings and pongs of the WebSocket itself are answered underneath.
    pub async fn recv(&mut self) -> Result<In, LinkError> {
        loop {
            match self.ws.next().await {
                None => return Err(LinkError::Closed),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text)?),
                Some(Ok(Message::Binary(bytes))) => return Ok(serde_json::from_slice(&bytes)?),
                Some(Ok(Message::Close(_))) => return Err(LinkError::Closed),
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Closes the connection politely; errors do not matter any more at that point.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
