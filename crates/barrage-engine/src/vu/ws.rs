//! Running one WebSocket step for a user: open the socket (or take the one this step kept
//! open in an earlier iteration), run its messages in order, then close it or keep it.
//!
//! What is timed, and from when: each `receive` is one timed exchange of the step's
//! endpoint, from the previous `send` (the round trip) or, with none before it in the
//! step, from the step's start. As everywhere the response time counts from the intended
//! moment (a user that started the step late, or whose think overran, sees it in the
//! first round trip) and the service time from the send as it happened. Opening the socket
//! is connection set-up, not an exchange, and is left out of the round trips: TCP and TLS
//! go to the run's connections, the upgrade to the endpoint's `messages.upgrade_time`.
//!
//! After a socket failed (closed by the server, a receive that timed out, a protocol
//! error) nothing more of the step is tried on it and it is not kept: a late answer would
//! otherwise be taken for the next receive's. A failed check leaves the socket as it was,
//! so the step goes on unless it says `on_failure: stop_iteration`.

use std::rc::Rc;
use std::time::{Duration, Instant};

use barrage_metrics::{FailureCategory, Timing};
use barrage_template::{RenderCtx, Response, ResponseView};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{current_rows, think_duration, Vu, NO_HEADERS};
use crate::http::ws::{self, WsError, WsSocket};
use crate::http::{valid_value, Origin};
use crate::plan::{HeaderPlan, ReceivePlan, UrlPlan, WsMessagePlan, WsPlan, WsSendPlan};

/// How long closing a socket waits for the server's close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// The sockets a user keeps open across iterations (`keep: true`), by step.
#[derive(Default)]
pub(super) struct KeptSockets(Vec<(u32, WsSocket)>);

impl KeptSockets {
    fn take(&mut self, id: u32) -> Option<WsSocket> {
        let at = self.0.iter().position(|(i, _)| *i == id)?;
        Some(self.0.swap_remove(at).1)
    }
}

/// Why a step failed, as the recorder counts it.
struct Failed {
    category: FailureCategory,
    message: String,
    /// Present when a message came and was judged: its round trip goes into the
    /// endpoint's `failed` histogram.
    timing: Option<Timing>,
}

impl From<WsError> for Failed {
    fn from(e: WsError) -> Failed {
        Failed {
            category: e.category(),
            message: e.to_string(),
            timing: None,
        }
    }
}

impl Vu {
    /// Runs one WebSocket step from `intended`. `true` when nothing in it failed.
    pub(super) async fn ws(&mut self, w: &WsPlan, intended: Instant) -> bool {
        let kept = w.keep.and_then(|id| self.ws_kept.take(id));
        let entered = Instant::now();
        let mut socket = match kept {
            Some(socket) => socket,
            None => match self.open(w).await {
                Ok(socket) => socket,
                Err(failed) => {
                    self.ws_failed(w, failed);
                    return false;
                }
            },
        };
        let (mut sent, mut received) = (0u64, 0u64);
        let mut ok = true;
        let mut broken = false;
        let mut stopped = false;
        // The next message's intended moment, and the last send's (intended, as it was).
        // Opening the socket is set-up, timed apart: the messages' clock starts when the
        // step did, moved on by the time opening took, so a late start still counts.
        let mut next = intended + entered.elapsed();
        let mut last_send = (next, Instant::now());
        for m in &w.messages {
            if self.sctx.stopping() {
                stopped = true;
                break;
            }
            match m {
                WsMessagePlan::Think(t) => {
                    let d = think_duration(*t, &mut self.rng);
                    if let Some(o) = &self.observer {
                        o.think(d);
                    }
                    next += d;
                    if !self.sctx.sleep_until(next).await {
                        stopped = true;
                        break;
                    }
                }
                WsMessagePlan::Send(s) => {
                    let text = match self.render_message(s) {
                        Ok(text) => text,
                        Err(message) => {
                            self.ws_failed(
                                w,
                                Failed {
                                    category: FailureCategory::Template,
                                    message,
                                    timing: None,
                                },
                            );
                            ok = false;
                            break;
                        }
                    };
                    if let Some(o) = &self.observer {
                        o.ws_message(true, text.as_bytes(), false);
                    }
                    let at = Instant::now();
                    if let Err(e) = ws::send_text(&mut socket, text).await {
                        self.ws_failed(w, e.into());
                        (ok, broken) = (false, true);
                        break;
                    }
                    sent += 1;
                    last_send = (next.min(at), at);
                    next = Instant::now();
                }
                WsMessagePlan::Receive(r) => {
                    match self
                        .receive(w, r, &mut socket, last_send, &mut received)
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => {
                            ok = false;
                            if w.stop_on_failure {
                                break;
                            }
                        }
                        Err(()) => {
                            (ok, broken) = (false, true);
                            break;
                        }
                    }
                    next = Instant::now();
                }
            }
        }
        match w.keep {
            Some(id) if !broken && !stopped => self.ws_kept.0.push((id, socket)),
            // A socket that failed is dropped as it is: the server closed it, or it is out
            // of step.
            _ if broken => drop(socket),
            _ => {
                received += ws::close(socket, CLOSE_WAIT).await;
                if let Some(o) = &self.observer {
                    o.ws_closed(&w.label);
                }
            }
        }
        self.ctx
            .recorder
            .borrow_mut()
            .ws_messages(w.endpoint, sent, received);
        ok
    }

    /// Closes the sockets this user kept open (when it stops).
    pub(super) async fn close_kept(&mut self) {
        let plan = Rc::clone(&self.plan);
        for (id, socket) in std::mem::take(&mut self.ws_kept.0) {
            let received = ws::close(socket, CLOSE_WAIT).await;
            if let Some(w) = kept_step(&plan, id) {
                self.ctx
                    .recorder
                    .borrow_mut()
                    .ws_messages(w.endpoint, 0, received);
                if let Some(o) = &self.observer {
                    o.ws_closed(&w.label);
                }
            }
        }
    }

    /// Opens the step's socket: renders the URL and the upgrade's headers, connects, and
    /// records the connection and the upgrade.
    async fn open(&mut self, w: &WsPlan) -> Result<WsSocket, Failed> {
        let (origin, url, request) = self.upgrade_request(w).map_err(|message| Failed {
            category: FailureCategory::Template,
            message,
            timing: None,
        })?;
        if let Some(o) = &self.observer {
            o.request(&w.label, &http::Method::GET, &url, request.headers(), b"");
        }
        let ctx = Rc::clone(&self.ctx);
        let connector = &ctx.connector;
        let opened = ws::open_ws(
            connector,
            &origin,
            request,
            w.max_message,
            connector.connect_timeout,
        )
        .await;
        let opened = match opened {
            Ok(opened) => opened,
            Err(e) => return Err(e.into()),
        };
        let mut recorder = self.ctx.recorder.borrow_mut();
        recorder.connection(
            opened.connected.connect.as_nanos() as u64,
            opened.connected.tls.map(|t| t.as_nanos() as u64),
        );
        recorder.ws_opened(w.endpoint, opened.upgrade.as_nanos() as u64);
        drop(recorder);
        if let Some(o) = &self.observer {
            o.response(
                http::StatusCode::SWITCHING_PROTOCOLS,
                &NO_HEADERS,
                b"",
                opened.upgrade,
            );
        }
        Ok(opened.socket)
    }

    /// The socket's origin, its URL as shown, and the upgrade request (the step's headers
    /// and the user's cookies for that URL; tungstenite adds the handshake's own).
    fn upgrade_request(
        &mut self,
        w: &WsPlan,
    ) -> Result<(Origin, String, http::Request<()>), String> {
        let plan = Rc::clone(&self.plan);
        let rows = current_rows(&plan, &self.rows);
        let mut ctx = RenderCtx {
            vars: &self.vars,
            user_id: self.user_id,
            iteration: self.iteration,
            rng: &mut self.rng,
            data: &rows,
        };
        let mut written = String::new();
        let text = match &w.url {
            UrlPlan::Path(t) => {
                let base = plan
                    .base
                    .as_ref()
                    .expect("compile rejects paths without a target");
                t.render(&mut ctx, &mut written)
                    .map_err(|e| e.to_string())?;
                let scheme = match base.origin.scheme {
                    crate::http::Scheme::Http => "ws",
                    crate::http::Scheme::Https => "wss",
                };
                format!(
                    "{scheme}://{}{}{written}",
                    base.origin.authority, base.path_prefix
                )
            }
            UrlPlan::Absolute(t) => {
                t.render(&mut ctx, &mut written)
                    .map_err(|e| e.to_string())?;
                written
            }
        };
        let url = url::Url::parse(&text).map_err(|e| format!("bad URL `{text}`: {e}"))?;
        let origin =
            Origin::from_ws_url(&url).ok_or_else(|| format!("`{text}` is not a ws(s) URL"))?;
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| format!("bad URL `{text}`: {e}"))?;
        let headers = request.headers_mut();
        let mut value = String::new();
        for (name, plan) in &w.headers {
            let v = match plan {
                HeaderPlan::Static(v) => v.clone(),
                HeaderPlan::Dynamic(t) => {
                    value.clear();
                    t.render(&mut ctx, &mut value).map_err(|e| e.to_string())?;
                    if !valid_value(value.as_bytes()) {
                        return Err(format!(
                            "header `{name}`: its value is not a valid header value"
                        ));
                    }
                    http::HeaderValue::from_str(&value)
                        .map_err(|_| format!("header `{name}`: not a valid header value"))?
                }
            };
            headers.insert(name.clone(), v);
        }
        if let (Some(jar), true) = (&self.cookies, self.has_cookies) {
            let http_url = url::Url::parse(&format!("{origin}{}", url_target(&url))).ok();
            let cookies = http_url
                .map(|u| {
                    jar.get_request_values(&u)
                        .map(|(n, v)| format!("{n}={v}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            if let (false, Ok(v)) = (cookies.is_empty(), http::HeaderValue::from_str(&cookies)) {
                headers.insert(http::header::COOKIE, v);
            }
        }
        Ok((origin, text, request))
    }

    fn render_message(&mut self, s: &WsSendPlan) -> Result<String, String> {
        let rows = current_rows(&self.plan, &self.rows);
        let mut ctx = RenderCtx {
            vars: &self.vars,
            user_id: self.user_id,
            iteration: self.iteration,
            rng: &mut self.rng,
            data: &rows,
        };
        match s {
            WsSendPlan::Text(t) => {
                let mut text = String::new();
                t.render(&mut ctx, &mut text).map_err(|e| e.to_string())?;
                Ok(text)
            }
            WsSendPlan::Json(t) => {
                let mut bytes = Vec::new();
                t.render_json(&mut ctx, &mut bytes)
                    .map_err(|e| e.to_string())?;
                String::from_utf8(bytes).map_err(|e| e.to_string())
            }
        }
    }

    /// One `receive`: waits for the message (skipping those `until` rejects), times it
    /// from `last_send`, judges it and records it. `Ok(passed)`, or `Err` when the socket
    /// failed (already recorded).
    async fn receive(
        &mut self,
        w: &WsPlan,
        r: &ReceivePlan,
        socket: &mut WsSocket,
        (from_intended, from_sent): (Instant, Instant),
        received: &mut u64,
    ) -> Result<bool, ()> {
        let deadline = Instant::now() + r.timeout;
        let message = loop {
            let message = match ws::receive(socket, deadline, r.timeout).await {
                Ok(message) => message,
                Err(e) => {
                    self.ws_failed(w, e.into());
                    return Err(());
                }
            };
            *received += 1;
            let wanted = match &r.until {
                None => true,
                Some(until) => self.passes(until, &message, from_intended),
            };
            if let Some(o) = &self.observer {
                o.ws_message(false, &message, !wanted);
            }
            if wanted {
                break message;
            }
        };
        let done = Instant::now();
        let timing = Timing {
            response_time_ns: done.saturating_duration_since(from_intended).as_nanos() as u64,
            service_time_ns: done.saturating_duration_since(from_sent).as_nanos() as u64,
        };
        match self.judge_message(r, &message, timing) {
            None => {
                self.ctx.recorder.borrow_mut().success(
                    w.endpoint,
                    101,
                    timing,
                    0,
                    message.len() as u64,
                );
                Ok(true)
            }
            Some((category, message)) => {
                self.ws_failed(
                    w,
                    Failed {
                        category,
                        message,
                        timing: Some(timing),
                    },
                );
                Ok(false)
            }
        }
    }

    /// Whether `message` passes `until` (checked quietly: a skipped message is no failure).
    fn passes(
        &mut self,
        until: &barrage_template::CompiledCheck,
        message: &[u8],
        from: Instant,
    ) -> bool {
        let view = message_view(message);
        let rows = current_rows(&self.plan, &self.rows);
        let mut ctx = RenderCtx {
            vars: &self.vars,
            user_id: self.user_id,
            iteration: self.iteration,
            rng: &mut self.rng,
            data: &rows,
        };
        let mut all = true;
        until.evaluate(&view, from.elapsed(), &mut ctx, &mut |_, passed, _| {
            all &= passed;
        });
        all
    }

    /// The receive's saves and checks on `message`: stores what the saves found, counts
    /// each check, shows both under `--debug`, and says why the message failed, if it did.
    fn judge_message(
        &mut self,
        r: &ReceivePlan,
        message: &[u8],
        timing: Timing,
    ) -> Option<(FailureCategory, String)> {
        let view = message_view(message);
        let mut failure: Option<(FailureCategory, String)> = None;
        for save in &r.saves {
            let slot = save.slot as usize;
            match save
                .extractor
                .extract(&view)
                .or_else(|| save.default.clone())
            {
                Some(v) => {
                    if let Some(o) = &self.observer {
                        o.saved(&self.plan.var_names[slot], &v);
                    }
                    self.vars[slot] = Some(v);
                }
                None if failure.is_none() => {
                    let name = &self.plan.var_names[slot];
                    failure = Some((
                        FailureCategory::Check,
                        format!("save `{name}`: {} found nothing", save.what),
                    ));
                }
                None => {}
            }
        }
        if r.check.items().is_empty() {
            return failure;
        }
        let rows = current_rows(&self.plan, &self.rows);
        let mut ctx = RenderCtx {
            vars: &self.vars,
            user_id: self.user_id,
            iteration: self.iteration,
            rng: &mut self.rng,
            data: &rows,
        };
        let items = r.check.items();
        let observer = self.observer.as_deref();
        let mut recorder = self.ctx.recorder.borrow_mut();
        r.check.evaluate(
            &view,
            Duration::from_nanos(timing.response_time_ns),
            &mut ctx,
            &mut |i: usize, passed: bool, detail: &dyn Fn() -> String| {
                recorder.check(r.check_ids[i], passed);
                let reason = (!passed && (observer.is_some() || failure.is_none())).then(detail);
                if let Some(o) = observer {
                    o.check(items[i].name(), passed, reason.as_deref().unwrap_or(""));
                }
                if let (Some(reason), None) = (&reason, &failure) {
                    failure = Some((
                        FailureCategory::Check,
                        format!("check failed: {} ({reason})", items[i].name()),
                    ));
                }
            },
        );
        failure
    }

    /// Records (and shows) a failure of the step.
    fn ws_failed(&self, w: &WsPlan, failed: Failed) {
        if let Some(o) = &self.observer {
            o.failure(&w.label, failed.category, &failed.message);
        }
        let status = failed.timing.map(|_| 101);
        self.ctx.recorder.borrow_mut().failure(
            w.endpoint,
            failed.category,
            status,
            failed.timing,
            0,
            0,
            || self.sample(&failed.message, None, false),
        );
    }
}

/// What saves and checks see of a message: its bytes as the body, no headers.
fn message_view(message: &[u8]) -> ResponseView<'_> {
    ResponseView::new(Response {
        status: 101,
        headers: &NO_HEADERS,
        body: message,
    })
}

/// A URL's path and query, as a request's target.
fn url_target(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// The kept step with id `id`, wherever it is in the plan.
fn kept_step(plan: &crate::plan::Plan, id: u32) -> Option<&WsPlan> {
    plan.scenarios
        .iter()
        .flat_map(|s| &s.users)
        .flat_map(|u| u.setup.iter().chain(u.tasks.iter().flat_map(|t| &t.steps)))
        .find_map(|step| match step {
            crate::plan::Step::Ws(w) if w.keep == Some(id) => Some(&**w),
            _ => None,
        })
}
