//! Building and sending one request for a VU: rendering the plan's templates into a
//! request, following redirects, and keeping the cookie jar. Split from `vu.rs` so that
//! file holds the user's loop and the judging of answers.

use std::rc::Rc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request};

use super::{current_rows, Vu};
use crate::http::{Exchange, Origin, RequestError};
use crate::plan::{BodyPlan, HeaderPlan, RequestPlan, UrlPlan};
use barrage_template::RenderCtx;
use std::time::Instant;

const USER_AGENT: &str = concat!("barrage/", env!("CARGO_PKG_VERSION"));

impl Vu {
    /// Renders the request: its origin when it is not the plan's base origin (an absolute
    /// URL), the request (origin-form URI), its size on the wire, and its body.
    #[allow(clippy::type_complexity)]
    pub(super) fn build(
        &mut self,
        r: &RequestPlan,
    ) -> Result<(Option<Origin>, Request<Bytes>, u64, Bytes), String> {
        let plan = Rc::clone(&self.plan);
        let rows = current_rows(&plan, &self.rows);
        let mut ctx = RenderCtx {
            vars: &self.vars,
            user_id: self.user_id,
            iteration: self.iteration,
            rng: &mut self.rng,
            data: &rows,
        };
        let url = &mut self.url_buf;
        url.clear();
        let origin = match &r.url {
            UrlPlan::Path(t) => {
                let base = plan
                    .base
                    .as_ref()
                    .expect("compile rejects paths without a target");
                url.push_str(&base.path_prefix);
                let start = url.len();
                t.render(&mut ctx, url).map_err(|e| e.message)?;
                encode_path_in_place(url, start);
                None
            }
            UrlPlan::Absolute(t) => {
                let mut full = String::new();
                t.render(&mut ctx, &mut full).map_err(|e| e.message)?;
                let parsed =
                    url::Url::parse(&full).map_err(|e| format!("bad URL `{full}`: {e}"))?;
                let origin = Origin::from_url(&parsed)
                    .ok_or_else(|| format!("`{full}` is not an http(s) URL"))?;
                url.push_str(parsed.path());
                if let Some(q) = parsed.query() {
                    url.push('?');
                    url.push_str(q);
                }
                Some(origin)
            }
        };
        if !r.query.is_empty() {
            let mut sep = if url.contains('?') { '&' } else { '?' };
            let mut value = String::new();
            for (k, t) in &r.query {
                value.clear();
                t.render(&mut ctx, &mut value).map_err(|e| e.message)?;
                url.push(sep);
                url.push_str(k);
                url.push('=');
                url.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
                sep = '&';
            }
        }
        let body: Bytes = match &r.body {
            BodyPlan::None => Bytes::new(),
            BodyPlan::Json(t) => {
                let mut out = Vec::new();
                t.render_json(&mut ctx, &mut out).map_err(|e| e.message)?;
                out.into()
            }
            BodyPlan::Form(fields) => {
                let mut out = String::new();
                let mut value = String::new();
                for (i, (k, t)) in fields.iter().enumerate() {
                    value.clear();
                    t.render(&mut ctx, &mut value).map_err(|e| e.message)?;
                    if i > 0 {
                        out.push('&');
                    }
                    out.push_str(k);
                    out.push('=');
                    out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
                }
                out.into()
            }
            BodyPlan::Raw(t) => {
                let mut out = String::new();
                t.render(&mut ctx, &mut out).map_err(|e| e.message)?;
                out.into()
            }
            BodyPlan::Multipart(m) => m.render(&mut ctx).map_err(|e| e.message)?,
        };
        let mut builder = Request::builder()
            .method(r.method.clone())
            .uri(url.as_str());
        let target: &Origin = match &origin {
            Some(o) => o,
            None => &plan.base.as_ref().expect("a path implies a base").origin,
        };
        let headers = builder.headers_mut().expect("a fresh builder has headers");
        headers.insert(http::header::HOST, target.host_header.clone());
        let mut value = String::new();
        for (name, h) in &r.headers {
            let v = match h {
                HeaderPlan::Static(v) => v.clone(),
                HeaderPlan::Dynamic(t) => {
                    value.clear();
                    t.render(&mut ctx, &mut value).map_err(|e| e.message)?;
                    HeaderValue::from_str(&value)
                        .map_err(|_| format!("header `{name}`: `{value}` is not a valid value"))?
                }
            };
            headers.append(name.clone(), v);
        }
        if !headers.contains_key(http::header::USER_AGENT) {
            headers.insert(
                http::header::USER_AGENT,
                HeaderValue::from_static(USER_AGENT),
            );
        }
        if let Some(ct) = &r.content_type {
            headers.insert(http::header::CONTENT_TYPE, ct.clone());
        }
        if self.has_cookies {
            if let Some(jar) = &self.cookies {
                let full = format!("{target}{url}");
                if let Ok(u) = url::Url::parse(&full) {
                    let cookie = jar
                        .get_request_values(&u)
                        .map(|(n, v)| format!("{n}={v}"))
                        .collect::<Vec<_>>()
                        .join("; ");
                    if !cookie.is_empty() {
                        // A `cookie` header the step sets itself (cookie parameters, API
                        // keys) is kept, and the jar's cookies are added to it.
                        let cookie = match headers.get(http::header::COOKIE) {
                            Some(own) => format!("{}; {cookie}", own.to_str().unwrap_or("")),
                            None => cookie,
                        };
                        if let Ok(v) = HeaderValue::from_str(&cookie) {
                            headers.insert(http::header::COOKIE, v);
                        }
                    }
                }
            }
        }
        let head_len: usize = r.method.as_str().len()
            + url.len()
            + 12
            + headers
                .iter()
                .map(|(n, v)| n.as_str().len() + v.len() + 4)
                .sum::<usize>()
            + 2;
        let sent = (head_len + body.len()) as u64;
        let req = builder
            .body(body.clone())
            .map_err(|e| format!("cannot build the request: {e}"))?;
        Ok((origin, req, sent, body))
    }

    /// Sends, following redirects up to the plan's limit; timing spans the whole chain.
    pub(super) async fn exchange(
        &mut self,
        r: &RequestPlan,
        first_origin: &Origin,
        req: Request<Bytes>,
    ) -> Result<Exchange, RequestError> {
        // An Rc clone (not the connector's Arc, shared across workers) keeps the borrow
        // checker happy without touching a cross-thread counter per request.
        let ctx = self.ctx.clone();
        let connector = &ctx.connector;
        let mut redirected: Option<Origin> = None;
        let mut req = req;
        let mut first: Option<(Instant, Option<crate::http::ConnectTiming>)> = None;
        let mut redirects = 0;
        loop {
            // Cheap copies (a small enum and a shared buffer): a redirect needs them.
            let method = req.method().clone();
            let uri = req.uri().clone();
            let origin = redirected.as_ref().unwrap_or(first_origin);
            let x = self
                .conns
                .send(
                    connector,
                    origin,
                    req,
                    r.keep_body || self.observer.is_some(),
                    r.timeout,
                )
                .await?;
            let (sent_at, connected) = *first.get_or_insert((x.sent_at, x.connected));
            let redirect = self.plan.max_redirects > redirects
                && matches!(x.status.as_u16(), 301 | 302 | 303 | 307 | 308);
            let location = redirect
                .then(|| x.head.get("location"))
                .flatten()
                .and_then(|l| std::str::from_utf8(l).ok());
            let follow = location.is_some();
            let here = || {
                url::Url::parse(&format!("{origin}{uri}"))
                    .map_err(|e| RequestError::Invalid(e.to_string()))
            };
            if !follow {
                // The final answer of a redirected request sets its cookies for its own URL
                // (`judge` stores them for the first URL otherwise).
                if redirected.is_some() && x.head.sets_cookie() {
                    self.store_cookie_headers(&here()?, x.headers());
                }
                return Ok(Exchange {
                    sent_at,
                    connected,
                    redirected: redirected.is_some(),
                    ..x
                });
            }
            redirects += 1;
            let here = here()?;
            let next = here
                .join(location.expect("follow implies a location"))
                .map_err(|e| RequestError::Invalid(format!("bad redirect location: {e}")))?;
            self.store_cookie_headers(&here, x.headers());
            let next_origin = Origin::from_url(&next)
                .ok_or_else(|| RequestError::Invalid(format!("redirect to `{next}`")))?;
            // As browsers and curl do: 307/308 repeat the request as it was; 303, and 301/302
            // after a POST, turn into a GET without a body.
            let keep_method = matches!(x.status.as_u16(), 307 | 308)
                || (method != http::Method::POST && x.status.as_u16() != 303);
            // The next hop is built from the plan again rather than copied from the request
            // sent (the connection took it): no header copy per request for the rare redirect.
            let (_, fresh, _, body) = self.build(r).map_err(RequestError::Invalid)?;
            let (mut parts, _) = fresh.into_parts();
            let mut path = next.path().to_string();
            if let Some(q) = next.query() {
                path.push('?');
                path.push_str(q);
            }
            parts.uri = path
                .parse()
                .map_err(|e| RequestError::Invalid(format!("redirect to `{next}`: {e}")))?;
            let body = if keep_method {
                body
            } else {
                parts.method = http::Method::GET;
                parts.headers.remove(http::header::CONTENT_TYPE);
                parts.headers.remove(http::header::CONTENT_LENGTH);
                Bytes::new()
            };
            parts
                .headers
                .insert(http::header::HOST, next_origin.host_header.clone());
            // Credentials go only where they were meant for.
            if next_origin != *first_origin {
                parts.headers.remove(http::header::AUTHORIZATION);
            }
            parts.headers.remove(http::header::COOKIE);
            if let Some(jar) = &self.cookies {
                let cookie = jar
                    .get_request_values(&next)
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    if !cookie.is_empty() {
                        parts.headers.insert(http::header::COOKIE, v);
                    }
                }
            }
            req = Request::from_parts(parts, body);
            redirected = Some(next_origin);
        }
    }

    pub(super) fn store_cookies(&mut self, url: &str, x: &Exchange) {
        if !x.head.sets_cookie() {
            return;
        }
        if let Ok(u) = url::Url::parse(url) {
            self.store_cookie_headers(&u, x.headers());
        }
    }

    fn store_cookie_headers(&mut self, url: &url::Url, headers: &HeaderMap) {
        let Some(jar) = &mut self.cookies else {
            return;
        };
        for value in headers.get_all(http::header::SET_COOKIE) {
            if let Ok(s) = value.to_str() {
                let _ = jar.parse(s, url);
                self.has_cookies = true;
            }
        }
    }
}

/// Percent-encodes what may not appear raw in a request target (`/items/Item 7` is sent
/// as `/items/Item%207`), leaving `%` alone so already-encoded paths pass unchanged.
fn encode_path_in_place(url: &mut String, from: usize) {
    const UNSAFE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'<')
        .add(b'>')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'|')
        .add(b'\\')
        .add(b'^');
    let encoded: std::borrow::Cow<'_, str> =
        percent_encoding::utf8_percent_encode(&url[from..], UNSAFE).into();
    if let std::borrow::Cow::Owned(encoded) = encoded {
        url.truncate(from);
        url.push_str(&encoded);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_encoded_once() {
        let mut s = "/api/items/Item 7".to_string();
        encode_path_in_place(&mut s, 4);
        assert_eq!(s, "/api/items/Item%207");
        let mut s = "/items/Item%207?x=1".to_string();
        encode_path_in_place(&mut s, 0);
        assert_eq!(s, "/items/Item%207?x=1");
        let mut s = "/items/é".to_string();
        encode_path_in_place(&mut s, 0);
        assert_eq!(s, "/items/%C3%A9");
    }
}
