//! Compiling one WebSocket step: its URL and upgrade headers, and each message's
//! templates, saves and checks, bound to slots in order (a `send` may use what an earlier
//! `receive` of the same step saved).

use std::collections::BTreeSet;

use barrage_scenario::{Check, Save, WsMessage, WsReceive, WsSend, WsStep};
use barrage_template::{CompiledCheck, Extractor, JsonTemplate, Slot};
use http::HeaderName;

use super::request::{clone_header_plan, describe_source, json_names, value_to_json};
use super::{unquote, Compiler, Defaults};
use crate::plan::*;

/// The method name WebSocket endpoints are counted under.
pub const WS_METHOD: &str = "WS";

impl Compiler<'_> {
    /// `available` grows with each `receive`'s saves, so later messages and steps see them.
    pub(super) fn ws(
        &mut self,
        w: &WsStep,
        defaults: &Defaults,
        available: &mut BTreeSet<String>,
        saved_elsewhere: &BTreeSet<String>,
        has_base: bool,
    ) -> Option<WsPlan> {
        let errors_before = self.error_count();
        let text = &w.url.value;
        let absolute = text.starts_with("ws://") || text.starts_with("wss://");
        if text.starts_with("http://") || text.starts_with("https://") {
            let fixed = text.replacen("http", "ws", 1);
            self.error(
                w.url.span,
                format!("`{text}` is an HTTP URL, and a WebSocket needs a `ws://` or `wss://` one"),
                Some(format!(
                    "write `{fixed}`, or a path like `/ws` (joined to the target)"
                )),
            );
        } else if !absolute && !has_base {
            self.error(
                w.url.span,
                "a WebSocket path needs a target to be opened on",
                Some("set `target: http://127.0.0.1:8000` at the top, or pass -H/--host".into()),
            );
        } else if !absolute && !text.starts_with('/') && !text.starts_with("{{") {
            self.error(
                w.url.span,
                format!("`{text}` is neither a path nor a `ws://` URL"),
                Some(format!("start it with a slash: `/{text}`")),
            );
        }
        let url = self.template(text, w.url.span, available, saved_elsewhere);
        let name = w.name.as_ref().map_or(text.as_str(), |n| n.value.as_str());
        let endpoint = self.endpoint(WS_METHOD, name);

        let mut headers: Vec<(HeaderName, HeaderPlan)> = Vec::new();
        for (name, value) in &w.headers {
            if let Some(h) = self.header(name, value, available, saved_elsewhere) {
                headers.push(h);
            }
        }
        for (name, value) in &defaults.headers {
            if !headers.iter().any(|(n, _)| n == name) {
                headers.push((name.clone(), clone_header_plan(value)));
            }
        }

        let step_timeout = w.timeout.as_ref().map_or(defaults.timeout, |t| t.value);
        let mut messages = Vec::with_capacity(w.messages.len());
        for m in &w.messages {
            let plan = match m {
                WsMessage::Think(t) => Some(WsMessagePlan::Think(t.value)),
                WsMessage::Send(s) => self
                    .ws_send(s, available, saved_elsewhere)
                    .map(WsMessagePlan::Send),
                WsMessage::Receive(r) => {
                    let plan = self.receive(r, endpoint, step_timeout, available, saved_elsewhere);
                    available.extend(r.save.iter().map(|s| s.var.value.clone()));
                    plan.map(|p| WsMessagePlan::Receive(Box::new(p)))
                }
            };
            messages.extend(plan);
        }

        if self.error_count() > errors_before {
            return None;
        }
        let keep = match &w.keep {
            Some(k) if k.value => {
                self.ws_kept += 1;
                Some(self.ws_kept)
            }
            _ => None,
        };
        Some(WsPlan {
            endpoint,
            url: if absolute {
                UrlPlan::Absolute(url?)
            } else {
                UrlPlan::Path(url?)
            },
            headers,
            messages,
            keep,
            stop_on_failure: w.on_failure.value == barrage_scenario::OnFailure::StopIteration,
            max_message: defaults.max_body,
            label: format!("{WS_METHOD} {name}"),
        })
    }

    fn ws_send(
        &mut self,
        s: &WsSend,
        available: &BTreeSet<String>,
        saved_elsewhere: &BTreeSet<String>,
    ) -> Option<WsSendPlan> {
        match s {
            WsSend::Text(t) => self
                .template(&t.value, t.span, available, saved_elsewhere)
                .map(WsSendPlan::Text),
            WsSend::Json(v) => {
                let ok = self.check_names(json_names(v), available, saved_elsewhere);
                let mut resolve = |n: &str| self.resolve(n);
                match JsonTemplate::compile(v, &mut resolve) {
                    Ok(t) => ok.then_some(WsSendPlan::Json(t)),
                    Err((span, e)) => {
                        let text = self.source.text.get(span.start..span.end).unwrap_or("");
                        let inner = unquote(text).to_string();
                        self.template_error(&inner, span, e);
                        None
                    }
                }
            }
        }
    }

    fn receive(
        &mut self,
        r: &WsReceive,
        endpoint: barrage_metrics::EndpointId,
        step_timeout: std::time::Duration,
        available: &BTreeSet<String>,
        saved_elsewhere: &BTreeSet<String>,
    ) -> Option<ReceivePlan> {
        let saves = self.message_saves(&r.save);
        // Checks run after the receive's own saves, so they may use them; `until` runs
        // before, on every message, so it may not.
        let mut after = available.clone();
        after.extend(r.save.iter().map(|s| s.var.value.clone()));
        let check = self.message_check(&r.check, &after, saved_elsewhere);
        let until = match &r.until {
            Some(u) => Some(self.message_check(u, available, saved_elsewhere)?),
            None => None,
        };
        let check = check?;
        if let Some(u) = &until {
            if u.items().is_empty() {
                self.warning(
                    r.span,
                    "`until` without checks takes the first message",
                    Some("say what the awaited message holds, like `until: { json: { '$.type': done } }`".into()),
                );
            }
        }
        let check_ids = check
            .items()
            .iter()
            .map(|item| self.check_id(endpoint, item.name()))
            .collect();
        Some(ReceivePlan {
            timeout: r.timeout.as_ref().map_or(step_timeout, |t| t.value),
            saves,
            check,
            check_ids,
            until,
        })
    }

    fn message_check(
        &mut self,
        c: &Check,
        available: &BTreeSet<String>,
        saved_elsewhere: &BTreeSet<String>,
    ) -> Option<CompiledCheck> {
        let compiled = {
            let mut resolve = |n: &str| self.resolve(n);
            CompiledCheck::compile(c, &mut resolve)
        };
        match compiled {
            Ok(check) => {
                let names = check.names();
                self.check_names(names, available, saved_elsewhere)
                    .then_some(check)
            }
            Err((span, message, help)) => {
                self.error(span, message, help);
                None
            }
        }
    }

    fn message_saves(&mut self, saves: &[Save]) -> Vec<SavePlan> {
        let mut out = Vec::with_capacity(saves.len());
        for save in saves {
            if matches!(save.var.value.as_str(), "user_id" | "iteration")
                || self.data_names.contains(&save.var.value)
            {
                self.error(
                    save.var.span,
                    format!(
                        "`{}` is a built-in name and cannot be saved to",
                        save.var.value
                    ),
                    None,
                );
                continue;
            }
            match Extractor::compile(&save.source.value) {
                Ok(extractor) => out.push(SavePlan {
                    slot: match self.resolve(&save.var.value) {
                        Some(Slot::Var(v)) => v,
                        _ => 0,
                    },
                    what: describe_source(&save.source.value),
                    extractor,
                    default: save.default.as_ref().map(|d| value_to_json(&d.value)),
                }),
                Err(e) => self.error(save.source.span, e.to_string(), None),
            }
        }
        out
    }
}
