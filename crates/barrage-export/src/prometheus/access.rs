//! Who may read `/metrics`: the web UI's rule (crates/barrage-web/src/server/security.rs),
//! applied to a read-only page.
//!
//! - Without `--prometheus-auth-token` the listener must be on loopback (checked before
//!   the run, in [`check_listen`]), and a request whose `Host` is not a loopback address or
//!   `localhost` is refused (403): a web page whose name resolves to 127.0.0.1 (DNS
//!   rebinding) must not read the run's endpoints and figures.
//! - With a token, any address may be bound, and every request must carry
//!   `Authorization: Bearer TOKEN` (else 401), compared in constant time so the token
//!   cannot be guessed byte by byte from response times.

use std::net::SocketAddr;

use subtle::ConstantTimeEq;

use crate::ExportError;

/// The address `--prometheus-listen` names, if it may be bound with `token`.
pub(crate) fn check_listen(addr: &str, token: Option<&str>) -> Result<SocketAddr, ExportError> {
    let fail = |reason: String| ExportError::Listen {
        addr: addr.to_owned(),
        reason,
    };
    let parsed: SocketAddr = match addr.parse() {
        Ok(a) => a,
        // `localhost:9464` is what people type; it means loopback.
        Err(_) => match addr.strip_prefix("localhost:").map(str::parse::<u16>) {
            Some(Ok(port)) => SocketAddr::from(([127, 0, 0, 1], port)),
            _ => {
                return Err(fail(
                    "not an address and port; give one like 127.0.0.1:9464, [::1]:9464 or \
                     127.0.0.1:0 (any free port)"
                        .into(),
                ))
            }
        },
    };
    match token {
        Some(t) if t.trim().is_empty() => Err(fail(
            "--prometheus-auth-token is empty; give a hard-to-guess token".into(),
        )),
        None if !parsed.ip().is_loopback() => Err(fail(format!(
            "{} is reachable from other machines, and the metrics name your endpoints; \
             give --prometheus-auth-token TOKEN (scrapes then send `Authorization: Bearer \
             TOKEN`), or listen on 127.0.0.1",
            parsed.ip()
        ))),
        _ => Ok(parsed),
    }
}

/// Why a scrape is refused: `(status, message)`, or `None` to serve it.
pub(crate) fn refusal(
    token: Option<&str>,
    host: Option<&str>,
    authorization: Option<&str>,
) -> Option<(u16, &'static str)> {
    let Some(token) = token else {
        return (!loopback_host(host.unwrap_or(""))).then_some((
            403,
            "refused: Host is not this machine; scrape 127.0.0.1 or localhost\n",
        ));
    };
    // The scheme's name is case-insensitive (RFC 9110, 11.1).
    let given = authorization
        .map(str::trim_start)
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    match given {
        Some(t) if bool::from(t.as_bytes().ct_eq(token.as_bytes())) => None,
        _ => Some((
            401,
            "this endpoint needs its token: `Authorization: Bearer TOKEN` (Prometheus: \
             `authorization: {credentials: TOKEN}` in the scrape config)\n",
        )),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_binds_without_a_token_and_other_addresses_need_one() {
        assert_eq!(
            check_listen("127.0.0.1:0", None).unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        assert!(check_listen("[::1]:9464", None).is_ok());
        assert_eq!(
            check_listen("localhost:9464", None).unwrap(),
            "127.0.0.1:9464".parse().unwrap()
        );
        let e = check_listen("0.0.0.0:9464", None).unwrap_err().to_string();
        assert!(
            e.contains("--prometheus-listen 0.0.0.0:9464") && e.contains("--prometheus-auth-token"),
            "{e}"
        );
        assert!(check_listen("0.0.0.0:9464", Some("s3cret")).is_ok());
        let e = check_listen("0.0.0.0:9464", Some("  "))
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty"), "{e}");
        let e = check_listen("9464", None).unwrap_err().to_string();
        assert!(e.contains("127.0.0.1:9464"), "the fix is named: {e}");
    }

    #[test]
    fn without_a_token_only_loopback_hosts_are_served() {
        assert_eq!(refusal(None, Some("127.0.0.1:9464"), None), None);
        assert_eq!(refusal(None, Some("localhost:9464"), None), None);
        assert_eq!(refusal(None, Some("[::1]:9464"), None), None);
        assert_eq!(
            refusal(None, Some("evil.example:9464"), None).unwrap().0,
            403
        );
        assert_eq!(refusal(None, None, None).unwrap().0, 403);
    }

    #[test]
    fn with_a_token_every_scrape_must_carry_it() {
        let token = Some("s3cret");
        let host = Some("10.0.0.5:9464");
        assert_eq!(refusal(token, host, None).unwrap().0, 401);
        assert_eq!(refusal(token, host, Some("Bearer wrong")).unwrap().0, 401);
        assert_eq!(refusal(token, host, Some("Bearer s3cre")).unwrap().0, 401);
        assert_eq!(refusal(token, host, Some("Bearer s3cret!")).unwrap().0, 401);
        assert_eq!(refusal(token, host, Some("Basic s3cret")).unwrap().0, 401);
        assert_eq!(refusal(token, host, Some("Bearer s3cret")), None);
        assert_eq!(refusal(token, host, Some("bearer  s3cret ")), None);
    }
}
