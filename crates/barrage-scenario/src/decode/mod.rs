//! Decoding the located YAML tree into the [`model`](crate::model), by hand.
//!
//! Written by hand rather than with serde because serde stops at the first error and knows
//! nothing of spans, suggestions or what a user most likely meant; here every read records
//! its own diagnostic and decoding goes on with the sibling keys, so one run reports as
//! many mistakes as it can. One submodule per part of the file: `users` (user types and
//! tasks), `step` (requests), `check` (checks and extraction), `time` (durations and think
//! times), `value` (typed reads shared by all).

mod check;
mod load;
mod multipart;
mod redact;
mod schema_check;
pub use load::{parse_stage, StageError};
mod step;
mod stream;
mod time;
mod users;
mod value;
mod ws;

use crate::diagnostic::Diagnostic;
use crate::keys;
use crate::model::{DataOrder, DataSource, Defaults, Load, Scenario, Span, Spanned, Threshold};
use crate::node::{Kind, Node};
use value::{fields, map, mismatch, mismatch_help, text};

/// The fix for a timeout of zero, which would fail every request before it is sent.
pub(crate) const TIMEOUT_HELP: &str =
    "a timeout of zero fails every request; write how long to wait, like `10s`, or leave \
     the key out for the default";

/// Where decoding writes what it finds.
pub(crate) struct Ctx<'s> {
    src: &'s str,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'s> Ctx<'s> {
    pub fn new(src: &'s str, diagnostics: Vec<Diagnostic>) -> Self {
        Ctx { src, diagnostics }
    }

    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(span, message));
    }

    pub fn error_help(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(span, message).with_help(help));
    }

    pub fn warn_help(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::warning(span, message).with_help(help));
    }

    /// The source text of a span (empty when the span does not fit the text).
    pub fn source(&self, span: Span) -> &'s str {
        self.src.get(span.start..span.end).unwrap_or("")
    }
}

/// The whole file. `None` only when the root is not a mapping at all.
pub(crate) fn scenario(ctx: &mut Ctx, root: &Node) -> Option<Scenario> {
    let entries = map(
        ctx,
        root,
        "a mapping with `target`, `users`, `load` and the other scenario keys",
    )?;
    let mut scenario = Scenario {
        target: None,
        defaults: Defaults::default(),
        data: Vec::new(),
        users: Vec::new(),
        load: Load::default(),
        scenarios: Vec::new(),
        thresholds: Vec::new(),
        redact: Default::default(),
    };
    let mut scenarios_field = None;
    let mut users_field = None;
    let mut shorthand = users::Shorthand::default();
    // `x-` keys are free for the user (a home for YAML anchors), as in Compose files.
    let entries = entries
        .iter()
        .filter(|(k, _)| !k.as_scalar().is_some_and(|s| s.text.starts_with("x-")));
    for field in fields(ctx, entries, keys::SCENARIO, "at the top level") {
        match field.name {
            "target" => scenario.target = target(ctx, field.value),
            "defaults" => scenario.defaults = defaults(ctx, field.value),
            "data" => scenario.data = data(ctx, field.value),
            "users" => users_field = Some(field),
            "load" => scenario.load = load::load(ctx, field.value),
            "scenarios" => scenarios_field = Some(field),
            "thresholds" => scenario.thresholds = thresholds(ctx, field.value),
            "redact" => scenario.redact = redact::redact(ctx, field.value),
            "setup" => shorthand.setup = Some(field),
            "tasks" => shorthand.tasks = Some(field),
            "think" => shorthand.think = Some(field),
            // `fields` yields only the names listed in `keys::SCENARIO`.
            _ => {}
        }
    }
    if let Some(field) = scenarios_field {
        shorthand.reject_with_users(ctx);
        if let Some(u) = users_field {
            ctx.error_help(
                u.key.span,
                "`users` and `scenarios` cannot both be at the top level",
                "move these users into a scenario under `scenarios:`",
            );
        }
        if !scenario.load.is_empty() {
            ctx.error_help(
                field.key.span,
                "a top-level `load` does not apply when `scenarios` are given",
                "give each scenario its own `load:`",
            );
        }
        scenario.scenarios = load::scenarios(ctx, field.key, field.value);
        return Some(scenario);
    }
    match users_field {
        Some(field) => {
            shorthand.reject_with_users(ctx);
            scenario.users = users::users(ctx, field.key, field.value);
        }
        None => match shorthand.into_user_type(ctx) {
            Some(user) => scenario.users.push(user),
            None => {
                // Point at the start of the file: the fix is a key to add, not one to change.
                let span = Span::new(root.span.start, root.span.start);
                ctx.error_help(
                    span,
                    "the scenario has no `users`",
                    "add `users:` with at least one user type, or `tasks:` at the top level \
                     for a single kind of user",
                );
            }
        },
    }
    Some(scenario)
}

fn target(ctx: &mut Ctx, node: &Node) -> Option<Spanned<String>> {
    let target = text(ctx, node, "a base URL like `http://127.0.0.1:8000`")?;
    let lower = target.value.to_ascii_lowercase();
    let templated = target.value.contains("{{");
    if !templated && !lower.starts_with("http://") && !lower.starts_with("https://") {
        ctx.error_help(
            target.span,
            format!("`{}` is not an http:// or https:// URL", target.value),
            format!(
                "write the whole base URL, like `http://{}`",
                target.value.trim_start_matches('/')
            ),
        );
        return None;
    }
    Some(target)
}

fn defaults(ctx: &mut Ctx, node: &Node) -> Defaults {
    let mut defaults = Defaults::default();
    let Some(entries) = map(
        ctx,
        node,
        "a mapping of defaults (`headers`, `timeout`, ...)",
    ) else {
        return defaults;
    };
    for field in fields(ctx, entries, keys::DEFAULTS, "in `defaults`") {
        let value = field.value;
        match field.name {
            "headers" => defaults.headers = step::headers(ctx, value),
            "timeout" => defaults.timeout = time::positive_duration(ctx, value, TIMEOUT_HELP),
            "connect_timeout" => {
                defaults.connect_timeout = time::positive_duration(ctx, value, TIMEOUT_HELP);
            }
            "think" => defaults.think = time::think(ctx, value),
            "cookies" => defaults.cookies = value::boolean(ctx, value),
            "max_body_size" => defaults.max_body_size = value::size(ctx, value),
            "max_redirects" => {
                defaults.max_redirects =
                    value::u32_at_least(ctx, value, "a whole number of at least 0", 0);
            }
            "http2" => defaults.http2 = value::boolean(ctx, value),
            "max_streams" => {
                defaults.max_streams =
                    value::u32_at_least(ctx, value, "a whole number of at least 1", 1);
            }
            // `fields` yields only the names listed in `keys::DEFAULTS`.
            _ => {}
        }
    }
    if let (Some(max), Some(h)) = (&defaults.max_streams, &defaults.http2) {
        if !h.value {
            ctx.warn_help(
                max.span,
                "`max_streams` has no effect with `http2: false`",
                "it caps HTTP/2 streams per connection; remove it, or drop `http2: false`",
            );
        }
    }
    defaults
}

fn data(ctx: &mut Ctx, node: &Node) -> Vec<DataSource> {
    let Some(entries) = map(ctx, node, "a mapping of data names to files") else {
        return Vec::new();
    };
    let mut sources = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let Some(name) = value::key(ctx, k) else {
            continue;
        };
        value::check_identifier(ctx, &name, "a data");
        if let Some(source) = data_source(ctx, name, v) {
            sources.push(source);
        }
    }
    sources
}

/// `name: { file: users.csv, order: sequential }`, or just `name: users.csv`.
fn data_source(ctx: &mut Ctx, name: Spanned<String>, node: &Node) -> Option<DataSource> {
    let default_order = Spanned::new(DataOrder::default(), name.span);
    if let Kind::Scalar(_) = node.kind {
        let file = text(ctx, node, "a file path or `{ file: ..., order: ... }`")?;
        return Some(DataSource {
            name,
            file,
            order: default_order,
        });
    }
    let entries = map(ctx, node, "a mapping with `file` and `order`")?;
    let mut file = None;
    let mut order = Some(default_order);
    for field in fields(ctx, entries, keys::DATA_SOURCE, "in a data source") {
        match field.name {
            "file" => file = text(ctx, field.value, "a file path"),
            "order" => order = data_order(ctx, field.value),
            // `fields` yields only the names listed in `keys::DATA_SOURCE`.
            _ => {}
        }
    }
    if file.is_none() && !mentions(entries, "file", keys::DATA_SOURCE) {
        ctx.error_help(
            name.span,
            format!("data source `{}` has no `file`", name.value),
            "add `file: path/to/rows.csv` (relative to the scenario file)",
        );
    }
    Some(DataSource {
        name,
        file: file?,
        order: order?,
    })
}

fn data_order(ctx: &mut Ctx, node: &Node) -> Option<Spanned<DataOrder>> {
    const ORDERS: &[&str] = &["per_user", "sequential", "random"];
    let expected = "`per_user`, `sequential` or `random`";
    let written = text(ctx, node, expected)?;
    let order = match written.value.as_str() {
        "per_user" => DataOrder::PerUser,
        "sequential" => DataOrder::Sequential,
        "random" => DataOrder::Random,
        other => {
            let help = match keys::suggest(other, ORDERS) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!("expected {expected}"),
            };
            ctx.error_help(written.span, format!("unknown data order `{other}`"), help);
            return None;
        }
    };
    Some(Spanned::new(order, written.span))
}

fn thresholds(ctx: &mut Ctx, node: &Node) -> Vec<Threshold> {
    const EXPECTED: &str = "a threshold like `p95 < 200ms`";
    let Kind::Seq(items) = &node.kind else {
        let help = match node.as_scalar() {
            Some(s) if !s.text.is_empty() => format!("write it as a list item: `- {}`", s.text),
            _ => "write one threshold per list item, like `- p95 < 200ms`".into(),
        };
        mismatch_help(ctx, node, "a list of thresholds", help);
        return Vec::new();
    };
    let mut thresholds = Vec::with_capacity(items.len());
    for item in items {
        let (mut abort_on_fail, mut delay) = (None, None);
        let threshold = match &item.kind {
            Kind::Map(entries) if !ctx.source(item.span).starts_with("{{") => {
                let mut threshold = None;
                for field in fields(ctx, entries, keys::THRESHOLD, "in a threshold") {
                    match field.name {
                        "threshold" => threshold = value::string(ctx, field.value, EXPECTED),
                        "abort_on_fail" => abort_on_fail = value::boolean(ctx, field.value),
                        "delay" => delay = time::duration(ctx, field.value),
                        // `fields` yields only the names listed in `keys::THRESHOLD`.
                        _ => {}
                    }
                }
                let aborts = abort_on_fail.as_ref().is_some_and(|a| a.value);
                if let (Some(d), false) = (&delay, aborts) {
                    ctx.warn_help(
                        d.span,
                        "`delay` does nothing without `abort_on_fail: true`",
                        "add `abort_on_fail: true`, or remove `delay`",
                    );
                }
                if threshold.is_none() && !mentions(entries, "threshold", keys::THRESHOLD) {
                    ctx.error_help(
                        item.span,
                        "a threshold mapping needs `threshold`",
                        "write `threshold: p95 < 200ms`, or the expression alone as the item",
                    );
                }
                threshold
            }
            Kind::Scalar(_) => value::string(ctx, item, EXPECTED),
            _ => {
                mismatch(ctx, item, EXPECTED);
                None
            }
        };
        match threshold {
            Some(t) if t.value.trim().is_empty() => {
                ctx.error(
                    t.span,
                    format!("expected {EXPECTED}, found an empty string"),
                );
            }
            Some(expr) => thresholds.push(Threshold {
                expr,
                abort_on_fail,
                delay,
            }),
            None => {}
        }
    }
    thresholds
}

pub(crate) fn is_key(node: &Node, name: &str) -> bool {
    node.as_scalar().is_some_and(|s| s.text == name)
}

/// Whether a mapping has key `name`, or a misspelling of it that was already reported as
/// an unknown key with `name` as the suggestion (so "missing `name`" would be noise).
pub(crate) fn mentions(entries: &[(Node, Node)], name: &str, allowed: &[&'static str]) -> bool {
    entries.iter().any(|(k, _)| {
        k.as_scalar()
            .is_some_and(|s| s.text == name || keys::suggest(&s.text, allowed) == Some(name))
    })
}
