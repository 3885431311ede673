//! Where a request goes: scheme, host and port, and the `Host` header they imply.

use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// A scheme, host and port: the unit a connection is made to and kept for.
///
/// Its text is shared, not copied, by a clone: a connection keeps a clone of the origin it
/// was opened to, and every request finds its connection by comparing that clone with the
/// plan's origin. Shared, the two are one allocation and the comparison reads none of it;
/// copied, it read the connection's copies, a cache line gone cold since the user's last
/// request (about one a request in a model of a busy machine's caches;
/// docs/PERFORMANCE.md, "Fewer cold lines a request").
#[derive(Debug, Clone)]
pub struct Origin {
    pub scheme: Scheme,
    /// Host name or IP literal, without brackets.
    pub host: Arc<str>,
    pub port: u16,
    /// `Host` header value: the host, with the port unless it is the scheme's default.
    pub authority: Arc<str>,
    /// `authority` as a header value, built once: every request sends it (a clone shares
    /// its bytes).
    pub host_header: http::HeaderValue,
}

impl PartialEq for Origin {
    /// Equal scheme, host, port, authority and header value, as derived; text that is one
    /// allocation (an origin and its clone) is equal without reading it.
    fn eq(&self, other: &Origin) -> bool {
        fn same(a: &[u8], b: &[u8]) -> bool {
            std::ptr::eq(a, b) || a == b
        }
        self.scheme == other.scheme
            && self.port == other.port
            && same(self.host.as_bytes(), other.host.as_bytes())
            && same(self.authority.as_bytes(), other.authority.as_bytes())
            && same(self.host_header.as_bytes(), other.host_header.as_bytes())
    }
}

impl Eq for Origin {}

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
            host: host.into(),
            port,
            authority: authority.into(),
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
        assert_eq!((o.port, &*o.authority), (443, "example.com"));
        let o = Origin::from_url(&url::Url::parse("http://[::1]:8080/").unwrap()).unwrap();
        assert_eq!((&*o.host, &*o.authority), ("::1", "[::1]:8080"));
        assert!(Origin::from_url(&url::Url::parse("ftp://x/").unwrap()).is_none());
    }

    /// A connection is found by comparing origins: equal when all their parts are,
    /// whether the text is shared (a clone) or parsed twice.
    #[test]
    fn origins_are_equal_by_their_parts_shared_or_not() {
        let parse = |u: &str| Origin::from_url(&url::Url::parse(u).unwrap()).unwrap();
        let a = parse("http://127.0.0.1:8000/x");
        let clone = a.clone();
        assert!(std::ptr::eq(a.host.as_bytes(), clone.host.as_bytes()));
        assert_eq!(a, clone);
        let again = parse("http://127.0.0.1:8000/y");
        assert!(!std::ptr::eq(a.host.as_bytes(), again.host.as_bytes()));
        assert_eq!(a, again);
        assert_ne!(a, parse("http://127.0.0.1:8001/x"));
        assert_ne!(a, parse("http://127.0.0.2:8000/x"));
        assert_ne!(a, parse("https://127.0.0.1:8000/x"));
    }

    #[test]
    fn websocket_urls_map_to_http_origins() {
        let o = Origin::from_ws_url(&url::Url::parse("wss://example.com/chat").unwrap()).unwrap();
        assert_eq!((o.scheme, o.port), (Scheme::Https, 443));
        let o = Origin::from_ws_url(&url::Url::parse("ws://127.0.0.1:9/x").unwrap()).unwrap();
        assert_eq!((o.scheme, &*o.authority), (Scheme::Http, "127.0.0.1:9"));
        assert!(Origin::from_ws_url(&url::Url::parse("http://x/").unwrap()).is_none());
        assert!(Origin::from_url(&url::Url::parse("ws://x/").unwrap()).is_none());
    }
}
