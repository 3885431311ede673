//! A connection's byte stream, whatever protocol runs over it: plain TCP, or TLS over TCP.
//! Kept apart from the protocols so that each connection kind (HTTP/1.1 today) reads and
//! writes the same type, and the connector (`connect.rs`) makes one without knowing which
//! kind will use it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A connection's byte stream: plain TCP, or TLS over TCP.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Stream {
    /// Whether a connection that sat idle is still open: nothing arrived on it, neither
    /// bytes nor the server's close. Plain TCP asks with `try_read`, which reads only when
    /// the reactor has seen the socket readable: the usual answer (nothing came) costs one
    /// load, no system call, and registers no wake-up, where a `poll_read` spent a unit of
    /// the task's budget and cloned its waker into the socket's slot on every request
    /// (docs/PERFORMANCE.md, "The code laid out by BOLT"). Nothing is lost: the read
    /// after the request is written registers the waker the answer needs. TLS reads through
    /// the session, since a close there (`close_notify`) is TLS data.
    pub(crate) fn poll_idle_open(&mut self, cx: &mut Context<'_>) -> bool {
        let mut byte = [0u8; 1];
        match self {
            Stream::Plain(s) => matches!(
                s.try_read(&mut byte),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock
            ),
            Stream::Tls(s) => {
                let mut probe = ReadBuf::new(&mut byte);
                Pin::new(s.as_mut()).poll_read(cx, &mut probe).is_pending()
            }
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
