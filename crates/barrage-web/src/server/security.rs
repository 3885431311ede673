//! Who may use the web UI. The page starts and steers load against a server, so a request
//! that did not come from the person running barrage must not reach a handler:
//!
//! - **Other sites** (a page in the same browser posting to `127.0.0.1:8089`): a request
//!   whose `Sec-Fetch-Site` is `cross-site` or `same-site`, or whose `Origin` is not the
//!   server's own, is refused with 403. Scripts (curl, Python, Locust tooling) send neither
//!   header and pass, so Locust's `GET /stop` stays usable from them.
//! - **DNS rebinding** (a site whose name resolves to 127.0.0.1, which makes the browser
//!   call it same-origin): without a token the server is on loopback, and a request whose
//!   `Host` is not a loopback address or `localhost` is refused with 403.
//! - **Other machines**: off loopback a token is required (the front end refuses to start
//!   without one); every request must carry it as `Authorization: Bearer TOKEN` or in the
//!   cookie that loading the page with `?token=TOKEN` sets (HttpOnly, SameSite=Strict), else
//!   401.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::Shared;

/// The cookie that carries the token after `?token=`.
const COOKIE: &str = "barrage_token";

/// The server's rules (see the module comment).
#[derive(Clone, Debug)]
pub(crate) struct Security {
    token: Option<String>,
    loopback: bool,
}

impl Security {
    pub(crate) fn new(token: Option<String>, loopback: bool) -> Security {
        Security { token, loopback }
    }
}

/// Why a request is refused, or `None` to let it through.
fn refusal(
    sec: &Security,
    method: &Method,
    uri: &axum::http::Uri,
    h: &HeaderMap,
) -> Option<Response> {
    let text = |name: header::HeaderName| h.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
            return Some(forbidden(format!(
                "refused: the request came from another site (Sec-Fetch-Site: {site})"
            )));
        }
    }
    let host = text(header::HOST).unwrap_or("");
    if let Some(origin) = text(header::ORIGIN) {
        if !same_origin(origin, host) {
            return Some(forbidden(format!(
                "refused: the request came from {origin}, not from this page (http://{host})"
            )));
        }
    }
    if sec.token.is_none() && sec.loopback && !loopback_host(host) {
        return Some(forbidden(format!(
            "refused: Host `{host}` is not this machine; open the page at 127.0.0.1 or \
             localhost (or give --web-auth-token)"
        )));
    }
    let token = sec.token.as_deref()?;
    // The scheme's name is case-insensitive (RFC 9110, 11.1): `bearer` and `BEARER` too.
    let bearer = text(header::AUTHORIZATION)
        .map(str::trim_start)
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .is_some_and(|(_, t)| same(t.trim(), token));
    let cookie = h
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .any(|(name, value)| name == COOKIE && same(value, token));
    if bearer || cookie {
        return None;
    }
    if let Some(given) = query_token(uri) {
        if same(&given, token) && method == Method::GET && uri.path() == "/" {
            // The page with its token: keep the token in a cookie, and take it out of the
            // address bar (and the history) by loading the page again without it.
            let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
            let mut r = (StatusCode::SEE_OTHER, "").into_response();
            r.headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("/"));
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            return Some(r);
        }
    }
    let mut r = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "this web UI needs its token: `Authorization: Bearer TOKEN`, or open the page once \
         as /?token=TOKEN",
    )
    .into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    Some(r)
}

/// The middleware that applies [`refusal`] to every request.
pub(crate) async fn guard(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    match refusal(&shared.security, req.method(), req.uri(), req.headers()) {
        Some(refused) => refused,
        None => next.run(req).await,
    }
}

fn forbidden(text: String) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, text).into_response()
}

/// `Origin: http://HOST` for the `Host` the request was sent to.
fn same_origin(origin: &str, host: &str) -> bool {
    !host.is_empty()
        && origin
            .strip_prefix("http://")
            .is_some_and(|o| o.eq_ignore_ascii_case(host))
}

/// A `Host` header that names this machine: 127.x.x.x, `[::1]` or `localhost`, any port.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn query_token(uri: &axum::http::Uri) -> Option<String> {
    uri.query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "token")
        .map(|(_, value)| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned()
        })
}

/// Compares a given token with the server's in time that does not depend on where they
/// differ, so the token cannot be guessed byte by byte from response times.
fn same(given: &str, token: &str) -> bool {
    let (a, b) = (given.as_bytes(), token.as_bytes());
    let mut diff = a.len() ^ b.len();
    for (i, &t) in b.iter().enumerate() {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ t);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn status(sec: &Security, uri: &str, pairs: &[(&'static str, &str)]) -> Option<StatusCode> {
        refusal(sec, &Method::GET, &uri.parse().unwrap(), &headers(pairs)).map(|r| r.status())
    }

    #[test]
    fn other_sites_are_refused_and_scripts_pass() {
        let sec = Security::new(None, true);
        let host = ("host", "127.0.0.1:8089");
        assert_eq!(
            status(&sec, "/stop", &[host]),
            None,
            "a script sends no Origin"
        );
        assert_eq!(
            status(&sec, "/", &[host, ("origin", "http://127.0.0.1:8089")]),
            None
        );
        assert_eq!(
            status(&sec, "/", &[host, ("sec-fetch-site", "same-origin")]),
            None
        );
        assert_eq!(
            status(&sec, "/stop", &[host, ("origin", "http://evil.example")]),
            Some(StatusCode::FORBIDDEN)
        );
        assert_eq!(
            status(&sec, "/stop", &[host, ("origin", "null")]),
            Some(StatusCode::FORBIDDEN)
        );
        for site in ["cross-site", "same-site"] {
            assert_eq!(
                status(&sec, "/stop", &[host, ("sec-fetch-site", site)]),
                Some(StatusCode::FORBIDDEN)
            );
        }
        // DNS rebinding: same origin as far as the browser knows, but not a loopback name.
        let rebound = ("host", "evil.example:8089");
        assert_eq!(
            status(
                &sec,
                "/",
                &[rebound, ("origin", "http://evil.example:8089")]
            ),
            Some(StatusCode::FORBIDDEN)
        );
        for ok in ["localhost:8089", "[::1]:8089", "127.0.0.1"] {
            assert_eq!(status(&sec, "/", &[("host", ok)]), None, "{ok}");
        }
    }

    #[test]
    fn a_token_is_needed_as_bearer_or_cookie_and_the_page_load_sets_the_cookie() {
        let sec = Security::new(Some("s3cret".into()), false);
        let host = ("host", "10.0.0.5:8089");
        assert_eq!(
            status(&sec, "/api/view", &[host]),
            Some(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            status(
                &sec,
                "/api/view",
                &[host, ("authorization", "Bearer wrong")]
            ),
            Some(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            status(
                &sec,
                "/api/view",
                &[host, ("authorization", "Bearer s3cret")]
            ),
            None
        );
        assert_eq!(
            status(
                &sec,
                "/api/view",
                &[host, ("authorization", "bEARER s3cret")]
            ),
            None
        );
        assert_eq!(
            status(
                &sec,
                "/api/view",
                &[host, ("cookie", "a=b; barrage_token=s3cret")]
            ),
            None
        );
        // `?token=` counts only on the page itself.
        assert_eq!(
            status(&sec, "/api/view?token=s3cret", &[host]),
            Some(StatusCode::UNAUTHORIZED)
        );
        let r = refusal(
            &sec,
            &Method::GET,
            &"/?token=s3cret".parse().unwrap(),
            &headers(&[host]),
        )
        .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let cookie = r.headers()[header::SET_COOKIE].to_str().unwrap();
        assert_eq!(
            cookie,
            "barrage_token=s3cret; HttpOnly; SameSite=Strict; Path=/"
        );
        assert!(!same("s3cre", "s3cret") && !same("s3cret!", "s3cret") && same("s3cret", "s3cret"));
    }
}
