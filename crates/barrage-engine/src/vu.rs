//! A virtual user: its variables, cookie jar and connections, and the loop that runs
//! `setup` once and then weighted tasks until the worker says stop.
//!
//! A VU lives on one worker thread and records into that worker's recorder through a
//! `RefCell`: nothing it does per request crosses threads. It keeps the *intended* start
//! of each request (the end of the previous step plus any think time), so a late timer
//! or a slow previous response shows up in the response time instead of vanishing.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use barrage_metrics::{EndpointId, FailureCategory, Timing};
use barrage_scenario::{DataOrder, Think};
use barrage_template::{RenderCtx, Response, ResponseView};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::Full;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::http::{categorize, Connections, Exchange, Origin, RequestError};
use crate::plan::{BodyPlan, HeaderPlan, Plan, RequestPlan, Step, UrlPlan};
use crate::worker::WorkerCtx;

/// Receives what a VU does, for `run --debug`. The engine never prints; the binary does.
pub trait Observer {
    fn request(
        &self,
        label: &str,
        method: &http::Method,
        url: &str,
        headers: &HeaderMap,
        body: &[u8],
    );
    fn response(&self, status: StatusCode, headers: &HeaderMap, body: &[u8], elapsed: Duration);
    fn failure(&self, label: &str, category: FailureCategory, message: &str);
    fn saved(&self, var: &str, value: &serde_json::Value);
    fn check(&self, name: &str, passed: bool, detail: &str);
    fn think(&self, duration: Duration);
    fn task(&self, user: &str, task: &str);
}

/// How a list of steps ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepsEnd {
    Completed,
    /// A request failed and its step says `on_failure: stop_iteration`.
    Stopped,
    /// The worker is stopping: end now.
    Shutdown,
}

pub struct Vu {
    /// 1-based, unique across workers.
    pub user_id: u64,
    user: usize,
    plan: Arc<Plan>,
    ctx: Rc<WorkerCtx>,
    vars: Vec<Option<serde_json::Value>>,
    conns: Connections,
    cookies: Option<cookie_store::CookieStore>,
    has_cookies: bool,
    rng: SmallRng,
    iteration: u64,
    rows: Vec<usize>,
    observer: Option<Rc<dyn Observer>>,
    /// Reused across requests so steady-state rendering does not allocate anew.
    url_buf: String,
}

impl Vu {
    pub fn new(
        user_id: u64,
        user: usize,
        plan: Arc<Plan>,
        ctx: Rc<WorkerCtx>,
        observer: Option<Rc<dyn Observer>>,
    ) -> Vu {
        let rows = plan
            .data
            .iter()
            .map(|t| ((user_id - 1) as usize) % t.rows.len())
            .collect();
        Vu {
            user_id,
            user,
            vars: vec![None; plan.var_names.len()],
            cookies: plan.cookies.then(cookie_store::CookieStore::default),
            has_cookies: false,
            conns: Connections::default(),
            rng: SmallRng::seed_from_u64(user_id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed()),
            iteration: 0,
            rows,
            observer,
            url_buf: String::new(),
            plan,
            ctx,
        }
    }

    /// The closed-model life of a user: setup until it succeeds, then tasks until stop.
    pub async fn run(mut self) {
        let plan = self.plan.clone();
        let user = &plan.users[self.user];
        loop {
            match self.steps(&user.setup, Instant::now()).await {
                StepsEnd::Completed => break,
                StepsEnd::Shutdown => return,
                // A user that could not log in tries again after its think time, as a
                // person would; every attempt is counted.
                StepsEnd::Stopped => {
                    if !self.think(user.think, Instant::now(), Instant::now()).await {
                        return;
                    }
                }
            }
        }
        loop {
            if !self.ctx.take_iteration() {
                return;
            }
            let started = Instant::now();
            let end = self.iteration_once(None, started).await;
            if end == StepsEnd::Shutdown {
                return;
            }
            self.iteration += 1;
            if !self.think(user.think, started, Instant::now()).await {
                return;
            }
        }
    }

    /// Runs one iteration: the task chosen by weight, or `task` when given.
    pub async fn iteration_once(&mut self, task: Option<usize>, started: Instant) -> StepsEnd {
        let plan = self.plan.clone();
        let user = &plan.users[self.user];
        let index = match task {
            Some(i) => i,
            None => user.pick(self.rng.random_range(0..user.total_weight())),
        };
        let t = &user.tasks[index];
        if let Some(o) = &self.observer {
            o.task(&user.name, &t.name);
        }
        self.advance_rows();
        let end = self.steps(&t.steps, started).await;
        if end != StepsEnd::Shutdown {
            let took = started.elapsed();
            self.ctx
                .recorder
                .borrow_mut()
                .iteration(t.id, took.as_nanos() as u64);
        }
        end
    }

    /// Runs the setup steps (for `--debug`, which drives the user itself).
    pub async fn setup(&mut self) -> StepsEnd {
        let plan = self.plan.clone();
        let user = &plan.users[self.user];
        self.steps(&user.setup, Instant::now()).await
    }

    fn advance_rows(&mut self) {
        for (i, t) in self.plan.data.iter().enumerate() {
            match t.order {
                DataOrder::PerUser => {}
                DataOrder::Sequential => self.rows[i] = self.ctx.next_sequential_row(t.rows.len()),
                DataOrder::Random => self.rows[i] = self.rng.random_range(0..t.rows.len()),
            }
        }
    }

    /// Waits the think time after an iteration. `false` when the worker is stopping.
    async fn think(&mut self, think: Think, iteration_start: Instant, now: Instant) -> bool {
        let until = match think {
            Think::None => {
                // Without think time a user whose requests all fail instantly (target
                // down) would never give the worker's timers a turn.
                tokio::task::yield_now().await;
                return !self.ctx.stopping();
            }
            Think::Pacing(interval) => iteration_start + interval,
            other => now + think_duration(other, &mut self.rng),
        };
        if let Some(o) = &self.observer {
            o.think(until.saturating_duration_since(now));
        }
        self.ctx.sleep_until(until).await
    }

    async fn steps(&mut self, steps: &[Step], mut intended: Instant) -> StepsEnd {
        for step in steps {
            if self.ctx.stopping() {
                return StepsEnd::Shutdown;
            }
            match step {
                Step::Think(t) => {
                    let d = think_duration(*t, &mut self.rng);
                    if let Some(o) = &self.observer {
                        o.think(d);
                    }
                    intended += d;
                    if !self.ctx.sleep_until(intended).await {
                        return StepsEnd::Shutdown;
                    }
                }
                Step::Request(r) => {
                    let ok = self.request(r, intended).await;
                    intended = Instant::now();
                    if !ok && r.stop_on_failure {
                        return StepsEnd::Stopped;
                    }
                }
            }
        }
        StepsEnd::Completed
    }

    /// Sends one request step and records its outcome. `true` when it succeeded.
    async fn request(&mut self, r: &RequestPlan, intended: Instant) -> bool {
        let (origin, req, sent_bytes, body) = match self.build(r) {
            Ok(built) => built,
            Err(message) => {
                self.fail(r, FailureCategory::Template, None, None, 0, 0, message);
                return false;
            }
        };
        if let Some(o) = &self.observer {
            let url = format!("{origin}{}", req.uri());
            o.request(&r.label, req.method(), &url, req.headers(), &body);
        }
        drop(body);
        let mut guard = InFlight {
            ctx: self.ctx.clone(),
            endpoint: r.endpoint,
            armed: true,
        };
        let result = self.exchange(r, &origin, req).await;
        guard.armed = false;
        let exchange = match result {
            Ok(x) => x,
            Err(e) => {
                let category = categorize(&e);
                self.fail(r, category, None, None, sent_bytes, 0, e.to_string());
                return false;
            }
        };
        let timing = Timing {
            response_time_ns: exchange
                .done_at
                .saturating_duration_since(intended)
                .as_nanos() as u64,
            service_time_ns: exchange
                .done_at
                .saturating_duration_since(exchange.sent_at)
                .as_nanos() as u64,
        };
        if let Some(c) = exchange.connected {
            self.ctx.recorder.borrow_mut().connection(
                c.connect.as_nanos() as u64,
                c.tls.map(|t| t.as_nanos() as u64),
            );
        }
        if let Some(o) = &self.observer {
            o.response(
                exchange.status,
                &exchange.headers,
                &exchange.body,
                Duration::from_nanos(timing.response_time_ns),
            );
        }
        self.judge(r, &exchange, timing, sent_bytes, &origin)
    }

    /// Status, saves and checks: decides success and records the request once.
    fn judge(
        &mut self,
        r: &RequestPlan,
        x: &Exchange,
        timing: Timing,
        sent: u64,
        origin: &Origin,
    ) -> bool {
        let status = x.status.as_u16();
        let received = x.body_len;
        let view = ResponseView::new(Response {
            status,
            headers: &x.headers,
            body: &x.body,
        });
        let mut failure: Option<(FailureCategory, String)> = None;
        if !r.check.status_ok(status) {
            failure = Some((
                FailureCategory::Status,
                format!(
                    "HTTP {} {} (expected {})",
                    status,
                    x.status.canonical_reason().unwrap_or(""),
                    r.check.status_description()
                ),
            ));
        }
        for save in &r.saves {
            let value = save
                .extractor
                .extract(&view)
                .or_else(|| save.default.clone());
            let name = &self.plan.var_names[save.slot as usize];
            match value {
                Some(v) => {
                    if let Some(o) = &self.observer {
                        o.saved(name, &v);
                    }
                    self.vars[save.slot as usize] = Some(v);
                }
                None => {
                    if failure.is_none() {
                        failure = Some((
                            FailureCategory::Check,
                            format!("save `{name}`: {} found nothing", save.what),
                        ));
                    }
                }
            }
        }
        if !r.check.items().is_empty() {
            let plan = self.plan.clone();
            let rows = current_rows(&plan, &self.rows);
            let mut ctx = RenderCtx {
                vars: &self.vars,
                user_id: self.user_id,
                iteration: self.iteration,
                rng: &mut self.rng,
                data: &rows,
            };
            let mut recorder = self.ctx.recorder.borrow_mut();
            let observer = self.observer.as_deref();
            let items = r.check.items();
            r.check.evaluate(
                &view,
                Duration::from_nanos(timing.response_time_ns),
                &mut ctx,
                &mut |i: usize, passed: bool, detail: &dyn Fn() -> String| {
                    recorder.check(r.check_ids[i], passed);
                    if let Some(o) = observer {
                        o.check(
                            items[i].name(),
                            passed,
                            &if passed { String::new() } else { detail() },
                        );
                    }
                    if !passed && failure.is_none() {
                        failure = Some((
                            FailureCategory::Check,
                            format!("check failed: {} ({})", items[i].name(), detail()),
                        ));
                    }
                },
            );
        }
        if self.cookies.is_some() && x.headers.contains_key(http::header::SET_COOKIE) {
            let url = format!("{origin}{}", self.url_buf);
            self.store_cookies(&url, x);
        }
        match failure {
            None => {
                self.ctx
                    .recorder
                    .borrow_mut()
                    .success(r.endpoint, status, timing, sent, received);
                true
            }
            Some((category, message)) => {
                self.fail(
                    r,
                    category,
                    Some(status),
                    Some(timing),
                    sent,
                    received,
                    message,
                );
                false
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fail(
        &self,
        r: &RequestPlan,
        category: FailureCategory,
        status: Option<u16>,
        timing: Option<Timing>,
        sent: u64,
        received: u64,
        message: String,
    ) {
        if let Some(o) = &self.observer {
            o.failure(&r.label, category, &message);
        }
        self.ctx.recorder.borrow_mut().failure(
            r.endpoint,
            category,
            status,
            timing,
            sent,
            received,
            move || message,
        );
    }

    /// Renders the request: origin, request (origin-form URI), and its size on the wire.
    #[allow(clippy::type_complexity)]
    fn build(
        &mut self,
        r: &RequestPlan,
    ) -> Result<(Origin, Request<Full<Bytes>>, u64, Bytes), String> {
        let plan = self.plan.clone();
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
                base.origin.clone()
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
                origin
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
        };
        let mut builder = Request::builder()
            .method(r.method.clone())
            .uri(url.as_str());
        let headers = builder.headers_mut().expect("a fresh builder has headers");
        headers.insert(
            http::header::HOST,
            HeaderValue::from_str(&origin.authority).map_err(|e| e.to_string())?,
        );
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
                let full = format!("{origin}{url}");
                if let Ok(u) = url::Url::parse(&full) {
                    let cookie = jar
                        .get_request_values(&u)
                        .map(|(n, v)| format!("{n}={v}"))
                        .collect::<Vec<_>>()
                        .join("; ");
                    if !cookie.is_empty() {
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
            .body(Full::new(body.clone()))
            .map_err(|e| format!("cannot build the request: {e}"))?;
        Ok((origin, req, sent, body))
    }

    /// Sends, following redirects up to the plan's limit; timing spans the whole chain.
    async fn exchange(
        &mut self,
        r: &RequestPlan,
        first_origin: &Origin,
        req: Request<Full<Bytes>>,
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
            let method = req.method().clone();
            let uri = req.uri().clone();
            let headers = req.headers().clone();
            let origin = redirected.as_ref().unwrap_or(first_origin);
            let x = self
                .conns
                .send(connector, origin, req, r.keep_body, r.timeout)
                .await?;
            let (sent_at, connected) = *first.get_or_insert((x.sent_at, x.connected));
            let location = x
                .headers
                .get(http::header::LOCATION)
                .and_then(|l| l.to_str().ok());
            let follow = self.plan.max_redirects > redirects
                && matches!(x.status.as_u16(), 301 | 302 | 303 | 307 | 308)
                && location.is_some();
            if !follow {
                return Ok(Exchange {
                    sent_at,
                    connected,
                    ..x
                });
            }
            redirects += 1;
            let here = url::Url::parse(&format!("{origin}{uri}"))
                .map_err(|e| RequestError::Invalid(e.to_string()))?;
            let next = here
                .join(location.expect("follow implies a location"))
                .map_err(|e| RequestError::Invalid(format!("bad redirect location: {e}")))?;
            self.store_cookie_headers(&here, &x.headers);
            let origin = Origin::from_url(&next)
                .ok_or_else(|| RequestError::Invalid(format!("redirect to `{next}`")))?;
            let keep_method = matches!(x.status.as_u16(), 307 | 308)
                || (method != http::Method::POST && x.status.as_u16() != 303);
            let (method, body) = if keep_method {
                (method, Bytes::new())
            } else {
                (http::Method::GET, Bytes::new())
            };
            let mut path = next.path().to_string();
            if let Some(q) = next.query() {
                path.push('?');
                path.push_str(q);
            }
            let mut builder = Request::builder().method(method).uri(path);
            let h = builder.headers_mut().expect("a fresh builder has headers");
            for (name, value) in headers.iter() {
                if name != http::header::CONTENT_LENGTH
                    && name != http::header::CONTENT_TYPE
                    && name != http::header::COOKIE
                {
                    h.append(name.clone(), value.clone());
                }
            }
            h.insert(
                http::header::HOST,
                HeaderValue::from_str(&origin.authority)
                    .map_err(|e| RequestError::Invalid(e.to_string()))?,
            );
            if let Some(jar) = &self.cookies {
                let cookie = jar
                    .get_request_values(&next)
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    if !cookie.is_empty() {
                        h.insert(http::header::COOKIE, v);
                    }
                }
            }
            req = builder
                .body(Full::new(body))
                .map_err(|e| RequestError::Invalid(e.to_string()))?;
            redirected = Some(origin);
        }
    }

    fn store_cookies(&mut self, url: &str, x: &Exchange) {
        if !x.headers.contains_key(http::header::SET_COOKIE) {
            return;
        }
        if let Ok(u) = url::Url::parse(url) {
            self.store_cookie_headers(&u, &x.headers);
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

const USER_AGENT: &str = concat!("barrage/", env!("CARGO_PKG_VERSION"));

/// One draw of a think time (pacing is handled by the caller: it depends on when the
/// iteration started). A range is uniform over its closed interval, to the nanosecond.
pub fn think_duration(think: Think, rng: &mut SmallRng) -> Duration {
    match think {
        Think::None | Think::Pacing(_) => Duration::ZERO,
        Think::Constant(d) => d,
        Think::Range(lo, hi) if hi > lo => {
            let span = (hi - lo).as_nanos() as u64;
            lo + Duration::from_nanos(rng.random_range(0..=span))
        }
        Think::Range(lo, _) => lo,
    }
}

/// The current row of each data source (empty, and no allocation, without data files).
fn current_rows<'p>(plan: &'p Plan, rows: &[usize]) -> Vec<&'p [serde_json::Value]> {
    plan.data
        .iter()
        .zip(rows)
        .map(|(t, &i)| t.rows[i].as_slice())
        .collect()
}

/// Records a request cut off by a hard stop as interrupted (not failed) when its future
/// is dropped before it finished.
struct InFlight {
    ctx: Rc<WorkerCtx>,
    endpoint: EndpointId,
    armed: bool,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.armed {
            if let Ok(mut r) = self.ctx.recorder.try_borrow_mut() {
                r.interrupted(self.endpoint);
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

/// Per-process randomness mixed into each user's seed so runs differ.
fn seed() -> u64 {
    use std::sync::OnceLock;
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(rand::random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_ranges_are_uniform_within_their_bounds() {
        let mut rng = SmallRng::seed_from_u64(7);
        let (lo, hi) = (Duration::from_millis(500), Duration::from_millis(2500));
        let draws: Vec<Duration> = (0..10_000)
            .map(|_| think_duration(Think::Range(lo, hi), &mut rng))
            .collect();
        assert!(draws.iter().all(|d| *d >= lo && *d <= hi));
        let mean = draws.iter().map(Duration::as_secs_f64).sum::<f64>() / draws.len() as f64;
        // Uniform on [0.5, 2.5]: mean 1.5 s, sd of the mean 0.577/sqrt(10000) = 0.006 s.
        assert!((mean - 1.5).abs() < 0.03, "mean {mean}");
        let d = Duration::from_secs(1);
        assert_eq!(think_duration(Think::Constant(d), &mut rng), d);
        assert_eq!(think_duration(Think::None, &mut rng), Duration::ZERO);
        assert_eq!(think_duration(Think::Range(d, d), &mut rng), d);
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
