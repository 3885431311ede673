//! Opening connections: TCP (with a timeout, from one of the `--local-addresses` when
//! given), TLS by rustls when the origin asks for it, and the connection's kind: HTTP/2
//! when TLS's ALPN agreed on `h2` or the run asked for it over cleartext (prior
//! knowledge, h2c), HTTP/1.1 otherwise ([`HttpVersion`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tokio::net::{TcpSocket, TcpStream};

use super::h1::{Conn, MAX_HEAD};
use super::h2;
use super::tls::Tls;
use super::BodyBudget;
use super::{ConnectTiming, Connection, Origin, RequestError, Scheme, Stream};

/// Opens connections for the users of one worker, and holds what every connection of the
/// run shares: the limits on response heads and kept bodies, and whether a request that
/// met a dead reused connection goes once more.
#[derive(Clone)]
pub struct Connector {
    pub connect_timeout: Duration,
    /// A request written to a reused connection that died before a byte of the answer is
    /// sent once more on a fresh one (`--no-retry` turns it off).
    pub retry_reused: bool,
    /// The most bytes a response head may take (`--max-head-size`).
    pub max_head: usize,
    /// What all kept bodies of the process may take together (`--max-body-memory`).
    pub body_budget: Arc<BodyBudget>,
    /// Shared by every worker's connector: built once, on the first TLS connection.
    tls: Arc<Tls>,
    /// Source addresses connections are made from, in turn; empty: the system chooses.
    local: Arc<[IpAddr]>,
    /// The next source address, shared by all workers (touched once per connection).
    next_local: Arc<AtomicUsize>,
    /// Which HTTP connections speak; over TLS the offer is made by the TLS configuration's
    /// ALPN ([`Tls`]) and the server's pick decides.
    pub http: HttpVersion,
}

/// Which HTTP a run's connections speak (`defaults: { http2: ... }`, `--http1`, `--http2`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.1 only: TLS offers only `http/1.1` (`http2: false`, `--http1`).
    Http1,
    /// Over TLS, ALPN offers `h2` and `http/1.1` and the server picks; cleartext speaks
    /// HTTP/1.1 (nothing tells a client a cleartext server speaks HTTP/2). The default.
    #[default]
    Negotiated,
    /// HTTP/2 always: over cleartext with prior knowledge (h2c), over TLS offering only
    /// `h2` (`http2: true`, `--http2`). A TLS server that does not pick it fails the
    /// connection rather than being spoken to in another version than asked.
    Http2,
}

impl Connector {
    pub fn new(connect_timeout: Duration, tls: Arc<Tls>) -> Connector {
        Connector {
            connect_timeout,
            retry_reused: true,
            max_head: MAX_HEAD,
            body_budget: Arc::new(BodyBudget::default()),
            tls,
            local: Arc::from(Vec::new()),
            next_local: Arc::new(AtomicUsize::new(0)),
            http: HttpVersion::Negotiated,
        }
    }

    /// Connections are made from these source addresses, in turn (`--local-addresses`):
    /// each source address has its own ephemeral ports, so a machine can hold more
    /// connections to one target address than one source address allows (about 28,000
    /// on Linux's default port range).
    pub fn with_local_addresses(mut self, local: Vec<IpAddr>) -> Connector {
        self.local = Arc::from(local);
        self
    }

    /// Connects: TCP, then TLS when the origin is https. The connection's kind is
    /// decided here ([`HttpVersion`]); HTTP/2's preface goes out with the first request.
    pub async fn connect(
        &self,
        origin: &Origin,
    ) -> Result<(Connection, ConnectTiming), RequestError> {
        // Built on the run's first TLS connection (the root certificates loaded then, when
        // the run did not need them at start): before this connection's clock starts, so
        // its connect and TLS times stay the network's and the handshake's.
        let tls_config = match origin.scheme {
            Scheme::Http => None,
            Scheme::Https => Some(match self.http {
                HttpVersion::Http1 => self.tls.http1(),
                _ => self.tls.offered(),
            }),
        };
        let started = Instant::now();
        let tcp = tokio::time::timeout(self.connect_timeout, self.tcp(origin))
            .await
            .map_err(|_| RequestError::ConnectTimeout(origin.to_string(), self.connect_timeout))?
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::ConnectionRefused => RequestError::Refused(origin.to_string()),
                _ if local_shortage(&e) => RequestError::LocalResources(origin.to_string(), e),
                _ => RequestError::Connect(origin.to_string(), e),
            })?;
        // Requests are small and latency is what we measure: don't let Nagle hold them.
        let _ = tcp.set_nodelay(true);
        let connected = Instant::now();
        match tls_config {
            None => {
                let timing = ConnectTiming {
                    connect: connected - started,
                    tls: None,
                };
                let stream = Stream::Plain(tcp);
                let conn = match self.http {
                    HttpVersion::Http2 => self.http2(stream, origin).await?,
                    _ => Connection::Http1(Conn::new(stream).with_max_head(self.max_head)),
                };
                Ok((conn, timing))
            }
            Some(config) => {
                let name = ServerName::try_from(origin.host.to_string())
                    .map_err(|e| RequestError::Invalid(format!("bad TLS server name: {e}")))?;
                let connector = tokio_rustls::TlsConnector::from(config);
                let remaining = self.connect_timeout.saturating_sub(connected - started);
                let tls = tokio::time::timeout(remaining, connector.connect(name, tcp))
                    .await
                    .map_err(|_| {
                        RequestError::ConnectTimeout(origin.to_string(), self.connect_timeout)
                    })?
                    .map_err(|e| RequestError::Tls(origin.to_string(), e))?;
                let secured = Instant::now();
                let timing = ConnectTiming {
                    connect: connected - started,
                    tls: Some(secured - connected),
                };
                let picked_h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                let stream = Stream::Tls(Box::new(tls));
                let conn = match (picked_h2, self.http) {
                    (true, _) => self.http2(stream, origin).await?,
                    (false, HttpVersion::Http2) => {
                        return Err(RequestError::Protocol(format!(
                            "{origin} did not agree to HTTP/2 by ALPN (without --http2 or \
                             `http2: true`, barrage falls back to HTTP/1.1)"
                        )))
                    }
                    (false, _) => Connection::Http1(Conn::new(stream).with_max_head(self.max_head)),
                };
                Ok((conn, timing))
            }
        }
    }

    /// Whether a connection to `origin` may come up HTTP/2: over TLS unless the run is
    /// HTTP/1.1 alone, over cleartext only with prior knowledge (`--http2`).
    pub fn may_speak_http2(&self, origin: &Origin) -> bool {
        match self.http {
            HttpVersion::Http1 => false,
            HttpVersion::Negotiated => origin.scheme == Scheme::Https,
            HttpVersion::Http2 => true,
        }
    }

    /// This connector speaking HTTP/1.1 alone (TLS offering only `http/1.1` by ALPN), for
    /// what needs it whatever the run asks: a WebSocket's upgrade is an HTTP/1.1 request.
    /// Over TLS its ALPN offers `http/1.1` alone ([`Tls::http1`]).
    pub fn http1_only(&self) -> Connector {
        let mut c = self.clone();
        c.http = HttpVersion::Http1;
        c
    }

    /// Builds the TLS configuration now rather than on the first TLS connection
    /// ([`Tls::prepare`]).
    pub fn prepare_tls(&self) {
        self.tls.prepare();
    }

    /// HTTP/2 on an open stream: the `h2` handshake (the preface is written with the
    /// first request, so this takes no round trip).
    async fn http2(&self, stream: Stream, origin: &Origin) -> Result<Connection, RequestError> {
        Ok(Connection::Http2(Box::new(
            h2::Conn::handshake(stream, origin).await?,
        )))
    }

    /// The TCP connection, from the next local address when some are set.
    async fn tcp(&self, origin: &Origin) -> std::io::Result<TcpStream> {
        if self.local.is_empty() {
            return TcpStream::connect((&*origin.host, origin.port)).await;
        }
        let mut last = None;
        for addr in tokio::net::lookup_host((&*origin.host, origin.port)).await? {
            let Some(local) = self.next_local_for(addr) else {
                last = Some(std::io::Error::new(
                    std::io::ErrorKind::AddrNotAvailable,
                    format!("no --local-addresses entry of the same IP version as {addr}"),
                ));
                continue;
            };
            let socket = match addr {
                SocketAddr::V4(_) => TcpSocket::new_v4()?,
                SocketAddr::V6(_) => TcpSocket::new_v6()?,
            };
            socket.bind(SocketAddr::new(local, 0))?;
            match socket.connect(addr).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "the host has no address")
        }))
    }

    fn next_local_for(&self, target: SocketAddr) -> Option<IpAddr> {
        let n = self.local.len();
        let start = self.next_local.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|i| self.local[start.wrapping_add(i) % n])
            .find(|a| a.is_ipv4() == target.is_ipv4())
    }
}

/// Whether a failure to open a socket, bind or connect it means this machine ran out of
/// something (descriptors, ports, buffers) rather than that the target refused: such a
/// failure is the generator's limit, not the server's, and users hitting it back off
/// instead of retrying at once. Only errors the kernel returned count: an error barrage
/// made itself (no local address of the right IP version) is a configuration mistake.
pub(crate) fn local_shortage(e: &std::io::Error) -> bool {
    let Some(code) = e.raw_os_error() else {
        return false;
    };
    [
        libc::EMFILE,
        libc::ENFILE,
        libc::EADDRNOTAVAIL,
        libc::EADDRINUSE,
        libc::ENOBUFS,
        libc::ENOMEM,
    ]
    .contains(&code)
}

/// Why `--local-addresses` could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalAddressError {
    /// One entry is not an IP address.
    #[error("`{address}` is not an IP address (in --local-addresses `{spec}`)")]
    NotAnAddress { address: String, spec: String },
    /// A range's two ends are of different IP versions.
    #[error("`{0}`: a range's ends must be the same IP version")]
    MixedVersions(String),
    /// A range whose first address is above its last.
    #[error("`{0}`: the range runs downward")]
    Downward(String),
    /// A range holding more addresses than allowed.
    #[error("`{range}`: more than {max} addresses")]
    TooMany { range: String, max: u128 },
    /// The whole specification names no address.
    #[error("--local-addresses names no address")]
    Empty,
}

/// Parses `--local-addresses`: addresses and inclusive ranges, comma-separated
/// (`127.0.0.2-127.0.0.60,::1`). A range stays within one IP version and runs upward.
pub fn parse_local_addresses(spec: &str) -> Result<Vec<IpAddr>, LocalAddressError> {
    const MAX: u128 = 65_536;
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let parse = |s: &str| {
            s.trim()
                .parse::<IpAddr>()
                .map_err(|_| LocalAddressError::NotAnAddress {
                    address: s.to_string(),
                    spec: spec.to_string(),
                })
        };
        match part.split_once('-') {
            None => out.push(parse(part)?),
            Some((a, b)) => {
                let (a, b) = (parse(a)?, parse(b)?);
                let (lo, hi) = match (a, b) {
                    (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128),
                    (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b)),
                    _ => return Err(LocalAddressError::MixedVersions(part.to_string())),
                };
                if lo > hi {
                    return Err(LocalAddressError::Downward(part.to_string()));
                }
                if hi - lo >= MAX {
                    return Err(LocalAddressError::TooMany {
                        range: part.to_string(),
                        max: MAX,
                    });
                }
                for n in lo..=hi {
                    out.push(match a {
                        IpAddr::V4(_) => IpAddr::from(std::net::Ipv4Addr::from(n as u32)),
                        IpAddr::V6(_) => IpAddr::from(std::net::Ipv6Addr::from(n)),
                    });
                }
            }
        }
    }
    if out.is_empty() {
        return Err(LocalAddressError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::tls_config;

    #[test]
    fn local_address_ranges_expand() {
        let a = parse_local_addresses("127.0.0.2-127.0.0.4, ::1").unwrap();
        let text: Vec<String> = a.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["127.0.0.2", "127.0.0.3", "127.0.0.4", "::1"]);
        assert!(parse_local_addresses("127.0.0.4-127.0.0.2").is_err());
        assert!(parse_local_addresses("127.0.0.1-::1").is_err());
        assert!(parse_local_addresses("localhost").is_err());
        assert!(parse_local_addresses("").is_err());
        assert!(parse_local_addresses("10.0.0.0-10.1.0.0").is_err());
    }

    #[test]
    fn shortages_of_descriptors_and_ports_are_local_and_refusals_are_not() {
        let os = std::io::Error::from_raw_os_error;
        for e in [
            libc::EMFILE,
            libc::ENFILE,
            libc::EADDRNOTAVAIL,
            libc::EADDRINUSE,
        ] {
            assert!(local_shortage(&os(e)), "errno {e}");
        }
        for e in [libc::ECONNREFUSED, libc::ECONNRESET, libc::ETIMEDOUT] {
            assert!(!local_shortage(&os(e)), "errno {e}");
        }
        // barrage's own "no local address of that IP version" is a configuration mistake.
        let own = std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "no entry");
        assert!(!local_shortage(&own));
    }

    #[tokio::test]
    async fn connections_come_from_the_local_addresses_in_turn() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let origin =
            Origin::from_url(&url::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap())
                .unwrap();
        let connector = Connector::new(Duration::from_secs(5), tls_config(true).unwrap())
            .with_local_addresses(parse_local_addresses("127.0.0.2-127.0.0.3").unwrap());
        let mut seen = Vec::new();
        for _ in 0..4 {
            let (_conn, _) = connector.connect(&origin).await.unwrap();
            let (_, peer) = listener.accept().await.unwrap();
            seen.push(peer.ip().to_string());
        }
        assert_eq!(seen, ["127.0.0.2", "127.0.0.3", "127.0.0.2", "127.0.0.3"]);
    }
}
