//! Where a request goes: scheme, host and port, and the `Host` header they imply.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// A scheme, host and port: the unit a connection is made to and kept for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: Scheme,
    /// Host name or IP literal, without brackets.
    pub host: String,
    pub port: u16,
    /// `Host` header value: the host, with the port unless it is the scheme's default.
    pub authority: String,
    /// `authority` as a header value, built once: every request sends it.
    pub host_header: http::HeaderValue,
}

impl Origin {
    /// From a parsed absolute URL; `None` for schemes other than http and https.
    pub fn from_url(url: &url::Url) -> Option<Origin> {
        let scheme = match url.scheme() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return None,
        };
        Origin::with_scheme(scheme, url)
    }

    /// From a parsed `ws://` or `wss://` URL: a WebSocket's upgrade is an HTTP request, so
    /// `ws` is the http origin and `wss` the https one (same default ports). `None` for
    /// other schemes.
    pub fn from_ws_url(url: &url::Url) -> Option<Origin> {
        let scheme = match url.scheme() {
            "ws" => Scheme::Http,
            "wss" => Scheme::Https,
            _ => return None,
        };
        Origin::with_scheme(scheme, url)
    }

    fn with_scheme(scheme: Scheme, url: &url::Url) -> Option<Origin> {
        let host = match url.host()? {
            url::Host::Domain(d) => d.to_string(),
            url::Host::Ipv4(a) => a.to_string(),
            url::Host::Ipv6(a) => a.to_string(),
        };
        let port = url.port_or_known_default()?;
        let authority = match url.port() {
            Some(p) => format!("{}:{p}", bracketed(&host)),
            None => bracketed(&host),
        };
        let host_header = http::HeaderValue::from_str(&authority).ok()?;
        Some(Origin {
            scheme,
            host,
            port,
            authority,
            host_header,
        })
    }
}

fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        write!(f, "{scheme}://{}", self.authority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_port_is_left_out_of_the_host_header() {
        let o = Origin::from_url(&url::Url::parse("https://example.com/x").unwrap()).unwrap();
        assert_eq!((o.port, o.authority.as_str()), (443, "example.com"));
        let o = Origin::from_url(&url::Url::parse("http://[::1]:8080/").unwrap()).unwrap();
        assert_eq!(
            (o.host.as_str(), o.authority.as_str()),
            ("::1", "[::1]:8080")
        );
        assert!(Origin::from_url(&url::Url::parse("ftp://x/").unwrap()).is_none());
    }

    #[test]
    fn websocket_urls_map_to_http_origins() {
        let o = Origin::from_ws_url(&url::Url::parse("wss://example.com/chat").unwrap()).unwrap();
        assert_eq!((o.scheme, o.port), (Scheme::Https, 443));
        let o = Origin::from_ws_url(&url::Url::parse("ws://127.0.0.1:9/x").unwrap()).unwrap();
        assert_eq!(
            (o.scheme, o.authority.as_str()),
            (Scheme::Http, "127.0.0.1:9")
        );
        assert!(Origin::from_ws_url(&url::Url::parse("http://x/").unwrap()).is_none());
        assert!(Origin::from_url(&url::Url::parse("ws://x/").unwrap()).is_none());
    }
}
