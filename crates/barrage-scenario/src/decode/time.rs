//! Reads durations and think times from nodes, with the unit suggestions users need.
//!
//! The text rules are in [`crate::duration`]; this module adds what only a located node
//! knows: that `timeout: 10` was a YAML number (so the help is "write `10s`"), and that
//! `think` may also be a mapping (`{ pacing: 5s }`).

use std::time::Duration;

use crate::decode::value::{fields, mismatch, mismatch_help, template_hint};
use crate::decode::Ctx;
use crate::duration::{parse_duration, DurationError, DURATION_UNITS};
use crate::keys;
use crate::model::{Spanned, Think};
use crate::node::{Kind, Node, ScalarValue};

const DURATION: &str = "a duration like `10s`";
const THINK: &str = "a think time like `1s`, `0.5s..2s`, `none` or `{ pacing: 5s }`";

pub(crate) fn duration(ctx: &mut Ctx, node: &Node) -> Option<Spanned<Duration>> {
    let scalar = match &node.kind {
        Kind::Scalar(s) => s,
        _ => {
            mismatch(ctx, node, DURATION);
            return None;
        }
    };
    match scalar.value {
        ScalarValue::Int(_) | ScalarValue::Float(_) => {
            let help = format!("add a unit: `{}s` (units: {DURATION_UNITS})", scalar.text);
            ctx.error_help(
                node.span,
                format!("expected {DURATION}, found a number without a unit"),
                help,
            );
            None
        }
        ScalarValue::Str => match parse_duration(&scalar.text) {
            Ok(d) => Some(Spanned::new(d, node.span)),
            Err(err) => {
                duration_error(ctx, node, &err);
                None
            }
        },
        ScalarValue::Null | ScalarValue::Bool(_) => {
            mismatch(ctx, node, DURATION);
            None
        }
    }
}

/// A duration that must be above zero: a run's length, a timeout, a pacing interval. Zero
/// would end the run before it starts, or fail every request before it is sent, which is
/// never what was meant; `help` says what to write instead.
pub(crate) fn positive_duration(
    ctx: &mut Ctx,
    node: &Node,
    help: &str,
) -> Option<Spanned<Duration>> {
    let d = duration(ctx, node)?;
    if d.value.is_zero() {
        ctx.error_help(node.span, "a duration of zero is not allowed here", help);
        return None;
    }
    Some(d)
}

fn duration_error(ctx: &mut Ctx, node: &Node, err: &DurationError) {
    let message = match err {
        DurationError::MissingUnit { .. } => {
            format!("expected {DURATION}, found a number without a unit")
        }
        _ => format!("invalid duration: {err}"),
    };
    ctx.error_help(node.span, message, err.help());
}

pub(crate) fn think(ctx: &mut Ctx, node: &Node) -> Option<Spanned<Think>> {
    match &node.kind {
        Kind::Map(entries) => {
            if template_hint(ctx, node) {
                return None;
            }
            let mut pacing = None;
            for field in fields(ctx, entries, keys::PACING, "in a think time") {
                pacing = positive_duration(
                    ctx,
                    field.value,
                    "pacing is the interval between iteration starts: write one like `5s`, \
                     or `think: none` for no pause at all",
                );
            }
            if !crate::decode::mentions(entries, "pacing", keys::PACING) {
                ctx.error_help(
                    node.span,
                    "a think mapping needs `pacing`",
                    "write `{ pacing: 5s }` to start an iteration every 5 s",
                );
            }
            pacing.map(|p| Spanned::new(Think::Pacing(p.value), node.span))
        }
        Kind::Seq(_) => {
            mismatch(ctx, node, THINK);
            None
        }
        Kind::Scalar(s) => match s.value {
            ScalarValue::Int(_) | ScalarValue::Float(_) => {
                ctx.error_help(
                    node.span,
                    format!("expected {THINK}, found a number without a unit"),
                    format!("add a unit: `{}s`", s.text),
                );
                None
            }
            ScalarValue::Str => think_text(ctx, node, &s.text),
            ScalarValue::Null | ScalarValue::Bool(_) => {
                mismatch_help(ctx, node, THINK, "write `none` for no think time");
                None
            }
        },
    }
}

fn think_text(ctx: &mut Ctx, node: &Node, text: &str) -> Option<Spanned<Think>> {
    let text = text.trim();
    if text == "none" {
        return Some(Spanned::new(Think::None, node.span));
    }
    let Some((low, high)) = text.split_once("..") else {
        return match parse_duration(text) {
            Ok(Duration::ZERO) => Some(Spanned::new(Think::None, node.span)),
            Ok(d) => Some(Spanned::new(Think::Constant(d), node.span)),
            Err(err) => {
                duration_error(ctx, node, &err);
                None
            }
        };
    };
    match (parse_duration(low), parse_duration(high)) {
        (Ok(low), Ok(high)) if low <= high => {
            Some(Spanned::new(Think::Range(low, high), node.span))
        }
        (Ok(_), Ok(_)) => {
            ctx.error_help(
                node.span,
                format!(
                    "the think range starts above where it ends (`{}` > `{}`)",
                    low.trim(),
                    high.trim()
                ),
                format!(
                    "write the shorter time first: `{}..{}`",
                    high.trim(),
                    low.trim()
                ),
            );
            None
        }
        (low_r, high_r) => {
            let with_unit = |part: &str, r: &Result<Duration, DurationError>| match r {
                Err(DurationError::MissingUnit { suggestion, .. }) => suggestion.clone(),
                _ => part.trim().to_string(),
            };
            let fixed = format!("{}..{}", with_unit(low, &low_r), with_unit(high, &high_r));
            let missing_unit = [&low_r, &high_r]
                .iter()
                .any(|r| matches!(r, Err(DurationError::MissingUnit { .. })));
            let help = if missing_unit {
                format!("add units: `{fixed}`")
            } else {
                format!(
                    "write a range of two durations, like `0.5s..2.5s` (units: {DURATION_UNITS})"
                )
            };
            ctx.error_help(node.span, format!("invalid think range `{text}`"), help);
            None
        }
    }
}
