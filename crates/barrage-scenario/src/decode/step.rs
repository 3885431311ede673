//! Steps: `- get: /items/{{ id }}` with its options, or `- think: 1s`.
//!
//! A step is told apart by its keys, not by a `type:` field: exactly one method key makes
//! it a request, `think` alone makes it a pause. Everything a step can get wrong about
//! that (no method, two methods, a method and `think`, a misspelled `GET`) gets its own
//! message, because it is the first thing every new user writes.

use crate::decode::check::{check, saves};
use crate::decode::value::{self, fields, map, mismatch_help, text};
use crate::decode::{is_key, time, Ctx};
use crate::keys;
use crate::model::{Body, Method, OnFailure, RequestStep, Spanned, Step};
use crate::node::{Kind, Node, ScalarValue};

const STEP: &str = "a step like `get: /items` or `think: 1s`";

/// A list of steps; `required` when an empty list is an error (a task's steps).
pub(super) fn steps(ctx: &mut Ctx, node: &Node, required: bool) -> Vec<Step> {
    let Kind::Seq(items) = &node.kind else {
        mismatch_help(
            ctx,
            node,
            "a list of steps",
            "write each step as a list item, like `- get: /items`",
        );
        return Vec::new();
    };
    if required && items.is_empty() {
        ctx.error_help(
            node.span,
            "a task needs at least one step",
            "add a step, like `- get: /items`",
        );
    }
    items.iter().filter_map(|item| step(ctx, item)).collect()
}

fn step(ctx: &mut Ctx, node: &Node) -> Option<Step> {
    let entries = match &node.kind {
        Kind::Map(_) => map(ctx, node, STEP)?,
        Kind::Scalar(s) if s.value == ScalarValue::Str => {
            let (method, path) = match s.text.split_once(' ') {
                Some((m, p)) if keys::METHODS.contains(&m.to_lowercase().as_str()) => {
                    (m.to_lowercase(), p.trim().to_string())
                }
                _ => ("get".to_string(), s.text.clone()),
            };
            mismatch_help(
                ctx,
                node,
                STEP,
                format!("a step is a mapping: write `- {method}: {path}`"),
            );
            return None;
        }
        _ => {
            value::mismatch(ctx, node, STEP);
            return None;
        }
    };
    let methods: Vec<(Method, &Node, &Node)> = entries
        .iter()
        .filter_map(|(k, v)| {
            let name = k.as_scalar()?.text.as_str();
            let method = Method::ALL.into_iter().find(|m| m.key() == name)?;
            Some((method, k, v))
        })
        .collect();
    let think = entries.iter().find(|(k, _)| is_key(k, "think"));
    if let Some((key, value)) = entries.iter().find(|(k, _)| is_key(k, "ws")) {
        return ws_step(
            ctx,
            node,
            entries,
            key,
            value,
            methods.first().map(|m| m.1),
            think,
        );
    }
    match (methods.split_first(), think) {
        (None, Some((_, value))) => {
            fields(ctx, entries, keys::THINK_STEP, "in a think step");
            time::think(ctx, value).map(Step::Think)
        }
        (None, None) => {
            no_method(ctx, node, entries);
            None
        }
        (Some((&first, rest)), think) => {
            for (other, key, _) in rest {
                ctx.error_help(
                    key.span,
                    format!(
                        "a step has one method, and this one has `{}` and `{}`",
                        first.0.key(),
                        other.key()
                    ),
                    "split it into two steps, each starting with `- `",
                );
            }
            if let Some((key, _)) = think {
                ctx.error_help(
                    key.span,
                    "a step is either a request or a think, not both",
                    "put the think time in a step of its own: `- think: 1s`",
                );
            }
            request(ctx, node, entries, first).map(|r| Step::Request(Box::new(r)))
        }
    }
}

/// A step with a `ws` key: a WebSocket step, unless a method or `think` says otherwise.
fn ws_step(
    ctx: &mut Ctx,
    node: &Node,
    entries: &[(Node, Node)],
    key: &Node,
    value: &Node,
    method: Option<&Node>,
    think: Option<&(Node, Node)>,
) -> Option<Step> {
    if let Some(method) = method {
        ctx.error_help(
            method.span,
            format!(
                "a step is either a request or a WebSocket, and this one has `{}` and `ws`",
                ctx.source(method.span)
            ),
            "split it into two steps, each starting with `- `",
        );
        return None;
    }
    if let Some((think, _)) = think {
        ctx.error_help(
            think.span,
            "a WebSocket step has no `think` of its own",
            "pause between messages with `- think: 1s` under `messages:`, or in a step of its own",
        );
        return None;
    }
    super::ws::ws_step(ctx, node, entries, key, value).map(|w| Step::Ws(Box::new(w)))
}

/// No method key: either one is misspelled (say which) or it is missing.
fn no_method(ctx: &mut Ctx, node: &Node, entries: &[(Node, Node)]) {
    let misspelled_method = entries.iter().any(|(k, _)| {
        k.as_scalar().is_some_and(|s| {
            !keys::REQUEST_STEP.contains(&s.text.as_str())
                && keys::suggest(&s.text, keys::METHODS).is_some()
        })
    });
    if !misspelled_method {
        let at = entries.first().map_or(node.span, |(k, _)| k.span);
        ctx.error_help(
            at,
            "this step has no method",
            format!(
                "start the step with one of {} (the value is the path), or write `think: 1s`",
                keys::list(keys::METHODS)
            ),
        );
    }
    fields(ctx, entries, keys::REQUEST_STEP, "in a request step");
}

fn request(
    ctx: &mut Ctx,
    node: &Node,
    entries: &[(Node, Node)],
    (method, method_key, method_value): (Method, &Node, &Node),
) -> Option<RequestStep> {
    let url = value::string(ctx, method_value, "a path like `/items` or a URL");
    if let Some(url) = &url {
        if url.value.trim().is_empty() {
            ctx.error_help(
                url.span,
                "the request has an empty path",
                format!("write the path, like `{}: /items`", method.key()),
            );
        }
    }
    let mut step = RequestStep {
        span: node.span,
        method: Spanned::new(method, method_key.span),
        url: Spanned::new(String::new(), method_value.span),
        name: None,
        query: Vec::new(),
        headers: Vec::new(),
        body: None,
        save: Vec::new(),
        check: Default::default(),
        timeout: None,
        max_body_size: None,
        stream: None,
        max_events: None,
        // Not written: points at the method key, the step's name in the file.
        on_failure: Spanned::new(OnFailure::Continue, method_key.span),
    };
    let mut body_key: Option<&Node> = None;
    let options = entries
        .iter()
        .filter(|(k, _)| !is_key(k, "think") && !keys::METHODS.iter().any(|m| is_key(k, m)));
    for field in fields(ctx, options, keys::REQUEST_STEP, "in a request step") {
        let value = field.value;
        match field.name {
            "name" => step.name = text(ctx, value, "a name for the statistics"),
            "query" => {
                step.query =
                    value::scalar_map_lists(ctx, value, "a mapping of query parameters", true)
            }
            "headers" => step.headers = headers(ctx, value),
            "json" | "form" | "body" | "multipart" => {
                if let Some(first) = body_key {
                    ctx.error_help(
                        field.key.span,
                        format!(
                            "a request has one body, and `{}` is already given",
                            ctx.source(first.span)
                        ),
                        "keep one of `json`, `form`, `body` and `multipart`",
                    );
                    continue;
                }
                body_key = Some(field.key);
                step.body = match field.name {
                    "json" => value::value(ctx, value).map(Body::Json),
                    "form" => Some(Body::Form(value::scalar_map(
                        ctx,
                        value,
                        "a mapping of form fields",
                    ))),
                    "multipart" => super::multipart::multipart(ctx, value).map(Body::Multipart),
                    _ => text(ctx, value, "the body as a string").map(Body::Raw),
                };
            }
            "save" => step.save = saves(ctx, value),
            "check" => step.check = check(ctx, value),
            "timeout" => {
                step.timeout = time::positive_duration(ctx, value, super::TIMEOUT_HELP);
            }
            "max_body_size" => step.max_body_size = value::size(ctx, value),
            "stream" => step.stream = super::stream::mode(ctx, value),
            "max_events" => {
                step.max_events =
                    value::u64_at_least(ctx, value, "a number of events (1 or more)", 1)
            }
            "on_failure" => {
                if let Some(on_failure) = on_failure(ctx, value) {
                    step.on_failure = on_failure;
                }
            }
            // `fields` yields only the names listed in `keys::REQUEST_STEP`.
            _ => {}
        }
    }
    if let (Some(key), Method::Get | Method::Head) = (body_key, method) {
        ctx.warn_help(
            key.span,
            format!("a {} request with a body", method.as_str()),
            "many servers ignore or reject it; use `post` or `put` to send data",
        );
    }
    super::stream::check_step(ctx, &step);
    step.url = url?;
    Some(step)
}

/// Request headers: names must be HTTP tokens; values are templates.
pub(super) fn headers(ctx: &mut Ctx, node: &Node) -> Vec<(Spanned<String>, Spanned<String>)> {
    let headers = value::string_map(
        ctx,
        node,
        "a mapping of header names to values",
        "a header value",
    );
    for (name, _) in &headers {
        let is_token = !name.value.is_empty()
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
        if !is_token {
            ctx.error_help(
                name.span,
                format!("`{}` is not a valid header name", name.value),
                "header names are letters, digits and `-` (no spaces or `:`)",
            );
        }
    }
    headers
}

pub(super) fn on_failure(ctx: &mut Ctx, node: &Node) -> Option<Spanned<OnFailure>> {
    const CHOICES: &[&str] = &["continue", "stop_iteration"];
    let written = text(ctx, node, "`continue` or `stop_iteration`")?;
    let value = match written.value.as_str() {
        "continue" => OnFailure::Continue,
        "stop_iteration" => OnFailure::StopIteration,
        other => {
            let help = match keys::suggest(other, CHOICES) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!("expected {}", keys::list(CHOICES)),
            };
            ctx.error_help(
                written.span,
                format!("unknown `on_failure` value `{other}`"),
                help,
            );
            return None;
        }
    };
    Some(Spanned::new(value, written.span))
}
