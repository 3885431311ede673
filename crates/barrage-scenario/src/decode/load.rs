//! `load:` (closed and open models, stages) and `scenarios:` (several at once).
//!
//! Which load model a `load` mapping means is read from its keys, so the common cases need
//! no model name: `users` alone is a fixed number of users, `stages` ramps users, `rate`
//! starts iterations on a schedule, `rate` with `stages` ramps the rate. Keys that belong to
//! another model are errors that say which model they belong to.

use std::time::Duration;

use super::value::{self, fields, map, mismatch, text};
use super::{time, users, Ctx};
use crate::duration::{parse_duration, DurationError};
use crate::keys;
use crate::model::{Arrivals, Load, OnMaxUsers, ScenarioDef, Span, Spanned, Stage};
use crate::node::{Kind, Node};

pub(super) fn load(ctx: &mut Ctx, node: &Node) -> Load {
    let mut load = Load::default();
    let Some(entries) = map(ctx, node, "a mapping like `{ users: 10, duration: 1m }`") else {
        return load;
    };
    let mut spans: Vec<(&str, Span)> = Vec::new();
    for field in fields(ctx, entries, keys::LOAD, "in `load`") {
        let value = field.value;
        spans.push((field.name, field.key.span));
        match field.name {
            "users" => {
                load.users = value::u64_at_least(ctx, value, "a whole number of at least 1", 1);
                if load
                    .users
                    .as_ref()
                    .is_some_and(|u| u.value as f64 > MAX_TARGET)
                {
                    ctx.error(value.span, "at most 10,000,000 users");
                    load.users = None;
                }
            }
            "spawn_rate" => {
                load.spawn_rate =
                    value::positive(ctx, value, "a number of users per second above 0");
            }
            "duration" => {
                load.duration = time::positive_duration(
                    ctx,
                    value,
                    "write how long the load lasts, like `30s`; to bound the run by a count \
                     instead, leave `duration` out and set `iterations`",
                );
            }
            "iterations" => {
                load.iterations =
                    value::u64_at_least(ctx, value, "a whole number of at least 1", 1);
            }
            "stop_timeout" => load.stop_timeout = time::duration(ctx, value),
            "rate" => load.rate = rate(ctx, value),
            "stages" => load.stages = stages(ctx, value),
            "max_users" => {
                load.max_users = value::u64_at_least(ctx, value, "a whole number of at least 1", 1);
                if load
                    .max_users
                    .as_ref()
                    .is_some_and(|u| u.value as f64 > MAX_TARGET)
                {
                    ctx.error(value.span, "at most 10,000,000 users");
                    load.max_users = None;
                }
            }
            "pre_allocated_users" => {
                load.pre_allocated_users =
                    value::u64_at_least(ctx, value, "a whole number of at least 0", 0);
            }
            "on_max_users" => load.on_max_users = on_max_users(ctx, value),
            "arrivals" => load.arrivals = arrivals(ctx, value),
            // `fields` yields only the names listed in `keys::LOAD`.
            _ => {}
        }
    }
    let span_of = |name: &str| spans.iter().find(|(n, _)| *n == name).map(|(_, s)| *s);
    if load.rate.is_some() {
        for key in ["spawn_rate", "iterations"] {
            if let Some(span) = span_of(key) {
                ctx.error_help(
                    span,
                    format!("`{key}` does not apply with `rate`"),
                    "with `rate` the schedule starts iterations; users are added as it needs \
                     them, up to `max_users`",
                );
            }
        }
    } else {
        for key in [
            "max_users",
            "pre_allocated_users",
            "on_max_users",
            "arrivals",
        ] {
            if let Some(span) = span_of(key) {
                ctx.error_help(
                    span,
                    format!("`{key}` applies only to an arrival rate"),
                    "add `rate: N` (iterations per second) for an open model, or remove it",
                );
            }
        }
        if !load.stages.is_empty() {
            if let Some(span) = span_of("spawn_rate") {
                ctx.error_help(
                    span,
                    "`spawn_rate` does not apply with `stages`",
                    "the stages say how fast users come and go",
                );
            }
        }
    }
    if !load.stages.is_empty() {
        for key in ["duration", "iterations"] {
            if let Some(span) = span_of(key) {
                ctx.error_help(
                    span,
                    format!("`{key}` does not apply with `stages`"),
                    "the stages' durations add up to the run's length",
                );
            }
        }
    }
    load
}

/// The most users or iterations per second one `load` may ask for: far beyond what one
/// machine can run, and small enough that schedules stay exact in `f64` and never overflow.
pub const MAX_TARGET: f64 = 10_000_000.0;

fn rate(ctx: &mut Ctx, node: &Node) -> Option<Spanned<f64>> {
    let s = node.as_scalar()?;
    match s.text.trim().parse::<f64>() {
        Ok(r) if (0.0..=MAX_TARGET).contains(&r) => Some(Spanned::new(r, node.span)),
        _ => {
            mismatch(
                ctx,
                node,
                "a number of iterations per second, from 0 to 10,000,000",
            );
            None
        }
    }
}

fn on_max_users(ctx: &mut Ctx, node: &Node) -> Option<Spanned<OnMaxUsers>> {
    let written = text(ctx, node, "`wait` or `drop`")?;
    match written.value.as_str() {
        "wait" => Some(Spanned::new(OnMaxUsers::Wait, written.span)),
        "drop" => Some(Spanned::new(OnMaxUsers::Drop, written.span)),
        other => {
            ctx.error_help(
                written.span,
                format!("`{other}` is not a choice for `on_max_users`"),
                "`wait` (the iteration waits for a free user; the wait counts in its response \
                 times) or `drop` (it is counted as dropped)",
            );
            None
        }
    }
}

fn arrivals(ctx: &mut Ctx, node: &Node) -> Option<Spanned<Arrivals>> {
    let written = text(ctx, node, "`even` or `poisson`")?;
    match written.value.as_str() {
        "even" => Some(Spanned::new(Arrivals::Even, written.span)),
        "poisson" => Some(Spanned::new(Arrivals::Poisson, written.span)),
        other => {
            ctx.error_help(
                written.span,
                format!("`{other}` is not a choice for `arrivals`"),
                "`even` (starts `1 / rate` apart; the default) or `poisson` (independent, \
                 exponentially distributed gaps with the same mean: bursty, like many \
                 independent clients)",
            );
            None
        }
    }
}

/// `stages:` as a list of `{ duration: 30s, target: 100 }` or of `"30s:100"` strings.
fn stages(ctx: &mut Ctx, node: &Node) -> Vec<Stage> {
    let Kind::Seq(items) = &node.kind else {
        mismatch(
            ctx,
            node,
            "a list of stages like `- { duration: 30s, target: 100 }`",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        if let Some(s) = item.as_scalar() {
            match parse_stage(&s.text) {
                Ok((d, t)) => out.push(Stage {
                    duration: Spanned::new(d, item.span),
                    target: Spanned::new(t, item.span),
                }),
                Err(e) => ctx.error_help(
                    item.span,
                    e.to_string(),
                    "write a stage as `{ duration: 30s, target: 100 }` or `30s:100`",
                ),
            }
            continue;
        }
        let Some(entries) = map(ctx, item, "a stage like `{ duration: 30s, target: 100 }`") else {
            continue;
        };
        let (mut duration, mut target) = (None, None);
        for field in fields(ctx, entries, keys::STAGE, "in a stage") {
            match field.name {
                "duration" => duration = time::duration(ctx, field.value),
                "target" => target = non_negative(ctx, field.value),
                _ => {}
            }
        }
        match (duration, target) {
            (Some(duration), Some(target)) => out.push(Stage { duration, target }),
            (None, _) if !super::mentions(entries, "duration", keys::STAGE) => {
                ctx.error(item.span, "a stage needs a `duration`")
            }
            (_, None) if !super::mentions(entries, "target", keys::STAGE) => {
                ctx.error(item.span, "a stage needs a `target`")
            }
            _ => {}
        }
    }
    out
}

fn non_negative(ctx: &mut Ctx, node: &Node) -> Option<Spanned<f64>> {
    let s = node.as_scalar()?;
    match s.text.trim().parse::<f64>() {
        Ok(v) if (0.0..=MAX_TARGET).contains(&v) => Some(Spanned::new(v, node.span)),
        _ => {
            mismatch(ctx, node, "a number from 0 to 10,000,000");
            None
        }
    }
}

/// Why a `DURATION:TARGET` stage does not parse; `text` is the stage as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    /// No `:` between duration and target.
    #[error("`{text}` is not a stage")]
    NotAStage { text: String },
    #[error("stage `{text}`: {source}")]
    Duration { text: String, source: DurationError },
    /// `target` is the part after `:`, as written.
    #[error("stage `{text}`: `{target}` is not a target (a number from 0 to 10,000,000)")]
    Target { text: String, target: String },
}

/// One stage in the short form `DURATION:TARGET` (`30s:100`), as the CLI's `--stages` takes
/// them too.
pub fn parse_stage(text: &str) -> Result<(Duration, f64), StageError> {
    let (d, t) = text
        .trim()
        .split_once(':')
        .ok_or_else(|| StageError::NotAStage { text: text.into() })?;
    let duration = parse_duration(d.trim()).map_err(|source| StageError::Duration {
        text: text.into(),
        source,
    })?;
    let target = t
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| (0.0..=MAX_TARGET).contains(v))
        .ok_or_else(|| StageError::Target {
            text: text.into(),
            target: t.into(),
        })?;
    Ok((duration, target))
}

/// `scenarios: NAME: { users, load, start }`.
pub(super) fn scenarios(ctx: &mut Ctx, key: &Node, node: &Node) -> Vec<ScenarioDef> {
    let Some(entries) = map(ctx, node, "a mapping of scenario names to scenarios") else {
        return Vec::new();
    };
    if entries.is_empty() {
        ctx.error(key.span, "`scenarios` needs at least one scenario");
    }
    let mut out = Vec::new();
    for (k, v) in entries {
        let Some(name) = value::key(ctx, k) else {
            continue;
        };
        value::check_identifier(ctx, &name, "a scenario name");
        let Some(fields_of) = map(
            ctx,
            v,
            "a scenario: a mapping with `users`, `load`, `start`",
        ) else {
            continue;
        };
        let mut def = ScenarioDef {
            name: name.clone(),
            users: Vec::new(),
            load: Load::default(),
            start: None,
        };
        let mut has_users = false;
        for field in fields(ctx, fields_of, keys::SCENARIO_DEF, "in a scenario") {
            match field.name {
                "users" => {
                    has_users = true;
                    def.users = users::users(ctx, field.key, field.value);
                }
                "load" => def.load = load(ctx, field.value),
                "start" => def.start = time::duration(ctx, field.value),
                _ => {}
            }
        }
        if !has_users && !super::mentions(fields_of, "users", keys::SCENARIO_DEF) {
            ctx.error(
                name.span,
                format!("scenario `{}` has no `users`", name.value),
            );
        }
        out.push(def);
    }
    out
}
