//! The keys of a streamed request step: `stream:`, `max_events:`, the `events` and `event`
//! checks, and whether a step's saves and checks fit the way it reads its answer.
//!
//! The checks that a key needs `stream:` (or `stream: events`) are made here, once the whole
//! step is read, rather than in `check.rs`, which does not see the step around a check.

use crate::decode::value::{self, fields, map, mismatch};
use crate::decode::Ctx;
use crate::keys;
use crate::model::{EventCheck, EventCount, RequestStep, SaveSource, Spanned, StreamMode};
use crate::node::{Kind, Node};

const MODES: &[&str] = &["events", "chunks"];
const ADD_STREAM: &str =
    "add `stream: events` (server-sent events) or `stream: chunks` to the step";

/// `stream: events` or `stream: chunks`.
pub(super) fn mode(ctx: &mut Ctx, node: &Node) -> Option<Spanned<StreamMode>> {
    let written = value::text(ctx, node, "`events` or `chunks`")?;
    let mode = match written.value.as_str() {
        "events" => StreamMode::Events,
        "chunks" => StreamMode::Chunks,
        other => {
            let help = match keys::suggest(other, MODES) {
                Some(close) => format!("did you mean `{close}`?"),
                None => "write `events` for server-sent events (`text/event-stream`), or `chunks` for any streamed body".to_string(),
            };
            ctx.error_help(
                written.span,
                format!("unknown `stream` value `{other}`"),
                help,
            );
            return None;
        }
    };
    Some(Spanned::new(mode, written.span))
}

/// `check.events`: `5` (exactly), or `{ min: 1, max: 50 }`.
pub(super) fn count(ctx: &mut Ctx, node: &Node) -> Option<Spanned<EventCount>> {
    const EXPECTED: &str = "a number of events, or a mapping like `{ min: 1, max: 50 }`";
    if let Kind::Map(_) = node.kind {
        let entries = map(ctx, node, EXPECTED)?;
        let mut count = EventCount {
            min: None,
            max: None,
        };
        for field in fields(ctx, entries, keys::EVENT_COUNT, "in `events`") {
            let n = value::u64_at_least(ctx, field.value, "a number of events", 0)?;
            match field.name {
                "min" => count.min = Some(n.value),
                _ => count.max = Some(n.value),
            }
        }
        if let (Some(min), Some(max)) = (count.min, count.max) {
            if min > max {
                ctx.error_help(
                    node.span,
                    format!("`events` asks for at least {min} and at most {max}"),
                    "make `min` no more than `max`",
                );
                return None;
            }
        }
        if count.min.is_none() && count.max.is_none() {
            mismatch(ctx, node, EXPECTED);
            return None;
        }
        return Some(Spanned::new(count, node.span));
    }
    let n = value::u64_at_least(ctx, node, EXPECTED, 0)?;
    Some(Spanned::new(
        EventCount {
            min: Some(n.value),
            max: Some(n.value),
        },
        n.span,
    ))
}

/// `check.event`: `{ done: { json: { '$.finish': stop } }, token: { data_contains: x } }`.
pub(super) fn event_checks(ctx: &mut Ctx, node: &Node) -> Vec<EventCheck> {
    let Some(entries) = map(
        ctx,
        node,
        "a mapping of event names to checks, like `{ done: { json: { '$.ok': true } } }`",
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let Some(name) = value::key(ctx, k) else {
            continue;
        };
        let mut check = EventCheck {
            name,
            json: Vec::new(),
            data_contains: Vec::new(),
        };
        let Some(inner) = map(
            ctx,
            v,
            "a mapping like `{ json: { '$.text': exists } }` or `{ data_contains: done }`",
        ) else {
            continue;
        };
        for field in fields(ctx, inner, keys::EVENT_CHECK, "in an `event` check") {
            match field.name {
                "json" => check.json = super::check::json_checks(ctx, field.value),
                _ => check.data_contains = super::check::body_contains(ctx, field.value),
            }
        }
        out.push(check);
    }
    out
}

/// Errors for stream keys on a step that cannot use them: without `stream:`, or names on
/// chunks (which have none).
pub(super) fn check_step(ctx: &mut Ctx, step: &RequestStep) {
    let mode = step.stream.as_ref().map(|s| s.value);
    if mode.is_none() {
        if let Some(m) = &step.max_events {
            ctx.error_help(
                m.span,
                "`max_events` ends a streamed answer, and this step does not stream",
                ADD_STREAM,
            );
        }
        if let Some(c) = &step.check.events {
            ctx.error_help(
                c.span,
                "the `events` check counts a stream's events, and this step does not stream",
                ADD_STREAM,
            );
        }
    }
    let named = |ctx: &mut Ctx, span, what: &str| match mode {
        None => ctx.error_help(
            span,
            format!("{what} reads a server-sent event, and this step does not stream"),
            "add `stream: events` to the step",
        ),
        Some(StreamMode::Chunks) => ctx.error_help(
            span,
            format!("{what} reads a server-sent event by name, and chunks have no names"),
            "write `stream: events` for a `text/event-stream` answer",
        ),
        Some(StreamMode::Events) => {}
    };
    for c in &step.check.event {
        named(ctx, c.name.span, "an `event` check");
    }
    for save in &step.save {
        if let Some(e) = &save.event {
            named(ctx, e.span, "a save `event`");
        } else if matches!(save.source.value, SaveSource::Events) && mode.is_none() {
            ctx.error_help(
                save.source.span,
                "`events: true` saves how many events a stream carried, and this step does not stream",
                ADD_STREAM,
            );
        }
    }
}
