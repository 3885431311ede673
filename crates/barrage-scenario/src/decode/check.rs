//! `check:` (what makes a response fail) and `save:` (values taken from a response).
//!
//! Only structure is judged here. JSONPath and regular-expression syntax is left to the
//! engine, which compiles them anyway and reports errors with the span kept here (the
//! span of the pattern itself, not of the whole entry).

use crate::decode::step::headers;
use crate::decode::value::{self, fields, map, mismatch, mismatch_help, text};
use crate::decode::{time, Ctx};
use crate::keys;
use crate::model::{Check, JsonExpect, Save, SaveSource, Spanned, StatusMatch, Value};
use crate::node::{Kind, Node, ScalarValue};

const STATUS: &str = "a status code like `201` or a class like `2xx`";

pub(super) fn check(ctx: &mut Ctx, node: &Node) -> Check {
    let mut check = Check::default();
    let Some(entries) = map(ctx, node, "a mapping of checks like `{ status: 200 }`") else {
        return check;
    };
    for field in fields(ctx, entries, keys::CHECK, "in `check`") {
        let value = field.value;
        match field.name {
            "status" => check.status = statuses(ctx, value),
            "json" => check.json = json_checks(ctx, value),
            "body_contains" => check.body_contains = body_contains(ctx, value),
            "headers" => check.headers = headers(ctx, value),
            "max_latency" => check.max_latency = time::duration(ctx, value),
            "schema" => check.schema = super::schema_check::schemas(ctx, value),
            "events" => check.events = super::stream::count(ctx, value),
            "event" => check.event = super::stream::event_checks(ctx, value),
            // `fields` yields only the names listed in `keys::CHECK`.
            _ => {}
        }
    }
    check
}

/// `201`, `2xx`, or a list of them.
fn statuses(ctx: &mut Ctx, node: &Node) -> Vec<Spanned<StatusMatch>> {
    match &node.kind {
        Kind::Seq(items) => items.iter().filter_map(|i| status(ctx, i)).collect(),
        _ => status(ctx, node).into_iter().collect(),
    }
}

pub(super) fn status(ctx: &mut Ctx, node: &Node) -> Option<Spanned<StatusMatch>> {
    let range_help = "HTTP status codes run from 100 to 599";
    let Some(scalar) = node.as_scalar() else {
        mismatch(ctx, node, STATUS);
        return None;
    };
    let found = match scalar.value {
        ScalarValue::Int(code) => u16::try_from(code)
            .ok()
            .filter(|c| (100..=599).contains(c))
            .map(StatusMatch::Code),
        ScalarValue::Str => {
            let text = scalar.text.trim();
            let bytes = text.as_bytes();
            match bytes {
                [hundreds @ b'1'..=b'5', b'x' | b'X', b'x' | b'X'] => {
                    Some(StatusMatch::Class(hundreds - b'0'))
                }
                [b'1'..=b'5', b'0'..=b'9', b'0'..=b'9'] => text.parse().ok().map(StatusMatch::Code),
                _ => None,
            }
        }
        _ => None,
    };
    if found.is_none() {
        mismatch_help(ctx, node, STATUS, range_help);
    }
    found.map(|f| Spanned::new(f, node.span))
}

/// `json: { '$.id': exists, '$.name': Item 1 }`.
pub(super) fn json_checks(
    ctx: &mut Ctx,
    node: &Node,
) -> Vec<(Spanned<String>, Spanned<JsonExpect>)> {
    let Some(entries) = map(ctx, node, "a mapping of JSONPaths to `exists` or a value") else {
        return Vec::new();
    };
    let mut checks = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let path = value::key(ctx, k);
        if let Some(path) = &path {
            require_jsonpath(ctx, path);
        }
        let expect = value::value(ctx, v).map(|value| {
            let expect = match value.value {
                Value::String(s) if s == "exists" => JsonExpect::Exists,
                other => JsonExpect::Equals(other),
            };
            Spanned::new(expect, value.span)
        });
        if let (Some(path), Some(expect)) = (path, expect) {
            checks.push((path, expect));
        }
    }
    checks
}

pub(super) fn body_contains(ctx: &mut Ctx, node: &Node) -> Vec<Spanned<String>> {
    const EXPECTED: &str = "a string, or a list of strings";
    match &node.kind {
        Kind::Seq(items) => items
            .iter()
            .filter_map(|i| text(ctx, i, "a string"))
            .collect(),
        _ => text(ctx, node, EXPECTED).into_iter().collect(),
    }
}

/// JSONPath syntax is the engine's to judge; only the leading `$` is checked here, since
/// a bare `id` is the common slip and the fix is obvious.
fn require_jsonpath(ctx: &mut Ctx, path: &Spanned<String>) -> bool {
    if path.value.starts_with('$') {
        return true;
    }
    let suggestion = match path.value.strip_prefix('.') {
        Some(rest) => format!("$.{rest}"),
        None if path.value.starts_with('[') => format!("${}", path.value),
        None => format!("$.{}", path.value),
    };
    ctx.error_help(
        path.span,
        format!("`{}` is not a JSONPath", path.value),
        format!("JSONPaths start at the document root `$`: write `{suggestion}`"),
    );
    false
}

/// `save: { token: $.access_token, next: { header: location } }`.
pub(super) fn saves(ctx: &mut Ctx, node: &Node) -> Vec<Save> {
    let Some(entries) = map(
        ctx,
        node,
        "a mapping of variable names to sources, like `{ id: $.id }`",
    ) else {
        return Vec::new();
    };
    let mut saves = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let Some(var) = value::key(ctx, k) else {
            continue;
        };
        value::check_identifier(ctx, &var, "a variable");
        if let Some(save) = save(ctx, var, v) {
            saves.push(save);
        }
    }
    saves
}

fn save(ctx: &mut Ctx, var: Spanned<String>, node: &Node) -> Option<Save> {
    const EXPECTED: &str = "a JSONPath like `$.id` or a mapping like `{ header: location }`";
    let entries = match &node.kind {
        Kind::Scalar(s) if s.value == ScalarValue::Str => {
            let path = Spanned::new(s.text.clone(), node.span);
            return require_jsonpath(ctx, &path).then(|| Save {
                var,
                source: Spanned::new(SaveSource::JsonPath(path.value), path.span),
                default: None,
                event: None,
            });
        }
        Kind::Map(_) => map(ctx, node, EXPECTED)?,
        _ => {
            mismatch(ctx, node, EXPECTED);
            return None;
        }
    };
    const SOURCES: &[&str] = &["jsonpath", "header", "regex", "status", "events", "event"];
    let mut source: Option<(&str, Option<Spanned<SaveSource>>)> = None;
    let mut group = None;
    let mut group_key = None;
    let mut default = None;
    let mut event: Option<Spanned<String>> = None;
    let mut ok = true;
    for field in fields(ctx, entries, keys::SAVE_SOURCE, "in a `save` source") {
        let value = field.value;
        let read = match field.name {
            "jsonpath" => value::string(ctx, value, "a JSONPath like `$.id`")
                .filter(|p| require_jsonpath(ctx, p))
                .map(|p| Spanned::new(SaveSource::JsonPath(p.value), p.span)),
            "header" => text(ctx, value, "a header name")
                .map(|h| Spanned::new(SaveSource::Header(h.value), h.span)),
            "regex" => text(ctx, value, "a regular expression").map(|r| {
                Spanned::new(
                    SaveSource::Regex {
                        pattern: r.value,
                        group: 1,
                    },
                    r.span,
                )
            }),
            "status" => status_source(ctx, value),
            "events" => events_source(ctx, value),
            "event" => {
                event = text(
                    ctx,
                    value,
                    "an event name, like `done` (`message` for unnamed events)",
                );
                ok &= event.is_some();
                continue;
            }
            "group" => {
                group_key = Some(field.key);
                group = value::int(
                    ctx,
                    value,
                    "a capture group number (0 or more)",
                    0,
                    i64::MAX,
                );
                ok &= group.is_some();
                continue;
            }
            "default" => {
                default = value::value(ctx, value);
                ok &= default.is_some();
                continue;
            }
            // `fields` yields only the names listed in `keys::SAVE_SOURCE`.
            _ => continue,
        };
        if let Some((first, _)) = source {
            ctx.error_help(
                field.key.span,
                format!("a `save` source has one of `jsonpath`, `header`, `regex` and `status`, and this one has `{first}` and `{}`", field.name),
                format!("save each into a variable of its own, or keep only `{first}`"),
            );
            ok = false;
            continue;
        }
        source = Some((field.name, read));
    }
    let source = match (source, &event) {
        // `{ event: done }` alone saves the event's data.
        (None, Some(e)) => Some(("event", Some(Spanned::new(SaveSource::Data, e.span)))),
        (source, _) => source,
    };
    let Some((_, source)) = source else {
        ctx.error_help(
            node.span,
            format!(
                "`save` of `{}` does not say where the value comes from",
                var.value
            ),
            format!("add one of {}", keys::list(SOURCES)),
        );
        return None;
    };
    let mut source = source?;
    if let (Some(e), SaveSource::Header(_) | SaveSource::Status | SaveSource::Events) =
        (&event, &source.value)
    {
        ctx.error_help(
            source.span,
            format!("a save with `event: {}` reads that event's data, which has no headers, status or count", e.value),
            "use `jsonpath` or `regex` on the data, or `event` alone for the whole data",
        );
        ok = false;
    }
    if let Some(key) = group_key {
        match (&mut source.value, group) {
            (SaveSource::Regex { group: slot, .. }, Some(g)) => {
                *slot = usize::try_from(g.value).unwrap_or(usize::MAX);
            }
            (SaveSource::Regex { .. }, None) => {}
            _ => {
                ctx.error_help(
                    key.span,
                    "`group` only applies to `regex`",
                    "remove `group`, or extract with `regex`",
                );
                ok = false;
            }
        }
    }
    ok.then_some(Save {
        var,
        source,
        default,
        event,
    })
}

/// `{ events: true }`: the number of events a stream carried.
fn events_source(ctx: &mut Ctx, node: &Node) -> Option<Spanned<SaveSource>> {
    match value::boolean(ctx, node) {
        Some(b) if b.value => Some(Spanned::new(SaveSource::Events, b.span)),
        Some(b) => {
            ctx.error_help(
                b.span,
                "`events: false` saves nothing",
                "write `events: true` to save how many events the stream carried, or remove the entry",
            );
            None
        }
        None => None,
    }
}

fn status_source(ctx: &mut Ctx, node: &Node) -> Option<Spanned<SaveSource>> {
    match value::boolean(ctx, node) {
        Some(b) if b.value => Some(Spanned::new(SaveSource::Status, b.span)),
        Some(b) => {
            ctx.error_help(
                b.span,
                "`status: false` saves nothing",
                "write `status: true` to save the status code, or remove the entry",
            );
            None
        }
        None => None,
    }
}
