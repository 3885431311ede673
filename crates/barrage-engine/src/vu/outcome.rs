//! What became of one request step, and the one place it is told: [`Vu::request`] builds,
//! sends and judges a step into an [`Outcome`], and [`Vu::settle`] lends it to the
//! recorder and, under `--debug`, to the observer.
//!
//! Why an outcome value rather than telling the recorder and the observer as things
//! happen: the request path (`vu.rs`, `vu/request.rs`) then neither records nor observes.
//! It asks whether someone is watching in one place only, to show the request before it
//! is sent (so a server that never answers still shows what was asked); everything after
//! goes through [`Vu::settle`]. All that watching changes while a request runs is whether
//! the user has an observer (bodies kept, every failed check worded). What the observer
//! needs beyond what the recorder does costs nothing unless someone watches: the request
//! is read back from its rendered bytes only then, and the saves and checks are noted in a
//! buffer the user reuses, so noting them allocates nothing.
//!
//! The outcome borrows the answer rather than holding it: an [`Exchange`] is 160 bytes
//! (x86_64), written once where `Vu::request` keeps it (`Connections::send_into`), and
//! each move of it on the way to here would be a copy on every request.

use std::time::Duration;

use barrage_metrics::{FailureCategory, Timing};

use super::{BuildError, Observer, Vu};
use crate::http::{categorize, Exchange, Origin, RequestError};
use crate::plan::RequestPlan;

/// What became of one request step: what the recorder and the observer are told.
/// [`Vu::request`] makes it; [`Vu::settle`] lends it to both.
pub(super) enum Outcome<'a> {
    /// The request could not be built (a template failed): nothing was sent.
    Unbuilt(&'a BuildError),
    /// The request, `sent` bytes, went out to `to` and no whole answer came; `received`
    /// body bytes still arrived (a body cut off or over its cap), and count.
    Unanswered {
        sent: u64,
        received: u64,
        error: &'a RequestError,
    },
    /// An answer came and was judged; `failure` when its status, a save or a check failed.
    Answered {
        sent: u64,
        x: &'a Exchange,
        timing: Timing,
        failure: Option<(FailureCategory, String)>,
    },
}

/// One save or check of a judged answer, in the order they ran. Kept in a buffer the user
/// reuses, for the recorder (check counts) and the observer.
pub(super) enum Verdict {
    /// The save into this variable slot found a value (it is in the slot now), with a copy
    /// of it under `--debug`.
    Saved(usize, Option<serde_json::Value>),
    /// The check at this index of the step's checks ran; `reason` says why it failed, when
    /// it was worded (see [`Vu::judge`]).
    Check {
        index: usize,
        passed: bool,
        reason: Option<String>,
    },
    /// A `stream:` step's own check ran (`vu/stream.rs`).
    Stream {
        which: StreamCheck,
        passed: bool,
        reason: Option<String>,
    },
}

/// Which of a stream plan's checks a [`Verdict::Stream`] is.
#[derive(Debug, Clone, Copy)]
pub(super) enum StreamCheck {
    /// `check.events`.
    Count,
    /// Item `item` of `check.event`'s entry `check`.
    Event { check: usize, item: usize },
}

impl StreamCheck {
    /// Its check id and name.
    fn of(self, r: &RequestPlan) -> Option<(barrage_metrics::CheckId, &str)> {
        let s = r.stream.as_ref()?;
        match self {
            StreamCheck::Count => s.count.as_ref().map(|(_, id, name)| (*id, name.as_str())),
            StreamCheck::Event { check, item } => {
                let c = s.event_checks.get(check)?;
                Some((*c.ids.get(item)?, c.names.get(item)?.as_str()))
            }
        }
    }
}

impl Vu {
    /// Hands what became of one request step to the recorder and, under `--debug`, to the
    /// observer: the one place either hears of a request. `true` when it succeeded.
    pub(super) fn settle(&self, r: &RequestPlan, outcome: &Outcome<'_>) -> bool {
        if let Some(o) = &self.observer {
            self.show(o.as_ref(), r, outcome);
        }
        self.record(r, outcome)
    }

    /// Records what one request step came to.
    fn record(&self, r: &RequestPlan, outcome: &Outcome<'_>) -> bool {
        let mut recorder = self.ctx.recorder.borrow_mut();
        // The sample (the message, the body's start, secrets scrubbed: `vu/sample.rs`) is
        // built only when the recorder keeps it as the sample of its category (once an
        // interval at most).
        match outcome {
            Outcome::Unbuilt(error) => {
                let category = FailureCategory::Template;
                // Nothing was sent: `self.request` may hold an earlier request. A secret
                // header's value that could not be sent is not named.
                recorder.failure(r.endpoint, category, None, None, 0, 0, || {
                    let message = match (error, &self.plan.redact) {
                        (BuildError::HeaderValue { name, .. }, Some(rules))
                            if rules.secret_header(name.as_str()) =>
                        {
                            format!("header `{name}`: its value is not a valid header value")
                        }
                        _ => error.to_string(),
                    };
                    self.sample(&message, None, false)
                });
                false
            }
            Outcome::Unanswered {
                sent,
                received,
                error,
            } => {
                let category = categorize(error);
                recorder.failure(r.endpoint, category, None, None, *sent, *received, || {
                    self.sample(&error.to_string(), None, true)
                });
                false
            }
            Outcome::Answered {
                sent,
                x,
                timing,
                failure,
                ..
            } => {
                if let Some(c) = x.timings.connected {
                    recorder.connection(
                        c.connect.as_nanos() as u64,
                        c.tls.map(|t| t.as_nanos() as u64),
                    );
                    if x.version() == http::Version::HTTP_2 {
                        recorder.http2_connection();
                    }
                }
                for v in &self.verdicts {
                    match v {
                        Verdict::Check { index, passed, .. } => {
                            recorder.check(r.check_ids[*index], *passed);
                        }
                        Verdict::Stream { which, passed, .. } => {
                            if let Some((id, _)) = which.of(r) {
                                recorder.check(id, *passed);
                            }
                        }
                        Verdict::Saved(..) => {}
                    }
                }
                let (status, received) = (x.status().as_u16(), x.body_len());
                match failure {
                    None => {
                        recorder.success(r.endpoint, status, *timing, *sent, received);
                        if let (Some(start), Some(ids)) = (self.ctx.traceparent, self.trace) {
                            let at = x.timings.sent_at.saturating_duration_since(start);
                            recorder.traced(
                                r.endpoint,
                                timing.response_time_ns,
                                ids,
                                at.as_nanos() as u64,
                            );
                        }
                        true
                    }
                    Some((category, message)) => {
                        recorder.failure(
                            r.endpoint,
                            *category,
                            Some(status),
                            Some(*timing),
                            *sent,
                            received,
                            || self.sample(message, Some(x), true),
                        );
                        false
                    }
                }
            }
        }
    }

    /// Shows the step's request as rendered, before it is sent, so a server that never
    /// answers (or a stop that cuts the request off) still shows what was asked. Only
    /// `--debug` comes here.
    #[cold]
    pub(super) fn show_request(&self, o: &dyn Observer, r: &RequestPlan, to: &Origin) {
        if let Some(sent) = self.request.read_back() {
            let url = format!("{to}{}", sent.target);
            o.request(&r.label, &sent.method, &url, &sent.headers, sent.body);
        }
    }

    /// Tells `o` what one request step came to, in the order it happened after the request
    /// went out: the answer, each save and check, and the failure. Only `--debug` comes here.
    #[cold]
    fn show(&self, o: &dyn Observer, r: &RequestPlan, outcome: &Outcome<'_>) {
        match outcome {
            Outcome::Unbuilt(error) => {
                o.failure(&r.label, FailureCategory::Template, &error.to_string());
            }
            Outcome::Unanswered { error, .. } => {
                o.failure(&r.label, categorize(error), &error.to_string());
            }
            Outcome::Answered {
                x, timing, failure, ..
            } => {
                if let Some(c) = x.timings.connected {
                    o.connection(x.version(), c.connect, c.tls);
                }
                o.response(
                    x.status(),
                    x.headers(),
                    x.body(),
                    Duration::from_nanos(timing.response_time_ns),
                );
                for v in &self.verdicts {
                    match v {
                        Verdict::Saved(slot, value) => {
                            if let Some(value) = value {
                                o.saved(&self.plan.var_names[*slot], value);
                            }
                        }
                        Verdict::Check {
                            index,
                            passed,
                            reason,
                        } => o.check(
                            r.check.items()[*index].name(),
                            *passed,
                            reason.as_deref().unwrap_or(""),
                        ),
                        Verdict::Stream {
                            which,
                            passed,
                            reason,
                        } => {
                            if let Some((_, name)) = which.of(r) {
                                o.check(name, *passed, reason.as_deref().unwrap_or(""));
                            }
                        }
                    }
                }
                if let Some((category, message)) = failure {
                    o.failure(&r.label, *category, message);
                }
            }
        }
    }
}
