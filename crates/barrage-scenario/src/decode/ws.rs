//! WebSocket steps: `- ws: /chat` with its `messages:` (`send`, `receive`, `think`).
//!
//! A receive is judged like a response, so `check` and `save` reuse the request step's
//! decoders; what a message cannot have (a status, headers) is rejected here at its key,
//! with the fix, rather than accepted and never true at run time.

use crate::decode::check::{check, saves};
use crate::decode::step::{headers, on_failure};
use crate::decode::value::{self, fields, map, mismatch_help, text};
use crate::decode::{is_key, time, Ctx};
use crate::keys;
use crate::model::{Check, OnFailure, SaveSource, Spanned, WsMessage, WsReceive, WsSend, WsStep};
use crate::node::{Kind, Node, ScalarValue};

const MESSAGE: &str = "a message like `send: hello`, `receive: {}` or `think: 1s`";

/// The step whose `ws` key is `key` (its value the path or URL).
pub(super) fn ws_step(
    ctx: &mut Ctx,
    node: &Node,
    entries: &[(Node, Node)],
    key: &Node,
    value: &Node,
) -> Option<WsStep> {
    let url = value::string(ctx, value, "a path like `/ws` or a `ws://` URL");
    if let Some(url) = &url {
        if url.value.trim().is_empty() {
            ctx.error_help(
                url.span,
                "the WebSocket step has an empty path",
                "write the path, like `ws: /ws/chat`",
            );
        }
    }
    let mut step = WsStep {
        span: node.span,
        url: Spanned::new(String::new(), value.span),
        name: None,
        headers: Vec::new(),
        messages: Vec::new(),
        keep: None,
        timeout: None,
        on_failure: Spanned::new(OnFailure::Continue, key.span),
    };
    let mut has_messages = false;
    let options = entries.iter().filter(|(k, _)| !is_key(k, "ws"));
    for field in fields(ctx, options, keys::WS_STEP, "in a WebSocket step") {
        let value = field.value;
        match field.name {
            "name" => step.name = text(ctx, value, "a name for the statistics"),
            "headers" => step.headers = headers(ctx, value),
            "messages" => {
                has_messages = true;
                step.messages = messages(ctx, value);
            }
            "keep" => step.keep = value::boolean(ctx, value),
            "timeout" => {
                step.timeout = time::positive_duration(ctx, value, super::TIMEOUT_HELP);
            }
            "on_failure" => {
                if let Some(on_failure) = on_failure(ctx, value) {
                    step.on_failure = on_failure;
                }
            }
            // `fields` yields only the names listed in `keys::WS_STEP`.
            _ => {}
        }
    }
    if !has_messages {
        ctx.error_help(
            key.span,
            "a WebSocket step needs `messages:`",
            "list what to send and receive, like `messages: [{ send: hello }, { receive: {} }]`",
        );
    }
    step.url = url?;
    Some(step)
}

fn messages(ctx: &mut Ctx, node: &Node) -> Vec<WsMessage> {
    let Kind::Seq(items) = &node.kind else {
        mismatch_help(
            ctx,
            node,
            "a list of messages",
            "write each message as a list item, like `- send: hello`",
        );
        return Vec::new();
    };
    if items.is_empty() {
        ctx.error_help(
            node.span,
            "a WebSocket step needs at least one message",
            "add one, like `- send: hello` or `- receive: {}`",
        );
    }
    items.iter().filter_map(|item| message(ctx, item)).collect()
}

fn message(ctx: &mut Ctx, node: &Node) -> Option<WsMessage> {
    let entries = map(ctx, node, MESSAGE)?;
    let found = fields(ctx, entries, keys::WS_MESSAGE, "in a WebSocket message");
    let (first, rest) = match found.split_first() {
        Some(split) => split,
        None => {
            if entries.is_empty() {
                ctx.error_help(
                    node.span,
                    "an empty WebSocket message",
                    format!("write one of {}", keys::list(keys::WS_MESSAGE)),
                );
            }
            return None;
        }
    };
    for other in rest {
        ctx.error_help(
            other.key.span,
            format!(
                "a message is one of `send`, `receive` and `think`, and this one has `{}` and `{}`",
                first.name, other.name
            ),
            "split it into two list items, each starting with `- `",
        );
    }
    if !rest.is_empty() {
        return None;
    }
    let value = first.value;
    match first.name {
        "send" => send(ctx, value).map(WsMessage::Send),
        "receive" => receive(ctx, first.key, value).map(|r| WsMessage::Receive(Box::new(r))),
        _ => time::think(ctx, value).map(WsMessage::Think),
    }
}

/// `send: text` or `send: { json: ... }`.
fn send(ctx: &mut Ctx, node: &Node) -> Option<WsSend> {
    const EXPECTED: &str = "the text to send, or `{ json: ... }`";
    match &node.kind {
        Kind::Map(_) => {
            let entries = map(ctx, node, EXPECTED)?;
            let mut json = None;
            for field in fields(ctx, entries, keys::WS_SEND, "in `send`") {
                json = value::value(ctx, field.value);
            }
            if entries.is_empty() {
                ctx.error_help(
                    node.span,
                    "`send` has nothing to send",
                    "write the text, like `send: hello`, or `send: { json: { n: 1 } }`",
                );
            }
            json.map(WsSend::Json)
        }
        _ => text(ctx, node, EXPECTED).map(WsSend::Text),
    }
}

/// `receive: {}` (or nothing) or `receive: { timeout, check, save, until }`.
fn receive(ctx: &mut Ctx, key: &Node, node: &Node) -> Option<WsReceive> {
    let mut receive = WsReceive {
        span: key.span,
        timeout: None,
        check: Check::default(),
        save: Vec::new(),
        until: None,
    };
    if matches!(&node.kind, Kind::Scalar(s) if s.value == ScalarValue::Null && !s.quoted) {
        return Some(receive);
    }
    let entries = map(
        ctx,
        node,
        "a mapping of `timeout`, `check`, `save` and `until` (or `{}`)",
    )?;
    for field in fields(ctx, entries, keys::WS_RECEIVE, "in `receive`") {
        let value = field.value;
        match field.name {
            "timeout" => {
                receive.timeout = time::positive_duration(ctx, value, super::TIMEOUT_HELP);
            }
            "check" => receive.check = message_check(ctx, value),
            "until" => receive.until = Some(message_check(ctx, value)),
            "save" => {
                receive.save = saves(ctx, value);
                for save in &receive.save {
                    if let Some(event) = &save.event {
                        ctx.error_help(
                            event.span,
                            "a WebSocket message has no events (those are a `stream:` step's)",
                            "save from the message with a JSONPath (`$.id`) or `{ regex: ... }`",
                        );
                        continue;
                    }
                    let what = match save.source.value {
                        SaveSource::Header(_) => "headers",
                        SaveSource::Status => "status",
                        SaveSource::Data | SaveSource::Events => {
                            "events (those are a \
                                                                  `stream:` step's)"
                        }
                        SaveSource::JsonPath(_) | SaveSource::Regex { .. } => continue,
                    };
                    ctx.error_help(
                        save.source.span,
                        format!("a WebSocket message has no {what}"),
                        "save from the message with a JSONPath (`$.id`) or `{ regex: ... }`",
                    );
                }
            }
            // `fields` yields only the names listed in `keys::WS_RECEIVE`.
            _ => {}
        }
    }
    Some(receive)
}

/// A `check` or `until` on a message: the request check's decoder, less what a message
/// cannot have.
fn message_check(ctx: &mut Ctx, node: &Node) -> Check {
    if let Kind::Map(entries) = &node.kind {
        for (k, _) in entries {
            let Some(name) = k.as_scalar().map(|s| s.text.as_str()) else {
                continue;
            };
            if keys::CHECK.contains(&name) && !keys::WS_CHECK.contains(&name) {
                ctx.error_help(
                    k.span,
                    format!("a WebSocket message has no `{name}` to check"),
                    format!("check the message with {}", keys::list(keys::WS_CHECK)),
                );
            }
        }
    }
    let mut check = check(ctx, node);
    check.status.clear();
    check.headers.clear();
    check.schema.clear();
    check.events = None;
    check.event.clear();
    check
}
