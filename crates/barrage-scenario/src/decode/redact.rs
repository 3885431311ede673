//! `redact:`: header and field names added to the built-in secret lists, whose values
//! stay out of result files and reports. Only the names are judged here; matching them
//! is `barrage-redact`'s.

use crate::decode::value::{fields, map, mismatch_help, text};
use crate::decode::Ctx;
use crate::keys;
use crate::model::{Redact, Spanned};
use crate::node::{Kind, Node};

const SHAPE: &str = "write `redact: { headers: [x-session], fields: [ssn] }`";

pub(super) fn redact(ctx: &mut Ctx, node: &Node) -> Redact {
    let mut redact = Redact::default();
    if matches!(node.kind, Kind::Seq(_)) {
        mismatch_help(ctx, node, "a mapping with `headers` and `fields`", SHAPE);
        return redact;
    }
    let Some(entries) = map(ctx, node, "a mapping with `headers` and `fields`") else {
        return redact;
    };
    for field in fields(ctx, entries, keys::REDACT, "in `redact`") {
        match field.name {
            "headers" => redact.headers = names(ctx, field.value, true),
            "fields" => redact.fields = names(ctx, field.value, false),
            // `fields` yields only the names listed in `keys::REDACT`.
            _ => {}
        }
    }
    redact
}

/// A name or a list of names; header names must be header names (`*` allowed).
fn names(ctx: &mut Ctx, node: &Node, headers: bool) -> Vec<Spanned<String>> {
    let what = if headers {
        "a header name"
    } else {
        "a field name"
    };
    let items: Vec<&Node> = match &node.kind {
        Kind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut names = Vec::with_capacity(items.len());
    for item in items {
        let Some(name) = text(ctx, item, what) else {
            continue;
        };
        let trimmed = name.value.trim();
        if trimmed.is_empty() {
            ctx.error_help(
                name.span,
                format!("an empty {}", what.trim_start_matches("a ")),
                "remove the entry, or name what to hide",
            );
            continue;
        }
        if headers {
            if let Some(bad) = trimmed.chars().find(|c| !header_char(*c)) {
                let fix = trimmed
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .replace(' ', "-");
                ctx.error_help(
                    name.span,
                    format!("`{trimmed}` is not a header name (`{bad}` may not appear in one)"),
                    format!("write the name only, like `{fix}`; `*` matches any run of characters"),
                );
                continue;
            }
        }
        names.push(Spanned::new(trimmed.to_string(), name.span));
    }
    names
}

/// What RFC 9110 allows in a header name (a token); `*` is one of them, and is the wildcard.
fn header_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}
