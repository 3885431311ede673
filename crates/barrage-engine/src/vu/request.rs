//! Building and sending one request for a VU: rendering the plan's templates straight
//! into the request's bytes, following redirects, and keeping the cookie jar. Split from
//! `vu.rs` so that file holds the user's loop and the judging of answers.

use std::rc::Rc;

use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HOST};
use http::{HeaderMap, HeaderName, Method};

use super::trace::{self, TRACEPARENT};
use super::{current_rows, Vu};
use crate::context::Rendered;
use crate::http::{
    valid_value, Exchange, InFlightGauge, Origin, Outgoing, RequestBuf, RequestError, RequestSink,
};
use crate::plan::{BodyPlan, HeaderPlan, RequestPlan, UrlPlan};
use barrage_template::{RenderCtx, RenderError};

const USER_AGENT: &str = concat!("barrage/", env!("CARGO_PKG_VERSION"));

/// Why a request could not be built (rendered) for sending.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A template in the URL, a query parameter, a header or the body failed to render.
    #[error("{0}")]
    Render(#[from] RenderError),
    /// An absolute URL that does not parse.
    #[error("bad URL `{url}`: {source}")]
    BadUrl {
        url: String,
        source: url::ParseError,
    },
    /// An absolute URL that is not http or https.
    #[error("`{0}` is not an http(s) URL")]
    NotHttp(String),
    /// A rendered header value that may not go in a header.
    #[error("header `{name}`: `{value}` is not a valid value")]
    HeaderValue { name: HeaderName, value: String },
}

/// A redirect's next request: where it goes and what of the step it keeps.
pub(super) struct Hop {
    pub origin: Origin,
    /// The next URL, for the cookie jar.
    pub url: url::Url,
    /// Its origin-form target (path and query).
    pub target: String,
    pub method: Method,
    /// The step's body (and content type) go along (307, 308, and 301/302 other than
    /// after a POST); otherwise it is a GET without a body.
    pub body: bool,
    /// Same origin as the step's own URL; otherwise `authorization` and the step's own
    /// `cookie` header stay behind.
    pub same_origin: bool,
}

impl Vu {
    /// Puts the request into `self.request` (and its origin-form target into
    /// `self.url_buf`): the step itself, or, with `hop`, a redirect's next request (into
    /// `self.hop`, so the step's own stays as it was sent). Returns
    /// the request's origin when it is not the plan's base origin (an absolute URL).
    pub(super) fn build(
        &mut self,
        r: &RequestPlan,
        hop: Option<&Hop>,
    ) -> Result<Option<Origin>, BuildError> {
        // A fixed step with nothing added to it (no cookies in the jar, no trace ids) is
        // the same bytes for every user: the worker renders it once, its users copy that,
        // and a user sending it again sends what it holds, as wrk sends one buffer over
        // and over. Rendering a plain GET cost about 730 instructions a request (callgrind,
        // docs/PERFORMANCE.md); a copy is a `memcpy` of its bytes into a buffer already
        // grown to them.
        let fixed = r
            .fixed
            .filter(|_| hop.is_none() && !self.has_cookies && self.ctx.traceparent.is_none());
        let Some(slot) = fixed else {
            self.built = None;
            return self.render(r, hop);
        };
        if self.built == Some(slot) {
            return Ok(None);
        }
        self.built = None;
        match self.ctx.rendered(slot) {
            Some(done) => {
                self.request.clone_from(&done.request);
                self.url_buf.clone_from(&done.url);
                self.body_buf.clone_from(&done.body);
            }
            None => {
                self.render(r, None)?;
                self.ctx.keep_rendered(
                    slot,
                    Rendered {
                        request: self.request.clone(),
                        url: self.url_buf.clone(),
                        body: self.body_buf.clone(),
                    },
                );
            }
        }
        self.built = Some(slot);
        // A fixed step has a path: it goes to the plan's base origin.
        Ok(None)
    }

    /// Renders the request, as [`Vu::build`] does when it has to (the benches measure this).
    pub(super) fn render(
        &mut self,
        r: &RequestPlan,
        hop: Option<&Hop>,
    ) -> Result<Option<Origin>, BuildError> {
        let plan = Rc::clone(&self.plan);
        // `--traceparent`: new ids for the step; a redirect's next request keeps the
        // step's trace with a span of its own.
        let trace = match (self.ctx.traceparent, hop) {
            (None, _) => None,
            (Some(_), None) => {
                self.trace = Some(trace::new_ids(&mut self.rng));
                self.trace
            }
            (Some(_), Some(_)) => self.trace.map(|t| barrage_metrics::TraceIds {
                span_id: trace::new_span_id(&mut self.rng),
                ..t
            }),
        };
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
        let origin = match (&r.url, hop) {
            (_, Some(hop)) => {
                url.push_str(&hop.target);
                None
            }
            (UrlPlan::Path(t), None) => {
                let base = plan
                    .base
                    .as_ref()
                    .expect("compile rejects paths without a target");
                url.push_str(&base.path_prefix);
                let start = url.len();
                t.render(&mut ctx, url)?;
                encode_path_in_place(url, start);
                None
            }
            (UrlPlan::Absolute(t), None) => {
                let mut full = String::new();
                t.render(&mut ctx, &mut full)?;
                let parsed = url::Url::parse(&full).map_err(|source| BuildError::BadUrl {
                    url: full.clone(),
                    source,
                })?;
                let origin =
                    Origin::from_url(&parsed).ok_or_else(|| BuildError::NotHttp(full.clone()))?;
                url.push_str(parsed.path());
                if let Some(q) = parsed.query() {
                    url.push('?');
                    url.push_str(q);
                }
                Some(origin)
            }
        };
        // A fragment is the client's business, never sent; an empty target is `/`. Looked
        // for as a byte first: `str::find` with a `char` costs about 60 instructions per
        // request even on a one-byte path, a byte search a few.
        if url.as_bytes().contains(&b'#') {
            if let Some(hash) = url.find('#') {
                url.truncate(hash);
            }
        }
        if !url.starts_with('/') {
            url.insert(0, '/');
        }
        if hop.is_none() && !r.query.is_empty() {
            let mut sep = if url.contains('?') { '&' } else { '?' };
            let mut value = String::new();
            for (k, t) in &r.query {
                value.clear();
                t.render(&mut ctx, &mut value)?;
                url.push(sep);
                url.push_str(k);
                url.push('=');
                url.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
                sep = '&';
            }
        }
        let with_body = hop.is_none_or(|h| h.body);
        let body = &mut self.body_buf;
        body.clear();
        if with_body {
            match &r.body {
                BodyPlan::None => {}
                BodyPlan::Json(t) => t.render_json(&mut ctx, body)?,
                BodyPlan::Form(fields) => {
                    let mut value = String::new();
                    for (i, (k, t)) in fields.iter().enumerate() {
                        value.clear();
                        t.render(&mut ctx, &mut value)?;
                        if i > 0 {
                            body.push(b'&');
                        }
                        body.extend_from_slice(k.as_bytes());
                        body.push(b'=');
                        for piece in url::form_urlencoded::byte_serialize(value.as_bytes()) {
                            body.extend_from_slice(piece.as_bytes());
                        }
                    }
                }
                BodyPlan::Raw(t) => {
                    let mut out = String::new();
                    t.render(&mut ctx, &mut out)?;
                    body.extend_from_slice(out.as_bytes());
                }
                BodyPlan::Multipart(m) => {
                    body.extend_from_slice(&m.render(&mut ctx)?);
                }
            }
        }
        let target: &Origin = match (hop, &origin) {
            (Some(h), _) => &h.origin,
            (None, Some(o)) => o,
            (None, None) => &plan.base.as_ref().expect("a path implies a base").origin,
        };
        // The jar's cookies for this URL, when it holds any (only once a response set one).
        let jar_cookies = match (&self.cookies, self.has_cookies) {
            (Some(jar), true) => {
                let here = match hop {
                    Some(h) => Some(h.url.clone()),
                    None => url::Url::parse(&format!("{target}{url}")).ok(),
                };
                here.map(|u| {
                    jar.get_request_values(&u)
                        .map(|(n, v)| format!("{n}={v}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .filter(|c| !c.is_empty())
            }
            _ => None,
        };
        let method = hop.map_or(&r.method, |h| &h.method);
        let out = match hop {
            Some(_) => &mut self.hop,
            None => &mut self.request,
        };
        let mut w = out.start(method, url);
        let sets = |name: &HeaderName| r.headers.iter().any(|(n, _)| n == name);
        // The step's own `host`, `authorization` and `cookie` were meant for its own
        // origin: a hop to another one goes without them.
        let foreign = hop.is_some_and(|h| !h.same_origin);
        if foreign || !sets(&HOST) {
            w.header(&HOST, target.host_header.as_bytes());
        }
        let mut cookie_sent = false;
        let mut value = String::new();
        for (name, h) in &r.headers {
            if (foreign && (name == AUTHORIZATION || name == COOKIE || name == HOST))
                // (A step cannot set content-length or transfer-encoding: compile says so.)
                || (!with_body && name == CONTENT_TYPE)
            {
                continue;
            }
            let bytes: &[u8] = match h {
                HeaderPlan::Static(v) => v.as_bytes(),
                HeaderPlan::Dynamic(t) => {
                    value.clear();
                    t.render(&mut ctx, &mut value)?;
                    if !valid_value(value.as_bytes()) {
                        return Err(BuildError::HeaderValue {
                            name: name.clone(),
                            value: value.clone(),
                        });
                    }
                    value.as_bytes()
                }
            };
            match (&jar_cookies, name == COOKIE) {
                // A `cookie` header the step sets itself (cookie parameters, API keys) is
                // kept, and the jar's cookies are added to it.
                (Some(jar), true) if !cookie_sent => {
                    w.header_parts(&COOKIE, &[bytes, b"; ", jar.as_bytes()]);
                    cookie_sent = true;
                }
                _ => w.header(name, bytes),
            }
            // A step's own `traceparent` wins; its slowest are kept under the ids it sent.
            if trace.is_some() && hop.is_none() && name == TRACEPARENT {
                self.trace = trace::parse(bytes);
            }
        }
        if let (Some(jar), false) = (&jar_cookies, cookie_sent) {
            w.header(&COOKIE, jar.as_bytes());
        }
        if let Some(ids) = trace {
            if !sets(&TRACEPARENT) {
                w.header(&TRACEPARENT, &trace::value(ids));
            }
        }
        if !sets(&http::header::USER_AGENT) {
            w.header(&http::header::USER_AGENT, USER_AGENT.as_bytes());
        }
        if let (Some(ct), true) = (&r.content_type, with_body) {
            w.header(&CONTENT_TYPE, ct.as_bytes());
        }
        w.finish(body);
        Ok(origin)
    }

    /// What [`Connections::send`](crate::http::Connections::send) needs to send `request`
    /// for the step `r` to `origin`.
    pub(super) fn outgoing<'a>(
        &self,
        r: &RequestPlan,
        origin: &'a Origin,
        request: &'a RequestBuf,
        in_flight: &'a InFlightGauge,
    ) -> Outgoing<'a> {
        Outgoing {
            origin,
            request,
            keep_body: r.keep_body || self.observer.is_some(),
            max_body: r.max_body,
            timeout: r.timeout,
            in_flight,
        }
    }

    /// Whether the answer to a step's own request needs [`Vu::follow`]: a redirect the plan
    /// may follow, or cookies for a jar. Most answers need neither, and the step's request
    /// is then sent and read one level nearer the user's task (`Vu::request`).
    pub(super) fn wants_follow(&self, x: &Exchange) -> bool {
        (self.plan.max_redirects > 0 && is_redirect(x))
            || (self.cookies.is_some() && x.sets_cookie())
    }

    /// Takes the answer `x` to the step's own request (sent to `first_origin`): keeps the
    /// cookies it sets, and follows redirects up to the plan's limit, keeping each answer's
    /// cookies; timing spans the whole chain.
    ///
    /// Apart from the first send (`Vu::request` makes it) because every level of futures
    /// between the user's task and the socket is code and state a request runs through
    /// after each wake-up: this level and `Connection::exchange`'s, taken off the common
    /// path together, were 42 of the 627 lines of machine code a plain GET ran through
    /// (`bench/hot_lines.py`, docs/PERFORMANCE.md).
    pub(super) async fn follow(
        &mut self,
        r: &RequestPlan,
        first_origin: &Origin,
        mut x: Exchange,
    ) -> Result<Exchange, RequestError> {
        // An Rc clone (not the connector's Arc, shared across workers) keeps the borrow
        // checker happy without touching a cross-thread counter per request.
        let ctx = self.ctx.clone();
        let connector = &ctx.connector;
        let (sent_at, connected) = (x.timings.sent_at, x.timings.connected);
        let mut redirected: Option<Origin> = None;
        let mut method = r.method.clone();
        // Once a hop has dropped the body, later hops (a 307 after a 302) have none to repeat.
        let mut body_kept = true;
        let mut redirects = 0;
        loop {
            let origin = redirected.as_ref().unwrap_or(first_origin);
            let redirect = self.plan.max_redirects > redirects && is_redirect(&x);
            let location = redirect
                .then(|| x.header("location"))
                .flatten()
                .and_then(|l| std::str::from_utf8(l).ok());
            let here = || {
                url::Url::parse(&format!("{origin}{}", self.url_buf))
                    .map_err(|e| RequestError::Invalid(e.to_string()))
            };
            let Some(location) = location else {
                // The final answer sets its cookies for its own URL: the last hop's, or the
                // step's.
                if redirected.is_some() {
                    if x.sets_cookie() {
                        let here = here()?;
                        self.store_cookie_headers(&here, x.headers());
                    }
                } else if self.cookies.is_some() && x.sets_cookie() {
                    if let Ok(here) = here() {
                        self.store_cookie_headers(&here, x.headers());
                    }
                }
                // A new value rather than two fields changed in place: changing them in
                // place makes the compiler copy the answer (248 bytes then) more often on its
                // way out, about 50 instructions per plain GET (`valgrind --tool=callgrind target/release/barrage hit URL -c 10 -n 20000 --workers 1`, docs/PERFORMANCE.md).
                return Ok(x.spanning(sent_at, connected));
            };
            redirects += 1;
            let here = here()?;
            let next = here
                .join(location)
                .map_err(|e| RequestError::Invalid(format!("bad redirect location: {e}")))?;
            self.store_cookie_headers(&here, x.headers());
            let next_origin = Origin::from_url(&next)
                .ok_or_else(|| RequestError::Invalid(format!("redirect to `{next}`")))?;
            // As browsers and curl do: 307/308 repeat the request as it was; 303, and 301/302
            // after a POST, turn into a GET without a body.
            let keep_method = matches!(x.status().as_u16(), 307 | 308)
                || (method != Method::POST && x.status().as_u16() != 303);
            if !keep_method && method != Method::HEAD {
                method = Method::GET;
            }
            body_kept &= keep_method;
            let mut target = next.path().to_string();
            if let Some(q) = next.query() {
                target.push('?');
                target.push_str(q);
            }
            // The next hop is built from the plan again (no copy of the request per request
            // for the rare redirect).
            let hop = Hop {
                same_origin: next_origin == *first_origin,
                origin: next_origin,
                url: next,
                target,
                method: method.clone(),
                body: body_kept,
            };
            self.build(r, Some(&hop))
                .map_err(|e| RequestError::Invalid(e.to_string()))?;
            let origin = &*redirected.insert(hop.origin);
            let out = self.outgoing(r, origin, &self.hop, &ctx.in_flight);
            x = self.conns.send(connector, &out).await?;
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

/// What a path may not carry raw (besides every byte outside ASCII).
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

/// Percent-encodes what may not appear raw in a request target (`/items/Item 7` is sent
/// as `/items/Item%207`), leaving `%` alone so already-encoded paths pass unchanged.
fn encode_path_in_place(url: &mut String, from: usize) {
    // Most paths need nothing: a byte scan says so in a few instructions a byte, where
    // the encoder's iterator cost about 150 for `/items/foo` (docs/PERFORMANCE.md).
    if !url.as_bytes()[from..].iter().any(|&b| is_unsafe(b)) {
        return;
    }
    let encoded: std::borrow::Cow<'_, str> =
        percent_encoding::utf8_percent_encode(&url[from..], UNSAFE).into();
    if let std::borrow::Cow::Owned(encoded) = encoded {
        url.truncate(from);
        url.push_str(&encoded);
    }
}

/// Whether `encode_path_in_place` encodes the byte: `UNSAFE`'s bytes and every byte
/// outside ASCII (a test holds the two to each other). A table: the same test as a
/// `matches!` cost about 12 instructions a byte.
#[inline]
fn is_unsafe(b: u8) -> bool {
    const TABLE: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            t[b] = !(c >= b'!' && c <= b'~')
                || matches!(
                    c,
                    b'"' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^'
                );
            b += 1;
        }
        t
    };
    TABLE[b as usize]
}

/// A status that redirects (followed when the plan allows and a `location` says where).
fn is_redirect(x: &Exchange) -> bool {
    matches!(x.status().as_u16(), 301 | 302 | 303 | 307 | 308)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_scan_agrees_with_the_encoder_on_every_byte() {
        for b in 0..=u8::MAX {
            // A lone byte above ASCII is no `str`; its two-byte UTF-8 form starts with one.
            let c = char::from(b);
            let mut one = [0; 4];
            let s = c.encode_utf8(&mut one);
            let encoded = percent_encoding::utf8_percent_encode(s, UNSAFE).to_string();
            assert_eq!(is_unsafe(s.as_bytes()[0]), encoded != *s, "byte {b:#04x}");
        }
    }

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
