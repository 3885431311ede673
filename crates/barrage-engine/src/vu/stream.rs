//! A `stream:` step: the request sent as any other, then its answer read piece by piece so
//! each event (a server-sent event, or a chunk) is timed as it arrives, checked and saved
//! from, until the stream ends, `max_events` is reached or the step's timeout passes.
//!
//! Chosen once per step (the plan's `stream`), so the plain request path in `vu.rs` does
//! not change. Every latency counts from the intended start, as the response time does:
//! under an open model a start the user could not make on time still counts. A stream cut
//! by its timeout after at least one event is judged on what arrived (a stream that never
//! ends is how many event sources work); one cut before its first event failed
//! (`response_timeout`).
//!
//! What it records beside the usual outcome (`vu/outcome.rs`), for a successful request:
//! [`StreamTiming`] and the gaps between events, into the endpoint's stream figures.

use std::rc::Rc;
use std::time::{Duration, Instant};

use barrage_metrics::{FailureCategory, StreamTiming, Timing};
use barrage_scenario::StreamMode;
use barrage_template::{RenderCtx, Response, ResponseView};

use super::outcome::{Outcome, StreamCheck, Verdict};
use super::reach::Attempt;
use super::{current_rows, InFlight, Observer, Vu, NO_HEADERS};
use crate::http::{RequestError, SseDecoder};
use crate::plan::{RequestPlan, StreamPlan};

/// How a stream's reading ended.
enum End {
    /// The body ended.
    Whole,
    /// `max_events` events arrived.
    MaxEvents,
    /// The step's timeout passed after at least one event.
    TimedOut,
}

/// What one stream's events came to, gathered as they arrive.
struct Tally {
    events: u64,
    first_event_at: Option<Instant>,
    last_event_at: Option<Instant>,
    gaps_ns: Vec<u64>,
    /// Per event check, per item: the first failure's reason, and whether any event of the
    /// check's name arrived.
    failed: Vec<Vec<Option<String>>>,
    seen: Vec<bool>,
    /// Which event saves found their value.
    saved: Vec<bool>,
}

impl Vu {
    /// Runs one `stream:` step; `true` when it succeeded.
    pub(super) async fn stream(
        &mut self,
        r: &RequestPlan,
        s: &StreamPlan,
        intended: Instant,
    ) -> bool {
        self.verdicts.clear();
        let origin = match self.build(r, None) {
            Ok(origin) => origin,
            Err(e) => return self.settle(r, &Outcome::Unbuilt(&e)),
        };
        let sent = self.request.len() as u64;
        let plan = Rc::clone(&self.plan);
        let to = match &origin {
            Some(o) => o,
            None => {
                &plan
                    .base
                    .as_ref()
                    .expect("compile rejects paths without a target")
                    .origin
            }
        };
        if let Some(o) = &self.observer {
            self.show_request(o.as_ref(), r, to);
        }
        let mut guard = InFlight {
            ctx: self.ctx.clone(),
            endpoint: r.endpoint,
            armed: true,
        };
        let ctx = self.ctx.clone();
        let out = self.outgoing(r, to, &self.request, &ctx.in_flight);
        let mut tally = Tally {
            events: 0,
            first_event_at: None,
            last_event_at: None,
            gaps_ns: Vec::new(),
            failed: s
                .event_checks
                .iter()
                .map(|c| vec![None; c.check.items().len()])
                .collect(),
            seen: vec![false; s.event_checks.len()],
            saved: vec![false; s.event_saves.len()],
        };
        let rows = current_rows(&plan, &self.rows);
        let mut sink = EventSink {
            vars: &mut self.vars,
            verdicts: &mut self.verdicts,
            observer: self.observer.as_deref(),
            render: (self.user_id, self.iteration, &rows),
            rng: &mut self.rng,
            plan: s,
            intended,
        };
        let read = match self.conns.open_stream(&ctx.connector, &out).await {
            Err(error) => Err((error, 0)),
            Ok(mut streaming) => {
                let mut sse = (s.mode == StreamMode::Events).then(SseDecoder::default);
                let mut events = Vec::new();
                let end = loop {
                    let piece = match streaming.next_piece().await {
                        Ok(Some(piece)) => piece,
                        Ok(None) => break Ok(End::Whole),
                        Err(RequestError::ResponseTimeout(_)) if tally.events > 0 => {
                            break Ok(End::TimedOut)
                        }
                        Err(e) => break Err(e),
                    };
                    let at = Instant::now();
                    let Some(d) = &mut sse else {
                        sink.event(&mut tally, at, "chunk", &piece);
                        if s.max_events.is_some_and(|m| tally.events >= m) {
                            break Ok(End::MaxEvents);
                        }
                        continue;
                    };
                    events.clear();
                    if let Err(e) = d.feed(piece, &mut events) {
                        break Err(RequestError::Protocol(e.to_string()));
                    }
                    let mut full = false;
                    for event in &events {
                        sink.event(&mut tally, at, &event.name, event.data.as_bytes());
                        if s.max_events.is_some_and(|m| tally.events >= m) {
                            full = true;
                            break;
                        }
                    }
                    if full {
                        break Ok(End::MaxEvents);
                    }
                };
                match end {
                    // However it ended, what arrived is judged.
                    Ok(End::Whole | End::MaxEvents | End::TimedOut) => {
                        let first_byte_at = streaming.first_byte_at;
                        let x = streaming.finish(Instant::now());
                        Ok((x, first_byte_at))
                    }
                    Err(e) => Err((e, streaming.abandon())),
                }
            }
        };
        guard.armed = false;
        let pause = self.note_reach(Attempt::of_error(read.as_ref().err().map(|(e, _)| e)));
        let notes = self.conns.take_notes();
        if notes.retries > 0 {
            self.note_retries(r, notes.retries);
        }
        let (x, first_byte_at) = match read {
            Ok(read) => read,
            Err((error, received)) => {
                let outcome = Outcome::Unanswered {
                    sent,
                    received: notes.received + received,
                    error: &error,
                };
                let ok = self.settle(r, &outcome);
                if let Some(pause) = pause {
                    self.sctx.sleep_until(Instant::now() + pause).await;
                }
                return ok;
            }
        };
        let done_at = x.timings.done_at;
        let timing = Timing {
            response_time_ns: done_at.saturating_duration_since(intended).as_nanos() as u64,
            service_time_ns: done_at
                .saturating_duration_since(x.timings.sent_at)
                .as_nanos() as u64,
        };
        let mut failure = self.judge(r, &x, timing);
        self.judge_stream(s, &tally, &mut failure);
        let outcome = Outcome::Answered {
            sent,
            x: &x,
            timing,
            failure,
        };
        let ok = self.settle(r, &outcome);
        if ok {
            let figures = StreamTiming {
                first_byte_ns: ns(first_byte_at.saturating_duration_since(intended)),
                first_event_ns: tally
                    .first_event_at
                    .map(|t| ns(t.saturating_duration_since(intended))),
                duration_ns: ns(done_at.saturating_duration_since(first_byte_at)),
                events: tally.events,
            };
            self.ctx
                .recorder
                .borrow_mut()
                .stream(r.endpoint, &figures, &tally.gaps_ns);
        }
        ok
    }

    /// The stream's own verdicts after the usual ones: the event count, the checks on
    /// named events, the count saves and the event saves that found nothing. Sets
    /// `failure` when it is not set yet and one of them failed.
    fn judge_stream(
        &mut self,
        s: &StreamPlan,
        tally: &Tally,
        failure: &mut Option<(FailureCategory, String)>,
    ) {
        for &slot in &s.count_saves {
            let v = serde_json::Value::from(tally.events);
            let shown = self.observer.is_some().then(|| v.clone());
            self.vars[slot as usize] = Some(v);
            self.verdicts.push(Verdict::Saved(slot as usize, shown));
        }
        for (i, (event, save)) in s.event_saves.iter().enumerate() {
            if tally.saved[i] {
                continue;
            }
            match &save.default {
                Some(v) => {
                    let shown = self.observer.is_some().then(|| v.clone());
                    self.vars[save.slot as usize] = Some(v.clone());
                    self.verdicts
                        .push(Verdict::Saved(save.slot as usize, shown));
                }
                None if failure.is_none() => {
                    let name = &self.plan.var_names[save.slot as usize];
                    *failure = Some((
                        FailureCategory::Check,
                        format!(
                            "save `{name}`: {} found nothing (no `{event}` event held it)",
                            save.what
                        ),
                    ));
                }
                None => {}
            }
        }
        let mut fail = |which: StreamCheck, passed: bool, reason: Option<String>, name: &str| {
            if let (false, None, Some(reason)) = (passed, &*failure, &reason) {
                *failure = Some((
                    FailureCategory::Check,
                    format!("check failed: {name} ({reason})"),
                ));
            }
            self.verdicts.push(Verdict::Stream {
                which,
                passed,
                reason,
            });
        };
        if let Some((bounds, _, name)) = &s.count {
            let n = tally.events;
            let passed = bounds.min.is_none_or(|m| n >= m) && bounds.max.is_none_or(|m| n <= m);
            let reason = (!passed).then(|| format!("{n} events"));
            fail(StreamCheck::Count, passed, reason, name);
        }
        for (c, check) in s.event_checks.iter().enumerate() {
            for (item, name) in check.names.iter().enumerate() {
                let reason = if tally.seen[c] {
                    tally.failed[c][item].clone()
                } else {
                    Some(format!("no `{}` event arrived", check.event))
                };
                fail(
                    StreamCheck::Event { check: c, item },
                    reason.is_none(),
                    reason,
                    name,
                );
            }
        }
    }
}

/// What an event may touch while the stream holds the user's connection: the user's
/// variables, verdicts, observer and template context, borrowed apart.
struct EventSink<'a> {
    vars: &'a mut Vec<Option<serde_json::Value>>,
    verdicts: &'a mut Vec<Verdict>,
    observer: Option<&'a dyn Observer>,
    /// User id, iteration and data rows, for templates in the checks.
    render: (u64, u64, &'a [&'a [serde_json::Value]]),
    rng: &'a mut rand::rngs::SmallRng,
    plan: &'a StreamPlan,
    intended: Instant,
}

impl EventSink<'_> {
    /// Counts and times one event, shows it under `--debug`, and runs the checks on its
    /// name and the saves still waiting for one.
    fn event(&mut self, tally: &mut Tally, at: Instant, name: &str, data: &[u8]) {
        tally.events += 1;
        match tally.last_event_at {
            None => tally.first_event_at = Some(at),
            Some(prev) => tally.gaps_ns.push(ns(at.saturating_duration_since(prev))),
        }
        tally.last_event_at = Some(at);
        if let Some(o) = self.observer {
            o.event(name, data, at.saturating_duration_since(self.intended));
        }
        let s = self.plan;
        if s.mode == StreamMode::Chunks {
            return;
        }
        let wanted = s.event_checks.iter().any(|c| c.event == name)
            || s.event_saves
                .iter()
                .zip(&tally.saved)
                .any(|((n, _), done)| n == name && !done);
        if !wanted {
            return;
        }
        let view = ResponseView::new(Response {
            status: 200,
            headers: &NO_HEADERS,
            body: data,
        });
        for (i, (event, save)) in s.event_saves.iter().enumerate() {
            if event != name || tally.saved[i] {
                continue;
            }
            if let Some(v) = save.extractor.extract(&view) {
                let shown = self.observer.is_some().then(|| v.clone());
                self.vars[save.slot as usize] = Some(v);
                self.verdicts
                    .push(Verdict::Saved(save.slot as usize, shown));
                tally.saved[i] = true;
            }
        }
        let (user_id, iteration, data) = self.render;
        let mut ctx = RenderCtx {
            vars: self.vars,
            user_id,
            iteration,
            rng: self.rng,
            data,
        };
        for (c, check) in s.event_checks.iter().enumerate() {
            if check.event != name {
                continue;
            }
            tally.seen[c] = true;
            let failed = &mut tally.failed[c];
            check.check.evaluate(
                &view,
                Duration::ZERO,
                &mut ctx,
                &mut |i: usize, passed: bool, detail: &dyn Fn() -> String| {
                    if !passed && failed[i].is_none() {
                        failed[i] = Some(detail());
                    }
                },
            );
        }
    }
}

fn ns(d: Duration) -> u64 {
    d.as_nanos() as u64
}
